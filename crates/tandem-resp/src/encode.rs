//! Writing RESP2/RESP3 replies and commands into a `Vec<u8>`.
//!
//! Every function appends to `out` and never fails. Functions that differ between
//! protocol versions take a [`Proto`]; RESP2 renders RESP3-only types the way Redis does
//! (maps as flat arrays, null as `$-1`/`*-1`, doubles as bulk strings, booleans as 0/1).

use crate::Proto;

/// Writes the decimal form of `v` at the end of `buf` and returns those digits (20 bytes
/// hold every `i64`, `-9223372036854775808` included).
pub fn format_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut pos = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

/// Appends the decimal form of `v` (no allocation).
pub fn push_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(format_i64(v, &mut [0u8; 20]));
}

/// Appends the decimal form of an unsigned `v`.
pub fn push_uint(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = v;
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[pos..]);
}

/// A type byte, a length and CRLF.
pub(crate) fn header(out: &mut Vec<u8>, tag: u8, n: usize) {
    out.push(tag);
    push_uint(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

/// `+OK\r\n`.
pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

/// A simple string `+s\r\n`. `s` must not contain CR or LF.
pub fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// An error `-msg\r\n`; `msg` starts with its code (`ERR ...`, `WRONGTYPE ...`).
/// CR and LF inside `msg` are replaced by spaces, as Redis does.
pub fn error(out: &mut Vec<u8>, msg: &str) {
    out.push(b'-');
    out.extend(
        msg.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// An integer `:v\r\n`.
pub fn int(out: &mut Vec<u8>, v: i64) {
    out.push(b':');
    push_int(out, v);
    out.extend_from_slice(b"\r\n");
}

/// A bulk string `$len\r\ndata\r\n`.
pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    header(out, b'$', data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// A bulk string holding the decimal form of `v` (no allocation).
pub fn bulk_int(out: &mut Vec<u8>, v: i64) {
    bulk(out, format_i64(v, &mut [0u8; 20]));
}

/// The null bulk string: `$-1\r\n` (RESP2) or `_\r\n` (RESP3).
pub fn null(out: &mut Vec<u8>, proto: Proto) {
    match proto {
        Proto::Resp2 => out.extend_from_slice(b"$-1\r\n"),
        Proto::Resp3 => out.extend_from_slice(b"_\r\n"),
    }
}

/// The null array: `*-1\r\n` (RESP2) or `_\r\n` (RESP3).
pub fn null_array(out: &mut Vec<u8>, proto: Proto) {
    match proto {
        Proto::Resp2 => out.extend_from_slice(b"*-1\r\n"),
        Proto::Resp3 => out.extend_from_slice(b"_\r\n"),
    }
}

/// An array header `*n\r\n`; the caller appends `n` elements.
pub fn array(out: &mut Vec<u8>, n: usize) {
    header(out, b'*', n);
}

/// A map header of `n` pairs: `%n` (RESP3) or `*2n` (RESP2).
pub fn map(out: &mut Vec<u8>, n: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', n * 2),
        Proto::Resp3 => header(out, b'%', n),
    }
}

/// A set header: `~n` (RESP3) or `*n` (RESP2).
pub fn set(out: &mut Vec<u8>, n: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', n),
        Proto::Resp3 => header(out, b'~', n),
    }
}

/// An out-of-band push header (pub/sub messages): `>n` (RESP3) or `*n` (RESP2).
pub fn push(out: &mut Vec<u8>, n: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', n),
        Proto::Resp3 => header(out, b'>', n),
    }
}

/// A boolean: `#t`/`#f` (RESP3) or `:1`/`:0` (RESP2).
pub fn boolean(out: &mut Vec<u8>, v: bool, proto: Proto) {
    match proto {
        Proto::Resp2 => int(out, i64::from(v)),
        Proto::Resp3 => out.extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
    }
}

/// A double as Redis 7.0 replies it (`%.17g`, `inf`, `-inf`): a `,` value in RESP3,
/// a bulk string in RESP2.
pub fn double(out: &mut Vec<u8>, v: f64, proto: Proto) {
    let mut text = StackBuf::new();
    write_double(&mut text, v);
    match proto {
        Proto::Resp2 => bulk(out, text.as_bytes()),
        Proto::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A big number (`DEBUG PROTOCOL bignum`): `(digits` in RESP3, a bulk string in RESP2.
/// `digits` is an optional `-` followed by decimal digits.
pub fn big_number(out: &mut Vec<u8>, digits: &[u8], proto: Proto) {
    match proto {
        Proto::Resp2 => bulk(out, digits),
        Proto::Resp3 => {
            out.push(b'(');
            out.extend_from_slice(digits);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// An attribute header of `n` pairs (`|n`), RESP3 only: the caller appends the pairs and
/// then the reply they annotate. RESP2 has no attributes; Redis sends only the reply.
pub fn attribute(out: &mut Vec<u8>, n: usize) {
    header(out, b'|', n);
}

/// Verbatim text (INFO, CLIENT LIST): `=len\r\ntxt:...` in RESP3, a bulk string in RESP2.
pub fn verbatim(out: &mut Vec<u8>, text: &[u8], proto: Proto) {
    match proto {
        Proto::Resp2 => bulk(out, text),
        Proto::Resp3 => {
            header(out, b'=', text.len() + 4);
            out.extend_from_slice(b"txt:");
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A whole command as a RESP array of bulk strings (what replication and the AOF carry).
pub fn command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    array(out, argv.len());
    for a in argv {
        bulk(out, a.as_ref());
    }
}

/// Formats a double as C's `%.17g` (Redis 7.0's `addReplyDouble`), with `inf`/`-inf`
/// spelled as Redis spells them and NaN as glibc prints it (`nan`, `-nan`).
pub fn format_double(v: f64) -> String {
    let mut b = StackBuf::new();
    write_double(&mut b, v);
    String::from_utf8_lossy(b.as_bytes()).into_owned()
}

/// `%.17g` into a stack buffer: `P` significant digits, exponent form when the decimal
/// exponent is below -4 or at least `P`, trailing zeros dropped.
fn write_double(out: &mut StackBuf, v: f64) {
    use std::fmt::Write;
    if v.is_nan() {
        out.extend(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if v.is_infinite() {
        out.extend(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if v == 0.0 {
        out.extend(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    const P: i32 = 17;
    // Scientific form with P significant digits, rounded as printf rounds (exactly),
    // gives the decimal exponent X.
    let mut sci = StackBuf::new();
    let _ = write!(sci, "{:.*e}", (P - 1) as usize, v);
    let sci = sci.as_bytes();
    let e = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = (&sci[..e], sci.get(e + 1..).unwrap_or(b"0"));
    let x = crate::parse_i64(exp).unwrap_or(0) as i32;
    if !(-4..P).contains(&x) {
        out.extend(strip_zeros(mantissa));
        out.extend(if x < 0 { b"e-" } else { b"e+" });
        if x.abs() < 10 {
            out.push(b'0');
        }
        let _ = write!(out, "{}", x.abs());
    } else {
        let mut fixed = StackBuf::new();
        let _ = write!(fixed, "{:.*}", (P - 1 - x) as usize, v);
        out.extend(strip_zeros(fixed.as_bytes()));
    }
}

/// Drops trailing zeros after a decimal point, and the point if nothing follows it.
fn strip_zeros(s: &[u8]) -> &[u8] {
    if !s.contains(&b'.') {
        return s;
    }
    let mut end = s.len();
    while end > 0 && s[end - 1] == b'0' {
        end -= 1;
    }
    if end > 0 && s[end - 1] == b'.' {
        end -= 1;
    }
    &s[..end]
}

/// A small text buffer on the stack, long enough for any number this module formats
/// (`{:.16e}` of an f64 is at most 24 bytes, `{:.20}` of one below 1e17 at most 39).
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }
    fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }
    /// Appends what fits; the sizes above make truncation impossible.
    fn extend(&mut self, s: &[u8]) {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > self.buf.len() - self.len {
            return Err(std::fmt::Error);
        }
        self.extend(s.as_bytes());
        Ok(())
    }
}

/// Formats a double the way `INCRBYFLOAT`/`HINCRBYFLOAT` store it: plain decimal
/// notation, no exponent, shortest form that reads back to the same value.
pub fn format_float_human(v: f64) -> String {
    let s = format!("{v}");
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
