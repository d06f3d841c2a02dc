//! The grading engine: compiles a submission once in a sandbox slot, runs
//! each test in a fresh sandbox run and turns the outcomes into results.
//!
//! It stores nothing and talks to no queue; the worker loop calls these
//! steps and records progress between them. A failure of the sandbox is
//! the service's fault and comes back as a `GradeError`, never as a
//! verdict against the candidate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use verdict_langpacks::Langpack;
use verdict_proto::v1::{
    test_result::Termination, Checker, CompileResult, SubmitRequest, TestResult, Verdict,
};
use verdict_sandbox::{
    Bind, ExitStatus, FileContent, InputFile, LimitKind, Limits, RunOutcome, RunSpec, Sandbox,
    SandboxError, Stdin,
};

use crate::{checker, metrics, verdict};

/// Bytes of compiler stdout plus stderr kept in `CompileResult::output`.
pub const COMPILE_OUTPUT_MAX_BYTES: usize = 64 * 1024;
/// Bytes of the program's stdout and of its stderr kept in a test result.
pub const EXCERPT_MAX_BYTES: usize = 1024;
/// Size of the writable work dir and of `/tmp` in each test run.
pub const RUN_DISK_BYTES: u64 = 64 * 1024 * 1024;

/// The compiler may print more than we keep, so that a long list of
/// warnings does not end a successful compile on the output limit. Applies
/// to stdout and stderr each.
const COMPILE_STREAM_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Largest file and total work dir size of the compile step; artifacts
/// such as statically linked binaries must fit.
const COMPILE_DISK_BYTES: u64 = 256 * 1024 * 1024;
/// Upper bound on the artifacts kept from a compile step, in bytes.
const ARTIFACTS_MAX_BYTES: u64 = 128 * 1024 * 1024;

/// Limits used where a request leaves a field at zero ("service default").
// TODO: these are the worker's own defaults; if the scheduler starts to
// fill in defaults before queueing, take them from there so both agree.
pub mod defaults {
    use std::time::Duration;

    pub const CPU_TIME: Duration = Duration::from_secs(2);
    /// Used when the wall time is zero: twice the CPU time plus this, so
    /// that a program waiting on I/O is not cut short by start-up costs.
    pub const WALL_TIME_MARGIN: Duration = Duration::from_secs(1);
    pub const MEMORY_BYTES: u64 = 256 * 1024 * 1024;
    /// Enough for runtimes that start a few helper threads (OpenBLAS,
    /// glibc's timer thread); languages that need more set
    /// `min_processes` in their langpack.
    pub const MAX_PROCESSES: u32 = 8;
    pub const OUTPUT_BYTES: u64 = 16 * 1024 * 1024;
}

#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    #[error("no langpack defines language {language:?}")]
    UnknownLanguage { language: String },
    #[error("language {language:?} is not installed on this worker")]
    LanguageUnavailable { language: String },
    #[error("request has no source files")]
    NoSources,
    #[error("sandbox slot {slot} failed during {phase}")]
    Sandbox {
        slot: u32,
        phase: String,
        #[source]
        source: SandboxError,
    },
    #[error("sandbox slot {slot} is unusable after a panic during an earlier run")]
    SlotPoisoned { slot: u32 },
    #[error("sandbox task of slot {slot} panicked during {phase}")]
    SandboxPanicked { slot: u32, phase: String },
}

impl GradeError {
    /// True when another delivery cannot succeed either, so the job should
    /// be stored as FAILED at once instead of being retried.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            GradeError::UnknownLanguage { .. } | GradeError::NoSources
        )
    }

    pub(crate) fn failure_reason(&self) -> metrics::FailureReason {
        match self {
            GradeError::UnknownLanguage { .. } | GradeError::NoSources => {
                metrics::FailureReason::UnknownLanguage
            }
            GradeError::LanguageUnavailable { .. } => metrics::FailureReason::LanguageUnavailable,
            GradeError::Sandbox { .. }
            | GradeError::SlotPoisoned { .. }
            | GradeError::SandboxPanicked { .. } => metrics::FailureReason::Sandbox,
        }
    }
}

/// Langpack id to the host directory of its root image (built by
/// `verdict langpacks build`). A language missing from the map runs on the
/// host's system directories.
pub type LangpackRoots = BTreeMap<String, PathBuf>;

/// One sandbox slot. The sandbox runs one command at a time, on a blocking
/// thread so that the async runtime keeps serving other jobs.
pub struct Slot {
    id: u32,
    sandbox: Arc<Mutex<Sandbox>>,
    langpack_roots: Arc<LangpackRoots>,
}

impl Slot {
    /// Creates a slot that runs every language on the host's system
    /// directories.
    pub fn new(id: u32, sandbox: Sandbox) -> Slot {
        Slot {
            id,
            sandbox: Arc::new(Mutex::new(sandbox)),
            langpack_roots: Arc::default(),
        }
    }

    /// Runs the languages in `roots` from their root images.
    pub fn with_langpack_roots(mut self, roots: LangpackRoots) -> Slot {
        self.langpack_roots = Arc::new(roots);
        self
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    /// Returns the root image of `language`, or `None` for the host's.
    pub fn langpack_root(&self, language: &str) -> Option<&Path> {
        self.langpack_roots.get(language).map(PathBuf::as_path)
    }

    /// Runs `spec` to completion on a blocking thread. `phase` names the
    /// step in errors, such as `compile` or `test 3`.
    pub async fn run(&self, spec: RunSpec, phase: &str) -> Result<RunOutcome, GradeError> {
        let slot = self.id;
        let sandbox = Arc::clone(&self.sandbox);
        let task = tokio::task::spawn_blocking(move || {
            // A panic inside `Sandbox::run` may have left the slot's mounts
            // or cgroup half set up, so a poisoned slot is not reused.
            let mut sandbox = sandbox
                .lock()
                .map_err(|_| GradeError::SlotPoisoned { slot })?;
            sandbox.run(&spec).map_err(|source| GradeError::Sandbox {
                slot,
                phase: String::new(),
                source,
            })
        });

        match task.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(GradeError::Sandbox { source, .. })) => Err(GradeError::Sandbox {
                slot,
                phase: phase.to_string(),
                source,
            }),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(GradeError::SandboxPanicked {
                slot,
                phase: phase.to_string(),
            }),
        }
    }
}

/// Looks up the langpack of `language`. A langpack that exists but whose
/// tools are missing here is `LanguageUnavailable`, which another worker
/// may have.
pub fn resolve_langpack(language: &str, installed: &[String]) -> Result<Langpack, GradeError> {
    let pack = verdict_langpacks::get(language).ok_or_else(|| GradeError::UnknownLanguage {
        language: language.to_string(),
    })?;
    if !installed.contains(&pack.id) {
        return Err(GradeError::LanguageUnavailable {
            language: language.to_string(),
        });
    }
    Ok(pack)
}

/// Files placed in the work dir of every test run: the compile step's
/// artifacts, or the sources for languages without one.
#[derive(Debug, Clone)]
pub struct Program {
    files: Vec<InputFile>,
}

/// Result of the compile step.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// Ready to run. `compile` is `None` for languages without a compile
    /// step.
    Ready {
        program: Program,
        compile: Option<CompileResult>,
    },
    /// Compilation failed; the submission's verdict is COMPILATION_ERROR.
    Failed(CompileResult),
}

fn source_names(request: &SubmitRequest) -> Vec<String> {
    request.sources.iter().map(|s| s.name.clone()).collect()
}

fn source_files(request: &SubmitRequest) -> Vec<InputFile> {
    request
        .sources
        .iter()
        .map(|source| InputFile {
            path: source.name.clone(),
            content: FileContent::Bytes(source.content.clone()),
            executable: false,
        })
        .collect()
}

/// Builds the langpack's extra binds, taken from its root image when it
/// has one.
pub(crate) fn binds(pack: &Langpack, root: Option<&Path>) -> Vec<Bind> {
    pack.binds
        .iter()
        .map(|path| Bind {
            host: match root {
                Some(root) => root.join(path.trim_start_matches('/')),
                None => PathBuf::from(path),
            },
            inside: PathBuf::from(path),
        })
        .collect()
}

/// Compiles the request's sources with the langpack's compile step, or
/// prepares the sources as they are when the language has none.
pub async fn compile(
    slot: &Slot,
    pack: &Langpack,
    request: &SubmitRequest,
) -> Result<Compiled, GradeError> {
    if request.sources.is_empty() {
        return Err(GradeError::NoSources);
    }
    let Some(argv) = pack.compile_argv(&source_names(request)) else {
        let program = Program {
            files: source_files(request),
        };
        return Ok(Compiled::Ready {
            program,
            compile: None,
        });
    };

    let limits = &pack.compile_limits;
    let root = slot.langpack_root(&pack.id);
    let spec = RunSpec {
        argv,
        env: pack.env.clone(),
        files: source_files(request),
        stdin: Stdin::Null,
        limits: Limits {
            cpu_time: limits.cpu_time,
            wall_time: limits.wall_time,
            memory_bytes: limits.memory_bytes,
            max_processes: limits.max_processes,
            stdout_bytes: COMPILE_STREAM_MAX_BYTES,
            stderr_bytes: COMPILE_STREAM_MAX_BYTES,
            file_size_bytes: COMPILE_DISK_BYTES,
            disk_bytes: COMPILE_DISK_BYTES,
        },
        binds: binds(pack, root),
        copy_out: pack.artifacts.clone(),
        copy_out_max_bytes: ARTIFACTS_MAX_BYTES,
        root: root.map(Path::to_path_buf),
    };
    let outcome = slot.run(spec, "compile").await?;
    metrics::run_duration(&pack.id, "compile", outcome.wall_time);

    Ok(compile_result(pack, outcome))
}

fn compile_result(pack: &Langpack, outcome: RunOutcome) -> Compiled {
    let mut output = outcome.stdout.clone();
    output.extend_from_slice(&outcome.stderr);
    let mut output = bounded_text(&output, COMPILE_OUTPUT_MAX_BYTES);

    let failure = compile_failure(pack, &outcome);
    if let Some(reason) = &failure {
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        output.push_str(reason);
    }
    let result = CompileResult {
        success: failure.is_none(),
        output,
        cpu_time_ms: millis(outcome.cpu_time),
        wall_time_ms: millis(outcome.wall_time),
        peak_memory_bytes: outcome.peak_memory_bytes,
    };
    if failure.is_some() {
        return Compiled::Failed(result);
    }

    let files = outcome
        .files
        .into_iter()
        .map(|(path, content)| InputFile {
            path,
            content: FileContent::Bytes(content),
            // Copy-out keeps no file mode; binaries need the bit and it does
            // no harm on class files or bytecode.
            executable: true,
        })
        .collect();
    Compiled::Ready {
        program: Program { files },
        compile: Some(result),
    }
}

/// Returns why a compile run counts as failed, for the end of the compiler
/// output, or `None` when it succeeded.
fn compile_failure(pack: &Langpack, outcome: &RunOutcome) -> Option<String> {
    if let Some(syscall) = &outcome.blocked_syscall {
        return Some(format!("compiler made a blocked system call: {syscall}"));
    }
    if outcome.oom_killed {
        return Some(format!(
            "compilation exceeded the memory limit of {} MiB",
            pack.compile_limits.memory_bytes / (1024 * 1024)
        ));
    }
    if let Some(limit) = outcome.limit {
        return Some(format!(
            "compilation stopped: {} limit exceeded",
            limit_name(limit)
        ));
    }
    match outcome.status {
        ExitStatus::Exited(0) => {}
        ExitStatus::Exited(code) => return Some(format!("compiler exited with code {code}")),
        ExitStatus::Signaled(signal) => return Some(format!("compiler killed by signal {signal}")),
    }
    // A compiler can exit 0 without writing what the run step needs, such
    // as javac on a file without the expected class.
    if !pack.artifacts.is_empty() && outcome.files.is_empty() {
        return Some(format!(
            "compilation produced none of the expected files ({})",
            pack.artifacts.join(", ")
        ));
    }
    None
}

fn limit_name(limit: LimitKind) -> &'static str {
    match limit {
        LimitKind::CpuTime => "CPU time",
        LimitKind::WallTime => "wall time",
        LimitKind::Memory => "memory",
        LimitKind::Output => "output",
        LimitKind::Processes => "process",
        LimitKind::FileSize => "file size",
    }
}

/// Limits of each test run: the request's limits (or the defaults) plus
/// the langpack's allowances.
pub fn test_limits(pack: &Langpack, request: &SubmitRequest) -> Limits {
    let requested = request.limits.unwrap_or_default();
    let allowances = &pack.allowances;

    let cpu_time = nonzero_millis(requested.cpu_time_ms).unwrap_or(defaults::CPU_TIME);
    let wall_time =
        nonzero_millis(requested.wall_time_ms).unwrap_or(cpu_time * 2 + defaults::WALL_TIME_MARGIN);
    let processes = nonzero(requested.max_processes).unwrap_or(defaults::MAX_PROCESSES);
    let output = nonzero(requested.output_bytes).unwrap_or(defaults::OUTPUT_BYTES);

    Limits {
        cpu_time: cpu_time + allowances.extra_time,
        wall_time: wall_time + allowances.extra_time,
        memory_bytes: memory_limit(request).saturating_add(allowances.extra_memory_bytes),
        max_processes: processes.max(allowances.min_processes),
        stdout_bytes: output,
        stderr_bytes: output,
        // Files are bounded by the work dir's size, not by the output limit:
        // stdout and stderr are pipes with their own caps, and runtimes
        // such as the Erlang VM grow in-memory files to 16 MiB at start.
        file_size_bytes: RUN_DISK_BYTES,
        disk_bytes: RUN_DISK_BYTES,
    }
}

/// Returns the request's memory limit in bytes, before language
/// allowances. Runtimes with their own heap cap (`-Xmx`) start with it.
pub fn memory_limit(request: &SubmitRequest) -> u64 {
    let requested = request.limits.unwrap_or_default();
    nonzero(requested.memory_bytes).unwrap_or(defaults::MEMORY_BYTES)
}

fn nonzero<T: Default + PartialEq>(value: T) -> Option<T> {
    (value != T::default()).then_some(value)
}

fn nonzero_millis(value: u32) -> Option<Duration> {
    nonzero(value).map(|ms| Duration::from_millis(u64::from(ms)))
}

/// Runs test `index` of `request` and checks its output.
pub async fn run_test(
    slot: &Slot,
    pack: &Langpack,
    request: &SubmitRequest,
    program: &Program,
    index: usize,
) -> Result<TestResult, GradeError> {
    let test = &request.tests[index];
    let root = slot.langpack_root(&pack.id);
    let spec = RunSpec {
        argv: pack.run_argv(&source_names(request), memory_limit(request)),
        env: pack.env.clone(),
        files: program.files.clone(),
        stdin: Stdin::Bytes(test.input.clone()),
        limits: test_limits(pack, request),
        binds: binds(pack, root),
        copy_out: Vec::new(),
        copy_out_max_bytes: 0,
        root: root.map(Path::to_path_buf),
    };
    let outcome = slot.run(spec, &format!("test {}", index + 1)).await?;
    metrics::run_duration(&pack.id, "test", outcome.wall_time);

    let default_checker = checker::default_checker();
    let checker: &Checker = request.checker.as_ref().unwrap_or(&default_checker);
    let result = test_result(
        request,
        index,
        &outcome,
        checker,
        &pack.out_of_memory_markers,
    );
    metrics::test_graded(&pack.id, result.verdict());
    Ok(result)
}

/// Builds the result of test `index` from its run. `points` are the points
/// awarded: the test's points when accepted, else 0.
pub fn test_result(
    request: &SubmitRequest,
    index: usize,
    outcome: &RunOutcome,
    checker: &Checker,
    out_of_memory_markers: &[String],
) -> TestResult {
    let test = &request.tests[index];
    let (verdict, limit, message) = match verdict::classify_run(outcome, out_of_memory_markers) {
        Some(failure) => (failure.verdict, failure.limit, failure.message),
        None => {
            let checked = checker::check(checker, &test.expected_output, &outcome.stdout);
            (checked.verdict, Default::default(), checked.message)
        }
    };
    let termination = match outcome.status {
        ExitStatus::Exited(code) => Termination::ExitCode(code),
        ExitStatus::Signaled(signal) => Termination::Signal(signal),
    };
    let points = if verdict == Verdict::Accepted {
        verdict::test_points(test.points)
    } else {
        0
    };

    TestResult {
        index: index as u32,
        name: test_name(request, index),
        verdict: verdict.into(),
        cpu_time_ms: millis(outcome.cpu_time),
        wall_time_ms: millis(outcome.wall_time),
        peak_memory_bytes: outcome.peak_memory_bytes,
        termination: Some(termination),
        limit_exceeded: limit.into(),
        stdout_excerpt: excerpt(&outcome.stdout),
        stderr_excerpt: excerpt(&outcome.stderr),
        checker_message: message,
        points,
    }
}

/// Builds the result of a test that did not run because an earlier one
/// failed.
pub fn skipped_test(request: &SubmitRequest, index: usize) -> TestResult {
    TestResult {
        index: index as u32,
        name: test_name(request, index),
        verdict: Verdict::Skipped.into(),
        checker_message: "skipped after an earlier test failed".to_string(),
        ..TestResult::default()
    }
}

/// Returns the test's name, or its 1-based index when it has none.
pub fn test_name(request: &SubmitRequest, index: usize) -> String {
    let name = &request.tests[index].name;
    if name.is_empty() {
        (index + 1).to_string()
    } else {
        name.clone()
    }
}

/// Sum of the points of every test, 0 counting as 1.
pub fn max_score(request: &SubmitRequest) -> u32 {
    request
        .tests
        .iter()
        .map(|test| verdict::test_points(test.points))
        .sum()
}

/// Everything `grade` found, for callers that need no progress reports.
#[derive(Debug, Clone)]
pub struct Graded {
    pub compile: Option<CompileResult>,
    /// Empty when compilation failed.
    pub tests: Vec<TestResult>,
    pub verdict: Verdict,
    pub score: u32,
}

/// Compiles and runs every test of `request` in `slot`, without storing
/// progress. The worker loop runs the same steps with a store update after
/// each one.
pub async fn grade(
    slot: &Slot,
    pack: &Langpack,
    request: &SubmitRequest,
) -> Result<Graded, GradeError> {
    let (program, compile) = match compile(slot, pack, request).await? {
        Compiled::Ready { program, compile } => (program, compile),
        Compiled::Failed(result) => {
            return Ok(Graded {
                compile: Some(result),
                tests: Vec::new(),
                verdict: Verdict::CompilationError,
                score: 0,
            })
        }
    };

    let mut tests = Vec::with_capacity(request.tests.len());
    for index in 0..request.tests.len() {
        let result = if stop_before(request, &tests) {
            skipped_test(request, index)
        } else {
            run_test(slot, pack, request, &program, index).await?
        };
        tests.push(result);
    }
    Ok(Graded {
        compile,
        verdict: verdict::overall_verdict(&tests),
        score: verdict::score(&tests),
        tests,
    })
}

/// True when `stop_on_first_failure` is set and a finished test failed, so
/// the remaining tests are SKIPPED.
pub fn stop_before(request: &SubmitRequest, finished: &[TestResult]) -> bool {
    request.stop_on_first_failure
        && finished
            .iter()
            .any(|test| test.verdict() != Verdict::Accepted)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn excerpt(output: &[u8]) -> Vec<u8> {
    output[..output.len().min(EXCERPT_MAX_BYTES)].to_vec()
}

/// Text of `bytes` cut to at most `max` bytes, with invalid UTF-8 replaced
/// and a note when something was cut.
fn bounded_text(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut text = String::from_utf8_lossy(&bytes[..max]).into_owned();
    text.push_str(&format!(
        "\n[output cut after {max} of {} bytes]",
        bytes.len()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict_proto::v1::{Limits as RequestLimits, TestCase};

    fn request(limits: RequestLimits) -> SubmitRequest {
        SubmitRequest {
            language: "test".to_string(),
            tests: vec![
                TestCase {
                    name: String::new(),
                    input: b"1 2\n".to_vec(),
                    expected_output: b"3\n".to_vec(),
                    points: 0,
                },
                TestCase {
                    name: "big".to_string(),
                    input: Vec::new(),
                    expected_output: b"7\n".to_vec(),
                    points: 4,
                },
            ],
            limits: Some(limits),
            ..SubmitRequest::default()
        }
    }

    fn outcome(status: ExitStatus, stdout: &[u8]) -> RunOutcome {
        RunOutcome {
            status,
            limit: None,
            blocked_syscall: None,
            cpu_time: Duration::from_micros(12_700),
            wall_time: Duration::from_millis(30),
            peak_memory_bytes: 4096,
            oom_killed: false,
            stdout: stdout.to_vec(),
            stderr: Vec::new(),
            files: Vec::new(),
        }
    }

    fn pack(allowances: verdict_langpacks::Allowances) -> Langpack {
        Langpack {
            id: "test".to_string(),
            name: "Test".to_string(),
            source_file: "main.t".to_string(),
            extensions: Vec::new(),
            version_command: Vec::new(),
            compile: None,
            compile_checks_syntax_only: false,
            compile_limits: verdict_langpacks::CompileLimits {
                cpu_time: Duration::from_secs(10),
                wall_time: Duration::from_secs(20),
                memory_bytes: 512 << 20,
                max_processes: 16,
            },
            artifacts: Vec::new(),
            run: verdict_langpacks::Step { argv: Vec::new() },
            env: Vec::new(),
            binds: Vec::new(),
            allowances,
            out_of_memory_markers: Vec::new(),
            debian_packages: Vec::new(),
            self_test: verdict_langpacks::SelfTest {
                source: String::new(),
                input: String::new(),
                expected: String::new(),
                compile_error_source: None,
            },
        }
    }

    #[test]
    fn limits_add_language_allowances() {
        let request = request(RequestLimits {
            cpu_time_ms: 1000,
            wall_time_ms: 3000,
            memory_bytes: 64 << 20,
            max_processes: 2,
            output_bytes: 1000,
        });
        let pack = pack(verdict_langpacks::Allowances {
            extra_memory_bytes: 32 << 20,
            extra_time: Duration::from_millis(500),
            min_processes: 20,
        });
        let limits = test_limits(&pack, &request);

        assert_eq!(limits.cpu_time, Duration::from_millis(1500), "cpu time");
        assert_eq!(limits.wall_time, Duration::from_millis(3500), "wall time");
        assert_eq!(limits.memory_bytes, 96 << 20, "memory");
        assert_eq!(limits.max_processes, 20, "processes");
        assert_eq!(limits.stdout_bytes, 1000, "stdout");
        assert_eq!(limits.stderr_bytes, 1000, "stderr");
        assert_eq!(limits.file_size_bytes, RUN_DISK_BYTES, "file size");
        assert_eq!(limits.disk_bytes, RUN_DISK_BYTES, "disk");
        assert_eq!(memory_limit(&request), 64 << 20, "memory for run_argv");
    }

    #[test]
    fn zero_limits_use_defaults() {
        let request = request(RequestLimits::default());
        let limits = test_limits(&pack(Default::default()), &request);

        assert_eq!(limits.cpu_time, defaults::CPU_TIME, "cpu time");
        assert_eq!(
            limits.wall_time,
            defaults::CPU_TIME * 2 + defaults::WALL_TIME_MARGIN,
            "wall time"
        );
        assert_eq!(limits.memory_bytes, defaults::MEMORY_BYTES, "memory");
        assert_eq!(limits.max_processes, defaults::MAX_PROCESSES, "processes");
        assert_eq!(limits.stdout_bytes, defaults::OUTPUT_BYTES, "output");
    }

    #[test]
    fn accepted_test_result_fields() {
        let request = request(RequestLimits::default());
        let run = outcome(ExitStatus::Exited(0), b"3\n");
        let result = test_result(&request, 0, &run, &checker::default_checker(), &[]);

        assert_eq!(result.verdict(), Verdict::Accepted, "verdict of {result:?}");
        assert_eq!(result.name, "1", "default name");
        assert_eq!(result.cpu_time_ms, 12, "cpu ms");
        assert_eq!(result.wall_time_ms, 30, "wall ms");
        assert_eq!(result.points, 1, "zero points count as one");
        assert_eq!(
            result.termination,
            Some(Termination::ExitCode(0)),
            "termination"
        );
        assert_eq!(result.stdout_excerpt, b"3\n", "stdout excerpt");
    }

    #[test]
    fn wrong_answer_awards_no_points() {
        let request = request(RequestLimits::default());
        let run = outcome(ExitStatus::Exited(0), b"8\n");
        let result = test_result(&request, 1, &run, &checker::default_checker(), &[]);

        assert_eq!(result.verdict(), Verdict::WrongAnswer, "verdict");
        assert_eq!(result.points, 0, "points");
        assert_eq!(result.name, "big", "name");
        assert_eq!(
            result.checker_message, "token 1: expected 7, got 8",
            "checker message"
        );
    }

    #[test]
    fn signal_recorded_as_termination() {
        let request = request(RequestLimits::default());
        let run = outcome(ExitStatus::Signaled(11), b"");
        let result = test_result(&request, 0, &run, &checker::default_checker(), &[]);

        assert_eq!(result.verdict(), Verdict::RuntimeError, "verdict");
        assert_eq!(
            result.termination,
            Some(Termination::Signal(11)),
            "termination"
        );
    }

    #[test]
    fn excerpts_are_bounded() {
        let request = request(RequestLimits::default());
        let mut run = outcome(ExitStatus::Exited(0), &[b'x'; 5000]);
        run.stderr = vec![b'e'; 3000];
        let result = test_result(&request, 0, &run, &checker::default_checker(), &[]);

        assert_eq!(result.stdout_excerpt.len(), EXCERPT_MAX_BYTES, "stdout");
        assert_eq!(result.stderr_excerpt.len(), EXCERPT_MAX_BYTES, "stderr");
    }

    #[test]
    fn compile_output_is_bounded() {
        let text = bounded_text(&[b'a'; 70_000], COMPILE_OUTPUT_MAX_BYTES);
        let (kept, note) = text.split_at(COMPILE_OUTPUT_MAX_BYTES);
        assert!(kept.bytes().all(|byte| byte == b'a'), "kept text");
        assert_eq!(
            note, "\n[output cut after 65536 of 70000 bytes]",
            "note after the kept text"
        );
    }

    #[test]
    fn compile_failure_on_missing_artifacts() {
        let mut pack = pack(Default::default());
        pack.artifacts = vec!["main".to_string()];
        let run = outcome(ExitStatus::Exited(0), b"");
        let failure = compile_failure(&pack, &run);
        assert_eq!(
            failure.as_deref(),
            Some("compilation produced none of the expected files (main)"),
            "failure of {run:?}"
        );
    }

    #[test]
    fn stop_before_only_when_requested() {
        let mut request = request(RequestLimits::default());
        let failed = [TestResult {
            verdict: Verdict::WrongAnswer.into(),
            ..TestResult::default()
        }];
        assert!(!stop_before(&request, &failed), "flag unset");
        request.stop_on_first_failure = true;
        assert!(stop_before(&request, &failed), "flag set after a failure");
        assert!(!stop_before(&request, &[]), "flag set before any test");
    }

    #[test]
    fn max_score_counts_zero_as_one() {
        let request = request(RequestLimits::default());
        assert_eq!(max_score(&request), 5);
    }
}
