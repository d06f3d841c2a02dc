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

    let mut failures = Vec::new();
    for pack in verdict_langpacks::all() {
        let report = selftest::run(&slot, &pack)
            .await
            .expect("self-test could not run");
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
