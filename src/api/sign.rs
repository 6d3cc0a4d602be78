//! `POST /v1/sign/pdf` and `POST /v1/sign/xml`: a document in, the signed document out.
//!
//! The document is the request body (`application/pdf`; `application/xml` or `text/xml`; or
//! `application/octet-stream`; any other type is 415) or the one `document` part of
//! `multipart/form-data` (a part given twice is 400); options come as query parameters or
//! as a JSON `options` part (its fields override the query's). The key is named by `key`, one of
//! the `[[serve.keys]]` of the configuration, and must belong to a unit the caller's API key is
//! bound to, and a `document_id` the ledger holds for another unit is refused (403) before
//! anything is signed.
//!
//! Text carried into the signature (`field`, `reason`, `name`, `location`, `unit_label`) may
//! hold no control characters and no bidi embeddings, overrides or isolates (400 naming the
//! parameter, before anything is signed).
//!
//! Order of work: authenticate and authorise, take a place in the bounded signing queue (a full
//! queue answers 503 at once, before the body is read), read the body, sign on the blocking
//! pool (PAdES or XAdES at the level asked for, [`super::levels`], through [`crate::pades`]
//! and [`crate::xml::sign`]), verify the output as the ledger's `indication`, then commit the
//! ledger's `signed` event together with the audit entry (group commit). Only then is the
//! document returned: a 2xx signature is in the ledger exactly once.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::{self, Caller, Permission, Principal, ToSign};
use super::problem::ApiError;
use super::state::{KeyEntry, store_error};
use super::{AppState, Route, content_type, read_body};
use crate::audit::{self, Action};
use crate::ledger::ownership::Claim;
use crate::ledger::{self, Event, Indication, Signed};
use crate::pdf::decree30::{self, CopyForm, Stamp};
use crate::pdf::{Appearance, PngImage, Rect, SignatureOptions, Style, VisibleSignature};
use crate::signer::DigestAlgorithm::Sha256;
use crate::signing::{self, KeyMaterial};

pub(super) const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/v1/sign/pdf",
    },
    Route {
        method: "POST",
        path: "/v1/sign/xml",
    },
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sign/pdf", post(sign_pdf))
        .route("/v1/sign/xml", post(sign_xml))
}

/// Options of a signing request, from the query or the `options` part.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The configured key's name.
    pub key: Option<String>,
    /// The DMS's id of the document (the ledger's identity); default: `sha256:` of the signed
    /// output.
    pub document_id: Option<String>,
    /// PDF `/Reason`.
    pub reason: Option<String>,
    /// PDF `/Location`.
    pub location: Option<String>,
    /// The signer's name shown (`/Name` and on the stamp); default: the certificate's CN.
    pub name: Option<String>,
    /// The unit shown on a visible stamp; default: the certificate's OU, else O.
    pub unit_label: Option<String>,
    /// The PDF signature field's name.
    pub field: Option<String>,
    /// Page of an invisible signature's widget, from 1.
    pub page: Option<usize>,
    /// `PAGE,X,Y,W,H`: a visible stamp on PAGE (from 1) at X,Y (points from the bottom left).
    pub visible: Option<String>,
    /// A Decree 30/2020/NĐ-CP layout, as `kyso sign pdf --stamp`: `person` (the
    /// `signature_image` centred in the `visible` space between title and name), `agency` (the
    /// `seal_image`, real size, over the left third of the document's latest visible signature),
    /// `attachment` (with `number`) or `copy` (with `copy_form`; the copying agency is
    /// `unit_label`, else the certificate's OU or O).
    pub stamp: Option<String>,
    /// The seal's real width in millimetres when its PNG does not say it (`agency`).
    pub seal_width: Option<f64>,
    /// The main document's number and symbol (`attachment`).
    pub number: Option<String>,
    /// `sao-y` (default), `sao-luc` or `trich-sao` (`copy`).
    pub copy_form: Option<String>,
    /// XML: `enveloped` (default) or `enveloping`.
    pub packaging: Option<String>,
    /// XML: leave other signatures out of the signed content, so that more can be added.
    pub parallel: Option<bool>,
    /// `B-B` (default), `B-T` (a signature time-stamp from the `[tsa]` authority) or, for PDF,
    /// `B-LT` (the chain's certificates, CRLs and OCSP responses in the document's DSS).
    pub level: Option<String>,
}

impl SignRequest {
    /// `self` with every field `other` sets replaced.
    pub(super) fn overridden_by(self, other: SignRequest) -> SignRequest {
        SignRequest {
            key: other.key.or(self.key),
            document_id: other.document_id.or(self.document_id),
            reason: other.reason.or(self.reason),
            location: other.location.or(self.location),
            name: other.name.or(self.name),
            unit_label: other.unit_label.or(self.unit_label),
            field: other.field.or(self.field),
            page: other.page.or(self.page),
            visible: other.visible.or(self.visible),
            stamp: other.stamp.or(self.stamp),
            seal_width: other.seal_width.or(self.seal_width),
            number: other.number.or(self.number),
            copy_form: other.copy_form.or(self.copy_form),
            packaging: other.packaging.or(self.packaging),
            parallel: other.parallel.or(self.parallel),
            level: other.level.or(self.level),
        }
    }
}

impl SignRequest {
    /// Refuses control characters and bidi formatting in the text a signature carries. Such text
    /// is written into the signed document (`/T`, `/Reason`, `/Location`, `/Name`, the stamp),
    /// where a reader shows it as the signer's words: U+202E turns `exe.fdp` into `pdf.exe`, a
    /// newline or NUL splits or cuts it in viewers, logs and other software that read it back.
    /// Nothing of it is needed in a name, a reason, a place or a field name.
    pub(super) fn check_text(&self) -> Result<(), ApiError> {
        let fields = [
            ("field", &self.field),
            ("reason", &self.reason),
            ("name", &self.name),
            ("location", &self.location),
            ("unit_label", &self.unit_label),
            ("number", &self.number),
        ];
        for (parameter, value) in fields {
            let found = value
                .as_deref()
                .and_then(|v| v.chars().find(|c| refused_in_text(*c)));
            if let Some(c) = found {
                let what = if c.is_control() {
                    "a control character"
                } else {
                    "a bidi formatting character"
                };
                return Err(ApiError::BadRequest {
                    reason: format!(
                        "{parameter}: contains U+{:04X}, {what}; control characters (C0, DEL, C1) and bidi embeddings, overrides and isolates are not allowed",
                        u32::from(c)
                    ),
                });
            }
        }
        Ok(())
    }
}

/// C0 (tab and newline included), DEL and C1, which `char::is_control` covers (category Cc);
/// and the bidi embeddings and overrides U+202A–U+202E and isolates U+2066–U+2069 (Unicode
/// UAX #9), which reorder what follows them.
fn refused_in_text(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Pdf,
    Xml,
}

impl Kind {
    pub(super) fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Xml => "application/xml",
        }
    }

    /// The request content types the endpoint takes (as the OpenAPI document lists them): its
    /// document's own, raw bytes, or multipart. Anything else is refused before the body is
    /// read: `text/plain` or a form is a client sending the wrong thing, and signing it would
    /// put a unit's signature on whatever it turned out to be.
    pub(super) fn accepts(self, content_type: &str) -> bool {
        let own: &[&str] = match self {
            Kind::Pdf => &["application/pdf"],
            Kind::Xml => &["application/xml", "text/xml"],
        };
        own.contains(&content_type)
            || matches!(
                content_type,
                "application/octet-stream" | "multipart/form-data"
            )
    }

    pub(super) fn accepted(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf, application/octet-stream or multipart/form-data",
            Kind::Xml => {
                "application/xml, text/xml, application/octet-stream or multipart/form-data"
            }
        }
    }
}

/// What a signature produced, before the ledger has it.
struct Made {
    signed: Vec<u8>,
    event: Signed,
    field: Option<String>,
}

async fn sign_pdf(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToSign>,
    query: Result<Query<SignRequest>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    sign(state, principal, Kind::Pdf, query, request).await
}

async fn sign_xml(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToSign>,
    query: Result<Query<SignRequest>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    sign(state, principal, Kind::Xml, query, request).await
}

async fn sign(
    state: AppState,
    principal: auth::Principal,
    kind: Kind,
    query: Result<Query<SignRequest>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    if state.is_shutting_down() {
        return Err(ApiError::ShuttingDown);
    }
    let Query(from_query) = query.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    // The key may only be chosen in the query when the options come as a part: authorisation
    // is checked before the body is read, so the key must be known by then.
    let key_name = from_query.key.clone().ok_or_else(|| ApiError::BadRequest {
        reason: "name the signing key: ?key=NAME (one of the service's configured keys)".to_owned(),
    })?;
    // A key confirmed on a phone signs through a job: 202 now, the document later.
    if state.jobs.key(&key_name).is_some() {
        return super::jobs::start(state, principal, kind, from_query, request).await;
    }
    let entry = state
        .keys
        .entry(&key_name)
        .ok_or_else(|| ApiError::NotFound {
            what: format!("signing key `{key_name}`"),
        })?;
    auth::require_unit(&state, &principal, Permission::Sign, &entry.unit)?;
    check_media(kind, &request)?;
    from_query.check_text()?;
    // A level named in the query is checked before the request takes a place in the queue; one
    // in the options part, once the body is read.
    check_level(&state, parse_level(from_query.level.as_deref())?, kind)?;
    let admitted = state.sign_queue.admit(&state.metrics)?;

    let (document, options, images) = read_document(&state, request).await?;
    let options = from_query.overridden_by(options);
    options.check_text()?;
    check_same_key(&options, &key_name)?;
    if let Some(id) = &options.document_id {
        may_sign_document(&state, &principal, id, &entry.unit).await?;
    }
    // Checked before the queue's worker is taken up and the token opened: a level the service
    // cannot make is the caller's to hear about at once.
    let requested = parse_level(options.level.as_deref())?;
    check_level(&state, requested, kind)?;
    let unit = entry.unit.clone();
    let key_label = entry.name.clone();
    let worker_state = state.clone();
    let started = Instant::now();
    let made = admitted
        .run(move || {
            let entry = worker_state
                .keys
                .entry(&key_name)
                .ok_or(ApiError::Internal)?;
            make_signature(
                &worker_state,
                entry,
                Job {
                    kind,
                    level: requested,
                    document: &document,
                    options: &options,
                    images,
                },
            )
        })
        .await?;
    let made = match made {
        Ok(made) => made,
        Err(e) => {
            state.metrics.signature(&unit, &key_label, "error");
            return Err(e);
        }
    };
    state.metrics.sign_duration(started.elapsed());
    drop(admitted);

    let record = audit::Record::new(
        principal.actor(),
        Action::Signature,
        made.event.document_id.clone(),
        &serde_json::json!({
            "credential": principal.key_id,
            "key": key_label,
            "key_uri": made.event.key,
            "unit": made.event.unit,
            "certificate_sha256": made.event.certificate.sha256,
            "method": made.event.method.as_str(),
            "level": made.event.level.as_str(),
            "document_sha256": hex::encode(Sha256.digest(&made.signed)),
            "indication": made.event.indication.as_str(),
        }),
    );
    let outcome = state
        .recorder
        .record(vec![Event::Signed(made.event.clone())], vec![record])
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
    let (_, entries) = match outcome {
        Ok(done) => done,
        // The document was recorded for another unit after the check above.
        Err(e @ ledger::Error::DocumentOfAnotherUnit { .. }) => {
            state.metrics.signature(&unit, &key_label, "error");
            return Err(
                auth::refuse_foreign_document(&state, &principal, Permission::Sign, &e).await,
            );
        }
        Err(e) => {
            state.metrics.signature(&unit, &key_label, "error");
            // The signature is discarded: a document the ledger does not know is never
            // handed out.
            return Err(store_error(e));
        }
    };
    state.metrics.signature(&unit, &key_label, "ok");
    respond(kind, made, entries.first().map(|e| e.seq), &principal)
}

fn respond(
    kind: Kind,
    made: Made,
    audit_seq: Option<u64>,
    _principal: &Principal,
) -> Result<Response, ApiError> {
    let mut response = (
        [(header::CONTENT_TYPE, kind.media_type())],
        Body::from(made.signed),
    )
        .into_response();
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put("x-kyso-document-id", &made.event.document_id);
    put("x-kyso-indication", made.event.indication.as_str());
    put("x-kyso-level", made.event.level.as_str());
    put("x-kyso-certificate-sha256", &made.event.certificate.sha256);
    if let Some(field) = &made.field {
        put("x-kyso-signature-field", field);
    }
    if let Some(seq) = audit_seq {
        put("x-kyso-audit-seq", &seq.to_string());
    }
    Ok(response)
}

/// Images for a visible stamp, from multipart parts.
#[derive(Default)]
pub(super) struct Images {
    pub(super) signature: Option<Vec<u8>>,
    pub(super) seal: Option<Vec<u8>>,
}

/// The document and the options part, from a raw body or `multipart/form-data`.
pub(super) async fn read_document(
    state: &AppState,
    request: Request,
) -> Result<(Vec<u8>, SignRequest, Images), ApiError> {
    let headers: HeaderMap = request.headers().clone();
    if content_type(&headers) != "multipart/form-data" {
        let body = read_body(state, request.into_body()).await?;
        if body.is_empty() {
            return Err(ApiError::BadRequest {
                reason: "the request body is empty: send the document".to_owned(),
            });
        }
        return Ok((body.to_vec(), SignRequest::default(), Images::default()));
    }
    let mut multipart = super::multipart(state, request).await?;
    let (mut document, mut options, mut images) = (None, SignRequest::default(), Images::default());
    let limit = state.limits.max_body_bytes;
    let mut seen: Vec<String> = Vec::new();
    // The body as a whole is bounded, so the number of parts is too; unknown parts are refused
    // rather than skipped, so a misspelt part name is noticed; and a part given twice is
    // refused rather than the last one winning (verification refuses two documents too), so
    // what is signed is never a matter of which copy a proxy or a reader looked at.
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if seen.contains(&name) {
            return Err(ApiError::BadRequest {
                reason: format!("part `{name}` given more than once: send each part once"),
            });
        }
        seen.push(name.clone());
        let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
        match name.as_str() {
            "document" => document = Some(bytes.to_vec()),
            "options" => {
                options = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
                    reason: format!("options part: {e}"),
                })?;
            }
            "signature_image" => images.signature = Some(bytes.to_vec()),
            "seal_image" => images.seal = Some(bytes.to_vec()),
            other => {
                return Err(ApiError::BadRequest {
                    reason: format!(
                        "unknown part `{other}`: expected document, options, signature_image, seal_image"
                    ),
                });
            }
        }
    }
    let document = document
        .filter(|d| !d.is_empty())
        .ok_or_else(|| ApiError::BadRequest {
            reason: "no `document` part".to_owned(),
        })?;
    Ok((document, options, images))
}

pub(super) fn multipart_error(e: axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::BadRequest {
            reason: format!("multipart: {}", e.body_text()),
        }
    }
}

/// Whether `principal` may sign `document_id` with a key of `unit`: a well-formed id that no
/// other unit holds. Checked before the token is used: another unit's document id is refused,
/// not signed.
pub(super) async fn may_sign_document(
    state: &AppState,
    principal: &auth::Principal,
    document_id: &str,
    unit: &str,
) -> Result<(), ApiError> {
    check_document_id(document_id)?;
    auth::require_document_unit(
        state,
        principal,
        Permission::Sign,
        document_id,
        unit,
        Claim::Signed,
    )
    .await
}

/// The same rule the ledger applies to document ids, checked before anything is signed.
pub(super) fn check_document_id(id: &str) -> Result<(), ApiError> {
    let bad = id.trim().is_empty()
        || id.trim() != id
        || id.chars().count() > 200
        || id.chars().any(char::is_control);
    if bad {
        return Err(ApiError::BadRequest {
            reason:
                "document_id: 1 to 200 characters, no control characters, no surrounding spaces"
                    .to_owned(),
        });
    }
    Ok(())
}

/// One signature to make.
struct Job<'a> {
    kind: Kind,
    level: signing::Level,
    document: &'a [u8],
    options: &'a SignRequest,
    images: Images,
}

/// Signs on the blocking pool: opens the key if needed, signs through the one signing path
/// ([`signing::Signing`], as `kyso sign` does), verifies the output.
fn make_signature(state: &AppState, entry: &KeyEntry, job: Job<'_>) -> Result<Made, ApiError> {
    let key = state.keys.open(entry)?;
    let now = OffsetDateTime::now_utc();
    let signing = signing::Signing {
        key: &key,
        level: job.level,
        tsa: state.tsa.as_ref(),
        trust: Some(state.verifier.trust()),
        at: now,
        algorithms: state.verifier.algorithms(),
    };
    let made = match job.kind {
        Kind::Pdf => signing.pdf(
            job.document,
            pdf_options(
                state,
                &key.certificate,
                job.options,
                &job.images,
                job.document,
                now,
            )?,
        ),
        Kind::Xml => signing.xml(job.document, xml_options(job.options)?),
    };
    let made = made
        .map_err(|e| signing_error(&key, e))
        .inspect_err(|e| forget_on_token_failure(state, entry, e))?;
    let (field, level) = (made.field.clone(), made.level);
    let signed = made.into_vec();
    let report = state.verifier.get().verify(&signed);
    let indication = match report.indication {
        crate::verify::Indication::TotalPassed => Indication::TotalPassed,
        crate::verify::Indication::TotalFailed => Indication::TotalFailed,
        crate::verify::Indication::Indeterminate => Indication::Indeterminate,
    };
    let certificate = ledger::Certificate::from_der(&key.certificate)
        .map_err(|e| ApiError::internal("reading the signing certificate", &e))?;
    let document_id = job
        .options
        .document_id
        .clone()
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256.digest(&signed))));
    Ok(Made {
        event: Signed {
            document_id,
            unit: entry.unit.clone(),
            // The URI as configured, less pin-source/module-path: what the key is, not where
            // its PIN lives.
            key: key_reference(&key),
            certificate,
            method: entry.method,
            level,
            signed_at: now,
            indication,
        },
        signed,
        field,
    })
}

pub(super) fn key_reference(key: &KeyMaterial) -> String {
    key.key.reference()
}

fn forget_on_token_failure(state: &AppState, entry: &KeyEntry, error: &ApiError) {
    if matches!(error, ApiError::TokenUnavailable { .. }) {
        state.keys.forget(entry);
    }
}

fn token_failure(entry_key: &KeyMaterial, e: &crate::signer::SignError) -> ApiError {
    tracing::warn!(key = %entry_key.key.describe(), error = %e, "signing failed in the key's token or service");
    ApiError::TokenUnavailable {
        key: entry_key.key.describe(),
        reason: e.to_string(),
    }
}

/// A level as a request names it (`B-B` by default); every level is made for PDF and XML.
pub(super) fn parse_level(level: Option<&str>) -> Result<signing::Level, ApiError> {
    let Some(level) = level else {
        return Ok(signing::Level::BaselineB);
    };
    signing::Level::parse(level).map_err(|e| ApiError::BadRequest {
        reason: e.to_string(),
    })
}

/// Whether the service is configured for `level` (a TSA for B-T and B-LT, trust anchors for
/// B-LT): checked before the queue and the token, so the caller hears at once.
pub(super) fn check_level(
    state: &AppState,
    level: signing::Level,
    kind: Kind,
) -> Result<(), ApiError> {
    let kind = match kind {
        Kind::Pdf => signing::DocumentKind::Pdf,
        Kind::Xml => signing::DocumentKind::Xml(signing::XmlForm::Xades),
    };
    signing::Signing::check(
        level,
        kind,
        state.tsa.as_ref(),
        Some(state.verifier.trust()),
    )
    .map_err(|e| ApiError::LevelUnavailable {
        reason: e.to_string(),
    })
}

/// A signing failure as the client should see it.
pub(super) fn signing_error(key: &KeyMaterial, error: signing::Error) -> ApiError {
    use signing::Error as E;
    match error {
        E::UnknownLevel { .. } => ApiError::BadRequest {
            reason: error.to_string(),
        },
        E::LevelUnavailable { reason } => ApiError::LevelUnavailable { reason },
        E::Signer(e) => token_failure(key, &e),
        e @ E::TimestampAuthority(_) => ApiError::Upstream {
            service: "time-stamping authority",
            reason: e.to_string(),
        },
        e @ (E::SignerNotValid(_) | E::KeyBelowPolicy { .. }) => ApiError::SignerNotValid {
            reason: e.to_string(),
        },
        e @ E::Unsignable(_) => ApiError::UnsignableDocument {
            reason: e.to_string(),
        },
        e => ApiError::internal("signing", &e),
    }
}

/// The PDF signature's options from the request: reason, location, name, field, page, and a
/// visible stamp drawn with the service's font.
pub(super) fn pdf_options(
    state: &AppState,
    certificate: &[u8],
    options: &SignRequest,
    images: &Images,
    document: &[u8],
    at: OffsetDateTime,
) -> Result<SignatureOptions, ApiError> {
    // The room is the signing path's to set; the time is the signature's, given so that a
    // signing job makes the same stamp again when the holder has confirmed.
    let mut pdf = SignatureOptions::new(at, 0);
    pdf.reason = options.reason.clone();
    pdf.location = options.location.clone();
    pdf.name = options.name.clone();
    pdf.field_name = options.field.clone();
    if let Some(page) = options.page {
        pdf.page = page.checked_sub(1).ok_or_else(|| ApiError::BadRequest {
            reason: "page: pages are numbered from 1".to_owned(),
        })?;
    }
    let given = options
        .visible
        .as_deref()
        .map(parse_placement)
        .transpose()?
        .map(|(page, rect)| (page - 1, rect));
    let stamp = options
        .stamp
        .as_deref()
        .map(|s| stamp_of(s, options))
        .transpose()?;
    if given.is_some() || stamp.is_some() {
        let (common_name, cert_unit) = crate::signing::subject_names(certificate)
            .map_err(|e| ApiError::internal("reading the signing certificate", &e))?;
        let signer = options
            .name
            .clone()
            .or(common_name)
            .ok_or_else(|| ApiError::BadRequest {
                reason: "the certificate has no common name to show: give `name`".to_owned(),
            })?;
        let mut appearance = Appearance::new(
            state.font()?,
            signer,
            options.unit_label.clone().or(cert_unit),
        );
        let png = |bytes: Option<&Vec<u8>>, what: &str| {
            bytes
                .map(|b| {
                    PngImage::decode(b).map_err(|e| ApiError::BadRequest {
                        reason: format!("{what}: {e}"),
                    })
                })
                .transpose()
        };
        appearance.signature_image = png(images.signature.as_ref(), "signature_image")?;
        appearance.seal_image = png(images.seal.as_ref(), "seal_image")?;
        let (page, rect) = match stamp {
            Some(mut stamp) => {
                if let Stamp::Copy { agency, .. } = &mut stamp {
                    *agency = appearance.unit.clone().ok_or_else(|| ApiError::BadRequest {
                        reason: "stamp copy names the copying agency: the certificate has no O or OU, give `unit_label`".to_owned(),
                    })?;
                }
                appearance.style = Style::Decree30(stamp.clone());
                decree30::place(document, &stamp, &appearance, given, pdf.signing_time).map_err(
                    |e| ApiError::BadRequest {
                        reason: format!("stamp: {e}"),
                    },
                )?
            }
            None => given.ok_or_else(|| ApiError::BadRequest {
                reason: "visible: a visible signature needs PAGE,X,Y,W,H".to_owned(),
            })?,
        };
        pdf.page = page;
        pdf.visible = Some(VisibleSignature { rect, appearance });
    }
    Ok(pdf)
}

/// The Decree 30 stamp a request asks for (the copying agency is filled in with the stamp's
/// unit once it is known).
fn stamp_of(kind: &str, options: &SignRequest) -> Result<Stamp, ApiError> {
    let bad = |reason: String| ApiError::BadRequest { reason };
    Ok(match kind {
        "person" => Stamp::Person,
        "agency" => Stamp::Agency {
            seal_width_mm: options.seal_width,
        },
        "attachment" => Stamp::Attachment {
            number: options.number.clone().ok_or_else(|| {
                bad("stamp attachment shows the main document's number: give `number`".to_owned())
            })?,
        },
        "copy" => Stamp::Copy {
            form: match options.copy_form.as_deref() {
                None => CopyForm::SaoY,
                Some(text) => CopyForm::parse(text).ok_or_else(|| {
                    bad(format!(
                        "copy_form `{text}`: expected sao-y, sao-luc or trich-sao"
                    ))
                })?,
            },
            agency: String::new(),
        },
        other => {
            return Err(bad(format!(
                "stamp `{other}`: expected person, agency, attachment or copy"
            )));
        }
    })
}

/// The XML signature's packaging from the request (XAdES always).
pub(super) fn xml_options(options: &SignRequest) -> Result<signing::XmlOptions, ApiError> {
    let packaging = match options.packaging.as_deref() {
        None | Some("enveloped") => crate::xml::Packaging::Enveloped,
        Some("enveloping") => crate::xml::Packaging::Enveloping,
        Some(other) => {
            return Err(ApiError::BadRequest {
                reason: format!("packaging `{other}`: expected enveloped or enveloping"),
            });
        }
    };
    let mut xml = signing::XmlOptions {
        packaging,
        ..signing::XmlOptions::default()
    };
    if options.parallel == Some(true) {
        if xml.packaging != crate::xml::Packaging::Enveloped {
            return Err(ApiError::BadRequest {
                reason: "parallel applies to enveloped signatures only".to_owned(),
            });
        }
        xml.other_signatures = crate::xml::OtherSignatures::Excluded;
    }
    Ok(xml)
}

/// `PAGE,X,Y,W,H`, as `kyso sign pdf --visible` takes it.
fn parse_placement(text: &str) -> Result<(usize, Rect), ApiError> {
    let bad = |reason: String| ApiError::BadRequest {
        reason: format!("visible: {reason}"),
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [page, x, y, w, h] = parts.as_slice() else {
        return Err(bad(format!("expected PAGE,X,Y,W,H, got `{text}`")));
    };
    let page: usize = page
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .ok_or_else(|| bad(format!("page `{page}` is not a page number from 1")))?;
    let number = |v: &str| {
        v.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| bad(format!("`{v}` is not a number of points")))
    };
    let rect = Rect::new(number(x)?, number(y)?, number(w)?, number(h)?)
        .map_err(|e| bad(e.to_string()))?;
    Ok((page, rect))
}

/// The request's body type must be one `kind` takes (415 otherwise, naming both).
pub(super) fn check_media(kind: Kind, request: &Request) -> Result<(), ApiError> {
    let media = content_type(request.headers());
    if kind.accepts(&media) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType {
        found: if media.is_empty() {
            "(none)".to_owned()
        } else {
            media
        },
        expected: kind.accepted(),
    })
}

/// An options part may not name another key than the query that chose the path.
pub(super) fn check_same_key(options: &SignRequest, key_name: &str) -> Result<(), ApiError> {
    if options.key.as_deref() == Some(key_name) {
        return Ok(());
    }
    Err(ApiError::BadRequest {
        reason: "the options part names another key than the query".to_owned(),
    })
}
