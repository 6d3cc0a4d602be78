//! RFC 3161 timestamps from a real TSA (`openssl ts -reply`): verification, refusal of tokens
//! that cover other data, were tampered with, or come from a certificate without the critical
//! id-kp-timeStamping purpose, and the timestamp as proof of time for a signer revoked later.

use std::path::Path;
use std::process::Command;

use kyso::pki::crl::Crl;
use kyso::pki::timestamp::{self, Error, TimestampToken};
use kyso::pki::{
    CertPool, Certificate, Evidence, KeyPurpose, PathError, RevocationCheck, RevocationPolicy,
    TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// OpenSSL stamps genTime with the real clock, so this PKI is placed relative to it: built for
/// ten days from now, its signer "revoked" nine days from now, after the timestamp.
fn pki_near_now() -> TestPki {
    TestPki::new(PkiOptions {
        at: OffsetDateTime::now_utc() + Duration::days(10),
        name: "kyso TSA".to_owned(),
        ..PkiOptions::default()
    })
    .unwrap()
}

/// A TSA certificate with extendedKeyUsage critical and exactly id-kp-timeStamping (RFC 3161
/// §2.3), issued by the PKI's intermediate.
fn tsa_certificate(pki: &TestPki, critical_eku: bool) -> (String, String) {
    let ca_key = KeyPair::from_pem(&pki.intermediate.key_pem()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&pki.intermediate.pem(), ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kyso test TSA");
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from(0x7777u64));
    params.not_before = pki.at() - Duration::days(60);
    params.not_after = pki.at() + Duration::days(365);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    // extendedKeyUsage SEQUENCE { id-kp-timeStamping }
    let eku = [
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
    ];
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku.to_vec());
    ext.set_criticality(critical_eku);
    params.custom_extensions.push(ext);
    let cert = params.signed_by(&key, &issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Asks OpenSSL's TSA for a token over `data`.
fn openssl_timestamp(
    dir: &Path,
    tsa_pem: &str,
    tsa_key: &str,
    chain_pem: &str,
    data: &[u8],
) -> Vec<u8> {
    let p = |n: &str| dir.join(n);
    std::fs::write(p("data.bin"), data).unwrap();
    std::fs::write(p("tsa.pem"), tsa_pem).unwrap();
    std::fs::write(p("tsa.key"), tsa_key).unwrap();
    std::fs::write(p("chain.pem"), chain_pem).unwrap();
    std::fs::write(p("serial"), "01\n").unwrap();
    std::fs::write(
        p("ts.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {}\ncrypto_device = builtin\nsigner_digest = sha256\n\
             default_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\n\
             tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            p("serial").display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "ts", "-query", "-data", "data.bin", "-sha256", "-cert", "-out", "q.tsq",
    ]);
    run(&[
        "ts",
        "-reply",
        "-config",
        "ts.cnf",
        "-queryfile",
        "q.tsq",
        "-signer",
        "tsa.pem",
        "-inkey",
        "tsa.key",
        "-chain",
        "chain.pem",
        "-out",
        "r.tsr",
    ]);
    std::fs::read(p("r.tsr")).unwrap()
}

fn validator(pki: &TestPki, purpose: KeyPurpose, check: RevocationCheck) -> Validator {
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(pki.root.der()).unwrap());
    let mut pool = CertPool::new();
    pool.add(Certificate::from_der(pki.intermediate.der()).unwrap());
    Validator::new(
        anchors,
        pool,
        ValidationPolicy {
            purpose,
            revocation: RevocationPolicy {
                check,
                unknown: UnknownRevocation::Deny,
            },
            ..ValidationPolicy::default()
        },
    )
}

fn token_over(pki: &TestPki, data: &[u8], critical_eku: bool) -> TimestampToken {
    let dir = tempfile::tempdir().unwrap();
    let (tsa_pem, tsa_key) = tsa_certificate(pki, critical_eku);
    let response = openssl_timestamp(
        dir.path(),
        &tsa_pem,
        &tsa_key,
        &pki.intermediate.pem(),
        data,
    );
    TimestampToken::from_response_der(&response).unwrap()
}

#[test]
fn openssl_token_verifies() {
    let pki = pki_near_now();
    let data = b"signature value of a PAdES signature";
    let token = token_over(&pki, data, true);
    let v = validator(
        &pki,
        KeyPurpose::TimeStamping,
        RevocationCheck::DangerouslySkip,
    );
    let ts = timestamp::verify(&token, data, None, &v, &[], &[]).unwrap();
    assert_eq!(ts.info().policy, "1.2.3.4.1");
    let drift = (ts.gen_time() - OffsetDateTime::now_utc()).abs();
    assert!(drift < Duration::minutes(5), "genTime {}", ts.gen_time());
    assert_eq!(ts.tsa_chain().certificates().len(), 3);
}

#[test]
fn token_over_other_data_is_refused() {
    let pki = pki_near_now();
    let token = token_over(&pki, b"original", true);
    let v = validator(
        &pki,
        KeyPurpose::TimeStamping,
        RevocationCheck::DangerouslySkip,
    );
    assert_eq!(
        timestamp::verify(&token, b"substituted", None, &v, &[], &[]).unwrap_err(),
        Error::ImprintMismatch
    );
}

#[test]
fn tampered_token_is_refused() {
    let pki = pki_near_now();
    let data = b"data";
    let token = token_over(&pki, data, true);
    let v = validator(
        &pki,
        KeyPurpose::TimeStamping,
        RevocationCheck::DangerouslySkip,
    );
    let der = token.der().to_vec();
    // Flip each byte in turn: a variant either fails, or differs only in the certificates the
    // token carries unsigned (SignedData.certificates), never in what the TSA signed.
    for pos in 0..der.len() {
        let mut bad = der.clone();
        bad[pos] ^= 0x01;
        if let Ok(t) = TimestampToken::from_der(&bad)
            && timestamp::verify(&t, data, None, &v, &[], &[]).is_ok()
        {
            assert_eq!(
                t.info(),
                token.info(),
                "byte {pos} changed the signed TSTInfo"
            );
            assert_ne!(
                t.certificates()
                    .iter()
                    .map(|c| c.der().to_vec())
                    .collect::<Vec<_>>(),
                token
                    .certificates()
                    .iter()
                    .map(|c| c.der().to_vec())
                    .collect::<Vec<_>>(),
                "byte {pos} flipped outside the carried certificates still verifies"
            );
        }
    }
}

/// OpenSSL itself will not sign with such a certificate, so the path check is exercised on the
/// certificate directly.
#[test]
fn tsa_without_critical_time_stamping_eku_is_refused() {
    let pki = pki_near_now();
    let (tsa_pem, _) = tsa_certificate(&pki, false);
    let tsa = Certificate::from_pem_or_der(tsa_pem.as_bytes())
        .unwrap()
        .remove(0);
    let v = validator(
        &pki,
        KeyPurpose::TimeStamping,
        RevocationCheck::DangerouslySkip,
    );
    match v.validate(&tsa, &[], pki.at(), &[]).unwrap_err() {
        PathError::WrongKeyPurpose { detail, .. } => {
            assert!(detail.contains("critical"), "{detail}")
        }
        other => panic!("expected a key-purpose failure, got {other}"),
    }
    // A document-signing certificate is no TSA either.
    let (signer, _) = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("X", "Y", "Z"),
            SignerProfile::Valid,
        )
        .unwrap();
    let signer = Certificate::from_der(&signer.der).unwrap();
    assert!(matches!(
        v.validate(&signer, &[], pki.at(), &[]).unwrap_err(),
        PathError::WrongKeyPurpose { .. }
    ));
}

#[test]
fn signature_timestamped_before_revocation_stays_valid() {
    let pki = pki_near_now();
    let (issued, _key) = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("Phạm Thị Dung", "UBND tỉnh", "Văn phòng"),
            SignerProfile::Revoked,
        )
        .unwrap();
    let signer = Certificate::from_der(&issued.der).unwrap();
    let mut evidence = Evidence::new();
    let crl = pki
        .intermediate_crl(pki.at() - Duration::hours(1), Duration::days(7))
        .unwrap();
    evidence.add_crl(Crl::from_der(&crl).unwrap());
    let signer_validator = validator(
        &pki,
        KeyPurpose::DocumentSigning,
        RevocationCheck::EndEntityOnly,
    );

    // At the PKI's time the signer is revoked (since the day before).
    let err = signer_validator
        .validate(&signer, &[], pki.at(), &[&evidence])
        .unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err}");

    // A timestamp taken now, before the revocation, proves the signature existed then.
    let signature_value = b"the signer's signature value";
    let token = token_over(&pki, signature_value, true);
    let tsa_validator = validator(
        &pki,
        KeyPurpose::TimeStamping,
        RevocationCheck::DangerouslySkip,
    );
    let ts = timestamp::verify(&token, signature_value, None, &tsa_validator, &[], &[]).unwrap();
    let chain = ts
        .validate_signer(&signer_validator, &signer, &[], &[&evidence])
        .unwrap();
    assert_eq!(
        chain.validated_at(),
        ts.gen_time().replace_nanosecond(0).unwrap()
    );
}

#[test]
fn garbage_is_not_a_token() {
    for bytes in [
        &b""[..],
        b"\x30\x00",
        b"\x30\x03\x02\x01\x02",
        b"not der at all",
    ] {
        assert!(TimestampToken::from_der(bytes).is_err());
        assert!(TimestampToken::from_response_der(bytes).is_err());
    }
}
