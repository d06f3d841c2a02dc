//! In-process job queue with at-least-once delivery.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use prost::Message as _;
use tokio::sync::Notify;
use tokio::time::Instant;
use verdict_proto::v1::Job;

use crate::keys::check_job;
use crate::{Delivery, JobQueue, Published, QueueError};

/// Job queue held in memory, which delivers jobs oldest first. A delivery
/// that is neither acknowledged nor handed back within the ack wait is
/// delivered again with the next attempt number. A delivery dropped without
/// `ack` or `nak` goes back at once.
///
/// Submission ids de-duplicate for the lifetime of the queue, so the set of
/// ids seen grows by one short string per job.
pub struct EmbeddedQueue {
    shared: Arc<Shared>,
    max_job_bytes: usize,
}

/// Largest encoded job `EmbeddedQueue` accepts by default, in bytes: the
/// `max_payload` of the NATS servers that Verdict's deployment and tests
/// configure, so that a job accepted here is accepted there too.
pub const DEFAULT_MAX_JOB_BYTES: usize = 8 * 1024 * 1024;

struct Shared {
    ack_wait: Duration,
    state: Mutex<State>,
    /// Woken when a job becomes ready: published, handed back or dropped.
    ready_changed: Notify,
}

#[derive(Default)]
struct State {
    /// Sequence number of the last job published, which orders delivery.
    last_sequence: u64,
    /// Number of the last delivery handed out, to tell a current delivery
    /// from an expired one.
    last_delivery: u64,
    published_ids: HashSet<String>,
    ready: BTreeMap<u64, Waiting>,
    in_flight: HashMap<u64, InFlight>,
}

struct Waiting {
    job: Arc<Job>,
    /// Deliveries made so far.
    deliveries: u32,
    /// Set by a `nak` with a delay.
    not_before: Instant,
}

struct InFlight {
    job: Arc<Job>,
    deliveries: u32,
    delivery: u64,
    deadline: Instant,
}

impl EmbeddedQueue {
    /// Creates an empty queue that accepts jobs up to
    /// `DEFAULT_MAX_JOB_BYTES`.
    pub fn new(ack_wait: Duration) -> EmbeddedQueue {
        EmbeddedQueue {
            shared: Arc::new(Shared {
                ack_wait,
                state: Mutex::new(State::default()),
                ready_changed: Notify::new(),
            }),
            max_job_bytes: DEFAULT_MAX_JOB_BYTES,
        }
    }

    /// Sets the largest encoded job `publish` accepts, in bytes.
    pub fn with_max_job_bytes(mut self, max_job_bytes: usize) -> EmbeddedQueue {
        self.max_job_bytes = max_job_bytes;
        self
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the maps half
        // updated, because each operation changes them in one step.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Moves deliveries whose ack wait has passed back to the ready jobs.
    fn expire_deliveries(&mut self, now: Instant) {
        let expired: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, in_flight)| in_flight.deadline <= now)
            .map(|(sequence, _)| *sequence)
            .collect();
        for sequence in expired {
            if let Some(in_flight) = self.in_flight.remove(&sequence) {
                tracing::warn!(
                    submission = %in_flight.job.submission_id,
                    attempt = in_flight.deliveries,
                    "job not acknowledged within the ack wait; delivering it again"
                );
                self.requeue(sequence, in_flight, now);
            }
        }
    }

    fn requeue(&mut self, sequence: u64, in_flight: InFlight, not_before: Instant) {
        let waiting = Waiting {
            job: in_flight.job,
            deliveries: in_flight.deliveries,
            not_before,
        };
        self.ready.insert(sequence, waiting);
    }

    /// Takes the oldest job that may be delivered now and marks it in
    /// flight until `now + ack_wait`.
    fn take_ready(&mut self, now: Instant, ack_wait: Duration) -> Option<(u64, InFlight)> {
        let sequence = self
            .ready
            .iter()
            .find(|(_, waiting)| waiting.not_before <= now)
            .map(|(sequence, _)| *sequence)?;
        let waiting = self.ready.remove(&sequence)?;

        self.last_delivery += 1;
        let in_flight = InFlight {
            job: waiting.job,
            deliveries: waiting.deliveries.saturating_add(1),
            delivery: self.last_delivery,
            deadline: now + ack_wait,
        };
        let handed_out = InFlight {
            job: in_flight.job.clone(),
            ..in_flight
        };
        self.in_flight.insert(sequence, in_flight);
        Some((sequence, handed_out))
    }

    /// Earliest moment at which a job may become deliverable without a
    /// notification: an ack wait ending or a `nak` delay passing.
    fn next_change(&self, now: Instant) -> Option<Instant> {
        let deadlines = self.in_flight.values().map(|in_flight| in_flight.deadline);
        let delays = self
            .ready
            .values()
            .map(|waiting| waiting.not_before)
            .filter(|not_before| *not_before > now);
        deadlines.chain(delays).min()
    }
}

#[async_trait]
impl JobQueue for EmbeddedQueue {
    async fn publish(&self, job: &Job) -> Result<Published, QueueError> {
        check_job(job)?;
        let size = job.encoded_len();
        if size > self.max_job_bytes {
            return Err(QueueError::TooLarge {
                submission_id: job.submission_id.clone(),
                size,
                max: self.max_job_bytes,
            });
        }

        let mut state = self.shared.lock();
        if !state.published_ids.insert(job.submission_id.clone()) {
            tracing::debug!(submission = %job.submission_id, "duplicate job not queued");
            return Ok(Published { duplicate: true });
        }

        state.last_sequence += 1;
        let sequence = state.last_sequence;
        let waiting = Waiting {
            job: Arc::new(job.clone()),
            deliveries: 0,
            not_before: Instant::now(),
        };
        state.ready.insert(sequence, waiting);
        drop(state);

        self.shared.ready_changed.notify_waiters();
        Ok(Published { duplicate: false })
    }

    async fn pull(&self, wait: Duration) -> Result<Option<Box<dyn Delivery>>, QueueError> {
        let deadline = Instant::now() + wait;
        // Each pass either returns or sleeps until something can change, and
        // the loop ends at `deadline` at the latest.
        loop {
            // Registered before the state is read, so a publish between the
            // read and the wait still wakes this pull.
            let mut notified = pin!(self.shared.ready_changed.notified());
            notified.as_mut().enable();

            let now = Instant::now();
            let wake_at = {
                let mut state = self.shared.lock();
                state.expire_deliveries(now);
                if let Some((sequence, in_flight)) = state.take_ready(now, self.shared.ack_wait) {
                    let delivery = EmbeddedDelivery {
                        shared: self.shared.clone(),
                        sequence,
                        delivery: in_flight.delivery,
                        attempt: in_flight.deliveries,
                        job: in_flight.job,
                        settled: Mutex::new(false),
                    };
                    return Ok(Some(Box::new(delivery)));
                }
                state
                    .next_change(now)
                    .map_or(deadline, |next| next.min(deadline))
            };
            if now >= deadline {
                return Ok(None);
            }

            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let state = self.shared.lock();
        Ok((state.ready.len() + state.in_flight.len()) as u64)
    }
}

/// One delivery from an `EmbeddedQueue`.
///
/// `ack` removes the job even when this delivery has expired and the job
/// was delivered again, as a JetStream ack does. `in_progress` and `nak`
/// act only while this is the job's current delivery.
struct EmbeddedDelivery {
    shared: Arc<Shared>,
    sequence: u64,
    delivery: u64,
    attempt: u32,
    job: Arc<Job>,
    /// True once `ack` or `nak` was called, so that drop does not requeue.
    settled: Mutex<bool>,
}

impl EmbeddedDelivery {
    fn settle(&self) -> bool {
        let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *settled, true)
    }

    /// Hands the job back if this is still its current delivery.
    fn hand_back(&self, delay: Duration) -> bool {
        let mut state = self.shared.lock();
        let current = state
            .in_flight
            .get(&self.sequence)
            .is_some_and(|in_flight| in_flight.delivery == self.delivery);
        if !current {
            return false;
        }
        if let Some(in_flight) = state.in_flight.remove(&self.sequence) {
            state.requeue(self.sequence, in_flight, Instant::now() + delay);
        }
        drop(state);
        self.shared.ready_changed.notify_waiters();
        true
    }
}

#[async_trait]
impl Delivery for EmbeddedDelivery {
    fn job(&self) -> &Job {
        &self.job
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn in_progress(&self) -> Result<(), QueueError> {
        if *self.settled.lock().unwrap_or_else(|p| p.into_inner()) {
            tracing::debug!(
                submission = %self.job.submission_id,
                "in-progress report after ack or nak ignored"
            );
            return Ok(());
        }
        let mut state = self.shared.lock();
        match state.in_flight.get_mut(&self.sequence) {
            Some(in_flight) if in_flight.delivery == self.delivery => {
                in_flight.deadline = Instant::now() + self.shared.ack_wait;
            }
            // Like JetStream, a progress report for an expired delivery is
            // accepted and does nothing.
            _ => tracing::warn!(
                submission = %self.job.submission_id,
                attempt = self.attempt,
                "in-progress report for a delivery that already expired"
            ),
        }
        Ok(())
    }

    async fn ack(&self) -> Result<(), QueueError> {
        self.settle();
        let mut state = self.shared.lock();
        state.in_flight.remove(&self.sequence);
        state.ready.remove(&self.sequence);
        Ok(())
    }

    async fn nak(&self, delay: Option<Duration>) -> Result<(), QueueError> {
        if self.settle() {
            return Ok(());
        }
        if !self.hand_back(delay.unwrap_or_default()) {
            tracing::warn!(
                submission = %self.job.submission_id,
                attempt = self.attempt,
                "nak for a delivery that already expired; nothing to hand back"
            );
        }
        Ok(())
    }
}

impl Drop for EmbeddedDelivery {
    fn drop(&mut self) {
        if self.settle() {
            return;
        }
        // A dropped delivery means its worker task ended without a result,
        // so the job goes back at once instead of after the ack wait.
        if self.hand_back(Duration::ZERO) {
            tracing::warn!(
                submission = %self.job.submission_id,
                attempt = self.attempt,
                "delivery dropped without ack or nak; job queued again"
            );
        }
    }
}
