//! What clients send: a new product, or a partial change. Money arrives as
//! strings and is parsed here so an error names its field.

use super::product::{ProductFields, ProductPatch, search_text};
use super::{Availability, CatalogError, Condition, Product, Sku};
use crate::money::Money;
use serde::{Deserialize, Deserializer};

/// A product as a client sends it to create one. An unknown field is
/// refused rather than ignored (a misspelt field would change nothing).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(pattern = r"^\s*[A-Za-z0-9._/-]{1,100}\s*$", example = "BOLO-CHOC")]
    pub retailer_id: String,
    #[schema(max_length = 200, pattern = r"\S", example = "Bolo de chocolate")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 9999)]
    pub description: Option<String>,
    #[schema(pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$", example = "45.90")]
    pub price: String,
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
    pub sale_price: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0)]
    pub stock: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<crate::catalog::Availability>)]
    pub availability: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::catalog::Condition>)]
    pub condition: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^(https?://\S*)?$")]
    pub image_url: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^(https?://\S*)?$")]
    pub link: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub brand: Option<String>,
    #[serde(default)]
    #[schema(max_length = 250)]
    pub category: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub item_group_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub size: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub color: Option<String>,
}

/// A partial change: a missing field stays as it is; `null` clears a field
/// that may be empty.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    #[schema(pattern = r"^\s*[A-Za-z0-9._/-]{1,100}\s*$")]
    pub retailer_id: Option<String>,
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[schema(max_length = 9999)]
    pub description: Option<String>,
    #[schema(pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
    pub price: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,10}(\.[0-9]{1,2})?$")]
    pub sale_price: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub stock: Option<Option<i64>>,
    #[schema(value_type = Option<crate::catalog::Availability>)]
    pub availability: Option<String>,
    #[schema(value_type = Option<crate::catalog::Condition>)]
    pub condition: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^(https?://\S*)?$")]
    pub image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = r"^(https?://\S*)?$")]
    pub link: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 250)]
    pub category: Option<Option<String>>,
}

/// Tells `"field": null` (Some(None)) from a missing field (None).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub fn parse_money(field: &'static str, text: &str) -> Result<Money, CatalogError> {
    text.trim().parse().map_err(|e| CatalogError::invalid(field, e))
}

fn parse_stock(stock: Option<i64>) -> Result<Option<i64>, CatalogError> {
    match stock {
        Some(n) if n < 0 => Err(CatalogError::invalid("stock", "must not be negative (null means unlimited)")),
        other => Ok(other),
    }
}

pub fn bounded(field: &'static str, text: &str, max: usize) -> Result<String, CatalogError> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(CatalogError::invalid(field, format!("is longer than {max} characters")));
    }
    Ok(text.to_owned())
}

/// Empty text means "none".
pub fn optional_text(field: &'static str, text: Option<&str>, max: usize) -> Result<Option<String>, CatalogError> {
    let text = bounded(field, text.unwrap_or(""), max)?;
    Ok((!text.is_empty()).then_some(text))
}

pub fn optional_url(field: &'static str, text: Option<&str>) -> Result<Option<String>, CatalogError> {
    let url = optional_text(field, text, 2000)?;
    match &url {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(char::is_whitespace) => {
            Err(CatalogError::invalid(field, "must be an http(s) URL"))
        }
        _ => Ok(url),
    }
}

pub fn parse_sku(text: &str) -> Result<Sku, CatalogError> {
    Sku::parse(text).map_err(|e| CatalogError::invalid("retailer_id", e))
}

pub fn parse_availability(text: Option<&str>) -> Result<Availability, CatalogError> {
    match text {
        None => Ok(Availability::InStock),
        Some(t) if t.trim().is_empty() => Ok(Availability::InStock),
        Some(t) => Availability::parse_loosely(t).map_err(|e| CatalogError::invalid("availability", e)),
    }
}

/// Empty means `new`, as Meta reads it.
pub fn parse_condition(field: &'static str, text: Option<&str>) -> Result<Condition, CatalogError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Condition::New),
        Some(t) => Condition::parse_loosely(t).map_err(|e| CatalogError::invalid(field, e)),
    }
}

impl TryFrom<ProductInput> for ProductFields {
    type Error = CatalogError;

    fn try_from(input: ProductInput) -> Result<ProductFields, CatalogError> {
        ProductFields {
            retailer_id: parse_sku(&input.retailer_id)?,
            name: bounded("name", &input.name, 200)?,
            description: bounded("description", input.description.as_deref().unwrap_or(""), 9999)?,
            price: parse_money("price", &input.price)?,
            sale_price: input.sale_price.as_deref().map(|s| parse_money("sale_price", s)).transpose()?,
            stock: parse_stock(input.stock)?,
            availability: parse_availability(input.availability.as_deref())?,
            condition: parse_condition("condition", input.condition.as_deref())?,
            image_url: optional_url("image_url", input.image_url.as_deref())?,
            link: optional_url("link", input.link.as_deref())?,
            brand: optional_text("brand", input.brand.as_deref(), 100)?,
            category: optional_text("category", input.category.as_deref(), 250)?,
            item_group_id: optional_text("item_group_id", input.item_group_id.as_deref(), 100)?,
            size: optional_text("size", input.size.as_deref(), 100)?,
            color: optional_text("color", input.color.as_deref(), 100)?,
        }
        .check()
    }
}

impl ProductChanges {
    /// The columns this change writes, each parsed, after checking the
    /// product as it would be as a whole (e.g. the sale price against the
    /// price). Fields the change does not name are not written at all.
    pub fn into_patch(self, current: &Product) -> Result<ProductPatch, CatalogError> {
        let mut merged = ProductFields {
            retailer_id: current.retailer_id.clone(),
            name: current.name.clone(),
            description: current.description.clone(),
            price: current.price,
            sale_price: current.sale_price,
            stock: current.stock,
            availability: current.availability,
            condition: current.condition,
            image_url: current.image_url.clone(),
            link: current.link.clone(),
            brand: current.brand.clone(),
            category: current.category.clone(),
            item_group_id: current.item_group_id.clone(),
            size: current.size.clone(),
            color: current.color.clone(),
        };
        let mut patch = ProductPatch { updated_at: Some(crate::db::now()), ..ProductPatch::default() };
        // Each named field: parsed into the merged product and into the patch.
        macro_rules! named {
            ($field:ident, |$v:ident| $parse:expr) => {
                if let Some($v) = self.$field {
                    let value = $parse;
                    merged.$field = value.clone();
                    patch.$field = Some(value);
                }
            };
        }
        named!(retailer_id, |s| parse_sku(&s)?);
        named!(name, |n| bounded("name", &n, 200)?);
        named!(description, |d| bounded("description", &d, 9999)?);
        named!(price, |p| parse_money("price", &p)?);
        named!(sale_price, |s| s.as_deref().map(|s| parse_money("sale_price", s)).transpose()?);
        named!(stock, |s| parse_stock(s)?);
        named!(availability, |a| parse_availability(Some(&a))?);
        named!(condition, |c| parse_condition("condition", Some(&c))?);
        named!(image_url, |u| optional_url("image_url", u.as_deref())?);
        named!(link, |u| optional_url("link", u.as_deref())?);
        named!(brand, |b| optional_text("brand", b.as_deref(), 100)?);
        named!(category, |c| optional_text("category", c.as_deref(), 250)?);
        let merged = merged.check()?;
        if patch.retailer_id.is_some() || patch.name.is_some() {
            patch.search_text = Some(search_text(&merged.retailer_id, &merged.name));
        }
        Ok(patch)
    }
}
