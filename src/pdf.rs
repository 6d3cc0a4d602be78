//! PDF: reading a document's structure, and signing it by incremental update (ISO 32000-2
//! §7.5.6, §12.8; ETSI EN 319 142-1 PAdES).
//!
//! What it owns: the object model and parser, the cross-reference chain, the signing path
//! `prepare → digest → sign` that appends a signature to a document without changing a byte of
//! it, and the optional visible appearance of that signature ([`appearance`], with its embedded
//! font subset and images). What it refuses: encrypted documents, and documents whose cross-reference data is broken
//! (a signature must cover exactly what readers display, so kyso never guesses a structure).

pub mod appearance;
pub mod decree30;
pub mod diff;
mod document;
pub mod dss;
mod filter;
pub mod font;
pub mod image;
mod incremental;
mod object;
mod parser;
#[cfg(feature = "test-support")]
pub mod sample;
mod sign;
mod signatures;

pub use appearance::{Appearance, Rect, Style, VisibleSignature};
pub use document::{Document, Location, XrefKind};
pub use dss::{DssEntry, ValidationData, dss_update, vri_key};
pub use filter::{decode, deflate};
pub use font::Font;
pub use image::PngImage;
pub use incremental::{IncrementalUpdate, WrittenUpdate};
pub use object::{
    Dictionary, Object, ObjectId, Stream, StringFormat, decode_text_string, text_string,
    write_object,
};
pub use parser::{Head, parse_object};
pub use sign::{DigestedPdf, DocMdp, PreparedPdf, SignatureOptions, SignedPdf, pdf_date};
pub use signatures::{
    FoundSignature, SignatureKind, contents_span, docmdp_level, find_signatures, revision_ends,
    transform_references,
};

/// Why a PDF could not be read or signed. Offsets are byte offsets into the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not a PDF: no %PDF- header in the first kilobyte")]
    NotPdf,
    #[error("no `startxref` near the end of the file (truncated?)")]
    NoStartxref,
    #[error("syntax error at byte {offset}: expected {expected}")]
    Syntax {
        offset: usize,
        expected: &'static str,
    },
    #[error("broken cross-reference data at byte {offset}: {reason}")]
    Xref { offset: usize, reason: String },
    #[error("in object {id}: {source}")]
    InObject {
        id: ObjectId,
        #[source]
        source: Box<Error>,
    },
    #[error("the document is encrypted; kyso signs and verifies only unencrypted documents")]
    Encrypted,
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("cannot decode a stream: {0}")]
    Filter(String),
    #[error("document structure: {0}")]
    Structure(String),
    #[error("cannot sign this document: {0}")]
    Refused(String),
    #[error("the signature needs {needed} bytes but only {reserved} were reserved in /Contents")]
    ContentsTooSmall { needed: usize, reserved: usize },
    #[error(
        "the signature rectangle [{} {} {} {}] lies outside page {page}, whose visible area is [{} {} {} {}]",
        rect[0], rect[1], rect[2], rect[3], page_box[0], page_box[1], page_box[2], page_box[3]
    )]
    RectangleOffPage {
        /// From 1, as people count pages.
        page: usize,
        rect: [f64; 4],
        page_box: [f64; 4],
    },
    #[error("signature appearance: {0}")]
    Appearance(#[from] appearance::Error),
}

impl Error {
    /// The error with its byte offset moved by `base`: the parser counts from the start of the
    /// buffer it reads, which for an update held in memory is not the start of the document.
    pub(crate) fn rebased(self, base: usize) -> Error {
        if base == 0 {
            return self;
        }
        match self {
            Error::Syntax { offset, expected } => Error::Syntax {
                offset: offset + base,
                expected,
            },
            Error::Xref { offset, reason } => Error::Xref {
                offset: offset + base,
                reason,
            },
            Error::InObject { id, source } => Error::InObject {
                id,
                source: Box::new(source.rebased(base)),
            },
            other => other,
        }
    }

    pub(crate) fn in_object(self, id: ObjectId) -> Error {
        match self {
            e @ Error::InObject { .. } => e,
            e => Error::InObject {
                id,
                source: Box::new(e),
            },
        }
    }
}
