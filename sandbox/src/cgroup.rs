//! The slot's cgroup (Linux only), on cgroup v1 and v2.
//!
//! Layout, below this process's own cgroup as read from `/proc/self/cgroup`:
//! `<own>/<cgroup_name>/slot-N` is created by [`SlotCgroup::new`] and
//! removed on drop. The slot's init is moved into it once, so every
//! process of every run is born inside it and no run pays for a move
//! (writing `cgroup.procs` waits for an RCU grace period, milliseconds).
//! The counters are cumulative, so a run's CPU time, OOM kills and
//! rejected forks are differences from [`SlotCgroup::begin`], and the
//! kernel's peak memory is reset there. Limits are rewritten only when
//! they change. The idle init adds a few pages and no CPU time.
//!
//! On v1 each controller is its own hierarchy with its own path for this
//! process (on this kind of host, memory sits under `/process_api/<id>`
//! and the others at `/`), so every controller gets its own cgroups-rs
//! handle with its own path. On v2 one handle covers all controllers.
//!
//! v2 and the "no internal processes" rule: controllers can only be
//! enabled for children of a cgroup that has no processes itself. When the
//! worker's own cgroup still lacks the controllers, this module moves the
//! worker process into the leaf `<own>/verdict-supervisor` and then enables
//! `memory`, `pids` and `cpu` in `<own>`, `<own>/<cgroup_name>` and the
//! slot. If other processes share `<own>`, setup fails and names them,
//! because moving processes the worker did not start is not its call.
//! Sibling cgroups and cgroups above `<own>` are never touched, and setup
//! checks first that the cgroup2 mount shows `<own>` with this process in
//! it. `<own>` is read once per process, when its first slot is created, so
//! later slots (under any name) are created beside the first one, not
//! below the supervisor leaf. A lock serializes slot setup on v2.
//!
//! The monitor reads the counters straight from files opened once per slot
//! (`pread` every poll), because cgroups-rs's stat calls read every file of
//! a controller and the poll runs every 10 ms.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cgroups_rs::fs::cgroup::{existing_path, get_cgroups_relative_paths};
use cgroups_rs::fs::freezer::FreezerController;
use cgroups_rs::fs::hierarchies::{self, V1, V2};
use cgroups_rs::fs::{Cgroup, Hierarchy};
use cgroups_rs::CgroupPid;

use crate::SandboxError;

/// Mount point of the unified hierarchy on a v2-only host.
const V2_ROOT: &str = "/sys/fs/cgroup";
/// v1 controllers a run needs. A missing one fails setup.
const V1_REQUIRED: &[&str] = &["memory", "pids", "cpuacct"];
/// Controllers a v2 run needs enabled in its parent.
const V2_REQUIRED: &[&str] = &["memory", "pids", "cpu"];
/// Memory charged to an idle slot above which [`SlotCgroup::begin`]
/// reclaims it first, in bytes. The idle init uses a few hundred KiB.
const RECLAIM_ABOVE: u64 = 4 << 20;
/// How long to wait for a killed cgroup to become empty.
const EMPTY_TIMEOUT: Duration = Duration::from_secs(5);

fn setup_error(step: &'static str, message: String) -> SandboxError {
    SandboxError::Setup {
        step,
        source: io::Error::other(message),
    }
}

fn setup_io(step: &'static str, source: io::Error) -> SandboxError {
    SandboxError::Setup { step, source }
}

/// The slot's cgroup: one directory per v1 controller, or one on v2.
pub struct SlotCgroup {
    v2: bool,
    /// (controller, path relative to that controller's mount root) of the
    /// slot directory. On v2 there is one entry, named "unified".
    slot_paths: Vec<(&'static str, PathBuf)>,
    /// v1 only: whether a freezer hierarchy is mounted (used for killing).
    freezer: bool,
    /// Opened at the first run.
    counters: Option<Counters>,
    /// (memory bytes, processes) written for the last run.
    limits: Option<(u64, u32)>,
}

impl SlotCgroup {
    /// Creates `<own>/<name>/slot-N`, checking that every needed controller
    /// is present. Removes a leftover `run` child from a crashed process.
    pub fn new(name: &str, slot: u32) -> Result<SlotCgroup, SandboxError> {
        let v2 = hierarchies::is_cgroup2_unified_mode();
        let slot_cgroup = if v2 {
            Self::new_v2(name, slot)?
        } else {
            Self::new_v1(name, slot)?
        };

        // A process that crashed may have left processes behind (normally
        // they die with it), or the `run` child of an older layout.
        if !slot_cgroup.kill_and_wait() {
            return Err(setup_error(
                "emptying the slot cgroup",
                "processes of an earlier run survive in it".to_string(),
            ));
        }
        for (controller, path) in &slot_cgroup.slot_paths {
            let stale = handle(v2, controller, &path.join("run"));
            if stale.exists() {
                let _ = stale.delete();
            }
        }
        Ok(slot_cgroup)
    }

    fn new_v1(name: &str, slot: u32) -> Result<SlotCgroup, SandboxError> {
        let own = get_cgroups_relative_paths()
            .map_err(|e| setup_error("reading /proc/self/cgroup", e.to_string()))?;
        // `existing_path` strips each hierarchy's mount root, which matters
        // when this process runs in a container whose cgroup mounts start
        // below the host's root.
        let own = existing_path(own.clone()).unwrap_or(own);
        let mounted: Vec<String> = V1::new()
            .subsystems()
            .iter()
            .map(|s| s.controller_name())
            .collect();

        let mut slot_paths = Vec::new();
        for &controller in V1_REQUIRED.iter().chain(&["freezer"]) {
            if !mounted.iter().any(|m| m == controller) {
                if controller == "freezer" {
                    continue;
                }
                return Err(setup_error(
                    "finding cgroup v1 controllers",
                    format!(
                        "the {controller} controller is not mounted; mount it under \
                         /sys/fs/cgroup/{controller}"
                    ),
                ));
            }
            let base = own.get(controller).map(String::as_str).unwrap_or("/");
            let path = Path::new(base.trim_start_matches('/'))
                .join(name)
                .join(format!("slot-{slot}"));
            let cgroup = Cgroup::load_with_specified_controllers(
                Box::new(V1::new()),
                &path,
                vec![controller.to_string()],
            );
            cgroup.create().map_err(|e| {
                setup_error(
                    "creating the slot cgroup",
                    format!("{controller} at {}: {e}", path.display()),
                )
            })?;
            slot_paths.push((controller, path));
        }
        let freezer = slot_paths.iter().any(|(c, _)| *c == "freezer");
        Ok(SlotCgroup {
            v2: false,
            slot_paths,
            freezer,
            counters: None,
            limits: None,
        })
    }

    fn new_v2(name: &str, slot: u32) -> Result<SlotCgroup, SandboxError> {
        // The lock is held for the whole setup, because two threads creating
        // slots at once could otherwise write subtree_control while the
        // other thread's move of the process is under way (EBUSY).
        let mut base = lock_v2_base();
        let own_rel = match base.as_ref() {
            Some(own_rel) => own_rel.clone(),
            None => {
                let own_rel = read_own_v2_cgroup()?;
                check_own_v2_cgroup_mounted(&own_rel)?;
                own_rel
            }
        };
        let own_dir = Path::new(V2_ROOT).join(&own_rel);
        if !controllers_enabled(&own_dir) {
            delegate_own_v2_cgroup(&own_dir)?;
        }
        // Stored only now, so a failed first setup leaves nothing cached and
        // a retry reads `/proc/self/cgroup` again (the process is back in
        // `<own>` then).
        *base = Some(own_rel.clone());

        let subtree_dir = own_dir.join(name);
        create_dir(&subtree_dir)?;
        enable_controllers(&subtree_dir)?;
        // The slot is a leaf: its init and runs live in it, so no
        // controllers are enabled below it.
        let slot_dir = subtree_dir.join(format!("slot-{slot}"));
        create_dir(&slot_dir)?;

        Ok(SlotCgroup {
            v2: true,
            slot_paths: vec![("unified", own_rel.join(name).join(format!("slot-{slot}")))],
            freezer: true,
            counters: None,
            limits: None,
        })
    }
}

impl Drop for SlotCgroup {
    fn drop(&mut self) {
        // The slot's init is gone by now, so this catches anything left.
        self.kill_and_wait();
        self.counters = None;
        for (controller, path) in &self.slot_paths {
            let cgroup = handle(self.v2, controller, path);
            if let Err(e) = cgroup.delete() {
                tracing::warn!(controller, path = %path.display(), error = %e,
                    "removing the slot cgroup failed");
            }
            // Remove `<own>/<name>` as well once its last slot is gone. The
            // rmdir fails with EBUSY while other slots remain, which is fine.
            // On v2 the lock keeps a slot being created under the same name
            // from losing its parent between mkdir and subtree_control.
            let _v2_setup = self.v2.then(lock_v2_base);
            if let Some(parent) = path.parent() {
                for subsystem in handle(self.v2, controller, parent).subsystems() {
                    let _ = std::fs::remove_dir(subsystem.to_controller().path());
                }
            }
        }
    }
}

/// This process's cgroup v2 path (relative to the mount root) from before
/// the first slot moved the process into its supervisor leaf. Later slots
/// build on it, because `/proc/self/cgroup` then names the leaf, and a leaf
/// that contains the process cannot enable controllers for a subtree.
static V2_BASE: Mutex<Option<PathBuf>> = Mutex::new(None);

fn lock_v2_base() -> MutexGuard<'static, Option<PathBuf>> {
    // A panic while the lock was held leaves at worst a cgroup directory
    // behind, so the stored path is still valid.
    V2_BASE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read_own_v2_cgroup() -> Result<PathBuf, SandboxError> {
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| setup_io("reading /proc/self/cgroup", e))?;
    let own = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| {
            setup_error(
                "reading /proc/self/cgroup",
                "no cgroup v2 entry (0::) found".to_string(),
            )
        })?;
    Ok(PathBuf::from(own.trim_start_matches('/')))
}

/// Checks that the cgroup2 mount at [`V2_ROOT`] shows this process's own
/// cgroup, so setup works inside that cgroup and nowhere else. The two
/// differ in a privileged container that has its own cgroup namespace but
/// mounts the node's whole tree. There `/proc/self/cgroup` reads `0::/`,
/// and writing to the mount's root would reconfigure the node's top-level
/// cgroup.
fn check_own_v2_cgroup_mounted(own_rel: &Path) -> Result<(), SandboxError> {
    let own_dir = Path::new(V2_ROOT).join(own_rel);
    let pid = std::process::id();
    let procs = read_procs(&own_dir).map_err(|e| {
        setup_error(
            "finding the worker's cgroup v2",
            format!(
                "{}/cgroup.procs: {e}; the cgroup2 mount at {V2_ROOT} must show the cgroup \
                 named in /proc/self/cgroup (/{})",
                own_dir.display(),
                own_rel.display()
            ),
        )
    })?;
    if procs.contains(&pid) {
        return Ok(());
    }
    Err(setup_error(
        "finding the worker's cgroup v2",
        format!(
            "this process (pid {pid}) is not in {}/cgroup.procs, so the cgroup2 mount at \
             {V2_ROOT} shows a different tree than /proc/self/cgroup (/{}); mount cgroup2 \
             from inside the worker's cgroup namespace",
            own_dir.display(),
            own_rel.display()
        ),
    ))
}

/// Makes `memory`, `pids` and `cpu` available to the children of the
/// worker's own cgroup `own_dir`, touching no cgroup outside it and no
/// process but this one.
///
/// A non-root cgroup can enable controllers for its children only while it
/// contains no processes (cgroup v2's "no internal processes" rule, EBUSY
/// otherwise). So this process first moves into the leaf
/// `<own>/verdict-supervisor` and stays there. When other processes share
/// `<own>`, moving them is not ours to do, so setup fails and names them.
/// This process then stays in `<own>`, or moves back when they entered
/// after its move, which leaves the empty leaf behind. The root cgroup is
/// exempt from the rule, so there nothing moves.
fn delegate_own_v2_cgroup(own_dir: &Path) -> Result<(), SandboxError> {
    if is_root_cgroup(own_dir) {
        return enable_controllers(own_dir);
    }
    let pid = std::process::id();
    let others = other_processes(own_dir, pid);
    if !others.is_empty() {
        return Err(shared_cgroup_error(own_dir, &others));
    }

    let supervisor = own_dir.join(SUPERVISOR_LEAF);
    create_dir(&supervisor)?;
    move_process(&supervisor, pid)?;
    tracing::info!(cgroup = %supervisor.display(), pid,
        "moved the worker into its supervisor cgroup");
    let Err(enable_error) = enable_controllers(own_dir) else {
        return Ok(());
    };

    // A process entered `<own>` between the check and the write, or the
    // controllers are missing from `<own>`. Undo the move either way, so
    // the worker ends where it started.
    let others = other_processes(own_dir, pid);
    if let Err(e) = move_process(own_dir, pid) {
        tracing::warn!(cgroup = %own_dir.display(), pid, error = %e,
            "moving the worker back into its own cgroup failed");
    }
    if others.is_empty() {
        Err(enable_error)
    } else {
        Err(shared_cgroup_error(own_dir, &others))
    }
}

/// Leaf below the worker's own cgroup that contains the worker process on v2.
const SUPERVISOR_LEAF: &str = "verdict-supervisor";

/// Returns whether `dir` is the hierarchy's root cgroup, which alone lacks
/// `cgroup.type`. A cgroup namespace's root is not the hierarchy's root and
/// has the file.
fn is_root_cgroup(dir: &Path) -> bool {
    !dir.join("cgroup.type").exists()
}

/// Pids listed in `dir/cgroup.procs`, as seen from this pid namespace.
fn read_procs(dir: &Path) -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(dir.join("cgroup.procs"))?;
    Ok(text
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect())
}

/// Processes in `dir` other than `pid`. An unreadable `cgroup.procs` counts
/// as none, because the write to `cgroup.subtree_control` that follows
/// reports the real error.
fn other_processes(dir: &Path, pid: u32) -> Vec<u32> {
    let mut procs = read_procs(dir).unwrap_or_default();
    procs.retain(|&p| p != pid);
    procs
}

fn move_process(cgroup_dir: &Path, pid: u32) -> Result<(), SandboxError> {
    std::fs::write(cgroup_dir.join("cgroup.procs"), pid.to_string()).map_err(|e| {
        setup_error(
            "moving the worker between cgroups",
            format!(
                "writing pid {pid} to {}/cgroup.procs: {e}",
                cgroup_dir.display()
            ),
        )
    })
}

/// Builds the setup error for a worker whose own cgroup contains `others`,
/// naming up to 10 of them with their command names.
fn shared_cgroup_error(own_dir: &Path, others: &[u32]) -> SandboxError {
    let named: Vec<String> = others
        .iter()
        .take(10)
        .map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{pid} ({})", comm.trim())
        })
        .collect();
    let more = if others.len() > named.len() {
        format!(" and {} more", others.len() - named.len())
    } else {
        String::new()
    };
    setup_error(
        "enabling cgroup v2 controllers",
        format!(
            "the worker's cgroup {} also contains the processes {}{more}; cgroup v2 enables \
             memory, pids and cpu for child cgroups only while their parent contains no \
             processes, and the sandbox moves no process but its own. Run the worker alone \
             in its cgroup (its own container or `systemd-run --scope`)",
            own_dir.display(),
            named.join(", ")
        ),
    )
}

fn create_dir(path: &Path) -> Result<(), SandboxError> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(setup_error(
            "creating a cgroup v2 directory",
            format!("{}: {e}", path.display()),
        )),
    }
}

fn controllers_enabled(dir: &Path) -> bool {
    let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    V2_REQUIRED
        .iter()
        .all(|c| enabled.split_whitespace().any(|e| e == *c))
}

fn enable_controllers(dir: &Path) -> Result<(), SandboxError> {
    let request: Vec<String> = V2_REQUIRED.iter().map(|c| format!("+{c}")).collect();
    std::fs::write(dir.join("cgroup.subtree_control"), request.join(" ")).map_err(|e| {
        setup_error(
            "enabling cgroup v2 controllers",
            format!(
                "writing {} to {}/cgroup.subtree_control failed ({e}); the worker's cgroup must \
                 contain no processes besides the worker and have memory, pids and cpu available",
                request.join(" "),
                dir.display()
            ),
        )
    })
}

/// A cgroups-rs handle for one v1 controller (or all of v2) at `path`.
fn handle(v2: bool, controller: &str, path: &Path) -> Cgroup {
    if v2 {
        Cgroup::load_with_specified_controllers(
            Box::new(V2::new()),
            path,
            V2_REQUIRED.iter().map(|c| c.to_string()).collect(),
        )
    } else {
        Cgroup::load_with_specified_controllers(
            Box::new(V1::new()),
            path,
            vec![controller.to_string()],
        )
    }
}

/// Counter files of the slot cgroup, opened once per slot and read with
/// `pread`.
struct Counters {
    /// `cpuacct.usage` (v1, ns) or `cpu.stat` (v2, `usage_usec`).
    cpu: File,
    /// `memory.usage_in_bytes` (v1) or `memory.current` (v2).
    memory: File,
    /// `memory.max_usage_in_bytes` (v1) or `memory.peak` (v2), opened for
    /// writing too, because a write resets it (on v2 only for reads
    /// through the same open file, Linux 6.12+).
    peak: Option<File>,
    /// `memory.oom_control` (v1) or `memory.events` (v2).
    oom: File,
    pids_events: File,
}

/// Counter values at the start of a run. The slot's counters are
/// cumulative, so a run's usage is the difference.
pub struct RunStart {
    cpu: Duration,
    oom_kills: u64,
    pids_hits: u64,
    /// Whether the kernel's peak was reset for this run. If not, only the
    /// polled peak is reported.
    peak_reset: bool,
    observed_peak: u64,
}

impl SlotCgroup {
    fn groups(&self) -> Vec<(&'static str, Cgroup)> {
        self.slot_paths
            .iter()
            .map(|(c, p)| (*c, handle(self.v2, c, p)))
            .collect()
    }

    /// The directory of `controller` for this slot (any controller on v2).
    fn dir(&self, controller: &str) -> Option<PathBuf> {
        let (name, path) = if self.v2 {
            self.slot_paths.first()?
        } else {
            self.slot_paths.iter().find(|(c, _)| *c == controller)?
        };
        let group = handle(self.v2, name, path);
        let subsystem = group.subsystems().first()?;
        Some(subsystem.to_controller().path().to_path_buf())
    }

    fn open_counter(
        &self,
        file: &str,
        controller: &str,
        write: bool,
    ) -> Result<File, SandboxError> {
        let dir = self.dir(controller).ok_or_else(|| {
            setup_error("opening cgroup counters", format!("no {controller} cgroup"))
        })?;
        std::fs::OpenOptions::new()
            .read(true)
            .write(write)
            .open(dir.join(file))
            .map_err(|e| {
                setup_error(
                    "opening cgroup counters",
                    format!("{}: {e}", dir.join(file).display()),
                )
            })
    }

    fn open_counters(&self) -> Result<Counters, SandboxError> {
        let v2 = self.v2;
        let pick =
            |v1_name: &'static str, v2_name: &'static str| if v2 { v2_name } else { v1_name };
        Ok(Counters {
            cpu: self.open_counter(pick("cpuacct.usage", "cpu.stat"), "cpuacct", false)?,
            memory: self.open_counter(
                pick("memory.usage_in_bytes", "memory.current"),
                "memory",
                false,
            )?,
            // Missing before Linux 5.19 on v2.
            peak: self
                .open_counter(
                    pick("memory.max_usage_in_bytes", "memory.peak"),
                    "memory",
                    true,
                )
                .ok(),
            oom: self.open_counter(pick("memory.oom_control", "memory.events"), "memory", false)?,
            pids_events: self.open_counter("pids.events", "pids", false)?,
        })
    }

    /// Moves `pid` (the slot's init, before it runs anything) into every
    /// controller of the slot.
    pub fn add_process(&self, pid: u32) -> Result<(), SandboxError> {
        for (controller, group) in self.groups() {
            group
                .add_task_by_tgid(CgroupPid::from(u64::from(pid)))
                .map_err(|e| {
                    setup_error(
                        "moving the slot's init into its cgroup",
                        format!("{controller}: {e}"),
                    )
                })?;
        }
        Ok(())
    }

    /// Sets the memory limit (without swap) and the process limit of the
    /// next run. Writes only what changed since the last run.
    pub fn set_limits(
        &mut self,
        memory_bytes: u64,
        max_processes: u32,
    ) -> Result<(), SandboxError> {
        if self.limits == Some((memory_bytes, max_processes)) {
            return Ok(());
        }
        self.limits = None;
        let memory_dir = self
            .dir("memory")
            .ok_or_else(|| setup_error("setting the memory limit", "no memory cgroup".into()))?;
        let write = |file: &str, value: String| {
            std::fs::write(memory_dir.join(file), &value).map_err(|e| {
                setup_error(
                    "setting the memory limit",
                    format!(
                        "writing {value} to {}: {e}",
                        memory_dir.join(file).display()
                    ),
                )
            })
        };
        if self.v2 {
            write("memory.max", memory_bytes.to_string())?;
            // Without swap off, a run could exceed its limit by swapping.
            if memory_dir.join("memory.swap.max").exists() {
                write("memory.swap.max", "0".into())?;
            }
        } else if memory_dir.join("memory.memsw.limit_in_bytes").exists() {
            // v1 limits memory plus swap, which must stay at least the
            // memory limit: raise it first, or lower it last.
            let raising = read_number(&memory_dir.join("memory.limit_in_bytes"))
                .is_some_and(|current| memory_bytes > current);
            if raising {
                write("memory.memsw.limit_in_bytes", memory_bytes.to_string())?;
                write("memory.limit_in_bytes", memory_bytes.to_string())?;
            } else {
                write("memory.limit_in_bytes", memory_bytes.to_string())?;
                write("memory.memsw.limit_in_bytes", memory_bytes.to_string())?;
            }
        } else {
            write("memory.limit_in_bytes", memory_bytes.to_string())?;
        }

        let pids_dir = self
            .dir("pids")
            .ok_or_else(|| setup_error("setting the process limit", "no pids cgroup".into()))?;
        // The slot's init lives in the same cgroup, so it gets one task on
        // top of the program's `max_processes`.
        let pids = u64::from(max_processes) + 1;
        std::fs::write(pids_dir.join("pids.max"), pids.to_string())
            .map_err(|e| setup_io("setting the process limit", e))?;
        self.limits = Some((memory_bytes, max_processes));
        Ok(())
    }

    /// Starts a run's accounting: resets the kernel's peak and notes the
    /// cumulative counters.
    pub fn begin(&mut self) -> Result<RunStart, SandboxError> {
        if self.counters.is_none() {
            self.counters = Some(self.open_counters()?);
        }
        self.reclaim_leftovers();
        let peak_reset = self
            .counters
            .as_ref()
            .and_then(|c| c.peak.as_ref())
            .is_some_and(|file| file.write_at(b"0", 0).is_ok());
        Ok(RunStart {
            cpu: self.cpu_time_total(),
            oom_kills: self.oom_kills_total(),
            pids_hits: self.pids_limit_hits_total(),
            peak_reset,
            observed_peak: 0,
        })
    }

    /// Reclaims what earlier runs left charged to the slot (page cache of
    /// files they read) when it is more than [`RECLAIM_ABOVE`], so the
    /// next run's peak starts near the init's own few pages. Costs a few
    /// milliseconds, and only after such a run.
    fn reclaim_leftovers(&self) {
        let Some(counters) = &self.counters else {
            return;
        };
        let usage: u64 = read_counter_file(&counters.memory)
            .trim()
            .parse()
            .unwrap_or(0);
        if usage <= RECLAIM_ABOVE {
            return;
        }
        let Some(dir) = self.dir("memory") else {
            return;
        };
        // v1: force_empty reclaims all it can; the init's anonymous pages
        // stay (there is no swap). v2 (Linux 5.19+): reclaim that many
        // bytes, as far as possible.
        let (file, request) = if self.v2 {
            ("memory.reclaim", usage.to_string())
        } else {
            ("memory.force_empty", "0".to_string())
        };
        if let Err(e) = std::fs::write(dir.join(file), request) {
            // EAGAIN on v2 when not all could be reclaimed; the peak then
            // includes the rest.
            tracing::debug!(file, error = %e, usage, "reclaiming the slot's leftovers stopped");
        }
    }

    fn cpu_time_total(&self) -> Duration {
        let Some(counters) = &self.counters else {
            return Duration::ZERO;
        };
        let text = read_counter_file(&counters.cpu);
        if self.v2 {
            Duration::from_micros(stat_field(&text, "usage_usec").unwrap_or(0))
        } else {
            Duration::from_nanos(text.trim().parse().unwrap_or(0))
        }
    }

    fn oom_kills_total(&self) -> u64 {
        self.counters
            .as_ref()
            .and_then(|c| stat_field(&read_counter_file(&c.oom), "oom_kill"))
            .unwrap_or(0)
    }

    fn pids_limit_hits_total(&self) -> u64 {
        self.counters
            .as_ref()
            .and_then(|c| stat_field(&read_counter_file(&c.pids_events), "max"))
            .unwrap_or(0)
    }

    /// CPU time of every process of the run so far (the idle init adds
    /// next to nothing).
    pub fn cpu_time(&self, start: &RunStart) -> Duration {
        self.cpu_time_total().saturating_sub(start.cpu)
    }

    /// Reads current memory use and remembers the highest value seen.
    pub fn poll_memory(&self, start: &mut RunStart) {
        if let Some(counters) = &self.counters {
            let current = read_counter_file(&counters.memory)
                .trim()
                .parse()
                .unwrap_or(0);
            start.observed_peak = start.observed_peak.max(current);
        }
    }

    /// Peak memory of the run: the kernel's record where it could be reset
    /// for the run, else the highest value polling saw.
    pub fn peak_memory(&self, start: &RunStart) -> u64 {
        let kernel_peak = if start.peak_reset {
            self.counters
                .as_ref()
                .and_then(|c| c.peak.as_ref())
                .and_then(|file| read_counter_file(file).trim().parse::<u64>().ok())
        } else {
            None
        };
        kernel_peak.unwrap_or(0).max(start.observed_peak)
    }

    /// OOM kills in the slot since the run started.
    pub fn oom_kills(&self, start: &RunStart) -> u64 {
        self.oom_kills_total().saturating_sub(start.oom_kills)
    }

    /// Forks the pids limit rejected since the run started.
    pub fn pids_limit_hits(&self, start: &RunStart) -> u64 {
        self.pids_limit_hits_total().saturating_sub(start.pids_hits)
    }

    fn procs(&self) -> Vec<CgroupPid> {
        let mut all: Vec<CgroupPid> = self.groups().iter().flat_map(|(_, g)| g.procs()).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Kills every process in the slot cgroup (the init included) and
    /// waits (up to 5 s) until it is empty. Returns whether it became
    /// empty. Used when the init is gone or stuck, because the init itself
    /// kills a run's own processes.
    ///
    /// v2 uses `cgroup.kill` (Linux 5.14+), which cannot miss a process
    /// that forks meanwhile. v1 freezes the cgroup first so nothing can fork
    /// between reading `cgroup.procs` and the kill, then thaws it so the
    /// kills are delivered. Without a freezer it repeats kill rounds.
    pub fn kill_and_wait(&self) -> bool {
        let deadline = Instant::now() + EMPTY_TIMEOUT;
        let mut round = 0u32;
        loop {
            let procs = self.procs();
            if procs.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                tracing::error!(left = procs.len(), "slot cgroup did not become empty");
                return false;
            }
            if round.is_multiple_of(10) {
                self.kill_round(&procs);
            }
            round += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn kill_round(&self, procs: &[CgroupPid]) {
        let groups = self.groups();
        let group = |name: &str| groups.iter().find(|(c, _)| *c == name).map(|(_, g)| g);
        if self.v2 {
            if let Some(group) = group("unified") {
                if group.kill().is_ok() {
                    return;
                }
            }
        }
        let freezer = if self.freezer {
            group("freezer").and_then(|g| g.controller_of::<FreezerController>())
        } else {
            None
        };
        let frozen = freezer.map(|f| f.freeze().is_ok()).unwrap_or(false);
        let procs = if frozen { self.procs() } else { procs.to_vec() };
        for pid in procs {
            let Ok(pid) = libc::pid_t::try_from(pid.pid) else {
                continue;
            };
            // SAFETY: kill has no memory effects. With the cgroup frozen,
            // a pid read from cgroup.procs cannot exit and be reused before
            // the kill. Without a freezer the number could be reused in
            // that window (NOTE: a known, narrow race on v1 hosts without
            // the freezer controller).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if frozen {
            if let Some(f) = freezer {
                if let Err(e) = f.thaw() {
                    tracing::warn!(error = %e, "thawing the slot cgroup failed");
                }
            }
        }
    }
}

fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_counter_file(file: &File) -> String {
    let mut buffer = [0u8; 512];
    let length = file.read_at(&mut buffer, 0).unwrap_or(0);
    String::from_utf8_lossy(&buffer[..length]).into_owned()
}

/// Reads `key value` lines such as those of `cpu.stat` or
/// `memory.oom_control`.
fn stat_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        if parts.next()? == key {
            parts.next()?.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::stat_field;

    #[test]
    fn stat_field_finds_key() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(stat_field(text, "oom_kill"), Some(3), "text: {text:?}");
    }

    #[test]
    fn stat_field_misses_absent_key() {
        assert_eq!(stat_field("usage_usec 10\n", "user_usec"), None);
    }
}
