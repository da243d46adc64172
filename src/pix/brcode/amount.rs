//! Amounts (field 54): written as `\d+\.\d{2}`, at most 13 characters, greater than zero.
//! Always two decimals: a payer PSP read "198" as R$1,98 (bacen/pix-api#248).

use rust_decimal::Decimal;

use super::error::BrCodeError;

/// Longest amount text a BR Code allows: "9999999999.99".
pub const MAX_AMOUNT_CHARS: usize = 13;

/// An amount as ASCII digits in a fixed buffer, so encoding needs no allocation.
pub struct AmountText {
    bytes: [u8; MAX_AMOUNT_CHARS],
    len: usize,
}

impl AmountText {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and '.' are ever written into the buffer.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// Checks an amount for encoding and writes it in the canonical `\d+\.\d{2}` form.
pub fn canonical_amount(amount: Decimal) -> Result<AmountText, BrCodeError> {
    if amount <= Decimal::ZERO {
        return Err(BrCodeError::AmountNotPositive);
    }
    let mut cents = amount.normalize();
    if cents.scale() > 2 {
        return Err(BrCodeError::AmountTooPrecise);
    }
    cents.rescale(2);
    let mut remaining = cents.mantissa().unsigned_abs();
    // Digits of the integer part, plus ".dd".
    let integer_digits = {
        let mut whole = remaining / 100;
        let mut digits = 1;
        while whole >= 10 {
            whole /= 10;
            digits += 1;
        }
        digits
    };
    let len = integer_digits + 3;
    if len > MAX_AMOUNT_CHARS {
        return Err(BrCodeError::AmountTooLong { len });
    }
    let mut bytes = [b'0'; MAX_AMOUNT_CHARS];
    for position in (0..len).rev() {
        if position == len - 3 {
            bytes[position] = b'.';
            continue;
        }
        bytes[position] = b'0' + (remaining % 10) as u8;
        remaining /= 10;
    }
    Ok(AmountText { bytes, len })
}

/// The amount as the BR Code and the API Pix write it ("10.50"): for PSP calls and messages.
pub fn amount_to_string(amount: Decimal) -> Result<String, BrCodeError> {
    canonical_amount(amount).map(|text| text.as_str().to_owned())
}

/// Reads field 54 leniently: `\d+(\.\d{1,2})?`, since published codes carry "100", "0.9" and
/// "1.1" (vectors.json marks them valid, with a warning), but never zero or over 13 chars.
pub fn parse_amount(text: &str) -> Result<Decimal, BrCodeError> {
    if text.len() > MAX_AMOUNT_CHARS {
        return Err(BrCodeError::AmountTooLong { len: text.len() });
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(BrCodeError::AmountMalformed);
    }
    if text.contains('.') && fraction.is_empty() {
        return Err(BrCodeError::AmountMalformed);
    }
    if fraction.len() > 2 {
        return Err(BrCodeError::AmountTooPrecise);
    }
    // At most 13 digits, so the mantissa fits an i64 comfortably.
    let mantissa = whole.bytes().chain(fraction.bytes()).fold(0i64, |acc, digit| acc * 10 + i64::from(digit - b'0'));
    if mantissa == 0 {
        return Err(BrCodeError::AmountNotPositive);
    }
    Ok(Decimal::new(mantissa, fraction.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).expect("test decimal")
    }

    #[test]
    fn writes_two_decimals() {
        let write = |text| canonical_amount(dec(text)).map(|t| t.as_str().to_owned());
        assert_eq!(write("10.5").as_deref(), Ok("10.50"));
        assert_eq!(write("198").as_deref(), Ok("198.00"));
        assert_eq!(write("0.01").as_deref(), Ok("0.01"));
        assert_eq!(write("1.100").as_deref(), Ok("1.10"));
        assert_eq!(write("9999999999.99").as_deref(), Ok("9999999999.99"));
    }

    #[test]
    fn rejects_bad_amounts() {
        assert!(matches!(canonical_amount(dec("0")), Err(BrCodeError::AmountNotPositive)));
        assert!(matches!(canonical_amount(dec("-1")), Err(BrCodeError::AmountNotPositive)));
        assert!(matches!(canonical_amount(dec("1.005")), Err(BrCodeError::AmountTooPrecise)));
        assert!(matches!(canonical_amount(dec("10000000000")), Err(BrCodeError::AmountTooLong { len: 14 })));
    }

    #[test]
    fn reads_lenient_forms() {
        assert_eq!(parse_amount("100"), Ok(dec("100")));
        assert_eq!(parse_amount("0.9"), Ok(dec("0.9")));
        assert_eq!(parse_amount("123.45"), Ok(dec("123.45")));
        assert_eq!(parse_amount("1."), Err(BrCodeError::AmountMalformed));
        assert_eq!(parse_amount(".5"), Err(BrCodeError::AmountMalformed));
        assert_eq!(parse_amount("1,50"), Err(BrCodeError::AmountMalformed));
        assert_eq!(parse_amount("0.00"), Err(BrCodeError::AmountNotPositive));
        assert_eq!(parse_amount("1.234"), Err(BrCodeError::AmountTooPrecise));
        assert_eq!(parse_amount("12345678901.00"), Err(BrCodeError::AmountTooLong { len: 14 }));
    }
}
