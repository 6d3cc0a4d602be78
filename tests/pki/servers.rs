//! Revocation against real servers on 127.0.0.1: OCSP answered by OpenSSL (`openssl ocsp
//! -index … -reqin … -respout …` behind the loopback HTTP front of `support::responders`;
//! `openssl ocsp -port` would listen on every address), CRLs served over HTTP, and a responder
//! that is down.
//!
//! The XML tests' TSA and the PAdES level tests run on the same front.

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use kyso::pki::fetch::{OcspNonce, Online};
use kyso::pki::revocation::EvidenceKind;
use kyso::pki::{
    CertPool, Certificate, PathError, RevocationCheck, RevocationPolicy, RevocationSource,
    RevocationStatus, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::support::responders::{OcspResponder, Responders};

/// Fixed instant the test PKI is built for; OpenSSL stamps responses with the real clock, which
/// is later, and later evidence is accepted for an earlier time of interest.
fn pki_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap() // 2026-01-01T00:00:00Z
}

/// openssl's `index.txt` date format, YYMMDDHHMMSSZ.
fn index_time(t: OffsetDateTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn serial_hex(serial: u64) -> String {
    let s = format!("{serial:X}");
    if s.len() % 2 == 1 { format!("0{s}") } else { s }
}

struct Fixture {
    pki: TestPki,
    server: Responders,
    good: Certificate,
    revoked: Certificate,
    unknown: Certificate,
    responder: OcspResponder,
}

fn signer(pki: &TestPki, cn: &str, profile: SignerProfile) -> (Certificate, u64) {
    let (issued, _key) = pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new(cn, "Sở Tư pháp", "Văn phòng"),
            profile,
        )
        .unwrap();
    (Certificate::from_der(&issued.der).unwrap(), issued.serial)
}

/// A PKI whose signer certificates point at `server` for OCSP (`/ocsp`) and CRLs (`/crl`), with
/// an OpenSSL responder delegated by the intermediate.
fn fixture(ocsp_url: Option<String>, crl_path: Option<&str>) -> Fixture {
    let server = Responders::start();
    let pki = TestPki::new(PkiOptions {
        at: pki_time(),
        name: "kyso Revocation".to_owned(),
        ocsp_url: ocsp_url.or_else(|| Some(server.url("/ocsp"))),
        crl_url: crl_path.map(|p| server.url(p)),
        ..PkiOptions::default()
    })
    .unwrap();
    let (good, good_serial) = signer(&pki, "Nguyễn Văn An", SignerProfile::Valid);
    let (revoked, revoked_serial) = signer(&pki, "Trần Thị Bình", SignerProfile::Revoked);
    let (unknown, _) = signer(&pki, "Lê Văn Cường", SignerProfile::Valid);
    let (responder_cert, responder_key) = pki.issue_ocsp_responder("kyso OCSP responder").unwrap();
    let expiry = index_time(pki_time() + TimeDuration::days(365));
    // The third signer is left out of the index on purpose: OpenSSL answers "unknown".
    let index = format!(
        "V\t{expiry}\t\t{}\tunknown\t/CN=good\nR\t{expiry}\t{}\t{}\tunknown\t/CN=revoked\n",
        serial_hex(good_serial),
        index_time(pki_time() - TimeDuration::days(1)),
        serial_hex(revoked_serial),
    );
    let responder = OcspResponder::new(
        &index,
        &pki.intermediate.pem(),
        &responder_cert.pem(),
        &responder_key.serialize_pem(),
    );
    server.serve_ocsp("/ocsp", &responder);
    let crl = pki
        .intermediate_crl(pki_time() - TimeDuration::hours(1), TimeDuration::days(7))
        .unwrap();
    server.serve_file("/crl", crl);
    // Expired: its nextUpdate is a day before the time of interest.
    let expired = pki
        .intermediate_crl(pki_time() - TimeDuration::days(10), TimeDuration::days(9))
        .unwrap();
    server.serve_file("/expired.crl", expired);
    Fixture {
        pki,
        server,
        good,
        revoked,
        unknown,
        responder,
    }
}

fn validator(pki: &TestPki, unknown: UnknownRevocation) -> Validator {
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(pki.root.der()).unwrap());
    let mut pool = CertPool::new();
    pool.add(Certificate::from_der(pki.intermediate.der()).unwrap());
    Validator::new(
        anchors,
        pool,
        ValidationPolicy {
            // The test PKI publishes no CRL for its root, so only the signer is checked.
            revocation: RevocationPolicy {
                check: RevocationCheck::EndEntityOnly,
                unknown,
            },
            ..ValidationPolicy::default()
        },
    )
}

fn online(nonce: OcspNonce) -> Online {
    Online::new(Duration::from_secs(5), nonce)
}

fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn ocsp_good_from_openssl() {
    if !have_openssl() {
        panic!("openssl is required (Debian package openssl)");
    }
    let f = fixture(None, None);
    let source = online(OcspNonce::Required);
    let v = validator(&f.pki, UnknownRevocation::Deny);
    let chain = v.validate(&f.good, &[], pki_time(), &[&source]).unwrap();
    assert_eq!(
        chain.revocation()[0],
        RevocationStatus::Good {
            evidence: EvidenceKind::Ocsp
        }
    );
    // Cached: a second validation asks nobody.
    let before = f.server.served();
    v.validate(&f.good, &[], pki_time(), &[&source]).unwrap();
    assert_eq!(
        f.server.served(),
        before,
        "the OCSP response should come from the cache"
    );
}

#[test]
fn ocsp_revoked_from_openssl() {
    let f = fixture(None, None);
    let source = online(OcspNonce::Required);
    let err = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.revoked, &[], pki_time(), &[&source])
        .unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err}");
    assert_eq!(err.sub_indication(), "REVOKED");
    // Before the revocation time the same certificate was good (a signature timestamped then
    // stays valid).
    let earlier = pki_time() - TimeDuration::days(2);
    let chain = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.revoked, &[], earlier, &[&source])
        .unwrap();
    assert!(matches!(
        chain.revocation()[0],
        RevocationStatus::Good { .. }
    ));
}

#[test]
fn ocsp_unknown_from_openssl_is_indeterminate() {
    let f = fixture(None, None);
    let source = online(OcspNonce::Required);
    let err = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.unknown, &[], pki_time(), &[&source])
        .unwrap_err();
    match &err {
        PathError::RevocationUnknown { reason, .. } => {
            assert!(
                reason.contains("does not know this certificate"),
                "{reason}"
            )
        }
        other => panic!("expected RevocationUnknown, got {other}"),
    }
    assert!(err.is_indeterminate());
    assert_eq!(err.sub_indication(), "TRY_LATER");
    let chain = validator(&f.pki, UnknownRevocation::Allow)
        .validate(&f.unknown, &[], pki_time(), &[&source])
        .unwrap();
    assert!(matches!(
        chain.revocation()[0],
        RevocationStatus::Unknown { .. }
    ));
}

#[test]
fn ocsp_responder_down_soft_and_hard_fail() {
    // A port nobody listens on: bind, read the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = fixture(Some(format!("http://127.0.0.1:{port}/ocsp")), None);
    let source = online(OcspNonce::Optional);
    let err = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.good, &[], pki_time(), &[&source])
        .unwrap_err();
    match &err {
        PathError::RevocationUnknown { reason, .. } => {
            assert!(reason.contains(&port.to_string()), "{reason}")
        }
        other => panic!("expected RevocationUnknown, got {other}"),
    }
    let chain = validator(&f.pki, UnknownRevocation::Allow)
        .validate(&f.good, &[], pki_time(), &[&source])
        .unwrap();
    assert!(matches!(
        chain.revocation()[0],
        RevocationStatus::Unknown { .. }
    ));
}

#[test]
fn crl_over_http_good_revoked_and_cached() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // OCSP down, CRL up: the validator falls back to the CRL.
    let f = fixture(Some(format!("http://127.0.0.1:{port}/ocsp")), Some("/crl"));
    let source = online(OcspNonce::Optional).with_clock(pki_time);
    let v = validator(&f.pki, UnknownRevocation::Deny);
    let chain = v.validate(&f.good, &[], pki_time(), &[&source]).unwrap();
    assert_eq!(
        chain.revocation()[0],
        RevocationStatus::Good {
            evidence: EvidenceKind::Crl
        }
    );
    let served = f.server.served();
    let err = v
        .validate(&f.revoked, &[], pki_time(), &[&source])
        .unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err}");
    assert_eq!(
        f.server.served(),
        served,
        "the CRL should come from the cache until nextUpdate"
    );
}

#[test]
fn expired_crl_over_http_is_not_evidence() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = fixture(
        Some(format!("http://127.0.0.1:{port}/ocsp")),
        Some("/expired.crl"),
    );
    let source = online(OcspNonce::Optional).with_clock(pki_time);
    let err = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.good, &[], pki_time(), &[&source])
        .unwrap_err();
    match &err {
        PathError::RevocationUnknown { reason, .. } => {
            assert!(reason.contains("stale"), "{reason}")
        }
        other => panic!("expected RevocationUnknown, got {other}"),
    }
}

#[test]
fn embedded_evidence_is_used_before_online() {
    let f = fixture(None, Some("/crl"));
    let mut embedded = kyso::pki::Evidence::new();
    let crl = f
        .pki
        .intermediate_crl(pki_time() - TimeDuration::hours(1), TimeDuration::days(7))
        .unwrap();
    embedded.add_crl(kyso::pki::crl::Crl::from_der(&crl).unwrap());
    let source = online(OcspNonce::Optional);
    let sources: [&dyn RevocationSource; 2] = [&embedded, &source];
    let before = f.server.served();
    let chain = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.good, &[], pki_time(), &sources)
        .unwrap();
    assert_eq!(
        chain.revocation()[0],
        RevocationStatus::Good {
            evidence: EvidenceKind::Crl
        }
    );
    assert_eq!(
        f.server.served(),
        before,
        "embedded evidence sufficed; nothing fetched"
    );
}

/// A signer certificate whose authorityInfoAccess names `ca_issuers` (RFC 5280 §4.2.2.1),
/// issued by the PKI's intermediate.
fn signer_with_ca_issuers(pki: &TestPki, ca_issuers: &str) -> Certificate {
    use rcgen::{
        CertificateParams, CustomExtension, DistinguishedName, DnType, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::from_pem(&pki.intermediate.key_pem()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&pki.intermediate.pem(), ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Đặng Văn Em");
    params.distinguished_name = dn;
    params.not_before = pki_time() - TimeDuration::days(30);
    params.not_after = pki_time() + TimeDuration::days(365);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.use_authority_key_identifier_extension = true;
    let url = ca_issuers.as_bytes();
    let mut access = vec![
        0x06,
        0x08,
        0x2b,
        0x06,
        0x01,
        0x05,
        0x05,
        0x07,
        0x30,
        0x02,
        0x86,
        url.len() as u8,
    ];
    access.extend_from_slice(url);
    let mut description = vec![0x30, access.len() as u8];
    description.extend_from_slice(&access);
    let mut aia = vec![0x30, description.len() as u8];
    aia.extend_from_slice(&description);
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia,
        ));
    Certificate::from_der(params.signed_by(&key, &issuer).unwrap().der()).unwrap()
}

#[test]
fn missing_intermediate_fetched_from_ca_issuers() {
    let server = Responders::start();
    let pki = TestPki::new(PkiOptions {
        at: pki_time(),
        ..PkiOptions::default()
    })
    .unwrap();
    // The same intermediate, once as DER and once as a PKCS #7 certs-only bundle (.p7c).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), pki.intermediate.pem()).unwrap();
    let p7c = Command::new("openssl")
        .args(["crl2pkcs7", "-nocrl", "-outform", "DER", "-certfile"])
        .arg(dir.path().join("ca.pem"))
        .output()
        .unwrap();
    assert!(p7c.status.success());
    server.serve_file("/ca.cer", pki.intermediate.der().to_vec());
    server.serve_file("/ca.p7c", p7c.stdout);
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(pki.root.der()).unwrap());
    let policy = ValidationPolicy {
        revocation: RevocationPolicy {
            check: RevocationCheck::DangerouslySkip,
            unknown: UnknownRevocation::Allow,
        },
        ..ValidationPolicy::default()
    };
    for path in ["/ca.cer", "/ca.p7c"] {
        let leaf = signer_with_ca_issuers(&pki, &server.url(path));
        // Without AIA the intermediate is missing.
        let plain = Validator::new(anchors.clone(), CertPool::new(), policy.clone());
        let err = plain.validate(&leaf, &[], pki_time(), &[]).unwrap_err();
        assert!(matches!(err, PathError::UnknownIssuer { .. }), "{err}");
        assert!(err.is_indeterminate());
        let with_aia = Validator::new(anchors.clone(), CertPool::new(), policy.clone())
            .with_issuer_source(std::sync::Arc::new(online(OcspNonce::Optional)));
        let chain = with_aia.validate(&leaf, &[], pki_time(), &[]).unwrap();
        assert_eq!(chain.certificates().len(), 3, "{path}");
    }
}

#[test]
fn ocsp_signed_by_the_issuer_itself() {
    let f = fixture(None, None);
    let dir = f.responder.dir();
    std::fs::write(dir.join("rsigner.pem"), f.pki.intermediate.pem()).unwrap();
    std::fs::write(dir.join("rkey.pem"), f.pki.intermediate.key_pem()).unwrap();
    let source = online(OcspNonce::Required);
    let chain = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.good, &[], pki_time(), &[&source])
        .unwrap();
    assert_eq!(
        chain.revocation()[0],
        RevocationStatus::Good {
            evidence: EvidenceKind::Ocsp
        }
    );
}

#[test]
fn ocsp_signed_by_an_unauthorised_key_is_not_evidence() {
    let f = fixture(None, None);
    // A document-signing certificate of the same CA: right issuer, no id-kp-OCSPSigning.
    let (impostor, key) = f
        .pki
        .issue_with_software_key(
            KeyAlgorithm::P256,
            &SignerName::new("Impostor", "X", "Y"),
            SignerProfile::Valid,
        )
        .unwrap();
    let dir = f.responder.dir();
    std::fs::write(dir.join("rsigner.pem"), impostor.pem()).unwrap();
    std::fs::write(dir.join("rkey.pem"), key.serialize_pem()).unwrap();
    let source = online(OcspNonce::Required);
    let err = validator(&f.pki, UnknownRevocation::Deny)
        .validate(&f.revoked, &[], pki_time(), &[&source])
        .unwrap_err();
    match &err {
        PathError::RevocationUnknown { reason, .. } => {
            assert!(reason.contains("OCSP signing"), "{reason}")
        }
        other => panic!("expected RevocationUnknown, got {other}"),
    }
}
