//! `verdict submit`: a gRPC client that submits a program and prints one
//! row per test as the results stream in.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use tonic_types::StatusExt;
use verdict_proto::v1::grader_client::GraderClient;
use verdict_proto::v1::{
    checker, submission_event, Checker, ExactChecker, FloatChecker, Limits, SourceFile,
    SubmissionEvent, SubmitRequest, TestCase, TokensChecker, Verdict, WatchSubmissionRequest,
};

use crate::{problem, report};

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// gRPC address of a scheduler or of `verdict serve`.
    #[arg(long, default_value = "http://127.0.0.1:50051", env = "VERDICT_SERVER")]
    server: String,
    /// Language id (see `ListLanguages`); guessed from the first file's
    /// extension when not given.
    #[arg(long)]
    language: Option<String>,
    /// Problem package whose data/sample and data/secret tests, limits and
    /// validator flags are used.
    #[arg(long, conflicts_with = "tests")]
    problem: Option<PathBuf>,
    /// Directory of NAME.in / NAME.ans test pairs.
    #[arg(long)]
    tests: Option<PathBuf>,
    /// CPU time limit per test in milliseconds; overrides the problem's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    time_limit_ms: Option<u32>,
    /// Memory limit per test in MiB; overrides the problem's.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    memory_mib: Option<u64>,
    /// Output checker: tokens, tokens-ci (case-insensitive), exact, or
    /// float:TOLERANCE (absolute and relative). Overrides the problem's.
    #[arg(long)]
    checker: Option<String>,
    /// Re-submitting with the same key returns the first submission.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Stop after the first test that is not accepted.
    #[arg(long)]
    stop_on_first_failure: bool,
    /// Print the submission id and exit without waiting for results.
    #[arg(long)]
    detach: bool,
    /// Source files; the first is the main file.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Exit codes: 0 accepted, 2 graded with another verdict, 1 on errors.
pub async fn run(args: SubmitArgs) -> Result<ExitCode> {
    let request = build_request(&args)?;
    let mut client = connect(&args.server).await?;

    if args.detach {
        let response = client.submit(request).await.map_err(describe_status)?;
        let response = response.into_inner();
        println!("{}", response.submission_id);
        if response.duplicate {
            eprintln!("an earlier submission with this idempotency key was returned");
        }
        eprintln!("follow it with: verdict watch {}", response.submission_id);
        return Ok(ExitCode::SUCCESS);
    }

    let events = client
        .grade(request)
        .await
        .map_err(describe_status)?
        .into_inner();
    print_events(events).await
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// gRPC address of a scheduler or of `verdict serve`.
    #[arg(long, default_value = "http://127.0.0.1:50051", env = "VERDICT_SERVER")]
    server: String,
    /// Submission id, as printed by `verdict submit --detach`.
    submission_id: String,
}

/// Prints an existing submission's results, following it until it is
/// final. Exit codes as for `submit`.
pub async fn watch(args: WatchArgs) -> Result<ExitCode> {
    let mut client = connect(&args.server).await?;
    let events = client
        .watch_submission(WatchSubmissionRequest {
            submission_id: args.submission_id.clone(),
        })
        .await
        .map_err(describe_status)?
        .into_inner();
    print_events(events).await
}

async fn connect(server: &str) -> Result<GraderClient<tonic::transport::Channel>> {
    let client = GraderClient::connect(server.to_owned())
        .await
        .with_context(|| {
            format!(
                "connecting to {server} failed; check that `verdict serve` or a scheduler \
                 listens there, and give --server as a URL such as http://127.0.0.1:50051"
            )
        })?;
    Ok(client
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024))
}

/// Prints one row per finished test and a summary line. Exit codes: 0
/// accepted, 2 graded with another verdict.
async fn print_events(mut events: tonic::Streaming<SubmissionEvent>) -> Result<ExitCode> {
    let mut printed_header = false;
    while let Some(event) = events.message().await.map_err(describe_status)? {
        match event.event {
            Some(submission_event::Event::StatusChanged(change)) => {
                eprintln!(
                    "{}: {}",
                    event.submission_id,
                    report::status_name(change.status())
                );
            }
            Some(submission_event::Event::Compiled(compiled)) if !compiled.success => {
                println!("compilation failed:\n{}", compiled.output);
            }
            Some(submission_event::Event::TestFinished(test)) => {
                if !printed_header {
                    println!("{}", report::test_header());
                    printed_header = true;
                }
                println!("{}", report::test_row(&test));
            }
            Some(submission_event::Event::Finished(submission)) => {
                println!("{}", report::summary(&submission));
                let accepted = submission.verdict() == Verdict::Accepted;
                return Ok(if accepted {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                });
            }
            Some(submission_event::Event::Compiled(_)) | None => {}
        }
    }
    bail!("the server closed the stream before the submission finished")
}

fn build_request(args: &SubmitArgs) -> Result<SubmitRequest> {
    let language = match &args.language {
        Some(language) => language.clone(),
        None => guess_language(&args.files[0])?,
    };
    let mut sources = Vec::new();
    for path in &args.files {
        let content = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .with_context(|| format!("{} has no file name", path.display()))?
            .to_string_lossy()
            .into_owned();
        sources.push(SourceFile { name, content });
    }

    let (mut limits, mut checker, tests) = match (&args.problem, &args.tests) {
        (Some(dir), _) => {
            let problem = problem::load(dir, &["sample", "secret"])?;
            (problem.limits, Some(problem.checker), problem.tests)
        }
        (None, Some(dir)) => (Limits::default(), None, load_test_dir(dir)?),
        (None, None) => bail!("give the tests with --problem DIR or --tests DIR"),
    };
    if let Some(ms) = args.time_limit_ms {
        limits.cpu_time_ms = ms;
    }
    if let Some(mib) = args.memory_mib {
        limits.memory_bytes = mib * 1024 * 1024;
    }
    if let Some(spec) = &args.checker {
        checker = Some(parse_checker(spec)?);
    }
    Ok(SubmitRequest {
        language,
        sources,
        tests,
        limits: Some(limits),
        checker,
        idempotency_key: args.idempotency_key.clone().unwrap_or_default(),
        stop_on_first_failure: args.stop_on_first_failure,
    })
}

fn load_test_dir(dir: &Path) -> Result<Vec<TestCase>> {
    if !dir.is_dir() {
        bail!("--tests {}: no such directory", dir.display());
    }
    let tests = problem::load_tests(dir, "test")?;
    if tests.is_empty() {
        bail!(
            "--tests {}: no NAME.in / NAME.ans test pairs found",
            dir.display()
        );
    }
    Ok(tests)
}

/// Finds the language of a source file from its extension.
pub fn guess_language(path: &Path) -> Result<String> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    match verdict_langpacks::for_extension(&extension) {
        Some(pack) => Ok(pack.id),
        None => bail!(
            "cannot tell the language of {} from its extension {extension:?}; pass --language",
            path.display()
        ),
    }
}

fn parse_checker(spec: &str) -> Result<Checker> {
    let kind = match spec {
        "tokens" => checker::Kind::Tokens(TokensChecker {
            case_sensitive: true,
        }),
        "tokens-ci" => checker::Kind::Tokens(TokensChecker {
            case_sensitive: false,
        }),
        "exact" => checker::Kind::Exact(ExactChecker {}),
        _ => match spec.strip_prefix("float:") {
            Some(tolerance) => {
                let tolerance: f64 = tolerance
                    .parse()
                    .with_context(|| format!("--checker {spec}: the tolerance is not a number"))?;
                checker::Kind::Float(FloatChecker {
                    absolute_tolerance: tolerance,
                    relative_tolerance: tolerance,
                })
            }
            None => bail!("--checker {spec}: expected tokens, tokens-ci, exact or float:TOLERANCE"),
        },
    };
    Ok(Checker { kind: Some(kind) })
}

/// Turns a gRPC status into an error; a rejected request lists each
/// invalid field once.
fn describe_status(status: tonic::Status) -> anyhow::Error {
    if let Some(bad_request) = status.get_details_bad_request() {
        let mut message = String::from("the server rejected the request:");
        for violation in bad_request.field_violations {
            message.push_str(&format!(
                "\n  {}: {}",
                violation.field, violation.description
            ));
        }
        return anyhow::anyhow!(message);
    }
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}
