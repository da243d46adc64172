//! Encoding: published codes reproduced exactly, and encode -> decode round trips.

use chatshop::pix::brcode::{
    BrCodeError, DynamicCode, Merchant, PixCode, PixKey, StaticCode, Txid, decode, encode, encode_dynamic,
    encode_static, transliterate,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

#[test]
fn encodes_published_codes_exactly() {
    let key = PixKey::parse("rayane@alvoz.com.br").expect("key");
    let merchant = Merchant { name: "N", city: "C", postal_code: None };
    let static_code = StaticCode { key: &key, description: None, amount: None, txid: None, merchant };
    assert_eq!(
        encode_static(&static_code).as_deref(),
        Ok("00020126410014br.gov.bcb.pix0119rayane@alvoz.com.br5204000053039865802BR5901N6001C62070503***63043A81")
    );

    let key = PixKey::parse("thalesog@me.com").expect("key");
    let with_description = StaticCode {
        key: &key,
        description: Some("Pedido 123"),
        merchant: Merchant { name: "Thales Ogliari", city: "São Miguel do Ó", postal_code: None },
        ..static_code
    };
    assert_eq!(
        encode(&PixCode::Static(with_description)).as_deref(),
        Ok(
            "00020126510014br.gov.bcb.pix0115thalesog@me.com0210Pedido 1235204000053039865802BR5914THALES OGLIARI6015SAO MIGUEL DO O62070503***630462CA"
        )
    );

    let dynamic = DynamicCode {
        location: "payload.psp.com/3ec9d2f9-5f03-4e0e-820d-63a81e769e87",
        amount: None,
        merchant: Merchant { name: "THALES OGLIARI", city: "SAO MIGUEL DO O", postal_code: None },
    };
    assert_eq!(
        encode_dynamic(&dynamic).as_deref(),
        Ok(
            "00020101021226740014br.gov.bcb.pix2552payload.psp.com/3ec9d2f9-5f03-4e0e-820d-63a81e769e875204000053039865802BR5914THALES OGLIARI6015SAO MIGUEL DO O62070503***63042895"
        )
    );

    let accented = DynamicCode { merchant: Merchant { name: "Bárbara Pelé", ..dynamic.merchant }, ..dynamic };
    let payload = encode_dynamic(&accented).expect("encode");
    assert_eq!(decode(&payload).expect("decode").merchant_name(), "BARBARA PELE");
}

fn cpf_with_check_digits(base: &[u32]) -> String {
    let digit = |values: &[u32]| {
        let weighted: u32 = values.iter().zip((2..=values.len() as u32 + 1).rev()).map(|(v, w)| v * w).sum();
        (weighted * 10 % 11) % 10
    };
    let mut values = base.to_vec();
    values.push(digit(&values));
    values.push(digit(&values));
    values.iter().map(|d| char::from_digit(*d, 10).expect("digit")).collect()
}

fn pix_key() -> impl Strategy<Value = PixKey> {
    prop_oneof![
        proptest::collection::vec(0u32..10, 9)
            .prop_filter("not a repeated digit", |d| d.iter().any(|x| *x != d[0]))
            .prop_map(|digits| cpf_with_check_digits(&digits)),
        "[a-z0-9._]{1,20}@[a-z]{1,15}\\.com(\\.br)?",
        "\\+55[1-9][0-9]{9,10}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    ]
    .prop_map(|text| PixKey::parse(&text).expect("generated key is valid"))
}

proptest! {
    #[test]
    fn static_round_trip(
        key in pix_key(),
        name in "[A-Za-z0-9 áéíóúâêôãõçÁÉÍÓÚÂÊÔÃÕÇ&.'-]{1,25}",
        city in "[A-Za-z çãéíóÇÃÉÍÓ]{1,15}",
        description in proptest::option::of("[A-Za-z0-9 çãéÇ]{1,20}"),
        cents in proptest::option::of(1i64..=999_999_999_999),
        txid in proptest::option::of("[A-Za-z0-9]{1,25}"),
        postal_code in proptest::option::of("[0-9]{8}"),
    ) {
        let txid = txid.map(|text| Txid::parse(&text).expect("txid"));
        let code = StaticCode {
            key: &key,
            description: description.as_deref(),
            amount: cents.map(|c| Decimal::new(c, 2)),
            txid: txid.as_ref(),
            merchant: Merchant { name: &name, city: &city, postal_code: postal_code.as_deref() },
        };
        let result = encode_static(&code);
        if name.trim().is_empty() || city.trim().is_empty() {
            let is_empty_error = matches!(result, Err(BrCodeError::EmptyValue { .. }));
            prop_assert!(is_empty_error);
            return Ok(());
        }
        let payload = result.expect("encode");
        prop_assert!(payload.is_ascii());
        let decoded = decode(&payload).expect("decode what we encoded");
        prop_assert_eq!(decoded.to_payload(), payload.as_str());
        prop_assert_eq!(decoded.merchant_account().key(), Some(key.as_str()));
        prop_assert_eq!(decoded.merchant_account().key_type(), Some(key.key_type()));
        prop_assert_eq!(decoded.merchant_name(), transliterate(name.trim(), true).expect("name"));
        prop_assert_eq!(decoded.merchant_city(), transliterate(city.trim(), true).expect("city"));
        let expected_description = description
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| transliterate(text, false).expect("description"));
        prop_assert_eq!(decoded.merchant_account().description().map(str::to_owned), expected_description);
        prop_assert_eq!(decoded.amount(), cents.map(|c| Decimal::new(c, 2)));
        prop_assert_eq!(decoded.txid(), txid.as_ref().map_or("***", Txid::as_str));
        prop_assert_eq!(decoded.postal_code(), postal_code.as_deref());
        prop_assert!(!decoded.is_dynamic());
    }

    #[test]
    fn dynamic_round_trip(
        location in "[a-z]{3,20}\\.com\\.br/[A-Za-z0-9/-]{1,50}",
        name in "[A-Za-zÀ-ÖØ-öø-ÿ ]{1,25}",
        cents in proptest::option::of(1i64..=10_000_000),
    ) {
        let code = DynamicCode {
            location: &location,
            amount: cents.map(|c| Decimal::new(c, 2)),
            merchant: Merchant { name: &name, city: "Recife", postal_code: None },
        };
        match encode_dynamic(&code) {
            Ok(payload) => {
                let decoded = decode(&payload).expect("decode what we encoded");
                prop_assert_eq!(decoded.merchant_account().url(), Some(location.as_str()));
                prop_assert_eq!(decoded.merchant_name(), transliterate(name.trim(), true).expect("name"));
                prop_assert_eq!(decoded.amount(), cents.map(|c| Decimal::new(c, 2)));
                prop_assert!(decoded.is_dynamic());
                prop_assert_eq!(decoded.to_payload(), payload);
            }
            // Æ, ß... spell as two letters and can push a name over 25; ×, ÷ have no spelling.
            Err(BrCodeError::FieldTooLong { len, max: 25, .. }) => prop_assert!(len > 25),
            // The location URL (26-25) is bounded at 77 characters: refused, never cut.
            Err(BrCodeError::FieldTooLong { len, max: 77, .. }) => prop_assert!(len > 77 && location.len() > 77),
            Err(BrCodeError::Untransliterable { .. } | BrCodeError::EmptyValue { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn decode_never_panics(text in "\\PC{0,200}") {
        let _ = decode(&text);
    }

    #[test]
    fn decode_never_panics_on_mutations(position in 0usize..200, byte in 0u8..128) {
        let mut bytes = b"00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D".to_vec();
        let position = position % bytes.len();
        bytes[position] = byte;
        let text = String::from_utf8(bytes).expect("ascii");
        if let Ok(code) = decode(&text) {
            prop_assert_eq!(code.to_payload(), text);
        }
    }
}
