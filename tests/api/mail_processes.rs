//! Two real `chatshop` processes on one database send the same queue of
//! mails over SMTP; one is killed (SIGKILL) while sending, and the other
//! sends the rest once the dead one's leases (2 s) run out. Every mail
//! arrives at least once, and a mail sent twice (in flight at the kill)
//! carries the same Message-ID both times, so mail clients drop the copy.
//! Real processes keep real time: the waits are bounded. Loopback only.

use crate::support::database::{Engine, TestDatabase};
use crate::support::smtp_sink::{SinkOptions, SmtpSink};
use crate::webhook_processes::start_with;
use chatshop::channels::email::{self, Email};
use std::collections::HashMap;
use std::time::Duration;

const MAILS: usize = 400;

fn message_ids(sink: &SmtpSink) -> HashMap<String, Vec<String>> {
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for mail in sink.received() {
        let parsed = mailparse::parse_mail(mail.data.as_bytes()).expect("MIME");
        let header = |name: &str| {
            parsed.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case(name)).map(|h| h.get_value())
        };
        by_id.entry(header("Message-ID").expect("Message-ID")).or_default().push(header("Subject").unwrap_or_default());
    }
    by_id
}

async fn a_process_killed_mid_mail_leaves_the_rest_to_the_other(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else { return };
    let mail_dir = tempfile::tempdir().expect("mail dir");
    // A slow server keeps sends in flight when the kill comes.
    let sink = SmtpSink::start_with(SinkOptions { delay: Duration::from_millis(30), ..SinkOptions::default() }).await;
    let url = sink.url();
    let settings = [("SMTP_URL", url.as_str())];
    let mut first = start_with(database.url(), mail_dir.path(), &settings).await;
    let _second = start_with(database.url(), mail_dir.path(), &settings).await;

    let pool = chatshop::db::connect(database.url(), 2).unwrap();
    let mut conn = pool.get().unwrap();
    chatshop::db::write_transaction(&mut conn, |conn| {
        for n in 0..MAILS {
            let mail = Email::new("dono@padaria.com.br", format!("Pedido #{n} pago"), "Olá").from_name("Padaria");
            email::enqueue(conn, None, &mail)?;
        }
        Ok::<_, chatshop::jobs::JobError>(())
    })
    .unwrap();
    drop(conn);

    sink.wait_for("the first mails", 60, |mail| mail.len() >= 40).await;
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");
    let at_kill = sink.received().len();
    assert!(at_kill < MAILS, "killed while sending ({at_kill} of {MAILS} received)");
    sink.wait_for("every mail sent by the survivor", 90, |_| message_ids(&sink).len() == MAILS).await;
    let by_id = message_ids(&sink);
    assert!(by_id.values().all(|subjects| subjects.iter().all(|s| *s == subjects[0])), "one Message-ID, one mail");
    let copies = sink.received().len() - MAILS;
    eprintln!("{engine:?}: {at_kill} mails before the kill, {copies} sent twice (in flight at the kill)");
}

mod killed_mid_mail {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        a_process_killed_mid_mail_leaves_the_rest_to_the_other(Engine::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        a_process_killed_mid_mail_leaves_the_rest_to_the_other(Engine::Postgres).await
    }
}
