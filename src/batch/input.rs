//! Where a batch's documents come from, and the limits on reading them: a folder walked
//! recursively, a zip archive (read in place, entry by entry, never extracted), a list file, or
//! what the service received in one request (a zip archive or documents, already in memory).
//!
//! Enumeration streams: a folder is walked one directory handle per level, a list is read line
//! by line, a zip archive's central directory is indexed once (bounded by
//! [`Limits::max_zip_entries`]). Reading happens on the workers, each with its own buffer.
//!
//! Zip bombs are bounded three ways (PKWARE APPNOTE 6.3.10 allows every one of these tricks): the
//! number of entries and the size of the central directory are checked from the end-of-central-
//! directory record before the directory is indexed; every entry stops inflating at its own limit
//! (the document limit, or [`Limits::max_zip_ratio`] times its compressed size); and the whole
//! archive stops after [`Limits::max_zip_total_bytes`]. Archives whose entries share compressed
//! data (overlapping entries, the "better zip bomb" construction) are refused whole.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;

use time::OffsetDateTime;
use zip::ZipArchive;

use super::{Error, Shard};

/// Largest document read, on disk or inflated from an archive: scanned dossiers of a few hundred
/// pages, the largest documents archives hold, run to 100–200 MB. Each worker holds at most one
/// document, so memory stays under `jobs ×` this.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// Entries in one zip archive: a province's documents of a year (a few hundred thousand) fit with
/// headroom. The entry index costs about 200 bytes an entry, so this bounds it near 200 MB.
pub const MAX_ZIP_ENTRIES: u64 = 1_000_000;

/// Central directory size: [`MAX_ZIP_ENTRIES`] entries of 46 fixed bytes plus a name of up to
/// ~200 bytes (a deep Vietnamese path in UTF-8). Bigger is padding meant to exhaust memory.
pub const MAX_ZIP_CENTRAL_DIRECTORY: u64 = 256 * 1024 * 1024;

/// Inflated bytes per compressed byte. PDFs barely compress (their streams are deflated already,
/// ≤ 2:1); XML compresses 10–30:1; deflate itself cannot exceed ~1032:1, which is what bombs use.
/// 200:1 admits every real document and stops a bomb entry after 1/5 of its payload at most.
pub const MAX_ZIP_RATIO: u64 = 200;

/// Entries inflating to at most this much are never refused on ratio: a tiny file of repeated
/// text can legitimately compress beyond the ratio, and this much wasted work is harmless.
pub const ZIP_RATIO_GRACE_BYTES: u64 = 1024 * 1024;

/// Bytes inflated from one archive in all: the ratio limit already bounds the output to 200× the
/// archive; this bounds the run (a TiB is ~20 minutes of hashing per core) so that a large
/// archive of small bombs cannot keep the batch busy for days. Bigger archives are split.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 1024 * 1024 * 1024 * 1024;

/// Folder nesting walked: archives are organised unit/year/month/…, a handful of levels; 64 stops
/// pathological nesting without refusing any real layout.
pub const MAX_FOLDER_DEPTH: usize = 64;

/// A worker's read buffer is kept between documents to avoid reallocating, unless a large
/// document grew it past this: then it is released, so one huge file does not pin memory.
const RETAINED_BUFFER_BYTES: usize = 64 * 1024 * 1024;

/// Documents handed to a worker in one message: one channel exchange, and the thread wake-ups it
/// costs, per chunk rather than per document (on 60 KB documents the exchanges cost about as
/// much as parsing them). Only names travel; a worker still reads one document at a time.
pub(crate) const TASK_CHUNK: usize = 16;

/// The limits of one batch; [`Limits::default`] holds the constants above.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_document_bytes: u64,
    pub max_zip_entries: u64,
    pub max_zip_central_directory: u64,
    pub max_zip_ratio: u64,
    pub max_zip_total_bytes: u64,
    pub max_folder_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: MAX_DOCUMENT_BYTES,
            max_zip_entries: MAX_ZIP_ENTRIES,
            max_zip_central_directory: MAX_ZIP_CENTRAL_DIRECTORY,
            max_zip_ratio: MAX_ZIP_RATIO,
            max_zip_total_bytes: MAX_ZIP_TOTAL_BYTES,
            max_folder_depth: MAX_FOLDER_DEPTH,
        }
    }
}

/// What a batch verifies: as the command line names it, or as an HTTP request brought it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A folder (walked recursively) or a zip archive; which one is decided when it is opened.
    Path(PathBuf),
    /// A file listing one document path per line (`@LIST`; `@-` reads standard input). Blank
    /// lines and lines starting with `#` are skipped; relative paths are relative to the
    /// current directory, as the shell that wrote the list saw them.
    List(PathBuf),
    /// A zip archive held in memory (an upload), read under the same limits as one on disk;
    /// `name` stands for its path in errors.
    Zip { name: PathBuf, bytes: Arc<[u8]> },
    /// Documents held in memory, each with its name.
    Documents(Arc<[Upload]>),
}

/// A document that arrived in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What [`Source::path`] names for documents held in memory.
const UPLOADED: &str = "(uploaded documents)";

impl Source {
    /// `@LIST` or a path; no I/O.
    pub fn parse(arg: &str) -> Source {
        match arg.strip_prefix('@') {
            Some(list) => Source::List(PathBuf::from(list)),
            None => Source::Path(PathBuf::from(arg)),
        }
    }

    /// Opens the source and reads no document: a folder that is not there, a list that cannot
    /// be read or an archive refused whole is known before a batch starts.
    pub fn check(&self, limits: &Limits) -> Result<(), Error> {
        open(self, limits).map(drop)
    }

    pub fn path(&self) -> &Path {
        match self {
            Source::Path(p) | Source::List(p) | Source::Zip { name: p, .. } => p,
            Source::Documents(_) => Path::new(UPLOADED),
        }
    }
}

/// One document to read.
pub(crate) struct Task {
    pub index: u64,
    pub name: String,
    what: What,
}

enum What {
    File(PathBuf),
    Entry(usize),
    Upload(usize),
    Refused(Error),
}

/// An opened source.
pub(crate) enum Opened {
    Folder(PathBuf),
    List(PathBuf),
    Zip {
        path: PathBuf,
        archive: ZipArchive<SharedFile>,
    },
    Documents(Arc<[Upload]>),
}

/// Opens `source`: checks a folder exists, or indexes an archive's central directory after
/// checking its declared size.
pub(crate) fn open(source: &Source, limits: &Limits) -> Result<Opened, Error> {
    let path = match source {
        Source::List(path) => {
            if path != Path::new("-") {
                File::open(path).map_err(|source| Error::List {
                    path: path.clone(),
                    source,
                })?;
            }
            return Ok(Opened::List(path.clone()));
        }
        Source::Documents(uploads) => return Ok(Opened::Documents(Arc::clone(uploads))),
        Source::Zip { name, bytes } => {
            return open_zip(name, Shared::Memory(Arc::clone(bytes)), limits);
        }
        Source::Path(path) => path,
    };
    let metadata = std::fs::metadata(path).map_err(|e| Error::Source {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if metadata.is_dir() {
        return Ok(Opened::Folder(path.clone()));
    }
    let file = File::open(path).map_err(|e| Error::Source {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    open_zip(path, Shared::File(Arc::new(file)), limits)
}

/// Indexes an archive's central directory after checking its declared size and entry count.
fn open_zip(path: &Path, data: Shared, limits: &Limits) -> Result<Opened, Error> {
    let archive_error = |reason: String| Error::Archive {
        path: path.to_owned(),
        reason,
    };
    let len = data.len().map_err(|e| Error::Source {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if let Some(declared) = declared_directory(&data, len) {
        if declared.entries > limits.max_zip_entries {
            return Err(archive_error(format!(
                "{} entries declared, more than the {} a batch reads",
                declared.entries, limits.max_zip_entries
            )));
        }
        if declared.directory_bytes > limits.max_zip_central_directory {
            return Err(archive_error(format!(
                "a {}-byte central directory, more than the {}-byte limit",
                declared.directory_bytes, limits.max_zip_central_directory
            )));
        }
    }
    let shared = SharedFile {
        data,
        position: 0,
        len,
    };
    let mut archive = ZipArchive::new(shared).map_err(|e| Error::Source {
        path: path.to_owned(),
        reason: format!("not a zip archive ({e})"),
    })?;
    if archive.len() as u64 > limits.max_zip_entries {
        return Err(archive_error(format!(
            "{} entries, more than the {} a batch reads",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    match archive.has_overlapping_files() {
        Ok(false) => {}
        Ok(true) => {
            return Err(archive_error(
                "entries share compressed data (overlapping entries): a zip bomb construction"
                    .to_owned(),
            ));
        }
        Err(e) => return Err(archive_error(e.to_string())),
    }
    Ok(Opened::Zip {
        path: path.to_owned(),
        archive,
    })
}

impl Opened {
    /// Sends a task per document, [`TASK_CHUNK`] to a message; stops early when the workers are
    /// gone. `Err` only when the list itself cannot be read.
    pub(crate) fn enumerate(
        &self,
        limits: &Limits,
        shard: Shard,
        tasks: &SyncSender<Vec<Task>>,
        queued: &AtomicU64,
        stop: &AtomicBool,
    ) -> Result<(), Error> {
        let chunk = RefCell::new(Vec::with_capacity(TASK_CHUNK));
        let flush = || -> bool {
            let full = std::mem::take(&mut *chunk.borrow_mut());
            full.is_empty() || tasks.send(full).is_ok()
        };
        // Names typed or piped one by one (`@-`) go to a worker as they come, not when a chunk
        // fills: a reader waiting on standard input must not hold documents back.
        let interactive = matches!(self, Opened::List(list) if list == Path::new("-"));
        let send = |name: String, what: What| -> bool {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            if !shard.holds(&name) {
                return true;
            }
            let index = queued.fetch_add(1, Ordering::Relaxed);
            let full = {
                let mut chunk = chunk.borrow_mut();
                chunk.push(Task { index, name, what });
                chunk.len() >= TASK_CHUNK
            };
            if full || interactive {
                return flush();
            }
            true
        };
        let result = self.send_each(limits, &send);
        if !stop.load(Ordering::Relaxed) {
            flush();
        }
        result
    }

    fn send_each(&self, limits: &Limits, send: &dyn Fn(String, What) -> bool) -> Result<(), Error> {
        match self {
            Opened::Folder(root) => walk(root, limits.max_folder_depth, send),
            Opened::List(list) => {
                let list_error = |source| Error::List {
                    path: list.clone(),
                    source,
                };
                let reader: Box<dyn BufRead> = if list == Path::new("-") {
                    Box::new(BufReader::new(std::io::stdin()))
                } else {
                    Box::new(BufReader::new(File::open(list).map_err(list_error)?))
                };
                for line in reader.lines() {
                    let line = line.map_err(list_error)?;
                    let line = line.trim_end_matches('\r');
                    if line.trim().is_empty() || line.starts_with('#') {
                        continue;
                    }
                    if !send(line.to_owned(), What::File(PathBuf::from(line))) {
                        break;
                    }
                }
                Ok(())
            }
            Opened::Zip { archive, .. } => {
                for index in 0..archive.len() {
                    let (name, is_dir) = entry_name(archive, index);
                    if is_dir {
                        continue;
                    }
                    if !send(name, What::Entry(index)) {
                        break;
                    }
                }
                Ok(())
            }
            Opened::Documents(uploads) => {
                for (index, upload) in uploads.iter().enumerate() {
                    if !send(upload.name.clone(), What::Upload(index)) {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Counts the documents into `counted` as they are found, without reading any: the
    /// same entries [`Opened::enumerate`] sends (give or take entries that change meanwhile).
    /// Standard input cannot be read twice, so an `@-` list is not counted.
    pub(crate) fn count(
        &self,
        limits: &Limits,
        shard: Shard,
        counted: &AtomicU64,
        stop: &AtomicBool,
    ) {
        let add = |name: String, _: What| -> bool {
            if shard.holds(&name) {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            !stop.load(Ordering::Relaxed)
        };
        match self {
            Opened::Folder(root) => {
                let _ = walk(root, limits.max_folder_depth, &add);
            }
            Opened::List(list) if list != Path::new("-") => {
                let Ok(file) = File::open(list) else { return };
                for line in BufReader::new(file).lines() {
                    let Ok(line) = line else { return };
                    let line = line.trim_end_matches('\r');
                    if !line.trim().is_empty()
                        && !line.starts_with('#')
                        && !add(line.to_owned(), What::Entry(0))
                    {
                        return;
                    }
                }
            }
            Opened::List(_) => {}
            Opened::Documents(uploads) => {
                for upload in uploads.iter() {
                    add(upload.name.clone(), What::Entry(0));
                }
            }
            Opened::Zip { archive, .. } => {
                for index in 0..archive.len() {
                    let (name, is_dir) = entry_name(archive, index);
                    if !is_dir && !add(name, What::Entry(index)) {
                        return;
                    }
                }
            }
        }
    }

    /// A reader for one worker.
    pub(crate) fn reader<'a>(&'a self, limits: &'a Limits, total: &'a AtomicU64) -> Reader<'a> {
        Reader {
            opened: self,
            zip: match self {
                Opened::Zip { archive, .. } => Some(archive.clone()),
                _ => None,
            },
            limits,
            total,
            buffer: Vec::new(),
        }
    }
}

/// A zip entry's name (or `entry #N` when it cannot be read) and whether it is a folder.
fn entry_name(archive: &ZipArchive<SharedFile>, index: usize) -> (String, bool) {
    match archive.by_index_data(index) {
        Ok(entry) => (
            entry
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_else(|_| format!("entry #{index}")),
            entry.is_dir(),
        ),
        Err(_) => (format!("entry #{index}"), false),
    }
}

/// Depth-first walk holding one directory handle per level, not the names of a whole folder:
/// a flat folder of a million documents costs no more memory than one of ten.
fn walk(root: &Path, max_depth: usize, send: &dyn Fn(String, What) -> bool) -> Result<(), Error> {
    let relative = |path: &Path| -> String {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    };
    let refuse = |path: &Path, error: Error| send(relative(path), What::Refused(error));
    let first = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(source) => {
            return Err(Error::Source {
                path: root.to_owned(),
                reason: source.to_string(),
            });
        }
    };
    let mut stack = vec![(root.to_owned(), first)];
    while let Some((dir, entries)) = stack.last_mut() {
        let Some(entry) = entries.next() else {
            stack.pop();
            continue;
        };
        let entry = match entry {
            Ok(entry) => entry,
            Err(source) => {
                let path = dir.clone();
                stack.pop();
                if !refuse(
                    &path,
                    Error::Read {
                        path: path.clone(),
                        source,
                    },
                ) {
                    return Ok(());
                }
                continue;
            }
        };
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir {
            // Files, and symbolic links and special files too: the worker reads what a link
            // points to and refuses what is not a regular file, each with its own result.
            if !send(relative(&path), What::File(path)) {
                return Ok(());
            }
            continue;
        }
        if stack.len() >= max_depth {
            let error = Error::TooDeep {
                path: path.clone(),
                limit: max_depth,
            };
            if !refuse(&path, error) {
                return Ok(());
            }
            continue;
        }
        match std::fs::read_dir(&path) {
            Ok(entries) => stack.push((path, entries)),
            Err(source) => {
                if !refuse(
                    &path,
                    Error::Read {
                        path: path.clone(),
                        source,
                    },
                ) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Reads documents for one worker, reusing one buffer.
pub(crate) struct Reader<'a> {
    opened: &'a Opened,
    zip: Option<ZipArchive<SharedFile>>,
    limits: &'a Limits,
    total: &'a AtomicU64,
    buffer: Vec<u8>,
}

impl Reader<'_> {
    /// The document's bytes and when it was last modified (file time, or the entry's time in
    /// the archive).
    pub(crate) fn read(&mut self, task: Task) -> Result<(&[u8], Option<OffsetDateTime>), Error> {
        if self.buffer.capacity() > RETAINED_BUFFER_BYTES {
            self.buffer = Vec::new();
        }
        self.buffer.clear();
        match task.what {
            What::Refused(error) => Err(error),
            What::File(path) => {
                let modified = read_file(&path, self.limits.max_document_bytes, &mut self.buffer)?;
                Ok((&self.buffer, modified))
            }
            What::Upload(index) => {
                let Opened::Documents(uploads) = self.opened else {
                    return Err(Error::Panicked {
                        name: task.name,
                        reason: "an upload task outside a batch of uploads".to_owned(),
                    });
                };
                let upload = &uploads[index];
                let size = upload.bytes.len() as u64;
                if size > self.limits.max_document_bytes {
                    return Err(Error::TooLarge {
                        path: PathBuf::from(&upload.name),
                        size,
                        limit: self.limits.max_document_bytes,
                    });
                }
                Ok((&upload.bytes, None))
            }
            What::Entry(index) => {
                let archive_path = match self.opened {
                    Opened::Zip { path, .. } => path.clone(),
                    _ => PathBuf::new(),
                };
                let Some(zip) = self.zip.as_mut() else {
                    return Err(Error::Entry {
                        archive: archive_path,
                        entry: task.name,
                        reason: "no archive is open".to_owned(),
                    });
                };
                let modified = read_entry(
                    zip,
                    index,
                    &archive_path,
                    &task.name,
                    self.limits,
                    self.total,
                    &mut self.buffer,
                )?;
                Ok((&self.buffer, modified))
            }
        }
    }
}

fn read_file(
    path: &Path,
    limit: u64,
    buffer: &mut Vec<u8>,
) -> Result<Option<OffsetDateTime>, Error> {
    let read_error = |source| Error::Read {
        path: path.to_owned(),
        source,
    };
    // Follows symbolic links: a dangling one is a read error, one to a folder is not a file.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    let kind = metadata.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt;
        return Err(Error::NotAFile {
            path: path.to_owned(),
            kind: if kind.is_dir() {
                "a folder"
            } else if kind.is_fifo() {
                "a named pipe"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_block_device() || kind.is_char_device() {
                "a device"
            } else {
                "something else"
            },
        });
    }
    if metadata.len() > limit {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
            limit,
        });
    }
    let file = File::open(path).map_err(read_error)?;
    buffer.reserve(usize::try_from(metadata.len()).unwrap_or(0));
    // The file may grow between stat and read: never read past the limit.
    file.take(limit + 1)
        .read_to_end(buffer)
        .map_err(read_error)?;
    if buffer.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: buffer.len() as u64,
            limit,
        });
    }
    Ok(metadata.modified().ok().map(OffsetDateTime::from))
}

fn read_entry(
    zip: &mut ZipArchive<SharedFile>,
    index: usize,
    archive: &Path,
    name: &str,
    limits: &Limits,
    total: &AtomicU64,
    buffer: &mut Vec<u8>,
) -> Result<Option<OffsetDateTime>, Error> {
    let entry_error = |reason: String| Error::Entry {
        archive: archive.to_owned(),
        entry: name.to_owned(),
        reason,
    };
    let bomb = |reason: String| Error::Bomb {
        archive: archive.to_owned(),
        entry: name.to_owned(),
        reason,
    };
    if total.load(Ordering::Relaxed) > limits.max_zip_total_bytes {
        return Err(bomb(format!(
            "the archive has already inflated to more than {} bytes in all",
            limits.max_zip_total_bytes
        )));
    }
    let file = zip
        .by_index(index)
        .map_err(|e| entry_error(e.to_string()))?;
    if file.encrypted() {
        return Err(entry_error("the entry is encrypted".to_owned()));
    }
    let modified = file.last_modified().and_then(zip_time);
    let compressed = file.compressed_size();
    let declared = file.size();
    if declared > limits.max_document_bytes {
        return Err(Error::TooLarge {
            path: archive.join(name),
            size: declared,
            limit: limits.max_document_bytes,
        });
    }
    let by_ratio = compressed
        .saturating_mul(limits.max_zip_ratio)
        .max(ZIP_RATIO_GRACE_BYTES);
    let cap = limits.max_document_bytes.min(by_ratio);
    buffer.reserve(usize::try_from(declared.min(cap)).unwrap_or(0));
    // The declared size may lie: the cap holds whatever the stream inflates to.
    let read = file.take(cap + 1).read_to_end(buffer);
    total.fetch_add(buffer.len() as u64, Ordering::Relaxed);
    read.map_err(|e| entry_error(e.to_string()))?;
    let inflated = buffer.len() as u64;
    if inflated > cap {
        buffer.clear();
        return Err(if cap == by_ratio {
            bomb(format!(
                "{compressed} compressed bytes inflate past {cap} (more than {}:1)",
                limits.max_zip_ratio
            ))
        } else {
            Error::TooLarge {
                path: archive.join(name),
                size: inflated,
                limit: limits.max_document_bytes,
            }
        });
    }
    if inflated != declared {
        return Err(entry_error(format!(
            "inflates to {inflated} bytes but its header says {declared}"
        )));
    }
    Ok(modified)
}

/// An entry's MS-DOS time (APPNOTE 4.4.6: local time, no zone), read as Vietnam time: archives
/// audited here are made here.
fn zip_time(t: zip::DateTime) -> Option<OffsetDateTime> {
    let date = time::Date::from_calendar_date(
        i32::from(t.year()),
        time::Month::try_from(t.month()).ok()?,
        t.day(),
    )
    .ok()?;
    let clock = time::Time::from_hms(t.hour(), t.minute(), t.second()).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(crate::VIETNAM))
}

/// The entry count and central directory size an archive declares in its end-of-central-
/// directory record (APPNOTE 4.3.16, and 4.3.14 for ZIP64); `None` when there is no record
/// (then the zip reader reports what is wrong).
struct Declared {
    entries: u64,
    directory_bytes: u64,
}

fn declared_directory(file: &Shared, len: u64) -> Option<Declared> {
    // The record is 22 bytes plus a comment of at most 65,535.
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
    const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0u8; usize::try_from(tail_len).ok()?];
    file.read_exact_at(&mut tail, len - tail_len).ok()?;
    let at = (0..tail.len().checked_sub(21)?)
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)?;
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    let u32_at =
        |b: &[u8], i: usize| u64::from(u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]));
    let entries = u16_at(&tail, at + 10);
    let directory_bytes = u32_at(&tail, at + 12);
    if entries != 0xffff && directory_bytes != 0xffff_ffff {
        return Some(Declared {
            entries,
            directory_bytes,
        });
    }
    // ZIP64: the locator sits just before the record and points at the ZIP64 record.
    let locator = at.checked_sub(20)?;
    if tail[locator..locator + 4] != LOCATOR {
        return Some(Declared {
            entries,
            directory_bytes,
        });
    }
    let offset = u64::from_le_bytes(tail[locator + 8..locator + 16].try_into().ok()?);
    let mut record = [0u8; 56];
    file.read_exact_at(&mut record, offset).ok()?;
    if record[..4] != EOCD64 {
        return None;
    }
    Some(Declared {
        entries: u64::from_le_bytes(record[32..40].try_into().ok()?),
        directory_bytes: u64::from_le_bytes(record[40..48].try_into().ok()?),
    })
}

/// An archive's bytes, on disk or in memory, read by position.
#[derive(Clone, Debug)]
enum Shared {
    File(Arc<File>),
    Memory(Arc<[u8]>),
}

impl Shared {
    fn len(&self) -> std::io::Result<u64> {
        match self {
            Shared::File(file) => Ok(file.metadata()?.len()),
            Shared::Memory(bytes) => Ok(bytes.len() as u64),
        }
    }

    fn read_at(&self, out: &mut [u8], offset: u64) -> std::io::Result<usize> {
        match self {
            Shared::File(file) => file.read_at(out, offset),
            Shared::Memory(bytes) => {
                let start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
                let n = out.len().min(bytes.len() - start);
                out[..n].copy_from_slice(&bytes[start..start + n]);
                Ok(n)
            }
        }
    }

    fn read_exact_at(&self, mut out: &mut [u8], mut offset: u64) -> std::io::Result<()> {
        while !out.is_empty() {
            match self.read_at(out, offset) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    out = &mut out[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// An archive read by position, so that every worker's clone of it reads without sharing a
/// cursor (and without reopening the file).
#[derive(Clone, Debug)]
pub(crate) struct SharedFile {
    data: Shared,
    position: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read_at(out, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        match target {
            Some(n) => {
                self.position = n;
                Ok(n)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the archive",
            )),
        }
    }
}
