//! `GET /v1/whoami`: what the presented API key is and what it allows: its id (public), role,
//! units, the permissions of that role, and the signing keys it may use.
//!
//! The web pages ([`crate::web`]) call it after login to decide what to show; they only hide
//! what the other endpoints would refuse anyway, so a wrong answer here could at worst show a
//! button whose request then fails. It never echoes the key or anything derived from its secret.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::auth::{Caller, Permission, ToReadIdentity};
use super::problem::ApiError;
use super::{AppState, Route};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/v1/whoami",
}];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/whoami", get(whoami))
}

/// The caller as the service sees it.
#[derive(Debug, Serialize)]
pub struct Identity {
    pub key_id: String,
    pub role: &'static str,
    /// Unit codes, or `*` for every unit.
    pub units: Vec<String>,
    /// The names of the caller's units (none for `*`), so that a page can say "Sở Tư pháp"
    /// where a clerk would not recognise `STP`.
    pub unit_names: BTreeMap<String, String>,
    /// The permissions the role holds (`sign`, `verify`, `read_reports`, …).
    pub permissions: Vec<&'static str>,
    /// Configured signing keys of the caller's units, when the role may sign; sorted by name.
    pub signing_keys: Vec<SigningKey>,
}

#[derive(Debug, Serialize)]
pub struct SigningKey {
    pub name: String,
    pub unit: String,
    pub method: &'static str,
}

async fn whoami(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToReadIdentity>,
) -> Result<Json<Identity>, ApiError> {
    let permissions: Vec<Permission> = Permission::ALL
        .into_iter()
        .filter(|p| p.roles().contains(&principal.role))
        .collect();
    let mut signing_keys: Vec<SigningKey> = if permissions.contains(&Permission::Sign) {
        state
            .keys
            .entries()
            .filter(|k| principal.covers(&k.unit))
            .map(|k| SigningKey {
                name: k.name.clone(),
                unit: k.unit.clone(),
                method: k.method.as_str(),
            })
            .collect()
    } else {
        Vec::new()
    };
    signing_keys.sort_by(|a, b| a.name.cmp(&b.name));
    let bound: Vec<String> = principal
        .units
        .iter()
        .filter(|u| *u != "*")
        .cloned()
        .collect();
    let unit_names = if bound.is_empty() {
        BTreeMap::new()
    } else {
        state
            .stores
            .run(move |store| {
                Ok(store
                    .units()?
                    .into_iter()
                    .filter(|u| bound.contains(&u.code))
                    .map(|u| (u.code, u.name))
                    .collect())
            })
            .await?
    };
    Ok(Json(Identity {
        key_id: principal.key_id,
        role: principal.role.as_str(),
        units: principal.units,
        unit_names,
        permissions: permissions.into_iter().map(Permission::as_str).collect(),
        signing_keys,
    }))
}
