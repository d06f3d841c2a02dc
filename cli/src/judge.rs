//! `verdict judge`: grades every reference submission of one or more
//! problem packages in-process (embedded queue and store, real sandbox) and
//! checks each verdict against the folder the submission sits in.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use verdict_proto::v1::{SourceFile, Submission, SubmitRequest, Verdict};
use verdict_queue::SubmissionStore;
use verdict_scheduler::validate::RequestLimits;
use verdict_scheduler::{GraderService, SchedulerConfig};

use crate::problem::{self, ReferenceSubmission};
use crate::report;
use crate::serve::{self, WorkerOptions};

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// A problem package (a directory with problem.yaml), or a directory of
    /// packages.
    problem_dir: PathBuf,
    /// Only grade submissions whose path contains this text.
    #[arg(long)]
    filter: Option<String>,
    #[command(flatten)]
    worker: WorkerOptions,
}

/// One graded reference submission.
struct Row {
    problem: String,
    file: String,
    expected: Verdict,
    submission: Submission,
}

pub async fn run(args: JudgeArgs) -> Result<ExitCode> {
    let problems = problem::find_problems(&args.problem_dir)?;
    // Long enough that a slow compile never looks like a dead worker.
    let ack_wait = Duration::from_secs(60);
    let backends = serve::embedded_backends(ack_wait);
    // Problem packages carry larger tests than a gRPC client may send; the
    // embedded queue still caps a whole job at 8 MiB.
    let config = SchedulerConfig {
        limits: RequestLimits {
            max_test_bytes: 6 * 1024 * 1024,
            max_total_test_bytes: 6 * 1024 * 1024,
            ..RequestLimits::default()
        },
        ..SchedulerConfig::default()
    };
    let service = GraderService::new(backends.0.clone(), backends.1.clone(), config);
    let worker = serve::build_worker(&args.worker, ack_wait, &backends)?;
    let shutdown = CancellationToken::new();
    let worker_task = tokio::spawn(worker.run(shutdown.clone()));

    let mut pending = Vec::new();
    for dir in &problems {
        let problem = problem::load(dir, &["secret"])?;
        for reference in problem::reference_submissions(dir)? {
            let shown = display_path(&reference.path, dir);
            if let Some(filter) = &args.filter {
                if !reference.path.to_string_lossy().contains(filter.as_str()) {
                    continue;
                }
            }
            let request = request_for(&problem, &reference)?;
            let response = service
                .submit(request)
                .await
                .map_err(|status| anyhow::anyhow!("{}: {}", shown, status.message()))?;
            pending.push((
                problem.name.clone(),
                shown,
                reference.expected,
                response.submission_id,
            ));
        }
    }
    if pending.is_empty() {
        bail!(
            "no submissions to grade under {}: put them in PROBLEM/submissions/<expected verdict>/",
            args.problem_dir.display()
        );
    }

    let store = backends.1.clone();
    let mut rows = Vec::new();
    for (problem, file, expected, id) in pending {
        let submission = wait_final(store.as_ref(), &id).await?;
        let row = Row {
            problem,
            file,
            expected,
            submission,
        };
        println!("{}", format_row(&row));
        rows.push(row);
    }
    shutdown.cancel();
    worker_task
        .await
        .context("the worker task panicked")?
        .context("running the worker")?;

    let mismatches = rows.iter().filter(|row| !row_matches(row)).count();
    println!(
        "{} submissions, {} as expected, {} differ",
        rows.len(),
        rows.len() - mismatches,
        mismatches
    );
    Ok(if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn request_for(
    problem: &problem::Problem,
    reference: &ReferenceSubmission,
) -> Result<SubmitRequest> {
    let language = crate::submit::guess_language(&reference.path)?;
    let content = std::fs::read(&reference.path)
        .with_context(|| format!("reading {}", reference.path.display()))?;
    let name = reference
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    Ok(SubmitRequest {
        language,
        sources: vec![SourceFile { name, content }],
        tests: problem.tests.clone(),
        limits: Some(problem.limits),
        checker: Some(problem.checker),
        idempotency_key: String::new(),
        // Like problemtools and Kattis: grading stops at the first failure.
        stop_on_first_failure: true,
    })
}

/// Follows a submission in the store until it reaches a final state.
async fn wait_final(store: &dyn SubmissionStore, id: &str) -> Result<Submission> {
    let mut updates = store
        .watch(id)
        .await
        .with_context(|| format!("watching submission {id}"))?;
    while let Some(update) = updates.next().await {
        let update = update.with_context(|| format!("watching submission {id}"))?;
        if report::is_final(update.value.status()) {
            return Ok(update.value);
        }
    }
    bail!("the store stopped reporting submission {id} before it finished")
}

fn row_matches(row: &Row) -> bool {
    row.submission.verdict() == row.expected
}

fn format_row(row: &Row) -> String {
    let max_cpu = row
        .submission
        .tests
        .iter()
        .map(|t| t.cpu_time_ms)
        .max()
        .unwrap_or(0);
    let max_memory = row
        .submission
        .tests
        .iter()
        .map(|t| t.peak_memory_bytes)
        .max()
        .unwrap_or(0);
    let outcome = if row_matches(row) { "ok" } else { "MISMATCH" };
    let mut line = format!(
        "{:<16} {:<58} expected {:<4} got {:<4} {:>6} ms {:>7.1} MiB  {}",
        row.problem,
        row.file,
        report::code(row.expected),
        report::code(row.submission.verdict()),
        max_cpu,
        max_memory as f64 / (1024.0 * 1024.0),
        outcome
    );
    if !row_matches(row) && !row.submission.error.is_empty() {
        line.push_str(&format!(" ({})", row.submission.error));
    }
    line
}

fn display_path(path: &Path, problem_dir: &Path) -> String {
    path.strip_prefix(problem_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
