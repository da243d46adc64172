//! The jobs queue on both engines, with job kinds of the tests' own: order
//! per key, concurrency across keys, scheduling, retries, dead jobs, dedupe,
//! and a worker that lost its lease.

use crate::helpers::TestApp;
use chatshop::clock::Clock;
use chatshop::db::schema::jobs as table;
use chatshop::jobs::{self, Job, JobKind, JobRun, JobStatus, Outcome, RetryPolicy, Runner, Schedule};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test kinds write down as they run.
#[derive(Default)]
struct Log {
    /// (key, seq, started, finished) in the order runs ended.
    runs: Mutex<Vec<(String, u32)>>,
    running: Mutex<Vec<String>>,
    most_at_once: Mutex<usize>,
    overlaps_within_a_key: Mutex<usize>,
    /// How many times each job should fail before it succeeds.
    failures_left: Mutex<std::collections::HashMap<u32, u32>>,
    /// Hold the stalling job's first and second runs until told to go on.
    gates: [tokio::sync::Notify; 2],
}

#[derive(Clone, Serialize, Deserialize)]
struct Step {
    key: String,
    seq: u32,
}

impl JobKind for Step {
    const KIND: &'static str = "test.step";
}

impl Job<Log> for Step {
    const RETRY: RetryPolicy =
        RetryPolicy { max_attempts: 3, base: chrono::TimeDelta::seconds(10), cap: chrono::TimeDelta::minutes(5) };

    async fn run(self, log: Arc<Log>, _run: JobRun) -> Outcome {
        {
            let mut running = log.running.lock().unwrap();
            if running.contains(&self.key) {
                *log.overlaps_within_a_key.lock().unwrap() += 1;
            }
            running.push(self.key.clone());
            let mut most = log.most_at_once.lock().unwrap();
            *most = (*most).max(running.len());
        }
        // Work that takes a while, so runs can overlap.
        tokio::time::sleep(Duration::from_millis(15)).await;
        log.running.lock().unwrap().retain(|k| k != &self.key);
        let fail = {
            let mut left = log.failures_left.lock().unwrap();
            match left.get_mut(&self.seq) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        if fail {
            return Outcome::retry(format!("step {} failed", self.seq));
        }
        log.runs.lock().unwrap().push((self.key, self.seq));
        Outcome::done()
    }
}

/// Waits at the gate with its lease taken, then tries to renew and finish.
#[derive(Clone, Serialize, Deserialize)]
struct Stall;

impl JobKind for Stall {
    const KIND: &'static str = "test.stall";
}

impl Job<Log> for Stall {
    async fn run(self, log: Arc<Log>, run: JobRun) -> Outcome {
        log.gates[(run.attempt as usize - 1).min(1)].notified().await;
        if !run.renew().await {
            log.runs.lock().unwrap().push(("stall-lost".into(), run.attempt as u32));
            return Outcome::lost();
        }
        log.runs.lock().unwrap().push(("stall".into(), run.attempt as u32));
        Outcome::done()
    }
}

fn runner(app: &TestApp, log: &Arc<Log>, clock: Clock) -> Runner<Log> {
    Runner::builder(app.pool.clone(), clock, log.clone()).register::<Step>().register::<Stall>().concurrency(4).build()
}

fn enqueue(app: &TestApp, job: &impl JobKind, schedule: Schedule) -> Option<chatshop::ids::JobId> {
    jobs::enqueue(&mut app.pool.get().unwrap(), job, schedule).unwrap()
}

fn status_of(app: &TestApp, id: chatshop::ids::JobId) -> (JobStatus, i32, Option<String>) {
    table::table
        .find(id.to_string())
        .select((table::status, table::attempts, table::last_error))
        .first::<(String, i32, Option<String>)>(&mut app.pool.get().unwrap())
        .map(|(s, a, e)| (s.parse().unwrap(), a, e))
        .unwrap()
}

/// Lets the other tasks run until `condition` holds (a bounded number of turns).
async fn until(condition: impl Fn() -> bool, what: &str) {
    for _ in 0..100_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never happened: {what}");
}

async fn one_key_runs_in_order_and_keys_run_side_by_side(app: TestApp) {
    let log = Arc::new(Log::default());
    for seq in 0..5 {
        for key in ["ana", "bia", "caio"] {
            enqueue(&app, &Step { key: key.into(), seq }, Schedule::default().ordered_by(key));
        }
    }
    let runs = runner(&app, &log, app.clock.clone()).run_until_idle().await;
    assert_eq!(runs, 15);
    let done = log.runs.lock().unwrap().clone();
    for key in ["ana", "bia", "caio"] {
        let order: Vec<u32> = done.iter().filter(|(k, _)| k == key).map(|(_, s)| *s).collect();
        assert_eq!(order, [0, 1, 2, 3, 4], "{key}'s jobs run oldest first");
    }
    assert_eq!(*log.overlaps_within_a_key.lock().unwrap(), 0, "one at a time per key");
    assert!(*log.most_at_once.lock().unwrap() > 1, "different keys run at once");
}
crate::on_both_databases!(one_key_runs_in_order_and_keys_run_side_by_side);

async fn a_failing_job_waits_for_its_backoff_and_holds_its_key_back(app: TestApp) {
    let log = Arc::new(Log::default());
    log.failures_left.lock().unwrap().insert(0, 1);
    let first = enqueue(&app, &Step { key: "ana".into(), seq: 0 }, Schedule::default().ordered_by("ana")).unwrap();
    enqueue(&app, &Step { key: "ana".into(), seq: 1 }, Schedule::default().ordered_by("ana"));
    let runner = runner(&app, &log, app.clock.clone());
    assert_eq!(runner.run_until_idle().await, 1, "the second waits behind the first");
    let (status, attempts, error) = status_of(&app, first);
    assert_eq!((status, attempts, error.as_deref()), (JobStatus::Queued, 1, Some("step 0 failed")));
    assert_eq!(runner.run_until_idle().await, 0, "not before its backoff");
    app.clock.advance(chrono::TimeDelta::seconds(10));
    assert_eq!(runner.run_until_idle().await, 2);
    assert_eq!(*log.runs.lock().unwrap(), [("ana".to_string(), 0), ("ana".to_string(), 1)]);
}
crate::on_both_databases!(a_failing_job_waits_for_its_backoff_and_holds_its_key_back);

async fn a_job_that_keeps_failing_is_dead_until_retried(app: TestApp) {
    let log = Arc::new(Log::default());
    log.failures_left.lock().unwrap().insert(7, 3);
    let id = enqueue(&app, &Step { key: "x".into(), seq: 7 }, Schedule::default()).unwrap();
    let runner = runner(&app, &log, app.clock.clone());
    for _ in 0..3 {
        runner.run_until_idle().await;
        app.clock.advance(chrono::TimeDelta::minutes(10));
    }
    let (status, attempts, error) = status_of(&app, id);
    assert_eq!((status, attempts, error.as_deref()), (JobStatus::Dead, 3, Some("step 7 failed")));
    let mut conn = app.pool.get().unwrap();
    let dead = jobs::list(&mut conn, None, JobStatus::Dead, None, 10).unwrap();
    assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    assert!(jobs::retry_dead(&mut conn, None, id).unwrap());
    assert!(!jobs::retry_dead(&mut conn, None, id).unwrap(), "only a dead job is retried");
    drop(conn);
    assert_eq!(runner.run_until_idle().await, 1);
    assert_eq!(status_of(&app, id).0, JobStatus::Done);
}
crate::on_both_databases!(a_job_that_keeps_failing_is_dead_until_retried);

async fn a_job_runs_at_its_time_and_a_dedupe_key_queues_once(app: TestApp) {
    let log = Arc::new(Log::default());
    let later = app.clock.now() + chrono::TimeDelta::minutes(30);
    let schedule = Schedule::default().at(later).dedupe("expire:order-1");
    assert!(enqueue(&app, &Step { key: "e".into(), seq: 1 }, schedule.clone()).is_some());
    assert!(enqueue(&app, &Step { key: "e".into(), seq: 2 }, schedule).is_none(), "seen before");
    let runner = runner(&app, &log, app.clock.clone());
    assert_eq!(runner.run_until_idle().await, 0);
    app.clock.advance(chrono::TimeDelta::minutes(30));
    assert_eq!(runner.run_until_idle().await, 1);
    assert_eq!(*log.runs.lock().unwrap(), [("e".to_string(), 1)]);
    let rows: i64 = table::table.count().get_result(&mut app.pool.get().unwrap()).unwrap();
    assert_eq!(rows, 1);
}
crate::on_both_databases!(a_job_runs_at_its_time_and_a_dedupe_key_queues_once);

async fn a_worker_that_lost_its_lease_neither_acts_nor_overwrites(app: TestApp) {
    let log = Arc::new(Log::default());
    let id = enqueue(&app, &Stall, Schedule::default()).unwrap();
    let first = runner(&app, &log, app.clock.clone());
    let stalled = tokio::spawn({
        let first = first.clone();
        async move { first.run_until_idle().await }
    });
    until(|| status_of(&app, id).0 == JobStatus::Running, "the first worker holds the job").await;
    // It stalls past its lease; a second worker takes the job over and finishes it.
    app.clock.advance(chrono::TimeDelta::minutes(2));
    let second = runner(&app, &log, app.clock.clone());
    let second_run = tokio::spawn(async move { second.run_until_idle().await });
    until(|| status_of(&app, id).1 == 2, "the second worker holds the job").await;
    log.gates[1].notify_one();
    assert_eq!(second_run.await.unwrap(), 1);
    log.gates[0].notify_one();
    stalled.await.unwrap();
    let runs = log.runs.lock().unwrap().clone();
    assert!(runs.contains(&("stall".to_string(), 2)), "the second worker finished it: {runs:?}");
    assert!(runs.contains(&("stall-lost".to_string(), 1)), "the first saw its hold was lost: {runs:?}");
    assert_eq!(status_of(&app, id), (JobStatus::Done, 2, None));
}
crate::on_both_databases!(a_worker_that_lost_its_lease_neither_acts_nor_overwrites);

async fn done_jobs_are_deleted_after_thirty_days_and_dead_ones_kept(app: TestApp) {
    let log = Arc::new(Log::default());
    let done = enqueue(&app, &Step { key: "a".into(), seq: 1 }, Schedule::default()).unwrap();
    runner(&app, &log, app.clock.clone()).run_until_idle().await;
    let dead = enqueue(&app, &Step { key: "b".into(), seq: 2 }, Schedule::default()).unwrap();
    let mut conn = app.pool.get().unwrap();
    diesel::update(table::table.find(dead.to_string())).set(table::status.eq("dead")).execute(&mut conn).unwrap();
    let now = chatshop::db::now();
    assert_eq!(jobs::purge_done(&mut conn, now - chrono::TimeDelta::days(30)).unwrap(), 0, "not old enough");
    let later = now + chrono::TimeDelta::days(31);
    assert_eq!(jobs::purge_done(&mut conn, later - chrono::TimeDelta::days(30)).unwrap(), 1);
    let left: Vec<String> = table::table.select(table::id).load(&mut conn).unwrap();
    assert_eq!(left, [dead.to_string()], "{done} deleted, the dead one kept");
}
crate::on_both_databases!(done_jobs_are_deleted_after_thirty_days_and_dead_ones_kept);
