//! The chat when things go wrong or the customer says no: opt-out honoured
//! by every business-initiated message, a poison event acknowledged after a
//! bound, delivery statuses racing each other.

use crate::helpers::TestApp;
use crate::support::fake_graph::FakeGraph;
use crate::whatsapp::{ANA, body_text, connected_bakery, count, envelope, post_signed, sent_to_meta, text_from};
use chatshop::channels::whatsapp::OutboundMessage;
use chatshop::chat::conversation::{self, MessageStatus};
use chatshop::db::schema::{chat_messages, customers, webhook_failures};
use diesel::prelude::*;
use serde_json::json;

fn status_of_last_outbound(app: &TestApp) -> String {
    chat_messages::table
        .filter(chat_messages::direction.eq("out"))
        .order(chat_messages::id.desc())
        .select(chat_messages::status)
        .first(&mut app.pool.get().unwrap())
        .unwrap()
}

async fn a_customer_who_opted_out_gets_nothing_the_business_starts(app: TestApp, fake: FakeGraph) {
    let shop = connected_bakery(&app, Some("pedido_atualizado")).await;
    post_signed(&app, &text_from(ANA, "wamid.o1", "PARAR")).await;
    let sent = sent_to_meta(&app, &fake, 1).await;
    assert!(body_text(&sent[0]).starts_with("Pronto"), "the answer to their own message goes");

    // A message the business starts (a payment reminder, a promotion): not sent.
    let mut conn = app.pool.get().unwrap();
    let customer = chatshop::customers::find(&mut conn, shop.id.parse().unwrap(), ANA).unwrap().unwrap();
    let promotion = OutboundMessage::Text { body: "Promoção de bolos!".into() };
    chatshop::chat::delivery::enqueue(&mut conn, &customer, &promotion, false).unwrap();
    drop(conn);
    sent_to_meta(&app, &fake, 1).await;
    assert_eq!(status_of_last_outbound(&app), "not_sent_opted_out");

    // Meta says the window is closed for an answer: no template goes to
    // someone who opted out; the answer waits for their next message.
    fake.fail_next(400, 131047, "Re-engagement message");
    post_signed(&app, &text_from(ANA, "wamid.o2", "carrinho")).await;
    let sent = sent_to_meta(&app, &fake, 2).await;
    assert_eq!(sent[1].body["type"], "text", "the refused answer, and no template after it");
    assert_eq!(status_of_last_outbound(&app), "waiting_window");
}
crate::chat_test!(a_customer_who_opted_out_gets_nothing_the_business_starts);

async fn a_poison_event_is_acknowledged_after_five_tries(app: TestApp, fake: FakeGraph) {
    connected_bakery(&app, None).await;
    // Carts cannot be written: "2x BOLO-CHOC" fails every time, "ajuda" works.
    diesel::sql_query("DROP TABLE cart_items").execute(&mut app.pool.get().unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp().to_string();
    let batch = envelope(
        vec![
            json!({"from": ANA, "id": "wamid.ok", "timestamp": now, "type": "text", "text": {"body": "ajuda"}}),
            json!({"from": "5511977776666", "id": "wamid.poison", "timestamp": now, "type": "text", "text": {"body": "2x BOLO-CHOC"}}),
        ],
        vec![],
    );
    for attempt in 1..=4 {
        assert_eq!(post_signed(&app, &batch).await.status(), 500, "delivery {attempt}: Meta should try again");
    }
    assert_eq!(post_signed(&app, &batch).await.status(), 200, "the fifth failure is recorded and acknowledged");
    assert_eq!(count(&app, "in"), 1, "the good message was handled once, the poison one rolled back");
    sent_to_meta(&app, &fake, 1).await;
    let (attempts, error): (i32, String) = webhook_failures::table
        .find("whatsapp:message:wamid.poison")
        .select((webhook_failures::attempts, webhook_failures::last_error))
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(attempts, 5);
    assert!(error.contains("cart_items"), "{error}");
}
crate::chat_test!(a_poison_event_is_acknowledged_after_five_tries);

/// Meta's statuses for one message arrive together on several connections:
/// the furthest one wins, whatever the interleaving.
async fn concurrent_statuses_never_move_a_message_backwards(app: TestApp, fake: FakeGraph) {
    let shop = connected_bakery(&app, None).await;
    post_signed(&app, &text_from(ANA, "wamid.c1", "ajuda")).await;
    sent_to_meta(&app, &fake, 1).await;
    let wamid: String = chat_messages::table
        .filter(chat_messages::direction.eq("out"))
        .select(chat_messages::wa_message_id.assume_not_null())
        .first(&mut app.pool.get().unwrap())
        .unwrap();
    let shop_id: chatshop::ids::ShopId = shop.id.parse().unwrap();
    for round in 0..20 {
        diesel::update(chat_messages::table.filter(chat_messages::wa_message_id.eq(&wamid)))
            .set(chat_messages::status.eq("sent"))
            .execute(&mut app.pool.get().unwrap())
            .unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
        let threads: Vec<_> = [MessageStatus::Delivered, MessageStatus::Read, MessageStatus::Delivered]
            .into_iter()
            .map(|status| {
                let (pool, barrier, wamid) = (app.pool.clone(), barrier.clone(), wamid.clone());
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    chatshop::db::write_transaction(&mut conn, |conn| {
                        conversation::apply_status(conn, &wamid, status, None)
                    })
                    .unwrap()
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap().map(|(shop, _)| shop), Some(shop_id));
        }
        assert_eq!(status_of_last_outbound(&app), "read", "round {round}");
    }
    let opted_out: bool = customers::table.select(customers::opted_out).first(&mut app.pool.get().unwrap()).unwrap();
    assert!(!opted_out);
}
crate::chat_test!(concurrent_statuses_never_move_a_message_backwards);
