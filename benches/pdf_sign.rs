//! PDF signing rate (PAdES B-B) against SoftHSM's raw `C_Sign` rate on the same key, same run.
//!
//! `cargo bench --bench pdf_sign`. Creates a throwaway SoftHSM token under `target/bench-pdf`,
//! generates RSA-2048 and P-256 keys in it with certificates from a test PKI, then for 1 and 2
//! threads runs loops of the same length on the same key:
//! - raw: `C_SignInit` + `C_Sign` of a precomputed digest on a session owned by the thread, the
//!   most any signer of this token could get;
//! - kyso: `pades::sign` of a 100 KB and a 10 MB document and the signed file copied out into a
//!   buffer, as the HTTP service would stream it: parse, incremental update, hashing of the
//!   byte ranges, CMS, the same `C_Sign` through the session pool.
//!
//! Each figure is the better of two alternating runs, per wall-clock second and per second of
//! the process's CPU time, to see through noise from whatever else the machine does. Target: kyso ≥ 90% of raw for the small document (design §5). Then pyHanko's
//! rate on the same 100 KB file (benches/pyhanko_sign.py): through SoftHSM when python-pkcs11
//! is installed, else with a software key from PEM files, as its output line says.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use kyso::cms::SignerIdentity;
use kyso::pades::Level;
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signer::Signer;
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::{self, KeyAlgorithm};

mod common;
use common::{BenchToken, Rate, raw_sign_worker, run_threads, softhsm_version};

const LABEL: &str = "kyso-bench-pdf";
const RUN: Duration = Duration::from_secs(2);
/// Signing time written into every benchmark signature: benches do not read the clock.
const SIGNING_TIME: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

fn main() {
    let bench = BenchToken::create("bench-pdf", LABEL);
    let token = &bench.token;
    let dir = bench.dir.clone();
    let module = bench.module.as_path();
    let (raw, slot, pin) = bench.raw();
    let pin_text = std::fs::read_to_string(&bench.pin_file)
        .expect("the PIN file")
        .trim()
        .to_owned();

    let pki = TestPki::new(PkiOptions {
        at: SIGNING_TIME,
        ..PkiOptions::default()
    })
    .expect("test PKI");
    let documents = [
        ("100 KB", Arc::new(document(100 * 1024))),
        ("10 MB", Arc::new(document(10 * 1024 * 1024))),
    ];
    let small_path = dir.join("small.pdf");
    std::fs::write(&small_path, documents[0].1.as_slice()).unwrap();

    println!(
        "PAdES B-B signing vs raw C_Sign on the same key, SoftHSM {}",
        softhsm_version()
    );
    println!(
        "{:<10} {:>8} {:>7} {:>10} {:>10} {:>7} {:>12} {:>12} {:>7}",
        "key",
        "document",
        "threads",
        "raw sig/s",
        "kyso PDF/s",
        "ratio",
        "raw sig/CPU-s",
        "kyso PDF/CPU-s",
        "ratio"
    );
    let mut peers = Vec::new();
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        let label = format!("bench-{algorithm}");
        let key = token::generate_key_pair(token, &label, None, algorithm).unwrap();
        let name = SignerName::new("Nguyễn Văn Bench", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
        let certificate = pki
            .issue(key.public_key_spki(), &name, SignerProfile::Valid)
            .unwrap();
        token::import_certificate(token, &label, None, &certificate.der).unwrap();
        let key = Arc::new(key);
        let certificate = Arc::new(certificate.der);
        let chain = Arc::new(vec![pki.intermediate.der().to_vec()]);
        for (size, document) in &documents {
            for threads in [1usize, 2] {
                let mut best_raw = Rate::default();
                let mut best_kyso = Rate::default();
                for _ in 0..2 {
                    best_raw = best_raw.better(run_threads(threads, RUN, || {
                        raw_sign_worker(&raw, slot, &pin, &label, key.algorithm())
                    }));
                    best_kyso = best_kyso.better(run_threads(threads, RUN, || {
                        let (key, certificate, chain, document) = (
                            Arc::clone(&key),
                            Arc::clone(&certificate),
                            Arc::clone(&chain),
                            Arc::clone(document),
                        );
                        let mut out = Vec::with_capacity(document.len() + 64 * 1024);
                        move || {
                            let identity = SignerIdentity {
                                signer: key.as_ref(),
                                certificate: &certificate,
                                chain: &chain,
                            };
                            let options = SignatureOptions::new(
                                SIGNING_TIME,
                                kyso::pades::contents_size(&identity, &Level::BB),
                            );
                            let signed =
                                kyso::pades::sign(&document, &identity, &options, &Level::BB)
                                    .unwrap();
                            out.clear();
                            signed.write_to(&mut out).unwrap();
                        }
                    }));
                }
                println!(
                    "{:<10} {:>8} {:>7} {:>10.0} {:>10.0} {:>6.1}% {:>12.0} {:>12.0} {:>6.1}%",
                    algorithm.to_string(),
                    size,
                    threads,
                    best_raw.wall,
                    best_kyso.wall,
                    100.0 * best_kyso.wall / best_raw.wall,
                    best_raw.cpu,
                    best_kyso.cpu,
                    100.0 * best_kyso.cpu / best_raw.cpu,
                );
            }
        }
        // The same kind of key in software, for pyHanko when it cannot reach the token.
        let (soft_cert, soft_key) = pki
            .issue_with_software_key(algorithm, &name, SignerProfile::Valid)
            .unwrap();
        std::fs::write(
            dir.join(format!("{label}.key.pem")),
            soft_key.serialize_pem(),
        )
        .unwrap();
        std::fs::write(dir.join(format!("{label}.cert.pem")), soft_cert.pem()).unwrap();
        peers.push((algorithm, label));
    }

    println!();
    println!("pyHanko on the same 100 KB file, one process, one thread:");
    for (algorithm, label) in &peers {
        match pyhanko_rate(module, &pin_text, label, &small_path, &pki, &dir) {
            Ok(line) => println!("{:<10} {line}", algorithm.to_string()),
            Err(why) => println!("{:<10} not measured: {why}", algorithm.to_string()),
        }
    }
    let stats = token.stats();
    println!(
        "kyso pool: {} sessions opened for all kyso runs (max {})",
        stats.opened_total, stats.max_sessions
    );
    token::shutdown(Duration::from_secs(5));
}

/// A sample document of about `size` bytes.
fn document(size: usize) -> Vec<u8> {
    sample_pdf(&SampleOptions {
        pad_to: size,
        ..SampleOptions::default()
    })
}

/// Runs benches/pyhanko_sign.py for [`RUN`]; its one-line report, or why it could not run.
fn pyhanko_rate(
    module: &Path,
    pin: &str,
    label: &str,
    input: &Path,
    pki: &TestPki,
    dir: &Path,
) -> Result<String, String> {
    let chain = dir.join("chain.pem");
    std::fs::write(&chain, pki.intermediate.pem()).map_err(|e| e.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pyhanko_sign.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--module"])
        .arg(module)
        .args(["--token", LABEL, "--label", label, "--seconds"])
        .arg(RUN.as_secs().to_string())
        .arg("--chain")
        .arg(&chain)
        .arg("--pem-key")
        .arg(dir.join(format!("{label}.key.pem")))
        .arg("--pem-cert")
        .arg(dir.join(format!("{label}.cert.pem")))
        .arg(input)
        .env("KYSO_BENCH_PIN", pin)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
