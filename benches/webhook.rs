//! Webhook throughput on loopback: signed batches of 50 messages from 10
//! customers ("2x BOLO-CHOC" and "carrinho"), handled and answered into the
//! outbox, on SQLite and on PostgreSQL. Run: `cargo bench --bench webhook`.
//! Delivery to Meta is off here (`run_worker = false`): this measures the
//! webhook's own work, which is what Meta waits on.

use chatshop::config::Config;
use chatshop::startup::Application;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const BATCHES: usize = 20;
const PER_BATCH: usize = 50;

fn config(url: &str) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.database_url = url.into();
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.jwt_secret = Some("bench-jwt-secret-bench-jwt-secret".into());
    config.whatsapp_app_secret = Some(SECRET.into());
    config.demo = false;
    config.run_worker = false;
    config.secret_key = Some("Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=".into());
    config
}

fn batch(n: usize) -> Value {
    let now = chrono::Utc::now().timestamp().to_string();
    let messages: Vec<Value> = (0..PER_BATCH)
        .map(|i| {
            let text = if i % 2 == 0 { "2x BOLO-CHOC" } else { "carrinho" };
            json!({"from": format!("55119000{:05}", i % 10), "id": format!("wamid.bench.{n}.{i}"), "timestamp": now, "type": "text", "text": {"body": text}})
        })
        .collect();
    let contacts: Vec<Value> = (0..10)
        .map(|c| json!({"profile": {"name": format!("Cliente {c}")}, "wa_id": format!("55119000{c:05}")}))
        .collect();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": contacts, "messages": messages}}]}]})
}

async fn measure(label: &str, url: &str) {
    let app = Application::build(&config(url)).expect("app");
    let base = format!("http://{}", app.address);
    let pool = app.pool.clone();
    let keyring = app.services.keyring.clone();
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
    let token = shop["token"].as_str().expect("token");
    let feed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog-samples/padaria-doce-lar.csv")).expect("sample");
    client.post(format!("{base}/v1/catalog/import")).bearer_auth(token).body(feed).send().await.expect("import");
    // Connected directly: PUT /v1/shop/whatsapp would ask Meta to confirm the number.
    let shop_id = shop["shop"]["id"].as_str().expect("shop id").parse().expect("uuid");
    let settings =
        chatshop::shops::whatsapp::WhatsAppSettings::parse(PHONE_NUMBER_ID, "token", None, None).expect("settings");
    chatshop::shops::whatsapp::save(&mut pool.get().expect("connection"), &keyring, shop_id, &settings)
        .expect("connect");

    let mut times = Vec::new();
    for n in 0..BATCHES {
        let body = serde_json::to_vec(&batch(n)).expect("json");
        let signature = chatshop::chat::signature::sign(SECRET.as_bytes(), &body);
        let started = Instant::now();
        let response = client
            .post(format!("{base}/webhooks/whatsapp"))
            .header("X-Hub-Signature-256", signature)
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 200);
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    let total: Duration = times.iter().sum();
    println!(
        "{label}: {BATCHES} batches of {PER_BATCH}: median {:.1} ms per batch = {:.0} messages/s (min {:.1} ms, max {:.1} ms, overall {:.0} messages/s)",
        median.as_secs_f64() * 1e3,
        PER_BATCH as f64 / median.as_secs_f64(),
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        (BATCHES * PER_BATCH) as f64 / total.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    // libpq's OpenSSL without its exit-time cleanup (see db::init_tls).
    chatshop::db::init_tls();
    let dir = tempfile::tempdir().expect("temp dir");
    measure("SQLite", &dir.path().join("bench.db").to_string_lossy()).await;

    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    match diesel::PgConnection::establish(admin) {
        Ok(mut conn) => {
            let name = format!("chatshop_bench_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create database");
            measure("PostgreSQL", &format!("postgres://postgres@127.0.0.1:5432/{name}")).await;
            diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).expect("drop database");
        }
        Err(e) => println!("PostgreSQL: skipped ({e})"),
    }
}
