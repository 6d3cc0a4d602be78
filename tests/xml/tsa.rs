//! A real RFC 3161 TSA for the XML tests: `openssl ts -reply` with a self-signed TSA certificate,
//! behind the shared loopback HTTP front of `support::responders` (bounded in requests and time).

use std::path::PathBuf;
use std::process::Command;

use crate::support::responders::{Responders, Tsa};

pub struct TestTsa {
    pub url: String,
    pub dir: tempfile::TempDir,
    tsa: Tsa,
    _front: Responders,
}

impl TestTsa {
    /// Starts a TSA; `None` without openssl.
    pub fn start() -> Option<TestTsa> {
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
        let read = |name: &str| std::fs::read_to_string(d.join(name)).unwrap();
        let tsa = Tsa::new(&read("tsa.crt"), &read("tsa.key"), "");
        let front = Responders::start();
        front.serve_tsa("/tsa", &tsa);
        Some(TestTsa {
            url: front.url("/tsa"),
            dir,
            tsa,
            _front: front,
        })
    }

    pub fn certificate(&self) -> PathBuf {
        self.tsa.certificate()
    }
}
