//! The ledger's rows as named structs: what a store reads of a document before recording events
//! about it, and what it writes after [`super::decide`] has said what the events do.
//!
//! One struct per table an event kind is recorded in, every column named, identity first, so
//! that the decision and both stores speak of `signed_at` and `cert_subject`, never of `c.6` and
//! `c.2`: a positional tuple of eight fields still compiles when two of its strings are swapped.
//! A row is made from its event here, and only here.
//!
//! Times are Unix seconds (UTC), as both stores keep them ([`super::unix`]): a retried event must
//! compare equal to the row it wrote, and the row holds whole seconds, not the event's offset and
//! fraction. An issuer is its distinguished name here; that stores keep issuers in a dictionary
//! table and refer to them by number is their own business.
//!
//! What this module refuses: stored text that names no method, level or indication kyso knows,
//! and flags other than 0 and 1 ([`Error::UnknownStoredValue`], naming the column and value).
//! It holds no SQL and no rules.

use super::Error;
use super::event::{
    Audited, Declared, Indication, Issued, Method, SignatureLevel, Signed, Verified,
};

/// A row of `documents`: the DMS's issued event, and the flag derived from the document's
/// signatures and audits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRow {
    pub document_id: String,
    /// What the issued event said; a retry with the same issuance changes nothing.
    pub issuance: Issuance,
    /// Whether a TOTAL-PASSED signature or audit of the document is recorded. Derived, never sent:
    /// kept on the row so that a report is one scan of one covering index; set by the decision.
    pub verified: bool,
    /// The long-term status of the document's latest passing audit that recorded one. Derived
    /// like `verified`, for the same reason.
    pub protection: Option<Protection>,
}

/// Whether a file stays verifiable for the long term, and until when (Unix seconds): the
/// stored form of [`super::LongTermStatus`] without the certificate's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    pub protected: bool,
    pub until: i64,
}

/// The content of an issued event, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuance {
    pub number: String,
    pub doc_type: String,
    pub unit: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub declared: Declared,
}

/// A row of `signatures`: one signer certificate's signature on a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureRow {
    pub document_id: String,
    pub cert_sha256: String,
    /// The unit whose key signed.
    pub unit: String,
    pub key_ref: String,
    pub cert_subject: String,
    /// The issuer's distinguished name.
    pub cert_issuer: String,
    pub method: Method,
    pub level: SignatureLevel,
    /// Unix seconds.
    pub signed_at: i64,
    pub indication: Indication,
}

/// A row of `incoming`: a receiving unit's verification of a document it received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingRow {
    pub receiving_unit: String,
    pub document_id: String,
    pub sender: String,
    /// Unix seconds.
    pub verified_at: i64,
    pub indication: Indication,
    pub sub_indication: Option<String>,
}

/// A row of `audits`: a batch audit's verification of one archived file of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub document_id: String,
    pub content_sha256: String,
    /// Unix seconds.
    pub audited_at: i64,
    pub indication: Indication,
    pub sub_indication: Option<String>,
    /// The audit's long-term status and the certificate whose expiry ends it (TOTAL-PASSED only).
    pub long_term: Option<(Protection, String)>,
}

/// The identity of an incoming verification: one per receiving unit and document.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncomingKey {
    pub receiving_unit: String,
    pub document_id: String,
}

/// Everything the ledger holds of one document id, except incoming verifications (those are the
/// receiving units' records, not the document's): its issued row, if the DMS has recorded it,
/// and all its signatures and audits. A document has a handful of each, and the decision needs
/// them all: the first signature owns a document not yet issued, and any passing one makes it
/// verified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDocument {
    pub issued: Option<DocumentRow>,
    pub signatures: Vec<SignatureRow>,
    pub audits: Vec<AuditRow>,
}

impl StoredDocument {
    /// The unit the document belongs to ([`super::ownership`]): its issued event's, else the
    /// unit of its first signature by signing time (ties broken by certificate, so that every
    /// store names the same one); `None` when the ledger holds neither.
    pub fn owner(&self) -> Option<&str> {
        match &self.issued {
            Some(row) => Some(&row.issuance.unit),
            None => self
                .signatures
                .iter()
                .min_by(|a, b| (a.signed_at, &a.cert_sha256).cmp(&(b.signed_at, &b.cert_sha256)))
                .map(|s| s.unit.as_str()),
        }
    }
}

impl From<&Issued> for Issuance {
    fn from(e: &Issued) -> Self {
        Issuance {
            number: e.number.clone(),
            doc_type: e.doc_type.clone(),
            unit: e.unit.clone(),
            issued_at: super::unix(e.issued_at),
            declared: e.declared,
        }
    }
}

impl From<&Signed> for SignatureRow {
    fn from(e: &Signed) -> Self {
        SignatureRow {
            document_id: e.document_id.clone(),
            cert_sha256: e.certificate.sha256.clone(),
            unit: e.unit.clone(),
            key_ref: e.key.clone(),
            cert_subject: e.certificate.subject.clone(),
            cert_issuer: e.certificate.issuer.clone(),
            method: e.method,
            level: e.level,
            signed_at: super::unix(e.signed_at),
            indication: e.indication,
        }
    }
}

impl From<&Verified> for IncomingRow {
    fn from(e: &Verified) -> Self {
        IncomingRow {
            receiving_unit: e.receiving_unit.clone(),
            document_id: e.document_id.clone(),
            sender: e.sender.clone(),
            verified_at: super::unix(e.verified_at),
            indication: e.indication,
            sub_indication: e.sub_indication.clone(),
        }
    }
}

impl From<&Audited> for AuditRow {
    fn from(e: &Audited) -> Self {
        AuditRow {
            document_id: e.document_id.clone(),
            content_sha256: e.content_sha256.clone(),
            audited_at: super::unix(e.audited_at),
            indication: e.indication,
            sub_indication: e.sub_indication.clone(),
            long_term: e.long_term.as_ref().map(|status| {
                (
                    Protection {
                        protected: status.protected,
                        until: super::unix(status.until),
                    },
                    status.certificate.clone(),
                )
            }),
        }
    }
}

impl IncomingRow {
    pub fn key(&self) -> IncomingKey {
        IncomingKey {
            receiving_unit: self.receiving_unit.clone(),
            document_id: self.document_id.clone(),
        }
    }
}

impl IncomingKey {
    pub fn of(e: &Verified) -> Self {
        IncomingKey {
            receiving_unit: e.receiving_unit.clone(),
            document_id: e.document_id.clone(),
        }
    }
}

/// A stored `method` column.
pub(crate) fn stored_method(value: &str) -> Result<Method, Error> {
    Method::from_stored(value).ok_or_else(|| unknown("method", value))
}

/// A stored `level` column.
pub(crate) fn stored_level(value: &str) -> Result<SignatureLevel, Error> {
    SignatureLevel::from_stored(value).ok_or_else(|| unknown("level", value))
}

/// A stored `indication` column.
pub(crate) fn stored_indication(value: &str) -> Result<Indication, Error> {
    Indication::from_stored(value).ok_or_else(|| unknown("indication", value))
}

/// A stored 0/1 flag column. The schema's CHECK constraints allow nothing else; a value outside
/// them means the table was not made by kyso's migrations.
pub(crate) fn stored_flag(column: &'static str, value: i64) -> Result<bool, Error> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(unknown(column, &other.to_string())),
    }
}

/// The stored columns of a [`Protection`]: both or neither (the schema's CHECK constraints).
pub(crate) fn stored_protection(
    protected: Option<i64>,
    until: Option<i64>,
) -> Result<Option<Protection>, Error> {
    match (protected, until) {
        (None, None) => Ok(None),
        (Some(flag), Some(until)) => Ok(Some(Protection {
            protected: stored_flag("lt_protected", flag)?,
            until,
        })),
        (Some(_), None) => Err(unknown("lt_until", "NULL")),
        (None, Some(_)) => Err(unknown("lt_protected", "NULL")),
    }
}

/// A stored audit's long-term status: the protection and the certificate's name, all or none.
pub(crate) fn stored_audit_long_term(
    protected: Option<i64>,
    until: Option<i64>,
    certificate: Option<String>,
) -> Result<Option<(Protection, String)>, Error> {
    match (stored_protection(protected, until)?, certificate) {
        (None, None) => Ok(None),
        (Some(protection), Some(certificate)) => Ok(Some((protection, certificate))),
        (Some(_), None) => Err(unknown("lt_certificate", "NULL")),
        (None, Some(_)) => Err(unknown("lt_protected", "NULL")),
    }
}

/// A stored `declared_signed` flag.
pub(crate) fn stored_declared(value: i64) -> Result<Declared, Error> {
    Ok(if stored_flag("declared_signed", value)? {
        Declared::Signed
    } else {
        Declared::Unsigned
    })
}

fn unknown(column: &'static str, value: &str) -> Error {
    Error::UnknownStoredValue {
        column,
        value: value.to_owned(),
    }
}
