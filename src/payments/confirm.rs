//! The one confirmation path: a Pix the PSP vouched for (re-fetched after a
//! callback, found by polling or the daily sweep, or paid in the sandbox) is
//! recorded once per endToEndId, and in the same transaction its order moves
//! (compare-and-set from `pending_payment`), its charge closes and its
//! events are written. Replays and concurrent duplicates change nothing
//! further: the payment's primary key lets only one of them in.

use super::PaymentError;
use super::charge::{self, ChargeStatus};
use super::checkout::{close_charge, record};
use super::psp::PspPix;
use super::received::{self, NewPayment, PaymentOutcome, PaymentSource, mask_document};
use super::view::{Links, order_view};
use crate::db::schema::{payments, shops};
use crate::db::{AnyConnection, write_transaction};
use crate::events::{self, EventType};
use crate::ids::{OrderId, ShopId};
use crate::orders::{self, Closed, Order, OrderFlags, OrderStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What recording a Pix did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    New {
        outcome: PaymentOutcome,
        order: Option<OrderId>,
    },
    /// This endToEndId was recorded before: nothing changed.
    Known,
    /// The Pix went to another key, or pays another shop's charge: not
    /// this shop's money, not recorded for it.
    NotOurs,
}

pub fn record_pix(
    conn: &mut AnyConnection,
    shop: ShopId,
    pix: &PspPix,
    source: PaymentSource,
    links: &Links,
    now: NaiveDateTime,
) -> Result<Recorded, PaymentError> {
    let inserted = write_transaction(conn, |conn| record_new(conn, shop, pix, source, links, now));
    match inserted {
        Err(PaymentError::Db(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => Ok(Recorded::Known),
        other => other,
    }
}

fn record_new(
    conn: &mut AnyConnection,
    shop: ShopId,
    pix: &PspPix,
    source: PaymentSource,
    links: &Links,
    now: NaiveDateTime,
) -> Result<Recorded, PaymentError> {
    if received::find(conn, shop, &pix.end_to_end_id)?.is_some() {
        return Ok(Recorded::Known);
    }
    let charge = match &pix.txid {
        Some(txid) => charge::by_txid(conn, txid)?,
        None => None,
    };
    // Anyone with an account at the same PSP can aim a callback here
    // (bacen/pix-api#239), and the PSP vouches for their Pix too: one for
    // another shop's charge, or to another key than the charge was issued
    // for (the shop's key of today when there is no charge), is not recorded
    // here (it would also take that endToEndId from its own shop).
    if charge.as_ref().is_some_and(|c| c.shop_id != shop) {
        tracing::warn!(shop = %shop, e2e = %pix.end_to_end_id, "a Pix for another shop's charge: not this shop's");
        return Ok(Recorded::NotOurs);
    }
    if let Some(key) = &pix.key {
        let expected = match charge.as_ref().and_then(|c| c.pix_key.clone()) {
            Some(issued_for) => issued_for,
            None => shops::table.find(shop).select(shops::pix_key).first::<String>(conn)?,
        };
        if !super::callback::same_key(key, &expected) {
            tracing::warn!(shop = %shop, e2e = %pix.end_to_end_id, "a Pix to another key: not this shop's");
            return Ok(Recorded::NotOurs);
        }
    }
    let paid_at = pix.paid_at.naive_utc();
    let order = match &charge {
        Some(charge) => Some(orders::repo::get(conn, shop, charge.order_id)?),
        None => None,
    };
    // The payment row first: its primary key admits one of concurrent
    // duplicates; the others fail here and change nothing.
    diesel::insert_into(payments::table)
        .values(NewPayment {
            end_to_end_id: &pix.end_to_end_id,
            shop_id: shop,
            txid: pix.txid.as_ref(),
            order_id: order.as_ref().map(|o| o.id),
            amount: pix.amount,
            paid_at,
            payer_name: pix.payer_name.as_deref(),
            payer_document: pix.payer_document.as_deref().map(mask_document),
            payer_info: pix.payer_info.as_deref(),
            outcome: PaymentOutcome::Orphan,
            source,
            received_at: now,
        })
        .execute(conn)?;
    let outcome = match &order {
        None => {
            tracing::warn!(shop = %shop, e2e = %pix.end_to_end_id, "a Pix for no order of ours: kept as an orphan");
            (PaymentOutcome::Orphan, false)
        }
        Some(order) => apply_to_order(conn, order, pix, paid_at, now)?,
    };
    let (outcome, expired_here) = outcome;
    diesel::update(payments::table.find(&pix.end_to_end_id)).set(payments::outcome.eq(outcome)).execute(conn)?;
    let order_id = order.as_ref().map(|o| o.id);
    let number = order.as_ref().map(|o| o.number);
    let payment = serde_json::json!({ "payment": {
        "end_to_end_id": pix.end_to_end_id, "txid": pix.txid, "amount": pix.amount,
        "paid_at": crate::clock::rfc3339::format(&paid_at), "outcome": outcome,
        "order_id": order_id, "order_number": number,
    }});
    let dedupe = |kind: &str| Some(format!("{kind}:{}", pix.end_to_end_id));
    events::record(conn, shop, EventType::PaymentReceived, &payment, dedupe("payment.received"), now)?;
    if outcome != PaymentOutcome::Matched {
        events::record(conn, shop, EventType::PaymentFlagged, &payment, dedupe("payment.flagged"), now)?;
    }
    if let Some(order) = order_id {
        let view = order_view(conn, shop, order, links)?;
        if outcome == PaymentOutcome::Matched {
            record(conn, shop, EventType::OrderPaid, &view, now)?;
        }
        if expired_here {
            record(conn, shop, EventType::OrderExpired, &view, now)?;
        }
    }
    Ok(Recorded::New { outcome, order: order_id })
}

/// Decides what the Pix does to its order, and does it; true when it
/// expired the order.
fn apply_to_order(
    conn: &mut AnyConnection,
    order: &Order,
    pix: &PspPix,
    paid_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(PaymentOutcome, bool), PaymentError> {
    let shop = order.shop_id;
    let flag = |conn: &mut AnyConnection, flags: OrderFlags| orders::record_flags(conn, shop, order.id, flags, now);
    let late = OrderFlags { late_payment: true, needs_refund: true, ..OrderFlags::default() };
    if order.status == OrderStatus::PendingPayment && paid_at > order.expires_at {
        // Paid after its time: the order expires now (stock back), and the
        // money is flagged to be given back.
        let expired = orders::close_unpaid(conn, shop, order.id, Closed::Expired, now)?;
        if expired {
            close_charge(conn, shop, order.id, ChargeStatus::Expired, now)?;
        }
        flag(conn, late)?;
        return Ok((PaymentOutcome::Late, expired));
    }
    if order.status == OrderStatus::PendingPayment {
        // A charge may be paid in parts (API Pix moves it to CONCLUIDA on
        // any amount): it is paid when the parts reach the total exactly.
        let earlier: i64 = received::of_order(conn, order.id)?
            .iter()
            .filter(|p| p.outcome == PaymentOutcome::AmountMismatch)
            .map(|p| p.amount.cents())
            .sum();
        let sum = earlier + pix.amount.cents();
        if sum == order.total.cents() {
            if orders::mark_paid(conn, shop, order.id, order.total, paid_at, now)? {
                diesel::update(payments::table.filter(payments::order_id.eq(order.id)))
                    .filter(payments::outcome.eq(PaymentOutcome::AmountMismatch))
                    .set(payments::outcome.eq(PaymentOutcome::Matched))
                    .execute(conn)?;
                if let Some(charge) = charge::of_order(conn, order.id)? {
                    charge::close(conn, &charge.txid, ChargeStatus::Paid, None, now)?;
                }
                return Ok((PaymentOutcome::Matched, false));
            }
            // Another Pix moved the order first: look again.
            let current = orders::repo::get(conn, shop, order.id)?;
            return apply_to_order(conn, &current, pix, paid_at, now);
        }
        flag(
            conn,
            OrderFlags { amount_mismatch: true, needs_refund: sum > order.total.cents(), ..OrderFlags::default() },
        )?;
        return Ok((PaymentOutcome::AmountMismatch, false));
    }
    match order.status {
        OrderStatus::Expired | OrderStatus::Cancelled => {
            flag(conn, late)?;
            Ok((PaymentOutcome::Late, false))
        }
        _ => {
            flag(conn, OrderFlags { needs_refund: true, ..OrderFlags::default() })?;
            Ok((PaymentOutcome::Duplicate, false))
        }
    }
}
