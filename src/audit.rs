//! The audit log: an append-only, hash-chained record of every signature, key use, credential
//! use and administrative change the service makes.
//!
//! Each entry carries its sequence number, the previous entry's hash and its own hash over both
//! and over its content, so changing an entry breaks its own hash, deleting one leaves a gap in
//! the sequence, and reordering breaks the links. The chain's head (last sequence number and
//! hash) is kept in a row of its own, updated in the same transaction as every append, which is
//! also what appends serialise on: two kyso nodes sharing one database never fork the chain (see
//! the stores in [`crate::ledger`], which hold every SQL statement).
//!
//! What it refuses: to hold secrets. Entries name API keys by their public id and signing keys
//! by their configured name and PKCS#11 URI; never a PIN, an API key's secret or document content
//! (documents are named by id and SHA-256).
//!
//! The chain alone cannot prove that the newest entries were not removed together with the head
//! row by someone who can write the database: the hashes are unkeyed, so whoever cuts the tail
//! can rewrite the head to match. [`checkpoint`] closes most of that gap: at intervals the
//! service signs the head (sequence number and hash) with a token key and has the signature
//! time-stamped by an RFC 3161 TSA, and stores that as an entry of the log itself. Verification
//! then proves every checkpoint's head is in the chain, that the log was not cut back before a
//! checkpoint an operator exported and kept elsewhere (`kyso audit export`), and that the newest
//! checkpoint is not older than the schedule allows. What it still cannot prove: that entries
//! written after the newest checkpoint (at most one period's worth) were not removed or
//! rewritten, unless their removal also makes the newest checkpoint stale; and, without an
//! export kept elsewhere, a cut made less than one period plus grace ago.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ledger::{Error as LedgerError, Store};
use crate::signer::DigestAlgorithm::Sha256;

pub mod checkpoint;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries read per query while verifying: bounds memory whatever the log's length.
const VERIFY_PAGE: usize = 1000;

/// What happened, as the log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A document was signed: names the credential, the signing key, the unit and the document.
    Signature,
    /// A document's issuance was recorded.
    DocumentRecorded,
    /// A document was verified.
    Verification,
    /// A report was read.
    ReportRead,
    /// Units were imported or changed.
    UnitsChanged,
    /// An API key was created.
    ApiKeyCreated,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// A request was refused because it would have recorded or signed a document stored for
    /// another unit: names the credential, the document, its unit and the unit claimed.
    Refused,
    /// A signed document was extended (time-stamps, validation data) or found not extendable:
    /// names the credential, the document, the level asked and what happened.
    Extension,
    /// The chain's head, signed by the service's checkpoint key and time-stamped by a TSA
    /// ([`checkpoint`]).
    Checkpoint,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Signature,
        Action::DocumentRecorded,
        Action::Verification,
        Action::ReportRead,
        Action::UnitsChanged,
        Action::ApiKeyCreated,
        Action::ApiKeyRevoked,
        Action::Refused,
        Action::Extension,
        Action::Checkpoint,
    ];

    /// The name stored and hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Signature => "signature",
            Action::DocumentRecorded => "document_recorded",
            Action::Verification => "verification",
            Action::ReportRead => "report_read",
            Action::UnitsChanged => "units_changed",
            Action::ApiKeyCreated => "api_key_created",
            Action::ApiKeyRevoked => "api_key_revoked",
            Action::Refused => "refused",
            Action::Extension => "extension",
            Action::Checkpoint => "checkpoint",
        }
    }
}

/// An entry before it has a place in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When it happened, to the microsecond (the precision both stores keep).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who did it: `apikey:<id>` for a credential, `cli` for the command line.
    pub actor: String,
    /// [`Action::as_str`], or whatever a newer kyso wrote.
    pub action: String,
    /// What it was done to: a document id, a key id, a unit code.
    pub subject: String,
    /// Further facts as a JSON object, hashed as the exact text stored.
    pub details: String,
}

impl Record {
    /// A record of `action` by `actor` on `subject` now, with `details` as JSON.
    pub fn new(
        actor: impl Into<String>,
        action: Action,
        subject: impl Into<String>,
        details: &serde_json::Value,
    ) -> Record {
        Record::at(OffsetDateTime::now_utc(), actor, action, subject, details)
    }

    /// A record made at `at` (truncated to the microsecond, the stores' precision).
    pub fn at(
        at: OffsetDateTime,
        actor: impl Into<String>,
        action: Action,
        subject: impl Into<String>,
        details: &serde_json::Value,
    ) -> Record {
        Record {
            at: from_micros(micros(at)),
            actor: actor.into(),
            action: action.as_str().to_owned(),
            subject: subject.into(),
            details: details.to_string(),
        }
    }
}

/// An entry in the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1 for the first entry, then one more for each.
    pub seq: u64,
    #[serde(flatten)]
    pub record: Record,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 over the sequence number, the previous hash and the record, hex.
    pub hash: String,
}

impl Entry {
    /// The entry that follows `(prev_seq, prev_hash)` in the chain.
    pub fn next(prev_seq: u64, prev_hash: &str, record: Record) -> Entry {
        let seq = prev_seq + 1;
        let hash = entry_hash(seq, prev_hash, &record);
        Entry {
            seq,
            record,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    /// Chains `records` after `(prev_seq, prev_hash)`, in order.
    pub fn chain(prev_seq: u64, prev_hash: &str, records: &[Record]) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::with_capacity(records.len());
        let (mut seq, mut hash) = (prev_seq, prev_hash.to_owned());
        for record in records {
            let entry = Entry::next(seq, &hash, record.clone());
            seq = entry.seq;
            hash.clone_from(&entry.hash);
            out.push(entry);
        }
        out
    }
}

/// The hash of entry `seq`: SHA-256 over a domain tag and each field, every field prefixed with
/// its length so that no two different entries encode alike (`"ab","c"` vs `"a","bc"`).
pub fn entry_hash(seq: u64, prev_hash: &str, record: &Record) -> String {
    let mut hasher = Sha256.hasher();
    hasher.update(b"kyso-audit-v1");
    let seq = seq.to_string();
    let at = micros(record.at).to_string();
    for field in [
        seq.as_str(),
        prev_hash,
        at.as_str(),
        &record.actor,
        &record.action,
        &record.subject,
        &record.details,
    ] {
        hasher.update(&(field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finish())
}

/// Microseconds since the Unix epoch, as the stores keep audit times.
pub fn micros(t: OffsetDateTime) -> i64 {
    // i64 microseconds reach past the year 290,000: no OffsetDateTime kyso makes overflows it.
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// The time `micros` microseconds after the epoch (the epoch itself for an out-of-range value
/// written by something else, which then fails its hash check rather than the read).
pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// Every entry links to the one before and hashes to what it says; the head row agrees.
    Intact { entries: u64, head_hash: String },
    /// The first place the chain is broken.
    Broken { seq: u64, problem: Problem },
}

/// How the chain is broken at an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Entries are missing before this one (deleted, or the sequence rewritten).
    #[error("entry {seq} follows entry {previous}: entries between them are missing")]
    Missing { previous: u64, seq: u64 },
    /// The entry's content no longer hashes to its stored hash: it was edited.
    #[error("entry {seq} does not hash to its stored hash: its content was changed")]
    Edited { seq: u64 },
    /// The entry's `prev_hash` is not the previous entry's hash: reordered or replaced.
    #[error("entry {seq} does not link to entry {previous}: entries were reordered or replaced")]
    Unlinked { previous: u64, seq: u64 },
    /// The head row names an entry the log does not end with: the newest entries were removed,
    /// or the head was changed.
    #[error(
        "the chain's head says entry {head_seq} ({head_hash}), the log ends at entry {last_seq}: entries at the end were removed or the head was changed"
    )]
    Head {
        head_seq: u64,
        head_hash: String,
        last_seq: u64,
    },
}

/// Walks the whole log in order, a page at a time, and checks every link and hash, then the head.
pub fn verify(store: &mut dyn Store) -> Result<Verification, LedgerError> {
    verify_visiting(store, &mut |_, _| Ok(()))
}

/// [`verify`], handing every entry that passed its checks to `visit` in order, with the store
/// (for a look-up of an earlier entry): how [`checkpoint::verify`] reads the checkpoints in the
/// same walk.
pub fn verify_visiting(
    store: &mut dyn Store,
    visit: &mut dyn FnMut(&mut dyn Store, &Entry) -> Result<(), LedgerError>,
) -> Result<Verification, LedgerError> {
    let (mut last_seq, mut last_hash) = (0u64, GENESIS.to_owned());
    loop {
        let page = store.audit_entries(last_seq, VERIFY_PAGE)?;
        let Some(end) = page.last().map(|e| e.seq) else {
            break;
        };
        for entry in &page {
            if entry.seq != last_seq + 1 {
                return Ok(Verification::Broken {
                    seq: entry.seq,
                    problem: Problem::Missing {
                        previous: last_seq,
                        seq: entry.seq,
                    },
                });
            }
            if entry_hash(entry.seq, &entry.prev_hash, &entry.record) != entry.hash {
                return Ok(Verification::Broken {
                    seq: entry.seq,
                    problem: Problem::Edited { seq: entry.seq },
                });
            }
            if entry.prev_hash != last_hash {
                return Ok(Verification::Broken {
                    seq: entry.seq,
                    problem: Problem::Unlinked {
                        previous: last_seq,
                        seq: entry.seq,
                    },
                });
            }
            last_seq = entry.seq;
            last_hash.clone_from(&entry.hash);
            visit(&mut *store, entry)?;
        }
        debug_assert_eq!(end, last_seq);
    }
    let (head_seq, head_hash) = store.audit_head()?;
    if head_seq != last_seq || head_hash != last_hash {
        return Ok(Verification::Broken {
            seq: head_seq.max(last_seq),
            problem: Problem::Head {
                head_seq,
                head_hash,
                last_seq,
            },
        });
    }
    Ok(Verification::Intact {
        entries: last_seq,
        head_hash: last_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(subject: &str) -> Record {
        Record::at(
            OffsetDateTime::UNIX_EPOCH,
            "apikey:ab",
            Action::Signature,
            subject,
            &serde_json::json!({"key": "stp-01"}),
        )
    }

    #[test]
    fn entries_link_and_any_field_changes_the_hash() {
        let chain = Entry::chain(0, GENESIS, &[record("d-1"), record("d-2")]);
        assert_eq!(chain[0].seq, 1);
        assert_eq!(chain[0].prev_hash, GENESIS);
        assert_eq!(chain[1].prev_hash, chain[0].hash);
        let base = entry_hash(1, GENESIS, &chain[0].record);
        assert_eq!(base, chain[0].hash);
        let mut edited = chain[0].record.clone();
        edited.subject = "d-9".into();
        assert_ne!(entry_hash(1, GENESIS, &edited), base);
        assert_ne!(entry_hash(2, GENESIS, &chain[0].record), base);
        // Length prefixes: moving a character between fields changes the hash.
        let mut shifted = chain[0].record.clone();
        shifted.actor = "apikey:a".into();
        shifted.action = format!("b{}", shifted.action);
        assert_ne!(entry_hash(1, GENESIS, &shifted), base);
    }

    #[test]
    fn times_keep_microseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(
            from_micros(micros(t)).unix_timestamp_nanos(),
            1_700_000_000_123_456_000
        );
    }
}
