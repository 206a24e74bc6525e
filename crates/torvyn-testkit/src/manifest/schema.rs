//! The keys of `Torvyn.toml`: every key of upstream's schema (`torvyn-config`
//! 0.1.1) plus `[testkit]`, the type each takes, and whether the reference
//! host uses it. [`check`] walks a parsed document against the schema and
//! returns *every* unknown key and badly typed value (not only the first, as
//! serde would), each with its byte span, plus the keys that are accepted but
//! not used. Where a key is in the text: `place.rs`.

use std::ops::Range;

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, Unexpected};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{CapabilityPolicy, Size};
use crate::settings::BackpressurePolicy;

/// What a key's value must be.
pub(crate) enum Shape {
    /// A value checked by deserializing it as the manifest's raw structs do,
    /// so the message is serde's ("invalid type: ..., expected ...").
    Leaf(fn(&Spanned<DeValue<'_>>) -> Result<(), toml::de::Error>),
    /// A table with these keys.
    Table(&'static [Key]),
    /// A table of any keys (flow, node, grant names), each of this shape.
    Map(&'static Shape),
    /// An array of tables with these keys (`[[component]]`).
    Tables(&'static [Key]),
}

/// A key of a table.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    /// `false`: accepted (and checked), but the reference host does not use it.
    pub(crate) used: bool,
}

const fn key(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        used: true,
    }
}

const fn unused(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        used: false,
    }
}

fn leaf<T: DeserializeOwned>(value: &Spanned<DeValue<'_>>) -> Result<(), toml::de::Error> {
    T::deserialize(ValueDeserializer::from(value.clone())).map(drop)
}

const STRING: Shape = Shape::Leaf(leaf::<String>);
const STRINGS: Shape = Shape::Leaf(leaf::<Vec<String>>);
const BOOL: Shape = Shape::Leaf(leaf::<bool>);
const U64: Shape = Shape::Leaf(leaf::<u64>);
const USIZE: Shape = Shape::Leaf(leaf::<usize>);
const SIZE: Shape = Shape::Leaf(leaf::<Size>);
/// Any value: checked with its own message later (`on_error`).
const ANY: Shape = Shape::Leaf(leaf::<toml::Value>);

/// `runtime.scheduling.policy` and `flow.<F>.scheduling_policy`: upstream's
/// names, checked, not used (the reference host runs one node at a time).
#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SchedulingPolicy {
    RoundRobin,
    WeightedFair,
    Priority,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum TracingExporter {
    OtlpGrpc,
    OtlpHttp,
    Stdout,
    None,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum MetricsExporter {
    Prometheus,
    Otlp,
    None,
}

/// A scheduling priority: 1 (lowest) to 10 (highest), as upstream checks.
struct Priority;

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(deserializer)?;
        if (1..=10).contains(&n) {
            Ok(Priority)
        } else {
            Err(de::Error::invalid_value(
                Unexpected::Unsigned(n.into()),
                &"a priority from 1 (lowest) to 10 (highest)",
            ))
        }
    }
}

/// A sampling rate from 0.0 to 1.0, as upstream checks.
struct SampleRate;

impl<'de> Deserialize<'de> for SampleRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rate = f64::deserialize(deserializer)?;
        if (0.0..=1.0).contains(&rate) {
            Ok(SampleRate)
        } else {
            Err(de::Error::invalid_value(
                Unexpected::Float(rate),
                &"a rate from 0.0 (none) to 1.0 (all)",
            ))
        }
    }
}

const BACKPRESSURE: &[Key] = &[
    key("default_queue_depth", USIZE),
    key(
        "backpressure_policy",
        Shape::Leaf(leaf::<BackpressurePolicy>),
    ),
];

const ENDPOINT: &[Key] = &[key("node", STRING), key("port", STRING)];

const EDGE: &[Key] = &[
    key("from", Shape::Table(ENDPOINT)),
    key("to", Shape::Table(ENDPOINT)),
    key("queue_depth", USIZE),
    key("backpressure", Shape::Table(BACKPRESSURE)),
];

const NODE: Shape = Shape::Table(&[
    key("component", STRING),
    key("interface", STRING),
    key("config", STRING),
    key("fuel_budget", U64),
    key("max_memory", SIZE),
    key("on_error", ANY),
    unused("priority", Shape::Leaf(leaf::<Priority>)),
]);

const FLOW: Shape = Shape::Table(&[
    key("description", STRING),
    key("default_queue_depth", USIZE),
    key("backpressure", Shape::Table(BACKPRESSURE)),
    key("on_error", ANY),
    unused("scheduling_policy", Shape::Leaf(leaf::<SchedulingPolicy>)),
    key("nodes", Shape::Map(&NODE)),
    key("edges", Shape::Tables(EDGE)),
]);

const GRANT: Shape = Shape::Table(&[key("capabilities", STRINGS)]);

/// The whole document.
pub(crate) const TOP: &[Key] = &[
    key(
        "torvyn",
        Shape::Table(&[
            key("name", STRING),
            key("version", STRING),
            key("contract_version", STRING),
            key("description", STRING),
            key("authors", STRINGS),
            key("license", STRING),
            key("repository", STRING),
        ]),
    ),
    key(
        "component",
        Shape::Tables(&[
            key("name", STRING),
            key("path", STRING),
            key("language", STRING),
            key("build_command", STRING),
            key("config", STRING),
        ]),
    ),
    unused(
        "build",
        Shape::Table(&[
            key("release", BOOL),
            key("extra_args", STRINGS),
            key("target", STRING),
        ]),
    ),
    key(
        "test",
        Shape::Table(&[key("timeout_seconds", U64), unused("fixtures_dir", STRING)]),
    ),
    key(
        "runtime",
        Shape::Table(&[
            unused("worker_threads", USIZE),
            key("max_memory_per_component", SIZE),
            key("default_fuel_per_invocation", U64),
            unused("compilation_cache_dir", STRING),
            unused(
                "scheduling",
                Shape::Table(&[
                    key("policy", Shape::Leaf(leaf::<SchedulingPolicy>)),
                    key("default_priority", Shape::Leaf(leaf::<Priority>)),
                ]),
            ),
            key("backpressure", Shape::Table(BACKPRESSURE)),
        ]),
    ),
    unused(
        "observability",
        Shape::Table(&[
            key("tracing_enabled", BOOL),
            key("tracing_exporter", Shape::Leaf(leaf::<TracingExporter>)),
            key("tracing_endpoint", STRING),
            key("tracing_sample_rate", Shape::Leaf(leaf::<SampleRate>)),
            key("metrics_enabled", BOOL),
            key("metrics_exporter", Shape::Leaf(leaf::<MetricsExporter>)),
            key("metrics_endpoint", STRING),
        ]),
    ),
    key(
        "security",
        Shape::Table(&[
            key(
                "default_capability_policy",
                Shape::Leaf(leaf::<CapabilityPolicy>),
            ),
            key("grants", Shape::Map(&GRANT)),
        ]),
    ),
    unused("registry", Shape::Table(&[key("default", STRING)])),
    key("flow", Shape::Map(&FLOW)),
    key(
        "testkit",
        Shape::Table(&[
            key("clock", Shape::Leaf(leaf::<crate::settings::ClockMode>)),
            key("random_seed", U64),
        ]),
    ),
];

/// Every key path of the schema, `*` standing for a flow, node or grant name
/// and `[]` for an entry of an array of tables, with whether it is used.
pub(crate) fn key_paths() -> Vec<(String, bool)> {
    fn walk(keys: &[Key], prefix: &str, used: bool, out: &mut Vec<(String, bool)>) {
        for key in keys {
            let path = if prefix.is_empty() {
                key.name.to_string()
            } else {
                format!("{prefix}.{}", key.name)
            };
            let used = used && key.used;
            of(&key.shape, path, used, out);
        }
    }
    fn of(shape: &Shape, path: String, used: bool, out: &mut Vec<(String, bool)>) {
        match shape {
            Shape::Leaf(_) => out.push((path, used)),
            Shape::Table(keys) => walk(keys, &path, used, out),
            Shape::Map(inner) => of(inner, format!("{path}.*"), used, out),
            Shape::Tables(keys) => walk(keys, &format!("{path}[]"), used, out),
        }
    }
    let mut out = Vec::new();
    walk(TOP, "", true, &mut out);
    out
}

/// A step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step<'a> {
    /// A table key, and whether it is a name (a `Map` key) rather than a schema key.
    Key(&'a str, bool),
    /// An array entry.
    Index(usize),
}

/// The key path as the manifest's messages write it (`flow.main.edges[1].to`),
/// or with `*` for names and `[]` for entries (`flow.*.edges[]`).
fn render(path: &[Step<'_>], pattern: bool) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(_, true) if pattern => push_key(&mut out, "*"),
            Step::Key(name, _) => push_key(&mut out, &crate::manifest::segment(name)),
            Step::Index(_) if pattern => out.push_str("[]"),
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// A problem [`check`] found: its key path, the span it is at, the message.
pub(crate) struct Found {
    pub(crate) key: String,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) message: String,
}

/// What [`check`] found in a document.
pub(crate) struct Checked {
    /// Every unknown key and bad value.
    pub(crate) problems: Vec<Found>,
    /// The keys present that the reference host does not use, as patterns
    /// (`flow.*.nodes.*.priority`), each once, in file order.
    pub(crate) unused: Vec<String>,
}

/// The unused key patterns met, each with where it is first.
type Unused = Vec<(String, usize)>;

/// Check `root` against the schema: every unknown key (with the keys the
/// table takes, and the nearest one when a key looks misspelt), every value
/// of the wrong type, and the keys accepted but not used.
pub(crate) fn check(root: &DeTable<'_>) -> Checked {
    let mut problems = Vec::new();
    let mut unused = Unused::new();
    let mut path = Vec::new();
    table(
        root,
        TOP,
        true,
        &mut path,
        &mut (&mut problems, &mut unused),
    );
    // Tables are walked in key order, not file order.
    unused.sort_by_key(|(_, at)| *at);
    Checked {
        problems,
        unused: unused.into_iter().map(|(pattern, _)| pattern).collect(),
    }
}

/// Where [`check`]'s walk puts what it finds.
type Out<'o> = (&'o mut Vec<Found>, &'o mut Unused);

fn table<'a>(
    entries: &'a DeTable<'_>,
    keys: &'static [Key],
    used: bool,
    path: &mut Vec<Step<'a>>,
    out: &mut Out<'_>,
) {
    for (name, value) in entries.iter() {
        let name_text: &str = name.get_ref();
        let Some(key) = keys.iter().find(|key| key.name == name_text) else {
            path.push(Step::Key(name_text, false));
            out.0.push(Found {
                key: render(path, false),
                span: Some(name.span()),
                message: unknown_key(name_text, keys),
            });
            path.pop();
            continue;
        };
        path.push(Step::Key(name_text, false));
        let key_used = used && key.used;
        if used && !key.used {
            let pattern = render(path, true);
            let at = name.span().start;
            match out.1.iter_mut().find(|(seen, _)| *seen == pattern) {
                Some((_, first)) => *first = (*first).min(at),
                None => out.1.push((pattern, at)),
            }
        }
        shape(value, &key.shape, key_used, path, out);
        path.pop();
    }
}

fn shape<'a>(
    value: &'a Spanned<DeValue<'_>>,
    shape_: &'static Shape,
    used: bool,
    path: &mut Vec<Step<'a>>,
    out: &mut Out<'_>,
) {
    match (shape_, value.get_ref()) {
        (Shape::Leaf(check), _) => {
            if let Err(err) = check(value) {
                out.0.push(Found {
                    key: render(path, false),
                    span: err.span().or_else(|| Some(value.span())),
                    message: err.message().to_string(),
                });
            }
        }
        (Shape::Table(keys), DeValue::Table(entries)) => table(entries, keys, used, path, out),
        (Shape::Map(inner), DeValue::Table(entries)) => {
            for (name, value) in entries.iter() {
                path.push(Step::Key(name.get_ref(), true));
                shape(value, inner, used, path, out);
                path.pop();
            }
        }
        (Shape::Tables(keys), DeValue::Array(entries)) => {
            for (index, entry) in entries.iter().enumerate() {
                path.push(Step::Index(index));
                match entry.get_ref() {
                    DeValue::Table(entries) => table(entries, keys, used, path, out),
                    other => out.0.push(wrong_type(path, entry, other, "a table")),
                }
                path.pop();
            }
        }
        (Shape::Tables(_), other) => out.0.push(wrong_type(
            path,
            value,
            other,
            "an array of tables ([[...]])",
        )),
        (Shape::Table(_) | Shape::Map(_), other) => {
            out.0.push(wrong_type(path, value, other, "a table"))
        }
    }
}

fn wrong_type(
    path: &[Step<'_>],
    value: &Spanned<DeValue<'_>>,
    found: &DeValue<'_>,
    expected: &str,
) -> Found {
    Found {
        key: render(path, false),
        span: Some(value.span()),
        message: format!("invalid type: {}, expected {expected}", found.type_str()),
    }
}

/// serde's message for an unknown field, and the nearest known key when the
/// name looks like a misspelling of it.
fn unknown_key(name: &str, keys: &[Key]) -> String {
    let names: Vec<&str> = keys.iter().map(|key| key.name).collect();
    let expected = match names.as_slice() {
        [] => "no fields".to_string(),
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        many => format!(
            "one of {}",
            many.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut message = format!("unknown field `{name}`, expected {expected}");
    if let Some(near) = nearest(name, &names) {
        message.push_str(&format!("; did you mean `{near}`?"));
    }
    message
}

/// The name nearest `name` by edit distance, if near enough to be a typo.
fn nearest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|candidate| (strsim::levenshtein(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(name.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Checked {
        let root = DeTable::parse(text).unwrap();
        check(root.get_ref())
    }

    #[test]
    fn every_unknown_key_and_bad_value_is_found_with_its_span() {
        let text = "[torvyn]\nname = 1\nlicence = \"MIT\"\n[runtime]\nworker_thread = 2\n[flow.main.nodes.a]\npriority = 11\n";
        let checked = check_text(text);
        let mut found: Vec<(&str, &str, &str)> = checked
            .problems
            .iter()
            .map(|p| {
                (
                    p.key.as_str(),
                    &text[p.span.clone().unwrap()],
                    p.message.as_str(),
                )
            })
            .collect();
        found.sort_by_key(|(key, _, _)| *key);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].0, "flow.main.nodes.a.priority");
        assert_eq!(found[0].1, "11");
        assert!(
            found[0]
                .2
                .contains("a priority from 1 (lowest) to 10 (highest)")
        );
        assert_eq!(found[1].0, "runtime.worker_thread");
        assert_eq!(found[1].1, "worker_thread");
        assert!(
            found[1].2.ends_with("; did you mean `worker_threads`?"),
            "{}",
            found[1].2
        );
        assert_eq!(found[2].0, "torvyn.licence");
        assert!(found[2].2.contains("did you mean `license`?"));
        assert_eq!(found[3].0, "torvyn.name");
        assert_eq!(found[3].1, "1");
        assert!(
            found[3].2.contains("invalid type: integer `1`"),
            "{}",
            found[3].2
        );
        assert_eq!(checked.unused, ["flow.*.nodes.*.priority"]);
    }

    #[test]
    fn unused_tables_are_listed_once_and_their_keys_still_checked() {
        let checked = check_text(
            "[observability]\ntracing_exporter = \"jaeger\"\nmetrics_enabled = true\n\
             [flow.a]\nscheduling_policy = \"priority\"\n[flow.b]\nscheduling_policy = \"priority\"\n",
        );
        assert_eq!(checked.problems.len(), 1);
        assert_eq!(checked.problems[0].key, "observability.tracing_exporter");
        assert!(checked.problems[0].message.contains("`otlp-grpc`"));
        // In file order (the walk goes in key order).
        assert_eq!(
            checked.unused,
            ["observability", "flow.*.scheduling_policy"]
        );
    }

    #[test]
    fn wrong_shapes_are_reported_not_descended() {
        let checked = check_text("torvyn = 5\ncomponent = 3\n[flow]\nmain = 3\n");
        let messages: Vec<&str> = checked
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(checked.problems.len(), 3, "{messages:?}");
        assert!(messages.contains(&"invalid type: integer, expected a table"));
        assert!(messages.contains(&"invalid type: integer, expected an array of tables ([[...]])"));
    }

    #[test]
    fn typos_find_the_nearest_key_and_nothing_else_does() {
        assert_eq!(nearest("licence", &["name", "license"]), Some("license"));
        assert_eq!(nearest("fuel", &["fuel_budget", "config"]), None);
        assert_eq!(nearest("colour", &["torvyn", "flow"]), None);
        assert_eq!(strsim::levenshtein("kitten", "sitting"), 3);
    }
}
