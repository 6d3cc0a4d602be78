//! A minimal DER reader and writer for the few structures x509-parser does not cover (OCSP,
//! RFC 3161 timestamps, RSA-PSS parameters, CRL extensions it leaves unparsed).
//!
//! Owns: tag-length-value walking over a byte slice, never allocating, never panicking, and
//! encoding the handful of values kyso writes (OCSP requests). Refuses: indefinite lengths,
//! multi-byte tags and lengths over 4 octets; none of them occur in the DER structures read here
//! (X.690 §10.1 forbids indefinite lengths in DER).

use thiserror::Error;

/// Universal and context tags kyso reads (X.680 §8.4, X.690 §8.1.2).
pub(crate) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const ENUMERATED: u8 = 0x0a;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    pub const GENERALIZED_TIME: u8 = 0x18;

    /// `[n]` constructed, as used for EXPLICIT tagging.
    pub const fn context_constructed(n: u8) -> u8 {
        0xa0 | n
    }
}

/// What went wrong while walking DER, with the offset into the slice being read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DerError {
    #[error("der: truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("der: expected tag {expected:#04x}, found {found:#04x} at byte {offset}")]
    UnexpectedTag {
        expected: u8,
        found: u8,
        offset: usize,
    },
    #[error("der: unsupported length form at byte {offset}")]
    UnsupportedLength { offset: usize },
    #[error("der: unsupported multi-byte tag at byte {offset}")]
    UnsupportedTag { offset: usize },
    #[error("der: {what} is malformed")]
    Malformed { what: &'static str },
    #[error("der: trailing data after {what}")]
    TrailingData { what: &'static str },
}

/// One tag-length-value element.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    /// The whole element, header included (what a signature covers).
    pub raw: &'a [u8],
}

/// A cursor over a sequence of DER elements.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads the next element, whatever its tag.
    pub fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let start = self.pos;
        let tag = *self
            .data
            .get(start)
            .ok_or(DerError::Truncated { offset: start })?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::UnsupportedTag { offset: start });
        }
        let first = *self
            .data
            .get(start + 1)
            .ok_or(DerError::Truncated { offset: start + 1 })?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let count = (first & 0x7f) as usize;
            if count == 0 || count > 4 {
                return Err(DerError::UnsupportedLength { offset: start + 1 });
            }
            let mut len = 0usize;
            for i in 0..count {
                let b = *self.data.get(start + 2 + i).ok_or(DerError::Truncated {
                    offset: start + 2 + i,
                })?;
                len = (len << 8) | b as usize;
            }
            (len, 2 + count)
        };
        let value_start = start + header;
        let end = value_start.checked_add(len).ok_or(DerError::Truncated {
            offset: value_start,
        })?;
        if end > self.data.len() {
            return Err(DerError::Truncated {
                offset: self.data.len(),
            });
        }
        self.pos = end;
        Ok(Tlv {
            tag,
            value: &self.data[value_start..end],
            raw: &self.data[start..end],
        })
    }

    /// Reads the next element and checks its tag.
    pub fn expect(&mut self, expected: u8) -> Result<Tlv<'a>, DerError> {
        let offset = self.pos;
        let tlv = self.read()?;
        if tlv.tag != expected {
            return Err(DerError::UnexpectedTag {
                expected,
                found: tlv.tag,
                offset,
            });
        }
        Ok(tlv)
    }

    /// Reads the next element only if it carries `expected`.
    pub fn optional(&mut self, expected: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(expected) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self, what: &'static str) -> Result<(), DerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DerError::TrailingData { what })
        }
    }
}

/// Reads exactly one element of tag `expected` spanning all of `data`.
pub(crate) fn single<'a>(
    data: &'a [u8],
    expected: u8,
    what: &'static str,
) -> Result<Tlv<'a>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.expect(expected)?;
    r.finish(what)?;
    Ok(tlv)
}

/// Decodes a non-negative INTEGER that fits in a u64 (versions, salt lengths, small counters).
pub(crate) fn small_uint(value: &[u8]) -> Result<u64, DerError> {
    let bytes = match value {
        [] => return Err(DerError::Malformed { what: "INTEGER" }),
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => value,
    };
    if bytes.len() > 8 || bytes[0] & 0x80 != 0 && value[0] != 0 {
        return Err(DerError::Malformed {
            what: "small INTEGER",
        });
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}

/// The minimal two's-complement form of INTEGER content octets: redundant leading 0x00 (or
/// 0xff) octets removed. Serial numbers are compared in this form, since some issuers pad them
/// and X.690 DER forbids the padding that others then strip.
pub(crate) fn canonical_integer(mut bytes: &[u8]) -> &[u8] {
    while bytes.len() > 1
        && ((bytes[0] == 0x00 && bytes[1] & 0x80 == 0)
            || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes = &bytes[1..];
    }
    bytes
}

/// Renders an OBJECT IDENTIFIER's content octets in dotted form (X.690 §8.19).
pub(crate) fn oid_to_string(value: &[u8]) -> Result<String, DerError> {
    if value.is_empty() {
        return Err(DerError::Malformed {
            what: "OBJECT IDENTIFIER",
        });
    }
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    for (i, b) in value.iter().enumerate() {
        if acc == 0 && *b == 0x80 {
            return Err(DerError::Malformed {
                what: "OBJECT IDENTIFIER",
            });
        }
        acc = acc.checked_mul(128).ok_or(DerError::Malformed {
            what: "OBJECT IDENTIFIER",
        })? | (*b & 0x7f) as u128;
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        } else if i == value.len() - 1 {
            return Err(DerError::Malformed {
                what: "OBJECT IDENTIFIER",
            });
        }
    }
    let first = arcs[0];
    let (a, b) = if first < 40 {
        (0, first)
    } else if first < 80 {
        (1, first - 40)
    } else {
        (2, first - 80)
    };
    let mut s = format!("{a}.{b}");
    for arc in &arcs[1..] {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Ok(s)
}

/// Encodes one element.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Encodes the concatenation of already-encoded parts under one constructed tag.
pub(crate) fn encode_parts(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

/// Encodes a dotted OID string (used for the few OIDs kyso writes).
pub(crate) fn encode_oid(dotted: &str) -> Result<Vec<u8>, DerError> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| DerError::Malformed { what: "OID string" })?;
    if arcs.len() < 2 || arcs[0] > 2 {
        return Err(DerError::Malformed { what: "OID string" });
    }
    let mut content = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        tmp.reverse();
        content.extend_from_slice(&tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    Ok(encode(tag::OID, &content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_round_trip() {
        for s in [
            "1.2.840.113549.1.1.11",
            "2.5.29.19",
            "1.3.6.1.5.5.7.48.1.2",
            "2.999.3",
        ] {
            let enc = encode_oid(s).unwrap();
            let tlv = single(&enc, tag::OID, "oid").unwrap();
            assert_eq!(oid_to_string(tlv.value).unwrap(), s);
        }
    }

    #[test]
    fn long_lengths_round_trip() {
        let content = vec![7u8; 70_000];
        let enc = encode(tag::OCTET_STRING, &content);
        let tlv = single(&enc, tag::OCTET_STRING, "octets").unwrap();
        assert_eq!(tlv.value.len(), 70_000);
    }

    #[test]
    fn truncation_is_an_error() {
        let enc = encode(tag::SEQUENCE, &[1, 2, 3]);
        for cut in 0..enc.len() {
            assert!(single(&enc[..cut], tag::SEQUENCE, "seq").is_err());
        }
    }

    #[test]
    fn small_uint_values() {
        assert_eq!(small_uint(&[0]).unwrap(), 0);
        assert_eq!(small_uint(&[0, 0x80]).unwrap(), 128);
        assert!(small_uint(&[0x80]).is_err());
        assert!(small_uint(&[]).is_err());
    }
}
