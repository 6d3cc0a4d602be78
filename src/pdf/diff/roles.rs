//! Roles objects play: form fields and their widgets, the document security store, annotations
//! and signature values, read the way ISO 32000-2 §12.5, §12.7 and §12.8 define them.

use std::collections::{HashMap, HashSet};

use super::graph::collect_references;
use crate::pdf::{Dictionary, Document, Object, ObjectId, decode_text_string};

/// Most form fields walked, and deepest field tree. Government forms have tens of fields and a
/// depth of two or three; the bounds stop looping or hostile `/Kids` chains.
const MAX_FIELDS: usize = 100_000;

const MAX_FIELD_DEPTH: usize = 32;

/// Most indirect hops walked from the catalog's `/DSS`: DSS → VRI → per-signature entry →
/// stream → indirect `/Length` (ETSI EN 319 142-1 §5.4.2).
const MAX_DSS_DEPTH: usize = 5;

/// A form field or widget as the field tree defines it.
#[derive(Clone, Debug)]
pub(super) struct FieldRole {
    /// The field this object is, or is a widget of.
    pub(super) field: ObjectId,
    /// Fully qualified name (§12.7.4.2).
    pub(super) name: String,
    /// `/FT`, inherited.
    pub(super) field_type: Option<Vec<u8>>,
    /// `/Ff`, inherited.
    pub(super) flags: i64,
    /// Whether this object is the field dictionary (merged with its widget or not).
    pub(super) is_field: bool,
    /// Whether this object is a widget annotation.
    pub(super) is_widget: bool,
}

/// ReadOnly (bit 1) and Pushbutton (bit 17) field flags (§12.7.4.1 Table 227, §12.7.5.2.1).
pub(super) const FIELD_READ_ONLY: i64 = 1;

pub(super) const FIELD_PUSHBUTTON: i64 = 1 << 16;

pub(super) fn field_roles(
    doc: &Document<'_>,
    catalog: &Dictionary,
) -> HashMap<ObjectId, FieldRole> {
    let mut roles = HashMap::new();
    let Some(form) = catalog.get(b"AcroForm").and_then(|f| doc.resolve(f).ok()) else {
        return roles;
    };
    let Some(fields) = form
        .as_dict()
        .and_then(|f| f.get(b"Fields"))
        .and_then(|f| doc.resolve(f).ok())
    else {
        return roles;
    };
    for field in fields.as_array().unwrap_or(&[]) {
        if let Some(id) = field.as_reference() {
            walk_field(doc, id, None, &mut roles, 0);
        }
    }
    roles
}

pub(super) fn walk_field(
    doc: &Document<'_>,
    id: ObjectId,
    parent: Option<&FieldRole>,
    roles: &mut HashMap<ObjectId, FieldRole>,
    depth: usize,
) {
    if depth > MAX_FIELD_DEPTH || roles.len() >= MAX_FIELDS || roles.contains_key(&id) {
        return;
    }
    let Ok(dict) = doc.dictionary(id) else {
        return;
    };
    let is_widget = dict.name(b"Subtype") == Some(b"Widget");
    let partial = dict.get(b"T").and_then(Object::as_string);
    // A kid without a partial name is a widget of its parent field (§12.7.4.1).
    if let (None, Some(parent)) = (partial, parent)
        && dict.get(b"Kids").is_none()
    {
        roles.insert(
            id,
            FieldRole {
                is_field: false,
                is_widget: true,
                ..parent.clone()
            },
        );
        return;
    }
    let partial = partial.map(decode_text_string).unwrap_or_default();
    let name = match parent {
        Some(p) if !p.name.is_empty() => format!("{}.{partial}", p.name),
        _ => partial,
    };
    let role = FieldRole {
        field: id,
        name,
        field_type: dict
            .name(b"FT")
            .map(<[u8]>::to_vec)
            .or_else(|| parent.and_then(|p| p.field_type.clone())),
        flags: dict
            .integer(b"Ff")
            .or_else(|| parent.map(|p| p.flags))
            .unwrap_or(0),
        is_field: true,
        is_widget,
    };
    roles.insert(id, role.clone());
    let kids = dict.get(b"Kids").and_then(|k| doc.resolve(k).ok());
    for kid in kids.as_ref().and_then(Object::as_array).unwrap_or(&[]) {
        if let Some(kid) = kid.as_reference() {
            walk_field(doc, kid, Some(&role), roles, depth + 1);
        }
    }
}

/// Whether the form asks readers to redraw field appearances (§12.7.3 Table 224).
pub(super) fn need_appearances(doc: &Document<'_>) -> bool {
    doc.catalog()
        .ok()
        .and_then(|(_, c)| c.get(b"AcroForm").and_then(|f| doc.resolve(f).ok()))
        .and_then(|f| f.as_dict().and_then(|f| f.get(b"NeedAppearances").cloned()))
        == Some(Object::Boolean(true))
}

/// Objects of the document security store: the DSS dictionary and what it reaches.
pub(super) fn dss_objects(doc: &Document<'_>, catalog: ObjectId) -> HashSet<ObjectId> {
    let mut reached = HashSet::new();
    let Ok(catalog) = doc.dictionary(catalog) else {
        return reached;
    };
    let Some(dss) = catalog.get(b"DSS") else {
        return reached;
    };
    let mut stack = vec![(dss.clone(), 0usize)];
    while let Some((object, depth)) = stack.pop() {
        let mut references = Vec::new();
        collect_references(&object, &mut references);
        for r in references {
            if depth < MAX_DSS_DEPTH
                && reached.insert(r)
                && let Ok(next) = doc.object(r)
            {
                stack.push((next, depth + 1));
            }
        }
    }
    reached
}

pub(super) fn index(pages: &[ObjectId]) -> HashMap<ObjectId, usize> {
    pages.iter().enumerate().map(|(i, p)| (*p, i + 1)).collect()
}

/// Hidden (bit 2) and NoView (bit 6) annotation flags (§12.5.3 Table 167).
pub(super) const ANNOTATION_HIDDEN: i64 = 2 | 32;

/// The annotations an `/Annots` value (direct or indirect) lists.
pub(super) fn annots_list(doc: &Document<'_>, value: Option<&Object>) -> Option<Vec<ObjectId>> {
    let value = match value {
        None => return Some(Vec::new()),
        Some(v) => doc.resolve(v).ok()?,
    };
    match value {
        Object::Array(items) => Some(items.iter().filter_map(Object::as_reference).collect()),
        Object::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Subtypes of annotations (§12.5.6) that a reader shows as markup or pop-ups.
pub(super) const MARKUP_SUBTYPES: &[&[u8]] = &[
    b"Text",
    b"FreeText",
    b"Highlight",
    b"Underline",
    b"StrikeOut",
    b"Squiggly",
    b"Square",
    b"Circle",
    b"Line",
    b"Polygon",
    b"PolyLine",
    b"Ink",
    b"Stamp",
    b"Caret",
    b"Popup",
];

/// Every annotation subtype of ISO 32000-2 §12.5.6.
pub(super) const ANNOTATION_SUBTYPES: &[&[u8]] = &[
    b"Link",
    b"Widget",
    b"FileAttachment",
    b"Sound",
    b"Movie",
    b"Screen",
    b"PrinterMark",
    b"TrapNet",
    b"Watermark",
    b"3D",
    b"Redact",
    b"Projection",
    b"RichMedia",
];

pub(super) fn is_annotation(dict: &Dictionary) -> bool {
    dict.has_type(b"Annot")
        || dict
            .name(b"Subtype")
            .is_some_and(|s| MARKUP_SUBTYPES.contains(&s) || ANNOTATION_SUBTYPES.contains(&s))
}

pub(super) fn subtype(object: &Object) -> Option<&[u8]> {
    object.as_dict().and_then(|d| d.name(b"Subtype"))
}

/// A markup annotation or pop-up without actions: not a widget (a form field), not a link and
/// no `/A` or `/AA` (either could run an action or redirect a reader).
pub(super) fn is_markup_annotation(object: &Object) -> bool {
    let Object::Dictionary(dict) = object else {
        return false;
    };
    dict.name(b"Subtype")
        .is_some_and(|s| MARKUP_SUBTYPES.contains(&s))
        && dict.get(b"A").is_none()
        && dict.get(b"AA").is_none()
        && dict.get(b"FT").is_none()
}

/// A signature value dictionary (`/Sig` or `/DocTimeStamp`, or untyped with `/ByteRange` and
/// `/Contents`).
pub(super) fn is_signature_value(object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    d.has_type(b"Sig")
        || d.has_type(b"DocTimeStamp")
        || (d.get(b"ByteRange").is_some() && d.get(b"Contents").is_some())
}

pub(super) fn is_timestamp_value(object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    d.has_type(b"DocTimeStamp") || d.name(b"SubFilter") == Some(b"ETSI.RFC3161")
}

/// A cross-reference or object stream: a container, not content (when nothing refers to it).
pub(super) fn is_structure_stream(object: &Object) -> bool {
    matches!(object, Object::Stream(s) if s.dict.has_type(b"XRef") || s.dict.has_type(b"ObjStm"))
}

/// A widget a reader shows: a rectangle with an area, a normal appearance, not hidden.
pub(super) fn is_visible_widget(doc: &Document<'_>, object: &Object) -> bool {
    let Some(dict) = object.as_dict() else {
        return false;
    };
    let has_appearance = dict
        .get(b"AP")
        .and_then(|ap| doc.resolve(ap).ok())
        .is_some_and(|ap| ap.as_dict().is_some_and(|ap| ap.get(b"N").is_some()));
    has_appearance
        && dict.integer(b"F").unwrap_or(0) & ANNOTATION_HIDDEN == 0
        && rect(dict).is_some_and(|r| r[2] - r[0] > 0.0 && r[3] - r[1] > 0.0)
}

/// An annotation's `/Rect`, normalised (lower left first).
pub(super) fn rect(dict: &Dictionary) -> Option<[f64; 4]> {
    dict.get(b"Rect")?.as_rectangle()
}
