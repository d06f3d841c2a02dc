//! NATS JetStream backend.
//!
//! Jobs go to a work-queue stream on subjects `<prefix>.<priority>.<language>`
//! with the submission id as `Nats-Msg-Id`, so the stream drops a second
//! publish of the same job within its duplicate window. All workers pull
//! from one durable consumer with explicit acks. Submissions, idempotency
//! keys and worker announcements live in three key-value buckets.
//!
//! `connect` creates whatever is missing. Existing streams and buckets are
//! used as they are, but the consumer's settings are updated to the config's.
//! The client reconnects by itself after a connection loss and the
//! operations in between fail with `Unavailable` or time out.

mod queue;
mod store;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use async_nats::Event;

pub use queue::NatsQueue;
pub use store::NatsStore;

use crate::{JobQueue, QueueError, SubmissionStore};

/// Deliveries that may be unacknowledged at once across all workers. The
/// consumer stops handing out jobs beyond it. Far above any fleet's slot
/// count, so it never limits grading.
const MAX_ACK_PENDING: i64 = 20_000;

/// Versions kept per submission key. Readers and watchers only need the
/// latest value.
const SUBMISSION_HISTORY: i64 = 1;

/// Connection settings of the NATS backend and the names of its stream,
/// consumer and buckets.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// Server URL, such as `nats://127.0.0.1:4222`.
    pub url: String,
    /// Work-queue stream that contains the jobs.
    pub stream: String,
    /// First subject token of every job. The stream captures `<prefix>.>`.
    pub subject_prefix: String,
    /// Durable pull consumer shared by all workers.
    pub consumer: String,
    /// Key-value bucket of submission states.
    pub bucket: String,
    /// Key-value bucket that binds idempotency keys to submission ids.
    pub idempotency_bucket: String,
    /// Key-value bucket of worker announcements.
    pub workers_bucket: String,
    /// Time a delivery may stay unacknowledged before the job is delivered
    /// again. `Delivery::in_progress` restarts it.
    pub ack_wait: Duration,
    /// Time within which a second publish of the same submission id is
    /// dropped by the stream.
    pub duplicate_window: Duration,
    /// Time a worker announcement is listed after its last refresh.
    pub worker_ttl: Duration,
    /// Time an idempotency key stays bound to its submission. Zero keeps
    /// it forever.
    pub idempotency_ttl: Duration,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            url: "nats://127.0.0.1:4222".to_owned(),
            stream: "VERDICT_JOBS".to_owned(),
            subject_prefix: "verdict.jobs".to_owned(),
            consumer: "workers".to_owned(),
            bucket: "verdict_submissions".to_owned(),
            idempotency_bucket: "verdict_idempotency".to_owned(),
            workers_bucket: "verdict_workers".to_owned(),
            ack_wait: Duration::from_secs(30),
            duplicate_window: Duration::from_secs(10 * 60),
            worker_ttl: Duration::from_secs(30),
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Connects to NATS and creates the stream, the consumer and the buckets
/// when missing. Fails with `Unavailable` when the server cannot be reached
/// or has no JetStream.
pub async fn connect(
    config: &NatsConfig,
) -> Result<(Arc<dyn JobQueue>, Arc<dyn SubmissionStore>), QueueError> {
    let client = async_nats::ConnectOptions::new()
        .name("verdict")
        .event_callback(|event| async move { log_event(event) })
        .connect(config.url.as_str())
        .await
        .map_err(|err| {
            QueueError::Unavailable(format!("cannot connect to NATS at {}: {err}", config.url))
        })?;
    tracing::info!(url = %config.url, "connected to NATS");
    let context = jetstream::new(client.clone());

    let stream = create_stream(&context, config).await?;
    let consumer = create_consumer(&stream, config).await?;
    let queue = NatsQueue::new(client, context.clone(), consumer, config);

    let submissions = open_bucket(
        &context,
        kv::Config {
            bucket: config.bucket.clone(),
            description: "Verdict submission states".to_owned(),
            history: SUBMISSION_HISTORY,
            storage: stream::StorageType::File,
            ..Default::default()
        },
    )
    .await?;
    let idempotency = open_bucket(
        &context,
        kv::Config {
            bucket: config.idempotency_bucket.clone(),
            description: "Verdict idempotency keys".to_owned(),
            history: 1,
            max_age: config.idempotency_ttl,
            storage: stream::StorageType::File,
            ..Default::default()
        },
    )
    .await?;
    let workers = open_bucket(
        &context,
        kv::Config {
            bucket: config.workers_bucket.clone(),
            description: "Verdict worker announcements".to_owned(),
            history: 1,
            max_age: config.worker_ttl,
            storage: stream::StorageType::Memory,
            ..Default::default()
        },
    )
    .await?;
    let store = NatsStore::new(submissions, idempotency, workers);

    Ok((Arc::new(queue), Arc::new(store)))
}

fn log_event(event: Event) {
    match event {
        Event::ServerError(err) => tracing::warn!(%err, "NATS server reported an error"),
        Event::ClientError(err) => tracing::warn!(%err, "NATS client error"),
        Event::SlowConsumer(subscription) => {
            tracing::warn!(subscription, "NATS subscription is not keeping up")
        }
        other => tracing::info!(event = %other, "NATS connection event"),
    }
}

async fn create_stream(
    context: &jetstream::Context,
    config: &NatsConfig,
) -> Result<stream::Stream, QueueError> {
    let expected = stream::Config {
        name: config.stream.clone(),
        description: Some("Verdict grading jobs".to_owned()),
        subjects: vec![format!("{}.>", config.subject_prefix)],
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        duplicate_window: config.duplicate_window,
        ..Default::default()
    };
    let stream = context
        .get_or_create_stream(expected)
        .await
        .map_err(|err| setup_error("create stream", &config.stream, err))?;

    // Any other retention would keep acknowledged jobs and hand every job to
    // each consumer, so a stream made by someone else must match.
    let retention = stream.cached_info().config.retention;
    if retention != stream::RetentionPolicy::WorkQueue {
        return Err(QueueError::Failed {
            operation: "connect",
            reason: format!(
                "stream {} exists with retention {retention:?}; expected WorkQueue",
                config.stream
            ),
        });
    }
    Ok(stream)
}

async fn create_consumer(
    stream: &stream::Stream,
    config: &NatsConfig,
) -> Result<consumer::PullConsumer, QueueError> {
    let consumer_config = consumer::pull::Config {
        durable_name: Some(config.consumer.clone()),
        description: Some("Verdict workers".to_owned()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: config.ack_wait,
        // Unlimited: the worker ends a job as an internal error after too
        // many attempts, and it must receive the extra delivery to do so.
        max_deliver: -1,
        max_ack_pending: MAX_ACK_PENDING,
        filter_subject: format!("{}.>", config.subject_prefix),
        ..Default::default()
    };
    // Creating a durable consumer that exists updates its settings, so the
    // ack wait follows the config.
    stream
        .create_consumer(consumer_config)
        .await
        .map_err(|err| setup_error("create consumer", &config.consumer, err))
}

/// Creates a bucket, or opens it as it is when it exists with other
/// settings.
async fn open_bucket(
    context: &jetstream::Context,
    config: kv::Config,
) -> Result<kv::Store, QueueError> {
    let name = config.bucket.clone();
    let create_error = match context.create_key_value(config).await {
        Ok(store) => return Ok(store),
        Err(err) => err,
    };
    match context.get_key_value(name.as_str()).await {
        Ok(store) => {
            tracing::warn!(
                bucket = %name,
                error = %create_error,
                "bucket exists with other settings; using it as it is"
            );
            Ok(store)
        }
        Err(_) => Err(setup_error("create bucket", &name, create_error)),
    }
}

fn setup_error(operation: &str, name: &str, err: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(format!("cannot {operation} {name}: {err}"))
}
