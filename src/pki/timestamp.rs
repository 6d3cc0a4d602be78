//! RFC 3161 timestamp tokens: verification, and their use as proof of the time a signature
//! existed (a signature timestamped before its certificate expired or was revoked stays valid).
//!
//! Owns: reading a `TimeStampResp` / `TimeStampToken` (a CMS SignedData, RFC 5652 §5, holding
//! a `TSTInfo`, RFC 3161 §2.4.2), checking the message imprint against the caller's data, the
//! CMS signature over the signed attributes as they arrived (never a re-encoding), the ESS
//! signing-certificate binding (RFC 2634 §5.4 / RFC 5035 §3), and the TSA's certificate path with
//! the critical id-kp-timeStamping purpose (RFC 3161 §2.3) at the token's genTime. Refuses:
//! BER indefinite lengths (TSA tokens are DER in practice; the `cms` module handles BER for
//! document signatures), tokens with other than one SignerInfo, and tokens without signed
//! attributes. The CMS parsing lives here because the crate's `cms` module builds SignedData
//! and does not read it yet.

use aws_lc_rs::digest;
use time::OffsetDateTime;

use crate::pki::cert::Certificate;
use crate::pki::der::{self, Reader, tag};
use crate::pki::path::{KeyPurpose, PathError, ValidationPolicy, Validator, VerifiedChain};
use crate::pki::revocation::RevocationSource;
use crate::pki::signature::{self, Hash, SignatureAlgorithm, SignatureError};

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
}

impl From<der::DerError> for Error {
    fn from(e: der::DerError) -> Self {
        Error::Malformed(e.to_string())
    }
}

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const OID_SIGNING_CERTIFICATE: &str = "1.2.840.113549.1.9.16.2.12";
const OID_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";
const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// A parsed (not yet verified) timestamp token.
#[derive(Debug, Clone)]
pub struct TimestampToken {
    der: Vec<u8>,
    tst_info: Vec<u8>,
    info: TstInfo,
    certificates: Vec<Certificate>,
    signer: SignerInfo,
}

/// The fields of TSTInfo kyso reads (RFC 3161 §2.4.2).
///
/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///    serialNumber                 INTEGER,
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    pub policy: String,
    pub hash: Hash,
    pub hashed_message: Vec<u8>,
    pub serial: Vec<u8>,
    pub gen_time: OffsetDateTime,
    pub nonce: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct SignerInfo {
    sid: SignerId,
    digest: Hash,
    /// The signed attributes as they arrived, with the `[0]` tag (0xa0).
    signed_attrs: Vec<u8>,
    signature_oid: String,
    signature_params: Option<Vec<u8>>,
    signature: Vec<u8>,
}

#[derive(Debug, Clone)]
enum SignerId {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    KeyId(Vec<u8>),
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
        let outer = der::single(data, tag::SEQUENCE, "TimeStampResp")?;
        let mut r = Reader::new(outer.value);
        let status_info = r.expect(tag::SEQUENCE)?;
        let status = der::small_uint(Reader::new(status_info.value).expect(tag::INTEGER)?.value)?;
        // PKIStatus granted(0) or grantedWithMods(1) (RFC 3161 §2.4.2).
        if status > 1 {
            return Err(Error::Refused { status });
        }
        let token = r.expect(tag::SEQUENCE)?;
        r.finish("TimeStampResp")?;
        TimestampToken::from_der(token.raw)
    }

    /// Reads a `TimeStampToken` (ContentInfo with SignedData), as embedded in a signature's
    /// unsigned attributes or a document timestamp. A pure function of the bytes.
    pub fn from_der(data: &[u8]) -> Result<TimestampToken, Error> {
        let ci = der::single(data, tag::SEQUENCE, "ContentInfo")?;
        let mut r = Reader::new(ci.value);
        if der::oid_to_string(r.expect(tag::OID)?.value)? != OID_SIGNED_DATA {
            return Err(Error::Malformed("not a SignedData".into()));
        }
        let content = r.expect(tag::context_constructed(0))?;
        r.finish("ContentInfo")?;
        let sd = der::single(content.value, tag::SEQUENCE, "SignedData")?;
        let mut s = Reader::new(sd.value);
        // RFC 5652 §5.1: version 3 whenever the content type is not id-data.
        if der::small_uint(s.expect(tag::INTEGER)?.value)? != 3 {
            return Err(Error::Malformed("SignedData version is not 3".into()));
        }
        let digest_algorithms = s.expect(tag::SET)?;
        let encap = s.expect(tag::SEQUENCE)?;
        let mut e = Reader::new(encap.value);
        if der::oid_to_string(e.expect(tag::OID)?.value)? != OID_TST_INFO {
            return Err(Error::Malformed(
                "encapsulated content is not TSTInfo".into(),
            ));
        }
        let econtent = e.expect(tag::context_constructed(0))?;
        let tst_info = der::single(econtent.value, tag::OCTET_STRING, "eContent")?
            .value
            .to_vec();
        let mut certificates = Vec::new();
        if let Some(certs) = s.optional(tag::context_constructed(0))? {
            let mut c = Reader::new(certs.value);
            while !c.is_empty() {
                let tlv = c.read()?;
                // Other CertificateChoices (attribute certificates) are skipped.
                if tlv.tag == tag::SEQUENCE {
                    certificates.push(
                        Certificate::from_der(tlv.raw)
                            .map_err(|e| Error::Malformed(format!("certificate: {e}")))?,
                    );
                }
            }
        }
        s.optional(0xa1)?;
        let signer_infos = s.expect(tag::SET)?;
        s.finish("SignedData")?;
        let mut si = Reader::new(signer_infos.value);
        let first = si.expect(tag::SEQUENCE)?;
        if !si.is_empty() {
            return Err(Error::Malformed("more than one SignerInfo".into()));
        }
        let signer = signer_info(first.value)?;
        let mut listed = Vec::new();
        let mut d = Reader::new(digest_algorithms.value);
        while !d.is_empty() {
            listed.push(digest_algorithm(d.expect(tag::SEQUENCE)?.value)?);
        }
        if !listed.contains(&signer.digest) {
            return Err(Error::Malformed(
                "signer's digest algorithm not listed in digestAlgorithms".into(),
            ));
        }
        let info = parse_tst_info(&tst_info)?;
        Ok(TimestampToken {
            der: data.to_vec(),
            tst_info,
            info,
            certificates,
            signer,
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
    if hash(info.hash, message) != info.hashed_message {
        return Err(Error::ImprintMismatch);
    }
    if let Some(n) = nonce
        && info.nonce.as_deref().map(der::canonical_integer) != Some(der::canonical_integer(n))
    {
        return Err(Error::NonceMismatch);
    }
    let signer = &token.signer;
    let attrs = attributes(&signer.signed_attrs)?;
    let content_type = attrs
        .iter()
        .find(|(oid, _)| oid == OID_CONTENT_TYPE)
        .ok_or(Error::BadAttributes("contentType missing"))?;
    if der::oid_to_string(der::single(content_type.1, tag::OID, "contentType")?.value)?
        != OID_TST_INFO
    {
        return Err(Error::BadAttributes("contentType is not TSTInfo"));
    }
    let digest = attrs
        .iter()
        .find(|(oid, _)| oid == OID_MESSAGE_DIGEST)
        .ok_or(Error::BadAttributes("messageDigest missing"))?;
    if der::single(digest.1, tag::OCTET_STRING, "messageDigest")?.value
        != hash(signer.digest, &token.tst_info)
    {
        return Err(Error::BadAttributes("messageDigest does not match TSTInfo"));
    }

    // The signer certificate: from the token, or the pool the caller passes.
    let tsa = token
        .certificates
        .iter()
        .chain(intermediates)
        .find(|c| match &signer.sid {
            SignerId::IssuerSerial { issuer, serial } => {
                c.issuer().der() == issuer.as_slice()
                    && der::canonical_integer(c.serial()) == der::canonical_integer(serial)
            }
            SignerId::KeyId(k) => c.extensions().subject_key_id.as_deref() == Some(k.as_slice()),
        })
        .ok_or(Error::SignerNotFound)?
        .clone();
    check_signing_certificate(&attrs, &tsa)?;

    // The signature covers the DER SET OF attributes: the [0] IMPLICIT tag replaced by SET
    // (RFC 5652 §5.4), over the bytes as they arrived.
    let mut signed = signer.signed_attrs.clone();
    signed[0] = tag::SET;
    let algorithm = match signer.signature_oid.as_str() {
        OID_RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(signer.digest),
        oid => SignatureAlgorithm::from_oid_and_params(oid, signer.signature_params.as_deref())
            .map_err(Error::BadSignature)?,
    };
    signature::verify(
        &algorithm,
        tsa.public_key(),
        &signed,
        &signer.signature,
        policy.algorithms,
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

/// ESS signingCertificate / signingCertificateV2: the first ESSCertID must hash the TSA's
/// certificate, so a certificate substituted in the token cannot take over the signature.
fn check_signing_certificate(attrs: &[(String, &[u8])], tsa: &Certificate) -> Result<(), Error> {
    let (hash_alg, value) =
        if let Some((_, v)) = attrs.iter().find(|(o, _)| o == OID_SIGNING_CERTIFICATE_V2) {
            (None, *v)
        } else if let Some((_, v)) = attrs.iter().find(|(o, _)| o == OID_SIGNING_CERTIFICATE) {
            (Some(Hash::Sha1), *v)
        } else {
            return Err(Error::BadAttributes(
                "no ESS signing-certificate attribute (RFC 3161 §2.4.1)",
            ));
        };
    // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
    let sc = der::single(value, tag::SEQUENCE, "SigningCertificate")?;
    let certs = Reader::new(sc.value).expect(tag::SEQUENCE)?;
    let first = Reader::new(certs.value).expect(tag::SEQUENCE)?;
    let mut r = Reader::new(first.value);
    let alg = match hash_alg {
        Some(h) => h,
        None => match r.optional(tag::SEQUENCE)? {
            Some(a) => digest_algorithm(a.value)?,
            None => Hash::Sha256,
        },
    };
    let cert_hash = r.expect(tag::OCTET_STRING)?.value;
    if cert_hash != hash(alg, tsa.der()).as_slice() {
        return Err(Error::BadAttributes(
            "ESS certificate hash does not match the signer certificate",
        ));
    }
    Ok(())
}

fn signer_info(data: &[u8]) -> Result<SignerInfo, Error> {
    let mut r = Reader::new(data);
    let version = der::small_uint(r.expect(tag::INTEGER)?.value)?;
    let sid_tlv = r.read()?;
    // RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    if (sid_tlv.tag == tag::SEQUENCE && version != 1) || (sid_tlv.tag == 0x80 && version != 3) {
        return Err(Error::Malformed(
            "SignerInfo version does not match its sid".into(),
        ));
    }
    let sid = match sid_tlv.tag {
        tag::SEQUENCE => {
            let mut s = Reader::new(sid_tlv.value);
            let issuer = s.expect(tag::SEQUENCE)?.raw.to_vec();
            let serial = s.expect(tag::INTEGER)?.value.to_vec();
            SignerId::IssuerSerial { issuer, serial }
        }
        0x80 => SignerId::KeyId(sid_tlv.value.to_vec()),
        _ => return Err(Error::Malformed("SignerIdentifier".into())),
    };
    let digest = digest_algorithm(r.expect(tag::SEQUENCE)?.value)?;
    let signed_attrs = r
        .optional(tag::context_constructed(0))?
        .ok_or(Error::BadAttributes("signed attributes missing"))?
        .raw
        .to_vec();
    let alg = r.expect(tag::SEQUENCE)?;
    let mut a = Reader::new(alg.value);
    let signature_oid = der::oid_to_string(a.expect(tag::OID)?.value)?;
    let signature_params = if a.is_empty() || a.peek_tag() == Some(tag::NULL) {
        None
    } else {
        Some(a.read()?.raw.to_vec())
    };
    let signature = r.expect(tag::OCTET_STRING)?.value.to_vec();
    r.optional(0xa1)?;
    r.finish("SignerInfo")?;
    Ok(SignerInfo {
        sid,
        digest,
        signed_attrs,
        signature_oid,
        signature_params,
        signature,
    })
}

/// Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }: (type, first value).
fn attributes(signed_attrs: &[u8]) -> Result<Vec<(String, &[u8])>, Error> {
    let tlv = der::single(signed_attrs, tag::context_constructed(0), "signedAttrs")?;
    let mut r = Reader::new(tlv.value);
    let mut out: Vec<(String, &[u8])> = Vec::new();
    while !r.is_empty() {
        let attr = r.expect(tag::SEQUENCE)?;
        let mut a = Reader::new(attr.value);
        let oid = der::oid_to_string(a.expect(tag::OID)?.value)?;
        let values = a.expect(tag::SET)?;
        let mut v = Reader::new(values.value);
        let first = v.read()?;
        // RFC 5652 §5.3: contentType and messageDigest have exactly one value, and no
        // attribute type appears twice.
        if !v.is_empty() || out.iter().any(|(o, _)| *o == oid) {
            return Err(Error::BadAttributes("attribute repeated or multi-valued"));
        }
        out.push((oid, first.raw));
    }
    Ok(out)
}

fn digest_algorithm(alg_content: &[u8]) -> Result<Hash, Error> {
    let mut r = Reader::new(alg_content);
    let oid = der::oid_to_string(r.expect(tag::OID)?.value)?;
    // RFC 5754 §2: parameters absent or NULL.
    if let Some(null) = r.optional(tag::NULL)?
        && !null.value.is_empty()
    {
        return Err(Error::Malformed("digest algorithm parameters".into()));
    }
    r.finish("DigestAlgorithmIdentifier")?;
    match oid.as_str() {
        "1.3.14.3.2.26" => Ok(Hash::Sha1),
        "2.16.840.1.101.3.4.2.1" => Ok(Hash::Sha256),
        "2.16.840.1.101.3.4.2.2" => Ok(Hash::Sha384),
        "2.16.840.1.101.3.4.2.3" => Ok(Hash::Sha512),
        other => Err(Error::Malformed(format!("digest algorithm {other}"))),
    }
}

fn hash(alg: Hash, data: &[u8]) -> Vec<u8> {
    let a = match alg {
        // SHA-1 imprints are still read from old archives; the policy on signatures is separate.
        Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => &digest::SHA256,
        Hash::Sha384 => &digest::SHA384,
        Hash::Sha512 => &digest::SHA512,
    };
    digest::digest(a, data).as_ref().to_vec()
}

fn parse_tst_info(data: &[u8]) -> Result<TstInfo, Error> {
    let seq = der::single(data, tag::SEQUENCE, "TSTInfo")?;
    let mut r = Reader::new(seq.value);
    if der::small_uint(r.expect(tag::INTEGER)?.value)? != 1 {
        return Err(Error::Malformed("TSTInfo version is not 1".into()));
    }
    let policy = der::oid_to_string(r.expect(tag::OID)?.value)?;
    let imprint = r.expect(tag::SEQUENCE)?;
    let mut m = Reader::new(imprint.value);
    let hash = digest_algorithm(m.expect(tag::SEQUENCE)?.value)?;
    let hashed_message = m.expect(tag::OCTET_STRING)?.value.to_vec();
    m.finish("MessageImprint")?;
    let serial = r.expect(tag::INTEGER)?.value.to_vec();
    let gen_time = crate::pki::ocsp::generalized_time(r.expect(tag::GENERALIZED_TIME)?.value)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    r.optional(tag::SEQUENCE)?; // accuracy
    r.optional(tag::BOOLEAN)?; // ordering
    let nonce = r.optional(tag::INTEGER)?.map(|n| n.value.to_vec());
    r.optional(tag::context_constructed(0))?; // tsa
    r.optional(0xa1)?; // extensions
    r.finish("TSTInfo")?;
    Ok(TstInfo {
        policy,
        hash,
        hashed_message,
        serial,
        gen_time,
        nonce,
    })
}
