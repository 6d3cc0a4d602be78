//! The decision on its own: every event kind's outcomes, the refusals, the verified flag, and
//! properties over random event sequences recorded in an in-memory ledger that keeps the write
//! contract ([`Write`]) strictly: a retried batch writes nothing, and a batch decides as its
//! events one by one would.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::ledger::event::{
    Audited, Certificate, Declared, Issued, LongTermStatus, Method, SignatureLevel, Signed,
    Verified,
};
use crate::ledger::rows::Protection;
use crate::ledger::unix;

use Indication::{Indeterminate, TotalFailed, TotalPassed};
use Recorded::{Inserted, Unchanged, Updated};

// ---------------------------------------------------------------------------------------------
// An in-memory ledger: reads what `wanted` names, applies writes as a store must.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Memory {
    units: HashSet<String>,
    documents: BTreeMap<String, DocumentRow>,
    /// By (document id, certificate).
    signatures: BTreeMap<(String, String), SignatureRow>,
    incoming: BTreeMap<IncomingKey, IncomingRow>,
    /// By (document id, content).
    audits: BTreeMap<(String, String), AuditRow>,
}

impl Memory {
    fn with_units(units: &[&str]) -> Memory {
        Memory {
            units: units.iter().map(|u| (*u).to_owned()).collect(),
            ..Memory::default()
        }
    }

    fn read(&self, events: &[Event]) -> Stored {
        let wanted = wanted(events);
        let mut stored = Stored {
            units: (wanted.units.iter())
                .filter(|u| self.units.contains(**u))
                .map(|u| (*u).to_owned())
                .collect(),
            ..Stored::default()
        };
        for id in wanted.documents {
            let document = StoredDocument {
                issued: self.documents.get(id).cloned(),
                signatures: (self.signatures.values())
                    .filter(|s| s.document_id == id)
                    .cloned()
                    .collect(),
                audits: (self.audits.values())
                    .filter(|a| a.document_id == id)
                    .cloned()
                    .collect(),
            };
            // Stores may leave out what they hold nothing of; this one does.
            if document != StoredDocument::default() {
                stored.documents.insert(id.to_owned(), document);
            }
        }
        for key in wanted.incoming {
            if let Some(row) = self.incoming.get(&key) {
                stored.incoming.insert(key, row.clone());
            }
        }
        stored
    }

    /// Applies `writes` keeping the contract: an insert never meets a row, an update always does.
    fn apply(&mut self, writes: &Writes) {
        fn put<K: Ord + std::fmt::Debug, R: Clone>(
            table: &mut BTreeMap<K, R>,
            key: K,
            write: &Write<R>,
        ) {
            let present = table.contains_key(&key);
            match write {
                Write::Insert(_) => assert!(!present, "insert meets a stored row: {key:?}"),
                Write::Update(_) => assert!(present, "update meets no row: {key:?}"),
            }
            table.insert(key, write.row().clone());
        }
        for w in &writes.documents {
            put(&mut self.documents, w.row().document_id.clone(), w);
        }
        for w in &writes.signatures {
            let key = (w.row().document_id.clone(), w.row().cert_sha256.clone());
            put(&mut self.signatures, key, w);
        }
        for w in &writes.incoming {
            put(&mut self.incoming, w.row().key(), w);
        }
        for w in &writes.audits {
            let key = (w.row().document_id.clone(), w.row().content_sha256.clone());
            put(&mut self.audits, key, w);
        }
    }

    fn decide(&self, events: &[Event], reassignment: Reassignment) -> Result<Decision, Error> {
        decide(events, self.read(events), reassignment)
    }

    fn record(&mut self, events: &[Event]) -> Result<Vec<Recorded>, Error> {
        self.record_with(events, Reassignment::Refused)
    }

    fn record_with(
        &mut self,
        events: &[Event],
        reassignment: Reassignment,
    ) -> Result<Vec<Recorded>, Error> {
        let decision = self.decide(events, reassignment)?;
        self.apply(&decision.writes);
        Ok(decision.outcomes)
    }

    fn verified(&self, document_id: &str) -> bool {
        self.documents[document_id].verified
    }

    /// Rule 4 holds for every stored document.
    fn check_flags(&self) {
        for (id, row) in &self.documents {
            let passed = (self.signatures.values())
                .filter(|s| &s.document_id == id)
                .any(|s| s.indication == TotalPassed)
                || (self.audits.values())
                    .filter(|a| &a.document_id == id)
                    .any(|a| a.indication == TotalPassed);
            assert_eq!(row.verified, passed, "verified flag of {id}");
            // The latest passing audit that recorded a status; same second: the longer-lasting.
            let mut statuses: Vec<(i64, Protection)> = (self.audits.values())
                .filter(|a| &a.document_id == id && a.indication == TotalPassed)
                .filter_map(|a| a.long_term.as_ref().map(|(p, _)| (a.audited_at, *p)))
                .collect();
            statuses.sort_by_key(|(at, p)| (*at, p.protected, p.until));
            let expected = statuses.last().map(|(_, p)| *p);
            assert_eq!(row.protection, expected, "long-term status of {id}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events

fn at(minute: i64) -> OffsetDateTime {
    datetime!(2022-03-01 09:00 +07:00) + time::Duration::minutes(minute)
}

fn issued(id: &str, unit: &str, declared: Declared) -> Event {
    Event::Issued(Issued {
        document_id: id.into(),
        number: format!("1/QĐ-{unit}"),
        doc_type: "Quyết định".into(),
        unit: unit.into(),
        issued_at: at(0),
        declared,
    })
}

fn signed(id: &str, unit: &str, cert: u8, minute: i64, indication: Indication) -> Event {
    Event::Signed(Signed {
        document_id: id.into(),
        unit: unit.into(),
        key: format!("pkcs11:token=kyso;object={unit}"),
        certificate: Certificate {
            sha256: format!("{cert:02x}").repeat(32),
            subject: format!("CN={unit}"),
            issuer: "CN=CA".into(),
        },
        method: Method::Token,
        level: SignatureLevel::PadesBT,
        signed_at: at(minute),
        indication,
    })
}

fn incoming(id: &str, unit: &str, indication: Indication) -> Event {
    Event::Verified(Verified {
        document_id: id.into(),
        receiving_unit: unit.into(),
        sender: "Bộ Tư pháp".into(),
        verified_at: at(5),
        indication,
        sub_indication: (indication != TotalPassed).then(|| "TRY_LATER".to_owned()),
    })
}

fn audited(id: &str, content: u8, indication: Indication) -> Event {
    Event::Audited(Audited {
        document_id: id.into(),
        content_sha256: format!("{content:02x}").repeat(32),
        audited_at: at(60),
        indication,
        sub_indication: (indication != TotalPassed).then(|| "TRY_LATER".to_owned()),
        long_term: None,
    })
}

/// A passing audit at `minute` that found the file protected (or not) until `year`.
fn audited_long_term(id: &str, content: u8, minute: i64, protected: bool, year: i32) -> Event {
    Event::Audited(Audited {
        document_id: id.into(),
        content_sha256: format!("{content:02x}").repeat(32),
        audited_at: at(minute),
        indication: TotalPassed,
        sub_indication: None,
        long_term: Some(LongTermStatus {
            protected,
            until: datetime!(2022-03-01 00:00 UTC).replace_year(year).unwrap(),
            certificate: "CN=TSA".into(),
        }),
    })
}

fn ledger() -> Memory {
    Memory::with_units(&["STP", "STC", "SYT"])
}

fn refused_for(err: &Error) -> (&str, &str) {
    match err {
        Error::DocumentOfAnotherUnit { owner, unit, .. } => (owner, unit),
        other => panic!("expected DocumentOfAnotherUnit, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Each kind of event

#[test]
fn an_issued_event_is_inserted_then_unchanged_then_updated() {
    let mut l = ledger();
    let first = issued("d", "STP", Declared::Unsigned);
    let decision = l.decide(std::slice::from_ref(&first), Reassignment::Refused);
    let decision = decision.unwrap();
    assert_eq!(decision.outcomes, [Inserted]);
    let Write::Insert(row) = &decision.writes.documents[0] else {
        panic!("{decision:?}")
    };
    assert_eq!(row.issuance.unit, "STP");
    assert_eq!(row.issuance.declared, Declared::Unsigned);
    assert!(!row.verified);
    l.apply(&decision.writes);

    let again = l.decide(&[first], Reassignment::Refused).unwrap();
    assert_eq!(again.outcomes, [Unchanged]);
    assert!(again.writes.is_empty());

    let corrected = l
        .decide(
            &[issued("d", "STP", Declared::Signed)],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(corrected.outcomes, [Updated]);
    assert!(
        matches!(&corrected.writes.documents[..], [Write::Update(row)] if row.issuance.declared == Declared::Signed)
    );
}

#[test]
fn times_compare_as_the_stored_seconds() {
    // The store keeps Unix seconds: the same instant with another offset, or with a fraction
    // the store dropped, is a retry, not a correction.
    let mut l = ledger();
    let mut event = issued("d", "STP", Declared::Signed);
    l.record(std::slice::from_ref(&event)).unwrap();
    if let Event::Issued(e) = &mut event {
        e.issued_at =
            (e.issued_at + time::Duration::milliseconds(700)).to_offset(time::UtcOffset::UTC);
    }
    assert_eq!(l.record(&[event]).unwrap(), [Unchanged]);
}

#[test]
fn a_signature_makes_its_document_verified_and_a_correction_clears_it() {
    let mut l = ledger();
    l.record(&[issued("d", "STP", Declared::Signed)]).unwrap();
    let decision = l
        .decide(
            &[signed("d", "STP", 1, 0, TotalPassed)],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(decision.outcomes, [Inserted]);
    assert!(matches!(
        &decision.writes.signatures[..],
        [Write::Insert(_)]
    ));
    assert!(
        matches!(&decision.writes.documents[..], [Write::Update(row)] if row.verified),
        "{decision:?}"
    );
    l.apply(&decision.writes);

    let retry = l
        .decide(
            &[signed("d", "STP", 1, 0, TotalPassed)],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(
        (retry.outcomes, retry.writes),
        (vec![Unchanged], Writes::default())
    );

    assert_eq!(
        l.record(&[signed("d", "STP", 1, 0, TotalFailed)]).unwrap(),
        [Updated]
    );
    assert!(!l.verified("d"));
    // A second certificate is a second signature, not a correction of the first.
    assert_eq!(
        l.record(&[signed("d", "STP", 2, 1, TotalPassed)]).unwrap(),
        [Inserted]
    );
    assert!(l.verified("d"));
    assert_eq!(l.signatures.len(), 2);
    l.check_flags();
}

#[test]
fn a_signature_before_the_issued_event_still_counts() {
    let mut l = ledger();
    let decision = l
        .decide(
            &[signed("d", "STP", 1, 0, TotalPassed)],
            Reassignment::Refused,
        )
        .unwrap();
    assert!(decision.writes.documents.is_empty(), "no document row yet");
    l.apply(&decision.writes);
    assert_eq!(
        l.record(&[issued("d", "STP", Declared::Signed)]).unwrap(),
        [Inserted]
    );
    assert!(l.verified("d"));
}

#[test]
fn an_audit_is_by_content_and_a_re_audit_of_the_same_file_replaces_it() {
    let mut l = ledger();
    l.record(&[issued("d", "STC", Declared::Unsigned)]).unwrap();
    let decision = l
        .decide(
            &[audited("d", 1, Indeterminate), audited("d", 1, TotalPassed)],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(decision.outcomes, [Inserted, Updated]);
    // One row written, in its final version.
    assert!(
        matches!(&decision.writes.audits[..], [Write::Insert(row)] if row.indication == TotalPassed)
    );
    l.apply(&decision.writes);
    assert!(
        l.verified("d"),
        "an audit finds what the DMS did not declare"
    );
    assert_eq!(
        l.record(&[audited("d", 2, TotalFailed)]).unwrap(),
        [Inserted],
        "another file of the same document"
    );
    assert!(l.verified("d"), "one passing audit is enough");
    assert_eq!(
        l.record(&[audited("d", 1, TotalFailed)]).unwrap(),
        [Updated]
    );
    assert!(!l.verified("d"));
    l.check_flags();
}

#[test]
fn a_document_carries_the_long_term_status_of_its_latest_passing_audit() {
    let mut l = ledger();
    l.record(&[issued("d", "STC", Declared::Signed)]).unwrap();
    let protection = |l: &Memory| l.documents["d"].protection;
    l.record(&[audited("d", 1, TotalPassed)]).unwrap();
    assert_eq!(protection(&l), None, "an audit without a status sets none");

    l.record(&[audited_long_term("d", 1, 60, false, 2024)])
        .unwrap();
    let b_b = Some(Protection {
        protected: false,
        until: unix(datetime!(2024-03-01 00:00 UTC)),
    });
    assert_eq!(protection(&l), b_b);

    // The extended file, audited later, replaces the original's status.
    l.record(&[audited_long_term("d", 2, 90, true, 2031)])
        .unwrap();
    let b_lta = Some(Protection {
        protected: true,
        until: unix(datetime!(2031-03-01 00:00 UTC)),
    });
    assert_eq!(protection(&l), b_lta);

    // A failed re-audit of the extended file leaves the original's status.
    l.record(&[audited("d", 2, TotalFailed)]).unwrap();
    assert_eq!(protection(&l), b_b);
    assert!(l.verified("d"));
    l.check_flags();

    // A status on anything but a passing audit is refused before any store sees it.
    let Event::Audited(mut failed) = audited_long_term("d", 3, 95, true, 2031) else {
        unreachable!()
    };
    failed.indication = TotalFailed;
    failed.sub_indication = Some("HASH_FAILURE".into());
    assert!(matches!(
        Event::Audited(failed).validate(),
        Err(Error::InvalidEvent {
            field: "long_term",
            ..
        })
    ));
}

#[test]
fn an_incoming_verification_is_per_receiving_unit_and_never_touches_documents() {
    let mut l = ledger();
    l.record(&[issued("d", "STP", Declared::Signed)]).unwrap();
    let decision = l
        .decide(
            &[
                incoming("d", "STC", TotalPassed),
                incoming("d", "SYT", TotalFailed),
                incoming("d", "STC", TotalPassed),
            ],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(decision.outcomes, [Inserted, Inserted, Unchanged]);
    assert_eq!(decision.writes.incoming.len(), 2);
    assert!(decision.writes.documents.is_empty());
    l.apply(&decision.writes);
    assert!(
        !l.verified("d"),
        "a receiver's verification is not the sender's"
    );
    assert_eq!(
        l.record(&[incoming("d", "STC", Indeterminate)]).unwrap(),
        [Updated]
    );
}

// ---------------------------------------------------------------------------------------------
// Batches

#[test]
fn a_batch_writes_each_changed_row_once_in_its_final_version() {
    let l = ledger();
    let decision = l
        .decide(
            &[
                issued("d", "STP", Declared::Unsigned),
                issued("d", "STP", Declared::Unsigned),
                issued("d", "STP", Declared::Signed),
                signed("d", "STP", 1, 0, TotalFailed),
                signed("d", "STP", 1, 0, TotalPassed),
            ],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(
        decision.outcomes,
        [Inserted, Unchanged, Updated, Inserted, Updated]
    );
    assert!(matches!(
        &decision.writes.documents[..],
        [Write::Insert(row)] if row.issuance.declared == Declared::Signed && row.verified
    ));
    assert!(matches!(
        &decision.writes.signatures[..],
        [Write::Insert(row)] if row.indication == TotalPassed
    ));
}

#[test]
fn a_batch_that_comes_back_to_the_stored_version_writes_nothing() {
    let mut l = ledger();
    l.record(&[issued("d", "STP", Declared::Unsigned)]).unwrap();
    let decision = l
        .decide(
            &[
                issued("d", "STP", Declared::Signed),
                issued("d", "STP", Declared::Unsigned),
            ],
            Reassignment::Refused,
        )
        .unwrap();
    assert_eq!(decision.outcomes, [Updated, Updated]);
    assert!(decision.writes.is_empty(), "{decision:?}");
}

#[test]
fn wanted_names_what_the_decision_reads() {
    let events = [
        issued("a", "STP", Declared::Signed),
        signed("b", "STC", 1, 0, TotalPassed),
        incoming("c", "SYT", TotalPassed),
        audited("d", 1, TotalPassed),
        audited("a", 1, TotalPassed),
    ];
    let w = wanted(&events);
    assert_eq!(w.documents.into_iter().collect::<Vec<_>>(), ["a", "b", "d"]);
    assert_eq!(
        w.incoming.into_iter().collect::<Vec<_>>(),
        [IncomingKey {
            receiving_unit: "SYT".into(),
            document_id: "c".into()
        }]
    );
    assert_eq!(
        w.units.into_iter().collect::<Vec<_>>(),
        ["STC", "STP", "SYT"]
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn another_units_issued_record_or_signature_is_refused_and_nothing_written() {
    let mut l = ledger();
    l.record(&[issued("d", "STP", Declared::Unsigned)]).unwrap();
    let before = l.clone();
    for events in [
        vec![issued("d", "STC", Declared::Signed)],
        vec![signed("d", "STC", 1, 0, TotalPassed)],
        vec![
            issued("other", "STC", Declared::Signed),
            signed("d", "STC", 1, 0, TotalPassed),
        ],
    ] {
        let err = l.record(&events).unwrap_err();
        assert_eq!(refused_for(&err), ("STP", "STC"), "{events:?}");
    }
    assert_eq!(l, before);
}

#[test]
fn the_first_signature_owns_a_document_not_yet_issued() {
    let mut l = ledger();
    // Signed first by STC (later in time) and then by... no one else may sign it.
    l.record(&[signed("d", "STC", 2, 10, TotalPassed)]).unwrap();
    let err = l
        .record(&[issued("d", "STP", Declared::Signed)])
        .unwrap_err();
    assert_eq!(refused_for(&err), ("STC", "STP"));
    // Within one batch the first claim decides.
    let err = l
        .record(&[
            issued("e", "STP", Declared::Signed),
            signed("e", "STC", 1, 0, TotalPassed),
        ])
        .unwrap_err();
    assert_eq!(refused_for(&err), ("STP", "STC"));
}

#[test]
fn the_owner_is_the_earliest_signature_then_the_smallest_certificate() {
    let sig = |unit: &str, cert: u8, minute: i64| {
        let Event::Signed(e) = signed("d", unit, cert, minute, TotalPassed) else {
            unreachable!()
        };
        SignatureRow::from(&e)
    };
    let document = StoredDocument {
        issued: None,
        signatures: vec![sig("STP", 1, 5), sig("SYT", 9, 1), sig("STC", 3, 1)],
        audits: Vec::new(),
    };
    assert_eq!(document.owner(), Some("STC"));
    assert_eq!(StoredDocument::default().owner(), None);
}

#[test]
fn a_correction_moves_an_issued_document_but_never_admits_another_units_signature() {
    let mut l = ledger();
    l.record(&[
        issued("d", "STP", Declared::Signed),
        signed("d", "STP", 1, 0, TotalPassed),
    ])
    .unwrap();
    let moved = l
        .record_with(
            &[issued("d", "STC", Declared::Signed)],
            Reassignment::AllowedForCorrection,
        )
        .unwrap();
    assert_eq!(moved, [Updated]);
    assert_eq!(l.documents["d"].issuance.unit, "STC");
    assert!(l.verified("d"), "the move keeps the signatures' verdict");
    let err = l
        .record_with(
            &[signed("d", "STP", 2, 1, TotalPassed)],
            Reassignment::AllowedForCorrection,
        )
        .unwrap_err();
    assert_eq!(refused_for(&err), ("STC", "STP"));
}

#[test]
fn an_unknown_unit_is_refused_naming_the_first_event_after_ownership() {
    let mut l = ledger();
    let err = l
        .record(&[
            issued("a", "STP", Declared::Signed),
            incoming("b", "NOPE", TotalPassed),
            signed("c", "NOPE", 1, 0, TotalPassed),
        ])
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownUnit { code, document_id: Some(id) } if code == "NOPE" && id == "b"),
        "{err:?}"
    );
    assert_eq!(l, ledger());
    // Audits name no unit.
    assert_eq!(
        l.record(&[audited("x", 1, TotalPassed)]).unwrap(),
        [Inserted]
    );
    // A refused claim is reported before an unknown unit earlier in the batch, as the stores
    // have always done: ownership is checked first.
    l.record(&[issued("d", "STP", Declared::Signed)]).unwrap();
    let err = l
        .record(&[
            incoming("b", "NOPE", TotalPassed),
            issued("d", "STC", Declared::Signed),
        ])
        .unwrap_err();
    assert_eq!(refused_for(&err), ("STP", "STC"));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn document_id() -> impl Strategy<Value = String> {
    prop_oneof![Just("d0"), Just("d1"), Just("d2")].prop_map(str::to_owned)
}

fn unit() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just("STP"), 4 => Just("STC"), 1 => Just("NOPE")].prop_map(str::to_owned)
}

fn indication() -> impl Strategy<Value = Indication> {
    prop_oneof![Just(TotalPassed), Just(TotalFailed), Just(Indeterminate)]
}

fn sub(indication: Indication) -> Option<String> {
    (indication != TotalPassed).then(|| "TRY_LATER".to_owned())
}

/// Events over a small world, so that retries, corrections, conflicting units and later
/// verifications of the same documents are common.
fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (document_id(), unit(), 0..2i64, any::<bool>()).prop_map(|(id, unit, t, signed)| {
            Event::Issued(Issued {
                document_id: id,
                number: format!("{t}/QĐ"),
                doc_type: "Quyết định".into(),
                unit,
                issued_at: at(t),
                declared: if signed {
                    Declared::Signed
                } else {
                    Declared::Unsigned
                },
            })
        }),
        (document_id(), unit(), 0..2u8, 0..2i64, indication()).prop_map(
            |(id, unit, cert, t, indication)| {
                let Event::Signed(mut e) = signed(&id, &unit, cert, t, indication) else {
                    unreachable!()
                };
                e.method = Method::ALL[usize::from(t == 1)];
                Event::Signed(e)
            }
        ),
        (document_id(), unit(), 0..2i64, indication()).prop_map(|(id, unit, t, indication)| {
            Event::Verified(Verified {
                document_id: id,
                receiving_unit: unit,
                sender: "Bộ Tư pháp".into(),
                verified_at: at(t),
                indication,
                sub_indication: sub(indication),
            })
        }),
        (
            document_id(),
            0..2u8,
            0..2i64,
            indication(),
            proptest::option::of((any::<bool>(), 2023..2026i32)),
        )
            .prop_map(|(id, content, t, indication, status)| {
                Event::Audited(Audited {
                    document_id: id,
                    content_sha256: format!("{content:02x}").repeat(32),
                    audited_at: at(t),
                    indication,
                    sub_indication: sub(indication),
                    long_term: status.filter(|_| indication == TotalPassed).map(
                        |(protected, year)| LongTermStatus {
                            protected,
                            until: datetime!(2022-03-01 00:00 UTC).replace_year(year).unwrap(),
                            certificate: "CN=TSA".into(),
                        },
                    ),
                })
            }),
    ]
}

fn batch() -> impl Strategy<Value = Vec<Event>> {
    proptest::collection::vec(event(), 1..8)
}

fn reassignment() -> impl Strategy<Value = Reassignment> {
    prop_oneof![
        3 => Just(Reassignment::Refused),
        1 => Just(Reassignment::AllowedForCorrection)
    ]
}

/// A ledger after some accepted and refused batches.
fn history() -> impl Strategy<Value = Memory> {
    proptest::collection::vec((batch(), reassignment()), 0..4).prop_map(|batches| {
        let mut l = ledger();
        for (events, reassignment) in batches {
            let _ = l.record_with(&events, reassignment);
        }
        l
    })
}

proptest! {
    /// Applying an event a second time changes nothing: the retry is `Unchanged` and writes
    /// nothing, whatever the ledger held before.
    #[test]
    fn an_event_recorded_twice_is_unchanged_the_second_time(
        mut l in history(), e in event(), reassignment in reassignment()
    ) {
        let events = [e];
        if l.record_with(&events, reassignment).is_ok() {
            let again = l.decide(&events, reassignment).unwrap();
            prop_assert_eq!(again.outcomes, vec![Unchanged]);
            prop_assert!(again.writes.is_empty());
        }
    }

    /// A batch recorded again writes nothing (its events may say `Updated` when the batch holds
    /// two versions of one identity, but the rows end as they were). With corrections allowed,
    /// the retry may instead be refused: a signature that preceded the move in the batch now
    /// meets the document at its new unit. Either way nothing changes.
    #[test]
    fn a_batch_recorded_twice_writes_nothing_the_second_time(
        mut l in history(), events in batch(), reassignment in reassignment()
    ) {
        if l.record_with(&events, reassignment).is_ok() {
            match l.decide(&events, reassignment) {
                Ok(again) => prop_assert!(again.writes.is_empty(), "{:?}", again),
                Err(err) => {
                    prop_assert_eq!(reassignment, Reassignment::AllowedForCorrection);
                    prop_assert!(matches!(err, Error::DocumentOfAnotherUnit { .. }), "{:?}", err);
                }
            }
        }
    }

    /// One call with many events decides as one call per event: the same outcomes and the same
    /// rows; and when one of them is refused alone, the batch is refused and writes nothing.
    #[test]
    fn a_batch_decides_as_its_events_one_by_one(
        l in history(), events in batch(), reassignment in reassignment()
    ) {
        let mut one_by_one = l.clone();
        let mut outcomes = Vec::new();
        let mut refused = false;
        for event in &events {
            match one_by_one.record_with(std::slice::from_ref(event), reassignment) {
                Ok(o) => outcomes.extend(o),
                Err(_) => {
                    refused = true;
                    break;
                }
            }
            one_by_one.check_flags();
        }
        let mut batched = l.clone();
        let result = batched.record_with(&events, reassignment);
        if refused {
            prop_assert!(result.is_err(), "{:?}", result);
            prop_assert_eq!(batched, l);
        } else {
            prop_assert_eq!(result.unwrap(), outcomes);
            prop_assert_eq!(&batched, &one_by_one);
            batched.check_flags();
        }
    }
}
