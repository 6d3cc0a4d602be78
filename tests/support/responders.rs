//! Real revocation and time-stamping services for tests, behind one tiny HTTP front bound to
//! 127.0.0.1:0: OCSP answered by `openssl ocsp -index … -reqin … -respout …`, RFC 3161
//! time-stamps by `openssl ts -reply`, and static files (CRLs, caIssuers certificates) by GET.
//! OpenSSL's own `ocsp -port` server is not used: OpenSSL 3.0 binds it to every address.
//!
//! The front answers one request at a time, at most [`MAX_REQUESTS`], and its thread ends by
//! itself after [`LIFETIME`] whatever happens to the test; dropping [`Responders`] stops it at
//! once (later requests are refused, which is how tests take a service down). A TSA route can
//! also misbehave as real ones do ([`Delivery`], [`Responders::serve_tsa_with`]): a chunked
//! answer, an answer trickled slower than any deadline, credentials required.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Requests one front answers before it stops; the busiest test (two B-LT signers) needs ~20.
pub const MAX_REQUESTS: usize = 128;
/// How long a front lives at most.
pub const LIFETIME: Duration = Duration::from_secs(120);
/// Request bodies are OCSP and time-stamp requests of a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// The HTTP front and what it serves.
pub struct Responders {
    port: u16,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    routes: Arc<Mutex<Routes>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Routes {
    /// GET path → (content type, body).
    files: Vec<(String, &'static str, Vec<u8>)>,
    /// POST path → OpenSSL working directory.
    ocsp: Vec<(String, PathBuf)>,
    tsa: Vec<(String, TsaRoute)>,
    /// POST path → a fixed answer, whatever was asked.
    answers: Vec<(String, Vec<u8>)>,
    /// POST paths answered with HTTP 500, as a broken service would.
    failing: Vec<String>,
    /// Path prefix → a handler answering any method under it (a stateful service: the
    /// confirm-on-phone provider of `tests/api/jobs.rs`).
    handlers: Vec<(String, Handler)>,
}

/// Answers a request from its method, path and body with a status code, a content type and a
/// body; run outside the routes' lock.
pub type Handler = Arc<dyn Fn(&str, &str, &[u8]) -> (u16, &'static str, Vec<u8>) + Send + Sync>;

#[derive(Clone)]
struct TsaRoute {
    dir: PathBuf,
    delivery: Delivery,
    /// The `Authorization` header the TSA wants; anything else gets 401.
    authorization: Option<String>,
}

/// How a TSA route sends its answer.
#[derive(Clone, Copy, Debug)]
pub enum Delivery {
    /// With a Content-Length.
    Sized,
    /// `Transfer-Encoding: chunked`, in chunks of this many bytes (RFC 9112 §7.1).
    Chunked(usize),
    /// With a Content-Length, one byte per pause: a TSA slower than any deadline.
    Trickled(Duration),
}

impl Responders {
    pub fn start() -> Responders {
        Responders::with_bounds(MAX_REQUESTS, LIFETIME)
    }

    /// A front that answers at most `max_requests` and lives at most `lifetime`: a benchmark's
    /// thousands of time-stamps, still bounded.
    pub fn with_bounds(max_requests: usize, lifetime: Duration) -> Responders {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let routes = Arc::new(Mutex::new(Routes::default()));
        let thread = {
            let (stop, served, routes) = (stop.clone(), served.clone(), routes.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + lifetime;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && served.load(Ordering::Relaxed) < max_requests
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
        Responders {
            port,
            stop,
            served,
            routes,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The loopback port the front listens on (for [`super::https::HttpsFront`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }

    /// Serves `body` at `GET path` (a CRL, a caIssuers certificate).
    pub fn serve_file(&self, path: &str, body: Vec<u8>) {
        self.routes
            .lock()
            .unwrap()
            .files
            .push((path.to_owned(), "application/octet-stream", body));
    }

    /// Answers `POST path` with `openssl ocsp` working in `responder`'s directory.
    pub fn serve_ocsp(&self, path: &str, responder: &OcspResponder) {
        self.routes
            .lock()
            .unwrap()
            .ocsp
            .push((path.to_owned(), responder.dir().to_owned()));
    }

    /// Answers `POST path` with `openssl ts -reply` working in `tsa`'s directory.
    pub fn serve_tsa(&self, path: &str, tsa: &Tsa) {
        self.serve_tsa_with(path, tsa, Delivery::Sized, None);
    }

    /// Like [`Responders::serve_tsa`], delivered as `delivery` says, and only to requests whose
    /// `Authorization` header is `authorization` when one is given (others get 401).
    pub fn serve_tsa_with(
        &self,
        path: &str,
        tsa: &Tsa,
        delivery: Delivery,
        authorization: Option<&str>,
    ) {
        self.routes.lock().unwrap().tsa.push((
            path.to_owned(),
            TsaRoute {
                dir: tsa.dir().to_owned(),
                delivery,
                authorization: authorization.map(str::to_owned),
            },
        ));
    }

    /// Answers `POST path` with `body`, whatever was asked.
    pub fn answer(&self, path: &str, body: Vec<u8>) {
        self.routes
            .lock()
            .unwrap()
            .answers
            .push((path.to_owned(), body));
    }

    /// Answers every request under `prefix` with `handler`.
    pub fn handle(&self, prefix: &str, handler: Handler) {
        self.routes
            .lock()
            .unwrap()
            .handlers
            .push((prefix.to_owned(), handler));
    }

    /// Answers `POST path` with HTTP 500.
    pub fn fail(&self, path: &str) {
        self.routes.lock().unwrap().failing.push(path.to_owned());
    }
}

impl Drop for Responders {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A working directory for `openssl ocsp`: the CA database, the issuing CA and the responder's
/// certificate and key. Files can be rewritten between requests (a test swaps the responder).
pub struct OcspResponder {
    dir: tempfile::TempDir,
}

impl OcspResponder {
    /// `index` is OpenSSL's `index.txt` (see `TestPki::ocsp_index`); the rest PEM.
    pub fn new(index: &str, ca_pem: &str, responder_pem: &str, responder_key_pem: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("index.txt", index);
        write("ca.pem", ca_pem);
        write("rsigner.pem", responder_pem);
        write("rkey.pem", responder_key_pem);
        OcspResponder { dir }
    }

    /// A responder for `pki`'s intermediate, delegated to a fresh id-kp-OCSPSigning certificate,
    /// knowing every certificate the intermediate has issued so far.
    pub fn for_pki(pki: &kyso::testpki::TestPki) -> Self {
        let (responder, key) = pki
            .issue_ocsp_responder("kyso test OCSP responder")
            .unwrap();
        OcspResponder::new(
            &pki.ocsp_index(),
            &pki.intermediate.pem(),
            &responder.pem(),
            &key.serialize_pem(),
        )
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces OpenSSL's CA database (after more certificates were issued).
    pub fn set_index(&self, index: &str) {
        std::fs::write(self.dir.path().join("index.txt"), index).unwrap();
    }
}

/// A working directory for `openssl ts -reply`: the TSA's certificate, key and the
/// certificates to include in tokens after it.
pub struct Tsa {
    dir: tempfile::TempDir,
}

impl Tsa {
    /// `certificate_pem` must carry a critical extendedKeyUsage of exactly id-kp-timeStamping
    /// (OpenSSL refuses anything else); `chain_pem` (may be empty) goes into every token after
    /// it, so verifiers can build the TSA's path from the token alone.
    pub fn new(certificate_pem: &str, key_pem: &str, chain_pem: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("tsa.crt", certificate_pem);
        write("tsa.key", key_pem);
        write("chain.pem", chain_pem);
        write("tsaserial", "01\n");
        let certs = if chain_pem.is_empty() {
            ""
        } else {
            "certs = ./chain.pem\n"
        };
        write("tsa.cnf", &format!("{TSA_CONFIG}{certs}"));
        Tsa { dir }
    }

    /// A TSA certified by `pki`'s intermediate, with the intermediate in its tokens.
    pub fn for_pki(pki: &kyso::testpki::TestPki) -> Self {
        let (certificate, key) = pki.issue_tsa("kyso test TSA").unwrap();
        Tsa::new(
            &certificate.pem(),
            &key.serialize_pem(),
            &pki.intermediate.pem(),
        )
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("tsa.crt")
    }
}

const TSA_CONFIG: &str = "\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = .
serial = ./tsaserial
crypto_device = builtin
signer_cert = ./tsa.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

fn handle(stream: TcpStream, routes: &Mutex<Routes>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0usize;
    let mut authorization = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_owned());
            }
        }
    }
    let mut body = vec![0u8; content_length.min(MAX_BODY)];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // The work is decided under the lock, done outside it: OpenSSL takes tens of milliseconds.
    enum Work {
        File(&'static str, Vec<u8>),
        Ocsp(PathBuf),
        Tsa(TsaRoute),
        Fail,
        Unauthorized,
        NotFound,
        Handled(Handler),
    }
    let work = {
        let routes = routes.lock().unwrap();
        let handler = routes
            .handlers
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, h)| h.clone());
        let ocsp = routes
            .ocsp
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, d)| d.clone());
        let tsa = routes
            .tsa
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, r)| r.clone());
        let answer = routes.answers.iter().find(|(p, _)| p == path);
        match (method, handler) {
            (_, Some(handler)) => Work::Handled(handler),
            ("POST", None) if routes.failing.iter().any(|p| p == path) => Work::Fail,
            ("POST", None) => match (ocsp, tsa, answer) {
                (Some(dir), _, _) => Work::Ocsp(dir),
                (None, Some(route), _)
                    if route.authorization.is_some() && route.authorization != authorization =>
                {
                    Work::Unauthorized
                }
                (None, Some(route), _) => Work::Tsa(route),
                (None, None, Some((_, bytes))) => {
                    Work::File("application/timestamp-reply", bytes.clone())
                }
                (None, None, None) => Work::NotFound,
            },
            ("GET", None) => routes
                .files
                .iter()
                .find(|(p, _, _)| p == path)
                .map_or(Work::NotFound, |(_, ctype, b)| Work::File(ctype, b.clone())),
            _ => Work::NotFound,
        }
    };
    let mut delivery = Delivery::Sized;
    let reply = match work {
        Work::File(ctype, bytes) => Ok((ctype, bytes)),
        Work::Ocsp(dir) => openssl_ocsp(&dir, &body)
            .map(|b| ("application/ocsp-response", b))
            .ok_or("500 Internal Server Error"),
        Work::Tsa(route) => {
            delivery = route.delivery;
            openssl_ts(&route.dir, &body)
                .map(|b| ("application/timestamp-reply", b))
                .ok_or("500 Internal Server Error")
        }
        Work::Fail => Err("500 Internal Server Error"),
        Work::Unauthorized => Err("401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"tsa\""),
        Work::NotFound => Err("404 Not Found"),
        Work::Handled(handler) => {
            let (status, ctype, bytes) = handler(method, path, &body);
            if status != 200 {
                let mut out = stream;
                write!(
                    out,
                    "HTTP/1.1 {status} Answer\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                )?;
                out.write_all(&bytes)?;
                return out.flush();
            }
            Ok((ctype, bytes))
        }
    };
    let mut out = stream;
    match (reply, delivery) {
        (Ok((ctype, bytes)), Delivery::Sized) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            )?;
            out.write_all(&bytes)?;
        }
        (Ok((ctype, bytes)), Delivery::Chunked(size)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            for chunk in bytes.chunks(size.max(1)) {
                write!(out, "{:x}\r\n", chunk.len())?;
                out.write_all(chunk)?;
                out.write_all(b"\r\n")?;
            }
            out.write_all(b"0\r\n\r\n")?;
        }
        (Ok((ctype, bytes)), Delivery::Trickled(pause)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            )?;
            out.flush()?;
            // Ends with an error as soon as the client has given up and closed the connection.
            for byte in bytes {
                std::thread::sleep(pause);
                out.write_all(&[byte])?;
                out.flush()?;
            }
        }
        (Err(status), _) => write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}

/// A file name no other request of this process uses.
fn scratch(dir: &Path, what: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    dir.join(format!(
        "{what}-{}.der",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Answers one OCSP request with OpenSSL; `None` if OpenSSL fails.
fn openssl_ocsp(dir: &Path, request: &[u8]) -> Option<Vec<u8>> {
    let (req, resp) = (scratch(dir, "req"), scratch(dir, "resp"));
    std::fs::write(&req, request).ok()?;
    let out = Command::new("openssl")
        .args(["ocsp", "-index", "index.txt", "-CA", "ca.pem"])
        .args([
            "-rsigner",
            "rsigner.pem",
            "-rkey",
            "rkey.pem",
            "-ndays",
            "1",
        ])
        .arg("-reqin")
        .arg(&req)
        .arg("-respout")
        .arg(&resp)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (Debian package openssl)");
    if !out.status.success() {
        eprintln!(
            "openssl ocsp failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    std::fs::read(&resp).ok()
}

/// Answers one time-stamp request with OpenSSL; `None` if OpenSSL fails.
fn openssl_ts(dir: &Path, request: &[u8]) -> Option<Vec<u8>> {
    let (req, resp) = (scratch(dir, "tsq"), scratch(dir, "tsr"));
    std::fs::write(&req, request).ok()?;
    let out = Command::new("openssl")
        .args([
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-section",
            "tsa_config1",
        ])
        .arg("-queryfile")
        .arg(&req)
        .arg("-out")
        .arg(&resp)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (Debian package openssl)");
    if !out.status.success() {
        eprintln!(
            "openssl ts -reply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    std::fs::read(&resp).ok()
}
