//! edXML packages (QCVN 102:2016): one verdict for a package, built here from the standard's
//! structure in the shapes of the SDK's public samples (`edxml/build.rs`); the documents in them
//! are PDFs signed by kyso's own signing path with SoftHSM keys.

pub mod build;
mod http;
mod prop;

use std::path::Path;

use kyso::edxml::{AttachmentInput, CheckOutcome, Header};
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signing::{KeyMaterial, Level, XmlForm};
use kyso::testpki::{SignerName, SignerProfile, TestPki};
use kyso::token::{KeyAlgorithm, KeyOptions};
use kyso::verify::{DocumentReport, Indication, SubIndication, Verifier};

use crate::support::{MAIN_TOKEN, Signing, tokens, unique, verifier_for};
use build::{Envelope, Facts, Part, Shape};

/// What the reason of the document's signature says: the number and the date, as a clerk's
/// signing tool fills it in.
pub const REASON: &str = "Ban hành Quyết định số 123/QĐ-UBND ngày 15 tháng 3 năm 2026";

/// The chairman's key (CN and title as the header names him), the unit's key, a software key
/// for xmlsec1, and the PKI's files.
pub struct Fixture {
    pub chairman: Signing,
    pub unit: KeyMaterial,
    /// The unit key's URI, with its module and PIN source, for the command line.
    pub unit_uri: String,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let pki = TestPki::new(kyso::testpki::PkiOptions::default()).unwrap();
        let name = SignerName::new("Nguyễn Văn An", "UBND tỉnh Thử Nghiệm", "Văn phòng UBND")
            .with_title("Chủ tịch");
        let software = SignerName::new("Hệ thống LGSP", "UBND tỉnh Thử Nghiệm", "Văn phòng UBND");
        let (issued, key) = pki
            .issue_with_software_key(KeyAlgorithm::Rsa2048, &software, SignerProfile::Valid)
            .unwrap();
        let chairman = Signing::named(pki, KeyAlgorithm::P256, &name, SignerProfile::Valid);
        let dir = tempfile::tempdir().unwrap();
        chairman.pki.write_authorities(dir.path()).unwrap();
        std::fs::write(dir.path().join("signer.pem"), issued.pem()).unwrap();
        std::fs::write(dir.path().join("signer.key.pem"), key.serialize_pem()).unwrap();
        // The unit's key, on the token, for packages kyso signs.
        let unit_name = SignerName::new(
            "Văn phòng UBND tỉnh",
            "UBND tỉnh Thử Nghiệm",
            "Văn phòng UBND",
        );
        let (unit, unit_uri) = token_key(&chairman.pki, &unit_name);
        Fixture {
            chairman,
            unit,
            unit_uri,
            dir,
        }
    }

    pub fn verifier(&self) -> Verifier {
        verifier_for(self.dir.path())
    }

    /// A PDF signed through `kyso::signing::Signing::pdf` by the chairman, with `reason`.
    pub fn signed_pdf(&self, reason: &str) -> Vec<u8> {
        let key = key_material(&self.chairman);
        let signing = kyso::signing::Signing {
            key: &key,
            level: Level::BaselineB,
            tsa: None,
            trust: None,
            at: time::OffsetDateTime::now_utc(),
            algorithms: Default::default(),
        };
        let mut options = SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
        options.reason = Some(reason.to_owned());
        signing
            .pdf(&sample_pdf(&SampleOptions::default()), options)
            .unwrap()
            .to_vec()
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

/// A new key on the main token with a certificate of `pki` for `name`, opened as the CLI and
/// the service open keys, and its URI.
pub fn token_key(pki: &TestPki, name: &SignerName) -> (KeyMaterial, String) {
    let t = tokens();
    let uri = t.key_uri(MAIN_TOKEN, &unique("unit"));
    let token = kyso::token::Token::open(&uri, &t.defaults(MAIN_TOKEN)).unwrap();
    token.ensure_login(Some(&t.pin_source(MAIN_TOKEN))).unwrap();
    let label = uri.object.clone().unwrap();
    let generated =
        kyso::token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap();
    let cert = pki
        .issue(
            kyso::signer::Signer::public_key_spki(&generated),
            name,
            SignerProfile::Valid,
        )
        .unwrap();
    kyso::token::import_certificate(&token, &label, None, &cert.der).unwrap();
    let key = KeyMaterial::open(
        &uri,
        &t.defaults(MAIN_TOKEN),
        KeyOptions::default(),
        &[pki.intermediate.der().to_vec()],
    )
    .unwrap();
    (key, uri.to_string())
}

/// The key of `signing` opened as the CLI and the service open keys.
pub fn key_material(signing: &Signing) -> KeyMaterial {
    KeyMaterial::open(
        &signing.key.uri(),
        &tokens().defaults(MAIN_TOKEN),
        KeyOptions::default(),
        &signing.chain,
    )
    .unwrap()
}

fn part(id: &str, name: &str, bytes: Vec<u8>, zipped: bool) -> Part {
    let content_type = if name.ends_with(".pdf") {
        "application/pdf"
    } else {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    };
    Part::new(id, name, content_type, bytes, zipped)
}

fn verdict(report: &DocumentReport) -> (Indication, Option<SubIndication>) {
    (report.indication, report.sub_indication)
}

fn json(report: &DocumentReport) -> String {
    serde_json::to_string_pretty(report).unwrap()
}

fn package_of(report: &DocumentReport) -> &kyso::edxml::PackageReport {
    report
        .package
        .as_deref()
        .expect("an edXML report has a package part")
}

fn check<'r>(report: &'r DocumentReport, field: &str) -> &'r kyso::edxml::HeaderCheck {
    package_of(report)
        .checks
        .iter()
        .find(|c| c.field == field)
        .unwrap_or_else(|| panic!("no {field} check: {}", json(report)))
}

#[test]
fn an_unsigned_package_with_zipped_and_plain_attachments_passes_on_its_signed_document() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let appendix = b"PK-less Word stand-in: an appendix kyso cannot check".to_vec();
    let mut appendix_pdf = fixture.signed_pdf("Phụ lục kèm theo Quyết định số 123/QĐ-UBND");
    appendix_pdf.extend_from_slice(b"");
    for shape in [Shape::Sdk, Shape::Upload] {
        let xml = build::package(
            shape,
            Envelope::Unsigned,
            &Facts::default(),
            &[
                part("209", "QD-123.pdf", pdf.clone(), true),
                part("210", "PhuLuc.pdf", appendix_pdf.clone(), false),
                part("211", "GhiChu.docx", appendix.clone(), true),
            ],
        );
        let report = fixture.verifier().verify(xml.as_bytes());
        assert_eq!(report.format, "edxml");
        assert_eq!(
            verdict(&report),
            (Indication::TotalPassed, None),
            "{}",
            json(&report)
        );
        assert!(report.signatures.is_empty(), "no envelope signature");
        let package = package_of(&report);
        assert_eq!(package.header.code.number.as_deref(), Some("123"));
        assert_eq!(
            package.header.to[0].organ_id.as_deref(),
            Some("000.01.31.H99")
        );
        let [document, annex, note] = package.attachments.as_slice() else {
            panic!("three attachments: {}", json(&report));
        };
        assert_eq!((document.compression, document.kind), ("zip", "pdf"));
        assert_eq!(document.entry.as_deref(), Some("QD-123.pdf"));
        assert_eq!(document.indication, Some(Indication::TotalPassed));
        assert_eq!((annex.compression, annex.kind), ("none", "pdf"));
        assert_eq!(note.kind, "other");
        assert_eq!(note.status, kyso::edxml::AttachmentStatus::NotCheckable);
        assert!(
            package
                .warnings
                .iter()
                .any(|w| w.to_string().contains("cid:211")
                    && w.to_string().contains("no intact envelope signature")),
            "{:?}",
            package.warnings
        );
        for field in [
            "number",
            "promulgation_date",
            "signer_name",
            "signer_position",
        ] {
            assert_eq!(
                check(&report, field).outcome,
                CheckOutcome::Match,
                "{field}: {}",
                json(&report)
            );
        }
    }
}

#[test]
fn undeclared_prefixes_are_repaired_warned_and_every_signature_still_checked() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let parts = [part("1", "QD-123.pdf", pdf, true)];
    // Unsigned: read after the repair, warned, and the document verified.
    let xml = build::package(Shape::Legacy, Envelope::Unsigned, &Facts::default(), &parts);
    let strict =
        kyso::xml::parse::with_document(xml.as_bytes(), &kyso::xml::Limits::default(), |_, _| ());
    assert!(strict.is_err(), "the shape is not namespace-well-formed");
    let report = fixture.verifier().verify(xml.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalPassed, None),
        "{}",
        json(&report)
    );
    let warnings = &package_of(&report).warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.to_string().contains("prefix edXML:")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.to_string().contains("prefix xlink:")),
        "{warnings:?}"
    );

    // Signed by a producer on libxml2 (xmlsec1) over the bytes as they are: kyso reads the
    // signed content as libxml2 does, so it agrees with xmlsec1, and says the package is not
    // namespace-well-formed.
    let template = build::package(Shape::Legacy, Envelope::Template, &Facts::default(), &parts);
    let signed = build::xmlsec1_signed(fixture.dir.path(), &template);
    assert!(
        build::xmlsec1_verifies(fixture.dir.path(), &signed).0,
        "xmlsec1 reads it in recovery"
    );
    let report = fixture.verifier().verify(&signed);
    assert_eq!(report.signatures.len(), 1, "{}", json(&report));
    let envelope = &report.signatures[0];
    assert_eq!(
        envelope.indication,
        Indication::TotalPassed,
        "{}",
        json(&report)
    );
    assert!(
        envelope
            .warnings
            .iter()
            .any(|w| w.to_string().contains("not namespace-well-formed")),
        "{:?}",
        envelope.warnings
    );
    assert_eq!(verdict(&report), (Indication::TotalPassed, None));
    let package = package_of(&report);
    assert!(
        package
            .warnings
            .iter()
            .any(|w| w.to_string().contains("prefix edXML:")),
        "{:?}",
        package.warnings
    );
    assert_eq!(
        package.attachments[0].indication,
        Some(Indication::TotalPassed),
        "{}",
        json(&report)
    );

    // A change inside the part whose prefix is undeclared is still found, by the envelope
    // signature and by the document's own.
    let text = String::from_utf8(signed).unwrap();
    // The last AttachmentName is the attachment's own, outside the envelope.
    let name = "<edXML:AttachmentName>QD-123.pdf</edXML:AttachmentName>";
    let at = text.rfind(name).unwrap();
    assert!(at > text.find("</edXML:edXMLEnvelope>").unwrap());
    let changed = format!(
        "{}<edXML:AttachmentName>QD-124.pdf</edXML:AttachmentName>{}",
        &text[..at],
        &text[at + name.len()..]
    );
    assert_ne!(changed, text);
    assert!(!build::xmlsec1_verifies(fixture.dir.path(), changed.as_bytes()).0);
    let report = fixture.verifier().verify(changed.as_bytes());
    assert_eq!(
        report.signatures[0].sub_indication,
        Some(SubIndication::HashFailure),
        "{}",
        json(&report)
    );
    assert_eq!(report.indication, Indication::TotalFailed);
    // And the placeholder kyso binds undeclared prefixes to is not accepted from a package.
    let forged = text.replacen(
        "<edXML:AttachmentEncoded>",
        "<edXML:AttachmentEncoded xmlns:edXML=\"urn:kyso:undeclared-prefix:edXML\">",
        1,
    );
    let report = fixture.verifier().verify(forged.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
        "{}",
        json(&report)
    );
}

#[test]
fn an_unqualified_signature_is_read_as_xmldsig_and_verifies() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let template = build::package(
        Shape::Sdk,
        Envelope::Template,
        &Facts::default(),
        &[part("209", "QD-123.pdf", pdf, true)],
    );
    let signed = String::from_utf8(build::xmlsec1_signed(fixture.dir.path(), &template)).unwrap();
    // The current SDK sample's defect: the Signature carries no namespace of its own.
    let declaration = format!("<Signature xmlns=\"{}\">", build::DSIG);
    assert!(signed.contains(&declaration));
    let unqualified = signed.replacen(&declaration, "<Signature>", 1);
    let report = fixture.verifier().verify(unqualified.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalPassed, None),
        "{}",
        json(&report)
    );
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.signatures[0].indication, Indication::TotalPassed);
    assert!(
        package_of(&report).warnings.iter().any(|w| w
            .to_string()
            .contains("QCVN 102:2016 namespace, not XMLDSig's")),
        "{}",
        json(&report)
    );
    // The same package as signed verifies too, with no repair.
    let report = fixture.verifier().verify(signed.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalPassed, None),
        "{}",
        json(&report)
    );
    assert!(package_of(&report).warnings.is_empty());
}

#[test]
fn a_tampered_attachment_fails_the_package() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let mut tampered = pdf.clone();
    let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
    tampered[at] = b't';
    for zipped in [true, false] {
        let xml = build::package(
            Shape::Sdk,
            Envelope::Unsigned,
            &Facts::default(),
            &[part("1", "QD-123.pdf", tampered.clone(), zipped)],
        );
        let report = fixture.verifier().verify(xml.as_bytes());
        assert_eq!(
            verdict(&report),
            (Indication::TotalFailed, Some(SubIndication::HashFailure)),
            "{}",
            json(&report)
        );
        assert!(
            report.reasons[0]
                .to_string()
                .contains("cid:1 \"QD-123.pdf\""),
            "{:?}",
            report.reasons
        );
    }
    // Signed envelope, then an attachment changed in transit: both the envelope signature and
    // the document say so.
    let template = build::package(
        Shape::Sdk,
        Envelope::Template,
        &Facts::default(),
        &[part("1", "QD-123.pdf", pdf.clone(), false)],
    );
    let signed = String::from_utf8(build::xmlsec1_signed(fixture.dir.path(), &template)).unwrap();
    let report = fixture.verifier().verify(signed.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalPassed, None),
        "{}",
        json(&report)
    );
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let swapped = signed.replace(&b64(&pdf), &b64(&tampered));
    assert_ne!(swapped, signed);
    let report = fixture.verifier().verify(swapped.as_bytes());
    assert_eq!(report.indication, Indication::TotalFailed);
    assert_eq!(
        report.signatures[0].sub_indication,
        Some(SubIndication::HashFailure)
    );
    assert_eq!(
        package_of(&report).attachments[0].sub_indication,
        Some(SubIndication::HashFailure)
    );
}

#[test]
fn a_header_that_names_another_document_is_not_passed() {
    let fixture = Fixture::new();
    // The signed PDF is decision 124, of 16 March; the header says 123, of 15 March, and
    // another signer.
    let pdf = fixture.signed_pdf("Ban hành Quyết định số 124/QĐ-UBND ngày 16/03/2026");
    let facts = Facts {
        signer: "Trần Thị Bình".to_owned(),
        ..Facts::default()
    };
    let xml = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &facts,
        &[part("1", "QD-123.pdf", pdf, true)],
    );
    let report = fixture.verifier().verify(xml.as_bytes());
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        ),
        "{}",
        json(&report)
    );
    let number = check(&report, "number");
    assert_eq!(number.outcome, CheckOutcome::Mismatch);
    assert_eq!(number.found.as_deref(), Some("124/qđ-ubnd"));
    assert!(number.source.as_deref().unwrap().contains("/Reason"));
    assert_eq!(
        check(&report, "promulgation_date").outcome,
        CheckOutcome::Mismatch
    );
    assert_eq!(
        check(&report, "signer_name").outcome,
        CheckOutcome::Mismatch
    );
    // No matching signer, no certificate to compare the position with.
    assert_eq!(
        check(&report, "signer_position").outcome,
        CheckOutcome::NotFound
    );
    assert!(
        report.reasons.iter().any(|r| r
            .to_string()
            .contains("the header's number is \"123/QĐ-UBND\"")),
        "{:?}",
        report.reasons
    );
    // The document itself is still valid, and says so.
    assert_eq!(
        package_of(&report).attachments[0].indication,
        Some(Indication::TotalPassed)
    );
    // A position the certificate contradicts is a finding too.
    let facts = Facts {
        position: "Phó Chủ tịch".to_owned(),
        ..Facts::default()
    };
    let pdf = fixture.signed_pdf(REASON);
    let xml = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &facts,
        &[part("1", "a.pdf", pdf, true)],
    );
    let report = fixture.verifier().verify(xml.as_bytes());
    assert_eq!(
        report.indication,
        Indication::Indeterminate,
        "{}",
        json(&report)
    );
    assert_eq!(
        check(&report, "signer_position").outcome,
        CheckOutcome::Mismatch
    );
    assert_eq!(check(&report, "number").outcome, CheckOutcome::Match);
}

#[test]
fn malformed_and_incomplete_packages_get_their_verdicts() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let good = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &Facts::default(),
        &[part("1", "QD-123.pdf", pdf.clone(), true)],
    );
    let verifier = fixture.verifier();
    // Stray bytes before the XML declaration (one copy of the SDK's sample has them).
    let report = verifier.verify(format!("1212{good}").as_bytes());
    assert_eq!(report.format, "edxml");
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure))
    );
    assert!(
        report.reasons[0].to_string().contains("stray bytes"),
        "{:?}",
        report.reasons
    );
    // An attachment that is not base64: the package is malformed.
    let broken = good.replacen("<ContentTransferEncoded>", "<ContentTransferEncoded>!!", 1);
    let report = verifier.verify(broken.as_bytes());
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
        "{}",
        json(&report)
    );
    // The manifest lists an attachment the package does not carry.
    let missing = good.replacen("</edXML:edXMLManifest>", "<edXML:Reference><edXML:ContentId>cid:2</edXML:ContentId><edXML:AttachmentName>PhuLuc.pdf</edXML:AttachmentName></edXML:Reference></edXML:edXMLManifest>", 1);
    let report = verifier.verify(missing.as_bytes());
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        ),
        "{}",
        json(&report)
    );
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.to_string().contains("cid:2 \"PhuLuc.pdf\""))
    );
    // A zip bomb as an attachment: not read, could not check.
    let bomb = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &Facts::default(),
        &[part("1", "QD-123.pdf", vec![b'0'; 8 * 1024 * 1024], true)],
    );
    let report = verifier.verify(bomb.as_bytes());
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound)
        ),
        "{}",
        json(&report)
    );
    assert!(
        package_of(&report).attachments[0].reasons[0]
            .to_string()
            .contains("zip bomb")
    );
    // Nothing signed at all.
    let unsigned = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &Facts::default(),
        &[part("1", "notes.docx", b"just text".to_vec(), true)],
    );
    let report = verifier.verify(unsigned.as_bytes());
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound)
        )
    );
}

/// The header of the packages kyso builds in these tests.
pub fn header(receiver: &str) -> Header {
    serde_json::from_value(serde_json::json!({
        "from": {"organ_id": "000.00.00.H99", "organ_name": "UBND tỉnh Thử Nghiệm"},
        "to": [{"organ_id": receiver, "organ_name": "Sở Tư pháp tỉnh Thử Nghiệm"}],
        "code": {"number": "123", "notation": "QĐ-UBND"},
        "promulgation": {"place": "Thử Nghiệm", "date": "2026-03-15"},
        "document_type": {"type": "1", "type_name": "Quyết định"},
        "subject": "Về việc thử nghiệm gói tin edXML",
        "signer": {"position": "Chủ tịch", "full_name": "Nguyễn Văn An"}
    }))
    .unwrap()
}

#[test]
fn packages_kyso_builds_and_signs_verify_with_kyso_and_xmlsec1() {
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let at = time::OffsetDateTime::now_utc();
    let attachments = [
        AttachmentInput {
            name: "Quyết định 123.pdf".to_owned(),
            bytes: pdf,
            description: Some("Quyết định".to_owned()),
        },
        AttachmentInput {
            name: "Phụ lục.docx".to_owned(),
            bytes: b"appendix".to_vec(),
            description: None,
        },
    ];
    let unsigned = kyso::edxml::pack(&header("000.01.31.H99"), &attachments, at).unwrap();
    let report = fixture.verifier().verify(&unsigned);
    assert_eq!(
        verdict(&report),
        (Indication::TotalPassed, None),
        "{}",
        json(&report)
    );
    assert_eq!(
        package_of(&report).header.document_id.as_deref(),
        Some("000.00.00.H99,2026/03/15,123/QĐ-UBND")
    );

    for form in [XmlForm::XmlDsig, XmlForm::Xades] {
        let signing = kyso::signing::Signing {
            key: &fixture.unit,
            level: Level::BaselineB,
            tsa: None,
            trust: None,
            at,
            algorithms: Default::default(),
        };
        let (signed, _) = kyso::edxml::pack::sign(&unsigned, &signing, form).unwrap();
        let report = fixture.verifier().verify(&signed);
        assert_eq!(
            verdict(&report),
            (Indication::TotalPassed, None),
            "{form:?}: {}",
            json(&report)
        );
        assert_eq!(report.signatures.len(), 1);
        assert!(
            package_of(&report)
                .warnings
                .iter()
                .any(|w| w.to_string().contains("the envelope signature covers it")),
            "{}",
            json(&report)
        );
        // Where the standard's samples put it: the last child of edXMLHeader.
        let text = String::from_utf8(signed.clone()).unwrap();
        let header_end = text.find("</edXML:edXMLHeader>").unwrap();
        let signature_end = text.find("</ds:Signature>").unwrap();
        assert!(signature_end < header_end);
        assert!(text[signature_end..header_end] == *"</ds:Signature>");
        // Enveloped, Exclusive C14N, SHA-256, as the issue asks of outgoing packages.
        let signature = &text[text.find("<ds:Signature").unwrap()..signature_end];
        assert!(signature.contains("#enveloped-signature"), "{signature}");
        assert!(
            signature.contains(
                "CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\""
            ),
            "{signature}"
        );
        assert!(
            signature
                .contains("DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\""),
            "{signature}"
        );
        assert!(signature.contains("<ds:Reference URI=\"\""), "{signature}");
        if form == XmlForm::XmlDsig {
            let (ok, log) = build::xmlsec1_verifies(fixture.dir.path(), &signed);
            assert!(ok, "xmlsec1: {log}");
        }
    }
}

#[test]
fn kyso_edxml_pack_and_verify_on_the_command_line() {
    use crate::cli::{kyso, text};
    let fixture = Fixture::new();
    std::fs::write(fixture.path("QD-123.pdf"), fixture.signed_pdf(REASON)).unwrap();
    std::fs::write(fixture.path("PhuLuc.docx"), b"appendix").unwrap();
    std::fs::write(
        fixture.path("header.json"),
        serde_json::to_vec(&header("000.01.31.H99")).unwrap(),
    )
    .unwrap();
    let out = kyso()
        .args(["edxml", "pack"])
        .arg(fixture.path("QD-123.pdf"))
        .arg(fixture.path("out.edxml"))
        .arg("--appendix")
        .arg(fixture.path("PhuLuc.docx"))
        .arg("--header")
        .arg(fixture.path("header.json"))
        .args(["--subject", "Về việc thử nghiệm (sửa)"])
        .arg("--key")
        .arg(&fixture.unit_uri)
        .arg("--chain")
        .arg(fixture.path("intermediate.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let verify = |file: &Path, extra: &[&str]| {
        kyso()
            .arg("verify")
            .arg("--trust")
            .arg(fixture.path("root.pem"))
            .args(["--revocation", "offline", "--crl"])
            .arg(fixture.path("intermediate.crl"))
            .arg("--crl")
            .arg(fixture.path("root.crl"))
            .args(extra)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = verify(&fixture.path("out.edxml"), &["--lang", "en"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let words = text(&out);
    assert!(words.contains("edXML package"), "{words}");
    assert!(words.contains("QD-123.pdf"), "{words}");
    assert!(words.contains("Về việc thử nghiệm (sửa)"), "{words}");
    let (ok, log) = build::xmlsec1_verifies(
        fixture.dir.path(),
        &std::fs::read(fixture.path("out.edxml")).unwrap(),
    );
    assert!(ok, "xmlsec1: {log}");
    // A header that leaves out what a package needs is refused before the key is used.
    let out = kyso()
        .args(["edxml", "pack"])
        .arg(fixture.path("QD-123.pdf"))
        .arg(fixture.path("bad.edxml"))
        .args(["--from-organ-id", "000.00.00.H99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("required to build a package"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_batch_record_files_each_package_as_incoming_to_its_receiving_unit() {
    use crate::cli::{kyso, text};
    use kyso::ledger::sqlite::{Durability, SqliteStore};
    use kyso::ledger::{Indication as Recorded, Store, TimeRange, Unit};
    let fixture = Fixture::new();
    let pdf = fixture.signed_pdf(REASON);
    let mut tampered = pdf.clone();
    let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
    tampered[at] = b't';
    let inbox = fixture.path("inbox");
    let write = |name: &str, facts: &Facts, bytes: &[u8]| {
        let path = inbox.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let xml = build::package(
            Shape::Sdk,
            Envelope::Unsigned,
            facts,
            &[part("1", "QD.pdf", bytes.to_vec(), true)],
        );
        std::fs::write(path, xml).unwrap();
    };
    // Two packages to the Department of Justice (one valid, one whose document was changed in
    // transit, with another document id), one to a unit outside the ledger.
    write("a.edxml", &Facts::default(), &pdf);
    write(
        "b.edxml",
        &Facts {
            number: "124".to_owned(),
            ..Facts::default()
        },
        &tampered,
    );
    write(
        "c.edxml",
        &Facts {
            receiver: "000.99.99.H00".to_owned(),
            ..Facts::default()
        },
        &pdf,
    );
    let ledger = fixture.path("ledger.sqlite");
    {
        let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
        store
            .upsert_units(&[
                Unit {
                    code: "TINH".into(),
                    name: "UBND tỉnh Thử Nghiệm".into(),
                    level: "province".into(),
                    parent: None,
                },
                Unit {
                    code: "STP".into(),
                    name: "Sở Tư pháp".into(),
                    level: "department".into(),
                    parent: Some("TINH".into()),
                },
            ])
            .unwrap();
    }
    std::fs::write(fixture.path("units.csv"), "match,unit\n000.01.31.H99,STP\n").unwrap();
    let record = || {
        kyso()
            .arg("verify")
            .arg("--trust")
            .arg(fixture.path("root.pem"))
            .args(["--revocation", "offline", "--crl"])
            .arg(fixture.path("intermediate.crl"))
            .arg("--crl")
            .arg(fixture.path("root.crl"))
            .arg("--batch")
            .arg(&inbox)
            .arg("--record")
            .arg("--unit-map")
            .arg(fixture.path("units.csv"))
            .arg("--ledger")
            .arg(&ledger)
            .output()
            .unwrap()
    };
    let out = record();
    let words = text(&out);
    // One package did not pass and one could not be attributed: exit 1.
    assert_eq!(out.status.code(), Some(1), "{words}");
    assert!(words.contains("incoming edXML packages: 2"), "{words}");
    assert!(words.contains("no unit: 1"), "{words}");
    assert!(words.contains("c.edxml"), "{words}");
    assert!(words.contains("000.99.99.H00"), "{words}");
    let counts = |ledger: &Path| {
        let mut store = SqliteStore::open(ledger, Durability::Normal).unwrap();
        assert_eq!(store.totals().unwrap().incoming, 2);
        let all = TimeRange {
            start: time::OffsetDateTime::UNIX_EPOCH,
            end: time::OffsetDateTime::now_utc() + time::Duration::days(1),
        };
        let mut counts: Vec<(String, Recorded, Option<String>, u64)> = store
            .incoming_counts(all)
            .unwrap()
            .into_iter()
            .map(|c| (c.unit, c.indication, c.sub_indication, c.count))
            .collect();
        counts.sort_by_key(|c| format!("{c:?}"));
        counts
    };
    let expected = vec![
        (
            "STP".to_owned(),
            Recorded::TotalFailed,
            Some("HASH_FAILURE".to_owned()),
            1,
        ),
        ("STP".to_owned(), Recorded::TotalPassed, None, 1),
    ];
    assert_eq!(counts(&ledger), expected);
    // Again: the same packages are the same incoming documents, never counted twice.
    let out = record();
    assert!(
        text(&out).contains("incoming edXML packages: 2"),
        "{}",
        text(&out)
    );
    assert_eq!(counts(&ledger), expected);
}
