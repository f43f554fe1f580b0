//! Read-only decoders for the encodings Redis 7.0 loads but never writes: ziplists
//! (`ziplist.c`, inside RDB types 10, 12, 13 and 14) and zipmaps (`zipmap.c`, type 9).
//!
//! Ziplist: `zlbytes: u32 LE`, `zltail: u32 LE` (offset of the last entry),
//! `zllen: u16 LE` (65535 = count it), entries, `0xFF`. Entry: previous entry's size (1
//! byte if < 254, else `FE` + u32 LE), then the encoding: `00LLLLLL` string,
//! `01LLLLLL LLLLLLLL` string (14-bit length, big endian), `10xxxxxx` + u32 **big endian**
//! string, `C0` int16, `D0` int32, `E0` int64, `F0` int24, `FE` int8, `F1`–`FD` immediate
//! 0–12; integers little endian.
//!
//! Zipmap: `count: u8` (254 = count it), then pairs `len key len free value <free bytes>`
//! where `len` is one byte (< 254) or `FE` + u32 LE, and `free` one byte; `0xFF` ends it.

use crate::listpack::LpEntry;
use crate::FormatError;

const ZIP_END: u8 = 0xFF;
const ZIP_BIG_PREVLEN: u8 = 254;
const ZL_HEADER: usize = 10;

fn get(z: &[u8], p: usize, n: usize) -> Result<&[u8], FormatError> {
    z.get(p..p.saturating_add(n))
        .filter(|s| s.len() == n)
        .ok_or(FormatError::new(p, "ziplist entry runs past its end"))
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x))
}

/// Checks a whole ziplist and calls `f` for each entry (strings as offsets into `z`);
/// returns the count. Checks what Redis's deep `ziplistValidateIntegrity` checks.
pub fn for_each(
    z: &[u8],
    mut f: impl FnMut(LpEntry) -> Result<(), FormatError>,
) -> Result<usize, FormatError> {
    if z.len() < ZL_HEADER + 1 {
        return Err(FormatError::new(0, "ziplist shorter than its header"));
    }
    let zlbytes = le(&z[0..4]) as usize;
    let zltail = le(&z[4..8]) as usize;
    let zllen = le(&z[8..10]) as usize;
    if zlbytes != z.len() {
        return Err(FormatError::new(
            0,
            "ziplist size does not match its header",
        ));
    }
    if z[z.len() - 1] != ZIP_END {
        return Err(FormatError::new(z.len() - 1, "ziplist without terminator"));
    }
    let mut p = ZL_HEADER;
    let mut prev_size = 0usize;
    let mut last = ZL_HEADER;
    let mut count = 0usize;
    while z[p] != ZIP_END {
        let start = p;
        let prevlen = if z[p] < ZIP_BIG_PREVLEN {
            p += 1;
            usize::from(z[start])
        } else {
            let v = le(get(z, p + 1, 4)?) as usize;
            p += 5;
            v
        };
        if prevlen != prev_size {
            return Err(FormatError::new(start, "ziplist prevlen does not match"));
        }
        let e = *z
            .get(p)
            .ok_or(FormatError::new(p, "ziplist entry runs past its end"))?;
        let entry = if e < 0xC0 {
            let (hdr, len) = match e >> 6 {
                0 => (1, usize::from(e & 0x3f)),
                1 => (
                    2,
                    (usize::from(e & 0x3f) << 8) | usize::from(get(z, p + 1, 1)?[0]),
                ),
                _ => {
                    let b = get(z, p + 1, 4)?;
                    (5, u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
                }
            };
            get(z, p + hdr, len)?;
            let off = p + hdr;
            p = off + len;
            LpEntry::Str { off, len }
        } else {
            let (n, v) = match e {
                0xC0 => (
                    2,
                    i64::from(i16::from_le_bytes([get(z, p + 1, 2)?[0], z[p + 2]])),
                ),
                0xD0 => {
                    let b = get(z, p + 1, 4)?;
                    (4, i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                }
                0xE0 => (8, le(get(z, p + 1, 8)?) as i64),
                0xF0 => (3, ((le(get(z, p + 1, 3)?) << 40) as i64) >> 40),
                0xFE => (1, i64::from(get(z, p + 1, 1)?[0] as i8)),
                0xF1..=0xFD => (0, i64::from(e & 0x0f) - 1),
                _ => return Err(FormatError::new(p, "invalid ziplist entry encoding")),
            };
            p += 1 + n;
            LpEntry::Int(v)
        };
        if p >= z.len() {
            return Err(FormatError::new(start, "ziplist entry runs past its end"));
        }
        f(entry)?;
        prev_size = p - start;
        last = start;
        count += 1;
    }
    if p != z.len() - 1 {
        return Err(FormatError::new(p, "ziplist terminator before its end"));
    }
    if zltail != last {
        return Err(FormatError::new(4, "ziplist tail offset does not match"));
    }
    if zllen != usize::from(u16::MAX) && zllen != count {
        return Err(FormatError::new(
            8,
            "ziplist count does not match its entries",
        ));
    }
    Ok(count)
}

/// Checks a zipmap and calls `f(key_off, key_len, val_off, val_len)` per pair; returns
/// the number of pairs. Rejects what `zipmapValidateIntegrity(.., deep=1)` rejects,
/// including an empty zipmap.
pub fn zipmap_for_each(
    z: &[u8],
    mut f: impl FnMut(usize, usize, usize, usize) -> Result<(), FormatError>,
) -> Result<usize, FormatError> {
    if z.len() < 2 || z[z.len() - 1] != ZIP_END {
        return Err(FormatError::new(0, "zipmap without terminator"));
    }
    let read_len = |p: usize| -> Result<(usize, usize), FormatError> {
        let b = *z
            .get(p)
            .ok_or(FormatError::new(p, "zipmap entry runs past its end"))?;
        if b < ZIP_BIG_PREVLEN {
            Ok((1, usize::from(b)))
        } else {
            Ok((5, le(get(z, p + 1, 4)?) as usize))
        }
    };
    let mut p = 1;
    let mut count = 0usize;
    while z[p] != ZIP_END {
        let (s, klen) = read_len(p)?;
        let koff = p + s;
        get(z, koff, klen)?;
        p = koff + klen;
        let (s, vlen) = read_len(p)?;
        let free = usize::from(
            *z.get(p + s)
                .ok_or(FormatError::new(p, "zipmap entry runs past its end"))?,
        );
        let voff = p + s + 1;
        get(z, voff, vlen.saturating_add(free))?;
        p = voff + vlen + free;
        if p >= z.len() {
            return Err(FormatError::new(voff, "zipmap entry runs past its end"));
        }
        f(koff, klen, voff, vlen)?;
        count += 1;
    }
    if p != z.len() - 1 {
        return Err(FormatError::new(p, "zipmap terminator before its end"));
    }
    if count == 0 {
        return Err(FormatError::new(0, "empty zipmap"));
    }
    if z[0] != ZIP_BIG_PREVLEN && usize::from(z[0]) != count {
        return Err(FormatError::new(
            0,
            "zipmap count does not match its entries",
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a ziplist the way ziplist.c does (tests only).
    pub(crate) fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut z = vec![0u8; ZL_HEADER];
        let mut prev = 0usize;
        let mut last = ZL_HEADER;
        for it in items {
            let start = z.len();
            last = start;
            if prev < 254 {
                z.push(prev as u8);
            } else {
                z.push(254);
                z.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match tandem_resp::parse_i64(it) {
                Some(v) if (0..=12).contains(&v) => z.push(0xF1 + v as u8),
                Some(v) if i8::try_from(v).is_ok() => z.extend_from_slice(&[0xFE, v as u8]),
                Some(v) if i16::try_from(v).is_ok() => {
                    z.push(0xC0);
                    z.extend_from_slice(&(v as i16).to_le_bytes());
                }
                Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                    z.push(0xF0);
                    z.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                Some(v) if i32::try_from(v).is_ok() => {
                    z.push(0xD0);
                    z.extend_from_slice(&(v as i32).to_le_bytes());
                }
                Some(v) => {
                    z.push(0xE0);
                    z.extend_from_slice(&v.to_le_bytes());
                }
                None => {
                    let l = it.len();
                    if l < 64 {
                        z.push(l as u8);
                    } else if l < 16384 {
                        z.extend_from_slice(&[0x40 | (l >> 8) as u8, l as u8]);
                    } else {
                        z.push(0x80);
                        z.extend_from_slice(&(l as u32).to_be_bytes());
                    }
                    z.extend_from_slice(it);
                }
            }
            prev = z.len() - start;
        }
        z.push(ZIP_END);
        let n = z.len() as u32;
        z[0..4].copy_from_slice(&n.to_le_bytes());
        z[4..8].copy_from_slice(&(last as u32).to_le_bytes());
        z[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
        z
    }

    fn decode(z: &[u8]) -> Result<Vec<Vec<u8>>, FormatError> {
        let mut out = Vec::new();
        for_each(z, |e| {
            out.push(match e {
                LpEntry::Str { off, len } => z[off..off + len].to_vec(),
                LpEntry::Int(v) => v.to_string().into_bytes(),
            });
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn round_trip_all_encodings() {
        let long = vec![b'q'; 300];
        let huge = vec![b'z'; 20000];
        let items: Vec<&[u8]> = vec![
            b"a",
            b"0",
            b"12",
            b"13",
            b"-100",
            b"1000",
            b"-1000000",
            b"100000000",
            b"99999999999",
            &long,
            &huge,
            b"",
            b"x",
        ];
        let z = build(&items);
        assert_eq!(
            decode(&z).unwrap(),
            items.iter().map(|s| s.to_vec()).collect::<Vec<_>>()
        );
        for cut in 0..z.len() {
            assert!(decode(&z[..cut]).is_err());
        }
        for i in 0..z.len().min(400) {
            let mut d = z.clone();
            d[i] ^= 0x41;
            let _ = decode(&d);
        }
    }

    #[test]
    fn zipmap_pairs() {
        // {"foo": "bar", "hello": "world"} with one free byte after "bar".
        let z = b"\x02\x03foo\x03\x01barX\x05hello\x05\x00world\xff";
        let mut pairs = Vec::new();
        let n = zipmap_for_each(z, |ko, kl, vo, vl| {
            pairs.push((z[ko..ko + kl].to_vec(), z[vo..vo + vl].to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(pairs[1], (b"hello".to_vec(), b"world".to_vec()));
        assert_eq!(pairs[0], (b"foo".to_vec(), b"bar".to_vec()));
        for cut in 0..z.len() {
            assert!(zipmap_for_each(&z[..cut], |_, _, _, _| Ok(())).is_err());
        }
        assert!(zipmap_for_each(b"\x00\xff", |_, _, _, _| Ok(())).is_err());
    }
}
