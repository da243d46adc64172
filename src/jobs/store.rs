//! The jobs table: inserting, claiming under a lease, settling under the
//! claim token, releasing held jobs, and dead jobs.

use super::{JobStatus, Schedule};
use crate::db::{AnyConnection, schema::jobs};
use crate::ids::{JobId, ShopId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub shop_id: Option<ShopId>,
    pub payload: String,
    pub status: JobStatus,
    pub run_at: Option<NaiveDateTime>,
    pub dedupe_key: Option<String>,
    pub ordering_key: Option<String>,
    /// Runs so far, counting one under way.
    pub attempts: i32,
    pub last_error: Option<String>,
    pub claim_token: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = jobs)]
struct NewJob<'a> {
    id: JobId,
    kind: &'a str,
    shop_id: Option<ShopId>,
    payload: &'a str,
    status: JobStatus,
    run_at: Option<NaiveDateTime>,
    dedupe_key: Option<&'a str>,
    ordering_key: Option<&'a str>,
    attempts: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub(super) fn insert(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &str,
    schedule: Schedule,
) -> QueryResult<Option<JobId>> {
    let now = crate::db::now();
    let row = NewJob {
        id: JobId::new(),
        kind,
        shop_id: schedule.shop_id,
        payload,
        status: JobStatus::Queued,
        run_at: schedule.run_at,
        dedupe_key: schedule.dedupe_key.as_deref(),
        ordering_key: schedule.ordering_key.as_deref(),
        attempts: 0,
        created_at: now,
        updated_at: now,
    };
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(jobs::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok((inserted == 1).then_some(row.id))
}

/// A job is the next of its ordering key when no older job of that key is
/// still to finish (queued, running or held): one at a time, oldest first.
const NEXT_OF_ITS_KEY: &str = "(jobs.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs AS older \
     WHERE older.ordering_key = jobs.ordering_key AND older.status IN ('queued', 'running', 'held') \
     AND older.id < jobs.id))";

/// Claims up to `limit` due jobs for one worker: queued ones whose time has
/// come and running ones whose lease ran out, each the next of its ordering
/// key. On PostgreSQL rows another process is claiming are skipped (`SKIP
/// LOCKED`); on SQLite the write transaction itself excludes other claimers.
pub fn claim_due(
    conn: &mut AnyConnection,
    kinds: &[String],
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<JobRecord>> {
    // A macro, not a closure: the selection's type names its backend, and
    // the same query runs on the shared connection and on each engine's own.
    macro_rules! due {
        () => {
            jobs::table
                .filter(
                    jobs::status
                        .eq(JobStatus::Queued)
                        .and(jobs::run_at.is_null().or(jobs::run_at.le(now)))
                        .or(jobs::status.eq(JobStatus::Running).and(jobs::locked_until.le(now))),
                )
                .filter(jobs::kind.eq_any(kinds))
                .filter(diesel::dsl::sql::<Bool>(NEXT_OF_ITS_KEY))
                .order(jobs::id)
                .limit(limit)
                .select(JobRecord::as_select())
        };
    }
    // A plain read first: an idle worker must not take SQLite's write lock
    // several times a second for nothing.
    if due!().limit(1).load(conn)?.is_empty() {
        return Ok(Vec::new());
    }
    crate::db::write_transaction(conn, |conn| {
        let mut claimed: Vec<JobRecord> = match conn {
            AnyConnection::Postgresql(c) => due!().for_update().skip_locked().load(c)?,
            AnyConnection::Sqlite(c) => due!().load(c)?,
        };
        if claimed.is_empty() {
            return Ok(claimed);
        }
        let token = uuid::Uuid::new_v4().to_string();
        let ids: Vec<JobId> = claimed.iter().map(|j| j.id).collect();
        diesel::update(jobs::table.filter(jobs::id.eq_any(&ids)))
            .set((
                jobs::status.eq(JobStatus::Running),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::claim_token.eq(&token),
                jobs::locked_until.eq(lease_until),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        for job in &mut claimed {
            job.status = JobStatus::Running;
            job.attempts += 1;
            job.claim_token = Some(token.clone());
            job.locked_until = Some(lease_until);
        }
        Ok(claimed)
    })
}

/// Extends a hold; false when the job is no longer this claim's.
pub fn renew(conn: &mut AnyConnection, id: JobId, claim_token: &str, until: NaiveDateTime) -> QueryResult<bool> {
    let renewed = diesel::update(jobs::table)
        .filter(jobs::id.eq(id))
        .filter(jobs::claim_token.eq(claim_token))
        .filter(jobs::status.eq(JobStatus::Running))
        .set((jobs::locked_until.eq(until), jobs::updated_at.eq(crate::db::now())))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// The outcome of one run, as written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settlement<'a> {
    pub status: JobStatus,
    pub run_at: Option<NaiveDateTime>,
    pub error: Option<&'a str>,
    /// A hold is not a failed attempt.
    pub refund_attempt: bool,
}

/// Records an outcome if this claim still holds the job; false otherwise.
pub(super) fn settle(conn: &mut AnyConnection, id: JobId, claim_token: &str, s: Settlement) -> QueryResult<bool> {
    let attempts = if s.refund_attempt { jobs::attempts - 1 } else { jobs::attempts - 0 };
    let settled = diesel::update(jobs::table)
        .filter(jobs::id.eq(id))
        .filter(jobs::claim_token.eq(claim_token))
        .filter(jobs::status.eq(JobStatus::Running))
        .set((
            jobs::status.eq(s.status),
            jobs::run_at.eq(s.run_at),
            jobs::last_error.eq(s.error),
            jobs::attempts.eq(attempts),
            jobs::claim_token.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(settled == 1)
}

/// Puts the held jobs of an ordering key back in the queue, in their order
/// (the customer wrote again: the window is open).
pub fn release_held(conn: &mut AnyConnection, ordering_key: &str) -> QueryResult<usize> {
    diesel::update(jobs::table)
        .filter(jobs::ordering_key.eq(ordering_key))
        .filter(jobs::status.eq(JobStatus::Held))
        .set((
            jobs::status.eq(JobStatus::Queued),
            jobs::run_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

/// A shop's jobs in one status, oldest first, after the cursor.
pub fn list(
    conn: &mut AnyConnection,
    shop: Option<ShopId>,
    status: JobStatus,
    after: Option<JobId>,
    limit: i64,
) -> QueryResult<Vec<JobRecord>> {
    let mut query = jobs::table.filter(jobs::status.eq(status)).order(jobs::id).limit(limit).into_boxed();
    if let Some(shop) = shop {
        query = query.filter(jobs::shop_id.eq(shop));
    }
    if let Some(after) = after {
        query = query.filter(jobs::id.gt(after));
    }
    query.select(JobRecord::as_select()).load(conn)
}

/// Gives a dead job a new start; false when there is no such dead job (of
/// this shop, when one is named).
pub fn retry_dead(conn: &mut AnyConnection, shop: Option<ShopId>, id: JobId) -> QueryResult<bool> {
    let mut target = jobs::table.filter(jobs::id.eq(id)).filter(jobs::status.eq(JobStatus::Dead)).into_boxed();
    if let Some(shop) = shop {
        target = target.filter(jobs::shop_id.eq(shop));
    }
    let ids: Vec<JobId> = target.select(jobs::id).load(conn)?;
    let updated = diesel::update(jobs::table.filter(jobs::id.eq_any(ids)).filter(jobs::status.eq(JobStatus::Dead)))
        .set((
            jobs::status.eq(JobStatus::Queued),
            jobs::attempts.eq(0),
            jobs::run_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Deletes jobs done before `before`: finished work needs no record (what it
/// did is in its own tables). A dedupe key lives as long as its job's row.
pub fn purge_done(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(jobs::table.filter(jobs::status.eq(JobStatus::Done)).filter(jobs::updated_at.lt(before)))
        .execute(conn)
}

/// One job, as stored.
pub fn get(conn: &mut AnyConnection, id: JobId) -> QueryResult<Option<JobRecord>> {
    jobs::table.find(id).select(JobRecord::as_select()).first(conn).optional()
}

/// A shop's jobs of some kinds (and statuses, when named), newest first,
/// before the cursor: what an owner is shown of its messages.
pub fn list_of_kinds(
    conn: &mut AnyConnection,
    shop: ShopId,
    kinds: &[&str],
    statuses: Option<&[JobStatus]>,
    before: Option<JobId>,
    limit: i64,
) -> QueryResult<Vec<JobRecord>> {
    let mut query = jobs::table
        .filter(jobs::shop_id.eq(shop))
        .filter(jobs::kind.eq_any(kinds))
        .order(jobs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(statuses) = statuses {
        query = query.filter(jobs::status.eq_any(statuses));
    }
    if let Some(before) = before {
        query = query.filter(jobs::id.lt(before));
    }
    query.select(JobRecord::as_select()).load(conn)
}

/// Deletes a shop's jobs of a kind that are not running and whose dedupe
/// key starts with `key_prefix` (work for something since removed). A
/// running one finishes, and finds what it worked for gone.
pub fn delete_waiting(conn: &mut AnyConnection, shop: ShopId, kind: &str, key_prefix: &str) -> QueryResult<usize> {
    let pattern = format!("{}%", key_prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    diesel::delete(
        jobs::table
            .filter(jobs::shop_id.eq(shop))
            .filter(jobs::kind.eq(kind))
            .filter(jobs::status.eq_any([JobStatus::Queued, JobStatus::Held, JobStatus::Dead]))
            .filter(jobs::dedupe_key.like(pattern).escape('\\')),
    )
    .execute(conn)
}

/// The job holding a dedupe key, if any.
pub fn find_by_dedupe(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<JobRecord>> {
    jobs::table.filter(jobs::dedupe_key.eq(key)).select(JobRecord::as_select()).first(conn).optional()
}

/// Moves a job still queued to run at `run_at` (sooner or later); false when
/// it is no longer queued (running, done, dead).
pub fn set_run_at(conn: &mut AnyConnection, id: JobId, run_at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(jobs::table.find(id).filter(jobs::status.eq(JobStatus::Queued)))
        .set((jobs::run_at.eq(Some(run_at)), jobs::updated_at.eq(crate::db::now())))
        .execute(conn)?;
    Ok(updated == 1)
}
