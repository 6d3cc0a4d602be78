//! Documents that stay verifiable after their certificates expire: PAdES B-LTA signing,
//! augmenting signed documents (`kyso::extend`, `kyso extend`), and verification through
//! document time-stamps at a time after every certificate of the first round expired. Real
//! services throughout: `openssl ts` TSAs, `openssl ocsp`, CRLs over HTTP on the loopback
//! front; the results judged by pyHanko, pdfsig and qpdf.

use kyso::extend::{Extension, Outcome, Refusal, Step, Target};
use kyso::pades::{Level, LongTerm, Tsa as TsaEndpoint};
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{Document, SignatureKind, find_signatures};
use kyso::pki::{Certificate, RevocationSource, TrustStore};
use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{Indication, Revocation, SubIndication, Verifier, VerifyOptions};
use time::{Duration, OffsetDateTime};

use crate::pdf_levels::{
    World, assert_pdfsig_and_qpdf, online, pyhanko_offline, pyhanko_sign, sign, validator, world,
};
use crate::support::responders::Tsa;

/// Three years on: the signer's and the first TSA's certificates (two years) have expired, the
/// CAs (ten years) and the archive TSA (nine) have not.
fn three_years_on() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(3 * 365)
}

/// A second TSA of `w`'s PKI whose certificate lives nine years, served at `/archive-tsa`.
fn archive_tsa(w: &World) -> (Tsa, TsaEndpoint) {
    let pki = &w.signing.pki;
    let (certificate, key) = pki
        .issue_tsa_until("kyso archive TSA", pki.at() + Duration::days(9 * 365))
        .unwrap();
    w.ocsp.set_index(&pki.ocsp_index());
    let tsa = Tsa::new(
        &certificate.pem(),
        &key.serialize_pem(),
        &pki.intermediate.pem(),
    );
    w.front.serve_tsa("/archive-tsa", &tsa);
    (tsa, TsaEndpoint::new(w.front.url("/archive-tsa")))
}

fn verifier(pki: &kyso::testpki::TestPki, at: OffsetDateTime, revocation: Revocation) -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(Certificate::from_der(pki.root.der()).unwrap());
    let mut options = VerifyOptions::new(trust, at);
    options.revocation = revocation;
    Verifier::new(options)
}

/// Each signature's (format, indication, sub-indication), document time-stamps included.
fn verdicts(verifier: &Verifier, bytes: &[u8]) -> Vec<(String, Indication, Option<SubIndication>)> {
    let report = verifier.verify(bytes);
    report
        .signatures
        .iter()
        .map(|s| {
            if s.indication != Indication::TotalPassed {
                eprintln!("{} {:?} {:?}", s.name, s.sub_indication, s.reasons);
            }
            (s.format.clone(), s.indication, s.sub_indication)
        })
        .collect()
}

fn kinds(bytes: &[u8]) -> Vec<SignatureKind> {
    let doc = Document::parse(bytes).unwrap();
    find_signatures(&doc)
        .unwrap()
        .iter()
        .map(|s| s.kind)
        .collect()
}

fn extend(w: &World, tsa: &TsaEndpoint, input: &[u8], target: Target) -> Outcome {
    let verifier = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Online,
    );
    Extension {
        verifier: &verifier,
        tsa,
        renew_before: Duration::days(90),
    }
    .extend(input, target)
    .unwrap()
}

fn extended(outcome: Outcome) -> (Vec<u8>, Vec<Step>) {
    match outcome {
        Outcome::Extended {
            document, steps, ..
        } => (document, steps),
        other => panic!("not extended: {other:?}"),
    }
}

#[test]
fn b_lta_validates_offline_in_kyso_pyhanko_and_pdfsig() {
    let w = world(KeyAlgorithm::P256, "Phạm Thị Lan", SignerProfile::Valid);
    let v = validator(&[&w.signing.pki]);
    let online = online();
    let sources: [&dyn RevocationSource; 1] = [&online];
    let level = Level::BLTA {
        tsa: TsaEndpoint::new(w.tsa_url.clone()),
        validation: LongTerm {
            validator: &v,
            sources: &sources,
        },
    };
    let input = sample_pdf(&SampleOptions::default());
    let signed = sign(&w.signing, &input, &level).unwrap();
    assert_eq!(
        kinds(&signed),
        [SignatureKind::Signature, SignatureKind::DocumentTimestamp]
    );
    // The signed prefix is untouched: the original, then the signature's revision.
    assert_eq!(&signed[..input.len()], &input[..]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b-lta.pdf");
    std::fs::write(&path, &signed).unwrap();
    drop(w.front);

    let offline = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Offline,
    );
    assert_eq!(
        verdicts(&offline, &signed),
        [
            ("PAdES-B-LTA".to_owned(), Indication::TotalPassed, None),
            (
                "document timestamp".to_owned(),
                Indication::TotalPassed,
                None
            ),
        ]
    );
    // pyHanko's AdES process with a document time-stamp: a proof of existence in the past, so
    // PASSED where B-LT alone gives NO_POE (tests/pdf_levels.rs).
    let root = w.signing.root_pem();
    let pyhanko = pyhanko_offline(&path, &[&root]);
    assert!(
        pyhanko.contains(
            "Signature1 True AdESPassed.OK INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES"
        ),
        "pyHanko, offline, B-LTA: {pyhanko}"
    );
    // pdfsig checks the signature (it cannot check document time-stamps), qpdf the structure.
    assert_pdfsig_and_qpdf(&path, 1);
}

#[test]
fn an_extended_b_b_document_outlives_its_certificates() {
    let w = world(KeyAlgorithm::P256, "Vũ Minh Châu", SignerProfile::Valid);
    let (_archive, archive) = archive_tsa(&w);
    let input = sample_pdf(&SampleOptions::default());
    let b_b = sign(&w.signing, &input, &Level::BB).unwrap();

    let (lta, steps) = extended(extend(&w, &archive, &b_b, Target::Archive));
    assert_eq!(
        &lta[..b_b.len()],
        &b_b[..],
        "the signed bytes are untouched"
    );
    // The time, the evidence of the signer and of that time-stamp, the archive time-stamp; its
    // own evidence is already in (the same TSA made both time-stamps), so no second DSS.
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0], Step::Timestamp);
    assert!(matches!(steps[1], Step::ValidationData { certificates, .. } if certificates >= 3));
    assert_eq!(steps[2], Step::ArchiveTimestamp);
    assert_eq!(
        kinds(&lta),
        [
            SignatureKind::Signature,
            SignatureKind::DocumentTimestamp,
            SignatureKind::DocumentTimestamp
        ]
    );
    drop(w.front);

    // Now, offline: everything from the document.
    let now = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Offline,
    );
    assert_eq!(verdicts(&now, &lta)[0].0, "PAdES-B-LTA");
    assert_eq!(verdicts(&now, &lta)[0].1, Indication::TotalPassed);

    // Three years on, offline: the signer's certificate has expired; the document time-stamps
    // prove the signature existed while it was valid.
    let later = verifier(&w.signing.pki, three_years_on(), Revocation::Offline);
    let verdicts_later = verdicts(&later, &lta);
    assert!(
        verdicts_later
            .iter()
            .all(|(_, indication, _)| *indication == Indication::TotalPassed),
        "{verdicts_later:?}"
    );
    let report = later.verify(&lta);
    assert!(report.signatures[0].archive_time.is_some());
    // Protected until the archive TSA's certificate expires (nine years), which it names.
    let long_term = report
        .long_term
        .as_ref()
        .expect("a passing document's long-term status");
    assert!(long_term.protected);
    assert!(long_term.until > OffsetDateTime::now_utc() + Duration::days(8 * 365));
    assert!(
        long_term.certificate.contains("kyso archive TSA"),
        "{long_term:?}"
    );
    // The B-B original cannot even pass offline today (no evidence in it): no long-term
    // status for a document that does not pass.
    assert!(now.verify(&b_b).long_term.is_none());
    // The same signature not extended: no proof of existence before the expiry.
    assert_eq!(
        verdicts(&later, &b_b),
        [(
            "PAdES-B-B".to_owned(),
            Indication::Indeterminate,
            Some(SubIndication::OutOfBoundsNoPoe)
        )]
    );
}

#[test]
fn a_b_t_signature_outlives_its_tsa_only_when_archived() {
    let w = world(KeyAlgorithm::P256, "Đặng Quốc Huy", SignerProfile::Valid);
    let (_archive, archive) = archive_tsa(&w);
    let input = sample_pdf(&SampleOptions::default());
    let b_t = sign(
        &w.signing,
        &input,
        &Level::BT {
            tsa: TsaEndpoint::new(w.tsa_url.clone()),
        },
    )
    .unwrap();
    let (lta, steps) = extended(extend(&w, &archive, &b_t, Target::Archive));
    assert_ne!(steps[0], Step::Timestamp, "B-T has its time already");
    // Three years on the first TSA's certificate has expired too.
    let later = verifier(&w.signing.pki, three_years_on(), Revocation::Online);
    let archived = verdicts(&later, &lta);
    assert_eq!(archived[0].0, "PAdES-B-LTA");
    assert_eq!(archived[0].1, Indication::TotalPassed, "{archived:?}");
    let report = later.verify(&b_t);
    let signature = &report.signatures[0];
    assert_eq!(signature.indication, Indication::Indeterminate);
    assert_eq!(
        signature.sub_indication,
        Some(SubIndication::OutOfBoundsNoPoe)
    );
    assert!(
        signature
            .warnings
            .iter()
            .any(|w| w.code() == "timestamp_ignored"),
        "the expired TSA's time-stamp is named: {:?}",
        signature.warnings
    );
}

#[test]
fn extension_refuses_what_does_not_verify_and_renews_what_is_expiring() {
    let w = world(KeyAlgorithm::P256, "Bùi Thị Hạnh", SignerProfile::Valid);
    let tsa = TsaEndpoint::new(w.tsa_url.clone());
    let input = sample_pdf(&SampleOptions::default());
    let b_b = sign(&w.signing, &input, &Level::BB).unwrap();

    // Unsigned, tampered, not a PDF: refused, with the report's reason.
    match extend(&w, &tsa, &input, Target::Archive) {
        Outcome::Refused { refusal, .. } => assert_eq!(refusal, Refusal::NoSignature),
        other => panic!("{other:?}"),
    }
    let mut tampered = b_b.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    match extend(&w, &tsa, &tampered, Target::Archive) {
        Outcome::Refused {
            refusal: Refusal::NotValid { indication, .. },
            ..
        } => assert_eq!(indication, "TOTAL-FAILED"),
        other => panic!("{other:?}"),
    }
    match extend(&w, &tsa, b"<a/>", Target::Archive) {
        Outcome::Refused { refusal, .. } => assert_eq!(refusal, Refusal::NotPdf),
        other => panic!("{other:?}"),
    }

    // To B-T, then B-LT: each step only what is missing; B-LT again: nothing.
    let (b_t, steps) = extended(extend(&w, &tsa, &b_b, Target::Timestamp));
    assert_eq!(steps, [Step::Timestamp]);
    let (b_lt, steps) = extended(extend(&w, &tsa, &b_t, Target::LongTerm));
    assert!(matches!(steps.as_slice(), [Step::ValidationData { .. }]));
    assert!(matches!(
        extend(&w, &tsa, &b_lt, Target::LongTerm),
        Outcome::Unchanged { .. }
    ));
    let (lta, _) = extended(extend(&w, &tsa, &b_lt, Target::Archive));
    match extend(&w, &tsa, &lta, Target::Archive) {
        Outcome::Unchanged {
            level,
            protected_until,
        } => {
            assert_eq!(level, "PAdES-B-LTA");
            assert!(protected_until.unwrap() > OffsetDateTime::now_utc() + Duration::days(365));
        }
        other => panic!("{other:?}"),
    }
    // The TSA's certificate expires in two years: with renewal due three years ahead, the
    // archive is re-time-stamped, after the evidence of the time-stamp it renews.
    let verifier = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Online,
    );
    let renewed = Extension {
        verifier: &verifier,
        tsa: &tsa,
        renew_before: Duration::days(3 * 365),
    }
    .extend(&lta, Target::Archive)
    .unwrap();
    let (renewed, steps) = extended(renewed);
    assert!(
        steps.iter().any(|s| matches!(s, Step::Renewal { .. })),
        "{steps:?}"
    );
    assert_eq!(&renewed[..lta.len()], &lta[..]);
    assert_eq!(kinds(&renewed).len(), 4);
    assert!(
        verdicts(&verifier, &renewed)
            .iter()
            .all(|(_, i, _)| *i == Indication::TotalPassed)
    );
}

/// pyHanko signs at B-B (no time-stamp, no validation data); kyso extends it to B-LTA; pyHanko
/// and kyso both accept the result.
#[test]
fn a_pyhanko_b_b_signature_is_extended_to_b_lta() {
    let w = world(KeyAlgorithm::P256, "Lý Thu Trang", SignerProfile::Valid);
    let tsa = TsaEndpoint::new(w.tsa_url.clone());
    let dir = tempfile::tempdir().unwrap();
    // pyHanko's B-B: `--use-pades`, no time-stamp, no validation data.
    let peer = pyhanko_sign(&w, &sample_pdf(&SampleOptions::default()), dir.path(), &[]);
    let signed = std::fs::read(peer).unwrap();
    let (lta, _) = extended(extend(&w, &tsa, &signed, Target::Archive));
    assert_eq!(&lta[..signed.len()], &signed[..]);
    let path = dir.path().join("peer-lta.pdf");
    std::fs::write(&path, &lta).unwrap();
    drop(w.front);
    let offline = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Offline,
    );
    let verdicts = verdicts(&offline, &lta);
    assert_eq!(verdicts[0].0, "PAdES-B-LTA", "{verdicts:?}");
    assert!(
        verdicts
            .iter()
            .all(|(_, i, _)| *i == Indication::TotalPassed)
    );
    // pyHanko's bottom line is True with the LTA updates recognised; its AdES "with time"
    // step wants a signature time-stamp inside the CMS and does not take the document
    // time-stamp as one, hence SIG_CONSTRAINTS_FAILURE (as for its own B-B signatures).
    let pyhanko = pyhanko_offline(&path, &[&w.signing.root_pem()]);
    assert!(
        pyhanko.contains("Peer True ")
            && pyhanko
                .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
        "pyHanko, offline, extended by kyso: {pyhanko}"
    );
}

/// `kyso extend`: files and a folder, refusals named, results that verify; `kyso verify` reads
/// the archive time-stamp.
#[test]
fn cli_extends_files_and_folders_and_names_refusals() {
    use crate::cli::{kyso, text};
    let w = world(KeyAlgorithm::P256, "Trịnh Văn Khoa", SignerProfile::Valid);
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox/2022");
    std::fs::create_dir_all(&inbox).unwrap();
    let input = sample_pdf(&SampleOptions::default());
    let b_b = sign(&w.signing, &input, &Level::BB).unwrap();
    std::fs::write(inbox.join("signed.pdf"), &b_b).unwrap();
    std::fs::write(inbox.join("unsigned.pdf"), &input).unwrap();
    let root = w.signing.root_pem();
    let out = dir.path().join("archive");
    let extend = |args: &[&str]| {
        kyso()
            .arg("extend")
            .args([
                "--to", "B-LTA", "--tsa", &w.tsa_url, "--lang", "en", "--trust",
            ])
            .arg(&root)
            .arg("--out")
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    let batch = extend(&["--batch", dir.path().join("inbox").to_str().unwrap()]);
    let said = text(&batch);
    assert_eq!(batch.status.code(), Some(1), "one refused: {said}");
    assert!(said.contains("PAdES-B-B → PAdES-B-LTA"), "{said}");
    assert!(
        said.contains("unsigned.pdf: not extended: the document has no signature"),
        "{said}"
    );
    assert!(
        said.contains("1 extended, 0 unchanged, 1 refused, 0 failed"),
        "{said}"
    );
    let extended = out.join("2022/signed.pdf");
    assert!(extended.exists() && !out.join("2022/unsigned.pdf").exists());
    // Again on the result: unchanged, exit 0.
    let again = extend(&[extended.to_str().unwrap(), "--json"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let line: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(line["outcome"], "unchanged");
    assert_eq!(line["level"], "PAdES-B-LTA");
    // An audit of the archive and the inbox: the extended copy is protected, the B-B original
    // needs extending.
    let audit = kyso()
        .args(["verify", "--batch"])
        .arg(dir.path())
        .arg("--trust")
        .arg(&root)
        .output()
        .unwrap();
    let said = text(&audit);
    assert!(
        said.contains("long term: 1 được bảo vệ / protected (B-LT, B-LTA), 1 cần gia hạn ngay"),
        "{said}"
    );
    // The same audit recorded in the ledger, each folder a unit's archive: the report says, per
    // unit, how many documents are protected and how many need extending.
    let books = tempfile::tempdir().unwrap();
    let ledger = books.path().join("ledger.sqlite");
    let units = books.path().join("units.csv");
    std::fs::write(
        &units,
        "code,name,level,parent\nTINH,UBND tỉnh,province,\nSTP,Sở Tư pháp,department,TINH\nVP,Văn phòng UBND,department,TINH\n",
    )
    .unwrap();
    let unit_map = books.path().join("unit-map.csv");
    std::fs::write(&unit_map, "match,unit\ninbox,STP\narchive,VP\n").unwrap();
    let imported = kyso()
        .args(["units", "import"])
        .arg(&units)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
    let recorded = kyso()
        .args(["verify", "--batch"])
        .arg(dir.path())
        .args([
            "--record",
            "--issued-at",
            "2026-11-20T09:00:00+07:00",
            "--trust",
        ])
        .arg(&root)
        .arg("--unit-map")
        .arg(&unit_map)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    let said = text(&recorded);
    assert!(said.contains("3 new audits"), "{said}");
    let report = kyso()
        .args([
            "report", "--period", "2026-11", "--format", "json", "--ledger",
        ])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0), "{}", text(&report));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let unit = |code: &str| {
        let row = report["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap()
            .clone();
        (
            row["own"]["long_term_protected"].as_u64().unwrap(),
            row["own"]["needs_extending"].as_u64().unwrap(),
        )
    };
    assert_eq!(unit("VP"), (1, 0), "the extended copy: {report}");
    assert_eq!(unit("STP"), (0, 1), "the B-B original: {report}");
    let table = kyso()
        .args(["report", "--period", "2026-11", "--ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    let said = text(&table);
    assert!(
        said.contains("Cần gia hạn ngay/Need extending now"),
        "{said}"
    );
    drop(w.front);
    let verified = kyso()
        .args(["verify", "--json", "--revocation", "offline", "--trust"])
        .arg(&root)
        .arg(&extended)
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    let signature = &report["report"]["signatures"][0];
    assert_eq!(signature["format"], "PAdES-B-LTA");
    assert!(signature["archive_time"].is_string());
    // Usage errors: no TSA, an unknown level.
    let no_tsa = kyso()
        .args(["extend", "--out", "x", "--trust"])
        .arg(&root)
        .arg(&extended)
        .env_remove("KYSO_TSA_URL")
        .output()
        .unwrap();
    assert_eq!(no_tsa.status.code(), Some(2));
    assert!(text(&no_tsa).contains("time-stamping authority"));
    let bad_level = kyso()
        .args(["extend", "--to", "B-X", "--out", "x"])
        .arg(&extended)
        .output()
        .unwrap();
    assert_eq!(bad_level.status.code(), Some(2));
}

/// pyHanko's own B-LTA (`--use-pades-lta`: its DSS and document time-stamp, in its order and
/// shapes): kyso reads it as B-LTA now, renews it with a long-lived archive TSA, and the renewed
/// document still verifies three years on, when pyHanko's time-stamps and the signer have
/// expired; pyHanko's original does not.
#[test]
fn a_pyhanko_b_lta_is_read_renewed_and_outlives_its_certificates() {
    let w = world(KeyAlgorithm::P256, "Ngô Bảo Ngọc", SignerProfile::Valid);
    let (_archive, archive) = archive_tsa(&w);
    let dir = tempfile::tempdir().unwrap();
    let root = w.signing.root_pem();
    let lta = [
        "--use-pades-lta",
        "--with-validation-info",
        "--timestamp-url",
        &w.tsa_url,
        "--trust-replace",
        "--trust",
        root.to_str().unwrap(),
    ];
    let peer = pyhanko_sign(&w, &sample_pdf(&SampleOptions::default()), dir.path(), &lta);
    let peer = std::fs::read(peer).unwrap();
    assert_eq!(
        kinds(&peer),
        [SignatureKind::Signature, SignatureKind::DocumentTimestamp]
    );
    let online = verifier(
        &w.signing.pki,
        OffsetDateTime::now_utc(),
        Revocation::Online,
    );
    let now = verdicts(&online, &peer);
    assert_eq!(now[0].0, "PAdES-B-LTA", "{now:?}");
    assert!(
        now.iter().all(|(_, i, _)| *i == Indication::TotalPassed),
        "{now:?}"
    );

    let renewed = Extension {
        verifier: &online,
        tsa: &archive,
        renew_before: Duration::days(3 * 365),
    }
    .extend(&peer, Target::Archive)
    .unwrap();
    let (renewed, steps) = extended(renewed);
    assert!(
        steps.iter().any(|s| matches!(s, Step::Renewal { .. })),
        "{steps:?}"
    );
    assert_eq!(&renewed[..peer.len()], &peer[..]);
    drop(w.front);

    let later = verifier(&w.signing.pki, three_years_on(), Revocation::Offline);
    let renewed_later = verdicts(&later, &renewed);
    assert!(
        renewed_later
            .iter()
            .all(|(_, i, _)| *i == Indication::TotalPassed),
        "{renewed_later:?}"
    );
    let original_later = verdicts(&later, &peer);
    assert_eq!(
        (original_later[0].1, original_later[0].2),
        (
            Indication::Indeterminate,
            Some(SubIndication::OutOfBoundsNoPoe)
        ),
        "{original_later:?}"
    );
}
