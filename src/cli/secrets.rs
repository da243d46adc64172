//! `chatshop secrets rotate`: re-seal every shop secret with the current key.

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored shop secret with CHATSHOP_SECRET_KEY, opening the
    /// old ones with CHATSHOP_SECRET_KEY_OLD; afterwards the old key can go.
    Rotate,
}

pub fn run(config: Config, command: SecretsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SecretsCommand::Rotate => {
            let (keyring, _) = crate::startup::keyring(&config)?;
            let (pool, _) = crate::startup::prepare_database(&config)?;
            let mut conn = pool.get()?;
            let resealed = crate::shops::secrets::reseal(&mut conn, &keyring, true)?
                + crate::payments::psp_settings::reseal(&mut conn, &keyring)?
                + crate::notify::webhooks::endpoints::reseal(&mut conn, &keyring)?;
            println!("{resealed} secret(s) re-sealed with key {}", keyring.current_id());
            Ok(ExitCode::SUCCESS)
        }
    }
}
