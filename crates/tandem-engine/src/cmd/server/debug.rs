//! DEBUG: SLEEP, SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, OBJECT, PROTOCOL, ERROR, HELP,
//! RELOAD (implemented with persistence, `persist::save::debug_reload`).
//! Refused (by the engine, before MULTI queueing, as Redis does) unless
//! `enable-debug-command` is `yes`, or `local` for a local client.
//!
//! `DIGEST` and `DIGEST-VALUE` compute exactly Redis 7.0's digests (SHA-1 based, see
//! `debug.c`): the same data gives the same digest on tandem and on Redis, whatever
//! the order of insertion, so masters and replicas of either kind can be compared.
//! The command locks every shard (`Keys::All`), so the digest is of one point in time.

use std::fmt::Write as _;

use tandem_keyspace::{Object, ValueRef};
use tandem_resp::{encode::format_double, Proto};

use super::help;
use crate::call::Call;
use crate::error::{CmdError, CmdResult, NO_SUCH_KEY};

const HELP: &[&str] = &[
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
];

fn syntax(c: &Call<'_, '_>) -> CmdError {
    crate::cmd::pubsub::syntax_subcommand(c.argv[1], "DEBUG")
}

pub(super) fn debug(c: &mut Call<'_, '_>) -> CmdResult {
    let sub = String::from_utf8_lossy(c.argv[1]).to_ascii_lowercase();
    let argc = c.argc();
    match (sub.as_str(), argc) {
        ("help", 2) => help(c, "DEBUG", HELP),
        ("sleep", 3) => {
            let secs = String::from_utf8_lossy(c.argv[2])
                .trim()
                .parse::<f64>()
                .unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            c.out.ok();
        }
        ("set-active-expire", 3) => {
            let on = tandem_resp::parse_i64(c.argv[2]).unwrap_or(0) != 0;
            c.engine
                .active_expire_enabled
                .store(on, std::sync::atomic::Ordering::Relaxed);
            c.out.ok();
        }
        ("digest", 2) => {
            let d = dataset_digest(c);
            c.out.simple(&hex(&d));
        }
        ("digest-value", _) if argc >= 2 => {
            c.out.array(argc - 2);
            for i in 2..argc {
                let mut d = [0u8; 20];
                let db = c.db;
                if let Some(v) = c.ks.peek(db, c.argv[i]) {
                    object_digest(&mut d, v);
                }
                let expires = c.ks.expire_at(db, c.argv[i]).flatten().is_some();
                if expires {
                    xor_digest(&mut d, b"!!expire!!");
                }
                c.out.simple(&hex(&d));
            }
        }
        ("object", 3) => object(c)?,
        ("reload", _) => crate::persist::save::debug_reload(c)?,
        ("protocol", 3) => protocol(c)?,
        ("error", 3) => {
            let text = String::from_utf8_lossy(c.argv[2]).into_owned();
            return Err(CmdError::msg(text));
        }
        _ => return Err(syntax(c)),
    }
    Ok(())
}

fn object(c: &mut Call<'_, '_>) -> CmdResult {
    let db = c.db;
    let key = c.argv[2];
    let now = c.now_ms;
    let addr = c.engine.keyspace.hash(key) & 0xffff_ffff_fff0 | 0x7f00_0000_0000;
    let idle = c.ks.idle_seconds(db, key);
    let Some(v) = c.ks.peek(db, key) else {
        return Err(NO_SUCH_KEY);
    };
    let (encoding, serialized) = match v {
        ValueRef::Str(s) => (string_encoding(s), string_serialized_len(s)),
        ValueRef::Obj(o) => (o.encoding(), object_serialized_len(o)),
    };
    let idle = idle.unwrap_or(0);
    let lru = u64::from(tandem_keyspace::evict::lru_clock(now)).saturating_sub(idle) & 0xff_ffff;
    let text = format!(
        "Value at:0x{addr:x} refcount:1 encoding:{encoding} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}"
    );
    c.out.simple(&text);
    Ok(())
}

/// The encoding Redis 7.0 gives a string value.
fn string_encoding(s: &[u8]) -> &'static str {
    if s.len() <= 20 && tandem_resp::parse_i64(s).is_some() {
        "int"
    } else if s.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

fn len_prefix(n: usize) -> usize {
    if n < 1 << 6 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// Bytes an RDB string takes (integers in 32 bits are stored as such).
fn string_serialized_len(s: &[u8]) -> usize {
    match tandem_resp::parse_i64(s).filter(|_| s.len() <= 11) {
        Some(v) if (-128..=127).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => 5,
        _ => len_prefix(s.len()) + s.len(),
    }
}

fn object_serialized_len(o: &Object) -> usize {
    let items: usize = match o {
        Object::List(l) => l.iter().map(string_serialized_len).sum(),
        Object::Set(s) => s.iter().map(|m| string_serialized_len(&m)).sum(),
        Object::Hash(h) => h
            .iter()
            .map(|(f, v)| string_serialized_len(f) + string_serialized_len(v))
            .sum(),
        Object::ZSet(z) => z.iter().map(|(m, _)| string_serialized_len(m) + 8).sum(),
    };
    len_prefix(o.len()) + items
}

fn protocol(c: &mut Call<'_, '_>) -> CmdResult {
    let name = String::from_utf8_lossy(c.argv[2]).to_ascii_lowercase();
    let resp3 = c.out.proto() == Proto::Resp3;
    match name.as_str() {
        "string" => c.out.bulk(b"Hello World"),
        "integer" => c.out.int(12345),
        "double" => {
            #[allow(clippy::approx_constant)] // Redis's test value
            c.out.double(3.141)
        }
        "bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if resp3 {
                let out = c.out.raw();
                out.push(b'(');
                out.extend_from_slice(n);
                out.extend_from_slice(b"\r\n");
            } else {
                c.out.bulk(n);
            }
        }
        "null" => c.out.null(),
        "array" | "set" => {
            if name == "set" {
                c.out.set(3);
            } else {
                c.out.array(3);
            }
            for i in 0..3 {
                c.out.int(i);
            }
        }
        "map" => {
            c.out.map(3);
            for i in 0..3 {
                c.out.int(i);
                c.out.boolean(i == 1);
            }
        }
        "attrib" => {
            if resp3 {
                let out = c.out.raw();
                out.extend_from_slice(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n");
            }
            c.out.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !resp3 {
                return Err(CmdError::fixed("ERR RESP2 is not supported by this command"));
            }
            c.out.push(2);
            c.out.bulk(b"server-cpu-usage");
            c.out.int(42);
            c.out.bulk(b"Some real reply following the push reply");
        }
        "verbatim" => c.out.verbatim(b"This is a verbatim\nstring"),
        "true" => c.out.boolean(true),
        "false" => c.out.boolean(false),
        _ => {
            return Err(CmdError::fixed(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    }
    Ok(())
}

// ---- Redis's digest (debug.c) ----

/// `digest ^= SHA1(data)`
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    for (d, x) in digest.iter_mut().zip(h) {
        *d ^= x;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// Redis's `xorObjectDigest` without the expire part (the caller adds it).
fn object_digest(digest: &mut [u8; 20], v: ValueRef<'_>) {
    let ty: u32 = match v {
        ValueRef::Str(_) => 0,
        ValueRef::Obj(Object::List(_)) => 1,
        ValueRef::Obj(Object::Set(_)) => 2,
        ValueRef::Obj(Object::ZSet(_)) => 3,
        ValueRef::Obj(Object::Hash(_)) => 4,
    };
    mix_digest(digest, &ty.to_be_bytes());
    match v {
        ValueRef::Str(s) => mix_digest(digest, s),
        ValueRef::Obj(Object::List(l)) => {
            for e in l.iter() {
                mix_digest(digest, e);
            }
        }
        ValueRef::Obj(Object::Set(s)) => {
            for e in s.iter() {
                xor_digest(digest, &e);
            }
        }
        ValueRef::Obj(Object::ZSet(z)) => {
            for (m, score) in z.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, m);
                mix_digest(&mut ele, format_double(score).as_bytes());
                xor_digest(digest, &ele);
            }
        }
        ValueRef::Obj(Object::Hash(h)) => {
            for (f, val) in h.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, f);
                mix_digest(&mut ele, val);
                xor_digest(digest, &ele);
            }
        }
    }
}

/// Redis's `computeDatasetDigest` over every database (all shards must be locked).
pub(crate) fn dataset_digest(c: &mut Call<'_, '_>) -> [u8; 20] {
    let mut fin = [0u8; 20];
    for db in 0..c.engine.keyspace.databases() {
        let mut per_db = [0u8; 20];
        let mut any = false;
        c.ks.for_each(db, |key, v, expire| {
            any = true;
            let mut d = [0u8; 20];
            mix_digest(&mut d, key);
            object_digest(&mut d, v);
            if expire.is_some() {
                xor_digest(&mut d, b"!!expire!!");
            }
            for (f, x) in per_db.iter_mut().zip(sha1(&d)) {
                *f ^= x;
            }
        });
        if any {
            mix_digest(&mut fin, &(db as u32).to_be_bytes());
            for (f, x) in fin.iter_mut().zip(per_db) {
                *f ^= x;
            }
        }
    }
    fin
}

/// Lower-case hex.
pub(crate) fn hex(d: &[u8]) -> String {
    let mut s = String::with_capacity(d.len() * 2);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-1 (FIPS 180-4).
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    let mut w = [0u32; 80];
    for block in msg.chunks_exact(64) {
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}
