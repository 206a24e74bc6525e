//! Pictures of a flow, made from its definition and from a real run: the
//! graph as Mermaid or DOT ([`FlowDiagram`]), a per-element timeline in the
//! Chrome trace event format ([`Timeline::to_chrome_trace`]) and as text a
//! person reads ([`TraceView`]), and (with the
//! `report` feature, which the CLI enables) one self-contained HTML report
//! (`html_report`), and (with the `profile` feature, which the CLI enables)
//! a guest profile of each node in the Firefox profiler's format (`Profiler`).
//!
//! Nothing here runs unless asked for: a [`Pipeline`](crate::Pipeline)
//! records a [`Timeline`] only with
//! [`Pipeline::record_timeline`](crate::Pipeline::record_timeline),
//! and the rest reads a finished [`RunResult`](crate::RunResult).

mod chrome;
mod diagram;
mod failure;
#[cfg(feature = "report")]
mod html;
#[cfg(feature = "report")]
mod plot;
#[cfg(feature = "profile")]
mod profile;
mod timeline;
mod trace_view;

pub use diagram::{DiagramEdge, DiagramNode, FlowDiagram};
pub use failure::Failure;
#[cfg(feature = "report")]
pub use html::{ReportInput, html_report};
#[cfg(feature = "profile")]
pub use profile::Profiler;

pub use timeline::{Call, CallBuffers, QueueSample, Timeline, TimelineClock, TimelineMark};
pub(crate) use timeline::{Recorder, Started, flow_order};
pub use timeline::{TIMELINE_CAPACITY, VIRTUAL_CALL_NS};
pub use trace_view::{BackpressureEvent, ElementTrace, Stage, TraceView};
