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
        ("/v1/products", "get"),
        ("/v1/products", "post"),
        ("/v1/products/{id}", "get"),
        ("/v1/products/{id}", "patch"),
        ("/v1/products/{id}", "delete"),
        ("/v1/catalog/import", "post"),
        ("/v1/catalog/feed.csv", "get"),
        ("/v1/shop/whatsapp", "put"),
        ("/webhooks/whatsapp", "get"),
        ("/webhooks/whatsapp", "post"),
    ];
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from /openapi.json");
    }
    assert!(spec["components"]["schemas"]["Product"].is_object());
}
on_both_databases!(openapi_lists_every_route);

async fn unknown_routes_are_problems(app: TestApp) {
    let response = app.client.get(app.url("/v1/nowhere")).send().await.unwrap();
    assert_problem(response, 404, "no_route").await;
}
on_both_databases!(unknown_routes_are_problems);
