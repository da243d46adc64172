//! Two job runners with their own pools on one database share 1,000
//! deliveries, each made exactly once.
//!
//! Two real `chatshop` processes on one database deliver the same shop's
//! webhooks; one is killed (SIGKILL) while delivering, and the other
//! delivers the rest once the dead one's leases run out. At least once for
//! every event, and every copy of one `webhook-id` is the same body.
//!
//! Real processes keep real time, so this test waits, bounded: a short lease
//! (`CHATSHOP_JOB_LEASE_SECONDS=2`) keeps the wait short. Loopback only.

use crate::helpers::{JWT_SECRET, TEST_SECRET_KEY, TestApp, shop_body};
use crate::on_both_databases;
use crate::support::database::{Engine, TestDatabase};
use crate::support::webhook_receiver::Received;
use crate::support::webhook_receiver::{WebhookReceiver, verify};
use crate::webhooks_out::setup;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const EVENTS: usize = 300;

/// A `chatshop serve` child, killed when dropped.
pub struct Process {
    pub child: Child,
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

async fn start(database_url: &str, mail_dir: &std::path::Path) -> Process {
    start_with(database_url, mail_dir, &[]).await
}

/// A `chatshop serve` child with a 2 s lease and these settings besides.
pub async fn start_with(database_url: &str, mail_dir: &std::path::Path, settings: &[(&str, &str)]) -> Process {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    child
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("CHATSHOP_BIND", format!("127.0.0.1:{port}"))
        .env("CHATSHOP_JWT_SECRET", JWT_SECRET)
        .env("CHATSHOP_SECRET_KEY", TEST_SECRET_KEY)
        .env("CHATSHOP_DEMO", "false")
        .env("CHATSHOP_JOB_LEASE_SECONDS", "2")
        .env("CHATSHOP_MAIL_DIR", mail_dir)
        .env("CHATSHOP_WORKERS", "1")
        .env("WHATSAPP_GRAPH_URL", "http://127.0.0.1:9")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    child.envs(settings.iter().copied());
    let mut child = child.spawn().expect("start chatshop");
    // The banner is printed once the server listens; the rest of its output
    // is drained so the child never blocks on a full pipe.
    let stdout = child.stdout.take().expect("piped stdout");
    let (listening, started) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut listening = Some(listening);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("chatshop is running at")
                && let Some(tell) = listening.take()
            {
                let _ = tell.send(());
            }
        }
    });
    let process = Process { child, base: format!("http://127.0.0.1:{port}") };
    let banner = tokio::time::timeout(Duration::from_secs(60), started).await;
    assert!(matches!(banner, Ok(Ok(()))), "chatshop did not start on {}", process.base);
    process
}

async fn a_process_killed_mid_delivery_leaves_the_rest_to_the_other(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else { return };
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let receiver = WebhookReceiver::with_workers(2).await;
    // Slow answers keep deliveries in flight when the kill comes.
    receiver.delay_answers(Duration::from_millis(20));

    let mut first = start(database.url(), mail_dir.path()).await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/v1/shops", first.base))
        .json(&shop_body("Padaria Dois", "dono@dois.com.br"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let shop: chatshop::ids::ShopId = created["shop"]["id"].as_str().unwrap().parse().unwrap();
    let endpoint: Value = client
        .post(format!("{}/v1/webhook-endpoints", first.base))
        .bearer_auth(&token)
        .json(&json!({"url": receiver.url(), "events": ["order.created"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let _second = start(database.url(), mail_dir.path()).await;

    // The events, as the orders' transactions would write them.
    let pool = chatshop::db::connect(database.url(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chatshop::db::now();
    chatshop::db::write_transaction(&mut conn, |conn| {
        for n in 0..EVENTS {
            let data = json!({"order": {"number": n}});
            let key = Some(format!("process-test:{n}"));
            chatshop::events::record(conn, shop, chatshop::events::EventType::OrderCreated, &data, key, now)?;
        }
        Ok::<_, chatshop::jobs::JobError>(())
    })
    .unwrap();
    drop(conn);

    receiver.wait_for("the first deliveries", 60, |got| got.len() >= 40).await;
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");
    let at_kill = receiver.count();
    assert!(at_kill < EVENTS, "killed while delivering ({at_kill} of {EVENTS} received)");

    let distinct = |got: &[Received]| got.iter().map(|r| r.id.as_str()).collect::<std::collections::HashSet<_>>().len();
    receiver.wait_for("every event delivered by the survivor", 90, |got| distinct(got) == EVENTS).await;
    let mut bodies: HashMap<String, String> = HashMap::new();
    for request in receiver.requests() {
        assert!(verify(&secret, &request), "signed: {request:?}");
        let body = bodies.entry(request.id.clone()).or_insert_with(|| request.body.clone());
        assert_eq!(*body, request.body, "one webhook-id, one body");
    }
    let copies = receiver.count() - EVENTS;
    eprintln!("{engine:?}: {at_kill} received before the kill, {copies} sent twice (in flight at the kill)");
}

mod killed_mid_delivery {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        a_process_killed_mid_delivery_leaves_the_rest_to_the_other(Engine::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        a_process_killed_mid_delivery_leaves_the_rest_to_the_other(Engine::Postgres).await
    }
}

fn bodies_by_id(received: &[Received]) -> HashMap<String, Vec<String>> {
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for r in received {
        by_id.entry(r.id.clone()).or_default().push(r.body.clone());
    }
    by_id
}

async fn two_processes_deliver_1000_events_exactly_once(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    let shop: chatshop::ids::ShopId = s.shop.id.parse().unwrap();
    let mut conn = s.app.pool.get().unwrap();
    let now = s.app.clock.now();
    chatshop::db::write_transaction(&mut conn, |conn| {
        for n in 0..1000 {
            let data = json!({"order": {"number": n}});
            let key = Some(format!("test-event:{n}"));
            chatshop::events::record(conn, shop, chatshop::events::EventType::OrderCreated, &data, key, now)?;
        }
        Ok::<_, chatshop::jobs::JobError>(())
    })
    .unwrap();
    drop(conn);
    let (_address, _second, second_jobs) = s.app.second_process(|_| {}).await;
    let (mut first_runs, mut second_runs) = (0, 0);
    loop {
        let (a, b) = tokio::join!(s.app.run_until_idle(), second_jobs.run_until_idle());
        first_runs += a;
        second_runs += b;
        if a + b == 0 {
            break;
        }
    }
    let received = s.receiver.requests();
    let by_id = bodies_by_id(&received);
    assert_eq!(by_id.len(), 1000, "every event delivered");
    assert_eq!(received.len(), 1000, "each exactly once");
    assert!(first_runs > 0 && second_runs > 0, "both processes worked: {first_runs} and {second_runs}");
}
on_both_databases!(two_processes_deliver_1000_events_exactly_once);
