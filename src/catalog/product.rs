use super::{CatalogError, Sku};
use crate::money::Money;
use serde::{Deserialize, Deserializer, Serialize};
use std::str::FromStr;
use uuid::Uuid;

pub type ProductId = Uuid;

/// Meta's availability values, written as Meta writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Availability {
    #[serde(rename = "in stock")]
    InStock,
    #[serde(rename = "out of stock")]
    OutOfStock,
    #[serde(rename = "preorder")]
    Preorder,
    #[serde(rename = "available for order")]
    AvailableForOrder,
    #[serde(rename = "discontinued")]
    Discontinued,
}

impl Availability {
    pub const ALL: [Availability; 5] = [
        Availability::InStock,
        Availability::OutOfStock,
        Availability::Preorder,
        Availability::AvailableForOrder,
        Availability::Discontinued,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in stock",
            Availability::OutOfStock => "out of stock",
            Availability::Preorder => "preorder",
            Availability::AvailableForOrder => "available for order",
            Availability::Discontinued => "discontinued",
        }
    }

    /// Whether a customer can order it now.
    pub fn can_be_ordered(self) -> bool {
        matches!(self, Availability::InStock | Availability::Preorder | Availability::AvailableForOrder)
    }
}

impl FromStr for Availability {
    type Err = String;
    /// Case and `_` vs space are forgiven: spreadsheets write both.
    fn from_str(text: &str) -> Result<Availability, String> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', " ");
        Availability::ALL.into_iter().find(|a| a.as_str() == wanted).ok_or_else(|| {
            format!("`{text}` is not one of: in stock, out of stock, preorder, available for order, discontinued")
        })
    }
}

/// A product as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Product {
    #[schema(value_type = String, format = Uuid)]
    pub id: ProductId,
    pub retailer_id: Sku,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub sale_price: Option<Money>,
    /// `null` means unlimited.
    pub stock: Option<i64>,
    pub availability: Availability,
    pub condition: String,
    pub image_url: Option<String>,
    pub link: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub item_group_id: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl Product {
    /// What the customer pays for one unit now.
    pub fn unit_price(&self) -> Money {
        self.sale_price.unwrap_or(self.price)
    }
}

/// Every field of a product, each one valid: what gets stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductFields {
    pub retailer_id: Sku,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub sale_price: Option<Money>,
    pub stock: Option<i64>,
    pub availability: Availability,
    pub condition: String,
    pub image_url: Option<String>,
    pub link: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub item_group_id: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
}

impl ProductFields {
    /// The rules that span fields; each field was parsed on its own before.
    pub fn check(self) -> Result<ProductFields, CatalogError> {
        if self.name.trim().is_empty() {
            return Err(CatalogError::invalid("name", "must not be empty"));
        }
        if self.sale_price.is_some_and(|sale| sale > self.price) {
            return Err(CatalogError::invalid("sale_price", "is higher than the price"));
        }
        Ok(self)
    }
}

/// A product as a client sends it to create one. Money arrives as strings and
/// is parsed here so an error names its field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    pub retailer_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(example = "45.90")]
    pub price: String,
    #[serde(default)]
    pub sale_price: Option<String>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub item_group_id: Option<String>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

/// A partial change: a missing field stays as it is; `null` clears a field
/// that may be empty.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ProductChanges {
    pub retailer_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sale_price: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub stock: Option<Option<i64>>,
    pub availability: Option<String>,
    pub condition: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub link: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
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
        Some(t) => t.parse().map_err(|e| CatalogError::invalid("availability", e)),
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
            condition: optional_text("condition", input.condition.as_deref(), 20)?.unwrap_or_else(|| "new".into()),
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
    /// The product as it will be after the change, checked as a whole.
    pub fn apply_to(self, current: &Product) -> Result<ProductFields, CatalogError> {
        let keep = |v: &Option<String>| v.clone();
        ProductFields {
            retailer_id: match self.retailer_id {
                Some(s) => parse_sku(&s)?,
                None => current.retailer_id.clone(),
            },
            name: match self.name {
                Some(n) => bounded("name", &n, 200)?,
                None => current.name.clone(),
            },
            description: match self.description {
                Some(d) => bounded("description", &d, 9999)?,
                None => current.description.clone(),
            },
            price: match self.price {
                Some(p) => parse_money("price", &p)?,
                None => current.price,
            },
            sale_price: match self.sale_price {
                Some(s) => s.as_deref().map(|s| parse_money("sale_price", s)).transpose()?,
                None => current.sale_price,
            },
            stock: match self.stock {
                Some(s) => parse_stock(s)?,
                None => current.stock,
            },
            availability: match self.availability {
                Some(a) => parse_availability(Some(&a))?,
                None => current.availability,
            },
            condition: match self.condition {
                Some(c) => optional_text("condition", Some(&c), 20)?.unwrap_or_else(|| "new".into()),
                None => current.condition.clone(),
            },
            image_url: match self.image_url {
                Some(u) => optional_url("image_url", u.as_deref())?,
                None => keep(&current.image_url),
            },
            link: match self.link {
                Some(u) => optional_url("link", u.as_deref())?,
                None => keep(&current.link),
            },
            brand: match self.brand {
                Some(b) => optional_text("brand", b.as_deref(), 100)?,
                None => keep(&current.brand),
            },
            category: match self.category {
                Some(c) => optional_text("category", c.as_deref(), 250)?,
                None => keep(&current.category),
            },
            item_group_id: keep(&current.item_group_id),
            size: keep(&current.size),
            color: keep(&current.color),
        }
        .check()
    }
}
