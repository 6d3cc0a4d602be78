//! The PDF object model (ISO 32000-2 §7.3) and its serialisation.
//!
//! Objects are values: a dictionary keeps its keys in the order they were read (a rewritten
//! dictionary then differs from the original only where kyso changed it, which keeps change
//! analysis and byte-level diffs readable). Numbers keep their integer/real distinction; reals are
//! written back in a fixed, locale-free form.

use std::fmt::Write as _;

/// An object reference `n g R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub number: u32,
    pub generation: u16,
}

impl ObjectId {
    pub const fn new(number: u32, generation: u16) -> Self {
        ObjectId { number, generation }
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.number, self.generation)
    }
}

/// How a string was (or is to be) written: `(literal)` or `<hex>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringFormat {
    Literal,
    Hex,
}

/// A PDF object.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Null,
    Boolean(bool),
    Integer(i64),
    Real(f64),
    /// A name without its slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    String(Vec<u8>, StringFormat),
    Array(Vec<Object>),
    Dictionary(Dictionary),
    Stream(Stream),
    Reference(ObjectId),
}

/// A dictionary; keys in reading order, no duplicates (a later duplicate replaces the earlier
/// one, as most readers do).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dictionary {
    entries: Vec<(Vec<u8>, Object)>,
}

/// A stream: its dictionary and its raw (still encoded) data.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    pub dict: Dictionary,
    pub data: Vec<u8>,
}

impl Dictionary {
    pub fn new() -> Self {
        Dictionary::default()
    }

    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Object> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing value in place (keeping its position).
    pub fn set(&mut self, key: &[u8], value: impl Into<Object>) {
        let value = value.into();
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries.push((key.to_vec(), value)),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let i = self.entries.iter().position(|(k, _)| k.as_slice() == key)?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key` if it is a name.
    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }

    /// The value of `key` if it is an integer.
    pub fn integer(&self, key: &[u8]) -> Option<i64> {
        match self.get(key) {
            Some(Object::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    /// The value of `key` if it is a reference.
    pub fn reference(&self, key: &[u8]) -> Option<ObjectId> {
        match self.get(key) {
            Some(Object::Reference(r)) => Some(*r),
            _ => None,
        }
    }

    /// Whether `/Type` is `name`.
    pub fn has_type(&self, name: &[u8]) -> bool {
        self.name(b"Type") == Some(name)
    }
}

impl FromIterator<(Vec<u8>, Object)> for Dictionary {
    fn from_iter<T: IntoIterator<Item = (Vec<u8>, Object)>>(iter: T) -> Self {
        let mut dict = Dictionary::new();
        for (k, v) in iter {
            dict.set(&k, v);
        }
        dict
    }
}

impl Object {
    pub fn name(name: &[u8]) -> Object {
        Object::Name(name.to_vec())
    }

    pub fn literal(bytes: impl Into<Vec<u8>>) -> Object {
        Object::String(bytes.into(), StringFormat::Literal)
    }

    pub fn as_dict(&self) -> Option<&Dictionary> {
        match self {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// A number as a float, integer or real.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(*r),
            _ => None,
        }
    }

    /// A rectangle array (ISO 32000-2 §7.9.5), normalised so that the first corner is the lower
    /// left: `[llx, lly, urx, ury]`.
    pub fn as_rectangle(&self) -> Option<[f64; 4]> {
        let numbers: Vec<f64> = self
            .as_array()?
            .iter()
            .map(Object::as_number)
            .collect::<Option<_>>()?;
        let [a, b, c, d] = numbers.as_slice() else {
            return None;
        };
        Some([a.min(*c), b.min(*d), a.max(*c), b.max(*d)])
    }

    pub fn as_reference(&self) -> Option<ObjectId> {
        match self {
            Object::Reference(r) => Some(*r),
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String(s, _) => Some(s),
            _ => None,
        }
    }
}

impl From<Dictionary> for Object {
    fn from(d: Dictionary) -> Self {
        Object::Dictionary(d)
    }
}
impl From<ObjectId> for Object {
    fn from(r: ObjectId) -> Self {
        Object::Reference(r)
    }
}
impl From<i64> for Object {
    fn from(i: i64) -> Self {
        Object::Integer(i)
    }
}
impl From<bool> for Object {
    fn from(b: bool) -> Self {
        Object::Boolean(b)
    }
}
impl From<Vec<Object>> for Object {
    fn from(a: Vec<Object>) -> Self {
        Object::Array(a)
    }
}
impl From<Stream> for Object {
    fn from(s: Stream) -> Self {
        Object::Stream(s)
    }
}

/// Builds a dictionary from `(key, value)` pairs: `dict![b"Type" => Object::name(b"Sig")]`.
#[macro_export]
#[doc(hidden)]
macro_rules! pdf_dict {
    ($($k:expr => $v:expr),* $(,)?) => {{
        let mut d = $crate::pdf::Dictionary::new();
        $( d.set($k, $v); )*
        d
    }};
}

/// Writes `object` in PDF syntax.
pub fn write_object(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => write_real(out, *r),
        Object::Name(n) => write_name(out, n),
        Object::String(s, StringFormat::Hex) => {
            out.push(b'<');
            let at = out.len();
            // A signature placeholder is all zeros: a fill, not an encoding. (An OR over all
            // bytes, not `all`, so that the check over 10–30 KB is vectorised.)
            if s.iter().fold(0u8, |acc, &b| acc | b) == 0 {
                out.resize(at + 2 * s.len(), b'0');
            } else {
                out.resize(at + 2 * s.len(), 0);
                hex_upper_into(&mut out[at..], s);
            }
            out.push(b'>');
        }
        Object::String(s, StringFormat::Literal) => write_literal(out, s),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dict(out, d),
        Object::Stream(s) => {
            let mut dict = s.dict.clone();
            dict.set(b"Length", Object::Integer(s.data.len() as i64));
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.data);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference(r) => {
            out.extend_from_slice(format!("{} {} R", r.number, r.generation).as_bytes())
        }
    }
}

/// Writes `bytes` as upper-case hex digits into `out`, which must be twice as long. The
/// signature's `/Contents` (10–30 KB of hex, placeholder then CMS) goes through here on every
/// signing; the `hex` crate's iterator-based encoder cost a third of a 100 KB document's
/// signing time, a table lookup per nibble costs a few microseconds.
pub(crate) fn hex_upper_into(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

fn write_dict(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (k, v) in dict.iter() {
        write_name(out, k);
        // A space keeps `/Key/Name` and `/Key 1` unambiguous and readable.
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

fn write_real(out: &mut Vec<u8>, r: f64) {
    if !r.is_finite() {
        out.push(b'0');
        return;
    }
    // PDF has no exponent notation: fixed point, trailing zeros trimmed.
    let mut s = format!("{r:.5}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if b.is_ascii_graphic() && !is_delimiter(b) && b != b'#' {
            out.push(b);
        } else {
            let _ = write!(HexSink(out), "#{b:02X}");
        }
    }
}

fn write_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

struct HexSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// PDF delimiter characters (ISO 32000-2 §7.2.3).
pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// PDF white-space characters (ISO 32000-2 §7.2.3).
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// A text string (ISO 32000-2 §7.9.2.2): PDFDocEncoding-compatible ASCII as is, anything else as
/// UTF-16BE with a byte order mark, which every reader understands.
pub fn text_string(text: &str) -> Object {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::literal(text.as_bytes())
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hex)
    }
}

/// Decodes a text string: UTF-16BE with BOM, UTF-8 with BOM (PDF 2.0), else PDFDocEncoding
/// (read here as Latin-1, which agrees on every printable ASCII character).
pub fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(o: &Object) -> String {
        let mut out = Vec::new();
        write_object(&mut out, o);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn serialises_each_kind() {
        assert_eq!(written(&Object::Real(0.5)), "0.5");
        assert_eq!(written(&Object::Real(-0.000001)), "0");
        assert_eq!(written(&Object::Real(12.0)), "12");
        assert_eq!(written(&Object::name(b"A B#")), "/A#20B#23");
        assert_eq!(
            written(&Object::literal(b"a(b)\\\n".to_vec())),
            "(a\\(b\\)\\\\\\n)"
        );
        assert_eq!(
            written(&Object::Dictionary(crate::pdf_dict! {
                b"Type" => Object::name(b"Sig"),
                b"P" => ObjectId::new(3, 0),
            })),
            "<</Type /Sig/P 3 0 R>>"
        );
    }

    #[test]
    fn hex_is_upper_case_two_digits_per_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut out = vec![0; 512];
        hex_upper_into(&mut out, &bytes);
        assert_eq!(out, hex::encode_upper(&bytes).into_bytes());
    }

    #[test]
    fn text_strings_round_trip() {
        for text in ["Hanoi", "Hà Nội", "Ủy ban nhân dân tỉnh"] {
            let Object::String(bytes, _) = text_string(text) else {
                panic!()
            };
            assert_eq!(decode_text_string(&bytes), text);
        }
    }
}
