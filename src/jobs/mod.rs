//! One durable queue for all background work: WhatsApp and e-mail sends today,
//! charges, polling, expiry and refunds next.
//!
//! A job is a typed value (`Job`) stored as JSON with its kind's name. It is
//! written in the transaction of the change that causes it (`enqueue`), so the
//! work exists exactly when the change does, and runs after the commit, never
//! inside it. Workers in any number of processes share the queue: a claim
//! holds a job under a lease and a claim token (`store`), jobs that share an
//! `ordering_key` run one at a time, oldest first, and failures retry with
//! exponential backoff and jitter until the kind's bound, then go `dead`.

mod retry;
mod runner;
mod store;

pub use retry::RetryPolicy;
pub use runner::{Runner, RunnerBuilder, Wake};
pub use store::{
    JobRecord, claim_due, delete_waiting, find_by_dedupe, get, list, list_of_kinds, purge_done, release_held, renew,
    retry_dead, set_run_at,
};

use crate::db::AnyConnection;
use crate::ids::{JobId, ShopId};
use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;

crate::text_enum! {
    /// Where a job is in its life.
    pub enum JobStatus {
        Queued => "queued",
        Running => "running",
        /// Parked until its ordering key is released (e.g. a closed WhatsApp window).
        Held => "held",
        Done => "done",
        Dead => "dead",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot encode the job: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("no such job")]
    NotFound,
}

/// What is stored: the kind's name and its JSON payload.
pub trait JobKind: Serialize {
    /// Stable: stored in every row of this kind.
    const KIND: &'static str;
}

/// Changes made in the same transaction that records a job's outcome, and
/// only if this worker still holds the job (so a worker whose lease ran out
/// changes nothing).
pub type Effects = Box<dyn Fn(&mut AnyConnection) -> diesel::QueryResult<()> + Send + Sync>;
// `Fn`, not `FnOnce`: recording an outcome is retried when the database fails.

/// What happens to a job after one run.
pub struct Outcome {
    pub(crate) next: Next,
    pub(crate) effects: Option<Effects>,
}

pub(crate) enum Next {
    Done,
    /// Parked until `release_held` for its ordering key.
    Held(String),
    /// Try again after the policy's backoff, or give up at its bound.
    Retry(String),
    /// Try again after this long (a `Retry-After`), still within the bound.
    RetryAfter(TimeDelta, String),
    /// Not tried: run again after this long, the attempt not counted (the
    /// other side asked everyone to slow down).
    Postpone(TimeDelta, String),
    /// Will not succeed by trying again.
    Dead(String),
    /// Another worker took the job over; record nothing.
    Lost,
}

impl Outcome {
    fn new(next: Next) -> Outcome {
        Outcome { next, effects: None }
    }
    pub fn done() -> Outcome {
        Outcome::new(Next::Done)
    }
    pub fn held(reason: impl Into<String>) -> Outcome {
        Outcome::new(Next::Held(reason.into()))
    }
    pub fn retry(error: impl Into<String>) -> Outcome {
        Outcome::new(Next::Retry(error.into()))
    }
    pub fn retry_after(after: TimeDelta, error: impl Into<String>) -> Outcome {
        Outcome::new(Next::RetryAfter(after, error.into()))
    }
    /// Runs again after `after` without counting this run as an attempt:
    /// for work that was not tried at all.
    pub fn postpone(after: TimeDelta, reason: impl Into<String>) -> Outcome {
        Outcome::new(Next::Postpone(after, reason.into()))
    }
    pub fn dead(error: impl Into<String>) -> Outcome {
        Outcome::new(Next::Dead(error.into()))
    }
    /// The hold was lost before the work was done: nothing is recorded.
    pub fn lost() -> Outcome {
        Outcome::new(Next::Lost)
    }
    /// Adds changes to commit with the outcome, after any added before.
    pub fn with(
        mut self,
        effects: impl Fn(&mut AnyConnection) -> diesel::QueryResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.effects = Some(match self.effects.take() {
            None => Box::new(effects),
            Some(earlier) => Box::new(move |conn: &mut AnyConnection| {
                earlier(conn)?;
                effects(conn)
            }),
        });
        self
    }
}

/// A kind of background work, run with the context `C` the runner was built
/// with (the service's clients and pool, behind traits the kind names).
pub trait Job<C>: JobKind + DeserializeOwned + Clone + Send + Sync + 'static {
    const RETRY: RetryPolicy = RetryPolicy::DEFAULT;

    fn run(self, context: Arc<C>, run: JobRun) -> impl Future<Output = Outcome> + Send;

    /// Called in the transaction that marks the job dead, so what waited on
    /// it can say so (a message marked failed).
    fn on_dead(&self, _conn: &mut AnyConnection, _error: &str) -> diesel::QueryResult<()> {
        Ok(())
    }
}

/// When and how a job runs, besides its payload.
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    pub shop_id: Option<ShopId>,
    /// None: as soon as possible.
    pub run_at: Option<NaiveDateTime>,
    pub dedupe_key: Option<String>,
    pub ordering_key: Option<String>,
}

impl Schedule {
    pub fn for_shop(shop: ShopId) -> Schedule {
        Schedule { shop_id: Some(shop), ..Schedule::default() }
    }
    pub fn at(mut self, at: NaiveDateTime) -> Schedule {
        self.run_at = Some(at);
        self
    }
    pub fn dedupe(mut self, key: impl Into<String>) -> Schedule {
        self.dedupe_key = Some(key.into());
        self
    }
    pub fn ordered_by(mut self, key: impl Into<String>) -> Schedule {
        self.ordering_key = Some(key.into());
        self
    }
}

/// Queues a job in the caller's transaction. Returns None when a job with
/// the same dedupe key exists already (its cause was seen before).
pub fn enqueue<J: JobKind>(conn: &mut AnyConnection, job: &J, schedule: Schedule) -> Result<Option<JobId>, JobError> {
    let payload = serde_json::to_string(job)?;
    let queued = store::insert(conn, J::KIND, &payload, schedule)?;
    // This process's idle workers look at once, when the work is visible.
    crate::db::after_commit(conn, runner::wake_local_runners);
    Ok(queued)
}

/// What a running job knows of itself, and its hold on the row.
#[derive(Clone)]
pub struct JobRun {
    pub id: JobId,
    pub shop_id: Option<ShopId>,
    pub ordering_key: Option<String>,
    /// Counting this run.
    pub attempt: i32,
    pub(crate) claim_token: String,
    pub(crate) pool: crate::db::Pool,
    pub(crate) clock: crate::clock::Clock,
    pub(crate) lease: TimeDelta,
}

impl JobRun {
    /// Extends this worker's hold just before an external call; false when the
    /// hold was lost (the lease ran out and another worker took the job), in
    /// which case the call must not be made.
    pub async fn renew(&self) -> bool {
        let run = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = run.pool.get().ok()?;
            store::renew(&mut conn, run.id, &run.claim_token, run.clock.now() + run.lease).ok()
        })
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
    }

    /// Runs database work off the async threads on a pooled connection; Err
    /// (as text, for a retry) when no connection could be had.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut crate::db::AnyConnection) -> T + Send + 'static,
    ) -> Result<T, String> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            Ok(work(&mut conn))
        })
        .await
        .map_err(|e| e.to_string())?
    }

    pub fn pool(&self) -> &crate::db::Pool {
        &self.pool
    }

    pub fn now(&self) -> NaiveDateTime {
        self.clock.now()
    }
}
