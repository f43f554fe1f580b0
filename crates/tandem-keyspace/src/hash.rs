//! The hash type.
//!
//! A small hash — at most [`MAX_LISTPACK_ENTRIES`] fields, no field or value longer than
//! [`MAX_LISTPACK_VALUE`] bytes — is one packed buffer of `len field len value` pairs in
//! insertion order, searched linearly like Redis's listpack (and reported as
//! `listpack`). Anything bigger is a [`RawTable`](crate::set) whose items are single
//! allocations holding `len field value`, reported as `hashtable`. As in Redis 7.0 a
//! hash never goes back to `listpack` once converted.

use crate::entry::alloc_size;
use crate::set::{sample_indices, KeyOf, RawTable};

/// Default `hash-max-listpack-entries` of Redis 7.0.15.
pub const MAX_LISTPACK_ENTRIES: usize = 512;
/// Default `hash-max-listpack-value`.
pub const MAX_LISTPACK_VALUE: usize = 64;

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `pos`: (value, position after it).
#[inline]
fn get_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut p = pos;
    loop {
        let b = buf[p];
        p += 1;
        v |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (v, p);
        }
        shift += 7;
    }
}

/// Table items are `varint(field len) field value`.
pub(crate) struct FieldOf;

impl KeyOf for FieldOf {
    #[inline]
    fn key(item: &[u8]) -> &[u8] {
        let (n, p) = get_varint(item, 0);
        &item[p..p + n]
    }
}

fn split_item(item: &[u8]) -> (&[u8], &[u8]) {
    let (n, p) = get_varint(item, 0);
    (&item[p..p + n], &item[p + n..])
}

fn make_item(field: &[u8], value: &[u8]) -> Box<[u8]> {
    let mut v = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    put_varint(&mut v, field.len());
    v.extend_from_slice(field);
    v.extend_from_slice(value);
    v.into_boxed_slice()
}

/// A field found in a packed buffer.
struct Found {
    start: usize,
    value: usize,
    value_len: usize,
    end: usize,
}

#[derive(Clone, Default)]
struct Pack {
    buf: Vec<u8>,
    len: usize,
}

impl Pack {
    fn find(&self, field: &[u8]) -> Option<Found> {
        let buf = &self.buf;
        let mut pos = 0;
        while pos < buf.len() {
            let (fl, p) = get_varint(buf, pos);
            let f = &buf[p..p + fl];
            let (vl, v) = get_varint(buf, p + fl);
            if f == field {
                return Some(Found {
                    start: pos,
                    value: v,
                    value_len: vl,
                    end: v + vl,
                });
            }
            pos = v + vl;
        }
        None
    }

    fn reserve(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf.reserve_exact(n.max(self.buf.len() / 8));
        }
    }

    fn push(&mut self, field: &[u8], value: &[u8]) {
        self.reserve(varint_len(field.len()) + field.len() + varint_len(value.len()) + value.len());
        put_varint(&mut self.buf, field.len());
        self.buf.extend_from_slice(field);
        put_varint(&mut self.buf, value.len());
        self.buf.extend_from_slice(value);
        self.len += 1;
    }

    /// Replaces the value of a found field in place.
    fn set_value(&mut self, at: &Found, value: &[u8]) {
        let old_hdr = varint_len(at.value_len);
        let hdr_start = at.value - old_hdr;
        let new_len = varint_len(value.len()) + value.len();
        let old_len = at.end - hdr_start;
        if new_len > old_len {
            self.reserve(new_len - old_len);
            let len = self.buf.len();
            self.buf.resize(len + new_len - old_len, 0);
            self.buf.copy_within(at.end..len, hdr_start + new_len);
        } else if new_len < old_len {
            let len = self.buf.len();
            self.buf.copy_within(at.end..len, hdr_start + new_len);
            self.buf.truncate(len - (old_len - new_len));
        }
        let mut n = value.len();
        let mut v = hdr_start;
        while n >= 0x80 {
            self.buf[v] = (n as u8) | 0x80;
            n >>= 7;
            v += 1;
        }
        self.buf[v] = n as u8;
        v += 1;
        self.buf[v..v + value.len()].copy_from_slice(value);
    }

    fn remove(&mut self, at: &Found) {
        self.buf.drain(at.start..at.end);
        self.len -= 1;
        if self.buf.capacity() > 64 && self.buf.len() * 2 < self.buf.capacity() {
            self.buf.shrink_to(self.buf.len() + self.buf.len() / 8);
        }
    }

    fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            pos: 0,
        }
    }
}

struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (fl, p) = get_varint(self.buf, self.pos);
        let (vl, v) = get_varint(self.buf, p + fl);
        self.pos = v + vl;
        Some((&self.buf[p..p + fl], &self.buf[v..v + vl]))
    }
}

#[derive(Clone)]
enum Repr {
    Pack(Pack),
    Table(RawTable<FieldOf>),
}

/// A map of binary-safe fields to binary-safe values.
#[derive(Clone)]
pub struct Hash {
    repr: Repr,
}

impl Default for Hash {
    fn default() -> Self {
        Hash {
            repr: Repr::Pack(Pack::default()),
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// Iterator over a hash's field/value pairs.
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

enum IterInner<'a> {
    Pack(PackIter<'a>),
    Table(std::slice::Iter<'a, Option<Box<[u8]>>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Pack(it) => it.next(),
            IterInner::Table(it) => it.find_map(|s| s.as_deref()).map(split_item),
        }
    }
}

impl Hash {
    /// An empty hash (packed until it grows past the listpack limits).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => p.len,
            Repr::Table(t) => t.len(),
        }
    }
    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The encoding name `OBJECT ENCODING` reports: `listpack` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Pack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }
    /// Estimated heap bytes; O(1).
    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Pack(p) => alloc_size(p.buf.capacity()),
            Repr::Table(t) => t.mem(),
        }
    }

    fn ensure_table(&mut self) -> &mut RawTable<FieldOf> {
        if let Repr::Pack(p) = &self.repr {
            let mut t = RawTable::with_capacity(p.len + 1);
            for (f, v) in p.iter() {
                t.insert_new(make_item(f, v));
            }
            self.repr = Repr::Table(t);
        }
        match &mut self.repr {
            Repr::Table(t) => t,
            Repr::Pack(_) => unreachable!("converted above"),
        }
    }

    /// Converts a packed hash to a table if any of `args` is too long for a listpack, as
    /// Redis does with a command's arguments before running it (`hashTypeTryConversion`).
    pub fn prepare_for(&mut self, args: &[&[u8]]) {
        if matches!(self.repr, Repr::Pack(_)) && args.iter().any(|a| a.len() > MAX_LISTPACK_VALUE) {
            self.ensure_table();
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Pack(p) => p.find(field).map(|f| &p.buf[f.value..f.end]),
            Repr::Table(t) => t.find(field).map(|i| split_item(t.at(i)).1),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Pack(p) => p.find(field).is_some(),
            Repr::Table(t) => t.find(field).is_some(),
        }
    }

    /// Sets `field`; returns whether it is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Repr::Pack(p) = &mut self.repr {
            if field.len() <= MAX_LISTPACK_VALUE && value.len() <= MAX_LISTPACK_VALUE {
                if let Some(at) = p.find(field) {
                    p.set_value(&at, value);
                    return false;
                }
                if p.len < MAX_LISTPACK_ENTRIES {
                    p.push(field, value);
                    return true;
                }
            }
        }
        let t = self.ensure_table();
        match t.find(field) {
            Some(i) => {
                t.replace(i, make_item(field, value));
                false
            }
            None => {
                t.insert_new(make_item(field, value));
                true
            }
        }
    }

    /// Removes `field`; returns whether it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Pack(p) => match p.find(field) {
                Some(at) => {
                    p.remove(&at);
                    true
                }
                None => false,
            },
            Repr::Table(t) => match t.find(field) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    /// All field/value pairs: insertion order while packed, table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Pack(p) => IterInner::Pack(p.iter()),
                Repr::Table(t) => IterInner::Table(t.slots_iter()),
            },
        }
    }

    /// A uniformly random field and its value.
    pub fn random(&self, rng: &mut impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Pack(p) if p.len == 0 => None,
            Repr::Pack(p) => p.iter().nth(rng() as usize % p.len),
            Repr::Table(t) => t.random_slot(rng).map(|i| split_item(t.at(i))),
        }
    }

    /// Visits `count` distinct random fields with their values (all of them, in hash
    /// order, if `count` is at least the size).
    pub fn sample(
        &self,
        count: usize,
        rng: &mut impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &[u8]),
    ) {
        let n = self.len();
        if count >= n {
            self.iter().for_each(|(k, v)| f(k, v));
            return;
        }
        match &self.repr {
            Repr::Pack(p) => {
                let all: Vec<(&[u8], &[u8])> = p.iter().collect();
                for i in sample_indices(n, count, rng) {
                    f(all[i].0, all[i].1);
                }
            }
            Repr::Table(t) => {
                if count * 3 > n {
                    let occ = t.occupied();
                    for i in sample_indices(n, count, rng) {
                        let (k, v) = split_item(t.at(occ[i]));
                        f(k, v);
                    }
                } else {
                    let mut seen = std::collections::HashSet::with_capacity(count);
                    while seen.len() < count {
                        if let Some(i) = t.random_slot(rng) {
                            if seen.insert(i) {
                                let (k, v) = split_item(t.at(i));
                                f(k, v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// HSCAN: visits fields from `cursor` on and returns the next cursor (0 when done).
    /// A packed hash is visited whole in one call, as Redis does.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(&'a [u8], &'a [u8]),
    ) -> u64 {
        match &self.repr {
            Repr::Pack(p) => {
                p.iter().for_each(|(k, v)| f(k, v));
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |item| {
                let (k, v) = split_item(item);
                f(k, v)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn small_hash_is_packed_in_insertion_order() {
        let mut h = Hash::new();
        assert!(h.insert(b"b", b"1"));
        assert!(h.insert(b"a", b"2"));
        assert!(!h.insert(b"b", b"three"));
        assert_eq!(h.get(b"b"), Some(&b"three"[..]));
        assert!(!h.insert(b"b", b""));
        assert_eq!(h.get(b"b"), Some(&b""[..]));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"b"[..], &b""[..]), (&b"a"[..], &b"2"[..])]);
        assert_eq!(h.encoding(), "listpack");
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn conversions_follow_redis() {
        let mut h = Hash::new();
        for i in 0..512 {
            h.insert(format!("f{i}").as_bytes(), b"v");
        }
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f512", b"v");
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert(b"f", &[b'x'; 64]);
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f", &[b'x'; 65]);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f").map(<[u8]>::len), Some(65));
        let mut h = Hash::new();
        h.insert(&[b'k'; 65], b"v");
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert(b"a", b"1");
        h.prepare_for(&[b"a", &[b'y'; 100]]);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"1"[..]));
    }

    #[test]
    fn matches_a_model() {
        let mut r = rng(11);
        let mut h = Hash::new();
        let mut m: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for step in 0..40_000u64 {
            let k = format!("field{}", r() % 1500).into_bytes();
            let vlen = if r().is_multiple_of(50) {
                100
            } else {
                (r() % 20) as usize
            };
            let v = vec![b'a' + (step % 26) as u8; vlen];
            match r() % 4 {
                0..=2 => assert_eq!(h.insert(&k, &v), m.insert(k.clone(), v).is_none()),
                _ => assert_eq!(h.remove(&k), m.remove(&k).is_some()),
            }
            if step % 4000 == 0 {
                assert_eq!(h.len(), m.len());
                for (k, v) in &m {
                    assert_eq!(h.get(k), Some(&v[..]));
                }
                let got: HashMap<Vec<u8>, Vec<u8>> =
                    h.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                assert_eq!(got, m);
                let mut seen = HashMap::new();
                let mut c = 0;
                loop {
                    c = h.scan(c, 7, |k, v| {
                        seen.insert(k.to_vec(), v.to_vec());
                    });
                    if c == 0 {
                        break;
                    }
                }
                assert_eq!(seen, m);
            }
        }
    }

    #[test]
    fn small_hashes_are_compact() {
        let mut h = Hash::new();
        for i in 0..100 {
            h.insert(
                format!("field:{i}").as_bytes(),
                format!("value:{i}").as_bytes(),
            );
        }
        // About 20 bytes of payload per pair.
        assert!(h.mem_usage() < 100 * 24, "{}", h.mem_usage());
    }
}
