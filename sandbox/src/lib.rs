//! Runs one untrusted command in a Linux sandbox and accounts for what it
//! used.
//!
//! Each slot has a long-lived init, cloned once into new user, PID, mount,
//! network and UTS namespaces, which sits in the slot's cgroup. The init
//! builds a root of read-only bind mounts, writable size-limited `/box`
//! and `/tmp`, a `/proc` that hides the init, and a minimal `/dev`. Each
//! run is a `vfork` of that init into a fresh IPC namespace and session,
//! with no capabilities, an unprivileged uid, `no_new_privs`, rlimits and
//! a seccomp allowlist. The cgroup limits and measures the whole process
//! tree. When the program ends, everything it started is killed, the
//! files it left are discarded with a fresh tmpfs, and the pid counter
//! starts over. Runs share the slot's network namespace unless an earlier
//! run left sockets in it, and then the program gets one of its own.
//! Nothing started by a run outlives it, and nothing carries to the next.
//!
//! This crate knows nothing about grading: it takes a command, files and
//! limits, and returns how the command ended. If isolation cannot be set up
//! it returns an error and never runs the command bare.
//!
//! Linux only (x86_64 for the seccomp policy). Must run as root: the
//! supervisor writes uid maps, manages cgroups and reaches the init's
//! directories through `/proc`.
//!
//! Layout:
//! - `run.rs` drives one run: prepare, start, monitor, account.
//! - `slot.rs` starts the slot's init and exchanges messages with it.
//! - `child.rs` is the code of the init and of the program before exec.
//! - `shared.rs` carries a run's plan to the init.
//! - `mounts.rs` plans the root.
//! - `seccomp.rs` is the syscall policy.
//! - `cgroup.rs` limits and measures.
//! - `workdir.rs` fills `/box` and copies files out.
//! - `monitor.rs` moves bytes through the pipes.
//!
//! Host ids: slot `N` maps the sandbox's root (inside uid/gid 0) to host id
//! `1_640_000 + 2N` and the program (inside uid/gid 1000) to
//! `1_640_000 + 2N + 1`. Neither should belong to any host account.

#![deny(clippy::undocumented_unsafe_blocks)]

mod cgroup;
mod child;
mod monitor;
mod mounts;
mod run;
pub mod seccomp;
mod shared;
mod slot;
mod syscall_names;
mod workdir;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// Host-side settings of one sandbox slot. Each slot has one `Sandbox`,
/// which runs one command at a time.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Host directory for this slot's work dir mount and scratch files.
    /// Created if missing; everything under it belongs to the sandbox.
    pub state_dir: PathBuf,
    /// Slot number, unique among the slots of one process; used in cgroup
    /// and directory names.
    pub slot: u32,
    /// Name of the cgroup subtree created under this process's own cgroup
    /// (from `/proc/self/cgroup`), such as `verdict`.
    pub cgroup_name: String,
}

/// Content of a file placed in the work dir before a run.
#[derive(Debug, Clone)]
pub enum FileContent {
    Bytes(Vec<u8>),
    /// Copied from a host file the caller trusts.
    HostPath(PathBuf),
}

/// A file placed in the work dir (`/box` inside the sandbox) before a run.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Relative path below the work dir; no `..` and no leading `/`.
    pub path: String,
    pub content: FileContent,
    pub executable: bool,
}

/// Source of the command's stdin.
#[derive(Debug, Clone, Default)]
pub enum Stdin {
    #[default]
    Null,
    Bytes(Vec<u8>),
    /// A host file the caller trusts, opened by the supervisor.
    HostFile(PathBuf),
}

/// An extra read-only bind mount from the host into the sandbox root.
#[derive(Debug, Clone)]
pub struct Bind {
    pub host: PathBuf,
    /// Absolute path inside the sandbox.
    pub inside: PathBuf,
}

/// Limits of one run. All apply to the whole process tree.
#[derive(Debug, Clone)]
pub struct Limits {
    /// User plus system CPU time of all processes and threads.
    pub cpu_time: Duration,
    /// Elapsed real time from start to the end of the last process.
    pub wall_time: Duration,
    /// Memory charged to the run's cgroup, without swap, including tmpfs
    /// pages the program writes.
    pub memory_bytes: u64,
    /// Processes and threads alive at once.
    pub max_processes: u32,
    /// Bytes kept from stdout; one byte more ends the run with
    /// `LimitKind::Output`.
    pub stdout_bytes: u64,
    /// Bytes kept from stderr; one byte more ends the run with
    /// `LimitKind::Output`.
    pub stderr_bytes: u64,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub file_size_bytes: u64,
    /// Size of the writable work dir and of `/tmp`, each.
    pub disk_bytes: u64,
}

/// One command to run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// `argv[0]` is resolved against `PATH` inside the sandbox when it has
    /// no `/`.
    pub argv: Vec<String>,
    /// The complete environment; nothing is inherited from the host.
    pub env: Vec<(String, String)>,
    /// Placed in the work dir before the run, which starts empty.
    pub files: Vec<InputFile>,
    pub stdin: Stdin,
    pub limits: Limits,
    /// Extra read-only binds on top of the default root (system
    /// directories such as `/usr`, and the `/etc` entries runtimes need).
    pub binds: Vec<Bind>,
    /// Files copied back from the work dir after the run: plain names or
    /// patterns with `*` (such as `*.class`), matched in the work dir's top
    /// level. Only regular files, never through a symlink.
    pub copy_out: Vec<String>,
    /// Upper bound on the total bytes of copied-out files.
    pub copy_out_max_bytes: u64,
    /// Host directory whose `/usr`, `/bin`, `/sbin`, `/lib*` and `/etc`
    /// entries form the sandbox's system directories, such as a root
    /// filesystem built by `verdict langpacks build`. `None` takes them
    /// from the host's `/`. Must be an absolute path to a directory with a
    /// `usr` directory; the caller trusts its contents.
    pub root: Option<PathBuf>,
}

/// Exit status of the command's last process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

/// The limit that ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    CpuTime,
    WallTime,
    Memory,
    Output,
    Processes,
    FileSize,
}

/// Outcome of a run: how it ended and the resources it used.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub status: ExitStatus,
    /// Set when the sandbox or the kernel ended the run on a limit.
    pub limit: Option<LimitKind>,
    /// Set when the seccomp filter killed the program; the syscall's name
    /// when it is known, else `"unknown"`.
    pub blocked_syscall: Option<String>,
    pub cpu_time: Duration,
    pub wall_time: Duration,
    pub peak_memory_bytes: u64,
    pub oom_killed: bool,
    #[serde(skip)]
    pub stdout: Vec<u8>,
    #[serde(skip)]
    pub stderr: Vec<u8>,
    /// Files matched by `RunSpec::copy_out`, as (name, content).
    #[serde(skip)]
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Isolation could not be set up; the command did not run.
    #[error("sandbox setup failed at {step}: {source}")]
    Setup {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid run spec: {0}")]
    InvalidSpec(String),
    #[error("copying out {path} failed: {reason}")]
    CopyOut { path: String, reason: String },
    #[error("sandbox i/o failed during {step}: {source}")]
    Io {
        step: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// First host uid/gid of the range the slots map into; see the crate docs.
pub const HOST_ID_BASE: u32 = 1_640_000;

/// One sandbox slot.
pub struct Sandbox {
    config: SandboxConfig,
    /// Host mount point of the sandbox root (in the init's namespace only).
    root_dir: PathBuf,
    /// Contents of the sandbox's `/etc/passwd` and `/etc/group`.
    passwd: Vec<u8>,
    group: Vec<u8>,
    /// The slot's init, started at the first run and again when a run
    /// needs another root layout or the last one failed.
    init: Option<slot::SlotInit>,
    /// `/box`, `/tmp` and `/dev/shm` of the init.
    dirs: Option<workdir::WorkDirs>,
    /// Stdin of runs without input.
    null: std::fs::File,
    // Declared after `init`, so the init is gone when the cgroup is
    // removed.
    cgroup: cgroup::SlotCgroup,
    policy: seccomp::CompiledPolicy,
}

impl Sandbox {
    /// Prepares a slot: state dir and cgroup. Fails when the host cannot
    /// provide full isolation (not root, no cgroup controllers). The
    /// slot's init starts with the first run.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(SandboxError::Setup {
                step: "checking privileges (the sandbox supervisor must run as root)",
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            });
        }
        // The program's host id, `HOST_ID_BASE + 2 * slot + 1`, must stay
        // below u32::MAX, which the kernel reserves as "no id".
        let max_slot = (u32::MAX - 1 - HOST_ID_BASE) / 2 - 1;
        if config.slot > max_slot {
            return Err(SandboxError::Setup {
                step: "checking the slot number",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("slot {} is above the maximum {max_slot}", config.slot),
                ),
            });
        }
        let slot_dir = config.state_dir.join(format!("slot-{}", config.slot));
        let root_dir = slot_dir.join("root");
        for dir in [&config.state_dir, &slot_dir, &root_dir] {
            run::create_searchable_dir(dir)?;
        }
        run::check_searchable_ancestors(&config.state_dir)?;
        let (passwd, group) = run::account_files();
        let null = std::fs::File::open("/dev/null").map_err(|source| SandboxError::Setup {
            step: "opening /dev/null",
            source,
        })?;
        let cgroup = cgroup::SlotCgroup::new(&config.cgroup_name, config.slot)?;
        let policy = seccomp::compile().map_err(|e| SandboxError::Setup {
            step: "compiling the seccomp filter",
            source: std::io::Error::other(e),
        })?;
        tracing::info!(slot = config.slot, state_dir = %config.state_dir.display(),
            "sandbox slot ready");
        Ok(Sandbox {
            config,
            root_dir,
            passwd,
            group,
            init: None,
            dirs: None,
            null,
            cgroup,
            policy,
        })
    }

    /// Runs one command to completion, blocking the caller. Safe to call from a
    /// multi-threaded process.
    pub fn run(&mut self, spec: &RunSpec) -> Result<RunOutcome, SandboxError> {
        run::validate(spec)?;
        let mut outcome = run::execute(self, spec)?;
        if let Some(dirs) = &self.dirs {
            outcome.files = dirs.copy_out(&spec.copy_out, spec.copy_out_max_bytes)?;
        }
        Ok(outcome)
    }
}
