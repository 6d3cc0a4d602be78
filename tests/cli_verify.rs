//! `kyso verify` as a clerk or the DMS runs it: exit codes 0/1/2, the JSON report and its
//! documented schema (`docs/verify-report.md`), Vietnamese and English words, `--at`,
//! `--revocation`, several files at once, and files that cannot be read.

use std::path::{Path, PathBuf};
use std::process::Output;

use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{Document, IncrementalUpdate, Object, SignatureOptions};
use kyso::token::KeyAlgorithm;
use serde_json::Value;

use crate::cli::{kyso, text};
use crate::support::Signing;

/// A signed PDF, a tampered copy, an unsigned one, and the PKI files to check them with.
struct Files {
    signing: Signing,
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let signing = Signing::new(KeyAlgorithm::P256, "Nguyễn Thị Kiểm");
        let dir = tempfile::tempdir().unwrap();
        let mut options = SignatureOptions::new(
            time::OffsetDateTime::now_utc(),
            kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
        );
        options.reason = Some("Phê duyệt".to_owned());
        let signed = kyso::pades::sign(
            &sample_pdf(&SampleOptions::default()),
            &signing.identity(),
            &options,
            &kyso::pades::Level::BB,
        )
        .unwrap()
        .to_vec();
        std::fs::write(dir.path().join("signed.pdf"), &signed).unwrap();
        let mut tampered = signed.clone();
        let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
        tampered[at] = b't';
        std::fs::write(dir.path().join("tampered.pdf"), &tampered).unwrap();
        std::fs::write(
            dir.path().join("unsigned.pdf"),
            sample_pdf(&SampleOptions::default()),
        )
        .unwrap();
        std::fs::write(dir.path().join("annotated.pdf"), annotated(&signed)).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "không phải PDF").unwrap();
        Files { signing, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pki(&self, name: &str) -> PathBuf {
        self.signing.dir.path().join(name)
    }

    /// `kyso verify --trust ROOT --crl … --revocation offline ARGS…`
    fn verify(&self, args: &[&str], files: &[&str]) -> Output {
        let mut cmd = kyso();
        cmd.env("LANG", "vi_VN.UTF-8")
            .env_remove("LC_ALL")
            .arg("verify")
            .arg("--trust")
            .arg(self.pki("root.pem"))
            .args(["--revocation", "offline"])
            .arg("--crl")
            .arg(self.pki("intermediate.crl"))
            .arg("--crl")
            .arg(self.pki("root.crl"))
            .args(args);
        for file in files {
            cmd.arg(self.path(file));
        }
        cmd.output().unwrap()
    }
}

fn annotated(signed: &[u8]) -> Vec<u8> {
    let doc = Document::parse(signed).unwrap();
    let page = doc.pages().unwrap()[0];
    let mut page_dict = doc.dictionary(page).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    let note = update.allocate();
    update.put(
        note,
        kyso::pdf_dict! {
            b"Type" => Object::name(b"Annot"),
            b"Subtype" => Object::name(b"Text"),
            b"Rect" => Object::Array(vec![10i64.into(), 10i64.into(), 30i64.into(), 30i64.into()]),
            b"Contents" => kyso::pdf::text_string("Đã xem"),
        },
    );
    let mut annots = doc
        .resolve(page_dict.get(b"Annots").unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .to_vec();
    annots.push(note.into());
    page_dict.set(b"Annots", Object::Array(annots));
    update.put(page, page_dict);
    let mut out = signed.to_vec();
    out.extend_from_slice(&update.write(b"cli-annotation!!").bytes);
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)))
}

#[test]
fn exit_codes_say_valid_invalid_or_error() {
    let files = Files::new();
    let out = files.verify(&[], &["signed.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("HỢP LỆ"), "{}", text(&out));

    for (file, words) in [
        ("tampered.pdf", "nội dung đã bị thay đổi sau khi ký"),
        ("unsigned.pdf", "không tìm thấy dữ liệu đã được ký"),
        ("notes.txt", "KHÔNG HỢP LỆ"),
    ] {
        let out = files.verify(&[], &[file]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out));
        assert!(text(&out).contains(words), "{file}: {}", text(&out));
    }

    // Could not check: a missing file, a folder, bad options, no trust anchors.
    let out = files.verify(&[], &["missing.pdf"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("cannot read"), "{}", text(&out));
    assert!(text(&out).contains("missing.pdf"), "{}", text(&out));
    let out = kyso()
        .args(["verify", "--trust"])
        .arg(files.pki("root.pem"))
        .arg(files.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a folder: {}", text(&out));
    for (args, words) in [
        (&["--lang", "fr"][..], "--lang fr"),
        (&["--revocation", "sometimes"], "revocation `sometimes`"),
        (&["--at", "yesterday"], "--at yesterday"),
    ] {
        let out = kyso()
            .arg("verify")
            .arg("--trust")
            .arg(files.pki("root.pem"))
            .args(args)
            .arg(files.path("signed.pdf"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(words), "{args:?}: {}", text(&out));
    }
    // No trust anchor: the document is still checked, and the answer says why no signer is
    // trusted (issue 15; before, kyso refused to run), in the locale's language.
    let out = kyso()
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .arg("verify")
        .arg(files.path("signed.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no trust anchors"), "{}", text(&out));
    let out = kyso()
        .env("LANG", "vi_VN.UTF-8")
        .env_remove("LC_ALL")
        .arg("verify")
        .arg(files.path("signed.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("chưa cấu hình chứng thư gốc tin cậy"),
        "{}",
        text(&out)
    );
}

#[test]
fn several_files_are_reported_in_turn_and_an_unreadable_one_is_an_error() {
    let files = Files::new();
    let out = files.verify(&[], &["signed.pdf", "tampered.pdf"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let words = text(&out);
    assert!(words.contains(&format!("== {}", files.path("signed.pdf").display())));
    assert!(words.contains(&format!("== {}", files.path("tampered.pdf").display())));

    let out = files.verify(&["--json"], &["signed.pdf", "tampered.pdf", "missing.pdf"]);
    // An error outranks an invalid document: something could not be checked at all.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let reports = json(&out);
    let reports = reports.as_array().expect("several files: an array");
    assert_eq!(reports.len(), 2, "the unreadable file has no report");
    assert_eq!(reports[0]["report"]["indication"], "TOTAL-PASSED");
    assert_eq!(reports[1]["report"]["indication"], "TOTAL-FAILED");
    assert_eq!(reports[1]["report"]["subindication"], "HASH_FAILURE");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pdf"));
}

#[test]
fn languages_and_warnings_in_plain_words() {
    let files = Files::new();
    let vi = text(&files.verify(&["--lang", "vi"], &["annotated.pdf"]));
    let en = text(&files.verify(&["--lang", "en"], &["annotated.pdf"]));
    assert!(vi.contains("Kết luận: HỢP LỆ"), "{vi}");
    assert!(vi.contains("Người ký: Nguyễn Thị Kiểm"), "{vi}");
    assert!(vi.contains("lưu ý"), "the annotation is said: {vi}");
    assert!(vi.contains("thay đổi sau khi ký"), "{vi}");
    assert!(en.contains("Verdict: VALID"), "{en}");
    assert!(en.contains("Signer: Nguyễn Thị Kiểm"), "{en}");
    assert!(
        en.contains("note: the document was changed after signing (annotations"),
        "{en}"
    );
    assert!(en.contains("(page 1)"), "{en}");
    // The locale decides when --lang does not.
    let out = kyso()
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .arg("verify")
        .arg("--trust")
        .arg(files.pki("root.pem"))
        .args(["--revocation", "off"])
        .arg(files.path("signed.pdf"))
        .output()
        .unwrap();
    assert!(text(&out).contains("INDETERMINATE"), "{}", text(&out));
}

/// The reasons and change rules read in Vietnamese too, with no English sentence among them;
/// the English words stay for `--lang en`.
#[test]
fn reasons_are_vietnamese_in_vietnamese() {
    let files = Files::new();
    let vi = text(&files.verify(&["--lang", "vi"], &["tampered.pdf", "annotated.pdf"]));
    assert!(
        vi.contains("dữ liệu được ký đã bị thay đổi: giá trị băm khác với giá trị đã ký"),
        "{vi}"
    );
    assert!(
        vi.contains("trong phạm vi chữ ký phê duyệt cho phép"),
        "{vi}"
    );
    assert!(vi.contains("chú thích mới"), "{vi}");
    for english in [
        "the signed bytes",
        "as an approval signature permits",
        "new annotation",
    ] {
        assert!(!vi.contains(english), "{english:?} in {vi}");
    }
    let en = text(&files.verify(&["--lang", "en"], &["tampered.pdf"]));
    assert!(
        en.contains("the signed bytes were changed: their digest differs from the one signed"),
        "{en}"
    );
}

/// `--record-html` writes the printable record of the one document given, beside the words.
#[test]
fn the_record_of_one_document_is_written_as_html() {
    let files = Files::new();
    let record = files.path("record.html");
    let out = files.verify(
        &["--record-html", record.to_str().unwrap()],
        &["tampered.pdf"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let page = std::fs::read_to_string(&record).unwrap();
    let sha = hex::encode(
        kyso::signer::DigestAlgorithm::Sha256
            .digest(&std::fs::read(files.path("tampered.pdf")).unwrap()),
    );
    for expected in [
        "BIÊN BẢN KIỂM TRA CHỮ KÝ SỐ",
        "tampered.pdf",
        sha.as_str(),
        "Nguyễn Thị Kiểm",
        "HASH_FAILURE",
        "dữ liệu được ký đã bị thay đổi",
        "the signed bytes were changed",
        "Thời điểm kiểm tra",
    ] {
        assert!(page.contains(expected), "{expected:?} missing");
    }
    // The same record as PDF, printed by the machine's Chromium: its text is the record's.
    let pdf = files.path("record.pdf");
    let out = files.verify(&["--record-pdf", pdf.to_str().unwrap()], &["tampered.pdf"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let printed = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.contains("BIÊN BẢN KIỂM TRA CHỮ KÝ SỐ"), "{printed}");
    assert!(printed.contains("HASH_FAILURE"), "{printed}");
    // A browser that is not there is an error that says what to do.
    let out = files.verify(
        &[
            "--record-pdf",
            pdf.to_str().unwrap(),
            "--record-browser",
            "/nonexistent/chromium",
        ],
        &["tampered.pdf"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--record-html"), "{}", text(&out));
    // One record is of one document.
    let out = files.verify(
        &["--record-html", record.to_str().unwrap()],
        &["tampered.pdf", "signed.pdf"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn revocation_and_time_options_change_the_verdict() {
    let files = Files::new();
    // Revocation off: never TOTAL-PASSED.
    let out = kyso()
        .arg("verify")
        .arg("--trust")
        .arg(files.pki("root.pem"))
        .args(["--revocation", "off", "--json"])
        .arg(files.path("signed.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let sig = &report["report"]["signatures"][0];
    assert_eq!(sig["indication"], "INDETERMINATE");
    assert_eq!(sig["revocation"], "undetermined");
    // Offline with no CRL given: TRY_LATER.
    let out = kyso()
        .arg("verify")
        .arg("--trust")
        .arg(files.pki("root.pem"))
        .args(["--revocation", "offline", "--json"])
        .arg(files.path("signed.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["report"]["subindication"], "TRY_LATER");
    // --at before the certificate was issued: the signer's certificate was not valid yet.
    let out = files.verify(
        &["--at", "2001-01-01T00:00:00+07:00", "--json"],
        &["signed.pdf"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["report"]["validated_at"], "2000-12-31T17:00:00Z");
    assert_ne!(report["report"]["indication"], "TOTAL-PASSED");
}

/// Every field the JSON report has is documented in `docs/verify-report.md`, and every
/// documented field is there.
#[test]
fn json_report_matches_its_documented_schema() {
    let files = Files::new();
    let out = files.verify(&["--json"], &["annotated.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value = json(&out);
    assert!(value["file"].as_str().unwrap().ends_with("annotated.pdf"));
    let report = &value["report"];
    let sig = &report["signatures"][0];
    assert_eq!(report["format"], "pdf");
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(sig["indication"], "TOTAL-PASSED");
    assert_eq!(sig["subindication"], Value::Null);
    assert_eq!(sig["format"], "PAdES-B-B");
    assert_eq!(sig["signer"]["common_name"], "Nguyễn Thị Kiểm");
    assert_eq!(sig["signer"]["unit"], "Sở Tư pháp");
    assert_eq!(sig["signing_time_source"], "claimed");
    assert_eq!(sig["chain"].as_array().unwrap().len(), 3);
    assert_eq!(sig["modification"], "annotations");
    assert_eq!(sig["changes_permitted"], "passed");
    let change = sig["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "new annotation")
        .expect("the annotation is named");
    assert_eq!(change["kind"], "added");
    assert_eq!(change["page"], 1);
    assert_eq!(change["level"], "annotations");
    assert!(!sig["warnings"].as_array().unwrap().is_empty());

    let documented = documented_fields(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/verify-report.md"),
        )
        .unwrap(),
    );
    let mut actual = Vec::new();
    collect_fields("", &value, &mut actual);
    // An XML signature over one element adds the fields of its scope (null for PDF).
    let xml = crate::regression::xml_scope_report(&files.signing);
    let xml = serde_json::json!({ "file": "invoice.xml", "report": xml });
    assert_eq!(
        xml["report"]["signatures"][0]["coverage"], "partial_content",
        "{xml:#}"
    );
    collect_fields("", &xml, &mut actual);
    // `--check decree30` adds its part (absent otherwise); the test certificates name neither
    // person nor organisation, so its findings are listed too.
    let out = files.verify(&["--json", "--check", "decree30"], &["annotated.pdf"]);
    let decree30 = json(&out);
    assert_eq!(
        decree30["report"]["decree30"]["missing"][0]["rule"], "holder_undetermined",
        "{decree30:#}"
    );
    collect_fields("", &decree30, &mut actual);
    // An edXML package adds its part (null otherwise): header, attachments, checks. The header
    // and each attachment's own report are documented as objects (the report's fields are
    // those above), so the walk stops there.
    std::fs::write(files.path("package.edxml"), package_of(&files)).unwrap();
    let out = files.verify(&["--json"], &["package.edxml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let package = json(&out);
    assert_eq!(package["report"]["format"], "edxml");
    let mut package_fields = Vec::new();
    collect_fields("", &package, &mut package_fields);
    for field in package_fields {
        let inside = |object: &str| field.starts_with(&format!("{object}."));
        if !inside("report.package.header")
            && !inside("report.package.attachments[].report")
            && !actual.contains(&field)
        {
            actual.push(field);
        }
    }
    for field in &actual {
        assert!(
            documented.contains(field),
            "{field} is in the report but not in docs/verify-report.md"
        );
    }
    for field in &documented {
        assert!(
            actual.contains(field),
            "{field} is documented but not in the report"
        );
    }
}

/// An edXML package carrying `signed.pdf`, with a header that matches it (no finding).
fn package_of(files: &Files) -> Vec<u8> {
    let header: kyso::edxml::Header = serde_json::from_value(serde_json::json!({
        "from": {"organ_id": "000.00.00.H99", "organ_name": "UBND tỉnh Thử Nghiệm"},
        "to": [{"organ_id": "000.01.31.H99"}],
        "code": {"number": "12", "notation": "QĐ-STP"},
        "promulgation": {"date": "2026/03/15"},
        "subject": "Phê duyệt",
        "signer": {"full_name": "Nguyễn Thị Kiểm"}
    }))
    .unwrap();
    let document = kyso::edxml::AttachmentInput {
        name: "signed.pdf".to_owned(),
        bytes: std::fs::read(files.path("signed.pdf")).unwrap(),
        description: None,
    };
    kyso::edxml::pack(&header, &[document], time::OffsetDateTime::now_utc()).unwrap()
}

/// The dotted paths listed in the doc's field tables: lines `| `path` | … |`.
fn documented_fields(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(f, _)| f.to_owned()))
        .collect()
}

/// Dotted paths of every key (arrays as `[]`).
fn collect_fields(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if !out.contains(&path) {
                    out.push(path.clone());
                }
                collect_fields(&path, v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_fields(&format!("{prefix}[]"), item, out);
            }
        }
        _ => {}
    }
}
