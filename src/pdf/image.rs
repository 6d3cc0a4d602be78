//! PNG images for signature appearances — the signer's handwritten signature and the unit's
//! seal — decoded and written as image XObjects (ISO 32000-2 §8.9.5 image dictionaries), with
//! the alpha channel as a soft mask (`/SMask`, §11.6.5.3) so that a seal on a transparent
//! background shows the page and the text beneath it.
//!
//! What it owns: decoding (any PNG colour type and bit depth, palettes and `tRNS` included,
//! through the `png` crate), splitting colour from alpha, and FlateDecode re-encoding.
//! What it refuses: anything that is not a PNG, and images larger than [`MAX_SIDE`] on a side —
//! an appearance is a few centimetres wide, and a decompression bomb must not take the
//! service's memory.

use std::io::Cursor;

use super::font::flate_stream;
use super::incremental::IncrementalUpdate;
use super::object::{Object, ObjectId};
use crate::pdf_dict;

/// Largest width or height accepted, in pixels. A 5 cm seal scanned at 600 dpi is about 1200
/// pixels; 4096 leaves a factor of three, and bounds a decoded RGBA image to 64 MiB.
pub const MAX_SIDE: u32 = 4096;

/// Why an image could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not a PNG image (no PNG signature in the first 8 bytes)")]
    NotPng,
    #[error("cannot decode the PNG image: {reason}")]
    Decode { reason: String },
    #[error("the PNG image is {width}×{height} pixels; at most {max}×{max} is accepted")]
    TooLarge { width: u32, height: u32, max: u32 },
}

/// A decoded PNG: 8-bit samples, gray or RGB, and the alpha channel if any pixel is not opaque.
#[derive(Clone)]
pub struct PngImage {
    width: u32,
    height: u32,
    color: ColorSpace,
    samples: Vec<u8>,
    alpha: Option<Vec<u8>>,
    /// Pixels per metre across and down, from a `pHYs` chunk whose unit is the metre (PNG
    /// §11.3.5.3): what makes an image's real size known, as a seal's must be.
    pixels_per_metre: Option<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColorSpace {
    Gray,
    Rgb,
}

impl std::fmt::Debug for PngImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PngImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("color", &self.color)
            .field("alpha", &self.alpha.is_some())
            .finish()
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

impl PngImage {
    /// Decodes a PNG file's bytes.
    pub fn decode(bytes: &[u8]) -> Result<PngImage, Error> {
        if !bytes.starts_with(PNG_SIGNATURE) {
            return Err(Error::NotPng);
        }
        let decode_error = |e: png::DecodingError| Error::Decode {
            reason: e.to_string(),
        };
        let mut decoder = png::Decoder::new_with_limits(
            Cursor::new(bytes),
            png::Limits {
                // Room for the largest accepted image as RGBA, plus the decoder's row buffers.
                bytes: (MAX_SIDE as usize).pow(2) * 4 + (1 << 20),
            },
        );
        // Palettes and tRNS expanded, 16-bit samples reduced: 8-bit gray, gray+alpha, RGB or
        // RGBA out, whatever came in.
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        // The header is read before any pixel buffer is allocated: an oversized image is
        // refused on its declared size.
        let mut reader = decoder.read_info().map_err(decode_error)?;
        let (width, height) = (reader.info().width, reader.info().height);
        let pixels_per_metre = reader
            .info()
            .pixel_dims
            .filter(|d| d.unit == png::Unit::Meter && d.xppu > 0 && d.yppu > 0)
            .map(|d| (d.xppu, d.yppu));
        if width > MAX_SIDE || height > MAX_SIDE || width == 0 || height == 0 {
            return Err(Error::TooLarge {
                width,
                height,
                max: MAX_SIDE,
            });
        }
        let size = reader.output_buffer_size().ok_or_else(|| Error::Decode {
            reason: "the image size overflows".into(),
        })?;
        let mut buffer = vec![0; size];
        let frame = reader.next_frame(&mut buffer).map_err(decode_error)?;
        buffer.truncate(frame.buffer_size());
        let (channels, color, has_alpha) = match frame.color_type {
            png::ColorType::Grayscale => (1, ColorSpace::Gray, false),
            png::ColorType::GrayscaleAlpha => (2, ColorSpace::Gray, true),
            png::ColorType::Rgb => (3, ColorSpace::Rgb, false),
            png::ColorType::Rgba => (4, ColorSpace::Rgb, true),
            png::ColorType::Indexed => {
                return Err(Error::Decode {
                    reason: "palette not expanded".into(),
                });
            }
        };
        if frame.bit_depth != png::BitDepth::Eight {
            return Err(Error::Decode {
                reason: format!("unexpected bit depth {:?} after expansion", frame.bit_depth),
            });
        }
        let pixels = width as usize * height as usize;
        let row = width as usize * channels;
        let mut samples = Vec::with_capacity(pixels * channels);
        let mut alpha = Vec::with_capacity(if has_alpha { pixels } else { 0 });
        // Rows may be padded to the frame's line size; take each row's pixels.
        for line in buffer.chunks(frame.line_size).take(height as usize) {
            for pixel in line[..row.min(line.len())].chunks(channels) {
                if has_alpha {
                    let (color, a) = pixel.split_at(channels - 1);
                    samples.extend_from_slice(color);
                    alpha.push(a[0]);
                } else {
                    samples.extend_from_slice(pixel);
                }
            }
        }
        let colour_channels = if has_alpha { channels - 1 } else { channels };
        if samples.len() != pixels * colour_channels {
            return Err(Error::Decode {
                reason: "truncated image data".into(),
            });
        }
        // A fully opaque alpha channel is dropped: a soft mask that masks nothing only costs
        // bytes and reader time.
        let alpha = (has_alpha && alpha.iter().any(|a| *a != 255)).then_some(alpha);
        Ok(PngImage {
            width,
            height,
            color,
            samples,
            alpha,
            pixels_per_metre,
        })
    }

    /// The image's real width and height in points, when the file says its resolution (a
    /// `pHYs` chunk in pixels per metre); `None` when it does not.
    pub fn physical_size(&self) -> Option<(f64, f64)> {
        // 1 m = 1000/25.4 in = 72000/25.4 pt.
        const POINTS_PER_METRE: f64 = 72_000.0 / 25.4;
        self.pixels_per_metre.map(|(x, y)| {
            (
                f64::from(self.width) / f64::from(x) * POINTS_PER_METRE,
                f64::from(self.height) / f64::from(y) * POINTS_PER_METRE,
            )
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether some pixel is not fully opaque (and the image gets a soft mask).
    pub fn has_transparency(&self) -> bool {
        self.alpha.is_some()
    }

    /// Puts the image XObject (and its soft mask) into `update`; returns the image's reference.
    pub fn write(&self, update: &mut IncrementalUpdate<'_, '_>) -> ObjectId {
        let id = update.allocate();
        let mut dict = pdf_dict! {
            b"Type" => Object::name(b"XObject"),
            b"Subtype" => Object::name(b"Image"),
            b"Width" => i64::from(self.width),
            b"Height" => i64::from(self.height),
            b"ColorSpace" => Object::name(match self.color {
                ColorSpace::Gray => b"DeviceGray",
                ColorSpace::Rgb => b"DeviceRGB",
            }),
            b"BitsPerComponent" => 8i64,
        };
        if let Some(alpha) = &self.alpha {
            let mask_id = update.allocate();
            update.put(
                mask_id,
                flate_stream(
                    pdf_dict! {
                        b"Type" => Object::name(b"XObject"),
                        b"Subtype" => Object::name(b"Image"),
                        b"Width" => i64::from(self.width),
                        b"Height" => i64::from(self.height),
                        b"ColorSpace" => Object::name(b"DeviceGray"),
                        b"BitsPerComponent" => 8i64,
                    },
                    alpha,
                ),
            );
            dict.set(b"SMask", mask_id);
        }
        update.put(id, flate_stream(dict, &self.samples));
        id
    }
}

/// Encodes 8-bit RGBA pixels as a PNG (for generated sample images).
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn encode_rgba(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    encode_rgba_at(width, height, rgba, None)
}

/// [`encode_rgba`] with a resolution in pixels per metre (a `pHYs` chunk), which gives the
/// image a real size.
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn encode_rgba_at(
    width: u32,
    height: u32,
    rgba: &[u8],
    pixels_per_metre: Option<u32>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_pixel_dims(pixels_per_metre.map(|ppm| png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    // Writing into a Vec fails only on a size mismatch, which the callers rule out.
    if let Ok(mut writer) = encoder.write_header() {
        let _ = writer.write_image_data(rgba);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_with_transparency_keeps_its_alpha() {
        let mut rgba = Vec::new();
        for i in 0..(4 * 3) {
            rgba.extend_from_slice(&[200, 0, 0, if i % 2 == 0 { 0 } else { 255 }]);
        }
        let png = encode_rgba(4, 3, &rgba);
        let image = PngImage::decode(&png).unwrap();
        assert_eq!((image.width(), image.height()), (4, 3));
        assert!(image.has_transparency());
        assert_eq!(image.samples.len(), 4 * 3 * 3);
        assert_eq!(image.alpha.as_ref().unwrap()[..2], [0, 255]);
    }

    #[test]
    fn the_real_size_comes_from_the_resolution() {
        let plain = PngImage::decode(&encode_rgba(8, 8, &[0; 8 * 8 * 4])).unwrap();
        assert_eq!(plain.physical_size(), None);
        // 400 pixels at 10,000 per metre: 40 mm, 113.386 pt.
        let rgba = vec![0; 400 * 200 * 4];
        let sized = PngImage::decode(&encode_rgba_at(400, 200, &rgba, Some(10_000))).unwrap();
        let (w, h) = sized.physical_size().unwrap();
        assert!((w - 40.0 / 25.4 * 72.0).abs() < 1e-9, "{w}");
        assert!((h - 20.0 / 25.4 * 72.0).abs() < 1e-9, "{h}");
    }

    #[test]
    fn opaque_images_get_no_mask() {
        let png = encode_rgba(2, 2, &[10, 20, 30, 255].repeat(4));
        let image = PngImage::decode(&png).unwrap();
        assert!(!image.has_transparency());
        assert_eq!(image.samples, [10, 20, 30].repeat(4));
    }

    #[test]
    fn refuses_non_png_truncated_and_huge() {
        assert!(matches!(PngImage::decode(b"GIF89a..."), Err(Error::NotPng)));
        let png = encode_rgba(8, 8, &[0; 8 * 8 * 4]);
        assert!(matches!(
            PngImage::decode(&png[..png.len() / 2]),
            Err(Error::Decode { .. })
        ));
        let huge = encode_rgba(MAX_SIDE + 1, 1, &vec![0; (MAX_SIDE as usize + 1) * 4]);
        assert!(matches!(
            PngImage::decode(&huge),
            Err(Error::TooLarge { .. })
        ));
    }
}
