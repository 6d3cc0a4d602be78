//! Errors as RFC 9457 problem details (`application/problem+json`), each with a stable `type`
//! URI that clients may match on. Internal failures say only "internal error" and the request
//! id; what went wrong goes to the log under the same id, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id;

/// The prefix of every problem type: a URN, so the identifier is stable and promises no page.
pub const TYPE_PREFIX: &str = "urn:kyso:problem:";

/// Everything a request can fail with. Each variant is one problem type.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no valid API key: {reason}")]
    Unauthorized { reason: &'static str },
    #[error("{reason}")]
    Forbidden { reason: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("the request body is larger than the {limit}-byte limit")]
    PayloadTooLarge { limit: u64 },
    #[error("the request target (path and query) is longer than the {limit}-byte limit")]
    UriTooLong { limit: usize },
    /// The request line and headers together, refused by the HTTP parser.
    #[error("the request head is larger than the {limit}-byte limit")]
    HeadTooLarge { limit: usize },
    #[error("{reason}")]
    BadRequest { reason: String },
    #[error("content type `{found}` is not accepted here; send {expected}")]
    UnsupportedMediaType {
        found: String,
        expected: &'static str,
    },
    #[error("the document cannot be signed: {reason}")]
    UnsignableDocument { reason: String },
    #[error("signing key `{key}` is unavailable: {reason}")]
    TokenUnavailable { key: String, reason: String },
    /// The level asked for needs something the service is not configured with.
    #[error("{reason}")]
    LevelUnavailable { reason: String },
    /// `POST /v1/extend`: a signature does not verify now, or there is none.
    #[error("the document is not extended: {reason}")]
    NotExtendable { reason: String },
    /// B-LT validates the signer before signing, and refuses a certificate it cannot vouch for.
    #[error("{reason}")]
    SignerNotValid { reason: String },
    /// A service kyso depends on for this request (a time-stamping authority) failed.
    #[error("the {service} failed: {reason}")]
    Upstream {
        service: &'static str,
        reason: String,
    },
    #[error("the {queue} queue is full; retry in {retry_after} s")]
    Overloaded {
        queue: &'static str,
        retry_after: u64,
    },
    #[error("the request took longer than {seconds} s")]
    Timeout { seconds: u64 },
    #[error("the service is shutting down")]
    ShuttingDown,
    #[error("the ledger is unavailable")]
    StoreUnavailable,
    /// Details are logged where the error is made; the client sees none of them.
    #[error("internal error")]
    Internal,
}

/// The problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// `urn:kyso:request:<id>`: the id the log line of this request carries.
    pub instance: String,
}

impl ApiError {
    /// The stable slug after [`TYPE_PREFIX`].
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not-found",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UriTooLong { .. } => "uri-too-long",
            ApiError::HeadTooLarge { .. } => "request-head-too-large",
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::UnsupportedMediaType { .. } => "unsupported-media-type",
            ApiError::UnsignableDocument { .. } => "unsignable-document",
            ApiError::TokenUnavailable { .. } => "token-unavailable",
            ApiError::LevelUnavailable { .. } => "level-unavailable",
            ApiError::SignerNotValid { .. } => "signer-not-valid",
            ApiError::NotExtendable { .. } => "not-extendable",
            ApiError::Upstream { .. } => "upstream-failed",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Timeout { .. } => "timeout",
            ApiError::ShuttingDown => "shutting-down",
            ApiError::StoreUnavailable => "store-unavailable",
            ApiError::Internal => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::HeadTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnsignableDocument { .. }
            | ApiError::LevelUnavailable { .. }
            | ApiError::SignerNotValid { .. }
            | ApiError::NotExtendable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ApiError::TokenUnavailable { .. }
            | ApiError::Overloaded { .. }
            | ApiError::Timeout { .. }
            | ApiError::ShuttingDown
            | ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Unauthorized { .. } => "Unauthorized",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::NotFound { .. } => "Not found",
            ApiError::PayloadTooLarge { .. } => "Request body too large",
            ApiError::UriTooLong { .. } => "URI too long",
            ApiError::HeadTooLarge { .. } => "Request head too large",
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::UnsupportedMediaType { .. } => "Unsupported media type",
            ApiError::UnsignableDocument { .. } => "Document cannot be signed",
            ApiError::TokenUnavailable { .. } => "Signing key unavailable",
            ApiError::LevelUnavailable { .. } => "Signature level unavailable",
            ApiError::SignerNotValid { .. } => "Signer's certificate not valid",
            ApiError::NotExtendable { .. } => "Document not extendable",
            ApiError::Upstream { .. } => "Upstream service failed",
            ApiError::Overloaded { .. } => "Service overloaded",
            ApiError::Timeout { .. } => "Request timed out",
            ApiError::ShuttingDown => "Shutting down",
            ApiError::StoreUnavailable => "Ledger unavailable",
            ApiError::Internal => "Internal error",
        }
    }

    /// Seconds a client should wait before retrying, for the `Retry-After` header.
    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after, .. } => Some(*retry_after),
            ApiError::Timeout { .. } | ApiError::StoreUnavailable => Some(1),
            ApiError::TokenUnavailable { .. } | ApiError::Upstream { .. } => Some(5),
            _ => None,
        }
    }

    /// Logs `context` (which may name files, SQL or token errors, never secrets) under this
    /// request's id and returns the opaque internal error the client sees.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(request_id = %request_id(), error = %error, "{context}");
        ApiError::Internal
    }

    /// The problem document of this error for the request `request_id`.
    pub fn problem(&self, request_id: &str) -> Problem {
        Problem {
            type_uri: format!("{TYPE_PREFIX}{}", self.slug()),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.to_string(),
            instance: format!("urn:kyso:request:{request_id}"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.problem(&request_id())).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
