//! A fake Graph API for tests: records every request and answers in Meta's formats.
//!
//! ```ignore
//! let fake = FakeGraph::start().await;
//! fake.fail_next(400, 131047, "Re-engagement message");
//! // point the app at fake.url() (WHATSAPP_GRAPH_URL) ...
//! // run the app's jobs to idle, then:
//! let reqs = fake.requests();
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::server::ServerThread;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path without the query, e.g. `/v24.0/106540352242922/messages`.
    pub path: String,
    pub authorization: Option<String>,
    /// The JSON body, or `Value::Null` when the body was not JSON.
    pub body: Value,
    /// When it arrived (latency benches).
    pub at: std::time::Instant,
    /// The HTTP status the fake answered.
    pub status: u16,
}

impl RecordedRequest {
    /// The bearer token, if the request carried one.
    pub fn bearer(&self) -> Option<&str> {
        self.authorization.as_deref()?.strip_prefix("Bearer ")
    }
}

/// A scripted answer for one upcoming request.
#[derive(Debug, Clone)]
enum Scripted {
    MetaError { status: u16, code: i64, message: String, retry_after: Option<u64> },
    Raw { status: u16, body: String },
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<RecordedRequest>>,
    script: Mutex<VecDeque<Scripted>>,
    /// Messages to these numbers fail with (status, how many more times).
    failing: Mutex<std::collections::HashMap<String, (u16, u32)>>,
    sent: Mutex<u64>,
}

/// Poisoning only happens if a test already panicked; keep serving so that panic is the one reported.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakeGraph {
    addr: SocketAddr,
    state: Arc<State>,
    /// Stopped and joined when the fake is dropped.
    _server: ServerThread,
}

impl FakeGraph {
    /// Starts the server on 127.0.0.1 with an OS-assigned port (needs a tokio runtime).
    pub async fn start() -> FakeGraph {
        let state = Arc::new(State::default());
        let data = web::Data::from(state.clone());
        let (server, addr) = ServerThread::spawn("fake graph", move || {
            let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(handle)))
                .workers(1)
                .disable_signals()
                .shutdown_timeout(0)
                .bind(("127.0.0.1", 0))
                .map_err(|e| format!("bind fake graph server: {e}"))?;
            let addr = server.addrs()[0];
            let server = server.run();
            let server_handle = server.handle();
            Ok((server, server_handle, addr))
        });
        FakeGraph { addr, state, _server: server }
    }

    /// The base URL (no trailing slash), for `GraphClient::new` or WHATSAPP_GRAPH_URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request gets an HTTP `status` with Meta's error JSON carrying `code`.
    pub fn fail_next(&self, status: u16, code: i64, message: &str) {
        lock(&self.state.script).push_back(Scripted::MetaError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        });
    }

    /// Like `fail_next`, adding a `Retry-After: <secs>` header.
    pub fn fail_next_with_retry_after(&self, status: u16, code: i64, message: &str, secs: u64) {
        lock(&self.state.script).push_back(Scripted::MetaError {
            status,
            code,
            message: message.into(),
            retry_after: Some(secs),
        });
    }

    /// The next request gets exactly this status and body (e.g. an HTML 502 from a proxy).
    pub fn respond_next_raw(&self, status: u16, body: &str) {
        lock(&self.state.script).push_back(Scripted::Raw { status, body: body.into() });
    }

    /// The next `times` messages to `to` (a WhatsApp id) get an HTTP
    /// `status` with Meta's generic error (code 1), whatever else is sent.
    pub fn fail_for(&self, to: &str, status: u16, times: u32) {
        lock(&self.state.failing).insert(to.to_owned(), (status, times));
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }
}

fn meta_error(status: u16, code: i64, message: &str) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "AbCdEfFakeTrace"
    }}))
}

/// The token the fake refuses, as Meta refuses an expired or foreign one.
pub const REFUSED_TOKEN: &str = "not-this-numbers-token";

async fn handle(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    // A phone number lookup (GET /{version}/{id}): answered, not recorded with the messages.
    if req.method() == actix_web::http::Method::GET {
        let id = req.path().rsplit('/').next().unwrap_or_default().to_owned();
        return match authorization.as_deref() {
            Some(auth) if auth.starts_with("Bearer ") && auth != format!("Bearer {REFUSED_TOKEN}") => {
                HttpResponse::Ok()
                    .json(json!({"id": id, "display_phone_number": "+55 11 99999-0000", "verified_name": "Fake Shop"}))
            }
            _ => meta_error(400, 190, "Invalid OAuth access token - Cannot parse access token"),
        };
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let response = answer(&req, &json, authorization.as_deref(), &state);
    lock(&state.requests).push(RecordedRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        authorization,
        body: json,
        at: std::time::Instant::now(),
        status: response.status().as_u16(),
    });
    response
}

fn answer(req: &HttpRequest, json: &Value, authorization: Option<&str>, state: &State) -> HttpResponse {
    let to = json.get("to").and_then(Value::as_str).unwrap_or_default();
    if let Some((status, times)) = lock(&state.failing).get_mut(to)
        && *times > 0
    {
        *times -= 1;
        return meta_error(*status, 1, "An unknown error occurred");
    }
    if let Some(scripted) = lock(&state.script).pop_front() {
        return match scripted {
            Scripted::MetaError { status, code, message, retry_after } => {
                let mut response = meta_error(status, code, &message);
                if let Some(secs) = retry_after {
                    response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, secs.into());
                }
                response
            }
            Scripted::Raw { status, body } => {
                HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                    .body(body)
            }
        };
    }

    // Real Graph checks the token first, then the path.
    if !authorization.is_some_and(|a| a.starts_with("Bearer ") && a.len() > "Bearer ".len()) {
        return meta_error(401, 190, "Invalid OAuth access token - Cannot parse access token");
    }
    let segments: Vec<&str> = req.path().trim_matches('/').split('/').collect();
    let is_messages = req.method() == actix_web::http::Method::POST
        && matches!(segments.as_slice(), [version, id, "messages"] if version.starts_with('v') && !id.is_empty());
    if !is_messages {
        return meta_error(400, 100, "Unsupported post request.");
    }
    let Some(to) = json.get("to").and_then(Value::as_str) else {
        return meta_error(400, 100, "The parameter to is required.");
    };
    let id = {
        let mut sent = lock(&state.sent);
        *sent += 1;
        *sent
    };
    HttpResponse::Ok().json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": format!("wamid.{id}")}]
    }))
}
