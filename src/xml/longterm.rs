//! XAdES baseline B-LT and B-LTA (ETSI EN 319 132-1 §5.5, §6.3): what is added to a B-T
//! signature kyso has just made, and the archive time-stamp's imprint that signing and
//! verification both compute.
//!
//! - B-LT adds, after the `SignatureTimeStamp`, `xades:CertificateValues` (every certificate of
//!   the signer's and the TSA's paths, and of the OCSP responders) and `xades:RevocationValues`
//!   (`CRLValues/EncapsulatedCRLValue`, `OCSPValues/EncapsulatedOCSPValue`): the evidence that
//!   lets the signature be validated without the network.
//! - B-LTA adds after them a `xades141:ArchiveTimeStamp` over the signature and everything
//!   before it ([`archive_input`]).
//!
//! This module writes and reads the elements; it decides nothing about trust. Gathering the
//! validation data and checking the signer's path before the token signs is `signing`'s (with
//! `pades::LongTerm`, as for PDF), verifying the evidence is `verify`'s. It refuses to extend a
//! signature that is not intact, or that has no signature time-stamp to build on.

use base64::Engine as _;
use roxmltree::{Document, Node};

use super::c14n::{self, Algorithm, Comments, Subtree};
use super::dsig::{XADES_NS, XADES141_NS};
use super::parse::{self, Limits};
use super::verify::{self, Expect, VerifyOptions, is_dsig};
use super::{Error, xades};
use crate::signer::DigestAlgorithm;

/// The validation data B-LT embeds, DER each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationValues {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsp_responses: Vec<Vec<u8>>,
}

/// The signature time-stamp of a B-T signature and the octets it covers, for the caller to
/// verify and gather the TSA's validation data from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampedValue {
    /// The RFC 3161 token (DER `ContentInfo`).
    pub token: Vec<u8>,
    /// The canonical `ds:SignatureValue` element (EN 319 132-1 §5.3).
    pub message: Vec<u8>,
}

/// A document holding a signature kyso has just made, named by its `Id`, ready to be extended.
/// Each step consumes it and re-verifies the result before handing it on.
#[derive(Clone, Debug)]
pub struct SignedXml {
    document: Vec<u8>,
    signature_id: String,
    canonicalization: Algorithm,
    limits: Limits,
    /// A detached signature's content (URI, bytes): its reference's octets enter the archive
    /// time-stamp.
    detached: Option<(String, Vec<u8>)>,
}

impl SignedXml {
    pub(crate) fn new(
        document: Vec<u8>,
        signature_id: String,
        canonicalization: Algorithm,
        limits: Limits,
        detached: Option<(String, Vec<u8>)>,
    ) -> SignedXml {
        SignedXml {
            document,
            signature_id,
            canonicalization,
            limits,
            detached,
        }
    }

    /// The signature's `Id`.
    pub fn signature_id(&self) -> &str {
        &self.signature_id
    }

    /// The signed document as it stands.
    pub fn as_bytes(&self) -> &[u8] {
        &self.document
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.document
    }

    /// The first signature time-stamp whose imprint matches, with the octets it covers.
    pub fn signature_timestamp(&self) -> Result<TimestampedValue, Error> {
        let report = self.verified()?;
        report
            .xades
            .as_ref()
            .and_then(|p| {
                p.timestamps
                    .iter()
                    .find(|t| t.imprint == xades::Imprint::Matches)
            })
            .map(|t| TimestampedValue {
                token: t.token.clone(),
                message: t.message.clone(),
            })
            .ok_or(Error::NotTimestamped)
    }

    /// B-LT: appends `CertificateValues` and `RevocationValues` holding `values` to the
    /// signature's unsigned signature properties.
    pub fn with_validation_values(self, values: &ValidationValues) -> Result<SignedXml, Error> {
        self.signature_timestamp()?;
        let addition = validation_values(values);
        self.append_unsigned(|_, _, _| Ok(addition))
            .map(|(extended, _)| extended)
    }

    /// B-LTA: appends an `ArchiveTimeStamp` from `tsa` over the signature and every unsigned
    /// property before it ([`archive_input`]).
    pub fn with_archive_timestamp(
        self,
        tsa: &crate::tsp::Tsa,
        digest: DigestAlgorithm,
    ) -> Result<SignedXml, Error> {
        let report = self.verified()?;
        let octets: Vec<Vec<u8>> = report.references.into_iter().map(|r| r.octets).collect();
        let references: Vec<&[u8]> = octets.iter().map(Vec::as_slice).collect();
        let algorithm = self.canonicalization.clone();
        let id = format!(
            "kyso-ats-{}",
            self.signature_id.trim_start_matches("kyso-sig-")
        );
        self.append_unsigned(|doc, signature, usp| {
            if doc
                .descendants()
                .any(|n| n.attribute("Id") == Some(id.as_str()))
            {
                return Err(Error::Build(format!("Id {id:?} is already taken")));
            }
            let input = archive_input(doc, signature, &references, usp, None, &algorithm);
            let token = crate::tsp::timestamp(tsa, digest, &digest.digest(&input))?;
            Ok(archive_timestamp(&id, &algorithm, &token))
        })
        .and_then(|(extended, report)| {
            // Signing and verification compute the imprint with one function, but from
            // different documents (before and after the time-stamp is placed): confirm that
            // the verifier finds it matching before the document leaves.
            let matches = report
                .xades
                .as_ref()
                .and_then(|p| p.archive_timestamps.last())
                .is_some_and(|t| t.imprint == xades::Imprint::Matches);
            if matches {
                Ok(extended)
            } else {
                Err(Error::SelfCheck(
                    "the archive time-stamp just added does not match".into(),
                ))
            }
        })
    }

    /// Verifies the document and returns this signature's report; refuses one not intact.
    fn verified(&self) -> Result<verify::SignatureReport, Error> {
        let detached: Vec<(&str, &[u8])> = self
            .detached
            .iter()
            .map(|(uri, bytes)| (uri.as_str(), bytes.as_slice()))
            .collect();
        let options = VerifyOptions {
            limits: self.limits,
            expect: Expect::WholeDocument,
            detached: &detached,
            ..VerifyOptions::default()
        };
        let report = verify::verify(&self.document, &options)?;
        let ours = report
            .signatures
            .into_iter()
            .find(|s| s.id.as_deref() == Some(self.signature_id.as_str()))
            .ok_or_else(|| Error::Build("our signature vanished".into()))?;
        if !ours.is_intact() {
            return Err(Error::SelfCheck(format!("{:?}", ours.status)));
        }
        Ok(ours)
    }

    /// Inserts what `make` writes (given the document, the signature and its
    /// `UnsignedSignatureProperties`) as the last unsigned signature property, then checks
    /// that the signature still verifies; returns the result and its verification report.
    fn append_unsigned(
        self,
        make: impl FnOnce(&Document<'_>, Node<'_, '_>, Node<'_, '_>) -> Result<String, Error>,
    ) -> Result<(SignedXml, verify::SignatureReport), Error> {
        let decoded = parse::decode(&self.document, &self.limits)?;
        let (encoding, bom) = (decoded.encoding, decoded.bom);
        let text = decoded.text;
        let doc = parse::parse(&text, &self.limits)?;
        let signature = doc
            .descendants()
            .find(|n| is_dsig(*n, "Signature") && n.attribute("Id") == Some(&self.signature_id))
            .ok_or_else(|| Error::Build("our Signature element is missing".into()))?;
        let usp = unsigned_signature_properties(signature).ok_or(Error::NotTimestamped)?;
        let addition = make(&doc, signature, usp)?;
        let end = usp.range().end;
        let at = text[..end]
            .rfind("</")
            .ok_or_else(|| Error::Build("UnsignedSignatureProperties end tag".into()))?;
        let mut extended = text.into_owned();
        extended.insert_str(at, &addition);
        let next = SignedXml {
            document: super::sign::encode(&extended, encoding, bom),
            ..self
        };
        let report = next.verified()?;
        Ok((next, report))
    }
}

/// The `UnsignedSignatureProperties` of `signature`'s qualifying properties.
pub(crate) fn unsigned_signature_properties<'a, 'input>(
    signature: Node<'a, 'input>,
) -> Option<Node<'a, 'input>> {
    signature
        .children()
        .filter(|o| is_dsig(*o, "Object"))
        .flat_map(|o| o.children())
        .find(|q| is_element(*q, XADES_NS, "QualifyingProperties"))
        .and_then(|qp| child(qp, XADES_NS, "UnsignedProperties"))
        .and_then(|u| child(u, XADES_NS, "UnsignedSignatureProperties"))
}

/// The octets an `ArchiveTimeStamp`'s imprint is computed over (ETSI EN 319 132-1 §5.5.2.2,
/// XAdES 1.4.1 §8.2), each part canonicalized with the time-stamp's `algorithm`, in order:
/// 1. the result of each `ds:Reference` in `SignedInfo` order (`references`: the octets
///    reference processing produced, exactly what was digested — an octet stream for every
///    reference kyso writes, whose transforms end in a canonicalization);
/// 2. `ds:SignedInfo`, `ds:SignatureValue` and `ds:KeyInfo` when present;
/// 3. the unsigned signature properties before `stamp` (all of them when `stamp` is `None`,
///    for a time-stamp about to be appended);
/// 4. every `ds:Object` of the signature but the one holding the qualifying properties.
pub(crate) fn archive_input(
    doc: &Document<'_>,
    signature: Node<'_, '_>,
    references: &[&[u8]],
    usp: Node<'_, '_>,
    stamp: Option<Node<'_, '_>>,
    algorithm: &Algorithm,
) -> Vec<u8> {
    let mut out = Vec::new();
    for octets in references {
        out.extend_from_slice(octets);
    }
    let mut add = |node: Node<'_, '_>| {
        out.extend(c14n::canonicalize(
            doc,
            &Subtree::new(node, Comments::Strip),
            algorithm,
        ));
    };
    for name in ["SignedInfo", "SignatureValue", "KeyInfo"] {
        if let Some(node) = signature.children().find(|n| is_dsig(*n, name)) {
            add(node);
        }
    }
    for property in usp
        .children()
        .filter(Node::is_element)
        .take_while(|p| Some(*p) != stamp)
    {
        add(property);
    }
    for object in signature.children().filter(|o| is_dsig(*o, "Object")) {
        if !object
            .children()
            .any(|q| is_element(q, XADES_NS, "QualifyingProperties"))
        {
            add(object);
        }
    }
    out
}

/// `CertificateValues` and `RevocationValues`, as text to place in
/// `UnsignedSignatureProperties` (where `xades` and `ds` are bound).
fn validation_values(values: &ValidationValues) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let certificates: String = values
        .certificates
        .iter()
        .map(|c| {
            format!(
                "<xades:EncapsulatedX509Certificate>{}</xades:EncapsulatedX509Certificate>",
                b64(c)
            )
        })
        .collect();
    let crls: String = values
        .crls
        .iter()
        .map(|c| {
            format!(
                "<xades:EncapsulatedCRLValue>{}</xades:EncapsulatedCRLValue>",
                b64(c)
            )
        })
        .collect();
    let ocsp: String = values
        .ocsp_responses
        .iter()
        .map(|o| {
            format!(
                "<xades:EncapsulatedOCSPValue>{}</xades:EncapsulatedOCSPValue>",
                b64(o)
            )
        })
        .collect();
    // The schema wants at least one value in each list that is present.
    let crls = if crls.is_empty() {
        String::new()
    } else {
        format!("<xades:CRLValues>{crls}</xades:CRLValues>")
    };
    let ocsp = if ocsp.is_empty() {
        String::new()
    } else {
        format!("<xades:OCSPValues>{ocsp}</xades:OCSPValues>")
    };
    format!(
        "<xades:CertificateValues>{certificates}</xades:CertificateValues><xades:RevocationValues>{crls}{ocsp}</xades:RevocationValues>"
    )
}

/// An `ArchiveTimeStamp` holding `token`, which binds the 1.4.1 namespace itself.
fn archive_timestamp(id: &str, algorithm: &Algorithm, token: &[u8]) -> String {
    format!(
        "<xades141:ArchiveTimeStamp xmlns:xades141=\"{XADES141_NS}\" Id=\"{id}\"><ds:CanonicalizationMethod Algorithm=\"{}\"/><xades:EncapsulatedTimeStamp>{}</xades:EncapsulatedTimeStamp></xades141:ArchiveTimeStamp>",
        algorithm.uri(),
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

fn is_element(n: Node<'_, '_>, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
}

fn child<'a, 'input>(n: Node<'a, 'input>, ns: &str, local: &str) -> Option<Node<'a, 'input>> {
    n.children().find(|c| is_element(*c, ns, local))
}
