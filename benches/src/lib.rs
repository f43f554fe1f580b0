//! Inputs for tandem's micro-benchmarks (`benches/micro.rs`), kept in a library so that
//! they are built, tested and linted like any other code.
//!
//! Run the benchmarks with `cargo bench -p tandem-benches`; check that they still work,
//! quickly, with `cargo bench -p tandem-benches -- --test`. Criterion keeps the last run in
//! `target/criterion` and reports the change against it; `-- --save-baseline main` and
//! `-- --baseline main` compare against a named run instead. The side-by-side comparison
//! with redis-server is not here: it needs servers and clients, see `shared/bench/`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use tandem_keyspace::{Hash, Keyspace, KeyspaceConfig, Object, Ttl, Value};

/// Keys in the keyspace benchmarks.
pub const KEYS: usize = 100_000;

/// A request as clients send it: a RESP array of bulk strings.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    tandem_resp::encode::command(&mut out, args);
    out
}

/// `n` requests in one buffer, as a pipelining client (`redis-benchmark -P n`) sends them:
/// SET and GET alternating over a few keys.
pub fn pipeline(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let k = key(i % 16);
        if i % 2 == 0 {
            tandem_resp::encode::command(&mut out, &[&b"SET"[..], &k, b"xxxxxxxxxxxxxxxx"]);
        } else {
            tandem_resp::encode::command(&mut out, &[&b"GET"[..], &k]);
        }
    }
    out
}

/// The `i`-th benchmark key, `key:000123` (as redis-benchmark names them).
pub fn key(i: usize) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

/// All `n` keys, built once so that the benchmarks do not format them.
pub fn keys(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(key).collect()
}

/// A keyspace holding `keys` as strings of `value_len` bytes in database 0.
pub fn string_keyspace(keys: &[Vec<u8>], value_len: usize) -> Keyspace {
    let ks = Keyspace::new(KeyspaceConfig::default());
    for k in keys {
        let mut g = ks.lock_key(0, k, 0);
        g.set(0, k, Value::Str(vec![b'v'; value_len]), Ttl::Clear);
    }
    ks
}

/// A keyspace holding `keys` as hashes with one field (`f` → `v`) in database 0.
pub fn hash_keyspace(keys: &[Vec<u8>]) -> Keyspace {
    let ks = Keyspace::new(KeyspaceConfig::default());
    for k in keys {
        let mut h = Hash::new();
        h.insert(b"f", b"v");
        let mut g = ks.lock_key(0, k, 0);
        g.set(0, k, Value::Obj(Object::Hash(h)), Ttl::Clear);
    }
    ks
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_resp::{RequestLimits, RequestParser};

    #[test]
    fn inputs_parse_and_load() {
        let input = pipeline(10);
        let mut p = RequestParser::new();
        let mut at = 0;
        let mut n = 0;
        while let Some(r) = p.parse(&input[at..], &RequestLimits::default()).unwrap() {
            at += r.consumed();
            n += 1;
        }
        assert_eq!((n, at), (10, input.len()));
        let k = keys(100);
        assert_eq!(string_keyspace(&k, 3).dbsize(0), 100);
        assert_eq!(hash_keyspace(&k).dbsize(0), 100);
        assert_eq!(key(7), b"key:000000000007");
    }
}
