//! In-process submission store with revisions and watches.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;
use verdict_proto::v1::{Submission, WorkerInfo};

use crate::keys::check_id;
use crate::{StoreError, SubmissionStore, Versioned};

type Slot = watch::Sender<Option<Versioned<Submission>>>;

/// Submission store held in memory. Revisions come from one counter shared
/// by all submissions, as in a NATS key-value bucket, so a revision is
/// unique across the store and grows with every write. Idempotency keys
/// stay bound for the lifetime of the store.
pub struct EmbeddedStore {
    worker_ttl: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last_revision: u64,
    /// One watch channel per submission id, holding its current value.
    /// `None` marks an id that is watched but not created yet.
    submissions: HashMap<String, Slot>,
    idempotency_keys: HashMap<String, String>,
    /// Worker announcements with the moment each one expires.
    workers: HashMap<String, (WorkerInfo, Instant)>,
}

impl EmbeddedStore {
    /// Creates an empty store that lists a worker announcement for
    /// `worker_ttl` after its last `put_worker`.
    pub fn new(worker_ttl: Duration) -> EmbeddedStore {
        EmbeddedStore {
            worker_ttl,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every operation changes the maps in one step, so a panic while
        // the lock was held leaves them consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn next_revision(&mut self) -> u64 {
        self.last_revision += 1;
        self.last_revision
    }
}

#[async_trait]
impl SubmissionStore for EmbeddedStore {
    async fn create(&self, submission: &Submission) -> Result<u64, StoreError> {
        check_id("create", "submission", &submission.id)?;
        let mut state = self.lock();
        let exists = state
            .submissions
            .get(&submission.id)
            .is_some_and(|slot| slot.borrow().is_some());
        if exists {
            return Err(StoreError::AlreadyExists(submission.id.clone()));
        }

        let revision = state.next_revision();
        let value = Some(Versioned {
            value: submission.clone(),
            revision,
        });
        match state.submissions.get(&submission.id) {
            Some(slot) => {
                slot.send_replace(value);
            }
            None => {
                let (slot, _) = watch::channel(value);
                state.submissions.insert(submission.id.clone(), slot);
            }
        }
        Ok(revision)
    }

    async fn get(&self, id: &str) -> Result<Option<Versioned<Submission>>, StoreError> {
        let state = self.lock();
        Ok(state
            .submissions
            .get(id)
            .and_then(|slot| slot.borrow().clone()))
    }

    async fn update(
        &self,
        submission: &Submission,
        expected_revision: u64,
    ) -> Result<u64, StoreError> {
        let id = &submission.id;
        let mut state = self.lock();
        let current = state
            .submissions
            .get(id)
            .and_then(|slot| slot.borrow().as_ref().map(|current| current.revision));
        match current {
            None => return Err(StoreError::NotFound(id.clone())),
            Some(revision) if revision != expected_revision => {
                return Err(StoreError::Conflict {
                    id: id.clone(),
                    expected_revision,
                });
            }
            Some(_) => {}
        }

        let revision = state.next_revision();
        if let Some(slot) = state.submissions.get(id) {
            slot.send_replace(Some(Versioned {
                value: submission.clone(),
                revision,
            }));
        }
        Ok(revision)
    }

    async fn watch(
        &self,
        id: &str,
    ) -> Result<BoxStream<'static, Result<Versioned<Submission>, StoreError>>, StoreError> {
        check_id("watch", "submission", id)?;
        let receiver = {
            let mut state = self.lock();
            // TODO: slots created here for ids that are never created stay
            // in the map. Removing a `None` slot with its last watcher would
            // fix that.
            state
                .submissions
                .entry(id.to_owned())
                .or_insert_with(|| watch::channel(None).0)
                .subscribe()
        };

        // The first poll yields the current value and later polls wait for
        // a newer one. A watch channel keeps only the latest value, so a slow
        // reader skips revisions but always ends on the newest.
        let updates = stream::unfold((receiver, true), |(mut receiver, mut first)| async move {
            loop {
                if !first && receiver.changed().await.is_err() {
                    return None;
                }
                first = false;
                let value = receiver.borrow_and_update().clone();
                if let Some(value) = value {
                    return Some((Ok(value), (receiver, false)));
                }
            }
        });
        Ok(updates.boxed())
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        submission_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut state = self.lock();
        match state.idempotency_keys.get(key) {
            Some(bound) => Ok(Some(bound.clone())),
            None => {
                let bound = submission_id.to_owned();
                state.idempotency_keys.insert(key.to_owned(), bound);
                Ok(None)
            }
        }
    }

    async fn put_worker(&self, info: &WorkerInfo) -> Result<(), StoreError> {
        check_id("put_worker", "worker", &info.id)?;
        let expires_at = Instant::now() + self.worker_ttl;
        let mut state = self.lock();
        state
            .workers
            .insert(info.id.clone(), (info.clone(), expires_at));
        Ok(())
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError> {
        let now = Instant::now();
        let mut state = self.lock();
        state.workers.retain(|_, (_, expires_at)| *expires_at > now);
        let mut workers: Vec<WorkerInfo> = state
            .workers
            .values()
            .map(|(info, _)| info.clone())
            .collect();
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(workers)
    }
}
