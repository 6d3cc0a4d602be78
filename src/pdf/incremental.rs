//! Writing an incremental update (ISO 32000-2 §7.5.6): new and changed objects appended after
//! the original bytes, with a cross-reference section of the same kind as the one before it
//! (table after a table, stream after a stream) whose `/Prev` points at the previous section.
//! The original bytes are never touched, which is what keeps earlier signatures valid.

use super::document::{Document, XrefKind};
use super::object::{Dictionary, Object, ObjectId, Stream, StringFormat, write_object};

/// An update being assembled against `doc`.
pub struct IncrementalUpdate<'d, 'a> {
    doc: &'d Document<'a>,
    next_number: u32,
    objects: Vec<(ObjectId, Object)>,
}

/// The appended bytes, and where each object landed in them.
pub struct WrittenUpdate {
    pub bytes: Vec<u8>,
    /// Offsets relative to the start of `bytes`.
    pub offsets: Vec<(ObjectId, usize)>,
}

impl<'d, 'a> IncrementalUpdate<'d, 'a> {
    pub fn new(doc: &'d Document<'a>) -> Self {
        IncrementalUpdate {
            doc,
            next_number: doc.size().max(1),
            objects: Vec::new(),
        }
    }

    /// A fresh object number.
    pub fn allocate(&mut self) -> ObjectId {
        let id = ObjectId::new(self.next_number, 0);
        self.next_number += 1;
        id
    }

    /// Adds (or replaces) an object in the update.
    pub fn put(&mut self, id: ObjectId, object: impl Into<Object>) {
        let object = object.into();
        match self.objects.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 = object,
            None => self.objects.push((id, object)),
        }
    }

    /// Writes the update. `id_second` becomes the second element of the trailer's `/ID`
    /// (the first stays the document's permanent identifier, §14.4).
    pub fn write(mut self, id_second: &[u8]) -> WrittenUpdate {
        let base = self.doc.len();
        let mut out = Vec::new();
        // The original may end without an end-of-line after %%EOF.
        if !self.doc.ends_with_eol() {
            out.push(b'\n');
        }
        let mut offsets = Vec::with_capacity(self.objects.len() + 1);
        for (id, object) in &self.objects {
            offsets.push((*id, out.len()));
            out.extend_from_slice(format!("{} {} obj\n", id.number, id.generation).as_bytes());
            write_object(&mut out, object);
            out.extend_from_slice(b"\nendobj\n");
        }

        let mut trailer = Dictionary::new();
        for key in [&b"Root"[..], b"Info"] {
            if let Some(v) = self.doc.trailer().get(key) {
                trailer.set(key, v.clone());
            }
        }
        let first_id = match self.doc.trailer().get(b"ID").and_then(Object::as_array) {
            Some([first, ..]) => first.clone(),
            _ => Object::String(id_second.to_vec(), StringFormat::Hex),
        };
        trailer.set(
            b"ID",
            Object::Array(vec![
                first_id,
                Object::String(id_second.to_vec(), StringFormat::Hex),
            ]),
        );
        trailer.set(b"Prev", Object::Integer(self.doc.last_startxref() as i64));

        match self.doc.last_xref_kind() {
            XrefKind::Table => {
                let xref_at = out.len();
                trailer.set(b"Size", Object::Integer(i64::from(self.next_number)));
                out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
                for (start, run) in runs(&offsets) {
                    out.extend_from_slice(format!("{start} {}\n", run.len()).as_bytes());
                    for (id, offset) in run {
                        // Each entry is exactly 20 bytes (§7.5.4).
                        out.extend_from_slice(
                            format!("{:010} {:05} n \n", base + offset, id.generation).as_bytes(),
                        );
                    }
                }
                out.extend_from_slice(b"trailer\n");
                write_object(&mut out, &Object::Dictionary(trailer));
                out.extend_from_slice(
                    format!("\nstartxref\n{}\n%%EOF\n", base + xref_at).as_bytes(),
                );
            }
            XrefKind::Stream => {
                let xref_id = self.allocate();
                let xref_at = out.len();
                offsets.push((xref_id, xref_at));
                let size = self.next_number;
                let width = offset_width(base + out.len());
                let mut index = Vec::new();
                let mut data = Vec::new();
                for (start, run) in runs(&offsets) {
                    index.push(Object::Integer(i64::from(start)));
                    index.push(Object::Integer(run.len() as i64));
                    for (id, offset) in run {
                        data.push(1u8);
                        data.extend_from_slice(&(base + offset).to_be_bytes()[8 - width..]);
                        data.extend_from_slice(&id.generation.to_be_bytes());
                    }
                }
                let mut dict = trailer;
                dict.set(b"Type", Object::name(b"XRef"));
                dict.set(b"Size", Object::Integer(i64::from(size)));
                dict.set(b"Index", Object::Array(index));
                dict.set(
                    b"W",
                    Object::Array(vec![
                        Object::Integer(1),
                        Object::Integer(width as i64),
                        Object::Integer(2),
                    ]),
                );
                out.extend_from_slice(format!("{} 0 obj\n", xref_id.number).as_bytes());
                write_object(&mut out, &Object::Stream(Stream { dict, data }));
                out.extend_from_slice(b"\nendobj\n");
                out.extend_from_slice(format!("startxref\n{}\n%%EOF\n", base + xref_at).as_bytes());
            }
        }
        WrittenUpdate {
            bytes: out,
            offsets,
        }
    }
}

/// Bytes needed for an offset up to `max` in a cross-reference stream entry.
fn offset_width(max: usize) -> usize {
    let bits = usize::BITS - max.leading_zeros();
    (bits as usize).div_ceil(8).max(4)
}

/// Groups entries into runs of consecutive object numbers, sorted.
fn runs(offsets: &[(ObjectId, usize)]) -> Vec<(u32, Vec<(ObjectId, usize)>)> {
    let mut sorted = offsets.to_vec();
    sorted.sort_by_key(|(id, _)| id.number);
    let mut out: Vec<(u32, Vec<(ObjectId, usize)>)> = Vec::new();
    for entry in sorted {
        match out.last_mut() {
            Some((start, run))
                if u32::try_from(run.len())
                    .ok()
                    .and_then(|len| start.checked_add(len))
                    == Some(entry.0.number) =>
            {
                run.push(entry)
            }
            _ => out.push((entry.0.number, vec![entry])),
        }
    }
    out
}
