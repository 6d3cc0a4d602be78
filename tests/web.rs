//! The web pages in a real browser: `kyso serve` (the built binary) on 127.0.0.1:0 with a
//! SoftHSM key, a ledger seeded with the demo province (and a unit whose name is markup), and
//! documents signed through the API; then `tests/web/browser.mjs` drives Debian's headless
//! Chromium through Playwright's core library against it: logs in with each role, verifies a
//! valid, a tampered and a changed document, reads the dashboard and compares it with the API's
//! JSON, switches language, checks keyboard use and contrast, and saves screenshots under
//! `target/test-artefacts/web/`.
//!
//! Missing node, npm or chromium fail the test with the command that installs them: a browser
//! test that skips itself silently would let the pages break unseen.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kyso::api::auth::Role;
use kyso::ledger::sqlite::{Durability, SqliteStore};
use kyso::ledger::{Declared, Event, Issued, Store, Unit};
use kyso::pdf::{Document, IncrementalUpdate, Stream};

use crate::api::fixture::{Client, XML, api_key, letter};
use crate::api::nodes::{key_on_shared_token, node_config};

/// A unit whose name and document numbers are markup: the pages must show them as text.
const HOSTILE_UNIT: &str = "XSS";
const HOSTILE_NAME: &str = "Sở <script>window.__xss=1</script> Thử nghiệm";
const HOSTILE_NUMBER: &str = "<img src=x onerror=\"window.__xss=2\">/QĐ-XSS";

/// How long the browser run may take before it is stopped (it takes about a minute).
const BROWSER_TIME_LIMIT: Duration = Duration::from_secs(600);

#[test]
fn the_pages_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = chromium();
    let node = tool("node", "apt-get install -y nodejs npm");
    playwright(root);

    let dir = tempfile::tempdir().unwrap();
    let label = key_on_shared_token(dir.path());
    let config = node_config(dir.path(), &label, 2, 16);
    let ledger = dir.path().join("ledger.sqlite");
    let keys = seed(&ledger);
    let log = dir.path().join("service.log");
    let service = Service::start(&config, &ledger, &log);
    let client = Client::new(&service.url);

    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    write_documents(&client, &keys, &docs);
    let keys_file = dir.path().join("keys.json");
    write_private(&keys_file, &keys.to_json());

    let artefacts = artefacts();
    let mut run = Command::new(&node)
        .arg(root.join("tests/web/browser.mjs"))
        .current_dir(root.join("tests/web"))
        .env("KYSO_WEB_URL", &service.url)
        .env("KYSO_WEB_KEYS", &keys_file)
        .env("KYSO_WEB_DOCS", &docs)
        .env("KYSO_WEB_ARTEFACTS", &artefacts)
        .env("KYSO_WEB_CHROMIUM", &chromium)
        .env("KYSO_WEB_HOSTILE_NAME", HOSTILE_NAME)
        .env("KYSO_WEB_HOSTILE_NUMBER", HOSTILE_NUMBER)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let (status, stdout, stderr) = wait(&mut run, BROWSER_TIME_LIMIT);
    println!("{stdout}");
    eprintln!("{stderr}");
    if !status.is_some_and(|s| s.success()) {
        let logged = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = logged.lines().rev().take(30).collect();
        panic!(
            "the browser tests failed (screenshots in {}); the service's last log lines:\n{}",
            artefacts.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    // The pages sent the keys in headers only: none of them is in the service's log.
    drop(service);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    // That log is worth searching: it has the request lines of what the pages did.
    let requests = logged_requests(&logged);
    for (route, status) in [
        ("/v1/whoami", 200),
        ("/v1/verify", 200),
        ("/v1/reports/signing-rate", 200),
        ("/v1/reports/signing-rate/trend", 200),
        ("/v1/reports/signing-rate", 403),
        ("/v1/sign/pdf", 200),
        ("/v1/whoami", 401),
    ] {
        assert!(
            requests.contains(&(route.to_owned(), status)),
            "no logged request {route} → {status} among {requests:?}"
        );
    }
    for key in keys.all() {
        // The secret follows `kyso_<16 hex>_`; it may itself contain `_`.
        let secret = key.splitn(3, '_').nth(2).unwrap();
        assert!(!logged.contains(secret), "an API key is in the service log");
    }
}

/// The verify page in Vietnamese shows no English word for any document of the shared
/// conformance set (PAdES and XAdES fixtures, certified-document attacks: reasons, notes, rule
/// names, revocation, formats): `tests/web/words.mjs` states the rule. No trust anchor is
/// configured, so every chain fails and the page says why in Vietnamese too.
#[test]
fn the_vietnamese_verify_page_has_no_english_word() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = chromium();
    let node = tool("node", "apt-get install -y nodejs npm");
    playwright(root);

    let conformance = crate::support::conformance_dir();
    let mut files = Vec::new();
    for suite in ["dss-pades", "pdf-certification-attacks", "dss-xades"] {
        documents(&conformance.join(suite), &mut files);
    }
    files.sort();
    assert!(
        files.len() >= 60,
        "only {} conformance documents under {}",
        files.len(),
        conformance.display()
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kyso.toml");
    std::fs::write(&config, "[verify]\nrevocation = \"offline\"\n").unwrap();
    let ledger = dir.path().join("ledger.sqlite");
    let key = {
        let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
        api_key(&mut store, Role::Verifier, &["*"], "web words test")
    };
    let key_file = dir.path().join("key");
    write_private(&key_file, &key);
    let list = dir.path().join("files.txt");
    let listed: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    std::fs::write(&list, listed.join("\n")).unwrap();
    let log = dir.path().join("service.log");
    let service = Service::start(&config, &ledger, &log);

    let mut run = Command::new(&node)
        .arg(root.join("tests/web/words.mjs"))
        .current_dir(root.join("tests/web"))
        .env("KYSO_WEB_URL", &service.url)
        .env("KYSO_WEB_KEY", &key_file)
        .env("KYSO_WEB_FILES", &list)
        .env("KYSO_WEB_ARTEFACTS", artefacts_dir())
        .env("KYSO_WEB_CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let (status, stdout, stderr) = wait(&mut run, BROWSER_TIME_LIMIT);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the Vietnamese verify page shows English words (see above)"
    );
    assert!(
        stdout.contains(&format!("{} documents", files.len())),
        "{stdout}"
    );
}

/// Every PDF and XML file under `dir`, recursively.
fn documents(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            documents(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf") || e.eq_ignore_ascii_case("xml"))
        {
            out.push(path);
        }
    }
}

/// (route, status) of each `request` line in the service's JSON log.
fn logged_requests(log: &str) -> std::collections::BTreeSet<(String, u64)> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["fields"]["message"] == "request")
        .filter_map(|entry| {
            let fields = &entry["fields"];
            Some((
                fields["route"].as_str()?.to_owned(),
                fields["status"].as_u64()?,
            ))
        })
        .collect()
}

/// The API keys the browser logs in with, one per role; the unit-bound ones are bound to STP.
struct Keys {
    signer: String,
    verifier: String,
    auditor: String,
    stp_auditor: String,
    admin: String,
}

impl Keys {
    fn to_json(&self) -> String {
        serde_json::json!({
            "signer": self.signer,
            "verifier": self.verifier,
            "auditor": self.auditor,
            "stp_auditor": self.stp_auditor,
            "admin": self.admin,
        })
        .to_string()
    }

    fn all(&self) -> [&str; 5] {
        [
            &self.signer,
            &self.verifier,
            &self.auditor,
            &self.stp_auditor,
            &self.admin,
        ]
    }
}

/// The demo province's 2022-H1 ledger, the hostile unit with three documents, and the keys.
fn seed(ledger: &Path) -> Keys {
    let mut store = SqliteStore::open(ledger, Durability::Normal).unwrap();
    kyso::ledger::demo::seed(&mut store).unwrap();
    let scheme = kyso::ledger::LevelScheme::default();
    let unit = Unit {
        code: HOSTILE_UNIT.into(),
        name: HOSTILE_NAME.into(),
        level: "department".into(),
        parent: Some("TINH".into()),
    };
    kyso::ledger::units::import(&mut store, &[(2, unit)], &scheme).unwrap();
    let issued = |n: u32, declared: Declared| {
        Event::Issued(Issued {
            document_id: format!("XSS-2022-{n}"),
            number: if n == 1 {
                HOSTILE_NUMBER.into()
            } else {
                format!("{n}/QĐ-XSS")
            },
            doc_type: "Quyết định".into(),
            unit: HOSTILE_UNIT.into(),
            issued_at: time::macros::datetime!(2022-03-10 09:00 +07:00)
                + time::Duration::days(i64::from(n)),
            declared,
        })
    };
    store
        .record(&[
            issued(1, Declared::Unsigned),
            issued(2, Declared::Signed),
            issued(3, Declared::Signed),
        ])
        .unwrap();
    let mut make = |role: Role, units: &[&str]| api_key(&mut store, role, units, "web test");
    Keys {
        signer: make(Role::Signer, &["STP"]),
        verifier: make(Role::Verifier, &["STP"]),
        auditor: make(Role::Auditor, &["*"]),
        stp_auditor: make(Role::Auditor, &["STP"]),
        admin: make(Role::Admin, &["*"]),
    }
}

/// The documents the browser verifies and signs, made through the running service:
/// `letter.pdf` (unsigned), `valid.pdf` (signed), `tampered.pdf` (a signed byte flipped),
/// `changed.pdf` (the page's text replaced by an incremental update after signing, as the
/// incremental saving attack does), `signed.xml`, `invoice.xml` (an e-invoice whose seller
/// signature signs one element by its Id, made by xmlsec1) and `package.edxml` (an edXML
/// package carrying `valid.pdf`).
fn write_documents(client: &Client, keys: &Keys, docs: &Path) {
    let letter = letter();
    std::fs::write(docs.join("letter.pdf"), &letter).unwrap();
    let signed = client.post(
        "/v1/sign/pdf?key=stp-01&document_id=WEB-1&reason=Ban%20h%C3%A0nh",
        &keys.signer,
        "application/pdf",
        letter,
    );
    assert_eq!(signed.status, 200, "{}", signed.text());
    std::fs::write(docs.join("valid.pdf"), &signed.body).unwrap();

    // One character of the page's text changed in place ("Trang 1" → "Trang 7"): the file's
    // structure is intact, only the signed bytes differ.
    let mut tampered = signed.body.clone();
    let at = tampered
        .windows(7)
        .position(|w| w == b"Trang 1")
        .expect("the sample letter numbers its page")
        + 6;
    tampered[at] = b'7';
    std::fs::write(docs.join("tampered.pdf"), &tampered).unwrap();

    let changed = {
        let doc = Document::parse(&signed.body).unwrap();
        let page = doc.pages().unwrap()[0];
        let content = doc
            .dictionary(page)
            .unwrap()
            .reference(b"Contents")
            .unwrap();
        let mut update = IncrementalUpdate::new(&doc);
        update.put(
            content,
            Stream {
                dict: kyso::pdf::Dictionary::new(),
                data: b"BT /F1 14 Tf 72 770 Td (So tien: 999.000.000 dong) Tj ET".to_vec(),
            },
        );
        let written = update.write(b"web-test-change!");
        let mut out = signed.body.clone();
        out.extend_from_slice(&written.bytes);
        out
    };
    std::fs::write(docs.join("changed.pdf"), &changed).unwrap();

    // An edXML package (unsigned envelope) carrying the signed letter, built by the service.
    let header = r#"{"from": {"organ_id": "000.00.00.H99", "organ_name": "UBND tỉnh Thử Nghiệm"},
        "to": [{"organ_id": "000.01.31.H99", "organ_name": "Sở Tư pháp"}],
        "code": {"number": "123", "notation": "QĐ-UBND"}, "promulgation": {"date": "2026/03/15"},
        "subject": "Về việc thử nghiệm", "signer": {"full_name": "Trần Thị Bình"}}"#;
    let boundary = "kyso-web-test-boundary";
    let mut body = Vec::new();
    for (name, file, bytes) in [
        ("document", Some("valid.pdf"), signed.body.as_slice()),
        ("header", None, header.as_bytes()),
    ] {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let package = client.post(
        "/v1/edxml",
        &keys.signer,
        &format!("multipart/form-data; boundary={boundary}"),
        body,
    );
    assert_eq!(package.status, 200, "{}", package.text());
    std::fs::write(docs.join("package.edxml"), &package.body).unwrap();

    let xml = client.post(
        "/v1/sign/xml?key=stp-01&document_id=WEB-X-1",
        &keys.signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(xml.status, 200, "{}", xml.text());
    std::fs::write(docs.join("signed.xml"), &xml.body).unwrap();
    std::fs::write(
        docs.join("invoice.xml"),
        crate::regression::einvoice_signed_by_id(),
    )
    .unwrap();
}

/// `kyso serve` as a child process on an SQLite ledger, its log (JSON lines) in `log`.
struct Service {
    child: Child,
    url: String,
}

impl Service {
    fn start(config: &Path, ledger: &Path, log: &Path) -> Service {
        let log = std::fs::File::create(log).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kyso"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("KYSO_CONFIG", config)
            .env("KYSO_SERVE_LEDGER", ledger)
            .env("KYSO_LOG_LEVEL", "info")
            .env("KYSO_LOG_FORMAT", "json")
            .env_remove("KYSO_LEDGER_POSTGRES_URL")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start kyso serve");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("kyso: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line of kyso serve: {line:?}"))
            .to_owned();
        Service { child, url }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SIGTERM, so that the service finishes and flushes its log; SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's chromium (or `KYSO_WEB_CHROMIUM`); panics with the install command when absent.
fn chromium() -> PathBuf {
    let path = std::env::var_os("KYSO_WEB_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the browser tests need Debian's chromium (apt-get install -y chromium)",
        path.display()
    );
    path
}

/// A program on PATH that answers `--version`; panics with `install` when it does not.
fn tool(name: &str, install: &str) -> PathBuf {
    let answered = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        answered,
        "`{name}` not found: the browser tests need it ({install})"
    );
    PathBuf::from(name)
}

/// Playwright's core library in tests/web/node_modules, installed from the committed lockfile
/// (`npm ci`) when it is not there yet. It brings no browser: the tests use Debian's.
fn playwright(root: &Path) {
    let web = root.join("tests/web");
    if web
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    let npm = tool("npm", "apt-get install -y nodejs npm");
    let out = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&web)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output()
        .expect("run npm ci");
    assert!(
        out.status.success(),
        "npm ci in tests/web failed (run it by hand: cd tests/web && npm ci): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `target/test-artefacts/web/`, emptied of earlier screenshots.
fn artefacts() -> PathBuf {
    let dir = artefacts_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `target/test-artefacts/web/`, made if missing (not emptied: the other browser test may be
/// writing there).
fn artefacts_dir() -> PathBuf {
    crate::support::artefacts_dir("web")
}

/// Writes a file only its owner may read (it holds API keys).
fn write_private(path: &Path, text: &str) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// Waits for `child` at most `limit`, reading its output meanwhile; kills it after the limit.
fn wait(child: &mut Child, limit: Duration) -> (Option<std::process::ExitStatus>, String, String) {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    (
        status,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}
