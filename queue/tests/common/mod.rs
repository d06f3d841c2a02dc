//! Backends for the integration tests: the embedded one, and the NATS one
//! against a real nats-server started per test.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use verdict_proto::v1::{Job, Submission, SubmitRequest, TestCase};
use verdict_queue::embedded::{EmbeddedQueue, EmbeddedStore};
use verdict_queue::nats::NatsConfig;
use verdict_queue::testing::NatsServer;
use verdict_queue::{JobQueue, SubmissionStore};

/// Ack wait of both backends in tests, short so redelivery tests are quick.
pub const ACK_WAIT: Duration = Duration::from_secs(1);

/// Worker TTL of both backends in tests.
pub const WORKER_TTL: Duration = Duration::from_secs(1);

/// Upper bound for any wait that should end much sooner.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct Backend {
    pub queue: Arc<dyn JobQueue>,
    pub store: Arc<dyn SubmissionStore>,
    /// Config the NATS backend was built with, `None` for embedded.
    pub nats_config: Option<NatsConfig>,
    /// Keeps the server running for the test's duration.
    pub server: Option<NatsServer>,
}

impl Backend {
    pub fn embedded() -> Backend {
        Backend {
            queue: Arc::new(EmbeddedQueue::new(ACK_WAIT)),
            store: Arc::new(EmbeddedStore::new(WORKER_TTL)),
            nats_config: None,
            server: None,
        }
    }

    pub async fn nats() -> Backend {
        let server = NatsServer::start();
        let config = NatsConfig {
            url: server.url(),
            ack_wait: ACK_WAIT,
            worker_ttl: WORKER_TTL,
            ..Default::default()
        };
        let (queue, store) = verdict_queue::nats::connect(&config)
            .await
            .expect("connecting to the test nats-server");
        Backend {
            queue,
            store,
            nats_config: Some(config),
            server: Some(server),
        }
    }
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn job(language: &str) -> Job {
    Job {
        submission_id: new_id(),
        request: Some(SubmitRequest {
            language: language.to_owned(),
            tests: vec![TestCase {
                name: "sample".to_owned(),
                input: b"1 2\n".to_vec(),
                expected_output: b"3\n".to_vec(),
                points: 1,
            }],
            ..Default::default()
        }),
        enqueued_at: None,
    }
}

pub fn submission() -> Submission {
    Submission {
        id: new_id(),
        language: "python3".to_owned(),
        test_count: 1,
        ..Default::default()
    }
}
