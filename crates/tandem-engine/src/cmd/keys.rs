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
use crate::cmd::server::Sub;
use crate::cmd::strings::{already_expired, expire_delete_cmd};
use crate::command::{flags::*, spec, CommandSpec, Keys};
use crate::error::{invalid_expire, unknown_subcommand, wrong_arity, CmdError, CmdResult};
use crate::error::{DB_RANGE, NOT_INTEGER, NO_SUCH_KEY, SYNTAX};
use tandem_resp::encode::format_i64;

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
    spec(
        "move",
        3,
        WRITE | FAST,
        Keys::custom(move_keys, 1, 1, 1),
        move_,
    ),
    spec(
        "copy",
        -3,
        WRITE | DENYOOM,
        Keys::custom(copy_keys, 1, 2, 1),
        copy,
    ),
    spec("swapdb", 3, WRITE | FAST, Keys::All, swapdb),
    spec("flushdb", -1, WRITE, Keys::Db, flushdb),
    spec("flushall", -1, WRITE, Keys::All, flushall),
    spec("object", -2, READONLY, Keys::range(2, 2, 1), object),
];

const SAME_OBJECT: CmdError = CmdError::fixed("ERR source and destination objects are the same");

/// An argument that must be a C `int` (Redis's `getIntFromObjectOrReply` without a
/// message of its own).
fn int32(arg: &[u8]) -> Result<i64, CmdError> {
    let v = parse_i64(arg).ok_or(NOT_INTEGER)?;
    if i32::try_from(v).is_err() {
        return Err(CmdError::fixed(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    Ok(v)
}

/// A database index given as an argument: an `int`, then within range.
fn db_arg(c: &Call<'_, '_>, arg: &[u8]) -> Result<usize, CmdError> {
    let id = int32(arg)?;
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
            let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, format_i64(when, &mut b)];
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
            let at = i128::from(at);
            let t = if absolute {
                at
            } else {
                at - i128::from(c.now_ms)
            }
            .max(0);
            (if ms { t } else { (t + 500) / 1000 }) as i64
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
    c.out.bulk(format_i64(next as i64, &mut [0u8; 20]));
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
    let a = int32(c.argv[1]).map_err(|_| CmdError::fixed("ERR invalid first DB index"))?;
    let b = int32(c.argv[2]).map_err(|_| CmdError::fixed("ERR invalid second DB index"))?;
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
    if let Some(target) = argv.get(2).and_then(|a| int32(a).ok()).filter(|t| *t >= 0) {
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
            if let Some(n) = int32(argv[j + 1]).ok().filter(|n| *n >= 0) {
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

/// OBJECT's subcommands (COMMAND INFO shows OBJECT as a container, as Redis does).
pub(crate) const OBJECT_SUBS: &[Sub] = &[
    Sub::new("encoding", "object|encoding", 3, READONLY).with_keys(2, 2, 1),
    Sub::new("freq", "object|freq", 3, READONLY).with_keys(2, 2, 1),
    Sub::new("help", "object|help", 2, LOADING | STALE),
    Sub::new("idletime", "object|idletime", 3, READONLY).with_keys(2, 2, 1),
    Sub::new("refcount", "object|refcount", 3, READONLY).with_keys(2, 2, 1),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tandem_resp::Frame;

    use crate::cmd::strings::test_util::{capture, list, put, wrongtype};
    use crate::testkit::{f::*, TestClient};

    const NOW: i64 = 1_700_000_000_000;

    fn with_list() -> TestClient {
        let c = TestClient::new();
        put(&c, 0, "l", list(&["a", "b"]));
        c
    }

    fn strings(f: Frame) -> BTreeSet<String> {
        let Frame::Array(items) = f else {
            panic!("not an array: {f:?}")
        };
        items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect()
    }

    fn set_of(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn del_exists_touch_type() {
        let mut c = with_list();
        let cap = capture(&c);
        c.call(&["MSET", "a", "1", "b", "2"]);
        assert_eq!(c.call(&["EXISTS", "a", "a", "b", "l", "x"]), int(4));
        assert_eq!(c.call(&["TOUCH", "a", "x", "l"]), int(2));
        assert_eq!(c.call(&["TYPE", "a"]), simple("string"));
        assert_eq!(c.call(&["TYPE", "l"]), simple("list"));
        assert_eq!(c.call(&["TYPE", "x"]), simple("none"));
        assert_eq!(c.call(&["DEL", "a", "x", "a"]), int(1));
        assert_eq!(c.call(&["DEL", "x"]), int(0));
        assert_eq!(c.call(&["UNLINK", "b", "l"]), int(2));
        assert_eq!(c.call(&["EXISTS", "a", "b", "l"]), int(0));
        assert_eq!(
            cap.take(),
            vec!["0:MSET a 1 b 2", "0:DEL a x a", "0:UNLINK b l"]
        );
        assert_eq!(
            c.call(&["DEL"]),
            err("ERR wrong number of arguments for 'del' command")
        );
    }

    #[test]
    fn expire_options_and_errors() {
        let mut c = TestClient::new();
        c.call(&["SET", "k", "v"]);
        assert_eq!(
            c.call(&["EXPIRE", "k", "10", "foo"]),
            err("ERR Unsupported option foo")
        );
        let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        assert_eq!(c.call(&["EXPIRE", "k", "10", "nx", "xx"]), nx);
        assert_eq!(c.call(&["EXPIRE", "k", "10", "NX", "gt"]), nx);
        assert_eq!(c.call(&["PEXPIRE", "k", "10", "lt", "NX"]), nx);
        assert_eq!(
            c.call(&["EXPIRE", "k", "10", "gt", "lt"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            c.call(&["EXPIRE", "k", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["EXPIRE", "k", "abc", "foo"]),
            err("ERR Unsupported option foo")
        );
        assert_eq!(
            c.call(&["EXPIRE", "k", "9223372036854776"]),
            err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            c.call(&["EXPIRE", "k", "-9223372036854776"]),
            err("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(
            c.call(&["PEXPIRE", "k", "9223372036854775807"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            c.call(&["EXPIREAT", "k", "9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(c.call(&["EXPIRE", "nokey", "10"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "10", "xx"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "10", "xx", "gt"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "10", "gt"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "100", "lt"]), int(1));
        assert_eq!(c.call(&["TTL", "k"]), int(100));
        assert_eq!(c.call(&["EXPIRE", "k", "50", "nx"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "50", "gt"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "100", "lt"]), int(0));
        assert_eq!(c.call(&["EXPIRE", "k", "50", "LT"]), int(1));
        assert_eq!(c.call(&["TTL", "k"]), int(50));
        assert_eq!(c.call(&["PEXPIRE", "k", "60000", "gt", "xx"]), int(1));
        assert_eq!(c.call(&["PTTL", "k"]), int(60_000));
        assert_eq!(c.call(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
        assert_eq!(
            c.call(&["PEXPIRETIME", "k"]),
            int(9_223_372_036_854_775_807)
        );
        assert_eq!(c.call(&["EXPIRETIME", "k"]), int(9_223_372_036_854_776));
        assert_eq!(c.call(&["PEXPIREAT", "k", "-9223372036854775808"]), int(1));
        assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn expire_propagation() {
        let mut c = TestClient::new();
        let cap = capture(&c);
        c.call(&["SET", "f", "1"]);
        c.call(&["expire", "f", "100", "NX"]);
        c.call(&["pexpire", "f", "100", "GT"]);
        c.call(&["expireat", "f", "99999999999", "lt"]); // refused: not sooner
        c.call(&["pexpire", "f", "5000"]);
        c.call(&["pexpireat", "f", "99999999999999"]);
        c.call(&["persist", "f"]);
        c.call(&["persist", "f"]);
        c.call(&["expire", "f", "-1"]);
        c.call(&["expire", "f", "10"]);
        c.call(&["SET", "g", "1"]);
        c.call(&["pexpireat", "g", "1"]);
        assert_eq!(
            cap.take(),
            vec![
                "0:SET f 1".to_string(),
                format!("0:PEXPIREAT f {} NX", NOW + 100_000),
                format!("0:PEXPIREAT f {}", NOW + 5000),
                "0:pexpireat f 99999999999999".to_string(),
                "0:persist f".to_string(),
                "0:DEL f".to_string(),
                "0:SET g 1".to_string(),
                "0:DEL g".to_string(),
            ]
        );
        c.engine
            .config_set("lazyfree-lazy-expire", &["yes"])
            .expect("config");
        c.call(&["SET", "h", "1"]);
        c.call(&["EXPIREAT", "h", "1"]);
        assert_eq!(cap.take(), vec!["0:SET h 1", "0:UNLINK h"]);
    }

    #[test]
    fn ttl_family_and_time() {
        let mut c = TestClient::new();
        let cap = capture(&c);
        assert_eq!(c.call(&["TTL", "k"]), int(-2));
        assert_eq!(c.call(&["PTTL", "k"]), int(-2));
        assert_eq!(c.call(&["EXPIRETIME", "k"]), int(-2));
        c.call(&["SET", "k", "v"]);
        assert_eq!(c.call(&["TTL", "k"]), int(-1));
        assert_eq!(c.call(&["PEXPIRETIME", "k"]), int(-1));
        c.call(&["PEXPIRE", "k", "1499"]);
        assert_eq!(c.call(&["TTL", "k"]), int(1));
        c.call(&["PEXPIRE", "k", "1500"]);
        assert_eq!(c.call(&["TTL", "k"]), int(2));
        assert_eq!(c.call(&["PEXPIRETIME", "k"]), int(NOW + 1500));
        assert_eq!(c.call(&["EXPIRETIME", "k"]), int((NOW + 1500 + 500) / 1000));
        c.clock.advance(1000);
        assert_eq!(c.call(&["PTTL", "k"]), int(500));
        assert_eq!(c.call(&["PERSIST", "k"]), int(1));
        assert_eq!(c.call(&["PERSIST", "k"]), int(0));
        assert_eq!(c.call(&["PERSIST", "nokey"]), int(0));
        assert_eq!(c.call(&["TTL", "k"]), int(-1));
        c.call(&["EXPIRE", "k", "1"]);
        cap.take();
        c.clock.advance(999);
        assert_eq!(c.call(&["EXISTS", "k"]), int(1));
        c.clock.advance(1);
        assert_eq!(c.call(&["TTL", "k"]), int(-2));
        assert_eq!(cap.take(), vec!["0:DEL k"]);
    }

    #[test]
    fn keys_and_scan() {
        let mut c = with_list();
        for i in 0..50 {
            c.call(&["SET", &format!("key:{i}"), "v"]);
        }
        c.call(&["SET", "other", "v"]);
        c.call(&["SET", "gone", "v", "PX", "10"]);
        c.clock.advance(10);
        let all: Vec<String> = (0..50).map(|i| format!("key:{i}")).collect();
        let mut want: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(strings(c.call(&["KEYS", "key:*"])), want);
        assert_eq!(strings(c.call(&["KEYS", "key:1?"])).len(), 10);
        assert_eq!(strings(c.call(&["KEYS", "nomatch*"])), set_of(&[]));
        want.insert("other".into());
        want.insert("l".into());
        assert_eq!(strings(c.call(&["KEYS", "*"])), want);
        // A full scan returns every key exactly once, whatever COUNT.
        for count in ["1", "7", "1000"] {
            let mut seen = Vec::new();
            let mut cursor = "0".to_string();
            let mut calls = 0;
            loop {
                let Frame::Array(reply) = c.call(&["SCAN", &cursor, "COUNT", count]) else {
                    panic!("scan reply")
                };
                let Frame::Bulk(next) = &reply[0] else {
                    panic!("cursor")
                };
                cursor = String::from_utf8_lossy(next).into_owned();
                seen.extend(strings(reply[1].clone()));
                calls += 1;
                if cursor == "0" {
                    break;
                }
            }
            assert_eq!(seen.len(), want.len(), "COUNT {count}");
            assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), want);
            if count == "1000" {
                assert_eq!(calls, 1);
            }
        }
        let scan_all = |c: &mut TestClient, extra: &[&str]| {
            let mut args = vec!["SCAN", "0", "COUNT", "100000"];
            args.extend_from_slice(extra);
            let Frame::Array(reply) = c.call(&args) else {
                panic!("scan reply")
            };
            assert_eq!(reply[0], bulk("0"));
            strings(reply[1].clone())
        };
        assert_eq!(scan_all(&mut c, &["MATCH", "o*"]), set_of(&["other"]));
        assert_eq!(scan_all(&mut c, &["TYPE", "LIST"]), set_of(&["l"]));
        assert_eq!(scan_all(&mut c, &["TYPE", "foo"]), set_of(&[]));
        assert_eq!(
            scan_all(&mut c, &["MATCH", "*", "TYPE", "string"]).len(),
            51
        );
        let syntax = err("ERR syntax error");
        assert_eq!(c.call(&["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(c.call(&["SCAN", "0", "MATCH"]), syntax);
        assert_eq!(c.call(&["SCAN", "0", "foo", "bar"]), syntax);
        assert_eq!(
            c.call(&["SCAN", "0", "COUNT", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        let invalid = err("ERR invalid cursor");
        for bad in ["abc", " 1", "18446744073709551616", "1x", "+"] {
            assert_eq!(c.call(&["SCAN", bad]), invalid, "{bad:?}");
        }
        for odd in ["", "+0", "-1", "18446744073709551615"] {
            assert!(matches!(c.call(&["SCAN", odd]), Frame::Array(_)), "{odd:?}");
        }
        c.call(&["SELECT", "1"]);
        assert_eq!(c.raw(&[b"SCAN", b"0"]), b"*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(c.raw(&[b"KEYS", b"*"]), b"*0\r\n");
    }

    #[test]
    fn randomkey_dbsize() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["RANDOMKEY"]), nil());
        assert_eq!(c.call(&["DBSIZE"]), int(0));
        c.call(&["MSET", "a", "1", "b", "2", "c", "3"]);
        assert_eq!(c.call(&["DBSIZE"]), int(3));
        for _ in 0..10 {
            let Frame::Bulk(k) = c.call(&["RANDOMKEY"]) else {
                panic!("randomkey")
            };
            assert!([&b"a"[..], b"b", b"c"].contains(&&k[..]));
        }
        c.call(&["SELECT", "3"]);
        assert_eq!(c.call(&["DBSIZE"]), int(0));
        assert_eq!(c.call(&["RANDOMKEY"]), nil());
    }

    #[test]
    fn rename_and_renamenx() {
        let mut c = with_list();
        let cap = capture(&c);
        assert_eq!(c.call(&["RENAME", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(c.call(&["RENAMENX", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(
            c.call(&["RENAME", "nokey", "nokey"]),
            err("ERR no such key")
        );
        c.call(&["SET", "a", "1", "EX", "100"]);
        assert_eq!(c.call(&["RENAME", "a", "a"]), ok());
        assert_eq!(c.call(&["RENAMENX", "a", "a"]), int(0));
        assert_eq!(c.call(&["RENAME", "a", "b"]), ok());
        assert_eq!(c.call(&["EXISTS", "a"]), int(0));
        assert_eq!(c.call(&["GET", "b"]), bulk("1"));
        assert_eq!(c.call(&["TTL", "b"]), int(100));
        assert_eq!(c.call(&["RENAMENX", "b", "l"]), int(0));
        assert_eq!(c.call(&["RENAMENX", "l", "m"]), int(1));
        assert_eq!(c.call(&["TYPE", "m"]), simple("list"));
        assert_eq!(c.call(&["TTL", "m"]), int(-1));
        assert_eq!(c.call(&["RENAME", "m", "b"]), ok());
        assert_eq!(c.call(&["TYPE", "b"]), simple("list"));
        assert_eq!(
            c.call(&["TTL", "b"]),
            int(-1),
            "the source's (lack of) TTL moves"
        );
        assert_eq!(
            cap.take(),
            vec![
                format!("0:SET a 1 PXAT {}", NOW + 100_000),
                "0:RENAME a b".into(),
                "0:RENAMENX l m".into(),
                "0:RENAME m b".into(),
            ]
        );
    }

    #[test]
    fn move_between_databases() {
        let mut c = with_list();
        let cap = capture(&c);
        c.call(&["SET", "a", "1", "PX", "5000"]);
        assert_eq!(
            c.call(&["MOVE", "a", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            c.call(&["MOVE", "a", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            c.call(&["MOVE", "a", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            c.call(&["MOVE", "a", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["MOVE", "a", "4294967296"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
        assert_eq!(c.call(&["MOVE", "nokey", "1"]), int(0));
        assert_eq!(c.call(&["MOVE", "a", "1"]), int(1));
        assert_eq!(c.call(&["EXISTS", "a"]), int(0));
        c.call(&["SET", "a", "2"]);
        assert_eq!(c.call(&["MOVE", "a", "1"]), int(0), "target exists");
        assert_eq!(c.call(&["MOVE", "l", "1"]), int(1));
        c.call(&["SELECT", "1"]);
        assert_eq!(c.call(&["GET", "a"]), bulk("1"));
        assert_eq!(c.call(&["PTTL", "a"]), int(5000));
        assert_eq!(c.call(&["TYPE", "l"]), simple("list"));
        assert_eq!(c.call(&["MOVE", "a", "0"]), int(0));
        assert_eq!(
            cap.take(),
            vec![
                format!("0:SET a 1 PXAT {}", NOW + 5000),
                "0:MOVE a 1".into(),
                "0:SET a 2".into(),
                "0:MOVE l 1".into(),
            ]
        );
    }

    #[test]
    fn move_over_an_expired_key_deletes_it_in_its_database() {
        let mut c = TestClient::new();
        let cap = capture(&c);
        c.call(&["SELECT", "1"]);
        c.call(&["SET", "k", "old", "PX", "1"]);
        c.call(&["SELECT", "0"]);
        c.call(&["SET", "k", "new"]);
        c.clock.advance(1);
        assert_eq!(c.call(&["MOVE", "k", "1"]), int(1));
        assert_eq!(c.call(&["COPY", "k", "k", "DB", "1"]), int(0));
        assert_eq!(
            cap.take(),
            vec![
                format!("1:SET k old PXAT {}", NOW + 1),
                "0:SET k new".into(),
                "0:SELECT 1".into(),
                "0:DEL k".into(),
                "0:SELECT 0".into(),
                "0:MOVE k 1".into(),
            ]
        );
    }

    #[test]
    fn copy_keys_and_databases() {
        let mut c = with_list();
        let cap = capture(&c);
        c.call(&["SET", "a", "1", "PX", "5000"]);
        let same = err("ERR source and destination objects are the same");
        assert_eq!(c.call(&["COPY", "a", "a"]), same);
        assert_eq!(c.call(&["COPY", "a", "a", "DB", "0"]), same);
        assert_eq!(c.call(&["COPY", "a", "b", "foo"]), err("ERR syntax error"));
        assert_eq!(
            c.call(&["COPY", "a", "b", "REPLACE", "DB"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["COPY", "a", "b", "DB", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["COPY", "a", "b", "DB", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(c.call(&["COPY", "nokey", "b"]), int(0));
        assert_eq!(c.call(&["COPY", "a", "b"]), int(1));
        assert_eq!(c.call(&["GET", "b"]), bulk("1"));
        assert_eq!(c.call(&["PTTL", "b"]), int(5000));
        c.call(&["SET", "b", "2"]);
        assert_eq!(c.call(&["COPY", "a", "b"]), int(0));
        assert_eq!(c.call(&["COPY", "a", "b", "REPLACE"]), int(1));
        assert_eq!(c.call(&["GET", "b"]), bulk("1"));
        assert_eq!(c.call(&["COPY", "a", "a", "DB", "2"]), int(1));
        assert_eq!(
            c.call(&["COPY", "l", "l2", "db", "5", "DB", "2", "replace"]),
            int(1)
        );
        assert_eq!(c.call(&["DEL", "l"]), int(1), "the copy is independent");
        c.call(&["SELECT", "2"]);
        assert_eq!(c.call(&["GET", "a"]), bulk("1"));
        assert_eq!(c.call(&["PTTL", "a"]), int(5000));
        assert_eq!(c.call(&["TYPE", "l2"]), simple("list"));
        assert_eq!(
            cap.take(),
            vec![
                format!("0:SET a 1 PXAT {}", NOW + 5000),
                "0:COPY a b".into(),
                "0:SET b 2".into(),
                "0:COPY a b REPLACE".into(),
                "0:COPY a a DB 2".into(),
                "0:COPY l l2 db 5 DB 2 replace".into(),
                "0:DEL l".into(),
            ]
        );
    }

    #[test]
    fn swapdb_flushdb_flushall() {
        let mut c = TestClient::new();
        let cap = capture(&c);
        c.call(&["SET", "a", "0"]);
        c.call(&["SELECT", "1"]);
        c.call(&["SET", "b", "1"]);
        assert_eq!(
            c.call(&["SWAPDB", "0", "abc"]),
            err("ERR invalid second DB index")
        );
        assert_eq!(
            c.call(&["SWAPDB", "abc", "0"]),
            err("ERR invalid first DB index")
        );
        assert_eq!(
            c.call(&["SWAPDB", "0", "2147483648"]),
            err("ERR invalid second DB index")
        );
        assert_eq!(
            c.call(&["SWAPDB", "0", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            c.call(&["SWAPDB", "-1", "0"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(c.call(&["SWAPDB", "0", "0"]), ok());
        assert_eq!(c.call(&["SWAPDB", "0", "1"]), ok());
        assert_eq!(c.call(&["GET", "a"]), bulk("0"));
        assert_eq!(c.call(&["EXISTS", "b"]), int(0));
        let syntax = err("ERR syntax error");
        assert_eq!(c.call(&["FLUSHDB", "foo"]), syntax);
        assert_eq!(c.call(&["FLUSHDB", "sync", "extra"]), syntax);
        assert_eq!(c.call(&["FLUSHALL", "now"]), syntax);
        assert_eq!(c.call(&["FLUSHDB", "ASYNC"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), int(0));
        assert_eq!(c.call(&["FLUSHDB"]), ok());
        c.call(&["SELECT", "0"]);
        assert_eq!(c.call(&["GET", "b"]), bulk("1"));
        assert_eq!(c.call(&["FLUSHALL", "sync"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), int(0));
        assert_eq!(c.call(&["FLUSHALL"]), ok());
        assert_eq!(
            cap.take(),
            vec![
                "0:SET a 0",
                "1:SET b 1",
                "1:SWAPDB 0 0",
                "1:SWAPDB 0 1",
                "1:FLUSHDB ASYNC",
                "1:FLUSHDB",
                "0:FLUSHALL sync",
                "0:FLUSHALL",
            ]
        );
    }

    #[test]
    fn watch_sees_key_commands() {
        let mut c = TestClient::new();
        let mut d = c.other();
        for cmd in [
            &["EXPIRE", "w", "100"][..],
            &["RENAME", "w", "w2"],
            &["FLUSHDB"],
            &["SWAPDB", "0", "1"],
            &["DEL", "w"],
            &["PERSIST", "w"],
        ] {
            c.call(&["SET", "w", "1", "EX", "1000"]);
            c.call(&["WATCH", "w"]);
            d.call(cmd);
            c.call(&["MULTI"]);
            c.call(&["GET", "w"]);
            assert_eq!(c.call(&["EXEC"]), Frame::Null, "{cmd:?}");
            d.call(&["FLUSHALL"]);
        }
    }

    #[test]
    fn in_transactions() {
        let mut c = with_list();
        c.call(&["SET", "a", "1"]);
        c.call(&["MULTI"]);
        c.call(&["MOVE", "a", "3"]);
        c.call(&["COPY", "l", "l", "DB", "4"]);
        c.call(&["KEYS", "*"]);
        c.call(&["DBSIZE"]);
        c.call(&["SCAN", "0", "COUNT", "1000"]);
        c.call(&["SWAPDB", "3", "4"]);
        assert_eq!(
            c.call(&["EXEC"]),
            arr(vec![
                int(1),
                int(1),
                bulks(&["l"]),
                int(1),
                arr(vec![bulk("0"), bulks(&["l"])]),
                ok()
            ])
        );
        c.call(&["SELECT", "3"]);
        assert_eq!(c.call(&["TYPE", "l"]), simple("list"));
        c.call(&["SELECT", "4"]);
        assert_eq!(c.call(&["GET", "a"]), bulk("1"));
    }

    #[test]
    fn object() {
        let mut c = with_list();
        let enc = |c: &mut TestClient, k: &str| c.call(&["OBJECT", "ENCODING", k]);
        c.call(&["MSET", "a", "123", "b", "abc", "d", "12345678901234567890"]);
        c.call(&[
            "MSET",
            "e",
            "-1",
            "f",
            "007",
            "g",
            &"x".repeat(44),
            "h",
            &"x".repeat(45),
        ]);
        assert_eq!(enc(&mut c, "a"), bulk("int"));
        assert_eq!(enc(&mut c, "b"), bulk("embstr"));
        assert_eq!(enc(&mut c, "d"), bulk("embstr"));
        assert_eq!(enc(&mut c, "e"), bulk("int"));
        assert_eq!(enc(&mut c, "f"), bulk("embstr"));
        assert_eq!(enc(&mut c, "g"), bulk("embstr"));
        assert_eq!(enc(&mut c, "h"), bulk("raw"));
        assert_eq!(enc(&mut c, "l"), bulk("quicklist"));
        assert_eq!(enc(&mut c, "nokey"), nil());
        let refc = |c: &mut TestClient, k: &str| c.call(&["OBJECT", "REFCOUNT", k]);
        assert_eq!(refc(&mut c, "a"), int(2_147_483_647));
        assert_eq!(refc(&mut c, "e"), int(1));
        assert_eq!(refc(&mut c, "b"), int(1));
        assert_eq!(refc(&mut c, "l"), int(1));
        assert_eq!(refc(&mut c, "nokey"), nil());
        c.clock.advance(10_000);
        assert_eq!(c.call(&["OBJECT", "IDLETIME", "a"]), int(10));
        c.call(&["GET", "a"]);
        assert_eq!(c.call(&["OBJECT", "IDLETIME", "a"]), int(0));
        assert_eq!(c.call(&["OBJECT", "IDLETIME", "nokey"]), nil());
        assert_eq!(
            c.call(&["OBJECT", "FREQ", "a"]),
            err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        );
        c.engine
            .config_set("maxmemory-policy", &["allkeys-lfu"])
            .expect("config");
        assert!(matches!(
            c.call(&["OBJECT", "FREQ", "a"]),
            Frame::Integer(_)
        ));
        assert_eq!(c.call(&["OBJECT", "FREQ", "nokey"]), nil());
        assert_eq!(
            c.call(&["OBJECT", "IDLETIME", "a"]),
            err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        );
        assert_eq!(
            c.call(&["OBJECT", "ENCODING"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            c.call(&["OBJECT", "encoding", "a", "b"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            c.call(&["OBJECT", "help", "x"]),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        assert_eq!(
            c.call(&["OBJECT", "foo"]),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            c.call(&["OBJECT"]),
            err("ERR wrong number of arguments for 'object' command")
        );
        let Frame::Array(help) = c.call(&["OBJECT", "HELP"]) else {
            panic!("help")
        };
        assert_eq!(help.len(), 15);
        assert_eq!(
            help[0],
            simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(help[14], simple("    Prints this help."));
    }

    #[test]
    fn past_expiry_on_a_replica_is_kept() {
        // A replica never deletes on its own: the key keeps its (past) expiry until the
        // master's DEL arrives.
        let mut c = TestClient::with_config(&[("replica-read-only", "no")]);
        let cap = capture(&c);
        c.call(&["SET", "k", "v"]);
        c.engine
            .shared()
            .is_replica
            .store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(c.call(&["PEXPIREAT", "k", "5"]), int(1));
        assert_eq!(c.call(&["GETEX", "k"]), nil());
        assert_eq!(cap.take(), vec!["0:SET k v", "0:PEXPIREAT k 5", "0:DEL k"]);
    }

    #[test]
    fn wrongtype_free_commands() {
        // Key commands work on any type.
        let mut c = with_list();
        assert_eq!(c.call(&["EXPIRE", "l", "10"]), int(1));
        assert_eq!(c.call(&["TTL", "l"]), int(10));
        assert_eq!(c.call(&["PERSIST", "l"]), int(1));
        assert_eq!(c.call(&["GET", "l"]), wrongtype());
        assert_eq!(c.call(&["DEL", "l"]), int(1));
    }
}
