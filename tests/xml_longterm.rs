//! XAdES B-LT and B-LTA (ETSI EN 319 132-1 §5.5) made through `signing::Signing::xml` with a
//! SoftHSM key, a real TSA (`openssl ts -reply`) and real OCSP and CRLs behind the loopback front
//! of `support::responders`: verified by kyso after the services are stopped (from the
//! signature's own CertificateValues/RevocationValues), by xmlsec1 (core validity) and by
//! signxml (XAdES); the layout checked against the standard's element order; a change under the
//! archive time-stamp detected; a revoked signer refused.

use std::process::Command;

use kyso::pki::{Certificate, TrustStore};
use kyso::signing::{Level, Signing, Trust, XmlForm, XmlOptions};
use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{DetachedContent, Indication, Revocation, SubIndication};
use kyso::xml::Packaging;
use time::OffsetDateTime;

use crate::edxml::key_material;
use crate::pdf_levels::{World, world};
use crate::support::Signing as SignerKey;
use crate::xml::interop::{
    SIGNED_PROPERTIES_ID, SIGNED_PROPERTIES_NODE, SIGNXML_VERIFY, xmlsec1_verify,
};

const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<vb:VanBan xmlns:vb="urn:kyso:test:vanban" so="45/QĐ-UBND">
  <vb:TrichYeu>Về việc lưu trữ hồ sơ điện tử dài hạn</vb:TrichYeu>
</vb:VanBan>"#;

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";
const XADES141: &str = "http://uri.etsi.org/01903/v1.4.1#";

/// Signs `DOCUMENT` as XAdES at `level` with `w`'s token key, TSA and responders, trusting
/// `w`'s root, through the signing path the CLI and the service share.
fn sign(w: &World, level: Level) -> Result<Vec<u8>, kyso::signing::Error> {
    sign_packaged(w, level, DOCUMENT.as_bytes(), Packaging::Enveloped)
}

/// [`sign`] with another document and packaging.
fn sign_packaged(
    w: &World,
    level: Level,
    document: &[u8],
    packaging: Packaging,
) -> Result<Vec<u8>, kyso::signing::Error> {
    let key = key_material(&w.signing);
    let mut trust = Trust::default();
    trust
        .anchors
        .add(Certificate::from_der(w.signing.pki.root.der()).unwrap());
    trust.revocation = Revocation::Online;
    let tsa = kyso::pades::Tsa::new(w.tsa_url.clone());
    let signing = Signing {
        key: &key,
        level,
        tsa: Some(&tsa),
        trust: Some(&trust),
        at: OffsetDateTime::now_utc(),
        algorithms: Default::default(),
    };
    signing
        .xml(
            document,
            XmlOptions {
                form: XmlForm::Xades,
                packaging,
                ..XmlOptions::default()
            },
        )
        .map(kyso::signing::SignedDocument::into_vec)
}

/// kyso's verdict with only `signer`'s root trusted and no revocation source but the document.
fn verify_offline(signer: &SignerKey, bytes: &[u8]) -> kyso::verify::SignatureReport {
    verify_offline_with(signer, bytes, &DetachedContent::new())
}

/// [`verify_offline`] of a signature over `detached` documents.
fn verify_offline_with(
    signer: &SignerKey,
    bytes: &[u8],
    detached: &DetachedContent,
) -> kyso::verify::SignatureReport {
    let mut trust = TrustStore::new();
    trust.add(Certificate::from_der(signer.pki.root.der()).unwrap());
    let mut options = kyso::verify::VerifyOptions::new(trust, OffsetDateTime::now_utc());
    options.revocation = Revocation::Offline;
    let report = kyso::verify::Verifier::new(options).verify_with(bytes, detached);
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    report.signatures[0].clone()
}

/// The paths (`{namespace}name/…`) of the elements under `UnsignedProperties`, in document
/// order, each run of repeated siblings (certificates, CRLs, responses) written once.
fn unsigned_layout(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    let unsigned = doc
        .descendants()
        .find(|n| n.has_tag_name((XADES, "UnsignedProperties")))
        .expect("UnsignedProperties");
    let short = |ns: Option<&str>| match ns {
        Some(DS) => "ds",
        Some(XADES) => "xades",
        Some(XADES141) => "xades141",
        _ => "?",
    };
    let mut out: Vec<String> = Vec::new();
    for node in unsigned.descendants().filter(roxmltree::Node::is_element) {
        let path: Vec<String> = node
            .ancestors()
            .filter(roxmltree::Node::is_element)
            .take_while(|a| *a != unsigned.parent().unwrap())
            .map(|a| {
                format!(
                    "{}:{}",
                    short(a.tag_name().namespace()),
                    a.tag_name().name()
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let path = path.join("/");
        if out.last() != Some(&path) {
            out.push(path);
        }
    }
    out
}

/// The unsigned properties of a baseline B-LT signature in the order EN 319 132-1 §5.5 and
/// the XAdES 1.3.2 schema give them (the order DSS writes): the signature time-stamp, then the
/// certificate values, then the revocation values (CRLs before OCSP responses).
fn b_lt_layout() -> Vec<String> {
    let usp = "xades:UnsignedProperties/xades:UnsignedSignatureProperties";
    [
        "xades:UnsignedProperties".to_owned(),
        usp.to_owned(),
        format!("{usp}/xades:SignatureTimeStamp"),
        format!("{usp}/xades:SignatureTimeStamp/ds:CanonicalizationMethod"),
        format!("{usp}/xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp"),
        format!("{usp}/xades:CertificateValues"),
        format!("{usp}/xades:CertificateValues/xades:EncapsulatedX509Certificate"),
        format!("{usp}/xades:RevocationValues"),
        format!("{usp}/xades:RevocationValues/xades:CRLValues"),
        format!("{usp}/xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue"),
        format!("{usp}/xades:RevocationValues/xades:OCSPValues"),
        format!("{usp}/xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue"),
    ]
    .into()
}

/// B-LTA: B-LT, then the archive time-stamp in the XAdES 1.4.1 namespace, whose content is
/// the 1.3.2 time-stamp type's.
fn b_lta_layout() -> Vec<String> {
    let usp = "xades:UnsignedProperties/xades:UnsignedSignatureProperties";
    let mut layout = b_lt_layout();
    layout.extend([
        format!("{usp}/xades141:ArchiveTimeStamp"),
        format!("{usp}/xades141:ArchiveTimeStamp/ds:CanonicalizationMethod"),
        format!("{usp}/xades141:ArchiveTimeStamp/xades:EncapsulatedTimeStamp"),
    ]);
    layout
}

/// xmlsec1's core validation, trusting `signer`'s root.
fn assert_xmlsec1(signer: &SignerKey, name: &str, bytes: &[u8]) {
    if !crate::xml::common::have("xmlsec1") {
        eprintln!("SKIPPED: xmlsec1 not installed (apt-get install xmlsec1)");
        return;
    }
    let dir = signer.dir.path();
    std::fs::write(dir.join(name), bytes).unwrap();
    let (ok, log) = xmlsec1_verify(dir, name, &[SIGNED_PROPERTIES_ID, SIGNED_PROPERTIES_NODE]);
    assert!(ok, "{name}: xmlsec1 says\n{log}");
}

/// signxml's XAdES verifier (the document reference and SignedProperties), trusting
/// `signer`'s root.
fn assert_signxml(signer: &SignerKey, name: &str, bytes: &[u8]) {
    let has_signxml = Command::new("python3")
        .args(["-c", "import signxml.xades"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_signxml {
        eprintln!("SKIPPED: signxml not installed (pip install signxml)");
        return;
    }
    let dir = signer.dir.path();
    std::fs::write(dir.join(name), bytes).unwrap();
    let out = Command::new("python3")
        .args(["-c", SIGNXML_VERIFY, name, "root.pem", "2"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: signxml says\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The archive time-stamp's imprint recomputed without kyso (tests/support/
/// xades_archive_imprint.py: lxml's C14N, asn1crypto): `match` or `mismatch`; `None`, said
/// aloud, when Python lacks lxml or asn1crypto.
fn independent_archive_imprint(signer: &SignerKey, bytes: &[u8]) -> Option<String> {
    let usable = Command::new("python3")
        .args(["-c", "import lxml.etree, asn1crypto.tsp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !usable {
        eprintln!("SKIPPED: python3 with lxml and asn1crypto (pip install signxml pyhanko)");
        return None;
    }
    let path = signer.dir.path().join("imprint.xml");
    std::fs::write(&path, bytes).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/xades_archive_imprint.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn xades_b_lt_and_b_lta_validate_offline_and_with_peers() {
    let w = world(KeyAlgorithm::P256, "Phan Thị Thu Hà", SignerProfile::Valid);
    let b_lt = sign(&w, Level::BaselineLt).unwrap();
    let b_lta = sign(&w, Level::BaselineLta).unwrap();
    // Nothing more comes from the network: every answer must be in the signatures.
    drop(w.front);

    // For reviewers and other validators (DSS): target/test-artefacts/xades-long-term/.
    let artefacts = crate::support::artefacts_dir("xades-long-term");
    std::fs::write(artefacts.join("b-lt.xml"), &b_lt).unwrap();
    std::fs::write(artefacts.join("b-lta.xml"), &b_lta).unwrap();

    assert_eq!(unsigned_layout(&b_lt), b_lt_layout());
    assert_eq!(unsigned_layout(&b_lta), b_lta_layout());

    for (bytes, format) in [(&b_lt, "XAdES-B-LT"), (&b_lta, "XAdES-B-LTA")] {
        let report = verify_offline(&w.signing, bytes);
        assert_eq!(report.format, format);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{format}: {:?} {:?}",
            report.sub_indication,
            report.reasons
        );
        assert_eq!(
            report.signing_time_source,
            Some(kyso::verify::TimeSource::Timestamp)
        );
        assert_eq!(report.archive_time.is_some(), format == "XAdES-B-LTA");
        // Protected for the long term, until the test TSA's certificate expires.
        let long_term = report
            .long_term
            .as_ref()
            .expect("a passing signature's status");
        assert!(long_term.protected, "{format}");
        assert!(
            long_term.certificate.contains("TSA"),
            "{format}: {long_term:?}"
        );
    }
    assert_xmlsec1(&w.signing, "b-lt.xml", &b_lt);
    assert_xmlsec1(&w.signing, "b-lta.xml", &b_lta);
    assert_signxml(&w.signing, "b-lt.xml", &b_lt);
    assert_signxml(&w.signing, "b-lta.xml", &b_lta);
    assert_eq!(
        independent_archive_imprint(&w.signing, &b_lta).as_deref(),
        Some("match")
    );

    // Without the embedded evidence the same offline verifier cannot decide revocation: the
    // PASSED above came from RevocationValues.
    let text = String::from_utf8(b_lt.clone()).unwrap();
    let start = text.find("<xades:RevocationValues>").unwrap();
    let end = text.find("</xades:RevocationValues>").unwrap() + "</xades:RevocationValues>".len();
    let stripped = format!("{}{}", &text[..start], &text[end..]);
    let report = verify_offline(&w.signing, stripped.as_bytes());
    assert_eq!(report.indication, Indication::Indeterminate, "{report:?}");
}

#[test]
fn a_change_under_the_archive_timestamp_is_detected() {
    let w = world(KeyAlgorithm::P256, "Trần Quốc Bảo", SignerProfile::Valid);
    let b_lta = String::from_utf8(sign(&w, Level::BaselineLta).unwrap()).unwrap();
    drop(w.front);
    assert_eq!(
        verify_offline(&w.signing, b_lta.as_bytes()).indication,
        Indication::TotalPassed
    );

    // An unsigned property before the archive time-stamp, changed after archiving: the
    // signature itself still verifies, the archive time-stamp no longer covers it.
    let changed = b_lta.replacen(
        "<xades:SignatureTimeStamp Id=\"",
        "<xades:SignatureTimeStamp Id=\"x",
        1,
    );
    assert_ne!(changed, b_lta);
    if let Some(verdict) = independent_archive_imprint(&w.signing, changed.as_bytes()) {
        assert_eq!(verdict, "mismatch");
    }
    let report = verify_offline(&w.signing, changed.as_bytes());
    assert_eq!(report.format, "XAdES-B-LTA");
    assert_eq!(report.indication, Indication::TotalFailed, "{report:?}");
    assert_eq!(report.sub_indication, Some(SubIndication::HashFailure));
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.code() == "xml_archive_timestamp"),
        "{:?}",
        report.reasons
    );

    // A certificate dropped from CertificateValues: covered too.
    let start = b_lta.find("<xades:EncapsulatedX509Certificate>").unwrap();
    let end = b_lta[start..]
        .find("</xades:EncapsulatedX509Certificate>")
        .unwrap()
        + start
        + "</xades:EncapsulatedX509Certificate>".len();
    let dropped = format!("{}{}", &b_lta[..start], &b_lta[end..]);
    let report = verify_offline(&w.signing, dropped.as_bytes());
    assert_eq!(report.indication, Indication::TotalFailed, "{report:?}");
    assert_eq!(report.sub_indication, Some(SubIndication::HashFailure));
}

#[test]
fn a_revoked_signer_is_refused_at_xades_b_lt() {
    let w = world(KeyAlgorithm::P256, "Vũ Thị Ngọc", SignerProfile::Revoked);
    for level in [Level::BaselineLt, Level::BaselineLta] {
        let err = sign(&w, level).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, kyso::signing::Error::SignerNotValid(_)),
            "{message}"
        );
        assert!(message.contains("revoked"), "{message}");
    }
    // B-T checks no path, so the same key still signs there.
    assert!(sign(&w, Level::BaselineT).is_ok());
}

#[test]
fn cli_signs_xml_at_b_lta() {
    let w = world(KeyAlgorithm::P256, "Lý Văn Nam", SignerProfile::Valid);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xml");
    std::fs::write(&input, DOCUMENT).unwrap();
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, w.signing.pki.intermediate.pem()).unwrap();
    let key = format!(
        "{}?pin-source=file:{}",
        w.signing.key.uri(),
        crate::support::tokens()
            .pin_file(crate::support::MAIN_TOKEN)
            .display()
    );
    let out = dir.path().join("out.xml");
    let sign = |level: &str, trust: bool| {
        let mut cmd = crate::cli::kyso();
        cmd.args(["sign", "xml"])
            .arg(&input)
            .arg(&out)
            .args(["--key", &key, "--xades", "--level", level])
            .args(["--tsa", &w.tsa_url, "--chain"])
            .arg(&chain);
        if trust {
            cmd.arg("--trust").arg(w.signing.root_pem());
        }
        cmd
    };
    // B-LTA checks the signer against configured anchors, never the key's own chain.
    let refused = sign("B-LTA", false).output().unwrap();
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        crate::cli::text(&refused)
    );
    assert!(
        crate::cli::text(&refused).contains("no trust anchors"),
        "{}",
        crate::cli::text(&refused)
    );
    assert!(!out.exists());
    let printed = crate::support::run(&mut sign("B-LTA", true));
    assert!(printed.contains("XAdES B-LTA"), "{printed}");
    drop(w.front);
    // `kyso verify` with the root and nothing else: no CRL file, no network.
    let verified = crate::cli::kyso()
        .args([
            "verify",
            "--lang",
            "en",
            "--json",
            "--revocation",
            "offline",
            "--trust",
        ])
        .arg(w.signing.root_pem())
        .arg(&out)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&verified.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", crate::cli::text(&verified)));
    assert_eq!(
        json["report"]["signatures"][0]["format"], "XAdES-B-LTA",
        "{json}"
    );
    assert_eq!(
        json["report"]["signatures"][0]["indication"], "TOTAL-PASSED",
        "{json}"
    );
    assert_eq!(verified.status.code(), Some(0), "{json}");
    let report = verify_offline(&w.signing, &std::fs::read(&out).unwrap());
    assert_eq!(report.format, "XAdES-B-LTA");
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{:?}",
        report.reasons
    );
}

#[test]
fn enveloping_detached_and_utf16_signatures_reach_b_lta() {
    let w = world(
        KeyAlgorithm::Rsa2048,
        "Đặng Minh Khôi",
        SignerProfile::Valid,
    );
    // The archive time-stamp covers the enveloping signature's document object (step 4 of
    // §5.5.2.2) and the detached signature's referenced bytes (step 1).
    let enveloping = sign_packaged(
        &w,
        Level::BaselineLta,
        DOCUMENT.as_bytes(),
        Packaging::Enveloping,
    )
    .unwrap();
    let detached = sign_packaged(
        &w,
        Level::BaselineLta,
        DOCUMENT.as_bytes(),
        Packaging::Detached {
            uri: "van-ban.xml".to_owned(),
        },
    )
    .unwrap();
    // The values and the time-stamp are written in the document's own encoding.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        DOCUMENT
            .replace("UTF-8", "UTF-16")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let utf16_signed = sign_packaged(&w, Level::BaselineLta, &utf16, Packaging::Enveloped).unwrap();
    assert_eq!(&utf16_signed[..2], &[0xFF, 0xFE]);
    drop(w.front);

    let mut content = DetachedContent::new();
    content.add("van-ban.xml", DOCUMENT.as_bytes().to_vec());
    for (name, bytes, supplied) in [
        ("enveloping", &enveloping, DetachedContent::new()),
        ("detached", &detached, content.clone()),
        ("utf-16", &utf16_signed, DetachedContent::new()),
    ] {
        let report = verify_offline_with(&w.signing, bytes, &supplied);
        assert_eq!(report.format, "XAdES-B-LTA", "{name}");
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "{name}: {:?} {:?}",
            report.sub_indication,
            report.reasons
        );
    }
    // The detached document changed: its reference fails first.
    let mut changed = DetachedContent::new();
    changed.add("van-ban.xml", DOCUMENT.replace("45/", "46/").into_bytes());
    let report = verify_offline_with(&w.signing, &detached, &changed);
    assert_eq!(report.indication, Indication::TotalFailed, "{report:?}");
}

#[test]
fn only_a_time_stamped_signature_is_extended() {
    use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm};
    let pki = crate::xml::common::TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let b_b = kyso::xml::sign_document(
        DOCUMENT.as_bytes(),
        &pki.signer,
        &pki.chain,
        &crate::xml::dsig::options(Packaging::Enveloped, kyso::xml::Level::XadesB),
    )
    .unwrap();
    let refused = b_b
        .clone()
        .with_validation_values(&kyso::xml::ValidationValues::default())
        .unwrap_err();
    assert!(
        matches!(refused, kyso::xml::Error::NotTimestamped),
        "{refused}"
    );
    // Nothing listens on port 1: reaching the TSA would fail with another error.
    let tsa = kyso::tsp::Tsa::new("http://127.0.0.1:1/tsa");
    let refused = b_b
        .with_archive_timestamp(&tsa, DigestAlgorithm::Sha256)
        .unwrap_err();
    assert!(
        matches!(refused, kyso::xml::Error::NotTimestamped),
        "{refused}"
    );
}
