//! Which unit a document id belongs to, and the one rule both stores apply before they write:
//! once a document id is stored for a unit, only that unit may re-record or sign it.
//!
//! Why: a unit's *verified* rate counts its documents that carry a TOTAL-PASSED signature. If a
//! signer of unit A could record an issued event for B's document id, the document would move to
//! A; if A could sign under B's document id, A's signature would make B's document verified.
//! Either way one unit's credential changes another unit's figures. The rule closes both.
//!
//! A document id belongs to the unit of its issued event, or, before the DMS has recorded the
//! issuance, to the unit that signed it first (signing before recording is a normal order of
//! work); [`super::rows::StoredDocument::owner`] reads it from what a store holds. The stores only
//! read their rows, inside the write transaction and after the documents' locks, so that the
//! decision sees every committed write; the decision ([`super::decide`]) applies the rule itself,
//! [`Owners::admit`], made here once for both stores and for the API's check before signing.
//!
//! What it does not touch: incoming verifications (a unit receiving another unit's document is
//! the point of them; they are kept per receiving unit) and audits (they carry no unit).

use std::collections::{BTreeSet, HashMap};

use super::Error;
use super::event::Event;

/// Whether an issued event may move a stored document to another unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reassignment {
    /// A document stays with the unit it was first stored for. Every caller but an
    /// administrator.
    #[default]
    Refused,
    /// An administrator's correction (a document recorded under the wrong unit) may move an
    /// issued document. Signatures still need the owner's unit: an administrator signs nothing.
    AllowedForCorrection,
}

/// What an event claims about its document's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// An issued event: the document is this unit's.
    Issued,
    /// A signature with a key of this unit.
    Signed,
}

impl Claim {
    /// How an error names the refused record.
    pub fn describe(self) -> &'static str {
        match self {
            Claim::Issued => "an issued record",
            Claim::Signed => "a signature",
        }
    }

    /// The claim `event` makes, and the unit it makes it for; `None` for events that name no
    /// owner (incoming verifications, audits).
    pub fn of(event: &Event) -> Option<(Claim, &str)> {
        match event {
            Event::Issued(e) => Some((Claim::Issued, &e.unit)),
            Event::Signed(e) => Some((Claim::Signed, &e.unit)),
            Event::Verified(_) | Event::Audited(_) => None,
        }
    }
}

/// The document ids of `events` whose stored owner a store must look up.
pub fn claimed_ids(events: &[Event]) -> BTreeSet<&str> {
    events
        .iter()
        .filter(|e| Claim::of(e).is_some())
        .map(Event::document_id)
        .collect()
}

/// The owners of some document ids: as stored when made, then as a batch claims them.
#[derive(Clone, Debug, Default)]
pub struct Owners {
    units: HashMap<String, String>,
}

impl Owners {
    /// The owners the store holds, as (document id, unit) pairs.
    pub fn stored(pairs: impl IntoIterator<Item = (String, String)>) -> Owners {
        Owners {
            units: pairs.into_iter().collect(),
        }
    }

    /// The unit `document_id` belongs to, if any.
    pub fn owner(&self, document_id: &str) -> Option<&str> {
        self.units.get(document_id).map(String::as_str)
    }

    /// Admits `events` in order, or refuses the first that claims another unit's document; an
    /// event admitted earlier in the same batch counts as stored (a batch cannot record a
    /// document for one unit and sign it for another).
    pub fn admit_all(&mut self, events: &[Event], reassignment: Reassignment) -> Result<(), Error> {
        for event in events {
            if let Some((claim, unit)) = Claim::of(event) {
                self.admit(event.document_id(), claim, unit, reassignment)?;
            }
        }
        Ok(())
    }

    /// The rule: `unit` may make `claim` on `document_id` if the document is unknown or already
    /// `unit`'s; an issued record may also move it when `reassignment` allows a correction.
    pub fn admit(
        &mut self,
        document_id: &str,
        claim: Claim,
        unit: &str,
        reassignment: Reassignment,
    ) -> Result<(), Error> {
        match self.units.get(document_id) {
            Some(owner) if owner != unit => {
                let correction =
                    claim == Claim::Issued && reassignment == Reassignment::AllowedForCorrection;
                if !correction {
                    return Err(Error::DocumentOfAnotherUnit {
                        document_id: document_id.to_owned(),
                        owner: owner.clone(),
                        unit: unit.to_owned(),
                        claim,
                    });
                }
                // The issued event decides the owner from now on.
                self.units.insert(document_id.to_owned(), unit.to_owned());
            }
            Some(_) => {}
            None => {
                self.units.insert(document_id.to_owned(), unit.to_owned());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners() -> Owners {
        Owners::stored([("d-1".to_owned(), "STP".to_owned())])
    }

    #[test]
    fn the_owner_and_newcomers_are_admitted() {
        let mut o = owners();
        for claim in [Claim::Issued, Claim::Signed] {
            o.admit("d-1", claim, "STP", Reassignment::Refused).unwrap();
        }
        o.admit("d-2", Claim::Signed, "SYT", Reassignment::Refused)
            .unwrap();
        assert_eq!(o.owner("d-2"), Some("SYT"), "the first claim owns it");
    }

    #[test]
    fn another_unit_is_refused_naming_both() {
        for claim in [Claim::Issued, Claim::Signed] {
            let err = owners()
                .admit("d-1", claim, "SYT", Reassignment::Refused)
                .unwrap_err();
            assert!(
                matches!(&err, Error::DocumentOfAnotherUnit { owner, unit, .. } if owner == "STP" && unit == "SYT"),
                "{err:?}"
            );
        }
        let err = owners()
            .admit("d-1", Claim::Signed, "SYT", Reassignment::Refused)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "document `d-1` is stored for unit `STP`: a signature for unit `SYT` is refused"
        );
    }

    #[test]
    fn a_correction_moves_an_issued_document_but_never_admits_a_signature() {
        let mut o = owners();
        o.admit(
            "d-1",
            Claim::Issued,
            "SYT",
            Reassignment::AllowedForCorrection,
        )
        .unwrap();
        assert_eq!(o.owner("d-1"), Some("SYT"));
        assert!(
            o.admit(
                "d-1",
                Claim::Signed,
                "STP",
                Reassignment::AllowedForCorrection
            )
            .is_err()
        );
    }
}
