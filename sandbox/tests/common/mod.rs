//! Harness shared by the end-to-end sandbox test binaries (Linux only, as
//! root): slots, run specs, C probes compiled on the host, and helpers
//! that read a probe's report.
//!
//! Without root, `slot` prints why and returns `None`, and the tests pass
//! without running anything.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use verdict_sandbox::{
    ExitStatus, FileContent, InputFile, Limits, RunOutcome, RunSpec, Sandbox, SandboxConfig, Stdin,
};

/// Slots 200 and up: apart from the worker's slots and from the range the
/// basic sandbox tests use, so the two test binaries get distinct host ids.
static NEXT_SLOT: AtomicU32 = AtomicU32::new(200);

/// One sandbox slot with its own state dir and cgroup subtree.
pub struct Slot {
    pub sandbox: Sandbox,
    pub number: u32,
    /// Name of the slot's cgroup subtree below this process's own cgroup.
    pub cgroup_name: String,
    state: tempfile::TempDir,
}

impl Slot {
    /// The slot's host state dir, which the program must never reach.
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// `cgroup.procs` of the slot's run cgroup in the v1 pids hierarchy,
    /// or in the unified hierarchy on a cgroup v2 host.
    pub fn run_cgroup_procs(&self) -> PathBuf {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let (root, own_path) = own
            .lines()
            .find_map(|line| line.split_once(":pids:"))
            .map(|(_, path)| ("/sys/fs/cgroup/pids", path.to_string()))
            .or_else(|| {
                own.lines()
                    .find_map(|line| line.strip_prefix("0::"))
                    .map(|path| ("/sys/fs/cgroup", path.to_string()))
            })
            .unwrap_or(("/sys/fs/cgroup", "/".to_string()));
        Path::new(root)
            .join(own_path.trim_start_matches('/'))
            .join(&self.cgroup_name)
            .join(format!("slot-{}", self.number))
            .join("run")
            .join("cgroup.procs")
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Creates a fresh slot, or prints why not and returns `None` when not root.
pub fn slot() -> Option<Slot> {
    if !is_root() {
        eprintln!("skipped: the sandbox tests need root");
        return None;
    }
    let state = tempfile::Builder::new()
        .prefix("verdict-attack-test")
        .tempdir()
        .expect("create state dir");
    std::fs::set_permissions(state.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod state dir");
    let number = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
    // nextest runs each test in its own process, so the subtree name must
    // differ between processes as well as between slots.
    let cgroup_name = format!("verdict-attack-{}-{number}", std::process::id());
    let config = SandboxConfig {
        state_dir: state.path().to_path_buf(),
        slot: number,
        cgroup_name: cgroup_name.clone(),
    };
    let sandbox = Sandbox::new(config).expect("sandbox setup should succeed as root");
    Some(Slot {
        sandbox,
        number,
        cgroup_name,
        state,
    })
}

/// Scales a time limit, or a threshold compared against one, by
/// `VERDICT_TEST_TIME_SCALE` (a positive integer, 1 when unset). Slow
/// machines such as a VM without hardware virtualization set it, so that
/// limits still hold only for the programs meant to exceed them.
pub fn scaled(duration: Duration) -> Duration {
    let scale = match std::env::var("VERDICT_TEST_TIME_SCALE") {
        Ok(text) => text
            .parse::<u32>()
            .ok()
            .filter(|&scale| scale > 0)
            .unwrap_or_else(|| {
                panic!("invalid VERDICT_TEST_TIME_SCALE {text:?}: expected a positive integer")
            }),
        Err(_) => 1,
    };
    duration * scale
}

/// Small limits for hostile programs: 3 s wall, 1 s CPU (both times
/// [`scaled`]), 64 MiB, 32 processes, 1 MiB of output per stream, 4 MiB of
/// disk.
pub fn limits() -> Limits {
    Limits {
        cpu_time: scaled(Duration::from_secs(1)),
        wall_time: scaled(Duration::from_secs(3)),
        memory_bytes: 64 << 20,
        max_processes: 32,
        stdout_bytes: 1 << 20,
        stderr_bytes: 1 << 20,
        file_size_bytes: 8 << 20,
        disk_bytes: 4 << 20,
    }
}

pub fn spec(argv: &[&str]) -> RunSpec {
    RunSpec {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        env: vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), "/box".into()),
        ],
        files: Vec::new(),
        stdin: Stdin::Null,
        limits: limits(),
        binds: Vec::new(),
        copy_out: Vec::new(),
        copy_out_max_bytes: 1 << 20,
        root: None,
    }
}

/// Definitions every C probe starts with. `TRY` prints one report line,
/// `LABEL ok` or `LABEL ERRNO_NAME`, for a call that returns -1 on failure.
/// `within` bounds a probe's loops in time even if a sandbox limit failed
/// to stop them.
const C_PRELUDE: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

static void report(const char *label, long result, int error) {
    printf("%s %s\n", label, result == -1 ? strerrorname_np(error) : "ok");
    fflush(stdout);
}
#define TRY(label, call) do { errno = 0; long r_ = (long)(call); report(label, r_, errno); } while (0)

static int within(double seconds) {
    static double start = -1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t = now.tv_sec + now.tv_nsec / 1e9;
    if (start < 0) start = t;
    return t - start < seconds;
}
"#;

/// Compiles C `source` (after the prelude) with the host's gcc and returns
/// the binary. The binary runs only inside the sandbox.
pub fn compile_c(source: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let c_file = dir.path().join("probe.c");
    let binary = dir.path().join("probe");
    std::fs::write(&c_file, format!("{C_PRELUDE}\n{source}")).expect("write probe source");
    let output = std::process::Command::new("gcc")
        .arg("-O1")
        .arg("-pthread")
        .arg("-o")
        .arg(&binary)
        .arg(&c_file)
        .output()
        .expect("run gcc");
    assert!(
        output.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(&binary).expect("read probe binary")
}

/// Builds a spec that runs the C probe `source` as `/box/probe` with `args`.
pub fn c_spec(source: &str, args: &[&str]) -> RunSpec {
    let mut argv = vec!["/box/probe"];
    argv.extend_from_slice(args);
    let mut run = spec(&argv);
    run.files.push(InputFile {
        path: "probe".into(),
        content: FileContent::Bytes(compile_c(source)),
        executable: true,
    });
    run
}

pub fn python(code: &str) -> RunSpec {
    spec(&["/usr/bin/python3", "-c", code])
}

pub fn run(slot: &mut Slot, spec: &RunSpec) -> RunOutcome {
    slot.sandbox.run(spec).expect("run should succeed")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Formats the outcome with its output as text (at most 2 KiB per stream)
/// for failure messages.
pub fn describe(outcome: &RunOutcome) -> String {
    let excerpt = |bytes: &[u8]| text(&bytes[..bytes.len().min(2048)]);
    format!(
        "status {:?}, limit {:?}, blocked {:?}, cpu {:?}, wall {:?}, peak memory {} B, \
         oom {}, stdout {:?}, stderr {:?}",
        outcome.status,
        outcome.limit,
        outcome.blocked_syscall,
        outcome.cpu_time,
        outcome.wall_time,
        outcome.peak_memory_bytes,
        outcome.oom_killed,
        excerpt(&outcome.stdout),
        excerpt(&outcome.stderr),
    )
}

pub fn assert_status(outcome: &RunOutcome, expected: ExitStatus) {
    assert_eq!(
        outcome.status,
        expected,
        "expected status {expected:?}; outcome: {}",
        describe(outcome)
    );
}

/// Returns the result word of the report line `label RESULT`, if the probe
/// printed one.
pub fn result_of(outcome: &RunOutcome, label: &str) -> Option<String> {
    text(&outcome.stdout).lines().find_map(|line| {
        line.strip_prefix(label)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::to_string)
    })
}

/// Checks each `(label, expected)` report line. The expected result `fail`
/// accepts any errno name (anything but `ok`).
pub fn assert_report(outcome: &RunOutcome, expected: &[(&str, &str)]) {
    for &(label, want) in expected {
        let got = result_of(outcome, label);
        let matches = match (want, got.as_deref()) {
            ("fail", Some(result)) => result != "ok",
            (want, Some(result)) => result == want,
            (_, None) => false,
        };
        assert!(
            matches,
            "{label}: expected {want}, got {got:?}; outcome: {}",
            describe(outcome)
        );
    }
}

/// Lists the host processes whose command line contains `marker`.
pub fn processes_with_marker(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(pid);
        }
    }
    found
}
