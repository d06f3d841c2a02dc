//! Host-side I/O of a run: output readers, the stdin writer and the status
//! pipe (Linux only).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::child::RECORD_LEN;

/// Drains one output pipe on its own thread, keeping at most `limit`
/// bytes. Reading a byte past the limit sets `exceeded`; the thread then
/// keeps draining (and discarding) until EOF so the writer never blocks.
pub fn spawn_reader(
    fd: OwnedFd,
    limit: u64,
    exceeded: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<Vec<u8>>> {
    std::thread::Builder::new()
        .name("sandbox-output".into())
        .spawn(move || {
            let mut pipe = File::from(fd);
            let mut kept = Vec::new();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let count = match pipe.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(count) => count,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading sandbox output failed");
                        break;
                    }
                };
                let room = limit.saturating_sub(kept.len() as u64) as usize;
                if count > room {
                    kept.extend_from_slice(&buffer[..room]);
                    exceeded.store(true, Ordering::Relaxed);
                } else {
                    kept.extend_from_slice(&buffer[..count]);
                }
            }
            kept
        })
}

/// Writes `bytes` to the program's stdin on its own thread and closes it.
/// A program that exits without reading everything makes the write fail
/// with EPIPE, which is ignored.
pub fn spawn_stdin_writer(fd: OwnedFd, bytes: Vec<u8>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sandbox-stdin".into())
        .spawn(move || {
            // SIGPIPE is thread-directed for a write to a closed pipe;
            // blocking it here turns it into EPIPE without touching the
            // process-wide disposition, and a pending SIGPIPE is discarded
            // when this thread exits.
            // SAFETY: sigset operations on a local set; pthread_sigmask
            // changes only this thread's mask.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGPIPE);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            let mut pipe = File::from(fd);
            if let Err(e) = pipe.write_all(&bytes) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    tracing::warn!(error = %e, "writing sandbox stdin failed");
                }
            }
        })
}

/// A record from the status pipe.
pub enum StatusEvent {
    Record([u32; 3]),
    Eof,
    Nothing,
}

/// Reads status records from the init's pipe.
pub struct StatusPipe {
    pipe: File,
    pending: Vec<u8>,
}

impl StatusPipe {
    pub fn new(fd: OwnedFd) -> StatusPipe {
        StatusPipe {
            pipe: File::from(fd),
            pending: Vec::new(),
        }
    }

    /// Waits up to `timeout` for a record or EOF.
    pub fn poll(&mut self, timeout: Duration) -> std::io::Result<StatusEvent> {
        if let Some(record) = self.take_record() {
            return Ok(StatusEvent::Record(record));
        }
        let mut poll_fd = libc::pollfd {
            fd: self.pipe.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one live pollfd, count 1.
        let ready = unsafe { libc::poll(&mut poll_fd, 1, millis) };
        if ready < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() == std::io::ErrorKind::Interrupted {
                return Ok(StatusEvent::Nothing);
            }
            return Err(error);
        }
        if ready == 0 {
            return Ok(StatusEvent::Nothing);
        }
        let mut buffer = [0u8; RECORD_LEN * 4];
        let count = self.pipe.read(&mut buffer)?;
        if count == 0 {
            return Ok(StatusEvent::Eof);
        }
        self.pending.extend_from_slice(&buffer[..count]);
        Ok(self
            .take_record()
            .map(StatusEvent::Record)
            .unwrap_or(StatusEvent::Nothing))
    }

    fn take_record(&mut self) -> Option<[u32; 3]> {
        if self.pending.len() < RECORD_LEN {
            return None;
        }
        let record: Vec<u8> = self.pending.drain(..RECORD_LEN).collect();
        let word =
            |i: usize| u32::from_ne_bytes([record[i], record[i + 1], record[i + 2], record[i + 3]]);
        Some([word(0), word(4), word(8)])
    }
}
