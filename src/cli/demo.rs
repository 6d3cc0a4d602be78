//! `kyso demo`: the main job end to end on a project-local SoftHSM token.
//!
//! `make demo` creates the token (softhsm/token-create.sh) and runs this. Each step prints what it
//! did, so a newcomer sees the whole path: keys generated inside the token, certificates issued
//! by a demo CA for the public keys read from the token, a document signed through the PKCS#11
//! session pool, and the signature verified against the certificate, whose chain is checked up
//! to the demo root.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use kyso::signer::{self, Signer};
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

/// The sample outgoing document: an official letter (công văn) of a provincial department.
const SAMPLE: &str = "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM\n\
SỞ TƯ PHÁP\n\
Số: 123/STP-VP\n\
V/v triển khai chữ ký số trong văn bản điện tử\n\
\n\
Kính gửi: Ủy ban nhân dân các huyện, thị xã, thành phố.\n";

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
        "sign the sample letter with each key through the PKCS#11 session pool",
    );
    let sample_path = dir.join("cong-van-123.txt");
    std::fs::write(&sample_path, SAMPLE)?;
    let mut signatures = Vec::new();
    for key in &certified {
        let signature = key.sign(SAMPLE.as_bytes())?;
        let sig_path = dir.join(format!(
            "cong-van-123.{}.sig",
            key.uri().object.unwrap_or_default()
        ));
        std::fs::write(&sig_path, signature.to_der())?;
        say(&format!(
            "{} → {} ({} bytes)",
            key.algorithm(),
            sig_path.display(),
            signature.raw().len()
        ));
        signatures.push(signature);
    }

    step(
        5,
        "verify each signature against its certificate, and the certificate chain",
    );
    let mut all_valid = true;
    for (key, signature) in certified.iter().zip(&signatures) {
        let cert_der = key.certificate().context("the key lost its certificate")?;
        let (_, cert) = x509_parser::parse_x509_certificate(cert_der)?;
        let signed_ok = signer::verify(
            cert.tbs_certificate.subject_pki.raw,
            signature.algorithm(),
            SAMPLE.as_bytes(),
            &signature.to_der(),
        );
        let chain_ok = issued_by(cert_der, pki.intermediate.der())
            && issued_by(pki.intermediate.der(), pki.root.der());
        let tampered = signer::verify(
            cert.tbs_certificate.subject_pki.raw,
            signature.algorithm(),
            SAMPLE.replace("123", "124").as_bytes(),
            &signature.to_der(),
        );
        say(&format!("{}", cert.subject()));
        say(&format!(
            "  signature {}; chain to the demo root {}; a tampered copy {}",
            if signed_ok.is_ok() {
                "VALID"
            } else {
                "INVALID"
            },
            if chain_ok { "VALID" } else { "BROKEN" },
            if tampered.is_err() {
                "is rejected"
            } else {
                "WAS ACCEPTED"
            }
        ));
        all_valid &= signed_ok.is_ok() && chain_ok && tampered.is_err();
    }

    let stats = token.stats();
    step(6, "summary");
    say(&format!(
        "{} signatures, {} PKCS#11 session(s) opened, output in {}",
        signatures.len(),
        stats.opened_total,
        dir.display()
    ));
    if !all_valid {
        bail!("the demo's own signatures did not verify");
    }
    say("demo finished: every signature verified");
    Ok(EXIT_OK)
}

/// Whether `cert` carries a signature by `issuer`'s key (the demo's chain check; full RFC 5280
/// path validation is the `pki` module's job).
fn issued_by(cert: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, cert)), Ok((_, issuer))) = (
        x509_parser::parse_x509_certificate(cert),
        x509_parser::parse_x509_certificate(issuer),
    ) else {
        return false;
    };
    let algorithm = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" => {
            signer::SignatureAlgorithm::Ecdsa(signer::Curve::P256, signer::DigestAlgorithm::Sha256)
        }
        "1.2.840.113549.1.1.11" => {
            signer::SignatureAlgorithm::RsaPkcs1v15(signer::DigestAlgorithm::Sha256)
        }
        _ => return false,
    };
    cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && signer::verify(
            issuer.tbs_certificate.subject_pki.raw,
            algorithm,
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
        .is_ok()
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

fn say(what: &str) {
    println!("    {what}");
}
