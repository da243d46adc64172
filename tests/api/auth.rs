use crate::helpers::{JWT_SECRET, TestApp, assert_problem, login, shop_body, try_login};
use crate::on_both_databases;
use serde_json::{Value, json};

async fn sign_up_returns_the_shop_and_a_working_token(app: TestApp) {
    let response = app
        .client
        .post(app.url("/v1/shops"))
        .json(&shop_body("Açaí da Praia", "Ana@Acai.com.br"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["shop"]["name"], "Açaí da Praia");
    assert_eq!(
        body["shop"]["pix"],
        json!({"key": "ana@acai.com.br", "key_type": "email", "merchant_name": "ACAI DA PRAIA", "merchant_city": "SAO PAULO"})
    );
    assert_eq!(body["shop"]["notify"]["whatsapp"], "5511988887777");
    let token = body["token"].as_str().unwrap();
    let me: Value = app.get("/v1/shop", token).await.json().await.unwrap();
    assert_eq!(me["id"], body["shop"]["id"]);

    // The e-mail is matched however it is typed.
    let token = login(&app, "ana@acai.com.br", "a long password").await;
    assert_eq!(app.get("/v1/products", &token).await.status(), 200);
}
on_both_databases!(sign_up_returns_the_shop_and_a_working_token);

async fn login_refuses_wrong_passwords_and_unknown_users_alike(app: TestApp) {
    app.sign_up("Padaria", "dono@padaria.com.br").await;
    for (email, password) in [("dono@padaria.com.br", "wrong password"), ("ninguem@padaria.com.br", "a long password")]
    {
        assert_problem(try_login(&app, email, password).await, 401, "invalid_credentials").await;
    }
}
on_both_databases!(login_refuses_wrong_passwords_and_unknown_users_alike);

async fn sign_up_rejects_bad_input_and_writes_nothing(app: TestApp) {
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"name": "x"}), 422, "invalid_body"),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["pix"] = json!({"key": "123.456.789-00", "key_type": "cpf"});
                b
            },
            422,
            "invalid_pix_key",
        ),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["pix"] = json!({"key": "a@loja.com.br", "key_type": "cpf"});
                b
            },
            422,
            "invalid_pix_key",
        ),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["owner"]["password"] = json!("curta");
                b
            },
            422,
            "weak_password",
        ),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["owner"]["email"] = json!("not-an-email");
                b
            },
            422,
            "invalid_field",
        ),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["notify"]["whatsapp"] = json!("call me");
                b
            },
            422,
            "invalid_field",
        ),
        (
            {
                let mut b = shop_body("  ", "a@loja.com.br");
                b["city"] = json!("Recife");
                b
            },
            422,
            "invalid_field",
        ),
        (
            {
                let mut b = shop_body("Loja", "a@loja.com.br");
                b["name"] = json!(42);
                b
            },
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap();
        assert_problem(response, status, code).await;
    }
    let malformed = app
        .client
        .post(app.url("/v1/shops"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "malformed_json").await;
    // None of the above left a shop or a user behind: once signed up, the
    // e-mail opens one shop (a stray membership would answer choose_shop).
    let shop = app.sign_up("Loja", "a@loja.com.br").await;
    let token = login(&app, "a@loja.com.br", "a long password").await;
    let me: Value = app.get("/v1/shop", &token).await.json().await.unwrap();
    assert_eq!(me["id"], shop.id.as_str());
}
on_both_databases!(sign_up_rejects_bad_input_and_writes_nothing);

/// Pix codes carry at most 25 characters of name and 15 of city: a shop whose
/// own are longer is asked for a short form at sign-up, not at its first sale.
async fn a_long_name_or_city_needs_a_short_form_for_pix(app: TestApp) {
    let mut body = shop_body("Padaria e Confeitaria Doce Lar", "dona@docelar.com.br");
    body["city"] = json!("São Bernardo do Campo");
    let problem =
        assert_problem(app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap(), 422, "invalid_field")
            .await;
    assert_eq!(problem["field"], "pix.merchant_name");
    body["pix"]["merchant_name"] = json!("Doce Lar");
    let problem =
        assert_problem(app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap(), 422, "invalid_field")
            .await;
    assert_eq!(problem["field"], "pix.merchant_city");
    body["pix"]["merchant_city"] = json!("São Bernardo");
    let created = app.client.post(app.url("/v1/shops")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let shop: Value = created.json().await.unwrap();
    assert_eq!(shop["shop"]["name"], "Padaria e Confeitaria Doce Lar");
    assert_eq!(
        (shop["shop"]["pix"]["merchant_name"].as_str(), shop["shop"]["pix"]["merchant_city"].as_str()),
        (Some("DOCE LAR"), Some("SAO BERNARDO"))
    );
}
on_both_databases!(a_long_name_or_city_needs_a_short_form_for_pix);

async fn roles_are_enforced_on_every_route(app: TestApp) {
    let shop = app.sign_up("Moda Ipanema", "dona@moda.com.br").await;
    let staff = app.user_token(&shop, "caixa@moda.com.br", "staff").await;
    let accountant = app.user_token(&shop, "contador@moda.com.br", "accountant").await;
    let product = app.create_product(&staff, "VEST-AZ-P", "Vestido azul P", "189.90").await;
    let product_path = format!("/v1/products/{}", product["id"].as_str().unwrap());

    // The accountant reads and exports, never writes.
    assert_eq!(app.get("/v1/products", &accountant).await.status(), 200);
    assert_eq!(app.get(&product_path, &accountant).await.status(), 200);
    assert_eq!(app.get("/v1/catalog/feed.csv", &accountant).await.status(), 200);
    let writes = [
        app.post("/v1/products", &accountant, &json!({"retailer_id": "X", "name": "X", "price": "1.00"})).await,
        app.patch(&product_path, &accountant, &json!({"price": "1.00"})).await,
        app.delete(&product_path, &accountant).await,
        app.import(&accountant, "id,title,price\nX,X,1.00 BRL\n", "").await,
        app.post(
            "/v1/users",
            &accountant,
            &json!({"email": "x@moda.com.br", "password": "a long password", "role": "staff"}),
        )
        .await,
    ];
    for response in writes {
        assert_problem(response, 403, "forbidden").await;
    }
    // Staff run the catalogue but not the shop's users.
    assert_eq!(app.patch(&product_path, &staff, &json!({"stock": 3})).await.status(), 200);
    let adding = app
        .post("/v1/users", &staff, &json!({"email": "y@moda.com.br", "password": "a long password", "role": "staff"}))
        .await;
    assert_problem(adding, 403, "forbidden").await;
    assert_problem(app.get("/v1/users", &staff).await, 403, "forbidden").await;
    // The owner sees all three users and cannot add a second owner.
    let users: Value = app.get("/v1/users", &shop.token).await.json().await.unwrap();
    assert_eq!(users["data"].as_array().unwrap().len(), 3);
    let second_owner = app
        .post(
            "/v1/users",
            &shop.token,
            &json!({"email": "z@moda.com.br", "password": "a long password", "role": "owner"}),
        )
        .await;
    assert_problem(second_owner, 422, "invalid_role").await;
    let unknown_role = app
        .post(
            "/v1/users",
            &shop.token,
            &json!({"email": "z@moda.com.br", "password": "a long password", "role": "boss"}),
        )
        .await;
    assert_problem(unknown_role, 422, "invalid_body").await;
}
on_both_databases!(roles_are_enforced_on_every_route);

fn forge(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn expired_tampered_and_missing_tokens_are_refused(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": uuid::Uuid::new_v4(), "shop": shop.id, "role": "owner", "iat": now - 7200, "exp": exp});

    let expired = forge(claims(now - 60), JWT_SECRET);
    assert_problem(app.get("/v1/products", &expired).await, 401, "invalid_token").await;
    let wrong_key = forge(claims(now + 600), "some other secret entirely");
    assert_problem(app.get("/v1/products", &wrong_key).await, 401, "invalid_token").await;
    // A token whose payload was edited to claim another role.
    let mut parts: Vec<String> = shop.token.split('.').map(str::to_owned).collect();
    let payload = String::from_utf8(base64_url_decode(&parts[1])).unwrap().replace("\"owner\"", "\"staff\"");
    parts[1] = base64_url_encode(payload.as_bytes());
    assert_problem(app.get("/v1/products", &parts.join(".")).await, 401, "invalid_token").await;
    assert_problem(app.get("/v1/products", "not.a.token").await, 401, "invalid_token").await;
    let anonymous = app.client.get(app.url("/v1/products")).send().await.unwrap();
    assert_problem(anonymous, 401, "unauthenticated").await;
    // A well-signed token for no user of the shop is refused: tokens are
    // checked against the user as they are now.
    assert_problem(app.get("/v1/products", &forge(claims(now + 600), JWT_SECRET)).await, 401, "invalid_token").await;
    assert_eq!(app.get("/v1/products", &shop.token).await.status(), 200);
}
on_both_databases!(expired_tampered_and_missing_tokens_are_refused);

#[tokio::test]
async fn sign_up_needs_the_admin_token_when_one_is_set() {
    let app = TestApp::spawn_with(crate::helpers::Engine::Sqlite, |c| c.admin_token = Some("let-me-in".into()))
        .await
        .unwrap();
    let refused = app.client.post(app.url("/v1/shops")).json(&shop_body("Loja", "a@loja.com.br")).send().await.unwrap();
    assert_problem(refused, 401, "admin_token_required").await;
    let allowed = app
        .client
        .post(app.url("/v1/shops"))
        .bearer_auth("let-me-in")
        .json(&shop_body("Loja", "a@loja.com.br"))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 201);
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64_url_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

fn base64_url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
