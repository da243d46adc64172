use super::*;

fn order() -> EventOrder {
    serde_json::from_value(serde_json::json!({
        "number": 1042,
        "customer": {"name": "Ana Luísa Souza", "whatsapp": "5511988887777"},
        "items": [
            {"name": "Bolo de Chocolate", "quantity": 2, "amount": "91.80"},
            {"name": "Pão de Queijo <grande>", "quantity": 100, "amount": "1150.00"}
        ],
        "total": "1241.80",
        "paid_at": "2026-11-23T02:30:00Z",
        "created_at": "2026-11-23T02:20:00Z"
    }))
    .expect("order data")
}

fn rendered(language: &str, timezone: &str) -> Rendered {
    let locale = ShopLocale::new("Padaria São João", language, timezone);
    render("order.paid", &locale, &order_context(&locale, &order())).expect("renders")
}

fn all_parts(r: &Rendered) -> String {
    format!("Subject: {}\n--- text\n{}\n--- html\n{}\n--- whatsapp\n{}", r.subject, r.text, r.html, r.whatsapp)
}

#[test]
fn a_paid_order_in_portuguese() {
    let r = rendered("pt-BR", "America/Sao_Paulo");
    // 02:30 UTC is the evening before in São Paulo.
    assert!(r.text.contains("22/11/2026 às 23:30"), "{}", r.text);
    assert!(r.text.contains("R$ 1.241,80"));
    assert!(!r.text.contains("5511988887777"), "never the full number");
    assert!(r.html.contains("Pão de Queijo &lt;grande&gt;"), "HTML escaped");
    insta::assert_snapshot!(all_parts(&r));
}

#[test]
fn a_paid_order_in_english_in_another_zone() {
    let r = rendered("en", "America/Manaus");
    assert!(r.text.contains("2026-11-22 at 22:30"), "{}", r.text);
    insta::assert_snapshot!(all_parts(&r));
}

#[test]
fn a_flagged_payment_in_both_languages() {
    let payment: EventPayment = serde_json::from_value(serde_json::json!({
        "end_to_end_id": "E18236120202611231200s0000000001", "amount": "50.00",
        "paid_at": "2026-11-23T15:00:00Z", "outcome": "amount_mismatch", "order_number": 1042
    }))
    .expect("payment data");
    for language in ["pt-BR", "en"] {
        let locale = ShopLocale::new("Padaria São João", language, "America/Sao_Paulo");
        let r = render("payment.flagged", &locale, &payment_context(&locale, &payment)).expect("renders");
        insta::assert_snapshot!(format!("payment_flagged_{language}"), all_parts(&r));
    }
}

#[test]
fn every_template_parses() {
    for (name, _) in TEMPLATES {
        assert!(environment().get_template(name).is_ok(), "{name}");
    }
}
