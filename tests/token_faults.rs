//! HSM faults SoftHSM never produces, through a fault-injecting module in front of it: device
//! errors, a locked PIN, session exhaustion, sessions invalidated under us. Each must give a
//! clear error and recover without a restart, and a wrong PIN must reach the token once.

use std::sync::Arc;

use kyso::signer::Signer;
use kyso::token::{self, Error, KeyAlgorithm, Pin, Pkcs11Uri, Token, TokenDefaults};

use crate::support::{FAULT_TOKEN, fault_module, module_calls, set_faults, tokens, unique};

fn fault_token() -> Arc<Token> {
    let t = tokens();
    set_faults("");
    let defaults = TokenDefaults {
        module: Some(fault_module().to_owned()),
        pin_source: Some(t.pin_source(FAULT_TOKEN)),
        ..TokenDefaults::default()
    };
    let uri = Pkcs11Uri {
        token: Some(FAULT_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &defaults).expect("the fault module fronts SoftHSM");
    token
        .ensure_login(defaults.pin_source.as_ref())
        .expect("log in through the fault module");
    token
}

#[test]
fn a_device_error_is_reported_and_the_next_signature_recovers() {
    let token = fault_token();
    let key = token::generate_key_pair(&token, &unique("dev"), None, KeyAlgorithm::P256).unwrap();
    key.sign(b"before").unwrap();
    let discarded = token.stats().discarded_total;

    set_faults("sign device-error 1\n");
    let kyso::signer::SignError::Token(err) = key.sign(b"during").unwrap_err() else {
        panic!("a token key fails as a token")
    };
    assert_eq!(
        err.return_value(),
        Some(cryptoki::error::RvError::DeviceError),
        "{err}"
    );
    assert!(
        err.to_string().contains(FAULT_TOKEN),
        "the error names the token: {err}"
    );
    assert!(err.to_string().contains("C_Sign"), "and the call: {err}");
    assert_eq!(
        token.stats().discarded_total,
        discarded + 1,
        "a session that saw a device error is not lent again"
    );

    // The fault is spent: the next signature goes through without a restart.
    let signature = key.sign(b"after").unwrap();
    kyso::signer::verify(
        key.public_key_spki(),
        key.algorithm(),
        b"after",
        &signature.to_der(),
    )
    .unwrap();
}

#[test]
fn an_invalidated_session_is_replaced_transparently() {
    let token = fault_token();
    let key = token::generate_key_pair(&token, &unique("inv"), None, KeyAlgorithm::P256).unwrap();
    let discarded = token.stats().discarded_total;
    set_faults("sign session-invalid 1\n");
    let signature = key
        .sign(b"document")
        .expect("retried once on a fresh session");
    kyso::signer::verify(
        key.public_key_spki(),
        key.algorithm(),
        b"document",
        &signature.to_der(),
    )
    .unwrap();
    assert_eq!(token.stats().discarded_total, discarded + 1);
}

#[test]
fn a_locked_pin_is_named_and_a_wrong_pin_reaches_the_token_once() {
    let t = tokens();
    set_faults("");
    let defaults = TokenDefaults {
        module: Some(fault_module().to_owned()),
        ..TokenDefaults::default()
    };
    let uri = Pkcs11Uri {
        token: Some(FAULT_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &defaults).unwrap();
    if token.is_logged_in() {
        // Another test of this process logged in already; the PIN checks need a fresh token.
        return;
    }
    let before = module_calls("C_Login");
    for _ in 0..5 {
        let _ = token.login(Pin::new("999999".to_owned()));
    }
    assert_eq!(
        module_calls("C_Login") - before,
        1,
        "five attempts with one wrong PIN reached the token once"
    );

    set_faults("login pin-locked\n");
    let err = token.login(Pin::new(t.pin(FAULT_TOKEN))).unwrap_err();
    assert!(
        matches!(err, Error::PinLocked { ref token } if token == FAULT_TOKEN),
        "{err}"
    );
    assert!(
        err.to_string().contains("SO PIN"),
        "the error says what to do: {err}"
    );

    set_faults("");
    token.login(Pin::new(t.pin(FAULT_TOKEN))).unwrap();
}

#[test]
fn session_exhaustion_is_an_error_then_recovers() {
    let t = tokens();
    set_faults("open session-count\n");
    // A token opened fresh must open a session to log in.
    let defaults = TokenDefaults {
        module: Some(fault_module().to_owned()),
        pin_source: Some(t.pin_source(FAULT_TOKEN)),
        max_sessions: 2,
    };
    let uri = Pkcs11Uri {
        token: Some(FAULT_TOKEN.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &defaults).unwrap();
    let key_label = unique("count");
    let result = token
        .ensure_login(defaults.pin_source.as_ref())
        .and_then(|()| token::generate_key_pair(&token, &key_label, None, KeyAlgorithm::P256));
    match result {
        Err(e) => {
            assert_eq!(
                e.return_value(),
                Some(cryptoki::error::RvError::SessionCount),
                "{e}"
            );
            assert!(e.to_string().contains("C_OpenSession"), "{e}");
        }
        // Sessions already pooled by an earlier test of this process served the call.
        Ok(_) => assert!(token.stats().open > 0),
    }
    set_faults("");
    token.ensure_login(defaults.pin_source.as_ref()).unwrap();
    let key = token::generate_key_pair(&token, &unique("count"), None, KeyAlgorithm::P256).unwrap();
    key.sign(b"after").unwrap();
}

/// A token deleted under a running process (an operator re-initialising it, a USB token pulled):
/// signing fails with an error naming the token, and once a token with the same label is back,
/// opening the key again works in the same process — no restart.
#[test]
fn a_token_deleted_and_recreated_is_found_again_without_a_restart() {
    use std::process::Command;
    let t = tokens();
    let label = "kyso-recreated";
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("softhsm/token-create.sh");
    assert!(
        Command::new(&script)
            .arg(&t.dir)
            .arg(label)
            .status()
            .unwrap()
            .success()
    );
    let defaults = TokenDefaults {
        module: Some(t.module.clone()),
        pin_source: Some(t.pin_source(label)),
        ..TokenDefaults::default()
    };
    let uri = Pkcs11Uri {
        token: Some(label.to_owned()),
        object: Some("signer".to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &defaults).unwrap();
    token.ensure_login(defaults.pin_source.as_ref()).unwrap();
    let old_key = token::generate_key_pair(&token, "signer", None, KeyAlgorithm::P256).unwrap();
    old_key.sign(b"before").unwrap();

    let deleted = Command::new("softhsm2-util")
        .args(["--delete-token", "--token", label])
        .env("SOFTHSM2_CONF", t.dir.join("softhsm2.conf"))
        .output()
        .unwrap();
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let err = old_key.sign(b"during").unwrap_err();
    assert!(
        err.to_string().contains(label),
        "the error names the token: {err}"
    );

    assert!(
        Command::new(&script)
            .arg(&t.dir)
            .arg(label)
            .status()
            .unwrap()
            .success()
    );
    // SoftHSM answers CKR_GENERAL_ERROR until it is initialised afresh: kyso does that itself.
    let token = Token::open(&uri, &defaults).expect("the new token is found in this process");
    token.ensure_login(defaults.pin_source.as_ref()).unwrap();
    let key = token::generate_key_pair(&token, "signer", None, KeyAlgorithm::P256).unwrap();
    key.sign(b"after").unwrap();
    // The key opened before the deletion is closed, and says to open it again.
    assert!(matches!(
        old_key.sign(b"late"),
        Err(kyso::signer::SignError::Token(Error::ShutDown))
    ));
}
