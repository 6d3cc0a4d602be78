//! `POST /v1/verify` (one document → its JSON report, or with `Accept: text/html` its printable
//! verification record, [`crate::verify::record`]) and `POST /v1/verify/batch` (many
//! documents as `multipart/form-data` parts or one `application/zip` → one JSON line per
//! document, streamed as each is verified, then a summary line).
//!
//! Verdicts are exactly [`crate::verify::Verifier::verify`]'s (ETSI EN 319 102-1). With
//! `document_id`, `receiving_unit` and `sender`, a single verification is also recorded in the
//! ledger as an incoming document of that unit. A batch reads at most the configured body size,
//! and a zip at most [`ZIP_MAX_ENTRIES`] entries of at most the body size each; a batch runs
//! through [`crate::batch`], so its documents are verified on the service's verify workers in
//! parallel, under the batch module's zip-bomb limits, and its lines are those of
//! `kyso verify --batch --json-lines`.

use std::num::{NonZeroU32, NonZeroUsize};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::auth::{self, Caller, Permission, ToVerify};
use super::metrics::Metrics;
use super::problem::ApiError;
use super::sign::multipart_error;
use super::state::store_error;
use super::{AppState, Route, content_type, read_body};
use crate::audit::{self, Action};
use crate::batch::{Batch, Limits, Source, Upload};
use crate::ledger::{self, Event, Verified};
use crate::verify::{DetachedContent, DocumentReport};

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
pub const ZIP_MAX_ENTRIES: u64 = 10_000;

/// Lines buffered between the verifier and a slow client; the verifier waits beyond this, so a
/// client that does not read cannot make the server hold all results.
const LINES_BUFFERED: usize = 16;

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
    /// `decree30`: add the Decree 30/2020/NĐ-CP form checks to the report (`decree30`), as
    /// `[verify] decree30` does for every request.
    pub check: Option<String>,
}

async fn verify_one(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToVerify>,
    query: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
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
    let decree30 = match query.check.as_deref() {
        None => state.decree30,
        Some("decree30") => true,
        Some(other) => {
            return Err(ApiError::BadRequest {
                reason: format!("check `{other}`: expected decree30"),
            });
        }
    };
    let as_record = wants_record(request.headers());
    let admitted = state.verify_queue.admit(&state.metrics)?;
    let (document, detached) = read_single(&state, request).await?;
    let verifier = state.verifier.get();
    let mut report = admitted
        .run(move || verifier.verify_with(&document, &detached))
        .await?;
    drop(admitted);
    if Permission::ReadPersonalIdentifiers
        .roles()
        .contains(&principal.role)
    {
        report.reveal_identifiers();
    }
    if decree30 {
        report.check_decree30();
    }
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
    if as_record {
        let page = crate::verify::record::html(&report, &Default::default());
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    Ok(Json(report).into_response())
}

/// Whether the caller asked for the printable record (`Accept: text/html`) rather than the JSON
/// report: the same verification, shown as a page to print or save as PDF.
fn wants_record(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|t| t.split(';').next().unwrap_or("").trim() == "text/html")
        })
}

fn ledger_indication(report: &DocumentReport) -> ledger::Indication {
    match report.indication {
        crate::verify::Indication::TotalPassed => ledger::Indication::TotalPassed,
        crate::verify::Indication::TotalFailed => ledger::Indication::TotalFailed,
        crate::verify::Indication::Indeterminate => ledger::Indication::Indeterminate,
    }
}

/// Detached documents one verification may carry (`detached` parts): a signature names a few
/// attachments; the request body limit bounds their bytes.
const MAX_DETACHED_PARTS: usize = 64;

/// One document: the raw body, or the `document` part with any `detached` parts (the
/// documents a detached XML signature refers to, each under the file name its reference uses).
async fn read_single(
    state: &AppState,
    request: Request,
) -> Result<(Vec<u8>, DetachedContent), ApiError> {
    if content_type(request.headers()) != "multipart/form-data" {
        let body = read_body(state, request.into_body()).await?;
        if body.is_empty() {
            return Err(ApiError::BadRequest {
                reason: "the request body is empty: send the document".to_owned(),
            });
        }
        return Ok((body.to_vec(), DetachedContent::new()));
    }
    let limit = state.limits.max_body_bytes;
    let mut multipart = super::multipart(state, request).await?;
    let mut document = None;
    let mut detached = DetachedContent::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name() {
            Some("document") if document.is_none() => {
                document = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|e| multipart_error(e, limit))?
                        .to_vec(),
                );
            }
            Some("document") => {
                return Err(ApiError::BadRequest {
                    reason: "more than one `document` part".to_owned(),
                });
            }
            Some("detached") => {
                let Some(name) = field.file_name().map(str::to_owned) else {
                    return Err(ApiError::BadRequest {
                        reason: "a `detached` part needs a file name: the name its reference uses"
                            .to_owned(),
                    });
                };
                if detached.len() >= MAX_DETACHED_PARTS {
                    return Err(ApiError::BadRequest {
                        reason: format!("more than {MAX_DETACHED_PARTS} `detached` parts"),
                    });
                }
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                detached.add(name, bytes.to_vec());
            }
            _ => {
                return Err(ApiError::BadRequest {
                    reason: "expected one `document` part and any `detached` parts".to_owned(),
                });
            }
        }
    }
    let document = document
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::BadRequest {
            reason: "no `document` part".to_owned(),
        })?;
    Ok((document, detached))
}

async fn verify_batch(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToVerify>,
    request: Request,
) -> Result<Response, ApiError> {
    let admitted = state.verify_queue.admit(&state.metrics)?;
    let limit = state.limits.max_body_bytes;
    let source = match content_type(request.headers()).as_str() {
        "multipart/form-data" => Source::Documents(read_parts(&state, request).await?.into()),
        "application/zip" | "application/x-zip-compressed" => {
            let body = read_body(&state, request.into_body()).await?;
            Source::Zip {
                name: PathBuf::from("upload.zip"),
                bytes: Arc::from(&body[..]),
            }
        }
        other => {
            return Err(ApiError::UnsupportedMediaType {
                found: other.to_owned(),
                expected: "multipart/form-data (one part per document) or application/zip",
            });
        }
    };
    if matches!(&source, Source::Documents(d) if d.is_empty()) {
        return Err(ApiError::BadRequest {
            reason: "the batch holds no document".to_owned(),
        });
    }
    // An archive refused whole (unreadable, too many entries, overlapping entries) is a 400
    // before the stream starts, not a line in it.
    let source = admitted
        .run(move || {
            source
                .check(&batch_limits(limit))
                .map(|()| source)
                .map_err(|e| ApiError::BadRequest {
                    reason: e.to_string(),
                })
        })
        .await??;
    let (lines, receiver) =
        tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(LINES_BUFFERED);
    let verifier = state.verifier.get();
    let worker_state = state.clone();
    let jobs = batch_jobs(state.limits.verify_workers);
    tokio::spawn(async move {
        // The place in the verify queue, and the batch's workers, are held until the whole
        // batch is done.
        let metrics = worker_state.metrics.clone();
        let outcome = admitted
            .run_many(jobs, move || {
                run_batch(&verifier, jobs, limit, &source, &lines, &metrics)
            })
            .await
            .unwrap_or_default();
        let record = audit::Record::new(
            principal.actor(),
            Action::Verification,
            "batch",
            &serde_json::json!({
                "credential": principal.key_id,
                "documents": outcome.documents,
                "completed": outcome.completed,
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

/// Threads a batch verifies on: every verify worker but one, which stays free for single
/// verifications (a clerk's upload must not wait behind an archive), and at least one.
fn batch_jobs(verify_workers: usize) -> NonZeroU32 {
    let jobs = u32::try_from(verify_workers.saturating_sub(1)).unwrap_or(u32::MAX);
    NonZeroU32::new(jobs).unwrap_or(NonZeroU32::MIN)
}

/// What a batch request did, for the audit log.
#[derive(Default)]
struct BatchOutcome {
    documents: u64,
    completed: bool,
}

/// Verifies `source` with [`crate::batch`] (its zip-bomb limits, its workers, its verdicts) and
/// sends one line per document as each finishes, then a summary line; a client that goes away
/// stops the batch.
fn run_batch(
    verifier: &crate::verify::Verifier,
    jobs: NonZeroU32,
    limit: u64,
    source: &Source,
    lines: &tokio::sync::mpsc::Sender<Result<String, std::io::Error>>,
    metrics: &Metrics,
) -> BatchOutcome {
    let jobs = NonZeroUsize::try_from(jobs).unwrap_or(NonZeroUsize::MIN);
    let batch = Batch::new(verifier, jobs).with_limits(batch_limits(limit));
    let mut by_indication = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut unreadable = 0u64;
    let mut seen = 0u64;
    let mut gone = false;
    let result = batch.run_until(source, |item| {
        seen += 1;
        match item.report() {
            Some(report) => {
                metrics.verification(report.indication.as_str());
                *by_indication.entry(report.indication.as_str()).or_default() += 1;
            }
            None => unreadable += 1,
        }
        gone = lines
            .blocking_send(Ok(format!("{}\n", item.to_json())))
            .is_err();
        if gone {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let documents = match result {
        Ok(n) => n,
        Err(e) => {
            // The archive itself is unreadable or refused: said as the stream's last line.
            let line = serde_json::json!({"error": e.to_string()});
            let _ = lines.blocking_send(Ok(format!("{line}\n")));
            return BatchOutcome {
                documents: seen,
                completed: false,
            };
        }
    };
    if !gone {
        let summary = serde_json::json!({"summary": {
            "documents": documents,
            "indications": by_indication,
            "unreadable": unreadable,
        }});
        let _ = lines.blocking_send(Ok(format!("{summary}\n")));
    }
    BatchOutcome {
        documents,
        completed: !gone,
    }
}

/// One document is at most a request body; an archive's entries are bounded by the batch
/// module's ratio limit, and all of them together by four request bodies (ordinary compression
/// ratios), so that one small request cannot ask for gigabytes of inflating.
fn batch_limits(body_limit: u64) -> Limits {
    Limits {
        max_document_bytes: body_limit,
        max_zip_entries: ZIP_MAX_ENTRIES,
        max_zip_total_bytes: body_limit.saturating_mul(4),
        ..Limits::default()
    }
}

/// The parts of a multipart batch, each a document named by its file name (or part name).
async fn read_parts(state: &AppState, request: Request) -> Result<Vec<Upload>, ApiError> {
    let limit = state.limits.max_body_bytes;
    let mut multipart = super::multipart(state, request).await?;
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
        documents.push(Upload {
            name,
            bytes: bytes.to_vec(),
        });
    }
    Ok(documents)
}
