//! The Verdict worker: pulls grading jobs when a sandbox slot is free,
//! compiles the program once, runs every test in a fresh sandbox, checks
//! the output and stores progress and the final result.
//!
//! Layout:
//! - `worker`: the pull loop, per-job tasks, in-progress acks, retries,
//!   cancellation and graceful drain (re-exported at the crate root);
//! - `grade`: the engine that drives the sandbox for one submission;
//! - `checker`: the built-in output checkers;
//! - `verdict`: how a run's outcome becomes a verdict, and the overall
//!   verdict and score;
//! - `metrics`: every metric the worker records.
//!
//! The worker never turns its own failure into a candidate's verdict: a
//! sandbox or store error hands the job back to the queue, and after the
//! last allowed attempt the submission ends FAILED with INTERNAL_ERROR.
//!
//! Linux only, through the sandbox.

// CONTRACT (the CLI is written against these items):
//
// pub struct WorkerConfig { pub id: String, pub slots: u32, pub state_dir: PathBuf,
//                           pub max_attempts: u32, .. } + Default-ish constructor
// pub struct Worker { .. }
// impl Worker {
//     pub fn new(config: WorkerConfig, queue: Arc<dyn JobQueue>,
//                store: Arc<dyn SubmissionStore>) -> Result<Worker, WorkerError>;
//     /// Pulls and grades jobs until `shutdown` is cancelled, then finishes
//     /// or hands back in-flight jobs.
//     pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError>;
// }
// pub mod checker { pub fn check(checker: &Checker, expected: &[u8], actual: &[u8]) -> Outcome }
// pub mod metrics { pub fn describe(); }

pub mod checker;
pub mod grade;
pub mod metrics;
pub mod selftest;
pub mod verdict;
mod worker;

pub use worker::{Worker, WorkerConfig, WorkerError, DEFAULT_CGROUP_NAME};
