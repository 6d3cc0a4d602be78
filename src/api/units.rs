//! `GET /v1/units` (the unit list) and `POST /v1/units` (import units, admin only): CSV with the
//! header `code,name,level,parent` (`text/csv`) or a JSON array of units. All rows or none,
//! checked against the stored units exactly as `kyso units import` checks them.

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::routing::get;
use serde::Deserialize;

use super::auth::{Caller, ToManageUnits, ToReadUnits};
use super::problem::ApiError;
use super::{AppState, Route, content_type, read_json_body};
use crate::audit::{self, Action};
use crate::ledger::units::{self, ImportSummary};
use crate::ledger::{LevelScheme, Unit};

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/units",
    },
    Route {
        method: "POST",
        path: "/v1/units",
    },
];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/units", get(list).post(import))
}

async fn list(
    State(state): State<AppState>,
    _caller: Caller<ToReadUnits>,
) -> Result<Json<Vec<Unit>>, ApiError> {
    Ok(Json(state.stores.run(|store| store.units()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitInput {
    code: String,
    name: String,
    level: String,
    #[serde(default)]
    parent: Option<String>,
}

async fn import(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToManageUnits>,
    request: Request,
) -> Result<Json<ImportSummary>, ApiError> {
    let kind = content_type(request.headers());
    let body = read_json_body(&state, request).await?;
    let scheme = state.levels.clone();
    let parsing = scheme.clone();
    let rows = body
        .parse(move |bytes| parse(&kind, bytes, &parsing))
        .await??;
    let codes: Vec<String> = rows.iter().map(|(_, u)| u.code.clone()).collect();
    let actor = principal.actor();
    let key_id = principal.key_id.clone();
    let summary = state
        .stores
        .run(move |store| {
            let summary = units::import(store, &rows, &scheme)?;
            // After the import's own transaction: an audit failure here is reported as an error
            // although the units are stored; the entry names every code so it can be re-added.
            store.append_audit(&[audit::Record::new(
                actor,
                Action::UnitsChanged,
                codes.first().cloned().unwrap_or_default(),
                &serde_json::json!({
                    "credential": key_id,
                    "codes": codes,
                    "inserted": summary.inserted,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                }),
            )])?;
            Ok(summary)
        })
        .await?;
    Ok(Json(summary))
}

/// The units of a CSV or JSON body, through the CSV reader either way, so that JSON input meets
/// exactly the checks `kyso units import` makes.
fn parse(kind: &str, body: &[u8], scheme: &LevelScheme) -> Result<Vec<(u64, Unit)>, ApiError> {
    match kind {
        "text/csv" => units::parse_csv(body, scheme).map_err(|e| ApiError::BadRequest {
            reason: e.to_string(),
        }),
        "application/json" => {
            let input: Vec<UnitInput> =
                serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
                    reason: format!("JSON: {e}"),
                })?;
            let mut csv = String::from("code,name,level,parent\n");
            let mut writer = ::csv::Writer::from_writer(Vec::new());
            for u in &input {
                writer
                    .write_record([
                        &u.code,
                        &u.name,
                        &u.level,
                        u.parent.as_deref().unwrap_or(""),
                    ])
                    .map_err(|e| ApiError::internal("re-encoding units", &e))?;
            }
            let rows = writer
                .into_inner()
                .map_err(|e| ApiError::internal("re-encoding units", &e))?;
            csv.push_str(&String::from_utf8_lossy(&rows));
            units::parse_csv(csv.as_bytes(), scheme).map_err(|e| ApiError::BadRequest {
                reason: e.to_string(),
            })
        }
        other => Err(ApiError::UnsupportedMediaType {
            found: other.to_owned(),
            expected: "text/csv or application/json",
        }),
    }
}
