//! A deleted product is archived: gone from every list, search, menu, feed
//! and cart, kept for the orders that point at it, and brought back (same
//! id) when its SKU is created or imported again.

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_databases;
use chatshop::catalog::repo;
use chatshop::ids::{ProductId, ShopId};
use diesel::prelude::*;
use serde_json::{Value, json};

async fn a_deleted_product_is_archived_and_comes_back_with_its_sku(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let shop_id: ShopId = shop.id.parse().unwrap();
    app.create_product(&shop.token, "PAO", "Pão francês", "1.00").await;
    let bolo = app.create_product(&shop.token, "BOLO", "Bolo de chocolate", "45.90").await;
    let bolo_id: ProductId = bolo["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/v1/products/{bolo_id}");

    // A customer has it in their cart.
    let mut conn = app.pool.get().unwrap();
    let now = chatshop::db::now();
    let customer = chatshop::customers::record_inbound(&mut conn, shop_id, "5511988887777", None, now).unwrap().id;
    let product = repo::get(&mut conn, shop_id, bolo_id).unwrap();
    chatshop::cart::add(&mut conn, shop_id, customer, &product, 2).unwrap();

    assert_eq!(app.delete(&path, &shop.token).await.status(), 204);
    assert_problem(app.get(&path, &shop.token).await, 404, "not_found").await;
    assert_problem(app.delete(&path, &shop.token).await, 404, "not_found").await;
    assert_problem(app.patch(&path, &shop.token, &json!({"price": "1.00"})).await, 404, "not_found").await;
    let list: Value = app.get("/v1/products", &shop.token).await.json().await.unwrap();
    let skus: Vec<&str> = list["data"].as_array().unwrap().iter().map(|p| p["retailer_id"].as_str().unwrap()).collect();
    assert_eq!(skus, ["PAO"]);
    let found: Value = app.get("/v1/products?q=bolo", &shop.token).await.json().await.unwrap();
    assert_eq!(found["data"], json!([]));
    let feed = app.get("/v1/catalog/feed.csv", &shop.token).await.text().await.unwrap();
    assert!(!feed.contains("BOLO"), "{feed}");
    assert!(chatshop::cart::load(&mut conn, shop_id, customer).unwrap().is_empty(), "gone from the cart");
    assert!(chatshop::cart::find_product(&mut conn, shop_id, "BOLO").unwrap().is_empty(), "gone from the chat");
    let menu = repo::orderable(&mut conn, shop_id, 50).unwrap();
    assert!(menu.iter().all(|p| p.id != bolo_id), "gone from the menu");
    assert!(!chatshop::catalog::reserve_stock(&mut conn, shop_id, bolo_id, 1).unwrap(), "nor can it be ordered");

    // Still stored, for the orders that point at it.
    use chatshop::db::schema::products;
    let stored: i64 = products::table.filter(products::id.eq(bolo_id)).count().get_result(&mut *conn).unwrap();
    assert_eq!(stored, 1);

    // Creating its SKU again brings the same product back with the new fields.
    let again = json!({"retailer_id": "BOLO", "name": "Bolo trufado", "price": "49.90", "stock": 4});
    let created = app.post("/v1/products", &shop.token, &again).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        (created["id"].as_str(), created["name"].as_str()),
        (Some(bolo_id.to_string().as_str()), Some("Bolo trufado"))
    );
    assert_eq!(created["stock"], 4);
    assert_problem(app.post("/v1/products", &shop.token, &again).await, 409, "duplicate_sku").await;

    // And so does importing it.
    assert_eq!(app.delete(&path, &shop.token).await.status(), 204);
    let imported = app.import(&shop.token, "id,title,price\nBOLO,Bolo,40.00 BRL\n", "").await;
    assert_eq!(imported.status(), 200);
    let back: Value = app.get(&path, &shop.token).await.json().await.unwrap();
    assert_eq!(
        (back["price"].as_str(), back["stock"].as_i64()),
        (Some("40.00"), Some(4)),
        "a feed without stock keeps it"
    );
}
on_both_databases!(a_deleted_product_is_archived_and_comes_back_with_its_sku);
