//! Langpack self-tests run in the real sandbox: the pack's sample program
//! must be accepted on its sample test, and, for compiled languages, its
//! broken program must fail to compile. The version command runs in the
//! same sandbox, so a language run from a root image reports the image's
//! version.

use std::path::Path;
use std::time::Duration;

use verdict_langpacks::Langpack;
use verdict_proto::v1::{
    checker, Checker, ExactChecker, Limits, SourceFile, SubmitRequest, TestCase, Verdict,
};
use verdict_sandbox::{ExitStatus, RunSpec, Stdin};

use crate::grade::{self, GradeError, Slot};

/// Time the version command may take in the sandbox; a JVM starts in
/// about a second.
const VERSION_TIME: Duration = Duration::from_secs(10);
/// Memory of the version command on top of the langpack's allowance.
const VERSION_MEMORY_BYTES: u64 = 512 * 1024 * 1024;
/// Processes of the version command, unless the langpack needs more.
const VERSION_PROCESSES: u32 = 16;
/// Bytes kept from each output stream of the version command.
const VERSION_OUTPUT_BYTES: u64 = 64 * 1024;

/// Limits of a self-test run: generous, because a self-test checks that a
/// language works, not how fast it is.
const SELF_TEST_LIMITS: Limits = Limits {
    cpu_time_ms: 5_000,
    wall_time_ms: 15_000,
    memory_bytes: 256 * 1024 * 1024,
    max_processes: 1,
    output_bytes: 1024 * 1024,
};

/// Result of one langpack's self-test.
#[derive(Debug, Clone)]
pub struct SelfTestReport {
    pub language: String,
    /// Verdict of the sample program on the sample test; ACCEPTED when the
    /// language works.
    pub program: Verdict,
    /// Verdict of the broken program; COMPILATION_ERROR when the compile
    /// step rejects it, `None` for a pack without one.
    pub compile_error: Option<Verdict>,
    /// CPU and wall time of the sample run, and its peak memory.
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub peak_memory_bytes: u64,
    /// The sample program's compile step (or syntax check); `None` for a
    /// pack without one.
    pub compile: Option<StepUsage>,
    /// First line of the version command's output, run in the sandbox;
    /// `None` when it failed there.
    pub version: Option<String>,
    /// The checker's message or the compiler output when the program was not
    /// accepted, for the report.
    pub detail: String,
}

/// Resources one sandboxed step used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUsage {
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub peak_memory_bytes: u64,
}

impl SelfTestReport {
    /// True when the sample program passed and the broken one, if any,
    /// failed to compile.
    pub fn passed(&self) -> bool {
        self.program == Verdict::Accepted
            && self
                .compile_error
                .is_none_or(|verdict| verdict == Verdict::CompilationError)
    }
}

/// Runs a langpack's self-test in `slot`.
pub async fn run(slot: &Slot, pack: &Langpack) -> Result<SelfTestReport, GradeError> {
    let sample = request(
        pack,
        &pack.self_test.source,
        &pack.self_test.input,
        &pack.self_test.expected,
    );
    let graded = grade::grade(slot, pack, &sample).await?;
    let test = graded.tests.first();
    let detail = match (&graded.compile, test) {
        (Some(compile), _) if !compile.success => compile.output.clone(),
        (_, Some(test)) if test.verdict() != Verdict::Accepted => format!(
            "{} {}",
            test.checker_message,
            String::from_utf8_lossy(&test.stderr_excerpt)
        ),
        _ => String::new(),
    };

    let compile_error = match &pack.self_test.compile_error_source {
        Some(source) => {
            let broken = request(
                pack,
                source,
                &pack.self_test.input,
                &pack.self_test.expected,
            );
            Some(grade::grade(slot, pack, &broken).await?.verdict)
        }
        None => None,
    };

    let version = sandbox_version(slot, pack).await?;

    Ok(SelfTestReport {
        language: pack.id.clone(),
        program: graded.verdict,
        compile_error,
        cpu_time_ms: test.map_or(0, |t| t.cpu_time_ms),
        wall_time_ms: test.map_or(0, |t| t.wall_time_ms),
        peak_memory_bytes: test.map_or(0, |t| t.peak_memory_bytes),
        compile: graded.compile.as_ref().map(|compile| StepUsage {
            cpu_time_ms: compile.cpu_time_ms,
            wall_time_ms: compile.wall_time_ms,
            peak_memory_bytes: compile.peak_memory_bytes,
        }),
        version,
        detail,
    })
}

/// Runs the langpack's version command in `slot`, from the language's root
/// image when the slot has one, and returns the first non-empty line of
/// stdout, or of stderr when stdout has none. `None` when the command does
/// not exit 0 within 10 s.
pub async fn sandbox_version(slot: &Slot, pack: &Langpack) -> Result<Option<String>, GradeError> {
    let root = slot.langpack_root(&pack.id);
    let spec = RunSpec {
        argv: pack.version_command.clone(),
        env: pack.env.clone(),
        files: Vec::new(),
        stdin: Stdin::Null,
        limits: verdict_sandbox::Limits {
            cpu_time: VERSION_TIME,
            wall_time: VERSION_TIME,
            memory_bytes: VERSION_MEMORY_BYTES + pack.allowances.extra_memory_bytes,
            max_processes: VERSION_PROCESSES.max(pack.allowances.min_processes),
            stdout_bytes: VERSION_OUTPUT_BYTES,
            stderr_bytes: VERSION_OUTPUT_BYTES,
            file_size_bytes: grade::RUN_DISK_BYTES,
            disk_bytes: grade::RUN_DISK_BYTES,
        },
        binds: grade::binds(pack, root),
        copy_out: Vec::new(),
        copy_out_max_bytes: 0,
        root: root.map(Path::to_path_buf),
    };
    let outcome = slot.run(spec, "version command").await?;
    if outcome.status != ExitStatus::Exited(0) || outcome.limit.is_some() {
        tracing::warn!(language = %pack.id, slot = slot.id(), status = ?outcome.status,
            limit = ?outcome.limit, "version command failed in the sandbox");
        return Ok(None);
    }
    Ok(verdict_langpacks::version_line(
        &outcome.stdout,
        &outcome.stderr,
    ))
}

fn request(pack: &Langpack, source: &str, input: &str, expected: &str) -> SubmitRequest {
    SubmitRequest {
        language: pack.id.clone(),
        sources: vec![SourceFile {
            name: pack.source_file.clone(),
            content: source.as_bytes().to_vec(),
        }],
        tests: vec![TestCase {
            name: "self-test".to_owned(),
            input: input.as_bytes().to_vec(),
            expected_output: expected.as_bytes().to_vec(),
            points: 1,
        }],
        limits: Some(SELF_TEST_LIMITS),
        // Exact bytes: a self-test also checks the locale and line endings.
        checker: Some(Checker {
            kind: Some(checker::Kind::Exact(ExactChecker {})),
        }),
        idempotency_key: String::new(),
        stop_on_first_failure: false,
    }
}
