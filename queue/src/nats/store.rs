//! Submission store on JetStream key-value buckets.

use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use async_trait::async_trait;
use bytes::Bytes;
use futures::future;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use prost::Message as _;
use verdict_proto::v1::{Submission, WorkerInfo};

use crate::keys::{check_id, idempotency_key, is_valid_id, submission_key, worker_key};
use crate::{StoreError, SubmissionStore, Versioned};

/// Attempts to bind an idempotency key. A second attempt is needed only
/// when the bound key expired between the failed create and the read.
const CLAIM_ATTEMPTS: u32 = 3;

/// Submission store on JetStream key-value buckets, built by
/// `nats::connect`. A revision is the bucket's stream sequence.
pub struct NatsStore {
    submissions: kv::Store,
    idempotency: kv::Store,
    workers: kv::Store,
}

impl NatsStore {
    pub(super) fn new(submissions: kv::Store, idempotency: kv::Store, workers: kv::Store) -> Self {
        NatsStore {
            submissions,
            idempotency,
            workers,
        }
    }
}

fn failed(operation: &'static str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Failed {
        operation,
        reason: err.to_string(),
    }
}

fn decode<T: prost::Message + Default>(
    operation: &'static str,
    key: &str,
    value: Bytes,
) -> Result<T, StoreError> {
    T::decode(value).map_err(|err| StoreError::Failed {
        operation,
        reason: format!("value of key {key} does not decode: {err}"),
    })
}

/// Converts an entry to a submission, or to `None` for a delete marker.
fn versioned(
    operation: &'static str,
    entry: kv::Entry,
) -> Result<Option<Versioned<Submission>>, StoreError> {
    if entry.operation != Operation::Put {
        return Ok(None);
    }
    let value = decode(operation, &entry.key, entry.value)?;
    Ok(Some(Versioned {
        value,
        revision: entry.revision,
    }))
}

#[async_trait]
impl SubmissionStore for NatsStore {
    async fn create(&self, submission: &Submission) -> Result<u64, StoreError> {
        check_id("create", "submission", &submission.id)?;
        let key = submission_key(&submission.id);
        let value = Bytes::from(submission.encode_to_vec());
        self.submissions
            .create(&key, value)
            .await
            .map_err(|err| match err.kind() {
                CreateErrorKind::AlreadyExists => StoreError::AlreadyExists(submission.id.clone()),
                _ => failed("create", format!("submission {}: {err}", submission.id)),
            })
    }

    async fn get(&self, id: &str) -> Result<Option<Versioned<Submission>>, StoreError> {
        // No submission can have an id that is not a valid key.
        if !is_valid_id(id) {
            return Ok(None);
        }
        let entry = self
            .submissions
            .entry(submission_key(id))
            .await
            .map_err(|err| failed("get", format!("submission {id}: {err}")))?;
        match entry {
            Some(entry) => versioned("get", entry),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        submission: &Submission,
        expected_revision: u64,
    ) -> Result<u64, StoreError> {
        let id = &submission.id;
        if !is_valid_id(id) {
            return Err(StoreError::NotFound(id.clone()));
        }
        let key = submission_key(id);
        let value = Bytes::from(submission.encode_to_vec());
        let result = self
            .submissions
            .update(&key, value, expected_revision)
            .await;
        let err = match result {
            Ok(revision) => return Ok(revision),
            Err(err) => err,
        };
        if err.kind() != UpdateErrorKind::WrongLastRevision {
            return Err(failed("update", format!("submission {id}: {err}")));
        }

        // The server reports a missing key as a wrong revision as well.
        match self.get(id).await? {
            None => Err(StoreError::NotFound(id.clone())),
            Some(_) => Err(StoreError::Conflict {
                id: id.clone(),
                expected_revision,
            }),
        }
    }

    async fn watch(
        &self,
        id: &str,
    ) -> Result<BoxStream<'static, Result<Versioned<Submission>, StoreError>>, StoreError> {
        check_id("watch", "submission", id)?;
        // The server starts the watch at the key's latest value and then
        // sends every later one, so no update between the first value and
        // the next can fall in a gap.
        let watch = self
            .submissions
            .watch_with_history(submission_key(id))
            .await
            .map_err(|err| failed("watch", format!("submission {id}: {err}")))?;

        // A delete marker ends the stream: the submission is gone.
        let id = id.to_owned();
        let updates = watch
            .map(move |entry| match entry {
                Ok(entry) => versioned("watch", entry).transpose(),
                Err(err) => Some(Err(failed("watch", format!("submission {id}: {err}")))),
            })
            .take_while(|item| future::ready(item.is_some()))
            .filter_map(future::ready);
        Ok(updates.boxed())
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        submission_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let stored_key = idempotency_key(key);
        for _ in 0..CLAIM_ATTEMPTS {
            let value = Bytes::from(submission_id.to_owned());
            let err = match self.idempotency.create(&stored_key, value).await {
                Ok(_) => return Ok(None),
                Err(err) if err.kind() == CreateErrorKind::AlreadyExists => err,
                Err(err) => return Err(failed("claim_idempotency_key", err)),
            };
            let bound = self
                .idempotency
                .get(stored_key.as_str())
                .await
                .map_err(|err| failed("claim_idempotency_key", err))?;
            match bound {
                Some(bound) => {
                    let bound =
                        String::from_utf8(bound.to_vec()).map_err(|_| StoreError::Failed {
                            operation: "claim_idempotency_key",
                            reason: format!("value of key {stored_key} is not UTF-8"),
                        })?;
                    return Ok(Some(bound));
                }
                None => {
                    tracing::debug!(error = %err, "idempotency key expired while claimed; retrying")
                }
            }
        }
        Err(StoreError::Failed {
            operation: "claim_idempotency_key",
            reason: format!("key {stored_key} kept changing in {CLAIM_ATTEMPTS} attempts"),
        })
    }

    async fn put_worker(&self, info: &WorkerInfo) -> Result<(), StoreError> {
        check_id("put_worker", "worker", &info.id)?;
        let value = Bytes::from(info.encode_to_vec());
        self.workers
            .put(worker_key(&info.id), value)
            .await
            .map_err(|err| failed("put_worker", format!("worker {}: {err}", info.id)))?;
        Ok(())
    }

    async fn workers(&self) -> Result<Vec<WorkerInfo>, StoreError> {
        let keys: Vec<String> = self
            .workers
            .keys()
            .await
            .map_err(|err| failed("workers", err))?
            .try_collect()
            .await
            .map_err(|err| failed("workers", err))?;

        let mut workers = Vec::with_capacity(keys.len());
        for key in keys {
            // An announcement can expire between listing and reading.
            let entry = self
                .workers
                .entry(key.as_str())
                .await
                .map_err(|err| failed("workers", err))?;
            if let Some(entry) = entry.filter(|entry| entry.operation == Operation::Put) {
                workers.push(decode::<WorkerInfo>("workers", &key, entry.value)?);
            }
        }
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(workers)
    }
}
