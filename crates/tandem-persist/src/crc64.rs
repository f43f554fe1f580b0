//! CRC-64 as Redis computes it for RDB files (`crc64.c`, the "Jones" polynomial).
//!
//! Parameters: reflected input and output, polynomial 0xAD93D23594C935A9 (table form
//! 0x95AC9329AC4BC9B5), initial value 0, no final xor; `check("123456789")` is
//! 0xe9c6d914c4b8d9ca. Table-driven, slicing-by-16: sixteen 256-entry tables built at
//! compile time, sixteen input bytes per step.

const POLY_REFLECTED: u64 = 0x95AC_9329_AC4B_C9B5;

const fn make_tables() -> [[u64; 256]; 16] {
    let mut t = [[0u64; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            k += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut s = 1;
    while s < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static TABLES: [[u64; 256]; 16] = make_tables();

/// Continues a CRC-64 over `data`, starting from `crc` (0 for a new checksum).
pub fn update(mut crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&c[..8]);
        b.copy_from_slice(&c[8..]);
        let v1 = crc ^ u64::from_le_bytes(a);
        let v2 = u64::from_le_bytes(b);
        crc = t[15][(v1 & 0xff) as usize]
            ^ t[14][((v1 >> 8) & 0xff) as usize]
            ^ t[13][((v1 >> 16) & 0xff) as usize]
            ^ t[12][((v1 >> 24) & 0xff) as usize]
            ^ t[11][((v1 >> 32) & 0xff) as usize]
            ^ t[10][((v1 >> 40) & 0xff) as usize]
            ^ t[9][((v1 >> 48) & 0xff) as usize]
            ^ t[8][(v1 >> 56) as usize]
            ^ t[7][(v2 & 0xff) as usize]
            ^ t[6][((v2 >> 8) & 0xff) as usize]
            ^ t[5][((v2 >> 16) & 0xff) as usize]
            ^ t[4][((v2 >> 24) & 0xff) as usize]
            ^ t[3][((v2 >> 32) & 0xff) as usize]
            ^ t[2][((v2 >> 40) & 0xff) as usize]
            ^ t[1][((v2 >> 48) & 0xff) as usize]
            ^ t[0][(v2 >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The CRC-64 of `data`.
pub fn checksum(data: &[u8]) -> u64 {
    update(0, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(data: &[u8]) -> u64 {
        let mut crc = 0u64;
        for &b in data {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        assert_eq!(checksum(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(checksum(b""), 0);
    }

    #[test]
    fn sliced_equals_bitwise_and_is_incremental() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [0, 1, 7, 15, 16, 17, 31, 100, 999, 1000] {
            assert_eq!(checksum(&data[..len]), bitwise(&data[..len]), "len {len}");
        }
        for split in [0, 1, 5, 16, 33, 500] {
            let (a, b) = data.split_at(split);
            assert_eq!(update(update(0, a), b), checksum(&data));
        }
    }
}
