//! Recording events in the PostgreSQL ledger: read what the database holds of the batch's
//! documents, let [`decide`] say what the events do, write exactly that; in the same few round
//! trips whether the batch holds one event or thousands.
//!
//! Round trips, not the server, bound PostgreSQL ingestion, so after the caller's lock statement
//! a batch costs at most: one statement reading its documents (their issued rows, signatures and
//! audits, aggregated as JSON so that three tables come back in one answer and are read into
//! the named structs of [`crate::ledger::rows`] by column name), one reading its incoming
//! verifications (only when it has some), one looking up units not seen before (rarely), and one
//! writing every row the decision changed (none when every event was a retry).
//!
//! Race-free because the caller holds a transaction-scoped advisory lock on every document of the
//! batch, taken before these reads in a statement of its own: under READ COMMITTED each read
//! then sees every write committed by a transaction that held those documents before, and no
//! other transaction writes their rows until this one commits. The write statement therefore
//! only implements the decision: an insert meeting a row fails on the primary key, and an update
//! meeting none is counted and refused, rather than either deciding afresh.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use postgres::types::ToSql;
use postgres::{Client, GenericClient, Statement};
use serde::Deserialize;

use super::pg;
use crate::ledger::Error;
use crate::ledger::decide::{self, Decision, Stored, Wanted, Write, Writes};
use crate::ledger::dictionary::SignerIds;
use crate::ledger::event::{Declared, Event};
use crate::ledger::ownership::Reassignment;
use crate::ledger::rows::{
    AuditRow, DocumentRow, IncomingRow, Issuance, SignatureRow, StoredDocument,
    stored_audit_long_term, stored_declared, stored_flag, stored_indication, stored_level,
    stored_method, stored_protection,
};

/// The statements of recording, prepared once per connection.
pub(super) struct Statements {
    look_up_units: Statement,
    read_documents: Statement,
    /// The same reads for one key, with scalar parameters: a plan that does not depend on an
    /// array's length, so PostgreSQL settles on a generic one by itself (see
    /// [`super::LockedTransaction::begin`]).
    read_document: Statement,
    read_incoming: Statement,
    read_one_incoming: Statement,
    /// The write statement for each shape of what a decision writes (two bits per table, see
    /// [`Shape::code`]), prepared when first needed: a single event writes one or two tables,
    /// one row each, and a statement over all four tables, or in the form for many rows, costs
    /// the server two to three times as much.
    write: Vec<Option<Statement>>,
}

/// How many tables a decision writes: documents, signatures, incoming, audits.
const TABLES: usize = 4;

impl Statements {
    pub(super) fn prepare(client: &mut Client) -> Result<Self, Error> {
        let mut p = |sql: &str| client.prepare(sql).map_err(pg("prepare statement"));
        Ok(Statements {
            look_up_units: p("SELECT code FROM units WHERE code = ANY($1)")?,
            read_documents: p(READ_DOCUMENTS)?,
            read_document: p(&READ_DOCUMENTS.replace(UNNEST_IDS, ONE_ID))?,
            read_incoming: p(READ_INCOMING)?,
            read_one_incoming: p(&READ_INCOMING.replace(UNNEST_KEYS, ONE_KEY))?,
            write: vec![None; 1 << (2 * TABLES)],
        })
    }
}

/// Records `events` inside the transaction open on `tx`, which holds the advisory locks of all
/// their documents: what
/// each did, in order; or the refusal of them all, with nothing written. `signers` holds
/// every signer certificate the events name; `known_units` is the connection's cache of units seen.
pub(super) fn record(
    tx: &mut Client,
    statements: &mut Statements,
    known_units: &mut HashSet<String>,
    signers: &SignerIds,
    events: &[Event],
    reassignment: Reassignment,
) -> Result<Decision, Error> {
    let stored = read(tx, statements, known_units, &decide::wanted(events))?;
    let decision = decide::decide(events, stored, reassignment)?;
    if !decision.writes.is_empty() {
        write(tx, statements, signers, &decision.writes)?;
    }
    Ok(decision)
}

/// What the ledger holds of `ids`, by id, in one statement; ids it holds nothing of are left out.
pub(super) fn read_documents(
    client: &mut impl GenericClient,
    statements: &Statements,
    ids: &[&str],
) -> Result<BTreeMap<String, StoredDocument>, Error> {
    let rows = match ids {
        [id] => client.query(&statements.read_document, &[id]),
        _ => client.query(&statements.read_documents, &[&ids]),
    }
    .map_err(pg("read documents"))?;
    let mut documents = BTreeMap::new();
    for row in rows {
        let json = |column: &str| -> Result<Option<String>, Error> {
            row.try_get(column).map_err(pg("read documents"))
        };
        let issued = match json("issued")? {
            Some(text) => Some(from_json::<DocumentRecord>("documents", &text)?.try_into()?),
            None => None,
        };
        let signatures =
            from_json_array::<SignatureRecord, SignatureRow>("signatures", json("signatures")?)?;
        let audits = from_json_array::<AuditRecord, AuditRow>("audits", json("audits")?)?;
        if issued.is_none() && signatures.is_empty() && audits.is_empty() {
            continue;
        }
        let id: String = row.try_get("document_id").map_err(pg("read documents"))?;
        let document = StoredDocument {
            issued,
            signatures,
            audits,
        };
        documents.insert(id, document);
    }
    Ok(documents)
}

/// A document's issued row, all its signatures (with the issuer's name) and all its audits, as
/// JSON objects keyed by column name. `json_agg` of no rows is NULL: a document without
/// signatures reads as none.
const READ_DOCUMENTS: &str = "
SELECT k.document_id,
       (SELECT row_to_json(d)::text
        FROM (SELECT document_id, number, doc_type, unit, issued_at, declared_signed,
                     verified_signed, lt_protected, lt_until
              FROM documents WHERE document_id = k.document_id) AS d) AS issued,
       (SELECT json_agg(s)::text
        FROM (SELECT s.document_id, s.cert_sha256, s.unit, s.key_ref, s.cert_subject,
                     i.dn AS cert_issuer, s.method, s.level, s.signed_at, s.indication
              FROM signatures AS s JOIN issuers AS i ON i.id = s.cert_issuer_id
              WHERE s.document_id = k.document_id) AS s) AS signatures,
       (SELECT json_agg(a)::text
        FROM (SELECT document_id, content_sha256, audited_at, indication, sub_indication,
                     lt_protected, lt_until, lt_certificate
              FROM audits WHERE document_id = k.document_id) AS a) AS audits
FROM unnest($1::text[]) AS k (document_id)";

const READ_INCOMING: &str = "
SELECT i.receiving_unit, i.document_id, i.sender, i.verified_at, i.indication, i.sub_indication
FROM incoming AS i
JOIN unnest($1::text[], $2::text[]) AS k (receiving_unit, document_id)
  ON i.receiving_unit = k.receiving_unit AND i.document_id = k.document_id";

/// The keys of the reads above, and their one-key forms.
const UNNEST_IDS: &str = "unnest($1::text[]) AS k (document_id)";
const ONE_ID: &str = "(VALUES ($1::text)) AS k (document_id)";
const UNNEST_KEYS: &str = "unnest($1::text[], $2::text[]) AS k (receiving_unit, document_id)";
const ONE_KEY: &str = "(VALUES ($1::text, $2::text)) AS k (receiving_unit, document_id)";

fn read(
    tx: &mut Client,
    statements: &Statements,
    known_units: &mut HashSet<String>,
    wanted: &Wanted<'_>,
) -> Result<Stored, Error> {
    let mut stored = Stored::default();
    look_up_units(tx, statements, known_units, &wanted.units)?;
    stored.units = (wanted.units.iter())
        .filter(|u| known_units.contains(**u))
        .map(|u| (*u).to_owned())
        .collect();
    if !wanted.documents.is_empty() {
        let ids: Vec<&str> = wanted.documents.iter().copied().collect();
        stored.documents = read_documents(tx, statements, &ids)?;
    }
    if !wanted.incoming.is_empty() {
        let (units, ids): (Vec<&str>, Vec<&str>) = (wanted.incoming.iter())
            .map(|k| (k.receiving_unit.as_str(), k.document_id.as_str()))
            .unzip();
        let rows = match (units.as_slice(), ids.as_slice()) {
            ([unit], [id]) => tx.query(&statements.read_one_incoming, &[unit, id]),
            _ => tx.query(&statements.read_incoming, &[&units, &ids]),
        }
        .map_err(pg("read incoming verifications"))?;
        for row in rows {
            let row = incoming_row(&row)?;
            stored.incoming.insert(row.key(), row);
        }
    }
    Ok(stored)
}

/// Adds to `known_units` those of `units` the ledger holds. Units are only ever added, so a unit
/// seen once stays known; a miss asks the server, since another node may have imported it since.
fn look_up_units(
    tx: &mut Client,
    statements: &Statements,
    known_units: &mut HashSet<String>,
    units: &BTreeSet<&str>,
) -> Result<(), Error> {
    let asked: Vec<&str> = (units.iter())
        .filter(|u| !known_units.contains(**u))
        .copied()
        .collect();
    if asked.is_empty() {
        return Ok(());
    }
    let found = tx
        .query(&statements.look_up_units, &[&asked])
        .map_err(pg("look up units"))?;
    for row in found {
        known_units.insert(row.try_get("code").map_err(pg("look up units"))?);
    }
    Ok(())
}

/// Writes what the decision says, in one statement over the tables it changes.
fn write(
    tx: &mut Client,
    statements: &mut Statements,
    signers: &SignerIds,
    writes: &Writes,
) -> Result<(), Error> {
    let documents = DocumentColumns::of(&writes.documents);
    let signatures = SignatureColumns::of(&writes.signatures, signers);
    let incoming = IncomingColumns::of(&writes.incoming);
    let audits = AuditColumns::of(&writes.audits);
    let written = [
        (documents.table(), Shape::of(&writes.documents)),
        (signatures.table(), Shape::of(&writes.signatures)),
        (incoming.table(), Shape::of(&writes.incoming)),
        (audits.table(), Shape::of(&writes.audits)),
    ];
    let tables: Vec<(&TableColumns<'_>, Shape)> = (written.iter())
        .filter(|(_, shape)| shape.planned().is_some())
        .map(|(table, shape)| (table, *shape))
        .collect();
    let index = (written.iter()).fold(0usize, |index, (_, shape)| index * 4 + shape.code());
    let statement = match &mut statements.write[index] {
        Some(statement) => statement.clone(),
        slot => {
            let sql = write_statement(&tables);
            let prepared = tx.prepare(&sql).map_err(pg("prepare statement"))?;
            slot.insert(prepared).clone()
        }
    };
    let params: Vec<&(dyn ToSql + Sync)> = (tables.iter())
        .flat_map(|(table, shape)| {
            (table.columns.iter())
                .filter(move |c| shape.is_many() || c.name != "is_new")
                .map(|c| c.values)
        })
        .collect();
    let row = tx
        .query_one(&statement, &params)
        .map_err(pg("write events"))?;
    for (table, shape) in tables {
        let planned = shape.planned().unwrap_or(0);
        let found: i64 = row
            .try_get(format!("{}_updated", table.name).as_str())
            .map_err(pg("write events"))?;
        if u64::try_from(found).ok() != Some(planned) {
            return Err(Error::ChangedWhileRecording {
                table: table.name,
                expected: planned,
                found: u64::try_from(found).unwrap_or(0),
            });
        }
    }
    Ok(())
}

/// What a decision writes to one table, which decides the form of its part of the statement:
/// a single row is written with plain `INSERT … VALUES` or `UPDATE … WHERE key` (the server
/// plans and runs these in a third of the time of the `unnest` form); several rows as `unnest`
/// columns, in one `INSERT … SELECT` and one `UPDATE … FROM`.
#[derive(Clone, Copy)]
enum Shape {
    Absent,
    InsertOne,
    UpdateOne,
    /// Several rows, of which this many are updates.
    Many {
        updates: u64,
    },
}

impl Shape {
    fn of<R>(writes: &[Write<R>]) -> Self {
        match writes {
            [] => Shape::Absent,
            [Write::Insert(_)] => Shape::InsertOne,
            [Write::Update(_)] => Shape::UpdateOne,
            _ => Shape::Many {
                updates: (writes.iter())
                    .filter(|w| matches!(w, Write::Update(_)))
                    .count() as u64,
            },
        }
    }

    /// How many rows the statement's update of this table must find; `None` when the table is
    /// not written.
    fn planned(self) -> Option<u64> {
        match self {
            Shape::Absent => None,
            Shape::InsertOne => Some(0),
            Shape::UpdateOne => Some(1),
            Shape::Many { updates } => Some(updates),
        }
    }

    fn is_many(self) -> bool {
        matches!(self, Shape::Many { .. })
    }

    /// Two bits per table in the index of the statement cache.
    fn code(self) -> usize {
        match self {
            Shape::Absent => 0,
            Shape::InsertOne => 1,
            Shape::UpdateOne => 2,
            Shape::Many { .. } => 3,
        }
    }
}

/// One table's writes as `unnest` columns: its name, the columns that identify a row, and every
/// column with its array type and values. The write statement is generated from these, and its
/// parameters are taken from them in the same order, so a column's name, type and values are
/// written down once, together, and cannot be paired with another's.
struct TableColumns<'a> {
    name: &'static str,
    key: &'static [&'static str],
    columns: Vec<Column<'a>>,
}

struct Column<'a> {
    name: &'static str,
    sql_type: &'static str,
    values: &'a (dyn ToSql + Sync),
}

fn column<'a>(
    name: &'static str,
    sql_type: &'static str,
    values: &'a (dyn ToSql + Sync),
) -> Column<'a> {
    Column {
        name,
        sql_type,
        values,
    }
}

/// The one write statement: for each table with several rows, the decided rows as `unnest`
/// columns, an `INSERT` of those marked new and an `UPDATE` of the others by key; for a table
/// with one row, that row's `INSERT … VALUES` or `UPDATE … WHERE key`, its values taken as the
/// first element of the same one-element arrays. It answers how many rows each update found.
/// For documents with several rows (and the same for the other tables):
///
/// ```text
/// WITH documents_rows AS (SELECT * FROM unnest($1::boolean[], $2::text[], …)
///                           AS w (is_new, document_id, …)),
///      documents_inserted AS (INSERT INTO documents (document_id, …)
///                             SELECT document_id, … FROM documents_rows WHERE is_new),
///      documents_updated AS (UPDATE documents AS t SET number = w.number, …
///                            FROM documents_rows AS w
///                            WHERE NOT w.is_new AND t.document_id = w.document_id
///                            RETURNING 1),
///      …
/// SELECT (SELECT COUNT(*) FROM documents_updated) AS documents_updated, …
/// ```
///
/// Only the tables given are in it (a table without writes would still cost the server its
/// `unnest`, insert and update). One statement, not one per table, because a signature usually
/// also changes its document's verified flag, and round trips are what a single event's
/// recording costs.
fn write_statement(tables: &[(&TableColumns<'_>, Shape)]) -> String {
    let mut next_param = 1;
    let mut ctes = Vec::new();
    let mut counts = Vec::new();
    for (table, shape) in tables {
        let name = table.name;
        let mut params = BTreeMap::new();
        for c in &table.columns {
            if shape.is_many() || c.name != "is_new" {
                params.insert(c.name, format!("${next_param}::{}[]", c.sql_type));
                next_param += 1;
            }
        }
        let stored: Vec<&str> = (table.columns.iter())
            .map(|c| c.name)
            .filter(|c| *c != "is_new")
            .collect();
        let non_key = || stored.iter().filter(|c| !table.key.contains(c));
        let first = |c: &str| format!("({})[1]", params[c]);
        match shape {
            Shape::Absent => continue,
            Shape::InsertOne => {
                ctes.push(format!(
                    "{name}_inserted AS (INSERT INTO {name} ({stored}) VALUES ({values}))",
                    stored = stored.join(", "),
                    values = stored
                        .iter()
                        .map(|c| first(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
                counts.push(format!("0::bigint AS {name}_updated"));
                continue;
            }
            Shape::UpdateOne => {
                let set: Vec<String> = non_key().map(|c| format!("{c} = {}", first(c))).collect();
                let matches: Vec<String> = (table.key.iter())
                    .map(|k| format!("{k} = {}", first(k)))
                    .collect();
                ctes.push(format!(
                    "{name}_updated AS (UPDATE {name} SET {set} WHERE {matches} RETURNING 1)",
                    set = set.join(", "),
                    matches = matches.join(" AND "),
                ));
            }
            Shape::Many { .. } => {
                let all: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
                let arrays: Vec<&str> = all.iter().map(|c| params[c].as_str()).collect();
                let set: Vec<String> = non_key().map(|c| format!("{c} = w.{c}")).collect();
                let matches: Vec<String> = (table.key.iter())
                    .map(|k| format!("t.{k} = w.{k}"))
                    .collect();
                ctes.push(format!(
                    "{name}_rows AS (SELECT * FROM unnest({arrays}) AS w ({all})),
                     {name}_inserted AS (INSERT INTO {name} ({stored})
                                         SELECT {stored} FROM {name}_rows WHERE is_new),
                     {name}_updated AS (UPDATE {name} AS t SET {set} FROM {name}_rows AS w
                                        WHERE NOT w.is_new AND {matches} RETURNING 1)",
                    arrays = arrays.join(", "),
                    all = all.join(", "),
                    stored = stored.join(", "),
                    set = set.join(", "),
                    matches = matches.join(" AND "),
                ));
            }
        }
        counts.push(format!(
            "(SELECT COUNT(*) FROM {name}_updated) AS {name}_updated"
        ));
    }
    format!("WITH {} SELECT {}", ctes.join(",\n"), counts.join(", "))
}

#[derive(Default)]
struct DocumentColumns<'a> {
    is_new: Vec<bool>,
    document_id: Vec<&'a str>,
    number: Vec<&'a str>,
    doc_type: Vec<&'a str>,
    unit: Vec<&'a str>,
    issued_at: Vec<i64>,
    declared_signed: Vec<i16>,
    verified_signed: Vec<i16>,
    lt_protected: Vec<Option<i16>>,
    lt_until: Vec<Option<i64>>,
}

impl<'a> DocumentColumns<'a> {
    fn of(writes: &'a [Write<DocumentRow>]) -> Self {
        let mut c = DocumentColumns::default();
        for write in writes {
            let row = write.row();
            c.is_new.push(matches!(write, Write::Insert(_)));
            c.document_id.push(&row.document_id);
            c.number.push(&row.issuance.number);
            c.doc_type.push(&row.issuance.doc_type);
            c.unit.push(&row.issuance.unit);
            c.issued_at.push(row.issuance.issued_at);
            c.declared_signed
                .push(i16::from(row.issuance.declared == Declared::Signed));
            c.verified_signed.push(i16::from(row.verified));
            c.lt_protected
                .push(row.protection.map(|p| i16::from(p.protected)));
            c.lt_until.push(row.protection.map(|p| p.until));
        }
        c
    }

    fn table(&self) -> TableColumns<'_> {
        TableColumns {
            name: "documents",
            key: &["document_id"],
            columns: vec![
                column("is_new", "boolean", &self.is_new),
                column("document_id", "text", &self.document_id),
                column("number", "text", &self.number),
                column("doc_type", "text", &self.doc_type),
                column("unit", "text", &self.unit),
                column("issued_at", "bigint", &self.issued_at),
                column("declared_signed", "smallint", &self.declared_signed),
                column("verified_signed", "smallint", &self.verified_signed),
                column("lt_protected", "smallint", &self.lt_protected),
                column("lt_until", "bigint", &self.lt_until),
            ],
        }
    }
}

#[derive(Default)]
struct SignatureColumns<'a> {
    is_new: Vec<bool>,
    document_id: Vec<&'a str>,
    cert_sha256: Vec<&'a str>,
    unit: Vec<&'a str>,
    key_ref: Vec<&'a str>,
    cert_subject: Vec<&'a str>,
    cert_issuer_id: Vec<i64>,
    cert_id: Vec<i64>,
    method: Vec<&'static str>,
    level: Vec<&'static str>,
    signed_at: Vec<i64>,
    indication: Vec<&'static str>,
}

impl<'a> SignatureColumns<'a> {
    fn of(writes: &'a [Write<SignatureRow>], signers: &SignerIds) -> Self {
        let mut c = SignatureColumns::default();
        for write in writes {
            let row = write.row();
            c.is_new.push(matches!(write, Write::Insert(_)));
            c.document_id.push(&row.document_id);
            c.cert_sha256.push(&row.cert_sha256);
            c.unit.push(&row.unit);
            c.key_ref.push(&row.key_ref);
            c.cert_subject.push(&row.cert_subject);
            let ids = signers
                .get(&row.cert_issuer, &row.cert_sha256)
                .expect("BUG: ensure_signers ran on this batch before its transaction");
            c.cert_issuer_id.push(ids.issuer_id);
            c.cert_id.push(ids.certificate_id);
            c.method.push(row.method.as_str());
            c.level.push(row.level.as_str());
            c.signed_at.push(row.signed_at);
            c.indication.push(row.indication.as_str());
        }
        c
    }

    fn table(&self) -> TableColumns<'_> {
        TableColumns {
            name: "signatures",
            key: &["document_id", "cert_sha256"],
            columns: vec![
                column("is_new", "boolean", &self.is_new),
                column("document_id", "text", &self.document_id),
                column("cert_sha256", "text", &self.cert_sha256),
                column("unit", "text", &self.unit),
                column("key_ref", "text", &self.key_ref),
                column("cert_subject", "text", &self.cert_subject),
                column("cert_issuer_id", "bigint", &self.cert_issuer_id),
                column("cert_id", "bigint", &self.cert_id),
                column("method", "text", &self.method),
                column("level", "text", &self.level),
                column("signed_at", "bigint", &self.signed_at),
                column("indication", "text", &self.indication),
            ],
        }
    }
}

#[derive(Default)]
struct IncomingColumns<'a> {
    is_new: Vec<bool>,
    receiving_unit: Vec<&'a str>,
    document_id: Vec<&'a str>,
    sender: Vec<&'a str>,
    verified_at: Vec<i64>,
    indication: Vec<&'static str>,
    sub_indication: Vec<Option<&'a str>>,
}

impl<'a> IncomingColumns<'a> {
    fn of(writes: &'a [Write<IncomingRow>]) -> Self {
        let mut c = IncomingColumns::default();
        for write in writes {
            let row = write.row();
            c.is_new.push(matches!(write, Write::Insert(_)));
            c.receiving_unit.push(&row.receiving_unit);
            c.document_id.push(&row.document_id);
            c.sender.push(&row.sender);
            c.verified_at.push(row.verified_at);
            c.indication.push(row.indication.as_str());
            c.sub_indication.push(row.sub_indication.as_deref());
        }
        c
    }

    fn table(&self) -> TableColumns<'_> {
        TableColumns {
            name: "incoming",
            key: &["receiving_unit", "document_id"],
            columns: vec![
                column("is_new", "boolean", &self.is_new),
                column("receiving_unit", "text", &self.receiving_unit),
                column("document_id", "text", &self.document_id),
                column("sender", "text", &self.sender),
                column("verified_at", "bigint", &self.verified_at),
                column("indication", "text", &self.indication),
                column("sub_indication", "text", &self.sub_indication),
            ],
        }
    }
}

#[derive(Default)]
struct AuditColumns<'a> {
    is_new: Vec<bool>,
    document_id: Vec<&'a str>,
    content_sha256: Vec<&'a str>,
    audited_at: Vec<i64>,
    indication: Vec<&'static str>,
    sub_indication: Vec<Option<&'a str>>,
    lt_protected: Vec<Option<i16>>,
    lt_until: Vec<Option<i64>>,
    lt_certificate: Vec<Option<&'a str>>,
}

impl<'a> AuditColumns<'a> {
    fn of(writes: &'a [Write<AuditRow>]) -> Self {
        let mut c = AuditColumns::default();
        for write in writes {
            let row = write.row();
            c.is_new.push(matches!(write, Write::Insert(_)));
            c.document_id.push(&row.document_id);
            c.content_sha256.push(&row.content_sha256);
            c.audited_at.push(row.audited_at);
            c.indication.push(row.indication.as_str());
            c.sub_indication.push(row.sub_indication.as_deref());
            let long_term = row.long_term.as_ref();
            c.lt_protected
                .push(long_term.map(|(p, _)| i16::from(p.protected)));
            c.lt_until.push(long_term.map(|(p, _)| p.until));
            c.lt_certificate.push(long_term.map(|(_, c)| c.as_str()));
        }
        c
    }

    fn table(&self) -> TableColumns<'_> {
        TableColumns {
            name: "audits",
            key: &["document_id", "content_sha256"],
            columns: vec![
                column("is_new", "boolean", &self.is_new),
                column("document_id", "text", &self.document_id),
                column("content_sha256", "text", &self.content_sha256),
                column("audited_at", "bigint", &self.audited_at),
                column("indication", "text", &self.indication),
                column("sub_indication", "text", &self.sub_indication),
                column("lt_protected", "smallint", &self.lt_protected),
                column("lt_until", "bigint", &self.lt_until),
                column("lt_certificate", "text", &self.lt_certificate),
            ],
        }
    }
}

/// The rows [`READ_DOCUMENTS`] returns, as PostgreSQL writes them in JSON: keyed by column name,
/// so a column missing or misnamed in the statement fails the read instead of shifting the
/// others; unknown keys are refused for the same reason.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentRecord {
    document_id: String,
    number: String,
    doc_type: String,
    unit: String,
    issued_at: i64,
    declared_signed: i64,
    verified_signed: i64,
    lt_protected: Option<i64>,
    lt_until: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureRecord {
    document_id: String,
    cert_sha256: String,
    unit: String,
    key_ref: String,
    cert_subject: String,
    cert_issuer: String,
    method: String,
    level: String,
    signed_at: i64,
    indication: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditRecord {
    document_id: String,
    content_sha256: String,
    audited_at: i64,
    indication: String,
    sub_indication: Option<String>,
    lt_protected: Option<i64>,
    lt_until: Option<i64>,
    lt_certificate: Option<String>,
}

impl TryFrom<DocumentRecord> for DocumentRow {
    type Error = Error;

    fn try_from(r: DocumentRecord) -> Result<Self, Error> {
        Ok(DocumentRow {
            document_id: r.document_id,
            issuance: Issuance {
                number: r.number,
                doc_type: r.doc_type,
                unit: r.unit,
                issued_at: r.issued_at,
                declared: stored_declared(r.declared_signed)?,
            },
            verified: stored_flag("verified_signed", r.verified_signed)?,
            protection: stored_protection(r.lt_protected, r.lt_until)?,
        })
    }
}

impl TryFrom<SignatureRecord> for SignatureRow {
    type Error = Error;

    fn try_from(r: SignatureRecord) -> Result<Self, Error> {
        Ok(SignatureRow {
            document_id: r.document_id,
            cert_sha256: r.cert_sha256,
            unit: r.unit,
            key_ref: r.key_ref,
            cert_subject: r.cert_subject,
            cert_issuer: r.cert_issuer,
            method: stored_method(&r.method)?,
            level: stored_level(&r.level)?,
            signed_at: r.signed_at,
            indication: stored_indication(&r.indication)?,
        })
    }
}

impl TryFrom<AuditRecord> for AuditRow {
    type Error = Error;

    fn try_from(r: AuditRecord) -> Result<Self, Error> {
        Ok(AuditRow {
            document_id: r.document_id,
            content_sha256: r.content_sha256,
            audited_at: r.audited_at,
            indication: stored_indication(&r.indication)?,
            sub_indication: r.sub_indication,
            long_term: stored_audit_long_term(r.lt_protected, r.lt_until, r.lt_certificate)?,
        })
    }
}

fn incoming_row(r: &postgres::Row) -> Result<IncomingRow, Error> {
    let fail = pg("read incoming verifications");
    let indication: String = r.try_get("indication").map_err(&fail)?;
    Ok(IncomingRow {
        receiving_unit: r.try_get("receiving_unit").map_err(&fail)?,
        document_id: r.try_get("document_id").map_err(&fail)?,
        sender: r.try_get("sender").map_err(&fail)?,
        verified_at: r.try_get("verified_at").map_err(&fail)?,
        indication: stored_indication(&indication)?,
        sub_indication: r.try_get("sub_indication").map_err(&fail)?,
    })
}

fn from_json<T: for<'de> Deserialize<'de>>(table: &'static str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|source| Error::PostgresRow { table, source })
}

fn from_json_array<T, R>(table: &'static str, text: Option<String>) -> Result<Vec<R>, Error>
where
    T: for<'de> Deserialize<'de>,
    R: TryFrom<T, Error = Error>,
{
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    from_json::<Vec<T>>(table, &text)?
        .into_iter()
        .map(R::try_from)
        .collect()
}
