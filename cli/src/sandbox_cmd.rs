//! `verdict sandbox run`: runs one command in the sandbox, the way
//! isolate's `--run` does, and prints what it did and used as JSON.
//!
//! Linux only, as root: the sandbox mounts, writes uid maps and manages
//! cgroups. The exit code is 0 whenever the command ran, whatever the
//! command itself did, and 1 when the sandbox could not run it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use verdict_sandbox::{
    Bind, ExitStatus, LimitKind, Limits, RunOutcome, RunSpec, Sandbox, SandboxConfig, Stdin,
};

/// `PATH` inside the sandbox unless `--env PATH=...` replaces it.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Runs one command in the sandbox and prints the outcome as JSON on
    /// stdout. Exits 0 when the command ran (whatever it did) and 1 when
    /// the sandbox could not run it.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// CPU time limit of the whole process tree, in seconds (fractions
    /// allowed).
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_seconds)]
    time: Duration,
    /// Wall-clock time limit, in seconds; twice --time plus one second when
    /// not given.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    wall: Option<Duration>,
    /// Memory limit of the whole process tree without swap, in bytes (K, M
    /// and G suffixes are powers of 1024); tmpfs pages count too.
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_bytes)]
    memory: u64,
    /// Processes and threads alive at once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    processes: u32,
    /// Bytes kept from stdout and, separately, from stderr (K, M and G
    /// suffixes allowed); one byte more ends the run with limit "output".
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_bytes)]
    output: u64,
    /// Size of the writable work dir (/box) and of /tmp, each, in bytes
    /// (K, M and G suffixes allowed). It is also the largest file the
    /// command may write.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_bytes)]
    disk: u64,
    /// Host file fed to the command's stdin; /dev/null when not given.
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// Extra read-only bind mount, HOST:INSIDE with an absolute INSIDE
    /// path; may be repeated.
    #[arg(long = "bind", value_name = "HOST:INSIDE", value_parser = parse_bind)]
    binds: Vec<Bind>,
    /// Environment entry K=V; may be repeated. Nothing is inherited from
    /// the host: the environment is PATH=/usr/local/bin:/usr/bin:/bin and
    /// HOME=/box plus these entries, which replace those two by key.
    #[arg(long = "env", value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Directory for the slot's work dir mount and scratch files; a
    /// temporary directory when not given. Its parents must be searchable
    /// by others (chmod o+x).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Slot number, which picks the host uid/gid pair and the cgroup name;
    /// concurrent runs sharing a state dir need different slots.
    #[arg(long, value_name = "N", default_value_t = 0)]
    slot: u32,
    /// The command and its arguments; a command without a `/` is looked up
    /// in the sandbox's PATH.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

pub async fn run(command: SandboxCommand) -> Result<ExitCode> {
    match command {
        SandboxCommand::Run(args) => {
            // The sandbox blocks until the command ends, so it runs off the
            // async threads.
            let report = tokio::task::spawn_blocking(move || run_one(&args))
                .await
                .context("the sandbox thread panicked")??;
            let json = serde_json::to_string_pretty(&report).context("encoding the outcome")?;
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sets up a slot, runs the command once and returns its report. The slot's
/// cgroup and work dir mount are removed when the slot drops.
fn run_one(args: &RunArgs) -> Result<RunReport> {
    let temporary;
    let state_dir = match &args.state_dir {
        Some(dir) => dir.clone(),
        None => {
            temporary = tempfile::Builder::new()
                .prefix("verdict-sandbox-run-")
                .tempdir()
                .context("creating a temporary state dir")?;
            temporary.path().to_path_buf()
        }
    };
    let mut sandbox = Sandbox::new(SandboxConfig {
        state_dir: state_dir.clone(),
        slot: args.slot,
        // One subtree per process, so concurrent invocations never share a
        // cgroup even when they use the same slot number.
        cgroup_name: format!("verdict-sandbox-run-{}", std::process::id()),
    })
    .with_context(|| {
        format!(
            "setting up sandbox slot {} in {} (run as root on Linux with the cgroup memory, \
             pids and cpuacct controllers, and user namespaces enabled)",
            args.slot,
            state_dir.display()
        )
    })?;

    let spec = run_spec(args);
    let outcome = sandbox
        .run(&spec)
        .with_context(|| format!("running {:?} in the sandbox", args.command))?;
    Ok(RunReport::new(&outcome, &spec.limits))
}

fn run_spec(args: &RunArgs) -> RunSpec {
    let mut env = vec![
        ("PATH".to_string(), DEFAULT_PATH.to_string()),
        ("HOME".to_string(), "/box".to_string()),
    ];
    for (key, value) in &args.env {
        match env.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.clone(),
            None => env.push((key.clone(), value.clone())),
        }
    }
    let wall_time = args
        .wall
        .unwrap_or_else(|| args.time * 2 + Duration::from_secs(1));
    RunSpec {
        argv: args.command.clone(),
        env,
        files: Vec::new(),
        stdin: args.stdin.clone().map_or(Stdin::Null, Stdin::HostFile),
        limits: Limits {
            cpu_time: args.time,
            wall_time,
            memory_bytes: args.memory,
            max_processes: args.processes,
            stdout_bytes: args.output,
            stderr_bytes: args.output,
            file_size_bytes: args.disk,
            disk_bytes: args.disk,
        },
        binds: args.binds.clone(),
        copy_out: Vec::new(),
        copy_out_max_bytes: 0,
        root: None,
    }
}

/// The JSON printed on stdout.
#[derive(Debug, Serialize)]
struct RunReport {
    /// `exited` or `signaled`.
    status: &'static str,
    /// Set when `status` is `exited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    /// Set when `status` is `signaled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<i32>,
    /// The limit that ended the run: cpu_time, wall_time, memory, output,
    /// processes or file_size.
    limit: Option<LimitKind>,
    blocked_syscall: Option<String>,
    cpu_ms: f64,
    wall_ms: f64,
    peak_memory_bytes: u64,
    oom_killed: bool,
    /// Lossy UTF-8: invalid sequences become U+FFFD.
    stdout: String,
    stderr: String,
    /// Present and true when output past the --output limit was dropped.
    #[serde(skip_serializing_if = "is_false")]
    stdout_truncated: bool,
    #[serde(skip_serializing_if = "is_false")]
    stderr_truncated: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl RunReport {
    fn new(outcome: &RunOutcome, limits: &Limits) -> RunReport {
        let (status, exit_code, signal) = match outcome.status {
            ExitStatus::Exited(code) => ("exited", Some(code), None),
            ExitStatus::Signaled(signal) => ("signaled", None, Some(signal)),
        };
        // The sandbox keeps exactly the limit's bytes of a stream that went
        // over it, and then reports LimitKind::Output. A stream that fits
        // may also be exactly at the limit, but without that limit kind.
        let over_output = outcome.limit == Some(LimitKind::Output);
        RunReport {
            status,
            exit_code,
            signal,
            limit: outcome.limit,
            blocked_syscall: outcome.blocked_syscall.clone(),
            cpu_ms: millis(outcome.cpu_time),
            wall_ms: millis(outcome.wall_time),
            peak_memory_bytes: outcome.peak_memory_bytes,
            oom_killed: outcome.oom_killed,
            stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
            stdout_truncated: over_output && outcome.stdout.len() as u64 >= limits.stdout_bytes,
            stderr_truncated: over_output && outcome.stderr.len() as u64 >= limits.stderr_bytes,
        }
    }
}

/// Milliseconds with microsecond precision.
fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

/// Parses a positive, finite number of seconds such as `2` or `0.25`.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 86_400.0 {
        return Err(format!(
            "{text} seconds is out of range: give more than 0 and at most 86400"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a byte count with an optional K, M or G suffix (powers of 1024,
/// either case).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let invalid = || format!("`{text}` is not a byte count such as 65536, 512K, 64M or 1G");
    let (digits, shift) = match text.char_indices().last() {
        Some((index, 'k' | 'K')) => (&text[..index], 10),
        Some((index, 'm' | 'M')) => (&text[..index], 20),
        Some((index, 'g' | 'G')) => (&text[..index], 30),
        _ => (text, 0),
    };
    let count: u64 = digits.parse().map_err(|_| invalid())?;
    count
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large for a byte count"))
}

/// Parses `HOST:INSIDE`; the host path may not contain `:`, and INSIDE must
/// be absolute.
fn parse_bind(text: &str) -> Result<Bind, String> {
    let Some((host, inside)) = text.split_once(':') else {
        return Err(format!("`{text}` is not HOST:INSIDE"));
    };
    if host.is_empty() {
        return Err(format!("`{text}` has an empty host path"));
    }
    if !inside.starts_with('/') {
        return Err(format!(
            "`{text}`: the path inside the sandbox must be absolute"
        ));
    }
    Ok(Bind {
        host: PathBuf::from(host),
        inside: PathBuf::from(inside),
    })
}

/// Parses `K=V` with a non-empty key.
fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_accept_binary_suffixes() {
        for (text, expected) in [
            ("4096", 4096),
            ("512K", 512 << 10),
            ("64m", 64 << 20),
            ("1G", 1 << 30),
        ] {
            assert_eq!(parse_bytes(text), Ok(expected), "parsing {text}");
        }
    }

    #[test]
    fn bytes_reject_unknown_suffix() {
        let result = parse_bytes("12X");
        assert!(result.is_err(), "expected an error for 12X, got {result:?}");
    }

    #[test]
    fn bytes_reject_overflow() {
        let result = parse_bytes("99999999999G");
        assert!(
            result.is_err(),
            "expected an overflow error, got {result:?}"
        );
    }

    #[test]
    fn seconds_accept_fractions() {
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn seconds_reject_zero_and_negative() {
        for text in ["0", "-1", "nan", "inf"] {
            let result = parse_seconds(text);
            assert!(
                result.is_err(),
                "expected an error for {text}, got {result:?}"
            );
        }
    }

    #[test]
    fn bind_splits_host_and_inside() {
        let bind = parse_bind("/srv/data:/data").expect("valid bind");
        assert_eq!(bind.host, PathBuf::from("/srv/data"));
        assert_eq!(bind.inside, PathBuf::from("/data"));
    }

    #[test]
    fn bind_rejects_relative_inside() {
        let result = parse_bind("/srv/data:data");
        assert!(result.is_err(), "expected an error, got {result:?}");
    }

    #[test]
    fn env_keeps_equals_in_value() {
        assert_eq!(
            parse_env("OPTS=a=b"),
            Ok(("OPTS".to_string(), "a=b".to_string()))
        );
    }

    #[test]
    fn env_rejects_missing_equals() {
        let result = parse_env("NOVALUE");
        assert!(result.is_err(), "expected an error, got {result:?}");
    }
}
