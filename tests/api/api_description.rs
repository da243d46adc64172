//! `GET /openapi.json` tells the truth about request bodies: what it
//! refuses, the service refuses (and `.ci/schemathesis` checks the rest).

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_databases;
use serde_json::{Value, json};

async fn description(app: &TestApp) -> Value {
    app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap()
}

fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

async fn every_ref_resolves(app: TestApp) {
    let doc = description(&app).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "the description uses components");
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd $ref {target}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "$ref {target} points at nothing");
    }
}
on_both_databases!(every_ref_resolves);

/// The schema `value` stands for, `$ref`s followed.
fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => resolved(doc, &doc["components"]["schemas"][name]),
        None => value,
    }
}

/// Objects that declare properties and do not say `additionalProperties: false`.
fn open_objects(doc: &Value, schema: &Value, at: &str, open: &mut Vec<String>, depth: usize) {
    let schema = resolved(doc, schema);
    if depth > 8 {
        return;
    }
    if let Some(properties) = schema["properties"].as_object() {
        if schema["additionalProperties"] != json!(false) {
            open.push(at.to_owned());
        }
        for (name, property) in properties {
            open_objects(doc, property, &format!("{at}.{name}"), open, depth + 1);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for item in schema[key].as_array().into_iter().flatten() {
            open_objects(doc, item, at, open, depth + 1);
        }
    }
    if schema["items"].is_object() {
        open_objects(doc, &schema["items"], &format!("{at}[]"), open, depth + 1);
    }
}

async fn every_json_body_refuses_unknown_fields_in_its_description(app: TestApp) {
    let doc = description(&app).await;
    let mut open = Vec::new();
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // A PSP's callback is its own body, kept as received: extra fields are its to send.
        if path.starts_with("/webhooks/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") else { continue };
            bodies += 1;
            open_objects(&doc, schema, &format!("{method} {path}"), &mut open, 0);
        }
    }
    assert!(bodies >= 12, "{bodies} JSON bodies");
    assert!(open.is_empty(), "objects that do not refuse unknown fields: {open:?}");
}
on_both_databases!(every_json_body_refuses_unknown_fields_in_its_description);

async fn an_unknown_field_is_refused_where_every_field_is_optional(app: TestApp) {
    let shop = app.sign_up("Loja", "dono@example.com").await;
    let product = app.create_product(&shop.token, "BOLO", "Bolo", "10.00").await;
    let id = product["id"].as_str().unwrap();
    // ProductChanges has no `size`: it once answered 200 and changed nothing.
    assert_problem(
        app.patch(&format!("/v1/products/{id}"), &shop.token, &json!({"size": "M"})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(app.patch("/v1/shop", &shop.token, &json!({"colour": "blue"})).await, 422, "invalid_body").await;
    assert_problem(
        app.patch("/v1/shop", &shop.token, &json!({"checkout": {"shipping_fee": "1.00", "tip": "1"}})).await,
        422,
        "invalid_body",
    )
    .await;
}
on_both_databases!(an_unknown_field_is_refused_where_every_field_is_optional);

async fn an_array_is_not_an_object(app: TestApp) {
    let shop = app.sign_up("Loja", "dono@example.com").await;
    // serde alone reads an array as a struct's fields in order.
    let response = app.patch("/v1/shop", &shop.token, &json!({"checkout": ["5.00", null, null]})).await;
    assert_problem(response, 422, "invalid_body").await;
    let response = app.post("/v1/products", &shop.token, &json!(["BOLO", "Bolo", null, "10.00"])).await;
    assert_problem(response, 422, "invalid_body").await;
    let settings: Value = app.get("/v1/shop", &shop.token).await.json().await.unwrap();
    assert_ne!(settings["checkout"]["shipping_fee"], "5.00", "{settings}");
}
on_both_databases!(an_array_is_not_an_object);

async fn an_integer_is_a_whole_number(app: TestApp) {
    let shop = app.sign_up("Loja", "dono@example.com").await;
    let body = |stock: Value| json!({"retailer_id": "PAO", "name": "Pão", "price": "1.00", "stock": stock});
    assert_problem(app.post("/v1/products", &shop.token, &body(json!(5.5))).await, 422, "invalid_body").await;
    assert_problem(app.post("/v1/products", &shop.token, &body(json!("5"))).await, 422, "invalid_body").await;
    // JSON Schema's (and OpenAPI 3.1's) `integer` takes 5.0: so does the service.
    let created = app.post("/v1/products", &shop.token, &body(json!(5.0))).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["stock"], 5);
}
on_both_databases!(an_integer_is_a_whole_number);

async fn money_is_plain_ascii_decimal_text(app: TestApp) {
    let doc = description(&app).await;
    assert_eq!(doc["components"]["schemas"]["Money"]["pattern"], chatshop::money::MONEY_PATTERN);
    let shop = app.sign_up("Loja", "dono@example.com").await;
    let price = |price: &str| json!({"retailer_id": "PAO", "name": "Pão", "price": price});
    for refused in ["1e3", "45.", "-1", "12345678901", "1.234", "١٢", "0x10", "1,50"] {
        let response = app.post("/v1/products", &shop.token, &price(refused)).await;
        assert_eq!(response.status(), 422, "price {refused:?}");
    }
    for (n, accepted) in ["0", "45.9", "9999999999.99"].iter().enumerate() {
        let body = json!({"retailer_id": format!("P{n}"), "name": "Pão", "price": accepted});
        assert_eq!(app.post("/v1/products", &shop.token, &body).await.status(), 201, "price {accepted:?}");
    }
}
on_both_databases!(money_is_plain_ascii_decimal_text);

async fn documented_refusals_are_the_services(app: TestApp) {
    let shop = app.sign_up("Loja", "dono@example.com").await;
    // Not a cursor this server gave: 400, as documented.
    assert_problem(app.get("/v1/payments?cursor=nope", &shop.token).await, 400, "invalid_cursor").await;
    assert_problem(app.get("/v1/products?cursor=nope", &shop.token).await, 400, "invalid_cursor").await;
    // `owner` is not an AddableRole.
    let owner = json!({"email": "outro@example.com", "password": "a long password", "role": "owner"});
    assert_eq!(app.post("/v1/users", &shop.token, &owner).await.status(), 422);
    let doc = description(&app).await;
    let role = doc.pointer("/components/schemas/NewUserRequest/properties/role/enum").cloned();
    assert_eq!(role, Some(json!(["staff", "accountant"])));
    // A time zone not in the listed IANA names is refused.
    assert_eq!(app.patch("/v1/shop", &shop.token, &json!({"timezone": "Mars/Olympus"})).await.status(), 422);
    assert_eq!(app.patch("/v1/shop", &shop.token, &json!({"timezone": "America/Recife"})).await.status(), 200);
    // PATCH products documents its 409.
    assert!(doc.pointer("/paths/~1v1~1products~1{id}/patch/responses/409").is_some());
}
on_both_databases!(documented_refusals_are_the_services);
