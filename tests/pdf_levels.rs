//! PAdES B-T and B-LT against real services: an RFC 3161 TSA (`openssl ts -reply`), OCSP
//! (`openssl ocsp -index … -reqin … -respout …`) and CRLs, all behind the loopback front of
//! `support::responders`; the output judged by pdfsig, qpdf and pyHanko. B-LT output is
//! validated again after the services are stopped, from the DSS alone.
//!
//! OpenSSL stamps OCSP responses and tokens with the real clock, so these PKIs are built around
//! the current time instead of a fixed instant.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kyso::pades::{Level, LongTerm, Tsa as TsaEndpoint};
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{Document, Object, SignatureOptions, ValidationData};
use kyso::pki::fetch::{OcspNonce, Online};
use kyso::pki::{CertPool, Certificate, RevocationSource, TrustStore, ValidationPolicy, Validator};
use kyso::testpki::{PkiOptions, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use time::OffsetDateTime;

use crate::support::responders::{OcspResponder, Responders, Tsa};
use crate::support::{Signing, pdfsig, qpdf_check};

/// A PKI whose certificates point at `front` under `/{prefix}/` for CRLs and OCSP.
fn pki_on(front: &Responders, prefix: &str) -> TestPki {
    TestPki::new(PkiOptions {
        crl_url: Some(front.url(&format!("/{prefix}/ca.crl"))),
        ocsp_url: Some(front.url(&format!("/{prefix}/ocsp"))),
        root_crl_url: Some(front.url(&format!("/{prefix}/root.crl"))),
        ..PkiOptions::default()
    })
    .unwrap()
}

/// Serves `pki`'s CRLs and an OCSP responder knowing every certificate issued so far.
fn serve_pki(front: &Responders, prefix: &str, pki: &TestPki) -> OcspResponder {
    let since = pki.at() - time::Duration::hours(1);
    let week = time::Duration::days(7);
    front.serve_file(
        &format!("/{prefix}/ca.crl"),
        pki.intermediate_crl(since, week).unwrap(),
    );
    front.serve_file(
        &format!("/{prefix}/root.crl"),
        pki.root_crl(since, week).unwrap(),
    );
    let responder = OcspResponder::for_pki(pki);
    front.serve_ocsp(&format!("/{prefix}/ocsp"), &responder);
    responder
}

/// A signer, its PKI's services and a TSA certified by the same PKI, all on one front.
struct World {
    front: Responders,
    signing: Signing,
    tsa_url: String,
    _tsa: Tsa,
    _ocsp: OcspResponder,
}

fn world(algorithm: KeyAlgorithm, person: &str, profile: SignerProfile) -> World {
    let front = Responders::start();
    let signing = Signing::issued_by(pki_on(&front, "a"), algorithm, person, profile);
    let tsa = Tsa::for_pki(&signing.pki);
    front.serve_tsa("/tsa", &tsa);
    let ocsp = serve_pki(&front, "a", &signing.pki);
    World {
        tsa_url: front.url("/tsa"),
        front,
        signing,
        _tsa: tsa,
        _ocsp: ocsp,
    }
}

/// A validator trusting `pki`'s root, for B-LT's checks.
fn validator(pki: &TestPki) -> Validator {
    let mut anchors = TrustStore::new();
    anchors.add(Certificate::from_der(pki.root.der()).unwrap());
    let mut pool = CertPool::new();
    pool.add(Certificate::from_der(pki.intermediate.der()).unwrap());
    Validator::new(anchors, pool, ValidationPolicy::default())
}

fn online() -> Online {
    Online::new(Duration::from_secs(5), OcspNonce::Optional)
}

fn options(signing: &Signing, level: &Level<'_>) -> SignatureOptions {
    let mut options = SignatureOptions::new(
        OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), level),
    );
    options.reason = Some("Ban hành văn bản".to_owned());
    options.location = Some("Thành phố Huế".to_owned());
    options
}

fn sign(signing: &Signing, input: &[u8], level: &Level<'_>) -> Result<Vec<u8>, kyso::pades::Error> {
    kyso::pades::sign(input, &signing.identity(), &options(signing, level), level)
        .map(|signed| signed.to_vec())
}

/// pyHanko's AdES validation (the `adesverify` process) of every signature, offline: trust from
/// `roots`, revocation information required for every certificate and taken from the document
/// only. One line per signature: `FIELD BOTTOM_LINE SUBINDICATION SUMMARY`.
fn pyhanko_offline(path: &Path, roots: &[&Path]) -> String {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pyhanko_ades_offline.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(path)
        .args(roots)
        .output()
        .expect("python3 with pyHanko is installed");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The CMS of every signature, in file order.
fn signatures(bytes: &[u8]) -> Vec<Vec<u8>> {
    let doc = Document::parse(bytes).unwrap();
    let mut locations: Vec<_> = doc.locations().collect();
    locations.sort_by_key(|(id, _)| id.number);
    locations
        .into_iter()
        .filter_map(|(id, _)| match doc.object(id) {
            Ok(Object::Dictionary(d)) if d.has_type(b"Sig") => d
                .get(b"Contents")
                .and_then(Object::as_string)
                .map(<[u8]>::to_vec),
            _ => None,
        })
        .collect()
}

/// The signature time-stamp token of a signature's CMS, if it has one.
fn timestamp_token(contents: &[u8]) -> Option<Vec<u8>> {
    let parsed = kyso::cms::SignedData::parse(contents).unwrap();
    let info = &parsed.signer_infos[0];
    info.unsigned_attributes
        .iter()
        .find(|a| a.oid.is(kyso::cms::oid::SIGNATURE_TIMESTAMP_TOKEN))
        .map(|a| a.values[0].raw.to_vec())
}

/// What the DSS holds, and its VRI keys.
fn dss(bytes: &[u8]) -> (ValidationData, Vec<String>) {
    let doc = Document::parse(bytes).unwrap();
    let (_, catalog) = doc.catalog().unwrap();
    let dss = doc.resolve(catalog.get(b"DSS").expect("a /DSS")).unwrap();
    let dss = dss.as_dict().unwrap();
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        dss.get(key)
            .and_then(Object::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|r| match doc.resolve(r).unwrap() {
                Object::Stream(s) => kyso::pdf::decode(&s).unwrap(),
                other => panic!("a DSS entry that is not a stream: {other:?}"),
            })
            .collect()
    };
    let vri = dss
        .get(b"VRI")
        .and_then(Object::as_dict)
        .map(|v| {
            v.iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let data = ValidationData {
        certificates: streams(b"Certs"),
        crls: streams(b"CRLs"),
        ocsp_responses: streams(b"OCSPs"),
    };
    (data, vri)
}

fn assert_pdfsig_and_qpdf(path: &Path, signatures: usize) {
    let report = pdfsig(path);
    assert_eq!(
        report.matches("Signature is Valid.").count(),
        signatures,
        "pdfsig: {report}"
    );
    qpdf_check(path);
}

#[test]
fn b_t_carries_a_verified_signature_timestamp() {
    let w = world(
        KeyAlgorithm::Rsa2048,
        "Nguyễn Thị Lan",
        SignerProfile::Valid,
    );
    let dir = tempfile::tempdir().unwrap();
    let input = sample_pdf(&SampleOptions::default());
    let level = Level::BT {
        tsa: TsaEndpoint::new(w.tsa_url.clone()),
    };
    let bytes = sign(&w.signing, &input, &level).unwrap();
    assert!(bytes.starts_with(&input));
    let path = dir.path().join("b-t.pdf");
    std::fs::write(&path, &bytes).unwrap();

    // The token covers the SHA-256 of this signature's SignatureValue.
    let contents = &signatures(&bytes)[0];
    let token = timestamp_token(contents).expect("id-aa-signatureTimeStampToken");
    let info = kyso::tsp::tst_info(&token).unwrap();
    let parsed = kyso::cms::SignedData::parse(contents).unwrap();
    let signature_value = &parsed.signer_infos[0].signature;
    assert_eq!(
        info.hashed_message,
        kyso::signer::DigestAlgorithm::Sha256.digest(signature_value)
    );
    // The reserved room is what TIMESTAMP_ROOM says it is for: print the measured size.
    eprintln!(
        "signature time-stamp token: {} bytes (room reserved: {})",
        token.len(),
        kyso::pades::TIMESTAMP_ROOM
    );
    assert!(token.len() * 2 < kyso::pades::TIMESTAMP_ROOM);

    assert_pdfsig_and_qpdf(&path, 1);
    let pyhanko = crate::support::pyhanko_validate(&path, &[&w.signing.root_pem()]);
    assert!(
        pyhanko.contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,UNTOUCHED"),
        "pyHanko: {pyhanko}"
    );
}

#[test]
fn b_lt_validates_offline_from_the_dss() {
    let w = world(KeyAlgorithm::P256, "Trần Văn Bảo", SignerProfile::Valid);
    let dir = tempfile::tempdir().unwrap();
    let input = sample_pdf(&SampleOptions::default());
    let v = validator(&w.signing.pki);
    let online = online();
    let sources: [&dyn RevocationSource; 1] = [&online];
    let lt = Level::BLT {
        tsa: TsaEndpoint::new(w.tsa_url.clone()),
        validation: LongTerm {
            validator: &v,
            sources: &sources,
        },
    };
    let b_lt = sign(&w.signing, &input, &lt).unwrap();
    let b_t = sign(
        &w.signing,
        &input,
        &Level::BT {
            tsa: TsaEndpoint::new(w.tsa_url.clone()),
        },
    )
    .unwrap();
    // Every service stops: from here on, validation data can only come from the files.
    drop(w.front);
    let (lt_path, t_path) = (dir.path().join("b-lt.pdf"), dir.path().join("b-t.pdf"));
    std::fs::write(&lt_path, &b_lt).unwrap();
    std::fs::write(&t_path, &b_t).unwrap();

    // The signature's byte range ends where the DSS update begins.
    let signed_len = kyso::pades::sign(
        &input,
        &w.signing.identity(),
        &options(&w.signing, &Level::BB),
        &Level::BB,
    )
    .unwrap()
    .len();
    assert!(b_lt.len() > signed_len);

    let (stored, vri) = dss(&b_lt);
    let certs = &stored.certificates;
    let has = |der: &[u8]| certs.iter().any(|c| c == der);
    assert!(has(&w.signing.certificate), "the signer's certificate");
    assert!(has(w.signing.pki.intermediate.der()), "the CA");
    assert!(has(w.signing.pki.root.der()), "the root");
    assert!(certs.len() >= 5, "signer, CA, root, TSA, OCSP responder");
    assert_eq!(
        stored.ocsp_responses.len(),
        2,
        "OCSP for the signer and for the TSA"
    );
    assert!(!stored.crls.is_empty(), "the root's CRL for the CA");
    let contents = &signatures(&b_lt)[0];
    assert_eq!(vri, [kyso::pdf::vri_key(contents)]);

    assert_pdfsig_and_qpdf(&lt_path, 1);
    let root = w.signing.root_pem();
    let offline = pyhanko_offline(&lt_path, &[&root]);
    assert!(
        offline.contains(
            "Signature1 True AdESIndeterminate.NO_POE INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"
        ),
        "pyHanko, offline, B-LT: {offline}"
    );
    // The same signature without the DSS cannot be validated offline: the evidence above came
    // from the document.
    let control = pyhanko_offline(&t_path, &[&root]);
    assert!(
        control.contains("Signature1 False"),
        "pyHanko, offline, B-T: {control}"
    );
}
