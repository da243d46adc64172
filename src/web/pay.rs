//! `GET /pay/{token}`: the shop's name, the items, the total, the QR code
//! (inline SVG), the copy-and-paste code with a copy button, the time left,
//! and a status that turns to "pago" by itself (it polls `…/status`). The
//! token (≥ 128 random bits) shows this one order and nothing else.

use crate::db::AnyConnection;
use crate::orders::{self, OrderStatus};
use crate::payments::{self, ChargeStatus, PaymentError};
use chrono::NaiveDateTime;
use serde::Serialize;

/// What the page shows, read in one go.
pub struct PayPage {
    pub shop_name: String,
    pub portuguese: bool,
    pub number: i64,
    pub items: Vec<(String, i64, String)>,
    pub shipping: String,
    pub total: String,
    pub status: OrderStatus,
    pub code: Option<String>,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayStatus {
    pub status: OrderStatus,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: NaiveDateTime,
}

/// Tokens are 64 hex characters; anything else is not one.
pub fn valid_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn load(conn: &mut AnyConnection, token: &str) -> Result<PayPage, PaymentError> {
    if !valid_token(token) {
        return Err(orders::OrderError::NotFound.into());
    }
    let order = orders::repo::by_pay_token(conn, token)?;
    let shop = crate::shops::get(conn, order.shop_id)?;
    let lines = orders::repo::lines(conn, order.id)?;
    let charge = payments::charge::of_order(conn, order.id)?;
    let code = charge.filter(|c| c.status == ChargeStatus::Active).and_then(|c| c.pix_copia_e_cola);
    Ok(PayPage {
        shop_name: shop.name,
        portuguese: !shop.language.starts_with("en"),
        number: order.number,
        items: lines.into_iter().map(|l| (l.name, l.quantity, l.amount.format_brl())).collect(),
        shipping: order.shipping.format_brl(),
        total: order.total.format_brl(),
        status: order.status,
        code,
        expires_at: order.expires_at,
    })
}

pub fn status(conn: &mut AnyConnection, token: &str) -> Result<PayStatus, PaymentError> {
    if !valid_token(token) {
        return Err(orders::OrderError::NotFound.into());
    }
    let order = orders::repo::by_pay_token(conn, token)?;
    Ok(PayStatus { status: order.status, expires_at: order.expires_at })
}

/// The Pix code of a payable order, for its QR image.
pub fn code(conn: &mut AnyConnection, token: &str) -> Result<String, PaymentError> {
    load(conn, token)?.code.ok_or(PaymentError::Order(orders::OrderError::NotFound))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn status_words(status: OrderStatus, pt: bool) -> &'static str {
    match (status, pt) {
        (OrderStatus::PendingPayment, true) => "aguardando pagamento",
        (OrderStatus::PendingPayment, false) => "waiting for payment",
        (OrderStatus::Paid | OrderStatus::Fulfilled, true) => "pago",
        (OrderStatus::Paid | OrderStatus::Fulfilled, false) => "paid",
        (OrderStatus::Expired, true) => "expirado",
        (OrderStatus::Expired, false) => "expired",
        (OrderStatus::Cancelled, true) => "cancelado",
        (OrderStatus::Cancelled, false) => "cancelled",
        (OrderStatus::Refunded | OrderStatus::PartiallyRefunded, true) => "devolvido",
        (OrderStatus::Refunded | OrderStatus::PartiallyRefunded, false) => "refunded",
    }
}

/// The page, with the QR's SVG inline.
pub fn render(page: &PayPage, token: &str, qr_svg: Option<&str>) -> String {
    let pt = page.portuguese;
    let t = |pt_text: &'static str, en_text: &'static str| if pt { pt_text } else { en_text };
    let mut items = String::new();
    for (name, quantity, amount) in &page.items {
        items.push_str(&format!("<tr><td>{quantity}× {}</td><td class=r>{}</td></tr>", escape(name), escape(amount)));
    }
    let pay_block = match (&page.code, qr_svg, page.status) {
        (Some(code), Some(svg), OrderStatus::PendingPayment) => format!(
            r#"<div class=qr>{svg}</div>
<p>{copy_hint}</p>
<textarea id=code readonly rows=4>{code}</textarea>
<button id=copy type=button>{copy}</button>
<p class=left>{left_label} <span id=left></span></p>"#,
            copy_hint = t("Pix copia e cola:", "Pix copy and paste:"),
            code = escape(code),
            copy = t("Copiar código", "Copy code"),
            left_label = t("Tempo para pagar:", "Time left to pay:"),
        ),
        _ => String::new(),
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{shop} — {order_word} #{number}</title>
<style>
body{{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}}
main{{max-width:420px;margin:0 auto;padding:16px}}
.card{{background:#fff;border-radius:12px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.1)}}
h1{{font-size:1.2rem;margin:0 0 4px}} table{{width:100%;border-collapse:collapse}} td{{padding:4px 0}}
.r{{text-align:right}} .total td{{font-weight:700;border-top:1px solid #ddd}}
.qr svg{{width:100%;height:auto;max-width:280px;display:block;margin:8px auto}}
textarea{{width:100%;box-sizing:border-box;font-family:monospace;font-size:.8rem}}
button{{width:100%;padding:12px;font-size:1rem;border:0;border-radius:8px;background:#0a7;color:#fff;margin-top:8px}}
#status{{font-weight:700}} .paid #status{{color:#0a7}}
</style></head>
<body><main><div class=card id=card>
<h1>{shop}</h1>
<p>{order_word} #{number} — <span id=status>{status}</span></p>
<table>{items}<tr><td>{shipping_word}</td><td class=r>{shipping}</td></tr><tr class=total><td>Total</td><td class=r>{total}</td></tr></table>
{pay_block}
</div></main>
<script>
(function(){{
var token="{token}",expires=Date.parse("{expires}"),paidWord="{paid_word}";
var left=document.getElementById("left"),copy=document.getElementById("copy"),code=document.getElementById("code");
if(copy){{copy.onclick=function(){{code.select();if(navigator.clipboard){{navigator.clipboard.writeText(code.value)}}else{{document.execCommand("copy")}};copy.textContent="{copied}"}}}}
function tick(){{if(!left)return;var s=Math.max(0,Math.floor((expires-Date.now())/1000));left.textContent=Math.floor(s/60)+":"+("0"+s%60).slice(-2)}}
function poll(){{fetch("/pay/"+token+"/status").then(function(r){{return r.json()}}).then(function(j){{
var words={words};document.getElementById("status").textContent=words[j.status]||j.status;
if(j.status!=="pending_payment"){{var b=document.querySelector(".qr");if(b)b.remove();if(left)left.parentNode.remove();if(code){{code.remove();copy.remove()}}
if(j.status==="paid"||j.status==="fulfilled")document.getElementById("card").className="card paid";}}else{{setTimeout(poll,3000)}}
}}).catch(function(){{setTimeout(poll,5000)}})}}
tick();setInterval(tick,1000);if({pending})setTimeout(poll,3000);
}})();
</script></body></html>"#,
        lang = t("pt-BR", "en"),
        shop = escape(&page.shop_name),
        order_word = t("Pedido", "Order"),
        number = page.number,
        status = status_words(page.status, pt),
        shipping_word = t("Frete", "Shipping"),
        shipping = escape(&page.shipping),
        total = escape(&page.total),
        expires = crate::clock::rfc3339::format(&page.expires_at),
        paid_word = status_words(OrderStatus::Paid, pt),
        copied = t("Copiado!", "Copied!"),
        pending = page.status == OrderStatus::PendingPayment,
        words = serde_json::json!({
            "pending_payment": status_words(OrderStatus::PendingPayment, pt),
            "paid": status_words(OrderStatus::Paid, pt),
            "fulfilled": status_words(OrderStatus::Fulfilled, pt),
            "expired": status_words(OrderStatus::Expired, pt),
            "cancelled": status_words(OrderStatus::Cancelled, pt),
            "refunded": status_words(OrderStatus::Refunded, pt),
            "partially_refunded": status_words(OrderStatus::PartiallyRefunded, pt),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("<b>Bolo & Cia</b>"), "&lt;b&gt;Bolo &amp; Cia&lt;/b&gt;");
    }

    #[test]
    fn tokens_are_64_hex_characters() {
        assert!(valid_token(&"a".repeat(64)));
        assert!(!valid_token(&"a".repeat(63)));
        assert!(!valid_token(&format!("{}g", "a".repeat(63))));
    }
}
