//! LZF compression in the format of liblzf 3.6, which Redis uses for RDB strings.
//!
//! The compressor is a port of `lzf_compress` with Redis's build settings (`HLOG 16`,
//! `VERY_FAST`, hash table of offsets), so for the same input it emits the same bytes a
//! zero-initialised liblzf would. The hash table is kept between calls and never cleared:
//! each entry stores a position tagged with the call it was made in, so a stale entry
//! reads as "no match" exactly like liblzf's zeroed table (see [`Compressor`]).
//!
//! Format: a control byte `c`. `c < 32`: copy the next `c + 1` literal bytes. Otherwise a
//! back reference: `len = c >> 5` (7 means "add the next byte"), distance
//! `((c & 31) << 8) + next byte + 1`, copy `len + 2` bytes from that far back (copies may
//! overlap their own output).
//!
//! The decompressor is safe against any input: it never reads or writes out of bounds
//! and reports malformed data as an error.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// Why decompression failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LzfError {
    /// The output would be longer than the expected length (liblzf's `E2BIG`).
    OutputTooLong,
    /// A back reference points before the start, or the input ends inside an item
    /// (liblzf's `EINVAL`).
    Corrupt,
    /// The output is shorter than the expected length.
    OutputTooShort,
}

impl std::fmt::Display for LzfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LzfError::OutputTooLong => "LZF data expands beyond its declared length",
            LzfError::Corrupt => "corrupt LZF data",
            LzfError::OutputTooShort => "LZF data shorter than its declared length",
        })
    }
}

/// The largest factor by which LZF can expand: a 2-byte back reference yields 264 bytes,
/// a 3-byte one 264 too; so no valid stream decodes to more than `132 * len + 1` bytes.
pub const MAX_EXPANSION: usize = 132;

/// Decompresses `input` into `out` (appending), which must produce exactly
/// `expected_len` bytes. `out` grows by at most `expected_len`, and callers cap
/// `expected_len` by `input.len() * MAX_EXPANSION` before calling.
pub fn decompress_into(
    input: &[u8],
    expected_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), LzfError> {
    let start = out.len();
    let end = start
        .checked_add(expected_len)
        .ok_or(LzfError::OutputTooLong)?;
    out.reserve(expected_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > end {
                return Err(LzfError::OutputTooLong);
            }
            let lit = input.get(ip..ip + n).ok_or(LzfError::Corrupt)?;
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip).ok_or(LzfError::Corrupt)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip).ok_or(LzfError::Corrupt)?);
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            let n = len + 2;
            if out.len() + n > end {
                return Err(LzfError::OutputTooLong);
            }
            let here = out.len();
            if dist > here - start {
                return Err(LzfError::Corrupt);
            }
            let from = here - dist;
            if dist >= n {
                out.extend_from_within(from..from + n);
            } else {
                // Overlapping copy: the pattern repeats with period `dist`.
                for i in 0..n {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != end {
        out.truncate(start);
        return Err(LzfError::OutputTooShort);
    }
    Ok(())
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    let mut out = Vec::new();
    decompress_into(input, expected_len, &mut out)?;
    Ok(out)
}

/// An LZF compressor with its hash table, reused across calls.
pub struct Compressor {
    /// Per slot: `base + position` of the last 3-byte sequence hashed there, where
    /// `base` is the tag of the call that stored it. Values below the current call's
    /// tag are stale and mean "no candidate".
    htab: Box<[u32]>,
    /// The tag of the next call: positions of call n are stored as `tag(n) + pos`, and
    /// `tag(n + 1) = tag(n) + len(n) + 1`, so tags of different calls never collide.
    next_tag: u32,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").finish_non_exhaustive()
    }
}

#[inline(always)]
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

impl Compressor {
    /// A compressor with an empty table (256 KiB).
    pub fn new() -> Self {
        Compressor {
            htab: vec![0u32; HSIZE].into_boxed_slice(),
            next_tag: 1,
        }
    }

    /// Compresses `input` into `out` (overwritten), producing at most `max_out` bytes.
    /// Returns false, like liblzf returning 0, when the result would not fit or the
    /// input is empty.
    pub fn compress(&mut self, input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
        out.clear();
        if input.is_empty() || max_out == 0 || input.len() >= (u32::MAX / 4) as usize {
            return false;
        }
        let need = input.len() as u64 + 1;
        if u64::from(self.next_tag) + need >= u64::from(u32::MAX) {
            self.htab.fill(0);
            self.next_tag = 1;
        }
        let tag = self.next_tag;
        self.next_tag += need as u32;
        out.resize(max_out, 0);
        let n = self.compress_slice(input, out, tag);
        out.truncate(n);
        n != 0
    }

    fn compress_slice(&mut self, input: &[u8], out: &mut [u8], tag: u32) -> usize {
        let in_len = input.len();
        let out_len = out.len();
        let htab = &mut self.htab;
        let mut ip = 0usize;
        let mut op = 1usize; // start run
        let mut lit = 0usize;
        let mut hval: u32 = if in_len >= 2 {
            (u32::from(input[0]) << 8) | u32::from(input[1])
        } else {
            0
        };
        while ip + 2 < in_len {
            hval = (hval << 8) | u32::from(input[ip + 2]);
            let slot = idx(hval);
            let stored = htab[slot];
            htab[slot] = tag + ip as u32;
            // A stale entry reads as offset 0, which the `r > 0` test rejects, exactly
            // like liblzf's zeroed table.
            let r = if stored >= tag {
                (stored - tag) as usize
            } else {
                0
            };
            let is_match = r > 0
                && r < ip
                && ip - r - 1 < MAX_OFF
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1];
            if is_match {
                let off = ip - r - 1;
                let mut len = 2usize;
                let maxlen = (in_len - ip - len).min(MAX_REF);
                if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                    return 0;
                }
                out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
                op -= usize::from(lit == 0); // undo run if length is zero
                'scan: {
                    if maxlen > 16 {
                        for _ in 0..16 {
                            len += 1;
                            if input[r + len] != input[ip + len] {
                                break 'scan;
                            }
                        }
                    }
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2; // now #octets - 1
                ip += 1;
                if len < 7 {
                    out[op] = ((off >> 8) + (len << 5)) as u8;
                    op += 1;
                } else {
                    out[op] = ((off >> 8) + (7 << 5)) as u8;
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 1;
                lit = 0;
                op += 1; // start run
                ip += len + 1;
                if ip + 2 >= in_len {
                    break;
                }
                // VERY_FAST: hash the two positions before the new ip.
                ip -= 2;
                hval = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
                hval = (hval << 8) | u32::from(input[ip + 2]);
                htab[idx(hval)] = tag + ip as u32;
                ip += 1;
                hval = (hval << 8) | u32::from(input[ip + 2]);
                htab[idx(hval)] = tag + ip as u32;
                ip += 1;
            } else {
                if op >= out_len {
                    return 0;
                }
                lit += 1;
                out[op] = input[ip];
                op += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[op - lit - 1] = (lit - 1) as u8;
                    lit = 0;
                    op += 1;
                }
            }
        }
        if op + 3 > out_len {
            return 0;
        }
        while ip < in_len {
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1);
        op -= usize::from(lit == 0);
        op
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn round_trips() {
        let mut c = Compressor::new();
        let mut out = Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..2000 {
            let len = (rng(&mut seed) % 3000) as usize;
            let alphabet = 1 + (round % 7) as u64 * 40;
            let data: Vec<u8> = (0..len)
                .map(|_| (rng(&mut seed) % alphabet) as u8)
                .collect();
            let max = len + len / 16 + 64;
            assert!(c.compress(&data, max, &mut out) || data.is_empty());
            if !data.is_empty() {
                assert_eq!(decompress(&out, len).unwrap(), data, "round {round}");
            }
            // A tight limit either fits or refuses; never panics.
            let tight = len.saturating_sub(4);
            if c.compress(&data, tight, &mut out) {
                assert!(out.len() <= tight);
                assert_eq!(decompress(&out, len).unwrap(), data);
            }
        }
    }

    #[test]
    fn compresses_repetitive_data() {
        let mut c = Compressor::new();
        let mut out = Vec::new();
        let data = vec![b'a'; 1000];
        assert!(c.compress(&data, 996, &mut out));
        assert!(out.len() < 30, "{}", out.len());
        assert_eq!(decompress(&out, 1000).unwrap(), data);
        // 20 distinct bytes do not compress by 4.
        assert!(!c.compress(b"abcdefghijklmnopqrstu", 17, &mut out));
    }

    #[test]
    fn matches_liblzf_bytes() {
        // Both produced by redis-server 7.0.15 (SET, SAVE, bytes of the C3 string).
        let mut c = Compressor::new();
        let mut out = Vec::new();
        assert!(c.compress(&[b'a'; 52], 48, &mut out));
        assert_eq!(out, [0x01, 0x61, 0x61, 0xe0, 0x27, 0x00, 0x01, 0x61, 0x61]);
        let text = b"hello world hello world hello world hello world";
        assert!(c.compress(text, text.len() - 4, &mut out));
        let mut want = vec![0x0c];
        want.extend_from_slice(b"hello world h");
        want.extend_from_slice(&[0xe0, 0x17, 0x0b, 0x01, b'l', b'd']);
        assert_eq!(out, want);
        assert_eq!(decompress(&want, text.len()).unwrap(), text);
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut seed = 42u64;
        for _ in 0..20000 {
            let len = (rng(&mut seed) % 40) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng(&mut seed) as u8).collect();
            let want = (rng(&mut seed) % 200) as usize;
            let _ = decompress(&data, want);
        }
        assert_eq!(decompress(&[0x20, 0x00], 3), Err(LzfError::Corrupt));
        assert_eq!(decompress(&[0x01, b'a'], 2), Err(LzfError::Corrupt));
        assert_eq!(
            decompress(&[0x01, b'a', b'b'], 1),
            Err(LzfError::OutputTooLong)
        );
        assert_eq!(decompress(&[0x00, b'a'], 2), Err(LzfError::OutputTooShort));
    }
}
