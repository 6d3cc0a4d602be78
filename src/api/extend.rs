//! `POST /v1/extend?to=B-T|B-LT|B-LTA`: a signed PDF in, the same document augmented
//! ([`crate::extend`]) out. 200 with the extended PDF; 204 when it is already at the level and
//! no renewal is due (nothing to store again); 422 `not-extendable` when a signature does not
//! verify now or there is none. The extension runs on the verify workers (it verifies the
//! document before and after), and is written to the audit log like a verification.

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::auth::{Caller, ToSign};
use super::problem::ApiError;
use super::state::store_error;
use super::{AppState, Route, read_body};
use crate::audit::{self, Action};
use crate::extend::{Extension, Outcome, Target};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/v1/extend",
}];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/extend", post(extend))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendQuery {
    /// `B-T`, `B-LT` or `B-LTA` (the default).
    to: Option<String>,
}

async fn extend(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToSign>,
    query: Result<Query<ExtendQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    let to = query.to.as_deref().unwrap_or("B-LTA");
    let target = Target::parse(to).ok_or_else(|| ApiError::BadRequest {
        reason: format!("to `{to}`: expected B-T, B-LT or B-LTA"),
    })?;
    let Some(tsa) = state.tsa.clone() else {
        return Err(ApiError::LevelUnavailable {
            reason: "extending needs a time-stamping authority, and none is configured ([tsa] url in kyso.toml, KYSO_TSA_URL)".to_owned(),
        });
    };
    let admitted = state.verify_queue.admit(&state.metrics)?;
    let document = read_body(&state, request.into_body()).await?;
    if document.is_empty() {
        return Err(ApiError::BadRequest {
            reason: "the request body is empty: send the signed PDF".to_owned(),
        });
    }
    let sha256 = hex::encode(crate::signer::DigestAlgorithm::Sha256.digest(&document));
    let verifier = state.verifier.get();
    let renew_before = state.renew_before;
    let outcome = admitted
        .run(move || {
            Extension {
                verifier: &verifier,
                tsa: &tsa,
                renew_before,
            }
            .extend(&document, target)
        })
        .await?;
    drop(admitted);
    let outcome = outcome.map_err(|e| match e {
        crate::extend::Error::Pades(crate::pades::Error::Timestamp(e)) => ApiError::Upstream {
            service: "time-stamping authority",
            reason: e.to_string(),
        },
        other => ApiError::UnsignableDocument {
            reason: other.to_string(),
        },
    })?;
    let (name, detail) = match &outcome {
        Outcome::Extended { before, after, .. } => (
            "extended",
            serde_json::json!({"before": before, "after": after}),
        ),
        Outcome::Unchanged { level, .. } => ("unchanged", serde_json::json!({"level": level})),
        Outcome::Refused { refusal, .. } => (
            "refused",
            serde_json::json!({"reason": refusal.to_string()}),
        ),
    };
    let record = audit::Record::new(
        principal.actor(),
        Action::Extension,
        sha256.clone(),
        &serde_json::json!({
            "credential": principal.key_id,
            "document_sha256": sha256,
            "target": target.name(),
            "outcome": name,
            "detail": detail,
        }),
    );
    state
        .recorder
        .record(Vec::new(), vec![record])
        .await
        .map_err(|_| ApiError::ShuttingDown)?
        .map_err(store_error)?;
    Ok(match outcome {
        Outcome::Extended {
            document, after, ..
        } => described(
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/pdf"),
                )],
                document,
            )
                .into_response(),
            "extended",
            &after,
        ),
        Outcome::Unchanged { level, .. } => {
            described(StatusCode::NO_CONTENT.into_response(), "unchanged", &level)
        }
        Outcome::Refused { refusal, .. } => {
            return Err(ApiError::NotExtendable {
                reason: refusal.to_string(),
            });
        }
    })
}

/// `response` with what extending did (`X-Kyso-Extension`) and the level the document's
/// signatures are at now (`X-Kyso-Level`).
fn described(mut response: Response, extension: &'static str, level: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-kyso-extension", HeaderValue::from_static(extension));
    if let Ok(level) = HeaderValue::from_str(level) {
        headers.insert("x-kyso-level", level);
    }
    response
}
