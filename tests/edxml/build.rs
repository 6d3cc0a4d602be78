//! Packages written here from the QCVN 102:2016 structure, in the shapes the official VXP SDK's
//! public samples have (described in the research notes; none of them copied): the current
//! sample's (`edXML:` declared on the envelope, an unqualified `Signature` in the header, a
//! zipped attachment), the older one's (`edXML:` and `xlink:` used where nothing declares
//! them), and the upload samples' (unsigned, `Bussiness` before `TraceHeader`, text
//! attachments).

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;

use crate::support::run;

pub const NS: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// How the package is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The current SDK sample's namespaces: correct, `edXML:` declared on the envelope.
    Sdk,
    /// The older sample's: `AttachmentEncoded` and its children `edXML:`-prefixed at the root
    /// level where `edXML` is not declared, and `xlink:href` on the manifest's references with
    /// no `xmlns:xlink` anywhere.
    Legacy,
    /// The upload samples': `Bussiness` before `TraceHeader`, only `From`'s first three
    /// children.
    Upload,
}

/// What signs the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope {
    Unsigned,
    /// A template for xmlsec1: a `Signature` in the XMLDSig default namespace at the end of
    /// `edXMLHeader`, `URI=""`, enveloped, inclusive C14N, RSA-SHA256.
    Template,
}

/// One attachment.
#[derive(Clone, Debug)]
pub struct Part {
    pub content_id: String,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// base64 of a one-entry ZIP (else of the bytes themselves).
    pub zipped: bool,
}

impl Part {
    pub fn new(
        content_id: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
        zipped: bool,
    ) -> Part {
        Part {
            content_id: content_id.to_owned(),
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
            zipped,
        }
    }

    fn encoded(&self) -> String {
        let bytes = if self.zipped {
            zip_one(&self.name, &self.bytes)
        } else {
            self.bytes.clone()
        };
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }
}

/// The header's facts.
#[derive(Clone, Debug)]
pub struct Facts {
    pub number: String,
    pub notation: String,
    pub date: String,
    pub signer: String,
    pub position: String,
    pub receiver: String,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            number: "123".to_owned(),
            notation: "QĐ-UBND".to_owned(),
            date: "2026/03/15".to_owned(),
            signer: "Nguyễn Văn An".to_owned(),
            position: "Chủ tịch".to_owned(),
            receiver: "000.01.31.H99".to_owned(),
        }
    }
}

/// A package of `parts` in `shape`.
pub fn package(shape: Shape, envelope: Envelope, facts: &Facts, parts: &[Part]) -> String {
    let e = |name: &str, value: &str| format!("<edXML:{name}>{value}</edXML:{name}>");
    let organ = |tag: &str, id: &str, name: &str| {
        let mut out = format!("<edXML:{tag}>{}", e("OrganId", id));
        if shape != Shape::Upload {
            out.push_str(&e("OrganizationInCharge", "UBND tỉnh Thử Nghiệm"));
        }
        out.push_str(&e("OrganName", name));
        if shape != Shape::Upload {
            out.push_str(&e("OrganAdd", "Số 1 đường Thử Nghiệm"));
            out.push_str(&e("Email", "vanthu@thunghiem.gov.vn"));
            out.push_str(&e("Telephone", "0200000000"));
            out.push_str(&e("Fax", ""));
            out.push_str(&e("Website", "thunghiem.gov.vn"));
        }
        out.push_str(&format!("</edXML:{tag}>"));
        out
    };
    let document_id = format!(
        "000.00.00.H99,{},{}/{}",
        facts.date, facts.number, facts.notation
    );
    let mut header = String::from("<edXML:MessageHeader>");
    header.push_str(&organ("From", "000.00.00.H99", "UBND tỉnh Thử Nghiệm"));
    header.push_str(&organ("To", &facts.receiver, "Sở Tư pháp tỉnh Thử Nghiệm"));
    header.push_str(&e("DocumentId", &document_id));
    header.push_str(&format!(
        "<edXML:Code>{}{}</edXML:Code>",
        e("CodeNumber", &facts.number),
        e("CodeNotation", &facts.notation)
    ));
    header.push_str(&format!(
        "<edXML:PromulgationInfo>{}{}</edXML:PromulgationInfo>",
        e("Place", "Thử Nghiệm"),
        e("PromulgationDate", &facts.date)
    ));
    header.push_str(&format!(
        "<edXML:DocumentType>{}{}{}</edXML:DocumentType>",
        e("Type", "1"),
        e("TypeDetail", "0"),
        e("TypeName", "Quyết định")
    ));
    header.push_str(&e("Subject", "Về việc thử nghiệm gói tin edXML"));
    header.push_str(&e("Content", ""));
    header.push_str(&format!(
        "<edXML:SignerInfo>{}{}{}</edXML:SignerInfo>",
        e("Competence", "TM. Ủy ban nhân dân"),
        e("Position", &facts.position),
        e("FullName", &facts.signer)
    ));
    header.push_str(&e("DueDate", "2026/04/15"));
    header.push_str("<edXML:OtherInfo><edXML:Priority>0</edXML:Priority><edXML:PageAmount>1</edXML:PageAmount></edXML:OtherInfo>");
    header.push_str("</edXML:MessageHeader>");
    let trace = "<edXML:TraceHeader><edXML:OrganId>000.00.00.H99</edXML:OrganId><edXML:Timestamp>2026/03/15 10:00:00</edXML:Timestamp></edXML:TraceHeader>";
    let business = "<edXML:Bussiness><edXML:BussinessDocType>0</edXML:BussinessDocType><edXML:BussinessDocReason></edXML:BussinessDocReason><edXML:Paper>0</edXML:Paper><edXML:StaffInfo><edXML:Department>Văn phòng</edXML:Department><edXML:Staff>Văn thư</edXML:Staff></edXML:StaffInfo></edXML:Bussiness>";
    let traces = match shape {
        Shape::Upload => {
            format!("<edXML:TraceHeaderList>{business}{trace}</edXML:TraceHeaderList>")
        }
        _ => format!("<edXML:TraceHeaderList>{trace}{business}</edXML:TraceHeaderList>"),
    };
    let signature = match envelope {
        Envelope::Unsigned => String::new(),
        Envelope::Template => format!(
            "<Signature xmlns=\"{DSIG}\"><SignedInfo><CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/><SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><Reference URI=\"\"><Transforms><Transform Algorithm=\"{DSIG}enveloped-signature\"/></Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>"
        ),
    };
    let xlink = if shape == Shape::Legacy {
        " xlink:href=\"\""
    } else {
        ""
    };
    let references: String = parts
        .iter()
        .map(|p| {
            format!(
                "<edXML:Reference{xlink}>{}{}{}{}</edXML:Reference>",
                e("ContentId", &format!("cid:{}", p.content_id)),
                e("ContentType", &p.content_type),
                e("Description", &p.name),
                e("AttachmentName", &p.name)
            )
        })
        .collect();
    // Outside the envelope: unprefixed in the default namespace, or (the older sample)
    // `edXML:`-prefixed where nothing declares `edXML`.
    let a = |name: &str| match shape {
        Shape::Legacy => format!("edXML:{name}"),
        _ => name.to_owned(),
    };
    let attachments: String = parts
        .iter()
        .map(|p| {
            let field = |name: &str, value: &str| format!("<{0}>{value}</{0}>", a(name));
            format!(
                "<{attachment}>\n{}{}{}{}{}\n</{attachment}>",
                field("ContentId", &format!("cid:{}", p.content_id)),
                field("AttachmentName", &p.name),
                field("Description", &p.name),
                field("ContentType", &p.content_type),
                field("ContentTransferEncoded", &p.encoded()),
                attachment = a("Attachment")
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML xmlns=\"{NS}\">\n<edXML:edXMLEnvelope xmlns:edXML=\"{NS}\">\n<edXML:edXMLHeader>\n{header}\n{traces}\n{signature}</edXML:edXMLHeader>\n<edXML:edXMLBody><edXML:edXMLManifest version=\"1.0\">{references}</edXML:edXMLManifest></edXML:edXMLBody>\n</edXML:edXMLEnvelope>\n<{ae}>\n{attachments}\n</{ae}>\n</edXML>\n",
        ae = a("AttachmentEncoded")
    )
}

/// A one-entry ZIP, deflated.
pub fn zip_one(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file(name, options).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap().into_inner()
}

/// `package` (an [`Envelope::Template`]) signed by xmlsec1 with the software key in `dir`
/// (signer.key.pem, signer.pem, intermediate.pem): libxml2 reads the package as it is, in
/// recovery where prefixes are undeclared, as a producer on libxml2 would.
pub fn xmlsec1_signed(dir: &Path, package: &str) -> Vec<u8> {
    let input = dir.join("package.template.edxml");
    let output = dir.join("package.signed.edxml");
    std::fs::write(&input, package).unwrap();
    run(Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!(
            "{},{},{}",
            dir.join("signer.key.pem").display(),
            dir.join("signer.pem").display(),
            dir.join("intermediate.pem").display()
        ))
        .arg("--output")
        .arg(&output)
        .arg(&input));
    std::fs::read(&output).unwrap()
}

/// xmlsec1's verdict on a package's envelope signature, trusting `root.pem` in `dir`, with the
/// intermediate the signature may not carry.
pub fn xmlsec1_verifies(dir: &Path, package: &[u8]) -> (bool, String) {
    let path = dir.join("check.edxml");
    std::fs::write(&path, package).unwrap();
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.join("root.pem"))
        .arg("--untrusted-pem")
        .arg(dir.join("intermediate.pem"))
        .arg(&path)
        .output()
        .expect("xmlsec1 is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}
