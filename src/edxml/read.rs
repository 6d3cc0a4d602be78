//! Reading a package: recognising it ([`sniff`]), repairing what real producers get wrong about
//! namespaces, and taking out the header, the manifest and the attachments (still encoded).
//!
//! Two repairs, each reported ([`Package::repairs`]):
//! - prefixes used without a declaration (`edXML:` outside the envelope, `xlink:href`) are
//!   declared on their outermost users ([`crate::xml::parse::declare_missing_prefixes`]). The
//!   package's structure is read with the prefixes bound to what they mean (`edXML` to QCVN
//!   102:2016, `xlink` to XLink); its signatures are checked over the document as libxml2
//!   reads it in recovery ([`Package::signed_text`]): each such name a plain name with a colon
//!   and no namespace, canonicalized with no declaration, so that kyso digests the bytes a
//!   producer on libxml2 (xmlsec1, the SDKs) signed;
//! - an unprefixed `Signature` with no namespace declaration of its own, which therefore lands
//!   in the QCVN default namespace (the SDK's current sample), is given the XMLDSig namespace.
//!   Its enveloped-signature reference removes the element from what it digests, so this repair
//!   leaves the digests alone; only its `SignedInfo` is canonicalized with the XMLDSig
//!   namespace, which is what a producer that built the signature in that namespace and wrote
//!   it out without the declaration signed.

use std::ops::Range;

use roxmltree::Node;

use super::header::{Header, child, children, text_of};
use super::{Error, KNOWN_PREFIXES, NAMESPACE};
use crate::verify::Reason;
use crate::xml::dsig::DSIG_NS;
use crate::xml::{Limits, parse};

/// How far into a document [`sniff`] looks for the package's root: its namespace is declared
/// on the root, which follows at most an XML declaration and a comment or two.
const SNIFF_BYTES: usize = 4096;

/// What the first bytes of a document say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// The root is `edXML` and the QCVN namespace is declared early on.
    Package,
    /// The same, after this many bytes that are not markup (a package with stray bytes before
    /// its XML declaration, as one copy of the SDK's sample has).
    LeadingBytes(usize),
    /// Anything else.
    Other,
}

/// Recognises an edXML package by its root element (`edXML`, any prefix) and the QCVN
/// namespace in the first [`SNIFF_BYTES`] bytes. UTF-8 only: the samples and the SDK write
/// UTF-8, and a UTF-16 package is then verified as plain XML.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let head = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
    if !head
        .windows(NAMESPACE.len())
        .any(|w| w == NAMESPACE.as_bytes())
    {
        return Sniffed::Other;
    }
    let Some(first) = head.iter().position(|&b| b == b'<') else {
        return Sniffed::Other;
    };
    let stray = head[..first]
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .count();
    let mut at = first;
    // Past the XML declaration, processing instructions and comments to the first element.
    loop {
        let rest = &head[at..];
        let skip_to = |end: &[u8], from: usize| {
            rest.windows(end.len())
                .skip(from)
                .position(|w| w == end)
                .map(|p| p + from + end.len())
        };
        let next = if rest.starts_with(b"<?") {
            skip_to(b"?>", 2)
        } else if rest.starts_with(b"<!--") {
            skip_to(b"-->", 4)
        } else {
            break;
        };
        let Some(next) = next else {
            return Sniffed::Other;
        };
        at += next;
        match head[at..].iter().position(|b| !b.is_ascii_whitespace()) {
            Some(p) => at += p,
            None => return Sniffed::Other,
        }
    }
    let name: Vec<u8> = head[at..]
        .iter()
        .skip(1)
        .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'/'))
        .copied()
        .collect();
    let local = name.rsplit(|&b| b == b':').next().unwrap_or(&[]);
    match (local == b"edXML", stray) {
        (false, _) => Sniffed::Other,
        (true, 0) => Sniffed::Package,
        (true, n) => Sniffed::LeadingBytes(first.max(n)),
    }
}

/// A package as read: its text (repaired where it had to be), what was repaired, the header,
/// the manifest and the encoded attachments.
#[derive(Clone, Debug)]
pub struct Package {
    text: String,
    /// The text as libxml2 reads it, when the prefix repair changed anything (see the module
    /// documentation).
    libxml2_text: Option<String>,
    /// What kyso changed to read the package, in words (one line per repair).
    pub repairs: Vec<Reason>,
    pub header: Header,
    pub manifest: Vec<ManifestEntry>,
    pub attachments: Vec<EncodedAttachment>,
    /// Whether the package carries an XMLDSig signature (after the repairs).
    pub signed: bool,
}

/// One `edXMLManifest/Reference`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestEntry {
    /// `ContentId`, without a leading `cid:`.
    pub content_id: Option<String>,
    pub content_type: Option<String>,
    pub description: Option<String>,
    pub name: Option<String>,
}

/// One `AttachmentEncoded/Attachment`, its content still base64.
#[derive(Clone, Debug)]
pub struct EncodedAttachment {
    /// `ContentId`, without a leading `cid:`.
    pub content_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `ContentType` as the producer says; kyso sniffs the bytes instead.
    pub content_type: Option<String>,
    /// Where the `ContentTransferEncoded` text is.
    encoded: Encoded,
    /// Line of the `Attachment` element, for messages.
    pub line: u32,
}

#[derive(Clone, Debug)]
enum Encoded {
    /// A byte range of the package text: the text as it stands (the usual case).
    Range(Range<usize>),
    /// Text the parser had to assemble (several text nodes, a CDATA section, a character
    /// reference).
    Owned(String),
    Missing,
}

impl Package {
    /// Reads a package (see the module documentation). `Err` when it is not one, or cannot be
    /// read as XML even after the repairs.
    pub fn read(bytes: &[u8]) -> Result<Package, Error> {
        match sniff(bytes) {
            Sniffed::Package => {}
            Sniffed::LeadingBytes(count) => return Err(Error::LeadingBytes { count }),
            Sniffed::Other => {
                return Err(Error::NotEdxml {
                    reason: "the root element is not edXML in the QCVN 102:2016 namespace"
                        .to_owned(),
                });
            }
        }
        let limits = Limits::default();
        let decoded = parse::decode(bytes, &limits)?;
        // The placeholder namespace is what canonicalization leaves out: a package that
        // declares it itself would have declarations of its own left out too.
        if decoded.text.contains(parse::UNDECLARED_PREFIX_NAMESPACE) {
            return Err(Error::NotEdxml {
                reason: format!(
                    "the package uses kyso's placeholder namespace {}",
                    parse::UNDECLARED_PREFIX_NAMESPACE
                ),
            });
        }
        let (text, declared) =
            parse::declare_missing_prefixes(&decoded.text, KNOWN_PREFIXES, &limits)?;
        let mut repairs: Vec<Reason> = declared
            .iter()
            .map(|d| Reason::PrefixUndeclared {
                prefix: d.prefix.to_string(),
                line: d.line,
                column: d.column,
                elements: d.elements,
                namespace: d.namespace.to_string(),
            })
            .collect();
        let (text, lines) = qualify_signatures(text.into_owned(), &limits)?;
        let libxml2_text = if declared.is_empty() {
            None
        } else {
            let (as_libxml2, _) = parse::declare_missing_prefixes(&decoded.text, &[], &limits)?;
            Some(qualify_signatures(as_libxml2.into_owned(), &limits)?.0)
        };
        if !lines.is_empty() {
            repairs.push(Reason::SignatureNamespace {
                lines: lines.clone(),
            });
        }
        let (header, manifest, attachments, signed) = {
            let doc = parse::parse(&text, &limits)?;
            let root = doc.root_element();
            if root.tag_name().name() != "edXML" || root.tag_name().namespace() != Some(NAMESPACE) {
                return Err(Error::NotEdxml {
                    reason: format!(
                        "the root element is {{{}}}{}",
                        root.tag_name().namespace().unwrap_or(""),
                        root.tag_name().name()
                    ),
                });
            }
            let envelope = child(root, "edXMLEnvelope").ok_or(Error::Missing {
                element: "edXMLEnvelope",
            })?;
            let message_header = child(envelope, "edXMLHeader")
                .and_then(|h| child(h, "MessageHeader"))
                .ok_or(Error::Missing {
                    element: "edXMLHeader/MessageHeader",
                })?;
            let header = Header::read(message_header);
            let manifest = child(envelope, "edXMLBody")
                .and_then(|b| child(b, "edXMLManifest"))
                .map(|m| children(m, "Reference").map(manifest_entry).collect())
                .unwrap_or_default();
            let attachments = children(root, "AttachmentEncoded")
                .flat_map(|a| children(a, "Attachment"))
                .map(|a| encoded_attachment(a, &text))
                .collect();
            let signed = doc.descendants().any(|n| {
                n.is_element()
                    && n.tag_name().namespace() == Some(DSIG_NS)
                    && n.tag_name().name() == "Signature"
            });
            (header, manifest, attachments, signed)
        };
        Ok(Package {
            text,
            libxml2_text,
            repairs,
            header,
            manifest,
            attachments,
            signed,
        })
    }

    /// The package's text, repaired where [`Package::repairs`] says.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text the package's signatures are checked over: as libxml2 reads it, where the
    /// package used prefixes it never declared (see the module documentation); else
    /// [`Package::text`].
    pub fn signed_text(&self) -> &str {
        self.libxml2_text.as_deref().unwrap_or(&self.text)
    }

    /// An attachment's `ContentTransferEncoded` text, or `None` when it has none.
    pub fn encoded<'p>(&'p self, attachment: &'p EncodedAttachment) -> Option<&'p str> {
        match &attachment.encoded {
            Encoded::Range(range) => self.text.get(range.clone()),
            Encoded::Owned(text) => Some(text),
            Encoded::Missing => None,
        }
    }
}

/// `text` with the XMLDSig namespace declared on each unqualified signature
/// ([`unqualified_signatures`]), and those signatures' lines.
fn qualify_signatures(text: String, limits: &Limits) -> Result<(String, Vec<u32>), Error> {
    let signatures = {
        let doc = parse::parse(&text, limits)?;
        unqualified_signatures(&doc, &text)
    };
    if signatures.is_empty() {
        return Ok((text, Vec::new()));
    }
    let declaration = format!(" xmlns=\"{DSIG_NS}\"");
    let lines: Vec<u32> = signatures.iter().map(|(_, line)| *line).collect();
    let mut out = String::with_capacity(text.len() + declaration.len() * lines.len());
    let mut from = 0;
    for (at, _) in &signatures {
        out.push_str(&text[from..*at]);
        out.push_str(&declaration);
        from = *at;
    }
    out.push_str(&text[from..]);
    Ok((out, lines))
}

/// Unprefixed `Signature` elements outside the XMLDSig namespace that hold a `SignedInfo` of
/// their own namespace, with no `xmlns` of their own: where to insert the declaration (just
/// after the name) and their lines.
fn unqualified_signatures(doc: &roxmltree::Document<'_>, text: &str) -> Vec<(usize, u32)> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Signature")
        .filter(|n| n.tag_name().namespace() != Some(DSIG_NS))
        .filter(|n| {
            n.children().any(|c| {
                c.is_element()
                    && c.tag_name().name() == "SignedInfo"
                    && c.tag_name().namespace() == n.tag_name().namespace()
            })
        })
        .filter(|n| {
            !n.ancestors()
                .skip(1)
                .any(|a| a.tag_name().namespace() == Some(DSIG_NS))
        })
        .filter_map(|n| {
            let start = n.range().start;
            let after = start + "<Signature".len();
            let unprefixed = text.get(start..after) == Some("<Signature")
                && text[after..]
                    .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/');
            (unprefixed && !declares_default_namespace(text, start))
                .then(|| (after, doc.text_pos_at(start).row))
        })
        .collect()
}

fn manifest_entry(reference: Node<'_, '_>) -> ManifestEntry {
    let text = |name: &str| child(reference, name).and_then(text_of);
    ManifestEntry {
        content_id: text("ContentId").map(|c| content_id(&c)),
        content_type: text("ContentType"),
        description: text("Description"),
        name: text("AttachmentName"),
    }
}

fn encoded_attachment(attachment: Node<'_, '_>, text: &str) -> EncodedAttachment {
    let field = |name: &str| child(attachment, name).and_then(text_of);
    let encoded = match child(attachment, "ContentTransferEncoded") {
        None => Encoded::Missing,
        Some(node) => {
            let texts: Vec<Node<'_, '_>> = node.children().filter(Node::is_text).collect();
            match texts.as_slice() {
                [] => Encoded::Missing,
                // The text as it stands in the package when the parser took it verbatim.
                [one] if text.get(one.range()) == one.text() => Encoded::Range(one.range()),
                _ => Encoded::Owned(texts.iter().filter_map(|t| t.text()).collect()),
            }
        }
    };
    EncodedAttachment {
        content_id: field("ContentId").map(|c| content_id(&c)),
        name: field("AttachmentName"),
        description: field("Description"),
        content_type: field("ContentType"),
        encoded,
        line: attachment
            .document()
            .text_pos_at(attachment.range().start)
            .row,
    }
}

/// A content id without the `cid:` scheme (RFC 2392), which some producers write in the
/// manifest and not on the attachment.
fn content_id(text: &str) -> String {
    let text = text.trim();
    match text.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("cid:") => text[4..].trim().to_owned(),
        _ => text.to_owned(),
    }
}

/// Whether the start tag at `start` has an `xmlns="…"` attribute of its own (roxmltree reports
/// the namespaces in scope, not where they were declared).
fn declares_default_namespace(text: &str, start: usize) -> bool {
    let b = text.as_bytes();
    let skip = |mut j: usize, what: fn(u8) -> bool| {
        while j < b.len() && what(b[j]) {
            j += 1;
        }
        j
    };
    let name_char = |c: u8| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/');
    let mut j = skip(start + 1, name_char);
    loop {
        j = skip(j, |c| c.is_ascii_whitespace());
        if j >= b.len() || matches!(b[j], b'>' | b'/') {
            return false;
        }
        let name_start = j;
        j = skip(j, name_char);
        let name = &text[name_start..j];
        j = skip(j, |c| c.is_ascii_whitespace());
        if b.get(j) != Some(&b'=') {
            return false;
        }
        j = skip(j + 1, |c| c.is_ascii_whitespace());
        let Some(&quote) = b.get(j).filter(|q| matches!(q, b'"' | b'\'')) else {
            return false;
        };
        j = match b[j + 1..].iter().position(|&c| c == quote) {
            Some(p) => j + 1 + p + 1,
            None => return false,
        };
        if name == "xmlns" {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_is_recognised_by_its_root_and_namespace() {
        let package = format!("<?xml version=\"1.0\"?>\n<!-- x --><edXML xmlns=\"{NAMESPACE}\"/>");
        assert_eq!(sniff(package.as_bytes()), Sniffed::Package);
        assert_eq!(
            sniff(format!("1212{package}").as_bytes()),
            Sniffed::LeadingBytes(4)
        );
        let other = format!("<Invoice xmlns:e=\"{NAMESPACE}\"/>");
        assert_eq!(sniff(other.as_bytes()), Sniffed::Other);
        assert_eq!(sniff(b"<edXML/>"), Sniffed::Other, "no QCVN namespace");
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Other);
    }

    #[test]
    fn a_default_namespace_of_its_own_is_seen_in_the_tag() {
        let text = "<Signature Id='a>b' xmlns = 'x'><SignedInfo/></Signature>";
        assert!(declares_default_namespace(text, 0));
        assert!(!declares_default_namespace("<Signature xmlns:ds='x'>", 0));
        assert!(!declares_default_namespace("<Signature a='xmlns=1'>", 0));
    }

    #[test]
    fn content_ids_lose_their_scheme() {
        assert_eq!(content_id(" cid:209 "), "209");
        assert_eq!(content_id("CID:abc"), "abc");
        assert_eq!(content_id("abc"), "abc");
    }
}
