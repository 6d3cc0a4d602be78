//! Group commit: every signature's ledger event and audit entry go through one thread that
//! owns one ledger connection and commits whatever has queued up in a single transaction.
//!
//! Why: a commit costs an fsync (SQLite, `synchronous=FULL`) or a few round trips (PostgreSQL),
//! and every audit append serialises on the chain's head. One transaction per signature would
//! make the ledger, not the HSM, the limit; one per group keeps the cost per signature small
//! while a request is still answered only after its own event is committed ("acknowledged"
//! means durable). The ledger's own guidance is the same (docs/manual/ledger.md).
//!
//! A group that fails is retried job by job, so one bad event (an unknown unit) fails only its
//! own request. The channel is bounded: when the database falls behind, handlers wait to enqueue
//! and the queues in front of the HSM fill and answer 503, so memory stays bounded.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::metrics::Metrics;
use super::state::StoreConfig;
use crate::audit;
use crate::ledger::{self, Event, Reassignment, Recorded, Store};

/// Jobs waiting for the recorder at most; beyond this, senders wait. 1024 jobs are a few MB.
const CHANNEL: usize = 1024;

/// Jobs committed in one transaction at most: large enough to absorb a burst from every
/// worker on two nodes, small enough that one transaction stays short (milliseconds).
const GROUP: usize = 256;

/// Pause before reopening a connection that failed, so a database that is down is not spun on.
const REOPEN_PAUSE: Duration = Duration::from_millis(200);

type Outcome = Result<(Vec<Recorded>, Vec<audit::Entry>), ledger::Error>;

struct Job {
    events: Vec<Event>,
    audit: Vec<audit::Record>,
    reassignment: Reassignment,
    reply: oneshot::Sender<Outcome>,
}

/// The handle requests enqueue through.
pub struct Recorder {
    sender: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    pub fn start(config: StoreConfig, metrics: Arc<Metrics>) -> std::io::Result<Recorder> {
        let (sender, receiver) = mpsc::channel(CHANNEL);
        let thread = std::thread::Builder::new()
            .name("kyso-ledger".to_owned())
            .spawn(move || run(config, receiver, &metrics))?;
        Ok(Recorder {
            sender: std::sync::Mutex::new(Some(sender)),
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Records `events` and appends `audit`, returning once they are committed. A document
    /// stays with the unit it was stored for.
    pub async fn record(
        &self,
        events: Vec<Event>,
        audit: Vec<audit::Record>,
    ) -> Result<Outcome, Closed> {
        self.record_as(events, audit, Reassignment::Refused).await
    }

    /// [`Recorder::record`] with the rule for documents of another unit spelt out (an
    /// administrator's correction may move one).
    pub async fn record_as(
        &self,
        events: Vec<Event>,
        audit: Vec<audit::Record>,
        reassignment: Reassignment,
    ) -> Result<Outcome, Closed> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(Closed)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job {
                events,
                audit,
                reassignment,
                reply,
            })
            .await
            .map_err(|_| Closed)?;
        answer.await.map_err(|_| Closed)
    }

    /// Stops taking jobs, commits those queued, and waits for the thread to finish.
    pub fn close(&self) {
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

/// The recorder has stopped (the service is shutting down).
#[derive(Debug)]
pub struct Closed;

fn run(config: StoreConfig, mut receiver: mpsc::Receiver<Job>, metrics: &Metrics) {
    let mut store: Option<Box<dyn Store>> = None;
    while let Some(first) = receiver.blocking_recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let connection = match store.take() {
            Some(s) => Ok(s),
            None => config.open(),
        };
        let mut connection = match connection {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, jobs = group.len(), "ledger unavailable: requests fail");
                for job in group {
                    let _ = job.reply.send(Err(ledger::Error::PostgresConfig {
                        reason: "the ledger connection could not be opened".to_owned(),
                    }));
                }
                std::thread::sleep(REOPEN_PAUSE);
                continue;
            }
        };
        let started = Instant::now();
        let healthy = commit(connection.as_mut(), group, metrics);
        tracing::debug!(
            took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "ledger group committed"
        );
        if healthy {
            store = Some(connection);
        }
    }
}

/// Commits a group; returns whether the connection is still good.
fn commit(store: &mut dyn Store, group: Vec<Job>, metrics: &Metrics) -> bool {
    metrics.ledger_group(group.len());
    // A correction that may move documents is rare (an administrator's) and is committed on its
    // own, so that it lends its rule to no other request.
    let shared_rule = group
        .iter()
        .all(|j| j.reassignment == Reassignment::Refused);
    if group.len() > 1 && shared_rule {
        let events: Vec<Event> = group
            .iter()
            .flat_map(|j| j.events.iter().cloned())
            .collect();
        let records: Vec<audit::Record> =
            group.iter().flat_map(|j| j.audit.iter().cloned()).collect();
        match store.record_audited(&events, &records) {
            Ok((outcomes, entries)) => {
                let (mut outcomes, mut entries) = (outcomes.into_iter(), entries.into_iter());
                for job in group {
                    let mine: Vec<Recorded> = outcomes.by_ref().take(job.events.len()).collect();
                    let audit: Vec<audit::Entry> = entries.by_ref().take(job.audit.len()).collect();
                    let _ = job.reply.send(Ok((mine, audit)));
                }
                return true;
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = group.len(), "group commit failed; committing its requests one by one");
            }
        }
    }
    let mut healthy = true;
    for job in group {
        let result = store.record_events(&job.events, &job.audit, job.reassignment);
        if matches!(
            result,
            Err(ledger::Error::Postgres { .. } | ledger::Error::Sqlite { .. })
        ) {
            healthy = false;
        }
        let _ = job.reply.send(result);
    }
    healthy
}
