//! Unit tests for `command::parse_command`.

use super::*;

fn add(item: &str, quantity: i64) -> Command {
    Command::Add { item: item.into(), quantity }
}

fn remove(item: &str) -> Command {
    Command::Remove { item: item.into() }
}

fn check(cases: &[(&str, Command)]) {
    for (text, expected) in cases {
        assert_eq!(&parse_command(text), expected, "input {text:?}");
    }
}

#[test]
fn menu() {
    let inputs = [
        "menu",
        "MENU",
        "  Menu  ",
        "menus",
        "cardápio",
        "cardapio",
        "CARDÁPIO",
        "Cardápios",
        "catálogo",
        "catalogo",
        "catalog",
        "catalogs",
        "produtos",
        "produto",
        "products",
        "ver o cardápio",
        "quero ver o menu",
        "me manda o catálogo",
        "cardápio por favor",
        "menu!",
        "show me the menu",
        "Menu?",
    ];
    for text in inputs {
        assert_eq!(parse_command(text), Command::Menu, "input {text:?}");
    }
}

#[test]
fn add_with_numbers() {
    check(&[
        ("2x BOLO-CHOC", add("BOLO-CHOC", 2)),
        ("2X BOLO-CHOC", add("BOLO-CHOC", 2)),
        ("2 x BOLO-CHOC", add("BOLO-CHOC", 2)),
        ("2 BOLO-CHOC", add("BOLO-CHOC", 2)),
        ("BOLO-CHOC 2", add("BOLO-CHOC", 2)),
        ("BOLO-CHOC x2", add("BOLO-CHOC", 2)),
        ("BOLO-CHOC 2x", add("BOLO-CHOC", 2)),
        ("BOLO-CHOC x 2", add("BOLO-CHOC", 2)),
        ("  3x   Pão   de  Queijo ", add("Pão de Queijo", 3)),
        ("999 bolo", add("bolo", 999)),
        ("1x bolo", add("bolo", 1)),
        ("10 cafés!", add("cafés", 10)),
    ]);
}

#[test]
fn add_with_verbs() {
    check(&[
        ("quero 2 bolo de chocolate", add("bolo de chocolate", 2)),
        ("Quero 2 bolos de chocolate", add("bolos de chocolate", 2)),
        ("quero um bolo de chocolate", add("bolo de chocolate", 1)),
        ("quero uma torta", add("torta", 1)),
        ("quero dois bolos", add("bolos", 2)),
        ("quero duas tortas", add("tortas", 2)),
        ("quero três cafés", add("cafés", 3)),
        ("QUERO TRES CAFES", add("CAFES", 3)),
        ("quero quatro x", add("x", 4)),
        ("quero dez pães", add("pães", 10)),
        ("add 2 bolo", add("bolo", 2)),
        ("add 2x bolo", add("bolo", 2)),
        ("add bolo 3", add("bolo", 3)),
        ("adicionar BOLO-CHOC", add("BOLO-CHOC", 1)),
        ("Adicionar o BOLO-CHOC", add("BOLO-CHOC", 1)),
        ("eu quero 2 coxinhas", add("coxinhas", 2)),
        ("quero mais 2 coxinhas", add("coxinhas", 2)),
        ("quero 2 coxinhas por favor", add("coxinhas", 2)),
        ("adiciona 2 coxinhas no carrinho", add("coxinhas", 2)),
        ("add two cakes to cart", add("cakes", 2)),
        ("add a cake", add("cake", 1)),
        ("I want 3 brownies", add("brownies", 3)),
        ("buy one coffee", add("coffee", 1)),
        ("add 123", add("123", 1)),
        ("add bolo 500g", add("bolo 500g", 1)),
        ("quero o bolo de cenoura", add("bolo de cenoura", 1)),
    ]);
}

#[test]
fn bad_quantities_are_unknown() {
    for text in [
        "0 bolo",
        "0x bolo",
        "1000 bolo",
        "bolo 1000",
        "bolo x0",
        "quero 0 bolos",
        "add 1000 bolo",
        "add 99999999999999999999999 bolo",
        "quero -2 bolos",
        "-2 bolo",
        "quero 1.5 bolo",
        "bolo 2,5",
        "add 1000",
    ] {
        assert_eq!(parse_command(text), Command::Unknown, "input {text:?}");
    }
}

#[test]
fn cart_and_simple_keywords() {
    check(&[
        ("carrinho", Command::Cart),
        ("Carrinhos", Command::Cart),
        ("ver carrinho", Command::Cart),
        ("meu carrinho", Command::Cart),
        ("minha sacola", Command::Cart),
        ("cart", Command::Cart),
        ("my cart", Command::Cart),
        ("sacola", Command::Cart),
        ("limpar", Command::Clear),
        ("esvaziar", Command::Clear),
        ("clear", Command::Clear),
        ("limpar carrinho", Command::Clear),
        ("esvaziar a sacola", Command::Clear),
        ("clear cart", Command::Clear),
        ("remover tudo", Command::Clear),
        ("pagar", Command::Pay),
        ("Pagar!", Command::Pay),
        ("pay", Command::Pay),
        ("finalizar", Command::Pay),
        ("finalizar pedido", Command::Pay),
        ("fechar pedido", Command::Pay),
        ("Fechar   Pedido", Command::Pay),
        ("checkout", Command::Pay),
        ("check out", Command::Pay),
        ("quero pagar", Command::Pay),
        ("ajuda", Command::Help),
        ("help", Command::Help),
        ("?", Command::Help),
        ("???", Command::Help),
        ("ajuda?", Command::Help),
        ("cancelar", Command::Cancel),
        ("cancel", Command::Cancel),
        ("cancelar pedido", Command::Cancel),
        ("quero cancelar", Command::Cancel),
    ]);
}

#[test]
fn remove_commands() {
    check(&[
        ("remover BOLO-CHOC", remove("BOLO-CHOC")),
        ("tirar BOLO-CHOC", remove("BOLO-CHOC")),
        ("remove BOLO-CHOC", remove("BOLO-CHOC")),
        ("Remover o bolo de chocolate", remove("bolo de chocolate")),
        ("tirar um bolo", remove("bolo")),
        ("tirar 2 bolos", remove("bolos")),
        ("retirar pão de queijo do", remove("pão de queijo do")),
        ("tira o bolo do carrinho", remove("bolo do carrinho")),
        ("remove cake from cart", remove("cake from cart")),
        ("remover", Command::Unknown),
        ("tirar 0 bolos", Command::Unknown),
    ]);
}

#[test]
fn opt_out_and_in_are_whole_message() {
    check(&[
        ("STOP", Command::OptOut),
        ("stop", Command::OptOut),
        ("PARAR", Command::OptOut),
        ("Sair", Command::OptOut),
        (" sair. ", Command::OptOut),
        ("VOLTAR", Command::OptIn),
        ("START", Command::OptIn),
        ("VOLTAR A RECEBER", Command::OptIn),
        ("voltar a  receber", Command::OptIn),
        ("parar de mandar bolo", Command::Unknown),
        ("stop it", Command::Unknown),
    ]);
}

#[test]
fn greetings_get_the_help() {
    for text in ["oi", "Olá!", "bom dia", "Boa noite", "hello"] {
        assert_eq!(parse_command(text), Command::Help, "input {text:?}");
    }
}

#[test]
fn unknown() {
    for text in [
        "",
        "   ",
        "bolo",
        "quero",
        "add",
        "2",
        "2x",
        "x2",
        "quero uma",
        "2 menu",
        "quero 3 pagar",
        "bolo 2 x",
        ".",
        "!!!",
        "tem bolo de chocolate?",
        "a",
        "meu pedido",
    ] {
        assert_eq!(parse_command(text), Command::Unknown, "input {text:?}");
    }
}

#[test]
fn never_panics_on_odd_text() {
    for text in
        ["x", "×", "2×", "ǅ", "İstanbul 2", "\u{0}", "🎂 2", "2 🎂", "eu", "eu quero", "i", "quero mais", "a a a"]
    {
        let _ = parse_command(text);
    }
    assert_eq!(parse_command("2 🎂"), add("🎂", 2));
}

#[test]
fn fold_matches_main_crate() {
    assert_eq!(fold("CARDÁPIO Açaí"), "cardapio acai");
}

proptest::proptest! {
    #[test]
    fn never_panics_on_any_text(s in "\\PC{0,60}") {
        let _ = parse_command(&s);
    }

    #[test]
    fn never_panics_on_commandish_text(s in "(quero|add|tirar|eu|x|2x|0|999|1000|-1|um|dez|o|no|carrinho|menu|por favor|[A-Z]{1,4}| |  |\\?|!|é|×){0,8}") {
        let _ = parse_command(&s);
    }
}
