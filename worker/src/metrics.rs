//! Every metric the worker records, with its unit and labels. Values go to
//! whatever `metrics` recorder the process installed (the CLI installs the
//! Prometheus exporter); without one they are dropped.
//!
//! | name | kind | unit | labels |
//! | --- | --- | --- | --- |
//! | `verdict_submissions_graded_total` | counter | submissions | `language`, `verdict` |
//! | `verdict_tests_total` | counter | test runs | `language`, `verdict` |
//! | `verdict_queue_wait_seconds` | histogram | seconds | none |
//! | `verdict_run_duration_seconds` | histogram | seconds | `language`, `phase` |
//! | `verdict_jobs_in_flight` | gauge | jobs | none |
//! | `verdict_job_failures_total` | counter | deliveries | `reason` |
//!
//! `verdict` label values are the verdict names in lower case without the
//! `VERDICT_` prefix, such as `accepted` or `time_limit_exceeded`. `phase`
//! is `compile` or `test`. `reason` is one of the `FailureReason` labels.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics::{Gauge, Unit};
use verdict_proto::v1::Verdict;

pub const SUBMISSIONS_GRADED: &str = "verdict_submissions_graded_total";
pub const TESTS: &str = "verdict_tests_total";
pub const QUEUE_WAIT: &str = "verdict_queue_wait_seconds";
pub const RUN_DURATION: &str = "verdict_run_duration_seconds";
pub const JOBS_IN_FLIGHT: &str = "verdict_jobs_in_flight";
pub const JOB_FAILURES: &str = "verdict_job_failures_total";

/// Every metric name above, for tests that check an exporter shows them.
pub const ALL: [&str; 6] = [
    SUBMISSIONS_GRADED,
    TESTS,
    QUEUE_WAIT,
    RUN_DURATION,
    JOBS_IN_FLIGHT,
    JOB_FAILURES,
];

/// Registers the description and unit of every worker metric with the
/// installed recorder. Call once after installing it.
pub fn describe() {
    describe_counter!(
        SUBMISSIONS_GRADED,
        Unit::Count,
        "Submissions that reached FINISHED on this worker, by language and overall verdict."
    );
    describe_counter!(
        TESTS,
        Unit::Count,
        "Test runs graded, by language and test verdict (SKIPPED tests included)."
    );
    describe_histogram!(
        QUEUE_WAIT,
        Unit::Seconds,
        "Time from a job's enqueue to the start of its grading, per delivery."
    );
    describe_histogram!(
        RUN_DURATION,
        Unit::Seconds,
        "Wall time of one sandboxed run, by language and phase (compile or test)."
    );
    describe_gauge!(
        JOBS_IN_FLIGHT,
        Unit::Count,
        "Jobs this worker is grading now."
    );
    describe_counter!(
        JOB_FAILURES,
        Unit::Count,
        "Deliveries that ended without a graded result, by reason."
    );
}

/// Reason a delivery ended without a graded result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The sandbox failed to set up or run; the job was handed back.
    Sandbox,
    /// The submission store failed; the job was handed back.
    Store,
    /// The job names a language no langpack defines.
    UnknownLanguage,
    /// The language's tools are missing on this worker.
    LanguageUnavailable,
    /// The job was delivered more often than allowed and stored as FAILED.
    MaxAttempts,
    /// The worker shut down before the job finished; it was handed back.
    Shutdown,
}

impl FailureReason {
    pub fn label(self) -> &'static str {
        match self {
            FailureReason::Sandbox => "sandbox",
            FailureReason::Store => "store",
            FailureReason::UnknownLanguage => "unknown_language",
            FailureReason::LanguageUnavailable => "language_unavailable",
            FailureReason::MaxAttempts => "max_attempts",
            FailureReason::Shutdown => "shutdown",
        }
    }
}

/// Returns the `verdict` label value of a verdict, such as `wrong_answer`.
pub fn verdict_label(verdict: Verdict) -> String {
    let name = verdict.as_str_name();
    name.strip_prefix("VERDICT_")
        .unwrap_or(name)
        .to_ascii_lowercase()
}

pub(crate) fn submission_graded(language: &str, verdict: Verdict) {
    counter!(
        SUBMISSIONS_GRADED,
        "language" => language.to_string(),
        "verdict" => verdict_label(verdict)
    )
    .increment(1);
}

pub(crate) fn test_graded(language: &str, verdict: Verdict) {
    counter!(
        TESTS,
        "language" => language.to_string(),
        "verdict" => verdict_label(verdict)
    )
    .increment(1);
}

pub(crate) fn queue_wait(wait: Duration) {
    histogram!(QUEUE_WAIT).record(wait.as_secs_f64());
}

/// `phase` is `compile` or `test`.
pub(crate) fn run_duration(language: &str, phase: &'static str, wall: Duration) {
    histogram!(
        RUN_DURATION,
        "language" => language.to_string(),
        "phase" => phase
    )
    .record(wall.as_secs_f64());
}

pub(crate) fn job_failed(reason: FailureReason) {
    counter!(JOB_FAILURES, "reason" => reason.label()).increment(1);
}

/// Counts one job in flight for as long as the guard lives.
pub(crate) struct InFlight {
    gauge: Gauge,
}

impl InFlight {
    pub(crate) fn start() -> InFlight {
        let gauge = gauge!(JOBS_IN_FLIGHT);
        gauge.increment(1.0);
        InFlight { gauge }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_label_drops_prefix() {
        assert_eq!(
            verdict_label(Verdict::TimeLimitExceeded),
            "time_limit_exceeded"
        );
        assert_eq!(verdict_label(Verdict::Accepted), "accepted");
    }
}
