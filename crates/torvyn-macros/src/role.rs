//! The six roles: their handlers, worlds and export interfaces.

/// What a handler receives besides `self`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// `&Element`.
    Element,
    /// Nothing.
    Nothing,
    /// `Backpressure`.
    Signal,
}

/// The trait (in `torvyn_guest::__private`) its return value must implement.
#[derive(Clone, Copy)]
pub(crate) enum Returns {
    Filter,
    MaybeOutput,
    Route,
    Flush,
    Push,
    Unit,
    /// `()` only (no conversion).
    Nothing,
}

impl Returns {
    pub(crate) fn trait_name(self) -> Option<&'static str> {
        Some(match self {
            Self::Filter => "FilterReturn",
            Self::MaybeOutput => "MaybeOutput",
            Self::Route => "RouteReturn",
            Self::Flush => "FlushReturn",
            Self::Push => "PushReturn",
            Self::Unit => "UnitReturn",
            Self::Nothing => return None,
        })
    }
}

pub(crate) struct Handler {
    pub(crate) name: &'static str,
    pub(crate) input: Input,
    pub(crate) required: bool,
    pub(crate) returns: Returns,
    /// The form shown in messages, e.g. `fn evaluate(&mut self, element: &Element) -> bool`.
    pub(crate) shape: &'static str,
    /// Whether an omitted return type is fine (`()` is accepted).
    pub(crate) unit_ok: bool,
}

const fn h(
    name: &'static str,
    input: Input,
    required: bool,
    returns: Returns,
    shape: &'static str,
    unit_ok: bool,
) -> Handler {
    Handler {
        name,
        input,
        required,
        returns,
        shape,
        unit_ok,
    }
}

use Input::{Element, Nothing, Signal};

const FILTER: &[Handler] = &[h(
    "evaluate",
    Element,
    true,
    Returns::Filter,
    "fn evaluate(&mut self, element: &Element) -> bool",
    false,
)];
const PROCESSOR: &[Handler] = &[h(
    "process",
    Element,
    true,
    Returns::MaybeOutput,
    "fn process(&mut self, element: &Element) -> Result<Option<Output>>",
    false,
)];
const ROUTER: &[Handler] = &[h(
    "route",
    Element,
    true,
    Returns::Route,
    "fn route(&mut self, element: &Element) -> Vec<&str>",
    false,
)];
const AGGREGATOR: &[Handler] = &[
    h(
        "ingest",
        Element,
        true,
        Returns::MaybeOutput,
        "fn ingest(&mut self, element: &Element) -> Result<Option<Output>>",
        false,
    ),
    h(
        "flush",
        Nothing,
        true,
        Returns::Flush,
        "fn flush(&mut self) -> Result<Vec<Output>>",
        false,
    ),
];
const SOURCE: &[Handler] = &[
    h(
        "pull",
        Nothing,
        true,
        Returns::MaybeOutput,
        "fn pull(&mut self) -> Result<Option<Output>>",
        false,
    ),
    h(
        "notify_backpressure",
        Signal,
        false,
        Returns::Nothing,
        "fn notify_backpressure(&mut self, signal: Backpressure)",
        true,
    ),
];
const SINK: &[Handler] = &[
    h(
        "push",
        Element,
        true,
        Returns::Push,
        "fn push(&mut self, element: &Element) -> Result<Backpressure>",
        true,
    ),
    h(
        "complete",
        Nothing,
        false,
        Returns::Unit,
        "fn complete(&mut self) -> Result<()>",
        true,
    ),
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Filter,
    Processor,
    Router,
    Aggregator,
    Source,
    Sink,
}

impl Role {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Filter => "filter",
            Self::Processor => "processor",
            Self::Router => "router",
            Self::Aggregator => "aggregator",
            Self::Source => "source",
            Self::Sink => "sink",
        }
    }

    /// `#[torvyn::filter]`, for messages.
    pub(crate) fn attr(self) -> String {
        format!("`#[torvyn::{}]`", self.name())
    }

    /// The stateless form, for messages (`None`: the role needs an `impl`).
    pub(crate) fn fn_shape(self) -> Option<&'static str> {
        match self {
            Self::Filter => Some("`fn(&Element) -> bool` or `fn(&Element) -> Result<bool>`"),
            Self::Processor => {
                Some("`fn(&Element) -> Option<Output>` or `fn(&Element) -> Result<Option<Output>>`")
            }
            Self::Router => Some("`fn(&Element) -> Vec<&str>` or `fn(&Element) -> Result<Route>`"),
            Self::Sink => Some("`fn(&Element) -> Backpressure` or `fn(&Element) -> Result<()>`"),
            Self::Aggregator | Self::Source => None,
        }
    }

    pub(crate) fn handlers(self) -> &'static [Handler] {
        match self {
            Self::Filter => FILTER,
            Self::Processor => PROCESSOR,
            Self::Router => ROUTER,
            Self::Aggregator => AGGREGATOR,
            Self::Source => SOURCE,
            Self::Sink => SINK,
        }
    }

    /// The world, the WIT package directories it needs, and whether it imports
    /// `buffer-allocator`.
    pub(crate) fn world(self) -> (&'static str, &'static [&'static str], bool) {
        match self {
            Self::Filter => (
                "torvyn:filtering/content-filter@0.1.0",
                &["streaming", "filtering"],
                false,
            ),
            Self::Router => (
                "torvyn:filtering/content-router@0.1.0",
                &["streaming", "filtering"],
                false,
            ),
            Self::Processor => (
                "torvyn:streaming/managed-transform@0.1.0",
                &["streaming"],
                true,
            ),
            Self::Source => ("torvyn:streaming/data-source@0.1.0", &["streaming"], true),
            Self::Sink => ("torvyn:streaming/data-sink@0.1.0", &["streaming"], false),
            Self::Aggregator => (
                "torvyn:aggregation/stream-aggregator@0.1.0",
                &["streaming", "aggregation"],
                true,
            ),
        }
    }

    /// Module path of the export interface under the generated `exports`, and
    /// the name of the SDK trait in `__private`.
    pub(crate) fn export_interface(self) -> (&'static [&'static str], &'static str) {
        match self {
            Self::Filter => (&["torvyn", "filtering", "filter"], "Filter"),
            Self::Router => (&["torvyn", "filtering", "router"], "Router"),
            Self::Processor => (&["torvyn", "streaming", "processor"], "Processor"),
            Self::Source => (&["torvyn", "streaming", "source"], "Source"),
            Self::Sink => (&["torvyn", "streaming", "sink"], "Sink"),
            Self::Aggregator => (&["torvyn", "aggregation", "aggregator"], "Aggregator"),
        }
    }
}
