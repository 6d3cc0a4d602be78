//! The `vn` trust profile end to end, with test copies of its anchors: two PKIs named and shaped
//! like Vietnam's national hierarchies (the Government CA's RootCA G2 over "CA phục vụ các cơ
//! quan Nhà nước G2"; the Vietnam National Root CA over a licensed public CA), loaded as a
//! bundle through the same manifest checks as the embedded one. The Government CA's signer
//! names an OCSP responder on the government's private network (`http://ocsp.ca.ptc/…`),
//! rewritten by `[revocation.rewrite]` to `openssl ocsp` behind the loopback front; the CRLs are
//! served as PEM, as some CAs do; a distribution point that hangs costs a bounded time and the
//! last good CRL stands in for it until its nextUpdate.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use kyso::anchors::Anchors;
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pki::fetch::{FetchSettings, OcspNonce, Online, UrlRewrite};
use kyso::pki::profile::{Bundle, Profile};
use kyso::pki::{CertPool, Certificate};
use kyso::testpki::{AuthorityNames, PkiOptions, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use kyso::verify::{Facet, Indication, Revocation, SubIndication, Verifier, VerifyOptions};

use crate::support::Signing;
use crate::support::responders::{OcspResponder, Responders};

/// The private-network hosts the Government CA's test certificates name.
const OCSP_PTC: &str = "http://ocsp.ca.ptc";
const CRL_PTC: &str = "http://crl.ca.ptc";
/// The public CA's distribution point, reached through a rewrite too (so a test can point it at
/// a server that hangs).
const CRL_VNPT: &str = "http://crl.vnpt-ca.test";

struct National {
    server: Responders,
    vgca: Signing,
    neac: Signing,
    /// OpenSSL's working directory must outlive the front that answers with it.
    _responder: OcspResponder,
    bundle: tempfile::TempDir,
    vgca_pdf: Vec<u8>,
    neac_pdf: Vec<u8>,
}

fn pem_crl_crlf(der: &[u8]) -> Vec<u8> {
    // CRLF lines, as the Windows servers of some CAs write them.
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::CRLF);
    pem::encode_config(&pem::Pem::new("X509 CRL", der.to_vec()), config).into_bytes()
}

fn sign(signing: &Signing) -> Vec<u8> {
    let options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    kyso::pades::sign(
        &sample_pdf(&SampleOptions::default()),
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec()
}

/// A manifest like `trust/vn/manifest.toml` for the test roots and the G2-shaped intermediate.
fn write_bundle(dir: &Path, vgca: &TestPki, neac: &TestPki) {
    let fingerprint =
        |der: &[u8]| hex::encode_upper(Certificate::from_der(der).unwrap().fingerprint());
    let files = [
        (
            "vgca-g2-rootcag2.pem",
            vgca.root.der(),
            vgca.root.pem(),
            "vgca",
            "anchor",
        ),
        (
            "vgca-g2-cpcag2.pem",
            vgca.intermediate.der(),
            vgca.intermediate.pem(),
            "vgca",
            "intermediate",
        ),
        (
            "vn-national-root-ca.pem",
            neac.root.der(),
            neac.root.pem(),
            "neac",
            "anchor",
        ),
    ];
    let mut manifest = String::new();
    for (file, der, pem, hierarchy, role) in files {
        std::fs::write(dir.join(file), pem).unwrap();
        manifest.push_str(&format!(
            "[[certificate]]\nfile = \"{file}\"\nname = \"{file}\"\nhierarchy = \"{hierarchy}\"\ngeneration = 2\nrole = \"{role}\"\nsha256 = \"{}\"\n\n",
            fingerprint(der)
        ));
    }
    std::fs::write(dir.join("manifest.toml"), manifest).unwrap();
}

fn national() -> National {
    let server = Responders::start();
    let vgca_pki = TestPki::new(PkiOptions {
        name: "kyso vgca".to_owned(),
        ocsp_url: Some(format!("{OCSP_PTC}/ocsp")),
        root_crl_url: Some(format!("{CRL_PTC}/rootcag2.crl")),
        authority_names: Some(AuthorityNames {
            organization: "Ban Cơ yếu Chính phủ".to_owned(),
            root: "RootCA chuyên dùng Chính phủ G2 (thử nghiệm)".to_owned(),
            intermediate: "CA phục vụ các cơ quan Nhà nước G2 (thử nghiệm)".to_owned(),
        }),
        ..PkiOptions::default()
    })
    .unwrap();
    let neac_pki = TestPki::new(PkiOptions {
        name: "kyso neac".to_owned(),
        crl_url: Some(format!("{CRL_VNPT}/vnpt-ca.crl")),
        root_crl_url: Some(server.url("/neac.crl")),
        authority_names: Some(AuthorityNames {
            organization: "Ministry of Information and Communications".to_owned(),
            root: "Vietnam National Root CA (test)".to_owned(),
            intermediate: "VNPT Certification Authority (test)".to_owned(),
        }),
        ..PkiOptions::default()
    })
    .unwrap();
    let bundle = tempfile::tempdir().unwrap();
    write_bundle(bundle.path(), &vgca_pki, &neac_pki);

    let vgca = Signing::issued_by(
        vgca_pki,
        KeyAlgorithm::P256,
        "Nguyễn Văn An",
        SignerProfile::Valid,
    );
    let neac = Signing::issued_by(
        neac_pki,
        KeyAlgorithm::P256,
        "Trần Thị Bình",
        SignerProfile::Valid,
    );
    let responder = OcspResponder::for_pki(&vgca.pki);
    server.serve_ocsp("/ocsp", &responder);
    let now = time::OffsetDateTime::now_utc();
    let week = time::Duration::days(7);
    let hour = time::Duration::hours(1);
    server.serve_file(
        "/rootcag2.crl",
        pem_crl_crlf(&vgca.pki.root_crl(now - hour, week).unwrap()),
    );
    server.serve_file(
        "/neac.crl",
        pem_crl_crlf(&neac.pki.root_crl(now - hour, week).unwrap()),
    );
    server.serve_file(
        "/vnpt-ca.crl",
        pem_crl_crlf(&neac.pki.intermediate_crl(now - hour, week).unwrap()),
    );
    let (vgca_pdf, neac_pdf) = (sign(&vgca), sign(&neac));
    National {
        server,
        vgca,
        neac,
        _responder: responder,
        bundle,
        vgca_pdf,
        neac_pdf,
    }
}

impl National {
    /// The rewrites a province would write: the private network's hosts and the public CA's
    /// distribution point, all to the loopback front.
    fn rewrite(&self) -> UrlRewrite {
        let front = self.server.url("");
        UrlRewrite::new([(OCSP_PTC, &front), (CRL_PTC, &front), (CRL_VNPT, &front)]).unwrap()
    }

    /// A verifier with the test bundle's anchors and intermediates, as `[verify] profile`
    /// loads the real one.
    fn verifier(&self, adjust: impl FnOnce(&mut VerifyOptions)) -> Verifier {
        let bundle = Bundle::from_dir(self.bundle.path()).unwrap();
        let mut anchors = Anchors::default();
        anchors.add_bundle(Profile::Vn, &bundle);
        let mut pool = CertPool::new();
        anchors.add_intermediates_to(&mut pool);
        let mut options =
            VerifyOptions::new(anchors.trust_store(), time::OffsetDateTime::now_utc());
        options.certificates = pool;
        options.fetch = FetchSettings {
            timeout: Some(Duration::from_secs(3)),
            rewrite: self.rewrite(),
            crl_cache: None,
        };
        adjust(&mut options);
        Verifier::new(options)
    }
}

fn anchor_of(report: &kyso::verify::DocumentReport) -> (String, String) {
    let anchor = report.signatures[0]
        .trust_anchor
        .as_ref()
        .unwrap_or_else(|| panic!("a trust anchor: {report:#?}"));
    (
        anchor.hierarchy.unwrap_or("none").to_owned(),
        anchor.source.clone(),
    )
}

#[test]
fn both_national_hierarchies_verify_online_and_offline() {
    let n = national();

    // Online: OCSP at ocsp.ca.ptc and the G2 root's PEM CRL at crl.ca.ptc, both rewritten.
    let verifier = n.verifier(|_| {});
    let report = verifier.verify(&n.vgca_pdf);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        anchor_of(&report),
        ("vgca".to_owned(), "bundle vn".to_owned())
    );
    let signature = &report.signatures[0];
    let anchor = signature.trust_anchor.as_ref().unwrap();
    assert_eq!(
        anchor.hierarchy_name,
        Some("Government CA (Ban Cơ yếu Chính phủ)")
    );
    assert!(
        anchor.subject.contains("RootCA chuyên dùng Chính phủ G2"),
        "{anchor:?}"
    );
    let revocation: Vec<&str> = signature
        .chain
        .iter()
        .map(|c| c.revocation.as_str())
        .collect();
    assert_eq!(
        revocation,
        ["good (ocsp)", "good (crl)", "not established"],
        "the signer by OCSP, the G2 CA by the root's PEM CRL"
    );

    let words = kyso::verify::text::render(&report, kyso::verify::text::Language::Vietnamese);
    assert!(
        words.contains("Gốc tin cậy: CA chuyên dùng Chính phủ (Ban Cơ yếu Chính phủ)"),
        "{words}"
    );
    let words = kyso::verify::text::render(&report, kyso::verify::text::Language::English);
    assert!(
        words.contains("Trust anchor: Government CA (Ban Cơ yếu Chính phủ)"),
        "{words}"
    );

    // The other hierarchy, by the same verifier: PEM CRLs for the signer and its CA.
    let report = verifier.verify(&n.neac_pdf);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert_eq!(
        anchor_of(&report),
        ("neac".to_owned(), "bundle vn".to_owned())
    );
    assert_eq!(
        report.signatures[0]
            .trust_anchor
            .as_ref()
            .unwrap()
            .hierarchy_name_vi,
        Some("CA gốc quốc gia (NEAC, Bộ Thông tin và Truyền thông)")
    );

    // Without the rewrite the private network's host is out of reach: could not check.
    let unrewritten = n.verifier(|o| {
        o.fetch.rewrite = UrlRewrite::new([(CRL_PTC, n.server.url(""))]).unwrap();
        o.fetch.timeout = Some(Duration::from_secs(2));
    });
    let report = unrewritten.verify(&n.vgca_pdf);
    assert_eq!(report.indication, Indication::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some(SubIndication::TryLater));
    assert!(report.signatures[0].trust_anchor.is_none());

    // Offline: the PEM CRL files given, nothing fetched.
    let crls = |signing: &Signing| {
        let now = time::OffsetDateTime::now_utc();
        let week = time::Duration::days(7);
        let mut out = Vec::new();
        for der in [
            signing
                .pki
                .intermediate_crl(now - time::Duration::hours(1), week)
                .unwrap(),
            signing
                .pki
                .root_crl(now - time::Duration::hours(1), week)
                .unwrap(),
        ] {
            out.extend(kyso::pki::crl::Crl::from_pem_or_der(&pem_crl_crlf(&der)).unwrap());
        }
        out
    };
    let (vgca_crls, neac_crls) = (crls(&n.vgca), crls(&n.neac));
    let National {
        server,
        vgca_pdf,
        neac_pdf,
        ..
    } = &n;
    let served = server.served();
    let offline = n.verifier(|o| {
        o.revocation = Revocation::Offline;
        for crl in vgca_crls.into_iter().chain(neac_crls) {
            o.evidence.add_crl(crl);
        }
    });
    for (pdf, hierarchy) in [(vgca_pdf, "vgca"), (neac_pdf, "neac")] {
        let report = offline.verify(pdf);
        assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
        assert_eq!(anchor_of(&report).0, hierarchy);
        assert_eq!(report.signatures[0].revocation, Facet::Passed);
    }
    assert_eq!(server.served(), served, "offline fetches nothing");

    // The same documents with the G2 root left out of the bundle: no chain.
    let report = n
        .verifier(|o| o.trust = kyso::pki::TrustStore::new())
        .verify(&n.vgca_pdf);
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::NoCertificateChainFound)
    );
}

#[test]
fn a_hanging_distribution_point_costs_a_bounded_time_and_the_last_good_crl_stands_in() {
    let n = national();
    let cache = tempfile::tempdir().unwrap();
    // A server that accepts connections and never answers.
    let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!("http://{}", hanging.local_addr().unwrap());
    let to_hanging = || {
        let front = n.server.url("");
        UrlRewrite::new([
            (OCSP_PTC, &front),
            (CRL_PTC, &front),
            (CRL_VNPT, &hanging_url),
        ])
        .unwrap()
    };

    // First run: the public CA's CRL is fetched (PEM) and kept on disk.
    let first = n.verifier(|o| o.fetch.crl_cache = Some(cache.path().to_owned()));
    let report = first.verify(&n.neac_pdf);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert!(
        std::fs::read_dir(cache.path()).unwrap().count() >= 2,
        "the CA's and the root's CRLs are kept"
    );

    // A later run (a new verifier, as the next `kyso verify` or a rebuilt service verifier),
    // the distribution point now hanging: the last good CRL is used, nothing waits.
    let later = n.verifier(|o| {
        o.fetch.crl_cache = Some(cache.path().to_owned());
        o.fetch.rewrite = to_hanging();
        o.fetch.timeout = Some(Duration::from_secs(2));
    });
    let started = Instant::now();
    let report = later.verify(&n.neac_pdf);
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Without a kept CRL the hanging point costs one deadline, then: could not check.
    let uncached = n.verifier(|o| {
        o.fetch.rewrite = to_hanging();
        o.fetch.timeout = Some(Duration::from_secs(1));
    });
    let started = Instant::now();
    let report = uncached.verify(&n.neac_pdf);
    let elapsed = started.elapsed();
    assert_eq!(
        report.sub_indication,
        Some(SubIndication::TryLater),
        "{report:#?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(6),
        "bounded by the deadline: {elapsed:?}"
    );
    assert!(
        report.signatures[0]
            .reasons
            .iter()
            .any(|r| r.to_string().contains("crl.vnpt-ca.test")),
        "the certificate's own URL is named: {report:#?}"
    );

    // Past its nextUpdate the kept CRL is no longer used: the fetch is tried (and hangs).
    fn in_a_fortnight() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + time::Duration::days(14)
    }
    let url = format!("{CRL_VNPT}/vnpt-ca.crl");
    let settings = FetchSettings {
        timeout: Some(Duration::from_secs(1)),
        rewrite: to_hanging(),
        crl_cache: Some(cache.path().to_owned()),
    };
    let fresh = Online::configured(Duration::from_secs(1), OcspNonce::Optional, &settings);
    assert!(fresh.fetch_crl(&url).is_ok(), "kept and fresh");
    let stale = Online::configured(Duration::from_secs(1), OcspNonce::Optional, &settings)
        .with_clock(in_a_fortnight);
    let started = Instant::now();
    let err = stale.fetch_crl(&url).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("crl.vnpt-ca.test"), "{err}");
    drop(hanging);
}

/// The operator's path: `kyso trust list` shows the embedded bundle; an anchor added with `kyso
/// trust add` is used by `kyso verify` (online, through `[revocation.rewrite]` in kyso.toml)
/// and named in the report; removed, it is not.
#[test]
fn the_cli_lists_adds_removes_and_verifies_through_the_rewrite() {
    let n = national();
    let dir = tempfile::tempdir().unwrap();
    let front = n.server.url("");
    let config = dir.path().join("kyso.toml");
    std::fs::write(
        &config,
        format!(
            "[verify]\nprofile = \"vn\"\ntrust_dir = \"{}\"\n\n[revocation]\ntimeout_secs = 3\n\n[revocation.rewrite]\n\"{OCSP_PTC}\" = \"{front}\"\n\"{CRL_PTC}\" = \"{front}\"\n",
            dir.path().join("trust").display()
        ),
    )
    .unwrap();
    let kyso = |args: &[&str]| {
        let out = crate::cli::kyso()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), crate::cli::text(&out))
    };
    let json = |text: &str| -> serde_json::Value {
        // Stdout's JSON first; whatever stderr adds after it is not part of it.
        serde_json::Deserializer::from_str(&text[text.find(['[', '{']).unwrap()..])
            .into_iter::<serde_json::Value>()
            .next()
            .unwrap()
            .unwrap()
    };

    let (code, out) = kyso(&["trust", "list", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let list = json(&out);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 10, "{out}");
    let g2 = list
        .iter()
        .find(|e| e["sha256"] == "F04BA4B459A7C9A1B971AD9B1CB833E695A80C79AEA63B174B66A70EDFE2FDB8")
        .expect("RootCA G2 is listed");
    assert_eq!(g2["source"], "bundle vn");
    assert_eq!(g2["hierarchy"], "vgca");
    assert_eq!(g2["not_after"], "2048-08-14T07:36:39Z");
    let (code, out) = kyso(&["trust", "list", "--lang", "vi"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Vietnam National Root CA"), "{out}");
    assert!(out.contains("CA gốc quốc gia"), "{out}");

    // The test G2 root is not the real one: no chain until the user adds it.
    let pdf = dir.path().join("vgca.pdf");
    std::fs::write(&pdf, &n.vgca_pdf).unwrap();
    let pdf = pdf.to_str().unwrap();
    let (code, out) = kyso(&["verify", "--json", pdf]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        json(&out)["report"]["subindication"],
        "NO_CERTIFICATE_CHAIN_FOUND",
        "{out}"
    );

    // A file with a signer's certificate beside the root adds nothing.
    let mixed = dir.path().join("mixed.pem");
    let leaf = pem::encode(&pem::Pem::new("CERTIFICATE", n.vgca.certificate.clone()));
    std::fs::write(&mixed, format!("{}{leaf}", n.vgca.pki.root.pem())).unwrap();
    let (code, out) = kyso(&["trust", "add", mixed.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not a CA certificate"), "{out}");
    let (_, out) = kyso(&["trust", "list", "--json"]);
    assert_eq!(json(&out).as_array().unwrap().len(), 10, "{out}");

    let root = dir.path().join("root.pem");
    std::fs::write(&root, n.vgca.pki.root.pem()).unwrap();
    let (code, out) = kyso(&["trust", "add", root.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = kyso(&["verify", "--json", pdf]);
    assert_eq!(code, Some(0), "{out}");
    let report = json(&out);
    let signature = &report["report"]["signatures"][0];
    assert_eq!(signature["trust_anchor"]["source"], "user", "{out}");
    assert_eq!(
        signature["trust_anchor"]["hierarchy"],
        serde_json::Value::Null
    );
    assert_eq!(signature["chain"][0]["revocation"], "good (ocsp)", "{out}");

    let fingerprint = hex::encode(
        Certificate::from_der(n.vgca.pki.root.der())
            .unwrap()
            .fingerprint(),
    );
    let (code, out) = kyso(&["trust", "show", &fingerprint[..12]]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("RootCA chuyên dùng Chính phủ G2 (thử nghiệm)"),
        "{out}"
    );
    let (code, out) = kyso(&["trust", "remove", &fingerprint[..12]]);
    assert_eq!(code, Some(2), "a prefix is not enough to remove: {out}");
    let (code, out) = kyso(&["trust", "remove", &fingerprint]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = kyso(&["verify", "--json", pdf]);
    assert_eq!(code, Some(1), "{out}");

    // A bundle anchor removed is listed as removed and trusted by nothing.
    let (code, out) = kyso(&[
        "trust",
        "remove",
        "BAC8BF609AB420A8EE1780D74F4DE5C7F7184959D2A7375B0A75E4C29F0908E7",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out) = kyso(&["trust", "list", "--json"]);
    let list = json(&out);
    let removed: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["removed"] == true)
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(removed, ["Vietnam National Root CA"], "{out}");
}
