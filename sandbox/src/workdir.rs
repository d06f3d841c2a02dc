//! The slot's work dir (`/box` inside) and copy-out (Linux only).
//!
//! The work dir is a tmpfs mounted on the host at `state_dir/slot-N/box`,
//! owned by the program's host uid. Every run gets a freshly mounted one
//! (which empties it and frees the pages of the last run), and it is
//! unmounted again after copy-out and on drop.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::{FileContent, InputFile, SandboxError};

/// Inode limit of the work dir, so a run cannot fill kernel memory with
/// empty files; 64 Ki files is far above what a test needs.
const MAX_INODES: u32 = 65536;

pub struct WorkDir {
    path: PathBuf,
    uid: u32,
    gid: u32,
    mounted: bool,
}

impl WorkDir {
    /// Creates the mount point and unmounts anything a crashed process
    /// left mounted there.
    pub fn new(path: PathBuf, uid: u32, gid: u32) -> Result<WorkDir, SandboxError> {
        std::fs::create_dir_all(&path).map_err(|source| SandboxError::Setup {
            step: "creating the work dir",
            source,
        })?;
        let mut work_dir = WorkDir {
            path,
            uid,
            gid,
            mounted: true,
        };
        work_dir.unmount_all();
        Ok(work_dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unmounts every mount stacked on the work dir (bounded: 16 layers).
    fn unmount_all(&mut self) {
        if !self.mounted {
            return;
        }
        for _ in 0..16 {
            match umount2(&self.path, MntFlags::MNT_DETACH) {
                Ok(()) => continue,
                Err(nix::errno::Errno::EINVAL) => break,
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), error = %e,
                        "unmounting the work dir failed");
                    break;
                }
            }
        }
        self.mounted = false;
    }

    /// Mounts a fresh, empty work dir of `disk_bytes` and writes `files`.
    pub fn prepare(&mut self, disk_bytes: u64, files: &[InputFile]) -> Result<(), SandboxError> {
        self.unmount_all();
        let options = format!(
            "size={},nr_inodes={MAX_INODES},mode=0755,uid={},gid={}",
            disk_bytes.max(4096),
            self.uid,
            self.gid
        );
        mount(
            Some("tmpfs"),
            &self.path,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(options.as_str()),
        )
        .map_err(|e| SandboxError::Setup {
            step: "mounting the work dir tmpfs",
            source: e.into(),
        })?;
        self.mounted = true;
        for file in files {
            self.place(file)?;
        }
        Ok(())
    }

    fn place(&self, file: &InputFile) -> Result<(), SandboxError> {
        let relative = validate_relative(&file.path)?;
        let target = self.path.join(relative);
        let io_error = |source| SandboxError::Io {
            step: "writing an input file",
            source,
        };
        // The tmpfs is fresh and nothing from the sandbox has run in it,
        // so no component can be a planted symlink.
        let mut directory = self.path.clone();
        for component in relative.parent().into_iter().flat_map(Path::components) {
            directory.push(component);
            match std::fs::create_dir(&directory) {
                Ok(()) => {
                    std::os::unix::fs::chown(&directory, Some(self.uid), Some(self.gid))
                        .map_err(io_error)?;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        let mode = if file.executable { 0o755 } else { 0o644 };
        let mut output = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&target)
            .map_err(io_error)?;
        match &file.content {
            FileContent::Bytes(bytes) => {
                io::Write::write_all(&mut output, bytes).map_err(io_error)?
            }
            FileContent::HostPath(host) => {
                let mut input = File::open(host).map_err(io_error)?;
                io::copy(&mut input, &mut output).map_err(io_error)?;
            }
        }
        output
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io_error)?;
        std::os::unix::fs::fchown(&output, Some(self.uid), Some(self.gid)).map_err(io_error)
    }

    /// Reads the files matched by `patterns` from the work dir's top level
    /// (plain names may also name a file in a subdirectory). Names that do
    /// not exist are skipped; a symlink, a FIFO or any other non-regular
    /// file, or more than `max_bytes` in total, is an error.
    pub fn copy_out(
        &self,
        patterns: &[String],
        max_bytes: u64,
    ) -> Result<Vec<(String, Vec<u8>)>, SandboxError> {
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        let directory = File::open(&self.path).map_err(|source| SandboxError::Io {
            step: "opening the work dir for copy-out",
            source,
        })?;
        let names = self.matching_names(patterns)?;
        let mut files = Vec::new();
        let mut total: u64 = 0;
        for name in names {
            let Some(file) = open_beneath(&directory, &name)? else {
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
                let read = std::fs::read_dir(&self.path).map_err(|source| SandboxError::Io {
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

    /// Unmounts the work dir, which discards its content.
    pub fn clear(&mut self) {
        self.unmount_all();
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        self.unmount_all();
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
    // SAFETY: `how` is a live open_how whose size we pass; `c_name` is a
    // valid C string; the directory fd is open for the call's duration.
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
