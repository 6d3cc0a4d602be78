//! Signatures per second through kyso's token layer against raw `C_Sign` on the same key.
//!
//! `make bench` (or `cargo bench --bench token`). Creates a throwaway SoftHSM token under
//! `target/bench-token`, generates RSA-2048 and P-256 keys in it, then for 1 and 2 threads runs
//! two loops of the same length on the same key:
//! - raw: `C_SignInit` + `C_Sign` of a precomputed digest on a session owned by the thread, the
//!   most a caller of the token could get;
//! - kyso: `TokenKey::sign` of a 200-byte message (a CMS signed-attributes block is about that
//!   size): hashing, a session borrowed from the pool, the same `C_Sign`.
//!
//! Each measurement is taken twice, alternating, and the better run kept, to damp noise from
//! whatever else the machine is doing. Throughput is given per wall-clock second and per second
//! of this process's CPU time: on a shared machine the second says how much work each signature
//! costs kyso, independent of what else runs. The target is kyso ≥ 90% of raw.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::sync::Arc;
use std::time::Duration;

use kyso::signer::Signer;
use kyso::token::{self, KeyAlgorithm};

mod common;
use common::{BenchToken, Rate, raw_sign_worker, run_threads, softhsm_version};

const LABEL: &str = "kyso-bench";
const RUN: Duration = Duration::from_secs(2);

fn main() {
    let bench = BenchToken::create("bench-token", LABEL);
    let token = &bench.token;
    let (raw, slot, pin) = bench.raw();

    println!("token layer vs raw C_Sign, SoftHSM {}", softhsm_version());
    println!(
        "{:<10} {:>7} {:>12} {:>12} {:>7} {:>14} {:>14} {:>7}",
        "key",
        "threads",
        "raw sig/s",
        "kyso sig/s",
        "ratio",
        "raw sig/CPU-s",
        "kyso sig/CPU-s",
        "ratio"
    );
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        let label = format!("bench-{algorithm}");
        let key = Arc::new(token::generate_key_pair(token, &label, None, algorithm).unwrap());
        for threads in [1usize, 2] {
            let mut best_raw = Rate::default();
            let mut best_kyso = Rate::default();
            for _ in 0..2 {
                best_raw = best_raw.better(run_threads(threads, RUN, || {
                    raw_sign_worker(&raw, slot, &pin, &label, key.algorithm())
                }));
                best_kyso = best_kyso.better(run_threads(threads, RUN, || {
                    let key = Arc::clone(&key);
                    let message = [0x31u8; 200];
                    move || {
                        key.sign(&message).unwrap();
                    }
                }));
            }
            println!(
                "{:<10} {:>7} {:>12.0} {:>12.0} {:>6.1}% {:>14.0} {:>14.0} {:>6.1}%",
                algorithm.to_string(),
                threads,
                best_raw.wall,
                best_kyso.wall,
                100.0 * best_kyso.wall / best_raw.wall,
                best_raw.cpu,
                best_kyso.cpu,
                100.0 * best_kyso.cpu / best_raw.cpu
            );
        }
    }
    let stats = token.stats();
    println!(
        "kyso pool: {} sessions opened for all kyso runs (max {})",
        stats.opened_total, stats.max_sessions
    );
    token::shutdown(Duration::from_secs(5));
}
