use crate::config::Config;
use crate::startup::Application;
use std::process::ExitCode;

pub fn serve(mut config: Config, no_demo: bool) -> anyhow::Result<ExitCode> {
    crate::telemetry::init();
    config.demo &= !no_demo;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let app = Application::build(&config)?;
        print_banner(&config, &app);
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Where to go and how to log in, for a person who just ran `cargo run`.
fn print_banner(config: &Config, app: &Application) {
    let url = config.public_url(app.address);
    let mail = match &config.smtp_url {
        Some(_) => "sent over SMTP (SMTP_URL)".to_owned(),
        None => format!("written as .eml files to {}", config.mail_dir.display()),
    };
    println!("chatshop is running at {url}");
    println!("  database: {}", super::describe_database(&config.database_url));
    println!("  mail:     {mail}");
    match &app.secret_key {
        crate::startup::KeySource::File { path, created } => {
            let made = if *created { "made now" } else { "kept" };
            println!("  secrets:  shop tokens are sealed with the key in {} ({made}); back it up:", path.display());
            println!("            losing it loses the shops' WhatsApp and PSP credentials");
        }
        crate::startup::KeySource::Setting => println!("  secrets:  sealed with CHATSHOP_SECRET_KEY"),
    }
    println!("  API:      {url}/docs (interactive)   {url}/openapi.json   health: {url}/healthz");
    println!("  sign up:  curl -X POST {url}/v1/shops -H 'content-type: application/json' \\");
    println!(
        "              -d '{{\"name\":\"Minha Loja\",\"city\":\"Recife\",\"owner\":{{\"email\":\"eu@example.com\",\"password\":\"uma senha longa\"}},\"pix\":{{\"key\":\"eu@example.com\",\"key_type\":\"email\"}}}}'"
    );
    match &app.demo {
        Some(demo) => {
            println!("  demo shop created: Padaria Doce Lar ({}), {} products", demo.shop_id, demo.products);
            println!("    log in: curl -X POST {url}/v1/auth/login -H 'content-type: application/json' \\");
            println!("              -d '{{\"email\":\"{}\",\"password\":\"{}\"}}'", demo.email, demo.password);
            println!("    (this password is shown once; keep it)");
            println!("    talk to its bot: cargo run --release -- chat --shop {} --as 5511988887777", demo.shop_id);
        }
        None if config.demo => {
            println!("  demo shop: log in as {} with the password printed on the first run", crate::demo::OWNER_EMAIL)
        }
        None => {}
    }
}
