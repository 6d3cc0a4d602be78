//! The jobs' poller: a task of `kyso serve` that asks the providers about pending jobs, ends
//! them (refused, expired, failed) or completes them — the document signed again with the
//! confirmed signature, verified, and recorded with its ledger event and audit entry in one
//! transaction that finds the job still pending
//! ([`crate::ledger::jobs::JobStore::complete`]), so that a job is
//! completed at most once whichever node polls it and whenever one dies.
//!
//! Refuses: a provider signature that does not verify with the credential's certificate, and a
//! document that does not sign again into the confirmed message (both fail the job, with no
//! document).

use time::OffsetDateTime;

use super::{Failure, PhoneEntry, Recipe, make};
use crate::api::AppState;
use crate::api::problem::ApiError;
use crate::audit::{self, Action};
use crate::ledger::jobs::{Ending, Job, JobState};
use crate::ledger::{self, Event, Indication, Signed};
use crate::phone::{self, Credential, PresignedSigner, Status};
use crate::signer::DigestAlgorithm::Sha256;

/// Pending jobs one poll looks at: each costs one request to its provider, and the next poll
/// takes the rest.
const POLL_BATCH: usize = 256;

/// Polls the providers about pending jobs until the service stops: every `poll_seconds` (the
/// smallest of the keys'), at most [`POLL_BATCH`] jobs a round, one at a time on the blocking
/// pool. Finished jobs older than the retention are deleted on the way.
pub(in crate::api) async fn poll(state: AppState) {
    let Some(every) = state.jobs.keys.values().map(|e| e.poll).min() else {
        return;
    };
    loop {
        tokio::time::sleep(every).await;
        if state.is_shutting_down() {
            return;
        }
        let round = state.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || poll_once(&round)).await {
            tracing::error!(error = %e, "a job polling round failed");
        }
    }
}

fn poll_once(state: &AppState) {
    let now = OffsetDateTime::now_utc();
    let before = now - state.jobs.retention;
    match state.jobs.with_store(|store| store.purge_finished(before)) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            jobs = n,
            "finished signing jobs past their retention deleted"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot delete old signing jobs"),
    }
    let pending = match state
        .jobs
        .with_store(|store| store.pending_jobs(POLL_BATCH))
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read pending signing jobs");
            return;
        }
    };
    for job in pending {
        if state.is_shutting_down() {
            return;
        }
        advance(state, &job);
    }
}

/// One pending job: expired, or asked about and ended, completed or left pending.
fn advance(state: &AppState, job: &Job) {
    let id = &job.new.id;
    let end = |job_state: JobState, reason: String| {
        let ending = Ending {
            state: job_state,
            reason,
            at: OffsetDateTime::now_utc(),
        };
        match state.jobs.with_store(|store| store.finish(id, &ending)) {
            Ok(true) => {
                tracing::info!(job = %id, state = job_state.as_str(), reason = %ending.reason, "signing job ended");
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "cannot end a signing job"),
        }
    };
    let Some(entry) = state.jobs.key(&job.new.key_name) else {
        return end(
            JobState::Failed,
            format!("the key `{}` is no longer configured", job.new.key_name),
        );
    };
    if OffsetDateTime::now_utc() > job.new.deadline {
        return end(
            JobState::Expired,
            "the holder did not confirm before the deadline".to_owned(),
        );
    }
    let credential = match entry.key.credential() {
        Ok(credential) => credential,
        Err(e) => {
            return tracing::warn!(job = %id, error = %e, "cannot read the credential; the job stays pending");
        }
    };
    let status = match entry
        .key
        .status(&job.new.transaction_id, credential.algorithm)
    {
        Ok(status) => status,
        Err(e) => {
            return tracing::warn!(job = %id, error = %e, "cannot ask the provider; the job stays pending");
        }
    };
    match status {
        Status::Pending => {}
        Status::Refused => end(JobState::Refused, "the holder refused".to_owned()),
        Status::Expired => end(
            JobState::Expired,
            "the provider's confirmation window closed".to_owned(),
        ),
        Status::Done { signature } => {
            if let Err(reason) = complete(state, entry, &credential, job, signature) {
                end(JobState::Failed, reason);
            }
        }
    }
}

/// Signs a confirmed job's document again with the provider's signature, verifies it and
/// completes the job with its ledger event and audit entry. `Err` (the reason) fails the job;
/// a failure worth retrying (the TSA, the ledger) leaves it pending and is logged.
fn complete(
    state: &AppState,
    entry: &PhoneEntry,
    credential: &Credential,
    job: &Job,
    signature: crate::signer::Signature,
) -> Result<(), String> {
    let id = &job.new.id;
    if credential.algorithm.digest().digest(&job.new.message) != job.new.digest {
        return Err("the stored message does not match its digest".to_owned());
    }
    // Checked before anything is embedded: a wrong signature from the provider fails the job,
    // never the document.
    if let Err(e) = phone::check_signature(credential, &job.new.message, &signature) {
        return Err(format!(
            "the provider's signature does not verify with the credential's certificate: {e}"
        ));
    }
    let recipe: Recipe = serde_json::from_str(&job.new.options)
        .map_err(|e| format!("the job's recipe does not read: {e}"))?;
    let presigned = PresignedSigner::new(credential, &job.new.digest, signature);
    let made = match make(state, credential, &presigned, &recipe, &job.new.document) {
        Ok(made) => made,
        Err(Failure::NotConfirmed | Failure::Deferred) => {
            return Err("the document did not sign again as it did when the holder was asked (was the service's configuration or font changed?)".to_owned());
        }
        Err(Failure::Api(e @ ApiError::Upstream { .. })) => {
            tracing::warn!(job = %id, error = %e, "completing a signing job: will retry");
            return Ok(());
        }
        Err(Failure::Api(e)) => return Err(e.to_string()),
    };
    let report = state.verifier.get().verify(&made.document);
    let indication = match report.indication {
        crate::verify::Indication::TotalPassed => Indication::TotalPassed,
        crate::verify::Indication::TotalFailed => Indication::TotalFailed,
        crate::verify::Indication::Indeterminate => Indication::Indeterminate,
    };
    let certificate = ledger::Certificate::from_der(&credential.certificate)
        .map_err(|e| format!("the credential's certificate: {e}"))?;
    let document_id = recipe
        .request
        .document_id
        .clone()
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256.digest(&made.document))));
    let event = Signed {
        document_id,
        unit: entry.unit.clone(),
        key: entry.key.reference(),
        certificate,
        method: entry.method,
        level: made.level,
        signed_at: recipe.at(),
        indication,
    };
    let record = audit::Record::new(
        format!("apikey:{}", job.new.credential),
        Action::Signature,
        event.document_id.clone(),
        &serde_json::json!({
            "credential": job.new.credential,
            "key": entry.name,
            "key_uri": event.key,
            "unit": event.unit,
            "certificate_sha256": event.certificate.sha256,
            "method": event.method.as_str(),
            "level": event.level.as_str(),
            "document_sha256": hex::encode(Sha256.digest(&made.document)),
            "indication": event.indication.as_str(),
            "job": id,
        }),
    );
    let at = OffsetDateTime::now_utc();
    let events = [Event::Signed(event)];
    match state.jobs.with_store(|store| {
        store.complete(
            id,
            &made.document,
            at,
            &events,
            std::slice::from_ref(&record),
        )
    }) {
        Ok(Some(_)) => {
            state.metrics.signature(&entry.unit, &entry.name, "ok");
            tracing::info!(job = %id, key = %entry.name, unit = %entry.unit, "signing job done");
            Ok(())
        }
        // Completed or ended by another node, or by this one before a restart.
        Ok(None) => Ok(()),
        Err(e @ ledger::Error::DocumentOfAnotherUnit { .. }) => Err(e.to_string()),
        Err(e) => {
            tracing::warn!(job = %id, error = %e, "cannot record a signing job; will retry");
            Ok(())
        }
    }
}
