//! `kyso demo`: the main job end to end on a project-local SoftHSM token.
//!
//! `make demo` creates the token (softhsm/token-create.sh) and runs this. Each step prints what it
//! did, so a newcomer sees the whole path: keys generated inside the token, certificates issued
//! by a demo CA for the public keys read from the token, an outgoing letter signed as a PDF by an
//! official (visible Vietnamese stamp) and then by the unit, verified as a receiving clerk would
//! (a tampered copy rejected), and an XML document signed and verified the same way.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use kyso::cms::SignerIdentity;
use kyso::pdf::SignatureOptions;
use kyso::pdf::appearance::{Appearance, Rect, VisibleSignature};
use kyso::pdf::image::PngImage;
use kyso::pdf::sample;
use kyso::signer::Signer;
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::{self, KeyAlgorithm, PinSource, Pkcs11Uri, Token, TokenKey};

use super::{EXIT_OK, Runtime};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder with the demo token (made by softhsm/token-create.sh) and for the demo's output.
    #[arg(long, default_value = "var/demo")]
    dir: PathBuf,
    /// Label of the demo token.
    #[arg(long, default_value = "kyso-demo")]
    token: String,
}

pub fn run(runtime: &Runtime, args: &DemoArgs) -> anyhow::Result<u8> {
    let dir = &args.dir;
    if std::env::var_os("SOFTHSM2_CONF").is_none() {
        bail!(
            "SOFTHSM2_CONF is not set: run `make demo`, or softhsm/token-create.sh {} {} first",
            dir.display(),
            args.token
        );
    }
    let pin_file = dir.join(format!("{}.pin", args.token));
    if !pin_file.exists() {
        bail!(
            "{} not found: create the demo token with softhsm/token-create.sh {} {}",
            pin_file.display(),
            dir.display(),
            args.token
        );
    }
    let defaults = runtime.token_defaults(None)?;
    let module = defaults
        .module
        .clone()
        .context("no PKCS#11 module found: install softhsm2 or set token.module")?;

    step(
        1,
        "open the token and log in (PIN read from a file, never from the command line)",
    );
    let token_uri = Pkcs11Uri {
        token: Some(args.token.clone()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&token_uri, &defaults)?;
    token.ensure_login(Some(&PinSource::File(pin_file.clone())))?;
    say(&format!(
        "token \"{}\" (serial {}) in {}",
        token.label(),
        token.serial(),
        module.display()
    ));

    step(
        2,
        "generate key pairs inside the token: the private keys never leave it",
    );
    let keys = [
        (
            "so-tu-phap",
            KeyAlgorithm::Rsa2048,
            "Nguyễn Văn An",
            "Sở Tư pháp",
        ),
        (
            "ubnd-xa-tan-lap",
            KeyAlgorithm::P256,
            "Trần Thị Bình",
            "UBND xã Tân Lập",
        ),
    ];
    let mut opened = Vec::new();
    for (label, algorithm, _, _) in &keys {
        let key =
            match TokenKey::on_token(Arc::clone(&token), Some(label), None, Default::default()) {
                Ok(key) => {
                    say(&format!(
                        "{label}: {algorithm} key already in the token, reused"
                    ));
                    key
                }
                Err(token::Error::ObjectNotFound { .. }) => {
                    let key = token::generate_key_pair(&token, label, None, *algorithm)?;
                    say(&format!(
                        "{label}: {algorithm} key generated, id {}",
                        hex::encode(key.id())
                    ));
                    key
                }
                Err(e) => return Err(e.into()),
            };
        opened.push(key);
    }

    step(
        3,
        "issue certificates from the demo CA for the public keys read from the token",
    );
    let pki = TestPki::new(PkiOptions {
        name: "kyso Demo".to_owned(),
        ..PkiOptions::default()
    })?;
    let pki_dir = dir.join("pki");
    pki.write_authorities(&pki_dir)?;
    say(&format!("demo CA written to {}", pki_dir.display()));
    let mut certified = Vec::new();
    for ((label, _, person, unit), key) in keys.iter().zip(opened) {
        let name = SignerName::new(person, "UBND tỉnh Thử Nghiệm", unit);
        let cert = pki.issue(key.public_key_spki(), &name, SignerProfile::Valid)?;
        token::import_certificate(&token, label, None, &cert.der)?;
        std::fs::write(pki_dir.join(format!("{label}.pem")), cert.pem())?;
        // Reopen so the key carries the certificate just stored with it.
        let key = TokenKey::on_token(Arc::clone(&token), Some(label), None, Default::default())?;
        say(&format!(
            "{label}: certificate for {person} ({unit}) stored next to the key"
        ));
        certified.push(key);
    }

    step(
        4,
        "sign the outgoing letter (PDF): the official with a visible stamp, then the unit's seal",
    );
    let letter = kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default());
    std::fs::write(dir.join("cong-van-123.pdf"), &letter)?;
    let font = std::sync::Arc::new(
        kyso::pdf::font::Font::load(&runtime.config.pdf.font)
            .context("loading the font for the visible signature")?,
    );
    let chain = vec![pki.intermediate.der().to_vec()];
    let mut signed = letter;
    for (n, key) in certified.iter().enumerate() {
        let certificate = key
            .certificate()
            .context("the key lost its certificate")?
            .to_vec();
        let identity = SignerIdentity {
            signer: key,
            certificate: &certificate,
            chain: &chain,
        };
        let mut options = SignatureOptions::new(
            time::OffsetDateTime::now_utc(),
            kyso::pades::contents_size(&identity, &kyso::pades::Level::BB),
        );
        options.reason = Some("Ban hành văn bản".to_owned());
        options.location = Some("Tỉnh Thử Nghiệm".to_owned());
        let (_, _, person, unit) = keys[n];
        let mut appearance = Appearance::new(font.clone(), person, Some(unit.to_owned()));
        if n == 0 {
            appearance.signature_image = Some(PngImage::decode(&sample::signature_png(240, 90))?);
            appearance.seal_image = Some(PngImage::decode(&sample::seal_png(160))?);
        }
        options.visible = Some(VisibleSignature {
            rect: Rect::new(320.0, 80.0 + 110.0 * n as f64, 240.0, 90.0)?,
            appearance,
        });
        signed = kyso::pades::sign(&signed, &identity, &options, &kyso::pades::Level::BB)?.to_vec();
        say(&format!(
            "{person} signed with {} ({})",
            key.algorithm(),
            if n == 0 {
                "visible stamp with signature and seal images"
            } else {
                "visible stamp"
            }
        ));
    }
    let signed_path = dir.join("cong-van-123.signed.pdf");
    std::fs::write(&signed_path, &signed)?;
    say(&format!("→ {}", signed_path.display()));

    step(
        5,
        "verify it as a receiving clerk would (kyso verify, trusting the demo root)",
    );
    let verifier = demo_verifier(&pki_dir)?;
    let report = verifier.verify(&signed);
    for sig in &report.signatures {
        say(&format!(
            "{} ({}): {} — {}",
            sig.name,
            sig.format,
            sig.indication.as_str(),
            sig.signer
                .as_ref()
                .and_then(|s| s.common_name.clone())
                .unwrap_or_default()
        ));
    }
    let mut tampered = signed.clone();
    if let Some(at) = tampered.windows(3).position(|w| w == b"123") {
        tampered[at + 2] = b'4';
    }
    let tampered_report = verifier.verify(&tampered);
    say(&format!(
        "a copy with \"123\" changed to \"124\": {} / {}",
        tampered_report.indication.as_str(),
        tampered_report
            .sub_indication
            .map(|s| s.as_str())
            .unwrap_or("-")
    ));

    step(
        6,
        "sign and verify an XML document (XAdES B-B) with the same token",
    );
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VanBan><SoKyHieu>123/STP-VP</SoKyHieu><TrichYeu>Triển khai chữ ký số</TrichYeu></VanBan>";
    let mut xml_chain = vec![
        certified[0]
            .certificate()
            .context("the key lost its certificate")?
            .to_vec(),
    ];
    xml_chain.extend(chain.iter().cloned());
    let signed_xml = kyso::xml::sign(
        xml.as_bytes(),
        &certified[0],
        &xml_chain,
        &kyso::xml::SignOptions::new(std::time::SystemTime::now()),
    )?;
    std::fs::write(dir.join("van-ban-123.signed.xml"), &signed_xml)?;
    let xml_report = verifier.verify(&signed_xml);
    say(&format!(
        "van-ban-123.signed.xml ({}): {}",
        xml_report
            .signatures
            .first()
            .map(|s| s.format.as_str())
            .unwrap_or("-"),
        xml_report.indication.as_str()
    ));

    let stats = token.stats();
    step(7, "summary");
    say(&format!(
        "{} PKCS#11 session(s) served every signature; output in {}",
        stats.opened_total,
        dir.display()
    ));
    say(&format!(
        "check it yourself: kyso verify --trust {} --crl {} --crl {} --revocation offline {}",
        pki_dir.join("root.pem").display(),
        pki_dir.join("intermediate.crl").display(),
        pki_dir.join("root.crl").display(),
        signed_path.display()
    ));
    let as_expected = report.all_passed()
        && tampered_report.indication == kyso::verify::Indication::TotalFailed
        && xml_report.all_passed();
    if !as_expected {
        bail!("the demo's own signatures did not verify as expected");
    }
    say("demo finished: every signature verified, the tampered copy was rejected");
    Ok(EXIT_OK)
}

/// A verifier trusting the demo root, with the demo CA's CRLs as revocation evidence.
fn demo_verifier(pki_dir: &std::path::Path) -> anyhow::Result<kyso::verify::Verifier> {
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&pki_dir.join("root.pem"))?;
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    for name in ["intermediate.crl", "root.crl"] {
        for crl in kyso::pki::crl::Crl::from_pem_or_der(&std::fs::read(pki_dir.join(name))?)? {
            options.evidence.add_crl(crl);
        }
    }
    options.revocation = kyso::verify::Revocation::Offline;
    Ok(kyso::verify::Verifier::new(options))
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

fn say(what: &str) {
    println!("    {what}");
}
