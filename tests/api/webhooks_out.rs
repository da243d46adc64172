//! Signed webhooks to a shop's own receiver on loopback: what arrives and
//! how it is signed, retries, 410, 429 with Retry-After, dead deliveries and
//! the owner's retry, secret rotation, refused URLs, a replayed fan-out.

use crate::helpers::{TestApp, TestShop, assert_problem};
use crate::on_both_databases;
use crate::support::webhook_receiver::{Received, WebhookReceiver, verify};
use chrono::TimeDelta;
use serde_json::{Value, json};

pub struct Setup {
    pub app: TestApp,
    pub shop: TestShop,
    pub receiver: WebhookReceiver,
    pub endpoint: Value,
}

impl Setup {
    fn secret(&self) -> String {
        self.endpoint["secret"].as_str().expect("the secret, shown once").to_owned()
    }

    fn endpoint_path(&self) -> String {
        format!("/v1/webhook-endpoints/{}", self.endpoint["id"].as_str().expect("id"))
    }

    /// Places an order: an `order.created` event.
    async fn an_order(&self) -> Value {
        let order = json!({"items": [{"retailer_id": "PAO", "quantity": 1}]});
        let placed = self.app.post("/v1/orders", &self.shop.token, &order).await;
        assert_eq!(placed.status(), 201);
        placed.json().await.expect("order")
    }

    /// Moves the clock on and runs what became due.
    async fn after(&self, by: TimeDelta) {
        self.app.clock.advance(by);
        self.app.run_until_idle().await;
    }

    async fn deliveries(&self, query: &str) -> Vec<Value> {
        let page: Value = self.app.get(&format!("/v1/deliveries{query}"), &self.shop.token).await.json().await.unwrap();
        page["data"].as_array().expect("a page").clone()
    }

    async fn endpoint_now(&self) -> Value {
        let page: Value = self.app.get("/v1/webhook-endpoints", &self.shop.token).await.json().await.unwrap();
        page["data"][0].clone()
    }
}

pub async fn setup(app: TestApp, events: &[&str]) -> Setup {
    let shop = app.sign_up("Padaria Webhook", "dono@webhook.com.br").await;
    app.create_product(&shop.token, "PAO", "Pão de queijo", "4.50").await;
    let receiver = WebhookReceiver::start().await;
    let created =
        app.post("/v1/webhook-endpoints", &shop.token, &json!({"url": receiver.url(), "events": events})).await;
    assert_eq!(created.status(), 201);
    let endpoint: Value = created.json().await.unwrap();
    Setup { app, shop, receiver, endpoint }
}

/// The mails written so far, each as its `To` and plain-text part.
fn mails(app: &TestApp) -> Vec<String> {
    app.mail_files()
        .iter()
        .map(|raw| {
            let mail = mailparse::parse_mail(raw.as_bytes()).expect("MIME");
            let to = mail.headers.iter().find(|h| h.get_key_ref().eq_ignore_ascii_case("to")).map(|h| h.get_value());
            let text = mail
                .subparts
                .iter()
                .find(|p| p.ctype.mimetype == "text/plain")
                .and_then(|p| p.get_body().ok())
                .unwrap_or_default();
            format!("To: {}\n{text}", to.unwrap_or_default())
        })
        .collect()
}

#[test]
fn the_receivers_check_passes_the_specs_test_vector() {
    let request = Received {
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek".into(),
        timestamp: "1614265330".into(),
        signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into(),
        content_type: "application/json".into(),
        body: r#"{"test": 2432232314}"#.into(),
    };
    assert!(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &request));
    assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", &request));
    let tampered = Received { body: r#"{"test": 2432232315}"#.into(), ..request };
    assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &tampered));
}

async fn a_paid_order_reaches_the_receiver_signed(app: TestApp) {
    let s = setup(app, &["order.paid"]).await;
    let secret = s.secret();
    assert!(secret.starts_with("whsec_"));
    let listed = s.endpoint_now().await;
    assert!(listed.get("secret").is_none(), "the secret is shown once: {listed}");
    assert_eq!(listed["events"], json!(["order.paid"]));

    let order = s.an_order().await;
    s.app.run_until_idle().await;
    assert_eq!(s.receiver.count(), 0, "order.created is not subscribed to");
    let got: Value =
        s.app.get(&format!("/v1/orders/{}", order["id"].as_str().unwrap()), &s.shop.token).await.json().await.unwrap();
    let txid = got["charge"]["txid"].as_str().unwrap();
    let paid = s.app.client.post(s.app.url(&format!("/sandbox/pix/{txid}/pay"))).json(&json!({})).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    s.app.run_until_idle().await;

    let received = s.receiver.requests();
    assert_eq!(received.len(), 1, "{received:#?}");
    let hook = &received[0];
    assert!(verify(&secret, hook), "signature of {hook:?}");
    assert_eq!(hook.content_type, "application/json");
    assert_eq!(hook.timestamp(), s.app.clock.now().and_utc().timestamp());
    assert_eq!(hook.signature.split(' ').count(), 1);
    let body = hook.json();
    assert_eq!(body["id"], hook.id.as_str(), "webhook-id is the event's id");
    assert_eq!(body["type"], "order.paid");
    assert!(body["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");
    assert_eq!(body["data"]["order"]["id"], order["id"]);
    assert_eq!(body["data"]["order"]["status"], "paid");
    assert_eq!(body["data"]["order"]["total"], "4.50");
    let delivered = s.deliveries("?status=delivered").await;
    let hooks: Vec<_> = delivered.iter().filter(|d| d["channel"] == "webhook").collect();
    assert_eq!(hooks.len(), 1, "{delivered:#?}");
    assert_eq!(hooks[0]["event_type"], "order.paid");
    assert_eq!(hooks[0]["to"], s.receiver.url());
}
on_both_databases!(a_paid_order_reaches_the_receiver_signed);

async fn three_failures_then_delivered_with_the_same_id(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    for _ in 0..3 {
        s.receiver.answer_next(500, None);
    }
    s.an_order().await;
    s.app.run_until_idle().await;
    assert_eq!(s.receiver.count(), 1);
    // The schedule: 5 s, 5 min, 30 min (each ±10 %).
    s.after(TimeDelta::seconds(6)).await;
    assert_eq!(s.receiver.count(), 2);
    s.after(TimeDelta::minutes(6)).await;
    assert_eq!(s.receiver.count(), 3);
    s.after(TimeDelta::minutes(20)).await;
    assert_eq!(s.receiver.count(), 3, "not before its time");
    s.after(TimeDelta::minutes(15)).await;
    let received = s.receiver.requests();
    assert_eq!(received.len(), 4);
    assert!(received.iter().all(|r| r.id == received[0].id && r.body == received[0].body), "same id, same body");
    assert!(received.iter().all(|r| verify(&s.secret(), r)), "each attempt signed anew");
    assert!(received.windows(2).all(|w| w[0].timestamp() < w[1].timestamp()), "a fresh timestamp per attempt");
    let delivered = s.deliveries("?status=delivered").await;
    let hook = delivered.iter().find(|d| d["channel"] == "webhook").expect("delivered");
    assert_eq!(hook["attempts"], 4);
    s.after(TimeDelta::hours(1)).await;
    assert_eq!(s.receiver.count(), 4, "nothing more once delivered");
}
on_both_databases!(three_failures_then_delivered_with_the_same_id);

async fn gone_disables_the_endpoint_and_tells_the_owner(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    s.receiver.answer_next(410, None);
    s.an_order().await;
    s.app.run_until_idle().await;
    let endpoint = s.endpoint_now().await;
    assert_eq!(endpoint["status"], "disabled");
    assert!(endpoint["disabled_reason"].as_str().is_some_and(|r| r.contains("410")), "{endpoint}");
    let dead = s.deliveries("?status=dead").await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["last_error"].as_str().is_some_and(|e| e.contains("410")), "{dead:?}");
    let mails: Vec<String> = mails(&s.app).into_iter().filter(|m| m.contains(s.receiver.url().as_str())).collect();
    assert_eq!(mails.len(), 1, "the owner is told once");
    assert!(mails[0].contains("dono@webhook.com.br"));
    s.an_order().await;
    s.after(TimeDelta::hours(1)).await;
    assert_eq!(s.receiver.count(), 1, "nothing goes to a disabled endpoint");
}
on_both_databases!(gone_disables_the_endpoint_and_tells_the_owner);

async fn too_many_requests_slows_every_delivery_down(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    s.receiver.answer_next(429, Some(120));
    s.an_order().await;
    s.app.run_until_idle().await;
    assert_eq!(s.receiver.count(), 1);
    // Another event meanwhile waits too, without counting an attempt.
    s.after(TimeDelta::seconds(10)).await;
    s.an_order().await;
    s.app.run_until_idle().await;
    s.after(TimeDelta::seconds(100)).await;
    assert_eq!(s.receiver.count(), 1, "Retry-After: 120 is honoured");
    s.after(TimeDelta::seconds(11)).await;
    let received = s.receiver.requests();
    assert_eq!(received.len(), 3, "{received:#?}");
    let first = &received[0];
    let again = received[1..].iter().find(|r| r.id == first.id).expect("the 429'd one again");
    assert!(again.timestamp() - first.timestamp() >= 120);
    assert!(received[1..].iter().any(|r| r.id != first.id), "the one that waited");
    let delivered = s.deliveries("?status=delivered").await;
    let attempts: Vec<i64> =
        delivered.iter().filter(|d| d["channel"] == "webhook").map(|d| d["attempts"].as_i64().unwrap()).collect();
    assert_eq!(attempts.len(), 2);
    assert!(attempts.contains(&2) && attempts.contains(&1), "the waiting one was not tried: {attempts:?}");
}
on_both_databases!(too_many_requests_slows_every_delivery_down);

async fn dead_after_about_three_days_then_retried_by_the_owner(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    s.receiver.answer_always(500);
    s.an_order().await;
    s.app.run_until_idle().await;
    let started = s.app.clock.now();
    // In steps of 15 minutes: the schedule's 75.5 h, ±10 %, plus up to a step per attempt.
    let mut dead = Vec::new();
    while dead.is_empty() && s.app.clock.now() - started < TimeDelta::hours(90) {
        s.after(TimeDelta::minutes(15)).await;
        dead = s.deliveries("?status=dead").await;
    }
    let took = s.app.clock.now() - started;
    assert!(took > TimeDelta::hours(66) && took <= TimeDelta::hours(86), "dead after {took}");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["channel"], "webhook");
    assert_eq!(dead[0]["attempts"], 10);
    assert_eq!(dead[0]["last_error"], "answered 500");
    assert_eq!(s.receiver.count(), 10);

    s.receiver.answer_always(200);
    let id = dead[0]["id"].as_str().unwrap();
    let retried = s.app.post(&format!("/v1/deliveries/{id}/retry"), &s.shop.token, &json!({})).await;
    assert_eq!(retried.status(), 200);
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["status"], "pending");
    s.app.run_until_idle().await;
    let received = s.receiver.requests();
    assert_eq!(received.len(), 11);
    assert!(received.iter().all(|r| r.id == received[0].id));
    assert!(verify(&s.secret(), &received[10]));
    assert!(s.deliveries("?status=dead").await.is_empty());
    let again = s.app.post(&format!("/v1/deliveries/{id}/retry"), &s.shop.token, &json!({})).await;
    assert_problem(again, 409, "not_dead").await;
}
on_both_databases!(dead_after_about_three_days_then_retried_by_the_owner);

async fn five_days_of_failures_disable_the_endpoint(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    s.receiver.answer_always(503);
    let started = s.app.clock.now();
    // An event every 12 hours, each retried for about 3 days.
    for hour in 0..(6 * 24) {
        if hour % 12 == 0 {
            s.an_order().await;
        }
        s.after(TimeDelta::hours(1)).await;
        if s.endpoint_now().await["status"] == "disabled" {
            break;
        }
    }
    let endpoint = s.endpoint_now().await;
    assert_eq!(endpoint["status"], "disabled", "{endpoint}");
    let disabled_at = chrono::DateTime::parse_from_rfc3339(endpoint["disabled_at"].as_str().unwrap()).unwrap();
    let failing_for = disabled_at.naive_utc() - started;
    assert!(
        failing_for >= TimeDelta::days(5) && failing_for < TimeDelta::days(5) + TimeDelta::hours(13),
        "{failing_for}"
    );
    let told: Vec<String> = mails(&s.app).into_iter().filter(|m| m.contains("5 dias")).collect();
    assert_eq!(told.len(), 1, "the owner is told once, in the shop's language");
    let count = s.receiver.count();
    s.an_order().await;
    for _ in 0..24 {
        s.after(TimeDelta::hours(1)).await;
    }
    assert_eq!(s.receiver.count(), count, "nothing is sent to a disabled endpoint");
    let dead = s.deliveries("?status=dead&limit=100").await;
    assert!(dead.iter().any(|d| d["last_error"].as_str().is_some_and(|e| e.contains("disabled"))), "{dead:#?}");
}
on_both_databases!(five_days_of_failures_disable_the_endpoint);

async fn a_rotated_secret_signs_beside_the_new_one_for_24_hours(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    let old = s.secret();
    let rotated = s.app.post(&format!("{}/rotate-secret", s.endpoint_path()), &s.shop.token, &json!({})).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    assert!(s.endpoint_now().await.get("secret").is_none());

    s.an_order().await;
    s.app.run_until_idle().await;
    let during = s.receiver.requests()[0].clone();
    assert_eq!(during.signature.split(' ').count(), 2, "{}", during.signature);
    assert!(verify(&old, &during) && verify(&new, &during));

    s.app.clock.advance(TimeDelta::hours(24) + TimeDelta::seconds(1));
    s.an_order().await;
    s.app.run_until_idle().await;
    let after = s.receiver.requests()[1].clone();
    assert_eq!(after.signature.split(' ').count(), 1);
    assert!(verify(&new, &after), "the new secret signs");
    assert!(!verify(&old, &after), "the old one no longer");
    assert!(s.endpoint_now().await["previous_secret_expires_at"].is_null());
}
on_both_databases!(a_rotated_secret_signs_beside_the_new_one_for_24_hours);

async fn endpoints_are_checked_and_owned(app: TestApp) {
    let shop = app.sign_up("Padaria Check", "dono@check.com.br").await;
    let post = |body: Value| {
        let (app, token) = (&app, shop.token.clone());
        async move { app.post("/v1/webhook-endpoints", &token, &body).await }
    };
    for url in [
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://192.168.0.10/hook",
        "https://100.64.0.1/hook",
        "https://[fd00::1]/hook",
        "http://erp.example.com/hook",
        "ftp://erp.example.com/hook",
        "not a url",
    ] {
        let refused =
            assert_problem(post(json!({"url": url, "events": ["order.paid"]})).await, 422, "invalid_field").await;
        assert_eq!(refused["field"], "url", "{url}");
    }
    for events in [json!([]), json!(["charge.issued"]), json!(["order.paid", "order.teleported"])] {
        let refused = assert_problem(
            post(json!({"url": "https://erp.example.com/hook", "events": events})).await,
            422,
            "invalid_field",
        )
        .await;
        assert_eq!(refused["field"], "events");
    }
    let staff = app.user_token(&shop, "staff@check.com.br", "staff").await;
    let body = json!({"url": "https://erp.example.com/hook", "events": ["order.paid"]});
    assert_eq!(app.post("/v1/webhook-endpoints", &staff, &body).await.status(), 403);
    assert_eq!(app.get("/v1/deliveries?status=dead", &staff).await.status(), 403);
    let made: Value = post(body.clone()).await.json().await.unwrap();
    let path = format!("/v1/webhook-endpoints/{}", made["id"].as_str().unwrap());
    // Another shop sees none of it.
    let other = app.sign_up("Outra", "dono@outra.com.br").await;
    assert_eq!(app.delete(&path, &other.token).await.status(), 404);
    assert_eq!(app.post(&format!("{path}/rotate-secret"), &other.token, &json!({})).await.status(), 404);
    let theirs: Value = app.get("/v1/webhook-endpoints", &other.token).await.json().await.unwrap();
    assert_eq!(theirs["data"], json!([]));
    assert_eq!(app.delete(&path, &shop.token).await.status(), 204);
    assert_eq!(app.delete(&path, &shop.token).await.status(), 404);
}
on_both_databases!(endpoints_are_checked_and_owned);

async fn a_fan_out_run_twice_delivers_once(app: TestApp) {
    let s = setup(app, &["order.created"]).await;
    s.an_order().await;
    s.app.run_until_idle().await;
    assert_eq!(s.receiver.count(), 1);
    // The publish job again (a worker whose lease ran out, a replay).
    let mut conn = s.app.pool.get().unwrap();
    let shop: chatshop::ids::ShopId = s.shop.id.parse().unwrap();
    let event_id: chatshop::ids::EventId = s.receiver.requests()[0].id.parse().unwrap();
    let event = chatshop::events::find(&mut conn, event_id).unwrap().unwrap();
    assert_eq!(event.shop_id, shop);
    chatshop::notify::fan_out(&mut conn, &event).unwrap();
    drop(conn);
    s.after(TimeDelta::hours(1)).await;
    assert_eq!(s.receiver.count(), 1);
}
on_both_databases!(a_fan_out_run_twice_delivers_once);
