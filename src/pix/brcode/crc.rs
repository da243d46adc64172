//! CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), table-driven.

const POLY: u16 = 0x1021;

/// One entry per byte value, built at compile time so the hot loop is a shift, a xor and a load.
const TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = (byte as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ POLY } else { crc << 1 };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// CRC of `bytes`; for a BR Code, pass everything up to and including "6304".
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF, |crc, &byte| (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ byte)])
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// The 4 upper-case, zero-padded hex digits BR Codes use.
pub fn crc_hex(crc: u16) -> [u8; 4] {
    [
        HEX_UPPER[usize::from(crc >> 12)],
        HEX_UPPER[usize::from((crc >> 8) & 0xF)],
        HEX_UPPER[usize::from((crc >> 4) & 0xF)],
        HEX_UPPER[usize::from(crc & 0xF)],
    ]
}

/// Reads 4 hex digits (either case); `None` if any is not hex.
pub fn parse_crc_hex(digits: &[u8]) -> Option<u16> {
    if digits.len() != 4 {
        return None;
    }
    digits.iter().try_fold(0u16, |acc, &digit| {
        let nibble = char::from(digit).to_digit(16)?;
        Some((acc << 4) | nibble as u16)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(&crc_hex(0x29B1), b"29B1");
        assert_eq!(&crc_hex(0x0EA9), b"0EA9");
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(parse_crc_hex(b"1d3D"), Some(0x1D3D));
        assert_eq!(parse_crc_hex(b"EA9"), None);
        assert_eq!(parse_crc_hex(b"XYZ1"), None);
    }
}
