//! `kyso audit verify | checkpoint | export`: the audit chain and its checkpoints
//! ([`kyso::audit::checkpoint`]). Words in Vietnamese and English: both, one line each, unless
//! `--lang` picks one; `--json` for scripts.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use kyso::api::StoreConfig;
use kyso::audit::checkpoint::{
    self, Checks, Finding, Problem as CheckpointProblem, Report, Schedule,
};
use kyso::audit::{Problem, Verification};
use kyso::signing::{KeyMaterial, Trust};
use kyso::verify::text::Language;

use super::{EXIT_OK, Runtime};

/// Exit code when the chain is broken or a checkpoint shows a cut (as for an invalid document).
pub const EXIT_BROKEN: u8 = 1;

/// Each CRL or OCSP exchange while checking checkpoint certificates online.
const REVOCATION_TIMEOUT: Duration = Duration::from_secs(15);

/// `kyso audit verify`.
pub fn verify(
    runtime: &Runtime,
    store: &StoreConfig,
    exported: Option<&Path>,
    at: Option<&str>,
    lang: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let languages = languages(lang)?;
    let at = match at {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .with_context(|| format!("--at {text}: expected an RFC 3339 time"))?,
        None => OffsetDateTime::now_utc(),
    };
    let exported = match exported {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            checkpoint::read_export(&text).with_context(|| format!("reading {}", path.display()))?
        }
        None => Vec::new(),
    };
    let schedule = Schedule::from_config(&runtime.config.audit)?;
    let trust = Trust::configured(&runtime.config).context("reading [verify]")?;
    let online = (trust.revocation == kyso::verify::Revocation::Online).then(|| {
        kyso::pki::fetch::Online::configured(
            REVOCATION_TIMEOUT,
            kyso::pki::fetch::OcspNonce::Optional,
            &trust.fetch,
        )
    });
    let checks = Checks {
        at,
        schedule: schedule.as_ref(),
        exported: &exported,
        anchors: trust.anchors.clone(),
        intermediates: trust.certificates.clone(),
        sources: checkpoint::sources(&trust.evidence, online.as_ref()),
        skip_revocation: trust.revocation == kyso::verify::Revocation::DangerouslyOff,
    };
    let mut store = store.open().context("opening the ledger")?;
    let report = checkpoint::verify(store.as_mut(), &checks).context("reading the audit log")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for language in languages {
            for line in lines(&report, language) {
                println!("{line}");
            }
        }
    }
    Ok(if report.is_clean() {
        EXIT_OK
    } else {
        EXIT_BROKEN
    })
}

/// `kyso audit checkpoint`: one checkpoint now, whatever the schedule says.
pub fn make(runtime: &Runtime, store: &StoreConfig, json: bool) -> anyhow::Result<u8> {
    let config = &runtime.config;
    let Some(schedule) = Schedule::from_config(&config.audit)? else {
        bail!(
            "no checkpoint key: set [audit] checkpoint_key (or KYSO_AUDIT_CHECKPOINT_KEY) to a [[serve.keys]] name"
        );
    };
    let Some(tsa) = config.tsa(None).context("reading [tsa]")? else {
        bail!(
            "checkpoints are time-stamped, and no TSA is configured: set [tsa] url (or KYSO_TSA_URL)"
        );
    };
    let key = open_key(runtime, &schedule.key)?;
    let mut store = store.open().context("opening the ledger")?;
    let (head_seq, head_hash) = store.audit_head().context("reading the audit head")?;
    let record = checkpoint::make(head_seq, &head_hash, &key, &schedule.key, &tsa, "cli")
        .context("making the checkpoint")?;
    let entries = store
        .append_audit(std::slice::from_ref(&record))
        .context("appending the checkpoint")?;
    let Some(entry) = entries.first() else {
        bail!("the store appended nothing");
    };
    if json {
        println!("{}", serde_json::to_string_pretty(entry)?);
    } else {
        println!(
            "đã tạo điểm kiểm tra {seq}: ký đầu chuỗi tại mục {head_seq} bằng khoá {key}, có dấu thời gian",
            seq = entry.seq,
            key = schedule.key
        );
        println!(
            "checkpoint {seq} made: the head at entry {head_seq} signed with key {key} and time-stamped",
            seq = entry.seq,
            key = schedule.key
        );
    }
    Ok(EXIT_OK)
}

/// `kyso audit export --out FILE`.
pub fn export(store: &StoreConfig, out: &Path) -> anyhow::Result<u8> {
    let mut store = store.open().context("opening the ledger")?;
    // Written beside the target and renamed, so that a failure never leaves half an export
    // where a good one was.
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let count = checkpoint::export(store.as_mut(), &mut writer).context("exporting")?;
    writer
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "đã xuất {count} điểm kiểm tra {} / exported {count} checkpoints to {}",
        out.display(),
        out.display()
    );
    std::io::stdout().flush().ok();
    Ok(EXIT_OK)
}

/// The `[[serve.keys]]` key called `name`, opened with its certificate and issuers.
fn open_key(runtime: &Runtime, name: &str) -> anyhow::Result<KeyMaterial> {
    let Some(configured) = runtime.config.serve.keys.iter().find(|k| k.name == name) else {
        bail!("[audit] checkpoint_key `{name}`: no [[serve.keys]] key has this name");
    };
    let key_name = kyso::signing::KeyName::parse(&configured.uri)
        .with_context(|| format!("[[serve.keys]] `{name}` uri"))?;
    let mut extra: Vec<Vec<u8>> = Vec::new();
    for path in &configured.chain {
        extra.extend(
            kyso::signing::read_certificates(path)
                .with_context(|| format!("[[serve.keys]] `{name}` chain"))?,
        );
    }
    let options = kyso::token::KeyOptions::default();
    match key_name {
        kyso::signing::KeyName::Token(uri) => {
            let defaults = runtime.token_defaults(None)?;
            KeyMaterial::open(&uri, &defaults, options, &extra)
        }
        kyso::signing::KeyName::Remote(reference) => {
            let access = runtime
                .config
                .csc
                .access(
                    configured.token_source.as_deref(),
                    configured.pin_source.as_deref(),
                )
                .with_context(|| format!("[[serve.keys]] `{name}`: the CSC settings"))?;
            KeyMaterial::open_remote(&reference, &access, options, &extra)
        }
    }
    .with_context(|| format!("opening the checkpoint key `{name}`"))
}

fn languages(lang: Option<&str>) -> anyhow::Result<Vec<Language>> {
    Ok(match lang {
        None => vec![Language::Vietnamese, Language::English],
        Some(_) => vec![super::language(lang)?],
    })
}

/// A time in Vietnamese as the clerks read it (UTC+7), in English as RFC 3339.
fn time_text(t: OffsetDateTime, vi: bool) -> String {
    if vi {
        kyso::verify::text::local_time(t)
    } else {
        t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
    }
}

/// The report in `language`: the chain, the checkpoints, then each finding.
fn lines(report: &Report, language: Language) -> Vec<String> {
    let vi = language == Language::Vietnamese;
    let mut out = Vec::new();
    match &report.chain {
        Verification::Intact { entries, head_hash } => out.push(if vi {
            format!("nhật ký kiểm toán nguyên vẹn: {entries} mục, đầu chuỗi {head_hash}")
        } else {
            format!("audit log intact: {entries} entries, head {head_hash}")
        }),
        Verification::Broken { problem, .. } => out.push(if vi {
            format!("nhật ký kiểm toán BỊ HỎNG: {}", problem_vi(problem))
        } else {
            format!("audit log BROKEN: {problem}")
        }),
    }
    let valid = report.checkpoints.iter().filter(|c| c.valid).count();
    let newest = report.checkpoints.iter().rev().find(|c| c.valid);
    out.push(match (newest, vi) {
        (Some(c), true) => format!(
            "{} điểm kiểm tra ({valid} hợp lệ); mới nhất: mục {}, ký đầu chuỗi tại mục {}, lúc {}",
            report.checkpoints.len(),
            c.seq,
            c.head_seq,
            c.time.map(|t| time_text(t, vi)).unwrap_or_default()
        ),
        (Some(c), false) => format!(
            "{} checkpoints ({valid} valid); the newest: entry {}, signing the head at entry {}, at {}",
            report.checkpoints.len(),
            c.seq,
            c.head_seq,
            c.time.map(|t| time_text(t, vi)).unwrap_or_default()
        ),
        (None, true) => "không có điểm kiểm tra hợp lệ nào".to_owned(),
        (None, false) => "no valid checkpoint".to_owned(),
    });
    if !report.paths_checked && !report.checkpoints.is_empty() {
        out.push(if vi {
            "chưa cấu hình chứng thư gốc tin cậy ([verify] trust): chữ ký và dấu thời gian đã được kiểm tra, chuỗi chứng thư thì chưa".to_owned()
        } else {
            "no trust anchors configured ([verify] trust): signatures and time-stamps were checked, certificate paths were not".to_owned()
        });
    }
    for finding in &report.findings {
        out.push(finding_text(finding, vi));
    }
    out
}

fn finding_text(finding: &Finding, vi: bool) -> String {
    match finding {
        Finding::Forged { seq, problem } => {
            if vi {
                format!(
                    "điểm kiểm tra {seq} GIẢ MẠO hoặc hỏng: {}",
                    checkpoint_problem_vi(problem)
                )
            } else {
                format!("checkpoint {seq} is FORGED or broken: {problem}")
            }
        }
        Finding::Rewound {
            seq,
            made_at,
            log_ends_at,
        } => {
            let when = made_at
                .map(|t| time_text(t, vi))
                .unwrap_or_else(|| "?".to_owned());
            if vi {
                format!(
                    "NHẬT KÝ BỊ CẮT NGẮN: nhật ký dừng ở mục {log_ends_at}, trước điểm kiểm tra {seq} tạo lúc {when} có trong bản xuất"
                )
            } else {
                format!(
                    "the log was CUT BACK before checkpoint {seq} made at {when}: it ends at entry {log_ends_at}"
                )
            }
        }
        Finding::Replaced { seq } => {
            if vi {
                format!(
                    "NHẬT KÝ BỊ VIẾT LẠI: mục {seq} không còn là điểm kiểm tra có trong bản xuất"
                )
            } else {
                format!("the log was REWRITTEN: entry {seq} is no longer the exported checkpoint")
            }
        }
        Finding::Stale {
            newest,
            since,
            entries_after,
            period_minutes,
            grace_minutes,
        } => {
            let since = time_text(*since, vi);
            match (newest.is_some(), *entries_after > 0, vi) {
                (true, true, true) => format!(
                    "không có điểm kiểm tra nào từ {since} (chu kỳ {period_minutes} phút, gia hạn {grace_minutes} phút) dù có {entries_after} mục sau đó: nhật ký có thể đã bị cắt ngắn, hoặc việc tạo điểm kiểm tra đang lỗi"
                ),
                (true, true, false) => format!(
                    "no checkpoint since {since} (period {period_minutes} min, grace {grace_minutes} min), though {entries_after} entries follow it: the log may have been cut back, or checkpointing is failing"
                ),
                (true, false, true) => format!(
                    "không có điểm kiểm tra nào từ {since} (chu kỳ {period_minutes} phút, gia hạn {grace_minutes} phút): nhật ký có thể đã bị cắt ngắn, hoặc dịch vụ không chạy"
                ),
                (true, false, false) => format!(
                    "no checkpoint since {since} (period {period_minutes} min, grace {grace_minutes} min): the log may have been cut back, or the service has not been running"
                ),
                (false, _, true) => format!(
                    "không có điểm kiểm tra hợp lệ nào trong {entries_after} mục, mục đầu tiên lúc {since} (chu kỳ {period_minutes} phút)"
                ),
                (false, _, false) => format!(
                    "no valid checkpoint in {entries_after} entries, the first written at {since} (period {period_minutes} min)"
                ),
            }
        }
    }
}

fn problem_vi(problem: &Problem) -> String {
    match problem {
        Problem::Missing { previous, seq } => {
            format!("mục {seq} nối sau mục {previous}: các mục ở giữa đã mất")
        }
        Problem::Edited { seq } => {
            format!("mục {seq} không khớp mã băm đã lưu: nội dung đã bị sửa")
        }
        Problem::Unlinked { previous, seq } => format!(
            "mục {seq} không nối với mục {previous}: các mục đã bị đổi thứ tự hoặc thay thế"
        ),
        Problem::Head {
            head_seq,
            head_hash,
            last_seq,
        } => format!(
            "đầu chuỗi ghi mục {head_seq} ({head_hash}), nhật ký dừng ở mục {last_seq}: các mục cuối đã bị xoá hoặc đầu chuỗi đã bị sửa"
        ),
    }
}

fn checkpoint_problem_vi(problem: &CheckpointProblem) -> String {
    match problem {
        CheckpointProblem::Unreadable(detail) => {
            format!("nội dung không đọc được như một điểm kiểm tra: {detail}")
        }
        CheckpointProblem::NotBefore { head_seq } => {
            format!("nó ký mục {head_seq}, không đứng trước nó")
        }
        CheckpointProblem::HeadMismatch { head_seq } => {
            format!("đầu chuỗi nó ký, mục {head_seq}, không có trong chuỗi với mã băm đó")
        }
        CheckpointProblem::Signature(detail) => {
            format!("chữ ký không khớp với chứng thư đã nêu: {detail}")
        }
        CheckpointProblem::SignerPath(detail) => {
            format!("chứng thư của khoá ký không dẫn tới chứng thư gốc tin cậy: {detail}")
        }
        CheckpointProblem::Timestamp(detail) => {
            format!("dấu thời gian không hợp lệ: {detail}")
        }
    }
}
