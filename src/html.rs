//! Text as HTML: the one escaping kyso's server-rendered pages use (the signing-rate report and
//! the printable verification record).
//!
//! Owns: escaping the five characters that could open markup or end an attribute, so text from
//! documents and certificates can go into element content and quoted attribute values. Refuses:
//! nothing; it is not a sanitiser for markup a caller meant to keep.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            super::escape(r#"<b a="x" c='y'>Sở & Ban</b>"#),
            "&lt;b a=&quot;x&quot; c=&#39;y&#39;&gt;Sở &amp; Ban&lt;/b&gt;"
        );
    }
}
