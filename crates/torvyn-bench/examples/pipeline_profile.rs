//! One `Pipeline` run of the bench's SDK components, for profilers:
//! `valgrind --tool=callgrind target/release/examples/pipeline_profile spsink 20000 64`.
//!
//! Arguments: the shape (`sink` for source -> sink, `spsink` for source ->
//! processor -> sink, `floor` and `floor-sink` for the floor's bare calls of
//! those on the minimal host, as the `pipeline` bench makes them; with
//! `FLOOR_EPOCH=1` in the environment, on an engine with epoch interruption
//! as the testkit's), the number
//! of elements (default 20 000) and the payload size in bytes (default 64).
//! The run is as the `pipeline` bench makes it (`record(false)`, no latency
//! measurement); with `TRACE=1`, the trace is on.

use anyhow::{Context, Result, bail};
use torvyn_bench::{Subject, build_stage};
use torvyn_testkit::{Component, Pipeline};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_else(|| "spsink".to_string());
    let count: u64 = args.next().map_or(Ok(20_000), |n| n.parse())?;
    let size: usize = args.next().map_or(Ok(64), |n| n.parse())?;
    let load = |path: std::path::PathBuf| {
        Component::from_file(&path).with_context(|| format!("loading {}", path.display()))
    };
    match shape.as_str() {
        "floor" => return floor(count, size, true),
        "floor-sink" => return floor(count, size, false),
        _ => {}
    }
    let source = load(build_stage("sdk-source")?)?;
    let sink = load(build_stage("sdk-sink")?)?;
    let config = format!(r#"{{"count": {count}, "size": {size}}}"#);
    let mut flow = Pipeline::new("profile").component("source", &source, &config);
    flow = match shape.as_str() {
        "sink" => flow.edge("source", "sink"),
        "spsink" => flow
            .component("upper", &load(Subject::SdkProcessor.build_release()?)?, "")
            .edge("source", "upper")
            .edge("upper", "sink"),
        other => bail!("unknown shape `{other}`: use `sink` or `spsink`"),
    };
    let run = flow
        .component("sink", &sink, "")
        .record(false)
        // `TRACE=1`: the trace on (its default capacity), still nothing retained.
        .trace_capacity(if std::env::var_os("TRACE").is_some() {
            torvyn_testkit::DEFAULT_TRACE_CAPACITY
        } else {
            0
        })
        .run()
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("{} elements delivered", run.node("sink").received);
    Ok(())
}

/// The floor: `pull` -> `process` -> `push` on one store of the minimal host,
/// buffers passed by handle.
fn floor(count: u64, size: usize, processor: bool) -> Result<()> {
    use torvyn_bench::host;
    let engine = if std::env::var_os("FLOOR_EPOCH").is_some() {
        host::epoch_engine()?
    } else {
        host::engine()?
    };
    let mut stages = host::Stages::new(
        &engine,
        &build_stage("sdk-source")?,
        &Subject::SdkProcessor.build_release()?,
        &build_stage("sdk-sink")?,
        size,
    )?;
    for _ in 0..count {
        stages.one(processor)?;
    }
    println!("{count} floor elements");
    Ok(())
}
