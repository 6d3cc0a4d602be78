//! Signing jobs through `kyso serve` with a confirm-on-phone provider in this process: a
//! loopback HTTP service ([`Responders::handle`]) holding a real key from the test PKI, which
//! signs the hashes it is sent with `openssl pkeyutl` once the "holder" confirms — after a
//! delay, never, with a refusal, or with a signature over something else.
//!
//! The jobs go done (the PDF verifies TOTAL-PASSED in kyso and pdfsig), refused, expired and
//! failed; another unit's caller cannot see them; and a service killed with SIGKILL while jobs
//! are pending, restarted on the same ledger (as two nodes at once), completes each job exactly
//! once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kyso::ledger::Store;
use kyso::ledger::sqlite::{Durability, SqliteStore};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};

use super::fixture::{Client, Keys, XML, letter, seed};
use super::nodes::Node;
use crate::support::responders::{Responders, Tsa};
use crate::support::{self};

/// What the holder of a credential does.
#[derive(Clone, Copy, Debug)]
enum Holder {
    /// Confirms this long after being asked.
    ConfirmsAfter(Duration),
    /// Never answers.
    Silent,
    /// Refuses on the phone.
    Refuses,
    /// The provider refuses the request at once (the credential is blocked).
    Blocked,
    /// The provider answers with a signature over another hash.
    WrongSignature,
}

/// One signing request the provider received.
struct Transaction {
    credential: String,
    digest: Vec<u8>,
    asked: Instant,
    signature: Option<Vec<u8>>,
    /// Times the key signed for this transaction (the holder confirmed): must stay at most 1.
    signed: usize,
}

struct ProviderState {
    holders: HashMap<String, Holder>,
    transactions: HashMap<String, Transaction>,
    key_pem: PathBuf,
    certificates: Vec<Vec<u8>>,
}

/// The provider: its HTTP front, its state, its PKI's files (`dir/pki`).
struct Provider {
    front: Responders,
    state: Arc<Mutex<ProviderState>>,
    _pki: TestPki,
    /// A TSA of the same PKI, for B-T jobs.
    _tsa: Tsa,
}

impl Provider {
    fn start(dir: &Path, holders: &[(&str, Holder)]) -> Provider {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let name = SignerName::new("Lê Thị Cúc", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
        let (issued, key) = pki
            .issue_with_software_key(
                kyso::token::KeyAlgorithm::Rsa2048,
                &name,
                SignerProfile::Valid,
            )
            .unwrap();
        std::fs::create_dir_all(dir.join("pki")).unwrap();
        pki.write_authorities(&dir.join("pki")).unwrap();
        let key_pem = dir.join("provider-key.pem");
        std::fs::write(&key_pem, key.serialize_pem()).unwrap();
        let state = Arc::new(Mutex::new(ProviderState {
            holders: holders.iter().map(|(c, h)| ((*c).to_owned(), *h)).collect(),
            transactions: HashMap::new(),
            key_pem,
            certificates: vec![issued.der, pki.intermediate.der().to_vec()],
        }));
        let front = Responders::with_bounds(4096, Duration::from_secs(600));
        let tsa = Tsa::for_pki(&pki);
        front.serve_tsa("/tsa", &tsa);
        let handler_state = Arc::clone(&state);
        front.handle(
            "/p/",
            Arc::new(move |method, path, body| answer(&handler_state, method, path, body)),
        );
        Provider {
            front,
            state,
            _pki: pki,
            _tsa: tsa,
        }
    }

    fn url(&self) -> String {
        self.front.url("/p")
    }

    fn set_holder(&self, credential: &str, holder: Holder) {
        self.state
            .lock()
            .unwrap()
            .holders
            .insert(credential.to_owned(), holder);
    }

    /// How many times each transaction was signed, one entry per transaction the provider
    /// received (each a prompt on the holder's phone).
    fn signed(&self) -> Vec<usize> {
        let state = self.state.lock().unwrap();
        state.transactions.values().map(|t| t.signed).collect()
    }
}

fn json(status: u16, value: serde_json::Value) -> (u16, &'static str, Vec<u8>) {
    (status, "application/json", value.to_string().into_bytes())
}

/// The provider's protocol (`src/phone.rs`).
fn answer(
    state: &Mutex<ProviderState>,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, &'static str, Vec<u8>) {
    let mut state = state.lock().unwrap();
    let parts: Vec<&str> = path.trim_start_matches("/p/").split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["credentials", credential]) if state.holders.contains_key(*credential) => {
            let certificates: Vec<String> = state
                .certificates
                .iter()
                .map(|c| BASE64.encode(c))
                .collect();
            json(200, serde_json::json!({"certificates": certificates}))
        }
        ("POST", ["credentials", credential, "sign"]) => {
            let Some(holder) = state.holders.get(*credential).copied() else {
                return json(404, serde_json::json!({}));
            };
            if matches!(holder, Holder::Blocked) {
                return json(403, serde_json::json!({"error": "credential blocked"}));
            }
            let request: serde_json::Value = serde_json::from_slice(body).unwrap();
            assert_eq!(request["hash_algorithm"], "sha256");
            let digest = BASE64
                .decode(request["hashes"][0].as_str().unwrap())
                .unwrap();
            assert_eq!(digest.len(), 32);
            let id = format!("tx-{}", state.transactions.len() + 1);
            state.transactions.insert(
                id.clone(),
                Transaction {
                    credential: (*credential).to_owned(),
                    digest,
                    asked: Instant::now(),
                    signature: None,
                    signed: 0,
                },
            );
            json(200, serde_json::json!({"transaction_id": id}))
        }
        ("GET", ["transactions", id]) => {
            let key_pem = state.key_pem.clone();
            let holders = state.holders.clone();
            let Some(tx) = state.transactions.get_mut(*id) else {
                return json(404, serde_json::json!({}));
            };
            let status = match holders[&tx.credential] {
                Holder::Silent | Holder::Blocked => "pending",
                Holder::Refuses => "refused",
                Holder::ConfirmsAfter(delay) if tx.asked.elapsed() < delay => "pending",
                Holder::ConfirmsAfter(_) => {
                    if tx.signature.is_none() {
                        tx.signature = Some(openssl_sign(&key_pem, &tx.digest));
                        tx.signed += 1;
                    }
                    "done"
                }
                Holder::WrongSignature => {
                    if tx.signature.is_none() {
                        let other = kyso::signer::DigestAlgorithm::Sha256.digest(b"another text");
                        tx.signature = Some(openssl_sign(&key_pem, &other));
                        tx.signed += 1;
                    }
                    "done"
                }
            };
            match &tx.signature {
                Some(signature) if status == "done" => json(
                    200,
                    serde_json::json!({"status": "done", "signatures": [BASE64.encode(signature)]}),
                ),
                _ => json(200, serde_json::json!({"status": status})),
            }
        }
        _ => json(404, serde_json::json!({})),
    }
}

/// RSA PKCS#1 v1.5 over a SHA-256 digest, as a hash-signing provider makes it.
fn openssl_sign(key_pem: &Path, digest: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("hash"), dir.path().join("sig"));
    std::fs::write(&input, digest).unwrap();
    support::run(
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-pkeyopt", "digest:sha256", "-inkey"])
            .arg(key_pem)
            .arg("-in")
            .arg(&input)
            .arg("-out")
            .arg(&output),
    );
    std::fs::read(&output).unwrap()
}

/// A seeded ledger, and kyso.toml with one `phone:` key per `(name, credential, deadline)`,
/// all of unit STP.
fn service_config(
    dir: &Path,
    provider: &Provider,
    keys: &[(&str, &str, u64)],
    tsa_url: Option<&str>,
    max_pending: u64,
) -> (PathBuf, Keys) {
    let ledger = dir.join("ledger.sqlite");
    let api_keys = {
        let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
        seed(&mut store)
    };
    let pki = dir.join("pki");
    let mut text = format!(
        r#"
[verify]
trust = ["{pki}/root.pem"]
crls = ["{pki}/intermediate.crl", "{pki}/root.crl"]
revocation = "offline"

[serve]
ledger = "{ledger}"
shutdown_grace_secs = 2

[serve.jobs]
max_pending = {max_pending}
retention_seconds = 600
"#,
        pki = pki.display(),
        ledger = ledger.display(),
    );
    if let Some(url) = tsa_url {
        text.push_str(&format!("\n[tsa]\nurl = \"{url}\"\n"));
    }
    for (name, credential, deadline) in keys {
        text.push_str(&format!(
            r#"
[[serve.keys]]
name = "{name}"
uri = "phone:{url}"
unit = "STP"
method = "smart"

[serve.keys.phone]
credential = "{credential}"
token_source = "env:KYSO_TEST_PHONE_TOKEN"
poll_seconds = 1
deadline_seconds = {deadline}
"#,
            url = provider.url(),
        ));
    }
    let path = dir.join("kyso.toml");
    std::fs::write(&path, text).unwrap();
    (path, api_keys)
}

fn start_node(config: &Path) -> Node {
    Node::start(config, &[("KYSO_TEST_PHONE_TOKEN", "provider-token")])
}

/// Starts a job with `key` for `document_id`; returns its location.
pub(crate) fn start_job(client: &Client, api_key: &str, key: &str, document_id: &str) -> String {
    let reply = client.post(
        &format!(
            "/v1/sign/pdf?key={key}&document_id={document_id}&reason=Ph%C3%AA%20duy%E1%BB%87t"
        ),
        api_key,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 202, "{}", reply.text());
    let location = reply.header("location").unwrap().to_owned();
    assert!(location.starts_with("/v1/jobs/"), "{location}");
    assert!(reply.header("retry-after").is_some());
    let body = reply.json();
    assert_eq!(body["state"], "pending");
    assert_eq!(body["location"], location.as_str());
    assert!(
        body["message"]["vi"]
            .as_str()
            .unwrap()
            .contains("điện thoại")
    );
    location
}

/// Asks about a job until it is no longer pending (at most `within`).
pub(crate) fn wait(
    client: &Client,
    api_key: &str,
    location: &str,
    within: Duration,
) -> super::fixture::Reply {
    let started = Instant::now();
    loop {
        let reply = client.get(location, Some(api_key));
        if reply.status != 202 || started.elapsed() > within {
            return reply;
        }
        assert_eq!(reply.json()["state"], "pending");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(crate) fn signatures_by_method(ledger: &Path, method: &str) -> i64 {
    let conn = rusqlite::Connection::open(ledger).unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM signatures WHERE method = ?1",
        [method],
        |r| r.get(0),
    )
    .unwrap()
}

pub(crate) fn assert_verifies(dir: &Path, pdf: &[u8]) {
    let report = support::verifier_for(&dir.join("pki")).verify(pdf);
    assert_eq!(
        report.indication,
        kyso::verify::Indication::TotalPassed,
        "{report:?}"
    );
    let path = dir.join(format!("{}.pdf", support::unique("job")));
    std::fs::write(&path, pdf).unwrap();
    let pdfsig = support::pdfsig(&path);
    assert_eq!(pdfsig.matches("Signature is Valid.").count(), 1, "{pdfsig}");
}

#[test]
fn phone_jobs_go_done_refused_expired_failed_and_stay_with_their_unit() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(
        dir.path(),
        &[
            ("c-confirms", Holder::ConfirmsAfter(Duration::from_secs(2))),
            ("c-refuses", Holder::Refuses),
            ("c-silent", Holder::Silent),
            ("c-wrong", Holder::WrongSignature),
            ("c-blocked", Holder::Blocked),
        ],
    );
    let (config, keys) = service_config(
        dir.path(),
        &provider,
        &[
            ("stp-smart", "c-confirms", 120),
            ("stp-refuses", "c-refuses", 120),
            ("stp-silent", "c-silent", 3),
            ("stp-wrong", "c-wrong", 120),
            ("stp-blocked", "c-blocked", 120),
        ],
        Some(&provider.front.url("/tsa")),
        16,
    );
    let node = start_node(&config);
    let client = Client::new(&node.url);
    let ledger = dir.path().join("ledger.sqlite");

    // Another unit's signer may not use the key, nor see the job.
    let refused = client.post(
        "/v1/sign/pdf?key=stp-smart",
        &keys.other_signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    let done = start_job(&client, &keys.signer, "stp-smart", "job-done");
    let timestamped = start_job(&client, &keys.signer, "stp-smart", "job-bt&level=B-T");
    let xml = client.post(
        "/v1/sign/xml?key=stp-smart&document_id=job-xml",
        &keys.signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(xml.status, 202, "{}", xml.text());
    let xml = xml.header("location").unwrap().to_owned();
    let refused = start_job(&client, &keys.signer, "stp-refuses", "job-refused");
    let expired = start_job(&client, &keys.signer, "stp-silent", "job-expired");
    let failed = start_job(&client, &keys.signer, "stp-wrong", "job-failed");
    for location in [&done, &refused, &expired, &failed] {
        client
            .get(location, Some(&keys.other_signer))
            .problem(404, "not-found");
    }
    client
        .get(
            "/v1/jobs/0123456789abcdef0123456789abcdef",
            Some(&keys.signer),
        )
        .problem(404, "not-found");
    // Long-term levels are refused before the holder is asked.
    let lt = client.post(
        "/v1/sign/pdf?key=stp-smart&level=B-LT",
        &keys.signer,
        "application/pdf",
        letter(),
    );
    lt.problem(422, "level-unavailable");

    // Done: the signed PDF, once; it verifies in kyso and in pdfsig.
    let reply = wait(&client, &keys.signer, &done, Duration::from_secs(60));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert_verifies(dir.path(), &reply.body);
    client
        .get(&done, Some(&keys.signer))
        .problem(404, "not-found");
    // B-T: the time-stamp is asked for once the holder has confirmed.
    let reply = wait(&client, &keys.signer, &timestamped, Duration::from_secs(60));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_verifies(dir.path(), &reply.body);
    let report = support::verifier_for(&dir.path().join("pki")).verify(&reply.body);
    assert_eq!(report.signatures[0].format, "PAdES-B-T", "{report:?}");
    assert!(report.signatures[0].timestamp_time.is_some());
    // XML: XAdES the same way.
    let reply = wait(&client, &keys.signer, &xml, Duration::from_secs(60));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    let report = support::verifier_for(&dir.path().join("pki")).verify(&reply.body);
    assert_eq!(
        report.indication,
        kyso::verify::Indication::TotalPassed,
        "{report:?}"
    );

    // Refused on the phone.
    let reply = wait(&client, &keys.signer, &refused, Duration::from_secs(30));
    let problem = reply.problem(403, "signing-refused");
    assert!(problem["detail_vi"].as_str().unwrap().contains("từ chối"));
    assert_eq!(problem["state"], "refused");

    // Nobody confirmed before the deadline.
    let reply = wait(&client, &keys.signer, &expired, Duration::from_secs(30));
    let problem = reply.problem(410, "signing-expired");
    assert!(problem["detail_vi"].as_str().unwrap().contains("hạn"));

    // A signature that does not verify with the certificate fails the job, with no document.
    let reply = wait(&client, &keys.signer, &failed, Duration::from_secs(30));
    let problem = reply.problem(502, "signing-failed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{problem}"
    );

    // Refused by the provider at once: no job.
    let blocked = client.post(
        "/v1/sign/pdf?key=stp-blocked",
        &keys.signer,
        "application/pdf",
        letter(),
    );
    blocked.problem(403, "signing-refused");

    // Three signatures in the ledger, by the method the key names; the bad one is not there.
    assert_eq!(signatures_by_method(&ledger, "smart"), 3);
    let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
    assert_eq!(store.totals().unwrap().signatures, 3);
    assert!(provider.signed().iter().all(|n| *n <= 1));
}

#[test]
fn kill_9_with_jobs_pending_loses_none_and_signs_none_twice() {
    kill_9_and_restart_as_two_nodes(None);
}

#[test]
fn kill_9_with_jobs_pending_on_postgres() {
    let Some(url) = super::nodes::postgres_url() else {
        return;
    };
    kill_9_and_restart_as_two_nodes(Some(url));
}

/// Three jobs pending, the service killed with SIGKILL, the holder confirming while it is down,
/// two nodes restarted on the same ledger (SQLite file, or PostgreSQL at `postgres`): every job
/// done once — three signatures, three audit entries, each transaction signed once.
fn kill_9_and_restart_as_two_nodes(postgres: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), &[("c-later", Holder::Silent)]);
    let (config, sqlite_keys) = service_config(
        dir.path(),
        &provider,
        &[("stp-smart", "c-later", 300)],
        None,
        16,
    );
    let ledger = dir.path().join("ledger.sqlite");
    let schema = "t_jobs_kill".to_owned();
    let (keys, env): (Keys, Vec<(&str, String)>) = match &postgres {
        None => (sqlite_keys, Vec::new()),
        Some(url) => {
            let mut store = crate::ledger::pg_store("jobs_kill").unwrap();
            (
                seed(&mut store),
                vec![
                    ("KYSO_LEDGER_POSTGRES_URL", url.clone()),
                    ("KYSO_LEDGER_POSTGRES_SCHEMA", schema.clone()),
                ],
            )
        }
    };
    let start = || {
        let mut all: Vec<(&str, &str)> = vec![("KYSO_TEST_PHONE_TOKEN", "provider-token")];
        all.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
        Node::start(&config, &all)
    };

    let mut first = start();
    let client = Client::new(&first.url);
    let jobs: Vec<String> = (0..3)
        .map(|i| start_job(&client, &keys.signer, "stp-smart", &format!("job-{i}")))
        .collect();
    // The poller has asked about them at least once; nobody has confirmed.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(client.get(&jobs[0], Some(&keys.signer)).status, 202);
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    // The holder confirms while the service is down; two nodes come back on the same ledger
    // and both poll the same jobs.
    provider.set_holder("c-later", Holder::ConfirmsAfter(Duration::ZERO));
    let second = start();
    let third = start();
    let clients = [Client::new(&second.url), Client::new(&third.url)];
    for (i, location) in jobs.iter().enumerate() {
        let reply = wait(
            &clients[i % 2],
            &keys.signer,
            location,
            Duration::from_secs(60),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_verifies(dir.path(), &reply.body);
    }
    // Let both pollers run a few more rounds over the completed jobs.
    std::thread::sleep(Duration::from_millis(2500));
    let mut store: Box<dyn Store> = match &postgres {
        None => {
            assert_eq!(signatures_by_method(&ledger, "smart"), 3);
            Box::new(SqliteStore::open(&ledger, Durability::Normal).unwrap())
        }
        Some(url) => {
            Box::new(kyso::ledger::postgres::PgStore::connect(url, Some(&schema)).unwrap())
        }
    };
    assert_eq!(store.totals().unwrap().signatures, 3);
    let signature_entries = store
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "signature")
        .count();
    assert_eq!(signature_entries, 3, "one audit entry per job");
    assert_eq!(provider.signed(), vec![1, 1, 1]);
}

#[test]
fn a_full_job_table_refuses_new_jobs_before_the_holder_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Provider::start(dir.path(), &[("c-silent", Holder::Silent)]);
    let (config, keys) = service_config(
        dir.path(),
        &provider,
        &[("stp-smart", "c-silent", 300)],
        None,
        1,
    );
    let node = start_node(&config);
    let client = Client::new(&node.url);
    start_job(&client, &keys.signer, "stp-smart", "job-1");
    let full = client.post(
        "/v1/sign/pdf?key=stp-smart&document_id=job-2",
        &keys.signer,
        "application/pdf",
        letter(),
    );
    full.problem(503, "overloaded");
    assert_eq!(full.header("retry-after"), Some("30"));
    // Only the first request reached the holder's phone.
    assert_eq!(provider.signed().len(), 1);
}
