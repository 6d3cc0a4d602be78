//! RFC 3161 timestamp tokens: verification, and their use as proof of the time a signature
//! existed (a signature timestamped before its certificate expired or was revoked stays valid).
//!
//! Owns: what makes a `TimeStampToken` acceptable once [`crate::cms`] has read it (a CMS
//! SignedData, RFC 5652 §5, holding a `TSTInfo`, RFC 3161 §2.4.2): the message imprint against
//! the caller's data, the CMS signature over the signed attributes as they arrived (never a
//! re-encoding), the ESS signing-certificate binding (RFC 2634 §5.4 / RFC 5035 §3), and the
//! TSA's certificate path with the critical id-kp-timeStamping purpose (RFC 3161 §2.3) at the
//! token's genTime. Refuses: tokens that are not DER (RFC 3161 has TSAs answer in DER; callers
//! holding a BER token from a document make its lengths definite first), tokens with other
//! than one SignerInfo, and tokens without signed attributes.

use time::OffsetDateTime;

use crate::ber::{self, Element, canonical_integer, tag};
use crate::cms::{self, SignedAttributes, SignedData, SignerId, SignerInfo, TimeStampResp};
use crate::oid;
use crate::pki::cert::Certificate;
use crate::pki::path::{KeyPurpose, PathError, ValidationPolicy, Validator, VerifiedChain};
use crate::pki::revocation::RevocationSource;
use crate::pki::signature::{self, Hash, SignatureAlgorithm, SignatureError};

pub use crate::cms::TstInfo;

/// Why a timestamp token is not acceptable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("timestamp token malformed: {0}")]
    Malformed(String),
    #[error("time-stamping authority refused the request: status {status}")]
    Refused { status: u64 },
    #[error("timestamp covers other data: message imprint differs")]
    ImprintMismatch,
    #[error("timestamp nonce differs from the request's")]
    NonceMismatch,
    #[error("timestamp signed attributes: {0}")]
    BadAttributes(&'static str),
    #[error("timestamp signer certificate not found in the token or the pool")]
    SignerNotFound,
    #[error("timestamp signature: {0}")]
    BadSignature(SignatureError),
    #[error("timestamp authority certificate path: {0}")]
    Path(PathError),
    /// The TSA's path was good at the token's time, but a certificate of it expired before the
    /// time the token is relied on, and nothing proves the token existed before that: a token
    /// outlives its TSA's certificate only under a later time-stamp (ETSI EN 319 102-1 §5.6.2,
    /// past signature validation).
    #[error(
        "timestamp authority certificate \"{subject}\" expired on {not_after}, before {control}, and no later time-stamp proves the token existed before then"
    )]
    ExpiredBeforeProof {
        subject: String,
        not_after: OffsetDateTime,
        control: OffsetDateTime,
    },
}

impl Error {
    /// Whether a later proof of existence could make the token good again (an expired TSA
    /// certificate), rather than the token itself being wrong.
    pub fn lacks_proof(&self) -> bool {
        matches!(self, Error::ExpiredBeforeProof { .. })
    }
}

impl From<cms::ParseError> for Error {
    fn from(e: cms::ParseError) -> Self {
        Error::Malformed(e.to_string())
    }
}

impl From<ber::Error> for Error {
    fn from(e: ber::Error) -> Self {
        Error::Malformed(e.to_string())
    }
}

/// A parsed (not yet verified) timestamp token.
#[derive(Debug, Clone)]
pub struct TimestampToken {
    der: Vec<u8>,
    info: TstInfo,
    /// The digest of the message imprint.
    imprint_hash: Hash,
    certificates: Vec<Certificate>,
}

/// A timestamp whose signature, imprint and TSA path were checked. Only [`verify`] builds one.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    info: TstInfo,
    chain: VerifiedChain,
}

impl VerifiedTimestamp {
    /// When the TSA says the data existed.
    pub fn gen_time(&self) -> OffsetDateTime {
        self.info.gen_time
    }
    pub fn info(&self) -> &TstInfo {
        &self.info
    }
    /// The TSA's validated path.
    pub fn tsa_chain(&self) -> &VerifiedChain {
        &self.chain
    }

    /// Whether the token may be relied on at `control`: the time it is used at, which is the
    /// validation time, or the time a later time-stamp proves it existed at (ETSI EN 319 102-1
    /// §5.6.2.1). Its TSA's path was checked at its own time; here every certificate of that
    /// path but the anchor must still have been within its validity at `control`.
    pub fn usable_at(&self, control: OffsetDateTime) -> Result<(), Error> {
        let path = self.chain.certificates();
        let below_anchor = &path[..path.len().saturating_sub(1)];
        match below_anchor.iter().find(|c| c.not_after() < control) {
            Some(expired) => Err(Error::ExpiredBeforeProof {
                subject: expired.subject().to_string(),
                not_after: expired.not_after(),
                control,
            }),
            None => Ok(()),
        }
    }

    /// Validates a signer's path at the proven time: a certificate that expired or was revoked
    /// after the timestamp still validates, one revoked before it does not.
    pub fn validate_signer(
        &self,
        validator: &Validator,
        leaf: &Certificate,
        intermediates: &[Certificate],
        sources: &[&dyn RevocationSource],
    ) -> Result<VerifiedChain, PathError> {
        validator.validate(leaf, intermediates, self.info.gen_time, sources)
    }
}

impl TimestampToken {
    /// Reads a `TimeStampResp` (what a TSA answers over HTTP) and returns its token.
    pub fn from_response_der(data: &[u8]) -> Result<TimestampToken, Error> {
        let response = TimeStampResp::parse(data)?;
        if !response.granted() {
            return Err(Error::Refused {
                status: response.status,
            });
        }
        let token = response
            .token
            .ok_or_else(|| Error::Malformed("a granted TimeStampResp without a token".into()))?;
        TimestampToken::from_der(token)
    }

    /// Reads a `TimeStampToken` (ContentInfo with SignedData), as embedded in a signature's
    /// unsigned attributes or a document timestamp. A pure function of the bytes.
    pub fn from_der(data: &[u8]) -> Result<TimestampToken, Error> {
        let signed = SignedData::parse_der(data)?;
        // RFC 5652 §5.1: version 3 whenever the content type is not id-data.
        if signed.version != 3 {
            return Err(Error::Malformed("SignedData version is not 3".into()));
        }
        if !signed.content_type.is(oid::TST_INFO) {
            return Err(Error::Malformed(
                "encapsulated content is not TSTInfo".into(),
            ));
        }
        let signer = the_signer(&signed)?;
        check_signer_info(signer)?;
        for listed in &signed.digest_algorithms {
            known_hash(listed)?;
        }
        if !signed.digest_algorithms.contains(&signer.digest_algorithm) {
            return Err(Error::Malformed(
                "signer's digest algorithm not listed in digestAlgorithms".into(),
            ));
        }
        let info = TstInfo::of_signed_data(&signed)?;
        let imprint_hash = known_hash(&info.hash_algorithm())?;
        let certificates = signed
            .certificates
            .iter()
            .map(|der| {
                Certificate::from_der(der)
                    .map_err(|e| Error::Malformed(format!("certificate: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TimestampToken {
            der: data.to_vec(),
            info,
            imprint_hash,
            certificates,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }
    pub fn info(&self) -> &TstInfo {
        &self.info
    }
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }
}

/// Verifies `token` over `message` (for a signature timestamp: the SignerInfo's signature value,
/// RFC 3161 Appendix A), with the TSA's path validated by `validator` at the token's genTime.
/// `validator` should be built with [`KeyPurpose::TimeStamping`]; other purposes are replaced.
pub fn verify(
    token: &TimestampToken,
    message: &[u8],
    nonce: Option<&[u8]>,
    validator: &Validator,
    intermediates: &[Certificate],
    sources: &[&dyn RevocationSource],
) -> Result<VerifiedTimestamp, Error> {
    verify_with(
        token,
        message,
        nonce,
        validator,
        validator.policy(),
        intermediates,
        sources,
    )
}

/// Like [`verify`], with the TSA's path checked under `policy` instead of the validator's
/// (its purpose still replaced by [`KeyPurpose::TimeStamping`]): PAdES B-LT demands revocation
/// evidence for every certificate of the TSA's path, whatever the validator otherwise allows.
pub fn verify_with(
    token: &TimestampToken,
    message: &[u8],
    nonce: Option<&[u8]>,
    validator: &Validator,
    policy: &ValidationPolicy,
    intermediates: &[Certificate],
    sources: &[&dyn RevocationSource],
) -> Result<VerifiedTimestamp, Error> {
    let info = &token.info;
    if token.imprint_hash.of([message]) != info.hashed_message {
        return Err(Error::ImprintMismatch);
    }
    if let Some(n) = nonce
        && info.nonce.as_deref().map(canonical_integer) != Some(canonical_integer(n))
    {
        return Err(Error::NonceMismatch);
    }
    // Read again rather than kept: the token owns its bytes, and what was checked when it was
    // read holds for them.
    let signed = SignedData::parse_der(&token.der)?;
    let signer = the_signer(&signed)?;
    let digest = known_hash(&signer.digest_algorithm)?;
    let attributes = signer
        .signed_attributes
        .as_ref()
        .ok_or(Error::BadAttributes("signed attributes missing"))?;
    check_attributes(attributes)?;
    let content_type = single_value(attributes, oid::CONTENT_TYPE)
        .ok_or(Error::BadAttributes("contentType missing"))?
        .oid()?;
    if !content_type.is(oid::TST_INFO) {
        return Err(Error::BadAttributes("contentType is not TSTInfo"));
    }
    let message_digest = single_value(attributes, oid::MESSAGE_DIGEST)
        .ok_or(Error::BadAttributes("messageDigest missing"))?
        .expect(tag::OCTET_STRING, "a messageDigest OCTET STRING")?;
    let tst_info = signed.content.as_deref().unwrap_or_default();
    if message_digest.content != digest.of([tst_info]) {
        return Err(Error::BadAttributes("messageDigest does not match TSTInfo"));
    }

    // The signer certificate: from the token, or the pool the caller passes.
    let tsa = token
        .certificates
        .iter()
        .chain(intermediates)
        .find(|c| is_signer(c, &signer.sid))
        .ok_or(Error::SignerNotFound)?
        .clone();
    check_signing_certificate(attributes, &tsa)?;

    // The signature covers the DER SET OF attributes: the [0] IMPLICIT tag replaced by SET
    // (RFC 5652 §5.4), over the bytes as they arrived.
    let algorithm_id = &signer.signature_algorithm;
    let algorithm = if algorithm_id.oid.is(oid::RSA_ENCRYPTION) {
        // CMS names PKCS#1 v1.5 by the key type, the digest given apart (RFC 3370 §3.2).
        SignatureAlgorithm::RsaPkcs1(digest)
    } else {
        // NULL parameters are the same as none for every algorithm kyso verifies.
        let parameters = algorithm_id.parameters.filter(|p| *p != [0x05, 0x00]);
        SignatureAlgorithm::from_oid_and_params(&algorithm_id.oid.to_string(), parameters)
            .map_err(Error::BadSignature)?
    };
    signature::verify(
        &algorithm,
        tsa.public_key(),
        &attributes.signed_bytes,
        &signer.signature,
        policy.algorithms,
        Some(info.gen_time),
    )
    .map_err(Error::BadSignature)?;

    let mut pool: Vec<Certificate> = token.certificates.clone();
    pool.extend(intermediates.iter().cloned());
    let mut policy = policy.clone();
    policy.purpose = KeyPurpose::TimeStamping;
    policy.extended_key_usage = Default::default();
    let chain = validator
        .validate_with(&tsa, &pool, info.gen_time, sources, &policy)
        .map_err(Error::Path)?;
    Ok(VerifiedTimestamp {
        info: info.clone(),
        chain,
    })
}

/// Whether `certificate` is the one `sid` names (a CMS SignerIdentifier, RFC 5652 §5.3).
pub(crate) fn is_signer(certificate: &Certificate, sid: &SignerId<'_>) -> bool {
    match sid {
        SignerId::IssuerAndSerial { issuer, serial } => {
            certificate.issuer().der() == *issuer
                && canonical_integer(certificate.serial()) == canonical_integer(serial)
        }
        SignerId::SubjectKeyIdentifier(k) => {
            certificate.extensions().subject_key_id.as_deref() == Some(k.as_ref())
        }
    }
}

/// The one SignerInfo of a token.
fn the_signer<'s, 'a>(signed: &'s SignedData<'a>) -> Result<&'s SignerInfo<'a>, Error> {
    match signed.signer_infos.as_slice() {
        [signer] => Ok(signer),
        [] => Err(Error::Malformed("no SignerInfo".into())),
        _ => Err(Error::Malformed("more than one SignerInfo".into())),
    }
}

/// What a token's SignerInfo must be before anything is verified.
fn check_signer_info(signer: &SignerInfo<'_>) -> Result<(), Error> {
    // RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    let expected = match signer.sid {
        SignerId::IssuerAndSerial { .. } => 1,
        SignerId::SubjectKeyIdentifier(_) => 3,
    };
    if signer.version != expected {
        return Err(Error::Malformed(
            "SignerInfo version does not match its sid".into(),
        ));
    }
    known_hash(&signer.digest_algorithm)?;
    if signer.signed_attributes.is_none() {
        return Err(Error::BadAttributes("signed attributes missing"));
    }
    Ok(())
}

/// RFC 5652 §5.3: contentType and messageDigest have exactly one value, and no attribute type
/// appears twice; the ESS attributes are read the same way.
fn check_attributes(attributes: &SignedAttributes<'_>) -> Result<(), Error> {
    for (i, attribute) in attributes.attributes.iter().enumerate() {
        let repeated = attributes.attributes[..i]
            .iter()
            .any(|a| a.oid == attribute.oid);
        if attribute.values.len() != 1 || repeated {
            return Err(Error::BadAttributes("attribute repeated or multi-valued"));
        }
    }
    Ok(())
}

/// The value of the attribute of this type ([`check_attributes`] made it the only one).
fn single_value<'a>(
    attributes: &SignedAttributes<'a>,
    attribute_type: oid::Oid,
) -> Option<Element<'a>> {
    attributes.get(attribute_type)?.values.first().copied()
}

/// ESS signingCertificate / signingCertificateV2: the first ESSCertID must hash the TSA's
/// certificate, so a certificate substituted in the token cannot take over the signature.
fn check_signing_certificate(
    attributes: &SignedAttributes<'_>,
    tsa: &Certificate,
) -> Result<(), Error> {
    let (hash_alg, value) = if let Some(v) = single_value(attributes, oid::SIGNING_CERTIFICATE_V2) {
        (None, v)
    } else if let Some(v) = single_value(attributes, oid::SIGNING_CERTIFICATE) {
        (Some(Hash::Sha1), v)
    } else {
        return Err(Error::BadAttributes(
            "no ESS signing-certificate attribute (RFC 3161 §2.4.1)",
        ));
    };
    // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
    let sc = value.expect(tag::SEQUENCE, "a SigningCertificate SEQUENCE")?;
    let certs = sc.fields().expect(tag::SEQUENCE, "certs, a SEQUENCE OF")?;
    let first = certs.fields().expect(tag::SEQUENCE, "an ESSCertID")?;
    let mut r = first.fields();
    let alg = match hash_alg {
        Some(h) => h,
        None => match r.optional(tag::SEQUENCE)? {
            Some(a) => digest_algorithm(a)?,
            None => Hash::Sha256,
        },
    };
    let cert_hash = r.expect(tag::OCTET_STRING, "certHash")?.content;
    if cert_hash != alg.of([tsa.der()]).as_slice() {
        return Err(Error::BadAttributes(
            "ESS certificate hash does not match the signer certificate",
        ));
    }
    Ok(())
}

/// A digest `AlgorithmIdentifier` kyso computes, with parameters absent or NULL.
fn digest_algorithm(algorithm: Element<'_>) -> Result<Hash, Error> {
    let mut fields = algorithm.fields();
    let id = fields.expect(tag::OID, "algorithm")?.oid()?;
    // RFC 5754 §2: parameters absent, or NULL from older implementations.
    if let Some(null) = fields.optional(tag::NULL)?
        && !null.content.is_empty()
    {
        return Err(Error::Malformed("digest algorithm parameters".into()));
    }
    fields.finish("DigestAlgorithmIdentifier")?;
    known_hash(&id)
}

fn known_hash(id: &ber::ObjectIdentifier<'_>) -> Result<Hash, Error> {
    Hash::from_oid(id).ok_or_else(|| Error::Malformed(format!("digest algorithm {id}")))
}
