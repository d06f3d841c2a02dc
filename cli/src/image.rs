//! `verdict langpacks build`: a langpack's root filesystem, built with
//! mmdebstrap from Debian 12 (bookworm) as a plain directory tree, for
//! `--langpack-root ID=DIR` and `verdict langpacks test --root DIR`.
//!
//! The sandbox binds the image's `/usr`, `/bin`, `/sbin`, `/lib*` and a few
//! `/etc` entries read-only, so the image needs no init, no users and no
//! package manager at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use verdict_langpacks::Langpack;

/// Debian release of every image; the langpacks' package names are
/// Debian 12's.
pub const SUITE: &str = "bookworm";
/// Mirror used when apt's sources name no bookworm archive.
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const DEFAULT_SECURITY_MIRROR: &str = "http://deb.debian.org/debian-security";
/// File written into every image: which langpack, suite and packages it
/// was built for. The sandbox can read it (it is under `/usr`).
pub const IMAGE_INFO: &str = "usr/share/verdict/langpack-image.toml";

/// Documentation, manual pages and translations are dropped, because no
/// program reads them; copyright files stay.
const DPKG_OPTIONS: &[&str] = &[
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Variant {
    /// Essential packages, apt and the `required` priority packages (mmdebstrap
    /// `minbase`).
    Minbase,
    /// Essential packages and apt only (mmdebstrap `apt`): smaller, but
    /// without `required` packages such as `mawk`.
    Apt,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Minbase => "minbase",
            Variant::Apt => "apt",
        }
    }
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Langpack id, such as `lua`.
    pub id: String,
    /// Directory to create with the root filesystem. It must not exist; the
    /// build writes to a sibling directory and renames it when done.
    #[arg(long)]
    pub out: PathBuf,
    /// mmdebstrap variant: the base package set below the langpack's own.
    #[arg(long, value_enum, default_value = "minbase")]
    pub variant: Variant,
    /// Debian archive URL for bookworm and bookworm-updates. Defaults to
    /// the bookworm entries of apt's sources on this host, else
    /// http://deb.debian.org/debian.
    #[arg(long)]
    pub mirror: Option<String>,
}

/// Checks that `root` looks like a root image: a directory with `usr`.
pub fn check_root(root: &Path) -> Result<()> {
    if !root.join("usr").is_dir() {
        bail!(
            "{} is not a root image (no usr directory); build one with \
             `verdict langpacks build ID --out DIR`",
            root.display()
        );
    }
    Ok(())
}

/// Builds `pack`'s root filesystem into `args.out` with mmdebstrap.
pub fn build(pack: &Langpack, args: &BuildArgs) -> Result<()> {
    let out = absolute(&args.out)?;
    if out.exists() {
        bail!(
            "{} already exists; remove it or choose another --out",
            out.display()
        );
    }
    let parent = out
        .parent()
        .with_context(|| format!("{} has no parent directory", out.display()))?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let file_name = out
        .file_name()
        .with_context(|| format!("{} has no file name", out.display()))?;
    let partial = parent.join(format!(
        ".{}.partial-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));

    let sources = match &args.mirror {
        Some(mirror) => mirror_sources(mirror),
        None => apt_sources(),
    };
    let result = run_mmdebstrap(pack, args.variant, &sources, &partial)
        .and_then(|()| write_image_info(pack, args.variant, &sources, &partial))
        .and_then(|()| {
            std::fs::rename(&partial, &out)
                .with_context(|| format!("renaming {} to {}", partial.display(), out.display()))
        });
    if result.is_err() && partial.exists() {
        if let Err(error) = std::fs::remove_dir_all(&partial) {
            tracing::warn!(path = %partial.display(), %error,
                "removing the partial image failed");
        }
    }
    result?;
    eprintln!("built the {} root image in {}", pack.id, out.display());
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let current = std::env::current_dir().context("reading the current directory")?;
    Ok(current.join(path))
}

fn run_mmdebstrap(
    pack: &Langpack,
    variant: Variant,
    sources: &[String],
    target: &Path,
) -> Result<()> {
    let mut command = Command::new("mmdebstrap");
    command
        .arg("--mode=root")
        .arg(format!("--variant={}", variant.name()))
        .arg("--format=directory")
        .arg(format!("--include={}", pack.debian_packages.join(",")));
    for option in DPKG_OPTIONS {
        command.arg(format!("--dpkgopt={option}"));
    }
    command.arg(SUITE).arg(target).args(sources);

    tracing::info!(language = %pack.id, target = %target.display(), ?sources,
        "running mmdebstrap");
    let status = command.status().map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!("mmdebstrap is not installed; install the Debian package `mmdebstrap`")
        } else {
            anyhow::Error::new(error).context("starting mmdebstrap")
        }
    })?;
    if !status.success() {
        bail!(
            "mmdebstrap failed ({status}) building the {} image; its log is above",
            pack.id
        );
    }
    Ok(())
}

/// Records in the image what it was built for, as TOML.
fn write_image_info(
    pack: &Langpack,
    variant: Variant,
    sources: &[String],
    root: &Path,
) -> Result<()> {
    let path = root.join(IMAGE_INFO);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|item| toml_string(item)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let text = format!(
        "# Written by `verdict langpacks build`.\n\
         langpack = {}\n\
         suite = {}\n\
         variant = {}\n\
         packages = {}\n\
         sources = {}\n",
        toml_string(&pack.id),
        toml_string(SUITE),
        toml_string(variant.name()),
        list(&pack.debian_packages),
        list(sources),
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Quotes `text` as a TOML basic string. Ids, package names and apt source lines are
/// printable ASCII, so only `\` and `"` need escaping.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn mirror_sources(mirror: &str) -> Vec<String> {
    vec![
        format!("deb {mirror} {SUITE} main"),
        format!("deb {mirror} {SUITE}-updates main"),
    ]
}

/// One-line apt sources (`deb URI SUITE COMPONENTS`) for the bookworm
/// suites that apt on this host uses, read from `/etc/apt/sources.list`
/// and `/etc/apt/sources.list.d/` (both the one-line and the deb822
/// format). Falls back to deb.debian.org when there are none.
fn apt_sources() -> Vec<String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut listed: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        listed.sort();
        files.extend(listed);
    }

    let mut sources = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let entries = match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => parse_deb822(&text),
            Some("list") | None => parse_one_line(&text),
            Some(_) => continue,
        };
        for entry in entries {
            if !sources.contains(&entry) {
                sources.push(entry);
            }
        }
    }
    if sources.is_empty() {
        return vec![
            format!("deb {DEFAULT_MIRROR} {SUITE} main"),
            format!("deb {DEFAULT_MIRROR} {SUITE}-updates main"),
            format!("deb {DEFAULT_SECURITY_MIRROR} {SUITE}-security main"),
        ];
    }
    sources
}

/// Keeps `bookworm` and `bookworm-*` suites only: other repositories
/// (vendor archives such as NodeSource) have no place in a Debian image.
fn is_debian_suite(suite: &str) -> bool {
    suite == SUITE || suite.starts_with(&format!("{SUITE}-"))
}

fn parse_one_line(text: &str) -> Vec<String> {
    let mut sources = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace().peekable();
        if words.next() != Some("deb") {
            continue;
        }
        // Options such as `[signed-by=...]` may span several words.
        if words.peek().is_some_and(|word| word.starts_with('[')) {
            for word in words.by_ref() {
                if word.ends_with(']') {
                    break;
                }
            }
        }
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        let components: Vec<&str> = words.collect();
        if is_debian_suite(suite) && !components.is_empty() {
            sources.push(format!("deb {uri} {suite} {}", components.join(" ")));
        }
    }
    sources
}

fn parse_deb822(text: &str) -> Vec<String> {
    let mut sources = Vec::new();
    // Stanzas are separated by blank lines; continuation lines start with
    // a space and are not used by the fields read here.
    for stanza in text.split("\n\n") {
        let field = |name: &str| -> Vec<String> {
            stanza
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.split_once(':'))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let enabled = field("Enabled").first().is_none_or(|value| value != "no");
        if !enabled || !field("Types").iter().any(|kind| kind == "deb") {
            continue;
        }
        let components = field("Components").join(" ");
        for uri in field("URIs") {
            for suite in field("Suites") {
                if is_debian_suite(&suite) && !components.is_empty() {
                    sources.push(format!("deb {uri} {suite} {components}"));
                }
            }
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_stanzas_become_source_lines() {
        let text = "Types: deb\nURIs: http://deb.debian.org/debian\n\
                    Suites: bookworm bookworm-updates\nComponents: main\n\
                    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                    Types: deb\nURIs: https://deb.nodesource.com/node_20.x\n\
                    Suites: nodistro\nComponents: main\n";

        let sources = parse_deb822(text);

        assert_eq!(
            sources,
            vec![
                "deb http://deb.debian.org/debian bookworm main".to_owned(),
                "deb http://deb.debian.org/debian bookworm-updates main".to_owned(),
            ],
            "bookworm suites kept, the vendor archive dropped"
        );
    }

    #[test]
    fn one_line_sources_skip_options() {
        let text = "# comment\n\
                    deb [arch=amd64 signed-by=/k.gpg] http://mirror/debian bookworm main contrib\n\
                    deb-src http://mirror/debian bookworm main\n\
                    deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n";

        let sources = parse_one_line(text);

        assert_eq!(
            sources,
            vec!["deb http://mirror/debian bookworm main contrib".to_owned()],
            "only the bookworm binary archive"
        );
    }
}
