//! Redis intsets (`intset.c`), the RDB body of type 11 (`SET_INTSET`).
//!
//! Layout, all little endian: `encoding: u32` (bytes per value: 2, 4 or 8),
//! `length: u32`, then `length` signed values of that width, strictly ascending.

use crate::FormatError;

/// Checks an intset blob and returns its width and count. Rejects what Redis's
/// `intsetValidateIntegrity(.., deep=1)` rejects: bad width, size mismatch, an empty set,
/// values out of order or repeated.
pub fn validate(blob: &[u8]) -> Result<(usize, usize), FormatError> {
    if blob.len() < 8 {
        return Err(FormatError::new(0, "intset shorter than its header"));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(FormatError::new(0, "invalid intset encoding"));
    }
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if (count as u64) * (width as u64) + 8 != blob.len() as u64 {
        return Err(FormatError::new(4, "intset length does not match its size"));
    }
    if count == 0 {
        return Err(FormatError::new(4, "empty intset"));
    }
    let mut prev = get(blob, width, 0);
    for i in 1..count {
        let cur = get(blob, width, i);
        if cur <= prev {
            return Err(FormatError::new(
                8 + i * width,
                "intset values not strictly ascending",
            ));
        }
        prev = cur;
    }
    Ok((width, count))
}

/// Value `i` of a validated intset of the given width.
#[inline]
pub fn get(blob: &[u8], width: usize, i: usize) -> i64 {
    let p = 8 + i * width;
    match width {
        2 => i64::from(i16::from_le_bytes([blob[p], blob[p + 1]])),
        4 => i64::from(i32::from_le_bytes([
            blob[p],
            blob[p + 1],
            blob[p + 2],
            blob[p + 3],
        ])),
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&blob[p..p + 8]);
            i64::from_le_bytes(b)
        }
    }
}

/// Iterates the values of a blob that [`validate`] accepted.
pub fn values(blob: &[u8]) -> impl Iterator<Item = i64> + '_ {
    let (width, count) = validate(blob).unwrap_or((2, 0));
    (0..count).map(move |i| get(blob, width, i))
}

/// The width Redis picks for a value (`_intsetValueEncoding`).
pub fn width_for(v: i64) -> usize {
    if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
        8
    } else if v < i64::from(i16::MIN) || v > i64::from(i16::MAX) {
        4
    } else {
        2
    }
}

/// Appends the intset of `sorted` (ascending, unique) to `out`.
pub fn encode(sorted: &[i64], out: &mut Vec<u8>) {
    let width = sorted.iter().map(|&v| width_for(v)).max().unwrap_or(2);
    out.reserve(8 + sorted.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        match width {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_example() {
        // `sadd i 1 2` as saved by Redis 7.0 (redis-wire.md §6).
        let blob = [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0];
        assert_eq!(validate(&blob).unwrap(), (2, 2));
        assert_eq!(values(&blob).collect::<Vec<_>>(), [1, 2]);
        let mut out = Vec::new();
        encode(&[1, 2], &mut out);
        assert_eq!(out, blob);
    }

    #[test]
    fn widths_round_trip() {
        for set in [
            vec![-5, 70000],
            vec![i64::MIN, 0, i64::MAX],
            vec![-32768, 32767],
        ] {
            let mut out = Vec::new();
            encode(&set, &mut out);
            assert_eq!(values(&out).collect::<Vec<_>>(), set);
        }
    }

    #[test]
    fn rejects_bad_blobs() {
        assert!(validate(&[2, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(validate(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]).is_err());
        assert!(validate(&[2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]).is_err());
        assert!(validate(&[2, 0, 0, 0, 9, 0, 0, 0, 2, 0]).is_err());
        assert!(validate(&[2, 0, 0]).is_err());
    }
}
