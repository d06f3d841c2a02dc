//! Generates the Rust types and tonic service code from `verdict/v1/*.proto`.
//!
//! protoc comes from the `protoc-bin-vendored` crate unless `PROTOC` is set,
//! so a fresh machine needs no system package to build.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        PathBuf::from("verdict/v1/grader.proto"),
        PathBuf::from("verdict/v1/internal.proto"),
    ];
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }
    println!("cargo:rerun-if-env-changed=PROTOC");

    let protoc = match std::env::var_os("PROTOC") {
        Some(path) => PathBuf::from(path),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    let well_known = protoc_bin_vendored::include_path()?;
    let descriptor = PathBuf::from(std::env::var("OUT_DIR")?).join("verdict_descriptor.bin");

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(descriptor)
        .compile_with_config(config, &protos, &[PathBuf::from("."), well_known])?;
    Ok(())
}
