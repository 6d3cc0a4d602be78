//! The signing-job flow's overhead per signature: the same small PDFs signed directly by a
//! PKCS#11 key over `POST /v1/sign/pdf`, and through signing jobs with a confirm-on-phone
//! provider whose holder confirms at once — with the same key.
//!
//! `cargo bench --bench jobs`. Creates a throwaway SoftHSM token under `target/bench-jobs`, an
//! RSA-2048 key with a test-PKI certificate and a SQLite ledger (`synchronous=FULL`), and runs
//! in this process `kyso serve`'s router and a provider speaking the `phone:` protocol
//! (`docs/manual/signing-jobs.md`) that signs each digest with raw `C_Sign` on the same token key
//! when it is first asked about the transaction. Then, for `KYSO_BENCH_JOBS` (default 200)
//! PDFs, with `KYSO_BENCH_CLIENTS` (default 8) clients:
//! 1. direct: `POST /v1/sign/pdf?key=stp-direct`, each answered with the signed PDF;
//! 2. jobs: `POST /v1/sign/pdf?key=stp-phone` (202), then `GET /v1/jobs/{id}` every
//!    `Retry-After` (1 s: the key's poll interval, as a caller should) until each answers the
//!    signed PDF. The poller asks every `poll_seconds = 1`, the least
//!    the configuration allows, so a job waits for the poller's next round on top of its work;
//! 3. one job alone, start to document: the latency a caller sees.
//!
//! Wall-clock and processor time (this process: server, provider, clients and SoftHSM) are
//! measured for each run; the overhead per signature is the difference divided by the count.
//! A job costs one more signing pass (the capture at the start, the signing again at the end),
//! the provider's two HTTP exchanges, the job row written, read and deleted, and the caller's
//! polls.
#![allow(
    clippy::cast_possible_truncation,
    reason = "benchmark data: counts and timings of known small range"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::{Session, UserType};

use kyso::api::{AppState, StoreConfig};
use kyso::config::Config;
use kyso::signer::DigestAlgorithm;

mod common;
use common::{BenchToken, SignerSetup, client, cpu_seconds, env_or};

const LABEL: &str = "kyso-bench-jobs";
const KEY: &str = "bench-rsa";

fn main() {
    let bench = BenchToken::create("bench-jobs", LABEL);
    let count: usize = env_or("KYSO_BENCH_JOBS", 200);
    let clients: usize = env_or("KYSO_BENCH_CLIENTS", 8);
    let setup = SignerSetup::create(&bench, KEY);

    let provider = Provider::start(&bench, &setup);
    let text = format!(
        r#"
[token]
module = "{module}"
pin_source = "file:{pin}"
[verify]
trust = ["{pki}/root.pem"]
crls = ["{pki}/intermediate.crl", "{pki}/root.crl"]
revocation = "offline"
[serve]
sign_queue = 256
[serve.jobs]
max_pending = 10000
[[serve.keys]]
name = "stp-direct"
uri = "pkcs11:token={LABEL};object={KEY}"
unit = "STP"
chain = ["{pki}/intermediate.pem"]
[[serve.keys]]
name = "stp-phone"
uri = "phone:{provider}"
unit = "STP"
method = "smart"
[serve.keys.phone]
credential = "bench"
poll_seconds = 1
deadline_seconds = 600
"#,
        module = bench.module.display(),
        pin = bench.pin_file.display(),
        pki = setup.pki_dir.display(),
        provider = provider.url,
    );
    let config = Config::parse(&text, "bench", |_| None).unwrap();
    let state = AppState::new(&config, StoreConfig::Sqlite(setup.ledger.clone())).unwrap();
    let (url, stop, server) = common::serve(state);
    let caller = Caller {
        url,
        key: setup.api_key.clone(),
        pdf: kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default()),
        next: AtomicUsize::new(0),
    };

    // Warm up both paths: the key opened, the session pool and the verifier's caches filled,
    // the provider's credential read.
    let warm = client();
    for _ in 0..10 {
        assert_eq!(caller.direct(&warm), 200);
    }
    let location = caller.start_job(&warm).expect("a job starts");
    caller.wait_jobs(&warm, vec![location]);

    let direct = measure(|| run_direct(&caller, clients, count));
    let jobs = measure(|| run_jobs(&caller, clients, count));
    let single = {
        let start = Instant::now();
        let location = caller.start_job(&warm).expect("a job starts");
        caller.wait_jobs(&warm, vec![location]);
        start.elapsed()
    };
    let _ = stop.send(());
    let _ = server.join();

    let n = count as f64;
    println!(
        "{count} one-page PDFs, RSA-2048 in {}, {clients} clients, signed directly and through jobs (poll_seconds = 1)",
        common::softhsm_version()
    );
    println!(
        "{:<44} {:>10} {:>10} {:>12} {:>12}",
        "run", "wall s", "CPU s", "sig/s wall", "sig/CPU-s"
    );
    for (name, m) in [
        ("direct: POST /v1/sign/pdf (PKCS#11 key)", &direct),
        ("jobs: 202, poller, GET /v1/jobs/{id}", &jobs),
    ] {
        println!(
            "{:<44} {:>10.2} {:>10.2} {:>12.1} {:>12.1}",
            name,
            m.wall,
            m.cpu,
            n / m.wall,
            n / m.cpu
        );
    }
    println!(
        "overhead per signature: {:+.1} ms wall, {:+.1} ms CPU; throughput through jobs ÷ direct: {:.1}% wall, {:.1}% CPU",
        1000.0 * (jobs.wall - direct.wall) / n,
        1000.0 * (jobs.cpu - direct.cpu) / n,
        100.0 * direct.wall / jobs.wall,
        100.0 * direct.cpu / jobs.cpu,
    );
    println!(
        "one job alone, start to signed PDF: {:.0} ms (the poller asks every 1 s)",
        single.as_secs_f64() * 1000.0
    );
    println!(
        "provider: {} transactions, each signed once: {}",
        provider.transactions(),
        provider.each_signed_once()
    );
    kyso::token::shutdown(Duration::from_secs(5));
}

struct Measured {
    wall: f64,
    cpu: f64,
}

fn measure(run: impl FnOnce()) -> Measured {
    let cpu = cpu_seconds();
    let start = Instant::now();
    run();
    Measured {
        wall: start.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu,
    }
}

/// `count` direct signatures from `clients` threads.
fn run_direct(caller: &Caller, clients: usize, count: usize) {
    let left = AtomicUsize::new(count);
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let client = client();
                while take(&left) {
                    assert_eq!(caller.direct(&client), 200);
                }
            });
        }
    });
}

/// `count` jobs started from `clients` threads, each thread then fetching its own jobs.
fn run_jobs(caller: &Caller, clients: usize, count: usize) {
    let left = AtomicUsize::new(count);
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let client = client();
                let mut started = Vec::new();
                while take(&left) {
                    started.push(caller.start_job(&client).expect("a job starts"));
                }
                caller.wait_jobs(&client, started);
            });
        }
    });
}

fn take(left: &AtomicUsize) -> bool {
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

type Client = ureq::Agent;

struct Caller {
    url: String,
    key: String,
    pdf: Vec<u8>,
    next: AtomicUsize,
}

impl Caller {
    fn post(&self, client: &Client, key: &str) -> (u16, Option<String>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut response = client
            .post(format!(
                "{}/v1/sign/pdf?key={key}&document_id=bench-{n}",
                self.url
            ))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/pdf")
            .send(&self.pdf[..])
            .expect("the service answers");
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let _ = response.body_mut().read_to_vec();
        (response.status().as_u16(), location)
    }

    fn direct(&self, client: &Client) -> u16 {
        self.post(client, "stp-direct").0
    }

    fn start_job(&self, client: &Client) -> Option<String> {
        match self.post(client, "stp-phone") {
            (202, location) => location,
            (status, _) => panic!("starting a job answered {status}"),
        }
    }

    /// Asks about each job every second (the `Retry-After` a 202 carries: the key's
    /// `poll_seconds`) until it answers its signed PDF.
    fn wait_jobs(&self, client: &Client, mut pending: Vec<String>) {
        while !pending.is_empty() {
            pending.retain(|location| {
                let mut response = client
                    .get(format!("{}{location}", self.url))
                    .header("authorization", format!("Bearer {}", self.key))
                    .call()
                    .expect("the service answers");
                let status = response.status().as_u16();
                let body = response.body_mut().read_to_vec().unwrap_or_default();
                match status {
                    202 => true,
                    200 => {
                        assert!(body.starts_with(b"%PDF"), "a signed PDF");
                        false
                    }
                    other => panic!("a job ended with {other}"),
                }
            });
            if !pending.is_empty() {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// A confirm-on-phone provider on 127.0.0.1 whose holder confirms at once: the first question
/// about a transaction signs its digest with raw `C_Sign` (RSA PKCS#1 v1.5 over the DigestInfo)
/// on the bench key.
struct Provider {
    url: String,
    state: Arc<Mutex<ProviderState>>,
}

struct ProviderState {
    session: Session,
    key: cryptoki::object::ObjectHandle,
    certificates: Vec<String>,
    /// Per transaction: the digest, and how many times it was signed.
    transactions: Vec<(Vec<u8>, Option<Vec<u8>>, usize)>,
}

impl Provider {
    fn start(bench: &BenchToken, setup: &SignerSetup) -> Provider {
        let (raw, slot, pin) = bench.raw();
        let session = raw.open_ro_session(slot).unwrap();
        let _ = session.login(UserType::User, Some(&pin));
        let key = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(KEY.as_bytes().to_vec()),
            ])
            .unwrap()[0];
        // The Pkcs11 handle must outlive its sessions; the bench process ends with it.
        std::mem::forget(raw);
        let state = Arc::new(Mutex::new(ProviderState {
            session,
            key,
            certificates: vec![
                BASE64.encode(&setup.certificate),
                BASE64.encode(setup.pki.intermediate.der()),
            ],
            transactions: Vec::new(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/p", listener.local_addr().unwrap());
        let served = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = Arc::clone(&served);
                std::thread::spawn(move || handle(stream, &state));
            }
        });
        Provider { url, state }
    }

    fn transactions(&self) -> usize {
        self.state.lock().unwrap().transactions.len()
    }

    fn each_signed_once(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .transactions
            .iter()
            .all(|t| t.2 == 1)
    }
}

/// One HTTP/1.1 connection: requests until the client closes it.
fn handle(stream: TcpStream, state: &Mutex<ProviderState>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = answer(state, &method, &path, &body).to_string();
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The `phone:` protocol, for the one credential.
fn answer(
    state: &Mutex<ProviderState>,
    method: &str,
    path: &str,
    body: &[u8],
) -> serde_json::Value {
    let mut state = state.lock().unwrap();
    let parts: Vec<&str> = path.trim_start_matches("/p/").split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["credentials", _]) => serde_json::json!({ "certificates": state.certificates }),
        ("POST", ["credentials", _, "sign"]) => {
            let request: serde_json::Value = serde_json::from_slice(body).unwrap();
            let digest = BASE64
                .decode(request["hashes"][0].as_str().unwrap())
                .unwrap();
            state.transactions.push((digest, None, 0));
            serde_json::json!({ "transaction_id": format!("tx-{}", state.transactions.len()) })
        }
        ("GET", ["transactions", id]) => {
            let index: usize = id.trim_start_matches("tx-").parse().unwrap();
            let ProviderState {
                session,
                key,
                transactions,
                ..
            } = &mut *state;
            let transaction = &mut transactions[index - 1];
            if transaction.1.is_none() {
                let input = DigestAlgorithm::Sha256.digest_info(&transaction.0);
                transaction.1 = Some(session.sign(&Mechanism::RsaPkcs, *key, &input).unwrap());
                transaction.2 += 1;
            }
            let signature = BASE64.encode(transaction.1.as_ref().unwrap());
            serde_json::json!({ "status": "done", "signatures": [signature] })
        }
        _ => serde_json::json!({}),
    }
}
