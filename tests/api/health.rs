use crate::helpers::{Engine, TestApp, assert_problem};
use crate::on_both_databases;
use serde_json::Value;

async fn healthz_names_the_database(app: TestApp) {
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    let expected = match app.engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body, serde_json::json!({"status": "ok", "database": expected}));
}
on_both_databases!(healthz_names_the_database);

async fn openapi_lists_every_route(app: TestApp) {
    let spec: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let expected = [
        ("/healthz", "get"),
        ("/v1/shops", "post"),
        ("/v1/shop", "get"),
        ("/v1/auth/login", "post"),
        ("/v1/users", "post"),
        ("/v1/users", "get"),
        ("/v1/users/{id}", "delete"),
        ("/v1/auth/logout", "post"),
        ("/v1/auth/password", "put"),
        ("/v1/products", "get"),
        ("/v1/products", "post"),
        ("/v1/products/{id}", "get"),
        ("/v1/products/{id}", "patch"),
        ("/v1/products/{id}", "delete"),
        ("/v1/catalog/import", "post"),
        ("/v1/catalog/feed.csv", "get"),
        ("/v1/shop/whatsapp", "put"),
        ("/v1/shop/psp", "put"),
        ("/webhooks/whatsapp", "get"),
        ("/webhooks/whatsapp", "post"),
        ("/openapi.json", "get"),
        ("/v1/shop", "patch"),
        ("/v1/orders", "get"),
        ("/v1/orders", "post"),
        ("/v1/orders/{id}", "get"),
        ("/v1/orders/{id}/cancel", "post"),
        ("/v1/orders/{id}/fulfil", "post"),
        ("/v1/orders/{id}/refunds", "post"),
        ("/v1/payments", "get"),
        ("/webhooks/pix/{shop_id}", "post"),
        ("/webhooks/pix/{shop_id}/pix", "post"),
        ("/sandbox/pix/{txid}/pay", "post"),
        ("/pay/{token}", "get"),
        ("/pay/{token}/status", "get"),
        ("/pay/{token}/qr.svg", "get"),
        ("/pay/{token}/qr.png", "get"),
        ("/v1/exports/{kind}", "get"),
        ("/v1/audit", "get"),
        ("/v1/webhook-endpoints", "post"),
        ("/v1/webhook-endpoints", "get"),
        ("/v1/webhook-endpoints/{id}", "delete"),
        ("/v1/webhook-endpoints/{id}/rotate-secret", "post"),
        ("/v1/deliveries", "get"),
        ("/v1/deliveries/{id}/retry", "post"),
        ("/v1/reports/daily", "get"),
    ];
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from /openapi.json");
    }
    assert!(spec["components"]["schemas"]["Product"].is_object());

    // Routes and descriptions come from one registration: every described
    // operation is served (answers anything but `no_route`), and each one
    // says what it answers.
    let mut operations = 0;
    for (path, item) in paths {
        let url = app.url(&path.replace("{id}", &uuid::Uuid::now_v7().to_string()));
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            let responses = operation["responses"].as_object().filter(|r| !r.is_empty());
            let described = |r: &Value| r["description"].as_str().is_some_and(|d| !d.is_empty());
            assert!(responses.is_some_and(|r| r.values().all(described)), "{method} {path}: responses undescribed");
            let response = app.client.request(method.clone(), &url).send().await.unwrap();
            if matches!(response.status().as_u16(), 404 | 405) {
                let body: Value = response.json().await.unwrap_or_default();
                assert_ne!(body["code"], "no_route", "{method} {path} is described but not served");
                assert_ne!(body["code"], "method_not_allowed", "{method} {path} is described but not served");
            }
            operations += 1;
        }
    }
    assert_eq!(operations, expected.len(), "described operations beyond the expected list");
}
on_both_databases!(openapi_lists_every_route);

async fn unknown_routes_are_problems(app: TestApp) {
    let response = app.client.get(app.url("/v1/nowhere")).send().await.unwrap();
    assert_problem(response, 404, "no_route").await;
}
on_both_databases!(unknown_routes_are_problems);

async fn a_method_a_path_does_not_have_is_405_with_allow(app: TestApp) {
    let product = format!("/v1/products/{}", uuid::Uuid::now_v7());
    let response = app.client.put(app.url(&product)).send().await.unwrap();
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(allow, "DELETE, GET, PATCH");
    assert_problem(response, 405, "method_not_allowed").await;
    let response = app.client.delete(app.url("/v1/products")).send().await.unwrap();
    assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, POST"));
    assert_problem(response, 405, "method_not_allowed").await;
}
on_both_databases!(a_method_a_path_does_not_have_is_405_with_allow);

async fn the_docs_page_works_offline(app: TestApp) {
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no asset from the network: {html}");
    let config = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(config.contains("/openapi.json"), "{config}");
    let bundle = app.client.get(app.url("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200, "the script is served from the binary");
    let redirect = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
}
on_both_databases!(the_docs_page_works_offline);
