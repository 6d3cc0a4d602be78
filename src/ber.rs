//! Reading BER and DER (X.690 §8, §10): the only tag-length-value reader in kyso.
//!
//! Most PDF signatures in the wild are BER, not DER: indefinite lengths (`0x80` … `00 00`),
//! constructed OCTET STRINGs in segments, and `/Contents` zero-padded after the end. A DER-only
//! reader rejects them, so kyso reads BER and keeps every element's original bytes: a signature
//! over signed attributes is checked against the bytes that arrived, never a re-encoding (which
//! could re-sort a SET OF and break a valid signature, or mend an invalid one).
//!
//! Certificates, CRLs, OCSP responses and time-stamp tokens are read under [`Rules::Der`]
//! instead ([`parse_der`], [`der`]): an indefinite length or a segmented string there is refused,
//! as X.690 §10 requires, so bytes that are hashed, fingerprinted or cached have one reading.
//!
//! Owns: walking elements ([`parse`], [`Element::children`]), reading a constructed element's
//! fields in order ([`Fields`]: `expect`, `optional`, `finish`), and decoding the few value types
//! kyso reads (OBJECT IDENTIFIER, small INTEGER, BIT STRING, GeneralizedTime). Refuses: nesting
//! deeper than [`MAX_DEPTH`], lengths beyond the input, and malformed values. Writing is
//! `der.rs`'s job.

use std::borrow::Cow;
use std::fmt;

use time::OffsetDateTime;

use crate::oid::Oid;

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
    #[error("not DER at byte {offset}: {form}")]
    NotDer { offset: usize, form: &'static str },
    #[error("data after {after} at byte {offset}")]
    Trailing { offset: usize, after: &'static str },
    #[error("malformed {what} at byte {offset}")]
    BadValue { offset: usize, what: &'static str },
}

/// The encoding rules input is read under (X.690 §8 BER, §10 DER).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// Any BER: indefinite lengths, constructed strings.
    Ber,
    /// Definite lengths and primitive strings only, as DER requires (X.690 §10.1, §10.2).
    Der,
}

/// Tag class (X.690 §8.1.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// A tag: class, form and number (X.690 §8.1.2). The constants in [`tag`] name those kyso uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

/// The tags kyso reads and writes (X.680 §8.6 for the universal ones), in the form DER gives them.
pub mod tag {
    use super::{Class, Tag};

    const fn universal(number: u32, constructed: bool) -> Tag {
        Tag {
            class: Class::Universal,
            constructed,
            number,
        }
    }

    pub const BOOLEAN: Tag = universal(1, false);
    pub const INTEGER: Tag = universal(2, false);
    pub const BIT_STRING: Tag = universal(3, false);
    pub const OCTET_STRING: Tag = universal(4, false);
    pub const NULL: Tag = universal(5, false);
    pub const OID: Tag = universal(6, false);
    pub const ENUMERATED: Tag = universal(10, false);
    pub const UTF8_STRING: Tag = universal(12, false);
    pub const SEQUENCE: Tag = universal(16, true);
    pub const SET: Tag = universal(17, true);
    pub const PRINTABLE_STRING: Tag = universal(19, false);
    pub const IA5_STRING: Tag = universal(22, false);
    pub const UTC_TIME: Tag = universal(23, false);
    pub const GENERALIZED_TIME: Tag = universal(24, false);

    /// `[n]` in primitive form: IMPLICIT tagging of a primitive type.
    pub const fn context(n: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: false,
            number: n,
        }
    }

    /// `[n]` in constructed form: EXPLICIT tagging, or IMPLICIT of a constructed type.
    pub const fn context_constructed(n: u32) -> Tag {
        Tag {
            class: Class::Context,
            constructed: true,
            number: n,
        }
    }
}

impl Tag {
    /// Universal string types may be sent in segments under BER (X.690 §8.21.5, §8.7.1).
    fn may_be_segmented(self) -> bool {
        match self.class {
            Class::Universal => matches!(self.number, 3 | 4 | 12 | 18..=30),
            // An IMPLICIT tag over a string type takes the string's forms.
            _ => !self.constructed,
        }
    }
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
    rules: Rules,
}

/// Reads one BER element at the start of `input`; returns it and the bytes after it.
pub fn parse(input: &[u8]) -> Result<(Element<'_>, &[u8]), Error> {
    read(input, 0, 0, Rules::Ber)
}

/// Reads one element at the start of `input` under DER's length and form rules.
pub fn parse_der(input: &[u8]) -> Result<(Element<'_>, &[u8]), Error> {
    read(input, 0, 0, Rules::Der)
}

/// Reads exactly one DER element spanning all of `input`; `what` names it in the error about
/// bytes after it.
pub fn der<'a>(input: &'a [u8], what: &'static str) -> Result<Element<'a>, Error> {
    let (element, rest) = parse_der(input)?;
    if !rest.is_empty() {
        return Err(Error::Trailing {
            offset: input.len() - rest.len(),
            after: what,
        });
    }
    Ok(element)
}

/// The minimal two's-complement form of INTEGER content octets: redundant leading 0x00 (or
/// 0xff) octets removed. Serial numbers are compared in this form, since some issuers pad them
/// and X.690 DER forbids the padding that others then strip.
pub fn canonical_integer(mut bytes: &[u8]) -> &[u8] {
    while bytes.len() > 1
        && ((bytes[0] == 0x00 && bytes[1] & 0x80 == 0)
            || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes = &bytes[1..];
    }
    bytes
}

fn read(
    input: &[u8],
    base: usize,
    depth: usize,
    rules: Rules,
) -> Result<(Element<'_>, &[u8]), Error> {
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
        if rules == Rules::Der {
            return Err(Error::NotDer {
                offset: base,
                form: "indefinite length",
            });
        }
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
                    rules,
                };
                return Ok((element, &input[at + 2..]));
            }
            if rest.is_empty() {
                return Err(truncated(at));
            }
            let (_, after) = read(rest, base + at, depth + 1, rules)?;
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
        rules,
    };
    Ok((element, &input[end..]))
}

impl<'a> Element<'a> {
    /// The element's tag.
    pub fn tag(&self) -> Tag {
        Tag {
            class: self.class,
            constructed: self.constructed,
            number: self.number,
        }
    }

    /// Whether this element carries `tag`. Under BER a string type (or an IMPLICIT tag over
    /// one) also matches in constructed, segmented form; under DER the form must be the one
    /// given.
    pub fn is(&self, tag: Tag) -> bool {
        self.class == tag.class
            && self.number == tag.number
            && (self.constructed == tag.constructed
                || (self.rules == Rules::Ber && tag.may_be_segmented()))
    }

    /// Whether this is the context-specific element `[number]`, in either form.
    pub fn is_context(&self, number: u32) -> bool {
        self.class == Class::Context && self.number == number
    }

    /// Fails unless this element carries `tag` (see [`Element::is`]).
    pub fn expect(self, tag: Tag, expected: &'static str) -> Result<Element<'a>, Error> {
        if self.is(tag) {
            Ok(self)
        } else {
            Err(Error::Unexpected {
                offset: self.offset,
                expected,
            })
        }
    }

    /// The children of a constructed element.
    pub fn children(&self) -> Children<'a> {
        Children {
            rest: if self.constructed { self.content } else { &[] },
            base: self.offset
                + (self.raw.len() - self.content.len() - if self.indefinite { 2 } else { 0 }),
            depth: self.depth + 1,
            rules: self.rules,
        }
    }

    /// The children, all read, or the first error.
    pub fn child_vec(&self) -> Result<Vec<Element<'a>>, Error> {
        self.children().collect()
    }

    /// The children as fields of a SEQUENCE, read in order with [`Fields::expect`] and friends.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            children: self.children(),
            peeked: None,
        }
    }

    /// The value of an OCTET STRING (or BIT STRING content), joining the segments of a
    /// constructed BER string (§8.7.3). Under DER a segmented string is an error.
    pub fn octets(&self) -> Result<Cow<'a, [u8]>, Error> {
        if !self.constructed {
            return Ok(Cow::Borrowed(self.content));
        }
        if self.rules == Rules::Der {
            return Err(Error::NotDer {
                offset: self.offset,
                form: "constructed string",
            });
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
        crate::der::push_len(&mut out, content.len());
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

    /// An OBJECT IDENTIFIER, checked to be well formed (X.690 §8.19.2: each subidentifier
    /// minimal and terminated).
    pub fn oid(&self) -> Result<ObjectIdentifier<'a>, Error> {
        let unexpected = || Error::Unexpected {
            offset: self.offset,
            expected: "an OBJECT IDENTIFIER",
        };
        if !self.is(tag::OID) || self.content.is_empty() {
            return Err(unexpected());
        }
        let mut value: u128 = 0;
        let mut start = true;
        for &b in self.content {
            if start && b == 0x80 {
                return Err(self.bad("OBJECT IDENTIFIER"));
            }
            value = value
                .checked_mul(128)
                .ok_or_else(|| self.bad("OBJECT IDENTIFIER"))?
                | u128::from(b & 0x7f);
            start = b & 0x80 == 0;
            if start {
                value = 0;
            }
        }
        if !start {
            return Err(self.bad("OBJECT IDENTIFIER"));
        }
        Ok(ObjectIdentifier(self.content))
    }

    /// The content octets of an INTEGER as encoded (at least one octet). Leading zeros are
    /// kept: compare serial numbers through [`canonical_integer`].
    pub fn integer(&self) -> Result<&'a [u8], Error> {
        if !self.is(tag::INTEGER) {
            return Err(Error::Unexpected {
                offset: self.offset,
                expected: "an INTEGER",
            });
        }
        if self.content.is_empty() {
            return Err(self.bad("INTEGER"));
        }
        Ok(self.content)
    }

    /// A non-negative INTEGER (or ENUMERATED) that fits in 64 bits.
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

    /// The bits of a BIT STRING that holds whole octets (the unused-bits octet is 0), as
    /// signatures and public keys do.
    pub fn bit_string_octets(&self) -> Result<&'a [u8], Error> {
        if !self.is(tag::BIT_STRING) || self.constructed {
            return Err(Error::Unexpected {
                offset: self.offset,
                expected: "a primitive BIT STRING",
            });
        }
        match self.content {
            [0, bits @ ..] => Ok(bits),
            _ => Err(self.bad("BIT STRING (unused bits)")),
        }
    }

    /// A GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z` (X.680 §46). RFC 5280 §4.1.2.5.2 forbids
    /// fractions in certificates; OCSP responders and TSAs send them, so they are accepted and
    /// dropped (kyso reasons in whole seconds).
    pub fn generalized_time(&self) -> Result<OffsetDateTime, Error> {
        if !self.is(tag::GENERALIZED_TIME) {
            return Err(Error::Unexpected {
                offset: self.offset,
                expected: "a GeneralizedTime",
            });
        }
        let octets = self.octets()?;
        parse_generalized_time(&octets).ok_or_else(|| self.bad("GeneralizedTime"))
    }

    fn bad(&self, what: &'static str) -> Error {
        Error::BadValue {
            offset: self.offset,
            what,
        }
    }
}

fn parse_generalized_time(value: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(value).ok()?.strip_suffix('Z')?;
    let (main, fraction) = s.split_once('.').unwrap_or((s, "0"));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let n = |a: usize, b: usize| main[a..b].parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(n(4, 6)?).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::from(n(0, 4)?), month, u8::try_from(n(6, 8)?).ok()?)
            .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(n(8, 10)?).ok()?,
        u8::try_from(n(10, 12)?).ok()?,
        u8::try_from(n(12, 14)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

/// An OBJECT IDENTIFIER as read: its content octets, well formed. Compare it with the table's
/// entries ([`crate::oid`]); it shows in dotted form.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectIdentifier<'a>(&'a [u8]);

impl<'a> ObjectIdentifier<'a> {
    /// Whether this is `oid`.
    pub fn is(&self, oid: Oid) -> bool {
        self.0 == oid.content()
    }

    /// The content octets (X.690 §8.19).
    pub fn content(&self) -> &'a [u8] {
        self.0
    }

    /// An identifier from content octets [`Element::oid`] already checked and a caller kept.
    pub(crate) fn from_checked(content: &'a [u8]) -> ObjectIdentifier<'a> {
        ObjectIdentifier(content)
    }
}

impl PartialEq<Oid> for ObjectIdentifier<'_> {
    fn eq(&self, other: &Oid) -> bool {
        self.is(*other)
    }
}

impl fmt::Display for ObjectIdentifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Well formed by construction ([`Element::oid`]): every arc fits in 128 bits.
        let mut value: u128 = 0;
        let mut first = true;
        for &b in self.0 {
            value = (value << 7) | u128::from(b & 0x7f);
            if b & 0x80 == 0 {
                if first {
                    let top = (value / 40).min(2);
                    write!(f, "{top}.{}", value - top * 40)?;
                    first = false;
                } else {
                    write!(f, ".{value}")?;
                }
                value = 0;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ObjectIdentifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectIdentifier({self})")
    }
}

/// Iterator over the children of a constructed element.
pub struct Children<'a> {
    rest: &'a [u8],
    base: usize,
    depth: usize,
    rules: Rules,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest, self.base, self.depth, self.rules) {
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

/// The fields of a constructed element, read in order as its ASN.1 definition lists them:
/// [`Fields::expect`] for a required field, [`Fields::optional`] for an OPTIONAL or DEFAULT
/// one, [`Fields::finish`] to refuse anything after the last.
pub struct Fields<'a> {
    children: Children<'a>,
    peeked: Option<Element<'a>>,
}

impl<'a> Fields<'a> {
    /// The next field, whatever its tag; `expected` names it when there is none.
    pub fn field(&mut self, expected: &'static str) -> Result<Element<'a>, Error> {
        match self.peek()? {
            Some(element) => {
                self.peeked = None;
                Ok(element)
            }
            None => Err(self.missing(expected)),
        }
    }

    /// The next field, which must carry `tag`.
    pub fn expect(&mut self, tag: Tag, expected: &'static str) -> Result<Element<'a>, Error> {
        match self.peek()? {
            Some(element) if element.is(tag) => {
                self.peeked = None;
                Ok(element)
            }
            Some(element) => Err(Error::Unexpected {
                offset: element.offset,
                expected,
            }),
            None => Err(self.missing(expected)),
        }
    }

    /// The next field if it carries `tag`; otherwise nothing is consumed.
    pub fn optional(&mut self, tag: Tag) -> Result<Option<Element<'a>>, Error> {
        match self.peek()? {
            Some(element) if element.is(tag) => {
                self.peeked = None;
                Ok(Some(element))
            }
            _ => Ok(None),
        }
    }

    /// Whether every field was read.
    pub fn is_empty(&mut self) -> Result<bool, Error> {
        Ok(self.peek()?.is_none())
    }

    /// Fails if a field is left; `after` names the structure in the error.
    pub fn finish(mut self, after: &'static str) -> Result<(), Error> {
        match self.peek()? {
            None => Ok(()),
            Some(element) => Err(Error::Trailing {
                offset: element.offset,
                after,
            }),
        }
    }

    fn peek(&mut self) -> Result<Option<Element<'a>>, Error> {
        if self.peeked.is_none() {
            self.peeked = self.children.next().transpose()?;
        }
        Ok(self.peeked)
    }

    fn missing(&self, expected: &'static str) -> Error {
        Error::Unexpected {
            offset: self.children.base,
            expected,
        }
    }
}

/// The fields left, in order (a SEQUENCE OF, or the tail of a SEQUENCE).
impl<'a> Iterator for Fields<'a> {
    type Item = Result<Element<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.peeked.take() {
            Some(element) => Some(Ok(element)),
            None => self.children.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der;
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
        assert!(kids[0].is(tag::OCTET_STRING));
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
        // The same bytes are not DER.
        assert!(matches!(
            parse_der(&ber),
            Err(Error::NotDer {
                form: "indefinite length",
                ..
            })
        ));
        let segmented = [0x24, 0x03, 0x04, 0x01, b'a'];
        let (string, _) = parse_der(&segmented).unwrap();
        assert!(!string.is(tag::OCTET_STRING));
        assert!(string.octets().is_err());
        let (string, _) = parse(&segmented).unwrap();
        assert_eq!(string.octets().unwrap().as_ref(), b"a");
    }

    #[test]
    fn oids_display_and_compare() {
        let encoded = der::oid(crate::oid::SIGNED_DATA);
        let (el, _) = parse(&encoded).unwrap();
        let oid = el.oid().unwrap();
        assert_eq!(oid.to_string(), "1.2.840.113549.1.7.2");
        assert!(oid.is(crate::oid::SIGNED_DATA));
        assert!(!oid.is(crate::oid::DATA));
        // 2.999.3: the first subidentifier joins two arcs past 80.
        let (el, _) = parse(&[0x06, 0x03, 0x88, 0x37, 0x03]).unwrap();
        assert_eq!(el.oid().unwrap().to_string(), "2.999.3");
        // A padded subidentifier and an unterminated one are malformed (X.690 §8.19.2).
        for bad in [
            &[0x06, 0x02, 0x80, 0x01][..],
            &[0x06, 0x01, 0x81],
            &[0x06, 0x00],
        ] {
            let (el, _) = parse(bad).unwrap();
            assert!(el.oid().is_err(), "{bad:x?}");
        }
    }

    #[test]
    fn fields_read_in_order() {
        // SEQUENCE { INTEGER 5, [0] { NULL }, BOOLEAN TRUE }
        let encoded = der::sequence(&[
            &der::unsigned_integer(&[5]),
            &der::explicit(0, &der::null()),
            &der::boolean(true),
        ]);
        let seq = der(&encoded, "test").unwrap();
        let mut fields = seq.fields();
        assert_eq!(
            fields.expect(tag::INTEGER, "n").unwrap().small_unsigned(),
            Ok(5)
        );
        assert!(
            fields
                .optional(tag::context_constructed(1))
                .unwrap()
                .is_none()
        );
        assert!(
            fields
                .optional(tag::context_constructed(0))
                .unwrap()
                .is_some()
        );
        assert!(matches!(
            fields.expect(tag::INTEGER, "an INTEGER"),
            Err(Error::Unexpected {
                expected: "an INTEGER",
                ..
            })
        ));
        let mut rest = seq.fields();
        rest.field("n").unwrap();
        assert!(matches!(
            rest.finish("test"),
            Err(Error::Trailing { after: "test", .. })
        ));
        assert!(fields.expect(tag::BOOLEAN, "b").is_ok());
        assert!(fields.is_empty().unwrap());
        assert!(fields.field("more").is_err());
        assert!(matches!(
            der(&[encoded.as_slice(), &[0]].concat(), "test"),
            Err(Error::Trailing { .. })
        ));
    }

    #[test]
    fn generalized_times_with_and_without_fractions() {
        let time = |text: &str| {
            let encoded = der::tlv(tag::GENERALIZED_TIME, text.as_bytes());
            let (el, _) = parse(&encoded).unwrap();
            el.generalized_time()
        };
        let at = time::macros::datetime!(2026-03-01 10:00:05 UTC);
        assert_eq!(time("20260301100005Z"), Ok(at));
        assert_eq!(time("20260301100005.125Z"), Ok(at));
        for bad in [
            "20260301100005",
            "2026030110000Z",
            "20261301100005Z",
            "20260301100005.Z",
        ] {
            assert!(time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_compare_canonically() {
        assert_eq!(canonical_integer(&[0, 0, 0x7f]), [0x7f]);
        assert_eq!(canonical_integer(&[0, 0x80]), [0, 0x80]);
        assert_eq!(canonical_integer(&[0xff, 0xff, 0x80]), [0x80]);
        assert_eq!(canonical_integer(&[0]), [0]);
        let (el, _) = parse(&[0x02, 0x00]).unwrap();
        assert!(el.integer().is_err());
        let (el, _) = parse(&[0x02, 0x02, 0x00, 0x80]).unwrap();
        assert_eq!(el.integer(), Ok(&[0x00, 0x80][..]));
        assert_eq!(el.small_unsigned(), Ok(128));
        let (el, _) = parse(&[0x02, 0x01, 0x80]).unwrap();
        assert!(el.small_unsigned().is_err());
    }

    #[test]
    fn hostile_lengths_are_errors() {
        assert!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse(&[0x04, 0x80, 0x00, 0x00]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(parse(&deep).is_err());
        let encoded = der::sequence(&[&[1, 2, 3]]);
        for cut in 0..encoded.len() {
            assert!(der(&encoded[..cut], "seq").is_err());
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for (el, _) in [parse(&bytes), parse_der(&bytes)].into_iter().flatten() {
                let _ = el.child_vec();
                let _ = el.octets();
                let _ = el.definite();
                let _ = el.small_unsigned();
                let _ = el.oid().map(|o| o.to_string());
                let _ = el.generalized_time();
                let mut fields = el.fields();
                let _ = fields.optional(tag::SEQUENCE);
                let _ = fields.finish("x");
            }
        }

        #[test]
        fn definite_of_der_is_identity(content in proptest::collection::vec(any::<u8>(), 0..300)) {
            let encoded = der::sequence(&[&der::octet_string(&content)]);
            let (el, _) = parse(&encoded).unwrap();
            let definite = el.definite().unwrap();
            prop_assert_eq!(definite.as_ref(), &encoded[..]);
        }

        #[test]
        fn written_tlvs_read_back(number in 0u32..100_000, constructed in any::<bool>(), content in proptest::collection::vec(any::<u8>(), 0..600)) {
            let t = Tag { class: Class::Context, constructed, number };
            let encoded = der::tlv(t, &content);
            let (el, rest) = parse(&encoded).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(el.tag(), t);
            prop_assert_eq!(el.content, &content[..]);
        }
    }
}
