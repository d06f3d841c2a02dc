//! The submission flow through a real nats-server: duplicate submits, bad
//! requests, a watch that sees every test, and a worker killed mid-job
//! whose job another worker finishes.

mod common;

use std::time::{Duration, Instant};

use common::{request, source, test_case, Cluster, WorkerProcess};
use futures::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;
use verdict_proto::v1::{
    submission_event, GetSubmissionRequest, Limits, SubmissionStatus, Verdict,
    WatchSubmissionRequest,
};

const SUM_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_submit_queues_one_job() {
    let cluster = Cluster::start().await;
    let mut client = cluster.client().await;
    let mut submit = request(
        "python3",
        source("main.py", SUM_PY),
        vec![test_case("1 2\n", "3\n")],
    );
    submit.idempotency_key = "candidate-17/question-3".to_owned();

    let first = client.submit(submit.clone()).await.unwrap().into_inner();
    let second = client.submit(submit).await.unwrap().into_inner();

    assert_eq!(
        second.submission_id, first.submission_id,
        "same key must return the same submission"
    );
    assert!(!first.duplicate, "the first submit is not a duplicate");
    assert!(
        second.duplicate,
        "the second submit must be reported as a duplicate"
    );
    let mut different = request(
        "python3",
        source("main.py", "print(0)\n"),
        vec![test_case("1 2\n", "3\n")],
    );
    different.idempotency_key = "candidate-17/question-3".to_owned();
    let reused = client
        .submit(different)
        .await
        .expect_err("a key reused for another program must be rejected");
    assert_eq!(reused.code(), Code::InvalidArgument, "status: {reused:?}");
    let violations = reused
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations;
    assert_eq!(
        violations[0].field, "idempotency_key",
        "violations: {violations:?}"
    );
    let depth = cluster.queue.depth().await.unwrap();
    assert_eq!(depth, 1, "exactly one job must be queued, found {depth}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_name_each_field() {
    let cluster = Cluster::start().await;
    let mut client = cluster.client().await;

    let mut bad = request("cobol-85", source("../main.py", ""), Vec::new());
    bad.limits = Some(Limits {
        cpu_time_ms: 600_000,
        wall_time_ms: 0,
        memory_bytes: 1024,
        max_processes: 0,
        output_bytes: 0,
    });
    let status = client
        .submit(bad)
        .await
        .expect_err("an invalid request must be rejected");

    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status
        .get_details_bad_request()
        .expect("INVALID_ARGUMENT must carry google.rpc.BadRequest details");
    let fields: Vec<&str> = details
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    for field in [
        "language",
        "sources[0].name",
        "sources[0].content",
        "tests",
        "limits.cpu_time_ms",
        "limits.memory_bytes",
    ] {
        assert!(
            fields.contains(&field),
            "no violation for {field}; got {fields:?}"
        );
    }

    let mut too_many = request("python3", source("main.py", SUM_PY), Vec::new());
    too_many.tests = (0..10_000).map(|_| test_case("1 2\n", "3\n")).collect();
    let status = client
        .submit(too_many)
        .await
        .expect_err("10000 tests must be rejected");
    let details = status
        .get_details_bad_request()
        .expect("BadRequest details");
    assert_eq!(details.field_violations[0].field, "tests");

    let missing = client
        .get_submission(GetSubmissionRequest {
            submission_id: "0190f0c4-1b2c-7d3e-8f40-123456789abc".into(),
        })
        .await
        .expect_err("an unknown id must not be found");
    assert_eq!(missing.code(), Code::NotFound);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_sees_every_test_result() {
    common::require_root();
    let mut cluster = Cluster::start().await;
    let mut client = cluster.client().await;
    let tests = (0..6)
        .map(|i| test_case(&format!("{i} {i}\n"), &format!("{}\n", 2 * i)))
        .collect();
    let id = client
        .submit(request("python3", source("main.py", SUM_PY), tests))
        .await
        .unwrap()
        .into_inner()
        .submission_id;

    // Watch before any worker exists, so the stream must follow the job
    // from QUEUED to the end.
    let mut events = client
        .watch_submission(WatchSubmissionRequest {
            submission_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    cluster.add_worker("watched", 1).await;

    let mut seen_tests = Vec::new();
    let mut statuses = Vec::new();
    let mut finished = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while let Some(event) = tokio::time::timeout_at(deadline.into(), events.next())
        .await
        .expect("watch timed out")
    {
        match event.unwrap().event {
            Some(submission_event::Event::StatusChanged(change)) => statuses.push(change.status()),
            Some(submission_event::Event::TestFinished(test)) => seen_tests.push(test.index),
            Some(submission_event::Event::Finished(submission)) => finished = Some(submission),
            _ => {}
        }
    }
    let finished = finished.expect("the stream must end with the final submission");
    assert_eq!(
        seen_tests,
        vec![0, 1, 2, 3, 4, 5],
        "every test exactly once, in order"
    );
    assert_eq!(finished.verdict(), Verdict::Accepted);
    assert_eq!(
        statuses.first(),
        Some(&SubmissionStatus::Queued),
        "statuses: {statuses:?}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_worker_job_finishes_elsewhere() {
    common::require_root();
    let cluster = Cluster::start().await;
    let mut client = cluster.client().await;
    // Each test sleeps, so the job is still running when its worker dies.
    let slow = "import time\ntime.sleep(0.5)\na, b = map(int, input().split())\nprint(a + b)\n";
    let tests = (0..8)
        .map(|i| test_case(&format!("{i} 1\n"), &format!("{}\n", i + 1)))
        .collect();
    let id = client
        .submit(request("python3", source("main.py", slow), tests))
        .await
        .unwrap()
        .into_inner()
        .submission_id;

    let state = tempfile::tempdir().unwrap();
    let mut first = WorkerProcess::spawn(&cluster.nats.url(), "first", state.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "the first worker never started the job"
        );
        let submission = cluster.store.get(&id).await.unwrap().map(|v| v.value);
        if let Some(s) = submission {
            if s.worker == "first" && !s.tests.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();

    // The second worker starts on the dead one's state dir, so it must also
    // clean up the work dir mount and cgroups that the first one left.
    let mut second = WorkerProcess::spawn(&cluster.nats.url(), "second", state.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    let finished = loop {
        assert!(
            Instant::now() < deadline,
            "the job was never finished after its worker died"
        );
        let submission = cluster.store.get(&id).await.unwrap().unwrap().value;
        if submission.status() == SubmissionStatus::Finished {
            break submission;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        finished.worker, "second",
        "the second worker must finish the job"
    );
    assert_eq!(
        finished.attempt, 2,
        "the job must be on its second delivery"
    );
    assert_eq!(finished.tests.len(), 8, "every test must have a result");
    assert_eq!(finished.verdict(), Verdict::Accepted);
    let exit = second.terminate();
    assert!(
        exit.success(),
        "the second worker must drain and exit cleanly on SIGTERM: {exit}"
    );
    cluster.stop().await;
}
