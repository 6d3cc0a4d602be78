//! An X.509 certificate parsed once into owned, validation-ready facts.
//!
//! Owns: decoding with x509-parser (RFC 5280 §4.1), extracting the extensions path validation
//! reads (§4.2.1), and recording profile defects — things RFC 5280 says a certificate MUST NOT
//! do — without failing the parse, so the validator can say *which* certificate in a path is bad
//! and why. Refuses: input that is not a single DER certificate (trailing bytes included).

use std::collections::HashSet;
use std::sync::Arc;

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use crate::ber::{self, tag};
use crate::der;
use crate::oid;
use crate::pki::Error;
use crate::pki::name::{GeneralName, Name, NameKey};
use crate::pki::signature::{PublicKey, SignatureAlgorithm, SignatureError};

/// A parsed certificate. Cloning is cheap (shared).
#[derive(Clone, Debug)]
pub struct Certificate(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    der: Vec<u8>,
    tbs: Vec<u8>,
    version: u32,
    serial: Vec<u8>,
    signature_algorithm: Result<SignatureAlgorithm, SignatureError>,
    signature: Vec<u8>,
    issuer: Name,
    subject: Name,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    public_key: PublicKey,
    spki_der: Vec<u8>,
    ext: Extensions,
    defects: Vec<Defect>,
    fingerprint: [u8; 32],
}

/// The extensions the validator reads (RFC 5280 §4.2.1), owned.
#[derive(Debug, Default, Clone)]
pub struct Extensions {
    pub basic_constraints: Option<BasicConstraints>,
    /// KeyUsage bits, bit 0 = digitalSignature (RFC 5280 §4.2.1.3 numbering).
    pub key_usage: Option<u16>,
    pub extended_key_usage: Option<Vec<String>>,
    pub extended_key_usage_critical: bool,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    pub subject_alt_names: Option<Vec<GeneralName>>,
    pub name_constraints: Option<NameConstraints>,
    pub policies: Option<Vec<String>>,
    pub policy_mappings: Option<Vec<(String, String)>>,
    pub require_explicit_policy: Option<u32>,
    pub inhibit_policy_mapping: Option<u32>,
    pub inhibit_any_policy: Option<u32>,
    pub crl_distribution_points: Vec<DistributionPoint>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuer_urls: Vec<String>,
    pub ocsp_no_check: bool,
    /// Critical extensions kyso does not understand (RFC 5280 §4.2: such a certificate must be
    /// rejected when it is used).
    pub unknown_critical: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u32>,
    pub critical: bool,
}

#[derive(Debug, Clone)]
pub struct NameConstraints {
    pub permitted: Option<Vec<GeneralName>>,
    pub excluded: Vec<GeneralName>,
    pub critical: bool,
}

/// A CRL distribution point (RFC 5280 §4.2.1.13).
#[derive(Debug, Clone, Default)]
pub struct DistributionPoint {
    /// fullName, or nameRelativeToCRLIssuer already joined to the CRL issuer's name.
    pub names: Option<Vec<GeneralName>>,
    /// ReasonFlags bits, None for "all reasons".
    pub reasons: Option<u16>,
    pub crl_issuer: Option<Vec<GeneralName>>,
}

/// A violation of the RFC 5280 certificate profile found while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    DuplicateExtension(String),
    MalformedExtension(String),
    /// An extension RFC 5280 says MUST be non-critical was marked critical.
    MustBeNonCritical(&'static str),
    /// A subjectAltName dNSName outside the preferred name syntax (RFC 5280 §4.2.1.6).
    InvalidDnsName(String),
    EmptySubjectWithoutCriticalSan,
    SanEmpty,
    EkuEmpty,
    SerialTooLong(usize),
    SignatureAlgorithmMismatch,
    SignatureUnusedBits,
    KeyCertSignWithoutCa,
    ExtensionsInV1OrV2,
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Defect::DuplicateExtension(oid) => write!(f, "extension {oid} appears twice"),
            Defect::MalformedExtension(oid) => write!(f, "extension {oid} is malformed"),
            Defect::MustBeNonCritical(what) => write!(f, "{what} must not be critical"),
            Defect::InvalidDnsName(name) => {
                write!(f, "subjectAltName dNSName {name:?} is not a host name")
            }
            Defect::EmptySubjectWithoutCriticalSan => {
                f.write_str("empty subject requires a critical subjectAltName")
            }
            Defect::SanEmpty => f.write_str("subjectAltName has no names"),
            Defect::EkuEmpty => f.write_str("extendedKeyUsage has no purposes"),
            Defect::SerialTooLong(n) => write!(f, "serial number is {n} octets, more than 20"),
            Defect::SignatureAlgorithmMismatch => {
                f.write_str("signatureAlgorithm differs from tbsCertificate.signature")
            }
            Defect::SignatureUnusedBits => f.write_str("signature BIT STRING has unused bits"),
            Defect::KeyCertSignWithoutCa => f.write_str("keyCertSign asserted without cA"),
            Defect::ExtensionsInV1OrV2 => f.write_str("extensions in a v1/v2 certificate"),
        }
    }
}

/// KeyUsage bit positions (RFC 5280 §4.2.1.3).
pub mod key_usage {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const NON_REPUDIATION: u16 = 1 << 1;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
}

/// RFC 5280 §4.1.2.2: "Certificate users MUST be able to handle serialNumber values up to 20
/// octets"; longer ones are non-conforming.
const MAX_SERIAL_OCTETS: usize = 20;

impl Certificate {
    /// Parses one DER certificate. Fails on bytes that are not a certificate; profile defects
    /// are recorded and reported when the certificate is used in a path.
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        // x509-parser is lenient about the envelope (an outer length running past the input,
        // the tags of the outer AlgorithmIdentifier); it is checked strictly here so the bytes
        // kept and fingerprinted have exactly one reading.
        let signature_fields_match = envelope(der).map_err(|e| Error::BadCertificate {
            reason: e.to_string(),
        })?;
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| Error::BadCertificate {
            reason: e.to_string(),
        })?;
        if !rest.is_empty() {
            return Err(Error::BadCertificate {
                reason: format!("{} trailing bytes after the certificate", rest.len()),
            });
        }

        let mut inner = Inner::build(der, &cert)?;
        if !signature_fields_match && !inner.defects.contains(&Defect::SignatureAlgorithmMismatch) {
            inner.defects.push(Defect::SignatureAlgorithmMismatch);
        }
        if cert.signature_value.unused_bits != 0 {
            // A signature is a whole number of octets; other values only make a second encoding
            // of the same signed certificate.
            inner.defects.push(Defect::SignatureUnusedBits);
        }
        Ok(Certificate(Arc::new(inner)))
    }

    /// Parses every certificate in a PEM text (CERTIFICATE blocks), or a single DER one.
    pub fn from_pem_or_der(data: &[u8]) -> Result<Vec<Certificate>, Error> {
        if data.first() == Some(&0x30) {
            return Ok(vec![Certificate::from_der(data)?]);
        }
        let mut out = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(data) {
            let pem = pem.map_err(|e| Error::BadCertificate {
                reason: format!("PEM: {e}"),
            })?;
            if pem.label == "CERTIFICATE" {
                out.push(Certificate::from_der(&pem.contents)?);
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
    pub fn version(&self) -> u32 {
        self.0.version
    }
    /// The serial number's INTEGER content octets, as encoded.
    pub fn serial(&self) -> &[u8] {
        &self.0.serial
    }
    pub fn issuer(&self) -> &Name {
        &self.0.issuer
    }
    pub fn subject(&self) -> &Name {
        &self.0.subject
    }
    pub fn not_before(&self) -> OffsetDateTime {
        self.0.not_before
    }
    pub fn not_after(&self) -> OffsetDateTime {
        self.0.not_after
    }
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public_key
    }
    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.0.spki_der
    }
    pub fn extensions(&self) -> &Extensions {
        &self.0.ext
    }
    pub fn defects(&self) -> &[Defect] {
        &self.0.defects
    }
    pub fn signature_algorithm(&self) -> Result<&SignatureAlgorithm, &SignatureError> {
        self.0.signature_algorithm.as_ref()
    }
    pub fn signature(&self) -> &[u8] {
        &self.0.signature
    }
    /// SHA-256 of the DER, used as identity in caches and loop detection.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.0.fingerprint
    }
    /// Issuer and subject names match (RFC 5280 §6.1: "self-issued").
    pub fn is_self_issued(&self) -> bool {
        self.0.issuer == self.0.subject
    }
    /// basicConstraints with cA true.
    pub fn is_ca(&self) -> bool {
        self.0.ext.basic_constraints.is_some_and(|b| b.ca)
    }
    pub fn has_key_usage(&self, bit: u16) -> bool {
        self.0.ext.key_usage.is_none_or(|ku| ku & bit != 0)
    }

    /// A short human description for error messages.
    pub fn describe(&self) -> String {
        format!(
            "{} (serial {})",
            self.0.subject,
            hex::encode(&self.0.serial)
        )
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.0.fingerprint == other.0.fingerprint
    }
}
impl Eq for Certificate {}

impl Inner {
    fn build(der: &[u8], cert: &X509Certificate<'_>) -> Result<Inner, Error> {
        let tbs = &cert.tbs_certificate;
        let mut defects = Vec::new();

        let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
        let params_der = cert
            .signature_algorithm
            .parameters
            .as_ref()
            .map(|p| any_to_der(p));
        let signature_algorithm =
            SignatureAlgorithm::from_oid_and_params(&sig_oid, params_der.as_deref());

        let serial = tbs.raw_serial().to_vec();
        let serial_len = match serial.as_slice() {
            [0, rest @ ..] if !rest.is_empty() => rest.len(),
            s => s.len(),
        };
        if serial_len > MAX_SERIAL_OCTETS {
            defects.push(Defect::SerialTooLong(serial_len));
        }

        let subject = Name::from_parsed(tbs.subject());
        let issuer = Name::from_parsed(tbs.issuer());
        let version = tbs.version.0;
        if version < 2 && !tbs.extensions().is_empty() {
            defects.push(Defect::ExtensionsInV1OrV2);
        }

        let ext = parse_extensions(cert, &subject, &mut defects);
        if ext
            .key_usage
            .is_some_and(|ku| ku & key_usage::KEY_CERT_SIGN != 0)
            && !ext.basic_constraints.is_some_and(|b| b.ca)
        {
            defects.push(Defect::KeyCertSignWithoutCa);
        }

        let fingerprint: [u8; 32] = {
            let digest = crate::signer::DigestAlgorithm::Sha256.digest(der);
            let mut out = [0u8; 32];
            out.copy_from_slice(&digest);
            out
        };
        Ok(Inner {
            der: der.to_vec(),
            tbs: tbs.as_ref().to_vec(),
            version,
            serial,
            signature_algorithm,
            signature: cert.signature_value.data.to_vec(),
            issuer,
            subject,
            not_before: tbs.validity().not_before.to_datetime(),
            not_after: tbs.validity().not_after.to_datetime(),
            public_key: PublicKey::from_spki(tbs.public_key()),
            spki_der: tbs.public_key().raw.to_vec(),
            ext,
            defects,
            fingerprint,
        })
    }
}

/// Checks `SEQUENCE { tbs SEQUENCE, signatureAlgorithm SEQUENCE { OID, .. }, BIT STRING }`
/// (RFC 5280 §4.1, also the shape of a CertificateList §5.1) and returns whether the outer
/// signatureAlgorithm is byte-for-byte the one inside the signed part (§4.1.1.2, §5.1.1.2).
/// `certificate` says whether the signed part starts with [0] version and a serial number.
pub(crate) fn signed_envelope(
    data: &[u8],
    what: &'static str,
    certificate: bool,
) -> Result<bool, ber::Error> {
    // DER: the bytes kept, fingerprinted and hashed for the signature have one reading.
    let outer = ber::der(data, what)?.expect(tag::SEQUENCE, "a SEQUENCE")?;
    let mut r = outer.fields();
    let tbs = r.expect(tag::SEQUENCE, "the signed part, a SEQUENCE")?;
    let alg = r.expect(tag::SEQUENCE, "signatureAlgorithm, a SEQUENCE")?;
    r.expect(tag::BIT_STRING, "signatureValue, a BIT STRING")?;
    r.finish(what)?;
    alg.fields()
        .expect(tag::OID, "the signature algorithm's OBJECT IDENTIFIER")?;
    let mut t = tbs.fields();
    if certificate {
        t.optional(tag::context_constructed(0))?;
        t.expect(tag::INTEGER, "serialNumber, an INTEGER")?;
    } else {
        t.optional(tag::INTEGER)?;
    }
    let inner = t.expect(tag::SEQUENCE, "signature, a SEQUENCE")?;
    Ok(inner.raw == alg.raw)
}

fn envelope(data: &[u8]) -> Result<bool, ber::Error> {
    signed_envelope(data, "Certificate", true)
}

/// Re-encodes an `Any` (tag, length, content) as DER.
pub(crate) fn any_to_der(any: &x509_parser::asn1_rs::Any<'_>) -> Vec<u8> {
    let header = &any.header;
    let class = match header.class() as u8 {
        0 => ber::Class::Universal,
        1 => ber::Class::Application,
        2 => ber::Class::Context,
        _ => ber::Class::Private,
    };
    let any_tag = ber::Tag {
        class,
        constructed: header.is_constructed(),
        number: header.tag().0,
    };
    der::tlv(any_tag, any.data)
}

fn parse_extensions(
    cert: &X509Certificate<'_>,
    subject: &Name,
    defects: &mut Vec<Defect>,
) -> Extensions {
    let mut ext = Extensions::default();
    let mut seen = HashSet::new();
    let mut san_critical = false;
    for e in cert.tbs_certificate.extensions() {
        let id = e.oid.to_id_string();
        if !seen.insert(id.clone()) {
            defects.push(Defect::DuplicateExtension(id.clone()));
        }
        let critical = e.critical;
        match e.parsed_extension() {
            ParsedExtension::ParseError { .. } => {
                defects.push(Defect::MalformedExtension(id.clone()));
                if critical {
                    ext.unknown_critical.push(id);
                }
            }
            ParsedExtension::BasicConstraints(bc) => {
                ext.basic_constraints = Some(BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                    critical,
                });
            }
            ParsedExtension::KeyUsage(ku) => ext.key_usage = Some(ku.flags),
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut v: Vec<String> = Vec::new();
                let purposes = [
                    (eku.any, oid::ANY_EXTENDED_KEY_USAGE),
                    (eku.server_auth, oid::KP_SERVER_AUTH),
                    (eku.client_auth, oid::KP_CLIENT_AUTH),
                    (eku.code_signing, oid::KP_CODE_SIGNING),
                    (eku.email_protection, oid::KP_EMAIL_PROTECTION),
                    (eku.time_stamping, oid::KP_TIME_STAMPING),
                    (eku.ocsp_signing, oid::KP_OCSP_SIGNING),
                ];
                for (_, purpose) in purposes.iter().filter(|(asserted, _)| *asserted) {
                    v.push(purpose.dotted().to_owned());
                }
                v.extend(eku.other.iter().map(|o| o.to_id_string()));
                if v.is_empty() {
                    defects.push(Defect::EkuEmpty);
                }
                ext.extended_key_usage = Some(v);
                ext.extended_key_usage_critical = critical;
            }
            ParsedExtension::SubjectKeyIdentifier(k) => {
                if critical {
                    defects.push(Defect::MustBeNonCritical("subjectKeyIdentifier"));
                }
                ext.subject_key_id = Some(k.0.to_vec());
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                if critical {
                    defects.push(Defect::MustBeNonCritical("authorityKeyIdentifier"));
                }
                ext.authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                san_critical = critical;
                if san.general_names.is_empty() {
                    defects.push(Defect::SanEmpty);
                }
                let names: Vec<GeneralName> = san
                    .general_names
                    .iter()
                    .map(GeneralName::from_parsed)
                    .collect();
                if names.contains(&GeneralName::Invalid) {
                    defects.push(Defect::MalformedExtension(id.clone()));
                }
                for n in &names {
                    if let GeneralName::Dns(d) = n {
                        // A leading "*." label is the usual wildcard; the rest must be a host name.
                        let bare = d.strip_prefix("*.").unwrap_or(d);
                        if !crate::pki::name::is_dns_name(bare) {
                            defects.push(Defect::InvalidDnsName(d.clone()));
                        }
                    }
                }
                ext.subject_alt_names = Some(names);
            }
            ParsedExtension::IssuerAlternativeName(_) => {}
            ParsedExtension::NameConstraints(nc) => {
                let conv =
                    |v: &Vec<x509_parser::extensions::GeneralSubtree<'_>>| -> Vec<GeneralName> {
                        v.iter()
                            .map(|s| GeneralName::from_parsed(&s.base))
                            .collect()
                    };
                ext.name_constraints = Some(NameConstraints {
                    permitted: nc.permitted_subtrees.as_ref().map(conv),
                    excluded: nc.excluded_subtrees.as_ref().map(conv).unwrap_or_default(),
                    critical,
                });
            }
            ParsedExtension::CertificatePolicies(p) => {
                let ids: Vec<String> = p.iter().map(|pi| pi.policy_id.to_id_string()).collect();
                let unique: HashSet<&String> = ids.iter().collect();
                if unique.len() != ids.len() {
                    // RFC 5280 §4.2.1.4: "A certificate policy OID MUST NOT appear more than once".
                    defects.push(Defect::MalformedExtension(id.clone()));
                }
                ext.policies = Some(ids);
            }
            ParsedExtension::PolicyMappings(m) => {
                ext.policy_mappings = Some(
                    m.mappings
                        .iter()
                        .map(|pm| {
                            (
                                pm.issuer_domain_policy.to_id_string(),
                                pm.subject_domain_policy.to_id_string(),
                            )
                        })
                        .collect(),
                );
            }
            ParsedExtension::PolicyConstraints(pc) => {
                // RFC 5280 §4.2.1.11 says CAs MUST mark it critical, but NIST PKITS (4.8.x,
                // 4.10.x) expects non-critical ones to be honoured, so no defect is recorded.
                if pc.require_explicit_policy.is_none() && pc.inhibit_policy_mapping.is_none() {
                    defects.push(Defect::MalformedExtension(id.clone()));
                }
                ext.require_explicit_policy = pc.require_explicit_policy;
                ext.inhibit_policy_mapping = pc.inhibit_policy_mapping;
            }
            ParsedExtension::InhibitAnyPolicy(i) => ext.inhibit_any_policy = Some(i.skip_certs),
            ParsedExtension::CRLDistributionPoints(_) => {
                // x509-parser 0.18 drops nameRelativeToCRLIssuer and cRLIssuer; read the
                // extension value directly.
                match parse_distribution_points(e.value, cert.tbs_certificate.issuer().as_raw()) {
                    Some(dps) => ext.crl_distribution_points = dps,
                    None => defects.push(Defect::MalformedExtension(id.clone())),
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                if critical {
                    defects.push(Defect::MustBeNonCritical("authorityInfoAccess"));
                }
                for ad in &aia.accessdescs {
                    let method = ad.access_method.to_id_string();
                    if let x509_parser::extensions::GeneralName::URI(u) = &ad.access_location {
                        if method == oid::AD_OCSP {
                            ext.ocsp_urls.push((*u).to_owned());
                        } else if method == oid::AD_CA_ISSUERS {
                            ext.ca_issuer_urls.push((*u).to_owned());
                        }
                    }
                }
            }
            ParsedExtension::SubjectInfoAccess(_) => {
                if critical {
                    defects.push(Defect::MustBeNonCritical("subjectInfoAccess"));
                }
            }
            _ => {
                if id == oid::OCSP_NO_CHECK {
                    ext.ocsp_no_check = true;
                } else if id == oid::FRESHEST_CRL {
                    // Pointer to delta CRLs; nothing to enforce on the certificate itself.
                } else if critical {
                    ext.unknown_critical.push(id);
                }
            }
        }
    }
    if subject.is_empty() && ext.subject_alt_names.is_some() && !san_critical {
        defects.push(Defect::EmptySubjectWithoutCriticalSan);
    }
    ext
}

/// CRLDistributionPoints (RFC 5280 §4.2.1.13):
///
/// ```text
/// DistributionPoint ::= SEQUENCE {
///      distributionPoint       [0]     DistributionPointName OPTIONAL,
///      reasons                 [1]     ReasonFlags OPTIONAL,
///      cRLIssuer               [2]     GeneralNames OPTIONAL }
/// DistributionPointName ::= CHOICE {
///      fullName                [0]     GeneralNames,
///      nameRelativeToCRLIssuer [1]     RelativeDistinguishedName }
/// ```
fn parse_distribution_points(value: &[u8], cert_issuer: &[u8]) -> Option<Vec<DistributionPoint>> {
    let seq = ber::der(value, "CRLDistributionPoints")
        .and_then(|e| e.expect(tag::SEQUENCE, "a SEQUENCE"))
        .ok()?;
    let mut out = Vec::new();
    for dp in seq.children() {
        let dp = dp.ok()?.expect(tag::SEQUENCE, "a DistributionPoint").ok()?;
        let mut d = dp.fields();
        let name = d.optional(tag::context_constructed(0)).ok()?;
        let reasons = d.optional(tag::context(1)).ok()?;
        let issuer = d.optional(tag::context_constructed(2)).ok()?;
        d.finish("DistributionPoint").ok()?;
        let crl_issuer = match issuer {
            Some(i) => Some(general_names(i.content)?),
            None => None,
        };
        let names = match name {
            Some(n) => {
                let bases: Vec<Vec<u8>> = match &crl_issuer {
                    Some(list) => list
                        .iter()
                        .filter_map(|g| match g {
                            GeneralName::Directory(k) => Some(k.0.der().to_vec()),
                            _ => None,
                        })
                        .collect(),
                    None => vec![cert_issuer.to_vec()],
                };
                Some(distribution_point_name(n.content, &bases)?)
            }
            None => None,
        };
        out.push(DistributionPoint {
            names,
            reasons: match reasons {
                Some(r) => Some(reason_flags(r.content)?),
                None => None,
            },
            crl_issuer,
        });
    }
    Some(out)
}

/// A DistributionPointName (the content of its `[0]` wrapper); a nameRelativeToCRLIssuer is
/// appended to each of `bases` (DER Names), per RFC 5280 §4.2.1.13.
pub(crate) fn distribution_point_name(
    content: &[u8],
    bases: &[Vec<u8>],
) -> Option<Vec<GeneralName>> {
    let choice = ber::der(content, "DistributionPointName").ok()?;
    if choice.is(tag::context_constructed(0)) {
        general_names(choice.content)
    } else if choice.is(tag::context_constructed(1)) {
        // [1] IMPLICIT RelativeDistinguishedName: the RDN's SET content.
        let rdn = der::tlv(tag::SET, choice.content);
        let mut out = Vec::new();
        for base in bases {
            let name = ber::der(base, "Name")
                .and_then(|e| e.expect(tag::SEQUENCE, "a Name SEQUENCE"))
                .ok()?;
            let mut content = name.content.to_vec();
            content.extend_from_slice(&rdn);
            let full = der::tlv(tag::SEQUENCE, &content);
            let (_, name) = x509_parser::x509::X509Name::from_der(&full).ok()?;
            out.push(GeneralName::Directory(NameKey(Name::from_parsed(&name))));
        }
        Some(out)
    } else {
        None
    }
}

/// The elements of a GeneralNames (content octets of the SEQUENCE or of an IMPLICIT tag).
pub(crate) fn general_names(content: &[u8]) -> Option<Vec<GeneralName>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (element, after) = ber::parse_der(rest).ok()?;
        let (_, g) = x509_parser::extensions::GeneralName::from_der(element.raw).ok()?;
        out.push(GeneralName::from_parsed(&g));
        rest = after;
    }
    Some(out)
}

/// ReasonFlags BIT STRING content (first octet: unused bits) as bit n = reason n.
pub(crate) fn reason_flags(content: &[u8]) -> Option<u16> {
    let (_, bits) = content.split_first()?;
    let mut flags = 0u16;
    for n in 0..16usize {
        if bits.get(n / 8).is_some_and(|b| b & (0x80 >> (n % 8)) != 0) {
            flags |= 1 << n;
        }
    }
    Some(flags)
}
