//! XML verification throughput: kyso in-process against `xmlsec1 --verify` (one process per
//! file, as a DMS shelling out to it would run), on the same signed files, in the same run.
//!
//! `cargo bench --bench xml` prints a table. Files are XAdES B-B enveloped signatures made here
//! with software keys under a throwaway PKI; xmlsec1 trusts the same root kyso is given.
//! KYSO_BENCH_SECONDS (default 2) sets how long each kyso measurement runs; KYSO_BENCH_XMLSEC_RUNS
//! (default 20) how many xmlsec1 processes run per file; KYSO_BENCH_KEEP=DIR keeps the signed
//! files there.
#![allow(
    clippy::cast_possible_truncation,
    reason = "test and benchmark data: sizes, timings and bytes of known small range"
)]

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature as sig;
use kyso::signer::{Curve, DigestAlgorithm, Signature, SignatureAlgorithm, Signer};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use kyso::xml::{self, Level, Packaging, SignOptions, VerifyOptions};

enum Key {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(sig::EcdsaKeyPair),
}

struct SoftSigner {
    algorithm: SignatureAlgorithm,
    spki: Vec<u8>,
    key: Key,
}

impl Signer for SoftSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }
    fn sign(&self, message: &[u8]) -> Result<Signature, kyso::signer::SignError> {
        let rng = SystemRandom::new();
        let bytes = match &self.key {
            Key::Rsa(k) => {
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .expect("RSA signing");
                out
            }
            Key::Ec(k) => k.sign(&rng, message).expect("ECDSA").as_ref().to_vec(),
        };
        Ok(Signature::new(self.algorithm, bytes))
    }
}

fn document(rows: usize) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hd:HoaDon xmlns:hd=\"urn:kyso:bench:hoadon\" so=\"0000123\">\n  <hd:NguoiBan>Công ty TNHH Thử Nghiệm</hd:NguoiBan>\n",
    );
    for i in 0..rows {
        s.push_str(&format!(
            "  <hd:Dong stt=\"{i}\"><hd:Ten>Hàng hóa số {i}</hd:Ten><hd:SoLuong>{}</hd:SoLuong><hd:DonGia>10000</hd:DonGia></hd:Dong>\n",
            i % 7 + 1
        ));
    }
    s.push_str("</hd:HoaDon>\n");
    s
}

fn main() {
    let seconds: u64 = std::env::var("KYSO_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let xmlsec_runs: usize = std::env::var("KYSO_BENCH_XMLSEC_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let pki = TestPki::new(PkiOptions::default()).expect("test PKI");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("root.pem"), pki.root.pem()).unwrap();
    let name = SignerName::new("Nguyễn Văn A", "UBND tỉnh Thử Nghiệm", "Văn phòng");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let options = {
        let mut o = SignOptions::new(UNIX_EPOCH + now);
        o.packaging = Packaging::Enveloped;
        o.level = Level::XadesB;
        o
    };

    let cases = [
        ("invoice-2KB RSA-2048", KeyAlgorithm::Rsa2048, 10),
        ("invoice-2KB P-256", KeyAlgorithm::P256, 10),
        ("invoice-200KB RSA-2048", KeyAlgorithm::Rsa2048, 1500),
    ];
    let have_xmlsec1 = Command::new("xmlsec1").arg("--version").output().is_ok();
    println!(
        "| file | size | kyso verify/s (in-process, 1 thread) | xmlsec1 --verify files/s (process per file) | ratio |"
    );
    println!("|---|---|---|---|---|");
    for (label, algorithm, rows) in cases {
        let (issued, key_pair) = pki
            .issue_with_software_key(algorithm, &name, SignerProfile::Valid)
            .expect("issue");
        let pkcs8 = key_pair.serialize_der();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key_pair);
        let signer = match algorithm {
            KeyAlgorithm::P256 => SoftSigner {
                algorithm: SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
                spki,
                key: Key::Ec(
                    sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                        .unwrap(),
                ),
            },
            _ => SoftSigner {
                algorithm: SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
                spki,
                key: Key::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).unwrap()),
            },
        };
        let chain = vec![issued.der.clone(), pki.intermediate.der().to_vec()];
        let signed =
            xml::sign(document(rows).as_bytes(), &signer, &chain, &options).expect("signing");
        let file = format!("{}.xml", label.replace(' ', "-"));
        std::fs::write(dir.path().join(&file), &signed).unwrap();
        if let Some(keep) = std::env::var_os("KYSO_BENCH_KEEP") {
            std::fs::write(std::path::Path::new(&keep).join(&file), &signed).unwrap();
        }

        // kyso, in-process.
        let verify_options = VerifyOptions::default();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let start = Instant::now();
        let mut n = 0u64;
        while Instant::now() < deadline {
            let report = xml::verify(&signed, &verify_options).expect("verify");
            assert!(report.all_intact());
            n += 1;
        }
        let kyso_rate = n as f64 / start.elapsed().as_secs_f64();

        // xmlsec1, one process per file.
        let xmlsec_rate = if have_xmlsec1 {
            let start = Instant::now();
            for _ in 0..xmlsec_runs {
                let out = Command::new("xmlsec1")
                    .args(["--verify", "--trusted-pem", "root.pem"])
                    .args([
                        "--id-attr:Id",
                        "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                    ])
                    .arg(&file)
                    .current_dir(dir.path())
                    .output()
                    .expect("xmlsec1");
                assert!(
                    out.status.success(),
                    "xmlsec1 rejects {file}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Some(xmlsec_runs as f64 / start.elapsed().as_secs_f64())
        } else {
            None
        };
        let (xmlsec_text, ratio) = match xmlsec_rate {
            Some(r) => (format!("{r:.1}"), format!("{:.0}×", kyso_rate / r)),
            None => ("(xmlsec1 not installed)".to_owned(), "-".to_owned()),
        };
        println!(
            "| {label} | {} KB | {kyso_rate:.0} | {xmlsec_text} | {ratio} |",
            signed.len() / 1024
        );
    }
}
