//! Batch verification (issue 7): every file's batch verdict equals its one-file verdict; hostile
//! inputs (corrupt files, non-documents, unreadable entries, zip bombs) each get their own result
//! and the exit code says so; audit mode records once however often it runs, and the ledger's
//! verified rate matches; a revocation snapshot lets a batch run with no network.
//!
//! Documents are signed with software keys under a throwaway PKI ([`CorpusPki`]), all at one
//! fixed instant that every verification is also made at.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kyso::batch::corpus::{CorpusPki, Who, write};
use kyso::batch::{Batch, Limits, Outcome, Source, Summary};
use kyso::ledger::sqlite::{Durability, SqliteStore};
use kyso::ledger::{Declared, Event, Issued, LevelScheme, Period, ReportQuery, Store, Unit};
use kyso::testpki::{PkiOptions, SignerName};
use kyso::verify::{Revocation, Verifier, VerifyOptions};
use time::OffsetDateTime;
use time::macros::datetime;

/// The instant the PKI is built for and every check is made at.
const AT: OffsetDateTime = datetime!(2026-06-01 08:00 UTC);
const AT_TEXT: &str = "2026-06-01T08:00:00Z";

fn names() -> Vec<SignerName> {
    vec![
        SignerName::new("Nguyễn Văn An", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp"),
        SignerName::new("Trần Thị Bình", "UBND tỉnh Thử Nghiệm", "Sở Tài chính"),
    ]
}

/// A PKI with its authorities written into `dir`.
fn pki(dir: &Path) -> CorpusPki {
    let pki = CorpusPki::new(AT, &names()).unwrap();
    pki.write_authorities(dir).unwrap();
    pki
}

fn flip_signed_byte(mut pdf: Vec<u8>) -> Vec<u8> {
    let at = pdf.windows(5).position(|w| w == b"Trang").unwrap();
    pdf[at] ^= 0x01;
    pdf
}

/// Valid, tampered, revoked, untrusted, multi-signature, XML and non-document files.
fn mixed_corpus(pki: &CorpusPki, docs: &Path) {
    let valid = pki.pdf(1, 60_000, &[Who::Valid(0)]).unwrap();
    write(&docs.join("valid-1.pdf"), &valid).unwrap();
    write(
        &docs.join("sub/valid-2.pdf"),
        &pki.pdf(2, 80_000, &[Who::Valid(0), Who::Valid(1)]).unwrap(),
    )
    .unwrap();
    write(
        &docs.join("sub/deeper/valid-3.pdf"),
        &pki.pdf(3, 50_000, &[Who::Valid(1), Who::Valid(0), Who::Valid(1)])
            .unwrap(),
    )
    .unwrap();
    write(&docs.join("tampered.pdf"), &flip_signed_byte(valid.clone())).unwrap();
    write(
        &docs.join("revoked.pdf"),
        &pki.pdf(4, 20_000, &[Who::Revoked]).unwrap(),
    )
    .unwrap();
    write(
        &docs.join("untrusted.pdf"),
        &pki.pdf(5, 20_000, &[Who::Untrusted]).unwrap(),
    )
    .unwrap();
    let xml = pki.xml(6, 20, Who::Valid(1)).unwrap();
    write(&docs.join("valid.xml"), &xml).unwrap();
    let tampered_xml = String::from_utf8(xml)
        .unwrap()
        .replace("6/TB-UBND", "7/TB-UBND");
    write(&docs.join("tampered.xml"), tampered_xml.as_bytes()).unwrap();
    write(
        &docs.join("notes.txt"),
        "không phải văn bản ký số".as_bytes(),
    )
    .unwrap();
    write(&docs.join("empty.pdf"), b"").unwrap();
    write(&docs.join("truncated.pdf"), &valid[..valid.len() / 2]).unwrap();
}

/// A verifier trusting the root in `dir`, its CRLs as evidence, offline, at [`AT`].
fn verifier(dir: &Path) -> Verifier {
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&dir.join("root.pem")).unwrap();
    let mut options = VerifyOptions::new(trust, AT);
    for name in ["intermediate.crl", "root.crl"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        for crl in kyso::pki::crl::Crl::from_pem_or_der(&bytes).unwrap() {
            options.evidence.add_crl(crl);
        }
    }
    options.revocation = Revocation::Offline;
    Verifier::new(options)
}

/// `kyso` in `dir` (so that no kyso.toml of the checkout is read), with the trust options.
fn kyso(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyso"))
        .current_dir(dir)
        .env_remove("KYSO_CONFIG")
        .env_remove("KYSO_LEDGER_POSTGRES_URL")
        .env_remove("KYSO_LEDGER_PATH")
        .env("KYSO_LOG_LEVEL", "error")
        .args(args)
        .output()
        .expect("run kyso")
}

fn trust_args(dir: &Path) -> Vec<String> {
    let path = |name: &str| dir.join(name).display().to_string();
    vec![
        "--trust".into(),
        path("root.pem"),
        "--crl".into(),
        path("intermediate.crl"),
        "--crl".into(),
        path("root.crl"),
        "--revocation".into(),
        "offline".into(),
        "--at".into(),
        AT_TEXT.into(),
    ]
}

fn kyso_with(dir: &Path, args: &[&str], extra: &[String]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(extra.iter().map(String::as_str));
    kyso(dir, &all)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn line_for<'a>(lines: &'a [serde_json::Value], file: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["file"] == file)
        .unwrap_or_else(|| panic!("no line for {file}: {lines:#?}"))
}

fn verdict(line: &serde_json::Value) -> String {
    let report = &line["report"];
    match report["subindication"].as_str() {
        Some(sub) => format!("{}/{sub}", report["indication"].as_str().unwrap()),
        None => report["indication"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn batch_verdicts_equal_one_file_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let docs = tmp.path().join("docs");
    mixed_corpus(&pki, &docs);

    // Library: two workers sharing one verifier (its caches warm as the batch goes), against a
    // fresh verifier per file.
    let shared = verifier(tmp.path());
    let mut seen = 0;
    Batch::new(&shared, NonZeroUsize::new(2).unwrap())
        .run(&Source::Path(docs.clone()), |item| {
            seen += 1;
            let bytes = std::fs::read(docs.join(&item.name)).unwrap();
            let alone = verifier(tmp.path()).verify(&bytes);
            let Outcome::Verified(report) = &item.outcome else {
                panic!("{}: {:?}", item.name, item.outcome)
            };
            assert_eq!(
                serde_json::to_value(report).unwrap(),
                serde_json::to_value(&alone).unwrap(),
                "{}",
                item.name
            );
        })
        .unwrap();
    assert_eq!(seen, 11);

    // The command line: `kyso verify --batch` lines against `kyso verify --json`, file by file.
    let out_path = tmp.path().join("out.jsonl");
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            docs.to_str().unwrap(),
            "--jobs",
            "2",
            "--json-lines",
            out_path.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&out_path);
    assert_eq!(lines.len(), 11, "{lines:#?}");
    for line in &lines {
        let file = line["file"].as_str().unwrap();
        let one = kyso_with(
            tmp.path(),
            &["verify", "--json", docs.join(file).to_str().unwrap()],
            &trust_args(tmp.path()),
        );
        let one: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
        assert_eq!(line["report"], one["report"], "{file}");
    }
    let expected = [
        ("valid-1.pdf", "TOTAL-PASSED"),
        ("sub/valid-2.pdf", "TOTAL-PASSED"),
        ("sub/deeper/valid-3.pdf", "TOTAL-PASSED"),
        ("valid.xml", "TOTAL-PASSED"),
        ("tampered.pdf", "TOTAL-FAILED/HASH_FAILURE"),
        ("tampered.xml", "TOTAL-FAILED/HASH_FAILURE"),
        ("revoked.pdf", "INDETERMINATE/REVOKED_NO_POE"),
        ("untrusted.pdf", "INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND"),
        ("notes.txt", "TOTAL-FAILED/FORMAT_FAILURE"),
        ("empty.pdf", "TOTAL-FAILED/FORMAT_FAILURE"),
        ("truncated.pdf", "TOTAL-FAILED/FORMAT_FAILURE"),
    ];
    for (file, want) in expected {
        assert_eq!(verdict(line_for(&lines, file)), want, "{file}");
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("Sở Tư pháp"), "per signer unit: {summary}");
    assert!(summary.contains("TOTAL-FAILED/HASH_FAILURE"), "{summary}");
}

/// A zip of `(name, bytes, deflated)` entries.
fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, bytes, deflated) in entries {
        let method = if *deflated {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() > u32::MAX as usize);
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// A zip whose two directory entries point at the same compressed data (the "overlapping
/// entries" bomb construction): the single-entry archive's central directory record, twice.
fn overlapping_zip(bytes: &[u8]) -> Vec<u8> {
    let single = zip_of(&[("a.pdf", bytes, true)]);
    let eocd = single.len() - 22;
    assert_eq!(&single[eocd..eocd + 4], b"PK\x05\x06");
    let u32_at = |i: usize| u32::from_le_bytes(single[i..i + 4].try_into().unwrap()) as usize;
    let (size, offset) = (u32_at(eocd + 12), u32_at(eocd + 16));
    let record = &single[offset..offset + size];
    let mut twin = record.to_vec();
    twin[46] = b'b'; // the file name starts after the 46-byte fixed part
    let mut out = single[..offset].to_vec();
    out.extend_from_slice(record);
    out.extend_from_slice(&twin);
    let mut end = single[eocd..].to_vec();
    end[8..10].copy_from_slice(&2u16.to_le_bytes());
    end[10..12].copy_from_slice(&2u16.to_le_bytes());
    end[12..16].copy_from_slice(&(2 * size as u32).to_le_bytes());
    out.extend_from_slice(&end);
    out
}

#[test]
fn hostile_inputs_each_get_their_own_result_and_the_exit_code_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let valid = pki.pdf(1, 30_000, &[Who::Valid(0)]).unwrap();
    let xml = pki.xml(2, 5, Who::Valid(1)).unwrap();
    // 20 MB of zeros deflate to ~20 KB: 1000:1, a bomb entry.
    let zeros = vec![0u8; 20 * 1024 * 1024];
    let bomb = zip_of(&[("bomb.bin", &zeros, true)]);

    // A folder with everything at once. Tests run as root, so a file without read permission
    // would still be read: unreadable entries are a dangling link, a link to a folder, a pipe.
    let docs = tmp.path().join("hostile");
    write(&docs.join("valid.pdf"), &valid).unwrap();
    write(&docs.join("corrupt.pdf"), &valid[..valid.len() / 2]).unwrap();
    write(&docs.join("notes.txt"), b"plain text").unwrap();
    write(&docs.join("bomb.zip"), &bomb).unwrap();
    std::fs::create_dir_all(docs.join("folder")).unwrap();
    std::os::unix::fs::symlink(docs.join("nowhere.pdf"), docs.join("gone.pdf")).unwrap();
    std::os::unix::fs::symlink(docs.join("folder"), docs.join("folder-link.pdf")).unwrap();
    let fifo = docs.join("pipe.pdf");
    let made_fifo = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let out_path = tmp.path().join("hostile.jsonl");
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            docs.to_str().unwrap(),
            "--json-lines",
            out_path.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&out_path);
    assert_eq!(lines.len(), 6 + usize::from(made_fifo), "{lines:#?}");
    assert_eq!(verdict(line_for(&lines, "valid.pdf")), "TOTAL-PASSED");
    assert_eq!(
        verdict(line_for(&lines, "corrupt.pdf")),
        "TOTAL-FAILED/FORMAT_FAILURE"
    );
    assert_eq!(
        verdict(line_for(&lines, "notes.txt")),
        "TOTAL-FAILED/FORMAT_FAILURE"
    );
    assert_eq!(
        verdict(line_for(&lines, "bomb.zip")),
        "TOTAL-FAILED/FORMAT_FAILURE",
        "a zip inside a folder is a file, never inflated"
    );
    let error = |file: &str| line_for(&lines, file)["error"].as_str().unwrap().to_owned();
    assert!(
        error("gone.pdf").contains("cannot read"),
        "{}",
        error("gone.pdf")
    );
    assert!(
        error("folder-link.pdf").contains("not a regular file but a folder"),
        "{}",
        error("folder-link.pdf")
    );
    if made_fifo {
        assert!(
            error("pipe.pdf").contains("a named pipe"),
            "{}",
            error("pipe.pdf")
        );
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("NOT-READ"), "{summary}");

    // A list naming a folder and a file that is not there.
    let list = tmp.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# a comment\n{}\n\n{}\n{}\n",
            docs.join("valid.pdf").display(),
            docs.join("folder").display(),
            docs.join("missing.pdf").display()
        ),
    )
    .unwrap();
    let list_out = tmp.path().join("list.jsonl");
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            &format!("@{}", list.display()),
            "--json-lines",
            list_out.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&list_out);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(lines.iter().filter(|l| l["error"].is_string()).count(), 2);

    // A zip archive as the source: the bomb entry is refused, a nested archive is a file, the
    // others verify.
    let archive = tmp.path().join("archive.zip");
    std::fs::write(
        &archive,
        zip_of(&[
            ("dir/valid.pdf", &valid, true),
            ("valid.xml", &xml, true),
            ("corrupt.pdf", &valid[..valid.len() / 2], false),
            ("bomb.bin", &zeros, true),
            ("nested.zip", &bomb, false),
        ]),
    )
    .unwrap();
    let zip_out = tmp.path().join("zip.jsonl");
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            archive.to_str().unwrap(),
            "--json-lines",
            zip_out.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines = json_lines(&zip_out);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(verdict(line_for(&lines, "dir/valid.pdf")), "TOTAL-PASSED");
    assert_eq!(verdict(line_for(&lines, "valid.xml")), "TOTAL-PASSED");
    assert_eq!(
        verdict(line_for(&lines, "corrupt.pdf")),
        "TOTAL-FAILED/FORMAT_FAILURE"
    );
    assert_eq!(
        verdict(line_for(&lines, "nested.zip")),
        "TOTAL-FAILED/FORMAT_FAILURE"
    );
    let bomb_error = line_for(&lines, "bomb.bin")["error"].as_str().unwrap();
    assert!(bomb_error.contains("zip bomb"), "{bomb_error}");

    // An archive whose entries share their data is refused whole: the batch cannot run.
    let overlapping = tmp.path().join("overlapping.zip");
    std::fs::write(&overlapping, overlapping_zip(&valid)).unwrap();
    let out = kyso_with(
        tmp.path(),
        &["verify", "--batch", overlapping.to_str().unwrap()],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("overlapping"), "{}", text(&out));

    // No such source: 2. A folder of valid documents only: 0.
    let out = kyso_with(
        tmp.path(),
        &["verify", "--batch", "does-not-exist"],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let good = tmp.path().join("good");
    write(&good.join("a.pdf"), &valid).unwrap();
    write(&good.join("b/c.xml"), &xml).unwrap();
    let out = kyso_with(
        tmp.path(),
        &["verify", "--batch", good.to_str().unwrap()],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn document_and_archive_limits_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let small = pki.pdf(1, 10_000, &[Who::Valid(0)]).unwrap();
    let big = pki.pdf(2, 3 * 1024 * 1024, &[Who::Valid(1)]).unwrap();
    let docs = tmp.path().join("docs");
    write(&docs.join("small.pdf"), &small).unwrap();
    write(&docs.join("big.pdf"), &big).unwrap();
    let archive = tmp.path().join("a.zip");
    std::fs::write(
        &archive,
        zip_of(&[("small.pdf", &small, true), ("big.pdf", &big, false)]),
    )
    .unwrap();
    let limits = Limits {
        max_document_bytes: 2 * 1024 * 1024,
        ..Limits::default()
    };
    let verifier = verifier(tmp.path());
    for source in [Source::Path(docs), Source::Path(archive.clone())] {
        let mut summary = Summary::new();
        let mut too_large = Vec::new();
        Batch::new(&verifier, NonZeroUsize::new(2).unwrap())
            .with_limits(limits.clone())
            .run(&source, |item| {
                summary.add(&item);
                if let Outcome::Failed(e) = &item.outcome {
                    too_large.push(e.to_string());
                }
            })
            .unwrap();
        assert_eq!((summary.documents, summary.passed), (2, 1), "{source:?}");
        assert_eq!(too_large.len(), 1, "{too_large:?}");
        assert!(
            too_large[0].contains("limit for one document"),
            "{too_large:?}"
        );
    }
    // Too many entries declared: refused before the directory is read.
    let few = Limits {
        max_zip_entries: 1,
        ..Limits::default()
    };
    let refused = Batch::new(&verifier, NonZeroUsize::MIN)
        .with_limits(few)
        .run(&Source::Path(archive), |_| {})
        .unwrap_err();
    assert!(
        refused.to_string().contains("2 entries declared"),
        "{refused}"
    );
}

/// Units of the audit tests: the province and two departments named as the signers' `OU`.
fn ledger_with_units(path: &Path) -> SqliteStore {
    let mut store = SqliteStore::open(path, Durability::Normal).unwrap();
    let unit = |code: &str, name: &str, level: &str, parent: Option<&str>| Unit {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(Into::into),
    };
    store
        .upsert_units(&[
            unit("TINH", "UBND tỉnh Thử Nghiệm", "province", None),
            unit("STP", "Sở Tư pháp", "department", Some("TINH")),
            unit("STC", "Sở Tài chính", "department", Some("TINH")),
        ])
        .unwrap();
    store
}

/// (issued, declared signed, verified signed) of `unit`'s own documents in May 2026.
fn unit_counts(store: &mut dyn Store, unit: &str) -> (u64, u64, u64) {
    let query = ReportQuery::new(Period::parse("2026-05").unwrap());
    let report = kyso::ledger::report::build(store, &LevelScheme::default(), &query).unwrap();
    let row = report.units.iter().find(|u| u.code == unit).unwrap();
    (
        row.own.counts.issued,
        row.own.counts.declared_signed,
        row.own.counts.verified_signed,
    )
}

#[test]
fn audit_records_once_however_often_it_runs_and_the_verified_rate_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    // The archive by unit folder: STP 3 valid + 1 tampered; STC 2 valid + 1 revoked.
    let archive = tmp.path().join("archive");
    for n in 0..3 {
        let pdf = pki.pdf(10 + n, 10_000, &[Who::Valid(0)]).unwrap();
        write(&archive.join(format!("STP/2026/stp-{n}.pdf")), &pdf).unwrap();
    }
    let tampered = flip_signed_byte(pki.pdf(20, 10_000, &[Who::Valid(0)]).unwrap());
    write(&archive.join("STP/2026/stp-tampered.pdf"), &tampered).unwrap();
    for n in 0..2 {
        let xml = pki.xml(30 + n, 10, Who::Valid(1)).unwrap();
        write(&archive.join(format!("STC/stc-{n}.xml")), &xml).unwrap();
    }
    let revoked = pki.pdf(40, 10_000, &[Who::Revoked]).unwrap();
    write(&archive.join("STC/stc-revoked.pdf"), &revoked).unwrap();
    // Not a document of any unit: verified and reported, never recorded.
    write(&archive.join("STP/Thumbs.db"), b"\0\0thumbnail cache").unwrap();

    let ledger = tmp.path().join("ledger.sqlite");
    drop(ledger_with_units(&ledger));
    let record = |extra: &[&str], ledger: &Path| {
        let mut args = vec![
            "verify",
            "--batch",
            archive.to_str().unwrap(),
            "--record",
            "--ledger",
            ledger.to_str().unwrap(),
            "--issued-at",
            "2026-05-20T09:00:00+07:00",
        ];
        args.extend_from_slice(extra);
        kyso_with(tmp.path(), &args, &trust_args(tmp.path()))
    };
    // Twice, by folder: the second run changes nothing.
    let first = record(&["--unit-from", "folder"], &ledger);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    assert!(
        text(&first).contains("7 new audits, 0 unchanged, 0 updated"),
        "{}",
        text(&first)
    );
    assert!(
        text(&first).contains("not a PDF or XML: 1"),
        "{}",
        text(&first)
    );
    let second = record(&["--unit-from", "folder"], &ledger);
    assert!(
        text(&second).contains("0 new audits, 7 unchanged, 0 updated"),
        "{}",
        text(&second)
    );
    let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
    let totals = store.totals().unwrap();
    assert_eq!((totals.documents, totals.audits), (7, 7));
    assert_eq!(unit_counts(&mut store, "STP"), (4, 4, 3));
    assert_eq!(unit_counts(&mut store, "STC"), (3, 3, 2));

    // A document from outside the province joins the archive: no unit can be named for it.
    let stranger = pki.pdf(50, 10_000, &[Who::Untrusted]).unwrap();
    write(&archive.join("STC/stranger.pdf"), &stranger).unwrap();

    // By the signer certificate's OU, else O, matched to the units' names: the revoked signer's
    // OU is no unit but its O is the province's name; the stranger's are neither, so that
    // document is not recorded and the exit code says the audit is incomplete.
    let by_signer = tmp.path().join("by-signer.sqlite");
    drop(ledger_with_units(&by_signer));
    let out = record(&["--unit-from", "signer-org"], &by_signer);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("7 new audits"), "{}", text(&out));
    assert!(text(&out).contains("no unit: 1"), "{}", text(&out));
    assert!(text(&out).contains("STC/stranger.pdf"), "{}", text(&out));
    let mut store = SqliteStore::open(&by_signer, Durability::Normal).unwrap();
    assert_eq!(unit_counts(&mut store, "STP"), (4, 4, 3));
    assert_eq!(unit_counts(&mut store, "STC"), (2, 2, 2));
    assert_eq!(unit_counts(&mut store, "TINH"), (1, 1, 0));

    // By a unit map on file-name prefixes (the folders are not in the map).
    let map = tmp.path().join("units.csv");
    std::fs::write(&map, "match,unit\nstp-,STP\nstc-,STC\n").unwrap();
    let by_map = tmp.path().join("by-map.sqlite");
    drop(ledger_with_units(&by_map));
    let out = record(&["--unit-map", map.to_str().unwrap()], &by_map);
    assert!(text(&out).contains("7 new audits"), "{}", text(&out));
    assert!(text(&out).contains("no unit: 1"), "{}", text(&out));
    let mut store = SqliteStore::open(&by_map, Durability::Normal).unwrap();
    assert_eq!(unit_counts(&mut store, "STP"), (4, 4, 3));
    assert_eq!(unit_counts(&mut store, "STC"), (3, 3, 2));
}

#[test]
fn audit_by_dms_document_id_keeps_the_declarations() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let ledger = tmp.path().join("ledger.sqlite");
    let mut store = ledger_with_units(&ledger);
    // The DMS issued three documents: two declared signed, one not.
    let issued = |id: &str, declared| {
        Event::Issued(Issued {
            document_id: id.into(),
            number: format!("{id}/QĐ-STP"),
            doc_type: "Quyết định".into(),
            unit: "STP".into(),
            issued_at: datetime!(2026-05-10 03:00 UTC),
            declared,
        })
    };
    store
        .record(&[
            issued("STP-001", Declared::Signed),
            issued("STP-002", Declared::Signed),
            issued("STP-003", Declared::Unsigned),
        ])
        .unwrap();
    assert_eq!(unit_counts(&mut store, "STP"), (3, 2, 0));
    drop(store);
    let archive = tmp.path().join("archive");
    write(
        &archive.join("STP-001.pdf"),
        &pki.pdf(1, 10_000, &[Who::Valid(0)]).unwrap(),
    )
    .unwrap();
    let tampered = flip_signed_byte(pki.pdf(2, 10_000, &[Who::Valid(0)]).unwrap());
    write(&archive.join("STP-002.pdf"), &tampered).unwrap();
    write(
        &archive.join("STP-003.xml"),
        &pki.xml(3, 5, Who::Valid(0)).unwrap(),
    )
    .unwrap();
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            archive.to_str().unwrap(),
            "--record",
            "--document-id",
            "file-name",
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert!(text(&out).contains("3 new audits"), "{}", text(&out));
    let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
    // Declarations untouched; verified: 001 and 003 (which the DMS had declared unsigned).
    assert_eq!(unit_counts(&mut store, "STP"), (3, 2, 2));

    // Attribution options make no sense when the DMS already attributed the documents.
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            archive.to_str().unwrap(),
            "--record",
            "--document-id",
            "file-name",
            "--unit-from",
            "folder",
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        &trust_args(tmp.path()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// Issue 15 item 6: an archive copied into another unit's folder (or a changed attribution)
/// must not move the document, and its verified signature, to that unit; the audit names it as
/// not recorded and says it is incomplete.
#[test]
fn issue_15_item_6_an_audit_never_moves_a_document_to_another_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let archive = tmp.path().join("archive");
    let letter = pki.pdf(60, 10_000, &[Who::Valid(0)]).unwrap();
    write(&archive.join("STP/letter.pdf"), &letter).unwrap();
    let ledger = tmp.path().join("ledger.sqlite");
    drop(ledger_with_units(&ledger));
    let record = || {
        kyso_with(
            tmp.path(),
            &[
                "verify",
                "--batch",
                archive.to_str().unwrap(),
                "--record",
                "--ledger",
                ledger.to_str().unwrap(),
                "--issued-at",
                "2026-05-20T09:00:00+07:00",
                "--unit-from",
                "folder",
            ],
            &trust_args(tmp.path()),
        )
    };
    let first = record();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
    assert_eq!(unit_counts(&mut store, "STP"), (1, 1, 1));

    // The same file in STC's folder, beside a document of STC's own.
    write(&archive.join("STC/copy-of-letter.pdf"), &letter).unwrap();
    write(
        &archive.join("STC/own.pdf"),
        &pki.pdf(61, 10_000, &[Who::Valid(1)]).unwrap(),
    )
    .unwrap();
    let second = record();
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(
        text(&second).contains("stored for another unit: 1"),
        "{}",
        text(&second)
    );
    assert!(
        text(&second).contains("STC/copy-of-letter.pdf: stored for unit STP, attributed to STC"),
        "{}",
        text(&second)
    );
    assert_eq!(unit_counts(&mut store, "STP"), (1, 1, 1), "still STP's");
    assert_eq!(unit_counts(&mut store, "STC"), (1, 1, 1), "only its own");
}

/// Serves one CRL over HTTP on 127.0.0.1 until dropped, at most a bounded number of requests
/// and a bounded time.
struct CrlServer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CrlServer {
    /// Serves on `listener` (bound by the caller, whose port is in the certificates).
    fn start(listener: TcpListener, crl: Vec<u8>) -> CrlServer {
        const MAX_REQUESTS: usize = 64;
        const LIFETIME: Duration = Duration::from_secs(60);
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + LIFETIME;
                let mut served = 0;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && served < MAX_REQUESTS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            served += 1;
                            let _ = answer(stream, &crl);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        CrlServer {
            stop,
            thread: Some(thread),
        }
    }
}

fn answer(stream: std::net::TcpStream, crl: &[u8]) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        crl.len()
    )?;
    stream.write_all(crl)?;
    let _ = reader.read(&mut [0u8; 1]);
    Ok(())
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_revocation_snapshot_lets_the_batch_run_offline() {
    let tmp = tempfile::tempdir().unwrap();
    // The CRL's URL goes into the certificates, so the port is taken first; the server starts
    // on it once the CRL exists.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/intermediate.crl");
    let pki = CorpusPki::with_options(
        PkiOptions {
            at: AT,
            crl_url: Some(url),
            ..PkiOptions::default()
        },
        &names(),
    )
    .unwrap();
    pki.write_authorities(tmp.path()).unwrap();
    let docs = tmp.path().join("docs");
    write(
        &docs.join("a.pdf"),
        &pki.pdf(1, 10_000, &[Who::Valid(0), Who::Valid(1)]).unwrap(),
    )
    .unwrap();
    write(&docs.join("b.xml"), &pki.xml(2, 5, Who::Valid(1)).unwrap()).unwrap();
    let root_only = |extra: &[&str]| {
        let mut args = vec![
            "--trust".to_owned(),
            tmp.path().join("root.pem").display().to_string(),
            "--crl".to_owned(),
            tmp.path().join("root.crl").display().to_string(),
            "--at".to_owned(),
            AT_TEXT.to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };

    // Offline without the signers' CRL: nothing can pass.
    let out = kyso_with(
        tmp.path(),
        &["verify", "--batch", docs.to_str().unwrap()],
        &root_only(&["--revocation", "offline"]),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("TRY_LATER"), "{}", text(&out));

    // Collected once online...
    let snapshot = tmp.path().join("snapshot.pem");
    let crl = std::fs::read(tmp.path().join("intermediate.crl")).unwrap();
    let server = CrlServer::start(listener, crl);
    let out = kyso_with(
        tmp.path(),
        &[
            "revocation",
            "snapshot",
            docs.to_str().unwrap(),
            "--out",
            snapshot.to_str().unwrap(),
        ],
        &root_only(&[]),
    );
    drop(server);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pem = std::fs::read_to_string(&snapshot).unwrap();
    assert!(pem.contains("BEGIN X509 CRL"), "{pem}");

    // ...then the batch needs no network: every document passes with the server gone.
    let out = kyso_with(
        tmp.path(),
        &[
            "verify",
            "--batch",
            docs.to_str().unwrap(),
            "--revocation-snapshot",
            snapshot.to_str().unwrap(),
        ],
        &root_only(&[]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Issue 22: three processes, each `--shard K/3`, recording into one PostgreSQL ledger at once,
/// record exactly what one process records alone: the same documents, audits and report. A shard
/// killed with SIGKILL and run again records nothing twice.
#[test]
fn sharded_audits_record_what_one_process_records() {
    use kyso::ledger::postgres::PgStore;
    let Some(url) = crate::api::nodes::postgres_url() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let archive = tmp.path().join("archive");
    for n in 0..7 {
        let pdf = pki.pdf(100 + n, 8_000, &[Who::Valid(0)]).unwrap();
        write(&archive.join(format!("STP/2026/stp-{n}.pdf")), &pdf).unwrap();
    }
    for n in 0..5 {
        let pdf = pki.pdf(200 + n, 8_000, &[Who::Valid(0)]).unwrap();
        write(&archive.join(format!("STC/stc-{n}.pdf")), &pdf).unwrap();
    }
    let tampered = flip_signed_byte(pki.pdf(300, 8_000, &[Who::Valid(0)]).unwrap());
    write(&archive.join("STC/stc-tampered.pdf"), &tampered).unwrap();
    let record_args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "verify",
            "--batch",
            archive.to_str().unwrap(),
            "--record",
            "--unit-from",
            "folder",
            "--issued-at",
            "2026-05-20T09:00:00+07:00",
            "--jobs",
            "1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.extend(trust_args(tmp.path()));
        args
    };

    // One process, SQLite.
    let single = tmp.path().join("single.sqlite");
    drop(ledger_with_units(&single));
    let args = record_args(&["--ledger", single.to_str().unwrap()]);
    let alone = kyso(
        tmp.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(text(&alone).contains("13 new audits"), "{}", text(&alone));

    // Three shards at once into one PostgreSQL schema.
    let schema = format!("batch_shards_{}", std::process::id());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    let mut shared = PgStore::connect(&url, Some(&schema)).unwrap();
    shared
        .upsert_units(&[
            unit("TINH", "UBND tỉnh Thử Nghiệm", "province", None),
            unit("STP", "Sở Tư pháp", "department", Some("TINH")),
            unit("STC", "Sở Tài chính", "department", Some("TINH")),
        ])
        .unwrap();
    let shard = |k: u32| {
        let args = record_args(&["--shard", &format!("{k}/3")]);
        Command::new(env!("CARGO_BIN_EXE_kyso"))
            .current_dir(tmp.path())
            .env_remove("KYSO_CONFIG")
            .env("KYSO_LEDGER_POSTGRES_URL", &url)
            .env("KYSO_LEDGER_POSTGRES_SCHEMA", &schema)
            .env("KYSO_LOG_LEVEL", "error")
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start a shard")
    };
    // Shard 1 is killed with SIGKILL mid-run and run again to its end; 0 and 2 run meanwhile.
    let running = [shard(0), shard(2)];
    let mut killed = shard(1);
    std::thread::sleep(Duration::from_millis(100));
    killed.kill().unwrap();
    killed.wait().unwrap();
    let mut outputs: Vec<Output> = running
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    outputs.push(shard(1).wait_with_output().unwrap());
    let mut documents = 0;
    for out in &outputs {
        let said = text(out);
        assert!(said.contains("only this shard's documents"), "{said}");
        let n: u64 = said
            .split("Summary: ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{said}"));
        assert!(n > 0, "every shard has documents here: {said}");
        documents += n;
    }
    assert_eq!(documents, 13, "the shards split the archive exactly");
    // Run again whole, a shard adds nothing.
    let again = shard(1).wait_with_output().unwrap();
    assert!(text(&again).contains(" 0 new audits"), "{}", text(&again));

    let mut alone_store = SqliteStore::open(&single, Durability::Normal).unwrap();
    let totals = |store: &mut dyn Store| {
        let t = store.totals().unwrap();
        (t.documents, t.audits, t.signatures)
    };
    assert_eq!(totals(&mut shared), totals(&mut alone_store));
    assert_eq!(totals(&mut shared), (13, 13, 0));
    let report = |store: &mut dyn Store| {
        let mut query = ReportQuery::new(Period::parse("2026-05").unwrap());
        query.renew_by = datetime!(2026-12-01 00:00 UTC);
        let report = kyso::ledger::report::build(store, &LevelScheme::default(), &query).unwrap();
        serde_json::to_value(&report).unwrap()
    };
    assert_eq!(report(&mut shared), report(&mut alone_store));
    assert_eq!(unit_counts(&mut shared, "STC"), (6, 6, 5));
}

fn unit(code: &str, name: &str, level: &str, parent: Option<&str>) -> Unit {
    Unit {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(Into::into),
    }
}
