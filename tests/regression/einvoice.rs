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
