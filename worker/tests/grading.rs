//! End-to-end grading through the worker loop: the real sandbox (root
//! only), real C and Python langpacks and the embedded queue and store.

mod common;

use std::time::Duration;

use common::{sandbox_available, sum_request, Harness, C_SUM, PYTHON_SUM};
use verdict_proto::v1::test_result::Termination;
use verdict_proto::v1::{LimitExceeded, Submission, SubmissionStatus, SubmitRequest, Verdict};

/// Grades one request with a fresh one-slot worker.
async fn grade(request: SubmitRequest) -> Submission {
    let mut harness = Harness::new();
    harness.start(|_| {});
    let id = harness.submit(request).await;
    let submission = harness.wait_final(&id).await;
    harness.wait_queue_empty().await;
    harness.stop().await;
    submission
}

#[track_caller]
fn assert_finished(submission: &Submission, verdict: Verdict) {
    assert_eq!(
        submission.status(),
        SubmissionStatus::Finished,
        "status of {submission:?}"
    );
    assert_eq!(
        submission.verdict(),
        verdict,
        "verdict of submission {} ({:?})",
        submission.id,
        submission
    );
}

fn test_verdicts(submission: &Submission) -> Vec<Verdict> {
    submission.tests.iter().map(|t| t.verdict()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_accepted_on_two_tests() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("c", C_SUM)).await;

    assert_finished(&submission, Verdict::Accepted);
    let verdicts = test_verdicts(&submission);
    assert_eq!(
        verdicts,
        [Verdict::Accepted, Verdict::Accepted],
        "tests of {submission:?}"
    );
    assert_eq!(submission.score, 3, "score");
    assert_eq!(submission.max_score, 3, "max score");
    let compiled = submission.compile.as_ref().map(|c| c.success);
    assert_eq!(compiled, Some(true), "compile result of {submission:?}");
    assert_eq!(submission.worker, "test-worker", "worker id");
    assert_eq!(submission.attempt, 1, "attempt");
    assert!(submission.finished_at.is_some(), "finished_at unset");
    let first = &submission.tests[0];
    assert_eq!(first.stdout_excerpt, b"3\n", "stdout excerpt of test 1");
    assert_eq!(
        first.termination,
        Some(Termination::ExitCode(0)),
        "termination"
    );
    assert_eq!(submission.tests[1].name, "2", "default name of test 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_accepted_on_two_tests() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("py", PYTHON_SUM)).await;

    assert_finished(&submission, Verdict::Accepted);
    let verdicts = test_verdicts(&submission);
    assert_eq!(
        verdicts,
        [Verdict::Accepted, Verdict::Accepted],
        "tests of {submission:?}"
    );
    assert_eq!(submission.score, 3, "score");
    let compiled = submission.compile.as_ref().map(|c| c.success);
    assert_eq!(
        compiled,
        Some(true),
        "syntax check result of {submission:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_wrong_answer_names_token() {
    if !sandbox_available() {
        return;
    }
    let source = C_SUM.replace("a + b", "a + b + 1");
    let submission = grade(sum_request("c", &source)).await;

    assert_finished(&submission, Verdict::WrongAnswer);
    let verdicts = test_verdicts(&submission);
    assert_eq!(
        verdicts,
        [Verdict::WrongAnswer, Verdict::WrongAnswer],
        "tests"
    );
    assert_eq!(
        submission.tests[0].checker_message, "token 1: expected 3, got 4",
        "checker message"
    );
    assert_eq!(submission.score, 0, "score");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_wrong_answer() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("py", "print(3)\n")).await;

    assert_finished(&submission, Verdict::WrongAnswer);
    let verdicts = test_verdicts(&submission);
    assert_eq!(verdicts, [Verdict::Accepted, Verdict::WrongAnswer], "tests");
    assert_eq!(submission.score, 1, "score of the accepted first test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_compile_error_has_no_tests() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("c", "int main(void) { return x; }\n")).await;

    assert_finished(&submission, Verdict::CompilationError);
    assert!(submission.tests.is_empty(), "tests of {submission:?}");
    let compile = submission.compile.clone().unwrap_or_default();
    assert!(!compile.success, "compile result of {submission:?}");
    assert!(
        compile.output.contains("undeclared"),
        "compiler output names the error: {:?}",
        compile.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_infinite_loop_time_limit() {
    if !sandbox_available() {
        return;
    }
    let mut request = sum_request("c", "int main(void) { for (;;) {} }\n");
    request.tests.truncate(1);
    // A wall limit far above the CPU limit, so that the CPU limit fires
    // first even when other processes share the cores.
    if let Some(limits) = request.limits.as_mut() {
        limits.wall_time_ms = 20_000;
    }
    let submission = grade(request).await;

    assert_finished(&submission, Verdict::TimeLimitExceeded);
    let test = &submission.tests[0];
    assert_eq!(
        test.limit_exceeded(),
        LimitExceeded::CpuTime,
        "limit of {test:?}"
    );
    assert!(
        test.cpu_time_ms >= 1000,
        "CPU time {} ms, expected at least the 1000 ms limit",
        test.cpu_time_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sleep_wall_time_limit() {
    if !sandbox_available() {
        return;
    }
    let mut request = sum_request("py", "import time\ntime.sleep(60)\n");
    request.tests.truncate(1);
    let submission = grade(request).await;

    assert_finished(&submission, Verdict::TimeLimitExceeded);
    let test = &submission.tests[0];
    assert_eq!(
        test.limit_exceeded(),
        LimitExceeded::WallTime,
        "limit of {test:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_nonzero_exit_runtime_error() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("c", "int main(void) { return 3; }\n")).await;

    assert_finished(&submission, Verdict::RuntimeError);
    let test = &submission.tests[0];
    assert_eq!(
        test.termination,
        Some(Termination::ExitCode(3)),
        "termination"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_exception_runtime_error() {
    if !sandbox_available() {
        return;
    }
    let submission = grade(sum_request("py", "raise ValueError('boom')\n")).await;

    assert_finished(&submission, Verdict::RuntimeError);
    let test = &submission.tests[0];
    assert_eq!(
        test.termination,
        Some(Termination::ExitCode(1)),
        "termination"
    );
    let stderr = String::from_utf8_lossy(&test.stderr_excerpt);
    assert!(
        stderr.contains("ValueError: boom"),
        "stderr excerpt {stderr:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_on_failure_skips_rest() {
    if !sandbox_available() {
        return;
    }
    let mut request = sum_request("py", "print(4)\n");
    request.stop_on_first_failure = true;
    let submission = grade(request).await;

    assert_finished(&submission, Verdict::WrongAnswer);
    let verdicts = test_verdicts(&submission);
    assert_eq!(verdicts, [Verdict::WrongAnswer, Verdict::Skipped], "tests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_deliveries_end_failed() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let id = harness.submit(sum_request("c", C_SUM)).await;

    // A worker that died: the first delivery is taken and handed back
    // without a result.
    let first = harness
        .queue
        .pull(Duration::from_secs(5))
        .await
        .expect("pulling the job")
        .expect("the job is queued");
    first.nak(None).await.expect("handing the job back");

    harness.start(|config| config.max_attempts = 1);
    let submission = harness.wait_final(&id).await;
    harness.wait_queue_empty().await;
    harness.stop().await;

    assert_eq!(
        submission.status(),
        SubmissionStatus::Failed,
        "status of {submission:?}"
    );
    assert_eq!(submission.verdict(), Verdict::InternalError, "verdict");
    assert_eq!(
        submission.error,
        "grading failed on 1 deliveries; last worker did not report (crashed or timed out)",
        "error"
    );
    assert!(submission.tests.is_empty(), "tests of {submission:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_submission_not_graded() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let id = harness
        .submit_with_status(sum_request("c", C_SUM), SubmissionStatus::Cancelled)
        .await;
    harness.start(|_| {});
    harness.wait_queue_empty().await;
    harness.stop().await;

    let submission = harness
        .store
        .get(&id)
        .await
        .expect("reading the submission")
        .expect("the submission exists")
        .value;
    assert_eq!(submission.status(), SubmissionStatus::Cancelled, "status");
    assert_eq!(submission.worker, "", "no worker took the submission");
    assert!(submission.compile.is_none(), "compile of {submission:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_running_stops_grading() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let mut request = sum_request("py", "import time\ntime.sleep(1)\nprint(3)\n");
    request.tests = std::iter::repeat_n(request.tests[0].clone(), 5).collect();
    let id = harness.submit(request).await;
    harness.start(|_| {});
    harness.wait_status(&id, SubmissionStatus::Running).await;

    verdict_queue::update_submission(harness.store.as_ref(), &id, |submission| {
        submission.set_status(SubmissionStatus::Cancelled);
        true
    })
    .await
    .expect("cancelling the submission");
    harness.wait_queue_empty().await;
    harness.stop().await;

    let submission = harness.wait_final(&id).await;
    assert_eq!(submission.status(), SubmissionStatus::Cancelled, "status");
    assert!(
        submission.tests.len() < 5,
        "{} of 5 tests stored after the cancel",
        submission.tests.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_finishes_running_job() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let mut request = sum_request("py", "import time\ntime.sleep(1)\nprint(3)\n");
    request.tests.truncate(1);
    let id = harness.submit(request).await;
    harness.start(|_| {});
    harness.wait_status(&id, SubmissionStatus::Running).await;

    harness.stop().await;

    let submission = harness.wait_final(&id).await;
    assert_finished(&submission, Verdict::Accepted);
    let depth = harness
        .queue
        .depth()
        .await
        .expect("reading the queue depth");
    assert_eq!(depth, 0, "jobs left in the queue after the drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_hands_job_back() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let mut request = sum_request("py", "import time\ntime.sleep(60)\n");
    request.tests.truncate(1);
    // The sandbox ends the run at this wall limit, which bounds how long
    // the blocking run outlives the handed-back job.
    if let Some(limits) = request.limits.as_mut() {
        limits.wall_time_ms = 4000;
    }
    let id = harness.submit(request).await;
    harness.start(|config| config.drain_timeout = Duration::from_millis(300));
    harness.wait_status(&id, SubmissionStatus::Running).await;

    let started = std::time::Instant::now();
    harness.stop().await;
    let stopped_after = started.elapsed();
    assert!(
        stopped_after < Duration::from_secs(3),
        "worker took {stopped_after:?} to stop, expected the 300 ms drain timeout plus a little"
    );

    let redelivered = harness
        .queue
        .pull(Duration::from_secs(5))
        .await
        .expect("pulling the job");
    let attempt = redelivered.as_ref().map(|d| d.attempt());
    assert_eq!(attempt, Some(2), "the handed-back job is delivered again");
    let stored = harness
        .store
        .get(&id)
        .await
        .expect("reading the submission");
    let status = stored.map(|s| s.value.status());
    assert_eq!(
        status,
        Some(SubmissionStatus::Running),
        "status of the handed-back job"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_error_retried_then_failed() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let mut request = sum_request("c", C_SUM);
    // The sandbox rejects a memory limit under 1 MiB as an invalid spec:
    // a service fault, which must never become the candidate's verdict.
    if let Some(limits) = request.limits.as_mut() {
        limits.memory_bytes = 1000;
    }
    let id = harness.submit(request).await;
    harness.start(|config| config.max_attempts = 2);
    let submission = harness.wait_final(&id).await;
    harness.wait_queue_empty().await;
    harness.stop().await;

    assert_eq!(
        submission.status(),
        SubmissionStatus::Failed,
        "status of {submission:?}"
    );
    assert_eq!(submission.verdict(), Verdict::InternalError, "verdict");
    assert_eq!(submission.attempt, 2, "attempt that stored FAILED");
    assert!(
        submission
            .error
            .starts_with("grading failed on attempt 2 of 2: sandbox slot 0 failed during test 1"),
        "error {:?}",
        submission.error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_language_fails_at_once() {
    if !sandbox_available() {
        return;
    }
    let mut harness = Harness::new();
    let mut request = sum_request("c", C_SUM);
    request.language = "no-such-language".to_string();
    let id = harness.submit(request).await;
    harness.start(|_| {});
    let submission = harness.wait_final(&id).await;
    harness.wait_queue_empty().await;
    harness.stop().await;

    assert_eq!(
        submission.status(),
        SubmissionStatus::Failed,
        "status of {submission:?}"
    );
    assert_eq!(submission.verdict(), Verdict::InternalError, "verdict");
    assert_eq!(submission.attempt, 1, "attempt that stored FAILED");
    assert_eq!(
        submission.error, "no langpack defines language \"no-such-language\"",
        "error"
    );
}
