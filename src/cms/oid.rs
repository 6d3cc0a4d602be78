//! Object identifiers used in CMS, as arcs (DER-encoded by [`crate::asn1::oid`]).

/// id-data (RFC 5652 §4).
pub const DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
/// id-signedData (RFC 5652 §5.1).
pub const SIGNED_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 2];
/// id-contentType (RFC 5652 §11.1).
pub const CONTENT_TYPE: &[u64] = &[1, 2, 840, 113549, 1, 9, 3];
/// id-messageDigest (RFC 5652 §11.2).
pub const MESSAGE_DIGEST: &[u64] = &[1, 2, 840, 113549, 1, 9, 4];
/// id-signingTime (RFC 5652 §11.3).
pub const SIGNING_TIME: &[u64] = &[1, 2, 840, 113549, 1, 9, 5];
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const SIGNING_CERTIFICATE_V2: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 47];
/// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
pub const SIGNATURE_TIMESTAMP_TOKEN: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 14];
/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const TST_INFO: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 1, 4];

/// id-sha256, id-sha384, id-sha512 (RFC 5754 §2).
pub const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
pub const SHA384: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
pub const SHA512: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];

/// sha256WithRSAEncryption etc. (RFC 4055 §5).
pub const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
pub const SHA384_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 12];
pub const SHA512_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 13];
/// id-RSASSA-PSS (RFC 4055 §3.1) and id-mgf1 (RFC 4055 §2.2).
pub const RSASSA_PSS: &[u64] = &[1, 2, 840, 113549, 1, 1, 10];
pub const MGF1: &[u64] = &[1, 2, 840, 113549, 1, 1, 8];
/// ecdsa-with-SHA256 etc. (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
pub const ECDSA_WITH_SHA384: &[u64] = &[1, 2, 840, 10045, 4, 3, 3];
pub const ECDSA_WITH_SHA512: &[u64] = &[1, 2, 840, 10045, 4, 3, 4];
