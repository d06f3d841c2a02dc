//! Host-side I/O of a run (Linux only): the output pipes and the stdin
//! feed, driven by the supervisor's poll loop on the calling thread, so a
//! run starts no threads.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::SandboxError;

/// Bytes read per `read` call.
const CHUNK: usize = 64 * 1024;

fn set_nonblocking(fd: &OwnedFd) -> Result<(), SandboxError> {
    // SAFETY: fcntl on our own fd with integer arguments.
    let result = unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK)
    };
    if result == -1 {
        return Err(SandboxError::Setup {
            step: "making a pipe non-blocking",
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// One output pipe, which keeps at most `limit` bytes. Reading a byte past
/// the limit marks it exceeded. It is then drained and discarded until EOF,
/// so the writer never blocks.
pub struct OutputPipe {
    fd: Option<OwnedFd>,
    kept: Vec<u8>,
    limit: u64,
    exceeded: bool,
}

impl OutputPipe {
    pub fn new(fd: OwnedFd, limit: u64) -> Result<OutputPipe, SandboxError> {
        set_nonblocking(&fd)?;
        Ok(OutputPipe {
            fd: Some(fd),
            kept: Vec::new(),
            limit,
            exceeded: false,
        })
    }

    pub fn fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Returns whether the pipe reached EOF (or failed).
    pub fn done(&self) -> bool {
        self.fd.is_none()
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Reads what is available without blocking, and closes the pipe at
    /// EOF.
    pub fn read_available(&mut self) {
        let mut buffer = [0u8; CHUNK];
        // Bounded: a writer faster than us is met again at the next poll.
        for _ in 0..16 {
            let Some(fd) = &self.fd else { return };
            // SAFETY: reads into a live buffer of its length.
            let count = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), CHUNK) };
            if count == 0 {
                self.fd = None;
                return;
            }
            if count < 0 {
                let error = std::io::Error::last_os_error();
                match error.kind() {
                    std::io::ErrorKind::WouldBlock => return,
                    std::io::ErrorKind::Interrupted => continue,
                    _ => {
                        tracing::warn!(error = %error, "reading sandbox output failed");
                        self.fd = None;
                        return;
                    }
                }
            }
            let count = count as usize;
            let room = self.limit.saturating_sub(self.kept.len() as u64) as usize;
            if count > room {
                self.kept.extend_from_slice(&buffer[..room]);
                self.exceeded = true;
            } else {
                self.kept.extend_from_slice(&buffer[..count]);
            }
        }
    }

    /// Returns the kept bytes and whether the limit was exceeded.
    pub fn into_bytes(self) -> (Vec<u8>, bool) {
        (self.kept, self.exceeded)
    }
}

/// Bytes for the program's stdin, written as the pipe takes them. A
/// program that exits without reading everything makes the write fail
/// with EPIPE, which ends the feed quietly.
pub struct StdinFeed {
    fd: Option<OwnedFd>,
    bytes: Vec<u8>,
    written: usize,
}

impl StdinFeed {
    pub fn new(fd: OwnedFd, bytes: Vec<u8>) -> Result<StdinFeed, SandboxError> {
        set_nonblocking(&fd)?;
        let mut feed = StdinFeed {
            fd: Some(fd),
            bytes,
            written: 0,
        };
        if feed.bytes.is_empty() {
            feed.fd = None;
        }
        Ok(feed)
    }

    pub fn fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Writes what the pipe takes without blocking, and closes it when all is
    /// written or the reader is gone.
    pub fn write_available(&mut self) {
        // Bounded: a slow reader is met again at the next poll.
        for _ in 0..16 {
            let Some(fd) = &self.fd else { return };
            let rest = &self.bytes[self.written..];
            // SAFETY: writes from a live slice of its length.
            let count = unsafe { libc::write(fd.as_raw_fd(), rest.as_ptr().cast(), rest.len()) };
            if count < 0 {
                let error = std::io::Error::last_os_error();
                match error.kind() {
                    std::io::ErrorKind::WouldBlock => return,
                    std::io::ErrorKind::Interrupted => continue,
                    std::io::ErrorKind::BrokenPipe => {}
                    _ => tracing::warn!(error = %error, "writing sandbox stdin failed"),
                }
                self.fd = None;
                return;
            }
            self.written += count as usize;
            if self.written >= self.bytes.len() {
                self.fd = None;
                return;
            }
        }
    }
}

/// Blocks SIGPIPE in the calling thread while it feeds stdin, so a write
/// to a pipe whose reader is gone fails with EPIPE instead of killing the
/// process, without touching the process-wide disposition. On drop, a
/// pending SIGPIPE is discarded and the old mask restored.
pub struct SigpipeBlock {
    old: libc::sigset_t,
}

impl SigpipeBlock {
    pub fn new() -> SigpipeBlock {
        // SAFETY: sigset operations on locals. pthread_sigmask changes only
        // this thread's mask and writes the old one into a live local.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SigpipeBlock { old }
        }
    }
}

impl Drop for SigpipeBlock {
    fn drop(&mut self) {
        // SAFETY: as in `new`. sigtimedwait with a zero timeout only takes
        // a pending SIGPIPE off this thread, if there is one.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            while libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == libc::SIGPIPE {}
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}
