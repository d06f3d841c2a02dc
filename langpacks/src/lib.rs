//! Language packs: for each language, how to compile and run a program,
//! which Debian packages it needs, its per-language allowances and its
//! self-test.
//!
//! Every `langpacks/<id>/manifest.toml` is embedded at build time, so the
//! binary needs no files at run time. This crate only describes languages;
//! running anything is the worker's and the sandbox's job.

// CONTRACT (the rest of the workspace is written against these types).

use std::time::Duration;

/// One compile or run step. Argument templates may contain:
/// `{main}` (the main source file name, such as `main.cpp`),
/// `{stem}` (that name without its extension, such as `Main`),
/// `{sources}` (expands to one argument per source file),
/// `{memory_mb}` (the run's memory limit in MiB, for `-Xmx`-style flags).
#[derive(Debug, Clone)]
pub struct Step {
    pub argv: Vec<String>,
}

/// Extra resources a language needs on top of the problem's limits.
#[derive(Debug, Clone, Default)]
pub struct Allowances {
    /// Added to the memory limit of each run (a JVM's heap reservation).
    pub extra_memory_bytes: u64,
    /// Added to the CPU and wall time limits of each run (start-up time).
    pub extra_time: Duration,
    /// The process limit is raised to at least this (JVM threads).
    pub min_processes: u32,
}

/// Limits of the compile step; the compiler is trusted code but still runs
/// in the sandbox.
#[derive(Debug, Clone)]
pub struct CompileLimits {
    pub cpu_time: Duration,
    pub wall_time: Duration,
    pub memory_bytes: u64,
    pub max_processes: u32,
}

/// A self-test: a program that reads `input` and must print `expected`,
/// and, for compiled languages, a program that must fail to compile.
#[derive(Debug, Clone)]
pub struct SelfTest {
    pub source: String,
    pub input: String,
    pub expected: String,
    pub compile_error_source: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Langpack {
    /// Stable id used in requests, such as `cpp17`.
    pub id: String,
    pub name: String,
    /// Default main file name, such as `main.cpp` or `Main.java`.
    pub source_file: String,
    /// File extensions (without the dot) that map to this language when a
    /// problem's submission files are graded.
    pub extensions: Vec<String>,
    /// Command that prints the language's version, run on the host.
    pub version_command: Vec<String>,
    /// `None` when the language has no separate compile step.
    pub compile: Option<Step>,
    pub compile_limits: CompileLimits,
    /// Files kept from the compile step's work dir (names or `*` patterns)
    /// and placed in the work dir of every run.
    pub artifacts: Vec<String>,
    pub run: Step,
    /// Environment of compile and run steps (PATH, HOME, LANG and
    /// language-specific variables).
    pub env: Vec<(String, String)>,
    /// Host paths bound read-only into the sandbox in addition to the
    /// default system directories, such as `/etc/alternatives`.
    pub binds: Vec<String>,
    pub allowances: Allowances,
    pub debian_packages: Vec<String>,
    pub self_test: SelfTest,
}

#[derive(Debug, thiserror::Error)]
pub enum LangpackError {
    #[error("langpack {id}: invalid manifest: {reason}")]
    InvalidManifest { id: String, reason: String },
}

/// Every embedded langpack, sorted by id.
pub fn all() -> Vec<Langpack> {
    Vec::new()
}

/// The langpack with this id.
pub fn get(id: &str) -> Option<Langpack> {
    all().into_iter().find(|pack| pack.id == id)
}

/// The langpack for a file extension (without the dot), such as `py`.
pub fn for_extension(extension: &str) -> Option<Langpack> {
    all()
        .into_iter()
        .find(|pack| pack.extensions.iter().any(|e| e == extension))
}

impl Langpack {
    /// The compile command for these source file names, or `None` when the
    /// language has no compile step.
    pub fn compile_argv(&self, _sources: &[String]) -> Option<Vec<String>> {
        todo!()
    }

    /// The run command for this main file and memory limit in bytes.
    pub fn run_argv(&self, _sources: &[String], _memory_bytes: u64) -> Vec<String> {
        todo!()
    }

    /// Runs the version command on the host; `None` when the language's
    /// tools are missing here.
    pub fn host_version(&self) -> Option<String> {
        todo!()
    }
}
