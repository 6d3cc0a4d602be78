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

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

mod context;
mod graph;
mod roles;

use self::context::Context;
use self::graph::{Graph, page_of};
use self::roles::{
    FIELD_READ_ONLY, FieldRole, dss_objects, field_roles, index, is_markup_annotation,
    is_signature_value, is_structure_stream, need_appearances, subtype,
};
use super::Error;
use super::document::{Document, Location};
use super::object::{
    Dictionary, Object, ObjectId, decode_text_string, is_delimiter, is_whitespace,
};
use super::parser::{Parser, find};

/// Most changed objects analysed after one signature. A signature, a DSS and a filled form add a
/// few hundred; a document rewritten wholesale after signing is "changed" whatever the count, so
/// past this bound the analysis gives up with an error, which the verifier reports as a
/// non-permitted change.
const MAX_CHANGED_OBJECTS: usize = 100_000;

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
    /// The rule's name in Vietnamese.
    pub rule_vi: &'static str,
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
    /// The same name in Vietnamese, for the clerks' report.
    pub name_vi: &'static str,
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
/// | object written after signing outside the cross-reference data | Other | object bytes appended that no cross-reference section points at: kyso's reading ignores them, a reader that repairs files shows them (incremental saving attack without an update) |
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
        name: "object written after signing outside the cross-reference data",
        name_vi: "đối tượng được ghi sau khi ký nằm ngoài bảng tham chiếu chéo",
        level: ModificationLevel::Other,
        explains: |cx, id, _| cx.strays.contains(&id),
    },
    DiffRule {
        name: "object cannot be read",
        name_vi: "không đọc được đối tượng",
        level: ModificationLevel::Other,
        explains: |cx, id, _| cx.unreadable.contains(&id),
    },
    DiffRule {
        name: "object swapped for bytes hidden in the signed revision",
        name_vi: "đối tượng bị tráo bằng dữ liệu giấu sẵn trong phiên bản đã ký",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind != ChangeKind::Deleted && cx.is_relocated_into_signed_bytes(id)
        },
    },
    DiffRule {
        name: "signature dictionary rewritten",
        name_vi: "từ điển chữ ký bị ghi lại",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added && cx.before_object(id).is_some_and(is_signature_value)
        },
    },
    DiffRule {
        name: "object filled in behind a reference made before signing",
        name_vi: "đối tượng được điền vào sau một tham chiếu có từ trước khi ký",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added && cx.before_graph.referrers.contains_key(&id)
        },
    },
    DiffRule {
        name: "page tree changed (pages added, removed or reordered)",
        name_vi: "cây trang bị thay đổi (thêm, xóa hoặc đổi thứ tự trang)",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| cx.is_page_tree_change(id, kind),
    },
    DiffRule {
        name: "document catalog replaced",
        name_vi: "danh mục gốc của tài liệu bị thay thế",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind == ChangeKind::Added && id == cx.catalog_after,
    },
    DiffRule {
        name: "document security store",
        name_vi: "kho dữ liệu kiểm tra (DSS)",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind != ChangeKind::Deleted && cx.is_dss_object(id),
    },
    DiffRule {
        name: "document timestamp",
        name_vi: "dấu thời gian tài liệu",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_timestamp_object(id),
    },
    DiffRule {
        name: "document information",
        name_vi: "thông tin tài liệu",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            kind != ChangeKind::Deleted
                && cx.info_after == Some(id)
                && (kind == ChangeKind::Added || cx.info_before == Some(id))
        },
    },
    DiffRule {
        name: "XMP metadata",
        name_vi: "siêu dữ liệu XMP",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind != ChangeKind::Deleted && cx.is_metadata_stream(id, kind),
    },
    DiffRule {
        name: "catalog: security store, metadata and extensions",
        name_vi: "danh mục gốc: kho dữ liệu kiểm tra, siêu dữ liệu và phần mở rộng",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::LongTermValidation)
        },
    },
    DiffRule {
        name: "catalog: signature form",
        name_vi: "danh mục gốc: biểu mẫu chữ ký",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "catalog: form appearance settings",
        name_vi: "danh mục gốc: thiết lập hiển thị biểu mẫu",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::FormFilling)
        },
    },
    DiffRule {
        name: "catalog: annotation appearance names",
        name_vi: "danh mục gốc: tên hình hiển thị của chú thích",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            cx.catalog_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Annotations)
        },
    },
    DiffRule {
        name: "names: annotation appearance names",
        name_vi: "bảng tên: tên hình hiển thị của chú thích",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| cx.is_names_appearance_change(id, kind),
    },
    DiffRule {
        name: "new signature value",
        name_vi: "giá trị chữ ký mới",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added && cx.after_object(id).is_some_and(is_signature_value)
        },
    },
    DiffRule {
        name: "new signature field",
        name_vi: "trường chữ ký mới",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_signature_field(id, false),
    },
    DiffRule {
        name: "FieldMDP: locked field changed",
        name_vi: "FieldMDP: trường bị khóa đã thay đổi",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind != ChangeKind::Added && cx.touches_locked_field(id),
    },
    DiffRule {
        name: "existing signature field signed",
        name_vi: "trường chữ ký có sẵn được ký",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_signature_field_signed(id),
    },
    DiffRule {
        name: "read-only field changed",
        name_vi: "trường chỉ đọc bị thay đổi",
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
        name_vi: "biểu mẫu: thêm trường chữ ký",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.form_object_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "form: appearance settings",
        name_vi: "biểu mẫu: thiết lập hiển thị",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| {
            cx.form_object_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::FormFilling)
        },
    },
    DiffRule {
        name: "page: signature widgets added to /Annots",
        name_vi: "trang: thêm ô chữ ký vào /Annots",
        level: ModificationLevel::Signatures,
        explains: |cx, id, kind| {
            cx.annots_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Signatures)
        },
    },
    DiffRule {
        name: "field appearance changed without its value",
        name_vi: "hình hiển thị của trường thay đổi mà giá trị không đổi",
        level: ModificationLevel::Other,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_appearance_without_value(id),
    },
    DiffRule {
        name: "form filling: field value",
        name_vi: "điền biểu mẫu: giá trị trường",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_field_filled(id),
    },
    DiffRule {
        name: "form filling: widget appearance",
        name_vi: "điền biểu mẫu: hình hiển thị của ô",
        level: ModificationLevel::FormFilling,
        explains: |cx, id, kind| kind == ChangeKind::Modified && cx.is_widget_refreshed(id),
    },
    DiffRule {
        name: "form filling: appearance stream",
        name_vi: "điền biểu mẫu: luồng hình hiển thị",
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
        name_vi: "chú thích mới",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added
                && cx.after_object(id).is_some_and(is_markup_annotation)
                && cx.used_only_by_changes(id)
        },
    },
    DiffRule {
        name: "annotation changed",
        name_vi: "chú thích bị sửa",
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
        name_vi: "hình hiển thị của chú thích",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind != ChangeKind::Added
                && cx.appearance_owned_by(id, kind, |cx, owner| cx.is_markup_owner(owner))
        },
    },
    DiffRule {
        name: "page: annotations added, removed or reordered",
        name_vi: "trang: chú thích được thêm, xóa hoặc đổi thứ tự",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            cx.annots_change(id, kind)
                .is_some_and(|l| l <= ModificationLevel::Annotations)
        },
    },
    DiffRule {
        name: "annotation removed",
        name_vi: "chú thích bị xóa",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| {
            kind == ChangeKind::Deleted && cx.before_object(id).is_some_and(is_markup_annotation)
        },
    },
    DiffRule {
        name: "unsigned signature field showing an appearance",
        name_vi: "trường chữ ký chưa ký nhưng hiển thị hình",
        level: ModificationLevel::Annotations,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.is_new_signature_field(id, true),
    },
    DiffRule {
        name: "new form field",
        name_vi: "trường biểu mẫu mới",
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
        name_vi: "đối tượng mới chỉ được dùng bởi các đối tượng mới hoặc đã sửa",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| kind == ChangeKind::Added && cx.used_only_by_changes(id),
    },
    DiffRule {
        name: "unreferenced new object",
        name_vi: "đối tượng mới không được tham chiếu",
        level: ModificationLevel::LongTermValidation,
        explains: |cx, id, kind| {
            kind == ChangeKind::Added
                && cx.after_graph.complete
                && !cx.after_graph.reachable.contains(&id)
        },
    },
    DiffRule {
        name: "unreferenced object deleted",
        name_vi: "đối tượng không được tham chiếu bị xóa",
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
/// [`UNEXPLAINED`] in Vietnamese.
pub const UNEXPLAINED_VI: &str = "không quy tắc nào cho phép";

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
        let mut locks: Vec<FieldLock> =
            super::signatures::transform_references(doc, signature, &[b"FieldMDP"])
                .iter()
                .filter_map(|params| read_lock(doc, params.as_ref()?))
                .collect();
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
        let (mut changed, unreadable) = changed_objects(&before, &self.after, &referenced)?;
        let mut strays = HashSet::new();
        for (id, _) in stray_objects(&self.after, signed_end) {
            let kind = if self.after.location(id).is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            };
            changed.entry(id).or_insert((kind, None, None));
            strays.insert(id);
        }
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
            strays: &strays,
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
                rule_vi: rule.map_or(UNEXPLAINED_VI, |r| r.name_vi),
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

/// Objects written after `from` (object headers `n g obj`) at offsets no cross-reference
/// section of any revision points at. Objects that are indexed are parsed to step over their
/// stream data, so that bytes inside a stream are not read as headers.
fn stray_objects(doc: &Document<'_>, from: usize) -> Vec<(ObjectId, usize)> {
    let bytes = doc.bytes();
    let mut out = Vec::new();
    let mut at = from;
    while let Some(found) = find(&bytes[at..], b"obj") {
        let keyword = at + found;
        at = keyword + 3;
        let Some((start, id)) = object_header(bytes, keyword) else {
            continue;
        };
        if start < from {
            continue;
        }
        let mut parser = Parser::new(bytes, start);
        if parser.read_indirect_head(&|_| None).is_ok() {
            at = at.max(parser.pos());
        }
        if !doc.is_indexed(start) {
            out.push((id, start));
            if out.len() > MAX_CHANGED_OBJECTS {
                break;
            }
        }
    }
    out
}

/// The start and number of an object header `n g obj` whose keyword is at `keyword`.
fn object_header(bytes: &[u8], keyword: usize) -> Option<(usize, ObjectId)> {
    let after = bytes.get(keyword + 3).copied();
    if after.is_some_and(|b| !is_whitespace(b) && !is_delimiter(b)) {
        return None;
    }
    // Backwards: white space, the generation, white space, the number, a boundary.
    let mut i = keyword;
    let token = |i: &mut usize, digits: bool| -> Option<usize> {
        let end = *i;
        while *i > 0
            && (if digits {
                bytes[*i - 1].is_ascii_digit()
            } else {
                is_whitespace(bytes[*i - 1])
            })
        {
            *i -= 1;
        }
        (*i < end).then_some(end)
    };
    token(&mut i, false)?;
    let generation_end = token(&mut i, true)?;
    let generation_start = i;
    token(&mut i, false)?;
    let number_end = token(&mut i, true)?;
    let number_start = i;
    if number_start > 0
        && !is_whitespace(bytes[number_start - 1])
        && !is_delimiter(bytes[number_start - 1])
    {
        return None;
    }
    let number: u32 = std::str::from_utf8(&bytes[number_start..number_end])
        .ok()?
        .parse()
        .ok()?;
    let generation: u16 = std::str::from_utf8(&bytes[generation_start..generation_end])
        .ok()?
        .parse()
        .ok()?;
    Some((number_start, ObjectId::new(number, generation)))
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
}
