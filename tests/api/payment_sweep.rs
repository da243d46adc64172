//! The daily sweep: a Pix the PSP received but no callback brought (and no
//! poll found) is recorded from the PSP's list of the day, once.

use crate::helpers::Engine;
use crate::payment_races::{pix, setup};
use chatshop::clock::Clock;
use chatshop::db::schema::{jobs, orders, payments as paid};
use chatshop::db::{AnyConnection, Pool};
use chatshop::ids::ShopId;
use chatshop::jobs::Runner;
use chatshop::orders::{Checkout, CheckoutItem, CustomerRef, OrderSource};
use chatshop::payments::psp::sandbox::Sandbox;
use chatshop::payments::psp::*;
use chatshop::payments::{self, Links, PaymentsDeps, Placed, SweepPix};
use chatshop::pix::brcode::PixKey;
use chatshop::pix::{ChargeTxid, EndToEndId, RefundId};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use std::sync::{Arc, Mutex};

type Window = (DateTime<Utc>, DateTime<Utc>);

/// A PSP whose day lists the Pix a test puts there, and that makes charges
/// like the sandbox. It remembers the windows it was asked for.
#[derive(Clone, Default)]
struct ListingPsp {
    received: Arc<Mutex<Vec<PspPix>>>,
    asked: Arc<Mutex<Vec<Window>>>,
}

impl Psp for ListingPsp {
    async fn create_charge(&self, request: &ChargeRequest) -> Result<PspCharge, PspError> {
        Sandbox.create_charge(request).await
    }
    async fn get_charge(&self, _txid: &ChargeTxid) -> Result<PspCharge, PspError> {
        Err(PspError::Unavailable("callbacks and polls are lost in this test".into()))
    }
    async fn cancel_charge(&self, _txid: &ChargeTxid) -> Result<(), PspError> {
        Ok(())
    }
    async fn get_pix(&self, _e2e: &EndToEndId) -> Result<PspPix, PspError> {
        Err(PspError::NotFound)
    }
    async fn list_pix(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PspPix>, PspError> {
        self.asked.lock().unwrap().push((from, to));
        let received = self.received.lock().unwrap();
        Ok(received.iter().filter(|p| p.paid_at >= from && p.paid_at < to).cloned().collect())
    }
    async fn refund(&self, _request: &RefundRequest) -> Result<PspReturn, PspError> {
        Err(PspError::NotFound)
    }
    async fn get_refund(&self, _e2e: &EndToEndId, _id: &RefundId) -> Result<PspReturn, PspError> {
        Err(PspError::NotFound)
    }
    async fn register_webhook(&self, _key: &PixKey, _url: &str) -> Result<(), PspError> {
        Ok(())
    }
}

struct Deps {
    psp: ListingPsp,
    links: Links,
}

impl PaymentsDeps for Deps {
    type Psp = ListingPsp;
    fn psp(&self, _conn: &mut AnyConnection, _shop: ShopId) -> Result<ListingPsp, PspError> {
        Ok(self.psp.clone())
    }
    fn links(&self) -> &Links {
        &self.links
    }
    fn reconcile_interval(&self) -> TimeDelta {
        TimeDelta::seconds(60)
    }
}

fn runner(pool: &Pool, clock: &Clock, deps: Arc<Deps>) -> Runner<Deps> {
    Runner::builder(pool.clone(), clock.clone(), deps)
        .register::<payments::CreateCharge>()
        .register::<SweepPix>()
        .build()
}

fn a_pix_no_callback_brought_is_found_by_the_daily_sweep(engine: Engine) {
    let Some((pool, shop, _database)) = setup(engine) else { return };
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap().and_hms_opt(14, 0, 0).unwrap();
    let clock = Clock::manual(start);
    let deps = Arc::new(Deps { psp: ListingPsp::default(), links: Links { public_url: "http://127.0.0.1:1".into() } });
    let placed =
        Placed { links: &deps.links, default_ttl: TimeDelta::minutes(30), reconcile_interval: TimeDelta::seconds(60) };
    let checkout = Checkout {
        source: OrderSource::Api,
        customer: CustomerRef::default(),
        items: vec![CheckoutItem { sku: chatshop::catalog::Sku::parse("PAO").unwrap(), quantity: 4 }],
        note: None,
    };
    let (order, charge) = {
        let mut conn = pool.get().unwrap();
        payments::checkout(&mut conn, shop, &checkout, &placed, start).expect("checkout")
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let jobs_runner = runner(&pool, &clock, deps.clone());
    rt.block_on(jobs_runner.run_until_idle());
    // Paid ten minutes later; the callback is lost and polls fail. The PSP
    // also holds a Pix for no charge of ours.
    let mut paid_pix = pix("E12345678202611201410abcdefghijk".into(), Some(charge.txid.clone()), order.total.cents());
    paid_pix.paid_at = (start + TimeDelta::minutes(10)).and_utc();
    let mut stray = pix("E12345678202611210900abcdefghijk".into(), None, 1234);
    stray.paid_at = (start + TimeDelta::hours(19)).and_utc();
    deps.psp.received.lock().unwrap().extend([paid_pix, stray]);

    let mut conn = pool.get().unwrap();
    let swept = |conn: &mut chatshop::db::PooledConnection| -> (String, i64, i64) {
        let status = orders::table.find(order.id).select(orders::status).first(conn).unwrap();
        let count = paid::table.count().get_result(conn).unwrap();
        let from_sweep = paid::table.filter(paid::source.eq("sweep")).count().get_result(conn).unwrap();
        (status, count, from_sweep)
    };
    // Nothing is swept before the day and the next are over.
    clock.advance(TimeDelta::hours(20));
    rt.block_on(jobs_runner.run_until_idle());
    assert_eq!(swept(&mut conn), ("pending_payment".into(), 0, 0));
    clock.advance(TimeDelta::days(2));
    rt.block_on(jobs_runner.run_until_idle());
    assert_eq!(swept(&mut conn), ("paid".into(), 2, 2), "the order paid and the stray Pix kept as an orphan");
    let asked = deps.psp.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "one sweep for the shop's day");
    assert_eq!(asked[0].0.to_rfc3339(), "2026-11-20T00:00:00+00:00");
    assert_eq!(asked[0].1.to_rfc3339(), "2026-11-22T00:00:00+00:00");
    // A second sweep over the same Pix records nothing more.
    let again = SweepPix { shop_id: shop, day: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap() };
    chatshop::jobs::enqueue(&mut conn, &again, again.schedule()).unwrap();
    clock.advance(TimeDelta::days(2));
    rt.block_on(jobs_runner.run_until_idle());
    assert_eq!(swept(&mut conn), ("paid".into(), 2, 2));
    let dead: i64 = jobs::table.filter(jobs::status.eq("dead")).count().get_result(&mut conn).unwrap();
    assert_eq!(dead, 0);
}

#[test]
fn a_pix_no_callback_brought_is_found_by_the_daily_sweep_sqlite() {
    a_pix_no_callback_brought_is_found_by_the_daily_sweep(Engine::Sqlite)
}

#[test]
fn a_pix_no_callback_brought_is_found_by_the_daily_sweep_postgres() {
    a_pix_no_callback_brought_is_found_by_the_daily_sweep(Engine::Postgres)
}
