//! "Pull now" hints for a patient's devices, sent after a change commits.
//! A hint only: a missed one loses nothing, the next sync catches up.

use tokio::sync::broadcast;
use uuid::Uuid;

/// A patient's data changed; their cursor is now at least `cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nudge {
    /// Whose data.
    pub patient_id: Uuid,
    /// The change number just committed.
    pub cursor: i64,
}

/// The in-process hub the SSE endpoint listens to.
#[derive(Debug, Clone)]
pub struct Nudges {
    sender: broadcast::Sender<Nudge>,
}

impl Default for Nudges {
    fn default() -> Self {
        // Slow listeners lag and skip hints rather than holding memory.
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl Nudges {
    /// Tells listeners that `patient_id`'s data changed.
    pub fn send(&self, patient_id: Uuid, cursor: i64) {
        // No listener is not an error.
        let _ = self.sender.send(Nudge { patient_id, cursor });
    }

    /// A receiver of every nudge from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Nudge> {
        self.sender.subscribe()
    }
}
