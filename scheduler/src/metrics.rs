//! Every metric the scheduler records, with its unit and labels. The
//! process that embeds the scheduler installs the exporter, and without
//! one, recording does nothing.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};

/// Counter, label `language`: submit requests that passed validation,
/// duplicates included. Rejected requests are not counted here because
/// their language is unvalidated client input.
pub const SUBMISSIONS_RECEIVED: &str = "verdict_submissions_received_total";
/// Counter, label `reason`: submit requests rejected by validation. The
/// reason is the top-level request field of the first violation, such as
/// `sources` or `limits`.
pub const SUBMISSIONS_REJECTED: &str = "verdict_submissions_rejected_total";
/// Counter, no labels: submit requests whose idempotency key was already
/// bound, so no job was queued.
pub const SUBMISSIONS_DUPLICATE: &str = "verdict_submissions_duplicate_total";
/// Counter, labels `method` (the RPC name, such as `Submit`) and `code`
/// (the gRPC status code name, such as `InvalidArgument`). Streaming RPCs
/// count the status of opening the stream.
pub const GRPC_REQUESTS: &str = "verdict_grpc_requests_total";
/// Histogram in seconds, no labels: time to publish one job to the queue,
/// failed attempts included.
pub const QUEUE_PUBLISH_SECONDS: &str = "verdict_queue_publish_seconds";

/// Registers the description and unit of every metric above with the
/// installed recorder. Call once after installing the exporter.
pub fn describe() {
    describe_counter!(
        SUBMISSIONS_RECEIVED,
        Unit::Count,
        "Submit requests that passed validation, by language; duplicates included."
    );
    describe_counter!(
        SUBMISSIONS_REJECTED,
        Unit::Count,
        "Submit requests rejected by validation, by the first invalid top-level field."
    );
    describe_counter!(
        SUBMISSIONS_DUPLICATE,
        Unit::Count,
        "Submit requests whose idempotency key matched an earlier submission."
    );
    describe_counter!(
        GRPC_REQUESTS,
        Unit::Count,
        "gRPC requests to verdict.v1.Grader by method and status code."
    );
    describe_histogram!(
        QUEUE_PUBLISH_SECONDS,
        Unit::Seconds,
        "Time to publish one grading job to the queue."
    );
}

pub(crate) fn submission_received(language: &str) {
    counter!(SUBMISSIONS_RECEIVED, "language" => language.to_owned()).increment(1);
}

pub(crate) fn submission_rejected(reason: &str) {
    counter!(SUBMISSIONS_REJECTED, "reason" => reason.to_owned()).increment(1);
}

pub(crate) fn submission_duplicate() {
    counter!(SUBMISSIONS_DUPLICATE).increment(1);
}

pub(crate) fn grpc_request(method: &'static str, code: tonic::Code) {
    counter!(GRPC_REQUESTS, "method" => method, "code" => format!("{code:?}")).increment(1);
}

pub(crate) fn queue_published(elapsed: Duration) {
    histogram!(QUEUE_PUBLISH_SECONDS).record(elapsed.as_secs_f64());
}
