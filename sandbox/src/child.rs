//! Code that runs in the slot's init and in the program process it forks
//! (Linux only).
//!
//! The slot's init is cloned once per slot from the supervisor into new
//! user, PID, mount, network, IPC and UTS namespaces. It builds the
//! sandbox root, pivots into it and then serves runs. For each request it
//! forks the program with `CLONE_VM | CLONE_VFORK`, which copies no
//! address space, so starting a run costs about what `posix_spawn` costs.
//! It then waits for the program, kills whatever the program left behind
//! and reports the wait status. It is PID 1 of the slot's PID namespace, so every process of a
//! run is its descendant, and its death takes them all down.
//!
//! The supervisor is multi-threaded, and after `clone` only the cloning
//! thread exists in the child. Another thread may have held the
//! allocator's lock or any other lock at that instant, so everything here
//! uses only raw syscalls through `libc` and data prepared by the
//! supervisor ([`SlotPlan`] before the clone, [`RunPlan`] in shared memory
//! per run): no allocation, no locks, no panics (a panic would allocate).
//!
//! Messages on the control socket (`SOCK_SEQPACKET`, so each is one
//! datagram) are 16 bytes, `[kind, a, b, 0]` as native-endian `u32`s.

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};

use crate::shared::RunPlan;

/// Length of every control message.
pub const RECORD_LEN: usize = 16;

// Supervisor to init.
/// The id maps are written and the init is in its cgroup: set up.
pub const REQUEST_GO: u32 = 1;
/// Start the run whose plan is in shared memory. The request carries the
/// program's stdin, stdout and stderr as `SCM_RIGHTS`.
pub const REQUEST_RUN: u32 = 2;
/// Kill every process of the current run.
pub const REQUEST_KILL: u32 = 3;
/// Mount fresh tmpfs file systems over the directories in bit set `a`
/// ([`RESET_BOX`], [`RESET_TMP`], [`RESET_SHM`]) with the options in the
/// shared plan.
pub const REQUEST_RESET: u32 = 4;

pub const RESET_BOX: u32 = 1;
pub const RESET_TMP: u32 = 2;
pub const RESET_SHM: u32 = 4;

// Init (or program process) to supervisor.
/// The root is built; runs may start.
pub const RECORD_READY: u32 = 10;
/// `a` is a [`Step`] id and `b` the errno: setup failed.
pub const RECORD_SETUP_FAILED: u32 = 11;
/// `a` is the errno of the last `execve` attempt.
pub const RECORD_EXEC_FAILED: u32 = 12;
/// Every process of the run is gone. `a` is the program's wait status as
/// returned by `waitpid`, and `b` is the number plus one of the first
/// syscall the filter blocked (0 if none).
pub const RECORD_PROGRAM_ENDED: u32 = 13;
/// The reset request is done.
pub const RECORD_RESET_DONE: u32 = 14;

/// The inside uid and gid of the program.
pub const PROGRAM_ID: u32 = 1000;

/// Setup steps in the child, reported with the errno when one fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    WaitForParent,
    BecomeNamespaceRoot,
    CloseFds,
    CgroupNamespace,
    MakeMountsPrivate,
    MountRoot,
    Mkdir,
    CreateFile,
    WriteFile,
    Symlink,
    BindMount,
    RemountReadOnly,
    MountTmpfs,
    MountProc,
    PivotRoot,
    DetachOldRoot,
    RemountRootReadOnly,
    SetHostname,
    SlotInitResources,
    ResetTmpfs,
    ForkProgram,
    IpcNamespace,
    NewSession,
    Stdio,
    Rlimit,
    Chdir,
    DropCapabilities,
    SetGroups,
    SetIds,
    NoNewPrivs,
    Seccomp,
}

const STEPS: &[Step] = &[
    Step::WaitForParent,
    Step::BecomeNamespaceRoot,
    Step::CloseFds,
    Step::CgroupNamespace,
    Step::MakeMountsPrivate,
    Step::MountRoot,
    Step::Mkdir,
    Step::CreateFile,
    Step::WriteFile,
    Step::Symlink,
    Step::BindMount,
    Step::RemountReadOnly,
    Step::MountTmpfs,
    Step::MountProc,
    Step::PivotRoot,
    Step::DetachOldRoot,
    Step::RemountRootReadOnly,
    Step::SetHostname,
    Step::SlotInitResources,
    Step::ResetTmpfs,
    Step::ForkProgram,
    Step::IpcNamespace,
    Step::NewSession,
    Step::Stdio,
    Step::Rlimit,
    Step::Chdir,
    Step::DropCapabilities,
    Step::SetGroups,
    Step::SetIds,
    Step::NoNewPrivs,
    Step::Seccomp,
];

impl Step {
    pub fn from_id(id: u32) -> Option<Step> {
        STEPS.iter().copied().find(|s| *s as u32 == id)
    }

    /// The step and, where it is not obvious, the usual fix.
    pub fn describe(self) -> &'static str {
        match self {
            Step::WaitForParent => "waiting for the supervisor (it failed or died)",
            Step::BecomeNamespaceRoot => "switching to the namespace's root ids",
            Step::CloseFds => "closing inherited file descriptors (needs Linux 5.9+)",
            Step::CgroupNamespace => "creating the cgroup namespace",
            Step::MakeMountsPrivate => "making mounts private in the new mount namespace",
            Step::MountRoot => {
                "mounting the root tmpfs (the state dir and its parents must be searchable \
                 by others, mode o+x)"
            }
            Step::Mkdir => "creating a mount point in the sandbox root",
            Step::CreateFile => "creating a file mount point in the sandbox root",
            Step::WriteFile => "writing a file into the sandbox root",
            Step::Symlink => "creating a symlink in the sandbox root",
            Step::BindMount => {
                "bind-mounting a host path (it must exist and be searchable by others)"
            }
            Step::RemountReadOnly => "remounting a bind mount read-only",
            Step::MountTmpfs => "mounting a tmpfs",
            Step::MountProc => {
                "mounting /proc in the new pid namespace (fails when the host /proc has \
                 paths masked by overmounts)"
            }
            Step::PivotRoot => "pivot_root into the sandbox root",
            Step::DetachOldRoot => "detaching the old root",
            Step::RemountRootReadOnly => "remounting the sandbox root read-only",
            Step::SetHostname => "setting the hostname",
            Step::SlotInitResources => {
                "preparing the slot's init (signalfd, child stack, /proc/sys/kernel/ns_last_pid)"
            }
            Step::ResetTmpfs => "mounting a fresh /box, /tmp or /dev/shm",
            Step::ForkProgram => "forking the program process",
            Step::IpcNamespace => "creating the run's IPC or network namespace",
            Step::NewSession => "starting a new session",
            Step::Stdio => "setting up stdin, stdout and stderr",
            Step::Rlimit => "setting resource limits",
            Step::Chdir => "changing into /box",
            Step::DropCapabilities => "dropping capabilities",
            Step::SetGroups => "clearing supplementary groups",
            Step::SetIds => "switching to the sandbox uid and gid",
            Step::NoNewPrivs => "setting no_new_privs",
            Step::Seccomp => "installing the seccomp filter",
        }
    }
}

/// One step of building the sandbox root, with host paths below the root
/// mount point (the sandbox is not yet pivoted into it).
pub enum MountOp {
    Mkdir {
        path: CString,
    },
    /// An empty file to bind a host file onto.
    CreateFile {
        path: CString,
    },
    /// A file written into the root tmpfs, for synthesized files such as
    /// `/etc/passwd`. Writing beats a bind mount from the host, whose source
    /// path `/proc/self/mountinfo` would show.
    WriteFile {
        path: CString,
        contents: Vec<u8>,
    },
    Symlink {
        target: CString,
        path: CString,
    },
    /// A recursive bind mount, then a remount of its top with `flags`
    /// (`MS_RDONLY`, `MS_NOSUID`, ...), keeping the flags the kernel locks
    /// for mounts that came from a more privileged namespace.
    Bind {
        source: CString,
        target: CString,
        flags: libc::c_ulong,
    },
    Tmpfs {
        target: CString,
        flags: libc::c_ulong,
        data: CString,
    },
    Proc {
        target: CString,
    },
    /// A remount of an existing mount's top with `flags`.
    Remount {
        target: CString,
        flags: libc::c_ulong,
    },
}

/// Everything the slot's init needs, prepared by the supervisor before
/// `clone`.
pub struct SlotPlan {
    pub root: CString,
    pub root_data: CString,
    pub ops: Vec<MountOp>,
    pub hostname: &'static [u8],
    /// Inside paths of the directories a reset mounts afresh.
    pub box_dir: CString,
    pub tmp_dir: CString,
    pub shm_dir: CString,
    /// Mount options of a fresh `/dev/shm`.
    pub shm_options: CString,
    pub control_fd: i32,
    pub cap_last_cap: u32,
    pub allowlist_filter: libc::sock_fprog,
    /// Whether the allowlist's default action is `SECCOMP_RET_USER_NOTIF`,
    /// whose listener the init watches to name a blocked call.
    pub notify: bool,
    /// The run plan in shared memory.
    pub run: *const RunPlan,
}

/// Lowest fd number the init moves its control socket to, above stdio
/// and the fds of a run request.
const KEPT_FD_BASE: i32 = 64;
/// Fd number of the init's `/dev/null`, which restores 0..2 after each
/// fork.
const NULL_FD: i32 = 63;
/// Size of the stack of the forked program process until it execs.
const CHILD_STACK_BYTES: usize = 256 << 10;

fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot,
    // which stays valid for the thread's life. The init's only thread is a
    // copy of the cloning thread, whose TLS block was copied with it. The
    // program process shares that slot with the init, which CLONE_VFORK
    // keeps suspended until the exec.
    unsafe { *libc::__errno_location() }
}

// The id calls below go straight to the kernel. glibc's wrappers would
// apply the change to every thread it believes the process has: in a
// multi-threaded parent's clone that means taking glibc's thread-list lock
// and signalling threads that do not exist here, which can hang.

fn raw_setgroups_empty() -> libc::c_long {
    // SAFETY: a zero-length list needs no pointer.
    unsafe { libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()) }
}

fn raw_setresgid(id: u32) -> libc::c_long {
    // SAFETY: integer arguments only.
    unsafe { libc::syscall(libc::SYS_setresgid, id, id, id) }
}

fn raw_setresuid(id: u32) -> libc::c_long {
    // SAFETY: integer arguments only.
    unsafe { libc::syscall(libc::SYS_setresuid, id, id, id) }
}

/// Sends one record, with `fd` attached when it is not -1. A failed send
/// cannot be reported anywhere else, so the supervisor treats a missing
/// record as a failed run.
fn send_record(control: i32, kind: u32, a: u32, b: u32, fd: i32) {
    let mut record = [0u8; RECORD_LEN];
    record[0..4].copy_from_slice(&kind.to_ne_bytes());
    record[4..8].copy_from_slice(&a.to_ne_bytes());
    record[8..12].copy_from_slice(&b.to_ne_bytes());
    let mut iov = libc::iovec {
        iov_base: record.as_mut_ptr().cast(),
        iov_len: RECORD_LEN,
    };
    // Room for one cmsghdr with one int, 8-byte aligned.
    let mut control_buffer = [0u64; 4];
    // SAFETY: an all-zero msghdr is valid.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    if fd >= 0 {
        // SAFETY: CMSG_SPACE and CMSG_LEN are pure arithmetic.
        let (space, length) = unsafe {
            (
                libc::CMSG_SPACE(std::mem::size_of::<c_int>() as u32),
                libc::CMSG_LEN(std::mem::size_of::<c_int>() as u32),
            )
        };
        message.msg_control = control_buffer.as_mut_ptr().cast();
        message.msg_controllen = space as usize;
        // SAFETY: the control buffer is 32 bytes, larger than `space`, so
        // the first header and its data lie inside it.
        unsafe {
            let header = libc::CMSG_FIRSTHDR(&message);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = length as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<c_int>(), fd);
        }
    }
    // SAFETY: the message points at live locals for the call's duration.
    unsafe { libc::sendmsg(control, &message, libc::MSG_NOSIGNAL) };
}

/// Reports a failed setup step and ends the process.
fn fail(control: i32, step: Step, error: i32) -> ! {
    send_record(control, RECORD_SETUP_FAILED, step as u32, error as u32, -1);
    // SAFETY: _exit ends the process without running atexit handlers or
    // touching locks, which is what a cloned child must do.
    unsafe { libc::_exit(1) }
}

/// Fails at `step` when a libc call returned -1.
fn check(control: i32, step: Step, result: libc::c_long) {
    if result == -1 {
        fail(control, step, errno());
    }
}

/// Reads one request: its kind and up to three fds. Returns `None` on EOF
/// or error (the supervisor is gone).
fn receive_request(control: i32, fds: &mut [i32; 3]) -> Option<[u32; 3]> {
    let mut record = [0u8; RECORD_LEN];
    let mut iov = libc::iovec {
        iov_base: record.as_mut_ptr().cast(),
        iov_len: RECORD_LEN,
    };
    let mut control_buffer = [0u64; 8];
    // SAFETY: an all-zero msghdr is valid.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control_buffer.as_mut_ptr().cast();
    message.msg_controllen = std::mem::size_of_val(&control_buffer);
    let received = loop {
        // SAFETY: the message points at live locals for the call's duration.
        let received = unsafe { libc::recvmsg(control, &mut message, libc::MSG_CMSG_CLOEXEC) };
        if received == -1 && errno() == libc::EINTR {
            continue;
        }
        break received;
    };
    if received != RECORD_LEN as isize {
        return None;
    }
    *fds = [-1; 3];
    // SAFETY: the kernel filled at most msg_controllen bytes of our buffer;
    // the CMSG macros stay inside it.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&message);
        if !header.is_null()
            && (*header).cmsg_level == libc::SOL_SOCKET
            && (*header).cmsg_type == libc::SCM_RIGHTS
        {
            let data = libc::CMSG_DATA(header).cast::<c_int>();
            let count =
                ((*header).cmsg_len - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<c_int>();
            for (i, slot) in fds.iter_mut().enumerate().take(count.min(3)) {
                *slot = std::ptr::read_unaligned(data.add(i));
            }
            // More fds than expected are closed, never kept.
            for i in 3..count {
                libc::close(std::ptr::read_unaligned(data.add(i)));
            }
        }
    }
    let word =
        |i: usize| u32::from_ne_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
    Some([word(0), word(4), word(8)])
}

/// Runs the slot's init as PID 1 of its new PID namespace and never
/// returns.
///
/// # Safety
/// Must be called only in the child of a `clone` that created the
/// namespaces, with `plan` prepared by the supervisor and its control fd
/// open.
pub unsafe fn run_slot_init(plan: &mut SlotPlan) -> ! {
    // A supervisor that dies (a crashed or killed worker) must take the
    // slot with it, because no other process enforces its limits. The
    // signal follows the death of the thread that cloned us, which the
    // supervisor keeps alive for the slot's lifetime. Set before the first
    // wait, so a supervisor that died right after clone is noticed there
    // (the control socket reads EOF).
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };

    // Keep only the control socket, moved above the range where a run
    // request's fds land. Other threads of the supervisor may have had fds
    // open at clone time (pipes of other slots), and holding them would
    // delay those slots' EOF.
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) only creates a new fd.
    let control = unsafe { libc::fcntl(plan.control_fd, libc::F_DUPFD_CLOEXEC, KEPT_FD_BASE) };
    if control == -1 {
        fail(plan.control_fd, Step::CloseFds, errno());
    }
    plan.control_fd = control;
    // SAFETY: close_range only closes fds in the ranges, which exclude the
    // control socket.
    unsafe {
        libc::syscall(libc::SYS_close_range, 0u32, control as u32 - 1, 0);
        libc::syscall(libc::SYS_close_range, control as u32 + 1, u32::MAX, 0);
    }

    // Wait until the supervisor has written our uid/gid maps and moved us
    // into the slot's cgroup: before that we have no usable ids and no
    // limits.
    let mut fds = [-1; 3];
    match receive_request(control, &mut fds) {
        Some([REQUEST_GO, _, _]) => {}
        _ => fail(control, Step::WaitForParent, errno()),
    }

    // We still carry the host's root ids, which the namespace does not
    // map, so files we create would get no valid owner (EOVERFLOW). Switching
    // to the inside root (the slot's host root id) keeps our capabilities
    // in the namespace, because its root id is the one we switch to.
    check(control, Step::BecomeNamespaceRoot, raw_setgroups_empty());
    check(control, Step::BecomeNamespaceRoot, raw_setresgid(0));
    check(control, Step::BecomeNamespaceRoot, raw_setresuid(0));

    // Only now that we are in the slot's cgroup does a new cgroup
    // namespace root it there, hiding the host's cgroup paths.
    // SAFETY: unshare has no memory effects.
    check(control, Step::CgroupNamespace, unsafe {
        libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long
    });

    build_root(plan);

    // SAFETY: sethostname reads `hostname.len()` bytes from a static slice.
    check(control, Step::SetHostname, unsafe {
        libc::sethostname(plan.hostname.as_ptr().cast(), plan.hostname.len()) as libc::c_long
    });

    prepare_signals(control);
    // Fds 0..2 stay taken by /dev/null, so the fds of a run request never
    // land there and the program's dup2 onto 0..2 cannot clobber one.
    // SAFETY: a valid C string; dup2 and close between our own fds.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        check(control, Step::Stdio, libc::c_long::from(null));
        check(
            control,
            Step::Stdio,
            libc::c_long::from(libc::dup3(null, NULL_FD, libc::O_CLOEXEC)),
        );
        libc::close(null);
        for target in 0..3 {
            libc::dup2(NULL_FD, target);
        }
    }

    // Capabilities no program may ever regain through exec: empty the
    // bounding set once here, while we hold CAP_SETPCAP in the namespace.
    // Our own effective set, which later mounts need, is unaffected.
    for cap in 0..=plan.cap_last_cap {
        // SAFETY: prctl with integer arguments only.
        let dropped = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if dropped == -1 && errno() != libc::EINVAL {
            fail(control, Step::DropCapabilities, errno());
        }
    }

    // Resetting the pid counter before every run makes a run's pids the
    // same whatever earlier runs did, so pid numbers carry nothing from
    // one run to the next.
    // SAFETY: a valid C string.
    let last_pid = unsafe {
        libc::open(
            c"/proc/sys/kernel/ns_last_pid".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        )
    };
    check(
        control,
        Step::SlotInitResources,
        libc::c_long::from(last_pid),
    );

    // SAFETY: an anonymous private mapping; checked below.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            CHILD_STACK_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        fail(control, Step::SlotInitResources, errno());
    }
    // SAFETY: the end of the mapping; the stack grows down from it.
    let stack_top = unsafe { stack.cast::<u8>().add(CHILD_STACK_BYTES) }.cast::<c_void>();

    // The first run's IPC namespace is the one we were cloned into.
    forced_shm_removal();
    let signals = signal_fd(control);
    send_record(control, RECORD_READY, 0, 0, -1);
    serve(plan, control, signals, last_pid, stack_top)
}

/// Resets every signal disposition to the default, which execve keeps for
/// ignored signals (the supervisor ignores SIGPIPE, and a program must
/// not inherit that), and blocks SIGCHLD, which the init reads from a
/// signalfd instead.
fn prepare_signals(control: i32) {
    for signal in 1..=64 {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: an all-zero sigaction is SIG_DFL with an empty mask, and
        // the kernel copies it. The raw syscall avoids glibc's wrapper, which
        // refuses its own internal signals.
        unsafe {
            let action: KernelSigaction = std::mem::zeroed();
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &action,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            );
        }
    }
    let mask: u64 = 1 << (libc::SIGCHLD - 1);
    // SAFETY: an 8-byte kernel sigset on the stack.
    check(control, Step::SlotInitResources, unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &mask,
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    });
}

/// `struct sigaction` as the x86_64 kernel reads it.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

fn signal_fd(control: i32) -> i32 {
    let mask: u64 = 1 << (libc::SIGCHLD - 1);
    // SAFETY: an 8-byte kernel sigset on the stack.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_signalfd4,
            -1,
            &mask,
            8usize,
            libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
        )
    };
    check(control, Step::SlotInitResources, fd);
    fd as i32
}

/// Inputs of the program process, on the init's stack while the init
/// waits for it to exec.
struct ProgramStart<'a> {
    slot: &'a SlotPlan,
    run: &'a RunPlan,
    control: i32,
    stdio: [i32; 3],
    /// The seccomp listener fd the program process created (-1 if none),
    /// in the fd table it shares with the init until exec.
    listener: std::cell::Cell<i32>,
    /// Whether the init's IPC namespace is still unused, so the program can
    /// take it instead of creating one.
    fresh_ipc: bool,
    /// Whether the program takes a network namespace of its own.
    new_net: bool,
}

/// The run in progress, as the init tracks it.
struct Current {
    /// The program's pid, or 0 when none runs.
    program: libc::pid_t,
    /// The program's wait status, once reaped.
    status: Option<c_int>,
    /// The seccomp listener of the run, or -1 if none.
    listener: i32,
    /// The first blocked syscall's number plus one, or 0 if none.
    blocked: u32,
    /// Whether the init's own IPC namespace is fresh: no process of any
    /// run has been in it.
    fresh_ipc: bool,
    /// Whether the next program needs a network namespace of its own,
    /// because an earlier run left sockets in the slot's.
    new_net: bool,
    /// Whether a run ended since the last [`prepare_next`].
    prepare_pending: bool,
}

/// How long the init waits after a run before preparing the next one, in
/// milliseconds. Preparing right away competed with the supervisor's
/// accounting and the next process start for the machine's cores, which
/// measured about 70 µs slower per run on two cores.
const PREPARE_DELAY_MS: i32 = 2;

/// Prepares the next run while the slot is idle: a fresh IPC namespace
/// for it (the old one goes with its last process, which is gone), with
/// `shm_rmid_forced` set, and the check for sockets left in the slot's
/// network namespace.
fn prepare_next(current: &mut Current) {
    if !current.prepare_pending {
        return;
    }
    current.prepare_pending = false;
    // SAFETY: unshare has no memory effects.
    current.fresh_ipc = unsafe { libc::unshare(libc::CLONE_NEWIPC) } == 0;
    if current.fresh_ipc {
        forced_shm_removal();
    }
    current.new_net = sockets_left();
}

/// Serves the supervisor's requests and never returns.
fn serve(plan: &SlotPlan, control: i32, signals: i32, last_pid: i32, stack_top: *mut c_void) -> ! {
    let mut current = Current {
        program: 0,
        status: None,
        listener: -1,
        blocked: 0,
        // The init was cloned into a new IPC namespace.
        fresh_ipc: true,
        new_net: false,
        prepare_pending: false,
    };
    loop {
        let watch = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // A negative fd is ignored by poll.
        let mut poll_fds = [watch(control), watch(signals), watch(current.listener)];
        let timeout = if current.prepare_pending {
            PREPARE_DELAY_MS
        } else {
            -1
        };
        // SAFETY: three live pollfds.
        let ready = unsafe { libc::poll(poll_fds.as_mut_ptr(), 3, timeout) };
        if ready == 0 {
            prepare_next(&mut current);
            continue;
        }
        if ready == -1 {
            continue;
        }
        if poll_fds[2].revents != 0 {
            notified(&mut current, poll_fds[2].revents);
        }
        if poll_fds[1].revents != 0 {
            drain(signals);
            reap(control, &mut current);
        }
        if poll_fds[0].revents == 0 {
            continue;
        }
        let mut fds = [-1; 3];
        let Some([kind, a, _]) = receive_request(control, &mut fds) else {
            // The supervisor is gone: end the run and the slot.
            kill_all();
            // SAFETY: see `fail`.
            unsafe { libc::_exit(0) }
        };
        let idle = current.program == 0 && current.status.is_none();
        match kind {
            REQUEST_RUN if idle => {
                prepare_next(&mut current);
                start_program(plan, control, fds, last_pid, stack_top, &mut current);
                close_all(&fds);
                if current.program == 0 {
                    // The fork failed and was reported, so end the run.
                    send_record(control, RECORD_PROGRAM_ENDED, 127 << 8, 0, -1);
                }
            }
            REQUEST_KILL if current.program != 0 => kill_all(),
            REQUEST_RESET if idle => {
                reset(plan, control, a);
                close_all(&fds);
            }
            _ => close_all(&fds),
        }
    }
}

/// Sets `kernel.shm_rmid_forced` in the init's current IPC namespace, so
/// System V segments a run leaves are destroyed, and their pages freed,
/// as its processes exit rather than when the kernel frees the namespace
/// later. Best effort: kernels that keep the setting read-only in a user
/// namespace still free the segments, only later.
fn forced_shm_removal() {
    // SAFETY: a valid C string; the fd is closed right after the write.
    unsafe {
        let fd = libc::open(
            c"/proc/sys/kernel/shm_rmid_forced".as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd >= 0 {
            libc::write(fd, c"1".as_ptr().cast(), 1);
            libc::close(fd);
        }
    }
}

/// `struct seccomp_notif` of linux/seccomp.h.
#[repr(C)]
struct SeccompNotif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    instruction_pointer: u64,
    args: [u64; 6],
}

/// `SECCOMP_IOCTL_NOTIF_RECV`: `_IOWR('!', 0, struct seccomp_notif)`.
const SECCOMP_IOCTL_NOTIF_RECV: libc::c_ulong = 0xc050_2100;

/// Handles an event on the seccomp listener. A process of the run made a
/// call outside the allowlist: note the first one and end the run. The
/// calling thread stays blocked until killed.
fn notified(current: &mut Current, revents: libc::c_short) {
    if revents & libc::POLLIN == 0 {
        // POLLHUP (no process uses the filter any more) or POLLERR: there
        // is nothing to receive, and on kernels older than about 6.11 the
        // receive would block.
        // SAFETY: closing our own fd.
        unsafe { libc::close(current.listener) };
        current.listener = -1;
        return;
    }
    // SAFETY: all-zero is a valid seccomp_notif, and the kernel requires
    // the buffer zeroed.
    let mut notification: SeccompNotif = unsafe { std::mem::zeroed() };
    // SAFETY: the ioctl writes one seccomp_notif (80 bytes, the size the
    // request number encodes) into a live local.
    let received = unsafe {
        libc::ioctl(
            current.listener,
            SECCOMP_IOCTL_NOTIF_RECV,
            &mut notification as *mut SeccompNotif,
        )
    };
    if received == -1 {
        // ENOENT: a signal or a kill ended the call before we read it. The
        // listener must stay open, because without one the filter returns
        // ENOSYS for the next denied call instead of notifying.
        let error = errno();
        if error != libc::ENOENT && error != libc::EINTR {
            // SAFETY: closing our own fd.
            unsafe { libc::close(current.listener) };
            current.listener = -1;
        }
        return;
    }
    if current.blocked == 0 {
        current.blocked = (notification.nr as u32).saturating_add(1);
    }
    kill_all();
}

fn close_all(fds: &[i32; 3]) {
    for &fd in fds {
        if fd >= 0 {
            // SAFETY: closing an fd we received and own.
            unsafe { libc::close(fd) };
        }
    }
}

fn drain(signals: i32) {
    let mut buffer = [0u8; 128 * 4];
    // SAFETY: reads into a live buffer; the fd is non-blocking, so the
    // loop ends at EAGAIN.
    while unsafe { libc::read(signals, buffer.as_mut_ptr().cast(), buffer.len()) } > 0 {}
}

/// SIGKILL to every process in the slot's PID namespace but the init,
/// which is the whole run.
fn kill_all() {
    // SAFETY: kill has no memory effects.
    unsafe { libc::kill(-1, libc::SIGKILL) };
}

/// Reaps every ended child. When the program itself ends, kills what it
/// left behind. Once no child is left, reports the program's status and
/// the blocked syscall, if any.
fn reap(control: i32, current: &mut Current) {
    loop {
        let mut wait_status: c_int = 0;
        // SAFETY: waitpid writes the status into a live local.
        let reaped = unsafe { libc::waitpid(-1, &mut wait_status, libc::WNOHANG | libc::__WALL) };
        if reaped > 0 {
            if reaped == current.program {
                current.program = 0;
                current.status = Some(wait_status);
                // Nothing a run started outlives its program.
                kill_all();
            }
            continue;
        }
        if reaped == -1 && errno() == libc::EINTR {
            continue;
        }
        if reaped == -1 && errno() == libc::ECHILD {
            if let Some(ended) = current.status.take() {
                if current.listener >= 0 {
                    // SAFETY: closing our own fd.
                    unsafe { libc::close(current.listener) };
                    current.listener = -1;
                }
                send_record(
                    control,
                    RECORD_PROGRAM_ENDED,
                    ended as u32,
                    std::mem::take(&mut current.blocked),
                    -1,
                );
                // The next run's namespaces are prepared once the slot is
                // idle (see `prepare_next`).
                current.prepare_pending = true;
            }
        }
        return;
    }
}

/// Forks the program with the run's plan and records it in `current`
/// (pid 0 after reporting a failed fork).
fn start_program(
    plan: &SlotPlan,
    control: i32,
    stdio: [i32; 3],
    last_pid: i32,
    stack_top: *mut c_void,
    current: &mut Current,
) {
    // SAFETY: the supervisor wrote the plan before sending the request
    // and does not touch it until the run ends.
    let run = unsafe { &*plan.run };
    // The next pid is 2 in every run (the first after our own 1). At
    // offset 0: the kernel ignores sysctl writes at other offsets.
    // SAFETY: writes one byte from a static string.
    unsafe { libc::pwrite(last_pid, c"1".as_ptr().cast(), 1, 0) };
    let start = ProgramStart {
        slot: plan,
        run,
        control,
        stdio,
        listener: std::cell::Cell::new(-1),
        fresh_ipc: current.fresh_ipc,
        new_net: current.new_net,
    };
    current.fresh_ipc = false;
    // SAFETY: CLONE_VM | CLONE_VFORK: the child runs `program_main` on its
    // own stack in our address space while we are suspended, until it
    // execs or exits, so `start` on our stack stays valid and unchanged
    // but for the listener the child stores. CLONE_FILES: the listener
    // the child creates lands in our fd table, and exec gives the program
    // a table of its own.
    let pid = unsafe {
        libc::clone(
            program_main,
            stack_top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_FILES | libc::SIGCHLD,
            (&start as *const ProgramStart).cast_mut().cast(),
        )
    };
    // The child moved the run's stdio onto 0..2 of the shared table. Put
    // /dev/null back, or we would hold the output pipes open.
    for target in 0..3 {
        // SAFETY: dup2 between our own fds.
        unsafe { libc::dup2(NULL_FD, target) };
    }
    if pid == -1 {
        send_record(
            control,
            RECORD_SETUP_FAILED,
            Step::ForkProgram as u32,
            errno() as u32,
            -1,
        );
        current.program = 0;
        return;
    }
    current.program = pid;
    current.listener = start.listener.get();
}

/// Reports whether the slot's network namespace contains sockets, which
/// can only be what earlier runs left: unix sockets the kernel's garbage
/// collector has not freed yet (held in flight), TCP connections closing
/// or in TIME_WAIT. Such a namespace must not be the next run's. The
/// per-namespace counters are read, not the socket tables, whose reading
/// walks the kernel's global hash tables (about 0.4 ms each here). An
/// unreadable counter counts as sockets left.
fn sockets_left() -> bool {
    let mut buffer = [0u8; 8192];
    // The third column of each line after the header counts the sockets
    // of one protocol in this namespace (the init's own sockets live in
    // the supervisor's namespace).
    let Some(length) = read_small(c"/proc/self/net/protocols", &mut buffer) else {
        return true;
    };
    for line in buffer[..length].split(|&byte| byte == b'\n').skip(1) {
        let mut fields = line
            .split(|&byte| byte == b' ')
            .filter(|field| !field.is_empty());
        if fields.nth(2).is_some_and(|sockets| sockets != b"0") {
            return true;
        }
    }
    // TIME_WAIT entries are no sockets in that count: "TCP: inuse N orphan
    // N tw N ...".
    let Some(length) = read_small(c"/proc/self/net/sockstat", &mut buffer) else {
        return true;
    };
    let mut fields = buffer[..length]
        .split(|&byte| byte == b' ' || byte == b'\n')
        .filter(|field| !field.is_empty());
    while let Some(field) = fields.next() {
        if field == b"tw" {
            return fields.next() != Some(b"0".as_slice());
        }
    }
    true
}

/// Reads a small file into `buffer`; returns the length, or `None` when
/// it cannot be read or does not fit.
fn read_small(path: &std::ffi::CStr, buffer: &mut [u8]) -> Option<usize> {
    // SAFETY: a valid C string; the fd is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd == -1 {
        return None;
    }
    let mut length = 0;
    let complete = loop {
        if length == buffer.len() {
            break false;
        }
        // SAFETY: reads into the unused tail of a live buffer.
        let count = unsafe {
            libc::read(
                fd,
                buffer[length..].as_mut_ptr().cast(),
                buffer.len() - length,
            )
        };
        if count < 0 {
            break false;
        }
        if count == 0 {
            break true;
        }
        length += count as usize;
    };
    // SAFETY: closing the fd we opened.
    unsafe { libc::close(fd) };
    complete.then_some(length)
}

/// Mounts fresh, empty tmpfs file systems over the directories in `which`,
/// which discards everything a run left there and frees its pages.
fn reset(plan: &SlotPlan, control: i32, which: u32) {
    // SAFETY: see `start_program`.
    let run = unsafe { &*plan.run };
    let targets = [
        (RESET_BOX, &plan.box_dir, run.box_options.as_ptr()),
        (RESET_TMP, &plan.tmp_dir, run.tmp_options.as_ptr()),
        (RESET_SHM, &plan.shm_dir, plan.shm_options.as_ptr().cast()),
    ];
    for (bit, target, options) in targets {
        if which & bit == 0 {
            continue;
        }
        // SAFETY: valid C strings; the options are NUL-terminated (the
        // supervisor's writer guarantees it).
        let failed = unsafe {
            libc::umount2(target.as_ptr(), libc::MNT_DETACH) == -1
                || libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.cast(),
                ) == -1
        };
        if failed {
            send_record(
                control,
                RECORD_SETUP_FAILED,
                Step::ResetTmpfs as u32,
                errno() as u32,
                -1,
            );
            return;
        }
    }
    send_record(control, RECORD_RESET_DONE, 0, 0, -1);
}

/// Mounts the new root, pivots into it and makes it read-only.
fn build_root(plan: &SlotPlan) {
    let none = c"none".as_ptr();

    // Mount events must not propagate back to the host's namespace.
    // SAFETY: all pointers are valid C strings or null as mount allows.
    check(plan.control_fd, Step::MakeMountsPrivate, unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) as libc::c_long
    });
    // SAFETY: valid C strings from the plan.
    check(plan.control_fd, Step::MountRoot, unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            plan.root.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            plan.root_data.as_ptr().cast(),
        ) as libc::c_long
    });

    for op in &plan.ops {
        run_mount_op(plan, op, none);
    }

    // pivot_root(".", ".") stacks the old root on top of the new one;
    // detaching "." then removes the old root, so no path leads back to
    // the host file system.
    // SAFETY: valid C strings; these calls have no memory effects.
    unsafe {
        check(
            plan.control_fd,
            Step::PivotRoot,
            libc::chdir(plan.root.as_ptr()) as libc::c_long,
        );
        check(
            plan.control_fd,
            Step::PivotRoot,
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()),
        );
        check(
            plan.control_fd,
            Step::DetachOldRoot,
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH) as libc::c_long,
        );
        check(
            plan.control_fd,
            Step::DetachOldRoot,
            libc::chdir(c"/".as_ptr()) as libc::c_long,
        );
        check(
            plan.control_fd,
            Step::RemountRootReadOnly,
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REMOUNT
                    | libc::MS_BIND
                    | libc::MS_RDONLY
                    | libc::MS_NOSUID
                    | libc::MS_NODEV,
                std::ptr::null(),
            ) as libc::c_long,
        );
    }
}

/// `struct statfs` as the x86_64 kernel writes it.
#[repr(C)]
#[derive(Default)]
struct KernelStatfs {
    fs_type: i64,
    block_size: i64,
    blocks: u64,
    blocks_free: u64,
    blocks_available: u64,
    files: u64,
    files_free: u64,
    fsid: [i32; 2],
    name_length: i64,
    fragment_size: i64,
    flags: i64,
    spare: [i64; 4],
}

/// Mount flags the kernel locks on a bind of a mount from a more
/// privileged namespace. A remount that drops one fails with EPERM.
fn locked_flags(path: &CString) -> libc::c_ulong {
    // The raw statfs syscall, not glibc's statvfs, which may read
    // /proc/mounts through stdio and so allocate. libc's statfs type hides
    // the f_flags field, so the kernel's x86_64 layout is declared here.
    let mut info = KernelStatfs::default();
    // SAFETY: valid C string and a live out-pointer to a struct with the
    // kernel's layout and size.
    let result = unsafe { libc::syscall(libc::SYS_statfs, path.as_ptr(), &mut info) };
    if result == -1 {
        return 0;
    }
    let mut flags = 0;
    let pairs = [
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    for (st, ms) in pairs {
        if info.flags as libc::c_ulong & st != 0 {
            flags |= ms;
        }
    }
    flags
}

fn run_mount_op(plan: &SlotPlan, op: &MountOp, none: *const c_char) {
    match op {
        MountOp::Mkdir { path } => {
            // SAFETY: valid C string.
            let made = unsafe { libc::mkdir(path.as_ptr(), 0o755) };
            if made == -1 && errno() != libc::EEXIST {
                fail(plan.control_fd, Step::Mkdir, errno());
            }
        }
        MountOp::CreateFile { path } => {
            // SAFETY: valid C string; the fd is closed right away.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                    0o644,
                )
            };
            check(plan.control_fd, Step::CreateFile, libc::c_long::from(fd));
            // SAFETY: closing the fd we just opened.
            unsafe { libc::close(fd) };
        }
        MountOp::WriteFile { path, contents } => {
            // SAFETY: valid C string; the fd is closed below.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_WRONLY
                        | libc::O_CLOEXEC
                        | libc::O_NOFOLLOW,
                    0o644,
                )
            };
            check(plan.control_fd, Step::WriteFile, libc::c_long::from(fd));
            let mut written = 0;
            while written < contents.len() {
                let rest = &contents[written..];
                // SAFETY: writes from a live slice of `rest.len()` bytes.
                let count = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
                if count <= 0 {
                    fail(plan.control_fd, Step::WriteFile, errno());
                }
                written += count as usize;
            }
            // SAFETY: closing the fd we opened above.
            unsafe { libc::close(fd) };
        }
        MountOp::Symlink { target, path } => {
            // SAFETY: valid C strings.
            let made = unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) };
            check(plan.control_fd, Step::Symlink, libc::c_long::from(made));
        }
        MountOp::Bind {
            source,
            target,
            flags,
        } => {
            // SAFETY: valid C strings; null type and data are allowed for
            // bind mounts.
            let bound = unsafe {
                libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
            };
            check(plan.control_fd, Step::BindMount, libc::c_long::from(bound));
            let flags = *flags | locked_flags(target);
            remount(plan, target, flags);
        }
        MountOp::Tmpfs {
            target,
            flags,
            data,
        } => {
            // SAFETY: valid C strings.
            let mounted = unsafe {
                libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    *flags,
                    data.as_ptr().cast(),
                )
            };
            check(
                plan.control_fd,
                Step::MountTmpfs,
                libc::c_long::from(mounted),
            );
        }
        MountOp::Proc { target } => {
            // SAFETY: valid C strings.
            let mounted = unsafe {
                libc::mount(
                    none,
                    target.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    // The init runs as root, and hidepid hides it (and any
                    // process the program could not ptrace) from the
                    // program.
                    c"hidepid=2".as_ptr().cast(),
                )
            };
            check(
                plan.control_fd,
                Step::MountProc,
                libc::c_long::from(mounted),
            );
        }
        MountOp::Remount { target, flags } => {
            let flags = *flags | locked_flags(target);
            remount(plan, target, flags);
        }
    }
}

fn remount(plan: &SlotPlan, target: &CString, flags: libc::c_ulong) {
    // SAFETY: valid C string; null source, type and data are allowed.
    let remounted = unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND | flags,
            std::ptr::null(),
        )
    };
    check(
        plan.control_fd,
        Step::RemountReadOnly,
        libc::c_long::from(remounted),
    );
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER` from linux/seccomp.h.
const SECCOMP_FILTER_FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;

/// Sets up the run's isolation in the program process and execs the
/// command. Never returns.
extern "C" fn program_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the init's `ProgramStart`, alive while the init is
    // suspended by CLONE_VFORK, which lasts until we exec or exit.
    let start = unsafe { &*arg.cast::<ProgramStart>() };
    let control = start.control;
    let run = start.run;

    // A fresh IPC namespace per run: System V objects and POSIX message
    // queues of an earlier run are gone, whatever it left. The init
    // usually made it ahead of time.
    // The program gets a network namespace of its own only when an earlier
    // run left sockets in the slot's (see `sockets_left`). Creating one
    // costs about a millisecond, so runs share the slot's otherwise.
    let mut flags = 0;
    if !start.fresh_ipc {
        flags |= libc::CLONE_NEWIPC;
    }
    if start.new_net {
        flags |= libc::CLONE_NEWNET;
    }
    if flags != 0 {
        // SAFETY: unshare has no memory effects.
        check(control, Step::IpcNamespace, unsafe {
            libc::unshare(flags) as libc::c_long
        });
    }

    // The init blocks SIGCHLD for its signalfd, but the program starts
    // with nothing blocked.
    let empty: u64 = 0;
    // SAFETY: an 8-byte kernel sigset on the stack.
    check(control, Step::Stdio, unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty,
            std::ptr::null_mut::<u64>(),
            8usize,
        )
    });

    // A new session without a controlling terminal: TIOCSTI and job
    // control signals cannot reach anything outside.
    // SAFETY: setsid has no memory effects.
    check(control, Step::NewSession, unsafe { libc::setsid() }
        as libc::c_long);

    // The received fds are 3 or above (the init keeps 0..2 open), so dup2
    // onto 0..2 cannot clobber one. dup2 clears close-on-exec.
    for (source, target) in start.stdio.iter().zip(0..3) {
        // SAFETY: dup2 between fds we own.
        check(control, Step::Stdio, unsafe { libc::dup2(*source, target) }
            as libc::c_long);
    }

    for &(resource, value) in &run.rlimits[..run.rlimit_count] {
        let resource = resource as libc::__rlimit_resource_t;
        let mut limit = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        // SAFETY: reads a live local.
        if unsafe { libc::setrlimit(resource, &limit) } == -1 {
            if errno() != libc::EPERM {
                fail(control, Step::Rlimit, errno());
            }
            // A limit above the current hard limit needs a capability in
            // the initial namespace, which we lack, so keep the lower one.
            // SAFETY: an all-zero rlimit is valid, and getrlimit fills it.
            let mut current: libc::rlimit = unsafe { std::mem::zeroed() };
            // SAFETY: a live out-pointer.
            unsafe { libc::getrlimit(resource, &mut current) };
            limit.rlim_cur = value.min(current.rlim_max);
            limit.rlim_max = limit.rlim_cur;
            // SAFETY: reads a live local.
            check(
                control,
                Step::Rlimit,
                unsafe { libc::setrlimit(resource, &limit) } as libc::c_long,
            );
        }
    }

    // SAFETY: valid C string.
    check(
        control,
        Step::Chdir,
        unsafe { libc::chdir(start.slot.box_dir.as_ptr()) } as libc::c_long,
    );

    // The bounding set is already empty because the init dropped it. The
    // ambient set goes while we still hold CAP_SETPCAP.
    // SAFETY: prctl with integer arguments only.
    check(control, Step::DropCapabilities, unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    } as libc::c_long);

    // Supplementary groups are inherited from the root worker, and an
    // unmapped host group would still grant its access on host files.
    check(control, Step::SetGroups, raw_setgroups_empty());
    // gid first: after the uid change we may no longer change gids. The
    // uid change clears the permitted and effective capability sets.
    check(control, Step::SetIds, raw_setresgid(PROGRAM_ID));
    check(control, Step::SetIds, raw_setresuid(PROGRAM_ID));
    // The inheritable set survives setresuid, so clear it explicitly.
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and data are live and laid out as the v3 ABI expects
    // (two 32-bit words per set).
    check(control, Step::DropCapabilities, unsafe {
        libc::syscall(libc::SYS_capset, &mut header, data.as_ptr())
    });

    // SAFETY: prctl with integer arguments only.
    check(control, Step::NoNewPrivs, unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long
    });

    // Everything besides 0..2 closes at exec. The control socket stays
    // open until then, so an exec failure can still be reported.
    // SAFETY: integer arguments only.
    check(control, Step::CloseFds, unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    });

    // One filter, installed last, because the allowlist does not allow
    // `seccomp`. From here to exec only allowed calls may follow (execve,
    // sendmsg, exit_group): a notifying call would wait for the init,
    // which CLONE_VFORK keeps suspended until the supervisor kills it.
    let flags = if start.slot.notify {
        SECCOMP_FILTER_FLAG_NEW_LISTENER
    } else {
        0
    };
    // SAFETY: the sock_fprog points into a BPF program owned by the plan,
    // which lives in this address space.
    let listener = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &start.slot.allowlist_filter as *const libc::sock_fprog,
        )
    };
    check(control, Step::Seccomp, listener);
    if start.slot.notify {
        // The fd table is the init's until exec, which leaves the listener
        // with the init (it is close-on-exec for the program).
        start.listener.set(listener as i32);
    }

    let mut candidate = run.exec_candidates;
    let mut last_error = libc::ENOENT;
    // SAFETY: the candidate, argv and envp arrays are null-terminated
    // arrays of pointers to C strings in the shared region.
    unsafe {
        while !(*candidate).is_null() {
            libc::execve(*candidate, run.argv, run.envp);
            let error = errno();
            // Like execvp: keep looking after "not here", remember EACCES.
            match error {
                libc::ENOENT | libc::ENOTDIR => {}
                libc::EACCES => last_error = libc::EACCES,
                _ => {
                    last_error = error;
                    break;
                }
            }
            candidate = candidate.add(1);
        }
    }
    send_record(control, RECORD_EXEC_FAILED, last_error as u32, 0, -1);
    // SAFETY: see `fail`.
    unsafe { libc::_exit(127) }
}
