//! Trust anchors from files and folders, several independent roots, and the typed outcomes a
//! caller sees for the signer variants of the test PKI.

use kyso::pki::{
    CertPool, Certificate, KeyPurpose, PathError, RevocationCheck, RevocationPolicy, TrustStore,
    UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use time::OffsetDateTime;

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn pki(name: &str, algorithm: KeyAlgorithm) -> TestPki {
    TestPki::new(PkiOptions {
        at: at(),
        name: name.to_owned(),
        ca_algorithm: algorithm,
        ..PkiOptions::default()
    })
    .unwrap()
}

fn no_revocation() -> ValidationPolicy {
    ValidationPolicy {
        revocation: RevocationPolicy {
            check: RevocationCheck::DangerouslySkip,
            unknown: UnknownRevocation::Allow,
        },
        ..ValidationPolicy::default()
    }
}

fn signer(pki: &TestPki, profile: SignerProfile) -> Certificate {
    let (issued, _) = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("Võ Thị Giang", "Bộ Tư pháp", "Vụ Pháp chế"),
            profile,
        )
        .unwrap();
    Certificate::from_der(&issued.der).unwrap()
}

#[test]
fn anchors_from_a_folder_with_several_roots() {
    let national = pki("Root CA quốc gia", KeyAlgorithm::Rsa2048);
    let government = pki("CA Chính phủ", KeyAlgorithm::P256);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("national.pem"), national.root.pem()).unwrap();
    std::fs::write(dir.path().join("government.der"), government.root.der()).unwrap();
    std::fs::write(
        dir.path().join("README.txt"),
        "not a certificate, ignored by extension",
    )
    .unwrap();
    let mut anchors = TrustStore::new();
    assert_eq!(anchors.load(dir.path()).unwrap(), 2);
    let mut pool = CertPool::new();
    pool.add_pem_or_der(national.intermediate.pem().as_bytes())
        .unwrap();
    pool.add_pem_or_der(government.intermediate.der()).unwrap();
    let v = Validator::new(anchors, pool, no_revocation());
    for p in [&national, &government] {
        let chain = v
            .validate(&signer(p, SignerProfile::Valid), &[], at(), &[])
            .unwrap();
        assert_eq!(chain.anchor().der(), p.root.der());
    }
}

#[test]
fn empty_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(TrustStore::new().load(dir.path()).is_err());
}

#[test]
fn signer_variants_get_their_own_reasons() {
    let p = pki("kyso Variants", KeyAlgorithm::P256);
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(p.root.der()).unwrap());
    let intermediate = Certificate::from_der(p.intermediate.der()).unwrap();
    // Intermediates arrive with the signature (CMS certificates), not from a pool.
    let v = Validator::new(anchors, CertPool::new(), no_revocation());
    let check = |profile| {
        v.validate(
            &signer(&p, profile),
            std::slice::from_ref(&intermediate),
            at(),
            &[],
        )
    };
    assert!(check(SignerProfile::Valid).is_ok());
    assert!(matches!(
        check(SignerProfile::Expired),
        Err(PathError::Expired { .. })
    ));
    assert!(matches!(
        check(SignerProfile::NotYetValid),
        Err(PathError::NotYetValid { .. })
    ));
    assert!(matches!(
        check(SignerProfile::WrongKeyUsage),
        Err(PathError::WrongKeyPurpose { .. })
    ));
    let untrusted = check(SignerProfile::UntrustedIssuer).unwrap_err();
    assert!(
        matches!(untrusted, PathError::UnknownIssuer { .. }),
        "{untrusted}"
    );
    assert_eq!(untrusted.sub_indication(), "NO_CERTIFICATE_CHAIN_FOUND");
    // The same certificate without its intermediate: no path.
    assert!(matches!(
        v.validate(&signer(&p, SignerProfile::Valid), &[], at(), &[]),
        Err(PathError::UnknownIssuer { .. })
    ));
}

#[test]
fn messages_read_like_log_lines() {
    let p = pki("kyso Messages", KeyAlgorithm::P256);
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(p.root.der()).unwrap());
    let mut pool = CertPool::new();
    pool.add(Certificate::from_der(p.intermediate.der()).unwrap());
    let v = Validator::new(anchors, pool, no_revocation());
    let err = v
        .validate(&signer(&p, SignerProfile::Expired), &[], at(), &[])
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("certificate expired: "), "{text}");
    assert!(text.contains("checked at 2026-01-01"), "{text}");
    assert!(!text.ends_with('.'));
}

#[test]
fn unrestricted_purpose_accepts_what_document_signing_refuses() {
    let p = pki("kyso Purposes", KeyAlgorithm::P256);
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(p.root.der()).unwrap());
    let mut pool = CertPool::new();
    pool.add(Certificate::from_der(p.intermediate.der()).unwrap());
    let leaf = signer(&p, SignerProfile::WrongKeyUsage);
    let strict = Validator::new(anchors.clone(), pool.clone(), no_revocation());
    assert!(strict.validate(&leaf, &[], at(), &[]).is_err());
    let lax = Validator::new(
        anchors,
        pool,
        ValidationPolicy {
            purpose: KeyPurpose::Unrestricted,
            ..no_revocation()
        },
    );
    assert!(lax.validate(&leaf, &[], at(), &[]).is_ok());
}
