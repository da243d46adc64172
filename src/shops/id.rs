use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The shop a row belongs to. Queries of shop data take it from the
/// authenticated caller, so one shop never reads another's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Uuid)]
pub struct ShopId(Uuid);

impl ShopId {
    pub fn new() -> ShopId {
        ShopId(Uuid::now_v7())
    }
}

impl Default for ShopId {
    fn default() -> Self {
        ShopId::new()
    }
}

impl fmt::Display for ShopId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ShopId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<ShopId, uuid::Error> {
        Uuid::parse_str(s).map(ShopId)
    }
}

impl From<Uuid> for ShopId {
    fn from(id: Uuid) -> ShopId {
        ShopId(id)
    }
}
