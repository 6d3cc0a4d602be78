//! Fetching revocation evidence over HTTP: CRLs from distribution points (RFC 5280 §4.2.1.13)
//! and OCSP responses from the AIA responder (RFC 6960 Appendix A.1, POST).
//!
//! Owns: a small blocking client (ureq, no TLS: CRL and OCSP URLs are plain HTTP by convention,
//! the evidence is signed), timeouts, a response size cap, nonces, and caches keyed by URL /
//! certificate that keep evidence until its nextUpdate. Refuses: non-`http://` URLs, bodies over
//! [`MAX_RESPONSE_BYTES`], OCSP responses whose nonce differs from the request's. The clock is
//! read here (cache expiry is an I/O concern), never inside validation.

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

/// OCSP cache key: responder URL, issuer fingerprint, serial.
type OcspKey = (String, Vec<u8>, Vec<u8>);

/// Online revocation source with caches.
pub struct Online {
    agent: ureq::Agent,
    nonce: OcspNonce,
    fetching: Fetching,
    crls: Mutex<HashMap<String, Crl>>,
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
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(true)
            .build()
            .into();
        Online {
            agent,
            nonce,
            fetching: Fetching::Enabled,
            crls: Mutex::new(HashMap::new()),
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

    fn check_url(url: &str) -> Result<(), Error> {
        if url.starts_with("http://") {
            Ok(())
        } else {
            Err(Error::UnsupportedUrl {
                url: url.to_owned(),
            })
        }
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
        let mut resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| http(e.to_string()))?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| http(e.to_string()))?;
        let crl = Crl::from_pem_or_der(&body)
            .map_err(|source| Error::Crl {
                url: url.to_owned(),
                source,
            })?
            .into_iter()
            .next()
            .ok_or_else(|| http("no CRL in the response".into()))?;
        if let Ok(mut cache) = self.crls.lock() {
            cache.insert(url.to_owned(), crl.clone());
        }
        Ok(crl)
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
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
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
                    source: ocsp::Error::NonceMismatch,
                });
            }
            _ => {}
        }
        if let Ok(mut cache) = self.ocsp.lock() {
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
        for dp in &cert.extensions().crl_distribution_points {
            for url in dp.names.iter().flatten().filter_map(|n| n.as_uri()) {
                if !url.starts_with("http://") {
                    continue;
                }
                match self.fetch_crl(url) {
                    Ok(crl) => found.items.push(crl),
                    Err(e) => found.failures.push(e.to_string()),
                }
            }
        }
        found
    }

    fn ocsp(&self, cert: &Certificate, issuer: &Certificate) -> Found<OcspResponse> {
        let mut found = Found::default();
        if self.fetching == Fetching::Disabled {
            return found;
        }
        for url in &cert.extensions().ocsp_urls {
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
