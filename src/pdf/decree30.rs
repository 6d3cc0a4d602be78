//! The layouts Decree 30/2020/NĐ-CP (Appendix I) gives a digital signature on an electronic
//! administrative document, and where each one goes on the page.
//!
//! What it owns: the four kinds of stamp ([`Stamp`]) — the competent person's, the agency's, the
//! agency's on an attachment sent as its own file, and the agency's on an electronic copy — what
//! each one shows, and the rectangle it takes ([`place`]):
//!
//! - **the person's signature** (Appendix I, Part I, II.7): the image of the person's handwritten
//!   signature, blue, a PNG on a transparent background, centred between the signer's title and
//!   name. The caller gives the space between those two lines; the widget becomes the image's
//!   own box inside it, so that the agency's seal can later be placed against it.
//! - **the agency's signature** (Appendix I, Part I, II.8; Art. 33(1)(b) for the paper seal):
//!   the image of the agency's seal, red, at the seal's real size, a PNG on a transparent
//!   background, over about the left third of the person's signature image. The real size comes
//!   from the PNG's resolution (`pHYs`) or is given in millimetres; the person's image is the
//!   latest visible signature of the document, unless the caller names its box.
//! - **attachments and copies** (Appendix I, Part I, II.8 for an attachment that is a file of its
//!   own; Part II for electronic copies): the agency signs at the top right of the first page with
//!   no image; the information is the document's number and symbol (an attachment) or the form of
//!   copy and the copying agency (a copy), then the signing time — day month year, hour minute
//!   second and Vietnam's zone as ISO 8601 writes it — in Times New Roman, lower case, upright,
//!   10 pt, black. The font is the configured one; [`font_path`] prefers Times New Roman where it
//!   is installed and falls back to its metric twin Liberation Serif.
//!
//! What it refuses: a person's stamp without a signature image, an agency's stamp without a seal
//! image or without a real size, an agency's stamp with no person's signature to lean on and no
//! box given, and text the font cannot show. It does not judge whether the right person or agency
//! signs: that is the certificate's business, and `verify::decree30`'s.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::Error as PdfError;
use super::appearance::{Appearance, Rect};
use super::document::Document;
use super::font::{self, Font};
use super::image::PngImage;
use super::object::Object;
use super::signatures::{SignatureKind, find_signatures};

/// The size of the information text on attachments and copies, in points (Appendix I: "cỡ chữ
/// 10").
pub const TEXT_SIZE: f64 = 10.0;

/// Line spacing of that text: Liberation Serif's ascent plus descent is 1.107 em, so 1.2 keeps
/// diacritics clear of the line above.
const LEADING: f64 = 1.2;

/// Distance from the page's right edge to the text's right end: the smallest right margin the
/// Appendix allows (Part I, I.3: 15–20 mm), so the text ends where the body text may end.
const RIGHT_INSET_MM: f64 = 15.0;

/// Distance from the page's top edge to the top of the text: inside the top margin (Part I, I.3:
/// 20–25 mm), so that two or three lines end above the national motto, which starts at the margin.
const TOP_INSET_MM: f64 = 6.0;

/// Where Times New Roman is installed on Debian (`ttf-mscorefonts-installer`) and similar
/// systems; the first that exists is used for a Decree 30 stamp when no font is configured.
pub const TIMES_NEW_ROMAN: &[&str] = &[
    "/usr/share/fonts/truetype/msttcorefonts/Times_New_Roman.ttf",
    "/usr/share/fonts/truetype/msttcorefonts/times.ttf",
    "/usr/share/fonts/TTF/times.ttf",
];

/// What a Decree 30 stamp is, and what it shows beyond the images.
#[derive(Clone, Debug, PartialEq)]
pub enum Stamp {
    /// The competent person's signature: the handwritten-signature image alone.
    Person,
    /// The agency's signature over the person's: the seal image alone, at real size.
    Agency {
        /// The seal's real width in millimetres when the PNG does not say it (`pHYs`).
        seal_width_mm: Option<f64>,
    },
    /// The agency's signature on an attachment sent as a file of its own: the main document's
    /// number and symbol (`12/QĐ-UBND`) and the time.
    Attachment { number: String },
    /// The agency's signature on an electronic copy: the form of copy, the copying agency and
    /// the time.
    Copy { form: CopyForm, agency: String },
}

/// The forms of copy (Decree 30/2020/NĐ-CP Art. 25 and Appendix I, Part II).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyForm {
    /// "SAO Y": a full copy of the original or the master.
    SaoY,
    /// "SAO LỤC": a full copy of a copy ("sao y").
    SaoLuc,
    /// "TRÍCH SAO": a copy of part of the document.
    TrichSao,
}

impl CopyForm {
    /// The words written on the copy.
    pub fn label(self) -> &'static str {
        match self {
            CopyForm::SaoY => "SAO Y",
            CopyForm::SaoLuc => "SAO LỤC",
            CopyForm::TrichSao => "TRÍCH SAO",
        }
    }

    /// From `sao-y`, `sao-luc`, `trich-sao` (the command line's and the API's words) or the
    /// label itself.
    pub fn parse(text: &str) -> Option<CopyForm> {
        match text.trim().to_lowercase().as_str() {
            "sao-y" | "sao y" => Some(CopyForm::SaoY),
            "sao-luc" | "sao lục" => Some(CopyForm::SaoLuc),
            "trich-sao" | "trích sao" => Some(CopyForm::TrichSao),
            _ => None,
        }
    }
}

/// Why a Decree 30 stamp could not be placed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "a person's signature (Decree 30) shows the handwritten-signature image: give one (blue, transparent PNG)"
    )]
    NoSignatureImage,
    #[error(
        "a person's signature (Decree 30) goes between the signer's title and name: give that space as the visible rectangle"
    )]
    NoPlace,
    #[error(
        "an agency's signature (Decree 30) shows the seal image: give one (red, transparent PNG)"
    )]
    NoSealImage,
    #[error(
        "the seal image does not say its real size (no pHYs resolution in the PNG): give the seal's width in millimetres"
    )]
    SealSizeUnknown,
    #[error("seal width {0} mm is not a size a seal has (expected 10 to 100 mm)")]
    SealSize(f64),
    #[error(
        "the document has no visible signature for the seal to cover: the agency signs after the person (Decree 30 Art. 32), or give the person's signature box"
    )]
    NoPersonSignature,
    #[error("{what} (Decree 30) must not be empty")]
    EmptyText { what: &'static str },
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Font(#[from] font::Error),
}

/// The font file for a Decree 30 stamp: the configured one if it is not kyso's default, else
/// Times New Roman where installed, else the default (Liberation Serif, metric-compatible).
pub fn font_path(configured: &Path) -> PathBuf {
    if configured != Path::new(font::DEFAULT_FONT) {
        return configured.to_owned();
    }
    TIMES_NEW_ROMAN
        .iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .map_or_else(|| configured.to_owned(), Path::to_owned)
}

/// The page (from 0) and rectangle of `stamp` on `pdf`, signed at `at`.
///
/// `given` is the caller's page and rectangle: for a person, the space between title and name
/// (required); for an agency, the person's signature image to cover (default: the document's
/// latest visible signature); for attachments and copies it is not used, since the Appendix
/// fixes their place.
pub fn place(
    pdf: &[u8],
    stamp: &Stamp,
    appearance: &Appearance,
    given: Option<(usize, Rect)>,
    at: OffsetDateTime,
) -> Result<(usize, Rect), Error> {
    match stamp {
        Stamp::Person => {
            let image = appearance
                .signature_image
                .as_ref()
                .ok_or(Error::NoSignatureImage)?;
            let (page, space) = given.ok_or(Error::NoPlace)?;
            Ok((page, fit(image, space)))
        }
        Stamp::Agency { seal_width_mm } => {
            let seal = appearance.seal_image.as_ref().ok_or(Error::NoSealImage)?;
            let (width, height) = seal_size(seal, *seal_width_mm)?;
            let (page, person) = match given {
                Some(given) => given,
                None => latest_visible_signature(&Document::parse(pdf)?)?
                    .ok_or(Error::NoPersonSignature)?,
            };
            // The seal's right edge at a third of the signature image from its left, centred on
            // it vertically: it covers about the left third (Appendix I, Part I, II.8(b)).
            let rect = Rect {
                x: person.x + person.width / 3.0 - width,
                y: person.y + person.height / 2.0 - height / 2.0,
                width,
                height,
            };
            Ok((page, rect))
        }
        Stamp::Attachment { .. } | Stamp::Copy { .. } => {
            let lines = text_lines(stamp, at)?;
            let font = &appearance.font;
            let mut text_width: f64 = 0.0;
            for line in &lines {
                text_width = text_width.max(font.width(line, TEXT_SIZE)?);
            }
            let doc = Document::parse(pdf)?;
            let pages = doc.pages()?;
            let first = *pages
                .first()
                .ok_or_else(|| PdfError::Structure("the document has no page".into()))?;
            let page_box = super::sign::page_box(&doc, first, 0)?;
            let (ascent, descent) = (font.ascent() / 1000.0, font.descent() / 1000.0);
            let height =
                (lines.len() as f64 - 1.0) * TEXT_SIZE * LEADING + (ascent - descent) * TEXT_SIZE;
            let right = page_box[2] - millimetres(RIGHT_INSET_MM);
            let top = page_box[3] - millimetres(TOP_INSET_MM);
            // A point of room on each side, so that no glyph touches the widget's edge.
            let rect = Rect::new(
                right - text_width - 2.0,
                top - height - 2.0,
                text_width + 2.0,
                height + 2.0,
            )
            .map_err(|_| PdfError::Structure("the first page is too small".into()))?;
            Ok((0, rect))
        }
    }
}

/// The lines of text `stamp` shows, signed at `at`: none for the person's and the agency's
/// (their images say it), the number or the form of copy and agency, then the time, for the
/// others.
pub fn text_lines(stamp: &Stamp, at: OffsetDateTime) -> Result<Vec<String>, Error> {
    let one_line = |text: &str, what: &'static str| {
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            Err(Error::EmptyText { what })
        } else {
            Ok(line)
        }
    };
    Ok(match stamp {
        Stamp::Person | Stamp::Agency { .. } => Vec::new(),
        Stamp::Attachment { number } => {
            vec![one_line(number, "the number and symbol")?, format_time(at)]
        }
        Stamp::Copy { form, agency } => vec![
            form.label().to_owned(),
            one_line(agency, "the copying agency")?,
            format_time(at),
        ],
    })
}

/// The signing time as the Appendix asks for it: day month year, hour minute second, and
/// Vietnam's time zone as ISO 8601 writes it — `05/03/2025 14:04:09 +07:00`.
pub fn format_time(at: OffsetDateTime) -> String {
    format!("{} +07:00", crate::pdf::appearance::format_signing_time(at))
}

/// The seal's drawn size in points: its real size, from the PNG's resolution or the width given.
fn seal_size(seal: &PngImage, width_mm: Option<f64>) -> Result<(f64, f64), Error> {
    let aspect = f64::from(seal.height()) / f64::from(seal.width());
    match width_mm {
        Some(mm) if !(10.0..=100.0).contains(&mm) => Err(Error::SealSize(mm)),
        Some(mm) => Ok((millimetres(mm), millimetres(mm) * aspect)),
        None => seal.physical_size().ok_or(Error::SealSizeUnknown),
    }
}

/// The page and widget rectangle of the document's last visible signature (in file order, the
/// latest one a signer added).
fn latest_visible_signature(doc: &Document<'_>) -> Result<Option<(usize, Rect)>, PdfError> {
    let pages = doc.pages()?;
    let mut latest = None;
    for found in find_signatures(doc)? {
        if found.kind != SignatureKind::Signature {
            continue;
        }
        for field in &found.fields {
            let widget = doc.dictionary(*field)?;
            let Some([x0, y0, x1, y1]) = widget.get(b"Rect").and_then(Object::as_rectangle) else {
                continue;
            };
            let page = widget
                .reference(b"P")
                .and_then(|p| pages.iter().position(|id| *id == p));
            let (llx, lly) = (x0.min(x1), y0.min(y1));
            if let (Some(page), Ok(rect)) =
                (page, Rect::new(llx, lly, (x1 - x0).abs(), (y1 - y0).abs()))
            {
                latest = Some((page, rect));
            }
        }
    }
    Ok(latest)
}

/// `image` scaled to fit `space`, centred, aspect kept.
fn fit(image: &PngImage, space: Rect) -> Rect {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let scale = (space.width / w).min(space.height / h);
    let (width, height) = (w * scale, h * scale);
    Rect {
        x: space.x + (space.width - width) / 2.0,
        y: space.y + (space.height - height) / 2.0,
        width,
        height,
    }
}

fn millimetres(mm: f64) -> f64 {
    mm / 25.4 * 72.0
}

/// What a Decree 30 stamp draws in its `width`×`height` box: the one image filling it, or the
/// lines right-aligned at [`TEXT_SIZE`]. No frame: the Appendix shows the image or the text alone.
pub(super) fn layout<'a>(
    stamp: &Stamp,
    appearance: &'a Appearance,
    width: f64,
    height: f64,
    at: OffsetDateTime,
) -> Result<super::appearance::Layout<'a>, font::Error> {
    let whole = Rect {
        x: 0.0,
        y: 0.0,
        width,
        height,
    };
    let mut images = Vec::new();
    match stamp {
        Stamp::Person => {
            if let Some(image) = &appearance.signature_image {
                images.push(("Im1", image, fit(image, whole)));
            }
        }
        Stamp::Agency { .. } => {
            if let Some(image) = &appearance.seal_image {
                images.push(("Im2", image, fit(image, whole)));
            }
        }
        Stamp::Attachment { .. } | Stamp::Copy { .. } => {}
    }
    // The texts were checked when the stamp was placed; an empty one here shows nothing.
    let lines = text_lines(stamp, at).unwrap_or_default();
    let font: &Font = &appearance.font;
    let ascent = font.ascent() / 1000.0;
    let top = height - 1.0;
    let mut placed = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let x = width - 1.0 - font.width(&line, TEXT_SIZE)?;
        let y = top - ascent * TEXT_SIZE - i as f64 * TEXT_SIZE * LEADING;
        placed.push((line, x, y));
    }
    Ok(super::appearance::Layout {
        font_size: TEXT_SIZE,
        lines: placed,
        images,
        frame: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    fn at() -> OffsetDateTime {
        // 2025-03-05 07:04:09 UTC = 14:04:09 in Vietnam.
        OffsetDateTime::from_unix_timestamp(1_741_158_249).unwrap()
    }

    fn appearance() -> Appearance {
        let font = Font::load(Path::new(font::DEFAULT_FONT)).expect("fonts-liberation2");
        Appearance::new(Arc::new(font), "UBND xã Tân Lập", None)
    }

    #[test]
    fn the_time_is_written_as_the_appendix_asks() {
        assert_eq!(format_time(at()), "05/03/2025 14:04:09 +07:00");
    }

    #[test]
    fn copies_and_attachments_say_what_they_are() {
        let copy = Stamp::Copy {
            form: CopyForm::TrichSao,
            agency: " Văn phòng\nUBND tỉnh ".to_owned(),
        };
        assert_eq!(
            text_lines(&copy, at()).unwrap(),
            [
                "TRÍCH SAO",
                "Văn phòng UBND tỉnh",
                "05/03/2025 14:04:09 +07:00"
            ]
        );
        let attachment = Stamp::Attachment {
            number: "12/QĐ-UBND".to_owned(),
        };
        assert_eq!(text_lines(&attachment, at()).unwrap()[0], "12/QĐ-UBND");
        let empty = Stamp::Attachment {
            number: " ".to_owned(),
        };
        assert!(matches!(
            text_lines(&empty, at()),
            Err(Error::EmptyText { .. })
        ));
        assert_eq!(CopyForm::parse("sao-luc"), Some(CopyForm::SaoLuc));
        assert_eq!(CopyForm::parse("SAO Y"), Some(CopyForm::SaoY));
        assert_eq!(CopyForm::parse("copy"), None);
    }

    #[test]
    fn each_stamp_refuses_what_it_lacks() {
        let pdf = crate::pdf::sample::sample_pdf(&Default::default());
        let bare = appearance();
        let space = Some((0, Rect::new(300.0, 200.0, 150.0, 60.0).unwrap()));
        assert!(matches!(
            place(&pdf, &Stamp::Person, &bare, space, at()),
            Err(Error::NoSignatureImage)
        ));
        let agency = Stamp::Agency {
            seal_width_mm: None,
        };
        assert!(matches!(
            place(&pdf, &agency, &bare, None, at()),
            Err(Error::NoSealImage)
        ));
        let mut sealed = appearance();
        sealed.seal_image = Some(PngImage::decode(&crate::pdf::sample::seal_png(100)).unwrap());
        assert!(matches!(
            place(&pdf, &agency, &sealed, None, at()),
            Err(Error::SealSizeUnknown)
        ));
        let sized = Stamp::Agency {
            seal_width_mm: Some(36.0),
        };
        assert!(matches!(
            place(&pdf, &sized, &sealed, None, at()),
            Err(Error::NoPersonSignature)
        ));
        let (page, seal) = place(&pdf, &sized, &sealed, space, at()).unwrap();
        assert_eq!(page, 0);
        assert!((seal.width - 36.0 / 25.4 * 72.0).abs() < 1e-9);
        assert!((seal.x + seal.width - 350.0).abs() < 1e-9, "{seal:?}");
        let odd = Stamp::Agency {
            seal_width_mm: Some(500.0),
        };
        assert!(matches!(
            place(&pdf, &odd, &sealed, space, at()),
            Err(Error::SealSize(_))
        ));
    }

    #[test]
    fn attachments_sit_at_the_top_right_of_the_first_page() {
        let pdf = crate::pdf::sample::sample_pdf(&crate::pdf::sample::SampleOptions {
            pages: 2,
            ..Default::default()
        });
        let stamp = Stamp::Attachment {
            number: "12/QĐ-UBND".to_owned(),
        };
        let (page, rect) = place(&pdf, &stamp, &appearance(), None, at()).unwrap();
        assert_eq!(page, 0);
        // The sample's page is 595×842 pt.
        assert!((rect.x + rect.width - (595.0 - millimetres(15.0))).abs() < 1e-9);
        assert!((rect.y + rect.height - (842.0 - millimetres(6.0))).abs() < 1e-9);
        assert!(rect.y > 842.0 - millimetres(20.0), "above the top margin");
    }
}
