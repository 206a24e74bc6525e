//! A tight loop over one bench subject, for profilers:
//! `valgrind --tool=callgrind target/release/examples/profile sdk-filter 100000`.
//!
//! Arguments: the subject (`sdk-filter`, `raw-filter`, `sdk-processor`,
//! `raw-processor`), the number of calls (default 100 000), and optionally a
//! `.wasm` file to run instead of the subject's own build (a variant of it, to
//! compare). Processors get a 64-byte payload.

use anyhow::{Context, Result, bail};
use torvyn_bench::Subject;
use torvyn_bench::host::{self, filter::ContentFilterPre, transform::ManagedTransformPre};
use wasmtime::component::Component;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "sdk-filter".to_string());
    let calls: u64 = args.next().map_or(Ok(100_000), |n| n.parse())?;
    let subject = Subject::ALL
        .into_iter()
        .find(|s| s.name() == name)
        .with_context(|| format!("unknown subject `{name}`"))?;
    let engine = host::engine()?;
    let wasm = match args.next() {
        Some(path) => path.into(),
        None => subject.build_release()?,
    };
    let component = Component::from_file(&engine, wasm)?;
    let mut store = host::store(&engine);
    match subject {
        Subject::SdkFilter | Subject::RawFilter => {
            let linker = host::filter_linker(&engine)?;
            let filter = ContentFilterPre::new(linker.instantiate_pre(&component)?)?
                .instantiate(&mut store)?;
            filter
                .torvyn_streaming_lifecycle()
                .call_init(&mut store, "")?
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let element = host::element(&mut store, b"0123456789abcdef", "text/plain")?;
            let evaluate = filter.torvyn_filtering_filter();
            for _ in 0..calls {
                if !evaluate
                    .call_evaluate(&mut store, &element)?
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?
                {
                    bail!("the filter dropped a 16-byte element");
                }
            }
        }
        Subject::SdkProcessor | Subject::RawProcessor => {
            use host::transform::torvyn::streaming::types::ProcessResult;
            let linker = host::transform_linker(&engine)?;
            let processor = ManagedTransformPre::new(linker.instantiate_pre(&component)?)?
                .instantiate(&mut store)?;
            processor
                .torvyn_streaming_lifecycle()
                .call_init(&mut store, "")?
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let element = host::element(&mut store, &[b'a'; 64], "text/plain")?;
            let process = processor.torvyn_streaming_processor();
            for _ in 0..calls {
                match process.call_process(&mut store, &element)? {
                    Ok(ProcessResult::Emit(out)) => {
                        host::take_output(&mut store, out)?;
                    }
                    other => bail!("expected emit, got {other:?}"),
                }
            }
        }
    }
    println!("{name}: {calls} calls");
    Ok(())
}
