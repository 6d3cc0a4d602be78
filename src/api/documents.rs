//! `POST /v1/documents`: the DMS records documents it issued (the signing rate's denominator).
//!
//! The body is one `issued` event as JSON (the ledger's wire form, `"event":"issued"` optional),
//! a JSON array of them, or JSON lines (`application/x-ndjson`). Idempotent: the same event again
//! is `unchanged`, a corrected one `updated` (docs/manual/ledger.md). All events of a request are
//! stored or none. A signer may record documents of its own units only, and never a document id
//! the ledger holds for another unit (403; an administrator may move one, as a correction).

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::auth::{self, Permission, Role};
use super::problem::ApiError;
use super::state::store_error;
use super::{AppState, Route, content_type, read_body};
use crate::audit::{self, Action};
use crate::ledger::{self, Event, Issued, Reassignment, Recorded};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/v1/documents",
}];

/// Events one request may carry: a day of a large unit's issuance; larger imports go through
/// `kyso ledger record`.
pub const MAX_EVENTS: usize = 10_000;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/documents", post(record))
}

/// An issued event, with or without its `"event":"issued"` tag.
#[derive(Deserialize)]
#[serde(untagged)]
enum Incoming {
    Tagged(Event),
    Plain(Issued),
}

#[derive(Debug, Serialize)]
pub struct RecordedDocument {
    pub document_id: String,
    pub outcome: Recorded,
}

#[derive(Debug, Serialize)]
pub struct RecordResponse {
    pub recorded: Vec<RecordedDocument>,
}

async fn record(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<RecordResponse>, ApiError> {
    let principal = auth::authorize(&state, request.headers(), Permission::RecordDocuments).await?;
    let kind = content_type(request.headers());
    let body = read_body(&state, request.into_body()).await?;
    let events = parse(&kind, &body)?;
    if events.is_empty() {
        return Err(ApiError::BadRequest {
            reason: "no document in the request".to_owned(),
        });
    }
    if events.len() > MAX_EVENTS {
        return Err(ApiError::BadRequest {
            reason: format!(
                "{} documents, more than {MAX_EVENTS} in one request",
                events.len()
            ),
        });
    }
    for issued in &events {
        auth::require_unit(
            &state,
            &principal,
            Permission::RecordDocuments,
            &issued.unit,
        )?;
        Event::Issued(issued.clone())
            .validate()
            .map_err(|e| ApiError::BadRequest {
                reason: e.to_string(),
            })?;
    }
    let ids: Vec<String> = events.iter().map(|e| e.document_id.clone()).collect();
    let record = audit::Record::new(
        principal.actor(),
        Action::DocumentRecorded,
        ids.first().cloned().unwrap_or_default(),
        &serde_json::json!({
            "credential": principal.key_id,
            "documents": ids.len(),
            // The ids, not the documents: bounded by MAX_EVENTS × 200 characters.
            "document_ids": ids,
        }),
    );
    // A document stays with the unit it was stored for; an administrator (every unit) may move
    // one recorded under the wrong unit. The ledger decides, inside its transaction.
    let reassignment = match principal.role {
        Role::Admin => Reassignment::AllowedForCorrection,
        _ => Reassignment::Refused,
    };
    let committed = state
        .recorder
        .record_as(
            events.into_iter().map(Event::Issued).collect(),
            vec![record],
            reassignment,
        )
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
    let (outcomes, _) = match committed {
        Ok(done) => done,
        Err(e @ ledger::Error::DocumentOfAnotherUnit { .. }) => {
            return Err(auth::refuse_foreign_document(
                &state,
                &principal,
                Permission::RecordDocuments,
                &e,
            )
            .await);
        }
        Err(e) => return Err(store_error(e)),
    };
    Ok(Json(RecordResponse {
        recorded: ids
            .into_iter()
            .zip(outcomes)
            .map(|(document_id, outcome)| RecordedDocument {
                document_id,
                outcome,
            })
            .collect(),
    }))
}

fn parse(kind: &str, body: &[u8]) -> Result<Vec<Issued>, ApiError> {
    let bad = |reason: String| ApiError::BadRequest { reason };
    let incoming: Vec<Incoming> = match kind {
        "application/x-ndjson" | "application/jsonl" => {
            let text =
                std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8".into()))?;
            let mut out = Vec::new();
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                out.push(
                    serde_json::from_str(line)
                        .map_err(|e| bad(format!("line {}: {e}", index + 1)))?,
                );
            }
            out
        }
        "application/json" | "" => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| bad(format!("JSON: {e}")))?;
            match value {
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        serde_json::from_value(v).map_err(|e| bad(format!("item {}: {e}", i + 1)))
                    })
                    .collect::<Result<_, _>>()?,
                other => {
                    vec![serde_json::from_value(other).map_err(|e| bad(format!("JSON: {e}")))?]
                }
            }
        }
        other => {
            return Err(ApiError::UnsupportedMediaType {
                found: other.to_owned(),
                expected: "application/json or application/x-ndjson",
            });
        }
    };
    incoming
        .into_iter()
        .map(|item| match item {
            Incoming::Tagged(Event::Issued(issued)) | Incoming::Plain(issued) => Ok(issued),
            Incoming::Tagged(_) => Err(bad(
                "only `issued` events are recorded here; signatures are recorded by signing".into(),
            )),
        })
        .collect()
}
