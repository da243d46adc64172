//! Tokens follow the user as they are now: logout, a new password, a removed
//! user or a changed role take effect at once.

use crate::helpers::{TestApp, assert_problem, login, try_login};
use crate::on_both_databases;
use chatshop::db::schema::users;
use diesel::prelude::*;
use serde_json::{Value, json};

async fn logout_revokes_the_callers_tokens(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let second = login(&app, "dono@padaria.com.br", "a long password").await;
    let out = app.post("/v1/auth/logout", &shop.token, &json!({})).await;
    assert_eq!(out.status(), 204);
    assert_problem(app.get("/v1/shop", &shop.token).await, 401, "invalid_token").await;
    assert_problem(app.get("/v1/shop", &second).await, 401, "invalid_token").await;
    let again = login(&app, "dono@padaria.com.br", "a long password").await;
    assert_eq!(app.get("/v1/shop", &again).await.status(), 200, "a new login works");
}
on_both_databases!(logout_revokes_the_callers_tokens);

async fn a_removed_user_is_refused_at_once(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let staff = app.user_token(&shop, "caixa@padaria.com.br", "staff").await;
    assert_eq!(app.get("/v1/products", &staff).await.status(), 200);
    let people: Value = app.get("/v1/users", &shop.token).await.json().await.unwrap();
    let find = |email: &str| {
        people["data"].as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (staff_id, owner_id) = (find("caixa@padaria.com.br"), find("dono@padaria.com.br"));
    assert_problem(app.delete(&format!("/v1/users/{owner_id}"), &staff).await, 403, "forbidden").await;
    assert_problem(app.delete(&format!("/v1/users/{owner_id}"), &shop.token).await, 409, "cannot_remove_self").await;
    assert_eq!(app.delete(&format!("/v1/users/{staff_id}"), &shop.token).await.status(), 204);
    assert_problem(app.get("/v1/products", &staff).await, 401, "invalid_token").await;
    assert_problem(app.delete(&format!("/v1/users/{staff_id}"), &shop.token).await, 404, "not_found").await;
    assert_eq!(try_login(&app, "caixa@padaria.com.br", "a long password").await.status(), 401);

    // Another shop's user cannot be removed from here.
    let other = app.sign_up("Açaí", "dono@acai.com.br").await;
    let other_staff = app.user_token(&other, "caixa@acai.com.br", "staff").await;
    let others: Value = app.get("/v1/users", &other.token).await.json().await.unwrap();
    let other_staff_id = others["data"][1]["id"].as_str().unwrap().to_owned();
    assert_problem(app.delete(&format!("/v1/users/{other_staff_id}"), &shop.token).await, 404, "not_found").await;
    assert_eq!(app.get("/v1/products", &other_staff).await.status(), 200);
}
on_both_databases!(a_removed_user_is_refused_at_once);

async fn a_changed_role_is_refused_at_once(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let staff = app.user_token(&shop, "caixa@padaria.com.br", "staff").await;
    diesel::update(users::table.filter(users::email.eq("caixa@padaria.com.br")))
        .set(users::role.eq("accountant"))
        .execute(&mut app.pool.get().unwrap())
        .unwrap();
    assert_problem(app.get("/v1/products", &staff).await, 401, "invalid_token").await;
}
on_both_databases!(a_changed_role_is_refused_at_once);

async fn changing_a_password_needs_the_old_one_and_revokes_other_tokens(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let put = |token: &str, body: Value| {
        let request = app.client.put(app.url("/v1/auth/password")).bearer_auth(token.to_owned()).json(&body);
        async move { request.send().await.unwrap() }
    };
    let wrong = put(&shop.token, json!({"old_password": "not it at all", "new_password": "a new long password"})).await;
    assert_problem(wrong, 403, "wrong_password").await;
    let short = put(&shop.token, json!({"old_password": "a long password", "new_password": "short"})).await;
    assert_problem(short, 422, "weak_password").await;
    assert_eq!(app.get("/v1/shop", &shop.token).await.status(), 200, "nothing changed yet");

    let changed =
        put(&shop.token, json!({"old_password": "a long password", "new_password": "a new long password"})).await;
    assert_eq!(changed.status(), 200);
    let token = changed.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/shop", &token).await.status(), 200, "the new token works");
    assert_problem(app.get("/v1/shop", &shop.token).await, 401, "invalid_token").await;
    assert_eq!(try_login(&app, "dono@padaria.com.br", "a long password").await.status(), 401);
    login(&app, "dono@padaria.com.br", "a new long password").await;
}
on_both_databases!(changing_a_password_needs_the_old_one_and_revokes_other_tokens);
