//! `GET /v1/reports/signing-rate?period=2022-H1[&unit=STP][&level=commune][&format=json|csv|html]`:
//! the signing-rate report as `kyso report` renders it. The format comes from `format`, else
//! from `Accept` (`text/csv`, `text/html`), else JSON. Auditors read the units their key is bound
//! to (and the units below them); a key bound to `*` reads the whole province.
//!
//! `GET /v1/reports/signing-rate/trend?period=2022-H1[&unit=STP][&level=commune]`: the same
//! figures month by month (each month cut to the period), for the dashboard's trend chart. Each
//! month is [`report::build`] over that month, so a month's figures are exactly what the report
//! for that month says; nothing is recomputed elsewhere.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{self, Caller, Permission, Principal, ToReadReports};
use super::problem::ApiError;
use super::{AppState, Route};
use crate::audit::{self, Action};
use crate::ledger::period::day;
use crate::ledger::render::{self, Format};
use crate::ledger::report::{LevelRow, Rates};
use crate::ledger::{LevelScheme, Period, ReportQuery, Unit, report};

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/reports/signing-rate",
    },
    Route {
        method: "GET",
        path: "/v1/reports/signing-rate/trend",
    },
];

/// Unsigned documents listed at most (the count is always complete); as `kyso report`.
const UNSIGNED_LIMIT: usize = 1000;

/// Months in one trend at most: five years, a term of office (a trend longer than that is a
/// series of reports, and each month costs a report's queries).
pub const TREND_MAX_MONTHS: usize = 60;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/signing-rate", get(signing_rate))
        .route("/v1/reports/signing-rate/trend", get(trend))
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
    Caller { principal, .. }: Caller<ToReadReports>,
    headers: HeaderMap,
    params: Result<Query<ReportParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
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
    let scheme = state.levels.clone();
    check_scope(&state, &principal, &scheme, &params.unit, &params.level)?;
    let query = ReportQuery {
        period,
        level: params.level.clone(),
        unit: params.unit.clone(),
        unsigned_limit: UNSIGNED_LIMIT,
        renew_by: OffsetDateTime::now_utc() + state.renew_before,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    pub period: String,
    pub unit: Option<String>,
    pub level: Option<String>,
}

/// The trend: the period, its scope, and one entry per month.
#[derive(Debug, Serialize)]
pub struct Trend {
    pub period: Period,
    pub first_day: String,
    pub last_day: String,
    pub scope: Option<Unit>,
    pub level: Option<String>,
    pub months: Vec<TrendMonth>,
}

/// One month of a trend: the report's overall and per-level figures for that month.
#[derive(Debug, Serialize)]
pub struct TrendMonth {
    /// `YYYY-MM`, also for a month cut short by the period.
    pub month: String,
    /// The period the figures cover: the month, or the part of it inside the trend's period.
    pub period: Period,
    pub first_day: String,
    pub last_day: String,
    pub overall: Rates,
    pub levels: Vec<LevelRow>,
}

async fn trend(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToReadReports>,
    params: Result<Query<TrendParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    let period = Period::parse(&params.period).map_err(|e| ApiError::BadRequest {
        reason: e.to_string(),
    })?;
    let months = period.months();
    if months.len() > TREND_MAX_MONTHS {
        return Err(ApiError::BadRequest {
            reason: format!(
                "the period spans {} months; a trend covers at most {TREND_MAX_MONTHS}",
                months.len()
            ),
        });
    }
    let scheme = state.levels.clone();
    check_scope(&state, &principal, &scheme, &params.unit, &params.level)?;
    let record = audit::Record::new(
        principal.actor(),
        Action::ReportRead,
        params.unit.clone().unwrap_or_else(|| "*".to_owned()),
        &serde_json::json!({
            "credential": principal.key_id,
            "period": params.period,
            "level": params.level,
            "format": "trend",
        }),
    );
    let (unit, level) = (params.unit.clone(), params.level.clone());
    let renew_by = OffsetDateTime::now_utc() + state.renew_before;
    let trend = state
        .stores
        .run(move |store| {
            let mut out = Vec::with_capacity(months.len());
            let mut scope = None;
            for month in months {
                let query = ReportQuery {
                    period: month,
                    level: level.clone(),
                    unit: unit.clone(),
                    // The trend lists no documents; the drill-down is the report's.
                    unsigned_limit: 0,
                    renew_by,
                };
                let report = report::build(store, &scheme, &query)?;
                let (first, _) = month.days();
                scope = report.scope;
                out.push(TrendMonth {
                    month: format!("{:04}-{:02}", first.year(), first.month() as u8),
                    period: month,
                    first_day: report.first_day,
                    last_day: report.last_day,
                    overall: report.overall,
                    levels: report.levels,
                });
            }
            store.append_audit(&[record])?;
            let (first, last) = period.days();
            Ok(Trend {
                period,
                first_day: day(first),
                last_day: day(last),
                scope,
                level,
                months: out,
            })
        })
        .await?;
    Ok(Json(trend).into_response())
}

/// Refuses an unknown level, and a unit-bound key reading beyond its units (it must name one).
fn check_scope(
    state: &AppState,
    principal: &Principal,
    scheme: &LevelScheme,
    unit: &Option<String>,
    level: &Option<String>,
) -> Result<(), ApiError> {
    if let Some(level) = level
        && scheme.rank(level).is_none()
    {
        return Err(ApiError::BadRequest {
            reason: format!("unknown level `{level}`, expected one of {}", scheme.keys()),
        });
    }
    if principal.covers("*") {
        return Ok(());
    }
    match unit {
        Some(unit) => auth::require_unit(state, principal, Permission::ReadReports, unit),
        None => Err(ApiError::Forbidden {
            reason: format!(
                "this API key reads only units {}: add unit=",
                principal.units.join(", ")
            ),
        }),
    }
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
