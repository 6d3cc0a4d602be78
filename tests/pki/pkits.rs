//! NIST PKITS (2048-bit edition): every case in good.txt must validate and every case in
//! bad.txt must fail, under the initial inputs of its settings file (PKITS §4.8.1, §4.10.1,
//! §4.12.3). DSA cases are reported as unsupported: kyso verifies no DSA signatures.

use kyso::pki::Evidence;
use kyso::pki::crl::Crl;
use kyso::pki::{
    CertPool, Certificate, CertificatePolicies, KeyPurpose, RevocationPolicy, TrustStore,
    ValidationPolicy, Validator,
};
use time::OffsetDateTime;

use super::conformance::Tally;

/// Cases kyso cannot run, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "ValidDSASignaturesTest4EE.crt",
        "DSA signatures are not supported",
    ),
    (
        "ValidDSAParameterInheritanceTest5EE.crt",
        "DSA signatures are not supported",
    ),
    (
        "InvalidDSASignatureTest6EE.crt",
        "DSA signatures are not supported",
    ),
];

struct Suite {
    anchors: TrustStore,
    pool: CertPool,
    evidence: Evidence,
    at: OffsetDateTime,
}

fn load() -> Option<Suite> {
    let dir = super::conformance_dir().join("nist-pkits");
    if !dir.is_dir() {
        println!(
            "pkits: conformance material not found at {}, skipping",
            dir.display()
        );
        return None;
    }
    let mut anchors = TrustStore::new();
    let mut pool = CertPool::new();
    for entry in std::fs::read_dir(dir.join("certs")).unwrap() {
        let path = entry.unwrap().path();
        let cert = Certificate::from_der(&std::fs::read(&path).unwrap()).unwrap();
        if path.file_name().unwrap() == "TrustAnchorRootCertificate.crt" {
            anchors.add(cert);
        } else {
            pool.add(cert);
        }
    }
    let mut evidence = Evidence::new();
    for entry in std::fs::read_dir(dir.join("crls")).unwrap() {
        let path = entry.unwrap().path();
        evidence.add_crl(Crl::from_der(&std::fs::read(&path).unwrap()).unwrap());
    }
    // Time of interest pinned in every settings file.
    let at = OffsetDateTime::from_unix_timestamp(1_647_264_981).unwrap();
    Some(Suite {
        anchors,
        pool,
        evidence,
        at,
    })
}

fn settings(group: &str) -> CertificatePolicies {
    use kyso::pki::CertificatePolicies as P;
    let dir = super::conformance_dir().join("nist-pkits/settings");
    let file = match group {
        "Default" => "default.json".to_owned(),
        g => format!("settings{}.json", g.trim_start_matches("Policy ")),
    };
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let flag = |k: &str| v[k]["Bool"].as_bool().unwrap_or(false);
    let mut p = P::default();
    if let Some(set) = v["psInitialPolicySet"]["Strings"].as_array() {
        p.initial_policy_set = Some(set.iter().map(|s| s.as_str().unwrap().to_owned()).collect());
    }
    if flag("psInitialExplicitPolicyIndicator") {
        p.explicit_policy = kyso::pki::ExplicitPolicy::Required;
    }
    if flag("psInitialPolicyMappingInhibitIndicator") {
        p.policy_mapping = kyso::pki::PolicyMapping::Inhibited;
    }
    if flag("psInitialInhibitAnyPolicyIndicator") {
        p.any_policy = kyso::pki::AnyPolicy::Inhibited;
    }
    p
}

#[test]
fn pkits_conformance() {
    let Some(suite) = load() else { return };
    let dir = super::conformance_dir().join("nist-pkits");
    let mut tally = Tally::default();
    for (file, expect_valid) in [("good.txt", true), ("bad.txt", false)] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (group, cert_file) = line.split_once(": ").unwrap();
            let name = format!(
                "{group}: {cert_file} (expected {})",
                if expect_valid { "valid" } else { "invalid" }
            );
            if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == cert_file) {
                tally.unsupported.push((name, (*why).to_owned()));
                continue;
            }
            let policy = ValidationPolicy {
                purpose: KeyPurpose::Unrestricted,
                policies: settings(group),
                revocation: RevocationPolicy::default(),
                ..ValidationPolicy::default()
            };
            let validator = Validator::new(suite.anchors.clone(), suite.pool.clone(), policy);
            let leaf =
                Certificate::from_der(&std::fs::read(dir.join("certs").join(cert_file)).unwrap())
                    .unwrap();
            let result = validator.validate(&leaf, &[], suite.at, &[&suite.evidence]);
            match (&result, expect_valid) {
                (Ok(_), true) | (Err(_), false) => tally.passed += 1,
                (Ok(_), false) => tally.failed.push(format!("{name}: validated")),
                (Err(e), true) => tally.failed.push(format!("{name}: {e}")),
            }
        }
    }
    tally.print("pkits");
    assert!(
        tally.failed.is_empty(),
        "{} PKITS cases wrong",
        tally.failed.len()
    );
}
