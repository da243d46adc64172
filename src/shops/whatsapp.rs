//! A shop's WhatsApp connection: its number's id, its access token (a secret,
//! never returned nor logged), its catalogue and its fallback template.

use super::{ShopError, ShopId};
use crate::db::{AnyConnection, schema::shops};
use diesel::prelude::*;
use serde::Serialize;

/// Settings as the owner sends them, each checked.
pub struct WhatsAppSettings {
    pub phone_number_id: String,
    pub access_token: String,
    pub catalog_id: Option<String>,
    pub template: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub name: String,
    pub language: String,
}

/// What the API shows: everything but the token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhatsAppSettingsView {
    pub phone_number_id: String,
    pub catalog_id: Option<String>,
    pub template: Option<Template>,
    pub access_token_set: bool,
}

/// What the chat needs to answer for a shop.
#[derive(Clone)]
pub struct ChatShop {
    pub id: ShopId,
    pub name: String,
    pub language: String,
    pub phone_number_id: Option<String>,
    /// Sealed; `access_token` opens it where a message is sent.
    sealed_access_token: Option<String>,
    pub catalog_id: Option<String>,
    pub template: Option<Template>,
}

impl std::fmt::Debug for ChatShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatShop").field("id", &self.id).field("phone_number_id", &self.phone_number_id).finish()
    }
}

fn digits_id(field: &'static str, text: &str) -> Result<String, ShopError> {
    let text = text.trim();
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShopError::InvalidSetting { field, reason: "must be the numeric id Meta shows".into() });
    }
    Ok(text.to_owned())
}

impl WhatsAppSettings {
    pub fn parse(
        phone_number_id: &str,
        access_token: &str,
        catalog_id: Option<&str>,
        template: Option<(&str, &str)>,
    ) -> Result<WhatsAppSettings, ShopError> {
        let access_token = access_token.trim();
        if access_token.is_empty() || access_token.len() > 1024 || access_token.contains(char::is_whitespace) {
            return Err(ShopError::InvalidSetting {
                field: "access_token",
                reason: "must be Meta's access token".into(),
            });
        }
        let template = template
            .map(|(name, language)| {
                let valid_name = !name.is_empty()
                    && name.len() <= 512
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                let valid_language =
                    (2..=8).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
                match (valid_name, valid_language) {
                    (true, true) => Ok(Template { name: name.to_owned(), language: language.to_owned() }),
                    (false, _) => Err(ShopError::InvalidSetting {
                        field: "template.name",
                        reason: "lower-case letters, digits and _".into(),
                    }),
                    (_, false) => Err(ShopError::InvalidSetting {
                        field: "template.language",
                        reason: "a language code like pt_BR".into(),
                    }),
                }
            })
            .transpose()?;
        Ok(WhatsAppSettings {
            phone_number_id: digits_id("phone_number_id", phone_number_id)?,
            access_token: access_token.to_owned(),
            catalog_id: catalog_id
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| digits_id("catalog_id", c))
                .transpose()?,
            template,
        })
    }
}

/// Checks with Meta that the token may use the number (see `GraphClient::phone_number`).
pub async fn verify_with_meta(
    graph: &crate::channels::whatsapp::graph::GraphClient,
    settings: &WhatsAppSettings,
) -> Result<(), ShopError> {
    use crate::channels::whatsapp::graph::GraphError;
    match graph.phone_number(&settings.phone_number_id, &settings.access_token).await {
        Ok(_) => Ok(()),
        Err(GraphError::Transient(reason) | GraphError::InvalidResponse(reason)) => {
            Err(ShopError::WhatsAppUnreachable(reason))
        }
        Err(GraphError::RateLimited { .. } | GraphError::PairRateLimited) => {
            Err(ShopError::WhatsAppUnreachable("the Graph API asks to slow down; try again in a minute".into()))
        }
        Err(other) => Err(ShopError::WhatsAppNotVerified(other.to_string())),
    }
}

/// Stores the connection, its token sealed (see `secrets`).
pub fn save(
    conn: &mut AnyConnection,
    keyring: &crate::crypto::Keyring,
    shop: ShopId,
    settings: &WhatsAppSettings,
) -> Result<WhatsAppSettingsView, ShopError> {
    let sealed_token = super::secrets::seal_access_token(keyring, shop, &settings.access_token);
    let updated = diesel::update(shops::table.find(shop))
        .set((
            shops::wa_phone_number_id.eq(&settings.phone_number_id),
            shops::wa_access_token.eq(&sealed_token),
            shops::wa_catalog_id.eq(&settings.catalog_id),
            shops::wa_template_name.eq(settings.template.as_ref().map(|t| &t.name)),
            shops::wa_template_language.eq(settings.template.as_ref().map(|t| &t.language)),
            shops::updated_at.eq(crate::db::now()),
        ))
        .execute(conn);
    match updated {
        Ok(0) => Err(ShopError::NotFound),
        Ok(_) => Ok(WhatsAppSettingsView {
            phone_number_id: settings.phone_number_id.clone(),
            catalog_id: settings.catalog_id.clone(),
            template: settings.template.clone(),
            access_token_set: true,
        }),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ShopError::PhoneNumberTaken)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = shops)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ChatShopRow {
    id: ShopId,
    name: String,
    language: String,
    wa_phone_number_id: Option<String>,
    wa_access_token: Option<String>,
    wa_catalog_id: Option<String>,
    wa_template_name: Option<String>,
    wa_template_language: Option<String>,
}

impl From<ChatShopRow> for ChatShop {
    fn from(row: ChatShopRow) -> ChatShop {
        ChatShop {
            id: row.id,
            name: row.name,
            language: row.language,
            phone_number_id: row.wa_phone_number_id,
            sealed_access_token: row.wa_access_token,
            catalog_id: row.wa_catalog_id,
            template: row
                .wa_template_name
                .zip(row.wa_template_language)
                .map(|(name, language)| Template { name, language }),
        }
    }
}

impl ChatShop {
    /// The WhatsApp access token, opened; None when no number is connected.
    pub fn access_token(&self, keyring: &crate::crypto::Keyring) -> Result<Option<crate::crypto::Secret>, ShopError> {
        self.sealed_access_token
            .as_deref()
            .map(|sealed| super::secrets::open_access_token(keyring, self.id, sealed))
            .transpose()
    }
}

/// The shop a webhook's `metadata.phone_number_id` belongs to.
pub fn find_by_phone_number_id(conn: &mut AnyConnection, phone_number_id: &str) -> Result<Option<ChatShop>, ShopError> {
    let row = shops::table
        .filter(shops::wa_phone_number_id.eq(phone_number_id))
        .select(ChatShopRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(ChatShop::from))
}

pub fn chat_shop(conn: &mut AnyConnection, shop: ShopId) -> Result<ChatShop, ShopError> {
    let row = shops::table.find(shop).select(ChatShopRow::as_select()).first(conn).optional()?;
    row.map(ChatShop::from).ok_or(ShopError::NotFound)
}
