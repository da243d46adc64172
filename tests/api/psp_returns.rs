//! What comes back from an API Pix PSP after a payment, against the fake
//! PSP: returns the shop did not ask for (MED), a refund the PSP does not
//! make (NAO_REALIZADO), and callbacks in every shape, only ever for the
//! shop's own key and charges.

use crate::checkout::{order_body, place};
use crate::helpers::TestApp;
use crate::on_both_with_fake_psp;
use crate::psp_api_pix::{order, put_psp, shop_on, spawn};
use crate::support::fake_psp::FakePsp;
use chrono::TimeDelta;
use serde_json::{Value, json};

/// An order of one cake (45.90) paid through the fake PSP: its id and endToEndId.
async fn paid(app: &TestApp, psp: &FakePsp, token: &str) -> (Value, String) {
    let placed = place(app, token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let txid = order(app, token, &placed["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let e2e = psp.pay(&txid).await;
    app.run_until_idle().await;
    assert_eq!(order(app, token, &placed["id"]).await["status"], "paid");
    (placed["id"].clone(), e2e)
}

async fn returns_the_shop_did_not_ask_for_are_kept_and_flag_the_order(app: TestApp) {
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    let (id, e2e) = paid(&app, &psp, &token).await;
    let first = psp.med_return(&e2e, "20.00", "MED_OPERACIONAL").await;
    app.run_until_idle().await;
    let partly = order(&app, &token, &id).await;
    assert!(partly["flags"].as_array().unwrap().contains(&json!("returned_by_psp")), "{partly}");
    assert_eq!(partly["status"], "partially_refunded");
    assert_eq!(partly["refunded_amount"], "20.00");
    let refunds = partly["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["id"], first.as_str());
    assert_eq!(refunds[0]["initiated_by"], "psp");
    assert_eq!(refunds[0]["nature"], "MED_OPERACIONAL");
    assert_eq!(refunds[0]["status"], "settled");

    // The same callback again changes nothing; a second return (fraud) takes the rest.
    psp.med_return(&e2e, "25.90", "MED_FRAUDE").await;
    app.run_until_idle().await;
    let back = order(&app, &token, &id).await;
    assert_eq!(back["status"], "refunded", "{back}");
    assert_eq!(back["refunded_amount"], "45.90");
    assert_eq!(back["refunds"].as_array().unwrap().len(), 2);
    let path = format!("/v1/orders/{}/refunds", id.as_str().unwrap());
    let left = app.post(&path, &token, &json!({"amount": "0.01"})).await;
    assert_eq!(left.status(), 422, "nothing is left to give back");
}

async fn a_refund_the_psp_does_not_make_fails_and_the_order_stays_paid(app: TestApp) {
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    let (id, e2e) = paid(&app, &psp, &token).await;
    psp.state().refunds_settle_as = Some("NAO_REALIZADO");
    let path = format!("/v1/orders/{}/refunds", id.as_str().unwrap());
    let asked = app.post(&path, &token, &json!({"amount": "10.00", "reason": "faltou"})).await;
    assert_eq!(asked.status(), 201);
    for _ in 0..3 {
        app.run_until_idle().await;
        app.clock.advance(TimeDelta::seconds(60));
    }
    let after = order(&app, &token, &id).await;
    assert_eq!(after["refunds"][0]["status"], "failed", "{after}");
    assert_eq!(after["status"], "paid");
    assert_eq!(after["refunded_amount"], "0.00");
    assert_eq!(psp.state().pix[&e2e]["devolucoes"][0]["status"], "NAO_REALIZADO");

    // A refused refund gives nothing back, so the whole amount can still be.
    psp.state().refunds_settle_as = Some("DEVOLVIDO");
    assert_eq!(app.post(&path, &token, &json!({"amount": "45.90"})).await.status(), 201);
    for _ in 0..3 {
        app.run_until_idle().await;
        app.clock.advance(TimeDelta::seconds(60));
    }
    let refunded = order(&app, &token, &id).await;
    assert_eq!(refunded["status"], "refunded", "{refunded}");
    assert_eq!(refunded["refunded_amount"], "45.90");
}

async fn post(app: &TestApp, url: &str, body: &Value) {
    let answer = app.client.post(url).json(body).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{url}");
}

async fn callbacks_in_every_shape_count_only_for_the_shop_s_own_pix(app: TestApp) {
    let psp = FakePsp::start();
    psp.state().drop_webhooks = true;
    let token = shop_on(&app, &psp).await;
    let ours = psp.state().webhook_url.clone().unwrap();
    // Another shop with an account at the same PSP (bacen/pix-api#239).
    let other = app.sign_up("Doceria Rival", "dono@rival.com.br").await;
    for (sku, name) in [("BOLO-CHOC", "Bolo"), ("PAO", "Pão")] {
        app.post("/v1/products", &other.token, &json!({"retailer_id": sku, "name": name, "price": "45.90"})).await;
    }
    app.clock.advance(TimeDelta::seconds(1));
    assert_eq!(put_psp(&app, &other.token, &psp.settings()).await.status(), 200);
    let theirs = psp.state().webhook_url.clone().unwrap();
    assert_ne!(ours, theirs);

    let mine = place(&app, &token, &order_body(1, 0)).await;
    let rival = place(&app, &other.token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let rival_txid = order(&app, &other.token, &rival["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let rival_e2e = psp.pay(&rival_txid).await;
    let rival_pix = psp.state().pix[&rival_e2e].clone();

    // The rival's real Pix aimed at our URL, as a bare array (Banco Inter)
    // and without its key: the PSP vouches for it, but it went to another
    // key for another shop's charge, so it is not ours.
    let mut bare = rival_pix.clone();
    bare.as_object_mut().unwrap().remove("chave");
    post(&app, &ours, &json!([bare])).await;
    // With its key: not even looked at.
    post(&app, &format!("{ours}/pix"), &json!({"pix": [rival_pix]})).await;
    app.run_until_idle().await;
    let payments: Value = app.get("/v1/payments", &token).await.json().await.unwrap();
    assert_eq!(payments["data"], json!([]), "no payment of the rival's is ours");

    // The rival's own callback, the spec's shape on the URL as registered.
    post(&app, &theirs, &json!({"pix": [rival_pix]})).await;
    app.run_until_idle().await;
    assert_eq!(order(&app, &other.token, &rival["id"]).await["status"], "paid", "it still pays the rival's order");

    // Our payment as a bare array on URL + /pix (Efí's suffix).
    let txid = order(&app, &token, &mine["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let e2e = psp.pay(&txid).await;
    let entry = psp.state().pix[&e2e].clone();
    post(&app, &format!("{ours}/pix"), &json!([entry])).await;
    app.run_until_idle().await;
    let paid = order(&app, &token, &mine["id"]).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_eq!(paid["payments"][0]["end_to_end_id"], e2e.as_str());
}

/// A shop that changes its Pix key still gets the Pix for charges issued
/// for the old one: the key a payment must go to is the charge's.
async fn a_charge_issued_before_the_shop_changed_its_key_still_pays(app: TestApp) {
    use diesel::RunQueryDsl;
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    let placed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let txid = order(&app, &token, &placed["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let changed = diesel::sql_query("UPDATE shops SET pix_key = 'nova-chave@doce.lar', pix_key_type = 'email'")
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(changed, 1);
    let e2e = psp.pay(&txid).await;
    assert!(psp.state().pix[&e2e]["chave"].as_str().is_some_and(|k| k != "nova-chave@doce.lar"), "paid to the old key");
    app.run_until_idle().await;
    let paid = order(&app, &token, &placed["id"]).await;
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_eq!(paid["payments"][0]["end_to_end_id"], e2e.as_str());

    // A new order's charge is made for the new key.
    let next = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let next_txid = order(&app, &token, &next["id"]).await["charge"]["txid"].as_str().unwrap().to_owned();
    let next_e2e = psp.pay(&next_txid).await;
    assert_eq!(psp.state().pix[&next_e2e]["chave"], "nova-chave@doce.lar");
    app.run_until_idle().await;
    assert_eq!(order(&app, &token, &next["id"]).await["status"], "paid");
}

on_both_with_fake_psp!(a_charge_issued_before_the_shop_changed_its_key_still_pays);
on_both_with_fake_psp!(returns_the_shop_did_not_ask_for_are_kept_and_flag_the_order);
on_both_with_fake_psp!(a_refund_the_psp_does_not_make_fails_and_the_order_stays_paid);
on_both_with_fake_psp!(callbacks_in_every_shape_count_only_for_the_shop_s_own_pix);
