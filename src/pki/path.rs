//! Path building and RFC 5280 §6.1 path validation.
//!
//! Owns: the search for issuers (trust anchors first, then the configured pool, then the
//! certificates that came with the signature), the work budget that ends pathological inputs
//! early, the §6.1 state machine (validity, name chaining, basicConstraints and pathLen,
//! keyUsage, name constraints, certificate policies, unknown critical extensions), the checks
//! a leaf must pass for its purpose, and the call into revocation checking (§6.3).
//! Refuses: paths through certificates with profile defects, cycles (a certificate, or a
//! subject/key pair, appearing twice), and anything over budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::oid;
use crate::pki::AlgorithmPolicy;
use crate::pki::algorithm_policy::{Judgement, Weakness};
use crate::pki::cert::{Certificate, key_usage};
use crate::pki::name::{
    GeneralName, NameKey, constraint_is_well_formed, is_dns_name, same_form, wildcard_overlaps,
    within_subtree,
};
use crate::pki::policy::PolicyTree;
use crate::pki::revocation::{
    self, RevocationCheck, RevocationPolicy, RevocationSource, UnknownRevocation,
};
use crate::pki::signature::{self, SignatureError};
use crate::pki::{CertPool, TrustStore};

/// What the leaf certificate will be used for; decides the keyUsage / extendedKeyUsage it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyPurpose {
    /// Signing documents (PAdES, XAdES): a keyUsage, when present, must have digitalSignature
    /// or nonRepudiation (pyHanko's ETSI check accepts one without them; kyso does not, design
    /// §6). An absent keyUsage means "any use" (RFC 5280 §4.2.1.3) and is accepted unless
    /// [`ValidationPolicy::signer_key_usage`] is [`SignerKeyUsage::Required`].
    #[default]
    DocumentSigning,
    /// An RFC 3161 time-stamping authority: extendedKeyUsage critical and exactly
    /// id-kp-timeStamping (RFC 3161 §2.3).
    TimeStamping,
    /// A delegated OCSP responder: extendedKeyUsage with id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
    OcspSigning,
    /// A CRL issuer: cRLSign when keyUsage is present (RFC 5280 §6.3.3 (f)).
    CrlSigning,
    /// No purpose check on the leaf (conformance suites that test the RFC 5280 core only).
    Unrestricted,
}

/// Whether a document signer's certificate must carry a keyUsage extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SignerKeyUsage {
    /// RFC 5280: no keyUsage puts no restriction on the key. The verdict layer warns.
    #[default]
    MayBeAbsent,
    /// A deployment's policy: keyUsage with digitalSignature or nonRepudiation is required.
    Required,
}

/// An additional extendedKeyUsage requirement on the leaf.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ExtendedKeyUsage {
    /// No requirement beyond the purpose's own.
    #[default]
    Unconstrained,
    /// When the leaf has extendedKeyUsage, it must list this OID (or anyExtendedKeyUsage).
    Require(String),
}

/// RFC 5280 §6.1.1 (c)–(f) inputs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CertificatePolicies {
    /// user-initial-policy-set; `None` is {anyPolicy}.
    pub initial_policy_set: Option<Vec<String>>,
    pub explicit_policy: ExplicitPolicy,
    pub policy_mapping: PolicyMapping,
    pub any_policy: AnyPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExplicitPolicy {
    #[default]
    NotRequired,
    Required,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PolicyMapping {
    #[default]
    Allowed,
    Inhibited,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AnyPolicy {
    #[default]
    Allowed,
    Inhibited,
}

/// How many intermediates a path may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChainDepth {
    /// [`MAX_INTERMEDIATES`].
    #[default]
    Default,
    /// At most this many non-self-issued intermediates (self-issued key-rollover certificates
    /// do not count, as for pathLenConstraint).
    MaxIntermediates(usize),
}

/// Every knob of a validation, with safe defaults.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ValidationPolicy {
    pub purpose: KeyPurpose,
    /// With [`KeyPurpose::DocumentSigning`]: whether keyUsage may be absent.
    pub signer_key_usage: SignerKeyUsage,
    pub extended_key_usage: ExtendedKeyUsage,
    pub policies: CertificatePolicies,
    pub algorithms: AlgorithmPolicy,
    pub depth: ChainDepth,
    pub revocation: RevocationPolicy,
}

/// Longest path kyso builds, intermediates only. Real PKIs here are root → CA → signer, and
/// PKITS's deepest path (4.6.x pathLenConstraint6) has 5 intermediates; rustls-webpki stops at
/// 6 sub-CAs. 8 leaves headroom for cross-certificates.
pub const MAX_INTERMEDIATES: usize = 8;

/// Signature verifications per validation before giving up: rustls-webpki's default budget
/// (`Budget::signatures` = 100, rustls-webpki src/verify_cert.rs), which its authors sized so
/// that legitimate cross-signed PKIs fit and Go's pathological chains stop in milliseconds.
const MAX_SIGNATURE_CHECKS: usize = 100;

/// Candidate edges examined per validation (cached signature checks included): rustls-webpki
/// allows 200,000 build calls; each costs a hash lookup here, so this stays in the milliseconds.
const MAX_BUILD_STEPS: usize = 200_000;

/// Complete candidate paths run through §6.1 per validation. Each costs a few microseconds;
/// a PKI with more than 64 distinct paths to a leaf is an attack, not a deployment.
const MAX_COMPLETE_PATHS: usize = 64;

/// Name-constraint comparisons per validation: rustls-webpki's `name_constraint_comparisons`
/// budget (250,000), which rejects the OpenSSL many-names/many-constraints inputs (x509-limbo
/// `pathological::nc-dos-*`, 2048 × 4096 comparisons) and admits every real PKI.
const MAX_NAME_CONSTRAINT_COMPARISONS: usize = 250_000;

/// Entries in the signature-result cache before it is cleared (bounded memory for a
/// long-running service; 64k entries × ~80 bytes ≈ 5 MB).
const SIGNATURE_CACHE_ENTRIES: usize = 65_536;

/// Nesting of validations of CRL signers and OCSP responders (their own paths need revocation
/// checks too). PKITS needs 2 (a CRL signer whose CRL is signed by another key); deeper nesting
/// only comes from loops.
pub(crate) const MAX_NESTING: usize = 3;

/// A certificate path that passed validation: leaf first, trust anchor last. Only
/// [`Validator::validate`] builds one.
#[derive(Clone, Debug)]
pub struct VerifiedChain {
    certificates: Vec<Certificate>,
    policies: Vec<String>,
    revocation: Vec<RevocationStatus>,
    at: OffsetDateTime,
    retired: Vec<RetiredUse>,
}

/// A retired algorithm the policy accepted on a chain, because the chain was validated at a
/// time before its cut-off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredUse {
    /// The certificate whose signature (or subject key) is below the floor.
    pub certificate: String,
    pub weakness: Weakness,
    pub until: time::Date,
}

impl std::fmt::Display for RetiredUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} uses {}, accepted because the chain is validated at a time before {}",
            self.certificate, self.weakness, self.until
        )
    }
}

impl VerifiedChain {
    /// Leaf first, trust anchor last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }
    pub fn leaf(&self) -> &Certificate {
        &self.certificates[0]
    }
    pub fn anchor(&self) -> &Certificate {
        &self.certificates[self.certificates.len() - 1]
    }
    /// The authorities-constrained policy set (RFC 5280 §6.1.6); empty when the tree is NULL,
    /// `2.5.29.32.0` for anyPolicy.
    pub fn policies(&self) -> &[String] {
        &self.policies
    }
    /// Revocation status per certificate, leaf first, anchor excluded.
    pub fn revocation(&self) -> &[RevocationStatus] {
        &self.revocation
    }
    /// The time the chain was validated at.
    pub fn validated_at(&self) -> OffsetDateTime {
        self.at
    }
    /// Retired algorithms the chain uses that the dated policy accepted at the validation time:
    /// a report shows them as warnings.
    pub fn retired(&self) -> &[RetiredUse] {
        &self.retired
    }
}

/// Revocation status of one certificate of a verified chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Evidence says not revoked at the validation time.
    Good { evidence: revocation::EvidenceKind },
    /// No evidence could be had and the policy allowed that ([`UnknownRevocation::Allow`]).
    Unknown { reason: String },
    /// The policy did not ask for a check of this certificate, or it carries id-pkix-ocsp-nocheck.
    NotChecked,
}

/// Why no valid path was found. Variants are ranked: when several candidate paths fail, the
/// most specific reason is reported (see [`PathError::rank`]).
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("no path to a trust anchor: no issuer found for {subject} (issuer {issuer})")]
    UnknownIssuer { subject: String, issuer: String },
    #[error("path building budget exhausted: more than {limit} {what}")]
    BudgetExceeded { what: &'static str, limit: usize },
    #[error("path too long: more than {max} intermediates above {certificate}")]
    ChainTooLong { certificate: String, max: usize },
    #[error("signature on {certificate} does not verify with the key of {issuer}: {reason}")]
    BadSignature {
        certificate: String,
        issuer: String,
        reason: SignatureError,
    },
    #[error("certificate {certificate} violates the RFC 5280 profile: {defect}")]
    ProfileViolation { certificate: String, defect: String },
    #[error("certificate expired: {certificate} checked at {at}, not valid after {not_after}")]
    Expired {
        certificate: String,
        at: OffsetDateTime,
        not_after: OffsetDateTime,
    },
    #[error(
        "certificate not yet valid: {certificate} checked at {at}, not valid before {not_before}"
    )]
    NotYetValid {
        certificate: String,
        at: OffsetDateTime,
        not_before: OffsetDateTime,
    },
    #[error("issuer {certificate} is not a CA (basicConstraints cA is not set)")]
    NotCa { certificate: String },
    #[error("issuer {certificate} lacks keyUsage keyCertSign")]
    MissingKeyCertSign { certificate: String },
    #[error("pathLenConstraint exceeded at {certificate}")]
    PathLenExceeded { certificate: String },
    #[error("certificate {certificate} has an unknown critical extension {oid}")]
    UnknownCriticalExtension { certificate: String, oid: String },
    #[error("certificate {certificate} violates name constraints: {detail}")]
    NameConstraintViolation { certificate: String, detail: String },
    #[error("no acceptable certificate policy on the path (at {certificate})")]
    PolicyViolation { certificate: String },
    #[error("certificate {certificate} is not usable for {purpose}: {detail}")]
    WrongKeyPurpose {
        certificate: String,
        purpose: &'static str,
        detail: String,
    },
    #[error("revocation status of {certificate} unknown: {reason}")]
    RevocationUnknown { certificate: String, reason: String },
    #[error("certificate revoked: {certificate} at {revoked_at} (reason {reason})")]
    Revoked {
        certificate: String,
        revoked_at: OffsetDateTime,
        reason: String,
    },
}

impl PathError {
    /// Higher is more specific. A path that got as far as revocation checking says more than
    /// one that failed on a signature, which says more than "no issuer" (webpki's ranking
    /// idea, rustls-webpki `Error::rank`).
    pub fn rank(&self) -> u32 {
        match self {
            PathError::UnknownIssuer { .. } => 0,
            PathError::ChainTooLong { .. } => 5,
            PathError::BadSignature { reason, .. } => match reason {
                SignatureError::Invalid => 10,
                _ => 12,
            },
            PathError::NotCa { .. } | PathError::MissingKeyCertSign { .. } => 20,
            PathError::PathLenExceeded { .. } => 22,
            PathError::ProfileViolation { .. } | PathError::UnknownCriticalExtension { .. } => 25,
            PathError::Expired { .. } | PathError::NotYetValid { .. } => 30,
            PathError::NameConstraintViolation { .. } => 35,
            PathError::PolicyViolation { .. } => 36,
            PathError::WrongKeyPurpose { .. } => 40,
            PathError::RevocationUnknown { .. } => 50,
            PathError::Revoked { .. } => 60,
            PathError::BudgetExceeded { .. } => 100,
        }
    }

    /// "Could not check" rather than "checked and bad" (ETSI EN 319 102-1 INDETERMINATE):
    /// missing issuer, missing revocation evidence, exhausted budget.
    pub fn is_indeterminate(&self) -> bool {
        matches!(
            self,
            PathError::UnknownIssuer { .. }
                | PathError::RevocationUnknown { .. }
                | PathError::BudgetExceeded { .. }
        )
    }

    /// The ETSI EN 319 102-1 sub-indication closest to this failure.
    pub fn sub_indication(&self) -> &'static str {
        match self {
            PathError::UnknownIssuer { .. } | PathError::ChainTooLong { .. } => {
                "NO_CERTIFICATE_CHAIN_FOUND"
            }
            PathError::BudgetExceeded { .. } => "NO_CERTIFICATE_CHAIN_FOUND",
            PathError::RevocationUnknown { .. } => "TRY_LATER",
            PathError::Revoked { .. } => "REVOKED",
            PathError::Expired { .. } => "OUT_OF_BOUNDS_NO_POE",
            PathError::NotYetValid { .. } => "NOT_YET_VALID",
            PathError::BadSignature {
                reason: SignatureError::Invalid,
                ..
            } => "SIG_CRYPTO_FAILURE",
            PathError::BadSignature { .. } => "CRYPTO_CONSTRAINTS_FAILURE",
            _ => "CHAIN_CONSTRAINTS_FAILURE",
        }
    }
}

/// (certificate fingerprint, issuer fingerprint).
type SignatureKey = ([u8; 32], [u8; 32]);

/// A validator: trust anchors, a configured intermediate pool, the policy, and a cache of
/// signature results shared across validations (`&self` methods; share it between threads).
pub struct Validator {
    anchors: TrustStore,
    pool: CertPool,
    policy: ValidationPolicy,
    signatures: Mutex<HashMap<SignatureKey, Result<(), SignatureError>>>,
    issuers: Option<Arc<dyn IssuerSource>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("anchors", &self.anchors.len())
            .field("pool", &self.pool.len())
            .field("policy", &self.policy)
            .field("aia", &self.issuers.is_some())
            .finish_non_exhaustive()
    }
}

/// Where missing intermediates can be fetched from: the caIssuers access method of
/// authorityInfoAccess (RFC 5280 §4.2.2.1). [`crate::pki::fetch::Online`] implements it.
pub trait IssuerSource: Send + Sync {
    /// Certificates published at `cert`'s caIssuers locations (any of them may be its issuer).
    fn issuers(&self, cert: &Certificate) -> Vec<Certificate>;
}

/// caIssuers fetches per validation. A path normally lacks at most one intermediate (a signer
/// that shipped without its CA); each fetch may cost a network timeout, so a handful bounds the
/// worst case to seconds.
const MAX_AIA_FETCHES: usize = 4;

impl Validator {
    pub fn new(anchors: TrustStore, pool: CertPool, policy: ValidationPolicy) -> Validator {
        Validator {
            anchors,
            pool,
            policy,
            signatures: Mutex::new(HashMap::new()),
            issuers: None,
        }
    }

    /// Follows authorityInfoAccess caIssuers when no known certificate can issue the one at
    /// the top of a path.
    pub fn with_issuer_source(mut self, source: Arc<dyn IssuerSource>) -> Validator {
        self.issuers = Some(source);
        self
    }

    pub fn policy(&self) -> &ValidationPolicy {
        &self.policy
    }

    pub fn anchors(&self) -> &TrustStore {
        &self.anchors
    }

    /// Builds and validates a path from `leaf` to a trust anchor at time `at`, using the
    /// configured pool and `intermediates` (those carried by the signature), then checks
    /// revocation with `sources` in order (embedded evidence first, then online).
    pub fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
        sources: &[&dyn RevocationSource],
    ) -> Result<VerifiedChain, PathError> {
        self.validate_nested(leaf, intermediates, at, sources, &self.policy, 0)
    }

    /// Like [`Validator::validate`] with another policy (the same anchors, pool and caches):
    /// for the certificates of services (TSA, OCSP responder) checked beside a signer.
    pub fn validate_with(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
        sources: &[&dyn RevocationSource],
        policy: &ValidationPolicy,
    ) -> Result<VerifiedChain, PathError> {
        self.validate_nested(leaf, intermediates, at, sources, policy, 0)
    }

    pub(crate) fn validate_nested(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
        sources: &[&dyn RevocationSource],
        policy: &ValidationPolicy,
        nesting: usize,
    ) -> Result<VerifiedChain, PathError> {
        // Validity is encoded to the second (RFC 5280 §4.1.2.5): compare at that granularity,
        // flooring the time of interest (x509-limbo rfc5280::validity::*-fractional).
        let at = at.replace_nanosecond(0).unwrap_or(at);
        let mut extra = CertPool::new();
        extra.extend(intermediates.iter().cloned());
        let mut search = Search {
            validator: self,
            policy,
            extra: &extra,
            at,
            sources,
            nesting,
            signature_checks: 0,
            steps: 0,
            complete_paths: 0,
            nc_comparisons: 0,
            aia_fetches: 0,
            fetched: Vec::new(),
            best: None,
        };
        if self.anchors.contains(leaf) {
            // The leaf itself is trusted: nothing to chain, but it still has to be usable.
            check_validity(leaf, at)?;
            check_defects(leaf)?;
            check_purpose(leaf, policy)?;
            return Ok(VerifiedChain {
                retired: retired_uses(std::slice::from_ref(leaf), policy.algorithms, at),
                certificates: vec![leaf.clone()],
                policies: Vec::new(),
                revocation: Vec::new(),
                at,
            });
        }
        let mut path = vec![leaf.clone()];
        match search.extend(&mut path)? {
            Some(chain) => Ok(chain),
            None => Err(search.best.unwrap_or_else(|| PathError::UnknownIssuer {
                subject: leaf.subject().to_string(),
                issuer: leaf.issuer().to_string(),
            })),
        }
    }

    /// Verifies `cert`'s signature with `issuer`'s key, through the cache, under `algorithms`
    /// for a certificate that existed at `at`.
    pub(crate) fn check_signature(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        algorithms: AlgorithmPolicy,
        at: OffsetDateTime,
    ) -> (Result<(), SignatureError>, bool) {
        self.check_signed(
            cert.fingerprint(),
            cert.signature_algorithm(),
            cert.tbs(),
            cert.signature(),
            issuer,
            algorithms,
            at,
        )
    }

    /// Verifies a signed object (certificate or CRL, identified by the SHA-256 of its DER) with
    /// `signer`'s key, through the cache, then asks `algorithms` whether its algorithm was
    /// acceptable at `at`. The bool says whether the value's check came from the cache.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_signed(
        &self,
        object: &[u8; 32],
        algorithm: Result<&signature::SignatureAlgorithm, &SignatureError>,
        tbs: &[u8],
        signature_value: &[u8],
        signer: &Certificate,
        algorithms: AlgorithmPolicy,
        at: OffsetDateTime,
    ) -> (Result<(), SignatureError>, bool) {
        let alg = match algorithm {
            Ok(alg) => alg,
            Err(e) => return (Err(e.clone()), false),
        };
        // The policy is asked first, and cheaply: it depends on the time, the cache does not.
        if let Err(refused) = algorithms.check(alg, &signer.public_key().kind, Some(at)) {
            return (Err(refused), false);
        }
        // The cache holds whether the value verifies, which no policy or time changes.
        let key = (*object, *signer.fingerprint());
        if let Ok(cache) = self.signatures.lock()
            && let Some(r) = cache.get(&key)
        {
            return (r.clone(), true);
        }
        let result = signature::verify_value(alg, signer.public_key(), tbs, signature_value);
        if let Ok(mut cache) = self.signatures.lock() {
            if cache.len() >= SIGNATURE_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, result.clone());
        }
        (result, false)
    }

    /// Certificates whose subject matches `name_key`: anchors, pool, then `extra`.
    pub(crate) fn candidates<'a>(
        &'a self,
        name_key: &'a str,
        extra: &'a CertPool,
    ) -> impl Iterator<Item = (&'a Certificate, bool)> + 'a {
        self.anchors
            .by_subject(name_key)
            .map(|c| (c, true))
            .chain(self.pool.by_subject(name_key).map(|c| (c, false)))
            .chain(extra.by_subject(name_key).map(|c| (c, false)))
    }
}

struct Search<'a> {
    validator: &'a Validator,
    policy: &'a ValidationPolicy,
    extra: &'a CertPool,
    at: OffsetDateTime,
    sources: &'a [&'a dyn RevocationSource],
    nesting: usize,
    signature_checks: usize,
    steps: usize,
    complete_paths: usize,
    nc_comparisons: usize,
    aia_fetches: usize,
    fetched: Vec<Certificate>,
    best: Option<PathError>,
}

impl Search<'_> {
    fn record(&mut self, e: PathError) {
        if self.best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
            self.best = Some(e);
        }
    }

    /// Depth-first search from the top of `path` (leaf first). Ok(None): no valid path below
    /// this point; Err: fatal (budget).
    fn extend(&mut self, path: &mut Vec<Certificate>) -> Result<Option<VerifiedChain>, PathError> {
        let top = path[path.len() - 1].clone();
        let mut candidates: Vec<(Certificate, bool)> = self
            .validator
            .candidates(top.issuer().key(), self.extra)
            .map(|(c, a)| (c.clone(), a))
            .chain(
                self.fetched
                    .iter()
                    .filter(|c| c.subject() == top.issuer())
                    .map(|c| (c.clone(), false)),
            )
            .collect();
        if candidates.is_empty()
            && let Some(source) = &self.validator.issuers
            && !top.extensions().ca_issuer_urls.is_empty()
            && self.aia_fetches < MAX_AIA_FETCHES
        {
            self.aia_fetches += 1;
            for c in source.issuers(&top) {
                if c.subject() == top.issuer() && !self.fetched.contains(&c) {
                    self.fetched.push(c.clone());
                    candidates.push((c, false));
                }
            }
        }
        // Anchors first, then issuers whose subjectKeyIdentifier matches the child's
        // authorityKeyIdentifier: the likely path is tried first.
        let aki = top.extensions().authority_key_id.clone();
        candidates.sort_by_key(|(c, anchor)| {
            let ski_match = aki.is_some() && c.extensions().subject_key_id == aki;
            (!*anchor, !ski_match)
        });
        let intermediates = path[1..].iter().filter(|c| !c.is_self_issued()).count();
        let max = match self.policy.depth {
            ChainDepth::Default => MAX_INTERMEDIATES,
            ChainDepth::MaxIntermediates(n) => n.min(MAX_INTERMEDIATES),
        };
        for (candidate, is_anchor) in candidates {
            self.steps += 1;
            if self.steps > MAX_BUILD_STEPS {
                return Err(PathError::BudgetExceeded {
                    what: "path building steps",
                    limit: MAX_BUILD_STEPS,
                });
            }
            // Loops: the same certificate, or the same subject with the same key, twice.
            if path.iter().any(|c| {
                c == &candidate
                    || (c.subject() == candidate.subject() && c.spki_der() == candidate.spki_der())
            }) {
                continue;
            }
            let (sig, cached) =
                self.validator
                    .check_signature(&top, &candidate, self.policy.algorithms, self.at);
            if !cached {
                self.signature_checks += 1;
                if self.signature_checks > MAX_SIGNATURE_CHECKS {
                    return Err(PathError::BudgetExceeded {
                        what: "signature checks",
                        limit: MAX_SIGNATURE_CHECKS,
                    });
                }
            }
            if let Err(reason) = sig {
                self.record(PathError::BadSignature {
                    certificate: top.describe(),
                    issuer: candidate.describe(),
                    reason,
                });
                continue;
            }
            if is_anchor {
                self.complete_paths += 1;
                if self.complete_paths > MAX_COMPLETE_PATHS {
                    return Err(PathError::BudgetExceeded {
                        what: "complete candidate paths",
                        limit: MAX_COMPLETE_PATHS,
                    });
                }
                match self.finish(path, &candidate) {
                    Ok(chain) => return Ok(Some(chain)),
                    Err(e) => {
                        if matches!(e, PathError::BudgetExceeded { .. }) {
                            return Err(e);
                        }
                        self.record(e);
                    }
                }
                continue;
            }
            // An intermediate: prune what can never be part of a valid path.
            let adds = usize::from(!candidate.is_self_issued());
            if intermediates + adds > max {
                self.record(PathError::ChainTooLong {
                    certificate: top.describe(),
                    max,
                });
                continue;
            }
            if let Err(e) = check_validity(&candidate, self.at) {
                self.record(e);
                continue;
            }
            if !candidate.is_ca() {
                self.record(PathError::NotCa {
                    certificate: candidate.describe(),
                });
                continue;
            }
            path.push(candidate);
            let found = self.extend(path)?;
            path.pop();
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Runs §6.1 on a complete path, then revocation (§6.3).
    fn finish(
        &mut self,
        path: &[Certificate],
        anchor: &Certificate,
    ) -> Result<VerifiedChain, PathError> {
        let policies = self.process_path(path, anchor)?;
        let mut certificates = path.to_vec();
        certificates.push(anchor.clone());
        let revocation = self.check_revocation(&certificates)?;
        Ok(VerifiedChain {
            retired: retired_uses(&certificates, self.policy.algorithms, self.at),
            certificates,
            policies,
            revocation,
            at: self.at,
        })
    }

    fn check_revocation(
        &mut self,
        chain: &[Certificate],
    ) -> Result<Vec<RevocationStatus>, PathError> {
        let rp = &self.policy.revocation;
        let mut out = Vec::new();
        for (i, cert) in chain[..chain.len() - 1].iter().enumerate() {
            let wanted = match rp.check {
                RevocationCheck::DangerouslySkip => false,
                RevocationCheck::EndEntityOnly => i == 0,
                RevocationCheck::FullChain => true,
            };
            // id-pkix-ocsp-nocheck: RFC 6960 §4.2.2.2.1, the responder certificate is trusted
            // for its lifetime.
            if !wanted
                || (self.policy.purpose == KeyPurpose::OcspSigning
                    && i == 0
                    && cert.extensions().ocsp_no_check)
            {
                out.push(RevocationStatus::NotChecked);
                continue;
            }
            let issuer = &chain[i + 1];
            match revocation::status(&revocation::RevocationCheckOf {
                validator: self.validator,
                cert,
                issuer,
                chain,
                at: self.at,
                sources: self.sources,
                policy: self.policy,
                nesting: self.nesting,
            }) {
                revocation::CertStatus::Good(evidence) => {
                    out.push(RevocationStatus::Good { evidence })
                }
                revocation::CertStatus::Revoked { date, reason } => {
                    return Err(PathError::Revoked {
                        certificate: cert.describe(),
                        revoked_at: date,
                        reason,
                    });
                }
                revocation::CertStatus::Unknown(reason) => match rp.unknown {
                    UnknownRevocation::Allow => out.push(RevocationStatus::Unknown { reason }),
                    UnknownRevocation::Deny => {
                        return Err(PathError::RevocationUnknown {
                            certificate: cert.describe(),
                            reason,
                        });
                    }
                },
            }
        }
        Ok(out)
    }

    /// RFC 5280 §6.1.2–§6.1.5 over `path` (leaf first) below `anchor`. Returns the
    /// authorities-constrained policy set.
    fn process_path(
        &mut self,
        path: &[Certificate],
        anchor: &Certificate,
    ) -> Result<Vec<String>, PathError> {
        let at = self.at;
        check_anchor(anchor, at, self.policy.algorithms)?;
        let n = path.len();
        let pol = &self.policy.policies;
        // §6.1.2 initialisation.
        let mut tree = PolicyTree::new();
        let mut explicit_policy = if pol.explicit_policy == ExplicitPolicy::Required {
            0
        } else {
            n + 1
        };
        let mut inhibit_any = if pol.any_policy == AnyPolicy::Inhibited {
            0
        } else {
            n + 1
        };
        let mut policy_mapping = if pol.policy_mapping == PolicyMapping::Inhibited {
            0
        } else {
            n + 1
        };
        // Trust anchor constraints (RFC 5937 §2): pathLen and name constraints of the anchor
        // certificate apply to the path.
        let mut max_path_length = n;
        if let Some(pl) = anchor
            .extensions()
            .basic_constraints
            .and_then(|b| b.path_len)
        {
            max_path_length = max_path_length.min(pl as usize);
        }
        let mut constraints: Vec<(Option<Vec<GeneralName>>, Vec<GeneralName>)> = Vec::new();
        if let Some(nc) = &anchor.extensions().name_constraints {
            check_nc_extension(anchor, nc)?;
            constraints.push((nc.permitted.clone(), nc.excluded.clone()));
        }

        for (idx, cert) in path.iter().rev().enumerate() {
            let i = idx + 1;
            let is_leaf = i == n;
            check_defects(cert)?;
            check_key(cert, self.policy.algorithms, at)?;
            // (a)(2) validity
            check_validity(cert, at)?;
            // Profile rules RFC 5280 states as MUSTs for issuers.
            if !cert.is_self_issued()
                && cert.extensions().authority_key_id.is_none()
                && cert.version() >= 2
            {
                return Err(profile(
                    cert,
                    "authorityKeyIdentifier missing (RFC 5280 §4.2.1.1)",
                ));
            }
            if !is_leaf && cert.extensions().subject_key_id.is_none() && cert.version() >= 2 {
                return Err(profile(
                    cert,
                    "CA certificate without subjectKeyIdentifier (RFC 5280 §4.2.1.2)",
                ));
            }
            if cert.issuer().is_empty() {
                return Err(profile(cert, "empty issuer name (RFC 5280 §4.1.2.4)"));
            }
            if !is_leaf && cert.subject().is_empty() {
                return Err(profile(
                    cert,
                    "CA certificate with an empty subject (RFC 5280 §4.1.2.6)",
                ));
            }
            // (b), (c) name constraints
            if !cert.is_self_issued() || is_leaf {
                self.check_name_constraints(cert, &constraints)?;
            }
            // (d)–(f) policies
            match &cert.extensions().policies {
                Some(p) => {
                    let any_allowed = inhibit_any > 0 || (!is_leaf && cert.is_self_issued());
                    tree.process_certificate(i, p, any_allowed).map_err(|_| {
                        PathError::BudgetExceeded {
                            what: "policy tree nodes",
                            limit: crate::pki::policy::MAX_NODES,
                        }
                    })?;
                }
                None => tree.set_null(),
            }
            if explicit_policy == 0 && tree.is_null() {
                return Err(PathError::PolicyViolation {
                    certificate: cert.describe(),
                });
            }
            if is_leaf {
                break;
            }
            // §6.1.4 preparation for certificate i+1.
            let ext = cert.extensions();
            if let Some(maps) = &ext.policy_mappings {
                if maps
                    .iter()
                    .any(|(a, b)| *a == oid::ANY_POLICY || *b == oid::ANY_POLICY)
                {
                    return Err(profile(
                        cert,
                        "policyMappings maps anyPolicy (RFC 5280 §6.1.4 (a))",
                    ));
                }
                tree.apply_mappings(i, maps, policy_mapping > 0)
                    .map_err(|_| PathError::BudgetExceeded {
                        what: "policy tree nodes",
                        limit: crate::pki::policy::MAX_NODES,
                    })?;
            }
            // (g) name constraints
            if let Some(nc) = &ext.name_constraints {
                check_nc_extension(cert, nc)?;
                constraints.push((nc.permitted.clone(), nc.excluded.clone()));
            }
            // (h)
            if !cert.is_self_issued() {
                explicit_policy = explicit_policy.saturating_sub(1);
                policy_mapping = policy_mapping.saturating_sub(1);
                inhibit_any = inhibit_any.saturating_sub(1);
            }
            // (i)
            if let Some(r) = ext.require_explicit_policy {
                explicit_policy = explicit_policy.min(r as usize);
            }
            if let Some(m) = ext.inhibit_policy_mapping {
                policy_mapping = policy_mapping.min(m as usize);
            }
            // (j)
            if let Some(s) = ext.inhibit_any_policy {
                inhibit_any = inhibit_any.min(s as usize);
            }
            // (k)
            if cert.version() < 2 || !cert.is_ca() {
                return Err(PathError::NotCa {
                    certificate: cert.describe(),
                });
            }
            // (l)
            if !cert.is_self_issued() {
                if max_path_length == 0 {
                    return Err(PathError::PathLenExceeded {
                        certificate: cert.describe(),
                    });
                }
                max_path_length -= 1;
            }
            // (m)
            if let Some(pl) = ext.basic_constraints.and_then(|b| b.path_len) {
                max_path_length = max_path_length.min(pl as usize);
            }
            // (n)
            if !cert.has_key_usage(key_usage::KEY_CERT_SIGN) {
                return Err(PathError::MissingKeyCertSign {
                    certificate: cert.describe(),
                });
            }
            // (o)
            check_critical(cert)?;
        }

        // §6.1.5 wrap-up.
        let leaf = &path[0];
        explicit_policy = explicit_policy.saturating_sub(1);
        if leaf.extensions().require_explicit_policy == Some(0) {
            explicit_policy = 0;
        }
        check_critical(leaf)?;
        if leaf.extensions().name_constraints.is_some() && !leaf.is_ca() {
            return Err(profile(
                leaf,
                "nameConstraints in an end-entity certificate (RFC 5280 §4.2.1.10)",
            ));
        }
        tree.intersect(n, pol.initial_policy_set.as_deref())
            .map_err(|_| PathError::BudgetExceeded {
                what: "policy tree nodes",
                limit: crate::pki::policy::MAX_NODES,
            })?;
        if explicit_policy == 0 && tree.is_null() {
            return Err(PathError::PolicyViolation {
                certificate: leaf.describe(),
            });
        }
        check_purpose(leaf, self.policy)?;
        Ok(tree.leaf_policies(n))
    }

    /// RFC 5280 §6.1.3 (b)–(c) for one certificate against every constraint set collected so far.
    fn check_name_constraints(
        &mut self,
        cert: &Certificate,
        constraints: &[(Option<Vec<GeneralName>>, Vec<GeneralName>)],
    ) -> Result<(), PathError> {
        if constraints.is_empty() {
            return Ok(());
        }
        let mut names: Vec<GeneralName> = Vec::new();
        if !cert.subject().is_empty() {
            names.push(GeneralName::Directory(NameKey(cert.subject().clone())));
        }
        names.extend(
            cert.subject()
                .emails()
                .iter()
                .cloned()
                .map(GeneralName::Rfc822),
        );
        if let Some(san) = &cert.extensions().subject_alt_names {
            names.extend(san.iter().cloned());
        }
        let violation = |detail: String| PathError::NameConstraintViolation {
            certificate: cert.describe(),
            detail,
        };
        for (permitted, excluded) in constraints {
            let cost = names.len() * (permitted.as_ref().map_or(0, Vec::len) + excluded.len());
            self.nc_comparisons += cost;
            if self.nc_comparisons > MAX_NAME_CONSTRAINT_COMPARISONS {
                return Err(PathError::BudgetExceeded {
                    what: "name constraint comparisons",
                    limit: MAX_NAME_CONSTRAINT_COMPARISONS,
                });
            }
            for name in &names {
                // A SAN dNSName that is not a host name cannot be judged against DNS subtrees.
                if let GeneralName::Dns(d) = name {
                    let bare = d.strip_prefix("*.").unwrap_or(d);
                    let constrained = permitted
                        .iter()
                        .flatten()
                        .chain(excluded)
                        .any(|b| same_form(name, b));
                    if constrained && !is_dns_name(bare) {
                        return Err(violation(format!("dNSName {d:?} is not a valid host name")));
                    }
                }
                if let GeneralName::Rfc822(e) = name {
                    let constrained = permitted
                        .iter()
                        .flatten()
                        .chain(excluded)
                        .any(|b| same_form(name, b));
                    let ok = e
                        .split_once('@')
                        .is_some_and(|(l, h)| !l.is_empty() && is_dns_name(h));
                    if constrained && !ok {
                        return Err(violation(format!("rfc822Name {e:?} is not a mailbox")));
                    }
                }
                if let GeneralName::Ip(b) = name {
                    let constrained = permitted
                        .iter()
                        .flatten()
                        .chain(excluded)
                        .any(|c| same_form(name, c));
                    if constrained && b.len() != 4 && b.len() != 16 {
                        return Err(violation("iPAddress of invalid length".into()));
                    }
                }
                for base in excluded {
                    if within_subtree(name, base) == Some(true) || wildcard_overlaps(name, base) {
                        return Err(violation(format!("{} is excluded", describe_name(name))));
                    }
                }
                if let Some(permitted) = permitted {
                    let relevant: Vec<&GeneralName> =
                        permitted.iter().filter(|b| same_form(name, b)).collect();
                    if !relevant.is_empty()
                        && !relevant
                            .iter()
                            .any(|b| within_subtree(name, b) == Some(true))
                    {
                        return Err(violation(format!(
                            "{} is not within the permitted subtrees",
                            describe_name(name)
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

fn describe_name(n: &GeneralName) -> String {
    match n {
        GeneralName::Rfc822(s) => format!("rfc822Name {s}"),
        GeneralName::Dns(s) => format!("dNSName {s}"),
        GeneralName::Uri(s) => format!("URI {s}"),
        GeneralName::Directory(d) => format!("directoryName {}", d.0),
        GeneralName::Ip(b) => format!("iPAddress {}", hex::encode(b)),
        GeneralName::Other(f, _) => format!("{f:?} name"),
        GeneralName::Invalid => "invalid name".into(),
    }
}

fn profile(cert: &Certificate, defect: &str) -> PathError {
    PathError::ProfileViolation {
        certificate: cert.describe(),
        defect: defect.to_owned(),
    }
}

pub(crate) fn check_validity(cert: &Certificate, at: OffsetDateTime) -> Result<(), PathError> {
    if at < cert.not_before() {
        return Err(PathError::NotYetValid {
            certificate: cert.describe(),
            at,
            not_before: cert.not_before(),
        });
    }
    if at > cert.not_after() {
        return Err(PathError::Expired {
            certificate: cert.describe(),
            at,
            not_after: cert.not_after(),
        });
    }
    Ok(())
}

/// The subject key itself must be one kyso would verify with: a leaf with a 1024-bit RSA or
/// DSA key is refused even though no certificate signature is made with it, since the document
/// signature will be. A key below the floor is judged by the policy's dates at `at`.
fn check_key(
    cert: &Certificate,
    algorithms: AlgorithmPolicy,
    at: OffsetDateTime,
) -> Result<(), PathError> {
    use crate::pki::signature::KeyKind;
    let bad = |reason: SignatureError| PathError::BadSignature {
        certificate: cert.describe(),
        issuer: "its own subject key".to_owned(),
        reason,
    };
    let kind = &cert.public_key().kind;
    match kind {
        KeyKind::Rsa { .. } | KeyKind::EcP256 | KeyKind::EcP384 | KeyKind::Ed25519 => {
            match algorithms.judge_key(kind, Some(at)) {
                Judgement::Refused(r) => Err(bad(r.weakness.refusal())),
                _ => Ok(()),
            }
        }
        KeyKind::Dsa => Err(bad(SignatureError::UnsupportedKey { oid: "DSA".into() })),
        KeyKind::EcOther(oid) | KeyKind::Unknown(oid) => {
            Err(bad(SignatureError::UnsupportedKey { oid: oid.clone() }))
        }
    }
}

/// The retired algorithms a validated chain (leaf first, anchor last) uses and the policy
/// accepted at `at`: each certificate's signature by the next one's key (the anchor's own
/// signature is not relied on), and each subject key.
fn retired_uses(
    chain: &[Certificate],
    algorithms: AlgorithmPolicy,
    at: OffsetDateTime,
) -> Vec<RetiredUse> {
    let mut out = Vec::new();
    let mut note = |cert: &Certificate, judgement: Judgement| {
        if let Judgement::Retired(list) = judgement {
            for (weakness, until) in list {
                let use_ = RetiredUse {
                    certificate: cert.describe(),
                    weakness,
                    until,
                };
                if !out.contains(&use_) {
                    out.push(use_);
                }
            }
        }
    };
    for (i, cert) in chain.iter().enumerate() {
        note(
            cert,
            algorithms.judge_key(&cert.public_key().kind, Some(at)),
        );
        if let (Some(issuer), Ok(alg)) = (chain.get(i + 1), cert.signature_algorithm()) {
            note(
                cert,
                algorithms.judge(alg, &issuer.public_key().kind, Some(at)),
            );
        }
    }
    out
}

fn check_defects(cert: &Certificate) -> Result<(), PathError> {
    match cert.defects().first() {
        Some(d) => Err(PathError::ProfileViolation {
            certificate: cert.describe(),
            defect: d.to_string(),
        }),
        None => Ok(()),
    }
}

fn check_critical(cert: &Certificate) -> Result<(), PathError> {
    match cert.extensions().unknown_critical.first() {
        Some(oid) => Err(PathError::UnknownCriticalExtension {
            certificate: cert.describe(),
            oid: oid.clone(),
        }),
        None => Ok(()),
    }
}

/// Trust anchors are certificates an operator configured; kyso holds them to the CA profile
/// (RFC 5280 §4.2.1.2, §4.2.1.9): a CA with a critical basicConstraints and a key identifier,
/// valid at the validation time, with no unknown critical extension.
fn check_anchor(
    anchor: &Certificate,
    at: OffsetDateTime,
    algorithms: AlgorithmPolicy,
) -> Result<(), PathError> {
    check_validity(anchor, at)?;
    check_key(anchor, algorithms, at)?;
    check_defects(anchor)?;
    check_critical(anchor)?;
    match anchor.extensions().basic_constraints {
        Some(bc) if bc.ca && bc.critical => {}
        Some(bc) if bc.ca => {
            return Err(profile(
                anchor,
                "trust anchor basicConstraints is not critical",
            ));
        }
        _ if anchor.version() < 2 => {}
        _ => {
            return Err(PathError::NotCa {
                certificate: anchor.describe(),
            });
        }
    }
    if anchor.version() >= 2 && anchor.extensions().subject_key_id.is_none() {
        return Err(profile(anchor, "trust anchor without subjectKeyIdentifier"));
    }
    if !anchor.has_key_usage(key_usage::KEY_CERT_SIGN) {
        return Err(PathError::MissingKeyCertSign {
            certificate: anchor.describe(),
        });
    }
    Ok(())
}

/// A nameConstraints extension must be critical, carry at least one subtree, and every base
/// must be well-formed for its form.
fn check_nc_extension(
    cert: &Certificate,
    nc: &crate::pki::cert::NameConstraints,
) -> Result<(), PathError> {
    if !nc.critical {
        return Err(profile(
            cert,
            "nameConstraints must be critical (RFC 5280 §4.2.1.10)",
        ));
    }
    if nc.permitted.as_ref().is_none_or(Vec::is_empty) && nc.excluded.is_empty() {
        return Err(profile(
            cert,
            "nameConstraints with no subtrees (RFC 5280 §4.2.1.10)",
        ));
    }
    if let Some(bad) = nc
        .permitted
        .iter()
        .flatten()
        .chain(&nc.excluded)
        .find(|b| !constraint_is_well_formed(b))
    {
        return Err(profile(
            cert,
            &format!("malformed name constraint {}", describe_name(bad)),
        ));
    }
    Ok(())
}

fn purpose_name(p: KeyPurpose) -> &'static str {
    match p {
        KeyPurpose::DocumentSigning => "document signing",
        KeyPurpose::TimeStamping => "time stamping",
        KeyPurpose::OcspSigning => "OCSP signing",
        KeyPurpose::CrlSigning => "CRL signing",
        KeyPurpose::Unrestricted => "any purpose",
    }
}

fn check_purpose(leaf: &Certificate, policy: &ValidationPolicy) -> Result<(), PathError> {
    let ext = leaf.extensions();
    let wrong = |detail: &str| PathError::WrongKeyPurpose {
        certificate: leaf.describe(),
        purpose: purpose_name(policy.purpose),
        detail: detail.to_owned(),
    };
    match policy.purpose {
        KeyPurpose::DocumentSigning if leaf.is_ca() => {
            return Err(wrong("a CA certificate (cA true) does not sign documents"));
        }
        KeyPurpose::DocumentSigning => match ext.key_usage {
            Some(ku) if ku & (key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION) != 0 => {}
            Some(_) => {
                return Err(wrong(
                    "keyUsage has neither digitalSignature nor nonRepudiation",
                ));
            }
            None if policy.signer_key_usage == SignerKeyUsage::Required => {
                return Err(wrong("no keyUsage extension (required by policy)"));
            }
            None => {}
        },
        KeyPurpose::TimeStamping => {
            if !leaf.has_key_usage(key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION) {
                return Err(wrong(
                    "keyUsage has neither digitalSignature nor nonRepudiation",
                ));
            }
            match &ext.extended_key_usage {
                Some(v)
                    if v.len() == 1
                        && v[0] == oid::KP_TIME_STAMPING
                        && ext.extended_key_usage_critical => {}
                _ => {
                    return Err(wrong(
                        "extendedKeyUsage must be critical and exactly id-kp-timeStamping (RFC 3161 §2.3)",
                    ));
                }
            }
        }
        KeyPurpose::OcspSigning => {
            if !leaf.has_key_usage(key_usage::DIGITAL_SIGNATURE | key_usage::NON_REPUDIATION) {
                return Err(wrong("keyUsage lacks digitalSignature"));
            }
            if !ext
                .extended_key_usage
                .as_ref()
                .is_some_and(|v| v.iter().any(|o| *o == oid::KP_OCSP_SIGNING))
            {
                return Err(wrong("extendedKeyUsage lacks id-kp-OCSPSigning"));
            }
        }
        KeyPurpose::CrlSigning => {
            if !leaf.has_key_usage(key_usage::CRL_SIGN) {
                return Err(wrong("keyUsage lacks cRLSign"));
            }
        }
        KeyPurpose::Unrestricted => {}
    }
    if let ExtendedKeyUsage::Require(required) = &policy.extended_key_usage
        && let Some(v) = &ext.extended_key_usage
        && !v
            .iter()
            .any(|o| o == required || *o == oid::ANY_EXTENDED_KEY_USAGE)
    {
        return Err(wrong(&format!("extendedKeyUsage lacks {required}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_specific_reasons_rank_higher() {
        let none = PathError::UnknownIssuer {
            subject: "a".into(),
            issuer: "b".into(),
        };
        let sig = PathError::BadSignature {
            certificate: "a".into(),
            issuer: "b".into(),
            reason: SignatureError::Invalid,
        };
        let at = OffsetDateTime::UNIX_EPOCH;
        let expired = PathError::Expired {
            certificate: "a".into(),
            at,
            not_after: at,
        };
        let revoked = PathError::Revoked {
            certificate: "a".into(),
            revoked_at: at,
            reason: "keyCompromise".into(),
        };
        assert!(
            none.rank() < sig.rank()
                && sig.rank() < expired.rank()
                && expired.rank() < revoked.rank()
        );
    }

    #[test]
    fn could_not_check_is_not_checked_and_bad() {
        let unknown = PathError::RevocationUnknown {
            certificate: "a".into(),
            reason: "responder down".into(),
        };
        assert!(unknown.is_indeterminate());
        assert_eq!(unknown.sub_indication(), "TRY_LATER");
        let revoked = PathError::Revoked {
            certificate: "a".into(),
            revoked_at: OffsetDateTime::UNIX_EPOCH,
            reason: "keyCompromise".into(),
        };
        assert!(!revoked.is_indeterminate());
        assert_eq!(revoked.sub_indication(), "REVOKED");
    }
}
