//! Who may do what: API keys, each bound to one role and to units.
//!
//! A key is presented as `Authorization: Bearer kyso_<id>_<secret>`. The id is public (it names
//! the key in logs, metrics and the audit log); the secret is 256 random bits. The store keeps
//! only SHA-256 of the whole key: a fast hash suffices because there is nothing to guess from a
//! 256-bit secret, and the comparison is constant-time so that response timing reveals nothing
//! about the stored hash.
//!
//! Roles (design §1): a **signer** (the DMS of a unit) signs with the keys of its units, records
//! its units' documents and verifies; a **verifier** verifies; an **auditor** only reads reports
//! of its units; an **admin** manages units and reads everything but signs nothing (a signature
//! must be attributable to a unit's own credential). Every denial is logged (key id, role,
//! reason; never the key) and counted in `/metrics`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::Engine as _;
use time::OffsetDateTime;

use super::problem::ApiError;
use super::{AppState, request_id};
use crate::audit;
use crate::ledger::ownership::{Claim, Owners};
use crate::ledger::{self, ApiKey, Reassignment};
use crate::signer::DigestAlgorithm::Sha256;

/// Every key starts with this, so that a leaked key is recognisable by secret scanners.
pub const KEY_PREFIX: &str = "kyso_";

/// How long a looked-up key is trusted without asking the store again. A revocation takes
/// effect on every node within this time; 30 s keeps the store out of the hot path.
const CACHE_TTL: Duration = Duration::from_secs(30);

/// Cached keys at most (a province has a few hundred units, each with a handful of keys).
const CACHE_MAX: usize = 10_000;

/// What a key allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Signer,
    Verifier,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Signer, Role::Verifier, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Signer => "signer",
            Role::Verifier => "verifier",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// What a request may do, by endpoint family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Sign,
    Verify,
    RecordDocuments,
    ReadUnits,
    ManageUnits,
    ReadReports,
    /// Read what the caller's own key allows (`GET /v1/whoami`): every role, so that the web
    /// pages can show only what the other endpoints would permit.
    ReadIdentity,
    /// Read the details of `/readyz` and `/metrics` (key names, units, token errors); without a
    /// key, both show only what a load balancer and a scraper need.
    ReadDiagnostics,
    /// See signers' personal identifiers (CMND/CCCD/passport numbers) whole in verification
    /// reports; everyone else sees them masked but for the last digits (Decree 13/2023/NĐ-CP on
    /// personal data: show no more than the purpose needs).
    ReadPersonalIdentifiers,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::Sign,
        Permission::Verify,
        Permission::RecordDocuments,
        Permission::ReadUnits,
        Permission::ManageUnits,
        Permission::ReadReports,
        Permission::ReadIdentity,
        Permission::ReadDiagnostics,
        Permission::ReadPersonalIdentifiers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Sign => "sign",
            Permission::Verify => "verify",
            Permission::RecordDocuments => "record_documents",
            Permission::ReadUnits => "read_units",
            Permission::ManageUnits => "manage_units",
            Permission::ReadReports => "read_reports",
            Permission::ReadIdentity => "read_identity",
            Permission::ReadDiagnostics => "read_diagnostics",
            Permission::ReadPersonalIdentifiers => "read_personal_identifiers",
        }
    }

    /// The roles that hold this permission.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::Sign => &[Role::Signer],
            Permission::Verify => &[Role::Signer, Role::Verifier, Role::Admin],
            Permission::RecordDocuments => &[Role::Signer, Role::Admin],
            Permission::ReadUnits => &[Role::Signer, Role::Verifier, Role::Admin],
            Permission::ManageUnits => &[Role::Admin],
            Permission::ReadReports => &[Role::Auditor, Role::Admin],
            Permission::ReadIdentity => &Role::ALL,
            Permission::ReadDiagnostics => &[Role::Admin],
            Permission::ReadPersonalIdentifiers => &[Role::Auditor, Role::Admin],
        }
    }
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key_id: String,
    pub role: Role,
    /// Unit codes, or `*` for all.
    pub units: Vec<String>,
}

impl Principal {
    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        format!("apikey:{}", self.key_id)
    }

    /// Whether the key may act for `unit`.
    pub fn covers(&self, unit: &str) -> bool {
        self.units.iter().any(|u| u == "*" || u == unit)
    }
}

/// A freshly made key: the record to store and the key to hand out once.
pub struct NewKey {
    pub record: ApiKey,
    /// The whole key as the client presents it. Shown once, stored nowhere.
    pub presented: String,
}

/// Makes a key for `role` and `units` with a label.
pub fn generate(role: Role, units: &[String], label: &str) -> Result<NewKey, ApiError> {
    use aws_lc_rs::rand::SecureRandom as _;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill(&mut id)
        .and_then(|()| rng.fill(&mut secret))
        .map_err(|_| ApiError::internal("generating an API key", &"no system randomness"))?;
    let key_id = hex::encode(id);
    let presented = format!(
        "{KEY_PREFIX}{key_id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    Ok(NewKey {
        record: ApiKey {
            key_id,
            secret_sha256: hex::encode(Sha256.digest(presented.as_bytes())),
            role: role.as_str().to_owned(),
            units: units.to_vec(),
            label: label.to_owned(),
            created_at: OffsetDateTime::now_utc(),
            revoked_at: None,
        },
        presented,
    })
}

/// The key id of a presented key, if it has the form `kyso_<16 hex>_<secret>`.
pub fn key_id_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some(id)
}

/// Whether `presented` is the key `stored` describes, compared in constant time.
pub fn matches(stored: &ApiKey, presented: &str) -> bool {
    let Ok(expected) = hex::decode(&stored.secret_sha256) else {
        return false;
    };
    let actual = Sha256.digest(presented.as_bytes());
    aws_lc_rs::constant_time::verify_slices_are_equal(&expected, &actual).is_ok()
}

/// Looked-up keys, so that each request does not cost a database round trip.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Option<ApiKey>, Instant)>>,
}

impl KeyCache {
    fn get(&self, key_id: &str) -> Option<Option<ApiKey>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key_id)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(key, _)| key.clone())
    }

    fn put(&self, key_id: &str, key: Option<ApiKey>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX {
            entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(key_id.to_owned(), (key, Instant::now()));
    }

    /// Forgets a key at once (after a revocation on this node).
    pub fn forget(&self, key_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key_id);
    }
}

/// The authenticated caller of a handler, allowed what `P` names: an axum extractor, so that a
/// handler cannot forget to authorise and the permission stands in its signature
/// (`caller: Caller<ToSign>`). Refusals are [`authorize`]'s: logged, counted, problem+json.
pub struct Caller<P: Requires> {
    pub principal: Principal,
    permission: std::marker::PhantomData<P>,
}

/// A permission as a type, for [`Caller`].
pub trait Requires: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident => $permission:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl Requires for $name {
            const PERMISSION: Permission = Permission::$permission;
        }
    )*};
}

permissions! {
    /// Sign with the unit's keys.
    ToSign => Sign;
    /// Verify documents.
    ToVerify => Verify;
    /// Record issued documents.
    ToRecordDocuments => RecordDocuments;
    /// List units.
    ToReadUnits => ReadUnits;
    /// Import and change units.
    ToManageUnits => ManageUnits;
    /// Read signing-rate reports.
    ToReadReports => ReadReports;
    /// Read what the caller's own key allows.
    ToReadIdentity => ReadIdentity;
}

impl<P: Requires> axum::extract::FromRequestParts<AppState> for Caller<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let principal = authorize(state, &parts.headers, P::PERMISSION).await?;
        Ok(Caller {
            principal,
            permission: std::marker::PhantomData,
        })
    }
}

/// Authenticates the request and checks `permission`; every refusal is logged and counted.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    permission: Permission,
) -> Result<Principal, ApiError> {
    let principal = authenticate(state, headers, permission).await?;
    if !permission.roles().contains(&principal.role) {
        return Err(deny(
            state,
            Some(&principal),
            permission,
            "role",
            format!(
                "role {} may not {}",
                principal.role.as_str(),
                permission.as_str().replace('_', " ")
            ),
        ));
    }
    Ok(principal)
}

/// Refuses `principal` acting for `unit` unless its key covers the unit.
pub fn require_unit(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    unit: &str,
) -> Result<(), ApiError> {
    if principal.covers(unit) {
        return Ok(());
    }
    Err(deny(
        state,
        Some(principal),
        permission,
        "unit",
        format!("this API key is not bound to unit `{unit}`"),
    ))
}

/// Refuses `principal` signing or recording `document_id` for `unit` when the ledger holds the
/// document for another unit ([`crate::ledger::ownership`]). Checked before signing so that no
/// signature is made only to be thrown away; the ledger checks again when it commits.
pub async fn require_document_unit(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    document_id: &str,
    unit: &str,
    claim: Claim,
) -> Result<(), ApiError> {
    let id = document_id.to_owned();
    let owner = state
        .stores
        .run(move |store| store.document_unit(&id))
        .await?;
    let mut owners = Owners::stored(owner.map(|owner| (document_id.to_owned(), owner)));
    match owners.admit(document_id, claim, unit, Reassignment::Refused) {
        Ok(()) => Ok(()),
        Err(e) => Err(refuse_foreign_document(state, principal, permission, &e).await),
    }
}

/// The refusal of a record or signature on another unit's document, from
/// [`require_document_unit`] or from the ledger itself: logged and counted as every denial,
/// and, because it names a document, appended to the audit log. The caller learns that the
/// document belongs to another unit, not to which.
pub async fn refuse_foreign_document(
    state: &AppState,
    principal: &Principal,
    permission: Permission,
    error: &ledger::Error,
) -> ApiError {
    let ledger::Error::DocumentOfAnotherUnit {
        document_id,
        owner,
        unit,
        claim,
    } = error
    else {
        return ApiError::internal("refusing a foreign document", error);
    };
    // The log gets the whole fact; the client a reason that does not name the owner.
    deny(
        state,
        Some(principal),
        permission,
        "document_unit",
        error.to_string(),
    );
    let record = audit::Record::new(
        principal.actor(),
        audit::Action::Refused,
        document_id.clone(),
        &serde_json::json!({
            "credential": principal.key_id,
            "permission": permission.as_str(),
            "claim": match claim {
                Claim::Issued => "issued",
                Claim::Signed => "signature",
            },
            "owner": owner,
            "unit": unit,
        }),
    );
    match state.recorder.record(Vec::new(), vec![record]).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(request_id = %request_id(), error = %e, "the refusal could not be added to the audit log")
        }
        Err(_) => {
            tracing::warn!(request_id = %request_id(), "the refusal was not added to the audit log: shutting down")
        }
    }
    ApiError::Forbidden {
        reason: format!(
            "document `{document_id}` is stored for another unit: {} for unit `{unit}` is refused",
            claim.describe()
        ),
    }
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    permission: Permission,
) -> Result<Principal, ApiError> {
    let unauthorized = |reason: &'static str| {
        state.metrics.denied(permission.as_str(), "authentication");
        tracing::warn!(
            request_id = %request_id(),
            permission = permission.as_str(),
            reason,
            "request denied"
        );
        ApiError::Unauthorized { reason }
    };
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(unauthorized("no Authorization header"));
    };
    // Two credentials are ambiguous: a proxy in front may check one while kyso used the other.
    if values.next().is_some() {
        state.metrics.denied(permission.as_str(), "authentication");
        tracing::warn!(
            request_id = %request_id(),
            permission = permission.as_str(),
            reason = "more than one Authorization header",
            "request denied"
        );
        return Err(ApiError::BadRequest {
            reason: "more than one Authorization header: send exactly one".to_owned(),
        });
    }
    let Some(presented) = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Err(unauthorized("expected `Authorization: Bearer kyso_…`"));
    };
    let Some(key_id) = key_id_of(presented) else {
        return Err(unauthorized("malformed API key"));
    };
    let stored = match state.key_cache.get(key_id) {
        Some(found) => found,
        None => {
            let id = key_id.to_owned();
            let found = state.stores.run(move |store| store.api_key(&id)).await?;
            state.key_cache.put(key_id, found.clone());
            found
        }
    };
    // The same message for unknown, wrong and revoked keys: a caller learns nothing about which
    // ids exist.
    let Some(stored) = stored.filter(|k| matches(k, presented)) else {
        return Err(unauthorized("unknown or revoked API key"));
    };
    if stored.revoked_at.is_some() {
        return Err(unauthorized("unknown or revoked API key"));
    }
    let Some(role) = Role::parse(&stored.role) else {
        return Err(ApiError::internal(
            "API key with an unknown role",
            &format!("key {} has role `{}`", stored.key_id, stored.role),
        ));
    };
    Ok(Principal {
        key_id: stored.key_id,
        role,
        units: stored.units,
    })
}

fn deny(
    state: &AppState,
    principal: Option<&Principal>,
    permission: Permission,
    kind: &'static str,
    reason: String,
) -> ApiError {
    state.metrics.denied(permission.as_str(), kind);
    tracing::warn!(
        request_id = %request_id(),
        key_id = principal.map(|p| p.key_id.as_str()).unwrap_or("-"),
        role = principal.map(|p| p.role.as_str()).unwrap_or("-"),
        permission = permission.as_str(),
        reason = %reason,
        "request denied"
    );
    ApiError::Forbidden { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_match_only_themselves() {
        let made = generate(Role::Signer, &["STP".into()], "DMS").unwrap();
        assert_eq!(
            key_id_of(&made.presented),
            Some(made.record.key_id.as_str())
        );
        assert!(matches(&made.record, &made.presented));
        let mut wrong = made.presented.clone();
        wrong.pop();
        wrong.push('A');
        assert!(!matches(&made.record, &wrong) || made.presented.ends_with('A'));
        assert!(!made.record.secret_sha256.contains(&made.presented[5..]));
    }

    #[test]
    fn malformed_keys_have_no_id() {
        assert_eq!(
            key_id_of("kyso_0123456789abcdef_x"),
            Some("0123456789abcdef")
        );
        for bad in [
            "",
            "kyso_",
            "kyso_0123_x",
            "abc_0123456789abcdef_x",
            "kyso_0123456789abcdef_",
        ] {
            assert_eq!(key_id_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn auditors_only_read_reports() {
        for p in [
            Permission::Sign,
            Permission::Verify,
            Permission::RecordDocuments,
            Permission::ReadUnits,
            Permission::ManageUnits,
        ] {
            assert!(!p.roles().contains(&Role::Auditor), "{p:?}");
        }
        assert!(Permission::ReadReports.roles().contains(&Role::Auditor));
        assert_eq!(Permission::Sign.roles(), &[Role::Signer]);
    }
}
