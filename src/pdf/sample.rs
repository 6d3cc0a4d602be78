//! Sample documents for the demo, tests and benchmarks: small, valid, classic-xref PDFs with
//! text, optionally a form field and padding to a target size. Built with kyso's own writer so
//! that no binary fixture without a recipe enters the repository.
// Pixel arithmetic of generated images: every cast is of a value clamped to the image's size or
// to 0..=255 first.
#![allow(clippy::cast_possible_truncation)]

use super::object::{Dictionary, Object, ObjectId, Stream, write_object};
use crate::pdf_dict;

/// What the sample should contain.
#[derive(Clone, Debug)]
pub struct SampleOptions {
    /// Pages, each showing the lines (ASCII; Helvetica cannot show Vietnamese diacritics).
    pub pages: usize,
    pub lines: Vec<String>,
    /// Add an AcroForm with one text field on the first page.
    pub text_field: bool,
    /// Grow the file to about this many bytes with an incompressible image-like stream.
    pub pad_to: usize,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            pages: 1,
            lines: vec![
                "UY BAN NHAN DAN TINH THU NGHIEM".to_owned(),
                "SO TU PHAP - So: 123/STP-VP".to_owned(),
                "V/v trien khai chu ky so trong van ban dien tu".to_owned(),
            ],
            text_field: false,
            pad_to: 0,
        }
    }
}

/// Builds the sample PDF.
pub fn sample_pdf(options: &SampleOptions) -> Vec<u8> {
    let mut objects: Vec<(u32, Object)> = Vec::new();
    let pages_count = options.pages.max(1);
    // 1 catalog, 2 page tree, 3 font, then per page: page, content.
    let font = pdf_dict! {
        b"Type" => Object::name(b"Font"),
        b"Subtype" => Object::name(b"Type1"),
        b"BaseFont" => Object::name(b"Helvetica"),
        b"Encoding" => Object::name(b"WinAnsiEncoding"),
    };
    objects.push((3, font.into()));
    let mut kids = Vec::new();
    let mut next = 4u32;
    let mut first_page = None;
    for page_number in 0..pages_count {
        let page_id = next;
        let content_id = next + 1;
        next += 2;
        first_page.get_or_insert(page_id);
        let mut content = String::from("BT /F1 14 Tf 72 770 Td 18 TL\n");
        for line in &options.lines {
            content.push_str(&format!("({}) '\n", escape(line)));
        }
        content.push_str(&format!(
            "(Trang {} / {}) '\nET\n",
            page_number + 1,
            pages_count
        ));
        objects.push((
            content_id,
            Stream {
                dict: Dictionary::new(),
                data: content.into_bytes(),
            }
            .into(),
        ));
        let page = pdf_dict! {
            b"Type" => Object::name(b"Page"),
            b"Parent" => ObjectId::new(2, 0),
            b"MediaBox" => Object::Array(vec![0i64.into(), 0i64.into(), 595i64.into(), 842i64.into()]),
            b"Resources" => pdf_dict! { b"Font" => pdf_dict! { b"F1" => ObjectId::new(3, 0) } },
            b"Contents" => ObjectId::new(content_id, 0),
        };
        objects.push((page_id, page.into()));
        kids.push(Object::Reference(ObjectId::new(page_id, 0)));
    }
    objects.push((
        2,
        pdf_dict! {
            b"Type" => Object::name(b"Pages"),
            b"Kids" => Object::Array(kids),
            b"Count" => pages_count as i64,
        }
        .into(),
    ));
    let mut catalog = pdf_dict! {
        b"Type" => Object::name(b"Catalog"),
        b"Pages" => ObjectId::new(2, 0),
    };
    if options.text_field {
        let field_id = next;
        next += 1;
        let page = first_page.expect("BUG: at least one page");
        objects.push((
            field_id,
            pdf_dict! {
                b"Type" => Object::name(b"Annot"),
                b"Subtype" => Object::name(b"Widget"),
                b"FT" => Object::name(b"Tx"),
                b"T" => Object::literal(b"so_van_ban".to_vec()),
                b"Rect" => Object::Array(vec![72i64.into(), 600i64.into(), 300i64.into(), 620i64.into()]),
                b"P" => ObjectId::new(page, 0),
                b"F" => 4i64,
                b"DA" => Object::literal(b"/Helv 12 Tf 0 g".to_vec()),
            }
            .into(),
        ));
        if let Some((_, Object::Dictionary(page_dict))) =
            objects.iter_mut().find(|(n, _)| *n == page)
        {
            page_dict.set(
                b"Annots",
                Object::Array(vec![ObjectId::new(field_id, 0).into()]),
            );
        }
        catalog.set(
            b"AcroForm",
            pdf_dict! {
                b"Fields" => Object::Array(vec![ObjectId::new(field_id, 0).into()]),
                b"DA" => Object::literal(b"/Helv 12 Tf 0 g".to_vec()),
                b"DR" => pdf_dict! { b"Font" => pdf_dict! { b"Helv" => ObjectId::new(3, 0) } },
            },
        );
    }
    objects.push((1, catalog.into()));
    if options.pad_to > 0 {
        // A pseudo-random byte stream (xorshift): does not compress, so the file really grows.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..options.pad_to)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        objects.push((
            next,
            Stream {
                dict: Dictionary::new(),
                data,
            }
            .into(),
        ));
        next += 1;
    }
    objects.sort_by_key(|(n, _)| *n);

    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = vec![0usize; next as usize];
    for (n, object) in &objects {
        offsets[*n as usize] = out.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        write_object(&mut out, object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {next}\n0000000000 65535 f \n").as_bytes());
    for offset in &offsets[1..] {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    let trailer = pdf_dict! {
        b"Size" => i64::from(next),
        b"Root" => ObjectId::new(1, 0),
        b"ID" => Object::Array(vec![
            Object::String(b"kyso-sample-id-1".to_vec(), super::StringFormat::Hex),
            Object::String(b"kyso-sample-id-1".to_vec(), super::StringFormat::Hex),
        ]),
    };
    out.extend_from_slice(b"trailer\n");
    write_object(&mut out, &trailer.into());
    out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}

/// A round red seal on a transparent background, `size` pixels square — double outer ring, a
/// band of letter-like marks where a real seal carries the unit's name, an inner ring and a
/// star — anti-aliased, as a PNG with an alpha channel. Drawn by code so that tests and the demo need
/// no image file without a recipe.
pub fn seal_png(size: u32) -> Vec<u8> {
    seal_rgba(size, None)
}

/// [`seal_png`] whose file says its real size: `size` pixels across `diameter_mm` millimetres
/// (a `pHYs` chunk), as a seal image for a Decree 30 agency signature must be drawn real size.
pub fn seal_png_sized(size: u32, diameter_mm: f64) -> Vec<u8> {
    let size = size.max(8);
    let pixels_per_metre = (f64::from(size) / diameter_mm * 1000.0).round() as u32;
    seal_rgba(size, Some(pixels_per_metre))
}

fn seal_rgba(size: u32, pixels_per_metre: Option<u32>) -> Vec<u8> {
    let size = size.max(8);
    let centre = f64::from(size) / 2.0;
    let radius = centre - 1.0;
    let star = star_polygon(centre, centre, radius * 0.38);
    // 4×4 supersampling: the coverage of each pixel becomes its alpha.
    let samples = 4;
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    for py in 0..size {
        for px in 0..size {
            let mut covered = 0;
            for sy in 0..samples {
                for sx in 0..samples {
                    let x = f64::from(px) + (f64::from(sx) + 0.5) / f64::from(samples);
                    let y = f64::from(py) + (f64::from(sy) + 0.5) / f64::from(samples);
                    let d = ((x - centre).powi(2) + (y - centre).powi(2)).sqrt() / radius;
                    let angle = (y - centre).atan2(x - centre);
                    let ink = (0.93..=1.0).contains(&d)
                        || (0.885..=0.9).contains(&d)
                        || (0.58..=0.6).contains(&d)
                        || seal_lettering(d, angle)
                        || inside(&star, x, y);
                    covered += u32::from(ink);
                }
            }
            let alpha = (covered * 255 / (samples * samples)) as u8;
            rgba.extend_from_slice(&[206, 17, 38, alpha]);
        }
    }
    super::image::encode_rgba_at(size, size, &rgba, pixels_per_metre)
}

/// A blue handwritten-looking signature on a transparent background, `width`×`height` pixels:
/// a run of cursive loops (a prolate cycloid) and an underlining flourish.
pub fn signature_png(width: u32, height: u32) -> Vec<u8> {
    use std::f64::consts::PI;
    let (width, height) = (width.max(16), height.max(8));
    let (w, h) = (f64::from(width), f64::from(height));
    let mut alpha = vec![0f64; (width * height) as usize];
    let pen = (h / 40.0).max(1.0);
    let mut dab = |x: f64, y: f64, r: f64| {
        let (x0, x1) = (
            (x - r - 1.0).max(0.0) as u32,
            (x + r + 1.0).min(w - 1.0) as u32,
        );
        let (y0, y1) = (
            (y - r - 1.0).max(0.0) as u32,
            (y + r + 1.0).min(h - 1.0) as u32,
        );
        for py in y0..=y1 {
            for px in x0..=x1 {
                let d =
                    ((f64::from(px) + 0.5 - x).powi(2) + (f64::from(py) + 0.5 - y).powi(2)).sqrt();
                let slot = &mut alpha[(py * width + px) as usize];
                *slot = slot.max((r - d + 0.5).clamp(0.0, 1.0));
            }
        }
    };
    let steps = 3000;
    for i in 0..=steps {
        let t = f64::from(i) / f64::from(steps);
        let theta = t * 2.0 * PI * 4.5;
        // Loops that grow then shrink, drifting right and slightly up, pressure varying.
        let swell = 0.55 + 0.45 * (PI * t).sin();
        let x = w * (0.06 + 0.78 * t) - w * 0.055 * theta.sin();
        let y = h * (0.52 - 0.08 * t) + h * 0.30 * swell * theta.cos();
        dab(x, y, pen * (0.6 + 0.5 * (theta / 2.0).cos().abs()));
    }
    for i in 0..=steps / 2 {
        let t = f64::from(i) / f64::from(steps / 2);
        let x = w * (0.12 + 0.84 * t);
        let y = h * (0.86 - 0.12 * t - 0.06 * (PI * t).sin());
        dab(x, y, pen * (1.0 - 0.6 * t));
    }
    let rgba: Vec<u8> = alpha
        .iter()
        .flat_map(|a| [18, 52, 160, (a * 255.0) as u8])
        .collect();
    super::image::encode_rgba(width, height, &rgba)
}

/// Whether the point at relative radius `d` and `angle` is ink in the seal's band of mock
/// letters: cells of 3×3 strokes, picked by a fixed hash so the band looks like text.
fn seal_lettering(d: f64, angle: f64) -> bool {
    use std::f64::consts::PI;
    const LETTERS: f64 = 34.0;
    if !(0.66..=0.82).contains(&d) {
        return false;
    }
    // Angle from the bottom, clockwise in image space, 0..1; a gap at the bottom as on seals.
    let turn = (angle - PI / 2.0).rem_euclid(2.0 * PI) / (2.0 * PI);
    if !(0.06..=0.94).contains(&turn) {
        return false;
    }
    let cell = turn * LETTERS;
    let (letter, within) = (cell.floor() as u32, cell.fract());
    if !(0.15..=0.85).contains(&within) {
        return false;
    }
    let column = ((within - 0.15) / 0.7 * 3.0).min(2.0) as u32;
    let row = (((d - 0.66) / 0.16) * 3.0).min(2.0) as u32;
    let hash = letter.wrapping_mul(2_654_435_761) >> 7;
    // The middle column or the top row always inked: every letter has a stem or a bar.
    column == 1 && letter % 3 != 0
        || row == 2 && letter % 3 == 0
        || hash >> (row * 3 + column) & 1 == 1
}

/// The ten corners of a five-pointed star centred at (`cx`, `cy`), point up (image rows grow
/// downwards).
fn star_polygon(cx: f64, cy: f64, r: f64) -> Vec<(f64, f64)> {
    (0..10)
        .map(|i| {
            let angle = std::f64::consts::PI * (f64::from(i) / 5.0) - std::f64::consts::FRAC_PI_2;
            let rr = if i % 2 == 0 { r } else { r * 0.4 };
            (cx + rr * angle.cos(), cy + rr * angle.sin())
        })
        .collect()
}

/// Even-odd point-in-polygon test.
fn inside(polygon: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut result = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (xi, yi) = polygon[i];
        let (xj, yj) = polygon[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            result = !result;
        }
        j = i;
    }
    result
}

fn escape(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii)
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::Document;

    #[test]
    fn samples_parse_back() {
        let bytes = sample_pdf(&SampleOptions {
            pages: 3,
            text_field: true,
            pad_to: 10_000,
            ..SampleOptions::default()
        });
        let doc = Document::parse(&bytes).unwrap();
        assert_eq!(doc.pages().unwrap().len(), 3);
        let (_, catalog) = doc.catalog().unwrap();
        assert!(catalog.get(b"AcroForm").is_some());
        assert!(bytes.len() > 10_000);
    }
}

/// The demo's letter: an official dispatch ("công văn") of a provincial People's Committee laid
/// out as Decree 30/2020/NĐ-CP, Appendix I sets one out — the agency and the national motto side
/// by side at the top, the number and symbol, place and date, the subject, the addressee, the
/// body, the signature block (authority, title, the space for the signature, the name) and the
/// recipients — in `font` (an embedded subset, so every diacritic renders), dated `date`.
///
/// Built as a one-page sample with its content replaced by an incremental update, so that the
/// font goes through kyso's own subset writer. Returns the document and the space between the
/// signer's title and name, where the person's signature goes.
pub fn letter_pdf(
    font: &super::font::Font,
    date: time::Date,
) -> Result<(Vec<u8>, super::appearance::Rect), LetterError> {
    use std::fmt::Write as _;

    let blank = sample_pdf(&SampleOptions {
        lines: Vec::new(),
        ..SampleOptions::default()
    });
    let doc = super::document::Document::parse(&blank)?;
    let page_id = *doc
        .pages()?
        .first()
        .ok_or_else(|| super::Error::Structure("the sample has no page".into()))?;
    let mut page = doc.dictionary(page_id)?;

    // A4 portrait, margins of Appendix I, Part I, I.3: left 30 mm, right 15 mm, top 20 mm.
    let (left, top) = (85.0, 785.0);
    let left_column = left + 100.0; // centre of the agency column
    let right_column = 400.0; // centre of the motto column
    let date_line = format!(
        "Thử Nghiệm, ngày {:02} tháng {} năm {}",
        date.day(),
        u8::from(date.month()),
        date.year()
    );
    // (text, size, x, y, centred)
    let mut lines: Vec<(String, f64, f64, f64, bool)> = vec![
        ("ỦY BAN NHÂN DÂN".into(), 12.0, left_column, top, true),
        (
            "TỈNH THỬ NGHIỆM".into(),
            12.0,
            left_column,
            top - 15.0,
            true,
        ),
        (
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            12.0,
            right_column,
            top,
            true,
        ),
        (
            "Độc lập - Tự do - Hạnh phúc".into(),
            13.0,
            right_column,
            top - 15.0,
            true,
        ),
        (
            format!("Số: {LETTER_NUMBER}"),
            13.0,
            left_column,
            top - 45.0,
            true,
        ),
        (date_line, 13.0, right_column, top - 45.0, true),
        (
            "V/v triển khai chữ ký số".into(),
            12.0,
            left_column,
            top - 62.0,
            true,
        ),
        (
            "trên văn bản điện tử".into(),
            12.0,
            left_column,
            top - 76.0,
            true,
        ),
        (
            "Kính gửi: Các sở, ban, ngành; UBND các huyện, thành phố.".into(),
            14.0,
            300.0,
            top - 115.0,
            true,
        ),
    ];
    let body = [
        "Thực hiện Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ",
        "về công tác văn thư, Ủy ban nhân dân tỉnh đề nghị các cơ quan, đơn vị ký số",
        "văn bản điện tử đúng thể thức: người có thẩm quyền ký trước, văn thư cơ quan",
        "ký số của cơ quan, tổ chức sau; văn bản kèm theo là tệp tin riêng được ký số",
        "của cơ quan, tổ chức ở góc trên, bên phải, trang đầu.",
        "Đề nghị các cơ quan, đơn vị triển khai thực hiện./.",
    ];
    for (i, line) in body.iter().enumerate() {
        lines.push((
            (*line).into(),
            13.0,
            left + 28.0 * f64::from(u8::from(i == 0 || i == 5)),
            top - 150.0 - 19.0 * i as f64,
            false,
        ));
    }
    let signature_column = 430.0;
    let title_y = top - 290.0;
    let name_y = title_y - 100.0;
    lines.extend([
        (
            "TM. ỦY BAN NHÂN DÂN".to_owned(),
            13.0,
            signature_column,
            title_y + 15.0,
            true,
        ),
        ("CHỦ TỊCH".to_owned(), 13.0, signature_column, title_y, true),
        (
            "Nguyễn Văn An".to_owned(),
            13.0,
            signature_column,
            name_y,
            true,
        ),
        ("Nơi nhận:".to_owned(), 12.0, left, title_y + 15.0, false),
        ("- Như trên;".to_owned(), 11.0, left, title_y, false),
        (
            "- Lưu: VT, VP.".to_owned(),
            11.0,
            left,
            title_y - 13.0,
            false,
        ),
    ]);

    let mut encoder = font.encoder();
    let mut content = String::from("BT 0 0 0 rg\n");
    for (text, size, x, y, centred) in &lines {
        let x = if *centred {
            x - font.width(text, *size)? / 2.0
        } else {
            *x
        };
        let cids = encoder.encode(text)?;
        let _ = writeln!(
            content,
            "/F1 {size} Tf 1 0 0 1 {x:.2} {y:.2} Tm <{}> Tj",
            hex::encode_upper(cids)
        );
    }
    content.push_str("ET\n");
    // The rule under the motto and under the agency's name, as the Appendix draws them.
    let motto_width = font.width("Độc lập - Tự do - Hạnh phúc", 13.0)?;
    let _ = writeln!(
        content,
        "0.6 w {:.2} {:.2} m {:.2} {:.2} l S {:.2} {:.2} m {:.2} {:.2} l S",
        right_column - motto_width / 2.0,
        top - 21.0,
        right_column + motto_width / 2.0,
        top - 21.0,
        left_column - 30.0,
        top - 21.0,
        left_column + 30.0,
        top - 21.0,
    );

    let mut update = super::incremental::IncrementalUpdate::new(&doc);
    let font_id = encoder.finish()?.write(&mut update);
    let content_id = update.allocate();
    update.put(
        content_id,
        super::font::flate_stream(Dictionary::new(), content.as_bytes()),
    );
    page.set(b"Contents", content_id);
    page.set(
        b"Resources",
        pdf_dict! { b"Font" => pdf_dict! { b"F1" => font_id } },
    );
    update.put(page_id, page);
    let written = update.write(b"kyso-letter-rev-2");
    let mut out = blank.clone();
    out.extend_from_slice(&written.bytes);
    let ascent = font.ascent() / 1000.0 * 13.0;
    // From just below the title's baseline to just above the name's capitals.
    let space = super::appearance::Rect {
        x: signature_column - 90.0,
        y: name_y + ascent + 4.0,
        width: 180.0,
        height: title_y - 6.0 - (name_y + ascent + 4.0),
    };
    Ok((out, space))
}

/// Why the demo's letter could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error(transparent)]
    Pdf(#[from] super::Error),
    #[error(transparent)]
    Font(#[from] super::font::Error),
}

/// The number and symbol of the demo's letter.
pub const LETTER_NUMBER: &str = "123/UBND-VP";
