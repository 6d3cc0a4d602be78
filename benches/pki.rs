//! Path validation throughput and CRL lookup cost.
//!
//! Run: `cargo bench --bench pki` (plain `main`, prints a table). Figures on the reference
//! machine are in the pki report / BENCHMARKS.md.
//!
//! - cold: a fresh `Validator` per validation (empty signature cache), leaf parsed from DER each
//!   time: what the first document of a new signer costs.
//! - warm: one shared `Validator`; signature results cached: what a batch pays per document.
//!
//! Both check revocation against an in-memory CRL (embedded evidence), as a PAdES-LT document
//! carries it.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use kyso::pki::crl::Crl;
use kyso::pki::{
    CertPool, Certificate, Evidence, RevocationCheck, RevocationPolicy, TrustStore,
    UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use rcgen::{
    CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use time::{Duration as TimeDuration, OffsetDateTime};

/// How long each measurement runs.
const RUN: Duration = Duration::from_secs(2);
/// Entries in the large CRL (the issue's figure).
const LARGE_CRL_ENTRIES: u64 = 100_000;

fn per_second(mut f: impl FnMut()) -> (f64, u64) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < RUN {
        f();
        n += 1;
    }
    (n as f64 / start.elapsed().as_secs_f64(), n)
}

fn main() {
    let at =
        OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("BUG: constant time is valid");
    println!("{:<58} {:>14}", "measurement", "result");
    println!("{}", "-".repeat(74));
    for ca in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        chain_bench(at, ca);
    }
    crl_bench(at);
}

fn chain_bench(at: OffsetDateTime, ca_algorithm: KeyAlgorithm) {
    let pki = TestPki::new(PkiOptions {
        at,
        ca_algorithm,
        ..PkiOptions::default()
    })
    .expect("test PKI");
    let (leaf, _) = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("Bench", "kyso", "bench"),
            SignerProfile::Valid,
        )
        .expect("leaf");
    let crl = Crl::from_der(
        &pki.intermediate_crl(at - TimeDuration::hours(1), TimeDuration::days(7))
            .expect("crl"),
    )
    .expect("crl parses");
    let mut evidence = Evidence::new();
    evidence.add_crl(crl);
    let root = Certificate::from_der(pki.root.der()).expect("root");
    let intermediate = Certificate::from_der(pki.intermediate.der()).expect("intermediate");
    let policy = ValidationPolicy {
        revocation: RevocationPolicy {
            check: RevocationCheck::EndEntityOnly,
            unknown: UnknownRevocation::Deny,
        },
        ..ValidationPolicy::default()
    };
    let make = || {
        let mut anchors = TrustStore::new();
        anchors.add(root.clone());
        let mut pool = CertPool::new();
        pool.add(intermediate.clone());
        Validator::new(anchors, pool, policy.clone())
    };
    let label = match ca_algorithm {
        KeyAlgorithm::Rsa2048 => "RSA-2048 CAs",
        KeyAlgorithm::P256 => "P-256 CAs",
        _ => "CAs",
    };
    let (cold, _) = per_second(|| {
        let v = make();
        let leaf = Certificate::from_der(&leaf.der).expect("leaf parses");
        black_box(v.validate(&leaf, &[], at, &[&evidence]).expect("valid"));
    });
    let warm_validator = make();
    let leaf_cert = Certificate::from_der(&leaf.der).expect("leaf parses");
    let (warm, _) = per_second(|| {
        black_box(
            warm_validator
                .validate(&leaf_cert, &[], at, &[&evidence])
                .expect("valid"),
        );
    });
    println!(
        "{:<58} {:>10.0} /s",
        format!("chain validation, cold ({label}, CRL checked)"),
        cold
    );
    println!(
        "{:<58} {:>10.0} /s",
        format!("chain validation, warm ({label}, CRL checked)"),
        warm
    );
}

fn crl_bench(at: OffsetDateTime) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kyso bench CRL issuer");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::CrlSign, KeyUsagePurpose::KeyCertSign];
    let issuer = Issuer::from_params(&params, &key);
    let crl_params = CertificateRevocationListParams {
        this_update: at,
        next_update: at + TimeDuration::days(7),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: (0..LARGE_CRL_ENTRIES)
            .map(|i| RevokedCertParams {
                serial_number: SerialNumber::from(0x1_0000_0000u64 + i * 7),
                revocation_time: at - TimeDuration::days(1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let der = crl_params
        .signed_by(&issuer)
        .expect("crl signs")
        .der()
        .to_vec();
    let start = Instant::now();
    let crl = Crl::from_der(&der).expect("crl parses");
    let parse = start.elapsed();
    assert_eq!(crl.len(), LARGE_CRL_ENTRIES as usize);
    let issuer_name = crl.issuer().clone();
    let hit_serial = SerialNumber::from(0x1_0000_0000u64 + 7 * 54_321);
    let miss_serial = SerialNumber::from(0x1_0000_0000u64 + 7 * 54_321 + 1);
    let (hit_bytes, miss_bytes) = (hit_serial.to_bytes(), miss_serial.to_bytes());
    let lookups = 1_000_000u32;
    let start = Instant::now();
    for _ in 0..lookups {
        black_box(crl.lookup(black_box(&hit_bytes), &issuer_name));
    }
    let hit = start.elapsed() / lookups;
    let start = Instant::now();
    for _ in 0..lookups {
        black_box(crl.lookup(black_box(&miss_bytes), &issuer_name));
    }
    let miss = start.elapsed() / lookups;
    assert!(
        crl.lookup(&hit_bytes, &issuer_name).is_some()
            && crl.lookup(&miss_bytes, &issuer_name).is_none()
    );
    println!(
        "{:<58} {:>10.1} ms",
        format!(
            "parse + index a {LARGE_CRL_ENTRIES}-entry CRL ({} KiB)",
            der.len() / 1024
        ),
        parse.as_secs_f64() * 1e3
    );
    println!(
        "{:<58} {:>10} ns",
        "lookup in a 100,000-entry CRL, revoked serial",
        hit.as_nanos()
    );
    println!(
        "{:<58} {:>10} ns",
        "lookup in a 100,000-entry CRL, absent serial",
        miss.as_nanos()
    );
}
