//! cgroup v2 setup below the worker's own cgroup, run for real as root on a
//! cgroup v2 host (Linux only). `scripts/cgroup-v2-vm` runs these tests in
//! a VM on hosts that have cgroup v1.
//!
//! Each test starts this test binary again as a child process (the
//! "worker") in a cgroup the test made, because a process sets up its
//! cgroups once and for good. The child runs the same test function, which
//! finds `WORKER_CGROUP_ENV` set and takes the worker's part.
//!
//! On a cgroup v1 host or without root the tests print why and pass,
//! unless `VERDICT_TEST_REQUIRE_CGROUP_V2` is set (the VM sets it), which
//! turns the skip into a failure.

// This binary uses only a few of the shared helpers.
#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use verdict_sandbox::{ExitStatus, Sandbox, SandboxConfig};

/// Set in the worker child: the cgroup dir it must move itself into first.
const WORKER_CGROUP_ENV: &str = "VERDICT_CGROUP_V2_TEST_WORKER_CGROUP";
const CGROUP2_ROOT: &str = "/sys/fs/cgroup";

/// Returns whether to run, which needs root on a cgroup v2 host. Panics when the environment
/// requires cgroup v2 and this host lacks it.
fn runnable() -> bool {
    let v2 = Path::new(CGROUP2_ROOT).join("cgroup.controllers").exists();
    let reason = match (common::is_root(), v2) {
        (true, true) => return true,
        (false, _) => "the cgroup v2 tests need root",
        (true, false) => "the cgroup v2 tests need a cgroup v2 host",
    };
    assert!(
        std::env::var_os("VERDICT_TEST_REQUIRE_CGROUP_V2").is_none(),
        "VERDICT_TEST_REQUIRE_CGROUP_V2 is set, but {reason}"
    );
    eprintln!("skipped: {reason}");
    false
}

/// This process's cgroup dir in the mounted v2 hierarchy.
fn own_cgroup_dir() -> PathBuf {
    let text = std::fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    let own = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .expect("/proc/self/cgroup has a 0:: line");
    Path::new(CGROUP2_ROOT).join(own.trim_start_matches('/'))
}

fn procs(cgroup_dir: &Path) -> Vec<u32> {
    std::fs::read_to_string(cgroup_dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

/// Returns this process's original cgroup dir, with memory, pids and cpu
/// enabled for the test cgroups made below it. The first call moves this
/// process into the leaf `verdict-test-runner` below it, because a cgroup
/// with processes cannot enable controllers. This process must be alone in
/// its cgroup (the VM runs each test binary so).
fn test_cgroup_base() -> PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let base = own_cgroup_dir();
        let runner = base.join("verdict-test-runner");
        std::fs::create_dir_all(&runner).expect("create the test runner's leaf cgroup");
        std::fs::write(runner.join("cgroup.procs"), std::process::id().to_string())
            .expect("move the test process into its leaf cgroup");
        let others = procs(&base);
        std::fs::write(base.join("cgroup.subtree_control"), "+memory +pids +cpu").unwrap_or_else(
            |e| {
                panic!(
                    "enabling controllers in {} failed ({e}); the test process must be alone \
                     in its cgroup, which also contains {others:?}",
                    base.display()
                )
            },
        );
        base
    })
    .clone()
}

/// A cgroup this test made below its own cgroup, removed with everything
/// below it on drop. The processes in it must be gone by then.
struct TestCgroup {
    dir: PathBuf,
}

impl TestCgroup {
    fn new(name: &str) -> TestCgroup {
        let dir = test_cgroup_base().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("create the test cgroup");
        TestCgroup { dir }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        remove_cgroup_tree(&self.dir, 8);
    }
}

/// Removes `dir` and its child cgroups, at most `depth` levels deep.
fn remove_cgroup_tree(dir: &Path, depth: u32) {
    if depth > 0 {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&entry.path(), depth - 1);
            }
        }
    }
    if let Err(e) = std::fs::remove_dir(dir) {
        eprintln!("removing the test cgroup {} failed: {e}", dir.display());
    }
}

/// A `sleep 30` that the test kills and reaps on drop.
struct Sleeper(Child);

impl Sleeper {
    fn start() -> Sleeper {
        let child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .spawn()
            .expect("start sleep 30");
        Sleeper(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `test_name` of this binary again as the worker child in
/// `worker_cgroup` and asserts that it passed.
fn run_worker_child(test_name: &str, worker_cgroup: &Path) {
    let exe = std::env::current_exe().expect("find the test binary");
    let mut command = Command::new(exe);
    command
        .args([test_name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(WORKER_CGROUP_ENV, worker_cgroup)
        .stdin(Stdio::null());
    let output = command.output().expect("run the worker child");
    assert!(
        output.status.success(),
        "the worker child failed ({}); its stdout:\n{}\nits stderr:\n{}",
        output.status,
        common::text(&output.stdout),
        common::text(&output.stderr)
    );
}

/// Moves the worker child from its parent's cgroup into `dir`, its first step.
fn enter_worker_cgroup(dir: &Path) {
    std::fs::write(dir.join("cgroup.procs"), std::process::id().to_string())
        .expect("move the worker child into its test cgroup");
}

fn new_sandbox(
    name: &str,
) -> (
    Result<Sandbox, verdict_sandbox::SandboxError>,
    tempfile::TempDir,
) {
    let state = tempfile::Builder::new()
        .prefix("verdict-cgroup-v2-test")
        .tempdir()
        .expect("create state dir");
    let config = SandboxConfig {
        state_dir: state.path().to_path_buf(),
        slot: 300,
        cgroup_name: format!("{name}-{}", std::process::id()),
    };
    (Sandbox::new(config), state)
}

#[test]
fn alone_worker_runs_and_spares_sibling() {
    const NAME: &str = "alone_worker_runs_and_spares_sibling";
    if let Some(dir) = std::env::var_os(WORKER_CGROUP_ENV) {
        let worker_cgroup = PathBuf::from(dir);
        enter_worker_cgroup(&worker_cgroup);
        let (sandbox, _state) = new_sandbox("verdict-cgroup-v2-alone");
        let mut sandbox = sandbox.expect("sandbox setup should succeed in a cgroup of its own");
        let outcome = sandbox
            .run(&common::spec(&["/bin/true"]))
            .expect("run should succeed");
        common::assert_status(&outcome, ExitStatus::Exited(0));
        let supervisor = worker_cgroup.join("verdict-supervisor");
        assert!(
            procs(&supervisor).contains(&std::process::id()),
            "expected the worker in {}, but /proc/self/cgroup says {}",
            supervisor.display(),
            own_cgroup_dir().display()
        );
        return;
    }
    if !runnable() {
        return;
    }

    // The worker's cgroup and a sibling with a process of its own, which
    // setup must leave alone.
    let worker_cgroup = TestCgroup::new("verdict-test-worker");
    let sibling_cgroup = TestCgroup::new("verdict-test-sibling");
    let sibling = Sleeper::start();
    std::fs::write(
        sibling_cgroup.dir.join("cgroup.procs"),
        sibling.pid().to_string(),
    )
    .expect("move sleep into the sibling cgroup");
    let sibling_controls_before =
        std::fs::read_to_string(sibling_cgroup.dir.join("cgroup.subtree_control"))
            .expect("read the sibling's cgroup.subtree_control");

    run_worker_child(NAME, &worker_cgroup.dir);

    assert_eq!(
        procs(&sibling_cgroup.dir),
        vec![sibling.pid()],
        "expected only the sibling sleep (pid {}) in {}",
        sibling.pid(),
        sibling_cgroup.dir.display()
    );
    let sibling_controls_after =
        std::fs::read_to_string(sibling_cgroup.dir.join("cgroup.subtree_control"))
            .expect("read the sibling's cgroup.subtree_control");
    assert_eq!(
        sibling_controls_after, sibling_controls_before,
        "the sibling's cgroup.subtree_control changed"
    );
    drop(sibling);
}

#[test]
fn shared_cgroup_setup_names_other_process() {
    const NAME: &str = "shared_cgroup_setup_names_other_process";
    if let Some(dir) = std::env::var_os(WORKER_CGROUP_ENV) {
        let worker_cgroup = PathBuf::from(dir);
        enter_worker_cgroup(&worker_cgroup);
        // Started after the move, so it shares the worker's cgroup.
        let shared = Sleeper::start();

        let (sandbox, _state) = new_sandbox("verdict-cgroup-v2-shared");
        let error = match sandbox {
            Ok(mut sandbox) => sandbox
                .run(&common::spec(&["/bin/true"]))
                .map(|outcome| common::describe(&outcome))
                .expect_err("setup should fail while another process shares the cgroup"),
            Err(error) => error,
        };
        let message = error.to_string();
        assert!(
            message.contains(&format!("{} (sleep)", shared.pid())),
            "expected the error to name pid {} (sleep), got: {message}",
            shared.pid()
        );
        assert_eq!(
            own_cgroup_dir(),
            worker_cgroup,
            "expected the worker back in its own cgroup after the failed setup"
        );
        assert!(
            procs(&worker_cgroup).contains(&shared.pid()),
            "expected the sleep (pid {}) still in {}",
            shared.pid(),
            worker_cgroup.display()
        );
        drop(shared);
        return;
    }
    if !runnable() {
        return;
    }

    let worker_cgroup = TestCgroup::new("verdict-test-shared");
    let started = Instant::now();
    run_worker_child(NAME, &worker_cgroup.dir);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the worker child took {:?}; it should fail setup at once",
        started.elapsed()
    );
    let leftovers: Vec<String> = std::fs::read_dir(&worker_cgroup.dir)
        .expect("list the worker's cgroup")
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        leftovers.iter().all(|name| name == "verdict-supervisor"),
        "expected at most an empty verdict-supervisor leaf in {}, found {leftovers:?}",
        worker_cgroup.dir.display()
    );
}
