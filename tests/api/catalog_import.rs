use crate::helpers::{TestApp, assert_problem, sample};
use crate::on_both_databases;
use serde_json::{Value, json};

async fn count_products(app: &TestApp, token: &str) -> usize {
    let page: Value = app.get("/v1/products?limit=200", token).await.json().await.unwrap();
    page["data"].as_array().unwrap().len()
}

async fn every_sample_shop_imports_cleanly_and_reimport_updates(app: TestApp) {
    for (i, (file, rows)) in
        [("padaria-doce-lar.csv", 25), ("acai-da-praia.csv", 20), ("moda-ipanema.csv", 41)].into_iter().enumerate()
    {
        let shop = app.sign_up(file, &format!("dono{i}@loja.com.br")).await;
        let first = app.import(&shop.token, sample(file), "").await;
        assert_eq!(first.status(), 200, "{file}");
        assert_eq!(
            first.json::<Value>().await.unwrap(),
            json!({"created": rows, "updated": 0, "errors": []}),
            "{file}"
        );
        let again: Value = app.import(&shop.token, sample(file), "").await.json().await.unwrap();
        assert_eq!(again, json!({"created": 0, "updated": rows, "errors": []}), "{file}");
        assert_eq!(count_products(&app, &shop.token).await, rows);
    }
}
on_both_databases!(every_sample_shop_imports_cleanly_and_reimport_updates);

async fn imported_products_keep_accents_quotes_prices_and_variants(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    app.import(&shop.token, sample("padaria-doce-lar.csv"), "").await;
    let page: Value = app.get("/v1/products?q=BOLO-CENOURA", &shop.token).await.json().await.unwrap();
    let bolo = &page["data"][0];
    assert_eq!(bolo["name"], "Bolo de Cenoura com Cobertura de Chocolate");
    assert!(bolo["description"].as_str().unwrap().starts_with("O clássico \"bolo de vó\": cenoura,"));
    assert_eq!(
        (bolo["price"].as_str(), bolo["sale_price"].as_str(), bolo["stock"].as_i64()),
        (Some("59.90"), Some("52.90"), Some(8))
    );
    assert_eq!(bolo["category"], "Padaria > Bolos");

    let moda = app.sign_up("Moda", "dona@moda.com.br").await;
    app.import(&moda.token, sample("moda-ipanema.csv"), "").await;
    let page: Value = app.get("/v1/products?limit=200", &moda.token).await.json().await.unwrap();
    let variant = page["data"].as_array().unwrap().iter().find(|p| p["size"].is_string()).unwrap();
    assert!(variant["item_group_id"].is_string() && variant["color"].is_string());
}
on_both_databases!(imported_products_keep_accents_quotes_prices_and_variants);

const BROKEN_FEED: &str = "id,title,description,availability,condition,price,link,image_link,brand\n\
BOLO-CHOC,Bolo de Chocolate,\"Cacau, brigadeiro\",in stock,new,45.90 BRL,https://p.com.br/b,https://p.com.br/b.jpg,Padaria\n\
PAO,Pão,,in stock,new,5.999 BRL,,,Padaria\n\
COXINHA,Coxinha,,maybe,new,7.50 BRL,,,Padaria\n";

async fn a_broken_row_writes_nothing_unless_asked_to_skip(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let problem = assert_problem(app.import(&shop.token, BROKEN_FEED, "").await, 422, "invalid_feed").await;
    assert_eq!(problem["created"], 0);
    assert_eq!(
        problem["errors"],
        json!([
            {"row": 3, "column": "price", "reason": "amount has more than two decimal places"},
            {"row": 4, "column": "availability", "reason": "`maybe` is not one of: in stock, out of stock, preorder, available for order, discontinued"}
        ])
    );
    assert_eq!(count_products(&app, &shop.token).await, 0, "nothing was half-written");

    let skipped: Value = app.import(&shop.token, BROKEN_FEED, "?skip_invalid=true").await.json().await.unwrap();
    assert_eq!(skipped["created"], 1);
    assert_eq!(skipped["errors"].as_array().unwrap().len(), 2);
    assert_eq!(count_products(&app, &shop.token).await, 1);
}
on_both_databases!(a_broken_row_writes_nothing_unless_asked_to_skip);

async fn feeds_missing_columns_or_unreadable_are_refused(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let problem = assert_problem(app.import(&shop.token, "id,name\nX,Y\n", "").await, 422, "invalid_feed").await;
    assert_eq!(
        problem["errors"],
        json!([
            {"row": 1, "column": "title", "reason": "required column is missing"},
            {"row": 1, "column": "price", "reason": "required column is missing"}
        ])
    );
    assert_problem(app.import(&shop.token, "", "").await, 422, "unreadable_feed").await;
    let short_row =
        assert_problem(app.import(&shop.token, "id,title,price\nX,Y\n", "").await, 422, "invalid_feed").await;
    assert_eq!(short_row["errors"][0]["row"], 2);
}
on_both_databases!(feeds_missing_columns_or_unreadable_are_refused);

async fn tsv_feeds_import_like_csv(app: TestApp) {
    let shop = app.sign_up("Açaí", "dono@acai.com.br").await;
    let tsv = "id\ttitle\tprice\tavailability\tquantity_to_sell_on_facebook\nACAI-300\tAçaí 300 ml, com granola\t18.90 BRL\tin stock\t40\n";
    let report: Value = app.import(&shop.token, tsv, "").await.json().await.unwrap();
    assert_eq!(report, json!({"created": 1, "updated": 0, "errors": []}));
    let page: Value = app.get("/v1/products", &shop.token).await.json().await.unwrap();
    assert_eq!(page["data"][0]["name"], "Açaí 300 ml, com granola");
    assert_eq!(page["data"][0]["stock"], 40);
}
on_both_databases!(tsv_feeds_import_like_csv);

async fn export_then_import_is_a_round_trip(app: TestApp) {
    let first = app.sign_up("Moda", "dona@moda.com.br").await;
    app.import(&first.token, sample("moda-ipanema.csv"), "").await;
    let exported = app.get("/v1/catalog/feed.csv", &first.token).await;
    assert_eq!(exported.headers()["content-type"], "text/csv; charset=utf-8");
    let exported = exported.bytes().await.unwrap();

    let second = app.sign_up("Moda 2", "dona2@moda.com.br").await;
    let report: Value = app.import(&second.token, exported.clone(), "").await.json().await.unwrap();
    assert_eq!(report["created"], 41);
    let again = app.get("/v1/catalog/feed.csv", &second.token).await.bytes().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(&exported));
}
on_both_databases!(export_then_import_is_a_round_trip);

async fn an_oversized_feed_is_refused_before_parsing(app: TestApp) {
    let shop = app.sign_up("Padaria", "dono@padaria.com.br").await;
    let mut feed = String::from("id,title,price\n");
    while feed.len() <= 4 * 1024 * 1024 {
        feed.push_str("SKU-X,Produto com um nome comprido o bastante,1.00 BRL\n");
    }
    assert_problem(app.import(&shop.token, feed, "").await, 413, "body_too_large").await;
    assert_eq!(count_products(&app, &shop.token).await, 0);
}
on_both_databases!(an_oversized_feed_is_refused_before_parsing);
