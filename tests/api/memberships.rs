//! One person, several shops: an e-mail is unique per shop, a login names a
//! shop or is told to choose, each membership keeps its own password, and
//! nothing about one shop's people shows through another.

use crate::helpers::{TestApp, TestShop, assert_problem, login, try_login};
use crate::on_both_databases;
use serde_json::{Value, json};

const PASSWORD: &str = "a long password";

async fn login_to(app: &TestApp, email: &str, password: &str, shop: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password, "shop_id": shop}))
        .send()
        .await
        .unwrap()
}

async fn token_for(app: &TestApp, email: &str, password: &str, shop: &str) -> String {
    let response = login_to(app, email, password, shop).await;
    assert_eq!(response.status(), 200, "login of {email} to {shop}");
    response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn shop_of(app: &TestApp, token: &str) -> String {
    let shop: Value = app.get("/v1/shop", token).await.json().await.unwrap();
    shop["id"].as_str().unwrap().to_owned()
}

async fn add_user(app: &TestApp, shop: &TestShop, email: &str, password: &str, role: &str) -> reqwest::Response {
    app.post("/v1/users", &shop.token, &json!({"email": email, "password": password, "role": role})).await
}

/// The shops a `choose_shop` answer lists, as (id, name), sorted by name.
async fn choices(response: reqwest::Response) -> Vec<(String, String)> {
    let problem = assert_problem(response, 409, "choose_shop").await;
    let mut shops: Vec<(String, String)> = problem["shops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_owned(), s["name"].as_str().unwrap().to_owned()))
        .collect();
    shops.sort_by(|a, b| a.1.cmp(&b.1));
    shops
}

async fn one_email_logs_into_two_shops(app: TestApp) {
    let bakery = app.sign_up("Padaria", "ana@exemplo.com.br").await;
    // Signing up a second shop with the same e-mail works.
    let acai = app.sign_up("Açaí", "Ana@Exemplo.com.br").await;
    let third = app.sign_up("Moda", "dona@moda.com.br").await;

    let listed = choices(try_login(&app, "ana@exemplo.com.br", PASSWORD).await).await;
    assert_eq!(listed, [(acai.id.clone(), "Açaí".to_owned()), (bakery.id.clone(), "Padaria".to_owned())]);
    for shop in [&bakery, &acai] {
        let token = token_for(&app, "ANA@exemplo.com.br", PASSWORD, &shop.id).await;
        assert_eq!(shop_of(&app, &token).await, shop.id);
    }
    // A shop she is no user of, a shop that does not exist, a wrong password:
    // the same 401, whatever the shop.
    for shop in [third.id.clone(), uuid::Uuid::now_v7().to_string()] {
        assert_problem(login_to(&app, "ana@exemplo.com.br", PASSWORD, &shop).await, 401, "invalid_credentials").await;
    }
    assert_problem(
        login_to(&app, "ana@exemplo.com.br", "wrong password", &bakery.id).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_problem(try_login(&app, "ana@exemplo.com.br", "wrong password").await, 401, "invalid_credentials").await;

    // A third membership with another password is listed only for that one.
    assert_eq!(
        add_user(&app, &third, "ana@exemplo.com.br", "the shop's own password", "accountant").await.status(),
        201
    );
    let listed = choices(try_login(&app, "ana@exemplo.com.br", PASSWORD).await).await;
    assert_eq!(listed.len(), 2, "the third shop is not shown: {listed:?}");
    let token = login(&app, "ana@exemplo.com.br", "the shop's own password").await;
    assert_eq!(shop_of(&app, &token).await, third.id, "the one shop it opens logs in at once");
}
on_both_databases!(one_email_logs_into_two_shops);

fn order(customer: &str, sku: &str) -> Value {
    json!({"customer": {"name": customer, "whatsapp": "+55 11 98888-7777"}, "items": [{"retailer_id": sku, "quantity": 1}]})
}

async fn an_accountant_of_two_shops_sees_each_only_under_its_token(app: TestApp) {
    let mut shops = Vec::new();
    for (name, owner, sku, customer) in
        [("Padaria", "dono@padaria.com.br", "BOLO-CHOC", "Beatriz"), ("Açaí", "dono@acai.com.br", "ACAI-500", "Carla")]
    {
        let shop = app.sign_up(name, owner).await;
        app.create_product(&shop.token, sku, name, "20.00").await;
        assert_eq!(app.post("/v1/orders", &shop.token, &order(customer, sku)).await.status(), 201);
        assert_eq!(add_user(&app, &shop, "contador@escritorio.com.br", PASSWORD, "accountant").await.status(), 201);
        shops.push((shop, sku, customer));
    }
    assert_eq!(choices(try_login(&app, "contador@escritorio.com.br", PASSWORD).await).await.len(), 2);
    // Yesterday to tomorrow in São Paulo: today's orders, whatever the hour.
    let today = (app.clock.now() - chrono::TimeDelta::hours(3)).date();
    let period = format!("from={}&to={}", today.pred_opt().unwrap(), today.succ_opt().unwrap());
    for (i, (shop, sku, customer)) in shops.iter().enumerate() {
        let (_, other_sku, other_customer) = &shops[1 - i];
        let token = token_for(&app, "contador@escritorio.com.br", PASSWORD, &shop.id).await;
        let products: Value = app.get("/v1/products", &token).await.json().await.unwrap();
        let skus: Vec<&str> =
            products["data"].as_array().unwrap().iter().map(|p| p["retailer_id"].as_str().unwrap()).collect();
        assert_eq!(skus, [*sku]);
        let orders: Value = app.get("/v1/orders", &token).await.json().await.unwrap();
        let names: Vec<&str> =
            orders["data"].as_array().unwrap().iter().map(|o| o["customer"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, [*customer]);
        let export = app.get(&format!("/v1/exports/orders?{period}"), &token).await;
        assert_eq!(export.status(), 200);
        let csv = export.text().await.unwrap();
        assert!(csv.contains(customer) && !csv.contains(other_customer), "{csv}");
        assert!(!products.to_string().contains(other_sku));
        // An accountant still only reads.
        assert_problem(app.post("/v1/orders", &token, &order("Dora", sku)).await, 403, "forbidden").await;
    }
}
on_both_databases!(an_accountant_of_two_shops_sees_each_only_under_its_token);

/// Everything an answer to `POST /v1/users` shows, with the ids taken out.
async fn shape(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.unwrap();
    let object = body.as_object_mut().unwrap();
    assert!(object.remove("id").is_some_and(|id| id.is_string()));
    (status, body)
}

async fn adding_an_email_known_elsewhere_answers_like_a_new_one(app: TestApp) {
    let bakery = app.sign_up("Padaria", "dono@padaria.com.br").await;
    assert_eq!(add_user(&app, &bakery, "caixa@exemplo.com.br", "the bakery's password", "staff").await.status(), 201);
    let bakery_staff = login(&app, "caixa@exemplo.com.br", "the bakery's password").await;

    let acai = app.sign_up("Açaí", "dono@acai.com.br").await;
    let known = shape(add_user(&app, &acai, "caixa@exemplo.com.br", "the açaí's password", "staff").await).await;
    let new = shape(add_user(&app, &acai, "novo@exemplo.com.br", "the açaí's password", "staff").await).await;
    assert_eq!(known.0, 201);
    let same_but_email = |(status, mut body): (u16, Value)| {
        body["email"] = json!("…");
        (status, body)
    };
    assert_eq!(same_but_email(known), same_but_email(new));

    // The same e-mail twice in one shop is refused, as before.
    let twice = add_user(&app, &acai, "CAIXA@exemplo.com.br", "yet another password", "accountant").await;
    assert_problem(twice, 409, "email_taken").await;

    // The açaí's owner set a password for the açaí only: it opens nothing at
    // the bakery, and the bakery's password and token are untouched.
    assert_problem(
        login_to(&app, "caixa@exemplo.com.br", "the açaí's password", &bakery.id).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(shop_of(&app, &login(&app, "caixa@exemplo.com.br", "the açaí's password").await).await, acai.id);
    assert_eq!(shop_of(&app, &bakery_staff).await, bakery.id, "the bakery's token still works");
    assert_eq!(shop_of(&app, &login(&app, "caixa@exemplo.com.br", "the bakery's password").await).await, bakery.id);
    // And the açaí's list of users shows its own people only.
    let people: Value = app.get("/v1/users", &acai.token).await.json().await.unwrap();
    assert!(people["data"].as_array().unwrap().iter().all(|u| u["shop_id"] == acai.id.as_str()));
}
on_both_databases!(adding_an_email_known_elsewhere_answers_like_a_new_one);

async fn change_password(app: &TestApp, token: &str, old: &str, new: &str) -> reqwest::Response {
    app.client
        .put(app.url("/v1/auth/password"))
        .bearer_auth(token)
        .json(&json!({"old_password": old, "new_password": new}))
        .send()
        .await
        .unwrap()
}

async fn a_new_password_goes_to_every_membership_the_old_one_opened(app: TestApp) {
    let bakery = app.sign_up("Padaria", "ana@exemplo.com.br").await;
    let acai = app.sign_up("Açaí", "ana@exemplo.com.br").await;
    let fashion = app.sign_up("Moda", "dona@moda.com.br").await;
    assert_eq!(
        add_user(&app, &fashion, "ana@exemplo.com.br", "fashion's own password", "accountant").await.status(),
        201
    );
    let fashion_token = login(&app, "ana@exemplo.com.br", "fashion's own password").await;

    let wrong = change_password(&app, &acai.token, "fashion's own password", "a brand new password").await;
    assert_problem(wrong, 403, "wrong_password").await;
    let changed = change_password(&app, &acai.token, PASSWORD, "a brand new password").await;
    assert_eq!(changed.status(), 200);
    let new_token = changed.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(shop_of(&app, &new_token).await, acai.id);
    // Both memberships it opened changed and lost their tokens.
    for old in [&bakery.token, &acai.token] {
        assert_problem(app.get("/v1/shop", old).await, 401, "invalid_token").await;
    }
    assert_problem(try_login(&app, "ana@exemplo.com.br", PASSWORD).await, 401, "invalid_credentials").await;
    let listed = choices(try_login(&app, "ana@exemplo.com.br", "a brand new password").await).await;
    assert_eq!(listed.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), [acai.id.clone(), bakery.id.clone()]);
    // The membership with its own password kept it, and its token.
    assert_eq!(shop_of(&app, &fashion_token).await, fashion.id);
    assert_eq!(shop_of(&app, &login(&app, "ana@exemplo.com.br", "fashion's own password").await).await, fashion.id);
}
on_both_databases!(a_new_password_goes_to_every_membership_the_old_one_opened);

/// A password that opens one shop must not wipe the failed guesses at
/// another's: else the owner who set it could guess on without limit.
async fn one_shops_password_does_not_clear_failures_at_another(app: TestApp) {
    let bakery = app.sign_up("Padaria", "ana@exemplo.com.br").await;
    let acai = app.sign_up("Açaí", "dono@acai.com.br").await;
    assert_eq!(add_user(&app, &acai, "ana@exemplo.com.br", "the açaí's password", "staff").await.status(), 201);
    for attempt in 1..=9 {
        let guess = login_to(&app, "ana@exemplo.com.br", "a guess at hers", &bakery.id).await;
        assert_eq!(guess.status(), 401, "attempt {attempt}");
    }
    token_for(&app, "ana@exemplo.com.br", "the açaí's password", &acai.id).await;
    assert_eq!(login_to(&app, "ana@exemplo.com.br", "a guess at hers", &bakery.id).await.status(), 401);
    let held = login_to(&app, "ana@exemplo.com.br", PASSWORD, &bakery.id).await;
    assert_problem(held, 429, "too_many_attempts").await;
}
on_both_databases!(one_shops_password_does_not_clear_failures_at_another);
