//! Property checks behind the fuzz targets in `fuzz/`, kept here so that `cargo test`
//! replays the committed corpus and a seeded mutation loop on stable Rust, and the
//! libFuzzer targets are one-line wrappers. Not part of the crate's API.
//!
//! [`check_request`] feeds bytes to [`RequestParser`] whole, one byte at a time and in
//! pseudo-random pieces, under four sets of limits, and requires the same requests and
//! the same final state every time, equal to what a line-by-line port of Redis 7.0's
//! `processMultibulkBuffer`/`processInlineBuffer`/`sdssplitargs` ([`mod@reference`]) gives.
//! [`check_frame`] decodes with [`Frame::decode`] and checks that every prefix of the
//! input agrees with the whole and that an encoded frame decodes back to itself.
//! Every check panics on failure, which is what a fuzzer looks for.

use bytes::Bytes;

use crate::request::INLINE_MAX_SIZE;
use crate::{Frame, FrameError, ProtocolError, RequestLimits, RequestParser};

/// The limits every request input is checked under.
const LIMITS: [RequestLimits; 4] = [
    RequestLimits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        unauthenticated: false,
        from_master: false,
    },
    RequestLimits {
        proto_max_bulk_len: 512 * 1024 * 1024,
        unauthenticated: true,
        from_master: false,
    },
    RequestLimits {
        proto_max_bulk_len: 8,
        unauthenticated: false,
        from_master: true,
    },
    RequestLimits {
        proto_max_bulk_len: 8,
        unauthenticated: false,
        from_master: false,
    },
];

/// One parsed request: its arguments, the bytes it used, and whether it was inline.
pub type Parsed = (Vec<Vec<u8>>, usize, bool);

/// Everything a byte stream parses to: the requests, then `Ok(bytes left unparsed)` or
/// the error that ended the stream.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Complete requests in order.
    pub requests: Vec<Parsed>,
    /// How the stream ended.
    pub end: Result<usize, ProtocolError>,
}

/// Checks the request parser on `data` (see the module docs).
pub fn check_request(data: &[u8]) {
    let seed = fnv(data);
    for (i, lim) in LIMITS.iter().enumerate() {
        let expected = reference::run(data, lim);
        let whole = run_chunked(data, lim, &mut |_| usize::MAX);
        assert_eq!(whole, expected, "whole input vs reference, limits #{i}");
        let bytewise = run_chunked(data, lim, &mut |_| 1);
        assert_eq!(bytewise, expected, "one byte at a time, limits #{i}");
        let mut rng = Rng::new(seed ^ i as u64);
        let pieces = run_chunked(data, lim, &mut |_| match rng.below(4) {
            0 => 1 + rng.below(3),
            1 => 1 + rng.below(16),
            2 => 1 + rng.below(300),
            _ => 1 + rng.below(70_000),
        });
        assert_eq!(pieces, expected, "random pieces, limits #{i}");
    }
}

/// Feeds `data` in pieces of the sizes `next` picks (the argument is the offset), parsing
/// all it can after each, and checks the parser's invariants on the way.
fn run_chunked(data: &[u8], lim: &RequestLimits, next: &mut dyn FnMut(usize) -> usize) -> Outcome {
    let mut p = RequestParser::new();
    let mut requests = Vec::new();
    let mut start = 0; // first byte of the pending request
    let mut end = 0; // bytes delivered so far
                     // The least end the pending request may have, from bytes_needed_hint.
    let mut promised = 0;
    while end < data.len() {
        end += next(end).clamp(1, data.len() - end);
        loop {
            match p.parse(&data[start..end], lim) {
                Ok(Some(r)) => {
                    let used = r.consumed();
                    assert!(used > 0 && start + used <= end, "consumed {used}");
                    assert!(start + used >= promised, "bytes_needed_hint promised more");
                    assert_eq!(r.args().len(), r.len());
                    requests.push((r.args().map(<[u8]>::to_vec).collect(), used, r.is_inline()));
                    start += used;
                    promised = 0;
                    assert!(!p.is_pending());
                    assert_eq!(p.bytes_needed_hint(), None);
                }
                Ok(None) => {
                    assert_eq!(p.is_pending(), start < end);
                    if let Some(n) = p.bytes_needed_hint() {
                        assert!(n > 0);
                        promised = end + n;
                    }
                    break;
                }
                Err(e) => {
                    assert!(!p.is_pending());
                    return Outcome {
                        requests,
                        end: Err(e),
                    };
                }
            }
        }
    }
    Outcome {
        requests,
        end: Ok(end - start),
    }
}

/// Checks [`Frame::decode`] on `data` (see the module docs).
pub fn check_frame(data: &[u8]) {
    let buf = Bytes::copy_from_slice(data);
    let whole = Frame::decode(&buf);
    if let Ok((f, n)) = &whole {
        assert!(*n > 0 && *n <= data.len(), "consumed {n} of {}", data.len());
        let once = encoded(f);
        let (again, m) = Frame::decode(&Bytes::from(once.clone())).expect("re-encoded frame");
        assert_eq!(m, once.len());
        assert_eq!(encoded(&again), once, "encode/decode round trip");
    }
    // Every prefix agrees with the whole: incomplete, or (once long enough) the same.
    let mut cuts: Vec<usize> = if data.len() <= 300 {
        (0..data.len()).collect()
    } else {
        let mut rng = Rng::new(fnv(data));
        let mut v: Vec<usize> = (0..64).map(|_| rng.below(data.len())).collect();
        v.extend(0..16);
        v.extend(data.len() - 16..data.len());
        v
    };
    if let Ok((_, n)) = &whole {
        cuts.push(*n);
    }
    for cut in cuts {
        let part = Frame::decode(&buf.slice(..cut));
        match (&whole, &part) {
            (Ok((f, n)), Ok((g, m))) if cut >= *n => {
                assert_eq!(n, m, "prefix {cut}");
                assert_eq!(encoded(f), encoded(g), "prefix {cut}");
            }
            (_, Err(FrameError::Incomplete)) => {
                if let Ok((_, n)) = &whole {
                    assert!(
                        cut < *n,
                        "prefix {cut} of a frame of {n} bytes is incomplete"
                    );
                }
            }
            (Err(FrameError::Invalid { .. }), Err(FrameError::Invalid { .. })) => {
                assert_eq!(&whole, &part, "prefix {cut}");
            }
            _ => panic!("prefix {cut}: {part:?}, whole: {whole:?}"),
        }
    }
}

fn encoded(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    f.encode(&mut out);
    out
}

/// FNV-1a, to derive a seed from an input.
fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A small deterministic generator (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b"\0",
    b"*",
    b"$",
    b"*1\r\n",
    b"*2\r\n",
    b"$3\r\n",
    b"$0\r\n\r\n",
    b"*0\r\n",
    b"*-1\r\n",
    b"$-1\r\n",
    b"%1\r\n",
    b"~2\r\n",
    b">1\r\n",
    b"|1\r\n",
    b"_\r\n",
    b",inf\r\n",
    b",1.5\r\n",
    b"#t\r\n",
    b"(123\r\n",
    b"=5\r\ntxt:a\r\n",
    b"!3\r\nERR\r\n",
    b":-1\r\n",
    b"+OK\r\n",
    b"-ERR x\r\n",
    b"\"",
    b"'",
    b"\\",
    b"\\x4",
    b"\\x41",
    b" ",
    b"\t",
    b"\x0b",
    b"PING\r\n",
    b"SET k v\r\n",
    b"*1\r\n$4\r\nPING\r\n",
];

const NUMBERS: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"-0",
    b"01",
    b"+1",
    b"2",
    b"3",
    b"8",
    b"9",
    b"10",
    b"11",
    b"16384",
    b"16385",
    b"65536",
    b"2147483647",
    b"2147483648",
    b"-2147483649",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"99999999999999999999",
    b"",
];

/// Changes `data` in one to four random ways, sometimes splicing in part of another input
/// from `corpus`; the result is at most `max_len` bytes.
pub fn mutate(data: &mut Vec<u8>, rng: &mut Rng, corpus: &[Vec<u8>], max_len: usize) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = b"\r\n*$:+-_,#(=!%~>|\"'\\ \t\x0b\x000123456789x"[rng.below(32)];
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, t.iter().copied());
            }
            3 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                data.drain(at.min(len - 1)..end);
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let end = (from + 1 + rng.below(64)).min(len);
                let chunk = data[from..end].to_vec();
                data.splice(at..at, chunk);
            }
            5 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(128)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            6 => {
                // Replace a run of digits (or insert) with an interesting number.
                let start = (at..len).find(|&i| data[i].is_ascii_digit()).unwrap_or(at);
                let end = (start..len)
                    .find(|&i| !data[i].is_ascii_digit())
                    .unwrap_or(len);
                let n = NUMBERS[rng.below(NUMBERS.len())];
                data.splice(start..end, n.iter().copied());
            }
            7 => data.truncate(at),
            8 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                data.truncate(at);
                data.extend_from_slice(&other[rng.below(other.len() + 1)..]);
            }
            _ => {
                let n = 1 + rng.below(8);
                for _ in 0..n {
                    data.insert(at.min(data.len()), rng.next_u64() as u8);
                }
            }
        }
    }
    if data.len() > max_len {
        data.truncate(max_len);
    }
}

/// Readable form of an input, for failure messages.
pub fn escape(data: &[u8]) -> String {
    let shown = &data[..data.len().min(2048)];
    let mut s: String = shown.escape_ascii().to_string();
    if shown.len() < data.len() {
        s.push_str(&format!("... ({} bytes)", data.len()));
    }
    s
}

/// Redis 7.0's request parsing, ported line by line from `networking.c` and `sds.c` and
/// run from scratch on the whole buffer: slow, simple, and independent of the parser.
/// The one departure from the C is the 64 KB limit, applied as if the bytes arrived one
/// at a time (see the `request` module docs).
pub mod reference {
    use super::{Outcome, Parsed, INLINE_MAX_SIZE};
    use crate::{parse_i64, ProtocolError, RequestLimits};

    /// Parses every request in `buf`, as `processInputBuffer` would.
    pub fn run(buf: &[u8], lim: &RequestLimits) -> Outcome {
        let mut requests = Vec::new();
        let mut qb_pos = 0;
        while qb_pos < buf.len() {
            match parse_one(&buf[qb_pos..], lim) {
                Ok(Some(r)) => {
                    qb_pos += r.1;
                    requests.push(r);
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        requests,
                        end: Err(e),
                    }
                }
            }
        }
        Outcome {
            requests,
            end: Ok(buf.len() - qb_pos),
        }
    }

    /// `strchr(s + from, c)`: the first `c` before any NUL.
    fn strchr(s: &[u8], from: usize, c: u8) -> Option<usize> {
        for (i, &b) in s.iter().enumerate().skip(from) {
            if b == c {
                return Some(i);
            }
            if b == 0 {
                return None;
            }
        }
        None
    }

    /// Finds the end of the line at `from`; `Err(true)` when it is too long.
    fn line(q: &[u8], from: usize, c: u8) -> Result<Option<usize>, bool> {
        match strchr(q, from, c) {
            Some(i) if i - from <= INLINE_MAX_SIZE => Ok(Some(i)),
            _ if q.len() - from > INLINE_MAX_SIZE => Err(true),
            _ => Ok(None),
        }
    }

    fn parse_one(q: &[u8], lim: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
        if q[0] == b'*' {
            multibulk(q, lim)
        } else {
            inline(q, lim)
        }
    }

    fn multibulk(q: &[u8], lim: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
        let newline = match line(q, 0, b'\r') {
            Ok(Some(i)) => i,
            Ok(None) => return Ok(None),
            Err(_) => return Err(ProtocolError::TooBigMbulkCountString),
        };
        if newline as isize > q.len() as isize - 2 {
            return Ok(None);
        }
        let ll = match parse_i64(&q[1..newline]) {
            Some(ll) if ll <= i64::from(i32::MAX) => ll,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if ll > 10 && lim.unauthenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        let mut pos = newline + 2;
        if ll <= 0 {
            return Ok(Some((Vec::new(), pos, false)));
        }
        let mut argv = Vec::new();
        let mut multibulklen = ll;
        while multibulklen > 0 {
            let newline = match line(q, pos, b'\r') {
                Ok(Some(i)) => i,
                Ok(None) => return Ok(None),
                Err(_) => return Err(ProtocolError::TooBigBulkCountString),
            };
            if (newline - pos) as isize > (q.len() - pos) as isize - 2 {
                return Ok(None);
            }
            if q[pos] != b'$' {
                return Err(ProtocolError::ExpectedDollar(q[pos]));
            }
            let ll = match parse_i64(&q[pos + 1..newline]) {
                Some(ll) if ll >= 0 && (lim.from_master || ll as u64 <= lim.proto_max_bulk_len) => {
                    ll as u64
                }
                _ => return Err(ProtocolError::InvalidBulkLength),
            };
            if ll > 16384 && lim.unauthenticated {
                return Err(ProtocolError::UnauthenticatedBulkLength);
            }
            pos = newline + 2;
            if ((q.len() - pos) as u64) < ll + 2 {
                return Ok(None);
            }
            let ll = ll as usize;
            argv.push(q[pos..pos + ll].to_vec());
            pos += ll + 2;
            multibulklen -= 1;
        }
        Ok(Some((argv, pos, false)))
    }

    fn inline(q: &[u8], lim: &RequestLimits) -> Result<Option<Parsed>, ProtocolError> {
        let mut newline = match line(q, 0, b'\n') {
            Ok(Some(i)) => i,
            Ok(None) => return Ok(None),
            Err(_) => return Err(ProtocolError::TooBigInlineRequest),
        };
        let mut linefeed_chars = 1;
        if newline != 0 && q[newline - 1] == b'\r' {
            newline -= 1;
            linefeed_chars += 1;
        }
        let querylen = newline;
        let argv = sdssplitargs(&q[..querylen]).ok_or(ProtocolError::UnbalancedQuotes)?;
        if querylen != 0 && lim.from_master {
            return Err(ProtocolError::MasterInline);
        }
        Ok(Some((argv, querylen + linefeed_chars, true)))
    }

    fn is_hex_digit(c: u8) -> bool {
        c.is_ascii_hexdigit()
    }

    fn hex_digit_to_int(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        }
    }

    /// `isspace` in the C locale.
    fn isspace(c: u8) -> bool {
        matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// `sdssplitargs` over a C string: `line` plus the terminating NUL.
    fn sdssplitargs(line: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut s = line.to_vec();
        s.push(0);
        let at = |p: usize| s.get(p).copied().unwrap_or(0);
        let mut p = 0;
        let mut vector = Vec::new();
        loop {
            while at(p) != 0 && isspace(at(p)) {
                p += 1;
            }
            if at(p) == 0 {
                return Some(vector);
            }
            let mut inq = false;
            let mut insq = false;
            let mut done = false;
            let mut current = Vec::new();
            while !done {
                if inq {
                    if at(p) == b'\\'
                        && at(p + 1) == b'x'
                        && is_hex_digit(at(p + 2))
                        && is_hex_digit(at(p + 3))
                    {
                        current
                            .push(hex_digit_to_int(at(p + 2)) * 16 + hex_digit_to_int(at(p + 3)));
                        p += 3;
                    } else if at(p) == b'\\' && at(p + 1) != 0 {
                        p += 1;
                        current.push(match at(p) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            c => c,
                        });
                    } else if at(p) == b'"' {
                        if at(p + 1) != 0 && !isspace(at(p + 1)) {
                            return None;
                        }
                        done = true;
                    } else if at(p) == 0 {
                        return None;
                    } else {
                        current.push(at(p));
                    }
                } else if insq {
                    if at(p) == b'\\' && at(p + 1) == b'\'' {
                        p += 1;
                        current.push(b'\'');
                    } else if at(p) == b'\'' {
                        if at(p + 1) != 0 && !isspace(at(p + 1)) {
                            return None;
                        }
                        done = true;
                    } else if at(p) == 0 {
                        return None;
                    } else {
                        current.push(at(p));
                    }
                } else {
                    match at(p) {
                        b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                        b'"' => inq = true,
                        b'\'' => insq = true,
                        c => current.push(c),
                    }
                }
                if at(p) != 0 {
                    p += 1;
                }
            }
            vector.push(current);
        }
    }
}
