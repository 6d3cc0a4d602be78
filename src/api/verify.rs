//! `POST /v1/verify` (one document → its JSON report) and `POST /v1/verify/batch` (many
//! documents as `multipart/form-data` parts or one `application/zip` → one JSON line per
//! document, streamed as each is verified, then a summary line).
//!
//! Verdicts are exactly [`crate::verify::Verifier::verify`]'s (ETSI EN 319 102-1). With
//! `document_id`, `receiving_unit` and `sender`, a single verification is also recorded in the
//! ledger as an incoming document of that unit. A batch reads at most the configured body size,
//! and a zip at most [`ZIP_MAX_ENTRIES`] entries of at most the body size each.

use std::io::Read;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::auth::{self, Permission};
use super::problem::ApiError;
use super::sign::multipart_error;
use super::state::store_error;
use super::{AppState, Route, content_type, read_body};
use crate::audit::{self, Action};
use crate::ledger::{self, Event, Verified};
use crate::verify::DocumentReport;

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/v1/verify",
    },
    Route {
        method: "POST",
        path: "/v1/verify/batch",
    },
];

/// Entries of a zip batch at most: a day's incoming mail of a large department, and a bound on
/// the work one request can ask for.
pub const ZIP_MAX_ENTRIES: usize = 10_000;

/// Lines buffered between the verifier and a slow client; the verifier waits beyond this, so a
/// client that does not read cannot make the server hold all results.
const LINES_BUFFERED: usize = 16;

/// One document of a batch by name: its bytes, or why they could not be read.
pub type BatchItem = (String, Result<Vec<u8>, String>);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/verify", post(verify_one))
        .route("/v1/verify/batch", post(verify_batch))
}

/// Optional facts that make a verification an incoming-document record.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    pub document_id: Option<String>,
    pub receiving_unit: Option<String>,
    pub sender: Option<String>,
}

async fn verify_one(
    State(state): State<AppState>,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let principal = auth::authorize(&state, request.headers(), Permission::Verify).await?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    let incoming = match (&query.document_id, &query.receiving_unit, &query.sender) {
        (None, None, None) => None,
        (Some(id), Some(unit), Some(sender)) => {
            auth::require_unit(&state, &principal, Permission::Verify, unit)?;
            Some((id.clone(), unit.clone(), sender.clone()))
        }
        _ => {
            return Err(ApiError::BadRequest {
                reason: "to record an incoming document give document_id, receiving_unit and sender together".to_owned(),
            });
        }
    };
    let admitted = state.verify_queue.admit(&state.metrics)?;
    let document = read_single(&state, request).await?;
    let verifier = state.verifier.get();
    let report = admitted.run(move || verifier.verify(&document)).await?;
    drop(admitted);
    state.metrics.verification(report.indication.as_str());

    let mut events = Vec::new();
    if let Some((document_id, receiving_unit, sender)) = incoming {
        events.push(Event::Verified(Verified {
            document_id,
            receiving_unit,
            sender,
            verified_at: report.validated_at,
            indication: ledger_indication(&report),
            sub_indication: report
                .sub_indication
                .filter(|_| report.indication != crate::verify::Indication::TotalPassed)
                .map(|s| s.as_str().to_owned()),
        }));
    }
    let record = audit::Record::new(
        principal.actor(),
        Action::Verification,
        report.sha256.clone(),
        &serde_json::json!({
            "credential": principal.key_id,
            "document_sha256": report.sha256,
            "indication": report.indication.as_str(),
            "recorded_as_incoming": !events.is_empty(),
        }),
    );
    state
        .recorder
        .record(events, vec![record])
        .await
        .map_err(|_| ApiError::ShuttingDown)?
        .map_err(store_error)?;
    Ok(Json(report).into_response())
}

fn ledger_indication(report: &DocumentReport) -> ledger::Indication {
    match report.indication {
        crate::verify::Indication::TotalPassed => ledger::Indication::TotalPassed,
        crate::verify::Indication::TotalFailed => ledger::Indication::TotalFailed,
        crate::verify::Indication::Indeterminate => ledger::Indication::Indeterminate,
    }
}

/// One document: the raw body or the `document` part.
async fn read_single(state: &AppState, request: Request) -> Result<Vec<u8>, ApiError> {
    if content_type(request.headers()) != "multipart/form-data" {
        let body = read_body(state, request.into_body()).await?;
        if body.is_empty() {
            return Err(ApiError::BadRequest {
                reason: "the request body is empty: send the document".to_owned(),
            });
        }
        return Ok(body.to_vec());
    }
    let limit = state.limits.max_body_bytes;
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::BadRequest {
            reason: format!("multipart: {}", e.body_text()),
        })?;
    let mut document = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        if field.name() != Some("document") {
            return Err(ApiError::BadRequest {
                reason: "expected one `document` part".to_owned(),
            });
        }
        document = Some(
            field
                .bytes()
                .await
                .map_err(|e| multipart_error(e, limit))?
                .to_vec(),
        );
    }
    document
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::BadRequest {
            reason: "no `document` part".to_owned(),
        })
}

async fn verify_batch(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let principal = auth::authorize(&state, request.headers(), Permission::Verify).await?;
    let admitted = state.verify_queue.admit(&state.metrics)?;
    let limit = state.limits.max_body_bytes;
    let documents: Vec<BatchItem> = match content_type(request.headers()).as_str() {
        "multipart/form-data" => {
            let mut multipart = axum::extract::Multipart::from_request(request, &state)
                .await
                .map_err(|e| ApiError::BadRequest {
                    reason: format!("multipart: {}", e.body_text()),
                })?;
            let mut documents = Vec::new();
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| multipart_error(e, limit))?
            {
                let name = field
                    .file_name()
                    .or(field.name())
                    .map_or_else(|| format!("part-{}", documents.len() + 1), str::to_owned);
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                documents.push((name, Ok(bytes.to_vec())));
            }
            documents
        }
        "application/zip" | "application/x-zip-compressed" => {
            let body = read_body(&state, request.into_body()).await?;
            let work = admitted.run(move || unzip(&body, limit)).await?;
            work?
        }
        other => {
            return Err(ApiError::UnsupportedMediaType {
                found: other.to_owned(),
                expected: "multipart/form-data (one part per document) or application/zip",
            });
        }
    };
    if documents.is_empty() {
        return Err(ApiError::BadRequest {
            reason: "the batch holds no document".to_owned(),
        });
    }
    let (lines, receiver) =
        tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(LINES_BUFFERED);
    let verifier = state.verifier.get();
    let worker_state = state.clone();
    let count = documents.len();
    tokio::spawn(async move {
        // The place in the verify queue is held until the whole batch is done.
        let _admitted = admitted;
        let metrics = worker_state.metrics.clone();
        let summary = tokio::task::spawn_blocking(move || {
            let mut by_indication = std::collections::BTreeMap::<&'static str, u64>::new();
            let mut failed = 0u64;
            for (name, document) in documents {
                let line = match document {
                    Ok(bytes) => {
                        let report = verifier.verify(&bytes);
                        metrics.verification(report.indication.as_str());
                        *by_indication.entry(report.indication.as_str()).or_default() += 1;
                        serde_json::json!({"name": name, "report": report})
                    }
                    Err(reason) => {
                        failed += 1;
                        serde_json::json!({"name": name, "error": reason})
                    }
                };
                if lines.blocking_send(Ok(format!("{line}\n"))).is_err() {
                    // The client went away: stop verifying for nobody.
                    return None;
                }
            }
            let summary = serde_json::json!({"summary": {
                "documents": count,
                "indications": by_indication,
                "unreadable": failed,
            }});
            let _ = lines.blocking_send(Ok(format!("{summary}\n")));
            Some(summary)
        })
        .await
        .ok()
        .flatten();
        let record = audit::Record::new(
            principal.actor(),
            Action::Verification,
            "batch",
            &serde_json::json!({
                "credential": principal.key_id,
                "documents": count,
                "completed": summary.is_some(),
            }),
        );
        if let Ok(Err(e)) = worker_state.recorder.record(Vec::new(), vec![record]).await {
            tracing::error!(error = %e, "cannot audit a batch verification");
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|line| (line, receiver))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The documents of a zip archive, each bounded by `limit` bytes once inflated (a zip bomb's
/// entry is reported, not inflated further); folders skipped.
pub fn unzip(body: &[u8], limit: u64) -> Result<Vec<BatchItem>, ApiError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(body)).map_err(|e| ApiError::BadRequest {
            reason: format!("not a readable zip archive: {e}"),
        })?;
    if archive.len() > ZIP_MAX_ENTRIES {
        return Err(ApiError::BadRequest {
            reason: format!(
                "the archive has {} entries, more than {ZIP_MAX_ENTRIES}",
                archive.len()
            ),
        });
    }
    let mut out = Vec::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                out.push((format!("entry-{index}"), Err(e.to_string())));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_or_else(|_| format!("entry-{index}"), |n| n.into_owned());
        let mut bytes = Vec::new();
        // One byte more than allowed tells "exactly at the limit" from "over it".
        match (&mut entry).take(limit + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > limit => {
                out.push((
                    name,
                    Err(format!("larger than {limit} bytes once inflated")),
                ));
            }
            Ok(_) => {
                total += bytes.len() as u64;
                // All entries together are held in memory: bounded like a body, times four to
                // allow ordinary compression ratios.
                if total > limit.saturating_mul(4) {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                out.push((name, Ok(bytes)));
            }
            Err(e) => out.push((name, Err(format!("cannot inflate: {e}")))),
        }
    }
    Ok(out)
}
