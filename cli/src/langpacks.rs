//! `verdict langpacks`: lists the embedded langpacks with their host
//! versions, runs their self-tests in the sandbox, prints the Debian
//! packages they need and builds per-language root images (see `image.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use verdict_langpacks::Langpack;
use verdict_proto::v1::Verdict;
use verdict_sandbox::{Sandbox, SandboxConfig};
use verdict_worker::grade::{LangpackRoots, Slot};
use verdict_worker::selftest::{self, SelfTestReport};

use crate::image::{self, BuildArgs};
use crate::report;

/// Version commands run at once by `list`. Each may start a JVM, so more
/// would mostly contend for the CPUs.
const VERSION_PROBES: usize = 4;

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug, Subcommand)]
pub enum LangpacksCommand {
    /// Lists every langpack with the version its tools report on this host.
    List(ListArgs),
    /// Runs langpack self-tests in the sandbox and prints what each used;
    /// exits non-zero when one fails.
    Test(TestArgs),
    /// Prints the sorted Debian packages the langpacks need, one a line.
    AptPackages(AptPackagesArgs),
    /// Builds a langpack's root filesystem with mmdebstrap (Debian 12).
    Build(BuildArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Langpack ids to test; every langpack when none is given.
    ids: Vec<String>,
    /// Directory for the sandbox slot's work dir; a temporary directory
    /// when not given.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Root image (from `verdict langpacks build`) to run the tested
    /// langpacks from instead of the host's system directories.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Print a JSON array instead of a table.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print a Markdown table for docs/langpacks.md instead of a table.
    #[arg(long)]
    markdown: bool,
}

#[derive(Debug, Args)]
pub struct AptPackagesArgs {
    /// Langpack ids; every langpack when none is given.
    ids: Vec<String>,
}

pub async fn run(command: LangpacksCommand) -> Result<ExitCode> {
    match command {
        LangpacksCommand::List(args) => list(&args),
        LangpacksCommand::Test(args) => test(args).await,
        LangpacksCommand::AptPackages(args) => apt_packages(&args),
        LangpacksCommand::Build(args) => {
            let pack = resolve(std::slice::from_ref(&args.id))?.remove(0);
            image::build(&pack, &args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Looks up the langpacks named by `ids`, or every langpack when `ids` is
/// empty.
/// Fails on the first unknown id, naming it and listing the known ones.
pub fn resolve(ids: &[String]) -> Result<Vec<Langpack>> {
    let all = verdict_langpacks::all();
    if ids.is_empty() {
        return Ok(all);
    }
    let mut packs = Vec::with_capacity(ids.len());
    let mut seen = BTreeSet::new();
    for id in ids {
        let Some(pack) = all.iter().find(|pack| &pack.id == id) else {
            let known: Vec<&str> = all.iter().map(|pack| pack.id.as_str()).collect();
            bail!(
                "unknown langpack id `{id}`; known ids: {}",
                known.join(", ")
            );
        };
        if seen.insert(id.clone()) {
            packs.push(pack.clone());
        }
    }
    Ok(packs)
}

#[derive(Debug, Serialize)]
struct ListRow {
    id: String,
    name: String,
    /// `None` when the version command fails on this host.
    version: Option<String>,
    available: bool,
}

fn list(args: &ListArgs) -> Result<ExitCode> {
    let packs = verdict_langpacks::all();
    let versions = host_versions(&packs);
    let rows: Vec<ListRow> = packs
        .iter()
        .zip(versions)
        .map(|(pack, version)| ListRow {
            id: pack.id.clone(),
            name: pack.name.clone(),
            available: version.is_some(),
            version,
        })
        .collect();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.id.clone(),
                row.name.clone(),
                row.version.clone().unwrap_or_else(|| "-".to_owned()),
                if row.available { "yes" } else { "missing" }.to_owned(),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "VERSION", "ON THIS HOST"], &table);
    Ok(ExitCode::SUCCESS)
}

/// Runs every pack's version command on the host, at most
/// [`VERSION_PROBES`] at once, and returns the versions in `packs` order.
fn host_versions(packs: &[Langpack]) -> Vec<Option<String>> {
    let next = AtomicUsize::new(0);
    let versions: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; packs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..VERSION_PROBES.min(packs.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(pack) = packs.get(index) else {
                    break;
                };
                let version = pack.host_version();
                versions.lock().unwrap_or_else(|e| e.into_inner())[index] = version;
            });
        }
    });
    versions.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn apt_packages(args: &AptPackagesArgs) -> Result<ExitCode> {
    let packs = resolve(&args.ids)?;
    for package in verdict_langpacks::debian_packages(&packs) {
        println!("{package}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One row of `langpacks test`.
#[derive(Debug, Serialize)]
struct TestRow {
    id: String,
    name: String,
    passed: bool,
    /// Verdict code of the sample program, such as `AC`. It is `missing`
    /// when no root was given and the tools are not on this host, and
    /// `error` when the sandbox failed.
    program: String,
    /// `None` for a pack without a compile step.
    compile_error: Option<String>,
    compile_cpu_ms: Option<u64>,
    compile_wall_ms: Option<u64>,
    compile_peak_memory_bytes: Option<u64>,
    run_cpu_ms: Option<u64>,
    run_wall_ms: Option<u64>,
    run_peak_memory_bytes: Option<u64>,
    /// Version reported by the version command in the sandbox.
    version: Option<String>,
    detail: String,
}

impl TestRow {
    fn empty(pack: &Langpack, program: &str, detail: String) -> TestRow {
        TestRow {
            id: pack.id.clone(),
            name: pack.name.clone(),
            passed: false,
            program: program.to_owned(),
            compile_error: None,
            compile_cpu_ms: None,
            compile_wall_ms: None,
            compile_peak_memory_bytes: None,
            run_cpu_ms: None,
            run_wall_ms: None,
            run_peak_memory_bytes: None,
            version: None,
            detail,
        }
    }

    fn from_report(pack: &Langpack, report: &SelfTestReport) -> TestRow {
        TestRow {
            id: pack.id.clone(),
            name: pack.name.clone(),
            passed: report.passed(),
            program: verdict_name(report.program),
            compile_error: report.compile_error.map(verdict_name),
            compile_cpu_ms: report.compile.map(|usage| usage.cpu_time_ms),
            compile_wall_ms: report.compile.map(|usage| usage.wall_time_ms),
            compile_peak_memory_bytes: report.compile.map(|usage| usage.peak_memory_bytes),
            run_cpu_ms: Some(report.cpu_time_ms),
            run_wall_ms: Some(report.wall_time_ms),
            run_peak_memory_bytes: Some(report.peak_memory_bytes),
            version: report.version.clone(),
            detail: report.detail.trim().to_owned(),
        }
    }
}

/// Returns the verdict's short code, such as `AC` or `CE`.
fn verdict_name(verdict: Verdict) -> String {
    report::code(verdict).to_owned()
}

async fn test(args: TestArgs) -> Result<ExitCode> {
    let packs = resolve(&args.ids)?;
    if let Some(root) = &args.root {
        image::check_root(root)?;
    }

    // A temporary state dir unless one is given; it must outlive the slot.
    let temporary;
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("verdict-langpacks-test-")
                .tempdir()
                .context("creating a temporary state dir")?;
            temporary.path().to_path_buf()
        }
    };
    let slot = test_slot(&state_dir, &packs, args.root.as_deref())?;

    let mut rows = Vec::with_capacity(packs.len());
    for pack in &packs {
        let row = test_one(&slot, pack, args.root.is_some()).await;
        if !args.json && !args.markdown {
            eprintln!("{}: {}", row.id, if row.passed { "ok" } else { "FAILED" });
        }
        rows.push(row);
    }
    drop(slot);

    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if args.markdown {
        print!("{}", markdown_table(&rows));
    } else {
        print_test_table(&rows);
    }
    let failed = rows.iter().filter(|row| !row.passed).count();
    if failed > 0 {
        eprintln!("{failed} of {} self-tests failed", rows.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a sandbox slot whose tested packs run from `root` when one is
/// given.
fn test_slot(state_dir: &Path, packs: &[Langpack], root: Option<&Path>) -> Result<Slot> {
    let root = match root {
        Some(root) => Some(
            std::fs::canonicalize(root)
                .with_context(|| format!("resolving the root {}", root.display()))?,
        ),
        None => None,
    };
    let sandbox = Sandbox::new(SandboxConfig {
        state_dir: state_dir.to_path_buf(),
        slot: 0,
        cgroup_name: format!("verdict-langpacks-test-{}", std::process::id()),
    })
    .with_context(|| {
        format!(
            "setting up the sandbox in {} (run as root on Linux with cgroup memory and pids \
             controllers)",
            state_dir.display()
        )
    })?;
    let roots: LangpackRoots = match root {
        Some(root) => packs
            .iter()
            .map(|pack| (pack.id.clone(), root.clone()))
            .collect(),
        None => LangpackRoots::new(),
    };
    Ok(Slot::new(0, sandbox).with_langpack_roots(roots))
}

async fn test_one(slot: &Slot, pack: &Langpack, from_root: bool) -> TestRow {
    // Without a root the tools come from the host; a missing compiler
    // would only show up as a confusing compile error.
    if !from_root && pack.host_version().is_none() {
        return TestRow::empty(
            pack,
            "missing",
            format!(
                "the version command {:?} failed on this host; install: {}",
                pack.version_command.join(" "),
                pack.debian_packages.join(" ")
            ),
        );
    }
    match selftest::run(slot, pack).await {
        Ok(report) => TestRow::from_report(pack, &report),
        Err(error) => {
            tracing::error!(language = %pack.id, slot = slot.id(), error = %error,
                "self-test could not run");
            TestRow::empty(pack, "error", format!("{:#}", anyhow::Error::new(error)))
        }
    }
}

fn millis(value: Option<u64>) -> String {
    value.map_or_else(|| "-".to_owned(), |ms| ms.to_string())
}

fn mebibytes(value: Option<u64>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |bytes| format!("{:.1}", bytes as f64 / MIB),
    )
}

fn print_test_table(rows: &[TestRow]) {
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.id.clone(),
                row.program.clone(),
                row.compile_error.clone().unwrap_or_else(|| "-".to_owned()),
                millis(row.compile_wall_ms),
                millis(row.run_cpu_ms),
                millis(row.run_wall_ms),
                mebibytes(row.run_peak_memory_bytes),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "PROGRAM",
            "COMPILE ERROR",
            "COMPILE MS",
            "RUN CPU MS",
            "RUN WALL MS",
            "PEAK MIB",
        ],
        &table,
    );
    for row in rows
        .iter()
        .filter(|row| !row.passed && !row.detail.is_empty())
    {
        println!("{}: {}", row.id, row.detail);
    }
}

/// Renders the rows as the Markdown table of docs/langpacks.md.
fn markdown_table(rows: &[TestRow]) -> String {
    let mut text = String::from(
        "| id | version (in the sandbox) | compile wall ms | compile peak MiB | run CPU ms \
         | run wall ms | run peak MiB | self-test |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for row in rows {
        let version = row.version.as_deref().unwrap_or("-").replace('|', "\\|");
        let result = if row.passed {
            "passed".to_owned()
        } else {
            format!("FAILED ({})", row.program)
        };
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.id,
            version,
            millis(row.compile_wall_ms),
            mebibytes(row.compile_peak_memory_bytes),
            millis(row.run_cpu_ms),
            millis(row.run_wall_ms),
            mebibytes(row.run_peak_memory_bytes),
            result
        ));
    }
    text
}

/// Prints left-aligned columns separated by two spaces.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|title| title.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
