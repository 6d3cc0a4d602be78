//! Fetching revocation evidence over HTTP: CRLs from distribution points (RFC 5280 §4.2.1.13)
//! and OCSP responses from the AIA responder (RFC 6960 Appendix A.1, POST).
//!
//! Owns: a small blocking client ([`crate::http`]; `http://` only: CRL and OCSP URLs are plain
//! HTTP by convention, the evidence is signed), timeouts, a response size cap, nonces, and
//! caches keyed by URL / certificate that keep evidence until its nextUpdate. Refuses:
//! non-`http://` URLs, bodies over [`MAX_RESPONSE_BYTES`], OCSP responses whose nonce differs
//! from the request's. The clock is read here (cache expiry is an I/O concern), never inside
//! validation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use crate::pki::cert::Certificate;
use crate::pki::crl::Crl;
use crate::pki::ocsp::{self, OcspResponse};
use crate::pki::revocation::{Found, RevocationSource};

/// Largest CRL or OCSP response accepted: 32 MiB holds a CRL of ~600,000 entries (the largest
/// public CRLs are a few MB); anything larger is a resource attack, not evidence.
pub const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// caIssuers and CRL URLs remembered: a few hundred CAs at most in any deployment here, so the
/// cap only stops a stream of certificates with made-up URLs from growing memory.
const CA_ISSUERS_CACHE_ENTRIES: usize = 1024;
const CRL_CACHE_ENTRIES: usize = 1024;

/// OCSP responses remembered (one per certificate): the seed case has 10,000+ signing
/// certificates in a province; 65,536 covers that several times over at ~2 KB each.
const OCSP_CACHE_ENTRIES: usize = 65_536;

/// URLs tried per certificate and kind (CRL distribution points, OCSP responders, caIssuers).
/// Real certificates carry one or two; a certificate listing hundreds would otherwise turn each
/// validation into hundreds of timeouts.
const MAX_URLS_PER_CERTIFICATE: usize = 4;

/// Whether OCSP responses must echo the request nonce (RFC 8954).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OcspNonce {
    /// Send a nonce; reject a response carrying a different one, accept one carrying none
    /// (pre-produced responses, RFC 5019 §2.2.1).
    #[default]
    Optional,
    /// Send a nonce; reject any response that does not echo it.
    Required,
}

/// Whether AIA / CDP fetching is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fetching {
    #[default]
    Enabled,
    Disabled,
}

/// Errors talking to a CRL or OCSP server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("refusing to fetch {url}: only http:// URLs are fetched")]
    UnsupportedUrl { url: String },
    #[error("fetching {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: {source}")]
    Crl {
        url: String,
        #[source]
        source: crate::pki::crl::Error,
    },
    #[error("{url}: {source}")]
    Ocsp {
        url: String,
        #[source]
        source: ocsp::Error,
    },
}

/// The evidence an [`Online`] source has fetched (see [`Online::cached`]).
#[derive(Clone, Debug, Default)]
pub struct Cached {
    pub crls: Vec<Crl>,
    pub ocsp: Vec<OcspResponse>,
    /// Issuer certificates fetched from caIssuers locations.
    pub certificates: Vec<Certificate>,
}

/// OCSP cache key: responder URL, issuer fingerprint, serial.
type OcspKey = (String, Vec<u8>, Vec<u8>);

/// Online revocation source with caches.
pub struct Online {
    agent: ureq::Agent,
    nonce: OcspNonce,
    fetching: Fetching,
    crls: Mutex<HashMap<String, Crl>>,
    ca_issuers: Mutex<HashMap<String, Vec<Certificate>>>,
    ocsp: Mutex<HashMap<OcspKey, OcspResponse>>,
    clock: fn() -> OffsetDateTime,
}

impl std::fmt::Debug for Online {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Online")
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

impl Online {
    /// A client with `timeout` for each whole request (connect + transfer).
    pub fn new(timeout: Duration, nonce: OcspNonce) -> Online {
        let agent: ureq::Agent = crate::http::config(timeout, &crate::http::TlsRoots::Platform)
            .http_status_as_error(true)
            .build()
            .into();
        Online {
            agent,
            nonce,
            fetching: Fetching::Enabled,
            crls: Mutex::new(HashMap::new()),
            ca_issuers: Mutex::new(HashMap::new()),
            ocsp: Mutex::new(HashMap::new()),
            clock: OffsetDateTime::now_utc,
        }
    }

    /// Replaces the clock used for cache expiry (tests).
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Online {
        self.clock = clock;
        self
    }

    /// Turns fetching off: only cached evidence is served.
    pub fn with_fetching(mut self, fetching: Fetching) -> Online {
        self.fetching = fetching;
        self
    }

    /// Everything the caches hold now, fresh or not: what a revocation snapshot saves so that
    /// later validations of the same chains need no network.
    pub fn cached(&self) -> Cached {
        let mut out = Cached::default();
        if let Ok(cache) = self.crls.lock() {
            out.crls.extend(cache.values().cloned());
        }
        if let Ok(cache) = self.ocsp.lock() {
            out.ocsp.extend(cache.values().cloned());
        }
        if let Ok(cache) = self.ca_issuers.lock() {
            out.certificates.extend(cache.values().flatten().cloned());
        }
        out
    }

    fn check_url(url: &str) -> Result<(), Error> {
        if url.starts_with("http://") {
            Ok(())
        } else {
            Err(Error::UnsupportedUrl {
                url: url.to_owned(),
            })
        }
    }

    /// GETs `url`, refusing a body over [`MAX_RESPONSE_BYTES`].
    fn get(&self, url: &str) -> Result<Vec<u8>, Error> {
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let mut resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| http(e.to_string()))?;
        crate::http::read_body(&mut resp, MAX_RESPONSE_BYTES).map_err(|e| http(e.to_string()))
    }

    /// Fetches (or serves from cache) the CRL at `url`.
    pub fn fetch_crl(&self, url: &str) -> Result<Crl, Error> {
        Self::check_url(url)?;
        let now = (self.clock)();
        if let Ok(cache) = self.crls.lock()
            && let Some(c) = cache.get(url)
            && c.next_update().is_some_and(|n| now <= n)
        {
            return Ok(c.clone());
        }
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let body = self.get(url)?;
        let crl = Crl::from_pem_or_der(&body)
            .map_err(|source| Error::Crl {
                url: url.to_owned(),
                source,
            })?
            .into_iter()
            .next()
            .ok_or_else(|| http("no CRL in the response".into()))?;
        if let Ok(mut cache) = self.crls.lock() {
            if cache.len() >= CRL_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(url.to_owned(), crl.clone());
        }
        Ok(crl)
    }

    /// Fetches (or serves from cache) the certificates published at a caIssuers URL: one DER or
    /// PEM certificate, or a PKCS #7 "certs-only" bundle (RFC 5280 §4.2.2.1).
    pub fn fetch_ca_issuers(&self, url: &str) -> Result<Vec<Certificate>, Error> {
        Self::check_url(url)?;
        if let Ok(cache) = self.ca_issuers.lock()
            && let Some(c) = cache.get(url)
        {
            return Ok(c.clone());
        }
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let body = self.get(url)?;
        let certs = match certs_only(&body) {
            Some(certs) => certs,
            None => Certificate::from_pem_or_der(&body).map_err(|e| http(e.to_string()))?,
        };
        if let Ok(mut cache) = self.ca_issuers.lock() {
            // Certificates do not change; the cap only bounds memory.
            if cache.len() >= CA_ISSUERS_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(url.to_owned(), certs.clone());
        }
        Ok(certs)
    }

    /// The issuers above `known` (the signer's certificate first, then what the token or the
    /// operator supplied), fetched from caIssuers URLs until a self-issued certificate or a
    /// certificate without a URL is reached: what a signature must carry so that verifiers can
    /// build its chain. Returns only the fetched certificates, nearest first. Fetch failures end
    /// the walk; the signature is then made with what is known, and verification says if the
    /// chain is short.
    pub fn complete_chain(&self, known: &[Certificate]) -> Vec<Certificate> {
        let mut fetched: Vec<Certificate> = Vec::new();
        let Some(mut current) = known.first().cloned() else {
            return fetched;
        };
        // A chain above a signer is root → CA (→ sub-CA) in practice; 4 hops bound the walk on
        // a loop of caIssuers URLs, as MAX_AIA_FETCHES does during path building.
        for _ in 0..4 {
            if current.is_self_issued() {
                break;
            }
            let have = known
                .iter()
                .chain(&fetched)
                .find(|c| c.subject() == current.issuer() && !c.is_self_issued())
                .cloned();
            let next = match have {
                Some(issuer) => issuer,
                None => {
                    let found = current
                        .extensions()
                        .ca_issuer_urls
                        .iter()
                        .filter_map(|url| self.fetch_ca_issuers(url).ok())
                        .flatten()
                        .find(|c| c.subject() == current.issuer());
                    match found {
                        Some(issuer) if !issuer.is_self_issued() => {
                            fetched.push(issuer.clone());
                            issuer
                        }
                        // The root itself need not travel with the signature.
                        _ => break,
                    }
                }
            };
            current = next;
        }
        fetched
    }

    /// Asks the responder at `url` about `cert` (POST, RFC 6960 Appendix A.1).
    pub fn fetch_ocsp(
        &self,
        url: &str,
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Result<OcspResponse, Error> {
        Self::check_url(url)?;
        let key = (
            url.to_owned(),
            issuer.fingerprint().to_vec(),
            cert.serial().to_vec(),
        );
        let now = (self.clock)();
        if let Ok(cache) = self.ocsp.lock()
            && let Some(r) = cache.get(&key)
        {
            let fresh = r
                .find(cert, issuer)
                .is_some_and(|s| s.next_update.is_some_and(|n| now <= n));
            if fresh {
                return Ok(r.clone());
            }
        }
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Http {
            url: url.to_owned(),
            reason: "no randomness for the nonce".into(),
        })?;
        let request = ocsp::build_request(cert, issuer, Some(&nonce));
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let mut resp = self
            .agent
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .send(&request[..])
            .map_err(|e| http(e.to_string()))?;
        let body = crate::http::read_body(&mut resp, MAX_RESPONSE_BYTES)
            .map_err(|e| http(e.to_string()))?;
        let parsed = OcspResponse::from_der(&body).map_err(|source| Error::Ocsp {
            url: url.to_owned(),
            source,
        })?;
        match (parsed.nonce(), self.nonce) {
            (Some(n), _) if n != nonce => {
                return Err(Error::Ocsp {
                    url: url.to_owned(),
                    source: ocsp::Error::NonceMismatch,
                });
            }
            (None, OcspNonce::Required) => {
                return Err(Error::Ocsp {
                    url: url.to_owned(),
                    source: ocsp::Error::NonceMissing,
                });
            }
            _ => {}
        }
        if let Ok(mut cache) = self.ocsp.lock() {
            if cache.len() >= OCSP_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key, parsed.clone());
        }
        Ok(parsed)
    }
}

impl RevocationSource for Online {
    fn crls(&self, cert: &Certificate) -> Found<Crl> {
        let mut found = Found::default();
        if self.fetching == Fetching::Disabled {
            return found;
        }
        let urls = cert
            .extensions()
            .crl_distribution_points
            .iter()
            .flat_map(|dp| dp.names.iter().flatten().filter_map(|n| n.as_uri()))
            .filter(|u| u.starts_with("http://"))
            .take(MAX_URLS_PER_CERTIFICATE);
        for url in urls {
            match self.fetch_crl(url) {
                Ok(crl) => found.items.push(crl),
                Err(e) => found.failures.push(e.to_string()),
            }
        }
        found
    }

    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Found<OcspResponse> {
        let mut found = Found::default();
        if self.fetching == Fetching::Disabled {
            return found;
        }
        for url in cert
            .extensions()
            .ocsp_urls
            .iter()
            .take(MAX_URLS_PER_CERTIFICATE)
        {
            match self.fetch_ocsp(url, cert, issuer) {
                Ok(r) => {
                    found.items.push(r);
                    break;
                }
                Err(e) => found.failures.push(e.to_string()),
            }
        }
        found
    }
}

impl crate::pki::IssuerSource for Online {
    fn issuers(&self, cert: &Certificate) -> Vec<Certificate> {
        if self.fetching == Fetching::Disabled {
            return Vec::new();
        }
        let mut out = Vec::new();
        for url in cert
            .extensions()
            .ca_issuer_urls
            .iter()
            .filter(|u| u.starts_with("http://"))
        {
            match self.fetch_ca_issuers(url) {
                Ok(certs) => out.extend(certs),
                Err(e) => tracing::debug!(error = %e, "caIssuers fetch failed"),
            }
        }
        out
    }
}

/// The certificates of a degenerate "certs-only" SignedData (RFC 5652 §5, RFC 8894 §3.4), as
/// `.p7c` caIssuers files are; `None` when `data` is not one. Read by the CMS reader, so a bundle
/// in BER serves too; each certificate must then be DER on its own.
fn certs_only(data: &[u8]) -> Option<Vec<Certificate>> {
    let bundle = crate::cms::SignedData::parse(data).ok()?;
    if bundle.trailing_garbage {
        return None;
    }
    bundle
        .certificates
        .iter()
        .map(|der| Certificate::from_der(der).ok())
        .collect()
}
