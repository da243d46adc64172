//! The outbox's claims on both engines: a worker whose lease ran out can
//! neither send nor overwrite what the next worker did.

use crate::helpers::{Engine, TestApp};
use chatshop::db::schema::outbox as table;
use chatshop::notify::outbox;
use diesel::prelude::*;

async fn a_worker_that_lost_its_lease_cannot_send_or_settle(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let shop_id = shop.id.parse().unwrap();
    let mut conn = app.pool.get().unwrap();
    let id = outbox::enqueue(&mut conn, shop_id, "test", None, "5511988887777", "{}").unwrap();
    let first = outbox::claim_due(&mut conn, 10).unwrap();
    let first = first.into_iter().find(|e| e.id == id).expect("claimed");
    assert!(outbox::claim_due(&mut conn, 10).unwrap().iter().all(|e| e.id != id), "held by the first worker");

    // The first worker stalls past its lease; the second takes the entry over.
    diesel::update(table::table.find(id.to_string()))
        .set(table::next_attempt_at.eq(chatshop::db::now() - chrono::TimeDelta::seconds(1)))
        .execute(&mut conn)
        .unwrap();
    let second = outbox::claim_due(&mut conn, 10).unwrap().into_iter().find(|e| e.id == id).expect("taken over");
    assert_eq!(second.attempts, 2);

    assert!(!outbox::renew(&mut conn, &first).unwrap(), "the first may not send any more");
    assert!(outbox::renew(&mut conn, &second).unwrap());
    assert!(outbox::mark_sent(&mut conn, &second).unwrap());
    assert!(!outbox::retry_at(&mut conn, &first, chatshop::db::now(), "late").unwrap(), "nor undo the send");
    let status: String = table::table.find(id.to_string()).select(table::status).first(&mut conn).unwrap();
    assert_eq!(status, "sent");
}
/// The app's own worker is off: this test plays the workers.
async fn without_worker(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |c| c.run_worker = false).await
}

mod lost_lease {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        if let Some(app) = without_worker(Engine::Sqlite).await {
            a_worker_that_lost_its_lease_cannot_send_or_settle(app).await;
        }
    }
    #[tokio::test]
    async fn postgres() {
        if let Some(app) = without_worker(Engine::Postgres).await {
            a_worker_that_lost_its_lease_cannot_send_or_settle(app).await;
        }
    }
}
