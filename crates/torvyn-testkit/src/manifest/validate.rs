//! Validation of a parsed manifest: the project, components, sizes, limits,
//! policies and every flow (one flow's nodes and edges: `flow.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

use super::error::{Problem, report};
use super::flow::validate_flow;
use super::raw::*;
use super::*;

/// `name` as a segment of a key path: bare if TOML allows, quoted otherwise.
pub(crate) fn segment(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

/// The names, comma-separated (a long list shows its first and last few).
pub(super) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    crate::graph::list(&names)
}

pub(super) fn fuel(key: &str, fuel: Option<u64>) -> Result<Option<u64>, Problem> {
    if fuel == Some(0) {
        return Err(Problem::invalid(
            key,
            "a fuel budget of 0 leaves no fuel for a single instruction; give each call a \
             budget of at least 1 (10000000 is a generous one), or remove the key to run \
             without fuel metering",
        ));
    }
    Ok(fuel)
}

pub(super) fn queue_depth(key: String, depth: Option<usize>) -> Result<Option<usize>, Problem> {
    if depth == Some(0) {
        return Err(Problem::invalid(
            key,
            "a queue depth of 0 could hold no element; use at least 1 (the default is 64)",
        ));
    }
    Ok(depth)
}

/// The forms `on_error` takes, for error messages.
const ON_ERROR_FORMS: &str =
    "\"fail-flow\", \"skip\", \"dead-letter\" or { retry = N } with N at least 1";

/// `on_error`: `"fail-flow"`, `"skip"`, `"dead-letter"` or `{ retry = N }`.
pub(super) fn on_error(
    key: String,
    raw: Option<toml::Value>,
) -> Result<Option<ErrorPolicy>, Problem> {
    let Some(value) = raw else {
        return Ok(None);
    };
    let bad = |what: String| {
        Problem::invalid(
            key.clone(),
            format!("{what}; on_error is one of {ON_ERROR_FORMS}"),
        )
    };
    match &value {
        toml::Value::String(text) => {
            if let Some(policy) = ErrorPolicy::by_name(text) {
                return Ok(Some(policy));
            }
            if text == "retry" {
                return Err(bad(
                    "\"retry\" needs a count: write on_error = { retry = 3 }".into(),
                ));
            }
            let normal = text.replace('_', "-").to_ascii_lowercase();
            let hint = if ErrorPolicy::by_name(&normal).is_some() {
                format!(" (did you mean \"{normal}\"?)")
            } else {
                String::new()
            };
            Err(bad(format!("{text:?} is not an error policy{hint}")))
        }
        toml::Value::Table(table) => match (table.get("retry"), table.len()) {
            (Some(toml::Value::Integer(count)), 1) => u32::try_from(*count)
                .ok()
                .filter(|&count| count >= 1)
                .map(|count| Some(ErrorPolicy::Retry(count)))
                .ok_or_else(|| {
                    bad(format!(
                        "retry = {count} is not a number of retries from 1 to {}",
                        u32::MAX
                    ))
                }),
            (Some(other), 1) => Err(bad(format!(
                "retry = {other} is {}, not a number of retries",
                a_type(other)
            ))),
            _ => Err(bad(format!("the table {value} is not {{ retry = N }}",))),
        },
        other => Err(bad(format!(
            "{other} is {}, not an error policy",
            a_type(other)
        ))),
    }
}

/// A TOML value's type with its article: "an integer", "a string".
pub(super) fn a_type(value: &toml::Value) -> String {
    let name = value.type_str();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// `result`'s value, or `None` with its problem added to `problems`.
pub(super) fn ok<T>(result: Result<T, Problem>, problems: &mut Vec<Problem>) -> Option<T> {
    result.map_err(|problem| problems.push(problem)).ok()
}

/// A required key's value, or an empty string with the problem added (an
/// empty value is missing too, as upstream reads it).
pub(super) fn required(
    value: Option<String>,
    key: &str,
    table: &str,
    example: &str,
    problems: &mut Vec<Problem>,
) -> String {
    value.filter(|value| !value.is_empty()).unwrap_or_else(|| {
        problems.push(Problem::missing(key, table, example));
        String::new()
    })
}

impl Manifest {
    pub(super) fn parse_named(
        text: &str,
        base_dir: &Path,
        file: String,
    ) -> Result<Manifest, ManifestError> {
        // A byte-order mark is skipped, as in a JSON-lines input.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (mut root, errors) = DeTable::parse_recoverable(text);
        if !errors.is_empty() {
            let problems = errors
                .iter()
                .map(|err| {
                    Problem::syntax(String::new(), err.span(), err.message().trim_end().into())
                })
                .collect();
            return Err(report(file, text, problems));
        }
        // Every unknown key and badly typed value, each then removed so the
        // rest of the manifest is still checked.
        let checked = super::schema::check(root.get_ref());
        let mut problems = Vec::new();
        let mut removed = Vec::new();
        for found in checked.problems {
            if super::place::remove(root.get_mut(), &found.key) {
                removed.push(found.key.clone());
            }
            problems.push(Problem::syntax(found.key, found.span, found.message));
        }
        let raw = match RawManifest::deserialize(toml::de::Deserializer::from(root)) {
            Ok(raw) => raw,
            Err(err) => {
                // Only new if the schema missed it: a value it could not remove.
                if problems.is_empty() {
                    let text = err.message().trim_end().to_string();
                    problems.push(Problem::syntax(String::new(), err.span(), text));
                }
                return Err(report(file, text, problems));
            }
        };
        let before = problems.len();
        let manifest = Manifest::validate(raw, base_dir, file, checked.unused, &mut problems);
        // What follows from a removed value (a missing key) is not news.
        let mut index = 0;
        problems.retain(|problem| {
            index += 1;
            index <= before || !removed.contains(&problem.key)
        });
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(report(manifest.file, text, problems))
        }
    }

    fn validate(
        raw: RawManifest,
        base_dir: &Path,
        file: String,
        unused: Vec<String>,
        problems: &mut Vec<Problem>,
    ) -> Manifest {
        let torvyn = match raw.torvyn {
            Some(project) => Project {
                name: required(
                    project.name,
                    "torvyn.name",
                    "[torvyn]",
                    "\"my-project\"",
                    problems,
                ),
                version: required(
                    project.version,
                    "torvyn.version",
                    "[torvyn]",
                    "\"0.1.0\"",
                    problems,
                ),
                contract_version: required(
                    project.contract_version,
                    "torvyn.contract_version",
                    "[torvyn]",
                    "\"0.1.0\"",
                    problems,
                ),
                description: project.description,
                authors: project.authors,
                license: project.license,
                repository: project.repository,
            },
            None => {
                problems.push(Problem::new(
                    ManifestErrorKind::Missing,
                    "torvyn",
                    "missing the [torvyn] table; add one with name, version and \
                     contract_version = \"0.1.0\"",
                ));
                Project {
                    name: String::new(),
                    version: String::new(),
                    contract_version: String::new(),
                    description: None,
                    authors: Vec::new(),
                    license: None,
                    repository: None,
                }
            }
        };

        let mut components = Vec::with_capacity(raw.component.len());
        let mut declared = BTreeSet::new();
        for (index, component) in raw.component.into_iter().enumerate() {
            let key = format!("component[{index}]");
            let table = format!("the [[component]] number {}", index + 1);
            let name = required(
                component.name,
                &format!("{key}.name"),
                &table,
                "\"my-component\"",
                problems,
            );
            let path = component.path.unwrap_or_else(|| {
                problems.push(Problem::missing(
                    &format!("{key}.path"),
                    &table,
                    "\"components/my-component\"",
                ));
                PathBuf::new()
            });
            if !name.is_empty() && !declared.insert(name.clone()) {
                problems.push(Problem::invalid(
                    format!("{key}.name"),
                    format!(
                        "a component named {name:?} is declared twice; component names must \
                         be unique"
                    ),
                ));
            }
            components.push(ComponentDecl {
                name,
                path,
                language: component.language,
                build_command: component.build_command,
                config: component.config,
            });
        }

        let backpressure = raw.runtime.backpressure;
        let runtime = RuntimeSettings {
            max_memory_per_component: raw
                .runtime
                .max_memory_per_component
                .as_ref()
                .and_then(|size| ok(size.bytes("runtime.max_memory_per_component"), problems)),
            default_fuel_per_invocation: ok(
                fuel(
                    "runtime.default_fuel_per_invocation",
                    raw.runtime.default_fuel_per_invocation,
                ),
                problems,
            )
            .flatten(),
            backpressure: BackpressureSettings {
                default_queue_depth: ok(
                    queue_depth(
                        "runtime.backpressure.default_queue_depth".into(),
                        backpressure.default_queue_depth,
                    ),
                    problems,
                )
                .flatten(),
                backpressure_policy: backpressure.backpressure_policy.unwrap_or_default(),
            },
        };

        if raw.test.timeout_seconds == Some(0) {
            problems.push(Problem::invalid(
                "test.timeout_seconds",
                "a timeout of 0 seconds would stop every run before its first element; use at \
                 least 1 (the default is 60)",
            ));
        }
        let test = TestSettings {
            timeout_seconds: raw.test.timeout_seconds,
        };
        let security = Security {
            default_capability_policy: raw.security.default_capability_policy,
            grants: raw
                .security
                .grants
                .into_iter()
                .map(|(name, grant)| (name, grant.capabilities))
                .collect(),
        };

        let mut flows = BTreeMap::new();
        for (name, raw_flow) in raw.flow {
            let flow = validate_flow(&name, raw_flow, &components, base_dir, problems);
            flows.insert(name, flow);
        }
        Manifest {
            torvyn,
            components,
            runtime,
            flows,
            testkit: TestkitSettings {
                clock: raw.testkit.clock,
                random_seed: raw.testkit.random_seed,
            },
            security,
            test,
            base_dir: base_dir.to_path_buf(),
            file,
            unused,
        }
    }
}
