//! In-process queue and store for a single machine, with the delivery,
//! redelivery and watch semantics of the NATS backend. Nothing survives the
//! process: a restart loses queued jobs and stored submissions.

mod queue;
mod store;

use std::sync::Arc;
use std::time::Duration;

pub use queue::{EmbeddedQueue, DEFAULT_MAX_JOB_BYTES};
pub use store::EmbeddedStore;

use crate::{JobQueue, SubmissionStore};

/// Time a worker announcement stays listed without a refresh, the same
/// default as the NATS backend's `worker_ttl`.
pub const DEFAULT_WORKER_TTL: Duration = Duration::from_secs(30);

/// Settings of the in-process backends.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Time a delivery may stay unacknowledged before the job is delivered
    /// again. `Delivery::in_progress` restarts it.
    pub ack_wait: Duration,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            ack_wait: Duration::from_secs(30),
        }
    }
}

/// Creates an in-process job queue and submission store. Worker
/// announcements expire after `DEFAULT_WORKER_TTL`. Build an
/// `EmbeddedStore` directly for another TTL.
pub fn embedded(config: EmbeddedConfig) -> (Arc<dyn JobQueue>, Arc<dyn SubmissionStore>) {
    let queue = EmbeddedQueue::new(config.ack_wait);
    let store = EmbeddedStore::new(DEFAULT_WORKER_TTL);
    (Arc::new(queue), Arc::new(store))
}
