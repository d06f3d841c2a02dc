//! `verdict serve`, `verdict scheduler` and `verdict worker`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio_util::sync::CancellationToken;
use verdict_queue::{JobQueue, SubmissionStore};
use verdict_scheduler::{GraderService, SchedulerConfig};
use verdict_worker::{Worker, WorkerConfig};

use crate::telemetry;

#[derive(Debug, Clone, Args)]
pub struct SchedulerOptions {
    /// Address the gRPC server listens on.
    #[arg(long, default_value = "127.0.0.1:50051", env = "VERDICT_LISTEN")]
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Args)]
pub struct WorkerOptions {
    /// Sandbox slots: submissions graded at once by this worker.
    /// Defaults to the number of CPUs.
    #[arg(long, env = "VERDICT_SLOTS")]
    pub slots: Option<u32>,
    /// Directory for the sandbox slots' work dirs; created if missing.
    #[arg(long, default_value = "/run/verdict", env = "VERDICT_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Worker id in logs and results. Defaults to HOSTNAME-PID.
    #[arg(long, env = "VERDICT_WORKER_ID")]
    pub worker_id: Option<String>,
    /// Deliveries of one job before it ends as an internal error.
    #[arg(long, default_value_t = 3, env = "VERDICT_MAX_ATTEMPTS")]
    pub max_attempts: u32,
    /// Seconds to finish in-flight jobs after SIGTERM before handing them
    /// back to the queue.
    #[arg(long, default_value_t = 30, env = "VERDICT_DRAIN_TIMEOUT")]
    pub drain_timeout: u64,
    /// Runs language ID from the root image in DIR (built by `verdict
    /// langpacks build`) instead of the host's /usr. Repeat the flag for
    /// more languages, or give a comma-separated list in the variable.
    #[arg(
        long = "langpack-root",
        value_name = "ID=DIR",
        value_parser = parse_langpack_root,
        value_delimiter = ',',
        env = "VERDICT_LANGPACK_ROOTS"
    )]
    pub langpack_roots: Vec<(String, PathBuf)>,
}

/// Parses `ID=DIR`, making DIR absolute so that the sandbox does not depend
/// on the current directory.
fn parse_langpack_root(text: &str) -> std::result::Result<(String, PathBuf), String> {
    let Some((id, dir)) = text.split_once('=') else {
        return Err(format!("expected ID=DIR, got `{text}`"));
    };
    if id.is_empty() || dir.is_empty() {
        return Err(format!(
            "expected ID=DIR with both parts non-empty, got `{text}`"
        ));
    }
    let dir = std::path::absolute(dir).map_err(|error| format!("invalid path `{dir}`: {error}"))?;
    Ok((id.to_owned(), dir))
}

#[derive(Debug, Clone, Args)]
pub struct NatsOptions {
    /// NATS server URL, such as nats://127.0.0.1:4222.
    #[arg(long = "nats", env = "VERDICT_NATS_URL")]
    pub url: String,
    /// Seconds a worker may go silent on a job before JetStream delivers
    /// it again; workers report progress every third of it.
    #[arg(long, default_value_t = 30, env = "VERDICT_ACK_WAIT")]
    pub ack_wait: u64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    scheduler: SchedulerOptions,
    #[command(flatten)]
    worker: WorkerOptions,
    /// NATS server URL; without it the queue and store live in this
    /// process.
    #[arg(long = "nats", env = "VERDICT_NATS_URL")]
    nats: Option<String>,
    /// Seconds before an unacknowledged job is delivered again.
    #[arg(long, default_value_t = 30, env = "VERDICT_ACK_WAIT")]
    ack_wait: u64,
    /// Address of the Prometheus endpoint; off when not given.
    #[arg(long, env = "VERDICT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    #[command(flatten)]
    scheduler: SchedulerOptions,
    #[command(flatten)]
    nats: NatsOptions,
    /// Address of the Prometheus endpoint; off when not given.
    #[arg(long, env = "VERDICT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    worker: WorkerOptions,
    #[command(flatten)]
    nats: NatsOptions,
    /// Address of the Prometheus endpoint; off when not given.
    #[arg(long, env = "VERDICT_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

pub type Backends = (Arc<dyn JobQueue>, Arc<dyn SubmissionStore>);

/// Connects to NATS JetStream, creating the stream, consumer and buckets
/// when missing.
pub async fn connect_nats(url: &str, ack_wait: Duration) -> Result<Backends> {
    let config = verdict_queue::nats::NatsConfig {
        url: url.to_owned(),
        ack_wait,
        ..Default::default()
    };
    verdict_queue::nats::connect(&config)
        .await
        .with_context(|| format!("connecting to NATS at {url}"))
}

/// In-process queue and store for a single machine.
pub fn embedded_backends(ack_wait: Duration) -> Backends {
    verdict_queue::embedded::embedded(verdict_queue::embedded::EmbeddedConfig { ack_wait })
}

/// Builds a worker from the command-line options.
pub fn build_worker(
    options: &WorkerOptions,
    ack_wait: Duration,
    backends: &Backends,
) -> Result<Worker> {
    let slots = options.slots.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    let id = options.worker_id.clone().unwrap_or_else(default_worker_id);
    let config = WorkerConfig {
        id,
        slots,
        state_dir: options.state_dir.clone(),
        max_attempts: options.max_attempts,
        ack_interval: ack_wait / 3,
        drain_timeout: Duration::from_secs(options.drain_timeout),
        langpack_roots: options.langpack_roots.iter().cloned().collect(),
    };
    Worker::new(config, backends.0.clone(), backends.1.clone()).with_context(|| {
        format!(
            "starting the worker with state dir {}",
            options.state_dir.display()
        )
    })
}

fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Returns a token cancelled on SIGINT or SIGTERM.
pub fn shutdown_on_signal() -> Result<CancellationToken> {
    use tokio::signal::unix::{signal, SignalKind};
    let token = CancellationToken::new();
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, draining"),
            _ = int.recv() => tracing::info!("SIGINT received, draining"),
        }
        cancel.cancel();
    });
    Ok(token)
}

async fn run_scheduler(
    options: &SchedulerOptions,
    backends: &Backends,
    shutdown: CancellationToken,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding the gRPC listener to {}", options.listen))?;
    let service = GraderService::new(
        backends.0.clone(),
        backends.1.clone(),
        SchedulerConfig::default(),
    );
    verdict_scheduler::serve(listener, service, shutdown)
        .await
        .context("serving gRPC")
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    if let Some(addr) = args.metrics_listen {
        telemetry::install_metrics(addr)?;
    }
    let ack_wait = Duration::from_secs(args.ack_wait);
    let backends = match &args.nats {
        Some(url) => connect_nats(url, ack_wait).await?,
        None => embedded_backends(ack_wait),
    };
    let shutdown = shutdown_on_signal()?;
    let worker = build_worker(&args.worker, ack_wait, &backends)?;
    let worker_task = tokio::spawn(worker.run(shutdown.clone()));
    let served = run_scheduler(&args.scheduler, &backends, shutdown.clone()).await;
    // The scheduler only returns on shutdown or failure; either way the
    // worker must drain before the process exits.
    shutdown.cancel();
    let drained = worker_task.await.context("the worker task panicked")?;
    served?;
    drained.context("running the worker")
}

pub async fn scheduler(args: SchedulerArgs) -> Result<()> {
    if let Some(addr) = args.metrics_listen {
        telemetry::install_metrics(addr)?;
    }
    let backends = connect_nats(&args.nats.url, Duration::from_secs(args.nats.ack_wait)).await?;
    let shutdown = shutdown_on_signal()?;
    run_scheduler(&args.scheduler, &backends, shutdown).await
}

pub async fn worker(args: WorkerArgs) -> Result<()> {
    if let Some(addr) = args.metrics_listen {
        telemetry::install_metrics(addr)?;
    }
    let ack_wait = Duration::from_secs(args.nats.ack_wait);
    let backends = connect_nats(&args.nats.url, ack_wait).await?;
    let shutdown = shutdown_on_signal()?;
    let worker = build_worker(&args.worker, ack_wait, &backends)?;
    worker.run(shutdown).await.context("running the worker")
}
