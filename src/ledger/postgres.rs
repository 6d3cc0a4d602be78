//! The shared ledger: PostgreSQL, for several kyso nodes behind one load balancer.
//!
//! The schema and the queries mirror [`super::sqlite`] statement for statement, with times as Unix
//! seconds in BIGINT columns so that both stores draw period boundaries identically, whatever the
//! server's `TimeZone` setting.
//!
//! Concurrency: two nodes may record events about the same document at the same moment (a retry
//! landing on another node, or the signing node and the DMS racing). Every write transaction first
//! takes a transaction-scoped advisory lock per document it touches, in ascending key order so that
//! two batches never deadlock; after that, reading the documents' rows, deciding in Rust
//! ([`super::decide`]) and writing what was decided (`record`) is race-free under the default
//! READ COMMITTED isolation: the verified flag derived from a document's signatures and audits
//! cannot miss a concurrent write, and neither can the check that a document stays with its unit
//! ([`super::ownership`]). Migrations take one fixed advisory lock so that nodes starting together
//! apply them once.
//!
//! This module speaks plain TCP to PostgreSQL (`NoTls`): it is meant for a database on the same
//! host or a private network segment; TLS to a remote server is left to a later change.

use std::collections::{BTreeSet, HashSet};

use postgres::{Client, GenericClient, NoTls};
use time::OffsetDateTime;

use crate::signer::DigestAlgorithm::Sha256;

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

/// Advisory lock held while migrating; an arbitrary constant ("kyso" in ASCII, then "ledger").
const MIGRATION_LOCK: i64 = 0x6b79_736f_6c65_6467;

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
    issued_at       BIGINT NOT NULL,
    declared_signed SMALLINT NOT NULL CHECK (declared_signed IN (0, 1)),
    verified_signed SMALLINT NOT NULL DEFAULT 0 CHECK (verified_signed IN (0, 1))
);
CREATE INDEX documents_unit_time
    ON documents (unit, issued_at, declared_signed, verified_signed);
CREATE TABLE issuers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dn TEXT NOT NULL UNIQUE
);
CREATE TABLE signatures (
    document_id    TEXT NOT NULL,
    cert_sha256    TEXT NOT NULL,
    unit           TEXT NOT NULL REFERENCES units(code),
    key_ref        TEXT NOT NULL,
    cert_subject   TEXT NOT NULL,
    cert_issuer_id BIGINT NOT NULL REFERENCES issuers(id),
    method       TEXT NOT NULL,
    level        TEXT NOT NULL,
    signed_at    BIGINT NOT NULL,
    indication   TEXT NOT NULL,
    PRIMARY KEY (document_id, cert_sha256)
);
CREATE INDEX signatures_report ON signatures (unit, method, cert_issuer_id, signed_at);
CREATE TABLE incoming (
    receiving_unit TEXT NOT NULL REFERENCES units(code),
    document_id    TEXT NOT NULL,
    sender         TEXT NOT NULL,
    verified_at    BIGINT NOT NULL,
    indication     TEXT NOT NULL,
    sub_indication TEXT,
    PRIMARY KEY (receiving_unit, document_id)
);
CREATE INDEX incoming_time ON incoming (verified_at);
CREATE TABLE audits (
    document_id    TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    audited_at     BIGINT NOT NULL,
    indication     TEXT NOT NULL,
    sub_indication TEXT,
    PRIMARY KEY (document_id, content_sha256)
);
"#,
    r#"
CREATE TABLE api_keys (
    key_id        TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    role          TEXT NOT NULL,
    units         TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at_micros BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TABLE audit_head (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
"#,
    r#"
ALTER TABLE audits
    ADD COLUMN lt_protected SMALLINT CHECK (lt_protected IN (0, 1)),
    ADD COLUMN lt_until BIGINT,
    ADD COLUMN lt_certificate TEXT,
    ADD CONSTRAINT audits_long_term_whole CHECK (
        (lt_protected IS NULL) = (lt_until IS NULL)
        AND (lt_until IS NULL) = (lt_certificate IS NULL));
ALTER TABLE documents
    ADD COLUMN lt_protected SMALLINT CHECK (lt_protected IN (0, 1)),
    ADD COLUMN lt_until BIGINT,
    ADD CONSTRAINT documents_long_term_whole CHECK ((lt_protected IS NULL) = (lt_until IS NULL));
CREATE INDEX documents_long_term ON documents (unit, issued_at, lt_protected, lt_until)
    WHERE lt_until IS NOT NULL;
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
    document       BYTEA NOT NULL,
    options        TEXT NOT NULL,
    message        BYTEA NOT NULL,
    digest         BYTEA NOT NULL,
    transaction_id TEXT NOT NULL,
    state          TEXT NOT NULL
        CHECK (state IN ('pending', 'done', 'refused', 'expired', 'failed')),
    reason         TEXT,
    created_at     BIGINT NOT NULL,
    deadline       BIGINT NOT NULL,
    finished_at    BIGINT,
    result         BYTEA,
    bytes          BIGINT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, created_at);
"#,
    r#"
CREATE TABLE certificates (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer_id BIGINT NOT NULL REFERENCES issuers(id),
    sha256    TEXT NOT NULL,
    UNIQUE (sha256, issuer_id)
);
INSERT INTO certificates (issuer_id, sha256)
    SELECT DISTINCT cert_issuer_id, cert_sha256 FROM signatures;
ALTER TABLE signatures ADD COLUMN cert_id BIGINT REFERENCES certificates(id);
UPDATE signatures AS s SET cert_id = c.id
    FROM certificates AS c
    WHERE c.sha256 = s.cert_sha256 AND c.issuer_id = s.cert_issuer_id;
DROP INDEX signatures_report;
CREATE INDEX signatures_report ON signatures (unit, method, cert_id, signed_at);
"#,
];

/// The PostgreSQL ledger: one connection.
pub struct PgStore {
    client: Client,
    statements: Statements,
    known_units: HashSet<String>,
    /// Ids of the issuers and signer certificates known to be committed.
    signers: SignerIds,
}

/// Statements prepared once per connection.
struct Statements {
    record: record::Statements,
}

/// A transaction begun together with the advisory locks of the documents it records, in one
/// simple-protocol round trip (`BEGIN; SELECT pg_advisory_xact_lock(…)`) where `transaction()`
/// and a prepared lock statement took two: a single event's recording is four round trips and
/// their server time (the lock, the read, the write, the commit), so one fewer is felt.
///
/// The lock keys are integers kyso computed ([`lock_key`]), the only values written into the
/// statement's text. Rolled back when dropped without [`LockedTransaction::commit`], as
/// `postgres::Transaction` is.
struct LockedTransaction<'a> {
    client: &'a mut Client,
    open: bool,
}

impl<'a> LockedTransaction<'a> {
    fn begin(client: &'a mut Client, keys: &[i64]) -> Result<Self, Error> {
        use std::fmt::Write as _;
        // The locks come first, in the ascending order the caller sorted the keys into (unnest
        // yields an array in order). For a batch of several documents the same round trip makes
        // the rest of the transaction run prepared statements on generic plans
        // (`set_config(…, true)` holds until the commit, so the connection's report queries
        // keep custom plans). Recording's reads and its write take a batch as arrays; a custom
        // plan sees each call's array lengths, so PostgreSQL never settles on one and plans
        // anew at every execution, which costs more server time than running them (about
        // 0.6 ms for the write, 0.3 ms for the read, against 0.1 ms each to run). Their generic
        // plans, index lookups row by row, are the right ones at any batch size. One document
        // is read and written with scalar parameters, whose plans PostgreSQL makes generic by
        // itself after five executions; the setting would cost a third of this round trip's
        // server time.
        let mut sql = String::from("BEGIN");
        if keys.len() > 1 {
            sql.push_str("; SELECT set_config('plan_cache_mode', 'force_generic_plan', true)");
        }
        if !keys.is_empty() {
            sql.push_str("; SELECT pg_advisory_xact_lock(k) FROM unnest('{");
            for (i, key) in keys.iter().enumerate() {
                let _ = write!(sql, "{}{key}", if i == 0 { "" } else { "," });
            }
            sql.push_str("}'::bigint[]) AS k");
        }
        let transaction = LockedTransaction { client, open: true };
        // On an error the guard is dropped here and rolls back whatever began.
        transaction
            .client
            .batch_execute(&sql)
            .map_err(pg("begin recording and lock documents"))?;
        Ok(transaction)
    }

    fn commit(mut self) -> Result<(), Error> {
        self.open = false;
        self.client
            .batch_execute("COMMIT")
            .map_err(pg("commit events"))
    }
}

impl std::ops::Deref for LockedTransaction<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl std::ops::DerefMut for LockedTransaction<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for LockedTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the error that dropped the guard is already on its way, and
            // a connection whose ROLLBACK fails is broken and fails its next statement.
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

impl PgStore {
    /// Connects with a `postgres://` URL (or key=value string), optionally into its own schema
    /// (created if missing; tests use one schema per test), and brings the schema up to date.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self, Error> {
        let mut client = Client::connect(url, NoTls).map_err(pg("connect"))?;
        if let Some(schema) = schema {
            if schema.is_empty()
                || schema.len() > 63
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(Error::PostgresConfig {
                    reason: format!(
                        "schema name `{schema}`: use 1 to 63 lower-case ASCII letters, digits and `_`"
                    ),
                });
            }
            // The name is checked above, so quoting it into the statement is safe.
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET search_path TO \"{schema}\""
                ))
                .map_err(pg("select schema"))?;
        }
        migrate(&mut client)?;
        let statements = Statements::prepare(&mut client)?;
        Ok(PgStore {
            client,
            statements,
            known_units: HashSet::new(),
            signers: SignerIds::default(),
        })
    }
}

impl PgStore {
    /// Makes sure every issuer and signer certificate the events name has an id, committed on
    /// its own before the events' transaction: they are dictionary entries, not events, so one
    /// left behind by a batch that then fails is harmless, and an id is cached only once it is
    /// committed. When two nodes meet a new entry at once, the second's insert waits for the
    /// first and does nothing, and its select (a new snapshot outside any transaction) then
    /// sees the first's row.
    fn ensure_signers(&mut self, events: &[Event]) -> Result<(), Error> {
        let unknown = self.signers.unknown(events);
        for u in unknown {
            let issuer_id = match self.signers.issuer(u.issuer) {
                Some(id) => id,
                None => {
                    self.client
                        .execute(
                            "INSERT INTO issuers (dn) VALUES ($1) ON CONFLICT (dn) DO NOTHING",
                            &[&u.issuer],
                        )
                        .map_err(pg("record certificate issuer"))?;
                    let id: i64 = self
                        .client
                        .query_one("SELECT id FROM issuers WHERE dn = $1", &[&u.issuer])
                        .map_err(pg("read certificate issuer"))?
                        .get(0);
                    self.signers.insert_issuer(u.issuer, id);
                    id
                }
            };
            self.client
                .execute(
                    "INSERT INTO certificates (issuer_id, sha256) VALUES ($1, $2)
                     ON CONFLICT (sha256, issuer_id) DO NOTHING",
                    &[&issuer_id, &u.sha256],
                )
                .map_err(pg("record signer certificate"))?;
            let id: i64 = self
                .client
                .query_one(
                    "SELECT id FROM certificates WHERE sha256 = $1 AND issuer_id = $2",
                    &[&u.sha256, &issuer_id],
                )
                .map_err(pg("read signer certificate"))?
                .get(0);
            self.signers.insert_certificate(issuer_id, u.sha256, id);
        }
        Ok(())
    }
}

fn pg(context: &'static str) -> impl Fn(postgres::Error) -> Error {
    move |source| Error::Postgres { context, source }
}

fn migrate(client: &mut Client) -> Result<(), Error> {
    let mut tx = client.transaction().map_err(pg("begin migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg("lock for migration"))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS kyso_schema (version BIGINT NOT NULL)")
        .map_err(pg("create schema table"))?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM kyso_schema", &[])
        .map_err(pg("read schema version"))?
        .get(0);
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(Error::SchemaTooNew { found, known });
    }
    let applied = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.batch_execute(sql).map_err(pg("apply migration"))?;
        tx.execute(
            "INSERT INTO kyso_schema (version) VALUES ($1)",
            &[&(index as i64 + 1)],
        )
        .map_err(pg("record migration"))?;
    }
    tx.commit().map_err(pg("commit migration"))
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Self, Error> {
        Ok(Statements {
            record: record::Statements::prepare(client)?,
        })
    }
}

impl Store for PgStore {
    fn upsert_units(&mut self, units: &[Unit]) -> Result<(), Error> {
        let mut tx = self
            .client
            .transaction()
            .map_err(pg("begin units import"))?;
        let upsert = tx
            .prepare(
                "INSERT INTO units (code, name, level, parent) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO UPDATE
                 SET name = EXCLUDED.name, level = EXCLUDED.level, parent = EXCLUDED.parent",
            )
            .map_err(pg("prepare units import"))?;
        for unit in units {
            tx.execute(
                &upsert,
                &[&unit.code, &unit.name, &unit.level, &unit.parent],
            )
            .map_err(pg("write unit"))?;
        }
        tx.commit().map_err(pg("commit units import"))
    }

    fn units(&mut self) -> Result<Vec<Unit>, Error> {
        let rows = self
            .client
            .query(
                "SELECT code, name, level, parent FROM units ORDER BY code COLLATE \"C\"",
                &[],
            )
            .map_err(pg("query units"))?;
        Ok(rows
            .iter()
            .map(|r| Unit {
                code: r.get(0),
                name: r.get(1),
                level: r.get(2),
                parent: r.get(3),
            })
            .collect())
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
        let keys: BTreeSet<i64> = events.iter().map(|e| lock_key(e.document_id())).collect();
        let keys: Vec<i64> = keys.into_iter().collect();
        let mut tx = LockedTransaction::begin(&mut self.client, &keys)?;
        // The reads come after the locks, in statements of their own: each sees every write
        // committed by another node before this transaction held the documents.
        let outcomes = if events.is_empty() {
            Vec::new()
        } else {
            record::record(
                &mut tx,
                &mut self.statements.record,
                &mut self.known_units,
                &self.signers,
                events,
                reassignment,
            )?
            .outcomes
        };
        let entries = if audit.is_empty() {
            Vec::new()
        } else {
            append_audit(&mut *tx, audit)?
        };
        tx.commit()?;
        Ok((outcomes, entries))
    }

    fn document_unit(&mut self, document_id: &str) -> Result<Option<String>, Error> {
        let documents =
            record::read_documents(&mut self.client, &self.statements.record, &[document_id])?;
        Ok(documents
            .get(document_id)
            .and_then(|document| document.owner())
            .map(str::to_owned))
    }

    fn audit_entries(&mut self, after: u64, limit: usize) -> Result<Vec<audit::Entry>, Error> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT seq, at_micros, actor, action, subject, details, prev_hash, hash
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )
            .map_err(pg("query audit log"))?;
        Ok(rows
            .iter()
            .map(|r| audit::Entry {
                seq: r.get::<_, i64>(0) as u64,
                record: audit::Record {
                    at: audit::from_micros(r.get(1)),
                    actor: r.get(2),
                    action: r.get(3),
                    subject: r.get(4),
                    details: r.get(5),
                },
                prev_hash: r.get(6),
                hash: r.get(7),
            })
            .collect())
    }

    fn audit_head(&mut self) -> Result<(u64, String), Error> {
        let row = self
            .client
            .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
            .map_err(pg("read audit head"))?;
        Ok((row.get::<_, i64>(0) as u64, row.get(1)))
    }

    fn create_api_key(
        &mut self,
        key: &ApiKey,
        audit: &audit::Record,
    ) -> Result<audit::Entry, Error> {
        let mut tx = self
            .client
            .transaction()
            .map_err(pg("begin creating an API key"))?;
        tx.execute(
            "INSERT INTO api_keys (key_id, secret_sha256, role, units, label, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &key.key_id,
                &key.secret_sha256,
                &key.role,
                &key.units_text(),
                &key.label,
                &unix(key.created_at),
            ],
        )
        .map_err(pg("store API key"))?;
        let mut entries = append_audit(&mut tx, std::slice::from_ref(audit))?;
        tx.commit().map_err(pg("commit API key"))?;
        Ok(entries.remove(0))
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKey>, Error> {
        let row = self
            .client
            .query_opt(
                "SELECT key_id, secret_sha256, role, units, label, created_at, revoked_at
                 FROM api_keys WHERE key_id = $1",
                &[&key_id],
            )
            .map_err(pg("read API key"))?;
        Ok(row.as_ref().map(api_key_row))
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKey>, Error> {
        let rows = self
            .client
            .query(
                "SELECT key_id, secret_sha256, role, units, label, created_at, revoked_at
                 FROM api_keys ORDER BY created_at, key_id COLLATE \"C\"",
                &[],
            )
            .map_err(pg("query API keys"))?;
        Ok(rows.iter().map(api_key_row).collect())
    }

    fn revoke_api_key(
        &mut self,
        key_id: &str,
        at: OffsetDateTime,
        audit: &audit::Record,
    ) -> Result<Option<audit::Entry>, Error> {
        let mut tx = self
            .client
            .transaction()
            .map_err(pg("begin revoking an API key"))?;
        let changed = tx
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                &[&key_id, &unix(at)],
            )
            .map_err(pg("revoke API key"))?;
        if changed == 0 {
            return Ok(None);
        }
        let mut entries = append_audit(&mut tx, std::slice::from_ref(audit))?;
        tx.commit().map_err(pg("commit API key revocation"))?;
        Ok(Some(entries.remove(0)))
    }

    fn ping(&mut self) -> Result<(), Error> {
        self.client
            .query_one("SELECT 1", &[])
            .map(|_| ())
            .map_err(pg("ping"))
    }

    fn document_counts(
        &mut self,
        range: TimeRange,
        renew_by: OffsetDateTime,
    ) -> Result<Vec<UnitCounts>, Error> {
        let (start, end) = (unix(range.start), unix(range.end));
        let rows = self
            .client
            .query(
                "SELECT unit, COUNT(*), SUM(declared_signed)::BIGINT, SUM(verified_signed)::BIGINT,
                        SUM(declared_signed * (1 - verified_signed))::BIGINT
                 FROM documents
                 WHERE issued_at >= $1 AND issued_at < $2
                 GROUP BY unit ORDER BY unit COLLATE \"C\"",
                &[&start, &end],
            )
            .map_err(pg("query document counts"))?;
        let mut counts: Vec<UnitCounts> = rows
            .iter()
            .map(|r| UnitCounts {
                unit: r.get(0),
                counts: Counts {
                    issued: r.get::<_, i64>(1) as u64,
                    declared_signed: r.get::<_, i64>(2) as u64,
                    verified_signed: r.get::<_, i64>(3) as u64,
                    declared_unverified: r.get::<_, i64>(4) as u64,
                    ..Counts::default()
                },
            })
            .collect();
        // The long-term counts, from the partial index of documents an audit gave a status.
        let rows = self
            .client
            .query(
                "SELECT unit,
                        COUNT(*) FILTER (WHERE lt_protected = 1 AND lt_until >= $3),
                        COUNT(*) FILTER (WHERE NOT (lt_protected = 1 AND lt_until >= $3))
                 FROM documents
                 WHERE issued_at >= $1 AND issued_at < $2 AND lt_until IS NOT NULL
                 GROUP BY unit",
                &[&start, &end, &unix(renew_by)],
            )
            .map_err(pg("query long-term counts"))?;
        for r in &rows {
            let unit: String = r.get(0);
            merge_long_term(
                &mut counts,
                &unit,
                r.get::<_, i64>(1) as u64,
                r.get::<_, i64>(2) as u64,
            );
        }
        Ok(counts)
    }

    fn signature_counts(&mut self, range: TimeRange) -> Result<Vec<SignatureCount>, Error> {
        let rows = self
            .client
            .query(
                "SELECT s.unit, s.method, i.dn, c.sha256, s.n
                 FROM (SELECT unit, method, cert_id, COUNT(*) AS n
                       FROM signatures
                       WHERE signed_at >= $1 AND signed_at < $2
                       GROUP BY unit, method, cert_id) AS s
                 JOIN certificates AS c ON c.id = s.cert_id
                 JOIN issuers AS i ON i.id = c.issuer_id
                 ORDER BY s.unit COLLATE \"C\", s.method COLLATE \"C\", i.dn COLLATE \"C\",
                          c.sha256 COLLATE \"C\"",
                &[&unix(range.start), &unix(range.end)],
            )
            .map_err(pg("query signature counts"))?;
        rows.iter()
            .map(|r| {
                let method: String = r.get(1);
                Ok(SignatureCount {
                    unit: r.get(0),
                    method: stored_method(&method)?,
                    issuer: r.get(2),
                    certificate: r.get(3),
                    count: r.get::<_, i64>(4) as u64,
                })
            })
            .collect()
    }

    fn incoming_counts(&mut self, range: TimeRange) -> Result<Vec<IncomingCount>, Error> {
        let rows = self
            .client
            .query(
                "SELECT receiving_unit, indication, sub_indication, COUNT(*)
                 FROM incoming
                 WHERE verified_at >= $1 AND verified_at < $2
                 GROUP BY receiving_unit, indication, sub_indication
                 ORDER BY receiving_unit COLLATE \"C\", indication COLLATE \"C\",
                          sub_indication COLLATE \"C\" NULLS FIRST",
                &[&unix(range.start), &unix(range.end)],
            )
            .map_err(pg("query incoming counts"))?;
        rows.iter()
            .map(|r| {
                let indication: String = r.get(1);
                Ok(IncomingCount {
                    unit: r.get(0),
                    indication: stored_indication(&indication)?,
                    sub_indication: r.get(2),
                    count: r.get::<_, i64>(3) as u64,
                })
            })
            .collect()
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
            .client
            .query_one(
                "SELECT COUNT(*) FROM documents
                 WHERE unit = $1 AND issued_at >= $2 AND issued_at < $3
                   AND (lt_protected = 0 OR lt_until < $4)",
                &[&unit, &start, &end, &renew_by],
            )
            .map_err(pg("count documents to extend"))?
            .get(0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT d.document_id, d.number, d.issued_at, d.lt_protected, d.lt_until,
                        (SELECT a.lt_certificate FROM audits AS a
                         WHERE a.document_id = d.document_id AND a.indication = 'TOTAL-PASSED'
                           AND a.lt_protected = d.lt_protected AND a.lt_until = d.lt_until
                         ORDER BY a.audited_at DESC LIMIT 1)
                 FROM documents AS d
                 WHERE d.unit = $1 AND d.issued_at >= $2 AND d.issued_at < $3
                   AND (d.lt_protected = 0 OR d.lt_until < $4)
                 ORDER BY d.lt_until, d.document_id COLLATE \"C\" LIMIT $5",
                &[&unit, &start, &end, &renew_by, &limit],
            )
            .map_err(pg("query documents to extend"))?;
        let documents = rows
            .iter()
            .map(|r| ExtensionDue {
                document_id: r.get(0),
                number: r.get(1),
                issued_at: from_unix(r.get(2)),
                protected: r.get::<_, i16>(3) == 1,
                until: from_unix(r.get(4)),
                certificate: r.get(5),
            })
            .collect();
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
            .client
            .query_one(
                "SELECT COUNT(*) FROM documents
                 WHERE unit = $1 AND issued_at >= $2 AND issued_at < $3
                   AND (declared_signed = 0 OR verified_signed = 0)",
                &[&unit, &start, &end],
            )
            .map_err(pg("count unsigned documents"))?
            .get(0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT document_id, number, doc_type, issued_at, declared_signed, verified_signed
                 FROM documents
                 WHERE unit = $1 AND issued_at >= $2 AND issued_at < $3
                   AND (declared_signed = 0 OR verified_signed = 0)
                 ORDER BY issued_at, document_id COLLATE \"C\" LIMIT $4",
                &[&unit, &start, &end, &limit],
            )
            .map_err(pg("query unsigned documents"))?;
        let documents = rows
            .iter()
            .map(|r| DocumentStatus {
                document_id: r.get(0),
                number: r.get(1),
                doc_type: r.get(2),
                issued_at: from_unix(r.get(3)),
                declared: if r.get::<_, i16>(4) == 1 {
                    Declared::Signed
                } else {
                    Declared::Unsigned
                },
                verified: r.get::<_, i16>(5) == 1,
            })
            .collect();
        Ok((documents, total as u64))
    }

    fn totals(&mut self) -> Result<Totals, Error> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM units), (SELECT COUNT(*) FROM documents),
                        (SELECT COUNT(*) FROM signatures), (SELECT COUNT(*) FROM incoming),
                        (SELECT COUNT(*) FROM audits)",
                &[],
            )
            .map_err(pg("count rows"))?;
        Ok(Totals {
            units: row.get::<_, i64>(0) as u64,
            documents: row.get::<_, i64>(1) as u64,
            signatures: row.get::<_, i64>(2) as u64,
            incoming: row.get::<_, i64>(3) as u64,
            audits: row.get::<_, i64>(4) as u64,
        })
    }
}

/// The advisory-lock key of a document: the first 8 bytes of SHA-256 of its id. Two ids sharing a
/// key only serialise each other; they never mix data.
fn lock_key(document_id: &str) -> i64 {
    let digest = Sha256.digest(document_id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Appends `records` after the chain's head. The head row is locked first (`FOR UPDATE`), so an
/// append by another connection or another kyso node waits for this transaction and then chains
/// after it: the log never forks. Callers that also lock documents take those locks first, so
/// the lock order is the same in every transaction.
fn append_audit(
    tx: &mut impl GenericClient,
    records: &[audit::Record],
) -> Result<Vec<audit::Entry>, Error> {
    let head = tx
        .query_one(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(pg("lock audit head"))?;
    let (seq, hash): (i64, String) = (head.get(0), head.get(1));
    let entries = audit::Entry::chain(seq as u64, &hash, records);
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq as i64).collect();
    let ats: Vec<i64> = entries.iter().map(|e| audit::micros(e.record.at)).collect();
    let column = |f: fn(&audit::Entry) -> &str| entries.iter().map(f).collect::<Vec<&str>>();
    tx.execute(
        "INSERT INTO audit_log (seq, at_micros, actor, action, subject, details, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[])",
        &[
            &seqs,
            &ats,
            &column(|e| &e.record.actor),
            &column(|e| &e.record.action),
            &column(|e| &e.record.subject),
            &column(|e| &e.record.details),
            &column(|e| &e.prev_hash),
            &column(|e| &e.hash),
        ],
    )
    .map_err(pg("append to the audit log"))?;
    if let Some(last) = entries.last() {
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&(last.seq as i64), &last.hash],
        )
        .map_err(pg("move audit head"))?;
    }
    Ok(entries)
}

fn api_key_row(r: &postgres::Row) -> ApiKey {
    ApiKey {
        key_id: r.get(0),
        secret_sha256: r.get(1),
        role: r.get(2),
        units: ApiKey::units_from_text(r.get(3)),
        label: r.get(4),
        created_at: from_unix(r.get(5)),
        revoked_at: r.get::<_, Option<i64>>(6).map(from_unix),
    }
}
