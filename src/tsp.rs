//! RFC 3161 time-stamp protocol, client side: build a `TimeStampReq`, send it over HTTP
//! (RFC 3161 §3.4), check the `TimeStampResp` status, and check that the token's `TSTInfo`
//! covers what was hashed, with the nonce sent. The response and the token are read by
//! [`crate::cms`], the one reader of them.
//!
//! Refused: HTTPS (no TLS stack here; TSAs in this deployment are reached over the local network
//! or a proxy), BER in responses (RFC 3161 has TSAs answer in DER), responses over 1 MiB.
//! Not done here: verifying the token's CMS signature and the TSA certificate; that belongs to
//! `cms` and `pki`, and the token bytes are handed on unchanged for them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::ber::canonical_integer;
use crate::cms::{self, TimeStampResp, TstInfo};
use crate::der;
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
    #[error("malformed time-stamp response: {0}")]
    Malformed(#[from] cms::ParseError),
    #[error("time-stamp token imprint does not match the request")]
    ImprintMismatch,
    #[error("time-stamp token nonce does not match the request")]
    NonceMismatch,
}

/// The largest TSA response read. A token with a 3-certificate chain is ~6 KB.
const MAX_RESPONSE: usize = 1 << 20;

/// DER `TimeStampReq` (RFC 3161 §2.4.1), version 1, asking for the TSA certificate.
///
/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    messageImprint               MessageImprint,
///    reqPolicy             TSAPolicyId              OPTIONAL,
///    nonce                 INTEGER                  OPTIONAL,
///    certReq               BOOLEAN                  DEFAULT FALSE,
///    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
/// ```
pub fn request(digest: DigestAlgorithm, hashed: &[u8], nonce: &[u8]) -> Vec<u8> {
    let imprint = der::sequence(&[
        &der::algorithm_identifier(digest.oid(), Some(&der::null())),
        &der::octet_string(hashed),
    ]);
    der::sequence(&[
        &der::unsigned_integer(&[1]),
        &imprint,
        &der::unsigned_integer(nonce),
        &der::boolean(true),
    ])
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
    let answer = post(url, "application/timestamp-query", &req, timeout)?;
    let response = TimeStampResp::parse(&answer)?;
    if !response.granted() {
        return Err(Error::Rejected {
            status: response.status,
        });
    }
    let token = response.token.ok_or(cms::ParseError::NotTstInfo(
        "a granted TimeStampResp without a token".to_owned(),
    ))?;
    let info = TstInfo::of_token(token)?;
    if !info.hash_algorithm().is(digest.oid()) || info.hashed_message != hashed {
        return Err(Error::ImprintMismatch);
    }
    let asked = der::unsigned_integer_content(nonce);
    if info.nonce.as_deref().map(canonical_integer) != Some(canonical_integer(&asked)) {
        return Err(Error::NonceMismatch);
    }
    Ok(token.to_vec())
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
}
