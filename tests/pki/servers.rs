//! Revocation against real servers on 127.0.0.1: OCSP answered by OpenSSL (`openssl ocsp
//! -index … -reqin … -respout …` behind a tiny HTTP front written here; `openssl ocsp -port`
//! would listen on every address), CRLs served over HTTP, and a responder that is down.
//!
//! The front serves a bounded number of requests and stops by itself after a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kyso::pki::fetch::{OcspNonce, Online};
use kyso::pki::revocation::EvidenceKind;
use kyso::pki::{
    CertPool, Certificate, PathError, RevocationCheck, RevocationPolicy, RevocationSource,
    RevocationStatus, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use time::{Duration as TimeDuration, OffsetDateTime};

/// Requests one server answers before it stops; every test here needs fewer than 20.
const MAX_REQUESTS: usize = 64;
/// How long a server lives at most, whatever happens to the test.
const SERVER_LIFETIME: Duration = Duration::from_secs(60);

/// Fixed instant the test PKI is built for; OpenSSL stamps responses with the real clock, which
/// is later, and later evidence is accepted for an earlier time of interest.
fn pki_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap() // 2026-01-01T00:00:00Z
}

/// What the HTTP front serves.
#[derive(Default)]
struct Routes {
    /// CRLs by path.
    crls: Vec<(String, Vec<u8>)>,
    /// Directory with index.txt, ca.pem, rsigner.pem, rkey.pem for `POST /ocsp`.
    ocsp_dir: Option<PathBuf>,
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    routes: Arc<Mutex<Routes>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let routes = Arc::new(Mutex::new(Routes::default()));
        let thread = {
            let (stop, served, routes) = (stop.clone(), served.clone(), routes.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && served.load(Ordering::Relaxed) < MAX_REQUESTS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            served.fetch_add(1, Ordering::Relaxed);
                            let _ = handle(stream, &routes);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Server {
            port,
            stop,
            served,
            routes,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(stream: TcpStream, routes: &Mutex<Routes>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    // Requests here are tiny; refuse anything large.
    let mut body = vec![0u8; content_length.min(64 * 1024)];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let reply = {
        let routes = routes.lock().unwrap();
        if method == "POST" && path == "/ocsp" {
            routes
                .ocsp_dir
                .as_deref()
                .map(|dir| ("application/ocsp-response", run_openssl_ocsp(dir, &body)))
        } else if method == "GET" {
            routes
                .crls
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, b)| ("application/pkix-crl", b.clone()))
        } else {
            None
        }
    };
    let mut out = stream;
    match reply {
        Some((ctype, bytes)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            )?;
            out.write_all(&bytes)?;
        }
        None => write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}

/// Answers one OCSP request with OpenSSL.
fn run_openssl_ocsp(dir: &Path, request: &[u8]) -> Vec<u8> {
    let n = std::process::id() as u128 ^ Instant::now().elapsed().as_nanos();
    let req = dir.join(format!("req-{n}.der"));
    let resp = dir.join(format!("resp-{n}.der"));
    std::fs::write(&req, request).unwrap();
    let status = Command::new("openssl")
        .args(["ocsp", "-index"])
        .arg(dir.join("index.txt"))
        .arg("-CA")
        .arg(dir.join("ca.pem"))
        .arg("-rsigner")
        .arg(dir.join("rsigner.pem"))
        .arg("-rkey")
        .arg(dir.join("rkey.pem"))
        .args(["-ndays", "1", "-reqin"])
        .arg(&req)
        .arg("-respout")
        .arg(&resp)
        .output()
        .expect("openssl must be installed (Debian package openssl)");
    assert!(
        status.status.success(),
        "openssl ocsp failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read(&resp).unwrap()
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
    server: Server,
    good: Certificate,
    revoked: Certificate,
    unknown: Certificate,
    dir: tempfile::TempDir,
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
    let server = Server::start();
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
    let dir = tempfile::tempdir().unwrap();
    let (responder, responder_key) = pki.issue_ocsp_responder("kyso OCSP responder").unwrap();
    let expiry = index_time(pki_time() + TimeDuration::days(365));
    let index = format!(
        "V\t{expiry}\t\t{}\tunknown\t/CN=good\nR\t{expiry}\t{}\t{}\tunknown\t/CN=revoked\n",
        serial_hex(good_serial),
        index_time(pki_time() - TimeDuration::days(1)),
        serial_hex(revoked_serial),
    );
    std::fs::write(dir.path().join("index.txt"), index).unwrap();
    std::fs::write(dir.path().join("ca.pem"), pki.intermediate.pem()).unwrap();
    std::fs::write(dir.path().join("rsigner.pem"), responder.pem()).unwrap();
    std::fs::write(dir.path().join("rkey.pem"), responder_key.serialize_pem()).unwrap();
    {
        let mut routes = server.routes.lock().unwrap();
        routes.ocsp_dir = Some(dir.path().to_owned());
        let crl = pki
            .intermediate_crl(pki_time() - TimeDuration::hours(1), TimeDuration::days(7))
            .unwrap();
        routes.crls.push(("/crl".to_owned(), crl));
        // Expired: its nextUpdate is a day before the time of interest.
        let expired = pki
            .intermediate_crl(pki_time() - TimeDuration::days(10), TimeDuration::days(9))
            .unwrap();
        routes.crls.push(("/expired.crl".to_owned(), expired));
    }
    Fixture {
        pki,
        server,
        good,
        revoked,
        unknown,
        dir,
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
    let server = Server::start();
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
    {
        let mut routes = server.routes.lock().unwrap();
        routes
            .crls
            .push(("/ca.cer".to_owned(), pki.intermediate.der().to_vec()));
        routes.crls.push(("/ca.p7c".to_owned(), p7c.stdout));
    }
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
    std::fs::write(f.dir.path().join("rsigner.pem"), f.pki.intermediate.pem()).unwrap();
    std::fs::write(f.dir.path().join("rkey.pem"), f.pki.intermediate.key_pem()).unwrap();
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
    std::fs::write(f.dir.path().join("rsigner.pem"), impostor.pem()).unwrap();
    std::fs::write(f.dir.path().join("rkey.pem"), key.serialize_pem()).unwrap();
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
