//! Sign requests per second through HTTP against SoftHSM's raw `C_Sign` rate on the same key,
//! and latency at 50% and 90% of saturation.
//!
//! `cargo bench --bench api`. Creates a throwaway SoftHSM token under `target/bench-api`, an
//! RSA-2048 key with a test-PKI certificate, a SQLite ledger (`synchronous=FULL`, the default),
//! and runs `kyso serve`'s router on 127.0.0.1:0 in this process. Then:
//! 1. raw: `C_Sign` of a precomputed DigestInfo, one session per thread, 2 threads (the cores);
//! 2. saturation: closed loop, `KYSO_BENCH_CLIENTS` (default 8) clients sending
//!    `POST /v1/sign/pdf` of a one-page PDF for `KYSO_BENCH_SECS` (default 5) seconds;
//! 3. open loop at 50% and 90% of the saturated rate: requests are issued on a fixed schedule
//!    and latency is measured from the scheduled start (so queueing is counted, no coordinated
//!    omission); p50 and p99.
//!
//! The client runs on the same 2 cores as the server, so the HTTP figure includes the client's
//! cost too; a request is: authentication, queue, PDF preparation, C_Sign, CMS, self-check
//! verification, ledger event + audit entry committed (group commit), response.
//! The target is HTTP ≥ 80% of raw.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;

use kyso::api::{AppState, StoreConfig};
use kyso::config::Config;
use kyso::signer::DigestAlgorithm;
use kyso::token;

mod common;
use common::{BenchToken, client, env_or};

const LABEL: &str = "kyso-bench-api";
const KEY: &str = "bench-rsa";

fn main() {
    let bench = BenchToken::create("bench-api", LABEL);
    let secs: u64 = env_or("KYSO_BENCH_SECS", 5);
    let clients: usize = env_or("KYSO_BENCH_CLIENTS", 8);
    let run = Duration::from_secs(secs);

    let setup = common::SignerSetup::create(&bench, KEY);
    let pki_dir = setup.pki_dir.clone();

    // 1. Raw C_Sign, one session per thread, as many threads as cores.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let raw_rate = raw_rate(&bench, cores, run);

    // The service.
    let ledger = setup.ledger.clone();
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
[[serve.keys]]
name = "stp-01"
uri = "pkcs11:token={LABEL};object={KEY}"
unit = "STP"
chain = ["{pki}/intermediate.pem"]
"#,
        module = bench.module.display(),
        pin = bench.pin_file.display(),
        pki = pki_dir.display(),
    );
    let config = Config::parse(&text, "bench", |_| None).unwrap();
    let state = AppState::new(&config, StoreConfig::Sqlite(ledger)).unwrap();
    let (url, stop, server) = common::serve(state);
    let pdf = kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default());
    let target = Arc::new(Target {
        url: format!("{url}/v1/sign/pdf?key=stp-01"),
        key: setup.api_key.clone(),
        pdf,
        next: AtomicUsize::new(0),
    });
    // Warm up: open the key, fill the session pool and the verifier's caches.
    let warm = client();
    for _ in 0..20 {
        assert_eq!(target.send(&warm), 200);
    }

    // 2. Saturation, closed loop.
    let saturated = closed_loop(&target, clients, run);
    // 3. Open loop at 50% and 90%.
    let half = open_loop(&target, saturated.rate * 0.5, run, clients * 4);
    let ninety = open_loop(&target, saturated.rate * 0.9, run, clients * 4);

    let _ = stop.send(());
    let _ = server.join();
    println!(
        "sign requests through HTTP vs raw C_Sign, RSA-2048, SoftHSM {}",
        softhsm_version()
    );
    println!(
        "{:<34} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "run", "req/s", "p50 ms", "p99 ms", "vs raw", "errors"
    );
    println!(
        "{:<34} {:>10.0} {:>9} {:>9} {:>9} {:>7}",
        format!("raw C_Sign, {cores} threads"),
        raw_rate,
        "-",
        "-",
        "100%",
        0
    );
    for (name, m) in [
        (format!("HTTP saturated, {clients} clients"), &saturated),
        (
            format!("HTTP open loop at 50% ({:.0}/s)", saturated.rate * 0.5),
            &half,
        ),
        (
            format!("HTTP open loop at 90% ({:.0}/s)", saturated.rate * 0.9),
            &ninety,
        ),
    ] {
        println!(
            "{:<34} {:>10.0} {:>9.1} {:>9.1} {:>8.1}% {:>7}",
            name,
            m.rate,
            m.p50 * 1000.0,
            m.p99 * 1000.0,
            100.0 * m.rate / raw_rate,
            m.errors
        );
    }
    token::shutdown(Duration::from_secs(5));
}

struct Target {
    url: String,
    key: String,
    pdf: Vec<u8>,
    next: AtomicUsize,
}

type Client = ureq::Agent;

impl Target {
    fn send(&self, client: &Client) -> u16 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let result = client
            .post(format!("{}&document_id=bench-{n}", self.url))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/pdf")
            .send(&self.pdf[..]);
        match result {
            Ok(mut response) => {
                let _ = response.body_mut().read_to_vec();
                response.status().as_u16()
            }
            Err(_) => 0,
        }
    }
}

struct Measured {
    rate: f64,
    p50: f64,
    p99: f64,
    errors: usize,
}

fn summarise(mut latencies: Vec<f64>, errors: usize, took: Duration) -> Measured {
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    Measured {
        rate: latencies.len() as f64 / took.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
        errors,
    }
}

fn closed_loop(target: &Arc<Target>, clients: usize, run: Duration) -> Measured {
    let start = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let client = client();
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    while start.elapsed() < run {
                        let t = Instant::now();
                        if target.send(&client) == 200 {
                            latencies.push(t.elapsed().as_secs_f64());
                        } else {
                            errors += 1;
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let took = start.elapsed();
    let errors = results.iter().map(|r| r.1).sum();
    summarise(
        results.into_iter().flat_map(|r| r.0).collect(),
        errors,
        took,
    )
}

/// Issues requests at `rate` per second on a fixed schedule from `workers` threads; latency
/// counts from each request's scheduled time.
fn open_loop(target: &Arc<Target>, rate: f64, run: Duration, workers: usize) -> Measured {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total = (run.as_secs_f64() * rate) as usize;
    let ticket = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(total));
    let errors = AtomicUsize::new(0);
    let start = Instant::now() + Duration::from_millis(50);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let client = client();
                loop {
                    let n = ticket.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let due = start + interval * n as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if target.send(&client) == 200 {
                        latencies.lock().unwrap().push(due.elapsed().as_secs_f64());
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let took = start.elapsed();
    summarise(latencies.into_inner().unwrap(), errors.into_inner(), took)
}

fn raw_rate(bench: &BenchToken, threads: usize, run: Duration) -> f64 {
    let (raw, slot, pin) = bench.raw();
    let digest = DigestAlgorithm::Sha256.digest(b"bench");
    let input = DigestAlgorithm::Sha256.digest_info(&digest);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        (0..threads)
            .map(|_| {
                let session = raw.open_ro_session(slot).unwrap();
                let _ = session.login(UserType::User, Some(&pin));
                let handle = session
                    .find_objects(&[
                        Attribute::Class(ObjectClass::PRIVATE_KEY),
                        Attribute::Label(KEY.as_bytes().to_vec()),
                    ])
                    .unwrap()[0];
                let input = input.clone();
                s.spawn(move || {
                    let mut n = 0u64;
                    while start.elapsed() < run {
                        session.sign(&Mechanism::RsaPkcs, handle, &input).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn softhsm_version() -> String {
    Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}
