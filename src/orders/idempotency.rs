//! `Idempotency-Key` for placing orders over the API, by Stripe's rules: the
//! same key (per shop, kept 24 hours) gives back the same order; the same key
//! with another body is refused; a second request while the first is still
//! running is told to wait (409). The key is claimed by a unique insert
//! before the work starts, so two processes cannot both start it.

use super::OrderError;
use crate::db::AnyConnection;
use crate::db::schema::idempotency_keys;
use crate::ids::{OrderId, ShopId};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use sha2::{Digest, Sha256};

/// How long a key is remembered.
pub const KEPT: TimeDelta = TimeDelta::hours(24);
/// A claim whose request died without finishing is taken over after this.
const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(2);
pub const MAX_KEY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: do the work, then `complete` (or `abandon`).
    New,
    /// Done before: answer with this order.
    Replay(OrderId),
    /// Another request with this key is running.
    InFlight,
    /// The key was used with another body.
    Mismatch,
}

/// A fingerprint of the request the key was first used with.
pub fn fingerprint(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

pub fn begin(
    conn: &mut AnyConnection,
    shop: ShopId,
    key: &str,
    fingerprint: &str,
    now: NaiveDateTime,
) -> Result<Claim, OrderError> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(OrderError::Invalid {
            field: "Idempotency-Key",
            reason: format!("must be 1 to {MAX_KEY_CHARS} characters"),
        });
    }
    let this = idempotency_keys::table.filter(idempotency_keys::shop_id.eq(shop)).filter(idempotency_keys::key.eq(key));
    // A key older than a day is forgotten.
    diesel::delete(this.filter(idempotency_keys::created_at.lt(now - KEPT))).execute(conn)?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::shop_id.eq(shop),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(fingerprint),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(Claim::New),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    let Some((hash, order, created_at)) = this
        .select((idempotency_keys::request_hash, idempotency_keys::order_id, idempotency_keys::created_at))
        .first::<(String, Option<OrderId>, NaiveDateTime)>(conn)
        .optional()?
    else {
        // Removed between our insert and read: the first request gave up.
        return Ok(Claim::InFlight);
    };
    if hash != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if let Some(order) = order {
        return Ok(Claim::Replay(order));
    }
    if created_at < now - ABANDONED_AFTER {
        let taken = diesel::update(this.filter(idempotency_keys::created_at.eq(created_at)))
            .filter(idempotency_keys::order_id.is_null())
            .set(idempotency_keys::created_at.eq(now))
            .execute(conn)?;
        if taken == 1 {
            return Ok(Claim::New);
        }
    }
    Ok(Claim::InFlight)
}

/// Ties the key to the order, in the transaction that placed it.
pub fn complete(conn: &mut AnyConnection, shop: ShopId, key: &str, order: OrderId) -> Result<(), OrderError> {
    diesel::update(
        idempotency_keys::table.filter(idempotency_keys::shop_id.eq(shop)).filter(idempotency_keys::key.eq(key)),
    )
    .set(idempotency_keys::order_id.eq(order))
    .execute(conn)?;
    Ok(())
}

/// The work failed (nothing was placed): the key may be used again.
pub fn abandon(conn: &mut AnyConnection, shop: ShopId, key: &str) -> Result<(), OrderError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::shop_id.eq(shop))
            .filter(idempotency_keys::key.eq(key))
            .filter(idempotency_keys::order_id.is_null()),
    )
    .execute(conn)?;
    Ok(())
}
