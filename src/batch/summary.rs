//! The closing summary of a batch: documents per indication and sub-indication, per signer unit,
//! and the slowest documents. Kept in bounded memory whatever the batch size: counters, a
//! capped table of units, and a small heap of the slowest files.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;
use std::time::Duration;

use super::{Item, Outcome};
use crate::verify::DocumentReport;

/// How many of the slowest documents are kept.
const SLOWEST: usize = 10;

/// Distinct signer units counted one by one: a province has a few hundred units (departments,
/// districts, communes); past this, certificates are naming units at random and the rest are
/// counted together, so hostile documents cannot grow the table without bound.
const MAX_UNITS: usize = 10_000;

/// A protected document whose proof rests on a certificate expiring within this is counted as
/// needing extension: `[archive] renew_before_days`' default.
const RENEW_HORIZON: time::Duration = time::Duration::days(90);

/// What stands for a document's unit when there is none to name.
pub const NO_SIGNER: &str = "(no signer)";
pub const NOT_READ: &str = "(not read)";
const OTHER_UNITS: &str = "(other units)";

/// Documents of one signer unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnitTally {
    pub documents: u64,
    pub passed: u64,
}

/// Running totals of a batch.
#[derive(Debug, Default)]
pub struct Summary {
    pub documents: u64,
    /// Documents that could not be read or were refused (no verdict).
    pub not_read: u64,
    /// Documents whose every signature is TOTAL-PASSED.
    pub passed: u64,
    pub signatures: u64,
    pub bytes: u64,
    /// Passed documents protected for the long term (every signature B-LT or B-LTA) and not
    /// expiring within [`RENEW_HORIZON`].
    pub protected: u64,
    /// Passed documents that need `kyso extend` now: a signature below B-LT, or the
    /// certificate its proof rests on expiring within [`RENEW_HORIZON`].
    pub needs_extending: u64,
    /// The certificate whose expiry ends the first passed document's verifiability, and when.
    pub first_to_expire: Option<(time::OffsetDateTime, String)>,
    verdicts: BTreeMap<String, u64>,
    units: BTreeMap<String, UnitTally>,
    slowest: BinaryHeap<Reverse<(Duration, String)>>,
}

impl Summary {
    pub fn new() -> Summary {
        Summary::default()
    }

    /// Counts one finished document.
    pub fn add(&mut self, item: &Item) {
        self.documents += 1;
        self.bytes += item.size;
        let passed = item.passed();
        self.passed += u64::from(passed);
        let verdict = match &item.outcome {
            Outcome::Verified(report) => {
                self.signatures += report.signatures.len() as u64;
                verdict_key(report)
            }
            Outcome::Failed(_) => {
                self.not_read += 1;
                "NOT-READ".to_owned()
            }
        };
        *self.verdicts.entry(verdict).or_default() += 1;
        if let Some(long_term) = item.report().and_then(|r| Some((r, r.long_term.as_ref()?))) {
            let (report, status) = long_term;
            if status.protected && status.until > report.validated_at + RENEW_HORIZON {
                self.protected += 1;
            } else {
                self.needs_extending += 1;
            }
            if self
                .first_to_expire
                .as_ref()
                .is_none_or(|(until, _)| status.until < *until)
            {
                self.first_to_expire = Some((status.until, status.certificate.clone()));
            }
        }
        let unit = item.report().map_or(NOT_READ, signer_unit);
        let key = if self.units.contains_key(unit) || self.units.len() < MAX_UNITS {
            unit
        } else {
            OTHER_UNITS
        };
        let tally = self.units.entry(key.to_owned()).or_default();
        tally.documents += 1;
        tally.passed += u64::from(passed);
        self.slowest
            .push(Reverse((item.elapsed, item.name.clone())));
        if self.slowest.len() > SLOWEST {
            self.slowest.pop();
        }
    }

    /// Whether every document was read and passed (exit code 0).
    pub fn all_passed(&self) -> bool {
        self.passed == self.documents
    }

    /// Documents per `INDICATION` or `INDICATION/SUB_INDICATION` (and `NOT-READ`).
    pub fn verdicts(&self) -> &BTreeMap<String, u64> {
        &self.verdicts
    }

    /// Documents per signer unit (the first signature's `OU`, else its `O`).
    pub fn units(&self) -> &BTreeMap<String, UnitTally> {
        &self.units
    }

    /// The slowest documents, slowest first.
    pub fn slowest(&self) -> Vec<(Duration, String)> {
        let mut out: Vec<(Duration, String)> =
            self.slowest.iter().map(|Reverse(x)| x.clone()).collect();
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        out
    }

    /// The closing summary in Vietnamese and English, for a run that took `elapsed`.
    pub fn render(&self, elapsed: Duration) -> String {
        let mut out = String::new();
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "Tổng kết / Summary: {} tài liệu / documents, {} chữ ký / signatures, {:.1} MB in {:.2} s ({:.0} documents/s, {:.0} signatures/s)",
            self.documents,
            self.signatures,
            self.bytes as f64 / 1e6,
            seconds,
            self.documents as f64 / seconds,
            self.signatures as f64 / seconds,
        );
        let _ = writeln!(
            out,
            "  hợp lệ / TOTAL-PASSED: {} of {}; không đọc được / not read: {}",
            self.passed, self.documents, self.not_read
        );
        let _ = writeln!(
            out,
            "  lưu trữ dài hạn / long term: {} được bảo vệ / protected (B-LT, B-LTA), {} cần gia hạn ngay / need extending now (kyso extend)",
            self.protected, self.needs_extending
        );
        if let Some((until, certificate)) = &self.first_to_expire {
            let _ = writeln!(
                out,
                "  hết hạn sớm nhất / first to expire: {} ({certificate})",
                crate::verify::text::local_time(*until)
            );
        }
        let _ = writeln!(out, "Kết luận / Verdicts:");
        for (verdict, n) in &self.verdicts {
            let _ = writeln!(out, "  {n:>8}  {verdict}");
        }
        let _ = writeln!(
            out,
            "Theo đơn vị ký / By signer unit (documents, TOTAL-PASSED):"
        );
        for (unit, tally) in &self.units {
            let _ = writeln!(out, "  {:>8}  {:>8}  {unit}", tally.documents, tally.passed);
        }
        let _ = writeln!(out, "Chậm nhất / Slowest:");
        for (time, name) in self.slowest() {
            let _ = writeln!(out, "  {:>10.1} ms  {name}", time.as_secs_f64() * 1e3);
        }
        if let Some(peak) = peak_memory() {
            let _ = writeln!(
                out,
                "Bộ nhớ cao nhất / Peak memory (VmHWM): {:.1} MiB",
                peak as f64 / (1024.0 * 1024.0)
            );
        }
        out
    }
}

/// `TOTAL-PASSED`, or `INDICATION/SUB_INDICATION`.
pub fn verdict_key(report: &DocumentReport) -> String {
    match report.sub_indication {
        Some(sub) => format!("{}/{}", report.indication.as_str(), sub.as_str()),
        None => report.indication.as_str().to_owned(),
    }
}

/// The unit a document's first signature names: its signer's `OU`, else `O`.
pub fn signer_unit(report: &DocumentReport) -> &str {
    report
        .signatures
        .iter()
        .find_map(|s| s.signer.as_ref())
        .and_then(|s| s.unit.as_deref().or(s.organization.as_deref()))
        .unwrap_or(NO_SIGNER)
}

/// This process's peak resident memory in bytes (Linux `VmHWM`), when the system says.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
