//! Job queue on a JetStream work-queue stream.

use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, consumer, AckKind};
use async_trait::async_trait;
use futures::StreamExt;
use prost::Message as _;
use tokio::time::Instant;
use verdict_proto::v1::Job;

use super::NatsConfig;
use crate::keys::check_job;
use crate::{Delivery, JobQueue, Published, QueueError};

/// Priority token of every job's subject, the only priority so far.
const NORMAL_PRIORITY: &str = "normal";

/// Below this wait a pull requests only the messages available now
/// (no_wait) instead of leaving a request with the server.
const MIN_PULL_EXPIRES: Duration = Duration::from_millis(10);

/// Time the client keeps waiting for the server's response to a pull
/// request after the request's expiry.
const PULL_GRACE: Duration = Duration::from_secs(2);

/// Undecodable messages one pull may terminate before it returns.
const MAX_TERMINATED_PER_PULL: u32 = 100;

/// Job queue on a JetStream work-queue stream, built by `nats::connect`.
/// While the client is disconnected every operation fails with
/// `Unavailable` or `Failed` at once, so a pull loop must back off.
pub struct NatsQueue {
    client: async_nats::Client,
    context: jetstream::Context,
    consumer: consumer::PullConsumer,
    subject_prefix: String,
}

impl NatsQueue {
    pub(super) fn new(
        client: async_nats::Client,
        context: jetstream::Context,
        consumer: consumer::PullConsumer,
        config: &NatsConfig,
    ) -> NatsQueue {
        NatsQueue {
            client,
            context,
            consumer,
            subject_prefix: config.subject_prefix.clone(),
        }
    }

    /// Largest message the server accepts, in bytes, from its INFO.
    fn max_payload(&self) -> usize {
        match self.client.server_info().max_payload {
            0 => self.client.max_payload(),
            max => max,
        }
    }

    /// Asks the consumer for one message and waits up to `wait` for it.
    async fn fetch_one(&self, wait: Duration) -> Result<Option<jetstream::Message>, QueueError> {
        let batch = if wait < MIN_PULL_EXPIRES {
            self.consumer.fetch().max_messages(1).messages().await
        } else {
            self.consumer
                .batch()
                .max_messages(1)
                .expires(wait)
                .messages()
                .await
        };
        let mut batch = batch.map_err(|err| pull_error(&err))?;

        // The server ends the request at its expiry. The timeout covers a
        // response lost on the way.
        match tokio::time::timeout(wait + PULL_GRACE, batch.next()).await {
            Err(_) | Ok(None) => Ok(None),
            Ok(Some(Ok(message))) => Ok(Some(message)),
            Ok(Some(Err(err))) => Err(QueueError::Failed {
                operation: "pull",
                reason: err.to_string(),
            }),
        }
    }
}

#[async_trait]
impl JobQueue for NatsQueue {
    async fn publish(&self, job: &Job) -> Result<Published, QueueError> {
        let language = check_job(job)?;

        let payload = job.encode_to_vec();
        let max = self.max_payload();
        if payload.len() > max {
            return Err(QueueError::TooLarge {
                submission_id: job.submission_id.clone(),
                size: payload.len(),
                max,
            });
        }
        let size = payload.len();

        let subject = format!("{}.{NORMAL_PRIORITY}.{language}", self.subject_prefix);
        let message = PublishMessage::build()
            .payload(payload.into())
            .message_id(&job.submission_id);
        let publish_error = |err: jetstream::context::PublishError| match err.kind() {
            // The headers can push a payload just under the limit over it.
            PublishErrorKind::MaxPayloadExceeded => QueueError::TooLarge {
                submission_id: job.submission_id.clone(),
                size,
                max,
            },
            PublishErrorKind::TimedOut
            | PublishErrorKind::BrokenPipe
            | PublishErrorKind::StreamNotFound => {
                QueueError::Unavailable(format!("publishing job {}: {err}", job.submission_id))
            }
            _ => QueueError::Failed {
                operation: "publish",
                reason: format!("job {}: {err}", job.submission_id),
            },
        };
        let ack = self
            .context
            .send_publish(subject, message)
            .await
            .map_err(publish_error)?
            .await
            .map_err(publish_error)?;

        tracing::debug!(
            submission = %job.submission_id,
            sequence = ack.sequence,
            duplicate = ack.duplicate,
            "job published"
        );
        Ok(Published {
            duplicate: ack.duplicate,
        })
    }

    async fn pull(&self, wait: Duration) -> Result<Option<Box<dyn Delivery>>, QueueError> {
        let deadline = Instant::now() + wait;
        for _ in 0..MAX_TERMINATED_PER_PULL {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let Some(message) = self.fetch_one(remaining).await? else {
                return Ok(None);
            };

            match Job::decode(message.payload.clone()) {
                Ok(job) => {
                    let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
                    let attempt = u32::try_from(delivered).unwrap_or(u32::MAX).max(1);
                    return Ok(Some(Box::new(NatsDelivery {
                        message,
                        job,
                        attempt,
                    })));
                }
                Err(err) => terminate_undecodable(&message, &err).await,
            }
            if remaining.is_zero() {
                return Ok(None);
            }
        }
        Ok(None)
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let info = self
            .consumer
            .get_info()
            .await
            .map_err(|err| QueueError::Unavailable(format!("reading consumer info: {err}")))?;
        Ok(info.num_pending + info.num_ack_pending as u64)
    }
}

/// Removes a message that no worker could ever grade, so that it is not
/// delivered again forever.
async fn terminate_undecodable(message: &jetstream::Message, err: &prost::DecodeError) {
    let sequence = message.info().map(|info| info.stream_sequence).ok();
    tracing::error!(
        subject = %message.subject,
        sequence,
        error = %err,
        "job payload does not decode; terminating the message"
    );
    if let Err(err) = message.ack_with(AckKind::Term).await {
        tracing::error!(
            subject = %message.subject,
            sequence,
            error = %err,
            "terminating an undecodable message failed; it will be delivered again"
        );
    }
}

fn pull_error(err: &impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(format!("requesting a job from the consumer: {err}"))
}

/// One delivery of a JetStream message.
struct NatsDelivery {
    message: jetstream::Message,
    job: Job,
    attempt: u32,
}

impl NatsDelivery {
    fn ack_error(&self, operation: &'static str, err: impl std::fmt::Display) -> QueueError {
        QueueError::Failed {
            operation,
            reason: format!("job {}: {err}", self.job.submission_id),
        }
    }
}

#[async_trait]
impl Delivery for NatsDelivery {
    fn job(&self) -> &Job {
        &self.job
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn in_progress(&self) -> Result<(), QueueError> {
        self.message
            .ack_with(AckKind::Progress)
            .await
            .map_err(|err| self.ack_error("in_progress", err))
    }

    async fn ack(&self) -> Result<(), QueueError> {
        // Waits for the server's confirmation, so that a job is never
        // reported done while its ack is still in a client buffer.
        self.message
            .double_ack()
            .await
            .map_err(|err| self.ack_error("ack", err))
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), QueueError> {
        self.message
            .ack_with(AckKind::Nak(delay))
            .await
            .map_err(|err| self.ack_error("nak", err))
    }
}
