//! A loopback HTTPS front for tests: rustls (on aws-lc-rs, as kyso) with a certificate for
//! 127.0.0.1 from a throwaway CA, relaying each request to a plain HTTP backend (the responders'
//! front, where `openssl ts -reply` answers; `openssl s_server` cannot run it) and the answer
//! back. Bounded like the responders: one connection at a time, at most
//! [`super::responders::MAX_REQUESTS`], for at most [`super::responders::LIFETIME`]; dropping
//! the front stops it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::responders::{LIFETIME, MAX_REQUESTS};

/// The HTTPS front and the CA that certified it.
pub struct HttpsFront {
    port: u16,
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpsFront {
    /// Starts relaying `https://127.0.0.1:PORT/…` to `http://127.0.0.1:backend/…`.
    pub fn start(backend: u16) -> HttpsFront {
        let dir = tempfile::tempdir().unwrap();
        let (config, ca_pem) = server_config();
        std::fs::write(dir.path().join("ca.pem"), ca_pem).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + LIFETIME;
                let mut served = 0;
                while !stop.load(Ordering::Relaxed)
                    && Instant::now() < deadline
                    && served < MAX_REQUESTS
                {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            served += 1;
                            let _ = relay(stream, config.clone(), backend);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        HttpsFront {
            port,
            dir,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// The CA that certified the front, PEM: what `[tsa] ca` names.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A server configuration with a fresh CA's certificate for 127.0.0.1, and the CA as PEM.
fn server_config() -> (Arc<ServerConfig>, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kyso test TLS CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "kyso test TSA front");
    let certificate = params.signed_by(&key, &issuer).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(certificate.der().to_vec()),
                CertificateDer::from(ca.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (Arc::new(config), ca.pem())
}

/// One exchange: the request read over TLS, sent to the backend as it came, the backend's whole
/// answer sent back, then close_notify.
fn relay(stream: TcpStream, config: Arc<ServerConfig>, backend: u16) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let connection = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, stream);
    let mut reader = BufReader::new(&mut tls);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            content_length = v.trim().parse().unwrap_or(0);
        }
        head.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    drop(reader);
    let mut upstream = TcpStream::connect(("127.0.0.1", backend))?;
    upstream.write_all(&head)?;
    upstream.write_all(&body)?;
    // The backend closes after each answer; relay what arrives as it arrives, so a trickled
    // answer stays trickled.
    let mut buffer = [0u8; 4096];
    loop {
        let n = upstream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        tls.write_all(&buffer[..n])?;
        tls.flush()?;
    }
    tls.conn.send_close_notify();
    tls.flush()
}
