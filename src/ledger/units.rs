//! Units (the province's offices) and their hierarchy, and their CSV form.
//!
//! A unit has a code, a Vietnamese name (UTF-8 with diacritics, as written: `Sở Tư pháp`), a level
//! and a parent. Levels come from a [`LevelScheme`], ordered from the top; the default is province,
//! department/agency, district, commune. A parent is never at a lower level than its child (an
//! agency under a department stays at the department/agency level), only the top level may have
//! no parent, and parents never form a cycle.
//!
//! CSV: a header `code,name,level,parent`, UTF-8 (a leading byte-order mark is accepted, since
//! spreadsheet exports add one). An import is all or nothing: every row is checked, against the
//! file and against the units already stored, before anything is written, and the first problem
//! is reported with its line and field.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use serde::Serialize;

use super::{Error, Store};

/// A unit as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
}

/// One level of the hierarchy with its labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Level {
    /// The key stored in the ledger and written in CSV, e.g. `district`.
    pub key: String,
    pub label_vi: String,
    pub label_en: String,
}

/// The ordered levels, top first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LevelScheme {
    levels: Vec<Level>,
}

impl Default for LevelScheme {
    /// Province; departments and agencies; districts (huyện, thị xã, thành phố thuộc tỉnh);
    /// communes (xã, phường, thị trấn).
    fn default() -> Self {
        let level = |key: &str, vi: &str, en: &str| Level {
            key: key.into(),
            label_vi: vi.into(),
            label_en: en.into(),
        };
        LevelScheme {
            levels: vec![
                level("province", "Cấp tỉnh", "Province"),
                level("department", "Sở, ban, ngành", "Departments and agencies"),
                level("district", "Cấp huyện", "Districts"),
                level("commune", "Cấp xã", "Communes"),
            ],
        }
    }
}

impl LevelScheme {
    /// A scheme from configuration. Keys must be distinct unit-code-like words.
    pub fn new(levels: Vec<Level>) -> Result<Self, Error> {
        if levels.is_empty() {
            return Err(Error::InvalidLevelScheme {
                reason: "no levels".into(),
            });
        }
        let mut seen = BTreeSet::new();
        for level in &levels {
            check_code(&level.key).map_err(|reason| Error::InvalidLevelScheme {
                reason: format!("level key `{}`: {reason}", level.key),
            })?;
            if !seen.insert(level.key.as_str()) {
                return Err(Error::InvalidLevelScheme {
                    reason: format!("level `{}` named twice", level.key),
                });
            }
        }
        Ok(LevelScheme { levels })
    }

    /// The ordered levels, top first.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// The level's position from the top, or `None` if the scheme has no such level.
    pub fn rank(&self, key: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.key == key)
    }

    pub fn level(&self, key: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.key == key)
    }

    /// The level keys, comma-separated, for messages.
    pub fn keys(&self) -> String {
        self.levels
            .iter()
            .map(|l| l.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Reads a units CSV and checks each row on its own and against the rest of the file. Parents
/// may appear after their children; parents not in the file are checked by [`import`].
pub fn parse_csv(input: impl Read, scheme: &LevelScheme) -> Result<Vec<(u64, Unit)>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|source| Error::UnitCsvRead { line: 1, source })?
        .clone();
    let expected = ["code", "name", "level", "parent"];
    let found: Vec<&str> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            }
        })
        .map(str::trim)
        .collect();
    if found != expected {
        return Err(Error::UnitCsv {
            line: 1,
            field: "header",
            reason: format!(
                "expected `code,name,level,parent`, found `{}`",
                found.join(",")
            ),
        });
    }
    let mut units = Vec::new();
    let mut lines_by_code: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|source| Error::UnitCsvRead {
            line: source.position().map_or(0, |p| p.line()),
            source,
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |index: usize| record.get(index).unwrap_or("").trim();
        let fail = |field: &'static str, reason: String| Error::UnitCsv {
            line,
            field,
            reason,
        };
        let code = field(0);
        check_code(code).map_err(|r| fail("code", r))?;
        let name = field(1);
        if name.is_empty() {
            return Err(fail("name", format!("unit `{code}` has no name")));
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(fail(
                "name",
                format!("contains control character U+{:04X}", c as u32),
            ));
        }
        let level = field(2);
        if scheme.rank(level).is_none() {
            return Err(fail(
                "level",
                format!("unknown level `{level}`, expected one of {}", scheme.keys()),
            ));
        }
        let parent = Some(field(3)).filter(|p| !p.is_empty());
        if let Some(parent) = parent {
            check_code(parent).map_err(|r| fail("parent", r))?;
            if parent == code {
                return Err(fail("parent", format!("unit `{code}` is its own parent")));
            }
        }
        if let Some(first) = lines_by_code.insert(code.to_owned(), line) {
            return Err(fail(
                "code",
                format!("unit `{code}` already defined on line {first}"),
            ));
        }
        units.push((
            line,
            Unit {
                code: code.to_owned(),
                name: name.to_owned(),
                level: level.to_owned(),
                parent: parent.map(str::to_owned),
            },
        ));
    }
    Ok(units)
}

/// Checks parsed rows against the stored units and writes them in one transaction. Nothing is
/// written if any row fails.
pub fn import(
    store: &mut dyn Store,
    rows: &[(u64, Unit)],
    scheme: &LevelScheme,
) -> Result<ImportSummary, Error> {
    let existing: BTreeMap<String, Unit> = store
        .units()?
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let mut merged = existing.clone();
    let mut summary = ImportSummary::default();
    for (_, unit) in rows {
        match existing.get(&unit.code) {
            None => summary.inserted += 1,
            Some(old) if old == unit => summary.unchanged += 1,
            Some(_) => summary.updated += 1,
        }
        merged.insert(unit.code.clone(), unit.clone());
    }
    let line_of = |code: &str| rows.iter().find(|(_, u)| u.code == code).map(|(l, _)| *l);
    // Check every unit of the merged set, not only the new rows: re-levelling a stored parent can
    // break its stored children.
    for unit in merged.values() {
        // A stored unit broken by this file is blamed on the row of its parent, which the file
        // changed.
        let line = line_of(&unit.code)
            .or_else(|| unit.parent.as_deref().and_then(line_of))
            .unwrap_or(0);
        let fail = |field: &'static str, reason: String| Error::UnitCsv {
            line,
            field,
            reason,
        };
        let rank = scheme.rank(&unit.level).ok_or_else(|| {
            fail(
                "level",
                format!(
                    "stored unit `{}` has level `{}`, which the level scheme ({}) lacks",
                    unit.code,
                    unit.level,
                    scheme.keys()
                ),
            )
        })?;
        match &unit.parent {
            None if rank > 0 => {
                return Err(fail(
                    "parent",
                    format!(
                        "unit `{}` at level `{}` needs a parent (only `{}` units stand alone)",
                        unit.code, unit.level, scheme.levels[0].key
                    ),
                ));
            }
            None => {}
            Some(parent_code) => {
                let parent = merged.get(parent_code).ok_or_else(|| {
                    fail(
                        "parent",
                        format!(
                            "unit `{}` names parent `{parent_code}`, which is neither in the file nor stored",
                            unit.code
                        ),
                    )
                })?;
                let parent_rank = scheme.rank(&parent.level).unwrap_or(usize::MAX);
                if parent_rank > rank {
                    return Err(fail(
                        "parent",
                        format!(
                            "unit `{}` at level `{}` cannot have parent `{}` at the lower level `{}`",
                            unit.code, unit.level, parent.code, parent.level
                        ),
                    ));
                }
            }
        }
    }
    let order = parents_first(&merged)?;
    let changed: BTreeSet<&str> = rows
        .iter()
        .filter(|(_, u)| existing.get(&u.code) != Some(u))
        .map(|(_, u)| u.code.as_str())
        .collect();
    let to_write: Vec<Unit> = order
        .into_iter()
        .filter(|code| changed.contains(code.as_str()))
        .filter_map(|code| merged.get(&code).cloned())
        .collect();
    if !to_write.is_empty() {
        store.upsert_units(&to_write)?;
    }
    Ok(summary)
}

/// Writes units as CSV in the import format, parents before children.
pub fn write_csv(units: &[Unit], output: impl Write) -> Result<(), Error> {
    let by_code: BTreeMap<String, Unit> =
        units.iter().map(|u| (u.code.clone(), u.clone())).collect();
    let order = parents_first(&by_code)?;
    let mut writer = csv::Writer::from_writer(output);
    let fail = |e: csv::Error| Error::Render {
        format: "units CSV",
        reason: e.to_string(),
    };
    writer
        .write_record(["code", "name", "level", "parent"])
        .map_err(fail)?;
    for code in order {
        if let Some(u) = by_code.get(&code) {
            writer
                .write_record([
                    u.code.as_str(),
                    u.name.as_str(),
                    u.level.as_str(),
                    u.parent.as_deref().unwrap_or(""),
                ])
                .map_err(fail)?;
        }
    }
    writer.flush().map_err(|e| Error::Render {
        format: "units CSV",
        reason: e.to_string(),
    })
}

/// Checks a unit code: 1 to 64 characters of ASCII letters, digits, `.`, `_` and `-`. Codes go
/// into URLs, CSV and file names, so they stay plain.
pub fn check_code(code: &str) -> Result<(), String> {
    if code.is_empty() {
        return Err("unit code is empty".into());
    }
    if code.len() > 64 {
        return Err(format!("unit code `{code}` is longer than 64 characters"));
    }
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "unit code `{code}` contains `{c}`; use ASCII letters, digits, `.`, `_` and `-`"
        ));
    }
    Ok(())
}

/// Codes ordered so that each parent comes before its children (roots and siblings by code).
/// Fails on a cycle.
pub fn parents_first(units: &BTreeMap<String, Unit>) -> Result<Vec<String>, Error> {
    ordered(units, |_| 0)
}

/// Like [`parents_first`], with siblings ordered by level (top first), then code: under the
/// province, its departments before its districts. This is the order reports show.
pub fn tree_order(
    units: &BTreeMap<String, Unit>,
    scheme: &LevelScheme,
) -> Result<Vec<String>, Error> {
    ordered(units, |u| scheme.rank(&u.level).unwrap_or(usize::MAX))
}

fn ordered(
    units: &BTreeMap<String, Unit>,
    rank: impl Fn(&Unit) -> usize,
) -> Result<Vec<String>, Error> {
    let mut children: BTreeMap<&str, Vec<&Unit>> = BTreeMap::new();
    let mut root_units = Vec::new();
    for unit in units.values() {
        match unit.parent.as_deref().filter(|p| units.contains_key(*p)) {
            Some(parent) => children.entry(parent).or_default().push(unit),
            None => root_units.push(unit),
        }
    }
    // Units arrive in code order; a stable sort by rank keeps code order within a level.
    root_units.sort_by_key(|u| rank(u));
    let roots: Vec<&str> = root_units.iter().map(|u| u.code.as_str()).collect();
    let children: BTreeMap<&str, Vec<&str>> = children
        .into_iter()
        .map(|(parent, mut kids)| {
            kids.sort_by_key(|u| rank(u));
            (parent, kids.into_iter().map(|u| u.code.as_str()).collect())
        })
        .collect();
    let mut order = Vec::with_capacity(units.len());
    let mut stack: Vec<&str> = roots.into_iter().rev().collect();
    while let Some(code) = stack.pop() {
        order.push(code.to_owned());
        if let Some(kids) = children.get(code) {
            stack.extend(kids.iter().rev());
        }
    }
    if order.len() != units.len() {
        // Units unreachable from a root sit on a cycle (or hang below one).
        let reached: BTreeSet<&str> = order.iter().map(String::as_str).collect();
        let code = units
            .keys()
            .find(|c| !reached.contains(c.as_str()))
            .expect("BUG: fewer codes reached than units means one was not reached");
        let mut path = vec![code.clone()];
        let mut at = code;
        while let Some(parent) = units.get(at).and_then(|u| u.parent.as_ref()) {
            path.push(parent.clone());
            if parent == code || path.len() > units.len() {
                break;
            }
            at = parent;
        }
        return Err(Error::UnitCycle {
            code: code.clone(),
            path: path.join(" → "),
        });
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\u{feff}code,name,level,parent\n\
        STP,Sở Tư pháp,department,TINH\n\
        TINH,UBND tỉnh Mẫu,province,\n\
        H01,UBND huyện An Lạc,district,TINH\n\
        X0101,UBND xã Tân Phú,commune,H01\n";

    #[test]
    fn parses_diacritics_bom_and_forward_parents() {
        let rows = parse_csv(GOOD.as_bytes(), &LevelScheme::default()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.name, "Sở Tư pháp");
        assert_eq!(rows[1].1.parent, None);
        let map: BTreeMap<_, _> = rows.into_iter().map(|(_, u)| (u.code.clone(), u)).collect();
        assert_eq!(
            parents_first(&map).unwrap(),
            ["TINH", "H01", "X0101", "STP"]
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let cases = [
            (
                GOOD.replace("district", "huyen"),
                4,
                "level",
                "unknown level `huyen`",
            ),
            (GOOD.replace("X0101,", "X 01,"), 5, "code", "contains ` `"),
            (GOOD.replace("UBND xã Tân Phú", ""), 5, "name", "no name"),
            (
                GOOD.replace("H01,UBND", "STP,UBND"),
                4,
                "code",
                "already defined on line 2",
            ),
            (GOOD.replace("code,name", "ma,ten"), 1, "header", "expected"),
        ];
        for (csv, want_line, want_field, want_reason) in cases {
            match parse_csv(csv.as_bytes(), &LevelScheme::default()) {
                Err(Error::UnitCsv {
                    line,
                    field,
                    reason,
                }) => {
                    assert_eq!((line, field), (want_line, want_field), "{reason}");
                    assert!(reason.contains(want_reason), "{reason}");
                }
                other => panic!("{want_reason}: {other:?}"),
            }
        }
        let ragged = GOOD.replace("H01,UBND huyện An Lạc,district,TINH", "H01,UBND huyện");
        let err = parse_csv(ragged.as_bytes(), &LevelScheme::default()).unwrap_err();
        assert!(matches!(err, Error::UnitCsvRead { line: 4, .. }), "{err:?}");
    }

    #[test]
    fn cycles_are_found() {
        let unit = |code: &str, parent: &str| {
            (
                code.to_owned(),
                Unit {
                    code: code.into(),
                    name: code.into(),
                    level: "department".into(),
                    parent: Some(parent.into()),
                },
            )
        };
        let map: BTreeMap<_, _> = [unit("A", "B"), unit("B", "A")].into_iter().collect();
        let err = parents_first(&map).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unit `A` is part of a parent cycle: A → B → A"
        );
    }
}
