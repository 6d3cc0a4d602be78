//! The job table in SQLite ([`crate::ledger::jobs`]). Every write is `BEGIN IMMEDIATE`, as the
//! events' are, so the count that admits a job and the state a completion checks cannot change
//! under it, whichever process shares the file.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use super::{SqliteStore, append_audit, record, sqlite_error};
use crate::audit;
use crate::ledger::event::Event;
use crate::ledger::jobs::fits;
use crate::ledger::jobs::{
    Admission, Completed, Ending, Job, JobBounds, JobState, JobStore, NewJob,
};
use crate::ledger::{Error, from_unix, unix};

const COLUMNS: &str = "id, credential, unit, key_name, options, message, digest, transaction_id, \
     state, reason, created_at, deadline, finished_at";

impl JobStore for SqliteStore {
    fn create_job(&mut self, job: &NewJob, bounds: JobBounds) -> Result<Admission, Error> {
        let fail = self.fail("create a signing job");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let (pending, bytes): (i64, i64) = tx
            .query_row(
                "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(bytes), 0) FROM jobs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(&fail)?;
        let size = job.document.len() as u64;
        if !fits(pending, bytes, size, bounds) {
            return Ok(Admission::Full);
        }
        tx.execute(
            "INSERT INTO jobs (id, credential, unit, key_name, document, options, message, digest,
                               transaction_id, state, created_at, deadline, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12)",
            params![
                job.id,
                job.credential,
                job.unit,
                job.key_name,
                job.document,
                job.options,
                job.message,
                job.digest,
                job.transaction_id,
                unix(job.created_at),
                unix(job.deadline),
                size as i64,
            ],
        )
        .map_err(&fail)?;
        tx.commit().map_err(&fail)?;
        Ok(Admission::Stored)
    }

    fn has_room(&mut self, size: u64, bounds: JobBounds) -> Result<bool, Error> {
        let (pending, bytes): (i64, i64) = self
            .conn
            .query_row(
                "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(bytes), 0) FROM jobs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.fail("count signing jobs"))?;
        Ok(fits(pending, bytes, size, bounds))
    }

    fn job(&mut self, id: &str) -> Result<Option<Job>, Error> {
        let fail = self.fail("read a signing job");
        let job = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS}, result FROM jobs WHERE id = ?1"),
                [id],
                |r| Ok((job_row(r, Vec::new())?, r.get::<_, Option<Vec<u8>>>(13)?)),
            )
            .optional()
            .map_err(&fail)?;
        job.map(|(job, result)| {
            let mut job = job?;
            job.result = result;
            Ok(job)
        })
        .transpose()
    }

    fn pending_jobs(&mut self, limit: usize) -> Result<Vec<Job>, Error> {
        let fail = self.fail("read pending signing jobs");
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS}, document FROM jobs WHERE state = 'pending'
                 ORDER BY created_at, id LIMIT ?1"
            ))
            .map_err(&fail)?;
        let rows = stmt
            .query_map([limit as i64], |r| job_row(r, r.get(13)?))
            .map_err(&fail)?;
        let mut jobs = Vec::new();
        for row in rows {
            jobs.push(row.map_err(&fail)??);
        }
        Ok(jobs)
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
        let signers = &self.signers;
        let path = self.path.clone();
        let fail = sqlite_error(&path, "complete a signing job");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let changed = tx
            .execute(
                "UPDATE jobs SET state = 'done', result = ?2, finished_at = ?3,
                                 bytes = ?4, document = x''
                 WHERE id = ?1 AND state = 'pending'",
                params![id, result, unix(at), result.len() as i64],
            )
            .map_err(&fail)?;
        if changed == 0 {
            return Ok(None);
        }
        let decision = record::record(&tx, signers, events, crate::ledger::Reassignment::Refused)
            .map_err(|e| e.at(&path))?;
        let entries = if audit.is_empty() {
            Vec::new()
        } else {
            append_audit(&tx, audit).map_err(&fail)?
        };
        tx.commit().map_err(&fail)?;
        Ok(Some((decision.outcomes, entries)))
    }

    fn finish(&mut self, id: &str, ending: &Ending) -> Result<bool, Error> {
        let changed = self
            .conn
            .execute(
                "UPDATE jobs SET state = ?2, reason = ?3, finished_at = ?4, document = x'', bytes = 0
                 WHERE id = ?1 AND state = 'pending'",
                params![id, ending.state.as_str(), ending.reason, unix(ending.at)],
            )
            .map_err(self.fail("end a signing job"))?;
        Ok(changed == 1)
    }

    fn delete_finished(&mut self, id: &str) -> Result<bool, Error> {
        let changed = self
            .conn
            .execute(
                "DELETE FROM jobs WHERE id = ?1 AND state <> 'pending'",
                [id],
            )
            .map_err(self.fail("delete a signing job"))?;
        Ok(changed == 1)
    }

    fn purge_finished(&mut self, before: OffsetDateTime) -> Result<u64, Error> {
        let changed = self
            .conn
            .execute(
                "DELETE FROM jobs WHERE state <> 'pending' AND finished_at < ?1",
                [unix(before)],
            )
            .map_err(self.fail("delete old signing jobs"))?;
        Ok(changed as u64)
    }
}

/// A job row (the columns of [`COLUMNS`]) with `document`.
fn job_row(r: &Row<'_>, document: Vec<u8>) -> rusqlite::Result<Result<Job, Error>> {
    let state: String = r.get(8)?;
    let finished: Option<i64> = r.get(12)?;
    let new = NewJob {
        id: r.get(0)?,
        credential: r.get(1)?,
        unit: r.get(2)?,
        key_name: r.get(3)?,
        options: r.get(4)?,
        message: r.get(5)?,
        digest: r.get(6)?,
        transaction_id: r.get(7)?,
        created_at: from_unix(r.get(10)?),
        deadline: from_unix(r.get(11)?),
        document,
    };
    let reason: Option<String> = r.get(9)?;
    Ok(JobState::parse(&state).map(|state| Job {
        new,
        state,
        reason,
        finished_at: finished.map(from_unix),
        result: None,
    }))
}
