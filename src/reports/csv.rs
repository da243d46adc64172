//! CSV in two dialects. `en`: RFC 4180 (comma, CRLF), dot decimals, ISO
//! dates, UTF-8. `pt-BR`: what a Brazilian Excel opens right with a double
//! click: `;`, comma decimals, dd/mm/aaaa, UTF-8 with a BOM, CRLF.
//! Text cells that a spreadsheet would run as a formula are neutralised;
//! amounts never are (a refund of `-12,50` is a number).

use super::{Cell, Column, Locale, ReportError, RowSink};
use std::io::Write;

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    locale: Locale,
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut out: W, locale: Locale) -> Result<CsvSink<W>, ReportError> {
        // The csv crate writes no BOM: Excel needs it to read UTF-8.
        if locale == Locale::PtBr {
            out.write_all(BOM).map_err(write_error)?;
        }
        let writer = csv::WriterBuilder::new()
            .delimiter(if locale == Locale::PtBr { b';' } else { b',' })
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        Ok(CsvSink { writer, locale })
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W, ReportError> {
        self.writer.into_inner().map_err(|e| ReportError::Write(e.error().to_string()))
    }

    fn record(&mut self, fields: impl Iterator<Item = String>) -> Result<(), ReportError> {
        self.writer.write_record(fields).map_err(|e| ReportError::Write(e.to_string()))
    }
}

fn write_error(e: std::io::Error) -> ReportError {
    ReportError::Write(e.to_string())
}

/// `=SUM(...)`, `+1`, `-1+1`, `@cmd`, and a leading tab or CR, as text.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

/// `-1234.5` as `-1234.50` or `-1234,50`: no thousands separator, which
/// every reader would take for a decimal one in the other locale.
pub fn amount(cents: i64, locale: Locale) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let point = if locale == Locale::PtBr { ',' } else { '.' };
    format!("{sign}{}{point}{:02}", abs / 100, abs % 100)
}

pub fn format_cell(cell: &Cell, locale: Locale) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => neutralise(text),
        Cell::Int(n) => n.to_string(),
        Cell::Cents(cents) | Cell::CentsSum(cents, _) => amount(*cents, locale),
        Cell::DateTime(at) => match locale {
            Locale::En => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Locale::PtBr => at.format("%d/%m/%Y %H:%M:%S").to_string(),
        },
    }
}

impl<W: Write> RowSink for CsvSink<W> {
    fn header(&mut self, columns: &[Column]) -> Result<(), ReportError> {
        let locale = self.locale;
        self.record(columns.iter().map(|c| c.label(locale).to_owned()))
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        let locale = self.locale;
        self.record(cells.iter().map(|c| format_cell(c, locale)))
    }

    fn totals(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        self.row(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::col;

    fn render(locale: Locale) -> String {
        let mut sink = CsvSink::new(Vec::new(), locale).unwrap();
        sink.header(&[col("name", "nome"), col("amount", "valor"), col("at", "em")]).unwrap();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap().and_hms_opt(9, 5, 0).unwrap();
        sink.row(&[Cell::Text("=HYPERLINK(\"x\")".into()), Cell::Cents(-1250), Cell::DateTime(at)]).unwrap();
        sink.row(&[Cell::Text("Zé; \"Bolo\"".into()), Cell::Cents(123456), Cell::Empty]).unwrap();
        sink.totals(&[Cell::Text("TOTAL".into()), Cell::Cents(122206), Cell::Empty]).unwrap();
        String::from_utf8(sink.finish().unwrap()).unwrap()
    }

    #[test]
    fn english_is_rfc4180() {
        let expected = concat!(
            "name,amount,at\r\n",
            "\"'=HYPERLINK(\"\"x\"\")\",-12.50,2026-11-03T09:05:00\r\n",
            "\"Zé; \"\"Bolo\"\"\",1234.56,\r\n",
            "TOTAL,1222.06,\r\n",
        );
        assert_eq!(render(Locale::En), expected);
    }

    #[test]
    fn brazilian_has_a_bom_semicolons_and_commas() {
        let text = render(Locale::PtBr);
        let body = text.strip_prefix('\u{feff}').expect("a BOM");
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(lines[0], "nome;valor;em");
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"x\"\")\";-12,50;03/11/2026 09:05:00");
        assert_eq!(lines[2], "\"Zé; \"\"Bolo\"\"\";1234,56;");
        assert_eq!(lines[3], "TOTAL;1222,06;");
    }
}
