//! Maps how a sandboxed run ended to a test verdict, and test verdicts to
//! the submission's overall verdict and score. Pure functions.

use verdict_proto::v1::{LimitExceeded, TestResult, Verdict};
use verdict_sandbox::{ExitStatus, LimitKind, RunOutcome};

/// Verdict of a run that did not end normally, so no checker runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFailure {
    pub verdict: Verdict,
    pub limit: LimitExceeded,
    /// Short explanation for the test result's checker message.
    pub message: String,
}

/// Classifies a finished run. Returns `None` when the program exited with
/// code 0 within every limit, so the checker decides the verdict.
///
/// Precedence, first match wins:
/// 1. a syscall blocked by seccomp: SECURITY_VIOLATION;
/// 2. an OOM kill or the memory limit: MEMORY_LIMIT_EXCEEDED;
/// 3. the CPU or wall time limit: TIME_LIMIT_EXCEEDED;
/// 4. the output or file size limit: OUTPUT_LIMIT_EXCEEDED;
/// 5. the process limit: RUNTIME_ERROR with `limit` set to PROCESSES;
/// 6. a signal or non-zero exit with one of the language's
///    `out_of_memory_markers` on stderr (such as the JVM's
///    `java.lang.OutOfMemoryError` or V8's `heap out of memory`):
///    MEMORY_LIMIT_EXCEEDED, because those runtimes stop at their own heap
///    cap (set from the memory limit) before the cgroup kills them;
/// 7. any other signal or non-zero exit code: RUNTIME_ERROR.
///
/// Rule 6 reads the program's own stderr, so a program can turn its
/// runtime error into a memory verdict by printing a marker. Both are
/// failures, so this changes no score.
pub fn classify_run(outcome: &RunOutcome, out_of_memory_markers: &[String]) -> Option<RunFailure> {
    if let Some(syscall) = &outcome.blocked_syscall {
        return Some(RunFailure {
            verdict: Verdict::SecurityViolation,
            limit: LimitExceeded::Unspecified,
            message: format!("blocked system call: {syscall}"),
        });
    }
    if outcome.oom_killed || outcome.limit == Some(LimitKind::Memory) {
        return Some(RunFailure {
            verdict: Verdict::MemoryLimitExceeded,
            limit: LimitExceeded::Memory,
            message: "memory limit exceeded".to_string(),
        });
    }
    if let Some(limit) = outcome.limit {
        return Some(limit_failure(limit));
    }

    let failed = match outcome.status {
        ExitStatus::Exited(0) => return None,
        ExitStatus::Exited(code) => format!("exited with code {code}"),
        ExitStatus::Signaled(signal) => format!("killed by signal {signal}"),
    };
    if contains_any(&outcome.stderr, out_of_memory_markers) {
        return Some(RunFailure {
            verdict: Verdict::MemoryLimitExceeded,
            limit: LimitExceeded::Memory,
            message: format!("runtime heap exhausted ({failed})"),
        });
    }
    Some(RunFailure {
        verdict: Verdict::RuntimeError,
        limit: LimitExceeded::Unspecified,
        message: failed,
    })
}

fn limit_failure(limit: LimitKind) -> RunFailure {
    let (verdict, limit, message) = match limit {
        LimitKind::CpuTime => (
            Verdict::TimeLimitExceeded,
            LimitExceeded::CpuTime,
            "CPU time limit exceeded",
        ),
        LimitKind::WallTime => (
            Verdict::TimeLimitExceeded,
            LimitExceeded::WallTime,
            "wall time limit exceeded",
        ),
        LimitKind::Memory => (
            Verdict::MemoryLimitExceeded,
            LimitExceeded::Memory,
            "memory limit exceeded",
        ),
        LimitKind::Output => (
            Verdict::OutputLimitExceeded,
            LimitExceeded::Output,
            "output limit exceeded",
        ),
        // The API has no separate file size limit: the worker sets it to
        // the output limit, so it reports as one.
        LimitKind::FileSize => (
            Verdict::OutputLimitExceeded,
            LimitExceeded::Output,
            "file size limit exceeded",
        ),
        LimitKind::Processes => (
            Verdict::RuntimeError,
            LimitExceeded::Processes,
            "process limit exceeded",
        ),
    };
    RunFailure {
        verdict,
        limit,
        message: message.to_string(),
    }
}

fn contains_any(stderr: &[u8], markers: &[String]) -> bool {
    markers.iter().any(|marker| {
        let marker = marker.as_bytes();
        !marker.is_empty() && stderr.windows(marker.len()).any(|window| window == marker)
    })
}

/// Returns the first verdict in test order that is not ACCEPTED, or ACCEPTED when
/// every test passed or there are no tests.
pub fn overall_verdict(tests: &[TestResult]) -> Verdict {
    tests
        .iter()
        .map(TestResult::verdict)
        .find(|verdict| *verdict != Verdict::Accepted)
        .unwrap_or(Verdict::Accepted)
}

/// Points awarded for the accepted tests.
pub fn score(tests: &[TestResult]) -> u32 {
    tests
        .iter()
        .filter(|test| test.verdict() == Verdict::Accepted)
        .map(|test| test.points)
        .sum()
}

/// Returns a test's points as the request gives them, where 0 means 1.
pub fn test_points(points: u32) -> u32 {
    points.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(status: ExitStatus) -> RunOutcome {
        RunOutcome {
            status,
            limit: None,
            blocked_syscall: None,
            cpu_time: Duration::from_millis(10),
            wall_time: Duration::from_millis(20),
            peak_memory_bytes: 1 << 20,
            oom_killed: false,
            stdout: Vec::new(),
            stderr: Vec::new(),
            files: Vec::new(),
        }
    }

    fn limited(limit: LimitKind) -> RunOutcome {
        RunOutcome {
            limit: Some(limit),
            ..outcome(ExitStatus::Signaled(9))
        }
    }

    fn markers() -> Vec<String> {
        vec![
            "java.lang.OutOfMemoryError".to_string(),
            "JavaScript heap out of memory".to_string(),
        ]
    }

    #[track_caller]
    fn assert_classified(run: &RunOutcome, verdict: Verdict, limit: LimitExceeded) {
        let failure = classify_run(run, &markers());
        let actual = failure.as_ref().map(|f| f.verdict);
        assert_eq!(actual, Some(verdict), "verdict of {run:?}");
        let actual = failure.as_ref().map(|f| f.limit);
        assert_eq!(actual, Some(limit), "limit of {run:?}");
    }

    fn result(verdict: Verdict, points: u32) -> TestResult {
        TestResult {
            verdict: verdict.into(),
            points,
            ..TestResult::default()
        }
    }

    #[test]
    fn clean_exit_leaves_checker_decision() {
        let run = outcome(ExitStatus::Exited(0));
        assert_eq!(
            classify_run(&run, &markers()),
            None,
            "clean exit of {run:?}"
        );
    }

    #[test]
    fn blocked_syscall_is_security_violation() {
        let run = RunOutcome {
            blocked_syscall: Some("ptrace".to_string()),
            oom_killed: true,
            ..outcome(ExitStatus::Signaled(31))
        };
        assert_classified(&run, Verdict::SecurityViolation, LimitExceeded::Unspecified);
        let message = classify_run(&run, &markers()).map(|f| f.message);
        assert_eq!(
            message.as_deref(),
            Some("blocked system call: ptrace"),
            "message of {run:?}"
        );
    }

    #[test]
    fn oom_kill_is_memory_limit() {
        let run = RunOutcome {
            oom_killed: true,
            ..outcome(ExitStatus::Signaled(9))
        };
        assert_classified(&run, Verdict::MemoryLimitExceeded, LimitExceeded::Memory);
    }

    #[test]
    fn memory_limit_wins_over_time_limit() {
        let run = RunOutcome {
            oom_killed: true,
            ..limited(LimitKind::WallTime)
        };
        assert_classified(&run, Verdict::MemoryLimitExceeded, LimitExceeded::Memory);
    }

    #[test]
    fn each_limit_maps_to_its_verdict() {
        let cases = [
            (
                LimitKind::CpuTime,
                Verdict::TimeLimitExceeded,
                LimitExceeded::CpuTime,
            ),
            (
                LimitKind::WallTime,
                Verdict::TimeLimitExceeded,
                LimitExceeded::WallTime,
            ),
            (
                LimitKind::Memory,
                Verdict::MemoryLimitExceeded,
                LimitExceeded::Memory,
            ),
            (
                LimitKind::Output,
                Verdict::OutputLimitExceeded,
                LimitExceeded::Output,
            ),
            (
                LimitKind::FileSize,
                Verdict::OutputLimitExceeded,
                LimitExceeded::Output,
            ),
            (
                LimitKind::Processes,
                Verdict::RuntimeError,
                LimitExceeded::Processes,
            ),
        ];
        for (kind, verdict, limit) in cases {
            assert_classified(&limited(kind), verdict, limit);
        }
    }

    #[test]
    fn limit_wins_over_clean_exit() {
        let run = RunOutcome {
            limit: Some(LimitKind::Output),
            ..outcome(ExitStatus::Exited(0))
        };
        assert_classified(&run, Verdict::OutputLimitExceeded, LimitExceeded::Output);
    }

    #[test]
    fn nonzero_exit_is_runtime_error() {
        let run = outcome(ExitStatus::Exited(3));
        assert_classified(&run, Verdict::RuntimeError, LimitExceeded::Unspecified);
        let message = classify_run(&run, &markers()).map(|f| f.message);
        assert_eq!(
            message.as_deref(),
            Some("exited with code 3"),
            "message of {run:?}"
        );
    }

    #[test]
    fn signal_is_runtime_error() {
        let run = outcome(ExitStatus::Signaled(11));
        assert_classified(&run, Verdict::RuntimeError, LimitExceeded::Unspecified);
    }

    #[test]
    fn java_heap_exhaustion_is_memory_limit() {
        let run = RunOutcome {
            stderr: b"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n"
                .to_vec(),
            ..outcome(ExitStatus::Exited(1))
        };
        assert_classified(&run, Verdict::MemoryLimitExceeded, LimitExceeded::Memory);
    }

    #[test]
    fn node_heap_exhaustion_is_memory_limit() {
        let run = RunOutcome {
            stderr: b"FATAL ERROR: Reached heap limit Allocation failed - \
                      JavaScript heap out of memory\n"
                .to_vec(),
            ..outcome(ExitStatus::Signaled(6))
        };
        assert_classified(&run, Verdict::MemoryLimitExceeded, LimitExceeded::Memory);
    }

    #[test]
    fn heap_marker_of_other_language_ignored() {
        let run = RunOutcome {
            stderr: b"java.lang.OutOfMemoryError".to_vec(),
            ..outcome(ExitStatus::Exited(1))
        };
        let failure = classify_run(&run, &[]);
        let verdict = failure.map(|f| f.verdict);
        assert_eq!(verdict, Some(Verdict::RuntimeError), "verdict of {run:?}");
    }

    #[test]
    fn heap_marker_after_clean_exit_ignored() {
        let run = RunOutcome {
            stderr: b"OutOfMemoryError".to_vec(),
            ..outcome(ExitStatus::Exited(0))
        };
        assert_eq!(
            classify_run(&run, &markers()),
            None,
            "clean exit of {run:?}"
        );
    }

    #[test]
    fn overall_is_first_failure_in_order() {
        let tests = [
            result(Verdict::Accepted, 1),
            result(Verdict::TimeLimitExceeded, 1),
            result(Verdict::WrongAnswer, 1),
        ];
        assert_eq!(overall_verdict(&tests), Verdict::TimeLimitExceeded);
    }

    #[test]
    fn overall_accepted_when_all_pass() {
        let tests = [result(Verdict::Accepted, 1), result(Verdict::Accepted, 2)];
        assert_eq!(overall_verdict(&tests), Verdict::Accepted);
    }

    #[test]
    fn overall_accepted_without_tests() {
        assert_eq!(overall_verdict(&[]), Verdict::Accepted);
    }

    #[test]
    fn score_sums_accepted_points_only() {
        let tests = [
            result(Verdict::Accepted, 3),
            result(Verdict::WrongAnswer, 5),
            result(Verdict::Accepted, 2),
            result(Verdict::Skipped, 7),
        ];
        assert_eq!(score(&tests), 5);
    }

    #[test]
    fn zero_points_count_as_one() {
        assert_eq!(test_points(0), 1);
        assert_eq!(test_points(4), 4);
    }
}
