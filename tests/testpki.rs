//! The test PKI is judged by a validator we did not write: OpenSSL must agree with each
//! profile's intent, or every later verification test would rest on wrong fixtures.

use std::process::Command;

use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;

fn openssl_verify(dir: &std::path::Path, leaf: &[u8], with_crl: bool) -> (bool, String) {
    let leaf_path = dir.join("leaf.pem");
    std::fs::write(&leaf_path, kyso::testpki::pem_encode("CERTIFICATE", leaf)).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("verify");
    if with_crl {
        cmd.arg("-crl_check")
            .arg("-CRLfile")
            .arg(dir.join("intermediate.crl"));
    }
    cmd.arg("-CAfile")
        .arg(dir.join("root.pem"))
        .arg("-untrusted")
        .arg(dir.join("intermediate.pem"))
        .arg(&leaf_path);
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn openssl_agrees_with_every_profile() {
    let pki = TestPki::new(PkiOptions::default()).unwrap();
    let name = SignerName::new("Phạm Thị Dung", "UBND tỉnh Thử Nghiệm", "Sở Nội vụ");
    let mut issued = Vec::new();
    for algorithm in KeyAlgorithm::ALL {
        for profile in [
            SignerProfile::Valid,
            SignerProfile::Expired,
            SignerProfile::NotYetValid,
            SignerProfile::Revoked,
            SignerProfile::UntrustedIssuer,
            SignerProfile::NoKeyUsage,
            SignerProfile::UntrustedNoKeyUsage,
        ] {
            let (cert, _) = pki
                .issue_with_software_key(algorithm, &name, profile)
                .unwrap();
            issued.push((algorithm, profile, cert));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    pki.write_authorities(dir.path()).unwrap();
    for (algorithm, profile, cert) in issued {
        let (ok, out) = openssl_verify(dir.path(), &cert.der, true);
        let (expect_ok, expect_text) = match profile {
            SignerProfile::Valid => (true, "OK"),
            SignerProfile::Expired => (false, "certificate has expired"),
            SignerProfile::NotYetValid => (false, "certificate is not yet valid"),
            SignerProfile::Revoked => (false, "certificate revoked"),
            SignerProfile::UntrustedIssuer | SignerProfile::UntrustedNoKeyUsage => {
                (false, "unable to get local issuer certificate")
            }
            // RFC 5280: no keyUsage puts no restriction on the key; OpenSSL agrees.
            SignerProfile::NoKeyUsage => (true, "OK"),
            SignerProfile::WrongKeyUsage => unreachable!(),
        };
        assert_eq!(ok, expect_ok, "{algorithm} {profile:?}: {out}");
        assert!(out.contains(expect_text), "{algorithm} {profile:?}: {out}");
    }
}
