//! The Decree 30/2020/NĐ-CP form checks on documents signed through SoftHSM with certificates
//! shaped as Vietnamese CAs issue them (a person's with `CCCD:` and a title, the agency's with
//! `MST:`): in due form, agency first, agency missing, and an edXML package's attachments. The
//! ETSI indication is the same with and without the checks.

use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signing::{KeyMaterial, Level};
use kyso::testpki::{PkiOptions, SignerName, TestPki};
use kyso::verify::decree30::Rule;
use kyso::verify::{DocumentReport, Indication, Verifier};

use crate::edxml::build::{self, Envelope, Facts, Part, Shape};
use crate::edxml::token_key;
use crate::support::verifier_for;

/// The chairman (a person: CCCD and a title) and the People's Committee (an organisation: MST),
/// both under one test PKI, and its files for a verifier.
struct Signers {
    person: KeyMaterial,
    agency: KeyMaterial,
    /// A second person, for documents the agency never signed.
    deputy: KeyMaterial,
    dir: tempfile::TempDir,
}

impl Signers {
    fn new() -> Signers {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let person = SignerName::new("Nguyễn Văn An", "UBND tỉnh Thử Nghiệm", "Văn phòng UBND")
            .with_title("Chủ tịch")
            .with_uid("CCCD:001090012345");
        let deputy = SignerName::new("Lê Thị Hoa", "UBND tỉnh Thử Nghiệm", "Văn phòng UBND")
            .with_title("Phó Chủ tịch")
            .with_uid("CCCD:001190054321");
        let agency = SignerName::new(
            "UBND tỉnh Thử Nghiệm",
            "UBND tỉnh Thử Nghiệm",
            "Văn phòng UBND",
        )
        .with_uid("MST:0101234567");
        let dir = tempfile::tempdir().unwrap();
        pki.write_authorities(dir.path()).unwrap();
        Signers {
            person: token_key(&pki, &person).0,
            agency: token_key(&pki, &agency).0,
            deputy: token_key(&pki, &deputy).0,
            dir,
        }
    }

    fn verifier(&self) -> Verifier {
        verifier_for(self.dir.path())
    }
}

/// `pdf` signed by each key in turn, B-B, through the one signing path.
fn signed_by(pdf: Vec<u8>, keys: &[&KeyMaterial]) -> Vec<u8> {
    keys.iter().fold(pdf, |pdf, key| {
        let signing = kyso::signing::Signing {
            key,
            level: Level::BaselineB,
            tsa: None,
            trust: None,
            at: time::OffsetDateTime::now_utc(),
            algorithms: Default::default(),
        };
        let options = SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
        signing.pdf(&pdf, options).unwrap().to_vec()
    })
}

fn letter() -> Vec<u8> {
    sample_pdf(&SampleOptions::default())
}

/// The report with and without the checks: the checks add a line and change nothing else.
fn checked(verifier: &Verifier, bytes: &[u8]) -> DocumentReport {
    let plain = verifier.verify(bytes);
    let mut report = verifier.verify(bytes);
    report.check_decree30();
    assert_eq!(
        (report.indication, report.sub_indication),
        (plain.indication, plain.sub_indication),
        "the Decree 30 checks never change the ETSI indication"
    );
    assert!(plain.decree30.is_none());
    report
}

fn rules(report: &DocumentReport) -> Vec<Rule> {
    let check = report.decree30.as_ref().expect("checked");
    check.missing.iter().map(|f| f.rule).collect()
}

#[test]
fn person_then_agency_is_in_due_form_and_the_other_orders_are_named() {
    let signers = Signers::new();
    let verifier = signers.verifier();

    let due = checked(
        &verifier,
        &signed_by(letter(), &[&signers.person, &signers.agency]),
    );
    assert_eq!(due.indication, Indication::TotalPassed);
    let check = due.decree30.as_ref().unwrap();
    assert!(check.passed, "{check:?}");
    assert!(check.summary_vi.contains("đúng thể thức"));
    let json = serde_json::to_value(&due).unwrap();
    assert_eq!(json["decree30"]["passed"], true);
    assert_eq!(
        json["decree30"]["summary_en"],
        "Signature form (Decree 30/2020/NĐ-CP): in due form"
    );

    // The agency first: both signatures valid, the form is not (Art. 32).
    let reversed = checked(
        &verifier,
        &signed_by(letter(), &[&signers.agency, &signers.person]),
    );
    assert_eq!(reversed.indication, Indication::TotalPassed);
    assert_eq!(rules(&reversed), [Rule::AgencyBeforePerson]);
    let check = reversed.decree30.as_ref().unwrap();
    assert!(!check.passed);
    assert!(
        check.summary_vi.contains("chưa đúng thể thức") && check.summary_vi.contains("Điều 32"),
        "{}",
        check.summary_vi
    );
    let json = serde_json::to_value(&reversed).unwrap();
    assert_eq!(
        json["decree30"]["missing"][0]["rule"],
        "agency_before_person"
    );

    // People only: the agency's signature is missing.
    let people = checked(
        &verifier,
        &signed_by(letter(), &[&signers.deputy, &signers.person]),
    );
    assert_eq!(rules(&people), [Rule::NoAgencySignature]);
    assert!(
        people.decree30.as_ref().unwrap().missing[0]
            .message_en
            .contains("Nguyễn Văn An")
    );

    // The agency alone, as on an attachment or a copy.
    let attachment = checked(&verifier, &signed_by(letter(), &[&signers.agency]));
    assert!(attachment.decree30.as_ref().unwrap().passed);

    // Unsigned: nothing to be in form.
    assert_eq!(rules(&checked(&verifier, &letter())), [Rule::NoSignature]);
}

#[test]
fn every_attachment_of_a_package_must_carry_the_agency_signature() {
    let signers = Signers::new();
    let verifier = signers.verifier();
    let main = signed_by(letter(), &[&signers.person, &signers.agency]);
    let annex_of_agency = signed_by(letter(), &[&signers.agency]);
    let annex_of_person = signed_by(letter(), &[&signers.person]);
    let pdf = |id: &str, name: &str, bytes: &Vec<u8>| {
        Part::new(id, name, "application/pdf", bytes.clone(), true)
    };

    let good = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &Facts::default(),
        &[
            pdf("301", "QD-123.pdf", &main),
            pdf("302", "PhuLuc.pdf", &annex_of_agency),
        ],
    );
    let report = checked(&verifier, good.as_bytes());
    assert!(
        report.decree30.as_ref().unwrap().passed,
        "{:?}",
        report.decree30
    );

    let bad = build::package(
        Shape::Sdk,
        Envelope::Unsigned,
        &Facts::default(),
        &[
            pdf("301", "QD-123.pdf", &main),
            pdf("302", "PhuLuc.pdf", &annex_of_person),
            Part::new(
                "303",
                "GhiChu.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"a Word file: no signature kyso can check".to_vec(),
                true,
            ),
        ],
    );
    let report = checked(&verifier, bad.as_bytes());
    assert_eq!(
        rules(&report),
        [Rule::NoAgencySignature, Rule::AttachmentNotSigned],
        "{:?}",
        report.decree30
    );
    let check = report.decree30.as_ref().unwrap();
    assert!(
        check.missing[0]
            .message_vi
            .starts_with("tệp đính kèm \"PhuLuc.pdf\"")
    );
    assert!(check.missing[1].message_en.contains("GhiChu.docx"));
}

#[test]
fn kyso_verify_check_decree30_prints_its_own_line() {
    let signers = Signers::new();
    let dir = tempfile::tempdir().unwrap();
    let due = dir.path().join("due.pdf");
    std::fs::write(
        &due,
        signed_by(letter(), &[&signers.person, &signers.agency]),
    )
    .unwrap();
    let reversed = dir.path().join("reversed.pdf");
    std::fs::write(
        &reversed,
        signed_by(letter(), &[&signers.agency, &signers.person]),
    )
    .unwrap();
    let root = signers.dir.path().join("root.pem");
    let verify = |file: &std::path::Path, extra: &[&str], env: &[(&str, &str)]| {
        let out = crate::cli::kyso()
            .envs(env.iter().copied())
            .args(["verify", "--revocation", "off", "--trust"])
            .arg(&root)
            .args(extra)
            .arg(file)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let line_vi = "Thể thức chữ ký số (Nghị định 30/2020/NĐ-CP): đúng thể thức";
    let (code, said) = verify(&due, &["--check", "decree30", "--lang", "vi"], &[]);
    assert!(said.contains(line_vi), "{said}");
    // Revocation off: INDETERMINATE, exit 1, whatever the form says.
    assert_eq!(code, Some(1), "{said}");
    let (_, said) = verify(&due, &["--lang", "vi"], &[]);
    assert!(!said.contains("Nghị định 30/2020"), "not asked: {said}");
    let (_, said) = verify(&due, &["--lang", "vi"], &[("KYSO_VERIFY_DECREE30", "true")]);
    assert!(said.contains(line_vi), "on by [verify] decree30: {said}");

    let (_, said) = verify(&reversed, &["--check", "decree30", "--lang", "en"], &[]);
    assert!(
        said.contains("Signature form (Decree 30/2020/NĐ-CP): not in due form")
            && said.contains("Art. 32"),
        "{said}"
    );
    let (_, said) = verify(&reversed, &["--check", "decree30", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_str(&said).unwrap();
    assert_eq!(json["report"]["decree30"]["passed"], false, "{said}");
    assert_eq!(
        json["report"]["decree30"]["missing"][0]["rule"],
        "agency_before_person"
    );

    let out = crate::cli::kyso()
        .args(["verify", "--check", "tcvn"])
        .arg(&due)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown check is a usage error"
    );
}
