//! CSC `signatures/signHash` throughput against SoftHSM's raw `C_Sign` rate on the same key
//! (issue 18: target ≥ 80% of raw).
//!
//! `cargo bench --bench csc`. Creates a throwaway SoftHSM token under `target/bench-csc`, an
//! RSA-2048 key with a test-PKI certificate offered as a CSC credential, a SQLite ledger
//! (`synchronous=FULL`, the default), and runs `kyso serve`'s router on 127.0.0.1:0 in this
//! process. Then, each for `KYSO_BENCH_SECS` (default 5) seconds:
//! 1. raw: `C_Sign` of a precomputed DigestInfo, one session per thread, as many threads as
//!    cores;
//! 2. CSC, one signature per transaction: `KYSO_BENCH_CLIENTS` (default 8) clients each looping
//!    `credentials/authorize` (one hash) + `signatures/signHash` (what pyHanko's CSCSigner does
//!    per PDF signature);
//! 3. CSC, a batch per transaction: the same with `KYSO_BENCH_BATCH` (default 16) hashes per SAD
//!    and per signHash.
//!
//! A signature here is: authentication, the SAD's issue and redemption, the queue, `C_Sign`, the
//! ledger event and audit entry committed (group commit), the response; the client runs on the
//! same cores. Rates are signatures per wall-clock second and per second of this process's
//! processor time (SoftHSM, server and client all run in it).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "benchmark data: counts and timings of known small range"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use kyso::api::{AppState, StoreConfig};
use kyso::config::Config;
use kyso::signer::{DigestAlgorithm, SignatureAlgorithm};
use serde_json::{Value, json};

mod common;
use common::{
    BenchToken, Rate, SignerSetup, client, env_or, raw_sign_worker, run_threads, softhsm_version,
};

const LABEL: &str = "kyso-bench-csc";
const KEY: &str = "bench-rsa";

fn main() {
    let bench = BenchToken::create("bench-csc", LABEL);
    let run = Duration::from_secs(env_or("KYSO_BENCH_SECS", 5));
    let clients: usize = env_or("KYSO_BENCH_CLIENTS", 8);
    let batch: usize = env_or("KYSO_BENCH_BATCH", 16);

    let setup = SignerSetup::create(&bench, KEY);

    // 1. Raw C_Sign.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (raw, slot, pin) = bench.raw();
    let rsa = SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256);
    let raw_rate = run_threads(cores, run, || raw_sign_worker(&raw, slot, &pin, KEY, rsa));

    // The service.
    let text = format!(
        r#"
[token]
module = "{module}"
pin_source = "file:{pin}"
[serve]
sign_queue = 256
[[serve.keys]]
name = "stp-01"
uri = "pkcs11:token={LABEL};object={KEY}"
unit = "STP"
csc = true
chain = ["{pki}/intermediate.pem"]
"#,
        module = bench.module.display(),
        pin = bench.pin_file.display(),
        pki = setup.pki_dir.display(),
    );
    let config = Config::parse(&text, "bench", |_| None).unwrap();
    let state = AppState::new(&config, StoreConfig::Sqlite(setup.ledger)).unwrap();
    let (url, stop, server) = common::serve(state);
    let target = Arc::new(Target {
        url,
        key: setup.api_key,
        next: AtomicU64::new(0),
    });
    // Warm up: open the key, fill the session pool.
    let warm = client();
    for _ in 0..20 {
        target.transaction(&warm, 1);
    }

    // 2. and 3.: signatures per second, one per transaction and a batch per transaction.
    let single = csc_rate(&target, clients, run, 1);
    let batched = csc_rate(&target, clients, run, batch);

    let _ = stop.send(());
    let _ = server.join();
    println!(
        "CSC signHash through HTTP vs raw C_Sign, RSA-2048, SoftHSM {}",
        softhsm_version()
    );
    println!(
        "{:<44} {:>10} {:>9} {:>12} {:>9}",
        "run", "sig/s", "vs raw", "sig/CPU-s", "vs raw"
    );
    for (name, rate) in [
        (format!("raw C_Sign, {cores} threads"), raw_rate),
        (
            format!("CSC authorize + signHash, 1 hash, {clients} clients"),
            single,
        ),
        (
            format!("CSC authorize + signHash, {batch} hashes, {clients} clients"),
            batched,
        ),
    ] {
        println!(
            "{:<44} {:>10.0} {:>8.1}% {:>12.0} {:>8.1}%",
            name,
            rate.wall,
            100.0 * rate.wall / raw_rate.wall,
            rate.cpu,
            100.0 * rate.cpu / raw_rate.cpu
        );
    }
    kyso::token::shutdown(Duration::from_secs(5));
}

struct Target {
    url: String,
    key: String,
    /// Makes every hash distinct, so that each signature is its own ledger event.
    next: AtomicU64,
}

impl Target {
    /// One CSC transaction of `hashes` signatures; panics on anything but success, so a
    /// refusal cannot pass for speed.
    fn transaction(&self, client: &ureq::Agent, hashes: usize) {
        let hashes: Vec<String> = (0..hashes)
            .map(|_| {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                base64::engine::general_purpose::STANDARD
                    .encode(DigestAlgorithm::Sha256.digest(&n.to_be_bytes()))
            })
            .collect();
        let sad = self.post(
            client,
            "credentials/authorize",
            &json!({"credentialID": "stp-01", "numSignatures": hashes.len(), "hashes": hashes}),
        )["SAD"]
            .clone();
        let signed = self.post(
            client,
            "signatures/signHash",
            &json!({"credentialID": "stp-01", "SAD": sad, "hashes": hashes, "signAlgo": "1.2.840.113549.1.1.11"}),
        );
        assert_eq!(
            signed["signatures"].as_array().map(Vec::len),
            Some(hashes.len())
        );
    }

    fn post(&self, client: &ureq::Agent, method: &str, body: &Value) -> Value {
        let mut response = client
            .post(format!("{}/csc/v2/{method}", self.url))
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/json")
            .send(serde_json::to_vec(body).unwrap().as_slice())
            .unwrap();
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_vec().unwrap();
        assert_eq!(status, 200, "{method}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

/// Signatures per second with `clients` looping transactions of `batch` hashes.
fn csc_rate(target: &Arc<Target>, clients: usize, run: Duration, batch: usize) -> Rate {
    let per_transaction = run_threads(clients, run, || {
        let target = Arc::clone(target);
        let client = client();
        move || target.transaction(&client, batch)
    });
    Rate {
        wall: per_transaction.wall * batch as f64,
        cpu: per_transaction.cpu * batch as f64,
    }
}
