//! A real RFC 3161 TSA for tests: `openssl ts -reply` behind a tiny HTTP front on 127.0.0.1:0.
//! The front answers a bounded number of requests within two minutes, then its thread ends by
//! itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct TestTsa {
    pub url: String,
    pub dir: tempfile::TempDir,
    handle: Option<JoinHandle<()>>,
}

impl TestTsa {
    /// Starts a TSA that answers at most `requests` requests.
    pub fn start(requests: usize) -> Option<TestTsa> {
        if !super::common::have("openssl") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-keyout", "tsa.key", "-out", "tsa.crt", "-days", "3650"])
            .args(["-subj", "/CN=kyso test TSA"])
            .args(["-addext", "extendedKeyUsage=critical,timeStamping"])
            .current_dir(d)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "openssl could not make the TSA certificate");
        std::fs::write(d.join("tsaserial"), "01\n").unwrap();
        std::fs::write(d.join("tsa.cnf"), TSA_CONFIG).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsa", listener.local_addr().unwrap());
        let work: PathBuf = d.to_path_buf();
        listener.set_nonblocking(true).unwrap();
        let handle = std::thread::spawn(move || {
            // Bounded in count and in time: the thread ends by itself either way.
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut answered = 0;
            while answered < requests && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                        let reply = answer(&work, &mut stream);
                        let _ = stream.write_all(&reply);
                        answered += 1;
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Some(TestTsa {
            url,
            dir,
            handle: Some(handle),
        })
    }

    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("tsa.crt")
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        // The thread ends after its bounded number of requests; don't wait on it if unused.
        drop(self.handle.take());
    }
}

fn answer(dir: &Path, stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return http(400, b"");
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    if length == 0 || length > 64 * 1024 {
        return http(400, b"");
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return http(400, b"");
    }
    std::fs::write(dir.join("req.der"), &body).unwrap();
    let out = Command::new("openssl")
        .args([
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-section",
            "tsa_config1",
        ])
        .args(["-queryfile", "req.der", "-out", "resp.der"])
        .current_dir(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => http(200, &std::fs::read(dir.join("resp.der")).unwrap()),
        _ => http(500, b""),
    }
}

fn http(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
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
