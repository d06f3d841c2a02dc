//! Every metric the scheduler lists appears on a Prometheus scrape after a
//! few requests. This is its own test binary because it installs the
//! process-wide recorder.

mod common;

use common::{valid_request, Harness};
use metrics_exporter_prometheus::PrometheusBuilder;
use verdict_proto::v1::{GetSubmissionRequest, SubmitRequest};
use verdict_scheduler::metrics;

#[tokio::test]
async fn every_listed_metric_is_exported() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    ::metrics::set_global_recorder(recorder).expect("no other recorder in this binary");
    metrics::describe();

    let mut harness = Harness::start().await;
    let keyed = SubmitRequest {
        idempotency_key: "metrics-test".to_owned(),
        ..valid_request()
    };
    for request in [keyed.clone(), keyed] {
        harness.client.submit(request).await.expect("submit");
    }
    let rejected = SubmitRequest {
        tests: Vec::new(),
        ..valid_request()
    };
    let _ = harness.client.submit(rejected).await;
    let _ = harness
        .client
        .get_submission(GetSubmissionRequest {
            submission_id: String::new(),
        })
        .await;

    let scrape = handle.render();
    for name in [
        metrics::SUBMISSIONS_RECEIVED,
        metrics::SUBMISSIONS_REJECTED,
        metrics::SUBMISSIONS_DUPLICATE,
        metrics::GRPC_REQUESTS,
        metrics::QUEUE_PUBLISH_SECONDS,
    ] {
        assert!(
            scrape.contains(name),
            "metric {name} missing from the scrape:\n{scrape}"
        );
    }
    let rejected_line = "verdict_submissions_rejected_total{reason=\"tests\"} 1";
    assert!(
        scrape.contains(rejected_line),
        "expected {rejected_line:?} in the scrape:\n{scrape}"
    );
}
