//! The accountant's exports: the books of a period tie to the cent (an
//! orphan Pix, a wrong amount, a late payment, a pending refund), CSV parses
//! back in both locales, who may export, and each shop sees only its own.

use crate::checkout::{bakery, order_body, place};
use crate::helpers::TestApp;
use crate::on_both_databases;
use chatshop::money::Money;
use chatshop::payments::psp::PspPix;
use chatshop::payments::{self, Links, PaymentSource};
use chatshop::pix::EndToEndId;
use serde_json::{Value, json};

/// Yesterday to tomorrow in São Paulo: today's rows, whatever the hour.
fn period(app: &TestApp) -> String {
    let today = (app.clock.now() - chrono::TimeDelta::hours(3)).date();
    format!("from={}&to={}", today.pred_opt().unwrap(), today.succ_opt().unwrap())
}

async fn csv_of(app: &TestApp, token: &str, path: &str) -> (String, Vec<Vec<String>>) {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(kind, "text/csv; charset=utf-8");
    let body = response.text().await.unwrap();
    let (text, delimiter) = match body.strip_prefix('\u{feff}') {
        Some(rest) => (rest.to_owned(), b';'),
        None => (body.clone(), b','),
    };
    assert!(text.ends_with("\r\n"), "CRLF line ends");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).delimiter(delimiter).from_reader(text.as_bytes());
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (body, rows)
}

async fn txid_of(app: &TestApp, token: &str, order: &Value) -> String {
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    let view: Value = app.get(&path, token).await.json().await.unwrap();
    view["charge"]["txid"].as_str().unwrap().to_owned()
}

async fn sandbox_pay(app: &TestApp, txid: &str, amount: Option<&str>) {
    let body = amount.map_or(json!({}), |a| json!({"amount": a}));
    let paid = app.client.post(app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&body).send().await.unwrap();
    assert_eq!(paid.status(), 200);
}

fn row<'a>(rows: &'a [Vec<String>], first: &str, second: &str) -> &'a Vec<String> {
    rows.iter().find(|r| r[0] == first && r[1] == second).unwrap_or_else(|| panic!("no row {first} {second}: {rows:?}"))
}

async fn the_books_of_a_period_tie_to_the_cent(app: TestApp) {
    let owner = bakery(&app).await;
    let accountant = app
        .user_token(
            &crate::helpers::TestShop { id: String::new(), token: owner.clone() },
            "contador@escritorio.com.br",
            "accountant",
        )
        .await;
    let paid = place(&app, &owner, &order_body(1, 0)).await; // 45.90
    let short = place(&app, &owner, &order_body(1, 0)).await; // 45.90, 40.00 arrives
    let late = place(&app, &owner, &order_body(3, 0)).await; // 137.70 after expiry
    app.run_until_idle().await;
    let (paid_txid, short_txid) = (txid_of(&app, &owner, &paid).await, txid_of(&app, &owner, &short).await);
    sandbox_pay(&app, &paid_txid, None).await;
    sandbox_pay(&app, &short_txid, Some("40.00")).await;
    let late_txid = txid_of(&app, &owner, &late).await;
    app.clock.advance(chrono::TimeDelta::minutes(31));
    app.run_until_idle().await;
    sandbox_pay(&app, &late_txid, None).await;
    // A Pix to the shop's key for no order of ours.
    let orphan = PspPix {
        end_to_end_id: EndToEndId::parse("E88888888202611231200ORPHAN00001").unwrap(),
        txid: None,
        amount: Money::from_cents(1234).unwrap(),
        key: None,
        paid_at: app.clock.now().and_utc(),
        payer_name: Some("=cmd|' /C calc'!A0".into()),
        payer_document: Some("12345678909".into()),
        payer_info: None,
        returns: Vec::new(),
    };
    let shop = chatshop::ids::ShopId::from(
        app.get("/v1/shop", &owner).await.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap(),
    );
    let links = Links { public_url: "http://127.0.0.1:9".into() };
    let mut conn = app.pool.get().unwrap();
    payments::record_pix(&mut conn, shop, &orphan, PaymentSource::Webhook, &links, app.clock.now()).unwrap();
    drop(conn);
    // A refund asked for and not settled yet (its job is not run).
    let refund = app
        .post(&format!("/v1/orders/{}/refunds", paid["id"].as_str().unwrap()), &owner, &json!({"amount": "10.00"}))
        .await;
    assert_eq!(refund.status(), 201);

    let period = period(&app);
    let (_, rec) = csv_of(&app, &accountant, &format!("/v1/exports/reconciliation?{period}")).await;
    assert_eq!(rec[0], ["section", "item", "reference", "date", "count", "amount", "order"]);
    assert_eq!(row(&rec, "summary", "pix_received")[4..6], ["4", "235.94"], "45.90 + 40.00 + 137.70 + 12.34");
    assert_eq!(row(&rec, "summary", "refunds_settled")[4..6], ["0", "0.00"]);
    assert_eq!(row(&rec, "summary", "orders_paid")[4..6], ["1", "45.90"]);
    assert_eq!(row(&rec, "summary", "payments_matched")[4..6], ["1", "45.90"]);
    assert_eq!(row(&rec, "difference", "amount_mismatch")[5], "40.00");
    assert_eq!(row(&rec, "difference", "late")[5], "137.70");
    assert_eq!(row(&rec, "difference", "orphan")[2], "E88888888202611231200ORPHAN00001");
    assert_eq!(row(&rec, "difference", "refund_pending")[5], "-10.00", "a refund is money going out");
    assert_eq!(rec.iter().filter(|r| r[0] == "difference").count(), 4);
    assert_eq!(row(&rec, "TOTAL", "net")[5], "235.94");

    // The same payments in a Brazilian spreadsheet's dialect.
    let (body, pay) = csv_of(&app, &accountant, &format!("/v1/exports/payments?{period}&locale=pt-BR")).await;
    assert!(body.starts_with('\u{feff}'), "UTF-8 BOM");
    assert_eq!(pay[0][..4], ["endToEndId", "txid", "pago em", "valor"]);
    assert_eq!(pay.len(), 1 + 4 + 1, "header, four Pix, totals");
    let orphan_row = pay.iter().find(|r| r[0].starts_with("E8888")).unwrap();
    assert_eq!(orphan_row[3], "12,34");
    assert_eq!(orphan_row[4], "'=cmd|' /C calc'!A0", "no formula from a payer's name");
    assert_eq!(orphan_row[5], "***.456.789-**");
    assert_eq!(orphan_row[6], "orphan");
    assert!(chrono::NaiveDateTime::parse_from_str(&orphan_row[2], "%d/%m/%Y %H:%M:%S").is_ok(), "{}", orphan_row[2]);
    assert_eq!(pay.last().unwrap()[..4], ["TOTAL", "", "", "235,94"]);
    let (_, mismatched) =
        csv_of(&app, &accountant, &format!("/v1/exports/payments?{period}&status=amount_mismatch")).await;
    assert_eq!(mismatched.len(), 3);
    assert_eq!(mismatched[1][3], "40.00");

    // Orders, with the customer's first name and a masked phone; and by item.
    let (_, orders) = csv_of(&app, &accountant, &format!("/v1/exports/orders?{period}")).await;
    assert_eq!(orders.len(), 1 + 3 + 1);
    let first = orders.iter().find(|r| r[0] == "1001").unwrap();
    assert_eq!(first[3..8], ["paid", "Ana", "(11) *****-7777", "1x Bolo de Chocolate", "1"]);
    assert_eq!(first[11], "45.90");
    assert_eq!(first[14], paid_txid);
    assert_eq!(orders.last().unwrap()[11], "229.50", "Σ totals: 45.90 + 45.90 + 137.70");
    let (_, lines) = csv_of(&app, &accountant, &format!("/v1/exports/orders?{period}&lines=true&status=expired")).await;
    assert_eq!(lines.len(), 1 + 2 + 1, "the two expired orders have one line each");
    assert_eq!(lines.last().unwrap()[10..12], ["4", "183.60"]);
    let (_, refunds) = csv_of(&app, &accountant, &format!("/v1/exports/refunds?{period}&locale=pt-BR")).await;
    assert_eq!(refunds[1][5..7], ["10,00", "processing"]);

    // Each export was recorded; the owner sees who pulled what.
    let audit: Value = app.get("/v1/audit", &owner).await.json().await.unwrap();
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0]["export"], "refunds", "newest first");
    assert_eq!(entries[0]["user_email"], "contador@escritorio.com.br");
    assert_eq!(entries.last().unwrap()["export"], "reconciliation");
    assert_eq!(app.get("/v1/audit", &accountant).await.status(), 403);

    // OFX: one CREDIT per Pix received; once the refund settles, one DEBIT.
    let credits = ofx_of(&app, &accountant, &format!("/v1/exports/payments?{period}&format=ofx")).await;
    assert_eq!(credits.len(), 4);
    assert!(credits.iter().all(|t| t.0 == "CREDIT"));
    assert!(credits.iter().any(|t| t.2 == "E88888888202611231200ORPHAN00001" && t.1 == "12.34"));
    let total: f64 = credits.iter().map(|t| t.1.parse::<f64>().unwrap()).sum();
    assert!((total - 235.94).abs() < 0.001);
    assert!(ofx_of(&app, &accountant, &format!("/v1/exports/refunds?{period}&format=ofx")).await.is_empty());
    app.run_until_idle().await;
    let debits = ofx_of(&app, &accountant, &format!("/v1/exports/refunds?{period}&format=ofx")).await;
    assert_eq!(debits.len(), 1);
    assert_eq!((debits[0].0.as_str(), debits[0].1.as_str()), ("DEBIT", "-10.00"));
    let (_, refunds) = csv_of(&app, &accountant, &format!("/v1/exports/refunds?{period}")).await;
    assert_eq!(refunds[1][1], debits[0].2, "FITID = rtrId");
    let orders_ofx = app.get(&format!("/v1/exports/orders?{period}&format=ofx"), &accountant).await;
    assert_eq!(orders_ofx.status(), 400);
}

/// The statement's transactions: (TRNTYPE, TRNAMT, FITID), parsed back.
async fn ofx_of(app: &TestApp, token: &str, path: &str) -> Vec<(String, String, String)> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/x-ofx");
    let body = response.text().await.unwrap();
    assert!(body.starts_with("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102"));
    assert!(body.trim_end().ends_with("</OFX>"));
    let tag = |block: &str, name: &str| {
        let open = format!("<{name}>");
        let start = block.find(&open).unwrap_or_else(|| panic!("no {name}")) + open.len();
        block[start..].split(['<', '\r']).next().unwrap().to_owned()
    };
    body.split("<STMTTRN>")
        .skip(1)
        .map(|block| {
            let block = block.split("</STMTTRN>").next().unwrap();
            assert!(tag(block, "DTPOSTED").ends_with("[-3:-03]"), "{block}");
            (tag(block, "TRNTYPE"), tag(block, "TRNAMT"), tag(block, "FITID"))
        })
        .collect()
}
on_both_databases!(the_books_of_a_period_tie_to_the_cent);

async fn the_accountant_reads_staff_cannot_and_shops_stay_apart(app: TestApp) {
    let owner = bakery(&app).await;
    let shop = crate::helpers::TestShop { id: String::new(), token: owner.clone() };
    let accountant = app.user_token(&shop, "contador@escritorio.com.br", "accountant").await;
    let staff = app.user_token(&shop, "caixa@padaria.com.br", "staff").await;
    place(&app, &owner, &order_body(1, 0)).await;
    let period = period(&app);
    let product = json!({"retailer_id": "X", "name": "X", "price": "1.00"});
    assert_eq!(app.post("/v1/products", &accountant, &product).await.status(), 403, "read-only");
    assert_eq!(app.get(&format!("/v1/exports/orders?{period}"), &staff).await.status(), 403);
    let missing = app.get(&format!("/v1/exports/invoices?{period}"), &accountant).await;
    assert_eq!(missing.status(), 404);
    let backwards = app.get("/v1/exports/orders?from=2026-11-02&to=2026-11-01", &accountant).await;
    assert_eq!(backwards.status(), 400);
    let other = app.sign_up("Outra Loja", "dona@outra.com.br").await;
    let (_, theirs) = csv_of(&app, &other.token, &format!("/v1/exports/orders?{period}")).await;
    assert_eq!(theirs.len(), 2, "only a header and a zero totals row");
    assert_eq!(theirs[1][11], "0.00");
    let (_, ours) = csv_of(&app, &accountant, &format!("/v1/exports/orders?{period}")).await;
    assert_eq!(ours.len(), 3);
}
on_both_databases!(the_accountant_reads_staff_cannot_and_shops_stay_apart);
