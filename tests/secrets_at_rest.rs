//! Planted secrets appear nowhere in plaintext: not in the SQLite files, not
//! in the logs of a whole flow (sign-up, WhatsApp connection, a message in and
//! a reply out), not in API answers. Its own test binary, so that it can
//! capture every log line of the process.

#[path = "support/mod.rs"]
mod support;

use chatshop::config::Config;
use chatshop::startup::Application;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use support::fake_graph::FakeGraph;

const ACCESS_TOKEN: &str = "EAAGplantedWhatsAppToken7Qx9";
const APP_SECRET: &str = "planted-meta-app-secret-42";
const PASSWORD: &str = "planted owner password 77";
const SECRET_KEY: &str = "cGxhbnRlZC1zZWFsaW5nLWtleS0zMi1ieXRlcy0hISE=";
const PHONE_NUMBER_ID: &str = "106540352242922";

/// Every log line of the process, as written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files_under(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| (e.path().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn planted_secrets_are_nowhere_in_plaintext() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt().with_env_filter("debug").with_writer(move || writer.clone()).with_ansi(false).init();
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.database_url = dir.path().join("chatshop.db").display().to_string();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.whatsapp_app_secret = Some(APP_SECRET.into());
    config.whatsapp_graph_url = fake.url();
    config.secret_key = Some(SECRET_KEY.into());
    config.mail_dir = dir.path().join("mail");
    config.demo = false;
    config.run_worker = false;
    config.workers = Some(1);
    tracing::debug!(?config, "the settings, as a careless log line would show them");
    let app = Application::build(&config).unwrap();
    let (base, pool, jobs) = (format!("http://{}", app.address), app.pool.clone(), app.jobs.clone());
    let handle = app.server_handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let shop: Value = client
        .post(format!("{base}/v1/shops"))
        .json(&json!({"name": "Padaria", "city": "Recife", "owner": {"email": "dono@padaria.com.br", "password": PASSWORD},
            "pix": {"key": "dono@padaria.com.br", "key_type": "email"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = shop["token"].as_str().unwrap();
    let connected = client
        .put(format!("{base}/v1/shop/whatsapp"))
        .bearer_auth(token)
        .json(&json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": ACCESS_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), 200);
    let answer = connected.text().await.unwrap();
    let shop_view =
        client.get(format!("{base}/v1/shop")).bearer_auth(token).send().await.unwrap().text().await.unwrap();

    let now = chrono::Utc::now().timestamp().to_string();
    let webhook = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5511988887777"}],
        "messages": [{"from": "5511988887777", "id": "wamid.secrets", "timestamp": now, "type": "text", "text": {"body": "ajuda"}}]}}]}]});
    let raw = serde_json::to_vec(&webhook).unwrap();
    let signature = chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &raw);
    let received = client
        .post(format!("{base}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(received.status(), 200);
    // Meta refuses one send: the error path is logged too.
    fake.fail_next(500, 1, "An unknown error occurred");
    jobs.run_until_idle().await;
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].authorization.as_deref(), Some(format!("Bearer {ACCESS_TOKEN}").as_str()), "the token works");
    drop(handle.stop(true));
    // Everything on disk, WAL included.
    diesel::connection::SimpleConnection::batch_execute(&mut *pool.get().unwrap(), "PRAGMA wal_checkpoint(FULL)")
        .unwrap();
    drop(pool);

    let logs = logs.0.lock().unwrap().clone();
    assert!(contains(&logs, "the settings"), "the logs were captured");
    assert!(contains(&logs, "job will run again"), "the failed send was logged");
    for secret in [ACCESS_TOKEN, APP_SECRET, PASSWORD, SECRET_KEY] {
        assert!(!contains(&logs, secret), "{secret} is in the logs");
        assert!(!answer.contains(secret) && !shop_view.contains(secret), "{secret} is in an API answer");
        for (path, bytes) in files_under(dir.path()) {
            assert!(!contains(&bytes, secret), "{secret} is in {path}");
        }
    }
}
