//! The slot's writable directories, `/box`, `/tmp` and `/dev/shm`, from
//! the supervisor's side, and copy-out (Linux only).
//!
//! They are tmpfs mounts in the slot init's mount namespace, which the
//! supervisor reaches through `/proc/<init>/root`. It writes input files
//! into `/box` before a run and reads output files after it, always
//! through directory fds with `openat`/`openat2` and never following a
//! symlink, because the run had the directories in its hands. A directory
//! that is not empty after a run gets a fresh tmpfs from the init before
//! the next one ([`crate::child::REQUEST_RESET`]), which also frees the
//! pages the run wrote.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use crate::child::{RESET_BOX, RESET_SHM, RESET_TMP};
use crate::{FileContent, InputFile, SandboxError};

/// Inode limit of `/box` and `/tmp`, so a run cannot fill kernel memory
/// with empty files. 64 Ki files is far above what a test needs.
pub const MAX_INODES: u32 = 65536;

/// The three directories, as (reset bit, path inside the sandbox).
const DIRS: [(u32, &str); 3] = [
    (RESET_BOX, "box"),
    (RESET_TMP, "tmp"),
    (RESET_SHM, "dev/shm"),
];

pub struct WorkDirs {
    /// `/proc/<init>/root`.
    root: PathBuf,
    /// Open directories, in the order of [`DIRS`].
    dirs: [File; 3],
    /// Attributes of the directories when the last run started. The
    /// program owns `/box` and may chmod it or set its timestamps while
    /// leaving it empty. The whole set is compared, not only the ctime,
    /// because tmpfs timestamps may tick only once per jiffy, so a change
    /// right after the start can leave the ctime as it was.
    started: [DirState; 3],
    /// Host ids that own input files (the program's inside 1000).
    uid: u32,
    gid: u32,
}

impl WorkDirs {
    /// Opens the directories of the init with host pid `init_pid`.
    pub fn open(init_pid: i32, uid: u32, gid: u32) -> Result<WorkDirs, SandboxError> {
        let root = PathBuf::from(format!("/proc/{init_pid}/root"));
        let open = |inside: &str| open_dir(&root.join(inside));
        let mut dirs = WorkDirs {
            dirs: [open(DIRS[0].1)?, open(DIRS[1].1)?, open(DIRS[2].1)?],
            started: [DirState::default(); 3],
            root,
            uid,
            gid,
        };
        dirs.mark_started()?;
        Ok(dirs)
    }

    /// Records the directories' attributes. The supervisor calls it after
    /// placing input files; opening a directory records it too.
    pub fn mark_started(&mut self) -> Result<(), SandboxError> {
        for (i, dir) in self.dirs.iter().enumerate() {
            self.started[i] = dir_state(dir)?;
        }
        Ok(())
    }

    /// Reopens the directories in bit set `which` after the init mounted
    /// fresh file systems over them.
    pub fn reopen(&mut self, which: u32) -> Result<(), SandboxError> {
        for (i, (bit, inside)) in DIRS.iter().enumerate() {
            if which & bit != 0 {
                self.dirs[i] = open_dir(&self.root.join(inside))?;
                self.started[i] = dir_state(&self.dirs[i])?;
            }
        }
        Ok(())
    }

    /// Returns the bit set of directories that are not empty or changed
    /// (mode, timestamps, entries) since [`Self::mark_started`].
    pub fn dirty(&self) -> Result<u32, SandboxError> {
        let mut which = 0;
        for (i, (bit, _)) in DIRS.iter().enumerate() {
            let changed = dir_state(&self.dirs[i])? != self.started[i];
            if changed || !is_empty(&self.dirs[i])? {
                which |= bit;
            }
        }
        Ok(which)
    }

    fn work_dir(&self) -> &File {
        &self.dirs[0]
    }

    /// Writes an input file into `/box`, owned by the program.
    pub fn place(&self, file: &InputFile) -> Result<(), SandboxError> {
        let relative = validate_relative(&file.path)?;
        let io_error = |source| SandboxError::Io {
            step: "writing an input file",
            source,
        };
        // Opened before the switch of ids below, with the supervisor's
        // own rights.
        let mut source = match &file.content {
            FileContent::Bytes(_) => None,
            FileContent::HostPath(host) => Some(File::open(host).map_err(io_error)?),
        };
        // The tmpfs belongs to the slot's user namespace, where host root
        // is unmapped: creating a file there as root fails with EOVERFLOW.
        // Creating it as the program's host id makes it the program's.
        let _ids = FsIds::switch(self.uid, self.gid).map_err(io_error)?;
        let components: Vec<_> = relative.components().collect();
        let (name, parents) = components.split_last().ok_or_else(|| {
            SandboxError::InvalidSpec(format!("file path {:?} is empty", file.path))
        })?;
        let mut directory: Option<OwnedFd> = None;
        for component in parents {
            let parent = directory
                .as_ref()
                .map_or(self.work_dir().as_raw_fd(), AsRawFd::as_raw_fd);
            let c_name = c_component(component.as_os_str().as_bytes())?;
            // SAFETY: a valid C string and an open directory fd.
            let made = unsafe { libc::mkdirat(parent, c_name.as_ptr(), 0o755) };
            if made == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return Err(io_error(io::Error::last_os_error()));
            }
            let child = open_at(
                parent,
                &c_name,
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0,
            )
            .map_err(io_error)?;
            directory = Some(child);
        }
        let parent = directory
            .as_ref()
            .map_or(self.work_dir().as_raw_fd(), AsRawFd::as_raw_fd);
        let mode = if file.executable { 0o755 } else { 0o644 };
        let c_name = c_component(name.as_os_str().as_bytes())?;
        let output = open_at(
            parent,
            &c_name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode,
        )
        .map_err(io_error)?;
        let mut output = File::from(output);
        match (&file.content, source.as_mut()) {
            (FileContent::Bytes(bytes), _) => output.write_all(bytes).map_err(io_error)?,
            (FileContent::HostPath(_), Some(input)) => {
                io::copy(input, &mut output).map_err(io_error)?;
            }
            (FileContent::HostPath(_), None) => {}
        }
        // The umask may have cut the mode at creation.
        // SAFETY: fchmod on a file we own.
        if unsafe { libc::fchmod(output.as_raw_fd(), mode) } == -1 {
            return Err(io_error(io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Reads the files matched by `patterns` from the work dir's top level
    /// (plain names may also name a file in a subdirectory). Names that do
    /// not exist are skipped. A symlink, a FIFO or any other non-regular
    /// file, or more than `max_bytes` in total, is an error.
    pub fn copy_out(
        &self,
        patterns: &[String],
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, SandboxError> {
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        let names = self.matching_names(patterns)?;
        let mut files = Vec::new();
        let mut total: u64 = 0;
        for name in names {
            let Some(file) = open_beneath(self.work_dir(), &name)? else {
                continue;
            };
            let copy_error = |reason: String| SandboxError::CopyOut {
                path: name.clone(),
                reason,
            };
            let meta = file.metadata().map_err(|e| copy_error(e.to_string()))?;
            if !meta.file_type().is_file() {
                return Err(copy_error("not a regular file".into()));
            }
            let remaining = max_bytes.saturating_sub(total);
            let mut content = Vec::new();
            // Reading one byte past the budget distinguishes "too large" from "fits".
            (&file)
                .take(remaining.saturating_add(1))
                .read_to_end(&mut content)
                .map_err(|e| copy_error(e.to_string()))?;
            if content.len() as u64 > remaining {
                return Err(copy_error(format!(
                    "copied-out files exceed the limit of {max_bytes} bytes"
                )));
            }
            total += content.len() as u64;
            files.push((name, content));
        }
        Ok(files)
    }

    fn matching_names(&self, patterns: &[String]) -> Result<Vec<String>, SandboxError> {
        let mut names = Vec::new();
        let mut listing: Option<Vec<String>> = None;
        for pattern in patterns {
            if !pattern.contains('*') {
                validate_relative(pattern)?;
                names.push(pattern.clone());
                continue;
            }
            if listing.is_none() {
                let mut entries = Vec::new();
                // The listing only yields names, and each is opened beneath
                // the directory fd afterwards.
                let read =
                    std::fs::read_dir(format!("/proc/self/fd/{}", self.work_dir().as_raw_fd()))
                        .map_err(|source| SandboxError::Io {
                            step: "listing the work dir",
                            source,
                        })?;
                for entry in read.flatten() {
                    if let Some(name) = entry.file_name().to_str() {
                        entries.push(name.to_string());
                    }
                }
                entries.sort();
                listing = Some(entries);
            }
            for name in listing.iter().flatten() {
                if glob_match(pattern, name) && !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        Ok(names)
    }
}

fn open_dir(path: &Path) -> Result<File, SandboxError> {
    std::fs::OpenOptions::new()
        .read(true)
        // O_NOATIME: the supervisor's own reads must not change what it
        // compares between runs.
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_NOATIME)
        .open(path)
        .map_err(|source| SandboxError::Setup {
            step: "opening the slot's work dirs",
            source: io::Error::new(source.kind(), format!("{}: {source}", path.display())),
        })
}

/// Returns whether a directory has no entries besides `.` and `..`.
fn is_empty(directory: &File) -> Result<bool, SandboxError> {
    let error = |source| SandboxError::Io {
        step: "checking the work dirs",
        source,
    };
    // SAFETY: lseek on our own fd.
    if unsafe { libc::lseek(directory.as_raw_fd(), 0, libc::SEEK_SET) } == -1 {
        return Err(error(io::Error::last_os_error()));
    }
    let mut buffer = [0u8; 1024];
    // SAFETY: getdents64 writes at most `buffer.len()` bytes into it.
    let length = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            directory.as_raw_fd(),
            buffer.as_mut_ptr(),
            buffer.len(),
        )
    };
    if length < 0 {
        return Err(error(io::Error::last_os_error()));
    }
    // struct linux_dirent64: u64 inode, i64 offset, u16 record length,
    // u8 type, then the NUL-terminated name.
    let mut offset = 0usize;
    let length = length as usize;
    while offset + 19 < length {
        let record = u16::from_ne_bytes([buffer[offset + 16], buffer[offset + 17]]) as usize;
        let name = &buffer[offset + 19..(offset + record).min(length)];
        let name = name.split(|&b| b == 0).next().unwrap_or_default();
        if name != b"." && name != b".." {
            return Ok(false);
        }
        if record == 0 {
            break;
        }
        offset += record;
    }
    Ok(true)
}

fn c_component(bytes: &[u8]) -> Result<CString, SandboxError> {
    CString::new(bytes)
        .map_err(|_| SandboxError::InvalidSpec("a file path contains a NUL byte".into()))
}

fn open_at(directory: i32, name: &CString, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: a valid C string and an open directory fd.
    let fd = unsafe { libc::openat(directory, name.as_ptr(), flags, mode) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The calling thread's file system ids, switched for as long as the
/// value lives. Only this thread is affected (the raw syscalls change the
/// calling thread alone), and the switch back restores the file
/// capabilities a change away from 0 dropped.
struct FsIds;

impl FsIds {
    fn switch(uid: u32, gid: u32) -> io::Result<FsIds> {
        // SAFETY: integer arguments only. The gid goes first, while we may
        // still change it.
        unsafe {
            libc::syscall(libc::SYS_setfsgid, gid);
            libc::syscall(libc::SYS_setfsuid, uid);
            // setfsuid returns the previous id, never an error, so read the
            // id back.
            let current = libc::syscall(libc::SYS_setfsuid, u32::MAX);
            if current != libc::c_long::from(uid) {
                libc::syscall(libc::SYS_setfsgid, 0);
                return Err(io::Error::other("switching the file system ids failed"));
            }
        }
        Ok(FsIds)
    }
}

impl Drop for FsIds {
    fn drop(&mut self) {
        // SAFETY: integer arguments only, switching back to root.
        unsafe {
            libc::syscall(libc::SYS_setfsuid, 0);
            libc::syscall(libc::SYS_setfsgid, 0);
        }
    }
}

/// Opens `name` below `directory` without following any symlink or magic
/// link, and without blocking on a FIFO. Returns `None` when it does not
/// exist.
fn open_beneath(directory: &File, name: &str) -> Result<Option<File>, SandboxError> {
    let c_name = CString::new(Path::new(name).as_os_str().as_bytes()).map_err(|_| {
        SandboxError::CopyOut {
            path: name.to_string(),
            reason: "the name contains a NUL byte".into(),
        }
    })?;
    // SAFETY: open_how is a plain C struct for which all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `how` is a live open_how whose size we pass, `c_name` is a
    // valid C string, and the directory fd is open for the call's duration.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            directory.as_raw_fd(),
            c_name.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::ENOENT) {
            return Ok(None);
        }
        let reason = if error.raw_os_error() == Some(libc::ELOOP) {
            "a symlink, which copy-out never follows".to_string()
        } else {
            error.to_string()
        };
        return Err(SandboxError::CopyOut {
            path: name.to_string(),
            reason,
        });
    }
    // SAFETY: openat2 returned a new fd that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    Ok(Some(File::from(owned)))
}

/// Checks that `path` is relative with only normal components.
fn validate_relative(path: &str) -> Result<&Path, SandboxError> {
    let relative = Path::new(path);
    let valid = !path.is_empty()
        && !path.contains('\0')
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if valid {
        Ok(relative)
    } else {
        Err(SandboxError::InvalidSpec(format!(
            "file path {path:?} must be relative, without . or .. components"
        )))
    }
}

/// Matches `name` against `pattern`, where `*` stands for any run of
/// characters (possibly empty) and everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return name.is_empty(),
    };
    let Some(mut remainder) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remainder.is_empty();
    };
    for part in middle {
        match remainder.find(part) {
            Some(index) => remainder = &remainder[index + part.len()..],
            None => return false,
        }
    }
    remainder.len() >= last.len() && remainder.ends_with(last)
}

/// The attributes of a directory that a run can change while leaving it
/// empty: mode, owner, link count and the three timestamps (seconds and
/// nanoseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DirState {
    mode: u32,
    owner: (u32, u32),
    links: u64,
    times: [(i64, i64); 3],
}

fn dir_state(file: &File) -> Result<DirState, SandboxError> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|source| SandboxError::Io {
        step: "checking the work dirs",
        source,
    })?;
    Ok(DirState {
        mode: meta.mode(),
        owner: (meta.uid(), meta.gid()),
        links: meta.nlink(),
        times: [
            (meta.atime(), meta.atime_nsec()),
            (meta.mtime(), meta.mtime_nsec()),
            (meta.ctime(), meta.ctime_nsec()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::{glob_match, validate_relative};

    #[test]
    fn glob_matches_class_files() {
        assert!(glob_match("*.class", "Main.class"), "*.class vs Main.class");
        assert!(!glob_match("*.class", "Main.java"), "*.class vs Main.java");
    }

    #[test]
    fn glob_matches_middle_star() {
        assert!(glob_match("a*b*c", "axxbyyc"), "a*b*c vs axxbyyc");
        assert!(!glob_match("a*b*c", "acb"), "a*b*c vs acb");
    }

    #[test]
    fn glob_without_star_is_exact() {
        assert!(glob_match("out", "out"), "out vs out");
        assert!(!glob_match("out", "out2"), "out vs out2");
    }

    #[test]
    fn relative_path_rejects_parent() {
        assert!(validate_relative("../x").is_err(), "../x was accepted");
        assert!(validate_relative("/etc/x").is_err(), "/etc/x was accepted");
        assert!(validate_relative("a/b.txt").is_ok(), "a/b.txt was rejected");
    }
}
