//! The four document events the ledger records, their JSON wire form and their validation.
//!
//! - [`Issued`]: the DMS issued a document (number such as `123/QĐ-UBND`), declared signed or not;
//! - [`Signed`]: kyso signed a document (recorded by every kyso signing) and checked its own output;
//! - [`Verified`]: a unit received a document and kyso verified it (incoming outcomes);
//! - [`Audited`]: a batch audit re-verified an archived file of an issued document.
//!
//! Each event has an identity, and recording the same identity again never adds a count:
//! issued by document id; signed by (document id, signer certificate); verified by (receiving
//! unit, document id); audited by (document id, content SHA-256). A retried request with the same
//! content is `Unchanged`; with different content it is a correction and replaces the earlier
//! version (`Updated`).
//!
//! Times are RFC 3339 on the wire and UTC in storage. Validation happens before any write, and a
//! rejected event names its field; this module refuses empty identifiers, control characters,
//! unknown methods, levels and indications, and certificate fingerprints that are not SHA-256.

use std::io::BufRead;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::signer::DigestAlgorithm::Sha256;

use super::Error;

/// One ledger event as it arrives from the API, the CLI (one JSON object per line) or kyso itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Issued(Issued),
    Signed(Signed),
    Verified(Verified),
    Audited(Audited),
}

/// The DMS issued a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issued {
    /// The DMS's stable identifier of the document; the event's identity.
    pub document_id: String,
    /// The document number as printed on it, e.g. `123/QĐ-UBND`.
    pub number: String,
    /// The document type, e.g. `Quyết định`, `Công văn`.
    pub doc_type: String,
    /// Code of the issuing unit.
    pub unit: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// What the DMS declares: signed or unsigned.
    pub declared: Declared,
}

/// What the DMS declares about an issued document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    Signed,
    Unsigned,
}

/// kyso signed a document. `indication` is what kyso's verification of its own output found; a
/// TOTAL-PASSED one makes the document count as *verified* signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub document_id: String,
    /// Code of the unit the signing key belongs to.
    pub unit: String,
    /// The key: a PKCS#11 URI (RFC 7512) or a key id; never a PIN.
    pub key: String,
    pub certificate: Certificate,
    pub method: Method,
    pub level: SignatureLevel,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub indication: Indication,
}

/// What the ledger keeps of a signer certificate: enough to count by provider and to find the
/// certificate again, not the certificate itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// SHA-256 of the DER certificate, 64 lower-case hex digits.
    pub sha256: String,
    /// Subject distinguished name (RFC 4514 string form).
    pub subject: String,
    /// Issuer distinguished name: the certificate provider the report counts by.
    pub issuer: String,
}

/// How the signing key is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// USB token (PKCS#11).
    Token,
    /// SIM-based signing (mobile PKI).
    Sim,
    /// A unit's key in an HSM.
    Hsm,
    /// Remote signing service ("Smart" CA, cloud signing).
    Smart,
}

/// The AdES baseline level of the signature produced (ETSI EN 319 142-1 PAdES, EN 319 132-1 XAdES,
/// EN 319 122-1 CAdES).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignatureLevel {
    #[serde(rename = "PAdES-B-B")]
    PadesBB,
    #[serde(rename = "PAdES-B-T")]
    PadesBT,
    #[serde(rename = "PAdES-B-LT")]
    PadesBLt,
    #[serde(rename = "PAdES-B-LTA")]
    PadesBLta,
    #[serde(rename = "XAdES-B-B")]
    XadesBB,
    #[serde(rename = "XAdES-B-T")]
    XadesBT,
    #[serde(rename = "XAdES-B-LT")]
    XadesBLt,
    #[serde(rename = "XAdES-B-LTA")]
    XadesBLta,
    #[serde(rename = "CAdES-B-B")]
    CadesBB,
    #[serde(rename = "CAdES-B-T")]
    CadesBT,
}

/// ETSI EN 319 102-1 main indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Indication {
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
}

/// A unit received a document and kyso verified it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verified {
    /// The sender's document id.
    pub document_id: String,
    /// Code of the receiving unit.
    pub receiving_unit: String,
    /// Who sent it: a unit code or the sending organisation's name (it may be outside the province).
    pub sender: String,
    #[serde(with = "time::serde::rfc3339")]
    pub verified_at: OffsetDateTime,
    pub indication: Indication,
    /// ETSI sub-indication such as `HASH_FAILURE` or `TRY_LATER`; absent for TOTAL-PASSED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<String>,
}

/// A batch audit re-verified the archived file of an issued document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audited {
    pub document_id: String,
    /// SHA-256 of the file verified, 64 lower-case hex digits: re-auditing the same file is the
    /// same event.
    pub content_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub audited_at: OffsetDateTime,
    pub indication: Indication,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<String>,
    /// How long the file stays verifiable as it stands, for a TOTAL-PASSED audit; absent for
    /// others and in events of kyso before 0.19.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_term: Option<LongTermStatus>,
}

/// Whether an audited file stays verifiable for the long term (PAdES/XAdES B-LT or B-LTA, with
/// its validation data and a proof of existence) and until when: the certificate whose expiry
/// ends it must be covered by a new time-stamp before then (`kyso extend`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongTermStatus {
    pub protected: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// The certificate whose expiry ends it (its subject, identifiers masked).
    pub certificate: String,
}

/// What recording one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    /// A new event.
    Inserted,
    /// The same event again (a retry): nothing changed.
    Unchanged,
    /// The same identity with different content: the newer version replaced the older.
    Updated,
}

// Lengths are generous bounds against garbage, not policy: document numbers in Vietnamese
// administrative practice are a few dozen characters (Nghị định 30/2020/NĐ-CP, Phụ lục I).
const MAX_ID: usize = 200;
const MAX_TEXT: usize = 1000;

impl Event {
    /// The document the event is about.
    pub fn document_id(&self) -> &str {
        match self {
            Event::Issued(e) => &e.document_id,
            Event::Signed(e) => &e.document_id,
            Event::Verified(e) => &e.document_id,
            Event::Audited(e) => &e.document_id,
        }
    }

    /// The unit the event must name, which the store checks exists.
    pub fn unit(&self) -> Option<&str> {
        match self {
            Event::Issued(e) => Some(&e.unit),
            Event::Signed(e) => Some(&e.unit),
            Event::Verified(e) => Some(&e.receiving_unit),
            Event::Audited(_) => None,
        }
    }

    /// Checks every field; the error names the first bad one. Stores call this before writing.
    pub fn validate(&self) -> Result<(), Error> {
        let id = self.document_id();
        let fail = |field: &'static str, reason: String| Error::InvalidEvent {
            line: None,
            document_id: Some(id.to_owned()).filter(|id| !id.is_empty()),
            field,
            reason,
        };
        identifier(id).map_err(|r| fail("document_id", r))?;
        match self {
            Event::Issued(e) => {
                text(&e.number, MAX_ID).map_err(|r| fail("number", r))?;
                text(&e.doc_type, MAX_ID).map_err(|r| fail("doc_type", r))?;
                super::units::check_code(&e.unit).map_err(|r| fail("unit", r))?;
            }
            Event::Signed(e) => {
                super::units::check_code(&e.unit).map_err(|r| fail("unit", r))?;
                text(&e.key, MAX_TEXT).map_err(|r| fail("key", r))?;
                if e.key.to_ascii_lowercase().contains("pin-value") {
                    return Err(fail(
                        "key",
                        "a key reference must not carry a PIN (pin-value)".into(),
                    ));
                }
                sha256_hex(&e.certificate.sha256).map_err(|r| fail("certificate.sha256", r))?;
                text(&e.certificate.subject, MAX_TEXT)
                    .map_err(|r| fail("certificate.subject", r))?;
                text(&e.certificate.issuer, MAX_TEXT).map_err(|r| fail("certificate.issuer", r))?;
            }
            Event::Verified(e) => {
                super::units::check_code(&e.receiving_unit)
                    .map_err(|r| fail("receiving_unit", r))?;
                text(&e.sender, MAX_TEXT).map_err(|r| fail("sender", r))?;
                sub_indication(e.indication, e.sub_indication.as_deref())
                    .map_err(|r| fail("sub_indication", r))?;
            }
            Event::Audited(e) => {
                sha256_hex(&e.content_sha256).map_err(|r| fail("content_sha256", r))?;
                sub_indication(e.indication, e.sub_indication.as_deref())
                    .map_err(|r| fail("sub_indication", r))?;
                if let Some(status) = &e.long_term {
                    if e.indication != Indication::TotalPassed {
                        return Err(fail(
                            "long_term",
                            "only a TOTAL-PASSED audit has a long-term status".into(),
                        ));
                    }
                    text(&status.certificate, MAX_TEXT)
                        .map_err(|r| fail("long_term.certificate", r))?;
                }
            }
        }
        Ok(())
    }
}

/// Reads events, one JSON object per line (blank lines and `#` comments skipped), and validates
/// each. The first bad line fails the whole input, naming the line, so nothing of it is stored.
pub fn parse_json_lines(input: impl BufRead) -> Result<Vec<Event>, Error> {
    let mut events = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let number = index as u64 + 1;
        let line = line.map_err(|source| Error::EventRead {
            line: number,
            source,
        })?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let event: Event = serde_json::from_str(trimmed).map_err(|source| Error::EventJson {
            line: number,
            source,
        })?;
        event.validate().map_err(|e| match e {
            Error::InvalidEvent {
                document_id,
                field,
                reason,
                ..
            } => Error::InvalidEvent {
                line: Some(number),
                document_id,
                field,
                reason,
            },
            other => other,
        })?;
        events.push(event);
    }
    Ok(events)
}

impl Certificate {
    /// Takes fingerprint, subject and issuer from a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| Error::InvalidCertificate {
                reason: e.to_string(),
            })?;
        Ok(Certificate {
            sha256: hex::encode(Sha256.digest(der)),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
        })
    }
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Token, Method::Sim, Method::Hsm, Method::Smart];

    /// The name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Token => "token",
            Method::Sim => "sim",
            Method::Hsm => "hsm",
            Method::Smart => "smart",
        }
    }

    /// The name auditors know it by.
    pub fn label(self) -> &'static str {
        match self {
            Method::Token => "Token",
            Method::Sim => "SIM",
            Method::Hsm => "HSM",
            Method::Smart => "Smart",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl SignatureLevel {
    pub const ALL: [SignatureLevel; 10] = [
        SignatureLevel::PadesBB,
        SignatureLevel::PadesBT,
        SignatureLevel::PadesBLt,
        SignatureLevel::PadesBLta,
        SignatureLevel::XadesBB,
        SignatureLevel::XadesBT,
        SignatureLevel::XadesBLt,
        SignatureLevel::XadesBLta,
        SignatureLevel::CadesBB,
        SignatureLevel::CadesBT,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignatureLevel::PadesBB => "PAdES-B-B",
            SignatureLevel::PadesBT => "PAdES-B-T",
            SignatureLevel::PadesBLt => "PAdES-B-LT",
            SignatureLevel::PadesBLta => "PAdES-B-LTA",
            SignatureLevel::XadesBB => "XAdES-B-B",
            SignatureLevel::XadesBT => "XAdES-B-T",
            SignatureLevel::XadesBLt => "XAdES-B-LT",
            SignatureLevel::XadesBLta => "XAdES-B-LTA",
            SignatureLevel::CadesBB => "CAdES-B-B",
            SignatureLevel::CadesBT => "CAdES-B-T",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Option<SignatureLevel> {
        SignatureLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl Indication {
    pub const ALL: [Indication; 3] = [
        Indication::TotalPassed,
        Indication::TotalFailed,
        Indication::Indeterminate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::TotalFailed => "TOTAL-FAILED",
            Indication::Indeterminate => "INDETERMINATE",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Option<Indication> {
        Indication::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

impl Declared {
    pub fn as_str(self) -> &'static str {
        match self {
            Declared::Signed => "signed",
            Declared::Unsigned => "unsigned",
        }
    }
}

fn identifier(s: &str) -> Result<(), String> {
    text(s, MAX_ID)?;
    if s.trim() != s {
        return Err("must not start or end with white space".into());
    }
    Ok(())
}

fn text(s: &str, max_chars: usize) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max_chars {
        return Err(format!("longer than {max_chars} characters"));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!("contains control character U+{:04X}", c as u32));
    }
    Ok(())
}

fn sha256_hex(s: &str) -> Result<(), String> {
    if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "expected a SHA-256 as 64 lower-case hex digits, got `{}`",
            s.chars().take(80).collect::<String>()
        ));
    }
    Ok(())
}

fn sub_indication(indication: Indication, sub: Option<&str>) -> Result<(), String> {
    match (indication, sub) {
        (Indication::TotalPassed, Some(sub)) => {
            Err(format!("TOTAL-PASSED has no sub-indication, got `{sub}`"))
        }
        (_, Some(sub))
            if sub.is_empty()
                || sub.len() > 64
                || !sub
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) =>
        {
            Err(format!(
                "expected an ETSI sub-indication such as HASH_FAILURE, got `{sub}`"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued_json() -> &'static str {
        r#"{"event":"issued","document_id":"d-1","number":"123/QĐ-UBND","doc_type":"Quyết định","unit":"STP","issued_at":"2022-06-30T17:00:00Z","declared":"signed"}"#
    }

    #[test]
    fn issued_round_trips_through_json() {
        let events = parse_json_lines(issued_json().as_bytes()).unwrap();
        let Event::Issued(issued) = &events[0] else {
            panic!("not issued: {events:?}")
        };
        assert_eq!(issued.number, "123/QĐ-UBND");
        let again: Event =
            serde_json::from_str(&serde_json::to_string(&events[0]).unwrap()).unwrap();
        assert_eq!(again, events[0]);
    }

    #[test]
    fn bad_line_is_named_with_its_field() {
        let input = format!(
            "{}\n\n{}\n",
            issued_json(),
            issued_json().replace(r#""number":"123/QĐ-UBND""#, r#""number":"  ""#)
        );
        let err = parse_json_lines(input.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidEvent {
                    line: Some(3),
                    field: "number",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "line 3: event for document `d-1`, field `number`: must not be empty"
        );
    }

    #[test]
    fn unknown_field_and_method_are_refused_with_line() {
        let input = issued_json().replace(r#""declared":"signed""#, r#""declared":"maybe""#);
        let err = parse_json_lines(input.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::EventJson { line: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("maybe"), "{err}");

        let input = issued_json().replace(r#""declared""#, r#""colour":"red","declared""#);
        let err = parse_json_lines(input.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn passed_has_no_sub_indication_and_pins_are_refused() {
        assert!(sub_indication(Indication::TotalPassed, Some("HASH_FAILURE")).is_err());
        assert!(sub_indication(Indication::TotalFailed, Some("hash failure")).is_err());
        assert!(sub_indication(Indication::TotalFailed, Some("HASH_FAILURE")).is_ok());
        let signed = Event::Signed(Signed {
            document_id: "d".into(),
            unit: "STP".into(),
            key: "pkcs11:token=kyso;object=k?pin-value=1234".into(),
            certificate: Certificate {
                sha256: "ab".repeat(32),
                subject: "CN=a".into(),
                issuer: "CN=b".into(),
            },
            method: Method::Token,
            level: SignatureLevel::PadesBB,
            signed_at: OffsetDateTime::UNIX_EPOCH,
            indication: Indication::TotalPassed,
        });
        let err = signed.validate().unwrap_err();
        assert!(
            matches!(err, Error::InvalidEvent { field: "key", .. }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("1234"), "{err}");
    }

    #[test]
    fn certificate_facts_come_from_der() {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Nguyễn Văn An");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Sở Tư pháp");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        let facts = Certificate::from_der(&der).unwrap();
        assert_eq!(facts.sha256, hex::encode(Sha256.digest(&der)));
        assert!(facts.subject.contains("Nguyễn Văn An"), "{}", facts.subject);
        assert_eq!(facts.subject, facts.issuer, "self-signed");
        assert!(matches!(
            Certificate::from_der(&der[..der.len() / 2]),
            Err(Error::InvalidCertificate { .. })
        ));
    }
}
