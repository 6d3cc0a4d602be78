//! The one signing interface: every path that produces a signature (PDF, XML, timestamps of our own)
//! calls a [`Signer`], and never learns where the private key lives.
//!
//! A `Signer` signs a *message*: it hashes the message with the digest of its [`SignatureAlgorithm`]
//! on the host and has the key sign that digest. CMS signed attributes and XMLDSig `SignedInfo` are a
//! few hundred bytes, so hashing on the host costs nothing and keeps large data off the token's bus;
//! it also lets us use tokens such as SoftHSM 2.6 that have no `CKM_ECDSA_SHA256`.
//!
//! Signature encodings follow the standards that consume them: RSA signatures are the same bytes
//! everywhere; ECDSA signatures come from PKCS#11 as the raw `r‖s` pair (what XMLDSig wants,
//! RFC 4050/6931), and [`Signature::to_der`] gives the `ECDSA-Sig-Value` that CMS and X.509 want
//! (RFC 5480 §2.2 / RFC 3279 §2.2.3).

use std::fmt;

use crate::ber::{self, tag};
use crate::der;
use crate::oid::{self, Oid};

/// A key that can sign. Implementations must be usable from many threads at once: the token
/// implementation hands each call a session of its own from a pool.
pub trait Signer: Send + Sync {
    /// The algorithm this key signs with; fixed for the key's lifetime.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The key's public half as a DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
    fn public_key_spki(&self) -> &[u8];

    /// Hashes `message` with the algorithm's digest and signs it.
    fn sign(&self, message: &[u8]) -> Result<Signature, SignError>;
}

/// Why a key did not sign. Each key source has its variant, so that a caller can tell a token
/// that failed (the service then reopens it) from any other signer.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A PKCS#11 token refused or failed.
    #[error(transparent)]
    Token(#[from] crate::token::Error),
    /// A remote signing service (CSC API) refused, failed or answered wrongly; the error names
    /// the service and credential, never a token, PIN, OTP or SAD.
    #[error(transparent)]
    Remote(#[from] crate::csc::Error),
    /// A software key (tests, benchmarks, the demo's throwaway PKI) failed.
    #[error("the software key {key} failed to sign")]
    Software { key: String },
    /// The key is at a provider that signs only once its holder confirms on a phone: the
    /// message was captured to be sent there, and signing stops here ([`crate::phone`]).
    #[error("signing deferred: the holder confirms this signature on a phone")]
    Deferred,
    /// A signature confirmed earlier was offered for another message: the document signed
    /// again did not come out as it did when the signature was asked for.
    #[error(
        "the message to sign is not the one the provider confirmed: the signing could not be repeated exactly"
    )]
    NotTheConfirmedMessage,
}

/// Digest algorithms kyso signs with. SHA-1 is deliberately absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha384 => 48,
            DigestAlgorithm::Sha512 => 64,
        }
    }

    /// Hashes `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut hasher = self.hasher();
        hasher.update(data);
        hasher.finish()
    }

    /// A hasher for data that arrives in pieces (the byte ranges of a large PDF).
    pub fn hasher(self) -> Hasher {
        Hasher(aws_lc_rs::digest::Context::new(match self {
            DigestAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
            DigestAlgorithm::Sha384 => &aws_lc_rs::digest::SHA384,
            DigestAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
        }))
    }

    /// Its identifier (RFC 5754 §2).
    pub fn oid(self) -> Oid {
        match self {
            DigestAlgorithm::Sha256 => oid::SHA256,
            DigestAlgorithm::Sha384 => oid::SHA384,
            DigestAlgorithm::Sha512 => oid::SHA512,
        }
    }

    /// The algorithm `oid` names, if kyso signs with it.
    pub fn from_oid(oid: &ber::ObjectIdentifier<'_>) -> Option<DigestAlgorithm> {
        [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|d| oid.is(d.oid()))
    }

    /// The DER `DigestInfo` over `digest` that RSA PKCS#1 v1.5 signs (RFC 8017 §9.2), with NULL
    /// parameters as note 1 there writes them.
    pub fn digest_info(self, digest: &[u8]) -> Vec<u8> {
        der::sequence(&[
            &der::algorithm_identifier(self.oid(), Some(&der::null())),
            &der::octet_string(digest),
        ])
    }
}

/// An incremental hash (aws-lc-rs, the fastest SHA-2 measured here).
pub struct Hasher(aws_lc_rs::digest::Context);

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// Signature algorithms a kyso key can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    RsaPkcs1v15(DigestAlgorithm),
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest (RFC 8017 §8.1,
    /// the parameters RFC 4055 §3.1 and ETSI TS 119 312 recommend).
    RsaPss(DigestAlgorithm),
    /// ECDSA over NIST P-256 or P-384 (FIPS 186-4), with the digest the curve is paired with.
    Ecdsa(Curve, DigestAlgorithm),
}

impl SignatureAlgorithm {
    /// The digest computed on the host before the key signs.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(d)
            | SignatureAlgorithm::RsaPss(d)
            | SignatureAlgorithm::Ecdsa(_, d) => d,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digest = match self.digest() {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        };
        match self {
            SignatureAlgorithm::RsaPkcs1v15(_) => write!(f, "RSA PKCS#1 v1.5 with {digest}"),
            SignatureAlgorithm::RsaPss(_) => write!(f, "RSA-PSS with {digest}"),
            SignatureAlgorithm::Ecdsa(curve, _) => write!(f, "ECDSA {curve} with {digest}"),
        }
    }
}

/// A signature scheme without its curve: what an operator chooses (`--algorithm rsa-pss-sha256`);
/// the key supplies the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    RsaPkcs1v15(DigestAlgorithm),
    RsaPss(DigestAlgorithm),
    Ecdsa(DigestAlgorithm),
}

impl SignatureScheme {
    /// Every scheme, by its name.
    pub const NAMES: &[(&str, SignatureScheme)] = &[
        (
            "rsa-pkcs1-sha256",
            SignatureScheme::RsaPkcs1v15(DigestAlgorithm::Sha256),
        ),
        (
            "rsa-pkcs1-sha384",
            SignatureScheme::RsaPkcs1v15(DigestAlgorithm::Sha384),
        ),
        (
            "rsa-pkcs1-sha512",
            SignatureScheme::RsaPkcs1v15(DigestAlgorithm::Sha512),
        ),
        (
            "rsa-pss-sha256",
            SignatureScheme::RsaPss(DigestAlgorithm::Sha256),
        ),
        (
            "rsa-pss-sha384",
            SignatureScheme::RsaPss(DigestAlgorithm::Sha384),
        ),
        (
            "rsa-pss-sha512",
            SignatureScheme::RsaPss(DigestAlgorithm::Sha512),
        ),
        (
            "ecdsa-sha256",
            SignatureScheme::Ecdsa(DigestAlgorithm::Sha256),
        ),
        (
            "ecdsa-sha384",
            SignatureScheme::Ecdsa(DigestAlgorithm::Sha384),
        ),
        (
            "ecdsa-sha512",
            SignatureScheme::Ecdsa(DigestAlgorithm::Sha512),
        ),
    ];
}

impl std::str::FromStr for SignatureScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignatureScheme::NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, scheme)| *scheme)
            .ok_or_else(|| {
                let names: Vec<_> = SignatureScheme::NAMES.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown signature scheme `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = SignatureScheme::NAMES
            .iter()
            .find(|(_, scheme)| scheme == self)
            .map_or("?", |(name, _)| name);
        f.write_str(name)
    }
}

/// Elliptic curves kyso keys may live on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    /// Length in bytes of one coordinate, and of each of `r` and `s`.
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// The digest conventionally paired with the curve (RFC 5480 §4).
    pub fn default_digest(self) -> DigestAlgorithm {
        match self {
            Curve::P256 => DigestAlgorithm::Sha256,
            Curve::P384 => DigestAlgorithm::Sha384,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        })
    }
}

/// A signature value as the key produced it.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    algorithm: SignatureAlgorithm,
    /// RSA: the signature octets. ECDSA: `r‖s`, each left-padded to the curve's field length.
    bytes: Vec<u8>,
}

impl Signature {
    /// Wraps bytes a key returned. For ECDSA, `bytes` must be the raw `r‖s` form.
    pub fn new(algorithm: SignatureAlgorithm, bytes: Vec<u8>) -> Self {
        Signature { algorithm, bytes }
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The bytes as PKCS#11 and XMLDSig carry them (raw `r‖s` for ECDSA).
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes as CMS and X.509 carry them: unchanged for RSA, a DER `ECDSA-Sig-Value` for ECDSA.
    pub fn to_der(&self) -> Vec<u8> {
        match self.algorithm {
            SignatureAlgorithm::Ecdsa(..) => {
                let (r, s) = self.bytes.split_at(self.bytes.len() / 2);
                ecdsa_sig_value_der(r, s)
            }
            _ => self.bytes.clone(),
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("algorithm", &self.algorithm)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Why [`verify`] rejected a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the public key is not a well-formed SubjectPublicKeyInfo")]
    MalformedKey,
    #[error("the signature does not match the message and key ({algorithm})")]
    Mismatch { algorithm: SignatureAlgorithm },
}

/// Checks `signature`, in the form CMS and X.509 carry it (DER `ECDSA-Sig-Value` for ECDSA), over
/// `message` with the public key in the DER `SubjectPublicKeyInfo` `spki`. Uses aws-lc-rs, the
/// fastest verifier measured on this hardware (design §5).
pub fn verify(
    spki: &[u8],
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    use DigestAlgorithm::*;
    use aws_lc_rs::signature as sig;
    let key = spki_key_bits(spki).ok_or(VerifyError::MalformedKey)?;
    let scheme: &dyn sig::VerificationAlgorithm = match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        SignatureAlgorithm::RsaPkcs1v15(Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        SignatureAlgorithm::RsaPkcs1v15(Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        SignatureAlgorithm::RsaPss(Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
        SignatureAlgorithm::RsaPss(Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
        SignatureAlgorithm::RsaPss(Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
        SignatureAlgorithm::Ecdsa(Curve::P256, Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        SignatureAlgorithm::Ecdsa(Curve::P256, Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
        SignatureAlgorithm::Ecdsa(Curve::P256, Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
        SignatureAlgorithm::Ecdsa(Curve::P384, Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        SignatureAlgorithm::Ecdsa(Curve::P384, Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        SignatureAlgorithm::Ecdsa(Curve::P384, Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
    };
    sig::UnparsedPublicKey::new(scheme, key)
        .verify(message, signature)
        .map_err(|_| VerifyError::Mismatch { algorithm })
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) from the unsigned
/// big-endian halves.
fn ecdsa_sig_value_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    der::sequence(&[&der::unsigned_integer(r), &der::unsigned_integer(s)])
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1) from
/// the unsigned big-endian values PKCS#11 (`CKA_MODULUS`, `CKA_PUBLIC_EXPONENT`) and XMLDSig
/// (`RSAKeyValue`) give.
pub(crate) fn rsa_public_key(modulus: &[u8], public_exponent: &[u8]) -> Vec<u8> {
    der::sequence(&[
        &der::unsigned_integer(modulus),
        &der::unsigned_integer(public_exponent),
    ])
}

/// The key bits inside a DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7): the BIT STRING's
/// octets, an `RSAPublicKey` or an EC point. Their SHA-1 is the conventional `CKA_ID` and key
/// identifier (RFC 5280 §4.2.1.2, method 1).
pub(crate) fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let spki = ber::der(spki, "SubjectPublicKeyInfo")
        .and_then(|e| e.expect(tag::SEQUENCE, "a SubjectPublicKeyInfo SEQUENCE"))
        .ok()?;
    let mut fields = spki.fields();
    fields.expect(tag::SEQUENCE, "algorithm").ok()?;
    let bits = fields.expect(tag::BIT_STRING, "subjectPublicKey").ok()?;
    fields.finish("SubjectPublicKeyInfo").ok()?;
    bits.bit_string_octets().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_der_pads_high_bit_and_trims_zeros() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r has its top bit set: needs a 0x00 pad
        raw[31] = 1;
        raw[32] = 0; // s starts with zeros: they are trimmed
        raw[33] = 0;
        raw[34] = 0x7f;
        let sig = Signature::new(
            SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
            raw,
        );
        let der = sig.to_der();
        assert_eq!(der[0], 0x30);
        assert_eq!(&der[2..5], &[0x02, 33, 0x00]);
        let s_at = 2 + 2 + 33;
        assert_eq!(&der[s_at..s_at + 3], &[0x02, 30, 0x7f]);
        assert_eq!(der[1] as usize, der.len() - 2);
    }

    #[test]
    fn digest_info_is_rfc_8017_s_encoding() {
        // RFC 8017 §9.2 note 1: the SHA-256 DigestInfo prefix.
        let digest = [0xaa; 32];
        let info = DigestAlgorithm::Sha256.digest_info(&digest);
        assert_eq!(
            info[..19],
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20
            ]
        );
        assert_eq!(info[19..], digest);
        for d in [DigestAlgorithm::Sha384, DigestAlgorithm::Sha512] {
            let info = d.digest_info(&vec![0; d.output_len()]);
            assert_eq!(usize::from(info[1]) + 2, info.len());
            let empty = d.digest_info(&[]);
            let (element, _) = ber::parse(&empty).unwrap();
            let algorithm = element.fields().field("algorithm").unwrap();
            let id = algorithm.fields().field("oid").unwrap().oid().unwrap();
            assert_eq!(DigestAlgorithm::from_oid(&id), Some(d));
        }
    }
}
