//! A shop's webhook receiver for tests, on loopback: records every request
//! and answers as scripted; `verify` checks a Standard Webhooks signature
//! the way the spec describes it, written here apart from the service's code.
//!
//! ```ignore
//! let receiver = WebhookReceiver::start().await;
//! receiver.answer_next(500, None);          // then 200 by default
//! // register receiver.url() as an endpoint, run the jobs, then:
//! let got = receiver.requests();
//! assert!(verify(&secret, &got[0]));
//! ```

use super::server::ServerThread;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn timestamp(&self) -> i64 {
        self.timestamp.parse().expect("an integer timestamp")
    }
}

struct State {
    requests: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<(u16, Option<u64>)>>,
    /// What an unscripted request gets.
    default_status: Mutex<u16>,
    /// How long each answer waits (a slow receiver, for requests in flight).
    delay: Mutex<Duration>,
    /// How many requests have arrived, for tests that wait on real processes.
    arrived: tokio::sync::watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct WebhookReceiver {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerThread,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        WebhookReceiver::with_workers(1).await
    }

    pub async fn with_workers(workers: usize) -> WebhookReceiver {
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            default_status: Mutex::new(200),
            delay: Mutex::new(Duration::ZERO),
            arrived: tokio::sync::watch::Sender::new(0),
        });
        let data = web::Data::from(state.clone());
        let (server, addr) = ServerThread::spawn("webhook receiver", move || {
            let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(handle)))
                .workers(workers)
                .max_connections(1024)
                .disable_signals()
                .shutdown_timeout(0)
                .bind(("127.0.0.1", 0))
                .map_err(|e| format!("bind the webhook receiver: {e}"))?;
            let addr = server.addrs()[0];
            let server = server.run();
            let handle = server.handle();
            Ok((server, handle, addr))
        });
        WebhookReceiver { addr, state, _server: server }
    }

    /// Where the shop registers it (loopback: http is allowed).
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next unanswered request gets `status` (and `Retry-After: secs`).
    pub fn answer_next(&self, status: u16, retry_after: Option<u64>) {
        lock(&self.state.script).push_back((status, retry_after));
    }

    /// What every unscripted request gets from now on.
    pub fn answer_always(&self, status: u16) {
        *lock(&self.state.default_status) = status;
    }

    pub fn delay_answers(&self, by: Duration) {
        *lock(&self.state.delay) = by;
    }

    pub fn requests(&self) -> Vec<Received> {
        lock(&self.state.requests).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Waits until `done` holds for the requests received so far, woken by
    /// each arrival (no polling); panics after `seconds`.
    pub async fn wait_for(&self, what: &str, seconds: u64, done: impl Fn(&[Received]) -> bool) {
        let mut arrivals = self.state.arrived.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(seconds), async {
            loop {
                if done(&self.requests()) {
                    return;
                }
                if arrivals.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(waited.is_ok(), "timed out waiting for {what} ({} requests received)", self.count());
    }
}

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    lock(&state.requests).push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    state.arrived.send_modify(|n| *n += 1);
    let delay = *lock(&state.delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let scripted = lock(&state.script).pop_front();
    let (status, retry_after) = scripted.unwrap_or((*lock(&state.default_status), None));
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK)).body("ok");
    if let Some(secs) = retry_after {
        response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, secs.into());
    }
    response
}

/// The spec's check: one of the header's space-separated `v1,` signatures
/// is base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key being the
/// base64-decoded part of `whsec_…`.
pub fn verify(secret: &str, request: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("a whsec_ secret")).expect("base64 secret");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key");
    mac.update(format!("{}.{}.{}", request.id, request.timestamp, request.body).as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    request.signature.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}
