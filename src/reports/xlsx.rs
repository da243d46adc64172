//! XLSX with rust_xlsxwriter in constant-memory mode: each row goes to a
//! temporary file as it is written (memory does not grow with the rows);
//! `finish` zips the workbook into the output, which may stream.
//!
//! Amounts are real numbers with the format `"R$" #,##0.00` (US syntax, as
//! the file format stores it; Excel and LibreOffice show `R$ 1.234,56` to a
//! Brazilian reader); dates are real dates with a date-time format; the
//! header row is frozen and carries an autofilter; column widths are set from
//! the header and the first rows (autofit sees one row in this mode); the
//! labelled totals row sums its columns with `SUM` formulas whose cached
//! results are the exact totals (readers that do not recalculate see them).

use super::csv::amount;
use super::{Cell, Column, Locale, ReportError, RowSink};
use rust_xlsxwriter::{Format, FormatBorder, Formula, Workbook, Worksheet, XlsxError};
use std::io::Write;

/// US syntax: a Brazilian Excel shows it as `R$ #.##0,00`.
pub const MONEY_FORMAT: &str = "\"R$\" #,##0.00";
pub const INTEGER_FORMAT: &str = "0";

pub fn date_format(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "yyyy-mm-dd hh:mm:ss",
        Locale::PtBr => "dd/mm/yyyy hh:mm:ss",
    }
}

/// Rows held back to size the columns before the first row is written.
const SIZING_ROWS: usize = 100;
/// Excel's longest text in a cell.
const MAX_TEXT: usize = 32_767;
/// The data rows a sheet holds: 1,048,576 less the header and the totals.
pub const MAX_ROWS: u64 = 1_048_574;

struct Formats {
    header: Format,
    money: Format,
    integer: Format,
    date: Format,
    total_text: Format,
    total_money: Format,
    total_integer: Format,
}

impl Formats {
    fn new(locale: Locale) -> Formats {
        let money = Format::new().set_num_format(MONEY_FORMAT);
        let integer = Format::new().set_num_format(INTEGER_FORMAT);
        let total = |f: &Format| f.clone().set_bold().set_border_top(FormatBorder::Thin);
        Formats {
            header: Format::new().set_bold().set_border_bottom(FormatBorder::Thin),
            date: Format::new().set_num_format(date_format(locale)),
            total_text: total(&Format::new()),
            total_money: total(&money),
            total_integer: total(&integer),
            money,
            integer,
        }
    }
}

pub struct XlsxSink {
    workbook: Workbook,
    locale: Locale,
    formats: Formats,
    columns: Vec<Column>,
    /// The first rows, until the widths are set.
    held: Option<Vec<Vec<Cell>>>,
    /// Data rows written (the header not counted).
    rows: u64,
    /// Per column, the sum of its numbers (centavos or units).
    sums: Vec<i64>,
    done: bool,
}

fn xlsx_error(e: XlsxError) -> ReportError {
    ReportError::Write(e.to_string())
}

/// `0` → `A`, `27` → `AB`.
fn column_name(mut col: u16) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// How wide a cell shows, in characters.
fn cell_width(cell: &Cell, locale: Locale) -> usize {
    match cell {
        Cell::Empty => 0,
        Cell::Text(text) => text.chars().count(),
        Cell::Int(n) => n.to_string().len(),
        // `R$ ` and a thousands separator every three digits.
        Cell::Cents(c) | Cell::CentsSum(c, _) => {
            let digits = amount(*c, locale).len();
            digits + 3 + digits / 3
        }
        Cell::DateTime(_) => date_format(locale).len(),
    }
}

impl XlsxSink {
    /// A workbook of one sheet in constant-memory mode; its rows go to
    /// temporary files in the system's temporary directory.
    pub fn new(locale: Locale, sheet_name: &str) -> Result<XlsxSink, ReportError> {
        let mut workbook = Workbook::new();
        workbook.add_worksheet_with_constant_memory().map_err(xlsx_error)?.set_name(sheet_name).map_err(xlsx_error)?;
        Ok(XlsxSink {
            workbook,
            locale,
            formats: Formats::new(locale),
            columns: Vec::new(),
            held: Some(Vec::new()),
            rows: 0,
            sums: Vec::new(),
            done: false,
        })
    }

    fn sheet(workbook: &mut Workbook) -> Result<&mut Worksheet, ReportError> {
        workbook.worksheet_from_index(0).map_err(xlsx_error)
    }

    /// Sets the widths from the header and the rows held, writes the header
    /// (frozen) and the held rows.
    fn release(&mut self) -> Result<(), ReportError> {
        let Some(held) = self.held.take() else { return Ok(()) };
        let locale = self.locale;
        let sheet = Self::sheet(&mut self.workbook)?;
        for (i, column) in self.columns.iter().enumerate() {
            let widest = held.iter().filter_map(|r| r.get(i)).map(|c| cell_width(c, locale)).max().unwrap_or(0);
            // Two more for the autofilter's button beside the heading.
            let width = widest.max(column.label(locale).chars().count() + 3).clamp(6, 60);
            sheet.set_column_width(i as u16, width as f64 + 1.0).map_err(xlsx_error)?;
            sheet
                .write_string_with_format(0, i as u16, column.label(locale), &self.formats.header)
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        for cells in held {
            self.write_row(&cells)?;
        }
        Ok(())
    }

    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        if self.rows >= MAX_ROWS {
            return Err(ReportError::Write(format!(
                "an XLSX sheet holds at most {MAX_ROWS} rows; export a shorter period"
            )));
        }
        let row = (self.rows + 1) as u32;
        let sheet = Self::sheet(&mut self.workbook)?;
        for (i, cell) in cells.iter().enumerate() {
            let col = i as u16;
            let number = match cell {
                Cell::Empty => None,
                Cell::Text(text) => {
                    let text = match text.char_indices().nth(MAX_TEXT) {
                        Some((end, _)) => &text[..end],
                        None => text,
                    };
                    // A string cell is never run as a formula: no neutralising.
                    sheet.write_string(row, col, text).map_err(xlsx_error)?;
                    None
                }
                Cell::Int(n) => {
                    sheet.write_number_with_format(row, col, *n as f64, &self.formats.integer).map_err(xlsx_error)?;
                    Some(*n)
                }
                Cell::Cents(c) | Cell::CentsSum(c, _) => {
                    sheet
                        .write_number_with_format(row, col, cents_value(*c), &self.formats.money)
                        .map_err(xlsx_error)?;
                    Some(*c)
                }
                Cell::DateTime(at) => {
                    sheet.write_datetime_with_format(row, col, at, &self.formats.date).map_err(xlsx_error)?;
                    None
                }
            };
            if let (Some(n), Some(sum)) = (number, self.sums.get_mut(i)) {
                *sum = sum.saturating_add(n);
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Zips the workbook into `out` (streamed: no seeking) and hands it back.
    pub fn finish<W: Write + Send>(mut self, mut out: W) -> Result<W, ReportError> {
        self.release()?;
        let last_col = self.columns.len().saturating_sub(1) as u16;
        let last_row = self.rows as u32;
        let sheet = Self::sheet(&mut self.workbook)?;
        sheet.autofilter(0, 0, last_row, last_col).map_err(xlsx_error)?;
        self.workbook.save_to_writer(&mut out).map_err(xlsx_error)?;
        Ok(out)
    }
}

/// Centavos as the number a spreadsheet holds (reais). The only float in
/// the path: the file format stores IEEE doubles; the nearest double of an
/// amount with two decimals reads back as the same two decimals.
fn cents_value(cents: i64) -> f64 {
    cents as f64 / 100.0
}

impl RowSink for XlsxSink {
    fn header(&mut self, columns: &[Column]) -> Result<(), ReportError> {
        self.columns = columns.to_vec();
        self.sums = vec![0; columns.len()];
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        match &mut self.held {
            Some(held) if held.len() < SIZING_ROWS => {
                held.push(cells.to_vec());
                Ok(())
            }
            _ => {
                self.release()?;
                self.write_row(cells)
            }
        }
    }

    /// The totals, after every row: a `SUM` over the column (or the rows a
    /// [`Cell::CentsSum`] names) with the total as its cached result. A
    /// total that is not its column's sum is written as a plain number.
    fn totals(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        self.release()?;
        if self.done {
            return Err(ReportError::Write("the totals row is written once".into()));
        }
        self.done = true;
        let row = (self.rows + 1) as u32;
        let all = 0..self.rows as u32;
        let (f, sums) = (&self.formats, &self.sums);
        let sheet = Self::sheet(&mut self.workbook)?;
        for (i, cell) in cells.iter().enumerate() {
            let col = i as u16;
            let (value, format, range, cached) = match cell {
                Cell::Empty => continue,
                Cell::Text(text) => {
                    sheet.write_string_with_format(row, col, text, &f.total_text).map_err(xlsx_error)?;
                    continue;
                }
                Cell::DateTime(at) => {
                    sheet.write_datetime_with_format(row, col, at, &f.date).map_err(xlsx_error)?;
                    continue;
                }
                Cell::Int(n) => {
                    let whole = sums.get(i) == Some(n);
                    (*n as f64, &f.total_integer, whole.then(|| all.clone()), n.to_string())
                }
                Cell::Cents(c) => {
                    let whole = sums.get(i) == Some(c);
                    (cents_value(*c), &f.total_money, whole.then(|| all.clone()), amount(*c, Locale::En))
                }
                Cell::CentsSum(c, rows) => {
                    (cents_value(*c), &f.total_money, Some(rows.clone()), amount(*c, Locale::En))
                }
            };
            match range.filter(|r| !r.is_empty() && r.end <= self.rows as u32) {
                Some(rows) => {
                    let name = column_name(col);
                    // Data row k is sheet row k + 2 (1-based, after the header).
                    let formula = Formula::new(format!("=SUM({name}{}:{name}{})", rows.start + 2, rows.end + 1))
                        .set_result(cached);
                    sheet.write_formula_with_format(row, col, formula, format).map_err(xlsx_error)?;
                }
                None => {
                    sheet.write_number_with_format(row, col, value, format).map_err(xlsx_error)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(15), "P");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
        assert_eq!(column_name(701), "ZZ");
        assert_eq!(column_name(702), "AAA");
    }
}
