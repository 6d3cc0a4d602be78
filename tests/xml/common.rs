//! Helpers shared by the XML tests: a software `Signer` over aws-lc-rs keys and a throwaway PKI
//! (root CA + signer certificate) made with rcgen at test time.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature as sig;
use kyso::signer::{Curve, DigestAlgorithm, Signature, SignatureAlgorithm, Signer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// Whether an external tool is on PATH; interop tests skip (loudly) without it.
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A fixed signing time: tests never read the clock.
pub fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600) // 2026-01-01T00:00:00Z
}

enum Key {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(sig::EcdsaKeyPair),
}

/// A key in memory standing in for the HSM.
pub struct SoftSigner {
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
                let encoding: &'static dyn sig::RsaEncoding = match self.algorithm {
                    SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256) => {
                        &sig::RSA_PKCS1_SHA256
                    }
                    SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha384) => {
                        &sig::RSA_PKCS1_SHA384
                    }
                    SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512) => {
                        &sig::RSA_PKCS1_SHA512
                    }
                    SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256) => &sig::RSA_PSS_SHA256,
                    SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha384) => &sig::RSA_PSS_SHA384,
                    SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha512) => &sig::RSA_PSS_SHA512,
                    _ => unreachable!("RSA key with a non-RSA algorithm"),
                };
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(encoding, &rng, message, &mut out)
                    .expect("RSA signing");
                out
            }
            Key::Ec(k) => k
                .sign(&rng, message)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
        };
        Ok(Signature::new(self.algorithm, bytes))
    }
}

/// A root CA and one signer certificate under it.
pub struct TestPki {
    pub signer: SoftSigner,
    /// DER, signer first, then the root.
    pub chain: Vec<Vec<u8>>,
    pub root_pem: String,
    pub signer_pem: String,
    /// PKCS#8 PEM of the signer key, for xmlsec1.
    pub key_pem: String,
}

impl TestPki {
    pub fn new(algorithm: SignatureAlgorithm) -> TestPki {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params
            .distinguished_name
            .push(DnType::CommonName, "kyso test root");
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = root_params.self_signed(&root_key).unwrap();

        let leaf_key = match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss(_) => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                    .unwrap()
            }
            SignatureAlgorithm::Ecdsa(Curve::P256, _) => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
            }
            SignatureAlgorithm::Ecdsa(Curve::P384, _) => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap()
            }
        };
        let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "Nguyễn Văn A");
        leaf_params
            .distinguished_name
            .push(DnType::OrganizationName, "UBND tỉnh Thử Nghiệm");
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        let issuer = Issuer::from_params(&root_params, &root_key);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let pkcs8 = leaf_key.serialize_der();
        let key = match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss(_) => {
                Key::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).unwrap())
            }
            SignatureAlgorithm::Ecdsa(Curve::P256, _) => Key::Ec(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .unwrap(),
            ),
            SignatureAlgorithm::Ecdsa(Curve::P384, _) => Key::Ec(
                sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, &pkcs8)
                    .unwrap(),
            ),
        };
        let leaf_der = leaf.der().to_vec();
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
        let spki = parsed.tbs_certificate.subject_pki.raw.to_vec();
        TestPki {
            signer: SoftSigner {
                algorithm,
                spki,
                key,
            },
            chain: vec![leaf_der, root.der().to_vec()],
            root_pem: root.pem(),
            signer_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
        }
    }

    /// Writes root.pem, signer.pem and key.pem into `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::write(dir.join("root.pem"), &self.root_pem).unwrap();
        std::fs::write(dir.join("signer.pem"), &self.signer_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &self.key_pem).unwrap();
    }
}

/// A small e-government document with namespaces, attributes and Vietnamese text.
pub const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- văn bản đi -->
<vb:VanBan xmlns:vb="urn:kyso:test:vanban" xmlns="urn:kyso:test:default" so="123/QĐ-UBND" ngay="2026-01-01">
  <vb:CoQuan ma="H01">Ủy ban nhân dân tỉnh Thử Nghiệm</vb:CoQuan>
  <TrichYeu>Về việc ban hành quy chế &amp; hướng dẫn &lt;thử&gt;</TrichYeu>
  <NoiDung xml:lang="vi"><![CDATA[Điều 1. <Nội dung> chính]]></NoiDung>
</vb:VanBan>
"#;
