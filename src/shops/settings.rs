//! A shop's checkout and report settings (`PATCH /v1/shop`): shipping, how
//! long a customer has to pay, its time zone and the morning summary's time.

use super::{ShopError, ShopId};
use crate::db::AnyConnection;
use crate::db::schema::shops;
use crate::money::Money;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// Meta refuses an `order_details` that expires in less than 5 minutes.
pub const MIN_CHARGE_TTL_SECONDS: i32 = 300;
pub const MAX_CHARGE_TTL_SECONDS: i32 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = shops)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ShopSettings {
    #[diesel(embed)]
    pub checkout: CheckoutSettings,
    /// IANA time zone of the shop's dates (reports, e-mails).
    pub timezone: String,
    /// When the morning summary goes, `HH:MM` in the shop's time zone.
    pub summary_time: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = shops)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CheckoutSettings {
    #[diesel(column_name = shipping_fee_cents)]
    pub shipping_fee: Money,
    /// Orders whose subtotal reaches this ship free; null: never.
    #[diesel(column_name = free_shipping_above_cents)]
    pub free_shipping_above: Option<Money>,
    /// Seconds a customer has to pay; null: the service's default.
    pub charge_ttl_seconds: Option<i32>,
}

pub fn get(conn: &mut AnyConnection, shop: ShopId) -> Result<ShopSettings, ShopError> {
    shops::table.find(shop).select(ShopSettings::as_select()).first(conn).optional()?.ok_or(ShopError::NotFound)
}

/// `PATCH /v1/shop`: only what is named changes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub checkout: Option<CheckoutPatch>,
    /// An IANA time zone.
    #[schema(schema_with = crate::shops::settings::timezone_schema)]
    pub timezone: Option<String>,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "08:00")]
    pub summary_time: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutPatch {
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
    pub shipping_fee: Option<Money>,
    /// `null` to never ship free.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
    pub free_shipping_above: Option<Option<Money>>,
    /// `null` for the service's default.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 300, maximum = 604800)]
    pub charge_ttl_seconds: Option<Option<i32>>,
}

/// The time zones `update` takes (the HTTP layer's description of them).
pub fn timezone_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let names: Vec<Option<&str>> = chrono_tz::TZ_VARIANTS.iter().map(|tz| Some(tz.name())).chain([None]).collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(names))
        .examples(["America/Sao_Paulo"])
        .build()
}

fn double_option<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub fn update(
    conn: &mut AnyConnection,
    shop: ShopId,
    patch: &SettingsPatch,
    now: NaiveDateTime,
) -> Result<ShopSettings, ShopError> {
    if let Some(zone) = &patch.timezone {
        valid_timezone(zone)?;
    }
    if let Some(time) = &patch.summary_time {
        valid_time(time)?;
    }
    let target = shops::table.find(shop);
    if let Some(checkout) = &patch.checkout {
        if let Some(Some(ttl)) = checkout.charge_ttl_seconds
            && !(MIN_CHARGE_TTL_SECONDS..=MAX_CHARGE_TTL_SECONDS).contains(&ttl)
        {
            return Err(ShopError::InvalidSetting {
                field: "checkout.charge_ttl_seconds",
                reason: format!("must be between {MIN_CHARGE_TTL_SECONDS} and {MAX_CHARGE_TTL_SECONDS} seconds"),
            });
        }
        if let Some(fee) = checkout.shipping_fee {
            diesel::update(target).set(shops::shipping_fee_cents.eq(fee)).execute(conn)?;
        }
        if let Some(above) = checkout.free_shipping_above {
            diesel::update(target).set(shops::free_shipping_above_cents.eq(above)).execute(conn)?;
        }
        if let Some(ttl) = checkout.charge_ttl_seconds {
            diesel::update(target).set(shops::charge_ttl_seconds.eq(ttl)).execute(conn)?;
        }
    }
    if let Some(zone) = &patch.timezone {
        diesel::update(target).set(shops::timezone.eq(zone)).execute(conn)?;
    }
    if let Some(time) = &patch.summary_time {
        diesel::update(target).set(shops::summary_time.eq(time)).execute(conn)?;
    }
    diesel::update(target).set(shops::updated_at.eq(now)).execute(conn)?;
    get(conn, shop)
}

fn valid_timezone(zone: &str) -> Result<(), ShopError> {
    // Exactly the names of the IANA database that `timezone_schema` lists.
    if zone.parse::<chrono_tz::Tz>().is_ok() {
        Ok(())
    } else {
        Err(ShopError::InvalidSetting { field: "timezone", reason: format!("`{zone}` is not an IANA time zone") })
    }
}

fn valid_time(time: &str) -> Result<(), ShopError> {
    match chrono::NaiveTime::parse_from_str(time, "%H:%M") {
        Ok(_) if time.len() == 5 => Ok(()),
        _ => Err(ShopError::InvalidSetting { field: "summary_time", reason: "must be HH:MM, e.g. 08:00".into() }),
    }
}
