//! Catalogue import, split into its parts: reading a 100,000-row Meta feed
//! (parse and validate) and writing it (upsert by SKU) on SQLite.
//! Run: `cargo bench --bench feed`.

use chatshop::auth::{Role, users::NewUser};
use chatshop::catalog::{ImportOptions, feed, import_feed};
use std::time::Instant;

fn generated_feed(rows: usize) -> Vec<u8> {
    let mut text = String::from(
        "id,title,description,availability,condition,price,link,image_link,brand,quantity_to_sell_on_facebook,product_type\n",
    );
    for i in 0..rows {
        text.push_str(&format!(
            "SKU-{i:06},Produto nº {i} — pão açaí e café,\"Descrição \"\"especial\"\", item {i}, com vírgulas\",in stock,new,{}.{:02} BRL,https://loja.com.br/p/{i},https://loja.com.br/img/{i}.jpg,Loja,{},Mercearia > Geral\n",
            i % 9999 + 1,
            i % 100,
            i % 50
        ));
    }
    text.into_bytes()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let rows = 100_000;
    let bytes = generated_feed(rows);
    let parse_ms: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let (parsed, errors) = feed::parse(&bytes).expect("feed");
            assert_eq!((parsed.len(), errors.len()), (rows, 0));
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!("parse + validate {rows} rows ({} MB): median {:.0} ms", bytes.len() / 1_000_000, median(parse_ms));

    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("feed.db").to_string_lossy().into_owned();
    let pool = chatshop::db::connect(&url, 2).expect("pool");
    let mut conn = pool.get().expect("connection");
    chatshop::db::migrate(&mut conn).expect("migrate");
    let shop = chatshop::shops::NewShop::parse(&chatshop::shops::SignUpDetails {
        name: "Loja",
        city: "Recife",
        pix_key: "loja@loja.com.br",
        pix_key_type: "email",
        ..Default::default()
    })
    .expect("shop");
    let email = chatshop::contact::Email::parse("loja@loja.com.br").expect("email");
    let owner = NewUser::prepare(email, "a long password", Role::Owner).expect("owner");
    let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).expect("create");
    for label in ["import, all created", "import, all updated"] {
        let started = Instant::now();
        let report = import_feed(&mut conn, shop.id, &bytes, ImportOptions::default(), &mut |_, _| {}).expect("import");
        println!(
            "SQLite {label}: {:.0} ms ({} created, {} updated)",
            started.elapsed().as_secs_f64() * 1e3,
            report.created,
            report.updated
        );
    }
}
