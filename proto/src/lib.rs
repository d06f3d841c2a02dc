//! Generated protocol buffer types of Verdict (package `verdict.v1`).
//!
//! `grader.proto` is the public gRPC API; `internal.proto` holds the queue
//! payload and the worker announcement that only scheduler and workers
//! exchange. This crate contains no logic beyond the generated code.

pub mod v1 {
    tonic::include_proto!("verdict.v1");
}

/// Encoded `FileDescriptorSet` of every Verdict proto, for gRPC server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("verdict_descriptor");
