//! Every endpoint, role and denial against the real server on a loopback port.

use std::io::{Read, Write};

use kyso::ledger::Store;

use super::fixture::{BODY_LIMIT, Client, Options, Service, XML, letter, multipart};

fn sign_pdf(client: &Client, key: &str, query: &str, pdf: Vec<u8>) -> super::fixture::Reply {
    client.post(
        &format!("/v1/sign/pdf?key=stp-01{query}"),
        key,
        "application/pdf",
        pdf,
    )
}

#[test]
fn a_signer_signs_a_pdf_and_the_ledger_and_audit_log_have_it() {
    let service = Service::start();
    let client = service.client();
    let reply = sign_pdf(
        &client,
        &service.keys.signer,
        "&document_id=STP-2022-1&reason=Ban%20h%C3%A0nh",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert_eq!(reply.header("x-kyso-document-id"), Some("STP-2022-1"));
    assert_eq!(reply.header("x-kyso-indication"), Some("TOTAL-PASSED"));
    assert!(reply.header("x-request-id").is_some());
    let report = service.verifier().verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");

    let mut store = service.store();
    assert_eq!(store.totals().unwrap().signatures, 1);
    let entries = store.audit_entries(0, 100).unwrap();
    let signature = entries
        .iter()
        .find(|e| e.record.action == "signature")
        .expect("a signature entry");
    assert_eq!(signature.record.subject, "STP-2022-1");
    let details: serde_json::Value = serde_json::from_str(&signature.record.details).unwrap();
    assert_eq!(details["key"], "stp-01");
    assert_eq!(details["unit"], "STP");
    assert!(!signature.record.details.contains(&service.keys.signer));
    assert!(matches!(
        kyso::audit::verify(&mut store).unwrap(),
        kyso::audit::Verification::Intact { .. }
    ));

    let metrics = client.get("/metrics", Some(&service.keys.admin)).text();
    assert!(
        metrics.contains("kyso_signatures_total{unit=\"STP\",key=\"stp-01\",result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kyso_hsm_sessions{token=\"kyso-test\",state=\"max\"}"),
        "{metrics}"
    );
}

#[test]
fn multipart_with_options_and_a_visible_stamp_and_xml() {
    let service = Service::start();
    let client = service.client();
    let pdf = letter();
    let options = r#"{"key":"stp-01","document_id":"STP-2022-2","visible":"1,320,80,240,90","unit_label":"Sở Tư pháp"}"#.as_bytes();
    let (kind, body) = multipart(&[
        ("document", Some("letter.pdf"), &pdf),
        ("options", None, options),
    ]);
    let reply = client.post("/v1/sign/pdf?key=stp-01", &service.keys.signer, &kind, body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-document-id"), Some("STP-2022-2"));
    assert!(service.verifier().verify(&reply.body).all_passed());

    let reply = client.post(
        "/v1/sign/xml?key=stp-01&document_id=STP-X-1",
        &service.keys.signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("XAdES-B-B"));
    assert!(service.verifier().verify(&reply.body).all_passed());
    let (kind, body) = multipart(&[
        ("document", None, XML.as_bytes()),
        ("options", None, br#"{"packaging":"enveloping"}"#),
    ]);
    let reply = client.post("/v1/sign/xml?key=stp-01", &service.keys.signer, &kind, body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply
            .header("x-kyso-document-id")
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(service.store().totals().unwrap().signatures, 3);
}

#[test]
fn every_role_and_denial() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    // No key, a malformed key, an unknown key, a wrong secret.
    c.call(
        "POST",
        "/v1/sign/pdf?key=stp-01",
        None,
        Some("application/pdf"),
        letter(),
    )
    .problem(401, "unauthorized");
    sign_pdf(&c, "not-a-key", "", letter()).problem(401, "unauthorized");
    sign_pdf(&c, "kyso_0123456789abcdef_AAAA", "", letter()).problem(401, "unauthorized");
    let mut wrong = k.signer.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    sign_pdf(&c, &wrong, "", letter()).problem(401, "unauthorized");
    // Roles that may not sign, and a signer of another unit.
    for key in [&k.verifier, &k.auditor, &k.admin] {
        sign_pdf(&c, key, "", letter()).problem(403, "forbidden");
    }
    let p = sign_pdf(&c, &k.other_signer, "", letter()).problem(403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("STP"), "{p}");
    // The auditor reads reports only.
    c.post("/v1/verify", &k.auditor, "application/pdf", letter())
        .problem(403, "forbidden");
    c.get("/v1/units", Some(&k.auditor))
        .problem(403, "forbidden");
    c.post(
        "/v1/documents",
        &k.auditor,
        "application/json",
        b"{}".to_vec(),
    )
    .problem(403, "forbidden");
    assert_eq!(
        c.get("/v1/reports/signing-rate?period=2022-H1", Some(&k.auditor))
            .status,
        200
    );
    // Signers and verifiers do not read reports; only admins import units.
    for key in [&k.signer, &k.verifier] {
        c.get("/v1/reports/signing-rate?period=2022-H1", Some(key))
            .problem(403, "forbidden");
    }
    c.post(
        "/v1/units",
        &k.signer,
        "text/csv",
        b"code,name,level,parent\n".to_vec(),
    )
    .problem(403, "forbidden");
    // A unit-bound auditor reads its unit only.
    c.get(
        "/v1/reports/signing-rate?period=2022-H1",
        Some(&k.stp_auditor),
    )
    .problem(403, "forbidden");
    c.get(
        "/v1/reports/signing-rate?period=2022-H1&unit=SYT",
        Some(&k.stp_auditor),
    )
    .problem(403, "forbidden");
    assert_eq!(
        c.get(
            "/v1/reports/signing-rate?period=2022-H1&unit=STP",
            Some(&k.stp_auditor)
        )
        .status,
        200
    );
    let metrics = c.get("/metrics", None).text();
    assert!(
        metrics.contains("kyso_denials_total{permission=\"sign\",kind=\"authentication\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kyso_denials_total{permission=\"sign\",kind=\"role\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kyso_denials_total{permission=\"sign\",kind=\"unit\"} 1"),
        "{metrics}"
    );
    // A revoked key stops working once the cache forgets it.
    let id = kyso::api::auth::key_id_of(&k.verifier).unwrap().to_owned();
    let record = kyso::audit::Record::new(
        "test",
        kyso::audit::Action::ApiKeyRevoked,
        id.clone(),
        &serde_json::json!({}),
    );
    service
        .store()
        .revoke_api_key(&id, time::OffsetDateTime::now_utc(), &record)
        .unwrap();
    service.state.key_cache.forget(&id);
    c.post("/v1/verify", &k.verifier, "application/pdf", letter())
        .problem(401, "unauthorized");
}

#[test]
fn oversized_and_malformed_bodies() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    // The server answers 413 before reading an oversized body and closes the connection; a
    // client still writing may see the close (broken pipe, reset) before the answer. Either
    // way nothing is signed; the exact answer is checked below on a raw connection.
    let big = vec![b'%'; BODY_LIMIT as usize + 1024];
    for path in ["/v1/sign/pdf?key=stp-01", "/v1/verify"] {
        match service.client().request(
            "POST",
            path,
            Some(&k.signer),
            Some("application/pdf"),
            big.clone(),
        ) {
            Ok(reply) => {
                reply.problem(413, "payload-too-large");
            }
            Err(e) => assert!(
                e.to_string().contains("Broken pipe") || e.to_string().contains("reset"),
                "{e}"
            ),
        }
    }
    // A declared length far over the limit is refused before any byte of the body is read.
    let address = service.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/pdf\r\nContent-Length: 10000000000\r\n\r\n", k.verifier).unwrap();
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");

    sign_pdf(&c, &k.signer, "", b"not a pdf".to_vec()).problem(422, "unsignable-document");
    sign_pdf(&c, &k.signer, "", Vec::new()).problem(400, "bad-request");
    c.post(
        "/v1/sign/xml?key=stp-01",
        &k.signer,
        "application/xml",
        b"<a><b></a>".to_vec(),
    )
    .problem(422, "unsignable-document");
    c.post("/v1/sign/pdf", &k.signer, "application/pdf", letter())
        .problem(400, "bad-request");
    c.post(
        "/v1/sign/pdf?key=nope",
        &k.signer,
        "application/pdf",
        letter(),
    )
    .problem(404, "not-found");
    sign_pdf(&c, &k.signer, "&colour=red", letter()).problem(400, "bad-request");
    sign_pdf(&c, &k.signer, "&visible=1,2,3", letter()).problem(400, "bad-request");
    let (kind, body) = multipart(&[
        ("document", None, &letter()),
        ("options", None, b"{not json"),
    ]);
    c.post("/v1/sign/pdf?key=stp-01", &k.signer, &kind, body)
        .problem(400, "bad-request");
    let (kind, body) = multipart(&[("attachment", None, b"x")]);
    c.post("/v1/sign/pdf?key=stp-01", &k.signer, &kind, body)
        .problem(400, "bad-request");
    c.post(
        "/v1/sign/pdf?key=stp-01",
        &k.signer,
        "multipart/form-data; boundary=zz",
        b"garbage".to_vec(),
    )
    .problem(400, "bad-request");
    c.post(
        "/v1/documents",
        &k.signer,
        "application/json",
        b"{\"event\":".to_vec(),
    )
    .problem(400, "bad-request");
    c.post("/v1/documents", &k.signer, "text/plain", b"x".to_vec())
        .problem(415, "unsupported-media-type");
    c.post("/v1/verify/batch", &k.verifier, "text/plain", b"x".to_vec())
        .problem(415, "unsupported-media-type");
    c.post(
        "/v1/verify/batch",
        &k.verifier,
        "application/zip",
        b"PK not a zip".to_vec(),
    )
    .problem(400, "bad-request");
    c.get("/v1/reports/signing-rate?period=someday", Some(&k.auditor))
        .problem(400, "bad-request");
    c.get(
        "/v1/reports/signing-rate?period=2022&format=pdf",
        Some(&k.auditor),
    )
    .problem(400, "bad-request");
    c.get("/nowhere", None).problem(404, "not-found");
    c.call("DELETE", "/v1/units", Some(&k.admin), None, Vec::new())
        .problem(405, "method-not-allowed");
    // Nothing of a refused request reached the ledger.
    assert_eq!(service.store().totals().unwrap().signatures, 0);
}

#[test]
fn a_token_that_is_not_there() {
    let service = Service::with(Options {
        missing_token_key: true,
        ..Options::default()
    });
    let c = service.client();
    let p = c
        .post(
            "/v1/sign/pdf?key=ghost",
            &service.keys.signer,
            "application/pdf",
            letter(),
        )
        .problem(503, "token-unavailable");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("no-such-token"), "{detail}");
    assert!(detail.contains("ghost"), "{detail}");
    let ready = c.get("/readyz", Some(&service.keys.admin));
    assert_eq!(ready.status, 503, "{}", ready.text());
    let ready = ready.json();
    assert_eq!(ready["ready"], false);
    let ghost = ready["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "ghost")
        .unwrap()
        .clone();
    assert_eq!(ghost["ok"], false);
    assert!(
        ghost["reason"].as_str().unwrap().contains("no-such-token"),
        "{ghost}"
    );
    // The key that is there still signs.
    assert_eq!(sign_pdf(&c, &service.keys.signer, "", letter()).status, 200);
}

#[test]
fn health_readiness_and_the_openapi_document_match_the_routes() {
    let service = Service::start();
    let c = service.client();
    assert_eq!(c.get("/healthz", None).json()["status"], "ok");
    let ready = c.get("/readyz", None);
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["keys_available"], 1);
    let ready = c.get("/readyz", Some(&service.keys.admin));
    assert_eq!(ready.json()["keys"][0]["ok"], true);
    let doc = c.get("/openapi.json", None).json();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented = kyso::api::openapi::documented_routes(&doc);
    let served: Vec<(String, String)> = kyso::api::routes()
        .into_iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(
        documented, served,
        "every route documented, every documented route served"
    );
    // Every documented operation answers (401 without a key, 200 for the public ones), and
    // every other method on a documented path is 405.
    for (method, path) in &documented {
        let reply = c.call(
            method,
            path,
            None,
            Some("application/octet-stream"),
            Vec::new(),
        );
        assert!(
            [200, 401].contains(&reply.status),
            "{method} {path}: {} {}",
            reply.status,
            reply.text()
        );
        let secured = doc["paths"][path][method.to_lowercase()]
            .get("security")
            .is_some();
        assert_eq!(reply.status == 401, secured, "{method} {path}");
        for other in ["GET", "POST", "PUT", "DELETE"] {
            if documented.iter().any(|(m, p)| m == other && p == path) {
                continue;
            }
            let reply = c.call(other, path, None, None, Vec::new());
            assert_eq!(reply.status, 405, "{other} {path}");
        }
    }
}

#[test]
fn documents_units_reports_and_verification() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let issued = r#"{"document_id":"STP-2022-9","number":"9/QĐ-STP","doc_type":"Quyết định","unit":"STP","issued_at":"2022-06-30T09:15:00+07:00","declared":"signed"}"#;
    let reply = c.post(
        "/v1/documents",
        &k.signer,
        "application/json",
        issued.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["recorded"][0]["outcome"], "inserted");
    let again = c.post(
        "/v1/documents",
        &k.signer,
        "application/x-ndjson",
        format!("{issued}\n").into_bytes(),
    );
    assert_eq!(again.json()["recorded"][0]["outcome"], "unchanged");
    c.post(
        "/v1/documents",
        &k.other_signer,
        "application/json",
        issued.as_bytes().to_vec(),
    )
    .problem(403, "forbidden");
    let unknown_unit = issued.replace("\"STP\"", "\"XYZ\"");
    c.post(
        "/v1/documents",
        &k.admin,
        "application/json",
        unknown_unit.into_bytes(),
    )
    .problem(400, "bad-request");

    // Signing the issued document makes it verified-signed in the report.
    assert_eq!(
        sign_pdf(&c, &k.signer, "&document_id=STP-2022-9", letter()).status,
        200
    );
    let report = c.get(
        "/v1/reports/signing-rate?period=2022-H1&unit=STP",
        Some(&k.auditor),
    );
    assert_eq!(report.status, 200, "{}", report.text());
    let json = report.json();
    assert_eq!(json["overall"]["issued"], 1, "{json}");
    assert_eq!(json["overall"]["verified_signed"], 1, "{json}");
    let csv = c.get(
        "/v1/reports/signing-rate?period=2022-H1&format=csv",
        Some(&k.auditor),
    );
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let html = c.call(
        "GET",
        "/v1/reports/signing-rate?period=2022-H1",
        Some(&k.admin),
        None,
        Vec::new(),
    );
    assert_eq!(html.status, 200);
    let html_by_accept = {
        let client = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut r = client
            .get(format!(
                "{}/v1/reports/signing-rate?period=2022-H1",
                service.url
            ))
            .header("authorization", format!("Bearer {}", k.auditor))
            .header("accept", "text/html")
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.body_mut().read_to_string().unwrap()
    };
    assert!(html_by_accept.contains("<html"), "{html_by_accept}");

    // Units: list, import CSV and JSON as admin.
    let units = c.get("/v1/units", Some(&k.signer)).json();
    assert_eq!(units.as_array().unwrap().len(), 3);
    let reply = c.post(
        "/v1/units",
        &k.admin,
        "text/csv",
        b"code,name,level,parent\nSTC,S\xe1\xbb\x9f T\xc3\xa0i ch\xc3\xadnh,department,TINH\n"
            .to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["inserted"], 1);
    let reply = c.post(
        "/v1/units",
        &k.admin,
        "application/json",
        r#"[{"code":"SXD","name":"Sở Xây dựng","level":"department","parent":"TINH"}]"#
            .as_bytes()
            .to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    c.post(
        "/v1/units",
        &k.admin,
        "text/csv",
        b"code,name,level,parent\nBAD,x,galaxy,\n".to_vec(),
    )
    .problem(400, "bad-request");
    assert_eq!(
        c.get("/v1/units", Some(&k.verifier))
            .json()
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // Verification: one document, then recorded as incoming, then a batch.
    let signed = sign_pdf(&c, &k.signer, "", letter()).body;
    let reply = c.post("/v1/verify", &k.verifier, "application/pdf", signed.clone());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["indication"], "TOTAL-PASSED");
    let reply = c.post(
        "/v1/verify?document_id=VPCP-1&receiving_unit=STP&sender=VPCP",
        &k.verifier,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.json()["indication"], "INDETERMINATE");
    assert_eq!(service.store().totals().unwrap().incoming, 1);
    c.post(
        "/v1/verify?document_id=VPCP-1&receiving_unit=SYT&sender=VPCP",
        &k.verifier,
        "application/pdf",
        letter(),
    )
    .problem(403, "forbidden");
    c.post(
        "/v1/verify?document_id=VPCP-1",
        &k.verifier,
        "application/pdf",
        letter(),
    )
    .problem(400, "bad-request");

    let mut tampered = signed.clone();
    let at = tampered
        .windows(5)
        .position(|w| w == b"Hello")
        .unwrap_or(tampered.len() / 3);
    tampered[at] ^= 1;
    let (kind, body) = multipart(&[
        ("a", Some("signed.pdf"), &signed),
        ("b", Some("tampered.pdf"), &tampered),
        ("c", Some("note.txt"), b"hello"),
    ]);
    let reply = c.post("/v1/verify/batch", &k.verifier, &kind, body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<serde_json::Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    // Lines come as documents finish; `file` and `index` say which is which.
    let by_file = |file: &str| {
        lines
            .iter()
            .find(|l| l["file"] == file)
            .unwrap_or_else(|| panic!("no line for {file}: {lines:?}"))
    };
    assert_eq!(by_file("signed.pdf")["index"], 0);
    assert_eq!(
        by_file("signed.pdf")["report"]["indication"],
        "TOTAL-PASSED"
    );
    assert_eq!(
        by_file("tampered.pdf")["report"]["indication"],
        "TOTAL-FAILED"
    );
    assert!(by_file("note.txt")["report"]["indication"].is_string());
    assert_eq!(lines[3]["summary"]["documents"], 3);

    let zip = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("in/signed.pdf", options).unwrap();
        zip.write_all(&signed).unwrap();
        zip.start_file("in/x.xml", options).unwrap();
        zip.write_all(XML.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    };
    let reply = c.post("/v1/verify/batch", &k.verifier, "application/zip", zip);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let lines: Vec<serde_json::Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let signed_line = lines
        .iter()
        .find(|l| l["file"] == "in/signed.pdf")
        .expect("a line for in/signed.pdf");
    assert_eq!(signed_line["report"]["indication"], "TOTAL-PASSED");
    assert_eq!(lines[2]["summary"]["documents"], 2);

    // A zip bomb entry is reported on its own line and the other entries are verified.
    let bomb = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("signed.pdf", options).unwrap();
        zip.write_all(&signed).unwrap();
        zip.start_file("bomb.xml", options).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(BODY_LIMIT / (1 << 20) + 2) {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap().into_inner()
    };
    assert!((bomb.len() as u64) < BODY_LIMIT);
    let reply = c.post("/v1/verify/batch", &k.verifier, "application/zip", bomb);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let lines: Vec<serde_json::Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bomb_line = lines.iter().find(|l| l["file"] == "bomb.xml").unwrap();
    assert!(
        bomb_line["error"].as_str().unwrap().contains("bytes"),
        "{bomb_line}"
    );
    assert_eq!(lines[2]["summary"]["unreadable"], 1, "{lines:?}");

    let metrics = c.get("/metrics", None).text();
    assert!(
        metrics.contains("kyso_verifications_total{indication=\"TOTAL-PASSED\"}"),
        "{metrics}"
    );
    // Every action above is in one intact chain.
    let mut store = service.store();
    let actions: std::collections::BTreeSet<String> = store
        .audit_entries(0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect();
    for action in [
        "signature",
        "document_recorded",
        "verification",
        "report_read",
        "units_changed",
        "api_key_created",
    ] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }
    assert!(matches!(
        kyso::audit::verify(&mut store).unwrap(),
        kyso::audit::Verification::Intact { .. }
    ));
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let service = Service::with(Options {
        sign_workers: 1,
        sign_queue: 0,
        ..Options::default()
    });
    let client = service.client();
    let key = service.keys.signer.clone();
    let pdf = letter();
    let replies: Vec<super::fixture::Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let (client, key, pdf) = (client.clone(), key.clone(), pdf.clone());
                s.spawn(move || sign_pdf(&client, &key, "", pdf))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = replies.iter().filter(|r| r.status == 200).count();
    for r in replies.iter().filter(|r| r.status != 200) {
        r.problem(503, "overloaded");
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    assert!(ok >= 1);
    assert_eq!(service.store().totals().unwrap().signatures, ok as u64);
}

#[test]
fn whoami_names_the_key_its_role_and_what_it_may_do() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let me = c.get("/v1/whoami", Some(&k.signer));
    assert_eq!(me.status, 200, "{}", me.text());
    let me = me.json();
    assert_eq!(me["key_id"], kyso::api::auth::key_id_of(&k.signer).unwrap());
    assert_eq!(me["role"], "signer");
    assert_eq!(me["units"], serde_json::json!(["STP"]));
    assert_eq!(me["unit_names"], serde_json::json!({"STP": "Sở Tư pháp"}));
    assert_eq!(
        me["permissions"],
        serde_json::json!([
            "sign",
            "verify",
            "record_documents",
            "read_units",
            "read_identity"
        ])
    );
    assert_eq!(
        me["signing_keys"],
        serde_json::json!([{"name": "stp-01", "unit": "STP", "method": "hsm"}])
    );
    // The secret follows `kyso_<16 hex>_`; it may itself contain `_`.
    let secret = k.signer.splitn(3, '_').nth(2).unwrap();
    assert!(!me.to_string().contains(secret));
    // A signer of another unit is offered no key of STP.
    let other = c.get("/v1/whoami", Some(&k.other_signer)).json();
    assert_eq!(other["signing_keys"], serde_json::json!([]));
    // An auditor reads reports and nothing else, and is offered no key.
    let auditor = c.get("/v1/whoami", Some(&k.auditor)).json();
    assert_eq!(auditor["role"], "auditor");
    assert_eq!(auditor["units"], serde_json::json!(["*"]));
    assert_eq!(auditor["unit_names"], serde_json::json!({}));
    assert_eq!(
        auditor["permissions"],
        serde_json::json!(["read_reports", "read_identity", "read_personal_identifiers"])
    );
    assert_eq!(auditor["signing_keys"], serde_json::json!([]));
    let verifier = c.get("/v1/whoami", Some(&k.verifier)).json();
    assert_eq!(
        verifier["permissions"],
        serde_json::json!(["verify", "read_units", "read_identity"])
    );
    c.get("/v1/whoami", None).problem(401, "unauthorized");
    c.get("/v1/whoami", Some("kyso_0123456789abcdef_AAAA"))
        .problem(401, "unauthorized");
}

#[test]
fn the_trend_is_each_months_report_side_by_side() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let documents: Vec<String> = [
        ("STP-T-1", "2022-01-05T09:00:00+07:00", "signed"),
        ("STP-T-2", "2022-01-20T09:00:00+07:00", "unsigned"),
        ("STP-T-3", "2022-02-10T09:00:00+07:00", "signed"),
        // 00:30 on 1 March in Hanoi is still February in UTC: it counts in March.
        ("STP-T-4", "2022-03-01T00:30:00+07:00", "signed"),
        ("SYT-T-1", "2022-03-09T09:00:00+07:00", "unsigned"),
    ]
    .iter()
    .map(|(id, at, declared)| {
        let unit = &id[..3];
        format!(
            r#"{{"document_id":"{id}","number":"1/{unit}","doc_type":"Công văn","unit":"{unit}","issued_at":"{at}","declared":"{declared}"}}"#
        )
    })
    .collect();
    let reply = c.post(
        "/v1/documents",
        &k.admin,
        "application/x-ndjson",
        documents.join("\n").into_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    let trend = c.get(
        "/v1/reports/signing-rate/trend?period=2022-Q1",
        Some(&k.auditor),
    );
    assert_eq!(trend.status, 200, "{}", trend.text());
    let trend = trend.json();
    assert_eq!(trend["period"], "2022-Q1");
    let months = trend["months"].as_array().unwrap();
    let names: Vec<&str> = months
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["2022-01", "2022-02", "2022-03"]);
    for month in months {
        let period = month["period"].as_str().unwrap();
        let report = c
            .get(
                &format!("/v1/reports/signing-rate?period={period}"),
                Some(&k.auditor),
            )
            .json();
        assert_eq!(month["overall"], report["overall"], "{period}");
        assert_eq!(month["levels"], report["levels"], "{period}");
    }
    assert_eq!(months[0]["overall"]["issued"], 2);
    assert_eq!(months[0]["overall"]["declared_rate"], 50.0);
    assert_eq!(months[2]["overall"]["issued"], 2);

    // A custom range: months cut to it, named by their month.
    let cut = c
        .get(
            "/v1/reports/signing-rate/trend?period=2022-01-15..2022-03-05&unit=STP",
            Some(&k.auditor),
        )
        .json();
    let months = cut["months"].as_array().unwrap();
    assert_eq!(months.len(), 3);
    assert_eq!(months[0]["month"], "2022-01");
    assert_eq!(months[0]["period"], "2022-01-15..2022-01-31");
    assert_eq!(months[0]["overall"]["issued"], 1);
    assert_eq!(months[2]["period"], "2022-03-01..2022-03-05");
    assert_eq!(months[2]["overall"]["issued"], 1, "SYT is out of scope");
    assert_eq!(cut["scope"]["code"], "STP");

    // The report's rules: scope, level, and a bound on the work.
    c.get(
        "/v1/reports/signing-rate/trend?period=2022-Q1",
        Some(&k.stp_auditor),
    )
    .problem(403, "forbidden");
    c.get(
        "/v1/reports/signing-rate/trend?period=2022-Q1&unit=SYT",
        Some(&k.stp_auditor),
    )
    .problem(403, "forbidden");
    assert_eq!(
        c.get(
            "/v1/reports/signing-rate/trend?period=2022-Q1&unit=STP",
            Some(&k.stp_auditor)
        )
        .status,
        200
    );
    for key in [&k.signer, &k.verifier] {
        c.get("/v1/reports/signing-rate/trend?period=2022", Some(key))
            .problem(403, "forbidden");
    }
    c.get(
        "/v1/reports/signing-rate/trend?period=2022&level=galaxy",
        Some(&k.auditor),
    )
    .problem(400, "bad-request");
    let long = c
        .get(
            "/v1/reports/signing-rate/trend?period=2010-01-01..2022-12-31",
            Some(&k.auditor),
        )
        .problem(400, "bad-request");
    assert!(
        long["detail"].as_str().unwrap().contains("at most 60"),
        "{long}"
    );
    c.get(
        "/v1/reports/signing-rate/trend?period=2022-H3",
        Some(&k.auditor),
    )
    .problem(400, "bad-request");
}

#[test]
fn levels_b_t_and_b_lt_with_a_real_tsa_and_the_tsa_failing() {
    let service = Service::with(Options {
        timestamps: true,
        ..Options::default()
    });
    let client = service.client();
    let signer = &service.keys.signer;

    let reply = sign_pdf(&client, signer, "&document_id=STP-T-1&level=B-T", letter());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("PAdES-B-T"));
    assert_eq!(reply.header("x-kyso-indication"), Some("TOTAL-PASSED"));
    let report = service.verifier().verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");
    assert_eq!(report.signatures[0].format, "PAdES-B-T");
    assert_eq!(
        report.signatures[0].signing_time_source,
        Some(kyso::verify::TimeSource::Timestamp)
    );

    // B-LT: the evidence travels in the document, so a verifier that knows only the root (no
    // CRL files, no network) finds the signature valid.
    let reply = sign_pdf(
        &client,
        signer,
        "&document_id=STP-LT-1&level=b-lt",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("PAdES-B-LT"));
    let mut trust = kyso::pki::TrustStore::new();
    trust
        .load(&service.dir.path().join("pki/root.pem"))
        .unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::Offline;
    let report = kyso::verify::Verifier::new(options).verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");
    assert_eq!(report.signatures[0].format, "PAdES-B-LT");

    let reply = client.post(
        "/v1/sign/xml?key=stp-01&document_id=STP-XT-1&level=B-T",
        signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("XAdES-B-T"));
    let report = service.verifier().verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");
    assert_eq!(
        report.signatures[0].signing_time_source,
        Some(kyso::verify::TimeSource::Timestamp)
    );
    // XML at B-LT carries its validation data in XAdES CertificateValues/RevocationValues.
    let reply = client.post(
        "/v1/sign/xml?key=stp-01&document_id=STP-XLT-1&level=B-LT",
        signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("XAdES-B-LT"));
    let mut trust = kyso::pki::TrustStore::new();
    trust
        .load(&service.dir.path().join("pki/root.pem"))
        .unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::Offline;
    let report = kyso::verify::Verifier::new(options).verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");
    assert_eq!(report.signatures[0].format, "XAdES-B-LT");

    // The ledger and the audit log name each level.
    let mut store = service.store();
    assert_eq!(store.totals().unwrap().signatures, 4);
    let levels: Vec<String> = store
        .audit_entries(0, 100)
        .unwrap()
        .iter()
        .filter(|e| e.record.action == "signature")
        .map(|e| {
            let details: serde_json::Value = serde_json::from_str(&e.record.details).unwrap();
            details["level"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        levels,
        ["PAdES-B-T", "PAdES-B-LT", "XAdES-B-T", "XAdES-B-LT"]
    );

    // A TSA that fails: 502 with Retry-After, and nothing is recorded or handed out.
    let (front, _) = service.tsa.as_ref().unwrap();
    front.fail("/tsa");
    let reply = sign_pdf(&client, signer, "&document_id=STP-T-2&level=B-T", letter());
    let problem = reply.problem(502, "upstream-failed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("time-stamping authority"),
        "{problem}"
    );
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(store.totals().unwrap().signatures, 4);
}

#[test]
fn a_level_the_service_cannot_make_is_refused_before_the_token_signs() {
    let service = Service::with(Options {
        missing_token_key: true,
        ..Options::default()
    });
    let client = service.client();
    let signer = &service.keys.signer;
    // Checked before the token is even opened: a key on a missing token still gets the 422.
    client
        .post(
            "/v1/sign/pdf?key=ghost&level=B-T",
            signer,
            "application/pdf",
            letter(),
        )
        .problem(422, "level-unavailable");
    let (kind, body) = multipart(&[
        ("document", Some("letter.pdf"), &letter()),
        ("options", None, br#"{"key":"ghost","level":"B-LT"}"#),
    ]);
    client
        .post("/v1/sign/pdf?key=ghost", signer, &kind, body)
        .problem(422, "level-unavailable");
    let reply = sign_pdf(&client, signer, "&level=B-T", letter());
    let problem = reply.problem(422, "level-unavailable");
    assert!(
        problem["detail"].as_str().unwrap().contains("[tsa] url"),
        "{problem}"
    );
    sign_pdf(&client, signer, "&level=B-LT", letter()).problem(422, "level-unavailable");
    sign_pdf(&client, signer, "&level=B-LTA", letter()).problem(422, "level-unavailable");
    sign_pdf(&client, signer, "&level=B-LTX", letter()).problem(400, "bad-request");
    // XML's long-term levels need the same: a TSA first.
    client
        .post(
            "/v1/sign/xml?key=ghost&level=B-LTA",
            signer,
            "application/xml",
            XML.as_bytes().to_vec(),
        )
        .problem(422, "level-unavailable");
    // B-B stays the default and needs nothing more.
    let reply = sign_pdf(&client, signer, "", letter());
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-level"), Some("PAdES-B-B"));
    assert_eq!(service.store().totals().unwrap().signatures, 1);
}

#[test]
fn b_lt_refuses_a_revoked_signer_and_records_nothing() {
    let service = Service::with(Options {
        timestamps: true,
        profile: kyso::testpki::SignerProfile::Revoked,
        ..Options::default()
    });
    let client = service.client();
    let reply = sign_pdf(
        &client,
        &service.keys.signer,
        "&document_id=STP-LT-R&level=B-LT",
        letter(),
    );
    let problem = reply.problem(422, "signer-not-valid");
    assert!(
        problem["detail"].as_str().unwrap().contains("revoked"),
        "{problem}"
    );
    assert_eq!(service.store().totals().unwrap().signatures, 0);
}

/// `POST /v1/extend`: a B-B document becomes B-LTA and verifies from what it carries; asked
/// again, nothing to do (204); an unsigned one is not extendable (422); a verifier's key may
/// not extend (403); each extension is in the audit log.
#[test]
fn extend_makes_b_lta_once_and_refuses_what_does_not_verify() {
    let service = Service::with(Options {
        timestamps: true,
        ..Options::default()
    });
    let client = service.client();
    let signer = &service.keys.signer;
    let signed = sign_pdf(&client, signer, "&document_id=STP-X-1", letter());
    assert_eq!(signed.status, 200, "{}", signed.text());

    let reply = client.post(
        "/v1/extend?to=B-LTA",
        signer,
        "application/pdf",
        signed.body.clone(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-extension"), Some("extended"));
    assert_eq!(reply.header("x-kyso-level"), Some("PAdES-B-LTA"));
    assert_eq!(&reply.body[..signed.body.len()], &signed.body[..]);
    let mut trust = kyso::pki::TrustStore::new();
    trust
        .load(&service.dir.path().join("pki/root.pem"))
        .unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::Offline;
    let report = kyso::verify::Verifier::new(options).verify(&reply.body);
    assert!(report.all_passed(), "{report:?}");
    assert_eq!(report.signatures[0].format, "PAdES-B-LTA");

    let again = client.post("/v1/extend", signer, "application/pdf", reply.body.clone());
    assert_eq!(again.status, 204, "{}", again.text());
    assert_eq!(again.header("x-kyso-extension"), Some("unchanged"));

    let problem = client
        .post("/v1/extend", signer, "application/pdf", letter())
        .problem(422, "not-extendable");
    assert!(
        problem["detail"].as_str().unwrap().contains("no signature"),
        "{problem}"
    );
    client
        .post(
            "/v1/extend?to=B-X",
            signer,
            "application/pdf",
            signed.body.clone(),
        )
        .problem(400, "bad-request");
    client
        .post(
            "/v1/extend",
            &service.keys.verifier,
            "application/pdf",
            signed.body.clone(),
        )
        .problem(403, "forbidden");
    let outcomes: Vec<String> = service
        .store()
        .audit_entries(0, 100)
        .unwrap()
        .iter()
        .filter(|e| e.record.action == "extension")
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.record.details).unwrap();
            detail["outcome"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(outcomes, ["extended", "unchanged", "refused"]);
}

/// Without a TSA the service cannot extend, and says so.
#[test]
fn extend_without_a_tsa_is_unavailable() {
    let service = Service::start();
    let client = service.client();
    let signed = sign_pdf(
        &client,
        &service.keys.signer,
        "&document_id=STP-X-2",
        letter(),
    );
    assert_eq!(signed.status, 200, "{}", signed.text());
    client
        .post(
            "/v1/extend",
            &service.keys.signer,
            "application/pdf",
            signed.body,
        )
        .problem(422, "level-unavailable");
}
