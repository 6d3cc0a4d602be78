//! Audit mode: each verdict of a batch recorded in the signing-rate ledger, where the *verified*
//! rate of a unit comes from (documents on which kyso found a TOTAL-PASSED signature / documents
//! examined), next to the rate the DMS declared.
//!
//! Only the ledger's event API is used ([`Store::record`], [`Event::Issued`],
//! [`Event::Audited`]), so every idempotency rule is the ledger's: an audit is identified by
//! (document id, content SHA-256), and re-running a batch over the same files never adds a count.
//!
//! Two ways to name the documents of an archive ([`DocumentId`]):
//! - [`DocumentId::Content`] (default): the archive is all there is. Each distinct content is one
//!   document, `sha256:<hex>`; it is recorded as issued by the unit it is attributed to
//!   ([`Attribution`]: a unit map on folder or file-name prefix, or the signer certificate's
//!   `OU`/`O`), *declared* signed when it carries a signature (its own claim), then audited.
//! - [`DocumentId::FileName`]: files are named by the DMS's document ids (`STP-2022-00124.pdf`),
//!   whose issued events (unit, declaration) the DMS has recorded; only the audit is recorded,
//!   so nothing the DMS declared is overwritten.
//!
//! What it refuses: to guess. A document whose unit cannot be attributed, or which could not be
//! read (it has no content hash), is not recorded and is counted as such; the caller's exit code
//! says the audit is incomplete. Files that are neither PDF nor XML are not documents of a unit
//! and are not recorded either. Nor is a document whose id the ledger holds for another unit
//! (the same file in two units' folders, an attribution changed since the last run): recording it
//! would move the document, and its verified signature, to the other unit
//! ([`crate::ledger::ownership`]); it is counted and named instead, and the rest is recorded.
//!
//! edXML packages (QCVN 102:2016) are not the archive's own documents but what arrived from
//! other agencies: each is recorded as an incoming verification ([`Event::Verified`]) of the
//! receiving unit, with the package's verdict, so that the ledger's verified-incoming figures
//! come from what actually arrived. The receiving unit is the header's `To/OrganId`, mapped to
//! a unit code by the unit map (or equal to one); a package naming several receivers of the
//! ledger is recorded for the one its folder names, and not at all when no folder says which
//! (kyso does not guess who received it). The document id is the header's `DocumentId` (the
//! sender's id, which every receiver's copy shares), else `sha256:` of the package; the sender
//! is `From/OrganId`, else its name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;

use super::Item;
use crate::ledger::{self, Declared, Event, Recorded, Store};
use crate::verify::{DocumentReport, Indication};

/// Events written per transaction: with SQLite's `synchronous=FULL` each transaction costs one
/// fsync, so a 10,000-document audit is 20 commits rather than 10,000; a failed commit loses at
/// most this many verdicts, which a re-run records again.
const EVENTS_PER_TRANSACTION: usize = 500;

/// Names of documents that could not be recorded, kept for the closing summary; the count is
/// always complete.
const UNRECORDED_NAMES: usize = 20;

/// Characters of a file name kept as the issued document's number (the ledger's identifier
/// limit is 200).
const MAX_NUMBER_CHARS: usize = 200;

/// Why an audit could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unit map {}, line {line}: {reason}", path.display())]
    UnitMap {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("unit map {}: {source}", path.display())]
    UnitMapRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("recording audits in the ledger (after {name}): {source}")]
    Ledger {
        name: String,
        #[source]
        source: Box<ledger::Error>,
    },
}

/// How an archive's documents are identified in the ledger (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocumentId {
    #[default]
    Content,
    FileName,
}

/// Where a document's issuing unit is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitFrom {
    /// The folders of its path (deepest first), then file-name prefixes in the unit map.
    Folder,
    /// The first signer certificate's organisational unit (`OU`), then organisation (`O`).
    SignerOrganization,
}

/// A CSV mapping keys — folder names, file-name prefixes or certificate `OU`/`O` values — to
/// ledger unit codes: header `match,unit`, then one row per key. Keys are compared after Unicode
/// NFC normalisation, so `Sở Tư pháp` typed on any keyboard matches the certificate's.
#[derive(Clone, Debug, Default)]
pub struct UnitMap {
    exact: HashMap<String, String>,
    /// Longest first, for prefix matching.
    prefixes: Vec<(String, String)>,
}

impl UnitMap {
    pub fn load(path: &Path) -> Result<UnitMap, Error> {
        let file = std::fs::File::open(path).map_err(|source| Error::UnitMapRead {
            path: path.to_owned(),
            source,
        })?;
        UnitMap::parse(file, path)
    }

    pub fn parse(input: impl std::io::Read, path: &Path) -> Result<UnitMap, Error> {
        let fail = |line: u64, reason: String| Error::UnitMap {
            path: path.to_owned(),
            line,
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| fail(1, e.to_string()))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| fail(1, format!("no `{name}` column (expected `match,unit`)")))
        };
        let (key_at, unit_at) = (column("match")?, column("unit")?);
        let mut map = UnitMap::default();
        for (n, record) in reader.records().enumerate() {
            let line = n as u64 + 2;
            let record = record.map_err(|e| fail(line, e.to_string()))?;
            let key = normalise(record.get(key_at).unwrap_or(""));
            let unit = record.get(unit_at).unwrap_or("").to_owned();
            if key.is_empty() || unit.is_empty() {
                return Err(fail(
                    line,
                    "`match` and `unit` must not be empty".to_owned(),
                ));
            }
            if let Some(previous) = map.exact.insert(key.clone(), unit.clone())
                && previous != unit
            {
                return Err(fail(
                    line,
                    format!("`{key}` already maps to `{previous}`, not `{unit}`"),
                ));
            }
            map.prefixes.push((key, unit));
        }
        map.prefixes
            .sort_by_key(|(key, _)| std::cmp::Reverse(key.chars().count()));
        Ok(map)
    }
}

/// How documents are attributed to units: a source and an optional map. Without a map, a key
/// names a unit when it is a unit's code, or the name of exactly one unit.
#[derive(Clone, Debug)]
pub struct Attribution {
    pub from: UnitFrom,
    pub map: Option<UnitMap>,
}

/// The ledger's units, for matching keys to codes.
struct Units {
    codes: HashMap<String, String>,
    /// Normalised name → codes of units with that name.
    names: HashMap<String, Vec<String>>,
}

impl Attribution {
    fn unit(&self, item: &Item, units: &Units) -> Option<String> {
        let resolve = |key: &str| -> Option<String> {
            let key = normalise(key);
            if let Some(map) = &self.map {
                return map.exact.get(&key).cloned();
            }
            if let Some(code) = units.codes.get(&key) {
                return Some(code.clone());
            }
            match units.names.get(&key).map(Vec::as_slice) {
                Some([code]) => Some(code.clone()),
                _ => None,
            }
        };
        match self.from {
            UnitFrom::Folder => {
                let mut parts: Vec<&str> = item.name.split('/').collect();
                let file = parts.pop().unwrap_or("");
                if let Some(unit) = parts.iter().rev().find_map(|p| resolve(p)) {
                    return Some(unit);
                }
                let file = normalise(file);
                self.map.as_ref().and_then(|map| {
                    map.prefixes
                        .iter()
                        .find(|(prefix, _)| file.starts_with(prefix.as_str()))
                        .map(|(_, unit)| unit.clone())
                })
            }
            UnitFrom::SignerOrganization => {
                let signer = item
                    .report()?
                    .signatures
                    .iter()
                    .find_map(|s| s.signer.as_ref())?;
                [signer.unit.as_deref(), signer.organization.as_deref()]
                    .into_iter()
                    .flatten()
                    .find_map(resolve)
            }
        }
    }
}

/// What an audit recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditTotals {
    /// Audit events by outcome: new, the same again (a re-run), or a re-verification.
    pub inserted: u64,
    pub unchanged: u64,
    pub updated: u64,
    /// edXML packages recorded as incoming verifications of a receiving unit (new, the same
    /// again, or re-verified).
    pub incoming: u64,
    /// Documents not recorded because no unit could be attributed.
    pub no_unit: u64,
    /// Documents not recorded because they could not be read (no content to identify them by).
    pub not_read: u64,
    /// Files that are neither PDF nor XML (`Thumbs.db`, a stray note): not documents of a unit.
    pub not_documents: u64,
    /// Documents attributed to a unit the ledger does not know (import the units first).
    pub unknown_unit: u64,
    /// Documents whose id the ledger holds for another unit (a file copied into another unit's
    /// folder, a changed attribution): recording them would move the document, and its
    /// verified signature, to that unit.
    pub other_unit: u64,
    /// The first few documents not recorded, with why.
    pub unrecorded: Vec<(String, String)>,
}

impl AuditTotals {
    pub fn not_recorded(&self) -> u64 {
        self.no_unit + self.not_read + self.unknown_unit + self.not_documents + self.other_unit
    }

    /// One line in Vietnamese and English.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Sổ cái / Ledger: {} kiểm tra mới, {} không đổi, {} cập nhật / {} new audits, {} unchanged, {} updated",
            self.inserted,
            self.unchanged,
            self.updated,
            self.inserted,
            self.unchanged,
            self.updated
        );
        if self.incoming > 0 {
            out.push_str(&format!(
                "\n  gói tin edXML nhận được / incoming edXML packages: {}",
                self.incoming
            ));
        }
        if self.not_recorded() > 0 {
            out.push_str(&format!(
                "\n  không ghi được / not recorded: {} (no unit: {}, unit not in the ledger: {}, stored for another unit: {}, not read: {}, not a PDF or XML: {})",
                self.not_recorded(),
                self.no_unit,
                self.unknown_unit,
                self.other_unit,
                self.not_read,
                self.not_documents
            ));
            for (name, why) in &self.unrecorded {
                out.push_str(&format!("\n    {name}: {why}"));
            }
        }
        out
    }
}

/// Records a batch's verdicts as they arrive, a transaction every [`EVENTS_PER_TRANSACTION`].
pub struct Auditor<'s> {
    store: &'s mut dyn Store,
    document_id: DocumentId,
    attribution: Option<Attribution>,
    units: Units,
    audited_at: OffsetDateTime,
    /// Used as the issued time when neither the document nor its file has one.
    fallback_issued_at: OffsetDateTime,
    issued_at: Option<OffsetDateTime>,
    pending: Vec<Event>,
    /// (document id, file name) of every document with events in `pending`.
    pending_names: Vec<(String, String)>,
    /// The unit each document id of this run belongs to, as the ledger held it before the run
    /// or as a file of this run first attributed it: a file with the same content attributed
    /// to another unit is not recorded, as the ledger would refuse it.
    claimed: HashMap<String, Owner>,
    last_name: String,
    totals: AuditTotals,
}

impl<'s> Auditor<'s> {
    /// An auditor writing to `store`, stamping audits with `audited_at` (the verification time,
    /// so that re-running with the same `--at` changes nothing). With [`DocumentId::Content`] an
    /// attribution is needed.
    pub fn new(
        store: &'s mut dyn Store,
        document_id: DocumentId,
        attribution: Option<Attribution>,
        audited_at: OffsetDateTime,
    ) -> Result<Auditor<'s>, Error> {
        let ledger_units = store.units().map_err(|source| Error::Ledger {
            name: "(reading the units)".to_owned(),
            source: Box::new(source),
        })?;
        let mut units = Units {
            codes: HashMap::new(),
            names: HashMap::new(),
        };
        for unit in ledger_units {
            units
                .names
                .entry(normalise(&unit.name))
                .or_default()
                .push(unit.code.clone());
            units.codes.insert(normalise(&unit.code), unit.code);
        }
        Ok(Auditor {
            store,
            document_id,
            attribution,
            units,
            audited_at,
            fallback_issued_at: audited_at,
            issued_at: None,
            pending: Vec::new(),
            pending_names: Vec::new(),
            claimed: HashMap::new(),
            last_name: String::new(),
            totals: AuditTotals::default(),
        })
    }

    /// Records every document as issued at `at` instead of its file time (an archive known to
    /// hold, say, the documents of 2022-H1).
    pub fn with_issued_at(mut self, at: OffsetDateTime) -> Self {
        self.issued_at = Some(at);
        self
    }

    /// Queues one document's events; writes a transaction when enough are queued.
    pub fn add(&mut self, item: &Item) -> Result<(), Error> {
        let Some(report) = item.report() else {
            self.skip(item, "not read", |t| &mut t.not_read);
            return Ok(());
        };
        if report.format == "edxml" {
            return self.add_package(item, report);
        }
        if report.format != "pdf" && report.format != "xml" {
            self.skip(item, "not a PDF or XML document", |t| &mut t.not_documents);
            return Ok(());
        }
        let document_id = match self.document_id {
            DocumentId::Content => format!("sha256:{}", report.sha256),
            DocumentId::FileName => file_stem(&item.name),
        };
        if self.document_id == DocumentId::Content {
            let Some(attribution) = &self.attribution else {
                self.skip(item, "no unit attributed", |t| &mut t.no_unit);
                return Ok(());
            };
            let Some(unit) = attribution.unit(item, &self.units) else {
                self.skip(item, "no unit attributed", |t| &mut t.no_unit);
                return Ok(());
            };
            let Some(unit) = self.units.codes.get(&normalise(&unit)).cloned() else {
                self.skip(item, "unit not in the ledger", |t| &mut t.unknown_unit);
                return Ok(());
            };
            match self.owner(&document_id, &item.name)? {
                Some(owner) if owner.unit != unit => {
                    let why = owner.refusal(&unit);
                    self.skip(item, why, |t| &mut t.other_unit);
                    return Ok(());
                }
                Some(_) => {}
                None => {
                    self.claimed.insert(
                        document_id.clone(),
                        Owner {
                            unit: unit.clone(),
                            stored: false,
                        },
                    );
                }
            }
            self.pending.push(Event::Issued(ledger::Issued {
                document_id: document_id.clone(),
                number: number_of(&item.name),
                doc_type: doc_type(report).to_owned(),
                unit,
                issued_at: self
                    .issued_at
                    .or(item.modified)
                    .unwrap_or(self.fallback_issued_at),
                declared: if report.signatures.is_empty() {
                    Declared::Unsigned
                } else {
                    Declared::Signed
                },
            }));
        }
        self.pending_names
            .push((document_id.clone(), item.name.clone()));
        self.pending.push(Event::Audited(ledger::Audited {
            document_id,
            content_sha256: report.sha256.clone(),
            audited_at: self.audited_at,
            indication: ledger_indication(report.indication),
            sub_indication: report
                .sub_indication
                .filter(|_| report.indication != Indication::TotalPassed)
                .map(|s| s.as_str().to_owned()),
            long_term: report
                .long_term
                .as_ref()
                .filter(|_| report.indication == Indication::TotalPassed)
                .map(|status| ledger::LongTermStatus {
                    protected: status.protected,
                    until: status.until,
                    certificate: clean(&status.certificate),
                }),
        }));
        self.last_name.clone_from(&item.name);
        if self.pending.len() >= EVENTS_PER_TRANSACTION {
            self.flush()?;
        }
        Ok(())
    }

    /// Queues an edXML package as an incoming verification of its receiving unit (see the
    /// module documentation).
    fn add_package(&mut self, item: &Item, report: &DocumentReport) -> Result<(), Error> {
        let Some(package) = report.package.as_deref() else {
            self.skip(item, "an edXML package that could not be read", |t| {
                &mut t.not_read
            });
            return Ok(());
        };
        let header = &package.header;
        let unit = match self.receiving_unit(item, header) {
            Ok(unit) => unit,
            Err(why) => {
                self.skip(item, why, |t| &mut t.no_unit);
                return Ok(());
            }
        };
        let sender = [
            header.from.organ_id.as_deref(),
            header.from.organ_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("(unknown sender)")
        .to_owned();
        let verified = |document_id: String| {
            Event::Verified(ledger::Verified {
                document_id,
                receiving_unit: unit.clone(),
                sender: sender.clone(),
                verified_at: self.audited_at,
                indication: ledger_indication(report.indication),
                sub_indication: report
                    .sub_indication
                    .filter(|_| report.indication != Indication::TotalPassed)
                    .map(|s| s.as_str().to_owned()),
            })
        };
        // The header's id when the ledger can hold it (no control characters, 200 characters at
        // most), else the content's.
        let by_header = header
            .document_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| verified(id.to_owned()))
            .filter(|event| event.validate().is_ok());
        let event = by_header.unwrap_or_else(|| verified(format!("sha256:{}", report.sha256)));
        if let Err(e) = event.validate() {
            self.skip(item, format!("not recordable: {e}"), |t| &mut t.not_read);
            return Ok(());
        }
        self.pending_names
            .push((event.document_id().to_owned(), item.name.clone()));
        self.pending.push(event);
        self.last_name.clone_from(&item.name);
        if self.pending.len() >= EVENTS_PER_TRANSACTION {
            self.flush()?;
        }
        Ok(())
    }

    /// The ledger unit that received a package: its header's receivers that name a unit (by the
    /// unit map, or as a unit code); with several, the one the package's folders name.
    fn receiving_unit(&self, item: &Item, header: &crate::edxml::Header) -> Result<String, String> {
        let resolve = |key: &str| -> Option<String> {
            let key = normalise(key);
            let mapped = self
                .attribution
                .as_ref()
                .and_then(|a| a.map.as_ref())
                .and_then(|map| map.exact.get(&key).cloned());
            let code = mapped.unwrap_or(key);
            self.units.codes.get(&normalise(&code)).cloned()
        };
        let mut receivers: Vec<String> = header
            .to
            .iter()
            .filter_map(|to| to.organ_id.as_deref())
            .filter_map(resolve)
            .collect();
        receivers.sort();
        receivers.dedup();
        match receivers.as_slice() {
            [] => Err(if header.to.is_empty() {
                "an edXML package that names no receiver (To)".to_owned()
            } else {
                let ids: Vec<&str> = header
                    .to
                    .iter()
                    .filter_map(|to| to.organ_id.as_deref())
                    .collect();
                format!(
                    "no unit of the ledger is the package's receiver ({}): map its OrganId with --unit-map",
                    ids.join(", ")
                )
            }),
            [one] => Ok(one.clone()),
            several => {
                let folders: Vec<&str> = item.name.split('/').collect();
                let named = folders
                    .iter()
                    .rev()
                    .skip(1)
                    .filter_map(|folder| resolve(folder))
                    .find(|unit| several.contains(unit));
                named.ok_or_else(|| {
                    format!(
                        "the package names several receiving units ({}) and no folder says which received it",
                        several.join(", ")
                    )
                })
            }
        }
    }

    /// Writes what is queued and returns the totals.
    pub fn finish(mut self) -> Result<AuditTotals, Error> {
        self.flush()?;
        Ok(self.totals)
    }

    /// Who `document_id` belongs to: a file of this run, or the ledger (asked once per id).
    fn owner(&mut self, document_id: &str, name: &str) -> Result<Option<Owner>, Error> {
        if let Some(owner) = self.claimed.get(document_id) {
            return Ok(Some(owner.clone()));
        }
        let stored = self
            .store
            .document_unit(document_id)
            .map_err(|source| Error::Ledger {
                name: name.to_owned(),
                source: Box::new(source),
            })?;
        Ok(stored.map(|unit| {
            let owner = Owner { unit, stored: true };
            self.claimed.insert(document_id.to_owned(), owner.clone());
            owner
        }))
    }

    fn skip(
        &mut self,
        item: &Item,
        why: impl Into<String>,
        count: fn(&mut AuditTotals) -> &mut u64,
    ) {
        self.skip_name(item.name.clone(), why.into(), count);
    }

    fn skip_name(&mut self, name: String, why: String, count: fn(&mut AuditTotals) -> &mut u64) {
        *count(&mut self.totals) += 1;
        if self.totals.unrecorded.len() < UNRECORDED_NAMES {
            self.totals.unrecorded.push((name, why));
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        // Each refusal takes one document out, so this ends; one document stored for another
        // unit does not stop the audit of the others.
        let outcomes = loop {
            if self.pending.is_empty() {
                return Ok(());
            }
            match self.store.record(&self.pending) {
                Ok(outcomes) => break outcomes,
                Err(ledger::Error::DocumentOfAnotherUnit {
                    document_id,
                    owner,
                    unit,
                    ..
                }) => self.drop_document(&document_id, &owner, &unit),
                Err(source) => {
                    return Err(Error::Ledger {
                        name: self.last_name.clone(),
                        source: Box::new(source),
                    });
                }
            }
        };
        for (event, outcome) in self.pending.iter().zip(outcomes) {
            match event {
                Event::Audited(_) => match outcome {
                    Recorded::Inserted => self.totals.inserted += 1,
                    Recorded::Unchanged => self.totals.unchanged += 1,
                    Recorded::Updated => self.totals.updated += 1,
                },
                Event::Verified(_) => self.totals.incoming += 1,
                Event::Issued(_) | Event::Signed(_) => {}
            }
        }
        self.pending.clear();
        self.pending_names.clear();
        Ok(())
    }

    /// Takes a document the ledger holds for `owner` out of the pending events, and counts each
    /// of its files as not recorded.
    fn drop_document(&mut self, document_id: &str, owner: &str, unit: &str) {
        self.pending.retain(|e| e.document_id() != document_id);
        let names: Vec<String> = self
            .pending_names
            .iter()
            .filter(|(id, _)| id == document_id)
            .map(|(_, name)| name.clone())
            .collect();
        self.pending_names.retain(|(id, _)| id != document_id);
        let owner = Owner {
            unit: owner.to_owned(),
            stored: true,
        };
        for name in names {
            self.skip_name(name, owner.refusal(unit), |t| &mut t.other_unit);
        }
        // Later files with this content go to the owner, if they are attributed to it.
        self.claimed.insert(document_id.to_owned(), owner);
    }
}

/// The unit a document id belongs to during an audit.
#[derive(Clone, Debug)]
struct Owner {
    unit: String,
    /// In the ledger before this run (else: attributed by an earlier file of this run).
    stored: bool,
}

impl Owner {
    /// Why a file attributed to `unit` is not recorded.
    fn refusal(&self, unit: &str) -> String {
        if self.stored {
            format!("stored for unit {}, attributed to {unit}", self.unit)
        } else {
            format!(
                "the same content is attributed to unit {} by another file of this run, to {unit} by this one",
                self.unit
            )
        }
    }
}

fn normalise(s: &str) -> String {
    s.trim().nfc().collect()
}

/// `STP/2022/STP-2022-00124.pdf` → `STP-2022-00124`.
fn file_stem(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = match file.rfind('.') {
        Some(dot) if dot > 0 => &file[..dot],
        _ => file,
    };
    clean(stem)
}

/// The file name, as the issued document's number.
fn number_of(name: &str) -> String {
    clean(name.rsplit('/').next().unwrap_or(name))
}

/// Control characters (which the ledger refuses) replaced, trimmed, bounded; never empty.
fn clean(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(MAX_NUMBER_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "(no name)".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn doc_type(report: &DocumentReport) -> &'static str {
    match report.format.as_str() {
        "pdf" => "PDF",
        _ => "XML",
    }
}

fn ledger_indication(indication: Indication) -> ledger::Indication {
    match indication {
        Indication::TotalPassed => ledger::Indication::TotalPassed,
        Indication::TotalFailed => ledger::Indication::TotalFailed,
        Indication::Indeterminate => ledger::Indication::Indeterminate,
    }
}
