//! The audit chain in both stores: appends chain, and `audit::verify` (and `kyso audit verify`)
//! find an edited, reordered or deleted entry and a removed tail.

use std::process::Command;

use kyso::audit::{self, Action, Problem, Verification};
use kyso::ledger::Store;
use kyso::ledger::postgres::PgStore;
use kyso::ledger::sqlite::{Durability, SqliteStore};

/// Raw SQL on the store's database, for tampering.
trait Tamper {
    fn exec(&mut self, sql: &str);
}

struct Sqlite(rusqlite::Connection);
impl Tamper for Sqlite {
    fn exec(&mut self, sql: &str) {
        self.0.execute_batch(sql).unwrap();
    }
}

struct Pg(postgres::Client);
impl Tamper for Pg {
    fn exec(&mut self, sql: &str) {
        self.0.batch_execute(sql).unwrap();
    }
}

fn append(store: &mut dyn Store, n: usize) {
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

fn broken(store: &mut dyn Store) -> Problem {
    match audit::verify(store).unwrap() {
        Verification::Broken { problem, .. } => problem,
        intact => panic!("expected a broken chain, got {intact:?}"),
    }
}

fn tampering_is_found(store: &mut dyn Store, raw: &mut dyn Tamper) {
    append(store, 5);
    // Several records in one call chain in order too.
    let records: Vec<audit::Record> = (0..3)
        .map(|i| {
            audit::Record::new(
                "cli",
                Action::UnitsChanged,
                format!("u{i}"),
                &serde_json::json!({}),
            )
        })
        .collect();
    let entries = store.append_audit(&records).unwrap();
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![6, 7, 8]
    );
    assert_eq!(entries[1].prev_hash, entries[0].hash);
    let Verification::Intact {
        entries: 8,
        head_hash,
    } = audit::verify(store).unwrap()
    else {
        panic!("not intact")
    };
    assert_eq!(head_hash, entries[2].hash);

    raw.exec("UPDATE audit_log SET subject = 'doc-x' WHERE seq = 3");
    assert_eq!(broken(store), Problem::Edited { seq: 3 });
    raw.exec("UPDATE audit_log SET subject = 'doc-2' WHERE seq = 3");
    assert!(matches!(
        audit::verify(store).unwrap(),
        Verification::Intact { .. }
    ));

    // Swap two entries' contents and hashes (each still hashes to itself with its own seq?
    // no: the seq is hashed, so a swap shows as an edit or a broken link).
    raw.exec(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 100;",
    );
    assert!(
        matches!(
            broken(store),
            Problem::Edited { seq: 2 } | Problem::Unlinked { seq: 2, .. }
        ),
        "reordering found"
    );
    raw.exec(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 100;",
    );
    assert!(matches!(
        audit::verify(store).unwrap(),
        Verification::Intact { .. }
    ));

    raw.exec("DELETE FROM audit_log WHERE seq = 4");
    assert_eq!(
        broken(store),
        Problem::Missing {
            previous: 3,
            seq: 5
        }
    );

    // Deleting the tail is found through the head row.
    raw.exec("DELETE FROM audit_log WHERE seq >= 4");
    assert!(matches!(
        broken(store),
        Problem::Head {
            head_seq: 8,
            last_seq: 3,
            ..
        }
    ));
}

#[test]
fn sqlite_chain_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
    let mut raw = Sqlite(rusqlite::Connection::open(&path).unwrap());
    tampering_is_found(&mut store, &mut raw);
}

#[test]
fn postgres_chain_finds_tampering() {
    let Some(url) = super::nodes::postgres_url() else {
        return;
    };
    let schema = format!("api_audit_{}", std::process::id());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    let mut store = PgStore::connect(&url, Some(&schema)).unwrap();
    raw.batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    tampering_is_found(&mut store, &mut Pg(raw));
}

#[test]
fn concurrent_connections_never_fork_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    SqliteStore::open(&path, Durability::Normal).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let path = path.clone();
            s.spawn(move || {
                let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
                append(&mut store, 50);
            });
        }
    });
    let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
    assert!(matches!(
        audit::verify(&mut store).unwrap(),
        Verification::Intact { entries: 200, .. }
    ));
}

#[test]
fn kyso_audit_verify_and_apikey_create() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.sqlite");
    let kyso = env!("CARGO_BIN_EXE_kyso");
    let run = |args: &[&str]| {
        Command::new(kyso)
            .args(args)
            .arg("--ledger")
            .arg(&ledger)
            .env_remove("KYSO_LEDGER_POSTGRES_URL")
            .env("KYSO_CONFIG", dir.path().join("none.toml"))
            .output()
            .unwrap()
    };
    std::fs::write(dir.path().join("none.toml"), "").unwrap();
    let out = run(&[
        "apikey", "create", "--role", "signer", "--unit", "STP", "--label", "DMS",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap();
    let key = key.trim();
    let id = kyso::api::auth::key_id_of(key)
        .expect("the printed key")
        .to_owned();
    let mut store = SqliteStore::open(&ledger, Durability::Normal).unwrap();
    let stored = store.api_key(&id).unwrap().unwrap();
    assert_eq!(stored.role, "signer");
    assert!(kyso::api::auth::matches(&stored, key));
    assert_ne!(stored.secret_sha256, key);
    let list = run(&["apikey", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&id));
    assert!(!String::from_utf8_lossy(&list.stdout).contains(key));

    let out = run(&["audit", "verify"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 1 entries"));
    assert!(run(&["apikey", "revoke", &id]).status.success());
    rusqlite::Connection::open(&ledger)
        .unwrap()
        .execute_batch("UPDATE audit_log SET actor = 'someone' WHERE seq = 1")
        .unwrap();
    let out = run(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("entry 1 does not hash"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
