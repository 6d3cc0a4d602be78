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
    crate::support::artefacts_dir("")
}

fn visible_options(
    signing: &Signing,
    page: usize,
    rect: Rect,
    appearance: Appearance,
) -> SignatureOptions {
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
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
    let rect = Rect::new(265.0, 80.0, 300.0, 72.0).unwrap();
    let options = visible_options(&signing, 1, rect, appearance);
    let input = two_pages();
    let signed = kyso::pades::sign(
        &input,
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap();
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
    assert_eq!(widget_rect, [265.0, 80.0, 565.0, 152.0]);
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
    // And the stamp alone at 200 dpi, to judge the diacritics (pdftoppm crops in pixels from
    // the top left).
    let scale = 200.0 / 72.0;
    let crop = |v: f64| ((v * scale).round() as i64).to_string();
    run(Command::new("pdftoppm")
        .args(["-png", "-r", "200", "-f", "2", "-l", "2", "-singlefile"])
        .args([
            "-x",
            &crop(rect.x - 10.0),
            "-y",
            &crop(842.0 - rect.y - rect.height - 10.0),
        ])
        .args([
            "-W",
            &crop(rect.width + 20.0),
            "-H",
            &crop(rect.height + 20.0),
        ])
        .arg(&out)
        .arg(artefacts().join("visible-signature-stamp-200dpi")));
}

#[test]
fn a_rotated_page_gets_an_upright_stamp() {
    let signing = Signing::new(KeyAlgorithm::P256, SIGNER);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, two_pages()).unwrap();
    let rotated = dir.path().join("rotated.pdf");
    run(Command::new("qpdf")
        .arg("--rotate=+90:2")
        .arg(&plain)
        .arg(&rotated));
    let input = std::fs::read(&rotated).unwrap();
    // In user space the page is still 595×842; shown turned, the stamp runs along its height.
    let rect = Rect::new(300.0, 100.0, 80.0, 300.0).unwrap();
    let appearance = Appearance::new(font(), SIGNER, Some(UNIT.to_owned()));
    let options = visible_options(&signing, 1, rect, appearance);
    let bytes = kyso::pades::sign(
        &input,
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec();
    let out = dir.path().join("signed.pdf");
    std::fs::write(&out, &bytes).unwrap();
    let page2 = pdftotext(&out, 2);
    assert!(
        page2
            .lines()
            .any(|l| l.trim() == format!("Ký bởi: {SIGNER}")),
        "{page2}"
    );
    assert!(pdfsig(&out).contains("Signature is Valid."));
    run(Command::new("pdftoppm")
        .args(["-png", "-r", "72", "-f", "2", "-l", "2", "-singlefile"])
        .arg(&out)
        .arg(artefacts().join("visible-signature-rotated-page2")));
}

#[test]
fn bad_placements_images_and_fonts_are_named() {
    let signing = Signing::new(KeyAlgorithm::P256, SIGNER);
    let input = two_pages();
    let sign = |page: usize, rect: Rect| {
        let appearance = Appearance::new(font(), SIGNER, Some(UNIT.to_owned()));
        let options = visible_options(&signing, page, rect, appearance);
        match kyso::pades::sign(
            &input,
            &signing.identity(),
            &options,
            &kyso::pades::Level::BB,
        ) {
            Ok(_) => panic!("signed with page {page} and {rect:?}"),
            Err(e) => e.to_string(),
        }
    };
    // Off the page: sticks out to the right of the A4 page (595 pt wide).
    let err = sign(1, Rect::new(500.0, 100.0, 200.0, 80.0).unwrap());
    assert!(err.contains("outside page 2"), "{err}");
    assert!(err.contains("[0 0 595 842]"), "{err}");
    let err = sign(0, Rect::new(-10.0, 100.0, 200.0, 80.0).unwrap());
    assert!(err.contains("outside page 1"), "{err}");
    // A page that does not exist.
    let err = sign(2, Rect::new(100.0, 100.0, 200.0, 80.0).unwrap());
    assert!(err.contains("page 3 does not exist"), "{err}");
    assert!(err.contains("2 page(s)"), "{err}");
    // Too small for the text.
    let err = sign(1, Rect::new(100.0, 100.0, 30.0, 8.0).unwrap());
    assert!(err.contains("too small"), "{err}");
    // No rectangle at all.
    assert!(Rect::new(100.0, 100.0, -5.0, 80.0).is_err());

    // Not a PNG.
    let err = PngImage::decode(b"\xff\xd8\xff\xe0 a JPEG").unwrap_err();
    assert!(err.to_string().contains("not a PNG"), "{err}");
    // A missing font names the file and the package.
    let err = Font::load(Path::new("/usr/share/fonts/none/Missing.ttf")).unwrap_err();
    let err = err.to_string();
    assert!(err.contains("/usr/share/fonts/none/Missing.ttf"), "{err}");
    assert!(err.contains("fonts-liberation2"), "{err}");
}

#[test]
fn invisible_signatures_are_unchanged() {
    let signing = Signing::new(KeyAlgorithm::P256, SIGNER);
    let input = two_pages();
    let options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    let bytes = kyso::pades::sign(
        &input,
        &signing.identity(),
        &options,
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec();
    let doc = Document::parse(&bytes).unwrap();
    let widget = objects_where(&doc, |o| {
        o.as_dict().is_some_and(|d| d.name(b"FT") == Some(b"Sig"))
    });
    let widget = widget[0].as_dict().unwrap();
    assert_eq!(
        widget.get(b"Rect"),
        Some(&Object::Array(vec![Object::Integer(0); 4]))
    );
    assert!(widget.get(b"AP").is_none());
    assert!(
        objects_where(&doc, |o| o.as_dict().is_some_and(|d| d.has_type(b"Font")))
            .iter()
            .all(|f| f.as_dict().unwrap().name(b"Subtype") != Some(b"Type0"))
    );
}

#[test]
fn cli_visible_signature_shows_the_certificate_names() {
    use crate::cli::{kyso, text};
    use crate::support::{MAIN_TOKEN, tokens};

    let signing = Signing::new(KeyAlgorithm::P256, "Lê Thị Thu Hà");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pdf");
    std::fs::write(&input, two_pages()).unwrap();
    let signature = dir.path().join("signature.png");
    std::fs::write(&signature, signature_png(300, 120)).unwrap();
    let seal = dir.path().join("seal.png");
    std::fs::write(&seal, seal_png(240)).unwrap();
    let key = format!(
        "{}?pin-source=file:{}",
        signing.key.uri(),
        tokens().pin_file(MAIN_TOKEN).display()
    );
    let out = dir.path().join("out.pdf");
    let printed = run(kyso()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(&out)
        .args(["--key", &key, "--visible", "2,300,60,270,95"])
        .arg("--signature-image")
        .arg(&signature)
        .arg("--seal-image")
        .arg(&seal));
    assert!(printed.contains("visible on page 2"), "{printed}");
    let page2 = pdftotext(&out, 2);
    // Signing::new issues CN = the person, OU = "Sở Tư pháp".
    assert!(page2.contains("Ký bởi: Lê Thị Thu Hà"), "{page2}");
    assert!(page2.contains("Cơ quan: Sở Tư pháp"), "{page2}");
    assert!(pdfsig(&out).contains("Signature is Valid."));

    // --name and --unit override the certificate.
    let named = dir.path().join("named.pdf");
    run(kyso()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg(&named)
        .args(["--key", &key, "--visible", "1,300,60,270,95"])
        .args(["--name", "Lê T. T. Hà", "--unit", "UBND xã Tân Lập"]));
    let page1 = pdftotext(&named, 1);
    assert!(page1.contains("Ký bởi: Lê T. T. Hà"), "{page1}");
    assert!(page1.contains("Cơ quan: UBND xã Tân Lập"), "{page1}");

    // Failures: exit 2, a reason naming the problem, nothing written.
    let not_png = dir.path().join("seal.jpg");
    std::fs::write(&not_png, b"\xff\xd8\xff\xe0 JFIF").unwrap();
    let never = dir.path().join("never.pdf");
    // Extra arguments, environment, and what the error must say.
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec!["--visible".into(), "3,300,60,270,95".into()],
            vec![],
            "page 3 does not exist",
        ),
        (
            vec!["--visible".into(), "2,500,60,270,95".into()],
            vec![],
            "outside page 2",
        ),
        (
            vec!["--visible".into(), "2,300,60".into()],
            vec![],
            "PAGE,X,Y,W,H",
        ),
        (
            vec![
                "--visible".into(),
                "2,300,60,270,95".into(),
                "--seal-image".into(),
                not_png.display().to_string(),
            ],
            vec![],
            "not a PNG",
        ),
        (
            vec!["--visible".into(), "2,300,60,270,95".into()],
            vec![("KYSO_PDF_FONT", "/nonexistent/LiberationSerif-Regular.ttf")],
            "fonts-liberation2",
        ),
        (
            vec!["--seal-image".into(), seal.display().to_string()],
            vec![],
            "--visible",
        ),
    ];
    for (extra, env, expected) in cases {
        let result = kyso()
            .envs(env.iter().copied())
            .args(["sign", "pdf"])
            .arg(&input)
            .arg(&never)
            .args(["--key", &key])
            .args(&extra)
            .output()
            .unwrap();
        let said = text(&result);
        assert_eq!(result.status.code(), Some(2), "{extra:?}: {said}");
        assert!(
            said.contains(expected),
            "{extra:?}: expected {expected:?} in {said}"
        );
        assert!(!never.exists(), "{extra:?}: an output was written");
    }
}

#[test]
fn official_then_unit_both_visible_both_valid() {
    let official = Signing::new(KeyAlgorithm::Rsa2048, SIGNER);
    let unit = Signing::new(KeyAlgorithm::P256, UNIT);
    let mut first = Appearance::new(font(), SIGNER, Some(UNIT.to_owned()));
    first.signature_image = Some(PngImage::decode(&signature_png(300, 120)).unwrap());
    let once = kyso::pades::sign(
        &two_pages(),
        &official.identity(),
        &visible_options(
            &official,
            1,
            Rect::new(40.0, 80.0, 250.0, 70.0).unwrap(),
            first,
        ),
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec();
    let mut second = Appearance::new(
        font(),
        UNIT,
        Some("Huyện Đồng Hỷ, tỉnh Thái Nguyên".to_owned()),
    );
    second.seal_image = Some(PngImage::decode(&seal_png(200)).unwrap());
    let twice = kyso::pades::sign(
        &once,
        &unit.identity(),
        &visible_options(
            &unit,
            1,
            Rect::new(310.0, 80.0, 250.0, 70.0).unwrap(),
            second,
        ),
        &kyso::pades::Level::BB,
    )
    .unwrap()
    .to_vec();
    assert!(twice.starts_with(&once));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twice.pdf");
    std::fs::write(&out, &twice).unwrap();
    let report = pdfsig(&out);
    assert_eq!(report.matches("Signature is Valid.").count(), 2, "{report}");
    let pyhanko = pyhanko_validate(&out, &[&official.root_pem(), &unit.root_pem()]);
    assert_eq!(pyhanko.matches(":INTACT:TRUSTED").count(), 2, "{pyhanko}");
    let page2 = pdftotext(&out, 2);
    for expected in [
        format!("Ký bởi: {SIGNER}"),
        format!("Cơ quan: {UNIT}"),
        format!("Ký bởi: {UNIT}"),
        "Cơ quan: Huyện Đồng Hỷ, tỉnh Thái Nguyên".to_owned(),
    ] {
        assert!(page2.contains(&expected), "{expected:?} missing:\n{page2}");
    }
    run(Command::new("pdftoppm")
        .args(["-png", "-r", "72", "-f", "2", "-l", "2", "-singlefile"])
        .arg(&out)
        .arg(artefacts().join("two-visible-signatures-page2")));
}
