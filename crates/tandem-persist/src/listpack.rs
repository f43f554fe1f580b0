//! Redis listpacks (`listpack.c`): the blob inside RDB types 16, 17, 18 and 19.
//!
//! Layout: `total_bytes: u32 LE`, `count: u16 LE` (65535 = "count it"), entries, `0xFF`.
//! An entry is an encoding byte (with inline length or value bits), optional data and a
//! back length (the size of encoding + data, 7 bits per byte, most significant group
//! first, every byte but the first with bit 7 set, so it reads backwards):
//!
//! | first byte | meaning |
//! |---|---|
//! | `0xxxxxxx` | unsigned 7-bit int |
//! | `10LLLLLL` + data | string up to 63 bytes |
//! | `110xxxxx yyyyyyyy` | signed 13-bit int |
//! | `1110LLLL LLLLLLLL` + data | string up to 4095 bytes (length high bits first) |
//! | `F0` + u32 LE + data | longer string |
//! | `F1` / `F2` / `F3` / `F4` | int16 / int24 / int32 / int64, little endian |
//! | `FF` | end |
//!
//! A string that parses as a canonical 64-bit integer (Redis's `string2ll`) is stored
//! as an integer, so it reads back as [`LpEntry::Int`].

use crate::FormatError;

/// Size of the header (total bytes and count).
pub const HEADER_SIZE: usize = 6;
/// The terminator byte.
pub const EOF: u8 = 0xFF;
/// Count value meaning "too many to store: walk the entries".
pub const COUNT_UNKNOWN: u16 = u16::MAX;

/// One decoded entry; string positions are relative to the listpack blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpEntry {
    /// A string at `blob[off..off + len]`.
    Str {
        /// Offset of the first data byte within the blob.
        off: usize,
        /// Length in bytes.
        len: usize,
    },
    /// An integer.
    Int(i64),
}

#[inline]
fn byte(lp: &[u8], p: usize) -> Result<u8, FormatError> {
    lp.get(p)
        .copied()
        .ok_or(FormatError::new(p, "listpack entry runs past its end"))
}

fn le_uint(lp: &[u8], p: usize, n: usize) -> Result<u64, FormatError> {
    let s = lp
        .get(p..p + n)
        .ok_or(FormatError::new(p, "listpack entry runs past its end"))?;
    let mut v = 0u64;
    for (i, &b) in s.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    Ok(v)
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Size of the back length that follows an entry of `l` bytes (`lpEncodeBacklen`).
#[inline]
pub fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Decodes the entry at `p` (the encoding byte), returning it and the offset of the next
/// entry. The back length is checked against the entry's size.
pub fn decode_entry(lp: &[u8], p: usize) -> Result<(LpEntry, usize), FormatError> {
    let b = byte(lp, p)?;
    let (entry, enc_len) = if b & 0x80 == 0 {
        (LpEntry::Int(i64::from(b & 0x7f)), 1)
    } else if b & 0xC0 == 0x80 {
        let len = usize::from(b & 0x3f);
        (LpEntry::Str { off: p + 1, len }, 1 + len)
    } else if b & 0xE0 == 0xC0 {
        let v = (u64::from(b & 0x1f) << 8) | u64::from(byte(lp, p + 1)?);
        (LpEntry::Int(sign_extend(v, 13)), 2)
    } else if b & 0xF0 == 0xE0 {
        let len = (usize::from(b & 0x0f) << 8) | usize::from(byte(lp, p + 1)?);
        (LpEntry::Str { off: p + 2, len }, 2 + len)
    } else {
        match b {
            0xF0 => {
                let len = le_uint(lp, p + 1, 4)? as usize;
                (LpEntry::Str { off: p + 5, len }, 5 + len)
            }
            0xF1 => (LpEntry::Int(sign_extend(le_uint(lp, p + 1, 2)?, 16)), 3),
            0xF2 => (LpEntry::Int(sign_extend(le_uint(lp, p + 1, 3)?, 24)), 4),
            0xF3 => (LpEntry::Int(sign_extend(le_uint(lp, p + 1, 4)?, 32)), 5),
            0xF4 => (LpEntry::Int(le_uint(lp, p + 1, 8)? as i64), 9),
            0xFF => return Err(FormatError::new(p, "unexpected listpack end")),
            _ => return Err(FormatError::new(p, "invalid listpack entry encoding")),
        }
    };
    let bl = backlen_size(enc_len);
    let next = p
        .checked_add(enc_len)
        .and_then(|x| x.checked_add(bl))
        .filter(|&n| n < lp.len())
        .ok_or(FormatError::new(p, "listpack entry runs past its end"))?;
    // Read the back length backwards from its last byte, as lpPrev does.
    let mut val = 0usize;
    let mut shift = 0;
    let mut q = next - 1;
    loop {
        let c = lp[q];
        val |= usize::from(c & 127) << shift;
        if c & 128 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 || q == 0 {
            return Err(FormatError::new(q, "invalid listpack back length"));
        }
        q -= 1;
    }
    if val != enc_len || q != p + enc_len {
        return Err(FormatError::new(
            p + enc_len,
            "listpack back length does not match entry",
        ));
    }
    Ok((entry, next))
}

/// Checks a whole listpack and calls `f` for each entry in order; returns the count.
/// Rejects what Redis's deep `lpValidateIntegrity` rejects: size mismatch, missing
/// terminator, entries out of bounds, bad back lengths, a wrong count.
pub fn for_each(
    lp: &[u8],
    mut f: impl FnMut(LpEntry) -> Result<(), FormatError>,
) -> Result<usize, FormatError> {
    if lp.len() < HEADER_SIZE + 1 {
        return Err(FormatError::new(0, "listpack shorter than its header"));
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    if total != lp.len() {
        return Err(FormatError::new(
            0,
            "listpack size does not match its header",
        ));
    }
    if lp[lp.len() - 1] != EOF {
        return Err(FormatError::new(
            lp.len() - 1,
            "listpack without terminator",
        ));
    }
    let header_count = u16::from_le_bytes([lp[4], lp[5]]);
    let mut p = HEADER_SIZE;
    let mut count = 0usize;
    while lp[p] != EOF {
        let (e, next) = decode_entry(lp, p)?;
        f(e)?;
        count += 1;
        p = next;
    }
    if p != lp.len() - 1 {
        return Err(FormatError::new(p, "listpack terminator before its end"));
    }
    if header_count != COUNT_UNKNOWN && usize::from(header_count) != count {
        return Err(FormatError::new(
            4,
            "listpack count does not match its entries",
        ));
    }
    Ok(count)
}

/// Decodes every entry into a vector (tests and tools).
pub fn entries(lp: &[u8]) -> Result<Vec<LpEntry>, FormatError> {
    let mut v = Vec::new();
    for_each(lp, |e| {
        v.push(e);
        Ok(())
    })?;
    Ok(v)
}

/// Size of the encoding + data of an integer entry (`lpEncodeIntegerGetType`).
#[inline]
fn int_enc_len(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        5
    } else {
        9
    }
}

#[inline]
fn str_enc_len(len: usize) -> usize {
    if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    }
}

/// Total bytes (encoding, data, back length) an element takes in a listpack.
pub fn entry_size(s: &[u8]) -> usize {
    let enc = match tandem_resp::parse_i64(s) {
        Some(v) => int_enc_len(v),
        None => str_enc_len(s.len()),
    };
    enc + backlen_size(enc)
}

/// Total bytes an integer element takes in a listpack.
pub fn int_entry_size(v: i64) -> usize {
    let enc = int_enc_len(v);
    enc + backlen_size(enc)
}

fn push_backlen(out: &mut Vec<u8>, l: usize) {
    let l = l as u64;
    match backlen_size(l as usize) {
        1 => out.push(l as u8),
        2 => out.extend_from_slice(&[(l >> 7) as u8, ((l & 127) | 128) as u8]),
        3 => out.extend_from_slice(&[
            (l >> 14) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        4 => out.extend_from_slice(&[
            (l >> 21) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
        _ => out.extend_from_slice(&[
            (l >> 28) as u8,
            (((l >> 21) & 127) | 128) as u8,
            (((l >> 14) & 127) | 128) as u8,
            (((l >> 7) & 127) | 128) as u8,
            ((l & 127) | 128) as u8,
        ]),
    }
}

/// Builds a listpack at the end of a byte vector, entry by entry, as `lpAppend` would.
#[derive(Debug)]
pub struct Builder {
    start: usize,
    count: usize,
}

impl Builder {
    /// Starts a listpack at the current end of `out` (writes a placeholder header).
    pub fn new(out: &mut Vec<u8>) -> Builder {
        let start = out.len();
        out.extend_from_slice(&[0; HEADER_SIZE]);
        Builder { start, count: 0 }
    }

    /// Entries appended so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Bytes the listpack would have if finished now (`lpBytes`).
    pub fn bytes(&self, out: &[u8]) -> usize {
        out.len() - self.start + 1
    }

    /// Appends an element, stored as an integer when it is a canonical integer string.
    pub fn push(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        match tandem_resp::parse_i64(s) {
            Some(v) => self.push_int(out, v),
            None => self.push_str(out, s),
        }
    }

    /// Appends a string entry as is (no integer detection).
    pub fn push_str(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        let len = s.len();
        if len < 64 {
            out.push(0x80 | len as u8);
        } else if len < 4096 {
            out.extend_from_slice(&[0xE0 | (len >> 8) as u8, (len & 0xff) as u8]);
        } else {
            out.push(0xF0);
            out.extend_from_slice(&(len as u32).to_le_bytes());
        }
        out.extend_from_slice(s);
        push_backlen(out, str_enc_len(len));
        self.count += 1;
    }

    /// Appends an integer entry in its smallest encoding.
    pub fn push_int(&mut self, out: &mut Vec<u8>, v: i64) {
        let enc = int_enc_len(v);
        match enc {
            1 => out.push(v as u8),
            2 => {
                let u = (v as u64) & 0x1fff;
                out.extend_from_slice(&[0xC0 | (u >> 8) as u8, (u & 0xff) as u8]);
            }
            3 => {
                out.push(0xF1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                out.push(0xF2);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                out.push(0xF3);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                out.push(0xF4);
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        push_backlen(out, enc);
        self.count += 1;
    }

    /// Writes the terminator and the header; returns the listpack's size.
    pub fn finish(self, out: &mut Vec<u8>) -> usize {
        out.push(EOF);
        let total = out.len() - self.start;
        let count = if self.count >= usize::from(COUNT_UNKNOWN) {
            COUNT_UNKNOWN
        } else {
            self.count as u16
        };
        out[self.start..self.start + 4].copy_from_slice(&(total as u32).to_le_bytes());
        out[self.start + 4..self.start + 6].copy_from_slice(&count.to_le_bytes());
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = Builder::new(&mut out);
        for i in items {
            b.push(&mut out, i);
        }
        b.finish(&mut out);
        out
    }

    #[test]
    fn redis_examples() {
        // Hash `h` {f: v} and list `l` [a, 7] from redis-wire.md §6.
        let h = [0x0d, 0, 0, 0, 2, 0, 0x81, b'f', 2, 0x81, b'v', 2, 0xff];
        assert_eq!(build(&[b"f", b"v"]), h);
        let l = [0x0c, 0, 0, 0, 2, 0, 0x81, b'a', 2, 7, 1, 0xff];
        assert_eq!(build(&[b"a", b"7"]), l);
        assert_eq!(
            entries(&l).unwrap(),
            [LpEntry::Str { off: 7, len: 1 }, LpEntry::Int(7)]
        );
        // A fractional score stays a string.
        assert_eq!(&build(&[b"1.5"])[6..11], [0x83, b'1', b'.', b'5', 4]);
    }

    #[test]
    fn all_encodings_round_trip() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let ints: Vec<String> = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            2_147_483_647,
            -2_147_483_648,
            2_147_483_648,
            i64::MAX,
            i64::MIN,
        ]
        .iter()
        .map(|v| v.to_string())
        .collect();
        let mut items: Vec<&[u8]> = vec![b"", b"a", &long, &mid, b"007", b"-0", b"1.5"];
        items.extend(ints.iter().map(|s| s.as_bytes()));
        let lp = build(&items);
        let got = entries(&lp).unwrap();
        assert_eq!(got.len(), items.len());
        for (e, want) in got.iter().zip(&items) {
            let s = match *e {
                LpEntry::Str { off, len } => lp[off..off + len].to_vec(),
                LpEntry::Int(v) => v.to_string().into_bytes(),
            };
            assert_eq!(&s, want);
        }
        let mut total = HEADER_SIZE + 1;
        for i in &items {
            total += entry_size(i);
        }
        assert_eq!(total, lp.len());
    }

    #[test]
    fn damaged_listpacks_are_errors() {
        let lp = build(&[b"hello", b"12345678901", b"x"]);
        for cut in 0..lp.len() {
            assert!(for_each(&lp[..cut], |_| Ok(())).is_err());
        }
        for i in 0..lp.len() {
            for bit in 0..8 {
                let mut d = lp.clone();
                d[i] ^= 1 << bit;
                let _ = for_each(&d, |_| Ok(()));
            }
        }
        let mut bad_count = lp.clone();
        bad_count[4] = 9;
        assert!(for_each(&bad_count, |_| Ok(())).is_err());
    }
}
