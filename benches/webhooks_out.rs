//! Outbound webhook deliveries per second, with one and with two `chatshop`
//! processes (the release binary, as child processes) on one database, to a
//! receiver on loopback that answers 200 at once. Each round: a fresh
//! database, the processes started, a shop with one endpoint, 20 events to
//! warm up, then WEBHOOKS_EVENTS events written in one transaction (as the
//! changes that cause them would); timed from that commit until the
//! receiver has every one (fan-out job + delivery job per event).
//! Run: `cargo bench --bench webhooks_out` (WEBHOOKS_EVENTS, WEBHOOKS_ROUNDS).

#[allow(dead_code)]
#[path = "../tests/support/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../tests/support/webhook_receiver.rs"]
mod webhook_receiver;

use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use webhook_receiver::WebhookReceiver;

const SECRET_KEY: &str = "Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(database_url: &str, mail_dir: &std::path::Path) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let child = Command::new(env!("CARGO_BIN_EXE_chatshop"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("CHATSHOP_BIND", format!("127.0.0.1:{port}"))
        .env("CHATSHOP_JWT_SECRET", "bench-jwt-secret-bench-jwt-secret")
        .env("CHATSHOP_SECRET_KEY", SECRET_KEY)
        .env("CHATSHOP_DEMO", "false")
        .env("CHATSHOP_MAIL_DIR", mail_dir)
        .env("WHATSAPP_GRAPH_URL", "http://127.0.0.1:9")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chatshop");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{base}/healthz")).await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "chatshop did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (Process(child), base)
}

fn write_events(pool: &chatshop::db::Pool, shop: chatshop::ids::ShopId, from: usize, count: usize) {
    let mut conn = pool.get().expect("connection");
    let now = chatshop::db::now();
    chatshop::db::write_transaction(&mut conn, |conn| {
        for n in from..from + count {
            let data = json!({"order": {"number": n, "total": "45.90"}});
            let key = Some(format!("bench:{n}"));
            chatshop::events::record(conn, shop, chatshop::events::EventType::OrderCreated, &data, key, now)?;
        }
        Ok::<_, chatshop::jobs::JobError>(())
    })
    .expect("events written");
}

async fn wait_for(receiver: &WebhookReceiver, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while receiver.count() < count {
        assert!(Instant::now() < deadline, "only {} of {count} delivered", receiver.count());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// One round: deliveries per second.
async fn round(database_url: &str, processes: usize, events: usize) -> f64 {
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let receiver = WebhookReceiver::with_workers(2).await;
    let mut running = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..processes {
        let (process, base) = start(database_url, mail_dir.path()).await;
        running.push(process);
        bases.push(base);
    }
    let client = reqwest::Client::new();
    let shop: Value = client
        .post(format!("{}/v1/shops", bases[0]))
        .json(&json!({"name": "Padaria", "city": "São Paulo", "owner": {"email": "dono@padaria.com.br", "password": "a long password"},
            "pix": {"key": "dono@padaria.com.br", "key_type": "email"}}))
        .send()
        .await
        .expect("sign up")
        .json()
        .await
        .expect("json");
    let token = shop["token"].as_str().expect("token");
    let shop_id: chatshop::ids::ShopId = shop["shop"]["id"].as_str().expect("id").parse().expect("uuid");
    let endpoint = client
        .post(format!("{}/v1/webhook-endpoints", bases[0]))
        .bearer_auth(token)
        .json(&json!({"url": receiver.url(), "events": ["order.created"]}))
        .send()
        .await
        .expect("endpoint");
    assert_eq!(endpoint.status(), 201);
    let pool = chatshop::db::connect(database_url, 2).expect("pool");
    write_events(&pool, shop_id, 0, 20);
    wait_for(&receiver, 20).await;

    write_events(&pool, shop_id, 20, events);
    let started = Instant::now();
    wait_for(&receiver, 20 + events).await;
    let rate = events as f64 / started.elapsed().as_secs_f64();
    drop(running);
    rate
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn measure(label: &str, fresh_database: impl Fn() -> (String, Box<dyn FnOnce()>), events: usize, rounds: usize) {
    let mut by_processes = Vec::new();
    for processes in [1, 2] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let (url, cleanup) = fresh_database();
            rates.push(round(&url, processes, events).await);
            cleanup();
        }
        let shown: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        let rate = median(rates);
        println!(
            "{label}, {processes} process(es): median {rate:.0} deliveries/s over {events} events (rounds: {})",
            shown.join(", ")
        );
        by_processes.push(rate);
    }
    println!("{label}: two processes ÷ one = {:.2}", by_processes[1] / by_processes[0]);
}

#[tokio::main]
async fn main() {
    chatshop::db::init_tls();
    let events = knob("WEBHOOKS_EVENTS", 2000);
    let rounds = knob("WEBHOOKS_ROUNDS", 3);
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let sqlite = || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.path().join(format!("bench-{n}.db"));
        (path.to_string_lossy().into_owned(), Box::new(|| {}) as Box<dyn FnOnce()>)
    };
    measure("SQLite", sqlite, events, rounds).await;

    if diesel::PgConnection::establish(ADMIN_URL).is_err() {
        println!("PostgreSQL: not reachable on 127.0.0.1:5432, skipped");
        return;
    }
    let postgres = || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("chatshop_bench_hooks_{}_{n}", std::process::id());
        let mut admin = diesel::PgConnection::establish(ADMIN_URL).expect("admin");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let drop_it = move || {
            if let Ok(mut admin) = diesel::PgConnection::establish(ADMIN_URL) {
                let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
            }
        };
        (url, Box::new(drop_it) as Box<dyn FnOnce()>)
    };
    measure("PostgreSQL", postgres, events, rounds).await;
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at end: {}", load.trim());
    }
}
