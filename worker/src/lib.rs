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

pub mod checker;
pub mod grade;
pub mod metrics;
pub mod selftest;
pub mod verdict;
mod worker;

pub use worker::{Worker, WorkerConfig, WorkerError, DEFAULT_CGROUP_NAME};
