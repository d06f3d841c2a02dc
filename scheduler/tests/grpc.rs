//! The Grader, health and reflection services over real gRPC, with the
//! embedded queue and store. Where a test needs a worker, the test plays
//! its part by writing to the real store.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{valid_request, Harness, TIMEOUT};
use futures::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_types::StatusExt;
use verdict_proto::v1::submission_event::Event;
use verdict_proto::v1::{
    checker, CancelSubmissionRequest, Checker, CompileResult, FloatChecker, GetSubmissionRequest,
    Language, Limits, ListLanguagesRequest, SourceFile, SubmissionEvent, SubmissionStatus,
    SubmitRequest, TestResult, TokensChecker, Verdict, WatchSubmissionRequest, WorkerInfo,
};
use verdict_queue::embedded::{EmbeddedQueue, EmbeddedStore};

/// Names each event briefly, such as `status:RUNNING` or `test:2`.
fn event_names(events: &[SubmissionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.event {
            Some(Event::StatusChanged(s)) => format!(
                "status:{}",
                SubmissionStatus::try_from(s.status)
                    .map(|s| s.as_str_name().trim_start_matches("SUBMISSION_STATUS_"))
                    .unwrap_or("?")
            ),
            Some(Event::Compiled(_)) => "compiled".to_owned(),
            Some(Event::TestFinished(t)) => format!("test:{}", t.index),
            Some(Event::Finished(_)) => "finished".to_owned(),
            None => "none".to_owned(),
        })
        .collect()
}

/// Reads a stream to its end, failing on an error or after `TIMEOUT`.
async fn collect_events(mut stream: tonic::Streaming<SubmissionEvent>) -> Vec<SubmissionEvent> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "stream did not end in {TIMEOUT:?}; got {:?}",
                    event_names(&events)
                )
            });
        match next {
            None => return events,
            Some(Ok(event)) => events.push(event),
            Some(Err(status)) => panic!(
                "stream failed with {status:?} after {:?}",
                event_names(&events)
            ),
        }
    }
}

fn test_result(index: u32) -> TestResult {
    let mut result = TestResult {
        index,
        name: (index + 1).to_string(),
        points: 1,
        ..Default::default()
    };
    result.set_verdict(Verdict::Accepted);
    result
}

/// Walks a submission through compile, three tests and FINISHED, the way a
/// worker records its progress.
async fn play_worker(harness: &Harness, id: &str) {
    harness
        .update(id, |s| s.set_status(SubmissionStatus::Compiling))
        .await;
    harness
        .update(id, |s| {
            s.compile = Some(CompileResult {
                success: true,
                ..Default::default()
            });
            s.set_status(SubmissionStatus::Running);
        })
        .await;
    for index in 0..3 {
        harness
            .update(id, |s| s.tests.push(test_result(index)))
            .await;
    }
    harness
        .update(id, |s| {
            s.set_status(SubmissionStatus::Finished);
            s.set_verdict(Verdict::Accepted);
            s.score = 3;
        })
        .await;
}

/// Checks what every complete watch must show: each test once and in
/// order, the compile result once, and `finished` last. Status events in
/// between may be skipped when the store coalesces revisions.
fn assert_complete_watch(names: &[String]) {
    let tests: Vec<&str> = names
        .iter()
        .filter(|n| n.starts_with("test:"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        tests,
        ["test:0", "test:1", "test:2"],
        "all events: {names:?}"
    );
    let compiled = names.iter().filter(|n| *n == "compiled").count();
    assert_eq!(compiled, 1, "expected one compiled event in {names:?}");
    assert_eq!(
        names.last().map(String::as_str),
        Some("finished"),
        "expected finished last in {names:?}"
    );
}

#[tokio::test]
async fn submit_queues_normalized_job() {
    let mut harness = Harness::start().await;
    let response = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner();
    assert!(!response.duplicate, "a first submit is not a duplicate");

    let delivery = harness
        .queue
        .pull(TIMEOUT)
        .await
        .expect("pull")
        .expect("a job within the timeout");
    let job = delivery.job().clone();
    assert_eq!(job.submission_id, response.submission_id);
    assert!(job.enqueued_at.is_some(), "enqueued_at must be set");

    let request = job.request.expect("the job carries the request");
    let expected_limits = Limits {
        cpu_time_ms: 2_000,
        wall_time_ms: 6_000,
        memory_bytes: 256 << 20,
        max_processes: 1,
        output_bytes: 16 << 20,
    };
    assert_eq!(
        request.limits,
        Some(expected_limits),
        "defaults written into the job"
    );
    let expected_checker = Checker {
        kind: Some(checker::Kind::Tokens(TokensChecker {
            case_sensitive: true,
        })),
    };
    assert_eq!(request.checker, Some(expected_checker));
    delivery.ack().await.expect("ack");

    let stored = harness
        .store
        .get(&response.submission_id)
        .await
        .expect("store get")
        .expect("the submission is stored")
        .value;
    assert_eq!(stored.status(), SubmissionStatus::Queued);
    assert_eq!(stored.test_count, 3);
    assert_eq!(stored.max_score, 3);
    assert!(stored.created_at.is_some(), "created_at must be set");
}

#[tokio::test]
async fn duplicate_key_queues_one_job() {
    let mut harness = Harness::start().await;
    let request = SubmitRequest {
        idempotency_key: "candidate-42/question-7".to_owned(),
        ..valid_request()
    };
    let first = harness
        .client
        .submit(request.clone())
        .await
        .expect("first submit")
        .into_inner();
    let second = harness
        .client
        .submit(request)
        .await
        .expect("second submit")
        .into_inner();
    assert_eq!(
        second.submission_id, first.submission_id,
        "same key, same id"
    );
    assert!(
        second.duplicate,
        "the second submit must be marked duplicate"
    );

    let delivery = harness
        .queue
        .pull(TIMEOUT)
        .await
        .expect("pull")
        .expect("the first job");
    delivery.ack().await.expect("ack");
    let extra = harness
        .queue
        .pull(Duration::from_millis(300))
        .await
        .expect("second pull");
    assert!(
        extra.is_none(),
        "expected one job, got a second for {:?}",
        extra.map(|d| d.job().submission_id.clone())
    );
}

#[tokio::test]
async fn bad_requests_return_field_violations() {
    let mut harness = Harness::start().await;
    let cases: Vec<(&str, SubmitRequest, Vec<&str>)> = vec![
        (
            "unknown language",
            SubmitRequest {
                language: "cobol".to_owned(),
                ..valid_request()
            },
            vec!["language"],
        ),
        (
            "no sources",
            SubmitRequest {
                sources: Vec::new(),
                ..valid_request()
            },
            vec!["sources"],
        ),
        (
            "path in file name and empty content",
            SubmitRequest {
                sources: vec![SourceFile {
                    name: "../main.py".to_owned(),
                    content: Vec::new(),
                }],
                ..valid_request()
            },
            vec!["sources[0].name", "sources[0].content"],
        ),
        (
            "no tests",
            SubmitRequest {
                tests: Vec::new(),
                ..valid_request()
            },
            vec!["tests"],
        ),
        (
            "limits out of range",
            SubmitRequest {
                limits: Some(Limits {
                    cpu_time_ms: 60_001,
                    wall_time_ms: 0,
                    memory_bytes: 1,
                    max_processes: 1_000,
                    output_bytes: 1 << 40,
                }),
                ..valid_request()
            },
            vec![
                "limits.cpu_time_ms",
                "limits.memory_bytes",
                "limits.max_processes",
                "limits.output_bytes",
            ],
        ),
        (
            "negative tolerance",
            SubmitRequest {
                checker: Some(Checker {
                    kind: Some(checker::Kind::Float(FloatChecker {
                        absolute_tolerance: -1.0,
                        relative_tolerance: 0.0,
                    })),
                }),
                ..valid_request()
            },
            vec!["checker.float.absolute_tolerance"],
        ),
        (
            "long idempotency key",
            SubmitRequest {
                idempotency_key: "k".repeat(257),
                ..valid_request()
            },
            vec!["idempotency_key"],
        ),
    ];

    for (case, request, expected) in cases {
        let status = harness.client.submit(request).await.expect_err(case);
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let fields: Vec<String> = status
            .get_details_bad_request()
            .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        assert_eq!(
            fields, expected,
            "{case}: expected violations {expected:?}, got {fields:?}"
        );
    }

    let queued = harness
        .queue
        .pull(Duration::from_millis(200))
        .await
        .expect("pull");
    assert!(queued.is_none(), "a rejected request must queue nothing");
}

#[tokio::test]
async fn unqueued_submission_marked_failed() {
    // A real embedded queue whose job size limit every request exceeds.
    let queue = EmbeddedQueue::new(Duration::from_secs(30)).with_max_job_bytes(16);
    let store = EmbeddedStore::new(Duration::from_secs(60));
    let mut harness = Harness::start_with(Arc::new(queue), Arc::new(store)).await;

    let status = harness
        .client
        .submit(valid_request())
        .await
        .expect_err("the job is larger than the queue accepts");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");

    let id = status
        .message()
        .strip_prefix("submission ")
        .and_then(|rest| rest.get(..36))
        .unwrap_or_else(|| panic!("no submission id in {:?}", status.message()))
        .to_owned();
    let stored = harness
        .store
        .get(&id)
        .await
        .expect("store get")
        .unwrap_or_else(|| panic!("submission {id} is not stored"))
        .value;
    assert_eq!(
        stored.status(),
        SubmissionStatus::Failed,
        "stored {stored:?}"
    );
    assert!(
        stored.error.contains("could not be queued"),
        "expected the reason in the error, got {:?}",
        stored.error
    );
}

#[tokio::test]
async fn get_unknown_submission_not_found() {
    let mut harness = Harness::start().await;
    let id = uuid::Uuid::now_v7().hyphenated().to_string();
    let status = harness
        .client
        .get_submission(GetSubmissionRequest {
            submission_id: id.clone(),
        })
        .await
        .expect_err("no such submission");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(
        status.message().contains(&id),
        "message {:?} lacks the id",
        status.message()
    );
}

#[tokio::test]
async fn malformed_ids_are_invalid_arguments() {
    let mut harness = Harness::start().await;
    for id in ["", "not-a-uuid"] {
        let status = harness
            .client
            .get_submission(GetSubmissionRequest {
                submission_id: id.to_owned(),
            })
            .await
            .expect_err("malformed id");
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "id {id:?}: {status:?}"
        );
    }
}

#[tokio::test]
async fn get_returns_stored_submission() {
    let mut harness = Harness::start().await;
    let id = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner()
        .submission_id;
    let submission = harness
        .client
        .get_submission(GetSubmissionRequest {
            submission_id: id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(submission.id, id);
    assert_eq!(submission.status(), SubmissionStatus::Queued);
}

#[tokio::test]
async fn watch_sees_every_event() {
    let mut harness = Harness::start().await;
    let id = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner()
        .submission_id;
    let stream = harness
        .client
        .watch_submission(WatchSubmissionRequest {
            submission_id: id.clone(),
        })
        .await
        .expect("watch")
        .into_inner();

    play_worker(&harness, &id).await;
    let events = collect_events(stream).await;
    let names = event_names(&events);
    assert_eq!(
        names.first().map(String::as_str),
        Some("status:QUEUED"),
        "{names:?}"
    );
    assert_complete_watch(&names);

    let Some(Event::Finished(last)) = events.last().and_then(|e| e.event.clone()) else {
        panic!("expected a finished event last, got {names:?}");
    };
    assert_eq!(last.score, 3, "finished carries the final submission");
}

#[tokio::test]
async fn watch_of_final_submission_ends() {
    let mut harness = Harness::start().await;
    let id = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner()
        .submission_id;
    play_worker(&harness, &id).await;

    let stream = harness
        .client
        .watch_submission(WatchSubmissionRequest {
            submission_id: id.clone(),
        })
        .await
        .expect("watch")
        .into_inner();
    let names = event_names(&collect_events(stream).await);
    let expected = [
        "compiled",
        "test:0",
        "test:1",
        "test:2",
        "status:FINISHED",
        "finished",
    ];
    assert_eq!(names, expected, "replay of a finished submission");
}

#[tokio::test]
async fn watch_unknown_submission_not_found() {
    let mut harness = Harness::start().await;
    let status = harness
        .client
        .watch_submission(WatchSubmissionRequest {
            submission_id: uuid::Uuid::now_v7().hyphenated().to_string(),
        })
        .await
        .expect_err("no such submission");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

#[tokio::test]
async fn grade_streams_until_finished() {
    let mut harness = Harness::start().await;
    let stream = harness
        .client
        .grade(valid_request())
        .await
        .expect("grade")
        .into_inner();

    let delivery = harness
        .queue
        .pull(TIMEOUT)
        .await
        .expect("pull")
        .expect("the graded job");
    let id = delivery.job().submission_id.clone();
    play_worker(&harness, &id).await;
    delivery.ack().await.expect("ack");

    let events = collect_events(stream).await;
    let names = event_names(&events);
    assert_complete_watch(&names);
    for event in &events {
        assert_eq!(
            event.submission_id, id,
            "event {event:?} names another submission"
        );
    }
}

#[tokio::test]
async fn cancel_twice_fails_precondition() {
    let mut harness = Harness::start().await;
    let id = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner()
        .submission_id;
    let request = CancelSubmissionRequest {
        submission_id: id.clone(),
    };

    let cancelled = harness
        .client
        .cancel_submission(request.clone())
        .await
        .expect("first cancel")
        .into_inner();
    assert_eq!(cancelled.status(), SubmissionStatus::Cancelled);
    assert_eq!(cancelled.error, "cancelled by client");
    assert!(cancelled.finished_at.is_some(), "finished_at must be set");

    let stored = harness
        .store
        .get(&id)
        .await
        .expect("store get")
        .expect("stored")
        .value;
    assert_eq!(
        stored.status(),
        SubmissionStatus::Cancelled,
        "the store holds the cancel"
    );

    let status = harness
        .client
        .cancel_submission(request)
        .await
        .expect_err("second cancel");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
}

#[tokio::test]
async fn cancel_unknown_submission_not_found() {
    let mut harness = Harness::start().await;
    let status = harness
        .client
        .cancel_submission(CancelSubmissionRequest {
            submission_id: uuid::Uuid::now_v7().hyphenated().to_string(),
        })
        .await
        .expect_err("no such submission");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

#[tokio::test]
async fn list_languages_merges_workers() {
    let mut harness = Harness::start().await;
    let language = |id: &str, version: &str| Language {
        id: id.to_owned(),
        name: id.to_owned(),
        version: version.to_owned(),
        ..Default::default()
    };
    for (worker, languages) in [
        (
            "w2",
            vec![
                language("python3", "3.11.2"),
                language("cpp17", "g++ 12.2.0"),
            ],
        ),
        ("w1", vec![language("python3", "3.11.2")]),
    ] {
        harness
            .store
            .put_worker(&WorkerInfo {
                id: worker.to_owned(),
                languages,
                slots: 2,
                heartbeat_at: Some(std::time::SystemTime::now().into()),
            })
            .await
            .expect("put_worker");
    }

    let languages = harness
        .client
        .list_languages(ListLanguagesRequest {})
        .await
        .expect("list languages")
        .into_inner()
        .languages;
    let ids: Vec<&str> = languages.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["cpp17", "python3"], "union sorted by id");
}

#[tokio::test]
async fn list_languages_empty_without_workers() {
    let mut harness = Harness::start().await;
    let languages = harness
        .client
        .list_languages(ListLanguagesRequest {})
        .await
        .expect("list languages")
        .into_inner()
        .languages;
    assert!(
        languages.is_empty(),
        "no worker announced, got {languages:?}"
    );
}

#[tokio::test]
async fn health_reports_grader_serving() {
    let harness = Harness::start().await;
    let mut health = HealthClient::new(harness.channel.clone());
    let request = HealthCheckRequest {
        service: "verdict.v1.Grader".to_owned(),
    };

    // The first backend check runs right after start; poll briefly for it.
    let mut last = None;
    for _ in 0..100 {
        let status = health
            .check(request.clone())
            .await
            .expect("health check")
            .into_inner()
            .status();
        if status == ServingStatus::Serving {
            return;
        }
        last = Some(status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected SERVING within 2 s, last status {last:?}");
}

#[tokio::test]
async fn reflection_lists_grader_v1_and_v1alpha() {
    use tonic_reflection::pb::{v1, v1alpha};

    let harness = Harness::start().await;

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(harness.channel.clone());
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(request).await.expect("queue the request");
    drop(sender);
    let mut responses = client
        .server_reflection_info(ReceiverStream::new(receiver))
        .await
        .expect("reflection v1")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection v1 response")
        .and_then(|r| r.message_response);
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response
    else {
        panic!("expected a service list, got {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["verdict.v1.Grader", "grpc.health.v1.Health"] {
        assert!(
            names.iter().any(|n| n == expected),
            "v1 lists {names:?}, expected {expected}"
        );
    }

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(harness.channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(request).await.expect("queue the request");
    drop(sender);
    let mut responses = client
        .server_reflection_info(ReceiverStream::new(receiver))
        .await
        .expect("reflection v1alpha")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("reflection v1alpha response")
        .and_then(|r| r.message_response);
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response
    else {
        panic!("expected a service list, got {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "verdict.v1.Grader"),
        "v1alpha lists {names:?}, expected verdict.v1.Grader"
    );
}

#[tokio::test]
async fn shutdown_ends_open_watch() {
    let mut harness = Harness::start().await;
    let id = harness
        .client
        .submit(valid_request())
        .await
        .expect("submit")
        .into_inner()
        .submission_id;
    let mut stream = harness
        .client
        .watch_submission(WatchSubmissionRequest { submission_id: id })
        .await
        .expect("watch")
        .into_inner();
    let first = stream.message().await.expect("first event");
    assert!(first.is_some(), "expected the QUEUED event first");

    harness.shutdown.cancel();
    let ended = tokio::time::timeout(TIMEOUT, stream.message())
        .await
        .expect("the stream must end on shutdown");
    let code = ended.err().map(|status| status.code());
    assert_eq!(
        code,
        Some(Code::Unavailable),
        "the watcher is told to watch again"
    );

    let server = harness.server.take().expect("server task");
    let served = tokio::time::timeout(TIMEOUT, server)
        .await
        .expect("serve must return after shutdown")
        .expect("serve task panicked");
    assert!(served.is_ok(), "serve returned {served:?}");
}
