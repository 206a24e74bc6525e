//! One self-contained HTML report of a run: no script, no network, every
//! picture inline SVG.

use std::fmt::Write as _;

use super::plot::{Layout, graph_svg, queue_plot};
use super::{Failure, FlowDiagram, Timeline};
use crate::pipeline::RunResult;

/// What [`html_report`] shows.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    /// The run (its timeline, when recorded, gives the queue plot and the
    /// slowest elements).
    pub result: &'a RunResult,
    /// The flow's graph with component names (say, from
    /// [`Manifest::diagram`](crate::manifest::Manifest::diagram)); without
    /// it, the graph is made from the run alone ([`FlowDiagram::from_run`]).
    pub diagram: Option<&'a FlowDiagram>,
    /// What stopped the flow, if it failed.
    pub failure: Option<&'a Failure>,
    /// Lines shown under the title (a bench's rates).
    pub notes: &'a [String],
}

/// How many of the slowest elements the report lists.
const SLOWEST: usize = 10;

/// The report as one HTML document, readable offline: the flow's graph
/// annotated with the run's counts (inline SVG, laid out by Graphviz's
/// `dot` when it is installed, else by `layout-rs`; `TORVYN_REPORT_LAYOUT=builtin`
/// always uses `layout-rs`), the failure with its source line, a per-node
/// table, the queues' depth and peak, the queue lengths over time (a plot,
/// when the run recorded its timeline), and the slowest elements.
///
/// ```
/// use torvyn_testkit::TestElement;
/// use torvyn_testkit::picture::{ReportInput, html_report};
/// use torvyn_testkit::Pipeline;
///
/// let run = Pipeline::new("demo")
///     .source("in", [TestElement::text("a")])
///     .collector("out")
///     .edge("in", "out")
///     .record_timeline(true)
///     .run()?;
/// let html = html_report(&ReportInput { result: &run, diagram: None, failure: None, notes: &[] });
/// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
/// assert!(!html.contains("<script"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn html_report(input: &ReportInput<'_>) -> String {
    let run = input.result;
    let diagram = input.diagram.map_or_else(
        || FlowDiagram::from_run(run),
        |diagram| diagram.clone().with_run(run),
    );
    let mut out = String::new();
    let title = format!("flow {}", run.flow);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} — torvyn-testkit report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let counts = run.counts();
    let status = match input.failure {
        Some(_) => "<span class=\"bad\">failed</span>",
        None => "<span class=\"good\">finished</span>",
    };
    let _ = write!(
        out,
        "<header><h1>{}</h1><p class=\"status\">{status} · {} elements entered · {} delivered · \
         {} dropped · {} failed · {} dead-lettered · {} discarded · peak queue {}</p>",
        escape(&title),
        counts.entered,
        counts.delivered,
        counts.dropped + counts.queue_dropped,
        counts.failed,
        counts.dead_lettered,
        counts.discarded,
        run.peak_queue_depth()
    );
    for note in input.notes {
        let _ = write!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    out.push_str("</header>\n");

    if let Some(failure) = input.failure {
        out.push_str("<section id=\"failure\"><h2>What stopped the flow</h2>");
        let mut facts = Vec::new();
        if !failure.node.is_empty() {
            facts.push(format!("node <b>{}</b>", escape(&failure.node)));
        }
        if let Some(sequence) = failure.sequence {
            facts.push(format!("element <b>#{sequence}</b>"));
        }
        if let Some(line) = &failure.source_line {
            let function = failure
                .function
                .as_deref()
                .map(|f| format!(" in <code>{}</code>", escape(f)))
                .unwrap_or_default();
            facts.push(format!(
                "source line <code class=\"line\">{}</code>{function}",
                escape(line)
            ));
        }
        if !facts.is_empty() {
            let _ = write!(out, "<p>{}</p>", facts.join(" · "));
        }
        let _ = writeln!(out, "<pre>{}</pre></section>", escape(&failure.message));
    }

    out.push_str("<section id=\"graph\"><h2>The flow</h2>");
    // Top to bottom: a flow's chain of stages stays readable at page width.
    match graph_svg(&diagram.to_dot().replacen("rankdir=LR", "rankdir=TB", 1)) {
        Some((svg, layout)) => {
            let _ = write!(
                out,
                "<div class=\"graph\">{svg}</div><p class=\"small\">Laid out by {}. Each box: \
                 node, role · component, the run's counts; each arrow: port · peak queue \
                 length of its depth.</p>",
                match layout {
                    Layout::Graphviz => "Graphviz",
                    Layout::Builtin => "layout-rs",
                }
            );
        }
        None => {
            let _ = write!(out, "<pre>{}</pre>", escape(&diagram.to_mermaid()));
        }
    }
    out.push_str("</section>\n");

    node_table(&mut out, run);
    edge_table(&mut out, run);

    if let Some(timeline) = &run.timeline {
        out.push_str("<section id=\"queues\"><h2>Queue lengths over time</h2>");
        match queue_plot(timeline, 960, 340) {
            Some(svg) => {
                let _ = write!(out, "<div class=\"plot\">{svg}</div>");
            }
            None => out.push_str("<p>No element was queued.</p>"),
        }
        out.push_str("</section>\n");
        slowest(&mut out, timeline);
        let _ = write!(
            out,
            "<p class=\"small\">Times are on the {} clock{}.{}</p>",
            timeline.clock.as_str(),
            match timeline.clock {
                super::TimelineClock::Virtual => format!(
                    " (virtual time passes between elements and in sleeps; each call is drawn \
                     {} µs wide)",
                    super::VIRTUAL_CALL_NS / 1000
                ),
                super::TimelineClock::Real => String::new(),
            },
            if timeline.dropped > 0 {
                format!(
                    " The timeline was full: {} entries are not shown.",
                    timeline.dropped
                )
            } else {
                String::new()
            }
        );
    }
    let _ = write!(
        out,
        "<footer>torvyn-testkit {}</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

fn node_table(out: &mut String, run: &RunResult) {
    let calls = run.timeline.as_ref().map(|timeline| {
        let mut per_node = vec![(0u64, 0u64); timeline.nodes.len()];
        for call in &timeline.calls {
            if let Some(entry) = per_node.get_mut(call.node) {
                entry.0 += 1;
                entry.1 += call.end_ns.saturating_sub(call.start_ns);
            }
        }
        per_node
    });
    out.push_str(
        "<section id=\"nodes\"><h2>Nodes</h2><table><thead><tr><th>node</th><th>role</th>\
         <th>in</th><th>out</th><th>dropped</th><th>absorbed</th><th>delivered</th>\
         <th>failed</th><th>dead-lettered</th><th>discarded</th><th>retries</th><th>pauses</th>",
    );
    if calls.is_some() {
        out.push_str("<th>calls</th><th>time in calls</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let names: Vec<&str> = run.nodes.iter().map(|(name, _)| name.as_str()).collect();
    let edges: Vec<(&str, &str, &str)> = run
        .edges
        .iter()
        .map(|e| (e.from.as_str(), e.port.as_str(), e.to.as_str()))
        .collect();
    for index in super::timeline::flow_order(&names, &edges) {
        let (name, node) = &run.nodes[index];
        let bad = node.failed + node.dead_lettered + node.discarded > 0;
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td>",
            if bad { " class=\"bad\"" } else { "" },
            escape(name),
            node.role.map_or("?", |role| role.name())
        );
        for value in [
            node.received,
            node.emitted,
            node.dropped,
            node.absorbed,
            node.delivered,
            node.failed,
            node.dead_lettered,
            node.discarded,
            node.retries,
            node.pauses,
        ] {
            let _ = write!(out, "<td class=\"n\">{value}</td>");
        }
        if let Some(calls) = &calls {
            let (count, ns) = calls.get(index).copied().unwrap_or_default();
            let _ = write!(
                out,
                "<td class=\"n\">{count}</td><td class=\"n\">{}</td>",
                duration(ns)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn edge_table(out: &mut String, run: &RunResult) {
    if run.edges.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"edges\"><h2>Queues</h2><table><thead><tr><th>from</th><th>port</th>\
         <th>to</th><th>depth</th><th>peak</th></tr></thead><tbody>",
    );
    for edge in &run.edges {
        let full = edge.peak >= edge.depth;
        let _ = write!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            if full { " class=\"full\"" } else { "" },
            escape(&edge.from),
            escape(&edge.port),
            escape(&edge.to),
            edge.depth,
            edge.peak
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn slowest(out: &mut String, timeline: &Timeline) {
    let slowest = timeline.slowest_elements(SLOWEST);
    if slowest.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"slowest\"><h2>Slowest elements</h2><p class=\"small\">From an \
         element's first call to its last: time in calls and time waiting in queues.</p>\
         <table><thead><tr><th>element</th><th>time in the flow</th><th>calls</th>\
         <th>path</th></tr></thead><tbody>",
    );
    for (sequence, ns, calls) in slowest {
        let path: Vec<String> = timeline
            .calls
            .iter()
            .filter(|call| call.sequence == Some(sequence))
            .map(|call| {
                format!(
                    "{} {}",
                    timeline.nodes.get(call.node).map_or("?", String::as_str),
                    call.function
                )
            })
            .collect();
        let _ = write!(
            out,
            "<tr><td>#{sequence}</td><td class=\"n\">{}</td><td class=\"n\">{calls}</td><td>{}</td></tr>",
            duration(ns),
            escape(&path.join(" → "))
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// Nanoseconds, readably.
fn duration(ns: u64) -> String {
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// Text as HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1100px;\
color:#1b1f24;padding:0 16px;line-height:1.4}\
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;\
padding-bottom:4px}.status{font-size:16px;margin:4px 0}.note,.small{color:#57606a;font-size:14px}\
.good{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}\
table{border-collapse:collapse;font-size:14px}th,td{border:1px solid #d0d7de;padding:4px 8px}\
th{background:#f6f8fa;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.bad td{background:#ffebe9;font-weight:normal}tr.full td{background:#fff8c5}\
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:10px;overflow-x:auto;font-size:13px}\
#failure{border-left:4px solid #cf222e;padding-left:12px}code.line{background:#ffebe9;padding:1px 4px}\
.graph svg,.plot svg{max-width:100%;height:auto}footer{margin-top:32px;color:#8c959f;font-size:12px}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_durations_read() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(duration(999), "999 ns");
        assert_eq!(duration(1_500), "1.5 µs");
        assert_eq!(duration(2_000_000), "2.00 ms");
    }
}
