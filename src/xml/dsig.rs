//! XMLDSig vocabulary: namespaces, algorithm identifiers (W3C XMLDSig 1.1 §6, RFC 6931) and the
//! cryptographic primitives behind them (digests and signature verification through
//! `aws-lc-rs`).
//!
//! SHA-1 (digests and signatures) and RSA keys under 2048 bits are below policy unless
//! [`LegacyCrypto::DangerouslyAllowSha1AndSmallRsa`]: such a signature is still checked, and
//! reported as intact but below policy ([`CryptoFailure::BelowPolicy`]), so that a tampered one
//! reads as tampered. SHA-224 digests are accepted (they are collision resistant) but no kyso
//! key signs with them. RSASSA-PSS comes as the parameter-less `…#sha256-rsa-MGF1` URIs (salt as
//! long as the digest) or as `…#rsa-pss` with `pss:RSAPSSParams` (any salt length; RFC 6931
//! §2.3.10). HMAC, DSA, GOST, EdDSA and post-quantum methods are unsupported.

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
/// RFC 6931's namespace: the `#rsa-pss` method, its `RSAPSSParams` and the `#MGF1` function.
pub const DSIG_MORE_2007_NS: &str = "http://www.w3.org/2007/05/xmldsig-more#";
pub const RSA_PSS_WITH_PARAMETERS: &str = "http://www.w3.org/2007/05/xmldsig-more#rsa-pss";
const MGF1: &str = "http://www.w3.org/2007/05/xmldsig-more#MGF1";

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

    /// The digest's length in bytes.
    pub fn output_len(self) -> u16 {
        match self {
            DigestMethod::Sha1 => 20,
            DigestMethod::Sha224 => 28,
            DigestMethod::Sha256 => 32,
            DigestMethod::Sha384 => 48,
            DigestMethod::Sha512 => 64,
        }
    }

    /// The same digest as an X.509 signature algorithm names it; SHA-224 has no place there.
    fn hash(self) -> Option<crate::pki::signature::Hash> {
        use crate::pki::signature::Hash;
        Some(match self {
            DigestMethod::Sha1 => Hash::Sha1,
            DigestMethod::Sha224 => return None,
            DigestMethod::Sha256 => Hash::Sha256,
            DigestMethod::Sha384 => Hash::Sha384,
            DigestMethod::Sha512 => Hash::Sha512,
        })
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
    /// RSASSA-PSS as `…#rsa-pss` with its `RSAPSSParams` (RFC 6931 §2.3.10): any salt length,
    /// MGF1 over the same digest, trailer field 1.
    RsaPssWithParameters { digest: DigestMethod, salt_len: u16 },
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
            SignatureMethod::RsaPssWithParameters { .. } => RSA_PSS_WITH_PARAMETERS,
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
            | SignatureMethod::RsaPssWithParameters { digest: d, .. }
            | SignatureMethod::Ecdsa(d) => d,
        }
    }

    /// Reads the `pss:RSAPSSParams` of a `SignatureMethod` whose URI is `…#rsa-pss`:
    ///
    /// ```text
    /// <pss:RSAPSSParams>
    ///   <ds:DigestMethod Algorithm="…"/>?                      default SHA-256
    ///   <pss:MaskGenerationFunction Algorithm="…#MGF1">?       default MGF1 over DigestMethod
    ///     <ds:DigestMethod Algorithm="…"/>?
    ///   </pss:MaskGenerationFunction>
    ///   <pss:SaltLength>32</pss:SaltLength>?                   default the digest's length
    ///   <pss:TrailerField>1</pss:TrailerField>?                default 1 (the only one allowed)
    /// </pss:RSAPSSParams>
    /// ```
    pub fn rsa_pss_with_parameters(
        method: roxmltree::Node<'_, '_>,
    ) -> Result<SignatureMethod, &'static str> {
        let more = |n: &roxmltree::Node<'_, '_>, local: &str| {
            n.is_element()
                && n.tag_name().namespace() == Some(DSIG_MORE_2007_NS)
                && n.tag_name().name() == local
        };
        let dsig = |n: &roxmltree::Node<'_, '_>, local: &str| {
            n.is_element()
                && n.tag_name().namespace() == Some(DSIG_NS)
                && n.tag_name().name() == local
        };
        let digest_of = |n: roxmltree::Node<'_, '_>| {
            n.attribute("Algorithm")
                .and_then(DigestMethod::from_uri)
                .ok_or("RSAPSSParams names an unknown DigestMethod")
        };
        let params = method.children().find(|n| more(n, "RSAPSSParams"));
        let mut digest = DigestMethod::Sha256;
        let mut mgf_digest = None;
        let mut salt_len = None;
        for child in params
            .iter()
            .flat_map(|p| p.children())
            .filter(|n| n.is_element())
        {
            if dsig(&child, "DigestMethod") {
                digest = digest_of(child)?;
            } else if more(&child, "MaskGenerationFunction") {
                if child.attribute("Algorithm").is_some_and(|a| a != MGF1) {
                    return Err("RSAPSSParams names a mask generation function other than MGF1");
                }
                if let Some(d) = child.children().find(|n| dsig(n, "DigestMethod")) {
                    mgf_digest = Some(digest_of(d)?);
                }
            } else if more(&child, "SaltLength") {
                let value = child.text().unwrap_or("").trim().parse::<u16>();
                salt_len = Some(value.map_err(|_| "RSAPSSParams SaltLength is not a length")?);
            } else if more(&child, "TrailerField") {
                if child.text().unwrap_or("").trim() != "1" {
                    return Err("RSAPSSParams TrailerField is not 1");
                }
            } else {
                return Err("unexpected element in RSAPSSParams");
            }
        }
        if mgf_digest.is_some_and(|m| m != digest) {
            return Err(
                "RSA-PSS with an MGF1 digest other than the message digest is not supported",
            );
        }
        let salt_len = salt_len.unwrap_or_else(|| digest.output_len());
        Ok(SignatureMethod::RsaPssWithParameters { digest, salt_len })
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
    /// The method, or the method with this key, is not one we verify.
    Unsupported,
    /// The key does not verify the value.
    Mismatch,
    /// The value verifies, but with an algorithm or key size `legacy` refuses (SHA-1, RSA
    /// under 2048 bits): intact, and below policy.
    BelowPolicy(&'static str),
}

/// Verifies `value` over `message` with `key`. The value is checked first; `legacy` decides
/// afterwards whether a verified value's algorithm is acceptable.
pub fn verify_signature(
    method: SignatureMethod,
    key: &PublicKey,
    message: &[u8],
    value: &[u8],
    legacy: LegacyCrypto,
) -> Result<(), CryptoFailure> {
    use crate::pki::signature::{self as pki_signature, KeyKind, PssParameters};
    use DigestMethod::*;
    let below_policy = |verified: Result<(), CryptoFailure>, small_key: bool| {
        verified?;
        if legacy == LegacyCrypto::DangerouslyAllowSha1AndSmallRsa {
            return Ok(());
        }
        if small_key {
            return Err(CryptoFailure::BelowPolicy("RSA key under 2048 bits"));
        }
        if method.digest() == Sha1 {
            return Err(CryptoFailure::BelowPolicy("SHA-1"));
        }
        Ok(())
    };
    match method {
        SignatureMethod::RsaPkcs1(_)
        | SignatureMethod::RsaPss(_)
        | SignatureMethod::RsaPssWithParameters { .. } => {
            let key = match key {
                PublicKey::Spki(der) => pki_signature::PublicKey::from_spki_der(der),
                PublicKey::RsaPkcs1(der) => sig::RsaParameters::public_modulus_len(der)
                    .ok()
                    .and_then(|bits| usize::try_from(bits).ok())
                    .map(|bits| pki_signature::PublicKey {
                        kind: KeyKind::Rsa { bits },
                        bits: der.clone(),
                    }),
                PublicKey::EcPoint(_) => return Err(CryptoFailure::Mismatch),
            };
            let Some(key) = key else {
                return Err(CryptoFailure::Mismatch);
            };
            let KeyKind::Rsa { bits } = key.kind else {
                return Err(CryptoFailure::Mismatch);
            };
            let hash = method.digest().hash().ok_or(CryptoFailure::Unsupported)?;
            let algorithm = match method {
                SignatureMethod::RsaPkcs1(_) => pki_signature::SignatureAlgorithm::RsaPkcs1(hash),
                SignatureMethod::RsaPssWithParameters { salt_len, .. } => {
                    pki_signature::SignatureAlgorithm::RsaPss(PssParameters { hash, salt_len })
                }
                _ => pki_signature::SignatureAlgorithm::RsaPss(PssParameters::digest_length_salt(
                    hash,
                )),
            };
            let verified = pki_signature::verify_value(&algorithm, &key, message, value).map_err(
                |e| match e {
                    pki_signature::SignatureError::Invalid => CryptoFailure::Mismatch,
                    _ => CryptoFailure::Unsupported,
                },
            );
            below_policy(verified, bits < 2048)
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
            let verified = candidates
                .iter()
                .any(|algorithm| {
                    sig::UnparsedPublicKey::new(*algorithm, key_bytes)
                        .verify(message, &der)
                        .is_ok()
                })
                .then_some(())
                .ok_or(CryptoFailure::Mismatch);
            below_policy(verified, false)
        }
    }
}
