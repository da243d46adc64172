//! Every `SMTP_URL` form against a real SMTP exchange on loopback: plain,
//! STARTTLS (`?tls=required`), implicit TLS (`smtps://`), AUTH PLAIN and
//! LOGIN with a sink that checks the credentials; TLS verified against a
//! test CA trusted through `CHATSHOP_SMTP_CA_FILE`. The password never shows
//! in an error, a delivery's `last_error` or the settings' `Debug`.

use crate::helpers::{Engine, TestApp};
use crate::support::fake_psp::{server_tls_config, test_ca};
use crate::support::smtp_sink::{SinkOptions, SinkTls, SmtpSink};
use chatshop::channels::email::{Email, MailError, Mailer, SmtpSettings};
use serde_json::Value;

const FROM: &str = "chatshop <no-reply@chatshop.local>";
const USER: &str = "mailer@padaria.com.br";
const PASSWORD: &str = "s3nha-do-smtp";

fn ca_file() -> &'static std::path::Path {
    test_ca().ca_file.path()
}

async fn sink(tls: SinkTls, credentials: bool, mechanisms: &'static [&'static str]) -> SmtpSink {
    SmtpSink::start_with(SinkOptions {
        tls,
        tls_config: (tls != SinkTls::None).then(server_tls_config),
        credentials: credentials.then(|| (USER.to_owned(), PASSWORD.to_owned())),
        mechanisms,
        ..SinkOptions::default()
    })
    .await
}

/// `user:password@` percent-encoded, as a URL needs it.
fn userinfo(user: &str, password: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("{}:{}@", encode(user), encode(password))
}

async fn send(url: &str, ca: Option<&std::path::Path>) -> Result<(), MailError> {
    let mailer = Mailer::from_config(Some(SmtpSettings { url, ca_file: ca }), std::path::Path::new("unused"))?;
    let mail = Email::new("dono@padaria.com.br", "Pedido #1001 pago — R$ 1.234,56", "Olá, Padaria São João!")
        .from_name("Padaria São João");
    mailer.send(FROM, &mail).await
}

fn the_one_mail(sink: &SmtpSink) -> crate::support::smtp_sink::ReceivedMail {
    let mail = sink.received();
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let parsed = mailparse::parse_mail(mail[0].data.as_bytes()).expect("MIME");
    let subject = parsed.headers.iter().find(|h| h.get_key_ref() == "Subject").map(|h| h.get_value());
    assert_eq!(subject.as_deref(), Some("Pedido #1001 pago — R$ 1.234,56"), "accents intact over the wire");
    mail[0].clone()
}

#[tokio::test]
async fn plain_smtp() {
    let sink = sink(SinkTls::None, false, &[]).await;
    send(&format!("smtp://127.0.0.1:{}", sink.port()), None).await.expect("sent");
    let mail = the_one_mail(&sink);
    assert!(!mail.tls && mail.user.is_none());
}

#[tokio::test]
async fn starttls_with_the_ca_file() {
    let sink = sink(SinkTls::StartTls, false, &[]).await;
    send(&format!("smtp://127.0.0.1:{}?tls=required", sink.port()), Some(ca_file())).await.expect("sent");
    assert!(the_one_mail(&sink).tls, "upgraded before MAIL");
}

#[tokio::test]
async fn starttls_refuses_a_server_nobody_vouches_for() {
    let sink = sink(SinkTls::StartTls, false, &[]).await;
    let error = send(&format!("smtp://127.0.0.1:{}?tls=required", sink.port()), None).await.unwrap_err();
    assert!(sink.received().is_empty(), "nothing sent to an unverified server: {error}");
}

#[tokio::test]
async fn required_tls_is_not_skipped_when_the_server_offers_none() {
    let sink = sink(SinkTls::None, false, &[]).await;
    let error = send(&format!("smtp://127.0.0.1:{}?tls=required", sink.port()), Some(ca_file())).await.unwrap_err();
    assert!(sink.received().is_empty(), "{error}");
}

#[tokio::test]
async fn implicit_tls() {
    let sink = sink(SinkTls::Implicit, false, &[]).await;
    send(&format!("smtps://127.0.0.1:{}", sink.port()), Some(ca_file())).await.expect("sent");
    assert!(the_one_mail(&sink).tls);
}

#[tokio::test]
async fn auth_plain_over_starttls() {
    let sink = sink(SinkTls::StartTls, true, &["PLAIN"]).await;
    let url = format!("smtp://{}127.0.0.1:{}?tls=required", userinfo(USER, PASSWORD), sink.port());
    send(&url, Some(ca_file())).await.expect("sent");
    let mail = the_one_mail(&sink);
    assert!(mail.tls);
    assert_eq!(mail.user.as_deref(), Some(USER));
}

#[tokio::test]
async fn auth_login_over_smtps() {
    let sink = sink(SinkTls::Implicit, true, &["LOGIN"]).await;
    let url = format!("smtps://{}127.0.0.1:{}", userinfo(USER, PASSWORD), sink.port());
    send(&url, Some(ca_file())).await.expect("sent");
    assert_eq!(the_one_mail(&sink).user.as_deref(), Some(USER));
}

#[tokio::test]
async fn auth_on_plain_smtp() {
    let sink = sink(SinkTls::None, true, &["PLAIN", "LOGIN"]).await;
    let url = format!("smtp://{}127.0.0.1:{}", userinfo(USER, PASSWORD), sink.port());
    send(&url, None).await.expect("sent");
    assert_eq!(the_one_mail(&sink).user.as_deref(), Some(USER));
}

#[tokio::test]
async fn a_wrong_password_is_refused_for_good_and_never_shown() {
    for mechanism in [&["PLAIN"][..], &["LOGIN"][..]] {
        let sink = sink(SinkTls::StartTls, true, mechanism).await;
        let url = format!("smtp://{}127.0.0.1:{}?tls=required", userinfo(USER, "wrong-password"), sink.port());
        let error = send(&url, Some(ca_file())).await.unwrap_err();
        assert!(matches!(error, MailError::Refused(_)), "535 is permanent: {error:?}");
        assert!(!error.is_retryable());
        assert_eq!(sink.auth_failures(), 1, "{mechanism:?}");
        assert!(sink.received().is_empty());
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("wrong-password"), "{shown}");
    }
}

#[tokio::test]
async fn no_credentials_against_a_server_that_wants_them() {
    let sink = sink(SinkTls::None, true, &["PLAIN"]).await;
    let error = send(&format!("smtp://127.0.0.1:{}", sink.port()), None).await.unwrap_err();
    assert!(matches!(error, MailError::Refused(_)), "530 is permanent: {error:?}");
    assert!(sink.received().is_empty());
}

#[test]
fn a_bad_ca_file_stops_the_start() {
    let missing = std::path::Path::new("/nonexistent/ca.pem");
    let settings = SmtpSettings { url: "smtps://127.0.0.1:465", ca_file: Some(missing) };
    let error = Mailer::from_config(Some(settings), std::path::Path::new("unused")).err().expect("refused");
    assert!(error.to_string().contains("CHATSHOP_SMTP_CA_FILE"), "{error}");
    let url = format!("smtps://{}mail.example.com", userinfo(USER, PASSWORD));
    let error = Mailer::from_config(Some(SmtpSettings { url: &url, ca_file: Some(missing) }), missing).err();
    assert!(!error.expect("refused").to_string().contains(PASSWORD));
}

#[test]
fn the_settings_debug_hides_the_smtp_password() {
    let url = format!("smtp://{}mail.example.com:587?tls=required", userinfo(USER, PASSWORD));
    let config = chatshop::config::Config::from_lookup(|name| match name {
        "SMTP_URL" => Some(url.clone()),
        "CHATSHOP_SMTP_CA_FILE" => Some("/etc/chatshop/smtp-ca.pem".into()),
        _ => None,
    })
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("mail.example.com:587") && shown.contains("smtp-ca.pem"), "{shown}");
}

/// The app with `SMTP_URL` carrying a user and password over STARTTLS: the
/// paid order's mail arrives authenticated and encrypted; with a wrong
/// password the delivery is dead at once, and its error shows no password.
async fn the_app_sends_over_starttls_with_auth(engine: Engine) {
    for (password, delivered) in [(PASSWORD, true), ("not-the-password", false)] {
        let sink = sink(SinkTls::StartTls, true, &["PLAIN", "LOGIN"]).await;
        let url = format!("smtp://{}127.0.0.1:{}?tls=required", userinfo(USER, password), sink.port());
        let Some(app) = TestApp::spawn_with(engine, |c| {
            c.smtp_url = Some(url);
            c.smtp_ca_file = Some(ca_file().to_owned());
        })
        .await
        else {
            return;
        };
        let shop = crate::notify_faults::paid_order(&app).await;
        let mail = sink.received();
        if delivered {
            assert_eq!(mail.len(), 1);
            assert!(mail[0].tls && mail[0].user.as_deref() == Some(USER));
            continue;
        }
        assert!(mail.is_empty());
        assert_eq!(sink.auth_failures(), 1, "refused once, not retried");
        let page: Value = app.get("/v1/deliveries?status=dead", &shop.token).await.json().await.unwrap();
        let dead: Vec<&Value> = page["data"].as_array().unwrap().iter().filter(|d| d["channel"] == "email").collect();
        assert_eq!(dead.len(), 1, "{page}");
        let error = dead[0]["last_error"].as_str().unwrap();
        assert!(error.contains("535"), "{error}");
        assert!(!page.to_string().contains(password), "{page}");
    }
}

mod app_over_starttls_with_auth {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        the_app_sends_over_starttls_with_auth(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        the_app_sends_over_starttls_with_auth(Engine::Postgres).await
    }
}
