//! The document security store (DSS): validation data kept in the PDF itself so that a
//! signature can be validated long after its CAs and responders are gone (ISO 32000-2
//! §12.8.4.3; ETSI EN 319 142-1 §5.4.2, PAdES baseline B-LT).
//!
//! Owns: writing one incremental update that adds certificates, CRLs and OCSP responses to the
//! document's `/DSS`, merged with a DSS already there. Data already stored is referenced, not
//! stored twice; every existing stream and `/VRI` entry is kept byte for byte, because
//! validators (pyHanko's DSS rule) treat a changed or removed `/VRI` entry as a suspicious
//! modification. Each signature named gets a `/VRI` entry listing its data, which Acrobat uses
//! to find it quickly. Documents below PDF 2.0 get the `ESIC` extension declaration
//! (`/Extensions << /ESIC << /BaseVersion /1.7 /ExtensionLevel 5 >> >>`) that PAdES part 4 asks
//! of PDF 1.7 files carrying a DSS.
//!
//! Refuses: nothing a readable document can hold. It does not judge the data: gathering and
//! checking it is `pki`'s job (see `pades`). It works on any [`Document`], so a signature made
//! elsewhere can be augmented later; a B-LTA document timestamp would be one more update after
//! this one.

use std::collections::HashMap;

use super::Error;
use super::document::Document;
use super::filter;
use super::incremental::IncrementalUpdate;
use super::object::{Dictionary, Object, ObjectId, Stream};
use crate::pdf_dict;
use crate::signer::DigestAlgorithm;

/// Existing DSS entries read back (decoded) to avoid storing data twice. A document signed by a
/// few dozen officials at B-LT holds a few hundred; past this many, further existing entries are
/// kept but not compared, so the worst case is a duplicate, never a loss.
const MAX_EXISTING_ENTRIES: usize = 10_000;

/// DER-encoded validation data: certificates, CRLs and OCSP responses (`OCSPResponse`, RFC 6960
/// §4.2.1, as `/OCSPs` holds them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationData {
    pub certificates: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    pub ocsp_responses: Vec<Vec<u8>>,
}

impl ValidationData {
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty() && self.crls.is_empty() && self.ocsp_responses.is_empty()
    }

    /// Adds `other`'s items not already present.
    pub fn merge(&mut self, other: &ValidationData) {
        for (mine, theirs) in [
            (&mut self.certificates, &other.certificates),
            (&mut self.crls, &other.crls),
            (&mut self.ocsp_responses, &other.ocsp_responses),
        ] {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
    }
}

/// The validation data a document's `/DSS` holds (ISO 32000-2 §12.8.4.3): every stream of
/// `/Certs`, `/CRLs` and `/OCSPs`, decoded, in order; streams that cannot be read are skipped
/// (a verifier judges what they would have proved by what is missing). Empty without a DSS.
pub fn read(doc: &Document<'_>) -> ValidationData {
    let mut data = ValidationData::default();
    let Some(store) = doc
        .catalog()
        .ok()
        .and_then(|(_, catalog)| catalog.get(b"DSS").and_then(|d| doc.resolve(d).ok()))
    else {
        return data;
    };
    let Some(store) = store.as_dict() else {
        return data;
    };
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        store
            .get(key)
            .and_then(|a| doc.resolve(a).ok())
            .and_then(|a| a.as_array().map(<[Object]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|r| match doc.resolve(r).ok()? {
                Object::Stream(s) => super::decode(&s).ok(),
                _ => None,
            })
            .collect()
    };
    data.certificates = streams(b"Certs");
    data.crls = streams(b"CRLs");
    data.ocsp_responses = streams(b"OCSPs");
    data
}

/// Validation data to store, and the signature it is for.
#[derive(Clone, Copy, Debug)]
pub struct DssEntry<'a> {
    /// The signature's `/Contents` string as stored (the CMS and its zero padding). The data is
    /// also listed under the signature's `/VRI` key, the upper-case hex SHA-1 of these bytes,
    /// unless that key exists already (it is then left as it is). `None` adds the data to the
    /// document-wide arrays only.
    pub signature_contents: Option<&'a [u8]>,
    pub data: &'a ValidationData,
}

/// The `/VRI` key of a signature: the upper-case hex SHA-1 of its `/Contents` bytes.
pub fn vri_key(signature_contents: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        signature_contents,
    );
    hex::encode_upper(digest.as_ref())
}

/// Writes the incremental update adding `entries` to `doc`'s DSS. The bytes are to be appended
/// to the document exactly as `doc` was read.
pub fn dss_update(doc: &Document<'_>, entries: &[DssEntry<'_>]) -> Result<Vec<u8>, Error> {
    let (catalog_id, mut catalog) = doc.catalog()?;
    let (dss_id, mut dss) = match catalog.get(b"DSS") {
        Some(Object::Reference(r)) => (Some(*r), doc.dictionary(*r)?),
        Some(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let mut update = IncrementalUpdate::new(doc);
    let mut catalog_changed = false;

    let mut stores = [
        Store::read(doc, &dss, b"Certs")?,
        Store::read(doc, &dss, b"CRLs")?,
        Store::read(doc, &dss, b"OCSPs")?,
    ];
    let mut vri = match dss.get(b"VRI") {
        Some(v) => doc.resolve(v)?.as_dict().cloned().unwrap_or_default(),
        None => Dictionary::new(),
    };
    let mut seed = DigestAlgorithm::Sha256.hasher();
    seed.update(&doc.len().to_be_bytes());
    for entry in entries {
        let lists = [
            &entry.data.certificates,
            &entry.data.crls,
            &entry.data.ocsp_responses,
        ];
        let mut references: [Vec<Object>; 3] = Default::default();
        for ((store, items), refs) in stores.iter_mut().zip(lists).zip(&mut references) {
            for der in items {
                seed.update(der);
                let id = store.add(der, &mut update);
                if !refs.contains(&Object::Reference(id)) {
                    refs.push(Object::Reference(id));
                }
            }
        }
        let Some(contents) = entry.signature_contents else {
            continue;
        };
        let key = vri_key(contents);
        if vri.get(key.as_bytes()).is_some() {
            continue;
        }
        let mut signature_vri = Dictionary::new();
        for (name, refs) in [&b"Cert"[..], b"CRL", b"OCSP"].into_iter().zip(references) {
            if !refs.is_empty() {
                signature_vri.set(name, Object::Array(refs));
            }
        }
        vri.set(key.as_bytes(), signature_vri);
    }

    dss.set(b"Type", Object::name(b"DSS"));
    for store in stores {
        if !store.array.is_empty() {
            dss.set(store.key, Object::Array(store.array));
        }
    }
    if !vri.is_empty() {
        dss.set(b"VRI", vri);
    }
    match dss_id {
        Some(id) => update.put(id, dss),
        None => {
            let id = update.allocate();
            update.put(id, dss);
            catalog.set(b"DSS", id);
            catalog_changed = true;
        }
    }

    if pdf_version(doc, &catalog) < (2, 0) {
        catalog_changed |= declare_esic(doc, &mut catalog, &mut update)?;
    }
    if catalog_changed {
        update.put(catalog_id, catalog);
    }
    Ok(update.write(&seed.finish()[..16]).bytes)
}

/// One of the DSS arrays (`/Certs`, `/CRLs`, `/OCSPs`) and what it already holds.
struct Store {
    key: &'static [u8],
    array: Vec<Object>,
    /// SHA-256 of each stored item's data → its stream.
    known: HashMap<Vec<u8>, ObjectId>,
}

impl Store {
    fn read(doc: &Document<'_>, dss: &Dictionary, key: &'static [u8]) -> Result<Store, Error> {
        let array = match dss.get(key) {
            Some(a) => doc.resolve(a)?.as_array().map(<[Object]>::to_vec),
            None => None,
        }
        .unwrap_or_default();
        let mut known = HashMap::new();
        for item in array.iter().take(MAX_EXISTING_ENTRIES) {
            let Some(id) = item.as_reference() else {
                continue;
            };
            // An entry kyso cannot decode is kept and simply not compared.
            if let Object::Stream(stream) = doc.object(id)?
                && let Ok(data) = filter::decode(&stream)
            {
                known.insert(DigestAlgorithm::Sha256.digest(&data), id);
            }
        }
        Ok(Store { key, array, known })
    }

    /// The stream holding `der`: the existing one, or a new one added to the update.
    fn add(&mut self, der: &[u8], update: &mut IncrementalUpdate<'_, '_>) -> ObjectId {
        let hash = DigestAlgorithm::Sha256.digest(der);
        if let Some(id) = self.known.get(&hash) {
            return *id;
        }
        let id = update.allocate();
        // Stored unfiltered: DER compresses poorly, and every reader takes a plain stream.
        update.put(
            id,
            Stream {
                dict: Dictionary::new(),
                data: der.to_vec(),
            },
        );
        self.array.push(Object::Reference(id));
        self.known.insert(hash, id);
        id
    }
}

/// The document's version: the header's, or the catalog's `/Version` if later (§7.2.2).
fn pdf_version(doc: &Document<'_>, catalog: &Dictionary) -> (u32, u32) {
    let parse = |text: &[u8]| -> Option<(u32, u32)> {
        let text = std::str::from_utf8(text).ok()?;
        let (major, minor) = text.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    };
    let header = parse(doc.version().as_bytes()).unwrap_or((1, 7));
    let declared = catalog.name(b"Version").and_then(parse);
    declared.map_or(header, |d| d.max(header))
}

/// Adds the ESIC developer extension (PAdES part 4, ETSI EN 319 142-1 §5.4.2 for PDF 1.7) unless
/// an equal or later one is declared. Returns whether the catalog itself changed (an indirect
/// `/Extensions` dictionary is updated in place instead).
fn declare_esic(
    doc: &Document<'_>,
    catalog: &mut Dictionary,
    update: &mut IncrementalUpdate<'_, '_>,
) -> Result<bool, Error> {
    let (extensions_id, mut extensions) = match catalog.get(b"Extensions") {
        Some(Object::Reference(r)) => (Some(*r), doc.dictionary(*r)?),
        Some(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    let declared = match extensions.get(b"ESIC") {
        Some(e) => doc
            .resolve(e)?
            .as_dict()
            .and_then(|d| d.integer(b"ExtensionLevel")),
        None => None,
    };
    if declared.is_some_and(|level| level >= 5) {
        return Ok(false);
    }
    extensions.set(
        b"ESIC",
        pdf_dict! {
            b"BaseVersion" => Object::name(b"1.7"),
            b"ExtensionLevel" => 5i64,
        },
    );
    match extensions_id {
        Some(id) => {
            update.put(id, extensions);
            Ok(false)
        }
        None => {
            catalog.set(b"Extensions", extensions);
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample::{SampleOptions, sample_pdf};

    fn data(tag: u8) -> ValidationData {
        ValidationData {
            certificates: vec![vec![0x30, 0x01, tag], vec![0x30, 0x01, 0xEE]],
            crls: vec![vec![0x30, 0x02, tag, 0]],
            ocsp_responses: vec![vec![0x30, 0x03, tag, 0, 0]],
        }
    }

    fn dss_of(bytes: &[u8]) -> (Document<'_>, Dictionary) {
        let doc = Document::parse(bytes).unwrap();
        let (_, catalog) = doc.catalog().unwrap();
        let dss = doc.resolve(catalog.get(b"DSS").unwrap()).unwrap();
        let dss = dss.as_dict().unwrap().clone();
        (doc, dss)
    }

    fn stored(doc: &Document<'_>, dss: &Dictionary, key: &[u8]) -> Vec<Vec<u8>> {
        dss.get(key)
            .and_then(Object::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|r| match doc.resolve(r).unwrap() {
                Object::Stream(s) => filter::decode(&s).unwrap(),
                other => panic!("not a stream: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn writes_a_dss_with_vri_and_esic() {
        let original = sample_pdf(&SampleOptions::default());
        let contents = b"signature contents";
        let first = data(1);
        let update = dss_update(
            &Document::parse(&original).unwrap(),
            &[DssEntry {
                signature_contents: Some(contents),
                data: &first,
            }],
        )
        .unwrap();
        let bytes = [original.clone(), update].concat();
        let (doc, dss) = dss_of(&bytes);
        assert_eq!(stored(&doc, &dss, b"Certs"), first.certificates);
        assert_eq!(stored(&doc, &dss, b"CRLs"), first.crls);
        assert_eq!(stored(&doc, &dss, b"OCSPs"), first.ocsp_responses);
        let vri = dss.get(b"VRI").and_then(Object::as_dict).unwrap();
        let key = vri_key(contents);
        assert_eq!(key.len(), 40);
        assert_eq!(key, key.to_uppercase());
        let entry = vri.get(key.as_bytes()).and_then(Object::as_dict).unwrap();
        assert_eq!(
            entry.get(b"Cert").and_then(Object::as_array).unwrap().len(),
            2
        );
        let (_, catalog) = doc.catalog().unwrap();
        let esic = catalog
            .get(b"Extensions")
            .and_then(Object::as_dict)
            .and_then(|e| e.get(b"ESIC"))
            .and_then(Object::as_dict)
            .unwrap();
        assert_eq!(esic.integer(b"ExtensionLevel"), Some(5));
        assert_eq!(esic.name(b"BaseVersion"), Some(&b"1.7"[..]));
    }

    #[test]
    fn merges_with_an_existing_dss_without_duplicates() {
        let original = sample_pdf(&SampleOptions::default());
        let first = data(1);
        let once = [
            original.clone(),
            dss_update(
                &Document::parse(&original).unwrap(),
                &[DssEntry {
                    signature_contents: Some(b"first"),
                    data: &first,
                }],
            )
            .unwrap(),
        ]
        .concat();
        let (doc, dss) = dss_of(&once);
        let first_vri = dss.get(b"VRI").unwrap().clone();
        drop(doc);

        // The second signer shares one certificate (the CA) with the first.
        let second = data(2);
        let twice = [
            once.clone(),
            dss_update(
                &Document::parse(&once).unwrap(),
                &[DssEntry {
                    signature_contents: Some(b"second"),
                    data: &second,
                }],
            )
            .unwrap(),
        ]
        .concat();
        let (doc, dss) = dss_of(&twice);
        let certs = stored(&doc, &dss, b"Certs");
        assert_eq!(certs.len(), 3, "the shared certificate is stored once");
        assert_eq!(stored(&doc, &dss, b"CRLs").len(), 2);
        let vri = dss.get(b"VRI").and_then(Object::as_dict).unwrap();
        assert_eq!(vri.len(), 2);
        let old_key = vri_key(b"first");
        assert_eq!(
            vri.get(old_key.as_bytes()),
            first_vri.as_dict().unwrap().get(old_key.as_bytes()),
            "the first signature's VRI entry is kept as it was"
        );
        // The ESIC declaration is not repeated.
        let (_, catalog) = doc.catalog().unwrap();
        assert!(catalog.get(b"Extensions").is_some());
    }

    #[test]
    fn reads_a_document_with_its_update_in_another_buffer() {
        let original = sample_pdf(&SampleOptions::default());
        let first = data(1);
        let update = dss_update(
            &Document::parse(&original).unwrap(),
            &[DssEntry {
                signature_contents: None,
                data: &first,
            }],
        )
        .unwrap();
        let split = Document::parse_updated(&original, &update).unwrap();
        let joined_bytes = [original.clone(), update.clone()].concat();
        let joined = Document::parse(&joined_bytes).unwrap();
        assert_eq!(split.len(), joined_bytes.len());
        assert_eq!(split.catalog().unwrap(), joined.catalog().unwrap());
        let second = data(2);
        let next = dss_update(
            &split,
            &[DssEntry {
                signature_contents: None,
                data: &second,
            }],
        )
        .unwrap();
        let all = [joined_bytes, next].concat();
        let (doc, dss) = dss_of(&all);
        assert_eq!(stored(&doc, &dss, b"Certs").len(), 3);
        assert!(dss.get(b"VRI").is_none());
    }
}
