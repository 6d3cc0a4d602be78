//! Issue 15, XML verdicts: a signature over one element by its Id is TOTAL-PASSED with its scope
//! reported (2), detached documents resolve only among those supplied (3), RSASSA-PSS with
//! parameters (1), SHA-1 checked for integrity before the policy (5b).

use std::process::Command;

use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{
    Coverage, DetachedContent, Facet, Indication, SubIndication, Verifier, XmlScope,
};

use super::einvoice::{
    RSA_SHA1, RSA_SHA256, SHA1, SHA256, signxml_signed, xmlsec1_accepts, xmlsec1_signed,
};
use super::external_pdf::PeerPki;
use crate::support::run;

fn verifier(pki: &PeerPki, scope: XmlScope) -> Verifier {
    crate::support::verifier_with(pki.dir.path(), |o| o.xml_scope = scope)
}

#[test]
fn an_einvoice_signed_by_id_is_total_passed_and_says_what_it_covers() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    for (tool, signed) in [
        (
            "xmlsec1",
            xmlsec1_signed(pki.dir.path(), RSA_SHA256, SHA256),
        ),
        ("signxml", signxml_signed(pki.dir.path())),
    ] {
        assert!(
            xmlsec1_accepts(pki.dir.path(), &signed),
            "{tool}: xmlsec1 agrees"
        );
        let report = verifier(&pki, XmlScope::SignedContent).verify(&signed);
        let [sig] = report.signatures.as_slice() else {
            panic!("{tool}: one signature: {report:#?}")
        };
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{tool}: {sig:#?}"
        );
        assert_eq!(sig.coverage, Coverage::PartialContent, "{tool}");
        let scope = sig
            .scope
            .as_ref()
            .expect("an XML signature reports its scope");
        assert!(!scope.whole_document);
        let [element] = scope.elements.as_slice() else {
            panic!("{tool}: one document element signed: {scope:#?}")
        };
        assert_eq!(element.path, "/HDon[1]/DLHDon[1]");
        assert_eq!(element.id.as_deref(), Some("data"));
        // What is outside: the tax authority's code; the signature container holds only
        // signatures and is not listed.
        assert_eq!(
            scope.not_covered,
            vec!["/HDon[1]/MCCQT[1]".to_owned()],
            "{tool}"
        );
        assert!(
            sig.warnings
                .iter()
                .any(|w| w.to_string().contains("/HDon[1]/DLHDon[1]")
                    && w.to_string().contains("MCCQT")),
            "{tool}: the report says it in words: {:#?}",
            sig.warnings
        );

        // The deployment that wants whole-document signatures keeps today's strictness.
        let report = verifier(&pki, XmlScope::WholeDocument).verify(&signed);
        assert_eq!(
            report.signatures[0].sub_indication,
            Some(SubIndication::SignedDataNotFound),
            "{tool}"
        );

        // Tampering with the signed invoice is HASH_FAILURE; with the unsigned code, nothing
        // changes (and the report said it is not covered).
        let text = String::from_utf8(signed.clone()).unwrap();
        let tampered = text.replace("11000000", "99000000");
        let report = verifier(&pki, XmlScope::SignedContent).verify(tampered.as_bytes());
        assert_eq!(
            report.signatures[0].sub_indication,
            Some(SubIndication::HashFailure),
            "{tool}"
        );
        let outside = text.replace("00A1B2C3D4E5F6", "FFFFFFFFFFFFFF");
        let report = verifier(&pki, XmlScope::SignedContent).verify(outside.as_bytes());
        assert_eq!(report.indication, Indication::TotalPassed, "{tool}");
    }
}

#[test]
fn wrapping_defences_hold_for_signatures_over_one_element() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let signed = String::from_utf8(xmlsec1_signed(pki.dir.path(), RSA_SHA256, SHA256)).unwrap();
    let verify = |xml: &str| verifier(&pki, XmlScope::SignedContent).verify(xml.as_bytes());
    let failed = |xml: &str, words: &str| {
        let report = verify(xml);
        let sig = &report.signatures[0];
        assert_ne!(
            report.indication,
            Indication::TotalPassed,
            "{words}: {sig:#?}"
        );
        assert!(
            sig.reasons.iter().any(|r| r.to_string().contains(words)),
            "{words}: {:#?}",
            sig.reasons
        );
    };

    // XSW: the attacker puts a forged DLHDon first, where an application reading by position
    // looks, and keeps the signed original (with its Id) after it.
    let forged = signed.replacen(
        "<DLHDon Id=\"data\">",
        "<DLHDon><TToan><TgTTTBSo>1</TgTTTBSo></TToan></DLHDon><DLHDon Id=\"data\">",
        1,
    );
    failed(&forged, "of the same name, is not");

    // XSW: the original moved into the signature's own ds:Object, a forgery in its place.
    let start = signed.find("<DLHDon").unwrap();
    let end = signed.find("</DLHDon>").unwrap() + "</DLHDon>".len();
    let original = &signed[start..end];
    let moved = signed
        .replacen(original, "<DLHDon><TToan>1</TToan></DLHDon>", 1)
        .replacen(
            "<SignatureProperties>",
            &format!("{original}<SignatureProperties>"),
            1,
        );
    let report = verify(&moved);
    assert_ne!(report.indication, Indication::TotalPassed, "{report:#?}");

    // A duplicate Id leaves the reference ambiguous.
    let duplicate = signed.replacen("<MCCQT Id=\"Id-MCCQT\">", "<MCCQT Id=\"data\">", 1);
    failed(&duplicate, "duplicate Id");
}

/// An XML document signed with RSASSA-PSS by Python's `cryptography` (OpenSSL underneath),
/// with `…#rsa-pss` and `RSAPSSParams` at salt lengths 0, 32 and the maximum, and with the
/// parameter-less `…#sha256-rsa-MGF1`.
#[test]
fn rsassa_pss_xml_signatures_at_any_salt_length_are_total_passed() {
    // The document and SignedInfo are written in canonical form (Canonical XML 1.0) by hand, so
    // that what is signed does not depend on any XML library's canonicalizer.
    const SCRIPT: &str = r##"
import sys, base64, hashlib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
keyfile, certfile, chainfile, salt, params, out = sys.argv[1:7]
DS = 'http://www.w3.org/2000/09/xmldsig#'
key = serialization.load_pem_private_key(open(keyfile, 'rb').read(), None)
def der(f):
    c = x509.load_pem_x509_certificate(open(f, 'rb').read())
    return base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
body = '<NoiDung>Quyết định về việc ký số</NoiDung>'
document = '<VanBan so="12/QĐ-UBND">' + body + '</VanBan>'
digest = base64.b64encode(hashlib.sha256(document.encode()).digest()).decode()
salt_len = int(salt)
if params == 'yes':
    method = ('<SignatureMethod Algorithm="http://www.w3.org/2007/05/xmldsig-more#rsa-pss">'
              '<pss:RSAPSSParams xmlns:pss="http://www.w3.org/2007/05/xmldsig-more#">'
              '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod>'
              '<pss:MaskGenerationFunction Algorithm="http://www.w3.org/2007/05/xmldsig-more#MGF1">'
              '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod></pss:MaskGenerationFunction>'
              '<pss:SaltLength>%d</pss:SaltLength><pss:TrailerField>1</pss:TrailerField></pss:RSAPSSParams></SignatureMethod>') % salt_len
else:
    method = '<SignatureMethod Algorithm="http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"></SignatureMethod>'
inner = ('<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></CanonicalizationMethod>'
         + method +
         '<Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></Transform></Transforms>'
         '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod><DigestValue>' + digest + '</DigestValue></Reference>')
canonical_signed_info = '<SignedInfo xmlns="' + DS + '">' + inner + '</SignedInfo>'
value = key.sign(canonical_signed_info.encode(),
                 padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt_len), hashes.SHA256())
signature = ('<Signature xmlns="' + DS + '"><SignedInfo>' + inner + '</SignedInfo><SignatureValue>'
             + base64.b64encode(value).decode() + '</SignatureValue><KeyInfo><X509Data><X509Certificate>'
             + der(certfile) + '</X509Certificate><X509Certificate>' + der(chainfile)
             + '</X509Certificate></X509Data></KeyInfo></Signature>')
open(out, 'w', encoding='utf-8').write('<?xml version="1.0" encoding="UTF-8"?>\n<VanBan so="12/QĐ-UBND">' + body + signature + '</VanBan>')
"##;
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    for (salt, params) in [(0, "yes"), (32, "yes"), (222, "yes"), (32, "no")] {
        let out = pki.path(&format!("pss-{salt}-{params}.xml"));
        run(Command::new("python3")
            .args(["-c", SCRIPT])
            .arg(pki.path("signer.key.pem"))
            .arg(pki.path("signer.pem"))
            .arg(pki.path("intermediate.pem"))
            .arg(salt.to_string())
            .arg(params)
            .arg(&out));
        let xml = std::fs::read(&out).unwrap();
        let report = verifier(&pki, XmlScope::SignedContent).verify(&xml);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "salt {salt}, parameters {params}: {:#?}",
            report.signatures
        );
        assert_eq!(report.signatures[0].coverage, Coverage::SignedContent);
        // A wrong salt length in the parameters: the value no longer verifies.
        if params == "yes" {
            let text = String::from_utf8(xml).unwrap();
            let wrong = text.replace(
                &format!("<pss:SaltLength>{salt}</pss:SaltLength>"),
                &format!("<pss:SaltLength>{}</pss:SaltLength>", salt + 1),
            );
            let report = verifier(&pki, XmlScope::SignedContent).verify(wrong.as_bytes());
            assert_eq!(
                report.signatures[0].sub_indication,
                Some(SubIndication::SigCryptoFailure),
                "salt {salt}+1"
            );
        }
    }
}

/// Issue 15 (5b) for XML: an rsa-sha1 invoice (as e-invoice providers still sign them) is
/// intact and INDETERMINATE under the default policy; tampered, it is HASH_FAILURE.
#[test]
fn sha1_xml_signatures_are_checked_for_integrity_before_the_policy() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    // rsa-sha1 signing over SHA-256 digests, as the issue's e-invoices mix them.
    let signed = xmlsec1_signed(pki.dir.path(), RSA_SHA1, SHA256);
    let report = verifier(&pki, XmlScope::SignedContent).verify(&signed);
    let sig = &report.signatures[0];
    assert_eq!(
        (sig.indication, sig.sub_indication),
        (
            Indication::Indeterminate,
            Some(SubIndication::CryptoConstraintsFailureNoPoe)
        ),
        "{sig:#?}"
    );
    assert_eq!(sig.intact, Facet::Passed);
    assert!(sig.signer.is_some(), "the signer is still named");
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("11000000", "99000000");
    let sig = &verifier(&pki, XmlScope::SignedContent)
        .verify(tampered.as_bytes())
        .signatures[0];
    assert_eq!(
        (sig.indication, sig.sub_indication),
        (Indication::TotalFailed, Some(SubIndication::HashFailure)),
        "{sig:#?}"
    );
    // SHA-1 digests: the same.
    let signed = xmlsec1_signed(pki.dir.path(), RSA_SHA256, SHA1);
    let sig = &verifier(&pki, XmlScope::SignedContent)
        .verify(&signed)
        .signatures[0];
    assert_eq!(
        sig.sub_indication,
        Some(SubIndication::CryptoConstraintsFailureNoPoe),
        "{sig:#?}"
    );
}

/// Issue 15 (3): a detached signature over `content.txt` (a file beside it, as xmlsec1 signs
/// it) verifies when the caller supplies that file, and resolves nothing outside what was
/// supplied.
#[test]
fn detached_xml_signatures_verify_against_supplied_documents_only() {
    let pki = PeerPki::new(KeyAlgorithm::P256, SignerProfile::Valid);
    let d = pki.dir.path();
    let signed = detached_signed(d, "content.txt");
    let verifier = verifier(&pki, XmlScope::SignedContent);

    let missing = verifier.verify(&signed);
    assert_eq!(
        missing.signatures[0].sub_indication,
        Some(SubIndication::SignedDataNotFound),
        "{missing:#?}"
    );
    assert!(
        missing.signatures[0].reasons[0]
            .to_string()
            .contains("was not supplied")
    );

    let mut supplied = DetachedContent::new();
    supplied.add("content.txt", std::fs::read(d.join("content.txt")).unwrap());
    let report = verifier.verify_with(&signed, &supplied);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        report.signatures[0].scope.as_ref().unwrap().detached,
        vec!["content.txt".to_owned()]
    );

    let mut changed = DetachedContent::new();
    changed.add("content.txt", b"Bao cao da bi sua".to_vec());
    assert_eq!(
        verifier.verify_with(&signed, &changed).signatures[0].sub_indication,
        Some(SubIndication::HashFailure)
    );

    // References that would leave the supplied documents are refused, even when a document
    // of that name was supplied.
    for uri in [
        "../content.txt",
        "/etc/passwd",
        "file:///etc/passwd",
        "http://example.org/x",
    ] {
        let text = String::from_utf8(signed.clone()).unwrap();
        let hostile = text.replace("URI=\"content.txt\"", &format!("URI=\"{uri}\""));
        let mut supplied = DetachedContent::new();
        supplied.add("content.txt", std::fs::read(d.join("content.txt")).unwrap());
        let report = verifier.verify_with(hostile.as_bytes(), &supplied);
        let sig = &report.signatures[0];
        assert_eq!(
            sig.sub_indication,
            Some(SubIndication::SignedDataNotFound),
            "{uri}: {sig:#?}"
        );
    }
}

/// A detached signature made by xmlsec1 over `name` in `dir` (written there first).
pub fn detached_signed(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::write(dir.join(name), "Công văn số 15/CV-STP: nội dung đính kèm").unwrap();
    let template = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><Reference URI="{name}"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>
"#
    );
    std::fs::write(dir.join("detached.template.xml"), template).unwrap();
    run(Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg("signer.key.pem,signer.pem,intermediate.pem")
        .args(["--output", "detached.xml", "detached.template.xml"])
        .current_dir(dir));
    std::fs::read(dir.join("detached.xml")).unwrap()
}

/// Issue 15 (3) through the service: `POST /v1/verify` takes the documents a detached
/// signature names as `detached` parts.
#[test]
fn post_verify_takes_detached_parts() {
    use crate::api::fixture::{Service, multipart};
    let pki = PeerPki::new(KeyAlgorithm::P256, SignerProfile::Valid);
    let signed = detached_signed(pki.dir.path(), "content.txt");
    let content = std::fs::read(pki.path("content.txt")).unwrap();
    let service = Service::start();
    let c = service.client();
    let verify = |parts: &[(&str, Option<&str>, &[u8])]| {
        let (kind, body) = multipart(parts);
        c.post("/v1/verify", &service.keys.verifier, &kind, body)
    };
    // The service does not trust this PKI: what is checked here is what the signature covers.
    let without = verify(&[("document", Some("detached.xml"), &signed)]).json();
    let sig = &without["signatures"][0];
    assert_eq!(sig["subindication"], "SIGNED_DATA_NOT_FOUND", "{sig}");

    let with = verify(&[
        ("document", Some("detached.xml"), &signed),
        ("detached", Some("content.txt"), &content),
    ])
    .json();
    let sig = &with["signatures"][0];
    assert_eq!(sig["intact"], "passed", "{sig}");
    assert_eq!(sig["scope"]["detached"][0], "content.txt", "{sig}");
    assert_eq!(sig["subindication"], "NO_CERTIFICATE_CHAIN_FOUND", "{sig}");

    let changed = verify(&[
        ("document", Some("detached.xml"), &signed),
        ("detached", Some("content.txt"), b"sua doi"),
    ])
    .json();
    assert_eq!(changed["signatures"][0]["subindication"], "HASH_FAILURE");

    let (kind, body) = multipart(&[
        ("document", Some("detached.xml"), &signed),
        ("detached", None, &content),
    ]);
    c.post("/v1/verify", &service.keys.verifier, &kind, body)
        .problem(400, "bad-request");
    let (kind, body) = multipart(&[
        ("document", Some("a.xml"), &signed),
        ("document", Some("b.xml"), &signed),
    ]);
    c.post("/v1/verify", &service.keys.verifier, &kind, body)
        .problem(400, "bad-request");
}
