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
//! whatever else the machine is doing. Throughput is given per wall-clock second and per second
//! of this process's CPU time: on a shared machine the second says how much work each signature
//! costs kyso, independent of what else runs. The target is kyso ≥ 90% of raw.

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
        "{:<10} {:>7} {:>12} {:>12} {:>7} {:>14} {:>14} {:>7}",
        "key",
        "threads",
        "raw sig/s",
        "kyso sig/s",
        "ratio",
        "raw sig/CPU-s",
        "kyso sig/CPU-s",
        "ratio"
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
            let mut best_raw = Rate::default();
            let mut best_kyso = Rate::default();
            for _ in 0..2 {
                best_raw = better(
                    best_raw,
                    run_threads(threads, || {
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
                    }),
                );
                best_kyso = better(
                    best_kyso,
                    run_threads(threads, || {
                        let key = Arc::clone(&key);
                        let message = [0x31u8; 200];
                        move || {
                            key.sign(&message).unwrap();
                        }
                    }),
                );
            }
            println!(
                "{:<10} {:>7} {:>12.0} {:>12.0} {:>6.1}% {:>14.0} {:>14.0} {:>6.1}%",
                algorithm.to_string(),
                threads,
                best_raw.wall,
                best_kyso.wall,
                100.0 * best_kyso.wall / best_raw.wall,
                best_raw.cpu,
                best_kyso.cpu,
                100.0 * best_kyso.cpu / best_raw.cpu
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

/// This process's CPU time (user + system) in seconds, from `/proc/self/stat`: the work done,
/// whatever else the machine is running.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is parenthesised and may contain spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

/// Operations per wall-clock second and per CPU second.
#[derive(Clone, Copy, Default)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Runs `threads` workers for [`RUN`], each built by `make` on the main thread and then calling
/// its closure in a loop; returns operations per second over all workers.
fn run_threads<F, W>(threads: usize, make: F) -> Rate
where
    F: Fn() -> W,
    W: FnMut() + Send + 'static,
{
    let workers: Vec<W> = (0..threads).map(|_| make()).collect();
    let cpu_start = cpu_seconds();
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
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu_start).max(0.01);
    Rate {
        wall: total as f64 / wall,
        cpu: total as f64 / cpu,
    }
}

/// The better of two runs, per measure.
fn better(a: Rate, b: Rate) -> Rate {
    Rate {
        wall: a.wall.max(b.wall),
        cpu: a.cpu.max(b.cpu),
    }
}

fn softhsm_version() -> String {
    Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}
