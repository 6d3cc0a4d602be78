//! Signing jobs: signatures waiting for a holder to confirm on a phone, kept in the ledger's
//! database so that they survive a restart and are seen by every node sharing it.
//!
//! A job holds what is needed to make its signature again exactly (the document, the options,
//! the fixed signing time) and the digest the holder was asked to confirm; never a half-signed
//! document. Its completion is one transaction with the ledger's `signed` event and the audit
//! entry, conditional on the job still being pending: a job is completed at most once, by one
//! node, even when two poll it or a node dies half-way ([`JobStore::complete`]).
//!
//! What it refuses: a new job beyond the configured count of pending jobs or bytes held
//! ([`Admission::Full`]), and any state change of a job that is no longer pending.

use time::OffsetDateTime;

use super::Error;
use super::event::{Event, Recorded};

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// The holder has not answered yet.
    Pending,
    /// Signed: the result is held until fetched.
    Done,
    /// The holder (or the provider) refused.
    Refused,
    /// Nobody answered before the deadline.
    Expired,
    /// The provider answered with a signature that does not verify, or the document could not
    /// be signed again as it was: no document.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Done => "done",
            JobState::Refused => "refused",
            JobState::Expired => "expired",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<JobState, Error> {
        Ok(match text {
            "pending" => JobState::Pending,
            "done" => JobState::Done,
            "refused" => JobState::Refused,
            "expired" => JobState::Expired,
            "failed" => JobState::Failed,
            other => {
                return Err(Error::UnknownStoredValue {
                    column: "jobs.state",
                    value: other.to_owned(),
                });
            }
        })
    }
}

/// A job as it is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    /// Random and unguessable (128 bits, hex): the id is what `GET /v1/jobs/{id}` names.
    pub id: String,
    /// The API key that asked, and the unit of the signing key.
    pub credential: String,
    pub unit: String,
    /// The `[[serve.keys]]` name.
    pub key_name: String,
    pub document: Vec<u8>,
    /// What signs the document again exactly: JSON written and read by the service.
    pub options: String,
    /// The message signed (CMS signed attributes, XMLDSig `SignedInfo`) and its digest, which
    /// the holder confirms.
    pub message: Vec<u8>,
    pub digest: Vec<u8>,
    pub transaction_id: String,
    pub created_at: OffsetDateTime,
    pub deadline: OffsetDateTime,
}

/// A stored job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub new: NewJob,
    pub state: JobState,
    /// Why a job failed, refused or expired, for the log and the caller (no secret in it).
    pub reason: Option<String>,
    pub finished_at: Option<OffsetDateTime>,
    /// The signed document, when done.
    pub result: Option<Vec<u8>>,
}

/// The bounds on what jobs may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobBounds {
    pub max_pending: u64,
    /// Documents and results of every stored job together.
    pub max_bytes: u64,
}

/// Whether a new job was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    Stored,
    /// The bounds are reached: nothing stored.
    Full,
}

/// How a job ended, for [`JobStore::finish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ending {
    pub state: JobState,
    pub reason: String,
    pub at: OffsetDateTime,
}

/// What a completion recorded: the events' outcomes and the audit entries appended.
pub type Completed = (Vec<Recorded>, Vec<crate::audit::Entry>);

/// The job table, in both stores.
pub trait JobStore: Send {
    /// Stores `job` if the bounds allow, in one transaction with the count that checks them.
    fn create_job(&mut self, job: &NewJob, bounds: JobBounds) -> Result<Admission, Error>;

    /// Whether a job of `size` bytes would be admitted now: asked before the holder is, so
    /// that a full table does not send a confirmation to a phone for a job never stored
    /// ([`JobStore::create_job`] checks again, atomically).
    fn has_room(&mut self, size: u64, bounds: JobBounds) -> Result<bool, Error>;

    /// The job `id`, without its document (which only completion needs).
    fn job(&mut self, id: &str) -> Result<Option<Job>, Error>;

    /// Pending jobs, oldest first, at most `limit`, with their documents.
    fn pending_jobs(&mut self, limit: usize) -> Result<Vec<Job>, Error>;

    /// Marks a pending job done with `result`, and records `events` and `audit`, in one
    /// transaction. `None` (nothing written) when the job is no longer pending: another node or
    /// an earlier run completed or ended it.
    fn complete(
        &mut self,
        id: &str,
        result: &[u8],
        at: OffsetDateTime,
        events: &[Event],
        audit: &[crate::audit::Record],
    ) -> Result<Option<Completed>, Error>;

    /// Ends a pending job as refused, expired or failed; `false` when it was no longer pending.
    fn finish(&mut self, id: &str, ending: &Ending) -> Result<bool, Error>;

    /// Deletes a job that is no longer pending (its result was handed out); `false` when there
    /// is none or it is pending.
    fn delete_finished(&mut self, id: &str) -> Result<bool, Error>;

    /// Deletes jobs that ended before `before`; how many.
    fn purge_finished(&mut self, before: OffsetDateTime) -> Result<u64, Error>;
}

/// Whether a job of `size` bytes fits beside `pending` pending jobs and `bytes` held.
pub(crate) fn fits(pending: i64, bytes: i64, size: u64, bounds: JobBounds) -> bool {
    let pending = u64::try_from(pending).unwrap_or(0);
    let bytes = u64::try_from(bytes).unwrap_or(0);
    pending < bounds.max_pending && bytes.saturating_add(size) <= bounds.max_bytes
}
