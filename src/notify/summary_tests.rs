use super::*;
use crate::money::Money;
use crate::reports::daily::{FlaggedFigures, RefundFigures, TopProduct};

fn m(text: &str) -> Money {
    text.parse().expect("money")
}

fn busy_day() -> DailyFigures {
    DailyFigures {
        date: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        timezone: "America/Sao_Paulo".into(),
        paid_orders: 3,
        revenue: m("1234.56"),
        average_ticket: m("411.52"),
        top_products: vec![
            TopProduct {
                retailer_id: "BOLO".into(),
                name: "Bolo de Maçã <grande>".into(),
                quantity: 4,
                revenue: m("1000.00"),
            },
            TopProduct { retailer_id: "PAO".into(), name: "Pão de Queijo".into(), quantity: 2, revenue: m("234.56") },
        ],
        waiting_payment: 2,
        waiting_fulfilment: 1,
        refunds: RefundFigures { count: 1, amount: m("50.00") },
        flagged_payments: FlaggedFigures { count: 1, amount: m("10.00") },
    }
}

fn quiet_day() -> DailyFigures {
    DailyFigures {
        paid_orders: 0,
        revenue: Money::ZERO,
        average_ticket: Money::ZERO,
        top_products: Vec::new(),
        waiting_payment: 0,
        waiting_fulfilment: 0,
        refunds: RefundFigures { count: 0, amount: Money::ZERO },
        flagged_payments: FlaggedFigures { count: 0, amount: Money::ZERO },
        ..busy_day()
    }
}

fn all_parts(language: &str, figures: &DailyFigures) -> String {
    let locale = ShopLocale::new("Padaria São João", language, "America/Sao_Paulo");
    let r = render::render(SendSummary::KIND, &locale, &summary_context(&locale, figures)).expect("renders");
    format!("Subject: {}\n--- text\n{}\n--- html\n{}\n--- whatsapp\n{}", r.subject, r.text, r.html, r.whatsapp)
}

#[test]
fn a_busy_day_in_both_languages() {
    let pt = all_parts("pt-BR", &busy_day());
    assert!(pt.contains("Subject: Resumo de 23/11/2026: 3 pedidos pagos, R$ 1.234,56"), "{pt}");
    assert!(pt.contains("Bolo de Maçã &lt;grande&gt;"), "HTML escaped: {pt}");
    insta::assert_snapshot!("summary_busy_pt", pt);
    let en = all_parts("en", &busy_day());
    assert!(en.contains("Subject: Summary of 2026-11-23: 3 paid orders, R$ 1.234,56"), "{en}");
    insta::assert_snapshot!("summary_busy_en", en);
}

#[test]
fn a_quiet_day_says_so_briefly() {
    let pt = all_parts("pt-BR", &quiet_day());
    assert!(pt.contains("Nenhum pedido pago em 23/11/2026."), "{pt}");
    insta::assert_snapshot!("summary_quiet_pt", pt);
    insta::assert_snapshot!("summary_quiet_en", all_parts("en", &quiet_day()));
}

#[test]
fn the_next_summary_is_the_shops_morning() {
    let settings = |zone: &str, time: &str| ShopSettings {
        checkout: crate::shops::settings::CheckoutSettings {
            shipping_fee: Money::ZERO,
            free_shipping_above: None,
            charge_ttl_seconds: None,
        },
        timezone: zone.into(),
        summary_time: time.into(),
    };
    let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let sp = settings("America/Sao_Paulo", "08:00");
    // 10:00 UTC is 07:00 in São Paulo: yesterday's goes at 11:00 UTC.
    assert_eq!(upcoming_date(&sp, at("2026-11-24 10:00")), day("2026-11-23"));
    assert_eq!(send_time(&sp, day("2026-11-23")), at("2026-11-24 11:00"));
    // Past it, the next is today's, tomorrow.
    assert_eq!(upcoming_date(&sp, at("2026-11-24 11:00")), day("2026-11-24"));
    let manaus = settings("America/Manaus", "21:30");
    assert_eq!(send_time(&manaus, day("2026-11-23")), at("2026-11-25 01:30"));
}
