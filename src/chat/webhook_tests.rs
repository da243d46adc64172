//! Unit tests for `webhook::parse` (kept apart so webhook.rs stays short).

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn wrap(value: Value) -> Vec<u8> {
    json!({"object":"whatsapp_business_account","entry":[{"id":"WABA","changes":[{"field":"messages","value":value}]}]})
        .to_string()
        .into_bytes()
}

fn value_with(messages: Value) -> Value {
    json!({
        "messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"5511999990000","phone_number_id":"106540352242922"},
        "contacts":[{"profile":{"name":"Ana"},"wa_id":"5511988887777"}],
        "messages": messages
    })
}

fn only_message(body: &[u8]) -> InboundMessage {
    let events = parse(body).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    match events.into_iter().next().unwrap() {
        InboundEvent::Message { message, .. } => message,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn text_message_from_wire_md() {
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"<WABA_ID>","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"5511999990000","phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Ana"},"wa_id":"5511988887777"}],
  "messages":[{"from":"5511988887777","id":"wamid.HBgM...","timestamp":"1750096325","type":"text","text":{"body":"menu"}}]}}]}]}"#;
    let events = parse(body).unwrap();
    assert_eq!(
        events,
        vec![InboundEvent::Message {
            phone_number_id: "106540352242922".into(),
            display_phone_number: Some("5511999990000".into()),
            contact: Contact { wa_id: "5511988887777".into(), profile_name: Some("Ana".into()) },
            message: InboundMessage {
                id: "wamid.HBgM...".into(),
                from: "5511988887777".into(),
                timestamp: 1750096325,
                body: MessageBody::Text("menu".into()),
                referred_product: None,
            },
        }]
    );
}

#[test]
fn order_with_exact_prices() {
    let body = wrap(value_with(json!([{"from":"5511988887777","id":"wamid.1","timestamp":"1","type":"order",
        "order":{"catalog_id":"194836987003835","text":"sem açúcar","product_items":[
            {"product_retailer_id":"BOLO-CHOC","quantity":2,"item_price":45.9,"currency":"BRL"},
            {"product_retailer_id":"CAFE","quantity":"1","item_price":0.1},
            {"product_retailer_id":"X","quantity":3,"item_price":1e2},
            {"product_retailer_id":"Y","quantity":1}]}}])));
    let m = only_message(&body);
    let MessageBody::Order { catalog_id, note, items } = m.body else { panic!("{:?}", m.body) };
    assert_eq!(catalog_id, "194836987003835");
    assert_eq!(note.as_deref(), Some("sem açúcar"));
    assert_eq!(items.len(), 4);
    assert_eq!(items[0].item_price, Some(Decimal::new(459, 1)));
    assert_eq!(items[0].item_price.unwrap().to_string(), "45.9");
    assert_eq!(items[0].quantity, 2);
    assert_eq!(items[0].currency.as_deref(), Some("BRL"));
    assert_eq!(items[1].item_price, Some(Decimal::new(1, 1)));
    assert_eq!(items[1].quantity, 1);
    assert_eq!(items[2].item_price, Some(Decimal::new(100, 0)));
    assert_eq!(items[3].item_price, None);
}

#[test]
fn decimal_handles_exponents_and_strings() {
    assert_eq!(decimal(&json!(1.5e-7)), Some(Decimal::from_str("0.00000015").unwrap()));
    assert_eq!(decimal(&json!(1e21)), Some(Decimal::from_str("1000000000000000000000").unwrap()));
    assert_eq!(decimal(&json!("12.34")), Some(Decimal::new(1234, 2)));
    assert_eq!(decimal(&json!(1e300)), None);
    assert_eq!(decimal(&json!(true)), None);
}

#[test]
fn order_with_bad_item_is_unsupported() {
    let body = wrap(value_with(json!([{"from":"5511988887777","id":"wamid.1","timestamp":"1","type":"order",
        "order":{"catalog_id":"C","product_items":[{"product_retailer_id":"A","quantity":-1}]}}])));
    assert_eq!(only_message(&body).body, MessageBody::Unsupported { kind: "order".into() });
}

#[test]
fn interactive_replies() {
    let body = wrap(value_with(json!([
        {"from":"5511988887777","id":"w1","timestamp":"1","type":"interactive",
         "interactive":{"type":"button_reply","button_reply":{"id":"pay","title":"Pagar"}}},
        {"from":"5511988887777","id":"w2","timestamp":"2","type":"interactive",
         "interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"Bolo","description":"Chocolate"}}},
        {"from":"5511988887777","id":"w3","timestamp":"3","type":"interactive",
         "interactive":{"type":"nfm_reply","nfm_reply":{}}},
        {"from":"5511988887777","id":"w4","timestamp":"4","type":"button","button":{"payload":"STOP","text":"Parar"}}
    ])));
    let bodies: Vec<MessageBody> = parse(&body)
        .unwrap()
        .into_iter()
        .map(|e| match e {
            InboundEvent::Message { message, .. } => message.body,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            MessageBody::ButtonReply { id: "pay".into(), title: "Pagar".into() },
            MessageBody::ListReply { id: "r1".into(), title: "Bolo".into(), description: Some("Chocolate".into()) },
            MessageBody::Unsupported { kind: "interactive.nfm_reply".into() },
            MessageBody::ButtonReply { id: "STOP".into(), title: "Parar".into() },
        ]
    );
}

#[test]
fn unsupported_media_and_referred_product() {
    let body = wrap(value_with(json!([
        {"from":"5511988887777","id":"w1","timestamp":"1","type":"image","image":{"id":"m1"}},
        {"from":"5511988887777","id":"w2","timestamp":"1","type":"text","text":{"body":"Tem esse?"},
         "context":{"referred_product":{"catalog_id":"C1","product_retailer_id":"BOLO-CHOC"}}}
    ])));
    let events = parse(&body).unwrap();
    let InboundEvent::Message { message: m0, .. } = &events[0] else { panic!() };
    let InboundEvent::Message { message: m1, .. } = &events[1] else { panic!() };
    assert_eq!(m0.body, MessageBody::Unsupported { kind: "image".into() });
    assert_eq!(
        m1.referred_product,
        Some(ReferredProduct { catalog_id: "C1".into(), product_retailer_id: "BOLO-CHOC".into() })
    );
}

#[test]
fn batch_order_and_skips() {
    let body = json!({"object":"whatsapp_business_account","entry":[
        {"id":"A","changes":[
            {"field":"messages","value":value_with(json!([
                {"from":"1","id":"m1","timestamp":"1","type":"text","text":{"body":"a"}},
                {"from":"1","timestamp":"1","type":"text","text":{"body":"no id"}},
                {"id":"m-no-from","timestamp":"1","type":"text","text":{"body":"no from"}},
                "not an object",
                {"from":"1","id":"m2","timestamp":"2","type":"text","text":{"body":"b"}}]))},
            {"field":"account_update","value":value_with(json!([
                {"from":"1","id":"skip","timestamp":"1","type":"text","text":{"body":"x"}}]))}]},
        {"id":"B","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"P2"},"statuses":[
                {"id":"s1","status":"delivered","timestamp":"5","recipient_id":"1"},
                {"status":"read"},
                {"id":"s2","status":"failed","timestamp":"6","recipient_id":"1",
                 "errors":[{"code":131047,"title":"Re-engagement message"}]},
                {"id":"s3","status":"deleted","timestamp":"7","recipient_id":"1"}]}}]}
    ]})
    .to_string();
    let events = parse(body.as_bytes()).unwrap();
    let ids: Vec<String> = events
        .iter()
        .map(|e| match e {
            InboundEvent::Message { message, .. } => message.id.clone(),
            InboundEvent::Status { status, .. } => status.message_id.clone(),
        })
        .collect();
    assert_eq!(ids, ["m1", "m2", "s1", "s2", "s3"]);
    let InboundEvent::Status { phone_number_id, status } = &events[3] else { panic!() };
    assert_eq!(phone_number_id, "P2");
    assert_eq!(status.status, StatusKind::Failed);
    assert_eq!(status.timestamp, 6);
    assert_eq!(status.errors, vec![GraphErrorInfo { code: 131047, title: "Re-engagement message".into() }]);
    let InboundEvent::Status { status, .. } = &events[4] else { panic!() };
    assert_eq!(status.status, StatusKind::Other("deleted".into()));
}

#[test]
fn contact_selection() {
    let value = json!({"metadata":{"phone_number_id":"P"},
        "contacts":[{"profile":{"name":"Bia"},"wa_id":"2"},{"profile":{"name":"Ana"},"wa_id":"1"}],
        "messages":[{"from":"1","id":"m1","timestamp":"1","type":"text","text":{"body":"oi"}},
                    {"from":"3","id":"m2","timestamp":"1","type":"text","text":{"body":"oi"}}]});
    let events = parse(&wrap(value)).unwrap();
    let InboundEvent::Message { contact, display_phone_number, .. } = &events[0] else { panic!() };
    assert_eq!(contact, &Contact { wa_id: "1".into(), profile_name: Some("Ana".into()) });
    assert_eq!(display_phone_number, &None);
    let InboundEvent::Message { contact, .. } = &events[1] else { panic!() };
    assert_eq!(contact, &Contact { wa_id: "3".into(), profile_name: None });

    // A lone contact whose wa_id differs from `from` (Brazil's ninth digit) is still the sender.
    let value = json!({"metadata":{"phone_number_id":"P"},"contacts":[{"profile":{"name":"Ana"},"wa_id":"551188887777"}],
        "messages":[{"from":"5511988887777","id":"m1","timestamp":"1","type":"text","text":{"body":"oi"}}]});
    let InboundEvent::Message { contact, .. } = &parse(&wrap(value)).unwrap()[0] else { panic!() };
    assert_eq!(contact, &Contact { wa_id: "551188887777".into(), profile_name: Some("Ana".into()) });

    let value = json!({"metadata":{"phone_number_id":"P"},
        "messages":[{"from":"9","id":"m1","timestamp":"x","type":"text","text":{"body":"oi"}}]});
    let events = parse(&wrap(value)).unwrap();
    let InboundEvent::Message { contact, message, .. } = &events[0] else { panic!() };
    assert_eq!(contact, &Contact { wa_id: "9".into(), profile_name: None });
    assert_eq!(message.timestamp, 0);
}

#[test]
fn malformed_bodies() {
    for body in [&b""[..], b"{", b"[]", b"null", b"{\"object\":\"page\",\"entry\":[]}", b"{\"entry\":[]}", b"\xff\xfe"]
    {
        assert!(matches!(parse(body), Err(WebhookError::Malformed(_))), "{:?}", String::from_utf8_lossy(body));
    }
    assert!(matches!(parse(br#"{"object":"whatsapp_business_account"}"#), Err(WebhookError::Malformed(_))));
    assert_eq!(parse(br#"{"object":"whatsapp_business_account","entry":[]}"#), Ok(vec![]));
    assert_eq!(parse(br#"{"object":"whatsapp_business_account","entry":[1,{"changes":"x"}]}"#), Ok(vec![]));
}

#[test]
fn too_large() {
    let mut body = br#"{"object":"whatsapp_business_account","entry":[]}"#.to_vec();
    body.resize(MAX_BODY_BYTES + 1, b' ');
    assert_eq!(parse(&body), Err(WebhookError::TooLarge));
    body.truncate(MAX_BODY_BYTES);
    assert_eq!(parse(&body), Ok(vec![]));
}

#[test]
fn deep_nesting_does_not_overflow() {
    let body =
        format!(r#"{{"object":"whatsapp_business_account","entry":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(parse(body.as_bytes()), Err(WebhookError::Malformed(_))));
}

/// Random values built from the webhook's own vocabulary, so the walker sees plausible shapes.
fn json_ish() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "object",
        "entry",
        "changes",
        "field",
        "value",
        "metadata",
        "phone_number_id",
        "contacts",
        "wa_id",
        "profile",
        "name",
        "messages",
        "statuses",
        "id",
        "from",
        "timestamp",
        "type",
        "text",
        "body",
        "order",
        "product_items",
        "product_retailer_id",
        "quantity",
        "item_price",
        "interactive",
        "button_reply",
        "list_reply",
        "title",
        "context",
        "referred_product",
        "errors",
        "code",
        "status",
        "button",
        "payload",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![
            "messages",
            "whatsapp_business_account",
            "order",
            "text",
            "interactive",
            "button_reply",
            "list_reply",
            "button",
            "read",
            "1e5",
            "-3"
        ])
        .prop_map(Value::from),
        ".*".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_on_json_ish_strings(s in r#"[\[\]{}:,"0-9a-z_. \\e+-]{0,400}"#) {
        let _ = parse(s.as_bytes());
    }

    #[test]
    fn never_panics_on_structured_json(v in json_ish(), contacts in json_ish(), messages in json_ish(), statuses in json_ish()) {
        let _ = parse(v.to_string().as_bytes());
        let _ = parse(&wrap(v));
        let value = json!({"metadata":{"phone_number_id":"P"},"contacts":contacts,"messages":messages,"statuses":statuses});
        let _ = parse(&wrap(value));
    }
}
