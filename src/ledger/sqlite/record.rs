//! Recording events in the SQLite ledger: read what the file holds of the batch's documents,
//! let [`decide`] say what the events do, write exactly that.
//!
//! Race-free because the caller's transaction is `BEGIN IMMEDIATE`: it holds the database's
//! write lock from before the first read until the commit, so no other connection or process
//! changes a row between the read and the write. Reads and writes are one statement per row; in
//! process they cost microseconds, and a single event's transaction is bound by its commit.
//!
//! Rows are read by column name into the named structs of [`crate::ledger::rows`] and written
//! with named parameters, so a statement and its struct cannot drift apart by position.

use std::path::Path;

use rusqlite::types::FromSql;
use rusqlite::{CachedStatement, Connection, Row, Transaction, named_params};

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

/// Why recording failed: a SQLite call (with what was being done), or the ledger's own refusal.
/// The caller adds the file's path to the first.
pub(super) enum Failed {
    Sql(&'static str, rusqlite::Error),
    Ledger(Error),
}

impl Failed {
    /// The ledger's error, naming the file for a SQLite failure.
    pub(super) fn at(self, path: &Path) -> Error {
        match self {
            Failed::Ledger(e) => e,
            Failed::Sql(context, source) => Error::Sqlite {
                path: path.to_owned(),
                context,
                source,
            },
        }
    }
}

impl From<Error> for Failed {
    fn from(e: Error) -> Self {
        Failed::Ledger(e)
    }
}

fn sql(context: &'static str) -> impl Fn(rusqlite::Error) -> Failed {
    move |e| Failed::Sql(context, e)
}

/// Records `events` inside `tx`, which holds the write lock: what each did, in order; or the
/// refusal of them all, with nothing written. `signers` holds every signer certificate the
/// events name.
pub(super) fn record(
    tx: &Transaction<'_>,
    signers: &SignerIds,
    events: &[Event],
    reassignment: Reassignment,
) -> Result<Decision, Failed> {
    let stored = read(tx, &decide::wanted(events))?;
    let decision = decide::decide(events, stored, reassignment)?;
    write(tx, signers, &decision.writes)?;
    Ok(decision)
}

/// A document's signatures with their issuer's name. By a scalar subquery, not a join: SQLite
/// re-prepares a cached join whenever the tables it joins have grown since it last ran (its
/// REPREPARE status counted one per execution), which cost a single event's recording a quarter
/// of its time.
const READ_SIGNATURES: &str =
    "SELECT s.document_id, s.cert_sha256, s.unit, s.key_ref, s.cert_subject,
                (SELECT dn FROM issuers WHERE id = s.cert_issuer_id) AS cert_issuer,
                s.method, s.level, s.signed_at, s.indication
         FROM signatures AS s
         WHERE s.document_id = ?1";

/// What the ledger holds of one document id.
pub(super) fn read_document(
    conn: &Connection,
    document_id: &str,
) -> Result<StoredDocument, Failed> {
    // The primary key: one row or none.
    let issued = rows(
        conn,
        "read document",
        "SELECT document_id, number, doc_type, unit, issued_at, declared_signed, verified_signed,
                lt_protected, lt_until
         FROM documents WHERE document_id = ?1",
        [document_id],
        document_row,
    )?
    .pop();
    let signatures = rows(
        conn,
        "read signatures",
        READ_SIGNATURES,
        [document_id],
        signature_row,
    )?;
    let audits = rows(
        conn,
        "read audits",
        "SELECT document_id, content_sha256, audited_at, indication, sub_indication,
                lt_protected, lt_until, lt_certificate
         FROM audits WHERE document_id = ?1",
        [document_id],
        audit_row,
    )?;
    Ok(StoredDocument {
        issued,
        signatures,
        audits,
    })
}

fn read(tx: &Transaction<'_>, wanted: &Wanted<'_>) -> Result<Stored, Failed> {
    let mut stored = Stored::default();
    for unit in &wanted.units {
        let known = tx
            .prepare_cached("SELECT 1 FROM units WHERE code = ?1")
            .and_then(|mut s| s.exists([unit]))
            .map_err(sql("look up unit"))?;
        if known {
            stored.units.insert((*unit).to_owned());
        }
    }
    for id in &wanted.documents {
        stored
            .documents
            .insert((*id).to_owned(), read_document(tx, id)?);
    }
    for key in &wanted.incoming {
        // The primary key: one row or none.
        let row = rows(
            tx,
            "read incoming verification",
            "SELECT receiving_unit, document_id, sender, verified_at, indication, sub_indication
             FROM incoming WHERE receiving_unit = ?1 AND document_id = ?2",
            [&key.receiving_unit, &key.document_id],
            incoming_row,
        )?
        .pop();
        if let Some(row) = row {
            stored.incoming.insert(key.clone(), row);
        }
    }
    Ok(stored)
}

/// Writes what the decision says, nothing else. An insert meeting a row fails on the primary
/// key; an update meeting none is refused ([`one_row`]): either means the rows changed since they
/// were read, which the write lock rules out, and a write that guessed would lose or forge a
/// count.
fn write(tx: &Transaction<'_>, signers: &SignerIds, writes: &Writes) -> Result<(), Failed> {
    write_rows(tx, &DOCUMENTS, &writes.documents, |s, row| {
        s.execute(named_params! {
            ":document_id": row.document_id,
            ":number": row.issuance.number,
            ":doc_type": row.issuance.doc_type,
            ":unit": row.issuance.unit,
            ":issued_at": row.issuance.issued_at,
            ":declared_signed": i64::from(row.issuance.declared == Declared::Signed),
            ":verified_signed": i64::from(row.verified),
            ":lt_protected": row.protection.map(|p| i64::from(p.protected)),
            ":lt_until": row.protection.map(|p| p.until),
        })
    })?;
    write_rows(tx, &SIGNATURES, &writes.signatures, |s, row| {
        let ids = signers
            .get(&row.cert_issuer, &row.cert_sha256)
            .expect("BUG: ensure_signers ran on this batch before its transaction");
        s.execute(named_params! {
            ":document_id": row.document_id,
            ":cert_sha256": row.cert_sha256,
            ":unit": row.unit,
            ":key_ref": row.key_ref,
            ":cert_subject": row.cert_subject,
            ":cert_issuer_id": ids.issuer_id,
            ":cert_id": ids.certificate_id,
            ":method": row.method.as_str(),
            ":level": row.level.as_str(),
            ":signed_at": row.signed_at,
            ":indication": row.indication.as_str(),
        })
    })?;
    write_rows(tx, &INCOMING, &writes.incoming, |s, row| {
        s.execute(named_params! {
            ":receiving_unit": row.receiving_unit,
            ":document_id": row.document_id,
            ":sender": row.sender,
            ":verified_at": row.verified_at,
            ":indication": row.indication.as_str(),
            ":sub_indication": row.sub_indication,
        })
    })?;
    write_rows(tx, &AUDITS, &writes.audits, |s, row| {
        s.execute(named_params! {
            ":document_id": row.document_id,
            ":content_sha256": row.content_sha256,
            ":audited_at": row.audited_at,
            ":indication": row.indication.as_str(),
            ":sub_indication": row.sub_indication,
            ":lt_protected": row.long_term.as_ref().map(|(p, _)| i64::from(p.protected)),
            ":lt_until": row.long_term.as_ref().map(|(p, _)| p.until),
            ":lt_certificate": row.long_term.as_ref().map(|(_, c)| c),
        })
    })
}

/// The two statements that write one table's rows, with the same named parameters.
struct TableWrites {
    table: &'static str,
    /// How an error names the write.
    context: &'static str,
    insert: &'static str,
    update: &'static str,
}

const DOCUMENTS: TableWrites = TableWrites {
    table: "documents",
    context: "write documents",
    insert: "INSERT INTO documents (document_id, number, doc_type, unit, issued_at,
                                    declared_signed, verified_signed, lt_protected, lt_until)
             VALUES (:document_id, :number, :doc_type, :unit, :issued_at, :declared_signed,
                     :verified_signed, :lt_protected, :lt_until)",
    update: "UPDATE documents SET number = :number, doc_type = :doc_type, unit = :unit,
                    issued_at = :issued_at, declared_signed = :declared_signed,
                    verified_signed = :verified_signed, lt_protected = :lt_protected,
                    lt_until = :lt_until
             WHERE document_id = :document_id",
};

const SIGNATURES: TableWrites = TableWrites {
    table: "signatures",
    context: "write signatures",
    insert: "INSERT INTO signatures (document_id, cert_sha256, unit, key_ref, cert_subject,
                                     cert_issuer_id, cert_id, method, level, signed_at,
                                     indication)
             VALUES (:document_id, :cert_sha256, :unit, :key_ref, :cert_subject,
                     :cert_issuer_id, :cert_id, :method, :level, :signed_at, :indication)",
    update: "UPDATE signatures SET unit = :unit, key_ref = :key_ref,
                    cert_subject = :cert_subject, cert_issuer_id = :cert_issuer_id,
                    cert_id = :cert_id,
                    method = :method, level = :level, signed_at = :signed_at,
                    indication = :indication
             WHERE document_id = :document_id AND cert_sha256 = :cert_sha256",
};

const INCOMING: TableWrites = TableWrites {
    table: "incoming",
    context: "write incoming verifications",
    insert: "INSERT INTO incoming (receiving_unit, document_id, sender, verified_at, indication,
                                   sub_indication)
             VALUES (:receiving_unit, :document_id, :sender, :verified_at, :indication,
                     :sub_indication)",
    update: "UPDATE incoming SET sender = :sender, verified_at = :verified_at,
                    indication = :indication, sub_indication = :sub_indication
             WHERE receiving_unit = :receiving_unit AND document_id = :document_id",
};

const AUDITS: TableWrites = TableWrites {
    table: "audits",
    context: "write audits",
    insert: "INSERT INTO audits (document_id, content_sha256, audited_at, indication,
                                 sub_indication, lt_protected, lt_until, lt_certificate)
             VALUES (:document_id, :content_sha256, :audited_at, :indication, :sub_indication,
                     :lt_protected, :lt_until, :lt_certificate)",
    update: "UPDATE audits SET audited_at = :audited_at, indication = :indication,
                    sub_indication = :sub_indication, lt_protected = :lt_protected,
                    lt_until = :lt_until, lt_certificate = :lt_certificate
             WHERE document_id = :document_id AND content_sha256 = :content_sha256",
};

/// Writes `writes` into `table`, each row by its insert or update statement, which `execute`
/// runs with the row's named parameters.
fn write_rows<R>(
    tx: &Transaction<'_>,
    table: &TableWrites,
    writes: &[Write<R>],
    execute: impl Fn(&mut CachedStatement<'_>, &R) -> rusqlite::Result<usize>,
) -> Result<(), Failed> {
    for write in writes {
        let sql_text = match write {
            Write::Insert(_) => table.insert,
            Write::Update(_) => table.update,
        };
        let mut statement = tx.prepare_cached(sql_text).map_err(sql(table.context))?;
        let changed = execute(&mut statement, write.row()).map_err(sql(table.context))?;
        one_row(table.table, changed)?;
    }
    Ok(())
}

/// An insert or update of one row that found its row changed one row.
fn one_row(table: &'static str, changed: usize) -> Result<(), Failed> {
    if changed == 1 {
        return Ok(());
    }
    Err(Failed::Ledger(Error::ChangedWhileRecording {
        table,
        expected: 1,
        found: changed as u64,
    }))
}

/// Runs a select and reads each row with `read`.
fn rows<T>(
    conn: &Connection,
    context: &'static str,
    sql_text: &str,
    params: impl rusqlite::Params,
    read: fn(&Row<'_>) -> Result<T, Failed>,
) -> Result<Vec<T>, Failed> {
    let mut statement = conn.prepare_cached(sql_text).map_err(sql(context))?;
    let mut found = statement.query(params).map_err(sql(context))?;
    let mut out = Vec::new();
    while let Some(row) = found.next().map_err(sql(context))? {
        out.push(read(row)?);
    }
    Ok(out)
}

/// One column of a stored row, by name.
fn column<T: FromSql>(r: &Row<'_>, name: &str) -> Result<T, Failed> {
    r.get(name).map_err(sql("read a stored row"))
}

fn document_row(r: &Row<'_>) -> Result<DocumentRow, Failed> {
    Ok(DocumentRow {
        document_id: column(r, "document_id")?,
        issuance: Issuance {
            number: column(r, "number")?,
            doc_type: column(r, "doc_type")?,
            unit: column(r, "unit")?,
            issued_at: column(r, "issued_at")?,
            declared: stored_declared(column(r, "declared_signed")?)?,
        },
        verified: stored_flag("verified_signed", column(r, "verified_signed")?)?,
        protection: stored_protection(column(r, "lt_protected")?, column(r, "lt_until")?)?,
    })
}

fn signature_row(r: &Row<'_>) -> Result<SignatureRow, Failed> {
    Ok(SignatureRow {
        document_id: column(r, "document_id")?,
        cert_sha256: column(r, "cert_sha256")?,
        unit: column(r, "unit")?,
        key_ref: column(r, "key_ref")?,
        cert_subject: column(r, "cert_subject")?,
        cert_issuer: column(r, "cert_issuer")?,
        method: stored_method(&column::<String>(r, "method")?)?,
        level: stored_level(&column::<String>(r, "level")?)?,
        signed_at: column(r, "signed_at")?,
        indication: stored_indication(&column::<String>(r, "indication")?)?,
    })
}

fn incoming_row(r: &Row<'_>) -> Result<IncomingRow, Failed> {
    Ok(IncomingRow {
        receiving_unit: column(r, "receiving_unit")?,
        document_id: column(r, "document_id")?,
        sender: column(r, "sender")?,
        verified_at: column(r, "verified_at")?,
        indication: stored_indication(&column::<String>(r, "indication")?)?,
        sub_indication: column(r, "sub_indication")?,
    })
}

fn audit_row(r: &Row<'_>) -> Result<AuditRow, Failed> {
    Ok(AuditRow {
        document_id: column(r, "document_id")?,
        content_sha256: column(r, "content_sha256")?,
        audited_at: column(r, "audited_at")?,
        indication: stored_indication(&column::<String>(r, "indication")?)?,
        sub_indication: column(r, "sub_indication")?,
        long_term: stored_audit_long_term(
            column(r, "lt_protected")?,
            column(r, "lt_until")?,
            column(r, "lt_certificate")?,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::READ_SIGNATURES;
    use crate::ledger::sqlite::{Durability, SqliteStore};
    use crate::ledger::{
        Certificate, Declared, Event, Indication, Issued, Method, SignatureLevel, Signed, Store,
        Unit,
    };

    /// Recording reads a document's signatures once per event: the statement must stay prepared
    /// as the tables grow (see [`READ_SIGNATURES`]).
    #[test]
    fn reading_signatures_is_prepared_once_as_the_ledger_grows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("l.sqlite"), Durability::Normal).unwrap();
        store
            .upsert_units(&[Unit {
                code: "STP".into(),
                name: "Sở Tư pháp".into(),
                level: "department".into(),
                parent: None,
            }])
            .unwrap();
        let at = datetime!(2022-03-01 09:00 +07:00);
        for i in 0..20 {
            let id = format!("doc-{i}");
            let issued = Event::Issued(Issued {
                document_id: id.clone(),
                number: format!("{i}/QĐ-STP"),
                doc_type: "Quyết định".into(),
                unit: "STP".into(),
                issued_at: at,
                declared: Declared::Signed,
            });
            let signed = Event::Signed(Signed {
                document_id: id,
                unit: "STP".into(),
                key: "pkcs11:object=stp".into(),
                certificate: Certificate {
                    sha256: format!("{i:02x}").repeat(32),
                    subject: "CN=STP".into(),
                    issuer: format!("CN=CA {i}"),
                },
                method: Method::Token,
                level: SignatureLevel::PadesBT,
                signed_at: at,
                indication: Indication::TotalPassed,
            });
            store.record(&[issued]).unwrap();
            store.record(&[signed]).unwrap();
        }
        let statement = store.conn.prepare_cached(READ_SIGNATURES).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::Run),
            40,
            "one read per event"
        );
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    }
}
