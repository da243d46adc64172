//! The command line: `serve` (default), `migrate`, `catalog import`, `chat`, `jobs`, `pix …`.

mod catalog;
mod chat;
mod export;
mod jobs;
mod pay;
mod pix;
mod secrets;
mod serve;
mod summary;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "chatshop", version, about = "Sell inside WhatsApp chats and get paid by Pix")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve {
        /// Do not create the demo shop on an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply pending migrations to DATABASE_URL.
    Migrate,
    /// The product catalogue.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Talk to a shop's bot from this terminal, as a WhatsApp customer would.
    Chat {
        #[arg(long)]
        shop: crate::shops::ShopId,
        /// The customer's WhatsApp number, like 5511988887777.
        #[arg(long = "as", value_parser = parse_phone)]
        customer: crate::contact::PhoneNumber,
        /// The customer's profile name.
        #[arg(long)]
        name: Option<String>,
    },
    /// The background jobs queue: list (dead ones by default), retry.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Shop secrets at rest: `rotate` re-seals them with the current key.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// Pix BR Codes: encode, decode, QR.
    #[command(subcommand)]
    Pix(pix::PixCommand),
    /// A period's orders, payments, refunds or reconciliation as CSV or OFX.
    Export(export::ExportArgs),
    /// A day's summary: printed, as JSON, or sent to the shop.
    Summary(summary::SummaryArgs),
    /// Pay a sandbox charge, as a customer's bank app would.
    Pay {
        txid: String,
        /// What the payer sends (the charge's amount when absent), like 45.90.
        #[arg(long)]
        amount: Option<String>,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve { no_demo: false }) {
        // Pure: needs no settings.
        Command::Pix(command) => pix::run(command),
        Command::Serve { no_demo } => serve::serve(chatshop_config()?, no_demo),
        Command::Migrate => {
            let config = chatshop_config()?;
            let (_, applied) = crate::startup::prepare_database(&config)?;
            println!("{applied} migration(s) applied to {}", describe_database(&config.database_url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog(command) => catalog::run(chatshop_config()?, command),
        Command::Chat { shop, customer, name } => chat::run(chatshop_config()?, shop, customer, name),
        Command::Jobs(command) => jobs::run(chatshop_config()?, command),
        Command::Secrets(command) => secrets::run(chatshop_config()?, command),
        Command::Export(args) => export::run(chatshop_config()?, args),
        Command::Summary(args) => summary::run(chatshop_config()?, args),
        Command::Pay { txid, amount } => pay::run(chatshop_config()?, txid, amount),
    }
}

fn chatshop_config() -> anyhow::Result<crate::config::Config> {
    Ok(crate::config::Config::from_env()?)
}

/// A database URL fit to print: the password is hidden.
pub fn describe_database(url: &str) -> String {
    match crate::db::Backend::of_url(url) {
        crate::db::Backend::Sqlite => format!("SQLite file {url}"),
        crate::db::Backend::Postgres => {
            let shown = match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let credentials = &url[scheme_end + 3..at];
                    match credentials.split_once(':') {
                        Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                        None => url.to_owned(),
                    }
                }
                _ => url.to_owned(),
            };
            format!("PostgreSQL {shown}")
        }
    }
}

fn parse_phone(text: &str) -> Result<crate::contact::PhoneNumber, String> {
    crate::contact::PhoneNumber::parse(text).map_err(|e| e.to_string())
}
