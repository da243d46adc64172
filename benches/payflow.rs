//! Complete paid-order flows over HTTP on loopback, with the sandbox PSP, on
//! SQLite and on PostgreSQL: `POST /v1/orders` → the charge made by its job
//! (polled with `GET /v1/orders/{id}` until the Pix code is there) → the Pix
//! paid (`POST /sandbox/pix/{txid}/pay`, the path a PSP webhook takes) → paid.
//! In the same run, `pgbench -N` with the same client count measures what the
//! PostgreSQL server does on this machine, for a ratio rather than a raw figure.
//! Run: `cargo bench --bench payflow` (PAYFLOW_CLIENTS, PAYFLOW_FLOWS per client).

use chatshop::config::Config;
use chatshop::startup::Application;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(url: &str) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.database_url = url.into();
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.jwt_secret = Some("bench-jwt-secret-bench-jwt-secret".into());
    config.demo = false;
    config.run_worker = true;
    config.secret_key = Some("Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=".into());
    config
}

/// Times of one flow's steps.
struct Flow {
    create: Duration,
    charge: Duration,
    pay: Duration,
    total: Duration,
}

async fn one_flow(client: &reqwest::Client, base: &str, token: &str, n: usize) -> Flow {
    let started = Instant::now();
    let order: Value = client
        .post(format!("{base}/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("bench-{n}"))
        .json(&json!({"items": [{"retailer_id": "PAO", "quantity": 2}], "customer": {"name": "Ana"}}))
        .send()
        .await
        .expect("order")
        .json()
        .await
        .expect("order json");
    let created = started.elapsed();
    let id = order["id"].as_str().expect("order id").to_string();
    let txid = order["charge"]["txid"].as_str().expect("txid").to_string();
    let mut charge = order["charge"].clone();
    while charge["pix_copia_e_cola"].is_null() {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let order: Value = client
            .get(format!("{base}/v1/orders/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get order")
            .json()
            .await
            .expect("json");
        charge = order["charge"].clone();
    }
    let charged = started.elapsed();
    let paid = client.post(format!("{base}/sandbox/pix/{txid}/pay")).send().await.expect("pay");
    assert_eq!(paid.status(), 200, "{}", paid.text().await.unwrap_or_default());
    let total = started.elapsed();
    Flow { create: created, charge: charged - created, pay: total - charged, total }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

async fn measure(label: &str, url: &str, clients: usize, flows: usize) -> f64 {
    let app = Application::build(&config(url)).expect("app");
    let base = format!("http://{}", app.address);
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let shop: Value = client
        .post(format!("{base}/v1/shops"))
        .json(&json!({"name": "Padaria", "city": "São Paulo", "owner": {"email": "dono@padaria.com.br", "password": "a long password"},
            "pix": {"key": "dono@padaria.com.br", "key_type": "email"}}))
        .send()
        .await
        .expect("sign up")
        .json()
        .await
        .expect("json");
    let token = shop["token"].as_str().expect("token").to_string();
    let product = client
        .post(format!("{base}/v1/products"))
        .bearer_auth(&token)
        .json(&json!({"retailer_id": "PAO", "name": "Pão de queijo", "price": "3.10", "stock": 100_000_000}))
        .send()
        .await
        .expect("product");
    assert!(product.status().is_success(), "product: {}", product.status());
    // One flow first, so the first measured ones do not pay for warm-up.
    one_flow(&client, &base, &token, usize::MAX).await;

    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(flows);
                for i in 0..flows {
                    times.push(one_flow(&client, &base, &token, c * flows + i).await);
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let wall = started.elapsed();
    let rate = all.len() as f64 / wall.as_secs_f64();
    println!("{label}: {} flows from {clients} clients in {:.2} s = {rate:.0} flows/s", all.len(), wall.as_secs_f64());
    for (step, pick) in [
        ("create order", (|f: &Flow| f.create) as fn(&Flow) -> Duration),
        ("charge made", |f| f.charge),
        ("pay -> paid", |f| f.pay),
        ("whole flow", |f| f.total),
    ] {
        let mut times: Vec<Duration> = all.iter().map(pick).collect();
        times.sort();
        println!("  {step:<13} p50 {:7.2} ms  p99 {:7.2} ms", percentile(&times, 0.5), percentile(&times, 0.99));
    }
    rate
}

/// `pgbench -N` (simple updates, no branch contention) on a scratch database,
/// with the same client count: the PostgreSQL server's own rate here.
fn pgbench(admin: &mut diesel::PgConnection, clients: usize) -> Option<f64> {
    let name = format!("chatshop_pgbench_{}", std::process::id());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(admin).ok()?;
    let run = |args: &[&str]| {
        std::process::Command::new("pgbench")
            .args(["-h", "127.0.0.1", "-U", "postgres"])
            .args(args)
            .arg(&name)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let tps = run(&["-i", "-q", "-s", "10"]).and_then(|_| {
        let clients = clients.to_string();
        let out = run(&["-N", "-c", &clients, "-j", "2", "-T", "10"])?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next()?.parse().ok())
    });
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(admin).ok();
    tps
}

#[tokio::main]
async fn main() {
    chatshop::db::init_tls();
    let clients = knob("PAYFLOW_CLIENTS", 8);
    let flows = knob("PAYFLOW_FLOWS", 100);
    let dir = tempfile::tempdir().expect("temp dir");
    measure("SQLite, sandbox", &dir.path().join("bench.db").to_string_lossy(), clients, flows).await;

    let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
    let Ok(mut admin) = diesel::PgConnection::establish(admin_url) else {
        println!("PostgreSQL: not reachable on 127.0.0.1:5432, skipped");
        return;
    };
    let name = format!("chatshop_bench_flow_{}", std::process::id());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
    let rate =
        measure("PostgreSQL, sandbox", &format!("postgres://postgres@127.0.0.1:5432/{name}"), clients, flows).await;
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).expect("drop database");
    match pgbench(&mut admin, clients) {
        Some(tps) => println!("pgbench -N -c {clients}: {tps:.0} tps; flows/s ÷ pgbench tps = {:.3}", rate / tps),
        None => println!("pgbench: not available, no ratio"),
    }
}
