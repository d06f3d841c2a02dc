//! A worker with the real sandbox and the embedded queue and store, for
//! the integration tests. The sandbox needs root; without it each test
//! prints why and returns early.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use verdict_proto::v1::{
    Job, Limits, SourceFile, Submission, SubmissionStatus, SubmitRequest, TestCase,
};
use verdict_queue::embedded::{embedded, EmbeddedConfig};
use verdict_queue::{JobQueue, SubmissionStore};
use verdict_worker::{Worker, WorkerConfig, WorkerError};

/// Maximum time a test waits for one submission to reach a final state.
pub const GRADING_TIMEOUT: Duration = Duration::from_secs(90);

/// True when the sandbox can run here; prints why not otherwise.
pub fn sandbox_available() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: the sandbox needs root");
    }
    root
}

pub struct Harness {
    /// Name of this harness's cgroup subtree, unique in the process.
    cgroup_name: String,
    pub queue: Arc<dyn JobQueue>,
    pub store: Arc<dyn SubmissionStore>,
    pub shutdown: CancellationToken,
    pub task: Option<JoinHandle<Result<(), WorkerError>>>,
    _state_dir: tempfile::TempDir,
    next_id: AtomicU32,
}

/// Builds a worker configuration for tests: one slot, short intervals.
pub fn config(state_dir: &Path) -> WorkerConfig {
    WorkerConfig {
        slots: 1,
        ack_interval: Duration::from_secs(2),
        drain_timeout: Duration::from_secs(30),
        ..WorkerConfig::new("test-worker", state_dir)
    }
}

impl Harness {
    /// Backends and a state dir, with no worker running yet.
    pub fn new() -> Harness {
        let (queue, store) = embedded(EmbeddedConfig {
            ack_wait: Duration::from_secs(10),
        });
        let cgroup_name = format!(
            "verdict-worker-test-{}-{}",
            std::process::id(),
            HARNESS_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Harness {
            cgroup_name,
            queue,
            store,
            shutdown: CancellationToken::new(),
            task: None,
            _state_dir: tempfile::tempdir().expect("creating a temporary state dir"),
            next_id: AtomicU32::new(1),
        }
    }

    pub fn state_dir(&self) -> &Path {
        self._state_dir.path()
    }

    /// Starts a worker with `change` applied to the test configuration.
    pub fn start(&mut self, change: impl FnOnce(&mut WorkerConfig)) {
        let mut config = config(self.state_dir());
        change(&mut config);
        // A cgroup name per process and harness, so that tests running at
        // the same time never share slot cgroups.
        let worker = Worker::with_cgroup_name(
            config,
            &self.cgroup_name,
            Arc::clone(&self.queue),
            Arc::clone(&self.store),
        )
        .expect("setting up the worker's sandbox");
        self.task = Some(tokio::spawn(worker.run(self.shutdown.clone())));
    }

    /// Stores a submission with status `status` and queues its job.
    pub async fn submit_with_status(
        &self,
        request: SubmitRequest,
        status: SubmissionStatus,
    ) -> String {
        let id = format!("sub-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let submission = Submission {
            id: id.clone(),
            language: request.language.clone(),
            status: status.into(),
            test_count: request.tests.len() as u32,
            created_at: Some(SystemTime::now().into()),
            ..Submission::default()
        };
        self.store
            .create(&submission)
            .await
            .expect("storing the submission");
        let job = Job {
            submission_id: id.clone(),
            request: Some(request),
            enqueued_at: Some(SystemTime::now().into()),
        };
        self.queue.publish(&job).await.expect("queueing the job");
        id
    }

    pub async fn submit(&self, request: SubmitRequest) -> String {
        self.submit_with_status(request, SubmissionStatus::Queued)
            .await
    }

    /// Polls the store until submission `id` is final.
    pub async fn wait_final(&self, id: &str) -> Submission {
        let deadline = Instant::now() + GRADING_TIMEOUT;
        loop {
            let stored = self
                .store
                .get(id)
                .await
                .expect("reading the submission")
                .expect("the submission exists");
            let status = stored.value.status();
            if matches!(
                status,
                SubmissionStatus::Finished | SubmissionStatus::Failed | SubmissionStatus::Cancelled
            ) {
                return stored.value;
            }
            assert!(
                Instant::now() < deadline,
                "submission {id} still {status:?} after {GRADING_TIMEOUT:?}: {:?}",
                stored.value
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the store until submission `id` has status `status`.
    pub async fn wait_status(&self, id: &str, status: SubmissionStatus) {
        let deadline = Instant::now() + GRADING_TIMEOUT;
        loop {
            let stored = self.store.get(id).await.expect("reading the submission");
            let current = stored.as_ref().map(|s| s.value.status());
            if current == Some(status) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "submission {id} is {current:?}, expected {status:?} within {GRADING_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls the queue until no job is waiting or in progress.
    pub async fn wait_queue_empty(&self) {
        let deadline = Instant::now() + GRADING_TIMEOUT;
        loop {
            let depth = self.queue.depth().await.expect("reading the queue depth");
            if depth == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "queue still holds {depth} jobs after {GRADING_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Cancels the worker and waits for `run` to return.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let result = task.await.expect("the worker task panicked");
            assert!(result.is_ok(), "worker run returned {result:?}");
        }
    }
}

impl Drop for Harness {
    /// Removes the harness's cgroup subtree directories, which the sandbox
    /// leaves behind once its slot cgroups are gone. A slot whose run
    /// outlived the worker (after a drain timeout) removes its own cgroup
    /// when that run ends, so this waits up to 15 s for that first.
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let dirs = cgroup_dirs(&self.cgroup_name);
            let busy = dirs.iter().any(|dir| has_subdirectory(dir));
            if !busy || Instant::now() >= deadline {
                for dir in dirs {
                    // Fails on a cgroup still in use, which then stays.
                    let _ = std::fs::remove_dir(dir);
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Directories named `name` below each cgroup controller mount, searched to
/// a depth of 4 (this process's own cgroup may be nested).
fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for controller in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten() {
        let Ok(controller) = controller else { continue };
        find_dirs(&controller.path(), name, 4, &mut found);
    }
    found
}

fn find_dirs(dir: &Path, name: &str, depth: u32, found: &mut Vec<PathBuf>) {
    let candidate = dir.join(name);
    if candidate.is_dir() {
        found.push(candidate);
        return;
    }
    if depth == 0 {
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_dirs(&entry.path(), name, depth - 1, found);
        }
    }
}

fn has_subdirectory(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
}

static HARNESS_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Returns the langpack id for a source file extension, such as `c` or `py`.
pub fn language(extension: &str) -> String {
    verdict_langpacks::for_extension(extension)
        .unwrap_or_else(|| panic!("no langpack for .{extension} files"))
        .id
}

/// A request with the langpack's default main file holding `source`, and
/// tests `1 2 -> 3` and `10 20 -> 30`.
pub fn sum_request(extension: &str, source: &str) -> SubmitRequest {
    let pack = verdict_langpacks::for_extension(extension)
        .unwrap_or_else(|| panic!("no langpack for .{extension} files"));
    SubmitRequest {
        language: pack.id.clone(),
        sources: vec![SourceFile {
            name: pack.source_file.clone(),
            content: source.as_bytes().to_vec(),
        }],
        tests: vec![
            TestCase {
                name: "small".to_string(),
                input: b"1 2\n".to_vec(),
                expected_output: b"3\n".to_vec(),
                points: 0,
            },
            TestCase {
                name: String::new(),
                input: b"10 20\n".to_vec(),
                expected_output: b"30\n".to_vec(),
                points: 2,
            },
        ],
        limits: Some(Limits {
            cpu_time_ms: 1000,
            wall_time_ms: 3000,
            memory_bytes: 128 << 20,
            max_processes: 4,
            output_bytes: 1 << 20,
        }),
        ..SubmitRequest::default()
    }
}

pub const C_SUM: &str = "#include <stdio.h>\n\
int main(void) { long a, b; if (scanf(\"%ld %ld\", &a, &b) != 2) return 1; \
printf(\"%ld\\n\", a + b); return 0; }\n";

pub const PYTHON_SUM: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
