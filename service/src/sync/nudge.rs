//! "Pull now" hints for a patient's devices, sent after a change commits,
//! and the worker's wake-up for new webhook messages. Hints only: a missed
//! one loses nothing, the next sync or poll catches up.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// A patient's data changed; their cursor is now at least `cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nudge {
    /// Whose data.
    pub patient_id: Uuid,
    /// The change number just committed.
    pub cursor: i64,
}

/// The in-process hub the SSE endpoint and the worker listen to.
#[derive(Debug, Clone)]
pub struct Nudges {
    sender: broadcast::Sender<Nudge>,
    deliveries: Arc<watch::Sender<u64>>,
}

impl Default for Nudges {
    fn default() -> Self {
        Self::new()
    }
}

impl Nudges {
    /// A hub no one listens to yet.
    pub fn new() -> Self {
        // Slow listeners lag and skip hints rather than holding memory.
        Self {
            sender: broadcast::channel(1024).0,
            deliveries: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Tells listeners that `patient_id`'s data changed.
    pub fn send(&self, patient_id: Uuid, cursor: i64) {
        // No listener is not an error.
        let _ = self.sender.send(Nudge { patient_id, cursor });
    }

    /// A receiver of every nudge from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Nudge> {
        self.sender.subscribe()
    }

    /// Wakes the in-process worker: webhook or push messages were
    /// committed.
    pub fn wake_deliveries(&self) {
        self.deliveries.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// What each delivery loop waits on for [`Nudges::wake_deliveries`]:
    /// every receiver sees a wake given while it was busy, once.
    pub fn deliveries(&self) -> watch::Receiver<u64> {
        self.deliveries.subscribe()
    }
}
