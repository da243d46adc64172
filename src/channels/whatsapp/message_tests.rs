//! Unit tests for outbound message rendering.

use super::*;

const TO: &str = "5511988887777";

fn order() -> OrderDetails {
    OrderDetails {
        reference_id: "pedido-123_A.1".into(),
        body: "Seu pedido".into(),
        items: vec![OrderLine {
            retailer_id: "BOLO-CHOC".into(),
            name: "Bolo de chocolate".into(),
            amount_cents: 4590,
            quantity: 2,
        }],
        tax_cents: 0,
        shipping_cents: 0,
        discount_cents: 0,
        expiration: Some(Expiration { timestamp: 1750100000, description: "Expira em 1 hora".into() }),
        pix: PixSettings {
            code: "00020101021226...6304ABCD".into(),
            merchant_name: "Doces da Ana".into(),
            key: "ana@example.com".into(),
            key_type: PixKeyType::Email,
        },
    }
}

#[test]
fn text_shape() {
    let json = OutboundMessage::Text { body: "Olá".into() }.to_graph_json(TO).unwrap();
    assert_eq!(
        json,
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":TO,"type":"text",
               "text":{"preview_url":false,"body":"Olá"}})
    );
}

#[test]
fn text_limits() {
    let ok = OutboundMessage::Text { body: "ã".repeat(MAX_TEXT_CHARS) };
    assert!(ok.to_graph_json(TO).is_ok(), "limit counts characters, not bytes");
    let long = OutboundMessage::Text { body: "a".repeat(MAX_TEXT_CHARS + 1) };
    assert_eq!(long.to_graph_json(TO), Err(MessageError::TooLong { field: "text body", len: 4097, max: 4096 }));
    assert!(matches!(OutboundMessage::Text { body: " ".into() }.to_graph_json(TO), Err(MessageError::Empty { .. })));
    assert!(matches!(OutboundMessage::Text { body: "x".into() }.to_graph_json(""), Err(MessageError::Empty { .. })));
}

fn button(id: &str, title: &str) -> ReplyButton {
    ReplyButton { id: id.into(), title: title.into() }
}

#[test]
fn buttons_shape_and_limits() {
    let msg = OutboundMessage::Buttons {
        body: "Pronto?".into(),
        buttons: vec![button("pay", "Pagar"), button("cart", "Carrinho")],
    };
    assert_eq!(
        msg.to_graph_json(TO).unwrap()["interactive"],
        json!({"type":"button","body":{"text":"Pronto?"},"action":{"buttons":[
            {"type":"reply","reply":{"id":"pay","title":"Pagar"}},
            {"type":"reply","reply":{"id":"cart","title":"Carrinho"}}]}})
    );
    assert_eq!(msg.to_graph_json(TO).unwrap()["type"], "interactive");
    let four =
        OutboundMessage::Buttons { body: "b".into(), buttons: (0..4).map(|i| button(&i.to_string(), "t")).collect() };
    assert_eq!(four.to_graph_json(TO), Err(MessageError::TooMany { field: "buttons", len: 4, max: 3 }));
    let none = OutboundMessage::Buttons { body: "b".into(), buttons: vec![] };
    assert!(matches!(none.to_graph_json(TO), Err(MessageError::Empty { .. })));
    let long = OutboundMessage::Buttons { body: "b".into(), buttons: vec![button("a", &"x".repeat(21))] };
    assert!(matches!(long.to_graph_json(TO), Err(MessageError::TooLong { field: "button title", .. })));
    let ok20 = OutboundMessage::Buttons { body: "b".into(), buttons: vec![button("a", &"ç".repeat(20))] };
    assert!(ok20.to_graph_json(TO).is_ok());
    let dup = OutboundMessage::Buttons { body: "b".into(), buttons: vec![button("a", "x"), button("a", "y")] };
    assert_eq!(dup.to_graph_json(TO), Err(MessageError::DuplicateButtonId("a".into())));
}

fn product_list(sections: Vec<ProductSection>) -> OutboundMessage {
    OutboundMessage::ProductList {
        header: "Cardápio".into(),
        body: "Escolha".into(),
        catalog_id: "CID".into(),
        sections,
    }
}

fn section(title: &str, n: usize) -> ProductSection {
    ProductSection { title: title.into(), skus: (0..n).map(|i| format!("SKU{i}")).collect() }
}

#[test]
fn product_list_shape_and_limits() {
    let json = product_list(vec![section("Bolos", 2)]).to_graph_json(TO).unwrap();
    assert_eq!(
        json["interactive"],
        json!({"type":"product_list","header":{"type":"text","text":"Cardápio"},"body":{"text":"Escolha"},
               "action":{"catalog_id":"CID","sections":[{"title":"Bolos","product_items":[
                   {"product_retailer_id":"SKU0"},{"product_retailer_id":"SKU1"}]}]}})
    );
    assert!(product_list(vec![section("a", 10), section("b", 10), section("c", 10)]).to_graph_json(TO).is_ok());
    assert_eq!(
        product_list(vec![section("a", 20), section("b", 11)]).to_graph_json(TO),
        Err(MessageError::TooMany { field: "product items", len: 31, max: 30 })
    );
    assert_eq!(
        product_list((0..11).map(|i| section(&i.to_string(), 1)).collect()).to_graph_json(TO),
        Err(MessageError::TooMany { field: "sections", len: 11, max: 10 })
    );
    assert!(product_list(vec![]).to_graph_json(TO).is_err());
    assert!(product_list(vec![section("a", 0)]).to_graph_json(TO).is_err());
    assert!(product_list(vec![section(&"s".repeat(25), 1)]).to_graph_json(TO).is_err());
}

#[test]
fn order_details_shape() {
    let json = OutboundMessage::OrderDetails(order()).to_graph_json(TO).unwrap();
    let expected = json!({"messaging_product":"whatsapp","recipient_type":"individual","to":TO,"type":"interactive",
        "interactive":{"type":"order_details","body":{"text":"Seu pedido"},"action":{"name":"review_and_pay","parameters":{
            "reference_id":"pedido-123_A.1","type":"physical-goods","payment_type":"br",
            "payment_settings":[{"type":"pix_dynamic_code","pix_dynamic_code":{"code":"00020101021226...6304ABCD",
                "merchant_name":"Doces da Ana","key":"ana@example.com","key_type":"EMAIL"}}],
            "currency":"BRL","total_amount":{"value":9180,"offset":100},
            "order":{"status":"pending","expiration":{"timestamp":"1750100000","description":"Expira em 1 hora"},
                "items":[{"retailer_id":"BOLO-CHOC","name":"Bolo de chocolate","amount":{"value":4590,"offset":100},"quantity":2}],
                "subtotal":{"value":9180,"offset":100},"tax":{"value":0,"offset":100},
                "shipping":{"value":0,"offset":100},"discount":{"value":0,"offset":100}}}}}});
    assert_eq!(json, expected);
}

#[test]
fn order_totals_rule() {
    let mut o = order();
    o.items.push(OrderLine { retailer_id: "CAFE".into(), name: "Café".into(), amount_cents: 550, quantity: 3 });
    o.tax_cents = 100;
    o.shipping_cents = 1000;
    o.discount_cents = 500;
    assert_eq!(
        o.totals(),
        Ok(OrderTotals { subtotal_cents: 9180 + 1650, total_cents: 9180 + 1650 + 100 + 1000 - 500 })
    );
    o.expiration = None;
    let json = OutboundMessage::OrderDetails(o).to_graph_json(TO).unwrap();
    let params = &json["interactive"]["action"]["parameters"];
    assert_eq!(params["total_amount"]["value"], 11430);
    assert_eq!(params["order"]["subtotal"]["value"], 10830);
    assert_eq!(params["order"]["discount"]["value"], 500);
    assert!(params["order"].get("expiration").is_none());
}

#[test]
fn order_details_validation() {
    type Mutation = fn(&mut OrderDetails);
    let cases: Vec<(Mutation, MessageError)> = vec![
        (|o| o.reference_id = "has space".into(), MessageError::InvalidReferenceId),
        (|o| o.reference_id = "a".repeat(61), MessageError::InvalidReferenceId),
        (|o| o.reference_id = String::new(), MessageError::InvalidReferenceId),
        (|o| o.reference_id = "pedido/1".into(), MessageError::InvalidReferenceId),
        (|o| o.items.clear(), MessageError::Empty { field: "order items" }),
        (|o| o.items[0].quantity = 0, MessageError::InvalidAmount("item quantity must be at least 1")),
        (|o| o.items[0].amount_cents = -1, MessageError::InvalidAmount("negative item amount")),
        (|o| o.discount_cents = 9180, MessageError::InvalidAmount("total must be positive")),
        (|o| o.tax_cents = -5, MessageError::InvalidAmount("negative tax, shipping or discount")),
        (|o| o.items[0].amount_cents = i64::MAX, MessageError::InvalidAmount("overflow")),
        (|o| o.pix.code = String::new(), MessageError::Empty { field: "pix code" }),
        (|o| o.items[0].name = " ".into(), MessageError::Empty { field: "item name" }),
    ];
    for (mutate, expected) in cases {
        let mut o = order();
        mutate(&mut o);
        assert_eq!(OutboundMessage::OrderDetails(o).to_graph_json(TO), Err(expected));
    }
    let mut o = order();
    o.reference_id = "A".repeat(60);
    assert!(OutboundMessage::OrderDetails(o).to_graph_json(TO).is_ok());
}

#[test]
fn order_status_shape() {
    let msg = OutboundMessage::OrderStatus {
        body: "Pagamento recebido!".into(),
        reference_id: "pedido-123".into(),
        status: "processing".into(),
        description: Some("Preparando".into()),
        payment_captured_at: Some(1722445231),
    };
    assert_eq!(
        msg.to_graph_json(TO).unwrap()["interactive"],
        json!({"type":"order_status","body":{"text":"Pagamento recebido!"},"action":{"name":"review_order","parameters":{
            "reference_id":"pedido-123","order":{"status":"processing","description":"Preparando"},
            "payment":{"status":"captured","timestamp":1722445231}}}})
    );
    let bare = OutboundMessage::OrderStatus {
        body: "Cancelado".into(),
        reference_id: "pedido-123".into(),
        status: "canceled".into(),
        description: None,
        payment_captured_at: None,
    };
    assert_eq!(
        bare.to_graph_json(TO).unwrap()["interactive"]["action"]["parameters"],
        json!({"reference_id":"pedido-123","order":{"status":"canceled"}})
    );
    let bad = OutboundMessage::OrderStatus {
        body: "x".into(),
        reference_id: "pedido-123".into(),
        status: "paid".into(),
        description: None,
        payment_captured_at: None,
    };
    assert_eq!(bad.to_graph_json(TO), Err(MessageError::InvalidOrderStatus("paid".into())));
}

#[test]
fn template_shape() {
    let components = json!([{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]);
    let msg = OutboundMessage::Template {
        name: "pedido_pronto".into(),
        language: "pt_BR".into(),
        components: components.clone(),
    };
    assert_eq!(
        msg.to_graph_json(TO).unwrap(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":TO,"type":"template",
               "template":{"name":"pedido_pronto","language":{"code":"pt_BR"},"components":components}})
    );
    let bare = OutboundMessage::Template { name: "oi".into(), language: "pt_BR".into(), components: Value::Null };
    assert_eq!(bare.to_graph_json(TO).unwrap()["template"], json!({"name":"oi","language":{"code":"pt_BR"}}));
    let bad = OutboundMessage::Template { name: "oi".into(), language: "pt_BR".into(), components: json!({}) };
    assert_eq!(bad.to_graph_json(TO), Err(MessageError::InvalidComponents));
}

#[test]
fn kinds_and_serde_round_trip() {
    let messages = vec![
        OutboundMessage::Text { body: "oi".into() },
        OutboundMessage::Buttons { body: "b".into(), buttons: vec![button("pay", "Pagar")] },
        product_list(vec![section("Bolos", 1)]),
        OutboundMessage::OrderDetails(order()),
        OutboundMessage::OrderStatus {
            body: "b".into(),
            reference_id: "r".into(),
            status: "shipped".into(),
            description: None,
            payment_captured_at: Some(1),
        },
        OutboundMessage::Template { name: "t".into(), language: "pt_BR".into(), components: json!([]) },
    ];
    let kinds: Vec<&str> = messages.iter().map(OutboundMessage::kind).collect();
    assert_eq!(kinds, ["text", "buttons", "product_list", "order_details", "order_status", "template"]);
    for msg in messages {
        let stored = serde_json::to_string(&msg).unwrap();
        let value: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(value["kind"], msg.kind(), "{stored}");
        assert_eq!(serde_json::from_str::<OutboundMessage>(&stored).unwrap(), msg);
    }
    let stored = serde_json::to_value(OutboundMessage::OrderDetails(order())).unwrap();
    assert_eq!(stored["pix"]["key_type"], "EMAIL");
    assert_eq!(stored["reference_id"], "pedido-123_A.1");
}
