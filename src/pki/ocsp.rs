//! OCSP (RFC 6960): building requests and reading responses.
//!
//! Owns: the DER encoding of a one-certificate `OCSPRequest` with a nonce (RFC 6960 §4.1,
//! RFC 8954), decoding `OCSPResponse` / `BasicOCSPResponse` (§4.2.1), matching a `CertID` to a
//! certificate, and verifying the response signature with a given key. Refuses: responses whose
//! status is not `successful`, response types other than id-pkix-ocsp-basic, and anything that
//! does not decode; trust decisions (who may sign, freshness) belong to
//! [`crate::pki::revocation`]. Parsing is a pure function of the bytes (a fuzzing entry point).

use std::sync::Arc;

use aws_lc_rs::digest;
use time::OffsetDateTime;

use crate::pki::cert::Certificate;
use crate::pki::der::{self, Reader, tag};
use crate::pki::name::Name;
use crate::pki::signature::{self, AlgorithmPolicy, PublicKey, SignatureAlgorithm, SignatureError};

/// Why bytes are not a usable OCSP response.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("OCSP response malformed: {0}")]
    Malformed(String),
    #[error("OCSP responder answered {status} ({code})")]
    Unsuccessful { status: &'static str, code: u64 },
    #[error("OCSP response type {0} is not id-pkix-ocsp-basic")]
    UnsupportedType(String),
    #[error("OCSP response nonce does not match the request")]
    NonceMismatch,
    #[error("OCSP response carries no nonce and the policy requires one")]
    NonceMissing,
}

impl From<der::DerError> for Error {
    fn from(e: der::DerError) -> Self {
        Error::Malformed(e.to_string())
    }
}

const OID_OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const OID_OCSP_NONCE: &str = "1.3.6.1.5.5.7.48.1.2";
const OID_SHA1: &str = "1.3.14.3.2.26";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// A certificate's status in one SingleResponse (RFC 6960 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    Revoked {
        time: OffsetDateTime,
        reason: Option<u8>,
    },
    Unknown,
}

/// One SingleResponse.
#[derive(Debug, Clone)]
pub struct SingleResponse {
    hash: HashAlg,
    issuer_name_hash: Vec<u8>,
    issuer_key_hash: Vec<u8>,
    serial: Vec<u8>,
    pub status: CertStatus,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HashAlg {
    Sha1,
    Sha256,
}

#[derive(Debug, Clone)]
enum ResponderId {
    Name(Name),
    KeyHash(Vec<u8>),
}

/// A decoded, successful BasicOCSPResponse (RFC 6960 §4.2.1). Cloning is cheap.
///
/// ```text
/// OCSPResponse ::= SEQUENCE {
///    responseStatus         OCSPResponseStatus,
///    responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
/// BasicOCSPResponse       ::= SEQUENCE {
///    tbsResponseData      ResponseData,
///    signatureAlgorithm   AlgorithmIdentifier,
///    signature            BIT STRING,
///    certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ResponseData ::= SEQUENCE {
///    version              [0] EXPLICIT Version DEFAULT v1,
///    responderID              ResponderID,
///    producedAt               GeneralizedTime,
///    responses                SEQUENCE OF SingleResponse,
///    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
/// SingleResponse ::= SEQUENCE {
///    certID                       CertID,
///    certStatus                   CertStatus,
///    thisUpdate                   GeneralizedTime,
///    nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
///    singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
/// CertStatus ::= CHOICE {
///    good        [0]     IMPLICIT NULL,
///    revoked     [1]     IMPLICIT RevokedInfo,
///    unknown     [2]     IMPLICIT UnknownInfo }
/// ```
#[derive(Debug, Clone)]
pub struct OcspResponse(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: Result<SignatureAlgorithm, SignatureError>,
    signature: Vec<u8>,
    responder: ResponderId,
    produced_at: OffsetDateTime,
    responses: Vec<SingleResponse>,
    nonce: Option<Vec<u8>>,
    certs: Vec<Certificate>,
}

impl OcspResponse {
    /// Decodes an `OCSPResponse`.
    pub fn from_der(data: &[u8]) -> Result<OcspResponse, Error> {
        let outer = der::single(data, tag::SEQUENCE, "OCSPResponse")?;
        let mut r = Reader::new(outer.value);
        let status = r.expect(tag::ENUMERATED)?;
        let code = der::small_uint(status.value)?;
        if code != 0 {
            let status = match code {
                1 => "malformedRequest",
                2 => "internalError",
                3 => "tryLater",
                5 => "sigRequired",
                6 => "unauthorized",
                _ => "an unknown status",
            };
            return Err(Error::Unsuccessful { status, code });
        }
        let bytes = r.expect(tag::context_constructed(0))?;
        r.finish("OCSPResponse")?;
        let rb = der::single(bytes.value, tag::SEQUENCE, "ResponseBytes")?;
        let mut r = Reader::new(rb.value);
        let rtype = der::oid_to_string(r.expect(tag::OID)?.value)?;
        if rtype != OID_OCSP_BASIC {
            return Err(Error::UnsupportedType(rtype));
        }
        let basic = r.expect(tag::OCTET_STRING)?;
        r.finish("ResponseBytes")?;
        let inner = parse_basic(data, basic.value)?;
        Ok(OcspResponse(Arc::new(inner)))
    }

    pub fn der(&self) -> &[u8] {
        &self.0.der
    }
    pub fn produced_at(&self) -> OffsetDateTime {
        self.0.produced_at
    }
    pub fn responses(&self) -> &[SingleResponse] {
        &self.0.responses
    }
    /// Certificates the responder included (a delegated responder's certificate).
    pub fn certificates(&self) -> &[Certificate] {
        &self.0.certs
    }
    pub fn nonce(&self) -> Option<&[u8]> {
        self.0.nonce.as_deref()
    }

    /// The SingleResponse about `cert` issued by `issuer`, if any.
    pub fn find(&self, cert: &Certificate, issuer: &Certificate) -> Option<&SingleResponse> {
        self.0.responses.iter().find(|s| {
            der::canonical_integer(&s.serial) == der::canonical_integer(cert.serial())
                && s.issuer_name_hash == hash(s.hash, issuer.subject().der())
                && s.issuer_key_hash == hash(s.hash, &issuer.public_key().bits)
        })
    }

    /// Whether the responderID names `cert` (by name or by SHA-1 of its key, RFC 6960 §4.2.1).
    pub fn responder_matches(&self, cert: &Certificate) -> bool {
        match &self.0.responder {
            ResponderId::Name(n) => n == cert.subject(),
            ResponderId::KeyHash(h) => h == &hash(HashAlg::Sha1, &cert.public_key().bits),
        }
    }

    /// Verifies the response signature with `key`.
    pub fn verify_signature(
        &self,
        key: &PublicKey,
        policy: AlgorithmPolicy,
    ) -> Result<(), SignatureError> {
        let alg = self.0.signature_algorithm.as_ref().map_err(Clone::clone)?;
        signature::verify(alg, key, &self.0.tbs, &self.0.signature, policy)
    }
}

fn hash(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    let a = match alg {
        // SHA-1 here only identifies the issuer in a CertID (RFC 6960 §4.1.1, RFC 5019 §2.1.1);
        // it authenticates nothing.
        HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha256 => &digest::SHA256,
    };
    digest::digest(a, data).as_ref().to_vec()
}

fn parse_basic(full: &[u8], data: &[u8]) -> Result<Inner, Error> {
    let seq = der::single(data, tag::SEQUENCE, "BasicOCSPResponse")?;
    let mut r = Reader::new(seq.value);
    let tbs = r.expect(tag::SEQUENCE)?;
    let alg = r.expect(tag::SEQUENCE)?;
    let sig = r.expect(tag::BIT_STRING)?;
    let mut certs = Vec::new();
    if let Some(c) = r.optional(tag::context_constructed(0))? {
        let list = der::single(c.value, tag::SEQUENCE, "certs")?;
        let mut cr = Reader::new(list.value);
        while !cr.is_empty() {
            let cert = cr.expect(tag::SEQUENCE)?;
            certs.push(
                Certificate::from_der(cert.raw)
                    .map_err(|e| Error::Malformed(format!("responder certificate: {e}")))?,
            );
        }
    }
    r.finish("BasicOCSPResponse")?;
    let signature_algorithm = algorithm(alg.value)?;
    let signature = match sig.value.split_first() {
        Some((0, rest)) => rest.to_vec(),
        _ => {
            return Err(Error::Malformed(
                "signature BIT STRING has unused bits".into(),
            ));
        }
    };

    let mut t = Reader::new(tbs.value);
    if let Some(v) = t.optional(tag::context_constructed(0))? {
        let int = der::single(v.value, tag::INTEGER, "version")?;
        if der::small_uint(int.value)? != 0 {
            return Err(Error::Malformed("unsupported ResponseData version".into()));
        }
    }
    let rid = t.read()?;
    let responder = match rid.tag {
        t if t == tag::context_constructed(1) => {
            use x509_parser::prelude::FromDer;
            let (_, name) = x509_parser::x509::X509Name::from_der(rid.value)
                .map_err(|e| Error::Malformed(format!("responderID byName: {e}")))?;
            ResponderId::Name(Name::from_parsed(&name))
        }
        t if t == tag::context_constructed(2) => ResponderId::KeyHash(
            der::single(rid.value, tag::OCTET_STRING, "byKey")?
                .value
                .to_vec(),
        ),
        _ => return Err(Error::Malformed("responderID".into())),
    };
    let produced_at = generalized_time(t.expect(tag::GENERALIZED_TIME)?.value)?;
    let list = t.expect(tag::SEQUENCE)?;
    let mut responses = Vec::new();
    let mut lr = Reader::new(list.value);
    while !lr.is_empty() {
        responses.push(single_response(lr.expect(tag::SEQUENCE)?.value)?);
    }
    let mut nonce = None;
    if let Some(exts) = t.optional(tag::context_constructed(1))? {
        for (oid, _critical, value) in extensions(exts.value)? {
            if oid == OID_OCSP_NONCE {
                // RFC 8954 §2.1: extnValue holds an OCTET STRING; some responders put the raw
                // nonce there instead, so accept both.
                nonce = Some(match der::single(value, tag::OCTET_STRING, "nonce") {
                    Ok(inner) => inner.value.to_vec(),
                    Err(_) => value.to_vec(),
                });
            }
        }
    }
    t.finish("ResponseData")?;
    Ok(Inner {
        der: full.to_vec(),
        tbs: tbs.raw.to_vec(),
        signature_algorithm,
        signature,
        responder,
        produced_at,
        responses,
        nonce,
        certs,
    })
}

fn algorithm(alg_seq_content: &[u8]) -> Result<Result<SignatureAlgorithm, SignatureError>, Error> {
    let mut r = Reader::new(alg_seq_content);
    let oid = der::oid_to_string(r.expect(tag::OID)?.value)?;
    let params = if r.is_empty() {
        None
    } else {
        Some(r.read()?.raw)
    };
    Ok(SignatureAlgorithm::from_oid_and_params(&oid, params))
}

fn single_response(data: &[u8]) -> Result<SingleResponse, Error> {
    let mut r = Reader::new(data);
    let cert_id = r.expect(tag::SEQUENCE)?;
    let mut c = Reader::new(cert_id.value);
    let alg = c.expect(tag::SEQUENCE)?;
    let hash_oid = der::oid_to_string(Reader::new(alg.value).expect(tag::OID)?.value)?;
    let hash = match hash_oid.as_str() {
        OID_SHA1 => HashAlg::Sha1,
        OID_SHA256 => HashAlg::Sha256,
        other => return Err(Error::Malformed(format!("CertID hash {other}"))),
    };
    let issuer_name_hash = c.expect(tag::OCTET_STRING)?.value.to_vec();
    let issuer_key_hash = c.expect(tag::OCTET_STRING)?.value.to_vec();
    let serial = c.expect(tag::INTEGER)?.value.to_vec();
    c.finish("CertID")?;
    let st = r.read()?;
    let status = match st.tag {
        0x80 => CertStatus::Good,
        0xa1 => {
            let mut rr = Reader::new(st.value);
            let time = generalized_time(rr.expect(tag::GENERALIZED_TIME)?.value)?;
            let mut reason = None;
            if let Some(rc) = rr.optional(tag::context_constructed(0))? {
                let e = der::single(rc.value, tag::ENUMERATED, "CRLReason")?;
                reason = Some(der::small_uint(e.value)? as u8);
            }
            CertStatus::Revoked { time, reason }
        }
        0x82 => CertStatus::Unknown,
        other => return Err(Error::Malformed(format!("certStatus tag {other:#x}"))),
    };
    let this_update = generalized_time(r.expect(tag::GENERALIZED_TIME)?.value)?;
    let next_update = match r.optional(tag::context_constructed(0))? {
        Some(n) => Some(generalized_time(
            der::single(n.value, tag::GENERALIZED_TIME, "nextUpdate")?.value,
        )?),
        None => None,
    };
    let _ = r.optional(tag::context_constructed(1))?;
    r.finish("SingleResponse")?;
    Ok(SingleResponse {
        hash,
        issuer_name_hash,
        issuer_key_hash,
        serial,
        status,
        this_update,
        next_update,
    })
}

/// (extnID, critical, extnValue content).
type RawExtension<'a> = (String, bool, &'a [u8]);

/// Extensions ::= SEQUENCE OF Extension.
fn extensions(data: &[u8]) -> Result<Vec<RawExtension<'_>>, Error> {
    let seq = der::single(data, tag::SEQUENCE, "Extensions")?;
    let mut r = Reader::new(seq.value);
    let mut out = Vec::new();
    while !r.is_empty() {
        let e = r.expect(tag::SEQUENCE)?;
        let mut er = Reader::new(e.value);
        let oid = der::oid_to_string(er.expect(tag::OID)?.value)?;
        let critical = match er.optional(tag::BOOLEAN)? {
            Some(b) => b.value == [0xff],
            None => false,
        };
        let value = er.expect(tag::OCTET_STRING)?.value;
        er.finish("Extension")?;
        out.push((oid, critical, value));
    }
    Ok(out)
}

/// GeneralizedTime "YYYYMMDDHHMMSS[.fff]Z" (RFC 5280 §4.1.2.5.2 forbids fractions in
/// certificates; OCSP responders do send them, so they are accepted and dropped here).
pub(crate) fn generalized_time(value: &[u8]) -> Result<OffsetDateTime, Error> {
    let bad = || Error::Malformed("GeneralizedTime".into());
    let s = std::str::from_utf8(value).map_err(|_| bad())?;
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let (main, _frac) = s.split_once('.').unwrap_or((s, ""));
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |a: usize, b: usize| main[a..b].parse::<u32>().map_err(|_| bad());
    let month = time::Month::try_from(n(4, 6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(n(0, 4)? as i32, month, n(6, 8)? as u8)
        .map_err(|_| bad())?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8)
        .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc())
}

/// ```text
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest                  TBSRequest,
///     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
/// TBSRequest ::= SEQUENCE {
///     version             [0]     EXPLICIT Version DEFAULT v1,
///     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
///     requestList                 SEQUENCE OF Request,
///     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
///
/// Encodes an `OCSPRequest` for `cert` issued by `issuer` (SHA-1 CertID, as RFC 5019 §2.1.1
/// requires and every responder understands), with a nonce extension when `nonce` is given.
pub fn build_request(cert: &Certificate, issuer: &Certificate, nonce: Option<&[u8]>) -> Vec<u8> {
    let sha1_alg = der::encode_parts(
        tag::SEQUENCE,
        &[
            &der::encode_oid(OID_SHA1).unwrap_or_default(),
            &der::encode(tag::NULL, &[]),
        ],
    );
    let cert_id = der::encode_parts(
        tag::SEQUENCE,
        &[
            &sha1_alg,
            &der::encode(
                tag::OCTET_STRING,
                &hash(HashAlg::Sha1, issuer.subject().der()),
            ),
            &der::encode(
                tag::OCTET_STRING,
                &hash(HashAlg::Sha1, &issuer.public_key().bits),
            ),
            &der::encode(tag::INTEGER, der::canonical_integer(cert.serial())),
        ],
    );
    let request = der::encode(tag::SEQUENCE, &cert_id);
    let request_list = der::encode(tag::SEQUENCE, &request);
    let mut tbs_parts: Vec<Vec<u8>> = vec![request_list];
    if let Some(nonce) = nonce {
        let ext = der::encode_parts(
            tag::SEQUENCE,
            &[
                &der::encode_oid(OID_OCSP_NONCE).unwrap_or_default(),
                &der::encode(tag::OCTET_STRING, &der::encode(tag::OCTET_STRING, nonce)),
            ],
        );
        let exts = der::encode(tag::SEQUENCE, &ext);
        tbs_parts.push(der::encode(tag::context_constructed(2), &exts));
    }
    let refs: Vec<&[u8]> = tbs_parts.iter().map(Vec::as_slice).collect();
    let tbs = der::encode_parts(tag::SEQUENCE, &refs);
    der::encode(tag::SEQUENCE, &tbs)
}
