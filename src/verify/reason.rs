//! Every reason and note a verdict gives, as a typed value that speaks both languages.
//!
//! A reason is a [`Reason`]: a variant with the facts it quotes (numbers, object ids, names as a
//! certificate writes them), never a ready-made English sentence. [`Reason::text`] renders it in
//! Vietnamese or English with one exhaustive `match` per language, so a variant without its
//! Vietnamese words does not compile, and the tests render every variant and refuse a
//! Vietnamese text that still holds English words. The JSON carries both renderings
//! (`message`, `message_vi`) beside a stable `code` (the variant's name in snake case) for
//! programs.
//!
//! Facts that come from the document or its certificates (a field name, a subject, a file name)
//! are data and appear as written, in Vietnamese text between “ ” quotes. Details that lower
//! layers only give as English text (a parser's message) stay in the English rendering; the
//! Vietnamese rendering states the fact without them, so a Vietnamese reader never meets an
//! English sentence.
//!
//! Refuses: free-form strings. A new check adds a variant here.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use time::OffsetDateTime;

use super::text::Language;
use super::verdict::SubIndication;
use crate::pdf::diff::ModificationLevel;
use crate::pki::PathError;
use crate::pki::RetiredUse;
use crate::pki::algorithm_policy::{Refusal, Weakness};
use crate::pki::signature::SignatureError;
use crate::pki::timestamp;

/// Why a verdict is what it is, or a fact a reader should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    // ── The document as a whole ──
    /// Neither `%PDF-` nor XML.
    NotPdfOrXml,
    /// No signature at all.
    NoSignature,
    /// Only an Adobe usage-rights signature.
    OnlyUsageRights,
    /// The PDF cannot be parsed (`detail`: the parser's words).
    PdfUnreadable {
        detail: String,
    },
    /// The PDF's form (where signatures live) cannot be parsed.
    PdfFormUnreadable {
        detail: String,
    },
    /// A signature field prepared and never signed.
    EmptyPlaceholder {
        field: String,
    },
    /// The XML parser refused the document (DTD, size, syntax).
    XmlNotAccepted {
        detail: String,
    },

    // ── A PDF signature's format and byte range ──
    /// The signature dictionary is in no revision of the file.
    DictionaryInNoRevision {
        object: String,
    },
    /// The signature's `/Contents` cannot be located in its revision.
    ContentsNotLocated {
        detail: String,
    },
    UnsupportedSubFilter {
        sub_filter: String,
    },
    NoContents,
    CmsUnreadable {
        detail: String,
    },
    ContentsTrailingData,
    SignerInfoCount {
        count: usize,
    },
    /// The unsigned parts of the CMS disagree with the SignerInfo.
    CmsEnvelope(CmsEnvelopeProblem),
    ByteRangeMalformed,
    ByteRangeOutsideFile {
        range: [usize; 4],
        length: usize,
    },
    ByteRangeGapNotContents {
        gap: (usize, usize),
        contents: (usize, usize),
    },
    ByteRangeOverlap {
        contents: (usize, usize),
    },
    SignedEndNotRevisionEnd {
        signed_end: usize,
        revision_end: usize,
    },
    /// A later revision rewrote the signature dictionary (`keys`: `/Reason`, `/M`, …).
    DictionaryRewritten {
        keys: Vec<String>,
    },

    // ── Integrity and the signed attributes ──
    UnsupportedDigest {
        oid: String,
    },
    Pkcs7Sha1WithoutDigest,
    Sha1DigestMismatch,
    DigestMismatch,
    NoSingleMessageDigest,
    ContentTypeNotData,
    SignerCertificateMissing,
    SigningCertificateAttribute(SigningCertificateProblem),
    SignerKeyUnreadable,
    SignatureValueInvalid,
    /// The signature algorithm or key cannot be checked (`error` says why).
    SignatureAlgorithm(SignatureError),
    /// The signature verifies, but what it uses is below the algorithm policy and no proof of
    /// existence before its cut-off date was found (ETSI EN 319 102-1 §5.2.8).
    AlgorithmRefused(Refusal),
    /// A warning: a retired algorithm accepted because a time-stamp proves the signature was
    /// made before its cut-off.
    RetiredAlgorithmAccepted {
        retired: Vec<(Weakness, time::Date)>,
    },
    /// A warning: a certificate of the chain uses a retired algorithm, accepted because the
    /// chain is validated at a time before its cut-off.
    RetiredInChain(RetiredUse),

    // ── Time ──
    /// A signature timestamp that could not be used (a note, or a reason for XML).
    TimestampIgnored(TimestampProblem),
    DocumentTimestampUnreadable {
        detail: String,
    },
    DocumentTimestampMismatch,
    DocumentTimestampInvalid(timestamp::Error),

    // ── Certificate path and revocation ──
    Path(PathError),
    NoKeyUsage,
    RevocationOff,

    // ── Changes after signing ──
    PagesAdded {
        pages: Vec<usize>,
    },
    PagesRemoved {
        pages: Vec<usize>,
    },
    ChangesNotPermitted(Box<ChangesBeyond>),
    ChangesPermitted {
        level: ModificationLevel,
        by: Permitter,
    },
    CertificationNotFirst,
    UsageRightsSignature,
    UnsignedFieldAppearance {
        widget: String,
        page: Option<usize>,
    },
    AppearanceAfterCertification {
        widget: String,
        page: Option<usize>,
    },
    NeedAppearances,
    AnnotationOverlap {
        added: String,
        other: String,
        page: usize,
    },
    /// The revisions after the signature cannot be parsed or compared.
    RevisionsUnreadable {
        detail: String,
    },
    RevisionsUnanalysable {
        detail: String,
    },
    /// What [`super::SignatureReport::bottom_line`] says when changes failed and nothing else did.
    ChangedBeyondPermission,
    /// Not every facet could be checked.
    NotEverythingChecked,

    // ── XML signatures ──
    /// The XML verifier's finding, by sub-indication (`detail`: its English words).
    XmlSignature {
        sub: SubIndication,
        detail: String,
    },
    XmlBelowPolicy {
        detail: String,
    },
    XmlUnsupported {
        feature: String,
    },
    XmlPartialScope {
        covered: Vec<String>,
        detached: Vec<String>,
        not_covered: Vec<String>,
    },
    XmlBareKey,
    XmlCertificateUnreadable,
    /// A reference resolved among repeated `Id`s inside signatures.
    XmlRepeatedId {
        id: String,
        count: usize,
        reference_line: u32,
        own: bool,
        target_line: u32,
    },
    /// A XAdES B-LTA archive time-stamp that does not cover the signature as it now stands, or
    /// does not verify.
    XmlArchiveTimestamp(ArchiveTimestampProblem),

    // ── edXML packages ──
    PackageUnreadable {
        detail: String,
    },
    PackageNotWellFormed,
    PackageTooManyAttachments {
        count: usize,
        limit: usize,
    },
    PackageUnsigned,
    PackageNestingLimit {
        limit: usize,
    },
    AttachmentUnreadable {
        detail: String,
    },
    AttachmentCoveredByEnvelope {
        label: String,
        kind: String,
    },
    AttachmentUncovered {
        label: String,
        kind: String,
    },
    PackageNoAttachment,
    /// kyso declared a prefix the package uses without declaring it.
    PrefixUndeclared {
        prefix: String,
        line: u32,
        column: u32,
        elements: usize,
        namespace: String,
    },
    /// `Signature` elements in the QCVN 102 namespace read as XMLDSig.
    SignatureNamespace {
        lines: Vec<u32>,
    },
    DuplicateContentId {
        id: String,
    },
    ManifestEntryMissing {
        id: String,
        name: Option<String>,
    },
    AttachmentNotInManifest {
        label: String,
    },
    /// The header says one thing, a signed attachment another (`field`: `number`, …).
    HeaderMismatch {
        field: &'static str,
        header: String,
        source: Option<String>,
        found: Option<String>,
    },
    /// The envelope's verdict when the XML verifier refused it as a whole.
    EnvelopeRefused(Box<Reason>),
    /// A signature of the package that did not pass, with its first reason.
    PackageSignature {
        what: PackagePart,
        name: String,
        indication: &'static str,
        first: Option<Box<Reason>>,
    },
}

/// Which of a package's signatures a reason is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackagePart {
    Envelope,
    Attachment,
}

/// Who permits changes after a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permitter {
    Approval,
    /// A certification signature with DocMDP `/P`.
    Certification {
        p: i64,
    },
}

/// Changes after signing that the signature does not permit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangesBeyond {
    pub by: Permitter,
    pub allowed: ModificationLevel,
    pub count: usize,
    pub pages: Vec<usize>,
    /// The first few, each with the rule that named it.
    pub shown: Vec<ChangeNamed>,
}

/// One changed object with the diff rule's words for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeNamed {
    pub object: String,
    pub kind: crate::pdf::diff::ChangeKind,
    pub page: Option<usize>,
    pub rule: &'static str,
    pub rule_vi: &'static str,
}

/// How the unsigned envelope of a CMS disagrees with its SignerInfo (RFC 5652 §5.1, §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmsEnvelopeProblem {
    Version { version: u64 },
    DigestNotListed,
    SignerInfoVersion { version: u64, expected: u64 },
    ContentTypeDiffers,
}

/// How the ESS signing-certificate attribute fails (RFC 5035).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningCertificateProblem {
    SeveralValues,
    Empty,
    UnsupportedDigest { oid: String },
    OtherCertificate,
}

/// Why a signature timestamp could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimestampProblem {
    SeveralTokens,
    Unreadable { detail: String },
    Invalid(timestamp::Error),
}

/// Why a XAdES archive time-stamp fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchiveTimestampProblem {
    /// Its imprint is not the digest of the signature and the properties before it: something
    /// it covers changed after archiving.
    Mismatch,
    /// The token does not verify (its TSA's path, its signature, a token that is not one).
    Invalid(TimestampProblem),
}

impl Reason {
    /// A stable machine name: the variant's, in snake case.
    pub fn code(&self) -> &'static str {
        use Reason::*;
        match self {
            NotPdfOrXml => "not_pdf_or_xml",
            NoSignature => "no_signature",
            OnlyUsageRights => "only_usage_rights",
            PdfUnreadable { .. } => "pdf_unreadable",
            PdfFormUnreadable { .. } => "pdf_form_unreadable",
            EmptyPlaceholder { .. } => "empty_placeholder",
            XmlNotAccepted { .. } => "xml_not_accepted",
            DictionaryInNoRevision { .. } => "dictionary_in_no_revision",
            ContentsNotLocated { .. } => "contents_not_located",
            UnsupportedSubFilter { .. } => "unsupported_sub_filter",
            NoContents => "no_contents",
            CmsUnreadable { .. } => "cms_unreadable",
            ContentsTrailingData => "contents_trailing_data",
            SignerInfoCount { .. } => "signer_info_count",
            CmsEnvelope(_) => "cms_envelope",
            ByteRangeMalformed => "byte_range_malformed",
            ByteRangeOutsideFile { .. } => "byte_range_outside_file",
            ByteRangeGapNotContents { .. } => "byte_range_gap_not_contents",
            ByteRangeOverlap { .. } => "byte_range_overlap",
            SignedEndNotRevisionEnd { .. } => "signed_end_not_revision_end",
            DictionaryRewritten { .. } => "dictionary_rewritten",
            UnsupportedDigest { .. } => "unsupported_digest",
            Pkcs7Sha1WithoutDigest => "pkcs7_sha1_without_digest",
            Sha1DigestMismatch => "sha1_digest_mismatch",
            DigestMismatch => "digest_mismatch",
            NoSingleMessageDigest => "no_single_message_digest",
            ContentTypeNotData => "content_type_not_data",
            SignerCertificateMissing => "signer_certificate_missing",
            SigningCertificateAttribute(_) => "signing_certificate_attribute",
            SignerKeyUnreadable => "signer_key_unreadable",
            SignatureValueInvalid => "signature_value_invalid",
            SignatureAlgorithm(_) => "signature_algorithm",
            AlgorithmRefused(_) => "algorithm_refused",
            RetiredAlgorithmAccepted { .. } => "retired_algorithm_accepted",
            RetiredInChain(_) => "retired_in_chain",
            TimestampIgnored(_) => "timestamp_ignored",
            DocumentTimestampUnreadable { .. } => "document_timestamp_unreadable",
            DocumentTimestampMismatch => "document_timestamp_mismatch",
            DocumentTimestampInvalid(_) => "document_timestamp_invalid",
            Path(_) => "certificate_path",
            NoKeyUsage => "no_key_usage",
            RevocationOff => "revocation_off",
            PagesAdded { .. } => "pages_added",
            PagesRemoved { .. } => "pages_removed",
            ChangesNotPermitted(_) => "changes_not_permitted",
            ChangesPermitted { .. } => "changes_permitted",
            CertificationNotFirst => "certification_not_first",
            UsageRightsSignature => "usage_rights_signature",
            UnsignedFieldAppearance { .. } => "unsigned_field_appearance",
            AppearanceAfterCertification { .. } => "appearance_after_certification",
            NeedAppearances => "need_appearances",
            AnnotationOverlap { .. } => "annotation_overlap",
            ChangedBeyondPermission => "changed_beyond_permission",
            RevisionsUnreadable { .. } => "revisions_unreadable",
            RevisionsUnanalysable { .. } => "revisions_unanalysable",
            XmlRepeatedId { .. } => "xml_repeated_id",
            XmlArchiveTimestamp(_) => "xml_archive_timestamp",
            NotEverythingChecked => "not_everything_checked",
            XmlSignature { .. } => "xml_signature",
            XmlBelowPolicy { .. } => "xml_below_policy",
            XmlUnsupported { .. } => "xml_unsupported",
            XmlPartialScope { .. } => "xml_partial_scope",
            XmlBareKey => "xml_bare_key",
            XmlCertificateUnreadable => "xml_certificate_unreadable",
            PackageUnreadable { .. } => "package_unreadable",
            PackageNotWellFormed => "package_not_well_formed",
            PackageTooManyAttachments { .. } => "package_too_many_attachments",
            PackageUnsigned => "package_unsigned",
            PackageNestingLimit { .. } => "package_nesting_limit",
            AttachmentUnreadable { .. } => "attachment_unreadable",
            AttachmentCoveredByEnvelope { .. } => "attachment_covered_by_envelope",
            AttachmentUncovered { .. } => "attachment_uncovered",
            EnvelopeRefused(_) => "envelope_refused",
            PackageNoAttachment => "package_no_attachment",
            PrefixUndeclared { .. } => "prefix_undeclared",
            SignatureNamespace { .. } => "signature_namespace",
            DuplicateContentId { .. } => "duplicate_content_id",
            ManifestEntryMissing { .. } => "manifest_entry_missing",
            AttachmentNotInManifest { .. } => "attachment_not_in_manifest",
            HeaderMismatch { .. } => "header_mismatch",
            PackageSignature { .. } => "package_signature",
        }
    }

    /// The reason in `language`.
    pub fn text(&self, language: Language) -> String {
        match language {
            Language::Vietnamese => self.vietnamese(),
            Language::English => self.english(),
        }
    }

    /// English words (the JSON's `message`).
    pub fn english(&self) -> String {
        use Reason::*;
        match self {
            NotPdfOrXml => "neither a PDF nor an XML document".to_owned(),
            NoSignature => "the document carries no signature".to_owned(),
            OnlyUsageRights => {
                "the document carries no signature besides a usage-rights signature".to_owned()
            }
            PdfUnreadable { detail } => format!("the PDF cannot be read: {detail}"),
            PdfFormUnreadable { detail } => format!("the PDF's form cannot be read: {detail}"),
            EmptyPlaceholder { field } => format!(
                "{field} is an empty signature placeholder (its /Contents holds only zeros): not a signature"
            ),
            XmlNotAccepted { detail } => format!("the XML document is not accepted: {detail}"),
            DictionaryInNoRevision { object } => {
                format!("signature dictionary {object} is not in any revision of the file")
            }
            ContentsNotLocated { detail } => {
                format!("the signature's /Contents cannot be located: {detail}")
            }
            UnsupportedSubFilter { sub_filter } => format!(
                "signature format /{sub_filter} is not supported (only ETSI.CAdES.detached, adbe.pkcs7.detached, adbe.pkcs7.sha1 and ETSI.RFC3161)"
            ),
            NoContents => "the signature has no /Contents string".to_owned(),
            CmsUnreadable { detail } => format!("the CMS cannot be read: {detail}"),
            ContentsTrailingData => {
                "/Contents holds data after the CMS that is not zero padding".to_owned()
            }
            SignerInfoCount { count } => {
                format!("the CMS has {count} SignerInfos; a PDF signature has exactly one")
            }
            CmsEnvelope(problem) => match problem {
                CmsEnvelopeProblem::Version { version } => {
                    format!("SignedData version {version} is not a CMS version")
                }
                CmsEnvelopeProblem::DigestNotListed => {
                    "the SignerInfo's digest algorithm is not listed in digestAlgorithms".to_owned()
                }
                CmsEnvelopeProblem::SignerInfoVersion { version, expected } => format!(
                    "SignerInfo version {version} does not match its signer identifier (expected {expected})"
                ),
                CmsEnvelopeProblem::ContentTypeDiffers => {
                    "the signed content type differs from the SignedData's eContentType".to_owned()
                }
            },
            ByteRangeMalformed => {
                "/ByteRange is missing or not four non-negative integers starting at 0".to_owned()
            }
            ByteRangeOutsideFile { range: [z, a, b, c], length } => {
                format!("/ByteRange [{z} {a} {b} {c}] does not fit in the {length}-byte file")
            }
            ByteRangeGapNotContents { gap: (a, b), contents: (start, end) } => format!(
                "/ByteRange leaves out bytes {a}..{b}, but this signature's /Contents lies at {start}..{end}: the signed bytes are not the document this signature describes"
            ),
            ByteRangeOverlap { contents: (start, end) } => {
                format!("/ByteRange overlaps another signature's /Contents at {start}..{end}")
            }
            SignedEndNotRevisionEnd { signed_end, revision_end } => format!(
                "the signed bytes end at {signed_end}, which is not the end (%%EOF) of the revision holding this signature's dictionary (it ends at {revision_end})"
            ),
            DictionaryRewritten { keys } => format!(
                "the signature dictionary was rewritten after signing ({} changed): what a reader shows for it is not what was signed",
                keys.join(", ")
            ),
            UnsupportedDigest { oid } => format!("digest algorithm {oid} is not supported"),
            Pkcs7Sha1WithoutDigest => {
                "an adbe.pkcs7.sha1 signature without the encapsulated digest of the document"
                    .to_owned()
            }
            Sha1DigestMismatch => "the signed bytes were changed: their SHA-1 digest differs from the one the signature encapsulates".to_owned(),
            DigestMismatch => {
                "the signed bytes were changed: their digest differs from the one signed".to_owned()
            }
            NoSingleMessageDigest => "the signed attributes have no single messageDigest".to_owned(),
            ContentTypeNotData => "the signed attributes' content type is not id-data".to_owned(),
            SignerCertificateMissing => {
                "the signer's certificate is not in the signature or the document".to_owned()
            }
            SigningCertificateAttribute(problem) => match problem {
                SigningCertificateProblem::SeveralValues => {
                    "signingCertificateV2 holds more than one value".to_owned()
                }
                SigningCertificateProblem::Empty => "signingCertificateV2 is empty".to_owned(),
                SigningCertificateProblem::UnsupportedDigest { oid } => {
                    format!("signingCertificateV2: digest algorithm {oid} is not supported")
                }
                SigningCertificateProblem::OtherCertificate => "the signing-certificate attribute names another certificate than the one that signed".to_owned(),
            },
            SignerKeyUnreadable => "the signer's public key cannot be read".to_owned(),
            SignatureValueInvalid => {
                "the signature value does not verify with the signer's key".to_owned()
            }
            SignatureAlgorithm(error) => error.to_string(),
            AlgorithmRefused(refusal) => {
                format!("the signature is intact, but {refusal} (algorithm policy)")
            }
            RetiredAlgorithmAccepted { retired } => format!(
                "the signature uses {}: its time-stamp proves it was made before then",
                crate::pki::algorithm_policy::retired_words(retired)
            ),
            RetiredInChain(retired) => format!("certificate path: {retired} (algorithm policy)"),
            TimestampIgnored(problem) => format!(
                "the signature timestamp is not valid and was ignored: {}",
                match problem {
                    TimestampProblem::SeveralTokens =>
                        "the timestamp attribute holds more than one token".to_owned(),
                    TimestampProblem::Unreadable { detail } => detail.clone(),
                    TimestampProblem::Invalid(e) => e.to_string(),
                }
            ),
            DocumentTimestampUnreadable { detail } => {
                format!("the document timestamp cannot be read: {detail}")
            }
            DocumentTimestampMismatch => "the document timestamp does not match the document".to_owned(),
            DocumentTimestampInvalid(e) => {
                format!("the document timestamp could not be validated: {e}")
            }
            Path(e) => format!("certificate path: {e}"),
            NoKeyUsage => "the signer's certificate has no keyUsage extension: RFC 5280 then puts no restriction on the key, but the certificate does not say it is meant for signatures (set [verify] require_key_usage to refuse such signers)".to_owned(),
            RevocationOff => {
                "revocation was not checked (turned off): the verdict cannot be TOTAL-PASSED"
                    .to_owned()
            }
            PagesAdded { pages } => format!("page(s) {} added after signing", list(pages)),
            PagesRemoved { pages } => {
                format!("page(s) {} of the signed document removed after signing", list(pages))
            }
            ChangesNotPermitted(beyond) => {
                let shown: Vec<String> = beyond
                    .shown
                    .iter()
                    .map(|c| {
                        let page = c.page.map(|p| format!(", page {p}")).unwrap_or_default();
                        format!("{} {}{page}: {}", c.object, c.kind.as_str(), c.rule)
                    })
                    .collect();
                format!(
                    "changed after signing beyond what {} permits ({}): {} object(s){}: {}{}",
                    permitter_en(beyond.by),
                    level_en(beyond.allowed),
                    beyond.count,
                    if beyond.pages.is_empty() {
                        String::new()
                    } else {
                        format!(" on page(s) {}", list(&beyond.pages))
                    },
                    shown.join("; "),
                    if beyond.count > shown.len() { "; …" } else { "" }
                )
            }
            ChangesPermitted { level, by } => format!(
                "the document was changed after signing ({}), as {} permits",
                level_en(*level),
                permitter_en(*by)
            ),
            CertificationNotFirst => "a certification signature that is not the first signature of the document (ISO 32000-2 §12.8.2.2 wants it first)".to_owned(),
            UsageRightsSignature => "a usage-rights signature (Adobe Reader extensions): it enables reader features and says nothing about who approved the document".to_owned(),
            UnsignedFieldAppearance { widget, page } => format!(
                "signature field {widget} added after signing shows an appearance{} but holds no signature",
                page.map(|p| format!(" on page {p}")).unwrap_or_default()
            ),
            AppearanceAfterCertification { widget, page } => format!(
                "a signature added after certification shows its own appearance{} (widget {widget}): check that it does not cover the certified content",
                page.map(|p| format!(" on page {p}")).unwrap_or_default()
            ),
            NeedAppearances => "the form was set to have readers redraw every field (NeedAppearances) after signing: a field may now show text other than the appearance that was signed".to_owned(),
            AnnotationOverlap { added, other, page } => format!(
                "annotation {added} added after signing overlaps annotation {other} on page {page}"
            ),
            ChangedBeyondPermission => {
                "the document was changed after signing in a way the signature does not permit"
                    .to_owned()
            }
            NotEverythingChecked => "not every check could be completed".to_owned(),
            RevisionsUnreadable { detail } => {
                format!("the later revisions cannot be read: {detail}")
            }
            RevisionsUnanalysable { detail } => {
                format!("the later revisions cannot be analysed: {detail}")
            }
            XmlRepeatedId { id, count, reference_line, own, target_line } => format!(
                "Id {id:?} appears {count} times inside signatures; the reference at line {reference_line} reached {} at line {target_line}",
                if *own { "this signature's own" } else { "another signature's" }
            ),
            XmlArchiveTimestamp(problem) => match problem {
                ArchiveTimestampProblem::Mismatch => "the archive time-stamp does not match the signature and its validation data: they changed after archiving".to_owned(),
                ArchiveTimestampProblem::Invalid(TimestampProblem::Invalid(e)) => {
                    format!("the archive time-stamp does not verify: {e}")
                }
                ArchiveTimestampProblem::Invalid(TimestampProblem::Unreadable { detail }) => {
                    format!("the archive time-stamp cannot be read: {detail}")
                }
                ArchiveTimestampProblem::Invalid(TimestampProblem::SeveralTokens) => {
                    "the archive time-stamp holds more than one token".to_owned()
                }
            },
            XmlSignature { detail, .. } => detail.clone(),
            XmlBelowPolicy { detail } => detail.clone(),
            XmlUnsupported { feature } => {
                format!("the signature uses {feature}, which kyso does not support")
            }
            XmlPartialScope { covered, detached, not_covered } => {
                let parts: Vec<String> = covered
                    .iter()
                    .cloned()
                    .chain(detached.iter().map(|d| format!("detached document {d}")))
                    .collect();
                let mut words =
                    format!("the signature covers part of the document: {}", parts.join(", "));
                if !not_covered.is_empty() {
                    words.push_str(&format!("; not covered: {}", not_covered.join(", ")));
                }
                words
            }
            XmlBareKey => {
                "the signature was verified with a bare key, not a certificate: nothing to trust"
                    .to_owned()
            }
            XmlCertificateUnreadable => "the signer's certificate cannot be read".to_owned(),
            PackageUnreadable { detail } => format!("the edXML package cannot be read: {detail}"),
            PackageNotWellFormed => "the package is not namespace-well-formed (see the package warnings): this signature was checked over the package as libxml2 reads it in recovery, which is what producers on libxml2 sign; a strictly namespace-aware verifier cannot read it at all".to_owned(),
            PackageTooManyAttachments { count, limit } => {
                format!("the package carries {count} attachments; kyso verifies at most {limit}")
            }
            PackageUnsigned => "the package carries no signature: neither the envelope nor any attachment is signed".to_owned(),
            PackageNestingLimit { limit } => format!(
                "a package inside a package inside a package: kyso verifies {limit} level(s) of nesting"
            ),
            AttachmentUnreadable { detail } => format!("the attachment cannot be read: {detail}"),
            AttachmentCoveredByEnvelope { label, kind } => format!(
                "attachment {label} ({kind}) has no signature of its own to check; the envelope signature covers it"
            ),
            AttachmentUncovered { label, kind } => format!(
                "attachment {label} ({kind}) has no signature of its own to check, and no intact envelope signature covers it"
            ),
            EnvelopeRefused(reason) => format!("envelope signature: {}", reason.english()),
            PackageNoAttachment => "the package carries no attachment".to_owned(),
            PrefixUndeclared { prefix, line, column, elements, namespace } => format!(
                "the package is not namespace-well-formed: the prefix {prefix}: is used without a namespace declaration (first at line {line}, column {column}, on {elements} element(s)); kyso read it as {namespace} for the package's structure and, as libxml2 does in recovery, as part of a plain name for its signatures"
            ),
            SignatureNamespace { lines } => format!(
                "the Signature element on line(s) {} has no namespace of its own and so is in the QCVN 102:2016 namespace, not XMLDSig's: kyso read it as an XMLDSig signature",
                lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
            DuplicateContentId { id } => format!(
                "two attachments carry the content id cid:{id}: which one the manifest means is ambiguous"
            ),
            ManifestEntryMissing { id, name } => format!(
                "the manifest lists cid:{id}{}, which the package does not carry",
                name.as_deref().map(|n| format!(" \"{n}\"")).unwrap_or_default()
            ),
            AttachmentNotInManifest { label } => {
                format!("attachment {label} is not listed in the manifest")
            }
            HeaderMismatch { field, header, source, found } => format!(
                "the header's {field} is {header:?}, but {} says {:?}",
                source.as_deref().unwrap_or("the attachment"),
                found.as_deref().unwrap_or("")
            ),
            PackageSignature { what, name, indication, first } => format!(
                "{} {name}: {indication} — {}",
                match what {
                    PackagePart::Envelope => "envelope signature",
                    PackagePart::Attachment => "attachment",
                },
                first.as_ref().map(|r| r.english()).unwrap_or_default()
            ),
        }
    }

    /// Vietnamese words (the JSON's `message_vi`; the clerks' language). Data is quoted “ ”.
    pub fn vietnamese(&self) -> String {
        use Reason::*;
        match self {
            NotPdfOrXml => "tệp không phải tài liệu PDF hay XML".to_owned(),
            NoSignature => "tài liệu không có chữ ký số".to_owned(),
            OnlyUsageRights => {
                "tài liệu không có chữ ký số nào ngoài chữ ký cấp quyền sử dụng của phần mềm đọc"
                    .to_owned()
            }
            PdfUnreadable { .. } => "không đọc được tệp PDF (cấu trúc tệp bị hỏng)".to_owned(),
            PdfFormUnreadable { .. } => {
                "không đọc được biểu mẫu của tệp PDF, nơi lưu các chữ ký".to_owned()
            }
            EmptyPlaceholder { field } => format!(
                "trường chữ ký {} là ô để trống (phần nội dung chữ ký toàn số 0): không phải chữ ký",
                quoted(field)
            ),
            XmlNotAccepted { .. } => {
                "tài liệu XML bị từ chối: cú pháp sai, quá lớn hoặc có khai báo kiểu tài liệu (DTD) không được chấp nhận".to_owned()
            }
            DictionaryInNoRevision { object } => format!(
                "từ điển chữ ký {} không nằm trong phiên bản nào của tệp",
                quoted(object)
            ),
            ContentsNotLocated { .. } => {
                "không xác định được vị trí phần nội dung chữ ký (/Contents) trong tệp".to_owned()
            }
            UnsupportedSubFilter { sub_filter } => format!(
                "định dạng chữ ký {} không được hỗ trợ (chỉ hỗ trợ “ETSI.CAdES.detached”, “adbe.pkcs7.detached”, “adbe.pkcs7.sha1” và “ETSI.RFC3161”)",
                quoted(&format!("/{sub_filter}"))
            ),
            NoContents => "chữ ký không có phần nội dung (/Contents)".to_owned(),
            CmsUnreadable { .. } => {
                "không đọc được cấu trúc chữ ký (CMS): dữ liệu sai định dạng".to_owned()
            }
            ContentsTrailingData => {
                "phần nội dung chữ ký (/Contents) chứa dữ liệu lạ sau cấu trúc CMS".to_owned()
            }
            SignerInfoCount { count } => format!(
                "cấu trúc CMS có {count} thông tin người ký (SignerInfo); chữ ký PDF phải có đúng một"
            ),
            CmsEnvelope(problem) => match problem {
                CmsEnvelopeProblem::Version { version } => {
                    format!("phiên bản SignedData {version} không phải phiên bản CMS hợp lệ")
                }
                CmsEnvelopeProblem::DigestNotListed => {
                    "thuật toán băm của SignerInfo không có trong danh sách digestAlgorithms"
                        .to_owned()
                }
                CmsEnvelopeProblem::SignerInfoVersion { version, expected } => format!(
                    "phiên bản SignerInfo {version} không khớp với cách định danh người ký (phải là {expected})"
                ),
                CmsEnvelopeProblem::ContentTypeDiffers => {
                    "kiểu nội dung đã ký khác với eContentType của SignedData".to_owned()
                }
            },
            ByteRangeMalformed => {
                "/ByteRange bị thiếu hoặc không phải bốn số nguyên không âm bắt đầu bằng 0"
                    .to_owned()
            }
            ByteRangeOutsideFile { range: [z, a, b, c], length } => format!(
                "/ByteRange [{z} {a} {b} {c}] vượt ra ngoài tệp dài {length} byte"
            ),
            ByteRangeGapNotContents { gap: (a, b), contents: (start, end) } => format!(
                "/ByteRange bỏ qua các byte {a}..{b}, nhưng phần nội dung chữ ký này nằm ở {start}..{end}: dữ liệu được ký không phải tài liệu mà chữ ký này mô tả"
            ),
            ByteRangeOverlap { contents: (start, end) } => format!(
                "/ByteRange chồng lên phần nội dung của một chữ ký khác tại {start}..{end}"
            ),
            SignedEndNotRevisionEnd { signed_end, revision_end } => format!(
                "dữ liệu được ký kết thúc tại byte {signed_end}, không phải cuối phiên bản chứa từ điển chữ ký này (kết thúc tại byte {revision_end})"
            ),
            DictionaryRewritten { keys } => format!(
                "từ điển chữ ký bị ghi lại sau khi ký (thay đổi {}): điều phần mềm đọc hiển thị không phải điều đã được ký",
                keys.iter().map(|k| quoted(k)).collect::<Vec<_>>().join(", ")
            ),
            UnsupportedDigest { oid } => {
                format!("thuật toán băm {} không được hỗ trợ", quoted(oid))
            }
            Pkcs7Sha1WithoutDigest => {
                "chữ ký “adbe.pkcs7.sha1” không chứa giá trị băm của tài liệu".to_owned()
            }
            Sha1DigestMismatch => "dữ liệu được ký đã bị thay đổi: giá trị băm SHA-1 khác với giá trị chữ ký mang theo".to_owned(),
            DigestMismatch => {
                "dữ liệu được ký đã bị thay đổi: giá trị băm khác với giá trị đã ký".to_owned()
            }
            NoSingleMessageDigest => {
                "các thuộc tính được ký không có đúng một giá trị băm (messageDigest)".to_owned()
            }
            ContentTypeNotData => {
                "kiểu nội dung trong các thuộc tính được ký không phải “id-data”".to_owned()
            }
            SignerCertificateMissing => {
                "không tìm thấy chứng thư số của người ký trong chữ ký hay trong tài liệu"
                    .to_owned()
            }
            SigningCertificateAttribute(problem) => match problem {
                SigningCertificateProblem::SeveralValues => {
                    "thuộc tính chứng thư người ký (signingCertificateV2) có nhiều hơn một giá trị"
                        .to_owned()
                }
                SigningCertificateProblem::Empty => {
                    "thuộc tính chứng thư người ký (signingCertificateV2) để trống".to_owned()
                }
                SigningCertificateProblem::UnsupportedDigest { oid } => format!(
                    "thuộc tính chứng thư người ký (signingCertificateV2) dùng thuật toán băm {} không được hỗ trợ",
                    quoted(oid)
                ),
                SigningCertificateProblem::OtherCertificate => "thuộc tính chứng thư người ký chỉ đến một chứng thư khác với chứng thư đã ký".to_owned(),
            },
            SignerKeyUnreadable => "không đọc được khóa công khai của người ký".to_owned(),
            SignatureValueInvalid => {
                "giá trị chữ ký không khớp với khóa của người ký".to_owned()
            }
            SignatureAlgorithm(error) => signature_error_vi(error),
            AlgorithmRefused(refusal) => format!(
                "chữ ký còn nguyên vẹn, nhưng {} (chính sách thuật toán)",
                refusal_vi(refusal)
            ),
            RetiredAlgorithmAccepted { retired } => format!(
                "chữ ký dùng {}: dấu thời gian chứng minh chữ ký được tạo trước thời hạn đó",
                retired
                    .iter()
                    .map(|(w, until)| format!(
                        "{} (chỉ chấp nhận cho chữ ký tạo trước ngày {})",
                        weakness_vi(*w),
                        date_vi(*until)
                    ))
                    .collect::<Vec<_>>()
                    .join(" và ")
            ),
            RetiredInChain(retired) => format!(
                "chuỗi chứng thư: chứng thư “{}” dùng {}, được chấp nhận vì chuỗi được kiểm tra tại thời điểm trước ngày {} (chính sách thuật toán)",
                retired.certificate,
                weakness_vi(retired.weakness),
                date_vi(retired.until)
            ),
            TimestampIgnored(problem) => format!(
                "dấu thời gian của chữ ký không hợp lệ nên không được dùng: {}",
                match problem {
                    TimestampProblem::SeveralTokens =>
                        "thuộc tính dấu thời gian chứa nhiều hơn một dấu".to_owned(),
                    TimestampProblem::Unreadable { .. } =>
                        "không đọc được dấu thời gian".to_owned(),
                    TimestampProblem::Invalid(e) => timestamp_error_vi(e),
                }
            ),
            DocumentTimestampUnreadable { .. } => {
                "không đọc được dấu thời gian của tài liệu".to_owned()
            }
            DocumentTimestampMismatch => {
                "dấu thời gian của tài liệu không khớp với tài liệu".to_owned()
            }
            DocumentTimestampInvalid(e) => format!(
                "không xác thực được dấu thời gian của tài liệu: {}",
                timestamp_error_vi(e)
            ),
            Path(e) => format!("chuỗi chứng thư: {}", path_error_vi(e)),
            NoKeyUsage => "chứng thư số của người ký không có phần mở rộng mục đích sử dụng khóa (keyUsage): theo RFC 5280 khóa khi đó không bị hạn chế, nhưng chứng thư không nói rằng nó dùng để ký (đặt “[verify] require_key_usage” để từ chối những người ký như vậy)".to_owned(),
            RevocationOff => "tình trạng thu hồi không được kiểm tra (đã tắt): kết luận không thể là TOTAL-PASSED".to_owned(),
            PagesAdded { pages } => format!("trang {} được thêm vào sau khi ký", list(pages)),
            PagesRemoved { pages } => {
                format!("trang {} của tài liệu đã ký bị xóa sau khi ký", list(pages))
            }
            ChangesNotPermitted(beyond) => {
                let shown: Vec<String> = beyond
                    .shown
                    .iter()
                    .map(|c| {
                        let page = c.page.map(|p| format!(", trang {p}")).unwrap_or_default();
                        format!("{} {}{page}: {}", c.object, change_kind_vi(c.kind), c.rule_vi)
                    })
                    .collect();
                format!(
                    "tài liệu bị thay đổi sau khi ký vượt quá điều {} cho phép ({}): {} đối tượng{}: {}{}",
                    permitter_vi(beyond.by),
                    level_vi(beyond.allowed),
                    beyond.count,
                    if beyond.pages.is_empty() {
                        String::new()
                    } else {
                        format!(" trên trang {}", list(&beyond.pages))
                    },
                    shown.join("; "),
                    if beyond.count > shown.len() { "; …" } else { "" }
                )
            }
            ChangesPermitted { level, by } => format!(
                "tài liệu được thay đổi sau khi ký ({}), trong phạm vi {} cho phép",
                level_vi(*level),
                permitter_vi(*by)
            ),
            CertificationNotFirst => "chữ ký chứng nhận tài liệu không phải chữ ký đầu tiên của tài liệu (ISO 32000-2 §12.8.2.2 yêu cầu nó đứng đầu)".to_owned(),
            UsageRightsSignature => "chữ ký cấp quyền sử dụng (phần mở rộng của “Adobe Reader”): nó bật các tính năng của phần mềm đọc và không cho biết ai đã phê duyệt tài liệu".to_owned(),
            UnsignedFieldAppearance { widget, page } => format!(
                "trường chữ ký {} được thêm sau khi ký hiển thị hình chữ ký{} nhưng không chứa chữ ký nào",
                quoted(widget),
                page.map(|p| format!(" trên trang {p}")).unwrap_or_default()
            ),
            AppearanceAfterCertification { widget, page } => format!(
                "một chữ ký thêm sau khi chứng nhận hiển thị hình của nó{} (ô {}): cần kiểm tra xem nó có che nội dung đã chứng nhận không",
                page.map(|p| format!(" trên trang {p}")).unwrap_or_default(),
                quoted(widget)
            ),
            NeedAppearances => "sau khi ký, biểu mẫu được đặt để phần mềm đọc vẽ lại mọi trường (NeedAppearances): một trường có thể đang hiển thị nội dung khác với hình đã được ký".to_owned(),
            AnnotationOverlap { added, other, page } => format!(
                "chú thích {} thêm sau khi ký chồng lên chú thích {} trên trang {page}",
                quoted(added),
                quoted(other)
            ),
            ChangedBeyondPermission => {
                "tài liệu bị thay đổi sau khi ký theo cách chữ ký không cho phép".to_owned()
            }
            NotEverythingChecked => "chưa hoàn thành được mọi bước kiểm tra".to_owned(),
            RevisionsUnreadable { .. } => {
                "không đọc được các phiên bản được ghi sau chữ ký".to_owned()
            }
            RevisionsUnanalysable { .. } => {
                "không phân tích được các thay đổi trong các phiên bản sau chữ ký".to_owned()
            }
            XmlRepeatedId { id, count, reference_line, own, target_line } => format!(
                "định danh {} xuất hiện {count} lần bên trong các chữ ký; tham chiếu ở dòng {reference_line} trỏ đến phần tử {} ở dòng {target_line}",
                quoted(id),
                if *own { "của chính chữ ký này" } else { "của một chữ ký khác" }
            ),
            XmlArchiveTimestamp(problem) => match problem {
                ArchiveTimestampProblem::Mismatch => "dấu thời gian lưu trữ không khớp với chữ ký và dữ liệu kiểm tra kèm theo: chúng đã bị thay đổi sau khi lưu trữ".to_owned(),
                ArchiveTimestampProblem::Invalid(TimestampProblem::Invalid(e)) => format!(
                    "dấu thời gian lưu trữ không hợp lệ: {}",
                    timestamp_error_vi(e)
                ),
                ArchiveTimestampProblem::Invalid(TimestampProblem::Unreadable { .. }) => {
                    "không đọc được dấu thời gian lưu trữ".to_owned()
                }
                ArchiveTimestampProblem::Invalid(TimestampProblem::SeveralTokens) => {
                    "dấu thời gian lưu trữ chứa nhiều hơn một dấu".to_owned()
                }
            },
            XmlSignature { sub, .. } => xml_finding_vi(*sub).to_owned(),
            XmlBelowPolicy { .. } => "chữ ký còn nguyên vẹn, nhưng thuật toán hoặc độ dài khóa dưới mức chính sách thuật toán và không có gì chứng minh chữ ký được tạo trước khi chúng bị loại bỏ".to_owned(),
            XmlUnsupported { feature } => format!(
                "chữ ký dùng {}, kyso không hỗ trợ",
                quoted(feature)
            ),
            XmlPartialScope { covered, detached, not_covered } => {
                let parts: Vec<String> = covered
                    .iter()
                    .map(|c| quoted(c))
                    .chain(detached.iter().map(|d| format!("tài liệu tách rời {}", quoted(d))))
                    .collect();
                let mut words =
                    format!("chữ ký chỉ bao phủ một phần tài liệu: {}", parts.join(", "));
                if !not_covered.is_empty() {
                    words.push_str(&format!(
                        "; phần không được ký: {}",
                        not_covered.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ")
                    ));
                }
                words
            }
            XmlBareKey => "chữ ký được kiểm tra bằng một khóa trần, không có chứng thư số: không có gì để tin cậy".to_owned(),
            XmlCertificateUnreadable => "không đọc được chứng thư số của người ký".to_owned(),
            PackageUnreadable { .. } => "không đọc được gói tin edXML".to_owned(),
            PackageNotWellFormed => "gói tin không đúng quy tắc không gian tên XML (xem các lưu ý của gói tin): chữ ký này được kiểm tra trên gói tin như thư viện “libxml2” đọc ở chế độ phục hồi, đúng như các phần mềm dùng “libxml2” đã ký; một bộ kiểm tra chặt chẽ sẽ không đọc được gói tin".to_owned(),
            PackageTooManyAttachments { count, limit } => format!(
                "gói tin có {count} tệp đính kèm; kyso kiểm tra tối đa {limit} tệp"
            ),
            PackageUnsigned => "gói tin không có chữ ký số: cả phần bao lẫn các tệp đính kèm đều không được ký".to_owned(),
            PackageNestingLimit { limit } => format!(
                "gói tin lồng trong gói tin quá sâu: kyso kiểm tra tối đa {limit} cấp lồng nhau"
            ),
            AttachmentUnreadable { .. } => {
                "không đọc được tệp đính kèm (mã hóa hoặc nén sai, hoặc vượt giới hạn)".to_owned()
            }
            AttachmentCoveredByEnvelope { label, kind } => format!(
                "tệp đính kèm {} ({}) không có chữ ký riêng để kiểm tra; chữ ký của phần bao đã bao phủ nó",
                quoted(label),
                quoted(kind)
            ),
            AttachmentUncovered { label, kind } => format!(
                "tệp đính kèm {} ({}) không có chữ ký riêng để kiểm tra, và không có chữ ký nguyên vẹn nào của phần bao bao phủ nó",
                quoted(label),
                quoted(kind)
            ),
            EnvelopeRefused(reason) => format!("chữ ký của phần bao: {}", reason.vietnamese()),
            PackageNoAttachment => "gói tin không có tệp đính kèm nào".to_owned(),
            PrefixUndeclared { prefix, line, column, elements, namespace } => format!(
                "gói tin không đúng quy tắc không gian tên XML: tiền tố {} được dùng mà không khai báo (lần đầu ở dòng {line}, cột {column}, trên {elements} phần tử); kyso đọc nó là {} cho cấu trúc gói tin và, như “libxml2” ở chế độ phục hồi, là một phần của tên thường cho các chữ ký",
                quoted(prefix),
                quoted(namespace)
            ),
            SignatureNamespace { lines } => format!(
                "phần tử “Signature” ở dòng {} không có không gian tên riêng nên thuộc không gian tên QCVN 102:2016, không phải của XMLDSig: kyso đọc nó như một chữ ký XMLDSig",
                lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
            DuplicateContentId { id } => format!(
                "hai tệp đính kèm cùng mang mã nội dung {}: không rõ danh mục muốn nói tệp nào",
                quoted(&format!("cid:{id}"))
            ),
            ManifestEntryMissing { id, name } => format!(
                "danh mục liệt kê {}{}, nhưng gói tin không có tệp đó",
                quoted(&format!("cid:{id}")),
                name.as_deref().map(|n| format!(" {}", quoted(n))).unwrap_or_default()
            ),
            AttachmentNotInManifest { label } => {
                format!("tệp đính kèm {} không có trong danh mục", quoted(label))
            }
            HeaderMismatch { field, header, source, found } => format!(
                "{} trong tiêu đề là {}, nhưng {} ghi {}",
                header_field_vi(field),
                quoted(header),
                source.as_deref().map(quoted).unwrap_or_else(|| "tệp đính kèm".to_owned()),
                quoted(found.as_deref().unwrap_or(""))
            ),
            PackageSignature { what, name, indication, first } => format!(
                "{} {}: {indication} — {}",
                match what {
                    PackagePart::Envelope => "chữ ký của phần bao",
                    PackagePart::Attachment => "tệp đính kèm",
                },
                quoted(name),
                first.as_ref().map(|r| r.vietnamese()).unwrap_or_default()
            ),
        }
    }
}

/// The English words: what logs and English-speaking callers read.
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Reason", 3)?;
        out.serialize_field("code", self.code())?;
        out.serialize_field("message", &self.english())?;
        out.serialize_field("message_vi", &self.vietnamese())?;
        out.end()
    }
}

/// Data inside Vietnamese words: quoted, so that a reader (and the test that looks for English
/// words) can tell the document's own text from kyso's.
fn quoted(data: &str) -> String {
    format!("“{data}”")
}

fn list(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An edXML header field's name in Vietnamese.
fn header_field_vi(field: &str) -> String {
    match field {
        "number" => "số, ký hiệu".to_owned(),
        "promulgation_date" => "ngày ban hành".to_owned(),
        "signer_name" => "người ký".to_owned(),
        "signer_position" => "chức vụ".to_owned(),
        other => quoted(other),
    }
}

/// What a modification level permits, in English.
pub fn level_en(level: ModificationLevel) -> &'static str {
    match level {
        ModificationLevel::None => "no change",
        ModificationLevel::LongTermValidation => "validation data and document timestamps",
        ModificationLevel::Signatures => "further signatures",
        ModificationLevel::FormFilling => "form filling and signatures",
        ModificationLevel::Annotations => "annotations, form filling and signatures",
        ModificationLevel::Other => "any change",
    }
}

/// What a modification level permits, in Vietnamese.
pub fn level_vi(level: ModificationLevel) -> &'static str {
    match level {
        ModificationLevel::None => "không thay đổi",
        ModificationLevel::LongTermValidation => {
            "dữ liệu phục vụ kiểm tra lâu dài và dấu thời gian tài liệu"
        }
        ModificationLevel::Signatures => "thêm chữ ký",
        ModificationLevel::FormFilling => "điền biểu mẫu và thêm chữ ký",
        ModificationLevel::Annotations => "thêm chú thích, điền biểu mẫu và thêm chữ ký",
        ModificationLevel::Other => "thay đổi bất kỳ",
    }
}

fn permitter_en(by: Permitter) -> String {
    match by {
        Permitter::Approval => "an approval signature".to_owned(),
        Permitter::Certification { p } => format!("the certification (DocMDP P={p})"),
    }
}

fn permitter_vi(by: Permitter) -> String {
    match by {
        Permitter::Approval => "chữ ký phê duyệt".to_owned(),
        Permitter::Certification { p } => format!("chữ ký chứng nhận (DocMDP P={p})"),
    }
}

/// `added`, `modified`, `deleted` in Vietnamese.
pub fn change_kind_vi(kind: crate::pdf::diff::ChangeKind) -> &'static str {
    match kind {
        crate::pdf::diff::ChangeKind::Added => "được thêm",
        crate::pdf::diff::ChangeKind::Modified => "bị sửa",
        crate::pdf::diff::ChangeKind::Deleted => "bị xóa",
    }
}

/// What the XML verifier found, by its sub-indication (its own details are English).
fn xml_finding_vi(sub: SubIndication) -> &'static str {
    match sub {
        SubIndication::HashFailure => {
            "nội dung được ký đã bị thay đổi: giá trị băm của một tham chiếu không khớp, hoặc tham chiếu trỏ đến phần tử khác (tấn công bọc chữ ký)"
        }
        SubIndication::SigCryptoFailure => "giá trị chữ ký không khớp với khóa của người ký",
        SubIndication::FormatFailure => {
            "chữ ký XML sai cấu trúc (mã hóa, định danh trùng lặp hoặc phần tử thiếu)"
        }
        SubIndication::SignedDataNotFound => "không tìm thấy dữ liệu mà chữ ký tham chiếu đến",
        SubIndication::NoSigningCertificateFound => "không xác định được chứng thư số của người ký",
        SubIndication::CryptoConstraintsFailure | SubIndication::CryptoConstraintsFailureNoPoe => {
            "thuật toán hoặc độ dài khóa không được chấp nhận"
        }
        other => super::text::sub_indication(other, Language::Vietnamese),
    }
}

/// A signature algorithm problem in Vietnamese.
/// A weakness of the algorithm policy in Vietnamese.
pub fn weakness_vi(weakness: Weakness) -> String {
    match weakness {
        Weakness::Sha1 => "SHA-1".to_owned(),
        Weakness::SmallRsa { bits } => format!("khóa RSA {bits} bit"),
        Weakness::SmallEc { bits } => format!("khóa ECDSA {bits} bit"),
    }
}

/// `dd/mm/yyyy`, as Vietnamese documents write dates.
fn date_vi(date: time::Date) -> String {
    format!(
        "{:02}/{:02}/{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// An algorithm-policy refusal in Vietnamese.
pub fn refusal_vi(refusal: &Refusal) -> String {
    let weakness = weakness_vi(refusal.weakness);
    match (refusal.until, refusal.existed) {
        (None, _) => format!("{weakness} dưới mức chính sách thuật toán"),
        (Some(until), None) => format!(
            "{weakness} chỉ được chấp nhận cho chữ ký có bằng chứng tồn tại trước ngày {}, và không có gì chứng minh thời điểm tạo chữ ký này",
            date_vi(until)
        ),
        (Some(until), Some(existed)) => format!(
            "{weakness} chỉ được chấp nhận cho chữ ký có bằng chứng tồn tại trước ngày {}, còn chữ ký này được chứng minh tồn tại vào ngày {}",
            date_vi(until),
            date_vi(existed.date())
        ),
    }
}

pub fn signature_error_vi(error: &SignatureError) -> String {
    match error {
        SignatureError::Invalid => "chữ ký không khớp".to_owned(),
        SignatureError::UnsupportedAlgorithm { oid } => {
            format!("thuật toán chữ ký {} không được hỗ trợ", quoted(oid))
        }
        SignatureError::WeakAlgorithm { name } => {
            format!("thuật toán chữ ký yếu {name} bị chính sách từ chối")
        }
        SignatureError::KeyTooSmall { bits } => {
            format!("khóa công khai quá ngắn: RSA {bits} bit, chính sách yêu cầu tối thiểu 2048")
        }
        SignatureError::UnsupportedKey { oid } => {
            format!("loại khóa công khai {} không được hỗ trợ", quoted(oid))
        }
        SignatureError::KeyMismatch { algorithm, key } => {
            format!("thuật toán chữ ký {algorithm} không dùng được với khóa {key}")
        }
        SignatureError::BadParameters(_) => {
            "tham số của thuật toán chữ ký sai định dạng".to_owned()
        }
        SignatureError::PssMaskHash { hash, mgf } => {
            format!("RSA-PSS với MGF1 dùng {mgf} và hàm băm thông điệp {hash} không được hỗ trợ")
        }
    }
}

/// A time-stamp token problem in Vietnamese.
pub fn timestamp_error_vi(error: &timestamp::Error) -> String {
    match error {
        timestamp::Error::Malformed(_) => "dấu thời gian sai định dạng".to_owned(),
        timestamp::Error::Refused { status } => {
            format!("đơn vị cấp dấu thời gian từ chối yêu cầu: trạng thái {status}")
        }
        timestamp::Error::ImprintMismatch => {
            "dấu thời gian được cấp cho dữ liệu khác (giá trị băm không khớp)".to_owned()
        }
        timestamp::Error::NonceMismatch => {
            "số dùng một lần của dấu thời gian khác với yêu cầu".to_owned()
        }
        timestamp::Error::BadAttributes(_) => {
            "các thuộc tính được ký của dấu thời gian không hợp lệ".to_owned()
        }
        timestamp::Error::SignerNotFound => {
            "không tìm thấy chứng thư của đơn vị cấp dấu thời gian".to_owned()
        }
        timestamp::Error::BadSignature(e) => {
            format!("chữ ký của dấu thời gian: {}", signature_error_vi(e))
        }
        timestamp::Error::Path(e) => format!(
            "chuỗi chứng thư của đơn vị cấp dấu thời gian: {}",
            path_error_vi(e)
        ),
        timestamp::Error::ExpiredBeforeProof {
            subject,
            not_after,
            control,
        } => format!(
            "chứng thư của đơn vị cấp dấu thời gian {} hết hạn ngày {}, trước thời điểm {}, và không có dấu thời gian nào sau đó chứng minh dấu thời gian này đã tồn tại trước khi hết hạn",
            quoted(subject),
            super::text::local_time(*not_after),
            super::text::local_time(*control)
        ),
    }
}

/// A certificate path failure in Vietnamese. Certificate names are data, quoted.
pub fn path_error_vi(error: &PathError) -> String {
    let when = |t: &OffsetDateTime| super::text::local_time(*t);
    match error {
        PathError::UnknownIssuer { subject, issuer } => format!(
            "không tìm được đường dẫn đến chứng thư gốc tin cậy: không tìm thấy chứng thư của tổ chức cấp cho {} (tổ chức cấp {})",
            quoted(subject),
            quoted(issuer)
        ),
        PathError::BudgetExceeded { limit, .. } => {
            format!("vượt giới hạn tìm đường dẫn chứng thư (hơn {limit} lần thử)")
        }
        PathError::ChainTooLong { certificate, max } => format!(
            "chuỗi chứng thư quá dài: hơn {max} chứng thư trung gian phía trên {}",
            quoted(certificate)
        ),
        PathError::BadSignature {
            certificate,
            issuer,
            reason,
        } => format!(
            "chữ ký trên chứng thư {} không khớp với khóa của {}: {}",
            quoted(certificate),
            quoted(issuer),
            signature_error_vi(reason)
        ),
        PathError::ProfileViolation { certificate, .. } => format!(
            "chứng thư {} vi phạm quy định cấu trúc chứng thư của RFC 5280",
            quoted(certificate)
        ),
        PathError::Expired {
            certificate,
            at,
            not_after,
        } => format!(
            "chứng thư {} đã hết hạn: kiểm tra tại thời điểm {}, chỉ có hiệu lực đến {}",
            quoted(certificate),
            when(at),
            when(not_after)
        ),
        PathError::NotYetValid {
            certificate,
            at,
            not_before,
        } => format!(
            "chứng thư {} chưa có hiệu lực: kiểm tra tại thời điểm {}, chỉ có hiệu lực từ {}",
            quoted(certificate),
            when(at),
            when(not_before)
        ),
        PathError::NotCa { certificate } => format!(
            "tổ chức cấp {} không phải tổ chức cung cấp dịch vụ chứng thực (basicConstraints không đặt cA)",
            quoted(certificate)
        ),
        PathError::MissingKeyCertSign { certificate } => format!(
            "tổ chức cấp {} không có quyền ký chứng thư (thiếu keyCertSign trong keyUsage)",
            quoted(certificate)
        ),
        PathError::PathLenExceeded { certificate } => format!(
            "vượt giới hạn độ dài chuỗi (pathLenConstraint) tại {}",
            quoted(certificate)
        ),
        PathError::UnknownCriticalExtension { certificate, oid } => format!(
            "chứng thư {} có phần mở rộng bắt buộc không xác định {}",
            quoted(certificate),
            quoted(oid)
        ),
        PathError::NameConstraintViolation { certificate, .. } => {
            format!("chứng thư {} vi phạm ràng buộc về tên", quoted(certificate))
        }
        PathError::PolicyViolation { certificate } => format!(
            "không có chính sách chứng thư nào được chấp nhận trên chuỗi (tại {})",
            quoted(certificate)
        ),
        PathError::WrongKeyPurpose { certificate, .. } => format!(
            "chứng thư {} không được phép dùng cho mục đích này",
            quoted(certificate)
        ),
        PathError::RevocationUnknown { certificate, .. } => format!(
            "không xác định được tình trạng thu hồi của {}: không có danh sách thu hồi (CRL) hay phản hồi OCSP dùng được",
            quoted(certificate)
        ),
        PathError::Revoked {
            certificate,
            revoked_at,
            reason,
        } => format!(
            "chứng thư {} đã bị thu hồi lúc {} (lý do {})",
            quoted(certificate),
            when(revoked_at),
            quoted(reason)
        ),
    }
}

#[cfg(test)]
mod tests;
