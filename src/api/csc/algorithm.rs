//! CSC's algorithm identifiers (dotted OIDs, CSC v2.0 §5 and §7.5) and the signature
//! algorithms of kyso's keys: what `credentials/info` offers as `key/algo`, and what a
//! `signatures/signHash` request's `signAlgo` and `hashAlgo`/`hashAlgorithmOID` resolve to.
//!
//! Offered: RSA PKCS#1 v1.5 with SHA-256, -384, -512 (`sha256WithRSAEncryption`…, RFC 8017
//! A.2.4) and bare `rsaEncryption` with a separate digest, for an RSA key; ECDSA with SHA-256,
//! -384, -512 (RFC 5758 §3.2) on the key's own curve, for an EC key. Refused: RSASSA-PSS (its
//! `signAlgoParams` are not read yet), SHA-1 and anything else; an algorithm of another key
//! type; a digest named twice that disagrees with itself.

use super::error::CscError;
use crate::oid::{self, Oid};
use crate::signer::{DigestAlgorithm, SignatureAlgorithm};
use crate::token::TokenKey;

/// The digests kyso signs, strongest last.
const DIGESTS: [DigestAlgorithm; 3] = [
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];

/// The `key/algo` OIDs `key` signs with over CSC.
pub fn offered(key: &TokenKey) -> Vec<&'static str> {
    let own = crate::signer::Signer::algorithm(key);
    let mut out = Vec::new();
    for digest in DIGESTS {
        let algorithm = match own {
            SignatureAlgorithm::Ecdsa(curve, _) => SignatureAlgorithm::Ecdsa(curve, digest),
            _ => SignatureAlgorithm::RsaPkcs1v15(digest),
        };
        if key.can_sign_as(algorithm)
            && let Some(id) = signature_oid(algorithm)
        {
            out.push(id.dotted());
        }
    }
    if key.can_sign_as(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256)) {
        out.push(oid::RSA_ENCRYPTION.dotted());
    }
    out
}

/// The algorithm a `signHash` asks `key` for: `sign_algo` (one of [`offered`]), with the digest
/// it names or, for bare `rsaEncryption`, the one `hash_algo` names (`hash_parameter` is that
/// parameter's name in the request's version, for the error).
pub fn resolve(
    key: &TokenKey,
    sign_algo: &str,
    hash_algo: Option<&str>,
    hash_parameter: &str,
) -> Result<SignatureAlgorithm, CscError> {
    let named_digest = hash_algo
        .map(|dotted| {
            digest_of_oid(dotted).ok_or_else(|| CscError::invalid_parameter(hash_parameter))
        })
        .transpose()?;
    let own = crate::signer::Signer::algorithm(key);
    let algorithm = if sign_algo == oid::RSA_ENCRYPTION {
        let digest = named_digest.ok_or_else(|| {
            CscError::invalid(format!(
                "Missing (or invalid type) string parameter {hash_parameter}"
            ))
        })?;
        SignatureAlgorithm::RsaPkcs1v15(digest)
    } else {
        let found = DIGESTS.into_iter().find_map(|digest| {
            let candidates = [
                SignatureAlgorithm::RsaPkcs1v15(digest),
                match own {
                    SignatureAlgorithm::Ecdsa(curve, _) => SignatureAlgorithm::Ecdsa(curve, digest),
                    _ => SignatureAlgorithm::Ecdsa(crate::signer::Curve::P256, digest),
                },
            ];
            candidates
                .into_iter()
                .find(|a| signature_oid(*a).is_some_and(|id| sign_algo == id))
        });
        let algorithm = found.ok_or_else(|| CscError::invalid_parameter("signAlgo"))?;
        if named_digest.is_some_and(|d| d != algorithm.digest()) {
            return Err(CscError::invalid(format!(
                "String parameter {hash_parameter} contradicts with signAlgo parameter"
            )));
        }
        algorithm
    };
    if !key.can_sign_as(algorithm) {
        return Err(CscError::invalid_parameter("signAlgo"));
    }
    Ok(algorithm)
}

/// The digest `dotted` names, if kyso signs with it.
pub fn digest_of_oid(dotted: &str) -> Option<DigestAlgorithm> {
    DIGESTS.into_iter().find(|d| dotted == d.oid())
}

/// The short name a ledger id carries: `sha256`, `sha384`, `sha512`.
pub fn digest_name(digest: DigestAlgorithm) -> &'static str {
    match digest {
        DigestAlgorithm::Sha256 => "sha256",
        DigestAlgorithm::Sha384 => "sha384",
        DigestAlgorithm::Sha512 => "sha512",
    }
}

/// The OID of `algorithm` as CSC names it; `None` for what CSC signing does not offer (PSS).
pub fn signature_oid(algorithm: SignatureAlgorithm) -> Option<Oid> {
    use DigestAlgorithm::*;
    Some(match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(Sha256) => oid::SHA256_WITH_RSA,
        SignatureAlgorithm::RsaPkcs1v15(Sha384) => oid::SHA384_WITH_RSA,
        SignatureAlgorithm::RsaPkcs1v15(Sha512) => oid::SHA512_WITH_RSA,
        SignatureAlgorithm::Ecdsa(_, Sha256) => oid::ECDSA_WITH_SHA256,
        SignatureAlgorithm::Ecdsa(_, Sha384) => oid::ECDSA_WITH_SHA384,
        SignatureAlgorithm::Ecdsa(_, Sha512) => oid::ECDSA_WITH_SHA512,
        SignatureAlgorithm::RsaPss(_) => return None,
    })
}
