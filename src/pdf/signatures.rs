//! Finding the signatures of a PDF and the exact bytes each one leaves out (ISO 32000-2
//! §12.8.1): every signature field reachable from the AcroForm (through `/Kids`), and every other
//! signature dictionary in the file, since a dictionary that no field points at can still be
//! shown by some reader ("any /Sig dictionary reachable otherwise").

use std::collections::{BTreeMap, HashSet};

use super::Error;
use super::document::{Document, Location};
use super::object::{Dictionary, Object, ObjectId, decode_text_string};
use super::parser::{Head, Parser, find};

/// Fields walked in one form. Government forms have tens of fields; 100,000 bounds a looping
/// or hostile field tree.
const MAX_FIELDS: usize = 100_000;

/// What a signature dictionary is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureKind {
    /// An approval or certification signature (`/Type /Sig`).
    Signature,
    /// A document timestamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`).
    DocumentTimestamp,
}

/// One signature found in the document.
#[derive(Clone, Debug)]
pub struct FoundSignature {
    /// The signature dictionary's object.
    pub id: ObjectId,
    pub dictionary: Dictionary,
    /// Names of the fields whose `/V` is this dictionary (several fields may share one).
    pub field_names: Vec<String>,
    /// The field objects pointing at it.
    pub fields: Vec<ObjectId>,
    pub kind: SignatureKind,
}

impl FoundSignature {
    /// The name to show: the first field's, else the object reference (`12 0 R`: a name in no
    /// language, for the Vietnamese and the English report alike).
    pub fn name(&self) -> String {
        self.field_names
            .first()
            .cloned()
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// The signatures of `doc`, in the order their dictionaries appear in the file.
pub fn find_signatures(doc: &Document<'_>) -> Result<Vec<FoundSignature>, Error> {
    let mut found: BTreeMap<ObjectId, FoundSignature> = BTreeMap::new();
    let (_, catalog) = doc.catalog()?;
    if let Some(acroform) = catalog.get(b"AcroForm") {
        let acroform = doc.resolve(acroform)?;
        if let Some(fields) = acroform.as_dict().and_then(|a| a.get(b"Fields")) {
            let fields = doc.resolve(fields)?;
            let mut visited = HashSet::new();
            for field in fields.as_array().unwrap_or(&[]) {
                if let Some(id) = field.as_reference() {
                    walk_field(doc, id, None, "", &mut visited, &mut found)?;
                }
            }
        }
    }
    // Signature dictionaries no field points at. A stream is not one, and its data (a page's
    // content, an image) is not copied to find that out.
    for (id, _) in doc.locations() {
        if found.contains_key(&id) {
            continue;
        }
        if let Ok(Head::Object(Object::Dictionary(dict))) = doc.object_head(id)
            && let Some(kind) = signature_kind(&dict)
        {
            found.insert(
                id,
                FoundSignature {
                    id,
                    dictionary: dict,
                    field_names: Vec::new(),
                    fields: Vec::new(),
                    kind,
                },
            );
        }
    }
    let mut list: Vec<FoundSignature> = found.into_values().collect();
    list.sort_by_key(|s| match doc.location(s.id) {
        Some(Location::Offset(at)) => at,
        _ => usize::MAX,
    });
    Ok(list)
}

fn walk_field(
    doc: &Document<'_>,
    id: ObjectId,
    inherited_type: Option<Vec<u8>>,
    parent_name: &str,
    visited: &mut HashSet<ObjectId>,
    found: &mut BTreeMap<ObjectId, FoundSignature>,
) -> Result<(), Error> {
    if !visited.insert(id) || visited.len() > MAX_FIELDS {
        return Ok(());
    }
    let Ok(field) = doc.dictionary(id) else {
        return Ok(());
    };
    let field_type = field.name(b"FT").map(<[u8]>::to_vec).or(inherited_type);
    let partial = field
        .get(b"T")
        .and_then(Object::as_string)
        .map(decode_text_string);
    let name = match (&partial, parent_name.is_empty()) {
        (Some(p), true) => p.clone(),
        (Some(p), false) => format!("{parent_name}.{p}"),
        (None, _) => parent_name.to_owned(),
    };
    if field_type.as_deref() == Some(b"Sig")
        && let Some(value) = field.reference(b"V")
        && let Ok(Object::Dictionary(dict)) = doc.object(value)
    {
        let kind = signature_kind(&dict).unwrap_or(SignatureKind::Signature);
        let entry = found.entry(value).or_insert_with(|| FoundSignature {
            id: value,
            dictionary: dict,
            field_names: Vec::new(),
            fields: Vec::new(),
            kind,
        });
        if !name.is_empty() {
            entry.field_names.push(name.clone());
        }
        entry.fields.push(id);
    }
    if let Some(kids) = field.get(b"Kids") {
        let kids = doc.resolve(kids)?;
        for kid in kids.as_array().unwrap_or(&[]) {
            if let Some(kid) = kid.as_reference() {
                walk_field(doc, kid, field_type.clone(), &name, visited, found)?;
            }
        }
    }
    Ok(())
}

/// Whether a dictionary is a signature value: typed `/Sig` or `/DocTimeStamp`, or untyped with
/// the entries only a signature has (`/Type` is optional for signature dictionaries).
fn signature_kind(dict: &Dictionary) -> Option<SignatureKind> {
    if dict.has_type(b"DocTimeStamp") || dict.name(b"SubFilter") == Some(b"ETSI.RFC3161") {
        return Some(SignatureKind::DocumentTimestamp);
    }
    if dict.has_type(b"Sig")
        || (dict.get(b"ByteRange").is_some()
            && dict.get(b"Contents").is_some()
            && dict.get(b"Filter").is_some())
    {
        return Some(SignatureKind::Signature);
    }
    None
}

/// Where a signature dictionary's `/Contents` string lies in the file: `[start, end)` from the
/// `<` (or `(`) to one past the closing delimiter. A signature dictionary stored inside an object
/// stream has no such place: its `/Contents` is compressed with the rest of the stream, so no
/// byte range can leave it out — that is an error.
pub fn contents_span(doc: &Document<'_>, id: ObjectId) -> Result<(usize, usize), Error> {
    let Some(Location::Offset(offset)) = doc.location(id) else {
        return Err(Error::Structure(format!(
            "signature dictionary {id} is inside an object stream, so no byte range can exclude its /Contents"
        )));
    };
    let bytes = doc.bytes();
    let mut p = Parser::new(bytes, offset);
    p.read_unsigned();
    p.read_unsigned();
    if !p.eat_keyword(b"obj") {
        return Err(Error::Structure(format!(
            "object {id} does not start at its offset"
        )));
    }
    p.skip_whitespace();
    let spans = p.top_level_value_spans()?;
    spans
        .into_iter()
        .filter(|(key, _, _)| key == b"Contents")
        .map(|(_, start, end)| (start, end))
        .next_back()
        .ok_or_else(|| Error::Structure(format!("signature dictionary {id} has no /Contents")))
}

/// The signature's `/Reference` entries (signature reference dictionaries, ISO 32000-2 §12.8.1
/// Table 255) whose `/TransformMethod` is one of `methods` (`DocMDP`, `FieldMDP`, `UR3`, …), each
/// with its resolved `/TransformParams` (absent parameters mean the defaults).
pub fn transform_references(
    doc: &Document<'_>,
    signature: &Dictionary,
    methods: &[&[u8]],
) -> Vec<Option<Dictionary>> {
    let references = signature
        .get(b"Reference")
        .and_then(|r| doc.resolve(r).ok());
    references
        .as_ref()
        .and_then(Object::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(|reference| doc.resolve(reference).ok())
        .filter_map(|reference| reference.as_dict().cloned())
        .filter(|reference| {
            reference
                .name(b"TransformMethod")
                .is_some_and(|m| methods.contains(&m))
        })
        .map(|reference| {
            reference
                .get(b"TransformParams")
                .and_then(|p| doc.resolve(p).ok())
                .and_then(|p| p.as_dict().cloned())
        })
        .collect()
}

/// The DocMDP permission (`/P`) a certification signature grants (§12.8.2.2, Table 257): 2
/// when the signature has no DocMDP reference or no `/P`; values other than 1, 2, 3 are not
/// defined, and the strictest reading (1) is the safe one.
pub fn docmdp_level(doc: &Document<'_>, signature: &Dictionary) -> i64 {
    let p = transform_references(doc, signature, &[b"DocMDP"])
        .first()
        .map_or(2, |params| {
            params.as_ref().and_then(|p| p.integer(b"P")).unwrap_or(2)
        });
    if (1..=3).contains(&p) { p } else { 1 }
}

/// The offsets just past each `%%EOF` marker (and its end-of-line), in file order: the ends of
/// the file's revisions.
pub fn revision_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], b"%%EOF") {
        let mut end = from + at + 5;
        ends.push(end);
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        if end != from + at + 5 {
            ends.push(end);
        }
        from = end;
    }
    ends
}
