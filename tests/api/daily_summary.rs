//! The morning summary: a hand-built day's figures (`GET /v1/reports/daily`),
//! who may read them, and the `summary.daily` job sending them once per shop
//! and day, by mail over SMTP and WhatsApp, with a restart and two processes.

use crate::helpers::{Engine, TestApp, assert_problem, shop_body};
use crate::on_both_databases;
use crate::support::fake_graph::FakeGraph;
use crate::support::smtp_sink::SmtpSink;
use crate::whatsapp::{body_text, post_signed, text_from};
use chatshop::reports::daily::{local_instant, yesterday};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use serde_json::{Value, json};

const ZONE: &str = "America/Sao_Paulo";
const OWNER_PHONE: &str = "5511977770000";

/// Moves the test clock to `time` on `day` in São Paulo (forward only).
fn go_to(app: &TestApp, day: NaiveDate, time: &str) {
    let target = local_instant(ZONE, day, NaiveTime::parse_from_str(time, "%H:%M").unwrap());
    let now = app.clock.now();
    assert!(target >= now, "the clock only goes forward: {target} < {now}");
    app.clock.advance(target - now);
}

fn today(app: &TestApp) -> NaiveDate {
    yesterday(ZONE, app.clock.now()).succ_opt().unwrap()
}

/// Places an order of `(sku, quantity)` and returns it with its charge.
async fn place(app: &TestApp, token: &str, items: &[(&str, i64)]) -> Value {
    let items: Vec<Value> = items.iter().map(|(sku, q)| json!({"retailer_id": sku, "quantity": q})).collect();
    let body = json!({"customer": {"name": "Ana Luísa", "whatsapp": "+55 11 98888-7777"}, "items": items});
    let placed = app.post("/v1/orders", token, &body).await;
    assert_eq!(placed.status(), 201);
    let placed: Value = placed.json().await.unwrap();
    app.run_until_idle().await;
    app.get(&format!("/v1/orders/{}", placed["id"].as_str().unwrap()), token).await.json().await.unwrap()
}

async fn pay(app: &TestApp, order: &Value, amount: Option<&str>) {
    let txid = order["charge"]["txid"].as_str().unwrap();
    let body = amount.map_or(json!({}), |a| json!({"amount": a}));
    let paid = app.client.post(app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&body).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    app.run_until_idle().await;
}

async fn paid_order(app: &TestApp, token: &str, items: &[(&str, i64)]) -> Value {
    let order = place(app, token, items).await;
    pay(app, &order, None).await;
    order
}

/// The sandbox PSP settles a refund at the system's time, as a real PSP
/// would; the hand-built day runs on the test clock.
fn settled_now(app: &TestApp) {
    use chatshop::db::schema::refunds;
    use diesel::prelude::*;
    let mut conn = app.pool.get().unwrap();
    let moved =
        diesel::update(refunds::table).set(refunds::settled_at.eq(Some(app.clock.now()))).execute(&mut conn).unwrap();
    assert_eq!(moved, 1);
}

async fn bakery(app: &TestApp) -> String {
    let shop = app.sign_up("Padaria São João", "dono@padaria.com.br").await;
    app.create_product(&shop.token, "BOLO", "Bolo de Maçã", "10.00").await;
    app.create_product(&shop.token, "PAO", "Pão de Queijo", "2.50").await;
    shop.token
}

async fn figures(app: &TestApp, token: &str, date: NaiveDate) -> Value {
    let response = app.get(&format!("/v1/reports/daily?date={date}"), token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn the_figures_of_a_hand_built_day(app: TestApp) {
    let token = bakery(&app).await;
    let day = today(&app).succ_opt().unwrap();
    // A minute before the day starts in São Paulo (02:59 UTC of `day`).
    go_to(&app, day.pred_opt().unwrap(), "23:59");
    let _before = paid_order(&app, &token, &[("BOLO", 1)]).await;
    go_to(&app, day, "00:01");
    let fulfilled = paid_order(&app, &token, &[("BOLO", 2), ("PAO", 4)]).await;
    let refunded = paid_order(&app, &token, &[("PAO", 1)]).await;
    let refund = app
        .post(&format!("/v1/orders/{}/refunds", refunded["id"].as_str().unwrap()), &token, &json!({"amount": "1.00"}))
        .await;
    assert_eq!(refund.status(), 201);
    app.run_until_idle().await;
    settled_now(&app);
    let mismatched = place(&app, &token, &[("BOLO", 1)]).await;
    pay(&app, &mismatched, Some("1.00")).await;
    go_to(&app, day, "23:58");
    app.run_until_idle().await;
    let _late_in_the_day = paid_order(&app, &token, &[("PAO", 3)]).await;
    let _unpaid = place(&app, &token, &[("BOLO", 1)]).await;
    // Two minutes later it is the next day there.
    go_to(&app, day.succ_opt().unwrap(), "00:00");
    let _next_day = paid_order(&app, &token, &[("BOLO", 5)]).await;
    let fulfil = format!("/v1/orders/{}/fulfil", fulfilled["id"].as_str().unwrap());
    assert_eq!(app.post(&fulfil, &token, &json!({})).await.status(), 200);

    let f = figures(&app, &token, day).await;
    assert_eq!(f["date"], day.to_string());
    assert_eq!(f["timezone"], ZONE);
    assert_eq!(f["paid_orders"], 3, "{f}");
    assert_eq!(f["revenue"], "40.00", "30.00 + 2.50 + 7.50: {f}");
    assert_eq!(f["average_ticket"], "13.33", "{f}");
    let top = f["top_products"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert_eq!(top[0], json!({"retailer_id": "PAO", "name": "Pão de Queijo", "quantity": 8, "revenue": "20.00"}));
    assert_eq!(top[1], json!({"retailer_id": "BOLO", "name": "Bolo de Maçã", "quantity": 2, "revenue": "20.00"}));
    assert_eq!(f["waiting_payment"], 1, "the unpaid one; the mismatched one expired: {f}");
    assert_eq!(f["waiting_fulfilment"], 2, "the one the day before and the late one; not the next day's: {f}");
    assert_eq!(f["refunds"], json!({"count": 1, "amount": "1.00"}));
    assert_eq!(f["flagged_payments"], json!({"count": 1, "amount": "1.00"}));

    let before = figures(&app, &token, day.pred_opt().unwrap()).await;
    assert_eq!((before["paid_orders"].clone(), before["revenue"].clone()), (json!(1), json!("10.00")));
    // No date: yesterday in the shop's zone (it is 00:00 of the next day there).
    let default: Value = app.get("/v1/reports/daily", &token).await.json().await.unwrap();
    assert_eq!(default, f);
    let empty = figures(&app, &token, day - TimeDelta::days(30)).await;
    assert_eq!(empty["paid_orders"], 0);
    assert_eq!(empty["average_ticket"], "0.00");
    assert_eq!(empty["top_products"], json!([]));
}
on_both_databases!(the_figures_of_a_hand_built_day);

async fn owner_and_accountant_read_the_figures_staff_do_not(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let accountant = app.user_token(&shop, "contador@padaria.com.br", "accountant").await;
    let staff = app.user_token(&shop, "caixa@padaria.com.br", "staff").await;
    for token in [&shop.token, &accountant] {
        assert_eq!(app.get("/v1/reports/daily?date=2026-11-23", token).await.status(), 200);
    }
    assert_problem(app.get("/v1/reports/daily?date=2026-11-23", &staff).await, 403, "forbidden").await;
    assert_problem(app.get("/v1/reports/daily?date=23/11/2026", &shop.token).await, 400, "invalid_query").await;
    let anonymous = app.client.get(app.url("/v1/reports/daily")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}
on_both_databases!(owner_and_accountant_read_the_figures_staff_do_not);

struct Sending {
    app: TestApp,
    fake: FakeGraph,
    sink: SmtpSink,
    token: String,
    shop_id: String,
}

/// A second process on the same database, the same SMTP sink and Graph API.
async fn another_process(s: &Sending) -> (crate::support::server::ServerThread, crate::helpers::Jobs) {
    let (graph, smtp) = (s.fake.url(), s.sink.url());
    let (_, server, jobs) = s
        .app
        .second_process(|c| {
            c.whatsapp_graph_url = graph;
            c.smtp_url = Some(smtp);
            c.daily_summary = true;
        })
        .await;
    (server, jobs)
}

async fn sending(engine: Engine) -> Option<Sending> {
    let fake = FakeGraph::start().await;
    let sink = SmtpSink::start().await;
    let (graph, smtp) = (fake.url(), sink.url());
    let app = TestApp::spawn_with(engine, |c| {
        c.whatsapp_graph_url = graph;
        c.smtp_url = Some(smtp);
        c.daily_summary = true;
    })
    .await?;
    // After the morning's time, wherever the test runs: the first summary
    // is today's, sent tomorrow.
    let noon = local_instant(ZONE, today(&app), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    if app.clock.now() < noon {
        go_to(&app, today(&app), "12:00");
    }
    let mut body = shop_body("Padaria São João", "dono@padaria.com.br");
    body["notify"]["whatsapp"] = json!("+55 11 97777-0000");
    let created: Value = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let shop_id = created["shop"]["id"].as_str().unwrap().to_owned();
    let settings = json!({"phone_number_id": "106540352242922", "access_token": "EAAG-shop-token",
        "template": {"name": "resumo_diario", "language": "pt_BR"}});
    let answer = app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    app.create_product(&token, "BOLO", "Bolo de Maçã", "617.28").await;
    Some(Sending { app, fake, sink, token, shop_id })
}

/// The subjects of the summary mails received (not the paid orders' mails).
fn subjects(s: &Sending) -> Vec<String> {
    use mailparse::MailHeaderMap;
    s.sink
        .received()
        .iter()
        .filter_map(|m| mailparse::parse_mail(m.data.as_bytes()).unwrap().headers.get_first_value("Subject"))
        .filter(|subject| subject.starts_with("Resumo de"))
        .collect()
}

fn summaries(s: &Sending) -> Vec<String> {
    subjects(s)
}

fn to_owner(s: &Sending) -> usize {
    s.fake.requests().iter().filter(|r| r.body["to"] == OWNER_PHONE).count()
}

async fn the_summary_goes_once_a_day_by_mail_and_whatsapp(engine: Engine) {
    let Some(s) = sending(engine).await else { return };
    let app = &s.app;
    let day = today(app);
    paid_order(app, &s.token, &[("BOLO", 2)]).await;
    assert_eq!(subjects(&s), Vec::<String>::new(), "not before its time");

    // The owner writes to the shop's number before the morning: the
    // window is open, and the held order message goes.
    go_to(app, day.succ_opt().unwrap(), "07:50");
    post_signed(app, &text_from(OWNER_PHONE, "wamid.owner1", "bom dia")).await;
    app.run_until_idle().await;
    let owner_before = to_owner(&s);
    // A restart before the morning: its start queues the same summary (one job).
    let (second, second_jobs) = another_process(&s).await;
    go_to(app, day.succ_opt().unwrap(), "08:00");
    let (a, b) = tokio::join!(app.run_until_idle(), second_jobs.run_until_idle());
    assert!(a + b > 0);
    app.run_until_idle().await;
    let pt_day = day.format("%d/%m/%Y").to_string();
    assert_eq!(subjects(&s), [format!("Resumo de {pt_day}: 1 pedido pago, R$ 1.234,56")], "one mail");
    assert_eq!(to_owner(&s), owner_before + 1, "one WhatsApp message to the shop's number");
    let message = s.fake.requests().into_iter().rfind(|r| r.body["to"] == OWNER_PHONE).unwrap();
    let text = body_text(&message);
    assert!(text.starts_with(&format!("📊 Resumo de {}", day.format("%d/%m/%Y"))), "{text}");
    assert!(text.contains("Pedidos pagos: 1 — R$ 1.234,56"), "{text}");

    let mail = s.sink.received().into_iter().rfind(|m| m.data.contains("Resumo de")).unwrap();
    let parsed = mailparse::parse_mail(mail.data.as_bytes()).unwrap();
    let text = parsed.subparts.iter().find(|p| p.ctype.mimetype == "text/plain").unwrap().get_body().unwrap();
    let html = parsed.subparts.iter().find(|p| p.ctype.mimetype == "text/html").unwrap().get_body().unwrap();
    for body in [&text, &html] {
        assert!(body.contains("Olá, Padaria São João!") && body.contains("R$ 1.234,56"), "{body}");
        assert!(body.contains("Bolo de Maçã"), "{body}");
    }
    assert!(text.contains("Ticket médio: R$ 1.234,56"), "{text}");
    assert!(text.contains("Pagos a enviar: 1"), "{text}");

    // Run again, and start again: nothing more for that day.
    app.run_until_idle().await;
    drop(second);
    let (third, third_jobs) = another_process(&s).await;
    third_jobs.run_until_idle().await;
    drop(third);
    assert_eq!(summaries(&s).len(), 1);

    // The next day's was queued by the run: a quiet day, said briefly.
    let next = day.succ_opt().unwrap();
    let mut conn = app.pool.get().unwrap();
    let queued = chatshop::jobs::find_by_dedupe(&mut conn, &format!("summary:{}:{next}", s.shop_id)).unwrap();
    assert_eq!(queued.map(|j| j.status), Some(chatshop::jobs::JobStatus::Queued));
    drop(conn);
    go_to(app, next.succ_opt().unwrap(), "08:00");
    app.run_until_idle().await;
    let next_pt = next.format("%d/%m/%Y").to_string();
    assert_eq!(subjects(&s).last().unwrap(), &format!("Resumo de {next_pt}: nenhum pedido pago"));
    assert_eq!(summaries(&s).len(), 2);
    assert_eq!(to_owner(&s), owner_before + 2);
    let last = s.fake.requests().into_iter().rfind(|r| r.body["to"] == OWNER_PHONE).unwrap();
    assert_eq!(last.body["template"]["name"], "resumo_diario", "a day later the window is closed: the template");
}

mod once_a_day {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        the_summary_goes_once_a_day_by_mail_and_whatsapp(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        the_summary_goes_once_a_day_by_mail_and_whatsapp(Engine::Postgres).await
    }
}

async fn the_summary_follows_the_shops_time(engine: Engine) {
    let Some(s) = sending(engine).await else { return };
    let app = &s.app;
    let day = today(app);
    let moved = app.patch("/v1/shop", &s.token, &json!({"summary_time": "10:30"})).await;
    assert_eq!(moved.status(), 200);
    go_to(app, day.succ_opt().unwrap(), "10:29");
    app.run_until_idle().await;
    assert!(summaries(&s).is_empty(), "not at 08:00 any more");
    go_to(app, day.succ_opt().unwrap(), "10:30");
    app.run_until_idle().await;
    assert_eq!(summaries(&s).len(), 1);
}

mod follows_the_time {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        the_summary_follows_the_shops_time(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        the_summary_follows_the_shops_time(Engine::Postgres).await
    }
}
