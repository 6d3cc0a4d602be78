//! kyso's CSC client against a real remote signing provider: certomancer-csc-dummy (CSC API
//! v1.0.4, by pyHanko's author) serving a certomancer PKI whose keys `openssl genpkey` makes
//! here, behind tests/csc/serve.py (bearer token, optional PIN, 127.0.0.1 only, bounded life).
//! What kyso signs through it is judged by kyso's verifier (trust: the certomancer root),
//! pyHanko and pdfsig for PDF, xmlsec1 for XML. Failure paths: a wrong token, no such
//! credential, nothing listening, a provider answering garbage, a refused authorisation.
//! The asynchronous mode runs through `kyso serve`'s signing jobs against the script's own
//! asynchronous v2.0 service over the dummy: done, refused, expired, forged, another unit.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kyso::csc::{Access, CredentialRef};
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::secret::SecretSource;
use kyso::signer::{SignError, Signer};
use kyso::signing::{KeyMaterial, Level, Signing, XmlOptions};
use kyso::token::KeyOptions;
use kyso::verify::Indication;

use crate::support::responders::Responders;
use crate::support::{pdfsig, pyhanko_validate, run, unique, verifier_for};

/// How long a provider lives at most, whatever happens to the test.
const PROVIDER_LIFETIME_SECS: u32 = 180;

/// certomancer-csc-dummy on 127.0.0.1, killed on drop.
struct Provider {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    token: String,
}

impl Provider {
    fn start() -> Provider {
        Provider::with_pin(None)
    }

    /// A provider whose `credentials/authorize` wants `pin`.
    fn with_pin(pin: Option<&str>) -> Provider {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        std::fs::create_dir_all(dir.path().join("pki")).unwrap();
        for (name, args) in [
            ("root", ["RSA", "rsa_keygen_bits:2048"]),
            ("interm", ["RSA", "rsa_keygen_bits:2048"]),
            ("signer-rsa", ["RSA", "rsa_keygen_bits:2048"]),
            ("signer-ec", ["EC", "ec_paramgen_curve:P-256"]),
        ] {
            run(Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    args[0],
                    "-pkeyopt",
                    args[1],
                    "-out",
                ])
                .arg(keys.join(format!("{name}.key.pem"))));
        }
        let config = dir.path().join("certomancer.yml");
        std::fs::copy(here().join("certomancer.yml"), &config).unwrap();
        let token = unique("csc-access-token");
        let mut command = Command::new("python3");
        command
            .arg(here().join("serve.py"))
            .arg(&config)
            .arg(dir.path())
            .arg(dir.path().join("pki"))
            .arg(PROVIDER_LIFETIME_SECS.to_string())
            .env("KYSO_CSC_TEST_TOKEN", &token)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(pin) = pin {
            command.env("KYSO_CSC_TEST_PIN", pin);
        }
        let mut child = command
            .spawn()
            .expect("python3 with certomancer-csc-dummy (scripts/ensure-deps.sh test)");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("port ") {
                    let _ = sender.send(port.trim().parse::<u16>().ok());
                    return;
                }
            }
            let _ = sender.send(None);
        });
        let port = match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the CSC provider did not start ({other:?}): is certomancer-csc-dummy installed?"
                );
            }
        };
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, format!("{token}\n")).unwrap();
        Provider {
            child,
            port,
            dir,
            token,
        }
    }

    /// The service's base URL.
    fn service(&self) -> String {
        format!("http://127.0.0.1:{}/csc/v1", self.port)
    }

    /// `csc:…#kyso/<label>`.
    fn key(&self, label: &str) -> String {
        format!("csc:{}#kyso/{label}", self.service())
    }

    /// The same credential through the provider's CSC v2.0 front (tests/csc/serve.py).
    fn key_v2(&self, label: &str) -> String {
        format!("csc:http://127.0.0.1:{}/csc/v2#kyso/{label}", self.port)
    }

    /// The credential through the provider's asynchronous CSC v2.0 service, whose holder
    /// behaves as `holder` says (tests/csc/serve.py: confirms, refuses, silent, forged).
    fn key_async(&self, holder: &str, label: &str) -> String {
        format!(
            "csc:http://127.0.0.1:{}/csc/async/{holder}#kyso/{label}",
            self.port
        )
    }

    /// How many times the asynchronous service signed each request it was given.
    fn async_signed(&self) -> Vec<u64> {
        let json = self.get_json("/test/async");
        json["signed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect()
    }

    fn reference(&self, label: &str) -> CredentialRef {
        CredentialRef::parse(&self.key(label)).unwrap()
    }

    /// Access with the right token, from a file.
    fn access(&self) -> Access {
        Access {
            token: Some(SecretSource::File(self.dir.path().join("token"))),
            ..Access::default()
        }
    }

    /// root.pem, intermediate.pem and their CRLs, as `verifier_for` reads them.
    fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    fn open(&self, label: &str) -> KeyMaterial {
        KeyMaterial::open_remote(
            &self.reference(label),
            &self.access(),
            KeyOptions::default(),
            &[],
        )
        .unwrap()
    }

    /// How many `credentials/authorize` calls the provider has had.
    fn authorizations(&self) -> u64 {
        self.get_json("/test/authorizations")["count"]
            .as_u64()
            .unwrap()
    }

    /// One of the provider's test counters.
    fn get_json(&self, path: &str) -> serde_json::Value {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/csc")
}

fn signing(key: &KeyMaterial) -> Signing<'_> {
    Signing {
        key,
        level: Level::BaselineB,
        tsa: None,
        trust: None,
        at: time::OffsetDateTime::now_utc(),
        algorithms: kyso::pki::AlgorithmPolicy::default(),
    }
}

const LETTER_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CongVan Id=\"cv\"><SoKyHieu>12/UBND-VP</SoKyHieu><TrichYeu>Về việc ký số từ xa</TrichYeu></CongVan>\n";

fn assert_passes(verifier: &kyso::verify::Verifier, bytes: &[u8], what: &str) {
    let report = verifier.verify(bytes);
    assert_eq!(
        report.indication,
        Indication::TotalPassed,
        "{what}: {}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    assert_eq!(report.signatures.len(), 1, "{what}");
}

fn xmlsec1_verifies(dir: &Path, file: &Path) -> (bool, String) {
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.join("root.pem"))
        .arg("--untrusted-pem")
        .arg(dir.join("intermediate.pem"))
        .args([
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
        ])
        .arg(file)
        .output()
        .expect("xmlsec1 is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pdf_and_xml_signed_through_a_csc_provider_validate_in_kyso_pyhanko_pdfsig_and_xmlsec1() {
    let provider = Provider::start();
    let verifier = verifier_for(&provider.pki());
    let out = tempfile::tempdir().unwrap();
    for label in ["signer-rsa", "signer-ec"] {
        let key = provider.open(label);
        // The chain comes from credentials/info: the signer's certificate, then its issuers.
        assert!(
            !key.chain.is_empty(),
            "{label}: issuers from credentials/info"
        );
        assert_eq!(key.key.reference(), provider.key(label));
        assert!(key.key.token().is_none());
        let expected = if label == "signer-ec" {
            "ECDSA P-256"
        } else {
            "RSA PKCS#1 v1.5"
        };
        assert!(
            key.key.algorithm().to_string().starts_with(expected),
            "{label}: {}",
            key.key.algorithm()
        );

        let input = sample_pdf(&SampleOptions::default());
        let options = kyso::pdf::SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
        let signed = signing(&key).pdf(&input, options).unwrap().to_vec();
        assert!(signed.starts_with(&input), "{label}: by incremental update");
        assert_passes(&verifier, &signed, label);
        let path = out.path().join(format!("{label}.pdf"));
        std::fs::write(&path, &signed).unwrap();
        let report = pdfsig(&path);
        assert!(
            report.contains("Signature is Valid."),
            "pdfsig {label}: {report}"
        );
        let pyhanko = pyhanko_validate(&path, &[&provider.pki().join("root.pem")]);
        assert_eq!(
            pyhanko.matches(":INTACT:TRUSTED").count(),
            1,
            "pyHanko {label}: {pyhanko}"
        );

        let xml = signing(&key)
            .xml(LETTER_XML.as_bytes(), XmlOptions::default())
            .unwrap()
            .to_vec();
        assert_passes(&verifier, &xml, &format!("{label} XAdES"));
        let path = out.path().join(format!("{label}.xml"));
        std::fs::write(&path, &xml).unwrap();
        let (ok, report) = xmlsec1_verifies(&provider.pki(), &path);
        assert!(ok, "xmlsec1 {label}: {report}");
    }
    // One authorisation per signature, each for its own hash.
    assert_eq!(provider.authorizations(), 4);
}

#[test]
fn kyso_sign_pdf_and_xml_take_a_csc_key_on_the_command_line() {
    let provider = Provider::start();
    let verifier = verifier_for(&provider.pki());
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("letter.pdf");
    std::fs::write(&input, sample_pdf(&SampleOptions::default())).unwrap();
    let xml_in = dir.path().join("letter.xml");
    std::fs::write(&xml_in, LETTER_XML).unwrap();
    let pdf_out = dir.path().join("signed.pdf");
    let xml_out = dir.path().join("signed.xml");
    let said = run(crate::cli::kyso()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(&pdf_out)
        .arg("--key")
        .arg(provider.key("signer-ec"))
        .args(["--csc-token-source", "env:KYSO_TEST_CSC_TOKEN"])
        .env("KYSO_TEST_CSC_TOKEN", &provider.token));
    assert!(said.contains("ECDSA P-256"), "{said}");
    assert!(!said.contains(&provider.token), "{said}");
    assert_passes(&verifier, &std::fs::read(&pdf_out).unwrap(), "CLI PDF");

    // The token from [csc] token_source (here its environment override) as well.
    let said = run(crate::cli::kyso()
        .args(["sign", "xml"])
        .arg(&xml_in)
        .arg(&xml_out)
        .arg("--key")
        .arg(provider.key("signer-rsa"))
        .arg("--xades")
        .env(
            "KYSO_CSC_TOKEN_SOURCE",
            format!("file:{}", provider.dir.path().join("token").display()),
        ));
    assert!(said.contains("XAdES B-B"), "{said}");
    assert_passes(&verifier, &std::fs::read(&xml_out).unwrap(), "CLI XML");
    let (ok, report) = xmlsec1_verifies(&provider.pki(), &xml_out);
    assert!(ok, "xmlsec1: {report}");

    // A wrong token: a clear error, exit 2, neither token in it.
    let out = crate::cli::kyso()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(dir.path().join("never.pdf"))
        .arg("--key")
        .arg(provider.key("signer-ec"))
        .args(["--csc-token-source", "env:KYSO_TEST_CSC_TOKEN"])
        .env("KYSO_TEST_CSC_TOKEN", "n0t-the-t0ken")
        .output()
        .unwrap();
    let text = crate::cli::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("HTTP 401") && text.contains("refused the access token"),
        "{text}"
    );
    assert!(
        !text.contains("n0t-the-t0ken") && !text.contains(&provider.token),
        "{text}"
    );
    assert!(!dir.path().join("never.pdf").exists());
}

#[test]
fn csc_failures_are_typed_errors_without_secrets() {
    use kyso::csc::Error as E;
    let provider = Provider::start();
    let open = |reference: &CredentialRef, access: &Access| {
        KeyMaterial::open_remote(reference, access, KeyOptions::default(), &[])
    };
    let remote = |result: Result<KeyMaterial, kyso::signing::Error>| match result {
        Err(kyso::signing::Error::Remote(e)) => e,
        Err(other) => panic!("not a remote error: {other}"),
        Ok(_) => panic!("opened"),
    };

    // A wrong access token.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrong"), "wr0ng-t0ken").unwrap();
    let wrong = Access {
        token: Some(SecretSource::File(dir.path().join("wrong"))),
        ..Access::default()
    };
    let error = remote(open(&provider.reference("signer-rsa"), &wrong));
    assert!(
        matches!(
            error,
            E::Unauthorized {
                credentials_sent: true,
                ..
            }
        ),
        "{error:?}"
    );
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains("wr0ng-t0ken") && !text.contains(&provider.token),
        "{text}"
    );
    // No token at all.
    let error = remote(open(&provider.reference("signer-rsa"), &Access::default()));
    assert!(
        matches!(
            error,
            E::Unauthorized {
                credentials_sent: false,
                ..
            }
        ),
        "{error:?}"
    );

    // A credential the service does not have.
    let error = remote(open(&provider.reference("nobody"), &provider.access()));
    assert!(
        matches!(&error, E::CredentialNotFound { credential, .. } if credential == "kyso/nobody"),
        "{error:?}"
    );

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = CredentialRef::parse(&format!("csc:http://127.0.0.1:{port}/csc/v1#x")).unwrap();
    let error = remote(open(&nowhere, &provider.access()));
    assert!(matches!(error, E::Unreachable { .. }), "{error:?}");

    // Accepting and never answering: the deadline ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let held = silent.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    let mute = CredentialRef::parse(&format!("csc:http://127.0.0.1:{port}/csc/v1#x")).unwrap();
    let quick = Access {
        timeout: Duration::from_secs(1),
        ..provider.access()
    };
    let started = std::time::Instant::now();
    let error = remote(open(&mute, &quick));
    assert!(matches!(error, E::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    holder.join().unwrap();

    // A token is not sent over plain HTTP to another machine.
    let far = CredentialRef::parse("csc:http://sign.example.vn/csc/v2#x").unwrap();
    let error = remote(open(&far, &provider.access()));
    assert!(matches!(error, E::CredentialsOverHttp { .. }), "{error:?}");

    // Providers answering garbage, each at its own path of one loopback front.
    let front = Responders::start();
    let info = br#"{"specs":"1.0.4.0"}"#.to_vec();
    front.answer("/json/info", b"<html>not json</html>".to_vec());
    front.answer("/b64/info", info.clone());
    front.answer(
        "/b64/credentials/info",
        br#"{"key":{"status":"enabled","algo":[]},"cert":{"certificates":["%%% not base64"]}}"#
            .to_vec(),
    );
    front.answer("/der/info", info.clone());
    front.answer(
        "/der/credentials/info",
        br#"{"key":{"status":"enabled","algo":[]},"cert":{"certificates":["AAEC"]}}"#.to_vec(),
    );
    front.answer("/v3/info", br#"{"specs":"3.0.0.0"}"#.to_vec());
    front.answer("/big/info", vec![b' '; 2 << 20]);
    front.fail("/down/info");
    front.answer("/shape/info", info.clone());
    front.answer("/shape/credentials/info", br#"{"key":"no"}"#.to_vec());
    // A provider whose credential is real but whose signatures are not.
    let real = provider.open("signer-ec");
    let real_info = serde_json::json!({
        "key": {"status": "enabled", "algo": ["1.2.840.10045.4.3.2"]},
        "cert": {"certificates": [b64(&real.certificate)]},
    });
    for (path, signature) in [
        ("/forged", b64(&[0x30, 0x06, 2, 1, 1, 2, 1, 1])),
        ("/short", "AAAA".to_owned()),
    ] {
        front.answer(&format!("{path}/info"), info.clone());
        front.answer(
            &format!("{path}/credentials/info"),
            real_info.to_string().into_bytes(),
        );
        front.answer(
            &format!("{path}/credentials/authorize"),
            br#"{"SAD":"sad"}"#.to_vec(),
        );
        front.answer(
            &format!("{path}/signatures/signHash"),
            serde_json::json!({ "signatures": [signature] })
                .to_string()
                .into_bytes(),
        );
    }
    let at = |path: &str| CredentialRef::parse(&format!("csc:{}#x", front.url(path))).unwrap();
    let no_secrets = Access::default();
    for (path, method) in [
        ("/json", "info"),
        ("/b64", "credentials/info"),
        ("/der", "credentials/info"),
        ("/shape", "credentials/info"),
    ] {
        let error = remote(open(&at(path), &no_secrets));
        assert!(
            matches!(&error, E::Malformed { method: m, .. } if *m == method),
            "{path}: {error:?}"
        );
    }
    let error = remote(open(&at("/v3"), &no_secrets));
    assert!(matches!(error, E::UnsupportedVersion { .. }), "{error:?}");
    let error = remote(open(&at("/big"), &no_secrets));
    assert!(matches!(error, E::TooLarge { .. }), "{error:?}");
    let error = remote(open(&at("/down"), &no_secrets));
    assert!(
        matches!(error, E::HttpStatus { status: 500, .. }),
        "{error:?}"
    );
    let forged = open(&at("/forged"), &no_secrets).unwrap();
    let error = forged.key.sign(b"message").unwrap_err();
    assert!(
        matches!(error, SignError::Remote(E::WrongSignature { .. })),
        "{error:?}"
    );
    let short = open(&at("/short"), &no_secrets).unwrap();
    let error = short.key.sign(b"message").unwrap_err();
    assert!(
        matches!(
            error,
            SignError::Remote(E::Malformed {
                method: "signatures/signHash",
                ..
            })
        ),
        "{error:?}"
    );
}

#[test]
fn a_refused_authorisation_is_not_asked_for_again() {
    use kyso::csc::Error as E;
    let provider = Provider::with_pin(Some("2468"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrong-pin"), "1357").unwrap();
    std::fs::write(dir.path().join("pin"), "2468").unwrap();
    let with_pin = |file: &str| Access {
        pin: Some(SecretSource::File(dir.path().join(file))),
        ..provider.access()
    };
    let open = |access: &Access| {
        KeyMaterial::open_remote(
            &provider.reference("signer-rsa"),
            access,
            KeyOptions::default(),
            &[],
        )
        .unwrap()
    };

    let key = open(&with_pin("wrong-pin"));
    let error = key.key.sign(b"first").unwrap_err();
    assert!(
        matches!(error, SignError::Remote(E::AuthorizationRefused { .. })),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("Invalid PIN") && !text.contains("1357"),
        "{text}"
    );
    assert_eq!(provider.authorizations(), 1);
    // Neither this key nor a key opened afresh with the same secrets asks again.
    let error = key.key.sign(b"second").unwrap_err();
    assert!(
        matches!(error, SignError::Remote(E::AlreadyRefused { .. })),
        "{error:?}"
    );
    let reopened = open(&with_pin("wrong-pin"));
    assert!(matches!(
        reopened.key.sign(b"third"),
        Err(SignError::Remote(E::AlreadyRefused { .. }))
    ));
    assert_eq!(provider.authorizations(), 1);

    // The right PIN is another set of secrets: it is asked, and signs.
    let key = open(&with_pin("pin"));
    let signature = key.key.sign(b"fourth").unwrap();
    kyso::signer::verify(
        key.key.public_key_spki(),
        signature.algorithm(),
        b"fourth",
        &signature.to_der(),
    )
    .unwrap();
    assert_eq!(provider.authorizations(), 2);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_serve_keys_entry_names_a_remote_credential_and_the_service_signs_with_it() {
    use crate::api::fixture::{Client, XML, letter, run, seed};
    use kyso::ledger::Store as _;

    let provider = Provider::start();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.sqlite");
    let keys = {
        let mut store = kyso::ledger::sqlite::SqliteStore::open(
            &ledger,
            kyso::ledger::sqlite::Durability::Normal,
        )
        .unwrap();
        seed(&mut store)
    };
    let pki = provider.pki();
    let text = format!(
        r#"
[verify]
trust = ["{root}"]
crls = ["{crl1}", "{crl2}"]
revocation = "offline"

[serve]
listen = "127.0.0.1:0"
ledger = "{ledger}"
sign_workers = 2

[[serve.keys]]
name = "stp-remote"
uri = "{key}"
unit = "STP"
method = "smart"
token_source = "file:{token}"
"#,
        root = pki.join("root.pem").display(),
        crl1 = pki.join("intermediate.crl").display(),
        crl2 = pki.join("root.crl").display(),
        ledger = ledger.display(),
        key = provider.key("signer-ec"),
        token = provider.dir.path().join("token").display(),
    );
    let config = kyso::config::Config::parse(&text, "test", |_| None).unwrap();
    let state =
        kyso::api::AppState::new(&config, kyso::api::StoreConfig::Sqlite(ledger.clone())).unwrap();
    let (url, stop, thread) = run(state);
    let client = Client::new(&url);
    let verifier = verifier_for(&pki);

    let reply = client.post(
        "/v1/sign/pdf?key=stp-remote&document_id=STP-CSC-1",
        &keys.signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("x-kyso-indication"), Some("TOTAL-PASSED"));
    assert_passes(&verifier, &reply.body, "service PDF");
    let reply = client.post(
        "/v1/sign/xml?key=stp-remote&document_id=STP-CSC-2",
        &keys.signer,
        "application/xml",
        XML.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_passes(&verifier, &reply.body, "service XML");

    // The ledger and the audit chain name the credential (no secret) and the entry's method.
    let mut store =
        kyso::ledger::sqlite::SqliteStore::open(&ledger, kyso::ledger::sqlite::Durability::Normal)
            .unwrap();
    assert_eq!(store.totals().unwrap().signatures, 2);
    let entries = store.audit_entries(0, 100).unwrap();
    let signature = entries
        .iter()
        .find(|e| e.record.action == "signature")
        .expect("a signature entry");
    let details: serde_json::Value = serde_json::from_str(&signature.record.details).unwrap();
    assert_eq!(details["key"], "stp-remote");
    assert_eq!(details["key_uri"], provider.key("signer-ec"));
    assert_eq!(details["method"], "smart");
    assert!(!signature.record.details.contains(&provider.token));
    let _ = stop.send(());
    thread.join().unwrap();
}

#[test]
fn rsa_pss_and_sha512_go_through_the_provider_as_chosen() {
    use kyso::signer::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
    let provider = Provider::start();
    let verifier = verifier_for(&provider.pki());
    for (label, scheme, expected) in [
        (
            "signer-rsa",
            SignatureScheme::RsaPss(DigestAlgorithm::Sha256),
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        ),
        (
            "signer-rsa",
            SignatureScheme::RsaPkcs1v15(DigestAlgorithm::Sha512),
            SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512),
        ),
        (
            "signer-ec",
            SignatureScheme::Ecdsa(DigestAlgorithm::Sha384),
            SignatureAlgorithm::Ecdsa(kyso::signer::Curve::P256, DigestAlgorithm::Sha384),
        ),
    ] {
        let key = KeyMaterial::open_remote(
            &provider.reference(label),
            &provider.access(),
            KeyOptions {
                scheme: Some(scheme),
            },
            &[],
        )
        .unwrap();
        assert_eq!(key.key.algorithm(), expected);
        let input = sample_pdf(&SampleOptions::default());
        let options = kyso::pdf::SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
        let signed = signing(&key).pdf(&input, options).unwrap().to_vec();
        assert_passes(&verifier, &signed, &format!("{label} {scheme}"));
    }
    // A scheme the key cannot make is refused when the key is opened, before any signature.
    let refused = KeyMaterial::open_remote(
        &provider.reference("signer-ec"),
        &provider.access(),
        KeyOptions {
            scheme: Some(SignatureScheme::RsaPss(DigestAlgorithm::Sha256)),
        },
        &[],
    );
    assert!(
        matches!(
            refused,
            Err(kyso::signing::Error::Remote(
                kyso::csc::Error::UnsupportedKey { .. }
            ))
        ),
        "{:?}",
        refused.err()
    );
    assert_eq!(provider.authorizations(), 3);
}

#[test]
fn the_v2_wire_signs_too_with_the_pin_in_auth_data() {
    let provider = Provider::with_pin(Some("8642"));
    let verifier = verifier_for(&provider.pki());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pin"), "8642").unwrap();
    let access = Access {
        pin: Some(SecretSource::File(dir.path().join("pin"))),
        ..provider.access()
    };
    for label in ["signer-rsa", "signer-ec"] {
        let reference = CredentialRef::parse(&provider.key_v2(label)).unwrap();
        let key =
            KeyMaterial::open_remote(&reference, &access, KeyOptions::default(), &[]).unwrap();
        let kyso::signing::SigningKey::Remote(remote) = &key.key else {
            panic!("a remote key");
        };
        assert_eq!(remote.version(), kyso::csc::Version::V2);
        let input = sample_pdf(&SampleOptions::default());
        let options = kyso::pdf::SignatureOptions::new(time::OffsetDateTime::now_utc(), 0);
        let signed = signing(&key).pdf(&input, options).unwrap().to_vec();
        assert_passes(&verifier, &signed, &format!("v2 {label}"));
        let xml = signing(&key)
            .xml(LETTER_XML.as_bytes(), XmlOptions::default())
            .unwrap()
            .to_vec();
        assert_passes(&verifier, &xml, &format!("v2 {label} XAdES"));
    }
    assert_eq!(provider.authorizations(), 4);
}

#[test]
fn an_async_csc_key_signs_through_a_job_done_refused_expired_forged_and_unit_bound() {
    use crate::api::fixture::{Client, letter, run, seed};
    use crate::api::jobs::{assert_verifies, signatures_by_method, start_job, wait};
    use kyso::ledger::Store as _;

    let provider = Provider::start();
    let dir = provider.dir.path();
    let ledger = dir.join("ledger.sqlite");
    let keys = {
        let mut store = kyso::ledger::sqlite::SqliteStore::open(
            &ledger,
            kyso::ledger::sqlite::Durability::Normal,
        )
        .unwrap();
        seed(&mut store)
    };
    let pki = provider.pki();
    let mut text = format!(
        r#"
[verify]
trust = ["{root}"]
crls = ["{crl1}", "{crl2}"]
revocation = "offline"

[csc]
token_source = "file:{token}"

[serve]
listen = "127.0.0.1:0"
ledger = "{ledger}"
sign_workers = 2

[serve.jobs]
retention_seconds = 600
"#,
        root = pki.join("root.pem").display(),
        crl1 = pki.join("intermediate.crl").display(),
        crl2 = pki.join("root.crl").display(),
        ledger = ledger.display(),
        token = dir.join("token").display(),
    );
    for (name, uri, deadline) in [
        (
            "stp-async",
            provider.key_async("confirms", "signer-rsa"),
            120,
        ),
        (
            "stp-async-ec",
            provider.key_async("confirms", "signer-ec"),
            120,
        ),
        (
            "stp-async-refuses",
            provider.key_async("refuses", "signer-rsa"),
            120,
        ),
        (
            "stp-async-silent",
            provider.key_async("silent", "signer-rsa"),
            3,
        ),
        (
            "stp-async-forged",
            provider.key_async("forged", "signer-rsa"),
            120,
        ),
        // CSC v1.0.4 has no asynchronous mode.
        ("stp-async-v1", provider.key("signer-rsa"), 120),
    ] {
        text.push_str(&format!(
            r#"
[[serve.keys]]
name = "{name}"
uri = "{uri}"
unit = "STP"
method = "smart"
mode = "async"
poll_seconds = 1
deadline_seconds = {deadline}
"#
        ));
    }
    let config = kyso::config::Config::parse(&text, "test", |_| None).unwrap();
    let state =
        kyso::api::AppState::new(&config, kyso::api::StoreConfig::Sqlite(ledger.clone())).unwrap();
    let (url, stop, thread) = run(state);
    let client = Client::new(&url);

    // Another unit's signer may not use the key.
    let refused = client.post(
        "/v1/sign/pdf?key=stp-async",
        &keys.other_signer,
        "application/pdf",
        letter(),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    let done = start_job(&client, &keys.signer, "stp-async", "csc-async-done");
    let done_ec = start_job(&client, &keys.signer, "stp-async-ec", "csc-async-ec");
    let refused = start_job(&client, &keys.signer, "stp-async-refuses", "csc-async-no");
    let expired = start_job(&client, &keys.signer, "stp-async-silent", "csc-async-late");
    let forged = start_job(
        &client,
        &keys.signer,
        "stp-async-forged",
        "csc-async-forged",
    );
    // Another unit's caller sees no job, as for an id that does not exist.
    for location in [&done, &refused, &expired, &forged] {
        client
            .get(location, Some(&keys.other_signer))
            .problem(404, "not-found");
    }
    // Pending while the holder has not confirmed (the service confirms after 2 s).
    let pending = client.get(&done, Some(&keys.signer));
    assert_eq!(pending.status, 202, "{}", pending.text());

    // Done: the signed PDF, once; it verifies in kyso and in pdfsig.
    for location in [&done, &done_ec] {
        let reply = wait(&client, &keys.signer, location, Duration::from_secs(60));
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/pdf"));
        assert_verifies(dir, &reply.body);
        client
            .get(location, Some(&keys.signer))
            .problem(404, "not-found");
    }

    // The holder refused: 403, no document.
    let reply = wait(&client, &keys.signer, &refused, Duration::from_secs(30));
    let problem = reply.problem(403, "signing-refused");
    assert!(problem["detail_vi"].as_str().unwrap().contains("từ chối"));
    // Nobody confirmed before the deadline: 410.
    let reply = wait(&client, &keys.signer, &expired, Duration::from_secs(30));
    reply.problem(410, "signing-expired");
    // A signature that does not verify with the credential's certificate: 502, no document.
    let reply = wait(&client, &keys.signer, &forged, Duration::from_secs(30));
    let problem = reply.problem(502, "signing-failed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{problem}"
    );

    // A v1.0.4 service cannot answer later: the request fails at once, and no job is made.
    let v1 = client.post(
        "/v1/sign/pdf?key=stp-async-v1",
        &keys.signer,
        "application/pdf",
        letter(),
    );
    let problem = v1.problem(502, "upstream-failed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no asynchronous mode"),
        "{problem}"
    );

    // Two signatures in the ledger, as `smart`, naming the credential (no secret); each
    // request signed at most once by the service, however often it was polled.
    assert_eq!(signatures_by_method(&ledger, "smart"), 2);
    let mut store =
        kyso::ledger::sqlite::SqliteStore::open(&ledger, kyso::ledger::sqlite::Durability::Normal)
            .unwrap();
    assert_eq!(store.totals().unwrap().signatures, 2);
    let entries = store.audit_entries(0, 100).unwrap();
    let signature = entries
        .iter()
        .find(|e| e.record.action == "signature")
        .expect("a signature entry");
    let details: serde_json::Value = serde_json::from_str(&signature.record.details).unwrap();
    assert!(
        details["key_uri"].as_str().unwrap().starts_with(&format!(
            "csc:http://127.0.0.1:{}/csc/async/confirms#",
            provider.port
        )),
        "{details}"
    );
    assert_eq!(details["method"], "smart");
    assert!(!signature.record.details.contains(&provider.token));
    let signed = provider.async_signed();
    assert_eq!(signed.len(), 5, "{signed:?}");
    assert!(signed.iter().all(|n| *n <= 1), "{signed:?}");
    assert_eq!(signed.iter().sum::<u64>(), 3, "{signed:?}");
    let _ = stop.send(());
    thread.join().unwrap();
}
