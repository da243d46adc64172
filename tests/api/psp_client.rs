//! The API Pix client against the fake PSP, where a real PSP differs from
//! the happy path: the shop's certificate as a PKCS#12 file (OpenSSL 3's
//! default and the legacy ciphers), a PSP that hangs past
//! CHATSHOP_PSP_TIMEOUT_SECONDS after making the charge (the retry meets 409
//! txid_duplicado and reads the charge back), and the PSP's refusals shown
//! to the shop in the PSP's own words.

use crate::checkout::{bakery, order_body, place};
use crate::helpers::{TestApp, assert_problem};
use crate::on_both_with_fake_psp;
use crate::psp_api_pix::{order, put_psp, shop_on, spawn};
use crate::support::fake_psp::{FakePsp, client_pkcs12, test_ca};
use base64::Engine as _;
use chrono::TimeDelta;
use p12_keystore::EncryptionAlgorithm;
use serde_json::{Value, json};

fn pkcs12_settings(psp: &FakePsp, p12: &[u8], password: &str) -> Value {
    let mut body = psp.settings();
    let object = body.as_object_mut().unwrap();
    object.remove("certificate_pem");
    object.remove("private_key_pem");
    object.insert("pkcs12_base64".into(), json!(base64::engine::general_purpose::STANDARD.encode(p12)));
    object.insert("pkcs12_password".into(), json!(password));
    body
}

/// Places an order and has the fake PSP's payer pay it; the order's view.
async fn paid_order(app: &TestApp, psp: &FakePsp, token: &str) -> Value {
    let placed = place(app, token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let charged = order(app, token, &placed["id"]).await;
    assert_eq!(charged["charge"]["status"], "active", "{charged}");
    psp.pay(charged["charge"]["txid"].as_str().unwrap()).await;
    app.run_until_idle().await;
    order(app, token, &placed["id"]).await
}

async fn a_pkcs12_certificate_gets_an_order_paid(app: TestApp) {
    let psp = FakePsp::start();
    let token = bakery(&app).await;
    // The fake PSP takes no connection without a certificate its CA signed:
    // an order paid through it shows the file's certificate was presented.
    for algorithm in [
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
        EncryptionAlgorithm::PbeWithShaAnd40BitRc4Cbc,
    ] {
        let p12 = client_pkcs12("senha-do-banco", algorithm);
        // A new version of the settings each time (cached clients go).
        app.clock.advance(TimeDelta::seconds(1));
        let answer = put_psp(&app, &token, &pkcs12_settings(&psp, &p12, "senha-do-banco")).await;
        assert_eq!(answer.status(), 200, "{algorithm:?}: {}", answer.text().await.unwrap());
        let paid = paid_order(&app, &psp, &token).await;
        assert_eq!(paid["status"], "paid", "{algorithm:?}: {paid}");
    }
    assert_eq!(psp.state().handshakes_refused, 0);

    let p12 = client_pkcs12("senha-do-banco", EncryptionAlgorithm::PbeWithHmacSha256AndAes256);
    let wrong = put_psp(&app, &token, &pkcs12_settings(&psp, &p12, "outra-senha")).await;
    let problem = assert_problem(wrong, 422, "invalid_field").await;
    assert_eq!(problem["field"], "pkcs12_password");
    assert!(problem["detail"].as_str().unwrap().contains("password is wrong"), "{problem}");
    let mut garbage = pkcs12_settings(&psp, b"not a PKCS#12 file", "x");
    let problem = assert_problem(put_psp(&app, &token, &garbage).await, 422, "invalid_field").await;
    assert_eq!(problem["field"], "pkcs12_base64");
    garbage["pkcs12_base64"] = json!("%%% not base64");
    let problem = assert_problem(put_psp(&app, &token, &garbage).await, 422, "invalid_field").await;
    assert_eq!(problem["field"], "pkcs12_base64");
    // What was refused was not stored: the last good file still pays.
    let paid = paid_order(&app, &psp, &token).await;
    assert_eq!(paid["status"], "paid", "{paid}");
}

async fn spawn_with_short_timeout(engine: crate::helpers::Engine) -> Option<TestApp> {
    TestApp::spawn_with(engine, |config| {
        config.psp_ca_file = Some(test_ca().ca_file.path().to_owned());
        config.psp_timeout_seconds = 1;
    })
    .await
}

async fn a_stalled_psp_times_out_and_the_retry_is_the_same_charge(app: TestApp) {
    let psp = FakePsp::start();
    let token = shop_on(&app, &psp).await;
    {
        let mut state = psp.state();
        state.stall_next = 1;
        state.stall = std::time::Duration::from_secs(5);
    }
    let placed = place(&app, &token, &order_body(1, 0)).await;
    let started = std::time::Instant::now();
    app.run_until_idle().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the call gave up after 1 s, not 5");
    let waiting = order(&app, &token, &placed["id"]).await;
    assert_eq!(waiting["charge"]["status"], "pending", "{waiting}");
    assert_eq!(psp.state().cob_puts, 1);
    assert_eq!(psp.state().cobs.len(), 1, "the PSP made the charge before it hung");

    // The retry's PUT /cob meets 409 txid_duplicado: the charge is read
    // back, found to be the one asked for, and used.
    app.clock.advance(TimeDelta::seconds(30));
    app.run_until_idle().await;
    let charged = order(&app, &token, &placed["id"]).await;
    assert_eq!(charged["charge"]["status"], "active", "{charged}");
    assert_eq!(psp.state().cob_puts, 2, "one retry");
    assert_eq!(psp.state().cobs.len(), 1, "one charge at the PSP");
    let txid = charged["charge"]["txid"].as_str().unwrap().to_owned();
    assert_eq!(charged["charge"]["pix_copia_e_cola"], psp.state().cobs[&txid]["pixCopiaECola"]);
    psp.pay(&txid).await;
    app.run_until_idle().await;
    let paid = order(&app, &token, &placed["id"]).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payments"].as_array().unwrap().len(), 1);
}

async fn the_psp_s_refusals_reach_the_shop_in_its_words(app: TestApp) {
    let psp = FakePsp::start();
    let token = bakery(&app).await;
    psp.state().refuse_webhook = Some((
        400,
        json!({"type": "https://pix.bcb.gov.br/api/v2/error/WebhookOperacaoInvalida", "title": "Webhook inválido.",
            "status": 400, "detail": "A requisição que busca alterar ou criar um webhook não respeita o schema.",
            "violacoes": [{"razao": "webhookUrl deve ser https", "propriedade": "webhookUrl"}]}),
    ));
    let refused = put_psp(&app, &token, &psp.settings()).await;
    assert_eq!(refused.status(), 502);
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "psp_error");
    assert_eq!(problem["psp_title"], "Webhook inválido.");
    assert_eq!(problem["psp_detail"], "A requisição que busca alterar ou criar um webhook não respeita o schema.");
    assert_eq!(problem["psp_violations"], json!(["webhookUrl: webhookUrl deve ser https"]));
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("Webhook inválido.") && detail.contains("webhookUrl deve ser https"), "{detail}");
    // Settings the PSP refused are not stored: the shop still charges in the sandbox.
    let sandboxed = place(&app, &token, &order_body(1, 0)).await;
    app.run_until_idle().await;
    let sandboxed = order(&app, &token, &sandboxed["id"]).await;
    assert_eq!(sandboxed["charge"]["status"], "active", "{sandboxed}");
    assert!(psp.state().cobs.is_empty() && psp.state().cob_puts == 0);

    psp.state().refuse_webhook = None;
    app.clock.advance(TimeDelta::seconds(1));
    assert_eq!(put_psp(&app, &token, &psp.settings()).await.status(), 200);
    psp.state().refuse_cob = Some((
        400,
        json!({"type": "https://pix.bcb.gov.br/api/v2/error/CobOperacaoInvalida", "title": "Cobrança inválida.",
            "status": 400, "detail": "A requisição que busca alterar ou criar uma cobrança não respeita o schema.",
            "violacoes": [{"razao": "O campo cob.chave não corresponde a uma chave do recebedor", "propriedade": "cob.chave"}]}),
    ));
    let placed = place(&app, &token, &order_body(1, 0)).await;
    for _ in 0..3 {
        app.run_until_idle().await;
        app.clock.advance(TimeDelta::seconds(30));
    }
    assert_eq!(psp.state().cob_puts, 1, "a refusal is not retried");
    let failed = order(&app, &token, &placed["id"]).await;
    assert_eq!(failed["charge"]["status"], "failed", "{failed}");
    let error = failed["charge"]["error"].as_str().unwrap();
    assert!(error.contains("Cobrança inválida."), "{error}");
    assert!(error.contains("cob.chave: O campo cob.chave não corresponde a uma chave do recebedor"), "{error}");
}

on_both_with_fake_psp!(a_pkcs12_certificate_gets_an_order_paid);
on_both_with_fake_psp!(a_stalled_psp_times_out_and_the_retry_is_the_same_charge, spawn_with_short_timeout);
on_both_with_fake_psp!(the_psp_s_refusals_reach_the_shop_in_its_words);
