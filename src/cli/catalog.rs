use crate::catalog::{CatalogError, ImportOptions, import_feed};
use crate::config::Config;
use crate::shops::ShopId;
use clap::Subcommand;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Import a Meta commerce feed (CSV or TSV) into a shop's catalogue.
    Import {
        #[arg(long)]
        shop: ShopId,
        /// Import the valid rows and report the others.
        #[arg(long)]
        skip_invalid: bool,
        file: PathBuf,
    },
}

pub fn run(config: Config, command: CatalogCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogCommand::Import { shop, skip_invalid, file } => import(config, shop, skip_invalid, file),
    }
}

fn import(config: Config, shop: ShopId, skip_invalid: bool, file: PathBuf) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let mut conn = pool.get()?;
    crate::shops::get(&mut conn, shop).map_err(|_| anyhow::anyhow!("no shop with id {shop}"))?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} products ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = |done: usize, total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let result = import_feed(&mut conn, shop, &bytes, ImportOptions { skip_invalid }, &mut progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(report) => {
            println!(
                "{} created, {} updated, {} invalid row(s) skipped",
                report.created,
                report.updated,
                report.errors.len()
            );
            for e in &report.errors {
                eprintln!("row {}, column {}: {}", e.row, e.column, e.reason);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(CatalogError::InvalidFeed(errors)) => {
            for e in &errors {
                eprintln!("row {}, column {}: {}", e.row, e.column, e.reason);
            }
            anyhow::bail!(
                "{} invalid row(s) in {}; nothing was imported (use --skip-invalid to import the rest)",
                errors.len(),
                file.display()
            )
        }
        Err(other) => Err(other.into()),
    }
}
