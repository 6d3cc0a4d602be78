//! Checkpoints of the audit log end to end (issue 19 item 5): a SoftHSM key signs the head, a
//! real `openssl ts` TSA behind the loopback front time-stamps it, and `kyso audit verify`
//! finds a tail cut together with a rewritten head row (with an export, and by the staleness
//! rule without one), a forged checkpoint, and passes an intact log.

use std::path::{Path, PathBuf};
use std::process::Output;

use kyso::audit::{self, Action};
use kyso::ledger::Store;
use kyso::ledger::sqlite::{Durability, SqliteStore};
use kyso::testpki::{PkiOptions, TestPki};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::fixture::Client;
use crate::api::nodes::{Node, key_on_shared_token};
use crate::cli::{kyso, text};
use crate::support::responders::{Responders, Tsa};
use crate::support::{CLI_TOKEN, tokens};

/// A ledger, a checkpoint key on the CLI token (which child processes share), a TSA under a
/// PKI of its own, and kyso.toml naming them.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    ledger: PathBuf,
    tsa_url: String,
    /// Dropping it takes the TSA down: later requests are refused.
    front: Option<Responders>,
    _tsa: Tsa,
}

impl Setup {
    fn new(audit: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let label = key_on_shared_token(dir.path());
        let tsa_pki = TestPki::new(PkiOptions::default()).unwrap();
        tsa_pki
            .write_authorities(&dir.path().join("tsa-pki"))
            .unwrap();
        let tsa = Tsa::for_pki(&tsa_pki);
        let front = Responders::start();
        front.serve_tsa("/tsa", &tsa);
        let ledger = dir.path().join("ledger.sqlite");
        let t = tokens();
        let text = format!(
            r#"
[token]
module = "{module}"
pin_source = "file:{pin}"

[verify]
trust = ["{d}/pki/root.pem", "{d}/tsa-pki/root.pem"]
crls = ["{d}/pki/intermediate.crl", "{d}/pki/root.crl", "{d}/tsa-pki/intermediate.crl", "{d}/tsa-pki/root.crl"]
revocation = "offline"

[serve]
ledger = "{ledger}"
shutdown_grace_secs = 5

[[serve.keys]]
name = "audit"
uri = "pkcs11:token={CLI_TOKEN};object={label}"
unit = "STP"
chain = ["{d}/pki/intermediate.pem"]

[tsa]
url = "{tsa_url}"

[audit]
checkpoint_key = "audit"
{audit}
"#,
            module = t.module.display(),
            pin = t.pin_file(CLI_TOKEN).display(),
            d = dir.path().display(),
            ledger = ledger.display(),
            tsa_url = front.url("/tsa"),
        );
        let config = dir.path().join("kyso.toml");
        std::fs::write(&config, text).unwrap();
        // The ledger's tables, made before any entry is written.
        SqliteStore::open(&ledger, Durability::Normal).unwrap();
        Setup {
            dir,
            config,
            ledger,
            tsa_url: front.url("/tsa"),
            front: Some(front),
            _tsa: tsa,
        }
    }

    fn kyso(&self, args: &[&str]) -> Output {
        kyso()
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env_remove("KYSO_LEDGER_POSTGRES_URL")
            .output()
            .unwrap()
    }

    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.ledger, Durability::Normal).unwrap()
    }

    fn append(&self, n: usize) {
        let mut store = self.store();
        for i in 0..n {
            let record = audit::Record::new(
                "apikey:0011223344556677",
                Action::Signature,
                format!("doc-{i}"),
                &serde_json::json!({"key": "stp-01", "i": i}),
            );
            store.append_audit(&[record]).unwrap();
        }
    }

    fn checkpoint(&self) -> audit::Entry {
        let out = self.kyso(&["audit", "checkpoint", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `kyso audit verify --json` with `extra` arguments: the exit code and the report.
    fn verify(&self, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut args = vec!["audit", "verify", "--json"];
        args.extend_from_slice(extra);
        let out = self.kyso(&args);
        let report =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        (out.status.code(), report)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn later(hours: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::hours(hours))
        .format(&Rfc3339)
        .unwrap()
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Cuts the log back to `keep` entries and rewrites the head row to match, as someone with
/// write access to the database would.
fn cut_tail(ledger: &Path, keep: i64) {
    let db = rusqlite::Connection::open(ledger).unwrap();
    let hash: String = db
        .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [keep], |r| {
            r.get(0)
        })
        .unwrap();
    db.execute("DELETE FROM audit_log WHERE seq > ?1", [keep])
        .unwrap();
    db.execute(
        "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
        rusqlite::params![keep, hash],
    )
    .unwrap();
}

#[test]
fn a_cut_tail_with_a_rewritten_head_is_found() {
    let setup = Setup::new("checkpoint_every_minutes = 60\ncheckpoint_grace_minutes = 15");
    setup.append(5);
    let first = setup.checkpoint();
    assert_eq!(first.seq, 6);
    assert_eq!(first.record.action, "checkpoint");
    let details: serde_json::Value = serde_json::from_str(&first.record.details).unwrap();
    assert_eq!(details["head_seq"], 5);
    assert_eq!(details["format"], "kyso-audit-checkpoint-v1");
    assert_eq!(details["algorithm"], "ecdsa-sha256");
    setup.append(3);
    assert_eq!(setup.checkpoint().seq, 10);
    setup.append(2);

    // Intact: every checkpoint holds, in both languages and as JSON.
    let (code, report) = setup.verify(&[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["chain"]["status"], "intact");
    assert_eq!(report["chain"]["entries"], 12);
    assert_eq!(report["paths_checked"], true);
    let checkpoints = report["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 2);
    assert!(checkpoints.iter().all(|c| c["valid"] == true), "{report:#}");
    assert!(kinds(&report).is_empty(), "{report:#}");
    let out = setup.kyso(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("audit log intact: 12 entries"), "{words}");
    assert!(words.contains("2 checkpoints (2 valid)"), "{words}");
    assert!(
        words.contains("nhật ký kiểm toán nguyên vẹn: 12 mục"),
        "{words}"
    );
    assert!(words.contains("2 điểm kiểm tra (2 hợp lệ)"), "{words}");

    // The export, kept elsewhere, matches the log.
    let export = setup.path("export.jsonl");
    let out = setup.kyso(&["audit", "export", "--out", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = std::fs::read_to_string(&export).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    let (code, report) = setup.verify(&["--checkpoints", export.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{report:#}");

    // Cut back to entry 8 (taking the second checkpoint, entry 10) and rewrite the head row:
    // the chain alone cannot tell.
    cut_tail(&setup.ledger, 8);
    let (code, report) = setup.verify(&[]);
    assert_eq!(
        (code, report["chain"]["status"].as_str()),
        (Some(0), Some("intact")),
        "within the period and without an export the cut is not visible: {report:#}"
    );

    // With the export: the log ends before checkpoint 10.
    let (code, report) = setup.verify(&["--checkpoints", export.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(kinds(&report), ["rewound"], "{report:#}");
    assert_eq!(report["findings"][0]["seq"], 10);
    assert_eq!(report["findings"][0]["log_ends_at"], 8);
    assert!(report["findings"][0]["made_at"].is_string(), "{report:#}");
    let out = setup.kyso(&["audit", "verify", "--checkpoints", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("CUT BACK before checkpoint 10"), "{words}");
    assert!(words.contains("NHẬT KÝ BỊ CẮT NGẮN"), "{words}");

    // Without the export, once the period and grace have passed: no checkpoint since the first,
    // though entries follow it.
    let at = later(2);
    let (code, report) = setup.verify(&["--at", &at]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(kinds(&report), ["stale"], "{report:#}");
    assert_eq!(report["findings"][0]["entries_after"], 2);
    assert_eq!(report["findings"][0]["period_minutes"], 60);
    let out = setup.kyso(&["audit", "verify", "--lang", "en", "--at", &at]);
    assert_eq!(out.status.code(), Some(1));
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("no checkpoint since"), "{words}");
    assert!(words.contains("2 entries follow it"), "{words}");
    assert!(!words.contains("điểm kiểm"), "--lang en: {words}");
}

#[test]
fn a_forged_checkpoint_is_reported() {
    let setup = Setup::new("");
    setup.append(2);
    let genuine = setup.checkpoint();
    let details: serde_json::Value = serde_json::from_str(&genuine.record.details).unwrap();

    // Someone with write access appends a checkpoint of their own, properly chained: the
    // genuine one's signature moved onto a later head.
    let mut store = setup.store();
    let (head_seq, head_hash) = store.audit_head().unwrap();
    let mut moved = details.clone();
    moved["head_seq"] = head_seq.into();
    moved["head_hash"] = head_hash.into();
    let forged = audit::Record::new("service", Action::Checkpoint, "3", &moved);
    let entries = store.append_audit(&[forged]).unwrap();
    let (code, report) = setup.verify(&[]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(kinds(&report), ["forged"], "{report:#}");
    assert_eq!(report["findings"][0]["seq"], entries[0].seq);
    assert_eq!(report["findings"][0]["problem"]["problem"], "signature");
    let out = setup.kyso(&["audit", "verify"]);
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("is FORGED or broken"), "{words}");
    assert!(words.contains("GIẢ MẠO"), "{words}");

    // A checkpoint naming a head the chain does not hold.
    let mut elsewhere = details.clone();
    elsewhere["head_hash"] = "00".repeat(32).into();
    let forged = audit::Record::new("service", Action::Checkpoint, "2", &elsewhere);
    let entries = store.append_audit(&[forged]).unwrap();
    let (_, report) = setup.verify(&[]);
    let last = report["findings"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["seq"], entries[0].seq, "{report:#}");
    assert_eq!(last["problem"]["problem"], "head_mismatch", "{report:#}");

    // A checkpoint whose time-stamp covers another signature.
    let second = setup.checkpoint();
    let mut restamped: serde_json::Value = serde_json::from_str(&second.record.details).unwrap();
    restamped["timestamp"] = details["timestamp"].clone();
    let forged = audit::Record::new("service", Action::Checkpoint, "x", &restamped);
    let entries = store.append_audit(&[forged]).unwrap();
    let (_, report) = setup.verify(&[]);
    let last = report["findings"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["seq"], entries[0].seq, "{report:#}");
    assert_eq!(last["problem"]["problem"], "timestamp", "{report:#}");
    // The genuine ones still hold.
    let valid: Vec<u64> = report["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["valid"] == true)
        .map(|c| c["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(valid, [genuine.seq, second.seq], "{report:#}");
}

#[test]
fn without_a_tsa_or_a_key_no_checkpoint_is_made() {
    let mut setup = Setup::new("");
    setup.append(1);
    let out = setup.kyso(&["audit", "checkpoint"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The TSA gone: the command fails, naming it, and the log is unchanged.
    setup.front = None;
    let out = setup.kyso(&["audit", "checkpoint"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("time-stamping the checkpoint"),
        "{}",
        text(&out)
    );
    assert_eq!(setup.store().audit_head().unwrap().0, 2);
    let out = kyso()
        .arg("--config")
        .arg(&setup.config)
        .args(["audit", "checkpoint"])
        .env("KYSO_AUDIT_CHECKPOINT_KEY", "nobody")
        .env_remove("KYSO_LEDGER_POSTGRES_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("`nobody`"), "{}", text(&out));
}

#[test]
fn the_service_checkpoints_at_start() {
    let setup = Setup::new("checkpoint_every_minutes = 60");
    setup.append(3);
    let node = Node::start(&setup.config, &[("KYSO_LEDGER_POSTGRES_URL", "")]);
    // The first look is at start: no checkpoint yet, so one is due.
    let made = (0..100).any(|_| {
        let found = checkpoint_count(&setup) > 0;
        if !found {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        found
    });
    drop(node);
    assert!(made, "no checkpoint within 10 s of start");
    let (code, report) = setup.verify(&[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["checkpoints"][0]["key"], "audit");
    assert_eq!(report["checkpoints"][0]["head_seq"], 3);
}

#[test]
fn with_the_tsa_down_the_service_serves_and_the_log_grows() {
    let setup = Setup::new("checkpoint_every_minutes = 60");
    // The same settings with a TSA that refuses connections (port 9, discard, is closed).
    let dead = setup.config.with_extension("dead.toml");
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &dead,
        text.replace(&setup.tsa_url, "http://127.0.0.1:9/tsa"),
    )
    .unwrap();
    let node = Node::start(&dead, &[("KYSO_LEDGER_POSTGRES_URL", "")]);
    // The first attempt (at start) fails at once on the refused connection.
    std::thread::sleep(std::time::Duration::from_secs(2));
    setup.append(3);
    let ready = Client::new(&node.url)
        .request("GET", "/readyz", None, None, Vec::new())
        .unwrap();
    assert_eq!(ready.status, 200);
    drop(node);
    assert_eq!(checkpoint_count(&setup), 0);
    assert_eq!(setup.store().audit_head().unwrap().0, 3);
}

fn checkpoint_count(setup: &Setup) -> usize {
    let mut store = setup.store();
    store
        .audit_entries(0, 1000)
        .unwrap()
        .iter()
        .filter(|e| e.record.action == "checkpoint")
        .count()
}

/// The library path in each store: checkpoints made with a SoftHSM key (RSA here, ECDSA above)
/// and the real TSA, exported, the tail cut with the head row rewritten in SQL, and
/// `checkpoint::verify` finding the cut against the export and by the staleness rule.
fn a_cut_is_found_in(store: &mut dyn Store, raw: &mut dyn FnMut(&str)) {
    use kyso::audit::checkpoint::{self, Checks, Finding, Schedule};
    let signing = crate::support::Signing::new(kyso::token::KeyAlgorithm::Rsa2048, "Kiểm Toán");
    let t = tokens();
    let uri = t.key_uri(
        crate::support::MAIN_TOKEN,
        &signing.key.uri().object.unwrap(),
    );
    let key = kyso::signing::KeyMaterial::open(
        &uri,
        &t.defaults(crate::support::MAIN_TOKEN),
        kyso::token::KeyOptions::default(),
        &signing.chain,
    )
    .unwrap();
    let tsa_files = Tsa::for_pki(&signing.pki);
    let front = Responders::start();
    front.serve_tsa("/tsa", &tsa_files);
    let tsa = kyso::tsp::Tsa::new(front.url("/tsa"));
    let checkpoint_now = |store: &mut dyn Store| {
        let (seq, hash) = store.audit_head().unwrap();
        let record = checkpoint::make(seq, &hash, &key, "audit", &tsa, "test").unwrap();
        store.append_audit(&[record]).unwrap()[0].clone()
    };
    let append = |store: &mut dyn Store, n: usize| {
        for i in 0..n {
            let record = audit::Record::new(
                "cli",
                Action::UnitsChanged,
                format!("u{i}"),
                &serde_json::json!({}),
            );
            store.append_audit(&[record]).unwrap();
        }
    };
    append(store, 3);
    assert_eq!(checkpoint_now(store).seq, 4);
    append(store, 2);
    assert_eq!(checkpoint_now(store).seq, 7);
    append(store, 1);
    assert_eq!(
        checkpoint::newest(store, 0).unwrap().map(|n| n.seq),
        Some(7)
    );
    let mut exported = Vec::new();
    assert_eq!(checkpoint::export(store, &mut exported).unwrap(), 2);
    let exported = checkpoint::read_export(std::str::from_utf8(&exported).unwrap()).unwrap();

    let trust = kyso::signing::Trust::from_config(&kyso::config::VerifyConfig {
        trust: vec![signing.root_pem()],
        crls: vec![
            signing.dir.path().join("intermediate.crl"),
            signing.dir.path().join("root.crl"),
        ],
        revocation: Some("offline".to_owned()),
        ..Default::default()
    })
    .unwrap();
    let schedule = Schedule::from_config(&kyso::config::AuditConfig {
        checkpoint_key: Some("audit".into()),
        ..Default::default()
    })
    .unwrap()
    .unwrap();
    let now = OffsetDateTime::now_utc();
    fn checks<'a>(
        at: OffsetDateTime,
        schedule: &'a Schedule,
        trust: &'a kyso::signing::Trust,
        exported: &'a [audit::Entry],
    ) -> Checks<'a> {
        Checks {
            at,
            schedule: Some(schedule),
            exported,
            anchors: trust.anchors.clone(),
            intermediates: trust.certificates.clone(),
            sources: checkpoint::sources(&trust.evidence, None),
            skip_revocation: false,
        }
    }
    let checks = |at, exported| checks(at, &schedule, &trust, exported);
    let report = checkpoint::verify(store, &checks(now, &exported)).unwrap();
    assert!(report.is_clean(), "{report:#?}");
    assert_eq!(report.checkpoints.len(), 2);

    raw("DELETE FROM audit_log WHERE seq > 5");
    raw(
        "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5) WHERE id = 1",
    );
    let report = checkpoint::verify(store, &checks(now, &[])).unwrap();
    assert!(
        report.is_clean(),
        "not visible yet without an export: {report:#?}"
    );
    let report = checkpoint::verify(store, &checks(now, &exported)).unwrap();
    assert!(
        matches!(
            report.findings.as_slice(),
            [Finding::Rewound {
                seq: 7,
                log_ends_at: 5,
                made_at: Some(_)
            }]
        ),
        "{report:#?}"
    );
    let report =
        checkpoint::verify(store, &checks(now + time::Duration::minutes(76), &[])).unwrap();
    assert!(
        matches!(
            report.findings.as_slice(),
            [Finding::Stale {
                entries_after: 1,
                period_minutes: 60,
                grace_minutes: 15,
                ..
            }]
        ),
        "{report:#?}"
    );
    // Just inside the period and grace, nothing yet.
    let report =
        checkpoint::verify(store, &checks(now + time::Duration::minutes(74), &[])).unwrap();
    assert!(report.is_clean(), "{report:#?}");

    // The log written on past the cut: the export's checkpoint has another entry in its place.
    append(store, 3);
    let report = checkpoint::verify(store, &checks(now, &exported)).unwrap();
    assert!(
        matches!(report.findings.as_slice(), [Finding::Replaced { seq: 7 }]),
        "{report:#?}"
    );
}

#[test]
fn sqlite_a_cut_is_found_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    a_cut_is_found_in(&mut store, &mut |sql| raw.execute_batch(sql).unwrap());
}

#[test]
fn postgres_a_cut_is_found_through_the_library() {
    let Some(url) = crate::api::nodes::postgres_url() else {
        return;
    };
    let schema = format!("audit_checkpoint_{}", std::process::id());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    let mut store = kyso::ledger::postgres::PgStore::connect(&url, Some(&schema)).unwrap();
    raw.batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    a_cut_is_found_in(&mut store, &mut |sql| raw.batch_execute(sql).unwrap());
}
