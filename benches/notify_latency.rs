//! From the PSP's word to the shop's phone and mailbox, on loopback: the
//! time from `POST /sandbox/pix/{txid}/pay` (the confirmation path a PSP
//! webhook takes) to (a) the order.paid mail accepted by an SMTP server and
//! (b) the WhatsApp request to the shop's number at a fake Graph API.
//! `chatshop` runs as child processes (the release binary), on SQLite and on
//! one PostgreSQL: one process; two processes sharing the payments; and one
//! HTTP-only process (`CHATSHOP_WORKER=false`) beside one worker, which shows
//! what the runner's 500 ms poll costs when the work is written elsewhere.
//! Idle: one payment at a time, each waited for. Load: NOTIFY_CLIENTS
//! clients (one shop each) paying NOTIFY_ORDERS orders each back to back;
//! deliveries/s = (mails + WhatsApp messages) / (first pay → last delivery).
//! Run: `cargo bench --bench notify_latency` (NOTIFY_CLIENTS, NOTIFY_ORDERS,
//! NOTIFY_IDLE, NOTIFY_ENGINES=sqlite,postgres).

#[allow(dead_code)]
#[path = "../tests/support/fake_graph.rs"]
mod fake_graph;
#[allow(dead_code)]
#[path = "../tests/support/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../tests/support/smtp_sink.rs"]
mod smtp_sink;

use diesel::{Connection, RunQueryDsl};
use fake_graph::FakeGraph;
use serde_json::{Value, json};
use smtp_sink::SmtpSink;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET_KEY: &str = "Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";
const APP_SECRET: &str = "bench-meta-app-secret";
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

struct World {
    sink: SmtpSink,
    graph: FakeGraph,
    mail_dir: tempfile::TempDir,
}

async fn start(world: &World, database_url: &str, worker: bool) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let child = Command::new(env!("CARGO_BIN_EXE_chatshop"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("CHATSHOP_BIND", format!("127.0.0.1:{port}"))
        .env("CHATSHOP_JWT_SECRET", "bench-jwt-secret-bench-jwt-secret")
        .env("CHATSHOP_SECRET_KEY", SECRET_KEY)
        .env("CHATSHOP_DEMO", "false")
        .env("CHATSHOP_WORKER", worker.to_string())
        .env("CHATSHOP_MAIL_DIR", world.mail_dir.path())
        .env("SMTP_URL", world.sink.url())
        .env("WHATSAPP_GRAPH_URL", world.graph.url())
        .env("WHATSAPP_APP_SECRET", APP_SECRET)
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

fn owner_phone(shop: usize) -> String {
    format!("55119777{shop:05}")
}

fn owner_mail(shop: usize) -> String {
    format!("dono{shop}@bench.com.br")
}

struct Shop {
    token: String,
    /// Orders waiting for payment: (number, txid).
    orders: Vec<(u64, String)>,
}

async fn open_shop(client: &reqwest::Client, base: &str, graph: &FakeGraph, k: usize) -> Shop {
    let body = json!({"name": format!("Padaria {k}"), "city": "São Paulo",
        "owner": {"email": owner_mail(k), "password": "a long password"},
        "pix": {"key": owner_mail(k), "key_type": "email"},
        "notify": {"email": owner_mail(k), "whatsapp": format!("+{}", owner_phone(k))}});
    let shop: Value =
        client.post(format!("{base}/v1/shops")).json(&body).send().await.expect("sign up").json().await.expect("json");
    let token = shop["token"].as_str().expect("token").to_owned();
    let phone_number_id = format!("1065403522{k:05}");
    let settings = json!({"phone_number_id": phone_number_id, "access_token": "EAAG-bench-token"});
    let put = client.put(format!("{base}/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await;
    assert_eq!(put.expect("whatsapp").status(), 200);
    let product = json!({"retailer_id": "PAO", "name": "Pão de queijo", "price": "3.10", "stock": 100_000_000});
    let created = client.post(format!("{base}/v1/products")).bearer_auth(&token).json(&product).send().await;
    assert!(created.expect("product").status().is_success());
    // The owner writes to the shop's number: its 24-hour window opens, so
    // the notifications go as text (the bot's answer goes first).
    let before = graph.requests().len();
    let now = chrono::Utc::now().timestamp().to_string();
    let message = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511999990000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Dono"}, "wa_id": owner_phone(k)}],
        "messages": [{"from": owner_phone(k), "id": format!("wamid.owner{k}"), "timestamp": now, "type": "text", "text": {"body": "oi"}}]}}]}]});
    let raw = serde_json::to_vec(&message).expect("json");
    let signature = chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &raw);
    let posted = client
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(raw)
        .send()
        .await
        .expect("webhook");
    assert_eq!(posted.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while graph.requests()[before..].iter().all(|r| r.body["to"] != owner_phone(k).as_str()) {
        assert!(Instant::now() < deadline, "the bot never answered the owner");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Shop { token, orders: Vec::new() }
}

/// An order with its charge made (the Pix code is there).
async fn place(client: &reqwest::Client, base: &str, token: &str) -> (u64, String) {
    let order: Value = client
        .post(format!("{base}/v1/orders"))
        .bearer_auth(token)
        .json(&json!({"items": [{"retailer_id": "PAO", "quantity": 2}], "customer": {"name": "Ana"}}))
        .send()
        .await
        .expect("order")
        .json()
        .await
        .expect("json");
    let id = order["id"].as_str().expect("id").to_owned();
    let mut charge = order["charge"].clone();
    while charge["pix_copia_e_cola"].is_null() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let got: Value = client
            .get(format!("{base}/v1/orders/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        charge = got["charge"].clone();
    }
    (order["number"].as_u64().expect("number"), charge["txid"].as_str().expect("txid").to_owned())
}

async fn pay(client: &reqwest::Client, base: &str, txid: &str) -> Instant {
    let started = Instant::now();
    let paid = client.post(format!("{base}/sandbox/pix/{txid}/pay")).send().await.expect("pay");
    assert_eq!(paid.status(), 200);
    started
}

/// When each (shop, order number) was told by mail and by WhatsApp.
/// (shop, order number) → when it arrived.
type Arrivals = HashMap<(usize, u64), Instant>;

fn arrivals(world: &World, shops: usize) -> (Arrivals, Arrivals) {
    let by_mail: HashMap<String, usize> = (0..shops).map(|k| (format!("<{}>", owner_mail(k)), k)).collect();
    let by_phone: HashMap<String, usize> = (0..shops).map(|k| (owner_phone(k), k)).collect();
    let number = |text: &str| -> Option<u64> {
        let rest = &text[text.find('#')? + 1..];
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    let mut mails = HashMap::new();
    for mail in world.sink.received() {
        let Some(&k) = mail.to.first().and_then(|to| by_mail.get(to)) else { continue };
        let Ok(parsed) = mailparse::parse_mail(mail.data.as_bytes()) else { continue };
        let subject = parsed.headers.iter().find(|h| h.get_key_ref() == "Subject").map(|h| h.get_value());
        if let Some(n) = subject.as_deref().and_then(number) {
            mails.entry((k, n)).or_insert(mail.at);
        }
    }
    let mut whatsapp = HashMap::new();
    for request in world.graph.requests() {
        let Some(&k) = request.body["to"].as_str().and_then(|to| by_phone.get(to)) else { continue };
        let text = request.body["text"]["body"].as_str().unwrap_or_default();
        if request.status == 200
            && text.contains(" pago")
            && let Some(n) = number(text)
        {
            whatsapp.entry((k, n)).or_insert(request.at);
        }
    }
    (mails, whatsapp)
}

async fn wait_all(world: &World, shops: usize, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (mails, whatsapp) = arrivals(world, shops);
        if mails.len() >= expected && whatsapp.len() >= expected {
            return;
        }
        assert!(Instant::now() < deadline, "only {} mails and {} messages of {expected}", mails.len(), whatsapp.len());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn percentiles(mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
    format!("p50 {:7.1} ms  p99 {:7.1} ms  max {:7.1} ms", at(0.5), at(0.99), at(1.0))
}

fn report(label: &str, paid: &Arrivals, world: &World, shops: usize) -> (Instant, Instant) {
    let (mails, whatsapp) = arrivals(world, shops);
    let first = *paid.values().min().expect("payments");
    let mut last = first;
    for (name, arrived) in [("mail accepted", &mails), ("WhatsApp sent", &whatsapp)] {
        let times: Vec<Duration> = paid
            .iter()
            .map(|(key, at)| {
                let got = *arrived.get(key).expect("every payment told");
                last = last.max(got);
                got.duration_since(*at)
            })
            .collect();
        println!("  {label:<5} pay → {name:<13} {}  ({} payments)", percentiles(times), paid.len());
    }
    (first, last)
}

/// One scenario: a fresh database, its processes, idle then load.
async fn scenario(label: &str, url: &str, processes: &[bool], clients: usize, orders: usize, idle: usize) {
    let world = World {
        sink: SmtpSink::start().await,
        graph: FakeGraph::start().await,
        mail_dir: tempfile::tempdir().expect("mail dir"),
    };
    let mut running = Vec::new();
    let mut bases = Vec::new();
    for &worker in processes {
        let (process, base) = start(&world, url, worker).await;
        running.push(process);
        bases.push(base);
    }
    // Requests go to the processes in turn (a load balancer); with an
    // HTTP-only process, all go to it, so the worker only hears of the work
    // by polling.
    let bases: Vec<String> = match processes.iter().position(|worker| !worker) {
        Some(http_only) => vec![bases[http_only].clone()],
        None => bases,
    };
    let base = |i: usize| bases[i % bases.len()].clone();
    let client = reqwest::Client::new();
    let mut shops = Vec::new();
    for k in 0..clients {
        shops.push(open_shop(&client, &base(k), &world.graph, k).await);
    }
    println!("{label}:");

    // Idle: one payment at a time, each waited for.
    let mut paid = HashMap::new();
    for i in 0..idle + 1 {
        let (number, txid) = place(&client, &base(i), &shops[0].token).await;
        let at = pay(&client, &base(i + 1), &txid).await;
        wait_all_for(&world, clients, (0, number)).await;
        if i > 0 {
            // The first one warms up.
            paid.insert((0, number), at);
        }
    }
    report("idle", &paid, &world, clients);

    // Load: every client's orders made first, then paid back to back.
    for (k, shop) in shops.iter_mut().enumerate() {
        for i in 0..orders {
            shop.orders.push(place(&client, &base(k + i), &shop.token).await);
        }
    }
    let tasks: Vec<_> = shops
        .iter()
        .enumerate()
        .map(|(k, shop)| {
            let (client, orders) = (client.clone(), shop.orders.clone());
            let bases = bases.clone();
            tokio::spawn(async move {
                let mut paid = Vec::new();
                for (i, (number, txid)) in orders.into_iter().enumerate() {
                    let at = pay(&client, &bases[(k + i) % bases.len()], &txid).await;
                    paid.push(((k, number), at));
                }
                paid
            })
        })
        .collect();
    let mut paid = HashMap::new();
    for task in tasks {
        paid.extend(task.await.expect("client"));
    }
    let idle_count = idle + 1;
    wait_all(&world, clients, clients * orders + idle_count).await;
    let (first, last) = report("load", &paid, &world, clients);
    let deliveries = 2 * paid.len();
    let seconds = last.duration_since(first).as_secs_f64();
    println!(
        "  load  {clients} clients × {orders} payments: {deliveries} deliveries in {seconds:.2} s = {:.0} deliveries/s",
        deliveries as f64 / seconds
    );
    drop(running);
}

async fn wait_all_for(world: &World, shops: usize, key: (usize, u64)) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (mails, whatsapp) = arrivals(world, shops);
        if mails.contains_key(&key) && whatsapp.contains_key(&key) {
            return;
        }
        assert!(Instant::now() < deadline, "order {key:?} never told");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::main]
async fn main() {
    chatshop::db::init_tls();
    let clients = knob("NOTIFY_CLIENTS", 8);
    let orders = knob("NOTIFY_ORDERS", 50);
    let idle = knob("NOTIFY_IDLE", 50);
    let engines = std::env::var("NOTIFY_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }
    let dir = tempfile::tempdir().expect("temp dir");
    if engines.contains("sqlite") {
        let url = dir.path().join("bench.db").to_string_lossy().into_owned();
        scenario("SQLite, one process", &url, &[true], clients, orders, idle).await;
    }
    if engines.contains("postgres") {
        if diesel::PgConnection::establish(ADMIN_URL).is_err() {
            println!("PostgreSQL: not reachable on 127.0.0.1:5432, skipped");
            return;
        }
        let scenarios: [(&str, &[bool]); 3] = [
            ("PostgreSQL, one process", &[true]),
            ("PostgreSQL, two processes", &[true, true]),
            ("PostgreSQL, HTTP-only process + one worker", &[false, true]),
        ];
        for (n, (label, processes)) in scenarios.into_iter().enumerate() {
            let name = format!("chatshop_bench_notify_{}_{n}", std::process::id());
            let mut admin = diesel::PgConnection::establish(ADMIN_URL).expect("admin");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
            let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
            scenario(label, &url, processes, clients, orders, idle).await;
            let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average at end: {}", load.trim());
    }
}
