//! Sample documents for the demo, tests and benchmarks: small, valid, classic-xref PDFs with
//! text, optionally a form field and padding to a target size. Built with kyso's own writer so
//! that no binary fixture without a recipe enters the repository.

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
