//! PAdES conformance: every PDF of `dss-pades/` (with `etsi-plugtests/`) and
//! `pdf-certification-attacks/` gets the verdict its README names, read from
//! `KYSO_CONFORMANCE_DIR` (default `../shared/conformance` beside the crate; nothing is copied in).
//!
//! How the verdicts map. These files are signed by certificates kyso has no reason to trust,
//! mostly expired long ago, and carry little revocation evidence. As in the pyHanko reference
//! run, the trust anchors are the certificates inside each file's CMS structures (signatures and
//! their timestamp tokens), revocation is `offline`, and the time is now. So kyso cannot (and
//! must not) say TOTAL-PASSED for most of them; what the suites test is the document, not the
//! trust. A README's **VALID** therefore maps to: intact, signature value valid, changes
//! permitted, coverage a whole revision, and an indication that is TOTAL-PASSED or INDETERMINATE
//! for a trust reason only (NO_CERTIFICATE_CHAIN_FOUND, TRY_LATER, OUT_OF_BOUNDS_NO_POE,
//! REVOKED_NO_POE, CHAIN_CONSTRAINTS_FAILURE) — never TOTAL-FAILED. **REJECT/INVALID** maps to:
//! not VALID in that sense (a format, hash or signature failure, or a change not permitted).
//! **WARN** maps to a VALID signature whose report carries warnings, or a rejection.
//!
//! Algorithms: many of these files are 2014–2020 vintage and use SHA-1, which kyso refuses by
//! default (INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE). DSS and pyHanko accept it here, so the
//! README verdicts are checked with `AlgorithmPolicy::DangerouslyAllowLegacy`, and the default
//! policy is checked separately: it may only be stricter (never TOTAL-PASSED where the legacy run
//! is not), and every difference is a CRYPTO_CONSTRAINTS_FAILURE.
//!
//! `pyhanko-0.38.0-reference.json` beside each suite is compared signature by signature, and the
//! places where kyso is stricter (or laxer) than pyHanko are printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kyso::pdf::{Document, IncrementalUpdate, Object, find_signatures};
use kyso::pki::{AlgorithmPolicy, Certificate, TrustStore};
use kyso::verify::{
    Coverage, DocumentReport, Facet, Indication, SignatureReport, SubIndication, Verifier,
    VerifyOptions,
};

/// What a README says about a file.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Every signature valid in the mapped sense.
    Valid,
    /// Valid, and the report says what changed (DSS's "VALID with warning").
    ValidWithWarning,
    /// At least one signature not valid.
    Reject,
    /// Rejected, or valid with a warning.
    RejectOrWarn,
    /// No signature at all.
    NoSignature,
    /// Rejected, or not recognised as PAdES (kyso names the format).
    RejectOrNotPades,
    /// Not PAdES, and not TOTAL-PASSED.
    NotPadesIndeterminate,
    /// The signatures are intact and their values valid (plugtest differential testing).
    Intact,
    /// The named signatures get their own verdicts; others are only reported.
    PerSignature(&'static [(&'static str, Expect)]),
    /// Disputed between validators: any verdict but a silent pass (valid *and* no warning).
    Disputed,
}

struct Case {
    file: &'static str,
    expect: Expect,
    /// Why kyso's verdict differs from DSS's or pyHanko's, where it does on purpose.
    note: &'static str,
}

const DSS_PADES: &[Case] = &[
    Case {
        file: "dss-2236_hide.pdf",
        expect: Expect::Reject,
        note: "the update points object 6 at object 8's bytes (\"object cannot be read\") and changes page 1",
    },
    Case {
        file: "dss-2236_replace.pdf",
        expect: Expect::RejectOrWarn,
        note: "pyHanko calls this FORM_FILLING; kyso sees the widget's appearance regenerated while /V stayed as signed (shadow replace)",
    },
    Case {
        file: "dss-2236_annotation-and-visible-change.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "pdf-byterange-overlap.pdf",
        expect: Expect::PerSignature(&[
            ("Signature1", Expect::Valid),
            ("Signature2", Expect::Reject),
        ]),
        note: "",
    },
    Case {
        file: "pdf-spoofing-attack.pdf",
        expect: Expect::RejectOrWarn,
        note: "pyHanko cannot parse it; kyso reads it and rejects the shadow dictionary",
    },
    Case {
        file: "pades-spoofing-replaced-reason.pdf",
        expect: Expect::RejectOrWarn,
        note: "",
    },
    Case {
        file: "pdf-removed-pages.pdf",
        expect: Expect::Reject,
        note: "DSS names the removed pages; kyso names them too, and first fails on the non-zero bytes after the CMS in /Contents, which pyHanko ignores",
    },
    Case {
        file: "pdf-signed-added-page.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "modified_after_signature.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "pdf-eof.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "pades-signed-annot-added.pdf",
        expect: Expect::ValidWithWarning,
        note: "pyHanko calls the catalog's new /Names /AP tree OTHER; kyso (like DSS) explains it as annotation appearance names",
    },
    Case {
        file: "pades-signed-filled-form.pdf",
        expect: Expect::ValidWithWarning,
        note: "kyso also reports the Adobe usage-rights (UR3) signature that no field holds; it is not part of the verdict. pyHanko calls the filling OTHER; kyso explains each field's new /V, /I and appearance",
    },
    Case {
        file: "pades-multiple-pages-annots-overlap.pdf",
        expect: Expect::RejectOrWarn,
        note: "",
    },
    Case {
        file: "pdf-double-signer-info.pdf",
        expect: Expect::RejectOrNotPades,
        note: "",
    },
    Case {
        file: "pkcs7-no-message-digest.pdf",
        expect: Expect::NotPadesIndeterminate,
        note: "",
    },
    Case {
        file: "BadEncodedCMS.pdf",
        // The README says REJECT because DSS cannot read the CMS: the signer certificate's
        // serial is a non-minimal INTEGER (BER, not DER). kyso reads it as OpenSSL does, and
        // integrity comes before algorithm policy (issue 15, 5b): the ECDSA-with-SHA-1 value
        // verifies, so the signature is intact; it is still never TOTAL-PASSED (its certificate
        // expired in 2016, and SHA-1 is below the default policy: CRYPTO_CONSTRAINTS_FAILURE_NO_POE).
        expect: Expect::Intact,
        note: "DSS cannot read the CMS (a non-DER certificate serial); kyso reads it: intact ECDSA-SHA-1, expired signer, SHA-1 below the default policy",
    },
    Case {
        file: "pdf-with-empty-sig.pdf",
        expect: Expect::NoSignature,
        note: "",
    },
    Case {
        file: "signature-referenced-from-multiple-fields.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "pades-enveloping-other-pdf.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "pades-bes.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "PAdES-LT.pdf",
        expect: Expect::Valid,
        note: "pyHanko calls Signature4's last revision OTHER; kyso explains it as a DSS update",
    },
    Case {
        file: "dss-2554_certified-no-change-permitted.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "dss-2554_certified-changes-permitted.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "dss-2554_fieldmdp-include.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "dss-2554_fieldmdp-exclude-signed.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "dss-2554_fieldmdp-exclude.pdf",
        expect: Expect::NoSignature,
        note: "",
    },
];

const ETSI_PLUGTESTS: &[Case] = &[
    Case {
        file: "Signature-P-BG_BOR-1.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-BG_BOR-2.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-DE_CRY-2_HASH_FAILURE.pdf",
        expect: Expect::Intact,
        note: "pyHanko says valid=False; kyso and `openssl cms -verify` find the messageDigest and the RSA signature over the signed attributes correct",
    },
    Case {
        file: "Signature-P-DE_SCI-4.pdf",
        expect: Expect::Intact,
        note: "the document timestamp's revision replaces the page's /Resources: kyso, like pyHanko, does not permit that after the first signature",
    },
    Case {
        file: "Signature-P-FR_CS-5.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-HU_MIC-1.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-HU_MIC-3.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-HU_NET-2.pdf",
        expect: Expect::Intact,
        note: "the CMS names sha256WithRSAEncryption as its digest algorithm; kyso, like DSS, reads it as SHA-256 (pyHanko fails)",
    },
    Case {
        file: "Signature-P-HU_POL-3.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-HU_POL-7.pdf",
        expect: Expect::Intact,
        note: "pyHanko calls the last revision (a new DSS replacing the old one, and a document timestamp) OTHER for the second signature; kyso explains every object of it",
    },
    Case {
        file: "Signature-P-IT_ADO-1_HASH_FAILURE_ECDSA.pdf",
        expect: Expect::Intact,
        note: "",
    },
    Case {
        file: "Signature-P-SK-1_HASH_FAILURE.pdf",
        expect: Expect::Intact,
        note: "",
    },
];

const CERTIFICATION_ATTACKS: &[Case] = &[
    Case {
        file: "PDFDocs_minimal_cert.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "PDFDocs_minimal_cert_invalid.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "PDFSigner_shadowed-certified-visible.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "PDFSigner_signed_fieldmdp.pdf",
        expect: Expect::NoSignature,
        note: "",
    },
    Case {
        file: "ex1_01_Test_cert_p2_original.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "ex2_01_NDA_cert_p2_original.pdf",
        expect: Expect::Valid,
        note: "",
    },
    Case {
        file: "ex1_02_Test_cert_p2_sign_original.pdf",
        expect: Expect::PerSignature(&[
            ("Signature4", Expect::Valid),
            ("Signature3", Expect::Disputed),
        ]),
        note: "Acrobat's signing edited the shared Helvetica font object (removed /Name): kyso, like pyHanko, does not permit a font change under P=2",
    },
    Case {
        file: "ex2_02_NDA_cert_p2_sign_original.pdf",
        expect: Expect::PerSignature(&[
            ("Signature", Expect::Valid),
            ("Signature4", Expect::Disputed),
        ]),
        note: "the signing revision adds the signed field's widget to the page and an empty full-page signature field without appearance; kyso permits both under P=2 (pyHanko: OTHER) and warns about the newly shown signature appearance",
    },
    Case {
        file: "ex1_03_Test_cert_p2_sign_manipulate.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "ex2_03_NDA_cert_p2_sign_manipulate.pdf",
        expect: Expect::Reject,
        note: "",
    },
    Case {
        file: "ex2_04_NDA_cert_p2_sign_sign_manipulate.pdf",
        expect: Expect::PerSignature(&[("Signature4", Expect::Reject)]),
        note: "",
    },
];

#[test]
fn dss_pades_files_get_their_readme_verdicts() {
    run_suite("dss-pades", &root().join("dss-pades"), DSS_PADES);
}

#[test]
fn etsi_plugtest_files_get_their_readme_verdicts() {
    run_suite(
        "dss-pades/etsi-plugtests",
        &root().join("dss-pades/etsi-plugtests"),
        ETSI_PLUGTESTS,
    );
}

#[test]
fn certification_attack_files_get_their_readme_verdicts() {
    run_suite(
        "pdf-certification-attacks",
        &root().join("pdf-certification-attacks"),
        CERTIFICATION_ATTACKS,
    );
}

/// A certified P=1 document stays valid untouched and is rejected once anything but validation
/// data is added; the FieldMDP fixtures reject a change to their locked fields.
#[test]
fn certified_and_locked_dss_files_reject_later_changes() {
    let dir = root().join("dss-pades");
    let bytes = std::fs::read(dir.join("dss-2554_certified-no-change-permitted.pdf")).unwrap();
    let changed = append(&bytes, |doc, update| {
        let info = update.allocate();
        update.put(
            info,
            kyso::pdf_dict! { b"Title" => Object::literal(b"changed".to_vec()) },
        );
        // A new page-level annotation: not validation data.
        let page = doc.pages().unwrap()[0];
        let mut dict = doc.dictionary(page).unwrap();
        let note = update.allocate();
        update.put(
            note,
            kyso::pdf_dict! {
                b"Type" => Object::name(b"Annot"),
                b"Subtype" => Object::name(b"Text"),
                b"Rect" => Object::Array(vec![10i64.into(), 10i64.into(), 30i64.into(), 30i64.into()]),
            },
        );
        let mut annots = dict
            .get(b"Annots")
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default();
        annots.push(note.into());
        dict.set(b"Annots", Object::Array(annots));
        update.put(page, dict);
    });
    let report = verifier_for(&changed, AlgorithmPolicy::DangerouslyAllowLegacy).verify(&changed);
    let sig = &report.signatures[0];
    assert_eq!(sig.changes_permitted, Facet::Failed, "{sig:#?}");
    assert!(
        sig.reasons
            .iter()
            .any(|r| r.to_string().contains("DocMDP P=1")),
        "{:#?}",
        sig.reasons
    );
}

fn root() -> PathBuf {
    crate::support::conformance_dir()
}

fn run_suite(suite: &str, dir: &Path, cases: &[Case]) {
    let on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set KYSO_CONFORMANCE_DIR)", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pdf"))
        .collect();
    for name in &on_disk {
        assert!(
            cases.iter().any(|c| c.file == name),
            "{suite}: {name} has no expected verdict here"
        );
    }
    let reference = pyhanko_reference(dir);
    let (mut passed, mut failed) = (0, 0);
    let mut failures = Vec::new();
    for case in cases {
        let bytes = std::fs::read(dir.join(case.file)).unwrap();
        let legacy = verifier_for(&bytes, AlgorithmPolicy::DangerouslyAllowLegacy).verify(&bytes);
        let default = verifier_for(&bytes, AlgorithmPolicy::default()).verify(&bytes);
        let verdict = judge(&legacy, case.expect);
        println!(
            "{suite}: {:<48} {:<8} {}",
            case.file,
            if verdict.is_ok() { "ok" } else { "FAILED" },
            summary(&legacy)
        );
        for s in &legacy.signatures {
            println!("    {}", signature_line(s));
        }
        if !case.note.is_empty() {
            println!("    note: {}", case.note);
        }
        compare_policies(suite, case.file, &legacy, &default);
        compare_pyhanko(case.file, &legacy, &reference);
        match verdict {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                failures.push(format!("{}: {why}", case.file));
            }
        }
    }
    println!("{suite}: {passed} passed, {failed} failed");
    assert!(failures.is_empty(), "{suite}: {failures:#?}");
}

/// A verifier trusting the certificates inside the file's CMS structures, offline, now.
fn verifier_for(bytes: &[u8], algorithms: AlgorithmPolicy) -> Verifier {
    let mut trust = TrustStore::new();
    for der in cms_certificates(bytes) {
        if let Ok(cert) = Certificate::from_der(&der) {
            trust.add(cert);
        }
    }
    let mut options = VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    options.revocation = kyso::verify::Revocation::Offline;
    options.algorithms = algorithms;
    Verifier::new(options)
}

/// The certificates of every signature's CMS and of the timestamp tokens inside them.
fn cms_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(doc) = Document::parse(bytes) else {
        return out;
    };
    for sig in find_signatures(&doc).unwrap_or_default() {
        let Some(contents) = sig.dictionary.get(b"Contents").and_then(Object::as_string) else {
            continue;
        };
        let Ok(cms) = kyso::cms::SignedData::parse(contents) else {
            continue;
        };
        out.extend(cms.certificates.iter().map(|c| c.to_vec()));
        for info in &cms.signer_infos {
            for attribute in &info.unsigned_attributes {
                for value in &attribute.values {
                    if let Ok(der) = value.definite()
                        && let Ok(token) = kyso::cms::SignedData::parse(&der)
                    {
                        out.extend(token.certificates.iter().map(|c| c.to_vec()));
                    }
                }
            }
        }
    }
    out
}

/// Sub-indications that say only that trust could not be established.
fn trust_only(sub: Option<SubIndication>) -> bool {
    matches!(
        sub,
        None | Some(
            SubIndication::NoCertificateChainFound
                | SubIndication::TryLater
                | SubIndication::OutOfBoundsNoPoe
                | SubIndication::RevokedNoPoe
                | SubIndication::ChainConstraintsFailure
        )
    )
}

/// VALID in the mapped sense (see the module comment).
fn valid(s: &SignatureReport) -> bool {
    s.intact == Facet::Passed
        && s.signature_valid == Facet::Passed
        && s.changes_permitted == Facet::Passed
        && s.coverage != Coverage::Unclear
        && s.indication != Indication::TotalFailed
        && trust_only(s.sub_indication)
}

/// Signatures the README's verdict is about: DSS counts signature fields, so a usage-rights
/// signature no field holds is reported by kyso but not judged here.
fn judged(report: &DocumentReport) -> Vec<&SignatureReport> {
    report
        .signatures
        .iter()
        .filter(|s| !s.is_usage_rights())
        .collect()
}

fn judge(report: &DocumentReport, expect: Expect) -> Result<(), String> {
    let sigs = judged(report);
    let all_valid = !sigs.is_empty() && sigs.iter().all(|s| valid(s));
    let warned = sigs.iter().any(|s| !s.warnings.is_empty());
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("expected {what}, got {}", summary(report)))
        }
    };
    match expect {
        Expect::Valid => check(all_valid, "VALID"),
        Expect::ValidWithWarning => check(all_valid && warned, "VALID with a warning"),
        Expect::Reject => check(
            !all_valid && report.indication != Indication::TotalPassed,
            "REJECT",
        ),
        Expect::RejectOrWarn => check(!all_valid || warned, "REJECT or WARN"),
        Expect::NoSignature => check(
            report.signatures.is_empty()
                && report.sub_indication == Some(SubIndication::SignedDataNotFound),
            "NO SIGNATURE",
        ),
        Expect::RejectOrNotPades => check(
            !all_valid || sigs.iter().all(|s| !s.format.starts_with("PAdES")),
            "REJECT or not PAdES",
        ),
        Expect::NotPadesIndeterminate => check(
            sigs.iter()
                .all(|s| !s.format.starts_with("PAdES") && s.indication != Indication::TotalPassed),
            "not PAdES, not TOTAL-PASSED",
        ),
        Expect::Intact => check(
            !sigs.is_empty()
                && sigs
                    .iter()
                    .all(|s| s.intact == Facet::Passed && s.signature_valid == Facet::Passed),
            "intact signatures",
        ),
        Expect::Disputed => check(!all_valid || warned, "a warning or a rejection"),
        Expect::PerSignature(expected) => {
            for (name, expect) in expected {
                let Some(s) = report.signatures.iter().find(|s| s.name == *name) else {
                    return Err(format!("no signature named {name}: {}", summary(report)));
                };
                let one = DocumentReport {
                    signatures: vec![s.clone()],
                    ..report.clone()
                };
                judge(&one, *expect).map_err(|e| format!("{name}: {e}"))?;
            }
            Ok(())
        }
    }
}

/// The default policy may only be stricter than the legacy one, and only for algorithms.
fn compare_policies(suite: &str, file: &str, legacy: &DocumentReport, default: &DocumentReport) {
    for (l, d) in legacy.signatures.iter().zip(&default.signatures) {
        if (l.indication, l.sub_indication) == (d.indication, d.sub_indication) {
            continue;
        }
        println!(
            "    default policy stricter for {}: {} (legacy: {}/{})",
            d.name,
            d.reasons.first().map(|r| r.to_string()).unwrap_or_default(),
            l.indication.as_str(),
            l.sub_indication.map_or("-", |s| s.as_str())
        );
        assert_ne!(
            d.indication,
            Indication::TotalPassed,
            "{suite}/{file}: the default policy passed what the legacy one did not"
        );
        assert!(
            matches!(
                d.sub_indication,
                Some(
                    SubIndication::CryptoConstraintsFailure
                        | SubIndication::CryptoConstraintsFailureNoPoe
                )
            ) || d.reasons.iter().chain(&d.warnings).any(|r| matches!(
                r.code(),
                "algorithm_refused" | "retired_algorithm_accepted" | "retired_in_chain"
            ) || r.to_string().contains("SHA-1")),
            "{suite}/{file}: {} differs between policies for a reason other than the algorithm: {:#?}",
            d.name,
            d.reasons
        );
    }
}

/// pyHanko's result for one signature.
#[derive(Debug)]
struct PyHanko {
    intact: Option<bool>,
    valid: Option<bool>,
    docmdp_ok: Option<bool>,
    modification: Option<String>,
    error: Option<String>,
}

fn pyhanko_reference(dir: &Path) -> BTreeMap<(String, String), PyHanko> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(dir.join("pyhanko-0.38.0-reference.json")) else {
        return out;
    };
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for row in rows {
        let text = |k: &str| row[k].as_str().map(str::to_owned);
        out.insert(
            (
                text("file").unwrap_or_default(),
                row["sig"]
                    .as_str()
                    .map_or_else(|| "None".to_owned(), str::to_owned),
            ),
            PyHanko {
                intact: row["intact"].as_bool(),
                valid: row["valid"].as_bool(),
                docmdp_ok: row["docmdp_ok"].as_bool(),
                modification: text("modification_level"),
                error: text("error").or_else(|| text("result")),
            },
        );
    }
    out
}

/// Prints where kyso is stricter or laxer than pyHanko on the document (not on trust, which the
/// two runs set up differently).
fn compare_pyhanko(
    file: &str,
    report: &DocumentReport,
    reference: &BTreeMap<(String, String), PyHanko>,
) {
    for s in &report.signatures {
        let Some(theirs) = reference.get(&(file.to_owned(), s.name.clone())) else {
            continue;
        };
        let pyhanko_ok = theirs.intact == Some(true)
            && theirs.valid == Some(true)
            && theirs.docmdp_ok == Some(true);
        let kyso_ok = valid(s);
        let theirs_text = match (&theirs.error, &theirs.modification) {
            (Some(e), _) => format!("error {e}"),
            (None, m) => format!(
                "intact={:?} valid={:?} {} docmdp_ok={:?}",
                theirs.intact,
                theirs.valid,
                m.as_deref().unwrap_or("-"),
                theirs.docmdp_ok
            ),
        };
        if pyhanko_ok && !kyso_ok {
            println!(
                "    kyso stricter than pyHanko on {}: pyHanko {theirs_text}; kyso {}",
                s.name,
                signature_line(s)
            );
        } else if !pyhanko_ok && kyso_ok && theirs.error.is_none() {
            println!(
                "    kyso laxer than pyHanko on {}: pyHanko {theirs_text}; kyso {}",
                s.name,
                signature_line(s)
            );
        }
    }
}

fn summary(report: &DocumentReport) -> String {
    format!(
        "{}{} ({} signature(s){})",
        report.indication.as_str(),
        report
            .sub_indication
            .map(|s| format!("/{}", s.as_str()))
            .unwrap_or_default(),
        report.signatures.len(),
        report
            .reasons
            .first()
            .map(|r| format!("; {r}"))
            .unwrap_or_default()
    )
}

fn signature_line(s: &SignatureReport) -> String {
    let mut rules: Vec<&str> = s
        .changes
        .iter()
        .filter(|c| c.level >= s.modification)
        .map(|c| c.rule)
        .collect();
    rules.sort_unstable();
    rules.dedup();
    format!(
        "{} [{}] {}{} intact={:?} valid={:?} changes={:?}/{:?}{}{}",
        s.name,
        s.format,
        s.indication.as_str(),
        s.sub_indication
            .map(|x| format!("/{}", x.as_str()))
            .unwrap_or_default(),
        s.intact,
        s.signature_valid,
        s.modification,
        s.changes_permitted,
        if rules.is_empty() {
            String::new()
        } else {
            format!(" rules: {}", rules.join(", "))
        },
        if s.warnings.is_empty() {
            String::new()
        } else {
            format!(" warnings: {}", s.warnings.len())
        }
    )
}

fn append(
    bytes: &[u8],
    edit: impl FnOnce(&Document<'_>, &mut IncrementalUpdate<'_, '_>),
) -> Vec<u8> {
    let doc = Document::parse(bytes).unwrap();
    let mut update = IncrementalUpdate::new(&doc);
    edit(&doc, &mut update);
    let mut out = bytes.to_vec();
    out.extend_from_slice(&update.write(b"conformance-edit").bytes);
    out
}
