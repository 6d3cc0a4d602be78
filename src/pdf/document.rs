//! A PDF file as kyso reads it: the cross-reference chain, the trailer, and objects fetched on
//! demand (ISO 32000-2 §7.5).
//!
//! Reading starts at the last `startxref` and follows `/Prev` (and `/XRefStm` in hybrid files)
//! back to the first revision; the newest entry for an object number wins. A document may also
//! be read as a file plus an incremental update still in memory ([`Document::parse_updated`]):
//! that is how a signed document gets its DSS update without a second copy of a large file. Both classic tables
//! and cross-reference streams are read, and objects inside object streams. A file whose
//! cross-reference data is broken is refused rather than reconstructed: signing appends to the
//! file's own structure, and guessing that structure could make a signature cover something other
//! than what readers display.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::Error;
use super::filter;
use super::object::{Dictionary, Object, ObjectId, Stream};
use super::parser::{Head, Parser, find, rfind};

/// Most cross-reference sections followed. Each incremental save adds one; documents signed by
/// ten people in turn, with form filling between signatures, have a few dozen. 1,000 bounds the
/// work a looping or hostile `/Prev` chain can cause.
const MAX_SECTIONS: usize = 1000;

/// Longest chain of references resolved when looking up one value (an indirect `/Length` pointing
/// to a reference, etc.) and deepest page tree walked.
const MAX_REFERENCE_HOPS: usize = 32;

/// Most pages walked in a page tree. Government documents run to hundreds of pages; a million
/// bounds a looping or hostile tree.
const MAX_PAGES: usize = 1_000_000;

/// Where an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// At a byte offset in the file.
    Offset(usize),
    /// The `index`-th object of object stream `stream`.
    Compressed { stream: u32, index: usize },
    /// Freed in a newer section, which hides every older entry for the number.
    Free,
}

/// The kind of cross-reference section a revision ends with; an incremental update should match
/// the kind of the section it follows (ISO 32000-2 §7.5.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    Table,
    Stream,
}

/// A parsed PDF file.
pub struct Document<'a> {
    bytes: &'a [u8],
    /// Bytes that follow `bytes` in the document but live in another buffer (an update not yet
    /// written out); empty for a document read from one buffer.
    update: &'a [u8],
    version: String,
    trailer: Dictionary,
    last_xref_kind: XrefKind,
    last_startxref: usize,
    entries: HashMap<u32, (u16, Location)>,
    /// Every offset any cross-reference section gives for an object, superseded ones included:
    /// bytes at other offsets are not part of the document as its revisions define it.
    indexed: HashSet<usize>,
    object_streams: RefCell<HashMap<u32, Vec<(u32, Object)>>>,
}

impl<'a> Document<'a> {
    /// Reads the structure of `bytes`. Encrypted documents are refused: kyso signs and verifies
    /// only documents it can read.
    pub fn parse(bytes: &'a [u8]) -> Result<Document<'a>, Error> {
        Document::parse_updated(bytes, &[])
    }

    /// Reads the document made of `bytes` followed by `update`, an incremental update whose
    /// offsets count from the start of `bytes`, without joining them into one buffer.
    pub fn parse_updated(bytes: &'a [u8], update: &'a [u8]) -> Result<Document<'a>, Error> {
        let header_at = find(&bytes[..bytes.len().min(1024)], b"%PDF-").ok_or(Error::NotPdf)?;
        let version: String = bytes[header_at + 5..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|&b| b as char)
            .collect();
        let startxref = if update.is_empty() {
            last_startxref(bytes)?
        } else {
            last_startxref(update)?
        };
        let mut doc = Document {
            bytes,
            update,
            version,
            trailer: Dictionary::new(),
            last_xref_kind: XrefKind::Table,
            last_startxref: startxref,
            entries: HashMap::new(),
            indexed: HashSet::new(),
            object_streams: RefCell::new(HashMap::new()),
        };
        let mut pending = vec![startxref];
        let mut seen = HashSet::new();
        let mut first = true;
        while let Some(offset) = pending.pop() {
            if !seen.insert(offset) {
                continue;
            }
            if seen.len() > MAX_SECTIONS {
                return Err(Error::Xref {
                    offset,
                    reason: format!("more than {MAX_SECTIONS} cross-reference sections"),
                });
            }
            let (kind, trailer) = doc.read_section(offset)?;
            if first {
                doc.trailer = trailer.clone();
                doc.last_xref_kind = kind;
                first = false;
            }
            if let Some(prev) = trailer.integer(b"Prev") {
                pending.push(offset_of(prev, offset)?);
            }
            // Hybrid files: the stream supplements the table it is attached to (§7.5.8.4).
            if let Some(stm) = trailer.integer(b"XRefStm") {
                pending.push(offset_of(stm, offset)?);
            }
        }
        if doc.trailer.get(b"Encrypt").is_some() {
            return Err(Error::Encrypted);
        }
        if doc.trailer.reference(b"Root").is_none() {
            return Err(Error::Structure("the trailer has no /Root".into()));
        }
        Ok(doc)
    }

    /// The file's bytes, without an update parsed with [`Document::parse_updated`].
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The document's length, update included.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.update.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the document's last byte ends a line (an update may then follow directly).
    pub fn ends_with_eol(&self) -> bool {
        let last = self.update.last().or(self.bytes.last());
        matches!(last, Some(b'\n' | b'\r'))
    }

    /// A parser at document offset `offset`, over the buffer that holds it; and that buffer's
    /// start, to bring parser offsets back to document offsets.
    fn parser_at(&self, offset: usize) -> (Parser<'a>, usize) {
        if offset < self.bytes.len() {
            (Parser::new(self.bytes, offset), 0)
        } else {
            let base = self.bytes.len();
            (Parser::new(self.update, offset - base), base)
        }
    }

    /// The header's version, e.g. `1.7`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The newest trailer.
    pub fn trailer(&self) -> &Dictionary {
        &self.trailer
    }

    /// The kind of the newest cross-reference section.
    pub fn last_xref_kind(&self) -> XrefKind {
        self.last_xref_kind
    }

    /// Offset of the newest cross-reference section.
    pub fn last_startxref(&self) -> usize {
        self.last_startxref
    }

    /// One more than the highest object number in use (`/Size`, or counted if that is short).
    pub fn size(&self) -> u32 {
        let declared = self
            .trailer
            .integer(b"Size")
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let counted = self.entries.keys().max().map_or(0, |m| m + 1);
        declared.max(counted)
    }

    /// Every object in use with its current location.
    pub fn locations(&self) -> impl Iterator<Item = (ObjectId, Location)> + '_ {
        self.entries
            .iter()
            .filter(|(_, (_, loc))| *loc != Location::Free)
            .map(|(&n, &(g, loc))| (ObjectId::new(n, g), loc))
    }

    /// Whether some cross-reference section (of any revision) places an object at `offset`.
    pub fn is_indexed(&self, offset: usize) -> bool {
        self.indexed.contains(&offset)
    }

    /// Where the current version of object `id` lives.
    pub fn location(&self, id: ObjectId) -> Option<Location> {
        match self.entries.get(&id.number) {
            Some(&(generation, location))
                if generation == id.generation && location != Location::Free =>
            {
                Some(location)
            }
            _ => None,
        }
    }

    /// The object `id`, or `Null` for an object that does not exist (§7.3.10).
    pub fn object(&self, id: ObjectId) -> Result<Object, Error> {
        Ok(match self.object_head(id)? {
            Head::Object(object) => object,
            Head::Stream { dict, start, end } => Object::Stream(Stream {
                dict,
                data: self.span(start, end).to_vec(),
            }),
        })
    }

    /// Document offsets `[start, end)`, which lie in one buffer (the file or the update).
    fn span(&self, start: usize, end: usize) -> &'a [u8] {
        if start < self.bytes.len() {
            &self.bytes[start..end]
        } else {
            let base = self.bytes.len();
            &self.update[start - base..end - base]
        }
    }

    /// The object `id` as [`Document::object`] reads it, except that a stream comes without a
    /// copy of its data ([`Head::Stream`], its extent in document offsets): for walks over every
    /// object that want dictionaries and references, where copying each image and content
    /// stream would cost more than the walk. Accepts and refuses exactly what
    /// [`Document::object`] does.
    pub fn object_head(&self, id: ObjectId) -> Result<Head, Error> {
        let Some(&(generation, location)) = self.entries.get(&id.number) else {
            return Ok(Head::Object(Object::Null));
        };
        if generation != id.generation {
            return Ok(Head::Object(Object::Null));
        }
        match location {
            Location::Free => Ok(Head::Object(Object::Null)),
            Location::Offset(offset) => {
                let (mut parser, base) = self.parser_at(offset);
                let (found, head) = parser
                    .read_indirect_head(&|r| self.length_of(r))
                    .map_err(|e| e.rebased(base).in_object(id))?;
                if found.number != id.number {
                    return Err(Error::Xref {
                        offset,
                        reason: format!(
                            "the cross-reference table points object {} at object {}",
                            id.number, found.number
                        ),
                    });
                }
                Ok(match head {
                    Head::Stream { dict, start, end } => Head::Stream {
                        dict,
                        start: start + base,
                        end: end + base,
                    },
                    object => object,
                })
            }
            Location::Compressed { stream, index } => {
                self.compressed(id, stream, index).map(Head::Object)
            }
        }
    }

    /// `object` itself, or what it refers to.
    pub fn resolve(&self, object: &Object) -> Result<Object, Error> {
        let mut current = object.clone();
        for _ in 0..MAX_REFERENCE_HOPS {
            match current {
                Object::Reference(r) => current = self.object(r)?,
                other => return Ok(other),
            }
        }
        Err(Error::Structure(
            "a chain of references that does not end".into(),
        ))
    }

    /// The dictionary `id` holds (a stream's dictionary for a stream).
    pub fn dictionary(&self, id: ObjectId) -> Result<Dictionary, Error> {
        match self.object(id)? {
            Object::Dictionary(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            _ => Err(Error::Structure(format!("object {id} is not a dictionary"))),
        }
    }

    /// The document catalog and its id.
    pub fn catalog(&self) -> Result<(ObjectId, Dictionary), Error> {
        let id = self
            .trailer
            .reference(b"Root")
            .ok_or_else(|| Error::Structure("the trailer has no /Root".into()))?;
        let catalog = self.dictionary(id)?;
        Ok((id, catalog))
    }

    /// The pages in order.
    pub fn pages(&self) -> Result<Vec<ObjectId>, Error> {
        let (_, catalog) = self.catalog()?;
        let root = catalog
            .reference(b"Pages")
            .ok_or_else(|| Error::Structure("the catalog has no /Pages".into()))?;
        let mut pages = Vec::new();
        let mut visited = HashSet::new();
        self.walk_pages(root, &mut pages, &mut visited, 0)?;
        Ok(pages)
    }

    /// A page attribute, looked up the page tree if the page does not set it: `Resources`,
    /// `MediaBox`, `CropBox` and `Rotate` are inheritable (§7.7.3.4). Resolved.
    pub fn page_attribute(&self, page: ObjectId, key: &[u8]) -> Result<Option<Object>, Error> {
        let mut node = page;
        // The page tree was walked to this page within the same depth bound.
        for _ in 0..=MAX_REFERENCE_HOPS {
            let dict = self.dictionary(node)?;
            if let Some(value) = dict.get(key) {
                return self.resolve(value).map(Some);
            }
            match dict.reference(b"Parent") {
                Some(parent) => node = parent,
                None => return Ok(None),
            }
        }
        Err(Error::Structure(format!(
            "the page tree above {page} loops or is too deep"
        )))
    }

    fn walk_pages(
        &self,
        node: ObjectId,
        pages: &mut Vec<ObjectId>,
        visited: &mut HashSet<ObjectId>,
        depth: usize,
    ) -> Result<(), Error> {
        if depth > MAX_REFERENCE_HOPS || !visited.insert(node) || pages.len() >= MAX_PAGES {
            return Err(Error::Structure(format!(
                "the page tree loops or is too deep at {node}"
            )));
        }
        let dict = self.dictionary(node)?;
        if dict.has_type(b"Page") || (dict.get(b"Kids").is_none() && !dict.has_type(b"Pages")) {
            pages.push(node);
            return Ok(());
        }
        let kids = self.resolve(dict.get(b"Kids").unwrap_or(&Object::Null))?;
        for kid in kids.as_array().unwrap_or(&[]) {
            if let Some(kid) = kid.as_reference() {
                self.walk_pages(kid, pages, visited, depth + 1)?;
            }
        }
        Ok(())
    }

    fn length_of(&self, id: ObjectId) -> Option<i64> {
        // Only a plain offset: a /Length inside an object stream cannot recurse into streams.
        match self.entries.get(&id.number) {
            Some(&(_, Location::Offset(offset))) => {
                let (mut p, _) = self.parser_at(offset);
                p.read_unsigned()?;
                p.read_unsigned()?;
                if !p.eat_keyword(b"obj") {
                    return None;
                }
                p.read_object(0).ok()?.as_integer()
            }
            _ => None,
        }
    }

    fn compressed(&self, id: ObjectId, stream: u32, index: usize) -> Result<Object, Error> {
        if let Some(objects) = self.object_streams.borrow().get(&stream) {
            return lookup_compressed(objects, id, stream, index);
        }
        let objects = self.read_object_stream(stream)?;
        let found = lookup_compressed(&objects, id, stream, index);
        self.object_streams.borrow_mut().insert(stream, objects);
        found
    }

    fn read_object_stream(&self, stream: u32) -> Result<Vec<(u32, Object)>, Error> {
        let stream_id = ObjectId::new(stream, 0);
        let object = match self.entries.get(&stream) {
            Some((0, Location::Offset(_))) => self.object(stream_id)?,
            _ => {
                return Err(Error::Structure(format!(
                    "object stream {stream} is missing or itself compressed"
                )));
            }
        };
        let Object::Stream(s) = object else {
            return Err(Error::Structure(format!("object {stream} is not a stream")));
        };
        let data = filter::decode(&s).map_err(|e| e.in_object(stream_id))?;
        let n = usize::try_from(s.dict.integer(b"N").unwrap_or(0)).unwrap_or(0);
        let first = usize::try_from(s.dict.integer(b"First").unwrap_or(0)).unwrap_or(0);
        let mut header = Parser::new(&data, 0);
        let mut offsets = Vec::with_capacity(n.min(100_000));
        for _ in 0..n {
            let (Some(num), Some(off)) = (header.read_unsigned(), header.read_unsigned()) else {
                break;
            };
            // An object number beyond u32 (ISO 32000-2 caps them far lower) or an offset beyond
            // the address space names nothing: stop reading the header there rather than let
            // a truncated number alias another object.
            let (Ok(num), Ok(off)) = (u32::try_from(num), usize::try_from(off)) else {
                break;
            };
            offsets.push((num, off));
        }
        let mut objects = Vec::with_capacity(offsets.len());
        for (num, off) in offsets {
            let at = first.saturating_add(off);
            let object = if at < data.len() {
                Parser::new(&data, at)
                    .read_object(0)
                    .map_err(|e| e.in_object(ObjectId::new(num, 0)))?
            } else {
                Object::Null
            };
            objects.push((num, object));
        }
        Ok(objects)
    }

    /// Reads the section at `offset`; records entries not already known; returns its trailer.
    fn read_section(&mut self, offset: usize) -> Result<(XrefKind, Dictionary), Error> {
        // A cross-reference stream is an object at this offset, whether or not it lists itself.
        self.indexed.insert(offset);
        if offset >= self.len() {
            return Err(Error::Xref {
                offset,
                reason: "points past the end of the file".into(),
            });
        }
        let (mut p, base) = self.parser_at(offset);
        if p.eat_keyword(b"xref") {
            let trailer = self.read_table(&mut p).map_err(|e| e.rebased(base))?;
            return Ok((XrefKind::Table, trailer));
        }
        let (_, object) = self
            .parser_at(offset)
            .0
            .read_indirect(&|_| None)
            .map_err(|_| Error::Xref {
                offset,
                reason: "neither `xref` nor a cross-reference stream".into(),
            })?;
        let Object::Stream(stream) = object else {
            return Err(Error::Xref {
                offset,
                reason: "not a cross-reference stream".into(),
            });
        };
        if !stream.dict.has_type(b"XRef") {
            return Err(Error::Xref {
                offset,
                reason: "the stream is not /Type /XRef".into(),
            });
        }
        self.read_stream_entries(offset, &stream)?;
        Ok((XrefKind::Stream, stream.dict))
    }

    fn read_table(&mut self, p: &mut Parser<'_>) -> Result<Dictionary, Error> {
        loop {
            if p.eat_keyword(b"trailer") {
                return match p.read_object(0)? {
                    Object::Dictionary(d) => Ok(d),
                    _ => Err(Error::Xref {
                        offset: p.pos(),
                        reason: "the trailer is not a dictionary".into(),
                    }),
                };
            }
            let at = p.pos();
            let bad = |reason: &str| Error::Xref {
                offset: at,
                reason: reason.to_owned(),
            };
            let start = p
                .read_unsigned()
                .ok_or_else(|| bad("expected a subsection or `trailer`"))?;
            let count = p
                .read_unsigned()
                .ok_or_else(|| bad("expected an entry count"))?;
            for i in 0..count {
                let number = start
                    .checked_add(i)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad("object number out of range"))?;
                let field1 = p
                    .read_unsigned()
                    .ok_or_else(|| bad("expected an entry offset"))?;
                let generation = p
                    .read_unsigned()
                    .ok_or_else(|| bad("expected a generation"))?;
                let in_use = if p.eat_keyword(b"n") {
                    true
                } else if p.eat_keyword(b"f") {
                    false
                } else {
                    return Err(bad("expected `n` or `f`"));
                };
                // Object 0 is the head of the free list; an "in use" object 0 is a broken entry.
                if in_use && number != 0 {
                    let offset = usize::try_from(field1).map_err(|_| bad("offset out of range"))?;
                    if offset >= self.len() {
                        return Err(Error::Xref {
                            offset: at,
                            reason: format!("object {number} is placed past the end of the file"),
                        });
                    }
                    self.indexed.insert(offset);
                    self.entries.entry(number).or_insert((
                        u16::try_from(generation).unwrap_or(u16::MAX),
                        Location::Offset(offset),
                    ));
                } else {
                    // A free entry in a newer section hides older ones.
                    self.entries.entry(number).or_insert((0, Location::Free));
                }
            }
        }
    }

    fn read_stream_entries(&mut self, offset: usize, stream: &super::Stream) -> Result<(), Error> {
        let bad = |reason: String| Error::Xref { offset, reason };
        let widths: Vec<usize> = stream
            .dict
            .get(b"W")
            .and_then(Object::as_array)
            .ok_or_else(|| bad("no /W".into()))?
            .iter()
            .map(|w| {
                w.as_integer()
                    .and_then(|w| usize::try_from(w).ok())
                    .unwrap_or(0)
            })
            .collect();
        if widths.len() != 3 || widths.iter().any(|&w| w > 8) {
            return Err(bad("/W is not three widths of at most 8 bytes".into()));
        }
        let row = widths.iter().sum::<usize>();
        if row == 0 {
            return Err(bad("/W gives empty entries".into()));
        }
        let size = stream.dict.integer(b"Size").unwrap_or(0).max(0);
        let index: Vec<i64> = match stream.dict.get(b"Index").and_then(Object::as_array) {
            Some(a) => a.iter().filter_map(Object::as_integer).collect(),
            None => vec![0, size],
        };
        let data = filter::decode(stream)?;
        let mut rows = data.chunks_exact(row);
        for pair in index.chunks(2) {
            let [start, count] = pair else {
                return Err(bad("/Index has an odd number of values".into()));
            };
            for i in 0..(*count).max(0) {
                let Some(entry) = rows.next() else {
                    return Err(bad("fewer entries than /Index announces".into()));
                };
                let number = u32::try_from(start + i)
                    .map_err(|_| bad("object number out of range".into()))?;
                let (f1, rest) = entry.split_at(widths[0]);
                let (f2, f3) = rest.split_at(widths[1]);
                // A zero-width type field means type 1 (§7.5.8.2, Table 17).
                let kind = if widths[0] == 0 { 1 } else { be(f1) };
                let (f2, f3) = (be(f2), be(f3));
                let location = match kind {
                    0 => (0, Location::Free),
                    1 => {
                        let at = usize::try_from(f2).unwrap_or(usize::MAX);
                        if at >= self.len() {
                            return Err(bad(format!(
                                "object {number} is placed past the end of the file"
                            )));
                        }
                        (u16::try_from(f3).unwrap_or(u16::MAX), Location::Offset(at))
                    }
                    2 => (
                        0,
                        Location::Compressed {
                            stream: u32::try_from(f2)
                                .map_err(|_| bad("bad object stream number".into()))?,
                            index: usize::try_from(f3).unwrap_or(usize::MAX),
                        },
                    ),
                    // Unknown types are to be ignored as null references (§7.5.8.3).
                    _ => continue,
                };
                if let (_, Location::Offset(at)) = location {
                    self.indexed.insert(at);
                }
                if number != 0 {
                    self.entries.entry(number).or_insert(location);
                }
            }
        }
        Ok(())
    }
}

fn lookup_compressed(
    objects: &[(u32, Object)],
    id: ObjectId,
    stream: u32,
    index: usize,
) -> Result<Object, Error> {
    match objects.get(index) {
        Some((n, o)) if *n == id.number => Ok(o.clone()),
        _ => objects
            .iter()
            .find(|(n, _)| *n == id.number)
            .map(|(_, o)| o.clone())
            .ok_or_else(|| {
                Error::Structure(format!(
                    "object {} is not in object stream {stream}",
                    id.number
                ))
            }),
    }
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn offset_of(value: i64, from: usize) -> Result<usize, Error> {
    usize::try_from(value).map_err(|_| Error::Xref {
        offset: from,
        reason: format!("negative offset {value}"),
    })
}

/// The offset after the last `startxref` keyword.
fn last_startxref(bytes: &[u8]) -> Result<usize, Error> {
    // The keyword sits in the last kilobyte in practice; search the last 64 KiB for files with
    // trailing garbage after %%EOF.
    let tail_start = bytes.len().saturating_sub(64 * 1024);
    let at = rfind(&bytes[tail_start..], b"startxref").ok_or(Error::NoStartxref)? + tail_start;
    Parser::new(bytes, at + b"startxref".len())
        .read_unsigned()
        .and_then(|v| usize::try_from(v).ok())
        .ok_or(Error::NoStartxref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample::{SampleOptions, sample_pdf};

    /// Appends a cross-reference section whose `/Prev` points at itself.
    fn with_looping_prev(mut bytes: Vec<u8>) -> Vec<u8> {
        let at = bytes.len();
        bytes.extend_from_slice(
            format!(
                "xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 6/Root 1 0 R/Prev {at}>>\nstartxref\n{at}\n%%EOF\n"
            )
            .as_bytes(),
        );
        bytes
    }

    #[test]
    fn a_prev_chain_that_loops_ends() {
        let bytes = with_looping_prev(sample_pdf(&SampleOptions::default()));
        let started = std::time::Instant::now();
        // The loop is cut by the visited set: the document reads as its one real section.
        let result = Document::parse(&bytes);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        match result {
            Ok(doc) => assert!(doc.catalog().is_err() || doc.pages().is_ok()),
            Err(e) => assert!(matches!(e, Error::Xref { .. }), "{e}"),
        }
    }

    #[test]
    fn a_page_tree_that_loops_is_an_error_not_a_hang() {
        let mut bytes = sample_pdf(&SampleOptions::default());
        // Make the page tree's /Kids point back at the tree itself.
        let kids = bytes
            .windows(13)
            .position(|w| w == b"/Kids [4 0 R]")
            .expect("the sample's page tree");
        bytes[kids..kids + "/Kids [4 0 R]".len()].copy_from_slice(b"/Kids [2 0 R]");
        let doc = Document::parse(&bytes).unwrap();
        let pages = doc.pages();
        assert!(matches!(pages, Err(Error::Structure(_))), "{pages:?}");
    }

    #[test]
    fn entries_past_the_end_of_the_file_are_refused() {
        let mut bytes = sample_pdf(&SampleOptions::default());
        let table = bytes
            .windows(5)
            .position(|w| w == b"xref\n")
            .expect("a classic table");
        // The first in-use entry follows the free head entry "0000000000 65535 f \n".
        let first = table
            + bytes[table..]
                .windows(4)
                .position(|w| w == b" n \n")
                .expect("an in-use entry")
            - 16;
        bytes[first..first + 10].copy_from_slice(b"9999999999");
        assert!(matches!(Document::parse(&bytes), Err(Error::Xref { .. })));
    }
}
