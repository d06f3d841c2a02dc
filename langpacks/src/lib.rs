//! Language packs: for each language, how to compile and run a program,
//! which Debian packages it needs, its per-language allowances and its
//! self-test.
//!
//! Every `langpacks/<id>/manifest.toml` is embedded at build time, so the
//! binary needs no files at run time. This crate only describes languages;
//! running anything is the worker's and the sandbox's job.

use std::sync::OnceLock;
use std::time::Duration;

mod host;

pub use host::version_line;
mod manifest;
mod template;

use manifest::EmbeddedPack;

// `EMBEDDED`: one entry per `langpacks/<id>/manifest.toml`, written by
// build.rs.
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Time the version command may take before it is killed.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

const MIB: u64 = 1 << 20;

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
    /// `None` when the language has neither a compile step nor a syntax
    /// check.
    pub compile: Option<Step>,
    /// True when `compile` only checks syntax (the language has no separate
    /// compile step, and runs execute the sources): a syntax error is then
    /// still CE, not RE on every test.
    pub compile_checks_syntax_only: bool,
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
    /// Substrings of stderr that mean the program exhausted a memory limit
    /// of the language runtime itself, such as the JVM's `-Xmx`. The JVM
    /// throws `OutOfMemoryError` and exits 1 before the sandbox's memory
    /// limit is reached, so without these the verdict would be RE, not MLE.
    pub out_of_memory_markers: Vec<String>,
    pub debian_packages: Vec<String>,
    pub self_test: SelfTest,
}

#[derive(Debug, thiserror::Error)]
pub enum LangpackError {
    #[error("langpack {id}: invalid manifest: {reason}")]
    InvalidManifest { id: String, reason: String },
}

/// Returns every embedded langpack, sorted by id.
///
/// # Panics
///
/// Panics when an embedded manifest is invalid. The manifests are fixed at
/// build time and this crate's tests parse and validate every one, so this
/// only happens in a build whose tests were not run. [`try_all`] returns
/// the error instead.
pub fn all() -> Vec<Langpack> {
    static PACKS: OnceLock<Vec<Langpack>> = OnceLock::new();
    PACKS
        .get_or_init(|| {
            try_all().unwrap_or_else(|err| panic!("embedded langpack is invalid: {err}"))
        })
        .clone()
}

/// Parses and validates every embedded langpack, sorted by id.
pub fn try_all() -> Result<Vec<Langpack>, LangpackError> {
    let mut packs = EMBEDDED
        .iter()
        .map(manifest::parse_pack)
        .collect::<Result<Vec<_>, _>>()?;
    packs.sort_by(|a, b| a.id.cmp(&b.id));
    manifest::validate_set(&packs)?;
    Ok(packs)
}

/// Finds the langpack with this id.
pub fn get(id: &str) -> Option<Langpack> {
    all().into_iter().find(|pack| pack.id == id)
}

/// Collects the sorted union, without duplicates, of the Debian packages that
/// `packs` need (their `packages.txt` files).
pub fn debian_packages(packs: &[Langpack]) -> Vec<String> {
    let mut packages: Vec<String> = packs
        .iter()
        .flat_map(|pack| pack.debian_packages.iter().cloned())
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// Finds the langpack for a file extension (without the dot), such as `py`.
pub fn for_extension(extension: &str) -> Option<Langpack> {
    all()
        .into_iter()
        .find(|pack| pack.extensions.iter().any(|e| e == extension))
}

impl Langpack {
    /// Builds the compile command for these source file names, or `None` when the
    /// language has no compile step. The first source is the main file, and
    /// an empty list stands for `source_file` alone.
    pub fn compile_argv(&self, sources: &[String]) -> Option<Vec<String>> {
        let step = self.compile.as_ref()?;
        let sources = self.sources_or_default(sources);
        let values = template::Values {
            sources: &sources,
            memory_mb: None,
        };
        Some(template::expand(&step.argv, &values))
    }

    /// Builds the run command for this main file and memory limit in bytes.
    ///
    /// The first source is the main file, and an empty list stands for
    /// `source_file` alone. `memory_bytes` is the problem's limit without
    /// the language's allowance: `{memory_mb}` sizes a runtime's own heap
    /// (`-Xmx`), and the allowance on top of it leaves the sandbox's limit
    /// room for the runtime's other memory. It is rounded down to whole
    /// MiB, with at least 1.
    pub fn run_argv(&self, sources: &[String], memory_bytes: u64) -> Vec<String> {
        let sources = self.sources_or_default(sources);
        let values = template::Values {
            sources: &sources,
            memory_mb: Some((memory_bytes / MIB).max(1)),
        };
        template::expand(&self.run.argv, &values)
    }

    /// Runs the version command on the host; `None` when the language's
    /// tools are missing here.
    ///
    /// The command runs with the langpack's `env` only and is killed after
    /// 10 s. The result is the first non-empty line of stdout, or of stderr
    /// when stdout is empty. A command that fails, exits non-zero or times
    /// out also gives `None`, with a warning in the log.
    pub fn host_version(&self) -> Option<String> {
        host::first_output_line(&self.id, &self.version_command, &self.env, VERSION_TIMEOUT)
    }

    /// Returns whether a program's stderr shows that it ran out of memory
    /// inside the language runtime (see `out_of_memory_markers`).
    pub fn stderr_shows_out_of_memory(&self, stderr: &[u8]) -> bool {
        let stderr = String::from_utf8_lossy(stderr);
        self.out_of_memory_markers
            .iter()
            .any(|marker| stderr.contains(marker.as_str()))
    }

    /// Returns whether a file left in the compile step's work dir is one of
    /// the `artifacts`. In a pattern, `*` matches any run of characters,
    /// including none, and every other character matches itself.
    pub fn is_artifact(&self, file_name: &str) -> bool {
        self.artifacts
            .iter()
            .any(|pattern| wildcard_match(pattern, file_name))
    }

    fn sources_or_default(&self, sources: &[String]) -> Vec<String> {
        if sources.is_empty() {
            vec![self.source_file.clone()]
        } else {
            sources.to_vec()
        }
    }
}

/// Matches `text` against `pattern`, where `*` matches any run of
/// characters. Runs in O(pattern × text) time by keeping only the last
/// `*` seen, the standard greedy algorithm with backtracking.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position of the last `*` in the pattern and the text position it
    // was tried at.
    let mut star: Option<(usize, usize)> = None;

    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            // Let the last `*` absorb one more character and retry.
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    fn pack(id: &str) -> Langpack {
        get(id).unwrap_or_else(|| panic!("expected an embedded langpack `{id}`"))
    }

    #[test]
    fn embedded_manifests_parse_and_validate() {
        let result = try_all();

        assert!(
            result.is_ok(),
            "expected every manifest to be valid, got {result:?}"
        );
    }

    #[test]
    fn required_languages_are_embedded() {
        let ids: Vec<String> = all().into_iter().map(|pack| pack.id).collect();

        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "embedded ids must be sorted");
        for required in ["c", "cpp17", "java", "javascript", "python3"] {
            assert!(
                ids.iter().any(|id| id == required),
                "{required} missing from {ids:?}"
            );
        }
    }

    #[test]
    fn every_pack_has_self_test_files() {
        for pack in all() {
            assert!(
                !pack.self_test.source.is_empty(),
                "{}: empty self-test source",
                pack.id
            );
            assert!(
                !pack.self_test.expected.is_empty(),
                "{}: empty expected output",
                pack.id
            );
            assert!(
                pack.self_test.compile_error_source.is_some(),
                "{}: every embedded pack has a compile step, so a compile_error file",
                pack.id
            );
        }
    }

    #[test]
    fn extension_lookup_finds_language() {
        let cases = [
            ("c", "c"),
            ("cc", "cpp17"),
            ("py", "python3"),
            ("java", "java"),
            ("js", "javascript"),
        ];
        for (extension, expected) in cases {
            let found = for_extension(extension).map(|pack| pack.id);

            assert_eq!(
                found.as_deref(),
                Some(expected),
                "language for .{extension}"
            );
        }
        assert!(
            for_extension("no-such-extension").is_none(),
            "expected no language for .no-such-extension"
        );
    }

    #[test]
    fn debian_packages_are_sorted_union() {
        let packs = [pack("cpp17"), pack("c"), pack("cpp17")];

        let packages = debian_packages(&packs);

        let mut expected: Vec<String> = pack("c")
            .debian_packages
            .into_iter()
            .chain(pack("cpp17").debian_packages)
            .collect();
        expected.sort();
        expected.dedup();
        assert_eq!(packages, expected, "sorted union of c and cpp17");
    }

    #[test]
    fn c_compile_lists_every_source() {
        let sources = strings(&["main.c", "util.c"]);

        let argv = pack("c").compile_argv(&sources);

        assert_eq!(
            argv,
            Some(strings(&[
                "/usr/bin/gcc",
                "-std=gnu17",
                "-O2",
                "-pipe",
                "-o",
                "main",
                "main.c",
                "util.c",
                "-lm"
            ])),
            "gcc command line"
        );
    }

    #[test]
    fn java_run_uses_stem_and_heap() {
        let sources = strings(&["SumFast.java"]);

        let argv = pack("java").run_argv(&sources, 256 * MIB);

        assert_eq!(
            argv,
            strings(&[
                "/usr/bin/java",
                "-Xmx256m",
                "-Xss64m",
                "-XX:+UseSerialGC",
                "-XX:-UsePerfData",
                "-cp",
                ".",
                "SumFast"
            ]),
            "java command line"
        );
    }

    #[test]
    fn run_memory_rounds_down_to_mib() {
        let javascript = pack("javascript");

        let rounded = javascript.run_argv(&strings(&["a.js"]), 300 * MIB + 5);
        let tiny = javascript.run_argv(&strings(&["a.js"]), 1000);

        assert_eq!(rounded[1], "--max-old-space-size=300", "300 MiB + 5 bytes");
        assert_eq!(tiny[1], "--max-old-space-size=1", "less than 1 MiB");
    }

    #[test]
    fn empty_sources_mean_default_file() {
        let python = pack("python3");

        let compile = python.compile_argv(&[]);
        let run = python.run_argv(&[], 256 * MIB);

        assert_eq!(
            compile,
            Some(strings(&[
                "/usr/bin/python3",
                "-m",
                "py_compile",
                "main.py"
            ])),
            "compile falls back to source_file"
        );
        assert_eq!(
            run,
            strings(&["/usr/bin/python3", "main.py"]),
            "run falls back to source_file"
        );
    }

    #[test]
    fn java_allowance_is_in_bytes() {
        let allowances = pack("java").allowances;

        assert_eq!(allowances.extra_memory_bytes, 256 * MIB, "extra memory");
        assert_eq!(allowances.extra_time, Duration::from_secs(1), "extra time");
        assert_eq!(allowances.min_processes, 64, "minimum processes");
    }

    #[test]
    fn wildcard_matches_star_patterns() {
        let cases = [
            ("*.class", "Main.class", true),
            ("*.class", "Main$Inner.class", true),
            ("*.class", "Main.java", false),
            ("*.class", ".class", true),
            ("main", "main", true),
            ("main", "main.c", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*", "", true),
            ("", "x", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                wildcard_match(pattern, text),
                expected,
                "{pattern:?} against {text:?}"
            );
        }
    }

    #[test]
    fn java_keeps_class_files() {
        let java = pack("java");

        assert!(
            java.is_artifact("Main$Node.class"),
            "nested class file is kept"
        );
        assert!(
            !java.is_artifact("Main.java"),
            "source file is not an artifact"
        );
    }

    #[test]
    fn java_heap_error_means_out_of_memory() {
        let java = pack("java");
        let stderr = b"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n";

        assert!(
            java.stderr_shows_out_of_memory(stderr),
            "OutOfMemoryError is MLE"
        );
        assert!(
            !java.stderr_shows_out_of_memory(b"java.lang.NullPointerException"),
            "other exceptions are not MLE"
        );
        assert!(
            !pack("c").stderr_shows_out_of_memory(stderr),
            "C has no markers"
        );
    }
}
