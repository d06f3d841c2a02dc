//! The `manifest.toml` format, its parsing into [`Langpack`] and the checks
//! every manifest must pass.
//!
//! Units are in the key names: `_secs`, `_ms` and `_mib` (2^20 bytes).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::Deserialize;

use crate::template::{self, StepKind};
use crate::{Allowances, CompileLimits, Langpack, LangpackError, SelfTest, Step};

const MIB: u64 = 1 << 20;

/// One language folder as embedded by the build script.
pub(crate) struct EmbeddedPack {
    /// Folder name, which must equal the manifest's `id`.
    pub(crate) dir: &'static str,
    pub(crate) manifest: &'static str,
    /// Contents of `packages.txt`, `None` when the file is missing.
    pub(crate) packages: Option<&'static str>,
    /// `(file name, contents)` of every file in `selftest/`.
    pub(crate) self_test_files: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    id: String,
    name: String,
    source_file: String,
    extensions: Vec<String>,
    version_command: Vec<String>,
    compile: Option<StepManifest>,
    #[serde(default)]
    compile_limits: Option<CompileLimitsManifest>,
    #[serde(default)]
    artifacts: Vec<String>,
    run: StepManifest,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    binds: Vec<String>,
    #[serde(default)]
    allowances: AllowancesManifest,
    #[serde(default)]
    out_of_memory_markers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepManifest {
    argv: Vec<String>,
    /// Only in `[compile]`: the step checks syntax and the language has no
    /// separate compile step.
    #[serde(default)]
    syntax_check_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompileLimitsManifest {
    cpu_time_secs: u64,
    wall_time_secs: u64,
    memory_mib: u64,
    max_processes: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowancesManifest {
    #[serde(default)]
    extra_memory_mib: u64,
    #[serde(default)]
    extra_time_ms: u64,
    #[serde(default)]
    min_processes: u32,
}

/// Parses and validates one embedded language folder.
pub(crate) fn parse_pack(embedded: &EmbeddedPack) -> Result<Langpack, LangpackError> {
    let invalid = |reason: String| LangpackError::InvalidManifest {
        id: embedded.dir.to_owned(),
        reason,
    };

    let manifest: Manifest = toml::from_str(embedded.manifest)
        .map_err(|err| invalid(format!("manifest.toml does not parse: {err}")))?;
    validate_manifest(embedded.dir, &manifest).map_err(invalid)?;

    let packages = embedded
        .packages
        .ok_or_else(|| invalid("packages.txt is missing".to_owned()))?;
    let debian_packages = parse_packages(packages).map_err(invalid)?;
    let self_test = self_test(&manifest, embedded.self_test_files).map_err(invalid)?;

    Ok(into_langpack(manifest, debian_packages, self_test))
}

/// Checks the whole set: ids and extensions must each belong to one
/// language, or a request or a submission file would be ambiguous.
pub(crate) fn validate_set(packs: &[Langpack]) -> Result<(), LangpackError> {
    let mut ids: HashMap<&str, ()> = HashMap::new();
    let mut extensions: HashMap<&str, &str> = HashMap::new();
    for pack in packs {
        if ids.insert(&pack.id, ()).is_some() {
            return Err(LangpackError::InvalidManifest {
                id: pack.id.clone(),
                reason: "another langpack has the same id".to_owned(),
            });
        }
        for extension in &pack.extensions {
            if let Some(owner) = extensions.insert(extension, &pack.id) {
                return Err(LangpackError::InvalidManifest {
                    id: pack.id.clone(),
                    reason: format!(
                        "extension `{extension}` is also claimed by langpack `{owner}`"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn validate_manifest(dir: &str, manifest: &Manifest) -> Result<(), String> {
    validate_identity(dir, manifest)?;

    template::validate_argv(&manifest.version_command, StepKind::Run)
        .map_err(|reason| format!("version_command: {reason}"))?;
    template::validate_argv(&manifest.run.argv, StepKind::Run)
        .map_err(|reason| format!("run.argv: {reason}"))?;
    if manifest.run.syntax_check_only {
        return Err("run.syntax_check_only: only a [compile] step can be a syntax check".into());
    }
    if let Some(compile) = &manifest.compile {
        template::validate_argv(&compile.argv, StepKind::Compile)
            .map_err(|reason| format!("compile.argv: {reason}"))?;
        validate_compile_outputs(manifest)?;
    }

    validate_environment(manifest)
}

fn validate_identity(dir: &str, manifest: &Manifest) -> Result<(), String> {
    if manifest.id != dir {
        return Err(format!(
            "id `{}` differs from its folder name `{dir}`",
            manifest.id
        ));
    }
    let id_chars_ok = manifest
        .id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if manifest.id.is_empty() || !id_chars_ok {
        return Err(format!(
            "id `{}` must be non-empty and use only a-z, 0-9, `_` and `-`",
            manifest.id
        ));
    }
    if manifest.name.trim().is_empty() {
        return Err("name is empty".to_owned());
    }

    if manifest.extensions.is_empty() {
        return Err("extensions is empty".to_owned());
    }
    for extension in &manifest.extensions {
        if extension.is_empty() || extension.contains(['.', '/']) {
            return Err(format!(
                "extension `{extension}` must be non-empty and contain no `.` or `/`"
            ));
        }
    }

    let source_file = &manifest.source_file;
    if source_file.is_empty() || source_file.contains('/') || source_file.starts_with('.') {
        return Err(format!(
            "source_file `{source_file}` must be a plain file name"
        ));
    }
    let source_extension = source_file.rsplit_once('.').map(|(_, extension)| extension);
    if !source_extension.is_some_and(|found| manifest.extensions.iter().any(|e| e == found)) {
        return Err(format!(
            "source_file `{source_file}` must end in one of the extensions {:?}",
            manifest.extensions
        ));
    }
    Ok(())
}

fn validate_compile_outputs(manifest: &Manifest) -> Result<(), String> {
    let Some(limits) = &manifest.compile_limits else {
        return Err("a compile step needs a [compile_limits] table".to_owned());
    };
    if limits.cpu_time_secs == 0
        || limits.wall_time_secs == 0
        || limits.memory_mib == 0
        || limits.max_processes == 0
    {
        return Err("every compile limit must be greater than zero".to_owned());
    }

    // Runs start from an empty work dir plus the artifacts, so a compile
    // step that keeps nothing would leave the run with nothing to execute.
    if manifest.artifacts.is_empty() {
        return Err("a compile step needs at least one artifact".to_owned());
    }
    for artifact in &manifest.artifacts {
        if artifact.is_empty() || artifact.contains('/') || artifact == "." || artifact == ".." {
            return Err(format!(
                "artifact `{artifact}` must be a file name or `*` pattern in the work dir"
            ));
        }
    }
    Ok(())
}

fn validate_environment(manifest: &Manifest) -> Result<(), String> {
    if !manifest.env.contains_key("PATH") {
        return Err("env must set PATH".to_owned());
    }
    for key in manifest.env.keys() {
        if key.is_empty() || key.contains(['=', '\0']) {
            return Err(format!("env key `{key}` must be non-empty without `=`"));
        }
    }
    for bind in &manifest.binds {
        if !bind.starts_with('/') || bind.split('/').any(|part| part == "..") {
            return Err(format!(
                "bind `{bind}` must be an absolute path without `..`"
            ));
        }
    }
    for marker in &manifest.out_of_memory_markers {
        if marker.trim().is_empty() {
            return Err("out_of_memory_markers has an empty entry".to_owned());
        }
    }
    Ok(())
}

/// Parses `packages.txt`, which has one Debian package name a line. Blank
/// lines and lines starting with `#` are skipped.
fn parse_packages(text: &str) -> Result<Vec<String>, String> {
    let mut packages = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Debian Policy Manual, section 5.6.1 (Source): lowercase letters,
        // digits, `+`, `-` and `.`, at least two characters, starting with
        // a letter or digit.
        let starts_ok = line.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        let chars_ok = line
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        if line.len() < 2 || !starts_ok || !chars_ok {
            return Err(format!(
                "packages.txt: `{line}` is not a valid Debian package name"
            ));
        }
        packages.push(line.to_owned());
    }
    if packages.is_empty() {
        return Err("packages.txt lists no package".to_owned());
    }
    Ok(packages)
}

/// Collects the self-test: `selftest/<source_file>`, `input.txt`,
/// `expected.txt`, and for languages with a compile step
/// `compile_error.<extension of source_file>`.
fn self_test(manifest: &Manifest, files: &[(&str, &str)]) -> Result<SelfTest, String> {
    let find = |name: &str| {
        files
            .iter()
            .find(|(file_name, _)| *file_name == name)
            .map(|(_, text)| text.to_string())
    };
    let require = |name: &str| find(name).ok_or_else(|| format!("selftest/{name} is missing"));

    let source = require(&manifest.source_file)?;
    let input = require("input.txt")?;
    let expected = require("expected.txt")?;

    let extension = manifest
        .source_file
        .rsplit_once('.')
        .map_or("", |(_, extension)| extension);
    let compile_error_name = format!("compile_error.{extension}");
    let compile_error_source = match &manifest.compile {
        Some(_) => Some(require(&compile_error_name)?),
        None => find(&compile_error_name),
    };

    Ok(SelfTest {
        source,
        input,
        expected,
        compile_error_source,
    })
}

fn into_langpack(
    manifest: Manifest,
    debian_packages: Vec<String>,
    self_test: SelfTest,
) -> Langpack {
    // A language without a compile step never uses its compile limits, so
    // zeros are harmless there and make a misuse visible.
    let compile_limits = match manifest.compile_limits {
        Some(limits) => CompileLimits {
            cpu_time: Duration::from_secs(limits.cpu_time_secs),
            wall_time: Duration::from_secs(limits.wall_time_secs),
            memory_bytes: limits.memory_mib * MIB,
            max_processes: limits.max_processes,
        },
        None => CompileLimits {
            cpu_time: Duration::ZERO,
            wall_time: Duration::ZERO,
            memory_bytes: 0,
            max_processes: 0,
        },
    };

    Langpack {
        id: manifest.id,
        name: manifest.name,
        source_file: manifest.source_file,
        extensions: manifest.extensions,
        version_command: manifest.version_command,
        compile_checks_syntax_only: manifest
            .compile
            .as_ref()
            .is_some_and(|step| step.syntax_check_only),
        compile: manifest.compile.map(|step| Step { argv: step.argv }),
        compile_limits,
        artifacts: manifest.artifacts,
        run: Step {
            argv: manifest.run.argv,
        },
        env: manifest.env.into_iter().collect(),
        binds: manifest.binds,
        allowances: Allowances {
            extra_memory_bytes: manifest.allowances.extra_memory_mib * MIB,
            extra_time: Duration::from_millis(manifest.allowances.extra_time_ms),
            min_processes: manifest.allowances.min_processes,
        },
        out_of_memory_markers: manifest.out_of_memory_markers,
        debian_packages,
        self_test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::EmbeddedPack;

    const GOOD_MANIFEST: &str = r#"
        id = "toy"
        name = "Toy"
        source_file = "main.toy"
        extensions = ["toy"]
        version_command = ["/usr/bin/toyc", "--version"]
        artifacts = ["main"]

        [compile]
        argv = ["/usr/bin/toyc", "-o", "main", "{sources}"]

        [compile_limits]
        cpu_time_secs = 30
        wall_time_secs = 60
        memory_mib = 1024
        max_processes = 64

        [run]
        argv = ["./main"]

        [env]
        PATH = "/usr/bin:/bin"
    "#;

    const SELF_TEST: &[(&str, &str)] = &[
        ("main.toy", "print 1"),
        ("input.txt", ""),
        ("expected.txt", "1\n"),
        ("compile_error.toy", "print"),
    ];

    fn embedded(manifest: &'static str) -> EmbeddedPack {
        EmbeddedPack {
            dir: "toy",
            manifest,
            packages: Some("toyc\n"),
            self_test_files: SELF_TEST,
        }
    }

    /// Returns the good manifest with `from` replaced by `to`, leaked so
    /// that it fits `EmbeddedPack`'s `'static` fields.
    fn edited(from: &str, to: &str) -> &'static str {
        assert!(GOOD_MANIFEST.contains(from), "test edit {from:?} not found");
        Box::leak(GOOD_MANIFEST.replacen(from, to, 1).into_boxed_str())
    }

    fn reason_of(pack: &EmbeddedPack) -> String {
        match parse_pack(pack) {
            Ok(parsed) => panic!("expected an invalid manifest, got {parsed:?}"),
            Err(LangpackError::InvalidManifest { reason, .. }) => reason,
        }
    }

    #[test]
    fn good_manifest_parses_with_units() {
        let pack = parse_pack(&embedded(GOOD_MANIFEST)).expect("good manifest parses");

        assert_eq!(
            pack.compile_limits.memory_bytes,
            1024 * MIB,
            "compile memory in bytes"
        );
        assert_eq!(
            pack.compile_limits.wall_time,
            Duration::from_secs(60),
            "compile wall time"
        );
        assert_eq!(
            pack.debian_packages,
            vec!["toyc".to_owned()],
            "packages.txt lines"
        );
        assert_eq!(
            pack.self_test.compile_error_source.as_deref(),
            Some("print"),
            "compile_error.toy contents"
        );
    }

    #[test]
    fn manifest_rejects_unknown_key() {
        let manifest = edited("name = \"Toy\"", "name = \"Toy\"\nnmae = \"typo\"");

        let reason = reason_of(&embedded(manifest));

        assert!(
            reason.contains("nmae"),
            "expected the unknown key named, got: {reason}"
        );
    }

    #[test]
    fn manifest_rejects_unknown_placeholder() {
        let manifest = edited("\"./main\"", "\"./{binary}\"");

        let reason = reason_of(&embedded(manifest));

        assert!(
            reason.contains("{binary}"),
            "expected the placeholder named, got: {reason}"
        );
    }

    #[test]
    fn manifest_rejects_empty_run_argv() {
        let manifest = edited("argv = [\"./main\"]", "argv = []");

        let reason = reason_of(&embedded(manifest));

        assert!(
            reason.contains("run.argv"),
            "expected run.argv named, got: {reason}"
        );
    }

    #[test]
    fn manifest_rejects_id_unlike_folder() {
        let manifest = edited("id = \"toy\"", "id = \"other\"");

        let reason = reason_of(&embedded(manifest));

        assert!(
            reason.contains("folder name"),
            "expected the folder named, got: {reason}"
        );
    }

    #[test]
    fn manifest_rejects_source_without_extension() {
        let manifest = edited("source_file = \"main.toy\"", "source_file = \"main.c\"");

        let reason = reason_of(&embedded(manifest));

        assert!(
            reason.contains("main.c"),
            "expected the source file named, got: {reason}"
        );
    }

    #[test]
    fn compile_step_needs_compile_error_test() {
        let pack = EmbeddedPack {
            self_test_files: &SELF_TEST[..3],
            ..embedded(GOOD_MANIFEST)
        };

        let reason = reason_of(&pack);

        assert!(
            reason.contains("compile_error.toy"),
            "expected the missing file named, got: {reason}"
        );
    }

    #[test]
    fn missing_packages_file_is_invalid() {
        let pack = EmbeddedPack {
            packages: None,
            ..embedded(GOOD_MANIFEST)
        };

        let reason = reason_of(&pack);

        assert!(
            reason.contains("packages.txt"),
            "expected packages.txt named, got: {reason}"
        );
    }

    #[test]
    fn packages_skip_comments_and_reject_bad_names() {
        let good = parse_packages("# compiler\ngcc\n\nlibc6-dev\n");
        let bad = parse_packages("gcc\nLibC6\n");

        assert_eq!(
            good,
            Ok(vec!["gcc".to_owned(), "libc6-dev".to_owned()]),
            "comments and blank lines skipped"
        );
        assert!(
            bad.is_err(),
            "expected an uppercase name to be rejected, got {bad:?}"
        );
    }

    #[test]
    fn set_rejects_duplicate_extension() {
        let first = parse_pack(&embedded(GOOD_MANIFEST)).expect("good manifest parses");
        let mut second = first.clone();
        second.id = "toy2".to_owned();

        let result = validate_set(&[first, second]);

        let Err(LangpackError::InvalidManifest { id, reason }) = result else {
            panic!("expected a duplicate extension to be rejected");
        };
        assert_eq!(id, "toy2", "the later langpack is blamed");
        assert!(
            reason.contains("`toy`"),
            "expected the extension named, got: {reason}"
        );
    }

    #[test]
    fn set_rejects_duplicate_id() {
        let first = parse_pack(&embedded(GOOD_MANIFEST)).expect("good manifest parses");
        let mut second = first.clone();
        second.extensions = vec!["toy2".to_owned()];

        let result = validate_set(&[first, second]);

        assert!(result.is_err(), "expected a duplicate id to be rejected");
    }
}
