//! Batch verification throughput next to pyHanko, xmlsec1 and the machine's limit, from one run
//! on one generated corpus, and peak memory at 1,000 and 10,000 documents.
//!
//! `make bench` (or `cargo bench --bench batch`). The corpus — 2,000 PDFs of 50 KB–2 MB
//! (log-uniform sizes) with 1–3 signatures and 2,000 XAdES-signed XML files, signed with
//! software keys (RSA-2048 and P-256) under a throwaway PKI — is generated into
//! `target/bench-corpus/` and reused while its manifest matches. Everything is verified at the
//! instant the corpus was made, against its own CRLs (offline), so a reused corpus verifies the
//! same way later.
//!
//! Measured, in this order:
//! - kyso, in-process through `kyso::batch` on every core: cold (a fresh verifier), then warm
//!   (the same verifier again, best of two); all documents, PDFs alone, XMLs alone;
//! - kyso warm on one thread, PDFs and XMLs apart, against the machine's limit on one thread:
//!   per signature, SHA-256 over the bytes it signs plus one signature verification of its
//!   algorithm, both with aws-lc-rs (the library kyso verifies with), files already in memory;
//!   and the floor below that (each file hashed once, one verification per signature). These
//!   compare processor time (user + system, /proc/self/stat), not wall time: the machine is
//!   shared, and neighbours would otherwise decide the ratio;
//! - pyHanko 0.38 validating a sample of the same PDFs in one Python process (one
//!   ValidationContext, the same root and CRLs, hard-fail revocation, at the same instant), wall
//!   and processor time;
//! - `xmlsec1 --verify`, one process per file, on a sample of the XMLs;
//! - peak memory (VmHWM, printed by the child) of `kyso verify --batch @LIST` over 1,000 and
//!   10,000 documents (the list cycles through the corpus);
//! - small documents (issue 22): a second corpus of distinct 50–100 KB PDFs with 1–2 signatures
//!   (RSA-2048, RSA-3072 and P-256 signers), in `target/bench-corpus-small/`: kyso's processor
//!   time per document on one worker against the limit per document measured the same way in
//!   the same run, and their ratio (the size of an administrative letter, what provinces
//!   archive by the million, where per-document overhead rather than hashing decides).
//!
//! Environment: KYSO_BENCH_PDFS / KYSO_BENCH_XMLS (default 2000 each) size the corpus;
//! KYSO_BENCH_SMALL (default 2000) the small-document corpus; KYSO_BENCH_PYHANKO (default 60)
//! and KYSO_BENCH_XMLSEC (default 100) size the peer samples. KYSO_BENCH_ONLY=small runs the
//! small-document rows alone, KYSO_BENCH_ONLY=xml the one-thread XML rows alone (for profiling).
//! Targets (design §5): kyso ≥ 100× pyHanko documents/s; per signature ≤ 2× the limit, warm;
//! small documents ≤ 2× the limit per document (issue 22); peak memory at 10,000 documents
//! within 10% of that at 1,000.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _};
use kyso::batch::corpus::{CorpusPki, Rng, Who, write};
use kyso::batch::{Batch, Source, Summary};
use kyso::testpki::{PkiOptions, SignerName};
use kyso::token::KeyAlgorithm;
use kyso::verify::{Revocation, Verifier, VerifyOptions};
use time::OffsetDateTime;

/// Bumped whenever the generator changes what it writes, so that an old corpus is remade.
const CORPUS_VERSION: u32 = 1;

/// The same for the small-document corpus.
const SMALL_CORPUS_VERSION: u32 = 2;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One corpus file as the manifest lists it.
struct Entry {
    path: PathBuf,
    /// `r` (RSA-2048), `R` (RSA-3072) or `e` (P-256) per signature.
    algorithms: String,
}

struct Corpus {
    dir: PathBuf,
    at: OffsetDateTime,
    pdfs: Vec<Entry>,
    xmls: Vec<Entry>,
}

mod common;
use common::cpu_seconds;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let only = std::env::var("KYSO_BENCH_ONLY").unwrap_or_default();
    if only == "small" {
        small_documents(root);
        return;
    }
    let dir = root.join("target/bench-corpus");
    let pdfs = env_usize("KYSO_BENCH_PDFS", 2000);
    let xmls = env_usize("KYSO_BENCH_XMLS", 2000);
    let corpus = load_or_generate(&dir, pdfs, xmls);
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let pdf_signatures: usize = corpus.pdfs.iter().map(|e| e.algorithms.len()).sum();
    let pdf_bytes: u64 = corpus.pdfs.iter().map(|e| file_len(&e.path)).sum();
    println!(
        "corpus: {} PDFs ({:.0} MB, {} signatures), {} XMLs, in {}",
        corpus.pdfs.len(),
        pdf_bytes as f64 / 1e6,
        pdf_signatures,
        corpus.xmls.len(),
        corpus.dir.display()
    );

    // kyso, every core: cold (a fresh verifier), then warm (the same one, best of two).
    let all = list_file(&corpus.dir, "all", corpus.pdfs.iter().chain(&corpus.xmls));
    let pdf_list = list_file(&corpus.dir, "pdf", corpus.pdfs.iter());
    let xml_list = list_file(&corpus.dir, "xml", corpus.xmls.iter());
    let verifier = verifier(&corpus);
    if only == "xml" {
        let xml_1 = best_of(3, || run_batch(&verifier, &xml_list, 1));
        let limit_xml = best_limit(|| limit(&corpus.xmls, Hashing::PerSignature));
        println!(
            "| kyso / limit per signature, XMLs, 1 thread | {:.2}× | {:.1} µs against {:.1} µs of CPU per signature |",
            xml_1.cpu / limit_xml.cpu,
            xml_1.cpu / xml_1.summary.signatures.max(1) as f64 * 1e6,
            limit_xml.cpu / limit_xml.signatures.max(1) as f64 * 1e6
        );
        return;
    }
    let cold = run_batch(&verifier, &all, cores);
    let warm = best_of(2, || run_batch(&verifier, &all, cores));
    assert_eq!(
        warm.summary.passed,
        warm.summary.documents,
        "every corpus document must pass: {:?}",
        warm.summary.verdicts()
    );
    let pdf_all = best_of(2, || run_batch(&verifier, &pdf_list, cores));
    let xml_all = best_of(2, || run_batch(&verifier, &xml_list, cores));

    // One thread, warm, against the limit on one thread.
    let pdf_1 = best_of(2, || run_batch(&verifier, &pdf_list, 1));
    let xml_1 = best_of(2, || run_batch(&verifier, &xml_list, 1));
    let limit_pdf = best_limit(|| limit(&corpus.pdfs, Hashing::PerSignature));
    let floor_pdf = best_limit(|| limit(&corpus.pdfs, Hashing::FileOnce));
    let limit_xml = best_limit(|| limit(&corpus.xmls, Hashing::PerSignature));

    // The peers.
    let pyhanko = pyhanko_rate(&corpus, env_usize("KYSO_BENCH_PYHANKO", 60));
    let xmlsec = xmlsec_rate(&corpus, env_usize("KYSO_BENCH_XMLSEC", 100));

    // Peak memory of a child batch at 1,000 and 10,000 documents.
    let everything: Vec<&Entry> = corpus.pdfs.iter().chain(&corpus.xmls).collect();
    let mem_1k = peak_memory(&corpus, &everything, 1_000);
    let mem_10k = peak_memory(&corpus, &everything, 10_000);

    let us = |seconds: f64, n: usize| seconds / n.max(1) as f64 * 1e6;
    println!();
    println!("| measure | value | note |");
    println!("|---|---|---|");
    println!(
        "| kyso, all documents, {cores} threads, cold | {:.0} documents/s, {:.0} signatures/s | {} documents, {} signatures, {:.0} MB |",
        cold.documents_per_second(),
        cold.signatures_per_second(),
        cold.summary.documents,
        cold.summary.signatures,
        cold.summary.bytes as f64 / 1e6
    );
    println!(
        "| kyso, all documents, {cores} threads, warm | {:.0} documents/s, {:.0} signatures/s | {:.0} MB/s read and verified |",
        warm.documents_per_second(),
        warm.signatures_per_second(),
        warm.summary.bytes as f64 / 1e6 / warm.seconds
    );
    println!(
        "| kyso, PDFs, {cores} threads, warm | {:.0} documents/s, {:.0} signatures/s | |",
        pdf_all.documents_per_second(),
        pdf_all.signatures_per_second()
    );
    println!(
        "| kyso, XMLs, {cores} threads, warm | {:.0} documents/s | |",
        xml_all.documents_per_second()
    );
    // One-thread figures are per processor-second: the machine is shared, and wall time would
    // measure the neighbours.
    let per_cpu = |documents: u64, cpu: f64| documents as f64 / cpu;
    println!(
        "| kyso, PDFs, 1 thread, warm | {:.0} documents per CPU-second, {:.1} µs CPU/signature | reads each file from the page cache |",
        per_cpu(pdf_1.summary.documents, pdf_1.cpu),
        us(pdf_1.cpu, pdf_1.summary.signatures as usize)
    );
    println!(
        "| limit, PDFs, 1 thread: SHA-256 of each signature's signed bytes + 1 verification | {:.0} documents per CPU-second, {:.1} µs CPU/signature | aws-lc-rs, files in memory |",
        per_cpu(limit_pdf.documents as u64, limit_pdf.cpu),
        us(limit_pdf.cpu, limit_pdf.signatures)
    );
    println!(
        "| kyso / limit per signature, PDFs | {:.2}× | target ≤ 2×; kyso reads a prefix shared by several signatures once |",
        us(pdf_1.cpu, pdf_1.summary.signatures as usize) / us(limit_pdf.cpu, limit_pdf.signatures)
    );
    println!(
        "| floor, PDFs, 1 thread: SHA-256 of each file once + 1 verification per signature | {:.0} documents per CPU-second, {:.1} µs CPU/signature | |",
        per_cpu(floor_pdf.documents as u64, floor_pdf.cpu),
        us(floor_pdf.cpu, floor_pdf.signatures)
    );
    println!(
        "| kyso / floor, PDFs | {:.2}× | |",
        pdf_1.cpu / floor_pdf.cpu
    );
    println!(
        "| kyso, XMLs, 1 thread, warm | {:.0} documents per CPU-second, {:.1} µs CPU/signature | |",
        per_cpu(xml_1.summary.documents, xml_1.cpu),
        us(xml_1.cpu, xml_1.summary.signatures as usize)
    );
    println!(
        "| limit, XMLs, 1 thread: SHA-256 of the file + 1 verification | {:.0} documents per CPU-second, {:.1} µs CPU/signature | |",
        per_cpu(limit_xml.documents as u64, limit_xml.cpu),
        us(limit_xml.cpu, limit_xml.signatures)
    );
    println!(
        "| kyso / limit per signature, XMLs | {:.2}× | XML parsing and C14N are part of the check |",
        xml_1.cpu / limit_xml.cpu
    );
    if let Some(peer) = &pyhanko {
        println!(
            "| floor / pyHanko, PDFs, per CPU-second | {:.0}× | the most any verifier could reach on these files |",
            per_cpu(floor_pdf.documents as u64, floor_pdf.cpu) / peer.per_cpu_second
        );
    }
    match pyhanko {
        Some(peer) => {
            println!(
                "| pyHanko 0.38, 1 process, PDFs | {:.1} documents/s, {:.1} per CPU-second | sample of {} corpus PDFs, same root, CRLs and instant |",
                peer.per_second, peer.per_cpu_second, peer.documents
            );
            println!(
                "| kyso ({cores} threads) / pyHanko (1 process), PDFs, wall time | {:.0}× | target ≥ 100× |",
                pdf_all.documents_per_second() / peer.per_second
            );
            println!(
                "| kyso / pyHanko, PDFs, per CPU-second (1 core each) | {:.0}× | |",
                per_cpu(pdf_1.summary.documents, pdf_1.cpu) / peer.per_cpu_second
            );
        }
        None => {
            println!("| pyHanko | not run | `import pyhanko` failed and no venv could be made |")
        }
    }
    match xmlsec {
        Some((rate, n)) => {
            println!(
                "| xmlsec1 --verify, a process per file, XMLs | {rate:.1} documents/s | sample of {n} corpus XMLs |"
            );
            println!(
                "| kyso ({cores} threads) / xmlsec1, XMLs | {:.0}× | |",
                xml_all.documents_per_second() / rate
            );
        }
        None => println!("| xmlsec1 | not run | not installed |"),
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    match (mem_1k, mem_10k) {
        (Some(a), Some(b)) => {
            println!(
                "| peak memory, kyso verify --batch, 1,000 documents | {:.1} MiB | VmHWM of the child |",
                mib(a)
            );
            println!(
                "| peak memory, kyso verify --batch, 10,000 documents | {:.1} MiB ({:+.1}%) | target within 10% |",
                mib(b),
                (b as f64 / a as f64 - 1.0) * 100.0
            );
        }
        _ => println!("| peak memory | not measured | the child printed no VmHWM |"),
    }
    small_documents(root);
}

/// Issue 22's small documents: kyso on one worker against the limit, per document.
fn small_documents(root: &Path) {
    let count = env_usize("KYSO_BENCH_SMALL", 2000);
    let corpus = load_or_generate_small(&root.join("target/bench-corpus-small"), count);
    let signatures: usize = corpus.pdfs.iter().map(|e| e.algorithms.len()).sum();
    let bytes: u64 = corpus.pdfs.iter().map(|e| file_len(&e.path)).sum();
    let mix = |c: char| {
        corpus
            .pdfs
            .iter()
            .flat_map(|e| e.algorithms.chars())
            .filter(|&a| a == c)
            .count()
    };
    println!(
        "small corpus: {} PDFs ({:.0} KB on average, {:.2} signatures each: {} RSA-2048, {} RSA-3072, {} P-256), in {}",
        corpus.pdfs.len(),
        bytes as f64 / corpus.pdfs.len().max(1) as f64 / 1e3,
        signatures as f64 / corpus.pdfs.len().max(1) as f64,
        mix('r'),
        mix('R'),
        mix('e'),
        corpus.dir.display()
    );
    let list = list_file(&corpus.dir, "pdf", corpus.pdfs.iter());
    let verifier = verifier(&corpus);
    // The verifier alone, files already in memory as the limit has them: what the batch adds
    // besides (reading each file, the hand-off between threads) is the difference.
    let loaded: Vec<Vec<u8>> = corpus
        .pdfs
        .iter()
        .map(|e| std::fs::read(&e.path).expect("corpus file"))
        .collect();
    let verify_loaded = || {
        let cpu = cpu_seconds();
        for bytes in &loaded {
            assert!(verifier.verify(bytes).all_passed());
        }
        cpu_seconds() - cpu
    };
    // kyso, the verifier alone and the limit in turn, five rounds, the least processor time of
    // each: the machine is shared, and taking the three in the same moments keeps a neighbour's
    // build from favouring one of them.
    let mut one = run_batch(&verifier, &list, 1);
    assert_eq!(
        one.summary.passed,
        one.summary.documents,
        "every small document must pass: {:?}",
        one.summary.verdicts()
    );
    let mut in_memory = f64::INFINITY;
    let mut least_limit = limit(&corpus.pdfs, Hashing::PerSignature);
    for round in 0..5 {
        if round > 0 {
            let next = run_batch(&verifier, &list, 1);
            if next.cpu < one.cpu {
                one = next;
            }
            let next = limit(&corpus.pdfs, Hashing::PerSignature);
            if next.cpu < least_limit.cpu {
                least_limit = next;
            }
        }
        in_memory = in_memory.min(verify_loaded());
    }
    let per_document = |cpu: f64, n: u64| cpu / n.max(1) as f64 * 1e6;
    let memory_us = per_document(in_memory, loaded.len() as u64);
    let kyso_us = per_document(one.cpu, one.summary.documents);
    let limit_us = per_document(least_limit.cpu, least_limit.documents as u64);
    println!();
    println!("| measure, small documents (50–100 KB, 1–2 signatures), 1 worker | value | note |");
    println!("|---|---|---|");
    println!(
        "| kyso | {kyso_us:.1} µs CPU/document | {} documents, {} signatures, least of 5 rounds |",
        one.summary.documents, one.summary.signatures
    );
    println!(
        "| kyso's verifier alone, files in memory | {memory_us:.1} µs CPU/document | `Verifier::verify` on each file's bytes; the rest of the batch row is reading files and handing them over |"
    );
    println!(
        "| limit: SHA-256 of each signature's signed bytes + 1 verification | {limit_us:.1} µs CPU/document | aws-lc-rs, files in memory |"
    );
    println!(
        "| kyso / limit per document, small PDFs | {:.2}× | target ≤ 2× |",
        kyso_us / limit_us
    );
}

/// The faster of `n` runs: the machine is shared, and the slower run measures the neighbours.
fn best_of(n: usize, mut run: impl FnMut() -> Run) -> Run {
    let mut best = run();
    for _ in 1..n {
        let next = run();
        if next.seconds < best.seconds {
            best = next;
        }
    }
    best
}

fn best_limit(mut run: impl FnMut() -> Limit) -> Limit {
    let first = run();
    let second = run();
    if second.cpu < first.cpu {
        second
    } else {
        first
    }
}

/// A verifier trusting the corpus's root, its CRLs as the only evidence, at the corpus's instant.
fn verifier(corpus: &Corpus) -> Verifier {
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&corpus.dir.join("root.pem")).expect("root.pem");
    let mut options = VerifyOptions::new(trust, corpus.at);
    for name in ["intermediate.crl", "root.crl"] {
        let bytes = std::fs::read(corpus.dir.join(name)).expect("CRL");
        for crl in kyso::pki::crl::Crl::from_pem_or_der(&bytes).expect("CRL parses") {
            options.evidence.add_crl(crl);
        }
    }
    options.revocation = Revocation::Offline;
    Verifier::new(options)
}

struct Run {
    summary: Summary,
    seconds: f64,
    /// Processor time of this process during the run (user + system).
    cpu: f64,
}

impl Run {
    fn documents_per_second(&self) -> f64 {
        self.summary.documents as f64 / self.seconds
    }
    fn signatures_per_second(&self) -> f64 {
        self.summary.signatures as f64 / self.seconds
    }
}

fn run_batch(verifier: &Verifier, list: &Path, jobs: usize) -> Run {
    let batch = Batch::new(verifier, NonZeroUsize::new(jobs).expect("jobs > 0"));
    let mut summary = Summary::new();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    batch
        .run(&Source::List(list.to_owned()), |item| summary.add(&item))
        .expect("batch runs");
    Run {
        seconds: start.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu,
        summary,
    }
}

struct Limit {
    documents: usize,
    signatures: usize,
    cpu: f64,
}

/// What the limit hashes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hashing {
    /// Each signature's signed bytes, separately (the design's definition).
    PerSignature,
    /// Each file once, whatever its signatures (the least any verifier can read).
    FileOnce,
}

/// A corpus file in memory: its bytes, its signatures' byte ranges, their algorithms.
type Loaded<'a> = (Vec<u8>, Vec<[usize; 4]>, &'a str);

/// Per signature: SHA-256 over the bytes it signs (the /ByteRange of a PDF signature; the whole
/// document for an enveloped XML signature) plus one verification of a signature of the same
/// algorithm over a 200-byte message (a CMS signed-attributes block is about that size).
fn limit(entries: &[Entry], hashing: Hashing) -> Limit {
    let rng = SystemRandom::new();
    let message = [0x5au8; 200];
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA");
    let mut rsa_sig = vec![0; rsa.public_modulus_len()];
    rsa.sign(&sig::RSA_PKCS1_SHA256, &rng, &message, &mut rsa_sig)
        .expect("sign");
    let rsa_pub = sig::UnparsedPublicKey::new(
        &sig::RSA_PKCS1_2048_8192_SHA256,
        rsa.public_key().as_ref().to_vec(),
    );
    let rsa3 = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).expect("RSA");
    let mut rsa3_sig = vec![0; rsa3.public_modulus_len()];
    rsa3.sign(&sig::RSA_PKCS1_SHA256, &rng, &message, &mut rsa3_sig)
        .expect("sign");
    let rsa3_pub = sig::UnparsedPublicKey::new(
        &sig::RSA_PKCS1_2048_8192_SHA256,
        rsa3.public_key().as_ref().to_vec(),
    );
    let ec_pkcs8 =
        sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("EC");
    let ec = sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, ec_pkcs8.as_ref())
        .expect("EC");
    let ec_sig = ec.sign(&rng, &message).expect("sign").as_ref().to_vec();
    let ec_pub = sig::UnparsedPublicKey::new(
        &sig::ECDSA_P256_SHA256_ASN1,
        ec.public_key().as_ref().to_vec(),
    );
    // Files in memory, ranges found, before the clock starts.
    let loaded: Vec<Loaded<'_>> = entries
        .iter()
        .map(|e| {
            let bytes = std::fs::read(&e.path).expect("corpus file");
            let pdf = bytes.starts_with(b"%PDF");
            let ranges = if pdf {
                byte_ranges(&bytes)
            } else {
                vec![[0, bytes.len(), bytes.len(), 0]]
            };
            assert_eq!(
                ranges.len(),
                e.algorithms.len(),
                "{}: signatures",
                e.path.display()
            );
            (bytes, ranges, e.algorithms.as_str())
        })
        .collect();
    let signatures = loaded.iter().map(|(_, r, _)| r.len()).sum();
    let cpu = cpu_seconds();
    for (bytes, ranges, algorithms) in &loaded {
        if hashing == Hashing::FileOnce {
            std::hint::black_box(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes));
        }
        for ([a, b, c, d], algorithm) in ranges.iter().zip(algorithms.bytes()) {
            if hashing == Hashing::PerSignature {
                let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
                context.update(&bytes[*a..*a + *b]);
                context.update(&bytes[*c..*c + *d]);
                std::hint::black_box(context.finish());
            }
            let ok = match algorithm {
                b'r' => rsa_pub.verify(&message, &rsa_sig),
                b'R' => rsa3_pub.verify(&message, &rsa3_sig),
                _ => ec_pub.verify(&message, &ec_sig),
            };
            assert!(ok.is_ok());
        }
    }
    Limit {
        documents: loaded.len(),
        signatures,
        cpu: cpu_seconds() - cpu,
    }
}

/// Every `/ByteRange [a b c d]` of a PDF, in file order.
fn byte_ranges(bytes: &[u8]) -> Vec<[usize; 4]> {
    let key = b"/ByteRange";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = bytes[from..].windows(key.len()).position(|w| w == key) {
        let start = from + at + key.len();
        let text: String = bytes[start..(start + 80).min(bytes.len())]
            .iter()
            .take_while(|&&b| b != b']')
            .map(|&b| b as char)
            .collect();
        let numbers: Vec<usize> = text
            .trim_start_matches([' ', '['])
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if let Ok(range) = <[usize; 4]>::try_from(numbers) {
            out.push(range);
        }
        from = start;
    }
    out
}

/// pyHanko's pace on a sample of the PDFs.
struct Peer {
    documents: usize,
    per_second: f64,
    per_cpu_second: f64,
}

/// pyHanko's documents/s over a sample of the PDFs, one process, one ValidationContext.
fn pyhanko_rate(corpus: &Corpus, sample: usize) -> Option<Peer> {
    let python = pyhanko_python()?;
    let script = corpus.dir.join("pyhanko_validate.py");
    std::fs::write(&script, PYHANKO_SCRIPT).expect("write the pyHanko script");
    let step = (corpus.pdfs.len() / sample.max(1)).max(1);
    let files: Vec<&Path> = corpus
        .pdfs
        .iter()
        .step_by(step)
        .take(sample)
        .map(|e| e.path.as_path())
        .collect();
    let at = corpus
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let out = Command::new(&python)
        .arg(&script)
        .arg(corpus.dir.join("root.pem"))
        .arg(corpus.dir.join("intermediate.crl"))
        .arg(corpus.dir.join("root.crl"))
        .arg(&at)
        .args(&files)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find(|l| l.starts_with("RESULT")) else {
        eprintln!(
            "pyHanko run failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    };
    // RESULT documents seconds cpu_seconds valid_signatures signatures
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let [documents, seconds, cpu, valid, signatures] = fields.as_slice() else {
        return None;
    };
    if valid != signatures {
        eprintln!("pyHanko: only {valid} of {signatures} signatures valid: {text}");
    }
    Some(Peer {
        documents: *documents as usize,
        per_second: documents / seconds,
        per_cpu_second: documents / cpu,
    })
}

const PYHANKO_SCRIPT: &str = r#"
# Validates PDFs in one process with one ValidationContext (pyHanko's own caches apply), trusting
# one root, with the given CRLs, hard-fail revocation, at a given instant. Prints
# RESULT documents seconds cpu_seconds valid_signatures signatures.
import sys, time
from datetime import datetime
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

root, crl_a, crl_b, at, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
crls = [open(crl_a, 'rb').read(), open(crl_b, 'rb').read()]
moment = datetime.fromisoformat(at.replace('Z', '+00:00'))
context = ValidationContext(trust_roots=[load_cert_from_pemder(root)], crls=crls, moment=moment,
                            allow_fetching=False, revocation_mode='hard-fail')
valid = signatures = 0
start, cpu = time.perf_counter(), time.process_time()
for name in files:
    with open(name, 'rb') as f:
        reader = PdfFileReader(f)
        for signature in reader.embedded_signatures:
            status = validate_pdf_signature(signature, context)
            signatures += 1
            valid += 1 if status.bottom_line else 0
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print('RESULT', len(files), elapsed, cpu, valid, signatures)
"#;

/// `python3` if it imports pyhanko; else a venv under target/ with pyHanko installed.
fn pyhanko_python() -> Option<PathBuf> {
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", "import pyhanko, pyhanko_certvalidator"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let system = PathBuf::from("python3");
    if imports(&system) {
        return Some(system);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let python = venv.join("bin/python3");
    if !imports(&python) {
        eprintln!("installing pyHanko into {} …", venv.display());
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        let installed = made
            && Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "pyhanko==0.38.*"])
                .status()
                .is_ok_and(|s| s.success());
        if !installed || !imports(&python) {
            return None;
        }
    }
    Some(python)
}

/// xmlsec1's documents/s, one process per file, over a sample of the XMLs.
fn xmlsec_rate(corpus: &Corpus, sample: usize) -> Option<(f64, usize)> {
    Command::new("xmlsec1").arg("--version").output().ok()?;
    let step = (corpus.xmls.len() / sample.max(1)).max(1);
    let files: Vec<&Path> = corpus
        .xmls
        .iter()
        .step_by(step)
        .take(sample)
        .map(|e| e.path.as_path())
        .collect();
    // xmlsec1 reads the verification time as local time; the corpus instant in UTC with TZ=UTC.
    let at = corpus
        .at
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .expect("format");
    let start = Instant::now();
    for file in &files {
        let out = Command::new("xmlsec1")
            .env("TZ", "UTC")
            .args(["--verify", "--trusted-pem"])
            .arg(corpus.dir.join("root.pem"))
            .args(["--verification-time", &at])
            .args([
                "--id-attr:Id",
                "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            ])
            .arg(file)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "xmlsec1 rejects {}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
    }
    Some((
        files.len() as f64 / start.elapsed().as_secs_f64(),
        files.len(),
    ))
}

/// VmHWM of a child `kyso verify --batch @LIST` over `count` documents (cycling the corpus).
fn peak_memory(corpus: &Corpus, entries: &[&Entry], count: usize) -> Option<u64> {
    let list = list_file(
        &corpus.dir,
        &format!("memory-{count}"),
        entries.iter().copied().cycle().take(count),
    );
    let at = corpus
        .at
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    let out = Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(["verify", "--batch"])
        .arg(format!("@{}", list.display()))
        .arg("--trust")
        .arg(corpus.dir.join("root.pem"))
        .arg("--crl")
        .arg(corpus.dir.join("intermediate.crl"))
        .arg("--crl")
        .arg(corpus.dir.join("root.crl"))
        .args(["--revocation", "offline", "--at", &at])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains("VmHWM"))?;
    let mib: f64 = line
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((mib * 1024.0 * 1024.0) as u64)
}

fn list_file<'a>(dir: &Path, name: &str, entries: impl Iterator<Item = &'a Entry>) -> PathBuf {
    let path = dir.join(format!("list-{name}.txt"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("list file"));
    for e in entries {
        writeln!(out, "{}", e.path.display()).expect("write list");
    }
    out.flush().expect("write list");
    path
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The corpus in `dir` if its manifest matches the requested shape; else a new one.
fn load_or_generate(dir: &Path, pdfs: usize, xmls: usize) -> Corpus {
    let header = format!("kyso-bench-corpus\tv{CORPUS_VERSION}\tpdfs={pdfs}\txmls={xmls}");
    if let Some(corpus) = load(dir, &header, pdfs, xmls) {
        return corpus;
    }
    generate(dir, &header, pdfs, xmls);
    load(dir, &header, pdfs, xmls).expect("the corpus just generated")
}

/// The small-document corpus in `dir` if its manifest matches; else a new one.
fn load_or_generate_small(dir: &Path, pdfs: usize) -> Corpus {
    let header = format!("kyso-bench-small-corpus\tv{SMALL_CORPUS_VERSION}\tpdfs={pdfs}");
    if let Some(corpus) = load(dir, &header, pdfs, 0) {
        return corpus;
    }
    generate_small(dir, &header, pdfs);
    load(dir, &header, pdfs, 0).expect("the corpus just generated")
}

/// The corpus whose manifest in `dir` starts with `header` and lists every file.
fn load(dir: &Path, header: &str, pdfs: usize, xmls: usize) -> Option<Corpus> {
    let manifest = dir.join("manifest.tsv");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        let mut lines = text.lines();
        if lines.next() == Some(header)
            && let Some(at) = lines.next().and_then(|l| {
                OffsetDateTime::parse(l, &time::format_description::well_known::Rfc3339).ok()
            })
        {
            let mut corpus = Corpus {
                dir: dir.to_owned(),
                at,
                pdfs: Vec::new(),
                xmls: Vec::new(),
            };
            for line in lines {
                let mut fields = line.split('\t');
                let (Some(kind), Some(path), Some(algorithms)) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    continue;
                };
                let entry = Entry {
                    path: dir.join(path),
                    algorithms: algorithms.to_owned(),
                };
                if kind == "pdf" {
                    corpus.pdfs.push(entry);
                } else {
                    corpus.xmls.push(entry);
                }
            }
            if corpus.pdfs.len() == pdfs
                && corpus.xmls.len() == xmls
                && corpus
                    .pdfs
                    .iter()
                    .chain(&corpus.xmls)
                    .all(|e| e.path.exists())
            {
                println!("reusing the corpus in {}", dir.display());
                return Some(corpus);
            }
        }
    }
    None
}

/// The corpus's signers: an officer and a unit seal for each of six units.
fn signer_names() -> Vec<SignerName> {
    let units = [
        ("Sở Tư pháp", "Nguyễn Văn An"),
        ("Sở Tài chính", "Trần Thị Bình"),
        ("Sở Y tế", "Lê Văn Cường"),
        ("Văn phòng UBND tỉnh", "Phạm Thị Dung"),
        ("UBND huyện Thử Nghiệm", "Hoàng Văn Em"),
        ("UBND xã Thử Nghiệm", "Vũ Thị Giang"),
    ];
    units
        .iter()
        .flat_map(|(unit, person)| {
            [
                SignerName::new(person, "UBND tỉnh Thử Nghiệm", unit),
                SignerName::new(&format!("{unit} (con dấu)"), "UBND tỉnh Thử Nghiệm", unit),
            ]
        })
        .collect()
}

/// The manifest's letter for a signer's key.
fn algorithm_letter(pki: &CorpusPki, who: Who) -> char {
    match pki.algorithm(who) {
        KeyAlgorithm::Rsa2048 => 'r',
        KeyAlgorithm::Rsa3072 => 'R',
        _ => 'e',
    }
}

/// Whole seconds: the instant is written to the manifest and read back.
fn corpus_instant() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 ns is valid")
}

fn manifest_head(header: &str, at: OffsetDateTime) -> String {
    format!(
        "{header}\n{}\n",
        at.format(&time::format_description::well_known::Rfc3339)
            .expect("RFC 3339")
    )
}

/// `pdfs` distinct PDFs of 50–100 KB, each signed by one or two signers (RSA-2048, RSA-3072,
/// P-256 keys in turn).
fn generate_small(dir: &Path, header: &str, pdfs: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("corpus dir");
    let start = Instant::now();
    let at = corpus_instant();
    let pki = CorpusPki::with_algorithms(
        PkiOptions {
            at,
            ..PkiOptions::default()
        },
        &signer_names(),
        &[
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::P256,
            KeyAlgorithm::Rsa3072,
        ],
    )
    .expect("corpus PKI");
    pki.write_authorities(dir).expect("authorities");
    let mut rng = Rng::new(0x736d_616c_6c21);
    let mut manifest = manifest_head(header, at);
    for n in 0..pdfs {
        let size = rng.range(50 * 1024, 100 * 1024);
        // One signature in most letters; a second (the unit's seal) in about one in seven.
        let count = if rng.range(0, 6) == 0 { 2 } else { 1 };
        let who: Vec<Who> = (0..count)
            .map(|_| Who::Valid(rng.range(0, pki.signers() - 1)))
            .collect();
        // The file is the padding plus what each signature adds (its reserved /Contents and
        // incremental update, about 22 KB): the whole file lies in 50–100 KB.
        let pad = size.saturating_sub(count * 22 * 1024).max(8 * 1024);
        let bytes = pki.pdf(n, pad, &who).expect("PDF signs");
        let path = format!("pdf/{:02}/{n:05}.pdf", n % 20);
        write(&dir.join(&path), &bytes).expect("write PDF");
        let algorithms: String = who.iter().map(|w| algorithm_letter(&pki, *w)).collect();
        manifest.push_str(&format!("pdf\t{path}\t{algorithms}\n"));
    }
    std::fs::write(dir.join("manifest.tsv"), &manifest).expect("manifest");
    println!(
        "generated the small-document corpus in {} ({:.0} s)",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
}

fn generate(dir: &Path, header: &str, pdfs: usize, xmls: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("corpus dir");
    let start = Instant::now();
    let at = corpus_instant();
    let pki = CorpusPki::new(at, &signer_names()).expect("corpus PKI");
    pki.write_authorities(dir).expect("authorities");
    let mut rng = Rng::new(0x6b79_736f);
    let mut manifest = manifest_head(header, at);
    let algorithm = |who: &Who| algorithm_letter(&pki, *who);
    for n in 0..pdfs {
        let size = rng.log_range(50 * 1024, 2 * 1024 * 1024);
        let count = rng.range(1, 3);
        let who: Vec<Who> = (0..count)
            .map(|_| Who::Valid(rng.range(0, pki.signers() - 1)))
            .collect();
        let bytes = pki.pdf(n, size, &who).expect("PDF signs");
        let path = format!("pdf/{:02}/{n:05}.pdf", n % 20);
        write(&dir.join(&path), &bytes).expect("write PDF");
        let algorithms: String = who.iter().map(algorithm).collect();
        manifest.push_str(&format!("pdf\t{path}\t{algorithms}\n"));
    }
    for n in 0..xmls {
        let rows = rng.log_range(5, 500);
        let who = Who::Valid(rng.range(0, pki.signers() - 1));
        let bytes = pki.xml(n, rows, who).expect("XML signs");
        let path = format!("xml/{:02}/{n:05}.xml", n % 20);
        write(&dir.join(&path), &bytes).expect("write XML");
        manifest.push_str(&format!("xml\t{path}\t{}\n", algorithm(&who)));
    }
    std::fs::write(dir.join("manifest.tsv"), &manifest).expect("manifest");
    println!(
        "generated the corpus in {} ({:.0} s)",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
}
