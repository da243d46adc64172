//! Paying in the chat: `pagar` → order → Pix code in the chat → payment →
//! the chat confirms by itself; against the fake Graph API, on both databases.

use crate::chat_test;
use crate::helpers::TestApp;
use crate::support::fake_graph::FakeGraph;
use crate::whatsapp::{ANA, body_text, connected_bakery, post_signed, text_from};
use chatshop::db::schema::{charges, orders};
use diesel::prelude::*;
use serde_json::{Value, json};

fn orders_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    orders::table.count().get_result(&mut conn).unwrap()
}

fn only_txid(app: &TestApp) -> String {
    let mut conn = app.pool.get().unwrap();
    charges::table.select(charges::txid).first(&mut conn).unwrap()
}

async fn say(app: &TestApp, wamid: &str, text: &str) {
    assert_eq!(post_signed(app, &text_from(ANA, wamid, text)).await.status(), 200);
}

async fn pagar_sends_the_pix_code_and_the_chat_confirms_the_payment(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    say(&app, "wamid.in1", "2x BOLO-CHOC").await;
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    let sent = fake.requests();
    let placed = sent.iter().find(|r| body_text(r).starts_with("Pedido #1001 feito!")).expect("the order is confirmed");
    assert!(body_text(placed).contains("R$ 189,80"), "{}", body_text(placed));
    let details =
        sent.iter().find(|r| r.body["interactive"]["type"] == "order_details").expect("an order_details message");
    let parameters = &details.body["interactive"]["action"]["parameters"];
    assert_eq!(parameters["payment_type"], "br");
    assert_eq!(parameters["total_amount"], json!({"value": 18980, "offset": 100}));
    assert_eq!(parameters["order"]["items"][0]["retailer_id"], "BOLO-CHOC");
    let pix = &parameters["payment_settings"][0]["pix_dynamic_code"];
    let code = pix["code"].as_str().unwrap();
    let decoded = chatshop::pix::brcode::decode(code).expect("a valid BR Code");
    assert_eq!(decoded.amount_text(), Some("189.80"));
    assert_eq!(pix["key"], "dono@padaria.com.br");
    assert_eq!(pix["key_type"], "EMAIL");
    let reference = parameters["reference_id"].as_str().unwrap().to_owned();
    assert!(reference.len() <= 60);
    let expires: i64 = parameters["order"]["expiration"]["timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the code's expiry");
    assert!(expires >= chrono::Utc::now().timestamp() + 300, "Meta wants at least 5 minutes ahead");
    // The customer pays in their bank app; the PSP (sandbox) confirms.
    let paid = app.client.post(app.url(&format!("/sandbox/pix/{}/pay", only_txid(&app)))).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    app.run_until_idle().await;
    let sent = fake.requests();
    let status = sent.iter().find(|r| r.body["interactive"]["type"] == "order_status").expect("the chat confirms");
    let parameters = &status.body["interactive"]["action"]["parameters"];
    assert_eq!(parameters["reference_id"], reference.as_str());
    assert_eq!(parameters["payment"]["status"], "captured");
    assert_eq!(parameters["order"]["status"], "processing");
}
chat_test!(pagar_sends_the_pix_code_and_the_chat_confirms_the_payment);

async fn a_charge_with_five_minutes_or_less_left_goes_without_meta_s_expiration(app: TestApp, fake: FakeGraph) {
    let shop = connected_bakery(&app, None).await;
    let patch = json!({"checkout": {"charge_ttl_seconds": 300}});
    let response = app.client.patch(app.url("/v1/shop")).bearer_auth(&shop.token).json(&patch).send().await.unwrap();
    assert_eq!(response.status(), 200);
    say(&app, "wamid.in1", "2x BOLO-CHOC").await;
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    let sent = fake.requests();
    let details =
        sent.iter().find(|r| r.body["interactive"]["type"] == "order_details").expect("an order_details message");
    // Meta refuses an expiration less than 300 s ahead: the message would not go.
    assert!(details.body["interactive"]["action"]["parameters"]["order"].get("expiration").is_none());
}
chat_test!(a_charge_with_five_minutes_or_less_left_goes_without_meta_s_expiration);

async fn pagar_twice_makes_one_order_and_shows_it_again(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    say(&app, "wamid.in1", "1x BOLO-CHOC").await;
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    say(&app, "wamid.in3", "pagar").await;
    app.run_until_idle().await;
    assert_eq!(orders_count(&app), 1);
    let last = fake.requests().last().map(body_text).unwrap_or_default();
    assert!(last.contains("#1001") && last.contains("esperando o pagamento"), "{last}");
    assert!(last.contains("/pay/"), "the pay link: {last}");
}
chat_test!(pagar_twice_makes_one_order_and_shows_it_again);

async fn a_sold_out_product_is_named_and_the_cart_kept(app: TestApp, fake: FakeGraph) {
    let shop = connected_bakery(&app, None).await;
    say(&app, "wamid.in1", "2x BOLO-CHOC").await;
    // Someone else buys the rest meanwhile.
    let id = {
        let page: Value = app.get("/v1/products?q=BOLO-CHOC", &shop.token).await.json().await.unwrap();
        page["data"][0]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(app.patch(&format!("/v1/products/{id}"), &shop.token, &json!({"stock": 1})).await.status(), 200);
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    assert_eq!(orders_count(&app), 0);
    let texts: Vec<String> = fake.requests().iter().map(body_text).collect();
    assert!(texts.iter().any(|t| t.contains("nada foi reservado") && t.contains("só temos 1")), "{texts:#?}");
    assert!(texts.last().unwrap().contains("2x Bolo de Chocolate"), "the cart is kept: {texts:#?}");
}
chat_test!(a_sold_out_product_is_named_and_the_cart_kept);

async fn cancelar_cancels_the_waiting_order(app: TestApp, fake: FakeGraph) {
    let shop = connected_bakery(&app, None).await;
    say(&app, "wamid.in1", "2x BOLO-CHOC").await;
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    say(&app, "wamid.in3", "cancelar").await;
    app.run_until_idle().await;
    let page: Value = app.get("/v1/orders", &shop.token).await.json().await.unwrap();
    assert_eq!(page["data"][0]["status"], "cancelled");
    let texts: Vec<String> = fake.requests().iter().map(body_text).collect();
    assert!(texts.iter().any(|t| t.contains("Pedido #1001 cancelado")), "{texts:#?}");
}
chat_test!(cancelar_cancels_the_waiting_order);

async fn a_customer_who_opted_out_is_not_told_of_the_payment(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    say(&app, "wamid.in1", "1x BOLO-CHOC").await;
    say(&app, "wamid.in2", "pagar").await;
    app.run_until_idle().await;
    say(&app, "wamid.in3", "parar").await;
    app.run_until_idle().await;
    let before = fake.requests().len();
    app.client.post(app.url(&format!("/sandbox/pix/{}/pay", only_txid(&app)))).send().await.unwrap();
    app.run_until_idle().await;
    assert_eq!(fake.requests().len(), before, "no business-initiated message after STOP");
}
chat_test!(a_customer_who_opted_out_is_not_told_of_the_payment);
