//! Signatures per second through kyso's token layer against raw `C_Sign` on the same key.
//!
//! `make bench` (or `cargo bench --bench token`). Creates a throwaway SoftHSM token under
//! `target/bench-token`, generates RSA-2048 and P-256 keys in it, then for 1 and 2 threads runs
//! two loops of the same length on the same key:
//! - raw: `C_SignInit` + `C_Sign` of a precomputed digest on a session owned by the thread, the
//!   most a caller of the token could get;
//! - kyso: `TokenKey::sign` of a 200-byte message (a CMS signed-attributes block is about that
//!   size): hashing, a session borrowed from the pool, the same `C_Sign`.
//!
//! Each measurement is taken twice, alternating, and the better run kept, to damp noise from
//! whatever else the machine is doing. The target is kyso ≥ 90% of raw.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use kyso::signer::{DigestAlgorithm, Signer};

use kyso::token::{self, KeyAlgorithm, PinSource, Pkcs11Uri, Token, TokenDefaults};

const LABEL: &str = "kyso-bench";
const RUN: Duration = Duration::from_secs(2);

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-token");
    let _ = std::fs::remove_dir_all(&dir);
    let status =
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("softhsm/token-create.sh"))
            .arg(&dir)
            .arg(LABEL)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run softhsm/token-create.sh");
    assert!(status.success(), "token-create.sh failed");
    // SAFETY: nothing else runs yet: no thread has been started and no library has read the
    // environment, so setting a variable cannot race a reader.
    unsafe { std::env::set_var("SOFTHSM2_CONF", dir.join("softhsm2.conf")) };

    let module = [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(Path::new)
    .find(|p| p.exists())
    .expect("libsofthsm2.so not found: apt-get install softhsm2");
    let pin_file = dir.join(format!("{LABEL}.pin"));
    let defaults = TokenDefaults {
        module: Some(module.to_owned()),
        pin_source: Some(PinSource::File(pin_file.clone())),
        ..TokenDefaults::default()
    };
    let uri = Pkcs11Uri {
        token: Some(LABEL.to_owned()),
        ..Pkcs11Uri::default()
    };
    let token = Token::open(&uri, &defaults).expect("open token");
    token
        .ensure_login(defaults.pin_source.as_ref())
        .expect("login");

    // A second handle on the same module for the raw loop. The module is initialised already
    // (C_Initialize runs once per process); the login is shared, as PKCS#11 login state is.
    let raw = Pkcs11::new(module).expect("load module");
    match raw.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(e) => panic!("C_Initialize: {e}"),
    }
    let slot = raw
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| raw.get_token_info(*s).unwrap().label() == LABEL)
        .unwrap();
    let pin = AuthPin::from(
        std::fs::read_to_string(&pin_file)
            .unwrap()
            .trim()
            .to_owned(),
    );

    println!("token layer vs raw C_Sign, SoftHSM {}", softhsm_version());
    println!(
        "{:<10} {:>7} {:>14} {:>14} {:>7}",
        "key", "threads", "raw sig/s", "kyso sig/s", "ratio"
    );
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        let label = format!("bench-{algorithm}");
        let key = Arc::new(token::generate_key_pair(&token, &label, None, algorithm).unwrap());
        let digest = key.algorithm().digest().digest(b"bench");
        let input = match key.algorithm() {
            kyso::signer::SignatureAlgorithm::RsaPkcs1v15(d) => {
                assert_eq!(d, DigestAlgorithm::Sha256);
                [d.digest_info_prefix(), &digest[..]].concat()
            }
            _ => digest.clone(),
        };
        let is_rsa = matches!(algorithm, KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072);
        for threads in [1usize, 2] {
            let mut best_raw = 0.0f64;
            let mut best_kyso = 0.0f64;
            for _ in 0..2 {
                best_raw = best_raw.max(run_threads(threads, || {
                    let session = raw.open_ro_session(slot).unwrap();
                    let _ = session.login(UserType::User, Some(&pin));
                    let handle = session
                        .find_objects(&[
                            Attribute::Class(ObjectClass::PRIVATE_KEY),
                            Attribute::Label(label.as_bytes().to_vec()),
                        ])
                        .unwrap()[0];
                    let input = input.clone();
                    move || {
                        // Mechanism is not Send; building it is a copy of one enum value.
                        let mechanism = if is_rsa {
                            Mechanism::RsaPkcs
                        } else {
                            Mechanism::Ecdsa
                        };
                        session.sign(&mechanism, handle, &input).unwrap();
                    }
                }));
                best_kyso = best_kyso.max(run_threads(threads, || {
                    let key = Arc::clone(&key);
                    let message = [0x31u8; 200];
                    move || {
                        key.sign(&message).unwrap();
                    }
                }));
            }
            println!(
                "{:<10} {:>7} {:>14.0} {:>14.0} {:>6.1}%",
                algorithm.to_string(),
                threads,
                best_raw,
                best_kyso,
                100.0 * best_kyso / best_raw
            );
        }
    }
    let stats = token.stats();
    println!(
        "kyso pool: {} sessions opened for all kyso runs (max {})",
        stats.opened_total, stats.max_sessions
    );
    token::shutdown(Duration::from_secs(5));
}

/// Runs `threads` workers for [`RUN`], each built by `make` on the main thread and then calling
/// its closure in a loop; returns operations per second over all workers.
fn run_threads<F, W>(threads: usize, make: F) -> f64
where
    F: Fn() -> W,
    W: FnMut() + Send + 'static,
{
    let workers: Vec<W> = (0..threads).map(|_| make()).collect();
    let start = Instant::now();
    let handles: Vec<_> = workers
        .into_iter()
        .map(|mut work| {
            std::thread::spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < RUN {
                    work();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

fn softhsm_version() -> String {
    Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}
