//! The generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, the EXPIRE and TTL
//! families, PERSIST, KEYS, SCAN, RANDOMKEY, DBSIZE, RENAME, RENAMENX, MOVE, COPY,
//! SWAPDB, FLUSHDB, FLUSHALL and OBJECT, with Redis 7.0's replies, errors and effects.
//!
//! Effects follow Redis 7.0.15: EXPIRE, PEXPIRE and EXPIREAT become
//! `PEXPIREAT k <ms> [NX|XX|GT|LT]`; an expiry already in the past deletes the key and is
//! propagated as `DEL` (`UNLINK` with `lazyfree-lazy-expire`); FLUSHDB and FLUSHALL are
//! propagated even when there was nothing to delete; the rest as received.
//!
//! SCAN's cursor is a shard index: each call walks whole shards of the database (all of
//! them locked, so each is seen at one instant), which guarantees that a key present
//! for the whole scan is returned at least once, and never more than once.
//!
//! `OBJECT ENCODING` reports strings as Redis would after a SET of the same bytes
//! (`int`, `embstr` up to 44 bytes, else `raw`); Redis's `raw` after APPEND/SETRANGE of
//! short strings is not tracked.

use tandem_keyspace::{glob::glob_match, Object, Policy, Ttl, Value, ValueRef};
use tandem_resp::{encode, parse_i64};

use crate::call::Call;
use crate::cmd::strings::{already_expired, expire_delete_cmd, fmt_i64};
use crate::command::{flags::*, CommandSpec, Keys};
use crate::error::{invalid_expire, unknown_subcommand, wrong_arity, CmdError, CmdResult};
use crate::error::{DB_RANGE, NOT_INTEGER, NO_SUCH_KEY, SYNTAX};

const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: Keys,
    run: crate::command::Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        run,
    }
}

const KEY1: Keys = Keys::range(1, 1, 1);
const ALL_ARGS: Keys = Keys::range(1, -1, 1);

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    spec("del", -2, WRITE, ALL_ARGS, del),
    spec("unlink", -2, WRITE | FAST, ALL_ARGS, del),
    spec("exists", -2, READONLY | FAST, ALL_ARGS, exists),
    spec("type", 2, READONLY | FAST, KEY1, type_),
    spec("touch", -2, READONLY | FAST, ALL_ARGS, touch),
    spec("expire", -3, WRITE | FAST, KEY1, expire),
    spec("pexpire", -3, WRITE | FAST, KEY1, pexpire),
    spec("expireat", -3, WRITE | FAST, KEY1, expireat),
    spec("pexpireat", -3, WRITE | FAST, KEY1, pexpireat),
    spec("ttl", 2, READONLY | FAST, KEY1, ttl),
    spec("pttl", 2, READONLY | FAST, KEY1, pttl),
    spec("expiretime", 2, READONLY | FAST, KEY1, expiretime),
    spec("pexpiretime", 2, READONLY | FAST, KEY1, pexpiretime),
    spec("persist", 2, WRITE | FAST, KEY1, persist),
    spec("keys", 2, READONLY, Keys::Db, keys),
    spec("scan", -2, READONLY, Keys::Db, scan),
    spec("randomkey", 1, READONLY, Keys::Db, randomkey),
    spec("dbsize", 1, READONLY | FAST, Keys::Db, dbsize),
    spec("rename", 3, WRITE, Keys::range(1, 2, 1), rename),
    spec("renamenx", 3, WRITE | FAST, Keys::range(1, 2, 1), renamenx),
    spec("move", 3, WRITE | FAST, Keys::Custom(move_keys), move_),
    spec("copy", -3, WRITE | DENYOOM, Keys::Custom(copy_keys), copy),
    spec("swapdb", 3, WRITE | FAST, Keys::All, swapdb),
    spec("flushdb", -1, WRITE, Keys::Db, flushdb),
    spec("flushall", -1, WRITE, Keys::All, flushall),
    spec("object", -2, READONLY, Keys::range(2, 2, 1), object),
];

const SAME_OBJECT: CmdError = CmdError::fixed("ERR source and destination objects are the same");

/// An argument that must be a C `int` (Redis's `getIntFromObjectOrReply`).
fn int32(arg: &[u8]) -> Option<i64> {
    parse_i64(arg).filter(|v| i32::try_from(*v).is_ok())
}

/// A database index given as an argument: an `int`, then within range.
fn db_arg(c: &Call<'_, '_>, arg: &[u8]) -> Result<usize, CmdError> {
    let id = int32(arg).ok_or(NOT_INTEGER)?;
    if id < 0 || id as usize >= c.engine.keyspace.databases() {
        return Err(DB_RANGE);
    }
    Ok(id as usize)
}

/// Wakes clients blocked on `key` if its new value is something they pop from.
fn signal_if_poppable(c: &mut Call<'_, '_>, db: usize, key: &[u8], v: &Value) {
    if matches!(v, Value::Obj(Object::List(_) | Object::ZSet(_))) {
        c.signal_ready(db, key);
    }
}

// ---------------------------------------------------------------------------------------
// Existence

fn del(c: &mut Call<'_, '_>) -> CmdResult {
    let db = c.db;
    let n = c.argv[1..].iter().filter(|k| c.ks.delete(db, k)).count();
    if n > 0 {
        c.changed(n as u64);
    }
    c.out.int(n as i64);
    Ok(())
}

fn exists(c: &mut Call<'_, '_>) -> CmdResult {
    let db = c.db;
    let n = c.argv[1..].iter().filter(|k| c.ks.exists(db, k)).count();
    c.out.int(n as i64);
    Ok(())
}

fn touch(c: &mut Call<'_, '_>) -> CmdResult {
    let db = c.db;
    let n = c.argv[1..]
        .iter()
        .filter(|k| c.ks.get(db, k).is_some())
        .count();
    c.out.int(n as i64);
    Ok(())
}

fn type_(c: &mut Call<'_, '_>) -> CmdResult {
    let name = match c.ks.peek(c.db, c.argv[1]) {
        None => "none",
        Some(v) => v.kind().name(),
    };
    c.out.simple(name);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Expiry

const EXPIRE_NX: u8 = 1;
const EXPIRE_XX: u8 = 2;
const EXPIRE_GT: u8 = 4;
const EXPIRE_LT: u8 = 8;

fn parse_expire_flags(argv: &[&[u8]]) -> Result<u8, CmdError> {
    let mut f = 0;
    for a in argv {
        f |= match a.to_ascii_lowercase().as_slice() {
            b"nx" => EXPIRE_NX,
            b"xx" => EXPIRE_XX,
            b"gt" => EXPIRE_GT,
            b"lt" => EXPIRE_LT,
            _ => {
                return Err(CmdError::msg(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(a)
                )))
            }
        };
    }
    if f & EXPIRE_NX != 0 && f & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return Err(CmdError::fixed(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f & EXPIRE_GT != 0 && f & EXPIRE_LT != 0 {
        return Err(CmdError::fixed(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// Redis's `expireGenericCommand`: `basetime` is added to the argument (0 for the
/// absolute forms), which is in seconds if `seconds`.
fn expire_generic(c: &mut Call<'_, '_>, basetime: i64, seconds: bool, cmd: &str) -> CmdResult {
    let key = c.argv[1];
    let flags = parse_expire_flags(&c.argv[3..])?;
    let mut when = c.int_arg(2)?;
    if seconds {
        when = when.checked_mul(1000).ok_or_else(|| invalid_expire(cmd))?;
    }
    when = when
        .checked_add(basetime)
        .ok_or_else(|| invalid_expire(cmd))?;
    let Some(current) = c.ks.expire_at(c.db, key) else {
        c.out.int(0);
        return Ok(());
    };
    let current = current.map(|at| at as i64);
    let refused = match current {
        None => flags & (EXPIRE_XX | EXPIRE_GT) != 0,
        Some(cur) => {
            flags & EXPIRE_NX != 0
                || (flags & EXPIRE_GT != 0 && when <= cur)
                || (flags & EXPIRE_LT != 0 && when >= cur)
        }
    };
    if refused {
        c.out.int(0);
        return Ok(());
    }
    if already_expired(c, when) {
        c.ks.delete(c.db, key);
        let del = expire_delete_cmd(c);
        c.propagate_as(&[del, key]);
    } else {
        c.ks.set_expire(c.db, key, Some(when.max(0) as u64));
        if cmd == "pexpireat" {
            c.changed(1);
        } else {
            let mut b = [0u8; 20];
            let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, fmt_i64(&mut b, when)];
            argv.extend_from_slice(&c.argv[3..]);
            c.propagate_as(&argv);
        }
    }
    c.out.int(1);
    Ok(())
}

fn expire(c: &mut Call<'_, '_>) -> CmdResult {
    let now = c.now_ms as i64;
    expire_generic(c, now, true, "expire")
}

fn pexpire(c: &mut Call<'_, '_>) -> CmdResult {
    let now = c.now_ms as i64;
    expire_generic(c, now, false, "pexpire")
}

fn expireat(c: &mut Call<'_, '_>) -> CmdResult {
    expire_generic(c, 0, true, "expireat")
}

fn pexpireat(c: &mut Call<'_, '_>) -> CmdResult {
    expire_generic(c, 0, false, "pexpireat")
}

/// Redis's `ttlGenericCommand`: -2 without key, -1 without expiry.
fn ttl_generic(c: &mut Call<'_, '_>, ms: bool, absolute: bool) -> CmdResult {
    let reply = match c.ks.expire_at(c.db, c.argv[1]) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let at = at as i64;
            let t = if absolute { at } else { at - c.now_ms as i64 }.max(0);
            if ms {
                t
            } else {
                (t + 500) / 1000
            }
        }
    };
    c.out.int(reply);
    Ok(())
}

fn ttl(c: &mut Call<'_, '_>) -> CmdResult {
    ttl_generic(c, false, false)
}

fn pttl(c: &mut Call<'_, '_>) -> CmdResult {
    ttl_generic(c, true, false)
}

fn expiretime(c: &mut Call<'_, '_>) -> CmdResult {
    ttl_generic(c, false, true)
}

fn pexpiretime(c: &mut Call<'_, '_>) -> CmdResult {
    ttl_generic(c, true, true)
}

fn persist(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    if let Some(Some(_)) = c.ks.expire_at(c.db, key) {
        c.ks.set_expire(c.db, key, None);
        c.changed(1);
        c.out.int(1);
    } else {
        c.out.int(0);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Whole database

fn keys(c: &mut Call<'_, '_>) -> CmdResult {
    let pattern = c.argv[1];
    let all = pattern == b"*";
    let mut body = Vec::new();
    let mut n = 0;
    c.ks.for_each(c.db, |key, _, _| {
        if all || glob_match(pattern, key, false) {
            encode::bulk(&mut body, key);
            n += 1;
        }
    });
    c.out.array(n);
    c.out.raw().extend_from_slice(&body);
    Ok(())
}

/// Parses a cursor like C's `strtoul` as Redis's `parseScanCursorOrReply` uses it.
fn parse_cursor(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan(c: &mut Call<'_, '_>) -> CmdResult {
    let cursor = parse_cursor(c.argv[1]).ok_or_else(|| CmdError::fixed("ERR invalid cursor"))?;
    let mut count = 10i64;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < c.argc() {
        let more = c.argc() - i >= 2;
        if c.is(i, "count") && more {
            count = c.int_arg(i + 1)?;
            if count < 1 {
                return Err(SYNTAX);
            }
        } else if c.is(i, "match") && more {
            pattern = Some(c.argv[i + 1]).filter(|p| *p != b"*");
        } else if c.is(i, "type") && more {
            type_name = Some(c.argv[i + 1]);
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    let mut body = Vec::new();
    let mut n = 0;
    let next = c.ks.scan(c.db, cursor, count as usize, |key, v| {
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            return;
        }
        if type_name.is_some_and(|t| !t.eq_ignore_ascii_case(v.kind().name().as_bytes())) {
            return;
        }
        encode::bulk(&mut body, key);
        n += 1;
    });
    c.out.array(2);
    c.out.bulk(fmt_i64(&mut [0u8; 20], next as i64));
    c.out.array(n);
    c.out.raw().extend_from_slice(&body);
    Ok(())
}

fn randomkey(c: &mut Call<'_, '_>) -> CmdResult {
    match c.ks.random_key(c.db) {
        Some(k) => c.out.bulk(&k),
        None => c.out.null(),
    }
    Ok(())
}

fn dbsize(c: &mut Call<'_, '_>) -> CmdResult {
    let n = c.ks.db_len(c.db);
    c.out.int(n as i64);
    Ok(())
}

/// FLUSHDB/FLUSHALL's optional `ASYNC`/`SYNC` (data is dropped at once either way).
fn flush_args(c: &Call<'_, '_>) -> CmdResult {
    match c.argc() {
        1 => Ok(()),
        2 if c.is(1, "sync") || c.is(1, "async") => Ok(()),
        _ => Err(SYNTAX),
    }
}

fn flushdb(c: &mut Call<'_, '_>) -> CmdResult {
    flush_args(c)?;
    let n = c.ks.clear_db(c.db);
    // Propagated even when the database was already empty, as Redis does.
    c.changed((n as u64).max(1));
    c.out.ok();
    Ok(())
}

fn flushall(c: &mut Call<'_, '_>) -> CmdResult {
    flush_args(c)?;
    let n: usize = (0..c.engine.keyspace.databases())
        .map(|db| c.ks.clear_db(db))
        .sum();
    c.changed((n as u64).max(1));
    c.out.ok();
    Ok(())
}

fn swapdb(c: &mut Call<'_, '_>) -> CmdResult {
    let a = int32(c.argv[1]).ok_or_else(|| CmdError::fixed("ERR invalid first DB index"))?;
    let b = int32(c.argv[2]).ok_or_else(|| CmdError::fixed("ERR invalid second DB index"))?;
    let dbs = c.engine.keyspace.databases() as i64;
    if a < 0 || a >= dbs || b < 0 || b >= dbs {
        return Err(DB_RANGE);
    }
    let (a, b) = (a as usize, b as usize);
    c.ks.swap_dbs(a, b);
    if a != b && c.engine.blocking.has_waiters() {
        // Clients blocked in either database may now find what they wait for.
        for db in [a, b] {
            let mut ready = Vec::new();
            c.ks.for_each(db, |key, v, _| {
                if matches!(v, ValueRef::Obj(Object::List(_) | Object::ZSet(_))) {
                    ready.push(key.to_vec());
                }
            });
            for key in ready {
                c.signal_ready(db, &key);
            }
        }
    }
    c.changed(1);
    c.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Moving keys

fn rename_generic(c: &mut Call<'_, '_>, nx: bool) -> CmdResult {
    let (src, dst) = (c.argv[1], c.argv[2]);
    let Some(expire) = c.ks.expire_at(c.db, src) else {
        return Err(NO_SUCH_KEY);
    };
    if src == dst {
        if nx {
            c.out.int(0);
        } else {
            c.out.ok();
        }
        return Ok(());
    }
    if nx && c.ks.exists(c.db, dst) {
        c.out.int(0);
        return Ok(());
    }
    let value = c.ks.remove(c.db, src).ok_or(NO_SUCH_KEY)?;
    let db = c.db;
    signal_if_poppable(c, db, dst, &value);
    c.ks.set(db, dst, value, expire.map_or(Ttl::Clear, Ttl::At));
    c.changed(1);
    if nx {
        c.out.int(1);
    } else {
        c.out.ok();
    }
    Ok(())
}

fn rename(c: &mut Call<'_, '_>) -> CmdResult {
    rename_generic(c, false)
}

fn renamenx(c: &mut Call<'_, '_>) -> CmdResult {
    rename_generic(c, true)
}

/// MOVE locks the key in the current and in the target database.
fn move_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    out.push((db, 1));
    if let Some(target) = argv.get(2).and_then(|a| int32(a)).filter(|t| *t >= 0) {
        out.push((target as usize, 1));
    }
}

fn move_(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    let dst = db_arg(c, c.argv[2])?;
    if dst == c.db {
        return Err(SAME_OBJECT);
    }
    let Some(expire) = c.ks.expire_at(c.db, key) else {
        c.out.int(0);
        return Ok(());
    };
    if c.ks.exists(dst, key) {
        c.out.int(0);
        return Ok(());
    }
    let value = c.ks.remove(c.db, key).ok_or(NO_SUCH_KEY)?;
    signal_if_poppable(c, dst, key, &value);
    c.ks.set(dst, key, value, expire.map_or(Ttl::Clear, Ttl::At));
    c.changed(1);
    c.out.int(1);
    Ok(())
}

/// COPY locks the source in the current database and the destination in the one its
/// `DB` option names (the last one, as the command itself reads them).
fn copy_keys(argv: &[&[u8]], db: usize, out: &mut Vec<(usize, usize)>) {
    out.push((db, 1));
    let mut dst = db;
    let mut j = 3;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"db") && j + 1 < argv.len() {
            if let Some(n) = int32(argv[j + 1]).filter(|n| *n >= 0) {
                dst = n as usize;
            }
            j += 2;
        } else {
            j += 1;
        }
    }
    if argv.len() > 2 {
        out.push((dst, 2));
    }
}

fn copy(c: &mut Call<'_, '_>) -> CmdResult {
    let (src, dst) = (c.argv[1], c.argv[2]);
    let mut dst_db = c.db;
    let mut replace = false;
    let mut j = 3;
    while j < c.argc() {
        if c.is(j, "replace") {
            replace = true;
        } else if c.is(j, "db") && j + 1 < c.argc() {
            dst_db = db_arg(c, c.argv[j + 1])?;
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if dst_db == c.db && src == dst {
        return Err(SAME_OBJECT);
    }
    let Some(expire) = c.ks.expire_at(c.db, src) else {
        c.out.int(0);
        return Ok(());
    };
    if !replace && c.ks.exists(dst_db, dst) {
        c.out.int(0);
        return Ok(());
    }
    let value =
        c.ks.get(c.db, src)
            .map(|v| v.to_value())
            .ok_or(NO_SUCH_KEY)?;
    signal_if_poppable(c, dst_db, dst, &value);
    c.ks.set(dst_db, dst, value, expire.map_or(Ttl::Clear, Ttl::At));
    c.changed(1);
    c.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// OBJECT

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis's `OBJ_SHARED_REFCOUNT`: what OBJECT REFCOUNT says of shared integers.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// The encoding Redis gives a string stored by SET.
pub(crate) fn str_encoding(s: &[u8]) -> &'static str {
    if s.len() <= 20 && parse_i64(s).is_some() {
        "int"
    } else if s.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

fn object(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = c.argv[1].to_ascii_lowercase();
    let name = match sub.as_slice() {
        b"help" => "object|help",
        b"encoding" => "object|encoding",
        b"freq" => "object|freq",
        b"idletime" => "object|idletime",
        b"refcount" => "object|refcount",
        _ => return Err(unknown_subcommand("object", c.argv[1])),
    };
    if sub == b"help" {
        if c.argc() != 2 {
            return Err(wrong_arity(name));
        }
        c.out.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            c.out.simple(line);
        }
        return Ok(());
    }
    if c.argc() != 3 {
        return Err(wrong_arity(name));
    }
    let (db, key) = (c.db, c.argv[2]);
    let policy = c.engine.keyspace.policy();
    let lfu = matches!(policy, Policy::AllKeysLfu | Policy::VolatileLfu);
    match sub.as_slice() {
        b"encoding" => match c.ks.peek(db, key) {
            None => c.out.null(),
            Some(ValueRef::Str(s)) => c.out.bulk(str_encoding(s).as_bytes()),
            Some(ValueRef::Obj(o)) => c.out.bulk(o.encoding().as_bytes()),
        },
        b"refcount" => match c.ks.peek(db, key) {
            None => c.out.null(),
            Some(ValueRef::Str(s)) => {
                let no_shared = c.engine.keyspace.maxmemory() != 0
                    && !matches!(
                        policy,
                        Policy::NoEviction
                            | Policy::AllKeysRandom
                            | Policy::VolatileRandom
                            | Policy::VolatileTtl
                    );
                let shared = !no_shared
                    && s.len() <= 20
                    && parse_i64(s).is_some_and(|v| (0..10_000).contains(&v));
                c.out.int(if shared { SHARED_REFCOUNT } else { 1 });
            }
            Some(ValueRef::Obj(_)) => c.out.int(1),
        },
        b"freq" => match c.ks.lfu_counter(db, key) {
            None => c.out.null(),
            Some(_) if !lfu => {
                return Err(CmdError::fixed(
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
                ))
            }
            Some(f) => c.out.int(f.into()),
        },
        _ => match c.ks.idle_seconds(db, key) {
            None => c.out.null(),
            Some(_) if lfu => {
                return Err(CmdError::fixed(
                    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
                ))
            }
            Some(s) => c.out.int(s as i64),
        },
    }
    Ok(())
}
