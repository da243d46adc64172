//! Meta commerce feeds (CSV or TSV): reading them into products, and writing
//! the catalogue back out in the same format, so export → import round-trips.

use super::input as product;
use super::{CatalogError, FeedError};
use super::{Product, ProductFields};
use crate::money::Money;
use std::collections::HashMap;

/// The columns written on export, in Meta's order; import reads them by name.
pub const COLUMNS: [&str; 15] = [
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
    "sale_price",
    "quantity_to_sell_on_facebook",
    "item_group_id",
    "size",
    "color",
    "product_type",
];
const REQUIRED: [&str; 3] = ["id", "title", "price"];

/// A feed row that passed every check, with its spreadsheet row number.
#[derive(Debug, Clone)]
pub struct FeedRow {
    pub row: usize,
    pub fields: ProductFields,
    /// Whether the feed has a stock column at all: without one, importing
    /// leaves the stock of existing products as it is.
    pub names_stock: bool,
}

/// Reads a whole feed. Rows with errors are reported, not returned; the
/// caller decides whether a partial import is wanted.
pub fn parse(bytes: &[u8]) -> Result<(Vec<FeedRow>, Vec<FeedError>), CatalogError> {
    let text = decode_text(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or("");
    if first_line.trim().is_empty() {
        return Err(CatalogError::UnreadableFeed("the feed is empty; its first line must name the columns".into()));
    }
    let mut reader =
        csv::ReaderBuilder::new().delimiter(sniff_delimiter(first_line)).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CatalogError::UnreadableFeed(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let missing: Vec<FeedError> = REQUIRED
        .iter()
        .filter(|r| !header.iter().any(|h| h == *r))
        .map(|r| FeedError { row: 1, column: (*r).into(), reason: "required column is missing".into() })
        .collect();
    if !missing.is_empty() {
        return Err(CatalogError::InvalidFeed(missing));
    }
    let index: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (h.as_str(), i)).collect();
    let names_stock = index.contains_key("quantity_to_sell_on_facebook");

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_row_of_sku: HashMap<String, usize> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let row = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FeedError { row, column: String::new(), reason: e.to_string() });
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue; // spreadsheets leave blank lines at the end
        }
        if record.len() != header.len() {
            errors.push(FeedError {
                row,
                column: String::new(),
                reason: format!("has {} cells where the header has {}", record.len(), header.len()),
            });
            continue;
        }
        let cell = |name: &str| index.get(name).and_then(|&i| record.get(i)).map(str::trim).filter(|c| !c.is_empty());
        match read_row(cell) {
            Ok(fields) => {
                let sku = fields.retailer_id.as_str().to_owned();
                if let Some(first) = first_row_of_sku.get(&sku) {
                    errors.push(FeedError {
                        row,
                        column: "id".into(),
                        reason: format!("SKU `{sku}` is also on row {first}"),
                    });
                } else {
                    first_row_of_sku.insert(sku, row);
                    rows.push(FeedRow { row, fields, names_stock });
                }
            }
            Err(cell_errors) => errors.extend(cell_errors.into_iter().map(|(column, reason)| FeedError {
                row,
                column: column.into(),
                reason,
            })),
        }
    }
    Ok((rows, errors))
}

/// Real spreadsheets export UTF-8, but Excel's "CSV" in Brazil writes
/// Windows-1252: Latin-1 plus curly quotes, dashes, € and … in 0x80–0x9F.
fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect::<String>().into(),
    }
}

fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH[usize::from(byte - 0x80)],
        other => char::from(other),
    }
}

fn sniff_delimiter(header_line: &str) -> u8 {
    let count = |c: char| header_line.matches(c).count();
    [(b'\t', count('\t')), (b';', count(';')), (b',', count(','))]
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .filter(|&(_, n)| n > 0)
        .map_or(b',', |(d, _)| d)
}

type CellErrors = Vec<(&'static str, String)>;

/// Keeps a cell's value, or notes why it is bad under the feed's column name.
fn take_cell<T>(errors: &mut CellErrors, column: &'static str, result: Result<T, CatalogError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(CatalogError::Invalid { reason, .. }) => {
            errors.push((column, reason));
            None
        }
        Err(other) => {
            errors.push((column, other.to_string()));
            None
        }
    }
}

/// Reads every cell and reports every bad one, so the owner fixes a row once.
fn read_row<'a>(cell: impl Fn(&str) -> Option<&'a str>) -> Result<ProductFields, CellErrors> {
    let mut errors: CellErrors = Vec::new();
    macro_rules! take {
        ($column:expr, $result:expr) => {
            take_cell(&mut errors, $column, $result)
        };
    }
    let sku = take!("id", product::parse_sku(cell("id").unwrap_or("")));
    let title = cell("title").ok_or_else(|| CatalogError::invalid("title", "must not be empty"));
    let name = take!("title", title.and_then(|t| product::bounded("title", t, 200)));
    let description = take!("description", product::bounded("description", cell("description").unwrap_or(""), 9999));
    let price = cell("price").ok_or_else(|| CatalogError::invalid("price", "must not be empty"));
    let price = take!("price", price.and_then(|p| parse_feed_price("price", p)));
    let sale_price = take!("sale_price", cell("sale_price").map(|p| parse_feed_price("sale_price", p)).transpose());
    let stock = take!("quantity_to_sell_on_facebook", parse_stock(cell("quantity_to_sell_on_facebook")));
    let availability = take!("availability", product::parse_availability(cell("availability")));
    let condition = take!("condition", product::parse_condition("condition", cell("condition")));
    let link = take!("link", product::optional_url("link", cell("link")));
    let image_url = take!("image_link", product::optional_url("image_link", cell("image_link")));
    let brand = take!("brand", product::optional_text("brand", cell("brand"), 100));
    let category = take!("product_type", product::optional_text("product_type", cell("product_type"), 250));
    let item_group_id = take!("item_group_id", product::optional_text("item_group_id", cell("item_group_id"), 100));
    let size = take!("size", product::optional_text("size", cell("size"), 100));
    let color = take!("color", product::optional_text("color", cell("color"), 100));

    let fields = (|| {
        Some(ProductFields {
            retailer_id: sku?,
            name: name?,
            description: description?,
            price: price?,
            sale_price: sale_price?,
            stock: stock?,
            availability: availability?,
            condition: condition?,
            image_url: image_url?,
            link: link?,
            brand: brand?,
            category: category?,
            item_group_id: item_group_id?,
            size: size?,
            color: color?,
        })
    })();
    match fields {
        Some(f) if errors.is_empty() => f.check().map_err(|e| match e {
            CatalogError::Invalid { field, reason } => vec![(field, reason)],
            other => vec![("", other.to_string())],
        }),
        _ => Err(errors),
    }
}

/// `45.90 BRL` as Meta writes it; `45.90` and a decimal comma (`45,90 BRL`)
/// as Brazilian spreadsheets do. Other currencies are refused, not converted.
fn parse_feed_price(column: &'static str, text: &str) -> Result<Money, CatalogError> {
    let mut parts = text.split_whitespace();
    let amount = parts.next().unwrap_or("");
    let currency = parts.next();
    if parts.next().is_some() {
        return Err(CatalogError::invalid(column, format!("`{text}` is not a price like 45.90 BRL")));
    }
    if let Some(c) = currency.filter(|c| !c.eq_ignore_ascii_case("BRL")) {
        return Err(CatalogError::invalid(column, format!("currency {c} is not supported; prices must be in BRL")));
    }
    let amount = match (amount.contains('.'), amount.contains(',')) {
        (true, true) => {
            return Err(CatalogError::invalid(column, format!("`{text}` mixes . and ,; write 1234.56 BRL")));
        }
        (false, true) => amount.replace(',', "."),
        _ => amount.to_owned(),
    };
    product::parse_money(column, &amount)
}

fn parse_stock(cell: Option<&str>) -> Result<Option<i64>, CatalogError> {
    cell.map(|c| {
        c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            CatalogError::invalid("quantity_to_sell_on_facebook", format!("`{c}` is not a whole number ≥ 0"))
        })
    })
    .transpose()
}

/// Writes the catalogue as a Meta commerce feed (CSV, UTF-8).
pub fn write_csv(products: &[Product]) -> Result<Vec<u8>, CatalogError> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(products.len() * 300 + 256));
    let io = |e: csv::Error| CatalogError::UnreadableFeed(e.to_string());
    writer.write_record(COLUMNS).map_err(io)?;
    for p in products {
        let price = format!("{} BRL", p.price);
        let sale_price = p.sale_price.map(|s| format!("{s} BRL")).unwrap_or_default();
        let stock = p.stock.map(|s| s.to_string()).unwrap_or_default();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        writer
            .write_record([
                p.retailer_id.as_str(),
                &p.name,
                &p.description,
                p.availability.as_str(),
                p.condition.as_str(),
                &price,
                &opt(&p.link),
                &opt(&p.image_url),
                &opt(&p.brand),
                &sale_price,
                &stock,
                &opt(&p.item_group_id),
                &opt(&p.size),
                &opt(&p.color),
                &opt(&p.category),
            ])
            .map_err(io)?;
    }
    writer.into_inner().map_err(|e| CatalogError::UnreadableFeed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_feeds_write_them() {
        assert_eq!(parse_feed_price("price", "45.90 BRL").unwrap().cents(), 4590);
        assert_eq!(parse_feed_price("price", "45,90 BRL").unwrap().cents(), 4590);
        assert_eq!(parse_feed_price("price", "45.9").unwrap().cents(), 4590);
        assert!(parse_feed_price("price", "45.90 USD").is_err());
        assert!(parse_feed_price("price", "45.999 BRL").is_err());
        assert!(parse_feed_price("price", "-1.00 BRL").is_err());
        assert!(parse_feed_price("price", "1.234,56 BRL").is_err());
    }

    #[test]
    fn sniffs_tabs_semicolons_and_commas() {
        assert_eq!(sniff_delimiter("id\ttitle\tprice"), b'\t');
        assert_eq!(sniff_delimiter("id;title;price"), b';');
        assert_eq!(sniff_delimiter("id,title,price"), b',');
    }

    #[test]
    fn reports_every_bad_cell_of_a_row_and_keeps_the_good_rows() {
        let feed =
            "id,title,price,quantity_to_sell_on_facebook\nA,Bolo,10.00 BRL,3\nB,,1.999 BRL,-2\nA,Outro,1.00 BRL,\n";
        let (rows, errors) = parse(feed.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        let cells: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(cells, [(3, "title"), (3, "price"), (3, "quantity_to_sell_on_facebook"), (4, "id")]);
    }

    #[test]
    fn windows_1252_spreadsheets_keep_their_accents_and_quotes() {
        let feed = b"id;title;price\nPAO;P\xe3o de queijo \x93mineiro\x94 \x96 6 un.;5,00\n";
        let (rows, errors) = parse(feed).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].fields.name, "Pão de queijo “mineiro” – 6 un.");
        assert_eq!(rows[0].fields.availability, super::super::Availability::InStock);
    }
}
