//! BR Code: published vectors, error variants, and encode/decode round trips.
//! One test binary; the vectors come from `tests/data/pix-vectors.json` (a copy of shared/pix/vectors.json).

mod errors;
mod round_trip;
mod vectors;

use chatshop::pix::brcode::crc16;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Vector {
    pub payload: String,
    pub valid: bool,
    pub notes: String,
}

pub fn vectors() -> Vec<Vector> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pix-vectors.json");
    let text = std::fs::read_to_string(path).expect("read tests/data/pix-vectors.json");
    serde_json::from_str(&text).expect("parse vectors.json")
}

/// A second, naive reader (chars, no validation) to cross-check the decoder's fields.
pub fn naive_tlv(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut fields = Vec::new();
    let mut at = 0;
    while at + 4 <= chars.len() {
        let id: String = chars[at..at + 2].iter().collect();
        let len: usize = chars[at + 2..at + 4].iter().collect::<String>().parse().expect("naive length");
        let value: String = chars[at + 4..at + 4 + len].iter().collect();
        fields.push((id, value));
        at += 4 + len;
    }
    fields
}

pub fn with_crc(body: &str) -> String {
    let covered = format!("{body}6304");
    format!("{covered}{:04X}", crc16(covered.as_bytes()))
}

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0x29B1);
}
