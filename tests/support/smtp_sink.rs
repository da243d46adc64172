//! A small SMTP server on loopback that keeps every message it accepts, so
//! tests see what lettre really sent over the wire. Options: STARTTLS or
//! implicit TLS (a rustls server config, e.g. `fake_psp::server_tls_config`),
//! AUTH PLAIN / LOGIN with one user whose credentials it checks (refusing
//! others with 535), a delay before accepting each message, and an outage
//! (`down`: the port refuses connections; `up`: the same port listens again).

use base64::Engine as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ServerConfig;

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// The message came over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// Who authenticated, if anyone.
    pub user: Option<String>,
    /// When the sink accepted it (after `delay`).
    pub at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkTls {
    None,
    /// Plain at first; `STARTTLS` advertised, and required before `MAIL`.
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

#[derive(Clone)]
pub struct SinkOptions {
    pub tls: SinkTls,
    /// The server's certificate (needed unless `tls` is `None`).
    pub tls_config: Option<Arc<ServerConfig>>,
    /// The one user and password accepted; when set, `MAIL` needs AUTH.
    pub credentials: Option<(String, String)>,
    /// The mechanisms advertised after `AUTH` in EHLO.
    pub mechanisms: &'static [&'static str],
    /// How long the sink takes to accept each message.
    pub delay: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            tls: SinkTls::None,
            tls_config: None,
            credentials: None,
            mechanisms: &["PLAIN", "LOGIN"],
            delay: Duration::ZERO,
        }
    }
}

struct Shared {
    options: SinkOptions,
    mail: Mutex<Vec<ReceivedMail>>,
    /// Bumped after each stored mail, so a test waits on arrivals, not a timer.
    arrived: tokio::sync::watch::Sender<usize>,
    auth_failures: AtomicUsize,
    connections: AtomicUsize,
    /// The accept loop and every open session, stopped by `down`.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Clone)]
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SmtpSink {
    /// Plain SMTP, no AUTH: accepts every message.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(SinkOptions::default()).await
    }

    pub async fn start_with(options: SinkOptions) -> SmtpSink {
        assert!(options.tls == SinkTls::None || options.tls_config.is_some(), "TLS needs a server config");
        let shared = Arc::new(Shared {
            options,
            mail: Mutex::new(Vec::new()),
            arrived: tokio::sync::watch::Sender::new(0),
            auth_failures: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let mut sink = SmtpSink { port: 0, shared };
        sink.port = sink.listen(0);
        sink
    }

    /// Listens on `port` (0: any), returns the port.
    fn listen(&self, port: u16) -> u16 {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(([127, 0, 0, 1], port).into()).expect("bind the SMTP sink");
        let listener = socket.listen(64).expect("listen");
        let port = listener.local_addr().expect("address").port();
        let shared = self.shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let session = tokio::spawn(serve(stream, shared.clone()));
                lock(&shared.tasks).push(session);
            }
        });
        lock(&self.shared.tasks).push(accept);
        port
    }

    /// The server goes away: open sessions are cut and the port refuses
    /// connections until `up`.
    pub async fn down(&self) {
        let tasks: Vec<_> = lock(&self.shared.tasks).drain(..).collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }

    /// The server is back on the same port.
    pub fn up(&self) {
        self.listen(self.port);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        lock(&self.shared.mail).clone()
    }

    /// Waits until `done` holds for the mail received so far, woken by each
    /// arrival; fails the test after `seconds`.
    pub async fn wait_for(&self, what: &str, seconds: u64, done: impl Fn(&[ReceivedMail]) -> bool) {
        let mut arrivals = self.shared.arrived.subscribe();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(seconds), async {
            while !done(&self.received()) {
                if arrivals.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(waited.is_ok(), "gave up waiting for {what}");
    }

    /// AUTH attempts refused with 535.
    pub fn auth_failures(&self) -> usize {
        self.shared.auth_failures.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let acceptor = shared.options.tls_config.clone().map(tokio_rustls::TlsAcceptor::from);
    match (shared.options.tls, acceptor) {
        (SinkTls::Implicit, Some(acceptor)) => {
            if let Ok(tls) = acceptor.accept(stream).await {
                let _ = dialogue(tls, true, true, &shared).await;
            }
        }
        (_, acceptor) => {
            if let Ok(Some(plain)) = dialogue(stream, false, true, &shared).await
                && let Some(acceptor) = acceptor
                && let Ok(tls) = acceptor.accept(plain).await
            {
                // After STARTTLS the client starts again with EHLO, no greeting.
                let _ = dialogue(tls, true, false, &shared).await;
            }
        }
    }
}

/// One SMTP conversation on `stream`. Returns the stream when the client
/// asked for STARTTLS (to be wrapped and spoken to again).
async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    secure: bool,
    greet: bool,
    shared: &Shared,
) -> std::io::Result<Option<S>> {
    let options = &shared.options;
    let mut conn = BufReader::new(stream);
    if greet {
        reply(&mut conn, "220 sink ESMTP").await?;
    }
    let (mut from, mut to, mut user) = (String::new(), Vec::new(), None::<String>);
    let offers_starttls = options.tls == SinkTls::StartTls && !secure;
    loop {
        let Some(line) = read_line(&mut conn).await? else { return Ok(None) };
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => {
                let mut lines = vec!["250-sink".to_owned(), "250-8BITMIME".to_owned()];
                if offers_starttls {
                    lines.push("250-STARTTLS".into());
                }
                if options.credentials.is_some() {
                    lines.push(format!("250-AUTH {}", options.mechanisms.join(" ")));
                }
                lines.push("250 SMTPUTF8".into());
                reply(&mut conn, &lines.join("\r\n")).await?;
            }
            "STARTTLS" if offers_starttls => {
                reply(&mut conn, "220 2.0.0 Ready to start TLS").await?;
                return Ok(Some(conn.into_inner()));
            }
            "AUTH" => {
                let words: Vec<&str> = line.split_whitespace().collect();
                let mechanism = words.get(1).map(|m| m.to_ascii_uppercase()).unwrap_or_default();
                let given = match mechanism.as_str() {
                    "PLAIN" if options.mechanisms.contains(&"PLAIN") => {
                        let initial = match words.get(2) {
                            Some(initial) => Some(initial.to_string()),
                            None => {
                                reply(&mut conn, "334 ").await?;
                                read_line(&mut conn).await?
                            }
                        };
                        initial.and_then(|b64| decode(&b64)).and_then(|plain| {
                            let mut parts = plain.split('\0');
                            let _authz = parts.next()?;
                            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                        })
                    }
                    "LOGIN" if options.mechanisms.contains(&"LOGIN") => {
                        reply(&mut conn, "334 VXNlcm5hbWU6").await?;
                        let name = read_line(&mut conn).await?.and_then(|b| decode(&b));
                        reply(&mut conn, "334 UGFzc3dvcmQ6").await?;
                        let password = read_line(&mut conn).await?.and_then(|b| decode(&b));
                        name.zip(password)
                    }
                    _ => {
                        reply(&mut conn, "504 5.5.4 Unrecognized authentication type").await?;
                        continue;
                    }
                };
                match (&options.credentials, given) {
                    (Some(expected), Some(given)) if *expected == given => {
                        user = Some(given.0);
                        reply(&mut conn, "235 2.7.0 Authentication successful").await?;
                    }
                    _ => {
                        shared.auth_failures.fetch_add(1, Ordering::SeqCst);
                        reply(&mut conn, "535 5.7.8 Authentication credentials invalid").await?;
                    }
                }
            }
            "MAIL" if offers_starttls => reply(&mut conn, "530 5.7.0 Must issue a STARTTLS command first").await?,
            "MAIL" if options.credentials.is_some() && user.is_none() => {
                reply(&mut conn, "530 5.7.0 Authentication required").await?
            }
            "MAIL" => {
                from = line.get(10..).unwrap_or("").trim().to_owned();
                reply(&mut conn, "250 2.1.0 OK").await?;
            }
            "RCPT" => {
                to.push(line.get(8..).unwrap_or("").trim().to_owned());
                reply(&mut conn, "250 2.1.5 OK").await?;
            }
            "DATA" => {
                reply(&mut conn, "354 End data with <CR><LF>.<CR><LF>").await?;
                let mut data = String::new();
                while let Some(line) = read_line(&mut conn).await? {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push('\n');
                }
                if !options.delay.is_zero() {
                    tokio::time::sleep(options.delay).await;
                }
                let mail = ReceivedMail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                    tls: secure,
                    user: user.clone(),
                    at: Instant::now(),
                };
                let count = {
                    let mut stored = lock(&shared.mail);
                    stored.push(mail);
                    stored.len()
                };
                shared.arrived.send_replace(count);
                reply(&mut conn, "250 2.0.0 OK queued").await?;
            }
            "QUIT" => {
                reply(&mut conn, "221 2.0.0 bye").await?;
                return Ok(None);
            }
            _ => reply(&mut conn, "250 OK").await?,
        }
    }
}

async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

async fn reply<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut BufReader<S>, text: &str) -> std::io::Result<()> {
    let stream = conn.get_mut();
    stream.write_all(text.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

fn decode(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    String::from_utf8(bytes).ok()
}
