//! Job queue behaviour, run against both backends.

mod common;

use std::time::Duration;

use common::{job, Backend, ACK_WAIT, PATIENCE};
use tokio::time::Instant;
use verdict_queue::{Delivery, QueueError};

/// Defines each listed test twice, in `embedded` and in `nats`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::embedded()).await;
                }
            )*
        }
        mod nats {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::nats().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    publish_then_pull_returns_job,
    duplicate_publish_delivers_once,
    unacked_delivery_is_redelivered,
    dropped_delivery_is_redelivered,
    in_progress_prevents_redelivery,
    nak_redelivers_job,
    nak_with_delay_waits,
    ack_removes_job,
    depth_counts_waiting_and_unacked,
    empty_pull_waits_then_returns_none,
    oversized_job_is_too_large,
    invalid_language_is_rejected,
);

async fn pull(backend: &Backend, wait: Duration) -> Option<Box<dyn Delivery>> {
    backend.queue.pull(wait).await.expect("pull failed")
}

async fn publish_then_pull_returns_job(backend: Backend) {
    let sent = job("python3");
    let published = backend.queue.publish(&sent).await.expect("publish failed");
    assert!(!published.duplicate, "first publish reported as duplicate");

    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");
    assert_eq!(
        delivery.job(),
        &sent,
        "delivered job differs from the published one"
    );
    assert_eq!(
        delivery.attempt(),
        1,
        "first delivery has the wrong attempt"
    );
    delivery.ack().await.expect("ack failed");
}

async fn duplicate_publish_delivers_once(backend: Backend) {
    let sent = job("python3");
    backend
        .queue
        .publish(&sent)
        .await
        .expect("first publish failed");
    let second = backend
        .queue
        .publish(&sent)
        .await
        .expect("second publish failed");
    assert!(
        second.duplicate,
        "second publish of {} not reported as duplicate",
        sent.submission_id
    );

    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");
    delivery.ack().await.expect("ack failed");
    let extra = pull(&backend, Duration::from_millis(500)).await;
    assert!(
        extra.is_none(),
        "expected one delivery, got a second one of {:?}",
        extra.map(|d| d.job().submission_id.clone())
    );
}

async fn unacked_delivery_is_redelivered(backend: Backend) {
    let sent = job("python3");
    backend.queue.publish(&sent).await.expect("publish failed");
    let first = pull(&backend, PATIENCE).await.expect("no job delivered");
    let first_at = Instant::now();

    // `first` stays alive and silent, like a worker that hangs.
    let second = pull(&backend, PATIENCE).await.expect("job not redelivered");
    let elapsed = first_at.elapsed();
    assert_eq!(
        second.job().submission_id,
        sent.submission_id,
        "redelivered another job"
    );
    assert_eq!(second.attempt(), 2, "redelivery has the wrong attempt");
    assert!(
        elapsed >= ACK_WAIT.mul_f32(0.9),
        "redelivered after {elapsed:?}, expected at least the ack wait of {ACK_WAIT:?}"
    );
    second.ack().await.expect("ack failed");
    drop(first);
}

async fn dropped_delivery_is_redelivered(backend: Backend) {
    let sent = job("python3");
    backend.queue.publish(&sent).await.expect("publish failed");
    let first = pull(&backend, PATIENCE).await.expect("no job delivered");
    drop(first);

    let second = pull(&backend, PATIENCE)
        .await
        .expect("dropped job not redelivered");
    assert_eq!(
        second.job().submission_id,
        sent.submission_id,
        "redelivered another job"
    );
    assert_eq!(second.attempt(), 2, "redelivery has the wrong attempt");
    second.ack().await.expect("ack failed");
}

async fn in_progress_prevents_redelivery(backend: Backend) {
    backend
        .queue
        .publish(&job("python3"))
        .await
        .expect("publish failed");
    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");

    // Report progress every third of the ack wait for 2.5 ack waits while
    // another pull waits for a redelivery that must not come.
    let heartbeat = async {
        for _ in 0..8 {
            tokio::time::sleep(ACK_WAIT / 3).await;
            delivery.in_progress().await.expect("in_progress failed");
        }
    };
    let (redelivered, ()) = tokio::join!(pull(&backend, ACK_WAIT.mul_f32(2.5)), heartbeat);
    assert!(
        redelivered.is_none(),
        "job redelivered (attempt {:?}) despite in-progress reports",
        redelivered.map(|d| d.attempt())
    );
    delivery.ack().await.expect("ack failed");
}

async fn nak_redelivers_job(backend: Backend) {
    let sent = job("python3");
    backend.queue.publish(&sent).await.expect("publish failed");
    let first = pull(&backend, PATIENCE).await.expect("no job delivered");
    let nak_at = Instant::now();
    first.nak(None).await.expect("nak failed");

    let second = pull(&backend, PATIENCE)
        .await
        .expect("job not redelivered after nak");
    let elapsed = nak_at.elapsed();
    assert_eq!(
        second.job().submission_id,
        sent.submission_id,
        "redelivered another job"
    );
    assert_eq!(second.attempt(), 2, "redelivery has the wrong attempt");
    assert!(
        elapsed < ACK_WAIT,
        "redelivered after {elapsed:?}, expected well before the ack wait of {ACK_WAIT:?}"
    );
    second.ack().await.expect("ack failed");
}

async fn nak_with_delay_waits(backend: Backend) {
    let delay = Duration::from_millis(600);
    backend
        .queue
        .publish(&job("python3"))
        .await
        .expect("publish failed");
    let first = pull(&backend, PATIENCE).await.expect("no job delivered");
    let nak_at = Instant::now();
    first.nak(Some(delay)).await.expect("nak failed");

    let second = pull(&backend, PATIENCE)
        .await
        .expect("job not redelivered after nak");
    let elapsed = nak_at.elapsed();
    assert!(
        elapsed >= delay.mul_f32(0.9),
        "redelivered after {elapsed:?}, expected a delay of at least {delay:?}"
    );
    second.ack().await.expect("ack failed");
}

async fn ack_removes_job(backend: Backend) {
    backend
        .queue
        .publish(&job("python3"))
        .await
        .expect("publish failed");
    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");
    delivery.ack().await.expect("ack failed");

    // Past the ack wait, an acknowledged job must not come back.
    let after = pull(&backend, ACK_WAIT.mul_f32(1.5)).await;
    assert!(
        after.is_none(),
        "acknowledged job delivered again (attempt {:?})",
        after.map(|d| d.attempt())
    );
    let depth = backend.queue.depth().await.expect("depth failed");
    assert_eq!(depth, 0, "queue depth after the only job was acknowledged");
}

async fn depth_counts_waiting_and_unacked(backend: Backend) {
    backend
        .queue
        .publish(&job("python3"))
        .await
        .expect("publish failed");
    backend
        .queue
        .publish(&job("cpp17"))
        .await
        .expect("publish failed");
    let depth = backend.queue.depth().await.expect("depth failed");
    assert_eq!(depth, 2, "depth with two waiting jobs");

    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");
    let depth = backend.queue.depth().await.expect("depth failed");
    assert_eq!(
        depth, 2,
        "depth with one waiting and one unacknowledged job"
    );

    delivery.ack().await.expect("ack failed");
    let depth = backend.queue.depth().await.expect("depth failed");
    assert_eq!(depth, 1, "depth after one of two jobs was acknowledged");
}

async fn empty_pull_waits_then_returns_none(backend: Backend) {
    let wait = Duration::from_millis(300);
    let started = Instant::now();
    let delivery = pull(&backend, wait).await;
    let elapsed = started.elapsed();
    assert!(delivery.is_none(), "empty queue delivered a job");
    assert!(
        elapsed >= wait.mul_f32(0.9),
        "pull returned after {elapsed:?}, expected {wait:?}"
    );
    assert!(
        elapsed < wait + Duration::from_secs(3),
        "pull took {elapsed:?}, expected {wait:?}"
    );
}

async fn oversized_job_is_too_large(backend: Backend) {
    let mut big = job("python3");
    let input = vec![b'x'; 9 * 1024 * 1024];
    big.request.as_mut().unwrap().tests[0].input = input;

    let result = backend.queue.publish(&big).await;
    assert!(
        matches!(&result, Err(QueueError::TooLarge { size, .. }) if *size > 9 * 1024 * 1024),
        "expected TooLarge for a 9 MiB job, got {result:?}"
    );
}

async fn invalid_language_is_rejected(backend: Backend) {
    let result = backend.queue.publish(&job("python.3")).await;
    assert!(
        matches!(
            &result,
            Err(QueueError::Failed {
                operation: "publish",
                ..
            })
        ),
        "expected a publish failure for language \"python.3\", got {result:?}"
    );
}

/// A message that is not a Job, published straight to the stream, is
/// terminated and the good job after it is delivered.
#[tokio::test]
async fn undecodable_message_is_skipped() {
    let backend = Backend::nats().await;
    let config = backend.nats_config.clone().unwrap();
    let client = async_nats::connect(config.url.as_str())
        .await
        .expect("connect failed");
    let context = async_nats::jetstream::new(client);
    let subject = format!("{}.normal.python3", config.subject_prefix);
    // 0xff starts a field with wire type 7, which does not exist.
    context
        .publish(subject, bytes::Bytes::from_static(&[0xff, 0xff, 0xff]))
        .await
        .expect("raw publish failed")
        .await
        .expect("raw publish not acknowledged");
    let good = job("python3");
    backend.queue.publish(&good).await.expect("publish failed");

    let delivery = pull(&backend, PATIENCE).await.expect("no job delivered");
    assert_eq!(
        delivery.job().submission_id,
        good.submission_id,
        "delivered the wrong job"
    );
    delivery.ack().await.expect("ack failed");
    let depth = backend.queue.depth().await.expect("depth failed");
    assert_eq!(
        depth, 0,
        "undecodable message still counted in the queue depth"
    );
}

/// An embedded queue with a smaller limit rejects a job above it.
#[tokio::test]
async fn embedded_limit_is_configurable() {
    let queue = verdict_queue::embedded::EmbeddedQueue::new(ACK_WAIT).with_max_job_bytes(100);
    let mut big = job("python3");
    big.request.as_mut().unwrap().tests[0].input = vec![b'x'; 200];
    let result = verdict_queue::JobQueue::publish(&queue, &big).await;
    assert!(
        matches!(&result, Err(QueueError::TooLarge { max: 100, .. })),
        "expected TooLarge with max 100, got {result:?}"
    );
}
