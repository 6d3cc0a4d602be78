//! Outgoing HTTP: how kyso builds a client for every request it makes (the TSA, CRLs, OCSP
//! responders, caIssuers), on ureq with rustls over aws-lc-rs.
//!
//! Owns: what every client shares — one deadline for the whole exchange (name lookup, connect,
//! TLS handshake, request, response body: ureq's global timeout), the TLS crypto provider
//! (aws-lc-rs, the one crypto stack kyso links; ring is never built) and whose roots an
//! `https://` server is checked against (RFC 8446 §4.4.2, RFC 5280 path validation by rustls'
//! webpki). Callers add what is theirs: redirects, status handling, body caps (`read_body`).
//! Refuses: nothing itself.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use ureq::config::ConfigBuilder;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};
use ureq::typestate::AgentScope;

/// Whose certificates an `https://` server's chain must reach.
#[derive(Clone, Debug, Default)]
pub enum TlsRoots {
    /// The operating system's trust store (rustls-platform-verifier; on Linux the distribution's
    /// CA bundle, as `update-ca-certificates` maintains it).
    #[default]
    Platform,
    /// Only these CA certificates (DER), for a TSA under a private CA.
    Only(Arc<Vec<Vec<u8>>>),
}

/// An agent configuration with kyso's TLS and one `deadline` for each whole exchange.
pub(crate) fn config(deadline: Duration, roots: &TlsRoots) -> ConfigBuilder<AgentScope> {
    let roots = match roots {
        TlsRoots::Platform => RootCerts::PlatformVerifier,
        TlsRoots::Only(certificates) => RootCerts::new_with_certs(
            &certificates
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                .collect::<Vec<_>>(),
        ),
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(aws_lc_rs())
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(deadline))
        .tls_config(tls)
}

/// What went wrong in one exchange, as every caller reports it in its own error type.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The exchange's deadline passed.
    Timeout,
    /// The body was longer than the caller's cap.
    TooLarge(u64),
    /// The TLS handshake failed, or the server's certificate was refused.
    Tls(String),
    /// Anything else: no answer, a refused connection, a broken stream.
    Unreachable(String),
}

/// Classifies a ureq error: a refused certificate reaches ureq as the socket's I/O error, and a
/// deadline as either ureq's own timeout or the socket's.
pub(crate) fn failure(error: ureq::Error) -> Failure {
    match error {
        ureq::Error::Timeout(_) => Failure::Timeout,
        ureq::Error::BodyExceedsLimit(limit) => Failure::TooLarge(limit),
        ureq::Error::Tls(reason) => Failure::Tls(reason.to_owned()),
        ureq::Error::Rustls(e) => Failure::Tls(e.to_string()),
        ureq::Error::Io(e) => match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(tls) => Failure::Tls(tls.to_string()),
            None if e.kind() == std::io::ErrorKind::TimedOut => Failure::Timeout,
            None => Failure::Unreachable(e.to_string()),
        },
        other => Failure::Unreachable(other.to_string()),
    }
}

/// An `http://` or `https://` URL as kyso checks it before sending anything.
pub(crate) struct UrlParts<'a> {
    pub https: bool,
    /// The host without port or brackets.
    pub host: &'a str,
    /// `user:password@` in the authority: refused wherever URLs come from configuration, since
    /// it would put a secret in logs and errors.
    pub credentials: bool,
    /// A query or fragment after the authority.
    pub query: bool,
}

/// `url`'s parts, or `None` when it is not `http(s)://` with an authority.
pub(crate) fn url_parts(url: &str) -> Option<UrlParts<'_>> {
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return None;
    }
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    Some(UrlParts {
        https,
        host,
        credentials: authority.contains('@'),
        query: rest.contains(['?', '#']),
    })
}

/// `localhost` or a loopback address: a service on this machine, which a bearer token may reach
/// over plain HTTP.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The response body, refused past `limit` bytes (ureq's `BodyExceedsLimit`).
pub(crate) fn read_body(
    response: &mut ureq::http::Response<ureq::Body>,
    limit: u64,
) -> Result<Vec<u8>, ureq::Error> {
    response.body_mut().with_config().limit(limit).read_to_vec()
}

/// rustls' aws-lc-rs provider, built once: without it ureq would fall back to ring.
fn aws_lc_rs() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

#[cfg(test)]
mod url_tests {
    use super::{is_loopback_host, url_parts};

    #[test]
    fn url_parts_name_the_host_and_what_must_be_refused() {
        let p = url_parts("https://tsa.example.vn:8443/tsp").unwrap();
        assert!(p.https && p.host == "tsa.example.vn" && !p.credentials && !p.query);
        let p = url_parts("http://[::1]:9000/csc/v2?x#y").unwrap();
        assert!(!p.https && p.host == "::1" && p.query);
        let p = url_parts("http://user:secret@127.0.0.1/").unwrap();
        assert!(p.credentials && p.host == "127.0.0.1");
        for bad in ["ftp://host/", "https://", "https:///path", "tsa.example.vn"] {
            assert!(url_parts(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn loopback_is_localhost_or_a_loopback_address() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["10.0.0.1", "example.vn", "localhost.example.vn", ""] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
