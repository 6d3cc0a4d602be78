//! What every bench needs: a throwaway SoftHSM token made by the project's own script, a raw
//! PKCS#11 handle on the same module for the "raw C_Sign" peer, and throughput measured per
//! wall-clock second and per second of processor time (on a machine shared with other work the
//! second is the fair measure of the work done). Included by each bench with `mod common;`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use kyso::signer::SignatureAlgorithm;
use kyso::token::{PinSource, Pkcs11Uri, Token, TokenDefaults};

/// A token for one bench, logged in.
pub struct BenchToken {
    pub token: Arc<Token>,
    pub module: PathBuf,
    pub dir: PathBuf,
    pub pin_file: PathBuf,
    pub defaults: TokenDefaults,
    pub label: String,
}

impl BenchToken {
    /// Creates a fresh token `label` under `target/<dir>` with `softhsm/token-create.sh`, points
    /// SoftHSM at it and logs in. Call first in `main`, before any thread starts.
    pub fn create(dir: &str, label: &str) -> BenchToken {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("target").join(dir);
        let _ = std::fs::remove_dir_all(&dir);
        let status = Command::new(root.join("softhsm/token-create.sh"))
            .arg(&dir)
            .arg(label)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run softhsm/token-create.sh");
        assert!(status.success(), "token-create.sh failed");
        // SAFETY: called first in `main`: no thread has been started and no library has read the
        // environment, so setting a variable cannot race a reader.
        unsafe { std::env::set_var("SOFTHSM2_CONF", dir.join("softhsm2.conf")) };

        let module = softhsm_module();
        let pin_file = dir.join(format!("{label}.pin"));
        let defaults = TokenDefaults {
            module: Some(module.clone()),
            pin_source: Some(PinSource::File(pin_file.clone())),
            ..TokenDefaults::default()
        };
        let uri = Pkcs11Uri {
            token: Some(label.to_owned()),
            ..Pkcs11Uri::default()
        };
        let token = Token::open(&uri, &defaults).expect("open token");
        token
            .ensure_login(defaults.pin_source.as_ref())
            .expect("login");
        BenchToken {
            token,
            module,
            dir,
            pin_file,
            defaults,
            label: label.to_owned(),
        }
    }

    /// A second handle on the same module for the raw `C_Sign` loop, the token's slot and PIN.
    /// The module is initialised already (C_Initialize runs once per process); the login is
    /// shared, as PKCS#11 login state is.
    pub fn raw(&self) -> (Pkcs11, Slot, AuthPin) {
        let raw = Pkcs11::new(&self.module).expect("load module");
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
            .expect("slots")
            .into_iter()
            .find(|s| {
                raw.get_token_info(*s)
                    .is_ok_and(|i| i.label() == self.label)
            })
            .expect("the bench token's slot");
        let pin = AuthPin::from(
            std::fs::read_to_string(&self.pin_file)
                .expect("the PIN file")
                .trim()
                .to_owned(),
        );
        (raw, slot, pin)
    }
}

/// A raw `C_Sign` worker for [`run_threads`]: its own session on `slot`, the private key
/// labelled `label` found once, then per call one `C_Sign` of a precomputed digest (wrapped in
/// a DigestInfo for RSA PKCS#1 v1.5) with the mechanism kyso itself uses for `algorithm`.
pub fn raw_sign_worker(
    raw: &Pkcs11,
    slot: Slot,
    pin: &AuthPin,
    label: &str,
    algorithm: SignatureAlgorithm,
) -> impl FnMut() + Send + 'static {
    let digest = algorithm.digest().digest(b"bench");
    let (is_rsa, input) = match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => (true, d.digest_info(&digest)),
        _ => (false, digest),
    };
    let session = raw.open_ro_session(slot).unwrap();
    let _ = session.login(UserType::User, Some(pin));
    let handle = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .unwrap()[0];
    move || {
        // Mechanism is not Send; building it is a copy of one enum value.
        let mechanism = if is_rsa {
            Mechanism::RsaPkcs
        } else {
            Mechanism::Ecdsa
        };
        session.sign(&mechanism, handle, &input).unwrap();
    }
}

/// SoftHSM's module where Debian installs it.
pub fn softhsm_module() -> PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("libsofthsm2.so not found: apt-get install softhsm2")
}

pub fn softhsm_version() -> String {
    Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

/// This process's processor time (user + system) in seconds, from `/proc/self/stat` (fields 14
/// and 15, in clock ticks). SoftHSM runs in this process, so the token's work is counted too.
pub fn cpu_seconds() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is parenthesised and may contain spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name and state.
    (field(11) + field(12)) / ticks
}

/// Operations per wall-clock second and per processor second.
#[derive(Clone, Copy, Default)]
pub struct Rate {
    pub wall: f64,
    pub cpu: f64,
}

impl Rate {
    /// The better of two runs, per measure.
    pub fn better(self, other: Rate) -> Rate {
        Rate {
            wall: self.wall.max(other.wall),
            cpu: self.cpu.max(other.cpu),
        }
    }
}

/// Runs `threads` workers for `run`, each built by `make` on the main thread and then calling its
/// closure in a loop; returns operations per second over all workers.
pub fn run_threads<F, W>(threads: usize, run: Duration, make: F) -> Rate
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
                while start.elapsed() < run {
                    work();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles
        .into_iter()
        .map(|h| h.join().expect("a bench worker panicked"))
        .sum();
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu_start).max(0.01);
    Rate {
        wall: total as f64 / wall,
        cpu: total as f64 / cpu,
    }
}

/// Runs `kyso serve`'s router with `state` on 127.0.0.1:0 in a thread of its own: the base URL,
/// the sender that stops it, and the thread.
pub fn serve(
    state: kyso::api::AppState,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (bound, address) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            bound.send(listener.local_addr().unwrap()).unwrap();
            kyso::api::serve(
                listener,
                state,
                async {
                    let _ = stopped.await;
                },
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        });
    });
    let address = address.recv().unwrap();
    (format!("http://{address}"), stop, thread)
}

/// What a bench of `kyso serve` signs with and as: an RSA-2048 key `key` on the bench's token
/// with a test-PKI certificate, the PKI's authorities under `dir/pki` (for `[verify]`), a
/// SQLite ledger `dir/ledger.sqlite` with units TINH > STP, and a signer API key of STP.
pub struct SignerSetup {
    pub pki: kyso::testpki::TestPki,
    pub pki_dir: PathBuf,
    pub certificate: Vec<u8>,
    pub ledger: PathBuf,
    /// The API key as a caller presents it (`Authorization: Bearer …`).
    pub api_key: String,
}

impl SignerSetup {
    pub fn create(bench: &BenchToken, key: &str) -> SignerSetup {
        use kyso::api::auth::{self, Role};
        use kyso::testpki::{PkiOptions, SignerName, SignerProfile, TestPki};

        let token = &bench.token;
        let generated =
            kyso::token::generate_key_pair(token, key, None, kyso::token::KeyAlgorithm::Rsa2048)
                .unwrap();
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let cert = pki
            .issue(
                kyso::signer::Signer::public_key_spki(&generated),
                &SignerName::new("Nguyễn Văn An", "UBND tỉnh Thử Nghiệm", "Sở Tư pháp"),
                SignerProfile::Valid,
            )
            .unwrap();
        kyso::token::import_certificate(token, key, None, &cert.der).unwrap();
        let pki_dir = bench.dir.join("pki");
        std::fs::create_dir_all(&pki_dir).unwrap();
        pki.write_authorities(&pki_dir).unwrap();

        let ledger = bench.dir.join("ledger.sqlite");
        let mut store = kyso::api::StoreConfig::Sqlite(ledger.clone())
            .open()
            .unwrap();
        let scheme = kyso::ledger::LevelScheme::default();
        let rows = kyso::ledger::units::parse_csv(
            "code,name,level,parent\nTINH,Tỉnh,province,\nSTP,Sở Tư pháp,department,TINH\n"
                .as_bytes(),
            &scheme,
        )
        .unwrap();
        kyso::ledger::units::import(store.as_mut(), &rows, &scheme).unwrap();
        let made = auth::generate(Role::Signer, &["STP".to_owned()], "bench").unwrap();
        let record = kyso::audit::Record::new(
            "bench",
            kyso::audit::Action::ApiKeyCreated,
            made.record.key_id.clone(),
            &serde_json::json!({}),
        );
        store.create_api_key(&made.record, &record).unwrap();
        SignerSetup {
            pki,
            pki_dir,
            certificate: cert.der,
            ledger,
            api_key: made.presented,
        }
    }
}

/// The environment variable `name` parsed, or `default` when it is unset or does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A keep-alive HTTP client that returns every status as a response.
pub fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}
