//! The seccomp policy applied to every sandboxed program, kept as data.
//!
//! [`compile`] builds the allowlist on the host, in two variants that
//! differ only in the action for a call the list does not allow. Every
//! syscall in [`ALLOWED`] passes, some only with the argument checks in
//! [`argument_rules`] (written as seccompiler rules and compiled by
//! seccompiler). [`ENOSYS`] calls return `ENOSYS`, so runtimes that probe
//! them fall back. Any other x86_64 call kills the whole process with
//! `SIGSYS` (`SECCOMP_RET_KILL_PROCESS`) in `allowlist`. In
//! `allowlist_notify` it returns `SECCOMP_RET_USER_NOTIF` instead: the call
//! does not run, so a supervisor that reads the notification from the
//! listener fd can name the call with [`syscall_name`] and then kill the
//! run. The program is one filter, so a run loads only one.
//!
//! Both allowlist programs start with an ABI check that kills the process,
//! with no notification, for any architecture other than x86_64 (such as
//! i386 calls through `int 0x80`) and for x32 calls. The architecture check
//! alone does not stop x32: an x32 call reports `AUDIT_ARCH_X86_64` and sets
//! bit 30 (`0x40000000`) of the syscall number, so the check also kills
//! every number at or above that bit.
//!
//! [`DENIED`] documents the dangerous calls kept out of the allowlist; a
//! test checks that none of them slipped into it.
//!
//! x86_64 only: the numbers come from `libc::SYS_*` for this target.

use std::collections::BTreeMap;

use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use crate::syscall_names::SYSCALL_NAMES;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("the seccomp policy lists x86_64 syscall numbers only");

/// A named set of syscalls with the reason it is in its list.
pub struct SyscallGroup {
    pub name: &'static str,
    /// The runtime or program that needs the group, or the reason it is denied.
    pub reason: &'static str,
    pub syscalls: &'static [(&'static str, i64)],
}

macro_rules! calls {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), libc::$name as i64)),*]
    };
}

/// Syscalls the program may make.
pub const ALLOWED: &[SyscallGroup] = &[
    SyscallGroup {
        name: "memory",
        reason: "every program: the allocator, the dynamic loader, JIT code in java and node \
                 (V8 in node 20 allocates memory protection keys)",
        syscalls: calls![
            SYS_brk,
            SYS_mmap,
            SYS_munmap,
            SYS_mprotect,
            SYS_mremap,
            SYS_madvise,
            SYS_msync,
            SYS_mincore,
            SYS_mlock,
            SYS_munlock,
            SYS_membarrier,
            SYS_get_mempolicy,
            SYS_memfd_create,
            SYS_pkey_alloc,
            SYS_pkey_free,
            SYS_pkey_mprotect,
        ],
    },
    SyscallGroup {
        name: "file i/o",
        reason: "every program; the mount layout, not seccomp, limits what is reachable",
        syscalls: calls![
            SYS_read,
            SYS_write,
            SYS_readv,
            SYS_writev,
            SYS_pread64,
            SYS_pwrite64,
            SYS_preadv,
            SYS_pwritev,
            SYS_preadv2,
            SYS_pwritev2,
            SYS_open,
            SYS_openat,
            SYS_openat2,
            SYS_close,
            SYS_close_range,
            SYS_lseek,
            SYS_dup,
            SYS_dup2,
            SYS_dup3,
            SYS_fcntl,
            SYS_flock,
            SYS_ioctl,
            SYS_pipe,
            SYS_pipe2,
            SYS_sendfile,
            SYS_copy_file_range,
            SYS_splice,
            SYS_tee,
            SYS_fsync,
            SYS_fdatasync,
            SYS_ftruncate,
            SYS_truncate,
            SYS_fallocate,
            SYS_fadvise64,
            SYS_readahead,
        ],
    },
    SyscallGroup {
        name: "file metadata",
        reason: "every program: stat, directory listing and changes inside /box and /tmp; \
                 mknod for FIFOs (device nodes need a capability the program lacks)",
        syscalls: calls![
            SYS_stat,
            SYS_fstat,
            SYS_lstat,
            SYS_newfstatat,
            SYS_statx,
            SYS_statfs,
            SYS_fstatfs,
            SYS_access,
            SYS_faccessat,
            SYS_faccessat2,
            SYS_getdents,
            SYS_getdents64,
            SYS_readlink,
            SYS_readlinkat,
            SYS_getcwd,
            SYS_chdir,
            SYS_fchdir,
            SYS_mkdir,
            SYS_mkdirat,
            SYS_rmdir,
            SYS_unlink,
            SYS_unlinkat,
            SYS_rename,
            SYS_renameat,
            SYS_renameat2,
            SYS_link,
            SYS_linkat,
            SYS_symlink,
            SYS_symlinkat,
            SYS_chmod,
            SYS_fchmod,
            SYS_fchmodat,
            SYS_chown,
            SYS_fchown,
            SYS_lchown,
            SYS_fchownat,
            SYS_umask,
            SYS_utime,
            SYS_utimes,
            SYS_utimensat,
            SYS_futimesat,
            SYS_getxattr,
            SYS_lgetxattr,
            SYS_fgetxattr,
            SYS_listxattr,
            SYS_llistxattr,
            SYS_flistxattr,
            SYS_inotify_init1,
            SYS_inotify_add_watch,
            SYS_inotify_rm_watch,
            SYS_mknod,
            SYS_mknodat,
        ],
    },
    SyscallGroup {
        name: "processes",
        reason: "gcc runs cc1, as, ld and collect2 as children; shells and python subprocess \
                 fork and exec; `clone` is further limited by an argument check",
        syscalls: calls![
            SYS_execve,
            SYS_execveat,
            SYS_fork,
            SYS_vfork,
            SYS_clone,
            SYS_exit,
            SYS_exit_group,
            SYS_wait4,
            SYS_waitid,
            SYS_kill,
            SYS_tkill,
            SYS_tgkill,
            SYS_pidfd_open,
            SYS_pidfd_send_signal,
        ],
    },
    SyscallGroup {
        name: "process state",
        reason: "libc start-up and threads in every runtime (rseq, robust futex lists), \
                 java and node read their affinity and limits",
        syscalls: calls![
            SYS_getpid,
            SYS_getppid,
            SYS_gettid,
            SYS_getuid,
            SYS_geteuid,
            SYS_getgid,
            SYS_getegid,
            SYS_getresuid,
            SYS_getresgid,
            SYS_getgroups,
            SYS_getpgrp,
            SYS_getpgid,
            SYS_setpgid,
            SYS_getsid,
            SYS_setsid,
            SYS_set_tid_address,
            SYS_set_robust_list,
            SYS_get_robust_list,
            SYS_rseq,
            SYS_prctl,
            SYS_arch_prctl,
            SYS_capget,
            SYS_sched_yield,
            SYS_sched_getaffinity,
            SYS_sched_setaffinity,
            SYS_sched_getparam,
            SYS_sched_getscheduler,
            // mono 6.8 sets SCHED_OTHER on each thread it starts. Without
            // CAP_SYS_NICE a real-time policy needs RLIMIT_RTPRIO above 0,
            // which the sandbox inherits from the worker (0 by default).
            SYS_sched_setscheduler,
            SYS_sched_get_priority_max,
            SYS_sched_get_priority_min,
            SYS_getpriority,
            SYS_getrlimit,
            SYS_setrlimit,
            SYS_prlimit64,
            SYS_getrusage,
            SYS_times,
            SYS_uname,
            SYS_sysinfo,
            SYS_getrandom,
        ],
    },
    SyscallGroup {
        name: "time and synchronization",
        reason: "threads (futex) and timers in every runtime",
        syscalls: calls![
            SYS_futex,
            SYS_nanosleep,
            SYS_clock_nanosleep,
            SYS_clock_gettime,
            SYS_clock_getres,
            SYS_gettimeofday,
            SYS_time,
            SYS_alarm,
            SYS_setitimer,
            SYS_getitimer,
            SYS_timer_create,
            SYS_timer_settime,
            SYS_timer_gettime,
            SYS_timer_getoverrun,
            SYS_timer_delete,
            SYS_timerfd_create,
            SYS_timerfd_settime,
            SYS_timerfd_gettime,
            SYS_pause,
        ],
    },
    SyscallGroup {
        name: "signals",
        reason: "every runtime installs handlers; java uses signals for safepoints",
        syscalls: calls![
            SYS_rt_sigaction,
            SYS_rt_sigprocmask,
            SYS_rt_sigreturn,
            SYS_rt_sigsuspend,
            SYS_rt_sigpending,
            SYS_rt_sigtimedwait,
            SYS_rt_sigqueueinfo,
            SYS_sigaltstack,
            SYS_restart_syscall,
            SYS_signalfd,
            SYS_signalfd4,
        ],
    },
    SyscallGroup {
        name: "event loops",
        reason: "node (libuv epoll), python selectors, java NIO",
        syscalls: calls![
            SYS_poll,
            SYS_ppoll,
            SYS_select,
            SYS_pselect6,
            SYS_epoll_create,
            SYS_epoll_create1,
            SYS_epoll_ctl,
            SYS_epoll_wait,
            SYS_epoll_pwait,
            SYS_epoll_pwait2,
            SYS_eventfd,
            SYS_eventfd2,
        ],
    },
    SyscallGroup {
        name: "sockets",
        reason: "local IPC in java and node; the network namespace has no route out, and \
                 `socket` is limited to unix and IP families by an argument check",
        syscalls: calls![
            SYS_socket,
            SYS_socketpair,
            SYS_connect,
            SYS_bind,
            SYS_listen,
            SYS_accept,
            SYS_accept4,
            SYS_sendto,
            SYS_recvfrom,
            SYS_sendmsg,
            SYS_recvmsg,
            SYS_sendmmsg,
            SYS_recvmmsg,
            SYS_shutdown,
            SYS_getsockname,
            SYS_getpeername,
            SYS_setsockopt,
            SYS_getsockopt,
        ],
    },
    SyscallGroup {
        name: "System V IPC",
        reason: "programs that use shared memory; every run has a new IPC namespace",
        syscalls: calls![
            SYS_shmget,
            SYS_shmat,
            SYS_shmdt,
            SYS_shmctl,
            SYS_semget,
            SYS_semop,
            SYS_semtimedop,
            SYS_semctl,
            SYS_msgget,
            SYS_msgsnd,
            SYS_msgrcv,
            SYS_msgctl,
        ],
    },
];

/// Syscalls that return `ENOSYS`, so that runtimes fall back.
pub const ENOSYS: &[SyscallGroup] = &[
    SyscallGroup {
        name: "io_uring",
        reason: "libuv in node probes io_uring and falls back to epoll and threads; io_uring \
                 would bypass the per-syscall filter",
        syscalls: calls![
            SYS_io_uring_setup,
            SYS_io_uring_enter,
            SYS_io_uring_register
        ],
    },
    SyscallGroup {
        name: "clone3",
        reason: "glibc falls back to `clone`, whose flags the filter can check (clone3 passes \
                 them in memory, out of the filter's reach)",
        syscalls: calls![SYS_clone3],
    },
];

/// Dangerous syscalls that stay out of the allowlist (so they kill the
/// program), listed so that a test can prove they stay out.
pub const DENIED: &[SyscallGroup] = &[
    SyscallGroup {
        name: "mounts",
        reason: "would change the sandbox's file system view",
        syscalls: calls![
            SYS_mount,
            SYS_umount2,
            SYS_pivot_root,
            SYS_chroot,
            SYS_open_tree,
            SYS_move_mount,
            SYS_fsopen,
            SYS_fsconfig,
            SYS_fsmount,
            SYS_fspick,
            SYS_mount_setattr,
        ],
    },
    SyscallGroup {
        name: "namespaces",
        reason: "new namespaces would let the program gain capabilities over fresh objects",
        syscalls: calls![SYS_unshare, SYS_setns],
    },
    SyscallGroup {
        name: "tracing",
        reason: "reading or writing another process's memory",
        syscalls: calls![SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev],
    },
    SyscallGroup {
        name: "kernel",
        reason: "kernel code, kexec, BPF and perf are large attack surface",
        syscalls: calls![
            SYS_kexec_load,
            SYS_kexec_file_load,
            SYS_init_module,
            SYS_finit_module,
            SYS_delete_module,
            SYS_bpf,
            SYS_perf_event_open,
            SYS_userfaultfd,
        ],
    },
    SyscallGroup {
        name: "keyrings",
        reason: "kernel keyrings are not namespaced and would be a channel between runs",
        syscalls: calls![SYS_keyctl, SYS_add_key, SYS_request_key],
    },
    SyscallGroup {
        name: "system administration",
        reason: "host-wide state: swap, reboot, accounting, quotas, clocks",
        syscalls: calls![
            SYS_swapon,
            SYS_swapoff,
            SYS_reboot,
            SYS_acct,
            SYS_quotactl,
            SYS_settimeofday,
            SYS_clock_settime,
            SYS_adjtimex,
            SYS_clock_adjtime,
        ],
    },
    SyscallGroup {
        name: "file handles",
        reason: "open_by_handle_at bypasses path checks",
        syscalls: calls![SYS_open_by_handle_at, SYS_name_to_handle_at],
    },
];

/// Namespace flags that `clone` must not carry.
const CLONE_NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWTIME) as u64;

/// Socket families the program may open: unix sockets for local IPC and IP
/// for loopback inside the empty network namespace. Everything else
/// (netlink, vsock, packet sockets) is killed because some families are
/// not namespaced.
const SOCKET_FAMILIES: &[i32] = &[libc::AF_UNIX, libc::AF_INET, libc::AF_INET6];

/// `AUDIT_ARCH_X86_64` from linux/audit.h: machine `EM_X86_64` (62), 64-bit,
/// little-endian. x32 calls report it too.
pub const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;

/// Bit that x32 calls set in the syscall number (`__X32_SYSCALL_BIT` in
/// asm/unistd.h).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Byte offsets of the fields the filters load from `struct seccomp_data`.
const SECCOMP_DATA_NR_OFFSET: u32 = std::mem::offset_of!(libc::seccomp_data, nr) as u32;
const SECCOMP_DATA_ARCH_OFFSET: u32 = std::mem::offset_of!(libc::seccomp_data, arch) as u32;

/// Maximum instructions in one filter program (`BPF_MAXINSNS` in
/// linux/bpf_common.h); the kernel rejects longer programs with `EINVAL`.
const BPF_MAXINSNS: usize = 4096;

/// Data of the `SECCOMP_RET_TRACE` action used as a placeholder for an
/// allowlist's default action during compilation. seccompiler 0.5 has no
/// `SECCOMP_RET_USER_NOTIF` action, so [`compile_allowlist`] compiles with
/// this placeholder and rewrites every return that carries it. The policy
/// uses `TRACE` nowhere else, so the rewrite cannot touch seccompiler's
/// architecture kill or the `ALLOW` returns.
const DEFAULT_ACTION_PLACEHOLDER: u32 = 0x7e57;

/// The compiled filters. The sandbox installs one allowlist variant as the
/// program's only filter; it must come last, because it does not allow
/// `seccomp`.
pub struct CompiledPolicy {
    /// Kills the process on a call the allowlist does not allow.
    pub allowlist: BpfProgram,
    /// Returns `SECCOMP_RET_USER_NOTIF` on a call the allowlist does not
    /// allow. Install it with `SECCOMP_FILTER_FLAG_NEW_LISTENER`: without a
    /// listener, or once the listener fd is closed, the kernel fails such
    /// calls with `ENOSYS` instead of stopping them, and the program runs on.
    pub allowlist_notify: BpfProgram,
}

#[derive(Debug, thiserror::Error)]
#[error("building the seccomp filter failed: {0}")]
pub struct PolicyError(String);

/// Builds the seccompiler rules of the calls whose arguments are checked:
/// `clone` without namespace flags, `socket` of the allowed families.
fn argument_rules() -> Result<BTreeMap<i64, Vec<SeccompRule>>, PolicyError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let no_namespaces = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(CLONE_NAMESPACE_FLAGS),
        0,
    )
    .map_err(|e| PolicyError(e.to_string()))?;
    let clone_rule =
        SeccompRule::new(vec![no_namespaces]).map_err(|e| PolicyError(e.to_string()))?;
    rules.insert(libc::SYS_clone, vec![clone_rule]);

    let mut socket_rules = Vec::new();
    for &family in SOCKET_FAMILIES {
        let condition =
            SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, family as u64)
                .map_err(|e| PolicyError(e.to_string()))?;
        socket_rules
            .push(SeccompRule::new(vec![condition]).map_err(|e| PolicyError(e.to_string()))?);
    }
    rules.insert(libc::SYS_socket, socket_rules);
    Ok(rules)
}

/// Compiles the filters. Called on the host once per slot, so the child
/// only has to hand the finished program to the kernel.
pub fn compile() -> Result<CompiledPolicy, PolicyError> {
    Ok(CompiledPolicy {
        allowlist: compile_allowlist(libc::SECCOMP_RET_KILL_PROCESS)?,
        allowlist_notify: compile_allowlist(libc::SECCOMP_RET_USER_NOTIF)?,
    })
}

/// The filter's action for one syscall number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    /// The variant's default action (kill or notify).
    Deny,
    Enosys,
    /// Decided by the seccompiler block that checks arguments.
    CheckArguments,
}

fn verdict_of(number: i64, checked: &BTreeMap<i64, Vec<SeccompRule>>) -> Verdict {
    let listed = |groups: &[SyscallGroup]| {
        groups
            .iter()
            .any(|g| g.syscalls.iter().any(|&(_, n)| n == number))
    };
    if checked.contains_key(&number) {
        Verdict::CheckArguments
    } else if listed(ENOSYS) {
        Verdict::Enosys
    } else if listed(ALLOWED) {
        Verdict::Allow
    } else {
        Verdict::Deny
    }
}

/// Highest syscall number the dispatch tree distinguishes; every number
/// above it is denied.
const HIGHEST_NUMBER: i64 = 1023;

/// Compiles the allowlist with `default_action` (a `SECCOMP_RET_*` value)
/// for x86_64 calls it does not allow.
///
/// Layout: [`abi_check`], then a binary search over runs of syscall
/// numbers with the same verdict, then seccompiler's program for the calls
/// whose arguments are checked. seccompiler dispatches on the number with
/// a linear chain of comparisons. At load time the kernel evaluates the
/// filter once for every syscall number to fill its per-syscall cache, so
/// a linear filter costs list length times table size (a 300-step chain
/// took 700 µs per load on this kind of machine). The tree takes about
/// ten steps to any number.
fn compile_allowlist(default_action: u32) -> Result<BpfProgram, PolicyError> {
    let checked = argument_rules()?;
    // Runs of equal verdicts, as (first number, verdict).
    let mut runs: Vec<(u32, Verdict)> = Vec::new();
    for number in 0..=HIGHEST_NUMBER {
        let verdict = verdict_of(number, &checked);
        if runs.last().is_none_or(|&(_, last)| last != verdict) {
            runs.push((number as u32, verdict));
        }
    }
    if runs.last().is_some_and(|&(_, last)| last != Verdict::Deny) {
        runs.push(((HIGHEST_NUMBER + 1) as u32, Verdict::Deny));
    }

    let mut program = abi_check();
    let tree_start = program.len();
    let mut argument_jumps = Vec::new();
    emit_tree(&runs, default_action, &mut program, &mut argument_jumps);
    let arguments_start = program.len();
    for at in argument_jumps {
        program[at].k = (arguments_start - at - 1) as u32;
    }
    debug_assert!(tree_start < arguments_start);

    let mut arguments: BpfProgram = SeccompFilter::new(
        checked,
        SeccompAction::Trace(DEFAULT_ACTION_PLACEHOLDER),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| PolicyError(e.to_string()))?
    .try_into()
    .map_err(|e: seccompiler::BackendError| PolicyError(e.to_string()))?;
    // seccompiler returns the default action at the end of each argument
    // check chain and once after the last syscall comparison.
    let placeholder = u32::from(SeccompAction::Trace(DEFAULT_ACTION_PLACEHOLDER));
    let return_code = (libc::BPF_RET | libc::BPF_K) as u16;
    let mut rewritten = 0;
    for instruction in &mut arguments {
        if instruction.code == return_code && instruction.k == placeholder {
            instruction.k = default_action;
            rewritten += 1;
        }
    }
    if rewritten == 0 {
        return Err(PolicyError(format!(
            "the argument checks have no return of the placeholder action {placeholder:#x}"
        )));
    }
    program.append(&mut arguments);
    if program.len() > BPF_MAXINSNS {
        return Err(PolicyError(format!(
            "the allowlist has {} instructions, more than the kernel's maximum {BPF_MAXINSNS}",
            program.len()
        )));
    }
    Ok(program)
}

/// Emits a binary search over `runs`, which are sorted by first number,
/// with the syscall number in the accumulator. Leaves return the verdict, or
/// jump to the argument checks: their positions go to `argument_jumps`,
/// to be patched once the target is known.
fn emit_tree(
    runs: &[(u32, Verdict)],
    default_action: u32,
    program: &mut BpfProgram,
    argument_jumps: &mut Vec<usize>,
) {
    let ret = libc::BPF_RET | libc::BPF_K;
    if let [(_, verdict)] = runs {
        match verdict {
            Verdict::Allow => program.push(statement(ret, libc::SECCOMP_RET_ALLOW)),
            Verdict::Deny => program.push(statement(ret, default_action)),
            Verdict::Enosys => program.push(statement(
                ret,
                libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
            )),
            Verdict::CheckArguments => {
                argument_jumps.push(program.len());
                program.push(statement(libc::BPF_JMP | libc::BPF_JA, 0));
            }
        }
        return;
    }
    let middle = runs.len() / 2;
    let (lower, upper) = runs.split_at(middle);
    // nr >= boundary: jump over the lower half; otherwise fall into it.
    // A conditional jump reaches 255 instructions; a longer lower half
    // takes an extra unconditional jump.
    let node_at = program.len();
    program.push(jump(
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
        upper[0].0,
        0,
        0,
    ));
    let lower_start = program.len();
    emit_tree(lower, default_action, program, argument_jumps);
    let lower_length = program.len() - lower_start;
    if let Ok(offset) = u8::try_from(lower_length) {
        program[node_at].jt = offset;
    } else {
        // Too far: jge falls (jt = 0) to a jump over the lower half, and
        // nr < boundary skips that jump (jf = 1).
        program.insert(
            lower_start,
            statement(libc::BPF_JMP | libc::BPF_JA, lower_length as u32),
        );
        program[node_at].jf = 1;
        for at in argument_jumps.iter_mut().filter(|at| **at >= lower_start) {
            *at += 1;
        }
    }
    emit_tree(upper, default_action, program, argument_jumps);
}

/// Builds the instructions that kill the process unless the call uses the
/// x86_64 ABI. seccompiler's own check compares only the architecture,
/// which x32 calls pass, so this one also kills every number with the x32
/// bit. The comparison is unsigned, so negative numbers are killed too.
fn abi_check() -> BpfProgram {
    let load_word = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jump_if_equal = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let jump_if_at_least = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
    let kill = statement(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS);
    vec![
        statement(load_word, SECCOMP_DATA_ARCH_OFFSET),
        jump(jump_if_equal, AUDIT_ARCH_X86_64, 1, 0),
        kill.clone(),
        statement(load_word, SECCOMP_DATA_NR_OFFSET),
        jump(jump_if_at_least, X32_SYSCALL_BIT, 0, 1),
        kill,
    ]
}

/// Builds a BPF instruction without jump offsets. `code` takes the
/// `libc::BPF_*` constants, which libc types as u32 although every opcode
/// fits the kernel's 16-bit field.
fn statement(code: u32, k: u32) -> sock_filter {
    jump(code, k, 0, 0)
}

/// Builds a conditional BPF jump: `jt` and `jf` count the instructions to
/// skip after this one.
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Returns the name of an x86_64 syscall, given the `arch` and `nr` fields
/// of its `seccomp_data`. Returns `None` for other architectures, for x32
/// numbers and for numbers missing from the generated table, so the caller
/// decides how to report those.
// TODO: the table contains the calls in the kernel headers it was generated
// from (linux-libc-dev 6.1, up to 450), so calls added by newer kernels
// return `None` until `scripts/gen-syscall-names` runs on newer headers.
pub fn syscall_name(arch: u32, nr: i64) -> Option<&'static str> {
    if arch != AUDIT_ARCH_X86_64 {
        return None;
    }
    let nr = u32::try_from(nr).ok()?;
    if nr & X32_SYSCALL_BIT != 0 {
        return None;
    }
    let index = SYSCALL_NAMES
        .binary_search_by_key(&nr, |&(number, _)| number)
        .ok()?;
    Some(SYSCALL_NAMES[index].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed_numbers() -> Vec<i64> {
        ALLOWED
            .iter()
            .chain(ENOSYS)
            .flat_map(|g| g.syscalls.iter().map(|&(_, n)| n))
            .collect()
    }

    #[test]
    fn denied_calls_stay_out_of_allowlist() {
        let allowed = allowed_numbers();
        for group in DENIED {
            for &(name, number) in group.syscalls {
                assert!(
                    !allowed.contains(&number),
                    "{name} ({number}) of denied group {:?} is in the allowlist",
                    group.name
                );
            }
        }
    }

    #[test]
    fn allowlist_has_no_x32_numbers() {
        for number in allowed_numbers() {
            assert_eq!(
                number & 0x4000_0000,
                0,
                "syscall number {number:#x} carries the x32 bit"
            );
        }
    }

    #[test]
    fn policy_compiles_to_bpf() {
        let policy = compile().expect("policy should compile");
        assert!(
            !policy.allowlist.is_empty() && policy.allowlist.len() < 4096,
            "allowlist has {} instructions, expected 1..4096",
            policy.allowlist.len()
        );
    }

    // A classic-BPF interpreter for the instructions seccompiler and
    // `abi_check` emit, so the tests can run the programs on chosen inputs
    // without installing them.

    const LOAD_WORD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
    const JUMP_ALWAYS: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
    const JUMP_EQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JUMP_GT_K: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
    const JUMP_GE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    const JUMP_SET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
    const RETURN_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

    const SUPPORTED_OPCODES: &[u16] = &[
        LOAD_WORD_ABS,
        AND_K,
        JUMP_ALWAYS,
        JUMP_EQ_K,
        JUMP_GT_K,
        JUMP_GE_K,
        JUMP_SET_K,
        RETURN_K,
    ];

    /// `AUDIT_ARCH_I386` from linux/audit.h: `EM_386` (3), little-endian.
    const AUDIT_ARCH_I386: u32 = 3 | 0x4000_0000;

    const SECCOMP_DATA_SIZE: usize = std::mem::size_of::<libc::seccomp_data>();

    /// The fields of `struct seccomp_data` that the policy inspects.
    #[derive(Debug, Clone, Copy)]
    struct Call {
        arch: u32,
        nr: u32,
        args: [u64; 6],
    }

    impl Call {
        fn x86_64(nr: i64, args: &[u64]) -> Call {
            let mut all_args = [0; 6];
            all_args[..args.len()].copy_from_slice(args);
            Call {
                arch: AUDIT_ARCH_X86_64,
                nr: u32::try_from(nr).expect("x86_64 syscall numbers fit in u32"),
                args: all_args,
            }
        }

        /// Lays the call out as the kernel's `struct seccomp_data`, in
        /// native byte order, which is what `BPF_LD | BPF_ABS` reads.
        fn to_bytes(self) -> [u8; SECCOMP_DATA_SIZE] {
            let mut bytes = [0; SECCOMP_DATA_SIZE];
            let nr_at = SECCOMP_DATA_NR_OFFSET as usize;
            bytes[nr_at..nr_at + 4].copy_from_slice(&self.nr.to_ne_bytes());
            let arch_at = SECCOMP_DATA_ARCH_OFFSET as usize;
            bytes[arch_at..arch_at + 4].copy_from_slice(&self.arch.to_ne_bytes());
            let args_at = std::mem::offset_of!(libc::seccomp_data, args);
            for (i, arg) in self.args.iter().enumerate() {
                let at = args_at + 8 * i;
                bytes[at..at + 8].copy_from_slice(&arg.to_ne_bytes());
            }
            bytes
        }
    }

    /// Runs `program` on `call` and returns the `SECCOMP_RET_*` value, or an
    /// error for an unsupported opcode, a jump or load out of range, or a
    /// missing return.
    fn run_bpf(program: &[sock_filter], call: Call) -> Result<u32, String> {
        let data = call.to_bytes();
        let mut accumulator: u32 = 0;
        let mut pc = 0;

        // Every instruction moves `pc` forward, so a valid program returns
        // within `program.len()` steps.
        for _ in 0..program.len() {
            let instruction = program
                .get(pc)
                .ok_or_else(|| format!("jumped to {pc}, past the last instruction"))?;
            let k = instruction.k;
            let skip = |taken: bool| {
                1 + usize::from(if taken {
                    instruction.jt
                } else {
                    instruction.jf
                })
            };
            match instruction.code {
                LOAD_WORD_ABS => {
                    let at = k as usize;
                    if !at.is_multiple_of(4) || at + 4 > SECCOMP_DATA_SIZE {
                        return Err(format!("instruction {pc} loads invalid offset {at}"));
                    }
                    let word = data[at..at + 4].try_into().expect("slice of 4 bytes");
                    accumulator = u32::from_ne_bytes(word);
                    pc += 1;
                }
                AND_K => {
                    accumulator &= k;
                    pc += 1;
                }
                JUMP_ALWAYS => pc += 1 + k as usize,
                JUMP_EQ_K => pc += skip(accumulator == k),
                JUMP_GT_K => pc += skip(accumulator > k),
                JUMP_GE_K => pc += skip(accumulator >= k),
                JUMP_SET_K => pc += skip(accumulator & k != 0),
                RETURN_K => return Ok(k),
                code => {
                    return Err(format!(
                        "instruction {pc} has opcode {code:#06x}, which the interpreter lacks"
                    ))
                }
            }
        }
        Err(format!(
            "no return within {} steps, at instruction {pc}",
            program.len()
        ))
    }

    /// Runs `program` on `call`, failing the test on an invalid program.
    fn action_for(program: &[sock_filter], call: Call) -> u32 {
        run_bpf(program, call).unwrap_or_else(|e| panic!("running the filter on {call:?}: {e}"))
    }

    /// Names a `SECCOMP_RET_*` value for failure messages.
    fn action_name(action: u32) -> String {
        match action & libc::SECCOMP_RET_ACTION_FULL {
            libc::SECCOMP_RET_ALLOW => "ALLOW".to_string(),
            libc::SECCOMP_RET_KILL_PROCESS => "KILL_PROCESS".to_string(),
            libc::SECCOMP_RET_USER_NOTIF => "USER_NOTIF".to_string(),
            libc::SECCOMP_RET_ERRNO => format!("ERRNO({})", action & 0xffff),
            _ => format!("{action:#010x}"),
        }
    }

    fn assert_action(program: &[sock_filter], program_name: &str, call: Call, expected: u32) {
        let actual = action_for(program, call);
        assert_eq!(
            actual,
            expected,
            "{program_name} on {call:?}: expected {}, got {}",
            action_name(expected),
            action_name(actual)
        );
    }

    fn policy() -> CompiledPolicy {
        compile().expect("policy should compile")
    }

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
    const NOTIFY: u32 = libc::SECCOMP_RET_USER_NOTIF;

    #[test]
    fn programs_use_only_interpreted_opcodes() {
        let policy = policy();
        for (program_name, program) in [
            ("allowlist", &policy.allowlist),
            ("allowlist_notify", &policy.allowlist_notify),
        ] {
            for (index, instruction) in program.iter().enumerate() {
                assert!(
                    SUPPORTED_OPCODES.contains(&instruction.code),
                    "{program_name} instruction {index} has opcode {:#06x}, \
                     expected one of {:#06x?}",
                    instruction.code,
                    SUPPORTED_OPCODES
                );
            }
        }
    }

    #[test]
    fn program_jumps_stay_inside_program() {
        let policy = policy();
        for (program_name, program) in [
            ("allowlist", &policy.allowlist),
            ("allowlist_notify", &policy.allowlist_notify),
        ] {
            for (index, instruction) in program.iter().enumerate() {
                let furthest = match instruction.code {
                    JUMP_ALWAYS => instruction.k as usize,
                    JUMP_EQ_K | JUMP_GT_K | JUMP_GE_K | JUMP_SET_K => {
                        usize::from(instruction.jt.max(instruction.jf))
                    }
                    _ => continue,
                };
                let target = index + 1 + furthest;
                assert!(
                    target < program.len(),
                    "{program_name} instruction {index} jumps to {target}, expected below {}",
                    program.len()
                );
            }
            let last = program.last().map(|instruction| instruction.code);
            assert_eq!(
                last,
                Some(RETURN_K),
                "{program_name} ends with opcode {last:#06x?}, expected a return"
            );
        }
    }

    #[test]
    fn allowed_call_passes_both_allowlists() {
        let policy = policy();
        let write = Call::x86_64(libc::SYS_write, &[1, 0, 0]);
        assert_action(&policy.allowlist, "allowlist", write, ALLOW);
        assert_action(&policy.allowlist_notify, "allowlist_notify", write, ALLOW);
    }

    #[test]
    fn every_allowed_call_passes() {
        let policy = policy();
        for group in ALLOWED {
            for &(name, number) in group.syscalls {
                // `socket` needs a permitted family; `clone` passes with
                // flags 0 (no namespace flags).
                let args: &[u64] = if number == libc::SYS_socket {
                    &[libc::AF_UNIX as u64]
                } else {
                    &[]
                };
                let call = Call::x86_64(number, args);
                let actual = action_for(&policy.allowlist_notify, call);
                assert_eq!(
                    actual,
                    ALLOW,
                    "{name} of group {:?}: expected ALLOW, got {}",
                    group.name,
                    action_name(actual)
                );
            }
        }
    }

    #[test]
    fn ptrace_notifies_or_kills() {
        let policy = policy();
        let ptrace = Call::x86_64(libc::SYS_ptrace, &[libc::PTRACE_ATTACH as u64, 1]);
        assert_action(&policy.allowlist_notify, "allowlist_notify", ptrace, NOTIFY);
        assert_action(&policy.allowlist, "allowlist", ptrace, KILL);
    }

    #[test]
    fn every_denied_call_notifies_or_kills() {
        let policy = policy();
        for group in DENIED {
            for &(name, number) in group.syscalls {
                let call = Call::x86_64(number, &[]);
                let notify = action_for(&policy.allowlist_notify, call);
                assert_eq!(
                    notify,
                    NOTIFY,
                    "allowlist_notify on {name}: expected USER_NOTIF, got {}",
                    action_name(notify)
                );
                let kill = action_for(&policy.allowlist, call);
                assert_eq!(
                    kill,
                    KILL,
                    "allowlist on {name}: expected KILL_PROCESS, got {}",
                    action_name(kill)
                );
            }
        }
    }

    #[test]
    fn x32_write_is_killed() {
        let policy = policy();
        let mut write = Call::x86_64(libc::SYS_write, &[1, 0, 0]);
        write.nr |= X32_SYSCALL_BIT;
        assert_action(&policy.allowlist, "allowlist", write, KILL);
        assert_action(&policy.allowlist_notify, "allowlist_notify", write, KILL);
    }

    #[test]
    fn negative_syscall_number_is_killed() {
        let policy = policy();
        let mut call = Call::x86_64(0, &[]);
        call.nr = u32::MAX;
        assert_action(&policy.allowlist_notify, "allowlist_notify", call, KILL);
    }

    #[test]
    fn i386_call_is_killed() {
        let policy = policy();
        // 4 is `write` on i386; the number must not matter.
        let mut write = Call::x86_64(4, &[1, 0, 0]);
        write.arch = AUDIT_ARCH_I386;
        assert_action(&policy.allowlist, "allowlist", write, KILL);
        assert_action(&policy.allowlist_notify, "allowlist_notify", write, KILL);
    }

    #[test]
    fn clone_new_user_notifies() {
        let policy = policy();
        let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as u64;
        let clone = Call::x86_64(libc::SYS_clone, &[flags]);
        assert_action(&policy.allowlist_notify, "allowlist_notify", clone, NOTIFY);
        assert_action(&policy.allowlist, "allowlist", clone, KILL);
    }

    #[test]
    fn clone_thread_flags_pass() {
        let policy = policy();
        let flags = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_SETTLS
            | libc::CLONE_PARENT_SETTID
            | libc::CLONE_CHILD_CLEARTID) as u64;
        let clone = Call::x86_64(libc::SYS_clone, &[flags]);
        assert_action(&policy.allowlist_notify, "allowlist_notify", clone, ALLOW);
    }

    #[test]
    fn netlink_socket_notifies() {
        let policy = policy();
        let socket = Call::x86_64(
            libc::SYS_socket,
            &[libc::AF_NETLINK as u64, libc::SOCK_RAW as u64, 0],
        );
        assert_action(&policy.allowlist_notify, "allowlist_notify", socket, NOTIFY);
        assert_action(&policy.allowlist, "allowlist", socket, KILL);
    }

    #[test]
    fn unix_socket_passes() {
        let policy = policy();
        let socket = Call::x86_64(
            libc::SYS_socket,
            &[libc::AF_UNIX as u64, libc::SOCK_STREAM as u64, 0],
        );
        assert_action(&policy.allowlist_notify, "allowlist_notify", socket, ALLOW);
    }

    #[test]
    fn io_uring_setup_returns_enosys() {
        let policy = policy();
        let setup = Call::x86_64(libc::SYS_io_uring_setup, &[8, 0]);
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_action(&policy.allowlist, "allowlist", setup, enosys);
        assert_action(&policy.allowlist_notify, "allowlist_notify", setup, enosys);
    }

    #[test]
    fn numbers_past_the_table_are_denied() {
        let policy = policy();
        for number in [HIGHEST_NUMBER, HIGHEST_NUMBER + 1, 0x3fff_ffff] {
            let call = Call::x86_64(number, &[]);
            assert_action(&policy.allowlist_notify, "allowlist_notify", call, NOTIFY);
        }
    }

    #[test]
    fn dispatch_is_a_shallow_tree() {
        // The kernel evaluates the filter for every syscall number at load;
        // a linear chain of ~300 comparisons made that cost 700 us.
        let policy = policy();
        let program = &policy.allowlist_notify;
        assert!(
            program.len() < 1024,
            "allowlist has {} instructions, expected under 1024",
            program.len()
        );
    }

    #[test]
    fn syscall_name_matches_libc_numbers() {
        for (number, expected) in [
            (libc::SYS_read, "read"),
            (libc::SYS_ptrace, "ptrace"),
            (libc::SYS_io_uring_setup, "io_uring_setup"),
            (libc::SYS_set_mempolicy_home_node, "set_mempolicy_home_node"),
        ] {
            let actual = syscall_name(AUDIT_ARCH_X86_64, number);
            assert_eq!(
                actual,
                Some(expected),
                "syscall {number}: expected {expected:?}, got {actual:?}"
            );
        }
    }

    #[test]
    fn syscall_table_ends_at_libc_last() {
        let last = SYSCALL_NAMES.last().copied();
        let expected = (
            libc::SYS_set_mempolicy_home_node as u32,
            "set_mempolicy_home_node",
        );
        assert_eq!(
            last,
            Some(expected),
            "last table entry: expected {expected:?}, got {last:?}"
        );
    }

    #[test]
    fn syscall_table_is_sorted_and_unique() {
        for pair in SYSCALL_NAMES.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "table entries out of order: {:?} before {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn syscall_name_rejects_other_abis() {
        let i386 = syscall_name(AUDIT_ARCH_I386, 1);
        assert_eq!(i386, None, "i386 call 1: expected None, got {i386:?}");
        let x32 = syscall_name(AUDIT_ARCH_X86_64, i64::from(X32_SYSCALL_BIT) | 1);
        assert_eq!(x32, None, "x32 write: expected None, got {x32:?}");
        let negative = syscall_name(AUDIT_ARCH_X86_64, -1);
        assert_eq!(negative, None, "call -1: expected None, got {negative:?}");
        let unused = syscall_name(AUDIT_ARCH_X86_64, 400);
        assert_eq!(
            unused, None,
            "unused number 400: expected None, got {unused:?}"
        );
    }

    #[test]
    fn abi_check_alone_kills_other_abis() {
        // The prefix runs here without seccompiler's architecture check
        // behind it, so this test fails when only the prefix is wrong.
        let mut program = abi_check();
        program.push(statement(libc::BPF_RET | libc::BPF_K, ALLOW));
        let write = Call::x86_64(libc::SYS_write, &[1, 0, 0]);
        let mut i386 = write;
        i386.arch = AUDIT_ARCH_I386;
        let mut x32 = write;
        x32.nr |= X32_SYSCALL_BIT;
        assert_action(&program, "ABI check", write, ALLOW);
        assert_action(&program, "ABI check", i386, KILL);
        assert_action(&program, "ABI check", x32, KILL);
    }

    /// Installs `program` in a forked child, runs `probe` there and returns
    /// the child's wait status. `probe` runs after the filter is in place,
    /// so it must make raw syscalls only and end in `_exit`.
    fn wait_status_under_filter(program: &[sock_filter], probe: fn() -> !) -> i32 {
        let filter = libc::sock_fprog {
            len: u16::try_from(program.len()).expect("program fits sock_fprog"),
            // seccompiler's sock_filter has the kernel's layout, as libc's
            // does, so the pointer cast is sound.
            filter: program.as_ptr() as *mut libc::sock_filter,
        };

        // SAFETY: the test process may have other threads, so the child
        // makes only async-signal-safe raw syscalls before `_exit` and never
        // returns into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // A seccomp kill dumps core when RLIMIT_CORE allows it, and the
            // dump would land in the crate directory.
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: `no_core` is a valid rlimit for the duration of the call.
            unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
            // SAFETY: integer arguments only.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                // SAFETY: `_exit` ends the child without running the
                // parent's atexit handlers or destructors.
                unsafe { libc::_exit(90) }
            }
            // SAFETY: `filter` points into `program`, which outlives the
            // child's copy of this frame.
            let installed = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &filter as *const libc::sock_fprog,
                )
            };
            if installed != 0 {
                // SAFETY: `_exit` ends the child without returning into the
                // test harness.
                unsafe { libc::_exit(91) }
            }
            probe();
        }

        let mut status = 0;
        // SAFETY: `pid` is the child forked above and `status` is a valid
        // out pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(
            waited,
            pid,
            "waitpid failed: {}",
            std::io::Error::last_os_error()
        );
        status
    }

    /// Exits 0 when `ptrace` fails with `ENOSYS`, as `SECCOMP_RET_USER_NOTIF`
    /// does when no listener is attached, and 92 otherwise.
    fn probe_ptrace_enosys() -> ! {
        // SAFETY: PTRACE_TRACEME passes no pointers, and the filter stops
        // the call before it runs.
        let result = unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) };
        // SAFETY: reads this thread's errno.
        let errno = unsafe { *libc::__errno_location() };
        let code = if result == -1 && errno == libc::ENOSYS {
            0
        } else {
            92
        };
        // SAFETY: ends the forked child, see `wait_status_under_filter`.
        unsafe { libc::_exit(code) }
    }

    /// Calls x32 `write` on an invalid fd and exits 93 if the call returns.
    fn probe_x32_write() -> ! {
        // SAFETY: fd -1 with a null buffer of length 0 touches no memory.
        unsafe {
            libc::syscall(
                libc::SYS_write | i64::from(X32_SYSCALL_BIT),
                -1,
                std::ptr::null::<u8>(),
                0,
            )
        };
        // SAFETY: ends the forked child, see `wait_status_under_filter`.
        unsafe { libc::_exit(93) }
    }

    #[test]
    fn kernel_fails_unlisted_call_without_listener() {
        let policy = policy();
        let status = wait_status_under_filter(&policy.allowlist_notify, probe_ptrace_enosys);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "expected the child to exit 0 after ptrace failed with ENOSYS, got wait status \
             {status:#x} (exit 90 or 91: installing the filter failed, 92: ptrace did not fail \
             with ENOSYS)"
        );
    }

    #[test]
    fn kernel_kills_x32_call() {
        let policy = policy();
        let status = wait_status_under_filter(&policy.allowlist_notify, probe_x32_write);
        assert!(
            libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
            "expected the child to die of SIGSYS, got wait status {status:#x} (exit 90 or 91: \
             installing the filter failed, 93: the x32 call returned)"
        );
    }
}
