//! PAdES signing (ETSI EN 319 142-1): a PDF, a signer and its certificates in; a signed PDF out,
//! at baseline B-B, B-T, B-LT or B-LTA ([`Level`]).
//!
//! This is the path the DMS and `kyso sign pdf` take: [`crate::pdf`] prepares the incremental
//! update and hashes the byte ranges, [`crate::cms`] builds the CAdES-detached SignedData around
//! a signature from the [`Signer`](crate::signer::Signer) (the HSM), and the CMS is written into
//! the reserved `/Contents`.
//! - B-T (§6.3 of EN 319 142-1) adds a signature time-stamp: after the HSM has signed, an RFC
//!   3161 token over the SignatureValue is requested ([`crate::tsp`]) and added as the unsigned
//!   attribute id-aa-signatureTimeStampToken (RFC 5652 §11.3; RFC 3161 Appendix A).
//! - B-LT (§6.4) adds, in a second incremental update after the signed byte range, a DSS
//!   ([`crate::pdf::dss`]) with the certificates, CRLs and OCSP responses of the signer's and the
//!   TSA's chains, gathered and checked by [`crate::pki`].
//! - B-LTA (§6.5) adds, after the DSS, a document time-stamp over the whole file
//!   ([`document_timestamp`]): the proof of existence of the signature and its validation data
//!   that outlives their certificates. Augmenting documents signed elsewhere is
//!   [`crate::extend`]'s.
//!
//! Refuses: to sign at B-LT with a certificate whose path does not validate — revoked, expired,
//! or without revocation evidence — because a signature made with a revoked key is a mistake the
//! DMS must hear about, not a document to hand out. Reads no clock: the signing time comes with
//! the options. Nothing is returned, so nothing is written, unless every step succeeded.
//!

use std::sync::Mutex;

use time::OffsetDateTime;

use crate::cms::{self, SignedCms, SignerIdentity};
use crate::oid;
use crate::pdf::{self, DssEntry, PreparedPdf, SignatureOptions, SignedPdf, ValidationData};
use crate::pki::crl::Crl;
use crate::pki::ocsp::OcspResponse;
use crate::pki::revocation::{Found, crl_issuer_names};
use crate::pki::timestamp::{self, TimestampToken};
use crate::pki::{
    Certificate, KeyPurpose, PathError, RevocationCheck, RevocationPolicy, RevocationSource,
    UnknownRevocation, ValidationPolicy, Validator,
};
use crate::signer::DigestAlgorithm;
use crate::tsp;

/// The time-stamping authority of B-T and B-LT, and how to reach it (URL, deadline, TLS roots,
/// credentials): the TSA client's own description, so that the CLI, the service and XAdES
/// configure one type.
pub use crate::tsp::Tsa;

/// Why a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pdf(#[from] pdf::Error),
    #[error(transparent)]
    Cms(#[from] cms::Error),
    #[error("signature time-stamp: {0}")]
    Timestamp(#[from] tsp::Error),
    #[error("the signature time-stamp from {url} is not acceptable: {source}")]
    TimestampRejected {
        url: String,
        #[source]
        source: timestamp::Error,
    },
    #[error("the signature time-stamp does not verify: {0}")]
    TimestampNotValid(#[source] timestamp::Error),
    #[error(
        "refusing to sign at B-LT: the signer's certificate does not validate at {}: {source}",
        rfc3339(*at)
    )]
    SignerNotValid {
        at: OffsetDateTime,
        #[source]
        source: PathError,
    },
    #[error("the signer's chain holds something that is not a certificate: {0}")]
    Certificate(#[source] crate::pki::Error),
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// The PAdES baseline level to sign at (ETSI EN 319 142-1 §6).
pub enum Level<'a> {
    /// The CMS signature alone.
    BB,
    /// B-B plus a signature time-stamp from `tsa`.
    BT { tsa: Tsa },
    /// B-T plus a DSS holding every certificate, CRL and OCSP response needed to validate the
    /// signer's and the TSA's chains, gathered and checked as `validation` says.
    BLT { tsa: Tsa, validation: LongTerm<'a> },
    /// B-LT plus a document time-stamp from `tsa` over everything, the DSS included.
    BLTA { tsa: Tsa, validation: LongTerm<'a> },
}

impl Level<'_> {
    /// The standard's name: `B-B`, `B-T`, `B-LT`.
    pub fn name(&self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT { .. } => "B-T",
            Level::BLT { .. } => "B-LT",
            Level::BLTA { .. } => "B-LTA",
        }
    }

    fn tsa(&self) -> Option<&Tsa> {
        match self {
            Level::BB => None,
            Level::BT { tsa } | Level::BLT { tsa, .. } | Level::BLTA { tsa, .. } => Some(tsa),
        }
    }
}

/// How B-LT gathers and checks the validation data it embeds.
///
/// Whatever `validator`'s own revocation policy says, B-LT checks revocation on every
/// certificate below the trust anchor and refuses when evidence is missing
/// ([`RevocationCheck::FullChain`], [`UnknownRevocation::Deny`]): the level promises that the
/// evidence is in the document.
#[derive(Clone, Copy)]
pub struct LongTerm<'a> {
    /// Trust anchors, intermediates and algorithm policy for the signer's and the TSA's paths.
    pub validator: &'a Validator,
    /// Where evidence comes from, in order: data the caller already holds
    /// ([`crate::pki::Evidence`]), then the network ([`crate::pki::fetch::Online`]).
    pub sources: &'a [&'a dyn RevocationSource],
}

/// Room in `/Contents` for the CMS beyond the certificates it carries: the signer info, signed
/// attributes and a signature of up to 512 bytes (RSA-4096) come to about 1.5 KB.
const CMS_OVERHEAD: usize = 8 * 1024;

/// Room in `/Contents` for a signature time-stamp token, which arrives only after the space was
/// reserved and signed around, so its size cannot be known in advance. Measured in
/// tests/pdf_levels.rs (which prints them): an OpenSSL token from a P-256 TSA with its CA
/// certificate is 1.6 KB; one carrying a three-certificate RSA-4096 chain (TSA, CA, root), the
/// largest kind public TSAs send, is 5.3 KB. 16 KB holds the largest three times over, for 32 KB
/// of zeros in the file; a token that still does not fit fails the signing with
/// [`pdf::Error::ContentsTooSmall`], and nothing is written.
pub const TIMESTAMP_ROOM: usize = 16 * 1024;

/// The `/Contents` size for a signature by `identity` at `level`.
pub fn contents_size(identity: &SignerIdentity<'_>, level: &Level<'_>) -> usize {
    let certificates =
        identity.certificate.len() + identity.chain.iter().map(Vec::len).sum::<usize>();
    let timestamp = match level {
        Level::BB => 0,
        Level::BT { .. } | Level::BLT { .. } | Level::BLTA { .. } => TIMESTAMP_ROOM,
    };
    certificates + CMS_OVERHEAD + timestamp
}

/// Signs `input` at `level`. `options.contents_size` must be at least
/// [`contents_size`]`(identity, level)`; it is checked before the HSM or the TSA is asked.
pub fn sign<'a>(
    input: &'a [u8],
    identity: &SignerIdentity<'_>,
    options: &SignatureOptions,
    level: &Level<'_>,
) -> Result<SignedPdf<'a>, Error> {
    let needed = contents_size(identity, level);
    if options.contents_size < needed {
        return Err(pdf::Error::ContentsTooSmall {
            needed,
            reserved: options.contents_size,
        }
        .into());
    }
    // B-LT: the signer's path is checked before anything is signed.
    let signer_data = match level {
        Level::BLT { validation, .. } | Level::BLTA { validation, .. } => Some(
            validation.signer_data(identity.certificate, identity.chain, options.signing_time)?,
        ),
        _ => None,
    };

    let prepared = PreparedPdf::prepare(input, options)?;
    let digested = prepared.digest(identity.signer.algorithm().digest());
    let mut cms = SignedCms::sign(identity, digested.message_digest())?;
    let token = match level.tsa() {
        Some(tsa) => {
            let token = signature_timestamp(tsa, cms.signature())?;
            cms.add_unsigned_attribute(oid::SIGNATURE_TIMESTAMP_TOKEN, &token);
            Some(token)
        }
        None => None,
    };
    let mut signed = digested.embed(&cms.to_der())?;

    if let (
        Level::BLT { validation, .. } | Level::BLTA { validation, .. },
        Some(mut data),
        Some(token),
    ) = (level, signer_data, token)
    {
        let tsa_data = validation.timestamp_data(&token, cms.signature())?;
        data.merge(&tsa_data);
        let contents = signed.signature_contents();
        let update = pdf::dss_update(
            &signed.document()?,
            &[DssEntry {
                signature_contents: Some(&contents),
                data: &data,
            }],
        )?;
        signed.append_update(&update);
    }
    if let Level::BLTA { tsa, validation } = level {
        let before = signed.to_vec();
        let stamp = document_timestamp(&before, tsa, options.signing_time)?;
        signed.append_update(&stamp.update);
        // The time-stamp's own evidence after it, so that the document verifies offline until
        // the archive time-stamp is renewed.
        let data = validation.timestamp_data(&stamp.token, &stamp.covered(&before))?;
        let update = pdf::dss_update(
            &signed.document()?,
            &[DssEntry {
                signature_contents: Some(&stamp.contents),
                data: &data,
            }],
        )?;
        signed.append_update(&update);
    }
    Ok(signed)
}

/// A document time-stamp's incremental update, and what its evidence is gathered from.
pub struct DocumentTimestamp {
    /// The update to append.
    pub update: Vec<u8>,
    /// The RFC 3161 token in its `/Contents`.
    pub token: Vec<u8>,
    /// Its `/Contents` string as stored (the token and its zero padding): its `/VRI` key.
    pub contents: Vec<u8>,
    /// Where in `update` its `/Contents` hex string lies, outside the byte range.
    gap: (usize, usize),
}

impl DocumentTimestamp {
    /// The bytes the time-stamp covers, `before` being the document it was made on.
    pub fn covered(&self, before: &[u8]) -> Vec<u8> {
        let mut covered = Vec::with_capacity(before.len() + self.update.len());
        covered.extend_from_slice(before);
        covered.extend_from_slice(&self.update[..self.gap.0]);
        covered.extend_from_slice(&self.update[self.gap.1..]);
        covered
    }
}

/// The incremental update that adds a document time-stamp from `tsa` to `document` (ETSI EN
/// 319 142-1 §5.4): an invisible `/DocTimeStamp` field whose `/Contents` is an RFC 3161 token
/// over the SHA-256 of the byte ranges, which cover everything before it. `at` only seeds the
/// update's file identifier; the token's time is the time.
pub fn document_timestamp(
    document: &[u8],
    tsa: &Tsa,
    at: OffsetDateTime,
) -> Result<DocumentTimestamp, Error> {
    let mut options = SignatureOptions::new(at, TIMESTAMP_ROOM);
    options.document_timestamp = true;
    let prepared = PreparedPdf::prepare(document, &options)?;
    let digested = prepared.digest(DigestAlgorithm::Sha256);
    let token = tsp::timestamp(tsa, DigestAlgorithm::Sha256, digested.message_digest())?;
    TimestampToken::from_der(&token).map_err(|source| Error::TimestampRejected {
        url: tsa.url.clone(),
        source,
    })?;
    let stamped = digested.embed(&token)?;
    Ok(DocumentTimestamp {
        update: stamped.update().to_vec(),
        contents: stamped.signature_contents(),
        gap: stamped.contents_span(),
        token,
    })
}

/// Asks `tsa` for a token over the SHA-256 of `signature_value` (the SignerInfo's signature
/// octets, RFC 3161 Appendix A) and checks that it is a time-stamp token covering them, with
/// the nonce sent.
fn signature_timestamp(tsa: &Tsa, signature_value: &[u8]) -> Result<Vec<u8>, Error> {
    let imprint = DigestAlgorithm::Sha256.digest(signature_value);
    // tsp checks the imprint and the nonce of the TSTInfo ...
    let token = tsp::timestamp(tsa, DigestAlgorithm::Sha256, &imprint)?;
    // ... and pki that the token is a time-stamp token as RFC 3161 has it (one signer, signed
    // attributes, a TSTInfo of version 1) before it goes into the signature.
    TimestampToken::from_der(&token).map_err(|source| Error::TimestampRejected {
        url: tsa.url.clone(),
        source,
    })?;
    Ok(token)
}

impl LongTerm<'_> {
    /// Validates the signer's path at `at` and returns its certificates and the revocation
    /// evidence that proved them good. Fails when the path does not validate: a revoked or
    /// expired certificate, an unknown issuer, missing evidence.
    pub fn signer_data(
        &self,
        certificate: &[u8],
        chain: &[Vec<u8>],
        at: OffsetDateTime,
    ) -> Result<ValidationData, Error> {
        let leaf = Certificate::from_der(certificate).map_err(Error::Certificate)?;
        let intermediates = chain
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Certificate)?;
        let mut policy = self.policy();
        policy.purpose = KeyPurpose::DocumentSigning;
        let recorder = Recorder::default();
        let sources = recorder.wrap(self.sources);
        let sources: Vec<&dyn RevocationSource> =
            sources.iter().map(|s| s as &dyn RevocationSource).collect();
        let path = self
            .validator
            .validate_with(&leaf, &intermediates, at, &sources, &policy)
            .map_err(|source| Error::SignerNotValid { at, source })?;
        Ok(recorder.evidence_for(path.certificates()))
    }

    /// Verifies a time-stamp `token` over `message` (a signature value for a signature
    /// time-stamp, the covered bytes for a document time-stamp): signature, TSA path at the
    /// token's time, revocation; returns the TSA path's certificates and evidence.
    pub fn timestamp_data(&self, token: &[u8], message: &[u8]) -> Result<ValidationData, Error> {
        let parsed = TimestampToken::from_der(token).map_err(Error::TimestampNotValid)?;
        let recorder = Recorder::default();
        let sources = recorder.wrap(self.sources);
        let sources: Vec<&dyn RevocationSource> =
            sources.iter().map(|s| s as &dyn RevocationSource).collect();
        let verified = timestamp::verify_with(
            &parsed,
            message,
            None,
            self.validator,
            &self.policy(),
            &[],
            &sources,
        )
        .map_err(Error::TimestampNotValid)?;
        Ok(recorder.evidence_for(verified.tsa_chain().certificates()))
    }

    /// The validator's policy with B-LT's revocation demands.
    fn policy(&self) -> ValidationPolicy {
        let mut policy = self.validator.policy().clone();
        policy.revocation = RevocationPolicy {
            check: RevocationCheck::FullChain,
            unknown: UnknownRevocation::Deny,
        };
        policy
    }
}

/// Remembers the evidence sources hand to the validator, so that what proved a path good can be
/// embedded. The validator does not say which item it used; [`Recorder::evidence_for`] keeps
/// the items that speak for a certificate of the validated path.
#[derive(Default)]
struct Recorder {
    crls: Mutex<Vec<Crl>>,
    ocsp: Mutex<Vec<OcspResponse>>,
}

struct Recording<'r, 's> {
    inner: &'s dyn RevocationSource,
    recorder: &'r Recorder,
}

impl Recorder {
    fn wrap<'r, 's>(&'r self, sources: &[&'s dyn RevocationSource]) -> Vec<Recording<'r, 's>> {
        sources
            .iter()
            .map(|inner| Recording {
                inner: *inner,
                recorder: self,
            })
            .collect()
    }

    /// `path` (leaf first, anchor last) with the recorded CRLs and OCSP responses that speak
    /// for one of its certificates, and the responder certificates those responses carry.
    fn evidence_for(self, path: &[Certificate]) -> ValidationData {
        let mut data = ValidationData::default();
        let add_certificate = |data: &mut ValidationData, der: &[u8]| {
            if !data.certificates.iter().any(|c| c == der) {
                data.certificates.push(der.to_vec());
            }
        };
        for cert in path {
            add_certificate(&mut data, cert.der());
        }
        let ocsp = self
            .ocsp
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for response in ocsp {
            let speaks = path
                .windows(2)
                .any(|pair| response.find(&pair[0], &pair[1]).is_some());
            if speaks && !data.ocsp_responses.iter().any(|r| r == response.der()) {
                for responder in response.certificates() {
                    add_certificate(&mut data, responder.der());
                }
                data.ocsp_responses.push(response.der().to_vec());
            }
        }
        let crls = self
            .crls
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for crl in crls {
            let speaks = path[..path.len().saturating_sub(1)].iter().any(|cert| {
                crl_issuer_names(cert)
                    .iter()
                    .any(|n| n == crl.issuer().key())
            });
            if speaks && !data.crls.iter().any(|c| c == crl.der()) {
                data.crls.push(crl.der().to_vec());
            }
        }
        data
    }
}

impl RevocationSource for Recording<'_, '_> {
    fn crls(&self, cert: &Certificate) -> Found<Crl> {
        let found = self.inner.crls(cert);
        if let Ok(mut crls) = self.recorder.crls.lock() {
            crls.extend(found.items.iter().cloned());
        }
        found
    }

    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Found<OcspResponse> {
        let found = self.inner.ocsp(cert, issuer);
        if let Ok(mut ocsp) = self.recorder.ocsp.lock() {
            ocsp.extend(found.items.iter().cloned());
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample::{SampleOptions, sample_pdf};
    use crate::testpki::{PkiOptions, SignerName, SignerProfile, SoftwareSigner, TestPki};
    use crate::token::KeyAlgorithm;

    #[test]
    fn room_is_checked_before_the_hsm_or_the_tsa_is_asked() {
        let pki = TestPki::new(PkiOptions::default()).unwrap();
        let name = SignerName::new("Ngô Thị Hà", "UBND tỉnh Thử Nghiệm", "Văn phòng");
        let (issued, key) = pki
            .issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)
            .unwrap();
        let signer = SoftwareSigner::new(key, KeyAlgorithm::P256);
        let chain = vec![pki.intermediate.der().to_vec()];
        let identity = SignerIdentity {
            signer: &signer,
            certificate: &issued.der,
            chain: &chain,
        };
        // Nothing listens on port 1: reaching the TSA would fail with an I/O error instead.
        let level = Level::BT {
            tsa: Tsa::new("http://127.0.0.1:1/tsa"),
        };
        let basic = contents_size(&identity, &Level::BB);
        assert_eq!(contents_size(&identity, &level), basic + TIMESTAMP_ROOM);
        let options = SignatureOptions::new(pki.at(), basic);
        let input = sample_pdf(&SampleOptions::default());
        match sign(&input, &identity, &options, &level) {
            Err(Error::Pdf(pdf::Error::ContentsTooSmall { needed, reserved })) => {
                assert_eq!((needed, reserved), (basic + TIMESTAMP_ROOM, basic));
            }
            Err(other) => panic!("expected ContentsTooSmall, got {other}"),
            Ok(_) => panic!("signed without room for the time-stamp"),
        }
        // The same options suffice for B-B.
        assert!(sign(&input, &identity, &options, &Level::BB).is_ok());
    }

    #[test]
    fn level_names_are_the_standard_s() {
        assert_eq!(Level::BB.name(), "B-B");
        let tsa = Tsa::new("http://127.0.0.1:1/");
        assert_eq!(Level::BT { tsa }.name(), "B-T");
    }
}
