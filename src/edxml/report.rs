//! What a package report adds to a document report (`report.package` in
//! `docs/verify-report.md`): the header as the package states it, what kyso repaired to read
//! it, one entry per attachment with its own full report, and the header's cross-checks
//! against what the attachments' signatures signed.

use serde::Serialize;

use super::header::Header;
use crate::verify::{DocumentReport, Indication, Reason, SubIndication};

/// The package part of a document report.
#[derive(Clone, Debug, Serialize)]
pub struct PackageReport {
    /// The header (`MessageHeader`) as the package states it.
    pub header: Header,
    /// Facts that do not change the verdict: what kyso repaired to read the package,
    /// attachments no signature covers.
    pub warnings: Vec<Reason>,
    pub attachments: Vec<AttachmentReport>,
    /// The header compared with what the attachments' signatures signed.
    pub checks: Vec<HeaderCheck>,
}

/// One attachment.
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentReport {
    /// `ContentId`, without `cid:`.
    pub content_id: Option<String>,
    /// `AttachmentName`.
    pub name: Option<String>,
    /// `ContentType` as the producer wrote it (kyso goes by the bytes).
    pub content_type: Option<String>,
    pub description: Option<String>,
    /// `zip` (base64 of a one-entry ZIP) or `none` (base64 of the document itself).
    pub compression: &'static str,
    /// The ZIP entry's name.
    pub entry: Option<String>,
    /// Bytes after decoding (and unzipping).
    pub size: Option<u64>,
    /// SHA-256 of those bytes, hex.
    pub sha256: Option<String>,
    /// What the bytes are: `pdf`, `xml`, `edxml`, `other`; `unread` when they could not be
    /// decoded.
    pub kind: &'static str,
    pub status: AttachmentStatus,
    /// The attachment's verdict: its own report's for a verified one; for one that could not
    /// be read, TOTAL-FAILED (malformed) or INDETERMINATE (past a limit); `null` for one that
    /// is not signature-checkable.
    pub indication: Option<Indication>,
    #[serde(rename = "subindication")]
    pub sub_indication: Option<SubIndication>,
    pub reasons: Vec<Reason>,
    /// The attachment's own report, as `kyso verify` gives it for the file alone.
    pub report: Option<Box<DocumentReport>>,
}

/// What was done with an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentStatus {
    /// A PDF, XML or edXML document: verified like a file on its own.
    Verified,
    /// Another type (a Word file, an image): listed, no signature of its own to check.
    NotCheckable,
    /// Its content could not be decoded, or goes past a limit.
    NotRead,
}

/// One header field compared with the attachments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderCheck {
    /// `number` (`CodeNumber/CodeNotation`), `promulgation_date`, `signer_name` (`FullName`),
    /// `signer_position` (`Position`).
    pub field: &'static str,
    /// What the header says.
    pub header: String,
    pub outcome: CheckOutcome,
    /// What the attachment says, when it says something (the matching or the contradicting
    /// value).
    pub found: Option<String>,
    /// Where it says it: the attachment and the signed field (`/Reason`, `/Info /Subject`, a
    /// signer's certificate).
    pub source: Option<String>,
}

/// How a header field compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The signed content says the same.
    Match,
    /// The signed content says something else: a finding.
    Mismatch,
    /// The signed content does not say (nothing to compare with): not checked.
    NotFound,
}
