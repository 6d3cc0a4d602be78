//! XMLDSig vocabulary: namespaces, algorithm identifiers (W3C XMLDSig 1.1 §6, RFC 6931) and the
//! cryptographic primitives behind them (digests and signature verification through
//! `aws-lc-rs`).
//!
//! SHA-1 (digests and signatures) and RSA keys under 2048 bits verify only under
//! [`LegacyCrypto::DangerouslyAllowSha1AndSmallRsa`]; SHA-224 digests are accepted (they are
//! collision resistant) but no kyso key signs with them. HMAC, DSA, GOST, EdDSA and post-quantum
//! methods are unsupported.

use aws_lc_rs::{digest, signature as sig};

use crate::signer::{Curve, DigestAlgorithm, SignatureAlgorithm};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const DSIG11_NS: &str = "http://www.w3.org/2009/xmldsig11#";
pub const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const XADES_NS: &str = "http://uri.etsi.org/01903/v1.3.2#";
pub const XADES141_NS: &str = "http://uri.etsi.org/01903/v1.4.1#";

pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const BASE64_TRANSFORM: &str = "http://www.w3.org/2000/09/xmldsig#base64";
pub const XPATH_TRANSFORM: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
pub const TYPE_OBJECT: &str = "http://www.w3.org/2000/09/xmldsig#Object";
pub const TYPE_MANIFEST: &str = "http://www.w3.org/2000/09/xmldsig#Manifest";
pub const TYPE_SIGNED_PROPERTIES: &str = "http://uri.etsi.org/01903#SignedProperties";
pub const TYPE_COUNTERSIGNED_SIGNATURE: &str = "http://uri.etsi.org/01903#CountersignedSignature";

/// Whether SHA-1 and RSA keys under 2048 bits are acceptable. Only interop and conformance
/// runs over old vectors should say so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LegacyCrypto {
    #[default]
    Refuse,
    DangerouslyAllowSha1AndSmallRsa,
}

/// A `DigestMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestMethod {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestMethod {
    pub fn from_uri(uri: &str) -> Option<DigestMethod> {
        Some(match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => DigestMethod::Sha1,
            "http://www.w3.org/2001/04/xmldsig-more#sha224" => DigestMethod::Sha224,
            "http://www.w3.org/2001/04/xmlenc#sha256" => DigestMethod::Sha256,
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => DigestMethod::Sha384,
            "http://www.w3.org/2001/04/xmlenc#sha512" => DigestMethod::Sha512,
            _ => return None,
        })
    }

    pub fn uri(self) -> &'static str {
        match self {
            DigestMethod::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            DigestMethod::Sha224 => "http://www.w3.org/2001/04/xmldsig-more#sha224",
            DigestMethod::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            DigestMethod::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            DigestMethod::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            DigestMethod::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            DigestMethod::Sha224 => &digest::SHA224,
            DigestMethod::Sha256 => &digest::SHA256,
            DigestMethod::Sha384 => &digest::SHA384,
            DigestMethod::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }

    /// Whether `legacy` permits this digest.
    pub fn allowed(self, legacy: LegacyCrypto) -> bool {
        self != DigestMethod::Sha1 || legacy == LegacyCrypto::DangerouslyAllowSha1AndSmallRsa
    }
}

impl From<DigestAlgorithm> for DigestMethod {
    fn from(d: DigestAlgorithm) -> Self {
        match d {
            DigestAlgorithm::Sha256 => DigestMethod::Sha256,
            DigestAlgorithm::Sha384 => DigestMethod::Sha384,
            DigestAlgorithm::Sha512 => DigestMethod::Sha512,
        }
    }
}

/// A `SignatureMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureMethod {
    /// RSASSA-PKCS1-v1_5 (RFC 6931 §2.3.2, XMLDSig §6.4.2).
    RsaPkcs1(DigestMethod),
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest: the
    /// parameter-less `…#sha256-rsa-MGF1` URIs of RFC 6931 §2.3.10.
    RsaPss(DigestMethod),
    /// ECDSA, SignatureValue the raw `r‖s` (RFC 6931 §2.3.6, RFC 4050 §3.3).
    Ecdsa(DigestMethod),
}

impl SignatureMethod {
    pub fn from_uri(uri: &str) -> Option<SignatureMethod> {
        use DigestMethod::*;
        Some(match uri {
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => SignatureMethod::RsaPkcs1(Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224" => {
                SignatureMethod::RsaPkcs1(Sha224)
            }
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
                SignatureMethod::RsaPkcs1(Sha256)
            }
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
                SignatureMethod::RsaPkcs1(Sha384)
            }
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
                SignatureMethod::RsaPkcs1(Sha512)
            }
            "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1" => SignatureMethod::RsaPss(Sha1),
            "http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1" => {
                SignatureMethod::RsaPss(Sha224)
            }
            "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1" => {
                SignatureMethod::RsaPss(Sha256)
            }
            "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1" => {
                SignatureMethod::RsaPss(Sha384)
            }
            "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1" => {
                SignatureMethod::RsaPss(Sha512)
            }
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => SignatureMethod::Ecdsa(Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224" => SignatureMethod::Ecdsa(Sha224),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => SignatureMethod::Ecdsa(Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => SignatureMethod::Ecdsa(Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => SignatureMethod::Ecdsa(Sha512),
            _ => return None,
        })
    }

    pub fn uri(self) -> &'static str {
        use DigestMethod::*;
        match self {
            SignatureMethod::RsaPkcs1(Sha1) => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            SignatureMethod::RsaPkcs1(Sha224) => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224"
            }
            SignatureMethod::RsaPkcs1(Sha256) => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
            }
            SignatureMethod::RsaPkcs1(Sha384) => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
            }
            SignatureMethod::RsaPkcs1(Sha512) => {
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
            }
            SignatureMethod::RsaPss(Sha1) => "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1",
            SignatureMethod::RsaPss(Sha224) => {
                "http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1"
            }
            SignatureMethod::RsaPss(Sha256) => {
                "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
            }
            SignatureMethod::RsaPss(Sha384) => {
                "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
            }
            SignatureMethod::RsaPss(Sha512) => {
                "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
            }
            SignatureMethod::Ecdsa(Sha1) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
            SignatureMethod::Ecdsa(Sha224) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224",
            SignatureMethod::Ecdsa(Sha256) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            SignatureMethod::Ecdsa(Sha384) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
            SignatureMethod::Ecdsa(Sha512) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        }
    }

    pub fn digest(self) -> DigestMethod {
        match self {
            SignatureMethod::RsaPkcs1(d)
            | SignatureMethod::RsaPss(d)
            | SignatureMethod::Ecdsa(d) => d,
        }
    }
}

impl From<SignatureAlgorithm> for SignatureMethod {
    fn from(a: SignatureAlgorithm) -> Self {
        match a {
            SignatureAlgorithm::RsaPkcs1v15(d) => SignatureMethod::RsaPkcs1(d.into()),
            SignatureAlgorithm::RsaPss(d) => SignatureMethod::RsaPss(d.into()),
            SignatureAlgorithm::Ecdsa(_, d) => SignatureMethod::Ecdsa(d.into()),
        }
    }
}

/// A public key as KeyInfo or the caller supplies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// DER `SubjectPublicKeyInfo` (from a certificate or `DEREncodedKeyValue`).
    Spki(Vec<u8>),
    /// DER `RSAPublicKey` (RFC 8017 A.1.1), built from `RSAKeyValue`.
    RsaPkcs1(Vec<u8>),
    /// An uncompressed SEC1 point, from `ECKeyValue` (P-256, P-384 or P-521: the signature
    /// method and value length pick the curve, and the point must lie on it).
    EcPoint(Vec<u8>),
}

/// Why a signature value did not verify under a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoFailure {
    /// The method, or the method with this key, is not one we verify (or `legacy` forbids it).
    Unsupported,
    /// The key does not verify the value.
    Mismatch,
}

/// Verifies `value` over `message` with `key`.
pub fn verify_signature(
    method: SignatureMethod,
    key: &PublicKey,
    message: &[u8],
    value: &[u8],
    legacy: LegacyCrypto,
) -> Result<(), CryptoFailure> {
    use DigestMethod::*;
    if !method.digest().allowed(legacy) {
        return Err(CryptoFailure::Unsupported);
    }
    let small_rsa = legacy == LegacyCrypto::DangerouslyAllowSha1AndSmallRsa;
    match method {
        SignatureMethod::RsaPkcs1(_) | SignatureMethod::RsaPss(_) => {
            let key_bytes = match key {
                PublicKey::Spki(b) | PublicKey::RsaPkcs1(b) => b,
                PublicKey::EcPoint(_) => return Err(CryptoFailure::Mismatch),
            };
            let algorithm: &'static sig::RsaParameters = match (method, small_rsa) {
                (SignatureMethod::RsaPkcs1(Sha1), false) => {
                    &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
                }
                (SignatureMethod::RsaPkcs1(Sha1), true) => {
                    &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
                }
                (SignatureMethod::RsaPkcs1(Sha256), false) => &sig::RSA_PKCS1_2048_8192_SHA256,
                (SignatureMethod::RsaPkcs1(Sha256), true) => {
                    &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
                }
                (SignatureMethod::RsaPkcs1(Sha384), _) => &sig::RSA_PKCS1_2048_8192_SHA384,
                (SignatureMethod::RsaPkcs1(Sha512), false) => &sig::RSA_PKCS1_2048_8192_SHA512,
                (SignatureMethod::RsaPkcs1(Sha512), true) => {
                    &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
                }
                (SignatureMethod::RsaPss(Sha256), _) => &sig::RSA_PSS_2048_8192_SHA256,
                (SignatureMethod::RsaPss(Sha384), _) => &sig::RSA_PSS_2048_8192_SHA384,
                (SignatureMethod::RsaPss(Sha512), _) => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return Err(CryptoFailure::Unsupported),
            };
            sig::UnparsedPublicKey::new(algorithm, key_bytes)
                .verify(message, value)
                .map_err(|_| CryptoFailure::Mismatch)
        }
        SignatureMethod::Ecdsa(digest) => {
            // aws-lc-rs has fixed-width (r‖s) verifiers for the curve's own digest only; the
            // ASN.1 ones cover every pairing, so convert r‖s to ECDSA-Sig-Value first.
            if value.is_empty() || !value.len().is_multiple_of(2) {
                return Err(CryptoFailure::Mismatch);
            }
            let der = crate::signer::Signature::new(
                SignatureAlgorithm::Ecdsa(Curve::P256, DigestAlgorithm::Sha256),
                value.to_vec(),
            )
            .to_der();
            let half = value.len() / 2;
            let candidates: &[&'static sig::EcdsaVerificationAlgorithm] = match (half, digest) {
                (32, Sha1) => &[&sig::ECDSA_P256_SHA1_ASN1],
                (32, Sha256) => &[&sig::ECDSA_P256_SHA256_ASN1],
                (32, Sha384) => &[&sig::ECDSA_P256_SHA384_ASN1],
                (32, Sha512) => &[&sig::ECDSA_P256_SHA512_ASN1],
                (48, Sha256) => &[&sig::ECDSA_P384_SHA256_ASN1],
                (48, Sha384) => &[&sig::ECDSA_P384_SHA384_ASN1],
                (48, Sha512) => &[&sig::ECDSA_P384_SHA512_ASN1],
                (66, Sha1) => &[&sig::ECDSA_P521_SHA1_ASN1],
                (66, Sha224) => &[&sig::ECDSA_P521_SHA224_ASN1],
                (66, Sha256) => &[&sig::ECDSA_P521_SHA256_ASN1],
                (66, Sha384) => &[&sig::ECDSA_P521_SHA384_ASN1],
                (66, Sha512) => &[&sig::ECDSA_P521_SHA512_ASN1],
                _ => return Err(CryptoFailure::Unsupported),
            };
            let key_bytes = match key {
                PublicKey::Spki(b) => b,
                PublicKey::EcPoint(point) => point,
                PublicKey::RsaPkcs1(_) => return Err(CryptoFailure::Mismatch),
            };
            for algorithm in candidates {
                if sig::UnparsedPublicKey::new(*algorithm, key_bytes)
                    .verify(message, &der)
                    .is_ok()
                {
                    return Ok(());
                }
            }
            Err(CryptoFailure::Mismatch)
        }
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` from the unsigned
/// big-endian values of an `RSAKeyValue`.
pub fn rsa_public_key_der(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    crate::asn1::sequence(&[
        &crate::asn1::unsigned_integer(modulus),
        &crate::asn1::unsigned_integer(exponent),
    ])
}
