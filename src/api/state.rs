//! The service's shared state: settings, signing keys, the verifier, the ledger connections, the
//! group-commit recorder, metrics and the queues that bound work toward the HSM.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::KeyCache;
use super::metrics::Metrics;
use super::problem::ApiError;
use super::recorder::Recorder;
use super::server::{Connections, Timeouts};
use crate::config::{Config, ServiceKey};
use crate::ledger::postgres::PgStore;
use crate::ledger::sqlite::{Durability, SqliteStore};
use crate::ledger::{self, Method, Store};
use crate::pki::TrustStore;
use crate::signing::{KeyMaterial, KeyName};
use crate::token::{self, KeyOptions, Pkcs11Uri, TokenDefaults};
use crate::verify::{Verifier, VerifyOptions};

/// Why the service could not be set up. Each names the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("[serve] {setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    #[error("[[serve.keys]] `{name}`: {reason}")]
    Key { name: String, reason: String },
    #[error("[verify]: {reason}")]
    Trust { reason: String },
    #[error(transparent)]
    Token(#[from] token::Error),
    #[error("opening the ledger: {0}")]
    Ledger(#[from] ledger::Error),
    #[error("starting the ledger recorder thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error(transparent)]
    Checkpoint(#[from] crate::audit::checkpoint::Error),
    #[error("[audit] checkpoint_key: {reason}")]
    CheckpointKey { reason: String },
}

/// Where the ledger lives.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    Sqlite(PathBuf),
    /// A PostgreSQL URL (from the environment only: it may carry a password), and optionally a
    /// schema to use inside the database (tests give each case its own).
    Postgres {
        url: String,
        schema: Option<String>,
    },
}

/// Environment variable naming a PostgreSQL ledger, as for the ledger commands.
pub const POSTGRES_URL_ENV: &str = "KYSO_LEDGER_POSTGRES_URL";
/// Environment variable naming where the PostgreSQL URL is kept instead (`file:/path`, its first
/// line, or `env:NAME`): container platforms hand secrets over as files (compose and Kubernetes
/// secrets under `/run/secrets`), and the URL carries the database password.
pub const POSTGRES_URL_SOURCE_ENV: &str = "KYSO_LEDGER_POSTGRES_URL_SOURCE";
/// Environment variable naming the PostgreSQL schema (default: the connection's search path).
pub const POSTGRES_SCHEMA_ENV: &str = "KYSO_LEDGER_POSTGRES_SCHEMA";

/// Why the environment does not name one ledger. Never holds the URL: it may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreSourceError {
    #[error("{POSTGRES_URL_ENV} and {POSTGRES_URL_SOURCE_ENV} are both set: name the ledger once")]
    Twice,
    #[error("{POSTGRES_URL_SOURCE_ENV}: {0}")]
    Source(#[from] crate::secret::Error),
    #[error("{POSTGRES_URL_SOURCE_ENV}: the URL read from {source_name} is empty")]
    Empty { source_name: String },
}

impl StoreConfig {
    /// PostgreSQL when `KYSO_LEDGER_POSTGRES_URL` (or `KYSO_LEDGER_POSTGRES_URL_SOURCE`) is set,
    /// else the SQLite file `sqlite`.
    pub fn from_env(sqlite: PathBuf) -> Result<StoreConfig, StoreSourceError> {
        StoreConfig::from_variables(sqlite, |name| std::env::var(name).ok())
    }

    /// [`StoreConfig::from_env`] with the variables `env` returns.
    fn from_variables(
        sqlite: PathBuf,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<StoreConfig, StoreSourceError> {
        let set = |name: &str| env(name).filter(|value| !value.is_empty());
        let url = match (set(POSTGRES_URL_ENV), set(POSTGRES_URL_SOURCE_ENV)) {
            (Some(_), Some(_)) => return Err(StoreSourceError::Twice),
            (Some(url), None) => url,
            (None, Some(source)) => {
                let source = crate::secret::SecretSource::parse(&source)?;
                let url = source
                    .read_text()
                    .map_err(|reason| crate::secret::Error::Read {
                        source_name: source.to_string(),
                        reason,
                    })?;
                let url = url.trim();
                if url.is_empty() {
                    return Err(StoreSourceError::Empty {
                        source_name: source.to_string(),
                    });
                }
                url.to_owned()
            }
            (None, None) => return Ok(StoreConfig::Sqlite(sqlite)),
        };
        Ok(StoreConfig::Postgres {
            url,
            schema: set(POSTGRES_SCHEMA_ENV),
        })
    }

    /// Opens one connection.
    pub fn open(&self) -> Result<Box<dyn Store>, ledger::Error> {
        Ok(match self {
            StoreConfig::Sqlite(path) => Box::new(SqliteStore::open(path, Durability::Full)?),
            StoreConfig::Postgres { url, schema } => {
                Box::new(PgStore::connect(url, schema.as_deref())?)
            }
        })
    }

    /// What the log may say about the store (never the URL: it may hold a password).
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Sqlite(path) => format!("SQLite {}", path.display()),
            StoreConfig::Postgres { .. } => "PostgreSQL".to_owned(),
        }
    }
}

/// Large bodies of the JSON endpoints read or parsed at once, across requests; more wait
/// (within their time limit). Each costs up to `max_json_body_bytes` read and a small multiple
/// of that parsed (the documents endpoint: about 2× for the parsed events and their copies),
/// so four keep the peak near 4 × 3 × 4 MiB ≈ 50 MB with the defaults, while an import and a
/// few records still run side by side. Small bodies take no place
/// ([`super::read_json_body`]).
pub const JSON_READS: usize = 4;

/// The limits a running service enforces.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body_bytes: u64,
    /// The body limit of the JSON endpoints (never above `max_body_bytes`).
    pub max_json_body_bytes: u64,
    pub request_timeout: Duration,
    /// What a connection may spend between requests ([`super::server`]).
    pub connection_timeouts: Timeouts,
    pub sign_workers: usize,
    pub sign_queue: usize,
    pub verify_workers: usize,
    /// Documents waiting for a verification worker beyond those being verified.
    pub verify_queue: usize,
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub limits: Limits,
    pub keys: SigningKeys,
    pub verifier: VerifierCell,
    pub stores: StorePool,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub key_cache: KeyCache,
    pub sign_queue: Queue,
    pub verify_queue: Queue,
    /// The slots of open connections (`max_connections`).
    pub connections: Connections,
    /// Places for the large JSON bodies read or parsed at once ([`JSON_READS`]).
    pub json_reads: Arc<Semaphore>,
    pub font_path: PathBuf,
    /// `[tsa]`: the time-stamping authority of B-T and B-LT signatures, if any, with how it is
    /// reached (`ca`, credentials).
    pub tsa: Option<crate::tsp::Tsa>,
    /// `[[ledger.levels]]`: the unit levels reports group by.
    pub levels: crate::ledger::LevelScheme,
    /// `[verify] decree30`: every verification gets the Decree 30 form checks.
    pub decree30: bool,
    /// `[archive] renew_before_days`: when `POST /v1/extend` re-time-stamps a B-LTA document.
    pub renew_before: time::Duration,
    /// `[audit]`: when the audit log's head is checkpointed, and with which key
    /// (`src/api/checkpoints.rs`); `None` when no `checkpoint_key` is set.
    pub checkpoints: Option<crate::audit::checkpoint::Schedule>,
    /// The CSC Signature Activation Data issued by this node and not yet used or expired
    /// ([`super::csc`]).
    pub sads: super::csc::Sads,
    /// Keys confirmed on a phone and their signing jobs (`super::jobs`).
    pub jobs: super::jobs::Jobs,
    font: OnceLock<Result<Arc<crate::pdf::Font>, String>>,
    shutting_down: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state from the configuration: checks every setting, loads trust anchors,
    /// opens the ledger (migrating it), starts the recorder. Signing keys are opened when first
    /// used (or by `/readyz`), so a token that is not there yet does not stop the service.
    pub fn new(config: &Config, store: StoreConfig) -> Result<AppState, Error> {
        let serve = &config.serve;
        let defaults = config.token_defaults()?;
        let sign_workers = serve.sign_workers.unwrap_or(defaults.max_sessions).max(1);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let verify_workers = serve.verify_workers.unwrap_or(cores).max(1);
        if serve.max_body_bytes == 0 {
            return Err(Error::Setting {
                setting: "max_body_bytes",
                reason: "must be more than 0".into(),
            });
        }
        for (setting, value) in [
            ("max_json_body_bytes", serve.max_json_body_bytes),
            ("request_timeout_secs", serve.request_timeout_secs),
            ("header_read_timeout_secs", serve.header_read_timeout_secs),
            ("idle_timeout_secs", serve.idle_timeout_secs),
            ("max_connections", serve.max_connections as u64),
        ] {
            if value == 0 {
                return Err(Error::Setting {
                    setting,
                    reason: "must be more than 0".into(),
                });
            }
        }
        // The accept loop waits for every slot at shutdown: the count must fit a semaphore.
        if u32::try_from(serve.max_connections).is_err() {
            return Err(Error::Setting {
                setting: "max_connections",
                reason: format!("{} is more than {}", serve.max_connections, u32::MAX),
            });
        }
        let limits = Limits {
            max_body_bytes: serve.max_body_bytes,
            max_json_body_bytes: serve.max_json_body_bytes.min(serve.max_body_bytes),
            request_timeout: Duration::from_secs(serve.request_timeout_secs),
            connection_timeouts: Timeouts {
                header_read: Duration::from_secs(serve.header_read_timeout_secs),
                idle: Duration::from_secs(serve.idle_timeout_secs),
            },
            sign_workers,
            sign_queue: serve.sign_queue,
            verify_workers,
            // Verification is CPU work: a queue as deep as the workers keeps every core busy
            // between requests without holding many documents in memory.
            verify_queue: verify_workers * 2,
        };
        let keys = SigningKeys::new(&serve.keys, defaults, &config.csc)?;
        let levels = config.level_scheme().map_err(|e| Error::Setting {
            setting: "ledger.levels",
            reason: e.to_string(),
        })?;
        let verifier = VerifierCell::new(config)?;
        let checkpoints = checkpoint_schedule(config, &keys)?;
        // An hour is CSC's own default lifetime; a SAD is meant for the hashes being signed now,
        // and one that lives for days is a standing permission, not an activation.
        if !(1..=3600).contains(&serve.csc_sad_lifetime_secs) {
            return Err(Error::Setting {
                setting: "csc_sad_lifetime_secs",
                reason: "must be from 1 to 3600 seconds".into(),
            });
        }
        let sads = super::csc::Sads::new(Duration::from_secs(serve.csc_sad_lifetime_secs));
        let jobs =
            super::jobs::Jobs::new(&serve.keys, &serve.jobs, store.clone(), &keys, &config.csc)?;
        // Opened once here so that a wrong path or URL fails at start, with migrations applied
        // before any request.
        let first = store.open()?;
        let metrics = Arc::new(Metrics::default());
        let recorder =
            Recorder::start(store.clone(), Arc::clone(&metrics)).map_err(Error::Thread)?;
        let stores = StorePool::new(store, serve.store_connections.max(1), first);
        tracing::info!(
            store = %stores.config.describe(),
            sign_workers,
            sign_queue = serve.sign_queue,
            verify_workers,
            keys = serve.keys.len(),
            "service state ready"
        );
        Ok(AppState(Arc::new(Inner {
            sign_queue: Queue::new("sign", sign_workers, serve.sign_queue),
            verify_queue: Queue::new("verify", verify_workers, limits.verify_queue),
            connections: Connections::new(serve.max_connections),
            json_reads: Arc::new(Semaphore::new(JSON_READS)),
            limits,
            keys,
            verifier,
            stores,
            recorder,
            metrics,
            key_cache: KeyCache::default(),
            font_path: config.pdf.font.clone(),
            tsa: config.tsa(None).map_err(|e| Error::Setting {
                setting: "tsa",
                reason: e.to_string(),
            })?,
            levels,
            decree30: config.verify.decree30_checks(),
            renew_before: config.archive.renew_before(),
            checkpoints,
            sads,
            jobs,
            font: OnceLock::new(),
            shutting_down: AtomicBool::new(false),
        })))
    }

    /// The visible-signature font, loaded on first use.
    pub fn font(&self) -> Result<Arc<crate::pdf::Font>, ApiError> {
        self.font
            .get_or_init(|| {
                crate::pdf::Font::load(&self.font_path)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| ApiError::internal("loading the signature font", &e))
    }

    /// Marks the service as stopping: new signing requests are refused, `/readyz` says no.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// `[audit]`'s schedule, refused at start when its key is not a `[[serve.keys]]` key or no TSA
/// is configured: a checkpoint that can never be made would only show up, much later, as a
/// stale log.
fn checkpoint_schedule(
    config: &Config,
    keys: &SigningKeys,
) -> Result<Option<crate::audit::checkpoint::Schedule>, Error> {
    let schedule = crate::audit::checkpoint::Schedule::from_config(&config.audit)?;
    if let Some(schedule) = &schedule {
        let Some(entry) = keys.entry(&schedule.key) else {
            return Err(Error::CheckpointKey {
                reason: format!("`{}` is not a [[serve.keys]] name", schedule.key),
            });
        };
        // A CSC credential signs whatever hash a signer sends, so it could sign a forged
        // checkpoint: the key that vouches for the log must never be one.
        if entry.csc {
            return Err(Error::CheckpointKey {
                reason: format!(
                    "`{}` is offered as a CSC credential (csc = true): the checkpoint key must not sign bare hashes for clients",
                    schedule.key
                ),
            });
        }
        if config.tsa.url.is_none() {
            return Err(Error::CheckpointKey {
                reason: "checkpoints are time-stamped: set [tsa] url".to_owned(),
            });
        }
    }
    Ok(schedule)
}

/// A bounded queue in front of a pool of workers: `workers` requests run, `waiting` more wait,
/// and the next is refused at once (503 with Retry-After) instead of piling up in memory.
pub struct Queue {
    pub name: &'static str,
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    capacity: usize,
}

/// A request's place in a queue; dropping it frees the place.
pub struct Admitted {
    _place: OwnedSemaphorePermit,
    running: Arc<Semaphore>,
}

impl Queue {
    fn new(name: &'static str, workers: usize, waiting: usize) -> Queue {
        Queue {
            name,
            admitted: Arc::new(Semaphore::new(workers + waiting)),
            running: Arc::new(Semaphore::new(workers)),
            capacity: workers + waiting,
        }
    }

    /// A place in the queue, or `Overloaded` when it is full.
    pub fn admit(&self, metrics: &Metrics) -> Result<Admitted, ApiError> {
        match Arc::clone(&self.admitted).try_acquire_owned() {
            Ok(place) => Ok(Admitted {
                _place: place,
                running: Arc::clone(&self.running),
            }),
            Err(_) => {
                metrics.rejected(self.name);
                Err(ApiError::Overloaded {
                    queue: self.name,
                    retry_after: 1,
                })
            }
        }
    }

    /// (admitted now, capacity), for `/metrics`.
    pub fn usage(&self) -> (usize, usize) {
        (
            self.capacity - self.admitted.available_permits(),
            self.capacity,
        )
    }
}

impl Admitted {
    /// Waits for a worker, then runs `work` on the blocking pool (PKCS#11, SQLite and
    /// verification block), and gives the worker back.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _worker = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::internal("a blocking task failed", &e))
    }

    /// [`Admitted::run`] for work that keeps `workers` threads busy (a batch verifying on
    /// several): it waits for that many workers and holds them all until it is done, so the
    /// queue's bound on running threads, and on the documents they hold, stays true.
    pub async fn run_many<T: Send + 'static>(
        &self,
        workers: NonZeroU32,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _workers = Arc::clone(&self.running)
            .acquire_many_owned(workers.get())
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::internal("a blocking task failed", &e))
    }
}

/// The configured signing keys, opened on first use.
pub struct SigningKeys {
    defaults: TokenDefaults,
    entries: HashMap<String, KeyEntry>,
}

pub struct KeyEntry {
    pub name: String,
    pub unit: String,
    pub method: Method,
    /// Offered as a CSC credential (`csc = true`): its unit's signers may sign bare hashes.
    pub csc: bool,
    source: KeySource,
    extra_chain: Vec<Vec<u8>>,
    state: Mutex<KeyState>,
}

/// Where an entry's key is: a token, or a remote credential with the access to it.
enum KeySource {
    Token(Pkcs11Uri),
    Remote(crate::csc::CredentialRef, crate::csc::Access),
}

#[derive(Default)]
struct KeyState {
    opened: Option<Arc<KeyMaterial>>,
    /// The last failure to open and when: a missing token is not asked again for
    /// [`REOPEN_AFTER`], so a burst of requests does not hammer it.
    failed: Option<(Instant, String)>,
}

/// How long a key that failed to open is left alone before the next attempt.
const REOPEN_AFTER: Duration = Duration::from_secs(2);

impl SigningKeys {
    fn new(
        keys: &[ServiceKey],
        defaults: TokenDefaults,
        csc: &crate::config::CscConfig,
    ) -> Result<SigningKeys, Error> {
        let mut entries = HashMap::new();
        for key in keys {
            let fail = |reason: String| Error::Key {
                name: key.name.clone(),
                reason,
            };
            if key.name.is_empty()
                || key.name.len() > 64
                || !key
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(fail(
                    "name: use 1 to 64 ASCII letters, digits, `-`, `_` and `.`".into(),
                ));
            }
            ledger::units::check_code(&key.unit).map_err(fail)?;
            // Keys confirmed on a phone are the signing jobs' (`super::jobs`): `phone:` keys, and
            // remote credentials in the asynchronous mode.
            if key.uri.starts_with(crate::phone::SCHEME)
                || key.mode == crate::config::SigningMode::Async
            {
                if key.csc {
                    return Err(fail(
                        "csc = true offers a token key through kyso's CSC API; a phone: key signs only after its holder confirms".into(),
                    ));
                }
                continue;
            }
            // parse_uri refuses pin-value: a PIN never sits in the configuration; a `csc:`
            // name holds none either (its secrets come from sources).
            let source = match KeyName::parse(&key.uri).map_err(|e| fail(e.to_string()))? {
                KeyName::Remote(reference) => KeySource::Remote(
                    reference,
                    csc.access(key.token_source.as_deref(), key.pin_source.as_deref())
                        .map_err(|e| fail(e.to_string()))?,
                ),
                KeyName::Token(_) if key.token_source.is_some() || key.pin_source.is_some() => {
                    return Err(fail(
                        "token_source and pin_source are for csc: keys; a PKCS#11 key's PIN source goes in its URI or [token]".into(),
                    ));
                }
                KeyName::Token(uri) => KeySource::Token(uri),
            };
            if key.csc && matches!(source, KeySource::Remote(..)) {
                return Err(fail(
                    "csc = true offers a token key through kyso's CSC API; a csc: key is another service's credential".into(),
                ));
            }
            let method = Method::ALL
                .into_iter()
                .find(|m| m.as_str() == key.method)
                .ok_or_else(|| {
                    fail(format!(
                        "method `{}`: expected token, sim, hsm or smart",
                        key.method
                    ))
                })?;
            let mut extra_chain = Vec::new();
            for path in &key.chain {
                extra_chain.extend(
                    crate::signing::read_certificates(path).map_err(|e| fail(e.to_string()))?,
                );
            }
            let entry = KeyEntry {
                name: key.name.clone(),
                unit: key.unit.clone(),
                method,
                csc: key.csc,
                source,
                extra_chain,
                state: Mutex::new(KeyState::default()),
            };
            if entries.insert(key.name.clone(), entry).is_some() {
                return Err(fail("two keys have this name".into()));
            }
        }
        Ok(SigningKeys { defaults, entries })
    }

    /// The key called `name`, if configured.
    pub fn entry(&self, name: &str) -> Option<&KeyEntry> {
        self.entries.get(name)
    }

    pub fn entries(&self) -> impl Iterator<Item = &KeyEntry> {
        self.entries.values()
    }

    /// The open key, opening it now if needed. Blocks (PKCS#11): call on the blocking pool.
    pub fn open(&self, entry: &KeyEntry) -> Result<Arc<KeyMaterial>, ApiError> {
        let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = &state.opened {
            return Ok(Arc::clone(key));
        }
        if let Some((at, reason)) = &state.failed
            && at.elapsed() < REOPEN_AFTER
        {
            return Err(ApiError::TokenUnavailable {
                key: entry.name.clone(),
                reason: reason.clone(),
            });
        }
        let opened = match &entry.source {
            KeySource::Token(uri) => KeyMaterial::open(
                uri,
                &self.defaults,
                KeyOptions::default(),
                &entry.extra_chain,
            ),
            KeySource::Remote(reference, access) => KeyMaterial::open_remote(
                reference,
                access,
                KeyOptions::default(),
                &entry.extra_chain,
            ),
        };
        match opened {
            Ok(key) => {
                let key = Arc::new(key);
                state.opened = Some(Arc::clone(&key));
                state.failed = None;
                tracing::info!(key = %entry.name, unit = %entry.unit, "signing key opened");
                Ok(key)
            }
            Err(e) => {
                // Token errors name module, token and object, never the PIN.
                let reason = e.to_string();
                tracing::warn!(key = %entry.name, error = %reason, "signing key unavailable");
                state.failed = Some((Instant::now(), reason.clone()));
                Err(ApiError::TokenUnavailable {
                    key: entry.name.clone(),
                    reason,
                })
            }
        }
    }

    /// Forgets an open key after a token failure, so that the next request opens it afresh.
    pub fn forget(&self, entry: &KeyEntry) {
        let mut state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
        state.opened = None;
    }

    /// Session-pool statistics of the open tokens, by token label.
    pub fn pools(&self) -> Vec<(String, crate::token::PoolStats)> {
        let mut seen: Vec<(String, crate::token::PoolStats)> = Vec::new();
        for entry in self.entries.values() {
            let state = entry.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(token) = state.opened.as_ref().and_then(|k| k.key.token()) {
                let token = token.token();
                if !seen.iter().any(|(label, _)| label == token.label()) {
                    seen.push((token.label().to_owned(), token.stats()));
                }
            }
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        seen
    }
}

/// The verifier, rebuilt every [`VERIFIER_AGE`] so that "now" stays now: a [`Verifier`]
/// validates at the instant it was made with.
pub struct VerifierCell {
    trust: crate::signing::Trust,
    xml_scope: crate::verify::XmlScope,
    signer_key_usage: crate::pki::SignerKeyUsage,
    algorithms: crate::pki::AlgorithmPolicy,
    /// One online source for every rebuilt verifier, so that its caches (the last good CRL of
    /// a distribution point that is down, until its nextUpdate) outlive the rebuilds.
    online: Option<Arc<crate::pki::fetch::Online>>,
    current: Mutex<(Arc<Verifier>, Instant)>,
}

/// How stale the validation time may get: certificates expire and CRLs go stale on a scale of
/// hours, so a minute is exact enough and keeps the verifier's caches warm between rebuilds.
const VERIFIER_AGE: Duration = Duration::from_secs(60);

impl VerifierCell {
    fn new(config: &Config) -> Result<VerifierCell, Error> {
        let verify = &config.verify;
        let trust = crate::signing::Trust::configured(config).map_err(|e| match e {
            crate::signing::Error::Setting { setting, reason } => {
                Error::Setting { setting, reason }
            }
            e => Error::Trust {
                reason: e.to_string(),
            },
        })?;
        if trust.anchors.is_empty() {
            tracing::warn!(
                "no trust anchors ([verify] trust): verification will find no chain, and signatures are recorded INDETERMINATE"
            );
        }
        let online = (trust.revocation == crate::verify::Revocation::Online).then(|| {
            Arc::new(crate::pki::fetch::Online::configured(
                crate::verify::FETCH_TIMEOUT,
                crate::pki::fetch::OcspNonce::default(),
                &trust.fetch,
            ))
        });
        let mut cell = VerifierCell {
            trust,
            xml_scope: verify.xml_scope.unwrap_or_default(),
            signer_key_usage: verify.signer_key_usage(),
            algorithms: verify.algorithms.policy().map_err(|e| Error::Trust {
                reason: e.to_string(),
            })?,
            online,
            current: Mutex::new((
                Arc::new(Verifier::new(VerifyOptions::new(
                    TrustStore::new(),
                    time::OffsetDateTime::now_utc(),
                ))),
                Instant::now(),
            )),
        };
        let fresh = cell.build();
        *cell.current.get_mut().unwrap_or_else(|e| e.into_inner()) = (fresh, Instant::now());
        Ok(cell)
    }

    fn build(&self) -> Arc<Verifier> {
        let mut options =
            VerifyOptions::new(self.trust.anchors.clone(), time::OffsetDateTime::now_utc());
        options.certificates = self.trust.certificates.clone();
        options.evidence = self.trust.evidence.clone();
        options.revocation = self.trust.revocation;
        options.fetch = self.trust.fetch.clone();
        options.online = self.online.clone();
        options.xml_scope = self.xml_scope;
        options.signer_key_usage = self.signer_key_usage;
        options.algorithms = self.algorithms;
        Arc::new(Verifier::new(options))
    }

    /// The algorithm policy (`[verify.algorithms]`): what verification accepts, and what keys
    /// may make new signatures.
    pub fn algorithms(&self) -> crate::pki::AlgorithmPolicy {
        self.algorithms
    }

    /// A verifier validating at most a minute ago.
    pub fn get(&self) -> Arc<Verifier> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.1.elapsed() >= VERIFIER_AGE {
            *current = (self.build(), Instant::now());
        }
        Arc::clone(&current.0)
    }

    /// The `[verify]` settings: what B-LT checks a signer against before the token signs, the
    /// same anchors, intermediates, CRL files and revocation mode the service verifies with.
    pub fn trust(&self) -> &crate::signing::Trust {
        &self.trust
    }
}

/// Ledger connections for reads and small writes, opened on demand up to a bound.
pub struct StorePool {
    pub config: StoreConfig,
    idle: Arc<Mutex<Vec<Box<dyn Store>>>>,
    permits: Arc<Semaphore>,
}

impl StorePool {
    fn new(config: StoreConfig, max: usize, first: Box<dyn Store>) -> StorePool {
        StorePool {
            config,
            idle: Arc::new(Mutex::new(vec![first])),
            permits: Arc::new(Semaphore::new(max)),
        }
    }

    /// Runs `f` on a connection on the blocking pool. A connection whose call failed with a
    /// database error is closed rather than reused (it may be broken); a refused input (unknown
    /// unit, bad event) keeps it.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, ledger::Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        match self.try_run(f).await? {
            Ok(v) => Ok(v),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Like [`StorePool::run`], handing back the store's own error for the caller to map.
    pub async fn try_run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, ledger::Error> + Send + 'static,
    ) -> Result<Result<T, ledger::Error>, ApiError> {
        let _permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        let idle = Arc::clone(&self.idle);
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let popped = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut store = match popped {
                Some(store) => store,
                None => match config.open() {
                    Ok(store) => store,
                    Err(e) => {
                        tracing::error!(request_id = %super::request_id(), error = %e, "cannot open a ledger connection");
                        return Err(ApiError::StoreUnavailable);
                    }
                },
            };
            let result = f(store.as_mut());
            let broken = matches!(
                result,
                Err(ledger::Error::Postgres { .. } | ledger::Error::Sqlite { .. })
            );
            if !broken {
                idle.lock().unwrap_or_else(|e| e.into_inner()).push(store);
            }
            Ok(result)
        })
        .await
        .map_err(|e| ApiError::internal("a ledger task failed", &e))?
    }
}

/// Maps a ledger error: refused input is the client's (400), the database's failure is ours.
pub fn store_error(e: ledger::Error) -> ApiError {
    match e {
        ledger::Error::Postgres { .. }
        | ledger::Error::Sqlite { .. }
        | ledger::Error::Io { .. }
        | ledger::Error::PostgresConfig { .. } => {
            tracing::error!(request_id = %super::request_id(), error = %e, "ledger failure");
            ApiError::StoreUnavailable
        }
        ledger::Error::UnknownStoredValue { .. }
        | ledger::Error::SchemaTooNew { .. }
        | ledger::Error::Render { .. } => ApiError::internal("ledger", &e),
        other => ApiError::BadRequest {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn store(vars: &[(&str, &str)]) -> Result<StoreConfig, StoreSourceError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        StoreConfig::from_variables(PathBuf::from("ledger.sqlite"), |name| {
            vars.get(name).cloned()
        })
    }

    #[test]
    fn the_postgres_url_comes_from_the_variable_or_a_secret_source() {
        assert!(
            matches!(store(&[]), Ok(StoreConfig::Sqlite(p)) if p == Path::new("ledger.sqlite"))
        );
        let Ok(StoreConfig::Postgres { url, schema }) = store(&[
            (POSTGRES_URL_ENV, "postgres://kyso@db/kyso"),
            (POSTGRES_SCHEMA_ENV, "deploy"),
        ]) else {
            panic!("the URL names PostgreSQL")
        };
        assert_eq!(
            (url.as_str(), schema.as_deref()),
            ("postgres://kyso@db/kyso", Some("deploy"))
        );

        // A secret file as compose and Kubernetes mount them: the first line, trailing newline
        // and all.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ledger-url");
        std::fs::write(&file, "postgres://kyso:s3cret@db:5432/kyso\n").unwrap();
        let source = format!("file:{}", file.display());
        let Ok(StoreConfig::Postgres { url, schema }) =
            store(&[(POSTGRES_URL_SOURCE_ENV, source.as_str())])
        else {
            panic!("the source names PostgreSQL")
        };
        assert_eq!(
            (url.as_str(), schema),
            ("postgres://kyso:s3cret@db:5432/kyso", None)
        );
    }

    #[test]
    fn a_ledger_named_twice_or_a_bad_source_is_refused_without_quoting_it() {
        let twice = store(&[
            (POSTGRES_URL_ENV, "postgres://kyso:pw1@db/kyso"),
            (POSTGRES_URL_SOURCE_ENV, "env:OTHER"),
        ])
        .unwrap_err();
        assert!(matches!(twice, StoreSourceError::Twice));
        // A URL written where its source belongs: refused, and the password not repeated.
        let misplaced = store(&[(POSTGRES_URL_SOURCE_ENV, "postgres://kyso:pw2@db/kyso")])
            .unwrap_err()
            .to_string();
        assert!(misplaced.contains(POSTGRES_URL_SOURCE_ENV), "{misplaced}");
        assert!(!misplaced.contains("pw2"), "{misplaced}");
        let missing = store(&[(POSTGRES_URL_SOURCE_ENV, "file:/nonexistent/ledger-url")])
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/ledger-url"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let source = format!("file:{}", empty.display());
        assert!(store(&[(POSTGRES_URL_SOURCE_ENV, source.as_str())]).is_err());
    }
}
