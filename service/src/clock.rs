//! Time as a dependency: everything that needs "now" is handed a clock, so
//! tests and jobs can fix it.

use std::fmt::Debug;
use std::sync::Arc;

use jiff::Timestamp;

/// A source of the current instant.
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// The current instant in milliseconds since the Unix epoch, the unit
    /// stored in the database.
    fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A shareable clock handle.
pub type SharedClock = Arc<dyn Clock>;
