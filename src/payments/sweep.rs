//! The daily sweep: every Pix the PSP received for the shop over a day and
//! the next, recorded through the one confirmation path. Callbacks get lost
//! and polling stops when a charge closes; a Pix the PSP has is never left
//! out of the books. Recording is idempotent (one payment per endToEndId), so
//! a sweep that finds what a callback already brought changes nothing.

use super::PaymentsDeps;
use super::jobs::{PSP_RETRY, failed, psp_for_call, record_all};
use super::psp::Psp;
use super::received::PaymentSource;
use crate::ids::ShopId;
use crate::jobs::{Job, JobKind, JobRun, Outcome, RetryPolicy, Schedule};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Lists the Pix received from `day` 00:00 UTC to the end of the next day (a
/// charge made late in the day is paid the next), once both days are over.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPix {
    pub shop_id: ShopId,
    pub day: NaiveDate,
}

impl JobKind for SweepPix {
    const KIND: &'static str = "pix.sweep";
}

impl SweepPix {
    /// One sweep per shop and day, whichever process or charge asks first.
    pub fn schedule(&self) -> Schedule {
        Schedule::for_shop(self.shop_id)
            .at(self.window().1 + TimeDelta::minutes(10))
            .dedupe(format!("pix.sweep:{}:{}", self.shop_id, self.day))
    }

    fn window(&self) -> (NaiveDateTime, NaiveDateTime) {
        let start = self.day.and_time(chrono::NaiveTime::MIN);
        (start, start + TimeDelta::days(2))
    }
}

impl<C: PaymentsDeps> Job<C> for SweepPix {
    const RETRY: RetryPolicy = PSP_RETRY;

    async fn run(self, context: Arc<C>, run: JobRun) -> Outcome {
        let shop = self.shop_id;
        let psp = match psp_for_call(&context, &run, shop).await {
            Ok(psp) => psp,
            Err(outcome) => return outcome,
        };
        let (from, to) = self.window();
        match psp.list_pix(from.and_utc(), to.and_utc()).await {
            Ok(found) => {
                tracing::info!(shop = %shop, day = %self.day, pix = found.len(), "daily Pix sweep");
                record_all(Outcome::done(), shop, found, PaymentSource::Sweep, context.links().clone(), run.now())
            }
            Err(error) => failed(error),
        }
    }
}
