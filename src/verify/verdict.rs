//! One verdict model for PDF and XML signatures (ETSI EN 319 102-1 §5.1.3): per signature an
//! indication with its sub-indication, and the facts behind it.
//!
//! The facts are kept apart as facets, as pyHanko's status record does: is the signed data
//! intact, does the signature value verify, is the signer trusted, what revocation evidence was
//! found, how much of the document the signature covers, what changed after it, and how its time
//! is proven. [`SignatureReport::bottom_line`] combines them; it never reads TOTAL-PASSED unless
//! every facet was checked and passed ("could not check" is never "passed").

use serde::Serialize;
use time::OffsetDateTime;

use super::reason::Reason;
use crate::pdf::diff::ModificationLevel;
use crate::pki::identity::{Holder, Identifier, IdentifierKind};

/// ETSI EN 319 102-1 main status indication (Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Indication {
    TotalPassed,
    TotalFailed,
    Indeterminate,
}

impl Indication {
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }
}

/// ETSI EN 319 102-1 sub-indications (Tables 6 and 7) that kyso reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    SigConstraintsFailure,
    ChainConstraintsFailure,
    CryptoConstraintsFailure,
    /// The signature is intact, but its algorithm or key size is below policy and nothing
    /// proves it existed before the algorithm was retired (ETSI EN 319 102-1 Table 7).
    CryptoConstraintsFailureNoPoe,
    Expired,
    NotYetValid,
    SignedDataNotFound,
    NoSigningCertificateFound,
    NoCertificateChainFound,
    RevokedNoPoe,
    OutOfBoundsNoPoe,
    TryLater,
}

impl SubIndication {
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            SubIndication::CryptoConstraintsFailureNoPoe => "CRYPTO_CONSTRAINTS_FAILURE_NO_POE",
            SubIndication::Expired => "EXPIRED",
            SubIndication::NotYetValid => "NOT_YET_VALID",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::RevokedNoPoe => "REVOKED_NO_POE",
            SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            SubIndication::TryLater => "TRY_LATER",
        }
    }

    /// The indication this sub-indication belongs to (ETSI EN 319 102-1 Tables 6–7).
    pub fn indication(self) -> Indication {
        match self {
            SubIndication::FormatFailure
            | SubIndication::HashFailure
            | SubIndication::SigCryptoFailure
            | SubIndication::Revoked
            | SubIndication::Expired
            | SubIndication::NotYetValid => Indication::TotalFailed,
            _ => Indication::Indeterminate,
        }
    }

    /// Whether this failure is about the signed data itself (its format, its digest, its
    /// signature value): ETSI EN 319 102-1 checks these before the certificate path, so such a
    /// failure stands whatever the path says.
    pub fn is_integrity_failure(self) -> bool {
        matches!(
            self,
            SubIndication::FormatFailure
                | SubIndication::HashFailure
                | SubIndication::SigCryptoFailure
        )
    }

    /// Maps a `pki::PathError` sub-indication name.
    pub fn from_etsi(name: &str) -> SubIndication {
        match name {
            "NO_CERTIFICATE_CHAIN_FOUND" => SubIndication::NoCertificateChainFound,
            "TRY_LATER" => SubIndication::TryLater,
            "REVOKED" => SubIndication::Revoked,
            "OUT_OF_BOUNDS_NO_POE" => SubIndication::OutOfBoundsNoPoe,
            "NOT_YET_VALID" => SubIndication::NotYetValid,
            "SIG_CRYPTO_FAILURE" => SubIndication::SigCryptoFailure,
            "CRYPTO_CONSTRAINTS_FAILURE" => SubIndication::CryptoConstraintsFailure,
            _ => SubIndication::ChainConstraintsFailure,
        }
    }
}

/// A three-state fact: checked and holds, checked and fails, or could not be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    Passed,
    Failed,
    Undetermined,
}

/// How much of the document a PDF signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The whole file.
    WholeDocument,
    /// The file up to the end of a revision; later revisions follow.
    Revision,
    /// Not a contiguous prefix ending at a revision boundary: the signature does not sign a
    /// document state at all.
    Unclear,
    /// XML: the signature covers the whole document (less itself).
    SignedContent,
    /// XML: the signature covers part of the document, listed in [`SignatureReport::scope`]
    /// (an e-invoice's seller signs the invoice element by its Id).
    PartialContent,
}

/// XML: exactly what a signature covers, and what of the document it leaves out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignedScope {
    /// The signed content is the whole document, less the signature itself.
    pub whole_document: bool,
    /// Each element the signature covers with its subtree.
    pub elements: Vec<ScopeElement>,
    /// Detached documents it covers, by the URI its reference writes.
    pub detached: Vec<String>,
    /// Elements of the document it does not cover, by path; other signatures and elements that
    /// hold only signatures are not listed.
    pub not_covered: Vec<String>,
}

/// One signed element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeElement {
    /// Positional path, e.g. `/HDon[1]/DLHDon[1]`.
    pub path: String,
    /// The `Id` the reference reached it by, if any.
    pub id: Option<String>,
    /// `{namespace}local` name.
    pub name: String,
}

/// Where a signing time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// A verified RFC 3161 signature timestamp: proof of existence.
    Timestamp,
    /// What the signer claims (PDF `/M`, CMS signingTime, XAdES SigningTime): not proven.
    Claimed,
}

/// The signer as the certificate names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Signer {
    pub common_name: Option<String>,
    /// The unit (`OU`), used to attribute the document in the ledger.
    pub unit: Option<String>,
    pub organization: Option<String>,
    /// The `title` attribute (2.5.4.12): the signer's position, where the certificate states
    /// it (an edXML header's `SignerInfo/Position` is compared with it).
    pub title: Option<String>,
    /// Person or organisation, by the subject's identifiers and title ([`Holder`]).
    pub holder: Holder,
    /// `CCCD:`/`CMND:`/`HC:`/`MST:`/`MNS:` values from the subject's UID or serialNumber;
    /// personal ones masked unless [`DocumentReport::reveal_identifiers`] was called.
    pub identifiers: Vec<SignerIdentifier>,
    /// The subject DN, personal identifiers in it masked like `identifiers`.
    pub subject: String,
    /// The subject as written, for [`DocumentReport::reveal_identifiers`]; never serialized.
    #[serde(skip)]
    pub(crate) subject_whole: Option<String>,
    pub issuer: String,
    pub serial: String,
    pub certificate_sha256: String,
}

/// One identifier of the signer as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignerIdentifier {
    pub kind: IdentifierKind,
    /// The value, masked (`********7890`) when `masked`.
    pub value: String,
    pub masked: bool,
    /// The whole value, for callers whose role may see it; never serialized.
    #[serde(skip)]
    whole: String,
}

impl SignerIdentifier {
    /// The identifier masked as [`Identifier::masked`] does (personal values only).
    pub fn masked(identifier: &Identifier) -> SignerIdentifier {
        let value = identifier.masked();
        SignerIdentifier {
            kind: identifier.kind,
            masked: value != identifier.value,
            value,
            whole: identifier.value.clone(),
        }
    }

    /// `CCCD:********7890`.
    pub fn labelled(&self) -> String {
        match self.kind {
            IdentifierKind::Other => self.value.clone(),
            kind => format!("{}:{}", kind.prefix(), self.value),
        }
    }

    fn reveal(&mut self) {
        self.value.clone_from(&self.whole);
        self.masked = false;
    }
}

/// One certificate of the chain, leaf first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    /// Personal identifiers in it masked, as in [`Signer::subject`].
    pub subject: String,
    #[serde(skip)]
    pub(crate) subject_whole: Option<String>,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    /// How revocation was established for this certificate.
    pub revocation: String,
    /// The same in Vietnamese.
    pub revocation_vi: String,
}

/// The trust anchor a validated chain reached, and the national hierarchy it heads: an agency
/// receives documents under both of Vietnam's hierarchies for years, and a reader must see which.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustAnchor {
    pub subject: String,
    pub sha256: String,
    /// Where kyso's trust in it comes from: `bundle vn`, `config`, `user` or `given`.
    pub source: String,
    /// `vgca` (Government CA, Ban Cơ yếu Chính phủ) or `neac` (Vietnam National Root CA);
    /// `null` for an anchor outside a profile's bundle.
    pub hierarchy: Option<&'static str>,
    pub hierarchy_name: Option<&'static str>,
    pub hierarchy_name_vi: Option<&'static str>,
}

/// A change made after a signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The object, `12 0 R`.
    pub object: String,
    /// `added`, `modified` or `deleted`.
    pub kind: &'static str,
    /// 1-based page the object belongs to, when known.
    pub page: Option<usize>,
    /// The rule that explained it, or `other`.
    pub rule: &'static str,
    /// The rule's name in Vietnamese.
    pub rule_vi: &'static str,
    pub level: ModificationLevel,
}

/// The verdict on one signature, with its facts.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// PDF field name or XML signature Id (or position).
    pub name: String,
    /// `PAdES-B-B`, `PAdES-B-T`, `PAdES-B-LT`, `PKCS7`, `XAdES-B-B`, `XMLDSig`, `document timestamp`.
    pub format: String,
    pub indication: Indication,
    /// `subindication` on the wire, as issue 6 and the ETSI tables name it.
    #[serde(rename = "subindication")]
    pub sub_indication: Option<SubIndication>,
    /// Reasons, most important first: each `{code, message, message_vi}` on the wire.
    pub reasons: Vec<Reason>,
    /// Facts a reader should know that do not change the indication: changes the signature
    /// permits, a signature timestamp that could not be used, appearances added after signing.
    pub warnings: Vec<Reason>,
    pub intact: Facet,
    pub signature_valid: Facet,
    pub trusted: Facet,
    pub revocation: Facet,
    pub coverage: Coverage,
    pub modification: ModificationLevel,
    /// Whether the changes after signing are ones the signature permits (approval signatures
    /// permit later signatures, form filling and annotations; DocMDP and FieldMDP narrow that).
    pub changes_permitted: Facet,
    pub changes: Vec<Change>,
    pub signer: Option<Signer>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub signing_time: Option<OffsetDateTime>,
    pub signing_time_source: Option<TimeSource>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub timestamp_time: Option<OffsetDateTime>,
    /// The time of the earliest valid document time-stamp that covers the signature: its proof
    /// of existence when it has no time-stamp of its own, and what keeps it verifiable after its
    /// certificates expire (PAdES B-LTA, documents augmented with `kyso extend`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub archive_time: Option<OffsetDateTime>,
    pub chain: Vec<ChainLink>,
    /// The anchor the chain reached (`null` when no path validated).
    pub trust_anchor: Option<TrustAnchor>,
    pub signature_algorithm: Option<String>,
    /// XML: what the signature covers (`null` for PDF, whose coverage is its byte range).
    pub scope: Option<SignedScope>,
}

impl SignatureReport {
    /// A report that has checked nothing yet.
    pub fn new(name: String, format: &str) -> Self {
        SignatureReport {
            name,
            format: format.to_owned(),
            indication: Indication::Indeterminate,
            sub_indication: None,
            reasons: Vec::new(),
            warnings: Vec::new(),
            intact: Facet::Undetermined,
            signature_valid: Facet::Undetermined,
            trusted: Facet::Undetermined,
            revocation: Facet::Undetermined,
            coverage: Coverage::Unclear,
            modification: ModificationLevel::None,
            changes_permitted: Facet::Passed,
            changes: Vec::new(),
            signer: None,
            signing_time: None,
            signing_time_source: None,
            timestamp_time: None,
            archive_time: None,
            chain: Vec::new(),
            trust_anchor: None,
            signature_algorithm: None,
            scope: None,
        }
    }

    /// Whether this is a usage-rights signature (`/Perms /UR3`), not a signer's.
    pub fn is_usage_rights(&self) -> bool {
        self.format.starts_with("usage rights")
    }

    /// Records a failure. The first one recorded decides the indication (checks run from the
    /// most fundamental — format, hash, signature — to trust and revocation), except that a
    /// failure of the signed data itself ([`SubIndication::is_integrity_failure`]) found later,
    /// such as a change after signing that no rule permits, overrides any other: a document
    /// that was demonstrably altered is TOTAL-FAILED even when its chain is also in doubt. The
    /// deciding reason comes first.
    pub fn fail(&mut self, sub: SubIndication, reason: Reason) {
        match self.sub_indication {
            None => {
                self.reasons.push(reason);
                self.sub_indication = Some(sub);
                self.indication = sub.indication();
            }
            Some(current) if sub.is_integrity_failure() && !current.is_integrity_failure() => {
                self.reasons.insert(0, reason);
                self.sub_indication = Some(sub);
                self.indication = sub.indication();
            }
            Some(_) => self.reasons.push(reason),
        }
    }

    /// Combines the facets into the final indication: TOTAL-PASSED only when no failure was
    /// recorded and every facet passed.
    pub fn bottom_line(&mut self) {
        if self.changes_permitted == Facet::Failed
            && !self
                .sub_indication
                .is_some_and(SubIndication::is_integrity_failure)
        {
            self.fail(
                SubIndication::FormatFailure,
                Reason::ChangedBeyondPermission,
            );
            return;
        }
        if self.sub_indication.is_some() {
            return;
        }
        let facets = [
            self.intact,
            self.signature_valid,
            self.trusted,
            self.revocation,
            self.changes_permitted,
        ];
        if facets.iter().all(|f| *f == Facet::Passed) && self.coverage != Coverage::Unclear {
            self.indication = Indication::TotalPassed;
        } else {
            self.fail(SubIndication::TryLater, Reason::NotEverythingChecked);
        }
    }
}

/// The verdict on a whole document.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentReport {
    /// `pdf`, `xml`, `edxml` or `unknown`.
    pub format: String,
    /// SHA-256 of the document, hex: the ledger's idempotency key for audits.
    pub sha256: String,
    /// The document's worst indication; TOTAL-PASSED only if it has signatures and all passed.
    pub indication: Indication,
    /// `subindication` on the wire, as issue 6 and the ETSI tables name it.
    #[serde(rename = "subindication")]
    pub sub_indication: Option<SubIndication>,
    /// Why the document as a whole failed, when no signature could even be read.
    pub reasons: Vec<Reason>,
    pub signatures: Vec<SignatureReport>,
    #[serde(with = "time::serde::rfc3339")]
    pub validated_at: OffsetDateTime,
    /// edXML: the package's header, attachments (each with its own report) and checks; `null`
    /// for other documents. `signatures` are then the envelope's.
    pub package: Option<Box<crate::edxml::PackageReport>>,
    /// The Decree 30/2020/NĐ-CP form checks, when asked for (`--check decree30`); absent
    /// otherwise. They never change the indication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decree30: Option<super::decree30::Decree30Check>,
}

impl DocumentReport {
    /// Shows every signer's personal identifiers whole, the envelope's and each edXML
    /// attachment's: for callers whose role may see them (the API's auditors and admins, the
    /// CLI's `--reveal-identifiers`).
    pub fn reveal_identifiers(&mut self) {
        let attachments = self
            .package
            .iter_mut()
            .flat_map(|p| p.attachments.iter_mut())
            .filter_map(|a| a.report.as_mut());
        for report in attachments {
            report.reveal_identifiers();
        }
        for signature in &mut self.signatures {
            if let Some(signer) = &mut signature.signer {
                signer
                    .identifiers
                    .iter_mut()
                    .for_each(SignerIdentifier::reveal);
                if let Some(whole) = signer.subject_whole.take() {
                    signer.subject = whole;
                }
            }
            for link in &mut signature.chain {
                if let Some(whole) = link.subject_whole.take() {
                    link.subject = whole;
                }
            }
        }
    }

    /// Sets the document-level summary from the signatures.
    pub fn summarise(&mut self) {
        if self.signatures.is_empty() {
            if self.sub_indication.is_none() {
                self.indication = Indication::Indeterminate;
                self.sub_indication = Some(SubIndication::SignedDataNotFound);
                self.reasons.push(Reason::NoSignature);
            }
            return;
        }
        // A usage-rights signature (Adobe Reader extensions) says nothing about who approved
        // the document, and Reader itself stops honouring it once the document changes: it is
        // reported with its facts, but the document's verdict is its other signatures'.
        let judged: Vec<&SignatureReport> = self
            .signatures
            .iter()
            .filter(|s| !s.is_usage_rights())
            .collect();
        if judged.is_empty() {
            if self.sub_indication.is_none() {
                self.indication = Indication::Indeterminate;
                self.sub_indication = Some(SubIndication::SignedDataNotFound);
                self.reasons.push(Reason::OnlyUsageRights);
            }
            return;
        }
        let worst = judged
            .into_iter()
            .max_by_key(|s| match s.indication {
                Indication::TotalPassed => 0,
                Indication::Indeterminate => 1,
                Indication::TotalFailed => 2,
            })
            .map(|s| (s.indication, s.sub_indication));
        if let Some((indication, sub)) = worst {
            self.indication = indication;
            self.sub_indication = sub;
        }
    }

    /// Whether every signature is TOTAL-PASSED (the CLI's exit code 0).
    pub fn all_passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }
}
