//! What the rules of [`super::DEFAULT_DIFF_RULES`] look at: both versions of the document,
//! their reference graphs and roles, and the questions the rules ask of them.

use std::collections::{HashMap, HashSet};

use super::graph::{Graph, Holder, appearance_owners, page_of, paths_to};
use super::roles::*;
use super::{
    ChangeKind, Changed, FieldLocks, ModificationLevel, Overlap, VisibleWidget, differing_keys,
    same,
};
use crate::pdf::{Dictionary, Document, Location, Object, ObjectId};

/// Most annotations per page compared pairwise for overlaps (quadratic work); pages with more
/// are not compared.
const MAX_OVERLAP_ANNOTATIONS: usize = 500;

/// Everything the rules look at.
pub(super) struct Context<'d, 'a> {
    pub(super) before: &'d Document<'a>,
    pub(super) after: &'d Document<'a>,
    pub(super) before_graph: &'d Graph,
    pub(super) after_graph: &'d Graph,
    pub(super) changed: &'d Changed,
    /// Changed objects whose new version cannot be read.
    pub(super) unreadable: &'d HashSet<ObjectId>,
    /// Objects written after signing that no cross-reference section points at.
    pub(super) strays: &'d HashSet<ObjectId>,
    pub(super) catalog_before: ObjectId,
    pub(super) catalog_after: ObjectId,
    pub(super) info_before: Option<ObjectId>,
    pub(super) info_after: Option<ObjectId>,
    pub(super) pages_before: HashMap<ObjectId, usize>,
    pub(super) pages_after: HashMap<ObjectId, usize>,
    pub(super) fields_before: HashMap<ObjectId, FieldRole>,
    pub(super) fields_after: &'d HashMap<ObjectId, FieldRole>,
    pub(super) dss_before: HashSet<ObjectId>,
    pub(super) dss_after: HashSet<ObjectId>,
    pub(super) locks: &'d FieldLocks,
}

impl Context<'_, '_> {
    pub(super) fn before_object(&self, id: ObjectId) -> Option<&Object> {
        self.changed.get(&id).and_then(|(_, b, _)| b.as_ref())
    }

    pub(super) fn after_object(&self, id: ObjectId) -> Option<&Object> {
        self.changed.get(&id).and_then(|(_, _, a)| a.as_ref())
    }

    pub(super) fn is_added(&self, id: ObjectId) -> bool {
        matches!(self.changed.get(&id), Some((ChangeKind::Added, _, _)))
    }

    pub(super) fn role_before(&self, id: ObjectId) -> Option<&FieldRole> {
        self.fields_before.get(&id)
    }

    pub(super) fn role_after(&self, id: ObjectId) -> Option<&FieldRole> {
        self.fields_after.get(&id)
    }

    /// The keys a modified dictionary (or stream dictionary) changed; `None` when the object is
    /// not a dictionary in both versions, or a stream's data changed.
    pub(super) fn changed_keys(&self, id: ObjectId) -> Option<Vec<Vec<u8>>> {
        let (b, a) = (self.before_object(id)?, self.after_object(id)?);
        match (b, a) {
            (Object::Dictionary(b), Object::Dictionary(a)) => Some(differing_keys(b, a)),
            _ => None,
        }
    }

    /// A new object whose every user, now, is itself a change (added, or a modified object that
    /// did not refer to it before), and that nothing referred to when the document was signed.
    pub(super) fn used_only_by_changes(&self, id: ObjectId) -> bool {
        let holders = self.after_graph.holders(id);
        !holders.is_empty()
            && !self.before_graph.referrers.contains_key(&id)
            && holders.iter().all(|h| match h {
                Holder::Trailer => false,
                Holder::Object(h) => self.changed.contains_key(h),
            })
    }

    /// The object's current version lies in bytes the signature covered, where the signed
    /// revision did not read it from: a later cross-reference section re-pointed it at bytes
    /// planted before signing.
    pub(super) fn is_relocated_into_signed_bytes(&self, id: ObjectId) -> bool {
        let signed_len = self.before.bytes().len();
        let offset = match self.after.location(id) {
            Some(Location::Offset(at)) => at,
            Some(Location::Compressed { stream, .. }) => {
                let stream = ObjectId::new(stream, 0);
                match self.after.location(stream) {
                    Some(Location::Offset(at))
                        if self.before.location(stream) != Some(Location::Offset(at)) =>
                    {
                        at
                    }
                    _ => return false,
                }
            }
            _ => return false,
        };
        offset < signed_len && self.before.location(id) != Some(Location::Offset(offset))
    }

    pub(super) fn is_page_tree_change(&self, id: ObjectId, kind: ChangeKind) -> bool {
        let is_pages_node = |o: Option<&Object>| {
            o.and_then(Object::as_dict)
                .is_some_and(|d| d.has_type(b"Pages"))
        };
        let is_page = |o: Option<&Object>| {
            o.and_then(Object::as_dict)
                .is_some_and(|d| d.has_type(b"Page"))
        };
        let (before, after) = (self.before_object(id), self.after_object(id));
        is_pages_node(before)
            || is_pages_node(after)
            || (kind == ChangeKind::Added && is_page(after))
            || (kind == ChangeKind::Deleted && is_page(before))
            || (kind == ChangeKind::Modified
                && self.pages_before.contains_key(&id) != self.pages_after.contains_key(&id))
    }

    /// An object of the DSS now that, if it existed before, belonged to the DSS then too, and
    /// that nothing outside the DSS (and the catalog's `/DSS` entry) refers to.
    pub(super) fn is_dss_object(&self, id: ObjectId) -> bool {
        let only_dss =
            |doc: &Document<'_>, graph: &Graph, catalog: ObjectId, dss: &HashSet<ObjectId>| {
                graph.holders(id).iter().all(|h| match h {
                    Holder::Object(h) if dss.contains(h) => true,
                    Holder::Object(h) if *h == catalog => doc
                        .object(*h)
                        .is_ok_and(|c| paths_to(&c, id).iter().all(|p| p == &[b"DSS".to_vec()])),
                    _ => false,
                })
            };
        self.dss_after.contains(&id)
            && only_dss(
                self.after,
                self.after_graph,
                self.catalog_after,
                &self.dss_after,
            )
            && (self.is_added(id)
                || (self.dss_before.contains(&id)
                    && only_dss(
                        self.before,
                        self.before_graph,
                        self.catalog_before,
                        &self.dss_before,
                    )))
    }

    pub(super) fn is_new_timestamp_object(&self, id: ObjectId) -> bool {
        let Some(object) = self.after_object(id) else {
            return false;
        };
        if is_timestamp_value(object) {
            return true;
        }
        // The field and (invisible) widget holding a new document timestamp.
        let Some(role) = self.role_after(id) else {
            return false;
        };
        self.is_added(role.field)
            && self
                .after
                .dictionary(role.field)
                .ok()
                .and_then(|f| f.reference(b"V"))
                .is_some_and(|v| {
                    self.is_added(v) && self.after_object(v).is_some_and(is_timestamp_value)
                })
            && !(role.is_widget && is_visible_widget(self.after, object))
    }

    pub(super) fn is_metadata_stream(&self, id: ObjectId, kind: ChangeKind) -> bool {
        let is_xmp = |o: Option<&Object>| matches!(o, Some(Object::Stream(s)) if s.dict.has_type(b"Metadata") && s.dict.name(b"Subtype") == Some(b"XML"));
        let only_as_metadata = |doc: &Document<'_>, graph: &Graph| {
            let holders = graph.holders(id);
            !holders.is_empty()
                && holders.iter().all(|h| match h {
                    Holder::Trailer => false,
                    Holder::Object(h) => doc.object(*h).is_ok_and(|o| {
                        paths_to(&o, id)
                            .iter()
                            .all(|p| p.last().is_some_and(|k| k == b"Metadata"))
                    }),
                })
        };
        is_xmp(self.after_object(id))
            && only_as_metadata(self.after, self.after_graph)
            && (kind == ChangeKind::Added
                || (is_xmp(self.before_object(id))
                    && only_as_metadata(self.before, self.before_graph)))
    }

    /// The level of a change to the catalog, when every changed key is one the rules know.
    pub(super) fn catalog_change(
        &self,
        id: ObjectId,
        kind: ChangeKind,
    ) -> Option<ModificationLevel> {
        if kind != ChangeKind::Modified || id != self.catalog_after || id != self.catalog_before {
            return None;
        }
        let before = self.before_object(id)?.as_dict()?;
        let after = self.after_object(id)?.as_dict()?;
        let mut level = ModificationLevel::LongTermValidation;
        for key in differing_keys(before, after) {
            let key_level = match key.as_slice() {
                b"DSS" | b"Extensions" | b"Version" | b"Metadata" => {
                    ModificationLevel::LongTermValidation
                }
                b"AcroForm" => {
                    self.form_value_change(before.get(b"AcroForm"), after.get(b"AcroForm"))?
                }
                b"Names" => self.names_value_change(before.get(b"Names"), after.get(b"Names"))?,
                _ => return None,
            };
            level = level.max(key_level);
        }
        Some(level)
    }

    /// A change of the catalog's `/AcroForm` value (direct dictionaries compared; a new indirect
    /// form judged by its content, since a new object's content is not judged elsewhere).
    pub(super) fn form_value_change(
        &self,
        before: Option<&Object>,
        after: Option<&Object>,
    ) -> Option<ModificationLevel> {
        let empty = Dictionary::new();
        let before = match before {
            None => &empty,
            Some(Object::Dictionary(d)) => d,
            // An indirect form replaced by another object: the form was swapped.
            Some(_) => return None,
        };
        match after {
            Some(Object::Dictionary(a)) => self.form_dict_change(before, a),
            Some(Object::Reference(r)) if before.is_empty() && self.is_added(*r) => {
                let a = self.after_object(*r)?.as_dict()?;
                self.form_dict_change(&empty, a)
            }
            _ => None,
        }
    }

    /// The level of a change between two AcroForm dictionaries.
    pub(super) fn form_dict_change(
        &self,
        before: &Dictionary,
        after: &Dictionary,
    ) -> Option<ModificationLevel> {
        let mut level = ModificationLevel::LongTermValidation;
        for key in differing_keys(before, after) {
            let key_level = match key.as_slice() {
                b"Fields" => {
                    let old = before
                        .get(b"Fields")
                        .and_then(Object::as_array)
                        .unwrap_or(&[]);
                    let new = after.get(b"Fields").and_then(Object::as_array)?;
                    self.fields_appended(old, new)?
                }
                b"SigFlags" => ModificationLevel::Signatures,
                b"NeedAppearances" | b"DR" | b"DA" => ModificationLevel::FormFilling,
                _ => return None,
            };
            level = level.max(key_level);
        }
        Some(level)
    }

    /// `/Fields` keeping every field it had, in order, and appending only new signature fields.
    pub(super) fn fields_appended(
        &self,
        before: &[Object],
        after: &[Object],
    ) -> Option<ModificationLevel> {
        let old: Vec<ObjectId> = before.iter().filter_map(Object::as_reference).collect();
        let new: Vec<ObjectId> = after.iter().filter_map(Object::as_reference).collect();
        let kept: Vec<ObjectId> = new.iter().copied().filter(|f| old.contains(f)).collect();
        let appended = new.iter().filter(|f| !old.contains(f));
        (kept == old
            && appended
                .clone()
                .all(|f| self.is_added(*f) && self.is_signature_field_object(*f)))
        .then_some(ModificationLevel::Signatures)
    }

    /// A change to the indirect AcroForm dictionary or its indirect `/Fields` array.
    pub(super) fn form_object_change(
        &self,
        id: ObjectId,
        kind: ChangeKind,
    ) -> Option<ModificationLevel> {
        if kind != ChangeKind::Modified {
            return None;
        }
        let form_ref = |doc: &Document<'_>, catalog: ObjectId| {
            doc.dictionary(catalog)
                .ok()
                .and_then(|c| c.reference(b"AcroForm"))
        };
        let fields_ref = |doc: &Document<'_>, form: Option<ObjectId>| {
            form.and_then(|f| doc.dictionary(f).ok())
                .and_then(|f| f.reference(b"Fields"))
        };
        let (form_before, form_after) = (
            form_ref(self.before, self.catalog_before),
            form_ref(self.after, self.catalog_after),
        );
        if form_before == Some(id) && form_after == Some(id) {
            let b = self.before_object(id)?.as_dict()?;
            let a = self.after_object(id)?.as_dict()?;
            return self.form_dict_change(b, a);
        }
        if fields_ref(self.before, form_before) == Some(id)
            && fields_ref(self.after, form_after) == Some(id)
        {
            let b = self.before_object(id)?.as_array()?;
            let a = self.after_object(id)?.as_array()?;
            return self.fields_appended(b, a);
        }
        None
    }

    /// A change of the catalog's `/Names` only in the annotation appearance name tree `/AP`.
    pub(super) fn names_value_change(
        &self,
        before: Option<&Object>,
        after: Option<&Object>,
    ) -> Option<ModificationLevel> {
        let empty = Dictionary::new();
        let before = match before {
            None => &empty,
            Some(Object::Dictionary(d)) => d,
            Some(_) => return None,
        };
        let after = match after {
            Some(Object::Dictionary(d)) => d,
            Some(Object::Reference(r)) if before.is_empty() && self.is_added(*r) => {
                self.after_object(*r)?.as_dict()?
            }
            _ => return None,
        };
        differing_keys(before, after)
            .iter()
            .all(|k| k == b"AP")
            .then_some(ModificationLevel::Annotations)
    }

    pub(super) fn is_names_appearance_change(&self, id: ObjectId, kind: ChangeKind) -> bool {
        let names_ref = |doc: &Document<'_>, catalog: ObjectId| {
            doc.dictionary(catalog)
                .ok()
                .and_then(|c| c.reference(b"Names"))
        };
        kind == ChangeKind::Modified
            && names_ref(self.before, self.catalog_before) == Some(id)
            && names_ref(self.after, self.catalog_after) == Some(id)
            && self
                .names_value_change(self.before_object(id), self.after_object(id))
                .is_some()
    }

    /// A signature field object: its own `/FT /Sig`, or a widget of a signature field.
    pub(super) fn is_signature_field_object(&self, id: ObjectId) -> bool {
        self.role_after(id)
            .is_some_and(|r| r.field_type.as_deref() == Some(b"Sig"))
            || self
                .after
                .dictionary(id)
                .is_ok_and(|d| d.name(b"FT") == Some(b"Sig"))
    }

    /// A new signature field (or a widget of one) whose field is new and whose value, if any,
    /// is a new signature. `showing_appearance` selects the unsigned fields that show an
    /// appearance (the "sneaky signature"); otherwise those are excluded.
    pub(super) fn is_new_signature_field(&self, id: ObjectId, showing_appearance: bool) -> bool {
        let Some(object) = self.after_object(id) else {
            return false;
        };
        let (field, is_widget) = match self.role_after(id) {
            Some(role) => (role.field, role.is_widget),
            // A signature field not (yet) in the form's field tree.
            None => match object.as_dict() {
                Some(d) if d.name(b"FT") == Some(b"Sig") => {
                    (id, d.name(b"Subtype") == Some(b"Widget"))
                }
                _ => return false,
            },
        };
        if !self.is_signature_field_object(id) || !self.is_added(field) {
            return false;
        }
        let value = self
            .after
            .dictionary(field)
            .ok()
            .and_then(|f| f.get(b"V").cloned());
        let signed = match value {
            None => false,
            Some(Object::Reference(v)) => {
                if !(self.is_added(v) && self.after_object(v).is_some_and(is_signature_value)) {
                    return false;
                }
                true
            }
            Some(_) => return false,
        };
        let shows = !signed && is_widget && is_visible_widget(self.after, object);
        shows == showing_appearance
    }

    /// A field (or its widget, or an appearance only its widgets use) under a FieldMDP lock.
    pub(super) fn touches_locked_field(&self, id: ObjectId) -> bool {
        if self.locks.is_empty() {
            return false;
        }
        let locked = |r: &FieldRole| self.locks.is_locked(&r.name);
        if self.role_before(id).is_some_and(locked) || self.role_after(id).is_some_and(locked) {
            return true;
        }
        let owners = appearance_owners(self.before, self.before_graph, id)
            .into_iter()
            .flatten()
            .chain(
                appearance_owners(self.after, self.after_graph, id)
                    .into_iter()
                    .flatten(),
            );
        owners.into_iter().any(|o| {
            self.role_before(o).is_some_and(locked) || self.role_after(o).is_some_and(locked)
        })
    }

    /// An empty signature field (or its widget) given a new signature: `/V` added, appearance
    /// updated, nothing else.
    pub(super) fn is_signature_field_signed(&self, id: ObjectId) -> bool {
        let (Some(before), Some(after)) = (self.role_before(id), self.role_after(id)) else {
            return false;
        };
        if before.field_type.as_deref() != Some(b"Sig") || before.field != after.field {
            return false;
        }
        let field = before.field;
        let was_empty = self
            .before
            .dictionary(field)
            .is_ok_and(|f| f.get(b"V").is_none());
        let now_signed = self
            .after
            .dictionary(field)
            .ok()
            .and_then(|f| f.reference(b"V"))
            .is_some_and(|v| {
                self.is_added(v) && self.after_object(v).is_some_and(is_signature_value)
            });
        let allowed: &[&[u8]] = if after.is_field {
            &[b"V", b"AP", b"AS", b"F"]
        } else {
            &[b"AP", b"AS", b"F"]
        };
        was_empty
            && now_signed
            && self
                .changed_keys(id)
                .is_some_and(|keys| keys.iter().all(|k| allowed.contains(&k.as_slice())))
    }

    /// A text, choice or (non-push) button field or widget, in both versions.
    pub(super) fn is_fillable(&self, role: Option<&FieldRole>) -> bool {
        role.is_some_and(|r| {
            matches!(r.field_type.as_deref(), Some(b"Tx" | b"Ch" | b"Btn"))
                && !(r.field_type.as_deref() == Some(b"Btn") && r.flags & FIELD_PUSHBUTTON != 0)
                && r.flags & FIELD_READ_ONLY == 0
                && !self.locks.is_locked(&r.name)
        })
    }

    pub(super) fn is_fillable_widget(&self, id: ObjectId) -> bool {
        let (before, after) = (self.role_before(id), self.role_after(id));
        (before.is_some() || after.is_some())
            && before.is_none_or(|r| r.is_widget)
            && after.is_none_or(|r| r.is_widget)
            && (before.is_none() || self.is_fillable(before))
            && (after.is_none() || self.is_fillable(after))
    }

    /// Whether the value (`/V`) of field `field` differs between the signed revision and now.
    pub(super) fn value_changed(&self, field: ObjectId) -> bool {
        let value = |doc: &Document<'_>| {
            doc.dictionary(field)
                .ok()
                .and_then(|f| f.get(b"V").cloned())
                .and_then(|v| doc.resolve(&v).ok())
        };
        match (value(self.before), value(self.after)) {
            (Some(b), Some(a)) => !same(&b, &a),
            (None, None) => false,
            _ => true,
        }
    }

    /// Whether the field of widget `owner` (now, else as signed) had its value changed.
    pub(super) fn owner_value_changed(&self, owner: ObjectId) -> bool {
        self.role_after(owner)
            .or_else(|| self.role_before(owner))
            .is_some_and(|r| self.value_changed(r.field))
    }

    /// A field whose value changed, and nothing else but its selection, state and appearance.
    pub(super) fn is_field_filled(&self, id: ObjectId) -> bool {
        let (before, after) = (self.role_before(id), self.role_after(id));
        before.is_some_and(|r| r.is_field)
            && after.is_some_and(|r| r.is_field)
            && self.is_fillable(before)
            && self.is_fillable(after)
            && self.value_changed(id)
            && self.changed_keys(id).is_some_and(|keys| {
                keys.iter()
                    .all(|k| matches!(k.as_slice(), b"V" | b"AS" | b"AP" | b"I"))
            })
    }

    /// A widget (not itself a field) whose only changes are its state and appearance, because
    /// its field's value changed.
    pub(super) fn is_widget_refreshed(&self, id: ObjectId) -> bool {
        let (before, after) = (self.role_before(id), self.role_after(id));
        before.is_some_and(|r| !r.is_field)
            && after.is_some_and(|r| !r.is_field)
            && self.is_fillable(before)
            && self.is_fillable(after)
            && self.owner_value_changed(id)
            && self
                .changed_keys(id)
                .is_some_and(|keys| keys.iter().all(|k| matches!(k.as_slice(), b"AS" | b"AP")))
    }

    /// A fillable field's widget, or an appearance only such widgets use, changed while the
    /// field's value stayed as signed: what the page shows for the field was swapped.
    pub(super) fn is_appearance_without_value(&self, id: ObjectId) -> bool {
        let widget_changed = match (self.role_before(id), self.role_after(id)) {
            (Some(b), Some(a)) if b.is_widget && a.is_widget => {
                self.is_fillable(Some(b))
                    && self.changed_keys(id).is_some_and(|keys| {
                        keys.iter()
                            .all(|k| matches!(k.as_slice(), b"AS" | b"AP" | b"MK" | b"DA"))
                    })
                    && !self.value_changed(b.field)
            }
            _ => false,
        };
        widget_changed
            || (self.role_before(id).is_none()
                && self.role_after(id).is_none()
                && self.appearance_owned_by(id, ChangeKind::Modified, |cx, owner| {
                    cx.is_fillable_widget(owner) && !cx.owner_value_changed(owner)
                }))
    }

    pub(super) fn is_markup_owner(&self, id: ObjectId) -> bool {
        let markup = |doc: &Document<'_>| doc.object(id).is_ok_and(|o| is_markup_annotation(&o));
        let in_before = self.before.location(id).is_some();
        let in_after = self.after.location(id).is_some();
        (in_before || in_after)
            && (!in_before || markup(self.before))
            && (!in_after || markup(self.after))
    }

    /// An object used only by the appearances of annotations that `accept` accepts, in the
    /// signed revision and (unless deleted) now.
    pub(super) fn appearance_owned_by(
        &self,
        id: ObjectId,
        kind: ChangeKind,
        accept: fn(&Self, ObjectId) -> bool,
    ) -> bool {
        let Some(before) = appearance_owners(self.before, self.before_graph, id) else {
            return false;
        };
        let after = match kind {
            ChangeKind::Deleted => Vec::new(),
            _ => match appearance_owners(self.after, self.after_graph, id) {
                Some(owners) => owners,
                None => return false,
            },
        };
        before.iter().chain(&after).all(|o| accept(self, *o))
    }

    /// The level of a change to a page's annotations (the page dictionary changed only in
    /// `/Annots`, or an indirect `/Annots` array).
    pub(super) fn annots_change(
        &self,
        id: ObjectId,
        kind: ChangeKind,
    ) -> Option<ModificationLevel> {
        if kind != ChangeKind::Modified {
            return None;
        }
        let is_page = self.pages_before.contains_key(&id) && self.pages_after.contains_key(&id);
        let (before, after) = if is_page {
            let keys = self.changed_keys(id)?;
            if !keys.iter().all(|k| k == b"Annots") {
                return None;
            }
            let b = self.before_object(id)?.as_dict()?.get(b"Annots").cloned();
            let a = self.after_object(id)?.as_dict()?.get(b"Annots").cloned();
            (
                annots_list(self.before, b.as_ref())?,
                annots_list(self.after, a.as_ref())?,
            )
        } else if self.is_annots_array(id) {
            (
                annots_list(self.before, self.before_object(id))?,
                annots_list(self.after, self.after_object(id))?,
            )
        } else {
            return None;
        };
        let mut level = ModificationLevel::LongTermValidation;
        for added in after.iter().filter(|a| !before.contains(a)) {
            level = level.max(
                if self.is_new_signature_widget(*added) || self.is_newly_signed_widget(*added) {
                    ModificationLevel::Signatures
                } else if self
                    .after
                    .object(*added)
                    .is_ok_and(|o| is_markup_annotation(&o))
                {
                    ModificationLevel::Annotations
                } else {
                    return None;
                },
            );
        }
        for removed in before.iter().filter(|b| !after.contains(b)) {
            if !self
                .before
                .object(*removed)
                .is_ok_and(|o| is_markup_annotation(&o))
            {
                return None;
            }
            level = level.max(ModificationLevel::Annotations);
        }
        // The order is the stacking order: reordering can hide one annotation under another.
        let kept_before: Vec<&ObjectId> = before.iter().filter(|b| after.contains(b)).collect();
        let kept_after: Vec<&ObjectId> = after.iter().filter(|a| before.contains(a)).collect();
        if kept_before != kept_after {
            level = level.max(ModificationLevel::Annotations);
        }
        Some(level)
    }

    pub(super) fn is_annots_array(&self, id: ObjectId) -> bool {
        let annots_of_a_page = |doc: &Document<'_>,
                                graph: &Graph,
                                pages: &HashMap<ObjectId, usize>| {
            let holders = graph.holders(id);
            !holders.is_empty()
                && holders.iter().all(|h| match h {
                    Holder::Object(p) if pages.contains_key(p) => doc.object(*p).is_ok_and(|o| {
                        paths_to(&o, id)
                            .iter()
                            .all(|path| path == &[b"Annots".to_vec()])
                    }),
                    _ => false,
                })
        };
        annots_of_a_page(self.before, self.before_graph, &self.pages_before)
            && annots_of_a_page(self.after, self.after_graph, &self.pages_after)
    }

    /// A widget of a signature field that was empty when signed and holds a new signature now.
    pub(super) fn is_newly_signed_widget(&self, id: ObjectId) -> bool {
        let Some(role) = self.role_after(id) else {
            return false;
        };
        role.is_widget
            && role.field_type.as_deref() == Some(b"Sig")
            && self
                .before
                .dictionary(role.field)
                .is_ok_and(|f| f.get(b"V").is_none())
            && self
                .after
                .dictionary(role.field)
                .ok()
                .and_then(|f| f.reference(b"V"))
                .is_some_and(|v| {
                    self.is_added(v) && self.after_object(v).is_some_and(is_signature_value)
                })
    }

    pub(super) fn is_new_signature_widget(&self, id: ObjectId) -> bool {
        self.is_added(id)
            && self.is_signature_field_object(id)
            && (self.is_new_signature_field(id, false) || self.is_new_signature_field(id, true))
    }

    /// New signature widgets that show an appearance.
    pub(super) fn visible_signatures(&self) -> Vec<VisibleWidget> {
        let mut out = Vec::new();
        for (&id, (kind, _, after)) in self.changed {
            let Some(after) = after else { continue };
            let newly_signed = *kind == ChangeKind::Modified && self.is_newly_signed_widget(id);
            if (*kind != ChangeKind::Added && !newly_signed)
                || !self.is_signature_field_object(id)
                || after.as_dict().and_then(|d| d.name(b"Subtype")) != Some(b"Widget")
                || !is_visible_widget(self.after, after)
            {
                continue;
            }
            let field = self.role_after(id).map_or(id, |r| r.field);
            let signed = self
                .after
                .dictionary(field)
                .is_ok_and(|f| f.get(b"V").is_some());
            out.push(VisibleWidget {
                id,
                page: page_of(self.after, self.after_graph, &self.pages_after, id),
                signed,
            });
        }
        out
    }

    /// New annotations whose rectangle overlaps another shown annotation on the same page.
    pub(super) fn overlaps(&self) -> Vec<Overlap> {
        let mut out = Vec::new();
        for (&page, &number) in &self.pages_after {
            let Ok(dict) = self.after.dictionary(page) else {
                continue;
            };
            let Some(annots) = annots_list(self.after, dict.get(b"Annots")) else {
                continue;
            };
            if annots.len() > MAX_OVERLAP_ANNOTATIONS || !annots.iter().any(|a| self.is_added(*a)) {
                continue;
            }
            let shown: Vec<(ObjectId, [f64; 4])> = annots
                .iter()
                .filter_map(|a| {
                    let d = self.after.dictionary(*a).ok()?;
                    (d.integer(b"F").unwrap_or(0) & ANNOTATION_HIDDEN == 0)
                        .then(|| rect(&d))
                        .flatten()
                        .map(|r| (*a, r))
                })
                .collect();
            for (i, (a, ra)) in shown.iter().enumerate() {
                for (j, (b, rb)) in shown.iter().enumerate() {
                    if i == j || !self.is_added(*a) || (self.is_added(*b) && j < i) {
                        continue;
                    }
                    let overlap_x = ra[2].min(rb[2]) - ra[0].max(rb[0]);
                    let overlap_y = ra[3].min(rb[3]) - ra[1].max(rb[1]);
                    if overlap_x > 0.0 && overlap_y > 0.0 {
                        out.push(Overlap {
                            page: number,
                            added: *a,
                            other: *b,
                        });
                    }
                }
            }
        }
        out.sort_by_key(|o| (o.page, o.added, o.other));
        out
    }
}
