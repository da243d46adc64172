//! `chatshop summary --shop ID [--date D] [--send] [--json]`: a day's
//! summary (default: yesterday in the shop's zone) as the shop reads it, its
//! figures as JSON, or sent now (still once per shop and day).

use crate::config::Config;
use crate::notify::summary::{self, SendNow};
use crate::shops::ShopId;
use chrono::NaiveDate;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SummaryArgs {
    #[arg(long)]
    shop: ShopId,
    /// The day, in the shop's time zone; default: yesterday there.
    #[arg(long)]
    date: Option<NaiveDate>,
    /// Send it to the shop now, by e-mail and WhatsApp (once per day: a
    /// summary sent already is not sent again).
    #[arg(long)]
    send: bool,
    /// Print the figures as JSON (as `GET /v1/reports/daily`).
    #[arg(long)]
    json: bool,
}

pub fn run(config: Config, args: SummaryArgs) -> anyhow::Result<ExitCode> {
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let (keyring, _) = crate::startup::keyring(&config)?;
    let services = std::sync::Arc::new(crate::services::Services::new(
        &config,
        pool.clone(),
        crate::clock::Clock::system(),
        keyring,
    )?);
    let now = services.clock.now();
    let mut conn = pool.get()?;
    let date = match args.date {
        Some(date) => date,
        None => crate::reports::daily::yesterday(&crate::shops::settings::get(&mut conn, args.shop)?.timezone, now),
    };
    let rendered = summary::render_summary(&mut conn, args.shop, date)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rendered.figures)?);
    } else if !args.send {
        println!("{}\n\n{}", rendered.message.subject, rendered.message.text.trim_end());
    }
    if args.send {
        let outcome = summary::send_now(&mut conn, args.shop, date, now)?;
        drop(conn);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(services.runner().run_until_idle());
        match outcome {
            SendNow::Queued | SendNow::BroughtForward => eprintln!("the summary of {date} was sent"),
            SendNow::AlreadySent => eprintln!("the summary of {date} was sent already: not sent again"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
