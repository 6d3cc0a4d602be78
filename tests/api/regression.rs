//! One test per defect of issue 15 (found by testing the service as an attacker would), named
//! after its item.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kyso::ledger::Store;

use super::fixture::{Client, Options, Reply, Service, XML, letter, multipart};

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

/// A raw connection to the service, for what an HTTP client library would not do.
fn connect(service: &Service) -> TcpStream {
    let address = service.url.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Waits until the server closes `stream` (end of file or reset) and returns how long that took;
/// panics if it is still open after `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return started.elapsed(),
            // A response (a 408, say) may come first; the close is what matters.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the connection is still open after {within:?}")
            }
            Err(_) => return started.elapsed(),
        }
    }
}

/// Reads one response's head and its Content-Length body; returns the status line.
fn read_response(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed mid-response");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head.lines().next().unwrap().to_owned()
}

fn with_connections(header: u64, idle: u64, max: Option<usize>) -> Service {
    Service::with(Options {
        header_read_timeout_secs: Some(header),
        idle_timeout_secs: Some(idle),
        max_connections: max,
        ..Options::default()
    })
}

/// Item 7: a request head trickled a byte at a time (slowloris), and a connection that sends
/// nothing, are closed once the header-read timeout has passed.
#[test]
fn issue_15_item_7_a_slow_request_head_is_cut_off() {
    let service = with_connections(1, 30, None);
    let mut silent = connect(&service);
    let mut slow = connect(&service);
    let mut writer = slow.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: kyso\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let took = closed_within(&mut slow, Duration::from_secs(8));
    assert!(took < Duration::from_secs(8), "{took:?}");
    closed_within(&mut silent, Duration::from_secs(3));
    trickle.join().unwrap();
}

/// Item 7: a kept-alive connection waits for its next request for the idle timeout (longer
/// than the header timeout), then is closed.
#[test]
fn issue_15_item_7_an_idle_keep_alive_connection_is_closed() {
    let service = with_connections(1, 3, None);
    let mut stream = connect(&service);
    let request = b"GET /healthz HTTP/1.1\r\nHost: kyso\r\n\r\n";
    stream.write_all(request).unwrap();
    assert_eq!(read_response(&mut stream), "HTTP/1.1 200 OK");
    // Past the header timeout but within the idle timeout: still open for a second request.
    std::thread::sleep(Duration::from_millis(1500));
    stream.write_all(request).unwrap();
    assert_eq!(read_response(&mut stream), "HTTP/1.1 200 OK");
    closed_within(&mut stream, Duration::from_secs(8));
}

/// Item 7: with `max_connections = 2`, a third connection is not served until one of the two
/// closes (it waits in the accept queue; it is not refused).
#[test]
fn issue_15_item_7_the_connection_cap_holds() {
    let service = with_connections(30, 30, Some(2));
    let first = connect(&service);
    let mut second = connect(&service);
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kyso\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut second), "HTTP/1.1 200 OK");
    let mut third = connect(&service);
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kyso\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = third.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a third connection was served beyond the cap: {early:?}"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let mut buffer = [0u8; 1024];
    while !rest.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = third.read(&mut buffer).unwrap();
        assert!(n > 0, "closed without an answer");
        rest.extend_from_slice(&buffer[..n]);
    }
    assert!(
        rest.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
}

/// `[0,0,0,…]` of `size` bytes: the body that cost 950 MB per 50 MB when parsed into a
/// `serde_json::Value`.
fn zeros(size: usize) -> Vec<u8> {
    let mut body = b"[0".to_vec();
    while body.len() < size - 1 {
        body.extend_from_slice(b",0");
    }
    body.push(b']');
    body
}

/// Item 7: the JSON endpoints take at most `max_json_body_bytes` (here 64 KiB, under the
/// 256 KiB body limit of documents): 413 whether the length is declared or the body is chunked.
#[test]
fn issue_15_item_7_a_json_body_over_its_limit_is_refused() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let body = zeros(100 * 1024);
    for (path, key) in [("/v1/documents", &k.signer), ("/v1/units", &k.admin)] {
        let problem = c
            .post(path, key, "application/json", body.clone())
            .problem(413, "payload-too-large");
        assert!(
            problem["detail"].as_str().unwrap().contains("65536-byte"),
            "{problem}"
        );
    }
    // Chunked: no length to refuse up front; the read stops at the limit.
    let mut stream = connect(&service);
    let head = format!(
        "POST /v1/documents HTTP/1.1\r\nHost: kyso\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        k.signer
    );
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(8 * 1024) {
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| stream.write_all(chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break; // the server answered and closed before the whole body was sent
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    assert_eq!(read_response(&mut stream), "HTTP/1.1 413 Payload Too Large");
    // Within the limit, a typed parse still names what is wrong.
    let problem = c
        .post("/v1/documents", &k.signer, "application/json", zeros(1000))
        .problem(400, "bad-request");
    assert!(
        problem["detail"].as_str().unwrap().contains("item 1"),
        "{problem}"
    );
}

/// Every byte as `%XX`, so that the query carries exactly the characters given.
fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Item 9: control characters (C0 including tab and newline, DEL, C1) and bidi embeddings,
/// overrides and isolates in the text a signature carries are refused, naming the parameter,
/// in the query and in the options part, before anything is signed or recorded.
#[test]
fn issue_15_item_9_control_and_bidi_characters_in_signing_text_are_refused() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let bad = [
        "\u{0}", "\t", "\n", "\r", "\u{1b}", "\u{7f}", "\u{85}", "\u{9f}", "\u{202a}", "\u{202e}",
        "\u{2066}", "\u{2069}",
    ];
    let parameters = ["field", "reason", "name", "location", "unit_label"];
    for parameter in parameters {
        for character in bad {
            let value = format!("Sở Tư pháp{character}exe.fdp");
            let path = format!(
                "/v1/sign/pdf?key=stp-01&{parameter}={}",
                percent_encoded(&value)
            );
            let problem = c
                .post(&path, &k.signer, "application/pdf", letter())
                .problem(400, "bad-request");
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.starts_with(&format!("{parameter}:")),
                "{parameter} {character:?}: {detail}"
            );
        }
        let options = serde_json::json!({"key": "stp-01", parameter: "a\u{202e}b"}).to_string();
        let (kind, body) = multipart(&[
            ("document", Some("letter.pdf"), &letter()),
            ("options", None, options.as_bytes()),
        ]);
        c.post("/v1/sign/pdf?key=stp-01", &k.signer, &kind, body)
            .problem(400, "bad-request");
        let path = format!("/v1/sign/xml?key=stp-01&{parameter}=a%0Ab");
        c.post(&path, &k.signer, "application/xml", XML.as_bytes().to_vec())
            .problem(400, "bad-request");
    }
    assert_eq!(service.store().totals().unwrap().signatures, 0);
    // Vietnamese text, with its combining marks and spaces, still signs.
    let reply = c.post(
        &format!(
            "/v1/sign/pdf?key=stp-01&reason={}&location={}",
            percent_encoded("Ban hành văn bản"),
            percent_encoded("Thành phố Huế")
        ),
        &k.signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Sends `head` (and nothing else) on a fresh connection; returns the whole answer as text.
/// Reads while writing: the server may answer and close before a long head is all sent, and
/// the answer must be read before the reset that the rest of the head then causes.
fn raw_exchange(service: &Service, head: &str) -> String {
    let mut stream = connect(service);
    let mut writer = stream.try_clone().unwrap();
    let head = head.as_bytes().to_vec();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&head);
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    let _ = sending.join();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Item 10: two `Authorization` headers are ambiguous (a proxy may check one and kyso use the
/// other): 400, and counted as an authentication refusal.
#[test]
fn issue_15_item_10_two_authorization_headers_are_refused() {
    let service = Service::start();
    let k = &service.keys;
    let answer = raw_exchange(
        &service,
        &format!(
            "GET /v1/whoami HTTP/1.1\r\nHost: kyso\r\nConnection: close\r\nAuthorization: Bearer {}\r\nAuthorization: Bearer {}\r\n\r\n",
            k.signer, k.auditor
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("Authorization"),
        "{answer}"
    );
    let metrics = service.client().get("/metrics", Some(&k.admin)).text();
    assert!(
        metrics
            .contains("kyso_denials_total{permission=\"read_identity\",kind=\"authentication\"} 1"),
        "{metrics}"
    );
}

/// Item 10: a request target over the limit is a 414 problem document, whether the middleware
/// or hyper's own parser refuses it (hyper answered with an empty body).
#[test]
fn issue_15_item_10_a_long_uri_is_a_problem_document() {
    let service = Service::start();
    let c = service.client();
    let long = format!("/v1/units?q={}", "a".repeat(9 * 1024));
    let problem = c.get(&long, None).problem(414, "uri-too-long");
    assert!(
        problem["detail"].as_str().unwrap().contains("8192"),
        "{problem}"
    );
    for length in [70 * 1024, 200 * 1024] {
        let answer = raw_exchange(
            &service,
            &format!(
                "GET /v1/units?q={} HTTP/1.1\r\nHost: kyso\r\n\r\n",
                "a".repeat(length)
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 414"), "{length}: {answer}");
        assert!(
            answer.contains("content-type: application/problem+json")
                && answer.contains("urn:kyso:problem:uri-too-long"),
            "{length}: {answer}"
        );
    }
    // A header over the head limit: 431, a problem document too.
    let answer = raw_exchange(
        &service,
        &format!(
            "GET /healthz HTTP/1.1\r\nHost: kyso\r\nX-Big: {}\r\n\r\n",
            "b".repeat(100 * 1024)
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(
        answer.contains("urn:kyso:problem:request-head-too-large"),
        "{answer}"
    );
    // A request line that is no HTTP at all gets a problem document too.
    let answer = raw_exchange(&service, "GARBAGE\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("urn:kyso:problem:bad-request"), "{answer}");
}

/// Item 10: the sign endpoints take the content types the OpenAPI document lists and refuse
/// the rest with 415 before the body is read.
#[test]
fn issue_15_item_10_sign_endpoints_check_the_content_type() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    for kind in ["text/plain", "application/json", "application/xml"] {
        c.post("/v1/sign/pdf?key=stp-01", &k.signer, kind, letter())
            .problem(415, "unsupported-media-type");
    }
    for kind in ["text/plain", "application/pdf"] {
        c.post(
            "/v1/sign/xml?key=stp-01",
            &k.signer,
            kind,
            XML.as_bytes().to_vec(),
        )
        .problem(415, "unsupported-media-type");
    }
    let none = c.call(
        "POST",
        "/v1/sign/pdf?key=stp-01",
        Some(&k.signer),
        None,
        letter(),
    );
    none.problem(415, "unsupported-media-type");
    assert_eq!(service.store().totals().unwrap().signatures, 0);
    for kind in ["application/pdf", "application/octet-stream"] {
        let reply = c.post("/v1/sign/pdf?key=stp-01", &k.signer, kind, letter());
        assert_eq!(reply.status, 200, "{kind}: {}", reply.text());
    }
    for kind in ["application/xml", "text/xml", "application/octet-stream"] {
        let reply = c.post(
            "/v1/sign/xml?key=stp-01",
            &k.signer,
            kind,
            XML.as_bytes().to_vec(),
        );
        assert_eq!(reply.status, 200, "{kind}: {}", reply.text());
    }
}

/// Item 10: a multipart sign request with two `document` parts (or two of any part) is
/// refused, as verification refuses it; it signed the last one.
#[test]
fn issue_15_item_10_a_part_given_twice_is_refused() {
    let service = Service::start();
    let c = service.client();
    let k = &service.keys;
    let pdf = letter();
    let options = br#"{"key":"stp-01"}"#;
    type Parts<'a> = Vec<(&'a str, Option<&'a str>, &'a [u8])>;
    let cases: [(&str, Parts); 3] = [
        (
            "pdf",
            vec![
                ("document", Some("a.pdf"), &pdf),
                ("document", Some("b.pdf"), &pdf),
            ],
        ),
        (
            "xml",
            vec![
                ("document", Some("a.xml"), XML.as_bytes()),
                ("document", Some("b.xml"), XML.as_bytes()),
            ],
        ),
        (
            "pdf",
            vec![
                ("options", None, options),
                ("document", Some("a.pdf"), &pdf),
                ("options", None, options),
            ],
        ),
    ];
    for (endpoint, parts) in &cases {
        let (kind, body) = multipart(parts);
        let problem = c
            .post(
                &format!("/v1/sign/{endpoint}?key=stp-01"),
                &k.signer,
                &kind,
                body,
            )
            .problem(400, "bad-request");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("more than once"),
            "{problem}"
        );
    }
    assert_eq!(service.store().totals().unwrap().signatures, 0);
}

/// Item 10: `/readyz` and `/metrics` tell a caller without a key what a load balancer and
/// Prometheus need, and no key names, unit codes or token errors; an admin key sees the
/// details, another key is refused.
#[test]
fn issue_15_item_10_readiness_and_metrics_tell_strangers_little() {
    let service = Service::with(Options {
        missing_token_key: true,
        ..Options::default()
    });
    let c = service.client();
    let k = &service.keys;
    let reply = c.post(
        "/v1/sign/pdf?key=stp-01",
        &k.signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let secrets = [
        "ghost",
        "stp-01",
        "STP",
        "no-such-token",
        "kyso-test",
        "token=",
    ];

    let ready = c.get("/readyz", None);
    assert_eq!(ready.status, 503, "{}", ready.text());
    let body = ready.text();
    assert_eq!(ready.json()["ready"], false, "{body}");
    for secret in secrets {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    let metrics = c.get("/metrics", None).text();
    for secret in secrets {
        assert!(!metrics.contains(secret), "{secret} in {metrics}");
    }
    assert!(
        metrics.contains("kyso_signatures_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kyso_hsm_sessions{state=\"max\"}"),
        "{metrics}"
    );

    let detailed = c.get("/readyz", Some(&k.admin));
    assert_eq!(detailed.status, 503);
    assert!(
        detailed.text().contains("no-such-token"),
        "{}",
        detailed.text()
    );
    let metrics = c.get("/metrics", Some(&k.admin)).text();
    assert!(
        metrics.contains("kyso_signatures_total{unit=\"STP\",key=\"stp-01\",result=\"ok\"} 1"),
        "{metrics}"
    );
    c.get("/readyz", Some(&k.signer)).problem(403, "forbidden");
    c.get("/metrics", Some(&k.auditor))
        .problem(403, "forbidden");
    c.get("/metrics", Some("kyso_0123456789abcdef_nope"))
        .problem(401, "unauthorized");
}
