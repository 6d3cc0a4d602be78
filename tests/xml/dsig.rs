//! XMLDSig and XAdES: sign with a software key, verify, tamper, and the wrapping defences.

use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm};
use kyso::xml::{
    self, Expect, Level, Packaging, Role, SignOptions, Status, SubIndication, Target, VerifyOptions,
};

use super::common::{DOCUMENT, TestPki, signing_time};

fn all_algorithms() -> Vec<SignatureAlgorithm> {
    vec![
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha384),
        SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512),
        SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha512),
        SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
        SignatureAlgorithm::Ecdsa(Curve::P384, DigestAlgorithm::Sha384),
    ]
}

pub fn options(packaging: Packaging, level: Level) -> SignOptions {
    let mut o = SignOptions::new(signing_time());
    o.packaging = packaging;
    o.level = level;
    o
}

fn failed(status: &Status) -> Option<SubIndication> {
    match status {
        Status::Failed { sub_indication, .. } => Some(*sub_indication),
        _ => None,
    }
}

#[test]
fn enveloped_xades_round_trip_every_algorithm() {
    for algorithm in all_algorithms() {
        let pki = TestPki::new(algorithm);
        let signed = xml::sign(
            DOCUMENT.as_bytes(),
            &pki.signer,
            &pki.chain,
            &options(Packaging::Enveloped, Level::XadesB),
        )
        .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        let report = xml::verify(&signed, &VerifyOptions::default()).unwrap();
        assert_eq!(report.signatures.len(), 1);
        let s = &report.signatures[0];
        assert_eq!(s.status, Status::Intact, "{algorithm}");
        assert!(s.covers_whole_document());
        assert_eq!(s.certificates, pki.chain);
        assert_eq!(s.signing_time(), Some("2026-01-01T00:00:00Z"));
        let roles: Vec<Role> = s.references.iter().map(|r| r.role).collect();
        assert_eq!(roles, [Role::Content, Role::SignedProperties]);
        // The signed content is the canonical document without the signature and comments.
        let content = s.signed_content();
        assert_eq!(content.len(), 1);
        let text = std::str::from_utf8(content[0]).unwrap();
        assert!(text.starts_with("<vb:VanBan") && !text.contains("Signature"));
        assert!(text.contains("Ủy ban nhân dân"));
    }
}

#[test]
fn enveloping_and_detached_round_trip() {
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let signed = xml::sign(
        DOCUMENT.as_bytes(),
        &pki.signer,
        &pki.chain,
        &options(Packaging::Enveloping, Level::XmlDsig),
    )
    .unwrap();
    let report = xml::verify(&signed, &VerifyOptions::default()).unwrap();
    assert!(report.all_intact(), "{:?}", report.signatures[0].status);
    assert!(matches!(
        report.signatures[0].references[0].target,
        Target::Element { .. }
    ));

    let detached = Packaging::Detached {
        uri: "vanban.xml".into(),
    };
    let signature = xml::sign(
        DOCUMENT.as_bytes(),
        &pki.signer,
        &pki.chain,
        &options(detached, Level::XadesB),
    )
    .unwrap();
    let docs = [("vanban.xml", DOCUMENT.as_bytes())];
    let with_doc = VerifyOptions {
        detached: &docs,
        ..VerifyOptions::default()
    };
    assert!(xml::verify(&signature, &with_doc).unwrap().all_intact());
    // Without the detached document: its data cannot be found.
    let report = xml::verify(&signature, &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&report.signatures[0].status),
        Some(SubIndication::SignedDataNotFound)
    );
    // With a changed document: hash failure.
    let changed = DOCUMENT.replace("123/QĐ", "124/QĐ");
    let docs = [("vanban.xml", changed.as_bytes())];
    let with_changed = VerifyOptions {
        detached: &docs,
        ..VerifyOptions::default()
    };
    let report = xml::verify(&signature, &with_changed).unwrap();
    assert_eq!(
        failed(&report.signatures[0].status),
        Some(SubIndication::HashFailure)
    );
}

#[test]
fn tampering_gives_hash_or_crypto_failure() {
    let pki = TestPki::new(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256));
    let signed = String::from_utf8(
        xml::sign(
            DOCUMENT.as_bytes(),
            &pki.signer,
            &pki.chain,
            &options(Packaging::Enveloped, Level::XadesB),
        )
        .unwrap(),
    )
    .unwrap();
    // Content changed: the reference digest no longer matches.
    let content = signed.replace("123/QĐ-UBND", "999/QĐ-UBND");
    let r = xml::verify(content.as_bytes(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&r.signatures[0].status),
        Some(SubIndication::HashFailure)
    );
    // SigningTime changed: the SignedProperties digest no longer matches.
    let time = signed.replace("2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
    let r = xml::verify(time.as_bytes(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&r.signatures[0].status),
        Some(SubIndication::HashFailure)
    );
    // SignatureMethod changed inside SignedInfo: the value no longer verifies.
    let method = signed.replace("xmldsig-more#rsa-sha256", "xmldsig-more#rsa-sha512");
    let r = xml::verify(method.as_bytes(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&r.signatures[0].status),
        Some(SubIndication::SigCryptoFailure)
    );
    // Comments and whitespace outside the document element are not signed content.
    let harmless = signed.replace("<!-- văn bản đi -->", "<!-- khác -->");
    assert!(
        xml::verify(harmless.as_bytes(), &VerifyOptions::default())
            .unwrap()
            .all_intact()
    );
}

#[test]
fn signing_keeps_utf16_and_self_closing_roots() {
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a xmlns='urn:x' t='Hà Nội'/>";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let signed = xml::sign(
        &utf16,
        &pki.signer,
        &pki.chain,
        &options(Packaging::Enveloped, Level::XadesB),
    )
    .unwrap();
    assert_eq!(&signed[..2], &[0xFF, 0xFE]);
    assert!(
        xml::verify(&signed, &VerifyOptions::default())
            .unwrap()
            .all_intact()
    );
}

#[test]
fn duplicate_ids_fail_the_document() {
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let doc = "<r><a Id='x'>real</a></r>";
    let signed = String::from_utf8(
        xml::sign(
            doc.as_bytes(),
            &pki.signer,
            &pki.chain,
            &options(Packaging::Enveloped, Level::XmlDsig),
        )
        .unwrap(),
    )
    .unwrap();
    let injected = signed.replacen("<r>", "<r><a Id='x'>fake</a>", 1);
    let r = xml::verify(injected.as_bytes(), &VerifyOptions::default()).unwrap();
    let Status::Failed {
        sub_indication,
        detail,
    } = &r.signatures[0].status
    else {
        panic!("{:?}", r.signatures[0].status)
    };
    assert_eq!(*sub_indication, SubIndication::FormatFailure);
    assert!(detail.contains("duplicate Id \"x\""), "{detail}");
}

/// A whole-document signature covers an element the caller reads by Id; a signature over some
/// other element does not (the partial-scope cases run against xmlsec1 and the DSS fixtures).
#[test]
fn expect_element_is_met_by_a_whole_document_signature() {
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let doc = "<r><payload Id='p'>pay 10</payload></r>";
    let signed = xml::sign(
        doc.as_bytes(),
        &pki.signer,
        &pki.chain,
        &options(Packaging::Enveloped, Level::XmlDsig),
    )
    .unwrap();
    let expect = |e: Expect| {
        let r = xml::verify(
            &signed,
            &VerifyOptions {
                expect: e,
                ..VerifyOptions::default()
            },
        )
        .unwrap();
        r.signatures[0].status.clone()
    };
    assert_eq!(expect(Expect::Element("p".into())), Status::Intact);
    assert_eq!(
        failed(&expect(Expect::Element("q".into()))),
        Some(SubIndication::SignedDataNotFound)
    );
}

/// B-T: a signature time-stamp from a real RFC 3161 TSA (openssl) over the canonical
/// SignatureValue; the token also verifies with `openssl ts -verify`.
#[test]
fn xades_baseline_t_with_a_real_tsa() {
    let Some(tsa) = super::tsa::TestTsa::start() else {
        eprintln!("SKIPPED: openssl not installed");
        return;
    };
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let level = Level::XadesT {
        tsa: kyso::tsp::Tsa::new(tsa.url.clone()),
    };
    let signed = xml::sign(
        DOCUMENT.as_bytes(),
        &pki.signer,
        &pki.chain,
        &options(Packaging::Enveloped, level),
    )
    .unwrap();
    let report = xml::verify(&signed, &VerifyOptions::default()).unwrap();
    let s = &report.signatures[0];
    assert_eq!(s.status, Status::Intact);
    let xades = s.xades.as_ref().unwrap();
    assert_eq!(xades.level(), xml::xades::Level::BaselineT);
    assert_eq!(xades.timestamps.len(), 1);
    let ts = &xades.timestamps[0];
    assert_eq!(ts.imprint, xml::xades::Imprint::Matches);
    let drift = ts
        .gen_time
        .map(|t| (t - time::OffsetDateTime::now_utc()).abs());
    assert!(
        drift.is_some_and(|d| d < time::Duration::minutes(5)),
        "{drift:?}"
    );

    // openssl agrees that the token is a valid time-stamp over that imprint.
    let info = kyso::cms::TstInfo::of_token(&ts.token).unwrap();
    std::fs::write(tsa.dir.path().join("token.der"), &ts.token).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in", "token.der"])
        .args(["-digest", &hex::encode(&info.hashed_message)])
        .arg("-CAfile")
        .arg(tsa.certificate())
        .current_dir(tsa.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And so does kyso's own timestamp verification (pki), over the octets the report names.
    {
        use kyso::pki::timestamp::{self, TimestampToken};
        use kyso::pki::{
            CertPool, Certificate, KeyPurpose, RevocationCheck, RevocationPolicy, TrustStore,
            UnknownRevocation, ValidationPolicy, Validator,
        };
        let tsa_pem = std::fs::read(tsa.certificate()).unwrap();
        let tsa_der = pem::parse(&tsa_pem).unwrap().into_contents();
        let mut anchors = TrustStore::new();
        anchors.add(Certificate::from_der(&tsa_der).unwrap());
        let validator = Validator::new(
            anchors,
            CertPool::new(),
            ValidationPolicy {
                purpose: KeyPurpose::TimeStamping,
                revocation: RevocationPolicy {
                    check: RevocationCheck::DangerouslySkip,
                    unknown: UnknownRevocation::Deny,
                },
                ..ValidationPolicy::default()
            },
        );
        let token = TimestampToken::from_der(&ts.token).unwrap();
        timestamp::verify(&token, &ts.message, None, &validator, &[], &[]).unwrap();
        assert!(timestamp::verify(&token, b"other", None, &validator, &[], &[]).is_err());
    }

    // Swapping the token into another signature: the imprint no longer matches.
    let other = xml::sign(
        DOCUMENT.replace("123/QĐ", "124/QĐ").as_bytes(),
        &pki.signer,
        &pki.chain,
        &options(Packaging::Enveloped, Level::XadesB),
    )
    .unwrap();
    let other = String::from_utf8(other).unwrap();
    let signed = String::from_utf8(signed).unwrap();
    let unsigned_start = signed.find("<xades:UnsignedProperties>").unwrap();
    let unsigned_end =
        signed.find("</xades:UnsignedProperties>").unwrap() + "</xades:UnsignedProperties>".len();
    let grafted = other.replace(
        "</xades:QualifyingProperties>",
        &format!(
            "{}</xades:QualifyingProperties>",
            &signed[unsigned_start..unsigned_end]
        ),
    );
    let r = xml::verify(grafted.as_bytes(), &VerifyOptions::default()).unwrap();
    let x = r.signatures[0].xades.as_ref().unwrap();
    assert_eq!(x.timestamps[0].imprint, xml::xades::Imprint::Mismatch);
    assert_eq!(x.level(), xml::xades::Level::BaselineB);
}

/// Content smuggled into an enveloped signature as an unreferenced ds:Object is excluded from
/// the document digest by the enveloped transform; the signature must not pass as covering the
/// whole document.
#[test]
fn unreferenced_object_inside_an_enveloped_signature_is_refused() {
    let pki = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let signed = String::from_utf8(
        xml::sign(
            DOCUMENT.as_bytes(),
            &pki.signer,
            &pki.chain,
            &options(Packaging::Enveloped, Level::XadesB),
        )
        .unwrap(),
    )
    .unwrap();
    let smuggled = signed.replace(
        "</ds:Signature>",
        "<ds:Object><TrichYeu xmlns=\"urn:kyso:test:default\">Chuyển 1 tỷ đồng</TrichYeu></ds:Object></ds:Signature>",
    );
    let r = xml::verify(smuggled.as_bytes(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&r.signatures[0].status),
        Some(SubIndication::SignedDataNotFound)
    );
}

/// Two signers on one document (officer, then the unit's seal): with
/// `OtherSignatures::Excluded` both stay intact; with the default, the second breaks the first.
#[test]
fn parallel_signatures() {
    let officer = TestPki::new(SignatureAlgorithm::Ecdsa(
        Curve::P256,
        DigestAlgorithm::Sha256,
    ));
    let unit = TestPki::new(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256));
    let mut o = options(Packaging::Enveloped, Level::XadesB);
    o.other_signatures = xml::OtherSignatures::Excluded;
    let once = xml::sign(DOCUMENT.as_bytes(), &officer.signer, &officer.chain, &o).unwrap();
    let twice = xml::sign(&once, &unit.signer, &unit.chain, &o).unwrap();
    let r = xml::verify(&twice, &VerifyOptions::default()).unwrap();
    assert_eq!(r.signatures.len(), 2);
    assert!(
        r.all_intact(),
        "{:?}",
        r.signatures.iter().map(|s| &s.status).collect::<Vec<_>>()
    );
    assert_eq!(r.signatures[0].certificates[0], officer.chain[0]);
    assert_eq!(r.signatures[1].certificates[0], unit.chain[0]);
    assert!(r.signatures.iter().all(|s| s.covers_whole_document()));

    // xmlsec1 checks the first signature, which now has a second one beside it.
    if super::common::have("xmlsec1") {
        let dir = tempfile::tempdir().unwrap();
        officer.write(dir.path());
        std::fs::write(dir.path().join("twice.xml"), &twice).unwrap();
        let out = std::process::Command::new("xmlsec1")
            .args(["--verify", "--trusted-pem", "root.pem"])
            .args([
                "--id-attr:Id",
                "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            ])
            .arg("twice.xml")
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let plain = options(Packaging::Enveloped, Level::XadesB);
    let once = xml::sign(DOCUMENT.as_bytes(), &officer.signer, &officer.chain, &plain).unwrap();
    let twice = xml::sign(&once, &unit.signer, &unit.chain, &plain).unwrap();
    let r = xml::verify(&twice, &VerifyOptions::default()).unwrap();
    assert_eq!(
        failed(&r.signatures[0].status),
        Some(SubIndication::HashFailure)
    );
    assert_eq!(r.signatures[1].status, Status::Intact);
}

/// Amplification: many signatures each referencing the whole document are refused up front.
#[test]
fn signature_count_is_budgeted() {
    let mut doc = String::from("<r>");
    for i in 0..100 {
        doc.push_str(&format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"s{i}\"/>"
        ));
    }
    doc.push_str("</r>");
    let t = std::time::Instant::now();
    assert!(matches!(
        xml::verify(doc.as_bytes(), &VerifyOptions::default()),
        Err(xml::Error::TooManySignatures {
            count: 100,
            limit: 64
        })
    ));
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
}
