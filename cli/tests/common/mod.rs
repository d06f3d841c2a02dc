//! Test harness: a real nats-server on a free loopback port, a scheduler
//! serving gRPC on 127.0.0.1:0, and workers with the real sandbox, all
//! started the way the `verdict` binary starts them.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use verdict_proto::v1::grader_client::GraderClient;
use verdict_proto::v1::{
    submission_event, Limits, SourceFile, Submission, SubmitRequest, TestCase,
};
use verdict_queue::testing::NatsServer;
use verdict_queue::{JobQueue, SubmissionStore};
use verdict_scheduler::{GraderService, SchedulerConfig};
use verdict_worker::{Worker, WorkerConfig};

pub type Client = GraderClient<tonic::transport::Channel>;

/// Ack wait used by the tests: short, so that a killed worker's job comes
/// back quickly, but well above the worker's progress interval.
pub const ACK_WAIT: Duration = Duration::from_secs(4);

pub fn require_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "these tests drive the real sandbox and must run as root"
    );
}

pub struct Cluster {
    pub nats: NatsServer,
    pub queue: Arc<dyn JobQueue>,
    pub store: Arc<dyn SubmissionStore>,
    pub address: SocketAddr,
    shutdown: CancellationToken,
    scheduler: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
    state_dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    /// Starts NATS and a scheduler; no workers yet.
    pub async fn start() -> Cluster {
        let nats = NatsServer::start();
        let config = verdict_queue::nats::NatsConfig {
            url: nats.url(),
            ack_wait: ACK_WAIT,
            ..Default::default()
        };
        let (queue, store) = verdict_queue::nats::connect(&config)
            .await
            .expect("connecting to the test nats-server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let service = GraderService::new(queue.clone(), store.clone(), SchedulerConfig::default());
        let token = shutdown.clone();
        let scheduler = tokio::spawn(async move {
            verdict_scheduler::serve(listener, service, token)
                .await
                .expect("scheduler failed");
        });
        Cluster {
            nats,
            queue,
            store,
            address,
            shutdown,
            scheduler,
            workers: Vec::new(),
            state_dirs: Vec::new(),
        }
    }

    /// Starts an in-process worker with its own NATS connection.
    pub async fn add_worker(&mut self, id: &str, slots: u32) {
        let config = verdict_queue::nats::NatsConfig {
            url: self.nats.url(),
            ack_wait: ACK_WAIT,
            ..Default::default()
        };
        let (queue, store) = verdict_queue::nats::connect(&config).await.unwrap();
        let state = tempfile::tempdir().unwrap();
        let worker = Worker::new(
            WorkerConfig {
                id: id.to_owned(),
                slots,
                state_dir: state.path().to_path_buf(),
                max_attempts: 3,
                ack_interval: ACK_WAIT / 4,
                drain_timeout: Duration::from_secs(10),
                langpack_roots: Default::default(),
            },
            queue,
            store,
        )
        .expect("starting a worker with the real sandbox");
        let token = self.shutdown.clone();
        self.workers.push(tokio::spawn(async move {
            worker.run(token).await.expect("worker failed");
        }));
        self.state_dirs.push(state);
    }

    pub async fn client(&self) -> Client {
        GraderClient::connect(format!("http://{}", self.address))
            .await
            .expect("connecting to the scheduler")
            .max_decoding_message_size(64 * 1024 * 1024)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        for worker in self.workers {
            tokio::time::timeout(Duration::from_secs(30), worker)
                .await
                .expect("worker did not drain within 30 s")
                .unwrap();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.scheduler).await;
    }
}

/// A `verdict worker` child process, killed on drop.
pub struct WorkerProcess {
    pub child: Child,
}

impl WorkerProcess {
    /// Starts `verdict worker` with one slot on `state_dir`.
    pub fn spawn(nats_url: &str, id: &str, state_dir: &std::path::Path) -> WorkerProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_verdict"))
            .args([
                "worker",
                "--nats",
                nats_url,
                "--slots",
                "1",
                "--worker-id",
                id,
            ])
            .arg("--ack-wait")
            .arg(ACK_WAIT.as_secs().to_string())
            .arg("--state-dir")
            .arg(state_dir)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawning verdict worker");
        WorkerProcess { child }
    }

    /// Kills the process with SIGKILL, like a machine losing power.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits up to 30 s for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill with the pid of a child we started and have not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "worker did not exit within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.to_owned(),
        content: text.as_bytes().to_vec(),
    }
}

pub fn test_case(input: &str, expected: &str) -> TestCase {
    TestCase {
        name: String::new(),
        input: input.as_bytes().to_vec(),
        expected_output: expected.as_bytes().to_vec(),
        points: 1,
    }
}

pub fn request(language: &str, file: SourceFile, tests: Vec<TestCase>) -> SubmitRequest {
    SubmitRequest {
        language: language.to_owned(),
        sources: vec![file],
        tests,
        limits: Some(Limits {
            cpu_time_ms: 1000,
            wall_time_ms: 3000,
            memory_bytes: 64 * 1024 * 1024,
            max_processes: 0,
            output_bytes: 1024 * 1024,
        }),
        checker: None,
        idempotency_key: String::new(),
        stop_on_first_failure: false,
    }
}

/// Grades through the `Grade` stream and returns the final submission.
pub async fn grade(client: &mut Client, request: SubmitRequest) -> Submission {
    let mut stream = client
        .grade(request)
        .await
        .expect("Grade rejected")
        .into_inner();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(remaining, stream.message())
            .await
            .expect("no final result within 240 s")
            .expect("Grade stream failed")
            .expect("Grade stream ended before the final result");
        if let Some(submission_event::Event::Finished(submission)) = event.event {
            return submission;
        }
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_verdict"))
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}
