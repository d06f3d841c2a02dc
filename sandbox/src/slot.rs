//! The supervisor's side of a slot's init (Linux only): start it, talk to
//! it over the control socket, end it.
//!
//! The init is cloned by a thread that lives exactly as long as the init's
//! handle, because `PR_SET_PDEATHSIG` fires when the cloning thread ends,
//! not when the process does. So the init, and with it the slot's PID
//! namespace, dies when the handle is dropped or the supervisor dies,
//! whichever comes first.
//!
//! The init is a fork-like clone of the supervisor, so it keeps a
//! copy-on-write snapshot of the supervisor's memory from the moment it
//! was cloned. Pages the supervisor later changes are then held twice.
// TODO: exec a small init binary instead, so a slot holds only its own
// few pages. Today each slot may retain up to the supervisor's resident
// size at clone time.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::child::{self, SlotPlan, Step, RECORD_LEN, RECORD_READY, RECORD_SETUP_FAILED};
use crate::shared::SharedRegion;
use crate::SandboxError;

/// How long the init may take to build its root or to report a reset.
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);

fn setup(step: &'static str, source: std::io::Error) -> SandboxError {
    SandboxError::Setup { step, source }
}

/// The root layout an init was built for. A run with another layout
/// needs another init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub root: Option<PathBuf>,
    pub binds: Vec<(PathBuf, PathBuf)>,
}

/// A received control message: `[kind, a, b]`.
pub struct Message {
    pub record: [u32; 3],
}

/// A running slot init.
pub struct SlotInit {
    /// Host pid of the init, which is our child and is reaped on drop.
    pub pid: i32,
    control: OwnedFd,
    pub shared: SharedRegion,
    pub layout: Layout,
    /// Mount options of the `/box` and `/tmp` mounted now.
    pub box_options: String,
    pub tmp_options: String,
    stop: Option<mpsc::Sender<()>>,
    keeper: Option<JoinHandle<()>>,
}

/// The plan moves to the keeper thread, which clones the init from it.
struct SendPlan(SlotPlan);
// SAFETY: the raw pointers in the plan (the BPF programs, the shared
// region) point to memory that outlives the keeper thread's use of them,
// and only the keeper thread reads the plan.
unsafe impl Send for SendPlan {}

impl SlotInit {
    /// Clones an init from `plan` (whose `control_fd` is filled in here),
    /// lets `admit` write its id maps and move it into the slot cgroup,
    /// and waits until it has built its root.
    pub fn start(
        slot: u32,
        mut plan: SlotPlan,
        shared: SharedRegion,
        layout: Layout,
        options: (String, String),
        admit: impl FnOnce(i32) -> Result<(), SandboxError>,
    ) -> Result<SlotInit, SandboxError> {
        let (ours, theirs) = socket_pair()?;
        plan.control_fd = theirs.as_raw_fd();
        plan.run = shared.plan();

        let (pid_sender, pid_receiver) = mpsc::channel();
        let (stop, stopped) = mpsc::channel::<()>();
        let plan = SendPlan(plan);
        let keeper = std::thread::Builder::new()
            .name(format!("verdict-slot-{slot}"))
            .spawn(move || {
                let mut plan = plan;
                let flags = libc::CLONE_NEWUSER
                    | libc::CLONE_NEWPID
                    | libc::CLONE_NEWNS
                    | libc::CLONE_NEWNET
                    | libc::CLONE_NEWIPC
                    | libc::CLONE_NEWUTS
                    | libc::SIGCHLD;
                // SAFETY: a fork-like clone (no CLONE_VM, no new stack):
                // the child gets a copy of this address space and runs
                // only `child::run_slot_init`, which keeps to raw syscalls
                // and the already-built plan, never returning.
                let pid =
                    unsafe { libc::syscall(libc::SYS_clone, flags as libc::c_ulong, 0, 0, 0, 0) };
                if pid == 0 {
                    // SAFETY: we are the cloned child, and `plan` is our copy.
                    unsafe { child::run_slot_init(&mut plan.0) }
                }
                let error = (pid < 0).then(std::io::Error::last_os_error);
                let _ = pid_sender.send((pid as i32, error));
                drop(plan);
                // Live until the handle goes: our end is the init's death.
                let _ = stopped.recv();
            })
            .map_err(|e| setup("starting the slot's keeper thread", e))?;
        let (pid, error) = pid_receiver.recv().unwrap_or((-1, None));
        drop(theirs);
        let mut init = SlotInit {
            pid,
            control: ours,
            shared,
            layout,
            box_options: options.0,
            tmp_options: options.1,
            stop: Some(stop),
            keeper: Some(keeper),
        };
        if pid <= 0 {
            init.pid = 0;
            return Err(setup(
                "cloning into new namespaces (user namespaces must be enabled)",
                error.unwrap_or_else(|| std::io::Error::other("the keeper thread failed")),
            ));
        }
        admit(pid)?;
        init.send(child::REQUEST_GO, 0, &[])?;
        match init.receive(Some(SETUP_TIMEOUT))? {
            Some(Message {
                record: [RECORD_READY, _, _],
                ..
            }) => Ok(init),
            Some(Message {
                record: [RECORD_SETUP_FAILED, step, errno],
                ..
            }) => Err(SandboxError::Setup {
                step: Step::from_id(step)
                    .map(Step::describe)
                    .unwrap_or("an unknown step"),
                source: std::io::Error::from_raw_os_error(errno as i32),
            }),
            _ => Err(setup(
                "starting the slot's init",
                std::io::Error::other("the init exited or did not report within the timeout"),
            )),
        }
    }

    pub fn control_fd(&self) -> RawFd {
        self.control.as_raw_fd()
    }

    /// Sends one request with up to three fds.
    pub fn send(&self, kind: u32, a: u32, fds: &[RawFd]) -> Result<(), SandboxError> {
        if fds.len() > 3 {
            return Err(SandboxError::Io {
                step: "sending a request to the slot's init",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{} fds in one request, at most 3 fit", fds.len()),
                ),
            });
        }
        let mut record = [0u8; RECORD_LEN];
        record[0..4].copy_from_slice(&kind.to_ne_bytes());
        record[4..8].copy_from_slice(&a.to_ne_bytes());
        let mut iov = libc::iovec {
            iov_base: record.as_mut_ptr().cast(),
            iov_len: RECORD_LEN,
        };
        let mut control_buffer = [0u64; 8];
        // SAFETY: an all-zero msghdr is valid.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        if !fds.is_empty() {
            let bytes = std::mem::size_of_val(fds) as u32;
            // SAFETY: CMSG_SPACE and CMSG_LEN are pure arithmetic. At most
            // three fds (checked above) need 32 bytes, and the buffer has 64.
            unsafe {
                message.msg_control = control_buffer.as_mut_ptr().cast();
                message.msg_controllen = libc::CMSG_SPACE(bytes) as usize;
                let header = libc::CMSG_FIRSTHDR(&message);
                (*header).cmsg_level = libc::SOL_SOCKET;
                (*header).cmsg_type = libc::SCM_RIGHTS;
                (*header).cmsg_len = libc::CMSG_LEN(bytes) as usize;
                std::ptr::copy_nonoverlapping(
                    fds.as_ptr(),
                    libc::CMSG_DATA(header).cast::<RawFd>(),
                    fds.len(),
                );
            }
        }
        // SAFETY: the message points at live locals for the call's duration.
        let sent = unsafe { libc::sendmsg(self.control.as_raw_fd(), &message, libc::MSG_NOSIGNAL) };
        if sent != RECORD_LEN as isize {
            return Err(SandboxError::Io {
                step: "sending a request to the slot's init",
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// Receives one message, waiting up to `timeout` (forever with `None`).
    /// `Ok(None)` means the init is gone (EOF) or the wait timed out.
    pub fn receive(&self, timeout: Option<Duration>) -> Result<Option<Message>, SandboxError> {
        if let Some(timeout) = timeout {
            let deadline = Instant::now() + timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(None);
                }
                let mut poll_fd = libc::pollfd {
                    fd: self.control.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let millis = left.as_millis().clamp(1, i32::MAX as u128) as i32;
                // SAFETY: one live pollfd.
                let ready = unsafe { libc::poll(&mut poll_fd, 1, millis) };
                if ready > 0 {
                    break;
                }
            }
        }
        receive_message(self.control.as_raw_fd())
    }

    /// Kills the init at once (which ends its PID namespace) and reaps it.
    pub fn kill(&mut self) {
        if self.pid > 0 {
            // SAFETY: kill has no memory effects, and the pid is our unreaped
            // child, so the number cannot have been reused.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }
}

impl Drop for SlotInit {
    fn drop(&mut self) {
        self.kill();
        // Ending the keeper thread fires the init's death signal too.
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        if self.pid > 0 {
            let mut status = 0;
            loop {
                // SAFETY: waitpid writes into a live local, and the init is a
                // child of this process.
                let reaped = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
                if reaped != -1
                    || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR)
                {
                    break;
                }
            }
        }
    }
}

fn socket_pair() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let mut fds = [0; 2];
    // SAFETY: socketpair writes two fds into a live array.
    let made = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if made == -1 {
        return Err(setup(
            "creating the slot's control socket",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: socketpair returned two new fds that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads one message without waiting beyond what the caller's poll
/// promised. `Ok(None)` on EOF.
pub fn receive_message(fd: RawFd) -> Result<Option<Message>, SandboxError> {
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
        let received = unsafe { libc::recvmsg(fd, &mut message, libc::MSG_CMSG_CLOEXEC) };
        if received == -1
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        break received;
    };
    if received == -1 {
        return Err(SandboxError::Io {
            step: "reading the slot's control socket",
            source: std::io::Error::last_os_error(),
        });
    }
    // The init sends no fds, so any that come are closed, never kept.
    // SAFETY: the kernel filled at most msg_controllen bytes of our buffer;
    // the CMSG macros stay inside it. Every received fd is taken into an
    // OwnedFd and dropped, so none leaks.
    unsafe {
        let mut header = libc::CMSG_FIRSTHDR(&message);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(header).cast::<RawFd>();
                let count = ((*header).cmsg_len - libc::CMSG_LEN(0) as usize)
                    / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    drop(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            header = libc::CMSG_NXTHDR(&message, header);
        }
    }
    if received == 0 {
        return Ok(None);
    }
    let word =
        |i: usize| u32::from_ne_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
    Ok(Some(Message {
        record: [word(0), word(4), word(8)],
    }))
}
