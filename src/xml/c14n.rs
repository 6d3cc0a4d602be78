//! Canonical XML 1.0 (W3C REC-xml-c14n-20010315) and Exclusive XML Canonicalization 1.0 (W3C
//! REC-xml-exc-c14n-20020718), with and without comments, over a whole document or any document
//! subset (XPath 1.0 node-set, C14N 1.0 §2.4).
//!
//! A subset is a [`NodeSet`]: a membership test for element, text, comment and PI nodes, and for the
//! attribute and namespace nodes of each element, exactly the XPath data model that both
//! recommendations are written against. XMLDSig needs two kinds, both [`Subtree`]s: the whole
//! document or one element (`URI=""`, `URI="#id"`), minus the enveloping signature
//! (enveloped-signature transform). Tests express the W3C vectors' XPath selections as closures.
//!
//! Not implemented (refused by the caller, never approximated): Canonical XML 1.1 and XPath
//! evaluation. Input is always a tree from [`super::parse`], so nesting depth is bounded and the
//! recursion here is too.

use roxmltree::{Attribute, Document, Node, NodeType};

/// `xml` prefix namespace; its namespace node is never rendered (C14N 1.0 §2.3).
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Whether comment nodes are part of the canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comments {
    Keep,
    Strip,
}

/// A canonicalization method with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Canonical XML 1.0: every in-scope namespace is rendered at the apex, and `xml:*`
    /// attributes are inherited from omitted ancestors.
    Inclusive(Comments),
    /// Canonical XML 1.1 (W3C REC-xml-c14n11-20080502): as 1.0, except that `xml:id` is not
    /// inherited. `xml:base` is inherited as written; the RFC 3986 joining §2.4 asks for when
    /// several omitted ancestors carry relative values is not done.
    Inclusive11(Comments),
    /// Exclusive C14N 1.0: only visibly utilized namespaces are rendered, plus those whose prefix is
    /// in the InclusiveNamespaces PrefixList (`""` stands for `#default`).
    Exclusive {
        comments: Comments,
        inclusive_prefixes: Vec<String>,
    },
}

impl Algorithm {
    pub const C14N: &'static str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    pub const C14N_WITH_COMMENTS: &'static str =
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
    pub const C14N11: &'static str = "http://www.w3.org/2006/12/xml-c14n11";
    pub const C14N11_WITH_COMMENTS: &'static str =
        "http://www.w3.org/2006/12/xml-c14n11#WithComments";
    pub const EXC_C14N: &'static str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    pub const EXC_C14N_WITH_COMMENTS: &'static str =
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

    /// The algorithm an `Algorithm` URI names, without parameters; `None` for anything else.
    pub fn from_uri(uri: &str) -> Option<Algorithm> {
        Some(match uri {
            Self::C14N => Algorithm::Inclusive(Comments::Strip),
            Self::C14N_WITH_COMMENTS => Algorithm::Inclusive(Comments::Keep),
            Self::C14N11 => Algorithm::Inclusive11(Comments::Strip),
            Self::C14N11_WITH_COMMENTS => Algorithm::Inclusive11(Comments::Keep),
            Self::EXC_C14N => Algorithm::Exclusive {
                comments: Comments::Strip,
                inclusive_prefixes: Vec::new(),
            },
            Self::EXC_C14N_WITH_COMMENTS => Algorithm::Exclusive {
                comments: Comments::Keep,
                inclusive_prefixes: Vec::new(),
            },
            _ => return None,
        })
    }

    /// The `Algorithm` URI of this method.
    pub fn uri(&self) -> &'static str {
        match self {
            Algorithm::Inclusive(Comments::Strip) => Self::C14N,
            Algorithm::Inclusive(Comments::Keep) => Self::C14N_WITH_COMMENTS,
            Algorithm::Inclusive11(Comments::Strip) => Self::C14N11,
            Algorithm::Inclusive11(Comments::Keep) => Self::C14N11_WITH_COMMENTS,
            Algorithm::Exclusive {
                comments: Comments::Strip,
                ..
            } => Self::EXC_C14N,
            Algorithm::Exclusive {
                comments: Comments::Keep,
                ..
            } => Self::EXC_C14N_WITH_COMMENTS,
        }
    }

    pub fn comments(&self) -> Comments {
        match self {
            Algorithm::Inclusive(c)
            | Algorithm::Inclusive11(c)
            | Algorithm::Exclusive { comments: c, .. } => *c,
        }
    }
}

/// A document subset in the XPath data model.
pub trait NodeSet {
    /// Whether an element, text, comment or PI node is in the set.
    fn contains(&self, node: Node<'_, '_>) -> bool;

    /// Whether attribute `attribute` of `owner` is in the set; by default, when its owner is.
    fn contains_attribute(&self, owner: Node<'_, '_>, _attribute: &Attribute<'_, '_>) -> bool {
        self.contains(owner)
    }

    /// Whether `owner`'s namespace node for `prefix` (`""` for the default) is in the set; by
    /// default, when its owner is.
    fn contains_namespace(&self, owner: Node<'_, '_>, _prefix: &str, _uri: &str) -> bool {
        self.contains(owner)
    }

    /// A node whose subtree holds every member, so the walk may start there instead of at the
    /// root. Starting lower changes nothing: no member sits outside it, and nodes outside the set
    /// contribute nothing but what the attribute and namespace rules look up explicitly.
    fn apex<'a, 'input>(&self, doc: &'a Document<'input>) -> Node<'a, 'input> {
        doc.root()
    }
}

/// Every node of one subtree (or of the whole document), minus excluded subtrees, with or
/// without comments: what `URI=""`, `URI="#id"` and the enveloped-signature transform select.
#[derive(Clone, Debug)]
pub struct Subtree {
    apex: roxmltree::NodeId,
    range: (usize, usize),
    excluded: Vec<(usize, usize)>,
    comments: Comments,
}

impl Subtree {
    /// `node` and all its descendants (the root node: the whole document).
    pub fn new(node: Node<'_, '_>, comments: Comments) -> Subtree {
        Subtree {
            apex: node.id(),
            range: id_range(node),
            excluded: Vec::new(),
            comments,
        }
    }

    /// Removes `node` and its descendants from the set.
    pub fn exclude(&mut self, node: Node<'_, '_>) {
        self.excluded.push(id_range(node));
    }

    /// Whether comments are in the set.
    pub fn comments(&self) -> Comments {
        self.comments
    }

    /// The node the subtree hangs from.
    pub fn apex_id(&self) -> roxmltree::NodeId {
        self.apex
    }
}

impl NodeSet for Subtree {
    fn contains(&self, node: Node<'_, '_>) -> bool {
        if node.is_comment() && self.comments == Comments::Strip {
            return false;
        }
        let id = node.id().get_usize();
        id >= self.range.0
            && id <= self.range.1
            && !self.excluded.iter().any(|&(a, b)| id >= a && id <= b)
    }

    fn apex<'a, 'input>(&self, doc: &'a Document<'input>) -> Node<'a, 'input> {
        doc.get_node(self.apex).unwrap_or_else(|| doc.root())
    }
}

/// First and last node ids of `node`'s subtree; ids are assigned in document order, so a subtree
/// is one contiguous run.
fn id_range(node: Node<'_, '_>) -> (usize, usize) {
    let first = node.id().get_usize();
    let mut n = node;
    loop {
        if let Some(next) = n.next_sibling() {
            return (first, next.id().get_usize() - 1);
        }
        match n.parent() {
            Some(p) => n = p,
            None => return (first, usize::MAX),
        }
    }
}

/// Canonicalizes the whole document.
pub fn canonicalize_document(doc: &Document<'_>, algorithm: &Algorithm) -> Vec<u8> {
    canonicalize(
        doc,
        &Subtree::new(doc.root(), algorithm.comments()),
        algorithm,
    )
}

/// Canonicalizes the subset `set` of `doc`.
pub fn canonicalize(doc: &Document<'_>, set: &dyn NodeSet, algorithm: &Algorithm) -> Vec<u8> {
    let mut c = Canonicalizer {
        out: Vec::new(),
        set,
        algorithm,
        input: doc.input_text(),
    };
    let apex = set.apex(doc);
    let context = Vec::new();
    if apex.is_root() {
        c.root(apex);
    } else {
        c.node(apex, &context, Position::Inside);
    }
    c.out
}

/// Where a comment or PI sits relative to the document element (C14N 1.0 §2.3: a line feed
/// separates top-level nodes from the document element).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Before,
    Inside,
    After,
}

/// Namespace nodes as `(prefix, uri)`, `""` for the default namespace. For C14N 1.0: the
/// namespace nodes in the set of the nearest ancestor element in the set; for Exclusive C14N: the
/// namespaces rendered by output ancestors.
type NsContext<'a> = Vec<(&'a str, &'a str)>;

struct Canonicalizer<'s, 'input> {
    out: Vec<u8>,
    set: &'s dyn NodeSet,
    algorithm: &'s Algorithm,
    input: &'input str,
}

impl<'input> Canonicalizer<'_, 'input> {
    fn root(&mut self, root: Node<'_, 'input>) {
        let context = Vec::new();
        let mut position = Position::Before;
        for child in root.children() {
            if child.is_element() {
                self.node(child, &context, Position::Inside);
                position = Position::After;
            } else {
                self.node(child, &context, position);
            }
        }
    }

    fn node<'a>(&mut self, node: Node<'a, 'input>, context: &NsContext<'a>, position: Position)
    where
        'input: 'a,
    {
        match node.node_type() {
            NodeType::Element => self.element(node, context),
            NodeType::Text => {
                if self.set.contains(node) {
                    escape_text(&mut self.out, node.text().unwrap_or(""));
                }
            }
            NodeType::Comment => {
                if self.algorithm.comments() == Comments::Keep && self.set.contains(node) {
                    if position == Position::After {
                        self.out.push(b'\n');
                    }
                    self.out.extend_from_slice(b"<!--");
                    self.out
                        .extend_from_slice(node.text().unwrap_or("").as_bytes());
                    self.out.extend_from_slice(b"-->");
                    if position == Position::Before {
                        self.out.push(b'\n');
                    }
                }
            }
            NodeType::PI => {
                if let (true, Some(pi)) = (self.set.contains(node), node.pi()) {
                    if position == Position::After {
                        self.out.push(b'\n');
                    }
                    self.out.extend_from_slice(b"<?");
                    self.out.extend_from_slice(pi.target.as_bytes());
                    if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                        self.out.push(b' ');
                        escape_pi(&mut self.out, value);
                    }
                    self.out.extend_from_slice(b"?>");
                    if position == Position::Before {
                        self.out.push(b'\n');
                    }
                }
            }
            NodeType::Root => self.root(node),
        }
    }

    fn element<'a>(&mut self, e: Node<'a, 'input>, context: &NsContext<'a>)
    where
        'input: 'a,
    {
        if !self.set.contains(e) {
            // C14N 1.0 §2.3: the namespace and attribute axes of an element outside the set are
            // still processed; the nodes of theirs that are in the set come out bare.
            self.orphans(e, context);
            for child in e.children() {
                self.node(child, context, Position::Inside);
            }
            return;
        }
        let qname = element_qname(self.input, e);
        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());

        let attributes: Vec<Attribute<'a, 'input>> = e
            .attributes()
            .filter(|a| self.set.contains_attribute(e, a))
            .collect();
        let (declarations, inner) = match self.algorithm {
            Algorithm::Inclusive(_) | Algorithm::Inclusive11(_) => {
                self.inclusive_namespaces(e, context)
            }
            Algorithm::Exclusive {
                inclusive_prefixes, ..
            } => self.exclusive_namespaces(e, &attributes, inclusive_prefixes, context),
        };
        self.write_namespaces(&declarations);

        // Attributes sort by namespace URI, then local name (C14N 1.0 §2.2); unqualified ones
        // have the empty URI and so come first.
        let mut rendered: Vec<(&str, &str, &str, &str)> = attributes
            .iter()
            .map(|a| attribute_entry(self.input, a))
            .collect();
        match self.algorithm {
            Algorithm::Inclusive(_) => inherit_xml_attributes(self.set, e, true, &mut rendered),
            Algorithm::Inclusive11(_) => inherit_xml_attributes(self.set, e, false, &mut rendered),
            Algorithm::Exclusive { .. } => {}
        }
        rendered.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        self.write_attributes(&rendered);
        self.out.push(b'>');
        for child in e.children() {
            self.node(child, &inner, Position::Inside);
        }
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
    }

    /// Namespace and attribute nodes in the set whose element is not. Under Exclusive C14N only
    /// the PrefixList's namespaces qualify: nothing is visibly utilized by an element not output.
    fn orphans<'a>(&mut self, e: Node<'a, 'input>, context: &NsContext<'a>)
    where
        'input: 'a,
    {
        let mut namespaces: NsContext<'a> = e
            .namespaces()
            .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
            .filter(|(prefix, uri)| !(prefix.is_empty() && uri.is_empty()))
            .filter(|(prefix, uri)| self.set.contains_namespace(e, prefix, uri))
            .filter(|n| !context.contains(n))
            .collect();
        if let Algorithm::Exclusive {
            inclusive_prefixes, ..
        } = self.algorithm
        {
            namespaces.retain(|(p, _)| inclusive_prefixes.iter().any(|q| q == p));
        }
        namespaces.sort();
        self.write_namespaces(&namespaces);
        let mut attributes: Vec<(&str, &str, &str, &str)> = e
            .attributes()
            .filter(|a| self.set.contains_attribute(e, a))
            .map(|a| attribute_entry(self.input, &a))
            .collect();
        attributes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        self.write_attributes(&attributes);
    }

    fn write_namespaces(&mut self, declarations: &[(&str, &str)]) {
        // A prefix the document used without declaring it, which the repair of
        // `parse::declare_missing_prefixes` bound to a placeholder so that it could be parsed:
        // libxml2 reads such a name as a plain name with a colon and no namespace, and
        // canonicalizes it with no declaration, so neither does kyso. Producers on libxml2
        // (xmlsec1, the SDKs) signed those bytes.
        for (prefix, uri) in declarations
            .iter()
            .filter(|(_, uri)| !uri.starts_with(super::parse::UNDECLARED_PREFIX_NAMESPACE))
        {
            if prefix.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(prefix.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            escape_attribute(&mut self.out, uri);
            self.out.push(b'"');
        }
    }

    fn write_attributes(&mut self, attributes: &[(&str, &str, &str, &str)]) {
        for (_, _, qname, value) in attributes {
            self.out.push(b' ');
            self.out.extend_from_slice(qname.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attribute(&mut self.out, value);
            self.out.push(b'"');
        }
    }

    /// C14N 1.0 §2.3 namespace axis: render each namespace node in the set unless the nearest
    /// output ancestor has the same one; `xmlns=""` when the default namespace is gone here but
    /// was rendered above. Returns the declarations and the context for the children.
    fn inclusive_namespaces<'a>(
        &self,
        e: Node<'a, 'input>,
        context: &NsContext<'a>,
    ) -> (NsContext<'a>, NsContext<'a>)
    where
        'input: 'a,
    {
        let mut inner: NsContext<'a> = e
            .namespaces()
            .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
            // `xmlns=""` is the absence of a default namespace node in XPath, not a node.
            .filter(|(prefix, uri)| !(prefix.is_empty() && uri.is_empty()))
            .filter(|(prefix, uri)| self.set.contains_namespace(e, prefix, uri))
            .collect();
        inner.sort();
        let mut declarations: NsContext<'a> = inner
            .iter()
            .filter(|n| !context.contains(n))
            .copied()
            .collect();
        let has_default = inner.iter().any(|(p, _)| p.is_empty());
        let parent_default = context.iter().any(|(p, u)| p.is_empty() && !u.is_empty());
        if !has_default && parent_default {
            declarations.insert(0, ("", ""));
        }
        (declarations, inner)
    }

    /// Exclusive C14N §3: a namespace node in the set is rendered when its prefix is visibly
    /// utilized (by the element's name or one of its attributes in the set) or listed in the
    /// PrefixList, unless the nearest output ancestor that considered the same prefix had the same
    /// node in the set. The context maps each considered prefix to the URI of that ancestor's
    /// namespace node in the set, `""` when it had none.
    fn exclusive_namespaces<'a>(
        &self,
        e: Node<'a, 'input>,
        attributes: &[Attribute<'a, 'input>],
        inclusive_prefixes: &[String],
        context: &NsContext<'a>,
    ) -> (NsContext<'a>, NsContext<'a>)
    where
        'input: 'a,
    {
        let in_scope: NsContext<'a> = e
            .namespaces()
            .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
            .collect();
        let mut candidates: Vec<&str> = vec![prefix_of(element_qname(self.input, e))];
        for a in attributes {
            let prefix = prefix_of(attribute_qname(self.input, a));
            if !prefix.is_empty() {
                candidates.push(prefix);
            }
        }
        for listed in inclusive_prefixes {
            if let Some((prefix, _)) = in_scope.iter().find(|(p, _)| p == listed) {
                candidates.push(prefix);
            } else if listed.is_empty() {
                candidates.push("");
            }
        }
        candidates.sort_unstable();
        candidates.dedup();

        let mut declarations: NsContext<'a> = Vec::new();
        let mut inner = context.clone();
        for prefix in candidates {
            if prefix == "xml" {
                continue;
            }
            let mut uri = in_scope
                .iter()
                .find(|(p, _)| *p == prefix)
                .map_or("", |(_, u)| *u);
            if !uri.is_empty() && !self.set.contains_namespace(e, prefix, uri) {
                uri = "";
            }
            let above = inner.iter().position(|(p, _)| *p == prefix);
            let above_uri = above.map(|i| inner[i].1);
            if !uri.is_empty() {
                if above_uri != Some(uri) {
                    declarations.push((prefix, uri));
                }
            } else if prefix.is_empty() && above_uri.is_some_and(|u| !u.is_empty()) {
                // The default namespace is gone here but an output ancestor declared one.
                declarations.push(("", ""));
            }
            match above {
                Some(i) => inner[i].1 = uri,
                None => inner.push((prefix, uri)),
            }
        }
        (declarations, inner)
    }
}

/// C14N 1.0 §2.4: an element whose parent element is not in the subset receives the `xml:*`
/// attributes of its ancestors, the nearest one winning, unless it has its own.
fn inherit_xml_attributes<'a>(
    set: &dyn NodeSet,
    e: Node<'a, '_>,
    with_id: bool,
    rendered: &mut Vec<(&'a str, &'a str, &'a str, &'a str)>,
) {
    let Some(parent) = e.parent_element() else {
        return;
    };
    if set.contains(parent) {
        return;
    }
    // Every ancestor counts, not only the omitted ones up to the nearest output ancestor: an
    // output ancestor may itself have inherited the attribute from further up (what libxml2 and
    // the merlin-c14n-three vectors do).
    let mut ancestor = Some(parent);
    while let Some(a) = ancestor {
        for attr in a.attributes() {
            if attr.namespace() == Some(XML_NS)
                && (with_id || attr.name() != "id")
                && !rendered
                    .iter()
                    .any(|(ns, local, _, _)| *ns == XML_NS && *local == attr.name())
            {
                rendered.push((XML_NS, attr.name(), xml_qname(attr.name()), attr.value()));
            }
        }
        ancestor = a.parent_element();
    }
}

/// `xml:` + local name for the few `xml:*` attributes that exist; anything else keeps a
/// generic spelling.
/// An attribute as it is sorted and written: (namespace URI, local name, qualified name, value).
/// One whose prefix the document never declared sorts as libxml2 reads it: no namespace, its
/// qualified name as its name (see `write_namespaces`).
fn attribute_entry<'a, 'input>(
    input: &'input str,
    a: &Attribute<'a, 'input>,
) -> (&'a str, &'a str, &'input str, &'a str)
where
    'input: 'a,
{
    let qname = attribute_qname(input, a);
    match a.namespace() {
        Some(ns) if ns.starts_with(super::parse::UNDECLARED_PREFIX_NAMESPACE) => {
            ("", qname, qname, a.value())
        }
        ns => (ns.unwrap_or(""), a.name(), qname, a.value()),
    }
}

fn xml_qname(local: &str) -> &'static str {
    match local {
        "lang" => "xml:lang",
        "space" => "xml:space",
        "base" => "xml:base",
        "id" => "xml:id",
        _ => "xml:unknown",
    }
}

/// The element's name as written in the source (prefix included), read from its byte range.
pub(crate) fn element_qname<'input>(input: &'input str, e: Node<'_, 'input>) -> &'input str {
    let start = e.range().start + 1;
    let rest = input.get(start..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The attribute's name as written in the source.
pub(crate) fn attribute_qname<'input>(
    input: &'input str,
    a: &Attribute<'_, 'input>,
) -> &'input str {
    input.get(a.range_qname()).unwrap_or_else(|| a.name())
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

fn escape_text(out: &mut Vec<u8>, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    })
}

fn escape_attribute(out: &mut Vec<u8>, s: &str) {
    escape(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    })
}

/// Copies `s`, replacing the bytes `replace` maps; runs without special bytes are copied whole
/// (most text has none, and this is the canonicalizer's hot loop).
fn escape(out: &mut Vec<u8>, s: &str, replace: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(r) = replace(b) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(r);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

fn escape_pi(out: &mut Vec<u8>, s: &str) {
    // PI content is written as is; the parser already normalized line ends.
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests;
