//! The shop is told of what it must know beyond a paid order: an order that
//! expired, one the customer cancelled in the chat, a refund that settled,
//! failed, or that the PSP made on its own. Each reaches the owner once, by
//! real SMTP on loopback (both MIME parts) and at the fake Graph API; a
//! replayed cause (the same WhatsApp message, the same PSP callback) sends
//! nothing more; an order the shop cancelled itself sends the shop nothing.

use crate::helpers::{Engine, TestApp, shop_body};
use crate::psp_api_pix::put_psp;
use crate::support::fake_graph::FakeGraph;
use crate::support::fake_psp::{FakePsp, test_ca};
use crate::support::smtp_sink::SmtpSink;
use crate::whatsapp::{ANA, body_text, post_signed, text_from};
use chatshop::db::schema::{charges, events};
use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::{Value, json};

const OWNER_PHONE: &str = "5511977770000";

struct Setup {
    app: TestApp,
    fake: FakeGraph,
    sink: SmtpSink,
    token: String,
}

/// A bakery told at `dono@padaria.com.br` and on the owner's own number
/// (whose window is open), selling a R$ 617,28 apple cake, optionally on
/// the fake API Pix PSP.
async fn setup(engine: Engine, psp: Option<&FakePsp>) -> Option<Setup> {
    let fake = FakeGraph::start().await;
    let sink = SmtpSink::start().await;
    let (graph, smtp) = (fake.url(), sink.url());
    let app = TestApp::spawn_with(engine, |c| {
        c.whatsapp_graph_url = graph;
        c.smtp_url = Some(smtp);
        c.psp_ca_file = Some(test_ca().ca_file.path().to_owned());
    })
    .await?;
    let mut body = shop_body("Padaria São João", "dono@padaria.com.br");
    body["notify"]["whatsapp"] = json!("+55 11 97777-0000");
    let created: Value = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let settings = json!({"phone_number_id": "106540352242922", "access_token": "EAAG-shop-token"});
    let answer = app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    if let Some(psp) = psp {
        assert_eq!(put_psp(&app, &token, &psp.settings()).await.status(), 200);
    }
    let cake = json!({"retailer_id": "BOLO", "name": "Bolo de Maçã", "price": "617.28", "stock": 10});
    assert_eq!(app.post("/v1/products", &token, &cake).await.status(), 201);
    post_signed(&app, &text_from(OWNER_PHONE, "wamid.owner1", "oi")).await;
    app.run_until_idle().await;
    Some(Setup { app, fake, sink, token })
}

async fn say(s: &Setup, wamid: &str, text: &str) {
    assert_eq!(post_signed(&s.app, &text_from(ANA, wamid, text)).await.status(), 200);
    s.app.run_until_idle().await;
}

/// Ana orders two cakes (R$ 1.234,56) in the chat and gets the Pix code.
async fn ana_orders(s: &Setup) {
    say(s, "wamid.ana1", "2x BOLO").await;
    say(s, "wamid.ana2", "pagar").await;
}

fn only_txid(app: &TestApp) -> String {
    let mut conn = app.pool.get().unwrap();
    charges::table.select(charges::txid).first(&mut conn).unwrap()
}

fn event_data(app: &TestApp, kind: &str) -> Vec<Value> {
    let mut conn = app.pool.get().unwrap();
    let rows: Vec<String> =
        events::table.filter(events::event_type.eq(kind)).select(events::data).load(&mut conn).unwrap();
    rows.iter().map(|d| serde_json::from_str(d).unwrap()).collect()
}

struct Mail {
    subject: String,
    text: String,
    html: String,
}

/// Every mail the sink holds, read as MIME: `multipart/alternative` with a
/// plain-text and an HTML part, the shop's name as the sender's.
fn mails(sink: &SmtpSink) -> Vec<Mail> {
    sink.received()
        .iter()
        .map(|m| {
            assert_eq!(m.to, ["<dono@padaria.com.br>"]);
            let parsed = mailparse::parse_mail(m.data.as_bytes()).expect("MIME");
            let header = |name: &str| {
                parsed.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case(name)).map(|h| h.get_value())
            };
            assert!(header("From").unwrap().starts_with("Padaria São João"));
            assert!(header("Message-ID").is_some());
            assert_eq!(parsed.ctype.mimetype, "multipart/alternative");
            let part = |mime: &str| {
                parsed.subparts.iter().find(|p| p.ctype.mimetype == mime).map(|p| p.get_body().unwrap()).unwrap()
            };
            Mail { subject: header("Subject").unwrap(), text: part("text/plain"), html: part("text/html") }
        })
        .collect()
}

/// The one mail whose subject starts so, checked for what every shop mail
/// must be: accents intact, the customer's number never in full.
fn the_mail(sink: &SmtpSink, subject: &str) -> Mail {
    let mut found: Vec<Mail> = mails(sink).into_iter().filter(|m| m.subject.starts_with(subject)).collect();
    assert_eq!(
        found.len(),
        1,
        "one mail `{subject}`: {:?}",
        mails(sink).iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let mail = found.remove(0);
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("Olá, Padaria São João!"), "{body}");
        assert!(!body.contains(ANA), "never the customer's full number: {body}");
    }
    mail
}

/// WhatsApp texts to the owner's own number, and to Ana.
fn texts_to(fake: &FakeGraph, to: &str) -> Vec<String> {
    fake.requests().iter().filter(|r| r.body["to"] == to).map(body_text).collect()
}

fn the_owner_text(fake: &FakeGraph, containing: &str) -> String {
    let found: Vec<String> = texts_to(fake, OWNER_PHONE).into_iter().filter(|t| t.contains(containing)).collect();
    assert_eq!(found.len(), 1, "one WhatsApp to the owner with `{containing}`: {found:#?}");
    found[0].clone()
}

async fn an_expired_order_tells_the_owner_once_and_not_an_opted_out_customer(engine: Engine) {
    let Some(s) = setup(engine, None).await else { return };
    ana_orders(&s).await;
    say(&s, "wamid.ana3", "parar").await;
    let to_ana = texts_to(&s.fake, ANA).len();
    s.app.clock.advance(TimeDelta::minutes(31));
    s.app.run_until_idle().await;
    // Time moving on and the jobs running again change nothing more.
    s.app.clock.advance(TimeDelta::hours(2));
    s.app.run_until_idle().await;

    let mail = the_mail(&s.sink, "Pedido #1001 expirou sem pagamento — R$ 1.234,56");
    for body in [&mail.text, &mail.html] {
        assert!(body.contains("R$ 1.234,56") && body.contains("Bolo de Maçã"), "{body}");
        assert!(body.contains("+5511*****7777"), "the masked number: {body}");
    }
    assert!(mail.text.contains("O pedido #1001 de Ana, feito em"), "{}", mail.text);
    assert!(mail.html.contains("<strong>Ana</strong>"), "{}", mail.html);
    assert_eq!(mails(&s.sink).len(), 1, "nothing else mailed");
    let text = the_owner_text(&s.fake, "expirou");
    assert_eq!(text, "⌛ Pedido #1001 de Ana expirou sem pagamento (R$ 1.234,56). O estoque voltou para a loja.");
    assert_eq!(texts_to(&s.fake, ANA).len(), to_ana, "an opted-out customer hears nothing of the expiry");
}

async fn a_customer_cancelling_in_the_chat_tells_the_owner_once_and_staff_cancelling_does_not(engine: Engine) {
    let Some(s) = setup(engine, None).await else { return };
    ana_orders(&s).await;
    let to_ana = texts_to(&s.fake, ANA).len();
    let cancel = text_from(ANA, "wamid.ana3", "cancelar");
    post_signed(&s.app, &cancel).await;
    s.app.run_until_idle().await;
    // Meta delivers the same message again.
    post_signed(&s.app, &cancel).await;
    s.app.run_until_idle().await;

    let mail = the_mail(&s.sink, "Pedido #1001 cancelado pelo cliente — R$ 1.234,56");
    assert!(mail.text.contains("Ana cancelou pelo chat o pedido #1001"), "{}", mail.text);
    assert!(mail.html.contains("R$ 1.234,56"), "{}", mail.html);
    the_owner_text(&s.fake, "cancelado por Ana pelo chat");
    let told: Vec<String> = texts_to(&s.fake, ANA)[to_ana..].to_vec();
    assert_eq!(told.len(), 1, "the chat's answer, and no second notice: {told:#?}");
    assert!(told[0].contains("Pedido #1001 cancelado"), "{told:#?}");
    assert_eq!(event_data(&s.app, "order.cancelled")[0]["cancelled_by"], "customer");

    // Staff cancel another order through the API: the shop did it, no notice.
    let order = json!({"customer": {"name": "Bruno Lima", "whatsapp": "+55 11 96666-5555"},
        "items": [{"retailer_id": "BOLO", "quantity": 1}]});
    let placed: Value = s.app.post("/v1/orders", &s.token, &order).await.json().await.unwrap();
    s.app.run_until_idle().await;
    let (before_mail, before_owner) = (mails(&s.sink).len(), texts_to(&s.fake, OWNER_PHONE).len());
    let path = format!("/v1/orders/{}/cancel", placed["id"].as_str().unwrap());
    assert_eq!(s.app.post(&path, &s.token, &json!({})).await.status(), 200);
    s.app.run_until_idle().await;
    let cancelled = event_data(&s.app, "order.cancelled");
    assert_eq!(cancelled.len(), 2);
    assert!(cancelled.iter().any(|d| d["cancelled_by"] == "shop" && d["order"]["number"] == 1002), "{cancelled:#?}");
    assert_eq!(mails(&s.sink).len(), before_mail, "no mail for the shop's own cancel");
    assert_eq!(texts_to(&s.fake, OWNER_PHONE).len(), before_owner);
}

/// Runs the refund jobs through the fake PSP's processing.
async fn settle(app: &TestApp) {
    for _ in 0..3 {
        app.run_until_idle().await;
        app.clock.advance(TimeDelta::seconds(60));
    }
}

async fn refunds_failed_settled_and_made_by_the_psp_tell_the_owner_once_each(engine: Engine) {
    let psp = FakePsp::start();
    let Some(s) = setup(engine, Some(&psp)).await else { return };
    ana_orders(&s).await;
    let e2e = psp.pay(&only_txid(&s.app)).await;
    s.app.run_until_idle().await;
    let page: Value = s.app.get("/v1/orders", &s.token).await.json().await.unwrap();
    let id = page["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(page["data"][0]["status"], "paid");
    let path = format!("/v1/orders/{id}/refunds");

    psp.state().refunds_settle_as = Some("NAO_REALIZADO");
    assert_eq!(s.app.post(&path, &s.token, &json!({"amount": "10.00", "reason": "faltou"})).await.status(), 201);
    settle(&s.app).await;
    let failed = the_mail(&s.sink, "A devolução de R$ 10,00 não foi feita — pedido #1001");
    for body in [&failed.text, &failed.html] {
        assert!(body.contains("Conta do pagador encerrada"), "what the PSP said: {body}");
    }
    assert!(failed.text.contains("O PSP respondeu: Conta do pagador encerrada"), "{}", failed.text);
    assert!(failed.text.contains("pedido #1001 (Ana)"), "{}", failed.text);
    the_owner_text(&s.fake, "falhou: Conta do pagador encerrada");
    let order: Value = s.app.get(&format!("/v1/orders/{id}"), &s.token).await.json().await.unwrap();
    assert_eq!(order["refunds"][0]["error"], "Conta do pagador encerrada", "{order}");
    assert_eq!(event_data(&s.app, "refund.failed")[0]["refund"]["error"], "Conta do pagador encerrada");

    psp.state().refunds_settle_as = Some("DEVOLVIDO");
    assert_eq!(s.app.post(&path, &s.token, &json!({"amount": "100.00"})).await.status(), 201);
    settle(&s.app).await;
    let settled = the_mail(&s.sink, "Devolução de R$ 100,00 concluída — pedido #1001");
    assert!(settled.html.contains("<strong>R$ 100,00</strong>"), "{}", settled.html);
    the_owner_text(&s.fake, "Devolução de R$ 100,00 do pedido #1001 concluída");

    psp.med_return(&e2e, "20.00", "MED_FRAUDE").await;
    s.app.run_until_idle().await;
    let med = the_mail(&s.sink, "O PSP devolveu R$ 20,00 — pedido #1001");
    assert!(med.text.contains("MED_FRAUDE"), "{}", med.text);
    the_owner_text(&s.fake, "O PSP devolveu R$ 20,00");

    // The customer hears of each settled refund, by its own amount.
    let to_ana = texts_to(&s.fake, ANA);
    for amount in ["R$ 100,00", "R$ 20,00"] {
        let n = to_ana.iter().filter(|t| t.starts_with(&format!("Devolvemos {amount} do pedido #1001"))).count();
        assert_eq!(n, 1, "{amount}: {to_ana:#?}");
    }
    assert!(!to_ana.iter().any(|t| t.contains("R$ 10,00")), "not of the refund that failed");

    // The PSP posts the Pix with all its returns again.
    let (before_mail, before_owner) = (mails(&s.sink).len(), texts_to(&s.fake, OWNER_PHONE).len());
    let entry = psp.state().pix[&e2e].clone();
    let webhook = psp.state().webhook_url.clone().unwrap();
    let replay = s.app.client.post(format!("{webhook}/pix")).json(&json!({"pix": [entry]})).send().await.unwrap();
    assert_eq!(replay.status(), 200);
    settle(&s.app).await;
    assert_eq!(mails(&s.sink).len(), before_mail, "a replayed callback mails nothing");
    assert_eq!(texts_to(&s.fake, OWNER_PHONE).len(), before_owner);
    assert_eq!(mails(&s.sink).len(), 4, "paid, failed, settled, MED");
}

/// The customer in the chat: paid, shipped, refunded (by the refund's
/// amount), expired, and a Pix that came too late.
async fn the_customer_hears_of_payment_shipping_refund_and_expiry(engine: Engine) {
    let Some(s) = setup(engine, None).await else { return };
    ana_orders(&s).await;
    let pay = |txid: String| s.app.client.post(s.app.url(&format!("/sandbox/pix/{txid}/pay"))).send();
    assert_eq!(pay(only_txid(&s.app)).await.unwrap().status(), 200);
    s.app.run_until_idle().await;
    let page: Value = s.app.get("/v1/orders", &s.token).await.json().await.unwrap();
    let id = page["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.app.post(&format!("/v1/orders/{id}/fulfil"), &s.token, &json!({})).await.status(), 200);
    s.app.run_until_idle().await;
    assert_eq!(
        s.app.post(&format!("/v1/orders/{id}/refunds"), &s.token, &json!({"amount": "100.00"})).await.status(),
        201
    );
    s.app.run_until_idle().await;
    let statuses: Vec<Value> = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.body["to"] == ANA && r.body["interactive"]["type"] == "order_status")
        .map(|r| r.body["interactive"]["action"]["parameters"].clone())
        .collect();
    assert_eq!(statuses.len(), 2, "{statuses:#?}");
    assert_eq!(statuses[0]["order"]["status"], "processing");
    assert_eq!(statuses[0]["payment"]["status"], "captured");
    assert_eq!(statuses[1]["order"]["status"], "shipped");
    let texts = texts_to(&s.fake, ANA);
    assert!(texts.iter().any(|t| t == "Seu pedido #1001 saiu para entrega."), "{texts:#?}");
    assert!(texts.iter().any(|t| t == "Devolvemos R$ 100,00 do pedido #1001 para a sua conta."), "{texts:#?}");

    // An order left unpaid expires; another is paid after its time.
    say(&s, "wamid.ana3", "1x BOLO").await;
    say(&s, "wamid.ana4", "pagar").await;
    s.app.clock.advance(TimeDelta::minutes(31));
    s.app.run_until_idle().await;
    say(&s, "wamid.ana5", "1x BOLO").await;
    say(&s, "wamid.ana6", "pagar").await;
    let late_txid = {
        let mut conn = s.app.pool.get().unwrap();
        charges::table.order(charges::created_at.desc()).select(charges::txid).first::<String>(&mut conn).unwrap()
    };
    s.app.clock.advance(TimeDelta::minutes(31));
    assert_eq!(pay(late_txid).await.unwrap().status(), 200);
    s.app.run_until_idle().await;
    let texts = texts_to(&s.fake, ANA);
    let expired: Vec<&String> = texts.iter().filter(|t| t.contains("#1002")).collect();
    assert!(expired.iter().any(|t| t.starts_with("O prazo para pagar o pedido #1002 acabou")), "{texts:#?}");
    let late: Vec<&String> = texts.iter().filter(|t| t.contains("#1003") && t.contains("prazo")).collect();
    assert_eq!(late.len(), 2, "the expiry, then the Pix that came after it: {texts:#?}");
    assert!(late[1].starts_with("Recebemos o seu Pix de R$ 617,28 para o pedido #1003 depois do prazo"), "{late:#?}");
    assert!(late[1].contains("devolver o valor"), "{late:#?}");
}

mod customer {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        the_customer_hears_of_payment_shipping_refund_and_expiry(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        the_customer_hears_of_payment_shipping_refund_and_expiry(Engine::Postgres).await
    }
}

mod expired {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        an_expired_order_tells_the_owner_once_and_not_an_opted_out_customer(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        an_expired_order_tells_the_owner_once_and_not_an_opted_out_customer(Engine::Postgres).await
    }
}

mod cancelled {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        a_customer_cancelling_in_the_chat_tells_the_owner_once_and_staff_cancelling_does_not(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        a_customer_cancelling_in_the_chat_tells_the_owner_once_and_staff_cancelling_does_not(Engine::Postgres).await
    }
}

mod refunds {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        refunds_failed_settled_and_made_by_the_psp_tell_the_owner_once_each(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        refunds_failed_settled_and_made_by_the_psp_tell_the_owner_once_each(Engine::Postgres).await
    }
}
