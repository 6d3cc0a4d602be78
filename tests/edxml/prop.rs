//! The namespace repair as a pure function of text: it never panics on markup soup, and on
//! any tree whose prefixes are plain names, declared or not, its output parses, declares
//! nothing more when repaired again, and is the input itself when nothing was undeclared.

use std::borrow::Cow;

use kyso::xml::Limits;
use kyso::xml::parse::{declare_missing_prefixes, parse};
use proptest::prelude::*;

const KNOWN: &[(&str, &str)] = kyso::edxml::KNOWN_PREFIXES;

/// An element: a prefix (or none), whether it declares its own prefix, an attribute with a
/// prefix (or none), children.
#[derive(Clone, Debug)]
struct Element {
    prefix: Option<&'static str>,
    declares: bool,
    attribute: Option<&'static str>,
    children: Vec<Element>,
}

fn element() -> impl Strategy<Value = Element> {
    let prefix = prop::option::of(prop_oneof![
        Just("edXML"),
        Just("xlink"),
        Just("p"),
        Just("q")
    ]);
    let leaf = (prefix.clone(), any::<bool>(), prefix.clone()).prop_map(
        |(prefix, declares, attribute)| Element {
            prefix,
            declares,
            attribute,
            children: Vec::new(),
        },
    );
    leaf.prop_recursive(5, 40, 4, move |inner| {
        (
            prefix.clone(),
            any::<bool>(),
            prefix.clone(),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(prefix, declares, attribute, children)| Element {
                prefix,
                declares,
                attribute,
                children,
            })
    })
}

fn write(e: &Element, out: &mut String) {
    let name = match e.prefix {
        Some(p) => format!("{p}:e"),
        None => "e".to_owned(),
    };
    out.push('<');
    out.push_str(&name);
    if let (true, Some(p)) = (e.declares, e.prefix) {
        out.push_str(&format!(" xmlns:{p}=\"urn:test:{p}\""));
    }
    if let Some(p) = e.attribute {
        out.push_str(&format!(" {p}:a=\"1\""));
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &e.children {
        write(child, out);
    }
    out.push_str(&format!("</{name}>"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_repair_never_panics_on_markup_soup(parts in prop::collection::vec(
        prop_oneof![
            Just("<a>"), Just("</a>"), Just("<p:b x:y='1'>"), Just("</p:b>"), Just("<edXML:c/>"),
            Just("<!--"), Just("-->"), Just("<![CDATA["), Just("]]>"), Just("<?p "), Just("?>"),
            Just("xmlns:p='u'"), Just("<q:d xmlns:q='v'>"), Just("</q:d>"), Just("="), Just("\""),
            Just("'"), Just(">"), Just("<"), Just("Việt"), Just(":"), Just("<:x/>"), Just("<a:/>"),
        ],
        0..40,
    )) {
        let text: String = parts.concat();
        let _ = declare_missing_prefixes(&text, KNOWN, &Limits::default());
        let _ = declare_missing_prefixes(&text, &[], &Limits::default());
    }

    #[test]
    fn a_repaired_tree_parses_and_needs_no_second_repair(root in element(), known in any::<bool>()) {
        let mut text = String::new();
        write(&root, &mut text);
        let known = if known { KNOWN } else { &[] };
        let (repaired, declared) = declare_missing_prefixes(&text, known, &Limits::default()).unwrap();
        prop_assert!(parse(&repaired, &Limits::default()).is_ok(), "{} → {}", text, repaired);
        if declared.is_empty() {
            prop_assert!(matches!(repaired, Cow::Borrowed(_)));
            prop_assert!(parse(&text, &Limits::default()).is_ok(), "{}", text);
        } else {
            prop_assert!(parse(&text, &Limits::default()).is_err(), "{}", text);
        }
        let (again, more) = declare_missing_prefixes(&repaired, known, &Limits::default()).unwrap();
        prop_assert!(more.is_empty(), "{:?}", more);
        prop_assert!(matches!(again, Cow::Borrowed(_)));
    }
}
