//! Building an outgoing package (QCVN 102:2016): the header, a trace of the sender, a manifest,
//! and each attachment as base64 of a one-entry ZIP, the form the SDK writes and every receiver
//! reads; then, optionally, the unit's enveloped XMLDSig over the whole package through the one
//! signing path ([`crate::signing::Signing::xml`]: exclusive C14N, the key's digest, SHA-256
//! for kyso's keys), moved to where the standard's samples carry it, the end of `edXMLHeader`.
//!
//! Moving it is sound: the signature's one reference is `URI=""` with the enveloped-signature
//! transform, which removes the signature element wherever it is, and kyso inserts it with no
//! white space around it, so the document it digests is byte for byte the same; its
//! `SignedInfo` is canonicalized with Exclusive C14N, which renders only the namespaces it uses
//! itself, so its new ancestors change nothing. The moved signature is verified again before it
//! is handed out.
//!
//! `ContentType` names the document's own type (`application/pdf`), as the SDK's upload
//! samples do with zipped content; receivers sniff the ZIP, as kyso does.

use base64::Engine as _;
use time::OffsetDateTime;

use super::attachment::{Kind, zip_one};
use super::header::{Header, element, escape};
use super::{Error, NAMESPACE};
use crate::ledger::SignatureLevel;
use crate::signing::{Signing, XmlForm, XmlOptions};
use crate::xml::dsig::DSIG_NS;
use crate::xml::{Expect, Limits, Packaging, VerifyOptions, parse};

/// A document to put in a package.
#[derive(Clone, Debug)]
pub struct AttachmentInput {
    /// The file name (`AttachmentName` and the ZIP entry's name).
    pub name: String,
    pub bytes: Vec<u8>,
    pub description: Option<String>,
}

/// Builds an unsigned package: `attachments[0]` is the document (a signed PDF), the rest its
/// appendices; `at` is the trace's time and the ZIP entries' date.
pub fn pack(
    header: &Header,
    attachments: &[AttachmentInput],
    at: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    header.check_for_pack()?;
    let Some(document) = attachments.first() else {
        return Err(Error::NoAttachment);
    };
    check_document(document)?;
    for attachment in attachments {
        check_name(&attachment.name)?;
    }
    let mut header = header.clone();
    if header.document_id.is_none() {
        header.document_id = Some(default_document_id(&header));
    }
    let ids: Vec<String> = attachments
        .iter()
        .map(|_| content_id())
        .collect::<Result<_, _>>()?;
    let local = at.to_offset(crate::VIETNAM);
    let timestamp = format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    );

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<edXML xmlns=\"{NAMESPACE}\">\n"));
    out.push_str(&format!(
        "<edXML:edXMLEnvelope xmlns:edXML=\"{NAMESPACE}\">\n<edXML:edXMLHeader>\n"
    ));
    header.write(&mut out);
    out.push_str("\n<edXML:TraceHeaderList><edXML:TraceHeader>");
    element(&mut out, "OrganId", header.from.organ_id.as_deref());
    element(&mut out, "Timestamp", Some(&timestamp));
    // BussinessDocType 0: a new document (not a revocation, update or replacement).
    out.push_str(
        "</edXML:TraceHeader><edXML:Bussiness><edXML:BussinessDocType>0</edXML:BussinessDocType><edXML:Paper>0</edXML:Paper></edXML:Bussiness></edXML:TraceHeaderList>",
    );
    out.push_str("</edXML:edXMLHeader>\n<edXML:edXMLBody><edXML:edXMLManifest version=\"1.0\">");
    for (attachment, id) in attachments.iter().zip(&ids) {
        out.push_str("<edXML:Reference>");
        element(&mut out, "ContentId", Some(&format!("cid:{id}")));
        element(&mut out, "ContentType", Some(content_type(attachment)));
        element(&mut out, "Description", attachment.description.as_deref());
        element(&mut out, "AttachmentName", Some(&attachment.name));
        out.push_str("</edXML:Reference>");
    }
    out.push_str("</edXML:edXMLManifest></edXML:edXMLBody>\n</edXML:edXMLEnvelope>\n");
    // Outside the envelope and unprefixed, in the root's default namespace, as the samples.
    out.push_str("<AttachmentEncoded>\n");
    for (attachment, id) in attachments.iter().zip(&ids) {
        let zipped =
            zip_one(&attachment.name, &attachment.bytes, at).map_err(|reason| Error::Zip {
                name: attachment.name.clone(),
                reason,
            })?;
        out.push_str("<Attachment>");
        plain(&mut out, "ContentId", Some(&format!("cid:{id}")));
        plain(&mut out, "AttachmentName", Some(&attachment.name));
        plain(&mut out, "Description", attachment.description.as_deref());
        plain(&mut out, "ContentType", Some(content_type(attachment)));
        out.push_str("<ContentTransferEncoded>");
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(&zipped));
        out.push_str("</ContentTransferEncoded></Attachment>\n");
    }
    out.push_str("</AttachmentEncoded>\n</edXML>\n");
    // A package kyso could not read back is not handed out.
    let limit = Limits::default().max_bytes;
    if out.len() > limit {
        return Err(Error::Attachment {
            name: document.name.clone(),
            reason: format!(
                "the package would be {} bytes, more than the {limit} bytes an XML document may have",
                out.len()
            ),
        });
    }
    Ok(out.into_bytes())
}

/// Signs `package` (from [`pack`]) with the unit's key: an enveloped signature over the whole
/// package, plain XMLDSig or XAdES as `form` says, placed at the end of `edXMLHeader`. Returns
/// the signed package and the level the ledger records.
pub fn sign(
    package: &[u8],
    signing: &Signing<'_>,
    form: XmlForm,
) -> Result<(Vec<u8>, SignatureLevel), Error> {
    let signed = signing.xml(
        package,
        XmlOptions {
            packaging: Packaging::Enveloped,
            form,
            ..XmlOptions::default()
        },
    )?;
    let level = signed.level;
    let moved = into_header(&signed.into_vec())?;
    let verified = crate::xml::verify(
        &moved,
        &VerifyOptions {
            expect: Expect::WholeDocument,
            ..VerifyOptions::default()
        },
    )
    .map_err(|e| Error::SelfCheck(e.to_string()))?;
    if !verified.all_intact() {
        let status = verified
            .signatures
            .iter()
            .map(|s| format!("{:?}", s.status))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::SelfCheck(status));
    }
    Ok((moved, level))
}

/// Moves the signature that signing put last in the document element to the end of
/// `edXMLHeader` (see the module documentation for why the signature stays valid).
fn into_header(signed: &[u8]) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(signed).map_err(|e| Error::SelfCheck(e.to_string()))?;
    let limits = Limits::default();
    let doc = parse::parse(text, &limits)?;
    let root = doc.root_element();
    let signature = root
        .children()
        .rev()
        .find(roxmltree::Node::is_element)
        .filter(|n| n.tag_name().namespace() == Some(DSIG_NS) && n.tag_name().name() == "Signature")
        .ok_or_else(|| Error::SelfCheck("no signature at the end of the package".to_owned()))?;
    let header = root
        .children()
        .find(|n| super::header::is_named(*n, "edXMLEnvelope"))
        .and_then(|e| super::header::child(e, "edXMLHeader"))
        .ok_or(Error::Missing {
            element: "edXMLHeader",
        })?;
    let header_range = header.range();
    let end_tag = text[header_range.clone()]
        .rfind("</")
        .map(|at| header_range.start + at)
        .ok_or(Error::Missing {
            element: "edXMLHeader's end tag",
        })?;
    let moving = signature.range();
    if moving.start < end_tag {
        return Err(Error::SelfCheck(
            "the signature is not after the header".to_owned(),
        ));
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..end_tag]);
    out.push_str(&text[moving.clone()]);
    out.push_str(&text[end_tag..moving.start]);
    out.push_str(&text[moving.end..]);
    Ok(out.into_bytes())
}

/// The document must be a PDF that carries a signature: a package carries a signed document,
/// and an unsigned one would only be found out by the receiver.
fn check_document(document: &AttachmentInput) -> Result<(), Error> {
    let refuse = |reason: &str| {
        Err(Error::Attachment {
            name: document.name.clone(),
            reason: reason.to_owned(),
        })
    };
    if Kind::of(&document.bytes) != Kind::Pdf {
        return refuse("the document is not a PDF");
    }
    let doc = crate::pdf::Document::parse(&document.bytes).map_err(|e| Error::Attachment {
        name: document.name.clone(),
        reason: e.to_string(),
    })?;
    let signatures = crate::pdf::find_signatures(&doc).map_err(|e| Error::Attachment {
        name: document.name.clone(),
        reason: e.to_string(),
    })?;
    if signatures.is_empty() {
        return refuse("the document carries no signature: sign it first (kyso sign pdf)");
    }
    Ok(())
}

/// A file name: not empty, no folders, no control or bidi formatting characters.
fn check_name(name: &str) -> Result<(), Error> {
    let bad = name.trim().is_empty()
        || name.contains(['/', '\\'])
        || name.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        });
    if bad {
        return Err(Error::Attachment {
            name: name.to_owned(),
            reason: "a file name without folders, control or bidi formatting characters".to_owned(),
        });
    }
    Ok(())
}

/// The SDK's form: `<sender OrganId>,<yyyy/MM/dd>,<number>/<symbol>`.
fn default_document_id(header: &Header) -> String {
    let date = header
        .promulgation
        .date
        .as_deref()
        .and_then(super::header::parse_date)
        .map(|d| format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_default();
    format!(
        "{},{date},{}",
        header.from.organ_id.as_deref().unwrap_or(""),
        header.code.printed().unwrap_or_default()
    )
}

/// A random UUID (RFC 9562 version 4), as the samples' content ids.
fn content_id() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::SelfCheck("no randomness".to_owned()))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// The document's own media type: by its bytes for what kyso verifies, else by its name.
fn content_type(attachment: &AttachmentInput) -> &'static str {
    match Kind::of(&attachment.bytes) {
        Kind::Pdf => return "application/pdf",
        Kind::Xml | Kind::Edxml => return "application/xml",
        Kind::Other => {}
    }
    let extension = attachment
        .name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "txt" => "text/plain",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// An unprefixed element (the attachments' part of the package).
fn plain(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ids_are_version_4_uuids() {
        let id = content_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, content_id().unwrap());
    }

    #[test]
    fn names_are_file_names() {
        assert!(check_name("Quyết định 123.pdf").is_ok());
        for bad in ["", "a/b.pdf", "..\\x", "fdp.\u{202E}exe"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
