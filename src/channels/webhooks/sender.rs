//! Sending one signed webhook to a shop's endpoint, as the Standard Webhooks
//! spec asks: a POST with the `webhook-*` headers, 2xx is success, no
//! redirect followed, a bounded wait, and what each answer means for the
//! next attempt.
//!
//! SSRF: a shop chooses the URL, so every request is checked where it is
//! made. The URL is checked again (`check_url`), and names are resolved by
//! our own resolver inside the HTTP client, which refuses a name if any of
//! its addresses is internal; the client connects only to the addresses
//! that resolver returned, so a name that changes between a check and the
//! connection (DNS rebinding) cannot slip through. No proxy is used: a proxy
//! would resolve the name itself.

use super::{WebhookError, check_url, is_internal};
use chrono::TimeDelta;
use futures_util::future::BoxFuture;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The spec recommends 15 to 30 s.
pub const TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// What is read of an answer's body (to reuse the connection), at most.
const BODY_READ_LIMIT: usize = 64 * 1024;
/// A `Retry-After` longer than this is taken as this.
const RETRY_AFTER_CAP: TimeDelta = TimeDelta::hours(24);
/// How long an endpoint that asked to slow down without saying how long rests.
const SLOW_DOWN: TimeDelta = TimeDelta::seconds(60);

/// The waits between attempts: the spec's example schedule, about 3 days in
/// all (75.5 hours) over 10 attempts.
const SCHEDULE: [TimeDelta; 9] = [
    TimeDelta::seconds(5),
    TimeDelta::minutes(5),
    TimeDelta::minutes(30),
    TimeDelta::hours(2),
    TimeDelta::hours(5),
    TimeDelta::hours(10),
    TimeDelta::hours(14),
    TimeDelta::hours(20),
    TimeDelta::hours(24),
];

/// Attempts before a delivery is dead: the first and one per wait.
pub const MAX_ATTEMPTS: i32 = SCHEDULE.len() as i32 + 1;

/// The wait after failed attempt `attempt` (1-based), within ±10 % so that
/// deliveries failing together do not retry together.
pub fn retry_delay(attempt: i32) -> TimeDelta {
    let index = (attempt.max(1) as usize - 1).min(SCHEDULE.len() - 1);
    let base = SCHEDULE[index].num_milliseconds();
    let spread = base / 10;
    let jitter = (uuid::Uuid::new_v4().as_u128() % (2 * spread as u128 + 1)) as i64 - spread;
    TimeDelta::milliseconds(base + jitter)
}

/// One message, signed: the same `id` and body on every attempt, a fresh
/// timestamp and signatures each time.
#[derive(Debug, Clone)]
pub struct Signed<'a> {
    pub id: &'a str,
    pub timestamp: i64,
    pub signature: String,
    pub body: &'a str,
}

/// What the receiver made of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx.
    Delivered { status: u16 },
    /// 410: the receiver wants no more; the endpoint is disabled.
    Gone,
    /// 429, 502, 504: the receiver is overloaded; send it less for `rest`.
    SlowDown { status: u16, rest: TimeDelta },
    /// Anything else: try again later (after `retry_after` if it said).
    Failed { reason: String, retry_after: Option<TimeDelta> },
    /// Not sent: the URL or what its name resolves to is not allowed.
    Refused(WebhookError),
}

/// How names of webhook URLs are resolved (the system's resolver, or a
/// fixed table in tests).
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The system's resolver (getaddrinfo), off the async threads.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                use std::net::ToSocketAddrs;
                (host.as_str(), 0).to_socket_addrs().map(|addrs| addrs.map(|a| a.ip()).collect())
            })
            .await
            .map_err(std::io::Error::other)?
        })
    }
}

/// The HTTP client's resolver: resolves, then refuses the name unless every
/// address may be reached.
struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
}

/// The error a refused name fails with, found again in the client's error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RefusedName(WebhookError);

/// `localhost` must be loopback only; any other name may resolve to no
/// internal address and no loopback one (a public name pointed at 127.0.0.1
/// would reach this machine's own services).
pub fn check_resolved(host: &str, addrs: &[IpAddr]) -> Result<(), WebhookError> {
    if addrs.is_empty() {
        return Err(WebhookError::BadUrl(format!("{host} has no address")));
    }
    let localhost = host.trim_end_matches('.').eq_ignore_ascii_case("localhost");
    let allowed = |ip: &IpAddr| if localhost { ip.is_loopback() } else { !ip.is_loopback() && !is_internal(*ip) };
    if addrs.iter().all(allowed) { Ok(()) } else { Err(WebhookError::InternalAddress) }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let addrs = lookup.lookup(host.clone()).await?;
            check_resolved(&host, &addrs).map_err(RefusedName)?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// Sends webhooks; one per process, its connections reused.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    pub fn new() -> WebhookSender {
        WebhookSender::with_lookup(Arc::new(SystemLookup))
    }

    /// With names resolved by `lookup` (tests).
    pub fn with_lookup(lookup: Arc<dyn Lookup>) -> WebhookSender {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("chatshop-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { lookup }))
            .build()
            // Only a TLS backend that fails to start fails here: the webhook
            // client then has no TLS, and https deliveries fail visibly.
            .unwrap_or_else(|error| {
                tracing::error!(%error, "the webhook client could not be built; using a plain one");
                reqwest::Client::new()
            });
        WebhookSender { client }
    }

    /// One attempt: checked, sent, its answer classified.
    pub async fn send(&self, url: &str, message: &Signed<'_>) -> Answer {
        let url = match check_url(url) {
            Ok(url) => url,
            Err(refused) => return Answer::Refused(refused),
        };
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", &message.signature)
            .body(message.body.to_owned());
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).and_then(parse_retry_after);
                // Read (a bounded part of) the body so the connection is reused.
                let mut read = 0;
                while read < BODY_READ_LIMIT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        _ => break,
                    }
                }
                answer_for(status, retry_after)
            }
            Err(error) => match refusal_in(&error) {
                Some(refused) => Answer::Refused(refused),
                None => Answer::Failed { reason: describe(&error), retry_after: None },
            },
        }
    }
}

impl Default for WebhookSender {
    fn default() -> Self {
        WebhookSender::new()
    }
}

/// What a status means, as the spec's "HTTP etiquette" has it.
fn answer_for(status: u16, retry_after: Option<TimeDelta>) -> Answer {
    match status {
        200..=299 => Answer::Delivered { status },
        410 => Answer::Gone,
        429 | 502 | 504 => Answer::SlowDown { status, rest: retry_after.unwrap_or(SLOW_DOWN) },
        300..=399 => Answer::Failed { reason: format!("answered {status}: redirects are not followed"), retry_after },
        _ => Answer::Failed { reason: format!("answered {status}"), retry_after },
    }
}

/// `Retry-After`: seconds, or an HTTP date; capped.
fn parse_retry_after(value: &reqwest::header::HeaderValue) -> Option<TimeDelta> {
    let text = value.to_str().ok()?.trim();
    let wait = match text.parse::<i64>() {
        Ok(seconds) => TimeDelta::seconds(seconds.max(0)),
        Err(_) => chrono::DateTime::parse_from_rfc2822(text).ok()?.to_utc() - chrono::Utc::now(),
    };
    Some(wait.clamp(TimeDelta::zero(), RETRY_AFTER_CAP))
}

fn refusal_in(error: &reqwest::Error) -> Option<WebhookError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(RefusedName(refused)) = current.downcast_ref::<RefusedName>() {
            return Some(refused.clone());
        }
        source = current.source();
    }
    None
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        // The innermost cause says most (connection reset, TLS, ...).
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(current) = source {
            message = current.to_string();
            source = current.source();
        }
        message
    }
}

#[cfg(test)]
#[path = "sender_tests.rs"]
mod tests;
