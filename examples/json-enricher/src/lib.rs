//! JSON enricher: adds the configured fields (and optionally the element's
//! sequence number and trace id) to every JSON object it receives.
//!
//! Config: `{"fields": {"region": "eu"}, "add_sequence": true, "add_trace_id": false}`.

use serde::Deserialize;
use serde_json::{Map, Value};
use torvyn_guest::prelude::*;

/// Configuration of the enricher.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Fields set on every object (overwriting existing ones).
    pub fields: Map<String, Value>,
    /// Add `"sequence": <element sequence>`.
    pub add_sequence: bool,
    /// Add `"trace_id": "<trace id>"` when the flow has one.
    pub add_trace_id: bool,
}

/// The enricher: its state is its configuration.
pub struct Enricher {
    config: Config,
}

#[torvyn::processor]
impl Enricher {
    fn init(config: Config) -> Result<Self> {
        Ok(Self { config })
    }

    fn process(&mut self, element: &Element) -> Result<Option<Output>> {
        let mut object = match element.json::<Value>()? {
            Value::Object(object) => object,
            other => {
                return Err(Error::invalid_input(format!(
                    "expected a JSON object, got {}",
                    kind_of(&other)
                )));
            }
        };
        for (key, value) in &self.config.fields {
            object.insert(key.clone(), value.clone());
        }
        if self.config.add_sequence {
            object.insert("sequence".into(), element.sequence().into());
        }
        let trace_id = element.context().trace_id();
        if self.config.add_trace_id && !trace_id.is_empty() {
            object.insert("trace_id".into(), trace_id.into());
        }
        let output = Output::json(&object)?;
        Ok(Some(output.with_sequence(element.sequence())))
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use torvyn_guest::testing::{self, ElementBuilder};

    fn enricher(config: Value) -> Enricher {
        Enricher::init(serde_json::from_value(config).unwrap()).unwrap()
    }

    #[test]
    fn adds_fields_sequence_and_trace_id() {
        let mut e = enricher(json!({
            "fields": {"region": "eu", "user": "overwritten"},
            "add_sequence": true,
            "add_trace_id": true
        }));
        let element = ElementBuilder::new()
            .json(&json!({"user": "ada", "n": 1}))
            .sequence(42)
            .trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
            .build();
        testing::take_allocations();
        let out = e.process(&element).unwrap().unwrap();
        assert_eq!(out.content_type(), "application/json");
        assert_eq!(out.meta().sequence, 42);
        let value: Value = out.to_json().unwrap();
        assert_eq!(
            value,
            json!({"user": "overwritten", "n": 1, "region": "eu", "sequence": 42,
                   "trace_id": "0af7651916cd43dd8448eb211c80319c"})
        );
        // One allocation, exactly the size of the output.
        assert_eq!(testing::take_allocations(), [out.to_vec().len() as u64]);
        assert_eq!(element.payload().read_stats().reads, 1);
    }

    #[test]
    fn rejects_non_objects_and_bad_json_as_invalid_input() {
        let mut e = enricher(json!({}));
        let array = ElementBuilder::new().json(&json!([1])).build();
        let err = e.process(&array).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("an array"), "{err}");
        let broken = ElementBuilder::new().text("{\"a\":").build();
        let err = e.process(&broken).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("line 1"), "{err}");
    }

    #[test]
    fn allocation_failure_propagates() {
        let mut e = enricher(json!({}));
        testing::fail_next_allocation("no memory");
        let element = ElementBuilder::new().json(&json!({})).build();
        let err = e.process(&element).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
    }
}
