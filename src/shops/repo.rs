use super::ShopId;
use crate::auth::AuthError;
use crate::auth::users::{self, NewUser, User};
use crate::contact::{Email, PhoneNumber};
use crate::db::{AnyConnection, DbError, schema::shops};
use crate::pix::brcode::PixKey;
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
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shop {
    pub id: ShopId,
    pub name: String,
    pub city: String,
    pub pix: ShopPix,
    pub notify: ShopContacts,
    pub language: String,
    pub created_at: chrono::NaiveDateTime,
}

/// A shop's sign-up details, each already parsed.
pub struct NewShop {
    pub name: String,
    /// The chat's language: `pt-BR` (default) or `en`.
    pub language: &'static str,
    pub city: String,
    pub pix_key: PixKey,
    pub notify: ShopContacts,
}

impl NewShop {
    pub fn parse(
        name: &str,
        city: &str,
        pix_key: &str,
        declared_key_type: &str,
        notify_email: Option<&str>,
        notify_whatsapp: Option<&str>,
        language: Option<&str>,
    ) -> Result<NewShop, ShopError> {
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
        Ok(NewShop { name, language, city, pix_key, notify })
    }
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

/// Creates the shop and its owner together: both or neither.
pub fn create_with_owner(conn: &mut AnyConnection, shop: &NewShop, owner: &NewUser) -> Result<(Shop, User), ShopError> {
    crate::db::write_transaction(conn, |conn| {
        let id = ShopId::new();
        let now = crate::db::now();
        diesel::insert_into(shops::table)
            .values((
                shops::id.eq(id.to_string()),
                shops::name.eq(&shop.name),
                shops::city.eq(&shop.city),
                shops::pix_key.eq(shop.pix_key.as_str()),
                shops::pix_key_type.eq(shop.pix_key.key_type().as_str()),
                shops::notify_email.eq(shop.notify.email.as_ref().map(Email::as_str)),
                shops::notify_whatsapp.eq(shop.notify.whatsapp.as_ref().map(PhoneNumber::as_str)),
                shops::language.eq(shop.language),
                shops::created_at.eq(now),
                shops::updated_at.eq(now),
            ))
            .execute(conn)?;
        let user = users::insert(conn, id, owner)?;
        let created = get(conn, id)?;
        Ok((created, user))
    })
}

type ShopRow = (String, String, String, String, String, Option<String>, Option<String>, String, chrono::NaiveDateTime);

pub fn get(conn: &mut AnyConnection, id: ShopId) -> Result<Shop, ShopError> {
    let row: ShopRow = shops::table
        .find(id.to_string())
        .select((
            shops::id,
            shops::name,
            shops::city,
            shops::pix_key,
            shops::pix_key_type,
            shops::notify_email,
            shops::notify_whatsapp,
            shops::language,
            shops::created_at,
        ))
        .first(conn)
        .optional()?
        .ok_or(ShopError::NotFound)?;
    let (_, name, city, key, key_type, email, whatsapp, language, created_at) = row;
    Ok(Shop {
        id,
        name,
        city,
        pix: ShopPix { key, key_type },
        notify: ShopContacts {
            email: email.and_then(|e| Email::parse(&e).ok()),
            whatsapp: whatsapp.and_then(|p| PhoneNumber::parse(&p).ok()),
        },
        language,
        created_at,
    })
}

/// How many shops exist: the demo shop is made only on an empty database.
pub fn count(conn: &mut AnyConnection) -> Result<i64, ShopError> {
    Ok(shops::table.count().get_result(conn)?)
}
