//! The keyspace used directly (no engine): one key per operation, 100k keys in the
//! database, visited in a scattered order so that the cache sees what a server sees.

use std::hint::black_box;

use criterion::Criterion;
use tandem_benches::{hash_keyspace, keys, string_keyspace, KEYS};
use tandem_keyspace::{Object, Ttl, Value};

/// A fixed "now" (unix ms); no key has a TTL, so its value does not matter.
const NOW: u64 = 1_700_000_000_000;

/// Walks all keys in a scattered but fixed order (7919 is prime, so it visits them all).
struct Cursor(usize);

impl Cursor {
    fn next(&mut self) -> usize {
        self.0 = (self.0 + 7919) % KEYS;
        self.0
    }
}

/// GET and SET on string keys.
pub fn strings(c: &mut Criterion) {
    let keys = keys(KEYS);
    let ks = string_keyspace(&keys, 16);
    let mut g = c.benchmark_group("keyspace_100k_strings");
    let mut cur = Cursor(0);
    g.bench_function("get", |b| {
        b.iter(|| {
            let k = &keys[cur.next()];
            let mut guard = ks.lock_key(0, k, NOW);
            black_box(guard.get(0, k).is_some())
        })
    });
    g.bench_function("get_missing", |b| {
        b.iter(|| {
            let k = &keys[cur.next()][1..];
            let mut guard = ks.lock_key(0, k, NOW);
            black_box(guard.get(0, k).is_some())
        })
    });
    // Overwrites an existing key; the value is built per call, as SET's handler does.
    g.bench_function("set_existing", |b| {
        b.iter(|| {
            let k = &keys[cur.next()];
            let mut guard = ks.lock_key(0, k, NOW);
            black_box(guard.set(0, k, Value::Str(vec![b'w'; 16]), Ttl::Clear))
        })
    });
    g.finish();
}

/// In-place updates of collections (HSET on an existing hash).
pub fn hashes(c: &mut Criterion) {
    let keys = keys(KEYS);
    let ks = hash_keyspace(&keys);
    let mut g = c.benchmark_group("keyspace_100k_hashes");
    let mut cur = Cursor(0);
    g.bench_function("update_hset", |b| {
        b.iter(|| {
            let k = &keys[cur.next()];
            let mut guard = ks.lock_key(0, k, NOW);
            black_box(guard.update(0, k, |o| match o {
                Object::Hash(h) => h.insert(b"f", b"w"),
                _ => false,
            }))
        })
    });
    g.finish();
}
