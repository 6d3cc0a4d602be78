//! `GET /v1/reports/signing-rate?period=2022-H1[&unit=STP][&level=commune][&format=json|csv|html]`:
//! the signing-rate report as `kyso report` renders it. The format comes from `format`, else
//! from `Accept` (`text/csv`, `text/html`), else JSON. Auditors read the units their key is bound
//! to (and the units below them); a key bound to `*` reads the whole province.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::{self, Permission};
use super::problem::ApiError;
use super::{AppState, Route};
use crate::audit::{self, Action};
use crate::ledger::render::{self, Format};
use crate::ledger::{LevelScheme, Period, ReportQuery, report};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/v1/reports/signing-rate",
}];

/// Unsigned documents listed at most (the count is always complete); as `kyso report`.
const UNSIGNED_LIMIT: usize = 1000;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/reports/signing-rate", get(signing_rate))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    pub period: String,
    pub unit: Option<String>,
    pub level: Option<String>,
    pub format: Option<String>,
}

async fn signing_rate(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<ReportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth::authorize(&state, &headers, Permission::ReadReports).await?;
    let Query(params) = params.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    let period = Period::parse(&params.period).map_err(|e| ApiError::BadRequest {
        reason: e.to_string(),
    })?;
    let format = match params.format.as_deref() {
        Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some("html") => Format::Html,
        Some(other) => {
            return Err(ApiError::BadRequest {
                reason: format!("format `{other}`: expected json, csv or html"),
            });
        }
        None => from_accept(&headers),
    };
    let scheme = LevelScheme::default();
    if let Some(level) = &params.level
        && scheme.rank(level).is_none()
    {
        return Err(ApiError::BadRequest {
            reason: format!("unknown level `{level}`, expected one of {}", scheme.keys()),
        });
    }
    if !principal.covers("*") {
        match &params.unit {
            Some(unit) => auth::require_unit(&state, &principal, Permission::ReadReports, unit)?,
            None => {
                return Err(ApiError::Forbidden {
                    reason: format!(
                        "this API key reads only units {}: add unit=",
                        principal.units.join(", ")
                    ),
                });
            }
        }
    }
    let query = ReportQuery {
        period,
        level: params.level.clone(),
        unit: params.unit.clone(),
        unsigned_limit: UNSIGNED_LIMIT,
    };
    let record = audit::Record::new(
        principal.actor(),
        Action::ReportRead,
        params.unit.clone().unwrap_or_else(|| "*".to_owned()),
        &serde_json::json!({
            "credential": principal.key_id,
            "period": params.period,
            "level": params.level,
            "format": format!("{format:?}").to_lowercase(),
        }),
    );
    let report = state
        .stores
        .run(move |store| {
            let report = report::build(store, &scheme, &query)?;
            store.append_audit(&[record])?;
            Ok(report)
        })
        .await?;
    let (media, text) = match format {
        Format::Csv => ("text/csv; charset=utf-8", render::csv(&report)),
        Format::Html => ("text/html; charset=utf-8", Ok(render::html(&report))),
        _ => ("application/json", render::json(&report)),
    };
    let text = text.map_err(|e| ApiError::internal("rendering the report", &e))?;
    Ok(([(header::CONTENT_TYPE, media)], text).into_response())
}

fn from_accept(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/csv") {
        Format::Csv
    } else if accept.contains("text/html") {
        Format::Html
    } else {
        Format::Json
    }
}
