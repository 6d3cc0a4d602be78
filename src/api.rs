//! The HTTP contract of `kyso serve`: request and response types, one `router()` per resource,
//! the error → status mapping ([`problem`]), and [`app`], which assembles them with the shared
//! state and the layers every request passes (request id, time limit, body limit, metrics).
//!
//! Resources: [`sign`] (PDF, XML), [`verify`] (one document, a batch), [`extend`] (signed
//! PDFs to B-T, B-LT, B-LTA), [`edxml`] (outgoing
//! edXML packages), [`documents`] (issuance
//! records), [`units`], [`reports`] (signing rate and its monthly trend), [`whoami`] (what the
//! caller's key allows), [`csc`] (the Cloud Signature Consortium API over the keys with
//! `csc = true`), [`health`] (`/healthz`, `/readyz`, `/metrics`) and [`openapi`]
//! (`/openapi.json`, the contract as data; a test walks it against [`routes`]). The web pages
//! for clerks and auditors ([`crate::web`]) are merged in too; they are static assets, not part
//! of the contract, so [`routes`] and the OpenAPI document leave them out.
//!
//! What it refuses: requests without a valid API key for the action ([`auth`]), bodies over the
//! configured limit, work beyond the bounded queues (503 with Retry-After), and new signatures
//! once shutdown has begun. What it never does: put a PIN, an API key or document content in a
//! log line or an error; internal failures reach the client as a 500 with a request id only.
//!
//! Blocking work (PKCS#11, SQLite, verification) runs on tokio's blocking pool behind the
//! queues in [`state`]; the async side only moves bytes.

pub mod auth;
mod checkpoints;
pub mod csc;
mod documents;
mod edxml;
mod extend;
mod health;
mod jobs;
pub mod metrics;
pub mod openapi;
pub mod problem;
mod recorder;
mod reports;
mod server;
mod sign;
pub mod state;
mod units;
mod verify;
mod whoami;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

pub use problem::ApiError;
/// The trend's limit, which the dashboard's page repeats (a test in `crate::web` compares them).
#[cfg(test)]
pub(crate) use reports::TREND_MAX_MONTHS;
pub use state::{AppState, StoreConfig};

/// One route: method and path template (axum's and OpenAPI's `{name}` syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// Longest request target (path and query) answered; a longer one is refused with 414 before
/// routing. 8 KiB, as common proxies allow (nginx's default header buffer): the longest URIs of
/// this API are sign requests with a reason and a location, a few hundred bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Every route the service answers, as the resource modules declare them beside their
/// `router()`; `/openapi.json` must document exactly these (a test checks both ways).
pub fn routes() -> Vec<Route> {
    let mut all: Vec<Route> = [
        sign::ROUTES,
        jobs::ROUTES,
        verify::ROUTES,
        extend::ROUTES,
        edxml::ROUTES,
        documents::ROUTES,
        units::ROUTES,
        reports::ROUTES,
        whoami::ROUTES,
        health::ROUTES,
        openapi::ROUTES,
        csc::ROUTES,
    ]
    .concat();
    all.sort();
    all
}

/// The whole service as one router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(sign::router())
        .merge(jobs::router())
        .merge(verify::router())
        .merge(extend::router())
        .merge(edxml::router())
        .merge(documents::router())
        .merge(units::router())
        .merge(reports::router())
        .merge(whoami::router())
        .merge(health::router())
        .merge(openapi::router())
        .merge(csc::router())
        .merge(crate::web::router(&state.levels))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            around_request,
        ))
        .with_state(state)
}

/// Serves `app(state)` on `listener` (through [`server`]: the connection cap and timeouts) until
/// `shutdown` completes, then shuts down gracefully:
/// stops accepting, lets in-flight requests (signatures included) finish for up to `grace`, and
/// commits what the ledger recorder holds. The caller then closes the PKCS#11 sessions with
/// [`crate::token::shutdown`] (`kyso serve` does, as every command does on exit): tokens are
/// process-wide, and an embedding process (the tests) may still be using them.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let checkpoints = tokio::spawn(checkpoints::run(state.clone()));
    let job_poller = tokio::spawn(jobs::poll(state.clone()));
    let flagged = state.clone();
    let signal = async move {
        shutdown.await;
        flagged.begin_shutdown();
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        let _ = stopping_tx.send(true);
    };
    let server = server::run(
        listener,
        app(state.clone()),
        &state.connections,
        state.limits.connection_timeouts,
        Arc::clone(&state.metrics),
        stopping_rx,
    );
    let result = tokio::select! {
        result = server => result,
        // The grace period runs from the signal, not from start.
        () = async {
            signal.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
            Ok(())
        }
    };
    checkpoints.abort();
    job_poller.abort();
    let closing = state.clone();
    let _ = tokio::task::spawn_blocking(move || closing.recorder.close()).await;
    tracing::info!("stopped; the caller closes the PKCS#11 sessions");
    result
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The current request's id, or `-` outside a request.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Runs around every request: gives it an id (echoed in `X-Request-Id`), refuses a request
/// target over [`MAX_URI_BYTES`] and a declared body over the limit before reading it, enforces the time limit, turns bare framework errors
/// into problem documents, counts and logs it (method, route, status, time; no content).
async fn around_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = new_request_id();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let declared = declared_length(request.headers());
    let carries_body = declared.is_some_and(|n| n > 0)
        || request.headers().contains_key(header::TRANSFER_ENCODING);
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    let limit = state.limits.max_body_bytes;
    let timeout = state.limits.request_timeout;
    let mut response = REQUEST_ID
        .scope(id.clone(), async move {
            if target > MAX_URI_BYTES {
                return ApiError::UriTooLong {
                    limit: MAX_URI_BYTES,
                }
                .into_response();
            }
            if declared.is_some_and(|n| n > limit) {
                return ApiError::PayloadTooLarge { limit }.into_response();
            }
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => problem_for_bare(response, limit),
                Err(_) => ApiError::Timeout {
                    seconds: timeout.as_secs(),
                }
                .into_response(),
            }
        })
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    // A refusal may leave the request's body unread (most are made before reading it), and
    // hyper then closes the connection after the response without saying so: a client that
    // reuses it for its next request finds it dead. Saying so lets the client open another.
    if carries_body && (response.status().is_client_error() || response.status().is_server_error())
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(&route, status, took);
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        took_ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// axum answers some errors itself with a plain-text body (a rejected extractor); clients get
/// problem documents everywhere, so those are rewritten.
fn problem_for_bare(response: Response, limit: u64) -> Response {
    let status = response.status();
    if status.is_success() || status.is_redirection() || status.is_informational() {
        return response;
    }
    // Our own answers carry JSON (problems, the readiness report); axum's carry plain text or
    // nothing.
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/"));
    if ours {
        return response;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit }.into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType {
            found: "(other)".to_owned(),
            expected: "the content type the endpoint documents",
        }
        .into_response(),
        StatusCode::METHOD_NOT_ALLOWED => method_not_allowed_problem(),
        StatusCode::NOT_FOUND => ApiError::NotFound {
            what: "route".to_owned(),
        }
        .into_response(),
        s if s.is_client_error() => ApiError::BadRequest {
            reason: format!("the request was refused ({})", s.as_u16()),
        }
        .into_response(),
        _ => ApiError::internal("framework error", &status).into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        what: "route".to_owned(),
    }
}

async fn method_not_allowed() -> Response {
    method_not_allowed_problem()
}

fn method_not_allowed_problem() -> Response {
    let mut response = ApiError::BadRequest {
        reason: "this method is not allowed on this route; see /openapi.json".to_owned(),
    }
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    if let Ok(body) = serde_json::to_vec(&serde_json::json!({
        "type": format!("{}method-not-allowed", problem::TYPE_PREFIX),
        "title": "Method not allowed",
        "status": 405,
        "detail": "this method is not allowed on this route; see /openapi.json",
        "instance": format!("urn:kyso:request:{}", request_id()),
    })) {
        *response.body_mut() = axum::body::Body::from(body);
    }
    response
}

/// 16 hex digits from the system's random generator (a counter would reveal request volume).
pub(crate) fn new_request_id() -> String {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes);
    hex::encode(bytes)
}

/// Reads a request body up to the configured limit.
pub(crate) async fn read_body(
    state: &AppState,
    body: axum::body::Body,
) -> Result<axum::body::Bytes, ApiError> {
    read_body_within(body, state.limits.max_body_bytes).await
}

async fn read_body_within(
    body: axum::body::Body,
    limit: u64,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|e| {
            // to_bytes reports "length limit exceeded" through its source chain.
            let text = format!("{e:?}");
            if text.contains("LengthLimitError") || text.contains("length limit") {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::BadRequest {
                    reason: "the request body could not be read".to_owned(),
                }
            }
        })
}

/// Bodies of at most this many bytes (declared) are read without a place among
/// [`state::JSON_READS`]: a single issued event is a few hundred bytes, and a client trickling
/// a small body holds no memory worth bounding.
const SMALL_JSON_BODY: u64 = 64 * 1024;

/// The body of a JSON endpoint (`/v1/documents`, `/v1/units`), read within
/// `max_json_body_bytes` (413 at once when the declared length is over it), and the place it
/// holds among the large bodies being read or parsed at once ([`state::JSON_READS`]).
pub(crate) async fn read_json_body(
    state: &AppState,
    request: axum::extract::Request,
) -> Result<JsonBody, ApiError> {
    let limit = state.limits.max_json_body_bytes;
    let declared = declared_length(request.headers());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    // A chunked body declares nothing and may be as large as the limit.
    let place = if declared.is_some_and(|n| n <= SMALL_JSON_BODY) {
        None
    } else {
        let place = Arc::clone(&state.json_reads)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        Some(place)
    };
    let bytes = read_body_within(request.into_body(), limit).await?;
    Ok(JsonBody {
        bytes,
        _place: place,
    })
}

/// A JSON endpoint's body, read (see [`read_json_body`]).
pub(crate) struct JsonBody {
    bytes: axum::body::Bytes,
    _place: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl JsonBody {
    /// Runs `parse` on the blocking pool (parsing megabytes takes milliseconds the async
    /// workers, and `/healthz`, should not wait for); the place is held until it is done, so
    /// that the parsed copy counts against the bound too.
    pub(crate) async fn parse<T: Send + 'static>(
        self,
        parse: impl FnOnce(&[u8]) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        tokio::task::spawn_blocking(move || parse(&self.bytes))
            .await
            .map_err(|e| ApiError::internal("parsing a request body", &e))
    }
}

fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The request's content type without parameters, lower-case.
/// The parts of a `multipart/form-data` request; each part is then read within the body limit
/// (see [`sign::multipart_error`]).
pub(crate) async fn multipart(
    state: &AppState,
    request: axum::extract::Request,
) -> Result<axum::extract::Multipart, ApiError> {
    use axum::extract::FromRequest as _;
    axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::BadRequest {
            reason: format!("multipart: {}", e.body_text()),
        })
}

pub(crate) fn content_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}
