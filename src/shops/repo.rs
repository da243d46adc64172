use super::ShopId;
use crate::auth::AuthError;
use crate::auth::users::{self, NewUser, User};
use crate::contact::{Email, PhoneNumber};
use crate::db::{AnyConnection, DbError, schema::shops};
use crate::pix::brcode::{MAX_CITY_CHARS, MAX_NAME_CHARS, PixKey, transliterate};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("the shop's {field} must not be empty")]
    Empty { field: &'static str },
    #[error("the shop's {field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: {reason}")]
    InvalidContact { field: &'static str, reason: crate::contact::ContactError },
    #[error("the Pix key `{key}` is not a valid {declared} key")]
    PixKeyMismatch { key: String, declared: String },
    #[error("{field}: {reason}")]
    InvalidSetting { field: &'static str, reason: String },
    #[error("Meta did not confirm this number for this access token: {0}")]
    WhatsAppNotVerified(String),
    #[error("cannot reach the WhatsApp Graph API to check the number: {0}")]
    WhatsAppUnreachable(String),
    #[error("this WhatsApp number is already connected to another shop")]
    PhoneNumberTaken,
    #[error("no such shop")]
    NotFound,
    /// A stored secret that does not open: a lost or wrong CHATSHOP_SECRET_KEY.
    #[error("a stored shop secret cannot be opened: {0}")]
    Secret(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ShopError {
    fn from(e: diesel::result::Error) -> Self {
        ShopError::Db(e.into())
    }
}

/// Where the shop is told about paid orders.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShopContacts {
    #[schema(value_type = Option<String>)]
    pub email: Option<Email>,
    #[schema(value_type = Option<String>)]
    pub whatsapp: Option<PhoneNumber>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShopPix {
    pub key: String,
    pub key_type: String,
    /// The name and city the shop's Pix codes carry (ASCII, at most 25 and 15 characters).
    pub merchant_name: String,
    pub merchant_city: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shop {
    pub id: ShopId,
    pub name: String,
    pub city: String,
    pub pix: ShopPix,
    pub notify: ShopContacts,
    pub language: String,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-22T18:26:13.085Z")]
    pub created_at: chrono::NaiveDateTime,
}

/// A shop's sign-up details as sent; `NewShop::parse` checks them.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignUpDetails<'a> {
    pub name: &'a str,
    pub city: &'a str,
    pub pix_key: &'a str,
    pub pix_key_type: &'a str,
    /// How the shop appears in its Pix codes; absent: its name and city.
    pub pix_merchant_name: Option<&'a str>,
    pub pix_merchant_city: Option<&'a str>,
    pub notify_email: Option<&'a str>,
    pub notify_whatsapp: Option<&'a str>,
    /// `pt-BR` (default) or `en`.
    pub language: Option<&'a str>,
}

/// A shop's sign-up details, each already parsed.
pub struct NewShop {
    pub name: String,
    pub pix_merchant_name: String,
    pub pix_merchant_city: String,
    /// The chat's language: `pt-BR` (default) or `en`.
    pub language: &'static str,
    pub city: String,
    pub pix_key: PixKey,
    pub notify: ShopContacts,
}

impl NewShop {
    pub fn parse(details: &SignUpDetails<'_>) -> Result<NewShop, ShopError> {
        let SignUpDetails {
            name,
            city,
            pix_key,
            pix_key_type: declared_key_type,
            pix_merchant_name,
            pix_merchant_city,
            notify_email,
            notify_whatsapp,
            language,
        } = *details;
        let language = match language.map(|l| l.trim().to_ascii_lowercase()).as_deref() {
            None | Some("pt-br" | "pt" | "pt_br") => "pt-BR",
            Some("en" | "en-us" | "en_us" | "en-gb") => "en",
            Some(_) => return Err(ShopError::InvalidSetting { field: "language", reason: "pt-BR or en".into() }),
        };
        let notify = ShopContacts {
            email: present(notify_email)
                .map(Email::parse)
                .transpose()
                .map_err(|reason| ShopError::InvalidContact { field: "notify.email", reason })?,
            whatsapp: present(notify_whatsapp)
                .map(PhoneNumber::parse)
                .transpose()
                .map_err(|reason| ShopError::InvalidContact { field: "notify.whatsapp", reason })?,
        };
        let name = bounded_text("name", name, 100)?;
        let city = bounded_text("city", city, 60)?;
        let mismatch = || ShopError::PixKeyMismatch {
            key: pix_key.chars().take(80).collect(),
            declared: declared_key_type.chars().take(20).collect(),
        };
        let pix_key = PixKey::parse(pix_key).map_err(|_| mismatch())?;
        if !pix_key.key_type().as_str().eq_ignore_ascii_case(declared_key_type.trim()) {
            return Err(mismatch());
        }
        let pix_merchant_name = pix_form("pix.merchant_name", pix_merchant_name.unwrap_or(&name), MAX_NAME_CHARS)?;
        let pix_merchant_city = pix_form("pix.merchant_city", pix_merchant_city.unwrap_or(&city), MAX_CITY_CHARS)?;
        Ok(NewShop { name, pix_merchant_name, pix_merchant_city, language, city, pix_key, notify })
    }
}

/// The form a name or city takes in a BR Code: upper-case ASCII within Pix's
/// bound. A longer one is refused here, at sign-up, rather than at the first
/// checkout; Pix codes are never cut short silently.
fn pix_form(field: &'static str, text: &str, max: usize) -> Result<String, ShopError> {
    let ascii = transliterate(text.trim(), true).map_err(|_| ShopError::InvalidSetting {
        field,
        reason: format!("`{text}` has characters a Pix code cannot carry"),
    })?;
    if ascii.is_empty() || ascii.len() > max {
        let reason = format!(
            "Pix codes carry at most {max} characters and `{ascii}` has {}; send a short form as {field}",
            ascii.len()
        );
        return Err(ShopError::InvalidSetting { field, reason });
    }
    Ok(ascii)
}

fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

fn bounded_text(field: &'static str, text: &str, max: usize) -> Result<String, ShopError> {
    let text = text.trim();
    if text.is_empty() {
        Err(ShopError::Empty { field })
    } else if text.chars().count() > max {
        Err(ShopError::TooLong { field, max })
    } else {
        Ok(text.to_owned())
    }
}

#[derive(Insertable)]
#[diesel(table_name = shops)]
struct NewShopRow<'a> {
    id: ShopId,
    name: &'a str,
    city: &'a str,
    pix_key: &'a str,
    pix_key_type: &'a str,
    notify_email: Option<&'a Email>,
    notify_whatsapp: Option<&'a PhoneNumber>,
    language: &'a str,
    pix_merchant_name: &'a str,
    pix_merchant_city: &'a str,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// Creates the shop and its owner together: both or neither.
pub fn create_with_owner(conn: &mut AnyConnection, shop: &NewShop, owner: &NewUser) -> Result<(Shop, User), ShopError> {
    crate::db::write_transaction(conn, |conn| {
        let id = ShopId::new();
        let now = crate::db::now();
        diesel::insert_into(shops::table)
            .values(NewShopRow {
                id,
                name: &shop.name,
                city: &shop.city,
                pix_key: shop.pix_key.as_str(),
                pix_key_type: shop.pix_key.key_type().as_str(),
                notify_email: shop.notify.email.as_ref(),
                notify_whatsapp: shop.notify.whatsapp.as_ref(),
                language: shop.language,
                pix_merchant_name: &shop.pix_merchant_name,
                pix_merchant_city: &shop.pix_merchant_city,
                created_at: now,
                updated_at: now,
            })
            .execute(conn)?;
        let user = users::insert(conn, id, owner)?;
        let created = get(conn, id)?;
        Ok((created, user))
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = shops)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ShopRow {
    id: ShopId,
    name: String,
    city: String,
    pix_key: String,
    pix_key_type: String,
    notify_email: Option<Email>,
    notify_whatsapp: Option<PhoneNumber>,
    language: String,
    created_at: chrono::NaiveDateTime,
    pix_merchant_name: Option<String>,
    pix_merchant_city: Option<String>,
}

pub fn get(conn: &mut AnyConnection, id: ShopId) -> Result<Shop, ShopError> {
    let row = shops::table.find(id).select(ShopRow::as_select()).first(conn).optional()?.ok_or(ShopError::NotFound)?;
    // Shops made before these columns existed get the derived form.
    let merchant_name = row.pix_merchant_name.unwrap_or_else(|| transliterate(&row.name, true).unwrap_or_default());
    let merchant_city = row.pix_merchant_city.unwrap_or_else(|| transliterate(&row.city, true).unwrap_or_default());
    Ok(Shop {
        id: row.id,
        name: row.name,
        city: row.city,
        pix: ShopPix { key: row.pix_key, key_type: row.pix_key_type, merchant_name, merchant_city },
        notify: ShopContacts { email: row.notify_email, whatsapp: row.notify_whatsapp },
        language: row.language,
        created_at: row.created_at,
    })
}

/// How many shops exist: the demo shop is made only on an empty database.
pub fn count(conn: &mut AnyConnection) -> Result<i64, ShopError> {
    Ok(shops::table.count().get_result(conn)?)
}
