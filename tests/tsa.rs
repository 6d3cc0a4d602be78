//! The TSA client (`kyso::tsp`) against TSAs as they are: over HTTPS under a private CA given as
//! `[tsa] ca`, answering in chunks, slower than the deadline, too much, or wanting credentials.
//! Every TSA is `openssl ts -reply` behind the responders' loopback front, and for HTTPS behind
//! the rustls front relaying to it.

use std::time::{Duration, Instant};

use kyso::config::Config;
use kyso::pades::Level;
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signer::DigestAlgorithm;
use kyso::testpki::{PkiOptions, TestPki};
use kyso::token::KeyAlgorithm;
use kyso::tsp::{self, Error};
use time::OffsetDateTime;

use crate::support::Signing;
use crate::support::https::HttpsFront;
use crate::support::responders::{Delivery, Responders, Tsa};

const IMPRINT: [u8; 32] = [7; 32];

/// A TSA certified by a fresh test PKI (kept alive by the caller).
fn test_tsa() -> Tsa {
    Tsa::for_pki(&TestPki::new(PkiOptions::default()).unwrap())
}

fn config(text: &str) -> Config {
    Config::parse(text, "test kyso.toml", |_| None).unwrap()
}

/// Asks for a token over [`IMPRINT`].
fn ask(tsa: &tsp::Tsa) -> Result<Vec<u8>, Error> {
    tsp::timestamp(tsa, DigestAlgorithm::Sha256, &IMPRINT)
}

/// A file holding `secret`, for a `file:` source.
fn secret_file(dir: &std::path::Path, name: &str, secret: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, secret).unwrap();
    format!("file:{}", path.display())
}

#[test]
fn b_t_over_https_with_the_tsa_ca_from_kyso_toml() {
    let signing = Signing::new(KeyAlgorithm::P256, "Lê Thị Mai");
    let front = Responders::start();
    let tsa = Tsa::for_pki(&signing.pki);
    front.serve_tsa("/tsa", &tsa);
    let https = HttpsFront::start(front.port());
    let toml = format!(
        "[tsa]\nurl = '{}'\nca = '{}'\n",
        https.url("/tsa"),
        https.ca_file().display()
    );
    let endpoint = config(&toml).tsa(None).unwrap().unwrap();
    let level = Level::BT { tsa: endpoint };
    let input = sample_pdf(&SampleOptions::default());
    let options = SignatureOptions::new(
        OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &level),
    );
    let signed = kyso::pades::sign(&input, &signing.identity(), &options, &level)
        .unwrap()
        .to_vec();
    let report = signing.verifier().verify(&signed);
    let signature = &report.signatures[0];
    assert_eq!(
        signature.indication,
        kyso::verify::Indication::TotalPassed,
        "{:?}",
        signature.reasons
    );
    assert!(
        signature.timestamp_time.is_some(),
        "no signature time-stamp"
    );

    // The platform's roots do not know the test CA: without `[tsa] ca` the handshake fails,
    // and the error names the TSA.
    let err = ask(&tsp::Tsa::new(https.url("/tsa"))).unwrap_err();
    eprintln!("without [tsa] ca: {err}");
    assert!(matches!(err, Error::Tls { .. }), "{err}");
    assert!(err.to_string().contains(&https.url("/tsa")), "{err}");
}

#[test]
fn a_chunked_tsa_answer_is_read() {
    let front = Responders::start();
    let tsa = test_tsa();
    front.serve_tsa_with("/tsa", &tsa, Delivery::Chunked(100), None);
    let token = ask(&tsp::Tsa::new(front.url("/tsa"))).unwrap();
    let info = kyso::cms::TstInfo::of_token(&token).unwrap();
    assert_eq!(info.hashed_message, IMPRINT);
}

#[test]
fn a_tsa_trickling_past_the_deadline_fails_within_it() {
    let front = Responders::start();
    let tsa = test_tsa();
    // A token is over a kilobyte: at a byte every 200 ms it would take minutes.
    front.serve_tsa_with(
        "/slow",
        &tsa,
        Delivery::Trickled(Duration::from_millis(200)),
        None,
    );
    let mut endpoint = tsp::Tsa::new(front.url("/slow"));
    endpoint.timeout = Duration::from_secs(2);
    let start = Instant::now();
    let err = ask(&endpoint).unwrap_err();
    let took = start.elapsed();
    eprintln!("after {took:?}: {err}");
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(
        took < endpoint.timeout + Duration::from_secs(1),
        "gave up after {took:?}, the deadline is {:?}",
        endpoint.timeout
    );
}

#[test]
fn an_oversized_tsa_answer_is_refused() {
    let front = Responders::start();
    front.answer("/big", vec![0x30; 2 << 20]);
    let err = ask(&tsp::Tsa::new(front.url("/big"))).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit } if limit == tsp::MAX_RESPONSE),
        "{err}"
    );
}

#[test]
fn wrong_tsa_credentials_give_a_clear_401_error() {
    let front = Responders::start();
    let tsa = test_tsa();
    // RFC 7617: base64("kyso:right"); RFC 6750: the bearer token as given.
    front.serve_tsa_with(
        "/basic",
        &tsa,
        Delivery::Sized,
        Some("Basic a3lzbzpyaWdodA=="),
    );
    front.serve_tsa_with("/bearer", &tsa, Delivery::Sized, Some("Bearer t0ken"));
    let https = HttpsFront::start(front.port());
    let dir = tempfile::tempdir().unwrap();
    let endpoint = |path: &str, credentials: &str| {
        let toml = format!(
            "[tsa]\nurl = '{}'\nca = '{}'\n{credentials}",
            https.url(path),
            https.ca_file().display()
        );
        config(&toml).tsa(None).unwrap().unwrap()
    };

    let wrong = secret_file(dir.path(), "wrong", "wr0ng-passw0rd");
    let err = ask(&endpoint(
        "/basic",
        &format!("user = 'kyso'\npassword_source = '{wrong}'\n"),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthorized {
                credentials_sent: true,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    eprintln!("wrong password: {message}");
    assert!(message.contains("401") && message.contains("refused the credentials"));
    assert!(!message.contains("wr0ng"), "{message}");

    let err = ask(&endpoint("/basic", "")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthorized {
                credentials_sent: false,
                ..
            }
        ),
        "{err}"
    );

    let right = secret_file(dir.path(), "right", "right\n");
    ask(&endpoint(
        "/basic",
        &format!("user = 'kyso'\npassword_source = '{right}'\n"),
    ))
    .unwrap();
    let token = secret_file(dir.path(), "token", "t0ken");
    ask(&endpoint("/bearer", &format!("token_source = '{token}'\n"))).unwrap();

    // Never in clear: the same credentials refused for an http:// TSA before anything is sent.
    let plain = config(&format!(
        "[tsa]\nurl = '{}'\ntoken_source = '{token}'\n",
        front.url("/bearer")
    ))
    .tsa(None)
    .unwrap()
    .unwrap();
    assert!(matches!(
        ask(&plain),
        Err(Error::CredentialsOverHttp { .. })
    ));
}
