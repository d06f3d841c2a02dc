//! Conversion of successive submission snapshots into watch events.
//!
//! The store's watch may skip revisions, but every snapshot is cumulative
//! (it contains every test result so far), so comparing the last snapshot a
//! watcher saw with the next one recovers every event it missed.

use std::collections::HashMap;

use verdict_proto::v1::{
    submission_event::Event, StatusChanged, Submission, SubmissionEvent, SubmissionStatus,
};

/// True for the statuses after which a submission never changes again.
pub fn is_final(status: SubmissionStatus) -> bool {
    matches!(
        status,
        SubmissionStatus::Finished | SubmissionStatus::Cancelled | SubmissionStatus::Failed
    )
}

/// Returns the events that lead from `previous` (or from nothing, for a
/// watcher's first snapshot) to `next`, in this order:
///
/// 1. `Compiled` when the compile result is new or changed;
/// 2. for a non-final `next`: `StatusChanged` when the status differs, then
///    `TestFinished` for each test result that is new or changed, in the
///    order of `next.tests`;
/// 3. for a final `next`: the new test results first, then `StatusChanged`
///    (when the status differs) and last `Finished` with the whole
///    submission, so the final status follows the results it covers.
///
/// A changed result is reported again because a redelivered job may
/// re-grade a test; `previous` equal to `next` yields no events.
pub fn events_between(previous: Option<&Submission>, next: &Submission) -> Vec<SubmissionEvent> {
    let mut events = Vec::new();
    let event = |event: Event| SubmissionEvent {
        submission_id: next.id.clone(),
        event: Some(event),
    };

    if let Some(compile) = &next.compile {
        if previous.and_then(|p| p.compile.as_ref()) != Some(compile) {
            events.push(event(Event::Compiled(compile.clone())));
        }
    }

    let status = next.status();
    let status_changed = previous.map(|p| p.status()) != Some(status);
    let status_event = event(Event::StatusChanged(StatusChanged {
        status: status.into(),
    }));

    let seen: HashMap<u32, _> = previous
        .map(|p| p.tests.iter().map(|test| (test.index, test)).collect())
        .unwrap_or_default();
    let test_events = next
        .tests
        .iter()
        .filter(|test| seen.get(&test.index) != Some(test))
        .map(|test| event(Event::TestFinished(test.clone())));

    if is_final(status) {
        events.extend(test_events);
        if status_changed {
            events.push(status_event);
        }
        events.push(event(Event::Finished(next.clone())));
    } else {
        if status_changed {
            events.push(status_event);
        }
        events.extend(test_events);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict_proto::v1::{CompileResult, TestResult, Verdict};

    /// Names each event briefly, such as `status:RUNNING` or `test:2`.
    fn names(events: &[SubmissionEvent]) -> Vec<String> {
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

    fn snapshot(status: SubmissionStatus, compiled: bool, tests: u32) -> Submission {
        let mut submission = Submission {
            id: "s1".to_owned(),
            test_count: 3,
            ..Default::default()
        };
        submission.set_status(status);
        if compiled {
            submission.compile = Some(CompileResult {
                success: true,
                ..Default::default()
            });
        }
        submission.tests = (0..tests)
            .map(|index| {
                let mut result = TestResult {
                    index,
                    ..Default::default()
                };
                result.set_verdict(Verdict::Accepted);
                result
            })
            .collect();
        submission
    }

    fn assert_events(previous: Option<&Submission>, next: &Submission, expected: &[&str]) {
        let actual = names(&events_between(previous, next));
        assert_eq!(actual, expected, "expected {expected:?}, got {actual:?}");
    }

    #[test]
    fn first_snapshot_reports_status() {
        let queued = snapshot(SubmissionStatus::Queued, false, 0);
        assert_events(None, &queued, &["status:QUEUED"]);
    }

    #[test]
    fn unchanged_snapshot_reports_nothing() {
        let running = snapshot(SubmissionStatus::Running, true, 1);
        assert_events(Some(&running), &running, &[]);
    }

    #[test]
    fn compile_result_reported_once() {
        let compiling = snapshot(SubmissionStatus::Compiling, false, 0);
        let running = snapshot(SubmissionStatus::Running, true, 0);
        assert_events(Some(&compiling), &running, &["compiled", "status:RUNNING"]);
    }

    #[test]
    fn new_tests_reported_in_order() {
        let one = snapshot(SubmissionStatus::Running, true, 1);
        let three = snapshot(SubmissionStatus::Running, true, 3);
        assert_events(Some(&one), &three, &["test:1", "test:2"]);
    }

    #[test]
    fn skipped_revisions_lose_no_events() {
        let queued = snapshot(SubmissionStatus::Queued, false, 0);
        let finished = snapshot(SubmissionStatus::Finished, true, 3);
        assert_events(
            Some(&queued),
            &finished,
            &[
                "compiled",
                "test:0",
                "test:1",
                "test:2",
                "status:FINISHED",
                "finished",
            ],
        );
    }

    #[test]
    fn final_snapshot_without_status_change_still_finishes() {
        let finished = snapshot(SubmissionStatus::Finished, true, 3);
        assert_events(Some(&finished), &finished, &["finished"]);
    }

    #[test]
    fn already_final_submission_replays_everything() {
        let cancelled = snapshot(SubmissionStatus::Cancelled, true, 1);
        assert_events(
            None,
            &cancelled,
            &["compiled", "test:0", "status:CANCELLED", "finished"],
        );
    }

    #[test]
    fn regraded_test_reported_again() {
        let before = snapshot(SubmissionStatus::Running, true, 2);
        let mut after = before.clone();
        after.tests[1].set_verdict(Verdict::WrongAnswer);
        assert_events(Some(&before), &after, &["test:1"]);
    }

    #[test]
    fn finished_event_carries_submission() {
        let finished = snapshot(SubmissionStatus::Finished, true, 3);
        let events = events_between(None, &finished);
        let last = events.last().and_then(|e| e.event.clone());
        assert_eq!(last, Some(Event::Finished(finished.clone())));
    }

    #[test]
    fn events_carry_submission_id() {
        let finished = snapshot(SubmissionStatus::Finished, true, 3);
        for event in events_between(None, &finished) {
            assert_eq!(event.submission_id, "s1", "event {event:?} lacks the id");
        }
    }
}
