//! Id newtypes for every table, so an order id can never be passed where a
//! shop id is expected. UUIDv7 (time-ordered, so cursors page by id), TEXT in
//! the database on both engines.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
                 utoipa::ToSchema, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> $name {
                $name(Uuid::now_v7())
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<$name, uuid::Error> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> $name {
                $name(id)
            }
        }

        crate::text_sql_type!($name);
    };
}

id_type!(
    /// The shop a row belongs to. Queries of shop data take it from the
    /// authenticated caller, so one shop never reads another's rows.
    ShopId
);
id_type!(UserId);
id_type!(ProductId);
id_type!(CustomerId);
id_type!(ChatMessageId);
id_type!(JobId);
id_type!(OrderId);
id_type!(EventId);
id_type!(PixDeliveryId);
id_type!(WebhookEndpointId);
