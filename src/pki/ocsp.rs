//! OCSP (RFC 6960): building requests and reading responses.
//!
//! Owns: the DER encoding of a one-certificate `OCSPRequest` with a nonce (RFC 6960 §4.1,
//! RFC 8954), decoding `OCSPResponse` / `BasicOCSPResponse` (§4.2.1), matching a `CertID` to a
//! certificate, and verifying the response signature with a given key. Refuses: responses whose
//! status is not `successful`, response types other than id-pkix-ocsp-basic, and anything that
//! does not decode; trust decisions (who may sign, freshness) belong to
//! [`crate::pki::revocation`]. Parsing is a pure function of the bytes (a fuzzing entry point).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::ber::{self, canonical_integer, tag};
use crate::der;
use crate::oid;
use crate::pki::AlgorithmPolicy;
use crate::pki::cert::Certificate;
use crate::pki::name::Name;
use crate::pki::signature::{self, Hash, PublicKey, SignatureAlgorithm, SignatureError};

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

impl From<ber::Error> for Error {
    fn from(e: ber::Error) -> Self {
        Error::Malformed(e.to_string())
    }
}

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
    /// The CertID's hash: SHA-1 here only identifies the issuer (RFC 6960 §4.1.1, RFC 5019
    /// §2.1.1); it authenticates nothing.
    hash: Hash,
    issuer_name_hash: Vec<u8>,
    issuer_key_hash: Vec<u8>,
    serial: Vec<u8>,
    pub status: CertStatus,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
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
        let outer = ber::der(data, "OCSPResponse")?.expect(tag::SEQUENCE, "an OCSPResponse")?;
        let mut r = outer.fields();
        let code = r
            .expect(tag::ENUMERATED, "responseStatus")?
            .small_unsigned()?;
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
        let bytes = r.expect(tag::context_constructed(0), "responseBytes [0]")?;
        r.finish("OCSPResponse")?;
        let rb = ber::der(bytes.content, "ResponseBytes")?
            .expect(tag::SEQUENCE, "a ResponseBytes SEQUENCE")?;
        let mut r = rb.fields();
        let response_type = r.expect(tag::OID, "responseType")?.oid()?;
        if !response_type.is(oid::OCSP_BASIC) {
            return Err(Error::UnsupportedType(response_type.to_string()));
        }
        let basic = r.expect(tag::OCTET_STRING, "response OCTET STRING")?;
        r.finish("ResponseBytes")?;
        let inner = parse_basic(data, basic.content)?;
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
            canonical_integer(&s.serial) == canonical_integer(cert.serial())
                && s.issuer_name_hash == s.hash.of([issuer.subject().der()])
                && s.issuer_key_hash == s.hash.of([issuer.public_key().bits.as_slice()])
        })
    }

    /// Whether the responderID names `cert` (by name or by SHA-1 of its key, RFC 6960 §4.2.1).
    pub fn responder_matches(&self, cert: &Certificate) -> bool {
        match &self.0.responder {
            ResponderId::Name(n) => n == cert.subject(),
            ResponderId::KeyHash(h) => *h == Hash::Sha1.of([cert.public_key().bits.as_slice()]),
        }
    }

    /// Verifies the response signature with `key`.
    pub fn verify_signature(
        &self,
        key: &PublicKey,
        policy: AlgorithmPolicy,
        at: time::OffsetDateTime,
    ) -> Result<(), SignatureError> {
        let alg = self.0.signature_algorithm.as_ref().map_err(Clone::clone)?;
        signature::verify(alg, key, &self.0.tbs, &self.0.signature, policy, Some(at))
    }
}

fn parse_basic(full: &[u8], data: &[u8]) -> Result<Inner, Error> {
    let seq = ber::der(data, "BasicOCSPResponse")?.expect(tag::SEQUENCE, "a BasicOCSPResponse")?;
    let mut r = seq.fields();
    let tbs = r.expect(tag::SEQUENCE, "tbsResponseData")?;
    let alg = r.expect(tag::SEQUENCE, "signatureAlgorithm")?;
    let sig = r.expect(tag::BIT_STRING, "signature")?;
    let mut certs = Vec::new();
    if let Some(c) = r.optional(tag::context_constructed(0))? {
        let list =
            ber::der(c.content, "certs")?.expect(tag::SEQUENCE, "a SEQUENCE OF Certificate")?;
        for cert in list.children() {
            let cert = cert?.expect(tag::SEQUENCE, "a Certificate")?;
            certs.push(
                Certificate::from_der(cert.raw)
                    .map_err(|e| Error::Malformed(format!("responder certificate: {e}")))?,
            );
        }
    }
    r.finish("BasicOCSPResponse")?;
    let signature_algorithm = algorithm(alg)?;
    let signature = match sig.content.split_first() {
        Some((0, rest)) => rest.to_vec(),
        _ => {
            return Err(Error::Malformed(
                "signature BIT STRING has unused bits".into(),
            ));
        }
    };

    let mut t = tbs.fields();
    if let Some(v) = t.optional(tag::context_constructed(0))? {
        let version = ber::der(v.content, "version")?.expect(tag::INTEGER, "an INTEGER")?;
        if version.small_unsigned()? != 0 {
            return Err(Error::Malformed("unsupported ResponseData version".into()));
        }
    }
    let rid = t.field("responderID")?;
    let responder = if rid.is(tag::context_constructed(1)) {
        use x509_parser::prelude::FromDer;
        let (_, name) = x509_parser::x509::X509Name::from_der(rid.content)
            .map_err(|e| Error::Malformed(format!("responderID byName: {e}")))?;
        ResponderId::Name(Name::from_parsed(&name))
    } else if rid.is(tag::context_constructed(2)) {
        let key_hash = ber::der(rid.content, "byKey")?.expect(tag::OCTET_STRING, "KeyHash")?;
        ResponderId::KeyHash(key_hash.content.to_vec())
    } else {
        return Err(Error::Malformed("responderID".into()));
    };
    let produced_at = t
        .expect(tag::GENERALIZED_TIME, "producedAt")?
        .generalized_time()?;
    let list = t.expect(tag::SEQUENCE, "responses")?;
    let mut responses = Vec::new();
    for single in list.children() {
        responses.push(single_response(
            single?.expect(tag::SEQUENCE, "a SingleResponse")?,
        )?);
    }
    let mut nonce = None;
    if let Some(exts) = t.optional(tag::context_constructed(1))? {
        for (id, _critical, value) in extensions(exts.content)? {
            if id.is(oid::OCSP_NONCE) {
                // RFC 8954 §2.1: extnValue holds an OCTET STRING; some responders put the raw
                // nonce there instead, so accept both.
                nonce = Some(
                    match ber::der(value, "nonce").and_then(|n| n.expect(tag::OCTET_STRING, "")) {
                        Ok(inner) => inner.content.to_vec(),
                        Err(_) => value.to_vec(),
                    },
                );
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

fn algorithm(alg: ber::Element<'_>) -> Result<Result<SignatureAlgorithm, SignatureError>, Error> {
    let mut r = alg.fields();
    let id = r.expect(tag::OID, "algorithm")?.oid()?;
    let params = r.next().transpose()?.map(|p| p.raw);
    Ok(SignatureAlgorithm::from_oid_and_params(
        &id.to_string(),
        params,
    ))
}

fn single_response(single: ber::Element<'_>) -> Result<SingleResponse, Error> {
    let mut r = single.fields();
    let cert_id = r.expect(tag::SEQUENCE, "certID")?;
    let mut c = cert_id.fields();
    let alg = c.expect(tag::SEQUENCE, "hashAlgorithm")?;
    let hash_oid = alg.fields().expect(tag::OID, "algorithm")?.oid()?;
    let hash = if hash_oid.is(oid::SHA1) {
        Hash::Sha1
    } else if hash_oid.is(oid::SHA256) {
        Hash::Sha256
    } else {
        return Err(Error::Malformed(format!("CertID hash {hash_oid}")));
    };
    let issuer_name_hash = c
        .expect(tag::OCTET_STRING, "issuerNameHash")?
        .content
        .to_vec();
    let issuer_key_hash = c
        .expect(tag::OCTET_STRING, "issuerKeyHash")?
        .content
        .to_vec();
    let serial = c.expect(tag::INTEGER, "serialNumber")?.content.to_vec();
    c.finish("CertID")?;
    let st = r.field("certStatus")?;
    let status = if st.is(tag::context(0)) {
        CertStatus::Good
    } else if st.is(tag::context_constructed(1)) {
        let mut rr = st.fields();
        let time = rr
            .expect(tag::GENERALIZED_TIME, "revocationTime")?
            .generalized_time()?;
        let mut reason = None;
        if let Some(rc) = rr.optional(tag::context_constructed(0))? {
            let e = ber::der(rc.content, "CRLReason")?.expect(tag::ENUMERATED, "a CRLReason")?;
            let code = e.small_unsigned()?;
            reason =
                Some(u8::try_from(code).map_err(|_| {
                    Error::Malformed(format!("CRLReason {code} is not a reason code"))
                })?);
        }
        CertStatus::Revoked { time, reason }
    } else if st.is(tag::context(2)) {
        CertStatus::Unknown
    } else {
        return Err(Error::Malformed(format!(
            "certStatus tag {:#x}",
            st.raw.first().copied().unwrap_or(0)
        )));
    };
    let this_update = r
        .expect(tag::GENERALIZED_TIME, "thisUpdate")?
        .generalized_time()?;
    let next_update = match r.optional(tag::context_constructed(0))? {
        Some(n) => Some(
            ber::der(n.content, "nextUpdate")?
                .expect(tag::GENERALIZED_TIME, "a GeneralizedTime")?
                .generalized_time()?,
        ),
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
type RawExtension<'a> = (ber::ObjectIdentifier<'a>, bool, &'a [u8]);

/// Extensions ::= SEQUENCE OF Extension.
fn extensions(data: &[u8]) -> Result<Vec<RawExtension<'_>>, Error> {
    let seq = ber::der(data, "Extensions")?.expect(tag::SEQUENCE, "an Extensions SEQUENCE")?;
    let mut out = Vec::new();
    for extension in seq.children() {
        let extension = extension?.expect(tag::SEQUENCE, "an Extension")?;
        let mut er = extension.fields();
        let id = er.expect(tag::OID, "extnID")?.oid()?;
        let critical = match er.optional(tag::BOOLEAN)? {
            Some(b) => b.content == [0xff],
            None => false,
        };
        let value = er.expect(tag::OCTET_STRING, "extnValue")?.content;
        er.finish("Extension")?;
        out.push((id, critical, value));
    }
    Ok(out)
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
    let cert_id = der::sequence(&[
        &der::algorithm_identifier(oid::SHA1, Some(&der::null())),
        &der::octet_string(&Hash::Sha1.of([issuer.subject().der()])),
        &der::octet_string(&Hash::Sha1.of([issuer.public_key().bits.as_slice()])),
        &der::integer_as_read(canonical_integer(cert.serial())),
    ]);
    // Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] OPTIONAL }
    let request_list = der::sequence(&[&der::sequence(&[&cert_id])]);
    let mut tbs_parts: Vec<Vec<u8>> = vec![request_list];
    if let Some(nonce) = nonce {
        // RFC 8954 §2.1: the extnValue's OCTET STRING holds the nonce as an OCTET STRING.
        let extension = der::sequence(&[
            &der::oid(oid::OCSP_NONCE),
            &der::octet_string(&der::octet_string(nonce)),
        ]);
        tbs_parts.push(der::explicit(2, &der::sequence(&[&extension])));
    }
    let tbs = der::tlv(tag::SEQUENCE, &tbs_parts.concat());
    der::sequence(&[&tbs])
}
