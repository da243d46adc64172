//! The shop is told of a paid order: a mail over real SMTP to a loopback
//! sink, read back as MIME, and a WhatsApp message to its own number.

use crate::helpers::{Engine, TestApp, shop_body};
use crate::support::fake_graph::FakeGraph;
use crate::support::smtp_sink::SmtpSink;
use crate::whatsapp::{body_text, post_signed, text_from};
use serde_json::{Value, json};

const OWNER_PHONE: &str = "5511977770000";

struct Setup {
    app: TestApp,
    fake: FakeGraph,
    sink: SmtpSink,
    token: String,
}

async fn setup(engine: Engine, language: &str) -> Option<Setup> {
    let fake = FakeGraph::start().await;
    let sink = SmtpSink::start().await;
    let (graph, smtp) = (fake.url(), sink.url());
    let app = TestApp::spawn_with(engine, |c| {
        c.whatsapp_graph_url = graph;
        c.smtp_url = Some(smtp);
    })
    .await?;
    let mut body = shop_body("Padaria São João", "dono@padaria.com.br");
    body["language"] = json!(language);
    body["notify"]["whatsapp"] = json!("+55 11 97777-0000");
    let created: Value = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let settings = json!({"phone_number_id": "106540352242922", "access_token": "EAAG-shop-token"});
    let answer = app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let cake = json!({"retailer_id": "BOLO", "name": "Bolo de Maçã", "price": "617.28", "stock": 10});
    assert_eq!(app.post("/v1/products", &token, &cake).await.status(), 201);
    Some(Setup { app, fake, sink, token })
}

/// Places an order for two cakes (R$ 1.234,56) and pays it in the sandbox.
async fn a_paid_order(s: &Setup) {
    let order = json!({"customer": {"name": "Ana Luísa", "whatsapp": "+55 11 98888-7777"},
        "items": [{"retailer_id": "BOLO", "quantity": 2}]});
    let placed: Value = s.app.post("/v1/orders", &s.token, &order).await.json().await.unwrap();
    s.app.run_until_idle().await;
    let got: Value =
        s.app.get(&format!("/v1/orders/{}", placed["id"].as_str().unwrap()), &s.token).await.json().await.unwrap();
    let txid = got["charge"]["txid"].as_str().unwrap().to_owned();
    let paid = s.app.client.post(s.app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&json!({})).send().await;
    assert_eq!(paid.unwrap().status(), 200);
    s.app.run_until_idle().await;
}

fn part(mail: &mailparse::ParsedMail<'_>, mime: &str) -> String {
    mail.subparts.iter().find(|p| p.ctype.mimetype == mime).map(|p| p.get_body().unwrap()).unwrap_or_default()
}

async fn a_paid_order_reaches_the_owner_by_mail_and_whatsapp(engine: Engine) {
    let Some(s) = setup(engine, "pt-BR").await else { return };
    // The owner wrote to the shop's number lately: the window is open.
    post_signed(&s.app, &text_from(OWNER_PHONE, "wamid.owner1", "oi")).await;
    s.app.run_until_idle().await;
    let before = s.fake.requests().len();
    a_paid_order(&s).await;

    let mail = s.sink.received();
    assert_eq!(mail.len(), 1, "one mail for the paid order");
    assert_eq!(mail[0].to, ["<dono@padaria.com.br>"]);
    let parsed = mailparse::parse_mail(mail[0].data.as_bytes()).expect("MIME");
    let header =
        |name: &str| parsed.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case(name)).map(|h| h.get_value());
    assert_eq!(header("Subject").as_deref(), Some("Pedido #1001 pago — R$ 1.234,56"));
    let from = header("From").unwrap();
    assert!(from.starts_with("Padaria São João"), "the shop's name as sender name: {from}");
    let message_id = header("Message-ID").expect("a Message-ID");
    assert!(message_id.starts_with('<') && message_id.contains('@'), "{message_id}");
    assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
    let text = part(&parsed, "text/plain");
    let html = part(&parsed, "text/html");
    for body in [&text, &html] {
        assert!(body.contains("Olá, Padaria São João!"), "accents intact: {body}");
        assert!(body.contains("R$ 1.234,56"), "{body}");
        assert!(body.contains("Bolo de Maçã"), "{body}");
        assert!(!body.contains("5511988887777"), "never the customer's full number");
    }
    assert!(text.contains("Ana pagou o pedido #1001"), "first name only: {text}");
    assert!(html.contains("<strong>Ana</strong>"), "{html}");

    let sent = s.fake.requests();
    let to_owner: Vec<_> = sent[before..].iter().filter(|r| r.body["to"] == OWNER_PHONE).collect();
    assert_eq!(to_owner.len(), 1, "{sent:#?}");
    let body = body_text(to_owner[0]);
    assert!(body.contains("Pedido #1001 pago por Ana"), "{body}");
    assert!(body.contains("2 × Bolo de Maçã — R$ 1.234,56"), "{body}");
    assert!(body.contains("Total: R$ 1.234,56"), "{body}");
}

async fn outside_the_window_the_owner_gets_the_template(engine: Engine) {
    let Some(s) = setup(engine, "en").await else { return };
    let settings = json!({"phone_number_id": "106540352242922", "access_token": "EAAG-shop-token",
        "template": {"name": "new_order", "language": "en"}});
    s.app.client.put(s.app.url("/v1/shop/whatsapp")).bearer_auth(&s.token).json(&settings).send().await.unwrap();
    a_paid_order(&s).await;
    let to_owner: Vec<_> = s.fake.requests().into_iter().filter(|r| r.body["to"] == OWNER_PHONE).collect();
    assert_eq!(to_owner.len(), 1);
    assert_eq!(to_owner[0].body["type"], "template", "no conversation with the owner's number yet");
    assert_eq!(to_owner[0].body["template"]["name"], "new_order");
    let mail = s.sink.received();
    assert_eq!(mail.len(), 1);
    let parsed = mailparse::parse_mail(mail[0].data.as_bytes()).expect("MIME");
    assert!(part(&parsed, "text/plain").contains("Ana paid order #1001"), "English shop");
}

mod mail_and_whatsapp {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        a_paid_order_reaches_the_owner_by_mail_and_whatsapp(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        a_paid_order_reaches_the_owner_by_mail_and_whatsapp(Engine::Postgres).await
    }
}

mod template_outside_window {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        outside_the_window_the_owner_gets_the_template(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        outside_the_window_the_owner_gets_the_template(Engine::Postgres).await
    }
}
