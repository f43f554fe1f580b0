//! The string commands: GET, SET (and SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX), MGET,
//! MSET, MSETNX, APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, the INCR family,
//! INCRBYFLOAT and LCS, with Redis 7.0's replies, errors and propagated effects.
//!
//! Effects follow Redis 7.0.15 (checked with `redis-cli --replica`): any SET with an
//! expiry, SETEX and PSETEX become `SET k v PXAT <ms>`; SET's `GET` arguments are dropped;
//! GETSET becomes `SET`, GETDEL `DEL`, GETEX `PEXPIREAT`/`PERSIST` (or `DEL` for a time
//! already past), INCRBYFLOAT `SET k v KEEPTTL`.
//!
//! INCRBYFLOAT computes in x87 80-bit extended precision and prints with `%.17Lf`, as
//! Redis does on x86-64 (module [`ld`]): so `0.1 + 0.2` stores `0.3`, as it does there,
//! where plain `f64` arithmetic would store `0.30000000000000004`.

use tandem_keyspace::{Ttl, Value, ValueRef};
use tandem_resp::encode;

use crate::call::Call;
use crate::command::{flags::*, spec, CommandSpec, Keys};
use crate::error::{invalid_expire, CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX};
use crate::error::{wrong_arity, WRONGTYPE};
use crate::session::ClientKind;

const KEY1: Keys = Keys::range(1, 1, 1);

/// This family's commands.
pub const COMMANDS: &[CommandSpec] = &[
    spec("get", 2, READONLY | FAST, KEY1, get),
    spec("set", -3, WRITE | DENYOOM, KEY1, set),
    spec("setnx", 3, WRITE | DENYOOM | FAST, KEY1, setnx),
    spec("setex", 4, WRITE | DENYOOM, KEY1, setex),
    spec("psetex", 4, WRITE | DENYOOM, KEY1, psetex),
    spec("getset", 3, WRITE | DENYOOM | FAST, KEY1, getset),
    spec("getdel", 2, WRITE | FAST, KEY1, getdel),
    spec("getex", -2, WRITE | FAST, KEY1, getex),
    spec("mget", -2, READONLY | FAST, Keys::range(1, -1, 1), mget),
    spec("mset", -3, WRITE | DENYOOM, Keys::range(1, -1, 2), mset),
    spec("msetnx", -3, WRITE | DENYOOM, Keys::range(1, -1, 2), msetnx),
    spec("append", 3, WRITE | DENYOOM | FAST, KEY1, append),
    spec("strlen", 2, READONLY | FAST, KEY1, strlen),
    spec("getrange", 4, READONLY, KEY1, getrange),
    spec("substr", 4, READONLY, KEY1, getrange),
    spec("setrange", 4, WRITE | DENYOOM, KEY1, setrange),
    spec("incr", 2, WRITE | DENYOOM | FAST, KEY1, incr),
    spec("decr", 2, WRITE | DENYOOM | FAST, KEY1, decr),
    spec("incrby", 3, WRITE | DENYOOM | FAST, KEY1, incrby),
    spec("decrby", 3, WRITE | DENYOOM | FAST, KEY1, decrby),
    spec("incrbyfloat", 3, WRITE | DENYOOM | FAST, KEY1, incrbyfloat),
    spec("lcs", -3, READONLY, Keys::range(1, 2, 1), lcs),
];

/// Whether an absolute expiry `when` (unix ms) is already past, so the key must be
/// deleted rather than given the expiry. Like Redis, never while loading or on a replica:
/// there only the master's `DEL` removes keys.
pub(crate) fn already_expired(c: &Call<'_, '_>, when: i64) -> bool {
    use std::sync::atomic::Ordering::Relaxed;
    when <= c.now_ms as i64 && !c.engine.loading.load(Relaxed) && !c.engine.is_replica.load(Relaxed)
}

/// The command propagated for a key deleted because its new expiry is already past.
pub(crate) fn expire_delete_cmd(c: &Call<'_, '_>) -> &'static [u8] {
    if c.engine.config.get_bool("lazyfree-lazy-expire") {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// The stored value a write overwrites under the locked key: `Ok(None)` if absent.
fn peek_str<'a>(c: &'a mut Call<'_, '_>, key: &[u8]) -> Result<Option<&'a [u8]>, CmdError> {
    match c.ks.peek(c.db, key) {
        None => Ok(None),
        Some(ValueRef::Str(s)) => Ok(Some(s)),
        Some(ValueRef::Obj(_)) => Err(WRONGTYPE),
    }
}

/// Replies with the string at `key` (null if absent) — Redis's `getGenericCommand`.
/// Returns whether the key existed.
fn reply_get(c: &mut Call<'_, '_>, key: &[u8]) -> Result<bool, CmdError> {
    match c.ks.get(c.db, key) {
        None => {
            c.out.null();
            Ok(false)
        }
        Some(ValueRef::Str(s)) => {
            c.out.bulk(s);
            Ok(true)
        }
        Some(ValueRef::Obj(_)) => Err(WRONGTYPE),
    }
}

fn get(c: &mut Call<'_, '_>) -> CmdResult {
    match c.ks.get(c.db, c.argv[1]) {
        None => c.out.null(),
        Some(ValueRef::Str(s)) => c.out.bulk(s),
        Some(_) => return Err(WRONGTYPE),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// SET and its options

const F_NX: u16 = 1;
const F_XX: u16 = 1 << 1;
const F_GET: u16 = 1 << 2;
const F_KEEPTTL: u16 = 1 << 3;
const F_PERSIST: u16 = 1 << 4;
const F_EX: u16 = 1 << 5;
const F_PX: u16 = 1 << 6;
const F_EXAT: u16 = 1 << 7;
const F_PXAT: u16 = 1 << 8;
const F_EXPIRE: u16 = F_EX | F_PX | F_EXAT | F_PXAT;

/// Options of SET (`for_set`) or GETEX, parsed from `argv[start..]` exactly as Redis's
/// `parseExtendedStringArgumentsOrReply` accepts them (a repeated `EX` is allowed, two
/// different expiry units are not, ...).
#[derive(Clone, Copy, Default)]
struct StrOpts {
    flags: u16,
    /// Argument index of the expiry value.
    expire: usize,
}

impl StrOpts {
    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

fn parse_str_opts(argv: &[&[u8]], start: usize, for_set: bool) -> Result<StrOpts, CmdError> {
    let mut o = StrOpts::default();
    let mut j = start;
    while j < argv.len() {
        let a = argv[j];
        let next = j + 1 < argv.len();
        let f = o.flags;
        let unit = |name: &str, flag: u16| {
            a.eq_ignore_ascii_case(name.as_bytes())
                && f & (F_KEEPTTL | F_PERSIST) == 0
                && f & (F_EXPIRE & !flag) == 0
                && next
        };
        if for_set && a.eq_ignore_ascii_case(b"nx") && f & F_XX == 0 {
            o.flags |= F_NX;
        } else if for_set && a.eq_ignore_ascii_case(b"xx") && f & F_NX == 0 {
            o.flags |= F_XX;
        } else if for_set && a.eq_ignore_ascii_case(b"get") {
            o.flags |= F_GET;
        } else if for_set && a.eq_ignore_ascii_case(b"keepttl") && f & (F_PERSIST | F_EXPIRE) == 0 {
            o.flags |= F_KEEPTTL;
        } else if !for_set && a.eq_ignore_ascii_case(b"persist") && f & (F_KEEPTTL | F_EXPIRE) == 0
        {
            o.flags |= F_PERSIST;
        } else if let Some(flag) = [
            ("ex", F_EX),
            ("px", F_PX),
            ("exat", F_EXAT),
            ("pxat", F_PXAT),
        ]
        .iter()
        .find(|(n, fl)| unit(n, *fl))
        .map(|(_, fl)| *fl)
        {
            o.flags |= flag;
            o.expire = j + 1;
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry in unix ms given by `arg` in `flag`'s unit, validated as Redis's
/// `getExpireMillisecondsOrReply` does.
fn expire_ms(arg: &[u8], flag: u16, now_ms: u64, cmd: &str) -> Result<i64, CmdError> {
    let v = tandem_resp::parse_i64(arg).ok_or(NOT_INTEGER)?;
    let seconds = flag & (F_EX | F_EXAT) != 0;
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid_expire(cmd));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if flag & (F_EX | F_PX) != 0 {
        ms = ms
            .checked_add(now_ms as i64)
            .ok_or_else(|| invalid_expire(cmd))?;
    }
    Ok(ms)
}

fn set(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc() == 3 {
        // The hot path: no options to parse, nothing to rewrite.
        c.ks.set_str(c.db, c.argv[1], c.argv[2], Ttl::Clear);
        c.changed(1);
        c.out.ok();
        return Ok(());
    }
    let o = parse_str_opts(c.argv, 3, true)?;
    set_generic(c, o, c.argv[2], "set")
}

/// Redis's `setGenericCommand` for SET, SETEX and PSETEX.
fn set_generic(c: &mut Call<'_, '_>, o: StrOpts, val: &[u8], cmd: &str) -> CmdResult {
    let key = c.argv[1];
    let when = if o.has(F_EXPIRE) {
        Some(expire_ms(
            c.argv[o.expire],
            o.flags & F_EXPIRE,
            c.now_ms,
            cmd,
        )?)
    } else {
        None
    };
    let found = if o.has(F_GET) {
        reply_get(c, key)?
    } else {
        c.ks.exists(c.db, key)
    };
    if (o.has(F_NX) && found) || (o.has(F_XX) && !found) {
        if !o.has(F_GET) {
            c.out.null();
        }
        return Ok(());
    }
    let ttl = match when {
        Some(ms) => Ttl::At(ms.max(0) as u64),
        None if o.has(F_KEEPTTL) => Ttl::Keep,
        None => Ttl::Clear,
    };
    c.ks.set_str(c.db, key, val, ttl);
    if let Some(ms) = when {
        let mut b = [0u8; 20];
        c.propagate_as(&[b"SET", key, val, b"PXAT", encode::format_i64(ms, &mut b)]);
    } else if o.has(F_GET) {
        let argv: Vec<&[u8]> = c
            .argv
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| *a)
            .collect();
        c.propagate_as(&argv);
    } else {
        c.changed(1);
    }
    if !o.has(F_GET) {
        c.out.ok();
    }
    Ok(())
}

fn setnx(c: &mut Call<'_, '_>) -> CmdResult {
    if c.ks.exists(c.db, c.argv[1]) {
        c.out.int(0);
    } else {
        c.ks.set_str(c.db, c.argv[1], c.argv[2], Ttl::Clear);
        c.changed(1);
        c.out.int(1);
    }
    Ok(())
}

fn setex(c: &mut Call<'_, '_>) -> CmdResult {
    let o = StrOpts {
        flags: F_EX,
        expire: 2,
    };
    set_generic(c, o, c.argv[3], "setex")
}

fn psetex(c: &mut Call<'_, '_>) -> CmdResult {
    let o = StrOpts {
        flags: F_PX,
        expire: 2,
    };
    set_generic(c, o, c.argv[3], "psetex")
}

fn getset(c: &mut Call<'_, '_>) -> CmdResult {
    let (key, val) = (c.argv[1], c.argv[2]);
    reply_get(c, key)?;
    c.ks.set_str(c.db, key, val, Ttl::Clear);
    c.propagate_as(&[b"SET", key, val]);
    Ok(())
}

fn getdel(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    if reply_get(c, key)? {
        c.ks.delete(c.db, key);
        c.propagate_as(&[b"DEL", key]);
    }
    Ok(())
}

fn getex(c: &mut Call<'_, '_>) -> CmdResult {
    let key = c.argv[1];
    let o = parse_str_opts(c.argv, 2, false)?;
    // The expiry is validated only once the key is known to hold a string.
    let when = o
        .has(F_EXPIRE)
        .then(|| expire_ms(c.argv[o.expire], o.flags & F_EXPIRE, c.now_ms, "getex"));
    let expire_at = match c.ks.get(c.db, key) {
        None => {
            c.out.null();
            return Ok(());
        }
        Some(ValueRef::Obj(_)) => return Err(WRONGTYPE),
        Some(ValueRef::Str(s)) => {
            let when = when.transpose()?;
            c.out.bulk(s);
            when
        }
    };
    if let Some(ms) = expire_at {
        if o.has(F_EXAT | F_PXAT) && already_expired(c, ms) {
            c.ks.delete(c.db, key);
            let del = expire_delete_cmd(c);
            c.propagate_as(&[del, key]);
        } else {
            c.ks.set_expire(c.db, key, Some(ms.max(0) as u64));
            let mut b = [0u8; 20];
            c.propagate_as(&[b"PEXPIREAT", key, encode::format_i64(ms, &mut b)]);
        }
    } else if o.has(F_PERSIST) && matches!(c.ks.expire_at(c.db, key), Some(Some(_))) {
        c.ks.set_expire(c.db, key, None);
        c.propagate_as(&[b"PERSIST", key]);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Several keys

fn mget(c: &mut Call<'_, '_>) -> CmdResult {
    c.out.array(c.argc() - 1);
    for &key in &c.argv[1..] {
        match c.ks.get(c.db, key) {
            Some(ValueRef::Str(s)) => c.out.bulk(s),
            _ => c.out.null(),
        }
    }
    Ok(())
}

fn mset(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc().is_multiple_of(2) {
        return Err(wrong_arity("mset"));
    }
    for pair in c.argv[1..].chunks_exact(2) {
        c.ks.set_str(c.db, pair[0], pair[1], Ttl::Clear);
    }
    c.changed((c.argc() as u64 - 1) / 2);
    c.out.ok();
    Ok(())
}

fn msetnx(c: &mut Call<'_, '_>) -> CmdResult {
    if c.argc().is_multiple_of(2) {
        return Err(wrong_arity("msetnx"));
    }
    let db = c.db;
    if c.argv[1..].iter().step_by(2).any(|k| c.ks.exists(db, k)) {
        c.out.int(0);
        return Ok(());
    }
    for pair in c.argv[1..].chunks_exact(2) {
        c.ks.set_str(c.db, pair[0], pair[1], Ttl::Clear);
    }
    c.changed((c.argc() as u64 - 1) / 2);
    c.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Parts of strings

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`
/// (except when our master says so).
fn check_string_length(c: &Call<'_, '_>, size: u64, append: u64) -> CmdResult {
    let total = size.saturating_add(append);
    // Redis refuses a proto-max-bulk-len under 1 MiB, so shorter strings need no lookup.
    if total <= 1 << 20 || c.sess.handle().kind() == ClientKind::Master {
        return Ok(());
    }
    let max = c.engine.config.get_i64("proto-max-bulk-len");
    if total > max.max(0) as u64 {
        return Err(CmdError::fixed(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

fn append(c: &mut Call<'_, '_>) -> CmdResult {
    let (key, tail) = (c.argv[1], c.argv[2]);
    let new = match peek_str(c, key)? {
        None => tail.to_vec(),
        Some(s) => {
            let len = s.len();
            let mut v = Vec::with_capacity(len + tail.len());
            v.extend_from_slice(s);
            check_string_length(c, len as u64, tail.len() as u64)?;
            v.extend_from_slice(tail);
            v
        }
    };
    let len = new.len();
    c.ks.set(c.db, key, Value::Str(new), Ttl::Keep);
    c.changed(1);
    c.out.int(len as i64);
    Ok(())
}

fn strlen(c: &mut Call<'_, '_>) -> CmdResult {
    match c.ks.get(c.db, c.argv[1]) {
        None => c.out.int(0),
        Some(ValueRef::Str(s)) => c.out.int(s.len() as i64),
        Some(ValueRef::Obj(_)) => return Err(WRONGTYPE),
    }
    Ok(())
}

fn getrange(c: &mut Call<'_, '_>) -> CmdResult {
    let mut start = c.int_arg(2)?;
    let mut end = c.int_arg(3)?;
    let s = match c.ks.get(c.db, c.argv[1]) {
        None => {
            c.out.bulk(b"");
            return Ok(());
        }
        Some(ValueRef::Obj(_)) => return Err(WRONGTYPE),
        Some(ValueRef::Str(s)) => s,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        c.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        c.out.bulk(b"");
    } else {
        c.out.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

fn setrange(c: &mut Call<'_, '_>) -> CmdResult {
    let (key, val) = (c.argv[1], c.argv[3]);
    let offset = c.int_arg(2)?;
    if offset < 0 {
        return Err(CmdError::fixed("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let new = match peek_str(c, key)? {
        None => {
            if val.is_empty() {
                c.out.int(0);
                return Ok(());
            }
            check_string_length(c, offset, val.len() as u64)?;
            let mut v = vec![0u8; offset as usize + val.len()];
            v[offset as usize..].copy_from_slice(val);
            v
        }
        Some(s) => {
            let len = s.len();
            if val.is_empty() {
                c.out.int(len as i64);
                return Ok(());
            }
            let mut v = s.to_vec();
            check_string_length(c, offset, val.len() as u64)?;
            let end = offset as usize + val.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset as usize..end].copy_from_slice(val);
            v
        }
    };
    let len = new.len();
    c.ks.set(c.db, key, Value::Str(new), Ttl::Keep);
    c.changed(1);
    c.out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Counters

/// Adds `by` to the integer at `argv[1]` (keeping its TTL) and replies with the result.
fn incr_by(c: &mut Call<'_, '_>, by: i64) -> CmdResult {
    let key = c.argv[1];
    let cur = match peek_str(c, key)? {
        None => 0,
        Some(s) => tandem_resp::parse_i64(s).ok_or(NOT_INTEGER)?,
    };
    let new = cur.checked_add(by).ok_or(OVERFLOW)?;
    let mut v = Vec::with_capacity(20);
    encode::push_int(&mut v, new);
    c.ks.set(c.db, key, Value::Str(v), Ttl::Keep);
    c.changed(1);
    c.out.int(new);
    Ok(())
}

fn incr(c: &mut Call<'_, '_>) -> CmdResult {
    incr_by(c, 1)
}

fn decr(c: &mut Call<'_, '_>) -> CmdResult {
    incr_by(c, -1)
}

fn incrby(c: &mut Call<'_, '_>) -> CmdResult {
    let by = c.int_arg(2)?;
    incr_by(c, by)
}

fn decrby(c: &mut Call<'_, '_>) -> CmdResult {
    let by = c.int_arg(2)?;
    if by == i64::MIN {
        return Err(CmdError::fixed("ERR decrement would overflow"));
    }
    incr_by(c, -by)
}

/// `cur + incr` as Redis's INCRBYFLOAT/HINCRBYFLOAT compute and store it (`None`
/// stands for a missing value, 0). Errors are Redis's.
pub(crate) fn add_floats(cur: Option<&[u8]>, incr: &[u8]) -> Result<String, CmdError> {
    let a = match cur {
        None => ld::Ld::Zero,
        Some(s) => ld::parse(s).ok_or(NOT_FLOAT)?,
    };
    let b = ld::parse(incr).ok_or(NOT_FLOAT)?;
    match ld::add(a, b) {
        ld::Ld::Inf => Err(CmdError::fixed(
            "ERR increment would produce NaN or Infinity",
        )),
        sum => Ok(ld::format_human(sum)),
    }
}

fn incrbyfloat(c: &mut Call<'_, '_>) -> CmdResult {
    let (key, incr) = (c.argv[1], c.argv[2]);
    let new = add_floats(peek_str(c, key)?, incr)?;
    c.ks.set_str(c.db, key, new.as_bytes(), Ttl::Keep);
    c.out.bulk(new.as_bytes());
    c.propagate_as(&[b"SET", key, new.as_bytes(), b"KEEPTTL"]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// LCS

fn lcs(c: &mut Call<'_, '_>) -> CmdResult {
    let db = c.db;
    let mut fetch = |key: &[u8]| match c.ks.get(db, key) {
        None => Ok(Vec::new()),
        Some(ValueRef::Str(s)) => Ok(s.to_vec()),
        Some(ValueRef::Obj(_)) => Err(CmdError::fixed(
            "ERR The specified keys must contain string values",
        )),
    };
    let a = fetch(c.argv[1]);
    let b = fetch(c.argv[2]);
    let (a, b) = (a?, b?);
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen = 0i64;
    let mut j = 3;
    while j < c.argc() {
        let more = c.argc() - 1 - j;
        if c.is(j, "idx") {
            getidx = true;
        } else if c.is(j, "len") {
            getlen = true;
        } else if c.is(j, "withmatchlen") {
            withmatchlen = true;
        } else if c.is(j, "minmatchlen") && more > 0 {
            minmatchlen = c.int_arg(j + 1)?.max(0);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::fixed(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::fixed("ERR String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen + 1).checked_mul(blen + 1).ok_or_else(lcs_no_memory)?;
    let mut table: Vec<u32> = Vec::new();
    table
        .try_reserve_exact(cells)
        .map_err(|_| lcs_no_memory())?;
    table.resize(cells, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    // Walk back from the end, as Redis does, collecting the LCS and the matched ranges.
    let compute = getidx || !getlen;
    let mut result = vec![0u8; if compute { total as usize } else { 0 }];
    let mut idx = total as usize;
    let mut ranges: Vec<[u32; 5]> = Vec::new();
    let (mut astart, mut aend, mut bstart, mut bend) = (alen as u32, 0u32, 0u32, 0u32);
    let (mut i, mut j) = (alen, blen);
    while compute && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if astart == alen as u32 {
                astart = i as u32 - 1;
                aend = i as u32 - 1;
                bstart = j as u32 - 1;
                bend = j as u32 - 1;
            } else if astart == i as u32 && bstart == j as u32 {
                astart -= 1;
                bstart -= 1;
            } else {
                emit = true;
            }
            if astart == 0 || bstart == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if astart != alen as u32 {
                emit = true;
            }
        }
        if emit {
            let matchlen = aend.wrapping_sub(astart).wrapping_add(1);
            if minmatchlen == 0 || i64::from(matchlen) >= minmatchlen {
                ranges.push([astart, aend, bstart, bend, matchlen]);
            }
            astart = alen as u32;
        }
    }
    if getidx {
        c.out.map(2);
        c.out.bulk(b"matches");
        c.out.array(ranges.len());
        for r in &ranges {
            c.out.array(2 + usize::from(withmatchlen));
            c.out.array(2);
            c.out.int(r[0].into());
            c.out.int(r[1].into());
            c.out.array(2);
            c.out.int(r[2].into());
            c.out.int(r[3].into());
            if withmatchlen {
                c.out.int(r[4].into());
            }
        }
        c.out.bulk(b"len");
        c.out.int(total.into());
    } else if getlen {
        c.out.int(total.into());
    } else {
        c.out.bulk(&result);
    }
    Ok(())
}

fn lcs_no_memory() -> CmdError {
    CmdError::fixed("ERR Insufficient memory, failed allocating transient memory for LCS")
}

pub(crate) mod ld {
    //! The x87 80-bit extended ("long double") arithmetic Redis's INCRBYFLOAT uses on
    //! x86-64: parsing as glibc's `strtold` (correctly rounded, hex floats, `inf`),
    //! one correctly rounded addition, and printing as `%.17Lf` with trailing zeros
    //! removed (Redis's `ld2string(..., LD_STR_HUMAN)`). Exact, with a small bignum.

    use std::cmp::Ordering;

    /// A long double value: `m * 2^e` (`m` < 2^64), zero, or an infinity (sign is
    /// irrelevant to INCRBYFLOAT: any infinity or NaN is an error).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Ld {
        /// ±0 (Redis prints both as `0`).
        Zero,
        /// A finite non-zero value.
        Fin {
            /// Negative.
            neg: bool,
            /// Significand.
            m: u64,
            /// Binary exponent of the significand's last bit.
            e: i32,
        },
        /// An infinity (or NaN).
        Inf,
    }

    /// Exponent of the highest bit of the largest finite value.
    const MAX_EXP: i64 = 16383;
    /// Exponent of the lowest bit of the smallest subnormal.
    const MIN_LSB: i64 = -16445;
    /// Redis's `MAX_LONG_DOUBLE_CHARS`: longer inputs are not floats.
    const MAX_CHARS: usize = 5 * 1024;

    /// Rounds `r * 2^e` (bit 0 of `r` may be a sticky bit) to a long double, to nearest,
    /// ties to even.
    fn make(neg: bool, r: u128, e: i64) -> Ld {
        if r == 0 {
            return Ld::Zero;
        }
        let top = 127 - i64::from(r.leading_zeros());
        let lead = top + e;
        if lead > MAX_EXP {
            return Ld::Inf;
        }
        let mut lsb = (lead - 63).max(MIN_LSB);
        let shift = lsb - e;
        let mut m: u128;
        if shift <= 0 {
            m = r << (-shift);
        } else {
            let (q, rem, half) = if shift >= 129 {
                (0, r, None)
            } else if shift == 128 {
                (0, r, Some(1u128 << 127))
            } else {
                (
                    r >> shift,
                    r & ((1u128 << shift) - 1),
                    Some(1u128 << (shift - 1)),
                )
            };
            m = q;
            if let Some(h) = half {
                if rem > h || (rem == h && m & 1 == 1) {
                    m += 1;
                }
            }
            if m == 1u128 << 64 {
                m >>= 1;
                lsb += 1;
                if lsb + 63 > MAX_EXP {
                    return Ld::Inf;
                }
            }
        }
        if m == 0 {
            return Ld::Zero;
        }
        Ld::Fin {
            neg,
            m: m as u64,
            e: lsb as i32,
        }
    }

    /// The correctly rounded sum.
    pub fn add(a: Ld, b: Ld) -> Ld {
        let (
            Ld::Fin {
                neg: na,
                m: ma,
                e: ea,
            },
            Ld::Fin {
                neg: nb,
                m: mb,
                e: eb,
            },
        ) = (a, b)
        else {
            return match (a, b) {
                (Ld::Inf, _) | (_, Ld::Inf) => Ld::Inf,
                (Ld::Zero, x) | (x, Ld::Zero) => x,
                _ => Ld::Zero,
            };
        };
        let lead = |m: u64, e: i32| i64::from(e) + 63 - i64::from(m.leading_zeros());
        let base = lead(ma, ea).max(lead(mb, eb)) - 125;
        let align = |m: u64, e: i32| -> u128 {
            let s = i64::from(e) - base;
            if s >= 0 {
                u128::from(m) << s
            } else if -s >= 128 {
                1
            } else {
                let v = u128::from(m);
                let lost = v & ((1u128 << -s) - 1) != 0;
                (v >> -s) | u128::from(lost)
            }
        };
        let (x, y) = (align(ma, ea), align(mb, eb));
        if na == nb {
            make(na, x + y, base)
        } else {
            match x.cmp(&y) {
                Ordering::Greater => make(na, x - y, base),
                Ordering::Less => make(nb, y - x, base),
                Ordering::Equal => Ld::Zero,
            }
        }
    }

    /// Parses like Redis's `string2ld`: glibc `strtold` with no leading space, nothing
    /// left over, no NaN and no overflow or underflow to zero.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        // strtold stops at a NUL, which Redis then sees as left over.
        if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) || s.contains(&0) {
            return None;
        }
        let (neg, s) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = |n: usize| s.get(..n).map(|p| p.to_ascii_lowercase());
        if lower(3).as_deref() == Some(b"inf") {
            return (s.len() == 3 || s.eq_ignore_ascii_case(b"infinity")).then_some(Ld::Inf);
        }
        if lower(3).as_deref() == Some(b"nan") {
            return None;
        }
        if lower(2).as_deref() == Some(b"0x") {
            return parse_hex(neg, &s[2..]);
        }
        parse_dec(neg, s)
    }

    fn is_c_space(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// Parses an exponent `[+-]digits` that must end the input; saturates.
    fn parse_exp(s: &[u8]) -> Option<i64> {
        let (neg, d) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = d
            .iter()
            .fold(0i64, |v, &c| (v * 10 + i64::from(c - b'0')).min(1 << 40));
        Some(if neg { -v } else { v })
    }

    fn parse_dec(neg: bool, s: &[u8]) -> Option<Ld> {
        let int_len = s.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut pos = int_len;
        let mut frac_len = 0;
        if s.get(pos) == Some(&b'.') {
            frac_len = s[pos + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            pos += 1 + frac_len;
        }
        if int_len + frac_len == 0 {
            return None;
        }
        let mut exp = 0i64;
        if pos < s.len() {
            if !matches!(s[pos], b'e' | b'E') {
                return None;
            }
            exp = parse_exp(&s[pos + 1..])?;
        }
        let digits = s[..int_len]
            .iter()
            .chain(s.get(int_len + 1..int_len + 1 + frac_len).unwrap_or(&[]))
            .copied();
        let all: Vec<u8> = digits.collect();
        let first = all.iter().position(|&d| d != b'0');
        let Some(first) = first else {
            return Some(Ld::Zero);
        };
        let last = all.iter().rposition(|&d| d != b'0').unwrap_or(first);
        let sig = &all[first..=last];
        // value = sig * 10^e10
        let e10 = exp - frac_len as i64 + (all.len() - 1 - last) as i64;
        let nd = sig.len() as i64;
        if nd - 1 + e10 > 4933 || nd + e10 < -4952 {
            return None; // overflow to HUGE_VAL or underflow to 0: ERANGE
        }
        let d = Big::from_decimal(sig);
        let v = if e10 >= 0 {
            let mut n = d;
            n.mul_pow10(e10 as u32);
            from_big(neg, &n, 0)
        } else {
            let mut den = Big::from_u64(1);
            den.mul_pow10((-e10) as u32);
            div_to_ld(neg, d, den)
        };
        (v != Ld::Zero && v != Ld::Inf).then_some(v)
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Ld> {
        let int_len = s.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let mut pos = int_len;
        let mut frac_len = 0;
        if s.get(pos) == Some(&b'.') {
            frac_len = s[pos + 1..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            pos += 1 + frac_len;
        }
        if int_len + frac_len == 0 {
            return None; // strtold read only the "0"; the "x" is left over
        }
        let mut exp = 0i64;
        if pos < s.len() {
            if !matches!(s[pos], b'p' | b'P') {
                return None;
            }
            exp = parse_exp(&s[pos + 1..])?;
        }
        let mut h = Big::from_u64(0);
        for &c in s[..int_len]
            .iter()
            .chain(s.get(int_len + 1..int_len + 1 + frac_len).unwrap_or(&[]))
        {
            let d = (c as char).to_digit(16).unwrap_or(0);
            h.mul_small(16, d);
        }
        if h.is_zero() {
            return Some(Ld::Zero);
        }
        let e2 = exp - 4 * frac_len as i64;
        if e2 > 1 << 20 {
            return None;
        }
        if e2 < -(1 << 20) {
            return None;
        }
        let v = from_big(neg, &h, e2);
        (v != Ld::Zero && v != Ld::Inf).then_some(v)
    }

    /// `n * 2^e` rounded.
    fn from_big(neg: bool, n: &Big, e: i64) -> Ld {
        let bits = n.bit_len();
        if bits <= 127 {
            make(neg, n.low_u128(), e)
        } else {
            let shift = bits - 127;
            let (r, sticky) = n.shr_u128(shift);
            make(neg, r | u128::from(sticky), e + shift as i64)
        }
    }

    /// `num / den` rounded: 127 quotient bits by long division, the remainder sticky.
    fn div_to_ld(neg: bool, mut num: Big, mut den: Big) -> Ld {
        let k = 126 + den.bit_len() as i64 - num.bit_len() as i64;
        if k >= 0 {
            num.shl(k as usize);
        } else {
            den.shl((-k) as usize);
        }
        // num / den is now in [2^125, 2^127).
        den.shl(127);
        let mut q: u128 = 0;
        for bit in (0..=127).rev() {
            if num.cmp(&den) != Ordering::Less {
                num.sub(&den);
                q |= 1u128 << bit;
            }
            den.shr1();
        }
        make(neg, q | u128::from(!num.is_zero()), -k)
    }

    /// `%.17Lf` with trailing zeros (and a trailing point) removed, `-0` as `0`.
    pub fn format_human(v: Ld) -> String {
        let Ld::Fin { neg, m, e } = v else {
            return if v == Ld::Zero {
                "0".into()
            } else {
                "inf".into()
            };
        };
        const SCALE: u128 = 100_000_000_000_000_000; // 10^17
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        if e >= 0 {
            let mut n = Big::from_u64(m);
            n.shl(e as usize);
            s.push_str(&n.to_decimal());
        } else {
            let x = u128::from(m) * SCALE;
            let sh = (-e) as u32;
            let q = if sh >= 128 {
                0
            } else {
                let q = x >> sh;
                let rem = x & ((1u128 << sh) - 1);
                let half = 1u128 << (sh - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            let (int, frac) = (q / SCALE, q % SCALE);
            s.push_str(&int.to_string());
            let f = format!("{frac:017}");
            let f = f.trim_end_matches('0');
            if !f.is_empty() {
                s.push('.');
                s.push_str(f);
            }
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }

    /// Little-endian base-2^32 unsigned integers, just what parsing and printing need.
    #[derive(Clone, Debug)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn from_decimal(digits: &[u8]) -> Big {
            let mut b = Big(Vec::with_capacity(digits.len() / 9 + 1));
            for chunk in digits.chunks(9) {
                let mut v = 0u32;
                let mut mul = 1u32;
                for &d in chunk {
                    v = v * 10 + u32::from(d - b'0');
                    mul *= 10;
                }
                b.mul_small(mul, v);
            }
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        /// `self = self * m + add`.
        fn mul_small(&mut self, m: u32, add: u32) {
            let mut carry = u64::from(add);
            for limb in &mut self.0 {
                let v = u64::from(*limb) * u64::from(m) + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        fn mul_pow10(&mut self, mut e: u32) {
            while e >= 9 {
                self.mul_small(1_000_000_000, 0);
                e -= 9;
            }
            if e > 0 {
                self.mul_small(10u32.pow(e), 0);
            }
        }

        fn bit_len(&self) -> usize {
            match self.0.last() {
                None => 0,
                Some(&top) => self.0.len() * 32 - top.leading_zeros() as usize,
            }
        }

        fn shl(&mut self, bits: usize) {
            if self.is_zero() {
                return;
            }
            let (limbs, rest) = (bits / 32, bits % 32);
            if rest > 0 {
                let mut carry = 0u32;
                for limb in &mut self.0 {
                    let v = (*limb << rest) | carry;
                    carry = *limb >> (32 - rest);
                    *limb = v;
                }
                if carry != 0 {
                    self.0.push(carry);
                }
            }
            if limbs > 0 {
                self.0.splice(0..0, std::iter::repeat_n(0, limbs));
            }
        }

        fn shr1(&mut self) {
            let mut carry = 0u32;
            for limb in self.0.iter_mut().rev() {
                let v = (*limb >> 1) | (carry << 31);
                carry = *limb & 1;
                *limb = v;
            }
            self.trim();
        }

        fn low_u128(&self) -> u128 {
            self.0
                .iter()
                .take(4)
                .enumerate()
                .fold(0, |acc, (i, &l)| acc | (u128::from(l) << (32 * i)))
        }

        /// `(self >> shift)` (must fit 128 bits) and whether any shifted-out bit was set.
        fn shr_u128(&self, shift: usize) -> (u128, bool) {
            let (limbs, rest) = (shift / 32, shift % 32);
            let mut sticky = self.0[..limbs.min(self.0.len())].iter().any(|&l| l != 0);
            let mut r: u128 = 0;
            for i in 0..5 {
                let Some(&l) = self.0.get(limbs + i) else {
                    break;
                };
                let part = u128::from(l) >> rest;
                if i == 0 && rest > 0 && l & ((1u32 << rest) - 1) != 0 {
                    sticky = true;
                }
                if 32 * i < 128 {
                    r |= part << (32 * i);
                }
                if i > 0 && rest > 0 {
                    let low = u128::from(l) & ((1u128 << rest) - 1);
                    let at = 32 * i - rest;
                    if at < 128 {
                        r |= low << at;
                    }
                }
            }
            (r, sticky)
        }

        fn cmp(&self, other: &Big) -> Ordering {
            self.0
                .len()
                .cmp(&other.0.len())
                .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
        }

        /// `self -= other` (`self >= other`).
        fn sub(&mut self, other: &Big) {
            let mut borrow = 0i64;
            for i in 0..self.0.len() {
                let o = i64::from(other.0.get(i).copied().unwrap_or(0));
                let mut v = i64::from(self.0[i]) - o - borrow;
                borrow = 0;
                if v < 0 {
                    v += 1 << 32;
                    borrow = 1;
                }
                self.0[i] = v as u32;
            }
            self.trim();
        }

        fn to_decimal(&self) -> String {
            if self.is_zero() {
                return "0".into();
            }
            let mut n = self.clone();
            let mut chunks = Vec::new();
            while !n.is_zero() {
                let mut rem = 0u64;
                for limb in n.0.iter_mut().rev() {
                    let v = (rem << 32) | u64::from(*limb);
                    *limb = (v / 1_000_000_000) as u32;
                    rem = v % 1_000_000_000;
                }
                n.trim();
                chunks.push(rem as u32);
            }
            let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
            for c in chunks.iter().rev() {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers shared by the string and key command tests.

    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use tandem_keyspace::{List, Object, Ttl, Value};
    use tandem_resp::Frame;

    use crate::testkit::TestClient;
    use crate::Propagator;

    /// Records what the engine propagates.
    #[derive(Default)]
    pub struct Capture(Mutex<Vec<(usize, Vec<u8>)>>);

    impl Propagator for Capture {
        fn propagate(&self, db: usize, cmds: &[u8]) -> u64 {
            self.0
                .lock()
                .expect("capture lock")
                .push((db, cmds.to_vec()));
            0
        }
    }

    impl Capture {
        /// The commands propagated since the last call, each as `"db:ARG ARG ..."`.
        pub fn take(&self) -> Vec<String> {
            let batches = std::mem::take(&mut *self.0.lock().expect("capture lock"));
            let mut out = Vec::new();
            for (db, bytes) in batches {
                let b = Bytes::from(bytes);
                let mut pos = 0;
                while pos < b.len() {
                    let (f, n) = Frame::decode(&b.slice(pos..)).expect("valid RESP");
                    pos += n;
                    let Frame::Array(items) = f else {
                        panic!("not a command: {f:?}")
                    };
                    let words: Vec<String> = items
                        .iter()
                        .map(|i| match i {
                            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                            other => panic!("not a bulk: {other:?}"),
                        })
                        .collect();
                    out.push(format!("{db}:{}", words.join(" ")));
                }
            }
            out
        }
    }

    /// Installs a [`Capture`] as the engine's propagator.
    pub fn capture(c: &TestClient) -> Arc<Capture> {
        let cap = Arc::new(Capture::default());
        c.engine.set_propagator(Some(cap.clone()));
        cap
    }

    /// Stores a collection under `key` in `db` directly (the collection commands live
    /// in other modules).
    pub fn put(c: &TestClient, db: usize, key: &str, obj: Object) {
        let ks = &c.engine.shared().keyspace;
        let mut g = ks.lock_key(
            db,
            key.as_bytes(),
            c.clock.0.load(std::sync::atomic::Ordering::SeqCst),
        );
        g.set(db, key.as_bytes(), Value::Obj(obj), Ttl::Clear);
        let _ = g.take_expired();
    }

    /// A list of `items`.
    pub fn list(items: &[&str]) -> Object {
        let mut l = List::new();
        for i in items {
            l.push_back(i.as_bytes());
        }
        Object::List(l)
    }

    /// The `-WRONGTYPE` reply.
    pub fn wrongtype() -> Frame {
        crate::testkit::f::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{capture, list, put, wrongtype};
    use crate::testkit::{f::*, TestClient};

    const NOW: i64 = 1_700_000_000_000;

    fn float(s: &str) -> String {
        super::add_floats(None, s.as_bytes()).unwrap_or_else(|e| e.text().to_string())
    }

    fn add(a: &str, b: &str) -> String {
        super::add_floats(Some(a.as_bytes()), b.as_bytes()).unwrap_or_else(|e| e.text().to_string())
    }

    fn with_list() -> TestClient {
        let c = TestClient::new();
        put(&c, 0, "l", list(&["a"]));
        c
    }

    #[test]
    fn long_double_like_redis() {
        // Every expected value here was printed by real Redis 7.0.15 on x86-64.
        assert_eq!(add("0.1", "0.2"), "0.3");
        assert_eq!(add("10.50", "0.1"), "10.6");
        assert_eq!(add("5.0e3", "2.0e2"), "5200");
        assert_eq!(add("1.1", "1"), "2.1");
        assert_eq!(float("3.0"), "3");
        assert_eq!(float("-0"), "0");
        assert_eq!(float("+.5"), "0.5");
        assert_eq!(float("1e+2"), "100");
        assert_eq!(float("0x10"), "16");
        assert_eq!(float("0x1.8p1"), "3");
        assert_eq!(add("0x.8", "0.1"), "0.6");
        assert_eq!(add("0X1P-16445", "0.1"), "0.1");
        assert_eq!(float("1.e1"), "10");
        assert_eq!(add("0.", "5e-18"), "0");
        assert_eq!(add("16", "1e-20"), "16");
        assert_eq!(float("1e-20"), "0");
        assert_eq!(float("-1e-20"), "0");
        assert_eq!(float("0.00000000000000001"), "0.00000000000000001");
        assert_eq!(add("1.5", "-1.5"), "0");
        assert_eq!(add("-3", "1"), "-2");
        assert_eq!(add("-.0", "-83885071613126195798"), "-83885071613126195800");
        assert_eq!(add("295147905179352825859", "0"), "295147905179352825856");
        assert_eq!(
            add("147573952589676412926", "0.5e-17"),
            "147573952589676412928"
        );
        assert_eq!(add("9007199254740993", "0"), "9007199254740993");
        assert_eq!(
            add("1.4182737929346878e-1999", "142.4"),
            "142.39999999999999999"
        );
        assert_eq!(
            float("1e300"),
            "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"
        );
        assert!(float("1e400").starts_with("10000000000000000000281880683947586514586453"));
        const INF: &str = "ERR increment would produce NaN or Infinity";
        const BAD: &str = "ERR value is not a valid float";
        assert_eq!(float("inf"), INF);
        assert_eq!(float("-Infinity"), INF);
        assert_eq!(add("1e4932", "1e4932"), INF);
        assert_eq!(add("-1e-4951", "1"), BAD);
        for bad in [
            "nan", "abc", " 1", "1 ", "", "1e", "1e+", "0x", "0x1p", "1.2.3", "--1", "e5", ".",
            ".e1", "infinit", "1e5000", "1e-5000", "\0", "7\0junk",
        ] {
            assert_eq!(float(bad), BAD, "{bad:?}");
        }
    }

    #[test]
    fn get_and_set() {
        let mut c = with_list();
        assert_eq!(c.call(&["GET", "k"]), nil());
        assert_eq!(c.call(&["SET", "k", "v"]), ok());
        assert_eq!(c.call(&["GET", "k"]), bulk("v"));
        assert_eq!(c.call(&["GET", "l"]), wrongtype());
        assert_eq!(c.call(&["SET", "l", "v"]), ok(), "SET overwrites any type");
        assert_eq!(c.call(&["GET", "l"]), bulk("v"));
        assert_eq!(
            c.call(&["SET", "k"]),
            err("ERR wrong number of arguments for 'set' command")
        );
        assert_eq!(c.raw(&[b"GET", b"nokey"]), b"$-1\r\n");
        c.call(&["HELLO", "3"]);
        assert_eq!(c.raw(&[b"GET", b"nokey"]), b"_\r\n");
        assert_eq!(c.raw(&[b"SET", b"k", b"v", b"NX"]), b"_\r\n");
    }

    #[test]
    fn set_option_syntax() {
        let mut c = TestClient::new();
        for args in [
            &["SET", "k", "v", "EX", "10", "PX", "100"][..],
            &["SET", "k", "v", "KEEPTTL", "EX", "10"],
            &["SET", "k", "v", "EX", "10", "KEEPTTL"],
            &["SET", "k", "v", "PXAT", "10", "EXAT", "10"],
            &["SET", "k", "v", "NX", "XX"],
            &["SET", "k", "v", "XX", "NX"],
            &["SET", "k", "v", "EX"],
            &["SET", "k", "v", "foo"],
            &["SET", "k", "v", "PERSIST"],
            &["SET", "k", "v", "ex", "5", "get", "px", "5"],
        ] {
            assert_eq!(c.call(args), err("ERR syntax error"), "{args:?}");
        }
        let inv = err("ERR invalid expire time in 'set' command");
        assert_eq!(c.call(&["SET", "k", "v", "EX", "0"]), inv);
        assert_eq!(c.call(&["SET", "k", "v", "EX", "-1"]), inv);
        assert_eq!(c.call(&["SET", "k", "v", "PXAT", "0"]), inv);
        assert_eq!(c.call(&["SET", "k", "v", "PX", "9223372036854775807"]), inv);
        assert_eq!(c.call(&["SET", "k", "v", "EX", "9223372036854775"]), inv);
        assert_eq!(c.call(&["SET", "k", "v", "EX", "9223372036854776"]), inv);
        assert_eq!(
            c.call(&["SET", "k", "v", "EX", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["EXISTS", "k"]), int(0));
        assert_eq!(c.call(&["SET", "k", "v", "EX", "10", "EX", "20"]), ok());
        assert_eq!(c.call(&["TTL", "k"]), int(20));
        assert_eq!(c.call(&["SET", "k", "v", "nx", "NX"]), nil());
        assert_eq!(c.call(&["SET", "k", "v", "EXAT", "9223372036854775"]), ok());
    }

    #[test]
    fn set_expiries() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["SET", "k", "v", "PX", "100"]), ok());
        assert_eq!(c.call(&["PTTL", "k"]), int(100));
        c.clock.advance(99);
        assert_eq!(c.call(&["GET", "k"]), bulk("v"));
        c.clock.advance(1);
        assert_eq!(c.call(&["GET", "k"]), nil());
        c.call(&["SET", "k", "v", "EX", "10"]);
        assert_eq!(c.call(&["PTTL", "k"]), int(10_000));
        c.call(&["SET", "k", "v", "EXAT", &(NOW / 1000 + 6).to_string()]);
        assert_eq!(c.call(&["PTTL", "k"]), int(5900));
        c.call(&["SET", "k", "v", "PXAT", &(NOW + 100 + 7).to_string()]);
        assert_eq!(c.call(&["PTTL", "k"]), int(7));
        c.call(&["SET", "k", "v2", "KEEPTTL"]);
        assert_eq!(c.call(&["PTTL", "k"]), int(7));
        assert_eq!(c.call(&["GET", "k"]), bulk("v2"));
        c.call(&["SET", "k", "v3"]);
        assert_eq!(c.call(&["PTTL", "k"]), int(-1));
        // An absolute time in the past stores a key that is already gone.
        assert_eq!(c.call(&["SET", "k", "v", "EXAT", "1"]), ok());
        assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    }

    #[test]
    fn set_nx_xx_get() {
        let mut c = with_list();
        assert_eq!(c.call(&["SET", "k", "v", "XX"]), nil());
        assert_eq!(c.call(&["SET", "k", "v", "NX"]), ok());
        assert_eq!(c.call(&["SET", "k", "w", "NX"]), nil());
        assert_eq!(c.call(&["SET", "k", "w", "XX"]), ok());
        assert_eq!(c.call(&["GET", "k"]), bulk("w"));
        assert_eq!(c.call(&["SET", "k", "x", "GET"]), bulk("w"));
        assert_eq!(c.call(&["SET", "n", "x", "GET"]), nil());
        assert_eq!(c.call(&["GET", "n"]), bulk("x"));
        assert_eq!(c.call(&["SET", "k", "y", "GET", "NX"]), bulk("x"));
        assert_eq!(c.call(&["GET", "k"]), bulk("x"));
        assert_eq!(c.call(&["SET", "m", "y", "GET", "XX"]), nil());
        assert_eq!(c.call(&["EXISTS", "m"]), int(0));
        assert_eq!(c.call(&["SET", "m", "y", "NX", "GET"]), nil());
        assert_eq!(c.call(&["GET", "m"]), bulk("y"));
        assert_eq!(c.call(&["SET", "l", "v", "GET"]), wrongtype());
        assert_eq!(c.call(&["SET", "l", "v", "NX", "GET"]), wrongtype());
        assert_eq!(
            c.call(&["SET", "l", "v", "EX", "abc", "GET"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["TYPE", "l"]), simple("list"));
    }

    #[test]
    fn set_family_propagation() {
        let mut c = TestClient::new();
        let cap = capture(&c);
        c.call(&["set", "a", "1", "EX", "100"]);
        c.call(&["set", "a", "1", "PXAT", "99999999999999", "NX", "GET"]);
        c.call(&["set", "b", "1", "GET"]);
        c.call(&["set", "b", "2", "get", "KEEPTTL", "XX", "GET"]);
        c.call(&["set", "c", "1", "EXAT", "1"]);
        c.call(&["set", "k", "x"]);
        c.call(&["set", "k", "v", "PXAT", "99999999999999", "GET", "XX"]);
        c.call(&["setex", "d", "100", "v"]);
        c.call(&["psetex", "d", "100", "v"]);
        c.call(&["getset", "d", "x"]);
        c.call(&["getdel", "d"]);
        c.call(&["getdel", "d"]);
        c.call(&["setnx", "e", "1"]);
        c.call(&["setnx", "e", "1"]);
        c.call(&["mset", "e", "1", "f", "2"]);
        c.call(&["msetnx", "e", "1", "g", "2"]);
        c.call(&["msetnx", "g", "1", "h", "2"]);
        c.call(&["set", "f", "1.5"]);
        c.call(&["incrbyfloat", "f", "1"]);
        c.call(&["incr", "e"]);
        c.call(&["append", "e", "0"]);
        c.call(&["setrange", "e", "0", "9"]);
        c.call(&["setrange", "e", "0", ""]);
        let s = (NOW + 100_000).to_string();
        assert_eq!(
            cap.take(),
            vec![
                format!("0:SET a 1 PXAT {s}"),
                "0:set b 1".into(),
                "0:set b 2 KEEPTTL XX".into(),
                "0:SET c 1 PXAT 1000".into(),
                "0:set k x".into(),
                "0:SET k v PXAT 99999999999999".into(),
                format!("0:SET d v PXAT {s}"),
                format!("0:SET d v PXAT {}", NOW + 100),
                "0:SET d x".into(),
                "0:DEL d".into(),
                "0:setnx e 1".into(),
                "0:mset e 1 f 2".into(),
                "0:msetnx g 1 h 2".into(),
                "0:set f 1.5".into(),
                "0:SET f 2.5 KEEPTTL".into(),
                "0:incr e".into(),
                "0:append e 0".into(),
                "0:setrange e 0 9".into(),
            ]
        );
        // The key stored with a past EXAT goes away with a DEL when next touched.
        assert_eq!(c.call(&["GET", "c"]), nil());
        assert_eq!(cap.take(), vec!["0:DEL c".to_string()]);
    }

    #[test]
    fn setex_and_psetex() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["SETEX", "k", "10", "v"]), ok());
        assert_eq!(c.call(&["TTL", "k"]), int(10));
        assert_eq!(c.call(&["PSETEX", "k", "1500", "w"]), ok());
        assert_eq!(c.call(&["PTTL", "k"]), int(1500));
        assert_eq!(c.call(&["GET", "k"]), bulk("w"));
        assert_eq!(
            c.call(&["SETEX", "k", "0", "v"]),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            c.call(&["PSETEX", "k", "-5", "v"]),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(
            c.call(&["SETEX", "k", "x", "v"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            c.call(&["SETEX", "k", "1"]),
            err("ERR wrong number of arguments for 'setex' command")
        );
    }

    #[test]
    fn getset_getdel() {
        let mut c = with_list();
        assert_eq!(c.call(&["GETSET", "k", "a"]), nil());
        c.call(&["EXPIRE", "k", "100"]);
        assert_eq!(c.call(&["GETSET", "k", "b"]), bulk("a"));
        assert_eq!(c.call(&["TTL", "k"]), int(-1), "GETSET clears the TTL");
        assert_eq!(c.call(&["GETSET", "l", "b"]), wrongtype());
        assert_eq!(c.call(&["GETDEL", "k"]), bulk("b"));
        assert_eq!(c.call(&["GETDEL", "k"]), nil());
        assert_eq!(c.call(&["GETDEL", "l"]), wrongtype());
        assert_eq!(c.call(&["TYPE", "l"]), simple("list"));
    }

    #[test]
    fn getex() {
        let mut c = with_list();
        let cap = capture(&c);
        for args in [
            &["GETEX", "k", "PERSIST", "EX", "10"][..],
            &["GETEX", "k", "EX", "10", "PX", "10"],
            &["GETEX", "k", "KEEPTTL"],
            &["GETEX", "k", "NX"],
            &["GETEX", "k", "GET"],
            &["GETEX", "k", "EX"],
            &["GETEX", "l", "PERSIST", "foo"],
        ] {
            assert_eq!(c.call(args), err("ERR syntax error"), "{args:?}");
        }
        assert_eq!(c.call(&["GETEX", "nokey", "EX", "abc"]), nil());
        assert_eq!(c.call(&["GETEX", "l"]), wrongtype());
        assert_eq!(c.call(&["GETEX", "l", "EX", "abc"]), wrongtype());
        c.call(&["SET", "k", "v"]);
        cap.take();
        assert_eq!(
            c.call(&["GETEX", "k", "EX", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        let inv = err("ERR invalid expire time in 'getex' command");
        assert_eq!(c.call(&["GETEX", "k", "EX", "0"]), inv);
        assert_eq!(c.call(&["GETEX", "k", "PX", "9223372036854775807"]), inv);
        assert_eq!(c.call(&["GETEX", "k", "EXAT", "9223372036854775807"]), inv);
        assert_eq!(c.call(&["GETEX", "k"]), bulk("v"));
        assert_eq!(c.call(&["GETEX", "k", "PERSIST"]), bulk("v"));
        assert_eq!(c.call(&["GETEX", "k", "EX", "100"]), bulk("v"));
        assert_eq!(c.call(&["TTL", "k"]), int(100));
        assert_eq!(c.call(&["GETEX", "k", "PX", "500"]), bulk("v"));
        assert_eq!(c.call(&["PTTL", "k"]), int(500));
        assert_eq!(c.call(&["GETEX", "k", "PXAT", "99999999999999"]), bulk("v"));
        assert_eq!(c.call(&["GETEX", "k", "EXAT", "99999999999"]), bulk("v"));
        assert_eq!(c.call(&["GETEX", "k", "persist"]), bulk("v"));
        assert_eq!(c.call(&["TTL", "k"]), int(-1));
        assert_eq!(c.call(&["GETEX", "k", "PERSIST"]), bulk("v"));
        assert_eq!(c.call(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
        assert_eq!(c.call(&["EXISTS", "k"]), int(0));
        assert_eq!(
            cap.take(),
            vec![
                format!("0:PEXPIREAT k {}", NOW + 100_000),
                format!("0:PEXPIREAT k {}", NOW + 500),
                "0:PEXPIREAT k 99999999999999".to_string(),
                "0:PEXPIREAT k 99999999999000".to_string(),
                "0:PERSIST k".to_string(),
                "0:DEL k".to_string(),
            ]
        );
        c.call(&["SET", "k", "v", "PX", "10"]);
        c.clock.advance(10);
        assert_eq!(c.call(&["GETEX", "k", "PERSIST"]), nil());
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut c = with_list();
        assert_eq!(c.call(&["MSET", "a", "1", "b", "2", "a", "3"]), ok());
        assert_eq!(
            c.call(&["MGET", "a", "b", "l", "nokey"]),
            arr(vec![bulk("3"), bulk("2"), nil(), nil()])
        );
        assert_eq!(
            c.call(&["MSET", "a", "1", "b"]),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            c.call(&["MSETNX", "a"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(
            c.call(&["MSETNX", "x", "1", "y"]),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(c.call(&["MSETNX", "x", "1", "a", "2"]), int(0));
        assert_eq!(c.call(&["EXISTS", "x"]), int(0));
        assert_eq!(c.call(&["MSETNX", "x", "1", "l", "2"]), int(0));
        assert_eq!(c.call(&["MSETNX", "x", "1", "y", "2"]), int(1));
        assert_eq!(c.call(&["MGET", "x", "y"]), bulks(&["1", "2"]));
        c.call(&["EXPIRE", "x", "100"]);
        c.call(&["MSET", "x", "5"]);
        assert_eq!(c.call(&["TTL", "x"]), int(-1));
        assert_eq!(c.call(&["SETNX", "x", "6"]), int(0));
        assert_eq!(c.call(&["SETNX", "z", "6"]), int(1));
        assert_eq!(c.call(&["SETNX", "l", "6"]), int(0));
        assert_eq!(c.call(&["GET", "z"]), bulk("6"));
    }

    #[test]
    fn append_strlen_getrange() {
        let mut c = with_list();
        assert_eq!(c.call(&["APPEND", "k", "hello"]), int(5));
        c.call(&["EXPIRE", "k", "100"]);
        assert_eq!(c.call(&["APPEND", "k", " world"]), int(11));
        assert_eq!(c.call(&["TTL", "k"]), int(100), "APPEND keeps the TTL");
        assert_eq!(c.call(&["GET", "k"]), bulk("hello world"));
        assert_eq!(c.call(&["APPEND", "l", "x"]), wrongtype());
        assert_eq!(c.call(&["STRLEN", "k"]), int(11));
        assert_eq!(c.call(&["STRLEN", "nokey"]), int(0));
        assert_eq!(c.call(&["STRLEN", "l"]), wrongtype());
        let r = |c: &mut TestClient, a: &str, b: &str| c.call(&["GETRANGE", "k", a, b]);
        assert_eq!(r(&mut c, "0", "-1"), bulk("hello world"));
        assert_eq!(r(&mut c, "0", "4"), bulk("hello"));
        assert_eq!(r(&mut c, "-5", "-1"), bulk("world"));
        assert_eq!(r(&mut c, "-1", "-3"), bulk(""));
        assert_eq!(r(&mut c, "5", "2"), bulk(""));
        assert_eq!(r(&mut c, "0", "100"), bulk("hello world"));
        assert_eq!(r(&mut c, "-100", "-50"), bulk("h"));
        assert_eq!(
            r(&mut c, "9223372036854775807", "9223372036854775807"),
            bulk("")
        );
        assert_eq!(r(&mut c, "-9223372036854775808", "0"), bulk("h"));
        assert_eq!(
            r(&mut c, "abc", "1"),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["GETRANGE", "nokey", "0", "-1"]), bulk(""));
        assert_eq!(c.call(&["GETRANGE", "l", "0", "-1"]), wrongtype());
        assert_eq!(c.call(&["SUBSTR", "k", "0", "1"]), bulk("he"));
        c.call(&["SET", "e", ""]);
        assert_eq!(c.call(&["GETRANGE", "e", "0", "-1"]), bulk(""));
    }

    #[test]
    fn setrange() {
        let mut c = with_list();
        let range_err = err("ERR offset is out of range");
        let too_big = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        assert_eq!(c.call(&["SETRANGE", "k", "-1", "x"]), range_err);
        assert_eq!(
            c.call(&["SETRANGE", "k", "abc", "x"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(c.call(&["SETRANGE", "k", "536870912", "x"]), too_big);
        assert_eq!(c.call(&["SETRANGE", "k", "536870911", ""]), int(0));
        assert_eq!(c.call(&["SETRANGE", "k", "5", ""]), int(0));
        assert_eq!(c.call(&["EXISTS", "k"]), int(0));
        assert_eq!(c.call(&["SETRANGE", "k", "2", "ab"]), int(4));
        assert_eq!(
            c.call(&["GET", "k"]),
            Frame::Bulk(Bytes::from_static(b"\0\0ab"))
        );
        c.call(&["SET", "k", "hello"]);
        c.call(&["EXPIRE", "k", "100"]);
        assert_eq!(c.call(&["SETRANGE", "k", "536870912", "x"]), too_big);
        assert_eq!(c.call(&["SETRANGE", "k", "10", ""]), int(5));
        assert_eq!(c.call(&["SETRANGE", "k", "7", "xy"]), int(9));
        assert_eq!(c.call(&["GET", "k"]), bulk("hello\0\0xy"));
        assert_eq!(c.call(&["SETRANGE", "k", "1", "EL"]), int(9));
        assert_eq!(c.call(&["GET", "k"]), bulk("hELlo\0\0xy"));
        assert_eq!(c.call(&["TTL", "k"]), int(100));
        assert_eq!(c.call(&["SETRANGE", "l", "0", "x"]), wrongtype());
        assert_eq!(c.call(&["SETRANGE", "l", "0", ""]), wrongtype());
        assert_eq!(c.call(&["SETRANGE", "l", "-1", "x"]), range_err);
        c.engine
            .config_set("proto-max-bulk-len", &["1048576"])
            .expect("config");
        assert_eq!(c.call(&["SETRANGE", "k", "1048576", "x"]), too_big);
        assert_eq!(c.call(&["SETRANGE", "k", "1048575", "x"]), int(1_048_576));
    }

    use bytes::Bytes;
    use tandem_resp::Frame;

    #[test]
    fn counters() {
        let mut c = with_list();
        let not_int = err("ERR value is not an integer or out of range");
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(c.call(&["INCR", "n"]), int(1));
        assert_eq!(c.call(&["INCRBY", "n", "10"]), int(11));
        assert_eq!(c.call(&["DECR", "n"]), int(10));
        assert_eq!(c.call(&["DECRBY", "n", "-5"]), int(15));
        assert_eq!(c.call(&["DECR", "m"]), int(-1));
        assert_eq!(c.call(&["GET", "n"]), bulk("15"));
        c.call(&["EXPIRE", "n", "100"]);
        assert_eq!(c.call(&["INCR", "n"]), int(16));
        assert_eq!(c.call(&["TTL", "n"]), int(100), "INCR keeps the TTL");
        c.call(&["SET", "n", "9223372036854775807"]);
        assert_eq!(c.call(&["INCR", "n"]), overflow);
        assert_eq!(c.call(&["DECRBY", "n", "-1"]), overflow);
        c.call(&["SET", "n", "-9223372036854775808"]);
        assert_eq!(c.call(&["DECR", "n"]), overflow);
        assert_eq!(c.call(&["INCRBY", "n", "-1"]), overflow);
        assert_eq!(
            c.call(&["DECRBY", "n", "-9223372036854775808"]),
            err("ERR decrement would overflow")
        );
        assert_eq!(c.call(&["INCRBY", "n", "9223372036854775807"]), int(-1));
        for v in [" 1", "1.0", "+1", "", "01", "9223372036854775808", "abc"] {
            c.call(&["SET", "s", v]);
            assert_eq!(c.call(&["INCR", "s"]), not_int, "{v:?}");
        }
        assert_eq!(c.call(&["INCRBY", "x", "abc"]), not_int);
        assert_eq!(c.call(&["EXISTS", "x"]), int(0));
        assert_eq!(c.call(&["INCR", "l"]), wrongtype());
        assert_eq!(c.call(&["DECRBY", "l", "1"]), wrongtype());
    }

    #[test]
    fn incrbyfloat() {
        let mut c = with_list();
        assert_eq!(c.call(&["INCRBYFLOAT", "f", "1"]), bulk("1"));
        assert_eq!(c.call(&["INCRBYFLOAT", "f", "0.25"]), bulk("1.25"));
        c.call(&["SET", "f", "10.50"]);
        c.call(&["EXPIRE", "f", "100"]);
        assert_eq!(c.call(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
        assert_eq!(c.call(&["TTL", "f"]), int(100));
        assert_eq!(c.call(&["GET", "f"]), bulk("10.6"));
        assert_eq!(
            c.call(&["INCRBYFLOAT", "f", "inf"]),
            err("ERR increment would produce NaN or Infinity")
        );
        assert_eq!(
            c.call(&["INCRBYFLOAT", "f", "nan"]),
            err("ERR value is not a valid float")
        );
        c.call(&["SET", "g", "abc"]);
        assert_eq!(
            c.call(&["INCRBYFLOAT", "g", "1"]),
            err("ERR value is not a valid float")
        );
        assert_eq!(c.call(&["INCRBYFLOAT", "l", "1"]), wrongtype());
        assert_eq!(c.call(&["GET", "f"]), bulk("10.6"));
        // RESP3 still answers a bulk string, as Redis does.
        c.call(&["HELLO", "3"]);
        assert_eq!(c.raw(&[b"INCRBYFLOAT", b"f", b"1"]), b"$4\r\n11.6\r\n");
    }

    #[test]
    fn lcs() {
        let mut c = with_list();
        c.call(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
        assert_eq!(c.call(&["LCS", "key1", "key2"]), bulk("mytext"));
        assert_eq!(c.call(&["LCS", "key1", "key2", "LEN"]), int(6));
        let r = |a: i64, b: i64, x: i64, y: i64| {
            arr(vec![arr(vec![int(a), int(b)]), arr(vec![int(x), int(y)])])
        };
        assert_eq!(
            c.call(&["LCS", "key1", "key2", "IDX"]),
            arr(vec![
                bulk("matches"),
                arr(vec![r(4, 7, 5, 8), r(2, 3, 0, 1)]),
                bulk("len"),
                int(6)
            ])
        );
        assert_eq!(
            c.call(&[
                "LCS",
                "key1",
                "key2",
                "IDX",
                "MINMATCHLEN",
                "4",
                "WITHMATCHLEN"
            ]),
            arr(vec![
                bulk("matches"),
                arr(vec![arr(vec![
                    arr(vec![int(4), int(7)]),
                    arr(vec![int(5), int(8)]),
                    int(4)
                ])]),
                bulk("len"),
                int(6)
            ])
        );
        assert_eq!(
            c.call(&["LCS", "key1", "key2", "IDX", "LEN"]),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(c.call(&["LCS", "key1", "nokey"]), bulk(""));
        assert_eq!(
            c.call(&["LCS", "key1", "nokey", "IDX"]),
            arr(vec![bulk("matches"), arr(vec![]), bulk("len"), int(0)])
        );
        assert_eq!(
            c.call(&["LCS", "key1", "l"]),
            err("ERR The specified keys must contain string values")
        );
        assert_eq!(
            c.call(&["LCS", "key1", "key2", "MINMATCHLEN"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["LCS", "key1", "key2", "foo"]),
            err("ERR syntax error")
        );
        assert_eq!(
            c.call(&["LCS", "key1", "key2", "MINMATCHLEN", "x"]),
            err("ERR value is not an integer or out of range")
        );
        c.call(&["HELLO", "3"]);
        assert_eq!(
            c.raw(&[b"LCS", b"key1", b"key2", b"IDX", b"WITHMATCHLEN"]),
            &b"%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"[..]
        );
    }
}
