//! Fetching revocation evidence over HTTP: CRLs from distribution points (RFC 5280 §4.2.1.13)
//! and OCSP responses from the AIA responder (RFC 6960 Appendix A.1, POST).
//!
//! Owns: a small blocking client ([`crate::http`]; `http://` only: CRL and OCSP URLs are plain
//! HTTP by convention, the evidence is signed), timeouts, a response size cap, nonces, and
//! caches keyed by URL / certificate that keep evidence until its nextUpdate (CRLs optionally
//! on disk too, so that the last good CRL of a distribution point that is down still serves
//! later runs), and the URL rewrites of `[revocation.rewrite]` (hosts of a private network
//! reached through a local mirror). Refuses:
//! non-`http://` URLs, bodies over [`MAX_RESPONSE_BYTES`], OCSP responses whose nonce differs
//! from the request's. The clock is read here (cache expiry is an I/O concern), never inside
//! validation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
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

/// How revocation fetching is set up (`[revocation]`): shared by verification and B-LT signing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchSettings {
    /// One deadline for each whole exchange; `None` leaves the caller's default.
    pub timeout: Option<Duration>,
    pub rewrite: UrlRewrite,
    /// Where fetched CRLs are kept between runs ([`Online::with_crl_cache`]).
    pub crl_cache: Option<PathBuf>,
}

impl FetchSettings {
    /// `[revocation]` as kyso.toml writes it.
    pub fn from_config(config: &crate::config::RevocationConfig) -> Result<FetchSettings, Error> {
        Ok(FetchSettings {
            timeout: config.timeout_secs.map(|s| Duration::from_secs(s.max(1))),
            rewrite: UrlRewrite::new(config.rewrite.clone())?,
            crl_cache: config.cache_dir.clone(),
        })
    }
}

/// Prefix rewrites applied to every CRL, OCSP and caIssuers URL before it is fetched
/// (`[revocation.rewrite]`): certificates of Vietnam's Government CA name OCSP and CRL hosts of
/// the government's private network (`http://ocsp.ca.ptc/…`), which a province reaches through
/// a mirror or proxy of its own. The evidence fetched is signed, so where it came from does not
/// change what it proves; the certificate's own URL stays the cache key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlRewrite {
    /// (from, to), longest `from` first so that the most specific rule wins.
    rules: Vec<(String, String)>,
}

impl UrlRewrite {
    /// Rules as `from` prefix → `to` prefix; both must be `http://` URLs.
    pub fn new<I, A, B>(rules: I) -> Result<UrlRewrite, Error>
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        let mut out = Vec::new();
        for (from, to) in rules {
            let (from, to) = (from.into(), to.into());
            for url in [&from, &to] {
                if !url.starts_with("http://") || url.len() <= "http://".len() {
                    return Err(Error::BadRewrite {
                        from: from.clone(),
                        to: to.clone(),
                        reason: format!("`{url}` is not an http:// URL prefix"),
                    });
                }
            }
            out.push((from, to));
        }
        out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(UrlRewrite { rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `url` with the longest matching prefix replaced. A prefix matches only whole host names
    /// and path segments: `http://ocsp.ca.ptc` rewrites `http://ocsp.ca.ptc/x`, never
    /// `http://ocsp.ca.ptc.example/x` or `http://ocsp.ca.ptc:8080/x`.
    pub fn apply<'a>(&self, url: &'a str) -> Cow<'a, str> {
        for (from, to) in &self.rules {
            let Some(head) = url.get(..from.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(from) {
                continue;
            }
            let rest = &url[from.len()..];
            let boundary =
                from.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?', '#']);
            if boundary {
                return Cow::Owned(format!("{to}{rest}"));
            }
        }
        Cow::Borrowed(url)
    }
}

/// Errors talking to a CRL or OCSP server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("[revocation.rewrite] \"{from}\" = \"{to}\": {reason}")]
    BadRewrite {
        from: String,
        to: String,
        reason: String,
    },
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
    rewrite: UrlRewrite,
    crl_dir: Option<PathBuf>,
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
            rewrite: UrlRewrite::default(),
            crl_dir: None,
        }
    }

    /// A client set up as `settings` say, `default_timeout` unless they name one.
    pub fn configured(
        default_timeout: Duration,
        nonce: OcspNonce,
        settings: &FetchSettings,
    ) -> Online {
        let online = Online::new(settings.timeout.unwrap_or(default_timeout), nonce)
            .with_rewrite(settings.rewrite.clone());
        match &settings.crl_cache {
            Some(dir) => online.with_crl_cache(dir.clone()),
            None => online,
        }
    }

    /// Rewrites URLs before fetching them (`[revocation.rewrite]`).
    pub fn with_rewrite(mut self, rewrite: UrlRewrite) -> Online {
        self.rewrite = rewrite;
        self
    }

    /// Keeps every fetched CRL in `dir` too, and serves one from there, until its nextUpdate,
    /// when the memory cache has none (`[revocation] cache_dir`): a later run, or a verifier
    /// rebuilt, still has the last good CRL of a distribution point that is down.
    pub fn with_crl_cache(mut self, dir: PathBuf) -> Online {
        self.crl_dir = Some(dir);
        self
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

    /// Fetches (or serves from cache) the CRL at `url`. A CRL is served from the memory cache,
    /// then from the disk cache, while it is fresh (now ≤ nextUpdate), without asking the
    /// distribution point: the last good CRL stands in for one that is slow or down. The body may
    /// be DER or PEM (some CAs serve `-----BEGIN X509 CRL-----` where RFC 5280 §4.2.1.13 asks
    /// for DER).
    pub fn fetch_crl(&self, url: &str) -> Result<Crl, Error> {
        let target = self.rewrite.apply(url);
        Self::check_url(&target)?;
        let now = (self.clock)();
        let fresh = |c: &Crl| c.next_update().is_some_and(|n| now <= n);
        if let Ok(cache) = self.crls.lock()
            && let Some(c) = cache.get(url)
            && fresh(c)
        {
            return Ok(c.clone());
        }
        if let Some(c) = self.read_kept_crl(url).filter(|c| fresh(c)) {
            self.remember_crl(url, &c);
            return Ok(c);
        }
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let body = self.get(&target).map_err(|e| match e {
            Error::Http { reason, .. } => http(reason),
            e => e,
        })?;
        let crl = Crl::from_pem_or_der(&body)
            .map_err(|source| Error::Crl {
                url: url.to_owned(),
                source,
            })?
            .into_iter()
            .next()
            .ok_or_else(|| http("no CRL in the response".into()))?;
        self.remember_crl(url, &crl);
        self.keep_crl(url, &crl);
        Ok(crl)
    }

    fn remember_crl(&self, url: &str, crl: &Crl) {
        if let Ok(mut cache) = self.crls.lock() {
            if cache.len() >= CRL_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(url.to_owned(), crl.clone());
        }
    }

    /// The disk cache's file for `url`: named by the URL's SHA-256, so any URL is a safe name.
    fn kept_crl_path(&self, url: &str) -> Option<PathBuf> {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
        self.crl_dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.crl", hex::encode(&digest.as_ref()[..16]))))
    }

    fn read_kept_crl(&self, url: &str) -> Option<Crl> {
        let bytes = std::fs::read(self.kept_crl_path(url)?).ok()?;
        // Only evidence: the validator checks its signature and issuer like any other CRL's.
        Crl::from_der(&bytes).ok()
    }

    /// Writes a fetched CRL to the disk cache (written aside and renamed, so a reader never sees
    /// half a file). A cache that cannot be written costs later runs a fetch, nothing more.
    fn keep_crl(&self, url: &str, crl: &Crl) {
        let (Some(dir), Some(path)) = (&self.crl_dir, self.kept_crl_path(url)) else {
            return;
        };
        let partial = path.with_extension(format!("partial-{}", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&partial, crl.der()))
            .and_then(|()| std::fs::rename(&partial, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            tracing::warn!(error = %e, dir = %dir.display(), "cannot keep a fetched CRL on disk");
        }
    }

    /// Fetches (or serves from cache) the certificates published at a caIssuers URL: one DER or
    /// PEM certificate, or a PKCS #7 "certs-only" bundle (RFC 5280 §4.2.2.1).
    pub fn fetch_ca_issuers(&self, url: &str) -> Result<Vec<Certificate>, Error> {
        let target = self.rewrite.apply(url);
        Self::check_url(&target)?;
        if let Ok(cache) = self.ca_issuers.lock()
            && let Some(c) = cache.get(url)
        {
            return Ok(c.clone());
        }
        let http = |reason: String| Error::Http {
            url: url.to_owned(),
            reason,
        };
        let body = self.get(&target)?;
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
        let target = self.rewrite.apply(url);
        Self::check_url(&target)?;
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
            .post(&*target)
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
            .filter(|u| self.rewrite.apply(u).starts_with("http://"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_match_whole_hosts_and_segments_longest_first() {
        let rewrite = UrlRewrite::new([
            ("http://ocsp.ca.ptc", "http://127.0.0.1:8080"),
            ("http://ocsp.ca.ptc/g2/", "http://10.0.0.5/mirror/"),
            ("http://crl.ca.ptc/", "http://10.0.0.6/crl/"),
        ])
        .unwrap();
        let apply = |url: &str| rewrite.apply(url).into_owned();
        assert_eq!(apply("http://ocsp.ca.ptc/"), "http://127.0.0.1:8080/");
        assert_eq!(apply("http://ocsp.ca.ptc"), "http://127.0.0.1:8080");
        assert_eq!(apply("HTTP://OCSP.CA.PTC/x?y"), "http://127.0.0.1:8080/x?y");
        assert_eq!(apply("http://ocsp.ca.ptc/g2/a"), "http://10.0.0.5/mirror/a");
        assert_eq!(
            apply("http://crl.ca.ptc/cpcag2.crl"),
            "http://10.0.0.6/crl/cpcag2.crl"
        );
        // Another host that merely starts the same, another port: untouched.
        for url in [
            "http://ocsp.ca.ptc.example.com/",
            "http://ocsp.ca.ptc:8080/",
            "http://ocsp.ca.ptcx/",
            "https://ocsp.ca.ptc/",
            "http://crl.ca.ptc",
        ] {
            assert_eq!(apply(url), url);
        }
        assert!(UrlRewrite::default().is_empty());
    }

    #[test]
    fn rewrites_must_name_http_urls() {
        for (from, to) in [
            ("ocsp.ca.ptc", "http://127.0.0.1"),
            ("http://ocsp.ca.ptc", "https://mirror"),
            ("http://", "http://mirror"),
            ("http://ocsp.ca.ptc", "ldap://mirror"),
        ] {
            let err = UrlRewrite::new([(from, to)]).unwrap_err();
            assert!(matches!(err, Error::BadRewrite { .. }), "{from} → {to}");
            assert!(err.to_string().contains("revocation.rewrite"), "{err}");
        }
    }
}
