//! The daily sweep: every Pix the PSP received in a day (`GET /pix?inicio&fim`,
//! all pages), recorded through the same confirmation path as callbacks and
//! polling, so a Pix whose callback was lost and whose charge is no longer
//! polled (or which named no charge at all) is still kept. Each day's sweep
//! queues the next day's; configuring `api_pix` starts the chain.

use super::PaymentsDeps;
use super::checkout::psp_kind;
use super::jobs::{PSP_RETRY, blocking, failed, query_error, record_all};
use super::psp::Psp;
use super::received::PaymentSource;
use super::{PaymentError, PspKind};
use crate::db::AnyConnection;
use crate::ids::ShopId;
use crate::jobs::{self, Job, JobKind, JobRun, Outcome, RetryPolicy, Schedule};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A day's sweep runs this long after the day ends (UTC), once the PSP's
/// records of the day's last minutes are in.
const SETTLE: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPix {
    pub shop_id: ShopId,
    /// The UTC day swept.
    pub day: NaiveDate,
}

impl JobKind for SweepPix {
    const KIND: &'static str = "pix.sweep";
}

impl SweepPix {
    fn bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        let start = self.day.and_time(NaiveTime::MIN);
        (start, start + TimeDelta::days(1))
    }

    pub fn schedule(&self) -> Schedule {
        Schedule::for_shop(self.shop_id)
            .at(self.bounds().1 + SETTLE)
            .dedupe(format!("pix.sweep:{}:{}", self.shop_id, self.day))
    }

    /// Queues the sweep of `now`'s day (once per shop and day).
    pub fn start(conn: &mut AnyConnection, shop: ShopId, now: NaiveDateTime) -> Result<(), PaymentError> {
        let sweep = SweepPix { shop_id: shop, day: now.date() };
        jobs::enqueue(conn, &sweep, sweep.schedule())?;
        Ok(())
    }
}

impl<C: PaymentsDeps> Job<C> for SweepPix {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let (shop, ctx) = (self.shop_id, context.clone());
        let loaded = blocking(run.pool(), move |conn| {
            // A shop back on the sandbox has nothing to sweep: the chain ends.
            if psp_kind(conn, shop)? != PspKind::ApiPix {
                return Ok(None);
            }
            Ok(Some(ctx.psp(conn, shop)?))
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
        let (from, to) = self.bounds();
        let found = match psp.list_pix(from.and_utc(), to.and_utc()).await {
            Ok(found) => found,
            Err(error) => return failed(error),
        };
        let next = SweepPix { shop_id: shop, day: self.day + TimeDelta::days(1) };
        record_all(Outcome::done(), shop, found, PaymentSource::Sweep, context.links().clone(), run.now()).with(
            move |conn| {
                jobs::enqueue(conn, &next, next.schedule()).map(|_| ()).map_err(|e| query_error(PaymentError::Jobs(e)))
            },
        )
    }
}
