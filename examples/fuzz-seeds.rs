//! Writes seed inputs for the fuzz targets: `cargo run --example fuzz-seeds -- fuzz/corpus`.
//!
//! Every seed is made here from kyso's own code (signed PDFs and XML, CMS, certificates, CRLs,
//! URIs), so the corpus has a recipe; the conformance suites are given to the fuzzer as extra
//! read-only corpus folders by `make fuzz`, not copied.

use std::path::Path;

use kyso::cms::{SignedCms, SignerIdentity};
use kyso::pdf::SignatureOptions;
use kyso::pdf::sample::{SampleOptions, sample_pdf};
use kyso::signer::Signer;
use kyso::testpki::{PkiOptions, SignerName, SignerProfile, SoftwareSigner, TestPki};
use kyso::token::KeyAlgorithm;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".to_owned());
    let out = Path::new(&out);
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    let pki = TestPki::new(PkiOptions::default())?;
    let name = SignerName::new("Người ký thử", "UBND tỉnh Thử Nghiệm", "Văn phòng");
    let (issued, key) =
        pki.issue_with_software_key(KeyAlgorithm::P256, &name, SignerProfile::Valid)?;
    let signer = SoftwareSigner::new(key, KeyAlgorithm::P256);
    let chain = vec![pki.intermediate.der().to_vec()];
    let identity = SignerIdentity {
        signer: &signer,
        certificate: &issued.der,
        chain: &chain,
    };

    for (n, options) in [
        SampleOptions::default(),
        SampleOptions {
            pages: 3,
            text_field: true,
            ..SampleOptions::default()
        },
    ]
    .iter()
    .enumerate()
    {
        let plain = sample_pdf(options);
        let signing = SignatureOptions::new(
            time::OffsetDateTime::now_utc(),
            kyso::pades::contents_size(&identity, &kyso::pades::Level::BB),
        );
        let once =
            kyso::pades::sign(&plain, &identity, &signing, &kyso::pades::Level::BB)?.to_vec();
        let twice =
            kyso::pades::sign(&once, &identity, &signing, &kyso::pades::Level::BB)?.to_vec();
        for (kind, bytes) in [("plain", &plain), ("signed", &once), ("twice", &twice)] {
            write("verify_document", &format!("{kind}-{n}.pdf"), bytes)?;
            write("pdf_structure", &format!("{kind}-{n}.pdf"), bytes)?;
        }
    }

    let digest = signer.algorithm().digest().digest(b"seed");
    let cms = SignedCms::sign(&identity, &digest)?.to_der();
    write("cms_ber", "signed-data.der", &cms)?;

    write("x509_crl_ocsp", "leaf.der", &issued.der)?;
    write("x509_crl_ocsp", "intermediate.der", pki.intermediate.der())?;
    let crl = pki.intermediate_crl(pki.at(), time::Duration::days(1))?;
    write("x509_crl_ocsp", "intermediate.crl", &crl)?;

    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VanBan xmlns:a=\"urn:a\"><a:So>1</a:So><!-- c --><Ten>Văn bản</Ten></VanBan>";
    let mut xml_chain = vec![issued.der.clone()];
    xml_chain.extend(chain.iter().cloned());
    let signed_xml = kyso::xml::sign(
        xml.as_bytes(),
        &signer,
        &xml_chain,
        &kyso::xml::SignOptions::new(std::time::SystemTime::now()),
    )?;
    write("xml_c14n", "plain.xml", xml.as_bytes())?;
    write("xml_c14n", "signed.xml", &signed_xml)?;
    write("verify_document", "signed.xml", &signed_xml)?;

    // edXML packages: kyso's own (the signed PDF zipped), and the older SDK sample's shape, with
    // `edXML:` used outside the envelope where nothing declares it.
    let header = kyso::edxml::Header {
        from: kyso::edxml::Organ {
            organ_id: Some("000.00.00.H99".to_owned()),
            organ_name: Some("UBND tỉnh Thử Nghiệm".to_owned()),
            ..Default::default()
        },
        to: vec![kyso::edxml::Organ {
            organ_id: Some("000.01.31.H99".to_owned()),
            ..Default::default()
        }],
        code: kyso::edxml::Code {
            number: Some("123".to_owned()),
            notation: Some("QĐ-UBND".to_owned()),
        },
        promulgation: kyso::edxml::Promulgation {
            place: None,
            date: Some("2026/03/15".to_owned()),
        },
        subject: Some("Thử nghiệm".to_owned()),
        signer: kyso::edxml::SignerInfo {
            full_name: Some("Người ký thử".to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    let signed_pdf = {
        let signing = SignatureOptions::new(
            time::OffsetDateTime::now_utc(),
            kyso::pades::contents_size(&identity, &kyso::pades::Level::BB),
        );
        kyso::pades::sign(
            &sample_pdf(&SampleOptions::default()),
            &identity,
            &signing,
            &kyso::pades::Level::BB,
        )?
        .to_vec()
    };
    let package = kyso::edxml::pack(
        &header,
        &[kyso::edxml::AttachmentInput {
            name: "QD-123.pdf".to_owned(),
            bytes: signed_pdf,
            description: None,
        }],
        time::OffsetDateTime::now_utc(),
    )?;
    write("edxml_package", "packed.edxml", &package)?;
    write("verify_document", "packed.edxml", &package)?;
    let legacy = String::from_utf8(package)?
        .replace("<AttachmentEncoded>", "<edXML:AttachmentEncoded>")
        .replace("</AttachmentEncoded>", "</edXML:AttachmentEncoded>")
        .replace("<edXML:Reference>", "<edXML:Reference xlink:href=\"\">");
    write("edxml_package", "legacy.edxml", legacy.as_bytes())?;

    // A zip batch as the service receives it: a signed PDF and a signed XML.
    let mut zipped = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(&mut zipped);
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("signed.xml", options)?;
        writer.write_all(&signed_xml)?;
        writer.start_file("plain.xml", options)?;
        writer.write_all(xml.as_bytes())?;
        writer.finish()?;
    }
    write("upload_zip", "batch.zip", zipped.get_ref())?;

    for (n, uri) in [
        "pkcs11:token=kyso;object=so-tu-phap;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin",
        "pkcs11:id=%01%02;slot-id=3;serial=ABC",
    ]
    .iter()
    .enumerate()
    {
        write("pkcs11_uri", &format!("uri-{n}"), uri.as_bytes())?;
    }
    println!("seeds written to {}", out.display());
    Ok(())
}
