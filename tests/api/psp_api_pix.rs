//! Orders paid through an API Pix PSP (the Rust fake in tests/support, over
//! HTTPS with mutual TLS): the charge is made at the PSP, its callback is
//! confirmed with the PSP before the order is paid, forged entries change
//! nothing, lost callbacks are found by polling, 500s and expired tokens are
//! retried, a wrong client certificate is refused, refunds settle at the PSP,
//! and the daily sweep keeps a Pix nobody announced.

use crate::checkout::{bakery, order_body, place};
use crate::helpers::{Engine, TestApp};
use crate::support::fake_psp::{FakePsp, client_certificate, test_ca};
use chrono::TimeDelta;
use serde_json::{Value, json};

pub async fn spawn(engine: Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |config| config.psp_ca_file = Some(test_ca().ca_file.path().to_owned())).await
}

pub async fn put_psp(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client.put(app.url("/v1/shop/psp")).bearer_auth(token).json(body).send().await.unwrap()
}

pub async fn order(app: &TestApp, token: &str, id: &Value) -> Value {
    app.get(&format!("/v1/orders/{}", id.as_str().unwrap()), token).await.json().await.unwrap()
}

/// A bakery whose PSP is the fake; returns the owner's token and shop id.
pub async fn shop_on(app: &TestApp, psp: &FakePsp) -> String {
    let token = bakery(app).await;
    let answer = put_psp(app, &token, &psp.settings()).await;
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert!(!text.contains("PRIVATE KEY") && !text.contains("s3cr3t"), "no secret in {text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["kind"], "api_pix");
    assert_eq!(view["webhook_registered"], true);
    assert_eq!(psp.state().webhook_url.as_deref(), view["webhook_url"].as_str(), "registered at the PSP");
    token
}

async fn paid_through_the_psp_callback(app: TestApp) {
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    let placed = place(&app, &token, &order_body(2, 0)).await;
    app.run_until_idle().await;
    let charged = order(&app, &token, &placed["id"]).await;
    let txid = charged["charge"]["txid"].as_str().unwrap().to_owned();
    assert_eq!(charged["charge"]["status"], "active");
    assert_eq!(psp.state().cobs[&txid]["valor"]["original"], "91.80", "the charge is at the PSP");
    assert!(charged["charge"]["pix_copia_e_cola"].as_str().unwrap().contains(&txid));

    // Anyone can post to the callback URL: an entry the PSP does not know changes nothing.
    let forged = json!({"pix": [{"endToEndId": "E99999999202611231200FORGED00001", "txid": txid,
        "valor": "91.80", "horario": "2026-11-23T12:00:00Z"}]});
    let webhook = psp.state().webhook_url.clone().unwrap();
    let answer = app.client.post(format!("{webhook}/pix")).json(&forged).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    app.run_until_idle().await;
    assert_eq!(order(&app, &token, &placed["id"]).await["status"], "pending_payment");

    let e2e = psp.pay(&txid).await;
    app.run_until_idle().await;
    let paid = order(&app, &token, &placed["id"]).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_amount"], "91.80");
    assert_eq!(paid["payments"][0]["end_to_end_id"], e2e.as_str());

    let id = placed["id"].as_str().unwrap();
    let refund =
        app.post(&format!("/v1/orders/{id}/refunds"), &token, &json!({"amount": "91.80", "reason": "x"})).await;
    assert_eq!(refund.status(), 201);
    app.run_until_idle().await;
    let refunded = order(&app, &token, &placed["id"]).await;
    assert_eq!(refunded["refunds"][0]["status"], "settled");
    assert_eq!(refunded["status"], "refunded");
    assert_eq!(psp.state().pix[&e2e]["devolucoes"][0]["valor"], "91.80", "returned at the PSP");
}

async fn psp_faults_lose_nothing(app: TestApp) {
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    // The PSP is down for three calls: the charge is retried, not lost, and
    // polling keeps watching while it is being made.
    psp.state().fail_next = 3;
    let placed = place(&app, &token, &order_body(1, 0)).await;
    for _ in 0..6 {
        app.run_until_idle().await;
        app.clock.advance(TimeDelta::seconds(30));
    }
    let charged = order(&app, &token, &placed["id"]).await;
    assert_eq!(charged["charge"]["status"], "active", "{charged}");
    let txid = charged["charge"]["txid"].as_str().unwrap().to_owned();
    assert_eq!(psp.state().cobs.len(), 1, "one charge at the PSP for all the tries");

    // The token dies early: one new token, and the call goes through.
    let issued = psp.state().tokens_issued;
    psp.expire_tokens();
    // The callback is lost: polling finds the payment.
    psp.state().drop_webhooks = true;
    psp.pay(&txid).await;
    // Polling backs off (1, 2, 4… intervals of 60 s); well before the expiry.
    for _ in 0..2 {
        app.clock.advance(TimeDelta::seconds(300));
        app.run_until_idle().await;
    }
    let after = order(&app, &token, &placed["id"]).await;
    assert_eq!(after["status"], "paid", "found by polling: {after}");
    assert_eq!(psp.state().tokens_issued, issued + 1, "refreshed once");

    // A client certificate the PSP's CA never signed is refused at the handshake.
    let (cert, key) = client_certificate(None);
    let mut wrong = psp.settings();
    wrong["certificate_pem"] = json!(cert);
    wrong["private_key_pem"] = json!(key);
    let refused = put_psp(&app, &token, &wrong).await;
    assert_eq!(refused.status(), 502);
    assert!(psp.state().handshakes_refused > 0);

    // A Pix nobody announced is found by the day's sweep and kept.
    let unannounced = psp.receive_unannounced("12.00");
    app.clock.advance(TimeDelta::hours(26));
    app.run_until_idle().await;
    let payments: Value = app.get("/v1/payments", &token).await.json().await.unwrap();
    let kept = payments["data"].as_array().unwrap();
    assert_eq!(kept.len(), 2, "{payments}");
    assert!(kept.iter().any(|p| p["end_to_end_id"] == unannounced.as_str() && p["amount"] == "12.00"), "{payments}");
}

/// Runs the test on both engines, the app made by `spawn` (or `$spawn`)
/// in the calling module.
#[macro_export]
macro_rules! on_both_with_fake_psp {
    ($name:ident) => {
        $crate::on_both_with_fake_psp!($name, spawn);
    };
    ($name:ident, $spawn:ident) => {
        mod $name {
            use $crate::helpers::Engine;

            #[tokio::test]
            async fn sqlite() {
                if let Some(app) = super::$spawn(Engine::Sqlite).await {
                    super::$name(app).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = super::$spawn(Engine::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

on_both_with_fake_psp!(paid_through_the_psp_callback);
on_both_with_fake_psp!(psp_faults_lose_nothing);
