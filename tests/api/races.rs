//! Read-then-write races that only PostgreSQL's READ COMMITTED shows: many
//! threads at once, each on its own pooled connection, on both engines.

use crate::helpers::{Engine, TestDatabase};
use chatshop::catalog::{self, ProductChanges, ProductFields, ProductId, ProductInput, repo};
use chatshop::db::{AnyConnection, Pool};
use chatshop::ids::{CustomerId, ShopId};
use std::sync::Barrier;

const THREADS: usize = 40;

struct Fixture {
    pool: Pool,
    shop: ShopId,
    _database: TestDatabase,
}

impl Fixture {
    fn new(engine: Engine) -> Option<Fixture> {
        use chatshop::auth::{Role, users::NewUser};
        let database = TestDatabase::create(engine)?;
        let pool = chatshop::db::connect(database.url(), THREADS as u32 + 2).expect("pool");
        let mut conn = pool.get().expect("connection");
        chatshop::db::migrate(&mut conn).expect("migrate");
        let shop = chatshop::shops::NewShop::parse(&chatshop::shops::SignUpDetails {
            name: "Padaria",
            city: "São Paulo",
            pix_key: "dono@padaria.com.br",
            pix_key_type: "email",
            ..Default::default()
        })
        .expect("shop");
        let email = chatshop::contact::Email::parse("dono@padaria.com.br").expect("email");
        let owner = NewUser::prepare(email, "a long password", Role::Owner).expect("owner");
        let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).expect("create");
        Some(Fixture { pool, shop: shop.id, _database: database })
    }

    fn conn(&self) -> chatshop::db::PooledConnection {
        self.pool.get().expect("connection")
    }

    fn product(&self, sku: &str, stock: Option<i64>) -> ProductId {
        let input: ProductInput = serde_json::from_value(serde_json::json!({
            "retailer_id": sku, "name": format!("Produto {sku}"), "price": "10.00", "stock": stock
        }))
        .expect("input");
        let fields = ProductFields::try_from(input).expect("fields");
        repo::create(&mut self.conn(), self.shop, fields).expect("product").id
    }

    fn stock(&self, product: ProductId) -> Option<i64> {
        repo::get(&mut self.conn(), self.shop, product).expect("product").stock
    }

    fn customer(&self, wa_id: &str) -> CustomerId {
        let now = chatshop::db::now();
        chatshop::customers::record_inbound(&mut self.conn(), self.shop, wa_id, None, now).expect("customer").id
    }

    /// Runs `work(i)` for i in 0..n on as many threads as the pool has
    /// connections (40 on PostgreSQL; SQLite's pool stops at 8), released
    /// together, each on its own connection; returns the results in order.
    fn in_parallel<T: Send>(&self, n: usize, work: impl Fn(&mut AnyConnection, usize) -> T + Sync) -> Vec<T> {
        let threads = THREADS.min(self.pool.max_size() as usize);
        let barrier = Barrier::new(threads);
        let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (barrier, work) = (&barrier, &work);
                    scope.spawn(move || {
                        let mut conn = self.conn();
                        barrier.wait();
                        (t..n).step_by(threads).map(|i| (i, work(&mut conn, i))).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("thread")).collect()
        });
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
macro_rules! on_both_engines {
    ($name:ident) => {
        mod $name {
            use $crate::helpers::Engine;

            #[test]
            fn sqlite() {
                if let Some(fixture) = super::Fixture::new(Engine::Sqlite) {
                    super::$name(fixture);
                }
            }

            #[test]
            fn postgres() {
                if let Some(fixture) = super::Fixture::new(Engine::Postgres) {
                    super::$name(fixture);
                }
            }
        }
    };
}

fn two_hundred_reservations_of_ten_units_sell_exactly_ten(fixture: Fixture) {
    let product = fixture.product("BOLO", Some(10));
    let shop = fixture.shop;
    let taken = fixture.in_parallel(200, |conn, _| catalog::reserve_stock(conn, shop, product, 1).expect("reserve"));
    assert_eq!(taken.iter().filter(|t| **t).count(), 10);
    assert_eq!(fixture.stock(product), Some(0));

    catalog::release_stock(&mut fixture.conn(), shop, product, 3).expect("release");
    assert_eq!(fixture.stock(product), Some(3));
    assert!(!catalog::reserve_stock(&mut fixture.conn(), shop, product, 4).expect("reserve"), "only 3 left");
    assert!(catalog::reserve_stock(&mut fixture.conn(), shop, product, 3).expect("reserve"));

    let unlimited = fixture.product("PAO", None);
    let taken = fixture.in_parallel(50, |conn, _| catalog::reserve_stock(conn, shop, unlimited, 2).expect("reserve"));
    assert!(taken.iter().all(|t| *t));
    assert_eq!(fixture.stock(unlimited), None, "unlimited stays unlimited");
}
on_both_engines!(two_hundred_reservations_of_ten_units_sell_exactly_ten);

fn concurrent_cart_adds_are_all_counted_up_to_the_stock(fixture: Fixture) {
    let (shop, customer) = (fixture.shop, fixture.customer("5511988887777"));
    let unlimited = repo::get(&mut fixture.conn(), shop, fixture.product("PAO", None)).expect("product");
    let scarce = repo::get(&mut fixture.conn(), shop, fixture.product("BOLO", Some(25))).expect("product");
    let outcomes = fixture.in_parallel(2 * THREADS, |conn, i| {
        let product = if i % 2 == 0 { &unlimited } else { &scarce };
        chatshop::cart::add(conn, shop, customer, product, 1).expect("add")
    });
    let cart = chatshop::cart::load(&mut fixture.conn(), shop, customer).expect("cart");
    let quantity = |id| cart.lines.iter().find(|l| l.product.id == id).map(|l| l.quantity);
    assert_eq!(quantity(unlimited.id), Some(THREADS as i64), "no addition lost");
    assert_eq!(quantity(scarce.id), Some(25), "capped at the stock");
    let limited = outcomes.iter().filter(|o| matches!(o, chatshop::cart::AddOutcome::Limited { .. })).count();
    assert_eq!(limited, THREADS - 25, "each addition past the stock is told it was limited");
}
on_both_engines!(concurrent_cart_adds_are_all_counted_up_to_the_stock);

fn a_price_change_or_a_price_feed_never_undoes_a_reservation(fixture: Fixture) {
    let shop = fixture.shop;
    let product = fixture.product("BOLO", Some(1000));
    let sku = "BOLO".to_owned();
    let prices_only = "id,title,price\nBOLO,Bolo,12.00 BRL\n";
    // Half the threads reserve, a quarter change the price by PATCH, a
    // quarter import a feed without a stock column.
    let reserved = fixture.in_parallel(4 * THREADS, |conn, i| match i % 4 {
        0 | 2 => catalog::reserve_stock(conn, shop, product, 1).expect("reserve"),
        1 => {
            let changes: ProductChanges =
                serde_json::from_value(serde_json::json!({"price": format!("{}.00", 10 + i % 7)})).expect("changes");
            repo::patch(conn, shop, product, changes).expect("patch");
            false
        }
        _ => {
            let report = catalog::import_feed(conn, shop, prices_only.as_bytes(), Default::default(), &mut |_, _| {});
            assert_eq!(report.expect("import").updated, 1, "{sku}");
            false
        }
    });
    let reservations = reserved.iter().filter(|r| **r).count() as i64;
    assert_eq!(reservations, 2 * THREADS as i64);
    assert_eq!(fixture.stock(product), Some(1000 - reservations));

    // A feed that names the stock sets it; a PATCH that names it too.
    let with_stock = "id,title,price,quantity_to_sell_on_facebook\nBOLO,Bolo,12.00 BRL,7\n";
    catalog::import_feed(&mut fixture.conn(), shop, with_stock.as_bytes(), Default::default(), &mut |_, _| {})
        .expect("import");
    assert_eq!(fixture.stock(product), Some(7));
    let changes: ProductChanges = serde_json::from_value(serde_json::json!({"stock": 3})).expect("changes");
    assert_eq!(repo::patch(&mut fixture.conn(), shop, product, changes).expect("patch").stock, Some(3));
}
on_both_engines!(a_price_change_or_a_price_feed_never_undoes_a_reservation);
