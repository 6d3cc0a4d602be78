//! One test per defect of issue 15 (found by testing the service as an attacker would), named
//! after its item.

use kyso::ledger::Store;

use super::fixture::{Client, Reply, Service, XML, letter, multipart};

const SYT_DOCUMENT: &str = r#"{"document_id":"SYT-2022-7","number":"7/QĐ-SYT","doc_type":"Quyết định","unit":"SYT","issued_at":"2022-06-30T09:15:00+07:00","declared":"signed"}"#;

/// SYT's document in the ledger, and the SYT counts of 2022-H1 (issued, verified).
fn syt_document(service: &Service) -> Client {
    let c = service.client();
    let reply = c.post(
        "/v1/documents",
        &service.keys.other_signer,
        "application/json",
        SYT_DOCUMENT.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    c
}

fn syt_figures(service: &Service, c: &Client) -> (u64, u64) {
    let report = c
        .get(
            "/v1/reports/signing-rate?period=2022-H1&unit=SYT",
            Some(&service.keys.auditor),
        )
        .json();
    (
        report["overall"]["issued"].as_u64().unwrap(),
        report["overall"]["verified_signed"].as_u64().unwrap(),
    )
}

fn refused_as_foreign(reply: &Reply) {
    let problem = reply.problem(403, "forbidden");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("SYT-2022-7"), "{detail}");
    assert!(
        !detail.contains("SYT`") && !detail.contains("unit `SYT"),
        "the owner is not named to the caller: {detail}"
    );
}

/// Item 6: a signer bound to STP can neither re-record SYT's document (moving it to STP) nor
/// sign under its id (making it verified on STP's signature), by any write path.
#[test]
fn issue_15_item_6_documents_belong_to_their_unit() {
    let service = Service::start();
    let c = syt_document(&service);
    let k = &service.keys;
    let before = service.store().totals().unwrap();
    let figures = syt_figures(&service, &c);
    assert_eq!(figures, (1, 0));

    // POST /v1/documents: as STP, alone and in an array with a document of STP's own.
    let moved = SYT_DOCUMENT.replace(r#""unit":"SYT""#, r#""unit":"STP""#);
    refused_as_foreign(&c.post(
        "/v1/documents",
        &k.signer,
        "application/json",
        moved.clone().into_bytes(),
    ));
    let own = moved.replace("SYT-2022-7", "STP-2022-70");
    refused_as_foreign(&c.post(
        "/v1/documents",
        &k.signer,
        "application/json",
        format!("[{own},{moved}]").into_bytes(),
    ));
    refused_as_foreign(&c.post(
        "/v1/documents",
        &k.signer,
        "application/x-ndjson",
        format!("{own}\n{moved}\n").into_bytes(),
    ));

    // Signing with STP's key under SYT's document id: PDF and XML, in the query and in the
    // options part.
    let query = "/v1/sign/{kind}?key=stp-01&document_id=SYT-2022-7";
    refused_as_foreign(&c.post(
        &query.replace("{kind}", "pdf"),
        &k.signer,
        "application/pdf",
        letter(),
    ));
    refused_as_foreign(&c.post(
        &query.replace("{kind}", "xml"),
        &k.signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    ));
    let options = br#"{"key":"stp-01","document_id":"SYT-2022-7"}"#;
    let pdf = letter();
    for (kind, document) in [("pdf", &pdf[..]), ("xml", XML.as_bytes())] {
        let (content_type, body) = multipart(&[
            ("document", Some("doc"), document),
            ("options", None, options),
        ]);
        refused_as_foreign(&c.post(
            &format!("/v1/sign/{kind}?key=stp-01"),
            &k.signer,
            &content_type,
            body,
        ));
    }

    // Nothing stored: SYT's figures and every table as before, the document still SYT's.
    let mut store = service.store();
    assert_eq!(store.totals().unwrap().documents, before.documents);
    assert_eq!(store.totals().unwrap().signatures, before.signatures);
    assert_eq!(
        store.document_unit("SYT-2022-7").unwrap().as_deref(),
        Some("SYT")
    );
    assert_eq!(syt_figures(&service, &c), figures);

    // Every refusal counted, and in the audit log with the facts.
    let metrics = c.get("/metrics", Some(&k.admin)).text();
    assert!(
        metrics.contains(
            "kyso_denials_total{permission=\"record_documents\",kind=\"document_unit\"} 3"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("kyso_denials_total{permission=\"sign\",kind=\"document_unit\"} 4"),
        "{metrics}"
    );
    let refusals: Vec<serde_json::Value> = store
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.record.action == "refused")
        .map(|e| {
            assert_eq!(e.record.subject, "SYT-2022-7");
            serde_json::from_str(&e.record.details).unwrap()
        })
        .collect();
    assert_eq!(refusals.len(), 7, "{refusals:?}");
    assert!(
        refusals
            .iter()
            .all(|d| d["owner"] == "SYT" && d["unit"] == "STP"),
        "{refusals:?}"
    );

    // STP may still sign and record its own documents; SYT signs its own.
    let reply = c.post(
        "/v1/documents",
        &k.signer,
        "application/json",
        own.into_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = c.post(
        "/v1/sign/pdf?key=stp-01&document_id=STP-2022-70",
        &k.signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    // An incoming verification is the receiving unit's record: STP receiving SYT's document
    // records it for STP (nothing of SYT's changes); recording it for SYT is not STP's to do.
    let signed = reply.body;
    let verify = |unit: &str| {
        c.post(
            &format!(
                "/v1/verify?document_id=SYT-2022-7&receiving_unit={unit}&sender=S%E1%BB%9F%20Y%20t%E1%BA%BF"
            ),
            &k.signer,
            "application/pdf",
            signed.clone(),
        )
    };
    assert_eq!(verify("STP").status, 200);
    verify("SYT").problem(403, "forbidden");
    assert_eq!(syt_figures(&service, &c), figures);

    // An administrator's correction may move a document recorded under the wrong unit.
    let reply = c.post(
        "/v1/documents",
        &k.admin,
        "application/json",
        moved.into_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["recorded"][0]["outcome"], "updated");
    assert_eq!(
        service
            .store()
            .document_unit("SYT-2022-7")
            .unwrap()
            .as_deref(),
        Some("STP")
    );
}
