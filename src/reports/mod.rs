//! The accountant's exports: orders, payments, refunds and the
//! reconciliation of a period, read page by page (keyset on the id, so
//! memory does not grow with the rows) and handed row by row to a writer
//! (CSV here; the HTTP layer streams what it writes).

pub mod audit;
pub mod csv;
pub mod daily;
pub mod ofx;
mod payment_rows;
mod period;
pub mod reconcile;
mod rows;
pub mod xlsx;

pub use period::Period;
pub use rows::export;

use chrono::NaiveDateTime;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Shop(#[from] crate::shops::ShopError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// The reader went away or the output could not be written.
    #[error("cannot write the export: {0}")]
    Write(String),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ReportError {
    ReportError::Invalid { field, reason: reason.into() }
}

crate::text_enum! {
    /// Which export.
    pub enum ExportKind {
        Orders => "orders",
        Payments => "payments",
        Refunds => "refunds",
        Reconciliation => "reconciliation",
    }
}

crate::text_enum! {
    /// How numbers, dates and separators are written.
    pub enum Locale {
        En => "en",
        PtBr => "pt-BR",
    }
}

crate::text_enum! {
    pub enum Format {
        Csv => "csv",
        Xlsx => "xlsx",
        Ofx => "ofx",
    }
}

/// What an export covers besides its period.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only rows in this status (orders: the order's; payments: the outcome;
    /// refunds: the refund's).
    pub status: Option<String>,
    /// Orders: one row per item.
    pub lines: bool,
}

/// One cell, typed: writers format it for their locale.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// An amount in centavos; negative for money going out.
    Cents(i64),
    /// A total in centavos that is the sum of its column over the data rows
    /// `.1` (0 = the first row after the header), not over all of them: a
    /// spreadsheet gets a `SUM` over those rows.
    CentsSum(i64, std::ops::Range<u32>),
    /// In the shop's time zone already.
    DateTime(NaiveDateTime),
}

impl Cell {
    fn opt_text(text: Option<impl Into<String>>) -> Cell {
        text.map_or(Cell::Empty, |t| Cell::Text(t.into()))
    }
}

/// A column's heading in each locale.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub en: &'static str,
    pub pt: &'static str,
}

impl Column {
    pub fn label(self, locale: Locale) -> &'static str {
        match locale {
            Locale::En => self.en,
            Locale::PtBr => self.pt,
        }
    }
}

const fn col(en: &'static str, pt: &'static str) -> Column {
    Column { en, pt }
}

/// Where rows go, in order: the header, the rows, a labelled totals row last.
pub trait RowSink {
    fn header(&mut self, columns: &[Column]) -> Result<(), ReportError>;
    fn row(&mut self, cells: &[Cell]) -> Result<(), ReportError>;
    fn totals(&mut self, cells: &[Cell]) -> Result<(), ReportError>;
}

/// The customer's first name only: an accountant needs no more.
pub fn first_name(name: Option<&str>) -> Option<String> {
    name.and_then(|n| n.split_whitespace().next()).map(str::to_owned)
}

/// `5511988887777` → `(11) *****-7777`: the area code and the last four.
pub fn mask_phone(phone: Option<&str>) -> Option<String> {
    let digits: String = phone?.chars().filter(char::is_ascii_digit).collect();
    let national = digits.strip_prefix("55").filter(|d| d.len() >= 10).unwrap_or(&digits);
    if national.len() < 6 {
        return Some("*****".into());
    }
    let (area, rest) = national.split_at(2);
    let last = &rest[rest.len() - 4..];
    Some(format!("({area}) {}-{last}", "*".repeat(rest.len() - 4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_names_are_masked() {
        assert_eq!(mask_phone(Some("5511988887777")).as_deref(), Some("(11) *****-7777"));
        assert_eq!(mask_phone(Some("+55 21 3333-4444")).as_deref(), Some("(21) ****-4444"));
        assert_eq!(mask_phone(Some("12")).as_deref(), Some("*****"));
        assert_eq!(mask_phone(None), None);
        assert_eq!(first_name(Some("  Ana Maria Souza")).as_deref(), Some("Ana"));
    }
}
