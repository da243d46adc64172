//! The confirmation path under load: a thousand Pix deliveries, 30 % of them
//! duplicates, shuffled and recorded from many connections at once (16 on
//! PostgreSQL, SQLite's 8), on both
//! engines — one payment per endToEndId, exact sums, each order paid once.

use crate::helpers::{Engine, TestDatabase};
use chatshop::db::schema::{events, orders, payments as paid};
use chatshop::db::{AnyConnection, Pool};
use chatshop::ids::ShopId;
use chatshop::money::Money;
use chatshop::orders::{Checkout, CheckoutItem, CustomerRef, OrderSource};
use chatshop::payments::psp::PspPix;
use chatshop::payments::{self, Links, PaymentSource, Placed, Recorded};
use chatshop::pix::{ChargeTxid, EndToEndId};
use diesel::prelude::*;
use std::sync::Barrier;

const THREADS: usize = 16;

fn setup(engine: Engine) -> Option<(Pool, ShopId, TestDatabase)> {
    use chatshop::auth::{Role, users::NewUser};
    let database = TestDatabase::create(engine)?;
    let pool = chatshop::db::connect(database.url(), THREADS as u32 + 2).expect("pool");
    let mut conn = pool.get().expect("connection");
    chatshop::db::migrate(&mut conn).expect("migrate");
    let shop = chatshop::shops::NewShop::parse(&chatshop::shops::SignUpDetails {
        name: "Padaria",
        city: "São Paulo",
        pix_key: "dono@padaria.com.br",
        pix_key_type: "email",
        ..Default::default()
    })
    .expect("shop");
    let email = chatshop::contact::Email::parse("dono@padaria.com.br").expect("email");
    let owner = NewUser::prepare(email, "a long password", Role::Owner).expect("owner");
    let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).expect("create");
    let input: chatshop::catalog::ProductInput =
        serde_json::from_value(serde_json::json!({"retailer_id": "PAO", "name": "Pão", "price": "3.10"})).unwrap();
    let fields = chatshop::catalog::ProductFields::try_from(input).unwrap();
    chatshop::catalog::repo::create(&mut conn, shop.id, fields).expect("product");
    Some((pool, shop.id, database))
}

fn pix(e2e: String, txid: Option<ChargeTxid>, cents: i64) -> PspPix {
    PspPix {
        end_to_end_id: EndToEndId::parse(&e2e).expect("e2e"),
        txid,
        amount: Money::from_cents(cents).unwrap(),
        key: None,
        paid_at: chrono::Utc::now(),
        payer_name: Some("Pagador".into()),
        payer_document: Some("12345678909".into()),
        payer_info: None,
        returns: Vec::new(),
    }
}

fn record_all_in_parallel(pool: &Pool, shop: ShopId, deliveries: &[PspPix], links: &Links) -> Vec<Recorded> {
    // As many threads as the pool has connections (SQLite's pool holds 8):
    // a thread waiting for a connection would never reach the barrier.
    let threads = THREADS.min(pool.max_size() as usize);
    let barrier = Barrier::new(threads);
    let mut results: Vec<(usize, Recorded)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut conn = pool.get().expect("connection");
                    barrier.wait();
                    (t..deliveries.len())
                        .step_by(threads)
                        .map(|i| {
                            let now = chatshop::db::now();
                            let recorded = payments::record_pix(
                                &mut conn,
                                shop,
                                &deliveries[i],
                                PaymentSource::Webhook,
                                links,
                                now,
                            );
                            (i, recorded.expect("recorded"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("thread")).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn a_thousand_deliveries_with_duplicates_record_one_payment_each(engine: Engine) {
    let Some((pool, shop, _database)) = setup(engine) else { return };
    let links = Links { public_url: "http://127.0.0.1:8080".into() };
    let placed = Placed {
        links: &links,
        default_ttl: chrono::TimeDelta::minutes(30),
        reconcile_interval: chrono::TimeDelta::seconds(60),
    };
    let mut conn: chatshop::db::PooledConnection = pool.get().unwrap();
    let mut unique = Vec::new();
    let mut totals = 0i64;
    for i in 0..100i64 {
        let checkout = Checkout {
            source: OrderSource::Api,
            customer: CustomerRef::default(),
            items: vec![CheckoutItem { sku: chatshop::catalog::Sku::parse("PAO").unwrap(), quantity: i + 1 }],
            note: None,
        };
        let conn: &mut AnyConnection = &mut conn;
        let (order, charge) =
            payments::checkout(conn, shop, &checkout, &placed, chatshop::db::now()).expect("checkout");
        totals += order.total.cents();
        unique.push(pix(format!("E99999999202611221200{:011}", i), Some(charge.txid), order.total.cents()));
    }
    // 600 Pix that match no order of ours: kept as orphans.
    for i in 0..600i64 {
        unique.push(pix(format!("E88888888202611221200{:011}", i), None, 1000 + i));
    }
    let expected_sum: i64 = unique.iter().map(|p| p.amount.cents()).sum();
    // 300 duplicates of deliveries already in the list, then a fixed shuffle.
    let mut deliveries = unique.clone();
    deliveries.extend((0..300).map(|i| unique[(i * 7) % unique.len()].clone()));
    let mut seed = 0x2545F4914F6CDD1Du64;
    for i in (1..deliveries.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        deliveries.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    drop(conn);
    let results = record_all_in_parallel(&pool, shop, &deliveries, &links);
    assert_eq!(results.iter().filter(|r| matches!(r, Recorded::New { .. })).count(), 700);
    assert_eq!(results.iter().filter(|r| **r == Recorded::Known).count(), 300);
    let mut conn = pool.get().unwrap();
    let count: i64 = paid::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 700);
    let sum: Vec<i64> = paid::table.select(paid::amount_cents).load(&mut conn).unwrap();
    assert_eq!(sum.iter().sum::<i64>(), expected_sum, "to the cent");
    let paid: Vec<(String, i64)> = orders::table.select((orders::status, orders::paid_cents)).load(&mut conn).unwrap();
    assert!(paid.iter().all(|(status, _)| status == "paid"), "{paid:?}");
    assert_eq!(paid.iter().map(|(_, cents)| cents).sum::<i64>(), totals);
    let orphans: i64 = paid::table.filter(paid::outcome.eq("orphan")).count().get_result(&mut conn).unwrap();
    assert_eq!(orphans, 600);
    let paid_events: i64 =
        events::table.filter(events::event_type.eq("order.paid")).count().get_result(&mut conn).unwrap();
    assert_eq!(paid_events, 100, "one order.paid per order");
    let received: i64 =
        events::table.filter(events::event_type.eq("payment.received")).count().get_result(&mut conn).unwrap();
    assert_eq!(received, 700);
}

#[test]
fn a_thousand_deliveries_with_duplicates_record_one_payment_each_sqlite() {
    a_thousand_deliveries_with_duplicates_record_one_payment_each(Engine::Sqlite)
}

#[test]
fn a_thousand_deliveries_with_duplicates_record_one_payment_each_postgres() {
    a_thousand_deliveries_with_duplicates_record_one_payment_each(Engine::Postgres)
}
