//! The dated algorithm policy on certificate paths: SHA-1 signatures and RSA keys under 2048
//! bits are refused after their cut-off dates (judged at the time the path is validated), and
//! always accepted under `AlgorithmPolicy::DangerouslyAllowLegacy`. Certificates come from
//! OpenSSL, since rcgen refuses to make them.

use std::path::Path;
use std::process::Command;

use kyso::pki::{
    AlgorithmDates, AlgorithmPolicy, CertPool, Certificate, PathError, RetiredUse, RevocationCheck,
    RevocationPolicy, SignatureError, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
    Weakness,
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
) -> Result<Vec<RetiredUse>, PathError> {
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
    v.validate(leaf, &[], at, &[])
        .map(|chain| chain.retired().to_vec())
}

#[test]
fn sha1_signature_refused_unless_dangerously_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha1", "2048");
    match validate(&ca, &leaf, AlgorithmPolicy::default()).unwrap_err() {
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
    match validate(&ca, &leaf, AlgorithmPolicy::default()).unwrap_err() {
        PathError::BadSignature {
            reason: SignatureError::KeyTooSmall { bits: 1024 },
            ..
        } => {}
        other => panic!("expected a key-size refusal, got {other}"),
    }
    validate(&ca, &leaf, AlgorithmPolicy::DangerouslyAllowLegacy).unwrap();
}

/// A policy whose cut-offs fall `days` after the leaf's notBefore (the path is validated a day
/// after it): OpenSSL issues certificates from now, so the dates move instead of the time.
fn cut_off_after(leaf: &Certificate, days: i64) -> AlgorithmPolicy {
    let until = (leaf.not_before() + time::Duration::days(days)).date();
    AlgorithmPolicy::Dated(AlgorithmDates {
        sha1_until: Some(until),
        small_rsa_until: Some(until),
        ..AlgorithmDates::default()
    })
}

#[test]
fn sha1_certificate_in_a_path_follows_the_policy_dates() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha1", "2048");
    // Validated before the cut-off: accepted, and the chain says what it accepted.
    let retired = validate(&ca, &leaf, cut_off_after(&leaf, 30)).unwrap();
    assert_eq!(retired.len(), 1, "{retired:?}");
    assert_eq!(retired[0].weakness, Weakness::Sha1);
    assert!(
        retired[0]
            .to_string()
            .to_lowercase()
            .contains("legacy signer"),
        "{}",
        retired[0]
    );
    // Validated after it: refused, as with no date at all.
    match validate(&ca, &leaf, cut_off_after(&leaf, 0)).unwrap_err() {
        PathError::BadSignature {
            reason: SignatureError::WeakAlgorithm { name: "SHA-1" },
            ..
        } => {}
        other => panic!("expected a weak-algorithm refusal, got {other}"),
    }
    // A SHA-256 chain has nothing retired.
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha256", "2048");
    assert!(
        validate(&ca, &leaf, AlgorithmPolicy::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rsa_1024_key_in_a_path_follows_the_policy_dates() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, leaf) = make(dir.path(), "sha256", "1024");
    let retired = validate(&ca, &leaf, cut_off_after(&leaf, 30)).unwrap();
    assert_eq!(retired[0].weakness, Weakness::SmallRsa { bits: 1024 });
    assert!(validate(&ca, &leaf, cut_off_after(&leaf, 0)).is_err());
}

/// `kyso sign` and the service refuse to make what the policy no longer accepts: the same key
/// signs under the default floor and is refused under a raised one, for PDF and XML alike.
#[test]
fn a_key_below_the_policy_floor_does_not_sign() {
    use kyso::pdf::SignatureOptions;
    use kyso::pdf::sample::{SampleOptions, sample_pdf};
    use kyso::signing::{Level, XmlOptions};

    let signer = crate::support::Signing::new(kyso::token::KeyAlgorithm::Rsa2048, "Nguyễn Văn An");
    let key = crate::edxml::key_material(&signer);
    let now = time::OffsetDateTime::now_utc();
    let signing = |algorithms| kyso::signing::Signing {
        key: &key,
        level: Level::BaselineB,
        tsa: None,
        trust: None,
        at: now,
        algorithms,
    };
    let pdf = sample_pdf(&SampleOptions::default());
    signing(AlgorithmPolicy::default())
        .pdf(&pdf, SignatureOptions::new(now, 0))
        .unwrap();
    let strict = AlgorithmPolicy::Dated(AlgorithmDates {
        rsa_min_bits: 3072,
        ..AlgorithmDates::default()
    });
    let refused = |err: kyso::signing::Error| {
        assert!(
            matches!(
                err,
                kyso::signing::Error::KeyBelowPolicy {
                    weakness: Weakness::SmallRsa { bits: 2048 }
                }
            ),
            "{err}"
        );
    };
    refused(
        signing(strict)
            .pdf(&pdf, SignatureOptions::new(now, 0))
            .err()
            .expect("refused"),
    );
    refused(
        signing(strict)
            .xml(
                b"<HDon><DLHDon Id=\"data\">1</DLHDon></HDon>",
                XmlOptions::default(),
            )
            .err()
            .expect("refused"),
    );
}
