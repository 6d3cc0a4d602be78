//! The deployment of `deploy/compose.yaml`, as processes: Docker is not part of `make test`, so
//! the same topology runs on 127.0.0.1. Two `kyso serve` processes (the built binary) share one
//! SoftHSM token (made by `softhsm/token-create.sh`) and one PostgreSQL ledger, configured the
//! way the compose file configures them (the ledger's URL read from a secret file through
//! `KYSO_LEDGER_POSTGRES_URL_SOURCE`, the token PIN from another); a round-robin front with
//! health checks stands in for HAProxy (`deploy/haproxy.cfg`: `option httpchk GET /readyz`, a
//! node that refuses connections is skipped). A stream of PDFs is signed through the front while
//! one node is killed with SIGKILL: every document is signed in the end (a request cut by the
//! kill gets a retryable error and succeeds when retried), every signed PDF verifies, the ledger
//! holds exactly one `signed` row per returned document, and `kyso audit verify` finds the
//! chain intact. Also checked: `deploy/kyso.toml` parses with the compose file's environment,
//! and `deploy/healthcheck.sh` (the image's HEALTHCHECK) tells a live node from a dead one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use kyso::ledger::postgres::PgStore;

use crate::api::fixture::{letter, seed};
use crate::api::nodes::{Node, key_on_shared_token, node_config, postgres_url};
use crate::support;

/// Documents in the stream (`KYSO_DEPLOY_DOCUMENTS` changes it).
const DOCUMENTS: usize = 48;
/// Client threads sending them.
const CLIENTS: usize = 3;
/// Attempts per document: a request cut by the kill, then its retry on the surviving node, with
/// room for a 503 while that node's queue is full.
const ATTEMPTS: usize = 6;

#[test]
fn two_nodes_behind_a_front_sign_every_document_while_one_is_killed() {
    let Some(url) = postgres_url() else { return };
    let documents: usize = std::env::var("KYSO_DEPLOY_DOCUMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DOCUMENTS);
    let dir = tempfile::tempdir().unwrap();
    let label = key_on_shared_token(dir.path());
    let schema = format!("deploy_topology_{}", std::process::id());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    let mut store = PgStore::connect(&url, Some(&schema)).unwrap();
    let keys = seed(&mut store);

    // The secrets as compose mounts them: one file each, mode 600.
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    let ledger_url = secrets.join("ledger-url");
    std::fs::write(&ledger_url, format!("{url}\n")).unwrap();
    let t = support::tokens();
    let env = node_environment(&ledger_url, &schema, &t.pin_file(support::CLI_TOKEN));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = node_config(dir.path(), &label, 2, 16);
    let a = Node::start(&config, &env);
    let mut b = Node::start(&config, &env);
    let front = Front::start(&[address_of(&a.url), address_of(&b.url)]);

    // The image's HEALTHCHECK script against both nodes, as Docker runs it.
    assert!(healthcheck(&a.url, "/readyz"), "node A is ready");
    assert!(healthcheck(&b.url, "/healthz"), "node B is alive");

    let pdf = letter();
    let next = AtomicUsize::new(0);
    let acknowledged = AtomicUsize::new(0);
    let killed = AtomicBool::new(false);
    let outcomes: Vec<(String, Outcome)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (front_url, key, pdf) = (front.url.clone(), keys.signer.clone(), pdf.clone());
                let (next, acknowledged) = (&next, &acknowledged);
                s.spawn(move || {
                    // No kept-alive connections: each request is a new connection the front
                    // places, as a DMS behind a proxy would see it.
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .max_idle_connections(0)
                        .max_idle_connections_per_host(0)
                        .timeout_global(Some(Duration::from_secs(60)))
                        .build()
                        .into();
                    let mut out = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        if n >= documents {
                            break out;
                        }
                        let id = format!("deploy-{n:04}");
                        let outcome = sign_with_retries(&agent, &front_url, &key, &id, &pdf);
                        if matches!(outcome, Outcome::Signed { .. }) {
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                        out.push((id, outcome));
                    }
                })
            })
            .collect();
        // The kill: SIGKILL node B once a third of the stream is signed (bounded wait: the
        // clients finish the whole stream in well under a minute).
        for _ in 0..6000 {
            if acknowledged.load(Ordering::SeqCst) >= documents / 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        b.child.kill().unwrap();
        killed.store(true, Ordering::SeqCst);
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(killed.load(Ordering::SeqCst));
    let _ = b.child.wait();
    let served = front.connections();
    assert!(
        served[0] > 0 && served[1] > 0,
        "both nodes took requests: {served:?}"
    );
    assert!(!front.healthy(1), "the killed node is out of rotation");
    assert!(!healthcheck(&b.url, "/healthz"), "a dead node is unhealthy");

    // Every document signed, each after at most a few attempts.
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Signed { .. }))
        .take(5)
        .collect();
    assert!(failed.is_empty(), "documents not signed: {failed:?}");
    assert_eq!(outcomes.len(), documents);
    let retried = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Signed { attempts, .. } if *attempts > 1))
        .count();
    eprintln!(
        "deploy topology: {documents} documents, connections per node {served:?}, {retried} retried"
    );

    // Every signed PDF verifies, and is the document asked for.
    let verifier = support::verifier_for(&dir.path().join("pki"));
    let mut returned = BTreeSet::new();
    for (id, outcome) in &outcomes {
        let Outcome::Signed {
            document_id, pdf, ..
        } = outcome
        else {
            unreachable!("checked above")
        };
        assert_eq!(document_id, id);
        let report = verifier.verify(pdf);
        assert!(report.all_passed(), "{id}: {report:?}");
        returned.insert(id.clone());
    }

    // Exactly one `signed` row per returned document, and nothing else.
    let rows = raw
        .query(
            &format!("SELECT document_id, COUNT(*) FROM {schema}.signatures GROUP BY document_id"),
            &[],
        )
        .unwrap();
    let in_ledger: BTreeMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let expected: BTreeMap<String, i64> = returned.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(in_ledger, expected);

    // The audit chain, checked by the command an operator runs, through the same secret file.
    let out = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["audit", "verify", "--json"])
        .env("KYSO_CONFIG", &config)
        .env_remove("KYSO_LEDGER_POSTGRES_URL")
        .env(
            "KYSO_LEDGER_POSTGRES_URL_SOURCE",
            format!("file:{}", ledger_url.display()),
        )
        .env("KYSO_LEDGER_POSTGRES_SCHEMA", &schema)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kyso audit verify: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["chain"]["status"], "intact", "{stdout}");
    // One signature entry per returned document at least (a retried one may have two).
    let entries = report["chain"]["entries"].as_u64().unwrap();
    assert!(entries as usize >= returned.len(), "{stdout}");
    // The survivor still answers through the front.
    let ready = ureq::get(format!("{}/readyz", front.url)).call().unwrap();
    assert_eq!(ready.status(), 200);

    // `docker stop`: SIGTERM, and the node on PostgreSQL exits cleanly (it once panicked
    // closing its database connections on the async runtime).
    let mut a = a;
    let status = Command::new("kill")
        .args(["-TERM", &a.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = a.child.wait().unwrap();
    assert!(
        exit.success(),
        "kyso serve exited with {exit} after SIGTERM"
    );
}

#[test]
fn the_shipped_kyso_toml_parses_with_the_compose_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("deploy/kyso.toml")).unwrap();
    let compose = std::fs::read_to_string(root.join("deploy/compose.yaml")).unwrap();
    // The KYSO_* settings the compose file gives the nodes (`KEY: value` lines).
    let env: BTreeMap<String, String> = compose
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(": ")?;
            name.starts_with("KYSO_")
                .then(|| (name.to_owned(), value.trim_matches('"').to_owned()))
        })
        .collect();
    assert!(
        env.contains_key("KYSO_LEDGER_POSTGRES_URL_SOURCE"),
        "{env:?}"
    );
    let config =
        kyso::config::Config::parse(&text, "deploy/kyso.toml", |name| env.get(name).cloned())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.serve.listen, "0.0.0.0:8080");
    assert_eq!(
        config.token.pin_source.as_deref(),
        Some("file:/run/secrets/token-pin")
    );
    assert!(!config.serve.keys.is_empty());
    // Secrets are named by sources only: nothing in the file or the environment is one.
    for (name, value) in &env {
        if name.ends_with("_SOURCE") {
            kyso::secret::SecretSource::parse(value).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // The ledger is never the SQLite file inside a read-only image.
    assert!(!env.contains_key("KYSO_LEDGER_POSTGRES_URL"));
}

/// The environment of a node, as `deploy/compose.yaml` sets it (paths made local).
fn node_environment(ledger_url: &Path, schema: &str, pin: &Path) -> Vec<(&'static str, String)> {
    vec![
        // Set by the test runner's caller or not, the URL itself must not be there: the node
        // would refuse a ledger named twice.
        ("KYSO_LEDGER_POSTGRES_URL", String::new()),
        (
            "KYSO_LEDGER_POSTGRES_URL_SOURCE",
            format!("file:{}", ledger_url.display()),
        ),
        ("KYSO_LEDGER_POSTGRES_SCHEMA", schema.to_owned()),
        ("KYSO_TOKEN_PIN_SOURCE", format!("file:{}", pin.display())),
        ("KYSO_LOG_FORMAT", "json".to_owned()),
    ]
}

/// How one document ended.
#[derive(Debug)]
enum Outcome {
    Signed {
        document_id: String,
        #[allow(dead_code)]
        attempts: usize,
        pdf: Vec<u8>,
    },
    /// Still a retryable error after [`ATTEMPTS`].
    GaveUp(#[allow(dead_code)] String),
    /// An error no retry would mend.
    Failed(#[allow(dead_code)] String),
}

/// Signs `pdf` as `id` through the front, retrying what a client of a load balancer retries:
/// a connection cut or refused, 502/503/504.
fn sign_with_retries(agent: &ureq::Agent, front: &str, key: &str, id: &str, pdf: &[u8]) -> Outcome {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let result = agent
            .post(format!("{front}/v1/sign/pdf?key=stp-01&document_id={id}"))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/pdf")
            .send(pdf);
        match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let document_id = response
                    .headers()
                    .get("x-kyso-document-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024 * 1024)
                    .read_to_vec();
                match (status, body) {
                    (200, Ok(pdf)) => {
                        return Outcome::Signed {
                            document_id,
                            attempts: attempt,
                            pdf,
                        };
                    }
                    // The response was cut: the node died while sending it.
                    (200, Err(e)) => last = format!("200 then {e}"),
                    (502..=504, body) => {
                        last = format!(
                            "{status} {}",
                            String::from_utf8_lossy(&body.unwrap_or_default())
                        );
                    }
                    (status, body) => {
                        return Outcome::Failed(format!(
                            "{status} {}",
                            String::from_utf8_lossy(&body.unwrap_or_default())
                        ));
                    }
                }
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100 * attempt as u64));
    }
    Outcome::GaveUp(last)
}

/// `deploy/healthcheck.sh PATH` against the node at `url`, as the image's HEALTHCHECK runs it.
fn healthcheck(url: &str, path: &str) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/healthcheck.sh");
    Command::new("bash")
        .arg(&script)
        .arg(path)
        .env("KYSO_SERVE_LISTEN", address_of(url).to_string())
        .status()
        .unwrap()
        .success()
}

fn address_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// A load balancer in miniature: round robin over the nodes that pass their `/readyz` check,
/// a node that refuses a connection taken out at once; bytes relayed both ways (TCP mode).
struct Front {
    url: String,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    backends: Vec<Backend>,
    next: AtomicUsize,
    stop: AtomicBool,
}

struct Backend {
    address: SocketAddr,
    healthy: AtomicBool,
    connections: AtomicUsize,
}

impl Front {
    fn start(nodes: &[SocketAddr]) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            backends: nodes
                .iter()
                .map(|address| Backend {
                    address: *address,
                    healthy: AtomicBool::new(true),
                    connections: AtomicUsize::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            while !accepting.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let relay = Arc::clone(&accepting);
                        std::thread::spawn(move || relay.relay(client));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        let checking = Arc::clone(&shared);
        let checker = std::thread::spawn(move || {
            while !checking.stop.load(Ordering::SeqCst) {
                for backend in &checking.backends {
                    backend
                        .healthy
                        .store(ready(backend.address), Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Front {
            url,
            shared,
            threads: vec![accept, checker],
        }
    }

    fn connections(&self) -> Vec<usize> {
        self.shared
            .backends
            .iter()
            .map(|b| b.connections.load(Ordering::SeqCst))
            .collect()
    }

    fn healthy(&self, node: usize) -> bool {
        self.shared.backends[node].healthy.load(Ordering::SeqCst)
    }
}

impl Shared {
    fn relay(&self, client: TcpStream) {
        let _ = client.set_nonblocking(false);
        let n = self.backends.len();
        let start = self.next.fetch_add(1, Ordering::SeqCst);
        let upstream = (0..n)
            .map(|i| &self.backends[(start + i) % n])
            .filter(|b| b.healthy.load(Ordering::SeqCst))
            .find_map(
                |b| match TcpStream::connect_timeout(&b.address, Duration::from_secs(1)) {
                    Ok(stream) => {
                        b.connections.fetch_add(1, Ordering::SeqCst);
                        Some(stream)
                    }
                    Err(_) => {
                        b.healthy.store(false, Ordering::SeqCst);
                        None
                    }
                },
            );
        let Some(upstream) = upstream else {
            let _ = (&client).write_all(
                b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
            return;
        };
        let (Ok(mut from_client), Ok(mut to_upstream)) = (client.try_clone(), upstream.try_clone())
        else {
            return;
        };
        let forward = std::thread::spawn(move || {
            let _ = std::io::copy(&mut from_client, &mut to_upstream);
            let _ = to_upstream.shutdown(Shutdown::Write);
        });
        let _ = std::io::copy(&mut &upstream, &mut &client);
        // The node answered and closed, or died: either way the client's connection ends here.
        let _ = client.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
        let _ = forward.join();
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// HAProxy's `option httpchk GET /readyz`: 200 within two seconds.
fn ready(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /readyz HTTP/1.1\r\nhost: kyso\r\nconnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
