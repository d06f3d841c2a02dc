//! `verdict sandbox run` as a user runs it: the real binary and the real
//! sandbox, as root.

mod common;

use std::process::{Command, Output};

use common::binary;

/// Runs `verdict sandbox run ARGS` in a fresh state dir, each call with its
/// own process and so its own cgroup subtree.
fn sandbox_run(args: &[&str]) -> Output {
    let state = tempfile::tempdir().expect("create state dir");
    Command::new(binary())
        .args(["sandbox", "run", "--state-dir"])
        .arg(state.path())
        .args(args)
        .output()
        .expect("start the verdict binary")
}

fn report(output: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn true_prints_exited_zero_json() {
    common::require_root();
    let output = sandbox_run(&["--", "/bin/true"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "expected exit code 0, stderr:\n{stderr}"
    );
    let json = report(&output);
    assert_eq!(json["status"], "exited", "report: {json}");
    assert_eq!(json["exit_code"], 0, "report: {json}");
    assert!(json["limit"].is_null(), "expected no limit, report: {json}");
    assert!(
        json["wall_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "expected a positive wall_ms, report: {json}"
    );
}

#[test]
fn failing_command_still_exits_zero() {
    common::require_root();
    let output = sandbox_run(&["--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "expected exit code 0, stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = report(&output);
    assert_eq!(json["exit_code"], 3, "report: {json}");
    assert_eq!(json["stdout"], "out\n", "report: {json}");
    assert_eq!(json["stderr"], "err\n", "report: {json}");
}

#[test]
fn cpu_loop_hits_cpu_time_limit() {
    common::require_root();
    let output = sandbox_run(&[
        "--time",
        "0.3",
        "--wall",
        "5",
        "--",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "expected exit code 0, stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = report(&output);
    assert_eq!(json["limit"], "cpu_time", "report: {json}");
    assert!(
        json["cpu_ms"].as_f64().is_some_and(|ms| ms >= 300.0),
        "expected cpu_ms of at least 300, report: {json}"
    );
}

#[test]
fn output_past_limit_is_truncated() {
    common::require_root();
    let output = sandbox_run(&["--output", "1K", "--", "sh", "-c", "yes | head -c 100000"]);
    let json = report(&output);
    assert_eq!(json["limit"], "output", "report: {json}");
    assert_eq!(json["stdout_truncated"], true, "report: {json}");
    assert_eq!(
        json["stdout"].as_str().map(str::len),
        Some(1024),
        "expected 1024 bytes of stdout, report: {json}"
    );
}

#[test]
fn stdin_file_reaches_command() {
    common::require_root();
    let input = tempfile::NamedTempFile::new().expect("create stdin file");
    std::fs::write(input.path(), "from a file\n").expect("write stdin file");
    let path = input.path().to_str().expect("utf-8 temp path");
    let output = sandbox_run(&["--stdin", path, "--", "cat"]);
    let json = report(&output);
    assert_eq!(json["stdout"], "from a file\n", "report: {json}");
}

#[test]
fn env_entries_replace_defaults() {
    common::require_root();
    let output = sandbox_run(&[
        "--env",
        "HOME=/tmp",
        "--env",
        "GREETING=hi",
        "--",
        "sh",
        "-c",
        "echo $HOME $GREETING",
    ]);
    let json = report(&output);
    assert_eq!(json["stdout"], "/tmp hi\n", "report: {json}");
}

#[test]
fn bad_memory_value_names_flag() {
    let output = sandbox_run(&["--memory", "12X", "--", "/bin/true"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(
        output.status.code(),
        Some(0),
        "expected a failure, stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("--memory"),
        "expected the error to name --memory, stderr:\n{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "expected no JSON on stdout, got:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn missing_command_exits_one() {
    common::require_root();
    let output = sandbox_run(&["--", "/no/such/program"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit code 1, stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("not found"),
        "expected a not-found message, stderr:\n{stderr}"
    );
}

#[test]
fn bind_mount_is_readable_inside() {
    common::require_root();
    let host = tempfile::tempdir().expect("create bind source");
    std::fs::write(host.path().join("note.txt"), "bound\n").expect("write bind file");
    // The sandbox's program id must be able to reach the bound directory.
    std::fs::set_permissions(
        host.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod bind source");
    let bind = format!("{}:/data", host.path().display());
    let output = sandbox_run(&["--bind", &bind, "--", "cat", "/data/note.txt"]);
    let json = report(&output);
    assert_eq!(json["stdout"], "bound\n", "report: {json}");
}
