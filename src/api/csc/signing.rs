//! `credentials/authorize` and `signatures/signHash`: a SAD for exact hashes, then the token
//! signs those hashes and the ledger and the audit log record each signature.
//!
//! authorize: the caller's credential, `numSignatures` from 1 to `multisign`, and exactly that
//! many hash values (SCAL2: a SAD without hashes is refused); v2's `hashAlgorithmOID`, when
//! given, binds the digest too. A PIN, OTP or `authData` is ignored: the API key authenticates.
//!
//! signHash: the caller's credential, the algorithm (`signAlgo`, with `hashAlgo` or
//! `hashAlgorithmOID` for bare `rsaEncryption`) one the key can make and whose digest is as
//! long as every hash, then the SAD ([`super::sad::Sads::redeem`]), then the token, through the
//! same bounded signing queue as `/v1/sign/*`. RSA signs the PKCS#1 v1.5 `DigestInfo` of each
//! hash; ECDSA answers the DER `ECDSA-Sig-Value` CMS carries. Asynchronous mode (`A`) and
//! RSASSA-PSS are refused.
//!
//! Each signature is one ledger `signed` event with the key's method (`hsm`, `token`…) and its
//! certificate, and one audit `signature` entry, committed together through the group-commit
//! recorder before the answer is sent; if they cannot be committed, the signatures are thrown
//! away. kyso never sees the document, so the event's document id is the signed hash itself,
//! `csc:<sha256|sha384|sha512>:<hex>` (for CMS, the digest of the signed attributes, which an
//! auditor can recompute from the signed document), its level is `CAdES-B-B` (a bare CMS
//! signature value; what the client wraps it in is the client's), and its indication is
//! `INDETERMINATE`: kyso verified no document.

use axum::Json;
use axum::extract::Request;
use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::super::AppState;
use super::super::auth::Principal;
use super::super::problem::ApiError;
use super::algorithm;
use super::error::CscError;
use super::params::{Params, digest_of_len};
use super::sad::{MAX_SIGNATURES, Redeemed, Refusal, Request as SadRequest};
use super::{Version, caller, credential};
use crate::audit::{self, Action};
use crate::ledger::{self, Event, Indication, SignatureLevel, Signed};
use crate::pki::Certificate;
use crate::signer::{DigestAlgorithm, SignatureAlgorithm};
use crate::signing::KeyMaterial;

/// `credentials/authorize`.
pub async fn authorize(
    version: Version,
    state: AppState,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, CscError> {
    let principal = caller(&state, &headers).await?;
    let params = Params::read(&state, request).await?;
    let id = params.string("credentialID")?.to_owned();
    let wanted = params.integer("numSignatures")?;
    let wanted = usize::try_from(wanted)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| CscError::invalid("Invalid value for parameter numSignatures"))?;
    if wanted > MAX_SIGNATURES {
        return Err(CscError::invalid("Numbers of signatures is too high"));
    }
    let hashes = params.hashes(version.hashes(), MAX_SIGNATURES)?;
    if hashes.len() != wanted {
        return Err(CscError::invalid(format!(
            "The number of values in {} must equal numSignatures",
            version.hashes()
        )));
    }
    let digest = match version {
        Version::V1 => None,
        Version::V2 => params
            .optional_string("hashAlgorithmOID")?
            .map(|d| {
                algorithm::digest_of_oid(d)
                    .ok_or_else(|| CscError::invalid_parameter("hashAlgorithmOID"))
            })
            .transpose()?,
    };
    let lengths_agree = match digest {
        Some(d) => hashes.iter().all(|h| h.len() == d.output_len()),
        None => hashes.windows(2).all(|w| w[0].len() == w[1].len()),
    };
    if !lengths_agree {
        return Err(CscError::invalid("Invalid digest value length"));
    }
    credential(&state, &principal, &id)?;
    let sad = state
        .sads
        .issue(SadRequest {
            caller: &principal.key_id,
            credential: &id,
            hashes,
            digest,
        })
        .map_err(|refusal| {
            tracing::warn!(request_id = %super::super::request_id(), key_id = %principal.key_id, reason = %refusal, "CSC authorisation refused");
            match refusal {
                Refusal::NoRandomness => CscError::ServerError,
                _ => CscError::TemporarilyUnavailable { retry_after: Some(1) },
            }
        })?;
    tracing::info!(
        request_id = %super::super::request_id(),
        key_id = %principal.key_id,
        credential = %id,
        transaction = %sad.transaction,
        signatures = wanted,
        "CSC signatures authorised"
    );
    Ok(Json(json!({
        "SAD": sad.value(),
        "expiresIn": sad.expires_in.as_secs(),
    })))
}

/// `signatures/signHash`.
pub async fn sign_hash(
    version: Version,
    state: AppState,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Value>, CscError> {
    if state.is_shutting_down() {
        return Err(CscError::TemporarilyUnavailable { retry_after: None });
    }
    let principal = caller(&state, &headers).await?;
    let params = Params::read(&state, request).await?;
    let id = params.string("credentialID")?.to_owned();
    let presented = params.string("SAD")?.to_owned();
    let hashes = params.hashes(version.hashes(), MAX_SIGNATURES)?;
    let sign_algo = params.string("signAlgo")?.to_owned();
    let hash_algo = params
        .optional_string(version.hash_algorithm())?
        .map(str::to_owned);
    if params.has("signAlgoParams") {
        // Only RSASSA-PSS takes parameters, and it is not offered.
        return Err(CscError::invalid_parameter("signAlgoParams"));
    }
    match params.optional_string("operationMode")? {
        None | Some("S") => {}
        Some(_) => return Err(CscError::invalid_parameter("operationMode")),
    }
    let entry = credential(&state, &principal, &id)?;
    let (unit, method, key_name) = (entry.unit.clone(), entry.method, entry.name.clone());
    let admitted = state.sign_queue.admit(&state.metrics)?;
    let worker = state.clone();
    let who = principal.clone();
    let started = std::time::Instant::now();
    let made = admitted
        .run(move || {
            sign_on_token(
                &worker,
                &who,
                Job {
                    credential: &id,
                    presented: &presented,
                    hashes: &hashes,
                    sign_algo: &sign_algo,
                    hash_algo: hash_algo.as_deref(),
                    hash_parameter: version.hash_algorithm(),
                },
            )
        })
        .await
        .map_err(CscError::from)?;
    drop(admitted);
    let made = match made {
        Ok(made) => made,
        Err(Failure::Refused(error, refusal)) => {
            if let Some(refusal) = refusal {
                audit_refusal(&state, &principal, &refusal).await;
            }
            return Err(error);
        }
        Err(Failure::Error(error)) => {
            state.metrics.signature(&unit, &key_name, "error");
            return Err(error);
        }
    };
    state.metrics.sign_duration(started.elapsed());
    record(&state, &principal, &made, &unit, method).await?;
    for _ in &made.signatures {
        state.metrics.signature(&unit, &made.key_name, "ok");
    }
    let encoded: Vec<String> = made
        .signatures
        .iter()
        .map(|s| base64::engine::general_purpose::STANDARD.encode(s))
        .collect();
    Ok(Json(json!({ "signatures": encoded })))
}

/// One signHash's work on the blocking pool.
struct Job<'a> {
    credential: &'a str,
    presented: &'a str,
    hashes: &'a [Vec<u8>],
    sign_algo: &'a str,
    hash_algo: Option<&'a str>,
    hash_parameter: &'a str,
}

/// What the token made, before the ledger has it.
struct Made {
    key_name: String,
    key_uri: String,
    certificate: ledger::Certificate,
    algorithm: SignatureAlgorithm,
    hashes: Vec<Vec<u8>>,
    signatures: Vec<Vec<u8>>,
    transaction: String,
    signed_at: OffsetDateTime,
}

/// Why the work failed: a refusal to tell the client (with the SAD refusal the audit log
/// hears of, if any), or a failure of the token or the service.
enum Failure {
    Refused(CscError, Option<Refusal>),
    Error(CscError),
}

/// Opens the key, resolves the algorithm, checks the certificate and the algorithm policy,
/// spends the SAD, and signs each hash. The SAD is spent last before the token, so that a
/// request kyso refuses for its own reasons (an algorithm the key cannot make) leaves it
/// usable.
fn sign_on_token(state: &AppState, principal: &Principal, job: Job<'_>) -> Result<Made, Failure> {
    let refused = |e: CscError| Failure::Refused(e, None);
    let entry = state
        .keys
        .entry(job.credential)
        .ok_or(Failure::Error(CscError::ServerError))?;
    let key = state
        .keys
        .open(entry)
        .map_err(|e| Failure::Error(CscError::from(e)))?;
    // Only token keys are CSC credentials (the configuration refuses `csc = true` on others).
    let token = key
        .key
        .token()
        .ok_or(Failure::Error(CscError::ServerError))?;
    let algorithm = algorithm::resolve(token, job.sign_algo, job.hash_algo, job.hash_parameter)
        .map_err(refused)?;
    let digest = algorithm.digest();
    if job
        .hashes
        .iter()
        .any(|h| digest_of_len(h.len()) != Some(digest))
    {
        return Err(refused(CscError::invalid("Invalid digest value length")));
    }
    check_signer(state, &key).map_err(refused)?;
    let redeemed = state
        .sads
        .redeem(
            job.presented,
            &principal.key_id,
            job.credential,
            job.hashes,
            digest,
        )
        .map_err(|refusal| {
            tracing::warn!(
                request_id = %super::super::request_id(),
                key_id = %principal.key_id,
                credential = %job.credential,
                reason = %refusal,
                "CSC signature refused"
            );
            let error = match &refusal {
                Refusal::Expired { .. } => CscError::invalid("SAD expired"),
                Refusal::OtherHashes { .. } => {
                    CscError::invalid("Hash is not authorized by the SAD")
                }
                _ => CscError::invalid_sad(),
            };
            let audited = matches!(
                refusal,
                Refusal::OtherCaller { .. } | Refusal::OtherCredential { .. }
            );
            Failure::Refused(error, audited.then_some(refusal))
        })?;
    let signatures = sign_each(state, entry, &key, algorithm, job.hashes, &redeemed)?;
    let certificate = ledger::Certificate::from_der(&key.certificate).map_err(|e| {
        Failure::Error(CscError::from(ApiError::internal(
            "reading the signing certificate",
            &e,
        )))
    })?;
    Ok(Made {
        key_name: entry.name.clone(),
        key_uri: super::super::sign::key_reference(&key),
        certificate,
        algorithm,
        hashes: job.hashes.to_vec(),
        signatures,
        transaction: redeemed.transaction,
        signed_at: OffsetDateTime::now_utc(),
    })
}

/// The token's signatures over `hashes`, in the form CSC returns (DER for ECDSA). Needs the
/// proof that a SAD authorised them.
fn sign_each(
    state: &AppState,
    entry: &super::super::state::KeyEntry,
    key: &KeyMaterial,
    algorithm: SignatureAlgorithm,
    hashes: &[Vec<u8>],
    _authorised: &Redeemed,
) -> Result<Vec<Vec<u8>>, Failure> {
    let token = key
        .key
        .token()
        .ok_or(Failure::Error(CscError::ServerError))?;
    hashes
        .iter()
        .map(|hash| {
            token
                .sign_digest_as(algorithm, hash)
                .map(|signature| signature.to_der())
                .map_err(|e| {
                    tracing::warn!(
                        request_id = %super::super::request_id(),
                        token = %token.token().label(),
                        error = %e,
                        "CSC signing failed in the token"
                    );
                    state.keys.forget(entry);
                    Failure::Error(CscError::TemporarilyUnavailable { retry_after: None })
                })
        })
        .collect()
}

/// The certificate must be within its validity, and the key above the algorithm policy's floor
/// for new signatures, as for `/v1/sign/*`.
fn check_signer(state: &AppState, key: &KeyMaterial) -> Result<(), CscError> {
    let certificate = Certificate::from_der(&key.certificate)
        .map_err(|e| CscError::from(ApiError::internal("reading the signing certificate", &e)))?;
    let now = OffsetDateTime::now_utc();
    if now > certificate.not_after() {
        return Err(CscError::invalid("Signing certificate is expired"));
    }
    if now < certificate.not_before() {
        return Err(CscError::invalid("Signing certificate is not yet valid"));
    }
    state
        .verifier
        .algorithms()
        .for_new_key(&key.key_kind)
        .map_err(|weakness| {
            tracing::warn!(request_id = %super::super::request_id(), %weakness, "CSC signing key below the algorithm policy");
            CscError::invalid("The signing key is below the service's algorithm policy")
        })
}

/// Commits one ledger event and one audit entry per signature; on failure the signatures are
/// not handed out.
async fn record(
    state: &AppState,
    principal: &Principal,
    made: &Made,
    unit: &str,
    method: ledger::Method,
) -> Result<(), CscError> {
    let digest = made.algorithm.digest();
    let mut events = Vec::with_capacity(made.hashes.len());
    let mut records = Vec::with_capacity(made.hashes.len());
    for hash in &made.hashes {
        let document_id = document_id(digest, hash);
        records.push(audit::Record::new(
            principal.actor(),
            Action::Signature,
            document_id.clone(),
            &json!({
                "credential": principal.key_id,
                "interface": "csc",
                "transaction": made.transaction,
                "key": made.key_name,
                "key_uri": made.key_uri,
                "unit": unit,
                "certificate_sha256": made.certificate.sha256,
                "method": method.as_str(),
                "level": SignatureLevel::CadesBB.as_str(),
                "sign_algorithm": algorithm::signature_oid(made.algorithm).map(|o| o.dotted()),
                "indication": Indication::Indeterminate.as_str(),
            }),
        ));
        events.push(Event::Signed(Signed {
            document_id,
            unit: unit.to_owned(),
            key: made.key_uri.clone(),
            certificate: made.certificate.clone(),
            method,
            level: SignatureLevel::CadesBB,
            signed_at: made.signed_at,
            indication: Indication::Indeterminate,
        }));
    }
    let outcome = state
        .recorder
        .record(events, records)
        .await
        .map_err(|_| CscError::TemporarilyUnavailable { retry_after: None })?;
    match outcome {
        Ok(_) => Ok(()),
        Err(e @ ledger::Error::DocumentOfAnotherUnit { .. }) => {
            state.metrics.signature(unit, &made.key_name, "error");
            super::super::auth::refuse_foreign_document(
                state,
                principal,
                super::super::auth::Permission::Sign,
                &e,
            )
            .await;
            Err(CscError::AccessDenied)
        }
        Err(e) => {
            state.metrics.signature(unit, &made.key_name, "error");
            Err(CscError::from(super::super::state::store_error(e)))
        }
    }
}

/// The ledger's id of a CSC signature: the hash it signed.
pub fn document_id(digest: DigestAlgorithm, hash: &[u8]) -> String {
    format!(
        "csc:{}:{}",
        algorithm::digest_name(digest),
        hex::encode(hash)
    )
}

/// A SAD shown by another API key, or for another credential, is a leaked SAD: the audit log
/// keeps the attempt (who, which transaction), not only the service log.
async fn audit_refusal(state: &AppState, principal: &Principal, refusal: &Refusal) {
    let (transaction, reason) = match refusal {
        Refusal::OtherCaller { transaction, .. } => (transaction, "sad_of_another_caller"),
        Refusal::OtherCredential { transaction, .. } => (transaction, "sad_for_another_credential"),
        _ => return,
    };
    let record = audit::Record::new(
        principal.actor(),
        Action::Refused,
        format!("csc-transaction:{transaction}"),
        &json!({
            "credential": principal.key_id,
            "interface": "csc",
            "permission": "sign",
            "reason": reason,
        }),
    );
    match state.recorder.record(Vec::new(), vec![record]).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!(request_id = %super::super::request_id(), error = %e, "the CSC refusal could not be added to the audit log")
        }
        Err(_) => {
            tracing::warn!(request_id = %super::super::request_id(), "the CSC refusal was not added to the audit log: shutting down")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signatures_ledger_id_is_its_hash() {
        assert_eq!(
            super::document_id(crate::signer::DigestAlgorithm::Sha256, &[0xab; 32]),
            format!("csc:sha256:{}", "ab".repeat(32))
        );
    }
}
