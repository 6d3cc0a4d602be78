//! `GET /healthz` (the process answers), `GET /readyz` (every signing key's token and the
//! ledger answer) and `GET /metrics` (Prometheus text). None needs an API key: load balancers
//! and scrapers call them. Without one, they show what those need and no more: readiness as a
//! status and counts, metrics without unit codes, key names or token labels. Key names and
//! units say which units sign through this node and a token's error text names its module and
//! objects; that is for operators, who see it with an admin key (`read_diagnostics`) and in the
//! log. A key that is given must be valid and an admin's (401, 403), like everywhere else.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::auth::{self, Permission};
use super::metrics::Exposure;
use super::problem::ApiError;
use super::{AppState, Route};

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/healthz",
    },
    Route {
        method: "GET",
        path: "/readyz",
    },
    Route {
        method: "GET",
        path: "/metrics",
    },
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// The readiness report.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub store: Check,
    pub keys: Vec<KeyCheck>,
    pub shutting_down: bool,
}

/// The readiness report for a caller without a key: whether, and how many keys answer.
#[derive(Debug, Serialize)]
pub struct ReadinessSummary {
    pub ready: bool,
    pub store: Check,
    pub keys_available: usize,
    pub keys_unavailable: usize,
    pub shutting_down: bool,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyCheck {
    pub key: String,
    pub unit: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the caller may see: the details with an admin key, the public view without a key; a
/// key that is given is checked like any other.
async fn exposure(state: &AppState, headers: &HeaderMap) -> Result<Exposure, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        auth::authorize(state, headers, Permission::ReadDiagnostics).await?;
        Ok(Exposure::Operator)
    } else {
        Ok(Exposure::Public)
    }
}

async fn readyz(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let exposure = exposure(&state, &headers).await?;
    let store = match state.stores.try_run(|store| store.ping()).await {
        Ok(Ok(())) => Check {
            ok: true,
            reason: None,
        },
        // The reason is generic on purpose: a connection error may quote the server's address.
        _ => Check {
            ok: false,
            reason: Some("the ledger does not answer".to_owned()),
        },
    };
    let probe = state.clone();
    let keys = tokio::task::spawn_blocking(move || {
        let mut checks: Vec<KeyCheck> = probe
            .keys
            .entries()
            .map(|entry| {
                // Opening the key proves the token is present and logged in; asking for its
                // mechanisms proves it still answers now.
                // A remote credential answered credentials/info when it was opened; it is
                // not asked again on every probe (a provider may count or bill calls).
                let result = probe.keys.open(entry).and_then(|key| {
                    let Some(token) = key.key.token() else {
                        return Ok(());
                    };
                    token.token().mechanisms().map(|_| ()).map_err(|e| {
                        probe.keys.forget(entry);
                        super::ApiError::TokenUnavailable {
                            key: entry.name.clone(),
                            reason: e.to_string(),
                        }
                    })
                });
                KeyCheck {
                    key: entry.name.clone(),
                    unit: entry.unit.clone(),
                    ok: result.is_ok(),
                    reason: result.err().map(|e| e.to_string()),
                }
            })
            .collect();
        checks.sort_by(|a, b| a.key.cmp(&b.key));
        checks
    })
    .await
    .unwrap_or_default();
    let shutting_down = state.is_shutting_down();
    let ready = store.ok && keys.iter().all(|k| k.ok) && !shutting_down;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(match exposure {
        Exposure::Operator => (
            status,
            Json(Readiness {
                ready,
                store,
                keys,
                shutting_down,
            }),
        )
            .into_response(),
        Exposure::Public => {
            let keys_available = keys.iter().filter(|k| k.ok).count();
            (
                status,
                Json(ReadinessSummary {
                    ready,
                    store,
                    keys_available,
                    keys_unavailable: keys.len() - keys_available,
                    shutting_down,
                }),
            )
                .into_response()
        }
    })
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let exposure = exposure(&state, &headers).await?;
    let pools = state.keys.pools();
    let (sign_used, sign_capacity) = state.sign_queue.usage();
    let (verify_used, verify_capacity) = state.verify_queue.usage();
    let text = state.metrics.render(
        &pools,
        &[
            ("sign", sign_used, sign_capacity),
            ("verify", verify_used, verify_capacity),
        ],
        state.connections.usage(),
        exposure,
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
