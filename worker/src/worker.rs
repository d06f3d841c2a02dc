//! The worker loop: pulls a job only while a sandbox slot is free, grades
//! it with the engine in `grade`, stores progress after every step and
//! acknowledges the job once its final state is stored.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, info_span, warn, Instrument};
use verdict_proto::v1::{
    CompileResult, Language, Submission, SubmissionStatus, TestResult, Verdict, WorkerInfo,
};
use verdict_queue::{update_submission, Delivery, JobQueue, StoreError, SubmissionStore};
use verdict_sandbox::{Sandbox, SandboxConfig, SandboxError};

use crate::grade::{self, Compiled, GradeError, LangpackRoots, Slot};
use crate::metrics::{self, FailureReason};
use crate::verdict;

/// Prefix of the cgroup subtree that `Worker::new` gives the sandbox; the
/// rest of the name is derived from the state dir.
pub const DEFAULT_CGROUP_NAME: &str = "verdict";
/// Lock file in the state dir that keeps two workers from sharing it.
const STATE_DIR_LOCK: &str = "worker.lock";

/// Derives the cgroup subtree name from the state dir: the same dir always
/// maps to the same name, different dirs almost surely to different ones.
fn cgroup_name_for(state_dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let path = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    format!("{DEFAULT_CGROUP_NAME}-{:016x}", hasher.finish())
}

/// Creates the state dir and takes an exclusive `flock` on its lock file,
/// because two workers sharing slot directories would unmount each
/// other's work dirs. The kernel drops the lock when the process dies.
fn lock_state_dir(state_dir: &std::path::Path) -> Result<std::fs::File, WorkerError> {
    use std::os::fd::AsRawFd;
    let io_error = |source| WorkerError::StateDir {
        state_dir: state_dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(state_dir).map_err(io_error)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state_dir.join(STATE_DIR_LOCK))
        .map_err(io_error)?;
    // SAFETY: flock on an fd that `file` owns and keeps open.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(WorkerError::StateDirInUse {
                state_dir: state_dir.to_path_buf(),
            });
        }
        return Err(io_error(error));
    }
    Ok(file)
}

/// Time one pull waits for a job, short so that the loop notices a
/// shutdown soon. A pull in progress is never abandoned, because a job it
/// fetched would then wait a whole ack wait before redelivery.
const PULL_WAIT: Duration = Duration::from_secs(1);
/// Pause after a failed pull before the next one.
const PULL_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Delay before a job handed back after an internal error is delivered
/// again, so that a failing worker does not spin on it.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// How often the worker refreshes its announcement in the store.
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(10);
/// How long jobs get to hand themselves back after the drain timeout.
const HAND_BACK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker id in logs, results and the worker announcement.
    pub id: String,
    /// Sandbox slots: jobs graded at once.
    pub slots: u32,
    /// Host directory for the slots' work dirs; created if missing.
    pub state_dir: PathBuf,
    /// Deliveries of one job before it is stored as FAILED.
    pub max_attempts: u32,
    /// Interval between in-progress acks of a job; a third of the queue's
    /// ack wait keeps a slow job from being delivered twice.
    pub ack_interval: Duration,
    /// After shutdown, how long in-flight jobs may run before they are
    /// handed back to the queue.
    pub drain_timeout: Duration,
    /// Languages that run from a root image instead of the host's system
    /// directories; their versions are read in the sandbox.
    pub langpack_roots: LangpackRoots,
}

impl WorkerConfig {
    /// Creates a configuration with one slot per CPU, 3 attempts, an in-progress
    /// ack every 10 s and a 30 s drain timeout.
    pub fn new(id: impl Into<String>, state_dir: impl Into<PathBuf>) -> WorkerConfig {
        let slots = std::thread::available_parallelism()
            .map_or(1, |cpus| u32::try_from(cpus.get()).unwrap_or(u32::MAX));
        WorkerConfig {
            id: id.into(),
            slots,
            state_dir: state_dir.into(),
            max_attempts: 3,
            ack_interval: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(30),
            langpack_roots: LangpackRoots::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid worker configuration: {field} {reason}")]
    InvalidConfig {
        field: &'static str,
        reason: &'static str,
    },
    #[error(
        "cannot set up sandbox slot {slot} in {state_dir}; the worker runs no code without \
         full isolation (run as root on Linux with cgroup memory and pids controllers)"
    )]
    SandboxSetup {
        slot: u32,
        state_dir: PathBuf,
        #[source]
        source: SandboxError,
    },
    #[error(
        "state dir {state_dir} is in use by another worker on this host; give each worker \
         its own --state-dir"
    )]
    StateDirInUse { state_dir: PathBuf },
    #[error("preparing state dir {state_dir} failed")]
    StateDir {
        state_dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("langpack root {root} for language {language:?} is invalid: {reason}")]
    InvalidLangpackRoot {
        language: String,
        root: PathBuf,
        reason: &'static str,
    },
    #[error("finding the installed languages failed")]
    LanguageProbe(#[source] tokio::task::JoinError),
}

pub struct Worker {
    config: WorkerConfig,
    queue: Arc<dyn JobQueue>,
    store: Arc<dyn SubmissionStore>,
    slots: Vec<Slot>,
    /// Held for the worker's lifetime: the exclusive lock on the state dir.
    _state_lock: std::fs::File,
}

impl Worker {
    /// Creates the worker and one sandbox per slot. The cgroup subtree is
    /// named after the state dir (`verdict-<hash>`), so workers with their
    /// own state dirs never share slot cgroups, and a worker that restarts
    /// on a crashed one's state dir cleans up what that one left. Fails
    /// when a sandbox cannot be set up.
    pub fn new(
        config: WorkerConfig,
        queue: Arc<dyn JobQueue>,
        store: Arc<dyn SubmissionStore>,
    ) -> Result<Worker, WorkerError> {
        let cgroup_name = cgroup_name_for(&config.state_dir);
        Worker::with_cgroup_name(config, &cgroup_name, queue, store)
    }

    /// Like [`Worker::new`] with another cgroup subtree name, so that two
    /// workers in one cgroup (tests, or side-by-side processes) do not share
    /// slot cgroups.
    pub fn with_cgroup_name(
        config: WorkerConfig,
        cgroup_name: &str,
        queue: Arc<dyn JobQueue>,
        store: Arc<dyn SubmissionStore>,
    ) -> Result<Worker, WorkerError> {
        if config.slots == 0 {
            return Err(WorkerError::InvalidConfig {
                field: "slots",
                reason: "must be at least 1",
            });
        }
        if config.max_attempts == 0 {
            return Err(WorkerError::InvalidConfig {
                field: "max_attempts",
                reason: "must be at least 1",
            });
        }
        if config.ack_interval.is_zero() {
            return Err(WorkerError::InvalidConfig {
                field: "ack_interval",
                reason: "must be positive",
            });
        }

        validate_langpack_roots(&config.langpack_roots)?;

        let state_lock = lock_state_dir(&config.state_dir)?;
        let mut slots = Vec::with_capacity(config.slots as usize);
        for slot in 0..config.slots {
            let sandbox = Sandbox::new(SandboxConfig {
                state_dir: config.state_dir.clone(),
                slot,
                cgroup_name: cgroup_name.to_string(),
            })
            .map_err(|source| WorkerError::SandboxSetup {
                slot,
                state_dir: config.state_dir.clone(),
                source,
            })?;
            slots.push(Slot::new(slot, sandbox).with_langpack_roots(config.langpack_roots.clone()));
        }
        Ok(Worker {
            config,
            queue,
            store,
            slots,
            _state_lock: state_lock,
        })
    }

    /// Pulls and grades jobs until `shutdown` is cancelled, then finishes
    /// or hands back in-flight jobs. Returns once every job task ended.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError> {
        let roots = self.config.langpack_roots.clone();
        let mut languages = tokio::task::spawn_blocking(move || host_languages(&roots))
            .await
            .map_err(WorkerError::LanguageProbe)?;
        languages.extend(image_languages(&self.slots[0], &self.config.langpack_roots).await);
        languages.sort_by(|a, b| a.id.cmp(&b.id));
        let slot_count = self.slots.len();
        let shared = Arc::new(Shared {
            installed: languages.iter().map(|l| l.id.clone()).collect(),
            config: self.config,
            queue: self.queue,
            store: self.store,
            hand_back: CancellationToken::new(),
            free_slots: Mutex::new(self.slots),
        });
        let worker = shared.config.id.as_str();
        info!(
            worker,
            slots = slot_count,
            languages = shared.installed.join(","),
            "worker started"
        );

        let announcer = tokio::spawn(announce(
            Arc::clone(&shared),
            languages,
            slot_count as u32,
            shutdown.clone(),
        ));
        let mut jobs = JoinSet::new();
        pull_jobs(&shared, slot_count, &mut jobs, &shutdown).await;

        drain(&shared, &mut jobs).await;
        announcer.abort();
        info!(worker, "worker stopped");
        Ok(())
    }
}

/// State the loop and the job tasks share.
struct Shared {
    config: WorkerConfig,
    queue: Arc<dyn JobQueue>,
    store: Arc<dyn SubmissionStore>,
    /// Ids of the langpacks whose tools this host has.
    installed: Vec<String>,
    /// Cancelled when the drain timeout passes: jobs still running hand
    /// themselves back to the queue.
    hand_back: CancellationToken,
    /// Slots not used by a job; the semaphore in `pull_jobs` guarantees one
    /// is here whenever a permit is held.
    free_slots: Mutex<Vec<Slot>>,
}

impl Shared {
    fn take_slot(&self) -> Slot {
        let mut free = self.free_slots.lock().unwrap_or_else(|e| e.into_inner());
        free.pop()
            .expect("a semaphore permit is held, so a slot is free")
    }

    fn return_slot(&self, slot: Slot) {
        let mut free = self.free_slots.lock().unwrap_or_else(|e| e.into_inner());
        free.push(slot);
    }
}

/// Checks that every root names a langpack and is an absolute directory
/// with a `usr` directory, so that a typo fails at start-up and not on
/// the first job.
fn validate_langpack_roots(roots: &LangpackRoots) -> Result<(), WorkerError> {
    for (language, root) in roots {
        let invalid = |reason| WorkerError::InvalidLangpackRoot {
            language: language.clone(),
            root: root.clone(),
            reason,
        };
        if verdict_langpacks::get(language).is_none() {
            return Err(invalid("no langpack has this id"));
        }
        if !root.is_absolute() {
            return Err(invalid("the path must be absolute"));
        }
        if !root.join("usr").is_dir() {
            return Err(invalid("it has no usr directory"));
        }
    }
    Ok(())
}

fn language(pack: &verdict_langpacks::Langpack, version: String) -> Language {
    Language {
        id: pack.id.clone(),
        name: pack.name.clone(),
        version,
        compiled: pack.compile.is_some() && !pack.compile_checks_syntax_only,
        source_file: pack.source_file.clone(),
    }
}

/// Lists the languages without a root image whose tools this host has,
/// with their versions. Runs each langpack's version command, so call it
/// on a blocking thread.
fn host_languages(roots: &LangpackRoots) -> Vec<Language> {
    verdict_langpacks::all()
        .into_iter()
        .filter(|pack| !roots.contains_key(&pack.id))
        .filter_map(|pack| {
            let version = pack.host_version()?;
            Some(language(&pack, version))
        })
        .collect()
}

/// Lists the languages with a root image whose version command works in
/// the sandbox from that image.
async fn image_languages(slot: &Slot, roots: &LangpackRoots) -> Vec<Language> {
    let mut languages = Vec::new();
    for (id, root) in roots {
        let Some(pack) = verdict_langpacks::get(id) else {
            continue;
        };
        match crate::selftest::sandbox_version(slot, &pack).await {
            Ok(Some(version)) => languages.push(language(&pack, version)),
            Ok(None) => {
                warn!(language = %id, root = %root.display(),
                    "version command failed in the langpack root; language not offered");
            }
            Err(error) => {
                warn!(language = %id, root = %root.display(), %error,
                    "running the version command in the langpack root failed; language not offered");
            }
        }
    }
    languages
}

/// Stores the worker's announcement now and every [`ANNOUNCE_INTERVAL`]
/// until shutdown.
async fn announce(
    shared: Arc<Shared>,
    languages: Vec<Language>,
    slots: u32,
    shutdown: CancellationToken,
) {
    let worker = shared.config.id.as_str();
    loop {
        let info = WorkerInfo {
            id: shared.config.id.clone(),
            languages: languages.clone(),
            slots,
            heartbeat_at: Some(SystemTime::now().into()),
        };
        if let Err(error) = shared.store.put_worker(&info).await {
            warn!(worker, %error, "announcing the worker failed; retrying later");
        }
        tokio::select! {
            () = tokio::time::sleep(ANNOUNCE_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Pulls jobs while a slot is free and starts a task for each, until
/// `shutdown` is cancelled.
async fn pull_jobs(
    shared: &Arc<Shared>,
    slot_count: usize,
    jobs: &mut JoinSet<()>,
    shutdown: &CancellationToken,
) {
    let worker = shared.config.id.as_str();
    let semaphore = Arc::new(Semaphore::new(slot_count));
    loop {
        reap_finished(jobs);
        let permit = tokio::select! {
            permit = Arc::clone(&semaphore).acquire_owned() => {
                permit.expect("the semaphore is never closed")
            }
            () = shutdown.cancelled() => return,
        };
        if shutdown.is_cancelled() {
            return;
        }

        let delivery = match shared.queue.pull(PULL_WAIT).await {
            Ok(Some(delivery)) => delivery,
            Ok(None) => continue,
            Err(error) => {
                warn!(worker, %error, "pulling a job failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(PULL_RETRY_DELAY) => {}
                    () = shutdown.cancelled() => return,
                }
                continue;
            }
        };
        if shutdown.is_cancelled() {
            // Fetched while shutting down: give it straight back.
            hand_back(&*delivery, worker).await;
            return;
        }

        let slot = shared.take_slot();
        let shared = Arc::clone(shared);
        jobs.spawn(async move {
            let slot = handle_delivery(&shared, slot, delivery).await;
            shared.return_slot(slot);
            drop(permit);
        });
    }
}

fn reap_finished(jobs: &mut JoinSet<()>) {
    while let Some(finished) = jobs.try_join_next() {
        if let Err(error) = finished {
            error!(%error, "a job task panicked; its job will be delivered again");
        }
    }
}

/// Waits up to the drain timeout for in-flight jobs, then makes the rest
/// hand their jobs back.
async fn drain(shared: &Shared, jobs: &mut JoinSet<()>) {
    let worker = shared.config.id.as_str();
    info!(
        worker,
        in_flight = jobs.len(),
        timeout_s = shared.config.drain_timeout.as_secs_f64(),
        "draining"
    );
    let finished = tokio::time::timeout(shared.config.drain_timeout, join_all(jobs)).await;
    if finished.is_ok() {
        return;
    }

    warn!(
        worker,
        in_flight = jobs.len(),
        "drain timeout passed; handing in-flight jobs back to the queue"
    );
    shared.hand_back.cancel();
    if tokio::time::timeout(HAND_BACK_TIMEOUT, join_all(jobs))
        .await
        .is_err()
    {
        error!(
            worker,
            in_flight = jobs.len(),
            "jobs did not hand themselves back in time; the queue redelivers them after its ack wait"
        );
        jobs.abort_all();
    }
}

async fn join_all(jobs: &mut JoinSet<()>) {
    while let Some(finished) = jobs.join_next().await {
        if let Err(error) = finished {
            error!(%error, "a job task panicked; its job will be delivered again");
        }
    }
}

async fn hand_back(delivery: &dyn Delivery, worker: &str) {
    let submission = delivery.job().submission_id.as_str();
    metrics::job_failed(FailureReason::Shutdown);
    match delivery.nak(None).await {
        Ok(()) => info!(worker, submission, "handed the job back to the queue"),
        Err(error) => warn!(
            worker,
            submission,
            %error,
            "handing the job back failed; the queue redelivers it after its ack wait"
        ),
    }
}

/// Outcome of grading a delivery that ended without an error.
enum JobEnd {
    /// The final state is stored (or there is nothing to grade): ack.
    Done,
    /// Another delivery of the same job has taken the submission over; it
    /// will ack, so this one sends nothing.
    Superseded,
}

/// Error that stopped the grading of a delivery.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Grade(#[from] GradeError),
    #[error("storing the submission failed")]
    Store(#[from] StoreError),
}

impl JobError {
    fn reason(&self) -> FailureReason {
        match self {
            JobError::Grade(error) => error.failure_reason(),
            JobError::Store(_) => FailureReason::Store,
        }
    }

    fn is_permanent(&self) -> bool {
        matches!(self, JobError::Grade(error) if error.is_permanent())
    }
}

/// Grades one delivery while sending in-progress acks, then acks, naks or
/// hands it back. Returns the slot for the next job.
async fn handle_delivery(shared: &Shared, slot: Slot, delivery: Box<dyn Delivery>) -> Slot {
    let _in_flight = metrics::InFlight::start();
    let job = delivery.job();
    let span = info_span!(
        "job",
        submission = %job.submission_id,
        worker = %shared.config.id,
        slot = slot.id(),
        language = job.request.as_ref().map_or("", |r| r.language.as_str()),
        attempt = delivery.attempt(),
    );
    async {
        if let Some(wait) = job.enqueued_at.and_then(|at| {
            let at = SystemTime::try_from(at).ok()?;
            SystemTime::now().duration_since(at).ok()
        }) {
            metrics::queue_wait(wait);
        }
        debug!("job received");

        let grading = grade_delivery(shared, &slot, &*delivery);
        let ended = with_heartbeats(shared, &*delivery, grading).await;
        finish_delivery(shared, &*delivery, ended).await;
    }
    .instrument(span)
    .await;
    slot
}

/// Runs `grading` while sending an in-progress ack every `ack_interval`.
/// Returns `None` when the drain timeout cut it short.
async fn with_heartbeats(
    shared: &Shared,
    delivery: &dyn Delivery,
    grading: impl std::future::Future<Output = Result<JobEnd, JobError>>,
) -> Option<Result<JobEnd, JobError>> {
    tokio::pin!(grading);
    let mut heartbeat = tokio::time::interval(shared.config.ack_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once; the job was just delivered.
    heartbeat.tick().await;
    loop {
        tokio::select! {
            ended = &mut grading => return Some(ended),
            _ = heartbeat.tick() => {
                if let Err(error) = delivery.in_progress().await {
                    warn!(%error, "sending an in-progress ack failed");
                }
            }
            () = shared.hand_back.cancelled() => return None,
        }
    }
}

/// Acks, naks or hands back the delivery according to how grading ended.
async fn finish_delivery(
    shared: &Shared,
    delivery: &dyn Delivery,
    ended: Option<Result<JobEnd, JobError>>,
) {
    let worker = shared.config.id.as_str();
    match ended {
        None => hand_back(delivery, worker).await,
        Some(Ok(JobEnd::Done)) => ack(delivery).await,
        Some(Ok(JobEnd::Superseded)) => {
            warn!("a later delivery of this job took the submission over; dropping this one");
        }
        Some(Err(error)) => retry_or_fail(shared, delivery, error).await,
    }
}

async fn ack(delivery: &dyn Delivery) {
    match delivery.ack().await {
        Ok(()) => debug!("job acknowledged"),
        // The final state is stored, so a redelivery finds it and acks.
        Err(error) => warn!(%error, "acknowledging the job failed; it may be delivered again"),
    }
}

/// Handles an internal error: hands the job back for another attempt, or
/// stores FAILED when this was the last allowed attempt or no attempt can
/// succeed.
async fn retry_or_fail(shared: &Shared, delivery: &dyn Delivery, error: JobError) {
    let attempt = delivery.attempt();
    let max_attempts = shared.config.max_attempts;
    metrics::job_failed(error.reason());
    let error_chain = error_chain(&error);

    if !error.is_permanent() && attempt < max_attempts {
        error!(error = %error_chain, "grading failed; handing the job back for another attempt");
        if let Err(nak_error) = delivery.nak(Some(RETRY_DELAY)).await {
            warn!(error = %nak_error, "handing the job back failed; the queue redelivers it after its ack wait");
        }
        return;
    }

    error!(error = %error_chain, "grading failed; storing the submission as FAILED");
    let reason = if error.is_permanent() {
        error_chain
    } else {
        format!("grading failed on attempt {attempt} of {max_attempts}: {error_chain}")
    };
    let submission_id = &delivery.job().submission_id;
    match store_failed(shared, submission_id, &reason, attempt).await {
        Ok(()) => ack(delivery).await,
        Err(store_error) => {
            error!(error = %store_error, "storing FAILED failed; handing the job back");
            if let Err(nak_error) = delivery.nak(Some(RETRY_DELAY)).await {
                warn!(error = %nak_error, "handing the job back failed");
            }
        }
    }
}

/// Formats the error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn is_final(status: SubmissionStatus) -> bool {
    matches!(
        status,
        SubmissionStatus::Finished | SubmissionStatus::Failed | SubmissionStatus::Cancelled
    )
}

/// Stores the submission as FAILED with an internal error, unless it is
/// already in a final state.
async fn store_failed(
    shared: &Shared,
    submission_id: &str,
    reason: &str,
    attempt: u32,
) -> Result<(), StoreError> {
    let now = SystemTime::now();
    update(shared.store.as_ref(), submission_id, |submission| {
        if is_final(submission.status()) {
            return false;
        }
        submission.set_status(SubmissionStatus::Failed);
        submission.set_verdict(Verdict::InternalError);
        submission.error = reason.to_string();
        submission.finished_at = Some(now.into());
        submission.worker = shared.config.id.clone();
        submission.attempt = attempt;
        true
    })
    .await?;
    Ok(())
}

/// Grades the job of one delivery and stores every step.
async fn grade_delivery(
    shared: &Shared,
    slot: &Slot,
    delivery: &dyn Delivery,
) -> Result<JobEnd, JobError> {
    let job = delivery.job();
    let id = job.submission_id.as_str();
    let attempt = delivery.attempt();
    let max_attempts = shared.config.max_attempts;

    if attempt > max_attempts {
        // Earlier deliveries neither acked nor stored FAILED, so each of
        // their workers died or went silent past the ack wait.
        let reason = format!(
            "grading failed on {} deliveries; last worker did not report (crashed or timed out)",
            attempt - 1
        );
        error!(max_attempts, "job delivered too often; storing FAILED");
        metrics::job_failed(FailureReason::MaxAttempts);
        store_failed(shared, id, &reason, attempt).await?;
        return Ok(JobEnd::Done);
    }

    let Some(stored) = shared.store.get(id).await? else {
        error!("submission not found in the store; nothing to grade");
        return Ok(JobEnd::Done);
    };
    if is_final(stored.value.status()) {
        info!(status = ?stored.value.status(), "submission already final; acknowledging");
        return Ok(JobEnd::Done);
    }
    let Some(request) = job.request.as_ref() else {
        store_failed(shared, id, "job has no request", attempt).await?;
        return Ok(JobEnd::Done);
    };
    let pack = grade::resolve_langpack(&request.language, &shared.installed)?;

    let mut progress = Progress {
        shared,
        id,
        attempt,
        superseded: false,
    };
    if progress.start(request).await? == Step::Stop {
        return Ok(progress.stopped());
    }

    let program = match grade::compile(slot, &pack, request).await? {
        Compiled::Ready { program, compile } => {
            if progress.compiled(compile).await? == Step::Stop {
                return Ok(progress.stopped());
            }
            program
        }
        Compiled::Failed(result) => {
            progress.compile_failed(result, &pack.id).await?;
            return Ok(JobEnd::Done);
        }
    };

    let mut tests = Vec::with_capacity(request.tests.len());
    for index in 0..request.tests.len() {
        if grade::stop_before(request, &tests) {
            // Skipped tests are stored with the final state in one update.
            let skipped = grade::skipped_test(request, index);
            metrics::test_graded(&pack.id, skipped.verdict());
            tests.push(skipped);
            continue;
        }
        let result = grade::run_test(slot, &pack, request, &program, index).await?;
        debug!(test = index, verdict = ?result.verdict(), "test finished");
        if progress.test_finished(&result).await? == Step::Stop {
            return Ok(progress.stopped());
        }
        tests.push(result);
    }

    progress.finish(tests, &pack.id).await?;
    Ok(JobEnd::Done)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Continue,
    /// The submission was cancelled, finished elsewhere or taken over by a
    /// later delivery.
    Stop,
}

/// Stores each grading step of one delivery. Every update first checks that
/// the submission is still this delivery's to grade: not final (such as
/// CANCELLED by a client) and not taken over by a later delivery.
struct Progress<'a> {
    shared: &'a Shared,
    id: &'a str,
    attempt: u32,
    superseded: bool,
}

impl Progress<'_> {
    fn owns(&mut self, submission: &Submission) -> bool {
        if is_final(submission.status()) {
            info!(status = ?submission.status(), "submission reached a final state elsewhere; stopping");
            return false;
        }
        if submission.attempt > self.attempt {
            self.superseded = true;
            return false;
        }
        true
    }

    fn stopped(&self) -> JobEnd {
        if self.superseded {
            JobEnd::Superseded
        } else {
            JobEnd::Done
        }
    }

    async fn apply(&mut self, mut change: impl FnMut(&mut Submission)) -> Result<Step, StoreError> {
        let store = Arc::clone(&self.shared.store);
        let id = self.id;
        let mut owned = true;
        let updated = update(store.as_ref(), id, |submission| {
            owned = self.owns(submission);
            if owned {
                change(submission);
            }
            owned
        })
        .await?;
        if updated.is_none() {
            error!("submission disappeared from the store while grading; stopping");
            return Ok(Step::Stop);
        }
        Ok(if owned { Step::Continue } else { Step::Stop })
    }

    /// Marks the submission COMPILING by this worker and clears anything an
    /// earlier delivery stored.
    async fn start(
        &mut self,
        request: &verdict_proto::v1::SubmitRequest,
    ) -> Result<Step, StoreError> {
        let worker = self.shared.config.id.clone();
        let attempt = self.attempt;
        let now = SystemTime::now();
        let step = self
            .apply(|submission| {
                submission.set_status(SubmissionStatus::Compiling);
                submission.set_verdict(Verdict::Unspecified);
                submission.started_at = Some(now.into());
                submission.finished_at = None;
                submission.worker = worker.clone();
                submission.attempt = attempt;
                submission.compile = None;
                submission.tests.clear();
                submission.test_count = request.tests.len() as u32;
                submission.score = 0;
                submission.max_score = grade::max_score(request);
                submission.error.clear();
            })
            .await?;
        if step == Step::Continue {
            info!(tests = request.tests.len(), "grading started");
        }
        Ok(step)
    }

    async fn compiled(&mut self, compile: Option<CompileResult>) -> Result<Step, StoreError> {
        self.apply(|submission| {
            submission.compile = compile.clone();
            submission.set_status(SubmissionStatus::Running);
        })
        .await
    }

    async fn compile_failed(
        &mut self,
        result: CompileResult,
        language: &str,
    ) -> Result<Step, StoreError> {
        let now = SystemTime::now();
        let step = self
            .apply(|submission| {
                submission.compile = Some(result.clone());
                submission.set_status(SubmissionStatus::Finished);
                submission.set_verdict(Verdict::CompilationError);
                submission.score = 0;
                submission.finished_at = Some(now.into());
            })
            .await?;
        if step == Step::Continue {
            metrics::submission_graded(language, Verdict::CompilationError);
            info!(verdict = ?Verdict::CompilationError, "grading finished");
        }
        Ok(step)
    }

    async fn test_finished(&mut self, result: &TestResult) -> Result<Step, StoreError> {
        self.apply(|submission| {
            // A retried update must not append twice.
            submission.tests.truncate(result.index as usize);
            submission.tests.push(result.clone());
        })
        .await
    }

    async fn finish(&mut self, tests: Vec<TestResult>, language: &str) -> Result<Step, StoreError> {
        let verdict = verdict::overall_verdict(&tests);
        let score = verdict::score(&tests);
        let now = SystemTime::now();
        let step = self
            .apply(|submission| {
                submission.tests = tests.clone();
                submission.set_status(SubmissionStatus::Finished);
                submission.set_verdict(verdict);
                submission.score = score;
                submission.finished_at = Some(now.into());
            })
            .await?;
        if step == Step::Continue {
            metrics::submission_graded(language, verdict);
            info!(verdict = ?verdict, score, "grading finished");
        }
        Ok(step)
    }
}

/// Applies `change` to submission `id` with the queue crate's
/// compare-and-set helper; `change` returns false to store nothing. Returns
/// the submission as stored after the call, or `None` when it does not
/// exist.
async fn update(
    store: &dyn SubmissionStore,
    id: &str,
    change: impl FnMut(&mut Submission) -> bool,
) -> Result<Option<Submission>, StoreError> {
    match update_submission(store, id, change).await {
        Ok(stored) => Ok(Some(stored.value)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}
