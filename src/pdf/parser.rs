//! Reading PDF objects from bytes (ISO 32000-2 §7.2–7.3).
//!
//! The parser works on the file's bytes in place and reads only the objects asked for: signing a
//! 200 MB document reads its trailer, catalog, one page and the form, never the whole file.
//! Nesting is bounded ([`MAX_DEPTH`]) so a hostile file of ten thousand `[` cannot exhaust the
//! stack.

use super::Error;
use super::object::{
    Dictionary, Object, ObjectId, Stream, StringFormat, is_delimiter, is_whitespace,
};

/// Deepest array/dictionary nesting accepted. ISO 32000-2 Annex C sets no limit; Acrobat's
/// documented implementation limit for nesting is 28 levels (PDF 1.7 Annex C), so 64 leaves
/// ample room for real files while keeping recursion shallow.
pub const MAX_DEPTH: usize = 64;

/// An indirect object as far as its structure goes: a stream is its dictionary and where its
/// data lies, not a copy of the data. What walks every object for its dictionaries and
/// references (finding signature dictionaries, the reference graph) reads this.
#[derive(Debug)]
pub enum Head {
    Object(Object),
    /// A stream's dictionary; its data is `[start, end)` of the bytes parsed.
    Stream {
        dict: Dictionary,
        start: usize,
        end: usize,
    },
}

/// A cursor over PDF bytes.
pub(crate) struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(bytes: &'a [u8], pos: usize) -> Self {
        Parser { bytes, pos }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn error(&self, expected: &'static str) -> Error {
        Error::Syntax {
            offset: self.pos,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips white space and comments.
    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes `keyword` (after white space) if it is next and ends there.
    pub(crate) fn eat_keyword(&mut self, keyword: &[u8]) -> bool {
        self.skip_whitespace();
        let end = self.pos + keyword.len();
        if self.bytes.get(self.pos..end) == Some(keyword)
            && self
                .bytes
                .get(end)
                .is_none_or(|&b| is_whitespace(b) || is_delimiter(b))
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// Reads an unsigned integer token, if one is next.
    pub(crate) fn read_unsigned(&mut self) -> Option<u64> {
        self.skip_whitespace();
        let start = self.pos;
        let mut value: u64 = 0;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        Some(value)
    }

    /// Reads `n g obj`, the object, and `endobj`. Streams need their length: `stream_length`
    /// resolves an indirect `/Length`.
    pub(crate) fn read_indirect(
        &mut self,
        stream_length: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(ObjectId, Object), Error> {
        let (id, head) = self.read_indirect_head(stream_length)?;
        let object = match head {
            Head::Object(object) => object,
            Head::Stream { dict, start, end } => Object::Stream(Stream {
                dict,
                data: self.bytes[start..end].to_vec(),
            }),
        };
        Ok((id, object))
    }

    /// [`Parser::read_indirect`] without copying a stream's data: the same object, accepted or
    /// refused exactly as there (a stream's extent is found and its `endstream` checked), with a
    /// stream given as its dictionary and where its data lies.
    pub(crate) fn read_indirect_head(
        &mut self,
        stream_length: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(ObjectId, Head), Error> {
        let start = self.pos;
        let number = self
            .read_unsigned()
            .ok_or_else(|| self.error("object number"))?;
        let generation = self
            .read_unsigned()
            .ok_or_else(|| self.error("generation"))?;
        if !self.eat_keyword(b"obj") {
            return Err(self.error("`obj`"));
        }
        let id = ObjectId::new(
            u32::try_from(number).map_err(|_| Error::Syntax {
                offset: start,
                expected: "an object number below 2^32",
            })?,
            u16::try_from(generation).map_err(|_| Error::Syntax {
                offset: start,
                expected: "a generation below 65536",
            })?,
        );
        let object = self.read_object(0)?;
        let head = match object {
            Object::Dictionary(dict) if self.eat_keyword(b"stream") => {
                let (start, end) = self.read_stream_extent(&dict, stream_length)?;
                Head::Stream { dict, start, end }
            }
            other => Head::Object(other),
        };
        // A missing `endobj` is common in damaged files and harmless when the object parsed.
        self.eat_keyword(b"endobj");
        Ok((id, head))
    }

    /// After `stream`: where the data lies, `[start, end)`, the parser moved past `endstream`.
    fn read_stream_extent(
        &mut self,
        dict: &Dictionary,
        stream_length: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(usize, usize), Error> {
        // The keyword is followed by CRLF or LF (§7.3.8.1); a lone CR is tolerated.
        match (self.peek(), self.bytes.get(self.pos + 1).copied()) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) | (Some(b'\r'), _) => self.pos += 1,
            _ => {}
        }
        let start = self.pos;
        let declared = match dict.get(b"Length") {
            Some(Object::Integer(n)) => Some(*n),
            Some(Object::Reference(r)) => stream_length(*r),
            _ => None,
        };
        let fits = |n: i64| {
            usize::try_from(n)
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&end| end <= self.bytes.len())
        };
        let end = match declared.and_then(fits) {
            Some(end) if self.ends_stream_at(end) => end,
            // A wrong or missing /Length: find `endstream` instead, as every reader does.
            _ => {
                let found = find(&self.bytes[start..], b"endstream")
                    .ok_or_else(|| self.error("`endstream`"))?;
                let mut end = start + found;
                if end > start && self.bytes[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > start && self.bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                end
            }
        };
        self.pos = end;
        if !self.eat_keyword(b"endstream") {
            return Err(self.error("`endstream`"));
        }
        Ok((start, end))
    }

    fn ends_stream_at(&self, end: usize) -> bool {
        let mut p = Parser::new(self.bytes, end);
        p.eat_keyword(b"endstream")
    }

    /// Reads one direct object.
    pub(crate) fn read_object(&mut self, depth: usize) -> Result<Object, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting shallower than 64 levels"));
        }
        self.skip_whitespace();
        let Some(b) = self.peek() else {
            return Err(self.error("an object, found the end of the data"));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.read_name_body()?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::String(self.read_literal()?, StringFormat::Literal))
            }
            b'<' if self.bytes.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Ok(Object::Dictionary(self.read_dict_body(depth)?))
            }
            b'<' => {
                self.pos += 1;
                Ok(Object::String(self.read_hex()?, StringFormat::Hex))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        None => return Err(self.error("`]`")),
                        _ => items.push(self.read_object(depth + 1)?),
                    }
                }
                Ok(Object::Array(items))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.read_number_or_reference(),
            _ => {
                if self.eat_keyword(b"true") {
                    Ok(Object::Boolean(true))
                } else if self.eat_keyword(b"false") {
                    Ok(Object::Boolean(false))
                } else if self.eat_keyword(b"null") {
                    Ok(Object::Null)
                } else {
                    Err(self.error("an object"))
                }
            }
        }
    }

    /// At a dictionary `<<`: the byte span `[start, end)` of each top-level value, by key.
    pub(crate) fn top_level_value_spans(&mut self) -> Result<Vec<(Vec<u8>, usize, usize)>, Error> {
        self.skip_whitespace();
        if self.bytes.get(self.pos..self.pos + 2) != Some(b"<<") {
            return Err(self.error("`<<`"));
        }
        self.pos += 2;
        let mut spans = Vec::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'>') if self.bytes.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(spans);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.read_name_body()?;
                    self.skip_whitespace();
                    let start = self.pos;
                    let hex_string =
                        self.peek() == Some(b'<') && self.bytes.get(self.pos + 1) != Some(&b'<');
                    if hex_string {
                        // Only the span is wanted: a signature's tens of KB of /Contents are
                        // checked, not decoded.
                        self.pos += 1;
                        self.skip_hex()?;
                    } else {
                        self.read_object(1)?;
                    }
                    spans.push((key, start, self.pos));
                }
                _ => return Err(self.error("a name key or `>>`")),
            }
        }
    }

    fn read_dict_body(&mut self, depth: usize) -> Result<Dictionary, Error> {
        let mut dict = Dictionary::new();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'>') if self.bytes.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(dict);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.read_name_body()?;
                    let value = self.read_object(depth + 1)?;
                    // A null value is the same as an absent key (§7.3.7).
                    if value != Object::Null {
                        dict.set(&key, value);
                    }
                }
                _ => return Err(self.error("a name key or `>>`")),
            }
        }
    }

    fn read_name_body(&mut self) -> Result<Vec<u8>, Error> {
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            if is_whitespace(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
            if b == b'#' {
                let hex = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        name.push(v);
                        self.pos += 2;
                    }
                    None => name.push(b'#'),
                }
            } else {
                name.push(b);
            }
        }
        Ok(name)
    }

    fn read_literal(&mut self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("`)` closing a string"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' if nesting == 0 => return Ok(out),
                b')' => {
                    nesting -= 1;
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.error("an escape after `\\`"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        // Backslash + end of line: the string continues on the next line.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                // An end of line inside a string reads as a single LF (§7.3.4.2).
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                other => out.push(other),
            }
        }
    }

    /// Moves past a hex string's body and its `>`, accepting exactly what [`Parser::read_hex`]
    /// accepts.
    fn skip_hex(&mut self) -> Result<(), Error> {
        let start = self.pos;
        let Some(len) = memchr::memchr(b'>', &self.bytes[start..]) else {
            self.pos = self.bytes.len();
            return Err(self.error("`>` closing a hex string"));
        };
        let body = &self.bytes[start..start + len];
        // The usual body, digits only, is checked a block at a time without stopping at each
        // byte; anything else (white space, a bad byte) is looked at byte by byte.
        if !only_hex_digits(body)
            && let Some(i) = body
                .iter()
                .position(|&b| HEX_DIGITS[usize::from(b)] == NOT_HEX && !is_whitespace(b))
        {
            self.pos = start + i + 1;
            return Err(self.error("a hex digit"));
        }
        self.pos = start + len + 1;
        Ok(())
    }

    fn read_hex(&mut self) -> Result<Vec<u8>, Error> {
        // A signature's /Contents is tens of KB of hex, read several times per verification:
        // decoded through a table, with the output sized up front.
        let start = self.pos;
        let Some(len) = memchr::memchr(b'>', &self.bytes[start..]) else {
            self.pos = self.bytes.len();
            return Err(self.error("`>` closing a hex string"));
        };
        let body = &self.bytes[start..start + len];
        // The usual case, digits only and an even count, in one call; anything else (white
        // space, an odd digit, a bad byte) takes the byte-by-byte path below.
        if len % 2 == 0 {
            let mut out = vec![0u8; len / 2];
            if decode_hex_digits(body, &mut out) {
                self.pos = start + len + 1;
                return Ok(out);
            }
        }
        let mut out = Vec::with_capacity(len / 2 + 1);
        let mut high: Option<u8> = None;
        for (i, &b) in body.iter().enumerate() {
            let nibble = HEX_DIGITS[usize::from(b)];
            if nibble == NOT_HEX {
                if is_whitespace(b) {
                    continue;
                }
                self.pos = start + i + 1;
                return Err(self.error("a hex digit"));
            }
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
        }
        self.pos = start + len + 1;
        // An odd final digit is followed by an implicit 0 (§7.3.4.3).
        if let Some(h) = high {
            out.push(h << 4);
        }
        Ok(out)
    }

    fn read_number_or_reference(&mut self) -> Result<Object, Error> {
        let start = self.pos;
        let token = self.read_number_token();
        let text = std::str::from_utf8(token).map_err(|_| self.error("a number"))?;
        if text.contains('.') {
            let value = match text {
                "." | "-." | "+." => 0.0,
                _ => text.parse::<f64>().map_err(|_| Error::Syntax {
                    offset: start,
                    expected: "a number",
                })?,
            };
            return Ok(Object::Real(value));
        }
        let value: i64 = text.parse().map_err(|_| Error::Syntax {
            offset: start,
            expected: "an integer that fits in 64 bits",
        })?;
        // `n g R`: look ahead without committing.
        if value >= 0 && !text.starts_with('+') {
            let save = self.pos;
            if let Some(generation) = self.read_unsigned()
                && self.eat_keyword(b"R")
                && let (Ok(number), Ok(generation)) =
                    (u32::try_from(value), u16::try_from(generation))
            {
                return Ok(Object::Reference(ObjectId::new(number, generation)));
            }
            self.pos = save;
        }
        Ok(Object::Integer(value))
    }

    fn read_number_token(&mut self) -> &'a [u8] {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        while let Some(b) = self.peek() {
            if b.is_ascii_digit() || b == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        &self.bytes[start..self.pos]
    }
}

/// Decodes hex digits only (no white space) into `out`, which is zeroed and half as long; false
/// when anything else is found. Runs of `0` are skipped 32 digits at a time: a signature's
/// `/Contents` is mostly the zero padding after its CMS, and it is read several times per
/// verification.
fn decode_hex_digits(body: &[u8], out: &mut [u8]) -> bool {
    if !only_hex_digits(body) {
        return false;
    }
    // Digits only: each nibble by arithmetic, 32 digits at a time; a signature's reserved
    // /Contents is mostly zeros, left as the zeroed output already holds them.
    const ZEROS: [u8; 32] = [b'0'; 32];
    let mut blocks = body.chunks_exact(32);
    let mut outs = out.chunks_exact_mut(16);
    for (block, out) in (&mut blocks).zip(&mut outs) {
        if block != ZEROS {
            decode_pairs(block, out);
        }
    }
    decode_pairs(blocks.remainder(), outs.into_remainder());
    true
}

fn decode_pairs(digits: &[u8], out: &mut [u8]) {
    for (pair, byte) in digits.chunks_exact(2).zip(out.iter_mut()) {
        *byte = digit_value(pair[0]) << 4 | digit_value(pair[1]);
    }
}

/// The value of a byte already known to be a hex digit: `0`–`9` keep their low nibble, and
/// `a`–`f` and `A`–`F` (low nibble 1–6, bit 6 set) gain 9.
fn digit_value(digit: u8) -> u8 {
    (digit & 0x0f) + 9 * (digit >> 6)
}

/// Whether every byte of `body` is a hex digit. Written without an early exit inside a block so
/// that the compiler checks many bytes per instruction: a signature's `/Contents` is checked
/// in every verification, and is tens of KB.
fn only_hex_digits(body: &[u8]) -> bool {
    body.chunks(64).all(|block| {
        block.iter().fold(true, |all, &b| {
            let lower = b | 0x20;
            all & (b.is_ascii_digit() | (b'a'..=b'f').contains(&lower))
        })
    })
}

/// Marks a byte that is not a hex digit in [`HEX_DIGITS`].
const NOT_HEX: u8 = 0xff;

/// Each byte's value as a hex digit (ISO 32000-2 §7.3.4.3), or [`NOT_HEX`].
const HEX_DIGITS: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = match b {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => NOT_HEX,
        };
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// First index of `needle` in `haystack`. Vectorised (memchr's memmem): whole-file scans for
/// `%%EOF`, `endstream` and `startxref` are on every verification's path.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Last index of `needle` in `haystack`.
pub(crate) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

/// Parses one direct object from `bytes` (for tests and content that is not in a file).
pub fn parse_object(bytes: &[u8]) -> Result<Object, Error> {
    Parser::new(bytes, 0).read_object(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::object::write_object;
    use proptest::prelude::*;

    #[test]
    fn hex_strings_read_and_skip_alike() {
        for input in [
            &b"48656c6c6f>rest"[..],
            b"48 65\n6C6C6F7>",
            b"4865 6c6g>",
            b"00000000000000000000>",
            b">",
            b"4865",
            b"ABCDEF01>",
        ] {
            let mut read = Parser::new(input, 0);
            let mut skip = Parser::new(input, 0);
            let (r, k) = (read.read_hex(), skip.skip_hex());
            assert_eq!(r.is_ok(), k.is_ok(), "{:?}", String::from_utf8_lossy(input));
            assert_eq!(read.pos, skip.pos, "{:?}", String::from_utf8_lossy(input));
            if let (Err(a), Err(b)) = (r, k) {
                assert_eq!(a.to_string(), b.to_string());
            }
        }
        assert_eq!(
            Parser::new(b"48 65 6C6C6F7>", 0).read_hex().unwrap(),
            b"Hellop"
        );
        assert_eq!(Parser::new(b"48656C6C6F>", 0).read_hex().unwrap(), b"Hello");
        // Zero runs, digits across the 32-digit chunks, and a bad digit inside a chunk.
        let mut long = "0".repeat(64);
        long.push_str("ff");
        long.push_str(&"0".repeat(30));
        long.push_str("a1b2");
        long.push('>');
        let mut expected = vec![0u8; 32];
        expected.push(0xff);
        expected.extend(vec![0u8; 15]);
        expected.extend([0xa1, 0xb2]);
        assert_eq!(
            Parser::new(long.as_bytes(), 0).read_hex().unwrap(),
            expected
        );
        let bad = format!("{}0g{}>", "0".repeat(40), "0".repeat(20));
        assert!(Parser::new(bad.as_bytes(), 0).read_hex().is_err());
    }

    #[test]
    fn reads_every_kind() {
        let o = parse_object(
            b"<</Type/Sig /A [1 -2 +3 4.5 -.5 true false null (a\\(b\\)\\101\\\nc) <48 65 6C6C6F7> /N#20x 12 0 R]%c\n/K<<>>>>",
        )
        .unwrap();
        let d = o.as_dict().unwrap();
        assert_eq!(d.name(b"Type"), Some(&b"Sig"[..]));
        let a = d.get(b"A").unwrap().as_array().unwrap();
        assert_eq!(a[0], Object::Integer(1));
        assert_eq!(a[1], Object::Integer(-2));
        assert_eq!(a[2], Object::Integer(3));
        assert_eq!(a[3], Object::Real(4.5));
        assert_eq!(a[4], Object::Real(-0.5));
        assert_eq!(a[8].as_string(), Some(&b"a(b)Ac"[..]));
        assert_eq!(a[9].as_string(), Some(&b"Hellop"[..]));
        assert_eq!(a[10], Object::Name(b"N x".to_vec()));
        assert_eq!(a[11], Object::Reference(ObjectId::new(12, 0)));
        assert!(d.get(b"K").unwrap().as_dict().unwrap().is_empty());
    }

    #[test]
    fn indirect_objects_and_streams() {
        let bytes = b"7 0 obj\n<</Length 5>>\nstream\r\nhello\nendstream\nendobj\n";
        let (id, o) = Parser::new(bytes, 0).read_indirect(&|_| None).unwrap();
        assert_eq!(id, ObjectId::new(7, 0));
        let Object::Stream(s) = o else { panic!() };
        assert_eq!(s.data, b"hello");

        // A wrong /Length falls back to `endstream`.
        let bytes = b"8 0 obj <</Length 99>> stream\nhello!\nendstream endobj";
        let (_, o) = Parser::new(bytes, 0).read_indirect(&|_| None).unwrap();
        let Object::Stream(s) = o else { panic!() };
        assert_eq!(s.data, b"hello!");

        // An indirect /Length is resolved through the callback.
        let bytes = b"9 0 obj <</Length 10 0 R>> stream\nab\nendstream endobj";
        let (_, o) = Parser::new(bytes, 0)
            .read_indirect(&|r| (r == ObjectId::new(10, 0)).then_some(2))
            .unwrap();
        let Object::Stream(s) = o else { panic!() };
        assert_eq!(s.data, b"ab");
    }

    #[test]
    fn the_block_check_of_hex_digits_agrees_with_the_table() {
        for b in 0..=255u8 {
            let digit = HEX_DIGITS[usize::from(b)] != NOT_HEX;
            assert_eq!(only_hex_digits(&[b]), digit, "byte {b:#04x}");
            // The same byte anywhere in a long body of digits, across block boundaries.
            for at in [0, 63, 64, 65, 200] {
                let mut body = b"0123456789abcdefABCDEF".repeat(10);
                body[at] = b;
                assert_eq!(only_hex_digits(&body), digit, "byte {b:#04x} at {at}");
                let mut with_end = body.clone();
                with_end.push(b'>');
                let (mut read, mut skip) = (Parser::new(&with_end, 0), Parser::new(&with_end, 0));
                let (r, k) = (read.read_hex(), skip.skip_hex());
                assert_eq!(r.is_ok(), k.is_ok(), "byte {b:#04x} at {at}");
                assert_eq!(read.pos, skip.pos, "byte {b:#04x} at {at}");
            }
        }
        assert!(only_hex_digits(b""));
        // Every pair of digits decodes as the table says.
        for high in 0..=255u8 {
            for low in 0..=255u8 {
                let (h, l) = (HEX_DIGITS[usize::from(high)], HEX_DIGITS[usize::from(low)]);
                let mut out = [0u8; 1];
                let decoded = decode_hex_digits(&[high, low], &mut out);
                assert_eq!(decoded, h != NOT_HEX && l != NOT_HEX);
                if decoded {
                    assert_eq!(out[0], h << 4 | l, "{high:#04x} {low:#04x}");
                }
            }
        }
    }

    #[test]
    fn an_object_head_is_the_object_without_its_stream_data() {
        let bytes = b"7 0 obj\n<</Length 5/Type/XObject>>\nstream\r\nhello\nendstream\nendobj\n";
        let (id, head) = Parser::new(bytes, 0).read_indirect_head(&|_| None).unwrap();
        assert_eq!(id, ObjectId::new(7, 0));
        let Head::Stream { dict, start, end } = head else {
            panic!("a stream")
        };
        assert_eq!(dict.name(b"Type"), Some(&b"XObject"[..]));
        assert_eq!(&bytes[start..end], b"hello");
        // A stream without `endstream` is refused by both.
        let broken = b"8 0 obj <</Length 5>> stream\nhello";
        assert!(Parser::new(broken, 0).read_indirect(&|_| None).is_err());
        assert!(
            Parser::new(broken, 0)
                .read_indirect_head(&|_| None)
                .is_err()
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let bytes = vec![b'['; 100_000];
        assert!(matches!(parse_object(&bytes), Err(Error::Syntax { .. })));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_object(&bytes);
            let _ = Parser::new(&bytes, 0).read_indirect(&|_| Some(3));
        }

        #[test]
        fn a_head_reads_as_the_object_does(bytes in proptest::collection::vec(any::<u8>(), 0..200),
                                           stream in any::<bool>()) {
            // Half the inputs are a well-formed stream object with noise in its data.
            let input = if stream {
                let mut input = format!("3 0 obj <</Length {}>> stream\n", bytes.len()).into_bytes();
                input.extend_from_slice(&bytes);
                input.extend_from_slice(b"\nendstream endobj");
                input
            } else {
                bytes
            };
            let mut full = Parser::new(&input, 0);
            let mut head = Parser::new(&input, 0);
            match (full.read_indirect(&|_| Some(3)), head.read_indirect_head(&|_| Some(3))) {
                (Ok((a, Object::Stream(s))), Ok((b, Head::Stream { dict, start, end }))) => {
                    prop_assert_eq!(a, b);
                    prop_assert_eq!(s.dict, dict);
                    prop_assert_eq!(s.data.as_slice(), &input[start..end]);
                }
                (Ok((a, object)), Ok((b, Head::Object(other)))) => {
                    prop_assert_eq!(a, b);
                    prop_assert_eq!(object, other);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(false, "{:?} against {:?}", a, b),
            }
            prop_assert_eq!(full.pos, head.pos);
        }

        #[test]
        fn written_objects_read_back(s in proptest::collection::vec(any::<u8>(), 0..40),
                                     n in any::<i64>(), name in proptest::collection::vec(1u8..=255, 1..12)) {
            let o = Object::Array(vec![
                Object::literal(s.clone()),
                Object::String(s, StringFormat::Hex),
                Object::Integer(n),
                Object::Name(name),
            ]);
            let mut out = Vec::new();
            write_object(&mut out, &o);
            prop_assert_eq!(parse_object(&out).unwrap(), o);
        }
    }
}
