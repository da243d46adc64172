//! Character rules: what each field may hold, EMV lengths, and accent stripping for encoding.

use super::error::{BrCodeError, FieldId};

/// EMV "ans" characters: printable ASCII, space to tilde.
pub fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|byte| (0x20..=0x7E).contains(&byte))
}

/// EMV lengths count characters. Pix codes in the wild with accents declare lengths in
/// characters (vectors.json: "BRASÍLIA" with length 08), so we count chars, not bytes.
pub fn char_len(text: &str) -> usize {
    if text.is_ascii() { text.len() } else { text.chars().count() }
}

/// The ASCII spelling of one character, for names, cities and descriptions. Covers the
/// Latin letters Portuguese (and most Western European names) use, plus typographic
/// punctuation that keyboards put in; anything else is an error rather than a guess.
fn fold(ch: char) -> Option<&'static str> {
    Some(match ch {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ª' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ł' | 'Ĺ' | 'Ļ' | 'Ľ' => "L",
        'ł' | 'ĺ' | 'ļ' | 'ľ' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'º' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'Ţ' | 'Ť' => "T",
        'ţ' | 'ť' => "t",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '\u{A0}' => " ",
        '‘' | '’' | '´' | '`' => "'",
        '“' | '”' => "\"",
        '–' | '—' => "-",
        _ => return None,
    })
}

/// Feeds the printable-ASCII spelling of `text` to `sink`, byte by byte, upper-cased if
/// asked. Callers run it twice (count, then write) so encoding needs no scratch buffer.
pub fn for_each_ascii_byte(
    text: &str,
    field: FieldId,
    upper: bool,
    mut sink: impl FnMut(u8),
) -> Result<(), BrCodeError> {
    let mut emit = |byte: u8| sink(if upper { byte.to_ascii_uppercase() } else { byte });
    for ch in text.chars() {
        if ch.is_ascii() {
            if !(' '..='~').contains(&ch) {
                return Err(BrCodeError::NonPrintable { field });
            }
            emit(ch as u8);
        } else {
            let folded = fold(ch).ok_or(BrCodeError::Untransliterable { field, ch })?;
            folded.bytes().for_each(&mut emit);
        }
    }
    Ok(())
}

/// Length of `text` once transliterated (bytes = characters, since it is ASCII).
pub fn ascii_len(text: &str, field: FieldId) -> Result<usize, BrCodeError> {
    if text.is_ascii() {
        return if is_printable_ascii(text) { Ok(text.len()) } else { Err(BrCodeError::NonPrintable { field }) };
    }
    let mut len = 0;
    for_each_ascii_byte(text, field, false, |_| len += 1)?;
    Ok(len)
}

/// Appends the transliterated text; ASCII input (the common case) is copied in one go.
/// Callers have measured it with [`ascii_len`], so it is known to be valid.
pub fn push_ascii(out: &mut String, text: &str, field: FieldId, upper: bool) -> Result<(), BrCodeError> {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        if upper && let Some(written) = out.get_mut(start..) {
            written.make_ascii_uppercase();
        }
        return Ok(());
    }
    for_each_ascii_byte(text, field, upper, |byte| out.push(char::from(byte)))
}

/// The transliterated text as a `String`: for callers that want to show what will be encoded.
pub fn transliterate(text: &str, upper: bool) -> Result<String, BrCodeError> {
    let mut out = String::with_capacity(text.len());
    for_each_ascii_byte(text, FieldId::top(59), upper, |byte| out.push(char::from(byte)))?;
    Ok(out)
}

/// Writes "IILL": two-digit id and length. Every caller has checked `len <= 99`.
pub fn push_header(out: &mut String, id: u8, len: usize) {
    for number in [usize::from(id), len] {
        out.push(char::from(b'0' + (number / 10) as u8));
        out.push(char::from(b'0' + (number % 10) as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_accents_and_upper_cases() {
        assert_eq!(transliterate("Bárbara Pelé", true).as_deref(), Ok("BARBARA PELE"));
        assert_eq!(transliterate("São Conceição", true).as_deref(), Ok("SAO CONCEICAO"));
        assert_eq!(transliterate("Straße", true).as_deref(), Ok("STRASSE"));
        assert_eq!(transliterate("Açaí nº 1", false).as_deref(), Ok("Acai no 1"));
    }

    #[test]
    fn rejects_what_it_cannot_spell() {
        let field = FieldId::top(59);
        assert_eq!(ascii_len("Loja 👀", field), Err(BrCodeError::Untransliterable { field, ch: '👀' }));
        assert_eq!(ascii_len("tab\there", field), Err(BrCodeError::NonPrintable { field }));
    }

    #[test]
    fn counts_characters() {
        assert_eq!(char_len("BRASÍLIA"), 8);
        assert_eq!(char_len("BRASILIA"), 8);
        assert!(!is_printable_ascii("BRASÍLIA"));
        assert!(is_printable_ascii("***"));
    }
}
