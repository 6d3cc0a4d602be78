//! A service on 127.0.0.1:0 in this process: a SoftHSM key with a test-PKI certificate, a
//! SQLite ledger with two units, an API key per role, and a small HTTP client.

use std::path::{Path, PathBuf};

use kyso::api::auth::{self, Role};
use kyso::api::{AppState, StoreConfig};
use kyso::audit;
use kyso::config::Config;
use kyso::ledger::Store;
use kyso::ledger::sqlite::{Durability, SqliteStore};

use crate::support::responders::{Responders, Tsa};
use crate::support::{self, MAIN_TOKEN, Signing};

/// Units every fixture ledger holds.
pub const UNITS_CSV: &str = "code,name,level,parent\nTINH,UBND tỉnh Thử Nghiệm,province,\nSTP,Sở Tư pháp,department,TINH\nSYT,Sở Y tế,department,TINH\n";

/// Test body limit: small, so that oversized bodies are cheap to send.
pub const BODY_LIMIT: u64 = 256 * 1024;

/// Test limit of the JSON endpoints' bodies, below [`BODY_LIMIT`] as the default is below the
/// default body limit.
pub const JSON_LIMIT: u64 = 64 * 1024;

/// What a fixture can change.
#[derive(Clone)]
pub struct Options {
    pub sign_workers: usize,
    pub sign_queue: usize,
    /// Add a key on a token that does not exist.
    pub missing_token_key: bool,
    /// Run an RFC 3161 TSA (`openssl ts -reply`) certified by the key's PKI, as `[tsa] url`.
    pub timestamps: bool,
    /// The signing key's certificate (valid, revoked, …).
    pub profile: kyso::testpki::SignerProfile,
    /// `[serve]` connection settings; `None` leaves the service's default.
    pub header_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    /// Offer `stp-01` as a CSC credential, with `syt-01` (the same token key, unit SYT, CSC)
    /// and `stp-plain` (unit STP, not CSC) beside it.
    pub csc: bool,
    /// `[serve] csc_sad_lifetime_secs`; `None` leaves the default.
    pub csc_sad_lifetime_secs: Option<u64>,
    /// The signing key's type (RSA-2048 unless a test needs another).
    pub key_algorithm: kyso::token::KeyAlgorithm,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sign_workers: 2,
            sign_queue: 16,
            missing_token_key: false,
            timestamps: false,
            profile: kyso::testpki::SignerProfile::Valid,
            header_read_timeout_secs: None,
            idle_timeout_secs: None,
            max_connections: None,
            csc: false,
            csc_sad_lifetime_secs: None,
            key_algorithm: kyso::token::KeyAlgorithm::Rsa2048,
        }
    }
}

pub struct Service {
    pub url: String,
    /// The key and its PKI; kept so that the key outlives the service.
    pub _signing: Signing,
    pub dir: tempfile::TempDir,
    pub ledger: PathBuf,
    pub keys: Keys,
    pub state: AppState,
    /// The TSA and its loopback front, when `timestamps` was asked for.
    pub tsa: Option<(Responders, Tsa)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// One API key per role; `other_signer` is bound to SYT, the others to STP (admin and auditor
/// to every unit).
pub struct Keys {
    pub signer: String,
    pub other_signer: String,
    pub verifier: String,
    pub auditor: String,
    pub stp_auditor: String,
    pub admin: String,
}

/// Writes kyso.toml for a service with key `stp-01` (unit STP) on the main test token.
pub fn config(
    signing: &Signing,
    dir: &Path,
    ledger: &Path,
    options: &Options,
    tsa_url: Option<&str>,
) -> Config {
    let t = support::tokens();
    let label = signing
        .key
        .uri()
        .object
        .clone()
        .expect("the test key has a label");
    let uri = t.key_uri(MAIN_TOKEN, &label);
    let mut text = format!(
        r#"
[token]
module = "{module}"
pin_source = "file:{pin}"

[verify]
trust = ["{root}"]
crls = ["{crl1}", "{crl2}"]
revocation = "offline"

[serve]
listen = "127.0.0.1:0"
max_body_bytes = {BODY_LIMIT}
max_json_body_bytes = {JSON_LIMIT}
request_timeout_secs = 30
sign_workers = {workers}
sign_queue = {queue}
ledger = "{ledger}"
{connections}
[[serve.keys]]
name = "stp-01"
uri = "{uri}"
unit = "STP"
method = "hsm"
chain = ["{intermediate}"]
"#,
        module = t.module.display(),
        pin = t.pin_file(MAIN_TOKEN).display(),
        root = dir.join("pki/root.pem").display(),
        crl1 = dir.join("pki/intermediate.crl").display(),
        crl2 = dir.join("pki/root.crl").display(),
        workers = options.sign_workers,
        queue = options.sign_queue,
        ledger = ledger.display(),
        intermediate = dir.join("pki/intermediate.pem").display(),
        connections = [
            options
                .header_read_timeout_secs
                .map(|n| format!("header_read_timeout_secs = {n}\n")),
            options
                .idle_timeout_secs
                .map(|n| format!("idle_timeout_secs = {n}\n")),
            options
                .max_connections
                .map(|n| format!("max_connections = {n}\n")),
        ]
        .into_iter()
        .flatten()
        .collect::<String>(),
    );
    if let Some(url) = tsa_url {
        text.push_str(&format!("\n[tsa]\nurl = \"{url}\"\n"));
    }
    if let Some(seconds) = options.csc_sad_lifetime_secs {
        // `[serve]` is the table the text opened; its keys must come before `[[serve.keys]]`.
        text = text.replacen(
            "[serve]\n",
            &format!("[serve]\ncsc_sad_lifetime_secs = {seconds}\n"),
            1,
        );
    }
    if options.csc {
        text = text.replacen("method = \"hsm\"\n", "method = \"hsm\"\ncsc = true\n", 1);
        for (name, unit, csc) in [("syt-01", "SYT", true), ("stp-plain", "STP", false)] {
            text.push_str(&format!(
                "\n[[serve.keys]]\nname = \"{name}\"\nuri = \"{uri}\"\nunit = \"{unit}\"\nmethod = \"token\"\ncsc = {csc}\nchain = [\"{intermediate}\"]\n",
                intermediate = dir.join("pki/intermediate.pem").display(),
            ));
        }
    }
    if options.missing_token_key {
        text.push_str(
            "\n[[serve.keys]]\nname = \"ghost\"\nuri = \"pkcs11:token=no-such-token;object=x\"\nunit = \"STP\"\n",
        );
    }
    Config::parse(&text, "test", |_| None).expect("fixture config parses")
}

/// Creates an API key of `role` bound to `units` in `store`, with its audit entry; returns the
/// key as presented to clients.
pub fn api_key(store: &mut dyn Store, role: Role, units: &[&str], label: &str) -> String {
    let units: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
    let made = auth::generate(role, &units, label).unwrap();
    let record = audit::Record::new(
        "test",
        audit::Action::ApiKeyCreated,
        made.record.key_id.clone(),
        &serde_json::json!({"role": role.as_str()}),
    );
    store.create_api_key(&made.record, &record).unwrap();
    made.presented
}

/// Imports the units and creates one API key per role in `store`.
pub fn seed(store: &mut dyn Store) -> Keys {
    let scheme = kyso::ledger::LevelScheme::default();
    let rows = kyso::ledger::units::parse_csv(UNITS_CSV.as_bytes(), &scheme).unwrap();
    kyso::ledger::units::import(store, &rows, &scheme).unwrap();
    let mut make = |role: Role, units: &[&str]| api_key(store, role, units, "test");
    Keys {
        signer: make(Role::Signer, &["STP"]),
        other_signer: make(Role::Signer, &["SYT"]),
        verifier: make(Role::Verifier, &["STP"]),
        auditor: make(Role::Auditor, &["*"]),
        stp_auditor: make(Role::Auditor, &["STP"]),
        admin: make(Role::Admin, &["*"]),
    }
}

impl Service {
    pub fn start() -> Service {
        Service::with(Options::default())
    }

    pub fn with(options: Options) -> Service {
        // Log lines show under `--nocapture` (and for failing tests).
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("kyso=info,cryptoki::mechanism=off")
            .try_init();
        let signing =
            Signing::with_profile(options.key_algorithm, "Nguyễn Văn An", options.profile);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pki")).unwrap();
        signing
            .pki
            .write_authorities(&dir.path().join("pki"))
            .unwrap();
        let ledger = dir.path().join("ledger.sqlite");
        let keys = {
            let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
            seed(&mut store)
        };
        let tsa = options.timestamps.then(|| {
            let front = Responders::start();
            let tsa = Tsa::for_pki(&signing.pki);
            front.serve_tsa("/tsa", &tsa);
            (front, tsa)
        });
        let tsa_url = tsa.as_ref().map(|(front, _)| front.url("/tsa"));
        let config = config(&signing, dir.path(), &ledger, &options, tsa_url.as_deref());
        let state = AppState::new(&config, StoreConfig::Sqlite(ledger.clone())).unwrap();
        let (url, stop, thread) = run(state.clone());
        Service {
            url,
            _signing: signing,
            dir,
            ledger,
            keys,
            state,
            tsa,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.ledger, Durability::Normal).unwrap()
    }

    pub fn verifier(&self) -> kyso::verify::Verifier {
        support::verifier_for(&self.dir.path().join("pki"))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves `state` on 127.0.0.1:0 on a runtime of its own; returns the base URL, the stop
/// switch and the thread.
pub fn run(
    state: AppState,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (bound, address) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            kyso::api::serve(
                listener,
                state,
                async {
                    let _ = stopped.await;
                },
                std::time::Duration::from_secs(10),
            )
            .await
            .unwrap();
        });
    });
    let address = address.recv().unwrap();
    (format!("http://{address}"), stop, thread)
}

/// A reply, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem document of `status` and `slug`; returns it.
    pub fn problem(&self, status: u16, slug: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let problem = self.json();
        assert_eq!(
            problem["type"],
            format!("urn:kyso:problem:{slug}"),
            "{problem}"
        );
        assert_eq!(problem["status"], status);
        assert!(
            problem["instance"]
                .as_str()
                .unwrap()
                .starts_with("urn:kyso:request:")
        );
        problem
    }
}

/// A blocking HTTP client that returns every status as a reply.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Client {
            base: base.to_owned(),
            agent,
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        if let Some(kind) = content_type {
            builder = builder.header("content-type", kind);
        }
        let request = builder.body(body).unwrap();
        let mut response = self.agent.run(request)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        self.request(method, path, key, content_type, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> Reply {
        self.call("GET", path, key, None, Vec::new())
    }

    pub fn post(&self, path: &str, key: &str, content_type: &str, body: Vec<u8>) -> Reply {
        self.call("POST", path, Some(key), Some(content_type), body)
    }
}

/// A `multipart/form-data` body: (part name, file name, bytes).
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "kyso-test-boundary-7d3f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A small one-page PDF.
pub fn letter() -> Vec<u8> {
    kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default())
}

pub const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VanBan><SoKyHieu>123/STP-VP</SoKyHieu><TrichYeu>Triển khai chữ ký số</TrichYeu></VanBan>";
