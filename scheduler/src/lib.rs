//! The gRPC front door of Verdict (`verdict.v1.Grader`): validates
//! requests, assigns ids, stores the initial state, queues one job per
//! submission and serves results and watch streams from the store.
//!
//! The scheduler never runs untrusted code and keeps no state of its own:
//! everything lives in the `SubmissionStore`, so replicas are
//! interchangeable.
//!
//! Layout: `validate` checks and normalizes requests, `events` turns store
//! snapshots into watch events, `service` implements the RPCs, `server`
//! wires them into a tonic server with health checking and reflection,
//! and `metrics` lists every metric.

// CONTRACT (the CLI is written against these items):
//
// pub struct SchedulerConfig { pub limits: validate::RequestLimits, .. } + Default
// pub struct GraderService { .. }
// impl GraderService {
//     pub fn new(queue: Arc<dyn JobQueue>, store: Arc<dyn SubmissionStore>,
//                config: SchedulerConfig) -> Self;
//     /// The same validation and queueing as the Submit RPC, for in-process
//     /// callers such as `verdict judge`.
//     pub async fn submit(&self, request: SubmitRequest) -> Result<SubmitResponse, tonic::Status>;
// }
// /// Serves Grader, grpc.health.v1 and reflection (v1 and v1alpha) on the
// /// listener until `shutdown` is cancelled.
// pub async fn serve(listener: tokio::net::TcpListener, service: GraderService,
//                    shutdown: tokio_util::sync::CancellationToken) -> Result<(), ServeError>;
// pub mod metrics { pub fn describe(); }  // every metric with unit and labels

pub mod events;
pub mod metrics;
mod server;
mod service;
pub mod validate;

pub use events::{events_between, is_final};
pub use server::{serve, ServeError, GRADER_SERVICE_NAME};
pub use service::{GraderService, SchedulerConfig, WatchStream, CANCELLED_BY_CLIENT};
