//! The CSC API server (`/csc/v1`, `/csc/v2`) against the real service on a loopback port: the
//! credentials a caller sees, the chain it gets, SADs that sign their hashes once and refuse
//! everything else, the ledger and audit entries of each signature, and pyHanko's CSCSigner
//! signing a PDF through it (validated by pyHanko, pdfsig and kyso).

use std::process::Command;

use base64::Engine as _;
use kyso::api::auth::Role;
use kyso::ledger::Store;
use kyso::signer::{DigestAlgorithm, SignatureAlgorithm};
use serde_json::{Value, json};

use super::fixture::{Client, Options, Reply, Service, api_key, letter};
use crate::support::{pdfsig, pyhanko_validate, run};

fn csc_service() -> Service {
    Service::with(Options {
        csc: true,
        ..Options::default()
    })
}

fn call(client: &Client, path: &str, key: Option<&str>, body: &Value) -> Reply {
    client.call(
        "POST",
        path,
        key,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Asserts a CSC error: status, `error`, and `error_description`.
fn refused(reply: &Reply, status: u16, error: &str, description: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

/// SHA-256 of `message`, as a CSC client hashes what it signs.
fn sha256(message: &[u8]) -> Vec<u8> {
    DigestAlgorithm::Sha256.digest(message)
}

/// `credentials/authorize` (v2) for `hashes`; the SAD.
fn authorize(client: &Client, key: &str, credential: &str, hashes: &[Vec<u8>]) -> String {
    let reply = call(
        client,
        "/csc/v2/credentials/authorize",
        Some(key),
        &json!({
            "credentialID": credential,
            "numSignatures": hashes.len(),
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["SAD"].as_str().unwrap().to_owned()
}

fn sign_hash(client: &Client, key: &str, credential: &str, sad: &str, hashes: &[Vec<u8>]) -> Reply {
    call(
        client,
        "/csc/v2/signatures/signHash",
        Some(key),
        &json!({
            "credentialID": credential,
            "SAD": sad,
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "signAlgo": "1.2.840.113549.1.1.11",
        }),
    )
}

fn signer_spki(service: &Service) -> Vec<u8> {
    kyso::pki::Certificate::from_der(&service._signing.certificate)
        .unwrap()
        .spki_der()
        .to_vec()
}

#[test]
fn info_is_public_and_lists_only_the_callers_units_credentials() {
    let service = csc_service();
    let c = service.client();
    for (version, specs) in [("v1", "1.0.4.0"), ("v2", "2.0.0.2")] {
        let info = call(
            &c,
            &format!("/csc/{version}/info"),
            None,
            &json!({"lang": "vi"}),
        );
        assert_eq!(info.status, 200, "{}", info.text());
        let info = info.json();
        assert_eq!(info["specs"], specs);
        assert_eq!(info["authType"], json!(["external"]));
        assert!(
            info["methods"]
                .as_array()
                .unwrap()
                .contains(&json!("signatures/signHash"))
        );
        // An empty body is `info` with no parameters.
        let empty = c.call(
            "POST",
            &format!("/csc/{version}/info"),
            None,
            None,
            Vec::new(),
        );
        assert_eq!(empty.status, 200, "{}", empty.text());

        let list = |key: &str| {
            let reply = call(
                &c,
                &format!("/csc/{version}/credentials/list"),
                Some(key),
                &json!({}),
            );
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()["credentialIDs"].clone()
        };
        // stp-plain is STP's but not offered over CSC; syt-01 is SYT's.
        assert_eq!(list(&service.keys.signer), json!(["stp-01"]));
        assert_eq!(list(&service.keys.other_signer), json!(["syt-01"]));
    }
    let c2 = |key: Option<&str>| call(&c, "/csc/v2/credentials/list", key, &json!({}));
    refused(
        &c2(None),
        401,
        "invalid_token",
        "The access token is not valid: send Authorization: Bearer with a kyso API key",
    );
    assert_eq!(c2(None).header("www-authenticate"), Some("Bearer"));
    refused(
        &c2(Some("kyso_0123456789abcdef_nope")),
        401,
        "invalid_token",
        "The access token is not valid: send Authorization: Bearer with a kyso API key",
    );
    for key in [
        &service.keys.verifier,
        &service.keys.auditor,
        &service.keys.admin,
    ] {
        refused(
            &c2(Some(key)),
            403,
            "access_denied",
            "The API key's role may not use signing credentials",
        );
    }
    refused(
        &call(
            &c,
            "/csc/v2/credentials/list",
            Some(&service.keys.signer),
            &json!({"userID": "someone"}),
        ),
        400,
        "invalid_request",
        "userID parameter MUST be null",
    );
    let detailed = call(
        &c,
        "/csc/v2/credentials/list",
        Some(&service.keys.signer),
        &json!({"credentialInfo": true, "certificates": "chain"}),
    )
    .json();
    assert_eq!(detailed["credentialInfos"][0]["credentialID"], "stp-01");
    assert_eq!(
        detailed["credentialInfos"][0]["cert"]["certificates"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        detailed["credentialInfos"].as_array().map(Vec::len),
        Some(1)
    );
    // v1 pages.
    let page = call(
        &c,
        "/csc/v1/credentials/list",
        Some(&service.keys.signer),
        &json!({"maxResults": 1}),
    );
    assert_eq!(page.json()["credentialIDs"], json!(["stp-01"]));
    // Another unit's credential, and one not offered over CSC, read as unknown.
    for (key, id) in [
        (&service.keys.signer, "syt-01"),
        (&service.keys.signer, "stp-plain"),
        (&service.keys.signer, "no-such-key"),
        (&service.keys.other_signer, "stp-01"),
    ] {
        for method in ["credentials/info", "credentials/authorize"] {
            let reply = call(
                &c,
                &format!("/csc/v2/{method}"),
                Some(key),
                &json!({"credentialID": id, "numSignatures": 1, "hashes": [b64(&[7; 32])]}),
            );
            refused(
                &reply,
                400,
                "invalid_request",
                "Invalid parameter credentialID",
            );
        }
    }
}

#[test]
fn credentials_info_gives_the_chain_key_and_authorisation_rules() {
    let service = csc_service();
    let c = service.client();
    let intermediate = service._signing.pki.intermediate.der().to_vec();
    for version in ["v1", "v2"] {
        let reply = call(
            &c,
            &format!("/csc/{version}/credentials/info"),
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "certificates": "chain", "certInfo": true}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let info = reply.json();
        let certificates: Vec<Vec<u8>> = info["cert"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(c.as_str().unwrap())
                    .unwrap()
            })
            .collect();
        assert_eq!(
            certificates,
            vec![service._signing.certificate.clone(), intermediate.clone()]
        );
        assert_eq!(info["cert"]["status"], "valid");
        assert!(
            info["cert"]["subjectDN"]
                .as_str()
                .unwrap()
                .contains("Nguyễn Văn An"),
            "{info}"
        );
        assert!(info["cert"]["validTo"].as_str().unwrap().ends_with('Z'));
        assert_eq!(info["key"]["status"], "enabled");
        assert_eq!(info["key"]["len"], 2048);
        let algos = info["key"]["algo"].as_array().unwrap();
        for oid in [
            "1.2.840.113549.1.1.11",
            "1.2.840.113549.1.1.12",
            "1.2.840.113549.1.1.13",
            "1.2.840.113549.1.1.1",
        ] {
            assert!(algos.contains(&json!(oid)), "{oid} in {algos:?}");
        }
        assert!(
            !algos.contains(&json!("1.2.840.10045.4.3.2")),
            "an RSA key offers no ECDSA"
        );
        assert_eq!(info["SCAL"], "2");
        assert_eq!(info["multisign"], 64);
        match version {
            "v1" => assert_eq!(info["authMode"], "explicit"),
            _ => assert_eq!(info["auth"]["mode"], "explicit"),
        }
    }
    let single = call(
        &c,
        "/csc/v2/credentials/info",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01"}),
    );
    assert_eq!(
        single.json()["cert"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let none = call(
        &c,
        "/csc/v2/credentials/info",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01", "certificates": "none"}),
    );
    assert!(none.json()["cert"].get("certificates").is_none());
    refused(
        &call(
            &c,
            "/csc/v2/credentials/info",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "certificates": "all"}),
        ),
        400,
        "invalid_request",
        "Invalid parameter certificates",
    );
    refused(
        &call(
            &c,
            "/csc/v2/credentials/info",
            Some(&service.keys.signer),
            &json!({}),
        ),
        400,
        "invalid_request",
        "Missing (or invalid type) string parameter credentialID",
    );
    refused(
        &c.call(
            "POST",
            "/csc/v2/credentials/info",
            Some(&service.keys.signer),
            Some("application/json"),
            b"[1]".to_vec(),
        ),
        400,
        "invalid_request",
        "The request body must be a JSON object",
    );
}

#[test]
fn authorized_hashes_are_signed_once_verified_against_the_certificate_and_recorded() {
    let service = csc_service();
    let c = service.client();
    let spki = signer_spki(&service);
    let messages: [&[u8]; 2] = [b"signed attributes one", b"signed attributes two"];
    let hashes: Vec<Vec<u8>> = messages.iter().map(|m| sha256(m)).collect();
    let sad = authorize(&c, &service.keys.signer, "stp-01", &hashes);
    // Fewer hashes than authorised may be signed, in another order.
    let reply = sign_hash(
        &c,
        &service.keys.signer,
        "stp-01",
        &sad,
        &[hashes[1].clone(), hashes[0].clone()],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let signatures: Vec<Vec<u8>> = reply.json()["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(signatures.len(), 2);
    let rsa = SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256);
    kyso::signer::verify(&spki, rsa, messages[1], &signatures[0])
        .expect("first signature verifies");
    kyso::signer::verify(&spki, rsa, messages[0], &signatures[1])
        .expect("second signature verifies");
    assert!(kyso::signer::verify(&spki, rsa, messages[0], &signatures[0]).is_err());

    // Used twice: refused, and nothing more is signed.
    refused(
        &sign_hash(&c, &service.keys.signer, "stp-01", &sad, &hashes[..1]),
        400,
        "invalid_request",
        "Invalid parameter SAD",
    );

    // v1 words: `hash`, bare rsaEncryption with `hashAlgo` SHA-384.
    let message = b"a SHA-384 hash";
    let hash = DigestAlgorithm::Sha384.digest(message);
    let auth = call(
        &c,
        "/csc/v1/credentials/authorize",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01", "numSignatures": 1, "hash": [b64(&hash)], "PIN": "ignored"}),
    );
    assert_eq!(auth.status, 200, "{}", auth.text());
    assert_eq!(auth.json()["expiresIn"], 300);
    let reply = call(
        &c,
        "/csc/v1/signatures/signHash",
        Some(&service.keys.signer),
        &json!({
            "credentialID": "stp-01",
            "SAD": auth.json()["SAD"],
            "hash": [b64(&hash)],
            "hashAlgo": "2.16.840.1.101.3.4.2.2",
            "signAlgo": "1.2.840.113549.1.1.1",
        }),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let signature = base64::engine::general_purpose::STANDARD
        .decode(reply.json()["signatures"][0].as_str().unwrap())
        .unwrap();
    kyso::signer::verify(
        &spki,
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha384),
        message,
        &signature,
    )
    .expect("the SHA-384 signature verifies");

    // Three signatures: three ledger events and three audit entries, each named by its hash.
    let mut store = service.store();
    assert_eq!(store.totals().unwrap().signatures, 3);
    let entries = store.audit_entries(0, 100).unwrap();
    let signed: Vec<_> = entries
        .iter()
        .filter(|e| e.record.action == "signature")
        .collect();
    assert_eq!(signed.len(), 3);
    let mut subjects: Vec<String> = signed.iter().map(|e| e.record.subject.clone()).collect();
    subjects.sort();
    let mut expected = vec![
        format!("csc:sha256:{}", hex::encode(&hashes[0])),
        format!("csc:sha256:{}", hex::encode(&hashes[1])),
        format!("csc:sha384:{}", hex::encode(&hash)),
    ];
    expected.sort();
    assert_eq!(subjects, expected);
    let details: Value = serde_json::from_str(&signed[0].record.details).unwrap();
    assert_eq!(details["interface"], "csc");
    assert_eq!(details["key"], "stp-01");
    assert_eq!(details["unit"], "STP");
    assert_eq!(details["method"], "hsm");
    assert_eq!(
        details["certificate_sha256"],
        hex::encode(DigestAlgorithm::Sha256.digest(&service._signing.certificate))
    );
    assert!(
        !signed[0].record.details.contains(&sad),
        "the SAD is not in the audit log"
    );
    assert!(matches!(
        kyso::audit::verify(&mut store).unwrap(),
        kyso::audit::Verification::Intact { .. }
    ));
    let metrics = c.get("/metrics", Some(&service.keys.admin)).text();
    assert!(
        metrics.contains("kyso_signatures_total{unit=\"STP\",key=\"stp-01\",result=\"ok\"} 3"),
        "{metrics}"
    );
}

#[test]
fn a_sad_is_refused_to_another_caller_for_other_hashes_and_with_another_algorithm() {
    let service = csc_service();
    let c = service.client();
    let second_stp_signer = api_key(&mut service.store(), Role::Signer, &["STP"], "second DMS");
    let hash = sha256(b"document");

    // Another API key of the same unit: it may use the credential, not this SAD; and the SAD,
    // shown to the wrong caller, is spent.
    let sad = authorize(
        &c,
        &service.keys.signer,
        "stp-01",
        std::slice::from_ref(&hash),
    );
    refused(
        &sign_hash(
            &c,
            &second_stp_signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "Invalid parameter SAD",
    );
    refused(
        &sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "Invalid parameter SAD",
    );
    // The attempt is in the audit log.
    let entries = service.store().audit_entries(0, 100).unwrap();
    let refusal = entries
        .iter()
        .find(|e| e.record.action == "refused" && e.record.subject.starts_with("csc-transaction:"))
        .expect("the refused SAD is audited");
    assert!(
        refusal.record.details.contains("sad_of_another_caller"),
        "{}",
        refusal.record.details
    );

    // Another unit's signer cannot even name the credential.
    let sad = authorize(
        &c,
        &service.keys.signer,
        "stp-01",
        std::slice::from_ref(&hash),
    );
    refused(
        &sign_hash(
            &c,
            &service.keys.other_signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "Invalid parameter credentialID",
    );
    // An algorithm the key cannot make leaves the SAD unspent; then it signs.
    let ecdsa = call(
        &c,
        "/csc/v2/signatures/signHash",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01", "SAD": sad, "hashes": [b64(&hash)], "signAlgo": "1.2.840.10045.4.3.2"}),
    );
    refused(&ecdsa, 400, "invalid_request", "Invalid parameter signAlgo");
    let sha384 = call(
        &c,
        "/csc/v2/signatures/signHash",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01", "SAD": sad, "hashes": [b64(&hash)], "signAlgo": "1.2.840.113549.1.1.12"}),
    );
    refused(
        &sha384,
        400,
        "invalid_request",
        "Invalid digest value length",
    );
    assert_eq!(
        sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash)
        )
        .status,
        200
    );

    // Other hashes than authorised.
    let sad = authorize(
        &c,
        &service.keys.signer,
        "stp-01",
        std::slice::from_ref(&hash),
    );
    refused(
        &sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            &sad,
            &[sha256(b"another document")],
        ),
        400,
        "invalid_request",
        "Hash is not authorized by the SAD",
    );
    // A SAD nobody issued.
    refused(
        &sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            "bm90LWEtc2Fk",
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "Invalid parameter SAD",
    );
    // Asynchronous mode is not offered.
    let sad = authorize(
        &c,
        &service.keys.signer,
        "stp-01",
        std::slice::from_ref(&hash),
    );
    refused(
        &call(
            &c,
            "/csc/v2/signatures/signHash",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "SAD": sad, "hashes": [b64(&hash)], "signAlgo": "1.2.840.113549.1.1.11", "operationMode": "A"}),
        ),
        400,
        "invalid_request",
        "Invalid parameter operationMode",
    );

    // numSignatures must be the number of hashes, from 1 to multisign.
    for (count, hashes, words) in [
        (
            2,
            vec![b64(&hash)],
            "The number of values in hashes must equal numSignatures",
        ),
        (
            1,
            vec![b64(&hash), b64(&hash)],
            "The number of values in hashes must equal numSignatures",
        ),
        (
            0,
            vec![b64(&hash)],
            "Invalid value for parameter numSignatures",
        ),
        (65, vec![b64(&hash)], "Numbers of signatures is too high"),
    ] {
        let reply = call(
            &c,
            "/csc/v2/credentials/authorize",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "numSignatures": count, "hashes": hashes}),
        );
        refused(&reply, 400, "invalid_request", words);
    }
    // SCAL2: a SAD not bound to hashes is not issued.
    refused(
        &call(
            &c,
            "/csc/v2/credentials/authorize",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "numSignatures": 1}),
        ),
        400,
        "invalid_request",
        "Missing (or invalid type) array parameter hashes",
    );

    // Only the one signature that was allowed is in the ledger.
    assert_eq!(service.store().totals().unwrap().signatures, 1);
}

#[test]
fn a_sad_expires() {
    let service = Service::with(Options {
        csc: true,
        csc_sad_lifetime_secs: Some(1),
        ..Options::default()
    });
    let c = service.client();
    let hash = sha256(b"late");
    let auth = call(
        &c,
        "/csc/v2/credentials/authorize",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01", "numSignatures": 1, "hashes": [b64(&hash)]}),
    );
    assert_eq!(auth.json()["expiresIn"], 1);
    let sad = auth.json()["SAD"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1_300));
    refused(
        &sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "SAD expired",
    );
    assert_eq!(service.store().totals().unwrap().signatures, 0);
}

#[test]
fn an_ecdsa_credential_answers_der_signatures_for_each_digest() {
    let service = Service::with(Options {
        csc: true,
        key_algorithm: kyso::token::KeyAlgorithm::P256,
        ..Options::default()
    });
    let c = service.client();
    let spki = signer_spki(&service);
    let info = call(
        &c,
        "/csc/v2/credentials/info",
        Some(&service.keys.signer),
        &json!({"credentialID": "stp-01"}),
    )
    .json();
    assert_eq!(info["key"]["len"], 256);
    assert_eq!(info["key"]["curve"], "1.2.840.10045.3.1.7");
    assert_eq!(
        info["key"]["algo"],
        json!([
            "1.2.840.10045.4.3.2",
            "1.2.840.10045.4.3.3",
            "1.2.840.10045.4.3.4"
        ])
    );
    for (digest, sign_algo) in [
        (DigestAlgorithm::Sha256, "1.2.840.10045.4.3.2"),
        (DigestAlgorithm::Sha384, "1.2.840.10045.4.3.3"),
    ] {
        let message = format!("signed attributes with {sign_algo}");
        let hash = digest.digest(message.as_bytes());
        let auth = call(
            &c,
            "/csc/v1/credentials/authorize",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "numSignatures": 1, "hash": [b64(&hash)]}),
        );
        let reply = call(
            &c,
            "/csc/v1/signatures/signHash",
            Some(&service.keys.signer),
            &json!({"credentialID": "stp-01", "SAD": auth.json()["SAD"], "hash": [b64(&hash)], "signAlgo": sign_algo}),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let signature = base64::engine::general_purpose::STANDARD
            .decode(reply.json()["signatures"][0].as_str().unwrap())
            .unwrap();
        assert_eq!(signature[0], 0x30, "a DER ECDSA-Sig-Value, not r||s");
        let algorithm = SignatureAlgorithm::Ecdsa(kyso::signer::Curve::P256, digest);
        kyso::signer::verify(&spki, algorithm, message.as_bytes(), &signature)
            .unwrap_or_else(|e| panic!("{sign_algo}: {e}"));
    }
    // RSA on an EC key: refused, nothing signed.
    let hash = sha256(b"x");
    let sad = authorize(
        &c,
        &service.keys.signer,
        "stp-01",
        std::slice::from_ref(&hash),
    );
    refused(
        &sign_hash(
            &c,
            &service.keys.signer,
            "stp-01",
            &sad,
            std::slice::from_ref(&hash),
        ),
        400,
        "invalid_request",
        "Invalid parameter signAlgo",
    );
    assert_eq!(service.store().totals().unwrap().signatures, 2);
}

#[test]
fn the_audit_checkpoint_key_cannot_be_a_csc_credential_nor_a_sad_live_for_days() {
    let signing = crate::support::Signing::new(kyso::token::KeyAlgorithm::Rsa2048, "Nguyễn Văn An");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pki")).unwrap();
    signing
        .pki
        .write_authorities(&dir.path().join("pki"))
        .unwrap();
    let ledger = dir.path().join("ledger.sqlite");
    let options = Options {
        csc: true,
        ..Options::default()
    };
    let mut config = super::fixture::config(&signing, dir.path(), &ledger, &options, None);
    // A SAD that lives for days is refused too.
    config.serve.csc_sad_lifetime_secs = 86_400;
    let refused = kyso::api::AppState::new(&config, kyso::api::StoreConfig::Sqlite(ledger.clone()))
        .err()
        .expect("a day-long SAD lifetime is refused at start");
    assert!(
        refused.to_string().contains("csc_sad_lifetime_secs"),
        "{refused}"
    );
    config.serve.csc_sad_lifetime_secs = 300;
    config.audit.checkpoint_key = Some("stp-01".to_owned());
    let refused = kyso::api::AppState::new(&config, kyso::api::StoreConfig::Sqlite(ledger))
        .err()
        .expect("a CSC credential as checkpoint key is refused at start");
    assert!(refused.to_string().contains("CSC credential"), "{refused}");
}

#[test]
fn pyhanko_csc_signer_signs_a_pdf_through_kyso() {
    let service = csc_service();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("letter.pdf");
    std::fs::write(&input, letter()).unwrap();
    let driver =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyhanko_csc_sign.py");
    // pyHanko's CSCSigner speaks CSC v1.0.4: /csc/v1.
    let output = dir.path().join("signed.pdf");
    let out = run(Command::new("python3")
        .arg(&driver)
        .arg(&service.url)
        .arg("stp-01")
        .arg(&input)
        .arg(&output)
        .env("KYSO_CSC_API_KEY", &service.keys.signer));
    assert!(out.contains("expiresIn 300"), "{out}");
    let root = service.dir.path().join("pki/root.pem");
    let pyhanko = pyhanko_validate(&output, &[&root]);
    assert_eq!(
        pyhanko.matches(":INTACT:TRUSTED").count(),
        1,
        "pyHanko: {pyhanko}"
    );
    let report = pdfsig(&output);
    assert_eq!(
        report.matches("Signature is Valid.").count(),
        1,
        "pdfsig: {report}"
    );
    let verified = service.verifier().verify(&std::fs::read(&output).unwrap());
    assert!(verified.all_passed(), "{verified:?}");
    // One signature: one ledger event and one audit entry, named by the signed attributes'
    // digest the CMS in the document carries.
    let mut store = service.store();
    assert_eq!(store.totals().unwrap().signatures, 1);
    let entries = store.audit_entries(0, 100).unwrap();
    let signed: Vec<_> = entries
        .iter()
        .filter(|e| e.record.action == "signature")
        .collect();
    assert_eq!(signed.len(), 1);
    assert!(
        signed[0].record.subject.starts_with("csc:sha256:"),
        "{}",
        signed[0].record.subject
    );
}
