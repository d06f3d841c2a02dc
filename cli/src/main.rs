//! The `verdict` binary: the all-in-one server, the scheduler and worker
//! processes, a streaming client, and the problem-package judge.

mod image;
mod judge;
mod langpacks;
mod problem;
mod report;
mod sandbox_cmd;
mod serve;
mod submit;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "verdict",
    version,
    about = "Distributed code-execution grading service"
)]
struct Cli {
    /// Log line format on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "VERDICT_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs scheduler and workers in one process: in-process queue and store
    /// by default, NATS JetStream with --nats.
    Serve(serve::ServeArgs),
    /// Runs the gRPC scheduler alone; workers run as separate processes.
    Scheduler(serve::SchedulerArgs),
    /// Runs a worker that pulls jobs from NATS JetStream.
    Worker(serve::WorkerArgs),
    /// Submits a program to a running server and prints one row per test as
    /// results stream in. Exits 0 when accepted, 2 on another verdict, 1 on
    /// errors.
    Submit(submit::SubmitArgs),
    /// Prints a submission's results by id, following it until it is final.
    Watch(submit::WatchArgs),
    /// Grades every submission of a problem package (or of every package in
    /// a directory) in-process and checks it against its expected verdict.
    Judge(judge::JudgeArgs),
    /// Lists, tests and builds root images of the language packs.
    Langpacks {
        #[command(subcommand)]
        command: langpacks::LangpacksCommand,
    },
    /// Runs single commands in the sandbox.
    Sandbox {
        #[command(subcommand)]
        command: sandbox_cmd::SandboxCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(
        cli.command,
        Command::Submit(_)
            | Command::Watch(_)
            | Command::Judge(_)
            | Command::Langpacks { .. }
            | Command::Sandbox { .. }
    );
    telemetry::init_logging(cli.log_format, if quiet { "warn" } else { "info" });

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the tokio runtime failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::serve(args).await.map(|()| ExitCode::SUCCESS),
            Command::Scheduler(args) => serve::scheduler(args).await.map(|()| ExitCode::SUCCESS),
            Command::Worker(args) => serve::worker(args).await.map(|()| ExitCode::SUCCESS),
            Command::Submit(args) => submit::run(args).await,
            Command::Watch(args) => submit::watch(args).await,
            Command::Judge(args) => judge::run(args).await,
            Command::Langpacks { command } => langpacks::run(command).await,
            Command::Sandbox { command } => sandbox_cmd::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
