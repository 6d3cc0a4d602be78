//! Batch verification: a folder (walked recursively), a zip archive or a list of files in; one
//! verdict per document out, streamed as each finishes.
//!
//! What it owns: enumerating the inputs without holding them all ([`Source`]), a bounded pool of
//! worker threads sharing one [`Verifier`] (and so its caches: parsed certificates, signature
//! results, revocation evidence), the limits that keep hostile inputs from exhausting memory or
//! time ([`Limits`]: document size, zip entry count, total and ratio), and the per-document
//! outcome ([`Item`]). Memory stays flat: at most `2 × jobs` chunks of document names are
//! queued, each worker reads one document at a time, and results go to the caller's sink as
//! they finish (a worker hands them over a chunk at a time, and never holds one longer than
//! [`RESULT_DELAY`]), never into a whole-batch list.
//!
//! What it refuses: to let one document stop the run. A file that cannot be read, is too large,
//! is a zip bomb entry, or makes the verifier panic gets its own [`Outcome::Failed`], and the
//! other documents go on. Only a source that cannot be opened at all (no such folder, a list
//! that cannot be read, an archive whose directory is hostile) is an [`Error`] of the whole run.
//!
//! Verdicts are exactly those of [`Verifier::verify`] on the same bytes (ETSI EN 319 102-1):
//! the batch adds no judgement of its own, and a cache never changes a verdict.

pub mod audit;
#[cfg(feature = "test-support")]
pub mod corpus;
mod input;
mod shard;
pub mod snapshot;
mod summary;

use std::num::NonZeroUsize;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::verify::{DocumentReport, Verifier};

pub use input::{Limits, Source, Upload};
pub use shard::{Shard, ShardError};
pub use summary::{NO_SIGNER, NOT_READ, Summary, UnitTally, peak_memory, signer_unit, verdict_key};

/// Longest a worker keeps a finished result while it verifies the rest of its chunk of
/// documents: results go back a chunk per message (one wake-up of the caller's thread per chunk,
/// not per document), and a chunk of large documents still reports as it goes.
pub const RESULT_DELAY: Duration = Duration::from_millis(50);

/// Why a batch, or one of its documents, could not be handled. Every variant names the file (and
/// the archive entry) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: not a folder, a zip archive or an @list: {reason}", path.display())]
    Source { path: PathBuf, reason: String },
    #[error("reading the list {}: {source}", path.display())]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("zip archive {}: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("starting a worker thread: {source}")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a regular file but {kind}", path.display())]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{}: {size} bytes, more than the {limit}-byte limit for one document", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{}: folders nested deeper than {limit} levels are not walked", path.display())]
    TooDeep { path: PathBuf, limit: usize },
    #[error("{}, entry {entry}: {reason}", archive.display())]
    Entry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{}, entry {entry}: refused as a zip bomb: {reason}", archive.display())]
    Bomb {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error(
        "{name}: the verifier failed on this document (a kyso bug; please report it): {reason}"
    )]
    Panicked { name: String, reason: String },
}

/// One document's outcome.
#[derive(Debug)]
pub struct Item {
    /// Position in the order the documents were found (0-based).
    pub index: u64,
    /// Path relative to the folder, the archive entry name, or the list line as written.
    pub name: String,
    /// Bytes read.
    pub size: u64,
    /// Reading plus verifying.
    pub elapsed: Duration,
    /// When the file (or archive entry) was last modified, if known.
    pub modified: Option<OffsetDateTime>,
    pub outcome: Outcome,
}

/// A verdict, or why there is none.
#[derive(Debug)]
pub enum Outcome {
    Verified(Box<DocumentReport>),
    Failed(Error),
}

impl Item {
    /// Whether the document was read and every signature on it is TOTAL-PASSED.
    pub fn passed(&self) -> bool {
        matches!(&self.outcome, Outcome::Verified(report) if report.all_passed())
    }

    pub fn report(&self) -> Option<&DocumentReport> {
        match &self.outcome {
            Outcome::Verified(report) => Some(report),
            Outcome::Failed(_) => None,
        }
    }

    /// The line `--json-lines` writes: `{"file", "index", "size", "elapsed_ms", "report"}`, or
    /// `"error"` in place of `"report"`. Lines come in completion order; `index` is the input
    /// order.
    pub fn to_json(&self) -> serde_json::Value {
        let mut line = serde_json::json!({
            "file": self.name,
            "index": self.index,
            "size": self.size,
            "elapsed_ms": (self.elapsed.as_secs_f64() * 1e6).round() / 1e3,
        });
        match &self.outcome {
            Outcome::Verified(report) => line["report"] = serde_json::json!(report),
            Outcome::Failed(e) => line["error"] = serde_json::Value::String(e.to_string()),
        }
        line
    }
}

/// A batch run: one shared verifier, a number of worker threads, limits.
pub struct Batch<'v> {
    verifier: &'v Verifier,
    jobs: NonZeroUsize,
    limits: Limits,
    shard: Shard,
    queued: AtomicU64,
    counted: AtomicU64,
}

impl<'v> Batch<'v> {
    /// A batch on `jobs` worker threads (the CLI's default: one per core).
    pub fn new(verifier: &'v Verifier, jobs: NonZeroUsize) -> Batch<'v> {
        Batch {
            verifier,
            jobs,
            limits: Limits::default(),
            shard: Shard::WHOLE,
            queued: AtomicU64::new(0),
            counted: AtomicU64::new(0),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Batch<'v> {
        self.limits = limits;
        self
    }

    /// Only the documents of `shard` ([`Shard::holds`] on their names): the others are not read.
    pub fn with_shard(mut self, shard: Shard) -> Batch<'v> {
        self.shard = shard;
        self
    }

    /// Documents handed to the workers so far.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many documents the batch holds, as far as known: the length of a progress bar. The
    /// workers' queue is kept short, so a separate pass counts ahead of it (directory entries,
    /// list lines or archive entries only; nothing is read), and the figure grows until that
    /// pass is done.
    pub fn expected(&self) -> u64 {
        self.counted
            .load(Ordering::Relaxed)
            .max(self.queued.load(Ordering::Relaxed))
    }

    /// Verifies every document of `source`, handing each [`Item`] to `sink` on the calling thread
    /// as soon as it is done (in completion order, not input order). Returns how many documents
    /// there were. `Err` only when the source itself cannot be read; then the items already
    /// handed over stand.
    pub fn run(&self, source: &Source, mut sink: impl FnMut(Item)) -> Result<u64, Error> {
        self.run_until(source, |item| {
            sink(item);
            ControlFlow::Continue(())
        })
    }

    /// [`Batch::run`], stopped early when `sink` says [`ControlFlow::Break`] (a client that went
    /// away): no further document is read, and those in flight are dropped. Returns how many
    /// documents were handed to `sink`.
    pub fn run_until(
        &self,
        source: &Source,
        mut sink: impl FnMut(Item) -> ControlFlow<()>,
    ) -> Result<u64, Error> {
        let opened = input::open(source, &self.limits)?;
        let jobs = self.jobs.get();
        // Two chunks per worker: a worker never waits for the walker, and no more than this
        // many chunks of names (and of results) exist at once besides those being verified.
        let depth = 2 * jobs;
        let total_decompressed = AtomicU64::new(0);
        // Set when the caller's side is gone (the sink panicked): the walker stops, and the
        // workers drain what is queued so that the walker is never left blocked on a full queue.
        let stop = AtomicBool::new(false);
        let (task_tx, task_rx) = sync_channel::<Vec<input::Task>>(depth);
        let task_rx = Mutex::new(task_rx);
        let next_task = || {
            let rx = task_rx.lock().unwrap_or_else(PoisonError::into_inner);
            rx.recv().ok()
        };
        std::thread::scope(|scope| {
            let (item_tx, item_rx) = sync_channel::<Vec<Item>>(depth);
            let opened = &opened;
            let stop = &stop;
            let next_task = &next_task;
            // The count only feeds a progress bar: if its thread cannot start, the batch runs
            // without it.
            let _ = std::thread::Builder::new()
                .name("kyso-batch-count".into())
                .spawn_scoped(scope, move || {
                    opened.count(&self.limits, self.shard, &self.counted, stop)
                });
            let walker = std::thread::Builder::new()
                .name("kyso-batch-walk".into())
                .spawn_scoped(scope, move || {
                    opened.enumerate(&self.limits, self.shard, &task_tx, &self.queued, stop)
                })
                .map_err(|source| Error::Thread { source })?;
            for n in 0..jobs {
                let item_tx = item_tx.clone();
                let total = &total_decompressed;
                let spawned = std::thread::Builder::new()
                    .name(format!("kyso-batch-{n}"))
                    .spawn_scoped(scope, move || {
                        let mut reader = opened.reader(&self.limits, total);
                        let mut done: Vec<Item> = Vec::new();
                        let mut oldest = Instant::now();
                        // Hands over the finished results; false when the caller is gone (the
                        // queue is then drained, so that the walker is never left blocked).
                        let hand_over = |done: &mut Vec<Item>| {
                            if done.is_empty() || item_tx.send(std::mem::take(done)).is_ok() {
                                return true;
                            }
                            stop.store(true, Ordering::Relaxed);
                            while next_task().is_some() {}
                            false
                        };
                        'chunks: while let Some(chunk) = next_task() {
                            for task in chunk {
                                if stop.load(Ordering::Relaxed) {
                                    // The caller is gone: drain the queue without reading.
                                    continue;
                                }
                                if done.is_empty() {
                                    oldest = Instant::now();
                                }
                                done.push(self.one(&mut reader, task));
                                if oldest.elapsed() >= RESULT_DELAY && !hand_over(&mut done) {
                                    break 'chunks;
                                }
                            }
                            // Before waiting for more work, what is done goes to the caller.
                            if !hand_over(&mut done) {
                                break;
                            }
                        }
                    });
                if let Err(source) = spawned {
                    // The threads already started finish the batch; with none, report it,
                    // after stopping the walker (which may be waiting on a full queue that
                    // nobody would empty) so that the scope can end.
                    if n == 0 {
                        stop.store(true, Ordering::Relaxed);
                        while next_task().is_some() {}
                        return Err(Error::Thread { source });
                    }
                    break;
                }
            }
            drop(item_tx);
            let mut count = 0;
            'results: for items in &item_rx {
                for item in items {
                    count += 1;
                    if sink(item).is_break() {
                        // The walker stops at its next document; the workers find the channel
                        // closed and drain what is queued.
                        stop.store(true, Ordering::Relaxed);
                        break 'results;
                    }
                }
            }
            drop(item_rx);
            match walker.join() {
                Ok(result) => result.map(|()| count),
                Err(panic) => Err(Error::Panicked {
                    name: "(walking the inputs)".into(),
                    reason: panic_text(&panic),
                }),
            }
        })
    }

    /// Reads and verifies one document.
    fn one(&self, reader: &mut input::Reader<'_>, task: input::Task) -> Item {
        let start = Instant::now();
        let (index, name) = (task.index, task.name.clone());
        let mut modified = None;
        let (size, outcome) = match reader.read(task) {
            Ok((bytes, file_time)) => {
                modified = file_time;
                let size = bytes.len() as u64;
                // A verifier bug on a hostile file must not take the worker, and with it the
                // batch, down: the document gets its own failure and the run goes on.
                let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.verifier.verify(bytes)
                }));
                match verdict {
                    Ok(report) => (size, Outcome::Verified(Box::new(report))),
                    Err(panic) => (
                        size,
                        Outcome::Failed(Error::Panicked {
                            name: name.clone(),
                            reason: panic_text(&panic),
                        }),
                    ),
                }
            }
            Err(e) => (0, Outcome::Failed(e)),
        };
        Item {
            index,
            name,
            size,
            elapsed: start.elapsed(),
            modified,
            outcome,
        }
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
