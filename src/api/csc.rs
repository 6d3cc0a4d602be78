//! kyso as a remote signing service for the keys it guards: the Cloud Signature Consortium API
//! (CSC API v2.0, and v1.0.4, which deployed clients such as pyHanko's `CSCSigner` still
//! speak), under `/csc/v2/` and `/csc/v1/`: `info`, `credentials/list`, `credentials/info`,
//! `credentials/authorize` and `signatures/signHash`, in both versions' words
//! ([`Version`]). docs/manual/csc.md says how to call it and why it is built so.
//!
//! Who may do what: the service's API keys are the bearer credentials (`authType` `external`;
//! there is no `auth/login` and no OAuth server); a key of role signer sees and uses only the
//! credentials (`[[serve.keys]]` entries with `csc = true`) of its own units, and another
//! unit's credential reads as unknown. Every signature needs a SAD from authorize, bound to
//! the caller, the credential and the exact hashes, spent once, expiring after
//! `[serve] csc_sad_lifetime_secs` ([`sad`]). Every signature is in the ledger and the audit
//! log before it is answered ([`signing`]).
//!
//! What it refuses: everything the modules below list; asynchronous operation, `signDoc`,
//! RSASSA-PSS and SCAL1 (a SAD not bound to hashes). Errors are CSC's JSON, never a problem
//! document, and never name a secret, a hash or another caller ([`error`]).

mod algorithm;
mod credentials;
mod error;
mod params;
mod sad;
mod signing;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::routing::post;

pub use error::CscError;
pub use sad::Sads;
pub use signing::document_id;

use super::auth::{self, Permission, Principal};
use super::state::KeyEntry;
use super::{AppState, Route};

/// The CSC API versions served; they differ in a few parameter names and in how a
/// credential's authorisation mode is said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// v1.0.4.0 (2019): `hash`, `hashAlgo`, `authMode`.
    V1,
    /// v2.0.0.x (2023): `hashes`, `hashAlgorithmOID`, `auth.mode`.
    V2,
}

impl Version {
    fn prefix(self) -> &'static str {
        match self {
            Version::V1 => "/csc/v1",
            Version::V2 => "/csc/v2",
        }
    }

    /// What `info` says in `specs`.
    fn specs(self) -> &'static str {
        match self {
            Version::V1 => "1.0.4.0",
            Version::V2 => "2.0.0.2",
        }
    }

    /// The name of the hash values' parameter.
    fn hashes(self) -> &'static str {
        match self {
            Version::V1 => "hash",
            Version::V2 => "hashes",
        }
    }

    /// The name of the digest algorithm's parameter.
    fn hash_algorithm(self) -> &'static str {
        match self {
            Version::V1 => "hashAlgo",
            Version::V2 => "hashAlgorithmOID",
        }
    }
}

macro_rules! csc_routes {
    ($($path:literal),* $(,)?) => {
        &[$(Route { method: "POST", path: concat!("/csc/v1/", $path) },
            Route { method: "POST", path: concat!("/csc/v2/", $path) },)*]
    };
}

pub(super) const ROUTES: &[Route] = csc_routes!(
    "info",
    "credentials/list",
    "credentials/info",
    "credentials/authorize",
    "signatures/signHash",
);

pub(super) fn router() -> Router<AppState> {
    [Version::V1, Version::V2]
        .into_iter()
        .fold(Router::new(), |router, version| {
            let at = |method: &str| format!("{}/{method}", version.prefix());
            router
                .route(
                    &at("info"),
                    post(
                        move |State(state): State<AppState>, request: Request| async move {
                            credentials::info(version, state, request).await
                        },
                    ),
                )
                .route(
                    &at("credentials/list"),
                    post(
                        move |State(state): State<AppState>,
                              headers: HeaderMap,
                              request: Request| async move {
                            credentials::list(version, state, headers, request).await
                        },
                    ),
                )
                .route(
                    &at("credentials/info"),
                    post(
                        move |State(state): State<AppState>,
                              headers: HeaderMap,
                              request: Request| async move {
                            credentials::credential_info(version, state, headers, request).await
                        },
                    ),
                )
                .route(
                    &at("credentials/authorize"),
                    post(
                        move |State(state): State<AppState>,
                              headers: HeaderMap,
                              request: Request| async move {
                            signing::authorize(version, state, headers, request).await
                        },
                    ),
                )
                .route(
                    &at("signatures/signHash"),
                    post(
                        move |State(state): State<AppState>,
                              headers: HeaderMap,
                              request: Request| async move {
                            signing::sign_hash(version, state, headers, request).await
                        },
                    ),
                )
        })
}

/// The caller: an API key whose role may sign. Checked before the body is read.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Principal, CscError> {
    auth::authorize(state, headers, Permission::Sign)
        .await
        .map_err(CscError::from)
}

/// The credential `id` if `principal` may use it: a configured key offered over CSC, of one of
/// the caller's units. Anything else is "Invalid parameter credentialID"; a key of another
/// unit is logged and counted as a denial, as `/v1/sign/*` does.
fn credential<'a>(
    state: &'a AppState,
    principal: &Principal,
    id: &str,
) -> Result<&'a KeyEntry, CscError> {
    let entry = state
        .keys
        .entry(id)
        .filter(|e| e.csc)
        .ok_or_else(CscError::invalid_credential)?;
    auth::require_unit(state, principal, Permission::Sign, &entry.unit)
        .map_err(|_| CscError::invalid_credential())?;
    Ok(entry)
}
