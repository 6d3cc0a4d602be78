//! Signature verification on the hot path, with aws-lc-rs.
//!
//! Owns: mapping an X.509 `AlgorithmIdentifier` (RFC 5280 §4.1.1.2, RFC 4055 for RSA-PSS,
//! RFC 5758 for ECDSA, RFC 8410 for Ed25519) and a `SubjectPublicKeyInfo` to an aws-lc-rs
//! verification algorithm, and the weak-algorithm policy. RSASSA-PSS is verified with the salt
//! length its parameters state (RFC 8017 §9.1 and RFC 4055 §3.1 allow any; pyHanko and several
//! HSMs use the maximum). Refuses: DSA, MD5, RSA-PSS whose MGF1 hash differs from the message
//! hash (nobody issues it, and aws-lc ties the two), and whatever the dated
//! [`AlgorithmPolicy`] refuses (SHA-1 and RSA keys under 2048 bits after their cut-offs).
//!
//! Whether a value verifies and whether the policy accepts its algorithm are separate questions
//! ([`verify_value`], [`AlgorithmPolicy::judge`]): a document verifier answers the first before
//! the second, so that a tampered SHA-1 signature reads as tampered, not as merely old.

use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
use thiserror::Error;

use crate::ber::{self, ObjectIdentifier, tag};
use crate::oid::{self, Oid};
use crate::pki::AlgorithmPolicy;

/// Why a signature did not verify. `Invalid` is "checked and wrong"; the others are "could not
/// check with an algorithm kyso accepts".
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("signature does not verify")]
    Invalid,
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedAlgorithm { oid: String },
    #[error("weak signature algorithm {name} refused by policy")]
    WeakAlgorithm { name: &'static str },
    #[error("public key too small: {bits}-bit RSA, policy minimum is 2048")]
    KeyTooSmall { bits: usize },
    #[error("unsupported public key algorithm {oid}")]
    UnsupportedKey { oid: String },
    #[error("signature algorithm {algorithm} cannot be used with a {key} key")]
    KeyMismatch {
        algorithm: &'static str,
        key: &'static str,
    },
    #[error("malformed signature algorithm parameters: {0}")]
    BadParameters(&'static str),
    #[error("RSA-PSS with MGF1 over {mgf} and a {hash} message hash is not supported")]
    PssMaskHash {
        hash: &'static str,
        mgf: &'static str,
    },
}

/// Digest functions appearing in signature algorithm identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The digest's length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// Its identifier (RFC 3279 §2.2.1, RFC 5754 §2).
    pub fn oid(self) -> Oid {
        match self {
            Hash::Sha1 => oid::SHA1,
            Hash::Sha256 => oid::SHA256,
            Hash::Sha384 => oid::SHA384,
            Hash::Sha512 => oid::SHA512,
        }
    }

    /// The digest `id` names, if kyso computes it.
    pub fn from_oid(id: &ObjectIdentifier<'_>) -> Option<Hash> {
        Hash::ALL.into_iter().find(|h| id.is(h.oid()))
    }

    const ALL: [Hash; 4] = [Hash::Sha1, Hash::Sha256, Hash::Sha384, Hash::Sha512];

    /// The digest of `parts`, in order: any of the four, SHA-1 included (the policy decides
    /// elsewhere whether its result may be trusted).
    pub fn of<'b>(self, parts: impl IntoIterator<Item = &'b [u8]>) -> Vec<u8> {
        let algorithm = match self {
            Hash::Sha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &aws_lc_rs::digest::SHA256,
            Hash::Sha384 => &aws_lc_rs::digest::SHA384,
            Hash::Sha512 => &aws_lc_rs::digest::SHA512,
        };
        let mut context = aws_lc_rs::digest::Context::new(algorithm);
        for part in parts {
            context.update(part);
        }
        context.finish().as_ref().to_vec()
    }

    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// RSASSA-PSS parameters as kyso verifies them: MGF1 over the message hash, trailer field 1,
/// and any salt length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PssParameters {
    pub hash: Hash,
    pub salt_len: u16,
}

impl PssParameters {
    /// The usual parameters: the salt as long as the digest (RFC 4055 §3.1's recommendation).
    pub fn digest_length_salt(hash: Hash) -> PssParameters {
        PssParameters {
            hash,
            // At most 64: a digest's length always fits.
            salt_len: u16::try_from(hash.output_len()).unwrap_or(u16::MAX),
        }
    }
}

/// A signature algorithm kyso recognises.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    RsaPkcs1(Hash),
    RsaPss(PssParameters),
    Ecdsa(Hash),
    Ed25519,
    Dsa,
    Unknown(String),
}

/// The kind of a subject public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: usize },
    EcP256,
    EcP384,
    EcOther(String),
    Ed25519,
    Dsa,
    Unknown(String),
}

impl KeyKind {
    fn label(&self) -> &'static str {
        match self {
            KeyKind::Rsa { .. } => "RSA",
            KeyKind::EcP256 => "P-256",
            KeyKind::EcP384 => "P-384",
            KeyKind::EcOther(_) => "EC",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Dsa => "DSA",
            KeyKind::Unknown(_) => "unknown",
        }
    }
}

/// A public key ready for verification: its kind and the raw key bits (RSAPublicKey or EC
/// point), which is what aws-lc-rs parses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub kind: KeyKind,
    pub bits: Vec<u8>,
}

impl PublicKey {
    /// Builds from a parsed SubjectPublicKeyInfo.
    pub(crate) fn from_spki(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> PublicKey {
        let id = spki.algorithm.algorithm.to_id_string();
        let bits = spki.subject_public_key.data.to_vec();
        let kind = if id == oid::RSA_ENCRYPTION || id == oid::RSASSA_PSS {
            match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => KeyKind::Rsa {
                    bits: rsa.key_size(),
                },
                _ => KeyKind::Unknown(id),
            }
        } else if id == oid::EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            if curve == oid::SECP256R1 {
                KeyKind::EcP256
            } else if curve == oid::SECP384R1 {
                KeyKind::EcP384
            } else {
                KeyKind::EcOther(curve)
            }
        } else if id == oid::ED25519 {
            KeyKind::Ed25519
        } else if id == oid::DSA {
            KeyKind::Dsa
        } else {
            KeyKind::Unknown(id)
        };
        PublicKey { kind, bits }
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        use x509_parser::prelude::FromDer;
        let (rest, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der).ok()?;
        rest.is_empty().then(|| PublicKey::from_spki(&spki))
    }
}

impl SignatureAlgorithm {
    /// Maps an AlgorithmIdentifier (dotted OID and DER parameters, if any).
    pub fn from_oid_and_params(
        id: &str,
        params: Option<&[u8]>,
    ) -> Result<SignatureAlgorithm, SignatureError> {
        use SignatureAlgorithm::*;
        if id == oid::RSASSA_PSS {
            return Ok(RsaPss(pss_parameters(params.ok_or(
                SignatureError::BadParameters("RSA-PSS without parameters"),
            )?)?));
        }
        let known = [
            (oid::SHA1_WITH_RSA, RsaPkcs1(Hash::Sha1)),
            (oid::SHA256_WITH_RSA, RsaPkcs1(Hash::Sha256)),
            (oid::SHA384_WITH_RSA, RsaPkcs1(Hash::Sha384)),
            (oid::SHA512_WITH_RSA, RsaPkcs1(Hash::Sha512)),
            (oid::ECDSA_WITH_SHA1, Ecdsa(Hash::Sha1)),
            (oid::ECDSA_WITH_SHA256, Ecdsa(Hash::Sha256)),
            (oid::ECDSA_WITH_SHA384, Ecdsa(Hash::Sha384)),
            (oid::ECDSA_WITH_SHA512, Ecdsa(Hash::Sha512)),
            (oid::ED25519, Ed25519),
            (oid::DSA_WITH_SHA1, Dsa),
            (oid::DSA_WITH_SHA256, Dsa),
        ];
        Ok(known
            .into_iter()
            .find(|(known, _)| id == *known)
            .map_or_else(|| Unknown(id.to_owned()), |(_, algorithm)| algorithm))
    }

    pub fn name(&self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPkcs1(Hash::Sha1) => "sha1WithRSAEncryption",
            SignatureAlgorithm::RsaPkcs1(_) => "RSA PKCS#1 v1.5",
            SignatureAlgorithm::RsaPss(p) if p.hash == Hash::Sha1 => "RSA-PSS with SHA-1",
            SignatureAlgorithm::RsaPss(_) => "RSA-PSS",
            SignatureAlgorithm::Ecdsa(Hash::Sha1) => "ecdsa-with-SHA1",
            SignatureAlgorithm::Ecdsa(_) => "ECDSA",
            SignatureAlgorithm::Ed25519 => "Ed25519",
            SignatureAlgorithm::Dsa => "DSA",
            SignatureAlgorithm::Unknown(_) => "unknown",
        }
    }
}

/// RFC 4055 §3.1 RSASSA-PSS-params:
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
///
/// Any salt length is accepted here (the key's size bounds it, checked when verifying); the MGF1
/// hash must be the message hash and the trailer field 1.
fn pss_parameters(params: &[u8]) -> Result<PssParameters, SignatureError> {
    let bad = SignatureError::BadParameters;
    let seq = ber::der(params, "RSASSA-PSS-params")
        .and_then(|e| e.expect(tag::SEQUENCE, "a SEQUENCE"))
        .map_err(|_| bad("not a SEQUENCE"))?;
    let mut r = seq.fields();
    let mut hash = Hash::Sha1;
    let mut mgf_hash = Hash::Sha1;
    let mut salt = 20u64;
    if let Some(h) = r
        .optional(tag::context_constructed(0))
        .map_err(|_| bad("hashAlgorithm"))?
    {
        hash = hash_alg(h.content)?;
    }
    if let Some(m) = r
        .optional(tag::context_constructed(1))
        .map_err(|_| bad("maskGenAlgorithm"))?
    {
        let mgf = ber::der(m.content, "maskGenAlgorithm")
            .and_then(|e| e.expect(tag::SEQUENCE, "a SEQUENCE"))
            .map_err(|_| bad("maskGenAlgorithm"))?;
        let mut fields = mgf.fields();
        let id = fields
            .expect(tag::OID, "an OBJECT IDENTIFIER")
            .and_then(|o| o.oid())
            .map_err(|_| bad("maskGenAlgorithm"))?;
        if !id.is(oid::MGF1) {
            return Err(bad("mask generation function is not MGF1"));
        }
        let inner = fields
            .expect(tag::SEQUENCE, "the MGF1 hash")
            .map_err(|_| bad("MGF1 hash"))?;
        mgf_hash = hash_alg(inner.raw)?;
    }
    if let Some(s) = r
        .optional(tag::context_constructed(2))
        .map_err(|_| bad("saltLength"))?
    {
        salt = ber::der(s.content, "saltLength")
            .and_then(|i| i.expect(tag::INTEGER, "an INTEGER"))
            .and_then(|i| i.small_unsigned())
            .map_err(|_| bad("saltLength"))?;
    }
    if let Some(t) = r
        .optional(tag::context_constructed(3))
        .map_err(|_| bad("trailerField"))?
    {
        let trailer = ber::der(t.content, "trailerField")
            .and_then(|i| i.expect(tag::INTEGER, "an INTEGER"))
            .map_err(|_| bad("trailerField"))?;
        if trailer.small_unsigned().ok() != Some(1) {
            return Err(bad("trailerField is not 1"));
        }
    }
    r.finish("RSASSA-PSS-params")
        .map_err(|_| bad("trailing data"))?;
    if mgf_hash != hash {
        return Err(SignatureError::PssMaskHash {
            hash: hash.name(),
            mgf: mgf_hash.name(),
        });
    }
    let salt_len = u16::try_from(salt)
        .ok()
        .filter(|&s| s <= MAX_PSS_SALT)
        .ok_or(bad("saltLength larger than any RSA key kyso verifies"))?;
    Ok(PssParameters { hash, salt_len })
}

/// The longest salt an RSA key kyso verifies can carry: emLen − hLen − 2 for an 8192-bit key
/// (aws-lc's largest) and the shortest hash.
const MAX_PSS_SALT: u16 = 1024 - 20 - 2;

/// aws-lc-rs verification parameters for RSASSA-PSS with this salt length.
///
/// aws-lc-rs takes its algorithms as `&'static`, and the salt length is a runtime value here.
/// The parameters for each (hash, salt length) pair are built once and kept for the life of the
/// process: there are at most 3 hashes × 1,003 salt lengths ([`MAX_PSS_SALT`]), a few dozen
/// bytes each, so a hostile stream of documents can grow this table to ~150 KB and no further.
fn pss_verification(p: PssParameters) -> Option<&'static sig::RsaParameters> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static TABLE: OnceLock<Mutex<HashMap<PssParameters, &'static sig::RsaParameters>>> =
        OnceLock::new();
    let base = match p.hash {
        Hash::Sha1 => return None,
        Hash::Sha256 => sig::RSA_PSS_2048_8192_SHA256,
        Hash::Sha384 => sig::RSA_PSS_2048_8192_SHA384,
        Hash::Sha512 => sig::RSA_PSS_2048_8192_SHA512,
    };
    if p.salt_len > MAX_PSS_SALT {
        return None;
    }
    let mut table = TABLE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Some(*table.entry(p).or_insert_with(|| {
        Box::leak(Box::new(
            base.with_pss_salt_length(sig::RsaPssSaltLength::Custom(p.salt_len)),
        ))
    }))
}

/// The digest a DER hash `AlgorithmIdentifier` names (its parameters are not read).
fn hash_alg(alg_identifier: &[u8]) -> Result<Hash, SignatureError> {
    let malformed = || SignatureError::BadParameters("hash AlgorithmIdentifier");
    let id = ber::der(alg_identifier, "AlgorithmIdentifier")
        .and_then(|e| e.expect(tag::SEQUENCE, "a SEQUENCE"))
        .and_then(|e| e.fields().expect(tag::OID, "an OBJECT IDENTIFIER"))
        .and_then(|o| o.oid())
        .map_err(|_| malformed())?;
    Hash::from_oid(&id).ok_or(SignatureError::BadParameters("unsupported hash"))
}

/// Verifies `signature` over `message` with `key` under `policy`: the algorithm must be one the
/// policy accepts for an object that existed at `existed`, then the value must verify. For
/// certificates, CRLs, OCSP responses and time-stamp tokens.
pub fn verify(
    algorithm: &SignatureAlgorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
    policy: AlgorithmPolicy,
    existed: Option<time::OffsetDateTime>,
) -> Result<(), SignatureError> {
    policy.check(algorithm, &key.kind, existed)?;
    verify_value(algorithm, key, message, signature)
}

/// Whether `signature` over `message` verifies with `key`, whatever the policy says of the
/// algorithm: `Err(Invalid)` is "checked and wrong"; other errors are "cannot be checked" (an
/// algorithm or key kyso has no verifier for at all).
pub fn verify_value(
    algorithm: &SignatureAlgorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let mismatch = || SignatureError::KeyMismatch {
        algorithm: algorithm.name(),
        key: key.kind.label(),
    };
    let alg: &'static dyn VerificationAlgorithm = match (algorithm, &key.kind) {
        (SignatureAlgorithm::RsaPkcs1(h), KeyKind::Rsa { .. }) => match h {
            Hash::Sha1 => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            // aws-lc-rs has no SHA-384 verifier below 2048 bits.
            Hash::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        },
        (SignatureAlgorithm::RsaPss(p), KeyKind::Rsa { bits }) => {
            if *bits < 2048 {
                // aws-lc-rs verifies PSS only from 2048 bits.
                return Err(SignatureError::KeyTooSmall { bits: *bits });
            }
            match pss_verification(*p) {
                Some(alg) => alg,
                None if p.hash == Hash::Sha1 => {
                    return Err(SignatureError::WeakAlgorithm {
                        name: "RSA-PSS with SHA-1",
                    });
                }
                None => return Err(SignatureError::BadParameters("RSA-PSS salt length")),
            }
        }
        (SignatureAlgorithm::Ecdsa(h), KeyKind::EcP256 | KeyKind::EcP384) => {
            let p256 = key.kind == KeyKind::EcP256;
            match (h, p256) {
                (Hash::Sha1, true) => &sig::ECDSA_P256_SHA1_ASN1,
                (Hash::Sha1, false) => {
                    return Err(SignatureError::UnsupportedAlgorithm {
                        oid: "ecdsa-with-SHA1 on P-384".into(),
                    });
                }
                (Hash::Sha256, true) => &sig::ECDSA_P256_SHA256_ASN1,
                (Hash::Sha384, true) => &sig::ECDSA_P256_SHA384_ASN1,
                (Hash::Sha512, true) => &sig::ECDSA_P256_SHA512_ASN1,
                (Hash::Sha256, false) => &sig::ECDSA_P384_SHA256_ASN1,
                (Hash::Sha384, false) => &sig::ECDSA_P384_SHA384_ASN1,
                (Hash::Sha512, false) => &sig::ECDSA_P384_SHA512_ASN1,
            }
        }
        (SignatureAlgorithm::Ed25519, KeyKind::Ed25519) => &sig::ED25519,
        (SignatureAlgorithm::Dsa, _) => {
            return Err(SignatureError::UnsupportedAlgorithm { oid: "DSA".into() });
        }
        (SignatureAlgorithm::Unknown(oid), _) => {
            return Err(SignatureError::UnsupportedAlgorithm { oid: oid.clone() });
        }
        (_, KeyKind::Dsa) => {
            return Err(SignatureError::UnsupportedKey {
                oid: oid::DSA.dotted().into(),
            });
        }
        (_, KeyKind::Unknown(oid)) | (_, KeyKind::EcOther(oid)) => {
            return Err(SignatureError::UnsupportedKey { oid: oid.clone() });
        }
        _ => return Err(mismatch()),
    };
    sig::UnparsedPublicKey::new(alg, &key.bits)
        .verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}
