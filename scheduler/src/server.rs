//! The tonic server: Grader, standard gRPC health checking and server
//! reflection, with graceful shutdown.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;
use tracing::{info, warn};
use verdict_proto::v1::grader_server::GraderServer;

use crate::service::GraderService;

/// Bytes allowed in a request beyond its tests, for sources (at most
/// 256 KiB by default) and the rest of the message.
const MESSAGE_OVERHEAD_BYTES: usize = 1024 * 1024;

/// Name of the Grader service in health checks: `verdict.v1.Grader`.
pub const GRADER_SERVICE_NAME: &str = <GraderServer<GraderService> as NamedService>::NAME;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read the listener's local address")]
    LocalAddress(#[source] std::io::Error),
    #[error("cannot build the reflection service from the embedded descriptor sets")]
    Reflection(#[source] tonic_reflection::server::Error),
    #[error("the gRPC server on {address} failed")]
    Transport {
        address: SocketAddr,
        #[source]
        source: tonic::transport::Error,
    },
}

/// Serves Grader, grpc.health.v1 and reflection (v1 and v1alpha) on the
/// listener until `shutdown` is cancelled, then stops accepting
/// connections, ends open watch streams and waits for in-flight calls.
///
/// Health: the overall service `""` is SERVING from the start. The named
/// service `verdict.v1.Grader` is SERVING only while the store and the
/// queue respond, checked every `SchedulerConfig::health_interval`, and
/// NOT_SERVING once shutdown begins.
pub async fn serve(
    listener: TcpListener,
    mut service: GraderService,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let address = listener.local_addr().map_err(ServeError::LocalAddress)?;
    service.end_streams_on(&shutdown);

    let (reporter, health_service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(GRADER_SERVICE_NAME, ServingStatus::NotServing)
        .await;

    let reflection_v1 = reflection_builder()
        .build_v1()
        .map_err(ServeError::Reflection)?;
    let reflection_v1alpha = reflection_builder()
        .build_v1alpha()
        .map_err(ServeError::Reflection)?;

    // A child token stops the health task when the server fails as well
    // as on shutdown.
    let health_stop = shutdown.child_token();
    let health_task = tokio::spawn(report_health(
        service.clone(),
        reporter,
        health_stop.clone(),
    ));

    let max_message_bytes = service.config().limits.max_total_test_bytes + MESSAGE_OVERHEAD_BYTES;
    let grader = GraderServer::new(service).max_decoding_message_size(max_message_bytes);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));

    info!(%address, max_message_bytes, "gRPC server started");
    let served = Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(grader)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await;

    health_stop.cancel();
    if let Err(error) = health_task.await {
        warn!(%error, "the health task panicked");
    }
    match served {
        Ok(()) => {
            info!(%address, "gRPC server stopped");
            Ok(())
        }
        Err(source) => Err(ServeError::Transport { address, source }),
    }
}

/// Reflection over the Verdict protos, grpc.health.v1 and
/// google.rpc (so clients can decode BadRequest details).
fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(verdict_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// Keeps the Grader's health status in step with its backends until
/// `stop` is cancelled, then sets NOT_SERVING. This task is the only
/// writer of the status, so a check that finishes during shutdown cannot
/// set SERVING after NOT_SERVING.
async fn report_health(service: GraderService, reporter: HealthReporter, stop: CancellationToken) {
    let interval = service.config().health_interval;
    let mut serving = false;
    loop {
        let checked = tokio::select! {
            () = stop.cancelled() => break,
            checked = service.check_backends() => checked,
        };
        match checked {
            Ok(()) if !serving => {
                info!(
                    service = GRADER_SERVICE_NAME,
                    "store and queue respond, serving"
                );
                reporter
                    .set_service_status(GRADER_SERVICE_NAME, ServingStatus::Serving)
                    .await;
                serving = true;
            }
            Err(reason) if serving => {
                warn!(service = GRADER_SERVICE_NAME, %reason, "backend check failed, not serving");
                reporter
                    .set_service_status(GRADER_SERVICE_NAME, ServingStatus::NotServing)
                    .await;
                serving = false;
            }
            Err(reason) => {
                warn!(service = GRADER_SERVICE_NAME, %reason, "backend check failed, still not serving");
            }
            Ok(()) => {}
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    reporter
        .set_service_status(GRADER_SERVICE_NAME, ServingStatus::NotServing)
        .await;
}
