//! Reading CMS SignedData (RFC 5652 §5) from BER or DER, keeping the original bytes of what
//! was signed. Reading makes no judgement: whether a signature holds is the verifier's question.

use std::borrow::Cow;

use crate::ber::{self, Element, Oid, tag};

use super::oid;

/// Why a SignedData could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed CMS: {0}")]
    Ber(#[from] ber::Error),
    #[error("malformed CMS at byte {offset}: {reason}")]
    Structure { offset: usize, reason: &'static str },
    #[error("not a SignedData: content type {0}")]
    NotSignedData(String),
}

/// A parsed `SignedData`.
#[derive(Debug)]
pub struct SignedData<'a> {
    pub version: u64,
    pub digest_algorithms: Vec<Oid>,
    /// `eContentType`: id-data for PDF signatures, id-ct-TSTInfo for timestamp tokens.
    pub content_type: Oid,
    /// `eContent`, present in attached signatures and timestamp tokens.
    pub content: Option<Cow<'a, [u8]>>,
    /// Every certificate of the `certificates` field, as it arrived.
    pub certificates: Vec<Cow<'a, [u8]>>,
    /// `CertificateList`s of the `crls` field.
    pub crls: Vec<Cow<'a, [u8]>>,
    pub signer_infos: Vec<SignerInfo<'a>>,
    /// Bytes after the `ContentInfo` (a PDF's `/Contents` is zero-padded): whether any is not zero.
    pub trailing_garbage: bool,
}

/// A parsed `SignerInfo`.
#[derive(Debug)]
pub struct SignerInfo<'a> {
    pub version: u64,
    pub sid: SignerId<'a>,
    pub digest_algorithm: Oid,
    pub signed_attributes: Option<SignedAttributes<'a>>,
    pub signature_algorithm: AlgorithmIdentifier<'a>,
    pub signature: Cow<'a, [u8]>,
    pub unsigned_attributes: Vec<Attribute<'a>>,
}

/// `SignerIdentifier ::= CHOICE { issuerAndSerialNumber, subjectKeyIdentifier [0] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerId<'a> {
    IssuerAndSerial {
        /// The issuer `Name`, DER as it arrived.
        issuer: &'a [u8],
        /// The serial number's INTEGER content octets.
        serial: &'a [u8],
    },
    SubjectKeyIdentifier(Cow<'a, [u8]>),
}

/// An `AlgorithmIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmIdentifier<'a> {
    pub oid: Oid,
    /// The parameters element as it arrived, if any.
    pub parameters: Option<&'a [u8]>,
}

/// The signed attributes and the exact bytes the signature covers.
#[derive(Debug)]
pub struct SignedAttributes<'a> {
    /// The attributes as it arrived with the `[0]` tag replaced by SET OF (RFC 5652 §5.4). Only
    /// indefinite lengths are made definite; nothing is re-sorted or re-encoded.
    pub signed_bytes: Cow<'a, [u8]>,
    pub attributes: Vec<Attribute<'a>>,
}

/// One attribute: its type and values.
#[derive(Debug, Clone)]
pub struct Attribute<'a> {
    pub oid: Oid,
    pub values: Vec<Element<'a>>,
}

impl<'a> SignedData<'a> {
    /// Parses a `ContentInfo` holding a `SignedData`. Bytes after it are tolerated (PDF pads
    /// `/Contents` with zeros) and reported in `trailing_garbage` when not zero.
    pub fn parse(input: &'a [u8]) -> Result<SignedData<'a>, ParseError> {
        let (content_info, rest) = ber::parse(input)?;
        let content_info = content_info.expect(tag::SEQUENCE, "a ContentInfo SEQUENCE")?;
        let mut parts = content_info.children();
        let content_type = next(&mut parts, content_info, "contentType")?.oid()?;
        if !content_type.is(oid::SIGNED_DATA) {
            return Err(ParseError::NotSignedData(content_type.to_string()));
        }
        let explicit = next(&mut parts, content_info, "content [0]")?;
        if !explicit.is_context(0) {
            return Err(structure(explicit, "expected content [0] EXPLICIT"));
        }
        if let Some(extra) = parts.next().transpose()? {
            return Err(structure(extra, "data after the ContentInfo's content"));
        }
        let signed_data = explicit
            .children()
            .next()
            .ok_or_else(|| structure(explicit, "empty content"))??
            .expect(tag::SEQUENCE, "a SignedData SEQUENCE")?;
        let mut fields = signed_data.children();
        let version = next(&mut fields, signed_data, "version")?.small_unsigned()?;
        let digest_set = next(&mut fields, signed_data, "digestAlgorithms")?
            .expect(tag::SET, "digestAlgorithms SET")?;
        let mut digest_algorithms = Vec::new();
        for algorithm in digest_set.children() {
            digest_algorithms.push(algorithm_identifier(algorithm?)?.oid);
        }
        let encap = next(&mut fields, signed_data, "encapContentInfo")?
            .expect(tag::SEQUENCE, "encapContentInfo SEQUENCE")?;
        let mut encap_fields = encap.children();
        let content_type = next(&mut encap_fields, encap, "eContentType")?.oid()?;
        let content = match encap_fields.next().transpose()? {
            Some(e) if e.is_context(0) => {
                let octets = e
                    .children()
                    .next()
                    .ok_or_else(|| structure(e, "empty eContent"))??;
                Some(octets.octets()?)
            }
            Some(e) => return Err(structure(e, "expected eContent [0]")),
            None => None,
        };

        let mut certificates = Vec::new();
        let mut crls = Vec::new();
        let mut signer_set = None;
        for field in fields {
            let field = field?;
            if field.is_context(0) {
                for cert in field.children() {
                    let cert = cert?;
                    // Only X.509 certificates; attribute and other certificate formats are
                    // tagged and of no use to a PDF signature verifier.
                    if cert.is(tag::SEQUENCE) {
                        certificates.push(cert.definite()?);
                    }
                }
            } else if field.is_context(1) {
                for crl in field.children() {
                    let crl = crl?;
                    if crl.is(tag::SEQUENCE) {
                        crls.push(crl.definite()?);
                    }
                }
            } else if field.is(tag::SET) {
                signer_set = Some(field);
            }
        }
        let signer_set = signer_set.ok_or_else(|| structure(signed_data, "no signerInfos"))?;
        let mut signer_infos = Vec::new();
        for info in signer_set.children() {
            signer_infos.push(signer_info(info?)?);
        }
        Ok(SignedData {
            version,
            digest_algorithms,
            content_type,
            content,
            certificates,
            crls,
            signer_infos,
            trailing_garbage: rest.iter().any(|&b| b != 0),
        })
    }
}

impl<'a> SignedAttributes<'a> {
    /// The attribute of this type, if present.
    pub fn get(&self, arcs: &[u64]) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.oid.is(arcs))
    }

    /// How many attributes of this type there are (CAdES allows one of each).
    pub fn count(&self, arcs: &[u64]) -> usize {
        self.attributes.iter().filter(|a| a.oid.is(arcs)).count()
    }

    /// The `messageDigest` value: exactly one attribute with exactly one OCTET STRING.
    pub fn message_digest(&self) -> Option<Cow<'a, [u8]>> {
        let attribute = self.get(oid::MESSAGE_DIGEST)?;
        match attribute.values.as_slice() {
            [value] if value.is(tag::OCTET_STRING) => value.octets().ok(),
            _ => None,
        }
    }

    /// The `contentType` value.
    pub fn content_type(&self) -> Option<Oid> {
        match self.get(oid::CONTENT_TYPE)?.values.as_slice() {
            [value] => value.oid().ok(),
            _ => None,
        }
    }
}

fn signer_info(info: Element<'_>) -> Result<SignerInfo<'_>, ParseError> {
    let info = info.expect(tag::SEQUENCE, "a SignerInfo SEQUENCE")?;
    let mut fields = info.children();
    let version = next(&mut fields, info, "SignerInfo version")?.small_unsigned()?;
    let sid_element = next(&mut fields, info, "sid")?;
    let sid = if sid_element.is(tag::SEQUENCE) {
        let kids = sid_element.child_vec()?;
        match kids.as_slice() {
            [issuer, serial] if issuer.is(tag::SEQUENCE) && serial.is(tag::INTEGER) => {
                SignerId::IssuerAndSerial {
                    issuer: issuer.raw,
                    serial: serial.content,
                }
            }
            _ => return Err(structure(sid_element, "malformed issuerAndSerialNumber")),
        }
    } else if sid_element.is_context(0) {
        SignerId::SubjectKeyIdentifier(sid_element.octets()?)
    } else {
        return Err(structure(sid_element, "unknown SignerIdentifier"));
    };
    let digest_algorithm = algorithm_identifier(next(&mut fields, info, "digestAlgorithm")?)?.oid;
    let mut element = next(&mut fields, info, "signatureAlgorithm")?;
    let signed_attributes = if element.is_context(0) {
        let mut signed_bytes = element.definite()?.into_owned();
        // [0] IMPLICIT → SET OF: the signature covers the universal SET tag (RFC 5652 §5.4).
        signed_bytes[0] = 0x31;
        let attributes = attributes(element)?;
        element = next(&mut fields, info, "signatureAlgorithm")?;
        Some(SignedAttributes {
            signed_bytes: Cow::Owned(signed_bytes),
            attributes,
        })
    } else {
        None
    };
    let signature_algorithm = algorithm_identifier(element)?;
    let signature_element = next(&mut fields, info, "signature")?;
    if !signature_element.is(tag::OCTET_STRING) {
        return Err(structure(
            signature_element,
            "signature is not an OCTET STRING",
        ));
    }
    let signature = signature_element.octets()?;
    let mut unsigned_attributes = Vec::new();
    if let Some(unsigned) = fields.next().transpose()? {
        if unsigned.is_context(1) {
            unsigned_attributes = attributes(unsigned)?;
        } else {
            return Err(structure(unsigned, "expected unsignedAttrs [1]"));
        }
    }
    Ok(SignerInfo {
        version,
        sid,
        digest_algorithm,
        signed_attributes,
        signature_algorithm,
        signature,
        unsigned_attributes,
    })
}

fn attributes(set: Element<'_>) -> Result<Vec<Attribute<'_>>, ParseError> {
    let mut out = Vec::new();
    for attribute in set.children() {
        let attribute = attribute?.expect(tag::SEQUENCE, "an Attribute SEQUENCE")?;
        let mut parts = attribute.children();
        let oid = next(&mut parts, attribute, "attrType")?.oid()?;
        let values =
            next(&mut parts, attribute, "attrValues")?.expect(tag::SET, "attrValues SET")?;
        out.push(Attribute {
            oid,
            values: values.child_vec()?,
        });
    }
    Ok(out)
}

fn algorithm_identifier(element: Element<'_>) -> Result<AlgorithmIdentifier<'_>, ParseError> {
    let element = element.expect(tag::SEQUENCE, "an AlgorithmIdentifier SEQUENCE")?;
    let mut parts = element.children();
    let oid = next(&mut parts, element, "algorithm")?.oid()?;
    let parameters = parts.next().transpose()?.map(|p| p.raw);
    Ok(AlgorithmIdentifier { oid, parameters })
}

fn next<'a>(
    iter: &mut ber::Children<'a>,
    parent: Element<'a>,
    what: &'static str,
) -> Result<Element<'a>, ParseError> {
    iter.next()
        .transpose()?
        .ok_or_else(|| structure(parent, what))
}

fn structure(element: Element<'_>, reason: &'static str) -> ParseError {
    ParseError::Structure {
        offset: element.offset,
        reason,
    }
}
