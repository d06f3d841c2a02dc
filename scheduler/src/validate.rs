//! Validation and normalization of `SubmitRequest`s.
//!
//! Everything here is a pure function of the request, the limits and the
//! known language ids, so every rule is unit-tested without a server.
//! Validation collects every bad field instead of stopping at the first,
//! because a client fixing a request wants the whole list at once.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};
use verdict_proto::v1::{checker, Checker, Limits, SubmitRequest, TestCase, TokensChecker};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// CPU time limit used when the request leaves it at 0, in milliseconds.
pub const DEFAULT_CPU_TIME_MS: u32 = 2_000;
/// Largest CPU time limit a request may set, in milliseconds.
pub const MAX_CPU_TIME_MS: u32 = 60_000;
/// Largest wall time limit a request may set, in milliseconds. A wall
/// limit left at 0 becomes three times the CPU limit, capped at this.
pub const MAX_WALL_TIME_MS: u32 = 120_000;
/// Memory limit used when the request leaves it at 0, in bytes.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 * MIB;
/// Smallest memory limit a request may set, in bytes.
pub const MIN_MEMORY_BYTES: u64 = 16 * MIB;
/// Largest memory limit a request may set, in bytes.
pub const MAX_MEMORY_BYTES: u64 = 4 * GIB;
/// Process limit used when the request leaves it at 0. The worker raises
/// it to the language's minimum (JVM threads, for example).
pub const DEFAULT_MAX_PROCESSES: u32 = 1;
/// Largest process limit a request may set.
pub const MAX_PROCESSES: u32 = 256;
/// Output limit used when the request leaves it at 0, in bytes.
pub const DEFAULT_OUTPUT_BYTES: u64 = 16 * MIB;
/// Largest output limit a request may set, in bytes.
pub const MAX_OUTPUT_BYTES: u64 = 64 * MIB;
/// Maximum length of an idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 256;
/// Maximum length of a source file name, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 100;

/// Size limits of a request, set by the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    /// Maximum number of source files.
    pub max_sources: usize,
    /// Maximum total size of all source files, in bytes.
    pub max_total_source_bytes: usize,
    /// Maximum number of tests.
    pub max_tests: usize,
    /// Maximum size of one test's input, and separately of its expected
    /// output, in bytes.
    pub max_test_bytes: usize,
    /// Maximum total size of all tests' inputs and expected outputs, in
    /// bytes. The gRPC server accepts messages up to this plus 1 MiB.
    pub max_total_test_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_sources: 32,
            max_total_source_bytes: 256 * KIB as usize,
            max_tests: 500,
            max_test_bytes: 4 * MIB as usize,
            max_total_test_bytes: 4 * MIB as usize,
        }
    }
}

/// Checks `request` and returns it with every default written in, so that
/// workers see explicit values: limits, the checker, test names (the
/// 1-based index) and test points (1). Returns every field violation when
/// the request is invalid.
pub fn validate_submit(
    request: &SubmitRequest,
    limits: &RequestLimits,
    known_languages: &[String],
) -> Result<SubmitRequest, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    check_language(&request.language, known_languages, &mut violations);
    check_sources(request, limits, &mut violations);
    check_tests(&request.tests, limits, &mut violations);
    let limits_proto = request.limits.unwrap_or_default();
    check_limits(&limits_proto, &mut violations);
    if let Some(checker) = &request.checker {
        check_checker(checker, &mut violations);
    }
    if request.idempotency_key.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        violations.push(FieldViolation::new(
            "idempotency_key",
            format!(
                "is {} bytes; it must be at most {MAX_IDEMPOTENCY_KEY_BYTES} bytes",
                request.idempotency_key.len()
            ),
        ));
    }
    if !violations.is_empty() {
        return Err(violations);
    }

    let mut normalized = request.clone();
    normalized.limits = Some(normalize_limits(&limits_proto));
    normalized.checker = Some(normalize_checker(request.checker.as_ref()));
    for (index, test) in normalized.tests.iter_mut().enumerate() {
        if test.name.is_empty() {
            test.name = (index + 1).to_string();
        }
        if test.points == 0 {
            test.points = 1;
        }
    }
    Ok(normalized)
}

/// Builds the INVALID_ARGUMENT status with one `google.rpc.BadRequest`
/// field violation per entry of `violations`.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let summary = match violations {
        [only] => format!("invalid request: {} {}", only.field, only.description),
        _ => format!(
            "invalid request: {} fields are invalid, see the BadRequest details",
            violations.len()
        ),
    };
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// Total points of a normalized request's tests.
pub fn max_score(request: &SubmitRequest) -> u32 {
    request
        .tests
        .iter()
        .map(|test| test.points.max(1))
        .fold(0u32, u32::saturating_add)
}

/// Checks a submission id from a Get, Watch or Cancel request. Ids are
/// UUIDs in the lowercase hyphenated form that `Submit` returns; anything
/// else cannot name a stored submission.
pub fn check_submission_id(id: &str) -> Result<(), FieldViolation> {
    if id.is_empty() {
        return Err(FieldViolation::new(
            "submission_id",
            "is empty; pass the id that Submit returned",
        ));
    }
    let canonical = uuid::Uuid::try_parse(id)
        .map(|parsed| parsed.hyphenated().to_string() == id)
        .unwrap_or(false);
    if !canonical {
        return Err(FieldViolation::new(
            "submission_id",
            format!(
                "{id:?} is not a submission id; ids are lowercase hyphenated UUIDs \
                 such as 0190b7c2-6c3e-7d2a-9f1e-2b5c8d4e6f70"
            ),
        ));
    }
    Ok(())
}

fn check_language(language: &str, known: &[String], violations: &mut Vec<FieldViolation>) {
    if known.iter().any(|id| id == language) {
        return;
    }
    let listed = if known.is_empty() {
        "no languages are configured".to_owned()
    } else {
        format!("known ids: {}", known.join(", "))
    };
    let what = if language.is_empty() {
        "is missing".to_owned()
    } else {
        format!("{language:?} is not a known language")
    };
    violations.push(FieldViolation::new(
        "language",
        format!("{what}; use an id from ListLanguages ({listed})"),
    ));
}

fn check_sources(
    request: &SubmitRequest,
    limits: &RequestLimits,
    violations: &mut Vec<FieldViolation>,
) {
    let sources = &request.sources;
    if sources.is_empty() {
        violations.push(FieldViolation::new(
            "sources",
            "is empty; send at least one source file, the main file first",
        ));
        return;
    }
    if sources.len() > limits.max_sources {
        violations.push(FieldViolation::new(
            "sources",
            format!(
                "has {} files; at most {} are allowed",
                sources.len(),
                limits.max_sources
            ),
        ));
    }
    let total: usize = sources.iter().map(|source| source.content.len()).sum();
    if total > limits.max_total_source_bytes {
        violations.push(FieldViolation::new(
            "sources",
            format!(
                "total {total} bytes; all source files together must be at most {} bytes",
                limits.max_total_source_bytes
            ),
        ));
    }

    let mut first_index_of_name: HashMap<&str, usize> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        if let Some(problem) = file_name_problem(&source.name) {
            violations.push(FieldViolation::new(
                format!("sources[{index}].name"),
                problem,
            ));
        } else if let Some(first) = first_index_of_name.get(source.name.as_str()) {
            violations.push(FieldViolation::new(
                format!("sources[{index}].name"),
                format!(
                    "{:?} duplicates sources[{first}].name; give every file its own name",
                    source.name
                ),
            ));
        } else {
            first_index_of_name.insert(&source.name, index);
        }
        if source.content.is_empty() {
            violations.push(FieldViolation::new(
                format!("sources[{index}].content"),
                "is empty; send the file's content or leave the file out",
            ));
        }
    }
}

/// Describes what is wrong with a source file name, or `None` when it is a
/// plain file name that cannot leave or hide in the work dir.
fn file_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty; give a plain file name such as main.cpp".to_owned());
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Some(format!(
            "is {} bytes; file names must be at most {MAX_FILE_NAME_BYTES} bytes",
            name.len()
        ));
    }
    if name.contains(['/', '\\', '\0']) {
        return Some(format!(
            "{name:?} contains '/', '\\' or NUL; give a plain file name without a directory"
        ));
    }
    if name == "." || name == ".." {
        return Some(format!(
            "{name:?} is not a file name; give a plain file name"
        ));
    }
    if name.starts_with('.') {
        return Some(format!(
            "{name:?} starts with '.'; hidden files are not allowed, rename the file"
        ));
    }
    None
}

fn check_tests(tests: &[TestCase], limits: &RequestLimits, violations: &mut Vec<FieldViolation>) {
    if tests.is_empty() {
        violations.push(FieldViolation::new(
            "tests",
            "is empty; send at least one test",
        ));
        return;
    }
    if tests.len() > limits.max_tests {
        violations.push(FieldViolation::new(
            "tests",
            format!(
                "has {} tests; at most {} are allowed, split the suite",
                tests.len(),
                limits.max_tests
            ),
        ));
    }

    let mut total = 0usize;
    for (index, test) in tests.iter().enumerate() {
        for (field, data) in [
            ("input", &test.input),
            ("expected_output", &test.expected_output),
        ] {
            total = total.saturating_add(data.len());
            if data.len() > limits.max_test_bytes {
                violations.push(FieldViolation::new(
                    format!("tests[{index}].{field}"),
                    format!(
                        "is {} bytes; each test's {field} must be at most {} bytes",
                        data.len(),
                        limits.max_test_bytes
                    ),
                ));
            }
        }
    }
    if total > limits.max_total_test_bytes {
        violations.push(FieldViolation::new(
            "tests",
            format!(
                "inputs and expected outputs total {total} bytes; at most {} bytes are allowed",
                limits.max_total_test_bytes
            ),
        ));
    }
}

fn check_limits(limits: &Limits, violations: &mut Vec<FieldViolation>) {
    if limits.cpu_time_ms > MAX_CPU_TIME_MS {
        violations.push(FieldViolation::new(
            "limits.cpu_time_ms",
            format!(
                "is {}; it must be between 1 and {MAX_CPU_TIME_MS} milliseconds; \
                 0 selects the default of {DEFAULT_CPU_TIME_MS}",
                limits.cpu_time_ms
            ),
        ));
    }

    let cpu = effective_cpu_time_ms(limits);
    let wall = limits.wall_time_ms;
    if wall != 0 && (wall < cpu || wall > MAX_WALL_TIME_MS) {
        violations.push(FieldViolation::new(
            "limits.wall_time_ms",
            format!(
                "is {wall}; it must be between the CPU time limit ({cpu}) and \
                 {MAX_WALL_TIME_MS} milliseconds; 0 selects three times the CPU time limit"
            ),
        ));
    }

    let memory = limits.memory_bytes;
    if memory != 0 && !(MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&memory) {
        violations.push(FieldViolation::new(
            "limits.memory_bytes",
            format!(
                "is {memory}; it must be between {MIN_MEMORY_BYTES} (16 MiB) and \
                 {MAX_MEMORY_BYTES} (4 GiB) bytes; 0 selects the default of \
                 {DEFAULT_MEMORY_BYTES} (256 MiB)"
            ),
        ));
    }

    if limits.max_processes > MAX_PROCESSES {
        violations.push(FieldViolation::new(
            "limits.max_processes",
            format!(
                "is {}; it must be between 1 and {MAX_PROCESSES}; 0 selects the default of \
                 {DEFAULT_MAX_PROCESSES} plus the language's allowance",
                limits.max_processes
            ),
        ));
    }

    if limits.output_bytes > MAX_OUTPUT_BYTES {
        violations.push(FieldViolation::new(
            "limits.output_bytes",
            format!(
                "is {}; it must be between 1 and {MAX_OUTPUT_BYTES} (64 MiB) bytes; \
                 0 selects the default of {DEFAULT_OUTPUT_BYTES} (16 MiB)",
                limits.output_bytes
            ),
        ));
    }
}

fn check_checker(checker: &Checker, violations: &mut Vec<FieldViolation>) {
    let Some(checker::Kind::Float(float)) = &checker.kind else {
        return;
    };
    for (field, tolerance) in [
        ("absolute_tolerance", float.absolute_tolerance),
        ("relative_tolerance", float.relative_tolerance),
    ] {
        if tolerance.is_nan() || tolerance < 0.0 {
            violations.push(FieldViolation::new(
                format!("checker.float.{field}"),
                format!("is {tolerance}; it must be a number of at least 0"),
            ));
        }
    }
}

fn effective_cpu_time_ms(limits: &Limits) -> u32 {
    if limits.cpu_time_ms == 0 {
        DEFAULT_CPU_TIME_MS
    } else {
        limits.cpu_time_ms
    }
}

/// Writes the defaults into every limit left at 0. Expects limits that
/// passed `check_limits`.
fn normalize_limits(limits: &Limits) -> Limits {
    let cpu_time_ms = effective_cpu_time_ms(limits);
    let nonzero_or = |value: u64, default: u64| if value == 0 { default } else { value };
    Limits {
        cpu_time_ms,
        wall_time_ms: if limits.wall_time_ms == 0 {
            cpu_time_ms.saturating_mul(3).min(MAX_WALL_TIME_MS)
        } else {
            limits.wall_time_ms
        },
        memory_bytes: nonzero_or(limits.memory_bytes, DEFAULT_MEMORY_BYTES),
        max_processes: if limits.max_processes == 0 {
            DEFAULT_MAX_PROCESSES
        } else {
            limits.max_processes
        },
        output_bytes: nonzero_or(limits.output_bytes, DEFAULT_OUTPUT_BYTES),
    }
}

/// Returns the request's checker, or case-sensitive tokens when it names
/// none.
fn normalize_checker(checker: Option<&Checker>) -> Checker {
    match checker {
        Some(Checker { kind: Some(kind) }) => Checker { kind: Some(*kind) },
        _ => Checker {
            kind: Some(checker::Kind::Tokens(TokensChecker {
                case_sensitive: true,
            })),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict_proto::v1::{ExactChecker, FloatChecker, SourceFile};

    fn known() -> Vec<String> {
        vec!["cpp17".to_owned(), "python3".to_owned()]
    }

    fn valid_request() -> SubmitRequest {
        SubmitRequest {
            language: "python3".to_owned(),
            sources: vec![SourceFile {
                name: "main.py".to_owned(),
                content: b"print(input())\n".to_vec(),
            }],
            tests: vec![TestCase {
                name: String::new(),
                input: b"1\n".to_vec(),
                expected_output: b"1\n".to_vec(),
                points: 0,
            }],
            ..Default::default()
        }
    }

    /// Fields of the violations, in order.
    fn fields_of(request: &SubmitRequest, limits: &RequestLimits) -> Vec<String> {
        match validate_submit(request, limits, &known()) {
            Ok(_) => Vec::new(),
            Err(violations) => violations.into_iter().map(|v| v.field).collect(),
        }
    }

    fn assert_fields(request: &SubmitRequest, expected: &[&str]) {
        let actual = fields_of(request, &RequestLimits::default());
        assert_eq!(
            actual, expected,
            "expected violations on {expected:?}, got {actual:?}"
        );
    }

    #[test]
    fn valid_request_passes() {
        assert_fields(&valid_request(), &[]);
    }

    #[test]
    fn unknown_language_lists_known_ids() {
        let mut request = valid_request();
        request.language = "cobol".to_owned();
        let violations = validate_submit(&request, &RequestLimits::default(), &known())
            .expect_err("cobol is not known");
        assert_eq!(
            violations.len(),
            1,
            "expected one violation, got {violations:?}"
        );
        assert_eq!(violations[0].field, "language");
        assert!(
            violations[0].description.contains("cpp17, python3"),
            "expected the known ids in {:?}",
            violations[0].description
        );
    }

    #[test]
    fn missing_sources_rejected() {
        let mut request = valid_request();
        request.sources.clear();
        assert_fields(&request, &["sources"]);
    }

    #[test]
    fn empty_source_content_rejected() {
        let mut request = valid_request();
        request.sources[0].content.clear();
        assert_fields(&request, &["sources[0].content"]);
    }

    #[test]
    fn bad_file_names_rejected() {
        let long = "a".repeat(MAX_FILE_NAME_BYTES + 1);
        for name in [
            "",
            "a/b.py",
            "a\\b.py",
            "a\0.py",
            ".",
            "..",
            ".hidden.py",
            &long,
        ] {
            let mut request = valid_request();
            request.sources[0].name = name.to_owned();
            let actual = fields_of(&request, &RequestLimits::default());
            assert_eq!(
                actual,
                ["sources[0].name"],
                "name {name:?}: expected a violation on sources[0].name, got {actual:?}"
            );
        }
    }

    #[test]
    fn longest_allowed_file_name_passes() {
        let mut request = valid_request();
        request.sources[0].name = "a".repeat(MAX_FILE_NAME_BYTES);
        assert_fields(&request, &[]);
    }

    #[test]
    fn duplicate_file_names_rejected() {
        let mut request = valid_request();
        request.sources.push(request.sources[0].clone());
        assert_fields(&request, &["sources[1].name"]);
    }

    #[test]
    fn too_many_files_rejected() {
        let mut request = valid_request();
        request.sources = (0..33)
            .map(|i| SourceFile {
                name: format!("f{i}.py"),
                content: b"x".to_vec(),
            })
            .collect();
        assert_fields(&request, &["sources"]);
    }

    #[test]
    fn oversized_sources_rejected() {
        let mut request = valid_request();
        request.sources[0].content = vec![b'#'; 256 * 1024 + 1];
        assert_fields(&request, &["sources"]);
    }

    #[test]
    fn missing_tests_rejected() {
        let mut request = valid_request();
        request.tests.clear();
        assert_fields(&request, &["tests"]);
    }

    #[test]
    fn too_many_tests_rejected() {
        let mut request = valid_request();
        request.tests = vec![request.tests[0].clone(); 501];
        assert_fields(&request, &["tests"]);
    }

    #[test]
    fn oversized_test_fields_rejected() {
        let limits = RequestLimits {
            max_test_bytes: 4,
            ..Default::default()
        };
        let mut request = valid_request();
        request.tests[0].input = b"12345".to_vec();
        request.tests[0].expected_output = b"12345".to_vec();
        let actual = fields_of(&request, &limits);
        assert_eq!(
            actual,
            ["tests[0].input", "tests[0].expected_output"],
            "expected both test fields, got {actual:?}"
        );
    }

    #[test]
    fn oversized_test_total_rejected() {
        let limits = RequestLimits {
            max_total_test_bytes: 10,
            ..Default::default()
        };
        let mut request = valid_request();
        request.tests = vec![request.tests[0].clone(); 3];
        let actual = fields_of(&request, &limits);
        assert_eq!(
            actual,
            ["tests"],
            "12 bytes over a 10-byte total, got {actual:?}"
        );
    }

    #[test]
    fn out_of_range_limits_rejected() {
        let cases: [(Limits, &str); 8] = [
            (
                Limits {
                    cpu_time_ms: 60_001,
                    ..Default::default()
                },
                "limits.cpu_time_ms",
            ),
            (
                Limits {
                    cpu_time_ms: 1_000,
                    wall_time_ms: 999,
                    ..Default::default()
                },
                "limits.wall_time_ms",
            ),
            (
                Limits {
                    wall_time_ms: 1_999,
                    ..Default::default()
                },
                "limits.wall_time_ms",
            ),
            (
                Limits {
                    wall_time_ms: 120_001,
                    ..Default::default()
                },
                "limits.wall_time_ms",
            ),
            (
                Limits {
                    memory_bytes: MIN_MEMORY_BYTES - 1,
                    ..Default::default()
                },
                "limits.memory_bytes",
            ),
            (
                Limits {
                    memory_bytes: MAX_MEMORY_BYTES + 1,
                    ..Default::default()
                },
                "limits.memory_bytes",
            ),
            (
                Limits {
                    max_processes: 257,
                    ..Default::default()
                },
                "limits.max_processes",
            ),
            (
                Limits {
                    output_bytes: MAX_OUTPUT_BYTES + 1,
                    ..Default::default()
                },
                "limits.output_bytes",
            ),
        ];
        for (limits, field) in cases {
            let mut request = valid_request();
            request.limits = Some(limits);
            let actual = fields_of(&request, &RequestLimits::default());
            assert_eq!(
                actual,
                [field],
                "limits {limits:?}: expected {field}, got {actual:?}"
            );
        }
    }

    #[test]
    fn boundary_limits_pass() {
        let mut request = valid_request();
        request.limits = Some(Limits {
            cpu_time_ms: MAX_CPU_TIME_MS,
            wall_time_ms: MAX_WALL_TIME_MS,
            memory_bytes: MAX_MEMORY_BYTES,
            max_processes: MAX_PROCESSES,
            output_bytes: MAX_OUTPUT_BYTES,
        });
        assert_fields(&request, &[]);
    }

    #[test]
    fn cpu_limit_description_names_default() {
        let mut request = valid_request();
        request.limits = Some(Limits {
            cpu_time_ms: 70_000,
            ..Default::default()
        });
        let violations = validate_submit(&request, &RequestLimits::default(), &known())
            .expect_err("70000 ms is over the maximum");
        let description = &violations[0].description;
        assert!(
            description.contains(
                "must be between 1 and 60000 milliseconds; 0 selects the default of 2000"
            ),
            "expected range and default in {description:?}"
        );
    }

    #[test]
    fn bad_float_tolerances_rejected() {
        let mut request = valid_request();
        request.checker = Some(Checker {
            kind: Some(checker::Kind::Float(FloatChecker {
                absolute_tolerance: -1e-6,
                relative_tolerance: f64::NAN,
            })),
        });
        assert_fields(
            &request,
            &[
                "checker.float.absolute_tolerance",
                "checker.float.relative_tolerance",
            ],
        );
    }

    #[test]
    fn long_idempotency_key_rejected() {
        let mut request = valid_request();
        request.idempotency_key = "k".repeat(MAX_IDEMPOTENCY_KEY_BYTES + 1);
        assert_fields(&request, &["idempotency_key"]);
    }

    #[test]
    fn every_bad_field_reported() {
        let mut request = valid_request();
        request.language = String::new();
        request.sources[0].name = "../x".to_owned();
        request.tests.clear();
        assert_fields(&request, &["language", "sources[0].name", "tests"]);
    }

    #[test]
    fn defaults_written_into_limits() {
        let normalized = validate_submit(&valid_request(), &RequestLimits::default(), &known())
            .expect("valid request");
        let expected = Limits {
            cpu_time_ms: 2_000,
            wall_time_ms: 6_000,
            memory_bytes: 256 * MIB,
            max_processes: 1,
            output_bytes: 16 * MIB,
        };
        assert_eq!(normalized.limits, Some(expected));
    }

    #[test]
    fn default_wall_time_capped() {
        let mut request = valid_request();
        request.limits = Some(Limits {
            cpu_time_ms: 50_000,
            ..Default::default()
        });
        let normalized =
            validate_submit(&request, &RequestLimits::default(), &known()).expect("valid request");
        let wall = normalized.limits.map(|l| l.wall_time_ms);
        assert_eq!(wall, Some(MAX_WALL_TIME_MS), "3 x 50000 ms must be capped");
    }

    #[test]
    fn default_checker_is_case_sensitive_tokens() {
        let normalized = validate_submit(&valid_request(), &RequestLimits::default(), &known())
            .expect("valid request");
        let expected = Checker {
            kind: Some(checker::Kind::Tokens(TokensChecker {
                case_sensitive: true,
            })),
        };
        assert_eq!(normalized.checker, Some(expected));
    }

    #[test]
    fn explicit_checker_kept() {
        let mut request = valid_request();
        let exact = Checker {
            kind: Some(checker::Kind::Exact(ExactChecker {})),
        };
        request.checker = Some(exact);
        let normalized =
            validate_submit(&request, &RequestLimits::default(), &known()).expect("valid request");
        assert_eq!(normalized.checker, Some(exact));
    }

    #[test]
    fn test_names_and_points_defaulted() {
        let mut request = valid_request();
        request.tests.push(TestCase {
            name: "big".to_owned(),
            points: 5,
            ..request.tests[0].clone()
        });
        let normalized =
            validate_submit(&request, &RequestLimits::default(), &known()).expect("valid request");
        let names: Vec<&str> = normalized.tests.iter().map(|t| t.name.as_str()).collect();
        let points: Vec<u32> = normalized.tests.iter().map(|t| t.points).collect();
        assert_eq!(names, ["1", "big"], "unnamed tests get their 1-based index");
        assert_eq!(points, [1, 5], "0 points means 1");
        assert_eq!(max_score(&normalized), 6);
    }

    #[test]
    fn submission_id_forms() {
        let id = uuid::Uuid::now_v7().hyphenated().to_string();
        assert!(check_submission_id(&id).is_ok(), "{id} is canonical");
        for bad in ["", "abc", &id.to_uppercase(), &id.replace('-', "")] {
            assert!(
                check_submission_id(bad).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn status_carries_each_violation() {
        let violations = vec![
            FieldViolation::new("language", "is missing"),
            FieldViolation::new("tests", "is empty"),
        ];
        let status = invalid_argument(&violations);
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_details_bad_request()
            .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["language", "tests"], "got {fields:?}");
    }
}
