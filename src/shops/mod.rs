//! Shops: sign-up (a shop with its owner) and the shop's own settings.

mod repo;
pub mod secrets;
pub mod settings;
pub mod whatsapp;

pub use crate::ids::ShopId;
pub use repo::{NewShop, Shop, ShopContacts, ShopError, SignUpDetails, count as repo_count, create_with_owner, get};
