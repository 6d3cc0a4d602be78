//! edXML packages: the message format of the national document axis (VXP/VPCP) and the
//! provinces' LGSP, QCVN 102:2016/BTTTT (Thông tư 10/2016/TT-BTTTT; amended by Sửa đổi 1:2022),
//! namespace `http://www.mic.gov.vn/TBT/QCVN_102_2016`.
//!
//! A package is a header naming sender, receivers, the document's number and symbol, its
//! promulgation date and signer; a manifest; and the attachments (the signed document and its
//! appendices) base64-encoded, usually as a one-entry ZIP; sometimes an enveloped XMLDSig
//! (`URI=""`) over the whole of it, as the last child of `edXMLHeader`.
//!
//! What it owns: reading a package as real producers write it ([`Package::read`], repairing the
//! namespace defects the official SDK's samples carry and saying so), decoding attachments
//! under bounds ([`attachment`]), the one package verdict ([`verify`], through
//! [`crate::verify::Verifier`] for every signature) with its header cross-checks ([`check`]),
//! and building outgoing packages ([`pack`]). What it refuses: attachments past their limits
//! (size, ratio, count, nesting), ZIPs of more than one entry, and a package verdict that hides
//! a disagreement between what the header says and what the signed document says.
//!
//! What it does not do: judge signatures itself. The envelope signature is checked by
//! [`crate::xml`] and the verdict layer as any XML signature is; each attachment by
//! [`crate::verify::Verifier`] as a document on its own.

pub mod attachment;
pub mod check;
pub mod header;
pub mod pack;
mod read;
pub mod report;
pub(crate) mod verify;

pub use header::{Code, DocumentType, Header, Organ, Promulgation, SignerInfo};
pub use pack::{AttachmentInput, pack};
pub use read::{EncodedAttachment, ManifestEntry, Package, Sniffed, sniff};
pub use report::{AttachmentReport, AttachmentStatus, CheckOutcome, HeaderCheck, PackageReport};

/// The QCVN 102:2016 namespace every edXML element is in.
pub const NAMESPACE: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";

/// XLink, which manifests use for `xlink:href` (often without declaring it).
pub const XLINK: &str = "http://www.w3.org/1999/xlink";

/// The prefixes real packages use without declaring them, and what they mean: the repair of
/// [`crate::xml::parse::declare_missing_prefixes`] binds these, and a made-up URN for others.
pub const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("edXML", NAMESPACE),
    ("xlink", XLINK),
    ("ds", crate::xml::dsig::DSIG_NS),
    ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ("xsd", "http://www.w3.org/2001/XMLSchema"),
];

/// Why a package could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an edXML package: {reason}")]
    NotEdxml { reason: String },
    #[error("{count} stray bytes before the XML declaration: not a well-formed package")]
    LeadingBytes { count: usize },
    #[error(transparent)]
    Xml(#[from] crate::xml::Error),
    #[error("the package has no {element} element")]
    Missing { element: &'static str },
    #[error("header field {field}: {reason}")]
    Header { field: &'static str, reason: String },
    #[error("attachment {name}: {reason}")]
    Attachment { name: String, reason: String },
    #[error("the package needs at least one attachment: the signed document")]
    NoAttachment,
    #[error("writing the ZIP of {name}: {reason}")]
    Zip { name: String, reason: String },
    #[error(transparent)]
    Signing(#[from] crate::signing::Error),
    #[error("BUG: the signed package does not verify: {0}")]
    SelfCheck(String),
}
