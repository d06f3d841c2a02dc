//! Langpack self-tests run in the real sandbox: the pack's sample program
//! must be accepted on its sample test, and, for compiled languages, its
//! broken program must fail to compile.

use verdict_langpacks::Langpack;
use verdict_proto::v1::{
    checker, Checker, ExactChecker, Limits, SourceFile, SubmitRequest, TestCase, Verdict,
};

use crate::grade::{self, GradeError, Slot};

/// Limits of a self-test run: generous, because a self-test checks that a
/// language works, not how fast it is.
const SELF_TEST_LIMITS: Limits = Limits {
    cpu_time_ms: 5_000,
    wall_time_ms: 15_000,
    memory_bytes: 256 * 1024 * 1024,
    max_processes: 1,
    output_bytes: 1024 * 1024,
};

/// What one langpack's self-test found.
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
    /// The checker's message or the compiler output when the program was not
    /// accepted, for the report.
    pub detail: String,
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

    Ok(SelfTestReport {
        language: pack.id.clone(),
        program: graded.verdict,
        compile_error,
        cpu_time_ms: test.map_or(0, |t| t.cpu_time_ms),
        wall_time_ms: test.map_or(0, |t| t.wall_time_ms),
        peak_memory_bytes: test.map_or(0, |t| t.peak_memory_bytes),
        detail,
    })
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
