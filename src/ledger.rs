//! The signing-rate ledger: which units exist, which documents they issued, which of those were
//! signed, and the reports auditors read from that record.
//!
//! A province's headline figure ("98% of documents signed") is a ratio whose denominator is the
//! documents issued, signed or not. Signing products only see the signed ones, so the ledger keeps
//! both and gives two rates per unit:
//! - *declared*: the document-management software (DMS) said the document was signed;
//! - *verified*: kyso found a TOTAL-PASSED signature on it (ETSI EN 319 102-1 indication), when it
//!   signed the document itself or when a batch audit re-verified the archived file.
//!
//! The gap between the two is itself a finding for auditors.
//!
//! What this module owns:
//! - [`units`]: the unit hierarchy (province → departments/agencies, districts → communes) and its
//!   CSV form;
//! - [`event`]: the four document events and their validation;
//! - [`decide`]: what recording events does (inserted, unchanged, updated or refused, and the rows
//!   to write), decided once for both stores, on the [`rows`] they read;
//! - [`Store`]: the storage contract, with [`sqlite::SqliteStore`] (embedded default) and
//!   [`postgres::PgStore`] (several kyso nodes share one database), which read and write rows and
//!   decide nothing; every SQL statement of kyso lives in those two modules;
//! - [`period`]: reporting periods, whose boundaries are local midnights in Asia/Ho_Chi_Minh;
//! - [`report`] and [`render`]: the figures and their table, CSV, JSON and HTML forms;
//! - [`jobs`]: signing jobs waiting for a holder's confirmation on a phone, with their
//!   completion recorded in one transaction with its `signed` event;
//! - [`demo`]: a deterministic province-sized ledger reproducing the 2022-H1 seed figures.
//!
//! What it refuses: events for units it does not know, malformed events (nothing of a rejected
//! batch is stored), counting a retried event twice, a unit's records on another unit's document
//! ([`ownership`]), and deleting anything: the ledger is a record, and corrections are new
//! versions of an event, never removals.

use std::path::PathBuf;

use time::OffsetDateTime;

pub mod decide;
pub mod demo;
pub(crate) mod dictionary;
pub mod event;
pub mod jobs;
pub mod ownership;
pub mod period;
pub mod postgres;
pub mod render;
pub mod report;
pub mod rows;
pub mod sqlite;
pub mod units;

pub use event::{
    Audited, Certificate, Declared, Event, Indication, Issued, LongTermStatus, Method, Recorded,
    SignatureLevel, Signed, Verified,
};
pub use ownership::Reassignment;
pub use period::{Period, TimeRange};
pub use report::{Report, ReportQuery};
pub use units::{LevelScheme, Unit};

/// Everything that can go wrong in the ledger. Messages name the line, field, unit or document
/// involved, so that whoever fed the ledger can fix the input without reading code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("units CSV line {line}, field `{field}`: {reason}")]
    UnitCsv {
        line: u64,
        field: &'static str,
        reason: String,
    },

    #[error("units CSV: cannot read line {line}: {source}")]
    UnitCsvRead {
        line: u64,
        #[source]
        source: csv::Error,
    },

    #[error("unit `{code}` is part of a parent cycle: {path}")]
    UnitCycle { code: String, path: String },

    #[error("unknown unit `{code}`{}", match document_id {
        Some(id) => format!(" (document `{id}`)"),
        None => String::new(),
    })]
    UnknownUnit {
        code: String,
        document_id: Option<String>,
    },

    #[error("{}event {}, field `{field}`: {reason}", line_prefix(*line), document_label(document_id))]
    InvalidEvent {
        line: Option<u64>,
        document_id: Option<String>,
        field: &'static str,
        reason: String,
    },

    /// A document id stored for one unit, claimed by another ([`ownership`]).
    #[error(
        "document `{document_id}` is stored for unit `{owner}`: {} for unit `{unit}` is refused",
        claim.describe()
    )]
    DocumentOfAnotherUnit {
        document_id: String,
        owner: String,
        unit: String,
        claim: ownership::Claim,
    },

    #[error("events line {line}: cannot read: {source}")]
    EventRead {
        line: u64,
        #[source]
        source: std::io::Error,
    },

    #[error("events line {line}: not a valid event: {source}")]
    EventJson {
        line: u64,
        #[source]
        source: serde_json::Error,
    },

    #[error("unknown level `{level}`, expected one of {known}")]
    UnknownLevel { level: String, known: String },

    #[error("invalid level scheme: {reason}")]
    InvalidLevelScheme { reason: String },

    #[error("invalid period `{input}`: {reason}")]
    InvalidPeriod { input: String, reason: String },

    #[error("invalid certificate: {reason}")]
    InvalidCertificate { reason: String },

    #[error(
        "the ledger database at schema version {found} is newer than this kyso (knows up to {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },

    #[error("SQLite ledger {}: {context}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    #[error("PostgreSQL ledger: {context}: {source}")]
    Postgres {
        context: &'static str,
        #[source]
        source: ::postgres::Error,
    },

    /// A write found its table other than the decision read it ([`decide::Write`]): rows changed
    /// while the batch held its locks, which only a writer that bypassed them can do.
    #[error(
        "the ledger's `{table}` table changed while a batch was being recorded ({found} of {expected} rows to update found): nothing of the batch is stored"
    )]
    ChangedWhileRecording {
        table: &'static str,
        expected: u64,
        found: u64,
    },

    #[error("the ledger holds an unknown {column} `{value}`: written by a newer kyso?")]
    UnknownStoredValue { column: &'static str, value: String },

    /// A row PostgreSQL returned as JSON ([`postgres`]) that does not read as the table's row.
    #[error("PostgreSQL ledger: cannot read a row of `{table}`: {source}")]
    PostgresRow {
        table: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error("PostgreSQL ledger: invalid connection settings: {reason}")]
    PostgresConfig { reason: String },

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot render report as {format}: {reason}")]
    Render {
        format: &'static str,
        reason: String,
    },
}

fn line_prefix(line: Option<u64>) -> String {
    match line {
        Some(line) => format!("line {line}: "),
        None => String::new(),
    }
}

fn document_label(document_id: &Option<String>) -> String {
    match document_id {
        Some(id) => format!("for document `{id}`"),
        None => "without document id".to_owned(),
    }
}

/// Where the ledger lives. Both stores hold the same schema and answer the same queries; the
/// shared test suite (`tests/ledger.rs`) runs every case against both.
///
/// Methods take `&mut self` because a store is one database connection; a service shares a store
/// behind a mutex or opens one per worker. Every write method is one transaction: it stores all
/// of its input or none of it.
pub trait Store: Send {
    /// Inserts or updates units. The caller has validated the set as a whole
    /// ([`units::import`]); the store writes them parents first, in one transaction.
    fn upsert_units(&mut self, units: &[Unit]) -> Result<(), Error>;

    /// All units, ordered by code.
    fn units(&mut self) -> Result<Vec<Unit>, Error>;

    /// Records events in one transaction, in order. A retried event is [`Recorded::Unchanged`];
    /// an event naming an unknown unit, or claiming a document stored for another unit
    /// ([`ownership`]), fails the whole call and stores nothing.
    fn record(&mut self, events: &[Event]) -> Result<Vec<Recorded>, Error> {
        self.record_audited(events, &[])
            .map(|(outcomes, _)| outcomes)
    }

    /// Issued-document counts per issuing unit for documents issued in `range`. Units without
    /// documents are absent. A document counts as protected for the long term when its proof
    /// lasts until `renew_by` or later, and as needing extension otherwise ([`Counts`]).
    fn document_counts(
        &mut self,
        range: TimeRange,
        renew_by: OffsetDateTime,
    ) -> Result<Vec<UnitCounts>, Error>;

    /// Signatures made in `range` (by signing time), grouped by signing unit, method, issuing CA
    /// and signer certificate.
    fn signature_counts(&mut self, range: TimeRange) -> Result<Vec<SignatureCount>, Error>;

    /// Incoming verifications in `range`, grouped by receiving unit and verdict.
    fn incoming_counts(&mut self, range: TimeRange) -> Result<Vec<IncomingCount>, Error>;

    /// Documents of `unit` issued in `range` that need extending by `renew_by` (the
    /// `needs_extending` of [`Counts`]), soonest end first, at most `limit`, each with the
    /// certificate its latest passing audit named; and how many there are in all.
    fn documents_to_extend(
        &mut self,
        unit: &str,
        range: TimeRange,
        renew_by: OffsetDateTime,
        limit: usize,
    ) -> Result<(Vec<ExtensionDue>, u64), Error>;

    /// Documents of `unit` issued in `range` that are not signed by declaration or not by
    /// verification, oldest first, at most `limit`; and how many there are in all.
    fn unsigned_documents(
        &mut self,
        unit: &str,
        range: TimeRange,
        limit: usize,
    ) -> Result<(Vec<DocumentStatus>, u64), Error>;

    /// How many events of each kind the ledger holds (for `kyso units show`, health and tests).
    fn totals(&mut self) -> Result<Totals, Error>;

    /// Records `events` and appends `audit` to the audit chain in one transaction: a signature
    /// is in the ledger and in the audit log, or in neither. Appends serialise on the chain's
    /// head row, so concurrent writers (other connections, other kyso nodes) never fork it.
    /// A document stays with the unit it was stored for ([`Reassignment::Refused`]).
    fn record_audited(
        &mut self,
        events: &[Event],
        audit: &[crate::audit::Record],
    ) -> Result<(Vec<Recorded>, Vec<crate::audit::Entry>), Error> {
        self.record_events(events, audit, Reassignment::Refused)
    }

    /// [`Store::record_audited`], with the rule for documents stored for another unit spelt
    /// out: [`Reassignment::AllowedForCorrection`] only for an administrator's correction.
    /// Stores read the rows [`decide::wanted`] names inside the transaction and write what
    /// [`decide::decide`] says.
    fn record_events(
        &mut self,
        events: &[Event],
        audit: &[crate::audit::Record],
        reassignment: Reassignment,
    ) -> Result<(Vec<Recorded>, Vec<crate::audit::Entry>), Error>;

    /// The unit `document_id` is stored for ([`ownership`]): its issued event's, else its first
    /// signature's; `None` for a document id the ledger does not hold.
    fn document_unit(&mut self, document_id: &str) -> Result<Option<String>, Error>;

    /// Appends `audit` to the audit chain in one transaction.
    fn append_audit(
        &mut self,
        audit: &[crate::audit::Record],
    ) -> Result<Vec<crate::audit::Entry>, Error> {
        self.record_audited(&[], audit).map(|(_, entries)| entries)
    }

    /// Audit entries with a sequence number above `after`, in order, at most `limit`.
    fn audit_entries(
        &mut self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::audit::Entry>, Error>;

    /// The chain's head: the last sequence number and hash ((0, GENESIS) when empty).
    fn audit_head(&mut self) -> Result<(u64, String), Error>;

    /// Stores a new API key and its audit entry in one transaction. Fails if the id exists.
    fn create_api_key(
        &mut self,
        key: &ApiKey,
        audit: &crate::audit::Record,
    ) -> Result<crate::audit::Entry, Error>;

    /// The API key with this public id, revoked or not.
    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKey>, Error>;

    /// Every API key, by creation time.
    fn api_keys(&mut self) -> Result<Vec<ApiKey>, Error>;

    /// Revokes a key and appends the audit entry in one transaction; `None` (and no entry) when
    /// there is no such key or it was already revoked.
    fn revoke_api_key(
        &mut self,
        key_id: &str,
        at: OffsetDateTime,
        audit: &crate::audit::Record,
    ) -> Result<Option<crate::audit::Entry>, Error>;

    /// One cheap round trip to the database, for readiness checks.
    fn ping(&mut self) -> Result<(), Error>;
}

/// An API key as stored: its public id, the SHA-256 of its secret (never the secret), the role
/// and the units it is bound to. The role is kept as text here; `api::auth` gives it meaning.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiKey {
    /// Public identifier, the first part of the key as presented; lower-case hex.
    pub key_id: String,
    /// SHA-256 of the whole presented key, hex. The secret part is 256 random bits, so a fast
    /// hash is enough: there is nothing to brute-force.
    #[serde(skip)]
    pub secret_sha256: String,
    pub role: String,
    /// Unit codes the key may act for; `*` means every unit.
    pub units: Vec<String>,
    /// What the key is for (free text, for operators).
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKey {
    /// Units as stored: comma-separated (unit codes cannot contain a comma, see
    /// [`units::check_code`]).
    pub(crate) fn units_text(&self) -> String {
        self.units.join(",")
    }

    pub(crate) fn units_from_text(text: &str) -> Vec<String> {
        text.split(',')
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Document counts of one unit over a range.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitCounts {
    pub unit: String,
    pub counts: Counts,
}

/// The numbers behind both rates. `declared_unverified` counts documents the DMS declared signed
/// on which kyso has not found a TOTAL-PASSED signature: the documents behind the gap.
///
/// The last two come from batch audits of the archive (`kyso verify --batch --record`): of the
/// verified documents whose latest passing audit recorded a long-term status, those that stay
/// verifiable past the renewal horizon as filed (B-LT/B-LTA), and those that need `kyso extend`
/// now (B-B/B-T, or a proof resting on a certificate expiring within the horizon). Verified
/// documents never audited with a long-term status are in neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub issued: u64,
    pub declared_signed: u64,
    pub verified_signed: u64,
    pub declared_unverified: u64,
    pub long_term_protected: u64,
    pub needs_extending: u64,
}

impl Counts {
    /// Adds another unit's counts, for level totals and roll-ups.
    pub fn add(&mut self, other: &Counts) {
        self.issued += other.issued;
        self.declared_signed += other.declared_signed;
        self.verified_signed += other.verified_signed;
        self.declared_unverified += other.declared_unverified;
        self.long_term_protected += other.long_term_protected;
        self.needs_extending += other.needs_extending;
    }
}

/// Signatures of one signer certificate for one unit and method, with its issuing CA: a
/// province's certificates are counted by medium from these (issue 18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureCount {
    pub unit: String,
    pub method: Method,
    pub issuer: String,
    /// SHA-256 of the signer certificate, hex.
    pub certificate: String,
    pub count: u64,
}

/// Incoming verifications of one (receiving unit, indication, sub-indication) group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingCount {
    pub unit: String,
    pub indication: Indication,
    pub sub_indication: Option<String>,
    pub count: u64,
}

/// One document as the drill-down list shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocumentStatus {
    pub document_id: String,
    pub number: String,
    pub doc_type: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    pub declared: Declared,
    pub verified: bool,
}

/// A document whose verifiability ends soon unless `kyso extend` adds a proof of existence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExtensionDue {
    pub document_id: String,
    pub number: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// Filed at B-LT/B-LTA (then its proof needs renewing), or not (B-B, B-T).
    pub protected: bool,
    /// When the certificate below expires.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub certificate: Option<String>,
}

/// Rows per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub units: u64,
    pub documents: u64,
    pub signatures: u64,
    pub incoming: u64,
    pub audits: u64,
}

/// Adds a unit's long-term counts to its row of `counts`. A document with a long-term status is
/// an issued document, so its unit has a row.
pub(crate) fn merge_long_term(
    counts: &mut [UnitCounts],
    unit: &str,
    protected: u64,
    needs_extending: u64,
) {
    if let Some(row) = counts.iter_mut().find(|c| c.unit == unit) {
        row.counts.long_term_protected = protected;
        row.counts.needs_extending = needs_extending;
    }
}

/// Seconds since the Unix epoch (UTC), the form both stores keep times in: integer comparison
/// gives both stores the same period boundaries to the second, with no time-zone setting of the
/// database server involved.
pub(crate) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn from_unix(seconds: i64) -> OffsetDateTime {
    // Stored values came from `unix()` of a valid OffsetDateTime, so they are in range; a value
    // written by something else and out of range reads as the epoch rather than failing a report.
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
