//! Decree 30/2020/NĐ-CP over HTTP: `stamp` on `POST /v1/sign/pdf` and `check=decree30` on
//! `POST /v1/verify`, against the real server.

use std::process::Command;

use super::fixture::{Service, letter};
use crate::support::run;

#[test]
fn the_service_stamps_an_attachment_and_checks_the_form_on_request() {
    let service = Service::start();
    let client = service.client();
    let key = &service.keys.signer;
    let reply = client.post(
        "/v1/sign/pdf?key=stp-01&stamp=attachment&number=123%2FUBND-VP",
        key,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(service.verifier().verify(&reply.body).all_passed());
    let dir = tempfile::tempdir().unwrap();
    let signed = dir.path().join("annex.pdf");
    std::fs::write(&signed, &reply.body).unwrap();
    let text = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-f", "1", "-l", "1"])
        .arg(&signed)
        .arg("-"));
    assert!(
        text.contains("123/UBND-VP") && text.contains("+07:00"),
        "{text}"
    );

    // What each stamp lacks is the caller's mistake, said before anything is signed.
    for (query, said) in [
        ("&stamp=agency", "seal image"),
        (
            "&stamp=person&visible=1,300,300,150,60",
            "handwritten-signature image",
        ),
        ("&stamp=attachment", "number"),
        ("&stamp=copy&copy_form=photocopy", "copy_form"),
        ("&stamp=seal", "expected person, agency, attachment or copy"),
    ] {
        let reply = client.post(
            &format!("/v1/sign/pdf?key=stp-01{query}"),
            key,
            "application/pdf",
            letter(),
        );
        let problem = reply.problem(400, "bad-request");
        assert!(
            problem.to_string().contains(said),
            "{query}: {said:?} in {problem}"
        );
    }

    // The checks: absent unless asked for, a line of their own when asked, the indication the
    // same. The test certificate names neither person nor organisation.
    let plain = client
        .post(
            "/v1/verify",
            &service.keys.verifier,
            "application/pdf",
            reply.body.clone(),
        )
        .json();
    assert!(plain.get("decree30").is_none(), "{plain}");
    let checked = client
        .post(
            "/v1/verify?check=decree30",
            &service.keys.verifier,
            "application/pdf",
            reply.body.clone(),
        )
        .json();
    assert_eq!(checked["indication"], plain["indication"]);
    assert_eq!(checked["decree30"]["passed"], false, "{checked}");
    assert_eq!(
        checked["decree30"]["missing"][0]["rule"],
        "holder_undetermined"
    );
    client
        .post(
            "/v1/verify?check=tcvn",
            &service.keys.verifier,
            "application/pdf",
            reply.body,
        )
        .problem(400, "bad-request");
}
