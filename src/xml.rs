//! XML signatures: safe parsing, canonicalization, XMLDSig and XAdES baseline signatures, signing
//! and verifying, and the check that what a caller reads is what was signed.
//!
//! Governing texts: W3C XML Signature Syntax and Processing 1.1 (XMLDSig), Canonical XML 1.0,
//! Exclusive XML Canonicalization 1.0, ETSI EN 319 132-1 (XAdES baseline B-B, B-T, B-LT and B-LTA), RFC 6931
//! (algorithm URIs).
//!
//! What this module refuses, by design:
//! - any DTD, entity declaration or external entity ([`parse`]); documents are limited in size,
//!   depth, attributes per element and node count ([`Limits`]);
//! - XPath, XPath Filter 2, XSLT and XPointer-beyond-`id()` transforms, Canonical XML 1.1,
//!   SHA-1-only and HMAC/DSA signatures: reported as unsupported, never approximated;
//! - documents with duplicate `Id` values, and references whose target is not where the
//!   reference `Type` or XAdES says it must be (signature wrapping).
//!
//! It does not decide trust: [`verify`] returns the certificates the signature carries and the
//! claimed signing time, and the verdict layer hands them to `pki`.

pub mod c14n;
pub mod dsig;
pub mod longterm;
pub mod parse;
pub mod sign;
pub mod verify;
pub mod xades;

pub use dsig::{LegacyCrypto, PublicKey};
pub use longterm::{SignedXml, TimestampedValue, ValidationValues};
pub use parse::{Encoding, Limits};
pub use sign::{Level, OtherSignatures, Packaging, SignOptions, sign, sign_document};
pub use verify::{
    Expect, KeyInfoUse, KeySource, Role, SignatureReport, SignedReference, Status, SubIndication,
    Target, VerifyOptions, XmlVerification, verify,
};

/// What went wrong while reading, canonicalizing, signing or verifying an XML document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("document too large: {len} bytes, limit {limit}")]
    TooLarge { len: usize, limit: usize },
    #[error("invalid {encoding} at byte {offset}")]
    InvalidEncoding {
        encoding: &'static str,
        offset: usize,
    },
    #[error("unsupported encoding {declared:?}: only UTF-8 and UTF-16 are accepted")]
    UnsupportedEncoding { declared: String },
    #[error(
        "document type declaration refused at line {line}, column {column}: DTDs and entities are not accepted"
    )]
    Dtd { line: u32, column: u32 },
    #[error("element nesting deeper than {limit} at line {line}, column {column}")]
    TooDeep {
        line: u32,
        column: u32,
        limit: usize,
    },
    #[error("more than {limit} attributes on the element at line {line}, column {column}")]
    TooManyAttributes {
        line: u32,
        column: u32,
        limit: usize,
    },
    #[error("more than {limit} nodes in the document")]
    TooManyNodes { limit: u32 },
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Malformed {
        line: u32,
        column: u32,
        message: String,
    },
    #[error(
        "duplicate Id {id:?} on lines {first_line} and {second_line}: references by Id would be ambiguous"
    )]
    DuplicateId {
        id: String,
        first_line: u32,
        second_line: u32,
    },
    #[error("no ds:Signature element in the document")]
    NoSignature,
    #[error("{count} ds:Signature elements in the document, limit {limit}")]
    TooManySignatures { count: usize, limit: usize },
    #[error("no signer certificate given: the chain must start with the signer's certificate")]
    NoCertificate,
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("the signer certificate's public key is not the signing key's")]
    CertificateKeyMismatch,
    #[error(transparent)]
    Signer(#[from] crate::signer::SignError),
    #[error(transparent)]
    Timestamp(#[from] crate::tsp::Error),
    #[error("the signature has no signature time-stamp to extend: B-LT and B-LTA build on B-T")]
    NotTimestamped,
    #[error("BUG: building the signature: {0}")]
    Build(String),
    #[error("BUG: the signature just made does not verify: {0}")]
    SelfCheck(String),
}
