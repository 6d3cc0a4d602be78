//! Issue 17 (3): `kyso sign` and the service sign through one entry point
//! (`kyso::signing::Signing`), so the same document signed by both at B-B, B-T and B-LT carries
//! the same signed and unsigned attributes, the same DSS, and gets the same verdict.

use std::collections::BTreeSet;
use std::path::Path;

use kyso::cms::SignedData;
use kyso::pdf::Document;

use super::external_pdf::last_contents;
use crate::api::fixture::{Options, Service, letter};
use crate::cli::{kyso, text};

/// The OIDs of the last signature's signed and unsigned attributes.
fn attributes(pdf: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    let contents = last_contents(pdf);
    let cms = SignedData::parse(&contents).unwrap();
    let info = &cms.signer_infos[0];
    let signed = info
        .signed_attributes
        .as_ref()
        .map(|a| a.attributes.iter().map(|a| a.oid.to_string()).collect())
        .unwrap_or_default();
    let unsigned = info
        .unsigned_attributes
        .iter()
        .map(|a| a.oid.to_string())
        .collect();
    (signed, unsigned)
}

/// The DSS's certificates and CRLs (SHA-256 of each), and how many OCSP responses it holds
/// (those are fetched afresh: same count, not the same bytes).
fn dss(pdf: &[u8]) -> (BTreeSet<String>, BTreeSet<String>, usize) {
    let data = kyso::pdf::dss::read(&Document::parse(pdf).unwrap());
    let hashes = |items: &[Vec<u8>]| {
        items
            .iter()
            .map(|d| hex::encode(kyso::signer::DigestAlgorithm::Sha256.digest(d)))
            .collect()
    };
    (
        hashes(&data.certificates),
        hashes(&data.crls),
        data.ocsp_responses.len(),
    )
}

/// A kyso.toml for the CLI with the service's token, `[verify]` and `[tsa]`.
fn cli_config(service: &Service, dir: &Path) -> std::path::PathBuf {
    let t = crate::support::tokens();
    let pki = service.dir.path().join("pki");
    let tsa = service.tsa.as_ref().expect("a TSA").0.url("/tsa");
    let path = dir.join("kyso.toml");
    std::fs::write(
        &path,
        format!(
            "[token]\nmodule = \"{}\"\npin_source = \"file:{}\"\n\n[verify]\ntrust = [\"{}\"]\ncrls = [\"{}\", \"{}\"]\nrevocation = \"offline\"\n\n[tsa]\nurl = \"{tsa}\"\n",
            t.module.display(),
            t.pin_file(crate::support::MAIN_TOKEN).display(),
            pki.join("root.pem").display(),
            pki.join("intermediate.crl").display(),
            pki.join("root.crl").display(),
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_cli_and_the_service_make_the_same_signature_at_every_level() {
    let service = Service::with(Options {
        timestamps: true,
        ..Options::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(&service, dir.path());
    let input = dir.path().join("letter.pdf");
    std::fs::write(&input, letter()).unwrap();
    let key_uri = {
        let mut uri = service._signing.key.uri();
        uri.module_path = None;
        uri.to_string()
    };
    let verifier = service.state.verifier.get();
    let client = service.client();
    for level in ["B-B", "B-T", "B-LT"] {
        let reply = client.post(
            &format!("/v1/sign/pdf?key=stp-01&level={level}"),
            &service.keys.signer,
            "application/pdf",
            letter(),
        );
        assert_eq!(reply.status, 200, "{level}: {}", reply.text());
        let by_service = reply.body;

        let output = dir.path().join(format!("cli-{level}.pdf"));
        let out = kyso()
            .env("KYSO_CONFIG", &config)
            .args(["sign", "pdf"])
            .arg(&input)
            .arg(&output)
            .args(["--key", &key_uri, "--level", level, "--chain"])
            .arg(service.dir.path().join("pki/intermediate.pem"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{level}: {}", text(&out));
        let by_cli = std::fs::read(&output).unwrap();

        assert_eq!(
            attributes(&by_cli),
            attributes(&by_service),
            "{level}: the same signed and unsigned attributes"
        );
        assert_eq!(dss(&by_cli), dss(&by_service), "{level}: the same DSS");
        let (cli, svc) = (verifier.verify(&by_cli), verifier.verify(&by_service));
        let verdict = |r: &kyso::verify::DocumentReport| {
            let s = &r.signatures[0];
            (
                s.indication,
                s.sub_indication,
                s.format.clone(),
                s.chain.len(),
            )
        };
        assert_eq!(verdict(&cli), verdict(&svc), "{level}: the same verdict");
        assert_eq!(
            cli.indication,
            kyso::verify::Indication::TotalPassed,
            "{level}: {cli:#?}"
        );
        if level == "B-LT" {
            let (certs, crls, _) = dss(&by_cli);
            assert!(!certs.is_empty() && !crls.is_empty(), "B-LT fills the DSS");
        }
    }
}

/// `kyso sign xml` goes through the same path: XMLDSig, XAdES B-B, and XAdES B-T with the
/// configured TSA, each verified TOTAL-PASSED; and the service's XAdES B-T has the same form.
#[test]
fn kyso_sign_xml_makes_what_the_service_makes() {
    let service = Service::with(Options {
        timestamps: true,
        ..Options::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(&service, dir.path());
    let input = dir.path().join("van-ban.xml");
    std::fs::write(&input, crate::api::fixture::XML).unwrap();
    let key_uri = {
        let mut uri = service._signing.key.uri();
        uri.module_path = None;
        uri.to_string()
    };
    let verifier = service.state.verifier.get();
    for (flags, format) in [
        (&[][..], "XMLDSig"),
        (&["--xades"][..], "XAdES-B-B"),
        (
            &["--tsa", &service.tsa.as_ref().unwrap().0.url("/tsa")][..],
            "XAdES-B-T",
        ),
    ] {
        let output = dir.path().join(format!("{format}.xml"));
        let out = kyso()
            .env("KYSO_CONFIG", &config)
            .args(["sign", "xml"])
            .arg(&input)
            .arg(&output)
            .args(["--key", &key_uri, "--chain"])
            .arg(service.dir.path().join("pki/intermediate.pem"))
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out));
        let report = verifier.verify(&std::fs::read(&output).unwrap());
        assert_eq!(
            report.indication,
            kyso::verify::Indication::TotalPassed,
            "{format}: {report:#?}"
        );
        assert_eq!(report.signatures[0].format, format);
    }
    let reply = service.client().post(
        "/v1/sign/xml?key=stp-01&level=B-T",
        &service.keys.signer,
        "application/xml",
        crate::api::fixture::XML.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        verifier.verify(&reply.body).signatures[0].format,
        "XAdES-B-T"
    );
}
