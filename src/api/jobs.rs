//! Signing jobs: `POST /v1/sign/pdf|xml` with a key confirmed on a phone (`uri = "phone:…"`)
//! answers `202 Accepted` with `Location: /v1/jobs/{id}`, and `GET /v1/jobs/{id}` gives the
//! signed document once the holder has confirmed (`docs/manual/signing-jobs.md`).
//!
//! Signing is deterministic given the document and the options, the signing time among them, so
//! a job holds no half-signed state: at the start the document is signed with a
//! [`CapturingSigner`], which stops at the message to sign; its digest goes to the provider. The
//! [`poll`] task asks the provider about each pending job; when the signature comes, the document
//! is signed again the same way with a [`PresignedSigner`] holding it (after the signature is
//! checked against the certificate), verified as `/v1/sign/*` does, and the job is completed in
//! one transaction with the ledger's `signed` event and the audit entry, only if it is still
//! pending: at most once, whichever node polls it and whenever one dies.
//!
//! What it refuses: B-LT and B-LTA (the signer's chain would be checked before the holder is
//! asked; sign at B-T and extend), a new job beyond `[serve.jobs]`'s bounds (503), and a job of
//! a unit the caller's key is not bound to (404, as for a job that does not exist, so that ids
//! say nothing to others).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{self, Caller, Permission, Principal, ToSign};
use super::problem::{ApiError, TYPE_PREFIX};
use super::sign::{self, Images, Kind, SignRequest};
use super::state::{self, SigningKeys, StoreConfig, store_error};
use super::{AppState, Route};
use crate::cms::SignerIdentity;
use crate::config::{CscConfig, JobsConfig, ServiceKey, SigningMode};
use crate::csc::asynchronous::AsyncCscKey;
use crate::ledger::jobs::{Admission, JobBounds, JobState, JobStore, NewJob};
use crate::ledger::postgres::PgStore;
use crate::ledger::sqlite::{Durability, SqliteStore};
use crate::ledger::{self, Method, SignatureLevel};
use crate::phone::{self, CapturingSigner, Credential, PhoneKey, Provider, Submitted};
use crate::signer::{SignError, Signer};
use crate::signing;

mod poller;

pub(super) use poller::poll;

pub(super) const ROUTES: &[Route] = &[Route {
    method: "GET",
    path: "/v1/jobs/{id}",
}];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/jobs/{id}", get(fetch))
}

/// The configured confirm-on-phone keys, and the job table.
pub struct Jobs {
    keys: HashMap<String, Arc<PhoneEntry>>,
    store_config: StoreConfig,
    store: Mutex<Option<Box<dyn JobStore>>>,
    bounds: JobBounds,
    retention: time::Duration,
}

/// A `[[serve.keys]]` entry whose signatures the holder confirms on a phone: a `phone:` key, or
/// a `csc:` key with `mode = "async"`.
pub struct PhoneEntry {
    pub name: String,
    pub unit: String,
    /// `smart` or `sim`, as the ledger records it.
    pub method: Method,
    /// How often pending transactions are asked about.
    pub poll: Duration,
    /// How long the holder has to confirm; then the job expires.
    pub deadline: Duration,
    pub key: Box<dyn Provider>,
}

impl Jobs {
    /// The keys of `keys` confirmed on a phone — `phone:` keys, and `csc:` keys in the
    /// asynchronous mode, reached as `csc` says (names and units were checked with the token
    /// keys') — the bounds, and the ledger the jobs are kept in.
    pub(super) fn new(
        keys: &[ServiceKey],
        config: &JobsConfig,
        store: StoreConfig,
        token_keys: &SigningKeys,
        csc: &CscConfig,
    ) -> Result<Jobs, state::Error> {
        let mut entries = HashMap::new();
        for key in keys {
            let fail = |reason: String| state::Error::Key {
                name: key.name.clone(),
                reason,
            };
            let Some(Confirmed {
                provider,
                poll_seconds,
                deadline_seconds,
            }) = provider(key, csc, &fail)?
            else {
                continue;
            };
            let method = Method::ALL
                .into_iter()
                .find(|m| m.as_str() == key.method)
                .filter(|m| matches!(m, Method::Smart | Method::Sim))
                .ok_or_else(|| {
                    fail(format!(
                        "method `{}`: a key confirmed on a phone is `smart` or `sim`",
                        key.method
                    ))
                })?;
            if poll_seconds == 0 || deadline_seconds == 0 {
                return Err(fail(
                    "poll_seconds and deadline_seconds must be more than 0".into(),
                ));
            }
            let entry = PhoneEntry {
                name: key.name.clone(),
                unit: key.unit.clone(),
                method,
                poll: Duration::from_secs(poll_seconds),
                deadline: Duration::from_secs(deadline_seconds),
                key: provider,
            };
            if token_keys.entry(&key.name).is_some()
                || entries.insert(key.name.clone(), Arc::new(entry)).is_some()
            {
                return Err(fail("two keys have this name".into()));
            }
        }
        for (setting, value) in [
            ("jobs.max_pending", config.max_pending),
            ("jobs.max_bytes", config.max_bytes),
            ("jobs.retention_seconds", config.retention_seconds),
        ] {
            if value == 0 {
                return Err(state::Error::Setting {
                    setting,
                    reason: "must be more than 0".into(),
                });
            }
        }
        Ok(Jobs {
            keys: entries,
            store_config: store,
            store: Mutex::new(None),
            bounds: JobBounds {
                max_pending: config.max_pending,
                max_bytes: config.max_bytes,
            },
            retention: time::Duration::seconds(
                i64::try_from(config.retention_seconds).unwrap_or(i64::MAX),
            ),
        })
    }

    /// The confirm-on-phone key called `name`, if configured.
    pub fn key(&self, name: &str) -> Option<&Arc<PhoneEntry>> {
        self.keys.get(name)
    }

    /// Runs `f` on the job store's connection, opening it if needed. Blocks. A connection whose
    /// call failed in the database is closed, and the next call opens another.
    fn with_store<T>(
        &self,
        f: impl FnOnce(&mut dyn JobStore) -> Result<T, ledger::Error>,
    ) -> Result<T, ledger::Error> {
        let mut slot = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let store = match slot.as_mut() {
            Some(store) => store,
            None => slot.insert(open_job_store(&self.store_config)?),
        };
        let result = f(store.as_mut());
        if matches!(
            result,
            Err(ledger::Error::Postgres { .. } | ledger::Error::Sqlite { .. })
        ) {
            *slot = None;
        }
        result
    }
}

/// A key confirmed on a phone, as its entry configures it.
struct Confirmed {
    provider: Box<dyn Provider>,
    poll_seconds: u64,
    deadline_seconds: u64,
}

/// The provider of a key confirmed on a phone, with its poll interval and deadline; `None` for
/// a key signed with at once (a token key, a `csc:` key in the synchronous mode).
fn provider(
    key: &ServiceKey,
    csc: &CscConfig,
    fail: &dyn Fn(String) -> state::Error,
) -> Result<Option<Confirmed>, state::Error> {
    let asynchronous = key.mode == SigningMode::Async;
    if key.uri.starts_with(phone::SCHEME) {
        if asynchronous || key.poll_seconds.is_some() || key.deadline_seconds.is_some() {
            return Err(fail(
                "a phone: key is always confirmed on the phone: its poll_seconds and deadline_seconds go in [serve.keys.phone], and it takes no mode".into(),
            ));
        }
        let settings = key.phone.as_ref().ok_or_else(|| {
            fail("a phone: key needs [serve.keys.phone] with its credential".into())
        })?;
        let token = settings
            .token_source
            .as_deref()
            .map(crate::secret::SecretSource::parse)
            .transpose()
            .map_err(|e| fail(e.to_string()))?;
        let phone_key = PhoneKey::new(&key.uri, settings.credential.clone(), token)
            .map_err(|e| fail(e.to_string()))?;
        return Ok(Some(Confirmed {
            provider: Box::new(phone_key),
            poll_seconds: settings.poll_seconds,
            deadline_seconds: settings.deadline_seconds,
        }));
    }
    if !asynchronous {
        if key.poll_seconds.is_some() || key.deadline_seconds.is_some() {
            return Err(fail(
                "poll_seconds and deadline_seconds are for keys confirmed on a phone (mode = \"async\")".into(),
            ));
        }
        return Ok(None);
    }
    if !crate::csc::CredentialRef::is_csc(&key.uri) {
        return Err(fail(
            "mode = \"async\" is for csc: keys (a remote credential in the CSC asynchronous mode)"
                .into(),
        ));
    }
    if key.phone.is_some() {
        return Err(fail(
            "[serve.keys.phone] is for phone: keys; a csc: key takes poll_seconds and deadline_seconds itself".into(),
        ));
    }
    let reference = crate::csc::CredentialRef::parse(&key.uri).map_err(|e| fail(e.to_string()))?;
    let access = csc
        .access(key.token_source.as_deref(), key.pin_source.as_deref())
        .map_err(|e| fail(e.to_string()))?;
    let poll_seconds = key
        .poll_seconds
        .unwrap_or_else(crate::config::default_poll_seconds);
    let deadline_seconds = key
        .deadline_seconds
        .unwrap_or_else(crate::config::default_deadline_seconds);
    let provider = AsyncCscKey::new(reference, access, Duration::from_secs(deadline_seconds));
    Ok(Some(Confirmed {
        provider: Box::new(provider),
        poll_seconds,
        deadline_seconds,
    }))
}

fn open_job_store(config: &StoreConfig) -> Result<Box<dyn JobStore>, ledger::Error> {
    Ok(match config {
        StoreConfig::Sqlite(path) => Box::new(SqliteStore::open(path, Durability::Full)?),
        StoreConfig::Postgres { url, schema } => {
            Box::new(PgStore::connect(url, schema.as_deref())?)
        }
    })
}

/// Runs `f` on the job store on the blocking pool.
async fn stored<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn JobStore) -> Result<T, ledger::Error> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || state.jobs.with_store(f))
        .await
        .map_err(|e| ApiError::internal("a job store task failed", &e))?
        .map_err(store_error)
}

/// What signs a job's document again exactly: the request as the caller made it, the level, the
/// signing time fixed at the start, and the stamp's images.
#[derive(Serialize, Deserialize)]
struct Recipe {
    kind: RecipeKind,
    level: String,
    request: SignRequest,
    /// Unix seconds: PDF `/M` and XAdES `SigningTime` carry whole seconds.
    signing_time: i64,
    signature_image: Option<String>,
    seal_image: Option<String>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RecipeKind {
    Pdf,
    Xml,
}

impl Recipe {
    fn kind(&self) -> Kind {
        match self.kind {
            RecipeKind::Pdf => Kind::Pdf,
            RecipeKind::Xml => Kind::Xml,
        }
    }

    fn images(&self) -> Result<Images, ApiError> {
        let decode = |image: &Option<String>| {
            image
                .as_deref()
                .map(|b| BASE64.decode(b))
                .transpose()
                .map_err(|e| ApiError::internal("reading a job's stamp image", &e))
        };
        Ok(Images {
            signature: decode(&self.signature_image)?,
            seal: decode(&self.seal_image)?,
        })
    }

    fn at(&self) -> OffsetDateTime {
        ledger::from_unix(self.signing_time)
    }
}

/// `POST /v1/sign/*` with a confirm-on-phone key: checks and reads the request as a direct
/// signature does, captures the message to sign, asks the provider, stores the job.
pub(super) async fn start(
    state: AppState,
    principal: Principal,
    kind: Kind,
    from_query: SignRequest,
    request: Request,
) -> Result<Response, ApiError> {
    let key_name = from_query.key.clone().ok_or(ApiError::Internal)?;
    let entry = Arc::clone(state.jobs.key(&key_name).ok_or(ApiError::Internal)?);
    auth::require_unit(&state, &principal, Permission::Sign, &entry.unit)?;
    sign::check_media(kind, &request)?;
    from_query.check_text()?;
    check_job_level(&state, from_query.level.as_deref(), kind)?;
    // The provider is asked on the signing workers: a slow provider holds a worker for one
    // request's time at most, never for the holder's.
    let admitted = state.sign_queue.admit(&state.metrics)?;
    let (document, options, images) = sign::read_document(&state, request).await?;
    let options = from_query.overridden_by(options);
    options.check_text()?;
    sign::check_same_key(&options, &key_name)?;
    if let Some(id) = &options.document_id {
        sign::may_sign_document(&state, &principal, id, &entry.unit).await?;
    }
    let level = check_job_level(&state, options.level.as_deref(), kind)?;
    let (size, bounds) = (document.len() as u64, state.jobs.bounds);
    if !stored(&state, move |store| store.has_room(size, bounds)).await? {
        return Err(jobs_full());
    }
    let now = OffsetDateTime::now_utc();
    let at = ledger::from_unix(ledger::unix(now));
    let recipe = Recipe {
        kind: match kind {
            Kind::Pdf => RecipeKind::Pdf,
            Kind::Xml => RecipeKind::Xml,
        },
        level: level.name().to_owned(),
        request: options,
        signing_time: ledger::unix(at),
        signature_image: images.signature.as_deref().map(|b| BASE64.encode(b)),
        seal_image: images.seal.as_deref().map(|b| BASE64.encode(b)),
    };
    let worker_state = state.clone();
    let worker_entry = Arc::clone(&entry);
    let (begun, recipe, document) = admitted
        .run(move || {
            let begun = begin(&worker_state, &worker_entry, &recipe, &document);
            (begun, recipe, document)
        })
        .await?;
    drop(admitted);
    let (message, digest, transaction_id) = match begun? {
        Begun::Refused => {
            tracing::info!(key = %entry.name, unit = %entry.unit, "the provider refused a signing request at once");
            return Ok(ended(JobState::Refused, None));
        }
        Begun::Pending {
            message,
            digest,
            transaction_id,
        } => (message, digest, transaction_id),
    };
    let deadline = now
        + time::Duration::seconds(i64::try_from(entry.deadline.as_secs()).unwrap_or(i64::MAX / 2));
    let job = NewJob {
        id: new_job_id(),
        credential: principal.key_id.clone(),
        unit: entry.unit.clone(),
        key_name: entry.name.clone(),
        document,
        options: serde_json::to_string(&recipe)
            .map_err(|e| ApiError::internal("writing a job's recipe", &e))?,
        message,
        digest,
        transaction_id,
        created_at: at,
        deadline,
    };
    let id = job.id.clone();
    let bounds = state.jobs.bounds;
    match stored(&state, move |store| store.create_job(&job, bounds)).await? {
        Admission::Stored => {}
        // Another request took the last place since `has_room`: the holder was asked already,
        // and the request that never becomes a job expires at the provider unanswered.
        Admission::Full => return Err(jobs_full()),
    }
    tracing::info!(job = %id, key = %entry.name, unit = %entry.unit, "signing job started; waiting for the holder");
    Ok(pending_response(&id, deadline, entry.poll))
}

enum Begun {
    Pending {
        message: Vec<u8>,
        digest: Vec<u8>,
        transaction_id: String,
    },
    Refused,
}

/// On the blocking pool: the credential's certificate (asked once), the algorithm policy, the
/// message the signature covers, and the provider's transaction.
fn begin(
    state: &AppState,
    entry: &PhoneEntry,
    recipe: &Recipe,
    document: &[u8],
) -> Result<Begun, ApiError> {
    let credential = entry
        .key
        .credential()
        .map_err(|e| provider_error(entry, &e))?;
    state
        .verifier
        .algorithms()
        .for_new_key(&credential.key_kind)
        .map_err(|weakness| ApiError::SignerNotValid {
            reason: signing::Error::KeyBelowPolicy { weakness }.to_string(),
        })?;
    let capturing = CapturingSigner::new(&credential);
    match make(state, &credential, &capturing, recipe, document) {
        Err(Failure::Deferred) => {}
        Err(Failure::Api(e)) => return Err(e),
        Ok(_) | Err(Failure::NotConfirmed) => {
            return Err(ApiError::internal(
                "capturing a job's message",
                &"signing did not stop at the signer",
            ));
        }
    }
    let message = capturing.captured().ok_or(ApiError::Internal)?;
    let digest = credential.algorithm.digest().digest(&message);
    let description = recipe
        .request
        .document_id
        .clone()
        .unwrap_or_else(|| "kyso".to_owned());
    match entry
        .key
        .submit(&digest, credential.algorithm.digest(), &description)
        .map_err(|e| provider_error(entry, &e))?
    {
        Submitted::Refused => Ok(Begun::Refused),
        Submitted::Pending { transaction_id } => Ok(Begun::Pending {
            message,
            digest,
            transaction_id,
        }),
    }
}

fn provider_error(entry: &PhoneEntry, error: &phone::Error) -> ApiError {
    tracing::warn!(key = %entry.name, error = %error, "the signing provider failed");
    ApiError::Upstream {
        service: "signing provider",
        reason: error.to_string(),
    }
}

/// The level a job is made at: B-B or B-T. B-LT and B-LTA check the signer's chain and gather
/// its evidence at the signing time, which for a job is minutes before the signature exists;
/// a B-T job's document is extended afterwards (`POST /v1/extend`).
fn check_job_level(
    state: &AppState,
    level: Option<&str>,
    kind: Kind,
) -> Result<signing::Level, ApiError> {
    let level = sign::parse_level(level)?;
    if level.is_long_term() {
        return Err(ApiError::LevelUnavailable {
            reason: format!(
                "level {} is not made with a key confirmed on a phone: sign at B-T, then extend the document (POST /v1/extend)",
                level.name()
            ),
        });
    }
    sign::check_level(state, level, kind)?;
    Ok(level)
}

/// How making a signature ended short.
enum Failure {
    /// The capturing signer stopped it at the message.
    Deferred,
    /// The presigned signer was asked for another message than the confirmed one.
    NotConfirmed,
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

/// A document signed by a job.
struct Made {
    document: Vec<u8>,
    level: SignatureLevel,
}

/// Signs `document` as `recipe` says with `signer`: the same path at the start (capturing) and
/// at the completion (presigned), so that both see the same message.
fn make(
    state: &AppState,
    credential: &Credential,
    signer: &dyn Signer,
    recipe: &Recipe,
    document: &[u8],
) -> Result<Made, Failure> {
    let level = signing::Level::parse(&recipe.level).map_err(|e| ApiError::BadRequest {
        reason: e.to_string(),
    })?;
    let tsa =
        match level {
            signing::Level::BaselineB => None,
            _ => Some(state.tsa.clone().ok_or_else(|| {
                ApiError::LevelUnavailable {
                    reason:
                        "the job's level needs a time-stamping authority, and none is configured"
                            .to_owned(),
                }
            })?),
        };
    let at = recipe.at();
    let signer_failure = |e: SignError| match e {
        SignError::Deferred => Failure::Deferred,
        SignError::NotTheConfirmedMessage => Failure::NotConfirmed,
        e => Failure::Api(ApiError::internal("a job's signer", &e)),
    };
    match recipe.kind() {
        Kind::Pdf => {
            let pades_level = match tsa {
                None => crate::pades::Level::BB,
                Some(tsa) => crate::pades::Level::BT { tsa },
            };
            let identity = SignerIdentity {
                signer,
                certificate: &credential.certificate,
                chain: &credential.chain,
            };
            let images = recipe.images()?;
            let mut options = sign::pdf_options(
                state,
                &credential.certificate,
                &recipe.request,
                &images,
                document,
                at,
            )?;
            options.signing_time = at;
            options.contents_size = crate::pades::contents_size(&identity, &pades_level);
            use crate::pades::Error as E;
            match crate::pades::sign(document, &identity, &options, &pades_level) {
                Ok(signed) => Ok(Made {
                    document: signed.to_vec(),
                    level: match level {
                        signing::Level::BaselineB => SignatureLevel::PadesBB,
                        _ => SignatureLevel::PadesBT,
                    },
                }),
                Err(E::Cms(crate::cms::Error::Signer(e))) => Err(signer_failure(e)),
                Err(e @ E::Pdf(_)) => Err(Failure::Api(ApiError::UnsignableDocument {
                    reason: e.to_string(),
                })),
                Err(
                    e @ (E::Timestamp(_) | E::TimestampRejected { .. } | E::TimestampNotValid(_)),
                ) => Err(Failure::Api(ApiError::Upstream {
                    service: "time-stamping authority",
                    reason: e.to_string(),
                })),
                Err(e) => Err(Failure::Api(ApiError::internal("signing a job's PDF", &e))),
            }
        }
        Kind::Xml => {
            let chosen = sign::xml_options(&recipe.request)?;
            let mut xml = crate::xml::SignOptions::new(at.into());
            xml.packaging = chosen.packaging;
            xml.other_signatures = chosen.other_signatures;
            xml.level = match tsa {
                None => crate::xml::Level::XadesB,
                Some(tsa) => crate::xml::Level::XadesT { tsa },
            };
            let mut certificates = vec![credential.certificate.clone()];
            certificates.extend(credential.chain.iter().cloned());
            use crate::xml::Error as X;
            match crate::xml::sign_document(document, signer, &certificates, &xml) {
                Ok(signed) => Ok(Made {
                    document: signed.into_bytes(),
                    level: match level {
                        signing::Level::BaselineB => SignatureLevel::XadesBB,
                        _ => SignatureLevel::XadesBT,
                    },
                }),
                Err(X::Signer(e)) => Err(signer_failure(e)),
                Err(e @ X::Timestamp(_)) => Err(Failure::Api(ApiError::Upstream {
                    service: "time-stamping authority",
                    reason: e.to_string(),
                })),
                Err(
                    e @ (X::Build(_)
                    | X::SelfCheck(_)
                    | X::Certificate(_)
                    | X::CertificateKeyMismatch
                    | X::NoCertificate),
                ) => Err(Failure::Api(ApiError::internal("signing a job's XML", &e))),
                Err(e) => Err(Failure::Api(ApiError::UnsignableDocument {
                    reason: e.to_string(),
                })),
            }
        }
    }
}

/// `GET /v1/jobs/{id}`.
async fn fetch(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToSign>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "signing job".to_owned(),
    };
    if !is_job_id(&id) {
        return Err(not_found());
    }
    let lookup = id.clone();
    let Some(job) = stored(&state, move |store| store.job(&lookup)).await? else {
        return Err(not_found());
    };
    // Another unit's job is answered as one that does not exist: ids say nothing to others.
    if !principal.covers(&job.new.unit) {
        return Err(not_found());
    }
    if job.state == JobState::Pending {
        let poll = state
            .jobs
            .key(&job.new.key_name)
            .map_or(Duration::from_secs(5), |e| e.poll);
        return Ok(pending_response(&id, job.new.deadline, poll));
    }
    // Handed out once: the result (or the ending) is deleted as it is answered.
    let delete = id.clone();
    if !stored(&state, move |store| store.delete_finished(&delete)).await? {
        return Err(not_found());
    }
    match (job.state, job.result) {
        (JobState::Done, Some(document)) => {
            let kind = serde_json::from_str::<Recipe>(&job.new.options)
                .map(|r| r.kind())
                .unwrap_or(Kind::Pdf);
            let mut response = (
                [(header::CONTENT_TYPE, kind.media_type())],
                Body::from(document),
            )
                .into_response();
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert("x-kyso-job-id", value);
            }
            Ok(response)
        }
        (state, _) => Ok(ended(state, job.reason.as_deref())),
    }
}

/// The job table is at its bounds: 503, to retry once jobs have been fetched or expired.
fn jobs_full() -> ApiError {
    ApiError::Overloaded {
        queue: "jobs",
        retry_after: 30,
    }
}

/// 202 with where to ask again, when, and until when the holder may confirm.
fn pending_response(id: &str, deadline: OffsetDateTime, poll: Duration) -> Response {
    let location = format!("/v1/jobs/{id}");
    let body = serde_json::json!({
        "id": id,
        "state": "pending",
        "location": location,
        "deadline": deadline
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "message": {
            "vi": "Đang chờ người ký xác nhận trên điện thoại.",
            "en": "Waiting for the holder to confirm on the phone.",
        },
    });
    let mut response = (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from(poll.as_secs().max(1)),
    );
    response
}

/// The problem document of a job that ended without a document: refused (403), expired (410)
/// or failed (502), in Vietnamese and English.
fn ended(job_state: JobState, reason: Option<&str>) -> Response {
    let (status, slug, title, vi, en) = match job_state {
        JobState::Refused => (
            StatusCode::FORBIDDEN,
            "signing-refused",
            "Signing refused",
            "Người ký đã từ chối ký trên điện thoại (hoặc nhà cung cấp từ chối yêu cầu).",
            "The holder refused to sign on the phone (or the provider refused the request).",
        ),
        JobState::Expired => (
            StatusCode::GONE,
            "signing-expired",
            "Signing expired",
            "Người ký không xác nhận trước hạn; không có tài liệu nào được ký.",
            "The holder did not confirm before the deadline; nothing was signed.",
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            "signing-failed",
            "Signing failed",
            "Chữ ký nhà cung cấp trả về không hợp lệ; không có tài liệu nào được trả về.",
            "The provider's signature was not valid; no document is returned.",
        ),
    };
    let body = serde_json::json!({
        "type": format!("{TYPE_PREFIX}{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": match reason {
            Some(reason) => format!("{en} ({reason})"),
            None => en.to_owned(),
        },
        "detail_vi": vi,
        "state": job_state.as_str(),
        "instance": format!("urn:kyso:request:{}", super::request_id()),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// 128 random bits, hex: what names a job, unguessable.
fn new_job_id() -> String {
    let mut bytes = [0u8; 16];
    // The system generator failing is not recoverable here; an id of zeros would collide at the
    // insert (its primary key) rather than be shared.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    hex::encode(bytes)
}

fn is_job_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which entries are signed through jobs, and the settings that make no sense elsewhere.
    #[test]
    fn async_csc_keys_are_jobs_and_their_settings_stay_with_them() {
        let parse = |entry: &str| {
            let text = format!("[[serve.keys]]\nname = 'k'\nunit = 'STP'\n{entry}");
            let config = crate::config::Config::parse(&text, "test", |_| None).unwrap();
            config.serve.keys[0].clone()
        };
        let csc = CscConfig::default();
        let fail = |reason: String| state::Error::Key {
            name: "k".into(),
            reason,
        };
        let run = |entry: &str| provider(&parse(entry), &csc, &fail);

        let Confirmed {
            provider: key,
            poll_seconds: poll,
            deadline_seconds: deadline,
        } = run(
            "uri = 'csc:https://sign.example.vn/csc/v2#c1'\nmode = 'async'\npoll_seconds = 2\n",
        )
        .unwrap()
        .expect("an async csc: key is a job key");
        assert_eq!((poll, deadline), (2, 300));
        assert_eq!(key.reference(), "csc:https://sign.example.vn/csc/v2#c1");
        // Synchronous csc: keys and token keys sign at once.
        assert!(
            run("uri = 'csc:https://sign.example.vn/csc/v2#c1'\n")
                .unwrap()
                .is_none()
        );
        assert!(run("uri = 'pkcs11:token=t;object=k'\n").unwrap().is_none());
        for refused in [
            "uri = 'pkcs11:token=t;object=k'\nmode = 'async'\n",
            "uri = 'csc:https://sign.example.vn/csc/v2#c1'\ndeadline_seconds = 60\n",
            "uri = 'phone:https://p.example.vn'\nmode = 'async'\n[serve.keys.phone]\ncredential = 'c'\n",
            "uri = 'csc:https://sign.example.vn/csc/v2#c1'\nmode = 'async'\n[serve.keys.phone]\ncredential = 'c'\n",
        ] {
            assert!(run(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn job_ids_are_128_random_bits_in_hex() {
        let (a, b) = (new_job_id(), new_job_id());
        assert!(is_job_id(&a) && is_job_id(&b));
        assert_ne!(a, b);
        assert!(!is_job_id("../../etc/passwd"));
        assert!(!is_job_id(&a.to_uppercase()));
    }
}
