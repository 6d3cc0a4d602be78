//! The algorithm policy with dates (ETSI TS 119 312 §6–7, ETSI EN 319 102-1 §5.2.8 "cryptographic
//! constraints" and Table 7 CRYPTO_CONSTRAINTS_FAILURE(_NO_POE)): which signature algorithms and
//! key sizes are current, and until when a retired one is still accepted for a signature proven
//! to have existed before that date.
//!
//! Owns: the floor for current use (RSA ≥ 2048 bits with PKCS#1 v1.5 or PSS, ECDSA ≥ 256 bits,
//! SHA-2; Circular 15/2025/TT-BKHCN, Annex 1.2–1.3) and the cut-off dates of the two retired
//! weaknesses Vietnamese archives still carry: SHA-1 and RSA keys of 1024 to 2047 bits. One
//! [`AlgorithmPolicy::judge`] answers for document signatures, certificates, CRLs, OCSP responses
//! and time-stamp tokens, so every signature in a validation is held to the same dates.
//!
//! Refuses: to accept a retired algorithm without a time (a signature whose existence before the
//! cut-off is not proven is judged at "now"), and ever to accept one for a new signature
//! ([`AlgorithmPolicy::for_new_signature`]). It does not verify anything: whether a value
//! verifies is [`crate::pki::signature::verify_value`]'s question, asked first.

use time::{Date, Month, OffsetDateTime};

use crate::pki::signature::{Hash, KeyKind, SignatureAlgorithm, SignatureError};

/// Which algorithms and key sizes a signature may use, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorithmPolicy {
    /// Current algorithms always; retired ones for what existed before their cut-off dates.
    Dated(AlgorithmDates),
    /// Also accepts SHA-1 and RSA keys of 1024..2048 bits at any time, with no warning. Only for
    /// conformance runs over old test vectors; never for new signatures.
    DangerouslyAllowLegacy,
}

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        AlgorithmPolicy::Dated(AlgorithmDates::default())
    }
}

/// The floor for current use and the cut-off dates of retired algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgorithmDates {
    /// Smallest RSA modulus in current use. 2048: Circular 15/2025/TT-BKHCN Annex 1.2 ("độ dài
    /// khóa tối thiểu là 2048 bit"), NIST SP 800-131A Rev. 2 §3.
    pub rsa_min_bits: usize,
    /// Smallest ECDSA curve in current use. 256: Circular 15/2025/TT-BKHCN Annex 1.2.
    pub ecdsa_min_bits: usize,
    /// SHA-1 is accepted for a signature proven to exist before this date; `None`: never.
    pub sha1_until: Option<Date>,
    /// RSA keys from 1024 bits up to `rsa_min_bits` are accepted for a signature proven to
    /// exist before this date; `None`: never.
    pub small_rsa_until: Option<Date>,
}

/// SHA-1's cut-off: 2019-01-01. Circular 15/2025/TT-BKHCN (like ETSI TS 119 312) lists only
/// SHA-2 and SHA-3 for signatures, and names no date for SHA-1; NIST SP 800-131A disallowed
/// SHA-1 for signature generation after 2013, and the licensed Vietnamese CAs had moved their
/// issuance to SHA-256 by the end of 2018. kyso takes the later date so that documents signed
/// during the migration still verify when time-stamped; `docs/manual/vn-profile.md` says how
/// an operator sets their own.
pub const SHA1_UNTIL: Date = match Date::from_calendar_date(2019, Month::January, 1) {
    Ok(date) => date,
    Err(_) => panic!("BUG: 2019-01-01 is a date"),
};

/// The cut-off of RSA keys under 2048 bits: 2014-01-01, NIST SP 800-131A (2011) §3, which
/// disallowed 1024-bit RSA signatures after 2013.
pub const SMALL_RSA_UNTIL: Date = match Date::from_calendar_date(2014, Month::January, 1) {
    Ok(date) => date,
    Err(_) => panic!("BUG: 2014-01-01 is a date"),
};

/// The smallest RSA key kyso verifies at all (aws-lc-rs's legacy verifiers start here).
const RSA_VERIFIABLE_BITS: usize = 1024;

impl Default for AlgorithmDates {
    fn default() -> Self {
        AlgorithmDates {
            rsa_min_bits: 2048,
            ecdsa_min_bits: 256,
            sha1_until: Some(SHA1_UNTIL),
            small_rsa_until: Some(SMALL_RSA_UNTIL),
        }
    }
}

/// What puts a signature below the floor of current use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Weakness {
    Sha1,
    SmallRsa { bits: usize },
    SmallEc { bits: usize },
}

impl std::fmt::Display for Weakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Weakness::Sha1 => f.write_str("SHA-1"),
            Weakness::SmallRsa { bits } => write!(f, "a {bits}-bit RSA key"),
            Weakness::SmallEc { bits } => write!(f, "a {bits}-bit elliptic-curve key"),
        }
    }
}

impl Weakness {
    /// The refusal a path or a revocation check reports (its words kept from the undated
    /// policy, so that logs read the same).
    pub fn refusal(self) -> SignatureError {
        match self {
            Weakness::Sha1 => SignatureError::WeakAlgorithm { name: "SHA-1" },
            Weakness::SmallRsa { bits } | Weakness::SmallEc { bits } => {
                SignatureError::KeyTooSmall { bits }
            }
        }
    }
}

/// The policy's answer for one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// Every algorithm is in current use.
    Current,
    /// Below the floor, and accepted: the signature existed before each weakness's cut-off.
    Retired(Vec<(Weakness, Date)>),
    /// Below the floor, and refused.
    Refused(Refusal),
}

/// Why a signature below the floor is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub weakness: Weakness,
    /// The cut-off of the weakness, if it has one.
    pub until: Option<Date>,
    /// The proven time the signature was judged at (`None`: no proof of existence).
    pub existed: Option<OffsetDateTime>,
}

impl Refusal {
    /// Whether a proof of existence before `until` would have changed the answer: the ETSI
    /// distinction between CRYPTO_CONSTRAINTS_FAILURE_NO_POE and CRYPTO_CONSTRAINTS_FAILURE.
    pub fn lacks_proof(&self) -> bool {
        self.until.is_some() && self.existed.is_none()
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.until, self.existed) {
            (None, _) => write!(f, "{} is below the algorithm policy", self.weakness),
            (Some(until), None) => write!(
                f,
                "{} is accepted only for signatures proven to exist before {until}, and nothing proves when this one was made",
                self.weakness
            ),
            (Some(until), Some(existed)) => write!(
                f,
                "{} is accepted only for signatures proven to exist before {until}, and this one is proven at {}",
                self.weakness,
                existed.date()
            ),
        }
    }
}

impl AlgorithmPolicy {
    /// What the policy says of `algorithm` used with `key` by a signature that existed at
    /// `existed` (a verified time-stamp, the time a chain is validated at), or of one with no
    /// proof of when it was made (`None`).
    pub fn judge(
        &self,
        algorithm: &SignatureAlgorithm,
        key: &KeyKind,
        existed: Option<OffsetDateTime>,
    ) -> Judgement {
        self.judge_weaknesses(&self.weaknesses(algorithm, key), existed)
    }

    /// What puts `algorithm` with `key` below the floor of current use (nothing under
    /// [`AlgorithmPolicy::DangerouslyAllowLegacy`]).
    pub fn weaknesses(&self, algorithm: &SignatureAlgorithm, key: &KeyKind) -> Vec<Weakness> {
        let AlgorithmPolicy::Dated(dates) = self else {
            return Vec::new();
        };
        let mut weaknesses: Vec<Weakness> = dates.key_weakness(key).into_iter().collect();
        if algorithm_hash(algorithm) == Some(Hash::Sha1) {
            weaknesses.push(Weakness::Sha1);
        }
        weaknesses
    }

    /// What puts `key` below the floor of current use, if anything.
    pub fn key_weakness(&self, key: &KeyKind) -> Option<Weakness> {
        match self {
            AlgorithmPolicy::Dated(dates) => dates.key_weakness(key),
            AlgorithmPolicy::DangerouslyAllowLegacy => None,
        }
    }

    /// What the policy says of a key alone (a certificate's subject key, which will sign).
    pub fn judge_key(&self, key: &KeyKind, existed: Option<OffsetDateTime>) -> Judgement {
        match self {
            AlgorithmPolicy::DangerouslyAllowLegacy => Judgement::Current,
            AlgorithmPolicy::Dated(dates) => {
                let weaknesses: Vec<Weakness> = dates.key_weakness(key).into_iter().collect();
                dates.judge_weaknesses(&weaknesses, existed)
            }
        }
    }

    /// Judges weaknesses found elsewhere (an XML reference's SHA-1 digest, the SHA-1 digest an
    /// `adbe.pkcs7.sha1` signature encapsulates).
    pub fn judge_weaknesses(
        &self,
        weaknesses: &[Weakness],
        existed: Option<OffsetDateTime>,
    ) -> Judgement {
        match self {
            AlgorithmPolicy::DangerouslyAllowLegacy => Judgement::Current,
            AlgorithmPolicy::Dated(dates) => dates.judge_weaknesses(weaknesses, existed),
        }
    }

    /// `Ok` when a new signature may be made now with `algorithm` and `key`: only current
    /// algorithms, whatever the cut-off dates say of past signatures.
    pub fn for_new_signature(
        &self,
        algorithm: &SignatureAlgorithm,
        key: &KeyKind,
    ) -> Result<(), Weakness> {
        // New signatures are never legacy, whatever a conformance run allows.
        self.for_new_key(key)?;
        if algorithm_hash(algorithm) == Some(Hash::Sha1) {
            return Err(Weakness::Sha1);
        }
        Ok(())
    }

    /// `Ok` when a key may make new signatures now: the floor of current use, whatever the
    /// cut-off dates say of past signatures.
    pub fn for_new_key(&self, key: &KeyKind) -> Result<(), Weakness> {
        let dates = match self {
            AlgorithmPolicy::Dated(dates) => *dates,
            AlgorithmPolicy::DangerouslyAllowLegacy => AlgorithmDates::default(),
        };
        dates.key_weakness(key).map_or(Ok(()), Err)
    }

    /// The refusal of a judgement, as path validation reports it.
    pub fn check(
        &self,
        algorithm: &SignatureAlgorithm,
        key: &KeyKind,
        existed: Option<OffsetDateTime>,
    ) -> Result<(), SignatureError> {
        match self.judge(algorithm, key, existed) {
            Judgement::Refused(r) => Err(r.weakness.refusal()),
            _ => Ok(()),
        }
    }
}

impl AlgorithmDates {
    fn key_weakness(&self, key: &KeyKind) -> Option<Weakness> {
        match key {
            KeyKind::Rsa { bits } if *bits < self.rsa_min_bits => {
                Some(Weakness::SmallRsa { bits: *bits })
            }
            KeyKind::EcP256 if self.ecdsa_min_bits > 256 => Some(Weakness::SmallEc { bits: 256 }),
            KeyKind::EcP384 if self.ecdsa_min_bits > 384 => Some(Weakness::SmallEc { bits: 384 }),
            _ => None,
        }
    }

    fn until(&self, weakness: Weakness) -> Option<Date> {
        match weakness {
            Weakness::Sha1 => self.sha1_until,
            Weakness::SmallRsa { bits } if bits >= RSA_VERIFIABLE_BITS => self.small_rsa_until,
            Weakness::SmallRsa { .. } | Weakness::SmallEc { .. } => None,
        }
    }

    fn judge_weaknesses(
        &self,
        weaknesses: &[Weakness],
        existed: Option<OffsetDateTime>,
    ) -> Judgement {
        if weaknesses.is_empty() {
            return Judgement::Current;
        }
        let mut retired = Vec::new();
        for &weakness in weaknesses {
            let until = self.until(weakness);
            match (until, existed) {
                (Some(until), Some(at)) if at.to_offset(time::UtcOffset::UTC).date() < until => {
                    retired.push((weakness, until));
                }
                _ => {
                    return Judgement::Refused(Refusal {
                        weakness,
                        until,
                        existed,
                    });
                }
            }
        }
        Judgement::Retired(retired)
    }
}

/// The hash a signature algorithm signs with.
fn algorithm_hash(algorithm: &SignatureAlgorithm) -> Option<Hash> {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1(h) | SignatureAlgorithm::Ecdsa(h) => Some(*h),
        SignatureAlgorithm::RsaPss(p) => Some(p.hash),
        _ => None,
    }
}

/// The words of an accepted retired algorithm, for a report's warnings.
pub fn retired_words(retired: &[(Weakness, Date)]) -> String {
    retired
        .iter()
        .map(|(w, until)| format!("{w} (accepted for signatures made before {until})"))
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const SHA1_RSA: SignatureAlgorithm = SignatureAlgorithm::RsaPkcs1(Hash::Sha1);
    const SHA256_RSA: SignatureAlgorithm = SignatureAlgorithm::RsaPkcs1(Hash::Sha256);
    const RSA_2048: KeyKind = KeyKind::Rsa { bits: 2048 };

    #[test]
    fn sha1_needs_a_proof_of_existence_before_its_cut_off() {
        let policy = AlgorithmPolicy::default();
        assert_eq!(
            policy.judge(&SHA256_RSA, &RSA_2048, None),
            Judgement::Current
        );
        assert_eq!(
            policy.judge(&SHA1_RSA, &RSA_2048, Some(datetime!(2017-05-01 0:00 UTC))),
            Judgement::Retired(vec![(Weakness::Sha1, SHA1_UNTIL)])
        );
        let Judgement::Refused(no_poe) = policy.judge(&SHA1_RSA, &RSA_2048, None) else {
            panic!("SHA-1 without a proof of existence is refused");
        };
        assert!(no_poe.lacks_proof());
        let Judgement::Refused(late) =
            policy.judge(&SHA1_RSA, &RSA_2048, Some(datetime!(2019-01-01 0:00 UTC)))
        else {
            panic!("SHA-1 proven after its cut-off is refused");
        };
        assert!(!late.lacks_proof());
        assert!(late.to_string().contains("2019-01-01"), "{late}");
    }

    #[test]
    fn small_rsa_has_its_own_date_and_a_hard_floor() {
        let policy = AlgorithmPolicy::default();
        let rsa_1024 = KeyKind::Rsa { bits: 1024 };
        let early = Some(datetime!(2012-01-01 0:00 UTC));
        assert!(matches!(
            policy.judge(&SHA256_RSA, &rsa_1024, early),
            Judgement::Retired(_)
        ));
        assert!(matches!(
            policy.judge(&SHA256_RSA, &rsa_1024, Some(datetime!(2015-01-01 0:00 UTC))),
            Judgement::Refused(_)
        ));
        assert!(matches!(
            policy.judge(&SHA256_RSA, &KeyKind::Rsa { bits: 512 }, early),
            Judgement::Refused(Refusal { until: None, .. })
        ));
    }

    #[test]
    fn new_signatures_are_never_retired_ones() {
        for policy in [
            AlgorithmPolicy::default(),
            AlgorithmPolicy::DangerouslyAllowLegacy,
        ] {
            assert_eq!(
                policy.for_new_signature(&SHA1_RSA, &RSA_2048),
                Err(Weakness::Sha1)
            );
            assert_eq!(
                policy.for_new_signature(&SHA256_RSA, &KeyKind::Rsa { bits: 1024 }),
                Err(Weakness::SmallRsa { bits: 1024 })
            );
        }
        let strict = AlgorithmPolicy::Dated(AlgorithmDates {
            rsa_min_bits: 3072,
            ..AlgorithmDates::default()
        });
        assert!(strict.for_new_signature(&SHA256_RSA, &RSA_2048).is_err());
        assert!(
            strict
                .for_new_signature(&SignatureAlgorithm::Ecdsa(Hash::Sha256), &KeyKind::EcP256)
                .is_ok()
        );
    }
}
