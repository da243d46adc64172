//! The command line as scripts use it: exit status, one-line reasons.

use std::process::Command;

fn chatshop(database: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chatshop"));
    command.env("DATABASE_URL", database).env("CHATSHOP_DEMO", "false").env_remove("CI");
    command
}

fn sample(name: &str) -> String {
    format!("{}/catalog-samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Makes a shop directly through the library, as the API would.
fn make_shop(database: &str) -> String {
    use chatshop::auth::{Role, users::NewUser};
    let (pool, _) = chatshop::startup::prepare_database(&chatshop::config::Config {
        database_url: database.into(),
        ..chatshop::config::Config::from_lookup(|_| None).unwrap()
    })
    .unwrap();
    let mut conn = pool.get().unwrap();
    let shop = chatshop::shops::NewShop::parse(&chatshop::shops::SignUpDetails {
        name: "Padaria",
        city: "São Paulo",
        pix_key: "dono@padaria.com.br",
        pix_key_type: "email",
        ..Default::default()
    })
    .unwrap();
    let owner = NewUser::prepare(
        chatshop::contact::Email::parse("dono@padaria.com.br").unwrap(),
        "a long password",
        Role::Owner,
    )
    .unwrap();
    let (shop, _) = chatshop::shops::create_with_owner(&mut conn, &shop, &owner).unwrap();
    shop.id.to_string()
}

#[test]
fn migrate_reports_what_it_applied_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let first = chatshop(&db).arg("migrate").output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let applied = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(!applied.starts_with("0 ") && applied.contains("migration(s) applied"), "{applied}");
    let second = chatshop(&db).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("0 migration(s) applied"));
}

#[test]
fn catalog_import_loads_a_feed_and_refuses_a_broken_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let shop = make_shop(&db);

    let ok = chatshop(&db).args(["catalog", "import", "--shop", &shop, &sample("acai-da-praia.csv")]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "20 created, 0 updated, 0 invalid row(s) skipped");

    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "id,title,price\nA,Um,1.00 BRL\nB,Dois,-3.00 BRL\n").unwrap();
    let refused = chatshop(&db).args(["catalog", "import", "--shop", &shop]).arg(&broken).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("row 3, column price: amount must not be negative"), "{stderr}");
    assert!(stderr.lines().last().unwrap().starts_with("chatshop: 1 invalid row(s)"), "{stderr}");

    let skipped =
        chatshop(&db).args(["catalog", "import", "--skip-invalid", "--shop", &shop]).arg(&broken).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&skipped.stdout).trim(), "1 created, 0 updated, 1 invalid row(s) skipped");
}

#[test]
fn catalog_import_names_an_unknown_shop_or_file_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let unknown = uuid::Uuid::new_v4().to_string();
    let output =
        chatshop(&db).args(["catalog", "import", "--shop", &unknown, &sample("acai-da-praia.csv")]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim(), format!("chatshop: no shop with id {unknown}"));
    let missing = chatshop(&db).args(["catalog", "import", "--shop", &unknown, "/nonexistent.csv"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("chatshop: cannot read /nonexistent.csv"));
}

#[test]
fn a_wrong_postgres_url_fails_with_the_servers_own_reason() {
    let output = chatshop("postgres://nobody@127.0.0.1:1/none").arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("127.0.0.1") || stderr.to_lowercase().contains("connect"), "{stderr}");
}

fn pix(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chatshop")).arg("pix").args(args).output().unwrap()
}

#[test]
fn pix_encode_then_decode_gives_back_what_was_asked() {
    let encoded = pix(&[
        "encode",
        "--key",
        "123.456.789-09",
        "--name",
        "Padaria Doce Lar",
        "--city",
        "São Paulo",
        "--amount",
        "91.8",
        "--txid",
        "PED123",
    ]);
    assert!(encoded.status.success(), "{}", String::from_utf8_lossy(&encoded.stderr));
    let payload = String::from_utf8(encoded.stdout).unwrap().trim().to_owned();
    assert!(payload.starts_with("000201") && payload.contains("5405") && payload.contains("91.80"));
    let decoded = pix(&["decode", &payload]);
    let json: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(json["key"], "12345678909");
    assert_eq!(json["key_type"], "cpf");
    assert_eq!(json["amount"], "91.80");
    assert_eq!(json["merchant_name"], "PADARIA DOCE LAR");
    assert_eq!(json["merchant_city"], "SAO PAULO");
    assert_eq!(json["txid"], "PED123");
    assert_eq!(json["point_of_initiation"], "static");
}

#[test]
fn pix_decode_explains_a_bad_payload_in_one_line_and_exits_1() {
    let output = pix(&[
        "decode",
        "00020126330014br.gov.bcb.pix0111123456789095204000053039865802BR5913FULANO6008BRASILIA6304FFFF",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("chatshop: invalid BR Code: "), "{stderr}");
}

#[test]
fn pix_decode_from_stdin_goes_on_after_a_bad_line() {
    use std::io::Write;
    let good =
        String::from_utf8(pix(&["encode", "--key", "ana@acai.com.br", "--name", "Açaí", "--city", "Salvador"]).stdout)
            .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatshop"))
        .args(["pix", "decode", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    write!(child.stdin.take().unwrap(), "{good}not a code\n{good}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("chatshop: line 2: invalid BR Code"));
}

#[test]
fn pix_encode_refuses_invalid_input_instead_of_truncating() {
    for args in [
        vec!["encode", "--key", "123.456.789-00", "--name", "X", "--city", "Y"],
        vec!["encode", "--key", "a@b.com", "--name", "A name much longer than twenty-five", "--city", "Y"],
        vec!["encode", "--key", "a@b.com", "--name", "X", "--city", "Y", "--amount=-1"],
        vec!["encode", "--key", "a@b.com", "--name", "X", "--city", "Y", "--txid", "has space"],
        vec!["encode", "--url", "https://psp.example.com/qr/v2/abc", "--name", "X", "--city", "Y"],
    ] {
        let output = pix(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1, "{args:?}");
    }
}

#[test]
fn pix_qr_writes_a_scannable_png() {
    let dir = tempfile::tempdir().unwrap();
    let payload = String::from_utf8(
        pix(&["encode", "--key", "ana@acai.com.br", "--name", "Açaí", "--city", "Salvador", "--amount", "18.90"])
            .stdout,
    )
    .unwrap();
    let out = dir.path().join("qr.png");
    let output = pix(&["qr", payload.trim(), "--format", "png", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let image = image::open(&out).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, payload.trim());
}

#[test]
fn the_local_chat_talks_to_the_bot_through_the_webhook_path() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db").to_string_lossy().into_owned();
    let shop = make_shop(&db);
    let imported =
        chatshop(&db).args(["catalog", "import", "--shop", &shop, &sample("padaria-doce-lar.csv")]).output().unwrap();
    assert!(imported.status.success());
    let mut child = chatshop(&db)
        .args(["chat", "--shop", &shop, "--as", "+55 11 98888-7777", "--name", "Ana"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    write!(child.stdin.take().unwrap(), "oi\nquero 2 bolos de chocolate\n2x NAO-EXISTE\n#clear\ncarrinho\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let replies: Vec<String> = String::from_utf8(output.stdout).unwrap().split("\n\n").map(str::to_owned).collect();
    assert!(replies[0].starts_with("Olá, Ana! Aqui é a Padaria."), "{replies:#?}");
    assert_eq!(replies[1], "Adicionado: 2x Bolo de Chocolate com Brigadeiro (1,5 kg).");
    assert_eq!(
        replies[2],
        "Seu carrinho:\n• 2x Bolo de Chocolate com Brigadeiro (1,5 kg) — R$ 189,80\n*Total: R$ 189,80*\n[Pagar: #pay] [Ver produtos: #menu] [Limpar carrinho: #clear]"
    );
    assert_eq!(replies[3], "Não encontrei \"NAO-EXISTE\". Envie *menu* para ver os produtos.");
    assert_eq!(replies[4], "Carrinho esvaziado.");
    assert_eq!(replies[5], "Seu carrinho está vazio. Envie *menu* para ver os produtos.");
}
