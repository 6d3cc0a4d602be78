//! The job table in PostgreSQL ([`crate::ledger::jobs`]). Admission counts under a transaction
//! advisory lock of its own, so two nodes admitting at once cannot both take the last place;
//! completion updates the job row with `state = 'pending'` in its condition, which PostgreSQL
//! re-checks on the row a concurrent completion committed: the second finds nothing to do.

use postgres::Row;
use time::OffsetDateTime;

use super::{LockedTransaction, PgStore, append_audit, lock_key, pg, record};
use crate::audit;
use crate::ledger::event::Event;
use crate::ledger::jobs::fits;
use crate::ledger::jobs::{
    Admission, Completed, Ending, Job, JobBounds, JobState, JobStore, NewJob,
};
use crate::ledger::{Error, from_unix, unix};

/// The advisory lock that serialises job admission (any constant distinct from the others).
const ADMISSION_LOCK: i64 = 0x6b79_736f_6a6f_6273; // "kysojobs"

const COLUMNS: &str = "id, credential, unit, key_name, options, message, digest, transaction_id, \
     state, reason, created_at, deadline, finished_at";

impl JobStore for PgStore {
    fn create_job(&mut self, job: &NewJob, bounds: JobBounds) -> Result<Admission, Error> {
        let mut tx = self
            .client
            .transaction()
            .map_err(pg("begin job admission"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ADMISSION_LOCK])
            .map_err(pg("lock job admission"))?;
        let row = tx
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COALESCE(SUM(bytes), 0)::BIGINT
                 FROM jobs",
                &[],
            )
            .map_err(pg("count signing jobs"))?;
        let (pending, bytes): (i64, i64) = (row.get(0), row.get(1));
        let size = job.document.len() as u64;
        if !fits(pending, bytes, size, bounds) {
            return Ok(Admission::Full);
        }
        tx.execute(
            "INSERT INTO jobs (id, credential, unit, key_name, document, options, message, digest,
                               transaction_id, state, created_at, deadline, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12)",
            &[
                &job.id,
                &job.credential,
                &job.unit,
                &job.key_name,
                &job.document,
                &job.options,
                &job.message,
                &job.digest,
                &job.transaction_id,
                &unix(job.created_at),
                &unix(job.deadline),
                &(size as i64),
            ],
        )
        .map_err(pg("create a signing job"))?;
        tx.commit().map_err(pg("commit a signing job"))?;
        Ok(Admission::Stored)
    }

    fn has_room(&mut self, size: u64, bounds: JobBounds) -> Result<bool, Error> {
        let row = self
            .client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COALESCE(SUM(bytes), 0)::BIGINT
                 FROM jobs",
                &[],
            )
            .map_err(pg("count signing jobs"))?;
        Ok(fits(row.get(0), row.get(1), size, bounds))
    }

    fn job(&mut self, id: &str) -> Result<Option<Job>, Error> {
        let row = self
            .client
            .query_opt(
                &format!("SELECT {COLUMNS}, result FROM jobs WHERE id = $1"),
                &[&id],
            )
            .map_err(pg("read a signing job"))?;
        row.map(|r| {
            let mut job = job_row(&r, Vec::new())?;
            job.result = r.get(13);
            Ok(job)
        })
        .transpose()
    }

    fn pending_jobs(&mut self, limit: usize) -> Result<Vec<Job>, Error> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {COLUMNS}, document FROM jobs WHERE state = 'pending'
                     ORDER BY created_at, id LIMIT $1"
                ),
                &[&(limit as i64)],
            )
            .map_err(pg("read pending signing jobs"))?;
        rows.iter().map(|r| job_row(r, r.get(13))).collect()
    }

    fn complete(
        &mut self,
        id: &str,
        result: &[u8],
        at: OffsetDateTime,
        events: &[Event],
        audit: &[audit::Record],
    ) -> Result<Option<Completed>, Error> {
        for event in events {
            event.validate()?;
        }
        self.ensure_signers(events)?;
        let mut keys: Vec<i64> = events.iter().map(|e| lock_key(e.document_id())).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = LockedTransaction::begin(&mut self.client, &keys)?;
        let changed = tx
            .execute(
                "UPDATE jobs SET state = 'done', result = $2, finished_at = $3, bytes = $4,
                                 document = ''::bytea
                 WHERE id = $1 AND state = 'pending'",
                &[&id, &result, &unix(at), &(result.len() as i64)],
            )
            .map_err(pg("complete a signing job"))?;
        if changed == 0 {
            return Ok(None);
        }
        let outcomes = if events.is_empty() {
            Vec::new()
        } else {
            record::record(
                &mut tx,
                &mut self.statements.record,
                &mut self.known_units,
                &self.signers,
                events,
                crate::ledger::Reassignment::Refused,
            )?
            .outcomes
        };
        let entries = if audit.is_empty() {
            Vec::new()
        } else {
            append_audit(&mut *tx, audit)?
        };
        tx.commit()?;
        Ok(Some((outcomes, entries)))
    }

    fn finish(&mut self, id: &str, ending: &Ending) -> Result<bool, Error> {
        let changed = self
            .client
            .execute(
                "UPDATE jobs SET state = $2, reason = $3, finished_at = $4,
                                 document = ''::bytea, bytes = 0
                 WHERE id = $1 AND state = 'pending'",
                &[
                    &id,
                    &ending.state.as_str(),
                    &ending.reason,
                    &unix(ending.at),
                ],
            )
            .map_err(pg("end a signing job"))?;
        Ok(changed == 1)
    }

    fn delete_finished(&mut self, id: &str) -> Result<bool, Error> {
        let changed = self
            .client
            .execute(
                "DELETE FROM jobs WHERE id = $1 AND state <> 'pending'",
                &[&id],
            )
            .map_err(pg("delete a signing job"))?;
        Ok(changed == 1)
    }

    fn purge_finished(&mut self, before: OffsetDateTime) -> Result<u64, Error> {
        self.client
            .execute(
                "DELETE FROM jobs WHERE state <> 'pending' AND finished_at < $1",
                &[&unix(before)],
            )
            .map_err(pg("delete old signing jobs"))
    }
}

/// A job row (the columns of [`COLUMNS`]) with `document`.
fn job_row(r: &Row, document: Vec<u8>) -> Result<Job, Error> {
    let state: String = r.get(8);
    let finished: Option<i64> = r.get(12);
    Ok(Job {
        new: NewJob {
            id: r.get(0),
            credential: r.get(1),
            unit: r.get(2),
            key_name: r.get(3),
            options: r.get(4),
            message: r.get(5),
            digest: r.get(6),
            transaction_id: r.get(7),
            created_at: from_unix(r.get(10)),
            deadline: from_unix(r.get(11)),
            document,
        },
        state: JobState::parse(&state)?,
        reason: r.get(9),
        finished_at: finished.map(from_unix),
        result: None,
    })
}
