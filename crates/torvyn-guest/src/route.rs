//! Router ports and backpressure signals.

/// The ports a router sends an element to: none drops it, several fan it out.
///
/// Router handlers may return a `Route`, a port name (`&str`, `String`), an
/// `Option` of one, or a `Vec`/array of them.
///
/// ```
/// use torvyn_guest::Route;
/// assert_eq!(Route::to("json").ports(), ["json"]);
/// assert_eq!(Route::fan_out(["a", "b"]).ports(), ["a", "b"]);
/// assert!(Route::drop().ports().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route(Vec<String>);

impl Route {
    /// One port.
    pub fn to(port: impl Into<String>) -> Self {
        Self(vec![port.into()])
    }

    /// Several ports: the same buffer goes to each.
    pub fn fan_out<P: Into<String>>(ports: impl IntoIterator<Item = P>) -> Self {
        Self(ports.into_iter().map(Into::into).collect())
    }

    /// No port: the element is dropped.
    pub fn drop() -> Self {
        Self(Vec::new())
    }

    /// The port names.
    pub fn ports(&self) -> &[String] {
        &self.0
    }

    /// The port names, owned.
    pub fn into_ports(self) -> Vec<String> {
        self.0
    }
}

impl From<&str> for Route {
    fn from(port: &str) -> Self {
        Self::to(port)
    }
}
impl From<String> for Route {
    fn from(port: String) -> Self {
        Self::to(port)
    }
}
impl<P: Into<String>> From<Option<P>> for Route {
    fn from(port: Option<P>) -> Self {
        Self::fan_out(port)
    }
}
impl<P: Into<String>> From<Vec<P>> for Route {
    fn from(ports: Vec<P>) -> Self {
        Self::fan_out(ports)
    }
}
impl<P: Into<String>, const N: usize> From<[P; N]> for Route {
    fn from(ports: [P; N]) -> Self {
        Self::fan_out(ports)
    }
}

/// Flow control between a consumer and its producer (the contract's
/// `backpressure-signal`).
///
/// ```
/// use torvyn_guest::Backpressure;
/// // What a sink's `push` answers: keep going, or ask the producer to pause.
/// let answer = |queued: usize| if queued > 100 { Backpressure::Pause } else { Backpressure::Ready };
/// assert_eq!(answer(3), Backpressure::Ready);
/// assert_eq!(answer(500), Backpressure::Pause);
/// assert_eq!(Backpressure::default(), Backpressure::Ready);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Backpressure {
    /// Send more.
    #[default]
    Ready,
    /// Stop sending until told `Ready`.
    Pause,
}
