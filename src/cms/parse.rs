//! Reading CMS SignedData (RFC 5652 §5) from BER or DER, keeping the original bytes of what
//! was signed: the one SignedData reader, for document signatures, time-stamp tokens
//! (RFC 3161 §2.4.2) and the certs-only bundles CAs publish (RFC 8894 §3.4). Reading makes no
//! judgement: whether a signature holds is the verifier's question.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY }
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SET OF SignerInfo }
//! EncapsulatedContentInfo ::= SEQUENCE {
//!   eContentType ContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion, sid SignerIdentifier, digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier, signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```
//!
//! [`SignedData::parse`] reads what PDF signers write, BER included, and tolerates what they
//! get wrong without consequence (fields out of order, zero padding after the end).
//! [`SignedData::parse_der`] reads a time-stamp token as RFC 3161 has TSAs send it: DER, every
//! field in its place, nothing after.

use std::borrow::Cow;

use crate::ber::{self, Element, ObjectIdentifier, Rules, tag};
use crate::oid::{self, Oid};

/// Why a SignedData could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed CMS: {0}")]
    Ber(#[from] ber::Error),
    #[error("malformed CMS at byte {offset}: {reason}")]
    Structure { offset: usize, reason: &'static str },
    #[error("not a SignedData: content type {0}")]
    NotSignedData(String),
    #[error("not a time-stamp token: {0}")]
    NotTstInfo(String),
}

/// A parsed `SignedData`.
#[derive(Debug)]
pub struct SignedData<'a> {
    pub version: u64,
    pub digest_algorithms: Vec<ObjectIdentifier<'a>>,
    /// `eContentType`: id-data for PDF signatures, id-ct-TSTInfo for timestamp tokens.
    pub content_type: ObjectIdentifier<'a>,
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
    pub digest_algorithm: ObjectIdentifier<'a>,
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
    pub oid: ObjectIdentifier<'a>,
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
    pub oid: ObjectIdentifier<'a>,
    pub values: Vec<Element<'a>>,
}

impl<'a> SignedData<'a> {
    /// Parses a `ContentInfo` holding a `SignedData`, BER or DER. Bytes after it are tolerated
    /// (PDF pads `/Contents` with zeros) and reported in `trailing_garbage` when not zero.
    pub fn parse(input: &'a [u8]) -> Result<SignedData<'a>, ParseError> {
        let (content_info, rest) = ber::parse(input)?;
        let mut signed = Reader { rules: Rules::Ber }.signed_data(content_info)?;
        // The padding is most of a PDF signature's /Contents: checked a block at a time, with
        // no exit inside a block, so that the compiler checks many bytes per instruction.
        signed.trailing_garbage = rest
            .chunks(64)
            .any(|block| block.iter().fold(0u8, |any, &b| any | b) != 0);
        Ok(signed)
    }

    /// Parses exactly one DER `ContentInfo` holding a `SignedData` with every field where RFC
    /// 5652 puts it and nothing after any of them: a time-stamp token (RFC 3161 §2.4.2 has TSAs
    /// answer in DER), whose bytes then have one reading only.
    pub fn parse_der(input: &'a [u8]) -> Result<SignedData<'a>, ParseError> {
        let content_info = ber::der(input, "the ContentInfo")?;
        Reader { rules: Rules::Der }.signed_data(content_info)
    }
}

impl<'a> SignedAttributes<'a> {
    /// The attribute of this type, if present.
    pub fn get(&self, attribute_type: Oid) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.oid.is(attribute_type))
    }

    /// How many attributes of this type there are (CAdES allows one of each).
    pub fn count(&self, attribute_type: Oid) -> usize {
        self.attributes
            .iter()
            .filter(|a| a.oid.is(attribute_type))
            .count()
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
    pub fn content_type(&self) -> Option<ObjectIdentifier<'a>> {
        match self.get(oid::CONTENT_TYPE)?.values.as_slice() {
            [value] => value.oid().ok(),
            _ => None,
        }
    }
}

/// `eContentType` and the value of `eContent`, if present.
type Encapsulated<'a> = (ObjectIdentifier<'a>, Option<Cow<'a, [u8]>>);

/// Reads under one set of rules: under [`Rules::Der`] the structure is read strictly too.
struct Reader {
    rules: Rules,
}

impl Reader {
    fn strict(&self) -> bool {
        self.rules == Rules::Der
    }

    fn signed_data<'a>(&self, content_info: Element<'a>) -> Result<SignedData<'a>, ParseError> {
        let content_info = content_info.expect(tag::SEQUENCE, "a ContentInfo SEQUENCE")?;
        let mut parts = content_info.fields();
        let content_type = parts.field("contentType")?.oid()?;
        if !content_type.is(oid::SIGNED_DATA) {
            return Err(ParseError::NotSignedData(content_type.to_string()));
        }
        let explicit = parts.field("content [0]")?;
        if !explicit.is_context(0) {
            return Err(structure(explicit, "expected content [0] EXPLICIT"));
        }
        if let Some(extra) = parts.next().transpose()? {
            return Err(structure(extra, "data after the ContentInfo's content"));
        }
        let mut inside = explicit.fields();
        let signed_data = inside
            .field("content")
            .map_err(|_| structure(explicit, "empty content"))?
            .expect(tag::SEQUENCE, "a SignedData SEQUENCE")?;
        if self.strict() {
            inside.finish("the SignedData")?;
        }
        let mut fields = signed_data.fields();
        let version = fields.field("version")?.small_unsigned()?;
        let digest_set = fields.expect(tag::SET, "digestAlgorithms SET")?;
        let mut digest_algorithms = Vec::new();
        for algorithm in digest_set.children() {
            digest_algorithms.push(self.digest_algorithm(algorithm?)?);
        }
        let encap = fields.expect(tag::SEQUENCE, "encapContentInfo SEQUENCE")?;
        let (content_type, content) = self.encapsulated(encap)?;

        let mut certificates = Vec::new();
        let mut crls = Vec::new();
        let signer_set = if self.strict() {
            if let Some(set) = fields.optional(tag::context_constructed(0))? {
                certificates = Self::sequences(set)?;
            }
            if let Some(set) = fields.optional(tag::context_constructed(1))? {
                crls = Self::sequences(set)?;
            }
            let signer_set = fields.expect(tag::SET, "signerInfos SET")?;
            fields.finish("signerInfos")?;
            signer_set
        } else {
            // PDF signers are read as found: the optional fields in any order, the last SET
            // taken for the signerInfos.
            let mut signer_set = None;
            for field in fields {
                let field = field?;
                if field.is_context(0) {
                    certificates.extend(Self::sequences(field)?);
                } else if field.is_context(1) {
                    crls.extend(Self::sequences(field)?);
                } else if field.is(tag::SET) {
                    signer_set = Some(field);
                }
            }
            signer_set.ok_or_else(|| structure(signed_data, "no signerInfos"))?
        };
        let mut signer_infos = Vec::new();
        for info in signer_set.children() {
            signer_infos.push(self.signer_info(info?)?);
        }
        Ok(SignedData {
            version,
            digest_algorithms,
            content_type,
            content,
            certificates,
            crls,
            signer_infos,
            trailing_garbage: false,
        })
    }

    /// `eContentType` and the value of `eContent`, if present.
    fn encapsulated<'a>(&self, encap: Element<'a>) -> Result<Encapsulated<'a>, ParseError> {
        let mut fields = encap.fields();
        let content_type = fields.field("eContentType")?.oid()?;
        let content = match fields.next().transpose()? {
            Some(e) if e.is_context(0) => {
                let mut inside = e.fields();
                let octets = inside
                    .field("eContent")
                    .map_err(|_| structure(e, "empty eContent"))?;
                if self.strict() {
                    octets.expect(tag::OCTET_STRING, "an eContent OCTET STRING")?;
                    inside.finish("eContent")?;
                }
                Some(octets.octets()?)
            }
            Some(e) => return Err(structure(e, "expected eContent [0]")),
            None => None,
        };
        if self.strict() {
            fields.finish("encapContentInfo")?;
        }
        Ok((content_type, content))
    }

    /// The SEQUENCE choices of a CertificateSet or RevocationInfoChoices, as they arrived (with
    /// definite lengths). Other choices (attribute certificates, other revocation formats) are
    /// tagged and of no use to kyso.
    fn sequences(set: Element<'_>) -> Result<Vec<Cow<'_, [u8]>>, ParseError> {
        let mut out = Vec::new();
        for item in set.children() {
            let item = item?;
            if item.is(tag::SEQUENCE) {
                out.push(item.definite()?);
            }
        }
        Ok(out)
    }

    fn signer_info<'a>(&self, info: Element<'a>) -> Result<SignerInfo<'a>, ParseError> {
        let info = info.expect(tag::SEQUENCE, "a SignerInfo SEQUENCE")?;
        let mut fields = info.fields();
        let version = fields.field("SignerInfo version")?.small_unsigned()?;
        let sid_element = fields.field("sid")?;
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
        let digest_algorithm = self.digest_algorithm(fields.field("digestAlgorithm")?)?;
        let mut element = fields.field("signatureAlgorithm")?;
        let signed_attributes = if element.is_context(0) {
            let mut signed_bytes = element.definite()?.into_owned();
            // [0] IMPLICIT → SET OF: the signature covers the universal SET tag (RFC 5652 §5.4).
            signed_bytes[0] = 0x31;
            let attributes = self.attributes(element)?;
            element = fields.field("signatureAlgorithm")?;
            Some(SignedAttributes {
                signed_bytes: Cow::Owned(signed_bytes),
                attributes,
            })
        } else {
            None
        };
        let signature_algorithm = self.algorithm_identifier(element)?;
        let signature_element = fields.field("signature")?;
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
                unsigned_attributes = self.attributes(unsigned)?;
            } else {
                return Err(structure(unsigned, "expected unsignedAttrs [1]"));
            }
        }
        if self.strict() {
            fields.finish("unsignedAttrs")?;
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

    fn attributes<'a>(&self, set: Element<'a>) -> Result<Vec<Attribute<'a>>, ParseError> {
        let mut out = Vec::new();
        for attribute in set.children() {
            let attribute = attribute?.expect(tag::SEQUENCE, "an Attribute SEQUENCE")?;
            let mut parts = attribute.fields();
            let oid = parts.field("attrType")?.oid()?;
            let values = parts.expect(tag::SET, "attrValues SET")?;
            if self.strict() {
                parts.finish("attrValues")?;
            }
            out.push(Attribute {
                oid,
                values: values.child_vec()?,
            });
        }
        Ok(out)
    }

    /// A `DigestAlgorithmIdentifier`; read strictly, its parameters absent or NULL (RFC 5754
    /// §2, RFC 3370 §2.1), since nothing signs them and a second form would be a second token.
    fn digest_algorithm<'a>(
        &self,
        element: Element<'a>,
    ) -> Result<ObjectIdentifier<'a>, ParseError> {
        let algorithm = self.algorithm_identifier(element)?;
        match algorithm.parameters {
            Some(p) if self.strict() && p != [0x05, 0x00] => Err(structure(
                element,
                "digest algorithm parameters are neither absent nor NULL",
            )),
            _ => Ok(algorithm.oid),
        }
    }

    fn algorithm_identifier<'a>(
        &self,
        element: Element<'a>,
    ) -> Result<AlgorithmIdentifier<'a>, ParseError> {
        let element = element.expect(tag::SEQUENCE, "an AlgorithmIdentifier SEQUENCE")?;
        let mut parts = element.fields();
        let oid = parts.field("algorithm")?.oid()?;
        let parameters = parts.next().transpose()?.map(|p| p.raw);
        if self.strict() {
            parts.finish("the AlgorithmIdentifier's parameters")?;
        }
        Ok(AlgorithmIdentifier { oid, parameters })
    }
}

fn structure(element: Element<'_>, reason: &'static str) -> ParseError {
    ParseError::Structure {
        offset: element.offset,
        reason,
    }
}
