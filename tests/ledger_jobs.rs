//! The signing-job table ([`kyso::ledger::jobs`]) against both stores: admission within the
//! bounds, completion at most once and in one transaction with its ledger event and audit
//! entry, endings, hand-out and retention.

use time::OffsetDateTime;

use kyso::ledger::jobs::{Admission, Ending, JobBounds, JobState, JobStore, NewJob};
use kyso::ledger::{Certificate, Event, Indication, Method, SignatureLevel, Signed, Store};

use crate::api::fixture::seed;

#[test]
fn jobs_on_sqlite() {
    let (_dir, mut store) = crate::ledger::sqlite_store();
    jobs_are_bounded_and_completed_once(&mut store);
}

#[test]
fn jobs_on_postgres() {
    if let Some(mut store) = crate::ledger::pg_store("signing_jobs") {
        jobs_are_bounded_and_completed_once(&mut store);
    }
}

fn job(id: &str, document_len: usize, at: OffsetDateTime) -> NewJob {
    NewJob {
        id: id.to_owned(),
        credential: "k1".to_owned(),
        unit: "STP".to_owned(),
        key_name: "stp-smart".to_owned(),
        document: vec![b'%'; document_len],
        options: "{}".to_owned(),
        message: b"signed attributes".to_vec(),
        digest: vec![7; 32],
        transaction_id: format!("tx-{id}"),
        created_at: at,
        deadline: at + time::Duration::minutes(5),
    }
}

fn signed(document_id: &str, at: OffsetDateTime) -> Event {
    Event::Signed(Signed {
        document_id: document_id.to_owned(),
        unit: "STP".to_owned(),
        key: "phone:https://provider.example#c1".to_owned(),
        certificate: Certificate {
            sha256: "ab".repeat(32),
            subject: "CN=Lê Thị Cúc".to_owned(),
            issuer: "CN=Test CA".to_owned(),
        },
        method: Method::Smart,
        level: SignatureLevel::PadesBB,
        signed_at: at,
        indication: Indication::TotalPassed,
    })
}

fn jobs_are_bounded_and_completed_once<S: Store + JobStore>(store: &mut S) {
    seed(store);
    let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let bounds = JobBounds {
        max_pending: 2,
        max_bytes: 1000,
    };
    assert!(store.has_room(300, bounds).unwrap());
    assert_eq!(
        store.create_job(&job("a", 300, at), bounds).unwrap(),
        Admission::Stored
    );
    assert_eq!(
        store.create_job(&job("b", 300, at), bounds).unwrap(),
        Admission::Stored
    );
    // Two pending: the count is full, whatever the size.
    assert!(!store.has_room(1, bounds).unwrap());
    assert_eq!(
        store.create_job(&job("c", 1, at), bounds).unwrap(),
        Admission::Full
    );
    assert!(store.job("c").unwrap().is_none());

    let pending = store.pending_jobs(10).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[0].new,
        job("a", 300, at),
        "stored as given, document included"
    );
    assert_eq!(pending[0].state, JobState::Pending);

    // Completion: once, with its event and audit entry.
    let record = kyso::audit::Record::new(
        "apikey:k1",
        kyso::audit::Action::Signature,
        "doc-a",
        &serde_json::json!({"job": "a"}),
    );
    let events = [signed("doc-a", at)];
    let result = vec![b'R'; 900];
    let done = store
        .complete("a", &result, at, &events, std::slice::from_ref(&record))
        .unwrap();
    let (recorded, entries) = done.expect("a pending job completes");
    assert_eq!(recorded.len(), 1);
    assert_eq!(entries.len(), 1);
    let before = store.audit_head().unwrap();
    assert!(
        store
            .complete("a", &result, at, &events, std::slice::from_ref(&record))
            .unwrap()
            .is_none(),
        "a job completes at most once"
    );
    assert_eq!(
        store.audit_head().unwrap(),
        before,
        "nothing appended the second time"
    );
    assert_eq!(store.totals().unwrap().signatures, 1);
    let a = store.job("a").unwrap().unwrap();
    assert_eq!(
        (a.state, a.result.as_deref()),
        (JobState::Done, Some(&result[..]))
    );

    // An ending: once, and a completion after it does nothing.
    let expired = Ending {
        state: JobState::Expired,
        reason: "the holder did not confirm".to_owned(),
        at,
    };
    assert!(store.finish("b", &expired).unwrap());
    assert!(!store.finish("b", &expired).unwrap());
    assert!(
        store
            .complete("b", &result, at, &[signed("doc-b", at)], &[])
            .unwrap()
            .is_none()
    );
    assert_eq!(store.totals().unwrap().signatures, 1);
    let b = store.job("b").unwrap().unwrap();
    assert_eq!(
        (b.state, b.reason.as_deref()),
        (JobState::Expired, Some("the holder did not confirm"))
    );
    assert!(store.pending_jobs(10).unwrap().is_empty());

    // Bytes: the 900-byte result is held until fetched.
    assert!(!store.has_room(200, bounds).unwrap());
    assert_eq!(
        store.create_job(&job("d", 200, at), bounds).unwrap(),
        Admission::Full
    );
    assert!(store.delete_finished("a").unwrap(), "handed out, deleted");
    assert!(!store.delete_finished("a").unwrap());
    assert!(store.job("a").unwrap().is_none());
    assert_eq!(
        store.create_job(&job("d", 200, at), bounds).unwrap(),
        Admission::Stored
    );
    // A pending job is never deleted as finished.
    assert!(!store.delete_finished("d").unwrap());

    // Retention: finished jobs older than the cut are purged; pending ones stay.
    assert_eq!(store.purge_finished(at).unwrap(), 0);
    assert_eq!(
        store
            .purge_finished(at + time::Duration::seconds(1))
            .unwrap(),
        1
    );
    assert!(store.job("b").unwrap().is_none());
    assert!(store.job("d").unwrap().is_some());
}
