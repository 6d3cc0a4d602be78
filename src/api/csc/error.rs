//! CSC errors as the protocol carries them: `{"error": "...", "error_description": "..."}` with
//! the HTTP status the Cloud Signature Consortium API gives (v2.0 §10, v1.0.4 §10: 400 for a
//! request refused, 401 for a bad access token, 503 when the service cannot take it now).
//!
//! CSC is English-only, so descriptions are English; where the specification words an error
//! (`Invalid parameter SAD`, `SAD expired`, `Hash is not authorized by the SAD`) those words are
//! used, so that clients that match on them work. No description carries a secret, a hash
//! value, another caller's identity or a token's failure: those go to the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::super::problem::ApiError;

/// Everything a CSC request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CscError {
    /// A parameter is missing, of the wrong type or refused (400 `invalid_request`).
    #[error("invalid request: {description}")]
    InvalidRequest { description: String },
    /// No valid API key (401 `invalid_token`).
    #[error("invalid token: {description}")]
    InvalidToken { description: &'static str },
    /// A valid API key whose role may not use signing credentials (403 `access_denied`).
    #[error("access denied")]
    AccessDenied,
    /// The body is over the JSON body limit (413 `invalid_request`).
    #[error("the request body is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    /// Overloaded, shutting down, or the token or ledger is down (503 `temporarily_unavailable`).
    #[error("temporarily unavailable")]
    TemporarilyUnavailable { retry_after: Option<u64> },
    /// Anything else; the log has the details under the request id (500 `server_error`).
    #[error("server error")]
    ServerError,
}

impl CscError {
    /// A 400 `invalid_request` with `description`.
    pub fn invalid(description: impl Into<String>) -> CscError {
        CscError::InvalidRequest {
            description: description.into(),
        }
    }

    /// `Invalid parameter NAME`, the specification's words for a value refused.
    pub fn invalid_parameter(name: &str) -> CscError {
        CscError::invalid(format!("Invalid parameter {name}"))
    }

    /// An unknown credential, one of another unit, and one not offered over CSC read the same,
    /// so that a caller learns nothing about the keys it may not use.
    pub fn invalid_credential() -> CscError {
        CscError::invalid_parameter("credentialID")
    }

    /// Every SAD refusal but expiry and foreign hashes reads the same: a caller learns nothing
    /// about SADs issued to others.
    pub fn invalid_sad() -> CscError {
        CscError::invalid_parameter("SAD")
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            CscError::InvalidRequest { description } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                description.clone(),
            ),
            CscError::InvalidToken { description } => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                (*description).to_owned(),
            ),
            CscError::AccessDenied => (
                StatusCode::FORBIDDEN,
                "access_denied",
                "The API key's role may not use signing credentials".to_owned(),
            ),
            CscError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                format!("The request body is larger than the {limit}-byte limit"),
            ),
            CscError::TemporarilyUnavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The service cannot take this request now; retry later".to_owned(),
            ),
            CscError::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                format!(
                    "Internal error; the service log has request {}",
                    super::super::request_id()
                ),
            ),
        }
    }
}

impl From<ApiError> for CscError {
    /// The service's own refusals (authentication, body limits, queues) in CSC form. Their
    /// details were logged where they were made.
    fn from(error: ApiError) -> CscError {
        match error {
            ApiError::Unauthorized { .. } => CscError::InvalidToken {
                description: "The access token is not valid: send Authorization: Bearer with a kyso API key",
            },
            ApiError::Forbidden { .. } => CscError::AccessDenied,
            ApiError::BadRequest { reason } => CscError::InvalidRequest {
                description: reason,
            },
            ApiError::PayloadTooLarge { limit } => CscError::TooLarge { limit },
            ApiError::Overloaded { retry_after, .. } => CscError::TemporarilyUnavailable {
                retry_after: Some(retry_after),
            },
            ApiError::ShuttingDown
            | ApiError::StoreUnavailable
            | ApiError::TokenUnavailable { .. } => {
                CscError::TemporarilyUnavailable { retry_after: None }
            }
            _ => CscError::ServerError,
        }
    }
}

impl IntoResponse for CscError {
    fn into_response(self) -> Response {
        let (status, error, description) = self.parts();
        let mut response = (
            status,
            Json(serde_json::json!({
                "error": error,
                "error_description": description,
            })),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            CscError::InvalidToken { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            CscError::TemporarilyUnavailable {
                retry_after: Some(seconds),
            } => {
                if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_are_the_specifications() {
        let cases = [
            (CscError::invalid_sad(), 400, "invalid_request"),
            (
                CscError::InvalidToken { description: "x" },
                401,
                "invalid_token",
            ),
            (CscError::AccessDenied, 403, "access_denied"),
            (
                CscError::TemporarilyUnavailable { retry_after: None },
                503,
                "temporarily_unavailable",
            ),
            (CscError::ServerError, 500, "server_error"),
        ];
        for (error, status, code) in cases {
            let (s, c, _) = error.parts();
            assert_eq!((s.as_u16(), c), (status, code));
        }
        assert_eq!(
            CscError::invalid_sad().parts().2,
            "Invalid parameter SAD",
            "the specification's words"
        );
    }
}
