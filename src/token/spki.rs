//! `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7) from PKCS#11 key attributes, and back.
//!
//! A token describes an RSA key by `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`, and an EC key by
//! `CKA_EC_PARAMS` (the DER curve OID) and `CKA_EC_POINT` (PKCS#11 v2.40 §2.3.3: a DER OCTET
//! STRING holding the uncompressed point, though some tokens return the bare point).

use crate::ber::{self, tag};
use crate::der;
use crate::oid;
use crate::signer::{Curve, rsa_public_key};

/// The SPKI of an RSA public key.
pub(crate) fn rsa(modulus: &[u8], public_exponent: &[u8]) -> Vec<u8> {
    // RFC 8017 appendix A.1: rsaEncryption with NULL parameters.
    let algorithm = der::algorithm_identifier(oid::RSA_ENCRYPTION, Some(&der::null()));
    der::sequence(&[
        &algorithm,
        &der::bit_string(&rsa_public_key(modulus, public_exponent)),
    ])
}

/// The SPKI of an EC public key given its uncompressed point.
pub(crate) fn ec(curve: Curve, point: &[u8]) -> Vec<u8> {
    // RFC 5480 §2.1.1: id-ecPublicKey with the named curve as parameters.
    let algorithm = der::algorithm_identifier(oid::EC_PUBLIC_KEY, Some(&curve_params(curve)));
    der::sequence(&[&algorithm, &der::bit_string(point)])
}

/// The `CKA_EC_PARAMS` value naming `curve`: the DER OBJECT IDENTIFIER of the named curve
/// (PKCS#11 v2.40 §2.3.3, RFC 5480 §2.1.1.1).
pub(crate) fn curve_params(curve: Curve) -> Vec<u8> {
    der::oid(curve_oid(curve))
}

fn curve_oid(curve: Curve) -> oid::Oid {
    match curve {
        Curve::P256 => oid::SECP256R1,
        Curve::P384 => oid::SECP384R1,
    }
}

/// The curve named by a `CKA_EC_PARAMS` value, if kyso supports it.
pub(crate) fn curve_from_params(params: &[u8]) -> Option<Curve> {
    let named = ber::der(params, "CKA_EC_PARAMS").ok()?.oid().ok()?;
    [Curve::P256, Curve::P384]
        .into_iter()
        .find(|c| named.is(curve_oid(*c)))
}

/// The uncompressed point in a `CKA_EC_POINT` value, accepting both the DER-wrapped form the
/// standard asks for and the bare point some tokens return.
pub(crate) fn ec_point(attribute: &[u8], curve: Curve) -> Option<Vec<u8>> {
    let bare_len = 1 + 2 * curve.field_len();
    if attribute.len() == bare_len && attribute[0] == 0x04 {
        return Some(attribute.to_vec());
    }
    let wrapped = ber::der(attribute, "CKA_EC_POINT")
        .and_then(|e| e.expect(tag::OCTET_STRING, "an OCTET STRING"))
        .ok()?;
    let point = wrapped.content;
    (point.len() == bare_len && point[0] == 0x04).then(|| point.to_vec())
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
        let wrapped = der::octet_string(&point);
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
        assert!(
            crate::signer::spki_key_bits(&spki)
                .unwrap()
                .starts_with(&[0x30])
        );
    }

    #[test]
    fn ec_spki_names_the_curve() {
        let mut point = vec![0x04];
        point.extend([9u8; 96]);
        let spki = ec(Curve::P384, &point);
        let (_, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).unwrap();
        assert_eq!(
            parsed.algorithm.algorithm.to_id_string(),
            oid::EC_PUBLIC_KEY
        );
        assert_eq!(crate::signer::spki_key_bits(&spki), Some(&point[..]));
        assert_eq!(
            curve_from_params(&curve_params(Curve::P384)),
            Some(Curve::P384)
        );
        assert_eq!(curve_from_params(&der::oid(oid::SHA256)), None);
    }
}
