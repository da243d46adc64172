//! Outbound client for the Graph API's `/{phone_number_id}/messages`, classifying Meta's errors
//! into what the outbox worker needs to decide: retry later, fall back to a template, or give up.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Meta error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
pub mod codes {
    pub const WINDOW_CLOSED: i64 = 131047;
    pub const PAIR_RATE_LIMIT: i64 = 131056;
    pub const THROUGHPUT_LIMIT: i64 = 130429;
    pub const API_TOO_MANY_CALLS: i64 = 4;
    pub const APP_RATE_LIMIT: i64 = 80007;
    /// Meta's own "try again later" family: unknown, service, something went wrong, unavailable.
    pub const TRANSIENT: &[i64] = &[1, 2, 131000, 131016, 133004];
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("customer service window closed: only templates may be sent")]
    WindowClosed,
    #[error("rate limited by the Graph API")]
    RateLimited { retry_after: Option<Duration> },
    #[error("too many messages to this user; slow down")]
    PairRateLimited,
    #[error("transient Graph API failure: {0}")]
    Transient(String),
    #[error("Graph API rejected the message (code {code}): {message}")]
    Rejected { code: i64, message: String },
    /// A 2xx answer without a message id: the message may have been sent, so do not retry blindly.
    #[error("unexpected Graph API success response: {0}")]
    InvalidResponse(String),
}

impl GraphError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, GraphError::RateLimited { .. } | GraphError::PairRateLimited | GraphError::Transient(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
}

#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    api_version: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: Option<String>,
}

impl GraphClient {
    pub fn new(base_url: &str, api_version: &str) -> Self {
        // Building only fails if the TLS backend cannot initialise; fall back to defaults then
        // (the request itself will surface the problem as a Transient error).
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_version: api_version.trim_matches('/').to_owned(),
        }
    }

    pub fn messages_url(&self, phone_number_id: &str) -> String {
        format!("{}/{}/{}/messages", self.base_url, self.api_version, phone_number_id)
    }

    pub async fn send(
        &self,
        phone_number_id: &str,
        access_token: &str,
        payload: &Value,
    ) -> Result<SentMessage, GraphError> {
        check_phone_number_id(phone_number_id)?;
        let request = self.http.post(self.messages_url(phone_number_id)).json(payload);
        let body = call(request, access_token).await?;
        parse_success(&body).ok_or_else(|| {
            GraphError::InvalidResponse(redact(
                String::from_utf8_lossy(&body).chars().take(200).collect(),
                access_token,
            ))
        })
    }
}

/// The id goes into the path; refuse anything that could change the path.
fn check_phone_number_id(phone_number_id: &str) -> Result<(), GraphError> {
    if phone_number_id.is_empty() || !phone_number_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(GraphError::Rejected { code: 0, message: "invalid phone_number_id".into() });
    }
    Ok(())
}

/// Sends a request with the token; a success's body, or the failure classified.
async fn call(request: reqwest::RequestBuilder, access_token: &str) -> Result<Vec<u8>, GraphError> {
    let transient = |e: reqwest::Error| GraphError::Transient(redact(describe(&e), access_token));
    let response = request.bearer_auth(access_token).send().await.map_err(transient)?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let body = response.bytes().await.map_err(transient)?;
    if status.is_success() { Ok(body.to_vec()) } else { Err(classify(status, retry_after, &body, access_token)) }
}

/// A business phone number as the Graph API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhoneNumberInfo {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
}

impl GraphClient {
    /// Asks Meta for the number with the shop's token: it answers only when
    /// the token may use that number, which is what proves the number is the
    /// shop's before its messages are routed to it.
    pub async fn phone_number(&self, phone_number_id: &str, access_token: &str) -> Result<PhoneNumberInfo, GraphError> {
        check_phone_number_id(phone_number_id)?;
        let url = format!("{}/{}/{}", self.base_url, self.api_version, phone_number_id);
        let request = self.http.get(url).query(&[("fields", "id,display_phone_number,verified_name")]);
        let body = call(request, access_token).await?;
        serde_json::from_slice::<PhoneNumberInfo>(&body)
            .ok()
            .filter(|info| info.id == phone_number_id)
            .ok_or_else(|| GraphError::InvalidResponse("the Graph API described another number".into()))
    }
}

fn parse_success(body: &[u8]) -> Option<SentMessage> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let id = value.get("messages")?.get(0)?.get("id")?.as_str()?;
    Some(SentMessage { message_id: id.to_owned() })
}

/// Maps an error response to a GraphError; public so webhook status errors can share it.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8], access_token: &str) -> GraphError {
    let parsed = serde_json::from_slice::<ErrorEnvelope>(body).ok().map(|e| e.error);
    let code = parsed.as_ref().map(|e| e.code);
    let message = match &parsed {
        Some(e) => match e.error_data.as_ref().and_then(|d| d.details.as_deref()) {
            Some(details) if !details.is_empty() && details != e.message => format!("{}: {details}", e.message),
            _ => e.message.clone(),
        },
        None => format!("HTTP {status}: {}", String::from_utf8_lossy(body).chars().take(200).collect::<String>()),
    };
    let message = redact(message, access_token);
    match code {
        Some(codes::WINDOW_CLOSED) => return GraphError::WindowClosed,
        Some(codes::PAIR_RATE_LIMIT) => return GraphError::PairRateLimited,
        Some(codes::THROUGHPUT_LIMIT | codes::API_TOO_MANY_CALLS | codes::APP_RATE_LIMIT) => {
            return GraphError::RateLimited { retry_after };
        }
        _ => {}
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return GraphError::RateLimited { retry_after };
    }
    if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || code.is_some_and(|c| codes::TRANSIENT.contains(&c))
    {
        return GraphError::Transient(message);
    }
    GraphError::Rejected { code: code.unwrap_or(i64::from(status.as_u16())), message }
}

/// `Retry-After` in seconds (Meta does not send HTTP dates here).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // Only the kind and the causes: the token travels in a header and never appears in these.
    let mut source = String::new();
    let mut err: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(inner) = err {
        source = format!("{source}: {inner}");
        err = inner.source();
    }
    format!("{kind}{source}")
}

/// Belt and braces: Meta never echoes the token, but an error string must not carry it either.
fn redact(text: String, access_token: &str) -> String {
    if access_token.len() >= 4 && text.contains(access_token) { text.replace(access_token, "[redacted]") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, code: i64) -> GraphError {
        let body = format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"error_data":{{"details":"d"}},"fbtrace_id":"x"}}}}"#
        );
        classify(StatusCode::from_u16(status).unwrap(), None, body.as_bytes(), "tok")
    }

    #[test]
    fn classification() {
        assert_eq!(err(400, 131047), GraphError::WindowClosed);
        assert_eq!(err(400, 131056), GraphError::PairRateLimited);
        assert_eq!(err(400, 130429), GraphError::RateLimited { retry_after: None });
        assert_eq!(err(400, 4), GraphError::RateLimited { retry_after: None });
        assert_eq!(err(400, 80007), GraphError::RateLimited { retry_after: None });
        assert_eq!(err(429, 100), GraphError::RateLimited { retry_after: None });
        assert_eq!(err(500, 100), GraphError::Transient("m: d".into()));
        assert_eq!(err(400, 131000), GraphError::Transient("m: d".into()));
        assert_eq!(err(400, 100), GraphError::Rejected { code: 100, message: "m: d".into() });
        let plain = classify(StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>", "tok");
        assert!(matches!(plain, GraphError::Transient(ref m) if m.contains("502")));
        let plain = classify(StatusCode::FORBIDDEN, None, b"", "tok");
        assert!(matches!(plain, GraphError::Rejected { code: 403, .. }));
    }

    #[test]
    fn retryable() {
        assert!(GraphError::Transient("x".into()).is_retryable());
        assert!(GraphError::RateLimited { retry_after: None }.is_retryable());
        assert!(GraphError::PairRateLimited.is_retryable());
        assert!(!GraphError::WindowClosed.is_retryable());
        assert!(!GraphError::Rejected { code: 100, message: "x".into() }.is_retryable());
        assert!(!GraphError::InvalidResponse("x".into()).is_retryable());
    }

    #[test]
    fn token_is_redacted() {
        let body = br#"{"error":{"message":"bad token EAAGsecret","code":190}}"#;
        let e = classify(StatusCode::UNAUTHORIZED, None, body, "EAAGsecret");
        assert_eq!(e, GraphError::Rejected { code: 190, message: "bad token [redacted]".into() });
    }

    #[test]
    fn url_and_debug() {
        let c = GraphClient::new("http://x/", "/v24.0/");
        assert_eq!(c.messages_url("123"), "http://x/v24.0/123/messages");
    }
}
