//! Stream filters kyso needs to read a document's structure: FlateDecode with PNG predictors
//! (ISO 32000-2 §7.4.4), which is what cross-reference and object streams use.
//!
//! Decoding is bounded: a few kilobytes of deflate can expand to gigabytes (a "flate bomb"), so
//! output stops at [`MAX_DECODED`] and the stream is refused.

use std::io::Read;

use super::Error;
use super::object::{Dictionary, Object, Stream};

/// Largest decoded stream accepted. Structure streams (xref, object streams) of real documents
/// are at most a few megabytes; 64 MiB leaves two orders of magnitude of headroom while keeping
/// a bomb from taking the service's memory.
pub const MAX_DECODED: usize = 64 * 1024 * 1024;

/// The decoded data of `stream`, for the filters kyso understands.
pub fn decode(stream: &Stream) -> Result<Vec<u8>, Error> {
    decode_with_limit(stream, MAX_DECODED)
}

/// [`decode`] with a smaller output bound.
pub(crate) fn decode_with_limit(stream: &Stream, limit: usize) -> Result<Vec<u8>, Error> {
    let filters: Vec<&[u8]> = match stream.dict.get(b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
        Some(_) => {
            return Err(Error::Unsupported(
                "a /Filter that is not a name or array".into(),
            ));
        }
    };
    let parms: Vec<Option<&Dictionary>> = match stream.dict.get(b"DecodeParms") {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => Vec::new(),
    };
    let mut data = stream.data.clone();
    for (i, filter) in filters.iter().enumerate() {
        data = match *filter {
            b"FlateDecode" | b"Fl" => {
                let inflated = inflate(&data, limit)?;
                match parms.get(i).copied().flatten() {
                    Some(p) => unpredict(inflated, p)?,
                    None => inflated,
                }
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "stream filter /{}",
                    String::from_utf8_lossy(other)
                )));
            }
        };
    }
    Ok(data)
}

/// Compresses `data` with zlib for a FlateDecode stream.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    if let Err(e) = decoder.read_to_end(&mut out) {
        // Truncated deflate data is common; keep what decoded if anything did.
        if out.is_empty() {
            return Err(Error::Filter(format!("FlateDecode: {e}")));
        }
    }
    if out.len() > limit {
        return Err(Error::Filter(format!(
            "FlateDecode output exceeds {limit} bytes (a flate bomb?)"
        )));
    }
    Ok(out)
}

/// Undoes a PNG predictor (`/Predictor` ≥ 10) row by row; TIFF predictor 2 is not used by
/// structure streams and is refused.
fn unpredict(data: Vec<u8>, parms: &Dictionary) -> Result<Vec<u8>, Error> {
    let predictor = parms.integer(b"Predictor").unwrap_or(1);
    if predictor == 1 {
        return Ok(data);
    }
    if predictor < 10 {
        return Err(Error::Unsupported(format!("predictor {predictor}")));
    }
    let colors = parms.integer(b"Colors").unwrap_or(1).clamp(1, 4) as usize;
    let bits = parms.integer(b"BitsPerComponent").unwrap_or(8).clamp(1, 16) as usize;
    let columns = parms.integer(b"Columns").unwrap_or(1).clamp(1, 1 << 20) as usize;
    let bpp = (colors * bits).div_ceil(8).max(1);
    let row_len = (colors * bits * columns).div_ceil(8);
    let mut out = Vec::with_capacity(data.len());
    let mut previous = vec![0u8; row_len];
    for chunk in data.chunks(row_len + 1) {
        let (&kind, row) = chunk
            .split_first()
            .ok_or_else(|| Error::Filter("empty predictor row".into()))?;
        let mut current = row.to_vec();
        current.resize(row_len, 0);
        for i in 0..row_len {
            let left = if i >= bpp { current[i - bpp] } else { 0 };
            let up = previous[i];
            let up_left = if i >= bpp { previous[i - bpp] } else { 0 };
            current[i] = match kind {
                0 => current[i],
                1 => current[i].wrapping_add(left),
                2 => current[i].wrapping_add(up),
                3 => current[i].wrapping_add(average(left, up)),
                4 => current[i].wrapping_add(paeth(left, up, up_left)),
                _ => return Err(Error::Filter(format!("PNG predictor row type {kind}"))),
            };
        }
        out.extend_from_slice(&current);
        previous = current;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// The floor of the mean of two bytes (PNG's Average predictor), which is a byte again.
fn average(a: u8, b: u8) -> u8 {
    (a & b) + ((a ^ b) >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf_dict;

    #[test]
    fn flate_round_trip_and_png_up_predictor() {
        let stream = Stream {
            dict: pdf_dict! { b"Filter" => Object::name(b"FlateDecode") },
            data: deflate(b"hello xref"),
        };
        assert_eq!(decode(&stream).unwrap(), b"hello xref");

        // Two rows of 3 columns with the Up predictor: second row stores differences.
        let raw = [2u8, 1, 2, 3, 2, 1, 1, 1];
        let stream = Stream {
            dict: pdf_dict! {
                b"Filter" => Object::name(b"FlateDecode"),
                b"DecodeParms" => pdf_dict! { b"Predictor" => 12i64, b"Columns" => 3i64 },
            },
            data: deflate(&raw),
        };
        assert_eq!(decode(&stream).unwrap(), [1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn bombs_are_refused() {
        let limit = 1 << 20;
        let zeros = vec![0u8; 50 * limit];
        let stream = Stream {
            dict: pdf_dict! { b"Filter" => Object::name(b"FlateDecode") },
            data: deflate(&zeros),
        };
        assert!(
            stream.data.len() < limit / 10,
            "a bomb: small in, large out"
        );
        assert!(matches!(
            decode_with_limit(&stream, limit),
            Err(Error::Filter(_))
        ));
    }
}
