//! The demo shop made on an empty database, so a newcomer can try the API at once.

use crate::auth::Role;
use crate::auth::users::NewUser;
use crate::catalog::{ImportOptions, import_feed};
use crate::contact::Email;
use crate::db::AnyConnection;
use crate::shops::{self, NewShop, ShopId, SignUpDetails};
use uuid::Uuid;

const BAKERY_FEED: &[u8] = include_bytes!("../catalog-samples/padaria-doce-lar.csv");
pub const OWNER_EMAIL: &str = "dono@padariadocelar.com.br";

pub struct DemoLogin {
    pub shop_id: ShopId,
    pub email: String,
    pub password: String,
    pub products: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot create the demo shop: {0}")]
pub struct DemoError(String);

/// Creates the demo bakery with its catalogue when no shop exists yet.
pub fn seed_if_empty(conn: &mut AnyConnection) -> Result<Option<DemoLogin>, DemoError> {
    let fail = |e: &dyn std::fmt::Display| DemoError(e.to_string());
    if shops::repo_count(conn).map_err(|e| fail(&e))? > 0 {
        return Ok(None);
    }
    let password = Uuid::new_v4().simple().to_string()[..16].to_owned();
    let email = Email::parse(OWNER_EMAIL).map_err(|e| fail(&e))?;
    let owner = NewUser::prepare(email, &password, Role::Owner).map_err(|e| fail(&e))?;
    let evp_key = Uuid::new_v4().to_string();
    let shop = NewShop::parse(&SignUpDetails {
        name: "Padaria Doce Lar",
        city: "São Paulo",
        pix_key: &evp_key,
        pix_key_type: "evp",
        notify_email: Some(OWNER_EMAIL),
        ..SignUpDetails::default()
    })
    .map_err(|e| fail(&e))?;
    let shop = match shops::create_with_owner(conn, &shop, &owner) {
        Ok((shop, _)) => shop,
        // Another process starting on the same database made it first.
        Err(shops::ShopError::Auth(crate::auth::AuthError::EmailTaken)) => return Ok(None),
        Err(e) => return Err(fail(&e)),
    };
    let report =
        import_feed(conn, shop.id, BAKERY_FEED, ImportOptions::default(), &mut |_, _| {}).map_err(|e| fail(&e))?;
    Ok(Some(DemoLogin { shop_id: shop.id, email: OWNER_EMAIL.into(), password, products: report.created }))
}
