//! Reads problem packages in the ICPC / Kattis layout:
//!
//! ```text
//! PROBLEM/problem.yaml                 name, limits, validator_flags
//! PROBLEM/data/{sample,secret}/*.in    test inputs, each with a .ans
//! PROBLEM/submissions/<expected>/FILE  reference submissions
//! ```
//!
//! Only the parts Verdict grades with are read. `limits.time_limit` (the
//! 2023-07 format, seconds) or a legacy `.timelimit` file give the CPU
//! time limit; `limits.memory` and `limits.output` are MiB as in both
//! formats; `validator_flags` selects the built-in checker the way
//! problemtools' default output validator reads them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use verdict_proto::v1::{checker, Checker, FloatChecker, Limits, TestCase, TokensChecker, Verdict};

/// CPU time limit when the package names none, in seconds.
const DEFAULT_TIME_LIMIT_SECONDS: f64 = 1.0;
/// Memory limit when the package names none, in MiB (problemtools' default).
const DEFAULT_MEMORY_MIB: u64 = 2048;

#[derive(Debug, Default, Deserialize)]
struct ProblemYaml {
    name: Option<serde_yaml::Value>,
    #[serde(default)]
    limits: LimitsYaml,
    validator_flags: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct LimitsYaml {
    time_limit: Option<f64>,
    memory: Option<u64>,
    output: Option<u64>,
}

/// A problem package ready to grade.
#[derive(Debug)]
pub struct Problem {
    pub name: String,
    pub limits: Limits,
    pub checker: Checker,
    pub tests: Vec<TestCase>,
}

/// One reference submission and the verdict its folder promises.
#[derive(Debug)]
pub struct ReferenceSubmission {
    pub path: PathBuf,
    pub expected: Verdict,
}

/// Maps a `submissions/<folder>` name to the verdict it promises.
pub fn expected_verdict(folder: &str) -> Option<Verdict> {
    Some(match folder {
        "accepted" => Verdict::Accepted,
        "wrong_answer" => Verdict::WrongAnswer,
        "time_limit_exceeded" => Verdict::TimeLimitExceeded,
        "run_time_error" => Verdict::RuntimeError,
        "memory_limit_exceeded" => Verdict::MemoryLimitExceeded,
        "compile_error" => Verdict::CompilationError,
        "output_limit_exceeded" => Verdict::OutputLimitExceeded,
        _ => return None,
    })
}

/// Returns the problem directories under `dir`: `dir` itself when it contains
/// a `problem.yaml`, else each direct subdirectory that does, sorted.
pub fn find_problems(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join("problem.yaml").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = fs::read_dir(dir)
        .with_context(|| format!("reading problem directory {}", dir.display()))?;
    let mut problems = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.join("problem.yaml").is_file() {
            problems.push(path);
        }
    }
    problems.sort();
    if problems.is_empty() {
        bail!(
            "{} is not a problem package: it has no problem.yaml, and no subdirectory has one",
            dir.display()
        );
    }
    Ok(problems)
}

/// Loads a package's metadata and its tests from `data/<group>` for each
/// group given, in that order.
pub fn load(dir: &Path, groups: &[&str]) -> Result<Problem> {
    let yaml_path = dir.join("problem.yaml");
    let text = fs::read_to_string(&yaml_path)
        .with_context(|| format!("reading {}", yaml_path.display()))?;
    let yaml: ProblemYaml = if text.trim().is_empty() {
        ProblemYaml::default()
    } else {
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", yaml_path.display()))?
    };

    let name = problem_name(dir, yaml.name.as_ref());
    let limits = limits(dir, &yaml.limits)?;
    let checker = checker_from_flags(yaml.validator_flags.as_deref().unwrap_or(""))
        .with_context(|| format!("validator_flags in {}", yaml_path.display()))?;

    let mut tests = Vec::new();
    for group in groups {
        tests.extend(load_tests(&dir.join("data").join(group), group)?);
    }
    if tests.is_empty() {
        bail!(
            "problem {} has no tests: add data/secret/NAME.in with a matching NAME.ans",
            dir.display()
        );
    }
    Ok(Problem {
        name,
        limits,
        checker,
        tests,
    })
}

fn problem_name(dir: &Path, name: Option<&serde_yaml::Value>) -> String {
    let short = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    match name {
        Some(serde_yaml::Value::String(name)) => name.clone(),
        // The 2023-07 format maps language codes to names.
        Some(serde_yaml::Value::Mapping(names)) => names
            .get("en")
            .or_else(|| names.values().next())
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or(short),
        _ => short,
    }
}

fn limits(dir: &Path, yaml: &LimitsYaml) -> Result<Limits> {
    let legacy = dir.join(".timelimit");
    let seconds = match yaml.time_limit {
        Some(seconds) => seconds,
        None if legacy.is_file() => {
            let text = fs::read_to_string(&legacy)?;
            text.trim()
                .parse::<f64>()
                .with_context(|| format!("{} must hold a number of seconds", legacy.display()))?
        }
        None => DEFAULT_TIME_LIMIT_SECONDS,
    };
    if !(seconds > 0.0 && seconds <= 60.0) {
        bail!("limits.time_limit is {seconds}: it must be between 0 and 60 seconds");
    }
    let mib = 1024 * 1024;
    Ok(Limits {
        cpu_time_ms: (seconds * 1000.0).round() as u32,
        wall_time_ms: 0,
        memory_bytes: yaml.memory.unwrap_or(DEFAULT_MEMORY_MIB) * mib,
        max_processes: 0,
        output_bytes: yaml.output.map(|o| o * mib).unwrap_or(0),
    })
}

/// Builds a checker from problemtools-style validator flags: tokens
/// compared case-insensitively by default, `case_sensitive`,
/// `space_change_sensitive` (exact bytes), and the `float_tolerance`,
/// `float_absolute_tolerance` and `float_relative_tolerance` numbers.
pub fn checker_from_flags(flags: &str) -> Result<Checker> {
    let mut words = flags.split_whitespace();
    let mut case_sensitive = false;
    let mut space_sensitive = false;
    let mut absolute = None;
    let mut relative = None;
    while let Some(word) = words.next() {
        let mut number = |flag: &str| -> Result<f64> {
            let value = words
                .next()
                .with_context(|| format!("{flag} needs a number after it"))?;
            value
                .parse::<f64>()
                .with_context(|| format!("{flag} {value}: not a number"))
        };
        match word {
            "case_sensitive" => case_sensitive = true,
            "space_change_sensitive" => space_sensitive = true,
            "float_tolerance" => {
                let tolerance = number(word)?;
                absolute = Some(tolerance);
                relative = Some(tolerance);
            }
            "float_absolute_tolerance" => absolute = Some(number(word)?),
            "float_relative_tolerance" => relative = Some(number(word)?),
            other => bail!("unknown validator flag {other:?}"),
        }
    }
    let kind = if absolute.is_some() || relative.is_some() {
        checker::Kind::Float(FloatChecker {
            absolute_tolerance: absolute.unwrap_or(0.0),
            relative_tolerance: relative.unwrap_or(0.0),
        })
    } else if space_sensitive {
        checker::Kind::Exact(Default::default())
    } else {
        checker::Kind::Tokens(TokensChecker { case_sensitive })
    };
    Ok(Checker { kind: Some(kind) })
}

/// Reads `NAME.in` / `NAME.ans` pairs from one directory, sorted by name.
/// A missing directory has no tests; an input without an answer is an error.
pub fn load_tests(dir: &Path, group: &str) -> Result<Vec<TestCase>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut inputs = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "in") {
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            inputs.insert(stem, path);
        }
    }
    let mut tests = Vec::new();
    for (stem, input_path) in inputs {
        let answer_path = input_path.with_extension("ans");
        let input =
            fs::read(&input_path).with_context(|| format!("reading {}", input_path.display()))?;
        let expected_output = fs::read(&answer_path).with_context(|| {
            format!(
                "reading {}: every .in file needs a matching .ans file",
                answer_path.display()
            )
        })?;
        tests.push(TestCase {
            name: format!("{group}/{stem}"),
            input,
            expected_output,
            points: 0,
        });
    }
    Ok(tests)
}

/// Lists the files under `submissions/<folder>/` for every folder whose
/// name is a known verdict, sorted by path.
pub fn reference_submissions(dir: &Path) -> Result<Vec<ReferenceSubmission>> {
    let root = dir.join("submissions");
    let mut found = Vec::new();
    let folders = match fs::read_dir(&root) {
        Ok(folders) => folders,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(err) => return Err(err).with_context(|| format!("reading {}", root.display())),
    };
    for folder in folders {
        let folder = folder?.path();
        let name = folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(expected) = expected_verdict(&name) else {
            tracing::warn!(folder = %folder.display(), "skipping submissions folder with an unknown verdict name");
            continue;
        };
        for file in fs::read_dir(&folder)? {
            let path = file?.path();
            if path.is_file() {
                found.push(ReferenceSubmission { path, expected });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_default_to_case_insensitive_tokens() {
        let checker = checker_from_flags("").unwrap();
        assert_eq!(
            checker.kind,
            Some(checker::Kind::Tokens(TokensChecker {
                case_sensitive: false
            }))
        );
    }

    #[test]
    fn float_tolerance_sets_both_tolerances() {
        let checker = checker_from_flags("float_tolerance 1e-6").unwrap();
        assert_eq!(
            checker.kind,
            Some(checker::Kind::Float(FloatChecker {
                absolute_tolerance: 1e-6,
                relative_tolerance: 1e-6
            }))
        );
    }

    #[test]
    fn unknown_flag_is_rejected() {
        let err = checker_from_flags("float_tolerance 1e-6 bogus").unwrap_err();
        assert!(err.to_string().contains("bogus"), "got: {err}");
    }

    #[test]
    fn missing_tolerance_number_is_rejected() {
        let err = checker_from_flags("float_tolerance").unwrap_err();
        assert!(err.to_string().contains("needs a number"), "got: {err}");
    }

    #[test]
    fn folder_names_map_to_verdicts() {
        assert_eq!(expected_verdict("accepted"), Some(Verdict::Accepted));
        assert_eq!(
            expected_verdict("run_time_error"),
            Some(Verdict::RuntimeError)
        );
        assert_eq!(expected_verdict("partially_accepted"), None);
    }

    #[test]
    fn load_reads_limits_and_tests() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("problem.yaml"),
            "name: Demo\nlimits:\n  time_limit: 1.5\n  memory: 64\n",
        )
        .unwrap();
        let secret = dir.path().join("data/secret");
        fs::create_dir_all(&secret).unwrap();
        fs::write(secret.join("1.in"), "1 2\n").unwrap();
        fs::write(secret.join("1.ans"), "3\n").unwrap();

        let problem = load(dir.path(), &["secret"]).unwrap();
        assert_eq!(problem.name, "Demo");
        assert_eq!(problem.limits.cpu_time_ms, 1500);
        assert_eq!(problem.limits.memory_bytes, 64 * 1024 * 1024);
        assert_eq!(problem.tests.len(), 1);
        assert_eq!(problem.tests[0].name, "secret/1");
    }

    #[test]
    fn input_without_answer_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("1.in"), "1\n").unwrap();
        let err = load_tests(dir.path(), "secret").unwrap_err();
        assert!(format!("{err:#}").contains("1.ans"), "got: {err:#}");
    }
}
