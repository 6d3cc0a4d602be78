//! The service's checkpoint task: every [`TICK`] it asks whether a checkpoint of the audit log
//! is due ([`Schedule::due`]) and, if so, signs the head with the `[audit] checkpoint_key` key,
//! has it time-stamped and appends it ([`crate::audit::checkpoint`]).
//!
//! What it refuses: to stand in the way of ledger events. The token and the TSA are asked on
//! the blocking pool with no connection or transaction held; the append is one short
//! transaction like any other, serialised on the chain's head. A failure (token missing, TSA
//! down) is logged and tried again after [`RETRY_AFTER`], never surfaced to a request. Several
//! nodes sharing one database each run the task; each looks at the log's newest checkpoint
//! before making one, so they rarely both make one, and a duplicate is harmless.

use std::time::Duration;

use time::OffsetDateTime;

use super::AppState;
use crate::audit::checkpoint::{self, Newest};

/// How often the task looks: the schedule counts in minutes and in thousands of entries, and a
/// look is one indexed read of the head row.
const TICK: Duration = Duration::from_secs(60);

/// How long after a failed attempt the next one is made: a TSA or token that is down is not
/// asked every tick, and five minutes stay well inside the default grace of fifteen.
const RETRY_AFTER: time::Duration = time::Duration::minutes(5);

/// Runs until the service shuts down; returns at once when checkpoints are not configured.
pub async fn run(state: AppState) {
    let Some(schedule) = state.checkpoints.clone() else {
        return;
    };
    let mut known: Option<Newest> = None;
    // Entries up to here were looked through for a checkpoint: the next look starts after them,
    // so a log without any (a TSA down since start) is not read whole at every retry.
    let mut scanned: u64 = 0;
    let mut failed_at: Option<OffsetDateTime> = None;
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if state.is_shutting_down() {
            return;
        }
        let now = OffsetDateTime::now_utc();
        if failed_at.is_some_and(|at| now - at < RETRY_AFTER) {
            continue;
        }
        match attempt(&state, &schedule, &mut known, &mut scanned, now).await {
            Ok(()) => failed_at = None,
            Err(reason) => {
                tracing::warn!(error = %reason, retry_in_secs = RETRY_AFTER.whole_seconds(), "audit checkpoint failed; ledger events are unaffected");
                failed_at = Some(now);
            }
        }
    }
}

/// One look: the newest checkpoint and the head, and a checkpoint if one is due. Updates what
/// is known of the newest checkpoint and how far the log was looked through.
async fn attempt(
    state: &AppState,
    schedule: &checkpoint::Schedule,
    known: &mut Option<Newest>,
    scanned: &mut u64,
    now: OffsetDateTime,
) -> Result<(), String> {
    let after = (*scanned).max(known.map_or(0, |k| k.seq));
    let (newest, (head_seq, head_hash)) = state
        .stores
        .run(move |store| {
            // The head first: a checkpoint appended between the two reads is then still found.
            let head = store.audit_head()?;
            let newest = checkpoint::newest(store, after)?;
            Ok((newest, head))
        })
        .await
        .map_err(|e| format!("reading the audit log: {e}"))?;
    if newest.is_some() {
        *known = newest;
    }
    *scanned = head_seq;
    if !schedule.due(known.as_ref(), head_seq, now) {
        return Ok(());
    }
    let tsa = state
        .tsa
        .clone()
        .ok_or_else(|| "no TSA configured".to_owned())?;
    let key_name = schedule.key.clone();
    let worker = state.clone();
    let record = tokio::task::spawn_blocking(move || {
        let Some(entry) = worker.keys.entry(&key_name) else {
            return Err(format!("no key `{key_name}`"));
        };
        let key = worker
            .keys
            .open(entry)
            .map_err(|e| format!("opening key `{key_name}`: {e}"))?;
        checkpoint::make(head_seq, &head_hash, &key, &key_name, &tsa, "service").map_err(|e| {
            if matches!(e, checkpoint::Error::Signer(_)) {
                // The token failed: open it afresh next time, as signing requests do.
                worker.keys.forget(entry);
            }
            e.to_string()
        })
    })
    .await
    .map_err(|e| format!("the checkpoint task failed: {e}"))??;
    let appended = state
        .stores
        .run(move |store| store.append_audit(std::slice::from_ref(&record)))
        .await
        .map_err(|e| format!("appending the checkpoint: {e}"))?;
    if let Some(made) = appended.first() {
        tracing::info!(
            entry = made.seq,
            head = head_seq,
            key = %schedule.key,
            "audit checkpoint made"
        );
        *known = Some(Newest {
            seq: made.seq,
            at: made.record.at,
        });
    }
    Ok(())
}
