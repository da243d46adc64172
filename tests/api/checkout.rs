//! Orders over the API with the sandbox PSP: checkout, idempotency, stock,
//! payment, wrong amounts, expiry, late payment, cancel, refunds, the pay
//! page. Each on SQLite and PostgreSQL.

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_databases;
use chatshop::pix::brcode;
use serde_json::{Value, json};

/// A shop with two products: 10 cakes in stock and unlimited bread.
pub async fn bakery(app: &TestApp) -> String {
    let shop = app.sign_up("Padaria Doce Lar", "dono@padaria.com.br").await;
    let cake = json!({"retailer_id": "BOLO-CHOC", "name": "Bolo de Chocolate", "price": "45.90", "stock": 10});
    assert_eq!(app.post("/v1/products", &shop.token, &cake).await.status(), 201);
    let bread = json!({"retailer_id": "PAO", "name": "Pão de Queijo", "price": "12.00", "sale_price": "10.50"});
    assert_eq!(app.post("/v1/products", &shop.token, &bread).await.status(), 201);
    shop.token
}

pub fn order_body(cakes: i64, breads: i64) -> Value {
    let mut items = Vec::new();
    if cakes > 0 {
        items.push(json!({"retailer_id": "BOLO-CHOC", "quantity": cakes}));
    }
    if breads > 0 {
        items.push(json!({"retailer_id": "PAO", "quantity": breads}));
    }
    json!({"customer": {"name": "Ana", "whatsapp": "+55 11 98888-7777"}, "items": items})
}

pub async fn place(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app.post("/v1/orders", token, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

pub async fn stock_of(app: &TestApp, token: &str, sku: &str) -> Value {
    let page: Value = app.get("/v1/products", token).await.json().await.unwrap();
    page["data"].as_array().unwrap().iter().find(|p| p["retailer_id"] == sku).unwrap()["stock"].clone()
}

async fn order(app: &TestApp, token: &str, id: &Value) -> Value {
    let response = app.get(&format!("/v1/orders/{}", id.as_str().unwrap()), token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn pay(app: &TestApp, txid: &Value, amount: Option<&str>) -> reqwest::Response {
    let body = amount.map_or(json!({}), |a| json!({"amount": a}));
    app.client.post(app.url(&format!("/sandbox/pix/{}/pay", txid.as_str().unwrap()))).json(&body).send().await.unwrap()
}

async fn an_order_is_priced_reserved_charged_and_paid(app: TestApp) {
    let token = bakery(&app).await;
    app.patch("/v1/shop", &token, &json!({"checkout": {"shipping_fee": "8.00", "free_shipping_above": "200.00"}}))
        .await;
    let placed = place(&app, &token, &order_body(2, 3)).await;
    assert_eq!(placed["status"], "pending_payment");
    assert_eq!(placed["number"], 1001);
    assert_eq!(placed["subtotal"], "123.30", "2 × 45.90 + 3 × 10.50 (the sale price)");
    assert_eq!(placed["shipping"], "8.00");
    assert_eq!(placed["total"], "131.30");
    assert_eq!(placed["items"][1]["unit_price"], "10.50");
    assert_eq!(placed["customer"]["whatsapp"], "5511988887777");
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 8, "reserved at checkout");
    app.run_until_idle().await;
    let charged = order(&app, &token, &placed["id"]).await;
    let charge = &charged["charge"];
    assert_eq!(charge["status"], "active");
    let code = charge["pix_copia_e_cola"].as_str().expect("a BR Code");
    let decoded = brcode::decode(code).expect("a valid BR Code");
    assert_eq!(decoded.amount_text(), Some("131.30"));
    assert_eq!(Some(decoded.txid()), charge["txid"].as_str());
    assert_eq!(decoded.merchant_account().key(), Some("dono@padaria.com.br"));
    let paid = pay(&app, &charge["txid"], None).await;
    assert_eq!(paid.status(), 200);
    let e2e = paid.json::<Value>().await.unwrap()["end_to_end_id"].clone();
    let after = order(&app, &token, &placed["id"]).await;
    assert_eq!(after["status"], "paid");
    assert_eq!(after["paid_amount"], "131.30");
    assert_eq!(after["payments"][0]["end_to_end_id"], e2e);
    assert_eq!(after["charge"]["status"], "paid");
    assert!(after["paid_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 8, "the reservation became a sale");
    let second = place(&app, &token, &order_body(0, 20)).await;
    assert_eq!(second["number"], 1002);
    assert_eq!(second["shipping"], "0.00", "210.00 reaches free shipping");
}
on_both_databases!(an_order_is_priced_reserved_charged_and_paid);

async fn the_same_idempotency_key_gives_the_same_order(app: TestApp) {
    let token = bakery(&app).await;
    let send = |body: Value, key: &'static str| {
        let request = app.client.post(app.url("/v1/orders")).bearer_auth(&token).header("Idempotency-Key", key);
        async move { request.json(&body).send().await.unwrap() }
    };
    let first = send(order_body(1, 0), "k-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(order_body(1, 0), "k-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    assert_problem(send(order_body(2, 0), "k-1").await, 422, "idempotency_mismatch").await;
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 9, "one order, one reservation");
    let other = send(order_body(1, 0), "k-2").await.json::<Value>().await.unwrap();
    assert_ne!(other["id"], first["id"]);
}
on_both_databases!(the_same_idempotency_key_gives_the_same_order);

async fn what_cannot_be_ordered_is_named_and_nothing_is_reserved(app: TestApp) {
    let token = bakery(&app).await;
    let body = json!({"items": [{"retailer_id": "PAO", "quantity": 2}, {"retailer_id": "BOLO-CHOC", "quantity": 11},
        {"retailer_id": "SUMIU", "quantity": 1}]});
    let problem = assert_problem(app.post("/v1/orders", &token, &body).await, 422, "items_unavailable").await;
    let items = problem["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["reason"] == "out_of_stock" && i["retailer_id"] == "BOLO-CHOC" && i["available"] == 10)
    );
    assert!(items.iter().any(|i| i["reason"] == "unknown_product" && i["retailer_id"] == "SUMIU"));
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 10);
    let page: Value = app.get("/v1/orders", &token).await.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
    let unknown_field = json!({"items": [{"retailer_id": "PAO", "quantity": 1}], "coupon": "X"});
    assert_problem(app.post("/v1/orders", &token, &unknown_field).await, 422, "invalid_body").await;
}
on_both_databases!(what_cannot_be_ordered_is_named_and_nothing_is_reserved);

async fn two_hundred_checkouts_for_ten_cakes_make_ten_orders(app: TestApp) {
    let token = bakery(&app).await;
    let body = order_body(1, 0);
    let attempts = (0..200).map(|_| app.post("/v1/orders", &token, &body));
    let statuses: Vec<u16> =
        futures_util::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 190);
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 0);
    let page: Value = app.get("/v1/orders?limit=100", &token).await.json().await.unwrap();
    let mut numbers: Vec<i64> =
        page["data"].as_array().unwrap().iter().map(|o| o["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1001..=1010).collect::<Vec<_>>(), "no number given twice");
}
on_both_databases!(two_hundred_checkouts_for_ten_cakes_make_ten_orders);

async fn a_wrong_amount_is_kept_and_flagged_not_paid(app: TestApp) {
    let token = bakery(&app).await;
    let placed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let txid = order(&app, &token, &placed["id"]).await["charge"]["txid"].clone();
    assert_eq!(pay(&app, &txid, Some("40.00")).await.status(), 200);
    let after = order(&app, &token, &placed["id"]).await;
    assert_eq!(after["status"], "pending_payment");
    assert!(after["flags"].as_array().unwrap().contains(&json!("amount_mismatch")));
    assert_eq!(after["payments"][0]["outcome"], "amount_mismatch");
    // The rest arrives: the parts reach the total, the order is paid.
    assert_eq!(pay(&app, &txid, Some("5.90")).await.status(), 200);
    let paid = order(&app, &token, &placed["id"]).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_amount"], "45.90");
    let payments: Value = app.get("/v1/payments", &token).await.json().await.unwrap();
    assert_eq!(payments["data"].as_array().unwrap().len(), 2);
}
on_both_databases!(a_wrong_amount_is_kept_and_flagged_not_paid);

async fn an_unpaid_order_expires_and_a_late_payment_is_kept_for_refund(app: TestApp) {
    let token = bakery(&app).await;
    let placed = place(&app, &token, &order_body(3, 0)).await;
    app.run_until_idle().await;
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 7);
    app.clock.advance(chrono::TimeDelta::minutes(31));
    app.run_until_idle().await;
    let expired = order(&app, &token, &placed["id"]).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["charge"]["status"], "expired");
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 10, "stock released");
    let txid = expired["charge"]["txid"].clone();
    assert_eq!(pay(&app, &txid, None).await.status(), 200);
    let late = order(&app, &token, &placed["id"]).await;
    assert_eq!(late["status"], "expired");
    let flags = late["flags"].as_array().unwrap();
    assert!(flags.contains(&json!("late_payment")) && flags.contains(&json!("needs_refund")), "{flags:?}");
    assert_eq!(late["payments"][0]["outcome"], "late");
    // Given back in full: the flag goes.
    let refund = app
        .post(
            &format!("/v1/orders/{}/refunds", placed["id"].as_str().unwrap()),
            &token,
            &json!({"amount": "137.70", "reason": "chegou tarde"}),
        )
        .await;
    assert_eq!(refund.status(), 201);
    app.run_until_idle().await;
    let refunded = order(&app, &token, &placed["id"]).await;
    assert_eq!(refunded["refunds"][0]["status"], "settled");
    assert!(!refunded["flags"].as_array().unwrap().contains(&json!("needs_refund")));
}
on_both_databases!(an_unpaid_order_expires_and_a_late_payment_is_kept_for_refund);

async fn cancel_gives_the_stock_back_and_a_paid_order_cannot_be_cancelled(app: TestApp) {
    let token = bakery(&app).await;
    let first = place(&app, &token, &order_body(4, 0)).await;
    let id = first["id"].as_str().unwrap();
    let cancelled = app.post(&format!("/v1/orders/{id}/cancel"), &token, &json!({})).await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<Value>().await.unwrap()["status"], "cancelled");
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 10);
    assert_eq!(
        app.post(&format!("/v1/orders/{id}/cancel"), &token, &json!({})).await.status(),
        200,
        "again: no change"
    );
    app.run_until_idle().await;
    let second = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let id = second["id"].as_str().unwrap();
    pay(&app, &order(&app, &token, &second["id"]).await["charge"]["txid"], None).await;
    assert_problem(app.post(&format!("/v1/orders/{id}/cancel"), &token, &json!({})).await, 409, "wrong_state").await;
    let fulfilled = app.post(&format!("/v1/orders/{id}/fulfil"), &token, &json!({})).await;
    assert_eq!(fulfilled.json::<Value>().await.unwrap()["status"], "fulfilled");
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 9);
}
on_both_databases!(cancel_gives_the_stock_back_and_a_paid_order_cannot_be_cancelled);

async fn refunds_are_partial_or_full_and_never_more_than_paid(app: TestApp) {
    let token = bakery(&app).await;
    let placed = place(&app, &token, &order_body(2, 0)).await;
    app.run_until_idle().await;
    let id = placed["id"].as_str().unwrap();
    let nothing = app.post(&format!("/v1/orders/{id}/refunds"), &token, &json!({"amount": "1.00"})).await;
    assert_problem(nothing, 422, "nothing_to_refund").await;
    pay(&app, &order(&app, &token, &placed["id"]).await["charge"]["txid"], None).await;
    let staff = app
        .user_token(
            &crate::helpers::TestShop { id: String::new(), token: token.clone() },
            "caixa@padaria.com.br",
            "staff",
        )
        .await;
    assert_eq!(app.post(&format!("/v1/orders/{id}/refunds"), &staff, &json!({"amount": "1.00"})).await.status(), 403);
    let part =
        app.post(&format!("/v1/orders/{id}/refunds"), &token, &json!({"amount": "30.00", "reason": "faltou um"})).await;
    assert_eq!(part.status(), 201);
    assert_eq!(part.json::<Value>().await.unwrap()["status"], "processing");
    let too_much = app.post(&format!("/v1/orders/{id}/refunds"), &token, &json!({"amount": "61.81"})).await;
    let problem = assert_problem(too_much, 422, "refund_too_large").await;
    assert_eq!(problem["refundable"], "61.80");
    app.run_until_idle().await;
    let partly = order(&app, &token, &placed["id"]).await;
    assert_eq!(partly["status"], "partially_refunded");
    assert_eq!(partly["refunded_amount"], "30.00");
    assert_eq!(app.post(&format!("/v1/orders/{id}/refunds"), &token, &json!({"amount": "61.80"})).await.status(), 201);
    app.run_until_idle().await;
    let full = order(&app, &token, &placed["id"]).await;
    assert_eq!(full["status"], "refunded");
    assert_eq!(full["refunded_amount"], "91.80");
}
on_both_databases!(refunds_are_partial_or_full_and_never_more_than_paid);

async fn the_pay_page_shows_the_order_and_turns_to_paid(app: TestApp) {
    let token = bakery(&app).await;
    let placed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let charge = order(&app, &token, &placed["id"]).await["charge"].clone();
    let url = charge["pay_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.address), "{url}");
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for part in ["Padaria Doce Lar", "Bolo de Chocolate", "R$ 45,90", "<svg", "aguardando pagamento", "Copiar código"]
    {
        assert!(html.contains(part), "the page shows {part}");
    }
    assert!(html.contains(&charge["pix_copia_e_cola"].as_str().unwrap().replace('&', "&amp;")));
    assert!(!html.contains("http://") || !html.contains("<script src"), "no external assets");
    let status: Value = app.client.get(format!("{url}/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "pending_payment");
    let svg = app.client.get(format!("{url}/qr.svg")).send().await.unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    pay(&app, &charge["txid"], None).await;
    let status: Value = app.client.get(format!("{url}/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "paid");
    assert_eq!(app.client.get(app.url(&format!("/pay/{}", "0".repeat(64)))).send().await.unwrap().status(), 404);
}
on_both_databases!(the_pay_page_shows_the_order_and_turns_to_paid);

async fn a_malformed_pix_callback_is_refused_and_a_forged_one_changes_nothing(app: TestApp) {
    let token = bakery(&app).await;
    let shop: Value = app.get("/v1/shop", &token).await.json().await.unwrap();
    let shop_id = shop["id"].as_str().unwrap().to_owned();
    let placed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let txid = order(&app, &token, &placed["id"]).await["charge"]["txid"].clone();
    let post = |path: String, body: &'static str| {
        let request = app.client.post(app.url(&path)).header("content-type", "application/json").body(body);
        async move { request.send().await.unwrap() }
    };
    assert_problem(post(format!("/webhooks/pix/{shop_id}"), "{\"pix\": 3}").await, 400, "malformed_callback").await;
    let forged = format!(
        r#"{{"pix":[{{"endToEndId":"E12345678202611221200abcdefghijk","txid":"{}","valor":"45.90","horario":"2026-11-22T12:00:00Z"}}]}}"#,
        txid.as_str().unwrap()
    );
    let forged: &'static str = Box::leak(forged.into_boxed_str());
    assert_eq!(post(format!("/webhooks/pix/{shop_id}/pix"), forged).await.status(), 200);
    app.run_until_idle().await;
    let after = order(&app, &token, &placed["id"]).await;
    assert_eq!(after["status"], "pending_payment", "the sandbox PSP knows no such Pix: nothing changes");
    assert_eq!(after["payments"].as_array().unwrap().len(), 0);
}
on_both_databases!(a_malformed_pix_callback_is_refused_and_a_forged_one_changes_nothing);
