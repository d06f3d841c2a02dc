//! The seccomp policy applied to every sandboxed program, kept as data.
//!
//! Two filters are installed, both compiled before `clone`:
//!
//! 1. The allowlist: every syscall in [`ALLOWED`] passes (some only with
//!    the argument checks in [`allowlist_rules`]); anything else kills the
//!    whole process with `SIGSYS` (`SECCOMP_RET_KILL_PROCESS`). Only exact
//!    x86_64 numbers are listed, so a number with the x32 bit
//!    (`0x40000000`) matches nothing and is killed as well.
//! 2. The `ENOSYS` filter: [`ENOSYS`] calls return `ENOSYS`, so runtimes
//!    that probe them fall back. The kernel runs every installed filter
//!    and takes the strictest result, and `ERRNO` is stricter than
//!    `ALLOW`, so these calls appear in the allowlist only to avoid the
//!    kill.
//!
//! [`DENIED`] documents the dangerous calls kept out of the allowlist; a
//! test checks that none of them slipped into it.
//!
//! x86_64 only: the numbers come from `libc::SYS_*` for this target.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

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

/// The two filters, in installation order.
pub struct CompiledPolicy {
    pub allowlist: BpfProgram,
    pub enosys: BpfProgram,
}

#[derive(Debug, thiserror::Error)]
#[error("building the seccomp filter failed: {0}")]
pub struct PolicyError(String);

/// Builds the allowlist rules: unconditional for most calls, argument
/// checks for `clone` and `socket`.
fn allowlist_rules() -> Result<BTreeMap<i64, Vec<SeccompRule>>, PolicyError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for group in ALLOWED.iter().chain(ENOSYS) {
        for &(_, number) in group.syscalls {
            rules.insert(number, Vec::new());
        }
    }

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

/// Compiles both filters. Called on the host before `clone`, so the child
/// only has to hand the finished programs to the kernel.
pub fn compile() -> Result<CompiledPolicy, PolicyError> {
    let allowlist = SeccompFilter::new(
        allowlist_rules()?,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| PolicyError(e.to_string()))?;

    let mut enosys_rules = BTreeMap::new();
    for group in ENOSYS {
        for &(_, number) in group.syscalls {
            enosys_rules.insert(number, Vec::new());
        }
    }
    let enosys = SeccompFilter::new(
        enosys_rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        TargetArch::x86_64,
    )
    .map_err(|e| PolicyError(e.to_string()))?;

    Ok(CompiledPolicy {
        allowlist: allowlist
            .try_into()
            .map_err(|e: seccompiler::BackendError| PolicyError(e.to_string()))?,
        enosys: enosys
            .try_into()
            .map_err(|e: seccompiler::BackendError| PolicyError(e.to_string()))?,
    })
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
}
