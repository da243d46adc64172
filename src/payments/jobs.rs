//! The PSP's side of a charge, as jobs run after the checkout commits:
//! create it, watch it (polling with backoff), expire it, cancel it, and
//! confirm what a callback said. Each reads what it needs, calls the PSP
//! with no transaction open, and commits what it learnt with its outcome.

use super::charge::{self, ChargeStatus, PspKind};
use super::checkout::{close_charge, record};
use super::confirm::record_pix;
use super::psp::{ChargeRequest, Psp, PspError, PspPix};
use super::received::PaymentSource;
use super::refunds::record_returns;
use super::view::{Links, order_view};
use super::{PaymentError, PaymentsDeps};
use crate::db::{AnyConnection, Pool};
use crate::events::EventType;
use crate::ids::{OrderId, ShopId};
use crate::jobs::{Job, JobKind, JobRun, Outcome, RetryPolicy, Schedule};
use crate::orders::{self, Closed, OrderStatus};
use crate::pix::brcode::PixKey;
use crate::pix::{ChargeTxid, EndToEndId};
use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// PSP calls are retried for about a day before a job gives up.
pub(super) const PSP_RETRY: RetryPolicy =
    RetryPolicy { max_attempts: 14, base: TimeDelta::seconds(2), cap: TimeDelta::hours(2) };

fn order_word(language: &str) -> &'static str {
    if language.starts_with("en") { "Order" } else { "Pedido" }
}

/// Runs database work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    pool: &Pool,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, PaymentError> + Send + 'static,
) -> Result<T, String> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        work(&mut conn).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

pub(super) fn query_error(error: PaymentError) -> diesel::result::Error {
    match error {
        PaymentError::Db(e) => e,
        other => diesel::result::Error::SerializationError(Box::new(std::io::Error::other(other.to_string()))),
    }
}

/// The shop's PSP client, the job's lease renewed for the call to come.
pub(super) async fn psp_for_call<C: PaymentsDeps>(
    context: &Arc<C>,
    run: &JobRun,
    shop: ShopId,
) -> Result<C::Psp, Outcome> {
    let ctx = context.clone();
    let psp = blocking(run.pool(), move |conn| Ok(ctx.psp(conn, shop)?)).await.map_err(Outcome::retry)?;
    if !run.renew().await {
        return Err(Outcome::lost());
    }
    Ok(psp)
}

/// What a PSP failure means for the job.
pub(super) fn failed(error: PspError) -> Outcome {
    if error.is_transient() { Outcome::retry(error.to_string()) } else { Outcome::dead(error.to_string()) }
}

/// Records the Pix the PSP vouched for, with the job's outcome.
pub(super) fn record_all(
    outcome: Outcome,
    shop: ShopId,
    pix: Vec<PspPix>,
    source: PaymentSource,
    links: Links,
    now: NaiveDateTime,
) -> Outcome {
    if pix.is_empty() {
        return outcome;
    }
    outcome.with(move |conn| {
        for one in &pix {
            record_pix(conn, shop, one, source, &links, now).map_err(query_error)?;
            record_returns(conn, shop, one, &links, now).map_err(query_error)?;
        }
        Ok(())
    })
}

/// Makes the charge at the PSP (the txid is ours: a retry is the same charge).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCharge {
    pub shop_id: ShopId,
    pub txid: ChargeTxid,
}

impl JobKind for CreateCharge {
    const KIND: &'static str = "charge.create";
}

impl<C: PaymentsDeps> Job<C> for CreateCharge {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, txid, ctx) = (self.shop_id, self.txid.clone(), context.clone());
        let now = run.now();
        let loaded = blocking(run.pool(), move |conn| {
            let Some(charge) = charge::by_txid(conn, &txid)?.filter(|c| c.status == ChargeStatus::Pending) else {
                return Ok(None);
            };
            let order = orders::repo::get(conn, shop, charge.order_id)?;
            let shop_row = crate::shops::get(conn, shop)?;
            let key = PixKey::parse(charge.pix_key.as_deref().unwrap_or(&shop_row.pix.key))
                .map_err(|e| PaymentError::Invalid { field: "pix.key", reason: e.to_string() })?;
            let psp = ctx.psp(conn, shop)?;
            let expires_in = (charge.expires_at - now).num_seconds().max(60) as u32;
            let request = ChargeRequest {
                txid: charge.txid.clone(),
                amount: charge.amount,
                key,
                expires_in,
                // Shown to the payer by the bank app, in the shop's language.
                description: format!("{} {} - {}", order_word(&shop_row.language), order.number, shop_row.name)
                    .chars()
                    .take(140)
                    .collect(),
                merchant_name: shop_row.pix.merchant_name,
                merchant_city: shop_row.pix.merchant_city,
            };
            Ok(Some((request, psp)))
        })
        .await;
        let (request, psp) = match loaded {
            Err(error) => return Outcome::retry(error),
            Ok(None) => return Outcome::done(),
            Ok(Some(found)) => found,
        };
        if !run.renew().await {
            return Outcome::lost();
        }
        match psp.create_charge(&request).await {
            Err(error) => failed(error),
            Ok(made) => {
                let links = context.links().clone();
                let now = run.now();
                Outcome::done().with(move |conn| {
                    let txid = &made.txid;
                    if charge::mark_active(conn, txid, &made.pix_copia_e_cola, made.location.as_deref(), now)? {
                        let Some(charge) = charge::by_txid(conn, txid)? else { return Ok(()) };
                        let view = order_view(conn, shop, charge.order_id, &links).map_err(query_error)?;
                        record(conn, shop, EventType::ChargeIssued, &view, now).map_err(query_error)?;
                    }
                    Ok(())
                })
            }
        }
    }

    fn on_dead(&self, conn: &mut AnyConnection, error: &str) -> diesel::QueryResult<()> {
        charge::close(conn, &self.txid, ChargeStatus::Failed, Some(error), chrono::Utc::now().naive_utc()).map(|_| ())
    }
}

/// Tells the PSP a charge is no longer payable (API Pix has no expiry of
/// its own: a charge past its time stays payable until removed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelCharge {
    pub shop_id: ShopId,
    pub txid: ChargeTxid,
}

impl JobKind for CancelCharge {
    const KIND: &'static str = "charge.cancel";
}

impl<C: PaymentsDeps> Job<C> for CancelCharge {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let shop = self.shop_id;
        let psp = match psp_for_call(&context, &run, shop).await {
            Ok(psp) => psp,
            Err(outcome) => return outcome,
        };
        match psp.cancel_charge(&self.txid).await {
            Ok(()) | Err(PspError::NotFound) => Outcome::done(),
            Err(error) => failed(error),
        }
    }
}

/// The customer's time is up: one last look at the PSP (a lost callback),
/// then the order expires, its stock comes back and the charge is removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpireOrder {
    pub shop_id: ShopId,
    pub order_id: OrderId,
}

impl JobKind for ExpireOrder {
    const KIND: &'static str = "order.expire";
}

impl<C: PaymentsDeps> Job<C> for ExpireOrder {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, order, ctx) = (self.shop_id, self.order_id, context.clone());
        let loaded = blocking(run.pool(), move |conn| {
            let current = orders::repo::get(conn, shop, order)?;
            if current.status != OrderStatus::PendingPayment {
                return Ok(None);
            }
            let charge = charge::of_order(conn, order)?;
            Ok(Some((charge, ctx.psp(conn, shop)?)))
        })
        .await;
        let (charge, psp) = match loaded {
            Err(error) => return Outcome::retry(error),
            Ok(None) => return Outcome::done(),
            Ok(Some(found)) => found,
        };
        let mut paid = Vec::new();
        if let Some(charge) = charge.filter(|c| c.psp == PspKind::ApiPix && c.status == ChargeStatus::Active) {
            if !run.renew().await {
                return Outcome::lost();
            }
            match psp.get_charge(&charge.txid).await {
                Ok(found) => paid = found.pix,
                Err(PspError::NotFound) => {}
                Err(error) if error.is_transient() => return Outcome::retry(error.to_string()),
                Err(error) => tracing::warn!(%error, txid = %charge.txid, "cannot read the charge before expiring it"),
            }
        }
        let links = context.links().clone();
        let expire_links = links.clone();
        let now = run.now();
        record_all(Outcome::done(), shop, paid, PaymentSource::Poll, links, now)
            .with(move |conn| expire(conn, shop, order, &expire_links, now).map_err(query_error))
    }
}

fn expire(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    links: &Links,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    if orders::close_unpaid(conn, shop, order, Closed::Expired, now)? {
        close_charge(conn, shop, order, ChargeStatus::Expired, now)?;
        let view = order_view(conn, shop, order, links)?;
        record(conn, shop, EventType::OrderExpired, &view, now)?;
    }
    Ok(())
}

/// Looks at a pending charge at its PSP, so a lost callback cannot leave a
/// paid order unpaid; again later, less often each round, until it closes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PollCharge {
    pub shop_id: ShopId,
    pub txid: ChargeTxid,
    pub round: u32,
}

impl JobKind for PollCharge {
    const KIND: &'static str = "charge.poll";
}

impl PollCharge {
    /// Round n runs `interval × 2^(n-1)` after `now`, at most 16 intervals apart.
    pub fn schedule(&self, now: NaiveDateTime, interval: TimeDelta) -> Schedule {
        let factor = 1i32 << self.round.saturating_sub(1).min(4);
        Schedule::for_shop(self.shop_id)
            .at(now + interval * factor)
            .dedupe(format!("charge.poll:{}:{}", self.txid, self.round))
    }
}

impl<C: PaymentsDeps> Job<C> for PollCharge {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, txid, ctx) = (self.shop_id, self.txid.clone(), context.clone());
        let interval = context.reconcile_interval();
        let next = PollCharge { round: self.round + 1, ..self.clone() };
        let loaded = blocking(run.pool(), move |conn| {
            let found = charge::by_txid(conn, &txid)?;
            Ok(match found {
                Some(charge) if charge.status == ChargeStatus::Active => Some(Some((charge, ctx.psp(conn, shop)?))),
                // Still being made at the PSP (its create job retrying):
                // look again next round rather than stop watching.
                Some(charge) if charge.status == ChargeStatus::Pending => Some(None),
                _ => None,
            })
        })
        .await;
        let (charge, psp) = match loaded {
            Err(error) => return Outcome::retry(error),
            Ok(None) => return Outcome::done(),
            Ok(Some(None)) => {
                let now = run.now();
                return Outcome::done().with(move |conn| {
                    crate::jobs::enqueue(conn, &next, next.schedule(now, interval))
                        .map(|_| ())
                        .map_err(|e| query_error(PaymentError::Jobs(e)))
                });
            }
            Ok(Some(Some(found))) => found,
        };
        if !run.renew().await {
            return Outcome::lost();
        }
        let found = match psp.get_charge(&charge.txid).await {
            Ok(found) => found.pix,
            Err(PspError::NotFound) => Vec::new(),
            Err(error) => return failed(error),
        };
        let now = run.now();
        let keep_watching = found.is_empty() && now < charge.expires_at;
        record_all(Outcome::done(), shop, found, PaymentSource::Poll, context.links().clone(), now).with(move |conn| {
            if keep_watching {
                crate::jobs::enqueue(conn, &next, next.schedule(now, interval))
                    .map_err(|e| query_error(PaymentError::Jobs(e)))?;
            }
            Ok(())
        })
    }
}

/// A callback named this Pix: confirm it with the PSP before anything
/// changes (anyone can post to our URL).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyPix {
    pub shop_id: ShopId,
    pub end_to_end_id: EndToEndId,
}

impl JobKind for VerifyPix {
    const KIND: &'static str = "pix.verify";
}

impl<C: PaymentsDeps> Job<C> for VerifyPix {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let shop = self.shop_id;
        let psp = match psp_for_call(&context, &run, shop).await {
            Ok(psp) => psp,
            Err(outcome) => return outcome,
        };
        match psp.get_pix(&self.end_to_end_id).await {
            Ok(pix) => {
                record_all(Outcome::done(), shop, vec![pix], PaymentSource::Webhook, context.links().clone(), run.now())
            }
            Err(PspError::NotFound) => {
                tracing::warn!(shop = %shop, e2e = %self.end_to_end_id, "a callback named a Pix the PSP does not know: nothing changed");
                Outcome::done()
            }
            Err(error) => failed(error),
        }
    }
}
