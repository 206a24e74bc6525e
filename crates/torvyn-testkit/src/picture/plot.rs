//! The report's pictures as inline SVG: the flow graph laid out (by
//! Graphviz's `dot` when installed, else by `layout-rs`) and the queue
//! lengths over time (`plotters`' SVG backend).

use std::io::Write as _;
use std::process::{Command, Stdio};

use plotters::prelude::*;

use super::Timeline;

/// How a graph was laid out.
pub(crate) enum Layout {
    /// By Graphviz's `dot`.
    Graphviz,
    /// By `layout-rs`.
    Builtin,
}

/// The DOT graph as an SVG element (no XML prolog), and who laid it out;
/// `None` when neither layout works.
pub(crate) fn graph_svg(dot: &str) -> Option<(String, Layout)> {
    if std::env::var_os("TORVYN_REPORT_LAYOUT").is_none_or(|v| v != "builtin")
        && let Some(svg) = graphviz(dot)
    {
        return Some((svg, Layout::Graphviz));
    }
    builtin(dot).map(|svg| (svg, Layout::Builtin))
}

/// `dot -Tsvg`, when it is installed and succeeds.
fn graphviz(dot: &str) -> Option<String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(dot.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text[text.find("<svg")?..].to_string())
}

/// `layout-rs`'s layout of the DOT text. Its parser and layout assume their
/// input is well formed (ours is), and may panic otherwise: a panic gives
/// `None`, never a failed report.
fn builtin(dot: &str) -> Option<String> {
    let dot = dot.to_string();
    let result = std::panic::catch_unwind(move || {
        use layout::backends::svg::SVGWriter;
        use layout::gv::{DotParser, GraphBuilder};
        let graph = DotParser::new(&dot).process().ok()?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut svg = SVGWriter::new();
        visual.do_it(false, false, false, &mut svg);
        Some(svg.finalize())
    });
    let svg = result.ok().flatten()?;
    Some(svg[svg.find("<svg")?..].to_string())
}

/// The queue length of every edge over time, one line per edge, as an SVG
/// element `width` x `height`; `None` without queue samples.
pub(crate) fn queue_plot(timeline: &Timeline, width: u32, height: u32) -> Option<String> {
    if timeline.queues.is_empty() {
        return None;
    }
    let end_ns = timeline
        .calls
        .iter()
        .map(|call| call.end_ns)
        .chain(timeline.queues.iter().map(|sample| sample.at_ns))
        .max()
        .unwrap_or(0);
    let start_ns = timeline
        .calls
        .iter()
        .map(|call| call.start_ns)
        .chain(timeline.queues.iter().map(|sample| sample.at_ns))
        .min()
        .unwrap_or(0);
    let ms = |ns: u64| ns.saturating_sub(start_ns) as f64 / 1e6;
    let x_max = ms(end_ns).max(1e-3);
    let y_max = timeline
        .queues
        .iter()
        .map(|s| s.len)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut out = String::new();
    let drawn: Result<(), Box<dyn std::error::Error>> = (|| {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..x_max, 0f64..(y_max * 1.1).ceil())?;
        chart
            .configure_mesh()
            .x_desc(format!("time (ms, {} clock)", timeline.clock.as_str()))
            .y_desc("elements queued")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .draw()?;
        for (e, (from, _, to)) in timeline.edges.iter().enumerate() {
            // A step line: the length holds until the next change.
            let mut points = vec![(0.0, 0.0)];
            let mut last = 0.0;
            for (at, len) in timeline.queue_of(e) {
                let x = ms(at);
                points.push((x, last));
                last = len as f64;
                points.push((x, last));
            }
            points.push((x_max, last));
            let color = Palette99::pick(e).to_rgba();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(format!("{from} -> {to}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
        Ok(())
    })();
    drawn.ok()?;
    Some(out[out.find("<svg")?..].to_string())
}
