//! Writing DER (X.690 §10): the only encoder in kyso.
//!
//! kyso writes a handful of small structures: the CMS `SignedData` and its signed attributes
//! (RFC 5652 §5), ESS and XAdES `IssuerSerial` (RFC 5035 §3), `TimeStampReq` (RFC 3161 §2.4.1),
//! `OCSPRequest` (RFC 6960 §4.1), `SubjectPublicKeyInfo` from PKCS#11 attributes (RFC 5280
//! §4.1.2.7), `RSAPublicKey` (RFC 8017 A.1.1) and `ECDSA-Sig-Value` (RFC 3279 §2.2.3). Each is a
//! few nested SEQUENCEs around bytes kyso already holds in DER (certificates, names, serial
//! numbers, tokens), which must be copied as they are, never decoded and re-encoded. So this
//! module composes encoded parts: every function returns one complete element, and callers
//! nest them. ARCHITECTURE.md says why no ASN.1 library does this instead.
//!
//! Owns: DER lengths (definite, minimal), INTEGER minimality, SET OF ordering (§11.6).
//! Refuses: nothing; the inputs are kyso's own. Reading is [`crate::ber`]'s job; tags are its
//! [`crate::ber::tag`] constants, so both sides name them alike.

use crate::ber::{Class, Tag, tag};
use crate::oid::Oid;

/// One element: `tag`, the definite length of `content`, `content` (X.690 §8.1).
pub(crate) fn tlv(tag: Tag, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 8);
    push_identifier(&mut out, tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub(crate) fn sequence(elements: &[&[u8]]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &elements.concat())
}

/// A SET OF in DER: elements sorted by their encodings (X.690 §11.6).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(tag::SET, &elements.concat())
}

/// `[n]` EXPLICIT around an encoded element (or IMPLICIT over the content of a constructed
/// type): the constructed context tag.
pub(crate) fn explicit(n: u32, content: &[u8]) -> Vec<u8> {
    tlv(tag::context_constructed(n), content)
}

/// `[n]` IMPLICIT over a primitive value's content octets.
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn implicit_primitive(n: u32, content: &[u8]) -> Vec<u8> {
    tlv(tag::context(n), content)
}

/// Re-tags an encoded constructed element (a SET OF attributes) as `[n]` IMPLICIT, content
/// unchanged: what CMS does with signed and unsigned attributes (RFC 5652 §5.3).
pub(crate) fn implicit_constructed(n: u32, encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len());
    push_identifier(&mut out, tag::context_constructed(n));
    // Skip the identifier octet of the universal SET or SEQUENCE (one octet: number < 31).
    out.extend_from_slice(encoded.get(1..).unwrap_or_default());
    out
}

/// An INTEGER holding the non-negative big-endian `magnitude`: leading zeros dropped, one zero
/// added back when the top bit is set so the value stays positive (X.690 §8.3.2).
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    tlv(tag::INTEGER, &unsigned_integer_content(magnitude))
}

/// The content octets of [`unsigned_integer`]: what a nonce compares as once read back.
pub(crate) fn unsigned_integer_content(magnitude: &[u8]) -> Vec<u8> {
    let trimmed = match magnitude.iter().position(|&b| b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0u8][..],
    };
    let mut out = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
    out
}

/// An INTEGER whose content octets are given as they were read (a certificate's serial number,
/// copied exactly so that an issuer-and-serial matches the certificate byte for byte).
pub(crate) fn integer_as_read(content: &[u8]) -> Vec<u8> {
    tlv(tag::INTEGER, content)
}

/// A BOOLEAN: DER's FALSE is 0x00, TRUE 0xFF (X.690 §11.1).
pub(crate) fn boolean(value: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

/// NULL.
pub(crate) fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &content)
}

/// An OCTET STRING.
pub(crate) fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, content)
}

/// An OBJECT IDENTIFIER from the table.
pub(crate) fn oid(oid: Oid) -> Vec<u8> {
    tlv(tag::OID, oid.content())
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }` (RFC 5280
/// §4.1.1.2), `parameters` already encoded.
pub(crate) fn algorithm_identifier(algorithm: Oid, parameters: Option<&[u8]>) -> Vec<u8> {
    match parameters {
        Some(p) => sequence(&[&oid(algorithm), p]),
        None => sequence(&[&oid(algorithm)]),
    }
}

/// Appends a definite length in its shortest form (X.690 §8.1.3, §10.1).
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            // At most size_of::<usize>() = 8 length octets.
            let count = u8::try_from(bytes.len() - skip).unwrap_or(8);
            out.push(0x80 | count);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
}

/// Appends identifier octets (X.690 §8.1.2), in the high-tag-number form from 31 on.
fn push_identifier(out: &mut Vec<u8>, tag: Tag) {
    let class = match tag.class {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::Context => 0x80,
        Class::Private => 0xc0,
    };
    let form = if tag.constructed { 0x20 } else { 0x00 };
    if let Ok(number) = u8::try_from(tag.number)
        && number < 0x1f
    {
        out.push(class | form | number);
        return;
    }
    out.push(class | form | 0x1f);
    let digits = (32 - tag.number.leading_zeros()).div_ceil(7);
    for i in (0..digits).rev() {
        let group = ((tag.number >> (7 * i)) & 0x7f) as u8;
        out.push(if i == 0 { group } else { group | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_length() {
        let mut out = Vec::new();
        push_len(&mut out, 0x1234);
        assert_eq!(out, [0x82, 0x12, 0x34]);
        assert_eq!(octet_string(&[7; 70_000])[..4], [0x04, 0x83, 0x01, 0x11]);
    }

    #[test]
    fn oids_encode_like_x690() {
        assert_eq!(
            oid(crate::oid::SHA256),
            [
                0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
            ]
        );
        assert_eq!(
            algorithm_identifier(crate::oid::RSA_ENCRYPTION, Some(&null())),
            [
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
                0x00
            ]
        );
    }

    #[test]
    fn set_of_is_sorted() {
        assert_eq!(
            set_of(vec![vec![2, 1, 9], vec![2, 1, 1]]),
            [0x31, 6, 2, 1, 1, 2, 1, 9]
        );
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(unsigned_integer(&[0, 0, 0x7f]), [0x02, 1, 0x7f]);
        assert_eq!(unsigned_integer(&[0x80]), [0x02, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0]), [0x02, 1, 0]);
        assert_eq!(unsigned_integer(&[]), [0x02, 1, 0]);
    }

    #[test]
    fn tags_in_every_form() {
        assert_eq!(explicit(0, &[]), [0xa0, 0]);
        assert_eq!(implicit_primitive(6, b"u"), [0x86, 1, b'u']);
        assert_eq!(
            implicit_constructed(1, &set_of(vec![null()])),
            [0xa1, 2, 5, 0]
        );
        assert_eq!(tlv(tag::context(31), &[]), [0x9f, 0x1f, 0]);
        assert_eq!(tlv(tag::context(200), &[]), [0x9f, 0x81, 0x48, 0]);
        assert_eq!(boolean(true), [0x01, 1, 0xff]);
        assert_eq!(bit_string(&[0xab]), [0x03, 2, 0, 0xab]);
    }
}
