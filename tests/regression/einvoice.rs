//! XML documents in the shape of Vietnamese e-invoices (Decree 123/2020, the tax authority's
//! `HDon` format): the invoice data `DLHDon` carries an `Id`, and the seller's `ds:Signature`
//! sits in a sibling `DSCKS/NBan` and signs it by `URI="#…"`, with the signing time in a
//! `ds:Object` of its own that a second reference signs. Made here from a recipe and signed by
//! xmlsec1 or signxml; no third-party invoice is copied in.

use std::path::Path;
use std::process::Command;

use crate::support::run;

/// The seller's signature template, for xmlsec1 to fill.
const SIGNATURE_TEMPLATE: &str = r##"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="seller"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><SignatureMethod Algorithm="SIGNATURE_METHOD"/><Reference URI="#data"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod Algorithm="DIGEST_METHOD"/><DigestValue/></Reference><Reference URI="#SigningTime-seller"><DigestMethod Algorithm="DIGEST_METHOD"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo><Object Id="SigningTime-seller"><SignatureProperties><SignatureProperty Target="#seller"><SigningTime>2026-05-01T10:00:00</SigningTime></SignatureProperty></SignatureProperties></Object></Signature>"##;

/// An invoice; `SIGNATURE` marks where the seller's signature goes.
const INVOICE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<HDon>
  <DLHDon Id="data">
    <TTChung><PBan>2.0.1</PBan><THDon>Hóa đơn giá trị gia tăng</THDon><KHMSHDon>1</KHMSHDon><KHHDon>C26TKS</KHHDon><SHDon>1234</SHDon><NLap>2026-05-01</NLap><DVTTe>VND</DVTTe></TTChung>
    <NDHDon>
      <NBan><Ten>Công ty TNHH Thử Nghiệm Ký Số</Ten><MST>0100109106</MST><DChi>Số 1 Tràng Tiền, Hà Nội</DChi></NBan>
      <NMua><Ten>Sở Tư pháp tỉnh Thử Nghiệm</Ten><MST>0101234567</MST></NMua>
      <DSHHDVu><HHDVu><STT>1</STT><THHDVu>Dịch vụ tư vấn pháp lý</THHDVu><SLuong>1</SLuong><ThTien>10000000</ThTien><TSuat>10%</TSuat></HHDVu></DSHHDVu>
      <TToan><TgTCThue>10000000</TgTCThue><TgTThue>1000000</TgTThue><TgTTTBSo>11000000</TgTTTBSo><TgTTTBChu>Mười một triệu đồng chẵn</TgTTTBChu></TToan>
    </NDHDon>
  </DLHDon>
  <MCCQT Id="Id-MCCQT">00A1B2C3D4E5F60718293A4B5C6D7E8F90</MCCQT>
  <DSCKS>
    <NBan>SIGNATURE</NBan>
    <NMua/>
  </DSCKS>
</HDon>
"#;

pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// The invoice with an unsigned template for `method` over `digest`.
pub fn template(method: &str, digest: &str) -> String {
    INVOICE.replace(
        "SIGNATURE",
        &SIGNATURE_TEMPLATE
            .replace("SIGNATURE_METHOD", method)
            .replace("DIGEST_METHOD", digest),
    )
}

/// The invoice signed by xmlsec1 with the key and chain in `dir` (signer.key.pem, signer.pem,
/// intermediate.pem), `Id` declared as xmlsec1 needs it for `DLHDon` and `ds:Object`.
pub fn xmlsec1_signed(dir: &Path, method: &str, digest: &str) -> Vec<u8> {
    let input = dir.join("invoice.template.xml");
    let output = dir.join("invoice.signed.xml");
    std::fs::write(&input, template(method, digest)).unwrap();
    run(Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!(
            "{},{},{}",
            dir.join("signer.key.pem").display(),
            dir.join("signer.pem").display(),
            dir.join("intermediate.pem").display()
        ))
        .args(["--id-attr:Id", "DLHDon"])
        .args(["--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Object"])
        .arg("--output")
        .arg(&output)
        .arg(&input));
    std::fs::read(&output).unwrap()
}

/// The invoice signed by signxml: a detached-method signature over `#data` (what signxml makes
/// for a reference to another element), placed in `DSCKS/NBan`.
pub fn signxml_signed(dir: &Path) -> Vec<u8> {
    const SCRIPT: &str = r##"
import sys
from lxml import etree
from signxml import XMLSigner, methods
doc, key, cert, chain, out = sys.argv[1:6]
root = etree.fromstring(open(doc, 'rb').read())
signer = XMLSigner(method=methods.detached, signature_algorithm='rsa-sha256',
                   digest_algorithm='sha256',
                   c14n_algorithm='http://www.w3.org/TR/2001/REC-xml-c14n-20010315')
certs = [open(cert).read(), open(chain).read()]
signature = signer.sign(root, key=open(key, 'rb').read(), cert=certs,
                        reference_uri=['#data'], id_attribute='Id')
slot = root.find('DSCKS/NBan')
slot.text = None
slot.append(signature)
open(out, 'wb').write(etree.tostring(root, xml_declaration=True, encoding='UTF-8'))
"##;
    let input = dir.join("invoice.plain.xml");
    let output = dir.join("invoice.signxml.xml");
    std::fs::write(&input, INVOICE.replace("SIGNATURE", "")).unwrap();
    run(Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&input)
        .arg(dir.join("signer.key.pem"))
        .arg(dir.join("signer.pem"))
        .arg(dir.join("intermediate.pem"))
        .arg(&output));
    std::fs::read(&output).unwrap()
}

/// xmlsec1's own verdict on a signed invoice, trusting `root.pem` in `dir`.
pub fn xmlsec1_accepts(dir: &Path, signed: &[u8]) -> bool {
    let path = dir.join("check.xml");
    std::fs::write(&path, signed).unwrap();
    Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.join("root.pem"))
        .arg("--untrusted-pem")
        .arg(dir.join("intermediate.pem"))
        .args(["--id-attr:Id", "DLHDon"])
        .args(["--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Object"])
        .arg(&path)
        .output()
        .expect("xmlsec1 is installed")
        .status
        .success()
}

/// The shapes real invoices take beyond [`template`]: namespaces declared on `HDon` that
/// inclusive C14N carries into every signed element, the signing-time object's Id and
/// namespaces (the tax authority's format leaves both to providers), a buyer's signature whose
/// object reuses the seller's local Id, and the tax authority's counter-signature.
#[derive(Clone)]
pub struct Shape {
    /// `xmlns:inv` and `xmlns:ds` on `HDon`, unused (one provider's returned invoices).
    pub root_namespaces: bool,
    /// The seller's signing-time object Id (`TimeStamp`, `SigningTime`, …).
    pub object_id: &'static str,
    /// `SignatureProperties xmlns=""` and a `SigningTime` in a placeholder namespace (another
    /// provider's invoices).
    pub undeclared_properties: bool,
    pub method: &'static str,
    pub digest: &'static str,
    /// A buyer's signature in `DSCKS/NMua` whose object has the same Id as the seller's.
    pub buyer: bool,
    /// The tax authority's signature in `DSCKS/CQT` over `DLHDon`, its own object and `MCCQT`,
    /// without transforms.
    pub tax_authority: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            root_namespaces: false,
            object_id: "SigningTime",
            undeclared_properties: false,
            method: RSA_SHA256,
            digest: SHA256,
            buyer: false,
            tax_authority: false,
        }
    }
}

/// A signature template: `id` signs `#data` (enveloped transform, as sellers write it unless
/// `plain`) and its own object `object_id`, plus `extra` references (URI, no transforms).
fn signature_template(
    id: &str,
    object_id: &str,
    shape: &Shape,
    plain: bool,
    extra: &[&str],
) -> String {
    let transform = if plain {
        String::new()
    } else {
        r#"<Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>"#.to_owned()
    };
    let references: String = extra
        .iter()
        .map(|uri| {
            format!(
                r#"<Reference URI="{uri}"><DigestMethod Algorithm="{}"/><DigestValue/></Reference>"#,
                shape.digest
            )
        })
        .collect();
    let properties = if shape.undeclared_properties {
        format!(
            r##"<SignatureProperties xmlns=""><SignatureProperty Target="#{id}"><SigningTime xmlns="http://example.org/#signatureProperties">2026-05-01T10:00:00Z</SigningTime></SignatureProperty></SignatureProperties>"##
        )
    } else {
        format!(
            r##"<SignatureProperties><SignatureProperty Id="proid-{id}" Target="#{id}"><SigningTime>2026-05-01T10:00:00</SigningTime></SignatureProperty></SignatureProperties>"##
        )
    };
    format!(
        r##"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="{id}"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><SignatureMethod Algorithm="{method}"/><Reference URI="#data">{transform}<DigestMethod Algorithm="{digest}"/><DigestValue/></Reference><Reference URI="#{object_id}"><DigestMethod Algorithm="{digest}"/><DigestValue/></Reference>{references}</SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo><Object Id="{object_id}">{properties}</Object></Signature>"##,
        method = shape.method,
        digest = shape.digest,
    )
}

/// An invoice of `shape` with every signature made by xmlsec1 (seller, buyer, tax authority),
/// each on the invoice as its signer saw it — holding only that signature, which is how a
/// signer made standalone signs and the only way xmlsec1 signs at all when local `Id`s repeat
/// (it refuses a document that declares an `Id` twice) — then put together.
pub struct SignedInvoice {
    /// The invoice with every signature.
    pub merged: Vec<u8>,
    /// Each signature's `Id` with the invoice its signer signed (only that signature in it).
    pub each: Vec<(&'static str, Vec<u8>)>,
}

pub fn signed_invoice(dir: &Path, shape: &Shape) -> SignedInvoice {
    let mut base = INVOICE
        .replace("SIGNATURE", "{NBan}")
        .replace("<NMua/>", "<NMua>{NMua}</NMua>");
    base = base.replace("</DSCKS>", "<CQT>{CQT}</CQT></DSCKS>");
    if shape.root_namespaces {
        base = base.replace(
            "<HDon>",
            r#"<HDon xmlns:inv="http://laphoadon.gdt.gov.vn/2014/09/invoicexml/v1" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
        );
    }
    let mut slots: Vec<(&'static str, &'static str, String)> = vec![(
        "seller",
        "{NBan}",
        signature_template("seller", shape.object_id, shape, false, &[]),
    )];
    if shape.buyer {
        slots.push((
            "buyer",
            "{NMua}",
            signature_template("buyer", shape.object_id, shape, false, &[]),
        ));
    }
    if shape.tax_authority {
        slots.push((
            "Tct-7f3e",
            "{CQT}",
            signature_template(
                "Tct-7f3e",
                "SigningTime-7f3e",
                &Shape {
                    undeclared_properties: false,
                    ..shape.clone()
                },
                true,
                &["#Id-MCCQT"],
            ),
        ));
    }
    let alone = |slot: &str, content: &str| {
        ["{NBan}", "{NMua}", "{CQT}"]
            .iter()
            .fold(base.clone(), |text, s| {
                text.replace(s, if *s == slot { content } else { "" })
            })
    };
    let mut each = Vec::new();
    let mut merged = base.clone();
    for (id, slot, template) in &slots {
        let signed = xmlsec1_sign(dir, alone(slot, template).as_bytes(), id);
        let text = String::from_utf8(signed.clone()).unwrap();
        let start = text
            .find(&format!("Id=\"{id}\""))
            .and_then(|at| text[..at].rfind("<Signature"))
            .expect("the signed signature");
        let end = start + text[start..].find("</Signature>").unwrap() + "</Signature>".len();
        merged = merged.replace(slot, &text[start..end]);
        each.push((*id, signed));
    }
    for slot in ["{NBan}", "{NMua}", "{CQT}"] {
        merged = merged.replace(slot, "");
    }
    SignedInvoice {
        merged: merged.into_bytes(),
        each,
    }
}

/// xmlsec1 signs the signature `id` of `document` with the key and chain in `dir`.
fn xmlsec1_sign(dir: &Path, document: &[u8], id: &str) -> Vec<u8> {
    let input = dir.join("invoice.in.xml");
    let output = dir.join("invoice.out.xml");
    std::fs::write(&input, document).unwrap();
    run(Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!(
            "{},{},{}",
            dir.join("signer.key.pem").display(),
            dir.join("signer.pem").display(),
            dir.join("intermediate.pem").display()
        ))
        .args(["--node-id", id])
        .args(ID_ATTRIBUTES.iter().flat_map(|n| ["--id-attr:Id", n]))
        .arg("--output")
        .arg(&output)
        .arg(&input));
    std::fs::read(&output).unwrap()
}

/// The elements whose `Id` xmlsec1 must be told about (invoices declare none in a schema it
/// reads).
const ID_ATTRIBUTES: [&str; 4] = [
    "DLHDon",
    "MCCQT",
    "http://www.w3.org/2000/09/xmldsig#:Object",
    "http://www.w3.org/2000/09/xmldsig#:Signature",
];

/// xmlsec1's verdict on one signature (`--node-id`) of a signed invoice.
pub fn xmlsec1_accepts_signature(dir: &Path, signed: &[u8], id: &str) -> bool {
    let path = dir.join("check-one.xml");
    std::fs::write(&path, signed).unwrap();
    Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(dir.join("root.pem"))
        .arg("--untrusted-pem")
        .arg(dir.join("intermediate.pem"))
        .args(["--node-id", id])
        .args(ID_ATTRIBUTES.iter().flat_map(|n| ["--id-attr:Id", n]))
        .arg(&path)
        .output()
        .expect("xmlsec1 is installed")
        .status
        .success()
}
