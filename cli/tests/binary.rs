//! The `verdict` binary as a user runs it: `judge` on the example problems,
//! and `serve` plus `submit` with the Prometheus endpoint.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{binary, workspace_root};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn judge_grades_example_problems() {
    common::require_root();
    let state = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .arg("judge")
        .arg(workspace_root().join("examples/problems"))
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "judge reported differences:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains(" 0 differ"),
        "no summary line in:\n{stdout}"
    );
}

#[test]
fn judge_fails_on_unexpected_verdict() {
    common::require_root();
    let problem = tempfile::tempdir().unwrap();
    let root = problem.path();
    std::fs::write(
        root.join("problem.yaml"),
        "name: Echo\nlimits:\n  time_limit: 1\n  memory: 128\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("data/secret")).unwrap();
    std::fs::write(root.join("data/secret/1.in"), "5\n").unwrap();
    std::fs::write(root.join("data/secret/1.ans"), "5\n").unwrap();
    // A correct program filed as wrong_answer: judge must flag it.
    std::fs::create_dir_all(root.join("submissions/wrong_answer")).unwrap();
    std::fs::write(
        root.join("submissions/wrong_answer/echo.py"),
        "print(input())\n",
    )
    .unwrap();

    let state = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .arg("judge")
        .arg(root)
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "judge must fail on a mismatch:\n{stdout}"
    );
    assert!(
        stdout.contains("MISMATCH"),
        "the row must say MISMATCH:\n{stdout}"
    );
}

#[test]
fn serve_and_submit_expose_metrics() {
    common::require_root();
    let grpc = free_port();
    let metrics = free_port();
    let state = tempfile::tempdir().unwrap();
    let mut server = Command::new(binary())
        .args(["serve", "--slots", "1"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{grpc}"))
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{metrics}"))
        .arg("--state-dir")
        .arg(state.path())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", grpc)).is_err() {
        assert!(
            Instant::now() < deadline,
            "verdict serve did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let problem = workspace_root().join("examples/problems/sum");
    let accepted = std::fs::read_dir(problem.join("submissions/accepted"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "py"))
        .expect("the sum problem needs an accepted Python submission");
    let output = Command::new(binary())
        .arg("submit")
        .arg("--server")
        .arg(format!("http://127.0.0.1:{grpc}"))
        .arg("--problem")
        .arg(&problem)
        .arg(&accepted)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();

    // The same program detached, then followed by id.
    let detached = Command::new(binary())
        .arg("submit")
        .arg("--server")
        .arg(format!("http://127.0.0.1:{grpc}"))
        .arg("--detach")
        .arg("--problem")
        .arg(&problem)
        .arg(&accepted)
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&detached.stdout).trim().to_owned();
    let watched = Command::new(binary())
        .args(["watch", "--server"])
        .arg(format!("http://127.0.0.1:{grpc}"))
        .arg(&id)
        .output()
        .unwrap();
    let watched_stdout = String::from_utf8_lossy(&watched.stdout).into_owned();
    let scraped = http_get(metrics, "/metrics");
    // SIGTERM, not SIGKILL: a drained server removes its work dir mount
    // and cgroups.
    // SAFETY: kill with the pid of a child we started and have not reaped.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let stopped = server.wait().unwrap();

    assert!(
        output.status.success(),
        "submit failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("AC"), "no AC row in:\n{stdout}");
    assert!(
        detached.status.success(),
        "submit --detach failed: {detached:?}"
    );
    assert!(watched.status.success(), "watch {id} failed: {watched:?}");
    assert!(
        watched_stdout.contains(&format!("submission {id}: finished AC")),
        "watch did not follow {id} to the end:\n{watched_stdout}"
    );
    assert!(
        stopped.success(),
        "verdict serve must exit cleanly on SIGTERM: {stopped}"
    );
    for metric in [
        "verdict_submissions_received_total",
        "verdict_submissions_graded_total",
        "verdict_queue_wait_seconds",
        "verdict_run_duration_seconds",
    ] {
        assert!(
            scraped.contains(metric),
            "metric {metric} missing from:\n{scraped}"
        );
    }
}
