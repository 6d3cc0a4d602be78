//! The ledger's behaviour, run against both stores: every case below is a generic function
//! instantiated once for SQLite and once for PostgreSQL by `both_stores!`.
//!
//! PostgreSQL cases read `KYSO_TEST_POSTGRES_URL` (start a throwaway cluster with
//! `scripts/postgres-test-cluster.sh start`, which prints the URL). Without it they fail, unless
//! `KYSO_SKIP_POSTGRES=1` says explicitly that this run skips them.

use std::collections::BTreeMap;
use std::process::Command;

use time::OffsetDateTime;
use time::macros::datetime;

use kyso::ledger::render;
use kyso::ledger::report::{self, Rates};
use kyso::ledger::sqlite::{Durability, SqliteStore};
use kyso::ledger::units;
use kyso::ledger::{
    Audited, Certificate, Counts, Declared, Error, Event, Indication, Issued, LevelScheme,
    LongTermStatus, Method, Period, Reassignment, Recorded, ReportQuery, SignatureLevel, Signed,
    Store, Verified,
};

macro_rules! both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    let (_dir, mut store) = super::sqlite_store();
                    super::$case(&mut store);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if let Some(mut store) = super::pg_store(stringify!($case)) {
                        super::$case(&mut store);
                    }
                }
            )*
        }
    };
}

both_stores!(
    rates_match_hand_computed_fixture,
    period_boundary_is_local_midnight,
    retried_and_corrected_events,
    bad_event_stores_nothing_of_its_batch,
    malformed_units_csv_stores_nothing,
    units_round_trip_through_csv,
    report_filters_by_unit_and_level,
    demo_reproduces_the_seed_figures,
    a_document_stays_with_its_unit,
    long_term_counts_follow_the_latest_passing_audit,
    certificates_are_counted_by_method_once_wherever_they_signed,
);

// ---------------------------------------------------------------------------------------------
// Store set-up

pub(crate) fn sqlite_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("var/ledger.sqlite"), Durability::Full)
        .expect("open SQLite ledger");
    (dir, store)
}

/// The PostgreSQL URL, or `None` when this run explicitly skips PostgreSQL.
fn pg_url() -> Option<String> {
    match std::env::var("KYSO_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("KYSO_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("PostgreSQL ledger test skipped: KYSO_SKIP_POSTGRES=1");
            None
        }
        _ => panic!(
            "KYSO_TEST_POSTGRES_URL is not set. Start the throwaway test cluster with\n    \
             export KYSO_TEST_POSTGRES_URL=$(scripts/postgres-test-cluster.sh start)\n\
             (needs Debian's postgresql package), or skip PostgreSQL explicitly with KYSO_SKIP_POSTGRES=1"
        ),
    }
}

/// A store in a fresh schema named after the test, so tests run in parallel on one cluster.
pub(crate) fn pg_store(case: &str) -> Option<kyso::ledger::postgres::PgStore> {
    let url = pg_url()?;
    let schema = format!("t_{case}");
    reset_schema(&url, &schema);
    Some(
        kyso::ledger::postgres::PgStore::connect(&url, Some(&schema))
            .expect("connect to PostgreSQL"),
    )
}

fn reset_schema(url: &str, schema: &str) {
    let mut client =
        ::postgres::Client::connect(url, ::postgres::NoTls).expect("connect to PostgreSQL");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .expect("drop test schema");
}

// ---------------------------------------------------------------------------------------------
// Fixture: a small province, hand-computed below.

const UNITS_CSV: &str = "code,name,level,parent\n\
TINH,UBND tỉnh Mẫu,province,\n\
STP,Sở Tư pháp,department,TINH\n\
STC,Sở Tài chính,department,TINH\n\
H01,UBND huyện An Lạc,district,TINH\n\
X0101,UBND xã Tân Phú,commune,H01\n\
X0102,UBND xã Bình Minh,commune,H01\n";

fn import_units(store: &mut dyn Store, csv: &str) -> Result<units::ImportSummary, Error> {
    let scheme = LevelScheme::default();
    let rows = units::parse_csv(csv.as_bytes(), &scheme)?;
    units::import(store, &rows, &scheme)
}

fn issued(id: &str, unit: &str, at: OffsetDateTime, declared: Declared) -> Event {
    Event::Issued(Issued {
        document_id: id.into(),
        number: format!("{}/QĐ-{unit}", id.len()),
        doc_type: "Quyết định".into(),
        unit: unit.into(),
        issued_at: at,
        declared,
    })
}

fn signed(
    id: &str,
    unit: &str,
    at: OffsetDateTime,
    method: Method,
    ca: &str,
    ok: Indication,
) -> Event {
    Event::Signed(Signed {
        document_id: id.into(),
        unit: unit.into(),
        key: format!("pkcs11:token=kyso;object={unit}"),
        certificate: Certificate {
            sha256: format!("{:0>64}", hex_of(unit)),
            subject: format!("CN={unit}, O=UBND tỉnh Mẫu, C=VN"),
            issuer: ca.into(),
        },
        method,
        level: SignatureLevel::PadesBB,
        signed_at: at,
        indication: ok,
    })
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn audited(
    id: &str,
    content: u8,
    at: OffsetDateTime,
    indication: Indication,
    sub: Option<&str>,
) -> Event {
    Event::Audited(Audited {
        document_id: id.into(),
        content_sha256: format!("{content:02x}").repeat(32),
        audited_at: at,
        indication,
        sub_indication: sub.map(str::to_owned),
        long_term: None,
    })
}

/// A passing audit that found the file protected for the long term (or not) until `until`.
fn audited_long_term(
    id: &str,
    content: u8,
    at: OffsetDateTime,
    protected: bool,
    until: OffsetDateTime,
) -> Event {
    let Event::Audited(audit) = audited(id, content, at, Indication::TotalPassed, None) else {
        unreachable!()
    };
    Event::Audited(Audited {
        long_term: Some(LongTermStatus {
            protected,
            until,
            certificate: "CN=Tem thời gian / TSA, O=Ban Cơ yếu Chính phủ, C=VN".into(),
        }),
        ..audit
    })
}

fn incoming(
    id: &str,
    unit: &str,
    at: OffsetDateTime,
    indication: Indication,
    sub: Option<&str>,
) -> Event {
    Event::Verified(Verified {
        document_id: id.into(),
        receiving_unit: unit.into(),
        sender: "Bộ Tư pháp".into(),
        verified_at: at,
        indication,
        sub_indication: sub.map(str::to_owned),
    })
}

const CA_A: &str = "CN=CA phục vụ các cơ quan Nhà nước, O=Ban Cơ yếu Chính phủ, C=VN";
const CA_B: &str = "CN=VNPT Certification Authority, O=VNPT Group, C=VN";

/// Loads the fixture in transactions of `batch` events and returns what each event did. Cases
/// use different batch sizes: stores may record one event and many events by different paths
/// (PostgreSQL does), and a batch may hold a retry of its own events.
fn load_fixture(store: &mut dyn Store, batch: usize) -> Vec<Recorded> {
    use Declared::{Signed as S, Unsigned as U};
    use Indication::{Indeterminate, TotalFailed, TotalPassed};
    import_units(store, UNITS_CSV).expect("import fixture units");
    let events = vec![
        // STP: 4 documents in H1 (3 declared signed, 2 of them verified) and one in H2.
        issued("stp-1", "STP", datetime!(2022-01-10 09:00 +07:00), S),
        signed(
            "stp-1",
            "STP",
            datetime!(2022-01-10 09:01 +07:00),
            Method::Token,
            CA_A,
            TotalPassed,
        ),
        issued("stp-2", "STP", datetime!(2022-03-01 00:00 +07:00), S),
        signed(
            "stp-2",
            "STP",
            datetime!(2022-02-28 23:59 +07:00),
            Method::Hsm,
            CA_A,
            TotalPassed,
        ),
        issued("stp-3", "STP", datetime!(2022-05-05 10:00 +07:00), S),
        signed(
            "stp-3",
            "STP",
            datetime!(2022-05-05 10:00 +07:00),
            Method::Sim,
            CA_B,
            TotalFailed,
        ),
        issued("stp-4", "STP", datetime!(2022-06-30 23:59:59 +07:00), U),
        issued("stp-5", "STP", datetime!(2022-07-01 00:00 +07:00), S),
        signed(
            "stp-5",
            "STP",
            datetime!(2022-07-01 00:00 +07:00),
            Method::Token,
            CA_A,
            TotalPassed,
        ),
        // STC: one declared unsigned that an audit found signed; one declared signed whose first
        // audit was indeterminate and whose re-audit of the same file passed.
        issued("stc-1", "STC", datetime!(2022-02-01 08:00 +07:00), U),
        audited(
            "stc-1",
            1,
            datetime!(2022-08-01 08:00 UTC),
            TotalPassed,
            None,
        ),
        issued("stc-2", "STC", datetime!(2022-02-02 08:00 +07:00), S),
        audited(
            "stc-2",
            2,
            datetime!(2022-08-01 08:00 UTC),
            Indeterminate,
            Some("TRY_LATER"),
        ),
        audited(
            "stc-2",
            2,
            datetime!(2022-08-02 08:00 UTC),
            TotalPassed,
            None,
        ),
        // TINH: recorded unsigned, retried, then corrected to signed; no kyso signature.
        issued("tinh-1", "TINH", datetime!(2022-04-01 08:00 +07:00), U),
        issued("tinh-1", "TINH", datetime!(2022-04-01 08:00 +07:00), U),
        issued("tinh-1", "TINH", datetime!(2022-04-01 08:00 +07:00), S),
        // X0101: signature recorded before the DMS's issued event; a retried signature.
        signed(
            "x-1",
            "X0101",
            datetime!(2022-02-10 08:00 +07:00),
            Method::Smart,
            CA_A,
            TotalPassed,
        ),
        issued("x-1", "X0101", datetime!(2022-02-10 08:05 +07:00), S),
        issued("x-2", "X0101", datetime!(2022-02-11 08:00 +07:00), U),
        issued("x-3", "X0101", datetime!(2022-02-12 08:00 +07:00), S),
        signed(
            "x-3",
            "X0101",
            datetime!(2022-02-12 08:00 +07:00),
            Method::Token,
            CA_B,
            TotalPassed,
        ),
        signed(
            "x-3",
            "X0101",
            datetime!(2022-02-12 08:00 +07:00),
            Method::Token,
            CA_B,
            TotalPassed,
        ),
        // Incoming: the same sender's document at two receivers counts at each; a retry does not.
        incoming(
            "bo-1",
            "TINH",
            datetime!(2022-03-03 08:00 +07:00),
            TotalPassed,
            None,
        ),
        incoming(
            "bo-2",
            "TINH",
            datetime!(2022-03-04 08:00 +07:00),
            TotalFailed,
            Some("HASH_FAILURE"),
        ),
        incoming(
            "bo-2",
            "TINH",
            datetime!(2022-03-04 08:00 +07:00),
            TotalFailed,
            Some("HASH_FAILURE"),
        ),
        incoming(
            "bo-1",
            "X0101",
            datetime!(2022-03-05 08:00 +07:00),
            Indeterminate,
            Some("TRY_LATER"),
        ),
    ];
    let mut outcomes = Vec::new();
    for chunk in events.chunks(batch) {
        outcomes.extend(store.record(chunk).expect("record fixture events"));
    }
    outcomes
}

fn counts(
    issued: u64,
    declared_signed: u64,
    verified_signed: u64,
    declared_unverified: u64,
) -> Counts {
    Counts {
        issued,
        declared_signed,
        verified_signed,
        declared_unverified,
        ..Counts::default()
    }
}

/// The first half of 2022, with a fixed long-term horizon so that two reports compare equal.
fn h1_report(store: &mut dyn Store) -> report::Report {
    let mut query = ReportQuery::new(Period::parse("2022-H1").unwrap());
    query.renew_by = datetime!(2026-12-01 00:00 UTC);
    report::build(store, &LevelScheme::default(), &query).expect("build report")
}

// ---------------------------------------------------------------------------------------------
// Cases

fn rates_match_hand_computed_fixture(store: &mut dyn Store) {
    load_fixture(store, 4);
    let report = h1_report(store);

    // Overall: 10 documents issued in H1, 7 declared signed, 6 verified, 2 declared-but-unverified
    // (stp-3 failed verification, tinh-1 has no kyso signature).
    assert_eq!(report.overall.counts, counts(10, 7, 6, 2));
    assert_eq!(report.overall.declared_rate, Some(70.0));
    assert_eq!(report.overall.verified_rate, Some(60.0));
    assert_eq!(report.overall.gap_points, Some(10.0));

    let levels: BTreeMap<&str, (usize, Counts)> = report
        .levels
        .iter()
        .map(|l| (l.level.as_str(), (l.units, l.rates.counts)))
        .collect();
    assert_eq!(levels["province"], (1, counts(1, 1, 0, 1)));
    assert_eq!(levels["department"], (2, counts(6, 4, 4, 1)));
    assert_eq!(levels["district"], (1, counts(0, 0, 0, 0)));
    assert_eq!(levels["commune"], (2, counts(3, 2, 2, 0)));
    let district = report
        .levels
        .iter()
        .find(|l| l.level == "district")
        .unwrap();
    assert_eq!(
        district.rates.declared_rate, None,
        "no documents means no rate, not 0%"
    );

    let unit = |code: &str| report.units.iter().find(|u| u.code == code).unwrap();
    assert_eq!(unit("STP").own.counts, counts(4, 3, 2, 1));
    assert_eq!(unit("STP").own.declared_rate, Some(75.0));
    assert_eq!(unit("STC").own.counts, counts(2, 1, 2, 0));
    assert_eq!(unit("STC").own.gap_points, Some(-50.0));
    assert_eq!(unit("TINH").own.counts, counts(1, 1, 0, 1));
    assert_eq!(unit("TINH").total.counts, counts(10, 7, 6, 2));
    assert_eq!(unit("H01").own, Rates::from(Counts::default()));
    assert_eq!(unit("H01").total.counts, counts(3, 2, 2, 0));
    assert_eq!(unit("X0101").own.counts, counts(3, 2, 2, 0));
    assert_eq!(unit("X0102").total.verified_rate, None);
    // Tree order with depths, for indented display: departments before districts.
    let order: Vec<(&str, usize)> = report
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.depth))
        .collect();
    assert_eq!(
        order,
        [
            ("TINH", 0),
            ("STC", 1),
            ("STP", 1),
            ("H01", 1),
            ("X0101", 2),
            ("X0102", 2)
        ]
    );

    // Signatures made in H1: stp-5's (1 July local) is not; x-3's retry counts once.
    let methods: BTreeMap<&str, (u64, u64)> = report
        .methods
        .iter()
        .map(|m| (m.method, (m.signatures, m.certificates)))
        .collect();
    assert_eq!(
        methods,
        BTreeMap::from([
            ("Token", (2, 2)),
            ("SIM", (1, 1)),
            ("HSM", (1, 1)),
            ("Smart", (1, 1))
        ]),
        "(signatures, certificates): the fixture's certificate is its unit's"
    );
    let communes = report.levels.iter().find(|l| l.level == "commune").unwrap();
    let communes: Vec<(&str, u64, u64)> = (communes.methods.iter())
        .map(|m| (m.method, m.signatures, m.certificates))
        .collect();
    assert_eq!(
        communes,
        [
            ("Token", 1, 1),
            ("SIM", 0, 0),
            ("HSM", 0, 0),
            ("Smart", 1, 1)
        ]
    );
    let providers: Vec<(&str, u64)> = report
        .providers
        .iter()
        .map(|p| (p.issuer.as_str(), p.signatures))
        .collect();
    assert_eq!(providers, [(CA_A, 3), (CA_B, 2)]);

    let incoming: Vec<(&str, Option<&str>, u64)> = report
        .incoming
        .iter()
        .map(|i| (i.indication, i.sub_indication.as_deref(), i.count))
        .collect();
    assert_eq!(
        incoming,
        [
            ("TOTAL-PASSED", None, 1),
            ("TOTAL-FAILED", Some("HASH_FAILURE"), 1),
            ("INDETERMINATE", Some("TRY_LATER"), 1)
        ]
    );
    assert!(report.unsigned.is_none(), "drill-down only for one unit");
}

fn period_boundary_is_local_midnight(store: &mut dyn Store) {
    load_fixture(store, 1);
    let mut at = |period: &str| {
        let query = ReportQuery::new(Period::parse(period).unwrap());
        report::build(store, &LevelScheme::default(), &query)
            .unwrap()
            .overall
            .counts
    };
    // stp-5 at 00:00 on 1 July local (17:00 UTC on 30 June) is H2, July, Q3, and that day.
    assert_eq!(at("2022-H2"), counts(1, 1, 1, 0));
    assert_eq!(at("2022-07"), counts(1, 1, 1, 0));
    assert_eq!(at("2022-Q3"), counts(1, 1, 1, 0));
    assert_eq!(at("2022-07-01"), counts(1, 1, 1, 0));
    // stp-4 at 23:59:59 on 30 June local is H1, June, Q2 and that day.
    assert_eq!(at("2022-06-30"), counts(1, 0, 0, 0));
    assert_eq!(at("2022-06"), counts(1, 0, 0, 0));
    // stp-2 at 00:00 on 1 March local is March (Q1), not February.
    assert_eq!(at("2022-03"), counts(1, 1, 1, 0));
    assert_eq!(at("2022-02"), counts(5, 3, 4, 0));
    assert_eq!(at("2022-Q1"), counts(7, 5, 6, 0));
    assert_eq!(at("2022"), counts(11, 8, 7, 2));
    assert_eq!(at("2022-02-10..2022-02-11"), counts(2, 1, 1, 0));
    assert_eq!(at("2021"), counts(0, 0, 0, 0));
}

fn retried_and_corrected_events(store: &mut dyn Store) {
    use Recorded::{Inserted, Unchanged, Updated};
    let outcomes = load_fixture(store, 100);
    // Indexes follow the event list in load_fixture.
    assert_eq!(
        outcomes[13], Updated,
        "re-audit of the same file replaces the first audit"
    );
    assert_eq!(
        &outcomes[14..17],
        [Inserted, Unchanged, Updated],
        "tinh-1: new, retry, correction"
    );
    assert_eq!(outcomes[22], Unchanged, "retried signature");
    assert_eq!(outcomes[25], Unchanged, "retried incoming verification");
    let totals = store.totals().unwrap();
    assert_eq!(
        (
            totals.units,
            totals.documents,
            totals.signatures,
            totals.incoming,
            totals.audits
        ),
        (6, 11, 6, 3, 2)
    );
    // Replaying everything changes nothing and counts nothing twice.
    let before = h1_report(store);
    let again = load_fixture(store, 100);
    assert!(again.iter().all(|o| *o != Inserted), "{again:?}");
    assert_eq!(h1_report(store), before);
    assert_eq!(store.totals().unwrap(), totals);

    // A signature whose verification is corrected to failed clears the verified flag.
    let corrected = signed(
        "x-1",
        "X0101",
        datetime!(2022-02-10 08:00 +07:00),
        Method::Smart,
        CA_A,
        Indication::TotalFailed,
    );
    assert_eq!(store.record(&[corrected]).unwrap(), [Updated]);
    let x = h1_report(store)
        .units
        .into_iter()
        .find(|u| u.code == "X0101")
        .unwrap();
    assert_eq!(x.own.counts, counts(3, 2, 1, 1));
}

fn bad_event_stores_nothing_of_its_batch(store: &mut dyn Store) {
    import_units(store, UNITS_CSV).unwrap();
    let good = issued(
        "ok-1",
        "STP",
        datetime!(2022-01-10 09:00 +07:00),
        Declared::Signed,
    );
    let unknown_unit = issued(
        "bad-1",
        "SXD",
        datetime!(2022-01-10 09:00 +07:00),
        Declared::Signed,
    );
    let err = store.record(&[good.clone(), unknown_unit]).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownUnit { code, .. } if code == "SXD"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "unknown unit `SXD` (document `bad-1`)");

    let mut bad_hash = signed(
        "ok-1",
        "STP",
        datetime!(2022-01-10 09:00 +07:00),
        Method::Token,
        CA_A,
        Indication::TotalPassed,
    );
    if let Event::Signed(s) = &mut bad_hash {
        s.certificate.sha256 = "ABCD".into();
    }
    let err = store.record(&[good.clone(), bad_hash]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidEvent {
                field: "certificate.sha256",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store.totals().unwrap().documents,
        0,
        "nothing of a rejected batch is stored"
    );

    // A malformed JSON-lines input names its line and stores nothing either.
    let input = format!(
        "{}\n{}\n",
        serde_json::to_string(&good).unwrap(),
        r#"{"event":"issued","document_id":"d-2","number":"1/CV","doc_type":"Công văn","unit":"STP","issued_at":"2022-13-01T00:00:00Z","declared":"signed"}"#
    );
    let err = kyso::ledger::event::parse_json_lines(input.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::EventJson { line: 2, .. }), "{err:?}");
    assert_eq!(store.totals().unwrap().documents, 0);

    assert_eq!(store.record(&[good]).unwrap(), [Recorded::Inserted]);
}

/// Issue 15 item 6: a unit's credential must not move another unit's document or make it
/// verified. One event per call and several per call, since PostgreSQL records them by
/// different paths.
fn a_document_stays_with_its_unit(store: &mut dyn Store) {
    use Indication::TotalPassed;
    import_units(store, UNITS_CSV).unwrap();
    let at = datetime!(2022-03-01 09:00 +07:00);
    let sign = |id: &str, unit: &str| signed(id, unit, at, Method::Hsm, CA_A, TotalPassed);
    assert_eq!(
        store
            .record(&[issued("stp-9", "STP", at, Declared::Unsigned)])
            .unwrap(),
        [Recorded::Inserted]
    );
    let before = store.totals().unwrap();
    let refused = |store: &mut dyn Store, events: &[Event]| {
        let err = store.record(events).unwrap_err();
        assert!(
            matches!(&err, Error::DocumentOfAnotherUnit { document_id, owner, unit, .. }
                if document_id == "stp-9" && owner == "STP" && unit == "STC"),
            "{err:?}"
        );
        err
    };
    // Re-recorded by another unit: alone, and behind a good event of that unit.
    let err = refused(store, &[issued("stp-9", "STC", at, Declared::Signed)]);
    assert_eq!(
        err.to_string(),
        "document `stp-9` is stored for unit `STP`: an issued record for unit `STC` is refused"
    );
    refused(
        store,
        &[
            issued("stc-9", "STC", at, Declared::Signed),
            issued("stp-9", "STC", at, Declared::Signed),
        ],
    );
    // Signed by another unit's key: alone and in a batch.
    refused(store, &[sign("stp-9", "STC")]);
    refused(
        store,
        &[
            issued("stc-9", "STC", at, Declared::Signed),
            sign("stp-9", "STC"),
        ],
    );
    assert_eq!(store.totals().unwrap(), before, "nothing of a refused call");
    let stp = |store: &mut dyn Store| {
        let report = report::build(
            store,
            &LevelScheme::default(),
            &ReportQuery::new(Period::parse("2022-03").unwrap()),
        )
        .unwrap();
        report
            .units
            .iter()
            .find(|u| u.code == "STP")
            .unwrap()
            .own
            .counts
    };
    assert_eq!(stp(store), counts(1, 0, 0, 0), "still STP's, not verified");

    // Within one batch the first claim decides, signature or issuance.
    let err = store
        .record(&[
            issued("new-1", "STP", at, Declared::Signed),
            sign("new-1", "STC"),
        ])
        .unwrap_err();
    assert!(
        matches!(err, Error::DocumentOfAnotherUnit { .. }),
        "{err:?}"
    );
    // A signature recorded before the DMS's issued event makes the document its unit's.
    store.record(&[sign("sig-1", "X0101")]).unwrap();
    let err = store
        .record(&[issued("sig-1", "STP", at, Declared::Signed)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::DocumentOfAnotherUnit { owner, .. } if owner == "X0101"),
        "{err:?}"
    );
    assert_eq!(
        store.document_unit("sig-1").unwrap().as_deref(),
        Some("X0101")
    );
    assert_eq!(store.document_unit("nothing").unwrap(), None);

    // The owner still corrects and signs its document.
    assert_eq!(
        store
            .record(&[
                issued("stp-9", "STP", at, Declared::Signed),
                sign("stp-9", "STP")
            ])
            .unwrap(),
        [Recorded::Updated, Recorded::Inserted]
    );
    assert_eq!(stp(store), counts(1, 1, 1, 0));
    // Another unit receiving it records its incoming verification; audits name no unit.
    assert_eq!(
        store
            .record(&[
                incoming("stp-9", "STC", at, TotalPassed, None),
                audited("stp-9", 9, at, TotalPassed, None),
            ])
            .unwrap(),
        [Recorded::Inserted, Recorded::Inserted]
    );
    // An administrator's correction moves an issued document; a signature still may not.
    let moved = store
        .record_events(
            &[issued("stp-9", "STC", at, Declared::Signed)],
            &[],
            Reassignment::AllowedForCorrection,
        )
        .unwrap();
    assert_eq!(moved.0, [Recorded::Updated]);
    assert_eq!(
        store.document_unit("stp-9").unwrap().as_deref(),
        Some("STC")
    );
    let err = store
        .record_events(
            &[sign("stp-9", "STP")],
            &[],
            Reassignment::AllowedForCorrection,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::DocumentOfAnotherUnit { .. }),
        "{err:?}"
    );
}

fn malformed_units_csv_stores_nothing(store: &mut dyn Store) {
    // Line 5 names a level the scheme lacks: nothing of lines 2-4 may be stored.
    let bad = UNITS_CSV.replace("X0101,UBND xã Tân Phú,commune", "X0101,UBND xã Tân Phú,xa");
    let err = import_units(store, &bad).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnitCsv {
                line: 6,
                field: "level",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("units CSV line 6, field `level`: unknown level `xa`"),
        "{err}"
    );
    assert!(store.units().unwrap().is_empty());

    // A parent neither in the file nor stored.
    let orphan =
        "code,name,level,parent\nTINH,UBND tỉnh Mẫu,province,\nX9,UBND xã Lạc,commune,H09\n";
    let err = import_units(store, orphan).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnitCsv {
                line: 3,
                field: "parent",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(store.units().unwrap().is_empty());

    // A commune cannot be the parent of a district.
    let upside_down = "code,name,level,parent\nTINH,UBND tỉnh Mẫu,province,\nX1,UBND xã A,commune,TINH\nH1,UBND huyện B,district,X1\n";
    let err = import_units(store, upside_down).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnitCsv {
                line: 4,
                field: "parent",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(store.units().unwrap().is_empty());

    // Good file; then a second file may name stored parents.
    let summary = import_units(store, UNITS_CSV).unwrap();
    assert_eq!(summary.inserted, 6);
    let more = "code,name,level,parent\nX0103,UBND xã Hòa Lạc,commune,H01\nSTP,Sở Tư pháp tỉnh Mẫu,department,TINH\n";
    let summary = import_units(store, more).unwrap();
    assert_eq!(
        (summary.inserted, summary.updated, summary.unchanged),
        (1, 1, 0)
    );
    let summary = import_units(store, more).unwrap();
    assert_eq!(
        (summary.inserted, summary.updated, summary.unchanged),
        (0, 0, 2)
    );
    // Re-levelling the province into a commune would put it below its own districts.
    let relevel = "code,name,level,parent\nTINH,UBND tỉnh Mẫu,commune,\n";
    let err = import_units(store, relevel).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnitCsv {
                field: "parent",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store
            .units()
            .unwrap()
            .iter()
            .find(|u| u.code == "TINH")
            .unwrap()
            .level,
        "province"
    );
}

fn units_round_trip_through_csv(store: &mut dyn Store) {
    import_units(store, UNITS_CSV).unwrap();
    let mut out = Vec::new();
    units::write_csv(&store.units().unwrap(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("code,name,level,parent\nTINH,UBND tỉnh Mẫu,province,\n"),
        "{text}"
    );
    assert!(text.contains("X0101,UBND xã Tân Phú,commune,H01\n"));
    let (_dir, mut other) = sqlite_store();
    import_units(&mut other, &text).unwrap();
    assert_eq!(other.units().unwrap(), store.units().unwrap());
}

/// Issue 18: signatures and distinct signer certificates per method, per unit, level and overall.
/// A certificate that signed for two units (its holder moved) counts in each unit, and once in
/// their level and overall; one certificate used by two methods counts under each.
fn certificates_are_counted_by_method_once_wherever_they_signed(store: &mut dyn Store) {
    use Declared::Signed as S;
    use Indication::TotalPassed;
    import_units(store, UNITS_CSV).expect("import fixture units");
    let day = datetime!(2022-03-01 09:00 +07:00);
    let with = |id: &str, unit: &str, cert: &str, method: Method| {
        let Event::Signed(e) = signed(id, unit, day, method, CA_A, TotalPassed) else {
            unreachable!()
        };
        Event::Signed(Signed {
            certificate: Certificate {
                sha256: format!("{:0>64}", hex_of(cert)),
                ..e.certificate
            },
            ..e
        })
    };
    let events = vec![
        issued("m-1", "STP", day, S),
        with("m-1", "STP", "an", Method::Token),
        issued("m-2", "STP", day, S),
        with("m-2", "STP", "an", Method::Token),
        issued("m-3", "STP", day, S),
        with("m-3", "STP", "binh", Method::Token),
        issued("m-4", "STC", day, S),
        with("m-4", "STC", "an", Method::Token),
        issued("m-5", "STC", day, S),
        with("m-5", "STC", "chi", Method::Sim),
        issued("m-6", "STC", day, S),
        with("m-6", "STC", "chi", Method::Smart),
    ];
    store.record(&events).expect("record");
    let report = h1_report(store);
    let by_method = |methods: &[report::MethodRow]| -> Vec<(u64, u64)> {
        methods
            .iter()
            .map(|m| (m.signatures, m.certificates))
            .collect()
    };
    let unit = |code: &str| {
        by_method(
            &report
                .units
                .iter()
                .find(|u| u.code == code)
                .unwrap()
                .methods,
        )
    };
    // Token, SIM, HSM, Smart.
    assert_eq!(unit("STP"), [(3, 2), (0, 0), (0, 0), (0, 0)]);
    assert_eq!(unit("STC"), [(1, 1), (1, 1), (0, 0), (1, 1)]);
    let departments = report
        .levels
        .iter()
        .find(|l| l.level == "department")
        .unwrap();
    assert_eq!(
        by_method(&departments.methods),
        [(4, 2), (1, 1), (0, 0), (1, 1)],
        "an's certificate signed in both departments: one certificate"
    );
    assert_eq!(by_method(&report.methods), [(4, 2), (1, 1), (0, 0), (1, 1)]);
    let csv = render::render(&report, render::Format::Csv).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let stp: Vec<&str> = csv
        .lines()
        .find(|l| l.contains(",STP,"))
        .unwrap()
        .split(',')
        .collect();
    let column = |name: &str| stp[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (column("token_signatures"), column("token_certificates")),
        ("3", "2")
    );
    let table = render::render(&report, render::Format::Table).unwrap();
    assert!(table.contains("4 · 2"), "{table}");
}

/// Issue 19: per unit, how many documents an archive audit found protected for the long term
/// and how many need extending by the report's horizon.
fn long_term_counts_follow_the_latest_passing_audit(store: &mut dyn Store) {
    use Declared::Signed as S;
    use Indication::{TotalFailed, TotalPassed};
    import_units(store, UNITS_CSV).expect("import fixture units");
    let day = datetime!(2022-02-01 09:00 +07:00);
    let audit = datetime!(2026-06-01 09:00 +07:00);
    let minutes = |n| audit + time::Duration::minutes(n);
    let renew_by = datetime!(2027-01-01 00:00 UTC);
    let events = vec![
        issued("lt-1", "STP", day, S),
        // B-LTA, its archive TSA certificate good until 2031: protected.
        audited_long_term("lt-1", 1, audit, true, datetime!(2031-07-15 00:00 UTC)),
        issued("lt-2", "STP", day, S),
        // B-B until the signer's certificate expires: needs extending.
        audited_long_term("lt-2", 1, audit, false, datetime!(2027-05-01 00:00 UTC)),
        issued("lt-3", "STP", day, S),
        // B-LTA whose archive TSA certificate expires before the horizon: needs renewing.
        audited_long_term("lt-3", 1, audit, true, datetime!(2026-11-30 00:00 UTC)),
        issued("lt-4", "STP", day, S),
        // First found at B-T, then the extended file: the latest audit counts.
        audited_long_term("lt-4", 1, audit, false, datetime!(2027-05-01 00:00 UTC)),
        audited_long_term("lt-4", 2, minutes(5), true, datetime!(2031-07-15 00:00 UTC)),
        issued("lt-5", "STP", day, S),
        // Passing without a status (a kyso before issue 19), and a failed file: neither.
        audited("lt-5", 1, audit, TotalPassed, None),
        issued("lt-6", "STP", day, S),
        audited("lt-6", 1, audit, TotalFailed, Some("HASH_FAILURE")),
        issued("lt-7", "X0101", day, S),
        audited_long_term("lt-7", 1, audit, true, datetime!(2031-07-15 00:00 UTC)),
    ];
    store.record(&events).expect("record");
    let mut query = ReportQuery::new(Period::parse("2022-H1").unwrap());
    query.renew_by = renew_by;
    let report = report::build(store, &LevelScheme::default(), &query).unwrap();
    let unit = |code: &str| {
        let row = report.units.iter().find(|u| u.code == code).unwrap();
        (row.own.counts, row.total.counts)
    };
    let (stp, _) = unit("STP");
    assert_eq!(stp.verified_signed, 5, "lt-1…lt-5 passed an audit");
    assert_eq!((stp.long_term_protected, stp.needs_extending), (2, 2));
    let (x0101, _) = unit("X0101");
    assert_eq!((x0101.long_term_protected, x0101.needs_extending), (1, 0));
    let (_, h01_total) = unit("H01");
    assert_eq!(h01_total.long_term_protected, 1, "rolled up from X0101");
    assert_eq!(
        (
            report.overall.counts.long_term_protected,
            report.overall.counts.needs_extending
        ),
        (3, 2)
    );

    // A report on one unit lists them, soonest end first, naming the certificate.
    let mut scoped = query.clone();
    scoped.unit = Some("STP".into());
    let stp_report = report::build(store, &LevelScheme::default(), &scoped).unwrap();
    let list = stp_report.to_extend.as_ref().unwrap();
    assert_eq!(list.total, 2);
    let listed: Vec<(&str, bool)> = (list.documents.iter())
        .map(|d| (d.document_id.as_str(), d.protected))
        .collect();
    assert_eq!(listed, [("lt-3", true), ("lt-2", false)]);
    assert_eq!(
        list.documents[0].certificate.as_deref(),
        Some("CN=Tem thời gian / TSA, O=Ban Cơ yếu Chính phủ, C=VN")
    );
    let table = render::render(&stp_report, render::Format::Table).unwrap();
    assert!(
        table.contains("Documents to extend now: STP (2)"),
        "{table}"
    );
    let html = render::render(&stp_report, render::Format::Html).unwrap();
    assert!(
        html.contains("lt-3") && html.contains("Tem thời gian"),
        "{html}"
    );

    // Past every recorded end, every audited document needs extending; the stored ends say so
    // without a new audit.
    query.renew_by = datetime!(2032-01-01 00:00 UTC);
    let later = report::build(store, &LevelScheme::default(), &query).unwrap();
    assert_eq!(
        (
            later.overall.counts.long_term_protected,
            later.overall.counts.needs_extending
        ),
        (0, 5),
        "past every certificate's end, every audited document needs extending"
    );

    // The extended file's audit corrected to failed: lt-4 falls back to its first file's status.
    store
        .record(&[audited(
            "lt-4",
            2,
            minutes(5),
            TotalFailed,
            Some("HASH_FAILURE"),
        )])
        .expect("record correction");
    let corrected = report::build(store, &LevelScheme::default(), &{
        let mut q = query.clone();
        q.renew_by = renew_by;
        q
    })
    .unwrap();
    assert_eq!(
        (
            corrected.overall.counts.long_term_protected,
            corrected.overall.counts.needs_extending
        ),
        (2, 3)
    );

    // Every format carries the counts.
    let table = render::render(&corrected, render::Format::Table).unwrap();
    assert!(
        table.contains("Cần gia hạn ngay/Need extending now"),
        "{table}"
    );
    let csv = render::render(&corrected, render::Format::Csv).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("long_term_protected,needs_extending")
    );
    let json: serde_json::Value =
        serde_json::from_str(&render::render(&corrected, render::Format::Json).unwrap()).unwrap();
    assert_eq!(json["overall"]["needs_extending"], 3);
    assert_eq!(json["renew_by"], "2027-01-01T00:00:00Z");
}

fn report_filters_by_unit_and_level(store: &mut dyn Store) {
    load_fixture(store, 3);
    let scheme = LevelScheme::default();
    let mut query = ReportQuery::new(Period::parse("2022-H1").unwrap());
    query.unit = Some("H01".into());
    let r = report::build(store, &scheme, &query).unwrap();
    assert_eq!(r.overall.counts, counts(3, 2, 2, 0));
    assert_eq!(
        r.units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(),
        ["H01", "X0101", "X0102"]
    );
    assert_eq!(r.units[1].depth, 1);
    let methods: u64 = r.methods.iter().map(|m| m.signatures).sum();
    assert_eq!(methods, 2);
    assert_eq!(
        r.unsigned.as_ref().unwrap().total,
        0,
        "H01 itself issued nothing"
    );

    query.unit = Some("STP".into());
    query.unsigned_limit = 1;
    let r = report::build(store, &scheme, &query).unwrap();
    let unsigned = r.unsigned.unwrap();
    assert_eq!(
        unsigned.total, 2,
        "stp-3 failed verification, stp-4 declared unsigned"
    );
    assert_eq!(unsigned.documents.len(), 1, "limited");
    assert_eq!(unsigned.documents[0].document_id, "stp-3");
    assert_eq!(unsigned.documents[0].declared, Declared::Signed);
    assert!(!unsigned.documents[0].verified);

    query.unit = None;
    query.level = Some("commune".into());
    let r = report::build(store, &scheme, &query).unwrap();
    assert_eq!(r.overall.counts, counts(3, 2, 2, 0));
    assert_eq!(r.levels.len(), 1);
    assert!(r.units.iter().all(|u| u.level == "commune"));

    query.level = Some("xa".into());
    let err = report::build(store, &scheme, &query).unwrap_err();
    assert!(matches!(err, Error::UnknownLevel { .. }), "{err:?}");
    query.level = None;
    query.unit = Some("NOPE".into());
    let err = report::build(store, &scheme, &query).unwrap_err();
    assert_eq!(err.to_string(), "unknown unit `NOPE`");
}

fn demo_reproduces_the_seed_figures(store: &mut dyn Store) {
    let summary = kyso::ledger::demo::seed(store).expect("seed demo");
    assert_eq!(summary.units, 1 + 50 + 9 + 130);
    let report = h1_report(store);
    let rounded = |r: &Rates| r.declared_rate.map(|p| p.round() as u32);
    assert_eq!(rounded(&report.overall), Some(98));
    let level = |key: &str| &report.levels.iter().find(|l| l.level == key).unwrap().rates;
    assert_eq!(rounded(level("department")), Some(99));
    assert_eq!(rounded(level("district")), Some(97));
    assert_eq!(rounded(level("commune")), Some(97));
    // Exactly, not only after rounding.
    assert_eq!(
        report.overall.counts.issued * 98,
        report.overall.counts.declared_signed * 100
    );
    // The verified rate is lower: the gap is part of the story the demo tells.
    assert!(report.overall.gap_points.unwrap() > 0.0);
    assert_eq!(report.methods.len(), 4);
    assert!(report.methods.iter().all(|m| m.signatures > 0));
    // Both stores give identical reports on the same events: compare with a fresh SQLite store.
    let (_dir, mut sqlite) = sqlite_store();
    kyso::ledger::demo::seed(&mut sqlite).unwrap();
    assert_eq!(h1_report(&mut sqlite), report);
    // Seeding again records nothing new.
    let again = kyso::ledger::demo::seed(&mut sqlite).unwrap();
    assert_eq!(again.inserted, 0);
    assert_eq!(h1_report(&mut sqlite), report);
}

// ---------------------------------------------------------------------------------------------
// The same vectors through every path

/// One call to the ledger: its events and the caller's reassignment rule.
struct Call {
    events: Vec<Event>,
    reassignment: Reassignment,
}

fn call(events: impl Into<Vec<Event>>) -> Call {
    Call {
        events: events.into(),
        reassignment: Reassignment::Refused,
    }
}

/// A signature of `id` by `unit` with the certificate numbered `cert` (several per unit).
fn signed_with(id: &str, unit: &str, cert: u8, at: OffsetDateTime, ok: Indication) -> Event {
    let mut event = signed(id, unit, at, Method::Token, CA_A, ok);
    if let Event::Signed(s) = &mut event {
        s.certificate.sha256 = format!("{cert:02x}").repeat(32);
    }
    event
}

/// Retries, corrections, conflicting units and later verifications, as a DMS, signers, auditors
/// and an administrator would send them. Every call the ledger must refuse holds one event, so
/// that recording the calls one event at a time stores the same as recording them whole.
fn same_sequence_calls() -> Vec<Call> {
    use Declared::{Signed as S, Unsigned as U};
    use Indication::{Indeterminate, TotalFailed, TotalPassed};
    let day = |d: i64| datetime!(2022-03-01 09:00 +07:00) + time::Duration::days(d);
    vec![
        // Issued unsigned, signed, the signature retried; then corrected to signed and retried.
        call([
            issued("a-1", "STP", day(0), U),
            signed_with("a-1", "STP", 1, day(0), TotalPassed),
            signed_with("a-1", "STP", 1, day(0), TotalPassed),
        ]),
        call([issued("a-1", "STP", day(0), S)]),
        call([issued("a-1", "STP", day(0), S)]),
        // Signed before the DMS's issued event: the signature's unit owns it, and it counts.
        call([signed_with("b-1", "X0101", 2, day(1), TotalPassed)]),
        call([issued("b-1", "X0101", day(1), S)]),
        // Conflicting units, each refused alone: another unit's issued record and signature on
        // a-1, STP's issued record on X0101's b-1, a unit the ledger does not know.
        call([issued("a-1", "STC", day(0), S)]),
        call([signed_with("a-1", "STC", 3, day(0), TotalPassed)]),
        call([issued("b-1", "STP", day(1), S)]),
        call([issued("c-1", "SXD", day(2), S)]),
        // Later verifications: an audit undetermined, the same file re-audited and passing in the
        // same call, a second file failing; the signature then corrected to failed (the audit
        // keeps a-1 verified).
        call([
            audited("a-1", 1, day(30), Indeterminate, Some("TRY_LATER")),
            audited("a-1", 1, day(31), TotalPassed, None),
        ]),
        call([audited(
            "a-1",
            2,
            day(32),
            TotalFailed,
            Some("HASH_FAILURE"),
        )]),
        call([signed_with("a-1", "STP", 1, day(0), TotalFailed)]),
        // b-1's signature corrected to failed clears its flag; a second certificate restores it.
        call([signed_with("b-1", "X0101", 2, day(1), TotalFailed)]),
        call([signed_with("b-1", "X0101", 4, day(3), TotalPassed)]),
        // Incoming verifications at two receivers, a retry, and a correction of one.
        call([
            incoming("a-1", "TINH", day(5), Indication::TotalPassed, None),
            incoming(
                "a-1",
                "H01",
                day(5),
                Indication::TotalFailed,
                Some("HASH_FAILURE"),
            ),
            incoming("a-1", "TINH", day(5), Indication::TotalPassed, None),
        ]),
        call([incoming(
            "a-1",
            "H01",
            day(6),
            Indication::TotalPassed,
            None,
        )]),
        // One call holding two versions of a new document, and two of a stored one that end
        // where they started.
        call([
            issued("c-2", "STC", day(2), U),
            issued("c-2", "STC", day(2), S),
            issued("a-1", "STP", day(0), U),
            issued("a-1", "STP", day(0), S),
            audited("c-2", 7, day(40), TotalPassed, None),
        ]),
        // An administrator moves a-1 to STC; STP may no longer sign it.
        Call {
            events: vec![issued("a-1", "STC", day(0), S)],
            reassignment: Reassignment::AllowedForCorrection,
        },
        call([signed_with("a-1", "STP", 5, day(9), TotalPassed)]),
        // Everything accepted so far replayed as one call: nothing new.
        call([
            issued("b-1", "X0101", day(1), S),
            signed_with("b-1", "X0101", 4, day(3), TotalPassed),
            audited("a-1", 2, day(32), TotalFailed, Some("HASH_FAILURE")),
            incoming("a-1", "H01", day(6), Indication::TotalPassed, None),
            issued("c-2", "STC", day(2), S),
        ]),
    ]
}

/// Records `calls`, each whole or one event at a time, and writes down what every event did.
fn transcript(store: &mut dyn Store, calls: &[Call], one_event_per_call: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let chunk = if one_event_per_call {
            1
        } else {
            call.events.len()
        };
        let mut event_index = 0;
        for events in call.events.chunks(chunk) {
            match store.record_events(events, &[], call.reassignment) {
                Ok((outcomes, _)) => {
                    for outcome in outcomes {
                        lines.push(format!("call {index} event {event_index}: {outcome:?}"));
                        event_index += 1;
                    }
                }
                Err(err) => {
                    lines.push(format!("call {index} event {event_index}: refused: {err}"));
                    event_index += events.len();
                }
            }
        }
    }
    lines
}

/// Every row of the event tables, each column named, issuers by name: both stores answer these
/// statements, so the comparison does not go through either store's own reading code.
const ROW_DUMPS: &[(&str, &str)] = &[
    (
        "documents",
        "SELECT document_id, number, doc_type, unit, CAST(issued_at AS TEXT) AS issued_at,
                CAST(declared_signed AS TEXT) AS declared_signed,
                CAST(verified_signed AS TEXT) AS verified_signed
         FROM documents",
    ),
    (
        "signatures",
        "SELECT s.document_id, s.cert_sha256, s.unit, s.key_ref, s.cert_subject,
                i.dn AS cert_issuer, s.method, s.level, CAST(s.signed_at AS TEXT) AS signed_at,
                s.indication
         FROM signatures AS s JOIN issuers AS i ON i.id = s.cert_issuer_id",
    ),
    (
        "incoming",
        "SELECT receiving_unit, document_id, sender, CAST(verified_at AS TEXT) AS verified_at,
                indication, sub_indication
         FROM incoming",
    ),
    (
        "audits",
        "SELECT document_id, content_sha256, CAST(audited_at AS TEXT) AS audited_at, indication,
                sub_indication
         FROM audits",
    ),
];

fn dump_line(table: &str, columns: impl Iterator<Item = (String, Option<String>)>) -> String {
    let cells: Vec<String> = columns
        .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("NULL")))
        .collect();
    format!("{table}: {}", cells.join(" "))
}

fn sqlite_rows(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut lines = Vec::new();
    for (table, sql) in ROW_DUMPS {
        let mut statement = conn.prepare(sql).unwrap();
        let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let values = (0..names.len()).map(|i| row.get::<_, Option<String>>(i).unwrap());
            lines.push(dump_line(table, names.iter().cloned().zip(values)));
        }
    }
    lines.sort();
    lines
}

fn pg_rows(url: &str, schema: &str) -> Vec<String> {
    let mut client = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .unwrap();
    let mut lines = Vec::new();
    for (table, sql) in ROW_DUMPS {
        for row in client.query(*sql, &[]).unwrap() {
            let columns = row
                .columns()
                .iter()
                .enumerate()
                .map(|(i, column)| (column.name().to_owned(), row.get::<_, Option<String>>(i)));
            lines.push(dump_line(table, columns));
        }
    }
    lines.sort();
    lines
}

/// The style guide's "same vectors through every path": one sequence of calls recorded by
/// SQLite and by PostgreSQL, each whole and one event per call, gives the same outcomes and
/// refusals, the same stored rows, column by column, and the same report.
#[test]
fn every_store_path_records_the_same_sequence_identically() {
    let calls = same_sequence_calls();
    let year = ReportQuery::new(Period::parse("2022").unwrap());
    let mut runs = Vec::new();
    for one_event_per_call in [false, true] {
        let (dir, mut store) = sqlite_store();
        import_units(&mut store, UNITS_CSV).unwrap();
        let transcript = transcript(&mut store, &calls, one_event_per_call);
        let report = report::build(&mut store, &LevelScheme::default(), &year).unwrap();
        let rows = sqlite_rows(&dir.path().join("var/ledger.sqlite"));
        let path = if one_event_per_call {
            "SQLite, one event per call"
        } else {
            "SQLite, whole calls"
        };
        runs.push((path, transcript, rows, report));
    }
    if let Some(url) = pg_url() {
        for one_event_per_call in [true, false] {
            let (path, schema) = if one_event_per_call {
                ("PostgreSQL, one event per call", "t_same_sequence_single")
            } else {
                ("PostgreSQL, whole calls", "t_same_sequence_bulk")
            };
            reset_schema(&url, schema);
            let mut store = kyso::ledger::postgres::PgStore::connect(&url, Some(schema)).unwrap();
            import_units(&mut store, UNITS_CSV).unwrap();
            let transcript = transcript(&mut store, &calls, one_event_per_call);
            let report = report::build(&mut store, &LevelScheme::default(), &year).unwrap();
            runs.push((path, transcript, pg_rows(&url, schema), report));
        }
    }

    let (first, transcript, rows, report) = &runs[0];
    // The sequence does what its comments say.
    let refused = transcript.iter().filter(|l| l.contains("refused")).count();
    assert_eq!(refused, 5, "{transcript:#?}");
    let said = |line: &str| transcript.iter().any(|l| l == line);
    assert!(said("call 0 event 2: Unchanged"), "{transcript:#?}");
    assert!(said("call 9 event 1: Updated"), "{transcript:#?}");
    assert!(said("call 16 event 3: Updated"), "{transcript:#?}");
    assert!(
        transcript[transcript.len() - 5..]
            .iter()
            .all(|l| l.ends_with("Unchanged")),
        "{transcript:#?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r.starts_with("documents:")).count(),
        3
    );
    assert!(
        rows.contains(&"documents: document_id=a-1 number=3/QĐ-STC doc_type=Quyết định unit=STC issued_at=1646100000 declared_signed=1 verified_signed=1".to_owned()),
        "{rows:#?}"
    );
    for (path, other_transcript, other_rows, other_report) in &runs[1..] {
        assert_eq!(
            other_transcript, transcript,
            "{path} answered other than {first}"
        );
        assert_eq!(other_rows, rows, "{path} stored other rows than {first}");
        assert_eq!(
            other_report, report,
            "{path} reports other figures than {first}"
        );
    }
}

/// A store writes what was decided or nothing: an update that finds no row fails the whole
/// batch instead of passing for recorded. A trigger that swallows updates of `documents` stands
/// in for a writer that bypassed the locks.
#[test]
fn a_decided_write_the_table_refuses_fails_the_batch() {
    let at = datetime!(2022-03-01 09:00 +07:00);
    let check = |store: &mut dyn Store| {
        let before = store.totals().unwrap();
        let err = store
            .record(&[
                issued("new", "STP", at, Declared::Signed),
                issued("d", "STP", at, Declared::Signed),
            ])
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::ChangedWhileRecording {
                    table: "documents",
                    expected: 1,
                    found: 0
                }
            ),
            "{err:?}"
        );
        assert_eq!(store.totals().unwrap(), before, "nothing of the batch");
    };

    let (dir, mut store) = sqlite_store();
    import_units(&mut store, UNITS_CSV).unwrap();
    store
        .record(&[issued("d", "STP", at, Declared::Unsigned)])
        .unwrap();
    rusqlite::Connection::open(dir.path().join("var/ledger.sqlite"))
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER swallow BEFORE UPDATE ON documents BEGIN SELECT RAISE(IGNORE); END",
        )
        .unwrap();
    check(&mut store);

    let Some(mut store) = pg_store("decided_write_refused") else {
        return;
    };
    import_units(&mut store, UNITS_CSV).unwrap();
    store
        .record(&[issued("d", "STP", at, Declared::Unsigned)])
        .unwrap();
    let mut client = ::postgres::Client::connect(&pg_url().unwrap(), ::postgres::NoTls).unwrap();
    client
        .batch_execute(
            "SET search_path TO t_decided_write_refused;
             CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
             CREATE TRIGGER swallow BEFORE UPDATE ON documents
                 FOR EACH ROW EXECUTE FUNCTION swallow();",
        )
        .unwrap();
    check(&mut store);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// The workload of one writer. Writer 0 issues documents 0..10000; writer 1 signs documents
/// 0..5000 (racing writer 0's issued events for the same documents) and issues documents
/// 5000..10000 again (racing writer 0's identical events). One event per transaction.
fn writer_events(writer: u32) -> Vec<Event> {
    let at =
        |i: u32| datetime!(2022-01-01 08:00 +07:00) + time::Duration::seconds(i64::from(i) * 60);
    let id = |i: u32| format!("doc-{i:05}");
    let declared = |i: u32| {
        if i.is_multiple_of(2) {
            Declared::Signed
        } else {
            Declared::Unsigned
        }
    };
    match writer {
        0 => (0..10_000)
            .map(|i| issued(&id(i), "STP", at(i), declared(i)))
            .collect(),
        _ => (0..5_000)
            .map(|i| {
                signed(
                    &id(i),
                    "STP",
                    at(i),
                    Method::Token,
                    CA_A,
                    Indication::TotalPassed,
                )
            })
            .chain((5_000..10_000).map(|i| issued(&id(i), "STP", at(i), declared(i))))
            .collect(),
    }
}

/// Records `events` in transactions of `batch` events; tallies (inserted, unchanged, updated).
fn write_all(store: &mut dyn Store, events: &[Event], batch: usize) -> [u64; 3] {
    let mut tally = [0u64; 3];
    for chunk in events.chunks(batch) {
        for outcome in store.record(chunk).expect("record events") {
            tally[match outcome {
                Recorded::Inserted => 0,
                Recorded::Unchanged => 1,
                Recorded::Updated => 2,
            }] += 1;
        }
    }
    tally
}

fn check_after_concurrent_writers(store: &mut dyn Store, tallies: &[[u64; 3]]) {
    let inserted: u64 = tallies.iter().map(|t| t[0]).sum();
    let unchanged: u64 = tallies.iter().map(|t| t[1]).sum();
    let updated: u64 = tallies.iter().map(|t| t[2]).sum();
    assert_eq!(
        (inserted, unchanged, updated),
        (15_000, 5_000, 0),
        "{tallies:?}"
    );
    let totals = store.totals().unwrap();
    assert_eq!((totals.documents, totals.signatures), (10_000, 5_000));
    let report = report::build(
        store,
        &LevelScheme::default(),
        &ReportQuery::new(Period::parse("2022").unwrap()),
    )
    .unwrap();
    // Documents 0..5000 are verified whichever of issue and signature landed first.
    assert_eq!(report.overall.counts, counts(10_000, 5_000, 5_000, 2_500));
}

#[test]
fn postgres_two_nodes_write_concurrently() {
    postgres_two_nodes(1);
}

/// Batches take their documents' locks in one sorted order, so two nodes writing overlapping
/// batches wait for each other instead of deadlocking.
#[test]
fn postgres_two_nodes_write_overlapping_batches() {
    postgres_two_nodes(50);
}

fn postgres_two_nodes(batch: usize) {
    let Some(url) = pg_url() else { return };
    let schema = format!("t_two_nodes_{batch}");
    let schema = schema.as_str();
    reset_schema(&url, schema);
    let mut first = kyso::ledger::postgres::PgStore::connect(&url, Some(schema)).unwrap();
    import_units(&mut first, UNITS_CSV).unwrap();
    let tallies: Vec<[u64; 3]> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|writer| {
                let url = url.clone();
                scope.spawn(move || {
                    let mut node =
                        kyso::ledger::postgres::PgStore::connect(&url, Some(schema)).unwrap();
                    write_all(&mut node, &writer_events(writer), batch)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .collect()
    });
    check_after_concurrent_writers(&mut first, &tallies);
}

#[test]
fn sqlite_two_processes_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let mut store = SqliteStore::open(&path, Durability::Full).unwrap();
    import_units(&mut store, UNITS_CSV).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|writer| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "ledger::sqlite_writer_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("KYSO_LEDGER_CHILD_DB", &path)
                .env("KYSO_LEDGER_CHILD_WRITER", writer.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn writer process")
        })
        .collect();
    let tallies: Vec<[u64; 3]> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "writer process failed: {stdout}");
            let line = stdout
                .lines()
                .find_map(|l| l.split_once("TALLY ").map(|(_, tally)| tally))
                .unwrap_or_else(|| panic!("writer printed no tally: {stdout}"));
            let n: Vec<u64> = line.split(' ').map(|n| n.parse().unwrap()).collect();
            [n[0], n[1], n[2]]
        })
        .collect();
    check_after_concurrent_writers(&mut store, &tallies);
}

/// `kill -9` of a writer mid-stream loses nothing it acknowledged: with WAL and
/// `synchronous=FULL`, an event the store returned from `record` for is on disk (SECURITY.md,
/// "a committed event lost in a power cut"; a SIGKILL is the process-level half of that claim).
#[test]
fn sqlite_kill_9_loses_no_acknowledged_event() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let mut store = SqliteStore::open(&path, Durability::Full).unwrap();
    import_units(&mut store, UNITS_CSV).unwrap();
    drop(store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ledger::sqlite_acknowledging_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KYSO_LEDGER_CHILD_DB", &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = 0usize;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "ACK" {
            acknowledged += 1;
            if acknowledged == 200 {
                // SIGKILL: no destructor, no flush, no checkpoint.
                child.kill().unwrap();
                break;
            }
        }
    }
    let _ = child.wait();
    assert_eq!(
        acknowledged, 200,
        "the writer acknowledged 200 events before the kill"
    );
    let mut store = SqliteStore::open(&path, Durability::Full).unwrap();
    let events = &writer_events(0)[..acknowledged];
    let outcomes = store.record(events).unwrap();
    assert!(
        outcomes.iter().all(|o| *o == Recorded::Unchanged),
        "every acknowledged event survived the kill: {outcomes:?}"
    );
}

/// Runs only as a child of `sqlite_kill_9_loses_no_acknowledged_event`: records events one per
/// transaction and prints `ACK` after each commit returns.
#[test]
#[ignore = "child process of sqlite_kill_9_loses_no_acknowledged_event"]
fn sqlite_acknowledging_child() {
    use std::io::Write;
    let Ok(path) = std::env::var("KYSO_LEDGER_CHILD_DB") else {
        eprintln!("not a test on its own: sqlite_kill_9_loses_no_acknowledged_event runs it");
        return;
    };
    let mut store = SqliteStore::open(path, Durability::Full).unwrap();
    let stdout = std::io::stdout();
    for event in writer_events(0) {
        store.record(std::slice::from_ref(&event)).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "ACK").unwrap();
        out.flush().unwrap();
    }
}

/// Runs only as a child of `sqlite_two_processes_write_concurrently`.
#[test]
#[ignore = "child process of sqlite_two_processes_write_concurrently"]
fn sqlite_writer_child() {
    let Ok(path) = std::env::var("KYSO_LEDGER_CHILD_DB") else {
        eprintln!("not a test on its own: sqlite_two_processes_write_concurrently runs it");
        return;
    };
    let writer: u32 = std::env::var("KYSO_LEDGER_CHILD_WRITER")
        .unwrap()
        .parse()
        .unwrap();
    // Locking is the same whatever `synchronous` is; NORMAL spares the test 10,000 fsyncs.
    let mut store = SqliteStore::open(path, Durability::Normal).unwrap();
    let [i, u, c] = write_all(&mut store, &writer_events(writer), 1);
    println!("TALLY {i} {u} {c}");
}

// ---------------------------------------------------------------------------------------------
// Rendering (store-independent)

#[test]
fn report_renders_in_every_format() {
    use kyso::ledger::render::{self, Format};
    let (_dir, mut store) = sqlite_store();
    load_fixture(&mut store, 4);
    // A unit name that would break HTML if it were not escaped.
    import_units(
        &mut store,
        "code,name,level,parent\nX0102,\"UBND xã <Bình> & \"\"Minh\"\"\",commune,H01\n",
    )
    .unwrap();
    let mut query = ReportQuery::new(Period::parse("2022-H1").unwrap());
    let report = report::build(&mut store, &LevelScheme::default(), &query).unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&render::render(&report, Format::Json).unwrap()).unwrap();
    assert_eq!(json["period"], "2022-H1");
    assert_eq!(json["overall"]["issued"], 10);
    assert_eq!(json["overall"]["declared_rate"], 70.0);
    assert_eq!(json["range"]["start"], "2021-12-31T17:00:00Z");
    let district = json["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["level"] == "district")
        .unwrap();
    assert!(
        district["rates"]["declared_rate"].is_null(),
        "no documents: null, not 0"
    );

    let csv = render::render(&report, Format::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1 + 4 + 6, "overall, four levels, six units");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let stp = rows.iter().find(|r| &r[col("code")] == "STP").unwrap();
    assert_eq!(&stp[col("issued")], "4");
    assert_eq!(&stp[col("declared_rate")], "75.00");
    assert_eq!(&stp[col("verified_rate")], "50.00");
    let h01 = rows.iter().find(|r| &r[col("code")] == "H01").unwrap();
    assert_eq!(&h01[col("declared_rate")], "", "no documents of its own");
    assert_eq!(&h01[col("total_issued")], "3");
    assert!(
        rows.iter()
            .any(|r| &r[col("name")] == "UBND xã <Bình> & \"Minh\"")
    );

    let table = render::render(&report, Format::Table).unwrap();
    assert!(table.contains("2022-H1"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("Tổng / Overall") && l.contains("70.0%") && l.contains("60.0%")),
        "{table}"
    );
    assert!(table.contains("  STP Sở Tư pháp"), "{table}");

    let html = render::render(&report, Format::Html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "inline charts");
    assert!(html.contains("UBND xã &lt;Bình&gt; &amp; &quot;Minh&quot;"));
    assert!(!html.contains("<Bình>"), "unit names are escaped");
    // Self-contained: nothing to fetch (the SVG namespace is a name, not a fetch).
    for needle in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(!html.contains(needle), "HTML refers to {needle}");
    }
    assert_eq!(
        html.matches("http").count(),
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
    );

    // Drill-down lists the unit's documents in every format.
    query.unit = Some("STP".into());
    let report = report::build(&mut store, &LevelScheme::default(), &query).unwrap();
    let html = render::render(&report, Format::Html).unwrap();
    assert!(html.contains("stp-3") && html.contains("stp-4"));
    let table = render::render(&report, Format::Table).unwrap();
    assert!(
        table.contains("stp-4") && table.contains("unsigned / unverified"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render::render(&report, Format::Json).unwrap()).unwrap();
    assert_eq!(json["unsigned"]["total"], 2);
    assert_eq!(json["unsigned"]["documents"][0]["document_id"], "stp-3");
}

#[test]
fn sqlite_refuses_a_ledger_from_a_newer_kyso() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    drop(SqliteStore::open(&path, Durability::Full).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("INSERT INTO kyso_schema (version) VALUES (99)", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, Durability::Full).err().unwrap();
    assert!(
        matches!(
            err,
            Error::SchemaTooNew {
                found: 99,
                known: 5
            }
        ),
        "{err:?}"
    );
    // Opening an up-to-date ledger again migrates nothing and keeps its data.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
    import_units(&mut store, UNITS_CSV).unwrap();
    drop(store);
    let mut store = SqliteStore::open(&path, Durability::Normal).unwrap();
    assert_eq!(store.units().unwrap().len(), 6);
}

#[test]
fn sqlite_names_a_stored_value_it_does_not_know() {
    let (dir, mut store) = sqlite_store();
    load_fixture(&mut store, 27);
    let conn = rusqlite::Connection::open(dir.path().join("var/ledger.sqlite")).unwrap();
    conn.execute(
        "UPDATE signatures SET method = 'quill' WHERE document_id = 'x-1'",
        [],
    )
    .unwrap();
    let err = store
        .signature_counts(Period::parse("2022").unwrap().range())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the ledger holds an unknown method `quill`: written by a newer kyso?"
    );
}
