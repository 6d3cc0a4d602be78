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
