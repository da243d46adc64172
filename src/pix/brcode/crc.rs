//! CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), table-driven.

const POLY: u16 = 0x1021;

/// Slicing-by-16: `TABLES[k][byte]` is the CRC contribution of `byte` followed by `k` zero bytes,
/// so 16 input bytes cost 16 independent loads instead of a chain of 16 dependent steps.
/// Built at compile time (8 KiB).
const SLICES: usize = 16;
const TABLES: [[u16; 256]; SLICES] = build_tables();

const fn build_tables() -> [[u16; 256]; SLICES] {
    let mut tables = [[0u16; 256]; SLICES];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = (byte as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ POLY } else { crc << 1 };
            bit += 1;
        }
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut slice = 1;
    while slice < SLICES {
        let mut byte = 0;
        while byte < 256 {
            let previous = tables[slice - 1][byte];
            tables[slice][byte] = (previous << 8) ^ tables[0][(previous >> 8) as usize];
            byte += 1;
        }
        slice += 1;
    }
    tables
}

/// CRC of `bytes`; for a BR Code, pass everything up to and including "6304".
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    let mut chunks = bytes.chunks_exact(SLICES);
    for chunk in &mut chunks {
        // The 16-bit register lines up with the first two bytes of the chunk.
        let [high, low] = crc.to_be_bytes();
        let mut next =
            TABLES[SLICES - 1][usize::from(chunk[0] ^ high)] ^ TABLES[SLICES - 2][usize::from(chunk[1] ^ low)];
        for (index, &byte) in chunk.iter().enumerate().skip(2) {
            next ^= TABLES[SLICES - 1 - index][usize::from(byte)];
        }
        crc = next;
    }
    chunks.remainder().iter().fold(crc, |crc, &byte| (crc << 8) ^ TABLES[0][usize::from((crc >> 8) as u8 ^ byte)])
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

    /// The sliced loop agrees with the plain bitwise definition at every length.
    #[test]
    fn matches_bitwise_definition() {
        let bitwise = |bytes: &[u8]| {
            bytes.iter().fold(0xFFFFu16, |mut crc, &byte| {
                crc ^= u16::from(byte) << 8;
                for _ in 0..8 {
                    crc = if crc & 0x8000 != 0 { (crc << 1) ^ POLY } else { crc << 1 };
                }
                crc
            })
        };
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(crc16(&data[..len]), bitwise(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(parse_crc_hex(b"1d3D"), Some(0x1D3D));
        assert_eq!(parse_crc_hex(b"EA9"), None);
        assert_eq!(parse_crc_hex(b"XYZ1"), None);
    }
}
