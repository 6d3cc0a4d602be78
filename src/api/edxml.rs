//! `POST /v1/edxml`: an outgoing edXML package (QCVN 102:2016) from a signed PDF, its
//! appendices and the header's fields, optionally signed by one of the unit's keys; the package
//! comes back as `application/xml`.
//!
//! The request is `multipart/form-data`: the `document` part (a signed PDF; its file name is
//! the attachment's name), a `header` part (JSON, the fields `kyso edxml pack --header` reads,
//! [`crate::edxml::Header`]) and any number of `appendix` parts, each with a file name. Any
//! other part, or `document`/`header` twice, is 400, as for signing requests. The header and
//! the document are checked ([`crate::edxml::pack`]: required fields, no control or bidi
//! characters, the document a signed PDF) before a key is used: 400 or 422.
//!
//! With `key` (one of the `[[serve.keys]]`, of a unit the caller's API key is bound to), the
//! package is signed through the one signing path ([`crate::edxml::pack::sign`]: enveloped,
//! Exclusive C14N, SHA-256, at the end of `edXMLHeader`), on the signing queue, verified, and
//! recorded like every signature kyso makes: the ledger's `signed` event and the audit entry
//! are committed before the package is returned. Without `key` the package is built and
//! returned; nothing is signed, so nothing is recorded.

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::{self, Caller, Permission, ToSign};
use super::problem::ApiError;
use super::sign::{key_reference, may_sign_document, multipart_error, signing_error};
use super::state::store_error;
use super::{AppState, Route, content_type};
use crate::audit::{self, Action};
use crate::edxml::{self, AttachmentInput, Header};
use crate::ledger::{self, Event, Indication, Signed};
use crate::signer::DigestAlgorithm::Sha256;
use crate::signing::{self, XmlForm};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/v1/edxml",
}];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/edxml", post(pack))
}

/// Appendices one package may carry from a request: the verifier checks at most 64
/// attachments of a package ([`crate::edxml::attachment::Limits`]), and the document is one.
const MAX_APPENDICES: usize = 63;

/// Query parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackQuery {
    /// A configured key to sign the package with; none: an unsigned package.
    pub key: Option<String>,
    /// The ledger's id of the signed package (default: `sha256:` of the package).
    pub document_id: Option<String>,
    /// `xmldsig` (default) or `xades` (XAdES B-B: signing time and certificate signed too).
    pub form: Option<String>,
}

async fn pack(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToSign>,
    query: Result<Query<PackQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    if state.is_shutting_down() {
        return Err(ApiError::ShuttingDown);
    }
    let Query(query) = query.map_err(|e| ApiError::BadRequest {
        reason: format!("query: {}", e.body_text()),
    })?;
    let form = match query.form.as_deref() {
        None | Some("xmldsig") => XmlForm::XmlDsig,
        Some("xades") => XmlForm::Xades,
        Some(other) => {
            return Err(ApiError::BadRequest {
                reason: format!("form `{other}`: expected xmldsig or xades"),
            });
        }
    };
    // Authorised before the body is read: the key names the unit.
    let entry = match &query.key {
        Some(name) => {
            let entry = state.keys.entry(name).ok_or_else(|| ApiError::NotFound {
                what: format!("signing key `{name}`"),
            })?;
            auth::require_unit(&state, &principal, Permission::Sign, &entry.unit)?;
            Some(entry)
        }
        None => {
            if query.document_id.is_some() || query.form.is_some() {
                return Err(ApiError::BadRequest {
                    reason: "document_id and form apply to a signed package: name the key"
                        .to_owned(),
                });
            }
            None
        }
    };
    let media = content_type(request.headers());
    if media != "multipart/form-data" {
        return Err(ApiError::UnsupportedMediaType {
            found: if media.is_empty() {
                "(none)".to_owned()
            } else {
                media
            },
            expected: "multipart/form-data",
        });
    }
    if let (Some(id), Some(entry)) = (&query.document_id, entry) {
        may_sign_document(&state, &principal, id, &entry.unit).await?;
    }
    let (header, attachments) = read_parts(&state, request).await?;
    let at = OffsetDateTime::now_utc();
    // Built (and every field checked) before the queue and the token are used.
    let package = edxml::pack(&header, &attachments, at).map_err(pack_error)?;
    let Some(entry) = entry else {
        return Ok(respond(package, None));
    };

    let admitted = state.sign_queue.admit(&state.metrics)?;
    let unit = entry.unit.clone();
    let key_name = entry.name.clone();
    let worker_state = state.clone();
    let document_id = query.document_id.clone();
    let made = admitted
        .run(move || {
            let entry = worker_state
                .keys
                .entry(&key_name)
                .ok_or(ApiError::Internal)?;
            sign_package(&worker_state, entry, &package, form, document_id, at)
        })
        .await?;
    drop(admitted);
    let (signed, event) = match made {
        Ok(made) => made,
        Err(e) => {
            state.metrics.signature(&unit, &entry.name, "error");
            return Err(e);
        }
    };
    let record = audit::Record::new(
        principal.actor(),
        Action::Signature,
        event.document_id.clone(),
        &serde_json::json!({
            "credential": principal.key_id,
            "key": entry.name,
            "key_uri": event.key,
            "unit": event.unit,
            "certificate_sha256": event.certificate.sha256,
            "method": event.method.as_str(),
            "level": event.level.as_str(),
            "document_sha256": hex::encode(Sha256.digest(&signed)),
            "indication": event.indication.as_str(),
            "format": "edxml",
        }),
    );
    let outcome = state
        .recorder
        .record(vec![Event::Signed(event.clone())], vec![record])
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
    if let Err(e) = outcome {
        state.metrics.signature(&unit, &entry.name, "error");
        return Err(match e {
            e @ ledger::Error::DocumentOfAnotherUnit { .. } => {
                auth::refuse_foreign_document(&state, &principal, Permission::Sign, &e).await
            }
            // A package the ledger does not know is never handed out.
            e => store_error(e),
        });
    }
    state.metrics.signature(&unit, &entry.name, "ok");
    Ok(respond(signed, Some(&event)))
}

/// Signs, verifies and describes a package on the blocking pool, as the sign routes do.
fn sign_package(
    state: &AppState,
    entry: &super::state::KeyEntry,
    package: &[u8],
    form: XmlForm,
    document_id: Option<String>,
    at: OffsetDateTime,
) -> Result<(Vec<u8>, Signed), ApiError> {
    let key = state.keys.open(entry)?;
    let signing = signing::Signing {
        key: &key,
        level: signing::Level::BaselineB,
        tsa: state.tsa.as_ref(),
        trust: Some(state.verifier.trust()),
        at,
        algorithms: state.verifier.algorithms(),
    };
    let (signed, level) = edxml::pack::sign(package, &signing, form).map_err(|e| match e {
        edxml::Error::Signing(e) => {
            let error = signing_error(&key, e);
            if matches!(error, ApiError::TokenUnavailable { .. }) {
                state.keys.forget(entry);
            }
            error
        }
        e => ApiError::internal("signing an edXML package", &e),
    })?;
    let report = state.verifier.get().verify(&signed);
    let indication = match report.indication {
        crate::verify::Indication::TotalPassed => Indication::TotalPassed,
        crate::verify::Indication::TotalFailed => Indication::TotalFailed,
        crate::verify::Indication::Indeterminate => Indication::Indeterminate,
    };
    let certificate = ledger::Certificate::from_der(&key.certificate)
        .map_err(|e| ApiError::internal("reading the signing certificate", &e))?;
    let document_id =
        document_id.unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256.digest(&signed))));
    let event = Signed {
        document_id,
        unit: entry.unit.clone(),
        key: key_reference(&key),
        certificate,
        method: entry.method,
        level,
        signed_at: at,
        indication,
    };
    Ok((signed, event))
}

fn respond(package: Vec<u8>, signed: Option<&Signed>) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/xml")],
        Body::from(package),
    )
        .into_response();
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    match signed {
        Some(event) => {
            put("x-kyso-document-id", &event.document_id);
            put("x-kyso-indication", event.indication.as_str());
            put("x-kyso-level", event.level.as_str());
            put("x-kyso-certificate-sha256", &event.certificate.sha256);
        }
        None => put("x-kyso-signed", "false"),
    }
    response
}

/// What the request's author got wrong (400, 422), or kyso's own failure (500).
fn pack_error(error: edxml::Error) -> ApiError {
    use edxml::Error as E;
    match error {
        e @ (E::Header { .. } | E::NoAttachment) => ApiError::BadRequest {
            reason: e.to_string(),
        },
        e @ E::Attachment { .. } => ApiError::UnsignableDocument {
            reason: e.to_string(),
        },
        e => ApiError::internal("building an edXML package", &e),
    }
}

/// The header and the attachments (document first) from the multipart body.
async fn read_parts(
    state: &AppState,
    request: Request,
) -> Result<(Header, Vec<AttachmentInput>), ApiError> {
    let limit = state.limits.max_body_bytes;
    let mut multipart = super::multipart(state, request).await?;
    let mut header: Option<Header> = None;
    let mut document: Option<AttachmentInput> = None;
    let mut appendices: Vec<AttachmentInput> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        match name.as_str() {
            "header" if header.is_none() => {
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                header =
                    Some(
                        serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
                            reason: format!("header part: {e}"),
                        })?,
                    );
            }
            "document" if document.is_none() => {
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                document = Some(AttachmentInput {
                    name: file_name.unwrap_or_else(|| "document.pdf".to_owned()),
                    bytes: bytes.to_vec(),
                    description: None,
                });
            }
            "appendix" => {
                if appendices.len() >= MAX_APPENDICES {
                    return Err(ApiError::BadRequest {
                        reason: format!("more than {MAX_APPENDICES} `appendix` parts"),
                    });
                }
                let Some(file_name) = file_name else {
                    return Err(ApiError::BadRequest {
                        reason: "an `appendix` part needs a file name (its AttachmentName)"
                            .to_owned(),
                    });
                };
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                appendices.push(AttachmentInput {
                    name: file_name,
                    bytes: bytes.to_vec(),
                    description: None,
                });
            }
            "header" | "document" => {
                return Err(ApiError::BadRequest {
                    reason: format!("part `{name}` given more than once: send each part once"),
                });
            }
            other => {
                return Err(ApiError::BadRequest {
                    reason: format!("unknown part `{other}`: expected document, header, appendix"),
                });
            }
        }
    }
    let header = header.ok_or_else(|| ApiError::BadRequest {
        reason: "no `header` part (the package header as JSON)".to_owned(),
    })?;
    let document =
        document
            .filter(|d| !d.bytes.is_empty())
            .ok_or_else(|| ApiError::BadRequest {
                reason: "no `document` part (the signed PDF)".to_owned(),
            })?;
    let mut attachments = vec![document];
    attachments.extend(appendices);
    Ok((header, attachments))
}
