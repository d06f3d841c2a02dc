//! The job queue and the submission store that connect schedulers and
//! workers, behind two traits with two backends each:
//!
//! - `nats`: NATS JetStream. A work-queue stream with one durable pull
//!   consumer shared by all workers, and a key-value bucket holding every
//!   submission's state, so scheduler replicas keep no state of their own.
//! - `embedded`: in-process equivalents for a single machine, with the same
//!   delivery, redelivery and watch semantics.
//!
//! `testing` starts a real `nats-server` with JetStream on a free loopback
//! port for tests.

pub mod embedded;
mod keys;
pub mod nats;
pub mod testing;

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use verdict_proto::v1::{Job, Submission, WorkerInfo};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("job {submission_id} is {size} bytes, more than the queue's maximum of {max} bytes")]
    TooLarge {
        submission_id: String,
        size: usize,
        max: usize,
    },
    #[error("queue operation {operation} failed: {reason}")]
    Failed {
        operation: &'static str,
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("submission {0} already exists")]
    AlreadyExists(String),
    #[error("submission {id} changed since revision {expected_revision}")]
    Conflict { id: String, expected_revision: u64 },
    #[error("submission {0} not found")]
    NotFound(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store operation {operation} failed: {reason}")]
    Failed {
        operation: &'static str,
        reason: String,
    },
}

/// Result of publishing a job.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    /// True when a job with the same submission id was already queued
    /// within the de-duplication window; no second job was queued.
    pub duplicate: bool,
}

/// Work queue of grading jobs. Delivery is at least once: a job that is not
/// acknowledged within the ack wait (for example because its worker died)
/// is delivered again, to any worker.
#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    /// Queues a job; the submission id de-duplicates.
    async fn publish(&self, job: &Job) -> Result<Published, QueueError>;

    /// Waits up to `wait` for the next job. Returns `None` when none came.
    /// Call only when a sandbox slot is free.
    async fn pull(&self, wait: Duration) -> Result<Option<Box<dyn Delivery>>, QueueError>;

    /// Jobs waiting or in progress, for metrics.
    async fn depth(&self) -> Result<u64, QueueError>;
}

/// One delivery of a job to a worker.
#[async_trait]
pub trait Delivery: Send + Sync {
    fn job(&self) -> &Job;
    /// 1 for the first delivery, 2 for the first redelivery, and so on.
    fn attempt(&self) -> u32;
    /// Tells the queue the job is still being worked on, which restarts the
    /// ack wait. Send at least every `ack_wait / 3`.
    async fn in_progress(&self) -> Result<(), QueueError>;
    /// Removes the job for good. Call only after its final state is stored.
    async fn ack(&self) -> Result<(), QueueError>;
    /// Hands the job back for redelivery after `delay`.
    async fn nak(&self, delay: Option<Duration>) -> Result<(), QueueError>;
}

/// A stored value with its revision, for compare-and-set updates.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub revision: u64,
}

/// Durable store of submission state, shared by schedulers and workers.
#[async_trait]
pub trait SubmissionStore: Send + Sync + 'static {
    /// Stores a new submission; fails with `AlreadyExists` if the id is
    /// taken. Returns the revision.
    async fn create(&self, submission: &Submission) -> Result<u64, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Versioned<Submission>>, StoreError>;

    /// Replaces the submission if its revision is still `expected_revision`;
    /// fails with `Conflict` otherwise. Returns the new revision.
    async fn update(
        &self,
        submission: &Submission,
        expected_revision: u64,
    ) -> Result<u64, StoreError>;

    /// Yields the current value (if any) and then every later revision of
    /// one submission, in order. Revisions may be skipped when updates come
    /// faster than the reader, so consumers must treat each value as a full
    /// snapshot.
    async fn watch(
        &self,
        id: &str,
    ) -> Result<BoxStream<'static, Result<Versioned<Submission>, StoreError>>, StoreError>;

    /// Binds an idempotency key to a submission id atomically. Returns
    /// `None` when this call bound it, or the id bound earlier.
    async fn claim_idempotency_key(
        &self,
        key: &str,
        submission_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Records a worker's announcement; entries expire when not refreshed.
    async fn put_worker(&self, info: &WorkerInfo) -> Result<(), StoreError>;

    /// Workers that announced themselves recently.
    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError>;
}

/// Compare-and-set attempts `update_submission` makes before it gives up.
const UPDATE_ATTEMPTS: u32 = 16;

/// Reads a submission, applies `change` and stores the result with a
/// compare-and-set update, retrying from a fresh read when another writer
/// got there first.
///
/// `change` may run several times, once per attempt, so it must be a pure
/// function of the submission it is given. When it returns false the stored
/// value is returned unchanged. Fails with `NotFound` when the submission
/// does not exist and with `Conflict` after 16 lost races.
pub async fn update_submission<F>(
    store: &dyn SubmissionStore,
    id: &str,
    mut change: F,
) -> Result<Versioned<Submission>, StoreError>
where
    F: FnMut(&mut Submission) -> bool,
{
    let mut last_revision = 0;
    for attempt in 1..=UPDATE_ATTEMPTS {
        let current = store
            .get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        last_revision = current.revision;

        let mut value = current.value.clone();
        if !change(&mut value) {
            return Ok(current);
        }

        match store.update(&value, current.revision).await {
            Ok(revision) => return Ok(Versioned { value, revision }),
            Err(StoreError::Conflict { .. }) => {
                tracing::debug!(
                    submission = id,
                    attempt,
                    revision = current.revision,
                    "submission changed concurrently; retrying the update"
                );
                tokio::task::yield_now().await;
            }
            Err(err) => return Err(err),
        }
    }
    Err(StoreError::Conflict {
        id: id.to_owned(),
        expected_revision: last_revision,
    })
}
