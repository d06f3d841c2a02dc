//! `verdict langpacks` as a user runs it: the list with host versions, the
//! self-tests, the Debian package list, and a root image built with
//! mmdebstrap that the sandbox runs a language from.

mod common;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{binary, workspace_root};
use verdict_sandbox::{Limits, RunSpec, Sandbox, SandboxConfig, Stdin};

/// Bound on building the lua image: mmdebstrap took about 80 s here with a
/// cold apt cache.
const IMAGE_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

fn verdict(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .output()
        .expect("running the verdict binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "expected JSON on stdout ({error}), got:\n{}\nstderr:\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

fn row<'a>(rows: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    rows.as_array()
        .and_then(|rows| rows.iter().find(|row| row["id"] == id))
        .unwrap_or_else(|| panic!("expected a row for `{id}` in {rows:#}"))
}

#[test]
fn list_shows_host_versions() {
    let output = verdict(&["langpacks", "list", "--json"]);

    assert!(
        output.status.success(),
        "expected list to succeed, stderr:\n{}",
        text(&output.stderr)
    );
    let rows = json(&output);
    for id in ["c", "python3"] {
        let row = row(&rows, id);
        assert_eq!(row["available"], true, "{id} available in {row}");
        assert!(
            row["version"].as_str().is_some_and(|v| !v.is_empty()),
            "expected a version for {id}, got {row}"
        );
    }
    let python = row(&rows, "python3")["version"].as_str().unwrap_or("");
    assert!(
        python.starts_with("Python 3"),
        "expected `Python 3...`, got {python:?}"
    );
}

#[test]
fn list_table_marks_host_tools() {
    let output = verdict(&["langpacks", "list"]);

    let stdout = text(&output.stdout);
    let c_line = stdout.lines().find(|line| line.starts_with("c "));
    assert!(
        c_line.is_some_and(|line| line.trim_end().ends_with("yes")),
        "expected a `c ... yes` line, got:\n{stdout}"
    );
}

#[test]
fn test_rejects_unknown_id() {
    let output = verdict(&["langpacks", "test", "c", "no-such-language"]);

    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "expected a failure for an unknown id, stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("unknown langpack id `no-such-language`"),
        "expected the unknown id named, got:\n{stderr}"
    );
    assert!(
        stderr.contains("known ids: ") && stderr.contains("python3"),
        "expected the known ids listed, got:\n{stderr}"
    );
}

#[test]
fn test_runs_c_self_test() {
    common::require_root();

    let output = verdict(&["langpacks", "test", "c", "--json"]);

    assert!(
        output.status.success(),
        "expected the c self-test to pass, stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let rows = json(&output);
    let c = row(&rows, "c");
    assert_eq!(c["program"], "AC", "sample program verdict in {c}");
    assert_eq!(c["compile_error"], "CE", "broken program verdict in {c}");
    assert!(
        c["compile_wall_ms"].as_u64().is_some_and(|ms| ms > 0),
        "expected a compile time, got {c}"
    );
}

#[test]
fn apt_packages_sorted_with_gcc() {
    let output = verdict(&["langpacks", "apt-packages"]);

    assert!(
        output.status.success(),
        "expected apt-packages to succeed, stderr:\n{}",
        text(&output.stderr)
    );
    let packages: Vec<String> = text(&output.stdout).lines().map(str::to_owned).collect();
    assert!(
        packages.iter().any(|package| package == "gcc"),
        "expected gcc in {packages:?}"
    );
    let mut sorted = packages.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(packages, sorted, "expected sorted, unique package names");
}

#[test]
fn apt_packages_match_install_script() {
    let script = Command::new(workspace_root().join("scripts/langpack-packages"))
        .output()
        .expect("running scripts/langpack-packages");
    let binary = verdict(&["langpacks", "apt-packages"]);

    assert!(
        script.status.success(),
        "expected the script to succeed, stderr:\n{}",
        text(&script.stderr)
    );
    assert_eq!(
        text(&binary.stdout),
        text(&script.stdout),
        "`verdict langpacks apt-packages` and scripts/langpack-packages (used by \
         scripts/install-deps) differ"
    );
}

#[test]
fn apt_packages_of_one_pack() {
    let output = verdict(&["langpacks", "apt-packages", "python3"]);

    assert_eq!(
        text(&output.stdout),
        "python3\n",
        "packages of the python3 pack"
    );
}

/// Returns the directory that caches the lua image between runs. It is
/// under the target dir, so `cargo clean` removes it.
fn cached_image_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("langpack-images").join("lua")
}

/// Builds the lua image with `verdict langpacks build` unless the cache
/// has it, once per test process. The build renames its directory into
/// place only on success, so an existing directory is a finished image.
fn lua_image() -> PathBuf {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(build_lua_image).clone()
}

fn build_lua_image() -> PathBuf {
    let image = cached_image_dir();
    // nextest runs each test in its own process, so two tests may want the
    // image at once: an exclusive lock makes the second wait for the first
    // build instead of starting its own. The kernel drops it on exit.
    std::fs::create_dir_all(image.parent().expect("image dir has a parent"))
        .expect("creating the image cache dir");
    let lock = std::fs::File::create(image.with_extension("lock")).expect("creating the lock file");
    // SAFETY: flock on an fd that `lock` owns and keeps open until return.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "locking the image cache failed");
    if image.join("usr").is_dir() {
        return image;
    }
    let mut child = Command::new(binary())
        .args(["langpacks", "build", "lua", "--out"])
        .arg(&image)
        .stdin(Stdio::null())
        // mmdebstrap starts apt and dpkg; its own group lets the timeout
        // kill all of them.
        .process_group(0)
        .spawn()
        .expect("starting verdict langpacks build");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the build") {
            break status;
        }
        if started.elapsed() > IMAGE_BUILD_TIMEOUT {
            // SAFETY: kill has no memory preconditions; the negative pid
            // names the process group this test created for the build.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!("building the lua image took more than {IMAGE_BUILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(status.success(), "building the lua image failed: {status}");
    image
}

/// Runs `script` with the image's `/bin/sh` in a sandbox rooted at `image`.
fn run_in_image(image: &Path, script: &str) -> verdict_sandbox::RunOutcome {
    let state = tempfile::tempdir().expect("tempdir");
    let mut sandbox = Sandbox::new(SandboxConfig {
        state_dir: state.path().to_path_buf(),
        slot: 0,
        cgroup_name: format!("verdict-cli-image-test-{}", std::process::id()),
    })
    .expect("sandbox setup");
    let spec = RunSpec {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        files: Vec::new(),
        stdin: Stdin::Null,
        limits: Limits {
            cpu_time: Duration::from_secs(2),
            wall_time: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            max_processes: 8,
            stdout_bytes: 1 << 20,
            stderr_bytes: 1 << 20,
            file_size_bytes: 1 << 20,
            disk_bytes: 1 << 20,
        },
        binds: Vec::new(),
        copy_out: Vec::new(),
        copy_out_max_bytes: 0,
        root: Some(image.to_path_buf()),
    };
    sandbox.run(&spec).expect("sandbox run from the image")
}

#[test]
fn lua_runs_from_built_image() {
    common::require_root();
    let image = lua_image();

    let root = image.display().to_string();

    let output = verdict(&["langpacks", "test", "lua", "--json", "--root", &root]);

    assert!(
        output.status.success(),
        "expected the lua self-test to pass from {}, stdout:\n{}\nstderr:\n{}",
        image.display(),
        text(&output.stdout),
        text(&output.stderr)
    );
    let rows = json(&output);
    let lua = row(&rows, "lua");
    assert!(
        lua["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("Lua 5.4")),
        "expected the image's Lua 5.4 version, got {lua}"
    );
}

#[test]
fn sandbox_sees_only_image_files() {
    common::require_root();
    let image = lua_image();

    // The image info file exists only in the image; gcc exists only on the
    // host (the test suite compiles C).
    let outcome = run_in_image(
        &image,
        "cat /usr/share/verdict/langpack-image.toml; test ! -e /usr/bin/gcc && echo no-gcc",
    );

    let stdout = text(&outcome.stdout);
    assert!(
        stdout.contains("langpack = \"lua\""),
        "expected the image info file, got stdout:\n{stdout}\nstderr:\n{}",
        text(&outcome.stderr)
    );
    assert!(
        stdout.contains("no-gcc"),
        "expected no host gcc inside the image root, got:\n{stdout}"
    );
}
