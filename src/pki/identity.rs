//! Who a certificate names, read the way Vietnamese CAs write it: the holder's personal or tax
//! identifiers, their title and their agency (Decree 23/2025/NĐ-CP Art. 18: an official's
//! certificate names the official's position and agency; Circular 15/2025/TT-BKHCN: verification
//! software shows who signed).
//!
//! Owns: reading the subject's `UID` (0.9.2342.19200300.100.1.1) and `serialNumber` (2.5.4.5)
//! values as the licensed CAs issue them (`CMND:…`, `CCCD:…`, `HC:…`, `MST:…`, `MNS:…`, several
//! in one value separated by `,` or `;`, any case, spaces tolerated), the `title`, `O` and `OU`
//! attributes, and the judgement whether the certificate belongs to a person or to an
//! organisation (the Decree 30/2020/NĐ-CP agency signature must use the organisation's).
//! Masking a personal identifier for display ([`Identifier::masked`]).
//!
//! Refuses: to guess. A value with no known prefix is kept as [`IdentifierKind::Other`] and masked
//! like a personal one; a certificate with neither personal nor organisational marks is
//! [`Holder::Unknown`], never a person by default. It does not decide who may see an identifier
//! unmasked: that is the caller's role, asked by the API.

use serde::Serialize;
use x509_parser::prelude::X509Name;

/// Whether a certificate was issued to a natural person or to an organisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// A personal identifier (CMND, CCCD, passport), or a title: a person, possibly acting for
    /// the organisation the certificate also names.
    Person,
    /// A tax or budget code and no personal mark, or a common name that is the organisation's
    /// own name.
    Organisation,
    /// Neither: the certificate does not say.
    #[default]
    Unknown,
}

impl Holder {
    pub fn as_str(self) -> &'static str {
        match self {
            Holder::Person => "person",
            Holder::Organisation => "organisation",
            Holder::Unknown => "unknown",
        }
    }

    /// The Vietnamese word for a report.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Holder::Person => "cá nhân",
            Holder::Organisation => "cơ quan, tổ chức",
            Holder::Unknown => "không xác định",
        }
    }
}

/// The kinds of identifier Vietnamese CAs write into a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum IdentifierKind {
    /// Chứng minh nhân dân: the 9- or 12-digit identity card number.
    #[serde(rename = "CMND")]
    IdentityCard,
    /// Căn cước công dân / căn cước: the 12-digit citizen identity number.
    #[serde(rename = "CCCD")]
    CitizenIdentity,
    /// Hộ chiếu: a passport number.
    #[serde(rename = "HC")]
    Passport,
    /// Mã số thuế: an organisation's (or a household business's) tax code.
    #[serde(rename = "MST")]
    TaxCode,
    /// Mã quan hệ ngân sách: a state budget unit's code.
    #[serde(rename = "MNS")]
    BudgetCode,
    /// A value without a prefix kyso knows.
    #[serde(rename = "OTHER")]
    Other,
}

impl IdentifierKind {
    /// The prefix as certificates write it.
    pub fn prefix(self) -> &'static str {
        match self {
            IdentifierKind::IdentityCard => "CMND",
            IdentifierKind::CitizenIdentity => "CCCD",
            IdentifierKind::Passport => "HC",
            IdentifierKind::TaxCode => "MST",
            IdentifierKind::BudgetCode => "MNS",
            IdentifierKind::Other => "",
        }
    }

    /// Identifies a natural person, and so is masked for callers who may not see it.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            IdentifierKind::IdentityCard
                | IdentifierKind::CitizenIdentity
                | IdentifierKind::Passport
                | IdentifierKind::Other
        )
    }

    fn from_prefix(prefix: &str) -> Option<IdentifierKind> {
        let kind = match prefix.trim().to_ascii_uppercase().as_str() {
            "CMND" => IdentifierKind::IdentityCard,
            "CCCD" | "CC" => IdentifierKind::CitizenIdentity,
            "HC" | "HO CHIEU" | "PASSPORT" => IdentifierKind::Passport,
            "MST" => IdentifierKind::TaxCode,
            "MNS" | "MQHNS" => IdentifierKind::BudgetCode,
            _ => return None,
        };
        Some(kind)
    }
}

/// One identifier from the subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identifier {
    pub kind: IdentifierKind,
    /// The value after the prefix, spaces removed.
    pub value: String,
}

/// Characters of a personal identifier left visible at its end.
const VISIBLE_TAIL: usize = 4;

impl Identifier {
    /// The identifier as shown to a caller who may not see personal identifiers: all but the last
    /// four characters of a personal value replaced by `*`; tax and budget codes are public
    /// registers and shown whole.
    pub fn masked(&self) -> String {
        if !self.kind.is_personal() {
            return self.value.clone();
        }
        let chars: Vec<char> = self.value.chars().collect();
        let hidden = chars
            .len()
            .saturating_sub(VISIBLE_TAIL)
            .max(chars.len() / 2);
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < hidden { '*' } else { *c })
            .collect()
    }

    /// `CCCD:001234567890`, as certificates write it.
    pub fn labelled(&self, value: &str) -> String {
        match self.kind {
            IdentifierKind::Other => value.to_owned(),
            kind => format!("{}:{value}", kind.prefix()),
        }
    }
}

/// What the certificate says about its holder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub common_name: Option<String>,
    /// `title` (2.5.4.12): the official's position.
    pub title: Option<String>,
    /// `O`: the agency or company.
    pub organization: Option<String>,
    /// `OU`: the unit within it.
    pub unit: Option<String>,
    pub identifiers: Vec<Identifier>,
    /// The subject has a `givenName` or `surname`: only people have them.
    personal_name: bool,
}

/// `UID` (RFC 4519 §2.39), where most Vietnamese CAs write `CMND:`/`CCCD:`/`MST:`.
const UID: &str = "0.9.2342.19200300.100.1.1";
/// `serialNumber` (X.520), where some CAs write the same.
const SERIAL_NUMBER: &str = "2.5.4.5";
/// `title` (X.520).
const TITLE: &str = "2.5.4.12";
/// `givenName` and `surname` (X.520): only people have them.
const GIVEN_NAME: &str = "2.5.4.42";
const SURNAME: &str = "2.5.4.4";

impl Identity {
    /// Reads the subject of a parsed certificate.
    pub fn from_subject(subject: &X509Name<'_>) -> Identity {
        let mut identity = Identity::default();
        let mut personal_name = false;
        for atv in subject.iter_attributes() {
            let Ok(text) = atv.as_str() else { continue };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match atv.attr_type().to_id_string().as_str() {
                "2.5.4.3" => set_first(&mut identity.common_name, text),
                "2.5.4.10" => set_first(&mut identity.organization, text),
                "2.5.4.11" => set_first(&mut identity.unit, text),
                TITLE => set_first(&mut identity.title, text),
                GIVEN_NAME | SURNAME => personal_name = true,
                UID | SERIAL_NUMBER => identity.identifiers.extend(parse_identifiers(text)),
                _ => {}
            }
        }
        identity.personal_name = personal_name;
        identity.identifiers.dedup();
        identity
    }

    /// Reads the subject of a DER certificate; `None` when it does not parse.
    pub fn from_certificate_der(der: &[u8]) -> Option<Identity> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Identity::from_subject(cert.subject()))
    }

    /// `text` (a subject as printed) with every personal identifier's value replaced by its
    /// masked form.
    pub fn mask_in(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for identifier in &self.identifiers {
            let masked = identifier.masked();
            if masked != identifier.value {
                out = out.replace(&identifier.value, &masked);
            }
        }
        out
    }

    /// Person or organisation, by the subject's marks (see [`Holder`]).
    pub fn holder(&self) -> Holder {
        let personal = self.identifiers.iter().any(|i| {
            matches!(
                i.kind,
                IdentifierKind::IdentityCard
                    | IdentifierKind::CitizenIdentity
                    | IdentifierKind::Passport
            )
        });
        if personal || self.title.is_some() || self.personal_name {
            return Holder::Person;
        }
        let organisational = self
            .identifiers
            .iter()
            .any(|i| matches!(i.kind, IdentifierKind::TaxCode | IdentifierKind::BudgetCode));
        let named_as_organisation = self.common_name.as_ref().is_some_and(|cn| {
            [&self.organization, &self.unit]
                .into_iter()
                .flatten()
                .any(|name| same_name(cn, name))
        });
        if organisational || named_as_organisation {
            Holder::Organisation
        } else {
            Holder::Unknown
        }
    }
}

fn set_first(slot: &mut Option<String>, text: &str) {
    if slot.is_none() {
        *slot = Some(text.to_owned());
    }
}

/// Names compared as people read them: case and runs of spaces ignored.
fn same_name(a: &str, b: &str) -> bool {
    let fold = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    fold(a) == fold(b)
}

/// `CMND:012345678`, `MST:0101234567-001; CCCD: 0012 3456 7890`, or a bare value.
fn parse_identifiers(text: &str) -> Vec<Identifier> {
    text.split([',', ';'])
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            let (kind, value) = match part.split_once([':', '-']) {
                Some((prefix, value)) if IdentifierKind::from_prefix(prefix).is_some() => {
                    (IdentifierKind::from_prefix(prefix)?, value)
                }
                _ => (IdentifierKind::Other, part),
            };
            let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            (!value.is_empty()).then_some(Identifier { kind, value })
        })
        .collect()
}

#[cfg(test)]
mod tests;
