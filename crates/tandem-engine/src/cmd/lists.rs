//! The list commands: pushes, pops (with COUNT, from several keys, blocking), ranges,
//! LINSERT/LSET/LREM/LTRIM/LPOS and the moves between lists.
//!
//! Blocking variants (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP) serve at once when a
//! list has elements and are then propagated as their non-blocking effect (`LPOP key`,
//! `RPOP key count`, `LMOVE …`, `RPOPLPUSH …`), as Redis 7.0 does. Otherwise they block
//! with [`Call::block`]; the engine runs them again when a push signals one of their keys
//! (every push calls [`Call::signal_ready`]) and answers a null array on timeout. Inside
//! MULTI/EXEC they never block: they answer as if they had timed out.
//!
//! The argument parsers shared with the hash and set families (Redis's
//! `getRangeLongFromObjectOrReply` and friends, blocking timeouts) live here too.

use tandem_keyspace::{Guard, List, Object, Ttl, Value, ValueRef};

use super::hashes::ld::Ld;
use crate::call::Call;
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{
    wrong_arity, CmdError, CmdResult, INDEX_RANGE, NOT_INTEGER, NO_SUCH_KEY, SYNTAX, TIMEOUT_FLOAT,
    TIMEOUT_NEGATIVE, WRONGTYPE,
};

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: lpush,
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: rpush,
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: lpushx,
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        keys: Keys::range(1, 1, 1),
        run: rpushx,
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::range(1, 1, 1),
        run: lpop,
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: WRITE | FAST,
        keys: Keys::range(1, 1, 1),
        run: rpop,
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: READONLY | FAST,
        keys: Keys::range(1, 1, 1),
        run: llen,
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: lrange,
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: lindex,
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, 1, 1),
        run: lset,
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, 1, 1),
        run: linsert,
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: WRITE,
        keys: Keys::range(1, 1, 1),
        run: lrem,
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: WRITE,
        keys: Keys::range(1, 1, 1),
        run: ltrim,
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: READONLY,
        keys: Keys::range(1, 1, 1),
        run: lpos,
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, 2, 1),
        run: rpoplpush,
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: WRITE | DENYOOM,
        keys: Keys::range(1, 2, 1),
        run: lmove,
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: WRITE,
        keys: Keys::movable(numkeys_at_1, 0, 0, 0),
        run: lmpop,
    },
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        keys: Keys::range(1, -2, 1),
        run: blpop,
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        keys: Keys::range(1, -2, 1),
        run: brpop,
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys: Keys::range(1, 2, 1),
        run: brpoplpush,
    },
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        keys: Keys::range(1, 2, 1),
        run: blmove,
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: WRITE | BLOCKING,
        keys: Keys::movable(numkeys_at_2, 0, 0, 0),
        run: blmpop,
    },
];

// ---------------------------------------------------------------------------
// Argument parsing shared by the collection families.

/// `numkeys key …` forms: the keys that `argv[at]` announces, as far as they exist.
pub(crate) fn numkeys_keys(argv: &[&[u8]], at: usize, db: usize, out: &mut Vec<(usize, usize)>) {
    let Some(n) = argv.get(at).and_then(|a| tandem_resp::parse_i64(a)) else {
        return;
    };
    if n <= 0 {
        return;
    }
    let first = at + 1;
    let last = first.saturating_add(n as usize).min(argv.len());
    out.extend((first..last).map(|i| (db, i)));
}

fn numkeys_at_1(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 1, db, out)
}

fn numkeys_at_2(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    numkeys_keys(argv, 2, db, out)
}

/// Redis's `getLongFromObjectOrReply`: `msg` replaces the default error text.
pub(crate) fn long_arg(a: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    tandem_resp::parse_i64(a).ok_or(match msg {
        Some(m) => CmdError::fixed(m),
        None => NOT_INTEGER,
    })
}

/// Redis's `getRangeLongFromObjectOrReply`.
pub(crate) fn range_long(
    a: &[u8],
    min: i64,
    max: i64,
    msg: Option<&'static str>,
) -> Result<i64, CmdError> {
    let v = long_arg(a, msg)?;
    if v < min || v > max {
        return Err(match msg {
            Some(m) => CmdError::fixed(m),
            None => CmdError::msg(format!(
                "ERR value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(v)
}

/// Redis's `getPositiveLongFromObjectOrReply` (0 allowed).
pub(crate) fn positive_long(a: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    range_long(
        a,
        0,
        i64::MAX,
        Some(msg.unwrap_or("ERR value is out of range, must be positive")),
    )
}

/// A blocking command's timeout in seconds (a `long double`, as Redis parses it) as an
/// absolute deadline in unix ms; `None` blocks forever (0, or less than a millisecond).
pub(crate) fn parse_timeout(a: &[u8], now_ms: u64) -> Result<Option<u64>, CmdError> {
    let secs = Ld::parse(a).ok_or(TIMEOUT_FLOAT)?;
    let ms = secs.mul(Ld::from_u64(1000)).to_i64_trunc();
    if ms < 0 {
        return Err(TIMEOUT_NEGATIVE);
    }
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(now_ms.saturating_add(ms as u64)))
}

/// `LEFT` / `RIGHT`: whether it means the head.
fn parse_where(a: &[u8]) -> Result<bool, CmdError> {
    if a.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if a.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(SYNTAX)
    }
}

// ---------------------------------------------------------------------------
// Keyspace access.

/// The list under `key` for reading (counts a hit or miss).
fn read_list<'a>(
    ks: &'a mut Guard<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a List>, CmdError> {
    match ks.get(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::List(l))) => Ok(Some(l)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// The list under `key` for a write that inspects first (no statistics).
fn peek_list<'a>(
    ks: &'a mut Guard<'_>,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a List>, CmdError> {
    match ks.peek(db, key) {
        None => Ok(None),
        Some(ValueRef::Obj(Object::List(l))) => Ok(Some(l)),
        Some(_) => Err(WRONGTYPE),
    }
}

/// Runs `f` on the list under `key`; `Ok(None)` when there is no key. A list left empty
/// is deleted.
fn update_list<R>(
    ks: &mut Guard<'_>,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut List) -> R,
) -> Result<Option<R>, CmdError> {
    match ks.update(db, key, |o| match o {
        Object::List(l) => Ok(f(l)),
        _ => Err(WRONGTYPE),
    }) {
        Some(r) => r.map(Some),
        None if ks.exists(db, key) => Err(WRONGTYPE),
        None => Ok(None),
    }
}

/// Pushes `vals` onto the list under `key`, creating it; returns the new length.
fn push_into(
    ks: &mut Guard<'_>,
    db: usize,
    key: &[u8],
    front: bool,
    vals: &[&[u8]],
) -> Result<usize, CmdError> {
    let push = |l: &mut List| {
        for v in vals {
            if front {
                l.push_front(v);
            } else {
                l.push_back(v);
            }
        }
        l.len()
    };
    if let Some(n) = update_list(ks, db, key, push)? {
        return Ok(n);
    }
    let mut l = List::new();
    let n = push(&mut l);
    ks.set(db, key, Value::Obj(Object::List(l)), Ttl::Clear);
    Ok(n)
}

// ---------------------------------------------------------------------------
// Pushes and pops.

fn push_generic(c: &mut Call<'_, '_>, front: bool, only_existing: bool) -> CmdResult {
    let key = c.argv[1];
    let vals = &c.argv[2..];
    if only_existing {
        match update_list(c.ks, c.db, key, |l| {
            for v in vals {
                if front {
                    l.push_front(v);
                } else {
                    l.push_back(v);
                }
            }
            l.len()
        })? {
            Some(n) => {
                c.changed(vals.len() as u64);
                c.signal_ready(c.db, key);
                c.out.int(n as i64);
            }
            None => c.out.int(0),
        }
        return Ok(());
    }
    let n = push_into(c.ks, c.db, key, front, vals)?;
    c.changed(vals.len() as u64);
    c.signal_ready(c.db, key);
    c.out.int(n as i64);
    Ok(())
}

fn lpush(c: &mut Call<'_, '_>) -> CmdResult {
    push_generic(c, true, false)
}

fn rpush(c: &mut Call<'_, '_>) -> CmdResult {
    push_generic(c, false, false)
}

fn lpushx(c: &mut Call<'_, '_>) -> CmdResult {
    push_generic(c, true, true)
}

fn rpushx(c: &mut Call<'_, '_>) -> CmdResult {
    push_generic(c, false, true)
}

/// Pops up to `count` elements from one end, replying with each as a bulk string.
fn pop_n(l: &mut List, front: bool, count: usize, out: &mut crate::reply::Reply<'_>) {
    for _ in 0..count {
        if front {
            l.pop_front_with(|v| out.bulk(v));
        } else {
            l.pop_back_with(|v| out.bulk(v));
        }
    }
}

fn pop_generic(c: &mut Call<'_, '_>, front: bool) -> CmdResult {
    let name = if front { "lpop" } else { "rpop" };
    if c.argc() > 3 {
        return Err(wrong_arity(name));
    }
    let count = if c.argc() == 3 {
        Some(positive_long(c.argv[2], None)? as usize)
    } else {
        None
    };
    let key = c.argv[1];
    let len = peek_list(c.ks, c.db, key)?.map(List::len);
    let Some(len) = len else {
        match count {
            Some(_) => c.out.null_array(),
            None => c.out.null(),
        }
        return Ok(());
    };
    let out = &mut c.out;
    match count {
        None => {
            update_list(c.ks, c.db, key, |l| pop_n(l, front, 1, out))?;
            c.changed(1);
        }
        Some(0) => out.array(0),
        Some(n) => {
            let n = n.min(len);
            out.array(n);
            update_list(c.ks, c.db, key, |l| pop_n(l, front, n, out))?;
            c.changed(n as u64);
        }
    }
    Ok(())
}

fn lpop(c: &mut Call<'_, '_>) -> CmdResult {
    pop_generic(c, true)
}

fn rpop(c: &mut Call<'_, '_>) -> CmdResult {
    pop_generic(c, false)
}

// ---------------------------------------------------------------------------
// Reads and in-place edits.

fn llen(c: &mut Call<'_, '_>) -> CmdResult {
    let n = read_list(c.ks, c.db, c.argv[1])?.map_or(0, List::len);
    c.out.int(n as i64);
    Ok(())
}

/// Redis's start/end normalization for LRANGE: the inclusive range, if not empty.
fn norm_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

fn lrange(c: &mut Call<'_, '_>) -> CmdResult {
    let start = c.int_arg(2)?;
    let end = c.int_arg(3)?;
    let out = &mut c.out;
    match read_list(c.ks, c.db, c.argv[1])? {
        None => out.array(0),
        Some(l) => match norm_range(start, end, l.len()) {
            None => out.array(0),
            Some((s, e)) => {
                out.array(e - s + 1);
                for v in l.iter_from(s).take(e - s + 1) {
                    out.bulk(v);
                }
            }
        },
    }
    Ok(())
}

/// A possibly negative index into a list of `len` elements.
fn norm_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i.checked_add(len as i64)? } else { i };
    (i >= 0 && (i as u64) < len as u64).then_some(i as usize)
}

fn lindex(c: &mut Call<'_, '_>) -> CmdResult {
    let argv = c.argv;
    let out = &mut c.out;
    match read_list(c.ks, c.db, argv[1])? {
        None => out.null(),
        Some(l) => {
            let i = long_arg(argv[2], None)?;
            match norm_index(i, l.len()).and_then(|i| l.get(i)) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
    }
    Ok(())
}

fn lset(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    let len = peek_list(c.ks, c.db, key)?.ok_or(NO_SUCH_KEY)?.len();
    let i = c.int_arg(2)?;
    let i = norm_index(i, len).ok_or(INDEX_RANGE)?;
    let v = c.argv[3];
    update_list(c.ks, c.db, key, |l| l.set(i, v))?;
    c.changed(1);
    c.out.ok();
    Ok(())
}

fn linsert(c: &mut Call<'_, '_>) -> CmdResult {
    let after = if c.is(2, "after") {
        true
    } else if c.is(2, "before") {
        false
    } else {
        return Err(SYNTAX);
    };
    let key = c.argv[1];
    let pos = match peek_list(c.ks, c.db, key)? {
        None => {
            c.out.int(0);
            return Ok(());
        }
        Some(l) => l.position(c.argv[3]),
    };
    let Some(pos) = pos else {
        c.out.int(-1);
        return Ok(());
    };
    let v = c.argv[4];
    let at = if after { pos + 1 } else { pos };
    let n = update_list(c.ks, c.db, key, |l| {
        l.insert(at, v);
        l.len()
    })?
    .unwrap_or(0);
    c.changed(1);
    c.signal_ready(c.db, key);
    c.out.int(n as i64);
    Ok(())
}

fn lrem(c: &mut Call<'_, '_>) -> CmdResult {
    let count = c.int_arg(2)?;
    let key = c.argv[1];
    let v = c.argv[3];
    let present = match peek_list(c.ks, c.db, key)? {
        None => false,
        Some(l) => l.iter().any(|e| e == v),
    };
    let removed = if present {
        update_list(c.ks, c.db, key, |l| l.remove_value(v, count))?.unwrap_or(0)
    } else {
        0
    };
    if removed > 0 {
        c.changed(removed as u64);
    }
    c.out.int(removed as i64);
    Ok(())
}

fn ltrim(c: &mut Call<'_, '_>) -> CmdResult {
    let start = c.int_arg(2)?;
    let end = c.int_arg(3)?;
    let key = c.argv[1];
    let removed = update_list(c.ks, c.db, key, |l| {
        let len = l.len();
        let (front, back) = match norm_range(start, end, len) {
            None => (len, 0),
            Some((s, e)) => (s, len - e - 1),
        };
        l.remove_front(front);
        l.remove_back(back);
        front + back
    })?;
    if let Some(n) = removed.filter(|&n| n > 0) {
        c.changed(n as u64);
    }
    c.out.ok();
    Ok(())
}

fn lpos(c: &mut Call<'_, '_>) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < c.argc() {
        let more = j + 1 < c.argc();
        if c.is(j, "rank") && more {
            rank = long_arg(c.argv[j + 1], None)?;
            if rank == 0 {
                return Err(CmdError::fixed(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if c.is(j, "count") && more {
            count =
                Some(positive_long(c.argv[j + 1], Some("ERR COUNT can't be negative"))? as usize);
        } else if c.is(j, "maxlen") && more {
            maxlen = positive_long(c.argv[j + 1], Some("ERR MAXLEN can't be negative"))? as usize;
        } else {
            return Err(SYNTAX);
        }
        j += 2;
    }
    // A negative rank searches from the tail (LLONG_MIN stays negative, as in Redis).
    let from_tail = rank < 0;
    let rank = if rank == i64::MIN {
        1
    } else {
        rank.unsigned_abs()
    };
    let ele = c.argv[2];
    let out = &mut c.out;
    let Some(l) = read_list(c.ks, c.db, c.argv[1])? else {
        match count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let len = l.len();
    let limit = if maxlen == 0 { len } else { maxlen.min(len) };
    let mut found: Vec<i64> = Vec::new();
    let mut matches: u64 = 0;
    let mut scan = |k: usize, e: &[u8]| -> bool {
        if e == ele {
            matches += 1;
            if matches >= rank {
                let idx = if from_tail { len - 1 - k } else { k };
                found.push(idx as i64);
                match count {
                    None => return true,
                    Some(n) => {
                        if n != 0 && found.len() >= n {
                            return true;
                        }
                    }
                }
            }
        }
        false
    };
    if from_tail {
        for (k, e) in l.iter().rev().take(limit).enumerate() {
            if scan(k, e) {
                break;
            }
        }
    } else {
        for (k, e) in l.iter().take(limit).enumerate() {
            if scan(k, e) {
                break;
            }
        }
    }
    match count {
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i);
            }
        }
        None => match found.first() {
            Some(&i) => out.int(i),
            None => out.null(),
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Moves.

/// Moves one element from `src` to `dst` if `src` has one; replies with it (or a null
/// bulk string). Returns whether something moved.
fn move_generic(c: &mut Call<'_, '_>, from_front: bool, to_front: bool) -> Result<bool, CmdError> {
    let src = c.argv[1];
    let dst = c.argv[2];
    if peek_list(c.ks, c.db, src)?.is_none() {
        c.out.null();
        return Ok(false);
    }
    peek_list(c.ks, c.db, dst)?;
    let v = update_list(c.ks, c.db, src, |l| {
        if from_front {
            l.pop_front()
        } else {
            l.pop_back()
        }
    })?
    .flatten()
    .unwrap_or_default();
    push_into(c.ks, c.db, dst, to_front, &[&v])?;
    c.signal_ready(c.db, dst);
    c.out.bulk(&v);
    Ok(true)
}

fn rpoplpush(c: &mut Call<'_, '_>) -> CmdResult {
    if move_generic(c, false, true)? {
        c.changed(2);
    }
    Ok(())
}

fn lmove(c: &mut Call<'_, '_>) -> CmdResult {
    let from = parse_where(c.argv[3])?;
    let to = parse_where(c.argv[4])?;
    if move_generic(c, from, to)? {
        c.changed(2);
    }
    Ok(())
}

/// The keys a blocked command waits for, in the session's database.
fn block_keys(c: &Call<'_, '_>, keys: &[&[u8]]) -> Vec<(usize, Box<[u8]>)> {
    keys.iter().map(|k| (c.db, Box::from(*k))).collect()
}

fn brpoplpush(c: &mut Call<'_, '_>) -> CmdResult {
    let deadline = parse_timeout(c.argv[3], c.now_ms)?;
    blocking_move(c, false, true, deadline, false)
}

fn blmove(c: &mut Call<'_, '_>) -> CmdResult {
    let from = parse_where(c.argv[3])?;
    let to = parse_where(c.argv[4])?;
    let deadline = parse_timeout(c.argv[5], c.now_ms)?;
    blocking_move(c, from, to, deadline, true)
}

fn blocking_move(
    c: &mut Call<'_, '_>,
    from: bool,
    to: bool,
    deadline: Option<u64>,
    is_lmove: bool,
) -> CmdResult {
    let src = c.argv[1];
    if peek_list(c.ks, c.db, src)?.is_none() {
        if c.in_exec {
            c.out.null();
            return Ok(());
        }
        let keys = block_keys(c, &[src]);
        return c.block(keys, deadline);
    }
    if move_generic(c, from, to)? {
        let argv = c.argv;
        if is_lmove {
            c.propagate_as(&[&b"LMOVE"[..], argv[1], argv[2], argv[3], argv[4]]);
        } else {
            c.propagate_as(&[&b"RPOPLPUSH"[..], argv[1], argv[2]]);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-key and blocking pops.

/// Pops one element from the first non-empty list among `keys`, replying `[key, value]`
/// and propagating `LPOP key` / `RPOP key`. Returns whether one was served.
fn serve_one(c: &mut Call<'_, '_>, keys: &[&[u8]], front: bool) -> Result<bool, CmdError> {
    for &key in keys {
        if peek_list(c.ks, c.db, key)?.is_none() {
            continue;
        }
        let out = &mut c.out;
        out.array(2);
        out.bulk(key);
        update_list(c.ks, c.db, key, |l| pop_n(l, front, 1, out))?;
        c.propagate_as(&[if front { &b"LPOP"[..] } else { &b"RPOP"[..] }, key]);
        return Ok(true);
    }
    Ok(false)
}

/// Pops up to `count` elements from the first non-empty list among `keys`, replying
/// `[key, [values…]]` and propagating `LPOP key n` / `RPOP key n`.
fn serve_many(
    c: &mut Call<'_, '_>,
    keys: &[&[u8]],
    front: bool,
    count: usize,
) -> Result<bool, CmdError> {
    for &key in keys {
        let Some(len) = peek_list(c.ks, c.db, key)?.map(List::len) else {
            continue;
        };
        let n = count.min(len);
        let out = &mut c.out;
        out.array(2);
        out.bulk(key);
        out.array(n);
        update_list(c.ks, c.db, key, |l| pop_n(l, front, n, out))?;
        let n = n.to_string();
        c.propagate_as(&[
            if front { &b"LPOP"[..] } else { &b"RPOP"[..] },
            key,
            n.as_bytes(),
        ]);
        return Ok(true);
    }
    Ok(false)
}

fn bpop_generic(c: &mut Call<'_, '_>, front: bool) -> CmdResult {
    let last = c.argc() - 1;
    let deadline = parse_timeout(c.argv[last], c.now_ms)?;
    let keys = &c.argv[1..last];
    if serve_one(c, keys, front)? {
        return Ok(());
    }
    if c.in_exec {
        c.out.null_array();
        return Ok(());
    }
    let keys = block_keys(c, keys);
    c.block(keys, deadline)
}

fn blpop(c: &mut Call<'_, '_>) -> CmdResult {
    bpop_generic(c, true)
}

fn brpop(c: &mut Call<'_, '_>) -> CmdResult {
    bpop_generic(c, false)
}

/// Parses `numkeys key… LEFT|RIGHT [COUNT n]` starting at `at`: (keys, front, count).
fn parse_mpop<'a>(argv: &[&'a [u8]], at: usize) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let numkeys = range_long(
        argv[at],
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )?;
    let where_idx = (at as u64).saturating_add(numkeys as u64).saturating_add(1);
    if where_idx >= argv.len() as u64 {
        return Err(SYNTAX);
    }
    let where_idx = where_idx as usize;
    let front = parse_where(argv[where_idx])?;
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && more {
            count = Some(range_long(
                argv[j + 1],
                1,
                i64::MAX,
                Some("ERR count should be greater than 0"),
            )? as usize);
            j += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((argv[at + 1..where_idx].to_vec(), front, count.unwrap_or(1)))
}

fn lmpop(c: &mut Call<'_, '_>) -> CmdResult {
    let (keys, front, count) = parse_mpop(c.argv, 1)?;
    if !serve_many(c, &keys, front, count)? {
        c.out.null_array();
    }
    Ok(())
}

fn blmpop(c: &mut Call<'_, '_>) -> CmdResult {
    let (keys, front, count) = parse_mpop(c.argv, 2)?;
    let deadline = parse_timeout(c.argv[1], c.now_ms)?;
    if serve_many(c, &keys, front, count)? {
        return Ok(());
    }
    if c.in_exec {
        c.out.null_array();
        return Ok(());
    }
    let keys = block_keys(c, &keys);
    c.block(keys, deadline)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use parking_lot::Mutex;

    use crate::testkit::{f::*, TestClient};
    use crate::Propagator;
    use tandem_resp::Frame;

    /// Collects what the engine propagates.
    pub(crate) struct Capture(Mutex<Vec<u8>>);

    impl Propagator for Capture {
        fn propagate(&self, _db: usize, cmds: &[u8]) -> u64 {
            self.0.lock().extend_from_slice(cmds);
            0
        }
    }

    impl Capture {
        /// Installs a capture on the client's engine.
        pub(crate) fn on(c: &TestClient) -> Arc<Capture> {
            let cap = Arc::new(Capture(Mutex::new(Vec::new())));
            c.engine.set_propagator(Some(cap.clone()));
            cap
        }

        /// The commands propagated since the last call, space-joined.
        pub(crate) fn take(&self) -> Vec<String> {
            let buf = bytes::Bytes::from(std::mem::take(&mut *self.0.lock()));
            let mut pos = 0;
            let mut cmds = Vec::new();
            while pos < buf.len() {
                let (f, n) = Frame::decode(&buf.slice(pos..)).expect("valid RESP");
                pos += n;
                let Frame::Array(args) = f else {
                    panic!("not a command: {f:?}")
                };
                let words: Vec<String> = args
                    .into_iter()
                    .map(|a| match a {
                        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                        other => panic!("{other:?}"),
                    })
                    .collect();
                cmds.push(words.join(" "));
            }
            cmds
        }
    }

    #[test]
    fn propagated_effects() {
        let mut a = TestClient::new();
        let mut b = a.other();
        let cap = Capture::on(&a);
        a.call(&["RPUSH", "k", "1", "2", "3", "4", "5", "6"]);
        assert_eq!(cap.take(), ["RPUSH k 1 2 3 4 5 6"]);
        a.call(&["BLPOP", "nokey", "k", "0"]);
        assert_eq!(cap.take(), ["LPOP k"]);
        a.call(&["BRPOP", "k", "1"]);
        assert_eq!(cap.take(), ["RPOP k"]);
        a.call(&["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "1"]);
        assert_eq!(cap.take(), ["LPOP k 1"]);
        a.call(&["LMPOP", "1", "k", "RIGHT", "COUNT", "10"]);
        assert_eq!(cap.take(), ["RPOP k 3"]);
        a.call(&["RPUSH", "k", "1", "2", "3"]);
        cap.take();
        a.call(&["BLMOVE", "k", "d", "left", "RIGHT", "0"]);
        assert_eq!(cap.take(), ["LMOVE k d left RIGHT"]);
        a.call(&["BRPOPLPUSH", "k", "d", "0"]);
        assert_eq!(cap.take(), ["RPOPLPUSH k d"]);
        a.call(&["LMOVE", "k", "d", "LEFT", "LEFT"]);
        assert_eq!(cap.take(), ["LMOVE k d LEFT LEFT"]);
        // Served after blocking: the same effects.
        a.call(&["BLPOP", "w", "0"]);
        assert!(cap.take().is_empty());
        b.call(&["RPUSH", "w", "x"]);
        a.resume();
        assert_eq!(cap.take(), ["RPUSH w x", "LPOP w"]);
        a.call(&["BLMOVE", "w", "d", "RIGHT", "LEFT", "0"]);
        b.call(&["RPUSH", "w", "y"]);
        a.resume();
        assert_eq!(cap.take(), ["RPUSH w y", "LMOVE w d RIGHT LEFT"]);
        // Changes of nothing propagate nothing.
        a.call(&["LREM", "d", "0", "zz"]);
        a.call(&["LTRIM", "d", "0", "-1"]);
        a.call(&["LPOP", "nokey"]);
        a.call(&["LPOP", "d", "0"]);
        a.call(&["LINSERT", "d", "BEFORE", "zz", "x"]);
        a.call(&["RPUSHX", "nokey", "x"]);
        a.call(&["BLPOP", "nokey", "0.5"]);
        a.clock.advance(600);
        a.resume();
        assert!(cap.take().is_empty());
        a.call(&["LTRIM", "d", "1", "-1"]);
        assert_eq!(cap.take(), ["LTRIM d 1 -1"]);
    }

    fn exists(c: &TestClient, key: &str) -> bool {
        let ks = &c.engine.shared().keyspace;
        ks.lock_key(0, key.as_bytes(), 0).exists(0, key.as_bytes())
    }

    fn encoding(c: &TestClient, key: &str) -> &'static str {
        let ks = &c.engine.shared().keyspace;
        let mut g = ks.lock_key(0, key.as_bytes(), 0);
        match g.peek(0, key.as_bytes()) {
            Some(tandem_keyspace::ValueRef::Obj(o)) => o.encoding(),
            _ => "none",
        }
    }

    #[test]
    fn push_pop_and_len() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["LPUSH", "l", "a", "b", "c"]), int(3));
        assert_eq!(c.call(&["RPUSH", "l", "d"]), int(4));
        assert_eq!(
            c.call(&["LRANGE", "l", "0", "-1"]),
            bulks(&["c", "b", "a", "d"])
        );
        assert_eq!(c.call(&["LLEN", "l"]), int(4));
        assert_eq!(c.call(&["LPOP", "l"]), bulk("c"));
        assert_eq!(c.call(&["RPOP", "l"]), bulk("d"));
        assert_eq!(c.call(&["RPOP", "l", "5"]), bulks(&["a", "b"]));
        assert!(!exists(&c, "l"));
        assert_eq!(c.call(&["LPOP", "l"]), nil());
        assert_eq!(c.call(&["LPOP", "l", "2"]), nil());
        assert_eq!(c.call(&["LLEN", "l"]), int(0));
        assert_eq!(c.call(&["LPUSHX", "l", "a"]), int(0));
        assert_eq!(c.call(&["RPUSH", "l", "a"]), int(1));
        assert_eq!(c.call(&["LPUSHX", "l", "b", "c"]), int(3));
        assert_eq!(c.call(&["RPUSHX", "l", "z"]), int(4));
        assert_eq!(c.call(&["LPOP", "l", "0"]), arr(vec![]));
        assert_eq!(c.call(&["LPOP", "l", "2"]), bulks(&["c", "b"]));
        assert_eq!(
            c.call(&["LPOP", "l", "-1"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            c.call(&["LPOP", "l", "x"]),
            err("ERR value is out of range, must be positive")
        );
        assert_eq!(
            c.call(&["LPOP", "l", "1", "2"]),
            err("ERR wrong number of arguments for 'lpop' command")
        );
        c.call(&["SET", "s", "x"]);
        let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
        for cmd in [
            &["LPUSH", "s", "a"][..],
            &["LPUSHX", "s", "a"],
            &["LPOP", "s"],
            &["LPOP", "s", "0"],
            &["LLEN", "s"],
            &["LRANGE", "s", "0", "1"],
            &["LINDEX", "s", "0"],
            &["LSET", "s", "0", "x"],
            &["LINSERT", "s", "BEFORE", "a", "b"],
            &["LREM", "s", "0", "a"],
            &["LTRIM", "s", "0", "1"],
            &["LPOS", "s", "a"],
            &["RPOPLPUSH", "s", "l"],
            &["RPOPLPUSH", "l", "s"],
            &["BLPOP", "s", "0"],
            &["LMPOP", "1", "s", "LEFT"],
        ] {
            assert_eq!(c.call(cmd), wt, "{cmd:?}");
        }
    }

    #[test]
    fn resp3_null_shapes() {
        let mut c = TestClient::new();
        c.call(&["HELLO", "3"]);
        assert_eq!(c.raw(&[b"LPOP", b"nokey"]), b"_\r\n");
        assert_eq!(c.raw(&[b"LPOP", b"nokey", b"1"]), b"_\r\n");
        let mut c = TestClient::new();
        assert_eq!(c.raw(&[b"LPOP", b"nokey"]), b"$-1\r\n");
        assert_eq!(c.raw(&[b"LPOP", b"nokey", b"1"]), b"*-1\r\n");
        assert_eq!(c.raw(&[b"LMPOP", b"1", b"nokey", b"LEFT"]), b"*-1\r\n");
    }

    #[test]
    fn ranges_and_indexes() {
        let mut c = TestClient::new();
        c.call(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(c.call(&["LRANGE", "l", "1", "3"]), bulks(&["b", "c", "d"]));
        assert_eq!(c.call(&["LRANGE", "l", "-2", "100"]), bulks(&["d", "e"]));
        assert_eq!(c.call(&["LRANGE", "l", "-100", "0"]), bulks(&["a"]));
        assert_eq!(c.call(&["LRANGE", "l", "3", "1"]), arr(vec![]));
        assert_eq!(c.call(&["LRANGE", "l", "5", "10"]), arr(vec![]));
        assert_eq!(c.call(&["LRANGE", "nokey", "0", "-1"]), arr(vec![]));
        assert_eq!(
            c.call(&["LRANGE", "l", "a", "1"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["LINDEX", "l", "0"]), bulk("a"));
        assert_eq!(c.call(&["LINDEX", "l", "-1"]), bulk("e"));
        assert_eq!(c.call(&["LINDEX", "l", "5"]), nil());
        assert_eq!(c.call(&["LINDEX", "l", "-6"]), nil());
        assert_eq!(c.call(&["LINDEX", "nokey", "x"]), nil());
        assert_eq!(
            c.call(&["LINDEX", "l", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["LSET", "l", "-1", "E"]), ok());
        assert_eq!(c.call(&["LINDEX", "l", "4"]), bulk("E"));
        assert_eq!(
            c.call(&["LSET", "l", "5", "x"]),
            err("ERR index out of range")
        );
        assert_eq!(c.call(&["LSET", "nokey", "x", "x"]), err("ERR no such key"));
        assert_eq!(c.call(&["LINSERT", "l", "BEFORE", "c", "x"]), int(6));
        assert_eq!(c.call(&["LINSERT", "l", "after", "E", "y"]), int(7));
        assert_eq!(c.call(&["LINSERT", "l", "after", "zz", "y"]), int(-1));
        assert_eq!(c.call(&["LINSERT", "nokey", "after", "zz", "y"]), int(0));
        assert_eq!(
            c.call(&["LINSERT", "l", "middle", "a", "y"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["LRANGE", "l", "0", "-1"]),
            bulks(&["a", "b", "x", "c", "d", "E", "y"])
        );
        assert_eq!(c.call(&["LTRIM", "l", "1", "-2"]), ok());
        assert_eq!(
            c.call(&["LRANGE", "l", "0", "-1"]),
            bulks(&["b", "x", "c", "d", "E"])
        );
        assert_eq!(c.call(&["LTRIM", "l", "10", "20"]), ok());
        assert!(!exists(&c, "l"));
        assert_eq!(c.call(&["LTRIM", "nokey", "0", "1"]), ok());
    }

    #[test]
    fn lrem_and_lpos() {
        let mut c = TestClient::new();
        c.call(&["RPUSH", "l", "a", "b", "a", "c", "a", "b"]);
        assert_eq!(c.call(&["LPOS", "l", "a"]), int(0));
        assert_eq!(c.call(&["LPOS", "l", "a", "RANK", "2"]), int(2));
        assert_eq!(c.call(&["LPOS", "l", "a", "RANK", "-1"]), int(4));
        assert_eq!(
            c.call(&["LPOS", "l", "a", "COUNT", "0"]),
            arr(vec![int(0), int(2), int(4)])
        );
        assert_eq!(
            c.call(&["LPOS", "l", "a", "COUNT", "2", "RANK", "-1"]),
            arr(vec![int(4), int(2)])
        );
        assert_eq!(
            c.call(&["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "3"]),
            arr(vec![int(0), int(2)])
        );
        assert_eq!(c.call(&["LPOS", "l", "z"]), nil());
        assert_eq!(c.call(&["LPOS", "l", "z", "COUNT", "1"]), arr(vec![]));
        assert_eq!(c.call(&["LPOS", "nokey", "z", "COUNT", "1"]), arr(vec![]));
        assert_eq!(
            c.call(&["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
            int(4)
        );
        assert_eq!(
            c.call(&["LPOS", "l", "a", "RANK", "0"]),
            err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
        );
        assert_eq!(
            c.call(&["LPOS", "l", "a", "COUNT", "-1"]),
            err("ERR COUNT can't be negative")
        );
        assert_eq!(
            c.call(&["LPOS", "l", "a", "MAXLEN", "x"]),
            err("ERR MAXLEN can't be negative")
        );
        assert_eq!(c.call(&["LPOS", "l", "a", "RANK"]), err("ERR syntax error"));
        assert_eq!(c.call(&["LREM", "l", "-1", "a"]), int(1));
        assert_eq!(
            c.call(&["LRANGE", "l", "0", "-1"]),
            bulks(&["a", "b", "a", "c", "b"])
        );
        assert_eq!(c.call(&["LREM", "l", "1", "b"]), int(1));
        assert_eq!(c.call(&["LREM", "l", "0", "a"]), int(2));
        assert_eq!(c.call(&["LREM", "l", "0", "zz"]), int(0));
        assert_eq!(c.call(&["LRANGE", "l", "0", "-1"]), bulks(&["c", "b"]));
        assert_eq!(c.call(&["LREM", "nokey", "0", "a"]), int(0));
    }

    #[test]
    fn moves() {
        let mut c = TestClient::new();
        c.call(&["RPUSH", "a", "1", "2", "3"]);
        assert_eq!(c.call(&["RPOPLPUSH", "a", "b"]), bulk("3"));
        assert_eq!(c.call(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), bulk("1"));
        assert_eq!(c.call(&["LRANGE", "b", "0", "-1"]), bulks(&["3", "1"]));
        assert_eq!(c.call(&["LMOVE", "b", "b", "left", "right"]), bulk("3"));
        assert_eq!(c.call(&["LRANGE", "b", "0", "-1"]), bulks(&["1", "3"]));
        assert_eq!(c.call(&["LMOVE", "a", "a", "left", "left"]), bulk("2"));
        assert_eq!(c.call(&["RPOPLPUSH", "a", "c"]), bulk("2"));
        assert!(!exists(&c, "a"));
        assert_eq!(c.call(&["RPOPLPUSH", "a", "c"]), nil());
        assert_eq!(
            c.call(&["LMOVE", "a", "c", "up", "left"]),
            err("ERR syntax error")
        );
    }

    #[test]
    fn lmpop_forms() {
        let mut c = TestClient::new();
        c.call(&["RPUSH", "b", "1", "2", "3"]);
        assert_eq!(
            c.call(&["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"]),
            arr(vec![bulk("b"), bulks(&["3", "2"])])
        );
        assert_eq!(
            c.call(&["LMPOP", "2", "a", "b", "left", "COUNT", "10"]),
            arr(vec![bulk("b"), bulks(&["1"])])
        );
        assert_eq!(c.call(&["LMPOP", "2", "a", "b", "left"]), Frame::Null);
        for (args, e) in [
            (
                &["LMPOP", "0", "a", "left"][..],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["LMPOP", "x", "a", "left"],
                "ERR numkeys should be greater than 0",
            ),
            (&["LMPOP", "2", "a", "left"], "ERR syntax error"),
            (&["LMPOP", "5", "a", "left"], "ERR syntax error"),
            (&["LMPOP", "1", "a", "middle"], "ERR syntax error"),
            (
                &["LMPOP", "1", "a", "left", "count", "0"],
                "ERR count should be greater than 0",
            ),
            (
                &["LMPOP", "1", "a", "left", "count", "1", "count", "1"],
                "ERR syntax error",
            ),
            (&["LMPOP", "1", "a", "left", "count"], "ERR syntax error"),
            (
                &["BLMPOP", "0", "0", "a", "left"],
                "ERR numkeys should be greater than 0",
            ),
            (
                &["BLMPOP", "x", "1", "a", "left"],
                "ERR timeout is not a float or out of range",
            ),
            (
                &["BLMPOP", "-1", "1", "a", "left"],
                "ERR timeout is negative",
            ),
        ] {
            assert_eq!(c.call(args), err(e), "{args:?}");
        }
    }

    #[test]
    fn timeouts_parse_like_redis() {
        let mut c = TestClient::new();
        for (t, e) in [
            ("abc", "ERR timeout is not a float or out of range"),
            ("", "ERR timeout is not a float or out of range"),
            (" 1", "ERR timeout is not a float or out of range"),
            ("1 ", "ERR timeout is not a float or out of range"),
            ("nan", "ERR timeout is not a float or out of range"),
            ("1e4933", "ERR timeout is not a float or out of range"),
            ("-1", "ERR timeout is negative"),
            ("inf", "ERR timeout is negative"),
            ("-inf", "ERR timeout is negative"),
            ("1e16", "ERR timeout is negative"),
            ("1e400", "ERR timeout is negative"),
        ] {
            assert_eq!(c.call(&["BLPOP", "k", t]), err(e), "{t:?}");
        }
        // Less than a millisecond (even negative) means forever.
        for t in ["0", "-0.0001", "0.0009", "0x0"] {
            let mut c = TestClient::new();
            assert_eq!(c.call(&["BLPOP", "k", t]), Frame::Null);
            assert!(c.sess.is_blocked(), "{t}");
            assert_eq!(c.sess.block_deadline(), None, "{t}");
        }
        let mut c = TestClient::new();
        let now = c.clock.0.load(std::sync::atomic::Ordering::SeqCst);
        c.call(&["BLPOP", "k", "0x10"]);
        assert_eq!(c.sess.block_deadline(), Some(now + 16_000));
        let mut c = TestClient::new();
        c.call(&["BLPOP", "k", "1.5"]);
        assert_eq!(c.sess.block_deadline(), Some(now + 1500));
    }

    #[test]
    fn blpop_blocks_until_a_push() {
        let mut a = TestClient::new();
        let mut b = a.other();
        assert_eq!(a.call(&["BLPOP", "k", "0"]), Frame::Null);
        assert!(a.sess.is_blocked());
        assert_eq!(a.resume(), None);
        assert_eq!(b.call(&["LPUSH", "k", "x"]), int(1));
        assert_eq!(a.resume(), Some(bulks(&["k", "x"])));
        assert!(!a.sess.is_blocked());
        assert!(!exists(&b, "k"));
    }

    #[test]
    fn blocking_pops_time_out_with_a_null_array() {
        let mut a = TestClient::new();
        assert_eq!(a.call(&["BRPOP", "k1", "k2", "1.5"]), Frame::Null);
        assert!(a.sess.is_blocked());
        a.clock.advance(1000);
        assert_eq!(a.resume(), None);
        a.clock.advance(500);
        assert_eq!(a.resume(), Some(Frame::Null));
        assert!(!a.sess.is_blocked());
        let mut a = TestClient::new();
        a.call(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "1"]);
        a.clock.advance(1000);
        let mut out = Vec::new();
        a.engine.resume(&mut a.sess, &mut out);
        assert_eq!(out, b"*-1\r\n");
    }

    #[test]
    fn spurious_wakeups_keep_the_deadline() {
        let mut a = TestClient::new();
        let mut b = a.other();
        a.call(&["BLPOP", "k", "2"]);
        a.clock.advance(1500);
        b.call(&["LPUSH", "k", "x"]);
        b.call(&["LPOP", "k"]);
        assert_eq!(a.resume(), None);
        a.clock.advance(500);
        assert_eq!(a.resume(), Some(Frame::Null));
    }

    #[test]
    fn blocking_variants_serve_when_woken() {
        let mut a = TestClient::new();
        let mut b = a.other();
        a.call(&["BRPOP", "k1", "k2", "0"]);
        b.call(&["RPUSH", "k2", "1", "2"]);
        assert_eq!(a.resume(), Some(bulks(&["k2", "2"])));
        a.call(&["BLMPOP", "0", "2", "k0", "k2", "LEFT", "COUNT", "5"]);
        assert!(!a.sess.is_blocked());
        a.call(&["BLMPOP", "0", "2", "k0", "k2", "LEFT", "COUNT", "5"]);
        assert!(a.sess.is_blocked());
        b.call(&["RPUSH", "k0", "a", "b"]);
        assert_eq!(a.resume(), Some(arr(vec![bulk("k0"), bulks(&["a", "b"])])));
        a.call(&["BLMOVE", "s", "d", "RIGHT", "LEFT", "0"]);
        b.call(&["RPUSH", "s", "x", "y"]);
        assert_eq!(a.resume(), Some(bulk("y")));
        a.call(&["BRPOPLPUSH", "s2", "d", "0"]);
        b.call(&["LPUSH", "s2", "z"]);
        assert_eq!(a.resume(), Some(bulk("z")));
        assert_eq!(b.call(&["LRANGE", "d", "0", "-1"]), bulks(&["z", "y"]));
    }

    #[test]
    fn no_blocking_inside_multi() {
        let mut c = TestClient::new();
        c.call(&["MULTI"]);
        c.call(&["BLPOP", "k", "0"]);
        c.call(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
        c.call(&["BRPOPLPUSH", "k", "d", "0"]);
        c.call(&["BLMPOP", "0", "1", "k", "LEFT"]);
        c.call(&["RPUSH", "k", "v"]);
        c.call(&["BLPOP", "k", "0"]);
        assert_eq!(
            c.raw(&[b"EXEC"]),
            b"*6\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n".to_vec()
        );
        assert!(!c.sess.is_blocked());
    }

    #[test]
    fn encoding_is_quicklist() {
        let mut c = TestClient::new();
        c.call(&["RPUSH", "l", "a"]);
        assert_eq!(encoding(&c, "l"), "quicklist");
    }
}
