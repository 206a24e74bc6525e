//! Our `Torvyn.toml` parser against upstream's (`torvyn-config` 0.1.1's
//! `load_config`), as `contract.rs` holds our WIT to `torvyn-contracts`.
//!
//! - Every key of upstream's schema is one ours knows, and the other way round
//!   (but for our `[testkit]`): `tests/fixtures/manifests/every-key.toml` uses
//!   every key, and the keys upstream serializes back from it are ours.
//! - Every fixture in `tests/fixtures/manifests` is fed to both parsers, and
//!   the verdicts must be those of [`CASES`]: every manifest upstream accepts,
//!   ours accepts, except where the table says why not (a check upstream
//!   does not make: a typo'd key, a cycle, a component the reference host
//!   cannot fetch); where ours rejects, the table names what our message says.
//! - What the reference host does with the keys it honours, and the list of
//!   those it only accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::time::Duration;

use torvyn_testkit::BackpressurePolicy;
use torvyn_testkit::manifest::{
    CapabilityPolicy, ComponentRef, Manifest, ManifestErrorKind, schema_keys,
};
use torvyn_testkit::{ErrorKind, Role};
use torvyn_testkit::{NodeSpec, Pipeline, RunLimit, Scripted};

use crate::support::{fixture_dir, numbers, scratch};

fn fixtures() -> PathBuf {
    fixture_dir("manifests")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Accepts,
    Rejects,
}
use Verdict::{Accepts, Rejects};

/// A fixture, what each parser says about it, and why they differ (empty when
/// they agree); where ours rejects, a part of our message.
struct Case {
    file: &'static str,
    upstream: Verdict,
    ours: Verdict,
    ours_says: &'static str,
    why: &'static str,
}

const fn case(
    file: &'static str,
    upstream: Verdict,
    ours: Verdict,
    ours_says: &'static str,
    why: &'static str,
) -> Case {
    Case {
        file,
        upstream,
        ours,
        ours_says,
        why,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Both accept.
    case("every-key.toml", Accepts, Accepts, "", ""),
    case("upstream-full-manifest.toml", Accepts, Accepts, "", ""),
    case("upstream-minimal.toml", Accepts, Accepts, "", ""),
    case("allow-all-per-edge-policy.toml", Accepts, Accepts, "", ""),
    case("memory-size-lowercase-and-short.toml", Accepts, Accepts, "", ""),
    // Both reject.
    case("upstream-invalid-syntax.toml", Rejects, Rejects, "TOML parse error at line 1", ""),
    case("upstream-missing-fields.toml", Rejects, Rejects, "torvyn.name: missing required key", ""),
    case("runtime-policy-unknown.toml", Rejects, Rejects, "unknown variant `block`", ""),
    case("runtime-queue-depth-zero.toml", Rejects, Rejects, "runtime.backpressure.default_queue_depth: a queue depth of 0", ""),
    case("edge-queue-depth-zero.toml", Rejects, Rejects, "flow.main.edges[0].queue_depth: a queue depth of 0", ""),
    case("scheduling-policy-unknown.toml", Rejects, Rejects, "unknown variant `random`, expected one of `round-robin`, `weighted-fair`, `priority`", ""),
    case("priority-out-of-range.toml", Rejects, Rejects, "invalid value: integer `11`, expected a priority from 1 (lowest) to 10 (highest)", ""),
    case("default-priority-zero.toml", Rejects, Rejects, "invalid value: integer `0`, expected a priority", ""),
    case("tracing-exporter-unknown.toml", Rejects, Rejects, "unknown variant `jaeger`", ""),
    case("sample-rate-above-one.toml", Rejects, Rejects, "expected a rate from 0.0 (none) to 1.0 (all)", ""),
    case("capability-policy-unknown.toml", Rejects, Rejects, "unknown variant `allow-some`, expected `deny-all` or `allow-all`", ""),
    case("fuel-zero.toml", Rejects, Rejects, "runtime.default_fuel_per_invocation: a fuel budget of 0", ""),
    case("memory-size-unknown-unit.toml", Rejects, Rejects, "\"16 megs\" is not a size", ""),
    case("worker-threads-wrong-type.toml", Rejects, Rejects, "invalid type: string \"four\", expected usize", ""),
    case("edge-to-missing-node.toml", Rejects, Rejects, "flow.main.edges[0].to.node: no node named \"oot\"", ""),
    case("three-errors.toml", Rejects, Rejects, "unknown field `licence`", ""),
    // Upstream accepts, ours rejects: checks upstream does not make.
    case("unknown-key.toml", Accepts, Rejects, "unknown field `licence`",
        "upstream ignores keys it does not know; ours names them, so a typo fails loudly"),
    case("extension-table.toml", Accepts, Rejects, "unknown field `deployment`",
        "upstream keeps unknown tables as extensions; ours rejects them like any unknown key"),
    case("oci-component.toml", Accepts, Rejects, "is neither a \"file://...\" path nor a declared [[component]] name",
        "the reference host runs local components only: it fetches nothing from an OCI registry"),
    case("unknown-interface.toml", Accepts, Rejects, "is not a Torvyn 0.1 interface",
        "upstream does not check a node's interface; ours needs one of the six to know the node's role"),
    case("cycle.toml", Accepts, Rejects, "closes the cycle a -> b -> a",
        "upstream checks self-loops only; a flow with any cycle could never finish"),
    case("no-outgoing-edge.toml", Accepts, Rejects, "flow.main.nodes.enrich: the processor has no outgoing edge",
        "upstream checks neither a node's inputs nor its outputs; the reference host runs what it accepts, and a processor's output with nowhere to go would be lost"),
    case("flow-policy-unknown.toml", Accepts, Rejects, "unknown variant `drop-everything`",
        "upstream checks backpressure policy names in [runtime.backpressure] only; ours wherever one is written"),
    case("flow-scheduling-unknown.toml", Accepts, Rejects, "unknown variant `random`",
        "upstream's load_config checks a flow's scheduling_policy in pipeline.toml but not inline in Torvyn.toml"),
    case("node-memory-unknown-unit.toml", Accepts, Rejects, "flow.main.nodes.out.max_memory: \"1 parsec\" is not a size",
        "upstream does not parse a node's max_memory; the reference host enforces it"),
    case("test-timeout-zero.toml", Accepts, Rejects, "test.timeout_seconds: a timeout of 0 seconds",
        "the reference host honours the timeout, and 0 would stop every run at once"),
    // Upstream rejects, ours accepts: checks ours does not make.
    case("upstream-invalid-name.toml", Rejects, Accepts, "",
        "upstream limits a project name to [a-zA-Z0-9_-]; the reference host only shows it"),
    case("version-not-semver.toml", Rejects, Accepts, "",
        "upstream requires semver versions; the reference host only shows the version"),
    case("memory-size-decimal.toml", Rejects, Accepts, "",
        "ours also reads decimal units (KB, MB, GB)"),
    case("memory-size-integer.toml", Rejects, Accepts, "",
        "ours also reads a size as a number of bytes"),
];

fn upstream_verdict(path: &Path) -> (Verdict, String) {
    match torvyn_config::load_config(path.to_str().unwrap()) {
        Ok(_) => (Accepts, String::new()),
        Err(errors) => (
            Rejects,
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

#[test]
fn both_parsers_give_the_verdicts_of_the_table() {
    let mut listed = BTreeSet::new();
    let mut wrong = Vec::new();
    for case in CASES {
        assert!(listed.insert(case.file), "{} is listed twice", case.file);
        let path = fixtures().join(case.file);
        let (upstream, upstream_says) = upstream_verdict(&path);
        let ours = Manifest::from_path(&path);
        if upstream != case.upstream {
            wrong.push(format!(
                "{}: upstream {upstream:?}, the table says {:?}: {upstream_says}",
                case.file, case.upstream
            ));
        }
        match (&ours, case.ours) {
            (Ok(_), Accepts) => {}
            (Err(err), Rejects) if err.to_string().contains(case.ours_says) => {}
            (Err(err), Rejects) => wrong.push(format!(
                "{}: ours rejects without saying {:?}:\n{err}",
                case.file, case.ours_says
            )),
            (Ok(_), Rejects) => wrong.push(format!("{}: ours accepts", case.file)),
            (Err(err), Accepts) => wrong.push(format!("{}: ours rejects:\n{err}", case.file)),
        }
        // Where the parsers differ the table says why, and only there.
        assert_eq!(
            case.upstream != case.ours,
            !case.why.is_empty(),
            "{}: a difference needs a reason, agreement none",
            case.file
        );
        assert_eq!(
            case.ours == Rejects,
            !case.ours_says.is_empty(),
            "{}: name what our rejection says",
            case.file
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));

    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let listed: BTreeSet<String> = listed.into_iter().map(String::from).collect();
    assert_eq!(
        on_disk, listed,
        "every fixture is in the table, and only those"
    );
}

/// The key paths of `value`, names under `flow`, `flow.*.nodes` and
/// `security.grants` written `*`, entries of arrays of tables `[]`.
fn key_paths(value: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if matches!(prefix, "flow" | "flow.*.nodes" | "security.grants") {
                    "*"
                } else {
                    key.as_str()
                };
                let path = if prefix.is_empty() {
                    key.to_string()
                } else {
                    format!("{prefix}.{key}")
                };
                key_paths(value, &path, out);
            }
        }
        toml::Value::Array(items) if items.iter().any(toml::Value::is_table) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

#[test]
fn the_every_key_fixture_uses_every_key_of_both_schemas() {
    let path = fixtures().join("every-key.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let ours: BTreeSet<String> = schema_keys().into_iter().map(|(key, _)| key).collect();

    let mut in_fixture = BTreeSet::new();
    let document: toml::Table = toml::from_str(&text).unwrap();
    key_paths(&toml::Value::Table(document), "", &mut in_fixture);
    assert_eq!(in_fixture, ours, "every-key.toml against our schema");

    // Upstream's parse of it, serialized back: every field of its schema
    // (the fixture sets each, and upstream writes every set field).
    let config = torvyn_config::load_config(path.to_str().unwrap()).unwrap();
    let mut manifest = toml::Value::try_from(&config.manifest).unwrap();
    let table = manifest.as_table_mut().unwrap();
    table.remove("flow");
    table.remove("testkit"); // ours, kept by upstream as an unknown table
    table.insert("flow".into(), toml::Value::try_from(&config.flows).unwrap());
    let mut upstream = BTreeSet::new();
    key_paths(&manifest, "", &mut upstream);
    // This testkit's own keys, which upstream ignores (keeps or drops).
    let ours_alone = |key: &str| key.starts_with("testkit.") || key.ends_with(".on_error");
    let ours_but_testkit: BTreeSet<String> = ours
        .iter()
        .filter(|key| !ours_alone(key))
        .cloned()
        .collect();
    assert_eq!(upstream, ours_but_testkit, "upstream's schema against ours");
}

#[test]
fn the_every_key_fixture_is_honoured_where_the_host_implements_the_key() {
    let path = fixtures().join("every-key.toml");
    let manifest = Manifest::from_path(&path).unwrap();
    let dir = path.parent().unwrap();

    assert_eq!(manifest.torvyn.authors, ["Ada <ada@example.com>", "Grace"]);
    assert_eq!(manifest.torvyn.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(
        manifest.torvyn.repository.as_deref(),
        Some("https://example.com/every-key")
    );
    assert_eq!(manifest.test.timeout_seconds, Some(30));
    assert_eq!(manifest.runtime.max_memory_per_component, Some(8 << 20));
    assert_eq!(
        manifest.runtime.default_fuel_per_invocation,
        Some(5_000_000)
    );
    assert_eq!(manifest.runtime.backpressure.default_queue_depth, Some(32));

    let flow = manifest.flow(None).unwrap();
    // `default_queue_depth` wins over `backpressure.default_queue_depth`.
    assert_eq!(flow.default_queue_depth, Some(16));
    assert_eq!(
        flow.backpressure_policy,
        Some(BackpressurePolicy::DropOldest)
    );
    assert_eq!(flow.edges[0].queue_depth, Some(4));
    assert_eq!(flow.edges[0].backpressure_policy, None);
    assert_eq!(flow.edges[1].queue_depth, Some(2));
    assert_eq!(
        flow.edges[1].backpressure_policy,
        Some(BackpressurePolicy::DropNewest)
    );
    let source = &flow.nodes["source"];
    assert_eq!(source.interface, Role::Source);
    assert_eq!(
        (source.fuel_budget, source.max_memory),
        (Some(2_000_000), Some(4 << 20))
    );
    assert_eq!(
        flow.nodes["out"].component,
        ComponentRef::File(dir.join("out.wasm"))
    );
    // This testkit's error policies: the flow's default and a node's own.
    assert_eq!(flow.on_error, Some(torvyn_testkit::ErrorPolicy::DeadLetter));
    assert_eq!(
        flow.nodes["upper"].on_error,
        Some(torvyn_testkit::ErrorPolicy::Skip)
    );
    assert_eq!(source.on_error, None);

    // Grants: by node name (`source`) and by [[component]] name (`upper`);
    // upstream's `category:action:scope` also in the host's spelling.
    let security = &manifest.security;
    assert_eq!(
        security.default_capability_policy,
        CapabilityPolicy::DenyAll
    );
    assert_eq!(
        security.capabilities("source", Some("reader")),
        BTreeSet::from([
            "filesystem:read:/data/input/*".to_string(),
            "wasi-filesystem-read".to_string()
        ])
    );
    assert_eq!(
        security.capabilities("upper", Some("upper")),
        BTreeSet::from([
            "network:egress:*".to_string(),
            "wasi-network-egress".to_string(),
            "wasi-random".to_string()
        ])
    );
    assert!(security.capabilities("out", None).is_empty());

    // Listed once each, in file order, a table not used at all as a whole.
    assert_eq!(
        manifest.accepted_unused_keys(),
        [
            "build",
            "test.fixtures_dir",
            "runtime.worker_threads",
            "runtime.compilation_cache_dir",
            "runtime.scheduling",
            "observability",
            "registry",
            "flow.*.scheduling_policy",
            "flow.*.nodes.*.priority",
        ]
    );
    assert_eq!(
        manifest.unused_keys_note().unwrap(),
        format!(
            "accepted, not used by the reference host: {}",
            manifest.accepted_unused_keys().join(", ")
        )
    );
    // ... which are the schema's unused keys.
    let unused_tables = ["build", "observability", "registry", "runtime.scheduling"];
    let expected: BTreeSet<String> = schema_keys()
        .into_iter()
        .filter(|(_, used)| !used)
        .map(|(key, _)| {
            unused_tables
                .iter()
                .find(|table| key.starts_with(&format!("{table}.")))
                .map_or(key, |table| table.to_string())
        })
        .collect();
    let listed: BTreeSet<String> = manifest.accepted_unused_keys().iter().cloned().collect();
    assert_eq!(listed, expected);

    let allow_all = Manifest::from_path(fixtures().join("allow-all-per-edge-policy.toml")).unwrap();
    assert_eq!(
        allow_all.security.default_capability_policy,
        CapabilityPolicy::AllowAll
    );
    assert_eq!(
        allow_all.security.capabilities("src", None),
        BTreeSet::from([torvyn_testkit::ALL_CAPABILITIES.to_string()])
    );
    assert!(allow_all.accepted_unused_keys().is_empty());
    assert_eq!(allow_all.unused_keys_note(), None);
}

#[test]
fn every_problem_is_reported_in_file_order_with_its_line_and_column() {
    let err = Manifest::from_path(fixtures().join("three-errors.toml")).unwrap_err();
    type Place<'a> = (
        Option<&'a str>,
        Option<usize>,
        Option<usize>,
        ManifestErrorKind,
    );
    let found: Vec<Place<'_>> = err
        .problems()
        .iter()
        .map(|p| (p.key(), p.line(), p.column(), p.kind()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Some("torvyn.licence"),
                Some(5),
                Some(1),
                ManifestErrorKind::Syntax
            ),
            (
                Some("runtime.worker_thread"),
                Some(7),
                Some(1),
                ManifestErrorKind::Syntax
            ),
            (
                Some("flow.main.edges[0].to.node"),
                Some(19),
                Some(15),
                ManifestErrorKind::Graph
            ),
        ]
    );
    assert!(
        err.problems()[1]
            .message()
            .ends_with("did you mean `worker_threads`?")
    );
    let text = err.to_string();
    let file = fixtures().join("three-errors.toml").display().to_string();
    // Each problem starts with the file, in the order of the file.
    let starts: Vec<usize> = text
        .match_indices(&format!("{file}: "))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(starts.len(), 3, "{text}");
    assert!(
        text[starts[0]..].starts_with(&format!("{file}: TOML parse error at line 5, column 1"))
    );
    assert!(text[starts[2]..].starts_with(&format!(
        "{file}: flow.main.edges[0].to.node: no node named \"oot\""
    )));
    assert!(text.contains(&format!("--> {file}:19:15")), "{text}");
}

/// A node with a slow sink and a fast collector behind it; the edge to the
/// slow sink has its own policy (`edge`), the others the pipeline's (`flow`).
fn fan_out(flow: BackpressurePolicy, edge: BackpressurePolicy) -> Pipeline {
    Pipeline::new("fan")
        .source("input", numbers(20))
        .node("pass", NodeSpec::scripted(Scripted::filter(3)))
        .node("slow", NodeSpec::scripted(Scripted::sink(3).pauses(0.5)))
        .collector("fast")
        .edge("input", "pass")
        .edge_depth(64)
        .edge("pass", "slow")
        .edge_backpressure(edge)
        .edge("pass", "fast")
        .queue_depth(2)
        .backpressure_policy(flow)
}

#[test]
fn an_edge_backpressure_policy_overrides_the_flows_for_that_edge_only() {
    // The slow sink's queue drops its newest elements; the collector's blocks
    // the producer, so it loses none.
    let run = fan_out(
        BackpressurePolicy::BlockProducer,
        BackpressurePolicy::DropNewest,
    )
    .run()
    .unwrap();
    assert_eq!(run.node("fast").delivered, 20);
    assert!(run.queue_drops > 0, "{:?}", run.counts());
    assert_eq!(run.node("slow").delivered + run.queue_drops, 20);
    run.check_accounting().unwrap();

    // The other way round: the slow sink's queue blocks, so it gets all 20.
    let run = fan_out(
        BackpressurePolicy::DropNewest,
        BackpressurePolicy::BlockProducer,
    )
    .run()
    .unwrap();
    assert_eq!(run.node("slow").delivered, 20);
    run.check_accounting().unwrap();

    let err = Pipeline::new("early")
        .edge_backpressure(BackpressurePolicy::Error)
        .source("input", numbers(1))
        .collector("out")
        .edge("input", "out")
        .run()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("edge_backpressure() was called before any edge was added"),
        "{err}"
    );
}

fn fixture_crate(name: &str) -> String {
    fixture_dir(name).display().to_string()
}

/// A project directory holding `text` as its `Torvyn.toml`.
fn project(name: &str, text: &str) -> PathBuf {
    let dir = scratch(&format!("upstream-manifest-{name}"));
    let path = dir.join("Torvyn.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// input -> keep (passes an element when granted `wasi-random`) -> out.
fn capability_flow(security: &str) -> String {
    format!(
        r#"[torvyn]
name = "grants"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "cap"
path = '{cap}'

[[component]]
name = "sink"
path = '{sink}'

{security}

[flow.main.nodes.input]
component = "file://replaced-by-the-input.wasm"
interface = "torvyn:streaming/source"

[flow.main.nodes.keep]
component = "cap"
interface = "torvyn:filtering/filter"

[flow.main.nodes.out]
component = "sink"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "input", port = "output" }}
to = {{ node = "keep", port = "input" }}

[[flow.main.edges]]
from = {{ node = "keep", port = "output" }}
to = {{ node = "out", port = "input" }}
"#,
        cap = fixture_crate("raw-capability-filter"),
        sink = fixture_crate("raw-stdout-sink"),
    )
}

#[test]
fn security_grants_reach_the_nodes_they_name() {
    let cases = [
        ("none", "", 0),
        (
            "node",
            "[security.grants.keep]\ncapabilities = [\"wasi-random\"]",
            3,
        ),
        (
            "component",
            "[security.grants.cap]\ncapabilities = [\"wasi-random\"]",
            3,
        ),
        (
            "other-node",
            "[security.grants.out]\ncapabilities = [\"wasi-random\"]",
            0,
        ),
        (
            "allow-all",
            "[security]\ndefault_capability_policy = \"allow-all\"",
            3,
        ),
    ];
    for (name, security, delivered) in cases {
        let path = project(name, &capability_flow(security));
        let run = Pipeline::from_manifest_with_source(&path, None, NodeSpec::source(numbers(3)))
            .unwrap()
            .run()
            .unwrap();
        assert_eq!(run.node("out").delivered, delivered, "{name}");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn test_timeout_seconds_limits_a_run_and_unused_keys_reach_the_report() {
    let text = format!(
        r#"[torvyn]
name = "endless"
version = "0.1.0"
contract_version = "0.1.0"

[[component]]
name = "numbers"
path = '{source}'

[[component]]
name = "sink"
path = '{sink}'

[test]
timeout_seconds = 1

[runtime]
worker_threads = 4

[observability]
tracing_exporter = "none"

[flow.main.nodes.numbers]
component = "numbers"
interface = "torvyn:streaming/source"

[flow.main.nodes.out]
component = "sink"
interface = "torvyn:streaming/sink"

[[flow.main.edges]]
from = {{ node = "numbers", port = "output" }}
to = {{ node = "out", port = "input" }}
"#,
        source = fixture_crate("raw-endless-source"),
        sink = fixture_crate("raw-stdout-sink"),
    );
    let path = project("timeout", &text);
    let pipeline = Pipeline::from_manifest(&path, None).unwrap();
    assert_eq!(
        pipeline.accepted_unused_keys(),
        ["runtime.worker_threads", "observability"]
    );
    let err = pipeline.run().unwrap_err();
    assert!(
        matches!(
            err.error.kind(),
            ErrorKind::Stopped {
                limit: RunLimit::WallTime(limit)
            } if *limit == Duration::from_secs(1)
        ),
        "{err}"
    );
    assert_eq!(
        err.report.accepted_unused_keys,
        ["runtime.worker_threads", "observability"]
    );
    assert_eq!(
        err.report.summary_json()["accepted_not_used"],
        serde_json::json!(["runtime.worker_threads", "observability"])
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
