use crate::helpers::{TestApp, assert_problem};
use crate::on_both_databases;
use serde_json::{Value, json};

/// A token of shop A never reaches shop B's rows: 404, as if they did not exist.
async fn one_shops_token_cannot_reach_anothers_products(app: TestApp) {
    let a = app.sign_up("Loja A", "a@lojaa.com.br").await;
    let b = app.sign_up("Loja B", "b@lojab.com.br").await;
    let b_product = app.create_product(&b.token, "SEGREDO-B", "Produto de B", "10.00").await;
    let path = format!("/v1/products/{}", b_product["id"].as_str().unwrap());

    assert_problem(app.get(&path, &a.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &a.token, &json!({"price": "0.01"})).await, 404, "not_found").await;
    assert_problem(app.delete(&path, &a.token).await, 404, "not_found").await;
    let listed: Value = app.get("/v1/products?q=SEGREDO", &a.token).await.json().await.unwrap();
    assert_eq!(listed["data"], json!([]));
    let feed = app.get("/v1/catalog/feed.csv", &a.token).await.text().await.unwrap();
    assert!(!feed.contains("SEGREDO-B"));
    // A's import of the same SKU makes A's own product and leaves B's alone.
    let report: Value =
        app.import(&a.token, "id,title,price\nSEGREDO-B,Produto de A,1.00 BRL\n", "").await.json().await.unwrap();
    assert_eq!(report["created"], 1);
    let untouched: Value = app.get(&path, &b.token).await.json().await.unwrap();
    assert_eq!((untouched["name"].as_str(), untouched["price"].as_str()), (Some("Produto de B"), Some("10.00")));
    let b_shop: Value = app.get("/v1/shop", &b.token).await.json().await.unwrap();
    assert_eq!(b_shop["id"], b.id.as_str());
}
on_both_databases!(one_shops_token_cannot_reach_anothers_products);
