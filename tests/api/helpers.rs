//! The app on a random port against a fresh database, once per test, on SQLite
//! and on PostgreSQL.

use chatshop::config::Config;
use chatshop::startup::Application;
use serde_json::{Value, json};

pub use crate::support::database::{Engine, TestDatabase};
use crate::support::server::ServerThread;

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
pub const APP_SECRET: &str = "meta-app-secret";
/// 32 bytes, base64: seals shop secrets in tests.
pub const TEST_SECRET_KEY: &str = "Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=";

pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("default config");
    config.database_url = database_url.to_owned();
    config.database_pool_size = 4;
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.jwt_secret = Some(JWT_SECRET.into());
    config.demo = false;
    config.workers = Some(1);
    config.feed_body_limit = 4 * 1024 * 1024;
    config.whatsapp_app_secret = Some(APP_SECRET.into());
    config.whatsapp_verify_token = Some("verify-me".into());
    // No Graph API unless a test starts its fake one.
    config.whatsapp_graph_url = "http://127.0.0.1:9".into();
    // Tests drive background work themselves (`run_until_idle`) rather than
    // sleep until a worker gets to it.
    config.run_worker = false;
    // As every process on one PostgreSQL would share it.
    config.secret_key = Some(TEST_SECRET_KEY.into());
    // No morning summaries waiting a day ahead in the queue, unless a test
    // is about them (tests move the clock by days and count mails).
    config.daily_summary = false;
    config
}

pub struct TestApp {
    /// Dropped first: the server, its worker and their connections are gone
    /// before the database is dropped.
    _server: ServerThread,
    pub address: String,
    pub pool: chatshop::db::Pool,
    pub engine: Engine,
    pub client: reqwest::Client,
    /// Stands still unless a test moves it (retries, windows, expiry).
    pub clock: chatshop::clock::Clock,
    pub jobs: Jobs,
    /// Where mail goes when no SMTP server is set.
    pub mail_dir: tempfile::TempDir,
    // Dropped last.
    _database: TestDatabase,
}

/// A process's background jobs, which tests run themselves.
pub type Jobs = chatshop::jobs::Runner<chatshop::services::Services>;

/// Runs the app for `config` on its own thread (see `ServerThread`).
fn start_app(
    name: &str,
    config: Config,
    clock: chatshop::clock::Clock,
) -> (ServerThread, (String, chatshop::db::Pool, Jobs)) {
    ServerThread::spawn(name, move || {
        let app = Application::build_with_clock(&config, clock).map_err(|e| e.to_string())?;
        let address = format!("http://{}", app.address);
        let (handle, pool, jobs) = (app.server_handle(), app.pool.clone(), app.jobs.clone());
        Ok((app.run_until_stopped(), handle, (address, pool, jobs)))
    })
}

/// A shop made through the API, with its owner's token.
pub struct TestShop {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        TestApp::spawn_with(engine, |_| {}).await
    }

    pub async fn spawn_with(engine: Engine, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let database = TestDatabase::create(engine)?;
        let mut config = test_config(database.url());
        let mail_dir = tempfile::tempdir().expect("mail dir");
        config.mail_dir = mail_dir.path().to_owned();
        adjust(&mut config);
        let clock = chatshop::clock::Clock::manual(chatshop::db::now());
        let (server, (address, pool, jobs)) = start_app("test app", config, clock.clone());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Some(TestApp { _server: server, address, pool, engine, client, clock, jobs, mail_dir, _database: database })
    }

    /// The database this app runs on, for a second process (`chatshop pay`).
    pub fn database_url(&self) -> &str {
        self._database.url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Runs every due background job, and what they cause, to the end.
    pub async fn run_until_idle(&self) -> usize {
        self.jobs.run_until_idle().await
    }

    /// A second process on the same database, as a platform runs several,
    /// with the same clock; dropping the returned `ServerThread` stops it and
    /// waits for it.
    pub async fn second_process(&self, adjust: impl FnOnce(&mut Config)) -> (String, ServerThread, Jobs) {
        let mut config = test_config(self._database.url());
        config.mail_dir = self.mail_dir.path().to_owned();
        adjust(&mut config);
        let (server, (address, _, jobs)) = start_app("second process", config, self.clock.clone());
        (address, server, jobs)
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn import(&self, token: &str, feed: impl Into<reqwest::Body>, query: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v1/catalog/import{query}")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(feed)
            .send()
            .await
            .expect("request")
    }

    pub async fn sign_up(&self, name: &str, email: &str) -> TestShop {
        let response =
            self.client.post(self.url("/v1/shops")).json(&shop_body(name, email)).send().await.expect("request");
        assert_eq!(response.status(), 201, "sign-up of {email}");
        let body: Value = response.json().await.expect("json");
        TestShop {
            id: body["shop"]["id"].as_str().expect("shop id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Adds a user of `role` to the shop and returns that user's token.
    pub async fn user_token(&self, shop: &TestShop, email: &str, role: &str) -> String {
        let added = self
            .post("/v1/users", &shop.token, &json!({"email": email, "password": "a long password", "role": role}))
            .await;
        assert_eq!(added.status(), 201);
        login(self, email, "a long password").await
    }

    pub async fn create_product(&self, token: &str, sku: &str, name: &str, price: &str) -> Value {
        let response =
            self.post("/v1/products", token, &json!({"retailer_id": sku, "name": name, "price": price})).await;
        assert_eq!(response.status(), 201, "create {sku}");
        response.json().await.expect("json")
    }
}

/// `POST /v1/auth/login`, whatever its answer.
pub async fn try_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request")
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let response = try_login(app, email, password).await;
    assert_eq!(response.status(), 200, "login of {email}");
    let body: Value = response.json().await.expect("json");
    body["token"].as_str().expect("token").to_owned()
}

pub fn shop_body(name: &str, email: &str) -> Value {
    json!({
        "name": name,
        "city": "São Paulo",
        "owner": {"email": email, "password": "a long password"},
        "pix": {"key": email, "key_type": "email"},
        "notify": {"email": email, "whatsapp": "+55 11 98888-7777"}
    })
}

/// Asserts an RFC 9457 problem with the given status and code; returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/catalog-samples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample feed")
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident) => {
        mod $name {
            use $crate::helpers::{Engine, TestApp};

            #[tokio::test]
            async fn sqlite() {
                if let Some(app) = TestApp::spawn(Engine::Sqlite).await {
                    super::$name(app).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = TestApp::spawn(Engine::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

impl TestApp {
    /// The `.eml` files written to the mail folder so far.
    pub fn mail_files(&self) -> Vec<String> {
        std::fs::read_dir(self.mail_dir.path())
            .map(|dir| dir.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
            .unwrap_or_default()
    }
}
