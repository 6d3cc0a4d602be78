//! Every OBJECT IDENTIFIER kyso names, in one table, each spelt once in dotted form.
//!
//! Owns: the table, and the X.690 §8.19 content octets of each entry, computed from the dotted
//! text when the crate is compiled, so the form kyso writes (`der::oid`), the form it
//! compares read values against ([`crate::ber::ObjectIdentifier`]) and the form x509-parser and
//! the path validator use (dotted strings) cannot drift apart. A malformed entry fails the
//! build. Refuses: nothing at run time; identifiers outside the table are data, read and shown
//! by [`crate::ber`].
//!
//! Entries name the standard that assigns them. Grouped by where they appear.

use std::fmt;

/// A named OBJECT IDENTIFIER of the table: its dotted text and its DER content octets.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oid {
    dotted: &'static str,
    content: &'static [u8],
}

impl Oid {
    /// The dotted form, e.g. `2.16.840.1.101.3.4.2.1`.
    pub const fn dotted(self) -> &'static str {
        self.dotted
    }

    /// The content octets of its DER encoding (X.690 §8.19): the bytes after tag and length.
    pub const fn content(self) -> &'static [u8] {
        self.content
    }

    /// The arcs, for APIs that take them (rcgen's custom extensions).
    pub fn arcs(self) -> Vec<u64> {
        self.dotted
            .split('.')
            .map(|arc| arc.parse().unwrap_or(u64::MAX))
            .collect()
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({})", self.dotted)
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dotted)
    }
}

impl PartialEq<Oid> for str {
    fn eq(&self, other: &Oid) -> bool {
        self == other.dotted
    }
}

impl PartialEq<Oid> for &str {
    fn eq(&self, other: &Oid) -> bool {
        *self == other.dotted
    }
}

impl PartialEq<Oid> for String {
    fn eq(&self, other: &Oid) -> bool {
        self == other.dotted
    }
}

/// Declares table entries: `NAME = "dotted";`, each with its documentation.
macro_rules! table {
    ($($(#[$doc:meta])* $name:ident = $dotted:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $name: Oid = {
                const CONTENT: [u8; encoded_len($dotted)] = encode($dotted);
                Oid { dotted: $dotted, content: &CONTENT }
            };
        )*
    };
}

table! {
    // CMS (RFC 5652) and its attributes.
    /// id-data (RFC 5652 §4).
    DATA = "1.2.840.113549.1.7.1";
    /// id-signedData (RFC 5652 §5.1).
    SIGNED_DATA = "1.2.840.113549.1.7.2";
    /// id-contentType (RFC 5652 §11.1).
    CONTENT_TYPE = "1.2.840.113549.1.9.3";
    /// id-messageDigest (RFC 5652 §11.2).
    MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
    /// id-signingTime (RFC 5652 §11.3).
    SIGNING_TIME = "1.2.840.113549.1.9.5";
    /// id-aa-signingCertificate (RFC 2634 §5.4), SHA-1 certificate hashes.
    SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12";
    /// id-aa-signingCertificateV2 (RFC 5035 §3).
    SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47";
    /// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
    SIGNATURE_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14";
    /// id-ct-TSTInfo (RFC 3161 §2.4.2).
    TST_INFO = "1.2.840.113549.1.9.16.1.4";

    // Digest algorithms.
    /// id-sha1 (RFC 3279 §2.2.1): still met in old signatures, CertIDs and ESS hashes.
    SHA1 = "1.3.14.3.2.26";
    /// id-sha256 (RFC 5754 §2).
    SHA256 = "2.16.840.1.101.3.4.2.1";
    /// id-sha384 (RFC 5754 §2).
    SHA384 = "2.16.840.1.101.3.4.2.2";
    /// id-sha512 (RFC 5754 §2).
    SHA512 = "2.16.840.1.101.3.4.2.3";

    // Public keys and signature algorithms.
    /// rsaEncryption (RFC 8017 appendix A.1); CMS also names RSA PKCS#1 v1.5 signatures by it
    /// (RFC 3370 §3.2).
    RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
    /// sha1WithRSAEncryption (RFC 3279 §2.2.1).
    SHA1_WITH_RSA = "1.2.840.113549.1.1.5";
    /// id-mgf1 (RFC 4055 §2.2).
    MGF1 = "1.2.840.113549.1.1.8";
    /// id-RSASSA-PSS (RFC 4055 §3.1).
    RSASSA_PSS = "1.2.840.113549.1.1.10";
    /// sha256WithRSAEncryption (RFC 4055 §5).
    SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
    /// sha384WithRSAEncryption (RFC 4055 §5).
    SHA384_WITH_RSA = "1.2.840.113549.1.1.12";
    /// sha512WithRSAEncryption (RFC 4055 §5).
    SHA512_WITH_RSA = "1.2.840.113549.1.1.13";
    /// id-ecPublicKey (RFC 5480 §2.1.1).
    EC_PUBLIC_KEY = "1.2.840.10045.2.1";
    /// secp256r1, P-256 (RFC 5480 §2.1.1.1).
    SECP256R1 = "1.2.840.10045.3.1.7";
    /// secp384r1, P-384 (RFC 5480 §2.1.1.1).
    SECP384R1 = "1.3.132.0.34";
    /// ecdsa-with-SHA1 (RFC 3279 §2.2.3).
    ECDSA_WITH_SHA1 = "1.2.840.10045.4.1";
    /// ecdsa-with-SHA256 (RFC 5758 §3.2).
    ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
    /// ecdsa-with-SHA384 (RFC 5758 §3.2).
    ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
    /// ecdsa-with-SHA512 (RFC 5758 §3.2).
    ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4";
    /// id-Ed25519 (RFC 8410 §3).
    ED25519 = "1.3.101.112";
    /// id-dsa (RFC 3279 §2.3.2).
    DSA = "1.2.840.10040.4.1";
    /// id-dsa-with-sha1 (RFC 3279 §2.2.2).
    DSA_WITH_SHA1 = "1.2.840.10040.4.3";
    /// id-dsa-with-sha256 (RFC 5758 §3.1).
    DSA_WITH_SHA256 = "2.16.840.1.101.3.4.3.2";

    // Name attributes (RFC 5280 appendix A.1; emailAddress from PKCS #9).
    /// id-at-commonName.
    COMMON_NAME = "2.5.4.3";
    /// id-at-countryName.
    COUNTRY_NAME = "2.5.4.6";
    /// id-at-localityName.
    LOCALITY_NAME = "2.5.4.7";
    /// id-at-stateOrProvinceName.
    STATE_OR_PROVINCE_NAME = "2.5.4.8";
    /// id-at-organizationName.
    ORGANIZATION_NAME = "2.5.4.10";
    /// id-at-organizationalUnitName.
    ORGANIZATIONAL_UNIT_NAME = "2.5.4.11";
    /// id-emailAddress (RFC 5280 §4.1.2.6, legacy in subjects).
    EMAIL_ADDRESS = "1.2.840.113549.1.9.1";

    // Certificate and CRL extensions (RFC 5280 §4.2, §5.2, §5.3).
    /// id-ce-issuerAltName.
    ISSUER_ALT_NAME = "2.5.29.18";
    /// id-ce-cRLNumber.
    CRL_NUMBER = "2.5.29.20";
    /// id-ce-cRLReasons.
    REASON_CODE = "2.5.29.21";
    /// id-ce-invalidityDate.
    INVALIDITY_DATE = "2.5.29.24";
    /// id-ce-deltaCRLIndicator.
    DELTA_CRL_INDICATOR = "2.5.29.27";
    /// id-ce-issuingDistributionPoint.
    ISSUING_DISTRIBUTION_POINT = "2.5.29.28";
    /// id-ce-certificateIssuer.
    CERTIFICATE_ISSUER = "2.5.29.29";
    /// anyPolicy (RFC 5280 §4.2.1.4).
    ANY_POLICY = "2.5.29.32.0";
    /// id-ce-authorityKeyIdentifier.
    AUTHORITY_KEY_IDENTIFIER = "2.5.29.35";
    /// id-ce-extKeyUsage.
    EXTENDED_KEY_USAGE = "2.5.29.37";
    /// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
    ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";
    /// id-ce-freshestCRL.
    FRESHEST_CRL = "2.5.29.46";
    /// id-pe-authorityInfoAccess (RFC 5280 §4.2.2.1).
    AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1";

    // Extended key usages (RFC 5280 §4.2.1.12).
    /// id-kp-serverAuth.
    KP_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    /// id-kp-clientAuth.
    KP_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    /// id-kp-codeSigning.
    KP_CODE_SIGNING = "1.3.6.1.5.5.7.3.3";
    /// id-kp-emailProtection.
    KP_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";
    /// id-kp-timeStamping (RFC 3161 §2.3 requires it, critical, on a TSA's certificate).
    KP_TIME_STAMPING = "1.3.6.1.5.5.7.3.8";
    /// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
    KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";

    // Access methods and OCSP (RFC 5280 §4.2.2.1, RFC 6960).
    /// id-ad-ocsp.
    AD_OCSP = "1.3.6.1.5.5.7.48.1";
    /// id-ad-caIssuers.
    AD_CA_ISSUERS = "1.3.6.1.5.5.7.48.2";
    /// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
    OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
    /// id-pkix-ocsp-nonce (RFC 6960 §4.4.1, RFC 8954).
    OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2";
    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
    OCSP_NO_CHECK = "1.3.6.1.5.5.7.48.1.5";
}

/// The length of the content octets of `dotted` (X.690 §8.19): base-128 digits per arc, the
/// first two arcs joined as 40·a + b. Panics (at compile time, in [`table!`]) on a malformed
/// identifier.
const fn encoded_len(dotted: &str) -> usize {
    let arcs = parse_arcs(dotted);
    let mut len = base128_len(arcs.values[0] * 40 + arcs.values[1]);
    let mut i = 2;
    while i < arcs.count {
        len += base128_len(arcs.values[i]);
        i += 1;
    }
    len
}

/// The content octets of `dotted`; `N` must be [`encoded_len`]`(dotted)`.
const fn encode<const N: usize>(dotted: &str) -> [u8; N] {
    let arcs = parse_arcs(dotted);
    let mut out = [0u8; N];
    let mut at = put_base128(&mut out, 0, arcs.values[0] * 40 + arcs.values[1]);
    let mut i = 2;
    while i < arcs.count {
        at = put_base128(&mut out, at, arcs.values[i]);
        i += 1;
    }
    assert!(at == N, "BUG: encoded_len and encode disagree");
    out
}

/// Arcs of an identifier in the table. 16 is more than any entry has (the longest, under
/// id-smime, has 9).
struct Arcs {
    values: [u64; 16],
    count: usize,
}

const fn parse_arcs(dotted: &str) -> Arcs {
    let bytes = dotted.as_bytes();
    let mut arcs = Arcs {
        values: [0; 16],
        count: 0,
    };
    let mut digits = 0;
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || bytes[i] == b'.' {
            assert!(digits > 0, "an OID arc is empty");
            arcs.count += 1;
            digits = 0;
        } else {
            let d = bytes[i];
            assert!(d.is_ascii_digit(), "an OID arc is not a number");
            assert!(arcs.count < 16, "an OID has more than 16 arcs");
            let v = arcs.values[arcs.count];
            assert!(v <= (u64::MAX - 9) / 10, "an OID arc overflows");
            arcs.values[arcs.count] = v * 10 + (d - b'0') as u64;
            digits += 1;
        }
        i += 1;
    }
    assert!(arcs.count >= 2, "an OID has fewer than two arcs");
    // X.690 §8.19.4: the first arc is 0, 1 or 2; under 0 and 1 the second is below 40.
    assert!(arcs.values[0] <= 2, "an OID's first arc is above 2");
    assert!(
        arcs.values[0] == 2 || arcs.values[1] < 40,
        "an OID's second arc is 40 or more under 0 or 1"
    );
    arcs
}

const fn base128_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

const fn put_base128(out: &mut [u8], at: usize, v: u64) -> usize {
    let n = base128_len(v);
    let mut i = 0;
    while i < n {
        let shift = 7 * (n - 1 - i);
        let group = ((v >> shift) & 0x7f) as u8;
        out[at + i] = if i + 1 < n { group | 0x80 } else { group };
        i += 1;
    }
    at + n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_octets_are_x690() {
        assert_eq!(
            SHA256.content(),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
        );
        assert_eq!(
            RSA_ENCRYPTION.content(),
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]
        );
        assert_eq!(SECP384R1.content(), [0x2b, 0x81, 0x04, 0x00, 0x22]);
        assert_eq!(ED25519.content(), [0x2b, 0x65, 0x70]);
    }

    #[test]
    fn every_entry_reads_back_as_its_dotted_form() {
        for oid in [
            DATA,
            SIGNING_CERTIFICATE_V2,
            TST_INFO,
            SHA1,
            SHA512,
            RSASSA_PSS,
            ECDSA_WITH_SHA512,
            SECP256R1,
            DSA_WITH_SHA256,
            EMAIL_ADDRESS,
            ANY_EXTENDED_KEY_USAGE,
            AUTHORITY_INFO_ACCESS,
            OCSP_NO_CHECK,
        ] {
            let der = crate::der::oid(oid);
            let (element, _) = crate::ber::parse(&der).unwrap();
            let read = element.oid().unwrap();
            assert_eq!(read.to_string(), oid.dotted());
            assert!(read == oid);
            assert_eq!(oid.arcs().len(), oid.dotted().split('.').count(), "{oid}");
        }
    }

    #[test]
    fn strings_compare_with_entries() {
        assert!(*"2.5.29.32.0" == ANY_POLICY);
        assert!("1.3.6.1.5.5.7.3.8" == KP_TIME_STAMPING);
        let purposes: Vec<String> = vec!["1.3.6.1.5.5.7.3.9".into()];
        assert!(purposes[0] != KP_TIME_STAMPING && purposes[0] == KP_OCSP_SIGNING);
    }
}
