//! The ledger's dictionaries of signer identities: issuer names and signer certificates stored
//! once and referred to by number. Signature rows carry the numbers, so the index the report
//! scans for its method and certificate counts holds two integers where it would otherwise hold a
//! distinguished name and a 64-character fingerprint (three and a half times narrower, and as
//! much faster to scan and to write).
//!
//! Both stores keep their own SQL; this module owns what they share: which of a batch's
//! certificates are not yet known, and the ids of those known to be committed. A certificate is
//! keyed by its issuer and its fingerprint together, as signature rows are grouped, so a
//! (malformed) event naming a known fingerprint under another issuer is counted apart, as before
//! the dictionary.

use std::collections::{HashMap, HashSet};

use super::event::Event;

/// At most this many certificates are cached per connection; past it the cache starts over.
/// A province has some 10,000 signer certificates; a national archive may have millions, which
/// the database holds and the cache need not.
const MAX_CACHED_CERTIFICATES: usize = 1 << 18;

/// Ids of issuers and certificates known to be committed, for one store connection.
#[derive(Debug, Default)]
pub(crate) struct SignerIds {
    issuers: HashMap<String, i64>,
    /// Fingerprint → (issuer id, certificate id): almost always one pair, keyed by the
    /// fingerprint so that a lookup borrows it.
    certificates: HashMap<String, Vec<(i64, i64)>>,
}

/// A signer certificate of a batch whose ids are not cached yet.
pub(crate) struct Unknown<'a> {
    pub issuer: &'a str,
    pub sha256: &'a str,
}

/// The ids a signature row is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SignerRef {
    pub issuer_id: i64,
    pub certificate_id: i64,
}

impl SignerIds {
    /// The signer certificates `events` name whose ids are not cached, each once.
    pub(crate) fn unknown<'a>(&self, events: &'a [Event]) -> Vec<Unknown<'a>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for event in events {
            let Event::Signed(signed) = event else {
                continue;
            };
            let (issuer, sha256) = (&signed.certificate.issuer, &signed.certificate.sha256);
            if self.get(issuer, sha256).is_none() && seen.insert((issuer, sha256)) {
                out.push(Unknown { issuer, sha256 });
            }
        }
        out
    }

    /// The issuer's id, if cached.
    pub(crate) fn issuer(&self, dn: &str) -> Option<i64> {
        self.issuers.get(dn).copied()
    }

    /// Caches an issuer's committed id.
    pub(crate) fn insert_issuer(&mut self, dn: &str, id: i64) {
        self.issuers.insert(dn.to_owned(), id);
    }

    /// Caches a certificate's committed id.
    pub(crate) fn insert_certificate(&mut self, issuer_id: i64, sha256: &str, id: i64) {
        if self.certificates.len() >= MAX_CACHED_CERTIFICATES {
            self.certificates.clear();
        }
        let pairs = self.certificates.entry(sha256.to_owned()).or_default();
        if !pairs.iter().any(|&(issuer, _)| issuer == issuer_id) {
            pairs.push((issuer_id, id));
        }
    }

    /// The ids of a signer certificate, if cached.
    pub(crate) fn get(&self, issuer: &str, sha256: &str) -> Option<SignerRef> {
        let issuer_id = self.issuer(issuer)?;
        let (_, certificate_id) = *self
            .certificates
            .get(sha256)?
            .iter()
            .find(|&&(issuer, _)| issuer == issuer_id)?;
        Some(SignerRef {
            issuer_id,
            certificate_id,
        })
    }
}
