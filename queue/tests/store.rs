//! Submission store behaviour, run against both backends.

mod common;

use std::time::Duration;

use common::{new_id, submission, Backend, PATIENCE, WORKER_TTL};
use futures::StreamExt;
use verdict_proto::v1::{SubmissionStatus, WorkerInfo};
use verdict_queue::{update_submission, StoreError};

/// Defines each listed test twice, in `embedded` and in `nats`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::embedded()).await;
                }
            )*
        }
        mod nats {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::Backend::nats().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    create_then_get_returns_submission,
    get_unknown_id_returns_none,
    create_taken_id_already_exists,
    update_current_revision_succeeds,
    update_stale_revision_conflicts,
    update_missing_submission_not_found,
    invalid_id_is_rejected,
    watch_sees_initial_and_final,
    watch_before_create_waits,
    idempotency_claim_returns_first_id,
    update_submission_retries_conflicts,
    unchanged_update_keeps_revision,
    workers_lists_announcements,
    worker_announcement_expires,
);

async fn create_then_get_returns_submission(backend: Backend) {
    let sent = submission();
    let revision = backend.store.create(&sent).await.expect("create failed");
    let stored = backend.store.get(&sent.id).await.expect("get failed");
    let stored = stored.expect("created submission not found");
    assert_eq!(stored.value, sent, "stored submission differs");
    assert_eq!(
        stored.revision, revision,
        "get returned another revision than create"
    );
}

async fn get_unknown_id_returns_none(backend: Backend) {
    let stored = backend.store.get(&new_id()).await.expect("get failed");
    assert!(stored.is_none(), "unknown id returned {stored:?}");
}

async fn create_taken_id_already_exists(backend: Backend) {
    let sent = submission();
    backend
        .store
        .create(&sent)
        .await
        .expect("first create failed");
    let result = backend.store.create(&sent).await;
    assert!(
        matches!(&result, Err(StoreError::AlreadyExists(id)) if *id == sent.id),
        "expected AlreadyExists({}), got {result:?}",
        sent.id
    );
}

async fn update_current_revision_succeeds(backend: Backend) {
    let mut sent = submission();
    let first = backend.store.create(&sent).await.expect("create failed");
    sent.status = SubmissionStatus::Running as i32;
    let second = backend
        .store
        .update(&sent, first)
        .await
        .expect("update failed");
    assert!(
        second > first,
        "revision went from {first} to {second}, expected it to grow"
    );

    let stored = backend
        .store
        .get(&sent.id)
        .await
        .expect("get failed")
        .unwrap();
    assert_eq!(
        stored.value.status(),
        SubmissionStatus::Running,
        "status not updated"
    );
    assert_eq!(
        stored.revision, second,
        "get returned another revision than update"
    );
}

async fn update_stale_revision_conflicts(backend: Backend) {
    let mut sent = submission();
    let first = backend.store.create(&sent).await.expect("create failed");
    sent.status = SubmissionStatus::Running as i32;
    backend
        .store
        .update(&sent, first)
        .await
        .expect("update failed");

    sent.status = SubmissionStatus::Finished as i32;
    let result = backend.store.update(&sent, first).await;
    assert!(
        matches!(&result, Err(StoreError::Conflict { expected_revision, .. }) if *expected_revision == first),
        "expected Conflict at revision {first}, got {result:?}"
    );
}

async fn update_missing_submission_not_found(backend: Backend) {
    let missing = submission();
    let result = backend.store.update(&missing, 1).await;
    assert!(
        matches!(&result, Err(StoreError::NotFound(id)) if *id == missing.id),
        "expected NotFound({}), got {result:?}",
        missing.id
    );
}

async fn invalid_id_is_rejected(backend: Backend) {
    let mut bad = submission();
    bad.id = "a.b".to_owned();
    let result = backend.store.create(&bad).await;
    assert!(
        matches!(
            &result,
            Err(StoreError::Failed {
                operation: "create",
                ..
            })
        ),
        "expected a create failure for id \"a.b\", got {result:?}"
    );
}

async fn watch_sees_initial_and_final(backend: Backend) {
    let mut sent = submission();
    let mut revision = backend.store.create(&sent).await.expect("create failed");
    let mut updates = backend.store.watch(&sent.id).await.expect("watch failed");

    let first = tokio::time::timeout(PATIENCE, updates.next()).await;
    let first = first
        .expect("no initial value")
        .expect("watch ended")
        .expect("watch error");
    assert_eq!(
        first.revision, revision,
        "first value is not the current revision"
    );

    for score in 1..=5 {
        sent.score = score;
        revision = backend
            .store
            .update(&sent, revision)
            .await
            .expect("update failed");
    }

    // Revisions may be skipped, but they arrive in order and end at the
    // final one.
    let mut seen = vec![first.revision];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while *seen.last().unwrap() < revision {
        let next = tokio::time::timeout_at(deadline, updates.next()).await;
        let next =
            next.unwrap_or_else(|_| panic!("final revision {revision} not seen; saw {seen:?}"));
        let next = next.expect("watch ended").expect("watch error");
        assert!(
            next.revision > *seen.last().unwrap(),
            "revisions out of order: {seen:?} then {}",
            next.revision
        );
        seen.push(next.revision);
        if next.revision == revision {
            assert_eq!(next.value.score, 5, "final value has the wrong score");
        }
    }
}

async fn watch_before_create_waits(backend: Backend) {
    let sent = submission();
    let mut updates = backend.store.watch(&sent.id).await.expect("watch failed");
    let early = tokio::time::timeout(Duration::from_millis(300), updates.next()).await;
    assert!(
        early.is_err(),
        "watch of a missing submission yielded {early:?}"
    );

    let revision = backend.store.create(&sent).await.expect("create failed");
    let created = tokio::time::timeout(PATIENCE, updates.next()).await;
    let created = created
        .expect("no value after create")
        .expect("watch ended")
        .expect("watch error");
    assert_eq!(
        created.revision, revision,
        "watch yielded another revision than create"
    );
}

async fn idempotency_claim_returns_first_id(backend: Backend) {
    let key = format!("client request {}", new_id());
    let (first, second) = (new_id(), new_id());
    let claimed = backend
        .store
        .claim_idempotency_key(&key, &first)
        .await
        .expect("claim failed");
    assert_eq!(claimed, None, "first claim found an earlier binding");

    let claimed = backend
        .store
        .claim_idempotency_key(&key, &second)
        .await
        .expect("claim failed");
    assert_eq!(
        claimed,
        Some(first),
        "second claim did not return the first id"
    );
}

async fn update_submission_retries_conflicts(backend: Backend) {
    let sent = submission();
    backend.store.create(&sent).await.expect("create failed");

    // Two writers add 1 to the score 8 times each, and every lost race
    // retries.
    let writer = || async {
        for _ in 0..8 {
            update_submission(backend.store.as_ref(), &sent.id, |s| {
                s.score += 1;
                true
            })
            .await
            .expect("update_submission failed");
        }
    };
    tokio::join!(writer(), writer());

    let stored = backend
        .store
        .get(&sent.id)
        .await
        .expect("get failed")
        .unwrap();
    assert_eq!(stored.value.score, 16, "concurrent increments were lost");
}

async fn unchanged_update_keeps_revision(backend: Backend) {
    let sent = submission();
    let revision = backend.store.create(&sent).await.expect("create failed");
    let result = update_submission(backend.store.as_ref(), &sent.id, |_| false).await;
    let result = result.expect("update_submission failed");
    assert_eq!(
        result.revision, revision,
        "a change that returned false wrote a revision"
    );
}

fn worker(id: &str) -> WorkerInfo {
    WorkerInfo {
        id: id.to_owned(),
        slots: 2,
        ..Default::default()
    }
}

async fn workers_lists_announcements(backend: Backend) {
    backend
        .store
        .put_worker(&worker("w2"))
        .await
        .expect("put_worker failed");
    backend
        .store
        .put_worker(&worker("w1"))
        .await
        .expect("put_worker failed");
    backend
        .store
        .put_worker(&worker("w1"))
        .await
        .expect("put_worker failed");

    let workers = backend.store.workers().await.expect("workers failed");
    let ids: Vec<&str> = workers.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(ids, ["w1", "w2"], "listed workers");
}

async fn worker_announcement_expires(backend: Backend) {
    backend
        .store
        .put_worker(&worker("w1"))
        .await
        .expect("put_worker failed");
    let listed = backend.store.workers().await.expect("workers failed");
    assert_eq!(listed.len(), 1, "worker not listed right after put_worker");

    // Expiry takes the TTL plus however long the server's expiry sweep
    // needs, so poll until empty with a bound.
    let deadline = tokio::time::Instant::now() + WORKER_TTL + PATIENCE;
    loop {
        let workers = backend.store.workers().await.expect("workers failed");
        if workers.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "worker still listed {PATIENCE:?} after its TTL of {WORKER_TTL:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
