//! `chatshop export orders|payments|refunds|reconciliation --shop ID --from D
//! --to D --format csv|xlsx|ofx [--locale pt-BR] [--out FILE]`: the same files as
//! `GET /v1/exports/…`, written to a file or standard output, with a
//! spinner counting rows when standard error is a terminal.

use crate::config::Config;
use crate::reports::csv::CsvSink;
use crate::reports::xlsx::XlsxSink;
use crate::reports::{Cell, Column, ExportKind, Format, Locale, Options, Period, ReportError, RowSink};
use crate::shops::ShopId;
use chrono::NaiveDate;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// orders, payments, refunds or reconciliation.
    kind: ExportKind,
    #[arg(long)]
    shop: ShopId,
    /// First day, in the shop's time zone (inclusive).
    #[arg(long)]
    from: NaiveDate,
    /// Last day, in the shop's time zone (inclusive).
    #[arg(long)]
    to: NaiveDate,
    #[arg(long, default_value = "csv")]
    format: Format,
    #[arg(long, default_value = "en")]
    locale: Locale,
    /// Orders: one row per item.
    #[arg(long)]
    lines: bool,
    #[arg(long)]
    status: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

/// Counts rows on a spinner as they pass to the CSV writer.
struct Progress<S> {
    inner: S,
    bar: indicatif::ProgressBar,
}

impl<S: RowSink> RowSink for Progress<S> {
    fn header(&mut self, columns: &[Column]) -> Result<(), ReportError> {
        self.inner.header(columns)
    }
    fn row(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        self.bar.inc(1);
        self.inner.row(cells)
    }
    fn totals(&mut self, cells: &[Cell]) -> Result<(), ReportError> {
        self.inner.totals(cells)
    }
}

pub fn run(config: Config, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let mut conn = pool.get()?;
    let zone = crate::shops::settings::get(&mut conn, args.shop)?.timezone;
    let period = Period::new(args.from, args.to, &zone)?;
    let out: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner().with_message("rows")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let options = Options { status: args.status, lines: args.lines };
    let rows = match args.format {
        Format::Ofx => {
            crate::reports::ofx::write(&mut conn, args.shop, args.kind, &period, crate::db::now(), &mut out)?
        }
        Format::Csv => {
            let mut sink = Progress { inner: CsvSink::new(&mut out, args.locale)?, bar: bar.clone() };
            let rows = crate::reports::export(&mut conn, args.shop, args.kind, &period, &options, &mut sink)?;
            sink.inner.finish()?;
            rows
        }
        Format::Xlsx => {
            let mut sink = Progress { inner: XlsxSink::new(args.locale, args.kind.as_str())?, bar: bar.clone() };
            let rows = crate::reports::export(&mut conn, args.shop, args.kind, &period, &options, &mut sink)?;
            bar.set_message("rows; zipping the workbook");
            sink.inner.finish(&mut out)?;
            rows
        }
    };
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("{rows} row(s) of {} from {} to {}", args.kind, period.from, period.to);
    Ok(ExitCode::SUCCESS)
}
