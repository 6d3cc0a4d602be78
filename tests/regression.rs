//! One test (or a few) per defect, named after the issue that reported it. Each failed on the
//! code before its fix.

mod einvoice;
mod external_pdf;
mod issue15_cli;
mod issue15_pdf;
mod issue15_xml;
mod issue17;
mod issue21;

/// The JSON report of an e-invoice-shaped XML signed over one element (for the report's
/// documented schema): signed by xmlsec1 with a software key of `signing`'s PKI.
pub fn xml_scope_report(signing: &crate::support::Signing) -> serde_json::Value {
    let name = kyso::testpki::SignerName::new("Lê Thị Hóa Đơn", "Công ty Thử Nghiệm", "Kế toán");
    let (issued, key) = signing
        .pki
        .issue_with_software_key(
            kyso::token::KeyAlgorithm::Rsa2048,
            &name,
            kyso::testpki::SignerProfile::Valid,
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("signer.pem"), issued.pem()).unwrap();
    std::fs::write(dir.path().join("signer.key.pem"), key.serialize_pem()).unwrap();
    signing.pki.write_authorities(dir.path()).unwrap();
    let signed = einvoice::xmlsec1_signed(dir.path(), einvoice::RSA_SHA256, einvoice::SHA256);
    serde_json::to_value(crate::support::verifier_for(dir.path()).verify(&signed)).unwrap()
}

/// An e-invoice-shaped XML whose seller signature (in a sibling element) signs the invoice
/// data by `URI="#data"`: made by xmlsec1 with a software key of a PKI of its own, for pages
/// that show a signature's partial scope.
pub fn einvoice_signed_by_id() -> Vec<u8> {
    let pki = external_pdf::PeerPki::new(
        kyso::token::KeyAlgorithm::Rsa2048,
        kyso::testpki::SignerProfile::Valid,
    );
    einvoice::xmlsec1_signed(pki.dir.path(), einvoice::RSA_SHA256, einvoice::SHA256)
}
