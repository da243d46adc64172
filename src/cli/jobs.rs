//! `chatshop jobs`: look at the background queue, and give dead jobs a new start.

use crate::config::Config;
use crate::ids::{JobId, ShopId};
use crate::jobs::{self, JobStatus};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum JobsCommand {
    /// List jobs in one status (dead by default), oldest first, one JSON object a line.
    List {
        #[arg(long, default_value = "dead")]
        status: JobStatus,
        #[arg(long)]
        shop: Option<ShopId>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Queue a dead job again, with its attempts counted from zero.
    Retry { id: JobId },
}

impl clap::builder::ValueParserFactory for JobStatus {
    type Parser = clap::builder::ValueParser;
    fn value_parser() -> Self::Parser {
        clap::builder::ValueParser::new(|text: &str| text.parse::<JobStatus>())
    }
}

pub fn run(config: Config, command: JobsCommand) -> anyhow::Result<ExitCode> {
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let mut conn = pool.get()?;
    match command {
        JobsCommand::List { status, shop, limit } => {
            for job in jobs::list(&mut conn, shop, status, None, limit)? {
                let line = serde_json::json!({
                    "id": job.id, "kind": job.kind, "shop_id": job.shop_id, "status": job.status,
                    "attempts": job.attempts, "last_error": job.last_error, "run_at": job.run_at,
                    "created_at": job.created_at,
                });
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Retry { id } => {
            if jobs::retry_dead(&mut conn, None, id)? {
                println!("job {id} queued again");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("chatshop: no dead job {id}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
