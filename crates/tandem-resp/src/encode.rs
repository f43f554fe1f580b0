//! Writing RESP2/RESP3 replies and commands into a `Vec<u8>`.
//!
//! Every function appends to `out` and never fails. Functions that differ between
//! protocol versions take a [`Proto`]; RESP2 renders RESP3-only types the way Redis does
//! (maps as flat arrays, null as `$-1`/`*-1`, doubles as bulk strings, booleans as 0/1).

use crate::Proto;

/// Appends the decimal form of `v` (no allocation).
pub fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[pos..]);
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

fn header(out: &mut Vec<u8>, tag: u8, n: usize) {
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

/// A bulk string holding the decimal form of `v`.
pub fn bulk_int(out: &mut Vec<u8>, v: i64) {
    let mut tmp = Vec::with_capacity(20);
    push_int(&mut tmp, v);
    bulk(out, &tmp);
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
    let text = format_double(v);
    match proto {
        Proto::Resp2 => bulk(out, text.as_bytes()),
        Proto::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
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
/// and `nan` spelled as Redis spells them.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const P: i32 = 17;
    // Scientific form with P significant digits gives the decimal exponent X.
    let sci = format!("{:.*e}", (P - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    let mut s = if !(-4..P).contains(&x) {
        let m = strip_zeros(mantissa);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", x.abs())
    } else {
        let decimals = (P - 1 - x).max(0) as usize;
        strip_zeros(&format!("{:.*}", decimals, v)).to_string()
    };
    if s == "-0" {
        s = "-0".into();
    }
    s
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
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
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    #[test]
    fn integers() {
        assert_eq!(enc(|o| int(o, 0)), b":0\r\n");
        assert_eq!(enc(|o| int(o, -42)), b":-42\r\n");
        assert_eq!(enc(|o| int(o, i64::MIN)), b":-9223372036854775808\r\n");
        assert_eq!(enc(|o| bulk_int(o, 123)), b"$3\r\n123\r\n");
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        assert_eq!(enc(|o| null(o, Proto::Resp2)), b"$-1\r\n");
        assert_eq!(enc(|o| null(o, Proto::Resp3)), b"_\r\n");
        assert_eq!(enc(|o| map(o, 2, Proto::Resp2)), b"*4\r\n");
        assert_eq!(enc(|o| map(o, 2, Proto::Resp3)), b"%2\r\n");
        assert_eq!(enc(|o| verbatim(o, b"a", Proto::Resp3)), b"=5\r\ntxt:a\r\n");
        assert_eq!(enc(|o| double(o, 1.5, Proto::Resp3)), b",1.5\r\n");
        assert_eq!(enc(|o| error(o, "ERR a\r\nb")), b"-ERR a  b\r\n");
    }

    #[test]
    fn doubles_match_printf_17g() {
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(100.0), "100");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(1e16), "10000000000000000");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_double(-2.5), "-2.5");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(3.0), "3");
    }

    #[test]
    fn human_floats() {
        assert_eq!(format_float_human(10.6), "10.6");
        assert_eq!(format_float_human(3.0), "3");
        assert_eq!(format_float_human(-0.0), "0");
        assert_eq!(format_float_human(1e20), "100000000000000000000");
    }
}
