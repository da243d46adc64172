//! `chatshop pix encode|decode|qr`: BR Codes from the command line.

use crate::pix::brcode::{self, DynamicCode, Merchant, PixCode, PixKey, StaticCode, Txid};
use crate::pix::qr;
use clap::{Subcommand, ValueEnum};
use rust_decimal::Decimal;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

#[derive(Subcommand)]
pub enum PixCommand {
    /// Print a BR Code: static (key), or dynamic with --url.
    Encode {
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        city: String,
        /// Like 10.50; absent, the payer types the amount.
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        txid: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// The PSP's location URL without scheme (dynamic codes).
        #[arg(long)]
        url: Option<String>,
        /// CEP, 8 digits.
        #[arg(long)]
        postal_code: Option<String>,
    },
    /// Print each payload as a JSON object; `-` reads one payload per line from stdin.
    Decode { payload: String },
    /// Write a payload's QR code to a file.
    Qr {
        payload: String,
        #[arg(long, value_enum, default_value = "svg")]
        format: QrFormat,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum QrFormat {
    Svg,
    Png,
}

pub fn run(command: PixCommand) -> anyhow::Result<ExitCode> {
    match command {
        PixCommand::Encode { key, name, city, amount, txid, description, url, postal_code } => {
            let amount = amount
                .map(|a| {
                    Decimal::from_str(a.trim())
                        .map_err(|_| anyhow::anyhow!("--amount `{a}` is not a decimal like 10.50"))
                })
                .transpose()?;
            let merchant = Merchant { name: &name, city: &city, postal_code: postal_code.as_deref() };
            let payload = match (url, key) {
                (Some(url), _) => brcode::encode(&PixCode::Dynamic(DynamicCode { location: &url, amount, merchant }))?,
                (None, Some(key)) => {
                    let key = PixKey::parse(&key)?;
                    let txid = txid.as_deref().map(Txid::parse).transpose()?;
                    brcode::encode(&PixCode::Static(StaticCode {
                        key: &key,
                        description: description.as_deref(),
                        amount,
                        txid: txid.as_ref(),
                        merchant,
                    }))?
                }
                (None, None) => anyhow::bail!("give --key for a static code or --url for a dynamic one"),
            };
            println!("{payload}");
            Ok(ExitCode::SUCCESS)
        }
        PixCommand::Decode { payload } if payload == "-" => decode_lines(),
        PixCommand::Decode { payload } => {
            let decoded = brcode::decode(payload.trim()).map_err(|e| anyhow::anyhow!("invalid BR Code: {e}"))?;
            println!("{}", serde_json::to_string(&decoded.to_json())?);
            Ok(ExitCode::SUCCESS)
        }
        PixCommand::Qr { payload, format, out } => {
            let payload = payload.trim();
            brcode::decode(payload).map_err(|e| anyhow::anyhow!("invalid BR Code: {e}"))?;
            let bytes = match format {
                QrFormat::Svg => qr::to_svg(payload)?.into_bytes(),
                QrFormat::Png => qr::to_png(payload)?,
            };
            std::fs::write(&out, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One JSON object per valid line; a reason per invalid one on stderr, and
/// exit status 1 at the end if any line failed.
fn decode_lines() -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        let payload = line.trim();
        if payload.is_empty() {
            continue;
        }
        match brcode::decode(payload) {
            Ok(decoded) => println!("{}", serde_json::to_string(&decoded.to_json())?),
            Err(error) => {
                eprintln!("chatshop: line {}: invalid BR Code: {error}", number + 1);
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
