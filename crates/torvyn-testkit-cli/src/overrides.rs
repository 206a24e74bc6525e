//! `--config NODE=VALUE` and `--config NODE.KEY=VALUE` (Torvyn's `torvyn run
//! --config`): a node's `init` config, replaced whole or changed one key at a
//! time, in the order given.

use std::str::FromStr;

use torvyn_testkit::Pipeline;

/// One `--config` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConfigOverride {
    node: String,
    /// Empty: replace the whole config; otherwise the key path in its JSON
    /// object (`a.b` for `{"a": {"b": ..}}`).
    path: Vec<String>,
    value: String,
}

impl FromStr for ConfigOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || {
            format!(
                "`{text}` is not NODE=VALUE or NODE.KEY=VALUE; write e.g. \
                 `--config 'source={{\"count\": 20}}'` or `--config source.count=20`"
            )
        };
        let (target, value) = text.split_once('=').ok_or_else(usage)?;
        let mut parts = target.split('.');
        let node = parts.next().unwrap_or_default().trim();
        let path: Vec<String> = parts.map(|part| part.trim().to_string()).collect();
        if node.is_empty() || path.iter().any(String::is_empty) {
            return Err(usage());
        }
        Ok(ConfigOverride {
            node: node.to_string(),
            path,
            value: value.to_string(),
        })
    }
}

impl ConfigOverride {
    /// `pipeline` with this override applied to its node's config.
    pub(crate) fn apply(&self, pipeline: Pipeline) -> Result<Pipeline, String> {
        let Some(current) = pipeline.node_config(&self.node) else {
            let nodes = pipeline.node_names().join(", ");
            return Err(format!(
                "--config {}: the flow has no component node `{}` (its nodes: {nodes})",
                self.describe(),
                self.node
            ));
        };
        if self.path.is_empty() {
            return Ok(pipeline.config(&self.node, self.value.clone()));
        }
        let mut config: serde_json::Value = if current.trim().is_empty() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_str(current).map_err(|_| self.not_an_object(current))?
        };
        // VALUE is JSON when it parses as JSON (`20`, `true`, `[1]`,
        // `"x"`), a string otherwise (`1s`, `hello`).
        let value = serde_json::from_str(&self.value)
            .unwrap_or_else(|_| serde_json::Value::String(self.value.clone()));
        let mut place = &mut config;
        for key in &self.path {
            let serde_json::Value::Object(object) = place else {
                return Err(self.not_an_object(current));
            };
            place = object
                .entry(key.clone())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        }
        *place = value;
        Ok(pipeline.config(&self.node, config.to_string()))
    }

    fn describe(&self) -> String {
        let mut target = self.node.clone();
        for key in &self.path {
            target.push('.');
            target.push_str(key);
        }
        format!("{target}={}", self.value)
    }

    fn not_an_object(&self, current: &str) -> String {
        format!(
            "--config {}: node `{}`'s config is not a JSON object with `{}` in it (it is \
             `{current}`), so there is no key to set; replace it whole with `--config {}=VALUE`",
            self.describe(),
            self.node,
            self.path.join("."),
            self.node
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ConfigOverride {
        text.parse().unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn both_forms_parse_and_bad_ones_say_the_forms() {
        assert_eq!(
            parse(r#"hello-source={"count": 2.5}"#),
            ConfigOverride {
                node: "hello-source".into(),
                path: vec![],
                value: r#"{"count": 2.5}"#.into()
            }
        );
        assert_eq!(parse("source.batch.size=50").path, ["batch", "size"]);
        assert_eq!(parse("sink.flush=1s=2").value, "1s=2");
        for bad in ["source", "=5", "source.=5", ".x=5"] {
            let err = bad.parse::<ConfigOverride>().unwrap_err();
            assert!(err.contains("is not NODE=VALUE or NODE.KEY=VALUE"), "{err}");
        }
    }
}
