//! `POST /v1/edxml` on a real listener: a package built from a PDF the service signed, signed by
//! the unit's key, verified by `POST /v1/verify`, kyso and xmlsec1, and recorded as every
//! signature is; and the refusals before any key is used.

use kyso::ledger::Store as _;

use crate::api::fixture::{Service, letter, multipart};

use super::build;

const HEADER: &str = r#"{
    "from": {"organ_id": "000.00.00.H99", "organ_name": "UBND tỉnh Thử Nghiệm"},
    "to": [{"organ_id": "000.01.31.H99", "organ_name": "Sở Tư pháp tỉnh Thử Nghiệm"}],
    "code": {"number": "123", "notation": "QĐ-UBND"},
    "promulgation": {"date": "2026/03/15"},
    "subject": "Về việc thử nghiệm gói tin edXML",
    "signer": {"full_name": "Nguyễn Văn An"}
}"#;

#[test]
fn post_edxml_builds_signs_records_and_the_package_verifies_everywhere() {
    let service = Service::start();
    let client = service.client();
    let k = &service.keys;
    let reply = client.post(
        "/v1/sign/pdf?key=stp-01&reason=Ban%20h%C3%A0nh%20Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20s%E1%BB%91%20123%2FQ%C4%90-UBND",
        &k.signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let pdf = reply.body.clone();
    let (kind, body) = multipart(&[
        ("document", Some("QD-123.pdf"), &pdf),
        ("header", None, HEADER.as_bytes()),
        ("appendix", Some("PhuLuc.txt"), b"appendix"),
    ]);

    // Signed by the unit's key.
    let reply = client.post(
        "/v1/edxml?key=stp-01&document_id=STP-EDXML-1",
        &k.signer,
        &kind,
        body.clone(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    assert_eq!(reply.header("x-kyso-document-id"), Some("STP-EDXML-1"));
    assert_eq!(reply.header("x-kyso-indication"), Some("TOTAL-PASSED"));
    let package = reply.body.clone();
    let report = service.verifier().verify(&package);
    assert_eq!(report.format, "edxml");
    assert!(
        report.all_passed(),
        "{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    assert_eq!(report.signatures.len(), 1, "the envelope signature");
    let (ok, log) = build::xmlsec1_verifies(&service.dir.path().join("pki"), &package);
    assert!(ok, "xmlsec1: {log}");
    // The service's own verification says the same, with the package's parts.
    let reply = client.post(
        "/v1/verify",
        &k.verifier,
        "application/octet-stream",
        package.clone(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["format"], "edxml");
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json}");
    assert_eq!(json["package"]["header"]["code"]["number"], "123");
    assert_eq!(json["package"]["attachments"][0]["kind"], "pdf");
    assert_eq!(
        json["package"]["attachments"][0]["indication"],
        "TOTAL-PASSED"
    );
    // Recorded as every signature is: the ledger and the audit log.
    let mut store = service.store();
    assert_eq!(
        store.totals().unwrap().signatures,
        2,
        "the PDF and the package"
    );
    let entries = store.audit_entries(0, 100).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.record.subject == "STP-EDXML-1" && e.record.details.contains("edxml")),
        "the package's signature is in the audit log"
    );

    // Unsigned: built and returned, nothing recorded.
    let reply = client.post("/v1/edxml", &k.signer, &kind, body.clone());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-signed"), Some("false"));
    let report = service.verifier().verify(&reply.body);
    assert_eq!(report.format, "edxml");
    assert!(report.all_passed(), "its document is signed and valid");
    assert!(report.signatures.is_empty());
    assert_eq!(service.store().totals().unwrap().signatures, 2);
}

#[test]
fn post_edxml_refuses_before_any_key_is_used() {
    let service = Service::start();
    let client = service.client();
    let k = &service.keys;
    let unsigned_pdf = letter();
    let post = |key: &str, query: &str, parts: &[(&str, Option<&str>, &[u8])]| {
        let (kind, body) = multipart(parts);
        client.post(&format!("/v1/edxml{query}"), key, &kind, body)
    };
    // A PDF with no signature is not a document to send: 422.
    let reply = post(
        &k.signer,
        "?key=stp-01",
        &[
            ("document", Some("a.pdf"), &unsigned_pdf),
            ("header", None, HEADER.as_bytes()),
        ],
    );
    reply.problem(422, "unsignable-document");
    assert!(reply.text().contains("sign it first"), "{}", reply.text());
    // A header without a subject, or with a field kyso does not know: 400.
    let no_subject = HEADER.replace("\"subject\"", "\"content\"");
    let reply = post(
        &k.signer,
        "",
        &[
            ("document", Some("a.pdf"), &unsigned_pdf),
            ("header", None, no_subject.as_bytes()),
        ],
    );
    let problem = reply.problem(400, "bad-request");
    assert!(
        problem["detail"].as_str().unwrap().contains("subject"),
        "{problem}"
    );
    let reply = post(
        &k.signer,
        "",
        &[
            ("document", Some("a.pdf"), &unsigned_pdf),
            ("header", None, br#"{"sender": "x"}"#),
        ],
    );
    reply.problem(400, "bad-request");
    // No header part; a part given twice; an unknown part.
    post(&k.signer, "", &[("document", Some("a.pdf"), &unsigned_pdf)]).problem(400, "bad-request");
    post(
        &k.signer,
        "",
        &[
            ("header", None, HEADER.as_bytes()),
            ("header", None, HEADER.as_bytes()),
        ],
    )
    .problem(400, "bad-request");
    post(&k.signer, "", &[("options", None, b"{}")]).problem(400, "bad-request");
    // Another unit's key; a verifier; a key that does not exist.
    let parts: &[(&str, Option<&str>, &[u8])] = &[("header", None, HEADER.as_bytes())];
    post(&k.other_signer, "?key=stp-01", parts).problem(403, "forbidden");
    post(&k.verifier, "", parts).problem(403, "forbidden");
    post(&k.signer, "?key=nope", parts).problem(404, "not-found");
    // Not multipart: 415.
    client
        .post(
            "/v1/edxml",
            &k.signer,
            "application/pdf",
            unsigned_pdf.clone(),
        )
        .problem(415, "unsupported-media-type");
    assert_eq!(service.store().totals().unwrap().signatures, 0);
}
