//! CMS SignedData (RFC 5652): building detached signatures for PAdES and CAdES.
//!
//! What it owns: the DER encoding of `SignedData` with the signed attributes the PAdES baseline
//! profile asks for (ETSI EN 319 142-1 §5.3: content-type, message-digest, signing-certificate-v2;
//! no signing-time, since PAdES puts the claimed time in the signature dictionary's `/M`), and
//! unsigned attributes added afterwards (the signature timestamp of B-T); and reading SignedData
//! back from BER or DER with the signed bytes as they arrived ([`SignedData::parse`], the one
//! reader, for document signatures and time-stamp tokens alike), with the `TSTInfo` and
//! `TimeStampResp` of RFC 3161 ([`TstInfo`], [`TimeStampResp`]). The signature value
//! comes from a [`Signer`](crate::signer::Signer): this module never holds a key, and makes no
//! trust decision.

mod build;
mod parse;
mod timestamp;

pub(crate) use build::issuer_serial;
pub use build::{
    SignedCms, SignerIdentity, digest_algorithm_identifier, signature_algorithm_identifier,
};
pub use parse::{
    AlgorithmIdentifier, Attribute, ParseError, SignedAttributes, SignedData, SignerId, SignerInfo,
};
pub use timestamp::{TimeStampResp, TstInfo};

/// Why a SignedData could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the signer's certificate cannot be read: {0}")]
    BadCertificate(String),
    #[error("the signer's certificate is for another key than the one signing")]
    KeyMismatch,
    #[error("signing failed: {0}")]
    Signer(#[from] crate::signer::SignError),
}
