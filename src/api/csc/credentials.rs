//! `info`, `credentials/list` and `credentials/info`: what the service is, which credentials
//! the caller may use, and one credential's certificates, key and authorisation rules.
//!
//! A credential is a `[[serve.keys]]` entry with `csc = true`, named by its key name; a caller
//! sees only those of its API key's units. The certificates are the ones `/v1/sign/*` embeds:
//! the key's own, then its issuers, nearest first (`certificates=chain`), so a client such as
//! pyHanko builds the same CMS kyso would.

use axum::Json;
use axum::extract::Request;
use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::super::AppState;
use super::super::auth::Principal;
use super::error::CscError;
use super::params::Params;
use super::{Version, algorithm, caller, credential, sad::MAX_SIGNATURES};
use crate::pki::Certificate;
use crate::pki::signature::KeyKind;
use crate::signing::KeyMaterial;

/// The methods both versions implement (`auth/login` is not: the API key is the credential).
const METHODS: [&str; 4] = [
    "credentials/list",
    "credentials/info",
    "credentials/authorize",
    "signatures/signHash",
];

/// `info`: no API key needed.
pub async fn info(
    version: Version,
    state: AppState,
    request: Request,
) -> Result<Json<Value>, CscError> {
    // `lang` may be asked for; CSC answers in English, and kyso says so.
    let params = Params::read(&state, request).await?;
    params.optional_string("lang")?;
    let mut out = json!({
        "specs": version.specs(),
        "name": "kyso",
        "logo": "",
        "region": "VN",
        "lang": "en",
        "description": "kyso: remote signing with the PKCS#11 keys of the province's units (Ký số từ xa bằng khóa của đơn vị)",
        "authType": ["external"],
        "methods": METHODS,
    });
    if version == Version::V2 {
        let extra = json!({
            "asynchronousOperationMode": false,
            "signAlgorithms": {"algos": [
                crate::oid::SHA256_WITH_RSA.dotted(), crate::oid::SHA384_WITH_RSA.dotted(),
                crate::oid::SHA512_WITH_RSA.dotted(), crate::oid::RSA_ENCRYPTION.dotted(),
                crate::oid::ECDSA_WITH_SHA256.dotted(), crate::oid::ECDSA_WITH_SHA384.dotted(),
                crate::oid::ECDSA_WITH_SHA512.dotted(),
            ]},
            // signDoc is not offered: kyso makes AdES documents through /v1/sign/*.
            "signature_formats": {"formats": [], "envelope_properties": []},
            "conformance_levels": [],
        });
        if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
            out.extend(extra);
        }
    }
    Ok(Json(out))
}

/// `credentials/list`: the caller's units' credentials, sorted by id.
pub async fn list(
    version: Version,
    state: AppState,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, CscError> {
    let principal = caller(&state, &headers).await?;
    let params = Params::read(&state, request).await?;
    // The API key names the user: another user's list is never asked for by id.
    if params.has("userID") {
        return Err(CscError::invalid("userID parameter MUST be null"));
    }
    let mut ids: Vec<String> = state
        .keys
        .entries()
        .filter(|e| e.csc && principal.covers(&e.unit))
        .map(|e| e.name.clone())
        .collect();
    ids.sort();
    let mut out = Map::new();
    match version {
        Version::V1 => {
            // v1.0.4 pages: `pageToken` is the last id of the previous page.
            if let Some(after) = params.optional_string("pageToken")? {
                ids.retain(|id| id.as_str() > after);
            }
            if let Some(max) = params.optional_integer("maxResults")? {
                let max = usize::try_from(max)
                    .ok()
                    .filter(|m| *m > 0)
                    .ok_or_else(|| CscError::invalid_parameter("maxResults"))?;
                if ids.len() > max {
                    ids.truncate(max);
                    if let Some(last) = ids.last() {
                        out.insert("nextPageToken".to_owned(), Value::String(last.clone()));
                    }
                }
            }
        }
        Version::V2 => {
            if params.optional_bool("credentialInfo")? == Some(true) {
                let wanted = Wanted::from(&params)?;
                let mut infos = Vec::new();
                for id in &ids {
                    let mut info =
                        describe_by_name(&state, &principal, id, wanted, version).await?;
                    if let Some(info) = info.as_object_mut() {
                        info.insert("credentialID".to_owned(), Value::String(id.clone()));
                    }
                    infos.push(info);
                }
                out.insert("credentialInfos".to_owned(), Value::Array(infos));
            }
        }
    }
    out.insert(
        "credentialIDs".to_owned(),
        Value::Array(ids.into_iter().map(Value::String).collect()),
    );
    Ok(Json(Value::Object(out)))
}

/// `credentials/info`.
pub async fn credential_info(
    version: Version,
    state: AppState,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, CscError> {
    let principal = caller(&state, &headers).await?;
    let params = Params::read(&state, request).await?;
    let id = params.string("credentialID")?.to_owned();
    let wanted = Wanted::from(&params)?;
    let described = describe_by_name(&state, &principal, &id, wanted, version).await?;
    Ok(Json(described))
}

/// Which certificates a request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Certificates {
    None,
    Single,
    Chain,
}

/// What `credentials/info` (or `list` with `credentialInfo`) is asked to include.
#[derive(Clone, Copy, Debug)]
struct Wanted {
    certificates: Certificates,
    cert_info: bool,
}

impl Wanted {
    fn from(params: &Params) -> Result<Wanted, CscError> {
        let certificates = match params.optional_string("certificates")? {
            None | Some("single") => Certificates::Single,
            Some("chain") => Certificates::Chain,
            Some("none") => Certificates::None,
            Some(_) => return Err(CscError::invalid_parameter("certificates")),
        };
        Ok(Wanted {
            certificates,
            cert_info: params.optional_bool("certInfo")?.unwrap_or(false),
        })
    }
}

/// Opens the credential `id` (on the blocking pool: PKCS#11) and describes it.
async fn describe_by_name(
    state: &AppState,
    principal: &Principal,
    id: &str,
    wanted: Wanted,
    version: Version,
) -> Result<Value, CscError> {
    credential(state, principal, id)?;
    let worker = state.clone();
    let name = id.to_owned();
    let key = tokio::task::spawn_blocking(move || {
        let entry = worker.keys.entry(&name).ok_or(CscError::ServerError)?;
        worker.keys.open(entry).map_err(CscError::from)
    })
    .await
    .map_err(|e| {
        CscError::from(super::super::problem::ApiError::internal(
            "opening a CSC credential",
            &e,
        ))
    })??;
    let entry = state.keys.entry(id).ok_or(CscError::ServerError)?;
    describe(
        &key,
        &entry.name,
        &entry.unit,
        entry.method.as_str(),
        wanted,
        version,
    )
}

/// The credential's description in `version`'s words.
fn describe(
    key: &KeyMaterial,
    name: &str,
    unit: &str,
    method: &str,
    wanted: Wanted,
    version: Version,
) -> Result<Value, CscError> {
    let certificate = Certificate::from_der(&key.certificate).map_err(|e| {
        CscError::from(super::super::problem::ApiError::internal(
            "reading a CSC credential's certificate",
            &e,
        ))
    })?;
    // Only token keys are CSC credentials (the configuration refuses `csc = true` on others).
    let token = key.key.token().ok_or(CscError::ServerError)?;
    let mut key_info = json!({
        "status": "enabled",
        "algo": algorithm::offered(token),
    });
    let (len, curve) = match &key.key_kind {
        KeyKind::Rsa { bits } => (*bits, None),
        KeyKind::EcP256 => (256, Some(crate::oid::SECP256R1.dotted())),
        KeyKind::EcP384 => (384, Some(crate::oid::SECP384R1.dotted())),
        _ => (0, None),
    };
    key_info["len"] = json!(len);
    if let Some(curve) = curve {
        key_info["curve"] = json!(curve);
    }
    let now = OffsetDateTime::now_utc();
    let mut cert = Map::new();
    cert.insert(
        "status".to_owned(),
        json!(if now > certificate.not_after() {
            "expired"
        } else {
            "valid"
        }),
    );
    let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
    let certificates: Vec<String> = match wanted.certificates {
        Certificates::None => Vec::new(),
        Certificates::Single => vec![b64(&key.certificate)],
        Certificates::Chain => std::iter::once(&key.certificate)
            .chain(&key.chain)
            .map(|der| b64(der))
            .collect(),
    };
    if wanted.certificates != Certificates::None {
        cert.insert("certificates".to_owned(), json!(certificates));
    }
    if wanted.cert_info {
        let names = crate::ledger::Certificate::from_der(&key.certificate).map_err(|e| {
            CscError::from(super::super::problem::ApiError::internal(
                "reading a CSC credential's certificate names",
                &e,
            ))
        })?;
        cert.insert("issuerDN".to_owned(), json!(names.issuer));
        cert.insert("subjectDN".to_owned(), json!(names.subject));
        cert.insert(
            "serialNumber".to_owned(),
            json!(hex::encode_upper(certificate.serial())),
        );
        cert.insert(
            "validFrom".to_owned(),
            json!(generalized(certificate.not_before())),
        );
        cert.insert(
            "validTo".to_owned(),
            json!(generalized(certificate.not_after())),
        );
    }
    let mut out = json!({
        "description": format!("kyso key {name} of unit {unit} ({method})"),
        "key": key_info,
        "cert": cert,
        // SCAL2: every SAD is bound to the hashes it lets sign.
        "SCAL": "2",
        "multisign": MAX_SIGNATURES,
        "lang": "en",
    });
    // Explicit: a SAD from credentials/authorize is needed for every signHash. The API key
    // is the only authentication; there is no PIN or OTP to give.
    match version {
        Version::V1 => {
            out["authMode"] = json!("explicit");
            out["PIN"] = json!({"presence": "false"});
            out["OTP"] = json!({"presence": "false"});
        }
        Version::V2 => {
            out["auth"] = json!({"mode": "explicit", "objects": []});
        }
    }
    Ok(out)
}

/// `YYYYMMDDHHmmssZ`, as CSC writes certificate validity.
fn generalized(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn validity_is_generalized_time() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(super::generalized(at), "20260102030405Z");
    }
}
