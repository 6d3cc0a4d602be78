//! RFC 3161 time-stamp protocol, client side: build a `TimeStampReq`, send it over HTTP
//! (RFC 3161 §3.4), check the `TimeStampResp` status, and read the `TSTInfo` of a token (message
//! imprint, time, nonce) so callers can check that the token covers what they hashed.
//!
//! Refused: HTTPS (no TLS stack here; TSAs in this deployment are reached over the local network
//! or a proxy), BER indefinite lengths in responses (TSAs answer in DER), responses over 1 MiB.
//! Not done here: verifying the token's CMS signature and the TSA certificate; that belongs to
//! `cms` and `pki`, and the token bytes are handed on unchanged for them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::signer::DigestAlgorithm;

/// What went wrong talking to a TSA or reading its answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported TSA URL {url:?}: only http://host[:port]/path is supported")]
    UnsupportedUrl { url: String },
    #[error("cannot exchange a time-stamp request with TSA {url}")]
    Io {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("TSA {url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("TSA {url} answered with a malformed HTTP response")]
    MalformedHttp { url: String },
    #[error("TSA response larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("TSA refused the request: PKIStatus {status}")]
    Rejected { status: u64 },
    #[error("malformed DER in {what} at byte {offset}")]
    Der { what: &'static str, offset: usize },
    #[error("time-stamp token imprint does not match the request")]
    ImprintMismatch,
    #[error("time-stamp token nonce does not match the request")]
    NonceMismatch,
}

/// The largest TSA response read. A token with a 3-certificate chain is ~6 KB.
const MAX_RESPONSE: usize = 1 << 20;

/// The fields of a `TSTInfo` (RFC 3161 §2.4.2) that callers check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TstInfo {
    /// DER of the `hashAlgorithm` OID's contents.
    pub hash_oid: Vec<u8>,
    pub hashed_message: Vec<u8>,
    /// `genTime` as written (GeneralizedTime, e.g. `20260101120000Z`).
    pub gen_time: String,
    pub nonce: Option<Vec<u8>>,
}

impl TstInfo {
    /// The digest algorithm of the imprint, if it is one kyso knows.
    pub fn digest(&self) -> Option<DigestAlgorithm> {
        [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|d| oid_contents(*d) == self.hash_oid.as_slice())
    }
}

/// DER `TimeStampReq` (RFC 3161 §2.4.1), version 1, asking for the TSA certificate.
pub fn request(digest: DigestAlgorithm, hashed: &[u8], nonce: &[u8]) -> Vec<u8> {
    let algorithm = tlv(
        0x30,
        &[tlv(0x06, oid_contents(digest)), vec![0x05, 0x00]].concat(),
    );
    let imprint = tlv(0x30, &[algorithm, tlv(0x04, hashed)].concat());
    let body = [
        tlv(0x02, &[1]),
        imprint,
        tlv(0x02, &positive_integer(nonce)),
        tlv(0x01, &[0xFF]),
    ]
    .concat();
    tlv(0x30, &body)
}

/// Asks the TSA at `url` for a token over `hashed` and checks that the token's imprint and
/// nonce are the ones asked for. Returns the token (DER `ContentInfo`).
pub fn timestamp(
    url: &str,
    digest: DigestAlgorithm,
    hashed: &[u8],
    nonce: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let req = request(digest, hashed, nonce);
    let resp = post(url, "application/timestamp-query", &req, timeout)?;
    let token = token_from_response(&resp)?;
    let info = tst_info(&token)?;
    if info.hash_oid != oid_contents(digest) || info.hashed_message != hashed {
        return Err(Error::ImprintMismatch);
    }
    if info.nonce.as_deref() != Some(positive_integer(nonce).as_slice()) {
        return Err(Error::NonceMismatch);
    }
    Ok(token)
}

/// The token inside a `TimeStampResp`, if the status is granted (0) or grantedWithMods (1).
pub fn token_from_response(der: &[u8]) -> Result<Vec<u8>, Error> {
    let what = "TimeStampResp";
    let (resp, _) = read(der, 0, 0x30, what)?;
    let (status_info, after) = read(der, resp.start, 0x30, what)?;
    let (status, _) = read(der, status_info.start, 0x02, what)?;
    let value = der[status.clone()].iter().fold(0u64, |acc, &b| {
        acc.saturating_mul(256).saturating_add(u64::from(b))
    });
    if value > 1 {
        return Err(Error::Rejected { status: value });
    }
    let (token, _) = read(der, after, 0x30, what)?;
    // The whole ContentInfo, header included.
    let header_start = after;
    Ok(der[header_start..token.end].to_vec())
}

/// Reads the `TSTInfo` of a token: ContentInfo → SignedData → encapContentInfo → eContent.
pub fn tst_info(token: &[u8]) -> Result<TstInfo, Error> {
    let what = "TimeStampToken";
    let (ci, _) = read(token, 0, 0x30, what)?;
    let (_, after_oid) = read(token, ci.start, 0x06, what)?;
    let (explicit, _) = read(token, after_oid, 0xA0, what)?;
    let (sd, _) = read(token, explicit.start, 0x30, what)?;
    let (_, p) = read(token, sd.start, 0x02, what)?; // version
    let (_, p) = read(token, p, 0x31, what)?; // digestAlgorithms
    let (eci, _) = read(token, p, 0x30, what)?;
    let (_, p) = read(token, eci.start, 0x06, what)?; // eContentType
    let (e0, _) = read(token, p, 0xA0, what)?;
    let (octets, _) = read(token, e0.start, 0x04, what)?;

    let what = "TSTInfo";
    let (info, _) = read(token, octets.start, 0x30, what)?;
    let (_, p) = read(token, info.start, 0x02, what)?; // version
    let (_, p) = read(token, p, 0x06, what)?; // policy
    let (imprint, p) = read(token, p, 0x30, what)?;
    let (alg, after_alg) = read(token, imprint.start, 0x30, what)?;
    let (oid, _) = read(token, alg.start, 0x06, what)?;
    let (hashed, _) = read(token, after_alg, 0x04, what)?;
    let (_, p) = read(token, p, 0x02, what)?; // serialNumber
    let (time, mut p) = read(token, p, 0x18, what)?;
    let mut nonce = None;
    while p < info.end {
        let (tag, content, next) = read_any(token, p, what)?;
        match tag {
            0x30 => {} // accuracy
            0x01 => {} // ordering
            0x02 => nonce = Some(token[content].to_vec()),
            _ => break, // tsa [0], extensions [1]
        }
        p = next;
    }
    Ok(TstInfo {
        hash_oid: token[oid].to_vec(),
        hashed_message: token[hashed].to_vec(),
        gen_time: String::from_utf8_lossy(&token[time]).into_owned(),
        nonce,
    })
}

/// POSTs `body` to an `http://` URL and returns the response body.
pub fn post(
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, Error> {
    let unsupported = || Error::UnsupportedUrl {
        url: url.to_owned(),
    };
    let rest = url.strip_prefix("http://").ok_or_else(unsupported)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(unsupported());
    }
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let io = |source| Error::Io {
        url: url.to_owned(),
        source,
    };
    let mut stream = TcpStream::connect(&address).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    let mut response = Vec::new();
    stream
        .take((MAX_RESPONSE + 16 * 1024) as u64)
        .read_to_end(&mut response)
        .map_err(io)?;
    let malformed = || Error::MalformedHttp {
        url: url.to_owned(),
    };
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(malformed)?;
    let head = std::str::from_utf8(&response[..split]).map_err(|_| malformed())?;
    let status: u16 = head
        .split_ascii_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    if status != 200 {
        return Err(Error::HttpStatus {
            url: url.to_owned(),
            status,
        });
    }
    let body = response[split + 4..].to_vec();
    if body.len() > MAX_RESPONSE {
        return Err(Error::TooLarge {
            limit: MAX_RESPONSE,
        });
    }
    Ok(body)
}

/// Contents of the digest algorithm OIDs (NIST hash algorithms arc, RFC 5754 §2).
fn oid_contents(d: DigestAlgorithm) -> &'static [u8] {
    match d {
        DigestAlgorithm::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
        DigestAlgorithm::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
        DigestAlgorithm::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
    }
}

/// The minimal two's-complement encoding of a non-negative big-endian number.
fn positive_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed = match magnitude.iter().position(|&b| b != 0) {
        Some(i) => &magnitude[i..],
        None => &[0u8][..],
    };
    let mut out = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
    out
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    crate::asn1::tlv(tag, content)
}

/// Reads one DER element at `at` with the expected tag: its content range and where the next
/// element starts.
fn read(
    der: &[u8],
    at: usize,
    tag: u8,
    what: &'static str,
) -> Result<(std::ops::Range<usize>, usize), Error> {
    let (t, content, next) = read_any(der, at, what)?;
    if t != tag {
        return Err(Error::Der { what, offset: at });
    }
    Ok((content, next))
}

fn read_any(
    der: &[u8],
    at: usize,
    what: &'static str,
) -> Result<(u8, std::ops::Range<usize>, usize), Error> {
    let err = || Error::Der { what, offset: at };
    let tag = *der.get(at).ok_or_else(err)?;
    let first = *der.get(at + 1).ok_or_else(err)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return Err(err()); // indefinite or absurd length
        }
        let bytes = der.get(at + 2..at + 2 + n).ok_or_else(err)?;
        (
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            2 + n,
        )
    };
    let start = at + header;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= der.len())
        .ok_or_else(err)?;
    Ok((tag, start..end, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding_is_der() {
        let req = request(DigestAlgorithm::Sha256, &[0xAB; 32], &[0x80, 1]);
        // SEQUENCE { INTEGER 1, SEQUENCE { SEQUENCE { OID sha256, NULL }, OCTET STRING },
        //            INTEGER nonce (with a 0x00 pad), BOOLEAN TRUE }
        assert_eq!(req[0], 0x30);
        assert_eq!(usize::from(req[1]), req.len() - 2);
        assert_eq!(&req[2..5], &[0x02, 0x01, 0x01]);
        let tail = &req[req.len() - 8..];
        assert_eq!(tail, &[0x02, 0x03, 0x00, 0x80, 0x01, 0x01, 0x01, 0xFF]);
    }

    #[test]
    fn rejects_non_http_urls() {
        for url in ["https://tsa.example/", "ftp://x/", "http://user@host/"] {
            assert!(matches!(
                post(url, "a/b", b"", Duration::from_secs(1)),
                Err(Error::UnsupportedUrl { .. })
            ));
        }
    }

    #[test]
    fn rejected_status_is_reported() {
        // TimeStampResp { status PKIStatusInfo { status 2 (rejection) } }
        let der = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        assert!(matches!(
            token_from_response(&der),
            Err(Error::Rejected { status: 2 })
        ));
    }
}
