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

pub mod events;
pub mod metrics;
mod server;
mod service;
pub mod validate;

pub use events::{events_between, is_final};
pub use server::{serve, ServeError, GRADER_SERVICE_NAME};
pub use service::{GraderService, SchedulerConfig, WatchStream, CANCELLED_BY_CLIENT};
