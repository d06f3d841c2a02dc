//! Every metric the worker lists shows up on a Prometheus exporter after
//! one graded job and one job that failed. Needs root for the sandbox.

mod common;

use std::time::Duration;

use common::{sandbox_available, sum_request, Harness, C_SUM};
use metrics_exporter_prometheus::PrometheusBuilder;
use verdict_worker::metrics;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_metric_is_exported() {
    if !sandbox_available() {
        return;
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("installing the Prometheus recorder");
    metrics::describe();

    let mut harness = Harness::new();
    // This job is delivered once by hand and handed back, so the worker
    // (at most 1 attempt) stores it as FAILED and counts a failure.
    let failed = harness.submit(sum_request("c", C_SUM)).await;
    let delivery = harness
        .queue
        .pull(Duration::from_secs(5))
        .await
        .expect("pulling the job")
        .expect("the job is queued");
    delivery.nak(None).await.expect("handing the job back");
    let graded = harness.submit(sum_request("c", C_SUM)).await;

    harness.start(|config| config.max_attempts = 1);
    harness.wait_final(&graded).await;
    harness.wait_final(&failed).await;
    harness.stop().await;

    let exported = handle.render();
    for name in metrics::ALL {
        assert!(
            exported.contains(name),
            "metric {name} missing from the exporter output:\n{exported}"
        );
    }
}
