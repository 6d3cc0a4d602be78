//! PDFs whose CMS other tools made: kyso prepares the signature field (an incremental update
//! with a reserved `/Contents`), OpenSSL or pyHanko signs, and the CMS goes into the hole. What
//! real signing tools produce — RSASSA-PSS at any salt length, SHA-1, 1024-bit keys,
//! `adbe.pkcs7.sha1` — comes out of the same tools here, from a recipe.

use std::path::{Path, PathBuf};
use std::process::Command;

use kyso::pdf::PreparedPdf;
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signer::DigestAlgorithm;
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::KeyAlgorithm;

use crate::support::run;

/// A test PKI in a folder: root.pem, intermediate.pem, their CRLs, and one software signer
/// (signer.pem, signer.key.pem) for the peers to sign with.
pub struct PeerPki {
    pub dir: tempfile::TempDir,
}

impl PeerPki {
    pub fn new(algorithm: KeyAlgorithm, profile: SignerProfile) -> PeerPki {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let name = SignerName::new("Trần Thị Ký", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
        let (issued, key) = pki
            .issue_with_software_key(algorithm, &name, profile)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("signer.pem"), issued.pem()).unwrap();
        std::fs::write(dir.path().join("signer.key.pem"), key.serialize_pem()).unwrap();
        pki.write_authorities(dir.path()).unwrap();
        PeerPki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn verifier(&self) -> kyso::verify::Verifier {
        crate::support::verifier_for(self.dir.path())
    }
}

/// The SubFilter the prepared field names.
#[derive(Clone, Copy)]
pub enum SubFilter {
    CadesDetached,
    Pkcs7Sha1,
}

/// A sample PDF with a signature field whose CMS `sign` makes from the signed bytes (the two
/// byte ranges, concatenated).
pub fn pdf_signed_by(sub_filter: SubFilter, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let original = sample_pdf(&SampleOptions::default());
    let options = SignatureOptions::new(time::OffsetDateTime::now_utc(), 16 * 1024);
    let prepared = PreparedPdf::prepare(&original, &options).unwrap();
    let [_, a, b, _] = prepared.byte_range();
    let mut bytes = prepared
        .digest(DigestAlgorithm::Sha256)
        .embed(&[])
        .unwrap()
        .to_vec();
    if let SubFilter::Pkcs7Sha1 = sub_filter {
        // Same length, so that no offset moves: a name followed by spaces.
        let from = b"/SubFilter /ETSI.CAdES.detached";
        let to = b"/SubFilter /adbe.pkcs7.sha1    ";
        let at = bytes
            .windows(from.len())
            .rposition(|w| w == from)
            .expect("the field names its SubFilter");
        bytes[at..at + from.len()].copy_from_slice(to);
    }
    let mut signed_bytes = bytes[..a].to_vec();
    signed_bytes.extend_from_slice(&bytes[b..]);
    let cms = sign(&signed_bytes);
    assert!(
        2 * cms.len() <= b - a - 2,
        "the CMS fits the reserved space"
    );
    let hex: String = cms.iter().map(|byte| format!("{byte:02X}")).collect();
    bytes[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    bytes
}

/// `openssl cms -sign` over `content`, detached, DER, with `-cades` (signingCertificateV2, so
/// that the result is PAdES) and the given digest and `-keyopt`s.
pub fn openssl_cms(pki: &PeerPki, content: &[u8], md: &str, keyopts: &[&str]) -> Vec<u8> {
    let mut args = vec!["-cades", "-md", md];
    for opt in keyopts {
        args.extend(["-keyopt", opt]);
    }
    cms_sign(pki, content, &args)
}

/// The CMS of an `adbe.pkcs7.sha1` signature: SignedData encapsulating the SHA-1 digest of the
/// signed bytes (ISO 32000-1 §12.8.3.3.1), signed with SHA-1 as the tools that make it do.
pub fn openssl_pkcs7_sha1(pki: &PeerPki, content: &[u8]) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, content);
    cms_sign(pki, digest.as_ref(), &["-nodetach", "-md", "sha1"])
}

/// `openssl cms -sign -binary -outform DER` over `content` with the PKI's signer, its
/// intermediate, and `args`.
fn cms_sign(pki: &PeerPki, content: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("content.bin");
    let output = dir.path().join("sig.der");
    std::fs::write(&input, content).unwrap();
    // `-keyopt` applies to the signer named before it: the options come last.
    run(Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-outform", "DER"])
        .arg("-in")
        .arg(&input)
        .arg("-signer")
        .arg(pki.path("signer.pem"))
        .arg("-inkey")
        .arg(pki.path("signer.key.pem"))
        .arg("-certfile")
        .arg(pki.path("intermediate.pem"))
        .arg("-out")
        .arg(&output)
        .args(args));
    std::fs::read(&output).unwrap()
}

/// pyHanko signs `input` into `output` with RSASSA-PSS at `salt` (None: pyHanko's own choice,
/// `--prefer-pss`, the maximum).
pub fn pyhanko_pss(pki: &PeerPki, input: &Path, output: &Path, salt: Option<u16>) {
    match salt {
        None => {
            run(Command::new("pyhanko")
                .args([
                    "sign",
                    "addsig",
                    "--field",
                    "Sig1",
                    "--use-pades",
                    "--prefer-pss",
                ])
                .args(["pemder", "--no-pass", "--key"])
                .arg(pki.path("signer.key.pem"))
                .arg("--cert")
                .arg(pki.path("signer.pem"))
                .arg("--chain")
                .arg(pki.path("intermediate.pem"))
                .arg(input)
                .arg(output));
        }
        Some(salt) => {
            // The CLI offers only the maximum; the API takes explicit RSASSA-PSS parameters.
            const SCRIPT: &str = r#"
import sys
from asn1crypto import algos
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
src, out, key, cert, chain, salt = sys.argv[1:7]
params = algos.RSASSAPSSParams({
    'hash_algorithm': algos.DigestAlgorithm({'algorithm': 'sha256'}),
    'mask_gen_algorithm': algos.MaskGenAlgorithm({
        'algorithm': 'mgf1',
        'parameters': algos.DigestAlgorithm({'algorithm': 'sha256'})}),
    'salt_length': int(salt),
})
mechanism = algos.SignedDigestAlgorithm({'algorithm': 'rsassa_pss', 'parameters': params})
loaded = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
signer = signers.SimpleSigner(
    signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
    cert_registry=loaded.cert_registry, signature_mechanism=mechanism)
meta = signers.PdfSignatureMetadata(
    field_name='Sig1', md_algorithm='sha256', subfilter=fields.SigSeedSubFilter.PADES)
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
                .arg(salt.to_string()));
        }
    }
}

/// The RSASSA-PSS salt length a CMS's SignerInfo declares, read with OpenSSL (not with kyso).
pub fn declared_salt(cms: &[u8]) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sig.der");
    std::fs::write(&path, cms).unwrap();
    let out = run(Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&path));
    // The SignerInfo's RSASSA-PSS-params, printed as an ASN.1 dump: `cont [ 2 ]` holds the
    // saltLength INTEGER (hex); without it the salt is the default, 20.
    let params: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.contains("rsassaPss"))
        .take_while(|l| !l.trim_start().starts_with("signature:"))
        .collect();
    params
        .iter()
        .position(|l| l.contains("cont [ 2 ]"))
        .and_then(|i| params.get(i + 1))
        .and_then(|l| l.rsplit_once(':'))
        .map(|(_, hex)| u64::from_str_radix(hex.trim(), 16).unwrap())
        .unwrap_or(20)
}

/// The hex `/Contents` of the last signature in `pdf`, decoded (trailing zero padding kept).
pub fn last_contents(pdf: &[u8]) -> Vec<u8> {
    let doc = kyso::pdf::Document::parse(pdf).unwrap();
    let found = kyso::pdf::find_signatures(&doc).unwrap();
    let last = found.last().expect("a signature");
    last.dictionary
        .get(b"Contents")
        .and_then(kyso::pdf::Object::as_string)
        .unwrap()
        .to_vec()
}
