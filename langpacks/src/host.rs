//! Runs a langpack's version command on the host, bounded in time.

use std::io::{ErrorKind, Read};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often the child is polled for exit.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Runs `argv` with exactly `env` and returns the first non-empty line of
/// its stdout, or of its stderr when stdout has none (`java -version`
/// prints to stderr). Returns `None` when the program is missing, fails,
/// exits non-zero or outlives `timeout`. Each case but a missing program
/// logs a warning.
pub(crate) fn first_output_line(
    id: &str,
    argv: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let mut child = match Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            tracing::debug!(
                language = id,
                program,
                "version command not found on this host"
            );
            return None;
        }
        Err(err) => {
            tracing::warn!(language = id, program, error = %err, "version command failed to start");
            return None;
        }
    };

    // Read both pipes on their own threads so a chatty program cannot block
    // on a full pipe while this thread waits for it to exit.
    let stdout = spawn_reader(child.stdout.take());
    let stderr = spawn_reader(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // The reader threads are left to finish on their own: a
                // grandchild that inherited the pipes could keep them open.
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(
                    language = id,
                    program,
                    timeout_ms = timeout.as_millis() as u64,
                    "version command timed out and was killed"
                );
                return None;
            }
            Ok(None) => thread::sleep(POLL_INTERVAL),
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(language = id, program, error = %err, "waiting for version command failed");
                return None;
            }
        }
    };

    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        tracing::warn!(language = id, program, %status, "version command exited unsuccessfully");
        return None;
    }
    version_line(&stdout, &stderr)
}

fn spawn_reader<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error leaves what was read so far, which is all a
            // version line needs.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Picks a version command's version: the first non-empty line of stdout,
/// else of stderr (`java -version` prints on stderr).
pub fn version_line(stdout: &[u8], stderr: &[u8]) -> Option<String> {
    first_line(stdout).or_else(|| first_line(stderr))
}

fn first_line(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    fn path_env() -> Vec<(String, String)> {
        vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())]
    }

    #[test]
    fn first_line_skips_blank_lines() {
        let line = first_line(b"\n  \n  tool 1.2.3  \nsecond\n");

        assert_eq!(
            line.as_deref(),
            Some("tool 1.2.3"),
            "first non-empty line, trimmed"
        );
    }

    #[test]
    fn version_falls_back_to_stderr() {
        let command = argv(&["/bin/sh", "-c", "echo 'tool 9' >&2"]);

        let line = first_output_line("test", &command, &path_env(), Duration::from_secs(10));

        assert_eq!(
            line.as_deref(),
            Some("tool 9"),
            "stderr used when stdout is empty"
        );
    }

    #[test]
    fn missing_program_gives_none() {
        let command = argv(&["/nonexistent/verdict-no-such-tool", "--version"]);

        let line = first_output_line("test", &command, &path_env(), Duration::from_secs(10));

        assert_eq!(line, None, "a missing binary has no version");
    }

    #[test]
    fn failing_program_gives_none() {
        let command = argv(&["/bin/sh", "-c", "echo 'not a version'; exit 3"]);

        let line = first_output_line("test", &command, &path_env(), Duration::from_secs(10));

        assert_eq!(line, None, "a non-zero exit has no version");
    }

    #[test]
    fn slow_program_times_out() {
        let command = argv(&["/bin/sleep", "30"]);
        let started = Instant::now();

        let line = first_output_line("test", &command, &path_env(), Duration::from_millis(300));

        let elapsed = started.elapsed();
        assert_eq!(
            line, None,
            "a program that outlives the timeout has no version"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "expected the kill within about 300 ms, took {elapsed:?}"
        );
    }
}
