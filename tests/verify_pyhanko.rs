//! PDFs signed by pyHanko here, in the test run — PAdES B-B, B-T (against a real `openssl ts
//! -reply` TSA behind the shared loopback front of `support::responders`), B-LT (revocation data
//! pyHanko fetched from a CRL served by that front), two signers, signed then form-filled, signed then page content replaced, certified
//! at each DocMDP level then changed — each with the verdict kyso must give.

use std::path::{Path, PathBuf};
use std::process::Command;

use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pki::{TrustStore, crl::Crl};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;
use kyso::verify::{
    DocumentReport, Facet, Indication, ModificationLevel, Revocation, SubIndication, TimeSource,
    Verifier, VerifyOptions,
};

use crate::support::responders::Responders;
use crate::support::run;
use crate::xml::tsa::TestTsa;

#[test]
fn pyhanko_baseline_b_t_and_lt_signatures_get_their_levels() {
    let Some(tsa) = TestTsa::start() else {
        eprintln!("SKIPPED: openssl not installed");
        return;
    };
    let crls = Responders::start();
    let pki = Pki::new(Some(crls.url("/intermediate.crl")), "Nguyễn Văn Hàn");
    crls.serve_file(
        "/intermediate.crl",
        std::fs::read(pki.dir.path().join("intermediate.crl")).unwrap(),
    );
    let plain = pki.file("plain.pdf", &sample_pdf(&SampleOptions::default()));

    // B-B.
    let bb = pki.path("b-b.pdf");
    pyhanko_sign(&pki, &plain, &bb, "Sig1", &[]);
    let report = pki.verifier(&[], Evidence::Both).verify(&read(&bb));
    assert_passed(&report);
    assert_eq!(report.signatures[0].format, "PAdES-B-B");
    assert_eq!(
        report.signatures[0].signing_time_source,
        Some(TimeSource::Claimed)
    );

    // B-T: the signature timestamp proves the signing time.
    let bt = pki.path("b-t.pdf");
    pyhanko_sign(&pki, &plain, &bt, "Sig1", &["--timestamp-url", &tsa.url]);
    let report = pki
        .verifier(&[&tsa.certificate()], Evidence::Both)
        .verify(&read(&bt));
    assert_passed(&report);
    let sig = &report.signatures[0];
    assert_eq!(sig.format, "PAdES-B-T");
    assert_eq!(sig.signing_time_source, Some(TimeSource::Timestamp));
    assert!(sig.timestamp_time.is_some());

    // B-LT: pyHanko fetched the signer's CRL and put it in the DSS; kyso is given only the
    // root's CRL, so the signer's revocation status can only come from the document.
    let lt = pki.path("b-lt.pdf");
    let root = pki.dir.path().join("root.pem");
    let tsa_cert = tsa.certificate();
    pyhanko_sign(
        &pki,
        &plain,
        &lt,
        "Sig1",
        &[
            "--timestamp-url",
            &tsa.url,
            "--with-validation-info",
            "--trust",
            root.to_str().unwrap(),
            "--trust",
            tsa_cert.to_str().unwrap(),
            "--trust-replace",
        ],
    );
    assert!(crls.served() > 0, "pyHanko fetched the CRL");
    let report = pki
        .verifier(&[&tsa.certificate()], Evidence::RootOnly)
        .verify(&read(&lt));
    assert_passed(&report);
    assert_eq!(report.signatures[0].format, "PAdES-B-LT");
    // Without the DSS (the B-T file) the same verifier cannot establish revocation.
    let report = pki
        .verifier(&[&tsa.certificate()], Evidence::RootOnly)
        .verify(&read(&bt));
    assert_eq!(report.sub_indication, Some(SubIndication::TryLater));
}

#[test]
fn pyhanko_two_signers_form_filling_and_content_replacement() {
    let first = Pki::new(None, "Trần Thị Một");
    let second = Pki::new(None, "Lê Văn Hai");
    let form = first.file(
        "form.pdf",
        &sample_pdf(&SampleOptions {
            text_field: true,
            ..SampleOptions::default()
        }),
    );
    let once = first.path("once.pdf");
    pyhanko_sign(&first, &form, &once, "Sig1", &[]);
    let twice = first.path("twice.pdf");
    pyhanko_sign(&second, &once, &twice, "Sig2", &[]);
    let both = both_verifier(&first, &second);
    let report = both.verify(&read(&twice));
    assert_passed(&report);
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(
        report.signatures[0].modification,
        ModificationLevel::Signatures
    );

    // Form filled after both signatures (by pyHanko's incremental writer, NeedAppearances
    // set): permitted for approval signatures, and said.
    let filled = first.path("filled.pdf");
    pyhanko_fill(&twice, &filled, "15/QĐ-UBND");
    let report = both.verify(&read(&filled));
    assert_passed(&report);
    for sig in &report.signatures {
        assert_eq!(sig.modification, ModificationLevel::FormFilling, "{sig:#?}");
        assert!(
            sig.changes
                .iter()
                .any(|c| c.rule == "form filling: field value"),
            "{:#?}",
            sig.changes
        );
        assert!(!sig.warnings.is_empty());
    }

    // The page's content replaced in an incremental update: both signatures say so, page 1.
    let replaced = first.path("replaced.pdf");
    pyhanko_replace_content(&twice, &replaced, "So tien: 999.000.000 dong");
    let report = both.verify(&read(&replaced));
    assert_eq!(report.indication, Indication::TotalFailed, "{report:#?}");
    for sig in &report.signatures {
        assert_eq!(sig.intact, Facet::Passed);
        assert_eq!(sig.changes_permitted, Facet::Failed);
        assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
        assert!(
            sig.changes
                .iter()
                .any(|c| c.level == ModificationLevel::Other && c.page == Some(1)),
            "{:#?}",
            sig.changes
        );
    }
}

#[test]
fn pyhanko_certified_documents_permit_what_their_docmdp_level_says() {
    let pki = Pki::new(None, "Phạm Văn Chứng");
    let other = Pki::new(None, "Hoàng Thị Duyệt");
    let both = both_verifier(&pki, &other);
    let form = pki.file(
        "form.pdf",
        &sample_pdf(&SampleOptions {
            text_field: true,
            ..SampleOptions::default()
        }),
    );
    // (level, annotation permitted, form filling permitted, a new signature permitted)
    for (level, annotate, fill, sign) in [
        ("NO_CHANGES", false, false, None),
        ("FILL_FORMS", false, true, Some(true)),
        ("ANNOTATE", true, true, Some(true)),
    ] {
        let certified = pki.path(&format!("certified-{level}.pdf"));
        pyhanko_certify(&pki, &form, &certified, level);
        let bytes = read(&certified);
        let report = pki.verifier(&[], Evidence::Both).verify(&bytes);
        assert_passed(&report);

        let annotated = crate::pdf_attacks::add_annotation(&bytes, b"Text");
        let sig = &pki
            .verifier(&[], Evidence::Both)
            .verify(&annotated)
            .signatures[0];
        assert_eq!(
            sig.changes_permitted == Facet::Passed,
            annotate,
            "{level}, annotation: {sig:#?}"
        );

        let filled = pki.path(&format!("certified-{level}-filled.pdf"));
        pyhanko_fill(&certified, &filled, "16/QĐ-UBND");
        let sig = &pki
            .verifier(&[], Evidence::Both)
            .verify(&read(&filled))
            .signatures[0];
        assert_eq!(
            sig.changes_permitted == Facet::Passed,
            fill,
            "{level}, form filling: {sig:#?}"
        );

        // pyHanko itself refuses to sign a P=1 document.
        if let Some(permitted) = sign {
            let signed = pki.path(&format!("certified-{level}-signed.pdf"));
            pyhanko_sign(&other, &certified, &signed, "Approval", &[]);
            let report = both.verify(&read(&signed));
            assert_eq!(report.signatures.len(), 2);
            assert_eq!(
                report.signatures[0].changes_permitted == Facet::Passed,
                permitted,
                "{level}, signature: {:#?}",
                report.signatures[0]
            );
            if permitted {
                assert_passed(&report);
            }
        }
    }
}

/// A test PKI with one software-key signer, its files in a temporary folder for pyHanko.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new(crl_url: Option<String>, person: &str) -> Pki {
        let pki = TestPki::new(PkiOptions {
            crl_url,
            ..PkiOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let name = SignerName::new(person, "UBND tỉnh Thử Nghiệm", "Văn phòng UBND");
        let (issued, key) = pki
            .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
            .unwrap();
        std::fs::write(dir.path().join("signer.pem"), issued.pem()).unwrap();
        std::fs::write(dir.path().join("signer.key.pem"), key.serialize_pem()).unwrap();
        pki.write_authorities(dir.path()).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Trusting this PKI's root (and `extra` anchors such as a TSA), offline.
    fn verifier(&self, extra: &[&Path], evidence: Evidence) -> Verifier {
        let mut trust = TrustStore::new();
        trust.load(&self.path("root.pem")).unwrap();
        for path in extra {
            trust.load(path).unwrap();
        }
        let mut options = VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
        let names: &[&str] = match evidence {
            Evidence::Both => &["intermediate.crl", "root.crl"],
            Evidence::RootOnly => &["root.crl"],
        };
        for name in names {
            let bytes = std::fs::read(self.path(name)).unwrap();
            options.evidence.add_crl(Crl::from_der(&bytes).unwrap());
        }
        options.revocation = Revocation::Offline;
        Verifier::new(options)
    }
}

/// Which CRLs a verifier is given.
#[derive(Clone, Copy)]
enum Evidence {
    Both,
    /// Only the root's: the signer's status must come from the document.
    RootOnly,
}

fn both_verifier(a: &Pki, b: &Pki) -> Verifier {
    let mut trust = TrustStore::new();
    let mut options_evidence = Vec::new();
    for pki in [a, b] {
        trust.load(&pki.path("root.pem")).unwrap();
        for name in ["intermediate.crl", "root.crl"] {
            options_evidence.push(Crl::from_der(&std::fs::read(pki.path(name)).unwrap()).unwrap());
        }
    }
    let mut options = VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    for crl in options_evidence {
        options.evidence.add_crl(crl);
    }
    options.revocation = Revocation::Offline;
    Verifier::new(options)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn assert_passed(report: &DocumentReport) {
    assert_eq!(report.indication, Indication::TotalPassed, "{report:#?}");
}

/// `pyhanko sign addsig [options] pemder …` with the PKI's signer.
fn pyhanko_sign(pki: &Pki, input: &Path, output: &Path, field: &str, options: &[&str]) {
    run(Command::new("pyhanko")
        .args(["sign", "addsig", "--field", field, "--use-pades"])
        .args(options)
        .args(["pemder", "--no-pass", "--key"])
        .arg(pki.path("signer.key.pem"))
        .arg("--cert")
        .arg(pki.path("signer.pem"))
        .arg("--chain")
        .arg(pki.path("intermediate.pem"))
        .arg(input)
        .arg(output));
}

/// Certifies with pyHanko's API (the CLI's `--certify` has no level option).
fn pyhanko_certify(pki: &Pki, input: &Path, output: &Path, level: &str) {
    const SCRIPT: &str = r#"
import sys
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
src, out, key, cert, chain, level = sys.argv[1:7]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
meta = signers.PdfSignatureMetadata(
    field_name='Certification', certify=True,
    docmdp_permissions=fields.MDPPerm[level],
    subfilter=fields.SigSeedSubFilter.PADES)
with open(src, 'rb') as inf:
    w = IncrementalPdfFileWriter(inf)
    with open(out, 'wb') as outf:
        signers.sign_pdf(w, meta, signer=signer, output=outf)
"#;
    run(Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(input)
        .arg(output)
        .arg(pki.path("signer.key.pem"))
        .arg(pki.path("signer.pem"))
        .arg(pki.path("intermediate.pem"))
        .arg(level));
}

/// Fills the text field with pyHanko's incremental writer, setting `/NeedAppearances` as a
/// filler that does not draw appearances does.
fn pyhanko_fill(input: &Path, output: &Path, value: &str) {
    const SCRIPT: &str = r#"
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
src, out, value = sys.argv[1:4]
with open(src, 'rb') as f:
    w = IncrementalPdfFileWriter(f)
    form = w.root['/AcroForm']
    for ref in form['/Fields']:
        field = ref.get_object()
        if field.get('/FT') == '/Tx':
            field['/V'] = generic.TextStringObject(value)
            w.mark_update(ref)
    form['/NeedAppearances'] = generic.BooleanObject(True)
    w.update_root()
    with open(out, 'wb') as o:
        w.write(o)
"#;
    run(Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(input)
        .arg(output)
        .arg(value));
}

/// Points the first page at a new content stream, with pyHanko's incremental writer.
fn pyhanko_replace_content(input: &Path, output: &Path, text: &str) {
    const SCRIPT: &str = r#"
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
src, out, text = sys.argv[1:4]
with open(src, 'rb') as f:
    w = IncrementalPdfFileWriter(f)
    page_ref = w.root['/Pages']['/Kids'].raw_get(0)
    page = page_ref.get_object()
    data = ('BT /F1 14 Tf 72 770 Td (%s) Tj ET' % text).encode('ascii')
    page['/Contents'] = w.add_object(generic.StreamObject(stream_data=data))
    w.mark_update(page_ref)
    with open(out, 'wb') as o:
        w.write(o)
"#;
    run(Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(input)
        .arg(output)
        .arg(text));
}
