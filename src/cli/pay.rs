//! `chatshop pay TXID [--amount A]`: pays a sandbox charge, as
//! `POST /sandbox/pix/{txid}/pay` does, and runs what it causes (the
//! customer's confirmation, the shop's notices) before returning.

use crate::config::Config;
use crate::money::Money;
use crate::payments::{Recorded, sandbox};
use crate::pix::ChargeTxid;
use std::process::ExitCode;

pub fn run(config: Config, txid: String, amount: Option<String>) -> anyhow::Result<ExitCode> {
    if !config.sandbox {
        anyhow::bail!("the sandbox is off (CHATSHOP_SANDBOX=false)");
    }
    let txid = ChargeTxid::parse(&txid).map_err(|e| anyhow::anyhow!("{txid}: {e}"))?;
    let amount = amount.map(|a| a.parse::<Money>().map_err(|e| anyhow::anyhow!("--amount {a}: {e}"))).transpose()?;
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let (keyring, _) = crate::startup::keyring(&config)?;
    let services = std::sync::Arc::new(crate::services::Services::new(
        &config,
        pool.clone(),
        crate::clock::Clock::system(),
        keyring,
    )?);
    let mut conn = pool.get()?;
    let (e2e, recorded) = sandbox::pay(&mut conn, &txid, amount, &services.links, services.clock.now())
        .map_err(|e| anyhow::anyhow!("{txid}: {e}"))?;
    drop(conn);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(services.runner().run_until_idle());
    let outcome = match recorded {
        Recorded::New { outcome, .. } => outcome.to_string(),
        Recorded::Known => "known".into(),
        Recorded::NotOurs => "not this shop's".into(),
    };
    println!("{}", serde_json::json!({ "end_to_end_id": e2e, "outcome": outcome }));
    Ok(ExitCode::SUCCESS)
}
