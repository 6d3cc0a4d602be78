//! RFC 3161 time-stamp protocol, client side: build a `TimeStampReq`, send it to a TSA over
//! HTTP or HTTPS (RFC 3161 §3.4), check the `TimeStampResp` status, and check that the token's
//! `TSTInfo` covers what was hashed, with the nonce sent. The response and the token are read
//! by [`crate::cms`], the one reader of them.
//!
//! Owns: the request's DER and the exchange, through [`crate::http`]: one deadline for the whole
//! exchange ([`Tsa::timeout`]), sized or chunked bodies, answers over [`MAX_RESPONSE`] refused,
//! no redirects (credentials and the scheme stay what was configured), `https://` checked
//! against the platform's roots or a configured CA ([`Access::roots`]), and HTTP authentication
//! for commercial TSAs ([`Credentials`]: basic, RFC 7617, or bearer, RFC 6750), read from a
//! secret source and sent over `https://` only. Refuses: other schemes, credentials in the URL.
//! Not done here: verifying the token's CMS signature and the TSA certificate; that belongs to
//! `pki`, and the token bytes are handed on unchanged for it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::ber::canonical_integer;
use crate::cms::{self, TimeStampResp, TstInfo};
use crate::der;
use crate::http::{self, Failure, TlsRoots};
use crate::secret::{self, SecretSource};
use crate::signer::DigestAlgorithm;

/// What went wrong talking to a TSA or reading its answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the system random generator failed to make a time-stamp nonce")]
    Randomness,
    #[error(
        "unsupported TSA URL {url:?}: expected http:// or https://host[:port]/path, with no credentials in it"
    )]
    UnsupportedUrl { url: String },
    #[error("refusing to send TSA credentials to {url}: they go over https:// only")]
    CredentialsOverHttp { url: String },
    #[error("cannot reach TSA {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("TLS with TSA {url} failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("TSA {url} did not answer within {} s", deadline.as_secs_f32())]
    Timeout { url: String, deadline: Duration },
    #[error("TSA {url} answered HTTP 401: {}", if *credentials_sent {
        "it refused the credentials ([tsa] user and password_source, or token_source)"
    } else {
        "it wants credentials ([tsa] user and password_source, or token_source)"
    })]
    Unauthorized { url: String, credentials_sent: bool },
    #[error("TSA {url} answered HTTP {status}")]
    HttpStatus { url: String, status: u16 },
    #[error("TSA response larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("TSA refused the request: PKIStatus {status}")]
    Rejected { status: u64 },
    #[error("malformed time-stamp response: {0}")]
    Malformed(#[from] cms::ParseError),
    #[error("time-stamp token imprint does not match the request")]
    ImprintMismatch,
    #[error("time-stamp token nonce does not match the request")]
    NonceMismatch,
    #[error("cannot use {} as the TSA's CA ([tsa] ca): {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    #[error("TSA credentials: {0}")]
    Credentials(#[from] secret::Error),
    #[error("TSA credentials: {0}")]
    CredentialSettings(&'static str),
}

/// The largest TSA response read. A token with a 3-certificate chain is ~6 KB.
pub const MAX_RESPONSE: u64 = 1 << 20;

/// An RFC 3161 time-stamping authority and how to reach it.
#[derive(Clone, Debug)]
pub struct Tsa {
    /// `http://` or `https://host[:port]/path`.
    pub url: String,
    /// For the whole exchange: connecting, TLS, the request and the whole answer.
    pub timeout: Duration,
    pub access: Access,
}

/// What a connection to a TSA needs beyond its URL.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Whose certificates an `https://` TSA's chain must reach.
    pub roots: TlsRoots,
    /// HTTP authentication, sent over `https://` only.
    pub credentials: Option<Credentials>,
}

/// HTTP credentials for a TSA that sells its time-stamps. `Debug` shows no secret.
#[derive(Clone)]
pub enum Credentials {
    /// `Authorization: Basic` (RFC 7617).
    Basic {
        user: String,
        password: SecretString,
    },
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Bearer { token: SecretString },
}

impl Tsa {
    /// A TSA with the default 30-second deadline, the platform's roots and no credentials:
    /// public TSAs answer in well under a second, and a DMS would rather see an error than
    /// wait longer.
    pub fn new(url: impl Into<String>) -> Tsa {
        Tsa {
            url: url.into(),
            timeout: Duration::from_secs(30),
            access: Access::default(),
        }
    }
}

impl Access {
    /// Access as `[tsa]` describes it: `ca` (PEM or DER CA certificates) and either `user` with
    /// `password_source` or `token_source`, the sources in the PIN's `file:`/`env:` forms.
    pub fn configured(
        ca: Option<&Path>,
        user: Option<&str>,
        password_source: Option<&str>,
        token_source: Option<&str>,
    ) -> Result<Access, Error> {
        let roots = match ca {
            Some(path) => TlsRoots::Only(Arc::new(load_ca(path)?)),
            None => TlsRoots::Platform,
        };
        let credentials = match (user, password_source, token_source) {
            (None, None, None) => None,
            (Some(user), Some(source), None) => Some(Credentials::Basic {
                user: user.to_owned(),
                password: SecretSource::parse(source)?.read()?,
            }),
            (None, None, Some(source)) => Some(Credentials::Bearer {
                token: SecretSource::parse(source)?.read()?,
            }),
            (_, _, Some(_)) => {
                return Err(Error::CredentialSettings(
                    "give user and password_source (basic) or token_source (bearer), not both",
                ));
            }
            _ => {
                return Err(Error::CredentialSettings(
                    "basic authentication needs both user and password_source",
                ));
            }
        };
        if let Some(Credentials::Basic { user, .. }) = &credentials
            && user.contains(':')
        {
            // RFC 7617 §2: the user-id cannot contain a colon.
            return Err(Error::CredentialSettings("the user name contains ':'"));
        }
        Ok(Access { roots, credentials })
    }
}

impl Credentials {
    /// The `Authorization` header value.
    fn header(&self) -> SecretString {
        match self {
            Credentials::Basic { user, password } => {
                let pair = zeroize::Zeroizing::new(format!("{user}:{}", password.expose_secret()));
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
                SecretString::from(format!("Basic {encoded}"))
            }
            Credentials::Bearer { token } => {
                SecretString::from(format!("Bearer {}", token.expose_secret()))
            }
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, .. }}"),
            Credentials::Bearer { .. } => f.write_str("Bearer { .. }"),
        }
    }
}

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

/// Asks `tsa` for a token over `hashed` with a fresh random nonce, and checks that the token's
/// imprint and nonce are the ones asked for (RFC 3161 §2.4.1: the nonce ties the answer to this
/// request, so a replayed or mixed-up answer is refused). Returns the token (DER `ContentInfo`).
pub fn timestamp(tsa: &Tsa, digest: DigestAlgorithm, hashed: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Randomness)?;
    timestamp_with_nonce(tsa, digest, hashed, &nonce)
}

/// [`timestamp`] with a nonce the caller chose: for tests that check nonce handling.
pub fn timestamp_with_nonce(
    tsa: &Tsa,
    digest: DigestAlgorithm,
    hashed: &[u8],
    nonce: &[u8],
) -> Result<Vec<u8>, Error> {
    let answer = exchange(tsa, &request(digest, hashed, nonce))?;
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

/// POSTs a time-stamp query to the TSA and returns the body of its 200 answer.
fn exchange(tsa: &Tsa, query: &[u8]) -> Result<Vec<u8>, Error> {
    let url = &tsa.url;
    let https = scheme_is_https(url)?;
    if tsa.access.credentials.is_some() && !https {
        return Err(Error::CredentialsOverHttp { url: url.clone() });
    }
    let agent: ureq::Agent = http::config(tsa.timeout, &tsa.access.roots)
        // Statuses are read here; a redirect is answered as one (a TSA has no reason to move,
        // and following could take credentials elsewhere or drop TLS).
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut request = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query");
    if let Some(credentials) = &tsa.access.credentials {
        let mut value = ureq::http::HeaderValue::from_str(credentials.header().expose_secret())
            .map_err(|_| Error::CredentialSettings("not valid in an HTTP header"))?;
        value.set_sensitive(true);
        request = request.header(ureq::http::header::AUTHORIZATION, value);
    }
    let failed = |e| transport_error(tsa, e);
    let mut response = request.send(query).map_err(failed)?;
    match response.status().as_u16() {
        200 => http::read_body(&mut response, MAX_RESPONSE).map_err(failed),
        401 => Err(Error::Unauthorized {
            url: url.clone(),
            credentials_sent: tsa.access.credentials.is_some(),
        }),
        status => Err(Error::HttpStatus {
            url: url.clone(),
            status,
        }),
    }
}

/// Whether `url` is `https://` (else `http://`); anything else, or credentials in it, refused.
fn scheme_is_https(url: &str) -> Result<bool, Error> {
    match http::url_parts(url) {
        Some(parts) if !parts.credentials => Ok(parts.https),
        _ => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
        }),
    }
}

fn transport_error(tsa: &Tsa, error: ureq::Error) -> Error {
    let url = tsa.url.clone();
    match http::failure(error) {
        Failure::Timeout => Error::Timeout {
            url,
            deadline: tsa.timeout,
        },
        Failure::TooLarge(limit) => Error::TooLarge { limit },
        Failure::Tls(reason) => Error::Tls { url, reason },
        Failure::Unreachable(reason) => Error::Unreachable { url, reason },
    }
}

/// The CA certificates in `path`: PEM (one or more CERTIFICATE blocks) or one DER certificate.
fn load_ca(path: &Path) -> Result<Vec<Vec<u8>>, Error> {
    let failed = |reason: String| Error::CaFile {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
    let certificates: Vec<Vec<u8>> = if bytes.first() == Some(&0x30) {
        vec![bytes]
    } else {
        pem::parse_many(&bytes)
            .map_err(|e| failed(format!("not PEM: {e}")))?
            .into_iter()
            .filter(|block| block.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect()
    };
    if certificates.is_empty() {
        return Err(failed("no certificate in it".to_owned()));
    }
    for der in &certificates {
        crate::pki::Certificate::from_der(der).map_err(|e| failed(e.to_string()))?;
    }
    Ok(certificates)
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
    fn refuses_other_schemes_and_credentials_in_urls() {
        for url in [
            "ftp://x/",
            "http://user@host/",
            "https://user:pw@host/",
            "https:///x",
        ] {
            assert!(
                matches!(
                    exchange(&Tsa::new(url), b""),
                    Err(Error::UnsupportedUrl { .. })
                ),
                "{url}"
            );
        }
        assert_eq!(scheme_is_https("https://tsa.example/tsr").ok(), Some(true));
        assert_eq!(scheme_is_https("http://127.0.0.1:3180").ok(), Some(false));
    }

    #[test]
    fn credentials_go_over_https_only_and_never_show() {
        let mut tsa = Tsa::new("http://127.0.0.1:1/tsa");
        tsa.access.credentials = Some(Credentials::Bearer {
            token: SecretString::from("t0ken"),
        });
        assert!(matches!(
            exchange(&tsa, b""),
            Err(Error::CredentialsOverHttp { .. })
        ));
        assert!(!format!("{tsa:?}").contains("t0ken"));
        let basic = Credentials::Basic {
            user: "kyso".to_owned(),
            password: SecretString::from("pa55"),
        };
        assert!(!format!("{basic:?}").contains("pa55"));
        // RFC 7617 §2's example: Aladdin / open sesame.
        let example = Credentials::Basic {
            user: "Aladdin".to_owned(),
            password: SecretString::from("open sesame"),
        };
        assert_eq!(
            example.header().expose_secret(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn access_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("password");
        std::fs::write(&secret, "pa55\n").unwrap();
        let source = format!("file:{}", secret.display());
        let access = Access::configured(None, Some("kyso"), Some(&source), None).unwrap();
        assert!(matches!(
            access.credentials,
            Some(Credentials::Basic { ref user, .. }) if user == "kyso"
        ));
        assert!(Access::configured(None, Some("kyso"), None, None).is_err());
        assert!(Access::configured(None, None, Some(&source), Some(&source)).is_err());
        assert!(Access::configured(None, Some("a:b"), Some(&source), None).is_err());
        let not_a_ca = dir.path().join("ca.pem");
        std::fs::write(&not_a_ca, "nothing here").unwrap();
        assert!(matches!(
            Access::configured(Some(&not_a_ca), None, None, None),
            Err(Error::CaFile { .. })
        ));
    }
}
