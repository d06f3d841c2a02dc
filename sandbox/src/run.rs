//! One run, host side (Linux only): prepare the child's plan, clone,
//! finish the namespace setup from outside, monitor limits, account.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use crate::cgroup::RunCgroup;
use crate::child::{
    self, ChildPlan, Step, PROGRAM_ID, RECORD_EXEC_FAILED, RECORD_PROGRAM_ENDED,
    RECORD_SETUP_FAILED,
};
use crate::monitor::{spawn_reader, spawn_stdin_writer, StatusEvent, StatusPipe};
use crate::mounts::{root_ops, RootSources};
use crate::{
    ExitStatus, LimitKind, RunOutcome, RunSpec, Sandbox, SandboxError, Stdin, HOST_ID_BASE,
};

/// How often the monitor samples CPU time, wall time and memory.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Open files allowed per process (RLIMIT_NOFILE).
const MAX_OPEN_FILES: u64 = 256;
/// Size of the root tmpfs, which contains only mount points and the
/// account files.
const ROOT_TMPFS: &str = "mode=755,size=1m,nr_inodes=4096";
/// How long to wait for the init to go after it was killed.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// `PATH` used to resolve `argv[0]` when the spec's env has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Host (root, program) ids of a slot; see the crate docs.
pub fn host_ids(slot: u32) -> (u32, u32) {
    let root = HOST_ID_BASE + slot * 2;
    (root, root + 1)
}

fn setup(step: &'static str, source: std::io::Error) -> SandboxError {
    SandboxError::Setup { step, source }
}

/// Creates `dir` (if missing) with mode 0711, so the sandbox's unprivileged
/// host id can pass through it to reach its mount sources.
pub fn create_searchable_dir(dir: &Path) -> Result<(), SandboxError> {
    std::fs::create_dir_all(dir).map_err(|e| setup("creating the state dir", e))?;
    let meta = std::fs::metadata(dir).map_err(|e| setup("reading the state dir", e))?;
    let mode = meta.permissions().mode() | 0o711;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| setup("making the state dir searchable", e))
}

/// Checks that every ancestor of `dir` is searchable by others: the
/// child's mounts are resolved with an unprivileged host id.
pub fn check_searchable_ancestors(dir: &Path) -> Result<(), SandboxError> {
    let absolute = std::fs::canonicalize(dir).map_err(|e| setup("resolving the state dir", e))?;
    for ancestor in absolute.ancestors() {
        let meta = std::fs::metadata(ancestor).map_err(|e| setup("reading the state dir", e))?;
        if meta.permissions().mode() & 0o001 == 0 {
            return Err(setup(
                "checking the state dir's parents (each must be searchable by others: chmod o+x)",
                std::io::Error::other(format!("{} is not searchable", ancestor.display())),
            ));
        }
    }
    Ok(())
}

/// Builds the contents of the sandbox's `/etc/passwd` and `/etc/group`,
/// which each run writes into its root tmpfs.
pub fn account_files() -> (Vec<u8>, Vec<u8>) {
    let users = format!(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n\
         sandbox:x:{PROGRAM_ID}:{PROGRAM_ID}:sandbox:/box:/usr/sbin/nologin\n\
         nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    );
    let groups = format!("root:x:0:\nsandbox:x:{PROGRAM_ID}:\nnogroup:x:65534:\n");
    (users.into_bytes(), groups.into_bytes())
}

/// Checks the parts of a spec that would otherwise fail deep inside a run.
pub fn validate(spec: &RunSpec) -> Result<(), SandboxError> {
    let invalid = |reason: String| Err(SandboxError::InvalidSpec(reason));
    if spec.argv.is_empty() || spec.argv[0].is_empty() {
        return invalid("argv must name a command".into());
    }
    let limits = &spec.limits;
    if limits.cpu_time.is_zero() || limits.wall_time.is_zero() {
        return invalid("cpu_time and wall_time must be positive".into());
    }
    if limits.memory_bytes < (1 << 20) {
        return invalid(format!(
            "memory_bytes is {}, at least 1 MiB is needed",
            limits.memory_bytes
        ));
    }
    if limits.max_processes == 0 {
        return invalid("max_processes must be at least 1".into());
    }
    if let Some(root) = &spec.root {
        if !root.is_absolute() {
            return invalid(format!("root {} must be an absolute path", root.display()));
        }
        if !root.join("usr").is_dir() {
            return invalid(format!(
                "root {} has no usr directory; build one with `verdict langpacks build`",
                root.display()
            ));
        }
    }
    Ok(())
}

fn c_string(text: &str, what: &str) -> Result<CString, SandboxError> {
    CString::new(text)
        .map_err(|_| SandboxError::InvalidSpec(format!("{what} {text:?} contains a NUL byte")))
}

/// Absolute paths to try for `argv[0]`: itself when it has a `/`, else
/// each `PATH` entry (from the spec's env, or a default) joined with it.
fn exec_candidates(spec: &RunSpec) -> Result<Vec<CString>, SandboxError> {
    let program = &spec.argv[0];
    if program.contains('/') {
        return Ok(vec![c_string(program, "argv[0]")?]);
    }
    let path = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or(DEFAULT_PATH);
    path.split(':')
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| {
            c_string(
                &format!("{}/{program}", dir.trim_end_matches('/')),
                "argv[0]",
            )
        })
        .collect()
}

/// Output and child-facing fds of one run, parent side.
struct Pipes {
    stdin_child: OwnedFd,
    stdin_feed: Option<(OwnedFd, Vec<u8>)>,
    stdout: (OwnedFd, OwnedFd),
    stderr: (OwnedFd, OwnedFd),
    status: (OwnedFd, OwnedFd),
    sync: (OwnedFd, OwnedFd),
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    // O_CLOEXEC: other threads of this process may fork and exec at any
    // time, and must not inherit our pipes.
    pipe2(OFlag::O_CLOEXEC).map_err(|e| setup("creating pipes", e.into()))
}

fn open_pipes(stdin: &Stdin) -> Result<Pipes, SandboxError> {
    let (stdin_child, stdin_feed) = match stdin {
        Stdin::Null => {
            let null = File::open("/dev/null").map_err(|e| setup("opening /dev/null", e))?;
            (OwnedFd::from(null), None)
        }
        Stdin::Bytes(bytes) => {
            let (read, write) = pipe()?;
            (read, Some((write, bytes.clone())))
        }
        Stdin::HostFile(path) => {
            let file = File::open(path).map_err(|source| SandboxError::Io {
                step: "opening the stdin file",
                source,
            })?;
            (OwnedFd::from(file), None)
        }
    };
    Ok(Pipes {
        stdin_child,
        stdin_feed,
        stdout: pipe()?,
        stderr: pipe()?,
        status: pipe()?,
        sync: pipe()?,
    })
}

fn rlimits(spec: &RunSpec) -> Vec<(libc::__rlimit_resource_t, libc::rlim_t)> {
    let limits = &spec.limits;
    // A backstop for the polled CPU limit: one second above it, rounded
    // up, so it fires only if the monitor is stalled.
    let cpu_seconds = limits.cpu_time.as_secs() + u64::from(limits.cpu_time.subsec_nanos() > 0) + 1;
    vec![
        (libc::RLIMIT_CPU, cpu_seconds),
        (libc::RLIMIT_FSIZE, limits.file_size_bytes),
        (libc::RLIMIT_CORE, 0),
        (libc::RLIMIT_NOFILE, MAX_OPEN_FILES),
        // The stack may use all of the memory limit, which the cgroup
        // enforces anyway. Not unlimited: that switches x86_64 to the
        // legacy mmap layout.
        (libc::RLIMIT_STACK, limits.memory_bytes),
        // sched_setscheduler is allowed because Mono sets SCHED_OTHER on its
        // threads. A zero real-time priority ceiling keeps a program from
        // picking a real-time policy that would starve other slots.
        (libc::RLIMIT_RTPRIO, 0),
        (libc::RLIMIT_NICE, 0),
    ]
}

fn to_sock_fprog(program: &[seccompiler::sock_filter]) -> libc::sock_fprog {
    libc::sock_fprog {
        len: program.len() as u16,
        // seccompiler's sock_filter has the kernel's layout, as libc's
        // does; the kernel only reads through this pointer.
        filter: program.as_ptr() as *mut libc::sock_filter,
    }
}

fn build_plan(sandbox: &Sandbox, spec: &RunSpec, pipes: &Pipes) -> Result<ChildPlan, SandboxError> {
    let ops = root_ops(&RootSources {
        root: &sandbox.root_dir,
        workdir: sandbox.workdir.path(),
        passwd: &sandbox.passwd,
        group: &sandbox.group,
        system_root: spec.root.as_deref().unwrap_or(Path::new("/")),
        disk_bytes: spec.limits.disk_bytes,
        binds: &spec.binds,
    })?;
    let argv_owned = spec
        .argv
        .iter()
        .map(|a| c_string(a, "argument"))
        .collect::<Result<Vec<_>, _>>()?;
    let envp_owned = spec
        .env
        .iter()
        .map(|(k, v)| c_string(&format!("{k}={v}"), "environment entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut argv: Vec<*const libc::c_char> = argv_owned.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envp_owned.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());

    let cap_last_cap = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(63);

    Ok(ChildPlan {
        root: CString::new(sandbox.root_dir.as_os_str().as_bytes())
            .map_err(|_| SandboxError::InvalidSpec("state_dir contains a NUL byte".into()))?,
        root_data: CString::new(ROOT_TMPFS).unwrap_or_default(),
        ops,
        hostname: b"sandbox",
        workdir: CString::new("/box").unwrap_or_default(),
        exec_candidates: exec_candidates(spec)?,
        argv,
        envp,
        _argv: argv_owned,
        _envp: envp_owned,
        rlimits: rlimits(spec),
        stdin_fd: pipes.stdin_child.as_raw_fd(),
        stdout_fd: pipes.stdout.1.as_raw_fd(),
        stderr_fd: pipes.stderr.1.as_raw_fd(),
        status_fd: pipes.status.1.as_raw_fd(),
        sync_fd: pipes.sync.0.as_raw_fd(),
        cap_last_cap,
        enosys_filter: to_sock_fprog(&sandbox.policy.enosys),
        allowlist_filter: to_sock_fprog(&sandbox.policy.allowlist),
    })
}

/// Writes the uid and gid maps of the child's user namespace: inside 0 to
/// the slot's root id, inside 1000 to the slot's program id.
fn write_id_maps(pid: i32, slot: u32) -> Result<(), SandboxError> {
    let (root, program) = host_ids(slot);
    let map = format!("0 {root} 1\n{PROGRAM_ID} {program} 1\n");
    for file in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{pid}/{file}"), &map)
            .map_err(|e| setup("writing the user namespace id maps", e))?;
    }
    Ok(())
}

fn kill_process(pid: i32) {
    // SAFETY: kill has no memory effects; `pid` is our unreaped child, so
    // the number cannot have been reused.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

fn reap(pid: i32) {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes into a live local.
        let result = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if result != -1 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// Records received on the status pipe.
#[derive(Default)]
struct Report {
    program_status: Option<i32>,
    setup_failure: Option<(u32, i32)>,
    exec_failure: Option<i32>,
}

/// Runs `spec` in a fresh set of namespaces and cgroup. The work dir must
/// already be prepared.
pub fn execute(sandbox: &mut Sandbox, spec: &RunSpec) -> Result<RunOutcome, SandboxError> {
    let slot = sandbox.config.slot;
    let mut cgroup = RunCgroup::create(
        &sandbox.cgroup,
        spec.limits.memory_bytes,
        spec.limits.max_processes,
    )?;
    let result = execute_in(sandbox, spec, &mut cgroup);
    // Belt and braces: the pid namespace is gone, so this normally finds
    // the cgroup empty at once.
    if !cgroup.kill_and_wait() {
        tracing::error!(
            slot,
            "processes survived the run; the slot's cgroup is not empty"
        );
    }
    cgroup.delete();
    result
}

fn execute_in(
    sandbox: &Sandbox,
    spec: &RunSpec,
    cgroup: &mut RunCgroup,
) -> Result<RunOutcome, SandboxError> {
    let slot = sandbox.config.slot;
    let pipes = open_pipes(&spec.stdin)?;
    let mut plan = build_plan(sandbox, spec, &pipes)?;

    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::SIGCHLD;
    let started = Instant::now();
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack): the child gets
    // a copy of this address space and runs only `child::run_init`, which
    // uses raw syscalls and the already-built plan, never returning.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags as libc::c_ulong, 0, 0, 0, 0) };
    if pid == 0 {
        // SAFETY: we are the cloned child, and `plan` is our copy.
        unsafe { child::run_init(&mut plan) }
    }
    if pid < 0 {
        return Err(setup(
            "cloning into new namespaces (user namespaces must be enabled)",
            std::io::Error::last_os_error(),
        ));
    }
    let pid = pid as i32;
    drop(plan);

    // Our copies of the child's ends must close, or the pipes never EOF.
    let Pipes {
        stdin_child,
        stdin_feed,
        stdout,
        stderr,
        status,
        sync,
    } = pipes;
    drop((stdin_child, stdout.1, stderr.1, status.1, sync.0));

    // Finish the setup only the parent can do, while the child waits.
    let released = write_id_maps(pid, slot)
        .and_then(|()| cgroup.add_process(pid as u32))
        .and_then(|()| {
            nix::unistd::write(&sync.1, b"g")
                .map(drop)
                .map_err(|e| setup("releasing the sandbox", e.into()))
        });
    drop(sync.1);
    if let Err(e) = released {
        kill_process(pid);
        reap(pid);
        return Err(e);
    }
    tracing::debug!(slot, pid, "sandbox started");

    let exceeded = Arc::new(AtomicBool::new(false));
    let spawn_error = |e| SandboxError::Io {
        step: "starting output threads",
        source: e,
    };
    let stdout_reader =
        spawn_reader(stdout.0, spec.limits.stdout_bytes, exceeded.clone()).map_err(spawn_error);
    let stderr_reader =
        spawn_reader(stderr.0, spec.limits.stderr_bytes, exceeded.clone()).map_err(spawn_error);
    let stdin_writer = stdin_feed.map(|(fd, bytes)| spawn_stdin_writer(fd, bytes));
    let (stdout_reader, stderr_reader) = match (stdout_reader, stderr_reader) {
        (Ok(out), Ok(err)) => (out, err),
        (Err(e), _) | (_, Err(e)) => {
            kill_process(pid);
            reap(pid);
            return Err(e);
        }
    };

    let mut status_pipe = StatusPipe::new(status.0);
    let mut report = Report::default();
    let mut killed: Option<LimitKind> = None;
    let mut killed_at: Option<Instant> = None;
    loop {
        match status_pipe.poll(POLL_INTERVAL) {
            Ok(StatusEvent::Eof) => break,
            Ok(StatusEvent::Record([kind, a, b])) => match kind {
                RECORD_SETUP_FAILED => report.setup_failure = Some((a, b as i32)),
                RECORD_EXEC_FAILED => report.exec_failure = Some(a as i32),
                RECORD_PROGRAM_ENDED => report.program_status = Some(a as i32),
                _ => tracing::warn!(slot, kind, "unknown record from the sandbox init"),
            },
            Ok(StatusEvent::Nothing) => {}
            Err(e) => {
                tracing::error!(slot, error = %e, "reading the sandbox status pipe failed");
                killed_at.get_or_insert_with(Instant::now);
                kill_process(pid);
            }
        }
        cgroup.poll_memory();
        if killed.is_none() {
            let limits = &spec.limits;
            let reason = if exceeded.load(Ordering::Relaxed) {
                Some(LimitKind::Output)
            } else if cgroup.cpu_time() > limits.cpu_time {
                Some(LimitKind::CpuTime)
            } else if started.elapsed() > limits.wall_time {
                Some(LimitKind::WallTime)
            } else {
                None
            };
            if let Some(reason) = reason {
                tracing::debug!(slot, ?reason, "limit reached, killing the run");
                killed = Some(reason);
                killed_at = Some(Instant::now());
                // SIGKILL to the namespace init takes the whole pid
                // namespace down; the cgroup kill catches anything that
                // could still be forking at this instant.
                kill_process(pid);
                cgroup.kill_and_wait();
            }
        }
        if killed_at.is_some_and(|t| t.elapsed() > KILL_GRACE) {
            tracing::error!(slot, pid, "the sandbox init did not end after SIGKILL");
            break;
        }
    }
    let wall_time = started.elapsed();
    reap(pid);
    cgroup.kill_and_wait();

    let stdout = stdout_reader.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    if let Some(Ok(writer)) = stdin_writer {
        let _ = writer.join();
    }

    if let Some((step_id, errno)) = report.setup_failure {
        let step = Step::from_id(step_id)
            .map(Step::describe)
            .unwrap_or("an unknown step");
        return Err(SandboxError::Setup {
            step,
            source: std::io::Error::from_raw_os_error(errno),
        });
    }
    if let Some(errno) = report.exec_failure {
        if errno == libc::ENOENT {
            return Err(SandboxError::InvalidSpec(format!(
                "command {:?} not found in the sandbox",
                spec.argv[0]
            )));
        }
        return Err(SandboxError::Setup {
            step: "executing the command",
            source: std::io::Error::from_raw_os_error(errno),
        });
    }
    let status = match (report.program_status, killed) {
        (Some(wait_status), _) => decode_wait_status(wait_status),
        (None, Some(_)) => ExitStatus::Signaled(libc::SIGKILL),
        // Memory the program holds in tmpfs pages or kernel objects counts
        // in no process's RSS, so the OOM killer may pick our init, which
        // then cannot report. That is still the program's memory limit,
        // never an internal error.
        (None, None) if cgroup.oom_kills() > 0 => {
            killed = Some(LimitKind::Memory);
            ExitStatus::Signaled(libc::SIGKILL)
        }
        (None, None) => {
            return Err(SandboxError::Io {
                step: "waiting for the program",
                source: std::io::Error::other("the sandbox init ended without reporting"),
            })
        }
    };

    // The program may end before the monitor saw a reader's flag, so the
    // output limit is checked again once the readers are done.
    if killed.is_none() && exceeded.load(Ordering::Relaxed) {
        killed = Some(LimitKind::Output);
    }

    let cpu_time = cgroup.cpu_time();
    let oom_killed = cgroup.oom_kills() > 0;
    let limit = killed
        .or_else(|| infer_limit(status, oom_killed, cpu_time, spec, cgroup.pids_limit_hits()));
    let blocked_syscall =
        (status == ExitStatus::Signaled(libc::SIGSYS)).then(|| "unknown".to_string());
    Ok(RunOutcome {
        status,
        limit,
        blocked_syscall,
        cpu_time,
        wall_time,
        peak_memory_bytes: cgroup.peak_memory(),
        oom_killed,
        stdout,
        stderr,
        files: Vec::new(),
    })
}

fn decode_wait_status(status: i32) -> ExitStatus {
    if libc::WIFSIGNALED(status) {
        ExitStatus::Signaled(libc::WTERMSIG(status))
    } else {
        ExitStatus::Exited(libc::WEXITSTATUS(status))
    }
}

/// Names the limit behind an ending the monitor did not cause: an OOM
/// kill, RLIMIT_FSIZE (SIGXFSZ), the RLIMIT_CPU backstop, or a failing
/// program that hit the process limit.
fn infer_limit(
    status: ExitStatus,
    oom_killed: bool,
    cpu_time: Duration,
    spec: &RunSpec,
    pids_limit_hits: u64,
) -> Option<LimitKind> {
    if oom_killed {
        return Some(LimitKind::Memory);
    }
    match status {
        ExitStatus::Signaled(libc::SIGXFSZ) => Some(LimitKind::FileSize),
        ExitStatus::Signaled(libc::SIGXCPU) => Some(LimitKind::CpuTime),
        ExitStatus::Signaled(libc::SIGKILL) if cpu_time >= spec.limits.cpu_time => {
            Some(LimitKind::CpuTime)
        }
        ExitStatus::Exited(0) => None,
        _ if pids_limit_hits > 0 => Some(LimitKind::Processes),
        _ => None,
    }
}
