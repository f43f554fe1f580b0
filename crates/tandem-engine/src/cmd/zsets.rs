//! The sorted set commands, as Redis 7.0.15 runs them: ZADD ZINCRBY ZREM ZCARD ZSCORE
//! ZMSCORE ZRANK ZREVRANK, the ZRANGE family (ZRANGE with BYSCORE/BYLEX/REV/LIMIT, the
//! legacy ZRANGEBYSCORE/ZREVRANGEBYSCORE/ZRANGEBYLEX/ZREVRANGEBYLEX/ZREVRANGE, ZRANGESTORE),
//! ZCOUNT ZLEXCOUNT, ZREMRANGEBYRANK/SCORE/LEX, the pops (ZPOPMIN ZPOPMAX ZMPOP and their
//! blocking forms BZPOPMIN BZPOPMAX BZMPOP), ZRANDMEMBER, the set operations (ZUNION ZINTER
//! ZDIFF, their STORE forms, ZINTERCARD; plain sets count as score 1) and ZSCAN.
//!
//! Argument checks happen in Redis's order, so the same bad command gets the same error.
//! Scores are parsed as Redis's `strtod` reads them ([`parse_score`]). Effects: every
//! command is propagated as received except the pops that Redis rewrites (ZMPOP and the
//! blocking pops become `ZPOPMIN`/`ZPOPMAX key [count]`). Every command that gives a key
//! members signals it ready for blocked BZPOP* clients.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use tandem_keyspace::glob::glob_match;
use tandem_keyspace::zset::{Change, LexBound, LexRange, ScoreRange, LISTPACK_MAX_ENTRIES};
use tandem_keyspace::{Guard, Object, Ttl, Value, ValueRef, ZSet};
use tandem_resp::encode::format_double;
use tandem_resp::Proto;

use crate::call::Call;
use crate::command::{flags::*, spec, CommandSpec, Keys};
use crate::error::{
    CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, POSITIVE, SYNTAX, TIMEOUT_FLOAT, TIMEOUT_NEGATIVE,
    WRONGTYPE,
};
use crate::reply::Reply;

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        Keys::range(1, 1, 1),
        zadd,
    ),
    spec(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        Keys::range(1, 1, 1),
        zincrby,
    ),
    spec("zrem", -3, WRITE | FAST, Keys::range(1, 1, 1), zrem),
    spec("zcard", 2, READONLY | FAST, Keys::range(1, 1, 1), zcard),
    spec("zscore", 3, READONLY | FAST, Keys::range(1, 1, 1), zscore),
    spec(
        "zmscore",
        -3,
        READONLY | FAST,
        Keys::range(1, 1, 1),
        zmscore,
    ),
    spec("zrank", 3, READONLY | FAST, Keys::range(1, 1, 1), zrank),
    spec(
        "zrevrank",
        3,
        READONLY | FAST,
        Keys::range(1, 1, 1),
        zrevrank,
    ),
    spec("zrange", -4, READONLY, Keys::range(1, 1, 1), zrange),
    spec(
        "zrangebyscore",
        -4,
        READONLY,
        Keys::range(1, 1, 1),
        zrangebyscore,
    ),
    spec(
        "zrevrangebyscore",
        -4,
        READONLY,
        Keys::range(1, 1, 1),
        zrevrangebyscore,
    ),
    spec(
        "zrangebylex",
        -4,
        READONLY,
        Keys::range(1, 1, 1),
        zrangebylex,
    ),
    spec(
        "zrevrangebylex",
        -4,
        READONLY,
        Keys::range(1, 1, 1),
        zrevrangebylex,
    ),
    spec("zrevrange", -4, READONLY, Keys::range(1, 1, 1), zrevrange),
    spec(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        Keys::range(1, 2, 1),
        zrangestore,
    ),
    spec("zcount", 4, READONLY | FAST, Keys::range(1, 1, 1), zcount),
    spec(
        "zlexcount",
        4,
        READONLY | FAST,
        Keys::range(1, 1, 1),
        zlexcount,
    ),
    spec(
        "zremrangebyrank",
        4,
        WRITE,
        Keys::range(1, 1, 1),
        zremrangebyrank,
    ),
    spec(
        "zremrangebyscore",
        4,
        WRITE,
        Keys::range(1, 1, 1),
        zremrangebyscore,
    ),
    spec(
        "zremrangebylex",
        4,
        WRITE,
        Keys::range(1, 1, 1),
        zremrangebylex,
    ),
    spec("zpopmin", -2, WRITE | FAST, Keys::range(1, 1, 1), zpopmin),
    spec("zpopmax", -2, WRITE | FAST, Keys::range(1, 1, 1), zpopmax),
    spec(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        Keys::range(1, -2, 1),
        bzpopmin,
    ),
    spec(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | BLOCKING | FAST,
        Keys::range(1, -2, 1),
        bzpopmax,
    ),
    spec(
        "zmpop",
        -4,
        WRITE,
        Keys::movable(zmpop_keys, 0, 0, 0),
        zmpop,
    ),
    spec(
        "bzmpop",
        -5,
        WRITE | BLOCKING,
        Keys::movable(bzmpop_keys, 0, 0, 0),
        bzmpop,
    ),
    spec(
        "zrandmember",
        -2,
        READONLY,
        Keys::range(1, 1, 1),
        zrandmember,
    ),
    spec(
        "zunion",
        -3,
        READONLY,
        Keys::movable(numkeys_at_1, 0, 0, 0),
        zunion,
    ),
    spec(
        "zinter",
        -3,
        READONLY,
        Keys::movable(numkeys_at_1, 0, 0, 0),
        zinter,
    ),
    spec(
        "zdiff",
        -3,
        READONLY,
        Keys::movable(numkeys_at_1, 0, 0, 0),
        zdiff,
    ),
    spec(
        "zintercard",
        -3,
        READONLY,
        Keys::movable(numkeys_at_1, 0, 0, 0),
        zintercard,
    ),
    spec(
        "zunionstore",
        -4,
        WRITE | DENYOOM,
        Keys::movable(store_keys, 1, 1, 1),
        zunionstore,
    ),
    spec(
        "zinterstore",
        -4,
        WRITE | DENYOOM,
        Keys::movable(store_keys, 1, 1, 1),
        zinterstore,
    ),
    spec(
        "zdiffstore",
        -4,
        WRITE | DENYOOM,
        Keys::movable(store_keys, 1, 1, 1),
        zdiffstore,
    ),
    spec("zscan", -3, READONLY, Keys::range(1, 1, 1), zscan),
];

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// What C's `strtod` makes of a byte string.
struct Strtod {
    value: f64,
    /// Bytes used; 0 when nothing could be converted.
    end: usize,
    /// The number is finite but too large (`ERANGE`, `HUGE_VAL`).
    overflow: bool,
    /// A non-zero number too small even for a subnormal (`ERANGE`, 0).
    underflow: bool,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// glibc's `strtod`: leading white space, sign, decimal or hexadecimal (`0x1.8p3`)
/// floats, `inf`/`infinity`, `nan`/`nan(...)`; correctly rounded.
fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        end: 0,
        overflow: false,
        underflow: false,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: sign(f64::INFINITY),
            end: i + n,
            ..none
        };
    }
    if starts_with_ci(rest, b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let mut k = end + 1;
            while k < s.len() && (s[k].is_ascii_alphanumeric() || s[k] == b'_') {
                k += 1;
            }
            if s.get(k) == Some(&b')') {
                end = k + 1;
            }
        }
        return Strtod {
            value: f64::NAN,
            end,
            ..none
        };
    }
    if starts_with_ci(rest, b"0x") {
        if let Some(r) = strtod_hex(s, i + 2, neg) {
            return r;
        }
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit.
    let start = i;
    let mut digits = 0;
    let mut nonzero = false;
    while i < s.len() && s[i].is_ascii_digit() {
        nonzero |= s[i] != b'0';
        digits += 1;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        let mut k = i + 1;
        while k < s.len() && s[k].is_ascii_digit() {
            nonzero |= s[k] != b'0';
            digits += 1;
            k += 1;
        }
        if digits > 0 {
            i = k;
        }
    }
    if digits == 0 {
        return none;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut k = i + 1;
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if s.get(k).is_some_and(|b| b.is_ascii_digit()) {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            i = k;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
    let v: f64 = text.parse().unwrap_or(0.0);
    Strtod {
        value: sign(v),
        end: i,
        overflow: v.is_infinite(),
        underflow: v == 0.0 && nonzero,
    }
}

/// The hexadecimal form after `0x` (at `i`); `None` if no hex digit follows, in which
/// case `strtod` reads just the `0`.
fn strtod_hex(s: &[u8], mut i: usize, neg: bool) -> Option<Strtod> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(u64::from);
    let mut m: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    while let Some(d) = hex(s.get(i)) {
        any = true;
        if m >> 60 == 0 {
            m = m * 16 + d;
        } else {
            exp += 4;
            sticky |= d != 0;
        }
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        let mut k = i + 1;
        let mut frac = false;
        while let Some(d) = hex(s.get(k)) {
            frac = true;
            if m >> 60 == 0 {
                m = m * 16 + d;
                exp -= 4;
            } else {
                sticky |= d != 0;
            }
            k += 1;
        }
        if any || frac {
            any = true;
            i = k;
        }
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut k = i + 1;
        let eneg = s.get(k) == Some(&b'-');
        if matches!(s.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if s.get(k).is_some_and(|b| b.is_ascii_digit()) {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + i64::from(s[k] - b'0')).min(1 << 40);
                k += 1;
            }
            exp += if eneg { -e } else { e };
            i = k;
        }
    }
    let (v, overflow, underflow) = compose_binary(m, exp, sticky);
    Some(Strtod {
        value: if neg { -v } else { v },
        end: i,
        overflow,
        underflow,
    })
}

/// `m * 2^exp` (plus a sticky bit below `m`) rounded to nearest even.
fn compose_binary(m: u64, exp: i64, sticky: bool) -> (f64, bool, bool) {
    if m == 0 {
        return (0.0, false, false);
    }
    let lz = m.leading_zeros();
    let m = m << lz;
    let top = exp - i64::from(lz) + 63; // value in [2^top, 2^(top+1))
    if top > 1023 {
        return (f64::INFINITY, true, false);
    }
    let shift: i64 = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    let wide = u128::from(m);
    let (mut mant, rem, half) = if shift >= 128 {
        (0u128, wide, u128::MAX)
    } else {
        let shift = shift as u32;
        (
            wide >> shift,
            wide & ((1u128 << shift) - 1),
            1u128 << (shift - 1),
        )
    };
    if rem > half || (rem == half && (sticky || mant & 1 == 1)) {
        mant += 1;
    }
    if top >= -1022 {
        let mut top = top;
        if mant == 1 << 53 {
            mant >>= 1;
            top += 1;
            if top > 1023 {
                return (f64::INFINITY, true, false);
            }
        }
        let bits = (((top + 1023) as u64) << 52) | (mant as u64 & ((1 << 52) - 1));
        (f64::from_bits(bits), false, false)
    } else {
        // Subnormal (a carry into bit 52 makes it the smallest normal, as it should).
        let v = f64::from_bits(mant as u64);
        (v, false, v == 0.0)
    }
}

/// A score or weight as Redis's `getDoubleFromObject` reads it: the whole string must be
/// a number, no leading space, no overflow or underflow to zero, not NaN.
pub(crate) fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let r = strtod(s);
    if r.end != s.len() || r.overflow || r.underflow || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// One end of a score range (`zslParseRange`): plain `strtod` up to the end of the C
/// string, `(` for exclusive; only NaN is refused (`""` reads as 0, as in Redis).
fn parse_range_end(s: &[u8]) -> Option<(f64, bool)> {
    let (ex, body) = match s.first() {
        Some(b'(') => (true, &s[1..]),
        _ => (false, s),
    };
    let r = strtod(body);
    if (r.end != body.len() && body[r.end] != 0) || r.value.is_nan() {
        return None;
    }
    Some((r.value, ex))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (parse_range_end(min), parse_range_end(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange {
            min,
            max,
            min_ex,
            max_ex,
        }),
        _ => Err(CmdError::fixed("ERR min or max is not a float")),
    }
}

fn parse_lex_end(s: &[u8]) -> Option<LexBound<'_>> {
    match s.first()? {
        b'+' if s.len() == 1 => Some(LexBound::Max),
        b'-' if s.len() == 1 => Some(LexBound::Min),
        b'(' => Some(LexBound::Excl(&s[1..])),
        b'[' => Some(LexBound::Incl(&s[1..])),
        _ => None,
    }
}

fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    match (parse_lex_end(min), parse_lex_end(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::fixed(
            "ERR min or max not valid string range item",
        )),
    }
}

/// A `long` in `min..=max`, or `err` (Redis's `getRangeLongFromObjectOrReply` with a
/// message: the same error for non-numbers).
fn ranged_long(s: &[u8], min: i64, max: i64, err: CmdError) -> Result<i64, CmdError> {
    match tandem_resp::parse_i64(s) {
        Some(v) if v >= min && v <= max => Ok(v),
        _ => Err(err),
    }
}

/// A blocking command's timeout in seconds (fractions allowed) as a deadline in unix
/// ms; `None` blocks forever.
fn parse_timeout(s: &[u8], now_ms: u64) -> Result<Option<u64>, CmdError> {
    if s.is_empty() || is_c_space(s[0]) {
        return Err(TIMEOUT_FLOAT);
    }
    // Redis reads a long double: what overflows or underflows a double still parses.
    let r = strtod(s);
    if r.end != s.len() || r.value.is_nan() {
        return Err(TIMEOUT_FLOAT);
    }
    let ms = r.value * 1000.0;
    // `(long long)` of an out-of-range value is LLONG_MIN on the platforms Redis runs on.
    let tval = if ms.is_finite() && ms.abs() < 9.223_372_036_854_775e18 {
        ms.trunc() as i64
    } else {
        i64::MIN
    };
    if tval < 0 {
        return Err(TIMEOUT_NEGATIVE);
    }
    if tval == 0 {
        return Ok(None);
    }
    let now = now_ms as i64;
    if tval > i64::MAX - now {
        return Err(CmdError::fixed("ERR timeout is out of range"));
    }
    Ok(Some((now + tval) as u64))
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The sorted set at `key` for reading (counts a keyspace hit or miss).
fn zget<'g>(ks: &'g mut Guard<'_>, db: usize, key: &[u8]) -> Result<Option<&'g ZSet>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::ZSet(z))) => Ok(Some(z)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// The sorted set at `key`, looked up the way writes do (no hit/miss counted).
fn zpeek<'g>(ks: &'g mut Guard<'_>, db: usize, key: &[u8]) -> Result<Option<&'g ZSet>, CmdError> {
    match ks.peek(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::ZSet(z))) => Ok(Some(z)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Runs `f` on the existing sorted set at `key` (the type must have been checked).
fn zupdate<R>(c: &mut Call<'_, '_>, key: &[u8], f: impl FnOnce(&mut ZSet) -> R) -> Option<R> {
    let mut f = Some(f);
    c.ks.update(c.db, key, |o| match o {
        Object::ZSet(z) => f.take().map(|f| f(z)),
        _ => None,
    })
    .flatten()
}

fn resp3(out: &Reply<'_>) -> bool {
    out.proto() == Proto::Resp3
}

/// Writes members, with scores if asked: RESP2 flat `member score ...`, RESP3
/// `[member, score]` pairs.
fn reply_members<'a>(
    out: &mut Reply<'_>,
    items: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
    withscores: bool,
) {
    let n = items.len();
    let nested = withscores && resp3(out);
    out.array(if withscores && !nested { n * 2 } else { n });
    for (m, s) in items {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}

/// Replaces `dst` with `z` (or deletes it when `z` is empty) and replies with the size,
/// as the STORE commands do.
fn store_result(c: &mut Call<'_, '_>, dst: &[u8], z: ZSet) {
    let n = z.len();
    if n > 0 {
        c.ks.set(c.db, dst, Value::Obj(Object::ZSet(z)), Ttl::Clear);
        c.changed(1);
        c.signal_ready(c.db, dst);
    } else if c.ks.delete(c.db, dst) {
        c.changed(1);
    }
    c.out.int(n as i64);
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
        seed | 1
    });
}

/// A uniformly distributed number below `n` (> 0); xorshift64*, seeded per thread.
fn random_below(n: usize) -> usize {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((u128::from(v) * n as u128) >> 64) as usize
    })
}

// ---------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM
// ---------------------------------------------------------------------------------------

fn zadd(c: &mut Call<'_, '_>) -> CmdResult {
    zadd_generic(c, false)
}

fn zincrby(c: &mut Call<'_, '_>) -> CmdResult {
    zadd_generic(c, true)
}

#[derive(Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

impl AddFlags {
    /// `zsetAdd`'s decision for one element: the new score, or `None` for no-op. `Err`
    /// when an increment gives NaN.
    fn apply(&self, cur: Option<f64>, score: f64) -> Result<Option<f64>, ()> {
        match cur {
            None => Ok(if self.xx { None } else { Some(score) }),
            Some(_) if self.nx => Ok(None),
            Some(cur) => {
                let mut s = score;
                if self.incr {
                    s += cur;
                    if s.is_nan() {
                        return Err(());
                    }
                }
                if (self.lt && s >= cur) || (self.gt && s <= cur) {
                    return Ok(None);
                }
                Ok(Some(s))
            }
        }
    }
}

const NAN_SCORE: CmdError = CmdError::fixed("ERR resulting score is not a number (NaN)");

fn zadd_generic(c: &mut Call<'_, '_>, incr_cmd: bool) -> CmdResult {
    let argv = c.argv;
    let key = argv[1];
    let mut fl = AddFlags {
        nx: false,
        xx: false,
        gt: false,
        lt: false,
        incr: incr_cmd,
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < argv.len() {
        let o = argv[idx];
        if o.eq_ignore_ascii_case(b"nx") {
            fl.nx = true;
        } else if o.eq_ignore_ascii_case(b"xx") {
            fl.xx = true;
        } else if o.eq_ignore_ascii_case(b"ch") {
            ch = true;
        } else if o.eq_ignore_ascii_case(b"incr") {
            fl.incr = true;
        } else if o.eq_ignore_ascii_case(b"gt") {
            fl.gt = true;
        } else if o.eq_ignore_ascii_case(b"lt") {
            fl.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = argv.len() - idx;
    if !rest.is_multiple_of(2) || rest == 0 {
        return Err(SYNTAX);
    }
    if fl.nx && fl.xx {
        return Err(CmdError::fixed(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (fl.nx && (fl.gt || fl.lt)) || (fl.gt && fl.lt) {
        return Err(CmdError::fixed(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if fl.incr && rest > 2 {
        return Err(CmdError::fixed(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest / 2);
    for p in argv[idx..].chunks_exact(2) {
        pairs.push((parse_score(p[0]).ok_or(NOT_FLOAT)?, p[1]));
    }

    let reply = |out: &mut Reply<'_>, added: usize, updated: usize, score: Option<f64>| {
        if fl.incr {
            match score {
                Some(s) => out.double(s),
                None => out.null(),
            }
        } else {
            out.int((if ch { added + updated } else { added }) as i64);
        }
    };

    let existing = zpeek(c.ks, c.db, key)?;
    let Some(z) = existing else {
        if fl.xx {
            reply(&mut c.out, 0, 0, None);
            return Ok(());
        }
        // A new key: every path adds at least the first member.
        let mut z = ZSet::new();
        let (mut added, mut updated, mut last) = (0, 0, None);
        for &(score, member) in &pairs {
            let mut res = Ok(None);
            let change = z.upsert(member, |cur| {
                res = fl.apply(cur, score);
                res.ok().flatten()
            });
            match change {
                Change::Added => added += 1,
                Change::Updated => updated += 1,
                Change::Unchanged => {}
            }
            if let Ok(Some(s)) = res {
                last = Some(s);
            }
        }
        c.ks.set(c.db, key, Value::Obj(Object::ZSet(z)), Ttl::Clear);
        c.changed((added + updated) as u64);
        c.signal_ready(c.db, key);
        reply(&mut c.out, added, updated, last);
        return Ok(());
    };

    // Decide on the unchanged set whether anything will change: the first element that
    // changes the set sees it unchanged, so this is exact. An untouched key is neither
    // rewritten nor marked modified for WATCH.
    let mut will_change = false;
    let mut single = None;
    for &(score, member) in &pairs {
        let cur = z.score(member);
        match fl.apply(cur, score) {
            Err(()) => return Err(NAN_SCORE),
            Ok(Some(s)) => {
                single = Some(s);
                if cur != Some(s) {
                    will_change = true;
                }
            }
            Ok(None) => {}
        }
    }
    if !will_change {
        reply(&mut c.out, 0, 0, single);
        return Ok(());
    }
    let (added, updated, last) = zupdate(c, key, |z| {
        let (mut added, mut updated, mut last) = (0, 0, None);
        for &(score, member) in &pairs {
            let mut res = Ok(None);
            let change = z.upsert(member, |cur| {
                res = fl.apply(cur, score);
                res.ok().flatten()
            });
            match change {
                Change::Added => added += 1,
                Change::Updated => updated += 1,
                Change::Unchanged => {}
            }
            if let Ok(Some(s)) = res {
                last = Some(s);
            }
        }
        (added, updated, last)
    })
    .unwrap_or((0, 0, None));
    c.changed((added + updated) as u64);
    if added > 0 {
        c.signal_ready(c.db, key);
    }
    reply(&mut c.out, added, updated, last);
    Ok(())
}

fn zrem(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let key = argv[1];
    let Some(z) = zpeek(c.ks, c.db, key)? else {
        c.out.int(0);
        return Ok(());
    };
    if !argv[2..].iter().any(|m| z.contains(m)) {
        c.out.int(0);
        return Ok(());
    }
    let deleted =
        zupdate(c, key, |z| argv[2..].iter().filter(|m| z.remove(m)).count()).unwrap_or(0);
    c.changed(deleted as u64);
    c.out.int(deleted as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Point reads
// ---------------------------------------------------------------------------------------

fn zcard(c: &mut Call<'_, '_>) -> CmdResult {
    let n = zget(c.ks, c.db, c.argv[1])?.map_or(0, |z| z.len());
    c.out.int(n as i64);
    Ok(())
}

fn zscore(c: &mut Call<'_, '_>) -> CmdResult {
    match zget(c.ks, c.db, c.argv[1])?.and_then(|z| z.score(c.argv[2])) {
        Some(s) => c.out.double(s),
        None => c.out.null(),
    }
    Ok(())
}

fn zmscore(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let z = zget(c.ks, c.db, argv[1])?;
    c.out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => c.out.double(s),
            None => c.out.null(),
        }
    }
    Ok(())
}

fn zrank(c: &mut Call<'_, '_>) -> CmdResult {
    zrank_generic(c, false)
}

fn zrevrank(c: &mut Call<'_, '_>) -> CmdResult {
    zrank_generic(c, true)
}

fn zrank_generic(c: &mut Call<'_, '_>, reverse: bool) -> CmdResult {
    let z = zget(c.ks, c.db, c.argv[1])?;
    match z.and_then(|z| z.rank(c.argv[2]).map(|r| (r, z.len()))) {
        Some((r, n)) => c.out.int(if reverse { n - 1 - r } else { r } as i64),
        None => c.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The ZRANGE family
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

fn zrange(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Auto, None)
}
fn zrangestore(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 2, true, RangeType::Auto, None)
}
fn zrevrange(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Rank, Some(true))
}
fn zrangebyscore(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Score, Some(false))
}
fn zrevrangebyscore(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Score, Some(true))
}
fn zrangebylex(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Lex, Some(false))
}
fn zrevrangebylex(c: &mut Call<'_, '_>) -> CmdResult {
    zrange_generic(c, 1, false, RangeType::Lex, Some(true))
}

/// Ranks `a..b` (ascending) selected by OFFSET/LIMIT from the in-range ranks `lo..hi`,
/// walked from the top when `reverse`. A negative offset selects nothing and a negative
/// limit means no limit, as Redis's loops behave.
fn apply_limit(lo: usize, hi: usize, offset: i64, limit: i64, reverse: bool) -> (usize, usize) {
    let avail = hi - lo;
    if offset < 0 || offset as u64 >= avail as u64 {
        return (lo, lo);
    }
    let off = offset as usize;
    let mut n = avail - off;
    if limit >= 0 && (limit as u64) < n as u64 {
        n = limit as usize;
    }
    if reverse {
        (hi - off - n, hi - off)
    } else {
        (lo + off, lo + off + n)
    }
}

/// Rank `start`/`end` arguments (negative from the end) clamped as Redis does; `None`
/// when the range is empty.
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

fn zrange_generic(
    c: &mut Call<'_, '_>,
    first: usize,
    store: bool,
    mut rtype: RangeType,
    direction: Option<bool>,
) -> CmdResult {
    let argv = c.argv;
    let key = argv[first];
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut reverse = direction;
    let mut j = first + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let o = argv[j];
        if !store && o.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if o.eq_ignore_ascii_case(b"limit") && left >= 2 {
            offset = c.int_arg(j + 1)?;
            limit = c.int_arg(j + 2)?;
            j += 2;
        } else if reverse.is_none() && o.eq_ignore_ascii_case(b"rev") {
            reverse = Some(true);
        } else if rtype == RangeType::Auto && o.eq_ignore_ascii_case(b"bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && o.eq_ignore_ascii_case(b"byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let reverse = reverse.unwrap_or(false);
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if limit != -1 && rtype == RangeType::Rank {
        return Err(CmdError::fixed(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rtype == RangeType::Lex {
        return Err(CmdError::fixed(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut minarg, mut maxarg) = (argv[first + 1], argv[first + 2]);
    if reverse && rtype != RangeType::Rank {
        std::mem::swap(&mut minarg, &mut maxarg);
    }
    enum Spec<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let spec = match rtype {
        RangeType::Score => Spec::Score(parse_score_range(minarg, maxarg)?),
        RangeType::Lex => Spec::Lex(parse_lex_range(minarg, maxarg)?),
        _ => {
            let s = c.int_arg(first + 1)?;
            let e = c.int_arg(first + 2)?;
            Spec::Rank(s, e)
        }
    };
    let Some(z) = zget(c.ks, c.db, key)? else {
        if store {
            store_result(c, argv[1], ZSet::new());
        } else {
            c.out.array(0);
        }
        return Ok(());
    };
    let (a, b) = match spec {
        Spec::Rank(s, e) => match clamp_ranks(s, e, z.len()) {
            None => (0, 0),
            Some((s, e)) if reverse => (z.len() - 1 - e, z.len() - s),
            Some((s, e)) => (s, e + 1),
        },
        Spec::Score(r) => {
            let (lo, hi) = z.score_ranks(&r);
            apply_limit(lo, hi, offset, limit, reverse)
        }
        Spec::Lex(r) => {
            let (lo, hi) = z.lex_ranks(&r, reverse);
            apply_limit(lo, hi, offset, limit, reverse)
        }
    };
    let items = z.range(a, b);
    if store {
        // Redis sizes the destination by the rank range's length, when it knows it.
        let mut out = if matches!(spec, Spec::Rank(..)) && b - a > LISTPACK_MAX_ENTRIES {
            ZSet::new_skiplist()
        } else {
            ZSet::new()
        };
        for (m, s) in items {
            out.insert(m, s);
        }
        store_result(c, argv[1], out);
    } else if reverse {
        reply_members(&mut c.out, items.rev(), withscores);
    } else {
        reply_members(&mut c.out, items, withscores);
    }
    Ok(())
}

fn zcount(c: &mut Call<'_, '_>) -> CmdResult {
    let r = parse_score_range(c.argv[2], c.argv[3])?;
    let n = zget(c.ks, c.db, c.argv[1])?.map_or(0, |z| z.count_in_score_range(&r));
    c.out.int(n as i64);
    Ok(())
}

fn zlexcount(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let r = parse_lex_range(argv[2], argv[3])?;
    let n = zget(c.ks, c.db, argv[1])?.map_or(0, |z| z.count_in_lex_range(&r));
    c.out.int(n as i64);
    Ok(())
}

fn zremrangebyrank(c: &mut Call<'_, '_>) -> CmdResult {
    let start = c.int_arg(2)?;
    let end = c.int_arg(3)?;
    zremrange(c, |z| match clamp_ranks(start, end, z.len()) {
        Some((s, e)) => (s, e + 1),
        None => (0, 0),
    })
}

fn zremrangebyscore(c: &mut Call<'_, '_>) -> CmdResult {
    let r = parse_score_range(c.argv[2], c.argv[3])?;
    zremrange(c, |z| z.score_ranks(&r))
}

fn zremrangebylex(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let r = parse_lex_range(argv[2], argv[3])?;
    zremrange(c, |z| z.lex_ranks(&r, false))
}

fn zremrange(c: &mut Call<'_, '_>, ranks: impl Fn(&ZSet) -> (usize, usize)) -> CmdResult {
    let key = c.argv[1];
    let Some(z) = zpeek(c.ks, c.db, key)? else {
        c.out.int(0);
        return Ok(());
    };
    let (a, b) = ranks(z);
    if a >= b {
        c.out.int(0);
        return Ok(());
    }
    let n = zupdate(c, key, |z| z.remove_range(a, b)).unwrap_or(0);
    c.changed(n as u64);
    c.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------------------

/// How a pop reply is shaped (Redis's `genericZpopCommand` flags).
#[derive(Clone, Copy)]
struct PopShape {
    /// Lead with the key name (BZPOP*, *MPOP).
    emit_key: bool,
    /// `[member, score]` pairs instead of a flat list.
    nested: bool,
}

/// Pops up to `count` members from the zset at `key` (which exists) and writes the
/// reply; returns how many were popped.
fn pop_and_reply(
    c: &mut Call<'_, '_>,
    key: &[u8],
    max: bool,
    count: usize,
    shape: PopShape,
) -> usize {
    let popped = zupdate(c, key, |z| {
        let n = count.min(z.len());
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let p = if max { z.pop_max() } else { z.pop_min() };
            if let Some(p) = p {
                v.push(p);
            }
        }
        v
    })
    .unwrap_or_default();
    let n = popped.len();
    let out = &mut c.out;
    match (shape.nested, shape.emit_key) {
        (false, false) => out.array(n * 2),
        (true, false) => out.array(n),
        (false, true) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    for (m, s) in &popped {
        if shape.nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
    n
}

fn zpopmin(c: &mut Call<'_, '_>) -> CmdResult {
    zpop_generic(c, false)
}

fn zpopmax(c: &mut Call<'_, '_>) -> CmdResult {
    zpop_generic(c, true)
}

fn zpop_generic(c: &mut Call<'_, '_>, max: bool) -> CmdResult {
    if c.argc() > 3 {
        return Err(SYNTAX);
    }
    let count = if c.argc() == 3 {
        Some(ranged_long(c.argv[2], 0, i64::MAX, POSITIVE)?)
    } else {
        None
    };
    let key = c.argv[1];
    let len = zpeek(c.ks, c.db, key)?.map_or(0, |z| z.len());
    if len == 0 || count == Some(0) {
        c.out.array(0);
        return Ok(());
    }
    let shape = PopShape {
        emit_key: false,
        nested: resp3(&c.out) && count.is_some(),
    };
    let n = pop_and_reply(c, key, max, count.unwrap_or(1) as usize, shape);
    c.changed(n as u64);
    Ok(())
}

fn bzpopmin(c: &mut Call<'_, '_>) -> CmdResult {
    bzpop_generic(c, false)
}

fn bzpopmax(c: &mut Call<'_, '_>) -> CmdResult {
    bzpop_generic(c, true)
}

fn pop_name(max: bool) -> &'static [u8] {
    if max {
        b"ZPOPMAX"
    } else {
        b"ZPOPMIN"
    }
}

/// The first of `keys` holding a sorted set (a wrong type is an error).
fn first_nonempty(c: &mut Call<'_, '_>, keys: &[&[u8]]) -> Result<Option<usize>, CmdError> {
    for (i, k) in keys.iter().enumerate() {
        if zpeek(c.ks, c.db, k)?.is_some_and(|z| !z.is_empty()) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Blocks on `keys`, or answers a null array where blocking is not allowed (EXEC).
fn block_on(c: &mut Call<'_, '_>, keys: &[&[u8]], deadline: Option<u64>) -> CmdResult {
    if c.in_exec {
        c.out.null_array();
        return Ok(());
    }
    let keys = keys.iter().map(|k| (c.db, Box::<[u8]>::from(*k))).collect();
    c.block(keys, deadline)
}

fn bzpop_generic(c: &mut Call<'_, '_>, max: bool) -> CmdResult {
    let argv = c.argv;
    let deadline = parse_timeout(argv[argv.len() - 1], c.now_ms)?;
    let keys = &argv[1..argv.len() - 1];
    match first_nonempty(c, keys)? {
        Some(i) => {
            let key = keys[i];
            let shape = PopShape {
                emit_key: true,
                nested: false,
            };
            pop_and_reply(c, key, max, 1, shape);
            c.propagate_as(&[pop_name(max), key]);
            Ok(())
        }
        None => block_on(c, keys, deadline),
    }
}

/// Parsed `numkeys key... MIN|MAX [COUNT n]` (from `numkeys_idx`).
fn parse_mpop(argv: &[&[u8]], numkeys_idx: usize) -> Result<(usize, bool, usize), CmdError> {
    let numkeys = ranged_long(
        argv[numkeys_idx],
        1,
        i64::MAX,
        CmdError::fixed("ERR numkeys should be greater than 0"),
    )?;
    let where_idx = (numkeys_idx as u64).saturating_add(numkeys as u64) + 1;
    if where_idx >= argv.len() as u64 {
        return Err(SYNTAX);
    }
    let where_idx = where_idx as usize;
    let max = if argv[where_idx].eq_ignore_ascii_case(b"min") {
        false
    } else if argv[where_idx].eq_ignore_ascii_case(b"max") {
        true
    } else {
        return Err(SYNTAX);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && more > 0 {
            j += 1;
            count = Some(ranged_long(
                argv[j],
                1,
                i64::MAX,
                CmdError::fixed("ERR count should be greater than 0"),
            )?);
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok((numkeys as usize, max, count.unwrap_or(1) as usize))
}

fn mpop_serve(c: &mut Call<'_, '_>, key: &[u8], max: bool, count: usize) {
    let len = zpeek(c.ks, c.db, key).ok().flatten().map_or(0, |z| z.len());
    let shape = PopShape {
        emit_key: true,
        nested: true,
    };
    pop_and_reply(c, key, max, count, shape);
    let n = count.min(len).to_string();
    c.propagate_as(&[pop_name(max), key, n.as_bytes()]);
}

fn zmpop(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let (numkeys, max, count) = parse_mpop(argv, 1)?;
    let keys = &argv[2..2 + numkeys];
    match first_nonempty(c, keys)? {
        Some(i) => mpop_serve(c, keys[i], max, count),
        None => c.out.null_array(),
    }
    Ok(())
}

fn bzmpop(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let (numkeys, max, count) = parse_mpop(argv, 2)?;
    let deadline = parse_timeout(argv[1], c.now_ms)?;
    let keys = &argv[3..3 + numkeys];
    match first_nonempty(c, keys)? {
        Some(i) => {
            mpop_serve(c, keys[i], max, count);
            Ok(())
        }
        None => block_on(c, keys, deadline),
    }
}

/// Keys of `... numkeys key...` where `numkeys` is at `idx`, when it is a count the
/// arguments can hold (otherwise the command fails before touching any key).
fn numkeys_keys(argv: &[&[u8]], idx: usize, db: usize, out: &mut Vec<(usize, usize)>) {
    let Some(n) = argv.get(idx).and_then(|a| tandem_resp::parse_i64(a)) else {
        return;
    };
    if n >= 1 && (n as u64) < (argv.len() - idx) as u64 {
        out.extend((idx + 1..=idx + n as usize).map(|i| (db, i)));
    }
}

fn zmpop_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 1, db, out);
}

fn bzmpop_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 2, db, out);
}

fn numkeys_at_1(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 1, db, out);
}

fn store_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    out.push((db, 1));
    numkeys_keys(argv, 2, db, out);
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------

fn zrandmember(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    if argv.len() == 2 {
        match zget(c.ks, c.db, argv[1])? {
            Some(z) => {
                let (m, _) = z.get_unordered(random_below(z.len())).unwrap_or((b"", 0.0));
                c.out.bulk(m);
            }
            None => c.out.null(),
        }
        return Ok(());
    }
    let l = match tandem_resp::parse_i64(argv[2]) {
        None => return Err(NOT_INTEGER),
        Some(i64::MIN) => {
            return Err(CmdError::fixed(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ))
        }
        Some(v) => v,
    };
    if argv.len() > 4 || (argv.len() == 4 && !argv[3].eq_ignore_ascii_case(b"withscores")) {
        return Err(SYNTAX);
    }
    let withscores = argv.len() == 4;
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::fixed("ERR value is out of range"));
    }
    let Some(z) = zget(c.ks, c.db, argv[1])? else {
        c.out.array(0);
        return Ok(());
    };
    let out = &mut c.out;
    let nested = withscores && resp3(out);
    let emit = |out: &mut Reply<'_>, (m, s): (&[u8], f64)| {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    let header = |out: &mut Reply<'_>, n: usize| {
        out.array(if withscores && !nested { n * 2 } else { n });
    };
    let size = z.len();
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if !uniq || count == 1 {
        // With repetition: `count` independent draws.
        header(out, count as usize);
        for _ in 0..count {
            emit(
                out,
                z.get_unordered(random_below(size)).unwrap_or((b"", 0.0)),
            );
        }
        return Ok(());
    }
    if count >= size as u64 {
        // Everything, walked from the highest score down as Redis iterates.
        header(out, size);
        for item in z.iter().rev() {
            emit(out, item);
        }
        return Ok(());
    }
    // `count` distinct members in random order.
    let count = count as usize;
    header(out, count);
    if count * 3 > size {
        // Many of them: a partial Fisher-Yates shuffle of the positions.
        let mut idx: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = i + random_below(size - i);
            idx.swap(i, j);
            emit(out, z.get_unordered(idx[i]).unwrap_or((b"", 0.0)));
        }
    } else {
        // Few of them: draw until enough distinct ones came up.
        let mut seen = HashSet::with_capacity(count);
        while seen.len() < count {
            let i = random_below(size);
            if seen.insert(i) {
                emit(out, z.get_unordered(i).unwrap_or((b"", 0.0)));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, target: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *target += v;
                // inf + -inf: Redis makes it 0.
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *target {
                    *target = v;
                }
            }
            Aggregate::Max => {
                if v > *target {
                    *target = v;
                }
            }
        }
    }
}

fn zunion(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, None, 1, SetOp::Union, false)
}
fn zinter(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, None, 1, SetOp::Inter, false)
}
fn zdiff(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, None, 1, SetOp::Diff, false)
}
fn zintercard(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, None, 1, SetOp::Inter, true)
}
fn zunionstore(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, Some(1), 2, SetOp::Union, false)
}
fn zinterstore(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, Some(1), 2, SetOp::Inter, false)
}
fn zdiffstore(c: &mut Call<'_, '_>) -> CmdResult {
    setop_generic(c, Some(1), 2, SetOp::Diff, false)
}

/// Visits the members of the sorted set or set at `key` (sets score 1).
fn for_each_member(ks: &mut Guard<'_>, db: usize, key: &[u8], mut f: impl FnMut(&[u8], f64)) {
    match ks.peek(db, key) {
        Some(ValueRef::Obj(Object::ZSet(z))) => z.iter().for_each(|(m, s)| f(m, s)),
        Some(ValueRef::Obj(Object::Set(s))) => s.iter().for_each(|m| f(&m, 1.0)),
        _ => {}
    }
}

/// The score of `member` in the sorted set or set at `key`.
fn lookup_member(ks: &mut Guard<'_>, db: usize, key: &[u8], member: &[u8]) -> Option<f64> {
    match ks.peek(db, key) {
        Some(ValueRef::Obj(Object::ZSet(z))) => z.score(member),
        Some(ValueRef::Obj(Object::Set(s))) => s.contains(member).then_some(1.0),
        _ => None,
    }
}

fn setop_generic(
    c: &mut Call<'_, '_>,
    dst: Option<usize>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let argv = c.argv;
    let setnum = c.int_arg(numkeys_idx)?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(argv[0]).to_ascii_lowercase();
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as u64 > (argv.len() - (numkeys_idx + 1)) as u64 {
        return Err(SYNTAX);
    }
    let setnum = setnum as usize;
    let keys = &argv[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    // Types and sizes first: a wrong type wins over any option error.
    let mut lens = Vec::with_capacity(setnum);
    for k in keys {
        let len = match c.ks.get(c.db, k) {
            None => 0,
            Some(ValueRef::Obj(Object::ZSet(z))) => z.len(),
            Some(ValueRef::Obj(Object::Set(s))) => s.len(),
            Some(_) => return Err(WRONGTYPE),
        };
        lens.push(len);
    }
    let mut weights = vec![1.0f64; setnum];
    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let o = argv[j];
        if op != SetOp::Diff
            && !card_only
            && remaining > setnum
            && o.eq_ignore_ascii_case(b"weights")
        {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_score(argv[j])
                    .ok_or(CmdError::fixed("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff
            && !card_only
            && remaining >= 2
            && o.eq_ignore_ascii_case(b"aggregate")
        {
            let a = argv[j + 1];
            aggregate = if a.eq_ignore_ascii_case(b"sum") {
                Aggregate::Sum
            } else if a.eq_ignore_ascii_case(b"min") {
                Aggregate::Min
            } else if a.eq_ignore_ascii_case(b"max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX);
            };
            j += 2;
        } else if dst.is_none() && !card_only && o.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && o.eq_ignore_ascii_case(b"limit") {
            limit = ranged_long(
                argv[j + 1],
                0,
                i64::MAX,
                CmdError::fixed("ERR LIMIT can't be negative"),
            )?;
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }

    // Sources by ascending size (stable, as glibc's qsort is here), except for DIFF.
    let mut order: Vec<usize> = (0..setnum).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let (db, ks) = (c.db, &mut *c.ks);
    let result: Vec<(Vec<u8>, f64)> = match op {
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            let mut firsts: Vec<Vec<u8>> = Vec::new();
            for &i in &order {
                let w = weights[i];
                for_each_member(ks, db, keys[i], |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate.apply(t, score),
                        None => {
                            acc.insert(m.to_vec(), score);
                            firsts.push(m.to_vec());
                        }
                    }
                });
            }
            firsts
                .into_iter()
                .map(|m| {
                    let s = acc.get(&m).copied().unwrap_or(0.0);
                    (m, s)
                })
                .collect()
        }
        SetOp::Inter => {
            let mut cand: Vec<(Vec<u8>, f64)> = Vec::new();
            if lens[order[0]] > 0 {
                let w = weights[order[0]];
                for_each_member(ks, db, keys[order[0]], |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    cand.push((m.to_vec(), score));
                });
                for &i in &order[1..] {
                    let w = weights[i];
                    cand.retain_mut(|(m, score)| match lookup_member(ks, db, keys[i], m) {
                        Some(v) => {
                            aggregate.apply(score, v * w);
                            true
                        }
                        None => false,
                    });
                    if cand.is_empty() {
                        break;
                    }
                }
            }
            cand
        }
        SetOp::Diff => {
            let mut cand: Vec<(Vec<u8>, f64)> = Vec::new();
            if lens[0] > 0 {
                for_each_member(ks, db, keys[0], |m, s| cand.push((m.to_vec(), s)));
                for i in 1..setnum {
                    if lens[i] == 0 {
                        continue;
                    }
                    cand.retain(|(m, _)| lookup_member(ks, db, keys[i], m).is_none());
                    if cand.is_empty() {
                        break;
                    }
                }
            }
            cand
        }
    };

    if card_only {
        let n = result.len() as i64;
        c.out.int(if limit > 0 { n.min(limit) } else { n });
        return Ok(());
    }
    // Built skiplist-encoded, and stored as a listpack if it fits, as Redis does (this
    // decides whether a -0 score survives).
    let mut z = ZSet::new_skiplist();
    for (m, s) in &result {
        z.insert(m, *s);
    }
    match dst {
        Some(d) => {
            z.convert_if_fits();
            store_result(c, argv[d], z)
        }
        None => reply_members(&mut c.out, z.iter(), withscores),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------

/// A SCAN cursor as Redis's `strtoul` check reads it.
fn parse_cursor(s: &[u8]) -> Option<u64> {
    if s.first().is_some_and(|b| is_c_space(*b)) {
        return None;
    }
    let mut i = 0;
    let neg = s.first() == Some(&b'-');
    if matches!(s.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let start = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add(u64::from(s[i] - b'0'))?;
        i += 1;
    }
    let end = if i == start { 0 } else { i };
    if end < s.len() && s[end] != 0 {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A score as ZSCAN shows it: a listpack holds integral scores (up to 2^62) as integers,
/// everything else in `%.17g`.
fn scan_score_text(s: f64, listpack: bool) -> String {
    const HALF: f64 = 4_611_686_018_427_387_904.0;
    if listpack && (-HALF..=HALF).contains(&s) && s == s.trunc() {
        (s as i64).to_string()
    } else {
        format_double(s)
    }
}

fn zscan(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let cursor = parse_cursor(argv[2]).ok_or(CmdError::fixed("ERR invalid cursor"))?;
    let Some(z) = zget(c.ks, c.db, argv[1])? else {
        c.out.array(2);
        c.out.bulk(b"0");
        c.out.array(0);
        return Ok(());
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let left = argv.len() - i;
        if argv[i].eq_ignore_ascii_case(b"count") && left >= 2 {
            count = tandem_resp::parse_i64(argv[i + 1]).ok_or(NOT_INTEGER)?;
            if count < 1 {
                return Err(SYNTAX);
            }
            i += 2;
        } else if argv[i].eq_ignore_ascii_case(b"match") && left >= 2 {
            pattern = Some(argv[i + 1]).filter(|p| *p != b"*");
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let listpack = z.encoding() == "listpack";
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = if listpack {
        found.extend(z.iter());
        0
    } else {
        let want = count as u64;
        let max_buckets = (count as u64).saturating_mul(10).saturating_add(1);
        z.scan(
            cursor,
            max_buckets.min(usize::MAX as u64) as usize,
            |m, s| {
                found.push((m, s));
                (found.len() as u64) * 2 < want
            },
        )
    };
    if let Some(p) = pattern {
        found.retain(|(m, _)| glob_match(p, m, false));
    }
    let out = &mut c.out;
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (m, s) in found {
        out.bulk(m);
        out.bulk(scan_score_text(s, listpack).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use tandem_resp::Frame;

    use super::*;
    use crate::testkit::{f::*, TestClient};
    use crate::Propagator;
    use tandem_keyspace::Kind;

    fn dbl(v: f64) -> Frame {
        Frame::Double(v)
    }

    fn with_key<R>(c: &TestClient, key: &str, f: impl FnOnce(&mut Guard<'_>, &[u8]) -> R) -> R {
        let now = crate::Clock::now_ms(&c.clock);
        let mut g = c.engine.shared().keyspace.lock_key(0, key.as_bytes(), now);
        f(&mut g, key.as_bytes())
    }

    fn exists(c: &TestClient, key: &str) -> i64 {
        with_key(c, key, |g, k| i64::from(g.exists(0, k)))
    }

    fn kind(c: &TestClient, key: &str) -> Option<Kind> {
        with_key(c, key, |g, k| g.peek(0, k).map(|v| v.kind()))
    }

    fn encoding(c: &TestClient, key: &str) -> &'static str {
        with_key(c, key, |g, k| match g.peek(0, k) {
            Some(ValueRef::Obj(o)) => o.encoding(),
            _ => "none",
        })
    }

    fn put_set(c: &TestClient, key: &str, members: &[&str]) {
        let mut s = tandem_keyspace::Set::new();
        for m in members {
            s.insert(m.as_bytes());
        }
        with_key(c, key, |g, k| {
            g.set(0, k, Value::Obj(Object::Set(s)), Ttl::Clear)
        });
    }

    fn resp3() -> TestClient {
        let mut c = TestClient::new();
        c.call(&["HELLO", "3"]);
        c
    }

    /// Collects propagated commands, one `Vec` of arguments each.
    #[derive(Default)]
    struct Log(Mutex<Vec<u8>>);

    impl Propagator for Log {
        fn propagate(&self, _db: usize, cmds: &[u8]) -> u64 {
            self.0.lock().unwrap().extend_from_slice(cmds);
            0
        }
    }

    impl Log {
        fn take(&self) -> Vec<Vec<String>> {
            let buf = Bytes::from(std::mem::take(&mut *self.0.lock().unwrap()));
            let mut out = Vec::new();
            let mut pos = 0;
            while pos < buf.len() {
                let (f, n) = Frame::decode(&buf.slice(pos..)).unwrap();
                pos += n;
                let Frame::Array(items) = f else { panic!() };
                out.push(
                    items
                        .into_iter()
                        .map(|i| match i {
                            Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                            _ => panic!(),
                        })
                        .collect(),
                );
            }
            out
        }
    }

    fn logged(c: &TestClient) -> Arc<Log> {
        let log = Arc::new(Log::default());
        c.engine.set_propagator(Some(log.clone()));
        log
    }

    fn cmd(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    const WT: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn strtod_like_redis() {
        assert_eq!(parse_score(b"1"), Some(1.0));
        assert_eq!(parse_score(b"-1.5e3"), Some(-1500.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"5."), Some(5.0));
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_score(b"0x.8"), Some(0.5));
        assert_eq!(parse_score(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(parse_score(b"0x1p-1075"), None);
        assert_eq!(parse_score(b"0x1p1024"), None);
        assert_eq!(parse_score(b"0x1.fffffffffffff8p0"), Some(2.0));
        assert_eq!(parse_score(b"4e-320"), Some(4e-320));
        assert_eq!(parse_score(b"0e99999999999999999999999"), Some(0.0));
        assert_eq!(parse_score(b"1e99999999999999999999999"), None);
        assert_eq!(parse_score(b"1e-99999999999999999999999"), None);
        let long = format!("0.{}1e700", "0".repeat(1000));
        assert_eq!(parse_score(long.as_bytes()), Some(1e-301));
        let long = format!("0.{}1e400", "0".repeat(1000));
        assert_eq!(parse_score(long.as_bytes()), None);
        assert_eq!(parse_score(b"0x1P+3"), Some(8.0));
        assert_eq!(
            parse_score(b"0x123456789abcdef123p0"),
            Some(3.358_127_276_707_303e20)
        );
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"x",
            b"nan",
            b"-nan",
            b"1e400",
            b"1e-400",
            b"1e",
            b"0x",
            b"1\x002",
            b".",
            b"--1",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_range_end(b""), Some((0.0, false)));
        assert_eq!(parse_range_end(b"("), Some((0.0, true)));
        assert_eq!(parse_range_end(b" 1"), Some((1.0, false)));
        assert_eq!(parse_range_end(b"(1e400"), Some((f64::INFINITY, true)));
        assert_eq!(parse_range_end(b"1 "), None);
        assert_eq!(parse_range_end(b"((1"), None);
        assert_eq!(parse_range_end(b"nan"), None);
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"x"), None);
        assert_eq!(parse_cursor(b"99999999999999999999"), None);
    }

    #[test]
    fn zadd_flags_and_replies() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
        assert_eq!(c.call(&["ZADD", "z", "1", "a", "3", "b", "4", "c"]), int(1));
        assert_eq!(c.call(&["ZADD", "z", "CH", "1", "a", "5", "b"]), int(1));
        assert_eq!(c.call(&["ZADD", "z", "NX", "9", "a", "9", "d"]), int(1));
        assert_eq!(c.call(&["ZSCORE", "z", "a"]), bulk("1"));
        assert_eq!(
            c.call(&["ZADD", "z", "XX", "CH", "7", "a", "7", "e"]),
            int(1)
        );
        assert_eq!(c.call(&["ZSCORE", "z", "e"]), nil());
        assert_eq!(
            c.call(&["ZADD", "z", "GT", "CH", "6", "a", "8", "a"]),
            int(1)
        );
        assert_eq!(c.call(&["ZSCORE", "z", "a"]), bulk("8"));
        assert_eq!(c.call(&["ZADD", "z", "LT", "CH", "9", "a"]), int(0));
        assert_eq!(
            c.call(&["ZADD", "z", "LT", "CH", "1", "a", "1", "new"]),
            int(2)
        );
        assert_eq!(c.call(&["ZADD", "z", "INCR", "2.5", "a"]), bulk("3.5"));
        assert_eq!(c.call(&["ZADD", "z", "INCR", "NX", "1", "a"]), nil());
        assert_eq!(c.call(&["ZADD", "z", "INCR", "XX", "1", "nosuch"]), nil());
        assert_eq!(c.call(&["ZADD", "z", "INCR", "GT", "-1", "a"]), nil());
        assert_eq!(c.call(&["ZADD", "z", "INCR", "0", "a"]), bulk("3.5"));
        assert_eq!(c.call(&["ZADD", "nokey", "XX", "1", "a"]), int(0));
        assert_eq!(exists(&c, "nokey"), 0);
        assert_eq!(c.call(&["ZADD", "nokey", "XX", "INCR", "1", "a"]), nil());
        assert_eq!(c.call(&["ZADD", "n2", "1", "a", "2", "a"]), int(1));
        assert_eq!(c.call(&["ZSCORE", "n2", "a"]), bulk("2"));
        assert_eq!(c.call(&["ZADD", "n3", "CH", "1", "a", "2", "a"]), int(2));
        assert_eq!(
            c.call(&["ZADD", "f", "1.1", "x", "-0", "y", "inf", "z"]),
            int(3)
        );
        assert_eq!(c.call(&["ZSCORE", "f", "x"]), bulk("1.1000000000000001"));
        assert_eq!(c.call(&["ZSCORE", "f", "y"]), bulk("0"));
        assert_eq!(c.call(&["ZSCORE", "f", "z"]), bulk("inf"));
        assert_eq!(
            c.call(&["ZADD", "f", "INCR", "-inf", "z"]),
            err("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(c.call(&["ZSCORE", "f", "z"]), bulk("inf"));
    }

    #[test]
    fn zadd_errors() {
        let mut c = TestClient::new();
        let e = |s| err(s);
        assert_eq!(
            c.call(&["ZADD", "z", "NX", "XX", "1", "a"]),
            e("ERR XX and NX options at the same time are not compatible")
        );
        for flags in [["GT", "LT"], ["GT", "NX"], ["NX", "LT"]] {
            assert_eq!(
                c.call(&["ZADD", "z", flags[0], flags[1], "1", "a"]),
                e("ERR GT, LT, and/or NX options at the same time are not compatible")
            );
        }
        assert_eq!(
            c.call(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            e("ERR INCR option supports a single increment-element pair")
        );
        assert_eq!(c.call(&["ZADD", "z", "1", "a", "2"]), e("ERR syntax error"));
        assert_eq!(
            c.call(&["ZADD", "z", "NX", "XX", "1"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZADD", "z", "1"]),
            e("ERR wrong number of arguments for 'zadd' command")
        );
        assert_eq!(
            c.call(&["ZADD", "z", "x", "a"]),
            e("ERR value is not a valid float")
        );
        assert_eq!(
            c.call(&["ZADD", "z", "nan", "a"]),
            e("ERR value is not a valid float")
        );
        assert_eq!(
            c.call(&["ZADD", "z", "1", "a", " 2", "b"]),
            e("ERR value is not a valid float")
        );
        assert_eq!(exists(&c, "z"), 0);
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZADD", "s", "1", "a"]), e(WT));
        assert_eq!(
            c.call(&["ZADD", "s", "x", "a"]),
            e("ERR value is not a valid float")
        );
    }

    #[test]
    fn zincrby() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["ZINCRBY", "z", "1.5", "a"]), bulk("1.5"));
        assert_eq!(c.call(&["ZINCRBY", "z", "-0.5", "a"]), bulk("1"));
        assert_eq!(
            c.call(&["ZINCRBY", "z", "x", "a"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            c.call(&["ZINCRBY", "z", "nx", "a"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZINCRBY", "z", "1"]),
            err("ERR wrong number of arguments for 'zincrby' command")
        );
        let mut r = resp3();
        assert_eq!(r.call(&["ZINCRBY", "z", "2", "a"]), dbl(2.0));
    }

    #[test]
    fn zrem_zcard_zscore_zmscore_zrank() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(c.call(&["ZCARD", "z"]), int(3));
        assert_eq!(c.call(&["ZCARD", "nokey"]), int(0));
        assert_eq!(c.call(&["ZRANK", "z", "c"]), int(2));
        assert_eq!(c.call(&["ZREVRANK", "z", "c"]), int(0));
        assert_eq!(c.call(&["ZRANK", "z", "x"]), nil());
        assert_eq!(c.call(&["ZRANK", "nokey", "x"]), nil());
        assert_eq!(
            c.call(&["ZMSCORE", "z", "a", "x", "c"]),
            arr(vec![bulk("1"), nil(), bulk("3")])
        );
        assert_eq!(c.call(&["ZMSCORE", "nokey", "a"]), arr(vec![nil()]));
        assert_eq!(c.call(&["ZSCORE", "nokey", "a"]), nil());
        assert_eq!(c.call(&["ZREM", "z", "a", "x", "a"]), int(1));
        assert_eq!(c.call(&["ZREM", "z", "x"]), int(0));
        assert_eq!(c.call(&["ZREM", "nokey", "x"]), int(0));
        assert_eq!(c.call(&["ZREM", "z", "b", "c", "d"]), int(2));
        assert_eq!(exists(&c, "z"), 0);
        c.call(&["SET", "s", "x"]);
        for args in [
            &["ZCARD", "s"][..],
            &["ZSCORE", "s", "a"],
            &["ZMSCORE", "s", "a"],
            &["ZRANK", "s", "a"],
            &["ZREVRANK", "s", "a"],
            &["ZREM", "s", "a"],
        ] {
            assert_eq!(c.call(args), err(WT), "{args:?}");
        }
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(r.call(&["ZSCORE", "z", "a"]), dbl(1.0));
        assert_eq!(
            r.call(&["ZMSCORE", "z", "a", "b"]),
            arr(vec![dbl(1.0), nil()])
        );
    }

    #[test]
    fn zrange_by_rank() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "-1"]),
            bulks(&["a", "b", "c", "d"])
        );
        assert_eq!(c.call(&["ZRANGE", "z", "-2", "-1"]), bulks(&["c", "d"]));
        assert_eq!(
            c.call(&["ZRANGE", "z", "-100", "100"]),
            bulks(&["a", "b", "c", "d"])
        );
        assert_eq!(c.call(&["ZRANGE", "z", "2", "1"]), bulks(&[]));
        assert_eq!(c.call(&["ZRANGE", "z", "4", "10"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "REV"]),
            bulks(&["d", "c"])
        );
        assert_eq!(c.call(&["ZREVRANGE", "z", "-2", "-1"]), bulks(&["b", "a"]));
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
            bulks(&["a", "1", "b", "2"])
        );
        assert_eq!(
            c.call(&["ZREVRANGE", "z", "0", "0", "WITHSCORES"]),
            bulks(&["d", "4"])
        );
        assert_eq!(c.call(&["ZRANGE", "nokey", "0", "-1"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZRANGE", "z", "x", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
            err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        );
        // LIMIT with a count of -1 is "no limit" and passes.
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"]),
            bulks(&["a", "b", "c", "d"])
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "REV", "REV"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZREVRANGE", "z", "0", "1", "REV"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "1", "LIMIT", "x", "1"]),
            err("ERR value is not an integer or out of range")
        );
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZRANGE", "s", "0", "1"]), err(WT));
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a", "2.5", "b"]);
        assert_eq!(
            r.call(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            arr(vec![
                arr(vec![bulk("a"), dbl(1.0)]),
                arr(vec![bulk("b"), dbl(2.5)])
            ])
        );
        assert_eq!(r.call(&["ZRANGE", "z", "0", "-1"]), bulks(&["a", "b"]));
        assert_eq!(r.call(&["ZRANGE", "nokey", "0", "-1"]), bulks(&[]));
    }

    #[test]
    fn zrange_by_score() {
        let mut c = TestClient::new();
        c.call(&[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "-inf", "m", "inf", "p",
        ]);
        let q = |c: &mut TestClient, a: &[&str]| c.call(a);
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "2", "3"]),
            bulks(&["b", "c"])
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "(2", "(4"]),
            bulks(&["c"])
        );
        assert_eq!(q(&mut c, &["ZRANGEBYSCORE", "z", "(2", "(2"]), bulks(&[]));
        assert_eq!(q(&mut c, &["ZRANGEBYSCORE", "z", "2", "2"]), bulks(&["b"]));
        assert_eq!(q(&mut c, &["ZRANGEBYSCORE", "z", "3", "2"]), bulks(&[]));
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "-inf", "+inf"]),
            bulks(&["m", "a", "b", "c", "d", "p"])
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "(-inf", "(inf"]).clone(),
            bulks(&["a", "b", "c", "d"])
        );
        assert_eq!(
            q(
                &mut c,
                &[
                    "ZRANGEBYSCORE",
                    "z",
                    "1",
                    "4",
                    "WITHSCORES",
                    "LIMIT",
                    "1",
                    "2"
                ]
            ),
            bulks(&["b", "2", "c", "3"])
        );
        assert_eq!(
            q(
                &mut c,
                &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "1", "-1"]
            ),
            bulks(&["b", "c", "d"])
        );
        assert_eq!(
            q(
                &mut c,
                &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "-1", "2"]
            ),
            bulks(&[])
        );
        assert_eq!(
            q(
                &mut c,
                &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "10", "2"]
            ),
            bulks(&[])
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "1", "4", "LIMIT", "0", "0"]),
            bulks(&[])
        );
        assert_eq!(
            q(&mut c, &["ZREVRANGEBYSCORE", "z", "3", "1"]),
            bulks(&["c", "b", "a"])
        );
        assert_eq!(
            q(
                &mut c,
                &[
                    "ZREVRANGEBYSCORE",
                    "z",
                    "(4",
                    "-inf",
                    "LIMIT",
                    "1",
                    "2",
                    "WITHSCORES"
                ]
            ),
            bulks(&["b", "2", "a", "1"])
        );
        assert_eq!(
            q(&mut c, &["ZRANGE", "z", "(1", "3", "BYSCORE"]),
            bulks(&["b", "c"])
        );
        assert_eq!(
            q(&mut c, &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"]),
            bulks(&["c", "b"])
        );
        assert_eq!(
            q(
                &mut c,
                &["ZRANGE", "z", "5", "1", "BYSCORE", "REV", "LIMIT", "0", "2"]
            ),
            bulks(&["d", "c"])
        );
        assert_eq!(q(&mut c, &["ZRANGEBYSCORE", "z", "", "1"]), bulks(&["a"]));
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "1", "((2"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "1", "2", "BYSCORE"]),
            err("ERR syntax error")
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "x", "2", "FOO"]),
            err("ERR syntax error")
        );
        assert_eq!(
            q(&mut c, &["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "0"]),
            err("ERR syntax error")
        );
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(
            r.call(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"]),
            arr(vec![
                arr(vec![bulk("a"), dbl(1.0)]),
                arr(vec![bulk("b"), dbl(2.0)])
            ])
        );
    }

    #[test]
    fn zrange_by_lex() {
        let mut c = TestClient::new();
        c.call(&[
            "ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
        ]);
        assert_eq!(
            c.call(&["ZRANGEBYLEX", "z", "-", "+"]),
            bulks(&["a", "b", "c", "d", "e"])
        );
        assert_eq!(
            c.call(&["ZRANGEBYLEX", "z", "(a", "[c"]),
            bulks(&["b", "c"])
        );
        assert_eq!(c.call(&["ZRANGEBYLEX", "z", "[b", "(b"]), bulks(&[]));
        assert_eq!(c.call(&["ZRANGEBYLEX", "z", "+", "-"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "1", "2"]),
            bulks(&["b", "c"])
        );
        assert_eq!(
            c.call(&["ZREVRANGEBYLEX", "z", "[c", "-"]),
            bulks(&["c", "b", "a"])
        );
        assert_eq!(
            c.call(&["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "1", "1"]),
            bulks(&["d"])
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "(a", "+", "BYLEX", "LIMIT", "1", "1"]),
            bulks(&["c"])
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "[c", "(a", "BYLEX", "REV"]),
            bulks(&["c", "b"])
        );
        assert_eq!(c.call(&["ZLEXCOUNT", "z", "[b", "+"]), int(4));
        assert_eq!(c.call(&["ZLEXCOUNT", "z", "+", "-"]), int(0));
        assert_eq!(c.call(&["ZLEXCOUNT", "nokey", "-", "+"]), int(0));
        for bad in [["a", "b"], ["", "+"], ["-x", "+"], ["-", "+x"]] {
            assert_eq!(
                c.call(&["ZRANGEBYLEX", "z", bad[0], bad[1]]),
                err("ERR min or max not valid string range item")
            );
        }
        assert_eq!(
            c.call(&["ZRANGE", "z", "0", "-1", "BYLEX"]),
            err("ERR min or max not valid string range item")
        );
        assert_eq!(
            c.call(&["ZRANGE", "z", "[a", "[c", "BYLEX", "WITHSCORES"]),
            err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        );
        assert_eq!(
            c.call(&["ZLEXCOUNT", "z", "a", "b"]),
            err("ERR min or max not valid string range item")
        );
    }

    #[test]
    fn zrangestore() {
        let mut c = TestClient::new();
        let log = logged(&c);
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(c.call(&["ZRANGESTORE", "d", "z", "0", "1"]), int(2));
        assert_eq!(
            c.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
            bulks(&["a", "1", "b", "2"])
        );
        assert_eq!(
            c.call(&["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "REV"]),
            int(0)
        );
        assert_eq!(
            c.call(&[
                "ZRANGESTORE",
                "d",
                "z",
                "+inf",
                "(1",
                "BYSCORE",
                "REV",
                "LIMIT",
                "0",
                "1"
            ]),
            int(1)
        );
        assert_eq!(c.call(&["ZRANGE", "d", "0", "-1"]), bulks(&["c"]));
        assert_eq!(encoding(&c, "d"), "listpack");
        c.call(&["SET", "str", "x"]);
        assert_eq!(c.call(&["ZRANGESTORE", "str", "z", "0", "0"]), int(1));
        assert_eq!(kind(&c, "str"), Some(Kind::ZSet));
        assert_eq!(c.call(&["ZRANGESTORE", "d", "nokey", "0", "-1"]), int(0));
        assert_eq!(exists(&c, "d"), 0);
        assert_eq!(c.call(&["ZRANGESTORE", "d", "z", "5", "6"]), int(0));
        assert_eq!(
            c.call(&["ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES"]),
            err("ERR syntax error")
        );
        assert_eq!(c.call(&["ZRANGESTORE", "z", "z", "0", "0"]), int(1));
        assert_eq!(c.call(&["ZRANGE", "z", "0", "-1"]), bulks(&["a"]));
        let l = log.take();
        assert!(l.contains(&cmd(&["ZRANGESTORE", "d", "z", "0", "1"])));
        assert!(l.contains(&cmd(&["ZRANGESTORE", "d", "nokey", "0", "-1"])));
        assert!(!l.contains(&cmd(&["ZRANGESTORE", "d", "z", "5", "6"])));
    }

    #[test]
    fn zcount_and_zremrange() {
        let mut c = TestClient::new();
        let log = logged(&c);
        c.call(&[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ]);
        assert_eq!(c.call(&["ZCOUNT", "z", "(1", "(3"]), int(1));
        assert_eq!(c.call(&["ZCOUNT", "z", "-inf", "+inf"]), int(5));
        assert_eq!(c.call(&["ZCOUNT", "nokey", "-inf", "+inf"]), int(0));
        assert_eq!(
            c.call(&["ZCOUNT", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(c.call(&["ZREMRANGEBYRANK", "z", "5", "10"]), int(0));
        assert_eq!(c.call(&["ZREMRANGEBYRANK", "z", "-1", "-1"]), int(1));
        assert_eq!(c.call(&["ZREMRANGEBYSCORE", "z", "(1", "2"]), int(1));
        assert_eq!(c.call(&["ZREMRANGEBYSCORE", "z", "10", "20"]), int(0));
        assert_eq!(c.call(&["ZRANGE", "z", "0", "-1"]), bulks(&["a", "c", "d"]));
        assert_eq!(
            c.call(&["ZREMRANGEBYRANK", "z", "x", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["ZREMRANGEBYSCORE", "z", "x", "1"]),
            err("ERR min or max is not a float")
        );
        assert_eq!(
            c.call(&["ZREMRANGEBYLEX", "z", "a", "b"]),
            err("ERR min or max not valid string range item")
        );
        c.call(&["ZADD", "l", "0", "a", "0", "b", "0", "c"]);
        assert_eq!(c.call(&["ZREMRANGEBYLEX", "l", "(a", "+"]), int(2));
        assert_eq!(c.call(&["ZREMRANGEBYLEX", "l", "-", "+"]), int(1));
        assert_eq!(exists(&c, "l"), 0);
        assert_eq!(c.call(&["ZREMRANGEBYRANK", "nokey", "0", "-1"]), int(0));
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZREMRANGEBYRANK", "s", "0", "-1"]), err(WT));
        assert_eq!(c.call(&["ZCOUNT", "s", "0", "1"]), err(WT));
        let l = log.take();
        assert!(l.contains(&cmd(&["ZREMRANGEBYRANK", "z", "-1", "-1"])));
        assert!(!l.contains(&cmd(&["ZREMRANGEBYRANK", "z", "5", "10"])));
        assert!(!l.contains(&cmd(&["ZREMRANGEBYSCORE", "z", "10", "20"])));
    }

    #[test]
    fn zpop() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(c.call(&["ZPOPMIN", "z"]), bulks(&["a", "1"]));
        assert_eq!(c.call(&["ZPOPMAX", "z", "5"]), bulks(&["c", "3", "b", "2"]));
        assert_eq!(exists(&c, "z"), 0);
        assert_eq!(c.call(&["ZPOPMIN", "z"]), bulks(&[]));
        c.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(c.call(&["ZPOPMIN", "z", "0"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZPOPMIN", "z", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            c.call(&["ZPOPMIN", "z", "x"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(c.call(&["ZPOPMIN", "z", "1", "2"]), err("ERR syntax error"));
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZPOPMIN", "s", "0"]), err(WT));
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(r.call(&["ZPOPMIN", "z"]), arr(vec![bulk("a"), dbl(1.0)]));
        assert_eq!(
            r.call(&["ZPOPMAX", "z", "1"]),
            arr(vec![arr(vec![bulk("b"), dbl(2.0)])])
        );
    }

    #[test]
    fn bzpop_immediate_blocked_and_timeout() {
        let mut c = TestClient::new();
        let log = logged(&c);
        let mut other = c.other();
        c.call(&["ZADD", "z2", "1", "a", "2", "b"]);
        assert_eq!(
            c.call(&["BZPOPMAX", "z1", "z2", "0"]),
            bulks(&["z2", "b", "2"])
        );
        assert_eq!(log.take().last(), Some(&cmd(&["ZPOPMAX", "z2"])));
        // Nothing there: blocks.
        assert_eq!(c.call(&["BZPOPMIN", "q", "1.5"]), nil());
        assert_eq!(c.last_flow, crate::Flow::Blocked);
        assert_eq!(c.resume(), None);
        other.call(&["ZADD", "q", "5", "x", "6", "y"]);
        assert_eq!(c.resume(), Some(bulks(&["q", "x", "5"])));
        assert_eq!(
            log.take(),
            vec![
                cmd(&["ZADD", "q", "5", "x", "6", "y"]),
                cmd(&["ZPOPMIN", "q"])
            ]
        );
        // Timeout.
        assert_eq!(c.call(&["BZPOPMIN", "empty", "0.5"]), nil());
        c.clock.advance(499);
        assert_eq!(c.resume(), None);
        c.clock.advance(1);
        assert_eq!(c.resume(), Some(Frame::Null));
        // Inside MULTI: no blocking, a null array.
        c.call(&["MULTI"]);
        c.call(&["BZPOPMIN", "empty", "0"]);
        assert_eq!(c.call(&["EXEC"]), arr(vec![Frame::Null]));
        // Errors.
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "-1"]),
            err("ERR timeout is negative")
        );
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "inf"]),
            err("ERR timeout is negative")
        );
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "1e20"]),
            err("ERR timeout is negative")
        );
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "abc"]),
            err("ERR timeout is not a float or out of range")
        );
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "nan"]),
            err("ERR timeout is not a float or out of range")
        );
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["BZPOPMIN", "s", "q", "0"]), err(WT));
        // A truncated negative timeout is 0: would block forever; served at once here.
        assert_eq!(
            c.call(&["BZPOPMIN", "q", "-0.0001"]),
            bulks(&["q", "y", "6"])
        );
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(
            r.call(&["BZPOPMIN", "z", "0"]),
            arr(vec![bulk("z"), bulk("a"), dbl(1.0)])
        );
    }

    #[test]
    fn zmpop_and_bzmpop() {
        let mut c = TestClient::new();
        let log = logged(&c);
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(
            c.call(&["ZMPOP", "2", "nokey", "z", "MIN"]),
            arr(vec![bulk("z"), arr(vec![bulks(&["a", "1"])])])
        );
        assert_eq!(
            c.call(&["ZMPOP", "1", "z", "MAX", "COUNT", "10"]),
            arr(vec![
                bulk("z"),
                arr(vec![bulks(&["c", "3"]), bulks(&["b", "2"])])
            ])
        );
        assert_eq!(c.call(&["ZMPOP", "1", "z", "MIN"]), Frame::Null);
        assert_eq!(
            log.take(),
            vec![
                cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
                cmd(&["ZPOPMIN", "z", "1"]),
                cmd(&["ZPOPMAX", "z", "2"]),
            ]
        );
        let e = |s| err(s);
        assert_eq!(
            c.call(&["ZMPOP", "0", "z", "MIN"]),
            e("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            c.call(&["ZMPOP", "x", "z", "MIN"]),
            e("ERR numkeys should be greater than 0")
        );
        assert_eq!(c.call(&["ZMPOP", "1", "z", "FOO"]), e("ERR syntax error"));
        assert_eq!(c.call(&["ZMPOP", "5", "z", "MIN"]), e("ERR syntax error"));
        assert_eq!(
            c.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "0"]),
            e("ERR count should be greater than 0")
        );
        assert_eq!(
            c.call(&["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZMPOP", "1", "z", "MIN", "COUNT"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["BZMPOP", "x", "1", "z", "MIN"]),
            e("ERR timeout is not a float or out of range")
        );
        assert_eq!(
            c.call(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "-5"]),
            e("ERR count should be greater than 0")
        );
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZMPOP", "2", "nokey", "s", "MIN"]), e(WT));
        // Blocking form.
        let mut other = c.other();
        assert_eq!(
            c.call(&["BZMPOP", "0", "2", "k1", "k2", "MAX", "COUNT", "5"]),
            nil()
        );
        assert_eq!(c.last_flow, crate::Flow::Blocked);
        other.call(&["ZADD", "k2", "1", "a", "2", "b"]);
        assert_eq!(
            c.resume(),
            Some(arr(vec![
                bulk("k2"),
                arr(vec![bulks(&["b", "2"]), bulks(&["a", "1"])])
            ]))
        );
        assert_eq!(log.take().last(), Some(&cmd(&["ZPOPMAX", "k2", "2"])));
        let mut r = resp3();
        assert_eq!(r.call(&["ZMPOP", "1", "nokey", "MIN"]), Frame::Null);
        r.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(
            r.call(&["ZMPOP", "1", "z", "MIN"]),
            arr(vec![bulk("z"), arr(vec![arr(vec![bulk("a"), dbl(1.0)])])])
        );
    }

    #[test]
    fn zrandmember() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        let Frame::Bulk(m) = c.call(&["ZRANDMEMBER", "z"]) else {
            panic!()
        };
        assert!([&b"a"[..], b"b", b"c"].contains(&&m[..]));
        assert_eq!(c.call(&["ZRANDMEMBER", "nokey"]), nil());
        assert_eq!(c.call(&["ZRANDMEMBER", "nokey", "3"]), bulks(&[]));
        assert_eq!(c.call(&["ZRANDMEMBER", "z", "0"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
            bulks(&["c", "3", "b", "2", "a", "1"])
        );
        for _ in 0..20 {
            let Frame::Array(v) = c.call(&["ZRANDMEMBER", "z", "2"]) else {
                panic!()
            };
            assert_eq!(v.len(), 2);
            assert_ne!(v[0], v[1]);
            let Frame::Array(v) = c.call(&["ZRANDMEMBER", "z", "-7", "WITHSCORES"]) else {
                panic!()
            };
            assert_eq!(v.len(), 14);
            for p in v.chunks(2) {
                let expect = match &p[0] {
                    Frame::Bulk(b) if &b[..] == b"a" => "1",
                    Frame::Bulk(b) if &b[..] == b"b" => "2",
                    _ => "3",
                };
                assert_eq!(p[1], bulk(expect));
            }
        }
        // Unique picks from a big set.
        for i in 0..300 {
            c.call(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        for n in ["10", "250"] {
            let Frame::Array(v) = c.call(&["ZRANDMEMBER", "big", n]) else {
                panic!()
            };
            let set: std::collections::HashSet<_> = v.iter().map(|f| format!("{f:?}")).collect();
            assert_eq!(set.len(), v.len());
            assert_eq!(v.len().to_string(), n);
        }
        let e = |s| err(s);
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "x"]),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "1", "foo"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"]),
            e("ERR value is out of range")
        );
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"]),
            e("ERR value is out of range")
        );
        assert_eq!(
            c.call(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
            e("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZRANDMEMBER", "s"]), e(WT));
        assert_eq!(c.call(&["ZRANDMEMBER", "s", "1"]), e(WT));
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(
            r.call(&["ZRANDMEMBER", "z", "-2", "WITHSCORES"]),
            arr(vec![
                arr(vec![bulk("a"), dbl(1.0)]),
                arr(vec![bulk("a"), dbl(1.0)])
            ])
        );
        assert_eq!(r.call(&["ZRANDMEMBER", "nokey"]), Frame::Null);
    }

    #[test]
    fn set_operations() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
        c.call(&["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
        put_set(&c, "s", &["a", "b", "x"]);
        assert_eq!(
            c.call(&["ZUNION", "2", "z1", "z2", "WITHSCORES"]),
            bulks(&["a", "1", "b", "12", "c", "23", "d", "30"])
        );
        assert_eq!(
            c.call(&[
                "ZUNION",
                "2",
                "z1",
                "z2",
                "WEIGHTS",
                "2",
                "0.5",
                "AGGREGATE",
                "MAX",
                "WITHSCORES"
            ]),
            bulks(&["a", "2", "b", "5", "c", "10", "d", "15"])
        );
        assert_eq!(
            c.call(&["ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"]),
            bulks(&["b", "2", "c", "3"])
        );
        assert_eq!(c.call(&["ZINTER", "2", "z1", "nokey"]), bulks(&[]));
        assert_eq!(
            c.call(&["ZDIFF", "2", "z1", "z2", "WITHSCORES"]),
            bulks(&["a", "1"])
        );
        assert_eq!(c.call(&["ZDIFF", "2", "z1", "z1"]), bulks(&[]));
        assert_eq!(c.call(&["ZDIFF", "1", "nokey"]), bulks(&[]));
        // Plain sets count with score 1.
        assert_eq!(
            c.call(&["ZUNION", "2", "z1", "s", "WITHSCORES"]),
            bulks(&["x", "1", "a", "2", "b", "3", "c", "3"])
        );
        assert_eq!(
            c.call(&["ZINTER", "2", "s", "z1", "WITHSCORES"]),
            bulks(&["a", "2", "b", "3"])
        );
        assert_eq!(c.call(&["ZDIFF", "2", "z1", "s"]), bulks(&["c"]));
        // inf * 0 and inf + -inf become 0.
        c.call(&["ZADD", "i1", "inf", "a"]);
        c.call(&["ZADD", "i2", "-inf", "a"]);
        assert_eq!(
            c.call(&["ZUNION", "2", "i1", "i2", "WITHSCORES"]),
            bulks(&["a", "0"])
        );
        assert_eq!(
            c.call(&["ZUNION", "1", "i1", "WEIGHTS", "0", "WITHSCORES"]),
            bulks(&["a", "0"])
        );
        // Cardinality.
        assert_eq!(c.call(&["ZINTERCARD", "2", "z1", "z2"]), int(2));
        assert_eq!(
            c.call(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]),
            int(1)
        );
        assert_eq!(
            c.call(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "0"]),
            int(2)
        );
        // Stores.
        assert_eq!(c.call(&["ZUNIONSTORE", "d", "2", "z1", "z2"]), int(4));
        assert_eq!(
            c.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
            bulks(&["a", "1", "b", "12", "c", "23", "d", "30"])
        );
        assert_eq!(
            c.call(&["ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "1", "-1"]),
            int(2)
        );
        assert_eq!(
            c.call(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
            bulks(&["c", "-17", "b", "-8"])
        );
        assert_eq!(c.call(&["ZDIFFSTORE", "d", "2", "z1", "z2"]), int(1));
        assert_eq!(c.call(&["ZDIFFSTORE", "d", "2", "z1", "z1"]), int(0));
        assert_eq!(exists(&c, "d"), 0);
        assert_eq!(c.call(&["ZUNIONSTORE", "z1", "2", "z1", "z2"]), int(4));
        let mut r = resp3();
        r.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(
            r.call(&["ZUNION", "1", "z", "WITHSCORES"]),
            arr(vec![arr(vec![bulk("a"), dbl(1.0)])])
        );
    }

    #[test]
    fn set_operation_errors() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a"]);
        c.call(&["SET", "str", "x"]);
        let e = |s| err(s);
        assert_eq!(
            c.call(&["ZUNION", "0", "z"]),
            e("ERR at least 1 input key is needed for 'zunion' command")
        );
        assert_eq!(
            c.call(&["zinter", "-1", "z"]),
            e("ERR at least 1 input key is needed for 'zinter' command")
        );
        assert_eq!(
            c.call(&["ZINTERCARD", "0", "z"]),
            e("ERR at least 1 input key is needed for 'zintercard' command")
        );
        assert_eq!(
            c.call(&["ZUNIONSTORE", "d", "0", "z"]),
            e("ERR at least 1 input key is needed for 'zunionstore' command")
        );
        assert_eq!(
            c.call(&["ZUNION", "x", "z"]),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["ZINTER", "3", "z"]), e("ERR syntax error"));
        assert_eq!(c.call(&["ZUNION", "1", "str", "foo"]), e(WT));
        assert_eq!(
            c.call(&["ZUNION", "1", "z", "WEIGHTS", "x"]),
            e("ERR weight value is not a float")
        );
        assert_eq!(
            c.call(&["ZUNION", "2", "z", "z", "WEIGHTS", "1"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZUNION", "1", "z", "AGGREGATE", "foo"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZUNION", "1", "z", "AGGREGATE"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZDIFF", "1", "z", "WEIGHTS", "1"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZUNIONSTORE", "d", "1", "z", "WITHSCORES"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZINTERCARD", "1", "z", "WITHSCORES"]),
            e("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZINTERCARD", "1", "z", "LIMIT", "-1"]),
            e("ERR LIMIT can't be negative")
        );
        assert_eq!(
            c.call(&["ZINTERCARD", "1", "z", "LIMIT", "x"]),
            e("ERR LIMIT can't be negative")
        );
        // Repeated options: the last one wins.
        assert_eq!(
            c.call(&[
                "ZUNION",
                "1",
                "z",
                "WEIGHTS",
                "2",
                "WEIGHTS",
                "3",
                "WITHSCORES"
            ]),
            bulks(&["a", "3"])
        );
    }

    #[test]
    fn zscan_small_and_large() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1.1", "a", "1e17", "b", "2.5", "d", "3", "c"]);
        assert_eq!(
            c.call(&["ZSCAN", "z", "0"]),
            arr(vec![
                bulk("0"),
                bulks(&[
                    "a",
                    "1.1000000000000001",
                    "d",
                    "2.5",
                    "c",
                    "3",
                    "b",
                    "100000000000000000"
                ])
            ])
        );
        assert_eq!(
            c.call(&["ZSCAN", "z", "0", "MATCH", "[ab]"]),
            arr(vec![
                bulk("0"),
                bulks(&["a", "1.1000000000000001", "b", "100000000000000000"])
            ])
        );
        assert_eq!(
            c.call(&["ZSCAN", "nokey", "0", "FOO"]),
            arr(vec![bulk("0"), bulks(&[])])
        );
        assert_eq!(c.call(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            c.call(&["ZSCAN", "z", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZSCAN", "z", "0", "COUNT", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["ZSCAN", "z", "0", "MATCH"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["ZSCAN", "z", "0", "TYPE", "zset"]),
            err("ERR syntax error")
        );
        c.call(&["SET", "s", "x"]);
        assert_eq!(c.call(&["ZSCAN", "s", "0", "FOO"]), err(WT));
        // A skiplist-encoded set is scanned by cursor.
        for i in 0..500 {
            c.call(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
        }
        c.call(&["ZADD", "big", "1e17", "huge"]);
        assert_eq!(encoding(&c, "big"), "skiplist");
        let mut seen = std::collections::HashMap::new();
        let mut cursor = "0".to_string();
        let mut rounds = 0;
        loop {
            let Frame::Array(v) = c.call(&["ZSCAN", "big", &cursor, "COUNT", "20"]) else {
                panic!()
            };
            let Frame::Bulk(next) = &v[0] else { panic!() };
            let Frame::Array(items) = &v[1] else { panic!() };
            assert!(items.len() <= 2 * 500);
            for p in items.chunks(2) {
                let (Frame::Bulk(m), Frame::Bulk(s)) = (&p[0], &p[1]) else {
                    panic!()
                };
                seen.insert(m.clone(), s.clone());
            }
            cursor = String::from_utf8(next.to_vec()).unwrap();
            rounds += 1;
            if cursor == "0" {
                break;
            }
        }
        assert!(rounds > 5);
        assert_eq!(seen.len(), 501);
        assert_eq!(seen[&Bytes::from_static(b"m42")], Bytes::from_static(b"42"));
        assert_eq!(
            seen[&Bytes::from_static(b"huge")],
            Bytes::from_static(b"1e+17")
        );
    }

    #[test]
    fn propagation_and_watch() {
        let mut c = TestClient::new();
        let log = logged(&c);
        c.call(&["ZADD", "z", "1", "a"]);
        c.call(&["ZADD", "z", "NX", "5", "a"]);
        c.call(&["ZADD", "z", "INCR", "1", "a"]);
        c.call(&["ZINCRBY", "z", "1", "a"]);
        c.call(&["ZREM", "z", "nosuch"]);
        c.call(&["ZPOPMIN", "z", "0"]);
        c.call(&["ZPOPMAX", "z"]);
        assert_eq!(
            log.take(),
            vec![
                cmd(&["ZADD", "z", "1", "a"]),
                cmd(&["ZADD", "z", "INCR", "1", "a"]),
                cmd(&["ZINCRBY", "z", "1", "a"]),
                cmd(&["ZPOPMAX", "z"]),
            ]
        );
        // A ZADD that changes nothing leaves WATCH alone.
        c.call(&["ZADD", "w", "1", "a"]);
        let mut other = c.other();
        c.call(&["WATCH", "w"]);
        other.call(&["ZADD", "w", "1", "a"]);
        other.call(&["ZADD", "w", "XX", "1", "b"]);
        c.call(&["MULTI"]);
        c.call(&["ZCARD", "w"]);
        assert_eq!(c.call(&["EXEC"]), arr(vec![int(1)]));
        c.call(&["WATCH", "w"]);
        other.call(&["ZADD", "w", "2", "a"]);
        c.call(&["MULTI"]);
        c.call(&["ZCARD", "w"]);
        assert_eq!(c.call(&["EXEC"]), Frame::Null);
    }

    #[test]
    fn negative_zero_follows_the_encoding() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "small", "-0", "a"]);
        assert_eq!(c.call(&["ZSCORE", "small", "a"]), bulk("0"));
        let long = "x".repeat(65);
        c.call(&["ZADD", "big", "1", &long]);
        c.call(&["ZADD", "big", "-0", "a"]);
        assert_eq!(c.call(&["ZSCORE", "big", "a"]), bulk("-0"));
        c.call(&["ZADD", "z", "0", "a"]);
        // Results are built skiplist-encoded: the reply keeps -0, a small store does not.
        assert_eq!(
            c.call(&["ZUNION", "1", "z", "WEIGHTS", "-1", "WITHSCORES"]),
            bulks(&["a", "-0"])
        );
        c.call(&["ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "-1"]);
        assert_eq!(c.call(&["ZSCORE", "d", "a"]), bulk("0"));
    }

    #[test]
    fn stores_wake_blocked_pops() {
        let mut c = TestClient::new();
        let mut other = c.other();
        other.call(&["ZADD", "src", "1", "a", "2", "b"]);
        assert_eq!(c.call(&["BZPOPMIN", "dst", "0"]), nil());
        other.call(&["ZUNIONSTORE", "dst", "1", "src"]);
        assert_eq!(c.resume(), Some(bulks(&["dst", "a", "1"])));
        assert_eq!(c.call(&["BZPOPMAX", "d2", "0"]), nil());
        other.call(&["ZRANGESTORE", "d2", "src", "0", "0"]);
        assert_eq!(c.resume(), Some(bulks(&["d2", "a", "1"])));
    }

    #[test]
    fn big_rank_store_is_skiplist() {
        let mut c = TestClient::new();
        for i in 0..200 {
            c.call(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(c.call(&["ZRANGESTORE", "d", "z", "0", "129"]), int(130));
        assert_eq!(encoding(&c, "d"), "skiplist");
        assert_eq!(c.call(&["ZRANGESTORE", "d", "z", "0", "127"]), int(128));
        assert_eq!(encoding(&c, "d"), "listpack");
        assert_eq!(
            c.call(&["ZRANGE", "z", "-3", "-1"]),
            bulks(&["m197", "m198", "m199"])
        );
        assert_eq!(c.call(&["ZRANK", "z", "m150"]), int(150));
        assert_eq!(c.call(&["ZREVRANK", "z", "m150"]), int(49));
        assert_eq!(c.call(&["ZCOUNT", "z", "(10", "20"]), int(10));
        assert_eq!(c.call(&["ZREMRANGEBYRANK", "z", "10", "-11"]), int(180));
        assert_eq!(c.call(&["ZCARD", "z"]), int(20));
        assert_eq!(encoding(&c, "z"), "skiplist");
    }

    #[test]
    fn encodings() {
        let mut c = TestClient::new();
        c.call(&["ZADD", "z", "1", "a"]);
        assert_eq!(encoding(&c, "z"), "listpack");
        c.call(&["ZADD", "z", "1", &"x".repeat(65)]);
        assert_eq!(encoding(&c, "z"), "skiplist");
        c.call(&["ZREM", "z", &"x".repeat(65)]);
        assert_eq!(encoding(&c, "z"), "skiplist");
        assert_eq!(c.call(&["ZUNIONSTORE", "d", "1", "z"]), int(1));
        assert_eq!(encoding(&c, "d"), "listpack");
    }
}
