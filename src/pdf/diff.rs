//! What changed in a PDF after a signature, object by object, explained by named rules
//! (ISO 32000-2 §12.8.2.2 DocMDP, §12.8.2.4 FieldMDP; the rule-based approach of pyHanko's
//! `DiffPolicy`).
//!
//! The document as signed is the file up to the signature's revision end; the document as read
//! is the whole file. Each object that differs between the two must be explained by a rule in
//! [`DEFAULT_DIFF_RULES`]; the rule says how serious the change is ([`ModificationLevel`]).
//! Whatever no rule explains is [`ModificationLevel::Other`]: a change to content, pages,
//! resources, or to a signature's own dictionary, which no approval signature permits.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::Error;
use super::document::Document;
use super::object::{Dictionary, Object, ObjectId};

/// How serious a change after signing is; ordered, later is worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModificationLevel {
    /// Nothing after the signature.
    None,
    /// Document security data (DSS) and document timestamps: long-term validation.
    LongTermValidation,
    /// New signatures in new signature fields, with their widgets and appearances.
    Signatures,
    /// Form fields filled in.
    FormFilling,
    /// Annotations added, changed or removed.
    Annotations,
    /// Anything else.
    Other,
}

/// One object that changed, and the rule that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub kind: ChangeKind,
    /// 1-based page the object belongs to, when known.
    pub page: Option<usize>,
    pub rule: &'static str,
    pub level: ModificationLevel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// The changes after one signature.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub changes: Vec<ObjectChange>,
}

impl Analysis {
    /// The worst change.
    pub fn level(&self) -> ModificationLevel {
        self.changes
            .iter()
            .map(|c| c.level)
            .max()
            .unwrap_or(ModificationLevel::None)
    }
}

/// A named rule: explains some changed objects at a level.
pub struct DiffRule {
    pub name: &'static str,
    pub level: ModificationLevel,
    explains: fn(&Context<'_, '_>, ObjectId) -> bool,
}

/// The rules kyso applies, in order; the first that explains an object names it.
pub const DEFAULT_DIFF_RULES: &[DiffRule] = &[
    DiffRule {
        name: "document security store",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id| cx.dss_objects.contains(&id),
    },
    DiffRule {
        name: "document timestamp",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id| cx.new_timestamps.contains(&id),
    },
    DiffRule {
        name: "catalog: security store or signature form entries only",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id| id == cx.catalog && catalog_change_is_harmless(cx),
    },
    DiffRule {
        name: "new signature",
        level: ModificationLevel::Signatures,
        explains: |cx, id| cx.new_signature_objects.contains(&id),
    },
    DiffRule {
        name: "form: fields appended",
        level: ModificationLevel::Signatures,
        explains: |cx, id| cx.form_objects.contains(&id) && form_change_only_appends(cx, id),
    },
    DiffRule {
        name: "page: signature widgets added to /Annots",
        level: ModificationLevel::Signatures,
        explains: |cx, id| {
            annots_change_only_adds(cx, id, |cx, a| cx.new_signature_objects.contains(&a))
        },
    },
    DiffRule {
        name: "page: annotations (and signature widgets) added to /Annots",
        level: ModificationLevel::Annotations,
        explains: |cx, id| {
            annots_change_only_adds(cx, id, |cx, a| {
                cx.new_signature_objects.contains(&a) || is_plain_annotation(cx.after, a)
            })
        },
    },
    DiffRule {
        name: "new annotation",
        level: ModificationLevel::Annotations,
        explains: |cx, id| {
            cx.added.contains(&id)
                && is_plain_annotation(cx.after, id)
                && cx.referenced_from_annots(id)
        },
    },
    DiffRule {
        name: "document information",
        level: ModificationLevel::Signatures,
        explains: |cx, id| Some(id) == cx.info,
    },
];

/// Everything the rules look at.
struct Context<'d, 'a> {
    before: &'d Document<'a>,
    after: &'d Document<'a>,
    catalog: ObjectId,
    info: Option<ObjectId>,
    added: HashSet<ObjectId>,
    /// Signature dictionaries, fields/widgets and their appearance objects added after signing.
    new_signature_objects: HashSet<ObjectId>,
    new_timestamps: HashSet<ObjectId>,
    dss_objects: HashSet<ObjectId>,
    /// The AcroForm and its /Fields array, when indirect.
    form_objects: HashSet<ObjectId>,
    /// Annotation arrays and pages: object → (page number).
    pages: BTreeMap<ObjectId, usize>,
    annots_arrays: BTreeMap<ObjectId, ObjectId>,
}

/// Compares the document as signed (`bytes[..signed_end]`) with the whole file.
pub fn analyse(bytes: &[u8], signed_end: usize) -> Result<Analysis, Error> {
    if signed_end >= bytes.len() {
        return Ok(Analysis::default());
    }
    let before = Document::parse(&bytes[..signed_end])?;
    let after = Document::parse(bytes)?;
    let (catalog, _) = after.catalog()?;
    let mut cx = Context {
        before: &before,
        after: &after,
        catalog,
        info: after.trailer().reference(b"Info"),
        added: HashSet::new(),
        new_signature_objects: HashSet::new(),
        new_timestamps: HashSet::new(),
        dss_objects: HashSet::new(),
        form_objects: HashSet::new(),
        pages: BTreeMap::new(),
        annots_arrays: BTreeMap::new(),
    };
    let mut changed = Vec::new();
    for (id, _) in after.locations() {
        let now = after.object(id)?;
        if is_structure_stream(&now) {
            continue;
        }
        match before.location(id) {
            None => {
                if now != Object::Null {
                    cx.added.insert(id);
                    changed.push((id, ChangeKind::Added));
                }
            }
            Some(_) => {
                if before.object(id)? != now {
                    changed.push((id, ChangeKind::Modified));
                }
            }
        }
    }
    for (id, _) in before.locations() {
        if after.location(id).is_none()
            && !is_structure_stream(&before.object(id)?)
            && before.object(id)? != Object::Null
        {
            changed.push((id, ChangeKind::Deleted));
        }
    }
    if changed.is_empty() {
        return Ok(Analysis::default());
    }
    cx.collect(&after)?;
    let mut changes = Vec::new();
    for (id, kind) in changed {
        let rule = match kind {
            ChangeKind::Deleted => None,
            _ => DEFAULT_DIFF_RULES.iter().find(|r| (r.explains)(&cx, id)),
        };
        changes.push(ObjectChange {
            id,
            kind,
            page: cx.page_of(id),
            rule: rule.map_or("not permitted by any rule", |r| r.name),
            level: rule.map_or(ModificationLevel::Other, |r| r.level),
        });
    }
    changes.sort_by_key(|c| c.id);
    Ok(Analysis { changes })
}

impl Context<'_, '_> {
    fn collect(&mut self, after: &Document<'_>) -> Result<(), Error> {
        let (_, catalog) = after.catalog()?;
        // Pages and their annotation arrays.
        for (n, page) in after.pages()?.into_iter().enumerate() {
            self.pages.insert(page, n + 1);
            if let Ok(dict) = after.dictionary(page)
                && let Some(r) = dict.reference(b"Annots")
            {
                self.annots_arrays.insert(r, page);
            }
        }
        // The form.
        if let Some(Object::Reference(r)) = catalog.get(b"AcroForm") {
            self.form_objects.insert(*r);
        }
        if let Some(form) = catalog.get(b"AcroForm")
            && let Some(Object::Reference(fields)) = after
                .resolve(form)?
                .as_dict()
                .and_then(|f| f.get(b"Fields"))
                .cloned()
        {
            self.form_objects.insert(fields);
        }
        // The DSS and everything it reaches.
        if let Some(dss) = catalog.get(b"DSS") {
            let mut reached = HashSet::new();
            if let Some(r) = dss.as_reference() {
                reached.insert(r);
            }
            reach(after, &after.resolve(dss)?, &mut reached, 4)?;
            self.dss_objects = reached
                .into_iter()
                .filter(|id| self.added.contains(id) || self.before.location(*id).is_some())
                .collect();
        }
        // New signature values, their fields and widgets, and what their appearances reach.
        let added: Vec<ObjectId> = self.added.iter().copied().collect();
        for id in added {
            let Ok(Object::Dictionary(dict)) = after.object(id) else {
                continue;
            };
            let is_timestamp =
                dict.has_type(b"DocTimeStamp") || dict.name(b"SubFilter") == Some(b"ETSI.RFC3161");
            let is_sig_value = dict.has_type(b"Sig")
                || (dict.get(b"ByteRange").is_some() && dict.get(b"Contents").is_some());
            if is_timestamp {
                self.new_timestamps.insert(id);
            } else if is_sig_value {
                self.new_signature_objects.insert(id);
            }
            let is_sig_field = dict.name(b"FT") == Some(b"Sig")
                && dict.reference(b"V").is_none_or(|v| self.added.contains(&v));
            if is_sig_field {
                self.new_signature_objects.insert(id);
                if is_timestamp_field(after, &dict) {
                    self.new_timestamps.insert(id);
                }
                if let Some(ap) = dict.get(b"AP") {
                    let mut reached = HashSet::new();
                    if let Some(r) = ap.as_reference() {
                        reached.insert(r);
                    }
                    reach(after, &after.resolve(ap)?, &mut reached, 6)?;
                    // Only objects added after signing: an appearance reusing an old font
                    // object does not make that font's later edits "part of a signature".
                    self.new_signature_objects
                        .extend(reached.into_iter().filter(|r| self.added.contains(r)));
                }
            }
        }
        Ok(())
    }

    fn page_of(&self, id: ObjectId) -> Option<usize> {
        if let Some(n) = self.pages.get(&id) {
            return Some(*n);
        }
        if let Some(page) = self.annots_arrays.get(&id) {
            return self.pages.get(page).copied();
        }
        let dict = self.after.dictionary(id).ok()?;
        let page = dict.reference(b"P")?;
        self.pages.get(&page).copied()
    }

    fn referenced_from_annots(&self, id: ObjectId) -> bool {
        self.pages
            .keys()
            .chain(self.annots_arrays.keys())
            .any(|&holder| annots_of(self.after, holder).is_some_and(|annots| annots.contains(&id)))
    }
}

/// Cross-reference and object streams are containers, not content.
fn is_structure_stream(object: &Object) -> bool {
    matches!(object, Object::Stream(s) if s.dict.has_type(b"XRef") || s.dict.has_type(b"ObjStm"))
}

fn is_timestamp_field(doc: &Document<'_>, field: &Dictionary) -> bool {
    field
        .reference(b"V")
        .and_then(|v| doc.dictionary(v).ok())
        .is_some_and(|v| v.has_type(b"DocTimeStamp"))
}

/// Collects the objects reachable from `object` within `depth` references.
fn reach(
    doc: &Document<'_>,
    object: &Object,
    reached: &mut HashSet<ObjectId>,
    depth: usize,
) -> Result<(), Error> {
    if depth == 0 || reached.len() > 10_000 {
        return Ok(());
    }
    let children: Vec<&Object> = match object {
        Object::Array(items) => items.iter().collect(),
        Object::Dictionary(d) => d.iter().map(|(_, v)| v).collect(),
        Object::Stream(s) => s.dict.iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    for child in children {
        match child {
            Object::Reference(r) => {
                if reached.insert(*r) {
                    reach(doc, &doc.object(*r)?, reached, depth - 1)?;
                }
            }
            other => reach(doc, other, reached, depth)?,
        }
    }
    Ok(())
}

/// A catalog change that touches only `/AcroForm` (appended fields, SigFlags), `/DSS`,
/// `/Extensions` and `/Perms` (which a new certification would add — checked by DocMDP elsewhere).
fn catalog_change_is_harmless(cx: &Context<'_, '_>) -> bool {
    let (Ok(before), Ok(after)) = (
        cx.before.dictionary(cx.catalog),
        cx.after.dictionary(cx.catalog),
    ) else {
        return false;
    };
    let keys: HashSet<&[u8]> = before
        .iter()
        .map(|(k, _)| k)
        .chain(after.iter().map(|(k, _)| k))
        .collect();
    keys.into_iter().all(|key| {
        let (b, a) = (before.get(key), after.get(key));
        if b == a {
            return true;
        }
        match key {
            b"DSS" | b"Extensions" => true,
            b"AcroForm" => match (b, a) {
                (Some(Object::Dictionary(b)), Some(Object::Dictionary(a))) => {
                    dict_change_only_appends_fields(cx, b, a)
                }
                (None, Some(Object::Dictionary(a))) => fields_are_new_signatures(
                    cx,
                    a.get(b"Fields").and_then(Object::as_array).unwrap_or(&[]),
                ),
                _ => false,
            },
            _ => false,
        }
    })
}

fn form_change_only_appends(cx: &Context<'_, '_>, id: ObjectId) -> bool {
    let (Ok(before), Ok(after)) = (cx.before.object(id), cx.after.object(id)) else {
        return false;
    };
    match (before, after) {
        (Object::Dictionary(b), Object::Dictionary(a)) => {
            dict_change_only_appends_fields(cx, &b, &a)
        }
        (Object::Array(b), Object::Array(a)) => appends_new_signatures(cx, &b, &a),
        _ => false,
    }
}

/// An AcroForm dictionary whose only changes are new signature fields appended to `/Fields`
/// and `/SigFlags`.
fn dict_change_only_appends_fields(
    cx: &Context<'_, '_>,
    before: &Dictionary,
    after: &Dictionary,
) -> bool {
    let keys: HashSet<&[u8]> = before
        .iter()
        .map(|(k, _)| k)
        .chain(after.iter().map(|(k, _)| k))
        .collect();
    keys.into_iter().all(|key| {
        let (b, a) = (before.get(key), after.get(key));
        b == a
            || key == b"SigFlags"
            || (key == b"Fields"
                && match (b, a) {
                    (Some(Object::Array(b)), Some(Object::Array(a))) => {
                        appends_new_signatures(cx, b, a)
                    }
                    (None, Some(Object::Array(a))) => fields_are_new_signatures(cx, a),
                    _ => false,
                })
    })
}

fn appends_new_signatures(cx: &Context<'_, '_>, before: &[Object], after: &[Object]) -> bool {
    after.len() >= before.len()
        && after[..before.len()] == *before
        && fields_are_new_signatures(cx, &after[before.len()..])
}

fn fields_are_new_signatures(cx: &Context<'_, '_>, fields: &[Object]) -> bool {
    fields.iter().all(|f| {
        f.as_reference()
            .is_some_and(|r| cx.new_signature_objects.contains(&r))
    })
}

/// The annotation references of a page (or of an annotation array object).
fn annots_of(doc: &Document<'_>, holder: ObjectId) -> Option<Vec<ObjectId>> {
    let object = doc.object(holder).ok()?;
    let array = match &object {
        Object::Array(a) => a.clone(),
        Object::Dictionary(d) if d.has_type(b"Page") || d.get(b"Annots").is_some() => {
            doc.resolve(d.get(b"Annots")?).ok()?.as_array()?.to_vec()
        }
        _ => return None,
    };
    Some(array.iter().filter_map(Object::as_reference).collect())
}

/// A page (or annotation array) whose only change is annotations appended, each accepted by
/// `accept`; for a page, every other key unchanged.
fn annots_change_only_adds(
    cx: &Context<'_, '_>,
    id: ObjectId,
    accept: fn(&Context<'_, '_>, ObjectId) -> bool,
) -> bool {
    let is_page = cx.pages.contains_key(&id);
    let is_array = cx.annots_arrays.contains_key(&id);
    if !is_page && !is_array {
        return false;
    }
    if is_page {
        let (Ok(b), Ok(a)) = (cx.before.dictionary(id), cx.after.dictionary(id)) else {
            return false;
        };
        let keys: HashSet<&[u8]> = b
            .iter()
            .map(|(k, _)| k)
            .chain(a.iter().map(|(k, _)| k))
            .collect();
        if keys
            .into_iter()
            .any(|k| k != b"Annots" && b.get(k) != a.get(k))
        {
            return false;
        }
    }
    let before = annots_of(cx.before, id).unwrap_or_default();
    let Some(after) = annots_of(cx.after, id) else {
        return false;
    };
    after.len() > before.len()
        && after[..before.len()] == before[..]
        && after[before.len()..].iter().all(|&a| accept(cx, a))
}

/// A new markup annotation (not a widget, which would be a form field, and not a link to
/// arbitrary actions, which could redirect a reader).
fn is_plain_annotation(doc: &Document<'_>, id: ObjectId) -> bool {
    let Ok(dict) = doc.dictionary(id) else {
        return false;
    };
    matches!(
        dict.name(b"Subtype"),
        Some(
            b"Text"
                | b"FreeText"
                | b"Highlight"
                | b"Underline"
                | b"StrikeOut"
                | b"Squiggly"
                | b"Square"
                | b"Circle"
                | b"Line"
                | b"Polygon"
                | b"PolyLine"
                | b"Ink"
                | b"Stamp"
                | b"Caret"
                | b"Popup"
        )
    )
}
