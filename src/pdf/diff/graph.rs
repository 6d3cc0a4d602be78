//! The reference graph of one revision: what is reachable from the trailer, who refers to
//! each object, under which keys, and so where an object belongs (its page, or the annotation
//! whose appearance it is).

use std::collections::{HashMap, HashSet, VecDeque};

use super::roles::is_annotation;
use crate::pdf::{Dictionary, Document, Head, Object, ObjectId};

/// Most objects walked when building one revision's reference graph. A 2,000-page tagged report
/// has a few hundred thousand objects; past this bound the graph is marked incomplete and the
/// rules that need it (unreferenced objects) stop explaining anything.
const MAX_GRAPH_OBJECTS: usize = 500_000;

/// Most references followed from an object up to the annotation whose appearance owns it:
/// widget → `/AP` dictionary → `/N` state dictionary → form XObject → nested form XObjects
/// (pyHanko's and Acrobat's layered `n0`/`n2` appearances are four deep).
const MAX_APPEARANCE_DEPTH: usize = 6;

/// Most objects visited looking upwards for the page an object belongs to; a content stream is
/// one hop from its page, an appearance's image three or four.
const MAX_PAGE_SEARCH: usize = 256;

/// Who refers to what in one revision: the objects reachable from the trailer's `/Root` and
/// `/Info`, and for each referenced object number the objects (or the trailer) that refer to it.
/// Dangling references are recorded too: a reference to an object that does not exist yet is
/// exactly what a shadow attack fills in later.
pub(super) struct Graph {
    pub(super) reachable: HashSet<ObjectId>,
    pub(super) referrers: HashMap<ObjectId, Vec<Holder>>,
    /// False when [`MAX_GRAPH_OBJECTS`] stopped the walk.
    pub(super) complete: bool,
    /// What [`page_of`] reads of each reachable dictionary, taken while the walk has it parsed:
    /// looking up the page of every changed object would otherwise parse the same objects
    /// again for each (a 400 KB document's first revision took 250 ms, and 10 s under ASan).
    page_links: HashMap<ObjectId, PageLink>,
}

/// Of one dictionary: its `/P` (an annotation's page) and whether it is a page tree node or the
/// catalog, which the upward search for a page does not cross.
#[derive(Clone, Copy, Debug)]
struct PageLink {
    parent_page: Option<ObjectId>,
    tree_or_catalog: bool,
}

impl PageLink {
    fn of(dict: &crate::pdf::Dictionary) -> PageLink {
        PageLink {
            parent_page: dict.reference(b"P"),
            tree_or_catalog: dict.has_type(b"Pages") || dict.has_type(b"Catalog"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Holder {
    Trailer,
    Object(ObjectId),
}

impl Graph {
    pub(super) fn build(doc: &Document<'_>) -> Graph {
        let mut graph = Graph {
            reachable: HashSet::new(),
            referrers: HashMap::new(),
            complete: true,
            page_links: HashMap::new(),
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
            // An object that cannot be read refers to nothing a reader could follow either. A
            // stream refers only through its dictionary: its data is not read.
            let Ok(head) = doc.object_head(id) else {
                continue;
            };
            let mut references = Vec::new();
            match &head {
                Head::Object(object) => {
                    if let Object::Dictionary(d) = object {
                        graph.page_links.insert(id, PageLink::of(d));
                    }
                    collect_references(object, &mut references);
                }
                Head::Stream { dict, .. } => {
                    graph.page_links.insert(id, PageLink::of(dict));
                    dict.iter()
                        .for_each(|(_, v)| collect_references(v, &mut references));
                }
            }
            references.sort_unstable();
            references.dedup();
            for r in references {
                graph.edge(Holder::Object(id), r, &mut queue);
            }
        }
        graph
    }

    pub(super) fn edge(&mut self, from: Holder, to: ObjectId, queue: &mut VecDeque<ObjectId>) {
        self.referrers.entry(to).or_default().push(from);
        if self.reachable.insert(to) {
            queue.push_back(to);
        }
    }

    pub(super) fn holders(&self, id: ObjectId) -> &[Holder] {
        self.referrers.get(&id).map_or(&[], Vec::as_slice)
    }
}

pub(super) fn collect_references(object: &Object, out: &mut Vec<ObjectId>) {
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
pub(super) fn paths_to(object: &Object, target: ObjectId) -> Vec<Vec<Vec<u8>>> {
    pub(super) fn walk(
        o: &Object,
        target: ObjectId,
        path: &mut Vec<Vec<u8>>,
        out: &mut Vec<Vec<Vec<u8>>>,
    ) {
        match o {
            Object::Reference(r) if *r == target => out.push(path.clone()),
            Object::Array(items) => items.iter().for_each(|i| walk(i, target, path, out)),
            Object::Dictionary(d) => walk_dict(d, target, path, out),
            Object::Stream(s) => walk_dict(&s.dict, target, path, out),
            _ => {}
        }
    }
    pub(super) fn walk_dict(
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

/// The 1-based page an object belongs to: the page itself, or the first page found walking up
/// from the object through the objects that refer to it (a content stream's page, an
/// annotation's page, an appearance's annotation's page). The page tree's inner nodes are not
/// crossed: what they hold (inherited resources) belongs to every page below them.
pub(super) fn page_of(
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
        // Objects outside the walk (an orphan, the changed object itself) are read here.
        let link = match graph.page_links.get(&current) {
            Some(link) => Some(*link),
            None => doc.dictionary(current).ok().map(|d| PageLink::of(&d)),
        };
        if let Some(link) = link {
            if let Some(n) = link.parent_page.and_then(|p| pages.get(&p)) {
                return Some(*n);
            }
            if link.tree_or_catalog {
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

/// The annotations whose appearance (under `/AP`, directly or through appearance
/// sub-dictionaries and form XObjects' resources) uses `id`, provided nothing else does; `None`
/// when something else does (a page, the trailer, a non-appearance key) or nothing does.
pub(super) fn appearance_owners(
    doc: &Document<'_>,
    graph: &Graph,
    id: ObjectId,
) -> Option<Vec<ObjectId>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
