//! One run, supervisor side (Linux only): make sure the slot's init fits
//! the run, prepare its directories and plan, start it, watch the limits
//! and the pipes, account.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use crate::child::{
    self, SlotPlan, Step, PROGRAM_ID, RECORD_EXEC_FAILED, RECORD_PROGRAM_ENDED, RECORD_RESET_DONE,
    RECORD_SETUP_FAILED,
};
use crate::monitor::{OutputPipe, SigpipeBlock, StdinFeed};
use crate::mounts::{root_ops, shm_options, RootSources};
use crate::shared::{PlanInput, SharedRegion};
use crate::slot::{receive_message, Layout, SlotInit};
use crate::workdir::{WorkDirs, MAX_INODES};
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
/// How long to wait for the run to end after a kill request, and for a
/// reset, before the init itself is killed.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// `PATH` used to resolve `argv[0]` when the spec's env has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Plans above this size give their pages back after the run.
const LARGE_PLAN: usize = 1 << 20;

/// Returns the host (root, program) ids of a slot, as the crate docs lay
/// them out.
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

fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    // O_CLOEXEC: other threads of this process may fork and exec at any
    // time, and must not inherit our pipes.
    pipe2(OFlag::O_CLOEXEC).map_err(|e| setup("creating pipes", e.into()))
}

fn to_sock_fprog(program: &[seccompiler::sock_filter]) -> libc::sock_fprog {
    libc::sock_fprog {
        // `seccomp::compile` rejects programs over the kernel's 4096
        // instructions, so the length fits.
        len: program.len() as u16,
        // seccompiler's sock_filter has the kernel's layout, as libc's
        // does, and the kernel only reads through this pointer.
        filter: program.as_ptr() as *mut libc::sock_filter,
    }
}

/// Writes the uid and gid maps of the init's user namespace: inside 0 to
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

fn box_options(disk_bytes: u64) -> String {
    format!(
        "size={},nr_inodes={MAX_INODES},mode=0755,uid={PROGRAM_ID},gid={PROGRAM_ID}",
        disk_bytes.max(4096)
    )
}

fn tmp_options(disk_bytes: u64) -> String {
    format!("mode=1777,size={}", disk_bytes.max(4096))
}

/// Starts an init for `layout` unless the running one has it.
fn ensure_init(
    sandbox: &mut Sandbox,
    layout: &Layout,
    disk_bytes: u64,
) -> Result<(), SandboxError> {
    if sandbox
        .init
        .as_ref()
        .is_some_and(|init| init.layout == *layout)
    {
        return Ok(());
    }
    sandbox.dirs = None;
    // The old init's death empties the slot: it is PID 1 of the slot's
    // namespace.
    sandbox.init = None;
    let shared = SharedRegion::new()?;
    if !sandbox.cgroup.kill_and_wait() {
        return Err(setup(
            "emptying the slot cgroup",
            std::io::Error::other("processes of an earlier run survive in it"),
        ));
    }
    let options = (box_options(disk_bytes), tmp_options(disk_bytes));
    let binds: Vec<crate::Bind> = layout
        .binds
        .iter()
        .map(|(host, inside)| crate::Bind {
            host: host.clone(),
            inside: inside.clone(),
        })
        .collect();
    let ops = root_ops(&RootSources {
        root: &sandbox.root_dir,
        box_options: &options.0,
        tmp_options: &options.1,
        passwd: &sandbox.passwd,
        group: &sandbox.group,
        system_root: layout.root.as_deref().unwrap_or(Path::new("/")),
        binds: &binds,
    })?;
    let cap_last_cap = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(63);
    let plan = SlotPlan {
        root: CString::new(sandbox.root_dir.as_os_str().as_bytes())
            .map_err(|_| SandboxError::InvalidSpec("state_dir contains a NUL byte".into()))?,
        root_data: CString::new(ROOT_TMPFS).unwrap_or_default(),
        ops,
        hostname: b"sandbox",
        box_dir: c"/box".to_owned(),
        tmp_dir: c"/tmp".to_owned(),
        shm_dir: c"/dev/shm".to_owned(),
        shm_options: CString::new(shm_options()).unwrap_or_default(),
        control_fd: -1,
        cap_last_cap,
        allowlist_filter: to_sock_fprog(&sandbox.policy.allowlist_notify),
        notify: true,
        run: std::ptr::null(),
    };
    let slot = sandbox.config.slot;
    let cgroup = &sandbox.cgroup;
    let init = SlotInit::start(slot, plan, shared, layout.clone(), options, |pid| {
        write_id_maps(pid, slot)?;
        cgroup.add_process(pid as u32)
    })?;
    let (_, program_id) = host_ids(slot);
    sandbox.dirs = Some(WorkDirs::open(init.pid, program_id, program_id)?);
    tracing::debug!(slot, pid = init.pid, "slot init started");
    sandbox.init = Some(init);
    Ok(())
}

/// Drops the slot's init after a failure, so the next run starts a new
/// one from a clean cgroup.
fn discard_init(sandbox: &mut Sandbox) {
    sandbox.dirs = None;
    sandbox.init = None;
    if !sandbox.cgroup.kill_and_wait() {
        tracing::error!(
            slot = sandbox.config.slot,
            "the slot cgroup did not become empty"
        );
    }
}

/// Runs `spec` in the slot: the command runs in a fresh IPC namespace
/// and session under the slot's init, with fresh `/box` and `/tmp`
/// contents.
pub fn execute(sandbox: &mut Sandbox, spec: &RunSpec) -> Result<RunOutcome, SandboxError> {
    let layout = Layout {
        root: spec.root.clone(),
        binds: spec
            .binds
            .iter()
            .map(|b| (b.host.clone(), b.inside.clone()))
            .collect(),
    };
    let disk_bytes = spec.limits.disk_bytes;
    ensure_init(sandbox, &layout, disk_bytes)?;
    let result = execute_in(sandbox, spec);
    if let Err(e) = &result {
        if matches!(e, SandboxError::Io { .. }) {
            discard_init(sandbox);
        }
    }
    result
}

fn execute_in(sandbox: &mut Sandbox, spec: &RunSpec) -> Result<RunOutcome, SandboxError> {
    let slot = sandbox.config.slot;
    let argv = spec
        .argv
        .iter()
        .map(|a| c_string(a, "argument"))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = spec
        .env
        .iter()
        .map(|(k, v)| c_string(&format!("{k}={v}"), "environment entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let candidates = exec_candidates(spec)?;
    let limits = rlimits(spec);
    let options = (
        box_options(spec.limits.disk_bytes),
        tmp_options(spec.limits.disk_bytes),
    );
    let (Some(init), Some(dirs)) = (sandbox.init.as_mut(), sandbox.dirs.as_mut()) else {
        return Err(setup(
            "starting the slot's init",
            std::io::Error::other("no init"),
        ));
    };
    let plan_bytes = argv
        .iter()
        .chain(&envp)
        .map(|s| s.as_bytes_with_nul().len() + 8)
        .sum::<usize>();
    init.shared.write(&PlanInput {
        argv: &argv,
        envp: &envp,
        exec_candidates: &candidates,
        rlimits: &limits,
        box_options: &options.0,
        tmp_options: &options.1,
    })?;

    // Directories the last run (or its input files) left non-empty, and
    // those whose size changes, get fresh file systems.
    let mut reset = dirs.dirty()?;
    if init.box_options != options.0 {
        reset |= child::RESET_BOX;
    }
    if init.tmp_options != options.1 {
        reset |= child::RESET_TMP;
    }
    if reset != 0 {
        init.send(child::REQUEST_RESET, reset, &[])?;
        match init.receive(Some(KILL_GRACE))? {
            Some(message) if message.record[0] == RECORD_RESET_DONE => {}
            Some(message) if message.record[0] == RECORD_SETUP_FAILED => {
                // The old mount may be detached already, which leaves the
                // read-only root's directory in its place: start afresh.
                discard_init(sandbox);
                return Err(setup(
                    Step::ResetTmpfs.describe(),
                    std::io::Error::from_raw_os_error(message.record[2] as i32),
                ));
            }
            _ => {
                return Err(SandboxError::Io {
                    step: "resetting the work dirs",
                    source: std::io::Error::other(
                        "the slot's init did not report within the timeout",
                    ),
                })
            }
        }
        dirs.reopen(reset)?;
        init.box_options = options.0;
        init.tmp_options = options.1;
    }
    for file in &spec.files {
        dirs.place(file)?;
    }
    if !spec.files.is_empty() {
        dirs.mark_started()?;
    }

    let (stdin_child, stdin_feed) = match &spec.stdin {
        Stdin::Null => (
            OwnedFd::from(
                sandbox
                    .null
                    .try_clone()
                    .map_err(|e| setup("opening /dev/null", e))?,
            ),
            None,
        ),
        Stdin::Bytes(bytes) => {
            let (read, write) = pipe()?;
            (read, Some(StdinFeed::new(write, bytes.clone())?))
        }
        Stdin::HostFile(path) => {
            let file = File::open(path).map_err(|source| SandboxError::Io {
                step: "opening the stdin file",
                source,
            })?;
            (OwnedFd::from(file), None)
        }
    };
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let mut stdout = OutputPipe::new(stdout_read, spec.limits.stdout_bytes)?;
    let mut stderr = OutputPipe::new(stderr_read, spec.limits.stderr_bytes)?;
    let mut stdin_feed = stdin_feed;

    sandbox
        .cgroup
        .set_limits(spec.limits.memory_bytes, spec.limits.max_processes)?;
    let mut counters = sandbox.cgroup.begin()?;

    let started = Instant::now();
    init.send(
        child::REQUEST_RUN,
        0,
        &[
            stdin_child.as_raw_fd(),
            stdout_write.as_raw_fd(),
            stderr_write.as_raw_fd(),
        ],
    )?;
    // Our copies of the program's ends must close, or the pipes never EOF.
    drop((stdin_child, stdout_write, stderr_write));
    let _sigpipe = stdin_feed.as_ref().map(|_| SigpipeBlock::new());

    let control = init.control_fd();
    let mut blocked_syscall: Option<String> = None;
    let mut setup_failure: Option<(u32, i32)> = None;
    let mut exec_failure: Option<i32> = None;
    let mut program_status: Option<i32> = None;
    let mut init_gone = false;
    let mut killed: Option<LimitKind> = None;
    let mut kill_sent: Option<Instant> = None;
    let mut init_killed = false;
    // Saturating, so a caller's `Duration::MAX` means no wall limit
    // instead of an overflow panic.
    let wall_deadline = spec.limits.wall_time.saturating_add(KILL_GRACE);
    let mut last_check = started;
    let request_kill = |init: &mut SlotInit, kill_sent: &mut Option<Instant>| {
        if kill_sent.is_none() {
            *kill_sent = Some(Instant::now());
            if init.send(child::REQUEST_KILL, 0, &[]).is_err() {
                init.kill();
            }
        }
    };
    loop {
        let ended = program_status.is_some() || init_gone;
        if ended && stdout.done() && stderr.done() {
            break;
        }
        let mut poll_fds = Vec::with_capacity(5);
        let mut watch = |fd: i32, events: i16| {
            poll_fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            poll_fds.len() - 1
        };
        let control_index = (!ended).then(|| watch(control, libc::POLLIN));
        let stdout_index = stdout.fd().map(|fd| watch(fd, libc::POLLIN));
        let stderr_index = stderr.fd().map(|fd| watch(fd, libc::POLLIN));
        let stdin_index = stdin_feed
            .as_ref()
            .and_then(StdinFeed::fd)
            .map(|fd| watch(fd, libc::POLLOUT));
        let millis = POLL_INTERVAL.as_millis() as i32;
        // SAFETY: a live array of pollfds and its length.
        let ready = unsafe {
            libc::poll(
                poll_fds.as_mut_ptr(),
                poll_fds.len() as libc::nfds_t,
                millis,
            )
        };
        let fired =
            |index: Option<usize>| ready > 0 && index.is_some_and(|i| poll_fds[i].revents != 0);
        if fired(control_index) {
            match receive_message(control)? {
                None => init_gone = true,
                Some(message) => {
                    let [kind, a, b] = message.record;
                    match kind {
                        RECORD_SETUP_FAILED => setup_failure = Some((a, b as i32)),
                        RECORD_EXEC_FAILED => exec_failure = Some(a as i32),
                        RECORD_PROGRAM_ENDED => {
                            program_status = Some(a as i32);
                            if b > 0 {
                                let number = i64::from(b - 1);
                                blocked_syscall = Some(
                                    crate::seccomp::syscall_name(
                                        crate::seccomp::AUDIT_ARCH_X86_64,
                                        number,
                                    )
                                    .map(str::to_string)
                                    .unwrap_or_else(|| format!("syscall {number}")),
                                );
                            }
                        }
                        _ => tracing::warn!(slot, kind, "unexpected record from the slot's init"),
                    }
                }
            }
        }
        if fired(stdout_index) {
            stdout.read_available();
        }
        if fired(stderr_index) {
            stderr.read_available();
        }
        if fired(stdin_index) {
            if let Some(feed) = stdin_feed.as_mut() {
                feed.write_available();
            }
        }

        if killed.is_none() && program_status.is_none() {
            let reason = if stdout.exceeded() || stderr.exceeded() {
                Some(LimitKind::Output)
            } else if last_check.elapsed() >= POLL_INTERVAL {
                last_check = Instant::now();
                sandbox.cgroup.poll_memory(&mut counters);
                if sandbox.cgroup.cpu_time(&counters) > spec.limits.cpu_time {
                    Some(LimitKind::CpuTime)
                } else if started.elapsed() > spec.limits.wall_time {
                    Some(LimitKind::WallTime)
                } else {
                    None
                }
            } else {
                None
            };
            if let Some(reason) = reason {
                tracing::debug!(slot, ?reason, "limit reached, killing the run");
                killed = Some(reason);
                request_kill(init, &mut kill_sent);
            }
        }
        let stuck = kill_sent.is_some_and(|t| t.elapsed() > KILL_GRACE)
            || (ended && started.elapsed() > wall_deadline);
        if stuck && !init_killed {
            tracing::error!(slot, "the run did not end in time, killing the slot's init");
            init.kill();
            init_killed = true;
            init_gone = true;
        }
        // A pipe that stays open after the init's death is held outside
        // the slot, so give up on it after a second grace period.
        let given_up = kill_sent.is_some_and(|t| t.elapsed() > KILL_GRACE * 2)
            || started.elapsed() > wall_deadline.saturating_add(KILL_GRACE);
        if stuck && given_up {
            tracing::error!(slot, "the run's output pipes did not close, leaving them");
            break;
        }
    }
    let wall_time = started.elapsed();
    let stdout = stdout.into_bytes();
    let stderr = stderr.into_bytes();
    let cpu_time = sandbox.cgroup.cpu_time(&counters);
    let oom_kills = sandbox.cgroup.oom_kills(&counters);
    // Read only when it can matter (see `infer_limit`).
    let pids_limit_hits = if matches!(status_hint(program_status), Some(ExitStatus::Exited(0))) {
        0
    } else {
        sandbox.cgroup.pids_limit_hits(&counters)
    };
    let peak_memory_bytes = sandbox.cgroup.peak_memory(&counters);
    if plan_bytes > LARGE_PLAN {
        init.shared.trim();
    }
    if init_gone {
        discard_init(sandbox);
    }

    if let Some((step_id, errno)) = setup_failure {
        let step = Step::from_id(step_id)
            .map(Step::describe)
            .unwrap_or("an unknown step");
        return Err(SandboxError::Setup {
            step,
            source: std::io::Error::from_raw_os_error(errno),
        });
    }
    if let Some(errno) = exec_failure {
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
    let status = match (program_status, killed, &blocked_syscall) {
        (_, _, Some(_)) => ExitStatus::Signaled(libc::SIGSYS),
        (Some(wait_status), _, _) => decode_wait_status(wait_status),
        (None, Some(_), _) => ExitStatus::Signaled(libc::SIGKILL),
        // Memory the program holds in tmpfs pages or kernel objects counts
        // in no process's RSS, so the OOM killer may pick the slot's init,
        // whose death ends the run without a report. That is still the
        // program's memory limit, never an internal error.
        (None, None, None) if oom_kills > 0 => {
            killed = Some(LimitKind::Memory);
            ExitStatus::Signaled(libc::SIGKILL)
        }
        (None, None, None) => {
            return Err(SandboxError::Io {
                step: "waiting for the program",
                source: std::io::Error::other("the slot's init ended without reporting"),
            })
        }
    };
    // The program may end before the monitor saw the output flag, so the
    // output limit is checked again once the pipes are drained.
    if killed.is_none() && blocked_syscall.is_none() && (stdout.1 || stderr.1) {
        killed = Some(LimitKind::Output);
    }
    let blocked_syscall = blocked_syscall.or_else(|| {
        // Calls of another ABI are killed by the filter itself, without a
        // notification.
        (status == ExitStatus::Signaled(libc::SIGSYS)).then(|| "x32 or i386 ABI call".to_string())
    });
    let oom_killed = oom_kills > 0;
    let limit = if blocked_syscall.is_some() {
        None
    } else {
        killed.or_else(|| infer_limit(status, oom_killed, cpu_time, spec, pids_limit_hits))
    };
    Ok(RunOutcome {
        status,
        limit,
        blocked_syscall,
        cpu_time,
        wall_time,
        peak_memory_bytes,
        oom_killed,
        stdout: stdout.0,
        stderr: stderr.0,
        files: Vec::new(),
    })
}

fn rlimits(spec: &RunSpec) -> Vec<(u32, u64)> {
    let limits = &spec.limits;
    // A backstop for the polled CPU limit: one second above it, rounded
    // up, so it fires only if the monitor is stalled.
    let cpu_seconds = limits
        .cpu_time
        .as_secs()
        .saturating_add(u64::from(limits.cpu_time.subsec_nanos() > 0) + 1);
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

/// Decodes the program's wait status, if the program was reaped.
fn status_hint(program_status: Option<i32>) -> Option<ExitStatus> {
    program_status.map(decode_wait_status)
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
