//! RESP, the Redis serialization protocol, for tandem.
//!
//! This crate owns the bytes of the protocol and nothing else:
//!
//! * [`request`] parses client requests (multibulk and inline commands) from a byte
//!   buffer without copying bulk strings, reporting exactly how many bytes each request
//!   used. Replication offsets are counted in these bytes, so the count must be exact.
//! * [`encode`] writes replies and commands (RESP2 and RESP3) into a `Vec<u8>`.
//! * [`frame`] decodes any RESP2/RESP3 value, zero-copy over [`bytes::Bytes`]; it is
//!   what a client of a Redis server (a replica reading its master, a test) uses.
//!
//! `fuzzing` (hidden) holds the property checks that the fuzz targets in `fuzz/` run and
//! that `cargo test` replays over the committed corpus.
//!
//! Invariants: parsers never panic on any input, never allocate what the input merely
//! claims (a declared length is checked against the configured limit first), and
//! distinguish "incomplete, wait for more bytes" from "protocol error". Error texts are
//! Redis's own, byte for byte, because clients and test suites match on them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod encode;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod request;

pub use frame::{Frame, FrameError};
pub use request::{ProtocolError, Request, RequestLimits, RequestParser};

/// Which protocol version a connection speaks (`HELLO 2` / `HELLO 3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    /// RESP2, the default of every new connection.
    #[default]
    Resp2,
    /// RESP3, selected by `HELLO 3`.
    Resp3,
}

/// Parses a signed decimal integer exactly as Redis's `string2ll` does: optional `-`,
/// no `+`, no leading zeros (except `0` itself), no spaces, within `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn parse_i64_matches_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
        assert_eq!(parse_i64(b""), None);
        assert_eq!(parse_i64(b"-"), None);
    }
}
