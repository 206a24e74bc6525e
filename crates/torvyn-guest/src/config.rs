//! Typed configuration from the `lifecycle.init` string.

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Parse a configuration string as JSON into `C`.
///
/// An empty (or all-whitespace) string is an error here; the generated glue uses
/// `C::default()` for it when `C` implements `Default`. A parse error becomes
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the line,
/// the column and, where it can be found, the field.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Config { max: u32 }
/// let err = torvyn_guest::config::parse::<Config>(r#"{"max": "ten"}"#).unwrap_err();
/// assert!(err.to_string().contains("field `max`"), "{err}");
/// assert!(err.to_string().contains("line 1 column 13"), "{err}");
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
    serde_json::from_str(config).map_err(|err| {
        let field = field_near(config, err.line(), err.column())
            .map(|f| format!(" (field `{f}`)"))
            .unwrap_or_default();
        Error::invalid_input(format!("invalid config for `{type_name}`{field}: {err}"))
    })
}

/// Parse `config`, or use `C::default()` when it is empty.
///
/// # Errors
/// As [`parse`], except for the empty string.
pub fn parse_or_default<C: DeserializeOwned + Default>(config: &str) -> Result<C> {
    if is_blank(config) {
        Ok(C::default())
    } else {
        parse(config)
    }
}

/// Whether a config string is empty or only JSON whitespace (the "no config"
/// case). ASCII only: JSON has no other whitespace, and `str::trim`'s
/// Unicode-aware search would be linked into every component.
pub(crate) fn is_blank(config: &str) -> bool {
    config.bytes().all(|b| b.is_ascii_whitespace())
}

fn short_type_name<C>() -> &'static str {
    let full = std::any::type_name::<C>();
    let base = full.split('<').next().unwrap_or(full);
    let start = base.rfind("::").map_or(0, |i| i + 2);
    &full[start..]
}

/// The last object key that starts before `line:column` (1-based), if any.
fn field_near(text: &str, line: usize, column: usize) -> Option<String> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len();
    }
    let prefix = text.get(..offset.min(text.len()))?;
    // Walk back to the last `"key"` followed by optional spaces and a colon.
    let colon = prefix.rfind(':')?;
    let before = prefix[..colon].trim_end();
    let before = before.strip_suffix('"')?;
    let start = before.rfind('"')?;
    Some(before[start + 1..].to_string())
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
            missing.contains("missing field `max_per_second`"),
            "{missing}"
        );
        assert!(missing.contains("`Config`"), "{missing}");
    }
}
