//! XLSX exports read back with calamine: every cell holds what the CSV of
//! the same export says, amounts are numbers formatted `"R$" #,##0.00`,
//! dates are dates, the header is frozen with an autofilter, and the totals
//! row is `SUM` formulas whose cached results equal the CSV's totals. The
//! CLI writes the same workbook with `--format xlsx --out FILE`.

use crate::checkout::{bakery, order_body, place};
use crate::helpers::{JWT_SECRET, TEST_SECRET_KEY, TestApp, TestShop};
use crate::on_both_databases;
use calamine::{Data, Reader, Xlsx};
use chatshop::reports::xlsx::{INTEGER_FORMAT, MONEY_FORMAT, date_format};
use chatshop::reports::{Locale, csv::neutralise};
use serde_json::{Value, json};
use std::io::{Cursor, Read};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn period(app: &TestApp) -> (String, String) {
    let today = (app.clock.now() - chrono::TimeDelta::hours(3)).date();
    (today.pred_opt().unwrap().to_string(), today.succ_opt().unwrap().to_string())
}

async fn csv_rows(app: &TestApp, token: &str, path: &str) -> Vec<Vec<String>> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    let body = response.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

async fn xlsx_bytes(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], XLSX);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.ends_with(".xlsx\""), "{disposition}");
    response.bytes().await.unwrap().to_vec()
}

/// The sheet's cells as the `en` CSV writes them, after checking each
/// cell's type and number format against `locale`.
fn read_back(bytes: &[u8], sheet: &str, locale: Locale) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX calamine opens");
    assert_eq!(book.sheet_names(), [sheet]);
    let values = book.worksheet_range(sheet).unwrap();
    let formulas = book.worksheet_formula(sheet).unwrap();
    let styles = book.worksheet_style(sheet).unwrap();
    assert_eq!(values.start(), Some((0, 0)));
    let (height, width) = values.get_size();
    let code = |row: usize, col: usize| {
        let style = styles.get((row as u32, col as u32));
        style.and_then(|s| s.number_format.as_ref()).map(|f| f.format_code.clone()).unwrap_or_default()
    };
    let mut rows = Vec::new();
    for r in 0..height {
        let mut row = Vec::new();
        for c in 0..width {
            let cell = values.get((r, c)).unwrap_or(&Data::Empty);
            let text = match cell {
                Data::Empty => String::new(),
                Data::String(s) => neutralise(s),
                Data::Float(f) if code(r, c) == MONEY_FORMAT => format!("{f:.2}"),
                Data::Float(f) if code(r, c) == INTEGER_FORMAT => {
                    assert_eq!(f.fract(), 0.0);
                    format!("{f:.0}")
                }
                Data::DateTime(at) => {
                    assert_eq!(code(r, c), date_format(locale), "a date-time format at ({r}, {c})");
                    at.as_datetime().expect("a date").format("%Y-%m-%dT%H:%M:%S").to_string()
                }
                other => panic!("({r}, {c}): {other:?} with format {:?}", code(r, c)),
            };
            row.push(text);
        }
        rows.push(row);
    }
    // The totals row: every number in it is a SUM over the column, cached.
    let last = height - 1;
    for (c, value) in rows[last].iter().enumerate() {
        let formula = formulas.get_value((last as u32, c as u32)).cloned().unwrap_or_default();
        if matches!(values.get((last, c)), Some(Data::Float(_))) {
            assert!(formula.starts_with("SUM("), "totals ({last}, {c}) = {value} has formula {formula:?}");
        }
    }
    rows
}

/// The sheet's XML: the frozen header, the autofilter, the set widths.
fn sheet_xml(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    xml
}

fn assert_layout(bytes: &[u8], rows: &[Vec<String>]) {
    let xml = sheet_xml(bytes);
    assert!(xml.contains(r#"ySplit="1" topLeftCell="A2""#), "header frozen: {xml:.600}");
    let last_col = (b'A' + rows[0].len() as u8 - 1) as char;
    let filter = format!(r#"<autoFilter ref="A1:{last_col}{}"/>"#, rows.len() - 1);
    assert!(xml.contains(&filter), "{filter} (header and data rows, not the totals)");
    // `<col min="1" max="2" width=… customWidth="1"/>`: equal widths side by side share one.
    let attr = |col: &str, name: &str| -> usize {
        let start = col.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        col[start..].split('"').next().unwrap().parse().unwrap()
    };
    let cols: Vec<String> = xml.split("<col ").skip(1).map(|c| format!(" {}", c.split("/>").next().unwrap())).collect();
    assert!(cols.iter().all(|c| c.contains(r#"customWidth="1""#)), "{cols:?}");
    let covered: usize = cols.iter().map(|c| attr(c, "max") - attr(c, "min") + 1).sum();
    assert_eq!(covered, rows[0].len(), "every column's width set: {cols:?}");
}

async fn a_shop_with_books(app: &TestApp) -> (String, String) {
    let owner = bakery(app).await;
    let shop = TestShop { id: String::new(), token: owner.clone() };
    let accountant = app.user_token(&shop, "contador@escritorio.com.br", "accountant").await;
    let paid = place(app, &owner, &order_body(1, 2)).await; // 45.90 + 2 × 10.50 = 66.90
    let short = place(app, &owner, &order_body(2, 0)).await; // 91.80, 80.00 arrives
    place(app, &owner, &order_body(0, 1)).await; // never paid
    app.run_until_idle().await;
    for (order, amount) in [(&paid, None), (&short, Some("80.00"))] {
        let view: Value =
            app.get(&format!("/v1/orders/{}", order["id"].as_str().unwrap()), &owner).await.json().await.unwrap();
        let txid = view["charge"]["txid"].as_str().unwrap();
        let body = amount.map_or(json!({}), |a| json!({"amount": a}));
        let answer = app.client.post(app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let refund = app
        .post(&format!("/v1/orders/{}/refunds", paid["id"].as_str().unwrap()), &owner, &json!({"amount": "12.50"}))
        .await;
    assert_eq!(refund.status(), 201);
    (owner, accountant)
}

async fn xlsx_holds_what_the_csv_holds(app: TestApp) {
    let (_, accountant) = a_shop_with_books(&app).await;
    let (from, to) = period(&app);
    let exports = [
        ("orders", "", 3),
        ("orders", "&lines=true", 4),
        ("payments", "", 2),
        ("refunds", "", 1),
        ("reconciliation", "", 4 + 2),
    ];
    for (kind, extra, data_rows) in exports {
        let path = format!("/v1/exports/{kind}?from={from}&to={to}{extra}");
        let csv = csv_rows(&app, &accountant, &path).await;
        let bytes = xlsx_bytes(&app, &accountant, &format!("{path}&format=xlsx")).await;
        let rows = read_back(&bytes, kind, Locale::En);
        assert_eq!(rows.len(), 1 + data_rows + 1, "{kind}{extra}: header, rows, totals");
        assert_eq!(rows, csv, "{kind}{extra}: the XLSX holds the CSV's cells");
        assert_eq!(rows.last().unwrap()[0], "TOTAL");
        assert_layout(&bytes, &rows);
    }
    // The totals are the sums asked of them, not merely what the CSV says.
    let orders = read_back(
        &xlsx_bytes(&app, &accountant, &format!("/v1/exports/orders?from={from}&to={to}&format=xlsx")).await,
        "orders",
        Locale::En,
    );
    assert_eq!(orders.last().unwrap()[7..12], ["6", "169.20", "0.00", "0.00", "169.20"], "66.90 + 91.80 + 10.50");
    assert_eq!(orders.last().unwrap()[12..14], ["0.00", "66.90"], "the refund is pending; the short Pix paid no order");
    let bytes =
        xlsx_bytes(&app, &accountant, &format!("/v1/exports/reconciliation?from={from}&to={to}&format=xlsx")).await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    let formulas = book.worksheet_formula("reconciliation").unwrap();
    assert_eq!(formulas.get_value((7, 5)).map(String::as_str), Some("SUM(F2:F3)"), "net = received + refunds settled");
    let rec = read_back(&bytes, "reconciliation", Locale::En);
    assert_eq!(rec[7][..2], ["TOTAL", "net"]);
    assert_eq!(rec[7][5], "146.90");

    // pt-BR: the headings in Portuguese, dates dd/mm/yyyy; the numbers are numbers all the same.
    let path = format!("/v1/exports/payments?from={from}&to={to}&format=xlsx&locale=pt-BR");
    let pay = read_back(&xlsx_bytes(&app, &accountant, &path).await, "payments", Locale::PtBr);
    assert_eq!(pay[0][..4], ["endToEndId", "txid", "pago em", "valor"]);
    assert_eq!(pay.last().unwrap()[3], "146.90");
}
on_both_databases!(xlsx_holds_what_the_csv_holds);

async fn the_cli_writes_the_same_workbook(app: TestApp) {
    let (owner, accountant) = a_shop_with_books(&app).await;
    let shop: Value = app.get("/v1/shop", &owner).await.json().await.unwrap();
    let (from, to) = period(&app);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("orders.xlsx");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_chatshop"))
        .args(["export", "orders", "--shop", shop["id"].as_str().unwrap(), "--from", &from, "--to", &to])
        .args(["--format", "xlsx", "--lines", "--out"])
        .arg(&out)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env("CHATSHOP_JWT_SECRET", JWT_SECRET)
        .env("CHATSHOP_SECRET_KEY", TEST_SECRET_KEY)
        .env("CHATSHOP_DEMO", "false")
        .output()
        .expect("run chatshop export");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("4 row(s) of orders"), "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    let rows = read_back(&bytes, "orders", Locale::En);
    let csv = csv_rows(&app, &accountant, &format!("/v1/exports/orders?from={from}&to={to}&lines=true")).await;
    assert_eq!(rows, csv);
    assert_layout(&bytes, &rows);
}
on_both_databases!(the_cli_writes_the_same_workbook);
