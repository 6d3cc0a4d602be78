//! The token layer against a real SoftHSM: every mechanism checked by OpenSSL, concurrency,
//! lookups, PIN handling.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use kyso::signer::{Curve, DigestAlgorithm, SignatureAlgorithm, SignatureScheme, Signer};
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};
use kyso::token::{
    self, Error, KeyAlgorithm, KeyOptions, Pin, Pkcs11Uri, Token, TokenDefaults, TokenKey,
};

use crate::support::{self, MAIN_TOKEN, WRONG_PIN_TOKEN, tokens, unique};

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

fn pem(label: &str, der: &[u8]) -> String {
    kyso::testpki::pem_encode(label, der)
}

/// `openssl dgst` verifies `signature` over `message` with the SPKI `public_key`.
fn openssl_verifies(
    algorithm: SignatureAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    };
    let key = write("pub.pem", pem("PUBLIC KEY", public_key).as_bytes());
    let msg = write("msg.bin", message);
    let sig = write("sig.bin", signature);
    let digest = match algorithm.digest() {
        DigestAlgorithm::Sha256 => "-sha256",
        DigestAlgorithm::Sha384 => "-sha384",
        DigestAlgorithm::Sha512 => "-sha512",
    };
    let mut cmd = Command::new("openssl");
    cmd.arg("dgst").arg(digest);
    if let SignatureAlgorithm::RsaPss(_) = algorithm {
        cmd.args([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ]);
    }
    cmd.arg("-verify")
        .arg(&key)
        .arg("-signature")
        .arg(&sig)
        .arg(&msg);
    let out = cmd.output().expect("run openssl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    out.status.success() && stdout.contains("Verified OK")
}

fn scheme_of(algorithm: SignatureAlgorithm) -> SignatureScheme {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => SignatureScheme::RsaPkcs1v15(d),
        SignatureAlgorithm::RsaPss(d) => SignatureScheme::RsaPss(d),
        SignatureAlgorithm::Ecdsa(_, d) => SignatureScheme::Ecdsa(d),
    }
}

#[test]
fn every_mechanism_verifies_with_openssl() {
    use DigestAlgorithm::*;
    let token = main_token();
    let cases: [(KeyAlgorithm, Vec<SignatureAlgorithm>); 4] = [
        (
            KeyAlgorithm::Rsa2048,
            vec![
                SignatureAlgorithm::RsaPkcs1v15(Sha256),
                SignatureAlgorithm::RsaPkcs1v15(Sha384),
                SignatureAlgorithm::RsaPkcs1v15(Sha512),
                SignatureAlgorithm::RsaPss(Sha256),
                SignatureAlgorithm::RsaPss(Sha384),
                SignatureAlgorithm::RsaPss(Sha512),
            ],
        ),
        (
            KeyAlgorithm::Rsa3072,
            vec![
                SignatureAlgorithm::RsaPkcs1v15(Sha256),
                SignatureAlgorithm::RsaPss(Sha256),
            ],
        ),
        (
            KeyAlgorithm::P256,
            vec![
                SignatureAlgorithm::Ecdsa(Curve::P256, Sha256),
                SignatureAlgorithm::Ecdsa(Curve::P256, Sha384),
            ],
        ),
        (
            KeyAlgorithm::P384,
            vec![
                SignatureAlgorithm::Ecdsa(Curve::P384, Sha384),
                SignatureAlgorithm::Ecdsa(Curve::P384, Sha512),
            ],
        ),
    ];
    let message = "Quyết định số 123/QĐ-UBND: ký số".as_bytes();
    for (key_algorithm, schemes) in cases {
        let label = unique(&format!("mech-{key_algorithm}"));
        let generated = token::generate_key_pair(&token, &label, None, key_algorithm).unwrap();
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
            assert_eq!(key.public_key_spki(), generated.public_key_spki());
            let signature = key.sign(message).unwrap();
            assert_eq!(signature.algorithm(), scheme);
            let der = signature.to_der();
            assert!(
                openssl_verifies(scheme, key.public_key_spki(), message, &der),
                "openssl rejects {scheme} from a {key_algorithm} key"
            );
            assert!(
                !openssl_verifies(scheme, key.public_key_spki(), b"another message", &der),
                "openssl accepts {scheme} over the wrong message: the check is broken"
            );
        }
    }
}

#[test]
fn key_type_and_scheme_must_agree() {
    let token = main_token();
    let label = unique("mismatch");
    token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap();
    let open = |scheme| {
        TokenKey::on_token(
            Arc::clone(&token),
            Some(&label),
            None,
            KeyOptions {
                scheme: Some(scheme),
            },
        )
    };
    let err = open(SignatureScheme::RsaPss(DigestAlgorithm::Sha256)).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKey { .. }), "{err}");
    assert!(err.to_string().contains("P-256"), "{err}");
    let key = open(SignatureScheme::Ecdsa(DigestAlgorithm::Sha384)).unwrap();
    assert_eq!(
        key.algorithm(),
        SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha384)
    );
}

#[test]
fn eight_threads_sign_two_hundred_times_each() {
    let token = main_token();
    let label = unique("threads");
    let key =
        Arc::new(token::generate_key_pair(&token, &label, None, KeyAlgorithm::Rsa2048).unwrap());
    let spki = key.public_key_spki().to_vec();
    let (_, parsed) = <x509_parser::x509::SubjectPublicKeyInfo as x509_parser::prelude::FromDer<
        _,
    >>::from_der(&spki)
    .unwrap();
    let rsa_public = parsed.subject_public_key.data.to_vec();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let key = Arc::clone(&key);
            let failures = Arc::clone(&failures);
            let rsa_public = rsa_public.clone();
            std::thread::spawn(move || {
                let verifier = aws_lc_rs::signature::UnparsedPublicKey::new(
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    rsa_public,
                );
                for i in 0..200 {
                    let message = format!("thread {t} document {i}");
                    match key.sign(message.as_bytes()) {
                        Ok(sig) => {
                            if verifier.verify(message.as_bytes(), sig.raw()).is_err() {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("{t}/{i}: bad signature"));
                            }
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{t}/{i}: {e}")),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(failures.lock().unwrap().as_slice(), &[] as &[String]);
    let stats = token.stats();
    assert!(stats.open <= stats.max_sessions, "{stats:?}");
    // 1,600 signatures must not have opened a session each: the pool lends them out again, and
    // never holds more than its maximum.
    assert!(
        stats.opened_total - stats.discarded_total <= stats.max_sessions as u64,
        "{stats:?}"
    );
    if stats.max_sessions < 8 {
        assert!(
            stats.waits_total > 0,
            "8 threads on fewer sessions never waited: {stats:?}"
        );
    }
}

#[test]
fn wrong_pin_is_reported_and_never_presented_again() {
    let t = tokens();
    let uri = Pkcs11Uri {
        token: Some(WRONG_PIN_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &t.defaults(WRONG_PIN_TOKEN)).unwrap();
    let err = token.login(Pin::new("00000000".to_owned())).unwrap_err();
    assert!(
        matches!(err, Error::PinIncorrect { ref token } if token == WRONG_PIN_TOKEN),
        "{err}"
    );
    assert!(err.to_string().contains(WRONG_PIN_TOKEN), "{err}");
    assert!(!token.is_logged_in());

    // The same PIN again does not reach the token: kyso refuses it itself.
    let err = token.login(Pin::new("00000000".to_owned())).unwrap_err();
    assert!(matches!(err, Error::PinAlreadyRefused { .. }), "{err}");

    // A pin-source file holding the refused PIN is refused the same way.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pin");
    std::fs::write(&bad, "00000000\n").unwrap();
    let key_uri = Pkcs11Uri {
        token: Some(WRONG_PIN_TOKEN.to_owned()),
        object: Some("anything".to_owned()),
        pin_source: Some(format!("file:{}", bad.display())),
        ..Pkcs11Uri::default()
    };
    let err = TokenKey::open(
        &key_uri,
        &t.defaults(WRONG_PIN_TOKEN),
        KeyOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::PinAlreadyRefused { .. }), "{err}");

    // The right PIN still works: nothing was locked by kyso's own doing.
    token.login(Pin::new(t.pin(WRONG_PIN_TOKEN))).unwrap();
    assert!(token.is_logged_in());
}

#[test]
fn lookups_name_what_was_looked_for() {
    let t = tokens();
    let defaults = t.defaults(MAIN_TOKEN);

    let unknown_token = Pkcs11Uri {
        token: Some("no-such-token".to_owned()),
        ..Pkcs11Uri::default()
    };
    match Token::open(&unknown_token, &defaults) {
        Err(Error::TokenNotFound {
            wanted, present, ..
        }) => {
            assert!(wanted.contains("no-such-token"), "{wanted}");
            assert!(present.iter().any(|p| p == MAIN_TOKEN), "{present:?}");
        }
        other => panic!("expected TokenNotFound, got {:?}", other.map(|_| ())),
    }

    main_token();
    let unknown_key = t.key_uri(MAIN_TOKEN, "no-such-key");
    let err = TokenKey::open(&unknown_key, &defaults, KeyOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::ObjectNotFound { kind: "private key", ref wanted, .. } if wanted.contains("no-such-key")),
        "{err}"
    );

    let err = token::parse_uri("pkcs11:token=kyso-test;objcet=signer").unwrap_err();
    assert!(matches!(err, Error::InvalidUri { .. }), "{err}");
    assert!(err.to_string().contains("objcet"), "{err}");

    let missing_module = TokenDefaults {
        module: Some("/nonexistent/libpkcs11.so".into()),
        ..TokenDefaults::default()
    };
    let err = Token::open(&unknown_token, &missing_module).err().unwrap();
    assert!(matches!(err, Error::ModuleNotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/libpkcs11.so"),
        "{err}"
    );

    let err = Token::open(&unknown_token, &TokenDefaults::default())
        .err()
        .unwrap();
    assert!(matches!(err, Error::NoModule { .. }), "{err}");

    let cert_uri = Pkcs11Uri {
        object_type: Some(token::ObjectType::Cert),
        ..t.key_uri(MAIN_TOKEN, "x")
    };
    let err = TokenKey::open(&cert_uri, &defaults, KeyOptions::default()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKey { .. }), "{err}");
}

#[test]
fn a_token_without_a_pin_source_asks_for_one() {
    let t = tokens();
    let uri = Pkcs11Uri {
        token: Some(support::CLI_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let defaults = TokenDefaults {
        module: Some(t.module.clone()),
        ..TokenDefaults::default()
    };
    let token = Token::open(&uri, &defaults).unwrap();
    if !token.is_logged_in() {
        let err = token.ensure_login(None).unwrap_err();
        assert!(matches!(err, Error::PinRequired { .. }), "{err}");
        assert!(err.to_string().contains("pin-source"), "{err}");
    }
}

#[test]
fn certificates_are_stored_with_their_key() {
    let token = main_token();
    let label = unique("cert");
    let key = token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap();
    assert_eq!(key.certificate(), None);
    let pki = TestPki::new(PkiOptions::default()).unwrap();
    let name = SignerName::new("Trần Thị Bình", "UBND tỉnh Thử Nghiệm", "Văn phòng");
    let cert = pki
        .issue(key.public_key_spki(), &name, SignerProfile::Valid)
        .unwrap();
    let id = token::import_certificate(&token, &label, None, &cert.der).unwrap();
    assert_eq!(id, key.id());
    // Importing again changes nothing.
    assert_eq!(
        token::import_certificate(&token, &label, None, &cert.der).unwrap(),
        id
    );
    let reopened = TokenKey::on_token(
        Arc::clone(&token),
        Some(&label),
        None,
        KeyOptions::default(),
    )
    .unwrap();
    assert_eq!(reopened.certificate(), Some(&cert.der[..]));

    // A certificate for another key is not stored under this key's label.
    let (other, _) = pki
        .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
        .unwrap();
    let err = token::import_certificate(&token, &label, None, &other.der).unwrap_err();
    assert!(matches!(err, Error::BadCertificate { .. }), "{err}");

    // A CA certificate with no key is stored alone, as a chain certificate.
    let ca_label = unique("ca");
    let ca_id = token::import_certificate(&token, &ca_label, None, pki.intermediate.der()).unwrap();
    assert_eq!(ca_id.len(), 20, "SHA-1 of the CA's public key");

    let pin_source = tokens().pin_source(MAIN_TOKEN);
    let inventory =
        token::inventory(&tokens().module, Some((Some(MAIN_TOKEN), &pin_source))).unwrap();
    let (slot, login_error) = inventory
        .iter()
        .find(|(s, _)| s.token_label == MAIN_TOKEN)
        .unwrap();
    assert!(login_error.is_none());
    // The PIN went to this token only.
    for (other, error) in inventory
        .iter()
        .filter(|(s, _)| s.token_label != MAIN_TOKEN)
    {
        assert!(error.is_none(), "{}: {error:?}", other.token_label);
    }
    // The PIN went to this token only.
    for (other, error) in inventory
        .iter()
        .filter(|(s, _)| s.token_label != MAIN_TOKEN)
    {
        assert!(error.is_none(), "{}: {error:?}", other.token_label);
    }
    let kinds: Vec<_> = slot
        .objects
        .iter()
        .filter(|o| o.label == label)
        .map(|o| o.kind)
        .collect();
    assert!(kinds.contains(&token::ObjectKind::PrivateKey), "{kinds:?}");
    assert!(kinds.contains(&token::ObjectKind::Certificate), "{kinds:?}");
    assert!(slot.objects.iter().any(|o| {
        o.label == ca_label
            && o.subject
                .as_deref()
                .is_some_and(|s| s.contains("Signing CA"))
    }));
}

#[test]
fn keygen_refuses_a_label_in_use() {
    let token = main_token();
    let label = unique("dup");
    token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap();
    let err = token::generate_key_pair(&token, &label, None, KeyAlgorithm::P256).unwrap_err();
    assert!(matches!(err, Error::KeyExists { .. }), "{err}");
}

/// Captures every log line the token layer writes on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn pins_appear_in_no_log_line_error_or_debug_output() {
    let t = tokens();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .finish();
    let right_pin = t.pin(MAIN_TOKEN);
    let wrong_pin = "PIN-CANARY-8128".to_owned();
    let mut texts = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let uri = Pkcs11Uri {
            token: Some(WRONG_PIN_TOKEN.to_owned()),
            ..Pkcs11Uri::default()
        };
        let token = Token::open(&uri, &t.defaults(WRONG_PIN_TOKEN)).unwrap();
        let pin = Pin::new(wrong_pin.clone());
        texts.push(format!("{pin:?}"));
        let err = token.login(pin).unwrap_err();
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
        let err = token.login(Pin::new(wrong_pin.clone())).unwrap_err();
        texts.push(format!("{err} {err:?}"));

        // A PIN smuggled into a URI is refused, and the error does not repeat it.
        let err = token::parse_uri(&format!("pkcs11:token=x?pin-value={wrong_pin}")).unwrap_err();
        texts.push(format!("{err} {err:?}"));
        let err = token::parse_uri(&format!("pkcs11:tok=x?pin-value={wrong_pin}")).unwrap_err();
        texts.push(format!("{err} {err:?}"));

        let key_uri = t.key_uri(MAIN_TOKEN, &unique("logged"));
        let token = Token::open(&key_uri, &t.defaults(MAIN_TOKEN)).unwrap();
        token.ensure_login(Some(&t.pin_source(MAIN_TOKEN))).unwrap();
        let key = token::generate_key_pair(
            &token,
            key_uri.object.as_deref().unwrap(),
            None,
            KeyAlgorithm::P256,
        )
        .unwrap();
        texts.push(format!("{key:?}"));
        key.sign(b"document").unwrap();
        let err = TokenKey::open(
            &t.key_uri(MAIN_TOKEN, "absent"),
            &t.defaults(MAIN_TOKEN),
            KeyOptions::default(),
        )
        .unwrap_err();
        texts.push(format!("{err} {err:?}"));
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("login refused"), "the capture works: {logs}");
    for text in texts.iter().chain(std::iter::once(&logs)) {
        assert!(!text.contains(&wrong_pin), "wrong PIN leaked: {text}");
        assert!(!text.contains(&right_pin), "PIN leaked: {text}");
    }
}
