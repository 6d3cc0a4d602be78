//! Issue 15, the CLI: `--detached` (3), no PIN in any message (8), no document string reaching
//! the terminal raw (9), a prompt without a terminal and a verification without anchors (10).

use std::process::{Command, Output};

use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;

use super::external_pdf::PeerPki;
use super::issue15_xml::detached_signed;
use crate::cli::{kyso, text};
use crate::support::Signing;

fn verify(pki: &PeerPki, args: &[&str]) -> Output {
    kyso()
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .arg("verify")
        .arg("--trust")
        .arg(pki.path("root.pem"))
        .args(["--revocation", "offline", "--crl"])
        .arg(pki.path("intermediate.crl"))
        .arg("--crl")
        .arg(pki.path("root.crl"))
        .args(args)
        .current_dir(pki.dir.path())
        .output()
        .unwrap()
}

#[test]
fn kyso_verify_detached_supplies_the_documents_a_detached_signature_names() {
    let pki = PeerPki::new(KeyAlgorithm::P256, SignerProfile::Valid);
    let d = pki.dir.path();
    detached_signed(d, "content.txt");
    let out = verify(&pki, &["detached.xml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("was not supplied"), "{}", text(&out));

    let out = verify(&pki, &["--detached", "content.txt", "detached.xml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // A folder: documents are found by their paths inside it, as a DMS packs attachments.
    std::fs::create_dir_all(d.join("annex/sub")).unwrap();
    std::fs::write(d.join("annex/sub/bang.txt"), "Bảng kê kèm theo").unwrap();
    let signed = detached_signed_at(&d.join("annex"), "sub/bang.txt");
    std::fs::write(d.join("folder.xml"), signed).unwrap();
    let out = verify(&pki, &["--detached", "annex", "folder.xml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // `..` out of the supplied folder resolves nothing, whatever exists there.
    let hostile = std::fs::read_to_string(d.join("folder.xml"))
        .unwrap()
        .replace("URI=\"sub/bang.txt\"", "URI=\"../content.txt\"");
    std::fs::write(d.join("hostile.xml"), hostile).unwrap();
    let out = verify(&pki, &["--detached", "annex", "hostile.xml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("leaves the supplied documents"),
        "{}",
        text(&out)
    );
}

/// xmlsec1 resolves a relative URI against its working directory, as kyso against `--detached`.
fn detached_signed_at(dir: &std::path::Path, uri: &str) -> Vec<u8> {
    let template = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><Reference URI="{uri}"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>
"#
    );
    std::fs::write(dir.join("t.xml"), template).unwrap();
    let parent = dir.parent().unwrap();
    crate::support::run(
        Command::new("xmlsec1")
            .arg("--sign")
            .arg("--privkey-pem")
            .arg(format!(
                "{p}/signer.key.pem,{p}/signer.pem,{p}/intermediate.pem",
                p = parent.display()
            ))
            .args(["--output", "out.xml", "t.xml"])
            .current_dir(dir),
    );
    std::fs::read(dir.join("out.xml")).unwrap()
}

/// Issue 15 (9): escape sequences in a document's strings reach the terminal as `\u{1b}`.
#[test]
fn document_strings_cannot_write_control_sequences_to_the_terminal() {
    let signing = Signing::new(KeyAlgorithm::P256, "Nguyễn Văn Thật");
    let dir = tempfile::tempdir().unwrap();
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    // A field name that, printed raw, would clear the line, print a green TOTAL-PASSED over
    // the verdict and ring the bell.
    options.field_name =
        Some("Sig\u{1b}[2K\r\u{1b}[32mTOTAL-PASSED\u{1b}[0m\u{7}\u{202e}".to_owned());
    let signed = kyso::pades::sign(
        &sample_pdf(&SampleOptions::default()),
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec();
    let mut tampered = signed.clone();
    let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
    tampered[at] = b't';
    std::fs::write(dir.path().join("hostile.pdf"), &tampered).unwrap();
    let out = kyso()
        .env("LANG", "en_US.UTF-8")
        .arg("verify")
        .arg("--trust")
        .arg(signing.root_pem())
        .args(["--revocation", "off"])
        .arg(dir.path().join("hostile.pdf"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for raw in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !stdout.contains(raw),
            "{raw:?} reached the terminal: {stdout:?}"
        );
    }
    assert!(stdout.contains("Sig\\u{1b}[2K\\u{d}"), "{stdout}");
    assert!(stdout.contains("TOTAL-FAILED"), "{stdout}");
}

/// Issue 15 (8): a PIN written into a key URI, in any spelling, is in no message.
#[test]
fn a_pin_in_a_key_uri_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(&SampleOptions::default())).unwrap();
    for key in [
        "pkcs11:token=kyso;object=k;pin-value=271828",
        "pkcs11:token=kyso;object=k?PIN-VALUE=271828",
        "pkcs11:token=kyso;object=k?pin%2Dvalue=271828",
        "pkcs11:token=kyso;object=k?pin-source=271828",
    ] {
        let out = kyso()
            .args(["sign", "pdf"])
            .arg(&input)
            .arg(dir.path().join("out.pdf"))
            .args(["--key", key])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}: {}", text(&out));
        assert!(!text(&out).contains("271828"), "{key}: {}", text(&out));
    }
    let out = kyso()
        .args(["token", "list", "--token", "kyso", "--pin-source", "271828"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(!text(&out).contains("271828"), "{}", text(&out));
}

/// Issue 15 (10): `pin-source=prompt` where no terminal exists says so.
#[test]
fn a_pin_prompt_without_a_terminal_says_there_is_none() {
    let t = crate::support::tokens();
    let out = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_kyso"))
        .args(["token", "list", "--token", crate::support::MAIN_TOKEN])
        .args(["--pin-source", "prompt"])
        .env_remove("KYSO_CONFIG")
        .env("KYSO_TOKEN_MODULE", &t.module)
        .env("SOFTHSM2_CONF", std::env::var("SOFTHSM2_CONF").unwrap())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no terminal to ask on"),
        "{}",
        text(&out)
    );
}

/// Issue 15 (10): without trust anchors, `kyso verify` still checks what it can and says why no
/// signer is trusted, instead of refusing to run.
#[test]
fn kyso_verify_without_trust_anchors_still_verifies() {
    let pki = PeerPki::new(KeyAlgorithm::P256, SignerProfile::Valid);
    let pdf =
        super::external_pdf::pdf_signed_by(super::external_pdf::SubFilter::CadesDetached, |c| {
            super::external_pdf::openssl_cms(&pki, c, "sha256", &[])
        });
    std::fs::write(pki.path("signed.pdf"), &pdf).unwrap();
    let mut tampered = pdf.clone();
    let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
    tampered[at] ^= 0x20;
    std::fs::write(pki.path("tampered.pdf"), &tampered).unwrap();
    let run = |file: &str| {
        kyso()
            .env("LANG", "en_US.UTF-8")
            .args(["verify", "--revocation", "offline", "--json"])
            .arg(pki.path(file))
            .output()
            .unwrap()
    };
    let out = run("signed.pdf");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sig = &report["report"]["signatures"][0];
    assert_eq!(sig["subindication"], "NO_CERTIFICATE_CHAIN_FOUND", "{sig}");
    assert_eq!(sig["intact"], "passed");
    assert_eq!(sig["signature_valid"], "passed");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no trust anchors"),
        "{}",
        text(&out)
    );
    let out = run("tampered.pdf");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["report"]["signatures"][0]["subindication"],
        "HASH_FAILURE"
    );
}
