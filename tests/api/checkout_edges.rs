//! Checkout where it is easy to get wrong, with the sandbox PSP, on both
//! databases: a request with an Idempotency-Key still running (409) and many
//! at once (one order), the pay page of an English shop, and `chatshop pay
//! TXID` paying a charge from the command line.

use crate::checkout::{bakery, order_body, place, stock_of};
use crate::helpers::{TEST_SECRET_KEY, TestApp, assert_problem, shop_body};
use crate::on_both_databases;
use chatshop::ids::ShopId;
use chatshop::orders::idempotency;
use chrono::TimeDelta;
use serde_json::{Value, json};

async fn order(app: &TestApp, token: &str, id: &Value) -> Value {
    app.get(&format!("/v1/orders/{}", id.as_str().unwrap()), token).await.json().await.unwrap()
}

async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &[u8]) -> reqwest::Response {
    app.client
        .post(app.url("/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn an_idempotency_key_still_running_is_409_and_many_at_once_make_one_order(app: TestApp) {
    let token = bakery(&app).await;
    let shop: Value = app.get("/v1/shop", &token).await.json().await.unwrap();
    let shop_id: ShopId = shop["id"].as_str().unwrap().parse().unwrap();
    let body = serde_json::to_vec(&order_body(1, 0)).unwrap();

    // Another request holds the key (claimed, not finished): this one waits.
    let mut conn = app.pool.get().unwrap();
    let claim = idempotency::begin(&mut conn, shop_id, "k-held", &idempotency::fingerprint(&body), app.clock.now());
    assert_eq!(claim.unwrap(), idempotency::Claim::New);
    drop(conn);
    assert_problem(post_with_key(&app, &token, "k-held", &body).await, 409, "idempotency_in_flight").await;
    let other_body = serde_json::to_vec(&order_body(2, 0)).unwrap();
    assert_problem(post_with_key(&app, &token, "k-held", &other_body).await, 422, "idempotency_mismatch").await;
    // A claim whose request died is taken over after two minutes.
    app.clock.advance(TimeDelta::minutes(3));
    let taken = post_with_key(&app, &token, "k-held", &body).await;
    assert_eq!(taken.status(), 201);

    // Twenty at once with one key: one order, every answer that order or a 409.
    let answers = futures_util::future::join_all((0..20).map(|_| post_with_key(&app, &token, "k-burst", &body))).await;
    let mut ids = Vec::new();
    for answer in answers {
        match answer.status().as_u16() {
            201 => ids.push(answer.json::<Value>().await.unwrap()["id"].clone()),
            409 => assert_eq!(answer.json::<Value>().await.unwrap()["code"], "idempotency_in_flight"),
            other => panic!("answered {other}"),
        }
    }
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "one order: {ids:?}");
    let page: Value = app.get("/v1/orders", &token).await.json().await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2, "k-held's order and k-burst's");
    assert_eq!(stock_of(&app, &token, "BOLO-CHOC").await, 8, "two reservations");
}
on_both_databases!(an_idempotency_key_still_running_is_409_and_many_at_once_make_one_order);

async fn the_pay_page_speaks_english_for_an_english_shop(app: TestApp) {
    let mut body = shop_body("Sweet Home Bakery", "owner@sweethome.com");
    body["language"] = json!("en");
    let created: Value = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap().json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let cake = json!({"retailer_id": "BOLO-CHOC", "name": "Chocolate Cake", "price": "45.90", "stock": 10});
    assert_eq!(app.post("/v1/products", &token, &cake).await.status(), 201);
    let placed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let charge = order(&app, &token, &placed["id"]).await["charge"].clone();
    let url = charge["pay_url"].as_str().unwrap().to_owned();
    let html = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    for part in [
        r#"<html lang="en">"#,
        "Sweet Home Bakery",
        "Order #1001",
        "Chocolate Cake",
        "waiting for payment",
        "Pix copy and paste:",
        "Copy code",
        "Time left to pay:",
        "Shipping",
    ] {
        assert!(html.contains(part), "the English page shows {part}");
    }
    for portuguese in ["Pedido", "aguardando", "Copiar código", "Frete", "Tempo para pagar"] {
        assert!(!html.contains(portuguese), "no Portuguese ({portuguese}) on an English shop's page");
    }
    let txid = charge["txid"].as_str().unwrap();
    let pay = app.client.post(app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&json!({})).send().await.unwrap();
    assert_eq!(pay.status(), 200);
    let paid = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(paid.contains(">paid<"), "the page says paid");
}
on_both_databases!(the_pay_page_speaks_english_for_an_english_shop);

async fn chatshop_pay_pays_a_sandbox_charge_from_the_command_line(app: TestApp) {
    let token = bakery(&app).await;
    let placed = place(&app, &token, &order_body(2, 0)).await;
    app.run_until_idle().await;
    let txid = order(&app, &token, &placed["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let mail = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chatshop"))
            .env("DATABASE_URL", app.database_url())
            .env("CHATSHOP_SECRET_KEY", TEST_SECRET_KEY)
            .env("CHATSHOP_DEMO", "false")
            .env("CHATSHOP_MAIL_DIR", mail.path())
            .env_remove("CI")
            .args(args)
            .output()
            .unwrap()
    };
    let wrong = run(&["pay", &txid, "--amount", "10.00"]);
    assert!(wrong.status.success(), "{}", String::from_utf8_lossy(&wrong.stderr));
    let said: Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert_eq!(said["outcome"], "amount_mismatch");
    // The rest makes the total: the order is paid.
    let paid = run(&["pay", &txid, "--amount", "81.80"]);
    assert!(paid.status.success(), "{}", String::from_utf8_lossy(&paid.stderr));
    let said: Value = serde_json::from_slice(&paid.stdout).unwrap();
    assert!(said["end_to_end_id"].as_str().is_some_and(|e| e.len() == 32), "{said}");
    let after = order(&app, &token, &placed["id"]).await;
    assert_eq!(after["status"], "paid", "{after}");
    assert_eq!(after["payments"].as_array().unwrap().len(), 2);
    let unknown = run(&["pay", "naoexisteessacobranca000000"]);
    assert!(!unknown.status.success(), "an unknown txid is an error");
}
on_both_databases!(chatshop_pay_pays_a_sandbox_charge_from_the_command_line);
