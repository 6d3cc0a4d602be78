//! Revocation checking (RFC 5280 §6.3 for CRLs, RFC 6960 for OCSP) and where evidence comes from.
//!
//! Owns: the [`RevocationSource`] trait (validation asks sources in order: evidence embedded in
//! the signature first, then online), the offline [`Evidence`] store, the hard-fail / soft-fail
//! policy, and the evaluation of CRLs (scope via distribution points and
//! issuingDistributionPoint, indirect CRLs, delta CRLs, reason coverage, CRL signer path) and OCSP
//! responses against one certificate. Refuses: CRLs with profile defects or critical entry
//! extensions it cannot process (RFC 5280 §5.3), evidence that is stale at the validation time,
//! and evidence signed by anyone but the issuer, a delegated responder, or a CRL issuer whose own
//! path validates.

use time::OffsetDateTime;

use crate::pki::cert::{Certificate, DistributionPoint, key_usage};
use crate::pki::crl::{Crl, IssuingDistributionPoint, REASON_REMOVE_FROM_CRL};
use crate::pki::name::GeneralName;
use crate::pki::ocsp::{self, OcspResponse};
use crate::pki::path::{KeyPurpose, MAX_NESTING, ValidationPolicy, Validator};
use crate::pki::signature;

/// Which certificates of a path get a revocation check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RevocationCheck {
    /// Every certificate below the trust anchor (RFC 5280 §6.1.3 (a)(3)).
    #[default]
    FullChain,
    /// Only the leaf.
    EndEntityOnly,
    /// No revocation checking at all: for tests and offline demos only.
    DangerouslySkip,
}

/// What to do when no evidence can be had (no CRL or OCSP response, responder down).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownRevocation {
    /// Hard fail: the path is rejected as INDETERMINATE / TRY_LATER.
    #[default]
    Deny,
    /// Soft fail: the path is accepted and the status recorded as unknown.
    Allow,
}

/// Revocation knobs of a validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RevocationPolicy {
    pub check: RevocationCheck,
    pub unknown: UnknownRevocation,
}

/// Where a "good" status came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    Crl,
    Ocsp,
}

/// Material found by a source, plus what it failed to get (for the "unknown" reason).
#[derive(Clone, Debug)]
pub struct Found<T> {
    pub items: Vec<T>,
    pub failures: Vec<String>,
}

impl<T> Default for Found<T> {
    fn default() -> Self {
        Found {
            items: Vec::new(),
            failures: Vec::new(),
        }
    }
}

/// A supplier of revocation material. Sources only supply; the validator checks signatures,
/// scope and freshness, so a source can be as dumb as a list.
pub trait RevocationSource: Send + Sync {
    /// CRLs (complete and delta) that may speak for `cert`.
    fn crls(&self, cert: &Certificate) -> Found<Crl>;
    /// OCSP responses that may speak for `cert`, issued by `issuer`.
    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Found<OcspResponse>;
}

/// Offline evidence: CRLs and OCSP responses already at hand (embedded in a signature, a PDF
/// DSS, a test fixture).
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    crls: Vec<Crl>,
    ocsp: Vec<OcspResponse>,
}

impl Evidence {
    pub fn new() -> Evidence {
        Evidence::default()
    }
    pub fn add_crl(&mut self, crl: Crl) {
        self.crls.push(crl);
    }
    pub fn add_ocsp(&mut self, response: OcspResponse) {
        self.ocsp.push(response);
    }
    pub fn crl_count(&self) -> usize {
        self.crls.len()
    }
}

impl RevocationSource for Evidence {
    fn crls(&self, cert: &Certificate) -> Found<Crl> {
        let issuers = crl_issuer_names(cert);
        Found {
            items: self
                .crls
                .iter()
                .filter(|c| issuers.iter().any(|k| k == c.issuer().key()))
                .cloned()
                .collect(),
            failures: Vec::new(),
        }
    }

    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Found<OcspResponse> {
        Found {
            items: self
                .ocsp
                .iter()
                .filter(|r| r.find(cert, issuer).is_some())
                .cloned()
                .collect(),
            failures: Vec::new(),
        }
    }
}

/// Name keys of the CRL issuers that may speak for `cert`: its issuer and every cRLIssuer of
/// its distribution points.
pub(crate) fn crl_issuer_names(cert: &Certificate) -> Vec<String> {
    let mut out = vec![cert.issuer().key().to_owned()];
    for dp in &cert.extensions().crl_distribution_points {
        for n in dp.crl_issuer.iter().flatten() {
            if let GeneralName::Directory(k) = n {
                out.push(k.0.key().to_owned());
            }
        }
    }
    out
}

/// The outcome for one certificate.
#[derive(Debug, Clone)]
pub(crate) enum CertStatus {
    Good(EvidenceKind),
    Revoked {
        date: OffsetDateTime,
        reason: String,
    },
    Unknown(String),
}

/// All CRLReason values a complete set of CRLs must cover (ReasonFlags bits 1..=8).
const ALL_REASONS: u16 = 0x1fe;

/// Longest an OCSP response without nextUpdate is taken as current after its thisUpdate:
/// RFC 6960 §4.2.2.1 leaves it to local policy; CA/Browser Forum BR §4.9.10 caps responder
/// validity at 10 days, so older evidence is stale everywhere.
const OCSP_MAX_AGE_WITHOUT_NEXT_UPDATE: time::Duration = time::Duration::days(10);

/// What the revocation check of one certificate of a path works with: the validator (for the
/// nested paths of delegated OCSP responders and CRL issuers), the certificate and its issuer,
/// the path, the time of interest, the evidence sources, the policy, and how deep nested
/// validations already go ([`MAX_NESTING`]).
#[derive(Clone, Copy)]
pub(crate) struct RevocationCheckOf<'v> {
    pub validator: &'v Validator,
    pub cert: &'v Certificate,
    pub issuer: &'v Certificate,
    pub chain: &'v [Certificate],
    pub at: OffsetDateTime,
    pub sources: &'v [&'v dyn RevocationSource],
    pub policy: &'v ValidationPolicy,
    pub nesting: usize,
}

/// The certificate's revocation status at the time of interest, from the first source that
/// decides it: OCSP, then CRLs, source by source.
pub(crate) fn status(check: &RevocationCheckOf<'_>) -> CertStatus {
    let RevocationCheckOf {
        cert,
        issuer,
        sources,
        nesting,
        ..
    } = *check;
    let mut reasons: Vec<String> = Vec::new();
    if nesting >= MAX_NESTING {
        return CertStatus::Unknown("revocation checks nested too deeply".into());
    }
    for source in sources {
        // OCSP first: it is specific to this certificate and usually fresher.
        let found = source.ocsp(cert, issuer);
        reasons.extend(found.failures);
        for response in &found.items {
            match check_ocsp(check, response) {
                Ok(Some(s)) => return s,
                Ok(None) => {}
                Err(e) => reasons.push(format!("OCSP response unusable: {e}")),
            }
        }
        let found = source.crls(cert);
        reasons.extend(found.failures);
        if !found.items.is_empty() {
            match check_crls(check, &found.items) {
                CertStatus::Unknown(r) => reasons.push(r),
                decided => return decided,
            }
        }
    }
    if reasons.is_empty() {
        reasons.push("no CRL or OCSP response available".into());
    }
    CertStatus::Unknown(reasons.join("; "))
}

fn check_ocsp(
    check: &RevocationCheckOf<'_>,
    response: &OcspResponse,
) -> Result<Option<CertStatus>, String> {
    let RevocationCheckOf {
        validator,
        cert,
        issuer,
        chain,
        at,
        sources,
        policy,
        nesting,
    } = *check;
    let Some(single) = response.find(cert, issuer) else {
        return Ok(None);
    };
    // Who signed: the issuer itself, or a delegated responder certified by the issuer
    // (RFC 6960 §4.2.2.2).
    let signed_by_issuer = response.responder_matches(issuer)
        && response
            .verify_signature(issuer.public_key(), policy.algorithms, at)
            .is_ok();
    if !signed_by_issuer {
        let mut authorised = false;
        let mut why = String::from("not signed by the issuer or an authorised responder");
        for responder in response.certificates() {
            if !response.responder_matches(responder) || responder.issuer() != issuer.subject() {
                continue;
            }
            if response
                .verify_signature(responder.public_key(), policy.algorithms, at)
                .is_err()
            {
                continue;
            }
            let mut responder_policy = policy.clone();
            responder_policy.purpose = KeyPurpose::OcspSigning;
            responder_policy.extended_key_usage = Default::default();
            responder_policy.policies = Default::default();
            responder_policy.revocation.check = crate::pki::RevocationCheck::EndEntityOnly;
            // RFC 6960 §4.2.2.2.1 leaves a responder certificate without id-pkix-ocsp-nocheck
            // and without revocation pointers to local policy: kyso refuses a responder shown to
            // be revoked, and accepts one whose status cannot be had (otherwise every such
            // responder would make every answer unusable).
            responder_policy.revocation.unknown = UnknownRevocation::Allow;
            let mut extra = chain.to_vec();
            extra.extend(response.certificates().iter().cloned());
            match validator.validate_nested(
                responder,
                &extra,
                at,
                sources,
                &responder_policy,
                nesting + 1,
            ) {
                Ok(path) if path.certificates().get(1) == Some(issuer) => {
                    authorised = true;
                    break;
                }
                Ok(_) => {
                    why = "delegated responder not certified by the certificate's issuer".into()
                }
                Err(e) => why = format!("delegated responder: {e}"),
            }
        }
        if !authorised {
            return Err(why);
        }
    }
    // Freshness at the validation time.
    if let Some(next) = single.next_update {
        if at > next {
            return Err(format!("stale: checked at {at}, nextUpdate {next}"));
        }
    } else if at > single.this_update + OCSP_MAX_AGE_WITHOUT_NEXT_UPDATE {
        return Err(format!(
            "stale: checked at {at}, thisUpdate {} and no nextUpdate",
            single.this_update
        ));
    }
    Ok(match &single.status {
        ocsp::CertStatus::Good => Some(CertStatus::Good(EvidenceKind::Ocsp)),
        ocsp::CertStatus::Revoked { time, reason } => {
            if *time <= at {
                Some(CertStatus::Revoked {
                    date: *time,
                    reason: reason_name(*reason),
                })
            } else {
                // Revoked after the time of interest: it was good then (a signature timestamped
                // before revocation stays valid).
                Some(CertStatus::Good(EvidenceKind::Ocsp))
            }
        }
        ocsp::CertStatus::Unknown => {
            return Err("the responder does not know this certificate".into());
        }
    })
}

pub(crate) fn reason_name(reason: Option<u8>) -> String {
    match reason {
        None | Some(0) => "unspecified",
        Some(1) => "keyCompromise",
        Some(2) => "cACompromise",
        Some(3) => "affiliationChanged",
        Some(4) => "superseded",
        Some(5) => "cessationOfOperation",
        Some(6) => "certificateHold",
        Some(8) => "removeFromCRL",
        Some(9) => "privilegeWithdrawn",
        Some(10) => "aACompromise",
        Some(_) => "unknown",
    }
    .to_owned()
}

/// The certificate's distribution points, or the implicit one RFC 5280 §6.3.3 assumes when
/// there are none (the issuer's CRL, all reasons).
fn distribution_points(cert: &Certificate) -> Vec<DistributionPoint> {
    let dps = &cert.extensions().crl_distribution_points;
    if dps.is_empty() {
        vec![DistributionPoint::default()]
    } else {
        dps.clone()
    }
}

fn names_intersect(a: &[GeneralName], b: &[GeneralName]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// RFC 5280 §6.3.3 (b): does `crl` cover `cert` through distribution point `dp`? Returns the
/// interim reasons mask (§6.3.3 (d)).
fn scope(crl: &Crl, cert: &Certificate, dp: &DistributionPoint) -> Option<u16> {
    let idp = crl.issuing_distribution_point();
    // (b)(1) issuer
    match &dp.crl_issuer {
        Some(issuers) => {
            let direct = GeneralName::Directory(crate::pki::name::NameKey(crl.issuer().clone()));
            if !issuers.contains(&direct) || !idp.is_some_and(|i| i.indirect) {
                return None;
            }
        }
        None => {
            if crl.issuer() != cert.issuer() {
                return None;
            }
        }
    }
    let full = IssuingDistributionPoint::default();
    let idp = idp.unwrap_or(&full);
    // (b)(2)(i) distribution point names
    if let Some(idp_names) = &idp.names {
        let ok = match (&dp.names, &dp.crl_issuer) {
            (Some(dp_names), _) => names_intersect(idp_names, dp_names),
            (None, Some(issuers)) => names_intersect(idp_names, issuers),
            (None, None) => false,
        };
        if !ok {
            return None;
        }
    }
    // (b)(2)(ii)-(iv)
    if idp.only_user_certs && cert.is_ca() {
        return None;
    }
    if idp.only_ca_certs && !cert.is_ca() {
        return None;
    }
    if idp.only_attribute_certs {
        return None;
    }
    Some(
        idp.only_some_reasons.unwrap_or(ALL_REASONS)
            & dp.reasons.unwrap_or(ALL_REASONS)
            & ALL_REASONS,
    )
}

fn check_crls(check: &RevocationCheckOf<'_>, crls: &[Crl]) -> CertStatus {
    let RevocationCheckOf {
        validator,
        cert,
        at,
        policy,
        ..
    } = *check;
    let mut reasons_mask: u16 = 0;
    let mut problems: Vec<String> = Vec::new();
    let mut signer_cache: Vec<(usize, Option<Certificate>)> = Vec::new();
    for dp in distribution_points(cert) {
        for (idx, crl) in crls.iter().enumerate() {
            if crl.is_delta() {
                continue;
            }
            let Some(interim) = scope(crl, cert, &dp) else {
                continue;
            };
            if interim & !reasons_mask == 0 {
                continue;
            }
            if let Some(d) = crl.defects().first() {
                problems.push(format!("CRL from {} unusable: {d}", crl.issuer()));
                continue;
            }
            if let Some(next) = crl.next_update()
                && at > next
            {
                problems.push(format!(
                    "CRL from {} stale: checked at {at}, nextUpdate {next}",
                    crl.issuer()
                ));
                continue;
            }
            let signer = match signer_cache.iter().find(|(i, _)| *i == idx) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = crl_signer(check, crl, &mut problems);
                    signer_cache.push((idx, s.clone()));
                    s
                }
            };
            let Some(signer) = signer else {
                continue;
            };
            // Delta CRLs (§6.3.3 (c)): same issuer and scope, based on this CRL or older, newer
            // than it, signed by the same key, current.
            let delta = crls.iter().find(|d| {
                d.is_delta()
                    && d.issuer() == crl.issuer()
                    && same_scope(
                        d.issuing_distribution_point(),
                        crl.issuing_distribution_point(),
                    )
                    && d.defects().is_empty()
                    && matches!((d.delta_base(), crl.number()), (Some(base), Some(n)) if base <= n)
                    && matches!((d.number(), crl.number()), (Some(dn), Some(n)) if dn > n)
                    && d.next_update().is_none_or(|next| at <= next)
                    && verify_crl_signature(validator, d, &signer, policy, at).is_ok()
            });
            if let Some(delta) = delta
                && let Some(entry) = delta.lookup(cert.serial(), cert.issuer())
            {
                if entry.unknown_critical {
                    problems.push("delta CRL entry has an unknown critical extension".into());
                    continue;
                }
                if entry.reason == Some(REASON_REMOVE_FROM_CRL) {
                    reasons_mask |= interim;
                    continue;
                }
                if entry.revocation_date <= at {
                    return CertStatus::Revoked {
                        date: entry.revocation_date,
                        reason: reason_name(entry.reason),
                    };
                }
            }
            if let Some(entry) = crl.lookup(cert.serial(), cert.issuer()) {
                if entry.unknown_critical {
                    // RFC 5280 §5.3: such a CRL must not be used for any certificate; the entry
                    // names this one, so the safe reading is "revoked".
                    return CertStatus::Revoked {
                        date: entry.revocation_date,
                        reason: "entry with an unknown critical extension".into(),
                    };
                }
                if entry.reason != Some(REASON_REMOVE_FROM_CRL) && entry.revocation_date <= at {
                    return CertStatus::Revoked {
                        date: entry.revocation_date,
                        reason: reason_name(entry.reason),
                    };
                }
            }
            reasons_mask |= interim;
        }
    }
    if reasons_mask == ALL_REASONS {
        CertStatus::Good(EvidenceKind::Crl)
    } else if problems.is_empty() {
        if reasons_mask == 0 {
            CertStatus::Unknown("no CRL in scope for this certificate".into())
        } else {
            CertStatus::Unknown(format!("CRLs cover only reasons {reasons_mask:#x}"))
        }
    } else {
        CertStatus::Unknown(problems.join("; "))
    }
}

fn same_scope(a: Option<&IssuingDistributionPoint>, b: Option<&IssuingDistributionPoint>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.names == b.names
                && a.only_user_certs == b.only_user_certs
                && a.only_ca_certs == b.only_ca_certs
                && a.only_some_reasons == b.only_some_reasons
                && a.indirect == b.indirect
        }
        _ => false,
    }
}

fn verify_crl_signature(
    validator: &Validator,
    crl: &Crl,
    signer: &Certificate,
    policy: &ValidationPolicy,
    at: OffsetDateTime,
) -> Result<(), signature::SignatureError> {
    validator
        .check_signed(
            crl.fingerprint(),
            crl.signature_algorithm(),
            crl.tbs(),
            crl.signature(),
            signer,
            policy.algorithms,
            at,
        )
        .0
}

/// RFC 5280 §6.3.3 (f)–(g): find the certificate whose key signed `crl` and whose path
/// validates to a trust anchor, with cRLSign when keyUsage is present.
fn crl_signer(
    check: &RevocationCheckOf<'_>,
    crl: &Crl,
    problems: &mut Vec<String>,
) -> Option<Certificate> {
    let RevocationCheckOf {
        validator,
        cert,
        issuer,
        chain,
        at,
        sources,
        policy,
        nesting,
    } = *check;
    // The usual case: the certificate's issuer, already validated as part of this path.
    if crl.issuer() == issuer.subject()
        && verify_crl_signature(validator, crl, issuer, policy, at).is_ok()
    {
        if issuer.has_key_usage(key_usage::CRL_SIGN) {
            return Some(issuer.clone());
        }
        problems.push(format!(
            "CRL issuer {} lacks keyUsage cRLSign",
            issuer.describe()
        ));
        return None;
    }
    let pool = {
        let mut p = crate::pki::CertPool::new();
        p.extend(chain.iter().cloned());
        p
    };
    let candidates: Vec<(Certificate, bool)> = validator
        .candidates(crl.issuer().key(), &pool)
        .map(|(c, a)| (c.clone(), a))
        .collect();
    for (candidate, is_anchor) in candidates {
        // A certificate cannot vouch for its own status.
        if &candidate == cert
            || verify_crl_signature(validator, crl, &candidate, policy, at).is_err()
        {
            continue;
        }
        if !candidate.has_key_usage(key_usage::CRL_SIGN) {
            problems.push(format!(
                "CRL signer {} lacks keyUsage cRLSign",
                candidate.describe()
            ));
            continue;
        }
        if is_anchor {
            return Some(candidate);
        }
        let mut signer_policy = policy.clone();
        signer_policy.purpose = KeyPurpose::CrlSigning;
        signer_policy.extended_key_usage = Default::default();
        signer_policy.policies = Default::default();
        match validator.validate_nested(&candidate, chain, at, sources, &signer_policy, nesting + 1)
        {
            // The CRL issuer's path must end at the same trust anchor as the certificate's.
            Ok(path) if path.anchor() == &chain[chain.len() - 1] => return Some(candidate),
            Ok(_) => problems.push(format!(
                "CRL signer {} chains to another anchor",
                candidate.describe()
            )),
            Err(e) => problems.push(format!("CRL signer {}: {e}", candidate.describe())),
        }
    }
    if problems.is_empty() {
        problems.push(format!(
            "no valid signer found for the CRL from {}",
            crl.issuer()
        ));
    }
    None
}
