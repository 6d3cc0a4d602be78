//! `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7) from PKCS#11 key attributes, and back.
//!
//! A token describes an RSA key by `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`, and an EC key by
//! `CKA_EC_PARAMS` (the DER curve OID) and `CKA_EC_POINT` (PKCS#11 v2.40 §2.3.3: a DER OCTET
//! STRING holding the uncompressed point, though some tokens return the bare point).

use crate::asn1;
use crate::signer::Curve;

/// `rsaEncryption` (RFC 8017 appendix A.1), DER.
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// `id-ecPublicKey` (RFC 5480 §2.1.1), DER.
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `secp256r1` (RFC 5480 §2.1.1.1), DER.
pub(crate) const SECP256R1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `secp384r1` (RFC 5480 §2.1.1.1), DER.
pub(crate) const SECP384R1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// The SPKI of an RSA public key.
pub(crate) fn rsa(modulus: &[u8], public_exponent: &[u8]) -> Vec<u8> {
    let algorithm = asn1::sequence(&[RSA_ENCRYPTION, &[asn1::NULL, 0]]);
    let key = asn1::sequence(&[
        &asn1::unsigned_integer(modulus),
        &asn1::unsigned_integer(public_exponent),
    ]);
    asn1::sequence(&[&algorithm, &asn1::bit_string(&key)])
}

/// The SPKI of an EC public key given its uncompressed point.
pub(crate) fn ec(curve: Curve, point: &[u8]) -> Vec<u8> {
    let algorithm = asn1::sequence(&[EC_PUBLIC_KEY, curve_oid(curve)]);
    asn1::sequence(&[&algorithm, &asn1::bit_string(point)])
}

pub(crate) fn curve_oid(curve: Curve) -> &'static [u8] {
    match curve {
        Curve::P256 => SECP256R1,
        Curve::P384 => SECP384R1,
    }
}

/// The curve named by a `CKA_EC_PARAMS` value, if kyso supports it.
pub(crate) fn curve_from_params(params: &[u8]) -> Option<Curve> {
    match params {
        SECP256R1 => Some(Curve::P256),
        SECP384R1 => Some(Curve::P384),
        _ => None,
    }
}

/// The uncompressed point in a `CKA_EC_POINT` value, accepting both the DER-wrapped form the
/// standard asks for and the bare point some tokens return.
pub(crate) fn ec_point(attribute: &[u8], curve: Curve) -> Option<Vec<u8>> {
    let bare_len = 1 + 2 * curve.field_len();
    if attribute.len() == bare_len && attribute[0] == 0x04 {
        return Some(attribute.to_vec());
    }
    match asn1::read_tlv(attribute)? {
        (asn1::OCTET_STRING, point, []) if point.len() == bare_len && point[0] == 0x04 => {
            Some(point.to_vec())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::FromDer;

    #[test]
    fn ec_point_accepts_both_forms() {
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        assert_eq!(ec_point(&point, Curve::P256).as_deref(), Some(&point[..]));
        let wrapped = asn1::tlv(asn1::OCTET_STRING, &point);
        assert_eq!(ec_point(&wrapped, Curve::P256).as_deref(), Some(&point[..]));
        assert_eq!(ec_point(&wrapped, Curve::P384), None);
        assert_eq!(ec_point(&[0x04, 0x01], Curve::P256), None);
    }

    #[test]
    fn rsa_spki_parses_with_x509_parser() {
        let modulus = [0xc3u8; 256];
        let spki = rsa(&modulus, &[1, 0, 1]);
        let (rest, parsed) =
            x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("valid SPKI");
        assert!(rest.is_empty());
        match parsed.parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(k) => {
                assert_eq!(k.key_size(), 2048);
                assert_eq!(k.exponent, &[1, 0, 1]);
            }
            other => panic!("not RSA: {other:?}"),
        }
        assert!(asn1::spki_key_bits(&spki).unwrap().starts_with(&[0x30]));
    }

    #[test]
    fn ec_spki_names_the_curve() {
        let mut point = vec![0x04];
        point.extend([9u8; 96]);
        let spki = ec(Curve::P384, &point);
        let (_, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).unwrap();
        assert_eq!(
            parsed.algorithm.algorithm.to_id_string(),
            "1.2.840.10045.2.1"
        );
        assert_eq!(asn1::spki_key_bits(&spki), Some(&point[..]));
    }
}
