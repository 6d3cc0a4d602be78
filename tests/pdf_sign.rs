//! PAdES signing judged by validators we did not write: pdfsig (poppler), qpdf and pyHanko.

use std::path::{Path, PathBuf};
use std::process::Command;

use kyso::pades::Level;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::pdf::{Document, Object, SignatureOptions};
use kyso::token::KeyAlgorithm;

use crate::support::{Signing, pdfsig, pyhanko_validate, qpdf_check, run};

fn options(signing: &Signing) -> SignatureOptions {
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &Level::BB),
    );
    options.reason = Some("Phê duyệt văn bản".to_owned());
    options.location = Some("Hà Nội".to_owned());
    options
}

fn sign_file(signing: &Signing, input: &[u8], out: &Path) -> Vec<u8> {
    let signed =
        kyso::pades::sign(input, &signing.identity(), &options(signing), &Level::BB).unwrap();
    let bytes = signed.to_vec();
    std::fs::write(out, &bytes).unwrap();
    bytes
}

/// The `/ByteRange` arrays of every signature, in file order.
fn byte_ranges(bytes: &[u8]) -> Vec<Vec<i64>> {
    let doc = Document::parse(bytes).unwrap();
    let mut ranges = Vec::new();
    let mut locations: Vec<_> = doc.locations().collect();
    locations.sort_by_key(|(id, _)| id.number);
    for (id, _) in locations {
        if let Ok(Object::Dictionary(d)) = doc.object(id)
            && d.has_type(b"Sig")
        {
            let range = d.get(b"ByteRange").unwrap().as_array().unwrap();
            ranges.push(range.iter().map(|o| o.as_integer().unwrap()).collect());
        }
    }
    ranges
}

fn assert_valid_everywhere(path: &Path, signing: &[&Signing], signatures: usize) {
    let report = pdfsig(path);
    assert_eq!(
        report.matches("Signature is Valid.").count(),
        signatures,
        "pdfsig: {report}"
    );
    assert!(report.contains("Total document signed"), "pdfsig: {report}");
    qpdf_check(path);
    let roots: Vec<PathBuf> = signing.iter().map(|s| s.root_pem()).collect();
    let roots: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
    let pyhanko = pyhanko_validate(path, &roots);
    assert_eq!(
        pyhanko.matches(":INTACT:TRUSTED").count(),
        signatures,
        "pyHanko: {pyhanko}"
    );
}

#[test]
fn rsa_and_ecdsa_signatures_pass_pdfsig_qpdf_and_pyhanko() {
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, person) in [
        (KeyAlgorithm::Rsa2048, "Nguyễn Văn An"),
        (KeyAlgorithm::P256, "Trần Thị Bình"),
        (KeyAlgorithm::P384, "Lê Văn Cường"),
    ] {
        let signing = Signing::new(algorithm, person);
        let input = sample_pdf(&SampleOptions::default());
        let out = dir.path().join(format!("{algorithm}.pdf"));
        let signed = sign_file(&signing, &input, &out);
        assert!(
            signed.starts_with(&input),
            "the original bytes are kept byte for byte"
        );
        assert_valid_everywhere(&out, &[&signing], 1);
        assert!(pdfsig(&out).contains(person), "the signer is named");
        let pyhanko = pyhanko_validate(&out, &[&signing.root_pem()]);
        assert!(pyhanko.contains("UNTOUCHED"), "{pyhanko}");
    }
}

#[test]
fn two_signers_in_turn_keep_the_first_signature_valid() {
    let dir = tempfile::tempdir().unwrap();
    let official = Signing::new(KeyAlgorithm::Rsa2048, "Phạm Văn Đức");
    let seal = Signing::new(KeyAlgorithm::P256, "UBND tỉnh Thử Nghiệm");
    let input = sample_pdf(&SampleOptions::default());
    let once = sign_file(&official, &input, &dir.path().join("once.pdf"));
    let twice_path = dir.path().join("twice.pdf");
    let twice = sign_file(&seal, &once, &twice_path);
    assert!(twice.starts_with(&once));
    let ranges = byte_ranges(&twice);
    assert_eq!(ranges.len(), 2);
    assert_eq!(
        byte_ranges(&once)[0],
        ranges[0],
        "the first ByteRange is unchanged"
    );
    assert_valid_everywhere(&twice_path, &[&official, &seal], 2);
}

#[test]
fn signs_object_streams_forms_linearized_and_pyhanko_signed_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let signing = Signing::new(KeyAlgorithm::P256, "Võ Thị Em");
    let plain = dir.path().join("plain.pdf");
    std::fs::write(
        &plain,
        sample_pdf(&SampleOptions {
            pages: 3,
            ..SampleOptions::default()
        }),
    )
    .unwrap();

    // qpdf-made: object streams and a cross-reference stream.
    let objstm = dir.path().join("objstm.pdf");
    run(Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&plain)
        .arg(&objstm));
    // qpdf-made: linearized.
    let linearized = dir.path().join("linearized.pdf");
    run(Command::new("qpdf")
        .arg("--linearize")
        .arg(&plain)
        .arg(&linearized));
    // An existing AcroForm with a text field.
    let form = dir.path().join("form.pdf");
    std::fs::write(
        &form,
        sample_pdf(&SampleOptions {
            text_field: true,
            ..SampleOptions::default()
        }),
    )
    .unwrap();
    // Already signed by pyHanko with a software key of another PKI.
    let other = dir.path().join("other");
    run(Command::new(env!("CARGO_BIN_EXE_test-pki")).arg(&other));
    let by_pyhanko = dir.path().join("pyhanko.pdf");
    run(Command::new("pyhanko")
        .args([
            "sign",
            "addsig",
            "--field",
            "SigPyHanko",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(other.join("signer-rsa2048-valid.key.pem"))
        .arg("--cert")
        .arg(other.join("signer-rsa2048-valid.pem"))
        .arg("--chain")
        .arg(other.join("intermediate.pem"))
        .arg(&plain)
        .arg(&by_pyhanko));

    for (input, signatures, xref_stream) in [
        (&objstm, 1, true),
        (&linearized, 1, false),
        (&form, 1, false),
        (&by_pyhanko, 2, false),
    ] {
        let bytes = std::fs::read(input).unwrap();
        let out = dir.path().join(format!(
            "signed-{}",
            input.file_name().unwrap().to_string_lossy()
        ));
        let signed = sign_file(&signing, &bytes, &out);
        let tail = String::from_utf8_lossy(&signed[bytes.len()..]).into_owned();
        assert_eq!(
            tail.contains("/Type /XRef"),
            xref_stream,
            "{}: the update's cross-reference section matches the input's kind",
            input.display()
        );
        let report = pdfsig(&out);
        assert_eq!(
            report.matches("Signature is Valid.").count(),
            signatures,
            "{}: {report}",
            input.display()
        );
        qpdf_check(&out);
        let pyhanko = pyhanko_validate(&out, &[&signing.root_pem(), &other.join("root.pem")]);
        assert_eq!(
            pyhanko.matches(":INTACT:TRUSTED").count(),
            signatures,
            "{}: {pyhanko}",
            input.display()
        );
    }
    // The form field is still there next to the signature.
    let signed_form = std::fs::read(dir.path().join("signed-form.pdf")).unwrap();
    let doc = Document::parse(&signed_form).unwrap();
    let (_, catalog) = doc.catalog().unwrap();
    let acroform = doc.resolve(catalog.get(b"AcroForm").unwrap()).unwrap();
    let fields = doc
        .resolve(acroform.as_dict().unwrap().get(b"Fields").unwrap())
        .unwrap();
    assert_eq!(fields.as_array().unwrap().len(), 2);
}

#[test]
fn malformed_inputs_give_clear_errors() {
    let signing = Signing::new(KeyAlgorithm::P256, "Đặng Văn Giang");
    let good = sample_pdf(&SampleOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let encrypted = dir.path().join("encrypted.pdf");
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, &good).unwrap();
    run(Command::new("qpdf")
        .args(["--encrypt", "user", "owner", "256", "--"])
        .arg(&plain)
        .arg(&encrypted));
    let mut broken_xref = good.clone();
    let at = broken_xref
        .windows(6)
        .rposition(|w| w == b"\nxref\n")
        .unwrap();
    broken_xref[at + 1..at + 5].copy_from_slice(b"XREF");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not a PDF",
            b"hello, this is not a PDF".to_vec(),
            "not a PDF",
        ),
        ("truncated", good[..good.len() / 2].to_vec(), "startxref"),
        ("encrypted", std::fs::read(&encrypted).unwrap(), "encrypted"),
        ("broken xref", broken_xref, "cross-reference"),
        ("empty", Vec::new(), "not a PDF"),
    ];
    for (what, bytes, expected) in cases {
        let err =
            match kyso::pades::sign(&bytes, &signing.identity(), &options(&signing), &Level::BB) {
                Ok(_) => panic!("{what}: signed"),
                Err(e) => e.to_string(),
            };
        assert!(err.contains(expected), "{what}: {err}");
    }
}

/// A token holding only the signer's certificate: the intermediate is fetched from the
/// certificate's caIssuers URL (AIA) and embedded, so a verifier without network builds the chain.
#[test]
fn the_chain_comes_from_aia_when_the_token_lacks_it() {
    use crate::support::responders::Responders;
    use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};

    let responders = Responders::start();
    let pki = TestPki::new(PkiOptions {
        ca_issuers_url: Some(responders.url("/signing-ca.der")),
        ..PkiOptions::default()
    })
    .unwrap();
    responders.serve_file("/signing-ca.der", pki.intermediate.der().to_vec());

    let t = crate::support::tokens();
    let uri = t.key_uri(crate::support::MAIN_TOKEN, &crate::support::unique("aia"));
    let label = uri.object.clone().unwrap();
    let token = kyso::token::Token::open(&uri, &t.defaults(crate::support::MAIN_TOKEN)).unwrap();
    token
        .ensure_login(Some(&t.pin_source(crate::support::MAIN_TOKEN)))
        .unwrap();
    let key = kyso::token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap();
    let name = SignerName::new("Mai Thị Ngọc", "UBND tỉnh Thử Nghiệm", "Sở Tài chính");
    let cert = pki
        .issue(
            kyso::signer::Signer::public_key_spki(&key),
            &name,
            SignerProfile::Valid,
        )
        .unwrap();
    kyso::token::import_certificate(&token, &label, None, &cert.der).unwrap();

    let dir = tempfile::tempdir().unwrap();
    pki.write_authorities(dir.path()).unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, sample_pdf(&SampleOptions::default())).unwrap();
    let output = dir.path().join("out.pdf");
    // The module comes from KYSO_TOKEN_MODULE, as an operator's configuration would give it.
    let key_uri = kyso::token::Pkcs11Uri {
        module_path: None,
        ..uri.clone()
    }
    .to_string();
    run(Command::new(env!("CARGO_BIN_EXE_kyso"))
        .env("KYSO_TOKEN_MODULE", &t.module)
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(&output)
        .args(["--key", &key_uri]));
    assert!(responders.served() >= 1, "the caIssuers URL was fetched");
    drop(responders);

    let report = crate::support::verifier_for(dir.path()).verify(&std::fs::read(&output).unwrap());
    assert_eq!(
        report.indication,
        kyso::verify::Indication::TotalPassed,
        "offline verification builds the chain from the embedded intermediate: {report:#?}"
    );
    assert_eq!(report.signatures[0].chain.len(), 3);
}
