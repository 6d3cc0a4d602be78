//! Malformed certificates, CRLs and OCSP responses give a reason, never a panic: random bytes,
//! and valid encodings with bytes flipped, truncated or spliced, through every parsing entry
//! point and, when they still parse, through validation.

use std::sync::OnceLock;

use kyso::pki::crl::Crl;
use kyso::pki::ocsp::OcspResponse;
use kyso::pki::{
    CertPool, Certificate, Evidence, KeyPurpose, RevocationCheck, RevocationPolicy, TrustStore,
    UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

struct Samples {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
    crl: Vec<u8>,
    ocsp: Vec<u8>,
}

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn samples() -> &'static Samples {
    static SAMPLES: OnceLock<Samples> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let pki = TestPki::new(PkiOptions {
            at: at(),
            ..PkiOptions::default()
        })
        .unwrap();
        let (leaf, _) = pki
            .issue_with_software_key(
                KeyAlgorithm::P256,
                &SignerName::new("A", "B", "C"),
                SignerProfile::Revoked,
            )
            .unwrap();
        let crl = pki
            .intermediate_crl(at() - Duration::hours(1), Duration::days(7))
            .unwrap();
        Samples {
            root: pki.root.der().to_vec(),
            intermediate: pki.intermediate.der().to_vec(),
            leaf: leaf.der,
            crl,
            ocsp: openssl_ocsp_response(&pki, leaf.serial).unwrap_or_default(),
        }
    })
}

/// One real OCSP response from OpenSSL, signed by the intermediate itself.
fn openssl_ocsp_response(pki: &TestPki, serial: u64) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().ok()?;
    let p = |n: &str| dir.path().join(n);
    std::fs::write(
        p("index.txt"),
        format!("R\t401231000000Z\t251231000000Z\t{serial:X}\tunknown\t/CN=x\n"),
    )
    .ok()?;
    std::fs::write(p("ca.pem"), pki.intermediate.pem()).ok()?;
    std::fs::write(p("key.pem"), pki.intermediate.key_pem()).ok()?;
    let leaf = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("D", "E", "F"),
            SignerProfile::Valid,
        )
        .ok()?
        .0;
    std::fs::write(p("leaf.pem"), leaf.pem()).ok()?;
    let out = std::process::Command::new("openssl")
        .args(["ocsp", "-issuer"])
        .arg(p("ca.pem"))
        .arg("-cert")
        .arg(p("leaf.pem"))
        .arg("-reqout")
        .arg(p("req.der"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let out = std::process::Command::new("openssl")
        .args(["ocsp", "-index"])
        .arg(p("index.txt"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-rsigner")
        .arg(p("ca.pem"))
        .arg("-rkey")
        .arg(p("key.pem"))
        .arg("-reqin")
        .arg(p("req.der"))
        .arg("-respout")
        .arg(p("resp.der"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| std::fs::read(p("resp.der")).ok())
        .flatten()
}

/// Parses with every entry point; validates whatever still parses as a certificate.
fn exercise(bytes: &[u8]) {
    let s = samples();
    let _ = Crl::from_der(bytes).map(|c| (c.len(), c.defects().len()));
    let _ = Crl::from_pem_or_der(bytes);
    let _ = OcspResponse::from_der(bytes);
    let _ = kyso::pki::timestamp::TimestampToken::from_der(bytes);
    let _ = kyso::pki::timestamp::TimestampToken::from_response_der(bytes);
    let _ = Certificate::from_pem_or_der(bytes);
    if let Ok(cert) = Certificate::from_der(bytes) {
        let mut anchors = TrustStore::new();
        anchors.add(Certificate::from_der(&s.root).unwrap());
        let mut pool = CertPool::new();
        pool.add(Certificate::from_der(&s.intermediate).unwrap());
        let validator = Validator::new(
            anchors,
            pool,
            ValidationPolicy {
                purpose: KeyPurpose::DocumentSigning,
                revocation: RevocationPolicy {
                    check: RevocationCheck::FullChain,
                    unknown: UnknownRevocation::Allow,
                },
                ..ValidationPolicy::default()
            },
        );
        let mut evidence = Evidence::new();
        if let Ok(crl) = Crl::from_der(&s.crl) {
            evidence.add_crl(crl);
        }
        let _ = validator.validate(&cert, std::slice::from_ref(&cert), at(), &[&evidence]);
    }
}

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut v = base.to_vec();
    if v.is_empty() {
        return v;
    }
    for (pos, byte) in edits {
        let i = pos % v.len();
        v[i] ^= byte;
    }
    if let Some(c) = cut {
        v.truncate(c % (v.len() + 1));
    }
    v
}

/// A validator is shared between threads (batch verification).
#[test]
fn validator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Validator>();
    check::<kyso::pki::VerifiedChain>();
    check::<kyso::pki::fetch::Online>();
    check::<Evidence>();
}

#[test]
fn samples_are_what_they_claim() {
    let s = samples();
    Certificate::from_der(&s.leaf).unwrap();
    let crl = Crl::from_der(&s.crl).unwrap();
    assert_eq!(crl.len(), 1);
    if !s.ocsp.is_empty() {
        let r = OcspResponse::from_der(&s.ocsp).unwrap();
        assert_eq!(r.responses().len(), 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_certificates_never_panic(edits in proptest::collection::vec((any::<usize>(), 1u8..), 1..4), cut in proptest::option::of(any::<usize>())) {
        exercise(&mutate(&samples().leaf, &edits, cut));
    }

    #[test]
    fn mutated_crls_never_panic(edits in proptest::collection::vec((any::<usize>(), 1u8..), 1..4), cut in proptest::option::of(any::<usize>())) {
        exercise(&mutate(&samples().crl, &edits, cut));
    }

    #[test]
    fn mutated_ocsp_responses_never_panic(edits in proptest::collection::vec((any::<usize>(), 1u8..), 1..4), cut in proptest::option::of(any::<usize>())) {
        exercise(&mutate(&samples().ocsp, &edits, cut));
    }

    /// A certificate with any single byte changed either fails to parse or fails validation:
    /// the signature covers every byte that matters.
    #[test]
    fn a_flipped_byte_never_validates(pos in any::<usize>(), flip in 1u8..) {
        let s = samples();
        let bytes = mutate(&s.leaf, &[(pos, flip)], None);
        if let Ok(cert) = Certificate::from_der(&bytes) {
            let mut anchors = TrustStore::new();
            anchors.add(Certificate::from_der(&s.root).unwrap());
            let mut pool = CertPool::new();
            pool.add(Certificate::from_der(&s.intermediate).unwrap());
            let v = Validator::new(anchors, pool, ValidationPolicy {
                revocation: RevocationPolicy { check: RevocationCheck::DangerouslySkip, unknown: UnknownRevocation::Allow },
                ..ValidationPolicy::default()
            });
            // The signature BIT STRING itself may flip into another valid-looking encoding only
            // if the signature still verifies, which it cannot.
            prop_assert!(v.validate(&cert, &[], at(), &[]).is_err());
        }
    }
}
