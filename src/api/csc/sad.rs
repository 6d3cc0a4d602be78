//! Signature Activation Data (CSC v2.0 §8.2, SCAL2): what `credentials/authorize` hands out
//! and `signatures/signHash` spends.
//!
//! A SAD is 32 random bytes (Base64url), meaningless in itself; this node keeps what it
//! authorises: the caller (the API key's id), the credential, the exact hash values (and their
//! digest when the client named it), and an expiry [`Sads::lifetime`] away. Only its SHA-256
//! is kept as the key of the map, so the map holds nothing a reader of memory could present.
//!
//! A SAD is spent the first time it is presented with a signHash that reaches it, whether that
//! signs or is refused: a SAD shown by another caller, for another credential or with hashes it
//! did not authorise is treated as leaked and dies with the refusal, and two requests racing
//! with one SAD cannot both sign ([`Sads::redeem`] takes it out of the map under the lock).
//! The hashes of one signHash must each be among those authorised (as many times as they were);
//! a signHash may sign fewer than were authorised, never others.
//!
//! Bounds: at most [`MAX_OUTSTANDING`] SADs on the node and [`MAX_PER_CALLER`] per API key
//! (beyond, authorize answers 503 rather than evict a SAD someone is about to use); expired
//! ones are swept on the way in. SADs live in this process only: a node that restarts forgets
//! them, and behind a load balancer a client must send signHash to the node that authorised it
//! (docs/manual/csc.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::signer::DigestAlgorithm;

/// SADs outstanding on one node at most: each is a few hundred bytes (64 hashes of 64 bytes at
/// worst), so 10,000 stay under 50 MB; far more than clients authorising what they sign at
/// once need.
pub const MAX_OUTSTANDING: usize = 10_000;

/// SADs outstanding per API key at most, so that one client cannot use up the node's.
pub const MAX_PER_CALLER: usize = 1_000;

/// The most hashes one SAD authorises (`multisign`): a DMS signing a batch of letters at once,
/// not a bulk seal; 64 SHA-512 hashes are a 6 KB request.
pub const MAX_SIGNATURES: usize = 64;

/// Sweeping expired SADs costs a pass over the map; at most once a second.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The SADs this node issued and not yet spent or expired.
pub struct Sads {
    lifetime: Duration,
    outstanding: Mutex<Outstanding>,
}

struct Outstanding {
    by_digest: HashMap<[u8; 32], Authorization>,
    swept: Instant,
}

/// What one SAD authorises.
struct Authorization {
    caller: String,
    credential: String,
    hashes: Vec<Vec<u8>>,
    /// The digest the client named at authorize time (v2 `hashAlgorithmOID`), if it did.
    digest: Option<DigestAlgorithm>,
    expires: Instant,
    transaction: String,
}

/// A SAD as issued: the value for the client and how long it lives. Only [`Sads::issue`]
/// makes one.
pub struct Sad {
    value: String,
    pub expires_in: Duration,
    /// A public id of the authorisation, for the log, the audit entry and the ledger; unlike
    /// the SAD it cannot be used.
    pub transaction: String,
}

impl Sad {
    /// The value the client presents to signHash.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Proof that a signHash's hashes were authorised for this caller and credential by a SAD
/// that is now spent: the only way to [`super::signing`]'s token call.
pub struct Redeemed {
    pub transaction: String,
    _proof: (),
}

/// What an authorisation asks for.
pub struct Request<'a> {
    pub caller: &'a str,
    pub credential: &'a str,
    pub hashes: Vec<Vec<u8>>,
    pub digest: Option<DigestAlgorithm>,
}

/// Why a SAD was not issued or not accepted. The client hears less (see
/// [`super::error::CscError::invalid_sad`]); the log hears this.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the node holds {MAX_OUTSTANDING} unexpired SADs")]
    Full,
    #[error("this API key holds {MAX_PER_CALLER} unexpired SADs")]
    CallerFull,
    #[error("the system random generator failed")]
    NoRandomness,
    #[error("no such SAD on this node (never issued here, spent, or swept after expiry)")]
    Unknown,
    #[error("SAD of transaction {transaction} expired")]
    Expired { transaction: String },
    #[error("SAD of transaction {transaction} was issued to API key {owner}")]
    OtherCaller { transaction: String, owner: String },
    #[error("SAD of transaction {transaction} was issued for credential {credential}")]
    OtherCredential {
        transaction: String,
        credential: String,
    },
    #[error("SAD of transaction {transaction} did not authorise these hashes")]
    OtherHashes { transaction: String },
}

impl Sads {
    pub fn new(lifetime: Duration) -> Sads {
        Sads {
            lifetime,
            outstanding: Mutex::new(Outstanding {
                by_digest: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// How long a SAD lives.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Issues a SAD for `request`.
    pub fn issue(&self, request: Request<'_>) -> Result<Sad, Refusal> {
        self.issue_at(request, Instant::now())
    }

    /// Spends the SAD `presented` for `hashes` of `digest`, signed by `caller` with
    /// `credential`.
    pub fn redeem(
        &self,
        presented: &str,
        caller: &str,
        credential: &str,
        hashes: &[Vec<u8>],
        digest: DigestAlgorithm,
    ) -> Result<Redeemed, Refusal> {
        self.redeem_at(
            presented,
            caller,
            credential,
            hashes,
            digest,
            Instant::now(),
        )
    }

    /// SADs outstanding now, expired ones not yet swept included.
    pub fn outstanding(&self) -> usize {
        self.lock().by_digest.len()
    }

    fn issue_at(&self, request: Request<'_>, now: Instant) -> Result<Sad, Refusal> {
        let mut secret = [0u8; 32];
        let mut transaction = [0u8; 8];
        fill(&mut secret)?;
        fill(&mut transaction)?;
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let transaction = hex::encode(transaction);
        let mut outstanding = self.lock();
        if now.duration_since(outstanding.swept) >= SWEEP_EVERY
            || outstanding.by_digest.len() >= MAX_OUTSTANDING
        {
            outstanding.by_digest.retain(|_, a| a.expires > now);
            outstanding.swept = now;
        }
        if outstanding.by_digest.len() >= MAX_OUTSTANDING {
            return Err(Refusal::Full);
        }
        let held = outstanding
            .by_digest
            .values()
            .filter(|a| a.caller == request.caller)
            .count();
        if held >= MAX_PER_CALLER {
            return Err(Refusal::CallerFull);
        }
        outstanding.by_digest.insert(
            digest_of(&value),
            Authorization {
                caller: request.caller.to_owned(),
                credential: request.credential.to_owned(),
                hashes: request.hashes,
                digest: request.digest,
                expires: now + self.lifetime,
                transaction: transaction.clone(),
            },
        );
        Ok(Sad {
            value,
            expires_in: self.lifetime,
            transaction,
        })
    }

    fn redeem_at(
        &self,
        presented: &str,
        caller: &str,
        credential: &str,
        hashes: &[Vec<u8>],
        digest: DigestAlgorithm,
        now: Instant,
    ) -> Result<Redeemed, Refusal> {
        let authorization = self
            .lock()
            .by_digest
            .remove(&digest_of(presented))
            .ok_or(Refusal::Unknown)?;
        let transaction = authorization.transaction.clone();
        // Caller first: a SAD in the wrong hands says nothing else about itself.
        if authorization.caller != caller {
            return Err(Refusal::OtherCaller {
                transaction,
                owner: authorization.caller,
            });
        }
        if authorization.expires <= now {
            return Err(Refusal::Expired { transaction });
        }
        if authorization.credential != credential {
            return Err(Refusal::OtherCredential {
                transaction,
                credential: authorization.credential,
            });
        }
        if authorization.digest.is_some_and(|d| d != digest)
            || !within(hashes, authorization.hashes)
        {
            return Err(Refusal::OtherHashes { transaction });
        }
        Ok(Redeemed {
            transaction,
            _proof: (),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outstanding> {
        self.outstanding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether every hash asked for is among those authorised, each authorised one used once.
fn within(asked: &[Vec<u8>], mut authorised: Vec<Vec<u8>>) -> bool {
    asked
        .iter()
        .all(|hash| match authorised.iter().position(|a| a == hash) {
            Some(at) => {
                authorised.swap_remove(at);
                true
            }
            None => false,
        })
}

fn digest_of(sad: &str) -> [u8; 32] {
    let digest = DigestAlgorithm::Sha256.digest(sad.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    out
}

fn fill(bytes: &mut [u8]) -> Result<(), Refusal> {
    use aws_lc_rs::rand::SecureRandom as _;
    aws_lc_rs::rand::SystemRandom::new()
        .fill(bytes)
        .map_err(|_| Refusal::NoRandomness)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: [u8; 32] = [1; 32];
    const H2: [u8; 32] = [2; 32];

    fn issue(sads: &Sads, caller: &str, hashes: &[[u8; 32]], now: Instant) -> Sad {
        sads.issue_at(
            Request {
                caller,
                credential: "stp-01",
                hashes: hashes.iter().map(|h| h.to_vec()).collect(),
                digest: None,
            },
            now,
        )
        .unwrap()
    }

    #[test]
    fn a_sad_signs_its_hashes_once() {
        let sads = Sads::new(Duration::from_secs(300));
        let now = Instant::now();
        let sad = issue(&sads, "a", &[H1, H2], now);
        let asked = [H2.to_vec()];
        let redeemed = sads
            .redeem_at(
                sad.value(),
                "a",
                "stp-01",
                &asked,
                DigestAlgorithm::Sha256,
                now,
            )
            .unwrap();
        assert_eq!(redeemed.transaction, sad.transaction);
        assert!(matches!(
            sads.redeem_at(
                sad.value(),
                "a",
                "stp-01",
                &asked,
                DigestAlgorithm::Sha256,
                now
            ),
            Err(Refusal::Unknown)
        ));
        assert_eq!(sads.outstanding(), 0);
    }

    #[test]
    fn every_binding_is_checked_and_a_refused_sad_is_spent() {
        let sads = Sads::new(Duration::from_secs(300));
        let now = Instant::now();
        let h1 = [H1.to_vec()];
        type Case = (
            &'static str,
            &'static str,
            Vec<Vec<u8>>,
            Duration,
            fn(&Refusal) -> bool,
        );
        let cases: [Case; 5] = [
            ("b", "stp-01", h1.to_vec(), Duration::ZERO, |r| {
                matches!(r, Refusal::OtherCaller { .. })
            }),
            ("a", "syt-01", h1.to_vec(), Duration::ZERO, |r| {
                matches!(r, Refusal::OtherCredential { .. })
            }),
            ("a", "stp-01", vec![H2.to_vec()], Duration::ZERO, |r| {
                matches!(r, Refusal::OtherHashes { .. })
            }),
            (
                "a",
                "stp-01",
                vec![H1.to_vec(), H1.to_vec()],
                Duration::ZERO,
                |r| matches!(r, Refusal::OtherHashes { .. }),
            ),
            ("a", "stp-01", h1.to_vec(), Duration::from_secs(300), |r| {
                matches!(r, Refusal::Expired { .. })
            }),
        ];
        for (caller, credential, hashes, later, expected) in cases {
            let sad = issue(&sads, "a", &[H1], now);
            let refused = sads
                .redeem_at(
                    sad.value(),
                    caller,
                    credential,
                    &hashes,
                    DigestAlgorithm::Sha256,
                    now + later,
                )
                .err()
                .expect("refused");
            assert!(expected(&refused), "{refused}");
            // Spent: the right request now fails too.
            assert!(matches!(
                sads.redeem_at(
                    sad.value(),
                    "a",
                    "stp-01",
                    &h1,
                    DigestAlgorithm::Sha256,
                    now
                ),
                Err(Refusal::Unknown)
            ));
        }
    }

    #[test]
    fn a_digest_named_at_authorize_is_bound() {
        let sads = Sads::new(Duration::from_secs(300));
        let now = Instant::now();
        let sad = sads
            .issue_at(
                Request {
                    caller: "a",
                    credential: "stp-01",
                    hashes: vec![H1.to_vec()],
                    digest: Some(DigestAlgorithm::Sha256),
                },
                now,
            )
            .unwrap();
        assert!(matches!(
            sads.redeem_at(
                sad.value(),
                "a",
                "stp-01",
                &[H1.to_vec()],
                DigestAlgorithm::Sha384,
                now
            ),
            Err(Refusal::OtherHashes { .. })
        ));
    }

    #[test]
    fn bounded_per_caller_and_expired_ones_are_swept() {
        let sads = Sads::new(Duration::from_secs(1));
        let now = Instant::now();
        for _ in 0..MAX_PER_CALLER {
            issue(&sads, "a", &[H1], now);
        }
        let refused = sads
            .issue_at(
                Request {
                    caller: "a",
                    credential: "stp-01",
                    hashes: vec![H1.to_vec()],
                    digest: None,
                },
                now,
            )
            .err()
            .expect("refused");
        assert!(matches!(refused, Refusal::CallerFull));
        issue(&sads, "b", &[H1], now);
        // Two seconds on, the sweep on the way in clears the expired ones.
        issue(&sads, "a", &[H1], now + Duration::from_secs(2));
        assert_eq!(sads.outstanding(), 1);
    }
}
