//! XML signing with keys in a real SoftHSM token: the same documents, every key type and
//! scheme, verified by kyso and by xmlsec1.

use std::sync::Arc;

use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm, SignatureScheme, Signer};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::{self, KeyAlgorithm, KeyOptions, Pkcs11Uri, Token, TokenKey};
use kyso::xml::{self, Level, Packaging, Status, VerifyOptions};

use super::common::{DOCUMENT, have};
use super::dsig::options;
use crate::support::{MAIN_TOKEN, tokens, unique};

fn main_token() -> Arc<Token> {
    let t = tokens();
    let uri = Pkcs11Uri {
        token: Some(MAIN_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &t.defaults(MAIN_TOKEN)).expect("open the test token");
    token
        .ensure_login(Some(&t.pin_source(MAIN_TOKEN)))
        .expect("log in to the test token");
    token
}

fn scheme_of(algorithm: SignatureAlgorithm) -> SignatureScheme {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => SignatureScheme::RsaPkcs1v15(d),
        SignatureAlgorithm::RsaPss(d) => SignatureScheme::RsaPss(d),
        SignatureAlgorithm::Ecdsa(_, d) => SignatureScheme::Ecdsa(d),
    }
}

#[test]
fn softhsm_keys_sign_xades_that_kyso_and_xmlsec1_verify() {
    use DigestAlgorithm::*;
    let token = main_token();
    let pki = TestPki::new(PkiOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("root.pem"), pki.root.pem()).unwrap();
    let name = SignerName::new("Nguyễn Văn A", "UBND tỉnh Thử Nghiệm", "Văn phòng");
    let cases = [
        (
            KeyAlgorithm::Rsa2048,
            vec![
                SignatureAlgorithm::RsaPkcs1v15(Sha256),
                SignatureAlgorithm::RsaPss(Sha256),
            ],
        ),
        (
            KeyAlgorithm::P256,
            vec![SignatureAlgorithm::Ecdsa(Curve::P256, Sha256)],
        ),
        (
            KeyAlgorithm::P384,
            vec![SignatureAlgorithm::Ecdsa(Curve::P384, Sha384)],
        ),
    ];
    for (key_algorithm, schemes) in cases {
        let label = unique(&format!("xml-{key_algorithm}"));
        let generated = token::generate_key_pair(&token, &label, None, key_algorithm).unwrap();
        let cert = pki
            .issue(generated.public_key_spki(), &name, SignerProfile::Valid)
            .unwrap();
        let chain = vec![cert.der.clone(), pki.intermediate.der().to_vec()];
        for scheme in schemes {
            let key = TokenKey::on_token(
                Arc::clone(&token),
                Some(&label),
                None,
                KeyOptions {
                    scheme: Some(scheme_of(scheme)),
                },
            )
            .unwrap();
            for packaging in [Packaging::Enveloped, Packaging::Enveloping] {
                let signed = xml::sign(
                    DOCUMENT.as_bytes(),
                    &key,
                    &chain,
                    &options(packaging.clone(), Level::XadesB),
                )
                .unwrap_or_else(|e| panic!("{scheme} {packaging:?}: {e}"));
                let report = xml::verify(&signed, &VerifyOptions::default()).unwrap();
                assert_eq!(report.signatures[0].status, Status::Intact, "{scheme}");
                assert_eq!(report.signatures[0].certificates, chain);
                // xmlsec1 1.2 has no RSA-PSS.
                if have("xmlsec1") && !matches!(scheme, SignatureAlgorithm::RsaPss(_)) {
                    std::fs::write(dir.path().join("signed.xml"), &signed).unwrap();
                    let out = std::process::Command::new("xmlsec1")
                        .args(["--verify", "--trusted-pem", "root.pem"])
                        .args([
                            "--id-attr:Id",
                            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                        ])
                        .arg("signed.xml")
                        .current_dir(dir.path())
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{scheme} {packaging:?}: xmlsec1 says {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
    }
}
