//! `chatshop chat`: talk to a shop's bot from a terminal, without Meta. Each
//! line is wrapped as Meta's webhook, signed, and goes the webhook's way.

use crate::channels::whatsapp::message::OutboundMessage;
use crate::chat::conversation::{self, Direction, StoredMessage};
use crate::chat::inbound::{self, local_phone_number_id};
use crate::config::Config;
use crate::contact::PhoneNumber;
use crate::db::AnyConnection;
use crate::ids::ChatMessageId;
use crate::shops::{ShopId, whatsapp};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use uuid::Uuid;

pub fn run(config: Config, shop: ShopId, customer: PhoneNumber, name: Option<String>) -> anyhow::Result<ExitCode> {
    let (keyring, _) = crate::startup::keyring(&config)?;
    let (pool, _) = crate::startup::prepare_database(&config)?;
    let mut conn = pool.get()?;
    let chat_shop = whatsapp::chat_shop(&mut conn, shop).map_err(|_| anyhow::anyhow!("no shop with id {shop}"))?;
    if chat_shop.phone_number_id.is_some() {
        anyhow::bail!("{} is connected to WhatsApp; talk to it there", chat_shop.name);
    }
    // Signed and checked like Meta's deliveries; the key never leaves this process.
    let secret = config.whatsapp_app_secret.clone().unwrap_or_else(|| Uuid::new_v4().to_string());
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if interactive {
        println!("Talking to {} as +{customer}. Type a message (#pay presses a button); Ctrl-D ends.", chat_shop.name);
    }
    // The replies are "sent" by the same jobs as in the service: a shop with
    // no WhatsApp number keeps them for this chat to show.
    let services = std::sync::Arc::new(crate::services::Services::new(
        &config,
        pool.clone(),
        crate::clock::Clock::system(),
        keyring,
    )?);
    let jobs = services.runner();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut last_seen: Option<ChatMessageId> = None;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let said = line.trim();
        if said.is_empty() {
            continue;
        }
        let body = serde_json::to_vec(&webhook_for(shop, &customer, name.as_deref(), said))?;
        let signature = crate::chat::signature::sign(secret.as_bytes(), &body);
        inbound::receive(&mut conn, secret.as_bytes(), &body, Some(&signature), &services.placed())?;
        runtime.block_on(jobs.run_until_idle());
        for message in replies_since(&mut conn, shop, &customer, &mut last_seen)? {
            println!("{}\n", render(&message));
        }
        std::io::stdout().flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One message as Meta would post it: a text, or a button press for `#id`.
fn webhook_for(shop: ShopId, customer: &PhoneNumber, name: Option<&str>, said: &str) -> serde_json::Value {
    let mut message = serde_json::json!({
        "from": customer.as_str(),
        "id": format!("local.{}", Uuid::new_v4().simple()),
        "timestamp": chrono::Utc::now().timestamp().to_string(),
    });
    match said.strip_prefix('#') {
        Some(button) => {
            message["type"] = "interactive".into();
            message["interactive"] =
                serde_json::json!({"type": "button_reply", "button_reply": {"id": button, "title": button}});
        }
        None => {
            message["type"] = "text".into();
            message["text"] = serde_json::json!({ "body": said });
        }
    }
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "local", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "local", "phone_number_id": local_phone_number_id(shop)},
        "contacts": [{"profile": {"name": name.unwrap_or("Cliente")}, "wa_id": customer.as_str()}],
        "messages": [message]}}]}]})
}

/// The bot's replies stored since the last look.
fn replies_since(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: &PhoneNumber,
    last_seen: &mut Option<ChatMessageId>,
) -> anyhow::Result<Vec<OutboundMessage>> {
    let Some(customer) = crate::customers::find(conn, shop, customer.as_str())? else { return Ok(Vec::new()) };
    let messages: Vec<StoredMessage> = conversation::history(conn, &customer, *last_seen)?;
    if let Some(last) = messages.last() {
        *last_seen = Some(last.id);
    }
    Ok(messages
        .into_iter()
        .filter(|m| m.direction == Direction::Out)
        .filter_map(|m| serde_json::from_str(&m.body).ok())
        .collect())
}

/// A message as a terminal can show it.
pub fn render(message: &OutboundMessage) -> String {
    match message {
        OutboundMessage::Text { body } => body.clone(),
        OutboundMessage::Buttons { body, buttons } => {
            let pressed: Vec<String> = buttons.iter().map(|b| format!("[{}: #{}]", b.title, b.id)).collect();
            format!("{body}\n{}", pressed.join(" "))
        }
        OutboundMessage::ProductList { header, body, sections, .. } => {
            let mut text = format!("*{header}*\n{body}");
            for section in sections {
                text.push_str(&format!("\n{}: {}", section.title, section.skus.join(", ")));
            }
            text
        }
        other => format!("({} message)", other.kind()),
    }
}
