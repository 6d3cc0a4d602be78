//! Private keys on a token, and the [`Signer`] built on them.

use std::sync::{Arc, PoisonError, RwLock};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use super::pool::{Token, TokenDefaults};
use super::uri::{ObjectType, Pkcs11Uri};
use super::{Error, PinSource, spki};
use crate::signer::{
    Curve, DigestAlgorithm, Signature, SignatureAlgorithm, SignatureScheme, Signer,
};

/// Choices made when a key is opened.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyOptions {
    /// The scheme to sign with. `None` picks the usual one for the key: RSA PKCS#1 v1.5 with
    /// SHA-256 (what Vietnamese public CAs issue for), ECDSA with the curve's own digest.
    pub scheme: Option<SignatureScheme>,
}

/// A private key held by a token. Signing hashes on the host and signs the digest in the token
/// (see [`crate::signer`]), through a session borrowed from the token's pool.
pub struct TokenKey {
    token: Arc<Token>,
    /// The label and id that find the key again if its handle is invalidated.
    label: Option<String>,
    id: Vec<u8>,
    handle: RwLock<ObjectHandle>,
    algorithm: SignatureAlgorithm,
    /// Signature length in bytes: the modulus length for RSA, `2 × field` for ECDSA.
    signature_len: usize,
    spki: Vec<u8>,
    certificate: Option<Vec<u8>>,
}

impl TokenKey {
    /// Opens the private key the URI names: loads the module, finds the token, logs in with the
    /// PIN from the URI's `pin-source` or the defaults, and finds exactly one private key by
    /// `object` (label) and/or `id`.
    pub fn open(
        uri: &Pkcs11Uri,
        defaults: &TokenDefaults,
        options: KeyOptions,
    ) -> Result<TokenKey, Error> {
        if matches!(uri.object_type, Some(t) if t != ObjectType::Private) {
            return Err(Error::UnsupportedKey {
                token: uri.describe_token(),
                key: uri.describe_object(),
                reason: "a signing key's URI must say type=private or leave type out".to_owned(),
            });
        }
        let token = Token::open(uri, defaults)?;
        let pin_source = match &uri.pin_source {
            Some(text) => Some(PinSource::parse(text)?),
            None => defaults.pin_source.clone(),
        };
        token.ensure_login(pin_source.as_ref())?;
        TokenKey::on_token(token, uri.object.as_deref(), uri.id.as_deref(), options)
    }

    /// Finds the one private key with this label and/or id on an open, logged-in token.
    pub fn on_token(
        token: Arc<Token>,
        label: Option<&str>,
        id: Option<&[u8]>,
        options: KeyOptions,
    ) -> Result<TokenKey, Error> {
        let handle = find_exactly_one(&token, ObjectClass::PRIVATE_KEY, label, id)?;
        let attrs = token.with_session("C_GetAttributeValue", |s| {
            s.get_attributes(handle, &[AttributeType::KeyType, AttributeType::Id])
        })?;
        let mut key_type = None;
        let mut key_id = Vec::new();
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Id(i) => key_id = i,
                _ => {}
            }
        }
        let described = describe(label, Some(&key_id));
        let unsupported = |reason: String| Error::UnsupportedKey {
            token: token.label().to_owned(),
            key: described.clone(),
            reason,
        };
        let certificate = find_certificate(&token, &key_id)?;

        let public = read_public_key(&token, handle, key_type, &key_id, certificate.as_deref())
            .map_err(|reason| unsupported(reason.to_owned()))?;
        let (algorithm, signature_len) = match public.kind {
            KeyKind::Rsa { bits } => {
                if bits < 2048 {
                    return Err(unsupported(format!(
                        "RSA-{bits} is too weak to sign with (at least 2048 bits)"
                    )));
                }
                let algorithm = match options.scheme {
                    None => SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
                    Some(SignatureScheme::RsaPkcs1v15(d)) => SignatureAlgorithm::RsaPkcs1v15(d),
                    Some(SignatureScheme::RsaPss(d)) => SignatureAlgorithm::RsaPss(d),
                    Some(other) => {
                        return Err(unsupported(format!("an RSA key cannot sign with {other}")));
                    }
                };
                (algorithm, bits.div_ceil(8))
            }
            KeyKind::Ec(curve) => {
                let algorithm = match options.scheme {
                    None => SignatureAlgorithm::Ecdsa(curve, curve.default_digest()),
                    Some(SignatureScheme::Ecdsa(d)) => SignatureAlgorithm::Ecdsa(curve, d),
                    Some(other) => {
                        return Err(unsupported(format!(
                            "a {curve} key cannot sign with {other}"
                        )));
                    }
                };
                (algorithm, 2 * curve.field_len())
            }
        };
        let spki = public.spki;

        let needed = mechanism_type(algorithm);
        if !token.mechanisms()?.contains(&needed) {
            return Err(unsupported(format!(
                "the token does not offer {needed} for {algorithm}"
            )));
        }

        if let Some(cert) = &certificate
            && certificate_spki(cert).as_deref() != Some(spki.as_slice())
        {
            return Err(unsupported(
                "the certificate with the key's id is for another public key".to_owned(),
            ));
        }

        Ok(TokenKey {
            token,
            label: label.map(str::to_owned),
            id: key_id,
            handle: RwLock::new(handle),
            algorithm,
            signature_len,
            spki,
            certificate,
        })
    }

    /// The token holding the key.
    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    /// The key's `CKA_ID`.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The certificate stored on the token under the key's `CKA_ID`, DER, if there is one.
    pub fn certificate(&self) -> Option<&[u8]> {
        self.certificate.as_deref()
    }

    /// The issuers of the key's certificate stored on the token, nearest first, up to (not
    /// including) a self-signed root: the chain a signature carries when the certificates came
    /// with the token, as they do on Vietnamese CA-issued USB tokens.
    pub fn chain_from_token(&self) -> Result<Vec<Vec<u8>>, Error> {
        let Some(leaf) = &self.certificate else {
            return Ok(Vec::new());
        };
        let all: Vec<Vec<u8>> = self.token.with_session("C_FindObjects", |s| {
            let mut found = Vec::new();
            for handle in s.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])? {
                for attr in s.get_attributes(handle, &[AttributeType::Value])? {
                    if let Attribute::Value(der) = attr {
                        found.push(der);
                    }
                }
            }
            Ok(found)
        })?;
        let parsed: Vec<_> = all
            .iter()
            .filter_map(|der| {
                x509_parser::parse_x509_certificate(der)
                    .ok()
                    .map(|(_, c)| (der, c))
            })
            .collect();
        let mut chain = Vec::new();
        let mut current = leaf.clone();
        // A chain longer than 8 is not a real PKI; the bound also stops issuer loops.
        for _ in 0..8 {
            let Ok((_, cert)) = x509_parser::parse_x509_certificate(&current) else {
                break;
            };
            if cert.tbs_certificate.issuer == cert.tbs_certificate.subject {
                break;
            }
            let Some((der, issuer)) = parsed
                .iter()
                .find(|(_, c)| c.tbs_certificate.subject == cert.tbs_certificate.issuer)
            else {
                break;
            };
            if issuer.tbs_certificate.issuer == issuer.tbs_certificate.subject {
                break;
            }
            chain.push((*der).clone());
            current = (*der).clone();
        }
        Ok(chain)
    }

    /// Whether [`TokenKey::sign_digest_as`] takes `algorithm`: the key's own scheme family
    /// (PKCS#1 v1.5 or PSS for RSA, ECDSA on its own curve) with any digest kyso signs with.
    pub fn can_sign_as(&self, algorithm: SignatureAlgorithm) -> bool {
        match (self.algorithm, algorithm) {
            (SignatureAlgorithm::RsaPkcs1v15(_), SignatureAlgorithm::RsaPkcs1v15(_))
            | (SignatureAlgorithm::RsaPss(_), SignatureAlgorithm::RsaPss(_)) => true,
            (SignatureAlgorithm::Ecdsa(own, _), SignatureAlgorithm::Ecdsa(asked, _)) => {
                own == asked
            }
            _ => false,
        }
    }

    /// A URI naming this key (without module or PIN source).
    pub fn uri(&self) -> Pkcs11Uri {
        Pkcs11Uri {
            token: Some(self.token.label().to_owned()),
            object: self.label.clone(),
            id: Some(self.id.clone()),
            object_type: Some(ObjectType::Private),
            ..Default::default()
        }
    }

    /// Signs a digest already computed with the algorithm's digest.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Signature, Error> {
        self.sign_digest_as(self.algorithm, digest)
    }

    /// Signs a digest computed by someone else (a CSC client's `signHash`) with `algorithm`,
    /// which may differ from the key's own only in its digest: the same key type and scheme,
    /// the same curve. A PSS or ECDSA key never signs PKCS#1 v1.5, and an RSA key never ECDSA,
    /// whatever the caller asks.
    pub fn sign_digest_as(
        &self,
        algorithm: SignatureAlgorithm,
        digest: &[u8],
    ) -> Result<Signature, Error> {
        let refuse = |reason: String| Error::UnsupportedKey {
            token: self.token.label().to_owned(),
            key: describe(self.label.as_deref(), Some(&self.id)),
            reason,
        };
        if !self.can_sign_as(algorithm) {
            return Err(refuse(format!(
                "a key for {} cannot sign with {algorithm}",
                self.algorithm
            )));
        }
        if digest.len() != algorithm.digest().output_len() {
            return Err(refuse(format!(
                "a {}-byte digest was given for {algorithm}",
                digest.len()
            )));
        }
        // Same family, same mechanism (`CKM_RSA_PKCS`, `CKM_RSA_PKCS_PSS`, `CKM_ECDSA`): the
        // token was checked to offer it when the key was opened.
        let input = mechanism_input(algorithm, digest);
        let mechanism = mechanism(algorithm);
        let mut refound = false;
        loop {
            let handle = *self.handle.read().unwrap_or_else(PoisonError::into_inner);
            match self
                .token
                .with_session("C_Sign", |s| s.sign(&mechanism, handle, &input))
            {
                Ok(bytes) if bytes.len() == self.signature_len => {
                    return Ok(Signature::new(algorithm, bytes));
                }
                Ok(bytes) => {
                    return Err(Error::UnsupportedKey {
                        token: self.token.label().to_owned(),
                        key: describe(self.label.as_deref(), Some(&self.id)),
                        reason: format!(
                            "the token returned a {}-byte signature, expected {}",
                            bytes.len(),
                            self.signature_len
                        ),
                    });
                }
                // The token was re-initialised or the key re-imported: handles changed. Find the
                // key again by label and id, once.
                Err(e)
                    if !refound
                        && matches!(
                            e.return_value(),
                            Some(RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid)
                        ) =>
                {
                    refound = true;
                    let fresh = find_exactly_one(
                        &self.token,
                        ObjectClass::PRIVATE_KEY,
                        self.label.as_deref(),
                        Some(&self.id),
                    )?;
                    // Only the same key may take the old one's place: a different key under the same
                    // label would sign in the name of a certificate that is not its own.
                    let same = read_public_key(
                        &self.token,
                        fresh,
                        None,
                        &self.id,
                        self.certificate.as_deref(),
                    )
                    .is_ok_and(|public| public.spki == self.spki);
                    if !same {
                        return Err(Error::UnsupportedKey {
                            token: self.token.label().to_owned(),
                            key: describe(self.label.as_deref(), Some(&self.id)),
                            reason: "the key was replaced by a different key since it was opened"
                                .to_owned(),
                        });
                    }
                    *self.handle.write().unwrap_or_else(PoisonError::into_inner) = fresh;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Signer for TokenKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, crate::signer::SignError> {
        Ok(self.sign_digest(&self.algorithm.digest().digest(message))?)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("token", &self.token.label())
            .field("label", &self.label)
            .field("id", &hex::encode(&self.id))
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

enum KeyKind {
    Rsa { bits: usize },
    Ec(Curve),
}

struct PublicKey {
    kind: KeyKind,
    spki: Vec<u8>,
}

/// The public half of the private key `handle`: RSA from the private key's own public attributes,
/// EC from the public key object with the same id or, failing that, the certificate. `key_type`
/// is read from the token when not already known. Errors are reasons for `UnsupportedKey`.
fn read_public_key(
    token: &Token,
    handle: ObjectHandle,
    key_type: Option<KeyType>,
    key_id: &[u8],
    certificate: Option<&[u8]>,
) -> Result<PublicKey, &'static str> {
    let attributes = |types: &[AttributeType]| {
        token
            .with_session("C_GetAttributeValue", |s| s.get_attributes(handle, types))
            .map_err(|_| "the token does not show the key's public attributes")
    };
    let key_type = match key_type {
        Some(t) => t,
        None => attributes(&[AttributeType::KeyType])?
            .into_iter()
            .find_map(|a| match a {
                Attribute::KeyType(t) => Some(t),
                _ => None,
            })
            .ok_or("the token does not say the key's type")?,
    };
    if key_type == KeyType::RSA {
        let (mut modulus, mut exponent) = (None, None);
        for attr in attributes(&[AttributeType::Modulus, AttributeType::PublicExponent])? {
            match attr {
                Attribute::Modulus(m) => modulus = Some(m),
                Attribute::PublicExponent(e) => exponent = Some(e),
                _ => {}
            }
        }
        let (Some(modulus), Some(exponent)) = (modulus, exponent) else {
            return Err("the token does not show the key's modulus and exponent");
        };
        Ok(PublicKey {
            kind: KeyKind::Rsa {
                bits: modulus_bits(&modulus),
            },
            spki: spki::rsa(&modulus, &exponent),
        })
    } else if key_type == KeyType::EC {
        let curve = attributes(&[AttributeType::EcParams])?
            .iter()
            .find_map(|a| match a {
                Attribute::EcParams(p) => spki::curve_from_params(p),
                _ => None,
            })
            .ok_or("the curve is not P-256 or P-384")?;
        let spki = ec_public_key(token, key_id, curve, certificate)
            .ok()
            .flatten()
            .ok_or(
                "no public key object or certificate with the key's id holds its public point",
            )?;
        Ok(PublicKey {
            kind: KeyKind::Ec(curve),
            spki,
        })
    } else {
        Err("the key is neither RSA nor EC")
    }
}

/// The PKCS#11 mechanism that signs an already computed digest with `algorithm`.
pub(crate) fn mechanism(algorithm: SignatureAlgorithm) -> Mechanism<'static> {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(_) => Mechanism::RsaPkcs,
        SignatureAlgorithm::RsaPss(d) => Mechanism::RsaPkcsPss(PkcsPssParams {
            hash_alg: digest_mechanism(d),
            mgf: match d {
                DigestAlgorithm::Sha256 => PkcsMgfType::MGF1_SHA256,
                DigestAlgorithm::Sha384 => PkcsMgfType::MGF1_SHA384,
                DigestAlgorithm::Sha512 => PkcsMgfType::MGF1_SHA512,
            },
            s_len: (d.output_len() as u64).into(),
        }),
        SignatureAlgorithm::Ecdsa(..) => Mechanism::Ecdsa,
    }
}

/// The bytes handed to `C_Sign` for `digest`: a `DigestInfo` for PKCS#1 v1.5 (`CKM_RSA_PKCS`
/// pads but does not wrap), the bare digest for PSS and ECDSA.
pub(crate) fn mechanism_input(algorithm: SignatureAlgorithm, digest: &[u8]) -> Vec<u8> {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(d) => d.digest_info(digest),
        _ => digest.to_vec(),
    }
}

fn mechanism_type(algorithm: SignatureAlgorithm) -> MechanismType {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1v15(_) => MechanismType::RSA_PKCS,
        SignatureAlgorithm::RsaPss(_) => MechanismType::RSA_PKCS_PSS,
        SignatureAlgorithm::Ecdsa(..) => MechanismType::ECDSA,
    }
}

fn digest_mechanism(d: DigestAlgorithm) -> MechanismType {
    match d {
        DigestAlgorithm::Sha256 => MechanismType::SHA256,
        DigestAlgorithm::Sha384 => MechanismType::SHA384,
        DigestAlgorithm::Sha512 => MechanismType::SHA512,
    }
}

fn modulus_bits(modulus: &[u8]) -> usize {
    let trimmed: &[u8] = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => &[],
    };
    match trimmed.first() {
        Some(&top) => trimmed.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

fn describe(label: Option<&str>, id: Option<&[u8]>) -> String {
    Pkcs11Uri {
        object: label.map(str::to_owned),
        id: id.map(<[u8]>::to_vec),
        ..Default::default()
    }
    .describe_object()
}

/// Handles of objects of `class` matching label and id.
pub(crate) fn find_handles(
    s: &Session,
    class: ObjectClass,
    label: Option<&str>,
    id: Option<&[u8]>,
) -> Result<Vec<ObjectHandle>, CkError> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = label {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = id {
        template.push(Attribute::Id(id.to_vec()));
    }
    s.find_objects(&template)
}

pub(crate) fn find_exactly_one(
    token: &Token,
    class: ObjectClass,
    label: Option<&str>,
    id: Option<&[u8]>,
) -> Result<ObjectHandle, Error> {
    let kind = if class == ObjectClass::PRIVATE_KEY {
        "private key"
    } else if class == ObjectClass::CERTIFICATE {
        "certificate"
    } else {
        "object"
    };
    let mut found = token.with_session("C_FindObjects", |s| find_handles(s, class, label, id))?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::ObjectNotFound {
            token: token.label().to_owned(),
            kind,
            wanted: describe(label, id),
        }),
        count => Err(Error::AmbiguousObject {
            token: token.label().to_owned(),
            kind,
            wanted: describe(label, id),
            count,
        }),
    }
}

/// The certificate stored under `id`, if any. With several, the first is taken: tokens keep one
/// certificate per key in practice, and the caller checks it against the key.
fn find_certificate(token: &Token, id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    if id.is_empty() {
        return Ok(None);
    }
    token.with_session("C_FindObjects", |s| {
        for handle in find_handles(s, ObjectClass::CERTIFICATE, None, Some(id))? {
            for attr in s.get_attributes(handle, &[AttributeType::Value])? {
                if let Attribute::Value(der) = attr {
                    return Ok(Some(der));
                }
            }
        }
        Ok(None)
    })
}

/// The EC public key as SPKI: from the public key object with the key's id, else from the
/// certificate.
fn ec_public_key(
    token: &Token,
    id: &[u8],
    curve: Curve,
    certificate: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, Error> {
    let point = token.with_session("C_FindObjects", |s| {
        if id.is_empty() {
            return Ok(None);
        }
        for handle in find_handles(s, ObjectClass::PUBLIC_KEY, None, Some(id))? {
            for attr in s.get_attributes(handle, &[AttributeType::EcPoint])? {
                if let Attribute::EcPoint(p) = attr {
                    return Ok(Some(p));
                }
            }
        }
        Ok(None)
    })?;
    if let Some(point) = point.and_then(|p| spki::ec_point(&p, curve)) {
        return Ok(Some(spki::ec(curve, &point)));
    }
    Ok(certificate.and_then(certificate_spki))
}

/// The DER `SubjectPublicKeyInfo` of a certificate.
pub(crate) fn certificate_spki(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.tbs_certificate.subject_pki.raw.to_vec())
}
