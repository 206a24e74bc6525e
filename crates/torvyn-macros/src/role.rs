//! The six roles: their handlers, worlds and export interfaces.

/// What a handler receives besides `self`: the same in the author's method,
/// the SDK trait and the WIT export.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// `&Element` (WIT: `element: stream-element`).
    Element,
    /// No parameter.
    Nothing,
    /// `Backpressure` (WIT: `signal: backpressure-signal`).
    Backpressure,
}

/// How the author's return value becomes the SDK trait's result: the trait
/// (in `torvyn_guest::__private`) it must implement.
#[derive(Clone, Copy)]
pub(crate) enum Returns {
    /// `bool` or `Result<bool>` (`FilterReturn`).
    Filter,
    /// `Option<Output>` or `Result<Option<Output>>` (`MaybeOutput`).
    MaybeOutput,
    /// `Vec<&str>` or `Result<Route>` (`RouteReturn`).
    Route,
    /// `Vec<Output>` or `Result<Vec<Output>>` (`FlushReturn`).
    Flush,
    /// `Backpressure`, `()` or a `Result` of either (`PushReturn`).
    Push,
    /// `()` or `Result<()>` (`UnitReturn`).
    UnitOrResult,
    /// `()` only: the value is dropped, no trait conversion (the WIT export
    /// returns nothing, so there is no error to pass on).
    UnitOnly,
}

impl Returns {
    /// The conversion trait's name, or `None` for [`Returns::UnitOnly`].
    pub(crate) fn trait_name(self) -> Option<&'static str> {
        Some(match self {
            Self::Filter => "FilterReturn",
            Self::MaybeOutput => "MaybeOutput",
            Self::Route => "RouteReturn",
            Self::Flush => "FlushReturn",
            Self::Push => "PushReturn",
            Self::UnitOrResult => "UnitReturn",
            Self::UnitOnly => return None,
        })
    }
}

/// What the WIT export returns (inside `result<_, process-error>` unless
/// [`WitReturns::Nothing`]).
#[derive(Clone, Copy)]
pub(crate) enum WitReturns {
    /// `result<bool, process-error>`.
    Bool,
    /// `result<process-result, process-error>`.
    ProcessResult,
    /// `result<list<string>, process-error>`: port names.
    PortNames,
    /// `result<option<output-element>, process-error>`.
    MaybeOutput,
    /// `result<list<output-element>, process-error>`.
    Outputs,
    /// `result<backpressure-signal, process-error>`.
    Backpressure,
    /// `result<_, process-error>`.
    Unit,
    /// No return value at all.
    Nothing,
}

/// One handler of a role: the author's method, the SDK trait method and the
/// WIT export share its name and [`Input`].
pub(crate) struct Handler {
    /// The method's name (the WIT export's, with `_` for `-`).
    pub(crate) name: &'static str,
    pub(crate) input: Input,
    /// Whether a stateful component must define it.
    pub(crate) required: bool,
    pub(crate) returns: Returns,
    /// The WIT export's return type.
    pub(crate) wit_returns: WitReturns,
    /// The form shown in messages, e.g. `fn evaluate(&mut self, element: &Element) -> bool`.
    pub(crate) shape: &'static str,
    /// Whether the author may omit the return type (`()` is accepted).
    pub(crate) may_omit_return_type: bool,
}

const FILTER: &[Handler] = &[Handler {
    name: "evaluate",
    input: Input::Element,
    required: true,
    returns: Returns::Filter,
    wit_returns: WitReturns::Bool,
    shape: "fn evaluate(&mut self, element: &Element) -> bool",
    may_omit_return_type: false,
}];
const PROCESSOR: &[Handler] = &[Handler {
    name: "process",
    input: Input::Element,
    required: true,
    returns: Returns::MaybeOutput,
    wit_returns: WitReturns::ProcessResult,
    shape: "fn process(&mut self, element: &Element) -> Result<Option<Output>>",
    may_omit_return_type: false,
}];
const ROUTER: &[Handler] = &[Handler {
    name: "route",
    input: Input::Element,
    required: true,
    returns: Returns::Route,
    wit_returns: WitReturns::PortNames,
    shape: "fn route(&mut self, element: &Element) -> Vec<&str>",
    may_omit_return_type: false,
}];
const AGGREGATOR: &[Handler] = &[
    Handler {
        name: "ingest",
        input: Input::Element,
        required: true,
        returns: Returns::MaybeOutput,
        wit_returns: WitReturns::MaybeOutput,
        shape: "fn ingest(&mut self, element: &Element) -> Result<Option<Output>>",
        may_omit_return_type: false,
    },
    Handler {
        name: "flush",
        input: Input::Nothing,
        required: true,
        returns: Returns::Flush,
        wit_returns: WitReturns::Outputs,
        shape: "fn flush(&mut self) -> Result<Vec<Output>>",
        may_omit_return_type: false,
    },
];
const SOURCE: &[Handler] = &[
    Handler {
        name: "pull",
        input: Input::Nothing,
        required: true,
        returns: Returns::MaybeOutput,
        wit_returns: WitReturns::MaybeOutput,
        shape: "fn pull(&mut self) -> Result<Option<Output>>",
        may_omit_return_type: false,
    },
    Handler {
        name: "notify_backpressure",
        input: Input::Backpressure,
        required: false,
        returns: Returns::UnitOnly,
        wit_returns: WitReturns::Nothing,
        shape: "fn notify_backpressure(&mut self, signal: Backpressure)",
        may_omit_return_type: true,
    },
];
const SINK: &[Handler] = &[
    Handler {
        name: "push",
        input: Input::Element,
        required: true,
        returns: Returns::Push,
        wit_returns: WitReturns::Backpressure,
        shape: "fn push(&mut self, element: &Element) -> Result<Backpressure>",
        may_omit_return_type: true,
    },
    Handler {
        name: "complete",
        input: Input::Nothing,
        required: false,
        returns: Returns::UnitOrResult,
        wit_returns: WitReturns::Unit,
        shape: "fn complete(&mut self) -> Result<()>",
        may_omit_return_type: true,
    },
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
