//! Safe parsing: bytes in, a read-only tree out, or a refusal that says where and why.
//!
//! Everything here is a pure function of the input bytes (fuzz targets call [`parse`] directly).
//! The tree itself is [`roxmltree`]'s: it keeps namespace scopes per element, attribute values
//! after XML 1.0 §3.3.3 normalization (what C14N 1.0 §2.3 serializes) and byte ranges into the
//! decoded text, from which we read the original prefixes.
//!
//! Before the tree is built, a linear pre-scan ([`prescan`]) enforces what `roxmltree` does not:
//! no `<!DOCTYPE` (and so no entity declarations, internal or external: billion-laughs and XXE
//! are refused at the first `<!` in microseconds), a nesting depth and an attribute count per
//! element. `roxmltree` checks duplicate attributes pairwise, so an unbounded attribute count
//! would make parsing quadratic; the pre-scan is what keeps it linear.
//!
//! One repair is offered, never applied unasked: [`declare_missing_prefixes`]. Namespaces in
//! XML 1.0 §5 makes a prefix used without a declaration in scope a namespace well-formedness
//! error, and `roxmltree` refuses the document; libxml2 reports the error and, in recovery,
//! reads on. Real edXML packages need that reading (the official SDK's sample uses `edXML:` and
//! `xlink:` it never declares), so the repair declares each missing prefix on the outermost
//! element that uses it, and says so: callers report every [`DeclaredPrefix`], because a
//! signature computed over the producer's bytes was computed over a document no
//! namespace-aware reader could read as it was.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Error;

/// Resource limits for one document. [`Limits::default`] is what kyso applies to documents it
/// receives; each number says where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input in bytes. EU trusted lists, the largest signed XML files we know of
    /// in routine exchange, are 0.2–2 MB (the DSS fixtures hold a 1 MB one); e-invoices are tens of
    /// KB. 32 MiB leaves a 16× margin and keeps the tree (about 10× the input) well under 1 GiB.
    pub max_bytes: usize,
    /// Deepest element nesting. 256 is libxml2's default (`xmlParserMaxDepth` without
    /// `XML_PARSE_HUGE`), so anything xmlsec1 accepts we accept; it also bounds the recursion of the
    /// canonicalizer.
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element. The JDK's
    /// `jdk.xml.elementAttributeLimit` is 10,000; XMLDSig/XAdES elements carry at most five and the
    /// business documents we sign a few dozen, and `roxmltree`'s pairwise duplicate check costs
    /// n²/2 comparisons, so we take 1,024 (half a million comparisons at worst).
    pub max_attributes: usize,
    /// Most nodes in the tree (elements, text, comments, PIs). A 1 MB trusted list has about 40,000;
    /// 4 million bounds the tree to a few hundred MB even for the largest accepted input.
    pub max_nodes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 256,
            max_attributes: 1024,
            max_nodes: 4_000_000,
        }
    }
}

/// The text encoding the input arrived in; signing writes its output back in the same encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// Decoded input: the text and the encoding it came in.
#[derive(Clone, Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: Encoding,
    /// Whether a byte order mark preceded the text.
    pub bom: bool,
}

/// Decodes `bytes` as UTF-8 or UTF-16 (by byte order mark, or by the `<?` of the declaration in
/// UTF-16 without one, XML 1.0 Appendix F). An encoding declaration naming anything else is refused:
/// we would otherwise read the bytes differently from the signer.
pub fn decode<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Decoded<'a>, Error> {
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            len: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let (text, encoding, bom) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (utf8(rest, 3)?, Encoding::Utf8, true),
        [0xFF, 0xFE, rest @ ..] => (utf16(rest, u16::from_le_bytes)?, Encoding::Utf16Le, true),
        [0xFE, 0xFF, rest @ ..] => (utf16(rest, u16::from_be_bytes)?, Encoding::Utf16Be, true),
        [b'<', 0, ..] => (utf16(bytes, u16::from_le_bytes)?, Encoding::Utf16Le, false),
        [0, b'<', ..] => (utf16(bytes, u16::from_be_bytes)?, Encoding::Utf16Be, false),
        _ => (utf8(bytes, 0)?, Encoding::Utf8, false),
    };
    // A DTD is refused before the encoding is judged, so the error names the real problem.
    refuse_dtd_in_prolog(&text)?;
    if let Some(declared) = declared_encoding(&text) {
        let ok = match encoding {
            Encoding::Utf8 => declared.eq_ignore_ascii_case("utf-8"),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                declared.eq_ignore_ascii_case("utf-16")
                    || declared.eq_ignore_ascii_case("utf-16le")
                    || declared.eq_ignore_ascii_case("utf-16be")
            }
        };
        if !ok {
            return Err(Error::UnsupportedEncoding {
                declared: declared.to_string(),
            });
        }
    }
    Ok(Decoded {
        text,
        encoding,
        bom,
    })
}

/// Parses decoded text into a tree after the pre-scan. The returned document borrows `text`.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Result<roxmltree::Document<'a>, Error> {
    if text.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    prescan(text, limits)?;
    // roxmltree ignores the encoding declaration: `decode` has checked it.
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        entity_resolver: None,
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => Error::TooManyNodes {
            limit: limits.max_nodes,
        },
        roxmltree::Error::DtdDetected => Error::Dtd { line: 1, column: 1 },
        other => {
            let pos = other.pos();
            Error::Malformed {
                line: pos.row,
                column: pos.col,
                message: other.to_string(),
            }
        }
    })
}

/// Decodes and parses in one call, handing the tree to `f` (the tree borrows the decoded text,
/// which lives only for the call).
pub fn with_document<T>(
    bytes: &[u8],
    limits: &Limits,
    f: impl FnOnce(&roxmltree::Document<'_>, &Decoded<'_>) -> T,
) -> Result<T, Error> {
    let decoded = decode(bytes, limits)?;
    let doc = parse(&decoded.text, limits)?;
    Ok(f(&doc, &decoded))
}

/// A prefix the document used without declaring it, and the declaration the repair added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredPrefix {
    pub prefix: String,
    /// The namespace it was bound to: the caller's binding for a prefix it knows, else
    /// `urn:kyso:undeclared-prefix:` and the prefix (a name that says it was made up).
    pub namespace: String,
    /// Where the first element that needed it starts, in the text as it arrived.
    pub line: u32,
    pub column: u32,
    /// How many elements got the declaration (each the outermost user in its subtree).
    pub elements: usize,
}

/// The namespace given to a prefix the caller has no binding for.
pub const UNDECLARED_PREFIX_NAMESPACE: &str = "urn:kyso:undeclared-prefix:";

/// The document with a declaration added for every prefix it uses without one in scope (see the
/// module documentation), and what was added. `known` binds the prefixes the caller expects
/// (`edXML`, `xlink`); others get [`UNDECLARED_PREFIX_NAMESPACE`]. The text comes back borrowed
/// when nothing was missing. The pre-scan runs first, so the same limits hold and the scan is
/// linear: in-scope prefixes are counted in a map, not searched for.
///
/// Only element and attribute prefixes are repaired; `xml` is always bound and `xmlns` is a
/// declaration. A prefix that is not a plain name (it would need escaping to be declared) is
/// left alone, and the parser then refuses the document as before.
pub fn declare_missing_prefixes<'a>(
    text: &'a str,
    known: &[(&str, &str)],
    limits: &Limits,
) -> Result<(Cow<'a, str>, Vec<DeclaredPrefix>), Error> {
    if text.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            len: text.len(),
            limit: limits.max_bytes,
        });
    }
    prescan(text, limits)?;
    let b = text.as_bytes();
    // Prefixes in scope, with how many open elements declare each.
    let mut in_scope: HashMap<&'a str, usize> = HashMap::new();
    // Per open element: the prefixes it declared (its own, and any the repair added).
    let mut open: Vec<Vec<&'a str>> = Vec::new();
    let mut declared: Vec<DeclaredPrefix> = Vec::new();
    // Byte offset just after an element's name, and the declarations to insert there.
    let mut insertions: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let start = i + off;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            i = find(b, start + 4, b"-->").map_or(b.len(), |e| e + 3);
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(b, start + 9, b"]]>").map_or(b.len(), |e| e + 3);
        } else if rest.starts_with(b"<?") {
            i = find(b, start + 2, b"?>").map_or(b.len(), |e| e + 2);
        } else if rest.starts_with(b"<!") {
            // The pre-scan refused it already.
            i = memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e + 1);
        } else if rest.starts_with(b"</") {
            for prefix in open.pop().unwrap_or_default() {
                if let Some(n) = in_scope.get_mut(prefix) {
                    *n = n.saturating_sub(1);
                }
            }
            i = memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e + 1);
        } else {
            let tag = StartTag::read(text, start);
            i = tag.end;
            // An element's own declarations count for its own names (Namespaces in XML §6.1).
            let mut frame: Vec<&'a str> = tag
                .attributes
                .iter()
                .filter_map(|name| name.strip_prefix("xmlns:"))
                .collect();
            let used = std::iter::once(tag.name)
                .chain(tag.attributes.iter().copied())
                .filter(|n| *n != "xmlns" && !n.starts_with("xmlns:"))
                .filter_map(|n| n.split_once(':').map(|(p, _)| p))
                .filter(|p| *p != "xml");
            let mut added = String::new();
            for prefix in used {
                let bound = in_scope.get(prefix).is_some_and(|n| *n > 0) || frame.contains(&prefix);
                if bound || !is_plain_name(prefix) {
                    continue;
                }
                let namespace = known.iter().find(|(p, _)| *p == prefix).map_or_else(
                    || format!("{UNDECLARED_PREFIX_NAMESPACE}{prefix}"),
                    |(_, ns)| (*ns).to_owned(),
                );
                added.push_str(&format!(
                    " xmlns:{prefix}=\"{}\"",
                    escape_attribute(&namespace)
                ));
                frame.push(prefix);
                match declared.iter_mut().find(|d| d.prefix == prefix) {
                    Some(d) => d.elements += 1,
                    None => {
                        let (line, column) = line_column(text, start);
                        declared.push(DeclaredPrefix {
                            prefix: prefix.to_owned(),
                            namespace,
                            line,
                            column,
                            elements: 1,
                        });
                    }
                }
            }
            if !added.is_empty() {
                insertions.push((tag.name_end, added));
            }
            if !tag.self_closing {
                for prefix in &frame {
                    *in_scope.entry(prefix).or_default() += 1;
                }
                open.push(frame);
            }
        }
        if i >= b.len() {
            break;
        }
    }
    if insertions.is_empty() {
        return Ok((Cow::Borrowed(text), declared));
    }
    let extra: usize = insertions.iter().map(|(_, s)| s.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut from = 0;
    for (at, declaration) in insertions {
        out.push_str(&text[from..at]);
        out.push_str(&declaration);
        from = at;
    }
    out.push_str(&text[from..]);
    Ok((Cow::Owned(out), declared))
}

/// What the repair needs of a start tag: its name, where the name ends, its attribute names,
/// where the tag ends, and whether it closes itself. Values are skipped, quotes respected.
struct StartTag<'a> {
    name: &'a str,
    name_end: usize,
    attributes: Vec<&'a str>,
    end: usize,
    self_closing: bool,
}

impl<'a> StartTag<'a> {
    /// Reads the tag opening at `start` (the `<`); tolerant: a malformed tag is read as far as
    /// it goes, and the parser refuses it afterwards.
    fn read(text: &'a str, start: usize) -> StartTag<'a> {
        let b = text.as_bytes();
        let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        let ends_name = |c: u8| is_space(c) || matches!(c, b'/' | b'>' | b'=');
        let mut j = start + 1;
        while j < b.len() && !ends_name(b[j]) {
            j += 1;
        }
        let name_end = j;
        let name = text.get(start + 1..name_end).unwrap_or("");
        let mut attributes = Vec::new();
        let mut self_closing = false;
        while j < b.len() {
            match b[j] {
                b'>' => {
                    self_closing = j > start && b[j - 1] == b'/';
                    j += 1;
                    break;
                }
                b'"' | b'\'' => {
                    let quote = b[j];
                    j = memchr(quote, &b[j + 1..]).map_or(b.len(), |e| j + 1 + e + 1);
                }
                c if is_space(c) || c == b'/' || c == b'=' => j += 1,
                _ => {
                    let from = j;
                    while j < b.len() && !ends_name(b[j]) && !matches!(b[j], b'"' | b'\'') {
                        j += 1;
                    }
                    if let Some(attribute) = text.get(from..j) {
                        attributes.push(attribute);
                    }
                }
            }
        }
        StartTag {
            name,
            name_end,
            attributes,
            end: j.min(b.len()),
            self_closing,
        }
    }
}

/// A prefix that can be written into a declaration as it is: letters, digits, `_`, `-`, `.`.
fn is_plain_name(prefix: &str) -> bool {
    let mut chars = prefix.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Scans the prolog (up to the document element) for a markup declaration.
fn refuse_dtd_in_prolog(text: &str) -> Result<(), Error> {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let start = i + off;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            i = find(b, start + 4, b"-->").map_or(b.len(), |e| e + 3);
        } else if rest.starts_with(b"<?") {
            i = find(b, start + 2, b"?>").map_or(b.len(), |e| e + 2);
        } else if rest.starts_with(b"<!") {
            let (line, column) = line_column(text, start);
            return Err(Error::Dtd { line, column });
        } else {
            return Ok(());
        }
    }
    Ok(())
}

/// Linear scan over the markup that refuses DTDs and enforces depth and attribute limits before
/// any tree is built. It does not validate well-formedness; the tree builder does that after.
fn prescan(text: &str, limits: &Limits) -> Result<(), Error> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let start = i + off;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            i = find(b, start + 4, b"-->").map_or(b.len(), |e| e + 3);
        } else if rest.starts_with(b"<![CDATA[") {
            i = find(b, start + 9, b"]]>").map_or(b.len(), |e| e + 3);
        } else if rest.starts_with(b"<!") {
            // <!DOCTYPE, or any other markup declaration outside a DTD: both refused.
            let (line, column) = line_column(text, start);
            return Err(Error::Dtd { line, column });
        } else if rest.starts_with(b"<?") {
            i = find(b, start + 2, b"?>").map_or(b.len(), |e| e + 2);
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e + 1);
        } else {
            // A start tag: count attributes ('=' outside quotes) up to the closing '>'.
            let mut j = start + 1;
            let mut attributes = 0usize;
            let mut quote = None;
            let mut self_closing = false;
            while j < b.len() {
                let c = b[j];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None => match c {
                        b'"' | b'\'' => quote = Some(c),
                        b'=' => {
                            attributes += 1;
                            if attributes > limits.max_attributes {
                                let (line, column) = line_column(text, start);
                                return Err(Error::TooManyAttributes {
                                    line,
                                    column,
                                    limit: limits.max_attributes,
                                });
                            }
                        }
                        b'>' => {
                            self_closing = j > start && b[j - 1] == b'/';
                            break;
                        }
                        _ => {}
                    },
                }
                j += 1;
            }
            if depth + 1 > limits.max_depth {
                let (line, column) = line_column(text, start);
                return Err(Error::TooDeep {
                    line,
                    column,
                    limit: limits.max_depth,
                });
            }
            if !self_closing {
                depth += 1;
            }
            i = j + 1;
        }
        if i >= b.len() {
            break;
        }
    }
    Ok(())
}

/// 1-based line and column (in characters) of byte offset `at`, for error messages.
pub(crate) fn line_column(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at.min(text.len())];
    let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&c| c == needle)
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn utf8(bytes: &[u8], offset: usize) -> Result<Cow<'_, str>, Error> {
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| Error::InvalidEncoding {
            encoding: "UTF-8",
            offset: offset + e.valid_up_to(),
        })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Cow<'static, str>, Error> {
    if !bytes.len().is_multiple_of(2) {
        return Err(Error::InvalidEncoding {
            encoding: "UTF-16",
            offset: bytes.len() - 1,
        });
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, r) in char::decode_utf16(units).enumerate() {
        match r {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(Error::InvalidEncoding {
                    encoding: "UTF-16",
                    offset: i * 2,
                });
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// The `encoding` pseudo-attribute of the XML declaration, if there is one.
fn declared_encoding(text: &str) -> Option<&str> {
    let decl = text.strip_prefix("<?xml")?;
    if !decl.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let value = &rest[1..];
    Some(&value[..value.find(quote)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_bytes(bytes: &[u8]) -> Result<(), Error> {
        with_document(bytes, &Limits::default(), |_, _| ())
    }

    #[test]
    fn refuses_doctype_with_position() {
        let e = parse_bytes(b"<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")
            .unwrap_err();
        assert!(matches!(e, Error::Dtd { line: 2, column: 1 }), "{e:?}");
    }

    #[test]
    fn refuses_billion_laughs_fast() {
        let mut doc =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            doc.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!(
                    "&lol{};",
                    if i == 1 {
                        String::new()
                    } else {
                        (i - 1).to_string()
                    }
                )
                .repeat(10)
            ));
        }
        doc.push_str("]>\n<lolz>&lol9;</lolz>");
        let t = std::time::Instant::now();
        assert!(matches!(
            parse_bytes(doc.as_bytes()),
            Err(Error::Dtd { .. })
        ));
        assert!(t.elapsed() < std::time::Duration::from_millis(50));
    }

    #[test]
    fn doctype_is_named_even_under_a_foreign_encoding() {
        let doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><!-- <!x --><!DOCTYPE a SYSTEM 'http://evil/'><a/>";
        assert!(matches!(
            parse_bytes(doc),
            Err(Error::Dtd {
                line: 1,
                column: 56
            })
        ));
        // Markup-declaration look-alikes inside comments are not declarations.
        assert!(parse_bytes(b"<!-- <!DOCTYPE --><a><!-- <!ENTITY --></a>").is_ok());
    }

    #[test]
    fn refuses_undeclared_entity() {
        assert!(matches!(
            parse_bytes(b"<a>&xxe;</a>"),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn depth_limit() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let ok = "<a><b><c/></b></a>";
        assert!(parse(ok, &limits).is_ok());
        let deep = "<a><b><c><d/></c></b></a>";
        assert!(matches!(
            parse(deep, &limits),
            Err(Error::TooDeep { limit: 3, .. })
        ));
    }

    #[test]
    fn attribute_limit_counts_outside_quotes_only() {
        let limits = Limits {
            max_attributes: 2,
            ..Limits::default()
        };
        assert!(parse("<a x='1=2=3' y=\"a=b\"/>", &limits).is_ok());
        assert!(matches!(
            parse("<a x='1' y='2' z='3'/>", &limits),
            Err(Error::TooManyAttributes { .. })
        ));
    }

    #[test]
    fn node_limit() {
        let limits = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        assert!(matches!(
            parse("<a><b/><b/><b/><b/><b/><b/></a>", &limits),
            Err(Error::TooManyNodes { .. })
        ));
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(matches!(
            decode(b"<abc/>", &limits),
            Err(Error::TooLarge { len: 6, limit: 4 })
        ));
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>Hà Nội</a>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        for bytes in [&le[..], &be[..], &le[2..], &be[2..]] {
            let got = with_document(bytes, &Limits::default(), |doc, _| {
                doc.root_element().text().map(str::to_owned)
            })
            .unwrap();
            assert_eq!(got.as_deref(), Some("Hà Nội"));
        }
    }

    const QCVN: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
    const XLINK: &str = "http://www.w3.org/1999/xlink";

    #[test]
    fn undeclared_prefixes_are_declared_on_their_outermost_users_only() {
        // The official SDK's older sample, in shape: `edXML:` declared inside the envelope only,
        // used again at the root level; `xlink:` never declared.
        let text = concat!(
            "<edXML xmlns=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">\n",
            "<edXML:edXMLEnvelope xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">",
            "<edXML:Reference xlink:href=\"\"><edXML:ContentId>1</edXML:ContentId></edXML:Reference>",
            "</edXML:edXMLEnvelope>\n",
            "<edXML:AttachmentEncoded><edXML:Attachment a='x>y'/></edXML:AttachmentEncoded>",
            "<edXML:Other/><odd:x/></edXML>"
        );
        assert!(
            parse(text, &Limits::default()).is_err(),
            "not namespace-well-formed"
        );
        let known = [("edXML", QCVN), ("xlink", XLINK)];
        let (repaired, declared) =
            declare_missing_prefixes(text, &known, &Limits::default()).unwrap();
        let doc = parse(&repaired, &Limits::default()).unwrap();
        let names: Vec<(Option<&str>, &str)> = doc
            .descendants()
            .filter(roxmltree::Node::is_element)
            .map(|n| (n.tag_name().namespace(), n.tag_name().name()))
            .collect();
        assert!(
            names.contains(&(Some(QCVN), "AttachmentEncoded")),
            "{names:?}"
        );
        assert!(names.contains(&(Some(QCVN), "Attachment")), "{names:?}");
        assert!(
            names.contains(&(Some("urn:kyso:undeclared-prefix:odd"), "x")),
            "{names:?}"
        );
        let reference = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Reference")
            .unwrap();
        assert_eq!(reference.attribute((XLINK, "href")), Some(""));
        // The envelope, which declared edXML itself, is untouched; each repaired subtree gets
        // one declaration at its top.
        assert_eq!(repaired.matches("xmlns:edXML=").count(), 3, "{repaired}");
        let edxml = declared.iter().find(|d| d.prefix == "edXML").unwrap();
        assert_eq!((edxml.line, edxml.column, edxml.elements), (3, 1, 2));
        assert_eq!(edxml.namespace, QCVN);
        let xlink = declared.iter().find(|d| d.prefix == "xlink").unwrap();
        assert_eq!((xlink.line, xlink.elements), (2, 1));
        assert_eq!(declared.len(), 3);
    }

    #[test]
    fn a_well_formed_document_is_not_copied() {
        let text = "<a xmlns:p='u'><p:b p:c='1'/><!-- <q:x> --><![CDATA[<r:y>]]></a>";
        let (out, declared) = declare_missing_prefixes(text, &[], &Limits::default()).unwrap();
        assert!(matches!(out, Cow::Borrowed(_)));
        assert!(declared.is_empty());
        // The scope ends with the element that declared it.
        let text = "<a><b xmlns:p='u'/><p:c/></a>";
        let (out, declared) = declare_missing_prefixes(text, &[], &Limits::default()).unwrap();
        assert_eq!(declared.len(), 1);
        assert!(parse(&out, &Limits::default()).is_ok(), "{out}");
    }

    #[test]
    fn the_repair_keeps_the_limits() {
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert!(matches!(
            declare_missing_prefixes("<a><b><p:c/></b></a>", &[], &limits),
            Err(Error::TooDeep { .. })
        ));
        assert!(matches!(
            declare_missing_prefixes("<!DOCTYPE a><a/>", &[], &Limits::default()),
            Err(Error::Dtd { .. })
        ));
        // A prefix that would need escaping is not declared: the parser refuses as before.
        let (out, declared) =
            declare_missing_prefixes("<a&b:c/>", &[], &Limits::default()).unwrap();
        assert!(declared.is_empty());
        assert!(parse(&out, &Limits::default()).is_err());
    }

    #[test]
    fn refuses_other_declared_encodings() {
        assert!(matches!(
            parse_bytes(b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>"),
            Err(Error::UnsupportedEncoding { .. })
        ));
        assert!(parse_bytes(b"\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8'?><a/>").is_ok());
        assert!(matches!(
            parse_bytes(b"<a>\xC3</a>"),
            Err(Error::InvalidEncoding { offset: 3, .. })
        ));
    }
}
