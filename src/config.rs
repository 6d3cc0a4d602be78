//! `kyso.toml`, with every field overridable by a `KYSO_*` environment variable.
//!
//! Secrets never live here: a PIN is named by its source (`pin_source = "file:/etc/kyso/pin"`),
//! never written. Unknown keys are errors, so a misspelt setting is caught rather than ignored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::token::{self, PinSource, TokenDefaults};
use crate::tsp;

/// Where the configuration file is looked for when none is named.
pub const DEFAULT_PATH: &str = "kyso.toml";

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub token: TokenConfig,
    pub pdf: PdfConfig,
    pub verify: VerifyConfig,
    pub log: LogConfig,
    pub tsa: TsaConfig,
    pub serve: ServeConfig,
    pub ledger: LedgerConfig,
    pub revocation: RevocationConfig,
    pub archive: ArchiveConfig,
    pub audit: AuditConfig,
    pub csc: CscConfig,
}

/// `[csc]`: remote credentials at a Cloud Signature Consortium API service (`--key csc:…`,
/// `[[serve.keys]] uri = "csc:…"`; docs/manual/remote-signing.md). Secrets are named by their
/// sources (`file:/path`, `env:NAME`), never written here.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CscConfig {
    /// Where the access token (`Authorization: Bearer`) is, unless a key names its own.
    pub token_source: Option<String>,
    /// Where the PIN for `credentials/authorize` is, for credentials in explicit mode.
    pub pin_source: Option<String>,
    /// Where a one-time password for `credentials/authorize` is, read for every signature.
    pub otp_source: Option<String>,
    /// CA certificates (PEM or DER) an `https://` service's chain must reach instead of the
    /// platform's roots: for a provider under a private CA.
    pub ca: Option<PathBuf>,
    /// Seconds one exchange with the service may take, all of it. Default 30.
    pub timeout_secs: Option<u64>,
}

impl CscConfig {
    /// The access to a remote credential: these settings, with a key's own `token_source` and
    /// `pin_source` (a `[[serve.keys]]` entry's, or the command line's) taking precedence.
    pub fn access(
        &self,
        token_source: Option<&str>,
        pin_source: Option<&str>,
    ) -> Result<crate::csc::Access, crate::csc::Error> {
        crate::csc::Access::configured(
            token_source.or(self.token_source.as_deref()),
            pin_source.or(self.pin_source.as_deref()),
            self.otp_source.as_deref(),
            self.ca.as_deref(),
            self.timeout_secs.map(std::time::Duration::from_secs),
        )
    }
}

/// `[archive]`: keeping signed documents verifiable for decades (`kyso extend`,
/// `POST /v1/extend`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// A B-LTA document is re-time-stamped when its newest document time-stamp's TSA
    /// certificate expires within this many days (default 90).
    pub renew_before_days: u32,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            renew_before_days: 90,
        }
    }
}

impl ArchiveConfig {
    pub fn renew_before(&self) -> time::Duration {
        time::Duration::days(i64::from(self.renew_before_days))
    }
}

/// `[audit]`: checkpoints of the audit log ([`crate::audit::checkpoint`]). Off unless
/// `checkpoint_key` names a key.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The `[[serve.keys]]` key (by name) that signs the log's head; its certificate goes into
    /// every checkpoint. `[tsa] url` must name the TSA that time-stamps them.
    pub checkpoint_key: Option<String>,
    /// A checkpoint after this many entries since the last one (default 1000).
    pub checkpoint_every_entries: Option<u64>,
    /// A checkpoint at least this often, in minutes, whether or not entries were written
    /// (default 60): the heartbeat whose absence `kyso audit verify` reports.
    pub checkpoint_every_minutes: Option<u64>,
    /// Minutes past the period before a missing checkpoint is reported (default 15): room for
    /// a TSA or token that is down for a while, and for a service restart.
    pub checkpoint_grace_minutes: Option<u64>,
}

/// `[revocation]`: how CRLs and OCSP responses are fetched (`[verify] revocation` says whether).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// URL prefixes rewritten before any CRL, OCSP or caIssuers fetch, as
    /// `"http://ocsp.ca.ptc" = "http://10.0.0.5:8080"`: certificates of the Government CA name
    /// hosts of the government's private network, which a province reaches through its own
    /// mirror or proxy. The longest matching prefix wins; a prefix matches only whole host
    /// names and path segments. Tables are not overridable from the environment.
    pub rewrite: std::collections::BTreeMap<String, String>,
    /// Seconds one CRL or OCSP exchange may take, all of it (connect, request, the whole
    /// answer). Default 10: a distribution point that is slow or down costs at most this per
    /// URL, and a certificate names at most a few.
    pub timeout_secs: Option<u64>,
    /// A folder where every fetched CRL is kept, so that the last good CRL of a distribution
    /// point that is down is still used, until its nextUpdate, by later runs too. Off unless set.
    pub cache_dir: Option<PathBuf>,
}

/// `[ledger]`: how the province's units are grouped in reports.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// The unit levels, top first, as `[[ledger.levels]]` tables (`key`, `vi`, `en`). Default:
    /// province, department, district, commune — the four of a province before 2025; a
    /// province on the two-tier model lists its own. Tables are not overridable from the
    /// environment.
    pub levels: Vec<LevelConfig>,
}

/// One `[[ledger.levels]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LevelConfig {
    /// The key stored in the ledger and written in CSV, e.g. `district`.
    pub key: String,
    /// The name shown in Vietnamese, e.g. `Cấp huyện`.
    pub vi: String,
    /// The name shown in English, e.g. `Districts`.
    pub en: String,
}

/// `[serve]`: the HTTP service (`kyso serve`). Every limit has a default sized for one node on a
/// small machine; each says below where its number comes from.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address to listen on. Loopback by default: exposing the service is a deliberate choice
    /// (usually behind a TLS-terminating proxy).
    pub listen: String,
    /// Largest request body accepted, in bytes. 50 MB: the largest scanned decisions with
    /// appendices seen in provincial document systems are a few tens of MB.
    pub max_body_bytes: u64,
    /// Largest body of the JSON endpoints (`POST /v1/documents`, `POST /v1/units`), in bytes.
    /// 4 MiB: a full request of 10,000 issued events is about 2.5 MB; each such body costs a
    /// small multiple of its size to parse, so this, not `max_body_bytes`, bounds them.
    pub max_json_body_bytes: u64,
    /// Per-request time limit in seconds (until the response starts). Signing takes
    /// milliseconds; 60 s covers a large document behind a full queue.
    pub request_timeout_secs: u64,
    /// Seconds a client has to send a request's head (request line and headers): from the
    /// connection's start for its first request, from the next request's first byte after
    /// that. 10 s: a head is a few hundred bytes, sent at once by every real client; a client
    /// trickling it (slowloris) holds a connection for at most this long.
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request before it is closed. 30 s:
    /// long enough for a DMS sending a burst to reuse its connection, short enough that idle
    /// connections do not pile up toward `max_connections`.
    pub idle_timeout_secs: u64,
    /// Connections served at once. Beyond, new connections wait in the kernel's accept queue
    /// until one closes (they are not refused): a burst is served late rather than failed, and
    /// the timeouts above bound how long a slot can be held without a request. 512: far above
    /// what one node's signing and verification workers can use, far below its file limit.
    pub max_connections: usize,
    /// Signing requests allowed to wait for the HSM beyond those being signed; more are refused
    /// with 503 and Retry-After. Bounds memory at about (workers + queue) × max_body_bytes.
    pub sign_queue: usize,
    /// Signatures made at once (default: the token's session limit, `token.max_sessions`).
    pub sign_workers: Option<usize>,
    /// Documents verified at once (default: the number of cores).
    pub verify_workers: Option<usize>,
    /// Seconds to wait at shutdown for in-flight requests and PKCS#11 sessions.
    pub shutdown_grace_secs: u64,
    /// The SQLite ledger (ignored when KYSO_LEDGER_POSTGRES_URL is set).
    pub ledger: PathBuf,
    /// Database connections for reads (reports, API keys, readiness); writes go through one
    /// more connection that commits events in groups.
    pub store_connections: usize,
    /// The signing keys the service offers, each bound to a unit.
    pub keys: Vec<ServiceKey>,
    /// Seconds a CSC Signature Activation Data (`credentials/authorize`) stays usable. 300: a
    /// client authorises the hashes it is about to sign, so seconds suffice; minutes leave room
    /// for a slow client without leaving a stolen SAD useful for long. At most 3600.
    pub csc_sad_lifetime_secs: u64,
    /// `[serve.jobs]`: bounds on signing jobs (keys confirmed on a phone).
    pub jobs: JobsConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:8080".to_owned(),
            max_body_bytes: 50 * 1024 * 1024,
            max_json_body_bytes: 4 * 1024 * 1024,
            request_timeout_secs: 60,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 30,
            max_connections: 512,
            sign_queue: 64,
            sign_workers: None,
            verify_workers: None,
            shutdown_grace_secs: 30,
            ledger: PathBuf::from("var/ledger.sqlite"),
            store_connections: 4,
            keys: Vec::new(),
            csc_sad_lifetime_secs: 300,
            jobs: JobsConfig::default(),
        }
    }
}

/// `[[serve.keys]]`: one signing key offered by the service.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceKey {
    /// The name requests use (`?key=stp-01`); also what the ledger and audit log record.
    pub name: String,
    /// PKCS#11 URI of the private key (no `pin-value`; the PIN comes from `pin-source` or
    /// `token.pin_source`).
    pub uri: String,
    /// Code of the unit the key belongs to: only signers bound to this unit may use it.
    pub unit: String,
    /// How the key is held: `token`, `sim`, `hsm` or `smart` (the ledger's methods).
    #[serde(default = "default_method")]
    pub method: String,
    /// Issuer certificates to embed besides those stored on the token (PEM or DER files).
    #[serde(default)]
    pub chain: Vec<PathBuf>,
    /// Offer the key as a CSC credential (`/csc/v1`, `/csc/v2`): its unit's signers may then
    /// have it sign bare hashes, which kyso never sees the document of. Off unless set.
    #[serde(default)]
    pub csc: bool,
    /// For a remote credential (`uri = "csc:…"`): where its access token is, if not `[csc]
    /// token_source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_source: Option<String>,
    /// For a remote credential: where its authorisation PIN is, if not `[csc] pin_source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_source: Option<String>,
    /// `[serve.keys.phone]`, for a key whose `uri` is `phone:https://…`: a provider that signs
    /// after the holder confirms on a phone (`docs/manual/signing-jobs.md`).
    #[serde(default)]
    pub phone: Option<PhoneKeyConfig>,
    /// For a remote credential (`uri = "csc:…"`): `async` has its service sign in the CSC
    /// asynchronous mode (the holder confirms on a phone, minutes later), through a signing job
    /// as a `phone:` key does (`docs/manual/signing-jobs.md`). `sync` (the default) otherwise.
    #[serde(default, skip_serializing_if = "SigningMode::is_sync")]
    pub mode: SigningMode,
    /// For `mode = "async"`: seconds between questions about a pending signature, as
    /// `[serve.keys.phone] poll_seconds` (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_seconds: Option<u64>,
    /// For `mode = "async"`: seconds the holder has to confirm, as `[serve.keys.phone]
    /// deadline_seconds` (default 300); also the `validity_period` kyso asks the service for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_seconds: Option<u64>,
}

/// How a remote credential's service is asked for a signature.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SigningMode {
    /// The signature in the answer (CSC `operationMode` "S").
    #[default]
    Sync,
    /// A transaction id now, the signature once the holder has confirmed (CSC
    /// `operationMode` "A"): the request becomes a signing job.
    Async,
}

impl SigningMode {
    pub fn is_sync(&self) -> bool {
        *self == SigningMode::Sync
    }
}

/// `[serve.keys.phone]`: how a confirm-on-phone provider is asked.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhoneKeyConfig {
    /// The credential (key) id at the provider.
    pub credential: String,
    /// Where the provider's bearer token is read from: `env:NAME` or `file:/path`; never the
    /// token itself.
    pub token_source: Option<String>,
    /// Seconds between questions about a pending signature. 5: holders confirm in tens of
    /// seconds, and providers ask for no more than a question every few seconds.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Seconds the holder has to confirm before the job expires. 300: providers' own
    /// confirmation windows are two to five minutes.
    #[serde(default = "default_deadline_seconds")]
    pub deadline_seconds: u64,
}

/// The poll interval of a key confirmed on a phone when its entry does not say.
pub fn default_poll_seconds() -> u64 {
    5
}

/// The confirmation deadline of a key confirmed on a phone when its entry does not say.
pub fn default_deadline_seconds() -> u64 {
    300
}

/// `[serve.jobs]`: what signing jobs may hold in the ledger's database.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Jobs waiting for a holder at once; more are refused with 503. 1,000: a province's
    /// signers confirming within the deadline, with room.
    pub max_pending: u64,
    /// Bytes of documents and results all jobs hold together; more are refused with 503.
    /// 1 GiB: a thousand typical letters of a megabyte, on disk, not in memory.
    pub max_bytes: u64,
    /// Seconds a finished job (done, refused, expired, failed) is kept for its caller to fetch;
    /// fetching deletes it earlier. 86,400: a day, for a DMS that fetches on its next run.
    pub retention_seconds: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            max_pending: 1000,
            max_bytes: 1024 * 1024 * 1024,
            retention_seconds: 86_400,
        }
    }
}

fn default_method() -> String {
    "hsm".to_owned()
}

/// `[verify]`: what verification trusts and how it checks revocation.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// Run the Decree 30/2020/NĐ-CP form checks on every document (`kyso verify --check
    /// decree30`, the API's `check=decree30`): the agency signs after the person with an
    /// organisation's certificate, each attachment carries the agency's signature. On by default
    /// with `profile = "vn"`.
    pub decree30: Option<bool>,
    /// Trust anchors: PEM/DER files or folders of them (the national root CA, the government
    /// CA, …).
    pub trust: Vec<PathBuf>,
    /// Intermediate certificates to consider beside those documents carry.
    pub certificates: Vec<PathBuf>,
    /// CRL files to use as revocation evidence.
    pub crls: Vec<PathBuf>,
    /// `online` (default), `offline` or `off`.
    pub revocation: Option<String>,
    /// How much of an XML document a signature must cover: `signed` (default: any content,
    /// reported exactly, as e-invoices sign one element by its Id) or `whole`.
    pub xml_scope: Option<crate::verify::XmlScope>,
    /// Refuse signers whose certificate has no keyUsage extension (RFC 5280 allows it; the
    /// default accepts it with a warning).
    pub require_key_usage: Option<bool>,
    /// A trust profile whose bundle kyso carries: `vn` trusts Vietnam's Government CA (Ban Cơ
    /// yếu Chính phủ) and Vietnam National Root CA hierarchies, each certificate pinned by its
    /// SHA-256 fingerprint (`docs/manual/vn-trust.md`).
    pub profile: Option<crate::pki::Profile>,
    /// Where `kyso trust add` and `kyso trust remove` keep the user's changes (default
    /// `var/trust`): added anchors as PEM files, removed ones as fingerprints in `removed.txt`.
    pub trust_dir: Option<PathBuf>,
    /// `[verify.algorithms]`: the dated algorithm policy.
    pub algorithms: AlgorithmsConfig,
}

/// `[verify.algorithms]`: which signature algorithms and key sizes are current, and until when
/// retired ones are accepted for signatures proven to exist before then (ETSI TS 119 312 style;
/// the floor is Circular 15/2025/TT-BKHCN's: RSA ≥ 2048 bits, ECDSA ≥ 256, SHA-2/SHA-3).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlgorithmsConfig {
    /// Smallest RSA modulus in current use: 2048 (default) or more.
    pub rsa_min_bits: Option<usize>,
    /// Smallest ECDSA curve in current use: 256 (default) or 384.
    pub ecdsa_min_bits: Option<usize>,
    /// SHA-1 signatures proven to exist before this date (`YYYY-MM-DD`) verify with a warning;
    /// `never` refuses them all. Default 2019-01-01.
    pub sha1_until: Option<String>,
    /// The same for RSA keys of 1024 to `rsa_min_bits` bits. Default 2014-01-01.
    pub small_rsa_until: Option<String>,
}

impl AlgorithmsConfig {
    /// The policy these settings describe, or what is wrong with them.
    pub fn policy(&self) -> Result<crate::pki::AlgorithmPolicy, Error> {
        let invalid = |field: &str, message: String| Error::Invalid {
            origin: format!("[verify.algorithms] {field}"),
            message,
        };
        let mut dates = crate::pki::AlgorithmDates::default();
        if let Some(bits) = self.rsa_min_bits {
            if bits < dates.rsa_min_bits {
                return Err(invalid(
                    "rsa_min_bits",
                    format!(
                        "{bits}: the floor is {} bits (Circular 15/2025/TT-BKHCN); it may only be raised",
                        dates.rsa_min_bits
                    ),
                ));
            }
            dates.rsa_min_bits = bits;
        }
        if let Some(bits) = self.ecdsa_min_bits {
            if !matches!(bits, 256 | 384) {
                return Err(invalid(
                    "ecdsa_min_bits",
                    format!("{bits}: expected 256 or 384"),
                ));
            }
            dates.ecdsa_min_bits = bits;
        }
        let date = |field: &str, text: &str| -> Result<Option<time::Date>, Error> {
            if text == "never" {
                return Ok(None);
            }
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, format)
                .map(Some)
                .map_err(|_| invalid(field, format!("`{text}`: expected YYYY-MM-DD or `never`")))
        };
        if let Some(text) = &self.sha1_until {
            dates.sha1_until = date("sha1_until", text)?;
        }
        if let Some(text) = &self.small_rsa_until {
            dates.small_rsa_until = date("small_rsa_until", text)?;
        }
        Ok(crate::pki::AlgorithmPolicy::Dated(dates))
    }
}

impl VerifyConfig {
    /// The folder of the user's trust changes: `trust_dir`, or `var/trust`.
    pub fn trust_dir(&self) -> PathBuf {
        self.trust_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("var/trust"))
    }

    /// Whether a signer's certificate must carry keyUsage.
    pub fn signer_key_usage(&self) -> crate::pki::SignerKeyUsage {
        match self.require_key_usage {
            Some(true) => crate::pki::SignerKeyUsage::Required,
            _ => crate::pki::SignerKeyUsage::MayBeAbsent,
        }
    }

    /// Whether verification runs the Decree 30 form checks unless told otherwise.
    pub fn decree30_checks(&self) -> bool {
        self.decree30
            .unwrap_or(self.profile == Some(crate::pki::Profile::Vn))
    }
}

/// `[token]`: the PKCS#11 defaults applied when a key URI leaves something out.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// PKCS#11 module used when a key URI has no `module-path`.
    pub module: Option<PathBuf>,
    /// PIN source (`file:/path`, `env:NAME`, `prompt`) used when a key URI has no `pin-source`.
    pub pin_source: Option<String>,
    /// Sessions kept open per token (default: two per core).
    pub max_sessions: Option<usize>,
}

/// `[pdf]`: how signatures are drawn on the page.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PdfConfig {
    /// TrueType font for visible signatures; it must cover Vietnamese (Latin Extended
    /// Additional). Default: Liberation Serif from the Debian package fonts-liberation2.
    pub font: PathBuf,
}

impl Default for PdfConfig {
    fn default() -> Self {
        PdfConfig {
            font: PathBuf::from(crate::pdf::font::DEFAULT_FONT),
        }
    }
}

/// `[log]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `auto` (JSON lines unless stderr is a terminal), `json` or `text`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `kyso::token=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Auto,
            level: "warn".to_owned(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

/// `[tsa]`: the RFC 3161 time-stamping authority for B-T and B-LT signatures (PAdES, XAdES).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TsaConfig {
    /// `http://` or `https://host[:port]/path`; `kyso sign … --tsa URL` overrides it.
    pub url: Option<String>,
    /// CA certificates (PEM or DER) an `https://` TSA's chain must reach instead of the
    /// platform's roots: for a TSA under a private CA.
    pub ca: Option<PathBuf>,
    /// HTTP basic authentication: the user name (not secret) ...
    pub user: Option<String>,
    /// ... and where the password is (`file:/path` or `env:NAME`, as a PIN source).
    pub password_source: Option<String>,
    /// Bearer authentication: where the token is (`file:/path` or `env:NAME`).
    pub token_source: Option<String>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("environment variable {variable}: {message}")]
    Env { variable: String, message: String },
}

/// The kind of value an environment override holds.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A `:`-separated list of paths, like `PATH`.
    PathList,
}

/// Every overridable field: the variable, its path in the TOML tree, and its kind. A test checks
/// that each path exists in [`Config`], so a renamed field cannot leave a dead variable behind.
const ENV_OVERRIDES: &[(&str, &[&str], Kind)] = &[
    ("KYSO_TOKEN_MODULE", &["token", "module"], Kind::Text),
    (
        "KYSO_TOKEN_PIN_SOURCE",
        &["token", "pin_source"],
        Kind::Text,
    ),
    (
        "KYSO_TOKEN_MAX_SESSIONS",
        &["token", "max_sessions"],
        Kind::Integer,
    ),
    ("KYSO_PDF_FONT", &["pdf", "font"], Kind::Text),
    (
        "KYSO_VERIFY_DECREE30",
        &["verify", "decree30"],
        Kind::Boolean,
    ),
    ("KYSO_VERIFY_TRUST", &["verify", "trust"], Kind::PathList),
    (
        "KYSO_VERIFY_CERTIFICATES",
        &["verify", "certificates"],
        Kind::PathList,
    ),
    ("KYSO_VERIFY_CRLS", &["verify", "crls"], Kind::PathList),
    (
        "KYSO_VERIFY_REVOCATION",
        &["verify", "revocation"],
        Kind::Text,
    ),
    (
        "KYSO_VERIFY_XML_SCOPE",
        &["verify", "xml_scope"],
        Kind::Text,
    ),
    (
        "KYSO_VERIFY_REQUIRE_KEY_USAGE",
        &["verify", "require_key_usage"],
        Kind::Boolean,
    ),
    ("KYSO_VERIFY_PROFILE", &["verify", "profile"], Kind::Text),
    (
        "KYSO_VERIFY_ALGORITHMS_SHA1_UNTIL",
        &["verify", "algorithms", "sha1_until"],
        Kind::Text,
    ),
    (
        "KYSO_VERIFY_ALGORITHMS_SMALL_RSA_UNTIL",
        &["verify", "algorithms", "small_rsa_until"],
        Kind::Text,
    ),
    (
        "KYSO_VERIFY_ALGORITHMS_RSA_MIN_BITS",
        &["verify", "algorithms", "rsa_min_bits"],
        Kind::Integer,
    ),
    (
        "KYSO_VERIFY_TRUST_DIR",
        &["verify", "trust_dir"],
        Kind::Text,
    ),
    (
        "KYSO_REVOCATION_TIMEOUT_SECS",
        &["revocation", "timeout_secs"],
        Kind::Integer,
    ),
    (
        "KYSO_REVOCATION_CACHE_DIR",
        &["revocation", "cache_dir"],
        Kind::Text,
    ),
    ("KYSO_LOG_FORMAT", &["log", "format"], Kind::Text),
    ("KYSO_LOG_LEVEL", &["log", "level"], Kind::Text),
    ("KYSO_SERVE_LISTEN", &["serve", "listen"], Kind::Text),
    (
        "KYSO_SERVE_MAX_BODY_BYTES",
        &["serve", "max_body_bytes"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_MAX_JSON_BODY_BYTES",
        &["serve", "max_json_body_bytes"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_REQUEST_TIMEOUT_SECS",
        &["serve", "request_timeout_secs"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_HEADER_READ_TIMEOUT_SECS",
        &["serve", "header_read_timeout_secs"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_IDLE_TIMEOUT_SECS",
        &["serve", "idle_timeout_secs"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_MAX_CONNECTIONS",
        &["serve", "max_connections"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_SIGN_QUEUE",
        &["serve", "sign_queue"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_SIGN_WORKERS",
        &["serve", "sign_workers"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_VERIFY_WORKERS",
        &["serve", "verify_workers"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_SHUTDOWN_GRACE_SECS",
        &["serve", "shutdown_grace_secs"],
        Kind::Integer,
    ),
    ("KYSO_SERVE_LEDGER", &["serve", "ledger"], Kind::Text),
    (
        "KYSO_SERVE_STORE_CONNECTIONS",
        &["serve", "store_connections"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_CSC_SAD_LIFETIME_SECS",
        &["serve", "csc_sad_lifetime_secs"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_JOBS_MAX_PENDING",
        &["serve", "jobs", "max_pending"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_JOBS_MAX_BYTES",
        &["serve", "jobs", "max_bytes"],
        Kind::Integer,
    ),
    (
        "KYSO_SERVE_JOBS_RETENTION_SECONDS",
        &["serve", "jobs", "retention_seconds"],
        Kind::Integer,
    ),
    (
        "KYSO_ARCHIVE_RENEW_BEFORE_DAYS",
        &["archive", "renew_before_days"],
        Kind::Integer,
    ),
    (
        "KYSO_CSC_TOKEN_SOURCE",
        &["csc", "token_source"],
        Kind::Text,
    ),
    ("KYSO_CSC_PIN_SOURCE", &["csc", "pin_source"], Kind::Text),
    ("KYSO_CSC_OTP_SOURCE", &["csc", "otp_source"], Kind::Text),
    ("KYSO_CSC_CA", &["csc", "ca"], Kind::Text),
    (
        "KYSO_CSC_TIMEOUT_SECS",
        &["csc", "timeout_secs"],
        Kind::Integer,
    ),
    ("KYSO_TSA_URL", &["tsa", "url"], Kind::Text),
    ("KYSO_TSA_CA", &["tsa", "ca"], Kind::Text),
    ("KYSO_TSA_USER", &["tsa", "user"], Kind::Text),
    (
        "KYSO_TSA_PASSWORD_SOURCE",
        &["tsa", "password_source"],
        Kind::Text,
    ),
    (
        "KYSO_TSA_TOKEN_SOURCE",
        &["tsa", "token_source"],
        Kind::Text,
    ),
    (
        "KYSO_AUDIT_CHECKPOINT_KEY",
        &["audit", "checkpoint_key"],
        Kind::Text,
    ),
    (
        "KYSO_AUDIT_CHECKPOINT_EVERY_ENTRIES",
        &["audit", "checkpoint_every_entries"],
        Kind::Integer,
    ),
    (
        "KYSO_AUDIT_CHECKPOINT_EVERY_MINUTES",
        &["audit", "checkpoint_every_minutes"],
        Kind::Integer,
    ),
    (
        "KYSO_AUDIT_CHECKPOINT_GRACE_MINUTES",
        &["audit", "checkpoint_grace_minutes"],
        Kind::Integer,
    ),
];

impl Config {
    /// Loads `path` (or `kyso.toml` in the working directory if it exists, or nothing), then
    /// applies the `KYSO_*` variables of the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, Error> {
        let (text, origin) = match path {
            Some(p) => (read(p)?, p.display().to_string()),
            None if Path::new(DEFAULT_PATH).exists() => {
                (read(Path::new(DEFAULT_PATH))?, DEFAULT_PATH.to_owned())
            }
            None => (String::new(), "built-in defaults".to_owned()),
        };
        Config::parse(&text, &origin, |name| std::env::var(name).ok())
    }

    /// Parses TOML `text` and applies the overrides `env` returns.
    pub fn parse(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, Error> {
        let mut tree: toml::Table = toml::from_str(text).map_err(|e| Error::Invalid {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        for (variable, path, kind) in ENV_OVERRIDES {
            let Some(raw) = env(variable) else { continue };
            let value = match kind {
                Kind::Text => toml::Value::String(raw),
                Kind::PathList => toml::Value::Array(
                    raw.split(':')
                        .filter(|p| !p.is_empty())
                        .map(|p| toml::Value::String(p.to_owned()))
                        .collect(),
                ),
                Kind::Integer => {
                    toml::Value::Integer(raw.trim().parse().map_err(|_| Error::Env {
                        variable: (*variable).to_owned(),
                        message: format!("`{raw}` is not a whole number"),
                    })?)
                }
                Kind::Boolean => {
                    toml::Value::Boolean(raw.trim().parse().map_err(|_| Error::Env {
                        variable: (*variable).to_owned(),
                        message: format!("`{raw}` is not true or false"),
                    })?)
                }
            };
            set(&mut tree, path, value);
        }
        Config::deserialize(tree).map_err(|e| Error::Invalid {
            origin: format!("{origin} (with KYSO_* overrides)"),
            message: e.to_string(),
        })
    }

    /// The unit levels reports group by: `[[ledger.levels]]`, or the default four.
    pub fn level_scheme(&self) -> Result<crate::ledger::LevelScheme, crate::ledger::Error> {
        if self.ledger.levels.is_empty() {
            return Ok(crate::ledger::LevelScheme::default());
        }
        crate::ledger::LevelScheme::new(
            self.ledger
                .levels
                .iter()
                .map(|l| crate::ledger::units::Level {
                    key: l.key.clone(),
                    label_vi: l.vi.clone(),
                    label_en: l.en.clone(),
                })
                .collect(),
        )
    }

    /// The time-stamping authority: `url` (a command line's `--tsa`) or else `[tsa] url`, with
    /// `[tsa]`'s CA and credentials; `None` when neither names one. The credentials are for the
    /// TSA `[tsa] url` names: a `url` on another origin (scheme, host, port) is sent none, so a
    /// one-off `--tsa` never receives the configured TSA's secrets.
    pub fn tsa(&self, url: Option<String>) -> Result<Option<tsp::Tsa>, tsp::Error> {
        let configured = self.tsa.url.as_deref();
        let Some(url) = url.or_else(|| configured.map(str::to_owned)) else {
            return Ok(None);
        };
        let own_credentials = configured.is_none_or(|c| origin(c) == origin(&url));
        let access = tsp::Access::configured(
            self.tsa.ca.as_deref(),
            self.tsa.user.as_deref().filter(|_| own_credentials),
            self.tsa
                .password_source
                .as_deref()
                .filter(|_| own_credentials),
            self.tsa.token_source.as_deref().filter(|_| own_credentials),
        )?;
        let mut tsa = tsp::Tsa::new(url);
        tsa.access = access;
        Ok(Some(tsa))
    }

    /// The token defaults this configuration describes.
    pub fn token_defaults(&self) -> Result<TokenDefaults, token::Error> {
        let mut defaults = TokenDefaults {
            module: self.token.module.clone(),
            pin_source: self
                .token
                .pin_source
                .as_deref()
                .map(PinSource::parse)
                .transpose()?,
            ..TokenDefaults::default()
        };
        if let Some(n) = self.token.max_sessions {
            defaults.max_sessions = n.max(1);
        }
        Ok(defaults)
    }
}

/// Scheme, host and port of `url` (RFC 6454 §4), the default port filled in.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    let host = uri.host()?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16().unwrap_or(default_port)))
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn set(tree: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = tree;
    for key in parents {
        let entry = table
            .entry((*key).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = entry else {
            unreachable!("BUG: the entry was made a table just above")
        };
        table = inner;
    }
    table.insert((*last).to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let text = r#"
            [token]
            module = "/usr/lib/softhsm/libsofthsm2.so"
            pin_source = "file:/etc/kyso/pin"
        "#;
        let config = Config::parse(text, "test", |name| match name {
            "KYSO_TOKEN_PIN_SOURCE" => Some("env:KYSO_PIN".to_owned()),
            "KYSO_TOKEN_MAX_SESSIONS" => Some("3".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            config.token.module.as_deref(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(config.token.pin_source.as_deref(), Some("env:KYSO_PIN"));
        let defaults = config.token_defaults().unwrap();
        assert_eq!(defaults.max_sessions, 3);
        assert_eq!(defaults.pin_source, Some(PinSource::Env("KYSO_PIN".into())));
    }

    #[test]
    fn the_decree30_checks_are_on_by_default_with_profile_vn() {
        let parse = |text: &str| Config::parse(text, "t", |_| None).unwrap();
        assert!(!parse("").verify.decree30_checks());
        assert!(parse("[verify]\nprofile = 'vn'").verify.decree30_checks());
        assert!(
            !parse("[verify]\nprofile = 'vn'\ndecree30 = false")
                .verify
                .decree30_checks()
        );
        assert!(parse("[verify]\ndecree30 = true").verify.decree30_checks());
    }

    #[test]
    fn the_algorithm_policy_is_read_and_checked() {
        let config = Config::parse(
            "[verify.algorithms]\nsha1_until = '2017-07-01'\nrsa_min_bits = 3072",
            "kyso.toml",
            |name| (name == "KYSO_VERIFY_ALGORITHMS_SMALL_RSA_UNTIL").then(|| "never".to_owned()),
        )
        .unwrap();
        let crate::pki::AlgorithmPolicy::Dated(dates) = config.verify.algorithms.policy().unwrap()
        else {
            panic!("a configured policy is dated");
        };
        assert_eq!(dates.rsa_min_bits, 3072);
        assert_eq!(dates.sha1_until, Some(time::macros::date!(2017 - 07 - 01)));
        assert_eq!(dates.small_rsa_until, None);
        assert_eq!(
            Config::parse("", "t", |_| None)
                .unwrap()
                .verify
                .algorithms
                .policy()
                .unwrap(),
            crate::pki::AlgorithmPolicy::default()
        );
        for (text, field) in [
            ("rsa_min_bits = 1024", "rsa_min_bits"),
            ("ecdsa_min_bits = 200", "ecdsa_min_bits"),
            ("sha1_until = '01/01/2019'", "sha1_until"),
        ] {
            let config =
                Config::parse(&format!("[verify.algorithms]\n{text}"), "t", |_| None).unwrap();
            let err = config.verify.algorithms.policy().unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        let err = Config::parse("[token]\nmodul = 'x'", "kyso.toml", |_| None).unwrap_err();
        assert!(err.to_string().contains("modul"), "{err}");
        let err = Config::parse("", "t", |n| {
            (n == "KYSO_TOKEN_MAX_SESSIONS").then(|| "many".to_owned())
        })
        .unwrap_err();
        assert!(err.to_string().contains("KYSO_TOKEN_MAX_SESSIONS"), "{err}");
        let err = Config::parse("", "t", |n| {
            (n == "KYSO_LOG_FORMAT").then(|| "xml".to_owned())
        })
        .unwrap_err();
        assert!(err.to_string().contains("xml"), "{err}");
    }

    #[test]
    fn the_font_defaults_to_liberation_serif_and_can_be_moved() {
        let config = Config::parse("", "t", |_| None).unwrap();
        assert_eq!(
            config.pdf.font,
            Path::new("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
        );
        let config = Config::parse("[pdf]\nfont = '/opt/fonts/a.ttf'", "t", |n| {
            (n == "KYSO_PDF_FONT").then(|| "/srv/b.ttf".to_owned())
        })
        .unwrap();
        assert_eq!(config.pdf.font, Path::new("/srv/b.ttf"));
    }

    #[test]
    fn every_override_reaches_a_field() {
        for (variable, _, kind) in ENV_OVERRIDES {
            let value = match kind {
                Kind::Text if variable.ends_with("FORMAT") => "json",
                Kind::Text if variable.ends_with("XML_SCOPE") => "whole",
                Kind::Text if variable.ends_with("PROFILE") => "vn",
                Kind::Integer if variable.contains("SERVE") => "7",
                Kind::PathList => "/a:/b",
                Kind::Text => "file:/x",
                Kind::Integer => "2",
                Kind::Boolean => "true",
            };
            let config = Config::parse("", "t", |n| (n == *variable).then(|| value.to_owned()))
                .unwrap_or_else(|e| panic!("{variable}: {e}"));
            assert_ne!(config, Config::default(), "{variable} changed nothing");
        }
    }

    #[test]
    fn the_trust_profile_and_revocation_fetching_come_from_the_file() {
        let text = "[verify]\nprofile = 'vn'\ntrust_dir = '/srv/kyso/trust'\n\
                    [revocation]\ntimeout_secs = 4\ncache_dir = '/var/cache/kyso/crl'\n\
                    [revocation.rewrite]\n'http://ocsp.ca.ptc' = 'http://10.0.0.5:8080'\n";
        let config = Config::parse(text, "t", |_| None).unwrap();
        assert_eq!(config.verify.profile, Some(crate::pki::Profile::Vn));
        assert_eq!(config.verify.trust_dir(), Path::new("/srv/kyso/trust"));
        assert_eq!(Config::default().verify.trust_dir(), Path::new("var/trust"));
        let fetch = crate::pki::fetch::FetchSettings::from_config(&config.revocation).unwrap();
        assert_eq!(fetch.timeout, Some(std::time::Duration::from_secs(4)));
        assert_eq!(
            fetch.rewrite.apply("http://ocsp.ca.ptc/ocsp"),
            "http://10.0.0.5:8080/ocsp"
        );
        assert_eq!(
            fetch.crl_cache.as_deref(),
            Some(Path::new("/var/cache/kyso/crl"))
        );
        // An unknown profile and a rewrite to somewhere kyso never fetches are named.
        let err = Config::parse("[verify]\nprofile = 'xx'", "t", |_| None).unwrap_err();
        assert!(err.to_string().contains("xx"), "{err}");
        let config = Config::parse(
            "[revocation.rewrite]\n'http://ocsp.ca.ptc' = 'https://mirror'",
            "t",
            |_| None,
        )
        .unwrap();
        let err = crate::pki::fetch::FetchSettings::from_config(&config.revocation).unwrap_err();
        assert!(err.to_string().contains("https://mirror"), "{err}");
    }

    #[test]
    fn unit_levels_come_from_the_file_and_are_checked() {
        let config = Config::parse("", "test", |_| None).unwrap();
        assert_eq!(
            config.level_scheme().unwrap(),
            crate::ledger::LevelScheme::default()
        );
        let text = "[[ledger.levels]]\nkey = 'province'\nvi = 'Cấp tỉnh'\nen = 'Province'\n\
                    [[ledger.levels]]\nkey = 'commune'\nvi = 'Cấp xã'\nen = 'Communes'\n";
        let scheme = Config::parse(text, "test", |_| None)
            .unwrap()
            .level_scheme()
            .unwrap();
        assert_eq!(scheme.keys(), "province, commune");
        assert_eq!(scheme.rank("district"), None);
        let twice = "[[ledger.levels]]\nkey = 'x'\nvi = 'X'\nen = 'X'\n\
                     [[ledger.levels]]\nkey = 'x'\nvi = 'Y'\nen = 'Y'\n";
        assert!(
            Config::parse(twice, "test", |_| None)
                .unwrap()
                .level_scheme()
                .is_err()
        );
    }

    #[test]
    fn the_tsa_comes_from_the_file_or_the_environment() {
        let text = "[tsa]\nurl = 'http://tsa.example.gov.vn/tsa'";
        let config = Config::parse(text, "t", |_| None).unwrap();
        assert_eq!(
            config.tsa.url.as_deref(),
            Some("http://tsa.example.gov.vn/tsa")
        );
        let config = Config::parse(text, "t", |n| {
            (n == "KYSO_TSA_URL").then(|| "http://127.0.0.1:3180/".to_owned())
        })
        .unwrap();
        assert_eq!(config.tsa.url.as_deref(), Some("http://127.0.0.1:3180/"));
    }

    #[test]
    fn csc_secrets_are_sources_and_a_key_names_its_own() {
        let text = "[csc]\ntoken_source = 'env:KYSO_CSC_TOKEN'\ntimeout_secs = 5\n\n\
            [[serve.keys]]\nname = 'remote'\nuri = 'csc:https://sign.example.vn/csc/v2#c1'\n\
            unit = 'STP'\nmethod = 'smart'\ntoken_source = 'file:/etc/kyso/csc-token'\n";
        let config = Config::parse(text, "t", |_| None).unwrap();
        let key = &config.serve.keys[0];
        let access = config
            .csc
            .access(key.token_source.as_deref(), key.pin_source.as_deref())
            .unwrap();
        assert_eq!(
            access.token,
            Some(crate::secret::SecretSource::File(
                "/etc/kyso/csc-token".into()
            ))
        );
        assert_eq!(access.timeout, std::time::Duration::from_secs(5));
        let defaults = config.csc.access(None, None).unwrap();
        assert_eq!(
            defaults.token,
            Some(crate::secret::SecretSource::Env("KYSO_CSC_TOKEN".into()))
        );
        // A secret written where its source belongs is refused and not quoted.
        let err = config.csc.access(Some("hunter2"), None).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let env = Config::parse("", "t", |n| {
            (n == "KYSO_CSC_PIN_SOURCE").then(|| "env:CSC_PIN".to_owned())
        })
        .unwrap();
        assert_eq!(env.csc.pin_source.as_deref(), Some("env:CSC_PIN"));
    }

    #[test]
    fn tsa_credentials_stay_with_their_tsa() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t0ken").unwrap();
        let text = format!(
            "[tsa]\nurl = 'https://tsa.example.gov.vn/tsr'\ntoken_source = 'file:{}'",
            token.display()
        );
        let config = Config::parse(&text, "t", |_| None).unwrap();
        let tsa = config.tsa(None).unwrap().unwrap();
        assert_eq!(tsa.url, "https://tsa.example.gov.vn/tsr");
        assert!(tsa.access.credentials.is_some());
        // The same TSA on another path keeps them; another TSA gets none.
        let same = config
            .tsa(Some("https://TSA.example.gov.vn:443/other".to_owned()))
            .unwrap()
            .unwrap();
        assert!(same.access.credentials.is_some());
        let other = config
            .tsa(Some("https://freetsa.example/tsr".to_owned()))
            .unwrap()
            .unwrap();
        assert!(other.access.credentials.is_none());
        assert!(Config::default().tsa(None).unwrap().is_none());
        let env = Config::parse("", "t", |n| {
            (n == "KYSO_TSA_CA").then(|| "/etc/kyso/tsa-ca.pem".to_owned())
        })
        .unwrap();
        assert_eq!(
            env.tsa.ca.as_deref(),
            Some(Path::new("/etc/kyso/tsa-ca.pem"))
        );
    }
}
