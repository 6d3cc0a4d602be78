//! Visible signatures: Vietnamese text that renders and extracts exactly, a font subset, images
//! with transparency — and a signature every validator still accepts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kyso::pdf::appearance::format_signing_time;
use kyso::pdf::sample::{SampleOptions, sample_pdf, seal_png, signature_png};
use kyso::pdf::{
    Appearance, Document, Font, Object, PngImage, Rect, SignatureOptions, VisibleSignature, decode,
};
use kyso::token::KeyAlgorithm;

use crate::support::{Signing, pdfsig, pyhanko_validate, qpdf_check, run};

const SIGNER: &str = "Nguyễn Thị Hồng Nhung";
const UNIT: &str = "UBND xã Tân Lập";
const FONT: &str = kyso::pdf::font::DEFAULT_FONT;

fn font() -> Arc<Font> {
    Arc::new(Font::load(Path::new(FONT)).expect("fonts-liberation2 is installed"))
}

fn two_pages() -> Vec<u8> {
    sample_pdf(&SampleOptions {
        pages: 2,
        ..SampleOptions::default()
    })
}

/// Where reviewers find rendered pages: `target/test-artefacts/`.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn visible_options(
    signing: &Signing,
    page: usize,
    rect: Rect,
    appearance: Appearance,
) -> SignatureOptions {
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity()),
    );
    options.reason = Some("Phê duyệt văn bản".to_owned());
    options.page = page;
    options.visible = Some(VisibleSignature { rect, appearance });
    options
}

fn pdftotext(path: &Path, page: usize) -> String {
    let page = page.to_string();
    run(Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-f", &page, "-l", &page])
        .arg(path)
        .arg("-"))
}

/// Every object of the document that is a dictionary (or stream) satisfying `pick`.
fn objects_where(doc: &Document<'_>, pick: impl Fn(&Object) -> bool) -> Vec<Object> {
    doc.locations()
        .filter_map(|(id, _)| doc.object(id).ok())
        .filter(|o| pick(o))
        .collect()
}

#[test]
fn visible_vietnamese_signature_renders_extracts_and_validates() {
    let signing = Signing::new(KeyAlgorithm::P256, SIGNER);
    let mut appearance = Appearance::new(font(), SIGNER, Some(UNIT.to_owned()));
    appearance.signature_image = Some(PngImage::decode(&signature_png(360, 150)).unwrap());
    appearance.seal_image = Some(PngImage::decode(&seal_png(300)).unwrap());
    let rect = Rect::new(265.0, 80.0, 300.0, 100.0).unwrap();
    let options = visible_options(&signing, 1, rect, appearance);
    let input = two_pages();
    let signed = kyso::pades::sign(&input, &signing.identity(), &options).unwrap();
    let bytes = signed.to_vec();
    assert!(bytes.starts_with(&input));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("visible.pdf");
    std::fs::write(&out, &bytes).unwrap();

    // The text on page 2, exactly as written; nothing of it on page 1.
    let page2 = pdftotext(&out, 2);
    let time = format_signing_time(options.signing_time);
    for expected in [
        format!("Ký bởi: {SIGNER}"),
        format!("Cơ quan: {UNIT}"),
        format!("Thời gian ký: {time}"),
    ] {
        assert!(
            page2.lines().any(|l| l.trim() == expected),
            "pdftotext page 2 lacks {expected:?}:\n{page2}"
        );
    }
    assert!(!pdftotext(&out, 1).contains(SIGNER));

    // Validators: the appearance is part of the signed revision.
    let report = pdfsig(&out);
    assert!(report.contains("Signature is Valid."), "pdfsig: {report}");
    assert!(report.contains("Total document signed"), "pdfsig: {report}");
    qpdf_check(&out);
    let pyhanko = pyhanko_validate(&out, &[&signing.root_pem()]);
    assert_eq!(pyhanko.matches(":INTACT:TRUSTED").count(), 1, "{pyhanko}");

    let doc = Document::parse(&bytes).unwrap();
    // The widget: the rectangle asked for, an appearance, print + locked.
    let widget = objects_where(&doc, |o| {
        o.as_dict().is_some_and(|d| d.name(b"FT") == Some(b"Sig"))
    });
    let widget = widget[0].as_dict().unwrap();
    let widget_rect: Vec<f64> = widget
        .get(b"Rect")
        .and_then(Object::as_array)
        .unwrap()
        .iter()
        .map(|o| o.as_number().unwrap())
        .collect();
    assert_eq!(widget_rect, [265.0, 80.0, 565.0, 180.0]);
    assert_eq!(widget.integer(b"F"), Some(132));
    let ap = doc.resolve(widget.get(b"AP").unwrap()).unwrap();
    let normal = doc
        .resolve(ap.as_dict().unwrap().get(b"N").unwrap())
        .unwrap();
    let form = normal.as_dict().unwrap();
    assert_eq!(form.name(b"Subtype"), Some(&b"Form"[..]));
    assert_eq!(doc.pages().unwrap()[1], widget.reference(b"P").unwrap());

    // The font: a tagged subset, much smaller than the font file.
    let fonts = objects_where(&doc, |o| {
        o.as_dict()
            .is_some_and(|d| d.name(b"Subtype") == Some(b"Type0"))
    });
    assert_eq!(fonts.len(), 1);
    let type0 = fonts[0].as_dict().unwrap();
    let base_font = String::from_utf8(type0.name(b"BaseFont").unwrap().to_vec()).unwrap();
    let (tag, name) = base_font.split_once('+').unwrap();
    assert!(
        tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
        "{base_font}"
    );
    assert_eq!(name, "LiberationSerif");
    assert_eq!(type0.name(b"Encoding"), Some(&b"Identity-H"[..]));
    assert!(type0.get(b"ToUnicode").is_some());
    let descendants = doc.resolve(type0.get(b"DescendantFonts").unwrap()).unwrap();
    let cid_font = doc.resolve(&descendants.as_array().unwrap()[0]).unwrap();
    let cid_font = cid_font.as_dict().unwrap();
    assert_eq!(cid_font.name(b"Subtype"), Some(&b"CIDFontType2"[..]));
    assert!(cid_font.get(b"W").is_some());
    let descriptor = doc
        .resolve(cid_font.get(b"FontDescriptor").unwrap())
        .unwrap();
    let Object::Stream(program) = doc
        .resolve(descriptor.as_dict().unwrap().get(b"FontFile2").unwrap())
        .unwrap()
    else {
        panic!("FontFile2 is a stream")
    };
    let subset = decode(&program).unwrap();
    let full = std::fs::metadata(FONT).unwrap().len() as usize;
    eprintln!(
        "font subset: {} bytes ({} compressed) of {full} bytes in {FONT}",
        subset.len(),
        program.data.len()
    );
    assert!(
        subset.len() * 10 < full,
        "subset {} of {full}",
        subset.len()
    );

    // The images: the seal's and the signature's alpha channels became soft masks.
    let images = objects_where(&doc, |o| {
        o.as_dict().is_some_and(|d| {
            d.name(b"Subtype") == Some(b"Image") && d.name(b"ColorSpace") == Some(b"DeviceRGB")
        })
    });
    assert_eq!(images.len(), 2);
    for image in &images {
        let mask = doc
            .resolve(image.as_dict().unwrap().get(b"SMask").unwrap())
            .unwrap();
        assert_eq!(
            mask.as_dict().unwrap().name(b"ColorSpace"),
            Some(&b"DeviceGray"[..])
        );
    }

    // A picture of page 2 for reviewers (and a check that it renders).
    let prefix = dir.path().join("page");
    run(Command::new("pdftoppm")
        .args(["-png", "-r", "72", "-f", "2", "-l", "2"])
        .arg(&out)
        .arg(&prefix));
    let rendered = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("pdftoppm wrote a PNG");
    let artefact = artefacts().join("visible-signature-page2.png");
    std::fs::copy(&rendered, &artefact).unwrap();
    std::fs::copy(&out, artefacts().join("visible-signature.pdf")).unwrap();
    let png = PngImage::decode(&std::fs::read(&artefact).unwrap()).unwrap();
    assert_eq!((png.width(), png.height()), (595, 842));
}
