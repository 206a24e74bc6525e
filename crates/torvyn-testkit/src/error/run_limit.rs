//! [`RunLimit`]: the limit a stopped flow reached.

use std::fmt;
use std::time::Duration;

/// The limit a stopped flow reached ([`ErrorKind::Stopped`](super::ErrorKind::Stopped)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunLimit {
    /// [`Pipeline::max_elements`](crate::Pipeline::max_elements): the sources
    /// produced this many elements and were not pulled again; everything
    /// already in the flow was processed to the end.
    Elements(u64),
    /// [`Pipeline::timeout`](crate::Pipeline::timeout): the run's wall time.
    WallTime(Duration),
    /// No limit was set, and the run took [`DEFAULT_RUN_TIMEOUT`](crate::DEFAULT_RUN_TIMEOUT).
    DefaultWallTime(Duration),
    /// [`Pipeline::max_virtual_time`](crate::Pipeline::max_virtual_time): the
    /// flow's virtual clock moved this far past its start.
    VirtualTime(Duration),
    /// [`Interrupt::interrupt`](crate::Interrupt::interrupt) (Ctrl+C in the
    /// command line): the sources were not pulled again; everything already
    /// in the flow was processed to the end.
    Interrupted,
}

impl fmt::Display for RunLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunLimit::Elements(max) => write!(
                f,
                "stopped at its element limit: its sources produced {max} elements and were \
                 not pulled again; raise the limit (`Pipeline::max_elements`, `--max-elements`) \
                 to run longer"
            ),
            RunLimit::WallTime(limit) => write!(
                f,
                "stopped at its time limit of {limit:?} (wall time) before it finished; raise \
                 the limit (`Pipeline::timeout`, `--timeout`) to run longer"
            ),
            RunLimit::DefaultWallTime(limit) => write!(
                f,
                "ran for {limit:?}, the default time budget of a run, without finishing (a \
                 source that never ends?); bound the run with `Pipeline::max_elements` \
                 (`--max-elements N`), or give it more time with `Pipeline::timeout` \
                 (`--timeout DURATION`)"
            ),
            RunLimit::VirtualTime(limit) => write!(
                f,
                "stopped when its virtual clock passed {limit:?} after the start; raise the \
                 limit (`Pipeline::max_virtual_time`) to run longer"
            ),
            RunLimit::Interrupted => write!(
                f,
                "was interrupted: its sources were not pulled again, and the elements already \
                 in the flow were run to the end"
            ),
        }
    }
}
