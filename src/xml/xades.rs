//! XAdES baseline signatures (ETSI EN 319 132-1 v1.2.1, namespace XAdES 1.3.2): the
//! `QualifyingProperties` kyso writes for B-B (`SigningTime`, `SigningCertificateV2`) and B-T
//! (`SignatureTimeStamp` over the canonicalized `ds:SignatureValue`, §5.3), and what verification
//! reads back and checks, B-LT's `CertificateValues`/`RevocationValues` and B-LTA's
//! `ArchiveTimeStamp` included (written by [`super::longterm`]).
//!
//! Placement is checked, not assumed: the properties of a signature are the single
//! `Signature/Object/QualifyingProperties` whose `Target` names that signature, and a reference
//! typed `SignedProperties` must land on its `SignedProperties` (the DSS "fake SignedProperties"
//! wrapping attack moves a copy elsewhere).

use base64::Engine as _;
use roxmltree::{Document, Node};

use super::c14n::{self, Algorithm, Comments, Subtree};
use super::dsig::{DSIG_NS, DigestMethod, XADES_NS, XADES141_NS};
use super::longterm::ValidationValues;
use super::verify::{
    IdIndex, SignatureReport, SignerKey, Status, SubIndication, decode_base64, is_dsig, line_of,
};
use crate::signer::DigestAlgorithm;

/// What the qualifying properties say and how they check out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Properties {
    /// `SigningTime` as written (xs:dateTime).
    pub signing_time: Option<String>,
    /// Whether `SigningCertificateV2` (or v1) is present; when present it has been checked
    /// against the certificate that verified the signature.
    pub signing_certificate: SigningCertificate,
    /// `SignatureTimeStamp`s, in document order.
    pub timestamps: Vec<SignatureTimestamp>,
    /// B-LT's `CertificateValues` and `RevocationValues`, when either is present: evidence for
    /// the verdict layer, never trusted for itself.
    pub validation_values: Option<ValidationValues>,
    /// B-LTA's `xades141:ArchiveTimeStamp`s, in document order, each with the octets its
    /// imprint must cover ([`super::longterm::archive_input`]).
    pub archive_timestamps: Vec<SignatureTimestamp>,
    /// Line of `SignedProperties`, to match it with the reference that covers it.
    pub signed_properties_line: u32,
}

impl Properties {
    /// B-T when at least one signature time-stamp covers this signature value, else B-B; B-LT
    /// when a B-T signature also carries validation values, B-LTA when it then has an archive
    /// time-stamp (whether that time-stamp's imprint matches is judged by the verdict layer).
    pub fn level(&self) -> Level {
        let stamped = self
            .timestamps
            .iter()
            .any(|t| t.imprint == Imprint::Matches);
        match (stamped, &self.validation_values) {
            (false, _) => Level::BaselineB,
            (true, None) => Level::BaselineT,
            (true, Some(_)) if self.archive_timestamps.is_empty() => Level::BaselineLt,
            (true, Some(_)) => Level::BaselineLta,
        }
    }

    /// The archive time-stamps whose imprint does not match what they must cover: a changed
    /// signature or unsigned property after archiving.
    pub fn archive_mismatch(&self) -> bool {
        self.archive_timestamps
            .iter()
            .any(|t| t.imprint != Imprint::Matches)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    BaselineB,
    BaselineT,
    BaselineLt,
    BaselineLta,
}

impl Level {
    /// The format's name in a report: `XAdES-B-B` … `XAdES-B-LTA`.
    pub fn format(self) -> &'static str {
        match self {
            Level::BaselineB => "XAdES-B-B",
            Level::BaselineT => "XAdES-B-T",
            Level::BaselineLt => "XAdES-B-LT",
            Level::BaselineLta => "XAdES-B-LTA",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigningCertificate {
    /// A `Cert` entry's digest equals the digest of the certificate that verified the signature.
    Matches,
    Absent,
}

/// One `SignatureTimeStamp` or `ArchiveTimeStamp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureTimestamp {
    /// The RFC 3161 token (DER `ContentInfo`), for the CMS and PKI checks made elsewhere.
    pub token: Vec<u8>,
    /// The octets the token must cover: the canonical `ds:SignatureValue` element
    /// (EN 319 132-1 §5.3) for a signature time-stamp, [`super::longterm::archive_input`] for
    /// an archive time-stamp; for `pki::timestamp::verify`.
    pub message: Vec<u8>,
    pub imprint: Imprint,
    /// The token's `genTime`, when readable.
    pub gen_time: Option<time::OffsetDateTime>,
}

/// Whether the token's message imprint is the digest of the octets it must cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imprint {
    Matches,
    Mismatch,
    Unreadable,
}

/// Whether `e` is the `SignedProperties` of `signature` in its prescribed place.
pub(crate) fn is_own_signed_properties(signature: Node<'_, '_>, e: Node<'_, '_>) -> bool {
    is_xades(e, "SignedProperties")
        && e.parent().is_some_and(|qp| {
            is_xades(qp, "QualifyingProperties")
                && qp
                    .parent()
                    .is_some_and(|o| is_dsig(o, "Object") && o.parent() == Some(signature))
        })
}

/// Reads and checks the qualifying properties of a signature whose value has verified.
pub(crate) fn inspect(
    doc: &Document<'_>,
    signature: Node<'_, '_>,
    signature_value: Node<'_, '_>,
    _ids: &IdIndex<'_, '_>,
    report: &SignatureReport,
) -> Result<Option<Properties>, Status> {
    let format = |what: String| Status::Failed {
        sub_indication: SubIndication::FormatFailure,
        detail: what,
    };
    let all: Vec<Node<'_, '_>> = signature
        .children()
        .filter(|o| is_dsig(*o, "Object"))
        .flat_map(|o| {
            o.children()
                .filter(|q| is_xades(*q, "QualifyingProperties"))
        })
        .collect();
    let qp = match all.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(format("more than one QualifyingProperties".into())),
    };
    let own_id = signature.attribute("Id").unwrap_or("");
    if qp.attribute("Target") != Some(&format!("#{own_id}")) {
        return Err(format(format!(
            "QualifyingProperties at line {} does not target this signature",
            line_of(qp)
        )));
    }
    let signed: Vec<_> = qp
        .children()
        .filter(|n| is_xades(*n, "SignedProperties"))
        .collect();
    let [signed] = signed.as_slice() else {
        return Err(format(
            "QualifyingProperties needs one SignedProperties".into(),
        ));
    };
    let ssp = child(*signed, XADES_NS, "SignedSignatureProperties");
    let signing_time = ssp
        .and_then(|s| child(s, XADES_NS, "SigningTime"))
        .and_then(|t| t.text())
        .map(|t| t.trim().to_owned());
    let cert_element = ssp.and_then(|s| {
        child(s, XADES_NS, "SigningCertificateV2")
            .or_else(|| child(s, XADES_NS, "SigningCertificate"))
    });
    let signing_certificate = match cert_element {
        None => SigningCertificate::Absent,
        Some(sc) => {
            let signer = match (report.signer, report.certificates.first()) {
                (Some(SignerKey::Certificate), Some(der)) => der,
                _ => {
                    return Err(Status::Failed {
                        sub_indication: SubIndication::NoSigningCertificateFound,
                        detail: "SigningCertificate is present but no certificate verified the signature"
                            .into(),
                    });
                }
            };
            let mut matched = false;
            for cert in sc.children().filter(|n| is_xades(*n, "Cert")) {
                let Some(cd) = child(cert, XADES_NS, "CertDigest") else {
                    continue;
                };
                let method = child(cd, DSIG_NS, "DigestMethod")
                    .and_then(|m| m.attribute("Algorithm"))
                    .and_then(DigestMethod::from_uri);
                let value = child(cd, DSIG_NS, "DigestValue")
                    .map(decode_base64)
                    .transpose()?;
                if let (Some(m), Some(v)) = (method, value)
                    && m.digest(signer) == v
                {
                    matched = true;
                }
            }
            if !matched {
                return Err(Status::Failed {
                    sub_indication: SubIndication::NoSigningCertificateFound,
                    detail: "the certificate that verified the signature is not the one SigningCertificate names"
                        .into(),
                });
            }
            SigningCertificate::Matches
        }
    };

    let usp = child(qp, XADES_NS, "UnsignedProperties")
        .and_then(|u| child(u, XADES_NS, "UnsignedSignatureProperties"));
    let mut timestamps = Vec::new();
    let mut archive_timestamps = Vec::new();
    let mut certificate_values = None;
    let mut revocation_values = None;
    let references: Vec<&[u8]> = report
        .references
        .iter()
        .map(|r| r.octets.as_slice())
        .collect();
    for (usp, property) in usp
        .iter()
        .flat_map(|u| u.children().filter(Node::is_element).map(move |p| (*u, p)))
    {
        if is_xades(property, "SignatureTimeStamp") {
            let stamp = read_timestamp(property, |algorithm| {
                c14n::canonicalize(
                    doc,
                    &Subtree::new(signature_value, Comments::Strip),
                    algorithm,
                )
            })?;
            timestamps.extend(stamp);
        } else if is_element(property, XADES141_NS, "ArchiveTimeStamp") {
            let stamp = read_timestamp(property, |algorithm| {
                super::longterm::archive_input(
                    doc,
                    signature,
                    &references,
                    usp,
                    Some(property),
                    algorithm,
                )
            })?;
            archive_timestamps.extend(stamp);
        } else if is_xades(property, "CertificateValues") {
            let mut certificates = Vec::new();
            for value in property
                .children()
                .filter(|n| is_xades(*n, "EncapsulatedX509Certificate"))
            {
                certificates.push(decode_base64(value)?);
            }
            certificate_values = Some(certificates);
        } else if is_xades(property, "RevocationValues") {
            let mut values = (Vec::new(), Vec::new());
            for (list, entry, into) in [
                ("CRLValues", "EncapsulatedCRLValue", &mut values.0),
                ("OCSPValues", "EncapsulatedOCSPValue", &mut values.1),
            ] {
                for value in property
                    .children()
                    .filter(|n| is_xades(*n, list))
                    .flat_map(|l| l.children().filter(|n| is_xades(*n, entry)))
                {
                    into.push(decode_base64(value)?);
                }
            }
            revocation_values = Some(values);
        }
    }
    let validation_values = match (certificate_values, revocation_values) {
        (None, None) => None,
        (certificates, revocation) => {
            let (crls, ocsp_responses) = revocation.unwrap_or_default();
            Some(ValidationValues {
                certificates: certificates.unwrap_or_default(),
                crls,
                ocsp_responses,
            })
        }
    };
    Ok(Some(Properties {
        signing_time,
        signing_certificate,
        timestamps,
        validation_values,
        archive_timestamps,
        signed_properties_line: line_of(*signed),
    }))
}

/// Reads a time-stamp container (`SignatureTimeStamp`, `ArchiveTimeStamp`): its token, and
/// whether the token's imprint is the digest of what `covered` returns under the container's
/// canonicalization (inclusive C14N 1.0 when it names none). `None` for a container without an
/// `EncapsulatedTimeStamp` (an `XMLTimeStamp`, which no baseline uses).
fn read_timestamp(
    container: Node<'_, '_>,
    covered: impl FnOnce(&Algorithm) -> Vec<u8>,
) -> Result<Option<SignatureTimestamp>, Status> {
    let algorithm = match child(container, DSIG_NS, "CanonicalizationMethod")
        .and_then(|m| m.attribute("Algorithm"))
    {
        None => Algorithm::Inclusive(Comments::Strip),
        Some(uri) => match Algorithm::from_uri(uri) {
            Some(a) => a,
            None => {
                return Err(Status::Unsupported {
                    feature: format!("time-stamp canonicalization {uri}"),
                });
            }
        },
    };
    let Some(encapsulated) = child(container, XADES_NS, "EncapsulatedTimeStamp") else {
        return Ok(None);
    };
    let token = decode_base64(encapsulated)?;
    let octets = covered(&algorithm);
    let (imprint, gen_time) = match crate::cms::TstInfo::of_token(&token) {
        Ok(info) => {
            let ok = DigestAlgorithm::from_oid(&info.hash_algorithm())
                .is_some_and(|d| d.digest(&octets) == info.hashed_message);
            (
                if ok {
                    Imprint::Matches
                } else {
                    Imprint::Mismatch
                },
                Some(info.gen_time),
            )
        }
        Err(_) => (Imprint::Unreadable, None),
    };
    Ok(Some(SignatureTimestamp {
        token,
        message: octets,
        imprint,
        gen_time,
    }))
}

/// The `QualifyingProperties` kyso writes for B-B, as text to place in a `ds:Object`.
/// `ds` must be bound to the XMLDSig namespace where it lands.
pub(crate) fn qualifying_properties(
    signature_id: &str,
    signed_properties_id: &str,
    signing_time: &str,
    signer_certificate: &[u8],
) -> Result<String, super::Error> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let digest = DigestMethod::Sha256;
    let issuer_serial = issuer_serial_v2(signer_certificate)?;
    Ok(format!(
        "<xades:QualifyingProperties xmlns:xades=\"{XADES_NS}\" Target=\"#{signature_id}\">\
<xades:SignedProperties Id=\"{signed_properties_id}\">\
<xades:SignedSignatureProperties>\
<xades:SigningTime>{signing_time}</xades:SigningTime>\
<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>\
<ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>{}</ds:DigestValue>\
</xades:CertDigest><xades:IssuerSerialV2>{}</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2>\
</xades:SignedSignatureProperties>\
</xades:SignedProperties>\
</xades:QualifyingProperties>",
        digest.uri(),
        b64(&digest.digest(signer_certificate)),
        b64(&issuer_serial),
    ))
}

/// The B-T addition: `UnsignedProperties` holding one `SignatureTimeStamp`.
pub(crate) fn unsigned_properties(
    timestamp_id: &str,
    algorithm: &Algorithm,
    token: &[u8],
) -> String {
    format!(
        "<xades:UnsignedProperties><xades:UnsignedSignatureProperties>\
<xades:SignatureTimeStamp Id=\"{timestamp_id}\"><ds:CanonicalizationMethod Algorithm=\"{}\"/>\
<xades:EncapsulatedTimeStamp>{}</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>\
</xades:UnsignedSignatureProperties></xades:UnsignedProperties>",
        algorithm.uri(),
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

/// DER `IssuerSerial` (RFC 5035 §3) of `der`'s issuer and serial number, as CAdES writes it.
fn issuer_serial_v2(der: &[u8]) -> Result<Vec<u8>, super::Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| super::Error::Certificate(e.to_string()))?;
    Ok(crate::cms::issuer_serial(
        cert.tbs_certificate.issuer.as_raw(),
        cert.tbs_certificate.raw_serial(),
    ))
}

fn is_xades(n: Node<'_, '_>, local: &str) -> bool {
    is_element(n, XADES_NS, local)
}

fn is_element(n: Node<'_, '_>, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
}

fn child<'a, 'input>(n: Node<'a, 'input>, ns: &str, local: &str) -> Option<Node<'a, 'input>> {
    n.children().find(|c| {
        c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
    })
}
