//! `sandbox-overhead`: measures what the verdict sandbox adds to starting a
//! process, side by side with a bare start and with bubblewrap.
//!
//! For `/bin/true` and `/usr/bin/python3 -c pass` it times, in one run and
//! interleaved so that load changes hit every column alike:
//! - bare: `std::process::Command` (fork or posix_spawn, exec, wait);
//! - verdict: `Sandbox::run` on one reused slot, with every namespace, the
//!   cgroup, seccomp and accounting on;
//! - bwrap: `bwrap --unshare-all --die-with-parent --ro-bind / / CMD`.
//!
//! It prints a Markdown table of medians and the sustained rate of
//! sandboxed `/bin/true` runs on one thread. Linux only, as root.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use verdict_sandbox::{ExitStatus, Limits, RunSpec, Sandbox, SandboxConfig, Stdin};

/// Upper bound on the runs of the rate phase, whatever its duration.
const MAX_RATE_RUNS: u64 = 100_000;

#[derive(Debug, Parser)]
#[command(
    name = "sandbox-overhead",
    about = "Compares sandboxed, bubblewrapped and bare process starts"
)]
struct Args {
    /// Timed runs per command and column.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Untimed runs per command and column before the timed ones.
    #[arg(long, default_value_t = 20)]
    warmup: u32,
    /// Duration of the sustained-rate phase, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    rate_seconds: f64,
    /// Time budget of the side-by-side phase, in seconds. A command still
    /// being measured when it runs out stops early, and its table row shows
    /// the runs actually made.
    #[arg(long, value_name = "SECONDS", default_value_t = 150.0)]
    max_seconds: f64,
    /// The bubblewrap binary; the bwrap column is skipped when it does not
    /// run.
    #[arg(long, default_value = "bwrap")]
    bwrap: String,
    /// Directory for the sandbox slot's state; a temporary directory when
    /// not given. Its parents must be searchable by others.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

/// One way of starting a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Bare,
    Verdict,
    Bwrap,
}

/// Timed runs of one command in one column.
#[derive(Debug, Default)]
struct Samples {
    durations: Vec<Duration>,
}

impl Samples {
    /// Returns the value below which `fraction` of the samples fall
    /// (nearest rank).
    fn quantile(&self, fraction: f64) -> Option<Duration> {
        let mut sorted = self.durations.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return None;
        }
        let rank = ((sorted.len() - 1) as f64 * fraction).round() as usize;
        Some(sorted[rank])
    }

    fn median(&self) -> Option<Duration> {
        self.quantile(0.5)
    }
}

/// The measurements of one command.
struct Row {
    label: &'static str,
    bare: Samples,
    verdict: Samples,
    bwrap: Samples,
}

struct Bench {
    sandbox: Sandbox,
    /// `None` when bwrap did not run on this machine.
    bwrap: Option<String>,
}

impl Bench {
    /// Runs `argv` once in `column` and returns how long it took; fails
    /// when the command does not exit 0.
    fn run_once(&mut self, column: Column, argv: &[&str]) -> Result<Duration> {
        match column {
            Column::Bare => time_process(Command::new(argv[0]).args(&argv[1..])),
            Column::Verdict => {
                let spec = sandbox_spec(argv);
                let started = Instant::now();
                let outcome = self
                    .sandbox
                    .run(&spec)
                    .with_context(|| format!("running {argv:?} in the sandbox"))?;
                let elapsed = started.elapsed();
                if outcome.status != ExitStatus::Exited(0) {
                    bail!("{argv:?} in the sandbox ended with {outcome:?}");
                }
                Ok(elapsed)
            }
            Column::Bwrap => {
                let bwrap = self.bwrap.as_deref().context("bwrap is not available")?;
                time_process(
                    Command::new(bwrap)
                        .args(["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"])
                        .args(argv),
                )
            }
        }
    }

    fn columns(&self) -> Vec<Column> {
        let mut columns = vec![Column::Bare, Column::Verdict];
        if self.bwrap.is_some() {
            columns.push(Column::Bwrap);
        }
        columns
    }

    /// Warms up, then times `runs` rounds of every column in turn. Stops
    /// early at `deadline`.
    fn measure(
        &mut self,
        label: &'static str,
        argv: &[&str],
        args: &Args,
        deadline: Instant,
    ) -> Result<Row> {
        let columns = self.columns();
        for _ in 0..args.warmup {
            for &column in &columns {
                self.run_once(column, argv)?;
            }
        }
        let mut row = Row {
            label,
            bare: Samples::default(),
            verdict: Samples::default(),
            bwrap: Samples::default(),
        };
        for _ in 0..args.runs {
            if Instant::now() >= deadline {
                eprintln!("note: the time budget ran out while measuring {label}");
                break;
            }
            // Interleaved, so a change in background load shifts every
            // column alike instead of one column's whole series.
            for &column in &columns {
                let elapsed = self.run_once(column, argv)?;
                let samples = match column {
                    Column::Bare => &mut row.bare,
                    Column::Verdict => &mut row.verdict,
                    Column::Bwrap => &mut row.bwrap,
                };
                samples.durations.push(elapsed);
            }
        }
        Ok(row)
    }

    /// Runs sandboxed `/bin/true` back to back for `seconds` on a slot of
    /// its own and returns (runs, elapsed, CPU time). The slot is dropped
    /// before the CPU time is read: its init, whose children are the
    /// programs, is then reaped, so their CPU time counts too.
    fn sustained_rate(
        &mut self,
        seconds: f64,
        config: SandboxConfig,
    ) -> Result<(u64, Duration, Duration)> {
        let mut sandbox = Sandbox::new(config).context("setting up the rate slot")?;
        let spec = sandbox_spec(&["/bin/true"]);
        sandbox.run(&spec).context("warming up the rate slot")?;
        let budget = Duration::try_from_secs_f64(seconds)
            .with_context(|| format!("--rate-seconds {seconds} is out of range"))?;
        let cpu_before = cpu_time_used();
        let started = Instant::now();
        let mut runs = 0;
        while started.elapsed() < budget && runs < MAX_RATE_RUNS {
            let outcome = sandbox.run(&spec).context("running /bin/true")?;
            if outcome.status != verdict_sandbox::ExitStatus::Exited(0) {
                bail!("sandboxed /bin/true ended with {:?}", outcome.status);
            }
            runs += 1;
        }
        let elapsed = started.elapsed();
        drop(sandbox);
        Ok((runs, elapsed, cpu_time_used().saturating_sub(cpu_before)))
    }
}

/// Times spawning and waiting for `command` with null stdio and an empty
/// environment apart from `PATH`.
fn time_process(command: &mut Command) -> Result<Duration> {
    let started = Instant::now();
    let status = command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("{command:?} ended with {status}");
    }
    Ok(elapsed)
}

/// Limits far above what the benchmarked commands need, so none fires.
fn sandbox_spec(argv: &[&str]) -> RunSpec {
    RunSpec {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        env: vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), "/box".into()),
        ],
        files: Vec::new(),
        stdin: Stdin::Null,
        limits: Limits {
            cpu_time: Duration::from_secs(10),
            wall_time: Duration::from_secs(20),
            memory_bytes: 512 << 20,
            max_processes: 64,
            stdout_bytes: 1 << 20,
            stderr_bytes: 1 << 20,
            file_size_bytes: 16 << 20,
            disk_bytes: 64 << 20,
        },
        binds: Vec::new(),
        copy_out: Vec::new(),
        copy_out_max_bytes: 0,
        root: None,
    }
}

/// User plus system CPU time of this process and of its reaped children.
fn cpu_time_used() -> Duration {
    let mut total = Duration::ZERO;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage only writes into the live local `usage`.
        if unsafe { libc::getrusage(who, &mut usage) } == 0 {
            for time in [usage.ru_utime, usage.ru_stime] {
                total += Duration::from_secs(time.tv_sec as u64)
                    + Duration::from_micros(time.tv_usec as u64);
            }
        }
    }
    total
}

/// Checks that bwrap starts a command here; prints why when it does not.
fn probe_bwrap(bwrap: &str) -> Option<String> {
    let status = Command::new(bwrap)
        .args(["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"])
        .arg("/bin/true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => Some(bwrap.to_string()),
        Ok(status) => {
            eprintln!("note: skipping the bwrap column: `{bwrap}` ended with {status}");
            None
        }
        Err(e) => {
            eprintln!("note: skipping the bwrap column: `{bwrap}` did not start: {e}");
            None
        }
    }
}

fn millis(duration: Option<Duration>) -> String {
    match duration {
        Some(duration) => format!("{:.2} ms", duration.as_secs_f64() * 1000.0),
        None => "n/a".to_string(),
    }
}

fn ratio(numerator: Option<Duration>, denominator: Option<Duration>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if !d.is_zero() => format!("{:.2}x", n.as_secs_f64() / d.as_secs_f64()),
        _ => "n/a".to_string(),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| command | bare median | verdict median | bwrap median | verdict/bare | bwrap/bare | runs |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let bare = row.bare.median();
        let verdict = row.verdict.median();
        let bwrap = row.bwrap.median();
        println!(
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            row.label,
            millis(bare),
            millis(verdict),
            millis(bwrap),
            ratio(verdict, bare),
            ratio(bwrap, bare),
            row.bare.durations.len()
        );
    }
    println!();
    println!("Spread (10th and 90th percentiles):");
    println!();
    println!("| command | bare p10 / p90 | verdict p10 / p90 | bwrap p10 / p90 |");
    println!("| --- | ---: | ---: | ---: |");
    for row in rows {
        let spread = |samples: &Samples| {
            format!(
                "{} / {}",
                millis(samples.quantile(0.1)),
                millis(samples.quantile(0.9))
            )
        };
        println!(
            "| `{}` | {} | {} | {} |",
            row.label,
            spread(&row.bare),
            spread(&row.verdict),
            spread(&row.bwrap)
        );
    }
}

/// Returns what follows the `:` on the first line of `path` that starts
/// with `key`.
fn proc_field(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|line| line.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Counts processes named `rustc`, because builds running beside the
/// benchmark skew it.
fn rustc_processes() -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("comm"))
                .is_ok_and(|comm| comm.trim() == "rustc")
        })
        .count()
}

fn print_machine() {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into());
    let cgroup = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "v2"
    } else {
        "v1"
    };
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!(
        "Machine: {cpus} CPUs ({model}), kernel {}, cgroup {cgroup}; {date}",
        read_trimmed("/proc/sys/kernel/osrelease")
    );
    println!(
        "Load average at start: {}; rustc processes running: {}",
        read_trimmed("/proc/loadavg"),
        rustc_processes()
    );
    println!();
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate_seconds.is_finite() && args.rate_seconds >= 0.0) {
        bail!("--rate-seconds must be a non-negative number of seconds");
    }
    if !(args.max_seconds.is_finite() && args.max_seconds > 0.0) {
        bail!("--max-seconds must be a positive number of seconds");
    }

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the sandbox needs root: run this benchmark as root");
    }
    let temporary;
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("verdict-bench-")
                .tempdir()
                .context("creating a temporary state dir")?;
            temporary.path().to_path_buf()
        }
    };
    let sandbox = Sandbox::new(SandboxConfig {
        state_dir: state_dir.clone(),
        slot: 0,
        cgroup_name: format!("verdict-bench-{}", std::process::id()),
    })
    .with_context(|| format!("setting up the sandbox slot in {}", state_dir.display()))?;
    let mut bench = Bench {
        sandbox,
        bwrap: probe_bwrap(&args.bwrap),
    };

    print_machine();
    let deadline = Duration::try_from_secs_f64(args.max_seconds)
        .ok()
        .and_then(|budget| Instant::now().checked_add(budget))
        .with_context(|| format!("--max-seconds {} is out of range", args.max_seconds))?;
    let workloads: [(&'static str, &[&str]); 2] = [
        ("/bin/true", &["/bin/true"]),
        ("python3 -c pass", &["/usr/bin/python3", "-c", "pass"]),
    ];
    let mut rows = Vec::new();
    for (label, argv) in workloads {
        rows.push(bench.measure(label, argv, &args, deadline)?);
    }
    print_table(&rows);
    if bench.bwrap.is_none() {
        println!();
        println!("The bwrap column is empty: bwrap did not run on this machine.");
    }

    if args.rate_seconds > 0.0 {
        let config = SandboxConfig {
            state_dir: state_dir.clone(),
            slot: 1,
            cgroup_name: format!("verdict-bench-{}", std::process::id()),
        };
        let (runs, elapsed, cpu) = bench.sustained_rate(args.rate_seconds, config)?;
        let per_second = runs as f64 / elapsed.as_secs_f64();
        let cpu_per_run = cpu.as_secs_f64() * 1000.0 / runs.max(1) as f64;
        println!();
        println!(
            "Sustained sandboxed /bin/true on one thread: {per_second:.0} runs/s \
             ({runs} runs in {:.1} s). CPU per run: {cpu_per_run:.2} ms in the \
             supervisor, the slot's init and the programs (kernel worker threads \
             not counted), so one core sustains about {:.0} runs/s.",
            elapsed.as_secs_f64(),
            1000.0 / cpu_per_run.max(0.001)
        );
    }
    println!();
    println!("Load average at end: {}", read_trimmed("/proc/loadavg"));
    Ok(())
}
