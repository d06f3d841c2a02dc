//! The `verdict.v1.Grader` RPCs.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status};
use tracing::{debug, info, instrument, warn, Instrument, Span};
use verdict_proto::v1::grader_server::Grader;
use verdict_proto::v1::{
    CancelSubmissionRequest, GetSubmissionRequest, Job, Language, ListLanguagesRequest,
    ListLanguagesResponse, Submission, SubmissionEvent, SubmissionStatus, SubmitRequest,
    SubmitResponse, WatchSubmissionRequest,
};
use verdict_queue::{
    update_submission, JobQueue, QueueError, StoreError, SubmissionStore, Versioned,
};

use crate::events::{events_between, is_final};
use crate::metrics;
use crate::validate::{self, RequestLimits};

/// Error message stored on a submission cancelled through the API.
pub const CANCELLED_BY_CLIENT: &str = "cancelled by client";

/// Events buffered per watch stream before the forwarding task waits for
/// the client to read.
const WATCH_BUFFER: usize = 32;

/// Settings of a scheduler replica.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Size limits of submit requests.
    pub limits: RequestLimits,
    /// Language ids that `Submit` accepts. Defaults to every embedded
    /// langpack. Submit does not check that a worker can run the language,
    /// so a job for a language that no worker has waits in the queue.
    pub languages: Vec<String>,
    /// Interval between checks of the store and the queue that drive the
    /// health status of `verdict.v1.Grader`.
    pub health_interval: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            limits: RequestLimits::default(),
            languages: verdict_langpacks::all()
                .into_iter()
                .map(|pack| pack.id)
                .collect(),
            health_interval: Duration::from_secs(5),
        }
    }
}

/// The stream type of `Grade` and `WatchSubmission`.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<SubmissionEvent, Status>> + Send>>;

/// Implementation of `verdict.v1.Grader` over a job queue and a
/// submission store. Cloning is cheap and clones share everything.
#[derive(Clone)]
pub struct GraderService {
    queue: Arc<dyn JobQueue>,
    store: Arc<dyn SubmissionStore>,
    config: Arc<SchedulerConfig>,
    /// Cancelled when the server shuts down, which ends open watch
    /// streams so that the graceful shutdown does not wait for them.
    streams_shutdown: CancellationToken,
}

impl GraderService {
    pub fn new(
        queue: Arc<dyn JobQueue>,
        store: Arc<dyn SubmissionStore>,
        config: SchedulerConfig,
    ) -> Self {
        Self {
            queue,
            store,
            config: Arc::new(config),
            streams_shutdown: CancellationToken::new(),
        }
    }

    /// Settings this service was built with.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Ends this service's watch streams when `token` is cancelled.
    pub(crate) fn end_streams_on(&mut self, token: &CancellationToken) {
        self.streams_shutdown = token.child_token();
    }

    /// Checks that the store and the queue respond, for health checking.
    pub(crate) async fn check_backends(&self) -> Result<(), String> {
        self.store
            .workers()
            .await
            .map_err(|error| format!("store: {error}"))?;
        self.queue
            .depth()
            .await
            .map_err(|error| format!("queue: {error}"))?;
        Ok(())
    }

    /// Validates and queues a submission exactly as the Submit RPC does,
    /// for in-process callers such as `verdict judge`.
    #[instrument(name = "submit", skip_all, fields(submission = tracing::field::Empty))]
    pub async fn submit(&self, request: SubmitRequest) -> Result<SubmitResponse, Status> {
        let request = match validate::validate_submit(
            &request,
            &self.config.limits,
            &self.config.languages,
        ) {
            Ok(normalized) => normalized,
            Err(violations) => {
                let reason = violations
                    .first()
                    .map(|v| top_level_field(&v.field))
                    .unwrap_or("unknown");
                metrics::submission_rejected(reason);
                debug!(
                    violations = violations.len(),
                    reason, "submit request rejected"
                );
                return Err(validate::invalid_argument(&violations));
            }
        };
        metrics::submission_received(&request.language);

        let id = uuid::Uuid::now_v7().hyphenated().to_string();
        Span::current().record("submission", id.as_str());

        if !request.idempotency_key.is_empty() {
            let fingerprint = request_fingerprint(&request);
            let claimed = self
                .store
                .claim_idempotency_key(&request.idempotency_key, &format!("{id} {fingerprint}"))
                .await
                .map_err(|error| store_status(&id, error))?;
            if let Some(bound) = claimed {
                let (existing, bound_fingerprint) = match bound.split_once(' ') {
                    Some((existing, fingerprint)) => (existing.to_owned(), Some(fingerprint)),
                    None => (bound.clone(), None),
                };
                if bound_fingerprint.is_some_and(|bound| bound != fingerprint) {
                    metrics::submission_rejected("idempotency_key");
                    info!(existing = %existing, "idempotency key reused for a different request");
                    let violation = tonic_types::FieldViolation::new(
                        "idempotency_key",
                        format!(
                            "was already used for a different request (submission {existing}); \
                             reuse a key only to retry the same request, or choose a new key"
                        ),
                    );
                    return Err(validate::invalid_argument(&[violation]));
                }
                metrics::submission_duplicate();
                info!(existing = %existing, "idempotency key already bound, nothing queued");
                return Ok(SubmitResponse {
                    submission_id: existing,
                    duplicate: true,
                });
            }
        }

        // TODO: when `create` fails after the key was claimed, the key stays
        // bound to an id that was never stored, so retries with that key get
        // an id that is NOT_FOUND. Fixing it needs a store method that
        // releases a key.
        let submission = Submission {
            id: id.clone(),
            language: request.language.clone(),
            status: SubmissionStatus::Queued.into(),
            test_count: u32::try_from(request.tests.len()).unwrap_or(u32::MAX),
            max_score: validate::max_score(&request),
            created_at: Some(SystemTime::now().into()),
            ..Default::default()
        };
        self.store
            .create(&submission)
            .await
            .map_err(|error| store_status(&id, error))?;

        let job = Job {
            submission_id: id.clone(),
            request: Some(request),
            enqueued_at: Some(SystemTime::now().into()),
        };
        let started = Instant::now();
        let published = self.queue.publish(&job).await;
        metrics::queue_published(started.elapsed());
        match published {
            Ok(published) => {
                info!(
                    language = %submission.language,
                    tests = submission.test_count,
                    queue_duplicate = published.duplicate,
                    "submission queued"
                );
                Ok(SubmitResponse {
                    submission_id: id,
                    duplicate: false,
                })
            }
            Err(error) => Err(self.fail_unqueued(&id, error).await),
        }
    }

    /// Marks a stored submission whose job could not be published as
    /// FAILED, so that nothing accepted vanishes silently, and returns the
    /// status for the client.
    async fn fail_unqueued(&self, id: &str, error: QueueError) -> Status {
        warn!(error = %error, "publishing the job failed");
        let reason = format!("the job could not be queued: {error}");
        let marked = update_submission(self.store.as_ref(), id, |submission| {
            if is_final(submission.status()) {
                return false;
            }
            submission.set_status(SubmissionStatus::Failed);
            submission.error = reason.clone();
            submission.finished_at = Some(SystemTime::now().into());
            true
        })
        .await;
        if let Err(store_error) = marked {
            warn!(error = %store_error, "marking the unqueued submission as failed failed");
        }
        let code = match error {
            QueueError::TooLarge { .. } => Code::ResourceExhausted,
            QueueError::Unavailable(_) | QueueError::Failed { .. } => Code::Unavailable,
        };
        Status::new(
            code,
            format!("submission {id} was not queued: {error}; retry later"),
        )
    }

    #[instrument(name = "get_submission", skip_all, fields(submission = tracing::field::Empty))]
    async fn get_submission(&self, id: &str) -> Result<Submission, Status> {
        checked_id(id)?;
        self.load(id).await.map(|versioned| versioned.value)
    }

    #[instrument(name = "cancel_submission", skip_all, fields(submission = tracing::field::Empty))]
    async fn cancel_submission(&self, id: &str) -> Result<Submission, Status> {
        checked_id(id)?;
        let mut final_status = None;
        let updated = update_submission(self.store.as_ref(), id, |submission| {
            // The closure runs again after a conflicting update, so the
            // flag is reset on every call.
            final_status = None;
            if is_final(submission.status()) {
                final_status = Some(submission.status());
                return false;
            }
            submission.set_status(SubmissionStatus::Cancelled);
            submission.error = CANCELLED_BY_CLIENT.to_owned();
            submission.finished_at = Some(SystemTime::now().into());
            true
        })
        .await
        .map_err(|error| store_status(id, error))?;

        if let Some(status) = final_status {
            return Err(Status::failed_precondition(format!(
                "submission {id} is already final ({}); only queued, compiling or running \
                 submissions can be cancelled",
                status.as_str_name()
            )));
        }
        info!("submission cancelled by client");
        Ok(updated.value)
    }

    #[instrument(name = "list_languages", skip_all)]
    async fn list_languages(&self) -> Result<ListLanguagesResponse, Status> {
        let mut workers = self
            .store
            .workers()
            .await
            .map_err(|error| store_status("", error))?;
        // Sorting by worker id makes the choice among differing versions
        // of one language stable across calls.
        workers.sort_by(|a, b| a.id.cmp(&b.id));

        let mut languages: Vec<Language> = Vec::new();
        for worker in &workers {
            for language in &worker.languages {
                match languages.iter().find(|known| known.id == language.id) {
                    Some(known) if known.version != language.version => debug!(
                        language = %language.id,
                        worker = %worker.id,
                        kept = %known.version,
                        other = %language.version,
                        "workers report different versions of a language"
                    ),
                    Some(_) => {}
                    None => languages.push(language.clone()),
                }
            }
        }
        if languages.is_empty() {
            warn!(
                workers = workers.len(),
                "no worker has announced any language, so ListLanguages returns an empty list"
            );
        }
        languages.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(ListLanguagesResponse { languages })
    }

    /// Opens the event stream of a stored submission.
    #[instrument(name = "watch_submission", skip_all, fields(submission = tracing::field::Empty))]
    async fn watch(&self, id: &str) -> Result<WatchStream, Status> {
        checked_id(id)?;

        // Watching before the existence check means no revision stored in
        // between is lost; the watch yields the current value first.
        let snapshots = self
            .store
            .watch(id)
            .await
            .map_err(|error| store_status(id, error))?;
        self.load(id).await?;

        let (sender, receiver) = mpsc::channel(WATCH_BUFFER);
        let forward = forward_events(
            id.to_owned(),
            snapshots,
            sender,
            self.streams_shutdown.clone(),
        );
        tokio::spawn(forward.instrument(Span::current()));
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }

    async fn load(&self, id: &str) -> Result<Versioned<Submission>, Status> {
        self.store
            .get(id)
            .await
            .map_err(|error| store_status(id, error))?
            .ok_or_else(|| not_found(id))
    }
}

/// Sends the events of each snapshot until the submission is final, the
/// client goes away, the store's watch ends or the server shuts down.
async fn forward_events(
    id: String,
    mut snapshots: BoxStream<'static, Result<Versioned<Submission>, StoreError>>,
    sender: mpsc::Sender<Result<SubmissionEvent, Status>>,
    shutdown: CancellationToken,
) {
    let mut previous: Option<Submission> = None;
    loop {
        let next = tokio::select! {
            () = sender.closed() => {
                debug!("watcher went away");
                return;
            }
            () = shutdown.cancelled() => {
                let status = Status::unavailable(format!(
                    "the server is shutting down; watch submission {id} again"
                ));
                let _ = sender.send(Err(status)).await;
                return;
            }
            next = snapshots.next() => next,
        };

        let snapshot = match next {
            Some(Ok(versioned)) => versioned.value,
            Some(Err(error)) => {
                warn!(error = %error, "watching the submission failed");
                let _ = sender.send(Err(store_status(&id, error))).await;
                return;
            }
            None => {
                warn!("the store ended the watch before the submission was final");
                let status = Status::unavailable(format!(
                    "the watch of submission {id} ended early; watch it again"
                ));
                let _ = sender.send(Err(status)).await;
                return;
            }
        };

        for event in events_between(previous.as_ref(), &snapshot) {
            let sent = tokio::select! {
                sent = sender.send(Ok(event)) => sent.is_ok(),
                () = shutdown.cancelled() => false,
            };
            if !sent {
                return;
            }
        }
        if is_final(snapshot.status()) {
            debug!(status = snapshot.status().as_str_name(), "watch finished");
            return;
        }
        previous = Some(snapshot);
    }
}

#[tonic::async_trait]
impl Grader for GraderService {
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let result = GraderService::submit(self, request.into_inner()).await;
        record("Submit", &result);
        result.map(Response::new)
    }

    type GradeStream = WatchStream;

    async fn grade(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<Self::GradeStream>, Status> {
        let result = match GraderService::submit(self, request.into_inner()).await {
            Ok(submitted) => self.watch(&submitted.submission_id).await,
            Err(status) => Err(status),
        };
        record("Grade", &result);
        result.map(Response::new)
    }

    async fn get_submission(
        &self,
        request: Request<GetSubmissionRequest>,
    ) -> Result<Response<Submission>, Status> {
        let result = GraderService::get_submission(self, &request.get_ref().submission_id).await;
        record("GetSubmission", &result);
        result.map(Response::new)
    }

    type WatchSubmissionStream = WatchStream;

    async fn watch_submission(
        &self,
        request: Request<WatchSubmissionRequest>,
    ) -> Result<Response<Self::WatchSubmissionStream>, Status> {
        let result = self.watch(&request.get_ref().submission_id).await;
        record("WatchSubmission", &result);
        result.map(Response::new)
    }

    async fn cancel_submission(
        &self,
        request: Request<CancelSubmissionRequest>,
    ) -> Result<Response<Submission>, Status> {
        let result = GraderService::cancel_submission(self, &request.get_ref().submission_id).await;
        record("CancelSubmission", &result);
        result.map(Response::new)
    }

    async fn list_languages(
        &self,
        _request: Request<ListLanguagesRequest>,
    ) -> Result<Response<ListLanguagesResponse>, Status> {
        let result = GraderService::list_languages(self).await;
        record("ListLanguages", &result);
        result.map(Response::new)
    }
}

fn record<T>(method: &'static str, result: &Result<T, Status>) {
    let code = match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    };
    metrics::grpc_request(method, code);
}

/// Validates a submission id and records it on the current span.
fn checked_id(id: &str) -> Result<(), Status> {
    validate::check_submission_id(id)
        .map_err(|violation| validate::invalid_argument(&[violation]))?;
    Span::current().record("submission", id);
    Ok(())
}

fn not_found(id: &str) -> Status {
    Status::not_found(format!("submission {id} not found"))
}

/// Maps a store failure to the status a client can act on, logging the
/// ones that are the service's fault.
fn store_status(id: &str, error: StoreError) -> Status {
    match error {
        StoreError::NotFound(_) => not_found(id),
        StoreError::Unavailable(_) => {
            warn!(error = %error, "store unavailable");
            Status::unavailable(format!("{error}; retry later"))
        }
        StoreError::Conflict { .. } => {
            warn!(error = %error, "store update kept conflicting");
            Status::aborted(format!("{error}; retry"))
        }
        StoreError::AlreadyExists(_) | StoreError::Failed { .. } => {
            warn!(error = %error, "store operation failed");
            Status::internal(error.to_string())
        }
    }
}

/// Returns the first component of a field path (`limits` for
/// `limits.cpu_time_ms`, `sources` for `sources[2].name`), which keeps
/// metric label values to a small set.
fn top_level_field(field: &str) -> &str {
    let end = field.find(['.', '[']).unwrap_or(field.len());
    &field[..end]
}

/// SHA-256 of the normalized request without its idempotency key, stored
/// beside the submission id that a key is bound to, so that a key reused
/// for another request is rejected instead of returning the first result.
/// prost encodes a message without map fields deterministically.
fn request_fingerprint(request: &SubmitRequest) -> String {
    use prost::Message;
    use sha2::{Digest, Sha256};
    let mut keyless = request.clone();
    keyless.idempotency_key.clear();
    hex::encode(Sha256::digest(keyless.encode_to_vec()))
}

#[cfg(test)]
mod tests {
    use super::top_level_field;

    #[test]
    fn top_level_field_strips_paths() {
        for (field, expected) in [
            ("limits.cpu_time_ms", "limits"),
            ("sources[2].name", "sources"),
            ("language", "language"),
        ] {
            assert_eq!(top_level_field(field), expected, "field {field}");
        }
    }
}
