//! GraphClient against the fake Graph API.

mod support;

use std::time::Duration;

use chatshop::channels::whatsapp::graph::{GraphClient, GraphError, SentMessage};
use chatshop::channels::whatsapp::message::OutboundMessage;
use serde_json::json;
use support::fake_graph::FakeGraph;

const PHONE_ID: &str = "106540352242922";
const TOKEN: &str = "EAAG-test-token";

fn payload() -> serde_json::Value {
    OutboundMessage::Text { body: "Olá!".into() }.to_graph_json("5511988887777").unwrap()
}

async fn setup() -> (FakeGraph, GraphClient) {
    let fake = FakeGraph::start().await;
    let client = GraphClient::new(&fake.url(), "v24.0");
    (fake, client)
}

#[tokio::test]
async fn success_records_path_token_and_body() {
    let (fake, client) = setup().await;
    let sent = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap();
    assert_eq!(sent, SentMessage { message_id: "wamid.1".into() });
    let sent = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap();
    assert_eq!(sent.message_id, "wamid.2");

    // Each send returned, so the fake has recorded it.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/v24.0/{PHONE_ID}/messages"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer EAAG-test-token"));
    assert_eq!(r.bearer(), Some(TOKEN));
    assert_eq!(r.body, payload());
    assert_eq!(r.body["text"], json!({"preview_url": false, "body": "Olá!"}));
}

#[tokio::test]
async fn base_url_with_trailing_slash() {
    let fake = FakeGraph::start().await;
    let client = GraphClient::new(&format!("{}/", fake.url()), "v24.0");
    client.send(PHONE_ID, TOKEN, &payload()).await.unwrap();
    assert_eq!(fake.requests()[0].path, format!("/v24.0/{PHONE_ID}/messages"));
}

#[tokio::test]
async fn window_closed() {
    let (fake, client) = setup().await;
    fake.fail_next(400, 131047, "Re-engagement message");
    let err = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert_eq!(err, GraphError::WindowClosed);
    assert!(!err.is_retryable());
    // The script is consumed: the next send succeeds.
    assert!(client.send(PHONE_ID, TOKEN, &payload()).await.is_ok());
}

#[tokio::test]
async fn rate_limits() {
    let (fake, client) = setup().await;
    fake.fail_next(429, 130429, "Rate limit hit");
    fake.fail_next_with_retry_after(429, 4, "Too many calls", 7);
    fake.fail_next(400, 80007, "Rate limit issues");
    fake.fail_next(400, 131056, "Pair rate limit hit");
    let e1 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    let e2 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    let e3 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    let e4 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert_eq!(e1, GraphError::RateLimited { retry_after: None });
    assert_eq!(e2, GraphError::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(e3, GraphError::RateLimited { retry_after: None });
    assert_eq!(e4, GraphError::PairRateLimited);
    assert!([e1, e2, e3, e4].iter().all(GraphError::is_retryable));
}

#[tokio::test]
async fn plain_429_is_rate_limited() {
    let (fake, client) = setup().await;
    fake.respond_next_raw(429, "slow down");
    let err = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert_eq!(err, GraphError::RateLimited { retry_after: None });
}

#[tokio::test]
async fn server_errors_are_transient() {
    let (fake, client) = setup().await;
    fake.fail_next(500, 2, "Service temporarily unavailable");
    fake.respond_next_raw(502, "<html>Bad Gateway</html>");
    let e1 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    let e2 = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert!(matches!(&e1, GraphError::Transient(m) if m.contains("Service temporarily unavailable")), "{e1:?}");
    assert!(matches!(&e2, GraphError::Transient(m) if m.contains("502")), "{e2:?}");
    assert!(e1.is_retryable() && e2.is_retryable());
}

#[tokio::test]
async fn other_4xx_is_rejected() {
    let (fake, client) = setup().await;
    fake.fail_next(400, 100, "Invalid parameter");
    let err = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert_eq!(err, GraphError::Rejected { code: 100, message: "Invalid parameter".into() });
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn missing_token_is_rejected_without_leaking() {
    let (fake, client) = setup().await;
    let err = client.send(PHONE_ID, "", &payload()).await.unwrap_err();
    assert!(matches!(err, GraphError::Rejected { code: 190, .. }), "{err:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn errors_never_contain_the_token() {
    let (fake, client) = setup().await;
    fake.fail_next(401, 190, &format!("Malformed access token {TOKEN}"));
    let err = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(TOKEN), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_transient() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = GraphClient::new(&format!("http://127.0.0.1:{port}"), "v24.0");
    let err = client.send(PHONE_ID, TOKEN, &payload()).await.unwrap_err();
    assert!(matches!(&err, GraphError::Transient(_)), "{err:?}");
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[tokio::test]
async fn bad_phone_number_id_never_leaves() {
    let (fake, client) = setup().await;
    let err = client.send("../../me", TOKEN, &payload()).await.unwrap_err();
    assert!(matches!(err, GraphError::Rejected { code: 0, .. }));
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn concurrent_sends_are_all_recorded_with_their_own_ids() {
    let (fake, client) = setup().await;
    let sends: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.send(PHONE_ID, TOKEN, &payload()).await })
        })
        .collect();
    let mut ids = Vec::new();
    for send in sends {
        ids.push(send.await.unwrap().unwrap().message_id);
    }
    assert_eq!(fake.requests().len(), 5);
    ids.sort();
    assert_eq!(ids, ["wamid.1", "wamid.2", "wamid.3", "wamid.4", "wamid.5"]);
}
