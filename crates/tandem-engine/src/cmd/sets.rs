//! The set commands: SADD/SREM/SMOVE, membership and cardinality, random members
//! (SPOP, SRANDMEMBER), the algebra (SINTER, SUNION, SDIFF, their STORE forms,
//! SINTERCARD) and SSCAN.
//!
//! SPOP is propagated as `SREM key member` per popped member, or `DEL key` when it took
//! the whole set, as Redis 7.0 does. Results stored by the STORE forms are built from
//! scratch, so their encoding (`intset` or `hashtable`) is the one Redis would give.
//!
//! Also home of what HSCAN and SSCAN share (cursor and option parsing) and of the
//! random source of SPOP, SRANDMEMBER and HRANDFIELD.

use std::cell::Cell;

use tandem_keyspace::glob::glob_match;
use tandem_keyspace::{Guard, Object, Set, Ttl, Value, ValueRef};

use super::lists::{numkeys_keys, positive_long, range_long};
use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{CmdError, CmdResult, SYNTAX, WRONGTYPE};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: sadd,
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE | FAST,
        keys: Keys::range(1, 1, 1),
        run: srem,
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: smembers,
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: sismember,
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: smismember,
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: scard,
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::range(1, 1, 1),
        run: spop,
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: srandmember,
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE | FAST,
        keys: Keys::range(1, 2, 1),
        run: smove,
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        keys: Keys::range(1, -1, 1),
        run: sinter,
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: READONLY,
        keys: Keys::movable(sintercard_keys, 0, 0, 0),
        run: sintercard,
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, -1, 1),
        run: sinterstore,
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        keys: Keys::range(1, -1, 1),
        run: sunion,
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, -1, 1),
        run: sunionstore,
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        keys: Keys::range(1, -1, 1),
        run: sdiff,
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, -1, 1),
        run: sdiffstore,
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: sscan,
    },
];

fn sintercard_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 1, db, out)
}

// ---------------------------------------------------------------------------
// Shared helpers.

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish() | 1
    });
}

/// A random source (xorshift64*, one state per thread) for the random-member commands.
pub(crate) fn rng() -> impl FnMut() -> u64 {
    || {
        RNG.with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.set(x);
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
    }
}

/// A SCAN cursor as Redis's `strtoul` reads it (`-1` wraps, an empty string is 0).
pub(crate) fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let bad = CmdError::fixed("ERR invalid cursor");
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if a.is_empty() {
        return Ok(0);
    }
    if digits.is_empty() {
        return Err(bad);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(bad.clone())?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// HSCAN/SSCAN options.
pub(crate) struct ScanOpts<'a> {
    /// COUNT (default 10).
    pub(crate) count: usize,
    /// MATCH pattern, unless it is `*`.
    pub(crate) pattern: Option<&'a [u8]>,
}

/// Parses `[MATCH pattern] [COUNT count]` as Redis's `scanGenericCommand` does for a
/// key's elements.
pub(crate) fn parse_scan_opts<'a>(args: &[&'a [u8]]) -> Result<ScanOpts<'a>, CmdError> {
    let mut o = ScanOpts {
        count: 10,
        pattern: None,
    };
    let mut i = 0;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args[i].eq_ignore_ascii_case(b"count") && more {
            let n = super::lists::long_arg(args[i + 1], None)?;
            if n < 1 {
                return Err(SYNTAX);
            }
            o.count = n as usize;
        } else if args[i].eq_ignore_ascii_case(b"match") && more {
            let p = args[i + 1];
            o.pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    Ok(o)
}

fn read_set<'a>(ks: &'a mut Guard<'_>, db: usize, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::Set(s))) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE),
    }
}

fn peek_set<'a>(ks: &'a mut Guard<'_>, db: usize, key: &[u8]) -> Result<Option<&'a Set>, CmdError> {
    match ks.peek(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::Set(s))) => Ok(Some(s)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Runs `f` on the set under `key`; `Ok(None)` when there is no key.
fn update_set<R>(
    ks: &mut Guard<'_>,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut Set) -> R,
) -> Result<Option<R>, CmdError> {
    match ks.update(db, key, |o| match o {
        Object::Set(s) => Ok(f(s)),
        _ => Err(WRONGTYPE),
    }) {
        Some(r) => r.map(Some),
        None if ks.exists(db, key) => Err(WRONGTYPE),
        None => Ok(None),
    }
}

/// Adds `members` to the set under `key`, creating it; returns how many were new.
fn add_members(
    ks: &mut Guard<'_>,
    db: usize,
    key: &[u8],
    members: &[&[u8]],
) -> Result<usize, CmdError> {
    let add = |s: &mut Set| members.iter().filter(|m| s.insert(m)).count();
    if let Some(n) = update_set(ks, db, key, add)? {
        return Ok(n);
    }
    let mut s = Set::new();
    let n = add(&mut s);
    ks.set(db, key, Value::Obj(Object::Set(s)), Ttl::Clear);
    Ok(n)
}

// ---------------------------------------------------------------------------
// Single-set commands.

fn sadd(c: &mut Call<'_, '_>) -> CmdResult {
    let n = add_members(c.ks, c.db, c.argv[1], &c.argv[2..])?;
    if n > 0 {
        c.changed(n as u64);
    }
    c.out.int(n as i64);
    Ok(())
}

fn srem(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    let members = &c.argv[2..];
    let any = peek_set(c.ks, c.db, key)?.is_some_and(|s| members.iter().any(|m| s.contains(m)));
    let mut n = 0;
    if any {
        update_set(c.ks, c.db, key, |s| {
            for m in members {
                n += usize::from(s.remove(m));
                if s.is_empty() {
                    break;
                }
            }
        })?;
        c.changed(n as u64);
    }
    c.out.int(n as i64);
    Ok(())
}

fn smembers(c: &mut Call<'_, '_>) -> CmdResult {
    let out = &mut c.out;
    match read_set(c.ks, c.db, c.argv[1])? {
        None => out.set(0),
        Some(s) => {
            out.set(s.len());
            for m in s.iter() {
                out.bulk(&m);
            }
        }
    }
    Ok(())
}

fn sismember(c: &mut Call<'_, '_>) -> CmdResult {
    let m = c.argv[2];
    let yes = read_set(c.ks, c.db, c.argv[1])?.is_some_and(|s| s.contains(m));
    c.out.int(i64::from(yes));
    Ok(())
}

fn smismember(c: &mut Call<'_, '_>) -> CmdResult {
    let members = &c.argv[2..];
    let out = &mut c.out;
    let s = read_set(c.ks, c.db, c.argv[1])?;
    out.array(members.len());
    for m in members {
        out.int(i64::from(s.is_some_and(|s| s.contains(m))));
    }
    Ok(())
}

fn scard(c: &mut Call<'_, '_>) -> CmdResult {
    let n = read_set(c.ks, c.db, c.argv[1])?.map_or(0, Set::len);
    c.out.int(n as i64);
    Ok(())
}

fn spop(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc() > 3 {
        return Err(SYNTAX);
    }
    let key = c.argv[1];
    let mut r = rng();
    if c.argc() == 2 {
        if peek_set(c.ks, c.db, key)?.is_none() {
            c.out.null();
            return Ok(());
        }
        let m = update_set(c.ks, c.db, key, |s| s.pop_random(&mut r))?
            .flatten()
            .unwrap_or_default();
        c.out.bulk(&m);
        c.propagate_as(&[&b"SREM"[..], key, &m]);
        return Ok(());
    }
    let count = positive_long(c.argv[2], None)? as usize;
    let Some(size) = peek_set(c.ks, c.db, key)?.map(Set::len) else {
        c.out.set(0);
        return Ok(());
    };
    if count == 0 {
        c.out.set(0);
        return Ok(());
    }
    if count >= size {
        if let Some(Value::Obj(Object::Set(s))) = c.ks.remove(c.db, key) {
            c.out.set(s.len());
            for m in s.iter() {
                c.out.bulk(&m);
            }
        }
        c.propagate_as(&[&b"DEL"[..], key]);
        return Ok(());
    }
    let popped = update_set(c.ks, c.db, key, |s| {
        (0..count)
            .filter_map(|_| s.pop_random(&mut r))
            .collect::<Vec<_>>()
    })?
    .unwrap_or_default();
    c.out.set(popped.len());
    for m in &popped {
        c.out.bulk(m);
    }
    for m in &popped {
        c.propagate_as(&[&b"SREM"[..], key, m]);
    }
    Ok(())
}

fn srandmember(c: &mut Call<'_, '_>) -> CmdResult {
    let mut r = rng();
    if c.argc() > 3 {
        return Err(SYNTAX);
    }
    if c.argc() == 2 {
        match read_set(c.ks, c.db, c.argv[1])?.and_then(|s| s.random(&mut r)) {
            Some(m) => c.out.bulk(&m),
            None => c.out.null(),
        }
        return Ok(());
    }
    let l = range_long(c.argv[2], -i64::MAX, i64::MAX, None)?;
    let out = &mut c.out;
    let Some(s) = read_set(c.ks, c.db, c.argv[1])? else {
        out.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        out.array(0);
    } else if l < 0 || count == 1 {
        out.array(count);
        for _ in 0..count {
            if let Some(m) = s.random(&mut r) {
                out.bulk(&m);
            }
        }
    } else {
        out.array(count.min(s.len()));
        s.sample(count, &mut r, |m| out.bulk(&m));
    }
    Ok(())
}

fn smove(c: &mut Call<'_, '_>) -> CmdResult {
    let (src, dst, m) = (c.argv[1], c.argv[2], c.argv[3]);
    let Some(in_src) = peek_set(c.ks, c.db, src)?.map(|s| s.contains(m)) else {
        c.out.int(0);
        return Ok(());
    };
    peek_set(c.ks, c.db, dst)?;
    if src == dst {
        c.out.int(i64::from(in_src));
        return Ok(());
    }
    if !in_src {
        c.out.int(0);
        return Ok(());
    }
    update_set(c.ks, c.db, src, |s| s.remove(m))?;
    let added = add_members(c.ks, c.db, dst, &[m])?;
    c.changed(1 + added as u64);
    c.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------
// Algebra.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Type-checks every key (reads count hits and misses unless `write`) and returns the
/// cardinality of each (`None`: no key).
fn sizes(
    c: &mut Call<'_, '_>,
    keys: &[&[u8]],
    write: bool,
) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter()
        .map(|k| {
            let s = if write {
                peek_set(c.ks, c.db, k)?
            } else {
                read_set(c.ks, c.db, k)?
            };
            Ok(s.map(Set::len))
        })
        .collect()
}

/// Computes an operation over `keys` (already type-checked, sizes known) into a new
/// set, built member by member as Redis builds its results.
fn compute(c: &mut Call<'_, '_>, keys: &[&[u8]], sizes: &[Option<usize>], op: Op) -> Set {
    let (ks, db) = (&mut *c.ks, c.db);
    let mut res = Set::new();
    match op {
        Op::Inter => {
            if sizes.iter().any(|s| s.is_none_or(|n| n == 0)) {
                return res;
            }
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| sizes[i]);
            if let Ok(Some(s)) = peek_set(ks, db, keys[order[0]]) {
                for m in s.iter() {
                    res.insert(&m);
                }
            }
            for &i in &order[1..] {
                if res.is_empty() {
                    break;
                }
                if let Ok(Some(s)) = peek_set(ks, db, keys[i]) {
                    let gone: Vec<Vec<u8>> = res
                        .iter()
                        .filter(|m| !s.contains(m))
                        .map(|m| m.to_vec())
                        .collect();
                    for m in gone {
                        res.remove(&m);
                    }
                }
            }
        }
        Op::Union => {
            for k in keys {
                if let Ok(Some(s)) = peek_set(ks, db, k) {
                    for m in s.iter() {
                        res.insert(&m);
                    }
                }
            }
        }
        Op::Diff => {
            if sizes[0].is_none() {
                return res;
            }
            if let Ok(Some(s)) = peek_set(ks, db, keys[0]) {
                for m in s.iter() {
                    res.insert(&m);
                }
            }
            for k in &keys[1..] {
                if res.is_empty() {
                    break;
                }
                if let Ok(Some(s)) = peek_set(ks, db, k) {
                    if s.len() < res.len() {
                        for m in s.iter() {
                            res.remove(&m);
                        }
                    } else {
                        let gone: Vec<Vec<u8>> = res
                            .iter()
                            .filter(|m| s.contains(m))
                            .map(|m| m.to_vec())
                            .collect();
                        for m in gone {
                            res.remove(&m);
                        }
                    }
                }
            }
        }
    }
    res
}

fn reply_members(c: &mut Call<'_, '_>, s: &Set) {
    c.out.set(s.len());
    for m in s.iter() {
        c.out.bulk(&m);
    }
}

fn op_reply(c: &mut Call<'_, '_>, op: Op) -> CmdResult {
    let keys = &c.argv[1..];
    let sizes = sizes(c, keys, false)?;
    let res = compute(c, keys, &sizes, op);
    reply_members(c, &res);
    Ok(())
}

fn op_store(c: &mut Call<'_, '_>, op: Op) -> CmdResult {
    let dst = c.argv[1];
    let keys = &c.argv[2..];
    let sizes = sizes(c, keys, true)?;
    let res = compute(c, keys, &sizes, op);
    let n = res.len();
    if n > 0 {
        c.ks.set(c.db, dst, Value::Obj(Object::Set(res)), Ttl::Clear);
        c.changed(1);
    } else if c.ks.delete(c.db, dst) {
        c.changed(1);
    }
    c.out.int(n as i64);
    Ok(())
}

fn sinter(c: &mut Call<'_, '_>) -> CmdResult {
    op_reply(c, Op::Inter)
}

fn sunion(c: &mut Call<'_, '_>) -> CmdResult {
    op_reply(c, Op::Union)
}

fn sdiff(c: &mut Call<'_, '_>) -> CmdResult {
    op_reply(c, Op::Diff)
}

fn sinterstore(c: &mut Call<'_, '_>) -> CmdResult {
    op_store(c, Op::Inter)
}

fn sunionstore(c: &mut Call<'_, '_>) -> CmdResult {
    op_store(c, Op::Union)
}

fn sdiffstore(c: &mut Call<'_, '_>) -> CmdResult {
    op_store(c, Op::Diff)
}

fn sintercard(c: &mut Call<'_, '_>) -> CmdResult {
    let numkeys = range_long(
        c.argv[1],
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )?;
    if numkeys > c.argc() as i64 - 2 {
        return Err(CmdError::fixed(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < c.argc() {
        if c.is(j, "limit") && j + 1 < c.argc() {
            limit = positive_long(c.argv[j + 1], Some("ERR LIMIT can't be negative"))? as usize;
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let keys = &c.argv[2..2 + numkeys];
    let sizes = sizes(c, keys, false)?;
    let n = compute(c, keys, &sizes, Op::Inter).len();
    let n = if limit > 0 { n.min(limit) } else { n };
    c.out.int(n as i64);
    Ok(())
}

fn sscan(c: &mut Call<'_, '_>) -> CmdResult {
    let cursor = parse_cursor(c.argv[2])?;
    let argv = c.argv;
    let out = &mut c.out;
    let Some(s) = read_set(c.ks, c.db, argv[1])? else {
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    };
    let ScanOpts { count, pattern } = parse_scan_opts(&argv[3..])?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = s.scan(cursor, count, |m| {
        if pattern.is_none_or(|p| glob_match(p, &m, false)) {
            found.push(m.to_vec());
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len());
    for m in &found {
        out.bulk(m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::testkit::{f::*, TestClient};
    use tandem_resp::Frame;

    fn members(f: Frame) -> BTreeSet<String> {
        let (Frame::Array(v) | Frame::Set(v)) = f else {
            panic!("not a collection: {f:?}")
        };
        v.into_iter()
            .map(|m| match m {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn set_of(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn add_remove_members() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["SADD", "s", "a", "b", "a"]), int(2));
        assert_eq!(c.call(&["SADD", "s", "a"]), int(0));
        assert_eq!(c.call(&["SCARD", "s"]), int(2));
        assert_eq!(c.call(&["SISMEMBER", "s", "a"]), int(1));
        assert_eq!(c.call(&["SISMEMBER", "s", "z"]), int(0));
        assert_eq!(
            c.call(&["SMISMEMBER", "s", "a", "z"]),
            arr(vec![int(1), int(0)])
        );
        assert_eq!(c.call(&["SMISMEMBER", "nokey", "a"]), arr(vec![int(0)]));
        assert_eq!(members(c.call(&["SMEMBERS", "s"])), set_of(&["a", "b"]));
        assert_eq!(c.call(&["SREM", "s", "a", "z"]), int(1));
        assert_eq!(c.call(&["SREM", "s", "z"]), int(0));
        assert_eq!(c.call(&["SREM", "s", "b"]), int(1));
        assert_eq!(c.call(&["SCARD", "s"]), int(0));
        assert_eq!(c.call(&["SMEMBERS", "s"]), arr(vec![]));
        c.call(&["SADD", "i", "3", "1", "2"]);
        assert_eq!(c.call(&["SMEMBERS", "i"]), bulks(&["1", "2", "3"]));
        c.call(&["SET", "str", "x"]);
        let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
        for cmd in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SMEMBERS", "str"],
            &["SISMEMBER", "str", "a"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str", "1"],
            &["SMOVE", "str", "i", "1"],
            &["SMOVE", "i", "str", "1"],
            &["SINTER", "nokey", "str"],
            &["SUNION", "i", "str"],
            &["SDIFF", "str"],
            &["SINTERSTORE", "d", "i", "str"],
            &["SINTERCARD", "2", "i", "str"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(c.call(cmd), wt, "{cmd:?}");
        }
    }

    #[test]
    fn resp3_sets() {
        let mut c = TestClient::new();
        c.call(&["HELLO", "3"]);
        c.call(&["SADD", "s", "a"]);
        assert_eq!(c.call(&["SMEMBERS", "s"]), Frame::Set(vec![bulk("a")]));
        assert_eq!(c.raw(&[b"SMEMBERS", b"nokey"]), b"~0\r\n");
        assert_eq!(c.raw(&[b"SPOP", b"nokey", b"2"]), b"~0\r\n");
        assert_eq!(c.raw(&[b"SPOP", b"nokey"]), b"_\r\n");
        assert_eq!(c.raw(&[b"SRANDMEMBER", b"s", b"5"]), b"*1\r\n$1\r\na\r\n");
        assert_eq!(c.raw(&[b"SINTER", b"s", b"nokey"]), b"~0\r\n");
        assert_eq!(c.raw(&[b"SPOP", b"s", b"3"]), b"~1\r\n$1\r\na\r\n");
    }

    #[test]
    fn random_members() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["SPOP", "nokey"]), nil());
        assert_eq!(c.call(&["SRANDMEMBER", "nokey"]), nil());
        assert_eq!(c.call(&["SRANDMEMBER", "nokey", "3"]), arr(vec![]));
        c.call(&["SADD", "s", "a", "b", "c", "d", "e"]);
        let all = set_of(&["a", "b", "c", "d", "e"]);
        let Frame::Array(v) = c.call(&["SRANDMEMBER", "s", "-20"]) else {
            panic!()
        };
        assert_eq!(v.len(), 20);
        let got = members(c.call(&["SRANDMEMBER", "s", "3"]));
        assert_eq!(got.len(), 3);
        assert!(got.is_subset(&all));
        assert_eq!(members(c.call(&["SRANDMEMBER", "s", "10"])), all);
        assert_eq!(
            c.call(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            c.call(&["SRANDMEMBER", "s", "1", "2"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["SPOP", "s", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(c.call(&["SPOP", "s", "1", "2"]), err("ERR syntax error"));
        assert_eq!(c.call(&["SPOP", "s", "0"]), arr(vec![]));
        let popped = members(c.call(&["SPOP", "s", "2"]));
        assert_eq!(popped.len(), 2);
        let Frame::Bulk(one) = c.call(&["SPOP", "s"]) else {
            panic!()
        };
        assert!(!popped.contains(std::str::from_utf8(&one).unwrap()));
        assert_eq!(c.call(&["SCARD", "s"]), int(2));
        assert_eq!(members(c.call(&["SPOP", "s", "9"])).len(), 2);
        assert_eq!(c.call(&["SCARD", "s"]), int(0));
    }

    #[test]
    fn propagated_effects() {
        let mut c = TestClient::new();
        let cap = crate::cmd::lists::tests::Capture::on(&c);
        c.call(&["SADD", "s", "a", "b", "c", "d"]);
        let Frame::Bulk(m) = c.call(&["SPOP", "s"]) else {
            panic!()
        };
        let m = String::from_utf8(m.to_vec()).unwrap();
        assert_eq!(
            cap.take(),
            ["SADD s a b c d".to_string(), format!("SREM s {m}")]
        );
        let popped = members(c.call(&["SPOP", "s", "2"]));
        let mut srems: Vec<String> = cap.take();
        srems.sort();
        let want: Vec<String> = popped.iter().map(|m| format!("SREM s {m}")).collect();
        assert_eq!(srems, want);
        c.call(&["SPOP", "s", "5"]);
        assert_eq!(cap.take(), ["DEL s"]);
        c.call(&["SADD", "s", "x"]);
        c.call(&["SADD", "s", "x"]);
        c.call(&["SREM", "s", "nosuch"]);
        c.call(&["SPOP", "s", "0"]);
        c.call(&["SMOVE", "s", "t", "nosuch"]);
        c.call(&["SINTERSTORE", "d", "nokey"]);
        assert_eq!(cap.take(), ["SADD s x"]);
        c.call(&["SUNIONSTORE", "d", "s"]);
        c.call(&["SINTERSTORE", "d", "nokey"]);
        c.call(&["SMOVE", "s", "t", "x"]);
        assert_eq!(
            cap.take(),
            ["SUNIONSTORE d s", "SINTERSTORE d nokey", "SMOVE s t x"]
        );
    }

    #[test]
    fn store_results_get_redis_encodings() {
        let mut c = TestClient::new();
        let enc = |c: &TestClient, key: &str| {
            let ks = &c.engine.shared().keyspace;
            let mut g = ks.lock_key(0, key.as_bytes(), 0);
            match g.peek(0, key.as_bytes()) {
                Some(tandem_keyspace::ValueRef::Obj(o)) => o.encoding(),
                _ => "none",
            }
        };
        c.call(&["SADD", "a", "1", "2", "x"]);
        c.call(&["SADD", "b", "1", "2"]);
        assert_eq!(enc(&c, "a"), "hashtable");
        c.call(&["SINTERSTORE", "d", "a", "b"]);
        assert_eq!(enc(&c, "d"), "intset");
        c.call(&["SDIFFSTORE", "d", "a", "b"]);
        assert_eq!(enc(&c, "d"), "hashtable");
    }

    #[test]
    fn no_op_writes_keep_watches() {
        let mut a = TestClient::new();
        let mut b = a.other();
        b.call(&["SADD", "s", "m"]);
        b.call(&["HSET", "h", "f", "v"]);
        b.call(&["RPUSH", "l", "x"]);
        a.call(&["WATCH", "s", "h", "l"]);
        b.call(&["SREM", "s", "nosuch"]);
        b.call(&["HDEL", "h", "nosuch"]);
        b.call(&["HSETNX", "h", "f", "other"]);
        b.call(&["LREM", "l", "0", "nosuch"]);
        b.call(&["LINSERT", "l", "BEFORE", "nosuch", "y"]);
        b.call(&["SMOVE", "s", "t", "nosuch"]);
        b.call(&["SPOP", "s", "0"]);
        a.call(&["MULTI"]);
        a.call(&["SCARD", "s"]);
        assert_eq!(a.call(&["EXEC"]), arr(vec![int(1)]));
        a.call(&["WATCH", "s"]);
        b.call(&["SREM", "s", "m"]);
        a.call(&["MULTI"]);
        a.call(&["SCARD", "s"]);
        assert_eq!(a.call(&["EXEC"]), Frame::Null);
    }

    #[test]
    fn smove_cases() {
        let mut c = TestClient::new();
        c.call(&["SADD", "a", "1", "2"]);
        c.call(&["SET", "str", "x"]);
        assert_eq!(c.call(&["SMOVE", "nokey", "str", "1"]), int(0));
        assert_eq!(c.call(&["SMOVE", "a", "a", "1"]), int(1));
        assert_eq!(c.call(&["SMOVE", "a", "a", "9"]), int(0));
        assert_eq!(c.call(&["SMOVE", "a", "b", "9"]), int(0));
        assert_eq!(c.call(&["SMOVE", "a", "b", "1"]), int(1));
        assert_eq!(c.call(&["SMOVE", "a", "b", "2"]), int(1));
        assert_eq!(c.call(&["SCARD", "a"]), int(0));
        assert_eq!(c.call(&["SMEMBERS", "b"]), bulks(&["1", "2"]));
    }

    #[test]
    fn algebra() {
        let mut c = TestClient::new();
        c.call(&["SADD", "a", "1", "2", "3", "x"]);
        c.call(&["SADD", "b", "2", "3", "4"]);
        c.call(&["SADD", "c", "3", "4", "5"]);
        assert_eq!(members(c.call(&["SINTER", "a", "b", "c"])), set_of(&["3"]));
        assert_eq!(members(c.call(&["SINTER", "a", "b"])), set_of(&["2", "3"]));
        assert_eq!(c.call(&["SINTER", "a", "nokey"]), arr(vec![]));
        assert_eq!(
            members(c.call(&["SUNION", "a", "nokey", "c"])),
            set_of(&["1", "2", "3", "4", "5", "x"])
        );
        assert_eq!(
            members(c.call(&["SDIFF", "a", "b", "nokey"])),
            set_of(&["1", "x"])
        );
        assert_eq!(c.call(&["SDIFF", "nokey", "a"]), arr(vec![]));
        assert_eq!(c.call(&["SINTERCARD", "2", "a", "b"]), int(2));
        assert_eq!(c.call(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
        assert_eq!(c.call(&["SINTERCARD", "2", "a", "b", "LIMIT", "0"]), int(2));
        for (args, e) in [
            (
                &["SINTERCARD", "0", "a"][..],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "x", "a"],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["SINTERCARD", "3", "a", "b"],
                "ERR Number of keys can't be greater than number of args",
            ),
            (
                &["SINTERCARD", "1", "a", "LIMIT", "-1"],
                "ERR LIMIT can't be negative",
            ),
            (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
            (&["SINTERCARD", "1", "a", "foo"], "ERR syntax error"),
        ] {
            assert_eq!(c.call(args), err(e), "{args:?}");
        }
        assert_eq!(c.call(&["SINTERSTORE", "d", "a", "b"]), int(2));
        assert_eq!(members(c.call(&["SMEMBERS", "d"])), set_of(&["2", "3"]));
        assert_eq!(c.call(&["SUNIONSTORE", "d", "b", "c"]), int(4));
        assert_eq!(c.call(&["SDIFFSTORE", "d", "a", "b"]), int(2));
        assert_eq!(members(c.call(&["SMEMBERS", "d"])), set_of(&["1", "x"]));
        assert_eq!(c.call(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
        assert_eq!(c.call(&["SCARD", "d"]), int(0));
        assert_eq!(c.call(&["SUNIONSTORE", "a", "a", "c"]), int(6));
    }

    #[test]
    fn sscan_cursor_parsing() {
        let mut c = TestClient::new();
        c.call(&["SADD", "s", "7"]);
        // An intset is returned whole whatever the cursor.
        assert_eq!(
            c.call(&["SSCAN", "s", "-1"]),
            arr(vec![bulk("0"), bulks(&["7"])])
        );
        assert_eq!(
            c.call(&["SSCAN", "s", ""]),
            arr(vec![bulk("0"), bulks(&["7"])])
        );
        assert_eq!(
            c.call(&["SSCAN", "s", "18446744073709551616"]),
            err("ERR invalid cursor")
        );
        assert_eq!(c.call(&["SSCAN", "s", "-"]), err("ERR invalid cursor"));
        assert_eq!(
            c.call(&["SSCAN", "s", "0", "MATCH", "b*"]),
            arr(vec![bulk("0"), arr(vec![])])
        );
        assert_eq!(
            c.call(&["SSCAN", "nokey", "0", "COUNT", "0"]),
            arr(vec![bulk("0"), arr(vec![])])
        );
        assert_eq!(
            c.call(&["SSCAN", "s", "0", "COUNT", "0"]),
            err("ERR syntax error")
        );
    }
}
