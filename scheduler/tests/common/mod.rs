//! A real scheduler on 127.0.0.1:0 over the embedded queue and store,
//! with a tonic client connected to it.

#![allow(dead_code)] // Each test binary uses a different part of this.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};
use verdict_proto::v1::grader_client::GraderClient;
use verdict_proto::v1::{Limits, SourceFile, Submission, SubmitRequest, TestCase};
use verdict_queue::embedded::{embedded, EmbeddedConfig};
use verdict_queue::{JobQueue, SubmissionStore};
use verdict_scheduler::{serve, GraderService, SchedulerConfig, ServeError};

/// Upper bound for any single wait in these tests.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Harness {
    pub address: SocketAddr,
    pub channel: Channel,
    pub client: GraderClient<Channel>,
    pub queue: Arc<dyn JobQueue>,
    pub store: Arc<dyn SubmissionStore>,
    pub shutdown: CancellationToken,
    pub server: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Harness {
    pub async fn start() -> Self {
        let (queue, store) = embedded(EmbeddedConfig {
            ack_wait: Duration::from_secs(30),
        });
        Self::start_with(queue, store).await
    }

    pub async fn start_with(queue: Arc<dyn JobQueue>, store: Arc<dyn SubmissionStore>) -> Self {
        let config = SchedulerConfig {
            languages: vec!["cpp17".to_owned(), "python3".to_owned()],
            health_interval: Duration::from_millis(50),
            ..Default::default()
        };
        let service = GraderService::new(queue.clone(), store.clone(), config);

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let address = listener.local_addr().expect("listener address");
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve(listener, service, shutdown.clone()));

        let channel = Endpoint::from_shared(format!("http://{address}"))
            .expect("endpoint URL")
            .timeout(TIMEOUT)
            .connect()
            .await
            .expect("connecting to the scheduler");
        Self {
            address,
            client: GraderClient::new(channel.clone()),
            channel,
            queue,
            store,
            shutdown,
            server: Some(server),
        }
    }

    /// Plays the worker's part: applies `change` to the stored submission.
    pub async fn update(&self, id: &str, change: impl FnOnce(&mut Submission)) {
        let mut current = self
            .store
            .get(id)
            .await
            .expect("store get")
            .unwrap_or_else(|| panic!("submission {id} is not stored"));
        change(&mut current.value);
        self.store
            .update(&current.value, current.revision)
            .await
            .expect("store update");
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Builds a request that passes validation: python3, three tests.
pub fn valid_request() -> SubmitRequest {
    SubmitRequest {
        language: "python3".to_owned(),
        sources: vec![SourceFile {
            name: "main.py".to_owned(),
            content: b"print(int(input()) * 2)\n".to_vec(),
        }],
        tests: (1..=3)
            .map(|n| TestCase {
                name: String::new(),
                input: format!("{n}\n").into_bytes(),
                expected_output: format!("{}\n", n * 2).into_bytes(),
                points: 0,
            })
            .collect(),
        limits: Some(Limits::default()),
        ..Default::default()
    }
}
