//! An element as the Rust code that builds it, for regression tests.

use std::fmt::Write as _;

use crate::element::TestElement;

impl TestElement {
    /// The element as Rust code that builds it (`TestElement::text("hi")`,
    /// `TestElement::json(serde_json::json!({"n":1})).sequence(3)`, ...), for
    /// regression tests.
    ///
    /// ```
    /// use torvyn_testkit::TestElement;
    ///
    /// let element = TestElement::text("a#b").sequence(2);
    /// assert_eq!(element.to_code(), r#"TestElement::text("a#b").sequence(2)"#);
    /// ```
    pub fn to_code(&self) -> String {
        let bytes = self.payload.as_bytes();
        let (mut code, default_type) = match self.content_type.as_str() {
            "application/json" => match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(value) if value.to_string().as_bytes() == bytes => {
                    let text = value.to_string();
                    let code =
                        if text.contains("\\u") || text.contains("\\b") || text.contains("\\f") {
                            format!(
                                "TestElement::json(serde_json::from_str({}).unwrap())",
                                raw_string(&text)
                            )
                        } else {
                            format!("TestElement::json(serde_json::json!({text}))")
                        };
                    (code, "application/json")
                }
                _ => bytes_code(bytes),
            },
            _ => match std::str::from_utf8(bytes) {
                Ok(text) if self.content_type.starts_with("text/") => (
                    format!("TestElement::text({text:?})"),
                    "text/plain; charset=utf-8",
                ),
                _ => bytes_code(bytes),
            },
        };
        if self.content_type != default_type {
            let _ = write!(code, ".content_type({:?})", self.content_type);
        }
        if self.sequence != 0 {
            let _ = write!(code, ".sequence({})", self.sequence);
        }
        if self.timestamp_ns != 0 {
            let _ = write!(code, ".timestamp_ns({})", self.timestamp_ns);
        }
        if !self.trace_id.is_empty() {
            let _ = write!(code, ".trace_id({:?})", self.trace_id.text());
        }
        if !self.span_id.is_empty() {
            let _ = write!(code, ".span_id({:?})", self.span_id);
        }
        if self.deadline_ns != 0 {
            let _ = write!(
                code,
                ".deadline(std::time::Duration::from_nanos({}))",
                self.deadline_ns
            );
        }
        code
    }
}

fn bytes_code(bytes: &[u8]) -> (String, &'static str) {
    (
        format!("TestElement::bytes(b\"{}\")", bytes.escape_ascii()),
        "application/octet-stream",
    )
}

/// `text` as a raw string literal with enough `#`s.
pub(super) fn raw_string(text: &str) -> String {
    let mut hashes = 0;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let hashes = "#".repeat(hashes);
    format!("r{hashes}\"{text}\"{hashes}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_print_as_code_that_builds_them() {
        assert_eq!(
            TestElement::json(serde_json::json!({"a": [1, "x\n"]})).to_code(),
            r#"TestElement::json(serde_json::json!({"a":[1,"x\n"]}))"#
        );
        assert_eq!(
            TestElement::bytes(vec![0, b'#', 255]).to_code(),
            r#"TestElement::bytes(b"\x00#\xff")"#
        );
        assert_eq!(
            TestElement::text("q\"")
                .content_type("text/csv")
                .timestamp_ns(5)
                .to_code(),
            r#"TestElement::text("q\"").content_type("text/csv").timestamp_ns(5)"#
        );
        assert_eq!(
            TestElement::json(serde_json::json!("\u{1}")).to_code(),
            r####"TestElement::json(serde_json::from_str(r#""\u0001""#).unwrap())"####
        );
    }

    #[test]
    fn raw_strings_get_enough_hashes() {
        assert_eq!(raw_string(r#"{"a":1}"#), r###"r#"{"a":1}"#"###);
        assert_eq!(raw_string("plain"), "r\"plain\"");
    }
}
