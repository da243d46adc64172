//! What the bot says, in the shop's language (pt-BR by default, en).

use crate::cart::{AddOutcome, Cart, MAX_QUANTITY};
use crate::catalog::{Availability, Product};
use crate::money::Money;
use crate::orders::ItemProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Portuguese,
    English,
}

impl Language {
    pub fn of_shop(setting: &str) -> Language {
        if setting.to_ascii_lowercase().starts_with("en") { Language::English } else { Language::Portuguese }
    }
}

/// Amounts as the shop's customers read them: `R$ 1.234,56`, or `R$1,234.56` in English.
pub fn amount(language: Language, money: Money) -> String {
    match language {
        Language::Portuguese => money.format_brl(),
        Language::English => {
            money.format_brl().replace('.', "#").replace(',', ".").replace('#', ",").replace("R$ ", "R$")
        }
    }
}

pub struct Replies {
    pub language: Language,
}

impl Replies {
    fn pick(&self, pt: String, en: String) -> String {
        match self.language {
            Language::Portuguese => pt,
            Language::English => en,
        }
    }

    pub fn help(&self, shop_name: &str, customer: Option<&str>) -> String {
        let hello_pt = customer.map_or("Olá!".to_owned(), |n| format!("Olá, {n}!"));
        let hello_en = customer.map_or("Hello!".to_owned(), |n| format!("Hello, {n}!"));
        self.pick(
            format!(
                "{hello_pt} Aqui é a {shop_name}. Você pode enviar:\n• *menu* — ver os produtos\n• *2x CÓDIGO* — pôr no carrinho\n• *carrinho* — ver o carrinho\n• *remover CÓDIGO* — tirar do carrinho\n• *limpar* — esvaziar o carrinho\n• *pagar* — fechar o pedido\n• *parar* — não receber mais nossas mensagens"
            ),
            format!(
                "{hello_en} This is {shop_name}. You can send:\n• *menu* — see the products\n• *2x CODE* — add to your cart\n• *cart* — see your cart\n• *remove CODE* — take it out\n• *clear* — empty your cart\n• *pay* — check out\n• *stop* — no more messages from us"
            ),
        )
    }

    pub fn unknown(&self) -> String {
        self.pick(
            "Não entendi. Envie *menu* para ver os produtos ou *ajuda* para ver o que posso fazer.".into(),
            "Sorry, I did not understand. Send *menu* to see the products or *help* for what I can do.".into(),
        )
    }

    pub fn unsupported(&self) -> String {
        self.pick(
            "Por enquanto eu entendo mensagens de texto e carrinhos do catálogo. Envie *menu* para ver os produtos."
                .into(),
            "For now I understand text messages and catalogue carts. Send *menu* to see the products.".into(),
        )
    }

    pub fn menu(&self, shop_name: &str, products: &[Product]) -> String {
        if products.is_empty() {
            return self.pick(
                "A loja ainda não tem produtos disponíveis.".into(),
                "The shop has no products available yet.".into(),
            );
        }
        let mut lines = self.pick(format!("Produtos da {shop_name}:"), format!("{shop_name}'s products:"));
        for p in products {
            lines.push_str(&format!("\n• {} — {} ({})", p.name, amount(self.language, p.unit_price()), p.retailer_id));
        }
        let example = &products[0].retailer_id;
        lines.push_str(&self.pick(
            format!("\n\nPara pedir, envie por exemplo *2x {example}*."),
            format!("\n\nTo order, send for example *2x {example}*."),
        ));
        lines
    }

    pub fn product_list_body(&self) -> String {
        self.pick("Escolha os produtos e envie o carrinho.".into(), "Pick the products and send your cart.".into())
    }

    pub fn added(&self, product: &Product, outcome: &AddOutcome) -> String {
        let name = &product.name;
        match outcome {
            AddOutcome::Added { quantity, .. } => {
                self.pick(format!("Adicionado: {quantity}x {name}."), format!("Added: {quantity}x {name}."))
            }
            AddOutcome::Limited { in_cart, by_stock: true, .. } => self.pick(
                format!("{name}: só temos {in_cart} em estoque; seu carrinho ficou com {in_cart}."),
                format!("{name}: only {in_cart} in stock; your cart now has {in_cart}."),
            ),
            AddOutcome::Limited { in_cart, by_stock: false, .. } => self.pick(
                format!("{name}: o máximo por pedido no chat é {MAX_QUANTITY}; seu carrinho ficou com {in_cart}."),
                format!("{name}: a chat order takes at most {MAX_QUANTITY}; your cart now has {in_cart}."),
            ),
            AddOutcome::OutOfStock => self.pick(format!("{name} está esgotado."), format!("{name} is sold out.")),
            AddOutcome::Unavailable(availability) => self.unavailable(name, *availability),
        }
    }

    fn unavailable(&self, name: &str, availability: Availability) -> String {
        match availability {
            Availability::OutOfStock => self.pick(format!("{name} está esgotado."), format!("{name} is sold out.")),
            _ => self
                .pick(format!("{name} não está disponível no momento."), format!("{name} is not available right now.")),
        }
    }

    pub fn not_found(&self, text: &str) -> String {
        self.pick(
            format!("Não encontrei \"{text}\". Envie *menu* para ver os produtos."),
            format!("I could not find \"{text}\". Send *menu* to see the products."),
        )
    }

    pub fn which_one(&self, candidates: &[Product]) -> String {
        let mut text = self.pick("Qual destes?".into(), "Which one?".into());
        for p in candidates {
            text.push_str(&format!("\n• {} ({})", p.name, p.retailer_id));
        }
        let example = candidates.first().map(|p| p.retailer_id.to_string()).unwrap_or_default();
        text.push_str(
            &self.pick(format!("\nEnvie por exemplo *1x {example}*."), format!("\nSend for example *1x {example}*.")),
        );
        text
    }

    pub fn cart(&self, cart: &Cart) -> String {
        if cart.is_empty() {
            return self.pick(
                "Seu carrinho está vazio. Envie *menu* para ver os produtos.".into(),
                "Your cart is empty. Send *menu* to see the products.".into(),
            );
        }
        let mut text = self.pick("Seu carrinho:".into(), "Your cart:".into());
        for line in &cart.lines {
            text.push_str(&format!(
                "\n• {}x {} — {}",
                line.quantity,
                line.product.name,
                amount(self.language, line.line_total)
            ));
        }
        text.push_str(&format!("\n*Total: {}*", amount(self.language, cart.total)));
        text
    }

    pub fn removed(&self, name: &str, was_there: bool) -> String {
        match was_there {
            true => self.pick(format!("Removido: {name}."), format!("Removed: {name}.")),
            false => self.pick(format!("{name} não está no seu carrinho."), format!("{name} is not in your cart.")),
        }
    }

    pub fn cleared(&self) -> String {
        self.pick("Carrinho esvaziado.".into(), "Your cart is empty now.".into())
    }

    pub fn cancelled(&self) -> String {
        self.pick(
            "Pedido cancelado; seu carrinho foi esvaziado.".into(),
            "Order cancelled; your cart is empty now.".into(),
        )
    }

    pub fn order_placed(&self, number: i64, total: Money) -> String {
        let total = total.format_brl();
        self.pick(
            format!("Pedido #{number} feito! Total {total}. Já vou enviar o código Pix para pagamento."),
            format!("Order #{number} placed! Total {total}. The Pix code to pay is on its way."),
        )
    }

    pub fn still_waiting(&self, number: i64, total: Money, code: Option<&str>, link: &str) -> String {
        let total = total.format_brl();
        let head = self.pick(
            format!("Seu pedido #{number} ({total}) está esperando o pagamento."),
            format!("Your order #{number} ({total}) is waiting for payment."),
        );
        match code {
            Some(code) => self.pick(
                format!("{head}\n\nPix copia e cola:\n{code}\n\nOu pague por aqui: {link}"),
                format!("{head}\n\nPix copy and paste:\n{code}\n\nOr pay here: {link}"),
            ),
            None => self.pick(format!("{head}\nPague por aqui: {link}"), format!("{head}\nPay here: {link}")),
        }
    }

    pub fn cannot_order(&self) -> String {
        self.pick(
            "Não deu para fechar o pedido; nada foi reservado:".into(),
            "The order could not be placed; nothing was reserved:".into(),
        )
    }

    pub fn item_problem(&self, problem: &ItemProblem) -> String {
        match problem {
            ItemProblem::UnknownProduct { retailer_id } => self.pick(
                format!("• {retailer_id}: não está mais no catálogo"),
                format!("• {retailer_id}: no longer in the catalogue"),
            ),
            ItemProblem::Unavailable { name, .. } => {
                self.pick(format!("• {name}: indisponível no momento"), format!("• {name}: not available right now"))
            }
            ItemProblem::OutOfStock { name, available, .. } if *available > 0 => {
                self.pick(format!("• {name}: só temos {available}"), format!("• {name}: only {available} left"))
            }
            ItemProblem::OutOfStock { name, .. } => {
                self.pick(format!("• {name}: esgotado"), format!("• {name}: sold out"))
            }
            ItemProblem::InvalidQuantity { retailer_id } => {
                self.pick(format!("• {retailer_id}: quantidade inválida"), format!("• {retailer_id}: invalid quantity"))
            }
        }
    }

    pub fn order_cancelled(&self, number: i64) -> String {
        self.pick(
            format!("Pedido #{number} cancelado. Se quiser, é só montar outro carrinho."),
            format!("Order #{number} cancelled. Build another cart whenever you like."),
        )
    }

    pub fn too_late_to_cancel(&self, number: i64) -> String {
        self.pick(
            format!("O pedido #{number} já não pode ser cancelado por aqui; fale com a loja."),
            format!("Order #{number} can no longer be cancelled here; please talk to the shop."),
        )
    }

    pub fn opted_out(&self) -> String {
        self.pick(
            "Pronto: você não vai mais receber mensagens nossas, só respostas ao que você pedir. Para voltar, envie *VOLTAR*.".into(),
            "Done: you will get no more messages from us, only answers to what you ask. To come back, send *START*.".into(),
        )
    }

    pub fn opted_in(&self) -> String {
        self.pick(
            "Que bom ter você de volta! Envie *menu* para ver os produtos.".into(),
            "Welcome back! Send *menu* to see the products.".into(),
        )
    }

    pub fn order_line_problem(&self, line: usize, sku: &str, problem: &OrderLineProblem) -> String {
        match problem {
            OrderLineProblem::UnknownSku => self.pick(
                format!("Item {line} ({sku}): não existe mais no nosso catálogo."),
                format!("Item {line} ({sku}): no longer in our catalogue."),
            ),
            OrderLineProblem::Unavailable(name) => self.pick(
                format!("Item {line} ({name}): não está disponível no momento."),
                format!("Item {line} ({name}): not available right now."),
            ),
            OrderLineProblem::SoldOut(name) => {
                self.pick(format!("Item {line} ({name}): esgotado."), format!("Item {line} ({name}): sold out."))
            }
            OrderLineProblem::Limited { name, asked, added } => self.pick(
                format!("Item {line} ({name}): você pediu {asked}, só temos {added}; coloquei {added}."),
                format!("Item {line} ({name}): you asked for {asked}, we have {added}; I added {added}."),
            ),
            OrderLineProblem::BadQuantity => self.pick(
                format!("Item {line} ({sku}): quantidade inválida."),
                format!("Item {line} ({sku}): invalid quantity."),
            ),
        }
    }

    pub fn button_pay(&self) -> String {
        self.pick("Pagar".into(), "Pay".into())
    }

    pub fn button_menu(&self) -> String {
        self.pick("Ver produtos".into(), "See products".into())
    }

    pub fn button_clear(&self) -> String {
        self.pick("Limpar carrinho".into(), "Clear cart".into())
    }

    pub fn button_add(&self) -> String {
        self.pick("Adicionar".into(), "Add to cart".into())
    }

    pub fn product(&self, p: &Product) -> String {
        let mut text = format!("*{}* — {}", p.name, amount(self.language, p.unit_price()));
        if !p.description.is_empty() {
            text.push_str(&format!("\n{}", p.description));
        }
        text
    }
}

/// Why one line of a catalogue cart could not be taken as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderLineProblem {
    UnknownSku,
    Unavailable(String),
    SoldOut(String),
    Limited { name: String, asked: i64, added: i64 },
    BadQuantity,
}
