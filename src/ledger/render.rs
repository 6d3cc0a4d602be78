//! A [`Report`] as a terminal table, CSV, JSON, or one self-contained HTML page with inline SVG
//! charts (no scripts, fonts, images or styles fetched from anywhere: the page is a file an
//! auditor can mail or archive).
//!
//! Text is Vietnamese first, then English. Rates print with one decimal; a unit that issued
//! nothing shows "—" (CSV: empty, JSON: `null`), never 0%. Every string taken from the ledger is
//! escaped for HTML, since unit names and document numbers come from outside.

use crate::html::escape;
use std::fmt::Write as _;

use super::Error;
use super::report::{MethodRow, Rates, Report};

/// The output formats of `kyso report --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "table" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "html" => Some(Format::Html),
            _ => None,
        }
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> Result<String, Error> {
    match format {
        Format::Table => Ok(table(report)),
        Format::Csv => csv(report),
        Format::Json => json(report),
        Format::Html => Ok(html(report)),
    }
}

/// JSON: the report's own structure, rates in percent, times RFC 3339.
pub fn json(report: &Report) -> Result<String, Error> {
    serde_json::to_string_pretty(report).map_err(|e| Error::Render {
        format: "JSON",
        reason: e.to_string(),
    })
}

/// CSV: one row for the scope overall, one per level and one per unit, each with own figures
/// (and, for units, the figures rolled up over the units below).
pub fn csv(report: &Report) -> Result<String, Error> {
    let fail = |e: csv::Error| Error::Render {
        format: "CSV",
        reason: e.to_string(),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "row",
            "period",
            "code",
            "name",
            "level",
            "parent",
            "issued",
            "declared_signed",
            "declared_rate",
            "verified_signed",
            "verified_rate",
            "gap_points",
            "declared_unverified",
            "long_term_protected",
            "needs_extending",
            "total_issued",
            "total_declared_signed",
            "total_declared_rate",
            "total_verified_signed",
            "total_verified_rate",
            "token_signatures",
            "token_certificates",
            "sim_signatures",
            "sim_certificates",
            "hsm_signatures",
            "hsm_certificates",
            "smart_signatures",
            "smart_certificates",
        ])
        .map_err(fail)?;
    let period = report.period.to_string();
    let figures = |r: &Rates| {
        [
            r.counts.issued.to_string(),
            r.counts.declared_signed.to_string(),
            number(r.declared_rate),
            r.counts.verified_signed.to_string(),
            number(r.verified_rate),
            number(r.gap_points),
            r.counts.declared_unverified.to_string(),
            r.counts.long_term_protected.to_string(),
            r.counts.needs_extending.to_string(),
        ]
    };
    let no_total = || vec![String::new(); 5];
    let total = |r: &Rates| {
        vec![
            r.counts.issued.to_string(),
            r.counts.declared_signed.to_string(),
            number(r.declared_rate),
            r.counts.verified_signed.to_string(),
            number(r.verified_rate),
        ]
    };
    let methods = |methods: &[MethodRow]| {
        methods
            .iter()
            .flat_map(|m| [m.signatures.to_string(), m.certificates.to_string()])
            .collect::<Vec<_>>()
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let scope = report.scope.as_ref();
    rows.push(
        [
            "overall".into(),
            period.clone(),
            scope.map(|u| u.code.clone()).unwrap_or_default(),
            scope.map(|u| spreadsheet_safe(&u.name)).unwrap_or_default(),
            report.level.clone().unwrap_or_default(),
            String::new(),
        ]
        .into_iter()
        .chain(figures(&report.overall))
        .chain(no_total())
        .chain(methods(&report.methods))
        .collect(),
    );
    for level in &report.levels {
        rows.push(
            [
                "level".into(),
                period.clone(),
                String::new(),
                level.label_vi.clone(),
                level.level.clone(),
                String::new(),
            ]
            .into_iter()
            .chain(figures(&level.rates))
            .chain(no_total())
            .chain(methods(&level.methods))
            .collect(),
        );
    }
    for unit in &report.units {
        rows.push(
            [
                "unit".into(),
                period.clone(),
                unit.code.clone(),
                spreadsheet_safe(&unit.name),
                unit.level.clone(),
                unit.parent.clone().unwrap_or_default(),
            ]
            .into_iter()
            .chain(figures(&unit.own))
            .chain(total(&unit.total))
            .chain(methods(&unit.methods))
            .collect(),
        );
    }
    for row in rows {
        writer.write_record(&row).map_err(fail)?;
    }
    let bytes = writer.into_inner().map_err(|e| Error::Render {
        format: "CSV",
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| Error::Render {
        format: "CSV",
        reason: e.to_string(),
    })
}

/// Text from the ledger as a CSV cell that a spreadsheet shows as text: a leading `=`, `+`, `-`,
/// `@`, tab or carriage return would make it a formula (CSV injection), so such a cell gets a
/// leading apostrophe, which spreadsheets hide.
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A plain-text table for a terminal.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Tỷ lệ văn bản được ký số / Signing rate: {} ({} – {}, giờ Việt Nam / Asia/Ho_Chi_Minh)",
        report.period, report.first_day, report.last_day
    );
    if let Some(unit) = &report.scope {
        let _ = writeln!(out, "Đơn vị / Unit: {} {}", unit.code, unit.name);
    }
    out.push('\n');
    let header = [
        "",
        "Văn bản/Issued",
        "Khai báo ký/Declared",
        "Xác minh/Verified",
        "Chênh/Gap",
    ];
    let mut rows: Vec<[String; 5]> = vec![rate_row("Tổng / Overall".into(), &report.overall)];
    for level in &report.levels {
        rows.push(rate_row(
            format!("{} / {} ({})", level.label_vi, level.label_en, level.units),
            &level.rates,
        ));
    }
    write_columns(&mut out, &header, &rows);

    out.push_str("\nĐơn vị / Units (số liệu riêng của đơn vị / own documents)\n");
    let rows: Vec<[String; 5]> = report
        .units
        .iter()
        .map(|u| {
            let label = format!(
                "{}{} {}",
                "  ".repeat(u.depth),
                u.code,
                truncate(&u.name, 48)
            );
            rate_row(label, &u.own)
        })
        .collect();
    write_columns(&mut out, &header, &rows);

    long_term_table(&mut out, report);

    out.push_str(
        "\nPhương thức ký / Signing method (chữ ký · chứng thư số / signatures · certificates)\n",
    );
    let mut rows: Vec<[String; 5]> = vec![method_row("Tổng / Overall".into(), &report.methods)];
    for level in &report.levels {
        rows.push(method_row(
            format!("{} / {}", level.label_vi, level.label_en),
            &level.methods,
        ));
    }
    let mut header = [""; 5];
    for (slot, m) in header[1..].iter_mut().zip(&report.methods) {
        *slot = m.method;
    }
    write_columns(&mut out, &header, &rows);

    out.push_str("\nNhà cung cấp chứng thư số / Certificate provider\n");
    let rows: Vec<[String; 2]> = report
        .providers
        .iter()
        .map(|p| [truncate(&p.issuer, 70), thousands(p.signatures)])
        .collect();
    write_columns(&mut out, &["", "Chữ ký/Signatures"], &rows);

    out.push_str("\nKiểm tra văn bản đến / Incoming verification\n");
    let rows: Vec<[String; 2]> = report
        .incoming
        .iter()
        .map(|i| {
            let verdict = match &i.sub_indication {
                Some(sub) => format!("{} / {sub}", i.indication),
                None => i.indication.to_owned(),
            };
            [verdict, thousands(i.count)]
        })
        .collect();
    write_columns(&mut out, &["", "Văn bản/Documents"], &rows);

    if let Some(list) = &report.unsigned {
        let rows: Vec<[String; 5]> = list
            .documents
            .iter()
            .map(|d| {
                [
                    d.document_id.clone(),
                    d.number.clone(),
                    truncate(&d.doc_type, 20),
                    local_time(d.issued_at),
                    format!(
                        "{} / {}",
                        d.declared.as_str(),
                        if d.verified { "verified" } else { "unverified" }
                    ),
                ]
            })
            .collect();
        document_list(
            &mut out,
            "Văn bản chưa ký hoặc chưa xác minh / Documents not signed or not verified",
            (&list.unit, list.total),
            &[
                "Mã/Id",
                "Số/Number",
                "Loại/Type",
                "Ngày/Issued",
                "Trạng thái/Status",
            ],
            &rows,
        );
    }
    out
}

/// A unit's list of documents: its title with the unit and how many there are in all, the first
/// of them as columns, and how many more were left out.
fn document_list<const N: usize>(
    out: &mut String,
    title: &str,
    (unit, total): (&str, u64),
    header: &[&str; N],
    rows: &[[String; N]],
) {
    let _ = writeln!(out, "\n{title}: {unit} ({})", thousands(total));
    write_columns(out, header, rows);
    if (rows.len() as u64) < total {
        let _ = writeln!(
            out,
            "… {} văn bản nữa / more documents",
            thousands(total - rows.len() as u64)
        );
    }
}

/// The long-term counts of the archive audits, for the scope and each unit that has any; nothing
/// when no audit recorded a long-term status.
fn long_term_table(out: &mut String, report: &Report) {
    let any = |r: &Rates| r.counts.long_term_protected + r.counts.needs_extending > 0;
    if !any(&report.overall) {
        return;
    }
    let _ = writeln!(
        out,
        "\nLưu trữ dài hạn (kiểm tra kho lưu trữ) / Long term (archive audits), gia hạn trước / renew by {}",
        local_time(report.renew_by)
    );
    let row = |label: String, r: &Rates| {
        [
            label,
            thousands(r.counts.long_term_protected),
            thousands(r.counts.needs_extending),
        ]
    };
    let mut rows = vec![row("Tổng / Overall".into(), &report.overall)];
    rows.extend(report.units.iter().filter(|u| any(&u.own)).map(|u| {
        row(
            format!(
                "{}{} {}",
                "  ".repeat(u.depth),
                u.code,
                truncate(&u.name, 48)
            ),
            &u.own,
        )
    }));
    write_columns(
        out,
        &[
            "",
            "Được bảo vệ/Protected",
            "Cần gia hạn ngay/Need extending now",
        ],
        &rows,
    );
    let Some(list) = report.to_extend.as_ref().filter(|l| l.total > 0) else {
        return;
    };
    let rows: Vec<[String; 5]> = list
        .documents
        .iter()
        .map(|d| {
            [
                d.document_id.clone(),
                d.number.clone(),
                protection_label(d.protected).to_owned(),
                local_time(d.until),
                truncate(d.certificate.as_deref().unwrap_or("—"), 60),
            ]
        })
        .collect();
    document_list(
        out,
        "Văn bản cần gia hạn ngay / Documents to extend now",
        (&list.unit, list.total),
        &[
            "Mã/Id",
            "Số/Number",
            "Mức/Level",
            "Hết hạn/Ends",
            "Chứng thư/Certificate",
        ],
        &rows,
    );
}

/// A document to extend, as the lists name it.
fn protection_label(protected: bool) -> &'static str {
    if protected {
        "B-LT/B-LTA: gia hạn dấu thời gian / renew the time-stamp"
    } else {
        "B-B/B-T: chưa bảo vệ / not protected"
    }
}

/// A row of the method table: each method's signatures and distinct certificates.
fn method_row(label: String, methods: &[MethodRow]) -> [String; 5] {
    let mut row: [String; 5] = Default::default();
    row[0] = label;
    for (cell, m) in row[1..].iter_mut().zip(methods) {
        *cell = format!(
            "{} · {}",
            thousands(m.signatures),
            thousands(m.certificates)
        );
    }
    row
}

fn rate_row(label: String, r: &Rates) -> [String; 5] {
    [
        label,
        thousands(r.counts.issued),
        format!(
            "{} {:>6}",
            thousands(r.counts.declared_signed),
            percent(r.declared_rate)
        ),
        format!(
            "{} {:>6}",
            thousands(r.counts.verified_signed),
            percent(r.verified_rate)
        ),
        r.gap_points.map_or("—".into(), |g| format!("{g:.1}")),
    ]
}

/// Left-aligns the first column and right-aligns the others, by characters (Vietnamese text is
/// NFC, one character per letter).
fn write_columns<const N: usize>(out: &mut String, header: &[&str; N], rows: &[[String; N]]) {
    let width = |s: &str| s.chars().count();
    let mut widths = [0usize; N];
    for (i, h) in header.iter().enumerate() {
        widths[i] = width(h);
    }
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let pad = widths[i].saturating_sub(width(cell));
            if i == 0 {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            } else {
                text.push_str("  ");
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".into(), |r| format!("{r:.1}%"))
}

fn number(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.2}"))
}

/// 44000 → "44,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn local_time(t: time::OffsetDateTime) -> String {
    let local = t.to_offset(super::period::VIETNAM);
    format!(
        "{} {:02}:{:02}",
        super::period::day(local.date()),
        local.hour(),
        local.minute()
    )
}

// ---------------------------------------------------------------------------------------------
// HTML

/// Colours of the two rates, used by the charts and their legend.
const DECLARED: &str = "#1f4e79";
const VERIFIED: &str = "#2e8b57";

/// One self-contained HTML page.
pub fn html(report: &Report) -> String {
    let mut page = String::new();
    let title = format!(
        "Tỷ lệ văn bản được ký số {} / Signing rate {}",
        report.period, report.period
    );
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 72rem; }}
h1 {{ font-size: 1.5rem; margin-bottom: .2rem; }}
h2 {{ font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }}
.en {{ color: #666; font-weight: normal; }}
.cards {{ display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1.2rem; min-width: 12rem; }}
.card .value {{ font-size: 2rem; font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ border-bottom: 1px solid #eee; padding: .25rem .5rem; text-align: right; }}
th:first-child, td:first-child, td.name {{ text-align: left; }}
tr.level-province td, tr.level-district td {{ font-weight: 600; }}
.muted {{ color: #888; }}
.legend span {{ display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; vertical-align: middle; }}
</style>
</head>
<body>
<h1>{h1}</h1>
<p class="en">{en}</p>
"#,
        title = escape(&title),
        h1 = escape(&format!("Tỷ lệ văn bản được ký số, {}", report.period)),
        en = escape(&format!(
            "Signing rate, {} ({} to {}, Asia/Ho_Chi_Minh){}",
            report.period,
            report.first_day,
            report.last_day,
            report
                .scope
                .as_ref()
                .map(|u| format!(" — {} {}", u.code, u.name))
                .unwrap_or_default()
        )),
    );

    let o = &report.overall;
    let _ = write!(
        page,
        r#"<div class="cards">
<div class="card"><div>Văn bản phát hành <span class="en">/ issued</span></div><div class="value">{issued}</div></div>
<div class="card"><div>Khai báo đã ký <span class="en">/ declared signed</span></div><div class="value" style="color:{DECLARED}">{declared}</div><div class="muted">{declared_n}</div></div>
<div class="card"><div>Xác minh đã ký <span class="en">/ verified signed</span></div><div class="value" style="color:{VERIFIED}">{verified}</div><div class="muted">{verified_n}</div></div>
<div class="card"><div>Chênh lệch <span class="en">/ gap</span></div><div class="value">{gap}</div><div class="muted">{unverified} khai báo ký nhưng chưa xác minh / declared but not verified</div></div>
<div class="card"><div>Lưu trữ dài hạn <span class="en">/ long term</span></div><div class="value" style="color:{VERIFIED}">{protected}</div><div class="muted">{extend} cần gia hạn ngay / need extending now (kyso extend)</div></div>
</div>
"#,
        issued = thousands(o.counts.issued),
        declared = percent(o.declared_rate),
        declared_n = thousands(o.counts.declared_signed),
        verified = percent(o.verified_rate),
        verified_n = thousands(o.counts.verified_signed),
        gap = o
            .gap_points
            .map_or("—".into(), |g| format!("{g:.1} điểm / points")),
        unverified = thousands(o.counts.declared_unverified),
        protected = thousands(o.counts.long_term_protected),
        extend = thousands(o.counts.needs_extending),
    );

    page.push_str(
        r#"<h2>Theo cấp <span class="en">/ By level</span></h2>
"#,
    );
    let level_rows: Vec<(String, &Rates)> = report
        .levels
        .iter()
        .map(|l| (format!("{} / {}", l.label_vi, l.label_en), &l.rates))
        .collect();
    page.push_str(&rate_chart(&level_rows));

    let mut lowest: Vec<&super::report::UnitRow> = report
        .units
        .iter()
        .filter(|u| u.own.declared_rate.is_some())
        .collect();
    lowest.sort_by(|a, b| {
        a.own
            .declared_rate
            .partial_cmp(&b.own.declared_rate)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.code.cmp(&b.code))
    });
    lowest.truncate(12);
    if !lowest.is_empty() {
        page.push_str(
            r#"<h2>Đơn vị có tỷ lệ thấp nhất <span class="en">/ Units with the lowest rates</span></h2>
"#,
        );
        let rows: Vec<(String, &Rates)> = lowest
            .iter()
            .map(|u| (truncate(&u.name, 40), &u.own))
            .collect();
        page.push_str(&rate_chart(&rows));
    }

    page.push_str(
        r#"<h2>Phương thức ký <span class="en">/ Signing method</span></h2>
"#,
    );
    let methods: Vec<(String, u64)> = report
        .methods
        .iter()
        .map(|m| (m.method.to_owned(), m.signatures))
        .collect();
    page.push_str(&count_chart(&methods, DECLARED));
    page.push_str(&method_table(report));

    page.push_str(
        r#"<h2>Nhà cung cấp chứng thư số <span class="en">/ Certificate provider</span></h2>
"#,
    );
    let providers: Vec<(String, u64)> = report
        .providers
        .iter()
        .map(|p| (provider_name(&p.issuer), p.signatures))
        .collect();
    page.push_str(&count_chart(&providers, DECLARED));

    page.push_str(
        r#"<h2>Kiểm tra văn bản đến <span class="en">/ Incoming verification</span></h2>
"#,
    );
    let incoming: Vec<(String, u64)> = report
        .incoming
        .iter()
        .map(|i| {
            (
                match &i.sub_indication {
                    Some(sub) => format!("{} / {sub}", i.indication),
                    None => i.indication.to_owned(),
                },
                i.count,
            )
        })
        .collect();
    page.push_str(&count_chart(&incoming, VERIFIED));

    page.push_str(
        r#"<h2>Đơn vị <span class="en">/ Units</span></h2>
<table>
<thead><tr><th>Đơn vị <span class="en">/ unit</span></th><th>Văn bản <span class="en">/ issued</span></th><th>Khai báo ký <span class="en">/ declared</span></th><th>Xác minh <span class="en">/ verified</span></th><th>Chênh <span class="en">/ gap</span></th><th>Bảo vệ dài hạn <span class="en">/ long-term protected</span></th><th>Cần gia hạn <span class="en">/ need extending</span></th><th>Tổng kể cả cấp dưới <span class="en">/ incl. units below</span></th></tr></thead>
<tbody>
"#,
    );
    for u in &report.units {
        let _ = writeln!(
            page,
            r#"<tr class="level-{level}"><td class="name" style="padding-left:{indent}rem">{code} {name}</td><td>{issued}</td><td>{declared}</td><td>{verified}</td><td>{gap}</td><td>{protected}</td><td>{extend}</td><td>{total_issued} · {total_rate}</td></tr>"#,
            level = escape(&u.level),
            indent = 0.5 + u.depth as f64 * 1.2,
            code = escape(&u.code),
            name = escape(&u.name),
            issued = thousands(u.own.counts.issued),
            declared = percent(u.own.declared_rate),
            verified = percent(u.own.verified_rate),
            gap = u.own.gap_points.map_or("—".into(), |g| format!("{g:.1}")),
            protected = thousands(u.own.counts.long_term_protected),
            extend = thousands(u.own.counts.needs_extending),
            total_issued = thousands(u.total.counts.issued),
            total_rate = percent(u.total.declared_rate),
        );
    }
    page.push_str("</tbody>\n</table>\n");

    if let Some(list) = &report.unsigned {
        let _ = write!(
            page,
            r#"<h2>Văn bản chưa ký hoặc chưa xác minh <span class="en">/ Documents not signed or not verified</span>: {unit} ({total})</h2>
<table>
<thead><tr><th>Mã <span class="en">/ id</span></th><th>Số <span class="en">/ number</span></th><th>Loại <span class="en">/ type</span></th><th>Ngày <span class="en">/ issued</span></th><th>Khai báo <span class="en">/ declared</span></th><th>Xác minh <span class="en">/ verified</span></th></tr></thead>
<tbody>
"#,
            unit = escape(&list.unit),
            total = thousands(list.total),
        );
        for d in &list.documents {
            let _ = writeln!(
                page,
                r#"<tr><td>{}</td><td>{}</td><td class="name">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&d.document_id),
                escape(&d.number),
                escape(&d.doc_type),
                local_time(d.issued_at),
                match d.declared {
                    super::Declared::Signed => "đã ký / signed",
                    super::Declared::Unsigned => "chưa ký / unsigned",
                },
                if d.verified {
                    "có / yes"
                } else {
                    "không / no"
                },
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    if let Some(list) = report.to_extend.as_ref().filter(|l| l.total > 0) {
        let _ = write!(
            page,
            r#"<h2>Văn bản cần gia hạn ngay <span class="en">/ Documents to extend now (kyso extend)</span>: {unit} ({total})</h2>
<table>
<thead><tr><th>Mã <span class="en">/ id</span></th><th>Số <span class="en">/ number</span></th><th>Ngày <span class="en">/ issued</span></th><th>Mức <span class="en">/ level</span></th><th>Hết hạn <span class="en">/ ends</span></th><th>Chứng thư <span class="en">/ certificate</span></th></tr></thead>
<tbody>
"#,
            unit = escape(&list.unit),
            total = thousands(list.total),
        );
        for d in &list.documents {
            let _ = writeln!(
                page,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="name">{}</td></tr>"#,
                escape(&d.document_id),
                escape(&d.number),
                local_time(d.issued_at),
                protection_label(d.protected),
                local_time(d.until),
                escape(d.certificate.as_deref().unwrap_or("—")),
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        page,
        r#"<p class="muted">Khai báo: phần mềm quản lý văn bản cho biết văn bản đã ký. Xác minh: kyso tìm thấy chữ ký hợp lệ (TOTAL-PASSED) khi ký hoặc khi kiểm tra lưu trữ.<br>
<span class="en">Declared: the document-management software said the document was signed. Verified: kyso found a TOTAL-PASSED signature on it, when signing or in an archive audit. UTC range {start} – {end}.</span></p>
</body>
</html>
"#,
        start = escape(&report.range.start.to_string()),
        end = escape(&report.range.end.to_string()),
    );
    page
}

/// Signatures and distinct signer certificates by method: overall and per level.
fn method_table(report: &Report) -> String {
    let mut table = String::from(
        r#"<table class="methods">
<thead><tr><th>Chữ ký · chứng thư số <span class="en">/ signatures · certificates</span></th>"#,
    );
    for m in &report.methods {
        let _ = write!(table, "<th>{}</th>", escape(m.method));
    }
    table.push_str("</tr></thead>\n<tbody>\n");
    let mut row = |label: String, methods: &[MethodRow]| {
        let _ = write!(table, r#"<tr><td class="name">{}</td>"#, escape(&label));
        for m in methods {
            let _ = write!(
                table,
                "<td>{} · {}</td>",
                thousands(m.signatures),
                thousands(m.certificates)
            );
        }
        table.push_str("</tr>\n");
    };
    row("Tổng / Overall".into(), &report.methods);
    for level in &report.levels {
        row(
            format!("{} / {}", level.label_vi, level.label_en),
            &level.methods,
        );
    }
    table.push_str("</tbody>\n</table>\n");
    table
}

/// Horizontal bars, two per row (declared and verified), on a 0-100% axis.
fn rate_chart(rows: &[(String, &Rates)]) -> String {
    const LABEL: f64 = 330.0;
    const BAR: f64 = 480.0;
    const ROW: f64 = 34.0;
    let height = 30.0 + ROW * rows.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<p class="legend"><span style="background:{DECLARED}"></span>khai báo / declared<span style="background:{VERIFIED}"></span>xác minh / verified</p>
<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-size="12">
"#,
        w = LABEL + BAR + 70.0,
    );
    for tick in [0, 25, 50, 75, 100] {
        let x = LABEL + BAR * f64::from(tick) / 100.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{x}" y1="0" x2="{x}" y2="{y2}" stroke="#ddd"/><text x="{x}" y="{ty}" text-anchor="middle" fill="#888">{tick}%</text>"##,
            y2 = height - 18.0,
            ty = height - 4.0,
        );
    }
    for (i, (label, rates)) in rows.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let _ = writeln!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>"#,
            lx = LABEL - 8.0,
            ty = y + 17.0,
            label = escape(label),
        );
        for (k, (rate, colour)) in [
            (rates.declared_rate, DECLARED),
            (rates.verified_rate, VERIFIED),
        ]
        .into_iter()
        .enumerate()
        {
            let by = y + 2.0 + 13.0 * k as f64;
            match rate {
                Some(r) => {
                    let _ = writeln!(
                        svg,
                        r#"<rect x="{LABEL}" y="{by}" width="{w:.1}" height="11" fill="{colour}"><title>{r:.1}%</title></rect><text x="{tx:.1}" y="{ty}" fill="{colour}">{r:.1}%</text>"#,
                        w = BAR * r / 100.0,
                        tx = LABEL + BAR * r / 100.0 + 4.0,
                        ty = by + 10.0,
                    );
                }
                None => {
                    let _ = writeln!(
                        svg,
                        r##"<text x="{tx}" y="{ty}" fill="#888">— không có văn bản / no documents</text>"##,
                        tx = LABEL + 4.0,
                        ty = by + 10.0,
                    );
                }
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Horizontal bars of counts, scaled to the largest.
fn count_chart(rows: &[(String, u64)], colour: &str) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">Không có dữ liệu / no data</p>\n".into();
    }
    const LABEL: f64 = 330.0;
    const BAR: f64 = 420.0;
    const ROW: f64 = 22.0;
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let height = 8.0 + ROW * rows.len() as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-size="12">"#,
        w = LABEL + BAR + 90.0,
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let w = BAR * *n as f64 / max;
        let _ = writeln!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{LABEL}" y="{y}" width="{w:.1}" height="15" fill="{colour}"/><text x="{tx:.1}" y="{ty}">{count}</text>"#,
            lx = LABEL - 8.0,
            ty = y + 12.0,
            label = escape(&truncate(label, 48)),
            tx = LABEL + w + 4.0,
            count = thousands(*n),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The organisation (O=) of an issuer DN, which names the provider; the whole DN otherwise.
fn provider_name(issuer: &str) -> String {
    issuer
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("O="))
        .map_or_else(|| issuer.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_format_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(44_000), "44,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(97.96)), "98.0%");
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(truncate("Sở Tư pháp", 6), "Sở Tư…");
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("Sở Tư pháp"), "Sở Tư pháp");
        assert_eq!(
            provider_name("CN=CA phục vụ các cơ quan Nhà nước, O=Ban Cơ yếu Chính phủ, C=VN"),
            "Ban Cơ yếu Chính phủ"
        );
    }
}
