//! A TrueType font embedded as a composite font, so that Unicode text — Vietnamese with its
//! stacked diacritics — renders with the glyphs kyso measured and extracts as the text kyso
//! wrote (ISO 32000-2 §9.7 composite fonts, §9.6.4 font subsets, §9.8 font descriptors, §9.9
//! embedded font programs, §9.10.3 ToUnicode CMaps).
//!
//! What it owns: loading the font file, measuring text, encoding text as two-byte CIDs
//! (`/Encoding /Identity-H`), and writing the Type0 font whose CIDFontType2 descendant carries a
//! *subset* of the font program (`/FontFile2`), the widths (`/W`), an explicit `/CIDToGIDMap`
//! and a `/ToUnicode` CMap.
//!
//! What it refuses: characters the font has no glyph for (an appearance showing an empty box in
//! place of a letter would misstate the signer's name, so this is an error, not a fallback);
//! fonts whose OS/2 `fsType` forbids embedding or subsetting; fonts without TrueType outlines
//! (CFF outlines would need `/FontFile3`).
//!
//! Why one CID per *character* rather than per glyph: two characters can share a glyph (U+0020
//! and U+00A0 in most fonts), and a ToUnicode CMap maps a code to one string. With CIDs numbered
//! by character, the CMap is a bijection and extraction returns exactly the NFC text that came
//! in; the explicit `/CIDToGIDMap` then points each CID at its glyph in the subset.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ttf_parser::{Face, GlyphId, name_id};
use unicode_normalization::UnicodeNormalization;

use super::filter::deflate;
use super::incremental::IncrementalUpdate;
use super::object::{Dictionary, Object, ObjectId, Stream};
use crate::pdf_dict;
use crate::signer::DigestAlgorithm;

/// The font kyso uses when the configuration names none: Liberation Serif, free (SIL OFL 1.1)
/// and metric-compatible with the Times New Roman that Vietnamese clerical rules prescribe.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf";

/// The Debian package that installs [`DEFAULT_FONT`].
pub const DEFAULT_FONT_PACKAGE: &str = "fonts-liberation2";

/// Largest font file accepted. Full pan-Unicode TrueType fonts reach 20–30 MB (Noto CJK);
/// 64 MiB leaves room for those and keeps a wrong path (a disk image, say) from being read.
const MAX_FONT_FILE: u64 = 64 * 1024 * 1024;

/// Why a font could not be loaded, or text could not be set in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "font file {} not found: install the Debian package {DEFAULT_FONT_PACKAGE} or name another TrueType font in [pdf] font (KYSO_PDF_FONT)",
        path.display()
    )]
    NotFound { path: PathBuf },
    #[error("cannot read font file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("font file {} is {size} bytes, over the {limit}-byte limit", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("font file {} is not a usable TrueType font: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error("the licence of font {} forbids {what} (OS/2 fsType)", path.display())]
    NotEmbeddable { path: PathBuf, what: &'static str },
    #[error("font {font} has no glyph for {character:?} (U+{code:04X})", code = u32::from(*character))]
    MissingGlyph { font: String, character: char },
    #[error("text uses {count} distinct characters; a two-byte encoding holds at most 65535")]
    TooManyCharacters { count: usize },
    #[error("cannot subset font {font}: {reason}")]
    Subset { font: String, reason: String },
}

/// A loaded TrueType font.
pub struct Font {
    path: PathBuf,
    data: Vec<u8>,
    /// PostScript name with characters a PDF name cannot hold removed.
    postscript_name: String,
    units_per_em: f64,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("path", &self.path)
            .field("postscript_name", &self.postscript_name)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl Font {
    /// Reads and checks the font file at `path`.
    pub fn load(path: &Path) -> Result<Font, Error> {
        let metadata = std::fs::metadata(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                path: path.to_owned(),
            },
            _ => Error::Read {
                path: path.to_owned(),
                source,
            },
        })?;
        if metadata.len() > MAX_FONT_FILE {
            return Err(Error::TooLarge {
                path: path.to_owned(),
                size: metadata.len(),
                limit: MAX_FONT_FILE,
            });
        }
        let data = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Font::from_bytes(data, path)
    }

    /// Checks `data` as a TrueType font; `origin` names it in messages.
    pub fn from_bytes(data: Vec<u8>, origin: &Path) -> Result<Font, Error> {
        let malformed = |reason: String| Error::Malformed {
            path: origin.to_owned(),
            reason,
        };
        let face = Face::parse(&data, 0).map_err(|e| malformed(e.to_string()))?;
        if face.tables().glyf.is_none() {
            return Err(malformed(
                "no TrueType outlines (glyf table); CFF-flavoured OpenType is not supported".into(),
            ));
        }
        if face.tables().hmtx.is_none() {
            return Err(malformed("no horizontal metrics (hmtx table)".into()));
        }
        // fsType (OpenType OS/2): "Restricted License embedding" forbids embedding at all, and
        // bit 8 forbids subsetting. Editable, print-and-preview and installable fonts may be
        // embedded in a document that is only displayed and printed, which a signed PDF is.
        if face.permissions() == Some(ttf_parser::Permissions::Restricted) {
            return Err(Error::NotEmbeddable {
                path: origin.to_owned(),
                what: "embedding",
            });
        }
        if face.tables().os2.is_some() && !face.is_subsetting_allowed() {
            return Err(Error::NotEmbeddable {
                path: origin.to_owned(),
                what: "subsetting",
            });
        }
        let units_per_em = f64::from(face.units_per_em());
        let postscript_name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .map(|n| {
                n.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Font".to_owned());
        Ok(Font {
            path: origin.to_owned(),
            data,
            postscript_name,
            units_per_em,
        })
    }

    /// The file the font came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The font's PostScript name (`LiberationSerif`).
    pub fn postscript_name(&self) -> &str {
        &self.postscript_name
    }

    /// Size of the full font program in bytes.
    pub fn program_len(&self) -> usize {
        self.data.len()
    }

    /// Whether every character of `text` (after NFC normalisation) has a glyph.
    pub fn covers(&self, text: &str) -> bool {
        let face = self.face();
        text.nfc().all(|c| face.glyph_index(c).is_some())
    }

    /// The advance width of `text` set at `size` points, in points.
    pub fn width(&self, text: &str, size: f64) -> Result<f64, Error> {
        let face = self.face();
        let mut total = 0.0;
        for c in text.nfc() {
            let glyph = self.glyph(&face, c)?;
            total += self.advance(&face, glyph);
        }
        Ok(total * size / 1000.0)
    }

    /// The ascent above the baseline, in thousandths of an em.
    pub fn ascent(&self) -> f64 {
        self.scale(self.face().ascender())
    }

    /// The descent below the baseline (negative), in thousandths of an em.
    pub fn descent(&self) -> f64 {
        self.scale(self.face().descender())
    }

    /// Starts encoding text for one embedded subset.
    pub fn encoder(&self) -> TextEncoder<'_> {
        TextEncoder {
            font: self,
            face: self.face(),
            characters: Vec::new(),
            cids: BTreeMap::new(),
        }
    }

    fn face(&self) -> Face<'_> {
        Face::parse(&self.data, 0).expect("BUG: the font parsed when it was loaded")
    }

    fn glyph(&self, face: &Face<'_>, c: char) -> Result<GlyphId, Error> {
        face.glyph_index(c).ok_or_else(|| Error::MissingGlyph {
            font: self.postscript_name.clone(),
            character: c,
        })
    }

    /// Advance width of `glyph` in thousandths of an em: the unit of `/W` (§9.7.4.3), so that
    /// kyso's measurements and the reader's positioning use the very same numbers.
    fn advance(&self, face: &Face<'_>, glyph: GlyphId) -> f64 {
        let units = face.glyph_hor_advance(glyph).unwrap_or(0);
        round3(f64::from(units) * 1000.0 / self.units_per_em)
    }

    fn scale(&self, units: i16) -> f64 {
        round3(f64::from(units) * 1000.0 / self.units_per_em)
    }
}

/// Encodes text as CIDs for one subset of a font, remembering which characters were used.
pub struct TextEncoder<'f> {
    font: &'f Font,
    face: Face<'f>,
    /// Characters in order of first use; CID = index + 1 (CID 0 is `.notdef`).
    characters: Vec<(char, GlyphId)>,
    cids: BTreeMap<char, u16>,
}

impl TextEncoder<'_> {
    /// `text`, NFC-normalised, as a big-endian two-byte CID string for `Tj`.
    pub fn encode(&mut self, text: &str) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.nfc() {
            let cid = match self.cids.get(&c) {
                Some(cid) => *cid,
                None => {
                    let glyph = self.font.glyph(&self.face, c)?;
                    let cid = u16::try_from(self.characters.len() + 1).map_err(|_| {
                        Error::TooManyCharacters {
                            count: self.characters.len() + 1,
                        }
                    })?;
                    self.characters.push((c, glyph));
                    self.cids.insert(c, cid);
                    cid
                }
            };
            out.extend_from_slice(&cid.to_be_bytes());
        }
        Ok(out)
    }

    /// The subset of the font program holding the glyphs of every character encoded so far,
    /// with everything the PDF objects need.
    pub fn finish(self) -> Result<FontSubset, Error> {
        let font = self.font;
        let face = &self.face;
        let mut remapper = subsetter::GlyphRemapper::new();
        let mut cid_to_gid = vec![0u16];
        let mut widths = Vec::with_capacity(self.characters.len());
        for (_, glyph) in &self.characters {
            cid_to_gid.push(remapper.remap(glyph.0));
            widths.push(font.advance(face, *glyph));
        }
        let program = subsetter::subset(&font.data, 0, &remapper).map_err(|e| Error::Subset {
            font: font.postscript_name.clone(),
            reason: e.to_string(),
        })?;
        let characters: Vec<char> = self.characters.iter().map(|(c, _)| *c).collect();
        let bbox = face.global_bounding_box();
        let weight = f64::from(face.weight().to_number());
        let mut flags = 4; // Symbolic: glyphs outside the standard Latin set (§9.8.2, Table 121).
        if face.is_monospaced() {
            flags |= 1;
        }
        if face.is_italic() {
            flags |= 64;
        }
        Ok(FontSubset {
            base_font: format!(
                "{}+{}",
                subset_tag(&font.postscript_name, &characters),
                font.postscript_name
            ),
            program,
            full_program_len: font.data.len(),
            cid_to_gid,
            widths,
            to_unicode: to_unicode_cmap(&characters),
            characters,
            descriptor: Descriptor {
                flags,
                bbox: [
                    font.scale(bbox.x_min),
                    font.scale(bbox.y_min),
                    font.scale(bbox.x_max),
                    font.scale(bbox.y_max),
                ],
                italic_angle: f64::from(face.italic_angle()),
                ascent: font.scale(face.ascender()),
                descent: font.scale(face.descender()),
                cap_height: font.scale(face.capital_height().unwrap_or(face.ascender())),
                // TrueType has no stem width; this is the estimate from weight class that
                // PDFBox and others use. Readers only need it for substitution, and the font is
                // embedded.
                stem_v: (50.0 + (weight / 65.0).powi(2)).round(),
            },
        })
    }
}

/// The embedded subset and its PDF metadata.
#[derive(Clone, Debug)]
pub struct FontSubset {
    /// `ABCDEF+PostScriptName` (§9.6.4).
    pub base_font: String,
    /// The subset TrueType program (`/FontFile2`), uncompressed.
    pub program: Vec<u8>,
    /// Size of the full font program the subset was cut from.
    pub full_program_len: usize,
    /// The character each CID stands for: `characters[cid - 1]`.
    pub characters: Vec<char>,
    /// Glyph in the subset for each CID, CID 0 included.
    pub cid_to_gid: Vec<u16>,
    /// Advance width of CID 1, 2, … in thousandths of an em.
    pub widths: Vec<f64>,
    /// The `/ToUnicode` CMap program.
    pub to_unicode: String,
    descriptor: Descriptor,
}

#[derive(Clone, Debug)]
struct Descriptor {
    flags: i64,
    bbox: [f64; 4],
    italic_angle: f64,
    ascent: f64,
    descent: f64,
    cap_height: f64,
    stem_v: f64,
}

impl FontSubset {
    /// Puts the Type0 font and its parts into `update`; returns the Type0 font's reference.
    pub fn write(&self, update: &mut IncrementalUpdate<'_, '_>) -> ObjectId {
        let type0_id = update.allocate();
        let cid_font_id = update.allocate();
        let descriptor_id = update.allocate();
        let program_id = update.allocate();
        let cid_to_gid_id = update.allocate();
        let to_unicode_id = update.allocate();
        let name = Object::name(self.base_font.as_bytes());

        update.put(
            program_id,
            flate_stream(
                pdf_dict! { b"Length1" => self.program.len() as i64 },
                &self.program,
            ),
        );
        let d = &self.descriptor;
        update.put(
            descriptor_id,
            pdf_dict! {
                b"Type" => Object::name(b"FontDescriptor"),
                b"FontName" => name.clone(),
                b"Flags" => d.flags,
                b"FontBBox" => Object::Array(d.bbox.iter().map(|v| Object::Real(*v)).collect()),
                b"ItalicAngle" => Object::Real(d.italic_angle),
                b"Ascent" => Object::Real(d.ascent),
                b"Descent" => Object::Real(d.descent),
                b"CapHeight" => Object::Real(d.cap_height),
                b"StemV" => Object::Real(d.stem_v),
                b"FontFile2" => program_id,
            },
        );
        let map: Vec<u8> = self
            .cid_to_gid
            .iter()
            .flat_map(|g| g.to_be_bytes())
            .collect();
        update.put(cid_to_gid_id, flate_stream(Dictionary::new(), &map));
        // CIDs 1..=n are consecutive: one `c [w1 … wn]` run (§9.7.4.3).
        let widths = Object::Array(vec![
            Object::Integer(1),
            Object::Array(self.widths.iter().map(|w| Object::Real(*w)).collect()),
        ]);
        update.put(
            cid_font_id,
            pdf_dict! {
                b"Type" => Object::name(b"Font"),
                b"Subtype" => Object::name(b"CIDFontType2"),
                b"BaseFont" => name.clone(),
                b"CIDSystemInfo" => pdf_dict! {
                    b"Registry" => Object::literal(b"Adobe".to_vec()),
                    b"Ordering" => Object::literal(b"Identity".to_vec()),
                    b"Supplement" => 0i64,
                },
                b"FontDescriptor" => descriptor_id,
                b"DW" => 1000i64,
                b"W" => widths,
                b"CIDToGIDMap" => cid_to_gid_id,
            },
        );
        update.put(
            to_unicode_id,
            flate_stream(Dictionary::new(), self.to_unicode.as_bytes()),
        );
        update.put(
            type0_id,
            pdf_dict! {
                b"Type" => Object::name(b"Font"),
                b"Subtype" => Object::name(b"Type0"),
                b"BaseFont" => name,
                b"Encoding" => Object::name(b"Identity-H"),
                b"DescendantFonts" => Object::Array(vec![cid_font_id.into()]),
                b"ToUnicode" => to_unicode_id,
            },
        );
        type0_id
    }
}

/// A FlateDecode stream of `data` with `dict`'s entries.
pub(crate) fn flate_stream(mut dict: Dictionary, data: &[u8]) -> Stream {
    dict.set(b"Filter", Object::name(b"FlateDecode"));
    Stream {
        dict,
        data: deflate(data),
    }
}

/// Six upper-case letters naming this subset (§9.6.4). Derived from the characters, so the same
/// text gives the same tag (reproducible output) and different subsets differ.
fn subset_tag(font: &str, characters: &[char]) -> String {
    let mut input = font.as_bytes().to_vec();
    for c in characters {
        input.extend_from_slice(&u32::from(*c).to_be_bytes());
    }
    DigestAlgorithm::Sha256.digest(&input)[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// The ToUnicode CMap for CIDs 1..=n standing for `characters` (§9.10.3; the CMap syntax is
/// Adobe Technical Note #5014 and #5411).
fn to_unicode_cmap(characters: &[char]) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // At most 100 entries per bfchar block (Adobe TN #5014, implementation limits).
    for (block, chunk) in characters.chunks(100).enumerate() {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (i, c) in chunk.iter().enumerate() {
            let cid = block * 100 + i + 1;
            let mut units = [0u16; 2];
            let utf16: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{cid:04X}> <{utf16}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn font() -> &'static Font {
        static FONT: std::sync::OnceLock<Font> = std::sync::OnceLock::new();
        FONT.get_or_init(|| {
            Font::load(Path::new(DEFAULT_FONT)).expect("fonts-liberation2 is installed")
        })
    }

    /// Every Vietnamese letter: the 12 vowels with each of the 6 tones, đ, and the consonants,
    /// in both cases, composed to NFC precomposed characters.
    fn vietnamese_alphabet() -> String {
        let tones = ['\0', '\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];
        let mut out = String::new();
        for vowel in "aăâeêioôơuưy".chars() {
            for tone in tones {
                let mut s = vowel.to_string();
                if tone != '\0' {
                    s.push(tone);
                }
                let s: String = s.nfc().collect();
                assert_eq!(s.chars().count(), 1, "{s:?} composes to one character");
                out.push_str(&s);
            }
        }
        out.push_str("đbcdghklmnpqrstvx");
        let upper = out.to_uppercase();
        out + &upper
    }

    const PANGRAM: &str = "Trăm năm trong cõi người ta, chữ tài chữ mệnh khéo là ghét nhau. \
        Quý khách vui lòng xếp hàng ở bãi đỗ xe; Đồng chí Phạm Hữu Ước ký ngày 05/03/2025.";

    /// Parses the CMap kyso writes back into code → text.
    fn parse_cmap(cmap: &str) -> BTreeMap<u16, String> {
        let mut map = BTreeMap::new();
        let mut in_block = false;
        for line in cmap.lines() {
            if line.ends_with("beginbfchar") {
                in_block = true;
            } else if line == "endbfchar" {
                in_block = false;
            } else if in_block {
                let (code, text) = line.split_once(' ').unwrap();
                let code = u16::from_str_radix(code.trim_matches(['<', '>']), 16).unwrap();
                let hex = text.trim_matches(['<', '>']);
                let units: Vec<u16> = (0..hex.len())
                    .step_by(4)
                    .map(|i| u16::from_str_radix(&hex[i..i + 4], 16).unwrap())
                    .collect();
                map.insert(code, String::from_utf16(&units).unwrap());
            }
        }
        map
    }

    fn decode(cmap: &BTreeMap<u16, String>, cids: &[u8]) -> String {
        cids.chunks(2)
            .map(|c| cmap[&u16::from_be_bytes([c[0], c[1]])].as_str())
            .collect()
    }

    #[test]
    fn subset_has_a_glyph_and_the_right_width_for_every_vietnamese_character() {
        let font = font();
        let full = Face::parse(&font.data, 0).unwrap();
        let text = format!("{} {PANGRAM}", vietnamese_alphabet());
        let mut encoder = font.encoder();
        let cids = encoder.encode(&text).unwrap();
        let subset = encoder.finish().unwrap();
        let distinct: std::collections::BTreeSet<char> = text.chars().collect();
        assert_eq!(subset.characters.len(), distinct.len());
        assert_eq!(cids.len(), text.chars().count() * 2);

        let sub = Face::parse(&subset.program, 0).expect("the subset is a valid font");
        assert!(
            subset.program.len() * 5 < font.program_len(),
            "subset {} bytes vs full {}",
            subset.program.len(),
            font.program_len()
        );
        for (i, c) in subset.characters.iter().enumerate() {
            let cid = i + 1;
            let new_gid = GlyphId(subset.cid_to_gid[cid]);
            let old_gid = full.glyph_index(*c).unwrap();
            assert_ne!(new_gid.0, 0, "{c:?} maps to .notdef");
            if !c.is_whitespace() {
                assert!(
                    sub.glyph_bounding_box(new_gid).is_some(),
                    "{c:?}: no outline in the subset"
                );
                assert_eq!(
                    sub.glyph_bounding_box(new_gid),
                    full.glyph_bounding_box(old_gid),
                    "{c:?}: the subset glyph is the original glyph"
                );
            }
            let units = full.glyph_hor_advance(old_gid).unwrap();
            assert_eq!(sub.glyph_hor_advance(new_gid), Some(units), "{c:?}");
            let expected = f64::from(units) * 1000.0 / f64::from(full.units_per_em());
            assert!((subset.widths[i] - expected).abs() < 0.001, "{c:?} width");
        }
        // Liberation Serif is metric-compatible with Times New Roman: 'a' is 444/1000 em there.
        let a = subset.characters.iter().position(|c| *c == 'a').unwrap();
        assert!(
            (subset.widths[a] - 444.0).abs() < 1.0,
            "{}",
            subset.widths[a]
        );
        assert!(subset.base_font.ends_with("+LiberationSerif"));
        let tag = &subset.base_font[..6];
        assert!(tag.bytes().all(|b| b.is_ascii_uppercase()), "{tag}");
    }

    #[test]
    fn measures_with_the_widths_it_writes() {
        let font = font();
        let w = font.width("Ký bởi", 10.0).unwrap();
        let mut encoder = font.encoder();
        encoder.encode("Ký bởi").unwrap();
        let subset = encoder.finish().unwrap();
        let sum: f64 = subset.widths.iter().sum();
        assert!((w - sum / 100.0).abs() < 1e-9, "{w} vs {sum}");
    }

    #[test]
    fn decomposed_input_is_set_as_precomposed_characters() {
        let font = font();
        let mut encoder = font.encoder();
        let nfd: String = "Nguyễn".nfd().collect();
        assert_ne!(nfd, "Nguyễn");
        let cids = encoder.encode(&nfd).unwrap();
        let subset = encoder.finish().unwrap();
        assert_eq!(decode(&parse_cmap(&subset.to_unicode), &cids), "Nguyễn");
    }

    #[test]
    fn refuses_what_it_cannot_show() {
        let font = font();
        let err = font.encoder().encode("Hà Nội 北京").unwrap_err();
        assert!(err.to_string().contains("U+5317"), "{err}");
        let err = Font::load(Path::new("/nonexistent/Font.ttf")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/Font.ttf"), "{message}");
        assert!(message.contains("fonts-liberation2"), "{message}");
        let err = Font::from_bytes(b"not a font".to_vec(), Path::new("x.ttf")).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
    }

    #[test]
    fn cmap_blocks_hold_at_most_100_entries() {
        let characters: Vec<char> = ('a'..='z').chain('À'..='ỹ').take(250).collect();
        let cmap = to_unicode_cmap(&characters);
        assert!(cmap.contains("100 beginbfchar"));
        assert!(cmap.contains("50 beginbfchar"));
        let parsed = parse_cmap(&cmap);
        assert_eq!(parsed.len(), 250);
        assert_eq!(parsed[&250], characters[249].to_string());
    }

    proptest! {
        #[test]
        fn to_unicode_round_trips_vietnamese_text(
            text in "[a-zA-Z0-9 ,.:;/()\\-àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ]{0,60}"
        ) {
            let font = font();
            let mut encoder = font.encoder();
            let cids = encoder.encode(&text).unwrap();
            let subset = encoder.finish().unwrap();
            let cmap = parse_cmap(&subset.to_unicode);
            prop_assert_eq!(decode(&cmap, &cids), text);
        }
    }
}
