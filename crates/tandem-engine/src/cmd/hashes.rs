//! The hash commands: HSET/HSETNX/HMSET, reads, HDEL, HINCRBY/HINCRBYFLOAT,
//! HRANDFIELD and HSCAN.
//!
//! HINCRBYFLOAT computes in C's `long double` (x87 extended precision, emulated exactly
//! by [`ld`]) and formats with `%.17Lf`, so results match Redis digit for digit; it is
//! propagated as `HSET key field value` with the final value.

use tandem_keyspace::glob::glob_match;
use tandem_keyspace::set::IntBuf;
use tandem_keyspace::{Guard, Hash, Object, Ttl, Value, ValueRef};

use self::ld::Ld;
use super::lists::{long_arg, range_long};
use super::sets::{parse_scan_opts, rng, ScanOpts};
use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{wrong_arity, CmdError, CmdResult, NOT_FLOAT, OVERFLOW, SYNTAX, WRONGTYPE};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: hset,
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: hsetnx,
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: hmset,
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: hget,
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: hmget,
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::range(1, 1, 1),
        run: hdel,
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: hlen,
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: hstrlen,
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: hexists,
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: hkeys,
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: hvals,
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: hgetall,
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: hincrby,
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: hincrbyfloat,
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: hrandfield,
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: hscan,
    },
];

fn read_hash<'a>(
    ks: &'a mut Guard<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a Hash>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::Hash(h))) => Ok(Some(h)),
        Some(_) => Err(WRONGTYPE),
    }
}

fn peek_hash<'a>(
    ks: &'a mut Guard<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a Hash>, CmdError> {
    match ks.peek(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::Hash(h))) => Ok(Some(h)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Runs `f` on the hash under `key`, creating an empty one first if there is no key (it
/// is stored only if `f` succeeds and leaves it non-empty).
fn with_hash<R>(
    ks: &mut Guard<'_>,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut Hash) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let mut f = Some(f);
    let r = ks.update(db, key, |o| match o {
        Object::Hash(h) => (f.take().expect("called once"))(h),
        _ => Err(WRONGTYPE),
    });
    match r {
        Some(r) => r,
        None if ks.exists(db, key) => Err(WRONGTYPE),
        None => {
            let mut h = Hash::new();
            let r = (f.take().expect("not called"))(&mut h)?;
            if !h.is_empty() {
                ks.set(db, key, Value::Obj(Object::Hash(h)), Ttl::Clear);
            }
            Ok(r)
        }
    }
}

fn set_pairs(c: &mut Call<'_, '_>, name: &str) -> Result<usize, CmdError> {
    if c.argc() % 2 == 1 {
        return Err(wrong_arity(name));
    }
    let pairs = &c.argv[2..];
    let created = with_hash(c.ks, c.db, c.argv[1], |h| {
        h.prepare_for(pairs);
        let mut n = 0;
        for p in pairs.chunks_exact(2) {
            n += usize::from(h.insert(p[0], p[1]));
        }
        Ok(n)
    })?;
    c.changed((pairs.len() / 2) as u64);
    Ok(created)
}

fn hset(c: &mut Call<'_, '_>) -> CmdResult {
    let n = set_pairs(c, "hset")?;
    c.out.int(n as i64);
    Ok(())
}

fn hmset(c: &mut Call<'_, '_>) -> CmdResult {
    set_pairs(c, "hmset")?;
    c.out.ok();
    Ok(())
}

fn hsetnx(c: &mut Call<'_, '_>) -> CmdResult {
    let (f, v) = (c.argv[2], c.argv[3]);
    if peek_hash(c.ks, c.db, c.argv[1])?.is_some_and(|h| h.contains(f)) {
        c.out.int(0);
        return Ok(());
    }
    with_hash(c.ks, c.db, c.argv[1], |h| {
        h.prepare_for(&[f, v]);
        Ok(h.insert(f, v))
    })?;
    c.changed(1);
    c.out.int(1);
    Ok(())
}

fn hget(c: &mut Call<'_, '_>) -> CmdResult {
    let f = c.argv[2];
    match read_hash(c.ks, c.db, c.argv[1])?.and_then(|h| h.get(f)) {
        Some(v) => c.out.bulk(v),
        None => c.out.null(),
    }
    Ok(())
}

fn hmget(c: &mut Call<'_, '_>) -> CmdResult {
    let fields = &c.argv[2..];
    let out = &mut c.out;
    let h = read_hash(c.ks, c.db, c.argv[1])?;
    out.array(fields.len());
    for f in fields {
        match h.and_then(|h| h.get(f)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

fn hdel(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    let fields = &c.argv[2..];
    let any = peek_hash(c.ks, c.db, key)?.is_some_and(|h| fields.iter().any(|f| h.contains(f)));
    let mut deleted = 0;
    if any {
        with_hash(c.ks, c.db, key, |h| {
            for f in fields {
                deleted += usize::from(h.remove(f));
                if h.is_empty() {
                    break;
                }
            }
            Ok(())
        })?;
        c.changed(deleted as u64);
    }
    c.out.int(deleted as i64);
    Ok(())
}

fn hlen(c: &mut Call<'_, '_>) -> CmdResult {
    let n = read_hash(c.ks, c.db, c.argv[1])?.map_or(0, Hash::len);
    c.out.int(n as i64);
    Ok(())
}

fn hstrlen(c: &mut Call<'_, '_>) -> CmdResult {
    let f = c.argv[2];
    let n = read_hash(c.ks, c.db, c.argv[1])?
        .and_then(|h| h.get(f))
        .map_or(0, <[u8]>::len);
    c.out.int(n as i64);
    Ok(())
}

fn hexists(c: &mut Call<'_, '_>) -> CmdResult {
    let f = c.argv[2];
    let e = read_hash(c.ks, c.db, c.argv[1])?.is_some_and(|h| h.contains(f));
    c.out.int(i64::from(e));
    Ok(())
}

fn getall(c: &mut Call<'_, '_>, keys: bool, vals: bool) -> CmdResult {
    let out = &mut c.out;
    let h = read_hash(c.ks, c.db, c.argv[1])?;
    let n = h.map_or(0, Hash::len);
    if keys && vals {
        out.map(n);
    } else {
        out.array(n);
    }
    if let Some(h) = h {
        for (f, v) in h.iter() {
            if keys {
                out.bulk(f);
            }
            if vals {
                out.bulk(v);
            }
        }
    }
    Ok(())
}

fn hkeys(c: &mut Call<'_, '_>) -> CmdResult {
    getall(c, true, false)
}

fn hvals(c: &mut Call<'_, '_>) -> CmdResult {
    getall(c, false, true)
}

fn hgetall(c: &mut Call<'_, '_>) -> CmdResult {
    getall(c, true, true)
}

fn hincrby(c: &mut Call<'_, '_>) -> CmdResult {
    let incr = long_arg(c.argv[3], None)?;
    let f = c.argv[2];
    let v = with_hash(c.ks, c.db, c.argv[1], |h| {
        let old = match h.get(f) {
            Some(v) => tandem_resp::parse_i64(v)
                .ok_or(CmdError::fixed("ERR hash value is not an integer"))?,
            None => 0,
        };
        let new = old.checked_add(incr).ok_or(OVERFLOW)?;
        h.insert(f, &IntBuf::new(new));
        Ok(new)
    })?;
    c.changed(1);
    c.out.int(v);
    Ok(())
}

fn hincrbyfloat(c: &mut Call<'_, '_>) -> CmdResult {
    let incr = Ld::parse(c.argv[3]).ok_or(NOT_FLOAT)?;
    if !incr.is_finite() {
        return Err(CmdError::fixed("ERR value is NaN or Infinity"));
    }
    let f = c.argv[2];
    let text = with_hash(c.ks, c.db, c.argv[1], |h| {
        let old = match h.get(f) {
            Some(v) => Ld::parse(v).ok_or(CmdError::fixed("ERR hash value is not a float"))?,
            None => Ld::ZERO,
        };
        let new = old.add(incr);
        if !new.is_finite() {
            return Err(CmdError::fixed(
                "ERR increment would produce NaN or Infinity",
            ));
        }
        let text = new.format_human();
        h.insert(f, text.as_bytes());
        Ok(text)
    })?;
    c.out.bulk(text.as_bytes());
    let argv = c.argv;
    c.propagate_as(&[&b"HSET"[..], argv[1], argv[2], text.as_bytes()]);
    Ok(())
}

fn hrandfield(c: &mut Call<'_, '_>) -> CmdResult {
    let mut r = rng();
    if c.argc() == 2 {
        match read_hash(c.ks, c.db, c.argv[1])?.and_then(|h| h.random(&mut r)) {
            Some((f, _)) => c.out.bulk(f),
            None => c.out.null(),
        }
        return Ok(());
    }
    let l = range_long(c.argv[2], -i64::MAX, i64::MAX, None)?;
    let withvalues = match c.argc() {
        3 => false,
        4 if c.is(3, "withvalues") => {
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::fixed("ERR value is out of range"));
            }
            true
        }
        _ => return Err(SYNTAX),
    };
    let resp3 = c.out.proto() == tandem_resp::Proto::Resp3;
    let out = &mut c.out;
    let Some(h) = read_hash(c.ks, c.db, c.argv[1])? else {
        out.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs() as usize;
    let emit = |out: &mut crate::reply::Reply<'_>, f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    let header = |out: &mut crate::reply::Reply<'_>, n: usize| {
        out.array(if withvalues && !resp3 { n * 2 } else { n });
    };
    if count == 0 {
        out.array(0);
    } else if l < 0 || count == 1 {
        header(out, count);
        for _ in 0..count {
            if let Some((f, v)) = h.random(&mut r) {
                emit(out, f, v);
            }
        }
    } else {
        header(out, count.min(h.len()));
        h.sample(count, &mut r, |f, v| emit(out, f, v));
    }
    Ok(())
}

fn hscan(c: &mut Call<'_, '_>) -> CmdResult {
    let cursor = super::sets::parse_cursor(c.argv[2])?;
    let argv = c.argv;
    let out = &mut c.out;
    let Some(h) = read_hash(c.ks, c.db, argv[1])? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let ScanOpts { count, pattern } = parse_scan_opts(&argv[3..])?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| glob_match(p, f, false)) {
            found.push((f, v));
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (f, v) in found {
        out.bulk(f);
        out.bulk(v);
    }
    Ok(())
}

pub(crate) mod ld {
    //! C's `long double` on x86-64 (the x87 80-bit extended format: 64-bit significand
    //! with explicit integer bit, 15-bit exponent) in software, for exactly what Redis
    //! does with it: `strtold` (correctly rounded, as glibc does), addition and
    //! multiplication rounded to nearest-even, conversion to `long long` (out of range
    //! gives `LLONG_MIN`, as the x87 does) and `printf("%.17Lf")`.

    /// Smallest exponent: subnormals are `mant * 2^MIN_EXP` with `mant < 2^63`.
    const MIN_EXP: i32 = -16445;
    /// Largest exponent of `mant * 2^exp` with `mant` in `[2^63, 2^64)`.
    const MAX_EXP: i32 = 16320;
    /// `MAX_LONG_DOUBLE_CHARS`: longer strings are not numbers to Redis.
    const MAX_CHARS: usize = 5 * 1024;

    /// An extended-precision value.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(crate) enum Ld {
        /// ±0.
        Zero { neg: bool },
        /// ±infinity.
        Inf { neg: bool },
        /// Not a number.
        Nan,
        /// `(-1)^neg * mant * 2^exp`; `mant`'s top bit is set unless `exp == MIN_EXP`.
        Fin { neg: bool, mant: u64, exp: i32 },
    }

    /// Unsigned big integer, little-endian 32-bit limbs.
    #[derive(Clone, Debug, Default)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(mut v: u128) -> Big {
            let mut b = Big(Vec::new());
            while v != 0 {
                b.0.push(v as u32);
                v >>= 32;
            }
            b
        }
        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }
        fn is_zero(&self) -> bool {
            self.0.iter().all(|&l| l == 0)
        }
        fn mul_small(&mut self, m: u32) {
            let mut carry = 0u64;
            for l in &mut self.0 {
                let v = u64::from(*l) * u64::from(m) + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }
        fn add_small(&mut self, a: u32) {
            let mut carry = u64::from(a);
            for l in &mut self.0 {
                if carry == 0 {
                    return;
                }
                let v = u64::from(*l) + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }
        fn mul_pow10(&mut self, mut n: usize) {
            while n >= 9 {
                self.mul_small(1_000_000_000);
                n -= 9;
            }
            if n > 0 {
                self.mul_small(10u32.pow(n as u32));
            }
        }
        /// Divides in place; returns the remainder.
        fn divrem_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for l in self.0.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*l);
                *l = (v / u64::from(d)) as u32;
                rem = v % u64::from(d);
            }
            self.trim();
            rem as u32
        }
        fn bitlen(&self) -> usize {
            match self.0.iter().rposition(|&l| l != 0) {
                None => 0,
                Some(i) => i * 32 + 32 - self.0[i].leading_zeros() as usize,
            }
        }
        fn bit(&self, i: usize) -> bool {
            self.0.get(i / 32).is_some_and(|l| l >> (i % 32) & 1 == 1)
        }
        /// Whether any bit below `i` is set.
        fn any_below(&self, i: usize) -> bool {
            let full = i / 32;
            self.0.iter().take(full).any(|&l| l != 0)
                || (!i.is_multiple_of(32)
                    && self
                        .0
                        .get(full)
                        .is_some_and(|l| l & ((1 << (i % 32)) - 1) != 0))
        }
        fn shl(&mut self, bits: usize) {
            if self.is_zero() {
                return;
            }
            let (limbs, b) = (bits / 32, bits % 32);
            if b != 0 {
                let mut carry = 0u32;
                for l in &mut self.0 {
                    let v = (*l << b) | carry;
                    carry = *l >> (32 - b);
                    *l = v;
                }
                if carry != 0 {
                    self.0.push(carry);
                }
            }
            if limbs > 0 {
                self.0.splice(0..0, std::iter::repeat_n(0, limbs));
            }
        }
        fn shr(&mut self, bits: usize) {
            let (limbs, b) = (bits / 32, bits % 32);
            if limbs >= self.0.len() {
                self.0.clear();
                return;
            }
            self.0.drain(..limbs);
            if b != 0 {
                let n = self.0.len();
                for i in 0..n {
                    let hi = if i + 1 < n {
                        self.0[i + 1] << (32 - b)
                    } else {
                        0
                    };
                    self.0[i] = (self.0[i] >> b) | hi;
                }
            }
            self.trim();
        }
        /// The low 128 bits.
        fn low_u128(&self) -> u128 {
            self.0
                .iter()
                .take(4)
                .enumerate()
                .fold(0u128, |acc, (i, &l)| acc | (u128::from(l) << (32 * i)))
        }
        fn to_decimal(&self) -> String {
            let mut n = self.clone();
            n.trim();
            if n.0.is_empty() {
                return "0".into();
            }
            let mut chunks = Vec::new();
            while !n.0.is_empty() {
                chunks.push(n.divrem_small(1_000_000_000));
            }
            let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
            for c in chunks.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }

    /// Rounds `m * 2^e` (plus something below `m`'s last bit if `sticky`; then `m`
    /// must have at least 66 bits) to the nearest extended value, ties to even.
    fn round_pack(neg: bool, m: u128, e: i32, sticky: bool) -> Ld {
        if m == 0 {
            return Ld::Zero { neg };
        }
        let l = 128 - m.leading_zeros() as i32;
        let mut exp = e + l - 64;
        let mut keep = 64;
        if exp < MIN_EXP {
            keep = 64 - (MIN_EXP - exp);
            exp = MIN_EXP;
        }
        let shift = l - keep;
        let mut q: u128 = if shift <= 0 {
            m << (-shift) as u32
        } else if shift > 128 {
            0
        } else {
            let q = if shift == 128 { 0 } else { m >> shift };
            let rem = if shift == 128 {
                m
            } else {
                m & ((1u128 << shift) - 1)
            };
            let half = 1u128 << (shift - 1);
            let up = rem > half || (rem == half && (sticky || q & 1 == 1));
            q + u128::from(up)
        };
        if keep == 64 && q == 1u128 << 64 {
            q >>= 1;
            exp += 1;
        }
        if q == 0 {
            return Ld::Zero { neg };
        }
        if exp > MAX_EXP {
            return Ld::Inf { neg };
        }
        Ld::Fin {
            neg,
            mant: q as u64,
            exp,
        }
    }

    /// Rounds `n * 2^e` (+ sticky) to an extended value.
    fn round_big(neg: bool, n: &Big, mut e: i32, mut sticky: bool) -> Ld {
        let l = n.bitlen();
        if l > 128 {
            let s = l - 128;
            sticky |= n.any_below(s);
            let mut top = n.clone();
            top.shr(s);
            e = e.saturating_add(s as i32);
            round_pack(neg, top.low_u128(), e, sticky)
        } else {
            round_pack(neg, n.low_u128(), e, sticky)
        }
    }

    /// A parsed non-zero number: overflow and underflow to zero are range errors.
    fn finish(v: Ld) -> Option<Ld> {
        match v {
            Ld::Fin { .. } => Some(v),
            _ => None,
        }
    }

    /// Digits of `s` from `i` as a saturated exponent value; returns (value, end).
    fn parse_exp(s: &[u8], mut i: usize) -> Option<(i64, usize)> {
        let neg = match s.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut v: i64 = 0;
        while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
            v = (v * 10 + i64::from(d - b'0')).min(1_000_000);
            i += 1;
        }
        (i > start).then_some((if neg { -v } else { v }, i))
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
        let mut n = Big::default();
        let mut i = 0;
        let mut digits = 0;
        let mut frac = 0i64;
        let mut seen_point = false;
        while i < s.len() {
            let c = s[i];
            if c == b'.' && !seen_point {
                seen_point = true;
            } else if let Some(d) = (c as char).to_digit(16) {
                digits += 1;
                if !n.is_zero() || d != 0 {
                    n.mul_small(16);
                    n.add_small(d);
                }
                if seen_point {
                    frac += 1;
                }
            } else {
                break;
            }
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        let mut exp2 = -4 * frac;
        if i < s.len() && (s[i] | 0x20) == b'p' {
            let (e, end) = parse_exp(s, i + 1)?;
            exp2 += e;
            i = end;
        }
        if i != s.len() {
            return None;
        }
        if n.is_zero() {
            return Some(Ld::Zero { neg });
        }
        let mag = n.bitlen() as i64 + exp2;
        if mag > 16400 {
            return None;
        }
        if mag < -16500 {
            return None;
        }
        finish(round_big(neg, &n, exp2 as i32, false))
    }

    fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
        let mut n = Big::default();
        let mut i = 0;
        let mut digits = 0;
        let mut sig = 0i64; // significant digits taken into `n`
        let mut frac = 0i64; // of which after the point
        let mut seen_point = false;
        let mut chunk = 0u32;
        let mut chunk_len = 0;
        while i < s.len() {
            let c = s[i];
            if c == b'.' && !seen_point {
                seen_point = true;
            } else if c.is_ascii_digit() {
                digits += 1;
                if sig > 0 || c != b'0' {
                    sig += 1;
                    chunk = chunk * 10 + u32::from(c - b'0');
                    chunk_len += 1;
                    if chunk_len == 9 {
                        n.mul_small(1_000_000_000);
                        n.add_small(chunk);
                        chunk = 0;
                        chunk_len = 0;
                    }
                }
                if seen_point {
                    frac += 1;
                }
            } else {
                break;
            }
            i += 1;
        }
        if chunk_len > 0 {
            n.mul_small(10u32.pow(chunk_len));
            n.add_small(chunk);
        }
        if digits == 0 {
            return None;
        }
        let mut exp10 = 0i64;
        if i < s.len() && (s[i] | 0x20) == b'e' {
            if let Some((e, end)) = parse_exp(s, i + 1) {
                exp10 = e;
                i = end;
            }
        }
        if i != s.len() {
            return None;
        }
        if n.is_zero() {
            return Some(Ld::Zero { neg });
        }
        // Digits after the point that were leading zeros still scale the value.
        let e10 = exp10 - frac;
        let mag10 = sig + e10;
        if !(-4960..=4940).contains(&mag10) {
            return None;
        }
        if e10 >= 0 {
            n.mul_pow10(e10 as usize);
            finish(round_big(neg, &n, 0, false))
        } else {
            let m = (-e10) as usize;
            let need = 66 + (m * 3_321_929).div_ceil(1_000_000) + 2;
            let k = need.saturating_sub(n.bitlen());
            n.shl(k);
            let mut sticky = false;
            let mut left = m;
            while left >= 9 {
                sticky |= n.divrem_small(1_000_000_000) != 0;
                left -= 9;
            }
            if left > 0 {
                sticky |= n.divrem_small(10u32.pow(left as u32)) != 0;
            }
            finish(round_big(neg, &n, -(k as i32), sticky))
        }
    }

    impl Ld {
        /// Positive zero.
        pub(crate) const ZERO: Ld = Ld::Zero { neg: false };

        /// Redis's `string2ld`: `strtold` over the whole string, refusing empty or
        /// overlong strings, leading spaces, trailing bytes, NaN and out-of-range values.
        pub(crate) fn parse(s: &[u8]) -> Option<Ld> {
            if s.is_empty() || s.len() >= MAX_CHARS {
                return None;
            }
            if matches!(s[0], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
                return None;
            }
            let (neg, rest) = match s[0] {
                b'-' => (true, &s[1..]),
                b'+' => (false, &s[1..]),
                _ => (false, s),
            };
            if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
                return Some(Ld::Inf { neg });
            }
            if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
                if let Some(v) = parse_hex(neg, &rest[2..]) {
                    return Some(v);
                }
            }
            parse_dec(neg, rest)
        }

        /// An exact integer.
        pub(crate) fn from_u64(v: u64) -> Ld {
            if v == 0 {
                return Ld::ZERO;
            }
            let lz = v.leading_zeros();
            Ld::Fin {
                neg: false,
                mant: v << lz,
                exp: -(lz as i32),
            }
        }

        /// Neither infinite nor NaN.
        pub(crate) fn is_finite(&self) -> bool {
            matches!(self, Ld::Zero { .. } | Ld::Fin { .. })
        }

        fn neg(&self) -> bool {
            match *self {
                Ld::Zero { neg } | Ld::Inf { neg } | Ld::Fin { neg, .. } => neg,
                Ld::Nan => false,
            }
        }

        /// `self + o`, rounded to nearest even.
        pub(crate) fn add(self, o: Ld) -> Ld {
            match (self, o) {
                (Ld::Nan, _) | (_, Ld::Nan) => Ld::Nan,
                (Ld::Inf { neg: a }, Ld::Inf { neg: b }) => {
                    if a == b {
                        self
                    } else {
                        Ld::Nan
                    }
                }
                (Ld::Inf { .. }, _) => self,
                (_, Ld::Inf { .. }) => o,
                (Ld::Zero { neg: a }, Ld::Zero { neg: b }) => Ld::Zero { neg: a && b },
                (Ld::Zero { .. }, _) => o,
                (_, Ld::Zero { .. }) => self,
                (
                    Ld::Fin {
                        neg: na,
                        mant: ma,
                        exp: ea,
                    },
                    Ld::Fin {
                        neg: nb,
                        mant: mb,
                        exp: eb,
                    },
                ) => {
                    let ((na, ma, ea), (nb, mb, eb)) = if ea >= eb {
                        ((na, ma, ea), (nb, mb, eb))
                    } else {
                        ((nb, mb, eb), (na, ma, ea))
                    };
                    let a = u128::from(ma) << 62;
                    let d = (ea - eb) as u32;
                    let b = u128::from(mb) << 62;
                    let b = if d >= 127 {
                        u128::from(mb != 0)
                    } else {
                        (b >> d) | u128::from(b & ((1u128 << d) - 1) != 0)
                    };
                    let e = ea - 62;
                    if na == nb {
                        round_pack(na, a + b, e, false)
                    } else if a >= b {
                        if a == b {
                            return Ld::ZERO;
                        }
                        round_pack(na, a - b, e, false)
                    } else {
                        round_pack(nb, b - a, e, false)
                    }
                }
            }
        }

        /// `self * o`, rounded to nearest even.
        pub(crate) fn mul(self, o: Ld) -> Ld {
            let neg = self.neg() != o.neg();
            match (self, o) {
                (Ld::Nan, _) | (_, Ld::Nan) => Ld::Nan,
                (Ld::Inf { .. }, Ld::Zero { .. }) | (Ld::Zero { .. }, Ld::Inf { .. }) => Ld::Nan,
                (Ld::Inf { .. }, _) | (_, Ld::Inf { .. }) => Ld::Inf { neg },
                (Ld::Zero { .. }, _) | (_, Ld::Zero { .. }) => Ld::Zero { neg },
                (
                    Ld::Fin {
                        mant: ma, exp: ea, ..
                    },
                    Ld::Fin {
                        mant: mb, exp: eb, ..
                    },
                ) => round_pack(neg, u128::from(ma) * u128::from(mb), ea + eb, false),
            }
        }

        /// `(long long)self` on x86-64: truncation, `LLONG_MIN` when out of range.
        pub(crate) fn to_i64_trunc(self) -> i64 {
            match self {
                Ld::Zero { .. } => 0,
                Ld::Inf { .. } | Ld::Nan => i64::MIN,
                Ld::Fin { neg, mant, exp } => {
                    if exp >= 0 {
                        return i64::MIN;
                    }
                    let s = (-exp) as u32;
                    let mag = if s >= 64 { 0 } else { mant >> s };
                    if mag > i64::MAX as u64 {
                        i64::MIN
                    } else if neg {
                        -(mag as i64)
                    } else {
                        mag as i64
                    }
                }
            }
        }

        /// `printf("%.17Lf")` without trailing zeros (Redis's `LD_STR_HUMAN`); `-0`
        /// becomes `0`.
        pub(crate) fn format_human(&self) -> String {
            let (neg, digits) = match *self {
                Ld::Fin { neg, mant, exp } => {
                    let mut p = Big::from_u128(u128::from(mant) * 100_000_000_000_000_000u128);
                    if exp >= 0 {
                        p.shl(exp as usize);
                    } else {
                        let s = (-exp) as usize;
                        let half = p.bit(s - 1);
                        let sticky = p.any_below(s - 1);
                        p.shr(s);
                        let odd = p.bit(0);
                        if half && (sticky || odd) {
                            p.add_small(1);
                        }
                    }
                    (neg, p.to_decimal())
                }
                Ld::Zero { neg } => (neg, "0".to_string()),
                Ld::Inf { neg } => return if neg { "-inf".into() } else { "inf".into() },
                Ld::Nan => return "nan".into(),
            };
            let padded = if digits.len() < 18 {
                format!("{}{digits}", "0".repeat(18 - digits.len()))
            } else {
                digits
            };
            let (int, frac) = padded.split_at(padded.len() - 17);
            let frac = frac.trim_end_matches('0');
            let mut s = String::with_capacity(padded.len() + 2);
            if neg {
                s.push('-');
            }
            s.push_str(int);
            if !frac.is_empty() {
                s.push('.');
                s.push_str(frac);
            }
            if s == "-0" {
                "0".into()
            } else {
                s
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Ld;

        fn p(s: &str) -> Ld {
            Ld::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s} parses"))
        }

        fn sum(a: &str, b: &str) -> String {
            p(a).add(p(b)).format_human()
        }

        #[test]
        fn parse_accepts_what_strtold_accepts() {
            for s in [
                "1",
                "-1",
                "+1",
                "1.",
                ".5",
                "1e5",
                "1E+05",
                "0x10",
                "0x1p3",
                "0x.8",
                "inf",
                "-Infinity",
                "0",
                "-0",
                "1e-4940",
                "00012",
            ] {
                assert!(Ld::parse(s.as_bytes()).is_some(), "{s}");
            }
            for s in [
                "", " 1", "1 ", "nan", "-nan", "abc", "1e", "1e+", ".", "0x", "1e4933", "1e-5000",
                "1..2", "--1", "0x1p",
            ] {
                assert!(Ld::parse(s.as_bytes()).is_none(), "{s}");
            }
            assert_eq!(p("0x10").to_i64_trunc(), 16);
            assert_eq!(p("0x1p3").to_i64_trunc(), 8);
        }

        #[test]
        fn arithmetic_matches_glibc_long_double() {
            assert_eq!(sum("0.1", "0.2"), "0.3");
            assert_eq!(sum("1.5", "0.1"), "1.6");
            assert_eq!(sum("10.5", "0.1"), "10.6");
            assert_eq!(sum("1", "0.3333333333333333333333"), "1.33333333333333333");
            assert_eq!(sum("0", "1e20"), "100000000000000000000");
            assert_eq!(sum("0", "5e-20"), "0");
            assert_eq!(sum("-1", "1"), "0");
            assert_eq!(sum("0", "-1e-20"), "0");
            assert_eq!(sum("9223372036854775807", "1"), "9223372036854775808");
            assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
            assert_eq!(sum("0", "3.814697265625e-06"), "0.00000381469726562");
            assert_eq!(sum("0", "1.1444091796875e-05"), "0.00001144409179688");
            // Outside f64's range, digit for digit what Redis 7.0.15 printed.
            assert_eq!(sum("1e308", "1e308"), "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096");
            assert_eq!(sum("0", "1.5e300"), "1500000000000000000049800109861472166362379239118673928551219718248973529929812708792854310575830930686530644566050229406926646739311017606984258288377434143937602778196710661234655944195770838513268846826150205418632995547271874827072936230594920013241190363994471886080567336615911694509046614720512");
            assert!(!p("1e4932").add(p("1e4932")).is_finite());
        }

        #[test]
        fn conversion_to_long_long() {
            let k = Ld::from_u64(1000);
            assert_eq!(p("1.5").mul(k).to_i64_trunc(), 1500);
            assert_eq!(p("-0.0001").mul(k).to_i64_trunc(), 0);
            assert_eq!(p("1e15").mul(k).to_i64_trunc(), 1_000_000_000_000_000_000);
            assert_eq!(p("1e16").mul(k).to_i64_trunc(), i64::MIN);
            assert_eq!(p("inf").mul(k).to_i64_trunc(), i64::MIN);
            assert_eq!(p("-2.9").to_i64_trunc(), -2);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{f::*, TestClient};
    use tandem_resp::Frame;

    #[test]
    fn set_get_and_friends() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["HSET", "h", "a", "1", "b", "2"]), int(2));
        assert_eq!(c.call(&["HSET", "h", "a", "10", "c", "3"]), int(1));
        assert_eq!(c.call(&["HMSET", "h", "d", "4"]), ok());
        assert_eq!(c.call(&["HSETNX", "h", "a", "x"]), int(0));
        assert_eq!(c.call(&["HSETNX", "h", "e", "5"]), int(1));
        assert_eq!(c.call(&["HGET", "h", "a"]), bulk("10"));
        assert_eq!(c.call(&["HGET", "h", "zz"]), nil());
        assert_eq!(c.call(&["HGET", "nokey", "a"]), nil());
        assert_eq!(
            c.call(&["HMGET", "h", "a", "zz", "b"]),
            arr(vec![bulk("10"), nil(), bulk("2")])
        );
        assert_eq!(c.call(&["HMGET", "nokey", "a"]), arr(vec![nil()]));
        assert_eq!(c.call(&["HLEN", "h"]), int(5));
        assert_eq!(c.call(&["HSTRLEN", "h", "a"]), int(2));
        assert_eq!(c.call(&["HSTRLEN", "h", "zz"]), int(0));
        assert_eq!(c.call(&["HEXISTS", "h", "a"]), int(1));
        assert_eq!(c.call(&["HEXISTS", "h", "zz"]), int(0));
        assert_eq!(c.call(&["HKEYS", "h"]), bulks(&["a", "b", "c", "d", "e"]));
        assert_eq!(c.call(&["HVALS", "h"]), bulks(&["10", "2", "3", "4", "5"]));
        assert_eq!(
            c.call(&["HGETALL", "h"]),
            bulks(&["a", "10", "b", "2", "c", "3", "d", "4", "e", "5"])
        );
        assert_eq!(c.call(&["HDEL", "h", "a", "zz", "b"]), int(2));
        assert_eq!(c.call(&["HDEL", "h", "zz"]), int(0));
        assert_eq!(c.call(&["HDEL", "h", "c", "d", "e"]), int(3));
        assert_eq!(c.call(&["HLEN", "h"]), int(0));
        assert_eq!(c.call(&["HGETALL", "h"]), arr(vec![]));
        assert_eq!(
            c.call(&["HSET", "h", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            c.call(&["HMSET", "h", "a"]),
            err("ERR wrong number of arguments for 'hmset' command")
        );
        c.call(&["SET", "s", "x"]);
        let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
        for cmd in [
            &["HSET", "s", "a", "1"][..],
            &["HSETNX", "s", "a", "1"],
            &["HGET", "s", "a"],
            &["HMGET", "s", "a"],
            &["HDEL", "s", "a"],
            &["HLEN", "s"],
            &["HGETALL", "s"],
            &["HINCRBY", "s", "a", "1"],
            &["HINCRBYFLOAT", "s", "a", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "1"],
            &["HSCAN", "s", "0"],
        ] {
            assert_eq!(c.call(cmd), wt, "{cmd:?}");
        }
    }

    #[test]
    fn resp3_shapes() {
        let mut c = TestClient::new();
        c.call(&["HELLO", "3"]);
        c.call(&["HSET", "h", "a", "1"]);
        assert_eq!(
            c.call(&["HGETALL", "h"]),
            Frame::Map(vec![(bulk("a"), bulk("1"))])
        );
        assert_eq!(c.raw(&[b"HGETALL", b"nokey"]), b"%0\r\n");
        assert_eq!(c.raw(&[b"HKEYS", b"nokey"]), b"*0\r\n");
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
            arr(vec![bulks(&["a", "1"]), bulks(&["a", "1"])])
        );
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
            arr(vec![bulks(&["a", "1"])])
        );
    }

    #[test]
    fn increments() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["HINCRBY", "h", "n", "5"]), int(5));
        assert_eq!(c.call(&["HINCRBY", "h", "n", "-7"]), int(-2));
        assert_eq!(c.call(&["HGET", "h", "n"]), bulk("-2"));
        assert_eq!(
            c.call(&["HINCRBY", "h", "n", "x"]),
            err("ERR value is not an integer or out of range")
        );
        c.call(&[
            "HSET",
            "h",
            "s",
            "abc",
            "big",
            "9223372036854775807",
            "f",
            "1.5",
        ]);
        assert_eq!(
            c.call(&["HINCRBY", "h", "s", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            c.call(&["HINCRBY", "h", "f", "1"]),
            err("ERR hash value is not an integer")
        );
        assert_eq!(
            c.call(&["HINCRBY", "h", "big", "1"]),
            err("ERR increment or decrement would overflow")
        );
        assert_eq!(c.call(&["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("1.6"));
        assert_eq!(
            c.call(&["HINCRBYFLOAT", "h", "big", "1"]),
            bulk("9223372036854775808")
        );
        assert_eq!(c.call(&["HINCRBYFLOAT", "h", "g", "0.1"]), bulk("0.1"));
        assert_eq!(c.call(&["HINCRBYFLOAT", "h", "g", "0.2"]), bulk("0.3"));
        assert_eq!(
            c.call(&["HINCRBYFLOAT", "h", "s", "1"]),
            err("ERR hash value is not a float")
        );
        assert_eq!(
            c.call(&["HINCRBYFLOAT", "h", "g", "x"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(
            c.call(&["HINCRBYFLOAT", "h", "g", "inf"]),
            err("ERR value is NaN or Infinity")
        );
        c.call(&["HSET", "h", "i", "inf"]);
        assert_eq!(
            c.call(&["HINCRBYFLOAT", "h", "i", "1"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(c.call(&["HINCRBYFLOAT", "h2", "x", "1.0e1"]), bulk("10"));
    }

    #[test]
    fn propagated_effects() {
        let mut c = TestClient::new();
        let cap = crate::cmd::lists::tests::Capture::on(&c);
        c.call(&["HSET", "h", "f", "1.5", "n", "1"]);
        c.call(&["HINCRBYFLOAT", "h", "f", "0.1"]);
        c.call(&["HINCRBY", "h", "n", "2"]);
        c.call(&["HDEL", "h", "nosuch"]);
        c.call(&["HSETNX", "h", "f", "x"]);
        c.call(&["HINCRBY", "h", "f", "1"]);
        c.call(&["HDEL", "h", "n", "nosuch"]);
        assert_eq!(
            cap.take(),
            [
                "HSET h f 1.5 n 1",
                "HSET h f 1.6",
                "HINCRBY h n 2",
                "HDEL h n nosuch"
            ]
        );
    }

    #[test]
    fn encodings() {
        let mut c = TestClient::new();
        let enc = |c: &TestClient, key: &str| {
            let ks = &c.engine.shared().keyspace;
            let mut g = ks.lock_key(0, key.as_bytes(), 0);
            match g.peek(0, key.as_bytes()) {
                Some(tandem_keyspace::ValueRef::Obj(o)) => o.encoding(),
                _ => "none",
            }
        };
        c.call(&["HSET", "h", "a", "1"]);
        assert_eq!(enc(&c, "h"), "listpack");
        c.call(&["HSETNX", "h", "a", &"x".repeat(65)]);
        assert_eq!(enc(&c, "h"), "listpack");
        c.call(&["HSETNX", "h", "b", &"x".repeat(65)]);
        assert_eq!(enc(&c, "h"), "hashtable");
        c.call(&["HINCRBYFLOAT", "g", "f", "1e80"]);
        assert_eq!(enc(&c, "g"), "hashtable");
    }

    #[test]
    fn hrandfield_counts() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["HRANDFIELD", "nokey"]), nil());
        assert_eq!(c.call(&["HRANDFIELD", "nokey", "5"]), arr(vec![]));
        c.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let Frame::Array(v) = c.call(&["HRANDFIELD", "h", "-10"]) else {
            panic!()
        };
        assert_eq!(v.len(), 10);
        let Frame::Array(v) = c.call(&["HRANDFIELD", "h", "2", "WITHVALUES"]) else {
            panic!()
        };
        assert_eq!(v.len(), 4);
        assert_ne!(v[0], v[2]);
        let Frame::Array(v) = c.call(&["HRANDFIELD", "h", "10"]) else {
            panic!()
        };
        assert_eq!(v.len(), 3);
        assert_eq!(c.call(&["HRANDFIELD", "h", "0"]), arr(vec![]));
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]),
            err("ERR value is out of range")
        );
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "1", "x"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["HRANDFIELD", "h", "1", "withvalues", "x"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn hscan_visits_everything() {
        let mut c = TestClient::new();
        assert_eq!(
            c.call(&["HSCAN", "nokey", "0", "foo"]),
            arr(vec![bulk("0"), arr(vec![])])
        );
        c.call(&["HSET", "small", "a", "1", "b", "2"]);
        assert_eq!(
            c.call(&["HSCAN", "small", "0", "MATCH", "a*"]),
            arr(vec![bulk("0"), bulks(&["a", "1"])])
        );
        assert_eq!(c.call(&["HSCAN", "small", "x"]), err("ERR invalid cursor"));
        assert_eq!(
            c.call(&["HSCAN", "small", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["HSCAN", "small", "0", "TYPE", "hash"]),
            err("ERR syntax error")
        );
        for i in 0..1000 {
            c.call(&["HSET", "big", &format!("f{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let Frame::Array(v) = c.call(&["HSCAN", "big", &cursor, "COUNT", "20"]) else {
                panic!()
            };
            let Frame::Bulk(cur) = &v[0] else { panic!() };
            cursor = String::from_utf8(cur.to_vec()).unwrap();
            let Frame::Array(items) = &v[1] else { panic!() };
            for pair in items.chunks(2) {
                let Frame::Bulk(f) = &pair[0] else { panic!() };
                seen.insert(f.to_vec());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
