//! The package header (QCVN 102:2016 `MessageHeader`): who sends, who receives, which document
//! (number and symbol, promulgation date and place, type, subject) and who signed it. One model
//! for what a package says (read), what a caller gives to build one (JSON or command-line
//! flags), and what a report shows.
//!
//! Every field is optional when read: the standard's schema is not public, producers leave out
//! different fields (the SDK's own upload sample sends only `From`'s first three children and
//! `SignerInfo/FullName`), and the order of elements varies. [`Header::check_for_pack`] says
//! what kyso requires of a package it builds.

use roxmltree::Node;
use serde::{Deserialize, Serialize};

use super::{Error, NAMESPACE};

/// `MessageHeader`, the parts of it kyso reads and writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Header {
    /// `From`: the sending organisation.
    pub from: Organ,
    /// `To`, one per receiving organisation.
    pub to: Vec<Organ>,
    /// `DocumentId`: the sender's identifier of the document (the SDK writes
    /// `<sender OrganId>,<yyyy/MM/dd>,<number>/<symbol>`).
    pub document_id: Option<String>,
    /// `Code`: the document's number and symbol (`123` and `QĐ-UBND`).
    pub code: Code,
    /// `PromulgationInfo`.
    pub promulgation: Promulgation,
    /// `DocumentType`.
    pub document_type: DocumentType,
    /// `Subject`: the document's excerpt (trích yếu).
    pub subject: Option<String>,
    /// `Content`.
    pub content: Option<String>,
    /// `SignerInfo`: who signed the document, as the header states it.
    pub signer: SignerInfo,
    /// `DueDate`, `yyyy/MM/dd`.
    pub due_date: Option<String>,
}

/// An organisation as `From` and `To` name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Organ {
    /// `OrganId`: the organisation's code on the axis (QCVN 102:2016's identifier structure,
    /// e.g. `000.00.00.H41`).
    pub organ_id: Option<String>,
    /// `OrganizationInCharge`: the organisation it reports to.
    pub organization_in_charge: Option<String>,
    /// `OrganName`.
    pub organ_name: Option<String>,
    /// `OrganAdd`: its address.
    pub organ_add: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub fax: Option<String>,
    pub website: Option<String>,
}

/// `Code`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Code {
    /// `CodeNumber`: `123`.
    pub number: Option<String>,
    /// `CodeNotation`: `QĐ-UBND`.
    pub notation: Option<String>,
}

impl Code {
    /// `123/QĐ-UBND`, as a document prints it after "Số:".
    pub fn printed(&self) -> Option<String> {
        let number = self.number.as_deref()?.trim();
        match self.notation.as_deref().map(str::trim) {
            Some(notation) if !notation.is_empty() => Some(format!("{number}/{notation}")),
            _ => Some(number.to_owned()),
        }
    }
}

/// `PromulgationInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Promulgation {
    /// `Place`: where it was promulgated.
    pub place: Option<String>,
    /// `PromulgationDate`, as written (`yyyy/MM/dd` in the samples).
    pub date: Option<String>,
}

/// `DocumentType`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentType {
    /// `Type`: a number in the samples.
    #[serde(rename = "type")]
    pub type_code: Option<String>,
    /// `TypeDetail`.
    pub type_detail: Option<String>,
    /// `TypeName`: `Quyết định`, `Công văn`.
    pub type_name: Option<String>,
}

/// `SignerInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignerInfo {
    /// `Competence`: signing on one's own authority or on behalf (`TM.`, `KT.`).
    pub competence: Option<String>,
    /// `Position`: `Chủ tịch`, `Giám đốc`.
    pub position: Option<String>,
    /// `FullName`.
    pub full_name: Option<String>,
}

impl Header {
    /// Reads `MessageHeader`. Elements are found by local name in the QCVN namespace (or in
    /// none, which some producers write); the first of each counts.
    pub(super) fn read(message_header: Node<'_, '_>) -> Header {
        let text = |parent: Node<'_, '_>, name: &str| child(parent, name).and_then(text_of);
        let organ = |node: Node<'_, '_>| Organ {
            organ_id: text(node, "OrganId"),
            organization_in_charge: text(node, "OrganizationInCharge"),
            organ_name: text(node, "OrganName"),
            organ_add: text(node, "OrganAdd"),
            email: text(node, "Email"),
            telephone: text(node, "Telephone"),
            fax: text(node, "Fax"),
            website: text(node, "Website"),
        };
        let code = child(message_header, "Code");
        let promulgation = child(message_header, "PromulgationInfo");
        let document_type = child(message_header, "DocumentType");
        let signer = child(message_header, "SignerInfo");
        Header {
            from: child(message_header, "From").map(organ).unwrap_or_default(),
            to: children(message_header, "To").map(organ).collect(),
            document_id: text(message_header, "DocumentId"),
            code: Code {
                number: code.and_then(|c| text(c, "CodeNumber")),
                notation: code.and_then(|c| text(c, "CodeNotation")),
            },
            promulgation: Promulgation {
                place: promulgation.and_then(|p| text(p, "Place")),
                date: promulgation.and_then(|p| text(p, "PromulgationDate")),
            },
            document_type: DocumentType {
                type_code: document_type.and_then(|t| text(t, "Type")),
                type_detail: document_type.and_then(|t| text(t, "TypeDetail")),
                type_name: document_type.and_then(|t| text(t, "TypeName")),
            },
            subject: text(message_header, "Subject"),
            content: text(message_header, "Content"),
            signer: SignerInfo {
                competence: signer.and_then(|s| text(s, "Competence")),
                position: signer.and_then(|s| text(s, "Position")),
                full_name: signer.and_then(|s| text(s, "FullName")),
            },
            due_date: text(message_header, "DueDate"),
        }
    }

    /// What kyso requires of a header it writes into a package: a sender and receivers with
    /// their ids, the number and symbol, the promulgation date (`yyyy/MM/dd` or `yyyy-MM-dd`,
    /// written `yyyy/MM/dd`), a subject and the signer's name; and no text a package cannot
    /// carry (C0 controls other than tab and line breaks, which XML 1.0 forbids) or should not
    /// (bidi overrides, which reorder what the receiving clerk reads).
    pub fn check_for_pack(&self) -> Result<(), Error> {
        let required = |field: &'static str, value: &Option<String>| match value {
            Some(v) if !v.trim().is_empty() => Ok(()),
            _ => Err(Error::Header {
                field,
                reason: "required to build a package".to_owned(),
            }),
        };
        required("from.organ_id", &self.from.organ_id)?;
        required("from.organ_name", &self.from.organ_name)?;
        if self.to.is_empty() {
            return Err(Error::Header {
                field: "to",
                reason: "at least one receiving organisation".to_owned(),
            });
        }
        for to in &self.to {
            required("to[].organ_id", &to.organ_id)?;
        }
        required("code.number", &self.code.number)?;
        required("code.notation", &self.code.notation)?;
        required("promulgation.date", &self.promulgation.date)?;
        if let Some(date) = &self.promulgation.date
            && parse_date(date).is_none()
        {
            return Err(Error::Header {
                field: "promulgation.date",
                reason: format!("`{date}`: expected yyyy/MM/dd or yyyy-MM-dd"),
            });
        }
        if let Some(date) = &self.due_date
            && parse_date(date).is_none()
        {
            return Err(Error::Header {
                field: "due_date",
                reason: format!("`{date}`: expected yyyy/MM/dd or yyyy-MM-dd"),
            });
        }
        required("subject", &self.subject)?;
        required("signer.full_name", &self.signer.full_name)?;
        for (field, value) in self.fields() {
            if let Some(c) = value.chars().find(|c| refused(*c)) {
                return Err(Error::Header {
                    field,
                    reason: format!(
                        "contains U+{:04X}: control characters and bidi formatting are not allowed",
                        u32::from(c)
                    ),
                });
            }
        }
        Ok(())
    }

    /// Every text field with its name, for checks.
    fn fields(&self) -> Vec<(&'static str, &str)> {
        fn organ<'h>(
            prefix: &'static [&'static str; 8],
            o: &'h Organ,
        ) -> [(&'static str, Option<&'h str>); 8] {
            [
                (prefix[0], o.organ_id.as_deref()),
                (prefix[1], o.organization_in_charge.as_deref()),
                (prefix[2], o.organ_name.as_deref()),
                (prefix[3], o.organ_add.as_deref()),
                (prefix[4], o.email.as_deref()),
                (prefix[5], o.telephone.as_deref()),
                (prefix[6], o.fax.as_deref()),
                (prefix[7], o.website.as_deref()),
            ]
        }
        const FROM: [&str; 8] = [
            "from.organ_id",
            "from.organization_in_charge",
            "from.organ_name",
            "from.organ_add",
            "from.email",
            "from.telephone",
            "from.fax",
            "from.website",
        ];
        const TO: [&str; 8] = [
            "to[].organ_id",
            "to[].organization_in_charge",
            "to[].organ_name",
            "to[].organ_add",
            "to[].email",
            "to[].telephone",
            "to[].fax",
            "to[].website",
        ];
        let mut all: Vec<(&'static str, Option<&str>)> = organ(&FROM, &self.from).to_vec();
        for to in &self.to {
            all.extend(organ(&TO, to));
        }
        all.extend([
            ("document_id", self.document_id.as_deref()),
            ("code.number", self.code.number.as_deref()),
            ("code.notation", self.code.notation.as_deref()),
            ("promulgation.place", self.promulgation.place.as_deref()),
            ("promulgation.date", self.promulgation.date.as_deref()),
            (
                "document_type.type",
                self.document_type.type_code.as_deref(),
            ),
            (
                "document_type.type_detail",
                self.document_type.type_detail.as_deref(),
            ),
            (
                "document_type.type_name",
                self.document_type.type_name.as_deref(),
            ),
            ("subject", self.subject.as_deref()),
            ("content", self.content.as_deref()),
            ("signer.competence", self.signer.competence.as_deref()),
            ("signer.position", self.signer.position.as_deref()),
            ("signer.full_name", self.signer.full_name.as_deref()),
            ("due_date", self.due_date.as_deref()),
        ]);
        all.into_iter()
            .filter_map(|(field, value)| value.map(|v| (field, v)))
            .collect()
    }

    /// `self` with every field `other` sets replaced (command-line flags over a JSON file).
    pub fn overridden_by(self, other: Header) -> Header {
        let organ = |base: Organ, over: Organ| Organ {
            organ_id: over.organ_id.or(base.organ_id),
            organization_in_charge: over.organization_in_charge.or(base.organization_in_charge),
            organ_name: over.organ_name.or(base.organ_name),
            organ_add: over.organ_add.or(base.organ_add),
            email: over.email.or(base.email),
            telephone: over.telephone.or(base.telephone),
            fax: over.fax.or(base.fax),
            website: over.website.or(base.website),
        };
        Header {
            from: organ(self.from, other.from),
            to: if other.to.is_empty() {
                self.to
            } else {
                other.to
            },
            document_id: other.document_id.or(self.document_id),
            code: Code {
                number: other.code.number.or(self.code.number),
                notation: other.code.notation.or(self.code.notation),
            },
            promulgation: Promulgation {
                place: other.promulgation.place.or(self.promulgation.place),
                date: other.promulgation.date.or(self.promulgation.date),
            },
            document_type: DocumentType {
                type_code: other
                    .document_type
                    .type_code
                    .or(self.document_type.type_code),
                type_detail: other
                    .document_type
                    .type_detail
                    .or(self.document_type.type_detail),
                type_name: other
                    .document_type
                    .type_name
                    .or(self.document_type.type_name),
            },
            subject: other.subject.or(self.subject),
            content: other.content.or(self.content),
            signer: SignerInfo {
                competence: other.signer.competence.or(self.signer.competence),
                position: other.signer.position.or(self.signer.position),
                full_name: other.signer.full_name.or(self.signer.full_name),
            },
            due_date: other.due_date.or(self.due_date),
        }
    }

    /// Writes `MessageHeader` in the samples' element order, each element `edXML:`-prefixed
    /// (the prefix the envelope declares). Dates are written `yyyy/MM/dd`.
    pub(super) fn write(&self, out: &mut String) {
        out.push_str("<edXML:MessageHeader>");
        write_organ(out, "From", &self.from);
        for to in &self.to {
            write_organ(out, "To", to);
        }
        element(out, "DocumentId", self.document_id.as_deref());
        out.push_str("<edXML:Code>");
        element(out, "CodeNumber", self.code.number.as_deref());
        element(out, "CodeNotation", self.code.notation.as_deref());
        out.push_str("</edXML:Code>");
        out.push_str("<edXML:PromulgationInfo>");
        element(out, "Place", self.promulgation.place.as_deref());
        let date = self.promulgation.date.as_deref().map(slashed);
        element(out, "PromulgationDate", date.as_deref());
        out.push_str("</edXML:PromulgationInfo>");
        let t = &self.document_type;
        if t.type_code.is_some() || t.type_detail.is_some() || t.type_name.is_some() {
            out.push_str("<edXML:DocumentType>");
            element(out, "Type", t.type_code.as_deref());
            element(out, "TypeDetail", t.type_detail.as_deref());
            element(out, "TypeName", t.type_name.as_deref());
            out.push_str("</edXML:DocumentType>");
        }
        element(out, "Subject", self.subject.as_deref());
        element(out, "Content", self.content.as_deref());
        out.push_str("<edXML:SignerInfo>");
        element(out, "Competence", self.signer.competence.as_deref());
        element(out, "Position", self.signer.position.as_deref());
        element(out, "FullName", self.signer.full_name.as_deref());
        out.push_str("</edXML:SignerInfo>");
        let due = self.due_date.as_deref().map(slashed);
        element(out, "DueDate", due.as_deref());
        out.push_str("</edXML:MessageHeader>");
    }
}

/// A date as `yyyy/MM/dd` or `yyyy-MM-dd` (what the samples and ISO 8601 write): year, month,
/// day, checked to be a calendar date.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let parts: Vec<&str> = text.trim().split(['/', '-']).collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    if year.len() != 4 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// `yyyy/MM/dd`, the samples' form, for a date given either way; unchanged if it is neither.
fn slashed(text: &str) -> String {
    match parse_date(text) {
        Some(d) => format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day()),
        None => text.to_owned(),
    }
}

fn write_organ(out: &mut String, name: &str, organ: &Organ) {
    out.push_str(&format!("<edXML:{name}>"));
    element(out, "OrganId", organ.organ_id.as_deref());
    element(
        out,
        "OrganizationInCharge",
        organ.organization_in_charge.as_deref(),
    );
    element(out, "OrganName", organ.organ_name.as_deref());
    element(out, "OrganAdd", organ.organ_add.as_deref());
    element(out, "Email", organ.email.as_deref());
    element(out, "Telephone", organ.telephone.as_deref());
    element(out, "Fax", organ.fax.as_deref());
    element(out, "Website", organ.website.as_deref());
    out.push_str(&format!("</edXML:{name}>"));
}

/// `<edXML:NAME>text</edXML:NAME>`, or nothing for an absent value.
pub(super) fn element(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push_str(&format!("<edXML:{name}>{}</edXML:{name}>", escape(value)));
    }
}

/// Text content escaped for XML (`&`, `<`, `>`; `>` so that `]]>` never appears).
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// C0 controls but tab and line breaks (XML 1.0 §2.2 forbids them), DEL and C1, and the bidi
/// embeddings, overrides and isolates (Unicode UAX #9).
fn refused(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An element of the QCVN namespace (or of none, which some producers write) by local name.
pub(super) fn is_named(node: Node<'_, '_>, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && matches!(node.tag_name().namespace(), None | Some(NAMESPACE))
}

pub(super) fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| is_named(*n, name))
}

pub(super) fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |n| is_named(*n, name))
}

/// The element's text (all of its text, trimmed), or `None` when empty.
pub(super) fn text_of(node: Node<'_, '_>) -> Option<String> {
    let text: String = node
        .descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_either_way_and_written_with_slashes() {
        assert_eq!(slashed("2026-03-05"), "2026/03/05");
        assert_eq!(slashed("2026/3/5"), "2026/03/05");
        assert!(parse_date("2026/02/30").is_none());
        assert!(parse_date("05/03/2026").is_none());
    }

    #[test]
    fn a_header_to_pack_needs_its_core_fields_and_clean_text() {
        let mut header = Header {
            from: Organ {
                organ_id: Some("000.00.00.H99".into()),
                organ_name: Some("UBND tỉnh Thử Nghiệm".into()),
                ..Organ::default()
            },
            to: vec![Organ {
                organ_id: Some("000.01.00.H99".into()),
                ..Organ::default()
            }],
            code: Code {
                number: Some("123".into()),
                notation: Some("QĐ-UBND".into()),
            },
            promulgation: Promulgation {
                place: None,
                date: Some("2026-03-15".into()),
            },
            subject: Some("Về việc thử nghiệm".into()),
            signer: SignerInfo {
                full_name: Some("Nguyễn Văn A".into()),
                ..SignerInfo::default()
            },
            ..Header::default()
        };
        header.check_for_pack().unwrap();
        header.subject = Some("exe.\u{202E}fdp".into());
        assert!(matches!(
            header.check_for_pack(),
            Err(Error::Header {
                field: "subject",
                ..
            })
        ));
        header.subject = Some("ok".into());
        header.to.clear();
        assert!(header.check_for_pack().is_err());
    }
}
