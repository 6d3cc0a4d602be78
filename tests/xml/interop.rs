//! Interop with xmlsec1 (Debian 1.2.37) and signxml (PyPI): our signatures verify with them, and
//! theirs with us; tampered copies fail with HASH_FAILURE or SIG_CRYPTO_FAILURE.

use std::path::Path;
use std::process::Command;

use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm};
use kyso::xml::{self, Expect, Level, Packaging, Status, SubIndication, VerifyOptions};

use super::common::{DOCUMENT, TestPki, have};
use super::dsig::options;

pub(crate) const SIGNED_PROPERTIES_ID: &str = "--id-attr:Id";
pub(crate) const SIGNED_PROPERTIES_NODE: &str =
    "http://uri.etsi.org/01903/v1.3.2#:SignedProperties";

pub(crate) fn xmlsec1_verify(dir: &Path, file: &str, extra: &[&str]) -> (bool, String) {
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .args(["--trusted-pem", "root.pem"])
        .args(extra)
        .arg(file)
        .current_dir(dir)
        .output()
        .expect("running xmlsec1");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sub(status: &Status) -> Option<SubIndication> {
    match status {
        Status::Failed { sub_indication, .. } => Some(*sub_indication),
        _ => None,
    }
}

#[test]
fn our_signatures_verify_with_xmlsec1() {
    if !have("xmlsec1") {
        eprintln!("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)");
        return;
    }
    // No RSA-PSS here: xmlsec1 1.2.37 does not know the RFC 6931 MGF1 URIs (1.3 does); signxml
    // checks our RSA-PSS below.
    for algorithm in [
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512),
        SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
        SignatureAlgorithm::Ecdsa(Curve::P384, DigestAlgorithm::Sha384),
    ] {
        let pki = TestPki::new(algorithm);
        let dir = tempfile::tempdir().unwrap();
        pki.write(dir.path());
        for (name, packaging, level) in [
            ("enveloped-xades.xml", Packaging::Enveloped, Level::XadesB),
            ("enveloped.xml", Packaging::Enveloped, Level::XmlDsig),
            ("enveloping-xades.xml", Packaging::Enveloping, Level::XadesB),
        ] {
            let signed = xml::sign(
                DOCUMENT.as_bytes(),
                &pki.signer,
                &pki.chain,
                &options(packaging, level),
            )
            .unwrap();
            std::fs::write(dir.path().join(name), &signed).unwrap();
            let (ok, log) = xmlsec1_verify(
                dir.path(),
                name,
                &[SIGNED_PROPERTIES_ID, SIGNED_PROPERTIES_NODE],
            );
            assert!(ok, "{algorithm} {name}: xmlsec1 says\n{log}");
            // And a tampered copy is refused by xmlsec1 too.
            let tampered = String::from_utf8(signed)
                .unwrap()
                .replace("Thử Nghiệm", "Thu Nghiem");
            std::fs::write(dir.path().join("tampered.xml"), tampered).unwrap();
            let (ok, _) = xmlsec1_verify(
                dir.path(),
                "tampered.xml",
                &[SIGNED_PROPERTIES_ID, SIGNED_PROPERTIES_NODE],
            );
            assert!(!ok, "{algorithm} {name}: xmlsec1 accepted a tampered copy");
        }
    }
}

/// An xmlsec1 template: enveloped (URI="" or URI="#p") with the given c14n and methods.
fn template(c14n: &str, signature_method: &str, uri: &str) -> String {
    let transforms = if uri.is_empty() {
        format!(
            "<Transforms><Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><Transform Algorithm=\"{c14n}\"/></Transforms>"
        )
    } else {
        format!("<Transforms><Transform Algorithm=\"{c14n}\"/></Transforms>")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<hs:HoSo xmlns:hs="urn:kyso:test:hoso" xmlns:x="urn:unused">
  <hs:Muc Id="p" loai="A">Thanh toán 10.000.000 đồng</hs:Muc>
  <hs:GhiChu>ghi chú</hs:GhiChu>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
  <SignedInfo>
    <CanonicalizationMethod Algorithm="{c14n}"/>
    <SignatureMethod Algorithm="{signature_method}"/>
    <Reference URI="{uri}">
      {transforms}
      <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <DigestValue></DigestValue>
    </Reference>
  </SignedInfo>
  <SignatureValue/>
  <KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo>
</Signature>
</hs:HoSo>
"#
    )
}

fn xmlsec1_sign(dir: &Path, template: &str) -> Vec<u8> {
    std::fs::write(dir.join("tmpl.xml"), template).unwrap();
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .args(["--privkey-pem", "key.pem,signer.pem"])
        .args(["--id-attr:Id", "Muc"])
        .args(["--output", "signed.xml", "tmpl.xml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 --sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("signed.xml")).unwrap()
}

#[test]
fn xmlsec1_signatures_verify_with_kyso() {
    if !have("xmlsec1") {
        eprintln!("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)");
        return;
    }
    let inclusive = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    let exclusive = "http://www.w3.org/2001/10/xml-exc-c14n#";
    for (algorithm, method) in [
        (
            SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        ),
        (
            SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        ),
        (
            SignatureAlgorithm::Ecdsa(Curve::P384, DigestAlgorithm::Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        ),
    ] {
        let pki = TestPki::new(algorithm);
        let dir = tempfile::tempdir().unwrap();
        pki.write(dir.path());
        for c14n in [inclusive, exclusive] {
            let signed = xmlsec1_sign(dir.path(), &template(c14n, method, ""));
            let report = xml::verify(&signed, &VerifyOptions::default()).unwrap();
            let s = &report.signatures[0];
            assert_eq!(s.status, Status::Intact, "{algorithm} {c14n}");
            assert!(s.covers_whole_document());
            assert_eq!(s.certificates[0], pki.chain[0]);

            let text = String::from_utf8(signed).unwrap();
            // Content tampered: HASH_FAILURE.
            let content = text.replace("10.000.000", "90.000.000");
            let r = xml::verify(content.as_bytes(), &VerifyOptions::default()).unwrap();
            assert_eq!(
                sub(&r.signatures[0].status),
                Some(SubIndication::HashFailure)
            );
            // SignatureValue tampered: SIG_CRYPTO_FAILURE.
            let at = text.find("<SignatureValue>").unwrap() + "<SignatureValue>".len();
            let mut bytes = text.into_bytes();
            bytes[at + 2] = if bytes[at + 2] == b'A' { b'B' } else { b'A' };
            let r = xml::verify(&bytes, &VerifyOptions::default()).unwrap();
            assert_eq!(
                sub(&r.signatures[0].status),
                Some(SubIndication::SigCryptoFailure)
            );
        }
    }
}

/// A genuine xmlsec1 signature over one element (`#p`): intact, but it does not sign the
/// document, so a caller reading the document gets SIGNED_DATA_NOT_FOUND, and content wrapped in
/// beside it changes nothing that is reported as signed.
#[test]
fn xmlsec1_partial_signature_is_not_a_document_signature() {
    if !have("xmlsec1") {
        eprintln!("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)");
        return;
    }
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let dir = tempfile::tempdir().unwrap();
    pki.write(dir.path());
    let signed = xmlsec1_sign(
        dir.path(),
        &template(
            "http://www.w3.org/2001/10/xml-exc-c14n#",
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            "#p",
        ),
    );
    let whole = xml::verify(&signed, &VerifyOptions::default()).unwrap();
    assert_eq!(
        sub(&whole.signatures[0].status),
        Some(SubIndication::SignedDataNotFound)
    );
    let element = VerifyOptions {
        expect: Expect::Element("p".into()),
        ..VerifyOptions::default()
    };
    let r = xml::verify(&signed, &element).unwrap();
    assert_eq!(r.signatures[0].status, Status::Intact);
    let content = r.signatures[0].signed_content();
    assert_eq!(content.len(), 1);
    let text = std::str::from_utf8(content[0]).unwrap();
    assert!(text.starts_with("<hs:Muc") && text.contains("10.000.000") && !text.contains("GhiChu"));

    // Wrapping: the attacker changes the unsigned note; still intact, still only #p signed.
    let wrapped = String::from_utf8(signed)
        .unwrap()
        .replace("ghi chú", "chuyển thêm 90.000.000");
    let r = xml::verify(wrapped.as_bytes(), &element).unwrap();
    assert_eq!(r.signatures[0].status, Status::Intact);
    assert!(
        !std::str::from_utf8(r.signatures[0].signed_content()[0])
            .unwrap()
            .contains("chuyển")
    );
    // A second element with the same Id: refused outright.
    let twin = String::from_utf8(std::fs::read(dir.path().join("signed.xml")).unwrap())
        .unwrap()
        .replace("<hs:GhiChu>", "<hs:Muc Id=\"p\">giả</hs:Muc><hs:GhiChu>");
    let r = xml::verify(twin.as_bytes(), &element).unwrap();
    assert_eq!(
        sub(&r.signatures[0].status),
        Some(SubIndication::FormatFailure)
    );
}

/// signxml's XAdES verifier, given the root; prints the verified references on success.
pub(crate) const SIGNXML_VERIFY: &str = r#"
import sys
from signxml import SignatureConfiguration
from signxml.xades import XAdESVerifier, XAdESSignatureConfiguration
data = open(sys.argv[1], "rb").read()
config = XAdESSignatureConfiguration(expect_references=int(sys.argv[3]))
results = XAdESVerifier().verify(data, ca_pem_file=sys.argv[2], expect_config=config)
print(len(results), "references verified")
"#;

#[test]
fn our_xades_verifies_with_signxml() {
    let has_signxml = Command::new("python3")
        .args(["-c", "import signxml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_signxml {
        eprintln!("SKIPPED: signxml not installed (pip install signxml)");
        return;
    }
    for algorithm in [
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
        SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
    ] {
        let pki = TestPki::new(algorithm);
        let dir = tempfile::tempdir().unwrap();
        pki.write(dir.path());
        let signed = xml::sign(
            DOCUMENT.as_bytes(),
            &pki.signer,
            &pki.chain,
            &options(Packaging::Enveloped, Level::XadesB),
        )
        .unwrap();
        std::fs::write(dir.path().join("signed.xml"), &signed).unwrap();
        let out = Command::new("python3")
            .args(["-c", SIGNXML_VERIFY, "signed.xml", "root.pem", "2"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{algorithm}: signxml says\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let tampered = String::from_utf8(signed)
            .unwrap()
            .replace("2026-01-01T00:00:00Z", "2020-01-01T00:00:00Z");
        std::fs::write(dir.path().join("tampered.xml"), tampered).unwrap();
        let out = Command::new("python3")
            .args(["-c", SIGNXML_VERIFY, "tampered.xml", "root.pem", "2"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{algorithm}: signxml accepted a changed SigningTime"
        );
    }
}
