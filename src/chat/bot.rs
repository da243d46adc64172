//! The shop's bot: what to answer to each message, and the cart changes it
//! asks for. Runs inside the transaction that stores the inbound message.

use super::ChatError;
use super::command::{Command, parse_command};
use super::replies::{Language, OrderLineProblem, Replies};
use super::webhook::{InboundMessage, MessageBody, OrderItem, ReferredProduct};
use crate::cart::{self, AddOutcome, Cart};
use crate::catalog::{Availability, Product, Sku, repo};
use crate::channels::whatsapp::message::{OutboundMessage, ProductSection, ReplyButton};
use crate::customers::{self, Customer};
use crate::db::{AnyConnection, write_transaction};
use crate::orders::{self, Checkout, CheckoutItem, CustomerRef, ItemProblem, OrderError, OrderSource};
use crate::payments::{self, CancelledBy, PaymentError, Placed};
use crate::shops::whatsapp::ChatShop;

/// Meta's limits on interactive messages.
const MAX_LIST_ITEMS: usize = 30;
const MAX_SECTIONS: usize = 10;
const MAX_INTERACTIVE_BODY: usize = 1024;

pub struct Bot<'a> {
    shop: &'a ChatShop,
    customer: &'a Customer,
    placed: &'a Placed<'a>,
    say: Replies,
}

impl<'a> Bot<'a> {
    pub fn new(shop: &'a ChatShop, customer: &'a Customer, placed: &'a Placed<'a>) -> Bot<'a> {
        Bot { shop, customer, placed, say: Replies { language: Language::of_shop(&shop.language) } }
    }

    pub fn respond(
        &self,
        conn: &mut AnyConnection,
        message: &InboundMessage,
    ) -> Result<Vec<OutboundMessage>, ChatError> {
        match &message.body {
            MessageBody::Text(text) => match &message.referred_product {
                Some(referred) => self.referred_product(conn, referred, text),
                None => self.command(conn, parse_command(text)),
            },
            MessageBody::Order { items, .. } => self.catalogue_cart(conn, items),
            MessageBody::ButtonReply { id, .. } | MessageBody::ListReply { id, .. } => self.button(conn, id),
            MessageBody::Unsupported { .. } => Ok(vec![text(self.say.unsupported())]),
        }
    }

    fn command(&self, conn: &mut AnyConnection, command: Command) -> Result<Vec<OutboundMessage>, ChatError> {
        let (shop, customer) = (self.shop.id, self.customer.id);
        Ok(match command {
            Command::Menu => vec![self.menu(conn)?],
            Command::Add { item, quantity } => self.add(conn, &item, quantity)?,
            Command::Cart => vec![self.cart_message(&cart::load(conn, shop, customer)?)],
            Command::Remove { item } => match cart::find_product(conn, shop, &item)?.as_slice() {
                [product] => {
                    let was_there = cart::remove(conn, shop, customer, product.id)?;
                    vec![
                        text(self.say.removed(&product.name, was_there)),
                        self.cart_message(&cart::load(conn, shop, customer)?),
                    ]
                }
                [] => vec![text(self.say.not_found(&item))],
                several => vec![text(self.say.which_one(several))],
            },
            Command::Clear => {
                cart::clear(conn, shop, customer)?;
                vec![text(self.say.cleared())]
            }
            Command::Pay => self.pay(conn)?,
            Command::Help => vec![text(self.say.help(&self.shop.name, self.customer.profile_name.as_deref()))],
            Command::Cancel => self.cancel(conn)?,
            Command::OptOut => {
                customers::set_opted_out(conn, shop, customer, true)?;
                vec![text(self.say.opted_out())]
            }
            Command::OptIn => {
                customers::set_opted_out(conn, shop, customer, false)?;
                vec![text(self.say.opted_in())]
            }
            Command::Unknown => vec![text(self.say.unknown())],
        })
    }

    /// `pagar`: the cart becomes an order, its stock reserved and its Pix
    /// charge on the way (the code follows in its own message). The cart is
    /// taken by a conditional delete, so `pagar` twice makes one order; with
    /// nothing in the cart, the order waiting for payment is shown again.
    fn pay(&self, conn: &mut AnyConnection) -> Result<Vec<OutboundMessage>, ChatError> {
        let (shop, customer) = (self.shop.id, self.customer.id);
        let placed = write_transaction(conn, |conn| {
            let Some(cart) = cart::take(conn, shop, customer)? else { return Ok(None) };
            let checkout = Checkout {
                source: OrderSource::Chat,
                customer: CustomerRef {
                    id: Some(customer),
                    name: self.customer.profile_name.clone(),
                    whatsapp: Some(self.customer.wa_id.clone()),
                },
                items: cart
                    .lines
                    .iter()
                    .map(|line| CheckoutItem { sku: line.product.retailer_id.clone(), quantity: line.quantity })
                    .collect(),
                note: None,
            };
            match payments::checkout(conn, shop, &checkout, self.placed, crate::db::now()) {
                Ok((order, _)) => Ok(Some(order)),
                // Nothing reserved, the cart given back: say what is wrong.
                Err(PaymentError::Order(OrderError::ItemsUnavailable(problems))) => Err(Unplaced(problems)),
                Err(other) => Err(Unplaced::from(other)),
            }
        });
        match placed {
            Ok(Some(order)) => Ok(vec![text(self.say.order_placed(order.number, order.total))]),
            Ok(None) => match orders::repo::pending_of_customer(conn, shop, customer)? {
                Some(order) => {
                    let charge = payments::charge::of_order(conn, order.id)?;
                    let code = charge.and_then(|c| c.pix_copia_e_cola);
                    let link = self.placed.links.pay_url(&order.pay_token);
                    Ok(vec![text(self.say.still_waiting(order.number, order.total, code.as_deref(), &link))])
                }
                None => Ok(vec![text(self.say.cart(&cart::load(conn, shop, customer)?))]),
            },
            Err(Unplaced(problems)) if !problems.is_empty() => {
                let mut lines = vec![self.say.cannot_order()];
                lines.extend(problems.iter().map(|p| self.say.item_problem(p)));
                Ok(vec![text(lines.join("\n")), self.cart_message(&cart::load(conn, shop, customer)?)])
            }
            Err(Unplaced(_)) => Err(ChatError::Encoding("the order could not be placed".into())),
        }
    }

    /// `cancelar`: the order waiting for payment is cancelled (stock back,
    /// the charge removed), or else the cart is emptied.
    fn cancel(&self, conn: &mut AnyConnection) -> Result<Vec<OutboundMessage>, ChatError> {
        let (shop, customer) = (self.shop.id, self.customer.id);
        if let Some(order) = orders::repo::pending_of_customer(conn, shop, customer)? {
            let now = crate::db::now();
            return match payments::cancel(conn, shop, order.id, CancelledBy::Customer, self.placed.links, now) {
                Ok(_) => Ok(vec![text(self.say.order_cancelled(order.number))]),
                Err(PaymentError::Order(OrderError::WrongState(_))) => {
                    Ok(vec![text(self.say.too_late_to_cancel(order.number))])
                }
                Err(error) => Err(ChatError::Payment(error)),
            };
        }
        cart::clear(conn, shop, customer)?;
        Ok(vec![text(self.say.cancelled())])
    }

    fn add(&self, conn: &mut AnyConnection, item: &str, quantity: i64) -> Result<Vec<OutboundMessage>, ChatError> {
        let (shop, customer) = (self.shop.id, self.customer.id);
        Ok(match cart::find_product(conn, shop, item)?.as_slice() {
            [product] => {
                let outcome = cart::add(conn, shop, customer, product, quantity)?;
                vec![text(self.say.added(product, &outcome)), self.cart_message(&cart::load(conn, shop, customer)?)]
            }
            [] => vec![text(self.say.not_found(item))],
            several => vec![text(self.say.which_one(several))],
        })
    }

    /// The products a customer can order now, in catalogue order.
    fn orderable(&self, conn: &mut AnyConnection) -> Result<Vec<Product>, ChatError> {
        Ok(repo::orderable(conn, self.shop.id, MAX_LIST_ITEMS as i64)?)
    }

    fn menu(&self, conn: &mut AnyConnection) -> Result<OutboundMessage, ChatError> {
        let products = self.orderable(conn)?;
        let Some(catalog_id) = self.shop.catalog_id.clone().filter(|_| !products.is_empty()) else {
            return Ok(text(self.say.menu(&self.shop.name, &products)));
        };
        // The shop's own WhatsApp catalogue, grouped by category.
        let mut sections: Vec<ProductSection> = Vec::new();
        for product in &products {
            let title: String = product.category.as_deref().unwrap_or(&self.shop.name).chars().take(24).collect();
            let sku = product.retailer_id.to_string();
            if let Some(section) = sections.iter_mut().find(|s| s.title == title) {
                section.skus.push(sku);
            } else if sections.len() < MAX_SECTIONS {
                sections.push(ProductSection { title, skus: vec![sku] });
            }
        }
        Ok(OutboundMessage::ProductList {
            header: self.shop.name.chars().take(60).collect(),
            body: self.say.product_list_body(),
            catalog_id,
            sections,
        })
    }

    /// A cart sent from the WhatsApp catalogue replaces the chat cart, priced
    /// from our catalogue; the customer's `item_price` is only compared.
    fn catalogue_cart(&self, conn: &mut AnyConnection, items: &[OrderItem]) -> Result<Vec<OutboundMessage>, ChatError> {
        let (shop, customer) = (self.shop.id, self.customer.id);
        cart::clear(conn, shop, customer)?;
        let mut problems = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let line = index + 1;
            let sku_text = item.product_retailer_id.as_str();
            let product = match Sku::parse(sku_text) {
                Ok(sku) => repo::find_by_sku(conn, shop, &sku)?,
                Err(_) => None,
            };
            let Some(product) = product else {
                problems.push(self.say.order_line_problem(line, sku_text, &OrderLineProblem::UnknownSku));
                continue;
            };
            if let Some(claimed) = item.item_price
                && claimed != product.unit_price().to_decimal()
            {
                tracing::info!(shop = %shop, sku = sku_text, %claimed, ours = %product.unit_price(), "catalogue price differs from ours; charging ours");
            }
            if !(1..=cart::MAX_QUANTITY).contains(&item.quantity) {
                problems.push(self.say.order_line_problem(line, sku_text, &OrderLineProblem::BadQuantity));
                continue;
            }
            let name = product.name.clone();
            let problem = match cart::add(conn, shop, customer, &product, item.quantity)? {
                AddOutcome::Added { .. } => None,
                AddOutcome::Limited { asked, added, .. } => Some(OrderLineProblem::Limited { name, asked, added }),
                AddOutcome::OutOfStock | AddOutcome::Unavailable(Availability::OutOfStock) => {
                    Some(OrderLineProblem::SoldOut(name))
                }
                AddOutcome::Unavailable(_) => Some(OrderLineProblem::Unavailable(name)),
            };
            if let Some(problem) = problem {
                problems.push(self.say.order_line_problem(line, sku_text, &problem));
            }
        }
        let mut replies = Vec::new();
        if !problems.is_empty() {
            replies.push(text(problems.join("\n")));
        }
        replies.push(self.cart_message(&cart::load(conn, shop, customer)?));
        Ok(replies)
    }

    fn button(&self, conn: &mut AnyConnection, id: &str) -> Result<Vec<OutboundMessage>, ChatError> {
        match id {
            "pay" => self.command(conn, Command::Pay),
            "cart" => self.command(conn, Command::Cart),
            "menu" => self.command(conn, Command::Menu),
            "clear" => self.command(conn, Command::Clear),
            other => match other.strip_prefix("add:") {
                Some(sku) => self.add(conn, sku, 1),
                // A list reply's id is the product's SKU.
                None => self.add(conn, other, 1),
            },
        }
    }

    /// "Message business" from a product: the product, and a button to add it.
    fn referred_product(
        &self,
        conn: &mut AnyConnection,
        referred: &ReferredProduct,
        said: &str,
    ) -> Result<Vec<OutboundMessage>, ChatError> {
        let product = match Sku::parse(&referred.product_retailer_id) {
            Ok(sku) => repo::find_by_sku(conn, self.shop.id, &sku)?,
            Err(_) => None,
        };
        let Some(product) = product else { return self.command(conn, parse_command(said)) };
        if let Command::Add { quantity, .. } = parse_command(&format!("{said} {}", product.retailer_id)) {
            return self.add(conn, product.retailer_id.as_str(), quantity);
        }
        Ok(vec![OutboundMessage::Buttons {
            body: truncate(&self.say.product(&product), MAX_INTERACTIVE_BODY),
            buttons: vec![
                ReplyButton { id: format!("add:{}", product.retailer_id), title: self.say.button_add() },
                ReplyButton { id: "menu".into(), title: self.say.button_menu() },
            ],
        }])
    }

    /// The cart with what to do next as buttons (plain text when it is empty
    /// or too long for an interactive message).
    fn cart_message(&self, cart: &Cart) -> OutboundMessage {
        let body = self.say.cart(cart);
        if cart.is_empty() || body.chars().count() > MAX_INTERACTIVE_BODY {
            return text(body);
        }
        OutboundMessage::Buttons {
            body,
            buttons: vec![
                ReplyButton { id: "pay".into(), title: self.say.button_pay() },
                ReplyButton { id: "menu".into(), title: self.say.button_menu() },
                ReplyButton { id: "clear".into(), title: self.say.button_clear() },
            ],
        }
    }
}

/// Why a checkout placed nothing: the items named, or (empty) a fault.
struct Unplaced(Vec<ItemProblem>);

impl From<diesel::result::Error> for Unplaced {
    fn from(error: diesel::result::Error) -> Unplaced {
        tracing::error!(%error, "checkout failed");
        Unplaced(Vec::new())
    }
}

impl From<crate::cart::CartError> for Unplaced {
    fn from(error: crate::cart::CartError) -> Unplaced {
        tracing::error!(%error, "checkout failed");
        Unplaced(Vec::new())
    }
}

impl From<PaymentError> for Unplaced {
    fn from(error: PaymentError) -> Unplaced {
        tracing::error!(%error, "checkout failed");
        Unplaced(Vec::new())
    }
}

fn text(body: String) -> OutboundMessage {
    OutboundMessage::Text { body: truncate(&body, 4096) }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { text.chars().take(max - 1).chain(['…']).collect() }
}
