//! Shared fixtures: a throwaway SoftHSM token directory per test process.
//!
//! SoftHSM reads `SOFTHSM2_CONF` once, when the module is initialised, and `C_Initialize` may run
//! once per process. So the variable is pointed at a per-process directory before `main` (while
//! the process is still single-threaded, see [`point_softhsm_at_this_process`]), and the tokens in
//! it are created, through the project's own `softhsm/token-create.sh`, the first time a test
//! asks for them. Under nextest every test is its own process and gets its own tokens; under
//! `cargo test` the tests of one binary share them, so tests use [`unique`] key labels.

#![allow(dead_code)]

pub mod https;
pub mod responders;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use kyso::token::{PinSource, Pkcs11Uri, TokenDefaults};

/// The token most tests sign with.
pub const MAIN_TOKEN: &str = "kyso-test";
/// A token only the wrong-PIN tests log in to, so that their failed logins cannot disturb others.
pub const WRONG_PIN_TOKEN: &str = "kyso-wrongpin";
/// A token for the CLI tests, which run `kyso` as a child process sharing these token files.
pub const CLI_TOKEN: &str = "kyso-cli";
/// A token reached only through the fault-injecting module (see [`fault_module`]).
pub const FAULT_TOKEN: &str = "kyso-faults";

pub struct TestTokens {
    pub dir: PathBuf,
    pub module: PathBuf,
}

fn token_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("tokens")
        .join(std::process::id().to_string())
}

/// Runs before `main`, single-threaded: the only moment `set_var` cannot race a reader.
#[ctor::ctor(unsafe)]
fn point_softhsm_at_this_process() {
    let conf = token_dir().join("softhsm2.conf");
    // SAFETY: constructors run before main, before the test harness starts any thread, so no
    // other thread can be reading the environment concurrently.
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", conf);
        std::env::set_var("KYSO_FAULT_FILE", token_dir().join("faults"));
        if let Some(real) = softhsm_module_if_present() {
            std::env::set_var("KYSO_FAULT_REAL_MODULE", real);
        }
    }
}

/// The tokens of this process, created on first use.
pub fn tokens() -> &'static TestTokens {
    static TOKENS: OnceLock<TestTokens> = OnceLock::new();
    TOKENS.get_or_init(|| {
        remove_dead_processes_tokens();
        let dir = token_dir();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("softhsm/token-create.sh");
        let out = Command::new(&script)
            .arg(&dir)
            .args([MAIN_TOKEN, WRONG_PIN_TOKEN, CLI_TOKEN, FAULT_TOKEN])
            .output()
            .expect("run softhsm/token-create.sh");
        assert!(
            out.status.success(),
            "token-create.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::env::var_os("SOFTHSM2_CONF").map(PathBuf::from),
            Some(dir.join("softhsm2.conf")),
            "SOFTHSM2_CONF was changed after start-up"
        );
        TestTokens {
            dir,
            module: softhsm_module(),
        }
    })
}

impl TestTokens {
    pub fn pin_file(&self, token: &str) -> PathBuf {
        self.dir.join(format!("{token}.pin"))
    }

    pub fn pin(&self, token: &str) -> String {
        std::fs::read_to_string(self.pin_file(token))
            .unwrap()
            .trim_end()
            .to_owned()
    }

    pub fn pin_source(&self, token: &str) -> PinSource {
        PinSource::File(self.pin_file(token))
    }

    pub fn defaults(&self, token: &str) -> TokenDefaults {
        TokenDefaults {
            module: Some(self.module.clone()),
            pin_source: Some(self.pin_source(token)),
            ..TokenDefaults::default()
        }
    }

    /// A complete key URI: token, object, module-path and pin-source.
    pub fn key_uri(&self, token: &str, object: &str) -> Pkcs11Uri {
        Pkcs11Uri {
            token: Some(token.to_owned()),
            object: Some(object.to_owned()),
            module_path: Some(self.module.display().to_string()),
            pin_source: Some(format!("file:{}", self.pin_file(token).display())),
            ..Pkcs11Uri::default()
        }
    }
}

/// SoftHSM's module: `KYSO_TEST_PKCS11_MODULE`, else where Debian installs it.
pub fn softhsm_module() -> PathBuf {
    softhsm_module_if_present()
        .expect("libsofthsm2.so not found: install softhsm2 (sudo apt-get install -y softhsm2)")
}

fn softhsm_module_if_present() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KYSO_TEST_PKCS11_MODULE") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The fault-injecting PKCS#11 module (`tests/fault-pkcs11/fault.c`), built with the system C
/// compiler on first use. It forwards to SoftHSM and fails the calls named in the file at
/// [`fault_file`].
pub fn fault_module() -> &'static Path {
    static MODULE: OnceLock<PathBuf> = OnceLock::new();
    MODULE.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fault-pkcs11/fault.c");
        let out = token_dir().join("libkysofault.so");
        std::fs::create_dir_all(token_dir()).unwrap();
        let status = Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-w", "-o"])
            .arg(&out)
            .arg(&source)
            .arg("-ldl")
            .status()
            .expect("a C compiler (cc) builds the fault-injecting module");
        assert!(status.success(), "cc failed on {}", source.display());
        out
    })
}

/// The file the fault module reads its faults from; see `tests/fault-pkcs11/fault.c`.
pub fn fault_file() -> PathBuf {
    token_dir().join("faults")
}

/// Sets the faults (one per line, e.g. `sign device-error 2`), resetting counters.
pub fn set_faults(spec: &str) {
    let file = fault_file();
    if let Ok(entries) = std::fs::read_dir(token_dir()) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("faults.used.")
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    std::fs::write(file, spec).unwrap();
}

/// How many times the fault module saw `call` (e.g. `C_Login`) since the process started.
pub fn module_calls(call: &str) -> usize {
    let calls = token_dir().join("faults.calls");
    std::fs::read_to_string(calls)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == call)
        .count()
}

/// A label no other test in this process uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Token directories of test processes that have exited: removed so they do not pile up.
fn remove_dead_processes_tokens() {
    let Ok(entries) = std::fs::read_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("tokens"))
    else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs a command and returns its stdout, failing the test with its stderr if it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A token key with a certificate from a fresh test PKI: everything a signing test needs.
pub struct Signing {
    pub key: kyso::token::TokenKey,
    pub certificate: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub pki: kyso::testpki::TestPki,
    /// The PKI's root and intermediate as PEM files, for peers (pdfsig, pyHanko, openssl).
    pub dir: tempfile::TempDir,
}

impl Signing {
    pub fn new(algorithm: kyso::token::KeyAlgorithm, person: &str) -> Signing {
        Signing::with_profile(algorithm, person, kyso::testpki::SignerProfile::Valid)
    }

    /// A signer whose certificate has `profile` (expired, revoked, wrong key usage, …); the
    /// PKI's files (CRLs included) are written after issuing, so a revoked one is listed.
    pub fn with_profile(
        algorithm: kyso::token::KeyAlgorithm,
        person: &str,
        profile: kyso::testpki::SignerProfile,
    ) -> Signing {
        let pki = kyso::testpki::TestPki::new(kyso::testpki::PkiOptions::default()).unwrap();
        Signing::issued_by(pki, algorithm, person, profile)
    }

    /// Like [`Signing::with_profile`] with a given PKI, whose options decide the CRL and OCSP
    /// pointers the certificate carries.
    pub fn issued_by(
        pki: kyso::testpki::TestPki,
        algorithm: kyso::token::KeyAlgorithm,
        person: &str,
        profile: kyso::testpki::SignerProfile,
    ) -> Signing {
        let name = kyso::testpki::SignerName::new(person, "UBND tỉnh Thử Nghiệm", "Sở Tư pháp");
        Signing::named(pki, algorithm, &name, profile)
    }

    /// A token key whose certificate carries `name` as given (a position, another unit).
    pub fn named(
        pki: kyso::testpki::TestPki,
        algorithm: kyso::token::KeyAlgorithm,
        name: &kyso::testpki::SignerName,
        profile: kyso::testpki::SignerProfile,
    ) -> Signing {
        let t = tokens();
        let uri = t.key_uri(MAIN_TOKEN, &unique("signer"));
        let token = kyso::token::Token::open(&uri, &t.defaults(MAIN_TOKEN)).unwrap();
        token.ensure_login(Some(&t.pin_source(MAIN_TOKEN))).unwrap();
        let label = uri.object.clone().unwrap();
        let generated = kyso::token::generate_key_pair(&token, &label, None, algorithm).unwrap();
        let cert = pki
            .issue(
                kyso::signer::Signer::public_key_spki(&generated),
                name,
                profile,
            )
            .unwrap();
        kyso::token::import_certificate(&token, &label, None, &cert.der).unwrap();
        let key =
            kyso::token::TokenKey::on_token(token, Some(&label), None, Default::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        pki.write_authorities(dir.path()).unwrap();
        Signing {
            key,
            certificate: cert.der,
            chain: vec![pki.intermediate.der().to_vec()],
            pki,
            dir,
        }
    }

    pub fn identity(&self) -> kyso::cms::SignerIdentity<'_> {
        kyso::cms::SignerIdentity {
            signer: &self.key,
            certificate: &self.certificate,
            chain: &self.chain,
        }
    }

    pub fn root_pem(&self) -> PathBuf {
        self.dir.path().join("root.pem")
    }

    /// A verifier trusting this PKI's root, with its CRLs as the only revocation evidence.
    pub fn verifier(&self) -> kyso::verify::Verifier {
        verifier_for(self.dir.path())
    }
}

/// A verifier trusting the root in `dir` (as `TestPki::write_authorities` writes it), its CRLs
/// as evidence, offline, now.
pub fn verifier_for(dir: &Path) -> kyso::verify::Verifier {
    verifier_with(dir, |_| {})
}

/// [`verifier_for`] with its options changed by `adjust` (a policy, a scope) first.
pub fn verifier_with(
    dir: &Path,
    adjust: impl FnOnce(&mut kyso::verify::VerifyOptions),
) -> kyso::verify::Verifier {
    let mut trust = kyso::pki::TrustStore::new();
    trust.load(&dir.join("root.pem")).unwrap();
    let mut options = kyso::verify::VerifyOptions::new(trust, time::OffsetDateTime::now_utc());
    for name in ["intermediate.crl", "root.crl"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        for crl in kyso::pki::crl::Crl::from_pem_or_der(&bytes).unwrap() {
            options.evidence.add_crl(crl);
        }
    }
    options.revocation = kyso::verify::Revocation::Offline;
    adjust(&mut options);
    kyso::verify::Verifier::new(options)
}

impl Signing {}

/// `pdfsig`'s report on a file (poppler-utils).
pub fn pdfsig(path: &Path) -> String {
    let out = Command::new("pdfsig")
        .arg(path)
        .output()
        .expect("pdfsig (poppler-utils) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// `pyhanko sign validate` against exactly these trust roots; one line per signature,
/// `NAME:HASH:INTACT:TRUSTED,…`.
pub fn pyhanko_validate(path: &Path, roots: &[&Path]) -> String {
    let mut cmd = Command::new("pyhanko");
    cmd.args(["sign", "validate", "--trust-replace"]);
    for root in roots {
        cmd.arg("--trust").arg(root);
    }
    let out = cmd
        .arg(path)
        .output()
        .expect("pyhanko is installed (pip install pyhanko pyhanko-cli)");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// `qpdf --check` succeeds and finds no error.
pub fn qpdf_check(path: &Path) -> String {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(path)
        .output()
        .expect("qpdf is installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "qpdf --check {}: {text}",
        path.display()
    );
    text
}

/// Where the public conformance suites live: `KYSO_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the crate. They are read in place, never copied into the repository. A missing folder
/// fails the test with the fix, rather than passing with nothing checked.
pub fn conformance_dir() -> PathBuf {
    let dir = match std::env::var_os("KYSO_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    };
    assert!(
        dir.is_dir(),
        "conformance suites not found at {}: set KYSO_CONFORMANCE_DIR to the shared conformance folder",
        dir.display()
    );
    dir
}

/// `target/test-artefacts/` (or a folder below it), made if missing: where reviewers find the
/// pages and screenshots tests render.
pub fn artefacts_dir(below: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .join("test-artefacts")
        .join(below);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
