//! Signing: enveloped, enveloping and detached XMLDSig signatures, optionally XAdES B-B or B-T,
//! with the key behind a [`Signer`].
//!
//! The signature is written as text into the original document (nothing else in it is
//! re-serialized), then the document is parsed again and each digest is computed by the very
//! code that verification uses, on the very bytes that will be shipped. Before returning, the
//! output is verified; a signature kyso cannot verify itself is never handed out.

use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use roxmltree::{Document, Node};

use super::c14n::{self, Algorithm, Comments, Subtree};
use super::dsig::{
    DSIG_NS, DigestMethod, ENVELOPED_SIGNATURE, SignatureMethod, TYPE_OBJECT,
    TYPE_SIGNED_PROPERTIES, XPATH_TRANSFORM,
};
use super::longterm::SignedXml;
use super::parse::{self, Decoded, Encoding};
use super::verify::{self, Expect, IdIndex, VerifyOptions, is_dsig};
use super::{Error, Limits, xades};
use crate::signer::Signer;

/// Where the signature goes relative to the signed data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Packaging {
    /// Inside the document, as the last child of the document element (`URI=""` with the
    /// enveloped-signature transform).
    #[default]
    Enveloped,
    /// The document becomes the content of a `ds:Object` inside the signature.
    Enveloping,
    /// A separate signature document over the input's raw bytes, referenced by `uri`.
    Detached { uri: String },
}

/// What an enveloped signature's document reference leaves out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OtherSignatures {
    /// Only this signature (enveloped-signature transform): any signature added to the document
    /// later breaks this one. What DSS and most tools write.
    #[default]
    Covered,
    /// Every `ds:Signature` in the document (the XPath `not(ancestor-or-self::ds:Signature)`
    /// of XMLDSig 1.0 §6.6.3): further signatures, e.g. an officer's and then the unit's seal,
    /// can be added without breaking this one. Each added signature is verified on its own.
    Excluded,
}

/// How much qualification the signature carries.
#[derive(Clone, Debug, Default)]
pub enum Level {
    /// Plain XMLDSig.
    XmlDsig,
    /// XAdES baseline B-B.
    #[default]
    XadesB,
    /// XAdES baseline B-T: B-B plus a signature time-stamp from `tsa` (the same description
    /// of a TSA as PAdES takes: URL, deadline, TLS roots, credentials).
    XadesT { tsa: crate::tsp::Tsa },
}

/// How to sign.
#[derive(Clone, Debug)]
pub struct SignOptions {
    pub packaging: Packaging,
    pub level: Level,
    /// Canonicalization for `SignedInfo` and every same-document reference. Exclusive C14N by
    /// default: the signature survives being moved into another namespace context.
    pub canonicalization: Algorithm,
    /// For enveloped signatures: whether signatures added later break this one.
    pub other_signatures: OtherSignatures,
    /// The time written as XAdES `SigningTime`, and the seed of the generated `Id`s.
    pub signing_time: SystemTime,
    pub limits: Limits,
}

impl SignOptions {
    /// Enveloped XAdES B-B with Exclusive C14N at `signing_time`.
    pub fn new(signing_time: SystemTime) -> Self {
        SignOptions {
            packaging: Packaging::default(),
            level: Level::default(),
            canonicalization: Algorithm::Exclusive {
                comments: Comments::Strip,
                inclusive_prefixes: Vec::new(),
            },
            other_signatures: OtherSignatures::default(),
            signing_time,
            limits: Limits::default(),
        }
    }
}

/// Signs `document` with `signer`. `chain` holds DER certificates, the signer's first; it goes
/// into `KeyInfo/X509Data` as given. Returns the signed document in the input's encoding (a
/// detached signature is UTF-8).
pub fn sign(
    document: &[u8],
    signer: &dyn Signer,
    chain: &[Vec<u8>],
    options: &SignOptions,
) -> Result<Vec<u8>, Error> {
    sign_document(document, signer, chain, options).map(SignedXml::into_bytes)
}

/// Like [`sign`], keeping what a long-term extension needs: the signature's `Id`, its
/// canonicalization and, for a detached signature, the signed content ([`SignedXml`]).
pub fn sign_document(
    document: &[u8],
    signer: &dyn Signer,
    chain: &[Vec<u8>],
    options: &SignOptions,
) -> Result<SignedXml, Error> {
    let signer_certificate = chain.first().ok_or(Error::NoCertificate)?;
    let spki = verify::certificate_spki(signer_certificate)
        .ok_or_else(|| Error::Certificate("signer certificate does not parse".into()))?;
    if spki != signer.public_key_spki() {
        return Err(Error::CertificateKeyMismatch);
    }
    let method = SignatureMethod::from(signer.algorithm());
    let digest = DigestMethod::from(signer.algorithm().digest());
    let signing_time = rfc3339(options.signing_time);

    // The unsigned document, with our signature placed in it.
    let (text, encoding, bom, ids) = match &options.packaging {
        Packaging::Detached { .. } => {
            let seed = id_seed(document, &signing_time);
            (
                String::new(),
                Encoding::Utf8,
                false,
                Ids::new(&seed, |_| false),
            )
        }
        _ => {
            let decoded = parse::decode(document, &options.limits)?;
            let doc = parse::parse(&decoded.text, &options.limits)?;
            let existing = IdIndex::new(&doc);
            // A document we would refuse to verify is not signed either.
            if let Some((id, first, second)) = existing.duplicate() {
                return Err(Error::DuplicateId {
                    id: id.clone(),
                    first_line: *first,
                    second_line: *second,
                });
            }
            let seed = id_seed(document, &signing_time);
            let ids = Ids::new(&seed, |id| existing.get(id).is_some());
            let Decoded {
                text,
                encoding,
                bom,
            } = decoded;
            (text.into_owned(), encoding, bom, ids)
        }
    };
    let signature_xml = template(method, digest, chain, &ids, &signing_time, options)?;
    let assembled = match &options.packaging {
        Packaging::Enveloped => {
            let doc = parse::parse(&text, &options.limits)?;
            let root = doc.root_element();
            let range = root.range();
            let element = &text[range.clone()];
            if let Some(end_tag) = element.rfind("</") {
                let at = range.start + end_tag;
                format!("{}{}{}", &text[..at], signature_xml, &text[at..])
            } else {
                // <root .../>: open it up.
                let qname = c14n::element_qname(&text, root);
                let at = range.end - 2;
                format!(
                    "{}>{}</{}>{}",
                    &text[..at],
                    signature_xml,
                    qname,
                    &text[range.end..]
                )
            }
        }
        Packaging::Enveloping => {
            let doc = parse::parse(&text, &options.limits)?;
            let content = &text[doc.root_element().range()];
            let object = format!("<ds:Object Id=\"{}\">{content}</ds:Object>", ids.object);
            let closing = "</ds:Signature>";
            let cut = signature_xml.len() - closing.len();
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}{}{}",
                &signature_xml[..cut],
                object,
                closing
            )
        }
        Packaging::Detached { .. } => {
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{signature_xml}")
        }
    };
    let detached_uri = match &options.packaging {
        Packaging::Detached { uri } => Some(uri.as_str()),
        _ => None,
    };
    let detached_pair = detached_uri.map(|u| [(u, document)]);
    let verify_options = VerifyOptions {
        limits: options.limits,
        expect: Expect::WholeDocument,
        detached: detached_pair.as_ref().map_or(&[], |p| p.as_slice()),
        ..VerifyOptions::default()
    };

    // Digests, computed on the assembled text by verification's own dereferencing code.
    let with_digests = {
        let doc = parse::parse(&assembled, &options.limits)?;
        let signature = find_signature(&doc, &ids.signature)?;
        let index = IdIndex::new(&doc);
        let mut edits = Vec::new();
        for reference in signed_info(signature)?
            .children()
            .filter(|n| is_dsig(*n, "Reference"))
        {
            let octets =
                verify::reference_octets(&doc, signature, &index, reference, &verify_options)
                    .map_err(|s| Error::Build(format!("computing a reference digest: {s:?}")))?;
            let value = child_text_range(reference, "DigestValue")?;
            edits.push((value, b64(&digest.digest(&octets))));
        }
        splice(&assembled, edits)
    };

    // The signature value over the canonical SignedInfo.
    let with_value = {
        let doc = parse::parse(&with_digests, &options.limits)?;
        let signature = find_signature(&doc, &ids.signature)?;
        let si = signed_info(signature)?;
        let octets = c14n::canonicalize(
            &doc,
            &Subtree::new(si, Comments::Strip),
            &options.canonicalization,
        );
        let value = signer.sign(&octets)?;
        let sv = signature
            .children()
            .find(|n| is_dsig(*n, "SignatureValue"))
            .ok_or_else(|| Error::Build("SignatureValue missing".into()))?;
        let range = text_range(sv)?;
        splice(&with_digests, vec![(range, b64(value.raw()))])
    };

    // B-T: a time-stamp over the canonical SignatureValue element (EN 319 132-1 §5.3).
    let finished = match &options.level {
        Level::XadesT { tsa } => {
            let doc = parse::parse(&with_value, &options.limits)?;
            let signature = find_signature(&doc, &ids.signature)?;
            let sv = signature
                .children()
                .find(|n| is_dsig(*n, "SignatureValue"))
                .ok_or_else(|| Error::Build("SignatureValue missing".into()))?;
            let octets = c14n::canonicalize(
                &doc,
                &Subtree::new(sv, Comments::Strip),
                &options.canonicalization,
            );
            let tsa_digest = signer.algorithm().digest();
            let hashed = tsa_digest.digest(&octets);
            let token = crate::tsp::timestamp(tsa, tsa_digest, &hashed)?;
            let qp = doc
                .descendants()
                .find(|n| {
                    n.tag_name().name() == "QualifyingProperties"
                        && n.ancestors().any(|a| a == signature)
                })
                .ok_or_else(|| Error::Build("QualifyingProperties missing".into()))?;
            let end = qp.range().end;
            let at = with_value[..end]
                .rfind("</")
                .ok_or_else(|| Error::Build("QualifyingProperties end tag".into()))?;
            let unsigned =
                xades::unsigned_properties(&ids.timestamp, &options.canonicalization, &token);
            splice(&with_value, vec![(at..at, unsigned)])
        }
        _ => with_value,
    };

    // Self-check, on the bytes that leave, before they leave.
    let output = encode(&finished, encoding, bom);
    let report = verify::verify(&output, &verify_options)?;
    let ours = report
        .signatures
        .iter()
        .find(|s| s.id.as_deref() == Some(ids.signature.as_str()))
        .ok_or_else(|| Error::Build("our signature vanished".into()))?;
    if !ours.is_intact() {
        return Err(Error::SelfCheck(format!("{:?}", ours.status)));
    }
    Ok(SignedXml::new(
        output,
        ids.signature,
        options.canonicalization.clone(),
        options.limits,
        detached_uri.map(|uri| (uri.to_owned(), document.to_vec())),
    ))
}

/// The `Id`s of one signature, unique within the document.
struct Ids {
    signature: String,
    signed_properties: String,
    object: String,
    signature_value: String,
    timestamp: String,
}

impl Ids {
    fn new(seed: &str, taken: impl Fn(&str) -> bool) -> Ids {
        let mut n = 0u32;
        loop {
            let base = if n == 0 {
                seed.to_owned()
            } else {
                format!("{seed}-{n}")
            };
            let ids = Ids {
                signature: format!("kyso-sig-{base}"),
                signed_properties: format!("kyso-sp-{base}"),
                object: format!("kyso-obj-{base}"),
                signature_value: format!("kyso-sv-{base}"),
                timestamp: format!("kyso-ts-{base}"),
            };
            let all = [
                &ids.signature,
                &ids.signed_properties,
                &ids.object,
                &ids.signature_value,
                &ids.timestamp,
            ];
            if !all.iter().any(|id| taken(id)) {
                return ids;
            }
            n += 1;
        }
    }
}

fn id_seed(document: &[u8], signing_time: &str) -> String {
    let mut input = document.to_vec();
    input.extend_from_slice(signing_time.as_bytes());
    hex::encode(&DigestMethod::Sha256.digest(&input)[..8])
}

/// The `ds:Signature` element with placeholder digests and value.
fn template(
    method: SignatureMethod,
    digest: DigestMethod,
    chain: &[Vec<u8>],
    ids: &Ids,
    signing_time: &str,
    options: &SignOptions,
) -> Result<String, Error> {
    let c14n_uri = options.canonicalization.uri();
    let prefix_list = match &options.canonicalization {
        Algorithm::Exclusive {
            inclusive_prefixes, ..
        } if !inclusive_prefixes.is_empty() => {
            let list: Vec<&str> = inclusive_prefixes
                .iter()
                .map(|p| if p.is_empty() { "#default" } else { p.as_str() })
                .collect();
            format!(
                "<ec:InclusiveNamespaces xmlns:ec=\"{}\" PrefixList=\"{}\"/>",
                super::dsig::EXC_C14N_NS,
                list.join(" ")
            )
        }
        _ => String::new(),
    };
    let c14n_element = |name: &str| {
        if prefix_list.is_empty() {
            format!("<ds:{name} Algorithm=\"{c14n_uri}\"/>")
        } else {
            format!("<ds:{name} Algorithm=\"{c14n_uri}\">{prefix_list}</ds:{name}>")
        }
    };
    let reference = |uri: &str, kind: Option<&str>, transforms: &[String]| {
        let kind = kind.map_or(String::new(), |k| format!(" Type=\"{k}\""));
        let transforms = if transforms.is_empty() {
            String::new()
        } else {
            format!("<ds:Transforms>{}</ds:Transforms>", transforms.concat())
        };
        format!(
            "<ds:Reference URI=\"{}\"{kind}>{transforms}<ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>",
            escape_attribute(uri),
            digest.uri()
        )
    };
    let mut references = match &options.packaging {
        Packaging::Enveloped => {
            let exclusion = match options.other_signatures {
                OtherSignatures::Covered => {
                    format!("<ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/>")
                }
                OtherSignatures::Excluded => format!(
                    "<ds:Transform Algorithm=\"{XPATH_TRANSFORM}\"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"
                ),
            };
            reference("", None, &[exclusion, c14n_element("Transform")])
        }
        Packaging::Enveloping => reference(
            &format!("#{}", ids.object),
            Some(TYPE_OBJECT),
            &[c14n_element("Transform")],
        ),
        Packaging::Detached { uri } => reference(uri, None, &[]),
    };
    let xades = !matches!(options.level, Level::XmlDsig);
    let mut object = String::new();
    if xades {
        references.push_str(&reference(
            &format!("#{}", ids.signed_properties),
            Some(TYPE_SIGNED_PROPERTIES),
            &[c14n_element("Transform")],
        ));
        object = format!(
            "<ds:Object>{}</ds:Object>",
            xades::qualifying_properties(
                &ids.signature,
                &ids.signed_properties,
                signing_time,
                &chain[0]
            )?
        );
    }
    let certificates: String = chain
        .iter()
        .map(|c| format!("<ds:X509Certificate>{}</ds:X509Certificate>", b64(c)))
        .collect();
    Ok(format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\" Id=\"{}\"><ds:SignedInfo>{}<ds:SignatureMethod Algorithm=\"{}\"/>{references}</ds:SignedInfo><ds:SignatureValue Id=\"{}\">AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data>{certificates}</ds:X509Data></ds:KeyInfo>{object}</ds:Signature>",
        ids.signature,
        c14n_element("CanonicalizationMethod"),
        method.uri(),
        ids.signature_value,
    ))
}

fn find_signature<'a, 'input>(
    doc: &'a Document<'input>,
    id: &str,
) -> Result<Node<'a, 'input>, Error> {
    doc.descendants()
        .find(|n| is_dsig(*n, "Signature") && n.attribute("Id") == Some(id))
        .ok_or_else(|| Error::Build("our Signature element is missing after assembly".into()))
}

fn signed_info<'a, 'input>(signature: Node<'a, 'input>) -> Result<Node<'a, 'input>, Error> {
    signature
        .children()
        .find(|n| is_dsig(*n, "SignedInfo"))
        .ok_or_else(|| Error::Build("SignedInfo missing".into()))
}

fn child_text_range(node: Node<'_, '_>, local: &str) -> Result<Range<usize>, Error> {
    let child = node
        .children()
        .find(|n| is_dsig(*n, local))
        .ok_or_else(|| Error::Build(format!("{local} missing")))?;
    text_range(child)
}

fn text_range(node: Node<'_, '_>) -> Result<Range<usize>, Error> {
    node.first_child()
        .filter(Node::is_text)
        .map(|t| t.range())
        .ok_or_else(|| Error::Build("placeholder text missing".into()))
}

/// Applies non-overlapping edits (byte range → replacement).
fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for (range, replacement) in edits {
        out.replace_range(range, &replacement);
    }
    out
}

pub(super) fn encode(text: &str, encoding: Encoding, bom: bool) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => {
            let mut out = if bom {
                vec![0xEF, 0xBB, 0xBF]
            } else {
                Vec::new()
            };
            out.extend_from_slice(text.as_bytes());
            out
        }
        Encoding::Utf16Le => {
            let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
            out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            out
        }
        Encoding::Utf16Be => {
            let mut out = if bom { vec![0xFE, 0xFF] } else { Vec::new() };
            out.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            out
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn escape_attribute(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// `YYYY-MM-DDThh:mm:ssZ` for a time at or after 1970 (earlier times clamp to the epoch).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199); // leap-year Feb 29
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59Z");
        let t = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn splice_applies_edits_back_to_front() {
        let s = splice("abcdef", vec![(1..2, "XX".into()), (4..4, "-".into())]);
        assert_eq!(s, "aXXcd-ef");
    }
}
