use crate::db::{AnyConnection, schema::outbox};
use crate::shops::ShopId;
use diesel::prelude::*;
use uuid::Uuid;

pub const CHANNEL_WHATSAPP: &str = "whatsapp";

/// How long a claimed entry is held by the worker that claimed it; if that
/// worker dies, another takes the entry over after this.
pub const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub shop_id: ShopId,
    pub channel: String,
    pub chat_message_id: Option<Uuid>,
    pub recipient: String,
    pub payload: String,
    /// Counting the attempt now under way.
    pub attempts: i32,
    /// This worker's hold on the entry; outcomes are recorded only under it.
    pub claim_token: Uuid,
}

pub fn enqueue(
    conn: &mut AnyConnection,
    shop: ShopId,
    channel: &str,
    chat_message_id: Option<Uuid>,
    recipient: &str,
    payload: &str,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    let now = crate::db::now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(id.to_string()),
            outbox::shop_id.eq(shop.to_string()),
            outbox::channel.eq(channel),
            outbox::chat_message_id.eq(chat_message_id.map(|m| m.to_string())),
            outbox::recipient.eq(recipient),
            outbox::payload.eq(payload),
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
            outbox::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

type EntryRow = (String, String, String, Option<String>, String, String, i32);

/// Takes up to `limit` due entries for this worker, oldest first. On
/// PostgreSQL rows locked by another process are skipped (`SKIP LOCKED`); on
/// SQLite the write transaction itself excludes other claimers.
pub fn claim_due(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<OutboxEntry>> {
    // A plain read first: an idle worker must not take SQLite's write lock
    // twice a second for nothing.
    let now = crate::db::now();
    let any_due = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .select(outbox::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !any_due {
        return Ok(Vec::new());
    }
    crate::db::write_transaction(conn, |conn| {
        let now = crate::db::now();
        let claim_token = Uuid::new_v4();
        let due = outbox::table
            .filter(outbox::status.eq("pending"))
            .filter(outbox::next_attempt_at.le(now))
            .order((outbox::next_attempt_at, outbox::id))
            .limit(limit)
            .select((
                outbox::id,
                outbox::shop_id,
                outbox::channel,
                outbox::chat_message_id,
                outbox::recipient,
                outbox::payload,
                outbox::attempts,
            ));
        let rows: Vec<EntryRow> = match conn {
            AnyConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
            AnyConnection::Sqlite(c) => due.load(c)?,
        };
        let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set((
                outbox::next_attempt_at.eq(now + LEASE),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::claim_token.eq(claim_token.to_string()),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, shop, channel, message, recipient, payload, attempts)| {
                Some(OutboxEntry {
                    id: id.parse().ok()?,
                    shop_id: shop.parse().ok()?,
                    channel,
                    chat_message_id: message.and_then(|m| m.parse().ok()),
                    recipient,
                    payload,
                    attempts: attempts + 1,
                    claim_token,
                })
            })
            .collect())
    })
}

/// Extends this worker's hold on an entry just before it is sent; false when
/// the hold was lost (the lease ran out and another worker took the entry),
/// in which case it must not be sent.
pub fn renew(conn: &mut AnyConnection, entry: &OutboxEntry) -> QueryResult<bool> {
    let now = crate::db::now();
    let renewed = diesel::update(outbox::table.find(entry.id.to_string()))
        .filter(outbox::claim_token.eq(entry.claim_token.to_string()))
        .filter(outbox::status.eq("pending"))
        .set((outbox::next_attempt_at.eq(now + LEASE), outbox::updated_at.eq(now)))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// Records an outcome if this worker still holds the entry; false otherwise.
fn settle(
    conn: &mut AnyConnection,
    entry: &OutboxEntry,
    status: &str,
    error: Option<&str>,
    retry_at: Option<chrono::NaiveDateTime>,
) -> QueryResult<bool> {
    let now = crate::db::now();
    let settled = diesel::update(outbox::table.find(entry.id.to_string()))
        .filter(outbox::claim_token.eq(entry.claim_token.to_string()))
        .filter(outbox::status.eq("pending"))
        .set((
            outbox::status.eq(status),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(retry_at.unwrap_or(now)),
            outbox::claim_token.eq(None::<String>),
            outbox::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(settled == 1)
}

pub fn mark_sent(conn: &mut AnyConnection, entry: &OutboxEntry) -> QueryResult<bool> {
    settle(conn, entry, "sent", None, None)
}

pub fn retry_at(
    conn: &mut AnyConnection,
    entry: &OutboxEntry,
    at: chrono::NaiveDateTime,
    error: &str,
) -> QueryResult<bool> {
    settle(conn, entry, "pending", Some(error), Some(at))
}

pub fn mark_failed(conn: &mut AnyConnection, entry: &OutboxEntry, error: &str) -> QueryResult<bool> {
    settle(conn, entry, "failed", Some(error), None)
}

/// Held until the customer writes again (the 24-hour window is closed).
pub fn mark_waiting(conn: &mut AnyConnection, entry: &OutboxEntry, reason: &str) -> QueryResult<bool> {
    settle(conn, entry, "waiting", Some(reason), None)
}

/// When the customer writes again, what waited for the window goes out.
pub fn release_waiting(conn: &mut AnyConnection, shop: ShopId, recipient: &str) -> QueryResult<usize> {
    let now = crate::db::now();
    diesel::update(outbox::table)
        .filter(outbox::shop_id.eq(shop.to_string()))
        .filter(outbox::recipient.eq(recipient))
        .filter(outbox::status.eq("waiting"))
        // A fresh start: the window is open again.
        .set((
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Marks as delivered what a local chat has shown to its customer.
pub fn settle_local(conn: &mut AnyConnection, shop: ShopId, recipient: &str) -> QueryResult<usize> {
    let now = crate::db::now();
    diesel::update(outbox::table)
        .filter(outbox::shop_id.eq(shop.to_string()))
        .filter(outbox::recipient.eq(recipient))
        .filter(outbox::status.eq("pending"))
        .set((outbox::status.eq("sent"), outbox::updated_at.eq(now)))
        .execute(conn)
}

/// How many messages to this recipient wait for their window to reopen.
pub fn waiting_count(conn: &mut AnyConnection, shop: ShopId, recipient: &str) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::shop_id.eq(shop.to_string()))
        .filter(outbox::recipient.eq(recipient))
        .filter(outbox::status.eq("waiting"))
        .count()
        .get_result(conn)
}
