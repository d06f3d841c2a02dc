//! Builds the list of mount steps for the sandbox root (Linux only).
//!
//! This runs on the host before the slot's init is cloned, so it may
//! allocate and inspect host paths. The init only replays the finished
//! list (see `child.rs`).
//!
//! The root is a small tmpfs holding mount points only, remounted
//! read-only after `pivot_root`. The system directories and `/etc` entries
//! come from the system root: the host's `/`, or the directory in
//! `RunSpec::root` (a langpack image). Inside it:
//! - `/usr` bound read-only; `/bin`, `/sbin`, `/lib*` as the same symlinks
//!   as in the system root when they are symlinks (merged-/usr systems such
//!   as Debian 12), else bound read-only;
//! - `/etc` with only what gcc, g++, python3, java 17 and node 20 read:
//!   `ld.so.cache`, `alternatives` (the `java`, `cc` links), the JDK's
//!   `java-17-openjdk` config and `localtime`, plus a synthesized `passwd`
//!   and `group`. Never `shadow`;
//! - `/dev` with `null`, `zero`, `full`, `random`, `urandom` bound from the
//!   host, the `fd`/`stdin`/`stdout`/`stderr` links and a 16 MiB
//!   `/dev/shm`, then made read-only;
//! - `/proc` of the slot's pid namespace, with `hidepid=2`;
//! - `/box`, the work dir, and `/tmp`: writable tmpfs mounts, which the
//!   init replaces with fresh ones between runs that leave files there;
//! - the caller's extra binds, read-only.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::child::MountOp;
use crate::{Bind, SandboxError};

/// Top-level system directories taken from the system root.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// `/etc` entries of the system root that the runtimes need; absent ones
/// are skipped.
const ETC_ENTRIES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/java-17-openjdk",
    "/etc/localtime",
];

/// Host device nodes bound into `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Paths the caller's binds must not cover, because the sandbox owns them.
const RESERVED: &[&str] = &[
    "/",
    "/box",
    "/tmp",
    "/proc",
    "/dev",
    "/etc/passwd",
    "/etc/group",
];

/// Size of `/dev/shm`; its pages are charged to the run's memory limit.
const SHM_BYTES: u64 = 16 << 20;

/// Mount options of `/dev/shm`.
pub fn shm_options() -> String {
    format!("mode=1777,size={SHM_BYTES}")
}

/// Host-side inputs of the root layout.
pub struct RootSources<'a> {
    /// Mount point of the root tmpfs on the host.
    pub root: &'a Path,
    /// Mount options of the `/box` and `/tmp` tmpfs mounts.
    pub box_options: &'a str,
    pub tmp_options: &'a str,
    pub passwd: &'a [u8],
    pub group: &'a [u8],
    /// Host directory the system directories and `/etc` entries are bound
    /// from: `/` for the host's own.
    pub system_root: &'a Path,
    pub binds: &'a [Bind],
}

fn cstring(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        SandboxError::InvalidSpec(format!("path {} contains a NUL byte", path.display()))
    })
}

fn data(text: String) -> CString {
    // Mount data built from numbers and fixed words has no NUL byte.
    CString::new(text).unwrap_or_default()
}

struct Builder<'a> {
    root: &'a Path,
    ops: Vec<MountOp>,
    made: BTreeSet<PathBuf>,
}

impl Builder<'_> {
    fn inside(&self, path: &Path) -> PathBuf {
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// Adds mkdir steps for `path` and each missing ancestor.
    fn mkdir_all(&mut self, path: &Path) -> Result<(), SandboxError> {
        let mut current = PathBuf::from("/");
        for component in path.components().skip(1) {
            current.push(component);
            if self.made.insert(current.clone()) {
                let target = cstring(&self.inside(&current))?;
                self.ops.push(MountOp::Mkdir { path: target });
            }
        }
        Ok(())
    }

    fn file_mount_point(&mut self, path: &Path) -> Result<(), SandboxError> {
        if let Some(parent) = path.parent() {
            self.mkdir_all(parent)?;
        }
        let target = cstring(&self.inside(path))?;
        self.ops.push(MountOp::CreateFile { path: target });
        Ok(())
    }

    /// Writes `contents` to `inside` in the root tmpfs, which becomes
    /// read-only with the rest of the root.
    fn write_file(&mut self, inside: &Path, contents: &[u8]) -> Result<(), SandboxError> {
        if let Some(parent) = inside.parent() {
            self.mkdir_all(parent)?;
        }
        let path = cstring(&self.inside(inside))?;
        self.ops.push(MountOp::WriteFile {
            path,
            contents: contents.to_vec(),
        });
        Ok(())
    }

    /// Binds host `source` at `inside` with remount `flags`, creating a
    /// directory or file mount point to match the source.
    fn bind(
        &mut self,
        source: &Path,
        inside: &Path,
        flags: libc::c_ulong,
    ) -> Result<(), SandboxError> {
        if source.is_dir() {
            self.mkdir_all(inside)?;
        } else {
            self.file_mount_point(inside)?;
        }
        self.ops.push(MountOp::Bind {
            source: cstring(source)?,
            target: cstring(&self.inside(inside))?,
            flags,
        });
        Ok(())
    }

    fn symlink(&mut self, target: &Path, inside: &Path) -> Result<(), SandboxError> {
        self.made.insert(inside.to_path_buf());
        self.ops.push(MountOp::Symlink {
            target: cstring(target)?,
            path: cstring(&self.inside(inside))?,
        });
        Ok(())
    }

    fn tmpfs(
        &mut self,
        inside: &Path,
        flags: libc::c_ulong,
        options: String,
    ) -> Result<(), SandboxError> {
        self.mkdir_all(inside)?;
        self.ops.push(MountOp::Tmpfs {
            target: cstring(&self.inside(inside))?,
            flags,
            data: data(options),
        });
        Ok(())
    }
}

const READ_ONLY: libc::c_ulong = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;

/// Builds every mount step of the sandbox root, in order.
pub fn root_ops(sources: &RootSources<'_>) -> Result<Vec<MountOp>, SandboxError> {
    let mut builder = Builder {
        root: sources.root,
        ops: Vec::new(),
        made: BTreeSet::new(),
    };

    let system = |path: &str| sources.system_root.join(path.trim_start_matches('/'));
    let mut symlinked = Vec::new();
    for dir in SYSTEM_DIRS {
        let inside = Path::new(dir);
        let source = system(dir);
        match std::fs::symlink_metadata(&source) {
            // The link target is copied as it is, so a relative or absolute
            // target resolves inside the sandbox as it does in the system
            // root.
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&source).map_err(|e| SandboxError::Setup {
                    step: "reading a system directory symlink",
                    source: e,
                })?;
                builder.symlink(&target, inside)?;
                symlinked.push(inside);
            }
            Ok(meta) if meta.is_dir() => builder.bind(&source, inside, READ_ONLY)?,
            _ if *dir == "/usr" => {
                return Err(SandboxError::Setup {
                    step: "finding /usr in the system root",
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("{} is not a directory", source.display()),
                    ),
                })
            }
            _ => {}
        }
    }

    builder.mkdir_all(Path::new("/etc"))?;
    for entry in ETC_ENTRIES {
        let source = resolve_in_root(sources.system_root, &system(entry));
        if source.exists() {
            builder.bind(&source, Path::new(entry), READ_ONLY)?;
        }
    }
    builder.write_file(Path::new("/etc/passwd"), sources.passwd)?;
    builder.write_file(Path::new("/etc/group"), sources.group)?;

    let dev = Path::new("/dev");
    builder.tmpfs(
        dev,
        libc::MS_NOSUID | libc::MS_NOEXEC,
        "mode=755,size=64k".into(),
    )?;
    for device in DEVICES {
        let host = dev.join(device);
        // Device nodes must stay usable, so no MS_NODEV here.
        builder.bind(&host, &host, libc::MS_NOSUID | libc::MS_NOEXEC)?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        builder.symlink(Path::new(target), &dev.join(name))?;
    }
    builder.tmpfs(
        &dev.join("shm"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        shm_options(),
    )?;
    builder.ops.push(MountOp::Remount {
        target: cstring(&builder.inside(dev))?,
        flags: libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NOEXEC,
    });

    builder.mkdir_all(Path::new("/proc"))?;
    builder.ops.push(MountOp::Proc {
        target: cstring(&builder.inside(Path::new("/proc")))?,
    });

    builder.tmpfs(
        Path::new("/box"),
        libc::MS_NOSUID | libc::MS_NODEV,
        sources.box_options.to_string(),
    )?;
    builder.tmpfs(
        Path::new("/tmp"),
        libc::MS_NOSUID | libc::MS_NODEV,
        sources.tmp_options.to_string(),
    )?;

    for bind in sources.binds {
        validate_bind(bind, &symlinked)?;
        builder.bind(&bind.host, &bind.inside, READ_ONLY)?;
    }
    Ok(builder.ops)
}

/// Follows the symlink chain of `path`'s last component as the sandbox would
/// see it: an absolute link target is taken below `root`, not the host's
/// `/`. An image's `/etc/localtime -> /usr/share/zoneinfo/...` must bind
/// the image's zone file, and a bind mount would follow the link on the
/// host. Gives up after 8 links and returns the last path reached.
fn resolve_in_root(root: &Path, path: &Path) -> PathBuf {
    const MAX_LINKS: usize = 8;
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let Ok(target) = std::fs::read_link(&current) else {
            return current;
        };
        current = if target.is_absolute() {
            root.join(target.strip_prefix("/").unwrap_or(&target))
        } else {
            current
                .parent()
                .map_or_else(|| target.clone(), |parent| parent.join(&target))
        };
    }
    current
}

/// Checks a caller's bind: the host path exists and the inside path is
/// absolute, normalized, not reserved and not below a symlinked system
/// directory (the mount point would land in the read-only `/usr`).
fn validate_bind(bind: &Bind, symlinked: &[&Path]) -> Result<(), SandboxError> {
    let inside = &bind.inside;
    let invalid = |reason: &str| {
        Err(SandboxError::InvalidSpec(format!(
            "bind {} -> {}: {reason}",
            bind.host.display(),
            inside.display()
        )))
    };
    if !bind.host.exists() {
        return invalid("the host path does not exist");
    }
    if !inside.is_absolute() {
        return invalid("the inside path must be absolute");
    }
    if inside
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return invalid("the inside path must not contain . or ..");
    }
    if RESERVED.iter().any(|r| inside == Path::new(r))
        || inside.starts_with("/box")
        || inside.starts_with("/proc")
        || inside.starts_with("/dev")
    {
        return invalid("the inside path is managed by the sandbox");
    }
    if symlinked.iter().any(|s| inside.starts_with(s)) {
        return invalid("the inside path goes through a symlinked system directory");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(host: &str, inside: &str) -> Bind {
        Bind {
            host: PathBuf::from(host),
            inside: PathBuf::from(inside),
        }
    }

    #[test]
    fn bind_rejects_relative_inside() {
        let result = validate_bind(&bind("/usr", "opt/x"), &[]);
        assert!(
            matches!(result, Err(SandboxError::InvalidSpec(_))),
            "expected InvalidSpec, got {result:?}"
        );
    }

    #[test]
    fn bind_rejects_parent_components() {
        let result = validate_bind(&bind("/usr", "/opt/../etc"), &[]);
        assert!(
            matches!(result, Err(SandboxError::InvalidSpec(_))),
            "expected InvalidSpec, got {result:?}"
        );
    }

    #[test]
    fn bind_rejects_work_dir() {
        let result = validate_bind(&bind("/usr", "/box/x"), &[]);
        assert!(
            matches!(result, Err(SandboxError::InvalidSpec(_))),
            "expected InvalidSpec, got {result:?}"
        );
    }

    #[test]
    fn absolute_link_resolves_below_root() {
        let root = tempfile::tempdir().expect("tempdir");
        let zone = root.path().join("usr/share/zoneinfo/Etc");
        std::fs::create_dir_all(&zone).expect("create zone dir");
        std::fs::create_dir_all(root.path().join("etc")).expect("create etc");
        std::fs::write(zone.join("UTC"), b"zone").expect("write zone file");
        let link = root.path().join("etc/localtime");
        std::os::unix::fs::symlink("/usr/share/zoneinfo/Etc/UTC", &link).expect("symlink");

        let resolved = resolve_in_root(root.path(), &link);

        assert_eq!(
            resolved,
            zone.join("UTC"),
            "expected the image's zone file, not the host's"
        );
    }

    #[test]
    fn bind_accepts_opt_path() {
        let result = validate_bind(&bind("/usr", "/opt/lang"), &[]);
        assert!(result.is_ok(), "expected Ok, got {result:?}");
    }
}
