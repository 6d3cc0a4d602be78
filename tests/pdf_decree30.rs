//! The layouts of Decree 30/2020/NĐ-CP, Appendix I, measured on the rendered page: each stamp
//! kind signed through SoftHSM, rendered by poppler (`pdftoppm -r 72`, one pixel per point),
//! and its coloured pixels found where the Appendix puts them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kyso::pdf::decree30::{self, CopyForm, Stamp};
use kyso::pdf::sample::{
    LETTER_NUMBER, SampleOptions, letter_pdf, sample_pdf, seal_png_sized, signature_png,
};
use kyso::pdf::{Appearance, Font, PngImage, Rect, SignatureOptions, Style, VisibleSignature};
use kyso::token::KeyAlgorithm;

use crate::support::{Signing, pdfsig, run};

/// The seal's real diameter in the test: 36 mm, a common size for a provincial agency's seal.
const SEAL_MM: f64 = 36.0;

/// Pixels of slack: anti-aliasing and poppler's rounding of image edges to device pixels.
const TOLERANCE: f64 = 2.5;

fn font() -> Arc<Font> {
    Arc::new(
        Font::load(&decree30::font_path(Path::new(
            kyso::pdf::font::DEFAULT_FONT,
        )))
        .unwrap(),
    )
}

fn artefacts() -> PathBuf {
    crate::support::artefacts_dir("")
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(kyso::VIETNAM)
        .date()
}

/// Signs `pdf` with `signing`'s key and a Decree 30 `stamp`, placed as [`decree30::place`]
/// says; returns the signed bytes and the widget's page and rectangle.
fn sign(
    pdf: &[u8],
    signing: &Signing,
    mut appearance: Appearance,
    stamp: Stamp,
    given: Option<(usize, Rect)>,
) -> (Vec<u8>, usize, Rect) {
    appearance.style = Style::Decree30(stamp.clone());
    let mut options = SignatureOptions::new(
        time::OffsetDateTime::now_utc(),
        kyso::pades::contents_size(&signing.identity(), &kyso::pades::Level::BB),
    );
    let (page, rect) =
        decree30::place(pdf, &stamp, &appearance, given, options.signing_time).unwrap();
    options.page = page;
    options.visible = Some(VisibleSignature { rect, appearance });
    let signed = kyso::pades::sign(pdf, &signing.identity(), &options, &kyso::pades::Level::BB)
        .unwrap()
        .to_vec();
    assert!(signed.starts_with(pdf), "signed by incremental update");
    (signed, page, rect)
}

/// A rendered page: RGB pixels, one per point at 72 dpi.
struct Rendered {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Rendered {
    fn of(pdf: &[u8], page: usize, name: &str) -> Rendered {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.pdf");
        std::fs::write(&input, pdf).unwrap();
        let out = artefacts().join(name);
        let page = (page + 1).to_string();
        run(Command::new("pdftoppm")
            .args(["-r", "72", "-png", "-singlefile", "-f", &page, "-l", &page])
            .arg(&input)
            .arg(&out));
        let file = std::fs::File::open(out.with_extension("png")).unwrap();
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buffer).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Rgb, "pdftoppm writes RGB");
        buffer.truncate(frame.buffer_size());
        Rendered {
            width: frame.width as usize,
            height: frame.height as usize,
            rgb: buffer,
        }
    }

    /// This page with every pixel equal to `before`'s made white: what was drawn since.
    fn changed_from(&self, before: &Rendered) -> Rendered {
        assert_eq!((self.width, self.height), (before.width, before.height));
        let mut rgb = self.rgb.clone();
        for (i, pixel) in rgb.chunks_mut(3).enumerate() {
            if before.rgb[i * 3..i * 3 + 3] == *pixel {
                pixel.copy_from_slice(&[255, 255, 255]);
            }
        }
        Rendered {
            width: self.width,
            height: self.height,
            rgb,
        }
    }

    /// The bounding box, in PDF points from the bottom left, of the pixels `pick` accepts
    /// (`None` when there are none).
    fn bounds(&self, pick: impl Fn([u8; 3]) -> bool) -> Option<Rect> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                let i = (y * self.width + x) * 3;
                if pick([self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]) {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
        }
        (x0 != usize::MAX).then(|| Rect {
            x: x0 as f64,
            y: (self.height - 1 - y1) as f64,
            width: (x1 + 1 - x0) as f64,
            height: (y1 + 1 - y0) as f64,
        })
    }
}

/// The signature ink: blue, well away from grey.
fn blue([r, g, b]: [u8; 3]) -> bool {
    b > 110 && i32::from(b) > i32::from(r) + 60 && i32::from(b) > i32::from(g) + 40
}

/// The seal's ink: red.
fn red([r, g, b]: [u8; 3]) -> bool {
    r > 140 && i32::from(r) > i32::from(g) + 80 && i32::from(r) > i32::from(b) + 80
}

/// Text ink: dark and grey (no colour cast), as black text anti-aliased on white is.
fn black([r, g, b]: [u8; 3]) -> bool {
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    max < 160 && max - min < 12
}

/// No colour cast: black, grey or white.
fn grey([r, g, b]: [u8; 3]) -> bool {
    r.max(g).max(b) - r.min(g).min(b) < 12
}

/// Anything not white.
fn ink([r, g, b]: [u8; 3]) -> bool {
    r.min(g).min(b) < 235
}

fn close(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= TOLERANCE,
        "{what}: {actual:.1} pt, expected {expected:.1} ± {TOLERANCE}"
    );
}

fn centre_x(r: &Rect) -> f64 {
    r.x + r.width / 2.0
}

fn centre_y(r: &Rect) -> f64 {
    r.y + r.height / 2.0
}

#[test]
fn person_then_agency_on_the_letter_as_the_appendix_places_them() {
    let font = font();
    let (letter, space) = letter_pdf(&font, today()).unwrap();
    let person = Signing::new(KeyAlgorithm::Rsa2048, "Nguyễn Văn An");
    let agency = Signing::new(KeyAlgorithm::P256, "UBND tỉnh Thử Nghiệm");

    // The letter alone: black text, no colour in the signature space.
    let blank = Rendered::of(&letter, 0, "decree30-letter");
    let letter_ink = blank.bounds(black).expect("the letter renders");
    assert!(letter_ink.y + letter_ink.height > 780.0, "motto at the top");
    assert!(blank.bounds(blue).is_none() && blank.bounds(red).is_none());

    // The person's signature: the blue image, centred between title and name.
    let mut appearance = Appearance::new(font.clone(), "Nguyễn Văn An", None);
    appearance.signature_image = Some(PngImage::decode(&signature_png(480, 200)).unwrap());
    let (once, page, widget) = sign(
        &letter,
        &person,
        appearance,
        Stamp::Person,
        Some((0, space)),
    );
    assert_eq!(page, 0);
    let rendered = Rendered::of(&once, 0, "decree30-person");
    let signature = rendered
        .bounds(blue)
        .expect("the signature image is drawn blue");
    // The image's ink lies inside the widget, which is the image fitted in the space, centred.
    close("widget centre x", centre_x(&widget), centre_x(&space));
    close("widget centre y", centre_y(&widget), centre_y(&space));
    assert!(signature.x >= widget.x - TOLERANCE && signature.y >= widget.y - TOLERANCE);
    assert!(signature.x + signature.width <= widget.x + widget.width + TOLERANCE);
    assert!(signature.y + signature.height <= widget.y + widget.height + TOLERANCE);
    // Between the title's baseline and the name's capitals: no blue above or below the space.
    assert!(
        signature.y >= space.y - TOLERANCE,
        "{signature:?} {space:?}"
    );
    assert!(signature.y + signature.height <= space.y + space.height + TOLERANCE);
    // Most of the image's width is ink (the sample's loops span 90% of it).
    assert!(
        signature.width > widget.width * 0.8,
        "{signature:?} {widget:?}"
    );
    assert!(rendered.bounds(red).is_none(), "no seal yet");
    // No frame and no text: every pixel that changed lies in the image's box.
    let changed = rendered.changed_from(&blank).bounds(ink).unwrap();
    assert!(
        changed.x >= widget.x - TOLERANCE
            && changed.y >= widget.y - TOLERANCE
            && changed.x + changed.width <= widget.x + widget.width + TOLERANCE
            && changed.y + changed.height <= widget.y + widget.height + TOLERANCE,
        "only the signature image is drawn: {changed:?} outside {widget:?}"
    );

    // The agency's signature: the red seal, real size, over the left third of the signature.
    let mut appearance = Appearance::new(font.clone(), "UBND tỉnh Thử Nghiệm", None);
    appearance.seal_image = Some(PngImage::decode(&seal_png_sized(420, SEAL_MM)).unwrap());
    let (twice, page, seal_widget) = sign(
        &once,
        &agency,
        appearance,
        Stamp::Agency {
            seal_width_mm: None,
        },
        None,
    );
    assert_eq!(page, 0);
    let rendered = Rendered::of(&twice, 0, "decree30-person-agency");
    let seal = rendered.bounds(red).expect("the seal is drawn red");
    let real = SEAL_MM / 25.4 * 72.0;
    close("seal width (real size)", seal.width, real);
    close("seal height (real size)", seal.height, real);
    close(
        "seal's right edge at a third of the signature",
        seal.x + seal.width,
        widget.x + widget.width / 3.0,
    );
    close(
        "seal centred on the signature",
        centre_y(&seal),
        centre_y(&widget),
    );
    assert!(seal.x < widget.x, "the seal reaches left of the signature");
    // The signature is still there, right of the seal, and drawn under it: its blue shows
    // to the right of the seal's edge.
    let still_blue = rendered.bounds(blue).expect("the signature stays visible");
    assert!(still_blue.x + still_blue.width > seal.x + seal.width + widget.width / 3.0);
    close("the seal's widget is the seal", seal_widget.width, real);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("letter.pdf");
    std::fs::write(&out, &twice).unwrap();
    let report = pdfsig(&out);
    assert_eq!(report.matches("Signature is Valid.").count(), 2, "{report}");
}

#[test]
fn attachments_and_copies_carry_black_text_at_the_top_right_of_page_one() {
    let font = font();
    let agency = Signing::new(KeyAlgorithm::P256, "UBND tỉnh Thử Nghiệm");
    // Two pages; the body text of the sample starts at the left margin, 72 pt from the top.
    let attachment = sample_pdf(&SampleOptions {
        pages: 2,
        ..SampleOptions::default()
    });
    let page_top = 842.0;
    let right_edge = 595.0 - 15.0 / 25.4 * 72.0;
    let cases = [
        (
            Stamp::Attachment {
                number: LETTER_NUMBER.to_owned(),
            },
            2,
            "decree30-attachment",
        ),
        (
            Stamp::Copy {
                form: CopyForm::SaoY,
                agency: "Văn phòng UBND tỉnh Thử Nghiệm".to_owned(),
            },
            3,
            "decree30-copy",
        ),
    ];
    for (stamp, lines, name) in cases {
        let appearance = Appearance::new(font.clone(), "UBND tỉnh Thử Nghiệm", None);
        let (signed, page, rect) = sign(&attachment, &agency, appearance, stamp.clone(), None);
        assert_eq!(page, 0, "{name}: on the first page");
        let before = Rendered::of(&attachment, 0, &format!("{name}-before"));
        let after = Rendered::of(&signed, 0, name);
        // What the stamp added: the pixels that differ, all black text.
        let added = after.changed_from(&before);
        let text = added
            .bounds(ink)
            .unwrap_or_else(|| panic!("{name}: nothing drawn"));
        assert!(added.bounds(black).is_some(), "{name}: the text is black");
        assert!(
            added.bounds(|p| ink(p) && !grey(p)).is_none(),
            "{name}: every added pixel is black or its anti-aliased grey"
        );
        assert!(
            added.bounds(|p| red(p) || blue(p)).is_none(),
            "{name}: no image"
        );
        // Top right: its right end at the right margin, its top inside the top margin.
        close(
            &format!("{name}: right end"),
            text.x + text.width,
            right_edge,
        );
        let top = text.y + text.height;
        assert!(
            top <= page_top - 6.0 / 25.4 * 72.0 + TOLERANCE && top > page_top - 30.0,
            "{name}: top at {top}"
        );
        assert!(
            text.y > page_top - 20.0 / 25.4 * 72.0,
            "{name}: within the top margin"
        );
        assert!(text.x > 595.0 / 2.0, "{name}: on the right half");
        // 10 pt: the lines' pitch is 12 pt, so n lines span about 12(n−1) + cap-to-descender.
        let expected = 12.0 * (lines as f64 - 1.0);
        assert!(
            text.height > expected + 6.0 && text.height < expected + 13.0,
            "{name}: {lines} lines of 10 pt are {:.1} pt high",
            text.height
        );
        assert!(rect.x + rect.width <= right_edge + 1.0);
        // Nothing on page 2.
        let second_before = Rendered::of(&attachment, 1, &format!("{name}-2-before"));
        let second_after = Rendered::of(&signed, 1, &format!("{name}-2"));
        assert!(
            second_before.rgb == second_after.rgb,
            "{name}: page 2 unchanged"
        );

        // The text itself, as the Appendix lists it.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("signed.pdf");
        std::fs::write(&out, &signed).unwrap();
        let extracted = run(Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-f", "1", "-l", "1"])
            .arg(&out)
            .arg("-"));
        let expected_text = match &stamp {
            Stamp::Copy { .. } => vec!["SAO Y", "Văn phòng UBND tỉnh Thử Nghiệm"],
            _ => vec![LETTER_NUMBER],
        };
        for line in expected_text {
            assert!(extracted.contains(line), "{name}: {line:?} in {extracted}");
        }
        assert!(
            extracted.contains("+07:00"),
            "{name}: the time with its zone"
        );
    }
}

#[test]
fn kyso_sign_pdf_stamp_lays_out_each_kind_and_names_what_is_missing() {
    use crate::cli::{kyso, text};
    use crate::support::{MAIN_TOKEN, tokens};

    let font = font();
    let (letter, space) = letter_pdf(&font, today()).unwrap();
    let signing = Signing::new(KeyAlgorithm::P256, "Nguyễn Văn An");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("letter.pdf");
    std::fs::write(&input, &letter).unwrap();
    let signature = dir.path().join("signature.png");
    std::fs::write(&signature, signature_png(480, 200)).unwrap();
    let seal = dir.path().join("seal.png");
    std::fs::write(&seal, kyso::pdf::sample::seal_png(400)).unwrap();
    let key = format!(
        "{}?pin-source=file:{}",
        signing.key.uri(),
        tokens().pin_file(MAIN_TOKEN).display()
    );
    let sign = |input: &Path, output: &Path, extra: &[&str]| {
        kyso()
            .args(["sign", "pdf"])
            .arg(input)
            .arg(output)
            .args(["--key", &key])
            .args(extra)
            .output()
            .unwrap()
    };

    // The person: the image in the space given.
    let once = dir.path().join("once.pdf");
    let place = format!("1,{},{},{},{}", space.x, space.y, space.width, space.height);
    let signature_arg = signature.display().to_string();
    let out = sign(
        &input,
        &once,
        &[
            "--stamp",
            "person",
            "--visible",
            &place,
            "--signature-image",
            &signature_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("Decree 30 person stamp on page 1"),
        "{}",
        text(&out)
    );
    let rendered = Rendered::of(&std::fs::read(&once).unwrap(), 0, "decree30-cli-person");
    let blue_ink = rendered.bounds(blue).unwrap();
    close(
        "CLI: signature centred",
        centre_x(&blue_ink),
        centre_x(&space),
    );

    // The agency: this seal carries no resolution, so its width is given; without it, said.
    let twice = dir.path().join("twice.pdf");
    let seal_arg = seal.display().to_string();
    let out = sign(
        &once,
        &twice,
        &["--stamp", "agency", "--seal-image", &seal_arg],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("real size"), "{}", text(&out));
    assert!(!twice.exists());
    let out = sign(
        &once,
        &twice,
        &[
            "--stamp",
            "agency",
            "--seal-image",
            &seal_arg,
            "--seal-width",
            "36",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rendered = Rendered::of(&std::fs::read(&twice).unwrap(), 0, "decree30-cli-agency");
    let seal_ink = rendered.bounds(red).unwrap();
    close("CLI: seal width", seal_ink.width, 36.0 / 25.4 * 72.0);
    assert!(pdfsig(&twice).matches("Signature is Valid.").count() == 2);

    // What each stamp needs: a usage error naming it, and nothing written.
    let never = dir.path().join("never.pdf");
    for (extra, said) in [
        (vec!["--stamp", "attachment"], "--number"),
        (
            vec!["--stamp", "person", "--signature-image", &signature_arg],
            "visible rectangle",
        ),
        (
            vec!["--stamp", "person", "--visible", &place],
            "handwritten-signature image",
        ),
        (
            vec!["--stamp", "copy", "--copy-form", "photocopy"],
            "sao-y, sao-luc or trich-sao",
        ),
        (vec!["--number", "1/QĐ"], "--stamp"),
    ] {
        let out = sign(&input, &never, &extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
        assert!(
            text(&out).contains(said),
            "{extra:?}: {said:?} in {}",
            text(&out)
        );
        assert!(!never.exists());
    }
    let copy = dir.path().join("copy.pdf");
    let out = sign(
        &input,
        &copy,
        &["--stamp", "copy", "--copy-form", "trich-sao"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let extracted = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-f", "1", "-l", "1"])
        .arg(&copy)
        .arg("-"));
    // The copying agency defaults to the certificate's OU.
    assert!(
        extracted.contains("TRÍCH SAO") && extracted.contains("Sở Tư pháp"),
        "{extracted}"
    );
}
