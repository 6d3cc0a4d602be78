//! Verification: a document in, a verdict on each of its signatures out (ETSI EN 319 102-1
//! basic signature validation, with PAdES and XAdES specifics).
//!
//! What it owns: the order of checks (format, integrity, signature value, signing certificate,
//! timestamp, certificate path, revocation, changes after signing), the mapping of every failure
//! to an ETSI indication, and the plain-language reasons. What it delegates: reading PDF and XML
//! structure ([`crate::pdf`], [`crate::xml`]), CMS parsing ([`crate::cms`]), path validation and
//! revocation ([`crate::pki`]). What it refuses: to call a signature TOTAL-PASSED when any check
//! could not be made — revocation turned off reads as INDETERMINATE, never as passed.

pub mod decree30;
mod pdf;
pub(crate) use pdf::read_dss;
pub mod reason;
pub mod record;
pub mod text;
mod verdict;
mod xml;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::pki::fetch::{FetchSettings, OcspNonce, Online};
use crate::pki::identity::Identity;
use crate::pki::revocation::{RevocationCheck, RevocationPolicy, UnknownRevocation};
use crate::pki::{
    AlgorithmPolicy, CertPool, Certificate, Evidence, KeyPurpose, RevocationSource, SignerKeyUsage,
    TrustStore, ValidationPolicy, Validator,
};

pub use crate::pdf::diff::ModificationLevel;
pub use reason::Reason;
use reason::TimestampProblem;
pub use verdict::{
    ChainLink, Change, Coverage, DocumentReport, Facet, Indication, ScopeElement, SignatureReport,
    SignedScope, Signer, SignerIdentifier, SubIndication, TimeSource, TrustAnchor,
};

/// How much of an XML document a signature must cover to pass (`[verify] xml_scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
pub enum XmlScope {
    /// Any content of the document, reported exactly: e-invoices and edXML sign one element by
    /// its Id from a sibling signature. The wrapping defences hold either way. `"signed"`.
    #[default]
    #[serde(rename = "signed")]
    SignedContent,
    /// The whole document (an enveloped signature over the document element, or every object
    /// and detached document of an enveloping or detached one). `"whole"`.
    #[serde(rename = "whole")]
    WholeDocument,
}

/// Documents a detached XML signature refers to, supplied by the caller under the names its
/// references use (`content.txt`, `annex/table.csv`). A reference resolves only among these:
/// never outside them (`..`, an absolute path), never to the network.
#[derive(Clone, Debug, Default)]
pub struct DetachedContent {
    documents: Vec<(String, Vec<u8>)>,
}

impl DetachedContent {
    pub fn new() -> Self {
        DetachedContent::default()
    }

    /// Adds a document under its relative name (`/`-separated, as a URI writes it).
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.documents.push((name.into(), bytes));
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }
}

/// Where revocation evidence may come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Revocation {
    /// Embedded evidence first (DSS, CMS, given files), then CRL/OCSP over the network.
    #[default]
    Online,
    /// Embedded and given evidence only; missing evidence is INDETERMINATE / TRY_LATER.
    Offline,
    /// No revocation checking: no signature can then be TOTAL-PASSED.
    DangerouslyOff,
}

/// Everything a verification depends on besides the document.
pub struct VerifyOptions {
    /// The roots to trust.
    pub trust: TrustStore,
    /// Intermediate certificates to consider beside those the document carries.
    pub certificates: CertPool,
    /// Revocation evidence given up front (CRL files, a revocation snapshot).
    pub evidence: Evidence,
    pub revocation: Revocation,
    /// Validation time: now, or an earlier instant to see what a verifier saw then.
    pub at: OffsetDateTime,
    pub algorithms: AlgorithmPolicy,
    /// CRL and OCSP fetching: the deadline of each exchange (10 s unless set), URL rewrites
    /// (`[revocation.rewrite]`), the CRL cache on disk.
    pub fetch: FetchSettings,
    /// An online source to use (and whose caches to share) instead of a new one, with
    /// [`Revocation::Online`]: the service rebuilds its verifier every minute and keeps one.
    pub online: Option<Arc<Online>>,
    /// How much of an XML document a signature must cover.
    pub xml_scope: XmlScope,
    /// Whether a signer's certificate must carry keyUsage (RFC 5280 does not ask it).
    pub signer_key_usage: SignerKeyUsage,
}

impl VerifyOptions {
    /// Options for a verification at `at` trusting `trust`, online revocation.
    pub fn new(trust: TrustStore, at: OffsetDateTime) -> Self {
        VerifyOptions {
            trust,
            certificates: CertPool::new(),
            evidence: Evidence::new(),
            revocation: Revocation::Online,
            at,
            algorithms: AlgorithmPolicy::default(),
            fetch: FetchSettings::default(),
            online: None,
            xml_scope: XmlScope::default(),
            signer_key_usage: SignerKeyUsage::default(),
        }
    }
}

/// Each CRL or OCSP exchange unless `[revocation] timeout_secs` says otherwise: CAs answer in
/// well under a second; a distribution point that is down costs this per URL.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A configured verifier: trust, policies and caches, shared by every document it checks (the
/// batch path shares one across threads).
pub struct Verifier {
    signers: Validator,
    evidence: Evidence,
    online: Option<Arc<Online>>,
    revocation: Revocation,
    at: OffsetDateTime,
    xml_scope: XmlScope,
    certificates: CertificateCache,
}

/// Certificates seen before, parsed once: a batch meets the same signers and CAs in document
/// after document, and parsing a certificate (and reading its names for the report) costs more
/// than hashing it. Keyed by the SHA-256 of the DER, so an entry is only ever the parse of those
/// exact bytes, and a cached certificate gives the same verdict as a fresh parse.
#[derive(Default)]
struct CertificateCache {
    parsed: Mutex<HashMap<[u8; 32], Certificate>>,
    names: Mutex<HashMap<[u8; 32], Arc<Names>>>,
}

/// Entries per cache before it is cleared: a province has 10,000+ signing certificates; 16,384
/// parsed certificates of ~3 KB each bound the cache near 50 MB.
const CERTIFICATE_CACHE_ENTRIES: usize = 16_384;

/// What a report says of a certificate, as written in it.
struct Names {
    /// The subject with personal identifiers masked ([`Identity::mask_in`]).
    subject: String,
    /// The subject as written, when it differs from `subject`.
    subject_whole: Option<String>,
    issuer: String,
    identity: Identity,
}

impl Verifier {
    pub fn new(options: VerifyOptions) -> Verifier {
        let revocation_policy = match options.revocation {
            Revocation::DangerouslyOff => RevocationPolicy {
                check: RevocationCheck::DangerouslySkip,
                unknown: UnknownRevocation::Allow,
            },
            // Hard fail: a chain without revocation evidence cannot be TOTAL-PASSED.
            _ => RevocationPolicy {
                check: RevocationCheck::FullChain,
                unknown: UnknownRevocation::Deny,
            },
        };
        let signer_policy = ValidationPolicy {
            purpose: KeyPurpose::DocumentSigning,
            signer_key_usage: options.signer_key_usage,
            algorithms: options.algorithms,
            revocation: revocation_policy,
            ..ValidationPolicy::default()
        };
        let online = (options.revocation == Revocation::Online).then(|| {
            options.online.clone().unwrap_or_else(|| {
                Arc::new(Online::configured(
                    FETCH_TIMEOUT,
                    OcspNonce::default(),
                    &options.fetch,
                ))
            })
        });
        let mut signers = Validator::new(options.trust, options.certificates, signer_policy);
        if let Some(online) = &online {
            signers = signers.with_issuer_source(online.clone());
        }
        Verifier {
            signers,
            evidence: options.evidence,
            online,
            revocation: options.revocation,
            at: options.at,
            xml_scope: options.xml_scope,
            certificates: CertificateCache::default(),
        }
    }

    /// Verifies a PDF or XML document, recognised by its content.
    pub fn verify(&self, bytes: &[u8]) -> DocumentReport {
        self.verify_with(bytes, &DetachedContent::default())
    }

    /// Verifies a document whose detached XML signatures refer to `detached` documents. An
    /// edXML package (QCVN 102:2016) gets one verdict for the whole package ([`crate::edxml`]);
    /// detached content does not apply to it.
    pub fn verify_with(&self, bytes: &[u8], detached: &DetachedContent) -> DocumentReport {
        let mut report = match detect(bytes) {
            Format::Edxml => return crate::edxml::verify::verify(self, bytes, 0),
            Format::Pdf => pdf::verify(self, bytes),
            Format::Xml => xml::verify(self, bytes, detached),
            Format::Unknown => {
                let mut report = empty_report("unknown", document_sha256(bytes), self.at);
                report.indication = Indication::TotalFailed;
                report.sub_indication = Some(SubIndication::FormatFailure);
                report.reasons.push(Reason::NotPdfOrXml);
                report
            }
        };
        report.summarise();
        report
    }

    /// Verifies `bytes` as an XML document, whatever its root: an edXML package's envelope
    /// signature is an XML signature like any other.
    pub(crate) fn verify_xml(&self, bytes: &[u8]) -> DocumentReport {
        let mut report = xml::verify(self, bytes, &DetachedContent::default());
        report.summarise();
        report
    }

    /// The time checks are made at.
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }

    /// Whether no trust anchor was given: every chain then reads NO_CERTIFICATE_CHAIN_FOUND.
    pub fn has_no_trust_anchors(&self) -> bool {
        self.signers.anchors().is_empty()
    }

    /// The online revocation source and its caches (with [`Revocation::Online`]): a revocation
    /// snapshot is what it fetched during a batch.
    pub fn online(&self) -> Option<&Online> {
        self.online.as_deref()
    }

    /// Parses a certificate, or returns the one parsed from the same bytes before.
    fn certificate(&self, der: &[u8]) -> Option<Certificate> {
        let key: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
            .as_ref()
            .try_into()
            .ok()?;
        if let Ok(cache) = self.certificates.parsed.lock()
            && let Some(cert) = cache.get(&key)
        {
            return Some(cert.clone());
        }
        let cert = Certificate::from_der(der).ok()?;
        if let Ok(mut cache) = self.certificates.parsed.lock() {
            if cache.len() >= CERTIFICATE_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, cert.clone());
        }
        Some(cert)
    }

    /// The names a report shows for `cert`, read once per certificate.
    fn names(&self, cert: &Certificate) -> Arc<Names> {
        if let Ok(cache) = self.certificates.names.lock()
            && let Some(names) = cache.get(cert.fingerprint())
        {
            return names.clone();
        }
        let names = Arc::new(read_names(cert));
        if let Ok(mut cache) = self.certificates.names.lock() {
            if cache.len() >= CERTIFICATE_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(*cert.fingerprint(), names.clone());
        }
        names
    }

    /// Revocation sources for one document: its own evidence, the given evidence, then online.
    /// The validator of signers' paths: trust anchors, intermediates, algorithm policy. Also
    /// what augmenting a document checks its signatures' paths with before embedding evidence.
    pub fn validator(&self) -> &Validator {
        &self.signers
    }

    /// Where revocation evidence comes from, in order: `embedded` (the document's), the
    /// evidence given up front, then the network when online.
    pub fn revocation_sources<'s>(
        &'s self,
        embedded: &'s Evidence,
    ) -> Vec<&'s dyn RevocationSource> {
        self.sources(embedded)
    }

    fn sources<'s>(&'s self, embedded: &'s Evidence) -> Vec<&'s dyn RevocationSource> {
        let mut sources: Vec<&dyn RevocationSource> = vec![embedded, &self.evidence];
        if let Some(online) = &self.online {
            sources.push(online.as_ref());
        }
        sources
    }
}

enum Format {
    Pdf,
    Edxml,
    Xml,
    Unknown,
}

fn detect(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Format::Pdf;
    }
    // Before plain XML: a package is XML whose root and namespace say edXML (with stray bytes
    // before it too, so that the report names the package's defect).
    if crate::edxml::sniff(bytes) != crate::edxml::Sniffed::Other {
        return Format::Edxml;
    }
    let text = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    // UTF-16 XML starts with a byte order mark or a NUL-interleaved '<'.
    if first == Some(&b'<') || head.starts_with(&[0xfe, 0xff]) || head.starts_with(&[0xff, 0xfe]) {
        return Format::Xml;
    }
    Format::Unknown
}

/// The document's SHA-256, hex: the ledger's idempotency key for audits.
fn document_sha256(bytes: &[u8]) -> String {
    hex::encode(crate::signer::DigestAlgorithm::Sha256.digest(bytes))
}

fn empty_report(format: &str, sha256: String, at: OffsetDateTime) -> DocumentReport {
    DocumentReport {
        format: format.to_owned(),
        sha256,
        indication: Indication::Indeterminate,
        sub_indication: None,
        reasons: Vec::new(),
        signatures: Vec::new(),
        long_term: None,
        validated_at: at,
        package: None,
        decree30: None,
    }
}

/// Subject, issuer and the holder's identity as written in the certificate (the `pki` names are
/// normalised for comparison, lower-cased, and not for people to read).
fn read_names(cert: &Certificate) -> Names {
    match x509_parser::parse_x509_certificate(cert.der()) {
        Ok((_, parsed)) => {
            let identity = Identity::from_subject(parsed.subject());
            let whole = parsed.subject().to_string();
            let subject = identity.mask_in(&whole);
            Names {
                subject_whole: (subject != whole).then_some(whole),
                subject,
                issuer: parsed.issuer().to_string(),
                identity,
            }
        }
        Err(_) => Names {
            subject: cert.subject().to_string(),
            subject_whole: None,
            issuer: cert.issuer().to_string(),
            identity: Identity::default(),
        },
    }
}

/// The signer as a certificate names them.
fn signer_of(verifier: &Verifier, cert: &Certificate) -> Signer {
    let names = verifier.names(cert);
    Signer {
        common_name: names.identity.common_name.clone(),
        unit: names.identity.unit.clone(),
        organization: names.identity.organization.clone(),
        title: names.identity.title.clone(),
        holder: names.identity.holder(),
        identifiers: names
            .identity
            .identifiers
            .iter()
            .map(SignerIdentifier::masked)
            .collect(),
        subject: names.subject.clone(),
        subject_whole: names.subject_whole.clone(),
        issuer: names.issuer.clone(),
        serial: hex::encode(cert.serial()),
        certificate_sha256: hex::encode(cert.fingerprint()),
    }
}

/// Verifies an RFC 3161 signature timestamp token (DER) over `message` (the signature value for
/// PAdES and CAdES; the canonicalized `ds:SignatureValue` for XAdES) and returns its time: one
/// check for PDF and XML. `certificates` are the signature's own, offered as intermediates.
/// `control` is when the token is relied on: the validation time, or the time a later
/// time-stamp proves the signature existed at (its TSA's certificates must not have expired
/// before then).
fn signature_timestamp(
    verifier: &Verifier,
    token: &[u8],
    message: &[u8],
    certificates: &[Certificate],
    embedded: &Evidence,
    control: OffsetDateTime,
) -> Result<Stamped, TimestampProblem> {
    let token = crate::pki::timestamp::TimestampToken::from_der(token).map_err(|e| {
        TimestampProblem::Unreadable {
            detail: e.to_string(),
        }
    })?;
    let mut intermediates = token.certificates().to_vec();
    intermediates.extend(certificates.iter().cloned());
    let sources = verifier.sources(embedded);
    crate::pki::timestamp::verify(
        &token,
        message,
        None,
        &verifier.signers,
        &intermediates,
        &sources,
    )
    .and_then(|verified| (verified.usable_at(control)).map(|()| Stamped::of(verifier, &verified)))
    .map_err(TimestampProblem::Invalid)
}

/// How long a passing signature stays verifiable as the document stands
/// ([`verdict::LongTerm`]): as long as the longest-lived of its `proofs` of existence (its
/// time-stamp, the document or archive time-stamps covering it: each until when its TSA's
/// certificate vouches for it, and that certificate); without any, as long as the signer's
/// certificate. Protected at B-LT and B-LTA, PAdES or XAdES.
fn long_term(
    verifier: &Verifier,
    report: &SignatureReport,
    leaf: &Certificate,
    proofs: impl IntoIterator<Item = Option<(OffsetDateTime, String)>>,
) -> verdict::LongTerm {
    let lasting = (proofs.into_iter())
        .flatten()
        .max_by_key(|(until, _)| *until);
    let (until, certificate) = lasting.unwrap_or_else(|| {
        let subject = (report.chain.first())
            .map(|link| link.subject.clone())
            .unwrap_or_else(|| verifier.names(leaf).subject.clone());
        (leaf.not_after(), subject)
    });
    verdict::LongTerm {
        protected: report.format.ends_with("-B-LT") || report.format.ends_with("-B-LTA"),
        until,
        certificate,
    }
}

/// A verified time-stamp's time, and until when its TSA's certificate vouches for it.
#[derive(Clone, Debug)]
struct Stamped {
    time: OffsetDateTime,
    tsa_until: OffsetDateTime,
    tsa_subject: String,
}

impl Stamped {
    fn of(verifier: &Verifier, verified: &crate::pki::timestamp::VerifiedTimestamp) -> Stamped {
        let tsa = verified.tsa_chain().leaf();
        Stamped {
            time: verified.gen_time(),
            tsa_until: tsa.not_after(),
            tsa_subject: verifier.names(tsa).subject.clone(),
        }
    }
}

/// The dated algorithm policy on an intact signature's `weaknesses`, at its proven time: a
/// retired algorithm with a proof of existence before its cut-off is accepted with a warning;
/// without one it is INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE, and with one after the
/// cut-off CRYPTO_CONSTRAINTS_FAILURE (ETSI EN 319 102-1 §5.2.8, Table 7).
fn judge_algorithms(
    verifier: &Verifier,
    weaknesses: &[crate::pki::Weakness],
    proven: Option<OffsetDateTime>,
    report: &mut SignatureReport,
) {
    use crate::pki::Judgement;
    let policy = verifier.signers.policy().algorithms;
    match policy.judge_weaknesses(weaknesses, proven) {
        Judgement::Current => {}
        Judgement::Retired(retired) => report
            .warnings
            .push(Reason::RetiredAlgorithmAccepted { retired }),
        Judgement::Refused(refusal) => {
            let sub = if refusal.lacks_proof() {
                SubIndication::CryptoConstraintsFailureNoPoe
            } else {
                SubIndication::CryptoConstraintsFailure
            };
            report.fail(sub, Reason::AlgorithmRefused(refusal));
        }
    }
}

/// Validates the signer's path and records trust, revocation and chain in the report.
fn validate_chain(
    verifier: &Verifier,
    report: &mut SignatureReport,
    leaf: &Certificate,
    intermediates: &[Certificate],
    at: OffsetDateTime,
    proven_time: bool,
    embedded: &Evidence,
) {
    let sources = verifier.sources(embedded);
    match verifier.signers.validate(leaf, intermediates, at, &sources) {
        Ok(chain) => {
            report.trusted = Facet::Passed;
            if leaf.extensions().key_usage.is_none() {
                report.warnings.push(Reason::NoKeyUsage);
            }
            for retired in chain.retired() {
                report
                    .warnings
                    .push(Reason::RetiredInChain(retired.clone()));
            }
            let statuses = chain.revocation();
            report.revocation = if verifier.revocation == Revocation::DangerouslyOff {
                report.reasons.push(Reason::RevocationOff);
                Facet::Undetermined
            } else if statuses
                .iter()
                .any(|s| matches!(s, crate::pki::RevocationStatus::Unknown { .. }))
            {
                Facet::Undetermined
            } else {
                Facet::Passed
            };
            report.chain = chain
                .certificates()
                .iter()
                .enumerate()
                .map(|(i, c)| chain_link(verifier, c, statuses.get(i)))
                .collect();
            report.trust_anchor = Some(trust_anchor(verifier, chain.anchor()));
        }
        Err(e) => {
            report.chain = vec![chain_link(verifier, leaf, None)];
            let mut sub = SubIndication::from_etsi(e.sub_indication());
            // Without proof of when the signature existed, a certificate revoked or expired by
            // now may still have been good when it signed: that is undecided, not failed.
            if !proven_time && sub == SubIndication::Revoked {
                sub = SubIndication::RevokedNoPoe;
            }
            if matches!(e, crate::pki::PathError::Revoked { .. }) {
                report.revocation = Facet::Failed;
            }
            report.trusted = if e.is_indeterminate() {
                Facet::Undetermined
            } else {
                Facet::Failed
            };
            report.fail(sub, Reason::Path(e));
        }
    }
}

/// The anchor a chain reached, with its source and national hierarchy.
fn trust_anchor(verifier: &Verifier, anchor: &Certificate) -> TrustAnchor {
    let label = verifier.signers.anchors().label(anchor);
    let hierarchy = label.and_then(|l| l.hierarchy);
    TrustAnchor {
        subject: verifier.names(anchor).subject.clone(),
        sha256: hex::encode(anchor.fingerprint()),
        source: label.map_or_else(
            || crate::pki::AnchorSource::Given.code(),
            |l| l.source.code(),
        ),
        hierarchy: hierarchy.map(crate::pki::Hierarchy::code),
        hierarchy_name: hierarchy.map(crate::pki::Hierarchy::name_en),
        hierarchy_name_vi: hierarchy.map(crate::pki::Hierarchy::name_vi),
    }
}

fn chain_link(
    verifier: &Verifier,
    cert: &Certificate,
    status: Option<&crate::pki::RevocationStatus>,
) -> ChainLink {
    let format = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let names = verifier.names(cert);
    ChainLink {
        subject: names.subject.clone(),
        subject_whole: names.subject_whole.clone(),
        issuer: names.issuer.clone(),
        not_before: format(cert.not_before()),
        not_after: format(cert.not_after()),
        revocation: match status {
            Some(crate::pki::RevocationStatus::Good { evidence }) => {
                format!("good ({evidence:?})").to_lowercase()
            }
            Some(crate::pki::RevocationStatus::Unknown { reason }) => format!("unknown: {reason}"),
            Some(crate::pki::RevocationStatus::NotChecked) => "not checked".to_owned(),
            None => "not established".to_owned(),
        },
        revocation_vi: match status {
            Some(crate::pki::RevocationStatus::Good {
                evidence: crate::pki::revocation::EvidenceKind::Crl,
            }) => "chưa bị thu hồi (theo danh sách thu hồi CRL)".to_owned(),
            Some(crate::pki::RevocationStatus::Good {
                evidence: crate::pki::revocation::EvidenceKind::Ocsp,
            }) => "chưa bị thu hồi (theo phản hồi OCSP)".to_owned(),
            Some(crate::pki::RevocationStatus::Unknown { .. }) => {
                "không xác định: không có danh sách thu hồi (CRL) hay phản hồi OCSP dùng được"
                    .to_owned()
            }
            Some(crate::pki::RevocationStatus::NotChecked) => "không cần kiểm tra".to_owned(),
            None => "chưa xác lập được".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_verifier_is_shared_across_threads() {
        fn is_sync<T: Send + Sync>() {}
        is_sync::<super::Verifier>();
    }
}
