//! x509-limbo: the `rfc5280`, `pathlen`, `pathological`, `crl` and `cve` namespaces must match
//! the suite's verdicts except for the listed exceptions (each with its reason); the
//! `webpki`/`online`/`invalid` namespaces run too and are reported, since they test the
//! CA/Browser Forum web profile that a document-signature verifier does not apply. Every
//! pathological case must end in under 100 ms.
//!
//! The harness contract is upstream's (harness/README.md): trusted_certs are anchors,
//! untrusted_intermediates the pool, peer_certificate the leaf, validation_time the time,
//! expected_peer_name checked against the leaf's subjectAltName (SERVER cases), crls checked.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kyso::pki::crl::Crl;
use kyso::pki::{
    CertPool, Certificate, ChainDepth, Evidence, ExtendedKeyUsage, GeneralName, KeyPurpose,
    RevocationCheck, RevocationPolicy, RevocationSource, TrustStore, UnknownRevocation,
    ValidationPolicy, Validator,
};
use serde_json::Value;
use time::OffsetDateTime;

use super::conformance::Tally;

/// Namespaces whose verdicts kyso must reproduce.
const IN_SCOPE: &[&str] = &["rfc5280", "pathlen", "pathological", "crl", "cve"];

/// Known divergences from the suite's verdicts in the in-scope namespaces, each with a reason.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "rfc5280::pc::ica-noncritical-pc",
        "NIST PKITS 4.8/4.10 (e.g. Valid Policy Mapping Test1) expects a non-critical \
         policyConstraints to be honoured, not rejected; PKITS wins",
    ),
    (
        "rfc5280::aki::cross-signed-root-missing-aki",
        "pedantic (limbo feature pedantic-rfc5280): RFC 5280 §6.1 takes nothing from the trust \
         anchor but its name and key, and cve::cve-2024-0567 needs a cross-signed anchor without \
         authorityKeyIdentifier accepted",
    ),
    (
        "rfc5280::serial::negative",
        "RFC 5280 §4.1.2.2 asks users to handle negative serials gracefully and NIST PKITS 4.4.15 \
         (Valid Negative Serial Number Test14) requires accepting one",
    ),
    (
        "rfc5280::serial::zero",
        "same rule as negative serials: RFC 5280 §4.1.2.2 tells certificate users to handle \
         non-conforming serial numbers gracefully",
    ),
];

/// Time used when a testcase has none: the regenerated suite's certificates are valid from
/// 1970 for 1000 years, so any fixed instant inside works; tests never read the clock.
const DEFAULT_TIME: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

struct Outcome {
    id: String,
    expected_success: bool,
    actual: Result<(), String>,
    elapsed: Duration,
}

fn eku_oid(name: &str) -> String {
    match name {
        "serverAuth" => "1.3.6.1.5.5.7.3.1",
        "clientAuth" => "1.3.6.1.5.5.7.3.2",
        "codeSigning" => "1.3.6.1.5.5.7.3.3",
        "emailProtection" => "1.3.6.1.5.5.7.3.4",
        "timeStamping" => "1.3.6.1.5.5.7.3.8",
        "OCSPSigning" => "1.3.6.1.5.5.7.3.9",
        "anyExtendedKeyUsage" => "2.5.29.37.0",
        other => other,
    }
    .to_owned()
}

fn certs(v: &Value) -> Vec<Certificate> {
    v.as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            Certificate::from_pem_or_der(p.as_str().unwrap_or("").as_bytes()).unwrap_or_default()
        })
        .collect()
}

/// Runs one case; `validation` receives the time spent in path building and validation alone
/// (parsing the inputs is not what the 100 ms bound is about).
fn run_case(case: &Value, validation: &mut Duration) -> Result<(), String> {
    let mut anchors = TrustStore::new();
    for c in certs(&case["trusted_certs"]) {
        anchors.add(c);
    }
    let intermediates = certs(&case["untrusted_intermediates"]);
    let leaf =
        Certificate::from_pem_or_der(case["peer_certificate"].as_str().unwrap_or("").as_bytes())
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or("no leaf")?;
    let at = match case["validation_time"].as_str() {
        Some(t) => OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())?,
        None => OffsetDateTime::from_unix_timestamp(DEFAULT_TIME).unwrap(),
    };
    let mut evidence = Evidence::new();
    for pem in case["crls"].as_array().into_iter().flatten() {
        for crl in Crl::from_pem_or_der(pem.as_str().unwrap_or("").as_bytes())
            .map_err(|e| e.to_string())?
        {
            evidence.add_crl(crl);
        }
    }
    let revocation = if evidence.crl_count() > 0 {
        RevocationPolicy {
            check: RevocationCheck::FullChain,
            unknown: UnknownRevocation::Deny,
        }
    } else {
        RevocationPolicy {
            check: RevocationCheck::DangerouslySkip,
            unknown: UnknownRevocation::Allow,
        }
    };
    let extended_key_usage = match case["extended_key_usage"]
        .as_array()
        .and_then(|a| a.first())
    {
        Some(e) => ExtendedKeyUsage::Require(eku_oid(e.as_str().unwrap_or(""))),
        None => ExtendedKeyUsage::Unconstrained,
    };
    let depth = match case["max_chain_depth"].as_u64() {
        Some(n) => ChainDepth::MaxIntermediates(n as usize),
        None => ChainDepth::Default,
    };
    let policy = ValidationPolicy {
        purpose: KeyPurpose::Unrestricted,
        extended_key_usage,
        depth,
        revocation,
        ..ValidationPolicy::default()
    };
    let validator = Validator::new(anchors, CertPool::new(), policy);
    let sources: [&dyn RevocationSource; 1] = [&evidence];
    let start = Instant::now();
    let result = validator.validate(&leaf, &intermediates, at, &sources);
    *validation = start.elapsed();
    let chain = result.map_err(|e| e.to_string())?;
    if let Some(ku) = case["key_usage"].as_array() {
        for k in ku {
            let bit = match k.as_str().unwrap_or("") {
                "digitalSignature" => 0,
                "contentCommitment" => 1,
                "keyEncipherment" => 2,
                "dataEncipherment" => 3,
                "keyAgreement" => 4,
                "keyCertSign" => 5,
                "cRLSign" => 6,
                _ => continue,
            };
            if !chain.leaf().has_key_usage(1 << bit) {
                return Err(format!("leaf lacks keyUsage {k}"));
            }
        }
    }
    if case["validation_kind"] == "SERVER"
        && let Some(name) = case["expected_peer_name"].as_object()
    {
        check_peer_name(
            &leaf,
            name["kind"].as_str().unwrap_or(""),
            name["value"].as_str().unwrap_or(""),
        )?;
    }
    Ok(())
}

/// TLS-style server name check against subjectAltName only (RFC 6125 §6.4; no CN fallback).
fn check_peer_name(leaf: &Certificate, kind: &str, value: &str) -> Result<(), String> {
    let sans = leaf
        .extensions()
        .subject_alt_names
        .clone()
        .unwrap_or_default();
    let ok = match kind {
        "DNS" => {
            let want = value.to_ascii_lowercase();
            sans.iter().any(|g| match g {
                GeneralName::Dns(d) => dns_matches(&d.to_ascii_lowercase(), &want),
                _ => false,
            })
        }
        "IP" => {
            let ip: std::net::IpAddr = value.parse().map_err(|_| "bad IP in testcase")?;
            let bytes = match ip {
                std::net::IpAddr::V4(v) => v.octets().to_vec(),
                std::net::IpAddr::V6(v) => v.octets().to_vec(),
            };
            sans.iter()
                .any(|g| matches!(g, GeneralName::Ip(b) if *b == bytes))
        }
        "RFC822" => sans
            .iter()
            .any(|g| matches!(g, GeneralName::Rfc822(e) if e == value)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("peer name {kind}:{value} not in subjectAltName"))
    }
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            !rest.contains('*')
                && rest.contains('.')
                && name
                    .split_once('.')
                    .is_some_and(|(label, tail)| !label.is_empty() && tail == rest)
        }
        None => !pattern.contains('*') && pattern == name,
    }
}

#[test]
fn limbo_conformance() {
    let path = super::conformance_dir().join("x509-limbo/limbo.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("limbo: {} not found, skipping", path.display());
        return;
    };
    let suite: Value = serde_json::from_str(&text).unwrap();
    let mut outcomes = Vec::new();
    for case in suite["testcases"].as_array().unwrap() {
        let mut elapsed = Duration::ZERO;
        let actual = run_case(case, &mut elapsed);
        outcomes.push(Outcome {
            id: case["id"].as_str().unwrap().to_owned(),
            expected_success: case["expected_result"] == "SUCCESS",
            actual,
            elapsed,
        });
    }

    let mut per_namespace: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut in_scope = Tally::default();
    let mut informative = Tally::default();
    let mut unexpected = Vec::new();
    for o in &outcomes {
        let ns = o.id.split("::").next().unwrap().to_owned();
        let right = o.actual.is_ok() == o.expected_success;
        let entry = per_namespace.entry(ns.clone()).or_default();
        if right {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        let tally = if IN_SCOPE.contains(&ns.as_str()) {
            &mut in_scope
        } else {
            &mut informative
        };
        if right {
            tally.passed += 1;
        } else {
            let detail = match &o.actual {
                Ok(()) => "validated".to_owned(),
                Err(e) => e.clone(),
            };
            tally.failed.push(format!(
                "{} (expected {}): {detail}",
                o.id,
                if o.expected_success {
                    "SUCCESS"
                } else {
                    "FAILURE"
                }
            ));
            if IN_SCOPE.contains(&ns.as_str()) && !EXCEPTIONS.iter().any(|(id, _)| *id == o.id) {
                unexpected.push(o.id.clone());
            }
        }
    }
    for (ns, (p, f)) in &per_namespace {
        println!("limbo {ns}: {p} passed, {f} failed");
    }
    println!("-- web-PKI profile and other namespaces (informative):");
    informative.print("limbo-informative");
    println!("-- exceptions:");
    for (id, why) in EXCEPTIONS {
        println!("  {id}: {why}");
    }
    let total_passed = in_scope.passed + informative.passed;
    let total = outcomes.len();
    println!("limbo all namespaces: {total_passed} of {total} right");
    in_scope.print("limbo");

    let slow: Vec<String> = outcomes
        .iter()
        .filter(|o| o.id.starts_with("pathological::") && o.elapsed >= Duration::from_millis(100))
        .map(|o| format!("{} took {:?}", o.id, o.elapsed))
        .collect();
    for o in outcomes
        .iter()
        .filter(|o| o.id.starts_with("pathological::"))
    {
        println!("  timing {}: {:?}", o.id, o.elapsed);
    }
    assert!(slow.is_empty(), "pathological cases over 100 ms: {slow:?}");
    assert!(
        unexpected.is_empty(),
        "unexpected in-scope divergences: {unexpected:?}"
    );
}
