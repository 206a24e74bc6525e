//! The one table of the contract's exports (the lifecycle and one interface
//! per role), and the role-neutral element call the pipeline runner uses.
//!
//! A new role is a line in [`export_table!`]'s invocation below, its arm in
//! [`Instance::call_role`] and, when its answer has a new shape, an
//! [`Answer`] variant (in `element.rs`).

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::Instance;
use crate::element::{Answer, TestElement};
use crate::error::Error;
use crate::host::HostState;
use crate::host::bindings::exports::torvyn::aggregation::aggregator;
use crate::host::bindings::exports::torvyn::filtering::{filter, router};
use crate::host::bindings::exports::torvyn::streaming::{lifecycle, processor, sink, source};
use crate::role::Role;

/// Generates, from one list of `field => "versioned export name"` (each
/// field named like its bindings module): where each export is in a
/// component ([`Indices`]), the loaded exports of an instance ([`Exports`]),
/// and the list of the names ([`EXPORT_NAMES`]).
macro_rules! export_table {
    ($( $(#[$doc:meta])* $field:ident => $name:literal, )*) => {
        /// Where each contract export a component has is, found once per load.
        #[derive(Default)]
        pub(super) struct Indices {
            $( $field: Option<$field::GuestIndices>, )*
        }

        /// The contract exports of one instance (`None`: not exported).
        pub(super) struct Exports {
            $( $(#[$doc])* pub(super) $field: Option<$field::Guest>, )*
        }

        /// The versioned name of every export in the table.
        #[cfg(test)]
        const EXPORT_NAMES: &[&str] = &[$($name),*];

        impl Indices {
            /// Find the exports of a linked component; an export with a
            /// wrong type is an error naming it.
            pub(super) fn new(pre: &InstancePre<HostState>) -> Result<Indices, String> {
                let mut indices = Indices::default();
                $(
                    if pre.component().get_export_index(None, $name).is_some() {
                        let index = $field::GuestIndices::new(pre).map_err(|err| {
                            format!(
                                "its export `{}` does not match the Torvyn 0.1 contract: {err:#}",
                                $name
                            )
                        })?;
                        indices.$field = Some(index);
                    }
                )*
                Ok(indices)
            }

            /// The exports of a new instance.
            pub(super) fn load(
                &self,
                store: &mut Store<HostState>,
                instance: &wasmtime::component::Instance,
            ) -> Result<Exports, String> {
                Ok(Exports {
                    $(
                        $field: match &self.$field {
                            Some(index) => Some(
                                index
                                    .load(&mut *store, instance)
                                    .map_err(|err| format!("{err:#}"))?,
                            ),
                            None => None,
                        },
                    )*
                })
            }
        }
    };
}

export_table! {
    /// `init` and `teardown` (optional for every role).
    lifecycle => "torvyn:streaming/lifecycle@0.1.0",
    /// [`Role::Source`].
    source => "torvyn:streaming/source@0.1.0",
    /// [`Role::Processor`].
    processor => "torvyn:streaming/processor@0.1.0",
    /// [`Role::Filter`].
    filter => "torvyn:filtering/filter@0.1.0",
    /// [`Role::Router`].
    router => "torvyn:filtering/router@0.1.0",
    /// [`Role::Aggregator`].
    aggregator => "torvyn:aggregation/aggregator@0.1.0",
    /// [`Role::Sink`].
    sink => "torvyn:streaming/sink@0.1.0",
}

impl Instance {
    /// Lend `element` to the component through its role's element call
    /// (`evaluate`, `process`, `route`, `ingest` or `push`); it is the
    /// caller's again afterwards, whatever the call did. A source has no
    /// element call: that is an error.
    pub(crate) fn call_role(&mut self, element: &mut TestElement) -> Result<Answer, Error> {
        Ok(match self.role() {
            Role::Filter => Answer::Evaluated(self.evaluate_lent(element)?),
            Role::Processor => Answer::Processed(self.process_lent(element)?),
            Role::Router => Answer::Routed(self.route_lent(element)?),
            Role::Aggregator => Answer::Ingested(self.ingest_lent(element)?),
            Role::Sink => Answer::Pushed(self.push_lent(element)?),
            Role::Source => return Err(Error::pipeline("internal: element sent to a source")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_interface_is_in_the_export_table() {
        for role in Role::ALL {
            assert!(
                EXPORT_NAMES.contains(&role.versioned_interface().as_str()),
                "{role} is missing from the export table"
            );
        }
        assert_eq!(EXPORT_NAMES.len(), Role::ALL.len() + 1);
        assert!(EXPORT_NAMES.contains(&super::super::inspect::LIFECYCLE_INTERFACE));
    }
}
