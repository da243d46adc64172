use super::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Names resolved from a table, as a DNS server under someone's control would.
struct FixedLookup(HashMap<&'static str, Vec<IpAddr>>);

impl Lookup for FixedLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let found = self.0.get(host.as_str()).cloned();
        Box::pin(async move { found.ok_or_else(|| std::io::Error::other(format!("{host}: no such name"))) })
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// A loopback listener that counts connections and answers each request
/// with `answer` (a whole HTTP/1.1 response), recording what it read.
struct Listener {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    fn start(answer: &'static str) -> Listener {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in socket.incoming() {
                let Ok(mut stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let mut buffer = vec![0u8; 16 * 1024];
                let mut read = 0;
                // Headers, then the body by its content-length.
                while let Ok(n) = stream.read(&mut buffer[read..]) {
                    if n == 0 {
                        break;
                    }
                    read += n;
                    let text = String::from_utf8_lossy(&buffer[..read]).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if read >= end + 4 + length {
                            seen.lock().expect("lock").push(text);
                            let _ = stream.write_all(answer.as_bytes());
                            break;
                        }
                    }
                }
            }
        });
        Listener { port, connections, requests }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn message() -> Signed<'static> {
    Signed { id: "evt_1", timestamp: 1_700_000_000, signature: "v1,abc=".into(), body: r#"{"type":"order.paid"}"# }
}

const OK: &str = "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";

#[tokio::test]
async fn a_name_resolving_to_an_internal_address_is_refused_before_connecting() {
    let listener = Listener::start(OK);
    let table = HashMap::from([
        ("erp.example.test", vec![ip("10.0.0.7")]),
        ("metadata.example.test", vec![ip("169.254.169.254")]),
        ("cgnat.example.test", vec![ip("100.64.3.4")]),
        ("mixed.example.test", vec![ip("93.184.216.34"), ip("192.168.0.10")]),
        ("v6.example.test", vec![ip("fd00::1")]),
        // A public name pointed at this machine: its own services are not the shop's.
        ("rebind.example.test", vec![ip("127.0.0.1")]),
    ]);
    let sender = WebhookSender::with_lookup(Arc::new(FixedLookup(table)));
    for host in
        ["erp.example.test", "metadata.example.test", "cgnat.example.test", "mixed.example.test", "v6.example.test"]
    {
        let answer = sender.send(&format!("https://{host}:{}/hook", listener.port), &message()).await;
        assert_eq!(answer, Answer::Refused(WebhookError::InternalAddress), "{host}");
    }
    let answer = sender.send(&format!("https://rebind.example.test:{}/hook", listener.port), &message()).await;
    assert_eq!(answer, Answer::Refused(WebhookError::InternalAddress));
    assert_eq!(listener.connections(), 0, "nothing may reach the listener");
}

#[tokio::test]
async fn literal_internal_addresses_are_refused_at_sending_too() {
    let sender = WebhookSender::with_lookup(Arc::new(FixedLookup(HashMap::new())));
    for url in ["https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "http://[fe80::1]/"] {
        assert!(matches!(sender.send(url, &message()).await, Answer::Refused(_)), "{url}");
    }
}

#[tokio::test]
async fn the_client_connects_to_the_address_that_was_checked() {
    let listener = Listener::start(OK);
    // `localhost` resolved by the table (not the system): the request goes
    // where the checked answer said.
    let table = HashMap::from([("localhost", vec![ip("127.0.0.1")])]);
    let sender = WebhookSender::with_lookup(Arc::new(FixedLookup(table)));
    let answer = sender.send(&format!("http://localhost:{}/hook", listener.port), &message()).await;
    assert_eq!(answer, Answer::Delivered { status: 204 });
    assert_eq!(listener.connections(), 1);
    let seen = listener.requests.lock().expect("lock").clone();
    let request = seen[0].to_ascii_lowercase();
    assert!(request.starts_with("post /hook http/1.1"), "{request}");
    for header in [
        "webhook-id: evt_1",
        "webhook-timestamp: 1700000000",
        "webhook-signature: v1,abc=",
        "content-type: application/json",
    ] {
        assert!(request.contains(header), "{header} in {request}");
    }
    assert!(seen[0].ends_with(r#"{"type":"order.paid"}"#));
}

#[tokio::test]
async fn localhost_must_resolve_to_loopback_only() {
    let table = HashMap::from([("localhost", vec![ip("10.1.2.3")])]);
    let sender = WebhookSender::with_lookup(Arc::new(FixedLookup(table)));
    let answer = sender.send("http://localhost:9/hook", &message()).await;
    assert_eq!(answer, Answer::Refused(WebhookError::InternalAddress));
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let listener =
        Listener::start("HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n");
    let sender = WebhookSender::with_lookup(Arc::new(FixedLookup(HashMap::new())));
    let answer = sender.send(&format!("http://127.0.0.1:{}/hook", listener.port), &message()).await;
    assert!(matches!(answer, Answer::Failed { ref reason, .. } if reason.contains("302")), "{answer:?}");
    assert_eq!(listener.requests.lock().expect("lock").len(), 1);
}

#[test]
fn statuses_mean_what_the_spec_says() {
    assert_eq!(answer_for(200, None), Answer::Delivered { status: 200 });
    assert_eq!(answer_for(299, None), Answer::Delivered { status: 299 });
    assert_eq!(answer_for(410, None), Answer::Gone);
    for status in [429, 502, 504] {
        assert_eq!(answer_for(status, None), Answer::SlowDown { status, rest: SLOW_DOWN });
    }
    assert_eq!(
        answer_for(429, Some(TimeDelta::seconds(120))),
        Answer::SlowDown { status: 429, rest: TimeDelta::seconds(120) }
    );
    for status in [301, 400, 404, 500, 503] {
        assert!(matches!(answer_for(status, None), Answer::Failed { .. }), "{status}");
    }
}

#[test]
fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
    let value = |text: &str| reqwest::header::HeaderValue::from_str(text).expect("header");
    assert_eq!(parse_retry_after(&value("120")), Some(TimeDelta::seconds(120)));
    assert_eq!(parse_retry_after(&value("999999")), Some(RETRY_AFTER_CAP));
    let in_an_hour = (chrono::Utc::now() + TimeDelta::hours(1)).to_rfc2822();
    let wait = parse_retry_after(&value(&in_an_hour)).expect("a date");
    assert!(wait > TimeDelta::minutes(59) && wait <= TimeDelta::hours(1), "{wait}");
    assert_eq!(parse_retry_after(&value("soon")), None);
}

#[test]
fn the_schedule_spans_about_three_days() {
    for _ in 0..20 {
        let total: TimeDelta = (1..MAX_ATTEMPTS).map(retry_delay).sum();
        assert!(total > TimeDelta::hours(66) && total < TimeDelta::hours(84), "{total}");
    }
    let first = retry_delay(1).num_milliseconds();
    assert!((4_500..=5_500).contains(&first), "{first}");
}
