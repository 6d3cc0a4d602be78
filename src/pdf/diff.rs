//! What changed in a PDF after a signature, object by object, explained by named rules
//! (ISO 32000-2 §12.8.2.2 DocMDP, §12.8.2.4 FieldMDP, §12.7 forms, §12.5 annotations; ETSI EN
//! 319 142-1 §5.4 for the document security store; the rule-based approach of pyHanko's
//! `DiffPolicy`).
//!
//! The document as signed is the file up to the signature's revision end; the document as read
//! is the whole file. Every object whose stored version differs between the two is a change, and
//! each change must be explained by a rule of [`DEFAULT_DIFF_RULES`]; the rule says how serious
//! the change is ([`ModificationLevel`]). Whatever no rule explains is
//! [`ModificationLevel::Other`]: a change to content, pages, resources, or to a signature's own
//! dictionary, which no signature permits.
//!
//! Rules look at roles (catalog, form field, widget, annotation, appearance stream, security
//! store) and at *who refers to an object*, in both versions of the document: an object is only
//! "an appearance stream" if nothing but annotation appearances uses it, before and after. That
//! is what stops the shadow attacks of the PDF-insecurity research, which prepare an object
//! before signing (an unused content stream, a dangling reference, an appearance that doubles as
//! page content) and reveal or swap it afterwards.
//!
//! What this module refuses: to render anything. Visual overlap with page *content* cannot be
//! judged without rendering, so new visible signature appearances and annotations that overlap
//! other annotations are reported ([`Analysis::visible_signatures`], [`Analysis::overlaps`]) for
//! the verifier to flag, never silently accepted as harmless.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::Error;
use super::document::{Document, Location};
use super::object::{Dictionary, Object, ObjectId, decode_text_string};

/// Most objects walked when building one revision's reference graph. A 2,000-page tagged report
/// has a few hundred thousand objects; past this bound the graph is marked incomplete and the
/// rules that need it (unreferenced objects) stop explaining anything.
const MAX_GRAPH_OBJECTS: usize = 500_000;

/// Most changed objects analysed after one signature. A signature, a DSS and a filled form add a
/// few hundred; a document rewritten wholesale after signing is "changed" whatever the count, so
/// past this bound the analysis gives up with an error, which the verifier reports as a
/// non-permitted change.
const MAX_CHANGED_OBJECTS: usize = 100_000;

/// Most form fields walked, and deepest field tree. Government forms have tens of fields and a
/// depth of two or three; the bounds stop looping or hostile `/Kids` chains.
const MAX_FIELDS: usize = 100_000;
const MAX_FIELD_DEPTH: usize = 32;

/// Most references followed from an object up to the annotation whose appearance owns it:
/// widget → `/AP` dictionary → `/N` state dictionary → form XObject → nested form XObjects
/// (pyHanko's and Acrobat's layered `n0`/`n2` appearances are four deep).
const MAX_APPEARANCE_DEPTH: usize = 6;

/// Most indirect hops walked from the catalog's `/DSS`: DSS → VRI → per-signature entry →
/// stream → indirect `/Length` (ETSI EN 319 142-1 §5.4.2).
const MAX_DSS_DEPTH: usize = 5;

/// Most objects visited looking upwards for the page an object belongs to; a content stream is
/// one hop from its page, an appearance's image three or four.
const MAX_PAGE_SEARCH: usize = 256;

/// Most annotations per page compared pairwise for overlaps (quadratic work); pages with more
/// are not compared.
const MAX_OVERLAP_ANNOTATIONS: usize = 500;

/// How serious a change after signing is; ordered, later is worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModificationLevel {
    /// Nothing after the signature.
    None,
    /// Document security data (DSS), document timestamps, document metadata: long-term
    /// validation (ETSI EN 319 142-1 §5.4), permitted even by DocMDP P=1.
    LongTermValidation,
    /// New signatures in new (or empty) signature fields, with their widgets and appearances.
    Signatures,
    /// Form fields filled in (DocMDP P=2).
    FormFilling,
    /// Annotations added, changed or removed (DocMDP P=3, and approval signatures).
    Annotations,
    /// Anything else.
    Other,
}

/// One object that changed, and the rule that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub kind: ChangeKind,
    /// 1-based page the object belongs to, when known (in the signed revision for deleted
    /// objects, in the final document otherwise).
    pub page: Option<usize>,
    pub rule: &'static str,
    pub level: ModificationLevel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// A signature widget added after signing that shows an appearance on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisibleWidget {
    pub id: ObjectId,
    pub page: Option<usize>,
    /// Whether its field holds a signature (an unsigned one shows an appearance and nothing else).
    pub signed: bool,
}

/// An annotation added after signing whose rectangle overlaps another annotation's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    pub page: usize,
    pub added: ObjectId,
    pub other: ObjectId,
}

/// The changes after one signature.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub changes: Vec<ObjectChange>,
    /// 1-based numbers, in the final document, of pages that were not in the signed revision.
    pub pages_added: Vec<usize>,
    /// 1-based numbers, in the signed revision, of pages no longer in the document.
    pub pages_removed: Vec<usize>,
    /// New signature widgets with a visible appearance (the "sneaky signature" vector).
    pub visible_signatures: Vec<VisibleWidget>,
    /// New annotations that overlap another annotation on their page.
    pub overlaps: Vec<Overlap>,
    /// The form's `/NeedAppearances` was turned on after signing: readers will redraw every
    /// field from its value, so a field whose value and appearance differed when signed will
    /// now show the value (a shadow replace needs nothing more). Permitted as form filling,
    /// and reported.
    pub appearances_regenerated: bool,
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
    explains: fn(&Context<'_, '_>, ObjectId, ChangeKind) -> bool,
}

/// The rules kyso applies, in order; the first rule that explains a changed object names it, and
/// an object no rule explains is `Other` ("not permitted by any rule").
///
/// The order matters in two ways. Rules that name a forbidden change (a rewritten signature
/// dictionary, an object revealed behind a reference made before signing, a page-tree change, a
/// locked field) come before the permissive rules they would otherwise fall through to, so that
/// the report names the attack rather than "not permitted". Among the permissive rules, the
/// stricter (lower-level) come first, so that a change is reported at the lowest level that
/// explains it.
///
/// | rule | level | explains |
/// |---|---|---|
/// | object cannot be read | Other | a changed object kyso cannot parse |
/// | object swapped for bytes hidden in the signed revision | Other | a later cross-reference section pointing an object at bytes that were signed but not used (shadow hide-and-replace) |
/// | signature dictionary rewritten | Other | an existing `/Sig` or `/DocTimeStamp` dictionary changed (`/Reason`, `/M`, `/Contents` moved: spoofing) |
/// | object filled in behind a reference made before signing | Other | a new object whose number the signed revision already referred to (shadow hide-and-replace) |
/// | page tree changed | Other | pages added, removed or reordered |
/// | document catalog replaced | Other | a new catalog object |
/// | document security store | LTV | the DSS, VRI and their streams, when nothing outside the DSS used them |
/// | document timestamp | LTV | a new `/DocTimeStamp`, its field and invisible widget |
/// | document information | LTV | the trailer's `/Info` dictionary |
/// | XMP metadata | LTV | a `/Metadata` stream used only as metadata |
/// | catalog: security store, metadata and extensions | LTV | catalog `/DSS`, `/Metadata`, `/Extensions`, `/Version` |
/// | catalog: signature form | Signatures | the above, and a direct `/AcroForm` gaining signature fields |
/// | catalog: form appearance settings | FormFilling | the above, and `/NeedAppearances`, `/DR`, `/DA` |
/// | catalog: annotation appearance names | Annotations | the above, and `/Names` changed only in `/AP` |
/// | names: annotation appearance names | Annotations | an indirect `/Names` dictionary changed only in `/AP` |
/// | new signature value | Signatures | a new `/Sig` dictionary |
/// | new signature field | Signatures | a new signature field (signed, or unsigned and invisible) and its widgets |
/// | FieldMDP: locked field changed | Other | a field (or its widget or appearance) locked by a FieldMDP `/Reference` or `/Lock` |
/// | existing signature field signed | Signatures | an empty signature field given a new `/V` |
/// | read-only field changed | Other | a field with the ReadOnly flag |
/// | form: signature fields appended | Signatures | `/AcroForm` or `/Fields` gaining new signature fields, `/SigFlags` |
/// | form: appearance settings | FormFilling | `/AcroForm` `/NeedAppearances`, `/DR`, `/DA` |
/// | page: signature widgets added to /Annots | Signatures | a page whose only change is new signature widgets |
/// | field appearance changed without its value | Other | a field's widget or appearance changed while its `/V` did not (shadow replace: a value hidden at signing, shown later) |
/// | form filling: field value | FormFilling | a text, choice or button field whose `/V` changed, and nothing but `/V`, `/AS`, `/AP`, `/I` |
/// | form filling: widget appearance | FormFilling | a widget of such a field whose only changes are `/AS`, `/AP`, when the field's `/V` changed |
/// | form filling: appearance stream | FormFilling | an object used only by the appearances of such widgets, when their fields' `/V` changed |
/// | new annotation | Annotations | a new markup annotation (no actions) |
/// | annotation changed | Annotations | an existing markup annotation |
/// | annotation appearance | Annotations | an object used only by markup annotations' appearances |
/// | page: annotations added, removed or reordered | Annotations | a page whose only change is its `/Annots` |
/// | annotation removed | Annotations | a deleted markup annotation or its appearance |
/// | unsigned signature field showing an appearance | Annotations | a new signature field without a signature but with a visible appearance (sneaky signature) |
/// | new form field | Other | a new text, choice or button field |
/// | new object used only by new or changed objects | LTV | a new object whose every user is itself a change (that change carries the level) |
/// | unreferenced new object | LTV | a new object nothing refers to |
/// | unreferenced object deleted | LTV | a deleted object nothing referred to |
pub const DEFAULT_DIFF_RULES: &[DiffRule] = &[
    DiffRule {
        name: "object cannot be read",
        level: ModificationLevel::Other,
        explains: |cx, id, _| cx.unreadable.contains(&id),
    },
    DiffRule {
        name: "object swapped for bytes hidden in the signed revision",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind != ChangeKind::Deleted && cx.is_relocated_into_signed_bytes(id)
        },
    },
    DiffRule {
        name: "signature dictionary rewritten",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added && cx.before_object(id).is_some_and(is_signature_value)
        },
    },
    DiffRule {
        name: "object filled in behind a reference made before signing",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added && cx.before_graph.referrers.contains_key(&id)
        },
    },
    DiffRule {
        name: "page tree changed (pages added, removed or reordered)",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| cx.is_page_tree_change(id, kind),
    },
    DiffRule {
        name: "document catalog replaced",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind == ChangeKind::Added && id == cx.catalog_after,
    },
    DiffRule {
        name: "document security store",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind != ChangeKind::Deleted && cx.is_dss_object(id),
    },
    DiffRule {
        name: "document timestamp",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_timestamp_object(id),
    },
    DiffRule {
        name: "document information",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            kind != ChangeKind::Deleted
                && cx.info_after == Some(id)
                && (kind == ChangeKind::Added || cx.info_before == Some(id))
        },
    },
    DiffRule {
        name: "XMP metadata",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind != ChangeKind::Deleted && cx.is_metadata_stream(id, kind),
    },
    DiffRule {
        name: "catalog: security store, metadata and extensions",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::LongTermValidation)
        },
    },
    DiffRule {
        name: "catalog: signature form",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "catalog: form appearance settings",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::FormFilling)
        },
    },
    DiffRule {
        name: "catalog: annotation appearance names",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Annotations)
        },
    },
    DiffRule {
        name: "names: annotation appearance names",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| cx.is_names_appearance_change(id, kind),
    },
    DiffRule {
        name: "new signature value",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added && cx.after_object(id).is_some_and(is_signature_value)
        },
    },
    DiffRule {
        name: "new signature field",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_signature_field(id, false),
    },
    DiffRule {
        name: "FieldMDP: locked field changed",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind != ChangeKind::Added && cx.touches_locked_field(id),
    },
    DiffRule {
        name: "existing signature field signed",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_signature_field_signed(id),
    },
    DiffRule {
        name: "read-only field changed",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added
                && cx
                    .role_before(id)
                    .is_some_and(|r| r.flags & FIELD_READ_ONLY != 0)
        },
    },
    DiffRule {
        name: "form: signature fields appended",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.form_object_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "form: appearance settings",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| {
            cx.form_object_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::FormFilling)
        },
    },
    DiffRule {
        name: "page: signature widgets added to /Annots",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.annots_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "field appearance changed without its value",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_appearance_without_value(id),
    },
    DiffRule {
        name: "form filling: field value",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_field_filled(id),
    },
    DiffRule {
        name: "form filling: widget appearance",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_widget_refreshed(id),
    },
    DiffRule {
        name: "form filling: appearance stream",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added
                && cx.appearance_owned_by(id, kind, |cx, owner| {
                    cx.is_fillable_widget(owner) && cx.owner_value_changed(owner)
                })
        },
    },
    DiffRule {
        name: "new annotation",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added
                && cx.after_object(id).is_some_and(is_markup_annotation)
                && cx.used_only_by_changes(id)
        },
    },
    DiffRule {
        name: "annotation changed",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind == ChangeKind::Modified
                && match (cx.before_object(id), cx.after_object(id)) {
                    (Some(b), Some(a)) => {
                        is_markup_annotation(b)
                            && is_markup_annotation(a)
                            && subtype(b) == subtype(a)
                    }
                    _ => false,
                }
        },
    },
    DiffRule {
        name: "annotation appearance",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added
                && cx.appearance_owned_by(id, kind, |cx, owner| cx.is_markup_owner(owner))
        },
    },
    DiffRule {
        name: "page: annotations added, removed or reordered",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            cx.annots_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Annotations)
        },
    },
    DiffRule {
        name: "annotation removed",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind == ChangeKind::Deleted && cx.before_object(id).is_some_and(is_markup_annotation)
        },
    },
    DiffRule {
        name: "unsigned signature field showing an appearance",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_signature_field(id, true),
    },
    DiffRule {
        name: "new form field",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added
                && cx
                    .role_after(id)
                    .is_some_and(|r| r.field_type.as_deref() != Some(b"Sig"))
        },
    },
    DiffRule {
        name: "new object used only by new or changed objects",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.used_only_by_changes(id),
    },
    DiffRule {
        name: "unreferenced new object",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added
                && cx.after_graph.complete
                && !cx.after_graph.reachable.contains(&id)
        },
    },
    DiffRule {
        name: "unreferenced object deleted",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            kind == ChangeKind::Deleted
                && cx.before_graph.complete
                && !cx.before_graph.reachable.contains(&id)
        },
    },
];

/// The name given to changes no rule explains.
pub const UNEXPLAINED: &str = "not permitted by any rule";

/// Which fields a signature locks (ISO 32000-2 §12.8.2.4 FieldMDP, §12.7.5.5 `/Lock`): after
/// the locking signature, a change to a locked field is not permitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldLocks {
    locks: Vec<FieldLock>,
}

/// One FieldMDP lock: `/Action` and `/Fields` (Table 258).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldLock {
    /// Every field.
    All,
    /// The fields named (fully qualified; a name also covers its descendants).
    Include(Vec<String>),
    /// Every field but those named.
    Exclude(Vec<String>),
}

impl FieldLocks {
    /// No lock.
    pub fn none() -> FieldLocks {
        FieldLocks::default()
    }

    /// The locks a signature sets: its dictionary's `/Reference` entries with `/TransformMethod
    /// /FieldMDP`, and the `/Lock` dictionaries of the fields that hold it, both read in `doc`
    /// (the signature's own revision, so that a later revision cannot remove a lock).
    pub fn of_signature(doc: &Document<'_>, signature: &Dictionary, fields: &[ObjectId]) -> Self {
        let mut locks = Vec::new();
        let references = signature
            .get(b"Reference")
            .and_then(|r| doc.resolve(r).ok());
        for reference in references
            .as_ref()
            .and_then(Object::as_array)
            .unwrap_or(&[])
        {
            let Some(reference) = doc.resolve(reference).ok() else {
                continue;
            };
            let Some(reference) = reference.as_dict() else {
                continue;
            };
            if reference.name(b"TransformMethod") != Some(b"FieldMDP") {
                continue;
            }
            if let Some(params) = reference
                .get(b"TransformParams")
                .and_then(|p| doc.resolve(p).ok())
                && let Some(lock) = params.as_dict().and_then(|p| read_lock(doc, p))
            {
                locks.push(lock);
            }
        }
        for field in fields {
            if let Ok(dict) = doc.dictionary(*field)
                && let Some(lock) = dict.get(b"Lock").and_then(|l| doc.resolve(l).ok())
                && let Some(lock) = lock.as_dict().and_then(|l| read_lock(doc, l))
            {
                locks.push(lock);
            }
        }
        FieldLocks { locks }
    }

    /// Locks given directly (tests, and callers that read them elsewhere).
    pub fn from_locks(locks: Vec<FieldLock>) -> FieldLocks {
        FieldLocks { locks }
    }

    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }

    pub fn locks(&self) -> &[FieldLock] {
        &self.locks
    }

    /// Whether the field with this fully qualified name is locked.
    pub fn is_locked(&self, name: &str) -> bool {
        let covers = |listed: &str| name == listed || name.starts_with(&format!("{listed}."));
        self.locks.iter().any(|lock| match lock {
            FieldLock::All => true,
            FieldLock::Include(names) => names.iter().any(|n| covers(n)),
            FieldLock::Exclude(names) => !names.iter().any(|n| covers(n)),
        })
    }
}

fn read_lock(doc: &Document<'_>, params: &Dictionary) -> Option<FieldLock> {
    let names = || -> Vec<String> {
        params
            .get(b"Fields")
            .and_then(|f| doc.resolve(f).ok())
            .and_then(|f| f.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|n| doc.resolve(n).ok())
            .filter_map(|n| n.as_string().map(decode_text_string))
            .collect()
    };
    match params.name(b"Action")? {
        b"All" => Some(FieldLock::All),
        b"Include" => Some(FieldLock::Include(names())),
        b"Exclude" => Some(FieldLock::Exclude(names())),
        // An unknown action locks everything: the signer meant to lock something.
        _ => Some(FieldLock::All),
    }
}

/// The final document, read once and compared with each signed revision in turn (a document
/// with several signatures is analysed once per signature against the same final state).
pub struct Analyser<'a> {
    bytes: &'a [u8],
    after: Document<'a>,
    graph: Graph,
    catalog: ObjectId,
    pages: Vec<ObjectId>,
    fields: HashMap<ObjectId, FieldRole>,
}

impl<'a> Analyser<'a> {
    /// Reads the whole file.
    pub fn new(bytes: &'a [u8]) -> Result<Analyser<'a>, Error> {
        let after = Document::parse(bytes)?;
        let (catalog, catalog_dict) = after.catalog()?;
        let graph = Graph::build(&after);
        let pages = after.pages()?;
        let fields = field_roles(&after, &catalog_dict);
        Ok(Analyser {
            bytes,
            after,
            graph,
            catalog,
            pages,
            fields,
        })
    }

    /// Compares the document as signed (`bytes[..signed_end]`) with the whole file; `locks` are
    /// the fields the signature locked.
    pub fn analyse(&self, signed_end: usize, locks: &FieldLocks) -> Result<Analysis, Error> {
        if signed_end >= self.bytes.len() {
            return Ok(Analysis::default());
        }
        let before = Document::parse(&self.bytes[..signed_end])?;
        let before_graph = Graph::build(&before);
        // Cross-reference and object streams are containers, skipped as such; a stream that
        // only claims to be one (`/Type /XRef` on a page's content stream) is still referenced
        // by what uses it, and compared like any object.
        let referenced = |id: ObjectId| {
            before_graph.referrers.contains_key(&id) || self.graph.referrers.contains_key(&id)
        };
        let (changed, unreadable) = changed_objects(&before, &self.after, &referenced)?;
        if changed.is_empty() {
            return Ok(Analysis::default());
        }
        if changed.len() > MAX_CHANGED_OBJECTS {
            return Err(Error::Unsupported(format!(
                "{} objects changed after signing; kyso analyses at most {MAX_CHANGED_OBJECTS}",
                changed.len()
            )));
        }
        let (catalog_before, catalog_before_dict) = before.catalog()?;
        let pages_before = before.pages()?;
        let cx = Context {
            before: &before,
            after: &self.after,
            before_graph: &before_graph,
            after_graph: &self.graph,
            changed: &changed,
            unreadable: &unreadable,
            catalog_before,
            catalog_after: self.catalog,
            info_before: before.trailer().reference(b"Info"),
            info_after: self.after.trailer().reference(b"Info"),
            pages_before: index(&pages_before),
            pages_after: index(&self.pages),
            fields_before: field_roles(&before, &catalog_before_dict),
            fields_after: &self.fields,
            dss_before: dss_objects(&before, catalog_before),
            dss_after: dss_objects(&self.after, self.catalog),
            locks,
        };
        let mut changes = Vec::with_capacity(changed.len());
        for (&id, (kind, _, _)) in &changed {
            let rule = DEFAULT_DIFF_RULES
                .iter()
                .find(|rule| (rule.explains)(&cx, id, *kind));
            let page = match kind {
                ChangeKind::Deleted => page_of(&before, &before_graph, &cx.pages_before, id),
                _ => page_of(&self.after, &self.graph, &cx.pages_after, id),
            };
            changes.push(ObjectChange {
                id,
                kind: *kind,
                page,
                rule: rule.map_or(UNEXPLAINED, |r| r.name),
                level: rule.map_or(ModificationLevel::Other, |r| r.level),
            });
        }
        let before_pages: HashSet<ObjectId> = pages_before.iter().copied().collect();
        let after_pages: HashSet<ObjectId> = self.pages.iter().copied().collect();
        let pages_added = self
            .pages
            .iter()
            .enumerate()
            .filter(|(_, p)| !before_pages.contains(p))
            .map(|(i, _)| i + 1)
            .collect();
        let pages_removed = pages_before
            .iter()
            .enumerate()
            .filter(|(_, p)| !after_pages.contains(p))
            .map(|(i, _)| i + 1)
            .collect();
        let visible_signatures = cx.visible_signatures();
        let overlaps = cx.overlaps();
        let appearances_regenerated = !need_appearances(&before) && need_appearances(&self.after);
        Ok(Analysis {
            changes,
            pages_added,
            pages_removed,
            visible_signatures,
            overlaps,
            appearances_regenerated,
        })
    }
}

/// Compares the document as signed (`bytes[..signed_end]`) with the whole file.
pub fn analyse(bytes: &[u8], signed_end: usize, locks: &FieldLocks) -> Result<Analysis, Error> {
    if signed_end >= bytes.len() {
        return Ok(Analysis::default());
    }
    Analyser::new(bytes)?.analyse(signed_end, locks)
}

/// Changed objects: kind, version in the signed revision, version now (`None` when deleted, or
/// when it cannot be read: see [`Context::unreadable`]).
type Changed = BTreeMap<ObjectId, (ChangeKind, Option<Object>, Option<Object>)>;

/// Objects whose stored version differs. An object stored at the same place in both is the same
/// object (a later revision cannot change bytes of an earlier one without breaking its
/// signature), so only relocated objects are parsed and compared.
fn changed_objects(
    before: &Document<'_>,
    after: &Document<'_>,
    referenced: &dyn Fn(ObjectId) -> bool,
) -> Result<(Changed, HashSet<ObjectId>), Error> {
    let structure = |id: ObjectId, object: &Object| is_structure_stream(object) && !referenced(id);
    let mut changed = Changed::new();
    let mut unreadable = HashSet::new();
    for (id, location) in after.locations() {
        let before_location = before.location(id);
        if before_location.is_some() && same_place(before, after, before_location, location) {
            continue;
        }
        let was = match before_location {
            Some(_) => Some(before.object(id)?),
            None => None,
        };
        // A changed object that cannot be read is a change no rule can explain (and one a
        // lenient reader may still display); it does not stop the analysis of the others.
        let now = match after.object(id) {
            Ok(now) => now,
            Err(_) => {
                unreadable.insert(id);
                let kind = if was.is_some() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                };
                changed.insert(id, (kind, was, None));
                continue;
            }
        };
        if structure(id, &now) {
            continue;
        }
        match was {
            None if now != Object::Null => {
                changed.insert(id, (ChangeKind::Added, None, Some(now)));
            }
            None => {}
            Some(was) => {
                if now == Object::Null && was != Object::Null {
                    changed.insert(id, (ChangeKind::Deleted, Some(was), None));
                } else if !same(&was, &now) {
                    changed.insert(id, (ChangeKind::Modified, Some(was), Some(now)));
                }
            }
        }
    }
    for (id, _) in before.locations() {
        if after.location(id).is_none() {
            let was = before.object(id)?;
            if !structure(id, &was) && was != Object::Null {
                changed.insert(id, (ChangeKind::Deleted, Some(was), None));
            }
        }
    }
    Ok((changed, unreadable))
}

fn same_place(
    before: &Document<'_>,
    after: &Document<'_>,
    was: Option<Location>,
    now: Location,
) -> bool {
    match (was, now) {
        (Some(Location::Offset(a)), Location::Offset(b)) => a == b,
        (
            Some(Location::Compressed {
                stream: s1,
                index: i1,
            }),
            Location::Compressed {
                stream: s2,
                index: i2,
            },
        ) => {
            let stream = ObjectId::new(s1, 0);
            s1 == s2
                && i1 == i2
                && before.location(stream).is_some()
                && before.location(stream) == after.location(stream)
        }
        _ => false,
    }
}

/// Equality as a reader sees it: strings equal whatever their notation (`<48>` is `(H)`), numbers
/// equal across integer and real, dictionaries equal whatever their key order, streams equal when
/// their decoded data and dictionaries (apart from `/Length` and the encoding) are.
pub fn same(a: &Object, b: &Object) -> bool {
    match (a, b) {
        (Object::String(x, _), Object::String(y, _)) => x == y,
        (Object::Integer(i), Object::Real(r)) | (Object::Real(r), Object::Integer(i)) => {
            (*i as f64) == *r
        }
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => same_dict(x, y, &[]),
        (Object::Stream(x), Object::Stream(y)) => {
            if x.data == y.data {
                return same_dict(&x.dict, &y.dict, &[b"Length"]);
            }
            let encoding: &[&[u8]] = &[b"Length", b"Filter", b"DecodeParms", b"DL"];
            same_dict(&x.dict, &y.dict, encoding)
                && matches!(
                    (super::filter::decode(x), super::filter::decode(y)),
                    (Ok(p), Ok(q)) if p == q
                )
        }
        _ => a == b,
    }
}

fn same_dict(x: &Dictionary, y: &Dictionary, ignored: &[&[u8]]) -> bool {
    differing_keys(x, y)
        .iter()
        .all(|k| ignored.contains(&k.as_slice()))
}

/// The keys whose values differ between two dictionaries (present in one only, or different).
pub fn differing_keys(x: &Dictionary, y: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<&[u8]> = x.iter().map(|(k, _)| k).collect();
    keys.extend(y.iter().map(|(k, _)| k).filter(|k| x.get(k).is_none()));
    keys.into_iter()
        .filter(|k| match (x.get(k), y.get(k)) {
            (Some(a), Some(b)) => !same(a, b),
            _ => true,
        })
        .map(<[u8]>::to_vec)
        .collect()
}

/// Who refers to what in one revision: the objects reachable from the trailer's `/Root` and
/// `/Info`, and for each referenced object number the objects (or the trailer) that refer to it.
/// Dangling references are recorded too: a reference to an object that does not exist yet is
/// exactly what a shadow attack fills in later.
struct Graph {
    reachable: HashSet<ObjectId>,
    referrers: HashMap<ObjectId, Vec<Holder>>,
    /// False when [`MAX_GRAPH_OBJECTS`] stopped the walk.
    complete: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Holder {
    Trailer,
    Object(ObjectId),
}

impl Graph {
    fn build(doc: &Document<'_>) -> Graph {
        let mut graph = Graph {
            reachable: HashSet::new(),
            referrers: HashMap::new(),
            complete: true,
        };
        let mut queue = VecDeque::new();
        for key in [&b"Root"[..], b"Info"] {
            if let Some(r) = doc.trailer().reference(key) {
                graph.edge(Holder::Trailer, r, &mut queue);
            }
        }
        while let Some(id) = queue.pop_front() {
            if graph.reachable.len() > MAX_GRAPH_OBJECTS {
                graph.complete = false;
                break;
            }
            // An object that cannot be read refers to nothing a reader could follow either.
            let Ok(object) = doc.object(id) else {
                continue;
            };
            let mut references = Vec::new();
            collect_references(&object, &mut references);
            references.sort_unstable();
            references.dedup();
            for r in references {
                graph.edge(Holder::Object(id), r, &mut queue);
            }
        }
        graph
    }

    fn edge(&mut self, from: Holder, to: ObjectId, queue: &mut VecDeque<ObjectId>) {
        self.referrers.entry(to).or_default().push(from);
        if self.reachable.insert(to) {
            queue.push_back(to);
        }
    }

    fn holders(&self, id: ObjectId) -> &[Holder] {
        self.referrers.get(&id).map_or(&[], Vec::as_slice)
    }
}

fn collect_references(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(r) => out.push(*r),
        Object::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Object::Dictionary(d) => d.iter().for_each(|(_, v)| collect_references(v, out)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, v)| collect_references(v, out)),
        _ => {}
    }
}

/// The dictionary-key paths under which `object` refers to `target` (arrays are transparent):
/// `[["AP", "N"]]` for a widget's normal appearance, `[["Contents"]]` for a page's content.
fn paths_to(object: &Object, target: ObjectId) -> Vec<Vec<Vec<u8>>> {
    fn walk(o: &Object, target: ObjectId, path: &mut Vec<Vec<u8>>, out: &mut Vec<Vec<Vec<u8>>>) {
        match o {
            Object::Reference(r) if *r == target => out.push(path.clone()),
            Object::Array(items) => items.iter().for_each(|i| walk(i, target, path, out)),
            Object::Dictionary(d) => walk_dict(d, target, path, out),
            Object::Stream(s) => walk_dict(&s.dict, target, path, out),
            _ => {}
        }
    }
    fn walk_dict(
        d: &Dictionary,
        target: ObjectId,
        path: &mut Vec<Vec<u8>>,
        out: &mut Vec<Vec<Vec<u8>>>,
    ) {
        for (k, v) in d.iter() {
            path.push(k.to_vec());
            walk(v, target, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(object, target, &mut Vec::new(), &mut out);
    out
}

/// A form field or widget as the field tree defines it.
#[derive(Clone, Debug)]
struct FieldRole {
    /// The field this object is, or is a widget of.
    field: ObjectId,
    /// Fully qualified name (§12.7.4.2).
    name: String,
    /// `/FT`, inherited.
    field_type: Option<Vec<u8>>,
    /// `/Ff`, inherited.
    flags: i64,
    /// Whether this object is the field dictionary (merged with its widget or not).
    is_field: bool,
    /// Whether this object is a widget annotation.
    is_widget: bool,
}

/// ReadOnly (bit 1) and Pushbutton (bit 17) field flags (§12.7.4.1 Table 227, §12.7.5.2.1).
const FIELD_READ_ONLY: i64 = 1;
const FIELD_PUSHBUTTON: i64 = 1 << 16;

fn field_roles(doc: &Document<'_>, catalog: &Dictionary) -> HashMap<ObjectId, FieldRole> {
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

fn walk_field(
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
fn need_appearances(doc: &Document<'_>) -> bool {
    doc.catalog()
        .ok()
        .and_then(|(_, c)| c.get(b"AcroForm").and_then(|f| doc.resolve(f).ok()))
        .and_then(|f| f.as_dict().and_then(|f| f.get(b"NeedAppearances").cloned()))
        == Some(Object::Boolean(true))
}

/// Objects of the document security store: the DSS dictionary and what it reaches.
fn dss_objects(doc: &Document<'_>, catalog: ObjectId) -> HashSet<ObjectId> {
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

fn index(pages: &[ObjectId]) -> HashMap<ObjectId, usize> {
    pages.iter().enumerate().map(|(i, p)| (*p, i + 1)).collect()
}

/// The 1-based page an object belongs to: the page itself, or the first page found walking up
/// from the object through the objects that refer to it (a content stream's page, an
/// annotation's page, an appearance's annotation's page). The page tree's inner nodes are not
/// crossed: what they hold (inherited resources) belongs to every page below them.
fn page_of(
    doc: &Document<'_>,
    graph: &Graph,
    pages: &HashMap<ObjectId, usize>,
    id: ObjectId,
) -> Option<usize> {
    let mut queue = VecDeque::from([id]);
    let mut seen = HashSet::from([id]);
    while let Some(current) = queue.pop_front() {
        if let Some(n) = pages.get(&current) {
            return Some(*n);
        }
        if let Ok(dict) = doc.dictionary(current) {
            if let Some(n) = dict.reference(b"P").and_then(|p| pages.get(&p)) {
                return Some(*n);
            }
            if dict.has_type(b"Pages") || dict.has_type(b"Catalog") {
                continue;
            }
        }
        for holder in graph.holders(current) {
            if let Holder::Object(h) = holder
                && seen.len() < MAX_PAGE_SEARCH
                && seen.insert(*h)
            {
                queue.push_back(*h);
            }
        }
    }
    None
}

/// Everything the rules look at.
struct Context<'d, 'a> {
    before: &'d Document<'a>,
    after: &'d Document<'a>,
    before_graph: &'d Graph,
    after_graph: &'d Graph,
    changed: &'d Changed,
    /// Changed objects whose new version cannot be read.
    unreadable: &'d HashSet<ObjectId>,
    catalog_before: ObjectId,
    catalog_after: ObjectId,
    info_before: Option<ObjectId>,
    info_after: Option<ObjectId>,
    pages_before: HashMap<ObjectId, usize>,
    pages_after: HashMap<ObjectId, usize>,
    fields_before: HashMap<ObjectId, FieldRole>,
    fields_after: &'d HashMap<ObjectId, FieldRole>,
    dss_before: HashSet<ObjectId>,
    dss_after: HashSet<ObjectId>,
    locks: &'d FieldLocks,
}

impl Context<'_, '_> {
    fn before_object(&self, id: ObjectId) -> Option<&Object> {
        self.changed.get(&id).and_then(|(_, b, _)| b.as_ref())
    }

    fn after_object(&self, id: ObjectId) -> Option<&Object> {
        self.changed.get(&id).and_then(|(_, _, a)| a.as_ref())
    }

    fn is_added(&self, id: ObjectId) -> bool {
        matches!(self.changed.get(&id), Some((ChangeKind::Added, _, _)))
    }

    fn role_before(&self, id: ObjectId) -> Option<&FieldRole> {
        self.fields_before.get(&id)
    }

    fn role_after(&self, id: ObjectId) -> Option<&FieldRole> {
        self.fields_after.get(&id)
    }

    /// The keys a modified dictionary (or stream dictionary) changed; `None` when the object is
    /// not a dictionary in both versions, or a stream's data changed.
    fn changed_keys(&self, id: ObjectId) -> Option<Vec<Vec<u8>>> {
        let (b, a) = (self.before_object(id)?, self.after_object(id)?);
        match (b, a) {
            (Object::Dictionary(b), Object::Dictionary(a)) => Some(differing_keys(b, a)),
            _ => None,
        }
    }

    /// A new object whose every user, now, is itself a change (added, or a modified object that
    /// did not refer to it before), and that nothing referred to when the document was signed.
    fn used_only_by_changes(&self, id: ObjectId) -> bool {
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
    fn is_relocated_into_signed_bytes(&self, id: ObjectId) -> bool {
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

    fn is_page_tree_change(&self, id: ObjectId, kind: ChangeKind) -> bool {
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
    fn is_dss_object(&self, id: ObjectId) -> bool {
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

    fn is_new_timestamp_object(&self, id: ObjectId) -> bool {
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

    fn is_metadata_stream(&self, id: ObjectId, kind: ChangeKind) -> bool {
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
    fn catalog_change(&self, id: ObjectId, kind: ChangeKind) -> Option<ModificationLevel> {
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
    fn form_value_change(
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
    fn form_dict_change(
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
    fn fields_appended(&self, before: &[Object], after: &[Object]) -> Option<ModificationLevel> {
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
    fn form_object_change(&self, id: ObjectId, kind: ChangeKind) -> Option<ModificationLevel> {
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
    fn names_value_change(
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

    fn is_names_appearance_change(&self, id: ObjectId, kind: ChangeKind) -> bool {
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
    fn is_signature_field_object(&self, id: ObjectId) -> bool {
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
    fn is_new_signature_field(&self, id: ObjectId, showing_appearance: bool) -> bool {
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
    fn touches_locked_field(&self, id: ObjectId) -> bool {
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
    fn is_signature_field_signed(&self, id: ObjectId) -> bool {
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
    fn is_fillable(&self, role: Option<&FieldRole>) -> bool {
        role.is_some_and(|r| {
            matches!(r.field_type.as_deref(), Some(b"Tx" | b"Ch" | b"Btn"))
                && !(r.field_type.as_deref() == Some(b"Btn") && r.flags & FIELD_PUSHBUTTON != 0)
                && r.flags & FIELD_READ_ONLY == 0
                && !self.locks.is_locked(&r.name)
        })
    }

    fn is_fillable_widget(&self, id: ObjectId) -> bool {
        let (before, after) = (self.role_before(id), self.role_after(id));
        (before.is_some() || after.is_some())
            && before.is_none_or(|r| r.is_widget)
            && after.is_none_or(|r| r.is_widget)
            && (before.is_none() || self.is_fillable(before))
            && (after.is_none() || self.is_fillable(after))
    }

    /// Whether the value (`/V`) of field `field` differs between the signed revision and now.
    fn value_changed(&self, field: ObjectId) -> bool {
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
    fn owner_value_changed(&self, owner: ObjectId) -> bool {
        self.role_after(owner)
            .or_else(|| self.role_before(owner))
            .is_some_and(|r| self.value_changed(r.field))
    }

    /// A field whose value changed, and nothing else but its selection, state and appearance.
    fn is_field_filled(&self, id: ObjectId) -> bool {
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
    fn is_widget_refreshed(&self, id: ObjectId) -> bool {
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
    fn is_appearance_without_value(&self, id: ObjectId) -> bool {
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

    fn is_markup_owner(&self, id: ObjectId) -> bool {
        let markup = |doc: &Document<'_>| doc.object(id).is_ok_and(|o| is_markup_annotation(&o));
        let in_before = self.before.location(id).is_some();
        let in_after = self.after.location(id).is_some();
        (in_before || in_after)
            && (!in_before || markup(self.before))
            && (!in_after || markup(self.after))
    }

    /// An object used only by the appearances of annotations that `accept` accepts, in the
    /// signed revision and (unless deleted) now.
    fn appearance_owned_by(
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
    fn annots_change(&self, id: ObjectId, kind: ChangeKind) -> Option<ModificationLevel> {
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

    fn is_annots_array(&self, id: ObjectId) -> bool {
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
    fn is_newly_signed_widget(&self, id: ObjectId) -> bool {
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

    fn is_new_signature_widget(&self, id: ObjectId) -> bool {
        self.is_added(id)
            && self.is_signature_field_object(id)
            && (self.is_new_signature_field(id, false) || self.is_new_signature_field(id, true))
    }

    /// New signature widgets that show an appearance.
    fn visible_signatures(&self) -> Vec<VisibleWidget> {
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
    fn overlaps(&self) -> Vec<Overlap> {
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

/// Hidden (bit 2) and NoView (bit 6) annotation flags (§12.5.3 Table 167).
const ANNOTATION_HIDDEN: i64 = 2 | 32;

/// The annotations an `/Annots` value (direct or indirect) lists.
fn annots_list(doc: &Document<'_>, value: Option<&Object>) -> Option<Vec<ObjectId>> {
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

/// The annotations whose appearance (under `/AP`, directly or through appearance
/// sub-dictionaries and form XObjects' resources) uses `id`, provided nothing else does; `None`
/// when something else does (a page, the trailer, a non-appearance key) or nothing does.
fn appearance_owners(doc: &Document<'_>, graph: &Graph, id: ObjectId) -> Option<Vec<ObjectId>> {
    let mut owners = Vec::new();
    let mut stack = vec![(id, 0usize)];
    let mut seen = HashSet::new();
    while let Some((current, depth)) = stack.pop() {
        if depth > MAX_APPEARANCE_DEPTH {
            return None;
        }
        if !seen.insert(current) {
            continue;
        }
        let holders = graph.holders(current);
        if holders.is_empty() {
            return None;
        }
        for holder in holders {
            let Holder::Object(h) = holder else {
                return None;
            };
            let object = doc.object(*h).ok()?;
            let paths = paths_to(&object, current);
            match &object {
                Object::Dictionary(d) if is_annotation(d) => {
                    if !paths.iter().all(|p| p.first().is_some_and(|k| k == b"AP")) {
                        return None;
                    }
                    owners.push(*h);
                }
                Object::Dictionary(d)
                    if d.has_type(b"Page") || d.has_type(b"Pages") || d.has_type(b"Catalog") =>
                {
                    return None;
                }
                // An appearance sub-dictionary (`/AP`, `/N` states) or a shared resources
                // dictionary: owned only if it is owned in turn.
                Object::Dictionary(_) => stack.push((*h, depth + 1)),
                // A form XObject using this one through its resources.
                Object::Stream(_)
                    if paths
                        .iter()
                        .all(|p| p.first().is_some_and(|k| k == b"Resources")) =>
                {
                    stack.push((*h, depth + 1));
                }
                _ => return None,
            }
        }
    }
    (!owners.is_empty()).then_some(owners)
}

/// Subtypes of annotations (§12.5.6) that a reader shows as markup or pop-ups.
const MARKUP_SUBTYPES: &[&[u8]] = &[
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
const ANNOTATION_SUBTYPES: &[&[u8]] = &[
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

fn is_annotation(dict: &Dictionary) -> bool {
    dict.has_type(b"Annot")
        || dict
            .name(b"Subtype")
            .is_some_and(|s| MARKUP_SUBTYPES.contains(&s) || ANNOTATION_SUBTYPES.contains(&s))
}

fn subtype(object: &Object) -> Option<&[u8]> {
    object.as_dict().and_then(|d| d.name(b"Subtype"))
}

/// A markup annotation or pop-up without actions: not a widget (a form field), not a link and
/// no `/A` or `/AA` (either could run an action or redirect a reader).
fn is_markup_annotation(object: &Object) -> bool {
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
fn is_signature_value(object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    d.has_type(b"Sig")
        || d.has_type(b"DocTimeStamp")
        || (d.get(b"ByteRange").is_some() && d.get(b"Contents").is_some())
}

fn is_timestamp_value(object: &Object) -> bool {
    let Object::Dictionary(d) = object else {
        return false;
    };
    d.has_type(b"DocTimeStamp") || d.name(b"SubFilter") == Some(b"ETSI.RFC3161")
}

/// A cross-reference or object stream: a container, not content (when nothing refers to it).
fn is_structure_stream(object: &Object) -> bool {
    matches!(object, Object::Stream(s) if s.dict.has_type(b"XRef") || s.dict.has_type(b"ObjStm"))
}

/// A widget a reader shows: a rectangle with an area, a normal appearance, not hidden.
fn is_visible_widget(doc: &Document<'_>, object: &Object) -> bool {
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
fn rect(dict: &Dictionary) -> Option<[f64; 4]> {
    let numbers: Vec<f64> = dict
        .get(b"Rect")?
        .as_array()?
        .iter()
        .map(Object::as_number)
        .collect::<Option<_>>()?;
    let [a, b, c, d] = numbers.as_slice() else {
        return None;
    };
    Some([a.min(*c), b.min(*d), a.max(*c), b.max(*d)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_ignores_notation() {
        use crate::pdf::StringFormat;
        let a = Object::String(b"EN".to_vec(), StringFormat::Hex);
        let b = Object::String(b"EN".to_vec(), StringFormat::Literal);
        assert!(same(&a, &b));
        assert!(same(&Object::Integer(3), &Object::Real(3.0)));
        let x = crate::pdf_dict! { b"A" => 1i64, b"B" => 2i64 };
        let y = crate::pdf_dict! { b"B" => 2i64, b"A" => 1i64 };
        assert!(same(&Object::Dictionary(x), &Object::Dictionary(y)));
    }

    #[test]
    fn locks_cover_descendants_and_exclusions() {
        let include = FieldLocks::from_locks(vec![FieldLock::Include(vec!["a".into()])]);
        assert!(include.is_locked("a"));
        assert!(include.is_locked("a.b"));
        assert!(!include.is_locked("ab"));
        let exclude = FieldLocks::from_locks(vec![FieldLock::Exclude(vec!["a".into()])]);
        assert!(!exclude.is_locked("a.b"));
        assert!(exclude.is_locked("c"));
        assert!(!FieldLocks::none().is_locked("a"));
    }

    #[test]
    fn paths_name_the_keys() {
        let widget = crate::pdf_dict! {
            b"AP" => crate::pdf_dict! { b"N" => ObjectId::new(7, 0) },
            b"Kids" => Object::Array(vec![ObjectId::new(7, 0).into()]),
        };
        let paths = paths_to(&Object::Dictionary(widget), ObjectId::new(7, 0));
        assert_eq!(
            paths,
            vec![vec![b"AP".to_vec(), b"N".to_vec()], vec![b"Kids".to_vec()]]
        );
    }
}
