//! The embedded ledger: one SQLite file (by default under `var/`), in WAL mode so that reports
//! read while kyso writes, and so that several kyso processes on one machine can share the file.
//!
//! Every write is a `BEGIN IMMEDIATE` transaction: it takes the write lock up front, so two
//! processes never both read under a shared lock and then deadlock upgrading it (which SQLite
//! reports as SQLITE_BUSY without waiting). Waiting writers wait up to [`BUSY_TIMEOUT`].
//!
//! Durability: `synchronous=FULL` by default ([`Durability::Full`]). In WAL mode `NORMAL` is
//! already safe against corruption and against a kyso crash, but a power cut can roll back the last
//! commits; the DMS does not resend an event it was told is recorded, so a lost commit would be a
//! document silently missing from an auditor's report. FULL costs one fsync per transaction; bulk
//! loads (imports, audits, the demo) batch events into few transactions, and an operator who prefers
//! speed over the last seconds of events on power loss chooses [`Durability::Normal`].
//!
//! Times are Unix seconds (UTC) in INTEGER columns, as in the PostgreSQL store, so both compare
//! period boundaries identically. This module refuses nothing beyond what [`Store`] refuses.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;

use super::dictionary::SignerIds;
use super::event::{Event, Recorded};
use super::ownership::Reassignment;
use super::rows::{stored_indication, stored_method};
use super::units::Unit;
use super::{
    ApiKey, Counts, Declared, DocumentStatus, Error, ExtensionDue, IncomingCount, SignatureCount,
    Store, TimeRange, Totals, UnitCounts, from_unix, merge_long_term, unix,
};
use crate::audit;

mod jobs;
mod record;

/// How long a writer waits for another process's transaction before giving up. Transactions are
/// short (a batch of events), so a long wait means something is stuck; 30 s leaves room for a
/// large import running alongside.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits for another connection's write lock: sleeps from 50 µs doubling to 800 µs, and gives up
/// after about [`BUSY_TIMEOUT`]. SQLite's own busy timeout backs off to 100 ms sleeps, so two busy
/// writers would spend most of their time asleep while the lock sits free.
fn busy_wait(attempt: i32) -> bool {
    const MAX_STEP_MICROS: u64 = 800;
    let step = 50u64 << attempt.clamp(0, 4);
    let give_up_after =
        u64::try_from(BUSY_TIMEOUT.as_micros()).unwrap_or(u64::MAX) / MAX_STEP_MICROS;
    if u64::try_from(attempt).unwrap_or(0) >= give_up_after {
        return false;
    }
    std::thread::sleep(Duration::from_micros(step));
    true
}

/// Prepared statements kept per connection: every statement this module runs, with room to spare.
const STATEMENT_CACHE: usize = 64;

/// What a commit survives. See the module documentation for the trade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a recorded event survives a power cut.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a kyso crash; a power cut may roll back the last commits.
    Normal,
}

/// The SQLite ledger.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Ids of the issuers and signer certificates known to be committed.
    signers: SignerIds,
}

/// Schema versions, applied in order; a version is never edited once released, only added to.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE units (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    level  TEXT NOT NULL,
    parent TEXT REFERENCES units(code)
);
CREATE TABLE documents (
    document_id     TEXT PRIMARY KEY,
    number          TEXT NOT NULL,
    doc_type        TEXT NOT NULL,
    unit            TEXT NOT NULL REFERENCES units(code),
    issued_at       INTEGER NOT NULL,
    declared_signed INTEGER NOT NULL CHECK (declared_signed IN (0, 1)),
    verified_signed INTEGER NOT NULL DEFAULT 0 CHECK (verified_signed IN (0, 1))
);
-- Covers the per-unit report (GROUP BY unit, filter on time) and the drill-down list.
CREATE INDEX documents_unit_time
    ON documents (unit, issued_at, declared_signed, verified_signed);
-- Issuer DNs are long and few: signatures refer to them by number, which keeps the report's
-- covering index small.
CREATE TABLE issuers (
    id INTEGER PRIMARY KEY,
    dn TEXT NOT NULL UNIQUE
);
CREATE TABLE signatures (
    document_id    TEXT NOT NULL,
    cert_sha256    TEXT NOT NULL,
    unit           TEXT NOT NULL REFERENCES units(code),
    key_ref        TEXT NOT NULL,
    cert_subject   TEXT NOT NULL,
    cert_issuer_id INTEGER NOT NULL REFERENCES issuers(id),
    method       TEXT NOT NULL,
    level        TEXT NOT NULL,
    signed_at    INTEGER NOT NULL,
    indication   TEXT NOT NULL,
    PRIMARY KEY (document_id, cert_sha256)
);
-- Covers the method and provider counts: grouped in index order, filtered on time.
CREATE INDEX signatures_report ON signatures (unit, method, cert_issuer_id, signed_at);
CREATE TABLE incoming (
    receiving_unit TEXT NOT NULL REFERENCES units(code),
    document_id    TEXT NOT NULL,
    sender         TEXT NOT NULL,
    verified_at    INTEGER NOT NULL,
    indication     TEXT NOT NULL,
    sub_indication TEXT,
    PRIMARY KEY (receiving_unit, document_id)
);
CREATE INDEX incoming_time ON incoming (verified_at);
CREATE TABLE audits (
    document_id    TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    audited_at     INTEGER NOT NULL,
    indication     TEXT NOT NULL,
    sub_indication TEXT,
    PRIMARY KEY (document_id, content_sha256)
);
"#,
    r#"
-- API keys of the service: the public id, the SHA-256 of the presented key (never the key),
-- the role and the units (comma-separated codes, or *).
CREATE TABLE api_keys (
    key_id        TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    role          TEXT NOT NULL,
    units         TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
-- The hash-chained audit log (src/audit.rs). Times in microseconds since the epoch.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at_micros INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
-- The chain's head, rewritten by every append in the append's transaction: a removed tail shows
-- as a head the log no longer reaches.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
"#,
    r#"
-- Long-term status of audited files (issue 19): whether the file stays verifiable as filed
-- (B-LT/B-LTA), until when (Unix seconds) and which certificate's expiry ends it; all three or
-- none. A document carries its latest passing audit's status, derived like verified_signed. The
-- report counts them from a partial index of the documents that have one, so that the main
-- report scan stays as it was.
ALTER TABLE audits ADD COLUMN lt_protected INTEGER CHECK (lt_protected IN (0, 1));
ALTER TABLE audits ADD COLUMN lt_until INTEGER;
ALTER TABLE audits ADD COLUMN lt_certificate TEXT;
ALTER TABLE documents ADD COLUMN lt_protected INTEGER CHECK (lt_protected IN (0, 1));
ALTER TABLE documents ADD COLUMN lt_until INTEGER;
CREATE INDEX documents_long_term ON documents (unit, issued_at, lt_protected, lt_until)
    WHERE lt_until IS NOT NULL;
-- Signer certificates by method (issue 18): the report counts distinct certificates per unit,
-- level and method, so the covering index of the method counts carries the certificate.
DROP INDEX signatures_report;
CREATE INDEX signatures_report
    ON signatures (unit, method, cert_issuer_id, cert_sha256, signed_at);
"#,
    r#"
-- Signing jobs (issue 18): signatures waiting for the holder to confirm on a phone. A job keeps
-- what signs its document again exactly, never a half-signed document; `bytes` is what it holds
-- (document while pending, result when done), summed to bound the table. Times in Unix seconds.
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    credential     TEXT NOT NULL,
    unit           TEXT NOT NULL,
    key_name       TEXT NOT NULL,
    document       BLOB NOT NULL,
    options        TEXT NOT NULL,
    message        BLOB NOT NULL,
    digest         BLOB NOT NULL,
    transaction_id TEXT NOT NULL,
    state          TEXT NOT NULL
        CHECK (state IN ('pending', 'done', 'refused', 'expired', 'failed')),
    reason         TEXT,
    created_at     INTEGER NOT NULL,
    deadline       INTEGER NOT NULL,
    finished_at    INTEGER,
    result         BLOB,
    bytes          INTEGER NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, created_at);
"#,
    r#"
-- Signer certificates by number (src/ledger/dictionary.rs): the covering index of the method and
-- certificate counts holds an integer where schema 3 put the 64-character fingerprint, which
-- made it three and a half times wider and the report and recording slower. A certificate is
-- keyed by issuer and fingerprint together, as the counts group signatures.
CREATE TABLE certificates (
    id        INTEGER PRIMARY KEY,
    issuer_id INTEGER NOT NULL REFERENCES issuers(id),
    sha256    TEXT NOT NULL,
    UNIQUE (sha256, issuer_id)
);
INSERT INTO certificates (issuer_id, sha256)
    SELECT DISTINCT cert_issuer_id, cert_sha256 FROM signatures;
ALTER TABLE signatures ADD COLUMN cert_id INTEGER REFERENCES certificates(id);
UPDATE signatures SET cert_id = (SELECT c.id FROM certificates AS c
                                 WHERE c.sha256 = signatures.cert_sha256
                                   AND c.issuer_id = signatures.cert_issuer_id);
DROP INDEX signatures_report;
CREATE INDEX signatures_report ON signatures (unit, method, cert_id, signed_at);
"#,
];

/// The documents of a unit and period that need extending, with the certificate named by the
/// latest passing audit whose status the document carries.
const TO_EXTEND: &str = "
SELECT d.document_id, d.number, d.issued_at, d.lt_protected, d.lt_until,
       (SELECT a.lt_certificate FROM audits AS a
        WHERE a.document_id = d.document_id AND a.indication = 'TOTAL-PASSED'
          AND a.lt_protected = d.lt_protected AND a.lt_until = d.lt_until
        ORDER BY a.audited_at DESC LIMIT 1)
FROM documents AS d
WHERE d.unit = ?1 AND d.issued_at >= ?2 AND d.issued_at < ?3
  AND (d.lt_protected = 0 OR d.lt_until < ?4)
ORDER BY d.lt_until, d.document_id LIMIT ?5";

/// Maps a rusqlite error to [`Error::Sqlite`] naming the file and what was being done; owns
/// its copy of the path, so it can be used while a transaction borrows the connection.
fn sqlite_error(path: &Path, context: &'static str) -> impl Fn(rusqlite::Error) -> Error + use<> {
    let path = path.to_owned();
    move |source| Error::Sqlite {
        path: path.clone(),
        context,
        source,
    }
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directory) the ledger at `path` and brings its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                action: "create ledger directory",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let fail = |context| sqlite_error(&path, context);
        let mut conn = Connection::open(&path).map_err(fail("open"))?;
        conn.busy_handler(Some(busy_wait))
            .map_err(fail("set busy handler"))?;
        // Recording alone runs thirteen distinct statements per batch (reads, and an insert and
        // an update per table), reports and the audit log a dozen more: with rusqlite's default
        // of 16 cached statements they would evict each other and be parsed again every batch.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        // journal_mode answers with the mode in force; anything but wal (a read-only or
        // in-memory database) would break concurrent readers, so it is refused.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail("enable WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Sqlite {
                path: path.clone(),
                context: "enable WAL",
                source: rusqlite::Error::InvalidParameterName(format!("journal_mode is {mode}")),
            });
        }
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
        ))
        .map_err(fail("set pragmas"))?;
        let mut store = SqliteStore {
            conn,
            path,
            signers: SignerIds::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> Error + 'static {
        sqlite_error(&self.path, context)
    }

    /// Makes sure every issuer and signer certificate the events name has an id, committed in
    /// its own small transaction before the events' transaction: they are dictionary entries,
    /// not events, so one left behind by a batch that then fails is harmless, and an id is
    /// cached only once it is committed.
    fn ensure_signers(&mut self, events: &[Event]) -> Result<(), Error> {
        let unknown = self.signers.unknown(events);
        if unknown.is_empty() {
            return Ok(());
        }
        let fail = self.fail("record signer certificates");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let mut ids = Vec::with_capacity(unknown.len());
        for u in &unknown {
            let issuer_id: i64 = match self.signers.issuer(u.issuer) {
                Some(id) => id,
                None => {
                    tx.prepare_cached(
                        "INSERT INTO issuers (dn) VALUES (?1) ON CONFLICT (dn) DO NOTHING",
                    )
                    .and_then(|mut s| s.execute([u.issuer]))
                    .map_err(&fail)?;
                    tx.prepare_cached("SELECT id FROM issuers WHERE dn = ?1")
                        .and_then(|mut s| s.query_row([u.issuer], |r| r.get(0)))
                        .map_err(&fail)?
                }
            };
            tx.prepare_cached(
                "INSERT INTO certificates (issuer_id, sha256) VALUES (?1, ?2)
                 ON CONFLICT (sha256, issuer_id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![issuer_id, u.sha256]))
            .map_err(&fail)?;
            let certificate_id: i64 = tx
                .prepare_cached("SELECT id FROM certificates WHERE sha256 = ?1 AND issuer_id = ?2")
                .and_then(|mut s| s.query_row(params![u.sha256, issuer_id], |r| r.get(0)))
                .map_err(&fail)?;
            ids.push((u.issuer, issuer_id, u.sha256, certificate_id));
        }
        tx.commit().map_err(&fail)?;
        for (issuer, issuer_id, sha256, certificate_id) in ids {
            self.signers.insert_issuer(issuer, issuer_id);
            self.signers
                .insert_certificate(issuer_id, sha256, certificate_id);
        }
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        let fail = |context| sqlite_error(&path, context);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin migration"))?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS kyso_schema (version INTEGER NOT NULL)")
            .map_err(fail("create schema table"))?;
        let found: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM kyso_schema",
                [],
                |r| r.get(0),
            )
            .map_err(fail("read schema version"))?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(Error::SchemaTooNew { found, known });
        }
        let applied = usize::try_from(found).unwrap_or(0);
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            tx.execute_batch(sql).map_err(fail("apply migration"))?;
            tx.execute(
                "INSERT INTO kyso_schema (version) VALUES (?1)",
                [index as i64 + 1],
            )
            .map_err(fail("record migration"))?;
        }
        tx.commit().map_err(fail("commit migration"))
    }
}

impl Store for SqliteStore {
    fn upsert_units(&mut self, units: &[Unit]) -> Result<(), Error> {
        let path = self.path.clone();
        let fail = |context| sqlite_error(&path, context);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin units import"))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO units (code, name, level, parent) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (code) DO UPDATE
                     SET name = excluded.name, level = excluded.level, parent = excluded.parent",
                )
                .map_err(fail("prepare units import"))?;
            for unit in units {
                upsert
                    .execute(params![unit.code, unit.name, unit.level, unit.parent])
                    .map_err(fail("write unit"))?;
            }
        }
        tx.commit().map_err(fail("commit units import"))
    }

    fn units(&mut self) -> Result<Vec<Unit>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, name, level, parent FROM units ORDER BY code")
            .map_err(self.fail("prepare units query"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Unit {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: r.get(2)?,
                    parent: r.get(3)?,
                })
            })
            .map_err(self.fail("query units"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.fail("read unit"))
    }

    fn record_events(
        &mut self,
        events: &[Event],
        audit: &[audit::Record],
        reassignment: Reassignment,
    ) -> Result<(Vec<Recorded>, Vec<audit::Entry>), Error> {
        for event in events {
            event.validate()?;
        }
        self.ensure_signers(events)?;
        let signers = &self.signers;
        let path = self.path.clone();
        let fail = move |context| sqlite_error(&path, context);
        // IMMEDIATE: the write lock is taken up front and held to the commit, so the rows read for
        // the decision stay as read until it is written, and reading the audit head and
        // appending after it cannot race another connection or process.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin recording events"))?;
        let decision =
            record::record(&tx, signers, events, reassignment).map_err(|e| e.at(&self.path))?;
        let entries = if audit.is_empty() {
            Vec::new()
        } else {
            append_audit(&tx, audit).map_err(fail("append to the audit log"))?
        };
        tx.commit().map_err(fail("commit events"))?;
        Ok((decision.outcomes, entries))
    }

    fn document_unit(&mut self, document_id: &str) -> Result<Option<String>, Error> {
        let document =
            record::read_document(&self.conn, document_id).map_err(|e| e.at(&self.path))?;
        Ok(document.owner().map(str::to_owned))
    }

    fn audit_entries(&mut self, after: u64, limit: usize) -> Result<Vec<audit::Entry>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at_micros, actor, action, subject, details, prev_hash, hash
                 FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(self.fail("prepare audit query"))?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok(audit::Entry {
                    seq: r.get::<_, i64>(0)? as u64,
                    record: audit::Record {
                        at: audit::from_micros(r.get(1)?),
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        subject: r.get(4)?,
                        details: r.get(5)?,
                    },
                    prev_hash: r.get(6)?,
                    hash: r.get(7)?,
                })
            })
            .map_err(self.fail("query audit log"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.fail("read audit log"))
    }

    fn audit_head(&mut self) -> Result<(u64, String), Error> {
        self.conn
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .map_err(self.fail("read audit head"))
    }

    fn create_api_key(
        &mut self,
        key: &ApiKey,
        audit: &audit::Record,
    ) -> Result<audit::Entry, Error> {
        let path = self.path.clone();
        let fail = |context| sqlite_error(&path, context);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin creating an API key"))?;
        tx.execute(
            "INSERT INTO api_keys (key_id, secret_sha256, role, units, label, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.key_id,
                key.secret_sha256,
                key.role,
                key.units_text(),
                key.label,
                unix(key.created_at)
            ],
        )
        .map_err(fail("store API key"))?;
        let mut entries = append_audit(&tx, std::slice::from_ref(audit))
            .map_err(fail("append to the audit log"))?;
        tx.commit().map_err(fail("commit API key"))?;
        Ok(entries.remove(0))
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKey>, Error> {
        self.conn
            .prepare_cached(
                "SELECT key_id, secret_sha256, role, units, label, created_at, revoked_at
                 FROM api_keys WHERE key_id = ?1",
            )
            .and_then(|mut s| s.query_row([key_id], api_key_row).optional())
            .map_err(self.fail("read API key"))
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKey>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key_id, secret_sha256, role, units, label, created_at, revoked_at
                 FROM api_keys ORDER BY created_at, key_id",
            )
            .map_err(self.fail("prepare API key query"))?;
        let rows = stmt
            .query_map([], api_key_row)
            .map_err(self.fail("query API keys"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.fail("read API keys"))
    }

    fn revoke_api_key(
        &mut self,
        key_id: &str,
        at: OffsetDateTime,
        audit: &audit::Record,
    ) -> Result<Option<audit::Entry>, Error> {
        let path = self.path.clone();
        let fail = |context| sqlite_error(&path, context);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail("begin revoking an API key"))?;
        let changed = tx
            .execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE key_id = ?1 AND revoked_at IS NULL",
                params![key_id, unix(at)],
            )
            .map_err(fail("revoke API key"))?;
        if changed == 0 {
            return Ok(None);
        }
        let mut entries = append_audit(&tx, std::slice::from_ref(audit))
            .map_err(fail("append to the audit log"))?;
        tx.commit().map_err(fail("commit API key revocation"))?;
        Ok(Some(entries.remove(0)))
    }

    fn ping(&mut self) -> Result<(), Error> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(self.fail("ping"))
    }

    fn document_counts(
        &mut self,
        range: TimeRange,
        renew_by: OffsetDateTime,
    ) -> Result<Vec<UnitCounts>, Error> {
        let (start, end) = (unix(range.start), unix(range.end));
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT unit, COUNT(*), SUM(declared_signed), SUM(verified_signed),
                        SUM(declared_signed * (1 - verified_signed))
                 FROM documents
                 WHERE issued_at >= ?1 AND issued_at < ?2
                 GROUP BY unit ORDER BY unit",
            )
            .map_err(self.fail("prepare document counts"))?;
        let rows = stmt
            .query_map(params![start, end], |r| {
                Ok(UnitCounts {
                    unit: r.get(0)?,
                    counts: Counts {
                        issued: r.get::<_, i64>(1)? as u64,
                        declared_signed: r.get::<_, i64>(2)? as u64,
                        verified_signed: r.get::<_, i64>(3)? as u64,
                        declared_unverified: r.get::<_, i64>(4)? as u64,
                        ..Counts::default()
                    },
                })
            })
            .map_err(self.fail("query document counts"))?;
        let mut counts: Vec<UnitCounts> = rows
            .collect::<Result<_, _>>()
            .map_err(self.fail("read document counts"))?;
        // The long-term counts, from the partial index of documents an audit gave a status.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT unit,
                        SUM(CASE WHEN lt_protected = 1 AND lt_until >= ?3 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN lt_protected = 1 AND lt_until >= ?3 THEN 0 ELSE 1 END)
                 FROM documents
                 WHERE issued_at >= ?1 AND issued_at < ?2 AND lt_until IS NOT NULL
                 GROUP BY unit",
            )
            .map_err(self.fail("prepare long-term counts"))?;
        let rows = stmt
            .query_map(params![start, end, unix(renew_by)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(self.fail("query long-term counts"))?;
        for row in rows {
            let (unit, protected, needs_extending) =
                row.map_err(self.fail("read long-term counts"))?;
            merge_long_term(&mut counts, &unit, protected, needs_extending);
        }
        Ok(counts)
    }

    fn signature_counts(&mut self, range: TimeRange) -> Result<Vec<SignatureCount>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.unit, s.method, i.dn, c.sha256, s.n
                 FROM (SELECT unit, method, cert_id, COUNT(*) AS n
                       FROM signatures
                       WHERE signed_at >= ?1 AND signed_at < ?2
                       GROUP BY unit, method, cert_id) AS s
                 JOIN certificates AS c ON c.id = s.cert_id
                 JOIN issuers AS i ON i.id = c.issuer_id
                 ORDER BY s.unit, s.method, i.dn, c.sha256",
            )
            .map_err(self.fail("prepare signature counts"))?;
        let rows = stmt
            .query_map(params![unix(range.start), unix(range.end)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(self.fail("query signature counts"))?;
        let mut out = Vec::new();
        for row in rows {
            let (unit, method, issuer, certificate, count) =
                row.map_err(self.fail("read signature counts"))?;
            out.push(SignatureCount {
                unit,
                method: stored_method(&method)?,
                issuer,
                certificate,
                count: count as u64,
            });
        }
        Ok(out)
    }

    fn incoming_counts(&mut self, range: TimeRange) -> Result<Vec<IncomingCount>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT receiving_unit, indication, sub_indication, COUNT(*)
                 FROM incoming
                 WHERE verified_at >= ?1 AND verified_at < ?2
                 GROUP BY receiving_unit, indication, sub_indication
                 ORDER BY receiving_unit, indication, sub_indication",
            )
            .map_err(self.fail("prepare incoming counts"))?;
        let rows = stmt
            .query_map(params![unix(range.start), unix(range.end)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(self.fail("query incoming counts"))?;
        let mut out = Vec::new();
        for row in rows {
            let (unit, indication, sub_indication, count) =
                row.map_err(self.fail("read incoming counts"))?;
            out.push(IncomingCount {
                unit,
                indication: stored_indication(&indication)?,
                sub_indication,
                count: count as u64,
            });
        }
        Ok(out)
    }

    fn documents_to_extend(
        &mut self,
        unit: &str,
        range: TimeRange,
        renew_by: OffsetDateTime,
        limit: usize,
    ) -> Result<(Vec<ExtensionDue>, u64), Error> {
        let (start, end, renew_by) = (unix(range.start), unix(range.end), unix(renew_by));
        let total: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM documents
                 WHERE unit = ?1 AND issued_at >= ?2 AND issued_at < ?3
                   AND (lt_protected = 0 OR lt_until < ?4)",
            )
            .and_then(|mut s| s.query_row(params![unit, start, end, renew_by], |r| r.get(0)))
            .map_err(self.fail("count documents to extend"))?;
        let mut stmt = self
            .conn
            .prepare_cached(TO_EXTEND)
            .map_err(self.fail("prepare documents to extend"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![unit, start, end, renew_by, limit], |r| {
                Ok(ExtensionDue {
                    document_id: r.get(0)?,
                    number: r.get(1)?,
                    issued_at: from_unix(r.get(2)?),
                    protected: r.get::<_, i64>(3)? == 1,
                    until: from_unix(r.get(4)?),
                    certificate: r.get(5)?,
                })
            })
            .map_err(self.fail("query documents to extend"))?;
        let documents = rows
            .collect::<Result<_, _>>()
            .map_err(self.fail("read documents to extend"))?;
        Ok((documents, total as u64))
    }

    fn unsigned_documents(
        &mut self,
        unit: &str,
        range: TimeRange,
        limit: usize,
    ) -> Result<(Vec<DocumentStatus>, u64), Error> {
        let (start, end) = (unix(range.start), unix(range.end));
        let total: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM documents
                 WHERE unit = ?1 AND issued_at >= ?2 AND issued_at < ?3
                   AND (declared_signed = 0 OR verified_signed = 0)",
            )
            .and_then(|mut s| s.query_row(params![unit, start, end], |r| r.get(0)))
            .map_err(self.fail("count unsigned documents"))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT document_id, number, doc_type, issued_at, declared_signed, verified_signed
                 FROM documents
                 WHERE unit = ?1 AND issued_at >= ?2 AND issued_at < ?3
                   AND (declared_signed = 0 OR verified_signed = 0)
                 ORDER BY issued_at, document_id LIMIT ?4",
            )
            .map_err(self.fail("prepare unsigned documents"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![unit, start, end, limit], |r| {
                Ok(DocumentStatus {
                    document_id: r.get(0)?,
                    number: r.get(1)?,
                    doc_type: r.get(2)?,
                    issued_at: from_unix(r.get(3)?),
                    declared: declared(r.get(4)?),
                    verified: r.get::<_, i64>(5)? == 1,
                })
            })
            .map_err(self.fail("query unsigned documents"))?;
        let documents = rows
            .collect::<Result<_, _>>()
            .map_err(self.fail("read unsigned documents"))?;
        Ok((documents, total as u64))
    }

    fn totals(&mut self) -> Result<Totals, Error> {
        let count = |conn: &Connection, sql: &str| -> rusqlite::Result<u64> {
            conn.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        };
        let conn = &self.conn;
        (|| {
            Ok(Totals {
                units: count(conn, "SELECT COUNT(*) FROM units")?,
                documents: count(conn, "SELECT COUNT(*) FROM documents")?,
                signatures: count(conn, "SELECT COUNT(*) FROM signatures")?,
                incoming: count(conn, "SELECT COUNT(*) FROM incoming")?,
                audits: count(conn, "SELECT COUNT(*) FROM audits")?,
            })
        })()
        .map_err(self.fail("count rows"))
    }
}

/// Appends `records` after the chain's head inside `tx` (which holds the write lock) and moves
/// the head.
fn append_audit(
    tx: &Transaction<'_>,
    records: &[audit::Record],
) -> Result<Vec<audit::Entry>, rusqlite::Error> {
    let (seq, hash): (i64, String) =
        tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let entries = audit::Entry::chain(seq as u64, &hash, records);
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO audit_log (seq, at_micros, actor, action, subject, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for e in &entries {
            insert.execute(params![
                e.seq as i64,
                audit::micros(e.record.at),
                e.record.actor,
                e.record.action,
                e.record.subject,
                e.record.details,
                e.prev_hash,
                e.hash
            ])?;
        }
    }
    if let Some(last) = entries.last() {
        tx.execute(
            "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
            params![last.seq as i64, last.hash],
        )?;
    }
    Ok(entries)
}

fn api_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        key_id: r.get(0)?,
        secret_sha256: r.get(1)?,
        role: r.get(2)?,
        units: ApiKey::units_from_text(&r.get::<_, String>(3)?),
        label: r.get(4)?,
        created_at: from_unix(r.get(5)?),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(from_unix),
    })
}

fn declared(flag: i64) -> Declared {
    if flag == 1 {
        Declared::Signed
    } else {
        Declared::Unsigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::period::TimeRange;

    /// A ledger written at schema 4 (signature rows with only the fingerprint) keeps its
    /// counts when opened at schema 5: every row gets its certificate's number, a fingerprint
    /// under two issuers stays two certificates, and rows recorded after the upgrade join the
    /// same numbers.
    #[test]
    fn schema_4_signatures_get_certificate_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE kyso_schema (version INTEGER NOT NULL)")
                .unwrap();
            for (index, sql) in MIGRATIONS[..4].iter().enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.execute("INSERT INTO kyso_schema VALUES (?1)", [index as i64 + 1])
                    .unwrap();
            }
            conn.execute_batch(&format!(
                "INSERT INTO units VALUES ('u', 'Unit', 'department', NULL);
                 INSERT INTO issuers (id, dn) VALUES (1, 'CN=A'), (2, 'CN=B');
                 INSERT INTO signatures VALUES
                   ('d1', '{aa}', 'u', 'k', 'CN=s', 1, 'token', 'B-B', 100, 'TOTAL-PASSED'),
                   ('d2', '{aa}', 'u', 'k', 'CN=s', 1, 'token', 'B-B', 200, 'TOTAL-PASSED'),
                   ('d3', '{aa}', 'u', 'k', 'CN=s', 2, 'token', 'B-B', 300, 'TOTAL-PASSED'),
                   ('d3', '{bb}', 'u', 'k', 'CN=t', 1, 'hsm', 'B-B', 300, 'TOTAL-PASSED');",
                aa = "a".repeat(64),
                bb = "b".repeat(64),
            ))
            .unwrap();
        }
        let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
        let unnumbered: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM signatures WHERE cert_id IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(unnumbered, 0);
        let signed = Event::Signed(crate::ledger::event::Signed {
            document_id: "d4".into(),
            unit: "u".into(),
            key: "pkcs11:token=kyso;object=k".into(),
            certificate: crate::ledger::event::Certificate {
                sha256: "a".repeat(64),
                subject: "CN=s".into(),
                issuer: "CN=A".into(),
            },
            method: crate::ledger::event::Method::Token,
            level: crate::ledger::event::SignatureLevel::PadesBB,
            signed_at: OffsetDateTime::from_unix_timestamp(400).unwrap(),
            indication: crate::ledger::event::Indication::TotalPassed,
        });
        store.record(&[signed]).unwrap();
        let all = TimeRange {
            start: OffsetDateTime::from_unix_timestamp(0).unwrap(),
            end: OffsetDateTime::from_unix_timestamp(1000).unwrap(),
        };
        let counts: Vec<(String, String, u64)> = store
            .signature_counts(all)
            .unwrap()
            .into_iter()
            .map(|c| (c.issuer, c.certificate, c.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("CN=A".to_owned(), "b".repeat(64), 1),
                ("CN=A".to_owned(), "a".repeat(64), 3),
                ("CN=B".to_owned(), "a".repeat(64), 1),
            ],
            "grouped by method (hsm before token), then issuer and fingerprint"
        );
        let certificates: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM certificates", [], |r| r.get(0))
            .unwrap();
        assert_eq!(certificates, 3);
    }
}
