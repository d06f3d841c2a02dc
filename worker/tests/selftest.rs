//! Every embedded langpack's self-test, run in the real sandbox (as root).

use verdict_sandbox::{Sandbox, SandboxConfig};
use verdict_worker::grade::Slot;
use verdict_worker::selftest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_langpack_passes_self_test() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    assert_eq!(unsafe { libc::geteuid() }, 0, "the sandbox needs root");
    let state = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new(SandboxConfig {
        state_dir: state.path().to_path_buf(),
        slot: 0,
        cgroup_name: format!("verdict-selftest-{}", std::process::id()),
    })
    .expect("sandbox setup");
    let slot = Slot::new(0, sandbox);

    // VERDICT_SELFTEST_ONLY=id,id limits the run to some packs while one is
    // being written; CI leaves it unset and tests every pack.
    let only: Option<Vec<String>> = std::env::var("VERDICT_SELFTEST_ONLY")
        .ok()
        .map(|ids| ids.split(',').map(str::to_owned).collect());
    let mut failures = Vec::new();
    for pack in verdict_langpacks::all() {
        if only.as_ref().is_some_and(|ids| !ids.contains(&pack.id)) {
            continue;
        }
        let report = selftest::run(&slot, &pack)
            .await
            .expect("self-test could not run");
        eprintln!(
            "{:<12} program {:?} compile_error {:?} cpu {} ms wall {} ms memory {} KiB",
            report.language,
            report.program,
            report.compile_error,
            report.cpu_time_ms,
            report.wall_time_ms,
            report.peak_memory_bytes / 1024
        );
        if !report.passed() {
            failures.push(format!("{report:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "self-tests failed:\n{}",
        failures.join("\n")
    );
}
