//! Code that runs in the cloned child: the namespace init and the program
//! process it forks (Linux only).
//!
//! The caller of `Sandbox::run` is multi-threaded, and after `clone` only
//! the cloning thread exists in the child. Another thread may have held the
//! allocator's lock or any other lock at that instant, so everything here
//! uses only raw syscalls through `libc` and data prepared by the parent in
//! [`ChildPlan`]: no allocation, no locks, no panics (a panic would
//! allocate). Failures are reported to the parent as fixed-size records on
//! the status pipe and end the child with `_exit`.

use std::ffi::CString;
use std::os::raw::c_char;

/// Records written on the status pipe, 16 bytes each (below `PIPE_BUF`,
/// so each write is atomic): `[kind, a, b, 0]` as native-endian `u32`s.
pub const RECORD_LEN: usize = 16;
/// `a` is a [`Step`] id and `b` the errno: setup failed, nothing ran.
pub const RECORD_SETUP_FAILED: u32 = 1;
/// `a` is the errno of the last `execve` attempt.
pub const RECORD_EXEC_FAILED: u32 = 2;
/// `a` is the program's wait status as returned by `waitpid`.
pub const RECORD_PROGRAM_ENDED: u32 = 3;

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
    ForkProgram,
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
    Step::ForkProgram,
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
            Step::ForkProgram => "forking the program process",
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

/// Everything the child needs, prepared by the parent before `clone`.
pub struct ChildPlan {
    pub root: CString,
    pub root_data: CString,
    pub ops: Vec<MountOp>,
    pub hostname: &'static [u8],
    pub workdir: CString,
    /// Absolute paths to try with `execve`, in `PATH` order.
    pub exec_candidates: Vec<CString>,
    /// Null-terminated pointer arrays into `_argv` and `_envp`.
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
    pub _argv: Vec<CString>,
    pub _envp: Vec<CString>,
    /// (resource, soft = hard limit).
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t)>,
    pub stdin_fd: i32,
    pub stdout_fd: i32,
    pub stderr_fd: i32,
    pub status_fd: i32,
    pub sync_fd: i32,
    pub cap_last_cap: u32,
    /// Installed first: it must still allow `seccomp` for the second.
    pub enosys_filter: libc::sock_fprog,
    pub allowlist_filter: libc::sock_fprog,
}

/// Lowest fd number the init moves its kept fds to, above stdio.
const KEPT_FD_BASE: i32 = 64;

fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot,
    // which stays valid for the thread's life; the child's only thread is
    // a copy of the cloning thread, whose TLS block was copied with it.
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

fn write_record(fd: i32, kind: u32, a: u32, b: u32) {
    let mut record = [0u8; RECORD_LEN];
    record[0..4].copy_from_slice(&kind.to_ne_bytes());
    record[4..8].copy_from_slice(&a.to_ne_bytes());
    record[8..12].copy_from_slice(&b.to_ne_bytes());
    // SAFETY: `record` is a live stack buffer of RECORD_LEN bytes. A short
    // or failed write cannot be reported anywhere else, so its result is
    // ignored; the parent treats a missing record as a failed run.
    unsafe {
        libc::write(fd, record.as_ptr().cast(), RECORD_LEN);
    }
}

fn fail(plan: &ChildPlan, step: Step, error: i32) -> ! {
    write_record(
        plan.status_fd,
        RECORD_SETUP_FAILED,
        step as u32,
        error as u32,
    );
    // SAFETY: _exit ends the process without running atexit handlers or
    // touching locks, which is what a cloned child must do.
    unsafe { libc::_exit(1) }
}

/// Fails the run at `step` when a libc call returned -1.
fn check(plan: &ChildPlan, step: Step, result: libc::c_long) {
    if result == -1 {
        fail(plan, step, errno());
    }
}

/// Runs as pid 1 of the new pid namespace; never returns.
///
/// # Safety
/// Must be called only in the child of a `clone` that created the
/// namespaces, with `plan` prepared by the parent and its fds open.
pub unsafe fn run_init(plan: &mut ChildPlan) -> ! {
    // A supervisor that dies (a crashed or killed worker) must take the run
    // with it, because no other process enforces its limits. Killing init kills the
    // whole PID namespace. Setting this before the wait on the sync pipe
    // closes the race with a parent that died right after clone, because
    // that wait then sees EOF and init exits.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };

    // Move the fds we keep above everything else and close the rest. Other
    // threads of the parent may have had fds open at clone time (pipes of
    // other sandbox slots); holding them would delay those slots' EOF.
    let originals = [
        plan.stdin_fd,
        plan.stdout_fd,
        plan.stderr_fd,
        plan.status_fd,
        plan.sync_fd,
    ];
    let mut kept_numbers = [0i32; 5];
    for (i, &fd) in originals.iter().enumerate() {
        // SAFETY: fcntl(F_DUPFD_CLOEXEC) only creates a new fd.
        let moved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, KEPT_FD_BASE) };
        if moved == -1 {
            // Report on the status fd, moved or not (it is index 3).
            let status_fd = if i > 3 { kept_numbers[3] } else { originals[3] };
            write_record(
                status_fd,
                RECORD_SETUP_FAILED,
                Step::CloseFds as u32,
                errno() as u32,
            );
            // SAFETY: see `fail`.
            unsafe { libc::_exit(1) }
        }
        kept_numbers[i] = moved;
    }
    plan.stdin_fd = kept_numbers[0];
    plan.stdout_fd = kept_numbers[1];
    plan.stderr_fd = kept_numbers[2];
    plan.status_fd = kept_numbers[3];
    plan.sync_fd = kept_numbers[4];
    kept_numbers.sort_unstable();
    let mut next_to_close: u32 = 0;
    for &fd in &kept_numbers {
        if (fd as u32) > next_to_close {
            // SAFETY: close_range only closes fds in the range; none of
            // the kept fds is in it.
            unsafe { libc::syscall(libc::SYS_close_range, next_to_close, fd as u32 - 1, 0) };
        }
        next_to_close = fd as u32 + 1;
    }
    // SAFETY: as above; the range lies above every kept fd.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, next_to_close, u32::MAX, 0) };
    check(plan, Step::CloseFds, closed);

    // Wait until the parent has written our uid/gid maps and moved us into
    // the run's cgroup: before that we have no usable ids and no limits.
    let mut go = [0u8; 1];
    // SAFETY: reads one byte into a live one-byte buffer.
    let got = unsafe { libc::read(plan.sync_fd, go.as_mut_ptr().cast(), 1) };
    if got != 1 {
        fail(plan, Step::WaitForParent, errno());
    }
    // SAFETY: closing our own fd.
    unsafe { libc::close(plan.sync_fd) };

    // We still carry the host's root ids, which the namespace does not
    // map; files we create would get no valid owner (EOVERFLOW). Switching
    // to the inside root (the slot's host root id) keeps our capabilities
    // in the namespace, because its root id is the one we switch to.
    check(plan, Step::BecomeNamespaceRoot, raw_setgroups_empty());
    check(plan, Step::BecomeNamespaceRoot, raw_setresgid(0));
    check(plan, Step::BecomeNamespaceRoot, raw_setresuid(0));

    // Only now that we are in the run's cgroup does a new cgroup namespace
    // root it there, hiding the host's cgroup paths.
    // SAFETY: unshare has no memory effects.
    check(plan, Step::CgroupNamespace, unsafe {
        libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long
    });

    build_root(plan);

    // SAFETY: sethostname reads `hostname.len()` bytes from a static slice.
    check(plan, Step::SetHostname, unsafe {
        libc::sethostname(plan.hostname.as_ptr().cast(), plan.hostname.len()) as libc::c_long
    });

    // The program is not pid 1: the kernel drops signals to pid 1 that it
    // has no handler for, which would make a program's own SIGSEGV or
    // abort look different from outside.
    // SAFETY: a plain fork (raw clone with SIGCHLD, no shared memory); the
    // child only runs `run_program`, which keeps to raw syscalls.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) };
    check(plan, Step::ForkProgram, pid);
    if pid == 0 {
        // SAFETY: we are the freshly forked program process.
        unsafe { run_program(plan) }
    }

    // Close everything but the status pipe, so that the output pipes reach
    // EOF when the program tree ends, and reap every process until the
    // program itself ends. Orphans are re-parented to us, pid 1.
    // SAFETY: closing our own fds.
    unsafe {
        libc::close(plan.stdin_fd);
        libc::close(plan.stdout_fd);
        libc::close(plan.stderr_fd);
        libc::close(0);
        libc::close(1);
        libc::close(2);
    }
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes the status into a live local.
        let reaped = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if reaped == -1 {
            if errno() == libc::EINTR {
                continue;
            }
            // ECHILD: the program is gone without us seeing it, which
            // cannot happen; report nothing so the parent sees a failure.
            // SAFETY: see `fail`.
            unsafe { libc::_exit(2) }
        }
        if libc::c_long::from(reaped) == pid {
            write_record(plan.status_fd, RECORD_PROGRAM_ENDED, status as u32, 0);
            // Our exit makes the kernel SIGKILL everything left in the pid
            // namespace, so no descendant survives the program.
            // SAFETY: see `fail`.
            unsafe { libc::_exit(0) }
        }
    }
}

/// Mounts the new root, pivots into it and makes it read-only.
fn build_root(plan: &ChildPlan) {
    let none = c"none".as_ptr();

    // Mount events must not propagate back to the host's namespace.
    // SAFETY: all pointers are valid C strings or null as mount allows.
    check(plan, Step::MakeMountsPrivate, unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) as libc::c_long
    });
    // SAFETY: valid C strings from the plan.
    check(plan, Step::MountRoot, unsafe {
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
            plan,
            Step::PivotRoot,
            libc::chdir(plan.root.as_ptr()) as libc::c_long,
        );
        check(
            plan,
            Step::PivotRoot,
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()),
        );
        check(
            plan,
            Step::DetachOldRoot,
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH) as libc::c_long,
        );
        check(
            plan,
            Step::DetachOldRoot,
            libc::chdir(c"/".as_ptr()) as libc::c_long,
        );
        check(
            plan,
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
/// privileged namespace; a remount that drops one fails with EPERM.
fn locked_flags(path: &CString) -> libc::c_ulong {
    // The raw statfs syscall, not glibc's statvfs, which may read
    // /proc/mounts through stdio (allocating); libc's statfs type hides
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

fn run_mount_op(plan: &ChildPlan, op: &MountOp, none: *const c_char) {
    match op {
        MountOp::Mkdir { path } => {
            // SAFETY: valid C string.
            let made = unsafe { libc::mkdir(path.as_ptr(), 0o755) };
            if made == -1 && errno() != libc::EEXIST {
                fail(plan, Step::Mkdir, errno());
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
            check(plan, Step::CreateFile, libc::c_long::from(fd));
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
            check(plan, Step::WriteFile, libc::c_long::from(fd));
            let mut written = 0;
            while written < contents.len() {
                let rest = &contents[written..];
                // SAFETY: writes from a live slice of `rest.len()` bytes.
                let count = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
                if count <= 0 {
                    fail(plan, Step::WriteFile, errno());
                }
                written += count as usize;
            }
            // SAFETY: closing the fd we opened above.
            unsafe { libc::close(fd) };
        }
        MountOp::Symlink { target, path } => {
            // SAFETY: valid C strings.
            let made = unsafe { libc::symlink(target.as_ptr(), path.as_ptr()) };
            check(plan, Step::Symlink, libc::c_long::from(made));
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
            check(plan, Step::BindMount, libc::c_long::from(bound));
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
            check(plan, Step::MountTmpfs, libc::c_long::from(mounted));
        }
        MountOp::Proc { target } => {
            // SAFETY: valid C strings.
            let mounted = unsafe {
                libc::mount(
                    none,
                    target.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                )
            };
            check(plan, Step::MountProc, libc::c_long::from(mounted));
        }
        MountOp::Remount { target, flags } => {
            let flags = *flags | locked_flags(target);
            remount(plan, target, flags);
        }
    }
}

fn remount(plan: &ChildPlan, target: &CString, flags: libc::c_ulong) {
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
    check(plan, Step::RemountReadOnly, libc::c_long::from(remounted));
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

/// Turns the forked process into the program; never returns.
///
/// # Safety
/// Must be called only in the process forked by `run_init`.
unsafe fn run_program(plan: &ChildPlan) -> ! {
    // A new session without a controlling terminal: TIOCSTI and job
    // control signals cannot reach anything outside.
    // SAFETY: setsid has no memory effects.
    check(plan, Step::NewSession, unsafe { libc::setsid() }
        as libc::c_long);

    // The kept fds sit at 64 and above, so dup2 onto 0..2 cannot clobber
    // them. dup2 clears close-on-exec on the new fds.
    for (source, target) in [(plan.stdin_fd, 0), (plan.stdout_fd, 1), (plan.stderr_fd, 2)] {
        // SAFETY: dup2 between fds we own.
        check(plan, Step::Stdio, unsafe { libc::dup2(source, target) }
            as libc::c_long);
    }

    for &(resource, value) in &plan.rlimits {
        // A limit above the current hard limit needs a capability in the
        // initial namespace, which we lack; keep the lower one.
        // SAFETY: an all-zero rlimit is valid; getrlimit fills it.
        let mut current: libc::rlimit = unsafe { std::mem::zeroed() };
        // SAFETY: a live out-pointer.
        unsafe { libc::getrlimit(resource, &mut current) };
        let value = value.min(current.rlim_max);
        let limit = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        // SAFETY: reads a live local.
        check(
            plan,
            Step::Rlimit,
            unsafe { libc::setrlimit(resource, &limit) } as libc::c_long,
        );
    }

    // SAFETY: valid C string.
    check(
        plan,
        Step::Chdir,
        unsafe { libc::chdir(plan.workdir.as_ptr()) } as libc::c_long,
    );

    // Capabilities: empty the bounding set (so no exec can regain any) and
    // the ambient set while we still hold CAP_SETPCAP in our namespace.
    for cap in 0..=plan.cap_last_cap {
        // SAFETY: prctl with integer arguments only.
        let dropped = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if dropped == -1 && errno() != libc::EINVAL {
            fail(plan, Step::DropCapabilities, errno());
        }
    }
    // SAFETY: prctl with integer arguments only.
    check(plan, Step::DropCapabilities, unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    } as libc::c_long);

    // Supplementary groups are inherited from the root worker; an unmapped
    // host group would still grant its access on host files.
    // SAFETY: a zero-length list needs no pointer.
    check(plan, Step::SetGroups, raw_setgroups_empty());
    // gid first: after the uid change we may no longer change gids. The
    // uid change clears the permitted and effective capability sets.
    check(plan, Step::SetIds, raw_setresgid(PROGRAM_ID));
    check(plan, Step::SetIds, raw_setresuid(PROGRAM_ID));
    // The inheritable set survives setresuid; clear it explicitly.
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
    check(plan, Step::DropCapabilities, unsafe {
        libc::syscall(libc::SYS_capset, &mut header, data.as_ptr())
    });

    // SAFETY: prctl with integer arguments only.
    unsafe {
        check(
            plan,
            Step::NoNewPrivs,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long,
        );
        // If our init dies, we die with it.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }

    // Everything besides 0..2 closes at exec. The status pipe stays open
    // until then, so an exec failure can still be reported.
    // SAFETY: integer arguments only.
    check(plan, Step::CloseFds, unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    });

    // The ENOSYS filter first: the allowlist does not allow `seccomp`, so
    // nothing can be installed after it.
    for filter in [&plan.enosys_filter, &plan.allowlist_filter] {
        // SAFETY: the sock_fprog points into a BPF program owned by the
        // parent's plan, which this process has a copy of.
        check(plan, Step::Seccomp, unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                filter as *const libc::sock_fprog,
            )
        });
    }

    let mut last_error = libc::ENOENT;
    for candidate in &plan.exec_candidates {
        // SAFETY: argv and envp are null-terminated arrays of pointers to
        // C strings owned by the plan.
        unsafe { libc::execve(candidate.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr()) };
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
    }
    write_record(plan.status_fd, RECORD_EXEC_FAILED, last_error as u32, 0);
    // SAFETY: see `fail`.
    unsafe { libc::_exit(127) }
}
