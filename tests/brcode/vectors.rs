//! Every published code in vectors.json: valid ones decode and re-encode byte for byte,
//! invalid ones fail for the reason their notes give.

use std::collections::HashMap;

use chatshop::pix::brcode::{BrCodeError, FieldId, KeyType, PointOfInitiation, decode};
use rust_decimal::Decimal;

use crate::{Vector, naive_tlv, vectors};

#[test]
fn valid_vectors_decode_and_re_encode_byte_for_byte() {
    let vectors = vectors();
    let valid: Vec<&Vector> = vectors.iter().filter(|v| v.valid).collect();
    assert!(valid.len() >= 40, "expected the published valid vectors");
    for vector in valid {
        let payload = vector.payload.as_str();
        let code = decode(payload).unwrap_or_else(|e| panic!("{payload}: {e}"));
        assert_eq!(code.to_payload(), payload);

        let top: HashMap<String, String> = naive_tlv(payload).into_iter().collect();
        assert_eq!(code.merchant_name(), top["59"], "{payload}");
        assert_eq!(code.merchant_city(), top["60"], "{payload}");
        assert_eq!(code.crc(), top["63"], "{payload}");
        assert_eq!(code.amount_text(), top.get("54").map(String::as_str));
        assert_eq!(code.postal_code(), top.get("61").map(String::as_str));
        let account: HashMap<String, String> = naive_tlv(&top["26"]).into_iter().collect();
        let merchant = code.merchant_account();
        assert!(merchant.gui().eq_ignore_ascii_case("br.gov.bcb.pix"));
        assert_eq!(merchant.key(), account.get("01").map(String::as_str));
        assert_eq!(merchant.url(), account.get("25").map(String::as_str));
        assert_eq!(merchant.description(), account.get("02").map(String::as_str));
        let additional: HashMap<String, String> = naive_tlv(&top["62"]).into_iter().collect();
        assert_eq!(code.txid(), additional["05"]);

        let json = code.to_json();
        assert_eq!(json.crc, top["63"]);
        serde_json::to_string(&json).expect("JSON view serialises");
    }
}

/// The decoder's verdict must match the first violation the vector's notes list
/// (`violation` is the list; matchers read its start).
fn matches_violation(error: &BrCodeError, violation: &str) -> bool {
    let field = |text: &str| FieldId::from_path(text);
    if let Some(rest) = violation.strip_prefix("CRC mismatch (declared ") {
        let found = u16::from_str_radix(&rest[..4], 16).expect("declared hex");
        let expected = u16::from_str_radix(&rest[15..19], 16).expect("computed hex");
        return *error == BrCodeError::CrcMismatch { expected, found };
    }
    if violation.starts_with("no trailing 6304") {
        return *error == BrCodeError::MissingCrc;
    }
    if violation.starts_with("59 merchant name length") {
        return matches!(error, BrCodeError::FieldTooLong { field: f, max: 25, .. } if *f == field("59"));
    }
    if let Some((path, _)) = violation.split_once(" has non-ASCII chars") {
        return *error == BrCodeError::NonPrintable { field: field(path) };
    }
    if violation.starts_with("26-00 GUI is") {
        return matches!(error, BrCodeError::WrongGui { .. });
    }
    panic!("no mapping for violation {violation:?} (error was {error:?})");
}

trait FromPath {
    fn from_path(path: &str) -> Self;
}

impl FromPath for FieldId {
    fn from_path(path: &str) -> Self {
        let mut parts = path.split('-').map(|part| part.parse::<u8>().expect("id"));
        let id = parts.next().expect("top id");
        match parts.next() {
            Some(sub) => FieldId::sub(id, sub),
            None => FieldId::top(id),
        }
    }
}

#[test]
fn invalid_vectors_fail_for_the_listed_reason() {
    let vectors = vectors();
    let invalid: Vec<&Vector> = vectors.iter().filter(|v| !v.valid).collect();
    assert!(invalid.len() >= 10);
    for vector in invalid {
        let error = decode(&vector.payload).expect_err(&vector.payload);
        let violations = vector
            .notes
            .split(" | ")
            .find_map(|part| part.strip_prefix("violations: "))
            .expect("invalid vectors list violations");
        // Matchers look at the start of the list: the first violation.
        let first = violations;
        assert!(matches_violation(&error, first), "{}: got {error:?} ({error}), notes say {first:?}", vector.payload);
    }
}

#[test]
fn vector_details() {
    let code = decode("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D").expect("BCB static example");
    assert_eq!(code.merchant_account().key_type(), Some(KeyType::Evp));
    assert_eq!(code.txid(), "***");
    assert!(!code.is_dynamic());
    assert_eq!(code.amount(), None);

    let code = decode("00020126490014BR.GOV.BCB.PIX0111111111111110212Vacina covid52040000530398654031005802BR5904CARL6010SAN.FIERRO62100506b4b4c46304040C").expect("amount 100");
    assert_eq!(code.amount(), Some(Decimal::from(100)));
    assert_eq!(code.amount_text(), Some("100"));
    assert_eq!(code.to_json().amount.as_deref(), Some("100.00"));
    // Repeated-digit CPFs pass the check-digit sums but are not real CPFs.
    assert_eq!(code.to_json().key_type, None);

    let code = decode("00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-42665544000027300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38").expect("multi-arrangement");
    let json = code.to_json();
    let unknown: Vec<&str> = json.unknown.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(unknown, ["04", "27", "80.00", "80.01"]);
    assert_eq!(json.postal_code.as_deref(), Some("70074900"));
    assert_eq!(json.txid, "RP12345678-2019");
    assert_eq!(code.additional_data().strict_txid(), None);

    let code = decode("00020126950014br.gov.bcb.pix01364004901d-bd85-4769-8e52-cb4c42c506dc0221Jornada pagador 851760308999990085204000053039865406582.055802BR5903Pix6008BRASILIA6229052587ea69f3ce744ce19d90787f16304A76D").expect("Pix Saque");
    let json = code.to_json();
    assert_eq!(json.unknown[0].id, "26.03");
    assert_eq!(json.unknown[0].value, "99999008");

    let code = decode("00020101021226810014br.gov.bcb.pix2559pix.example.com/qr/v2/cobv/1e6c54d3ec9449b7a7fc53b6b0f998e75204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***80800014br.gov.bcb.pix2558pix.example.com/qr/v2/rec/3ffa640fa4f14080adccb949fa2dc0d06304A441").expect("cobv + rec");
    assert_eq!(code.point_of_initiation(), Some(PointOfInitiation::Dynamic));
    assert_eq!(code.to_json().point_of_initiation, "dynamic");
    let recurrence = code.recurrence().expect("template 80");
    assert_eq!(recurrence[1].id, 25);
    assert!(recurrence[1].value.contains("/rec/"));

    // Recurrence-only: 26 holds only the GUI.
    let code = decode("00020126180014br.gov.bcb.pix5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***80800014br.gov.bcb.pix2558pix.example.com/qr/v2/rec/2353c790eefb11eaadc10242ac120002630462C9").expect("rec only");
    assert_eq!(code.merchant_account().key(), None);
    assert_eq!(code.to_json().key_type, None);
}
