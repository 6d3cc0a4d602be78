//! `GET /healthz` (the process answers), `GET /readyz` (every signing key's token and the
//! ledger answer) and `GET /metrics` (Prometheus text). None needs an API key: load balancers
//! and scrapers call them, and they reveal no document, credential or secret (key names and unit
//! codes are configuration, not secrets).

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

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

async fn readyz(State(state): State<AppState>) -> Response {
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
                let result = probe.keys.open(entry).and_then(|key| {
                    key.key.token().mechanisms().map(|_| ()).map_err(|e| {
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
    (
        status,
        Json(Readiness {
            ready,
            store,
            keys,
            shutting_down,
        }),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
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
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
