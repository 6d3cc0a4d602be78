//! What recording a batch of events does, decided once for every store: for each event whether
//! it is inserted, unchanged, updated or refused, and which rows the store then writes.
//!
//! The stores only read and write. Inside their write transaction, after their locks (SQLite's
//! write lock; PostgreSQL's advisory locks on the batch's documents), a store reads what it holds
//! of the documents [`wanted`] names into [`Stored`], calls [`decide`], and writes
//! [`Decision::writes`] as they are. No SQL statement compares versions or picks an outcome, so
//! the stores cannot decide differently from each other, nor a batch from single events.
//!
//! The rules, in the order they apply (`docs/manual/ledger.md` gives the reasons):
//! 1. A document stays with its unit: [`Owners::admit`] on every issued and signed event, with
//!    the owners the store holds ([`StoredDocument::owner`]); an event admitted earlier in the
//!    batch counts as stored.
//! 2. Every unit an event names exists; the first event naming one that does not is refused
//!    ([`Error::UnknownUnit`]).
//! 3. Each event has an identity: issued, the document id; signed, the document id and the
//!    signer certificate; verified, the receiving unit and the document id; audited, the document
//!    id and the content hash. No row for it: `Inserted`. A row with the same content: `Unchanged`
//!    (a retry). Other content: `Updated`, the new version replacing the old (a correction).
//!    Events are decided in batch order against the rows as the earlier events left them, so one
//!    call with many events decides exactly as one call per event would.
//! 4. A document is *verified* when a TOTAL-PASSED signature or audit of it is recorded. The flag
//!    is recomputed whenever the document's issued row, one of its signatures or one of its audits
//!    changes: a signature recorded before the DMS's issued event still counts, and a signature
//!    corrected to failed clears it. Its *long-term status* is recomputed with it: that of its
//!    latest passing audit that recorded one.
//!
//! A refusal refuses the whole batch: [`decide`] returns the error and the store writes nothing.
//! What this module does not do: SQL, I/O, or checking event fields ([`Event::validate`] runs
//! before a store opens its transaction). Nothing is ever deleted, so a decision only inserts and
//! updates.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::Error;
use super::event::{Event, Indication, Recorded};
use super::ownership::{self, Owners, Reassignment};
use super::rows::{
    AuditRow, DocumentRow, IncomingKey, IncomingRow, Issuance, SignatureRow, StoredDocument,
};

/// What a store must read before it decides a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted<'a> {
    /// Documents named by issued, signed and audited events: for each, a [`StoredDocument`].
    pub documents: BTreeSet<&'a str>,
    /// Incoming verifications named by verified events: for each, its row if there is one.
    pub incoming: BTreeSet<IncomingKey>,
    /// Units named by events: which of them the ledger holds.
    pub units: BTreeSet<&'a str>,
}

/// What the store holds of a batch's [`Wanted`] rows, read inside its write transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    /// The units the ledger holds, of those the batch names (more do no harm).
    pub units: HashSet<String>,
    /// What the ledger holds of each wanted document. A document it holds nothing of may be
    /// left out; one it holds something of must not be, or the decision would insert rows that
    /// exist, which the store's write then refuses.
    pub documents: BTreeMap<String, StoredDocument>,
    /// The stored row of each wanted incoming verification that has one.
    pub incoming: BTreeMap<IncomingKey, IncomingRow>,
}

/// What a batch does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// What each event did, in batch order.
    pub outcomes: Vec<Recorded>,
    /// The rows to write: the final version of every row the batch changed, once.
    pub writes: Writes,
}

/// The rows a decision writes, per table, each table's rows in key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writes {
    pub documents: Vec<Write<DocumentRow>>,
    pub signatures: Vec<Write<SignatureRow>>,
    pub incoming: Vec<Write<IncomingRow>>,
    pub audits: Vec<Write<AuditRow>>,
}

/// One row to write, exactly so: an insert where the decision saw no row, an update where it saw
/// one. A store whose table disagrees (an insert meeting a row, an update meeting none) fails the
/// batch rather than falling back on the other write: the rows changed after they were read, so
/// the decision no longer holds. Under the stores' locks that cannot happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write<R> {
    Insert(R),
    Update(R),
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
            && self.signatures.is_empty()
            && self.incoming.is_empty()
            && self.audits.is_empty()
    }
}

impl<R> Write<R> {
    /// The row, inserted or updated.
    pub fn row(&self) -> &R {
        match self {
            Write::Insert(row) | Write::Update(row) => row,
        }
    }
}

/// The documents, incoming verifications and units a store must read to decide `events`.
pub fn wanted(events: &[Event]) -> Wanted<'_> {
    let mut wanted = Wanted::default();
    for event in events {
        match event {
            Event::Verified(e) => {
                wanted.incoming.insert(IncomingKey::of(e));
            }
            Event::Issued(_) | Event::Signed(_) | Event::Audited(_) => {
                wanted.documents.insert(event.document_id());
            }
        }
        wanted.units.extend(event.unit());
    }
    wanted
}

/// Decides `events`, in order, against what the store holds of them: what each does, and the
/// rows to write; or the refusal of the whole batch. `reassignment` is the caller's rule for
/// issued events that would move a document to another unit ([`Reassignment`]).
pub fn decide(
    events: &[Event],
    stored: Stored,
    reassignment: Reassignment,
) -> Result<Decision, Error> {
    admit(events, &stored, reassignment)?;
    if let Some((event, unit)) = events.iter().find_map(|e| {
        e.unit()
            .filter(|u| !stored.units.contains(*u))
            .map(|u| (e, u))
    }) {
        return Err(Error::UnknownUnit {
            code: unit.to_owned(),
            document_id: Some(event.document_id().to_owned()),
        });
    }
    let mut batch = Batch::new(stored);
    let outcomes = events.iter().map(|event| batch.apply(event)).collect();
    Ok(Decision {
        outcomes,
        writes: batch.writes(),
    })
}

/// Rule 1: the ownership rule on the owners the store holds.
fn admit(events: &[Event], stored: &Stored, reassignment: Reassignment) -> Result<(), Error> {
    let owners = ownership::claimed_ids(events).into_iter().filter_map(|id| {
        let owner = stored.documents.get(id)?.owner()?;
        Some((id.to_owned(), owner.to_owned()))
    });
    Owners::stored(owners).admit_all(events, reassignment)
}

/// The rows of a batch as read (`before`) and as the events decided so far leave them (`after`).
struct Batch {
    before: Rows,
    after: Rows,
}

#[derive(Clone, Debug, Default)]
struct Rows {
    documents: BTreeMap<String, DocumentRows>,
    incoming: BTreeMap<IncomingKey, IncomingRow>,
}

/// A [`StoredDocument`] with its signatures and audits by identity.
#[derive(Clone, Debug, Default)]
struct DocumentRows {
    issued: Option<DocumentRow>,
    /// By signer certificate SHA-256.
    signatures: BTreeMap<String, SignatureRow>,
    /// By content SHA-256.
    audits: BTreeMap<String, AuditRow>,
}

impl Batch {
    fn new(stored: Stored) -> Batch {
        let documents = stored
            .documents
            .into_iter()
            .map(|(id, document)| {
                let rows = DocumentRows {
                    issued: document.issued,
                    signatures: (document.signatures.into_iter())
                        .map(|s| (s.cert_sha256.clone(), s))
                        .collect(),
                    audits: (document.audits.into_iter())
                        .map(|a| (a.content_sha256.clone(), a))
                        .collect(),
                };
                (id, rows)
            })
            .collect();
        let rows = Rows {
            documents,
            incoming: stored.incoming,
        };
        Batch {
            before: rows.clone(),
            after: rows,
        }
    }

    /// Rule 3 for one event, and rule 4 when it changed its document.
    fn apply(&mut self, event: &Event) -> Recorded {
        let (document, outcome) = match event {
            Event::Verified(e) => {
                let row = IncomingRow::from(e);
                return put(&mut self.after.incoming, row.key(), row);
            }
            Event::Issued(e) => {
                let document = self.document(&e.document_id);
                let outcome = document.issue(&e.document_id, Issuance::from(e));
                (document, outcome)
            }
            Event::Signed(e) => {
                let document = self.document(&e.document_id);
                let row = SignatureRow::from(e);
                let outcome = put(&mut document.signatures, row.cert_sha256.clone(), row);
                (document, outcome)
            }
            Event::Audited(e) => {
                let document = self.document(&e.document_id);
                let row = AuditRow::from(e);
                let outcome = put(&mut document.audits, row.content_sha256.clone(), row);
                (document, outcome)
            }
        };
        if outcome != Recorded::Unchanged {
            document.refresh_verified();
        }
        outcome
    }

    fn document(&mut self, document_id: &str) -> &mut DocumentRows {
        self.after
            .documents
            .entry(document_id.to_owned())
            .or_default()
    }

    /// The final version of every row that differs from what was read.
    fn writes(self) -> Writes {
        let mut writes = Writes::default();
        let nothing = DocumentRows::default();
        for (id, after) in &self.after.documents {
            let before = self.before.documents.get(id).unwrap_or(&nothing);
            match (&before.issued, &after.issued) {
                (None, Some(row)) => writes.documents.push(Write::Insert(row.clone())),
                (Some(old), Some(row)) if old != row => {
                    writes.documents.push(Write::Update(row.clone()))
                }
                _ => {}
            }
            changes(
                &before.signatures,
                &after.signatures,
                &mut writes.signatures,
            );
            changes(&before.audits, &after.audits, &mut writes.audits);
        }
        changes(
            &self.before.incoming,
            &self.after.incoming,
            &mut writes.incoming,
        );
        writes
    }
}

impl DocumentRows {
    /// Records an issued event's content: the row is new, the same, or corrected.
    fn issue(&mut self, document_id: &str, issuance: Issuance) -> Recorded {
        match &mut self.issued {
            Some(row) if row.issuance == issuance => Recorded::Unchanged,
            Some(row) => {
                row.issuance = issuance;
                Recorded::Updated
            }
            None => {
                // The flag is set by refresh_verified, which follows every change.
                self.issued = Some(DocumentRow {
                    document_id: document_id.to_owned(),
                    issuance,
                    verified: false,
                    protection: None,
                });
                Recorded::Inserted
            }
        }
    }

    /// Rule 4: the flag from the document's signatures and audits as they now stand, and the
    /// long-term status of its latest passing audit that recorded one (the archive's file as it
    /// now stands: an extended file audited after the original replaces the original's status).
    fn refresh_verified(&mut self) {
        let passed = self
            .signatures
            .values()
            .any(|s| s.indication == Indication::TotalPassed)
            || self
                .audits
                .values()
                .any(|a| a.indication == Indication::TotalPassed);
        let protection = self
            .audits
            .values()
            .filter(|a| a.indication == Indication::TotalPassed)
            .filter_map(|a| a.long_term.as_ref().map(|(p, _)| (a.audited_at, *p)))
            // Latest first; between audits of the same second, the longer-lasting file.
            .max_by_key(|(at, p)| (*at, p.protected, p.until))
            .map(|(_, p)| p);
        if let Some(row) = &mut self.issued {
            row.verified = passed;
            row.protection = protection;
        }
    }
}

/// Puts `row` under `key`: a new row, the same row again, or a new version of it.
fn put<K: Ord, R: PartialEq>(rows: &mut BTreeMap<K, R>, key: K, row: R) -> Recorded {
    match rows.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(row);
            Recorded::Inserted
        }
        Entry::Occupied(slot) if *slot.get() == row => Recorded::Unchanged,
        Entry::Occupied(mut slot) => {
            slot.insert(row);
            Recorded::Updated
        }
    }
}

/// Appends to `out` the rows of `after` that are new or differ from `before`. Rows are never
/// removed, so `after` holds every key of `before`.
fn changes<K: Ord, R: Clone + PartialEq>(
    before: &BTreeMap<K, R>,
    after: &BTreeMap<K, R>,
    out: &mut Vec<Write<R>>,
) {
    for (key, row) in after {
        match before.get(key) {
            None => out.push(Write::Insert(row.clone())),
            Some(old) if old != row => out.push(Write::Update(row.clone())),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
