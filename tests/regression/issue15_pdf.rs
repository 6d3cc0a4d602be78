//! Issue 15, PDF verdicts that real documents bent: RSASSA-PSS at any salt length (1), a
//! signer without keyUsage (5), integrity before algorithm policy (5b), `adbe.pkcs7.sha1` (5c),
//! and PSS-signed certificates, CRLs and OCSP responses (1).

use std::process::Command;

use kyso::pki::{
    AlgorithmPolicy, CertPool, Certificate, Evidence, RevocationCheck, RevocationPolicy,
    RevocationStatus, TrustStore, UnknownRevocation, ValidationPolicy, Validator,
};
use kyso::pki::{crl::Crl, ocsp::OcspResponse};
use kyso::testpki::SignerProfile;
use kyso::token::KeyAlgorithm;
use kyso::verify::{Facet, Indication, SubIndication};

use super::external_pdf::{
    PeerPki, SubFilter, declared_salt, last_contents, openssl_cms, openssl_pkcs7_sha1,
    pdf_signed_by, pyhanko_pss,
};
use crate::support::{run, verifier_with};

/// RSA-2048 with SHA-256: emLen 256 − hLen 32 − 2.
const MAX_SALT_2048: u64 = 222;

#[test]
fn rsassa_pss_from_openssl_at_salt_lengths_0_32_and_maximum_is_total_passed() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let verifier = pki.verifier();
    for (salt, opt) in [(0, "0"), (32, "32"), (MAX_SALT_2048, "max")] {
        let pdf = pdf_signed_by(SubFilter::CadesDetached, |content| {
            let cms = openssl_cms(
                &pki,
                content,
                "sha256",
                &["rsa_padding_mode:pss", &format!("rsa_pss_saltlen:{opt}")],
            );
            assert_eq!(
                declared_salt(&cms),
                salt,
                "OpenSSL wrote the salt asked for"
            );
            cms
        });
        let report = verifier.verify(&pdf);
        let sig = &report.signatures[0];
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "salt {salt}: {sig:#?}"
        );
        assert_eq!(sig.signature_algorithm.as_deref(), Some("RSA-PSS"));
        assert_eq!(sig.format, "PAdES-B-B", "-cades adds signingCertificateV2");

        // The same file with one signed byte changed: HASH_FAILURE, not a PSS complaint.
        let mut tampered = pdf.clone();
        let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
        tampered[at] ^= 0x20;
        let report = verifier.verify(&tampered);
        assert_eq!(
            report.signatures[0].sub_indication,
            Some(SubIndication::HashFailure),
            "salt {salt}"
        );
    }
}

#[test]
fn rsassa_pss_from_pyhanko_at_salt_lengths_0_32_and_maximum_is_total_passed() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let verifier = pki.verifier();
    let plain = pki.path("plain.pdf");
    std::fs::write(
        &plain,
        kyso::pdf::sample::sample_pdf(&kyso::pdf::sample::SampleOptions::default()),
    )
    .unwrap();
    for (salt, asked) in [(MAX_SALT_2048, None), (0, Some(0)), (32, Some(32))] {
        let out = pki.path(&format!("pss-{salt}.pdf"));
        pyhanko_pss(&pki, &plain, &out, asked);
        let pdf = std::fs::read(&out).unwrap();
        assert_eq!(declared_salt(&der_prefix(&last_contents(&pdf))), salt);
        let report = verifier.verify(&pdf);
        assert_eq!(
            report.indication,
            Indication::TotalPassed,
            "pyHanko salt {salt}: {:#?}",
            report.signatures
        );
        assert_eq!(
            report.signatures[0].signature_algorithm.as_deref(),
            Some("RSA-PSS")
        );
    }
}

#[test]
fn rsassa_pss_with_an_mgf1_hash_other_than_the_message_hash_is_refused_with_that_reason() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let pdf = pdf_signed_by(SubFilter::CadesDetached, |content| {
        openssl_cms(
            &pki,
            content,
            "sha256",
            &["rsa_padding_mode:pss", "rsa_mgf1_md:sha512"],
        )
    });
    let report = pki.verifier().verify(&pdf);
    let sig = &report.signatures[0];
    assert_eq!(
        (sig.indication, sig.sub_indication),
        (
            Indication::Indeterminate,
            Some(SubIndication::CryptoConstraintsFailure)
        ),
        "{sig:#?}"
    );
    assert!(
        sig.reasons[0].to_string().contains("MGF1"),
        "{:#?}",
        sig.reasons
    );
}

/// Certificates, CRLs and OCSP responses signed with RSASSA-PSS at salt lengths 0, 32 and the
/// maximum, by OpenSSL: the path validates and both kinds of revocation evidence count.
#[test]
fn pss_signed_certificates_crls_and_ocsp_responses_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("ca.cnf"),
        "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=unused\n\
         [root]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n\
         [leaf]\nkeyUsage=critical,digitalSignature,nonRepudiation\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n\
         [ca]\ndefault_ca=pss\n[pss]\ndatabase=index.txt\ndefault_md=sha256\ndefault_crl_days=7\ncrlnumber=crlnumber\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(d));
    let pss = |salt: &'static str| {
        [
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            Box::leak(format!("rsa_pss_saltlen:{salt}").into_boxed_str()),
        ]
    };
    openssl(&["genrsa", "-out", "root.key", "2048"]);
    let mut args = vec![
        "req",
        "-x509",
        "-new",
        "-key",
        "root.key",
        "-sha256",
        "-days",
        "30",
        "-subj",
        "/CN=PSS Root",
        "-config",
        "ca.cnf",
        "-extensions",
        "root",
        "-out",
        "root.pem",
    ];
    args.extend(pss("0"));
    openssl(&args);
    openssl(&["genrsa", "-out", "leaf.key", "2048"]);
    openssl(&[
        "req",
        "-new",
        "-key",
        "leaf.key",
        "-subj",
        "/CN=PSS signer",
        "-config",
        "ca.cnf",
        "-out",
        "leaf.csr",
    ]);
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-set_serial",
        "4660",
        "-days",
        "20",
        "-sha256",
        "-extfile",
        "ca.cnf",
        "-extensions",
        "leaf",
        "-out",
        "leaf.pem",
    ];
    args.extend(pss("max"));
    openssl(&args);
    let mut args = vec![
        "ca",
        "-gencrl",
        "-config",
        "ca.cnf",
        "-keyfile",
        "root.key",
        "-cert",
        "root.pem",
        "-out",
        "root.crl.pem",
    ];
    args.extend(pss("32"));
    openssl(&args);
    openssl(&[
        "ocsp",
        "-issuer",
        "root.pem",
        "-cert",
        "leaf.pem",
        "-no_nonce",
        "-reqout",
        "req.der",
    ]);
    let expiry = "300101000000Z";
    std::fs::write(
        d.join("index.txt"),
        format!("V\t{expiry}\t\t1234\tunknown\t/CN=PSS signer\n"),
    )
    .unwrap();
    openssl(&[
        "ocsp",
        "-index",
        "index.txt",
        "-rsigner",
        "root.pem",
        "-rkey",
        "root.key",
        "-CA",
        "root.pem",
        "-reqin",
        "req.der",
        "-respout",
        "resp.der",
        "-rsigopt",
        "rsa_padding_mode:pss",
        "-rsigopt",
        "rsa_pss_saltlen:max",
    ]);
    let print = |what: &str, file: &str| {
        run(Command::new("openssl")
            .args([what, "-noout", "-text", "-in", file])
            .current_dir(d))
    };
    assert!(print("x509", "leaf.pem").contains("rsassaPss"));
    assert!(print("crl", "root.crl.pem").contains("rsassaPss"));

    let read = |f: &str| std::fs::read(d.join(f)).unwrap();
    let root = Certificate::from_pem_or_der(&read("root.pem"))
        .unwrap()
        .remove(0);
    let leaf = Certificate::from_pem_or_der(&read("leaf.pem"))
        .unwrap()
        .remove(0);
    let validate = |evidence: &Evidence| {
        let mut anchors = TrustStore::new();
        anchors.add(root.clone());
        let validator = Validator::new(
            anchors,
            CertPool::new(),
            ValidationPolicy {
                revocation: RevocationPolicy {
                    check: RevocationCheck::EndEntityOnly,
                    unknown: UnknownRevocation::Deny,
                },
                ..ValidationPolicy::default()
            },
        );
        let at = leaf.not_before() + time::Duration::hours(1);
        validator.validate(&leaf, &[], at, &[evidence])
    };
    let mut by_crl = Evidence::new();
    for crl in Crl::from_pem_or_der(&read("root.crl.pem")).unwrap() {
        by_crl.add_crl(crl);
    }
    let chain = validate(&by_crl).expect("PSS certificates and a PSS CRL");
    assert!(matches!(
        chain.revocation()[0],
        RevocationStatus::Good { .. }
    ));
    let mut by_ocsp = Evidence::new();
    by_ocsp.add_ocsp(OcspResponse::from_der(&read("resp.der")).unwrap());
    let chain = validate(&by_ocsp).expect("a PSS-signed OCSP response");
    assert!(
        matches!(chain.revocation()[0], RevocationStatus::Good { .. }),
        "{:?}",
        chain.revocation()
    );
}

/// Issue 15 (5): RFC 5280 puts no restriction on a key whose certificate has no keyUsage.
#[test]
fn a_signer_without_key_usage_passes_with_a_warning_unless_policy_requires_it() {
    let pki = PeerPki::new(KeyAlgorithm::P256, SignerProfile::NoKeyUsage);
    let pdf = pdf_signed_by(SubFilter::CadesDetached, |content| {
        openssl_cms(&pki, content, "sha256", &[])
    });
    let report = pki.verifier().verify(&pdf);
    let sig = &report.signatures[0];
    assert_eq!(report.indication, Indication::TotalPassed, "{sig:#?}");
    assert!(
        sig.warnings
            .iter()
            .any(|w| w.to_string().contains("no keyUsage")),
        "{:#?}",
        sig.warnings
    );

    let strict = verifier_with(pki.dir.path(), |o| {
        o.signer_key_usage = kyso::pki::SignerKeyUsage::Required;
    });
    let report = strict.verify(&pdf);
    let sig = &report.signatures[0];
    assert_eq!(
        sig.sub_indication,
        Some(SubIndication::ChainConstraintsFailure),
        "{sig:#?}"
    );
    assert!(
        sig.reasons
            .iter()
            .any(|r| r.to_string().contains("keyUsage"))
    );
}

/// Issue 15 (5b): a SHA-1 signature is checked before the policy speaks: tampered is
/// TOTAL-FAILED / HASH_FAILURE, intact is INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE
/// with `intact: passed`. Before, both read CRYPTO_CONSTRAINTS_FAILURE with intact undetermined.
#[test]
fn sha1_and_1024_bit_signatures_are_checked_for_integrity_before_the_policy() {
    let rsa = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let sha1 = pdf_signed_by(SubFilter::CadesDetached, |content| {
        openssl_cms(&rsa, content, "sha1", &[])
    });
    let small = PeerPki::with_openssl_rsa_1024();
    let rsa1024 = pdf_signed_by(SubFilter::CadesDetached, |content| {
        openssl_cms(&small, content, "sha256", &[])
    });
    for (name, pki, pdf, words) in [
        ("SHA-1", &rsa, &sha1, "SHA-1"),
        ("RSA-1024", &small, &rsa1024, "1024-bit"),
    ] {
        let verifier = pki.verifier();
        let report = verifier.verify(pdf);
        let sig = &report.signatures[0];
        assert_eq!(
            (sig.indication, sig.sub_indication),
            (
                Indication::Indeterminate,
                Some(SubIndication::CryptoConstraintsFailureNoPoe)
            ),
            "{name}: {sig:#?}"
        );
        assert_eq!(sig.intact, Facet::Passed, "{name}");
        assert_eq!(sig.signature_valid, Facet::Passed, "{name}");
        assert!(
            sig.reasons[0].to_string().contains(words),
            "{name}: {:#?}",
            sig.reasons
        );

        let mut tampered = pdf.clone();
        let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
        tampered[at] ^= 0x20;
        let report = verifier.verify(&tampered);
        let sig = &report.signatures[0];
        assert_eq!(
            (sig.indication, sig.sub_indication),
            (Indication::TotalFailed, Some(SubIndication::HashFailure)),
            "{name} tampered: {sig:#?}"
        );
        assert_eq!(sig.intact, Facet::Failed);

        // Under the legacy policy the same intact signature passes.
        let legacy = verifier_with(pki.dir.path(), |o| {
            o.algorithms = AlgorithmPolicy::DangerouslyAllowLegacy;
        });
        assert_eq!(
            legacy.verify(pdf).indication,
            Indication::TotalPassed,
            "{name} under the legacy policy"
        );
    }
}

/// Issue 15 (5c): `adbe.pkcs7.sha1` is verified like the others: the encapsulated SHA-1
/// digest against the byte ranges, then the signature over it, then the policy.
#[test]
fn adbe_pkcs7_sha1_signatures_are_verified() {
    let pki = PeerPki::new(KeyAlgorithm::Rsa2048, SignerProfile::Valid);
    let pdf = pdf_signed_by(SubFilter::Pkcs7Sha1, |content| {
        openssl_pkcs7_sha1(&pki, content)
    });
    let report = pki.verifier().verify(&pdf);
    let sig = &report.signatures[0];
    assert_eq!(sig.format, "PKCS#7 (adbe.pkcs7.sha1)");
    assert_eq!(sig.intact, Facet::Passed, "{sig:#?}");
    assert_eq!(sig.signature_valid, Facet::Passed, "{sig:#?}");
    assert_eq!(
        sig.sub_indication,
        Some(SubIndication::CryptoConstraintsFailureNoPoe),
        "{sig:#?}"
    );
    let legacy = verifier_with(pki.dir.path(), |o| {
        o.algorithms = AlgorithmPolicy::DangerouslyAllowLegacy;
    });
    assert_eq!(legacy.verify(&pdf).indication, Indication::TotalPassed);

    let mut tampered = pdf.clone();
    let at = tampered.windows(5).position(|w| w == b"Trang").unwrap();
    tampered[at] ^= 0x20;
    let sig = &legacy.verify(&tampered).signatures[0];
    assert_eq!(
        (sig.indication, sig.sub_indication),
        (Indication::TotalFailed, Some(SubIndication::HashFailure)),
        "{sig:#?}"
    );
}

impl PeerPki {
    /// A root and intermediate from the test PKI, and a 1024-bit RSA signer certified by the
    /// intermediate with OpenSSL (rcgen refuses to make keys that small).
    fn with_openssl_rsa_1024() -> PeerPki {
        let peer = PeerPki::new(KeyAlgorithm::P256, SignerProfile::Valid);
        let d = peer.dir.path();
        let pki = kyso::testpki::TestPki::new(kyso::testpki::PkiOptions::default()).unwrap();
        pki.write_authorities(d).unwrap();
        std::fs::write(d.join("intermediate.key.pem"), pki.intermediate.key_pem()).unwrap();
        std::fs::write(
            d.join("leaf.cnf"),
            "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=unused\n\
             [leaf]\nkeyUsage=critical,digitalSignature,nonRepudiation\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(d));
        openssl(&["genrsa", "-out", "signer.key.pem", "1024"]);
        openssl(&[
            "req",
            "-new",
            "-key",
            "signer.key.pem",
            "-subj",
            "/CN=Lê Văn Cũ/O=UBND tỉnh Thử Nghiệm",
            "-utf8",
            "-config",
            "leaf.cnf",
            "-out",
            "signer.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "signer.csr",
            "-CA",
            "intermediate.pem",
            "-CAkey",
            "intermediate.key.pem",
            "-set_serial",
            "777",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            "leaf.cnf",
            "-extensions",
            "leaf",
            "-out",
            "signer.pem",
        ]);
        peer
    }
}

/// The DER value at the start of `bytes` (a PDF's `/Contents` is zero-padded after it).
fn der_prefix(bytes: &[u8]) -> Vec<u8> {
    let (_, rest) = kyso::ber::parse(bytes).unwrap();
    bytes[..bytes.len() - rest.len()].to_vec()
}
