//! Recording a batch of events in a constant number of round trips, for imports, audits and the
//! demo: a batch of 1,000 events one statement each spends nearly all its time waiting on the
//! network, not in the server.
//!
//! Within the batch's transaction (documents already locked by the caller), this reads the stored
//! version of every identity the batch names, walks the events in order to decide what each one
//! did exactly as the one-by-one path would (a retry within the batch is `Unchanged`, a second
//! version is `Updated`), writes the final version of each changed identity with one `unnest`
//! statement per table, and refreshes the verified flag of the documents touched.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use postgres::Transaction;

use super::pg;
use crate::ledger::event::{Declared, Event, Recorded};
use crate::ledger::{Error, unix};

type DocumentKey = String;
type DocumentContent = (String, String, String, i64, i16);
type PairKey = (String, String);
type SignatureContent = (String, String, String, i64, String, String, i64, String);
type IncomingContent = (String, i64, String, Option<String>);
type AuditContent = (i64, String, Option<String>);
/// Column vectors for one `unnest` write.
type DocumentColumns<'a> = (
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<i64>,
    Vec<i16>,
);
/// Column vectors for one `unnest` write.
type SignatureColumns<'a> = (
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<i64>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<i64>,
    Vec<&'a str>,
);
/// Column vectors for one `unnest` write.
type IncomingColumns<'a> = (
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<i64>,
    Vec<&'a str>,
    Vec<Option<&'a str>>,
);
/// Column vectors for one `unnest` write.
type AuditColumns<'a> = (
    Vec<&'a str>,
    Vec<&'a str>,
    Vec<i64>,
    Vec<&'a str>,
    Vec<Option<&'a str>>,
);

/// Records `events` inside `tx`; returns what each did, in order.
pub(super) fn record(
    tx: &mut Transaction<'_>,
    known_units: &mut HashSet<String>,
    issuer_ids: &HashMap<String, i64>,
    events: &[Event],
) -> Result<Vec<Recorded>, Error> {
    check_units(tx, known_units, events)?;

    let mut documents = Vec::new();
    let mut signatures = Vec::new();
    let mut incoming = Vec::new();
    let mut audits = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Issued(e) => documents.push((
                index,
                e.document_id.clone(),
                (
                    e.number.clone(),
                    e.doc_type.clone(),
                    e.unit.clone(),
                    unix(e.issued_at),
                    i16::from(e.declared == Declared::Signed),
                ),
            )),
            Event::Signed(e) => signatures.push((
                index,
                (e.document_id.clone(), e.certificate.sha256.clone()),
                (
                    e.unit.clone(),
                    e.key.clone(),
                    e.certificate.subject.clone(),
                    *issuer_ids
                        .get(&e.certificate.issuer)
                        .expect("BUG: ensure_issuers ran on this batch before its transaction"),
                    e.method.as_str().to_owned(),
                    e.level.as_str().to_owned(),
                    unix(e.signed_at),
                    e.indication.as_str().to_owned(),
                ),
            )),
            Event::Verified(e) => incoming.push((
                index,
                (e.receiving_unit.clone(), e.document_id.clone()),
                (
                    e.sender.clone(),
                    unix(e.verified_at),
                    e.indication.as_str().to_owned(),
                    e.sub_indication.clone(),
                ),
            )),
            Event::Audited(e) => audits.push((
                index,
                (e.document_id.clone(), e.content_sha256.clone()),
                (
                    unix(e.audited_at),
                    e.indication.as_str().to_owned(),
                    e.sub_indication.clone(),
                ),
            )),
        }
    }

    let mut outcomes = vec![Recorded::Unchanged; events.len()];
    let mut touched: BTreeSet<String> = BTreeSet::new();

    if !documents.is_empty() {
        let ids: Vec<&str> = documents.iter().map(|(_, k, _)| k.as_str()).collect();
        let stored: BTreeMap<DocumentKey, DocumentContent> = tx
            .query(
                "SELECT document_id, number, doc_type, unit, issued_at, declared_signed
                 FROM documents WHERE document_id = ANY($1)",
                &[&ids],
            )
            .map_err(pg("read documents"))?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
            .collect();
        let changed = walk(stored, &documents, &mut outcomes);
        touched.extend(changed.keys().cloned());
        let mut cols: DocumentColumns = Default::default();
        for (document, c) in &changed {
            cols.0.push(document);
            cols.1.push(&c.0);
            cols.2.push(&c.1);
            cols.3.push(&c.2);
            cols.4.push(c.3);
            cols.5.push(c.4);
        }
        tx.execute(
            "INSERT INTO documents (document_id, number, doc_type, unit, issued_at,
                                    declared_signed)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                  $5::bigint[], $6::smallint[])
             ON CONFLICT (document_id) DO UPDATE SET
                 number = EXCLUDED.number, doc_type = EXCLUDED.doc_type, unit = EXCLUDED.unit,
                 issued_at = EXCLUDED.issued_at, declared_signed = EXCLUDED.declared_signed",
            &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &cols.5],
        )
        .map_err(pg("write documents"))?;
    }

    if !signatures.is_empty() {
        let (ids, certs): (Vec<&str>, Vec<&str>) = signatures
            .iter()
            .map(|(_, (d, c), _)| (d.as_str(), c.as_str()))
            .unzip();
        let stored: BTreeMap<PairKey, SignatureContent> = tx
            .query(
                "SELECT s.document_id, s.cert_sha256, s.unit, s.key_ref, s.cert_subject,
                        s.cert_issuer_id, s.method, s.level, s.signed_at, s.indication
                 FROM signatures AS s
                 JOIN unnest($1::text[], $2::text[]) AS k (document_id, cert_sha256)
                   ON s.document_id = k.document_id AND s.cert_sha256 = k.cert_sha256",
                &[&ids, &certs],
            )
            .map_err(pg("read signatures"))?
            .iter()
            .map(|r| {
                (
                    (r.get(0), r.get(1)),
                    (
                        r.get(2),
                        r.get(3),
                        r.get(4),
                        r.get(5),
                        r.get(6),
                        r.get(7),
                        r.get(8),
                        r.get(9),
                    ),
                )
            })
            .collect();
        let changed = walk(stored, &signatures, &mut outcomes);
        touched.extend(changed.keys().map(|(document, _)| document.clone()));
        let mut cols: SignatureColumns = Default::default();
        for ((document, cert), c) in &changed {
            cols.0.push(document);
            cols.1.push(cert);
            cols.2.push(&c.0);
            cols.3.push(&c.1);
            cols.4.push(&c.2);
            cols.5.push(c.3);
            cols.6.push(&c.4);
            cols.7.push(&c.5);
            cols.8.push(c.6);
            cols.9.push(&c.7);
        }
        tx.execute(
            "INSERT INTO signatures (document_id, cert_sha256, unit, key_ref, cert_subject,
                                     cert_issuer_id, method, level, signed_at, indication)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                  $6::bigint[], $7::text[], $8::text[], $9::bigint[],
                                  $10::text[])
             ON CONFLICT (document_id, cert_sha256) DO UPDATE SET
                 unit = EXCLUDED.unit, key_ref = EXCLUDED.key_ref,
                 cert_subject = EXCLUDED.cert_subject, cert_issuer_id = EXCLUDED.cert_issuer_id,
                 method = EXCLUDED.method, level = EXCLUDED.level,
                 signed_at = EXCLUDED.signed_at, indication = EXCLUDED.indication",
            &[
                &cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &cols.5, &cols.6, &cols.7, &cols.8,
                &cols.9,
            ],
        )
        .map_err(pg("write signatures"))?;
    }

    if !incoming.is_empty() {
        let (units, ids): (Vec<&str>, Vec<&str>) = incoming
            .iter()
            .map(|(_, (u, d), _)| (u.as_str(), d.as_str()))
            .unzip();
        let stored: BTreeMap<PairKey, IncomingContent> = tx
            .query(
                "SELECT i.receiving_unit, i.document_id, i.sender, i.verified_at, i.indication,
                        i.sub_indication
                 FROM incoming AS i
                 JOIN unnest($1::text[], $2::text[]) AS k (receiving_unit, document_id)
                   ON i.receiving_unit = k.receiving_unit AND i.document_id = k.document_id",
                &[&units, &ids],
            )
            .map_err(pg("read incoming verifications"))?
            .iter()
            .map(|r| {
                (
                    (r.get(0), r.get(1)),
                    (r.get(2), r.get(3), r.get(4), r.get(5)),
                )
            })
            .collect();
        let changed = walk(stored, &incoming, &mut outcomes);
        let mut cols: IncomingColumns = Default::default();
        for ((unit, document), c) in &changed {
            cols.0.push(unit);
            cols.1.push(document);
            cols.2.push(&c.0);
            cols.3.push(c.1);
            cols.4.push(&c.2);
            cols.5.push(c.3.as_deref());
        }
        tx.execute(
            "INSERT INTO incoming (receiving_unit, document_id, sender, verified_at, indication,
                                   sub_indication)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                                  $6::text[])
             ON CONFLICT (receiving_unit, document_id) DO UPDATE SET
                 sender = EXCLUDED.sender, verified_at = EXCLUDED.verified_at,
                 indication = EXCLUDED.indication, sub_indication = EXCLUDED.sub_indication",
            &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &cols.5],
        )
        .map_err(pg("write incoming verifications"))?;
    }

    if !audits.is_empty() {
        let (ids, contents): (Vec<&str>, Vec<&str>) = audits
            .iter()
            .map(|(_, (d, c), _)| (d.as_str(), c.as_str()))
            .unzip();
        let stored: BTreeMap<PairKey, AuditContent> = tx
            .query(
                "SELECT a.document_id, a.content_sha256, a.audited_at, a.indication,
                        a.sub_indication
                 FROM audits AS a
                 JOIN unnest($1::text[], $2::text[]) AS k (document_id, content_sha256)
                   ON a.document_id = k.document_id AND a.content_sha256 = k.content_sha256",
                &[&ids, &contents],
            )
            .map_err(pg("read audits"))?
            .iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4))))
            .collect();
        let changed = walk(stored, &audits, &mut outcomes);
        touched.extend(changed.keys().map(|(document, _)| document.clone()));
        let mut cols: AuditColumns = Default::default();
        for ((document, content), c) in &changed {
            cols.0.push(document);
            cols.1.push(content);
            cols.2.push(c.0);
            cols.3.push(&c.1);
            cols.4.push(c.2.as_deref());
        }
        tx.execute(
            "INSERT INTO audits (document_id, content_sha256, audited_at, indication,
                                 sub_indication)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
             ON CONFLICT (document_id, content_sha256) DO UPDATE SET
                 audited_at = EXCLUDED.audited_at, indication = EXCLUDED.indication,
                 sub_indication = EXCLUDED.sub_indication",
            &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4],
        )
        .map_err(pg("write audits"))?;
    }

    if !touched.is_empty() {
        let ids: Vec<&str> = touched.iter().map(String::as_str).collect();
        tx.execute(
            "UPDATE documents AS d SET verified_signed = v.flag
             FROM (SELECT t.document_id,
                          CASE WHEN EXISTS (SELECT 1 FROM signatures AS s
                                            WHERE s.document_id = t.document_id
                                              AND s.indication = 'TOTAL-PASSED')
                                 OR EXISTS (SELECT 1 FROM audits AS a
                                            WHERE a.document_id = t.document_id
                                              AND a.indication = 'TOTAL-PASSED')
                               THEN 1 ELSE 0 END AS flag
                   FROM unnest($1::text[]) AS t (document_id)) AS v
             WHERE d.document_id = v.document_id AND d.verified_signed <> v.flag",
            &[&ids],
        )
        .map_err(pg("refresh verified flags"))?;
    }
    Ok(outcomes)
}

/// Refuses the batch if any event names a unit the ledger lacks, naming the first such event.
fn check_units(
    tx: &mut Transaction<'_>,
    known_units: &mut HashSet<String>,
    events: &[Event],
) -> Result<(), Error> {
    let unknown: BTreeSet<&str> = events
        .iter()
        .filter_map(Event::unit)
        .filter(|u| !known_units.contains(*u))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let asked: Vec<&str> = unknown.into_iter().collect();
    let found: HashSet<String> = tx
        .query("SELECT code FROM units WHERE code = ANY($1)", &[&asked])
        .map_err(pg("look up units"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if let Some(event) = events.iter().find(|e| {
        e.unit()
            .is_some_and(|u| !known_units.contains(u) && !found.contains(u))
    }) {
        return Err(Error::UnknownUnit {
            code: event.unit().unwrap_or_default().to_owned(),
            document_id: Some(event.document_id().to_owned()),
        });
    }
    known_units.extend(found);
    Ok(())
}

/// Decides each event's outcome in batch order against the stored versions, and returns the
/// final version of every identity that changed.
fn walk<K: Ord + Clone, C: PartialEq + Clone>(
    mut current: BTreeMap<K, C>,
    items: &[(usize, K, C)],
    outcomes: &mut [Recorded],
) -> BTreeMap<K, C> {
    let mut changed = BTreeMap::new();
    for (index, key, content) in items {
        outcomes[*index] = match current.get(key) {
            None => Recorded::Inserted,
            Some(old) if old == content => Recorded::Unchanged,
            Some(_) => Recorded::Updated,
        };
        if outcomes[*index] != Recorded::Unchanged {
            current.insert(key.clone(), content.clone());
            changed.insert(key.clone(), content.clone());
        }
    }
    changed
}
