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

fn locale(language: &str) -> ShopLocale {
    ShopLocale::new("Padaria São João", language, "America/Sao_Paulo")
}

/// 02:50 UTC, the evening before in São Paulo.
fn closed_at() -> NaiveDateTime {
    parse_time("2026-11-23T02:50:00Z").expect("time")
}

#[test]
fn an_expired_order_in_both_languages() {
    for language in ["pt-BR", "en"] {
        let l = locale(language);
        let r = render("order.expired", &l, &closed_order_context(&l, &order(), closed_at())).expect("renders");
        assert!(r.text.contains("#1042") && r.text.contains("R$ 1.241,80"), "{}", r.text);
        assert!(r.whatsapp.contains("Ana") && !r.whatsapp.contains("Luísa"), "first name only");
        assert!(!all_parts(&r).contains("5511988887777"), "never the full number");
        insta::assert_snapshot!(format!("order_expired_{language}"), all_parts(&r));
    }
    // A Pix that came late expired the order itself: the mail says so.
    let mut late = order();
    late.flags = vec!["late_payment".into(), "needs_refund".into()];
    let r = render("order.expired", &locale("pt-BR"), &closed_order_context(&locale("pt-BR"), &late, closed_at()))
        .expect("renders");
    assert!(r.text.contains("chegou depois do prazo"), "{}", r.text);
}

#[test]
fn an_order_the_customer_cancelled_in_both_languages() {
    for language in ["pt-BR", "en"] {
        let l = locale(language);
        let r = render("order.cancelled", &l, &closed_order_context(&l, &order(), closed_at())).expect("renders");
        assert!(r.text.contains("22/11/2026 às 23:50") || r.text.contains("2026-11-22 at 23:50"), "{}", r.text);
        insta::assert_snapshot!(format!("order_cancelled_{language}"), all_parts(&r));
    }
}

fn refund(extra: serde_json::Value) -> EventRefund {
    let mut data = serde_json::json!({
        "id": "D4f3b2a1c0e9d8c7b6a5f4e3d2c1b0a9f", "end_to_end_id": "E18236120202611231200s0000000001",
        "order_id": "0192f0c4-7d2a-7c3e-9b1a-2f4e5d6c7b8a", "order_number": 1042, "amount": "1234.56",
        "reason": "Faltou o pão de queijo", "initiated_by": "shop", "nature": "ORIGINAL",
        "settled_at": "2026-11-23T15:04:00.000Z"
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    serde_json::from_value(data).expect("refund data")
}

fn ana() -> RefundCustomer<'static> {
    RefundCustomer { name: Some("Ana Luísa Souza"), whatsapp: Some("5511988887777") }
}

#[test]
fn a_settled_refund_in_both_languages() {
    for language in ["pt-BR", "en"] {
        let l = locale(language);
        let r = render("refund.settled", &l, &refund_context(&l, &refund(serde_json::json!({})), ana(), closed_at()))
            .expect("renders");
        assert!(r.subject.contains("R$ 1.234,56") && r.subject.contains("#1042"), "{}", r.subject);
        assert!(r.text.contains("12:04"), "the shop's zone: {}", r.text);
        assert!(!all_parts(&r).contains("5511988887777"));
        insta::assert_snapshot!(format!("refund_settled_{language}"), all_parts(&r));
    }
}

#[test]
fn a_return_the_psp_made_on_its_own_in_both_languages() {
    let med = refund(serde_json::json!({"initiated_by": "psp", "nature": "MED_FRAUDE", "reason": null}));
    for language in ["pt-BR", "en"] {
        let l = locale(language);
        let r = render("refund.settled", &l, &refund_context(&l, &med, ana(), closed_at())).expect("renders");
        assert!(r.text.contains("MED_FRAUDE"), "{}", r.text);
        insta::assert_snapshot!(format!("refund_settled_by_psp_{language}"), all_parts(&r));
    }
}

#[test]
fn a_failed_refund_in_both_languages_says_what_the_psp_said() {
    let failed = refund(serde_json::json!({"error": "Conta do pagador encerrada"}));
    for language in ["pt-BR", "en"] {
        let l = locale(language);
        let r = render("refund.failed", &l, &refund_context(&l, &failed, ana(), closed_at())).expect("renders");
        for part in [&r.text, &r.html, &r.whatsapp] {
            assert!(part.contains("Conta do pagador encerrada"), "{part}");
        }
        insta::assert_snapshot!(format!("refund_failed_{language}"), all_parts(&r));
    }
    let silent = refund(serde_json::json!({"order_id": null, "order_number": null}));
    let r = render("refund.failed", &locale("en"), &refund_context(&locale("en"), &silent, ana(), closed_at()))
        .expect("renders");
    assert!(r.text.contains("The PSP gave no reason"), "{}", r.text);
    assert!(!r.subject.contains('#'), "no order: {}", r.subject);
}

#[test]
fn every_template_parses() {
    for (name, _) in TEMPLATES {
        assert!(environment().get_template(name).is_ok(), "{name}");
    }
}
