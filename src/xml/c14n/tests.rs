use super::*;

fn c14n(xml: &str, algorithm: &Algorithm) -> String {
    let doc = crate::xml::parse::parse(xml, &crate::xml::Limits::default()).unwrap();
    String::from_utf8(canonicalize_document(&doc, algorithm)).unwrap()
}

const INCLUSIVE: Algorithm = Algorithm::Inclusive(Comments::Strip);

fn exclusive(prefixes: &[&str]) -> Algorithm {
    Algorithm::Exclusive {
        comments: Comments::Strip,
        inclusive_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn c14n_spec_3_2_whitespace_and_empty_elements() {
    let got = c14n(
        "<?xml version=\"1.0\"?>\n<!-- c -->\n<doc>\r\n  <e1   />\n  <e2 b='2'   a=\"1\"></e2>\n</doc>\n<?pi  x ?>",
        &INCLUSIVE,
    );
    assert_eq!(
        got,
        "<doc>\n  <e1></e1>\n  <e2 a=\"1\" b=\"2\"></e2>\n</doc>\n<?pi x ?>"
    );
    let with_comments = c14n(
        "<!-- c --><doc/><!--d-->",
        &Algorithm::Inclusive(Comments::Keep),
    );
    assert_eq!(with_comments, "<!-- c -->\n<doc></doc>\n<!--d-->");
}

#[test]
fn attribute_and_text_escaping() {
    let got = c14n(
        "<a x='&lt;&amp;&quot;&#9;&#10;&#13;>'>&lt;&amp;&gt;&#13;\"'</a>",
        &INCLUSIVE,
    );
    assert_eq!(
        got,
        "<a x=\"&lt;&amp;&quot;&#x9;&#xA;&#xD;>\">&lt;&amp;&gt;&#xD;\"'</a>"
    );
}

#[test]
fn namespaces_sorted_and_superfluous_ones_dropped() {
    let got = c14n(
        "<a xmlns:b='urn:b' xmlns='urn:d' b:z='1' y='2' xmlns:a='urn:a' a:y='3'><b:c xmlns:b='urn:b' xmlns=''/></a>",
        &INCLUSIVE,
    );
    assert_eq!(
        got,
        "<a xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" y=\"2\" a:y=\"3\" b:z=\"1\"><b:c xmlns=\"\"></b:c></a>"
    );
}

#[test]
fn exclusive_renders_only_visibly_utilized() {
    let xml = "<a xmlns:p='urn:p' xmlns:q='urn:q' xmlns='urn:d'><p:b q:x='1'><c/></p:b></a>";
    let doc = crate::xml::parse::parse(xml, &crate::xml::Limits::default()).unwrap();
    let b = doc.descendants().find(|n| n.has_tag_name("b")).unwrap();
    let set = Subtree::new(b, Comments::Strip);
    let got = String::from_utf8(canonicalize(&doc, &set, &exclusive(&[]))).unwrap();
    assert_eq!(
        got,
        "<p:b xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" q:x=\"1\"><c xmlns=\"urn:d\"></c></p:b>"
    );
    let got = String::from_utf8(canonicalize(
        &doc,
        &set,
        &exclusive(&["#default"].map(|p| if p == "#default" { "" } else { p })),
    ))
    .unwrap();
    assert_eq!(
        got,
        "<p:b xmlns=\"urn:d\" xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" q:x=\"1\"><c></c></p:b>"
    );
    // Inclusive C14N of the same subtree carries every in-scope namespace.
    let got = String::from_utf8(canonicalize(&doc, &set, &INCLUSIVE)).unwrap();
    assert_eq!(
        got,
        "<p:b xmlns=\"urn:d\" xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" q:x=\"1\"><c></c></p:b>"
    );
}

#[test]
fn exclusive_undeclares_default_namespace() {
    let got = c14n("<a xmlns='urn:d'><b xmlns=''/></a>", &exclusive(&[]));
    assert_eq!(got, "<a xmlns=\"urn:d\"><b xmlns=\"\"></b></a>");
    let got = c14n("<p:a xmlns:p='urn:p'><b xmlns=''/></p:a>", &exclusive(&[]));
    assert_eq!(got, "<p:a xmlns:p=\"urn:p\"><b></b></p:a>");
}

#[test]
fn subtree_inherits_xml_attributes_inclusive_only() {
    let xml = "<a xml:lang='vi' xml:space='preserve'><b xml:lang='en'><c/></b></a>";
    let doc = crate::xml::parse::parse(xml, &crate::xml::Limits::default()).unwrap();
    let c = doc.descendants().find(|n| n.has_tag_name("c")).unwrap();
    let set = Subtree::new(c, Comments::Strip);
    let got = String::from_utf8(canonicalize(&doc, &set, &INCLUSIVE)).unwrap();
    assert_eq!(got, "<c xml:lang=\"en\" xml:space=\"preserve\"></c>");
    let got = String::from_utf8(canonicalize(&doc, &set, &exclusive(&[]))).unwrap();
    assert_eq!(got, "<c></c>");
}

#[test]
fn excluded_subtree_leaves_surrounding_text() {
    let xml = "<a>\n  <s><x/></s>\n</a>";
    let doc = crate::xml::parse::parse(xml, &crate::xml::Limits::default()).unwrap();
    let s = doc.descendants().find(|n| n.has_tag_name("s")).unwrap();
    let mut set = Subtree::new(doc.root(), Comments::Strip);
    set.exclude(s);
    let got = String::from_utf8(canonicalize(&doc, &set, &INCLUSIVE)).unwrap();
    assert_eq!(got, "<a>\n  \n</a>");
}

#[test]
fn vietnamese_text_passes_through() {
    assert_eq!(
        c14n("<a t='Hà Nội'>Ủy ban nhân dân</a>", &INCLUSIVE),
        "<a t=\"Hà Nội\">Ủy ban nhân dân</a>"
    );
}

#[test]
fn c14n11_does_not_inherit_xml_id() {
    let xml = "<a xml:id='i' xml:lang='vi'><b/></a>";
    let doc = crate::xml::parse::parse(xml, &crate::xml::Limits::default()).unwrap();
    let b = doc.descendants().find(|n| n.has_tag_name("b")).unwrap();
    let set = Subtree::new(b, Comments::Strip);
    let v10 = String::from_utf8(canonicalize(&doc, &set, &INCLUSIVE)).unwrap();
    assert_eq!(v10, "<b xml:id=\"i\" xml:lang=\"vi\"></b>");
    let v11 = Algorithm::Inclusive11(Comments::Strip);
    let got = String::from_utf8(canonicalize(&doc, &set, &v11)).unwrap();
    assert_eq!(got, "<b xml:lang=\"vi\"></b>");
    assert_eq!(Algorithm::from_uri(v11.uri()), Some(v11));
}
