//! Text rendering of verdicts and test results for the terminal.

use verdict_proto::v1::{
    test_result, LimitExceeded, Submission, SubmissionStatus, TestResult, Verdict,
};

/// Returns the short code judges use for a verdict (AC, WA, TLE, ...).
pub fn code(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Unspecified => "-",
        Verdict::Accepted => "AC",
        Verdict::WrongAnswer => "WA",
        Verdict::PresentationError => "PE",
        Verdict::TimeLimitExceeded => "TLE",
        Verdict::MemoryLimitExceeded => "MLE",
        Verdict::OutputLimitExceeded => "OLE",
        Verdict::RuntimeError => "RE",
        Verdict::CompilationError => "CE",
        Verdict::SecurityViolation => "SE",
        Verdict::InternalError => "IE",
        Verdict::Skipped => "SKIPPED",
    }
}

/// Returns the lowercase status name, such as `finished`.
pub fn status_name(status: SubmissionStatus) -> &'static str {
    match status {
        SubmissionStatus::Unspecified => "unspecified",
        SubmissionStatus::Queued => "queued",
        SubmissionStatus::Compiling => "compiling",
        SubmissionStatus::Running => "running",
        SubmissionStatus::Finished => "finished",
        SubmissionStatus::Cancelled => "cancelled",
        SubmissionStatus::Failed => "failed",
    }
}

/// Whether a status is final: no worker will change it again.
pub fn is_final(status: SubmissionStatus) -> bool {
    matches!(
        status,
        SubmissionStatus::Finished | SubmissionStatus::Cancelled | SubmissionStatus::Failed
    )
}

/// Formats the header line of `test_row`'s columns.
pub fn test_header() -> String {
    format!(
        "{:<4} {:<20} {:<8} {:>8} {:>8} {:>10} {:<10} {}",
        "#", "test", "verdict", "cpu ms", "wall ms", "memory KiB", "exit", "note"
    )
}

/// Formats one test as a line: index, name, verdict, CPU and wall time, peak memory,
/// exit status and the limit or checker message.
pub fn test_row(test: &TestResult) -> String {
    let exit = match test.termination {
        Some(test_result::Termination::ExitCode(code)) => format!("code {code}"),
        Some(test_result::Termination::Signal(signal)) => format!("signal {signal}"),
        None => "-".to_owned(),
    };
    let note = match test.limit_exceeded() {
        LimitExceeded::Unspecified => test.checker_message.clone(),
        LimitExceeded::CpuTime => "cpu time limit".to_owned(),
        LimitExceeded::WallTime => "wall time limit".to_owned(),
        LimitExceeded::Memory => "memory limit".to_owned(),
        LimitExceeded::Output => "output limit".to_owned(),
        LimitExceeded::Processes => "process limit".to_owned(),
    };
    format!(
        "{:<4} {:<20} {:<8} {:>8} {:>8} {:>10} {:<10} {}",
        test.index + 1,
        truncate(&test.name, 20),
        code(test.verdict()),
        test.cpu_time_ms,
        test.wall_time_ms,
        test.peak_memory_bytes / 1024,
        exit,
        truncate(&note, 60)
    )
}

/// Formats a one-line summary of a submission in its final state.
pub fn summary(submission: &Submission) -> String {
    let mut line = format!(
        "submission {}: {} {}, score {}/{}",
        submission.id,
        status_name(submission.status()),
        code(submission.verdict()),
        submission.score,
        submission.max_score
    );
    if !submission.error.is_empty() {
        line.push_str(&format!(" ({})", submission.error));
    }
    line
}

fn truncate(text: &str, max_chars: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() <= max_chars {
        return first_line.to_owned();
    }
    let kept: String = first_line
        .chars()
        .take(max_chars.saturating_sub(1))
        .collect();
    format!("{kept}…")
}
