//! The demo shop made on an empty database, so a newcomer can try the API at once.

use crate::auth::Role;
use crate::auth::users::NewUser;
use crate::catalog::{ImportOptions, import_feed};
use crate::contact::Email;
use crate::db::{AnyConnection, schema::instance_settings};
use crate::shops::{self, NewShop, ShopId, SignUpDetails};
use diesel::prelude::*;
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
    let created = crate::db::write_transaction(conn, |conn| {
        // Another process starting on the same empty database may be here
        // too: the one that claims the demo makes it.
        let claim = diesel::insert_into(instance_settings::table)
            .values((instance_settings::key.eq("demo_shop"), instance_settings::value.eq(evp_key.as_str())))
            .on_conflict_do_nothing();
        if crate::on_backend!(conn, |c| claim.execute(c))? == 0 {
            return Ok(None);
        }
        shops::create_with_owner(conn, &shop, &owner).map(|(shop, _)| Some(shop))
    });
    let shop = match created {
        Ok(Some(shop)) => shop,
        Ok(None) => return Ok(None),
        Err(e) => return Err(fail(&e)),
    };
    let report =
        import_feed(conn, shop.id, BAKERY_FEED, ImportOptions::default(), &mut |_, _| {}).map_err(|e| fail(&e))?;
    Ok(Some(DemoLogin { shop_id: shop.id, email: OWNER_EMAIL.into(), password, products: report.created }))
}
