//! The Verdict worker: pulls grading jobs when a sandbox slot is free,
//! compiles the program once, runs every test in a fresh sandbox, checks
//! the output and stores progress and the final result.

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
