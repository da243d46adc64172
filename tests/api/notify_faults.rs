//! The shop's notifications when the outside fails for a while: the SMTP
//! server down and then back (the order.paid mail arrives once, with the
//! Message-ID it was queued with), the Graph API answering 500 (the shop's
//! WhatsApp goes after retries, once). The jobs run with `run_until_idle`
//! and the manual clock moves the retries on; nothing sleeps.
//! (A webhook endpoint failing three times, then answering: see
//! `webhooks_out::three_failures_then_delivered_with_the_same_id`.)

use crate::helpers::{Engine, TestApp, TestShop, shop_body};
use crate::support::fake_graph::FakeGraph;
use crate::support::smtp_sink::SmtpSink;
use crate::whatsapp::{body_text, post_signed, text_from};
use chrono::TimeDelta;
use serde_json::{Value, json};

const OWNER_PHONE: &str = "5511977770000";

/// A shop told at `dono@padaria.com.br` and +55 11 97777-0000, with a cake.
async fn a_shop(app: &TestApp) -> TestShop {
    let mut body = shop_body("Padaria São João", "dono@padaria.com.br");
    body["notify"]["whatsapp"] = json!("+55 11 97777-0000");
    let created = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let shop = TestShop {
        id: created["shop"]["id"].as_str().unwrap().to_owned(),
        token: created["token"].as_str().unwrap().to_owned(),
    };
    let cake = json!({"retailer_id": "BOLO", "name": "Bolo de Maçã", "price": "617.28", "stock": 10});
    assert_eq!(app.post("/v1/products", &shop.token, &cake).await.status(), 201);
    shop
}

/// Places an order for two cakes (R$ 1.234,56) and pays it in the sandbox,
/// running the jobs that follow once.
async fn pay_an_order(app: &TestApp, shop: &TestShop) {
    let order = json!({"customer": {"name": "Ana Luísa", "whatsapp": "+55 11 98888-7777"},
        "items": [{"retailer_id": "BOLO", "quantity": 2}]});
    let placed: Value = app.post("/v1/orders", &shop.token, &order).await.json().await.unwrap();
    app.run_until_idle().await;
    let got: Value =
        app.get(&format!("/v1/orders/{}", placed["id"].as_str().unwrap()), &shop.token).await.json().await.unwrap();
    let txid = got["charge"]["txid"].as_str().expect("a charge").to_owned();
    let paid = app.client.post(app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&json!({})).send().await;
    assert_eq!(paid.unwrap().status(), 200);
    app.run_until_idle().await;
}

/// A shop and one paid order, its jobs run once (other tests' setup).
pub async fn paid_order(app: &TestApp) -> TestShop {
    let shop = a_shop(app).await;
    pay_an_order(app, &shop).await;
    shop
}

async fn after(app: &TestApp, by: TimeDelta) {
    app.clock.advance(by);
    app.run_until_idle().await;
}

async fn deliveries(app: &TestApp, shop: &TestShop, channel: &str) -> Vec<Value> {
    let page: Value = app.get("/v1/deliveries", &shop.token).await.json().await.unwrap();
    page["data"].as_array().unwrap().iter().filter(|d| d["channel"] == channel).cloned().collect()
}

fn message_id(data: &str) -> String {
    let parsed = mailparse::parse_mail(data.as_bytes()).expect("MIME");
    parsed.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case("Message-ID")).expect("Message-ID").get_value()
}

async fn smtp_down_then_up_the_mail_arrives_once(engine: Engine) {
    let sink = SmtpSink::start().await;
    sink.down().await;
    let smtp = sink.url();
    let Some(app) = TestApp::spawn_with(engine, |c| c.smtp_url = Some(smtp)).await else { return };
    let shop = paid_order(&app).await;
    let waiting = deliveries(&app, &shop, "email").await;
    assert_eq!(waiting.len(), 1, "{waiting:#?}");
    assert_eq!(waiting[0]["status"], "pending");
    assert_eq!(waiting[0]["attempts"], 1);
    let error = waiting[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("will retry"), "a refused connection is temporary: {error}");
    assert_eq!(app.run_until_idle().await, 0, "not before its time");

    // Still down for two more tries (the backoff: ≤ 2 s, ≤ 4 s, ≤ 8 s ...).
    after(&app, TimeDelta::minutes(1)).await;
    after(&app, TimeDelta::minutes(1)).await;
    assert!(sink.received().is_empty());
    assert_eq!(sink.connections(), 0, "the port refused every try");
    assert_eq!(deliveries(&app, &shop, "email").await[0]["attempts"], 3);

    sink.up();
    after(&app, TimeDelta::minutes(1)).await;
    let mail = sink.received();
    assert_eq!(mail.len(), 1, "delivered once the server is back");
    let subject = mailparse::parse_mail(mail[0].data.as_bytes()).unwrap();
    let subject = subject.headers.iter().find(|h| h.get_key_ref() == "Subject").unwrap().get_value();
    assert_eq!(subject, "Pedido #1001 pago — R$ 1.234,56");
    after(&app, TimeDelta::hours(2)).await;
    after(&app, TimeDelta::days(1)).await;
    assert_eq!(sink.received().len(), 1, "exactly once");
    let delivered = deliveries(&app, &shop, "email").await;
    assert_eq!(delivered[0]["status"], "delivered");
    assert_eq!(delivered[0]["attempts"], 4);
    // A retried send carries the Message-ID fixed when it was queued.
    assert!(message_id(&mail[0].data).starts_with('<'));
}

/// The Graph API answers 500 to the shop's number four times: the owner's
/// WhatsApp goes on the fifth try, once, while the mail went at once.
async fn graph_500s_then_the_shops_whatsapp_goes_once(engine: Engine) {
    let fake = FakeGraph::start().await;
    let sink = SmtpSink::start().await;
    let (graph, smtp) = (fake.url(), sink.url());
    let Some(app) = TestApp::spawn_with(engine, |c| {
        c.whatsapp_graph_url = graph;
        c.smtp_url = Some(smtp);
    })
    .await
    else {
        return;
    };
    let shop = a_shop(&app).await;
    let settings = json!({"phone_number_id": "106540352242922", "access_token": "EAAG-shop-token"});
    let answer = app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&shop.token).json(&settings).send().await;
    assert_eq!(answer.unwrap().status(), 200);
    // The owner wrote to the shop's number lately: the window is open.
    post_signed(&app, &text_from(OWNER_PHONE, "wamid.owner1", "oi")).await;
    app.run_until_idle().await;
    let before = fake.requests().len();
    fake.fail_for(OWNER_PHONE, 500, 4);
    pay_an_order(&app, &shop).await;
    assert_eq!(sink.received().len(), 1, "the mail does not wait for WhatsApp");

    let to_owner =
        || -> Vec<_> { fake.requests()[before..].iter().filter(|r| r.body["to"] == OWNER_PHONE).cloned().collect() };
    assert_eq!(to_owner().len(), 1);
    assert_eq!(app.run_until_idle().await, 0, "not before its time");
    for tries in 2..=5 {
        after(&app, TimeDelta::minutes(1)).await;
        assert_eq!(to_owner().len(), tries);
    }
    after(&app, TimeDelta::hours(2)).await;
    after(&app, TimeDelta::days(1)).await;
    let sent = to_owner();
    let statuses: Vec<u16> = sent.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 500, 500, 200], "delivered after the 500s, and only once");
    assert!(sent.iter().all(|r| r.body == sent[0].body), "the same message each time");
    assert!(body_text(&sent[4]).contains("Pedido #1001 pago por Ana"), "{}", body_text(&sent[4]));
    let delivered = deliveries(&app, &shop, "whatsapp").await;
    let to_shop: Vec<_> = delivered.iter().filter(|d| d["to"] == OWNER_PHONE && d["attempts"] == 5).collect();
    assert_eq!(to_shop.len(), 1, "{delivered:#?}");
    assert_eq!(to_shop[0]["status"], "delivered");
}

mod smtp_down_then_up {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        smtp_down_then_up_the_mail_arrives_once(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        smtp_down_then_up_the_mail_arrives_once(Engine::Postgres).await
    }
}

mod graph_500s_then_delivered {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        graph_500s_then_the_shops_whatsapp_goes_once(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        graph_500s_then_the_shops_whatsapp_goes_once(Engine::Postgres).await
    }
}
