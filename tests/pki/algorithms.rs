//! The weak-algorithm knob: SHA-1 signatures and RSA keys under 2048 bits are refused unless
//! the caller says `AlgorithmPolicy::DangerouslyAllowLegacy`. Certificates come from OpenSSL,
//! since rcgen refuses to make them.

use std::path::Path;
use std::process::Command;

use kyso::pki::{
    AlgorithmPolicy, CertPool, Certificate, PathError, RevocationCheck, RevocationPolicy,
    SignatureError, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};

fn openssl(dir: &Path, args: &[&str]) {
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
}

/// A CA (RSA-2048, SHA-256) and a leaf issued with `digest` for a `bits`-bit RSA key.
fn make(dir: &Path, digest: &str, bits: &str) -> (Certificate, Certificate) {
    std::fs::write(
        dir.join("ext.cnf"),
        "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=unused\n[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier=hash\n[leaf]\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
         authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n",
    )
    .unwrap();
    openssl(dir, &["genrsa", "-out", "ca.key", "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-sha256",
            "-days",
            "3650",
            "-subj",
            "/CN=Legacy CA",
            "-config",
            "ext.cnf",
            "-extensions",
            "ca",
            "-set_serial",
            "1",
            "-out",
            "ca.pem",
        ],
    );
    openssl(dir, &["genrsa", "-out", "leaf.key", bits]);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=Legacy signer",
            "-config",
            "ext.cnf",
            "-out",
            "leaf.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "365",
            &format!("-{digest}"),
            "-extfile",
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            "leaf.pem",
        ],
    );
    let read = |f: &str| {
        Certificate::from_pem_or_der(&std::fs::read(dir.join(f)).unwrap())
            .unwrap()
            .remove(0)
    };
    (read("ca.pem"), read("leaf.pem"))
}

fn validate(
    ca: &Certificate,
    leaf: &Certificate,
    algorithms: AlgorithmPolicy,
) -> Result<(), PathError> {
    let mut anchors = TrustStore::new();
    anchors.add(ca.clone());
    let v = Validator::new(
        anchors,
        CertPool::new(),
        ValidationPolicy {
            algorithms,
            revocation: RevocationPolicy {
                check: RevocationCheck::DangerouslySkip,
                unknown: UnknownRevocation::Allow,
            },
            ..ValidationPolicy::default()
        },
    );
    // Inside the one-year window OpenSSL gave the leaf.
    let at = leaf.not_before() + time::Duration::days(1);
    v.validate(leaf, &[], at, &[]).map(|_| ())
}

#[test]
fn sha1_signature_refused_unless_dangerously_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha1", "2048");
    match validate(&ca, &leaf, AlgorithmPolicy::Modern).unwrap_err() {
        PathError::BadSignature {
            reason: SignatureError::WeakAlgorithm { name },
            ..
        } => assert_eq!(name, "SHA-1"),
        other => panic!("expected a weak-algorithm refusal, got {other}"),
    }
    validate(&ca, &leaf, AlgorithmPolicy::DangerouslyAllowLegacy).unwrap();
}

#[test]
fn rsa_1024_key_refused_unless_dangerously_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha256", "1024");
    match validate(&ca, &leaf, AlgorithmPolicy::Modern).unwrap_err() {
        PathError::BadSignature {
            reason: SignatureError::KeyTooSmall { bits: 1024 },
            ..
        } => {}
        other => panic!("expected a key-size refusal, got {other}"),
    }
    validate(&ca, &leaf, AlgorithmPolicy::DangerouslyAllowLegacy).unwrap();
}
