//! Signing-rate reports: the figures, computed from the few aggregate queries of [`Store`].
//!
//! signing rate = signed issued documents / issued documents, for documents *issued* in the period
//! (their issue time, in Asia/Ho_Chi_Minh periods). Two numerators: declared (the DMS said signed)
//! and verified (kyso found a TOTAL-PASSED signature). A unit with no documents has no rate, not
//! 0% and not 100%: it shows as "—" and its JSON rate is `null`.
//!
//! Figures per unit are given twice: the unit's *own* documents and its *total*, rolled up over the
//! units below it. Level figures add up the own documents of the units at that level, so a
//! district's communes count at the commune level and not again at the district level.
//!
//! Method and provider counts are signatures made in the period (by signing time), with the
//! distinct signer certificates behind them per method (overall, per level and per unit: a
//! certificate used in two units counts once in their level and overall); incoming outcomes are
//! verifications made in the period. This module does no I/O beyond the store.
//!
//! Long-term counts (issue 19) split the verified documents that a batch audit of the archive
//! found passing: protected until the renewal horizon or later as filed, or needing `kyso extend`
//! now. The horizon is the report's `renew_by`: now plus `[archive] renew_before_days`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use time::OffsetDateTime;

use super::period::{Period, TimeRange, day};
use super::units::{LevelScheme, Unit, tree_order};
use super::{Counts, DocumentStatus, Error, ExtensionDue, Indication, Store};

/// What to report on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    pub period: Period,
    /// Only units at this level (and their figures) in the unit list and the overall figure.
    pub level: Option<String>,
    /// Only this unit and the units below it; also lists this unit's unsigned documents.
    pub unit: Option<String>,
    /// At most this many unsigned documents are listed (the count is always complete).
    pub unsigned_limit: usize,
    /// A document whose proof of existence rests on a certificate expiring before this needs
    /// extending now.
    pub renew_by: OffsetDateTime,
}

/// The renewal horizon when the configuration says nothing (`[archive] renew_before_days`).
pub const DEFAULT_RENEW_BEFORE: time::Duration = time::Duration::days(90);

impl ReportQuery {
    pub fn new(period: Period) -> Self {
        ReportQuery {
            period,
            level: None,
            unit: None,
            unsigned_limit: 1000,
            renew_by: OffsetDateTime::now_utc() + DEFAULT_RENEW_BEFORE,
        }
    }
}

/// A complete report, ready to render.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    /// First and last local day of the period, `YYYY-MM-DD`.
    pub first_day: String,
    pub last_day: String,
    /// The UTC range queried, `[start, end)`.
    pub range: TimeRange,
    /// The unit the report is restricted to, if any.
    pub scope: Option<Unit>,
    pub level: Option<String>,
    /// The long-term counts' horizon ([`ReportQuery::renew_by`]).
    #[serde(with = "time::serde::rfc3339")]
    pub renew_by: OffsetDateTime,
    pub overall: Rates,
    pub levels: Vec<LevelRow>,
    pub units: Vec<UnitRow>,
    pub methods: Vec<MethodRow>,
    pub providers: Vec<ProviderRow>,
    pub incoming: Vec<IncomingRow>,
    pub unsigned: Option<UnsignedList>,
    /// For a report on one unit: its documents that need extending now.
    pub to_extend: Option<ExtensionList>,
}

/// Counts with their rates in percent. Rates are `None` when nothing was issued.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rates {
    #[serde(flatten)]
    pub counts: Counts,
    pub declared_rate: Option<f64>,
    pub verified_rate: Option<f64>,
    /// Declared rate minus verified rate, in percentage points.
    pub gap_points: Option<f64>,
}

impl From<Counts> for Rates {
    fn from(counts: Counts) -> Self {
        let rate = |n: u64| (counts.issued > 0).then(|| 100.0 * n as f64 / counts.issued as f64);
        let declared_rate = rate(counts.declared_signed);
        let verified_rate = rate(counts.verified_signed);
        Rates {
            counts,
            declared_rate,
            verified_rate,
            gap_points: declared_rate.zip(verified_rate).map(|(d, v)| d - v),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelRow {
    pub level: String,
    pub label_vi: String,
    pub label_en: String,
    /// Units at this level in scope, with or without documents.
    pub units: usize,
    pub rates: Rates,
    /// Signatures and signer certificates by method, of the units at this level.
    pub methods: Vec<MethodRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
    /// Depth below the report's root (0 for a root), for indented display.
    pub depth: usize,
    /// The unit's own documents.
    pub own: Rates,
    /// The unit's and every unit below it.
    pub total: Rates,
    /// Signatures and signer certificates by method, of the unit's own keys.
    pub methods: Vec<MethodRow>,
}

/// One signing method (token, SIM, HSM, smart) in a period: how many signatures were made with
/// it and with how many distinct signer certificates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MethodRow {
    pub method: &'static str,
    pub signatures: u64,
    pub certificates: u64,
}

/// Signatures and distinct certificates per method, as they are added up.
#[derive(Default)]
struct MethodTally<'a> {
    by_method: BTreeMap<super::Method, (u64, BTreeSet<&'a str>)>,
}

impl<'a> MethodTally<'a> {
    fn add(&mut self, method: super::Method, certificate: &'a str, signatures: u64) {
        let (count, certificates) = self.by_method.entry(method).or_default();
        *count += signatures;
        certificates.insert(certificate);
    }

    fn merge(&mut self, other: &MethodTally<'a>) {
        for (method, (count, certificates)) in &other.by_method {
            let (mine, mine_certificates) = self.by_method.entry(*method).or_default();
            *mine += count;
            mine_certificates.extend(certificates.iter().copied());
        }
    }

    /// Every method, in [`super::Method::ALL`] order, zero where none was used.
    fn rows(&self) -> Vec<MethodRow> {
        super::Method::ALL
            .into_iter()
            .map(|m| {
                let (signatures, certificates) = self
                    .by_method
                    .get(&m)
                    .map_or((0, 0), |(n, c)| (*n, c.len() as u64));
                MethodRow {
                    method: m.label(),
                    signatures,
                    certificates,
                }
            })
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderRow {
    pub issuer: String,
    pub signatures: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncomingRow {
    pub indication: &'static str,
    pub sub_indication: Option<String>,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnsignedList {
    pub unit: String,
    /// All of the unit's documents in the period not signed by declaration or by verification.
    pub total: u64,
    /// The first of them, oldest first.
    pub documents: Vec<DocumentStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtensionList {
    pub unit: String,
    /// All of the unit's documents in the period that need extending by `renew_by`.
    pub total: u64,
    /// The first of them, soonest end first.
    pub documents: Vec<ExtensionDue>,
}

/// Builds the report for `query`.
pub fn build(
    store: &mut dyn Store,
    scheme: &LevelScheme,
    query: &ReportQuery,
) -> Result<Report, Error> {
    let range = query.period.range();
    let (first, last) = query.period.days();
    let units = store.units()?;
    let by_code: BTreeMap<String, Unit> =
        units.iter().map(|u| (u.code.clone(), u.clone())).collect();
    if let Some(level) = &query.level
        && scheme.rank(level).is_none()
    {
        return Err(Error::UnknownLevel {
            level: level.clone(),
            known: scheme.keys(),
        });
    }
    let scope = match &query.unit {
        Some(code) => Some(
            by_code
                .get(code)
                .cloned()
                .ok_or_else(|| Error::UnknownUnit {
                    code: code.clone(),
                    document_id: None,
                })?,
        ),
        None => None,
    };

    let own: HashMap<String, Counts> = store
        .document_counts(range, query.renew_by)?
        .into_iter()
        .map(|c| (c.unit, c.counts))
        .collect();

    // Preorder: parents before children, so a reverse walk rolls counts up in one pass.
    let order = tree_order(&by_code, scheme)?;
    let mut total: HashMap<&str, Counts> = HashMap::new();
    for code in order.iter().rev() {
        let mut sum = total.get(code.as_str()).copied().unwrap_or_default();
        sum.add(&own.get(code).copied().unwrap_or_default());
        total.insert(code, sum);
        if let Some(parent) = by_code.get(code).and_then(|u| u.parent.as_deref()) {
            total.entry(parent).or_default().add(&sum);
        }
    }

    // The subtree in scope, with depths relative to its root.
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut in_subtree: Vec<&Unit> = Vec::new();
    for code in &order {
        let unit = &by_code[code];
        let parent_depth = unit.parent.as_deref().and_then(|p| depth.get(p).copied());
        let here = match &scope {
            Some(root) if root.code == unit.code => Some(0),
            Some(_) => parent_depth.map(|d| d + 1),
            None => Some(parent_depth.map_or(0, |d| d + 1)),
        };
        if let Some(d) = here {
            depth.insert(code, d);
            in_subtree.push(unit);
        }
    }
    let selected: Vec<&Unit> = in_subtree
        .iter()
        .copied()
        .filter(|u| query.level.as_ref().is_none_or(|l| &u.level == l))
        .collect();
    let selected_codes: BTreeSet<&str> = selected.iter().map(|u| u.code.as_str()).collect();

    let mut overall = Counts::default();
    for unit in &selected {
        overall.add(&own.get(&unit.code).copied().unwrap_or_default());
    }

    // Signatures per signer certificate: tallied per unit, then per level and overall as sets,
    // so that a certificate is counted once wherever it signed.
    let signers = store.signature_counts(range)?;
    let mut unit_methods: HashMap<&str, MethodTally<'_>> = HashMap::new();
    let mut providers: BTreeMap<String, u64> = BTreeMap::new();
    for row in &signers {
        unit_methods.entry(row.unit.as_str()).or_default().add(
            row.method,
            &row.certificate,
            row.count,
        );
        if selected_codes.contains(row.unit.as_str()) {
            *providers.entry(row.issuer.clone()).or_default() += row.count;
        }
    }
    let nothing = MethodTally::default();
    let tally_of = |code: &str| unit_methods.get(code).unwrap_or(&nothing);
    let mut overall_methods = MethodTally::default();
    for unit in &selected {
        overall_methods.merge(tally_of(&unit.code));
    }

    let levels = scheme
        .levels()
        .iter()
        .filter(|l| query.level.as_ref().is_none_or(|q| &l.key == q))
        // Under a scoped unit, levels it has no units at are noise (a district has no
        // departments).
        .filter(|l| scope.is_none() || in_subtree.iter().any(|u| u.level == l.key))
        .map(|level| {
            let mut counts = Counts::default();
            let mut methods = MethodTally::default();
            let mut n = 0;
            for unit in in_subtree.iter().filter(|u| u.level == level.key) {
                n += 1;
                counts.add(&own.get(&unit.code).copied().unwrap_or_default());
                methods.merge(tally_of(&unit.code));
            }
            LevelRow {
                level: level.key.clone(),
                label_vi: level.label_vi.clone(),
                label_en: level.label_en.clone(),
                units: n,
                rates: counts.into(),
                methods: methods.rows(),
            }
        })
        .collect();

    let unit_rows = selected
        .iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level.clone(),
            parent: u.parent.clone(),
            depth: depth.get(u.code.as_str()).copied().unwrap_or(0),
            own: own.get(&u.code).copied().unwrap_or_default().into(),
            total: total
                .get(u.code.as_str())
                .copied()
                .unwrap_or_default()
                .into(),
            methods: tally_of(&u.code).rows(),
        })
        .collect();

    let mut providers: Vec<ProviderRow> = providers
        .into_iter()
        .map(|(issuer, signatures)| ProviderRow { issuer, signatures })
        .collect();
    providers.sort_by(|a, b| {
        b.signatures
            .cmp(&a.signatures)
            .then(a.issuer.cmp(&b.issuer))
    });

    let mut incoming: BTreeMap<(Indication, Option<String>), u64> = BTreeMap::new();
    for row in store.incoming_counts(range)? {
        if selected_codes.contains(row.unit.as_str()) {
            *incoming
                .entry((row.indication, row.sub_indication))
                .or_default() += row.count;
        }
    }

    let unsigned = match &scope {
        Some(unit) => {
            let (documents, total) =
                store.unsigned_documents(&unit.code, range, query.unsigned_limit)?;
            Some(UnsignedList {
                unit: unit.code.clone(),
                total,
                documents,
            })
        }
        None => None,
    };
    let to_extend = match &scope {
        Some(unit) => {
            let (documents, total) = store.documents_to_extend(
                &unit.code,
                range,
                query.renew_by,
                query.unsigned_limit,
            )?;
            Some(ExtensionList {
                unit: unit.code.clone(),
                total,
                documents,
            })
        }
        None => None,
    };

    Ok(Report {
        period: query.period,
        first_day: day(first),
        last_day: day(last),
        range,
        scope,
        level: query.level.clone(),
        renew_by: query.renew_by,
        overall: overall.into(),
        levels,
        units: unit_rows,
        methods: overall_methods.rows(),
        providers,
        incoming: incoming
            .into_iter()
            .map(|((indication, sub_indication), count)| IncomingRow {
                indication: indication.as_str(),
                sub_indication,
                count,
            })
            .collect(),
        unsigned,
        to_extend,
    })
}
