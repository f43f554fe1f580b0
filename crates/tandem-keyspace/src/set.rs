//! The set type, and the compact hash table shared with [`crate::hash`].
//!
//! A set of at most 512 integers (canonical decimal forms, as Redis's `string2ll`
//! accepts them) is a sorted `Vec<i64>`, reported as `intset`; any other set is a
//! [`RawTable`], reported as `hashtable`. As in Redis 7.0 a set never goes back to
//! `intset` once converted.
//!
//! [`RawTable`] is an open-addressing table with linear probing whose slots are single
//! boxed byte strings (one allocation per element, 16-byte slot plus a 1-byte tag), with
//! per-table random hash seeds and a load kept between 1/8 and 4/5. Linear probing keeps every element of a home bucket in
//! the run of occupied slots starting at that bucket, so a cursor over home buckets in
//! Redis's reverse-binary order gives SSCAN/HSCAN Redis's guarantee: every element present
//! for the whole scan is returned at least once, even when the table grows or shrinks
//! between calls.

use std::hash::BuildHasher;
use std::marker::PhantomData;

use crate::entry::alloc_size;

/// Default `set-max-intset-entries`.
pub const MAX_INTSET_ENTRIES: usize = 512;

/// Parses a canonical signed decimal (Redis `string2ll`: no `+`, no leading zeros,
/// no spaces, in range).
pub use tandem_resp::parse_i64 as parse_canonical_i64;

/// An integer formatted in decimal, on the stack.
#[derive(Clone, Copy)]
pub struct IntBuf {
    buf: [u8; 20],
    len: u8,
}

impl IntBuf {
    /// The decimal form of `v`.
    pub fn new(v: i64) -> IntBuf {
        let mut buf = [0u8; 20];
        let len = tandem_resp::encode::format_i64(v, &mut buf).len();
        buf.copy_within(20 - len.., 0);
        IntBuf {
            buf,
            len: len as u8,
        }
    }
}

impl std::ops::Deref for IntBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// A member of a set (or a field of a hash): borrowed bytes, or an integer of an
/// `intset` formatted on the stack. Dereferences to the bytes.
#[derive(Clone, Copy)]
pub enum Member<'a> {
    /// Stored bytes.
    Bytes(&'a [u8]),
    /// An integer member.
    Int(IntBuf),
}

impl std::ops::Deref for Member<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Member::Bytes(b) => b,
            Member::Int(i) => i,
        }
    }
}

impl AsRef<[u8]> for Member<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::fmt::Debug for Member<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

/// How a [`RawTable`] finds the key inside a stored item.
pub(crate) trait KeyOf {
    fn key(item: &[u8]) -> &[u8];
}

/// The whole item is the key (sets).
pub(crate) struct Whole;

impl KeyOf for Whole {
    #[inline]
    fn key(item: &[u8]) -> &[u8] {
        item
    }
}

const MIN_SLOTS: usize = 4;

/// Open-addressing hash table of boxed byte strings, keyed by `K::key(item)`.
pub(crate) struct RawTable<K: KeyOf> {
    slots: Vec<Option<Box<[u8]>>>,
    tags: Vec<u8>,
    len: usize,
    /// Σ allocation cost of the items.
    item_bytes: usize,
    hasher: foldhash::fast::RandomState,
    _k: PhantomData<K>,
}

impl<K: KeyOf> RawTable<K> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let slots = Self::slots_for(n);
        RawTable {
            slots: (0..slots).map(|_| None).collect(),
            tags: vec![0; slots],
            len: 0,
            item_bytes: 0,
            hasher: foldhash::fast::RandomState::default(),
            _k: PhantomData,
        }
    }

    /// Slots for `n` elements at a load of at most 4/5 (the tags keep the probe
    /// sequences of linear probing cheap at that load).
    fn slots_for(n: usize) -> usize {
        (n + n / 4 + 1).next_power_of_two().max(MIN_SLOTS)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn mem(&self) -> usize {
        self.item_bytes
            + alloc_size(self.slots.capacity() * std::mem::size_of::<Option<Box<[u8]>>>())
            + alloc_size(self.tags.capacity())
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    #[inline]
    fn tag(h: u64) -> u8 {
        (h >> 57) as u8
    }

    /// The slot holding `key`.
    pub(crate) fn find(&self, key: &[u8]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let h = self.hash(key);
        let tag = Self::tag(h);
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            match &self.slots[i] {
                None => return None,
                Some(item) => {
                    if self.tags[i] == tag && K::key(item) == key {
                        return Some(i);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The item in slot `i` (which must be occupied).
    pub(crate) fn at(&self, i: usize) -> &[u8] {
        self.slots[i].as_deref().unwrap_or(&[])
    }

    /// Inserts an item whose key is not present.
    pub(crate) fn insert_new(&mut self, item: Box<[u8]>) {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.resize(Self::slots_for(self.len + 1).max(self.slots.len() * 2));
        }
        let h = self.hash(K::key(&item));
        self.item_bytes += alloc_size(item.len());
        self.place(h, item);
        self.len += 1;
    }

    fn place(&mut self, h: u64, item: Box<[u8]>) {
        let mask = self.mask();
        let mut i = h as usize & mask;
        while self.slots[i].is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Some(item);
        self.tags[i] = Self::tag(h);
    }

    /// Replaces the item of slot `i` by one with the same key.
    pub(crate) fn replace(&mut self, i: usize, item: Box<[u8]>) {
        self.item_bytes += alloc_size(item.len());
        if let Some(old) = self.slots[i].replace(item) {
            self.item_bytes -= alloc_size(old.len());
        }
    }

    /// Removes the item of slot `i`, shifting its successors back (no tombstones).
    pub(crate) fn remove_at(&mut self, i: usize) -> Box<[u8]> {
        let item = self.slots[i].take().unwrap_or_default();
        self.item_bytes -= alloc_size(item.len());
        self.len -= 1;
        let mask = self.mask();
        let mut hole = i;
        let mut j = (i + 1) & mask;
        while let Some(next) = &self.slots[j] {
            let home = self.hash(K::key(next)) as usize & mask;
            // The item at j may fill the hole unless its home lies in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                home > hole || home <= j
            };
            if !stays {
                self.slots[hole] = self.slots[j].take();
                self.tags[hole] = self.tags[j];
                hole = j;
            }
            j = (j + 1) & mask;
        }
        if self.slots.len() > MIN_SLOTS && self.len * 8 < self.slots.len() {
            self.resize(Self::slots_for(self.len));
        }
        item
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::take(&mut self.slots);
        self.slots = (0..slots).map(|_| None).collect();
        self.tags = vec![0; slots];
        for item in old.into_iter().flatten() {
            let h = self.hash(K::key(&item));
            self.place(h, item);
        }
    }

    pub(crate) fn slots_iter(&self) -> std::slice::Iter<'_, Option<Box<[u8]>>> {
        self.slots.iter()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.slots.iter().filter_map(|s| s.as_deref())
    }

    /// Slots of every element, in table order.
    pub(crate) fn occupied(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .collect()
    }

    /// A uniformly random occupied slot.
    pub(crate) fn random_slot(&self, rng: &mut impl FnMut() -> u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        // The load is kept at or above 1/8, so this takes a few tries on average.
        loop {
            let i = rng() as usize & self.mask();
            if self.slots[i].is_some() {
                return Some(i);
            }
        }
    }

    /// Visits the elements of home bucket `cursor & mask` and returns the next cursor
    /// in reverse-binary order (0 when the scan is complete).
    pub(crate) fn scan_step<'a>(&'a self, cursor: u64, f: &mut impl FnMut(&'a [u8])) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.mask();
        let b = cursor as usize & mask;
        let mut i = b;
        while let Some(item) = &self.slots[i] {
            if self.hash(K::key(item)) as usize & mask == b {
                f(item);
            }
            i = (i + 1) & mask;
        }
        let mut v = cursor | !(mask as u64);
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        v
    }

    /// Runs scan steps from `cursor` until `count` elements were visited or `10 * count`
    /// buckets were tried, as Redis's SCAN does; returns the next cursor.
    pub(crate) fn scan<'a>(
        &'a self,
        mut cursor: u64,
        count: usize,
        mut f: impl FnMut(&'a [u8]),
    ) -> u64 {
        let mut seen = 0usize;
        let mut tries = count.saturating_mul(10);
        loop {
            cursor = self.scan_step(cursor, &mut |item| {
                seen += 1;
                f(item)
            });
            if cursor == 0 || tries == 0 || seen >= count {
                return cursor;
            }
            tries -= 1;
        }
    }
}

impl<K: KeyOf> Clone for RawTable<K> {
    fn clone(&self) -> Self {
        let mut t = RawTable::with_capacity(self.len);
        for item in self.iter() {
            t.insert_new(item.into());
        }
        t
    }
}

/// `count` distinct indices below `n` (count < n), in random order.
pub(crate) fn sample_indices(n: usize, count: usize, rng: &mut impl FnMut() -> u64) -> Vec<usize> {
    if count * 3 > n {
        // Partial Fisher-Yates over all indices.
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..count {
            let j = i + (rng() as usize) % (n - i);
            idx.swap(i, j);
        }
        idx.truncate(count);
        idx
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = (rng() as usize) % n;
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

#[derive(Clone)]
enum Repr {
    Ints(Vec<i64>),
    Table(RawTable<Whole>),
}

/// An unordered set of distinct binary-safe members.
#[derive(Clone)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            repr: Repr::Ints(Vec::new()),
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(&m))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<&'a [u8]> for Set {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut s = Set::new();
        for m in iter {
            s.insert(m);
        }
        s
    }
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    /// Over an intset.
    #[doc(hidden)]
    Ints(std::slice::Iter<'a, i64>),
    /// Over a table.
    #[doc(hidden)]
    Table(std::slice::Iter<'a, Option<Box<[u8]>>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(|&v| Member::Int(IntBuf::new(v))),
            Iter::Table(it) => it.find_map(|s| s.as_deref()).map(Member::Bytes),
        }
    }
}

impl Set {
    /// An empty set (an intset until a non-integer member arrives).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set that is a hash table from the start (Redis creates these for
    /// results that will not fit an intset).
    pub fn new_table(capacity: usize) -> Self {
        Set {
            repr: Repr::Table(RawTable::with_capacity(capacity)),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }
    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The encoding name `OBJECT ENCODING` reports: `intset` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }
    /// The members if the set is an intset (ascending).
    pub fn as_ints(&self) -> Option<&[i64]> {
        match &self.repr {
            Repr::Ints(v) => Some(v),
            Repr::Table(_) => None,
        }
    }
    /// Estimated heap bytes; O(1).
    pub fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => alloc_size(v.capacity() * 8),
            Repr::Table(t) => t.mem(),
        }
    }

    fn ensure_table(&mut self) -> &mut RawTable<Whole> {
        if let Repr::Ints(v) = &self.repr {
            let mut t = RawTable::with_capacity(v.len() + 1);
            for &i in v {
                t.insert_new(Box::from(&*IntBuf::new(i)));
            }
            self.repr = Repr::Table(t);
        }
        match &mut self.repr {
            Repr::Table(t) => t,
            Repr::Ints(_) => unreachable!("converted above"),
        }
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_canonical_i64(m).is_some_and(|i| v.binary_search(&i).is_ok()),
            Repr::Table(t) => t.find(m).is_some(),
        }
    }

    /// Adds `m`; returns whether it is new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            if let Some(i) = parse_canonical_i64(m) {
                match v.binary_search(&i) {
                    Ok(_) => return false,
                    Err(pos) => {
                        if v.len() < MAX_INTSET_ENTRIES {
                            if v.len() == v.capacity() {
                                v.reserve_exact((v.len() / 4).max(1));
                            }
                            v.insert(pos, i);
                            return true;
                        }
                    }
                }
            }
        }
        let t = self.ensure_table();
        if t.find(m).is_some() {
            return false;
        }
        t.insert_new(m.into());
        true
    }

    /// Removes `m`; returns whether it was present.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_canonical_i64(m).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    if v.capacity() > 16 && v.len() * 2 < v.capacity() {
                        v.shrink_to(v.len() + v.len() / 4);
                    }
                    true
                }
                _ => false,
            },
            Repr::Table(t) => match t.find(m) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    /// All members: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(v) => Iter::Ints(v.iter()),
            Repr::Table(t) => Iter::Table(t.slots.iter()),
        }
    }

    /// A uniformly random member.
    pub fn random(&self, rng: &mut impl FnMut() -> u64) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Ints(v) if v.is_empty() => None,
            Repr::Ints(v) => Some(Member::Int(IntBuf::new(v[rng() as usize % v.len()]))),
            Repr::Table(t) => t.random_slot(rng).map(|i| Member::Bytes(t.at(i))),
        }
    }

    /// Removes and returns a uniformly random member.
    pub fn pop_random(&mut self, rng: &mut impl FnMut() -> u64) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Ints(v) if v.is_empty() => None,
            Repr::Ints(v) => {
                let i = v.remove(rng() as usize % v.len());
                Some(IntBuf::new(i).to_vec())
            }
            Repr::Table(t) => {
                let i = t.random_slot(rng)?;
                Some(t.remove_at(i).into_vec())
            }
        }
    }

    /// Visits `count` distinct random members (all of them, in set order, if `count`
    /// is at least the size).
    pub fn sample(
        &self,
        count: usize,
        rng: &mut impl FnMut() -> u64,
        mut f: impl FnMut(Member<'_>),
    ) {
        let n = self.len();
        if count >= n {
            self.iter().for_each(f);
            return;
        }
        match &self.repr {
            Repr::Ints(v) => {
                for i in sample_indices(n, count, rng) {
                    f(Member::Int(IntBuf::new(v[i])));
                }
            }
            Repr::Table(t) => {
                if count * 3 > n {
                    let occ = t.occupied();
                    for i in sample_indices(n, count, rng) {
                        f(Member::Bytes(t.at(occ[i])));
                    }
                } else {
                    let mut seen = std::collections::HashSet::with_capacity(count);
                    while seen.len() < count {
                        if let Some(i) = t.random_slot(rng) {
                            if seen.insert(i) {
                                f(Member::Bytes(t.at(i)));
                            }
                        }
                    }
                }
            }
        }
    }

    /// SSCAN: visits members from `cursor` on and returns the next cursor (0 when
    /// done). An intset is visited whole in one call, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Ints(v) => {
                for &i in v {
                    f(Member::Int(IntBuf::new(i)));
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |m| f(Member::Bytes(m))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

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
    fn int_formatting_and_parsing() {
        for v in [0, 1, -1, 42, i64::MAX, i64::MIN, 1000, -999] {
            let b = IntBuf::new(v);
            assert_eq!(&*b, v.to_string().as_bytes());
            assert_eq!(parse_canonical_i64(&b), Some(v));
        }
        for bad in [
            "",
            "01",
            "-0",
            "+1",
            " 1",
            "1 ",
            "9223372036854775808",
            "1a",
        ] {
            assert_eq!(parse_canonical_i64(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn encodings_follow_redis() {
        let mut s = Set::new();
        for i in 0..512 {
            assert!(s.insert(i.to_string().as_bytes()));
        }
        assert_eq!(s.encoding(), "intset");
        assert!(!s.insert(b"7"));
        assert!(s.insert(b"512"));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 513);
        assert!(s.contains(b"511"));
        for i in 0..513 {
            assert!(s.remove(i.to_string().as_bytes()));
        }
        assert!(s.is_empty());
        assert_eq!(s.encoding(), "hashtable");
        let mut s = Set::new();
        s.insert(b"1");
        s.insert(b"01");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01") && !s.contains(b"001"));
    }

    #[test]
    fn table_matches_a_model() {
        let mut r = rng(7);
        let mut s = Set::new_table(0);
        let mut m: HashSet<Vec<u8>> = HashSet::new();
        for step in 0..50_000u64 {
            let k = format!("m{}", r() % 3000).into_bytes();
            match r() % 3 {
                0 | 1 => assert_eq!(s.insert(&k), m.insert(k.clone())),
                _ => assert_eq!(s.remove(&k), m.remove(&k)),
            }
            if step % 5000 == 0 {
                assert_eq!(s.len(), m.len());
                let got: HashSet<Vec<u8>> = s.iter().map(|x| x.to_vec()).collect();
                assert_eq!(got, m);
                let Repr::Table(t) = &s.repr else { panic!() };
                let items: usize = t.iter().map(|i| alloc_size(i.len())).sum();
                assert_eq!(items, t.item_bytes);
            }
        }
        while let Some(v) = s.pop_random(&mut r) {
            assert!(m.remove(&v));
        }
        assert!(m.is_empty());
    }

    #[test]
    fn scan_returns_everything_across_resizes() {
        let mut r = rng(99);
        let mut s = Set::new_table(0);
        for i in 0..1000 {
            s.insert(format!("base{i}").as_bytes());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = s.scan(cursor, 10, |m| {
                seen.insert(m.to_vec());
            });
            // Grow and shrink the table between calls with elements that come and go.
            round += 1;
            if round % 3 == 0 {
                for i in 0..300 {
                    s.insert(format!("tmp{round}-{i}").as_bytes());
                }
            } else if round % 3 == 1 {
                let tmp: Vec<Vec<u8>> = s
                    .iter()
                    .filter(|m| m.starts_with(b"tmp"))
                    .map(|m| m.to_vec())
                    .collect();
                for t in tmp {
                    s.remove(&t);
                }
            }
            let _ = r();
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(
                seen.contains(format!("base{i}").as_bytes()),
                "missing base{i}"
            );
        }
    }

    #[test]
    fn sampling_is_distinct() {
        let mut r = rng(3);
        for n in [5usize, 100, 2000] {
            let mut s = Set::new_table(0);
            for i in 0..n {
                s.insert(format!("x{i}").as_bytes());
            }
            for count in [1, 2, n / 2, n - 1, n, n + 5] {
                let mut got = HashSet::new();
                let mut k = 0;
                s.sample(count, &mut r, |m| {
                    got.insert(m.to_vec());
                    k += 1;
                });
                assert_eq!(k, count.min(n));
                assert_eq!(got.len(), count.min(n));
            }
        }
    }

    #[test]
    fn memory_is_compact() {
        let mut s = Set::new();
        for i in 0..100_000 {
            s.insert(format!("member:{i:08}").as_bytes());
        }
        // 15-byte members: a 32-byte allocation each, plus 17 bytes per slot at a load
        // between 2/5 and 4/5 (here 0.76).
        let per = s.mem_usage() as f64 / 100_000.0;
        assert!(per < 56.0, "{per} bytes per member");
    }
}
