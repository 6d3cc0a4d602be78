//! An attachment's bytes: base64 decoded, unzipped when they are a ZIP, under bounds.
//!
//! QCVN 102:2016 carries each attachment base64-encoded in `ContentTransferEncoded`; the SDK
//! and most producers zip it first (one entry), some do not, and `ContentType` says either
//! `application/zip` or the document's own type whatever the bytes are. So the bytes decide:
//! a local-file-header signature (`PK\x03\x04`, APPNOTE 4.3.7) means a ZIP.
//!
//! Bounds, as [`crate::batch`] bounds archives against bombs: a ZIP must hold exactly one
//! entry (checked from the end-of-central-directory record before the directory is read); an
//! entry inflates to at most [`Limits::max_bytes`] and at most [`Limits::max_ratio`] times its
//! compressed size (the batch's 200:1, with the same 1 MiB of grace), whatever its header
//! claims; and a package's attachments together to at most [`Limits::max_total_bytes`].

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// Limits on one package's attachments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Attachments verified per package. Real packages carry the document and a handful of
    /// appendices; each attachment costs a full verification.
    pub max_attachments: usize,
    /// Bytes of one attachment after decoding and inflating. A package is at most 32 MiB of
    /// XML (the XML parser's limit), so 24 MiB of base64 payload; PDFs inflate at most about
    /// 2:1, so 64 MiB admits every real attachment.
    pub max_bytes: u64,
    /// Bytes of all of a package's attachments together: a bomb spread over many small
    /// attachments stops here.
    pub max_total_bytes: u64,
    /// Inflated bytes per compressed byte ([`crate::batch::Limits`]'s ratio: XML compresses
    /// 10–30:1, deflate at most ~1032:1, which is what bombs use).
    pub max_ratio: u64,
    /// Entries inflating to at most this many bytes are never refused on ratio.
    pub ratio_grace_bytes: u64,
    /// Packages inside packages verified: one level (a forwarded package), not more.
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let batch = crate::batch::Limits::default();
        Limits {
            max_attachments: 64,
            max_bytes: 64 * 1024 * 1024,
            max_total_bytes: 128 * 1024 * 1024,
            max_ratio: batch.max_zip_ratio,
            ratio_grace_bytes: 1024 * 1024,
            max_nesting: 1,
        }
    }
}

/// How the attachment's bytes came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compression {
    /// base64 of the document itself.
    None,
    /// base64 of a one-entry ZIP; the entry's name.
    Zip { entry: String },
}

/// Decoded content.
#[derive(Clone, Debug)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub compression: Compression,
}

/// Why an attachment could not be read: the package is malformed, or the attachment goes past
/// a limit (could not check).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the content is not base64: {0}")]
    Base64(String),
    #[error("the content is empty")]
    Empty,
    #[error("the ZIP cannot be read: {0}")]
    Zip(String),
    #[error("the ZIP holds {entries} entries; an edXML attachment is one document")]
    Entries { entries: u64 },
    #[error("the ZIP entry is encrypted")]
    Encrypted,
    #[error("the ZIP entry inflates to {inflated} bytes but its header says {declared}")]
    SizeMismatch { inflated: u64, declared: u64 },
    #[error("{size} bytes, more than the {limit}-byte limit for one attachment")]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "refused as a zip bomb: {compressed} compressed bytes inflate past {cap} (more than {ratio}:1)"
    )]
    Bomb {
        compressed: u64,
        cap: u64,
        ratio: u64,
    },
    #[error("the package's attachments together exceed {limit} bytes")]
    TotalTooLarge { limit: u64 },
}

impl Error {
    /// Whether the package itself is malformed (else a limit of kyso's stopped the reading:
    /// could not check).
    pub fn is_malformed(&self) -> bool {
        !matches!(
            self,
            Error::TooLarge { .. } | Error::Bomb { .. } | Error::TotalTooLarge { .. }
        )
    }
}

/// Decodes `encoded` (base64, white space ignored, padding optional) and unzips it when it is
/// a ZIP. `spent` counts the package's decoded bytes so far, against
/// [`Limits::max_total_bytes`].
pub fn decode(encoded: &str, limits: &Limits, spent: &mut u64) -> Result<Decoded, Error> {
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(Error::Empty);
    }
    // Base64 is 4 characters for 3 bytes: a bound known before decoding.
    let decoded_len = (compact.len() as u64 / 4) * 3;
    if decoded_len > limits.max_bytes {
        return Err(Error::TooLarge {
            size: decoded_len,
            limit: limits.max_bytes,
        });
    }
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let raw = LENIENT
        .decode(&compact)
        .or_else(|_| general_purpose::URL_SAFE.decode(&compact))
        .map_err(|e| Error::Base64(e.to_string()))?;
    drop(compact);
    let decoded = if raw.starts_with(b"PK\x03\x04") {
        unzip(&raw, limits)?
    } else {
        Decoded {
            bytes: raw,
            compression: Compression::None,
        }
    };
    *spent = spent.saturating_add(decoded.bytes.len() as u64);
    if *spent > limits.max_total_bytes {
        return Err(Error::TotalTooLarge {
            limit: limits.max_total_bytes,
        });
    }
    Ok(decoded)
}

/// The one entry of a ZIP, inflated under the limits.
fn unzip(zip: &[u8], limits: &Limits) -> Result<Decoded, Error> {
    if let Some(entries) = declared_entries(zip)
        && entries != 1
    {
        return Err(Error::Entries { entries });
    }
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| Error::Zip(e.to_string()))?;
    if archive.len() != 1 {
        return Err(Error::Entries {
            entries: archive.len() as u64,
        });
    }
    let file = archive.by_index(0).map_err(|e| Error::Zip(e.to_string()))?;
    if file.encrypted() {
        return Err(Error::Encrypted);
    }
    if file.is_dir() {
        return Err(Error::Zip("the entry is a folder".to_owned()));
    }
    let entry = file
        .name()
        .map_err(|e| Error::Zip(e.to_string()))?
        .into_owned();
    let compressed = file.compressed_size();
    let declared = file.size();
    if declared > limits.max_bytes {
        return Err(Error::TooLarge {
            size: declared,
            limit: limits.max_bytes,
        });
    }
    let by_ratio = compressed
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_grace_bytes);
    let cap = limits.max_bytes.min(by_ratio);
    let mut bytes = Vec::with_capacity(usize::try_from(declared.min(cap)).unwrap_or(0));
    // The declared size may lie: the cap holds whatever the stream inflates to.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Zip(e.to_string()))?;
    let inflated = bytes.len() as u64;
    if inflated > cap {
        return Err(if cap == by_ratio {
            Error::Bomb {
                compressed,
                cap,
                ratio: limits.max_ratio,
            }
        } else {
            Error::TooLarge {
                size: inflated,
                limit: limits.max_bytes,
            }
        });
    }
    if inflated != declared {
        return Err(Error::SizeMismatch { inflated, declared });
    }
    Ok(Decoded {
        bytes,
        compression: Compression::Zip { entry },
    })
}

/// The entry count the end-of-central-directory record declares (APPNOTE 4.3.16), read before
/// the zip reader indexes the directory; `None` without a record, or for ZIP64 (0xFFFF), which
/// the reader's own count then decides.
fn declared_entries(zip: &[u8]) -> Option<u64> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    // The record is 22 bytes plus a comment of at most 65,535.
    let tail = &zip[zip.len().saturating_sub(22 + 65_535)..];
    let at = (0..tail.len().checked_sub(21)?)
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)?;
    let entries = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
    (entries != 0xffff).then_some(u64::from(entries))
}

/// Writes `bytes` as a one-entry ZIP named `name`, deflated, dated `at` (Vietnam's time, as
/// ZIP's MS-DOS times are local).
pub fn zip_one(name: &str, bytes: &[u8], at: time::OffsetDateTime) -> Result<Vec<u8>, String> {
    use std::io::Write as _;
    let local = at.to_offset(crate::VIETNAM);
    let when = zip::DateTime::from_date_and_time(
        u16::try_from(local.year()).map_err(|e| e.to_string())?,
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
    )
    .map_err(|e| e.to_string())?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(when);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file(name, options)
        .map_err(|e| e.to_string())?;
    writer.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(writer.finish().map_err(|e| e.to_string())?.into_inner())
}

/// What the bytes are, by their first bytes: a PDF (`%PDF-` in the first kilobyte, as the
/// verifier looks for it), an edXML package, other XML, or something kyso does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Edxml,
    Xml,
    Other,
}

impl Kind {
    pub fn of(bytes: &[u8]) -> Kind {
        let head = &bytes[..bytes.len().min(1024)];
        if head.windows(5).any(|w| w == b"%PDF-") {
            return Kind::Pdf;
        }
        if super::sniff(bytes) != super::Sniffed::Other {
            return Kind::Edxml;
        }
        let text = head.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(head);
        let first = text.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'<')
            || head.starts_with(&[0xfe, 0xff])
            || head.starts_with(&[0xff, 0xfe])
        {
            return Kind::Xml;
        }
        Kind::Other
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Edxml => "edxml",
            Kind::Xml => "xml",
            Kind::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn plain_and_zipped_content_decode_to_the_same_bytes() {
        let limits = Limits::default();
        let document = b"%PDF-1.7 a document".to_vec();
        let mut spent = 0;
        let plain = decode(&b64(&document), &limits, &mut spent).unwrap();
        assert_eq!(plain.bytes, document);
        assert_eq!(plain.compression, Compression::None);
        let zipped = zip_one(
            "qđ.pdf",
            &document,
            time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
        )
        .unwrap();
        // Line-wrapped base64, as MIME writes it.
        let wrapped: String = b64(&zipped)
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        let unzipped = decode(&wrapped, &limits, &mut spent).unwrap();
        assert_eq!(unzipped.bytes, document);
        assert_eq!(
            unzipped.compression,
            Compression::Zip {
                entry: "qđ.pdf".to_owned()
            }
        );
        assert_eq!(spent, 2 * document.len() as u64);
    }

    #[test]
    fn bombs_and_oversized_content_are_refused() {
        let limits = Limits {
            max_bytes: 4 * 1024 * 1024,
            ..Limits::default()
        };
        let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let bomb = zip_one("bomb.pdf", &vec![0u8; 3 * 1024 * 1024], at).unwrap();
        let mut spent = 0;
        assert!(matches!(
            decode(&b64(&bomb), &limits, &mut spent),
            Err(Error::Bomb { .. })
        ));
        let big = zip_one("big.pdf", &vec![7u8; 5 * 1024 * 1024], at).unwrap();
        assert!(matches!(
            decode(
                &b64(&big),
                &Limits {
                    max_ratio: 100_000,
                    ..limits
                },
                &mut spent
            ),
            Err(Error::TooLarge { .. })
        ));
        let small = Limits {
            max_total_bytes: 10,
            ..limits
        };
        let mut spent = 0;
        decode(&b64(b"0123456"), &small, &mut spent).unwrap();
        assert!(matches!(
            decode(&b64(b"0123456"), &small, &mut spent),
            Err(Error::TotalTooLarge { .. })
        ));
        assert!(matches!(
            decode("not base64!", &limits, &mut 0),
            Err(Error::Base64(_))
        ));
        assert!(matches!(decode(" \n", &limits, &mut 0), Err(Error::Empty)));
    }

    #[test]
    fn a_zip_of_two_entries_is_refused() {
        use std::io::Write as _;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for name in ["a.pdf", "b.pdf"] {
            writer.start_file(name, options).unwrap();
            writer.write_all(b"%PDF-").unwrap();
        }
        let zip = writer.finish().unwrap().into_inner();
        assert!(matches!(
            decode(&b64(&zip), &Limits::default(), &mut 0),
            Err(Error::Entries { entries: 2 })
        ));
    }
}
