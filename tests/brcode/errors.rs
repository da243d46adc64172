//! Each error variant, from decode and from encode.

use std::str::FromStr;

use chatshop::pix::brcode::{
    BrCodeError, DynamicCode, FieldId, KeyError, Merchant, PixKey, StaticCode, Txid, decode, encode_dynamic,
    encode_static,
};
use rust_decimal::Decimal;

use crate::with_crc;

#[test]
fn decode_error_variants() {
    let base = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000";
    let tail = "5204000053039865802BR5913FULANO DE TAL6008BRASILIA62070503***";
    let ok = with_crc(&format!("{base}{tail}"));
    assert!(decode(&ok).is_ok());

    let top = FieldId::top;
    let cases: Vec<(String, BrCodeError)> = vec![
        (String::new(), BrCodeError::Empty),
        ("0".repeat(513), BrCodeError::TooLong { len: 513 }),
        ("000201".into(), BrCodeError::MissingCrc),
        (
            format!("{}0000", &ok[..ok.len() - 4]),
            BrCodeError::CrcMismatch { expected: u16::from_str_radix(&ok[ok.len() - 4..], 16).expect("hex"), found: 0 },
        ),
        (with_crc("0002010X"), BrCodeError::InvalidId { offset: 6 }),
        (with_crc("00020126X8"), BrCodeError::InvalidLength { field: top(26), offset: 8 }),
        (with_crc("00020159"), BrCodeError::LengthPastEnd { field: top(59), declared: 63, available: 6 }),
        (with_crc("0002015900"), BrCodeError::EmptyValue { field: top(59) }),
        (with_crc(&format!("{base}{tail}5802BR")), BrCodeError::DuplicateField { field: top(58) }),
        (with_crc(&format!("5802BR{base}{tail}")), BrCodeError::PayloadFormatNotFirst),
        (with_crc(&format!("{base}63041234{tail}")), BrCodeError::CrcNotLast),
        (with_crc(&format!("{base}{}", tail.replace("52040000", ""))), BrCodeError::MissingField { field: top(52) }),
        (with_crc(&format!("{base}{}", tail.replace("62070503***", ""))), BrCodeError::MissingField { field: top(62) }),
        (
            with_crc(&format!("{}{tail}", base.replace("26580014br.gov.bcb.pix0136", "26400136"))),
            BrCodeError::MissingField { field: FieldId::sub(26, 0) },
        ),
        (with_crc(&format!("000201{tail}")), BrCodeError::MissingField { field: top(26) }),
        (
            with_crc(&format!("{}{tail}", base.replace("bcb.pix", "bcb.spi"))),
            BrCodeError::WrongGui { found: "br.gov.bcb.spi".into() },
        ),
        (with_crc(&format!("000201261800{}{tail}", "14br.gov.bcb.pix")), BrCodeError::MissingKeyOrLocation),
        (
            with_crc(&format!("{base}{}", tail.replace("6008BRASILIA", "6008BRASÍLIA"))),
            BrCodeError::NonPrintable { field: top(60) },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("5913FULANO DE TAL", "5926FULANO DE TAL DA SILVA XX"))),
            BrCodeError::FieldTooLong { field: top(59), len: 26, max: 25 },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("986", "840"))),
            BrCodeError::InvalidValue { field: top(53), expected: "986 (BRL)" },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("BR59", "US59"))),
            BrCodeError::InvalidValue { field: top(58), expected: "BR" },
        ),
        (with_crc(&format!("000202{}{tail}", &base[6..])), BrCodeError::InvalidValue { field: top(0), expected: "01" }),
        (
            with_crc(&format!("000201010213{}{tail}", &base[6..])),
            BrCodeError::InvalidValue { field: top(1), expected: "11 or 12" },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("62070503***", "62070504***"))),
            BrCodeError::LengthPastEnd { field: FieldId::sub(62, 5), declared: 4, available: 3 },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("62070503***", "62140503***0503***"))),
            BrCodeError::DuplicateField { field: FieldId::sub(62, 5) },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("62070503***", "62080404abcd"))),
            BrCodeError::MissingField { field: FieldId::sub(62, 5) },
        ),
        (
            with_crc(&format!("{base}{}", tail.replace("62070503***", "62080503***0"))),
            BrCodeError::InvalidId { offset: 0 },
        ),
    ];
    for (payload, expected) in cases {
        let error = decode(&payload).expect_err(&payload);
        if let BrCodeError::InvalidId { .. } = expected {
            assert!(matches!(error, BrCodeError::InvalidId { .. }), "{payload}: {error:?}");
        } else {
            assert_eq!(error, expected, "{payload}");
        }
    }

    let amount_cases = [
        ("5404abcd", BrCodeError::AmountMalformed),
        ("54040.00", BrCodeError::AmountNotPositive),
        ("54051.234", BrCodeError::AmountTooPrecise),
        ("54141234567890.12", BrCodeError::AmountTooLong { len: 14 }),
    ];
    for (field, expected) in amount_cases {
        let payload = with_crc(&format!("{base}{}", tail.replace("5802BR", &format!("{field}5802BR"))));
        assert_eq!(decode(&payload), Err(expected), "{payload}");
    }
}

#[test]
fn encode_error_variants() {
    let key = PixKey::parse("+5511988887777").expect("phone");
    let merchant = Merchant { name: "Loja", city: "Recife", postal_code: None };
    let code = StaticCode { key: &key, description: None, amount: None, txid: None, merchant };
    assert!(encode_static(&code).is_ok());

    let with_name = |name| StaticCode { merchant: Merchant { name, ..merchant }, ..code };
    let with_city = |city| StaticCode { merchant: Merchant { city, ..merchant }, ..code };
    let top = FieldId::top;
    assert_eq!(
        encode_static(&with_name("Açaí e Tapiocaria da Esquina")),
        Err(BrCodeError::FieldTooLong { field: top(59), len: 28, max: 25 })
    );
    assert_eq!(
        encode_static(&with_city("São José dos Campos")),
        Err(BrCodeError::FieldTooLong { field: top(60), len: 19, max: 15 })
    );
    assert_eq!(encode_static(&with_name("   ")), Err(BrCodeError::EmptyValue { field: top(59) }));
    assert_eq!(encode_static(&with_name("Loja 🍰")), Err(BrCodeError::Untransliterable { field: top(59), ch: '🍰' }));
    assert_eq!(encode_static(&with_name("Loja\nDoce")), Err(BrCodeError::NonPrintable { field: top(59) }));
    let cep = StaticCode { merchant: Merchant { postal_code: Some("70074-900"), ..merchant }, ..code };
    assert!(matches!(encode_static(&cep), Err(BrCodeError::InvalidValue { .. })));
    let amount = |text: &str| StaticCode { amount: Some(Decimal::from_str(text).expect("dec")), ..code };
    assert_eq!(encode_static(&amount("0")), Err(BrCodeError::AmountNotPositive));
    assert_eq!(encode_static(&amount("1.001")), Err(BrCodeError::AmountTooPrecise));
    assert_eq!(encode_static(&amount("12345678901")), Err(BrCodeError::AmountTooLong { len: 14 }));
    let long_description = "x".repeat(60);
    let described = StaticCode { description: Some(&long_description), ..code };
    assert!(matches!(
        encode_static(&described),
        Err(BrCodeError::FieldTooLong { field, len: 60, .. }) if field == FieldId::sub(26, 2)
    ));

    let dynamic = DynamicCode { location: "https://pix.example.com/qr/1", amount: None, merchant };
    assert_eq!(encode_dynamic(&dynamic), Err(BrCodeError::LocationHasScheme));
    let dynamic = DynamicCode { location: "pix.example.com/ção", ..dynamic };
    assert_eq!(encode_dynamic(&dynamic), Err(BrCodeError::NonPrintable { field: FieldId::sub(26, 25) }));
    let long_location = format!("pix.example.com/{}", "a".repeat(70));
    let dynamic = DynamicCode { location: &long_location, ..dynamic };
    assert!(matches!(encode_dynamic(&dynamic), Err(BrCodeError::FieldTooLong { max: 77, .. })));

    assert_eq!(PixKey::parse("12345678900"), Err(BrCodeError::InvalidKey(KeyError::CpfCheckDigits)));
    assert_eq!(Txid::parse("pedido-1"), Err(BrCodeError::InvalidTxid));
}
