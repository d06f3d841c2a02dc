//! The memory through which the supervisor hands each run's plan to the
//! slot's init (Linux only).
//!
//! The region is an anonymous `MAP_SHARED` mapping made before the init is
//! cloned, so it sits at the same address in both processes and pointers
//! into it are valid on either side. The supervisor writes a [`RunPlan`]
//! and the strings and pointer arrays it refers to, then sends the run
//! request. The init and the program process it forks only read it. The
//! supervisor does not touch the region again until the init reports the
//! run's end, so there is no concurrent access.

use std::ffi::CString;
use std::os::raw::c_char;

use crate::SandboxError;

/// Size of the region, in bytes. A plan that does not fit would fail
/// `execve` with `E2BIG` anyway. The kernel takes at most 6 MiB of
/// argument and environment strings: three quarters of its 8 MiB
/// `_STK_LIM`, and no more than a quarter of the stack rlimit. Pages are
/// touched only as a plan needs them.
pub const REGION_BYTES: usize = 8 << 20;

/// Resource limits a plan carries at most.
pub const MAX_RLIMITS: usize = 8;

/// Upper bound on the mount options strings in a plan.
pub const OPTIONS_BYTES: usize = 128;

/// One run's parameters as the init and the program process read them.
/// Pointers point into the same region.
#[repr(C)]
pub struct RunPlan {
    /// Null-terminated arrays of pointers to C strings.
    pub argv: *const *const c_char,
    pub envp: *const *const c_char,
    /// Absolute paths to try with `execve`, in `PATH` order, null-terminated.
    pub exec_candidates: *const *const c_char,
    /// Pairs of (resource, soft and hard limit). Only the first
    /// `rlimit_count` are valid.
    pub rlimits: [(u32, u64); MAX_RLIMITS],
    pub rlimit_count: usize,
    /// Mount options of a fresh `/box` and `/tmp`, NUL-terminated.
    pub box_options: [u8; OPTIONS_BYTES],
    pub tmp_options: [u8; OPTIONS_BYTES],
}

/// The shared mapping, owned by the supervisor.
pub struct SharedRegion {
    base: *mut u8,
}

// SAFETY: the region is plain memory. The supervisor's `Sandbox` is the
// only writer on its side, and one thread at a time uses it.
unsafe impl Send for SharedRegion {}

impl SharedRegion {
    pub fn new() -> Result<SharedRegion, SandboxError> {
        // SAFETY: an anonymous mapping with no address hint, and the result is
        // checked before use.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                REGION_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(SandboxError::Setup {
                step: "mapping the memory shared with the slot's init",
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(SharedRegion { base: base.cast() })
    }

    /// Returns the address of the plan, at the start of the region.
    pub fn plan(&self) -> *const RunPlan {
        self.base.cast()
    }

    /// Writes a plan into the region. Fails with `E2BIG` when the strings
    /// do not fit, as `execve` would.
    pub fn write(&mut self, input: &PlanInput<'_>) -> Result<(), SandboxError> {
        let mut writer = Writer {
            base: self.base,
            used: std::mem::size_of::<RunPlan>().next_multiple_of(16),
        };
        let argv = writer.strings(input.argv)?;
        let envp = writer.strings(input.envp)?;
        let exec_candidates = writer.strings(input.exec_candidates)?;
        let mut rlimits = [(0u32, 0u64); MAX_RLIMITS];
        for (slot, value) in rlimits.iter_mut().zip(input.rlimits) {
            *slot = *value;
        }
        let plan = RunPlan {
            argv,
            envp,
            exec_candidates,
            rlimits,
            rlimit_count: input.rlimits.len().min(MAX_RLIMITS),
            box_options: options(input.box_options)?,
            tmp_options: options(input.tmp_options)?,
        };
        // SAFETY: the region starts with room for one RunPlan, aligned to
        // the page, and no reader looks at it until the run request.
        unsafe { std::ptr::write(self.base.cast::<RunPlan>(), plan) };
        Ok(())
    }

    /// Returns the pages a large plan touched to the kernel.
    pub fn trim(&mut self) {
        // SAFETY: MADV_REMOVE frees the shared pages of our own mapping;
        // the content is rewritten before every run.
        unsafe {
            libc::madvise(
                self.base.add(4096).cast(),
                REGION_BYTES - 4096,
                libc::MADV_REMOVE,
            );
        }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping, which nothing in this process
        // uses after the drop.
        unsafe { libc::munmap(self.base.cast(), REGION_BYTES) };
    }
}

/// Contents of a plan, as the supervisor passes them to [`SharedRegion::write`].
pub struct PlanInput<'a> {
    pub argv: &'a [CString],
    pub envp: &'a [CString],
    pub exec_candidates: &'a [CString],
    pub rlimits: &'a [(u32, u64)],
    pub box_options: &'a str,
    pub tmp_options: &'a str,
}

fn options(text: &str) -> Result<[u8; OPTIONS_BYTES], SandboxError> {
    let mut buffer = [0u8; OPTIONS_BYTES];
    if text.len() >= OPTIONS_BYTES || text.contains('\0') {
        return Err(SandboxError::InvalidSpec(format!(
            "mount options {text:?} do not fit the plan"
        )));
    }
    buffer[..text.len()].copy_from_slice(text.as_bytes());
    Ok(buffer)
}

struct Writer {
    base: *mut u8,
    used: usize,
}

impl Writer {
    fn reserve(&mut self, bytes: usize, align: usize) -> Result<*mut u8, SandboxError> {
        let start = self.used.next_multiple_of(align);
        let end = start.checked_add(bytes).filter(|&end| end <= REGION_BYTES);
        let Some(end) = end else {
            return Err(SandboxError::Setup {
                step: "passing the arguments and environment (together at most 8 MiB)",
                source: std::io::Error::from_raw_os_error(libc::E2BIG),
            });
        };
        self.used = end;
        // SAFETY: start <= end <= REGION_BYTES, so the pointer is inside
        // our mapping or one past its end.
        Ok(unsafe { self.base.add(start) })
    }

    /// Copies the strings and a null-terminated pointer array to them.
    fn strings(&mut self, strings: &[CString]) -> Result<*const *const c_char, SandboxError> {
        let array = self
            .reserve(
                (strings.len() + 1) * std::mem::size_of::<*const c_char>(),
                8,
            )?
            .cast::<*const c_char>();
        for (i, string) in strings.iter().enumerate() {
            let bytes = string.as_bytes_with_nul();
            let target = self.reserve(bytes.len(), 1)?;
            // SAFETY: `target` has room for `bytes.len()` bytes inside the
            // mapping, `array` for `strings.len() + 1` pointers, and the
            // two ranges do not overlap (they were reserved apart).
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), target, bytes.len());
                *array.add(i) = target.cast();
            }
        }
        // SAFETY: the array has room for the terminating null.
        unsafe { *array.add(strings.len()) = std::ptr::null() };
        Ok(array)
    }
}
