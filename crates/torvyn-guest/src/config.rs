//! Typed configuration from the `lifecycle.init` string.

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Parse a configuration string as JSON into `C`.
///
/// An empty (or all-whitespace) string is an error here; the generated glue uses
/// `C::default()` for it when `C` implements `Default`. A parse error becomes
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the field
/// by its full path (found with `serde_path_to_error`: `limits.max`,
/// `rules[2].pattern`), the line and the column. For a missing field the path
/// ends in the missing field itself.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Config { max: u32 }
/// let err = torvyn_guest::config::parse::<Config>(r#"{"max": "ten"}"#).unwrap_err();
/// assert!(err.to_string().contains("field `max`"), "{err}");
/// assert!(err.to_string().contains("line 1 column 13"), "{err}");
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Pair { key: String, value: String }
/// let err = torvyn_guest::config::parse::<Pair>(r#"{"key": "region"}"#).unwrap_err();
/// assert!(err.to_string().contains("(field `value`): missing field `value`"), "{err}");
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the string is
/// empty or is not a valid `C`.
pub fn parse<C: DeserializeOwned>(config: &str) -> Result<C> {
    let type_name = short_type_name::<C>();
    if is_blank(config) {
        return Err(Error::invalid_input(format!(
            "invalid config: the config string is empty and `{type_name}` has no `Default`; \
             give the node a JSON `config`"
        )));
    }
    let fail = |field: Option<String>, err: &serde_json::Error| {
        let field = field.map(|f| format!(" (field `{f}`)")).unwrap_or_default();
        Error::invalid_input(format!("invalid config for `{type_name}`{field}: {err}"))
    };
    let mut deserializer = serde_json::Deserializer::from_str(config);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| fail(field_path(err.path(), err.inner()), err.inner()))?;
    // Text after the value (`{..} extra`): not inside any field.
    deserializer.end().map_err(|err| fail(None, &err))?;
    Ok(value)
}

/// Parse `config`, or use `C::default()` when it is empty.
///
/// # Errors
/// As [`parse`], except for the empty string.
///
/// ```
/// #[derive(Debug, Default, PartialEq, serde::Deserialize)]
/// #[serde(default)]
/// struct Config { every: u32 }
/// use torvyn_guest::config::parse_or_default;
/// assert_eq!(parse_or_default::<Config>("")?, Config { every: 0 });
/// assert_eq!(parse_or_default::<Config>(r#"{"every": 3}"#)?, Config { every: 3 });
/// assert!(parse_or_default::<Config>(r#"{"every": -1}"#).is_err());
/// # Ok::<(), torvyn_guest::Error>(())
/// ```
pub fn parse_or_default<C: DeserializeOwned + Default>(config: &str) -> Result<C> {
    if is_blank(config) {
        Ok(C::default())
    } else {
        parse(config)
    }
}

/// Whether a config string is empty or only JSON whitespace (the "no config"
/// case): space, tab, line feed and carriage return, the four RFC 8259 allows
/// between tokens. Anything else (a form feed, U+00A0, U+3000) is not blank:
/// it is given to the JSON parser, which rejects it naming the position. The
/// same definition as the testkit's for a component without `init`
/// (`torvyn_testkit`'s `Instance::init`), so a config is blank in both or in
/// neither. Not `str::trim`: its Unicode tables would be linked into every
/// component, and JSON has no other whitespace.
pub(crate) fn is_blank(config: &str) -> bool {
    config
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn short_type_name<C>() -> &'static str {
    let full = std::any::type_name::<C>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map_or(0, |i| i + 2);
    &full[start..]
}

/// The full path of the offending field: where the error happened (`a.b[0]`),
/// and for a missing field that path followed by the missing field's name.
/// `None` when the error is not inside any field (a syntax error at the top).
fn field_path(path: &serde_path_to_error::Path, err: &serde_json::Error) -> Option<String> {
    let at = path.to_string();
    let at = if at == "." { String::new() } else { at };
    let missing = err.to_string();
    let missing = missing
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (at.is_empty(), missing) {
        (true, None) => None,
        (true, Some(name)) => Some(name.to_string()),
        (false, None) => Some(at),
        (false, Some(name)) => Some(format!("{at}.{name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    struct Config {
        max_per_second: u64,
        #[serde(default)]
        window_ms: u64,
    }

    #[test]
    fn blank_is_json_whitespace_only() {
        for blank in ["", " ", "\t\r\n ", "\n"] {
            assert!(is_blank(blank), "{blank:?}");
            assert_eq!(
                parse_or_default::<Config>(blank).unwrap(),
                Config::default()
            );
        }
        // Not JSON whitespace: not blank, so the parser reports it (the
        // testkit rejects the same strings for a component without `init`).
        for not_blank in [
            "\u{a0}",
            "\u{3000}",
            " \u{3000} ",
            "\u{c}",
            "\u{b}",
            "\u{2028}",
        ] {
            assert!(!is_blank(not_blank), "{not_blank:?}");
            let err = parse_or_default::<Config>(not_blank).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{not_blank:?}");
        }
        crate::testing::take_logs();
        crate::__private::init_without_handler("\u{3000}");
        assert_eq!(
            crate::testing::take_logs(),
            ["[warn] this component has no `init`; its config is ignored"],
            "U+3000 is a config, not the absence of one"
        );
    }

    #[test]
    fn empty_config_uses_default_only_when_asked() {
        assert_eq!(parse_or_default::<Config>("  ").unwrap(), Config::default());
        let err = parse::<Config>("").unwrap_err();
        assert!(err.message().contains("has no `Default`"), "{err}");
    }

    #[test]
    fn errors_name_field_line_and_column() {
        let err =
            parse::<Config>("{\n  \"window_ms\": 5,\n  \"max_per_second\": \"x\"\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("field `max_per_second`"), "{text}");
        assert!(text.contains("line 3 column"), "{text}");
        let missing = parse::<Config>("{}").unwrap_err().to_string();
        assert!(
            missing.contains("(field `max_per_second`): missing field `max_per_second`"),
            "{missing}"
        );
        assert!(missing.contains("`Config`"), "{missing}");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Pair {
        key: String,
        value: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Nested {
        name: String,
        rules: Vec<Rule>,
        limits: Limits,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Rule {
        pattern: String,
        #[serde(default)]
        weight: u32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Limits {
        max: u32,
    }

    #[test]
    fn a_missing_field_is_named_not_the_field_before_it() {
        let err = parse::<Pair>(r#"{"key": "region"}"#).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid config for `Pair` (field `value`): missing field `value` at line 1 column 17"
        );
    }

    #[test]
    fn nested_errors_give_the_full_path() {
        let wrong_type = parse::<Nested>(
            r#"{"name": "n", "rules": [{"pattern": "a"}, {"pattern": "b", "weight": "x"}], "limits": {"max": 1}}"#,
        )
        .unwrap_err();
        assert!(
            wrong_type.message().starts_with(
                "invalid config for `Nested` (field `rules[1].weight`): invalid type: string \"x\""
            ),
            "{wrong_type}"
        );
        let missing =
            parse::<Nested>(r#"{"name": "n", "rules": [{"weight": 1}], "limits": {"max": 1}}"#)
                .unwrap_err();
        assert!(
            missing
                .message()
                .contains("(field `rules[0].pattern`): missing field `pattern`"),
            "{missing}"
        );
        let missing_nested =
            parse::<Nested>(r#"{"name": "n", "rules": [], "limits": {}}"#).unwrap_err();
        assert!(
            missing_nested
                .message()
                .contains("(field `limits.max`): missing field `max`"),
            "{missing_nested}"
        );
        let unknown =
            parse::<Nested>(r#"{"name": "n", "rules": [], "limits": {"max": 1, "min": 0}}"#)
                .unwrap_err();
        assert!(
            unknown
                .message()
                .contains("(field `limits.min`): unknown field `min`"),
            "{unknown}"
        );
    }

    #[test]
    fn syntax_errors_and_trailing_text_are_reported() {
        let err = parse::<Pair>("{\"key\": ").unwrap_err();
        assert!(err.message().contains("EOF while parsing"), "{err}");
        let err = parse::<Pair>(r#"{"key": "k", "value": "v"} extra"#).unwrap_err();
        assert!(err.message().contains("trailing characters"), "{err}");
        assert!(!err.message().contains("(field"), "{err}");
    }
}
