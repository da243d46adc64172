//! The WhatsApp channel end to end: signed webhooks in, replies out to a fake
//! Graph API that speaks Meta's formats.

use crate::helpers::{APP_SECRET, Engine, TestApp, TestShop, assert_problem, sample};
use crate::support::fake_graph::{FakeGraph, RecordedRequest};
use chatshop::db::schema::{chat_messages, customers, jobs};
use diesel::prelude::*;
use serde_json::{Value, json};

const PHONE_NUMBER_ID: &str = "106540352242922";
const CATALOG_ID: &str = "194836987003835";
pub const ANA: &str = "5511988887777";

/// Declares a chat test on both databases, with a fake Graph API.
#[macro_export]
macro_rules! chat_test {
    ($name:ident) => {
        mod $name {
            use $crate::helpers::{Engine, TestApp};
            use $crate::support::fake_graph::FakeGraph;
            async fn run(engine: Engine) {
                let fake = FakeGraph::start().await;
                let url = fake.url();
                if let Some(app) = TestApp::spawn_with(engine, |c| c.whatsapp_graph_url = url).await {
                    super::$name(app, fake).await;
                }
            }
            #[tokio::test]
            async fn sqlite() {
                run(Engine::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                run(Engine::Postgres).await
            }
        }
    };
}

pub async fn connected_bakery(app: &TestApp, template: Option<&str>) -> TestShop {
    let shop = app.sign_up("Padaria Doce Lar", "dono@padaria.com.br").await;
    assert_eq!(app.import(&shop.token, sample("padaria-doce-lar.csv"), "").await.status(), 200);
    let mut settings =
        json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-shop-token", "catalog_id": CATALOG_ID});
    if let Some(name) = template {
        settings["template"] = json!({"name": name, "language": "pt_BR"});
    }
    let response =
        app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&shop.token).json(&settings).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert!(view.get("access_token").is_none(), "the token is never returned");
    shop
}

pub fn envelope(messages: Vec<Value>, contacts: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": contacts, "messages": messages}}]}]})
}

pub fn text_from(from: &str, wamid: &str, text: &str) -> Value {
    let now = chrono::Utc::now().timestamp().to_string();
    envelope(
        vec![json!({"from": from, "id": wamid, "timestamp": now, "type": "text", "text": {"body": text}})],
        vec![json!({"profile": {"name": "Ana"}, "wa_id": from})],
    )
}

pub async fn post_signed(app: &TestApp, body: &Value) -> reqwest::Response {
    let raw = serde_json::to_vec(body).unwrap();
    post_raw(app, raw.clone(), Some(chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &raw))).await
}

async fn post_raw(app: &TestApp, raw: Vec<u8>, signature: Option<String>) -> reqwest::Response {
    post_raw_to(app, &app.address, raw, signature).await
}

async fn post_raw_to(app: &TestApp, address: &str, raw: Vec<u8>, signature: Option<String>) -> reqwest::Response {
    let mut request =
        app.client.post(format!("{address}/webhooks/whatsapp")).header("content-type", "application/json").body(raw);
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.send().await.unwrap()
}

/// Runs the background work to idle; returns every request the fake Graph
/// API has had so far, which must be `expected` many.
pub async fn sent_to_meta(app: &TestApp, fake: &FakeGraph, expected: usize) -> Vec<RecordedRequest> {
    app.run_until_idle().await;
    let sent = fake.requests();
    assert_eq!(sent.len(), expected, "{sent:#?}");
    sent
}

pub fn count(app: &TestApp, direction: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    chat_messages::table.filter(chat_messages::direction.eq(direction)).count().get_result(&mut conn).unwrap()
}

pub fn body_text(request: &RecordedRequest) -> String {
    let body = &request.body;
    body["text"]["body"]
        .as_str()
        .or_else(|| body["interactive"]["body"]["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn the_handshake_echoes_the_challenge_only_for_the_right_token(app: TestApp, _fake: FakeGraph) {
    let ok = app
        .client
        .get(app.url("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = app
        .client
        .get(app.url("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_problem(wrong, 403, "verification_failed").await;
}
chat_test!(the_handshake_echoes_the_challenge_only_for_the_right_token);

async fn a_catalogue_order_becomes_a_cart_priced_from_our_catalogue(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let order = envelope(
        vec![
            json!({"from": ANA, "id": "wamid.order1", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "order",
            "order": {"catalog_id": CATALOG_ID, "text": "sem glúten?", "product_items": [
                {"product_retailer_id": "BOLO-CHOC", "quantity": 2, "item_price": 1.0, "currency": "BRL"},
                {"product_retailer_id": "NAO-EXISTE", "quantity": 1, "item_price": 5.0, "currency": "BRL"},
                {"product_retailer_id": "COXINHA", "quantity": 3, "item_price": 7.5, "currency": "BRL"}]}}),
        ],
        vec![json!({"profile": {"name": "Ana"}, "wa_id": ANA})],
    );
    assert_eq!(post_signed(&app, &order).await.status(), 200);
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(sent[0].path, format!("/v24.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(sent[0].bearer(), Some("EAAG-shop-token"));
    assert_eq!(sent[0].body["to"], ANA);
    assert_eq!(body_text(&sent[0]), "Item 2 (NAO-EXISTE): não existe mais no nosso catálogo.");
    let summary = body_text(&sent[1]);
    let bolo_and_coxinha = "Seu carrinho:\n• 2x Bolo de Chocolate com Brigadeiro (1,5 kg) — R$ 189,80\n• 3x Coxinha de Frango com Catupiry — R$ 28,50\n*Total: R$ 218,30*";
    assert_eq!(summary, bolo_and_coxinha, "priced from our catalogue, not the client's item_price");
    assert_eq!(sent[1].body["interactive"]["action"]["buttons"][0]["reply"]["id"], "pay");
}
chat_test!(a_catalogue_order_becomes_a_cart_priced_from_our_catalogue);

async fn forged_or_unsigned_webhooks_are_refused_and_nothing_is_stored(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let raw = serde_json::to_vec(&text_from(ANA, "wamid.forged", "menu")).unwrap();
    let forged = chatshop::chat::signature::sign(b"not the app secret", &raw);
    assert_problem(post_raw(&app, raw.clone(), Some(forged)).await, 401, "invalid_signature").await;
    assert_problem(post_raw(&app, raw.clone(), None).await, 401, "invalid_signature").await;
    let mut tampered = raw.clone();
    let signature = chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &raw);
    tampered.extend_from_slice(b" ");
    assert_problem(post_raw(&app, tampered, Some(signature)).await, 401, "invalid_signature").await;
    let garbage = b"{not json".to_vec();
    let signed_garbage = chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &garbage);
    assert_problem(post_raw(&app, garbage, Some(signed_garbage)).await, 400, "malformed_json").await;
    let huge = vec![b' '; 2 * 1024 * 1024];
    assert_problem(post_raw(&app, huge, Some("sha256=00".into())).await, 413, "body_too_large").await;
    assert_eq!(count(&app, "in"), 0);
    sent_to_meta(&app, &fake, 0).await;
}
chat_test!(forged_or_unsigned_webhooks_are_refused_and_nothing_is_stored);

async fn a_redelivered_message_is_handled_once(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let message = text_from(ANA, "wamid.same", "2x BOLO-CHOC");
    for _ in 0..3 {
        assert_eq!(post_signed(&app, &message).await.status(), 200);
    }
    // One 'added' and one cart summary, once.
    sent_to_meta(&app, &fake, 2).await;
    assert_eq!(count(&app, "in"), 1);
    assert!(body_text(&fake.requests()[1]).contains("2x Bolo de Chocolate"));
}
chat_test!(a_redelivered_message_is_handled_once);

async fn a_batch_of_fifty_messages_from_ten_customers_is_all_handled(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let now = chrono::Utc::now().timestamp().to_string();
    let messages: Vec<Value> = (0..50)
        .map(|i| json!({"from": format!("55119000000{:02}", i % 10), "id": format!("wamid.batch{i}"), "timestamp": now, "type": "text", "text": {"body": "ajuda"}}))
        .collect();
    let contacts: Vec<Value> = (0..10)
        .map(|c| json!({"profile": {"name": format!("Cliente {c}")}, "wa_id": format!("55119000000{c:02}")}))
        .collect();
    assert_eq!(post_signed(&app, &envelope(messages, contacts)).await.status(), 200);
    let sent = sent_to_meta(&app, &fake, 50).await;
    assert_eq!(count(&app, "in"), 50);
    let mut conn = app.pool.get().unwrap();
    assert_eq!(customers::table.count().get_result::<i64>(&mut conn).unwrap(), 10);
    assert!(sent.iter().all(|r| body_text(r).starts_with("Olá, Cliente ")));
}
chat_test!(a_batch_of_fifty_messages_from_ten_customers_is_all_handled);

async fn a_closed_window_sends_the_template_and_holds_the_reply_until_the_customer_answers(
    app: TestApp,
    fake: FakeGraph,
) {
    connected_bakery(&app, Some("pedido_atualizado")).await;
    fake.fail_next(400, 131047, "Re-engagement message");
    assert_eq!(post_signed(&app, &text_from(ANA, "wamid.w1", "carrinho")).await.status(), 200);
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(sent[0].body["type"], "text");
    assert_eq!(sent[1].body["type"], "template");
    assert_eq!(sent[1].body["template"]["name"], "pedido_atualizado");
    let closed = || -> bool {
        customers::table
            .filter(customers::wa_id.eq(ANA))
            .select(customers::window_closed)
            .first(&mut app.pool.get().unwrap())
            .unwrap()
    };
    assert!(closed());
    // The customer answers the template: the held reply goes, then the new one.
    post_signed(&app, &text_from(ANA, "wamid.w2", "ajuda")).await;
    let sent = sent_to_meta(&app, &fake, 4).await;
    assert!(body_text(&sent[2]).starts_with("Seu carrinho está vazio"), "{sent:#?}");
    assert!(body_text(&sent[3]).starts_with("Olá, Ana!"));
    assert!(!closed());
}
chat_test!(a_closed_window_sends_the_template_and_holds_the_reply_until_the_customer_answers);

async fn without_a_template_a_closed_window_holds_the_message_until_the_customer_writes(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    fake.fail_next(400, 131047, "Re-engagement message");
    post_signed(&app, &text_from(ANA, "wamid.h1", "carrinho")).await;
    sent_to_meta(&app, &fake, 1).await;
    let mut conn = app.pool.get().unwrap();
    let held: i64 = jobs::table.filter(jobs::status.eq("held")).count().get_result(&mut conn).unwrap();
    assert_eq!(held, 1);
    let status: String = chat_messages::table
        .filter(chat_messages::direction.eq("out"))
        .select(chat_messages::status)
        .first(&mut conn)
        .unwrap();
    assert_eq!(status, "waiting_window");
    // The shop is told, once, by e-mail (written to the mail folder here).
    let mail = app.mail_files();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: dono@padaria.com.br"), "{}", mail[0]);
    // The customer writes again: the held message goes out with the new reply.
    post_signed(&app, &text_from(ANA, "wamid.h2", "ajuda")).await;
    let sent = sent_to_meta(&app, &fake, 3).await;
    assert!(sent[1..].iter().any(|r| body_text(r).starts_with("Seu carrinho está vazio")));
}
chat_test!(without_a_template_a_closed_window_holds_the_message_until_the_customer_writes);

async fn text_commands_unknown_skus_and_names(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let conversation = [
        ("2x NAO-EXISTE", "Não encontrei \"NAO-EXISTE\". Envie *menu* para ver os produtos."),
        (
            "quero 2 pães de queijo",
            "Qual destes?\n• Pão de Queijo Mineiro (6 unidades) (PAO-QUEIJO-6)\n• Pão de Queijo Congelado 1 kg (PAO-QUEIJO-CONG-1KG)\nEnvie por exemplo *1x PAO-QUEIJO-6*.",
        ),
        ("quero 2 pães de queijo mineiro", "Adicionado: 2x Pão de Queijo Mineiro (6 unidades)."),
        ("remover PAO-QUEIJO-6", "Removido: Pão de Queijo Mineiro (6 unidades)."),
        ("blá blá", "Não entendi. Envie *menu* para ver os produtos ou *ajuda* para ver o que posso fazer."),
    ];
    for (i, (said, first_reply)) in conversation.iter().enumerate() {
        let before = fake.requests().len();
        post_signed(&app, &text_from(ANA, &format!("wamid.t{i}"), said)).await;
        app.run_until_idle().await;
        let sent = fake.requests();
        assert!(sent.len() > before, "a reply to {said:?}");
        assert_eq!(body_text(&sent[before]), *first_reply, "after {said:?}");
    }
}
chat_test!(text_commands_unknown_skus_and_names);

async fn stop_opts_out_and_voltar_opts_back_in(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    post_signed(&app, &text_from(ANA, "wamid.s1", "PARAR")).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    assert!(body_text(&sent[0]).starts_with("Pronto: você não vai mais receber mensagens nossas"));
    let opted_out = || -> bool {
        customers::table
            .filter(customers::wa_id.eq(ANA))
            .select(customers::opted_out)
            .first(&mut app.pool.get().unwrap())
            .unwrap()
    };
    assert!(opted_out());
    post_signed(&app, &text_from(ANA, "wamid.s2", "voltar")).await;
    sent_to_meta(&app, &fake, 2).await;
    assert!(!opted_out());
}
chat_test!(stop_opts_out_and_voltar_opts_back_in);

async fn statuses_are_recorded_and_unknown_numbers_acknowledged(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    post_signed(&app, &text_from(ANA, "wamid.q1", "ajuda")).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    // The fake answers with ids "wamid.<n>"; ours is recorded with the send.
    let wamid: Option<String> = chat_messages::table
        .filter(chat_messages::direction.eq("out"))
        .select(chat_messages::wa_message_id)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let wamid = wamid.expect("the sent message carries Meta's id");
    assert_eq!(sent.len(), 1);
    let status_of = |state: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": state, "timestamp": "1750096325", "recipient_id": ANA}]}}]}]})
    };
    // Out of order, as webhooks may come: "delivered" after "read" does not go back.
    post_signed(&app, &status_of("read")).await;
    post_signed(&app, &status_of("delivered")).await;
    let stored: String = chat_messages::table
        .filter(chat_messages::wa_message_id.eq(&wamid))
        .select(chat_messages::status)
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(stored, "read");
    let status = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": "failed", "timestamp": "1750096325", "recipient_id": ANA,
            "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}]}]});
    assert_eq!(post_signed(&app, &status).await.status(), 200);
    let mut conn = app.pool.get().unwrap();
    let (state, error): (String, Option<String>) = chat_messages::table
        .filter(chat_messages::wa_message_id.eq(&wamid))
        .select((chat_messages::status, chat_messages::error))
        .first(&mut conn)
        .unwrap();
    assert_eq!((state.as_str(), error.as_deref()), ("failed", Some("131047: Re-engagement message")));
    let closed: bool =
        customers::table.filter(customers::wa_id.eq(ANA)).select(customers::window_closed).first(&mut conn).unwrap();
    assert!(closed, "131047 closes the conversation's window");

    let mut stranger = text_from(ANA, "wamid.x", "menu");
    stranger["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("999999");
    assert_eq!(post_signed(&app, &stranger).await.status(), 200);
    assert_eq!(count(&app, "in"), 1);
}
chat_test!(statuses_are_recorded_and_unknown_numbers_acknowledged);

async fn an_english_shop_answers_in_english(app: TestApp, fake: FakeGraph) {
    let mut body = crate::helpers::shop_body("Ipanema Swim", "owner@ipanema.com.br");
    body["language"] = json!("en");
    let response = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let token = response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    app.import(&token, "id,title,price\nBIKINI-1,Bikini,1234.50 BRL\n", "").await;
    let settings = json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-shop-token"});
    app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await.unwrap();
    post_signed(&app, &text_from(ANA, "wamid.en1", "add 2 bikini")).await;
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(body_text(&sent[0]), "Added: 2x Bikini.");
    assert_eq!(body_text(&sent[1]), "Your cart:\n• 2x Bikini — R$2,469.00\n*Total: R$2,469.00*");
    let bad = app
        .client
        .post(app.url("/v1/shops"))
        .json(&{
            let mut b = crate::helpers::shop_body("X", "x@x.com.br");
            b["language"] = json!("klingon");
            b
        })
        .send()
        .await
        .unwrap();
    assert_problem(bad, 422, "invalid_field").await;
}
chat_test!(an_english_shop_answers_in_english);

async fn every_problem_line_of_a_catalogue_cart_is_named(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let order = envelope(
        vec![
            json!({"from": ANA, "id": "wamid.order2", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "order",
            "order": {"catalog_id": CATALOG_ID, "product_items": [
                {"product_retailer_id": "PUDIM-LEITE", "quantity": 10, "item_price": 64.9, "currency": "BRL"},
                {"product_retailer_id": "PAO-ITALIANO", "quantity": 1, "item_price": 15.9, "currency": "BRL"},
                {"product_retailer_id": "CAFE-EXPRESSO", "quantity": 2, "item_price": 7.5, "currency": "BRL"}]}}),
        ],
        vec![json!({"profile": {"name": "Ana"}, "wa_id": ANA})],
    );
    post_signed(&app, &order).await;
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(
        body_text(&sent[0]),
        "Item 1 (Pudim de Leite Condensado (inteiro)): você pediu 10, só temos 6; coloquei 6.\nItem 2 (Pão Italiano de Fermentação Natural): esgotado."
    );
    assert!(
        body_text(&sent[1])
            .contains("• 6x Pudim de Leite Condensado (inteiro) — R$ 389,40\n• 2x Café Expresso — R$ 15,00")
    );
}
chat_test!(every_problem_line_of_a_catalogue_cart_is_named);

async fn a_failed_send_is_retried_and_a_refused_one_recorded_as_failed(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    fake.fail_next(500, 1, "An unknown error occurred");
    post_signed(&app, &text_from(ANA, "wamid.r1", "ajuda")).await;
    // The first try fails; the retry waits for its backoff, then gets through.
    sent_to_meta(&app, &fake, 1).await;
    app.clock.advance(chrono::TimeDelta::minutes(1));
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(sent[0].body, sent[1].body);
    fake.fail_next(400, 100, "Invalid parameter");
    post_signed(&app, &text_from(ANA, "wamid.r2", "limpar")).await;
    sent_to_meta(&app, &fake, 3).await;
    let failed: Vec<Option<String>> = chat_messages::table
        .filter(chat_messages::status.eq("failed"))
        .select(chat_messages::error)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].as_deref().unwrap_or_default().contains("Invalid parameter"), "{failed:?}");
    app.clock.advance(chrono::TimeDelta::hours(1));
    sent_to_meta(&app, &fake, 3).await;
    let dead: i64 =
        jobs::table.filter(jobs::status.eq("dead")).count().get_result(&mut app.pool.get().unwrap()).unwrap();
    assert_eq!(dead, 1, "a refused message is not retried: its job is dead");
}
chat_test!(a_failed_send_is_retried_and_a_refused_one_recorded_as_failed);

async fn the_shop_is_told_over_smtp_when_a_reply_must_wait(engine: Engine) {
    let fake = FakeGraph::start().await;
    let sink = crate::support::smtp_sink::SmtpSink::start().await;
    let (graph, smtp) = (fake.url(), sink.url());
    let Some(app) = TestApp::spawn_with(engine, |c| {
        c.whatsapp_graph_url = graph;
        c.smtp_url = Some(smtp);
    })
    .await
    else {
        return;
    };
    let mut body = crate::helpers::shop_body("Ipanema Swim", "owner@ipanema.com.br");
    body["language"] = json!("en");
    let token = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
        ["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-shop-token"});
    app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&token).json(&settings).send().await.unwrap();
    app.import(&token, "id,title,price\nBIKINI-1,Bikini,120.00 BRL\n", "").await;
    // Two replies ("added" and the cart); Meta refuses the first, the second is held without trying.
    fake.fail_next(400, 131047, "Re-engagement message");
    post_signed(&app, &text_from(ANA, "wamid.m1", "add 2 BIKINI-1")).await;
    app.run_until_idle().await;
    let mail = sink.received();
    assert_eq!(mail.len(), 1, "told once, not once per held message");
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(mail[0].to, ["<owner@ipanema.com.br>"]);
    assert!(mail[0].data.contains("Subject: A reply to Ana (+5511*****7777) is waiting"), "{}", mail[0].data);
    assert!(mail[0].data.contains("Content-Type: text/html"), "plain text and HTML");
}

mod the_shop_is_told_over_smtp {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        the_shop_is_told_over_smtp_when_a_reply_must_wait(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        the_shop_is_told_over_smtp_when_a_reply_must_wait(Engine::Postgres).await
    }
}

async fn two_processes_on_one_database_send_each_reply_once(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let graph = fake.url();
    let (second, handle, second_jobs) = app.second_process(|c| c.whatsapp_graph_url = graph).await;
    let now = chrono::Utc::now().timestamp().to_string();
    for batch in 0..4 {
        let messages: Vec<Value> = (0..10)
            .map(|i| json!({"from": format!("5511900000{i:03}"), "id": format!("wamid.two.{batch}.{i}"), "timestamp": now, "type": "text", "text": {"body": "ajuda"}}))
            .collect();
        let raw = serde_json::to_vec(&envelope(messages, vec![])).unwrap();
        let signature = chatshop::chat::signature::sign(APP_SECRET.as_bytes(), &raw);
        // Alternate between the processes; both workers claim from one queue.
        let address = if batch % 2 == 0 { app.address.clone() } else { second.clone() };
        assert_eq!(post_raw_to(&app, &address, raw, Some(signature)).await.status(), 200);
    }
    // Both processes work the queue at once.
    let (first_runs, second_runs) = tokio::join!(app.run_until_idle(), second_jobs.run_until_idle());
    assert_eq!(first_runs + second_runs, 40, "each job run once: {first_runs} + {second_runs}");
    sent_to_meta(&app, &fake, 40).await;
    let mut conn = app.pool.get().unwrap();
    let wamids: std::collections::HashSet<Option<String>> = chat_messages::table
        .filter(chat_messages::direction.eq("out"))
        .select(chat_messages::wa_message_id)
        .load::<Option<String>>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(wamids.len(), 40);
    drop(handle.stop(false));
}
chat_test!(two_processes_on_one_database_send_each_reply_once);

async fn menu_sends_the_shops_whatsapp_catalogue_as_a_product_list(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    post_signed(&app, &text_from(ANA, "wamid.menu", "cardápio")).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    let interactive = &sent[0].body["interactive"];
    assert_eq!(interactive["type"], "product_list");
    assert_eq!(interactive["action"]["catalog_id"], CATALOG_ID);
    let sections = interactive["action"]["sections"].as_array().unwrap();
    let skus: Vec<&str> = sections
        .iter()
        .flat_map(|s| s["product_items"].as_array().unwrap())
        .map(|p| p["product_retailer_id"].as_str().unwrap())
        .collect();
    assert!(skus.contains(&"BOLO-CHOC") && skus.len() <= 30);
    assert!(!skus.contains(&"PAO-ITALIANO"), "sold-out products are not offered");
    assert_eq!(sections[0]["title"], "Padaria > Bolos");
}
chat_test!(menu_sends_the_shops_whatsapp_catalogue_as_a_product_list);

async fn a_message_about_a_product_offers_to_add_it(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    let mut message = text_from(ANA, "wamid.ref", "Esse tem sem lactose?");
    message["entry"][0]["changes"][0]["value"]["messages"][0]["context"] =
        json!({"referred_product": {"catalog_id": CATALOG_ID, "product_retailer_id": "SONHO-CREME"}});
    post_signed(&app, &message).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    assert!(body_text(&sent[0]).starts_with("*Sonho de Creme* — R$ 9,90"), "{}", body_text(&sent[0]));
    assert_eq!(sent[0].body["interactive"]["action"]["buttons"][0]["reply"]["id"], "add:SONHO-CREME");
}
chat_test!(a_message_about_a_product_offers_to_add_it);

/// Meta re-delivers for up to 36 hours: a message answered a day late can
/// only be answered with the template.
async fn a_late_delivery_is_answered_with_the_template(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, Some("pedido_atualizado")).await;
    let mut message = text_from(ANA, "wamid.late", "carrinho");
    let a_day_ago = chrono::Utc::now().timestamp() - 25 * 3600;
    message["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!(a_day_ago.to_string());
    post_signed(&app, &message).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    assert_eq!(sent[0].body["type"], "template");
    assert_eq!(sent[0].body["template"]["language"]["code"], "pt_BR");
}
chat_test!(a_late_delivery_is_answered_with_the_template);

async fn a_late_redelivery_does_not_move_the_window_back(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, Some("pedido_atualizado")).await;
    post_signed(&app, &text_from(ANA, "wamid.now", "ajuda")).await;
    let mut late = text_from(ANA, "wamid.old", "carrinho");
    late["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] =
        json!((chrono::Utc::now().timestamp() - 30 * 3600).to_string());
    post_signed(&app, &late).await;
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(sent[0].body["type"], "text");
    assert_eq!(sent[1].body["type"], "text", "the customer wrote a minute ago: the window is open");
}
chat_test!(a_late_redelivery_does_not_move_the_window_back);

async fn a_number_is_connected_only_with_a_token_meta_accepts_for_it(app: TestApp, fake: FakeGraph) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let refused =
        json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": crate::support::fake_graph::REFUSED_TOKEN});
    let response =
        app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&shop.token).json(&refused).send().await.unwrap();
    let problem = assert_problem(response, 422, "whatsapp_not_verified").await;
    assert!(
        !problem["detail"].as_str().unwrap().contains(crate::support::fake_graph::REFUSED_TOKEN),
        "no token in errors"
    );
    // Not connected: the number's messages reach no shop.
    post_signed(&app, &text_from(ANA, "wamid.v1", "menu")).await;
    assert_eq!(count(&app, "in"), 0);

    let other = app.sign_up("Outra", "dona@outra.com.br").await;
    let accepted = json!({"phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-real"});
    let ok =
        app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&other.token).json(&accepted).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let taken =
        app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&shop.token).json(&accepted).send().await.unwrap();
    assert_problem(taken, 409, "phone_number_taken").await;
    let staff = app.user_token(&other, "caixa@outra.com.br", "staff").await;
    let forbidden =
        app.client.put(app.url("/v1/shop/whatsapp")).bearer_auth(&staff).json(&accepted).send().await.unwrap();
    assert_problem(forbidden, 403, "forbidden").await;
    assert!(fake.requests().is_empty(), "lookups are not messages");
}
chat_test!(a_number_is_connected_only_with_a_token_meta_accepts_for_it);
