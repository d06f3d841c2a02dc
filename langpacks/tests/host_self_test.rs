//! Runs every langpack's self-test directly on the host, without the
//! sandbox, to check that the manifest's commands, artifacts and env work
//! with the installed tools. The sandboxed run of the same self-tests
//! belongs to the worker.
//!
//! A language whose version command finds no tool on this host is skipped
//! with a message on stderr. The programs run are the langpacks' own
//! self-test sources, never untrusted code.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use verdict_langpacks::Langpack;

/// Generous bound for one compile or run on a slow CI machine.
const STEP_TIMEOUT: Duration = Duration::from_secs(120);
const RUN_MEMORY_BYTES: u64 = 256 << 20;

fn run_step(pack: &Langpack, argv: &[String], dir: &Path, input: &str) -> Output {
    let (program, args) = argv.split_first().expect("validated argv is non-empty");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(pack.env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{}: cannot start {argv:?}: {err}", pack.id));

    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_owned();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));

    let deadline = Instant::now() + STEP_TIMEOUT;
    while child.try_wait().expect("child can be polled").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: {argv:?} ran longer than {STEP_TIMEOUT:?}", pack.id);
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = writer.join();
    child.wait_with_output().expect("output of an exited child")
}

fn host_has_tools(pack: &Langpack) -> bool {
    match pack.host_version() {
        Some(version) => {
            eprintln!("{}: testing with {version}", pack.id);
            true
        }
        None => {
            eprintln!(
                "{}: skipped, its tools are not installed on this host",
                pack.id
            );
            false
        }
    }
}

/// Compiles `source` as the pack's main file in a fresh directory.
fn compile(pack: &Langpack, source: &str) -> (tempfile::TempDir, Option<Output>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(dir.path().join(&pack.source_file), source).expect("write source");
    let sources = vec![pack.source_file.clone()];
    let output = pack
        .compile_argv(&sources)
        .map(|argv| run_step(pack, &argv, dir.path(), ""));
    (dir, output)
}

/// Copies the compile step's artifacts into a fresh directory, as the
/// worker does for each run.
fn copy_artifacts(pack: &Langpack, compile_dir: &Path) -> tempfile::TempDir {
    let run_dir = tempfile::tempdir().expect("temporary directory");
    for entry in fs::read_dir(compile_dir).expect("list compile dir") {
        let entry = entry.expect("directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && pack.is_artifact(&name) {
            fs::copy(entry.path(), run_dir.path().join(&name)).expect("copy artifact");
        }
    }
    run_dir
}

#[test]
fn self_tests_pass_on_host() {
    for pack in verdict_langpacks::all() {
        if !host_has_tools(&pack) {
            continue;
        }

        let (compile_dir, compiled) = compile(&pack, &pack.self_test.source);
        if let Some(output) = &compiled {
            assert!(
                output.status.success(),
                "{}: expected the self-test to compile, got {} with stderr:\n{}",
                pack.id,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }

        let run_dir = copy_artifacts(&pack, compile_dir.path());
        let argv = pack.run_argv(std::slice::from_ref(&pack.source_file), RUN_MEMORY_BYTES);
        let output = run_step(&pack, &argv, run_dir.path(), &pack.self_test.input);

        assert!(
            output.status.success(),
            "{}: expected the self-test to exit 0, got {} with stderr:\n{}",
            pack.id,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            pack.self_test.expected,
            "{}: self-test output",
            pack.id
        );
    }
}

#[test]
fn compile_errors_fail_on_host() {
    for pack in verdict_langpacks::all() {
        let Some(source) = &pack.self_test.compile_error_source else {
            continue;
        };
        if !host_has_tools(&pack) {
            continue;
        }

        let (_dir, compiled) = compile(&pack, source);

        let output = compiled.expect("a pack with a compile_error file has a compile step");
        assert!(
            !output.status.success(),
            "{}: expected compile_error to fail compiling, but it exited 0",
            pack.id
        );
        assert!(
            !output.stderr.is_empty(),
            "{}: expected a compiler message on stderr, got none",
            pack.id
        );
    }
}
