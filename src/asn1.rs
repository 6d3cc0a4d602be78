//! The few DER encodings kyso writes by hand (X.690): enough to assemble a
//! `SubjectPublicKeyInfo` from PKCS#11 attributes and an `ECDSA-Sig-Value` from `r‖s`.
//! Anything larger (CMS, X.509) uses a real ASN.1 library.

/// Tag numbers used here (X.680 §8.6, universal class).
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OBJECT_IDENTIFIER: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// One tag-length-value.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub(crate) fn sequence(elements: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &elements.concat())
}

/// An INTEGER holding the non-negative big-endian `magnitude`: leading zeros dropped, one zero
/// added back when the top bit is set so the value stays positive (X.690 §8.3.2).
pub(crate) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed = match magnitude.iter().position(|&b| b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0u8][..],
    };
    if trimmed[0] & 0x80 != 0 {
        let mut padded = Vec::with_capacity(trimmed.len() + 1);
        padded.push(0);
        padded.extend_from_slice(trimmed);
        tlv(INTEGER, &padded)
    } else {
        tlv(INTEGER, trimmed)
    }
}

/// A BIT STRING with no unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(BIT_STRING, &content)
}

/// An OBJECT IDENTIFIER from its arcs (X.690 §8.19). The first two arcs must be valid
/// (`0.x`, `1.x` with x < 40, or `2.x`), which holds for every constant kyso writes.
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (a * 40 + b, rest),
        _ => (0, &[][..]),
    };
    for &arc in std::iter::once(&first).chain(rest) {
        let mut groups = Vec::new();
        let mut v = arc;
        loop {
            groups.push((v & 0x7f) as u8);
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().enumerate().rev() {
            content.push(if i == 0 { *g } else { g | 0x80 });
        }
    }
    tlv(OBJECT_IDENTIFIER, &content)
}

/// A SET OF in DER: elements sorted by their encodings (X.690 §11.6).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(SET, &elements.concat())
}

/// A context-specific constructed tag `[n]` around `content` (EXPLICIT, or IMPLICIT of a
/// constructed type).
pub(crate) fn context_constructed(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// An OCTET STRING.
pub(crate) fn octet_string(content: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, content)
}

/// Appends a definite length (X.690 §8.1.3).
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Splits one DER TLV off the front of `input`: `(tag, content, rest)`. Definite lengths only.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > std::mem::size_of::<usize>() || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

/// The key bits inside an SPKI (the BIT STRING's content after the unused-bits byte): the
/// `RSAPublicKey` or EC point. Its SHA-1 is the conventional `CKA_ID` and key identifier
/// (RFC 5280 §4.2.1.2, method 1).
pub(crate) fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let (SEQUENCE, body, _) = read_tlv(spki)? else {
        return None;
    };
    let (SEQUENCE, _, rest) = read_tlv(body)? else {
        return None;
    };
    match read_tlv(rest)? {
        (BIT_STRING, [0, bits @ ..], _) => Some(bits),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_form_length() {
        let mut out = Vec::new();
        push_len(&mut out, 0x1234);
        assert_eq!(out, [0x82, 0x12, 0x34]);
    }

    #[test]
    fn oids_encode_like_x690() {
        // sha256: 2.16.840.1.101.3.4.2.1
        assert_eq!(
            oid(&[2, 16, 840, 1, 101, 3, 4, 2, 1]),
            [
                0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
            ]
        );
        // rsaEncryption: 1.2.840.113549.1.1.1
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 1]),
            [
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
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
    }

    proptest! {
        #[test]
        fn tlv_round_trips(tag in any::<u8>(), content in proptest::collection::vec(any::<u8>(), 0..600)) {
            let encoded = tlv(tag, &content);
            let (t, c, rest) = read_tlv(&encoded).unwrap();
            prop_assert_eq!(t, tag);
            prop_assert_eq!(c, &content[..]);
            prop_assert!(rest.is_empty());
        }

        #[test]
        fn read_tlv_never_panics(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = read_tlv(&input);
        }
    }
}
