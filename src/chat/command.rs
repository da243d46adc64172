//! The customer's typed commands, in Portuguese and English. Matching works on folded words
//! (lower-case, no accents, plurals trimmed); item text is returned as the customer typed it.

use crate::text::fold;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Menu,
    Add { item: String, quantity: i64 },
    Cart,
    Remove { item: String },
    Clear,
    Pay,
    Help,
    Cancel,
    OptOut,
    OptIn,
    Unknown,
}

pub use crate::cart::MAX_QUANTITY;

/// Words that may precede a keyword command without changing it ("ver o cardápio", "quero pagar").
const LEADING_FILLER: &[&str] = &[
    "eu", "quero", "queria", "gostaria", "de", "ver", "mostrar", "mostra", "me", "manda", "mande", "o", "a", "os",
    "as", "meu", "minha", "show", "see", "view", "i", "want", "to", "my", "the", "please", "por", "favor",
];
/// Politeness that may trail any command.
const TRAILING_POLITENESS: &[&[&str]] = &[&["por", "favor"], &["pf"], &["pfv"], &["pfvr"], &["please"], &["pls"]];
/// Nouns for the cart/order, accepted after Clear/Pay/Cancel verbs ("limpar carrinho").
const CART_NOUNS: &[&str] =
    &["carrinho", "cart", "sacola", "cesta", "pedido", "order", "compra", "conta", "tudo", "all"];
/// Prepositions joining an item to the cart ("2 bolos no carrinho").
const CART_PREPOSITIONS: &[&str] = &["no", "na", "ao", "a", "pro", "pra", "para", "to", "in", "into"];
const ADD_VERBS: &[&str] = &[
    "quero",
    "queria",
    "add",
    "adicionar",
    "adiciona",
    "adicione",
    "incluir",
    "inclui",
    "inclua",
    "colocar",
    "coloca",
    "coloque",
    "comprar",
    "compra",
    "buy",
    "want",
    "manda",
    "mande",
];
const REMOVE_VERBS: &[&str] = &[
    "remover", "remove", "remova", "tirar", "tira", "tire", "retirar", "retira", "excluir", "exclui", "delete",
    "apagar",
];
const ARTICLES: &[&str] = &["o", "a", "os", "as", "um", "uma", "the", "an"];
const WORD_NUMBERS: &[(&str, i64)] = &[
    ("um", 1),
    ("uma", 1),
    ("dois", 2),
    ("duas", 2),
    ("tres", 3),
    ("quatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("sete", 7),
    ("oito", 8),
    ("nove", 9),
    ("dez", 10),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
];

/// A customer's word: the original text (returned in items) and its folded form (for matching).
struct Word<'a> {
    orig: &'a str,
    folded: String,
}

pub fn parse_command(text: &str) -> Command {
    let text = text.trim();
    if !text.is_empty() && text.chars().all(|c| c == '?') {
        return Command::Help;
    }
    let text = text.trim_end_matches(['.', '!', '?', ',', ';', ':']);
    let words: Vec<Word> = text.split_whitespace().map(|w| Word { orig: w, folded: fold(w) }).collect();
    let folded: Vec<&str> = words.iter().map(|w| w.folded.as_str()).collect();
    if folded.is_empty() {
        return Command::Unknown;
    }
    // Opt-out/in are legal signals, so only the whole message counts (not "parar de receber bolo").
    match folded.as_slice() {
        ["stop"] | ["parar"] | ["sair"] => return Command::OptOut,
        ["voltar"] | ["start"] | ["voltar", "a", "receber"] => return Command::OptIn,
        _ => {}
    }
    let words = strip_politeness(&words);
    if let Some(cmd) = keyword_command(words) {
        return cmd;
    }
    if let Some(cmd) = remove_command(words) {
        return cmd;
    }
    add_command(words).unwrap_or(Command::Unknown)
}

fn strip_politeness<'a, 'b>(mut words: &'b [Word<'a>]) -> &'b [Word<'a>] {
    // Iterate: "pfv por favor" is unusual but harmless to handle.
    'outer: loop {
        for tail in TRAILING_POLITENESS {
            if words.len() > tail.len() && ends_with(words, tail) {
                words = &words[..words.len() - tail.len()];
                continue 'outer;
            }
        }
        return words;
    }
}

fn ends_with(words: &[Word], tail: &[&str]) -> bool {
    words.len() >= tail.len() && words[words.len() - tail.len()..].iter().zip(tail).all(|(w, t)| w.folded == *t)
}

/// Trims a plural "s" so "cardápios", "produtos", "carts" match their singular keyword.
fn singular(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 => stem,
        _ => word,
    }
}

fn keyword_command(words: &[Word]) -> Option<Command> {
    let mut rest: Vec<&str> = words.iter().map(|w| singular(&w.folded)).collect();
    if let Some(cmd) = keyword(&rest) {
        return Some(cmd);
    }
    // Drop filler words one at a time from the front, re-checking, so "ver o cardápio" works
    // but a filler that *is* the command ("ajuda") is matched before it could be dropped.
    while rest.len() > 1 && LEADING_FILLER.contains(&rest[0]) {
        rest.remove(0);
        if let Some(cmd) = keyword(&rest) {
            return Some(cmd);
        }
    }
    None
}

fn keyword(words: &[&str]) -> Option<Command> {
    let single = |w: &str| match w {
        "menu" | "cardapio" | "catalogo" | "catalog" | "produto" | "product" => Some(Command::Menu),
        "carrinho" | "cart" | "sacola" | "cesta" | "basket" => Some(Command::Cart),
        "limpar" | "limpa" | "esvaziar" | "esvazia" | "clear" | "empty" => Some(Command::Clear),
        "pagar" | "pay" | "finalizar" | "checkout" => Some(Command::Pay),
        // A greeting is answered with what the bot can do.
        "ajuda" | "help" | "socorro" | "oi" | "ola" | "oie" | "hi" | "hello" | "hey" | "inicio" => Some(Command::Help),
        "cancelar" | "cancel" => Some(Command::Cancel),
        _ => None,
    };
    match words {
        [w] => single(w),
        ["check", "out"] => Some(Command::Pay),
        ["bom", "dia"] | ["boa", "tarde" | "noite"] | ["good", "morning" | "afternoon" | "evening"] => {
            Some(Command::Help)
        }
        ["remover" | "remove" | "tirar" | "tira" | "apagar", "tudo" | "all"] => Some(Command::Clear),
        ["fechar", noun] | ["fecha", noun] if CART_NOUNS.contains(noun) => Some(Command::Pay),
        [verb, noun] | [verb, _, noun] if CART_NOUNS.contains(noun) => match single(verb) {
            Some(cmd @ (Command::Clear | Command::Pay | Command::Cancel)) => Some(cmd),
            _ => None,
        },
        _ => None,
    }
}

fn item_text(words: &[Word]) -> String {
    words.iter().map(|w| w.orig).collect::<Vec<_>>().join(" ")
}

/// Drops a leading article when more words follow ("o bolo" -> "bolo", but a lone "A" stays).
fn strip_article<'a, 'b>(words: &'b [Word<'a>]) -> &'b [Word<'a>] {
    match words {
        [first, rest @ ..] if !rest.is_empty() && ARTICLES.contains(&first.folded.as_str()) => rest,
        _ => words,
    }
}

/// Drops a trailing "no carrinho" / "to cart".
fn strip_cart_suffix<'a, 'b>(words: &'b [Word<'a>]) -> &'b [Word<'a>] {
    match words {
        [rest @ .., prep, noun]
            if !rest.is_empty()
                && CART_PREPOSITIONS.contains(&prep.folded.as_str())
                && CART_NOUNS.contains(&singular(&noun.folded)) =>
        {
            rest
        }
        _ => words,
    }
}

fn remove_command(words: &[Word]) -> Option<Command> {
    let (verb, rest) = words.split_first()?;
    if !REMOVE_VERBS.contains(&verb.folded.as_str()) {
        return None;
    }
    let mut rest = strip_cart_suffix(rest);
    // Remove takes the whole line; a quantity ("tirar 2 bolos") is dropped, not kept in the item.
    let folded: Vec<&str> = rest.iter().map(|w| w.folded.as_str()).collect();
    match leading_qty(&folded, true) {
        Ok(Some((_, used))) if used < rest.len() => rest = &rest[used..],
        Ok(_) => {}
        Err(()) => return Some(Command::Unknown),
    }
    let rest = strip_article(rest);
    if rest.is_empty() {
        return Some(Command::Unknown);
    }
    Some(Command::Remove { item: item_text(rest) })
}

/// What a token says about quantity.
enum Qty {
    /// A valid quantity, 1..=999.
    Valid(i64),
    /// Looks numeric but is not a valid quantity (0, 1000, -2, 1.5): the message is Unknown.
    Invalid,
    NotNumber,
}

fn digits_qty(s: &str) -> Qty {
    if s.is_empty() {
        return Qty::NotNumber;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<i64>() {
            Ok(n) if (1..=MAX_QUANTITY).contains(&n) => Qty::Valid(n),
            _ => Qty::Invalid,
        };
    }
    if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().all(|b| b.is_ascii_digit() || b"+-.,".contains(&b)) {
        return Qty::Invalid;
    }
    Qty::NotNumber
}

/// "2", "2x", "x2".
fn token_qty(s: &str) -> Qty {
    match digits_qty(s) {
        Qty::NotNumber => {}
        q => return q,
    }
    let stripped = s.strip_suffix('x').or_else(|| s.strip_prefix('x')).or_else(|| s.strip_suffix('×'));
    stripped.map_or(Qty::NotNumber, digits_qty)
}

/// Quantity at the front: "2x", "2 x", "2", or (after a verb) "dois". Returns (qty, words used).
fn leading_qty(words: &[&str], allow_word_numbers: bool) -> Result<Option<(i64, usize)>, ()> {
    let Some(first) = words.first() else { return Ok(None) };
    match token_qty(first) {
        Qty::Valid(n) if words.get(1).is_some_and(|w| *w == "x" || *w == "×") => Ok(Some((n, 2))),
        Qty::Valid(n) => Ok(Some((n, 1))),
        Qty::Invalid => Err(()),
        Qty::NotNumber if allow_word_numbers => Ok(WORD_NUMBERS.iter().find(|(w, _)| w == first).map(|(_, n)| (*n, 1))),
        Qty::NotNumber => Ok(None),
    }
}

/// Quantity at the end: "BOLO 2", "BOLO x2", "BOLO 2x", "BOLO x 2".
fn trailing_qty(words: &[&str]) -> Result<Option<(i64, usize)>, ()> {
    let Some(last) = words.last() else { return Ok(None) };
    match token_qty(last) {
        Qty::Valid(n) if words.len() >= 2 && matches!(words[words.len() - 2], "x" | "×") => Ok(Some((n, 2))),
        Qty::Valid(n) => Ok(Some((n, 1))),
        Qty::Invalid => Err(()),
        Qty::NotNumber => Ok(None),
    }
}

fn add_command(words: &[Word]) -> Option<Command> {
    let folded: Vec<&str> = words.iter().map(|w| w.folded.as_str()).collect();
    // Optional "eu"/"i", the verb, then an optional "mais"/"more" ("quero mais 2 bolos").
    let mut start = usize::from(matches!(folded.first(), Some(&"eu") | Some(&"i")));
    let has_verb = folded.get(start).is_some_and(|w| ADD_VERBS.contains(w));
    if has_verb {
        start += 1;
        if matches!(folded.get(start), Some(&"mais") | Some(&"more")) {
            start += 1;
        }
    } else {
        start = 0;
    }
    let rest = strip_cart_suffix(&words[start..]);
    let rest_folded = &folded[start..start + rest.len()];
    if rest.is_empty() {
        return None;
    }

    let (quantity, item) = match leading_qty(rest_folded, has_verb).ok()? {
        Some((n, used)) if used < rest.len() => (n, &rest[used..]),
        // "add 123": a lone number after a verb is more likely a numeric SKU than a quantity.
        Some(_) if has_verb && rest.len() == 1 && rest_folded[0].bytes().all(|b| b.is_ascii_digit()) => (1, rest),
        Some(_) => return None,
        None => match trailing_qty(rest_folded).ok()? {
            Some((n, used)) if used < rest.len() => (n, &rest[..rest.len() - used]),
            Some(_) => return None,
            // Without a verb or a number, a bare word is not an order ("oi", "bolo?").
            None if has_verb => (1, rest),
            None => return None,
        },
    };
    let item = strip_article(item);
    let text = item_text(item);
    // "2 menu" or "quero 3 pagar" are confusions, not products.
    let as_keyword: Vec<&str> = item.iter().map(|w| singular(&w.folded)).collect();
    if text.is_empty() || keyword(&as_keyword).is_some() {
        return None;
    }
    Some(Command::Add { item: text, quantity })
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
