//! Reading BER (X.690 §8), the encoding real-world CMS arrives in.
//!
//! Most PDF signatures in the wild are BER, not DER: indefinite lengths (`0x80` … `00 00`),
//! constructed OCTET STRINGs in segments, and `/Contents` zero-padded after the end. A DER-only
//! reader rejects them, so kyso reads BER and keeps every element's original bytes: a signature
//! over signed attributes is checked against the bytes that arrived, never a re-encoding (which
//! could re-sort a SET OF and break a valid signature, or mend an invalid one).
//!
//! Nesting is bounded ([`MAX_DEPTH`]); lengths are checked against the input before use.

use std::borrow::Cow;

/// Deepest nesting accepted. CMS with a timestamp token inside nests about 15 levels; 64 leaves
/// room for exotic attributes while keeping recursion shallow on hostile input.
pub const MAX_DEPTH: usize = 64;

/// Why BER could not be read. Offsets are from the start of the buffer given to [`parse`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("BER ends early at byte {offset}")]
    Truncated { offset: usize },
    #[error("BER length at byte {offset} is malformed")]
    BadLength { offset: usize },
    #[error("BER nested deeper than {MAX_DEPTH} levels at byte {offset}")]
    TooDeep { offset: usize },
    #[error("indefinite length on a primitive element at byte {offset}")]
    IndefinitePrimitive { offset: usize },
    #[error("expected {expected} at byte {offset}")]
    Unexpected {
        offset: usize,
        expected: &'static str,
    },
}

/// Tag class (X.690 §8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// One element: its tag, its content and its original bytes.
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
    /// The whole element as it arrived: identifier, length, content (and end-of-contents).
    pub raw: &'a [u8],
    /// The content octets (without the end-of-contents of an indefinite length).
    pub content: &'a [u8],
    pub indefinite: bool,
    /// Offset of `raw` in the buffer given to [`parse`].
    pub offset: usize,
    depth: usize,
}

/// Universal tag numbers used by kyso.
pub mod tag {
    pub const BOOLEAN: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const BIT_STRING: u32 = 3;
    pub const OCTET_STRING: u32 = 4;
    pub const NULL: u32 = 5;
    pub const OID: u32 = 6;
    pub const ENUMERATED: u32 = 10;
    pub const UTF8_STRING: u32 = 12;
    pub const SEQUENCE: u32 = 16;
    pub const SET: u32 = 17;
    pub const PRINTABLE_STRING: u32 = 19;
    pub const IA5_STRING: u32 = 22;
    pub const UTC_TIME: u32 = 23;
    pub const GENERALIZED_TIME: u32 = 24;
}

/// Reads one element at the start of `input`; returns it and the bytes after it.
pub fn parse(input: &[u8]) -> Result<(Element<'_>, &[u8]), Error> {
    read(input, 0, 0)
}

fn read(input: &[u8], base: usize, depth: usize) -> Result<(Element<'_>, &[u8]), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep { offset: base });
    }
    let truncated = |at: usize| Error::Truncated { offset: base + at };
    let &first = input.first().ok_or(truncated(0))?;
    // Tag 0 is end-of-contents, meaningful only where an indefinite length ends (§8.1.5),
    // which the indefinite-length loop checks before reading an element.
    if first == 0 {
        return Err(Error::Unexpected {
            offset: base,
            expected: "an element, not end-of-contents",
        });
    }
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut at = 1;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        // High tag number form (§8.1.2.4): base-128 digits, at most 4 (tags < 2^28).
        number = 0;
        loop {
            let &b = input.get(at).ok_or(truncated(at))?;
            at += 1;
            if at > 5 {
                return Err(Error::BadLength { offset: base });
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let &len_byte = input.get(at).ok_or(truncated(at))?;
    at += 1;
    if len_byte == 0x80 {
        if !constructed {
            return Err(Error::IndefinitePrimitive { offset: base });
        }
        // Indefinite: children until end-of-contents (§8.1.3.6).
        let content_start = at;
        loop {
            let rest = &input[at..];
            if rest.starts_with(&[0, 0]) {
                let element = Element {
                    class,
                    constructed,
                    number,
                    raw: &input[..at + 2],
                    content: &input[content_start..at],
                    indefinite: true,
                    offset: base,
                    depth,
                };
                return Ok((element, &input[at + 2..]));
            }
            if rest.is_empty() {
                return Err(truncated(at));
            }
            let (_, after) = read(rest, base + at, depth + 1)?;
            at = input.len() - after.len();
        }
    }
    let len = if len_byte < 0x80 {
        usize::from(len_byte)
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 8 || n == 0x7f {
            return Err(Error::BadLength {
                offset: base + at - 1,
            });
        }
        let bytes = input.get(at..at + n).ok_or(truncated(at))?;
        at += n;
        bytes.iter().try_fold(0usize, |acc, &b| {
            acc.checked_mul(256)
                .and_then(|v| v.checked_add(usize::from(b)))
                .ok_or(Error::BadLength { offset: base })
        })?
    };
    let end = at
        .checked_add(len)
        .ok_or(Error::BadLength { offset: base })?;
    if end > input.len() {
        return Err(truncated(input.len()));
    }
    let element = Element {
        class,
        constructed,
        number,
        raw: &input[..end],
        content: &input[at..end],
        indefinite: false,
        offset: base,
        depth,
    };
    Ok((element, &input[end..]))
}

impl<'a> Element<'a> {
    /// Whether this is the universal element `number`.
    pub fn is(&self, number: u32) -> bool {
        self.class == Class::Universal && self.number == number
    }

    /// Whether this is the context-specific element `[number]`.
    pub fn is_context(&self, number: u32) -> bool {
        self.class == Class::Context && self.number == number
    }

    /// The children of a constructed element.
    pub fn children(&self) -> Children<'a> {
        Children {
            rest: if self.constructed { self.content } else { &[] },
            base: self.offset
                + (self.raw.len() - self.content.len() - if self.indefinite { 2 } else { 0 }),
            depth: self.depth + 1,
        }
    }

    /// The children, all read, or the first error.
    pub fn child_vec(&self) -> Result<Vec<Element<'a>>, Error> {
        self.children().collect()
    }

    /// Fails unless this is universal `number`.
    pub fn expect(self, number: u32, expected: &'static str) -> Result<Element<'a>, Error> {
        if self.is(number) {
            Ok(self)
        } else {
            Err(Error::Unexpected {
                offset: self.offset,
                expected,
            })
        }
    }

    /// The value of an OCTET STRING (or BIT STRING content), joining the segments of a
    /// constructed BER string (§8.7.3).
    pub fn octets(&self) -> Result<Cow<'a, [u8]>, Error> {
        if !self.constructed {
            return Ok(Cow::Borrowed(self.content));
        }
        let mut joined = Vec::new();
        for child in self.children() {
            joined.extend_from_slice(&child?.octets()?);
        }
        Ok(Cow::Owned(joined))
    }

    /// The element re-encoded with definite lengths and nothing else changed: element order,
    /// tags and content octets as they arrived. Equal to `raw` when no indefinite length occurs.
    pub fn definite(&self) -> Result<Cow<'a, [u8]>, Error> {
        if !self.contains_indefinite()? {
            return Ok(Cow::Borrowed(self.raw));
        }
        let header_len = self.raw.len() - self.content.len() - if self.indefinite { 2 } else { 0 };
        let identifier_len = {
            let mut n = 1;
            if self.raw[0] & 0x1f == 0x1f {
                while self.raw.get(n).is_some_and(|b| b & 0x80 != 0) {
                    n += 1;
                }
                n += 1;
            }
            n.min(header_len)
        };
        let mut content = Vec::new();
        for child in self.children() {
            content.extend_from_slice(&child?.definite()?);
        }
        let mut out = self.raw[..identifier_len].to_vec();
        crate::asn1::push_len(&mut out, content.len());
        out.extend_from_slice(&content);
        Ok(Cow::Owned(out))
    }

    fn contains_indefinite(&self) -> Result<bool, Error> {
        if self.indefinite {
            return Ok(true);
        }
        if !self.constructed {
            return Ok(false);
        }
        for child in self.children() {
            if child?.contains_indefinite()? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The dotted form of an OBJECT IDENTIFIER.
    pub fn oid(&self) -> Result<Oid, Error> {
        if !self.is(tag::OID) || self.content.is_empty() {
            return Err(Error::Unexpected {
                offset: self.offset,
                expected: "an OBJECT IDENTIFIER",
            });
        }
        Ok(Oid(self.content.to_vec()))
    }

    /// A non-negative INTEGER that fits in 64 bits.
    pub fn small_unsigned(&self) -> Result<u64, Error> {
        let bad = Error::Unexpected {
            offset: self.offset,
            expected: "a small non-negative INTEGER",
        };
        if !(self.is(tag::INTEGER) || self.is(tag::ENUMERATED)) || self.content.is_empty() {
            return Err(bad);
        }
        if self.content[0] & 0x80 != 0 {
            return Err(bad);
        }
        let digits = match self.content {
            [0, rest @ ..] => rest,
            all => all,
        };
        if digits.len() > 8 {
            return Err(bad);
        }
        Ok(digits
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// An OBJECT IDENTIFIER's content octets, compared against arcs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Oid(pub Vec<u8>);

impl Oid {
    /// Whether this identifier has exactly these arcs.
    pub fn is(&self, arcs: &[u64]) -> bool {
        let encoded = crate::asn1::oid(arcs);
        encoded.get(2..) == Some(self.0.as_slice())
    }
}

impl std::fmt::Display for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut arcs = Vec::new();
        let mut value: u64 = 0;
        for &b in &self.0 {
            value = (value << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (value / 40).min(2);
                    arcs.push(first);
                    arcs.push(value - first * 40);
                } else {
                    arcs.push(value);
                }
                value = 0;
            }
        }
        let text: Vec<String> = arcs.iter().map(u64::to_string).collect();
        f.write_str(&text.join("."))
    }
}

/// Iterator over the children of a constructed element.
pub struct Children<'a> {
    rest: &'a [u8],
    base: usize,
    depth: usize,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest, self.base, self.depth) {
            Ok((element, rest)) => {
                self.base += self.rest.len() - rest.len();
                self.rest = rest;
                Some(Ok(element))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn indefinite_lengths_and_segmented_octets() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "c" }, NULL }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x05,
            0x00, 0x00, 0x00, 0xff,
        ];
        let (seq, rest) = parse(&ber).unwrap();
        assert_eq!(rest, [0xff]);
        assert!(seq.indefinite && seq.is(tag::SEQUENCE));
        let kids = seq.child_vec().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].octets().unwrap().as_ref(), b"abc");
        assert!(kids[1].is(tag::NULL));
        assert_eq!(kids[1].offset, 13);
        let definite = seq.definite().unwrap();
        assert_eq!(
            definite.as_ref(),
            [
                0x30, 0x0b, 0x24, 0x07, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x05, 0x00
            ]
        );
    }

    #[test]
    fn oids_display_and_compare() {
        let der = crate::asn1::oid(&[1, 2, 840, 113549, 1, 7, 2]);
        let (el, _) = parse(&der).unwrap();
        let oid = el.oid().unwrap();
        assert_eq!(oid.to_string(), "1.2.840.113549.1.7.2");
        assert!(oid.is(&[1, 2, 840, 113549, 1, 7, 2]));
        assert!(!oid.is(&[1, 2, 840, 113549, 1, 7, 1]));
    }

    #[test]
    fn hostile_lengths_are_errors() {
        assert!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse(&[0x04, 0x80, 0x00, 0x00]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(parse(&deep).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok((el, _)) = parse(&bytes) {
                let _ = el.child_vec();
                let _ = el.octets();
                let _ = el.definite();
                let _ = el.small_unsigned();
            }
        }

        #[test]
        fn definite_of_der_is_identity(content in proptest::collection::vec(any::<u8>(), 0..300)) {
            let der = crate::asn1::sequence(&[&crate::asn1::octet_string(&content)]);
            let (el, _) = parse(&der).unwrap();
            let definite = el.definite().unwrap();
            prop_assert_eq!(definite.as_ref(), &der[..]);
        }
    }
}
