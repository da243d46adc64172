//! Running jobs: a background loop per process with bounded concurrency, and
//! `run_until_idle` for tests and commands.

use super::store::{self, JobRecord, Settlement};
use super::{Job, JobRun, JobStatus, Next, Outcome, RetryPolicy};
use crate::clock::Clock;
use crate::db::{AnyConnection, Pool};
use chrono::TimeDelta;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// How long a claimed job is held by its worker; a worker that dies loses
/// its jobs to another after this. Renewed before each external call.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);
/// How often an idle worker looks for due work nobody woke it for (jobs
/// whose time came, jobs from other processes).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Done jobs are kept this long (their dedupe keys with them), then deleted.
pub const KEEP_DONE: TimeDelta = TimeDelta::days(30);
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Recording an outcome is retried: a message sent whose outcome is lost
/// would be sent again after its lease.
const RECORD_TRIES: u32 = 4;

/// Every runner of this process waits on it besides its own `Wake`.
static LOCAL_WORK: Notify = Notify::const_new();

/// Wakes this process's idle runners: called once a transaction that queued
/// jobs has committed (see `db::after_commit`). Other processes find the work
/// at their next poll.
pub fn wake_local_runners() {
    LOCAL_WORK.notify_waiters();
}

/// Wakes one runner at once (instead of waiting for its next poll).
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

type OnDead = Box<dyn Fn(&mut AnyConnection, &str) -> diesel::QueryResult<()> + Send + Sync>;

/// One run's result, with what the kind says about retrying and dying.
struct Ran {
    outcome: Outcome,
    policy: RetryPolicy,
    on_dead: Option<OnDead>,
}

type Handler<C> = Arc<dyn Fn(Arc<C>, JobRecord, JobRun) -> BoxFuture<'static, Ran> + Send + Sync>;

pub struct RunnerBuilder<C> {
    pool: Pool,
    clock: Clock,
    context: Arc<C>,
    handlers: HashMap<&'static str, Handler<C>>,
    concurrency: usize,
    lease: TimeDelta,
}

impl<C: Send + Sync + 'static> RunnerBuilder<C> {
    /// Registers a kind: jobs of it are claimed and run by this runner.
    pub fn register<J: Job<C>>(mut self) -> Self {
        let handler: Handler<C> = Arc::new(|context, record, run| {
            Box::pin(async move {
                match serde_json::from_str::<J>(&record.payload) {
                    Err(e) => Ran {
                        outcome: Outcome::dead(format!("unreadable {} payload: {e}", J::KIND)),
                        policy: J::RETRY,
                        on_dead: None,
                    },
                    Ok(job) => {
                        let copy: Option<J> = serde_json::from_str(&record.payload).ok();
                        let outcome = job.run(context, run).await;
                        let on_dead: Option<OnDead> = copy.map(|job| {
                            Box::new(move |conn: &mut AnyConnection, error: &str| job.on_dead(conn, error)) as OnDead
                        });
                        Ran { outcome, policy: J::RETRY, on_dead }
                    }
                }
            })
        });
        self.handlers.insert(J::KIND, handler);
        self
    }

    /// How many jobs of different ordering keys one process runs at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a claim holds (default `LEASE`): shorter hands a dead
    /// process's jobs to another sooner, and must outlast any one call.
    pub fn lease(mut self, lease: TimeDelta) -> Self {
        if lease > TimeDelta::zero() {
            self.lease = lease;
        }
        self
    }

    pub fn build(self) -> Runner<C> {
        let kinds = self.handlers.keys().map(|k| k.to_string()).collect();
        Runner {
            inner: Arc::new(Inner {
                pool: self.pool,
                clock: self.clock,
                context: self.context,
                handlers: self.handlers,
                kinds,
                wake: Wake::default(),
                concurrency: self.concurrency,
                lease: self.lease,
            }),
        }
    }
}

struct Inner<C> {
    pool: Pool,
    clock: Clock,
    context: Arc<C>,
    handlers: HashMap<&'static str, Handler<C>>,
    /// Only kinds this process knows are claimed (a newer process may know more).
    kinds: Vec<String>,
    wake: Wake,
    concurrency: usize,
    lease: TimeDelta,
}

pub struct Runner<C> {
    inner: Arc<Inner<C>>,
}

impl<C> Clone for Runner<C> {
    fn clone(&self) -> Self {
        Runner { inner: self.inner.clone() }
    }
}

impl<C: Send + Sync + 'static> Runner<C> {
    pub fn builder(pool: Pool, clock: Clock, context: Arc<C>) -> RunnerBuilder<C> {
        RunnerBuilder { pool, clock, context, handlers: HashMap::new(), concurrency: 8, lease: LEASE }
    }

    pub fn wake(&self) -> Wake {
        self.inner.wake.clone()
    }

    /// Runs the queue in the background until the process ends, and runs it
    /// again should the loop ever stop on a bug.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let runner = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = tokio::spawn(runner.clone().work()).await {
                    tracing::error!(%error, "the jobs runner stopped; restarting it");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        })
    }

    async fn work(self) {
        let slots = Arc::new(Semaphore::new(self.inner.concurrency));
        let mut purged_at: Option<std::time::Instant> = None;
        loop {
            if purged_at.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                purged_at = Some(std::time::Instant::now());
                self.purge().await;
            }
            let free = slots.available_permits();
            let claimed = if free == 0 { Ok(Vec::new()) } else { self.claim(free).await };
            match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    for job in jobs {
                        let Ok(permit) = slots.clone().acquire_owned().await else { return };
                        let runner = self.clone();
                        tokio::spawn(async move {
                            runner.run_one(job).await;
                            drop(permit);
                            // The next job of its ordering key may be due now.
                            runner.inner.wake.now();
                        });
                    }
                }
                Ok(_) => {
                    tokio::select! {
                        _ = self.inner.wake.0.notified() => {}
                        _ = LOCAL_WORK.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "claiming jobs failed; retrying");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
    }

    /// Runs every due job, and what they cause, until none is due: the
    /// tests' way to wait for background work without sleeping. Returns how
    /// many runs there were.
    pub async fn run_until_idle(&self) -> usize {
        let mut runs = 0;
        loop {
            let jobs = match self.claim(self.inner.concurrency).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::warn!(%error, "claiming jobs failed");
                    return runs;
                }
            };
            if jobs.is_empty() {
                return runs;
            }
            runs += jobs.len();
            futures_util::future::join_all(jobs.into_iter().map(|job| self.run_one(job))).await;
        }
    }

    async fn purge(&self) {
        let inner = self.inner.clone();
        let purged = tokio::task::spawn_blocking(move || -> Result<usize, String> {
            let mut conn = inner.pool.get().map_err(|e| e.to_string())?;
            store::purge_done(&mut conn, inner.clock.now() - KEEP_DONE).map_err(|e| e.to_string())
        })
        .await;
        match purged {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(jobs = n, "deleted jobs done over 30 days ago"),
            Ok(Err(error)) => tracing::warn!(%error, "could not delete old done jobs"),
            Err(error) => tracing::warn!(%error, "could not delete old done jobs"),
        }
    }

    async fn claim(&self, limit: usize) -> Result<Vec<JobRecord>, String> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.pool.get().map_err(|e| e.to_string())?;
            let now = inner.clock.now();
            store::claim_due(&mut conn, &inner.kinds, now, now + inner.lease, limit as i64).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    async fn run_one(&self, job: JobRecord) {
        let inner = &self.inner;
        let Some(handler) = inner.handlers.get(job.kind.as_str()).cloned() else { return };
        let (id, attempt) = (job.id, job.attempts);
        let run = JobRun {
            id,
            shop_id: job.shop_id,
            ordering_key: job.ordering_key.clone(),
            attempt,
            claim_token: job.claim_token.clone().unwrap_or_default(),
            pool: inner.pool.clone(),
            clock: inner.clock.clone(),
            lease: inner.lease,
        };
        let token = run.claim_token.clone();
        let kind = job.kind.clone();
        let ran = handler(inner.context.clone(), job, run).await;
        let inner = self.inner.clone();
        let recorded =
            tokio::task::spawn_blocking(move || record_with_retries(&inner, id, &token, attempt, &kind, ran))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
        if let Err(error) = recorded {
            tracing::error!(job = %id, %error, "could not record a job's outcome; it runs again after its lease");
        }
    }
}

fn record_with_retries<C>(
    inner: &Inner<C>,
    id: crate::ids::JobId,
    token: &str,
    attempt: i32,
    kind: &str,
    ran: Ran,
) -> Result<(), String> {
    let mut last_error = String::new();
    for try_number in 0..RECORD_TRIES {
        if try_number > 0 {
            std::thread::sleep(Duration::from_millis(200 << try_number));
        }
        let result = inner.pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            record(&mut conn, &inner.clock, id, token, attempt, kind, &ran).map_err(|e| e.to_string())
        });
        match result {
            Ok(()) => return Ok(()),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

fn record(
    conn: &mut AnyConnection,
    clock: &Clock,
    id: crate::ids::JobId,
    token: &str,
    attempt: i32,
    kind: &str,
    ran: &Ran,
) -> diesel::QueryResult<()> {
    let now = clock.now();
    let policy = ran.policy;
    let (status, run_at, error, refund_attempt) = match &ran.outcome.next {
        Next::Lost => {
            tracing::info!(job = %id, "another worker took this job over; its outcome is not recorded");
            return Ok(());
        }
        Next::Done => (JobStatus::Done, None, None, false),
        Next::Held(reason) => (JobStatus::Held, None, Some(reason.as_str()), true),
        Next::Retry(error) | Next::RetryAfter(_, error) if attempt >= policy.max_attempts => {
            (JobStatus::Dead, None, Some(error.as_str()), false)
        }
        Next::Retry(error) => (JobStatus::Queued, Some(now + policy.backoff(attempt)), Some(error.as_str()), false),
        Next::RetryAfter(after, error) => (JobStatus::Queued, Some(now + *after), Some(error.as_str()), false),
        Next::Postpone(after, reason) => (JobStatus::Queued, Some(now + *after), Some(reason.as_str()), true),
        Next::Dead(error) => (JobStatus::Dead, None, Some(error.as_str()), false),
    };
    crate::db::write_transaction(conn, |conn| {
        let settled = store::settle(conn, id, token, Settlement { status, run_at, error, refund_attempt })?;
        if !settled {
            tracing::info!(job = %id, "the job's lease ran out and another worker holds it; outcome dropped");
            return Ok(());
        }
        if let Some(effects) = &ran.outcome.effects {
            effects(conn)?;
        }
        if status == JobStatus::Queued {
            tracing::info!(job = %id, kind, attempt, error = error.unwrap_or_default(), ?run_at, "job will run again");
        }
        if status == JobStatus::Dead {
            let error = error.unwrap_or_default();
            tracing::warn!(job = %id, kind, attempt, %error, "job is dead");
            if let Some(on_dead) = &ran.on_dead {
                on_dead(conn, error)?;
            }
        }
        Ok(())
    })
}
