use crate::helpers::{TestApp, assert_problem};
use crate::on_both_databases;
use serde_json::{Value, json};

async fn a_product_is_created_read_changed_and_deleted(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let body = json!({
        "retailer_id": "BOLO-CHOC", "name": "Bolo de Chocolate", "description": "Com brigadeiro, 1,5 kg",
        "price": "45.9", "sale_price": "39.90", "stock": 6, "availability": "in stock",
        "image_url": "https://padaria.com.br/bolo.jpg", "link": "https://padaria.com.br/bolo",
        "brand": "Padaria", "category": "Bolos"
    });
    let created = app.post("/v1/products", &shop.token, &body).await;
    assert_eq!(created.status(), 201);
    let product: Value = created.json().await.unwrap();
    assert_eq!(product["price"], "45.90");
    assert_eq!(product["sale_price"], "39.90");
    assert_eq!(product["stock"], 6);
    let path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    assert_eq!(app.get(&path, &shop.token).await.json::<Value>().await.unwrap(), product);

    let changed: Value = app
        .patch(
            &path,
            &shop.token,
            &json!({"price": "49.90", "sale_price": null, "stock": null, "name": "Bolo Trufado"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["price"], "49.90");
    assert_eq!(changed["sale_price"], Value::Null);
    assert_eq!(changed["stock"], Value::Null, "null stock means unlimited");
    assert_eq!(changed["name"], "Bolo Trufado");
    assert_eq!(changed["description"], "Com brigadeiro, 1,5 kg", "untouched fields stay");

    assert_eq!(app.delete(&path, &shop.token).await.status(), 204);
    assert_problem(app.get(&path, &shop.token).await, 404, "not_found").await;
    assert_problem(app.delete(&path, &shop.token).await, 404, "not_found").await;
}
on_both_databases!(a_product_is_created_read_changed_and_deleted);

async fn bad_products_are_refused_with_the_field_named(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let base = json!({"retailer_id": "PAO", "name": "Pão", "price": "5.00"});
    let with = |key: &str, value: Value| {
        let mut b = base.clone();
        b[key] = value;
        b
    };
    let cases = [
        (with("price", json!("-1.00")), "price"),
        (with("price", json!("45.999")), "price"),
        (with("price", json!("R$ 5")), "price"),
        (with("sale_price", json!("6.00")), "sale_price"),
        (with("stock", json!(-1)), "stock"),
        (with("retailer_id", json!("PÃO DE QUEIJO")), "retailer_id"),
        (with("retailer_id", json!("")), "retailer_id"),
        (with("name", json!("   ")), "name"),
        (with("availability", json!("sometimes")), "availability"),
        (with("image_url", json!("ftp://x/y.jpg")), "image_url"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(app.post("/v1/products", &shop.token, &body).await, 422, "invalid_field").await;
        assert_eq!(problem["field"], field, "{body}");
    }
    // A JSON number would go through a float: refused, money is a string.
    assert_problem(app.post("/v1/products", &shop.token, &with("price", json!(45.9))).await, 422, "invalid_body").await;
    assert_problem(app.post("/v1/products", &shop.token, &with("stock", json!("many"))).await, 422, "invalid_body")
        .await;
    let listed: Value = app.get("/v1/products", &shop.token).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]), "nothing was written");

    app.create_product(&shop.token, "PAO", "Pão", "5.00").await;
    let duplicate = app.post("/v1/products", &shop.token, &base).await;
    assert_problem(duplicate, 409, "duplicate_sku").await;
    let other = app.create_product(&shop.token, "PAO-2", "Pão 2", "5.00").await;
    let renamed = app
        .patch(&format!("/v1/products/{}", other["id"].as_str().unwrap()), &shop.token, &json!({"retailer_id": "PAO"}))
        .await;
    assert_problem(renamed, 409, "duplicate_sku").await;
    assert_problem(app.get("/v1/products/not-a-uuid", &shop.token).await, 404, "not_found").await;
}
on_both_databases!(bad_products_are_refused_with_the_field_named);

async fn lists_page_through_everything_once_and_search_forgives_accents(app: TestApp) {
    let shop = app.sign_up("Açaí", "dono@acai.com.br").await;
    let names = ["Açaí 300ml", "Açaí 500ml", "Granola", "Paçoca", "Leite Condensado"];
    for (i, name) in names.iter().enumerate() {
        app.create_product(&shop.token, &format!("SKU-{i}"), name, "10.00").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/products?limit=2&cursor={c}"),
            None => "/v1/products?limit=2".to_owned(),
        };
        let page: Value = app.get(&path, &shop.token).await.json().await.unwrap();
        seen.extend(page["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, names);

    let search = |q: &'static str| {
        let app = &app;
        let token = shop.token.clone();
        async move {
            let page: Value = app.get(&format!("/v1/products?q={q}"), &token).await.json().await.unwrap();
            page["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("acai").await, ["Açaí 300ml", "Açaí 500ml"]);
    assert_eq!(search("PACOCA").await, ["Paçoca"]);
    assert_eq!(search("sku-2").await, ["Granola"]);
    assert_eq!(search("100%25").await, Vec::<String>::new(), "LIKE wildcards are literal");
    assert_problem(app.get("/v1/products?limit=0", &shop.token).await, 400, "invalid_query").await;
    assert_problem(app.get("/v1/products?cursor=zzz", &shop.token).await, 400, "invalid_cursor").await;
}
on_both_databases!(lists_page_through_everything_once_and_search_forgives_accents);

async fn oversized_json_bodies_are_refused(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let huge = json!({"retailer_id": "X", "name": "X", "price": "1.00", "description": "x".repeat(100 * 1024)});
    assert_problem(app.post("/v1/products", &shop.token, &huge).await, 413, "body_too_large").await;
}
on_both_databases!(oversized_json_bodies_are_refused);

async fn timestamps_are_rfc3339_with_an_offset(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let product = app.create_product(&shop.token, "BOLO", "Bolo", "10.00").await;
    let me: Value = app.get("/v1/shop", &shop.token).await.json().await.unwrap();
    for stamp in [&product["created_at"], &product["updated_at"], &me["created_at"]] {
        let text = stamp.as_str().unwrap_or_default();
        assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'), "{stamp}");
    }
}
on_both_databases!(timestamps_are_rfc3339_with_an_offset);

async fn an_unknown_field_is_refused_not_ignored(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let product = app.create_product(&shop.token, "BOLO", "Bolo", "10.00").await;
    let path = format!("/v1/products/{}", product["id"].as_str().unwrap());
    let problem = assert_problem(app.patch(&path, &shop.token, &json!({"size": "M"})).await, 422, "invalid_body").await;
    assert!(problem["detail"].as_str().unwrap().contains("size"), "{problem}");
    let misspelt = json!({"retailer_id": "PAO", "name": "Pão", "price": "1.00", "stok": 3});
    assert_problem(app.post("/v1/products", &shop.token, &misspelt).await, 422, "invalid_body").await;
    let spec: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    for schema in ["ProductInput", "ProductChanges"] {
        assert_eq!(spec["components"]["schemas"][schema]["additionalProperties"], false, "{schema}");
    }
    assert!(spec["components"]["schemas"]["Availability"]["enum"].as_array().unwrap().contains(&json!("in stock")));
}
on_both_databases!(an_unknown_field_is_refused_not_ignored);
