//! What a component answered for one element.

use crate::element::{Output, ProcessError, Processed, Signal};

/// What a component answered for one element.
///
/// A property gets one per element; [`PropTest::run_case`](super::PropTest::run_case)
/// returns them. Owned values: compare them, or read them with the methods.
///
/// ```
/// use torvyn_testkit::prop::Outcome;
/// use torvyn_testkit::{ProcessError, Processed, Signal};
///
/// let answers = [
///     Outcome::Evaluated(true),
///     Outcome::Processed(Processed::Drop),
///     Outcome::Routed(vec!["audit".into()]),
///     Outcome::Pushed(Signal::Pause),
///     Outcome::Failed(ProcessError::Unavailable("db down".into())),
/// ];
/// assert_eq!(answers.iter().filter(|a| a.error().is_some()).count(), 1);
/// assert!(matches!(&answers[2], Outcome::Routed(ports) if ports == &["audit"]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A filter's `evaluate`: pass (`true`) or drop.
    Evaluated(bool),
    /// A processor's `process`.
    Processed(Processed),
    /// A router's `route`: the ports.
    Routed(Vec<String>),
    /// An aggregator's `ingest`.
    Ingested(Option<Output>),
    /// A sink's `push`.
    Pushed(Signal),
    /// A `process-error` (not `fatal`, unless allowed).
    Failed(ProcessError),
}

impl Outcome {
    /// A filter's answer, `None` for other roles and errors.
    ///
    /// ```
    /// use torvyn_testkit::prop::Outcome;
    ///
    /// assert_eq!(Outcome::Evaluated(false).passed(), Some(false));
    /// assert_eq!(Outcome::Routed(vec![]).passed(), None);
    /// ```
    pub fn passed(&self) -> Option<bool> {
        match self {
            Outcome::Evaluated(pass) => Some(*pass),
            _ => None,
        }
    }

    /// The element the component emitted (processor `emit`, aggregator output).
    ///
    /// ```
    /// use torvyn_testkit::element::Meta;
    /// use torvyn_testkit::prop::Outcome;
    /// use torvyn_testkit::{Output, Processed};
    ///
    /// let emitted = Output::new(b"HI".to_vec(), "text/plain", Meta::default());
    /// let outcome = Outcome::Processed(Processed::Emit(emitted));
    /// assert_eq!(outcome.output().and_then(Output::text), Some("HI"));
    /// assert_eq!(Outcome::Processed(Processed::Drop).output(), None);
    /// ```
    pub fn output(&self) -> Option<&Output> {
        match self {
            Outcome::Processed(Processed::Emit(output)) => Some(output),
            Outcome::Ingested(Some(output)) => Some(output),
            _ => None,
        }
    }

    /// The `process-error` the component returned, if it did: the host's
    /// [`ProcessError`] (not the guest's `torvyn_guest::Error`), borrowed.
    ///
    /// ```
    /// use torvyn_testkit::ProcessError;
    /// use torvyn_testkit::prop::Outcome;
    ///
    /// let outcome = Outcome::Failed(ProcessError::InvalidInput("not JSON".into()));
    /// assert_eq!(outcome.error(), Some(&ProcessError::InvalidInput("not JSON".into())));
    /// assert_eq!(outcome.error().map(ProcessError::message), Some("not JSON"));
    /// assert_eq!(Outcome::Evaluated(true).error(), None);
    /// ```
    pub fn error(&self) -> Option<&ProcessError> {
        match self {
            Outcome::Failed(error) => Some(error),
            _ => None,
        }
    }
}
