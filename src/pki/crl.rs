//! Certificate revocation lists (RFC 5280 §5), parsed once into an index.
//!
//! Owns: decoding a CRL with x509-parser, its extensions (cRLNumber, deltaCRLIndicator,
//! issuingDistributionPoint, per-entry reasonCode and certificateIssuer), and an index of revoked
//! serials so a 100,000-entry CRL answers a lookup with one hash probe. Refuses: nothing at parse
//! time beyond undecodable bytes; profile violations (missing or critical cRLNumber, unknown
//! critical extensions) are recorded in [`Crl::defects`] and make the CRL unusable as evidence
//! when it is evaluated (RFC 5280 §5.2, §6.3.3). Signature and issuer checks happen in the
//! validator, which knows the path.

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::{FromDer, ParsedExtension};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::ber::{self, canonical_integer, tag};
use crate::oid;
use crate::pki::cert::any_to_der;
use crate::pki::name::{GeneralName, Name};
use crate::pki::signature::{SignatureAlgorithm, SignatureError};

/// Why bytes are not a CRL.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    #[error("not a CRL: {reason}")]
    Malformed { reason: String },
}

/// A parsed CRL. Cloning is cheap (shared).
#[derive(Clone, Debug)]
pub struct Crl(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    der: Vec<u8>,
    fingerprint: [u8; 32],
    tbs: Vec<u8>,
    signature_algorithm: Result<SignatureAlgorithm, SignatureError>,
    signature: Vec<u8>,
    issuer: Name,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    number: Option<BigUint>,
    delta_base: Option<BigUint>,
    idp: Option<IssuingDistributionPoint>,
    entries: HashMap<Vec<u8>, Vec<Entry>>,
    entry_count: usize,
    defects: Vec<String>,
}

/// The issuingDistributionPoint extension (RFC 5280 §5.2.5).
#[derive(Debug, Clone, Default)]
pub struct IssuingDistributionPoint {
    pub names: Option<Vec<GeneralName>>,
    pub only_user_certs: bool,
    pub only_ca_certs: bool,
    pub only_some_reasons: Option<u16>,
    pub indirect: bool,
    pub only_attribute_certs: bool,
}

/// One revoked certificate.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The certificate issuer this entry speaks for (RFC 5280 §5.3.3); `None` is the CRL issuer.
    pub certificate_issuer: Option<Name>,
    pub revocation_date: OffsetDateTime,
    /// CRLReason (RFC 5280 §5.3.1); `None` when absent (unspecified).
    pub reason: Option<u8>,
    /// The entry carries a critical extension kyso does not understand.
    pub unknown_critical: bool,
}

/// CRLReason removeFromCRL: in a delta CRL, the certificate is no longer revoked.
pub const REASON_REMOVE_FROM_CRL: u8 = 8;

impl Crl {
    /// Parses one DER CRL. A pure function of its input (a fuzzing entry point).
    pub fn from_der(data: &[u8]) -> Result<Crl, Error> {
        let signature_fields_match =
            crate::pki::cert::signed_envelope(data, "CertificateList", false).map_err(|e| {
                Error::Malformed {
                    reason: e.to_string(),
                }
            })?;
        let (rest, crl) =
            CertificateRevocationList::from_der(data).map_err(|e| Error::Malformed {
                reason: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(Error::Malformed {
                reason: format!("{} trailing bytes", rest.len()),
            });
        }
        let mut inner = build(data, &crl);
        if crl.signature_value.unused_bits != 0 {
            // Only a second encoding of the same signed list; unusable as evidence.
            inner
                .defects
                .push("signature BIT STRING has unused bits".to_owned());
        }
        if !signature_fields_match {
            inner
                .defects
                .push("signatureAlgorithm differs from tbsCertList.signature".to_owned());
        }
        Ok(Crl(Arc::new(inner)))
    }

    /// Parses a PEM ("X509 CRL") or DER CRL. PEM is what some CAs serve at distribution points
    /// where RFC 5280 §4.2.1.13 asks for DER, CRLF lines and a UTF-8 byte order mark included.
    pub fn from_pem_or_der(data: &[u8]) -> Result<Vec<Crl>, Error> {
        let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
        if data.first() == Some(&0x30) {
            return Ok(vec![Crl::from_der(data)?]);
        }
        let mut out = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(data) {
            let pem = pem.map_err(|e| Error::Malformed {
                reason: format!("PEM: {e}"),
            })?;
            if pem.label == "X509 CRL" {
                out.push(Crl::from_der(&pem.contents)?);
            }
        }
        Ok(out)
    }

    pub fn der(&self) -> &[u8] {
        &self.0.der
    }
    pub fn tbs(&self) -> &[u8] {
        &self.0.tbs
    }
    /// SHA-256 of the DER: identity in caches.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.0.fingerprint
    }
    pub fn signature_algorithm(&self) -> Result<&SignatureAlgorithm, &SignatureError> {
        self.0.signature_algorithm.as_ref()
    }
    pub fn signature(&self) -> &[u8] {
        &self.0.signature
    }
    pub fn issuer(&self) -> &Name {
        &self.0.issuer
    }
    pub fn this_update(&self) -> OffsetDateTime {
        self.0.this_update
    }
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.0.next_update
    }
    pub fn number(&self) -> Option<&BigUint> {
        self.0.number.as_ref()
    }
    /// The BaseCRLNumber of a delta CRL; `None` for a complete CRL.
    pub fn delta_base(&self) -> Option<&BigUint> {
        self.0.delta_base.as_ref()
    }
    pub fn is_delta(&self) -> bool {
        self.0.delta_base.is_some()
    }
    pub fn issuing_distribution_point(&self) -> Option<&IssuingDistributionPoint> {
        self.0.idp.as_ref()
    }
    /// Profile violations that make this CRL unusable as evidence.
    pub fn defects(&self) -> &[String] {
        &self.0.defects
    }
    pub fn len(&self) -> usize {
        self.0.entry_count
    }
    pub fn is_empty(&self) -> bool {
        self.0.entry_count == 0
    }

    /// Entries for `serial` (INTEGER content octets) that speak for `issuer`: O(1) in the
    /// number of entries.
    pub fn lookup(&self, serial: &[u8], issuer: &Name) -> Option<&Entry> {
        self.0
            .entries
            .get(canonical_integer(serial))?
            .iter()
            .find(|e| match &e.certificate_issuer {
                None => &self.0.issuer == issuer,
                Some(n) => n == issuer,
            })
    }
}

fn build(data: &[u8], crl: &CertificateRevocationList<'_>) -> Inner {
    let tbs = &crl.tbs_cert_list;
    let mut defects = Vec::new();
    let issuer = Name::from_parsed(&tbs.issuer);
    let oid = crl.signature_algorithm.algorithm.to_id_string();
    let params = crl.signature_algorithm.parameters.as_ref().map(any_to_der);
    let signature_algorithm = SignatureAlgorithm::from_oid_and_params(&oid, params.as_deref());

    let mut number = None;
    let mut delta_base = None;
    let mut idp = None;
    for e in tbs.extensions() {
        let id = e.oid.to_id_string();
        if id == oid::CRL_NUMBER {
            if e.critical {
                defects.push("cRLNumber must not be critical (RFC 5280 §5.2.3)".to_owned());
            }
            match e.parsed_extension() {
                ParsedExtension::CRLNumber(n) => number = Some(n.clone()),
                _ => defects.push("cRLNumber is malformed".to_owned()),
            }
        } else if id == oid::DELTA_CRL_INDICATOR {
            if !e.critical {
                defects.push("deltaCRLIndicator must be critical (RFC 5280 §5.2.4)".to_owned());
            }
            match ber::der(e.value, "BaseCRLNumber").and_then(|i| i.integer()) {
                Ok(base) => delta_base = Some(BigUint::from_bytes_be(base)),
                Err(_) => defects.push("deltaCRLIndicator is malformed".to_owned()),
            }
        } else if id == oid::ISSUING_DISTRIBUTION_POINT {
            match parse_idp(e.value, tbs.issuer.as_raw()) {
                Some(p) => idp = Some(p),
                None => defects.push("issuingDistributionPoint is malformed".to_owned()),
            }
        } else if [
            oid::AUTHORITY_KEY_IDENTIFIER,
            oid::ISSUER_ALT_NAME,
            oid::FRESHEST_CRL,
            oid::AUTHORITY_INFO_ACCESS,
        ]
        .iter()
        .any(|known| id == *known)
        {
            // Understood, and nothing in them changes what the CRL says.
        } else if e.critical {
            defects.push(format!("unknown critical CRL extension {id}"));
        }
    }
    if number.is_none() {
        defects.push("cRLNumber is missing (RFC 5280 §5.2.3)".to_owned());
    }

    let mut entries: HashMap<Vec<u8>, Vec<Entry>> =
        HashMap::with_capacity(tbs.revoked_certificates.len());
    // RFC 5280 §5.3.3: certificateIssuer applies to this entry and all following ones until
    // another certificateIssuer appears; before the first one, the CRL issuer.
    let mut current_issuer: Option<Name> = None;
    for rc in &tbs.revoked_certificates {
        let mut reason = None;
        let mut unknown_critical = false;
        for e in rc.extensions() {
            // Compared by content octets: a CRL has an entry extension or two per revoked
            // certificate, and a dotted string for each would be an allocation per entry.
            let id = e.oid.as_bytes();
            if id == oid::REASON_CODE.content() {
                if let ParsedExtension::ReasonCode(r) = e.parsed_extension() {
                    reason = Some(r.0);
                }
            } else if id == oid::CERTIFICATE_ISSUER.content() {
                match certificate_issuer(e.value) {
                    Some(n) => current_issuer = Some(n),
                    None => unknown_critical = true,
                }
            } else if id != oid::INVALIDITY_DATE.content() {
                unknown_critical |= e.critical;
            }
        }
        entries
            .entry(canonical_integer(rc.raw_serial()).to_vec())
            .or_default()
            .push(Entry {
                certificate_issuer: current_issuer.clone(),
                revocation_date: rc.revocation_date.to_datetime(),
                reason,
                unknown_critical,
            });
    }

    Inner {
        der: data.to_vec(),
        fingerprint: {
            let digest = crate::signer::DigestAlgorithm::Sha256.digest(data);
            let mut out = [0u8; 32];
            out.copy_from_slice(&digest);
            out
        },
        tbs: tbs.as_ref().to_vec(),
        signature_algorithm,
        signature: crl.signature_value.data.to_vec(),
        issuer,
        this_update: tbs.this_update.to_datetime(),
        next_update: tbs.next_update.map(|t| t.to_datetime()),
        number,
        delta_base,
        idp,
        entry_count: tbs.revoked_certificates.len(),
        entries,
        defects,
    }
}

/// The directoryName of a certificateIssuer entry extension (GeneralNames).
fn certificate_issuer(value: &[u8]) -> Option<Name> {
    let names = ber::der(value, "GeneralNames")
        .and_then(|e| e.expect(tag::SEQUENCE, "a GeneralNames SEQUENCE"))
        .ok()?;
    for name in names.children() {
        let name = name.ok()?;
        if name.is(tag::context_constructed(4)) {
            let (_, name) = x509_parser::x509::X509Name::from_der(name.content).ok()?;
            return Some(Name::from_parsed(&name));
        }
    }
    None
}

/// issuingDistributionPoint (RFC 5280 §5.2.5):
///
/// ```text
/// IssuingDistributionPoint ::= SEQUENCE {
///      distributionPoint          [0] DistributionPointName OPTIONAL,
///      onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
///      onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
///      onlySomeReasons            [3] ReasonFlags OPTIONAL,
///      indirectCRL                [4] BOOLEAN DEFAULT FALSE,
///      onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
/// ```
fn parse_idp(value: &[u8], crl_issuer: &[u8]) -> Option<IssuingDistributionPoint> {
    let seq = ber::der(value, "IssuingDistributionPoint")
        .and_then(|e| e.expect(tag::SEQUENCE, "a SEQUENCE"))
        .ok()?;
    let mut r = seq.fields();
    let mut idp = IssuingDistributionPoint::default();
    if let Some(n) = r.optional(tag::context_constructed(0)).ok()? {
        idp.names = Some(crate::pki::cert::distribution_point_name(
            n.content,
            &[crl_issuer.to_vec()],
        )?);
    }
    let flag = |r: &mut ber::Fields<'_>, n: u32| -> Option<bool> {
        Some(
            r.optional(tag::context(n))
                .ok()?
                .is_some_and(|b| b.content == [0xff]),
        )
    };
    idp.only_user_certs = flag(&mut r, 1)?;
    idp.only_ca_certs = flag(&mut r, 2)?;
    if let Some(reasons) = r.optional(tag::context(3)).ok()? {
        idp.only_some_reasons = Some(crate::pki::cert::reason_flags(reasons.content)?);
    }
    idp.indirect = flag(&mut r, 4)?;
    idp.only_attribute_certs = flag(&mut r, 5)?;
    r.finish("IssuingDistributionPoint").ok()?;
    Some(idp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_crls_are_read_as_servers_write_them() {
        let pki = crate::testpki::TestPki::new(crate::testpki::PkiOptions::default()).unwrap();
        let der = pki
            .intermediate_crl(pki.at(), time::Duration::days(7))
            .unwrap();
        let crlf = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::CRLF);
        let pem = pem::encode_config(&pem::Pem::new("X509 CRL", der.clone()), crlf);
        for body in [
            der.clone(),
            pem.clone().into_bytes(),
            [b"\xef\xbb\xbf".as_slice(), pem.as_bytes()].concat(),
            format!("\r\n{pem}\r\n").into_bytes(),
        ] {
            let crls = Crl::from_pem_or_der(&body).unwrap();
            assert_eq!(crls.len(), 1);
            assert_eq!(crls[0].der(), der.as_slice());
        }
        // A body that is neither holds no CRL (the fetcher then says so).
        assert!(
            Crl::from_pem_or_der(b"<html>Not Found</html>")
                .unwrap()
                .is_empty()
        );
    }
}
