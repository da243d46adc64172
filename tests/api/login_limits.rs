//! Login and sign-up cannot flood the machine: failed logins are held per
//! e-mail, and password hashing answers 429 when every slot is busy.

use crate::helpers::{Engine, TestApp, assert_problem, login, shop_body, try_login};
use crate::on_both_databases;

async fn ten_failed_logins_hold_the_email_for_a_while(app: TestApp) {
    app.sign_up("Padaria", "dono@padaria.com.br").await;
    app.sign_up("Açaí", "dono@acai.com.br").await;
    // A success forgets earlier failures.
    for _ in 0..5 {
        assert_eq!(try_login(&app, "dono@padaria.com.br", "wrong password").await.status(), 401);
    }
    login(&app, "dono@padaria.com.br", "a long password").await;
    for attempt in 1..=10 {
        assert_eq!(try_login(&app, "dono@padaria.com.br", "wrong password").await.status(), 401, "attempt {attempt}");
    }
    let held = try_login(&app, "dono@padaria.com.br", "a long password").await;
    let retry_after: u64 = held.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "at most 15 minutes: {retry_after}");
    assert_problem(held, 429, "too_many_attempts").await;
    // Another e-mail from the same address is not held yet.
    login(&app, "dono@acai.com.br", "a long password").await;
}
on_both_databases!(ten_failed_logins_hold_the_email_for_a_while);

async fn hashing_answers_429_when_every_slot_is_busy(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, |c| c.hashing_slots = Some(0)).await else { return };
    let response =
        app.client.post(app.url("/v1/shops")).json(&shop_body("Padaria", "dono@padaria.com.br")).send().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 429, "busy").await;
    assert_problem(try_login(&app, "dono@padaria.com.br", "a long password").await, 429, "busy").await;
}

mod hashing_answers_429_when_every_slot_is_busy {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        hashing_answers_429_when_every_slot_is_busy(Engine::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        hashing_answers_429_when_every_slot_is_busy(Engine::Postgres).await
    }
}
