//! Giving money back: the shop asks (`request_refund`), a job asks the PSP
//! (`RequestRefund`), another follows it until it settles or fails
//! (`FollowRefund`); returns the PSP made on its own (MED) are recorded
//! when a Pix is read (`record_returns`).

use super::jobs::{blocking, failed, query_error};
use super::psp::{Psp, PspError, PspPix, PspReturn, RefundRequest, ReturnState};
use super::received::{self, PaymentOutcome};
use super::refund::{self, NewRefund, RefundInitiator, RefundStatus, lock_order, refundable};
use super::view::{Links, RefundView};
use super::{PaymentError, PaymentsDeps};
use crate::db::schema::refunds;
use crate::db::{AnyConnection, write_transaction};
use crate::events::{self, EventType};
use crate::ids::{OrderId, ShopId};
use crate::jobs::{self, Job, JobKind, JobRun, Outcome, RetryPolicy, Schedule};
use crate::money::Money;
use crate::orders;
use crate::pix::{EndToEndId, RefundId};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Refunds are possible for 90 days after a Pix.
pub const REFUND_WINDOW: TimeDelta = TimeDelta::days(90);
pub const MAX_REASON_CHARS: usize = 140;

/// Asks for a refund of the order's money: from the Pix that paid it (or,
/// for an order never paid, the Pix that came late or of another amount).
pub fn request_refund(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    amount: Money,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<RefundView, PaymentError> {
    if amount == Money::ZERO {
        return Err(PaymentError::Invalid { field: "amount", reason: "must be more than 0.00".into() });
    }
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(PaymentError::Invalid {
            field: "reason",
            reason: format!("at most {MAX_REASON_CHARS} characters"),
        });
    }
    write_transaction(conn, |conn| {
        lock_order(conn, shop, order, now)?;
        let payments = received::of_order(conn, order)?;
        let mut best: Option<(EndToEndId, Money)> = None;
        for payment in payments.iter().filter(|p| p.outcome != PaymentOutcome::Orphan) {
            if payment.paid_at + REFUND_WINDOW < now {
                continue;
            }
            let left = refundable(conn, &payment.end_to_end_id)?;
            if best.as_ref().is_none_or(|(_, most)| left > *most) {
                best = Some((payment.end_to_end_id.clone(), left));
            }
        }
        let Some((e2e, left)) = best else { return Err(PaymentError::NothingToRefund) };
        if amount > left {
            return Err(PaymentError::RefundTooLarge { asked: amount, left });
        }
        let id = RefundId::generate();
        diesel::insert_into(refunds::table)
            .values(NewRefund {
                id: &id,
                end_to_end_id: &e2e,
                shop_id: shop,
                order_id: Some(order),
                amount,
                reason,
                nature: Some("ORIGINAL"),
                initiated_by: RefundInitiator::Shop,
                status: RefundStatus::Processing,
                rtr_id: None,
                requested_at: now,
                settled_at: None,
                updated_at: now,
            })
            .execute(conn)?;
        let job = RequestRefund { shop_id: shop, end_to_end_id: e2e.clone(), id: id.clone() };
        jobs::enqueue(conn, &job, Schedule::for_shop(shop).dedupe(format!("refund.request:{e2e}:{id}")))?;
        Ok(RefundView {
            id,
            end_to_end_id: e2e,
            amount,
            status: RefundStatus::Processing,
            reason: reason.map(String::from),
            initiated_by: RefundInitiator::Shop,
            nature: Some("ORIGINAL".into()),
            error: None,
        })
    })
}

/// Records what the PSP says of a refund: settled, failed, or (a return we
/// did not ask for) a new row.
pub fn record_return(
    conn: &mut AnyConnection,
    shop: ShopId,
    e2e: &EndToEndId,
    answer: &PspReturn,
    links: &Links,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    write_transaction(conn, |conn| {
        let known = refund::find(conn, e2e, &answer.id)?;
        let order = match &known {
            Some(r) => r.order_id,
            None => received::find(conn, shop, e2e)?.and_then(|p| p.order_id),
        };
        if known.is_none() {
            let Some(_) = received::find(conn, shop, e2e)? else { return Ok(()) };
            diesel::insert_into(refunds::table)
                .values(NewRefund {
                    id: &answer.id,
                    end_to_end_id: e2e,
                    shop_id: shop,
                    order_id: order,
                    amount: answer.amount,
                    reason: answer.reason.as_deref(),
                    nature: answer.nature.as_deref(),
                    initiated_by: RefundInitiator::Psp,
                    status: RefundStatus::Processing,
                    rtr_id: answer.rtr_id.as_deref(),
                    requested_at: answer.requested_at.map(|t| t.naive_utc()).unwrap_or(now),
                    settled_at: None,
                    updated_at: now,
                })
                .execute(conn)?;
            tracing::warn!(shop = %shop, e2e = %e2e, id = %answer.id, nature = ?answer.nature,
                "the PSP returned money the shop did not ask for");
            if let Some(order) = order {
                let flags = orders::OrderFlags { returned_by_psp: true, ..orders::OrderFlags::default() };
                orders::record_flags(conn, shop, order, flags, now)?;
            }
        }
        let to = match answer.status {
            ReturnState::Processing => return Ok(()),
            ReturnState::Returned => RefundStatus::Settled,
            ReturnState::NotDone => RefundStatus::Failed,
        };
        // What the PSP said of a refund it did not make (its `motivo`, or
        // the error that ended our asking), kept beside the refund.
        let failure = (to == RefundStatus::Failed).then(|| failure_reason(known.as_ref(), answer)).flatten();
        let moved =
            diesel::update(refunds::table.filter(refunds::end_to_end_id.eq(e2e)).filter(refunds::id.eq(&answer.id)))
                .filter(refunds::status.eq(RefundStatus::Processing))
                .set((
                    refunds::status.eq(to),
                    refunds::error.eq(failure.as_deref()),
                    refunds::rtr_id.eq(answer.rtr_id.as_deref()),
                    refunds::settled_at.eq(answer.settled_at.map(|t| t.naive_utc()).or(Some(now))),
                    refunds::updated_at.eq(now),
                ))
                .execute(conn)?;
        if moved != 1 {
            return Ok(());
        }
        let Some(row) = refund::find(conn, e2e, &answer.id)? else { return Ok(()) };
        if to == RefundStatus::Settled
            && let Some(order) = row.order_id
        {
            orders::record_refunded(conn, shop, order, row.amount, now)?;
        }
        let number = match row.order_id {
            Some(order) => Some(orders::repo::get(conn, shop, order)?.number),
            None => None,
        };
        let data = serde_json::json!({ "refund": {
            "id": row.id, "end_to_end_id": row.end_to_end_id, "order_id": row.order_id, "order_number": number,
            "amount": row.amount, "status": row.status, "reason": row.reason, "rtr_id": row.rtr_id,
            "initiated_by": row.initiated_by, "nature": row.nature, "error": row.error,
            "requested_at": crate::clock::rfc3339::format(&row.requested_at),
            "settled_at": row.settled_at.as_ref().map(crate::clock::rfc3339::format),
        }});
        let event = if to == RefundStatus::Settled { EventType::RefundSettled } else { EventType::RefundFailed };
        events::record(conn, shop, event, &data, Some(format!("{event}:{e2e}:{}", row.id)), now)?;
        if to == RefundStatus::Settled
            && let Some(order) = row.order_id
        {
            let view = super::view::order_view(conn, shop, order, links)?;
            let dedupe = format!("order.refunded:{e2e}:{}", row.id);
            events::record(
                conn,
                shop,
                EventType::OrderRefunded,
                &serde_json::json!({ "order": view, "refund": { "id": row.id, "amount": row.amount } }),
                Some(dedupe),
                now,
            )?;
        }
        Ok(())
    })
}

/// The PSP's words for a refund it did not make; the shop's own reason,
/// which some PSPs echo back as `descricao`, is no explanation.
fn failure_reason(known: Option<&refund::Refund>, answer: &PspReturn) -> Option<String> {
    let said = answer.reason.as_deref().map(str::trim).filter(|r| !r.is_empty())?;
    let echoed = known.and_then(|r| r.reason.as_deref()).is_some_and(|own| own.trim() == said);
    (!echoed).then(|| said.chars().take(500).collect())
}

/// The returns a Pix carries (`devolucoes`), ours or the PSP's.
pub fn record_returns(
    conn: &mut AnyConnection,
    shop: ShopId,
    pix: &PspPix,
    links: &Links,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    for answer in &pix.returns {
        record_return(conn, shop, &pix.end_to_end_id, answer, links, now)?;
    }
    Ok(())
}

/// Asks the PSP for the devolução (our id: asking again is the same one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRefund {
    pub shop_id: ShopId,
    pub end_to_end_id: EndToEndId,
    pub id: RefundId,
}

impl JobKind for RequestRefund {
    const KIND: &'static str = "refund.request";
}

const REFUND_RETRY: RetryPolicy =
    RetryPolicy { max_attempts: 14, base: TimeDelta::seconds(2), cap: TimeDelta::hours(2) };

impl<C: PaymentsDeps> Job<C> for RequestRefund {
    const RETRY: RetryPolicy = REFUND_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, e2e, id, ctx) = (self.shop_id, self.end_to_end_id.clone(), self.id.clone(), context.clone());
        let loaded = blocking(run.pool(), move |conn| {
            let Some(row) = refund::find(conn, &e2e, &id)?.filter(|r| r.status == RefundStatus::Processing) else {
                return Ok(None);
            };
            Ok(Some((row, ctx.psp(conn, shop)?)))
        })
        .await;
        let (row, psp) = match loaded {
            Err(error) => return Outcome::retry(error),
            Ok(None) => return Outcome::done(),
            Ok(Some(found)) => found,
        };
        if !run.renew().await {
            return Outcome::lost();
        }
        let request = RefundRequest {
            end_to_end_id: row.end_to_end_id.clone(),
            id: row.id.clone(),
            amount: row.amount,
            description: row.reason.clone(),
        };
        match psp.refund(&request).await {
            Err(error) => failed(error),
            Ok(answer) => settle_or_follow(&self, answer, context.links().clone(), run.now()),
        }
    }

    fn on_dead(&self, conn: &mut AnyConnection, error: &str) -> diesel::QueryResult<()> {
        let failed = PspReturn {
            id: self.id.clone(),
            rtr_id: None,
            amount: Money::ZERO,
            status: ReturnState::NotDone,
            nature: None,
            reason: Some(error.to_owned()),
            requested_at: None,
            settled_at: None,
        };
        let links = Links { public_url: String::new() };
        record_return(conn, self.shop_id, &self.end_to_end_id, &failed, &links, chrono::Utc::now().naive_utc())
            .map_err(query_error)
    }
}

/// Records the PSP's answer; a refund still processing is looked at again.
fn settle_or_follow(job: &RequestRefund, answer: PspReturn, links: Links, now: NaiveDateTime) -> Outcome {
    let (shop, e2e) = (job.shop_id, job.end_to_end_id.clone());
    let follow = (answer.status == ReturnState::Processing).then(|| FollowRefund {
        shop_id: shop,
        end_to_end_id: e2e.clone(),
        id: answer.id.clone(),
        round: 1,
    });
    Outcome::done().with(move |conn| {
        record_return(conn, shop, &e2e, &answer, &links, now).map_err(query_error)?;
        if let Some(next) = &follow {
            jobs::enqueue(conn, next, next.schedule(now)).map_err(|e| query_error(PaymentError::Jobs(e)))?;
        }
        Ok(())
    })
}

/// Reads a processing refund back from the PSP until it settles or fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowRefund {
    pub shop_id: ShopId,
    pub end_to_end_id: EndToEndId,
    pub id: RefundId,
    pub round: u32,
}

impl JobKind for FollowRefund {
    const KIND: &'static str = "refund.follow";
}

impl FollowRefund {
    fn schedule(&self, now: NaiveDateTime) -> Schedule {
        let wait = TimeDelta::seconds(30) * (1i32 << self.round.saturating_sub(1).min(7));
        Schedule::for_shop(self.shop_id)
            .at(now + wait)
            .dedupe(format!("refund.follow:{}:{}:{}", self.end_to_end_id, self.id, self.round))
    }
}

impl<C: PaymentsDeps> Job<C> for FollowRefund {
    const RETRY: RetryPolicy = REFUND_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, e2e, id, ctx) = (self.shop_id, self.end_to_end_id.clone(), self.id.clone(), context.clone());
        let loaded = blocking(run.pool(), move |conn| {
            let open = refund::find(conn, &e2e, &id)?.is_some_and(|r| r.status == RefundStatus::Processing);
            Ok(if open { Some(ctx.psp(conn, shop)?) } else { None })
        })
        .await;
        let psp = match loaded {
            Err(error) => return Outcome::retry(error),
            Ok(None) => return Outcome::done(),
            Ok(Some(psp)) => psp,
        };
        if !run.renew().await {
            return Outcome::lost();
        }
        match psp.get_refund(&self.end_to_end_id, &self.id).await {
            Err(PspError::NotFound) => Outcome::retry("the PSP does not know this refund yet"),
            Err(error) => failed(error),
            Ok(answer) => {
                let links = context.links().clone();
                let now = run.now();
                let next = FollowRefund { round: self.round + 1, ..self.clone() };
                let again = answer.status == ReturnState::Processing && self.round < 20;
                let e2e = self.end_to_end_id.clone();
                Outcome::done().with(move |conn| {
                    record_return(conn, shop, &e2e, &answer, &links, now).map_err(query_error)?;
                    if again {
                        jobs::enqueue(conn, &next, next.schedule(now))
                            .map_err(|e| query_error(PaymentError::Jobs(e)))?;
                    }
                    Ok(())
                })
            }
        }
    }
}
