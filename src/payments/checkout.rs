//! Checkout with its charge: the order placed, its stock reserved, its
//! charge written `pending` and the jobs that make it at the PSP, expire it
//! and watch it, all in one transaction. Cancel and fulfil, with their
//! events.

use super::PaymentError;
use super::charge::{self, Charge, ChargeStatus, PspKind};
use super::jobs::{CancelCharge, CreateCharge, ExpireOrder, PollCharge};
use super::view::{Links, OrderView, view_of};
use crate::db::schema::psp_settings;
use crate::db::{AnyConnection, write_transaction};
use crate::events::{self, EventType};
use crate::ids::{OrderId, ShopId};
use crate::jobs::{self, Schedule};
use crate::orders::idempotency::{self, Claim};
use crate::orders::{self, Checkout, Closed, OrderError, OrderStatus, Pricing};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

/// The service's side of a checkout.
#[derive(Debug, Clone)]
pub struct Placed<'a> {
    pub links: &'a Links,
    /// `CHATSHOP_CHARGE_TTL_SECONDS`, when the shop has no setting.
    pub default_ttl: TimeDelta,
    /// How often a pending charge is polled at an API Pix PSP.
    pub reconcile_interval: TimeDelta,
}

/// Places the order and opens its charge, in the caller's transaction.
pub fn checkout(
    conn: &mut AnyConnection,
    shop: ShopId,
    request: &Checkout,
    placed: &Placed<'_>,
    now: NaiveDateTime,
) -> Result<(OrderView, Charge), PaymentError> {
    write_transaction(conn, |conn| {
        let settings = crate::shops::settings::get(conn, shop)?;
        let ttl =
            settings.checkout.charge_ttl_seconds.map(|s| TimeDelta::seconds(s.into())).unwrap_or(placed.default_ttl);
        let pricing = Pricing {
            shipping_fee: settings.checkout.shipping_fee,
            free_shipping_above: settings.checkout.free_shipping_above,
            ttl,
        };
        let (order, _) = orders::place(conn, shop, request, &pricing, now)?;
        let psp = psp_kind(conn, shop)?;
        let charge = charge::insert(conn, shop, order.id, psp, order.total, order.expires_at, now)?;
        let job = CreateCharge { shop_id: shop, txid: charge.txid.clone() };
        jobs::enqueue(conn, &job, Schedule::for_shop(shop).dedupe(format!("charge.create:{}", charge.txid)))?;
        let expire = ExpireOrder { shop_id: shop, order_id: order.id };
        jobs::enqueue(
            conn,
            &expire,
            Schedule::for_shop(shop).at(order.expires_at).dedupe(format!("order.expire:{}", order.id)),
        )?;
        if psp == PspKind::ApiPix {
            let poll = PollCharge { shop_id: shop, txid: charge.txid.clone(), round: 1 };
            jobs::enqueue(conn, &poll, poll.schedule(now, placed.reconcile_interval))?;
        }
        let view = view_of(conn, order, placed.links)?;
        record(conn, shop, EventType::OrderCreated, &view, now)?;
        Ok((view, charge))
    })
}

/// The shop's PSP kind; no settings means the sandbox.
pub(super) fn psp_kind(conn: &mut AnyConnection, shop: ShopId) -> QueryResult<PspKind> {
    Ok(psp_settings::table
        .find(shop)
        .select(psp_settings::kind)
        .first::<PspKind>(conn)
        .optional()?
        .unwrap_or(PspKind::Sandbox))
}

/// An order event with the order as the API shows it; once per order and type.
pub(super) fn record(
    conn: &mut AnyConnection,
    shop: ShopId,
    event: EventType,
    view: &OrderView,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    let dedupe = format!("{event}:{}", view.id);
    events::record(conn, shop, event, &serde_json::json!({ "order": view }), Some(dedupe), now)?;
    Ok(())
}

/// What an `Idempotency-Key` checkout came to.
#[derive(Debug)]
pub enum CheckoutOutcome {
    Created(OrderView),
    /// The key was used before with the same body: that order.
    Replayed(OrderView),
    InFlight,
    Mismatch,
}

/// `POST /v1/orders` with an `Idempotency-Key`.
pub fn checkout_idempotent(
    conn: &mut AnyConnection,
    shop: ShopId,
    key: &str,
    fingerprint: &str,
    request: &Checkout,
    placed: &Placed<'_>,
    now: NaiveDateTime,
) -> Result<CheckoutOutcome, PaymentError> {
    match idempotency::begin(conn, shop, key, fingerprint, now)? {
        Claim::Replay(order) => {
            Ok(CheckoutOutcome::Replayed(super::view::order_view(conn, shop, order, placed.links)?))
        }
        Claim::InFlight => Ok(CheckoutOutcome::InFlight),
        Claim::Mismatch => Ok(CheckoutOutcome::Mismatch),
        Claim::New => {
            let placed_order = write_transaction(conn, |conn| {
                let (view, _) = checkout(conn, shop, request, placed, now)?;
                idempotency::complete(conn, shop, key, view.id)?;
                Ok::<_, PaymentError>(view)
            });
            match placed_order {
                Ok(view) => Ok(CheckoutOutcome::Created(view)),
                Err(error) => {
                    idempotency::abandon(conn, shop, key)?;
                    Err(error)
                }
            }
        }
    }
}

crate::text_enum! {
    /// Who cancelled an order: the customer in the chat (`cancelar`), or the
    /// shop's staff through the API. `order.cancelled` carries it as
    /// `cancelled_by`.
    pub enum CancelledBy {
        Customer => "customer",
        Shop => "shop",
    }
}

/// `pending_payment` → `cancelled`: stock back, the charge cancelled at the
/// PSP (a job), and `order.cancelled` saying who did it. Every cancellation
/// (the chat's `cancelar`, `POST /v1/orders/{id}/cancel`) comes through
/// here. Cancelling a cancelled order again changes nothing.
pub fn cancel(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    by: CancelledBy,
    links: &Links,
    now: NaiveDateTime,
) -> Result<OrderView, PaymentError> {
    write_transaction(conn, |conn| {
        if orders::close_unpaid(conn, shop, order, Closed::Cancelled, now)? {
            close_charge(conn, shop, order, ChargeStatus::Cancelled, now)?;
            let view = super::view::order_view(conn, shop, order, links)?;
            let event = EventType::OrderCancelled;
            let data = serde_json::json!({ "order": view, "cancelled_by": by });
            events::record(conn, shop, event, &data, Some(format!("{event}:{}", view.id)), now)?;
            return Ok(view);
        }
        let current = orders::repo::get(conn, shop, order)?;
        match current.status {
            OrderStatus::Cancelled => Ok(view_of(conn, current, links)?),
            other => Err(OrderError::WrongState(other).into()),
        }
    })
}

/// The order's open charge closes, and the PSP is told by a job.
pub(super) fn close_charge(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    to: ChargeStatus,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    if let Some(charge) = charge::of_order(conn, order)?
        && charge::close(conn, &charge.txid, to, None, now)?
    {
        let job = CancelCharge { shop_id: shop, txid: charge.txid.clone() };
        jobs::enqueue(conn, &job, Schedule::for_shop(shop).dedupe(format!("charge.cancel:{}", charge.txid)))?;
    }
    Ok(())
}

/// `paid` → `fulfilled`.
pub fn fulfil(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    links: &Links,
    now: NaiveDateTime,
) -> Result<OrderView, PaymentError> {
    write_transaction(conn, |conn| {
        orders::fulfil(conn, shop, order, now)?;
        let view = super::view::order_view(conn, shop, order, links)?;
        record(conn, shop, EventType::OrderFulfilled, &view, now)?;
        Ok(view)
    })
}
