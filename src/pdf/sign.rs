//! Signing a PDF by incremental update, as a chain of types so that no step can be skipped
//! (ISO 32000-2 §12.8.1, ETSI EN 319 142-1):
//!
//! [`PreparedPdf`] (field, widget and `/Sig` dictionary appended, `/Contents` reserved, byte range
//! fixed) → [`DigestedPdf`] (the two byte ranges hashed) → [`SignedPdf`] (the CMS written into
//! the reserved space). Each step consumes the previous value.
//!
//! The original bytes are borrowed and never copied: the digest is computed over them in place,
//! and [`SignedPdf::write_to`] streams them out followed by the update, so a 200 MB document costs
//! one copy in memory, not two.

use std::io::Write;

use time::OffsetDateTime;

use super::Error;
use super::appearance::{self, PageRotation, VisibleSignature};
use super::diff::FieldLock;
use super::document::Document;
use super::incremental::IncrementalUpdate;
use super::object::{Dictionary, Object, ObjectId, StringFormat, decode_text_string, text_string};
use super::parser::find;
use crate::pdf_dict;
use crate::signer::DigestAlgorithm;

/// What the `/Sig` dictionary and its field say.
#[derive(Clone, Debug)]
pub struct SignatureOptions {
    /// The field's name (`/T`); `None` picks `Signature1`, `Signature2`, … whichever is free.
    pub field_name: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact_info: Option<String>,
    /// The signer's name as claimed in `/Name` (the certificate remains the authority).
    pub name: Option<String>,
    /// The claimed signing time (`/M`), written in Asia/Ho_Chi_Minh time.
    pub signing_time: OffsetDateTime,
    /// Bytes reserved for the CMS SignedData (written as twice as many hex digits).
    pub contents_size: usize,
    /// Page (0-based) carrying the signature's widget annotation.
    pub page: usize,
    /// Where the signature shows on `page`, and what it shows; `None` (the default) makes an
    /// invisible signature: a widget with a zero rectangle and no appearance.
    pub visible: Option<VisibleSignature>,
    /// Certify the document (ISO 32000-2 §12.8.2.2): which later changes the signer permits.
    /// `None` (the default) makes an approval signature. Only the first signature may certify.
    pub certification: Option<DocMdp>,
    /// Fields this signature locks (FieldMDP, §12.8.2.4): later changes to them are not
    /// permitted. Written as a FieldMDP `/Reference` and as the field's `/Lock`.
    pub lock: Option<FieldLock>,
    /// A document time-stamp instead of a signature (ETSI EN 319 142-1 §5.4, ISO 32000-2
    /// §12.8.5): `/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`, `/Contents` an RFC 3161
    /// token over the byte ranges; no `/M`, name or reason (the token's time is the time), and
    /// permitted after a DocMDP P=1 certification, which permits validation data and document
    /// time-stamps.
    pub document_timestamp: bool,
}

/// The changes a certification permits after it (ISO 32000-2 §12.8.2.2, Table 257 `/P`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocMdp {
    /// P=1: no change at all (document timestamps and validation data excepted, ETSI EN 319
    /// 142-1 §5.4).
    NoChanges,
    /// P=2: filling in forms, instantiating page templates, signing.
    FormFilling,
    /// P=3: as P=2, and annotations.
    Annotations,
}

impl DocMdp {
    /// The `/P` value.
    pub fn p(self) -> i64 {
        match self {
            DocMdp::NoChanges => 1,
            DocMdp::FormFilling => 2,
            DocMdp::Annotations => 3,
        }
    }
}

impl SignatureOptions {
    /// Options for a signature made now, with room for `contents_size` bytes of CMS.
    pub fn new(signing_time: OffsetDateTime, contents_size: usize) -> Self {
        SignatureOptions {
            field_name: None,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            signing_time,
            contents_size,
            page: 0,
            visible: None,
            certification: None,
            lock: None,
            document_timestamp: false,
        }
    }
}

/// A document with a signature field appended and space reserved for the signature.
pub struct PreparedPdf<'a> {
    original: &'a [u8],
    appended: Vec<u8>,
    /// Offsets in `appended` of the `<` opening `/Contents` and one past its `>`.
    contents: (usize, usize),
    field_name: String,
}

/// A prepared document whose signed byte ranges have been hashed.
pub struct DigestedPdf<'a> {
    prepared: PreparedPdf<'a>,
    algorithm: DigestAlgorithm,
    digest: Vec<u8>,
}

/// A signed document: the original bytes followed by the signature's incremental update, and
/// any updates appended after it (the DSS of PAdES B-LT).
pub struct SignedPdf<'a> {
    original: &'a [u8],
    appended: Vec<u8>,
    /// Offsets in `appended` of the `<` opening the signature's `/Contents` and one past its `>`.
    contents: (usize, usize),
    field_name: String,
}

impl<'a> PreparedPdf<'a> {
    /// Appends a signature field to `original`. Fails on documents kyso cannot read, encrypted
    /// documents, and documents whose certification (DocMDP P=1) forbids any change.
    pub fn prepare(
        original: &'a [u8],
        options: &SignatureOptions,
    ) -> Result<PreparedPdf<'a>, Error> {
        let doc = Document::parse(original)?;
        if docmdp_permission(&doc)? == Some(1) && !options.document_timestamp {
            return Err(Error::Refused(
                "the document is certified with DocMDP P=1: no change, not even a new signature, is permitted".into(),
            ));
        }
        if options.certification.is_some() && has_signatures(&doc)? {
            return Err(Error::Refused(
                "only the first signature of a document may certify it (ISO 32000-2 §12.8.2.2)"
                    .into(),
            ));
        }
        let pages = doc.pages()?;
        let page_id = *pages.get(options.page).ok_or_else(|| {
            Error::Refused(format!(
                "page {} does not exist: the document has {} page(s)",
                options.page + 1,
                pages.len()
            ))
        })?;

        let mut update = IncrementalUpdate::new(&doc);
        let sig_id = update.allocate();
        let field_id = update.allocate();
        let field_name = add_to_form(&doc, &mut update, options, field_id, sig_id)?;
        add_to_page(&doc, &mut update, page_id, field_id)?;
        let field = widget(&doc, &mut update, options, &field_name, page_id, sig_id)?;
        update.put(field_id, field);
        update.put(sig_id, signature_dictionary(options));

        let id_second = DigestAlgorithm::Sha256.digest(
            format!(
                "{}{}",
                options.signing_time.unix_timestamp_nanos(),
                original.len()
            )
            .as_bytes(),
        )[..16]
            .to_vec();
        let written = update.write(&id_second);
        let sig_offset = written
            .offsets
            .iter()
            .find(|(id, _)| *id == sig_id)
            .map(|(_, at)| *at)
            .expect("BUG: the signature dictionary was written");
        let mut appended = written.bytes;
        // /ByteRange and /Contents are the dictionary's first entries, so the first match after
        // the object header is ours, whatever the reason or location strings contain.
        let contents_start = sig_offset
            + find(&appended[sig_offset..], b"/Contents <")
                .expect("BUG: the signature dictionary holds /Contents")
            + b"/Contents ".len();
        let contents_end = contents_start + 2 * options.contents_size + 2;
        let prepared = PreparedPdf {
            original,
            appended: Vec::new(),
            contents: (contents_start, contents_end),
            field_name,
        };
        let range = prepared.byte_range_for(appended.len());
        write_byte_range(&mut appended, sig_offset, range)?;
        Ok(PreparedPdf {
            appended,
            ..prepared
        })
    }

    /// The `/ByteRange`: everything but the `/Contents` hex string.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range_for(self.appended.len())
    }

    fn byte_range_for(&self, appended_len: usize) -> [usize; 4] {
        let base = self.original.len();
        let (start, end) = (base + self.contents.0, base + self.contents.1);
        [0, start, end, base + appended_len - end]
    }

    /// The signature field's name.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// Hashes the two byte ranges.
    pub fn digest(self, algorithm: DigestAlgorithm) -> DigestedPdf<'a> {
        let mut hasher = algorithm.hasher();
        // The original lies wholly inside the first range; hashing it in 1 MiB pieces keeps the
        // hasher's working set in cache.
        for chunk in self.original.chunks(1 << 20) {
            hasher.update(chunk);
        }
        hasher.update(&self.appended[..self.contents.0]);
        hasher.update(&self.appended[self.contents.1..]);
        DigestedPdf {
            digest: hasher.finish(),
            algorithm,
            prepared: self,
        }
    }
}

/// Adds the signature field to the form (an indirect `/AcroForm` updated in place, a direct one
/// rewritten with the catalog, or a new one), sets `/SigFlags`, and for a certification names
/// the signature in `/Perms /DocMDP`. Returns the field's name: the one asked for (refused if
/// taken) or the first free `SignatureN`.
fn add_to_form(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate<'_, '_>,
    options: &SignatureOptions,
    field_id: ObjectId,
    sig_id: ObjectId,
) -> Result<String, Error> {
    let (catalog_id, mut catalog) = doc.catalog()?;
    let mut catalog_changed = false;
    let (acroform_id, mut acroform) = match catalog.get(b"AcroForm") {
        Some(Object::Reference(r)) => (Some(*r), doc.dictionary(*r)?),
        Some(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let (fields_id, mut fields) = match acroform.get(b"Fields") {
        Some(Object::Reference(r)) => (
            Some(*r),
            doc.object(*r)?
                .as_array()
                .map(<[Object]>::to_vec)
                .unwrap_or_default(),
        ),
        Some(Object::Array(a)) => (None, a.clone()),
        _ => (None, Vec::new()),
    };
    let taken = field_names(doc, &fields)?;
    let field_name = match &options.field_name {
        Some(name) if taken.iter().any(|n| n == name) => {
            return Err(Error::Refused(format!(
                "a field named `{name}` already exists"
            )));
        }
        Some(name) => name.clone(),
        None => (1..)
            .map(|n| format!("Signature{n}"))
            .find(|n| !taken.contains(n))
            .expect("BUG: an unbounded range always yields a free name"),
    };
    fields.push(Object::Reference(field_id));
    match fields_id {
        Some(id) => update.put(id, Object::Array(fields)),
        None => acroform.set(b"Fields", Object::Array(fields)),
    }
    // SignaturesExist | AppendOnly (§12.7.3, Table 225): readers must save incrementally.
    acroform.set(b"SigFlags", Object::Integer(3));
    match acroform_id {
        Some(id) => update.put(id, acroform),
        None => {
            catalog.set(b"AcroForm", acroform);
            catalog_changed = true;
        }
    }
    if options.certification.is_some() {
        catalog.set(b"Perms", pdf_dict! { b"DocMDP" => sig_id });
        catalog_changed = true;
    }
    if catalog_changed {
        update.put(catalog_id, catalog);
    }
    Ok(field_name)
}

/// Puts the widget into the page's `/Annots` (an indirect array is updated in place).
fn add_to_page(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate<'_, '_>,
    page_id: ObjectId,
    field_id: ObjectId,
) -> Result<(), Error> {
    let mut page = doc.dictionary(page_id)?;
    match page.get(b"Annots") {
        Some(Object::Reference(r)) => {
            let mut annots = doc
                .object(*r)?
                .as_array()
                .map(<[Object]>::to_vec)
                .unwrap_or_default();
            annots.push(Object::Reference(field_id));
            update.put(*r, Object::Array(annots));
        }
        other => {
            let mut annots = other
                .and_then(Object::as_array)
                .map(<[Object]>::to_vec)
                .unwrap_or_default();
            annots.push(Object::Reference(field_id));
            page.set(b"Annots", Object::Array(annots));
            update.put(page_id, page);
        }
    }
    Ok(())
}

/// A merged field/widget dictionary with the print + locked flags (§12.5.3): invisible with a
/// zero rectangle, or visible with its appearance stream (§12.7.5.5); a FieldMDP lock when asked.
fn widget(
    doc: &Document<'_>,
    update: &mut IncrementalUpdate<'_, '_>,
    options: &SignatureOptions,
    field_name: &str,
    page_id: ObjectId,
    sig_id: ObjectId,
) -> Result<Dictionary, Error> {
    let mut field = pdf_dict! {
        b"Type" => Object::name(b"Annot"),
        b"Subtype" => Object::name(b"Widget"),
        b"FT" => Object::name(b"Sig"),
        b"T" => text_string(field_name),
        b"V" => sig_id,
        b"F" => 132i64,
        b"Rect" => Object::Array(vec![0i64.into(), 0i64.into(), 0i64.into(), 0i64.into()]),
        b"P" => page_id,
    };
    if let Some(visible) = &options.visible {
        let rotation = check_placement(doc, page_id, options.page, visible)?;
        let form = appearance::write(
            &visible.appearance,
            visible.rect,
            rotation,
            options.signing_time,
            update,
        )?;
        field.set(
            b"Rect",
            Object::Array(
                visible
                    .rect
                    .corners()
                    .iter()
                    .map(|v| Object::Real(*v))
                    .collect(),
            ),
        );
        field.set(b"AP", pdf_dict! { b"N" => form });
    }
    if let Some(lock) = &options.lock {
        let mut dict = lock_dictionary(lock);
        dict.set(b"Type", Object::name(b"SigFieldLock"));
        field.set(b"Lock", dict);
    }
    Ok(field)
}

/// Writes the final `/ByteRange` over the placeholder the signature dictionary reserved at
/// `sig_offset`, padded inside the brackets so that no byte moves.
fn write_byte_range(
    appended: &mut [u8],
    sig_offset: usize,
    range: [usize; 4],
) -> Result<(), Error> {
    let range_at = sig_offset
        + find(&appended[sig_offset..], b"/ByteRange [")
            .expect("BUG: the signature dictionary holds /ByteRange")
        + b"/ByteRange ".len();
    let range_end = range_at
        + find(&appended[range_at..], b"]").expect("BUG: the byte range array is closed")
        + 1;
    let text = format!("[{} {} {} {}]", range[0], range[1], range[2], range[3]);
    let width = range_end - range_at;
    if text.len() > width {
        return Err(Error::Unsupported("a document over 9 GB".into()));
    }
    appended[range_at..range_end].copy_from_slice(format!("{text:<width$}").as_bytes());
    // Keep the closing bracket last: pad inside the array.
    if text.len() < width {
        let pad = &mut appended[range_at..range_end];
        pad[text.len() - 1] = b' ';
        pad[width - 1] = b']';
    }
    Ok(())
}

impl<'a> DigestedPdf<'a> {
    /// The digest of the signed byte ranges: the CMS `messageDigest`.
    pub fn message_digest(&self) -> &[u8] {
        &self.digest
    }

    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// Writes the DER CMS into the reserved space.
    pub fn embed(self, cms: &[u8]) -> Result<SignedPdf<'a>, Error> {
        let PreparedPdf {
            original,
            mut appended,
            contents: (start, end),
            field_name,
        } = self.prepared;
        let room = (end - start - 2) / 2;
        if cms.len() > room {
            return Err(Error::ContentsTooSmall {
                needed: cms.len(),
                reserved: room,
            });
        }
        super::object::hex_upper_into(&mut appended[start + 1..start + 1 + 2 * cms.len()], cms);
        Ok(SignedPdf {
            original,
            appended,
            contents: (start, end),
            field_name,
        })
    }
}

impl SignedPdf<'_> {
    /// Streams the signed document: the original bytes, then the update.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(self.original)?;
        out.write_all(&self.appended)
    }

    /// The signed document in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(self.original);
        out.extend_from_slice(&self.appended);
        out
    }

    pub fn len(&self) -> usize {
        self.original.len() + self.appended.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The signature field's name.
    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// The signature's `/Contents` string: the CMS and the zeros padding it to the reserved
    /// size. Its SHA-1 names the signature in the DSS `/VRI` dictionary.
    pub fn signature_contents(&self) -> Vec<u8> {
        let (start, end) = self.contents;
        hex::decode(&self.appended[start + 1..end - 1])
            .expect("BUG: kyso wrote /Contents as upper-case hex digits")
    }

    /// The signed document as kyso reads documents, for a further update (the DSS).
    pub fn document(&self) -> Result<Document<'_>, Error> {
        Document::parse_updated(self.original, &self.appended)
    }

    /// Where in [`SignedPdf::update`] the signature's `/Contents` hex string lies (from its
    /// `<` to one past its `>`): the gap between the byte ranges.
    pub fn contents_span(&self) -> (usize, usize) {
        self.contents
    }

    /// Everything appended to the original: the signature's update and those after it.
    pub fn update(&self) -> &[u8] {
        &self.appended
    }

    /// Appends an incremental update written against [`SignedPdf::document`].
    pub fn append_update(&mut self, update: &[u8]) {
        self.appended.extend_from_slice(update);
    }
}

/// The `/Sig` dictionary with `/ByteRange` and `/Contents` placeholders first.
fn signature_dictionary(options: &SignatureOptions) -> Dictionary {
    // Ten digits per offset: room for documents up to 9.9 GB.
    let placeholder = Object::Array(vec![
        Object::Integer(0),
        Object::Integer(9_999_999_999),
        Object::Integer(9_999_999_999),
        Object::Integer(9_999_999_999),
    ]);
    let mut dict = pdf_dict! {
        b"ByteRange" => placeholder,
        b"Contents" => Object::String(vec![0; options.contents_size], StringFormat::Hex),
    };
    if options.document_timestamp {
        dict.set(b"Type", Object::name(b"DocTimeStamp"));
        dict.set(b"Filter", Object::name(b"Adobe.PPKLite"));
        dict.set(b"SubFilter", Object::name(b"ETSI.RFC3161"));
        return dict;
    }
    dict.set(b"Type", Object::name(b"Sig"));
    dict.set(b"Filter", Object::name(b"Adobe.PPKLite"));
    dict.set(b"SubFilter", Object::name(b"ETSI.CAdES.detached"));
    dict.set(
        b"M",
        Object::literal(pdf_date(options.signing_time).into_bytes()),
    );
    let mut references = Vec::new();
    if let Some(level) = options.certification {
        references.push(Object::Dictionary(pdf_dict! {
            b"Type" => Object::name(b"SigRef"),
            b"TransformMethod" => Object::name(b"DocMDP"),
            b"TransformParams" => pdf_dict! {
                b"Type" => Object::name(b"TransformParams"),
                b"P" => level.p(),
                b"V" => Object::name(b"1.2"),
            },
        }));
    }
    if let Some(lock) = &options.lock {
        let mut params = lock_dictionary(lock);
        params.set(b"Type", Object::name(b"TransformParams"));
        params.set(b"V", Object::name(b"1.2"));
        references.push(Object::Dictionary(pdf_dict! {
            b"Type" => Object::name(b"SigRef"),
            b"TransformMethod" => Object::name(b"FieldMDP"),
            b"TransformParams" => params,
        }));
    }
    if !references.is_empty() {
        dict.set(b"Reference", Object::Array(references));
    }
    for (key, value) in [
        (&b"Name"[..], &options.name),
        (b"Reason", &options.reason),
        (b"Location", &options.location),
        (b"ContactInfo", &options.contact_info),
    ] {
        if let Some(v) = value {
            dict.set(key, text_string(v));
        }
    }
    dict
}

/// `/Action` and `/Fields` of a FieldMDP lock (§12.8.2.4 Table 258, §12.7.5.5 Table 236).
fn lock_dictionary(lock: &FieldLock) -> Dictionary {
    let names = |names: &[String]| Object::Array(names.iter().map(|n| text_string(n)).collect());
    match lock {
        FieldLock::All => pdf_dict! { b"Action" => Object::name(b"All") },
        FieldLock::Include(fields) => pdf_dict! {
            b"Action" => Object::name(b"Include"),
            b"Fields" => names(fields),
        },
        FieldLock::Exclude(fields) => pdf_dict! {
            b"Action" => Object::name(b"Exclude"),
            b"Fields" => names(fields),
        },
    }
}

/// Whether any signature field of the document holds a signature, or it is certified.
fn has_signatures(doc: &Document<'_>) -> Result<bool, Error> {
    if docmdp_permission(doc)?.is_some() {
        return Ok(true);
    }
    Ok(!super::signatures::find_signatures(doc)?.is_empty())
}

/// A PDF date (§7.9.4) in Vietnam's time, UTC+7 (no daylight saving since 1975).
pub fn pdf_date(at: OffsetDateTime) -> String {
    let local = at.to_offset(crate::VIETNAM);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+07'00'",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// Checks that the visible signature's rectangle lies within the page's visible area (its
/// `CropBox`, by default its `MediaBox`), and returns the page's rotation.
fn check_placement(
    doc: &Document<'_>,
    page_id: ObjectId,
    page_index: usize,
    visible: &VisibleSignature,
) -> Result<PageRotation, Error> {
    let page_box = page_box(doc, page_id, page_index)?;
    let rect = visible.rect.corners();
    // A hundredth of a point of slack: boxes computed in floating point by other tools round.
    let slack = 0.01;
    let inside = rect[0] >= page_box[0] - slack
        && rect[1] >= page_box[1] - slack
        && rect[2] <= page_box[2] + slack
        && rect[3] <= page_box[3] + slack;
    if !inside {
        return Err(Error::RectangleOffPage {
            page: page_index + 1,
            rect,
            page_box,
        });
    }
    let rotate = doc
        .page_attribute(page_id, b"Rotate")?
        .and_then(|r| r.as_integer())
        .unwrap_or(0);
    Ok(PageRotation::from_degrees(rotate))
}

/// The visible area of a page (`/CropBox`, else `/MediaBox`, inherited as §7.7.3.4 says).
pub(super) fn page_box(
    doc: &Document<'_>,
    page_id: ObjectId,
    page_index: usize,
) -> Result<[f64; 4], Error> {
    match doc.page_attribute(page_id, b"CropBox")? {
        Some(crop) => crop.as_rectangle(),
        None => None,
    }
    .or(doc
        .page_attribute(page_id, b"MediaBox")?
        .as_ref()
        .and_then(Object::as_rectangle))
    .ok_or_else(|| Error::Structure(format!("page {} has no usable /MediaBox", page_index + 1)))
}

/// Names of the top-level fields.
fn field_names(doc: &Document<'_>, fields: &[Object]) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for field in fields {
        if let Some(d) = doc.resolve(field)?.as_dict()
            && let Some(t) = d.get(b"T").and_then(Object::as_string)
        {
            names.push(decode_text_string(t));
        }
    }
    Ok(names)
}

/// The DocMDP permission level of a certified document (§12.8.2.2), if it is certified.
pub(crate) fn docmdp_permission(doc: &Document<'_>) -> Result<Option<i64>, Error> {
    let (_, catalog) = doc.catalog()?;
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(None);
    };
    let perms = doc.resolve(perms)?;
    let Some(sig) = perms.as_dict().and_then(|p| p.get(b"DocMDP")) else {
        return Ok(None);
    };
    let sig = doc.resolve(sig)?;
    Ok(Some(match sig.as_dict() {
        Some(sig) => super::signatures::docmdp_level(doc, sig),
        None => 2,
    }))
}
