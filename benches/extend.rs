//! Extending signed PDFs to B-LTA, kyso next to pyHanko on the same files in the same run.
//!
//! `cargo bench --bench extend` (part of `make bench`). pyHanko 0.38 signs
//! KYSO_BENCH_EXTEND_DOCS (default 1000) copies of a sample letter at B-B (no time-stamp, no
//! validation data) with a software key of a throwaway PKI; then, one process and one thread
//! each, against the same loopback services (an `openssl ts -reply` TSA, `openssl ocsp`, CRLs
//! over HTTP):
//! - kyso (`kyso::extend`, what `kyso extend --to B-LTA` runs): a document time-stamp (the
//!   signature has no time), the DSS with the signer's and the TSA's evidence, the archive
//!   time-stamp; every document verified before and after;
//! - pyHanko: what `pyhanko sign ltvfix` and a document time-stamp with validation data do
//!   (`add_validation_info`, then `PdfTimeStamper.timestamp_pdf`), one validation context for
//!   the whole run (its best case).
//!
//! kyso asks the TSA twice per document, pyHanko once; each TSA answer is an `openssl ts`
//! process here, which both pay alike.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

#[allow(
    dead_code,
    reason = "the bench uses the responders, not every helper of the tests"
)]
#[path = "../tests/support/responders.rs"]
mod responders;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kyso::extend::{Extension, Outcome, Target};
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pki::{Certificate, TrustStore};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use kyso::verify::{Indication, Verifier, VerifyOptions};
use responders::{OcspResponder, Responders, Tsa};
use time::OffsetDateTime;

fn main() {
    let documents: usize = std::env::var("KYSO_BENCH_EXTEND_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    // Every document asks the TSA three times (kyso twice, pyHanko once), and OCSP a few.
    let front = Responders::with_bounds(documents * 4 + 200, std::time::Duration::from_secs(1800));
    let pki = TestPki::new(PkiOptions {
        crl_url: Some(front.url("/ca.crl")),
        ocsp_url: Some(front.url("/ocsp")),
        root_crl_url: Some(front.url("/root.crl")),
        ..PkiOptions::default()
    })
    .expect("a test PKI");
    let name = SignerName::new("pyHanko peer", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
    let (issued, key) = pki
        .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
        .expect("a signer");
    let tsa = Tsa::for_pki(&pki);
    front.serve_tsa("/tsa", &tsa);
    let since = pki.at() - time::Duration::hours(1);
    let week = time::Duration::days(7);
    front.serve_file("/ca.crl", pki.intermediate_crl(since, week).expect("a CRL"));
    front.serve_file("/root.crl", pki.root_crl(since, week).expect("a CRL"));
    let ocsp = OcspResponder::for_pki(&pki);
    ocsp.set_index(&pki.ocsp_index());
    front.serve_ocsp("/ocsp", &ocsp);

    let dir = tempfile::tempdir().expect("a temporary folder");
    let write = |file: &str, data: &[u8]| std::fs::write(dir.path().join(file), data).unwrap();
    write("key.pem", key.serialize_pem().as_bytes());
    write("cert.pem", issued.pem().as_bytes());
    write("chain.pem", pki.intermediate.pem().as_bytes());
    write("root.pem", pki.root.pem().as_bytes());
    write("letter.pdf", &sample_pdf(&SampleOptions::default()));
    for folder in ["in", "kyso", "pyhanko"] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pyhanko_extend.py");
    let path = |p: &str| dir.path().join(p);
    let made = Command::new("python3")
        .arg(&script)
        .args(["sign", "--count", &documents.to_string()])
        .arg("--cert")
        .arg(path("cert.pem"))
        .arg("--key")
        .arg(path("key.pem"))
        .arg("--chain")
        .arg(path("chain.pem"))
        .arg(path("letter.pdf"))
        .arg(path("in"))
        .output()
        .expect("python3 with pyHanko");
    if !made.status.success() {
        println!(
            "extend benchmark: not measured, pyHanko could not sign the inputs: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        return;
    }
    let mut inputs: Vec<_> = std::fs::read_dir(path("in"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let size = std::fs::metadata(&inputs[0]).map(|m| m.len()).unwrap_or(0);

    // kyso, one thread.
    let mut trust = TrustStore::new();
    trust.add(Certificate::from_der(pki.root.der()).unwrap());
    let verifier = Verifier::new(VerifyOptions::new(trust, OffsetDateTime::now_utc()));
    let endpoint = kyso::pades::Tsa::new(front.url("/tsa"));
    let extension = Extension {
        verifier: &verifier,
        tsa: &endpoint,
        renew_before: time::Duration::days(90),
    };
    let cpu = cpu_seconds();
    let start = Instant::now();
    for input in &inputs {
        let bytes = std::fs::read(input).unwrap();
        match extension.extend(&bytes, Target::Archive).expect("extended") {
            Outcome::Extended { document, .. } => {
                std::fs::write(path("kyso").join(input.file_name().unwrap()), document).unwrap()
            }
            other => panic!("{}: {other:?}", input.display()),
        }
    }
    let kyso_wall = start.elapsed().as_secs_f64();
    let kyso_cpu = cpu_seconds() - cpu;

    // pyHanko, one process.
    let out = Command::new("python3")
        .arg(&script)
        .arg("extend")
        .arg("--root")
        .arg(path("root.pem"))
        .args(["--tsa", &front.url("/tsa")])
        .arg(path("in"))
        .arg(path("pyhanko"))
        .output()
        .expect("python3 with pyHanko");
    let said = String::from_utf8_lossy(&out.stdout);
    let pyhanko_wall: Option<f64> = said
        .split_whitespace()
        .rev()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .filter(|_| out.status.success());

    // Every output of kyso verifies at B-LTA; a sample of pyHanko's verifies too.
    let check = |folder: &str, step: usize| {
        let mut checked = 0;
        for input in inputs.iter().step_by(step) {
            let bytes = std::fs::read(path(folder).join(input.file_name().unwrap())).unwrap();
            let report = verifier.verify(&bytes);
            assert!(
                report
                    .signatures
                    .iter()
                    .all(|s| s.indication == Indication::TotalPassed),
                "{folder} {}: {:?}",
                input.display(),
                report.signatures
            );
            checked += 1;
        }
        checked
    };
    let kyso_checked = check("kyso", 1);
    let rate = |wall: f64| documents as f64 / wall;
    println!(
        "extend benchmark: {documents} pyHanko-signed B-B PDFs of {} KB to B-LTA, one thread each",
        size / 1024
    );
    println!(
        "kyso extend        {:>8.1} documents/s  ({:.2} s wall, {:.2} s CPU; 2 TSA requests per document; {kyso_checked} outputs verified TOTAL-PASSED)",
        rate(kyso_wall),
        kyso_wall,
        kyso_cpu
    );
    match pyhanko_wall {
        Some(wall) => {
            let checked = check("pyhanko", (documents / 50).max(1));
            println!(
                "pyHanko ltvfix+DTS {:>8.1} documents/s  ({wall:.2} s wall; 1 TSA request per document; {checked} outputs verified by kyso)",
                rate(wall)
            );
            println!("kyso ÷ pyHanko     {:>8.1}×", wall / kyso_wall);
        }
        None => println!(
            "pyHanko: not measured: {}{}",
            said,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Processor time of this process so far (user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
