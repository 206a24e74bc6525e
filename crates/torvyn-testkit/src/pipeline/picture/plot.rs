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
    let svg = &svg[svg.find("<svg")?..];
    Some(crop(svg).replace("font-family: Times, serif", "font-family: sans-serif"))
}

/// `layout-rs`'s SVG cut to what it draws: its canvas leaves a wide margin
/// below and beside the graph. The size comes from the boxes and labels
/// (the edges run between boxes).
fn crop(svg: &str) -> String {
    let number = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[at..].find('"')? + at;
        tag[at..end].trim().parse().ok()
    };
    let (mut width, mut height) = (0.0f64, 0.0f64);
    for (open, tag_end) in [("<rect ", "/>"), ("<text ", ">")] {
        let mut rest = svg;
        while let Some(at) = rest.find(open) {
            let tag = &rest[at..];
            let tag = &tag[..tag.find(tag_end).unwrap_or(tag.len())];
            let (x, y) = (
                number(tag, "x").unwrap_or(0.0),
                number(tag, "y").unwrap_or(0.0),
            );
            width = width.max(x + number(tag, "width").unwrap_or(0.0));
            height = height.max(y + number(tag, "height").unwrap_or(20.0));
            rest = &rest[at + open.len()..];
        }
    }
    let Some(header_end) = svg.find('>') else {
        return svg.to_string();
    };
    if width <= 0.0 || height <= 0.0 {
        return svg.to_string();
    }
    let (width, height) = ((width + 24.0).ceil(), (height + 16.0).ceil());
    format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\"{}",
        &svg[header_end..]
    )
}

/// Line colours that stay apart on white (matplotlib's `tab10`).
const PALETTE: [(u8, u8, u8); 8] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
];

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
            .y_labels((y_max * 1.1).ceil() as usize + 1)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(242, 242, 242))
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
            let (r, g, b) = PALETTE[e % PALETTE.len()];
            let color = RGBColor(r, g, b);
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
