//! The six roles a Torvyn component can play, and the contract interface each exports.

use std::fmt;

/// The role of a component in a flow, fixed by the contract interface it exports.
///
/// ```
/// use torvyn_testkit::Role;
///
/// assert_eq!(Role::from_interface("torvyn:filtering/filter"), Some(Role::Filter));
/// assert_eq!(Role::from_interface("torvyn:filtering/filter@0.1.0"), Some(Role::Filter));
/// assert_eq!(Role::Router.interface(), "torvyn:filtering/router");
/// assert_eq!(Role::Sink.to_string(), "sink");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Exports `torvyn:streaming/source`: pulled until exhausted.
    Source,
    /// Exports `torvyn:streaming/processor`: one element in, zero or one out.
    Processor,
    /// Exports `torvyn:filtering/filter`: passes or drops an element.
    Filter,
    /// Exports `torvyn:filtering/router`: names the output ports of an element.
    Router,
    /// Exports `torvyn:aggregation/aggregator`: ingests elements, flushes at the end.
    Aggregator,
    /// Exports `torvyn:streaming/sink`: receives elements, completes at the end.
    Sink,
}

impl Role {
    /// Every role, in flow order.
    pub const ALL: [Role; 6] = [
        Role::Source,
        Role::Processor,
        Role::Filter,
        Role::Router,
        Role::Aggregator,
        Role::Sink,
    ];

    /// The unversioned contract interface the role exports, as written in `Torvyn.toml`.
    pub fn interface(self) -> &'static str {
        match self {
            Role::Source => "torvyn:streaming/source",
            Role::Processor => "torvyn:streaming/processor",
            Role::Filter => "torvyn:filtering/filter",
            Role::Router => "torvyn:filtering/router",
            Role::Aggregator => "torvyn:aggregation/aggregator",
            Role::Sink => "torvyn:streaming/sink",
        }
    }

    /// The versioned interface name a component exports (`torvyn:filtering/filter@0.1.0`).
    pub fn versioned_interface(self) -> String {
        format!("{}@0.1.0", self.interface())
    }

    /// The role whose interface is `name`, with or without the `@0.1.0` version.
    pub fn from_interface(name: &str) -> Option<Role> {
        let unversioned = name.strip_suffix("@0.1.0").unwrap_or(name);
        Role::ALL
            .into_iter()
            .find(|role| role.interface() == unversioned)
    }

    /// The lowercase role name (`"filter"`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Processor => "processor",
            Role::Filter => "filter",
            Role::Router => "router",
            Role::Aggregator => "aggregator",
            Role::Sink => "sink",
        }
    }

    /// The contract function a role is called with per element (`pull`
    /// for a source, which takes none).
    pub(crate) fn element_call(self) -> &'static str {
        match self {
            Role::Filter => "evaluate",
            Role::Processor => "process",
            Role::Router => "route",
            Role::Aggregator => "ingest",
            Role::Sink => "push",
            Role::Source => "pull",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
