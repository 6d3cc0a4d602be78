//! `kyso demo`: the main job end to end on a project-local SoftHSM token.
//!
//! `make demo` creates the token (softhsm/token-create.sh) and runs this. Each step prints what it
//! did, so a newcomer sees the whole path: keys generated inside the token, certificates issued
//! by a demo CA for the public keys read from the token (the chairman's as a person's, the
//! People's Committee's as an organisation's), an outgoing Vietnamese administrative letter
//! signed as a PDF first by the chairman and then by the agency in the layouts of Decree
//! 30/2020/NĐ-CP (signature image between title and name, the seal over its left third), its
//! appendix signed by the agency alone, both verified as a receiving clerk would with the Decree
//! 30 form checks (a tampered copy rejected), and an XML document signed and verified the same
//! way.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use kyso::cms::SignerIdentity;
use kyso::pdf::SignatureOptions;
use kyso::pdf::appearance::{Appearance, Rect, Style, VisibleSignature};
use kyso::pdf::decree30::{self, Stamp};
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
    // The chairman signs as a person (a citizen identity number and a title in the
    // certificate), the People's Committee as an organisation (its tax code): the two
    // signatures Decree 30/2020/NĐ-CP asks of an outgoing document.
    let keys = [
        (
            "chu-tich",
            KeyAlgorithm::Rsa2048,
            "Nguyễn Văn An",
            "Văn phòng UBND",
        ),
        (
            "ubnd-tinh",
            KeyAlgorithm::P256,
            "UBND tỉnh Thử Nghiệm",
            "Văn phòng UBND",
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
    for (n, ((label, _, person, unit), key)) in keys.iter().zip(opened).enumerate() {
        let name = SignerName::new(person, "UBND tỉnh Thử Nghiệm", unit);
        let name = if n == 0 {
            name.with_title("Chủ tịch").with_uid("CCCD:001090012345")
        } else {
            name.with_uid("MST:0101234567")
        };
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
        "sign the outgoing letter (PDF) as Decree 30/2020/NĐ-CP lays it out: the chairman, then the agency's seal",
    );
    let font = Arc::new(
        kyso::pdf::font::Font::load(&decree30::font_path(&runtime.config.pdf.font))
            .context("loading the font for the letter and the stamps")?,
    );
    let today = time::OffsetDateTime::now_utc()
        .to_offset(kyso::VIETNAM)
        .date();
    let (letter, space) = sample::letter_pdf(&font, today)?;
    let signed_letter_len = letter.len();
    std::fs::write(dir.join("cong-van-123.pdf"), &letter)?;
    say(&format!(
        "letter {} of UBND tỉnh Thử Nghiệm (national motto, number, place and date) → {}",
        sample::LETTER_NUMBER,
        dir.join("cong-van-123.pdf").display()
    ));
    let chain = vec![pki.intermediate.der().to_vec()];
    let mut signature = Appearance::new(font.clone(), keys[0].2, None);
    signature.signature_image = Some(PngImage::decode(&sample::signature_png(480, 200))?);
    let mut seal = Appearance::new(font.clone(), keys[1].2, None);
    // A 36 mm seal, its real size written in the PNG.
    seal.seal_image = Some(PngImage::decode(&sample::seal_png_sized(420, 36.0))?);
    let mut signed = letter;
    for (key, appearance, stamp, given) in [
        (&certified[0], signature, Stamp::Person, Some((0, space))),
        (
            &certified[1],
            seal,
            Stamp::Agency {
                seal_width_mm: None,
            },
            None,
        ),
    ] {
        let what = match stamp {
            Stamp::Person => {
                "the handwritten-signature image, blue, centred between title and name"
            }
            _ => "the seal, red, real size, over the left third of the signature",
        };
        signed = stamp_and_sign(&signed, key, &chain, appearance, stamp, given)?;
        say(&format!(
            "{} signed with {} ({what})",
            key.certificate()
                .and_then(|c| kyso::signing::subject_names(c).ok())
                .and_then(|(cn, _)| cn)
                .unwrap_or_default(),
            key.algorithm()
        ));
    }
    let signed_path = dir.join("cong-van-123.signed.pdf");
    std::fs::write(&signed_path, &signed)?;
    say(&format!("→ {}", signed_path.display()));
    // An appendix sent as a file of its own: the agency signs it alone, top right of page 1,
    // with the letter's number and the time.
    let appendix = sample::sample_pdf(&sample::SampleOptions {
        pages: 2,
        lines: vec![
            "PHU LUC kem theo Cong van so 123/UBND-VP".to_owned(),
            "Danh sach cac co quan, don vi trien khai chu ky so".to_owned(),
        ],
        ..sample::SampleOptions::default()
    });
    let appendix = stamp_and_sign(
        &appendix,
        &certified[1],
        &chain,
        Appearance::new(font.clone(), keys[1].2, None),
        Stamp::Attachment {
            number: sample::LETTER_NUMBER.to_owned(),
        },
        None,
    )?;
    let appendix_path = dir.join("phu-luc-123.signed.pdf");
    std::fs::write(&appendix_path, &appendix)?;
    say(&format!(
        "its appendix, signed by the agency alone (no image; number and time at the top right of page 1) → {}",
        appendix_path.display()
    ));

    step(
        5,
        "verify it as a receiving clerk would (kyso verify, trusting the demo root)",
    );
    let verifier = demo_verifier(&pki_dir)?;
    let mut report = verifier.verify(&signed);
    let mut appendix_report = verifier.verify(&appendix);
    for (file, report) in [
        ("cong-van-123.signed.pdf", &mut report),
        ("phu-luc-123.signed.pdf", &mut appendix_report),
    ] {
        report.check_decree30();
        say(&format!("{file}: {}", report.indication.as_str()));
        for sig in &report.signatures {
            let signer = sig.signer.as_ref();
            say(&format!(
                "  {} ({}): {} — {} ({})",
                sig.name,
                sig.format,
                sig.indication.as_str(),
                signer
                    .and_then(|s| s.common_name.clone())
                    .unwrap_or_default(),
                signer.map_or("?", |s| s.holder.vietnamese())
            ));
        }
        if let Some(check) = &report.decree30 {
            say(&format!("  {}", check.summary_vi));
        }
    }
    // One byte of the letter's first revision changed: inside what both signatures cover.
    let mut tampered = signed.clone();
    let at = tampered.len().min(signed_letter_len) / 2;
    tampered[at] ^= 0x01;
    let tampered_report = verifier.verify(&tampered);
    say(&format!(
        "a copy with one byte of the letter changed: {} / {}",
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
        "check it yourself: kyso verify --check decree30 --trust {} --crl {} --crl {} --revocation offline {}",
        pki_dir.join("root.pem").display(),
        pki_dir.join("intermediate.crl").display(),
        pki_dir.join("root.crl").display(),
        signed_path.display()
    ));
    let in_form = [&report, &appendix_report]
        .iter()
        .all(|r| r.decree30.as_ref().is_some_and(|c| c.passed));
    let as_expected = report.all_passed()
        && appendix_report.all_passed()
        && in_form
        && tampered_report.indication == kyso::verify::Indication::TotalFailed
        && xml_report.all_passed();
    if !as_expected {
        bail!("the demo's own signatures did not verify as expected");
    }
    say(
        "demo finished: every signature verified and in Decree 30 form, the tampered copy was rejected",
    );
    Ok(EXIT_OK)
}

/// `pdf` signed by `key` with the Decree 30 `stamp`, placed as the decree says (`given`: the
/// person's space between title and name).
fn stamp_and_sign(
    pdf: &[u8],
    key: &TokenKey,
    chain: &[Vec<u8>],
    mut appearance: Appearance,
    stamp: Stamp,
    given: Option<(usize, Rect)>,
) -> anyhow::Result<Vec<u8>> {
    let certificate = key
        .certificate()
        .context("the key lost its certificate")?
        .to_vec();
    let identity = SignerIdentity {
        signer: key,
        certificate: &certificate,
        chain,
    };
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&identity, &kyso::pades::Level::BB),
    );
    options.reason = Some("Ban hành văn bản".to_owned());
    options.location = Some("Tỉnh Thử Nghiệm".to_owned());
    appearance.style = Style::Decree30(stamp.clone());
    let (page, rect) = decree30::place(pdf, &stamp, &appearance, given, options.signing_time)?;
    options.page = page;
    options.visible = Some(VisibleSignature { rect, appearance });
    Ok(kyso::pades::sign(pdf, &identity, &options, &kyso::pades::Level::BB)?.to_vec())
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
