//! Encode and decode speed, ours against the Rust BR Code crates on crates.io:
//! `brcode` (naomijub: parse without validation), `pix-brcode-parser` (parse with CRC and
//! field checks, generate), `pix-br` (generate only).
//! Run: `cargo bench --bench brcode`.

use std::hint::black_box;
use std::str::FromStr;

use chatshop::pix::brcode::{DynamicCode, Merchant, PixKey, StaticCode, Txid, decode, encode_dynamic, encode_static};
use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;

/// Published codes: BCB's static example, a bank's dynamic code, BCB's multi-arrangement sample.
const PAYLOADS: [(&str, &str); 3] = [
    (
        "static",
        "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
    ),
    (
        "dynamic",
        "00020101021226820014br.gov.bcb.pix2560pix.stone.com.br/pix/v2/234e3f9d-7cb3-4b29-9d46-974796d0bb29520400005303986540527.005802BR5925PERFECT PAY TECNOLOGIA SE6014RIO DE JANEIRO622905255ddb94f8bd33c3bfd1ad38e3b6304AE32",
    ),
    (
        "multi",
        "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-42665544000027300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR6008BRASILIA61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38",
    ),
];

fn decode_benches(c: &mut Criterion) {
    for (label, payload) in PAYLOADS {
        let mut group = c.benchmark_group(format!("decode/{label}"));
        assert!(decode(payload).is_ok());
        group.bench_function("ours", |b| b.iter(|| decode(black_box(payload))));
        group.bench_function("brcode::from_str", |b| b.iter(|| brcode::from_str(black_box(payload))));
        group.bench_function("brcode::str_to_brcode", |b| b.iter(|| brcode::str_to_brcode(black_box(payload))));
        if pix_brcode_parser::parse_brcode(payload).is_ok() {
            group.bench_function("pix_brcode_parser::parse_brcode", |b| {
                b.iter(|| pix_brcode_parser::parse_brcode(black_box(payload)))
            });
        }
        group.finish();
    }
}

fn encode_benches(c: &mut Criterion) {
    let key = PixKey::parse("123e4567-e12b-12d1-a456-426655440000").expect("key");
    let txid = Txid::parse("PEDIDO123").expect("txid");
    let static_code = StaticCode {
        key: &key,
        description: Some("Pedido 123"),
        amount: Some(Decimal::from_str("91.80").expect("amount")),
        txid: Some(&txid),
        merchant: Merchant { name: "Doçaria Conceição", city: "São Paulo", postal_code: None },
    };
    let dynamic_code = DynamicCode {
        location: "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25",
        amount: Some(Decimal::from_str("91.80").expect("amount")),
        merchant: Merchant { name: "Docaria Conceicao", city: "Sao Paulo", postal_code: None },
    };
    let parsed_static = brcode::from_str(PAYLOADS[0].1);
    let parser_static = pix_brcode_parser::parse_brcode(PAYLOADS[0].1).expect("parses");

    let mut group = c.benchmark_group("encode");
    group.bench_function("ours/static", |b| b.iter(|| encode_static(black_box(&static_code))));
    group.bench_function("ours/dynamic", |b| b.iter(|| encode_dynamic(black_box(&dynamic_code))));
    group.bench_function("brcode::to_string/static", |b| b.iter(|| brcode::to_string(black_box(&parsed_static))));
    group.bench_function("pix_brcode_parser::generate_brcode/static", |b| {
        b.iter(|| pix_brcode_parser::generate_brcode(black_box(&parser_static)))
    });
    group.bench_function("pix_br::brcode/static", |b| {
        b.iter(|| {
            pix_br::pix::brcode(
                black_box("123e4567-e12b-12d1-a456-426655440000"),
                black_box("Doçaria Conceição"),
                Some(91.80),
                Some("São Paulo"),
                Some("Pedido 123"),
                None,
                None,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, decode_benches, encode_benches);
criterion_main!(benches);
