//! `POST /v1/documents`: the DMS records documents it issued (the signing rate's denominator).
//!
//! The body is one `issued` event as JSON (the ledger's wire form, `"event":"issued"` optional),
//! a JSON array of them, or JSON lines (`application/x-ndjson`). Idempotent: the same event again
//! is `unchanged`, a corrected one `updated` (docs/manual/ledger.md). All events of a request are
//! stored or none. A signer may record documents of its own units only, and never a document id
//! the ledger holds for another unit (403; an administrator may move one, as a correction).

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{self, Caller, Permission, Role, ToRecordDocuments};
use super::problem::ApiError;
use super::state::store_error;
use super::{AppState, Route, content_type, read_json_body};
use crate::audit::{self, Action};
use crate::ledger::{self, Declared, Event, Issued, Reassignment, Recorded};

pub(super) const ROUTES: &[Route] = &[Route {
    method: "POST",
    path: "/v1/documents",
}];

/// Events one request may carry: a day of a large unit's issuance; larger imports go through
/// `kyso ledger record`.
pub const MAX_EVENTS: usize = 10_000;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/documents", post(record))
}

/// An issued event as it arrives: the ledger's [`Issued`], with or without the
/// `"event":"issued"` tag of its wire form. A struct of its own rather than an untagged enum of
/// [`Event`] and [`Issued`]: serde tries the variants of an untagged enum on a buffered copy of
/// the whole value, which for one item costs about as much as a `serde_json::Value` of it (tens
/// of bytes per number of a `[0,0,…]` body). A unit test keeps it and [`Issued`] in step.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuedEvent {
    /// Checked while parsing, then not needed.
    #[serde(default, rename = "event")]
    _event: Option<IssuedTag>,
    document_id: String,
    number: String,
    doc_type: String,
    unit: String,
    #[serde(with = "time::serde::rfc3339")]
    issued_at: OffsetDateTime,
    declared: Declared,
}

impl From<IssuedEvent> for Issued {
    fn from(e: IssuedEvent) -> Issued {
        let IssuedEvent {
            _event: _,
            document_id,
            number,
            doc_type,
            unit,
            issued_at,
            declared,
        } = e;
        Issued {
            document_id,
            number,
            doc_type,
            unit,
            issued_at,
            declared,
        }
    }
}

/// The `event` field, which may only say `issued`.
struct IssuedTag;

impl<'de> Deserialize<'de> for IssuedTag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<IssuedTag, D::Error> {
        let tag = std::borrow::Cow::<str>::deserialize(deserializer)?;
        if tag == "issued" {
            Ok(IssuedTag)
        } else {
            Err(serde::de::Error::custom(format!(
                "event `{tag}`: only `issued` events are recorded here; signatures are recorded by signing"
            )))
        }
    }
}

/// A JSON array of issued events, read item by item: errors name the item, and more than
/// [`MAX_EVENTS`] stops the read.
struct IssuedEvents(Vec<Issued>);

impl<'de> Deserialize<'de> for IssuedEvents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<IssuedEvents, D::Error> {
        struct Items;
        impl<'de> serde::de::Visitor<'de> for Items {
            type Value = IssuedEvents;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of issued events")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<IssuedEvents, A::Error> {
                let mut out = Vec::new();
                loop {
                    let item = out.len() + 1;
                    match seq.next_element::<IssuedEvent>() {
                        Ok(Some(_)) if item > MAX_EVENTS => {
                            return Err(serde::de::Error::custom(format!(
                                "more than {MAX_EVENTS} documents in one request"
                            )));
                        }
                        Ok(Some(issued)) => out.push(issued.into()),
                        Ok(None) => return Ok(IssuedEvents(out)),
                        Err(e) => {
                            return Err(serde::de::Error::custom(format!("item {item}: {e}")));
                        }
                    }
                }
            }
        }
        deserializer.deserialize_seq(Items)
    }
}

#[derive(Debug, Serialize)]
pub struct RecordedDocument {
    pub document_id: String,
    pub outcome: Recorded,
}

#[derive(Debug, Serialize)]
pub struct RecordResponse {
    pub recorded: Vec<RecordedDocument>,
}

async fn record(
    State(state): State<AppState>,
    Caller { principal, .. }: Caller<ToRecordDocuments>,
    request: Request,
) -> Result<Json<RecordResponse>, ApiError> {
    let kind = content_type(request.headers());
    let body = read_json_body(&state, request).await?;
    // On the blocking pool: a few MB of JSON take milliseconds to parse, which the async
    // workers (and /healthz) should not wait for.
    let events = body.parse(move |bytes| parse(&kind, bytes)).await??;
    if events.is_empty() {
        return Err(ApiError::BadRequest {
            reason: "no document in the request".to_owned(),
        });
    }
    if events.len() > MAX_EVENTS {
        return Err(ApiError::BadRequest {
            reason: format!(
                "{} documents, more than {MAX_EVENTS} in one request",
                events.len()
            ),
        });
    }
    for issued in &events {
        auth::require_unit(
            &state,
            &principal,
            Permission::RecordDocuments,
            &issued.unit,
        )?;
        Event::Issued(issued.clone())
            .validate()
            .map_err(|e| ApiError::BadRequest {
                reason: e.to_string(),
            })?;
    }
    let ids: Vec<String> = events.iter().map(|e| e.document_id.clone()).collect();
    let record = audit::Record::new(
        principal.actor(),
        Action::DocumentRecorded,
        ids.first().cloned().unwrap_or_default(),
        &serde_json::json!({
            "credential": principal.key_id,
            "documents": ids.len(),
            // The ids, not the documents: bounded by MAX_EVENTS × 200 characters.
            "document_ids": ids,
        }),
    );
    // A document stays with the unit it was stored for; an administrator (every unit) may move
    // one recorded under the wrong unit. The ledger decides, inside its transaction.
    let reassignment = match principal.role {
        Role::Admin => Reassignment::AllowedForCorrection,
        _ => Reassignment::Refused,
    };
    let committed = state
        .recorder
        .record_as(
            events.into_iter().map(Event::Issued).collect(),
            vec![record],
            reassignment,
        )
        .await
        .map_err(|_| ApiError::ShuttingDown)?;
    let (outcomes, _) = match committed {
        Ok(done) => done,
        Err(e @ ledger::Error::DocumentOfAnotherUnit { .. }) => {
            return Err(auth::refuse_foreign_document(
                &state,
                &principal,
                Permission::RecordDocuments,
                &e,
            )
            .await);
        }
        Err(e) => return Err(store_error(e)),
    };
    Ok(Json(RecordResponse {
        recorded: ids
            .into_iter()
            .zip(outcomes)
            .map(|(document_id, outcome)| RecordedDocument {
                document_id,
                outcome,
            })
            .collect(),
    }))
}

/// The body's issued events. Typed all the way: no `serde_json::Value` of the body is built, so
/// parsing costs a small multiple of the body's size, whatever it holds.
fn parse(kind: &str, body: &[u8]) -> Result<Vec<Issued>, ApiError> {
    let bad = |reason: String| ApiError::BadRequest { reason };
    match kind {
        "application/x-ndjson" | "application/jsonl" => {
            let text =
                std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8".into()))?;
            let mut out = Vec::new();
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                if out.len() == MAX_EVENTS {
                    return Err(bad(format!(
                        "more than {MAX_EVENTS} documents in one request"
                    )));
                }
                let issued: IssuedEvent = serde_json::from_str(line)
                    .map_err(|e| bad(format!("line {}: {e}", index + 1)))?;
                out.push(issued.into());
            }
            Ok(out)
        }
        "application/json" | "" => {
            let array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            if array {
                let IssuedEvents(events) =
                    serde_json::from_slice(body).map_err(|e| bad(format!("JSON: {e}")))?;
                Ok(events)
            } else {
                let issued: IssuedEvent =
                    serde_json::from_slice(body).map_err(|e| bad(format!("JSON: {e}")))?;
                Ok(vec![issued.into()])
            }
        }
        other => Err(ApiError::UnsupportedMediaType {
            found: other.to_owned(),
            expected: "application/json or application/x-ndjson",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Issued {
        Issued {
            document_id: "STP-1".into(),
            number: "1/QĐ-STP".into(),
            doc_type: "Quyết định".into(),
            unit: "STP".into(),
            issued_at: time::macros::datetime!(2022-06-30 09:15 +07:00),
            declared: Declared::Signed,
        }
    }

    #[test]
    fn the_wire_form_is_the_ledgers_with_or_without_its_tag() {
        let plain = serde_json::to_vec(&sample()).unwrap();
        let tagged = serde_json::to_vec(&Event::Issued(sample())).unwrap();
        for body in [&plain, &tagged] {
            assert_eq!(parse("application/json", body).unwrap(), [sample()]);
        }
        let array = [b"[".as_slice(), &plain, b",", &tagged, b"]"].concat();
        assert_eq!(
            parse("application/json", &array).unwrap(),
            [sample(), sample()]
        );
        let lines = [plain.as_slice(), b"\n\n", &tagged, b"\n"].concat();
        assert_eq!(
            parse("application/x-ndjson", &lines).unwrap(),
            [sample(), sample()]
        );
    }

    #[test]
    fn other_events_unknown_fields_and_bad_items_are_named() {
        let signed = serde_json::to_string(&Event::Issued(sample()))
            .unwrap()
            .replace(r#""event":"issued""#, r#""event":"signed""#);
        let err = parse("application/json", signed.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("only `issued` events"), "{err}");
        let extra = serde_json::to_string(&sample())
            .unwrap()
            .replace(r#""unit""#, r#""colour":"red","unit""#);
        let err = parse("application/json", extra.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let err = parse("application/json", b"[0,0]").unwrap_err();
        assert!(err.to_string().contains("item 1:"), "{err}");
    }

    #[test]
    fn more_than_max_events_stops_the_read() {
        let one = serde_json::to_string(&sample()).unwrap();
        let body = format!("[{}]", vec![one.as_str(); MAX_EVENTS + 1].join(","));
        let err = parse("application/json", body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("more than 10000"), "{err}");
    }
}
