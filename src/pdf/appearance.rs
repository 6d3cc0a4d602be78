//! The visible appearance of a signature: what a clerk sees on the page where the document was
//! signed (ISO 32000-2 §12.5.5 appearance streams, §12.7.5.5 signature fields, §8.10 form
//! XObjects).
//!
//! What it owns: laying out the stamp — signer, unit and signing time under Vietnamese labels,
//! with the handwritten-signature and seal images to their left as Decree 30/2020/NĐ-CP places
//! them (the seal over the left third of the signature) — choosing the largest font size at
//! which the text fits, wrapping lines that would not, and writing the form XObject that becomes
//! the widget's `/AP /N`. Text goes through [`font`](super::font) (an embedded subset, so
//! diacritics render and extract exactly); images through [`image`](super::image).
//!
//! What it refuses: a rectangle too small to hold the text at [`MIN_FONT_SIZE`] (a stamp nobody
//! can read says nothing), and characters the font cannot show. The appearance is a picture of
//! claims: the certificate, not this stamp, is the authority on who signed.

use std::fmt::Write as _;
use std::sync::Arc;

use time::OffsetDateTime;

use super::font::{self, Font};
use super::image::PngImage;
use super::incremental::IncrementalUpdate;
use super::object::{Dictionary, Object, ObjectId};
use crate::pdf_dict;

/// Largest font size used, in points: the 10 pt that Decree 30/2020/NĐ-CP (Appendix I) sets for
/// the information shown with a digital signature's image.
pub const MAX_FONT_SIZE: f64 = 10.0;

/// Smallest font size used, in points: about the smallest print that stays legible on paper.
pub const MIN_FONT_SIZE: f64 = 5.0;

/// Below this size a long line is wrapped rather than shrunk further: 7 pt is still easy to read,
/// and two lines at 7 pt read better than one at 5.
const UNWRAPPED_FLOOR: f64 = 7.0;

/// Height of the signature image relative to the seal's: a handwritten signature is a line of
/// writing, a seal a disc several lines high.
const SIGNATURE_HEIGHT: f64 = 0.7;

/// Line spacing as a multiple of the font size; Liberation Serif's ascent plus descent is
/// 1.107 em, so 1.2 keeps the diacritics of one line clear of the descenders of the line above.
const LEADING: f64 = 1.2;

/// Text colour (DeviceRGB): black, as Decree 30/2020/NĐ-CP sets for the signature information;
/// the colour of a stamp comes from its images (blue signature, red seal).
const INK: (f64, f64, f64) = (0.0, 0.0, 0.0);

/// Frame colour: a quiet grey that groups the stamp without competing with the seal.
const FRAME: (f64, f64, f64) = (0.45, 0.45, 0.45);

/// Why the appearance could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Font(#[from] font::Error),
    #[error(
        "invalid signature rectangle: x {x}, y {y}, width {width}, height {height} (width and height must be positive)"
    )]
    InvalidRectangle {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
    #[error(
        "the signature rectangle is too small: {width:.1}×{height:.1} pt cannot hold the signature text at {MIN_FONT_SIZE} pt"
    )]
    TooSmall { width: f64, height: f64 },
}

/// A rectangle in the page's default user space (points, origin at the bottom left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    /// A rectangle with a finite origin and a positive, finite size.
    pub fn new(x: f64, y: f64, width: f64, height: f64) -> Result<Rect, Error> {
        let ok = [x, y, width, height].iter().all(|v| v.is_finite()) && width > 0.0 && height > 0.0;
        if !ok {
            return Err(Error::InvalidRectangle {
                x,
                y,
                width,
                height,
            });
        }
        Ok(Rect {
            x,
            y,
            width,
            height,
        })
    }

    /// `[llx lly urx ury]`, the form of `/Rect` and page boxes.
    pub fn corners(&self) -> [f64; 4] {
        [self.x, self.y, self.x + self.width, self.y + self.height]
    }
}

/// A visible signature: where on the page (`SignatureOptions::page`) and what it shows.
#[derive(Clone, Debug)]
pub struct VisibleSignature {
    pub rect: Rect,
    pub appearance: Appearance,
}

/// What the stamp shows. The signing time comes from the signature's own `/M`, so the stamp and
/// the signature dictionary cannot disagree.
#[derive(Clone, Debug)]
pub struct Appearance {
    /// Shown after "Ký bởi:" — usually the certificate's common name.
    pub signer: String,
    /// Shown after "Cơ quan:" — usually the certificate's organisational unit or organisation.
    pub unit: Option<String>,
    /// The handwritten signature (blue on transparent, per Decree 30/2020/NĐ-CP).
    pub signature_image: Option<PngImage>,
    /// The unit's seal (red on transparent), drawn over the left third of the signature.
    pub seal_image: Option<PngImage>,
    /// The font the text is set in; shared, since a service loads it once.
    pub font: Arc<Font>,
    /// How the stamp is laid out: kyso's labelled box, or one of Decree 30's layouts.
    pub style: Style,
}

/// How a stamp is laid out.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Style {
    /// A framed box: the images on the left, "Ký bởi", "Cơ quan" and "Thời gian ký" on the right.
    #[default]
    Labelled,
    /// One of the layouts of Decree 30/2020/NĐ-CP, Appendix I ([`decree30`](super::decree30)).
    Decree30(super::decree30::Stamp),
}

impl Appearance {
    /// A text-only appearance.
    pub fn new(font: Arc<Font>, signer: impl Into<String>, unit: Option<String>) -> Self {
        Appearance {
            signer: signer.into(),
            unit,
            signature_image: None,
            seal_image: None,
            font,
            style: Style::Labelled,
        }
    }

    /// The logical lines of text, labelled, before wrapping.
    pub fn lines(&self, signing_time: OffsetDateTime) -> Vec<String> {
        let mut lines = vec![format!("Ký bởi: {}", one_line(&self.signer))];
        if let Some(unit) = self.unit.as_deref().map(one_line).filter(|u| !u.is_empty()) {
            lines.push(format!("Cơ quan: {unit}"));
        }
        lines.push(format!(
            "Thời gian ký: {}",
            format_signing_time(signing_time)
        ));
        lines
    }
}

/// `text` with every run of white space or control characters made one space: names from
/// certificates and forms may carry line breaks or tabs, which have no glyph and no place in a
/// one-line fact.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `dd/MM/yyyy HH:mm:ss` in Vietnam's time (UTC+7), as Vietnamese documents write dates.
pub fn format_signing_time(at: OffsetDateTime) -> String {
    let local = at.to_offset(crate::VIETNAM);
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        local.day(),
        u8::from(local.month()),
        local.year(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// Quarter turns the page is shown rotated by (`/Rotate`, clockwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageRotation {
    None,
    Quarter,
    Half,
    ThreeQuarters,
}

impl PageRotation {
    /// From a `/Rotate` value, which must be a multiple of 90 (§7.7.3.3, Table 31).
    pub(crate) fn from_degrees(degrees: i64) -> Self {
        match degrees.rem_euclid(360) {
            90 => PageRotation::Quarter,
            180 => PageRotation::Half,
            270 => PageRotation::ThreeQuarters,
            _ => PageRotation::None,
        }
    }
}

/// Writes the appearance for a widget of `rect` on a page shown with `rotation` into `update`:
/// fonts, images and the form XObject. Returns the form XObject's reference.
pub(crate) fn write(
    appearance: &Appearance,
    rect: Rect,
    rotation: PageRotation,
    signing_time: OffsetDateTime,
    update: &mut IncrementalUpdate<'_, '_>,
) -> Result<ObjectId, Error> {
    // The stamp is drawn upright as the reader sees it: on a page turned a quarter, its width
    // runs along the rectangle's height. The form's /Matrix turns it back into page space, and
    // Algorithm 8.1 (§12.5.5) maps the turned bounding box onto /Rect.
    let (width, height, matrix) = match rotation {
        PageRotation::None => (rect.width, rect.height, None),
        PageRotation::Quarter => (rect.height, rect.width, Some([0, 1, -1, 0])),
        PageRotation::Half => (rect.width, rect.height, Some([-1, 0, 0, -1])),
        PageRotation::ThreeQuarters => (rect.height, rect.width, Some([0, -1, 1, 0])),
    };
    let layout = match &appearance.style {
        Style::Labelled => Layout::new(appearance, width, height, signing_time)?,
        Style::Decree30(stamp) => {
            super::decree30::layout(stamp, appearance, width, height, signing_time)?
        }
    };

    let mut encoder = appearance.font.encoder();
    let mut content = String::new();
    if layout.frame {
        // A hairline frame, inset by half its width so that it is not clipped by the bounding
        // box.
        let (r, g, b) = FRAME;
        let _ = writeln!(
            content,
            "q {r} {g} {b} RG 0.6 w 0.3 0.3 {} {} re S Q",
            num(width - 0.6),
            num(height - 0.6)
        );
    }
    let mut xobjects = Dictionary::new();
    for (name, image, place) in &layout.images {
        let id = image.write(update);
        xobjects.set(name.as_bytes(), id);
        let _ = writeln!(
            content,
            "q {} 0 0 {} {} {} cm /{name} Do Q",
            num(place.width),
            num(place.height),
            num(place.x),
            num(place.y)
        );
    }
    let (r, g, b) = INK;
    let _ = writeln!(
        content,
        "BT /F1 {} Tf {r} {g} {b} rg",
        num(layout.font_size)
    );
    for (line, x, y) in &layout.lines {
        let cids = encoder.encode(line)?;
        let _ = writeln!(
            content,
            "1 0 0 1 {} {} Tm <{}> Tj",
            num(*x),
            num(*y),
            hex::encode_upper(cids)
        );
    }
    content.push_str("ET\n");

    let font_id = encoder.finish()?.write(update);
    let mut resources = pdf_dict! {
        b"Font" => pdf_dict! { b"F1" => font_id },
    };
    if !xobjects.is_empty() {
        resources.set(b"XObject", xobjects);
    }
    let mut dict = pdf_dict! {
        b"Type" => Object::name(b"XObject"),
        b"Subtype" => Object::name(b"Form"),
        b"BBox" => Object::Array(vec![
            0i64.into(),
            0i64.into(),
            Object::Real(width),
            Object::Real(height),
        ]),
        b"Resources" => resources,
    };
    if let Some(m) = matrix {
        let mut entries: Vec<Object> = m.iter().map(|v| Object::Integer(*v)).collect();
        entries.extend([Object::Integer(0), Object::Integer(0)]);
        dict.set(b"Matrix", Object::Array(entries));
    }
    let id = update.allocate();
    update.put(id, font::flate_stream(dict, content.as_bytes()));
    Ok(id)
}

/// Where everything goes in a `width`×`height` stamp.
pub(super) struct Layout<'a> {
    pub(super) font_size: f64,
    /// Physical lines with their baseline origin.
    pub(super) lines: Vec<(String, f64, f64)>,
    /// Resource name, image and placement, in drawing order.
    pub(super) images: Vec<(&'static str, &'a PngImage, Rect)>,
    /// Whether a hairline frame is drawn round the stamp.
    pub(super) frame: bool,
}

impl<'a> Layout<'a> {
    fn new(
        appearance: &'a Appearance,
        width: f64,
        height: f64,
        signing_time: OffsetDateTime,
    ) -> Result<Layout<'a>, Error> {
        let too_small = Error::TooSmall { width, height };
        // A margin that grows with the stamp but stays a margin.
        let pad = (width.min(height) * 0.05).clamp(1.0, 6.0);
        let inner_width = width - 2.0 * pad;
        let inner_height = height - 2.0 * pad;
        if inner_width <= 0.0 || inner_height <= 0.0 {
            return Err(too_small);
        }

        // Images on the left, `side` high: the seal in a square, the signature at 70% of that
        // height in a box of its own proportions, its left third under the seal's right edge
        // (Decree 30/2020/NĐ-CP: the seal covers about a third of the signature, on its left).
        let logical = appearance.lines(signing_time);
        let font = &appearance.font;
        let mut images = Vec::new();
        let mut text_x = pad;
        let signature_ratio = appearance
            .signature_image
            .as_ref()
            // Clamped: a sliver-thin or very tall image would crowd out the text or vanish.
            .map(|i| (f64::from(i.width()) / f64::from(i.height())).clamp(0.5, 4.0));
        let seal = appearance.seal_image.is_some();
        let span = match (signature_ratio, seal) {
            (Some(ratio), true) => Some(1.0 + 2.0 / 3.0 * SIGNATURE_HEIGHT * ratio),
            (Some(ratio), false) => Some(SIGNATURE_HEIGHT * ratio),
            (None, true) => Some(1.0),
            (None, false) => None,
        };
        if let Some(span) = span {
            // The text carries the facts, so it gets the width it needs at full size; the
            // images get the rest, but never less than a third nor more than half.
            let mut text_needed: f64 = 0.0;
            for line in &logical {
                text_needed = text_needed.max(font.width(line, MAX_FONT_SIZE)?);
            }
            let room =
                (inner_width - pad - text_needed).clamp(inner_width / 3.0, inner_width / 2.0);
            let side = inner_height.min(room / span);
            let y = pad + (inner_height - side) / 2.0;
            if let (Some(signature), Some(ratio)) = (&appearance.signature_image, signature_ratio) {
                let (w, h) = (side * SIGNATURE_HEIGHT * ratio, side * SIGNATURE_HEIGHT);
                let x = if seal { pad + side - w / 3.0 } else { pad };
                images.push((
                    "Im1",
                    signature,
                    fit(signature, x, y + (side - h) / 2.0, w, h),
                ));
            }
            if let Some(image) = &appearance.seal_image {
                images.push(("Im2", image, fit(image, pad, y, side, side)));
            }
            text_x = pad + side * span + pad;
        }
        let text_width = width - pad - text_x;
        if text_width <= 0.0 {
            return Err(too_small);
        }

        let ascent = font.ascent() / 1000.0;
        let descent = font.descent() / 1000.0;
        // Shrinking keeps each fact on one line, which reads (and extracts) best; only when a
        // line would fall below `UNWRAPPED_FLOOR` is it wrapped instead. Each pass goes from the
        // largest size down in quarter points and takes the first size at which the text fits.
        for (wrapping, floor) in [(false, UNWRAPPED_FLOOR), (true, MIN_FONT_SIZE)] {
            let mut size = MAX_FONT_SIZE;
            while size >= floor {
                let mut physical = Vec::new();
                let mut too_wide = false;
                for line in &logical {
                    if wrapping {
                        physical.extend(wrap(font, line, size, text_width)?);
                    } else {
                        too_wide |= font.width(line, size)? > text_width;
                        physical.push(line.clone());
                    }
                }
                let leading = size * LEADING;
                let block = (physical.len() as f64 - 1.0) * leading + (ascent - descent) * size;
                if !too_wide && block <= inner_height {
                    // Vertically centred in the inner box.
                    let top = pad + inner_height - (inner_height - block) / 2.0;
                    let lines = physical
                        .into_iter()
                        .enumerate()
                        .map(|(i, line)| (line, text_x, top - ascent * size - i as f64 * leading))
                        .collect();
                    return Ok(Layout {
                        font_size: size,
                        lines,
                        images,
                        frame: true,
                    });
                }
                size -= 0.25;
            }
        }
        Err(too_small)
    }
}

/// `image` scaled to fit a `box_width`×`box_height` box at (`x`, `y`), centred, aspect kept.
fn fit(image: &PngImage, x: f64, y: f64, box_width: f64, box_height: f64) -> Rect {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let scale = (box_width / w).min(box_height / h);
    let (width, height) = (w * scale, h * scale);
    Rect {
        x: x + (box_width - width) / 2.0,
        y: y + (box_height - height) / 2.0,
        width,
        height,
    }
}

/// Greedy word wrap of `line` at `size` into `width`; a word wider than the line is broken
/// between characters (long unit names in narrow stamps).
fn wrap(font: &Font, line: &str, size: f64, width: f64) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if font.width(&candidate, size)? <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        // The word alone: broken by characters if it is still too wide.
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if font.width(&next, size)? > width && !current.is_empty() {
                out.push(std::mem::replace(&mut current, c.to_string()));
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// A number for a content stream: fixed point, at most three decimals (a thousandth of a point
/// is far below any device's resolution), no exponent.
fn num(v: f64) -> String {
    let mut s = format!("{v:.3}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" { "0".to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::Path;

    fn font() -> Arc<Font> {
        Arc::new(Font::load(Path::new(font::DEFAULT_FONT)).expect("fonts-liberation2 is installed"))
    }

    fn at() -> OffsetDateTime {
        // 2025-03-05 07:04:09 UTC = 14:04:09 in Vietnam.
        OffsetDateTime::from_unix_timestamp(1_741_158_249).unwrap()
    }

    #[test]
    fn signing_time_is_written_in_vietnam_time() {
        assert_eq!(format_signing_time(at()), "05/03/2025 14:04:09");
        // 20:00 UTC on 31 December is already the next year in Hà Nội.
        let new_year = OffsetDateTime::from_unix_timestamp(1_735_675_200).unwrap();
        assert_eq!(format_signing_time(new_year), "01/01/2025 03:00:00");
    }

    #[test]
    fn text_shrinks_then_wraps_to_fit() {
        let appearance = Appearance::new(
            font(),
            "Nguyễn Thị Hồng Nhung",
            Some("UBND xã Tân Lập".to_owned()),
        );
        let roomy = Layout::new(&appearance, 260.0, 80.0, at()).unwrap();
        assert_eq!(roomy.lines.len(), 3);
        assert_eq!(roomy.font_size, MAX_FONT_SIZE);
        assert_eq!(roomy.lines[0].0, "Ký bởi: Nguyễn Thị Hồng Nhung");

        let narrow = Layout::new(&appearance, 90.0, 80.0, at()).unwrap();
        assert!(narrow.lines.len() > 3, "{:?}", narrow.lines);
        for (line, x, _) in &narrow.lines {
            let w = appearance.font.width(line, narrow.font_size).unwrap();
            assert!(x + w <= 90.0, "{line} overflows");
        }
        // Baselines go down the stamp, inside it.
        for pair in narrow.lines.windows(2) {
            assert!(pair[1].2 < pair[0].2);
        }
        assert!(narrow.lines.last().unwrap().2 > 0.0);

        let err = Layout::new(&appearance, 40.0, 10.0, at()).err().unwrap();
        assert!(matches!(err, Error::TooSmall { .. }), "{err}");
    }

    #[test]
    fn images_sit_left_of_the_text_seal_over_the_signature() {
        let png = crate::pdf::sample::seal_png(64);
        let image = PngImage::decode(&png).unwrap();
        let mut appearance = Appearance::new(font(), "Trần Văn Bình", None);
        appearance.signature_image = Some(image.clone());
        appearance.seal_image = Some(image);
        let layout = Layout::new(&appearance, 300.0, 90.0, at()).unwrap();
        let (sig, seal) = (layout.images[0].2, layout.images[1].2);
        assert_eq!(layout.images[1].0, "Im2", "the seal is drawn last, on top");
        assert!(seal.x < sig.x && sig.x < seal.x + seal.width);
        let text_x = layout.lines[0].1;
        assert!(
            text_x >= sig.x + sig.width,
            "text starts right of the images"
        );
    }

    #[test]
    fn names_are_set_on_one_line() {
        let appearance = Appearance::new(
            font(),
            "  Nguyễn\tThị\r\nHồng Nhung ",
            Some("\n".to_owned()),
        );
        assert_eq!(
            appearance.lines(at()),
            [
                "Ký bởi: Nguyễn Thị Hồng Nhung",
                "Thời gian ký: 05/03/2025 14:04:09"
            ]
        );
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(0.3333333), "0.333");
        assert_eq!(num(-0.0001), "0");
    }

    #[test]
    fn rectangles_must_have_a_size() {
        assert!(Rect::new(0.0, 0.0, 0.0, 10.0).is_err());
        assert!(Rect::new(0.0, 0.0, f64::NAN, 10.0).is_err());
        assert_eq!(
            Rect::new(1.0, 2.0, 3.0, 4.0).unwrap().corners(),
            [1.0, 2.0, 4.0, 6.0]
        );
    }
}
