//! CMS SignedData against OpenSSL: ours verified by `openssl cms`, OpenSSL's (BER, indefinite
//! lengths) read and checked by us.

use std::process::Command;

use kyso::cms::{SignedCms, SignedData};
use kyso::signer::Signer;
use kyso::token::KeyAlgorithm;

use crate::support::{Signing, run};

#[test]
fn openssl_cms_verifies_our_detached_signatures() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P384] {
        let signing = Signing::new(algorithm, "Ngô Thị Lan");
        let document = "Báo cáo tình hình ký số 6 tháng đầu năm".as_bytes();
        let digest = signing.key.algorithm().digest().digest(document);
        let cms = SignedCms::sign(&signing.identity(), &digest)
            .unwrap()
            .to_der();
        let doc_path = dir.path().join("doc.txt");
        let sig_path = dir.path().join(format!("{algorithm}.p7s"));
        std::fs::write(&doc_path, document).unwrap();
        std::fs::write(&sig_path, &cms).unwrap();
        let verify = |content: &std::path::Path| {
            Command::new("openssl")
                .args([
                    "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any",
                ])
                .arg("-in")
                .arg(&sig_path)
                .arg("-content")
                .arg(content)
                .arg("-CAfile")
                .arg(signing.root_pem())
                .arg("-out")
                .arg("/dev/null")
                .output()
                .unwrap()
        };
        let out = verify(&doc_path);
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success() && text.contains("Verification successful"),
            "{algorithm}: {text}"
        );
        let tampered = dir.path().join("tampered.txt");
        std::fs::write(&tampered, b"Bao cao da bi sua").unwrap();
        assert!(
            !verify(&tampered).status.success(),
            "openssl must reject a changed document"
        );
    }
}

#[test]
fn we_read_openssl_ber_cms_and_check_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    run(Command::new(env!("CARGO_BIN_EXE_test-pki")).arg(&pki_dir));
    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "Công văn đến số 77").unwrap();
    let sig = dir.path().join("doc.p7s");
    // -stream makes OpenSSL write BER with indefinite lengths, as many real signers do.
    run(Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-stream", "-outform", "DER", "-md", "sha256",
        ])
        .arg("-in")
        .arg(&doc)
        .arg("-signer")
        .arg(pki_dir.join("signer-p256-valid.pem"))
        .arg("-inkey")
        .arg(pki_dir.join("signer-p256-valid.key.pem"))
        .arg("-out")
        .arg(&sig));
    let bytes = std::fs::read(&sig).unwrap();
    assert_eq!(bytes[1], 0x80, "OpenSSL wrote an indefinite length");
    let parsed = SignedData::parse(&bytes).unwrap();
    let [info] = parsed.signer_infos.as_slice() else {
        panic!("one signer")
    };
    let content = parsed
        .content
        .as_deref()
        .expect("-stream without -detach attaches the content");
    assert_eq!(content, std::fs::read(&doc).unwrap());
    let signed = info.signed_attributes.as_ref().unwrap();
    assert_eq!(
        signed.message_digest().unwrap().as_ref(),
        kyso::signer::DigestAlgorithm::Sha256.digest(content)
    );
    let (_, cert) = x509_parser::parse_x509_certificate(&parsed.certificates[0]).unwrap();
    kyso::signer::verify(
        cert.tbs_certificate.subject_pki.raw,
        kyso::signer::SignatureAlgorithm::Ecdsa(
            kyso::signer::Curve::P256,
            kyso::signer::DigestAlgorithm::Sha256,
        ),
        &signed.signed_bytes,
        &info.signature,
    )
    .expect("the signature over the signed attributes as they arrived holds");
}
