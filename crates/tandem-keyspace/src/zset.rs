//! The sorted set type: members with `f64` scores, ordered by (score, member bytes).
//!
//! # Structure
//!
//! All members live in one dense arena (`Vec<Node>`), so a member costs one node plus its
//! own byte allocation. Two indexes are threaded through the arena by `u32` index:
//!
//! * an **order-statistic treap** (left/right child and subtree size per node) keeps the
//!   (score, member) order. Insert, remove, rank of a member and member at a rank are
//!   O(log n) expected; range queries by score or lex turn into rank bounds in O(log n)
//!   and are then walked in order. The treap priority of a node is a mix of its member's
//!   hash, and the hasher has a random per-process seed, so clients cannot choose
//!   members that degenerate the tree.
//! * a **chained hash table** (power-of-two bucket heads, a `next` link per node) maps
//!   members to nodes in O(1). Chaining, unlike open addressing, keeps every member in the
//!   bucket its hash names, so ZSCAN can use Redis's reverse-binary cursor: every member
//!   present for the whole scan is returned at least once, across any resizes.
//!
//! Removing a member moves the arena's last node into its slot (fixing the one tree
//! link and the one chain link that pointed at it), which keeps the arena dense: a
//! uniformly random member is a uniformly random arena index.
//!
//! # Encoding
//!
//! `OBJECT ENCODING` reports what Redis 7.0 would hold with the default
//! `zset-max-listpack-entries 128` / `zset-max-listpack-value 64`: `listpack` until the set
//! first exceeds 128 members or receives a member longer than 64 bytes, then `skiplist`
//! for good (Redis never converts back on removal; a set built afresh — a store command,
//! a load — starts as listpack again).
//!
//! Scores are never NaN (callers guarantee it). Like Redis, a listpack-encoded set stores
//! `-0.0` as `0` (its score is written as the integer 0) while a skiplist-encoded one keeps
//! `-0.0` (`ZSCORE` then says `-0`); the two compare equal either way.
//!
//! Lex ranges are meant for sets whose scores are all equal. For other sets Redis's
//! answer depends on how it walks its encoding; a listpack-encoded set reproduces Redis's
//! linear walk exactly (see [`ZSet::lex_ranks`]).

use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use crate::entry::alloc_size;

/// A score that orders totally (sorted sets never hold NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Most members a set may have and still report the `listpack` encoding.
pub const LISTPACK_MAX_ENTRIES: usize = 128;
/// Longest member a set may hold and still report the `listpack` encoding.
pub const LISTPACK_MAX_VALUE: usize = 64;

const NIL: u32 = u32::MAX;
const MIN_BUCKETS: usize = 4;

#[derive(Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    hash: u64,
    left: u32,
    right: u32,
    size: u32,
    next: u32,
}

/// Where a tree link lives.
#[derive(Clone, Copy)]
enum Slot {
    Root,
    Left(u32),
    Right(u32),
}

/// A score interval, each end inclusive or exclusive (`ZRANGEBYSCORE min max`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// Whether `min` itself is excluded (`(min`).
    pub min_ex: bool,
    /// Whether `max` itself is excluded (`(max`).
    pub max_ex: bool,
}

impl ScoreRange {
    /// Whether `s` is at or above the lower end.
    pub fn gte_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }
    /// Whether `s` is at or below the upper end.
    pub fn lte_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }
}

/// One end of a lex range (`ZRANGEBYLEX`): `-`, `+`, `[member` or `(member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[m`: `m` included.
    Incl(&'a [u8]),
    /// `(m`: `m` excluded.
    Excl(&'a [u8]),
}

impl LexBound<'_> {
    /// `value` compared with this bound (ignoring inclusiveness).
    fn cmp_value(&self, value: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Incl(b) | LexBound::Excl(b) => value.cmp(b),
        }
    }
}

/// A lex interval over members (meaningful when all scores are equal, as Redis documents).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    /// Lower end.
    pub min: LexBound<'a>,
    /// Upper end.
    pub max: LexBound<'a>,
}

impl LexRange<'_> {
    /// Whether `m` is at or above the lower end.
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match self.min {
            LexBound::Incl(_) => self.min.cmp_value(m) != Ordering::Less,
            _ => self.min.cmp_value(m) == Ordering::Greater,
        }
    }
    /// Whether `m` is at or below the upper end.
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match self.max {
            LexBound::Incl(_) => self.max.cmp_value(m) != Ordering::Greater,
            _ => self.max.cmp_value(m) == Ordering::Less,
        }
    }
}

/// What [`ZSet::upsert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The member was added.
    Added,
    /// The member's score changed.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// Members with scores, ordered by (score, member).
///
/// 48 bytes, no larger than the other collections, so it does not grow
/// [`Object`](crate::Object).
#[derive(Clone, Default)]
pub struct ZSet {
    nodes: Vec<Node>,
    /// The hash bucket heads (a power of two of them), then the treap's root in one
    /// extra last slot; empty while the set is empty.
    buckets: Box<[u32]>,
    /// The members' allocation sizes summed, shifted left by one; bit 0 is set once the
    /// set is skiplist-encoded.
    meta: u64,
}

/// The member hasher: one random seed for the process, like Redis's siphash key.
fn hash_member(m: &[u8]) -> u64 {
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(Default::default).hash_one(m)
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s)),
            )
            .finish()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .nodes
                .iter()
                .all(|n| other.score(&n.member) == Some(n.score))
    }
}

fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// Treap priority from a member hash (murmur3's finalizer: every bit of the hash counts).
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl ZSet {
    /// An empty sorted set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set that starts skiplist-encoded, as Redis builds the result of a set
    /// operation (see [`ZSet::convert_if_fits`]).
    pub fn new_skiplist() -> Self {
        ZSet {
            meta: 1,
            ..Self::default()
        }
    }

    /// Redis's `zsetConvertToListpackIfNeeded`: a skiplist-encoded set that fits the
    /// listpack limits becomes listpack-encoded (its `-0` scores turn into `0`).
    pub fn convert_if_fits(&mut self) {
        if !self.is_skiplist()
            || self.len() > LISTPACK_MAX_ENTRIES
            || self
                .nodes
                .iter()
                .any(|n| n.member.len() > LISTPACK_MAX_VALUE)
        {
            return;
        }
        self.meta &= !1;
        for n in &mut self.nodes {
            if n.score == 0.0 {
                n.score = 0.0;
            }
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The encoding name `OBJECT ENCODING` reports: `listpack` or `skiplist` (see the
    /// module documentation).
    pub fn encoding(&self) -> &'static str {
        if self.is_skiplist() {
            "skiplist"
        } else {
            "listpack"
        }
    }

    /// Estimated heap bytes; O(1).
    pub fn mem_usage(&self) -> usize {
        self.member_bytes()
            + alloc_size(self.nodes.capacity() * std::mem::size_of::<Node>())
            + alloc_size(self.buckets.len() * std::mem::size_of::<u32>())
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|i| self.nodes[i as usize].score)
    }

    /// Whether `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Sets the score of `member`; returns whether it is new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        self.upsert(member, |_| Some(score)) == Change::Added
    }

    /// Looks `member` up and lets `f` decide its score from the current one (`None` if
    /// absent): `Some(score)` sets it (adding the member if needed), `None` leaves the
    /// set as it is. `f` must not return NaN.
    pub fn upsert(&mut self, member: &[u8], f: impl FnOnce(Option<f64>) -> Option<f64>) -> Change {
        let hash = hash_member(member);
        match self.find_hashed(member, hash) {
            Some(i) => {
                let old = self.nodes[i as usize].score;
                let Some(new) = f(Some(old)) else {
                    return Change::Unchanged;
                };
                let new = self.normalize(new);
                if new == old {
                    return Change::Unchanged;
                }
                self.tree_remove(i);
                let n = &mut self.nodes[i as usize];
                n.score = new;
                n.left = NIL;
                n.right = NIL;
                n.size = 1;
                let root = self.tree_insert(self.root(), i);
                self.set_root(root);
                Change::Updated
            }
            None => {
                let Some(score) = f(None) else {
                    return Change::Unchanged;
                };
                self.add_new(member, hash, score);
                Change::Added
            }
        }
    }

    /// Removes `member`; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(i) => {
                self.remove_node(i);
                self.maybe_shrink();
                true
            }
            None => false,
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let x = self.find(member)?;
        let (s, m) = self.key(x);
        let mut cur = self.root();
        let mut n = 0usize;
        while cur != x {
            let c = &self.nodes[cur as usize];
            if cmp_entry(s, m, c.score, &c.member) == Ordering::Less {
                cur = c.left;
            } else {
                n += self.size(c.left) + 1;
                cur = c.right;
            }
        }
        Some(n + self.size(self.nodes[x as usize].left))
    }

    /// The member at 0-based ascending `rank`, with its score.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        if rank >= self.len() {
            return None;
        }
        let n = &self.nodes[self.select(rank) as usize];
        Some((&n.member, n.score))
    }

    /// The member in arena slot `i` (`i < len`), in no particular order: a uniformly
    /// random `i` gives a uniformly random member in O(1).
    pub fn get_unordered(&self, i: usize) -> Option<(&[u8], f64)> {
        self.nodes.get(i).map(|n| (&n.member[..], n.score))
    }

    /// Members with scores in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(self, 0, self.len())
    }

    /// Members of ranks `start..end` (ascending; reverse it for descending order).
    /// Bounds are clamped to the set.
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        let end = end.min(self.len());
        Iter::new(self, start.min(end), end)
    }

    /// The ranks `lo..hi` of the members whose score is in `r`.
    pub fn score_ranks(&self, r: &ScoreRange) -> (usize, usize) {
        let lo = self.count_before(|s, _| !r.gte_min(s));
        let hi = self.count_before(|s, _| r.lte_max(s));
        (lo, hi.max(lo))
    }

    /// The ranks `lo..hi` of the members in lex range `r`, walked forward (or from the
    /// top when `reverse`). When all scores are equal, as lex ranges require, this is
    /// simply the members between the bounds. Otherwise a listpack-encoded set gives
    /// what Redis's linear walk gives (the first member from the start at or above `min`,
    /// then on while at or below `max`; mirrored for `reverse`), and a skiplist-encoded
    /// one a binary-search approximation of Redis's skiplist walk (whose answer depends
    /// on its random levels).
    pub fn lex_ranks(&self, r: &LexRange<'_>, reverse: bool) -> (usize, usize) {
        if self.is_skiplist() || self.is_empty() {
            let lo = self.count_before(|_, m| !r.gte_min(m));
            let hi = self.count_before(|_, m| r.lte_max(m));
            return (lo, hi.max(lo));
        }
        let ends = match (r.min, r.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => {
                a.cmp(b)
            }
        };
        let min_ex = !matches!(r.min, LexBound::Incl(_));
        let max_ex = !matches!(r.max, LexBound::Incl(_));
        if ends == Ordering::Greater || (ends == Ordering::Equal && (min_ex || max_ex)) {
            return (0, 0);
        }
        let items: Vec<&[u8]> = self.iter().map(|(m, _)| m).collect();
        let n = items.len();
        if !r.gte_min(items[n - 1]) || !r.lte_max(items[0]) {
            return (0, 0);
        }
        if reverse {
            let Some(k) = items.iter().rposition(|m| r.lte_max(m)) else {
                return (0, 0);
            };
            if !r.gte_min(items[k]) {
                return (0, 0);
            }
            let mut l = k;
            while l > 0 && r.gte_min(items[l - 1]) {
                l -= 1;
            }
            (l, k + 1)
        } else {
            let Some(i) = items.iter().position(|m| r.gte_min(m)) else {
                return (0, 0);
            };
            let mut j = i;
            while j < n && r.lte_max(items[j]) {
                j += 1;
            }
            (i, j)
        }
    }

    /// Number of members whose score is in `r`.
    pub fn count_in_score_range(&self, r: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(r);
        hi - lo
    }

    /// Number of members in lex range `r`.
    pub fn count_in_lex_range(&self, r: &LexRange<'_>) -> usize {
        let (lo, hi) = self.lex_ranks(r, false);
        hi - lo
    }

    /// Removes and returns the lowest member.
    pub fn pop_min(&mut self) -> Option<(Box<[u8]>, f64)> {
        if self.is_empty() {
            return None;
        }
        let x = self.select(0);
        let r = self.remove_node(x);
        self.maybe_shrink();
        Some(r)
    }

    /// Removes and returns the highest member.
    pub fn pop_max(&mut self) -> Option<(Box<[u8]>, f64)> {
        if self.is_empty() {
            return None;
        }
        let x = self.select(self.len() - 1);
        let r = self.remove_node(x);
        self.maybe_shrink();
        Some(r)
    }

    /// Removes the members of ranks `start..end` (clamped); returns how many.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        for _ in start..end {
            let x = self.select(start);
            self.remove_node(x);
        }
        self.maybe_shrink();
        end - start
    }

    /// One step of a cursor scan (ZSCAN): visits the hash buckets from `cursor` on in
    /// Redis's reverse-binary order, calling `f` for each member, until `f` has returned
    /// `false` (at a bucket's end), `max_buckets` buckets were visited, or the scan is
    /// complete. Returns the next cursor, 0 when done. Every member present during the
    /// whole scan is visited at least once; some may be visited twice.
    pub fn scan<'a>(
        &'a self,
        mut cursor: u64,
        max_buckets: usize,
        mut f: impl FnMut(&'a [u8], f64) -> bool,
    ) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.nbuckets() - 1) as u64;
        let mut visited = 0;
        loop {
            let mut more = true;
            let mut i = self.buckets[(cursor & mask) as usize];
            while i != NIL {
                let n = &self.nodes[i as usize];
                more &= f(&n.member, n.score);
                i = n.next;
            }
            cursor |= !mask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            visited += 1;
            if cursor == 0 || !more || visited >= max_buckets {
                return cursor;
            }
        }
    }

    /// A listpack stores an integral score as an integer, so `-0.0` becomes `0`.
    fn normalize(&self, score: f64) -> f64 {
        debug_assert!(!score.is_nan(), "sorted set scores are never NaN");
        if score == 0.0 && !self.is_skiplist() {
            0.0
        } else {
            score
        }
    }

    // ---- hash index ----

    fn find(&self, member: &[u8]) -> Option<u32> {
        if self.nodes.is_empty() {
            return None;
        }
        self.find_hashed(member, hash_member(member))
    }

    fn find_hashed(&self, member: &[u8], hash: u64) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut i = self.buckets[self.bucket_of(hash)];
        while i != NIL {
            let n = &self.nodes[i as usize];
            if n.hash == hash && *n.member == *member {
                return Some(i);
            }
            i = n.next;
        }
        None
    }

    fn nbuckets(&self) -> usize {
        self.buckets.len().saturating_sub(1)
    }

    fn bucket_of(&self, hash: u64) -> usize {
        (hash as usize) & (self.nbuckets() - 1)
    }

    fn root(&self) -> u32 {
        self.buckets.last().copied().unwrap_or(NIL)
    }

    fn set_root(&mut self, root: u32) {
        if let Some(r) = self.buckets.last_mut() {
            *r = root;
        }
    }

    fn is_skiplist(&self) -> bool {
        self.meta & 1 == 1
    }

    fn member_bytes(&self) -> usize {
        (self.meta >> 1) as usize
    }

    fn link(&mut self, i: u32) {
        let b = self.bucket_of(self.nodes[i as usize].hash);
        self.nodes[i as usize].next = self.buckets[b];
        self.buckets[b] = i;
    }

    /// Makes whatever chain link points at `from` point at `to` (`NIL` unlinks, taking
    /// `from`'s successor).
    fn relink(&mut self, from: u32, to: u32) {
        let b = self.bucket_of(self.nodes[from as usize].hash);
        let target = if to == NIL {
            self.nodes[from as usize].next
        } else {
            to
        };
        if self.buckets[b] == from {
            self.buckets[b] = target;
            return;
        }
        let mut i = self.buckets[b];
        while i != NIL {
            let next = self.nodes[i as usize].next;
            if next == from {
                self.nodes[i as usize].next = target;
                return;
            }
            i = next;
        }
        unreachable!("zset: member missing from its hash chain");
    }

    fn rehash(&mut self, size: usize) {
        let root = self.root();
        self.buckets = vec![NIL; size + 1].into_boxed_slice();
        self.set_root(root);
        for i in 0..self.nodes.len() {
            self.link(i as u32);
        }
    }

    fn add_new(&mut self, member: &[u8], hash: u64, score: f64) {
        let i = self.nodes.len();
        assert!(i < NIL as usize - 1, "zset: too many members");
        if i + 1 > LISTPACK_MAX_ENTRIES || member.len() > LISTPACK_MAX_VALUE {
            self.meta |= 1;
        }
        let score = self.normalize(score);
        self.meta += (alloc_size(member.len()) as u64) << 1;
        self.nodes.push(Node {
            member: member.into(),
            score,
            hash,
            left: NIL,
            right: NIL,
            size: 1,
            next: NIL,
        });
        if self.nbuckets() < self.nodes.len() {
            let size = self.nodes.len().next_power_of_two().max(MIN_BUCKETS);
            self.rehash(size);
        } else {
            self.link(i as u32);
        }
        let root = self.tree_insert(self.root(), i as u32);
        self.set_root(root);
    }

    /// Unlinks node `x` from both indexes and fills its arena slot with the last node.
    fn remove_node(&mut self, x: u32) -> (Box<[u8]>, f64) {
        self.tree_remove(x);
        self.relink(x, NIL);
        let last = (self.nodes.len() - 1) as u32;
        if x != last {
            let slot = self.slot_of(last);
            self.relink(last, x);
            self.set_slot(slot, x);
        }
        let n = self.nodes.swap_remove(x as usize);
        self.meta -= (alloc_size(n.member.len()) as u64) << 1;
        (n.member, n.score)
    }

    /// Gives back memory after many removals (Redis shrinks a dict under 10% full).
    fn maybe_shrink(&mut self) {
        let len = self.nodes.len();
        if len == 0 {
            self.nodes = Vec::new();
            self.buckets = Box::default();
            return;
        }
        if self.nbuckets() > MIN_BUCKETS && len * 10 < self.nbuckets() {
            self.rehash(len.next_power_of_two().max(MIN_BUCKETS));
        }
        if self.nodes.capacity() > 16 && len * 4 < self.nodes.capacity() {
            self.nodes.shrink_to(len * 2);
        }
    }

    // ---- order index (treap) ----

    fn key(&self, i: u32) -> (f64, &[u8]) {
        let n = &self.nodes[i as usize];
        (n.score, &n.member)
    }

    fn less(&self, a: u32, b: u32) -> bool {
        let (s1, m1) = self.key(a);
        let (s2, m2) = self.key(b);
        cmp_entry(s1, m1, s2, m2) == Ordering::Less
    }

    fn size(&self, i: u32) -> usize {
        if i == NIL {
            0
        } else {
            self.nodes[i as usize].size as usize
        }
    }

    fn prio(&self, i: u32) -> u64 {
        mix(self.nodes[i as usize].hash)
    }

    fn set_slot(&mut self, slot: Slot, v: u32) {
        match slot {
            Slot::Root => self.set_root(v),
            Slot::Left(p) => self.nodes[p as usize].left = v,
            Slot::Right(p) => self.nodes[p as usize].right = v,
        }
    }

    /// The link that points at node `x`.
    fn slot_of(&self, x: u32) -> Slot {
        let mut slot = Slot::Root;
        let mut cur = self.root();
        while cur != x {
            let c = &self.nodes[cur as usize];
            if self.less(x, cur) {
                slot = Slot::Left(cur);
                cur = c.left;
            } else {
                slot = Slot::Right(cur);
                cur = c.right;
            }
        }
        slot
    }

    /// Inserts the detached node `x` into subtree `t`; returns the subtree's new root.
    fn tree_insert(&mut self, t: u32, x: u32) -> u32 {
        if t == NIL {
            return x;
        }
        self.nodes[t as usize].size += 1;
        if self.less(x, t) {
            let l = self.tree_insert(self.nodes[t as usize].left, x);
            self.nodes[t as usize].left = l;
            if self.prio(l) > self.prio(t) {
                return self.rotate_right(t);
            }
        } else {
            let r = self.tree_insert(self.nodes[t as usize].right, x);
            self.nodes[t as usize].right = r;
            if self.prio(r) > self.prio(t) {
                return self.rotate_left(t);
            }
        }
        t
    }

    fn rotate_right(&mut self, t: u32) -> u32 {
        let l = self.nodes[t as usize].left;
        let lr = self.nodes[l as usize].right;
        self.nodes[t as usize].left = lr;
        self.nodes[l as usize].right = t;
        self.nodes[l as usize].size = self.nodes[t as usize].size;
        let s = self.size(lr) + self.size(self.nodes[t as usize].right) + 1;
        self.nodes[t as usize].size = s as u32;
        l
    }

    fn rotate_left(&mut self, t: u32) -> u32 {
        let r = self.nodes[t as usize].right;
        let rl = self.nodes[r as usize].left;
        self.nodes[t as usize].right = rl;
        self.nodes[r as usize].left = t;
        self.nodes[r as usize].size = self.nodes[t as usize].size;
        let s = self.size(self.nodes[t as usize].left) + self.size(rl) + 1;
        self.nodes[t as usize].size = s as u32;
        r
    }

    /// Detaches node `x` from the tree.
    fn tree_remove(&mut self, x: u32) {
        let mut slot = Slot::Root;
        let mut cur = self.root();
        while cur != x {
            self.nodes[cur as usize].size -= 1;
            if self.less(x, cur) {
                slot = Slot::Left(cur);
                cur = self.nodes[cur as usize].left;
            } else {
                slot = Slot::Right(cur);
                cur = self.nodes[cur as usize].right;
            }
        }
        let (l, r) = (self.nodes[x as usize].left, self.nodes[x as usize].right);
        self.merge_into(slot, l, r);
    }

    /// Joins trees `a` < `b` and stores the result in `slot`.
    fn merge_into(&mut self, mut slot: Slot, mut a: u32, mut b: u32) {
        loop {
            if a == NIL {
                self.set_slot(slot, b);
                return;
            }
            if b == NIL {
                self.set_slot(slot, a);
                return;
            }
            if self.prio(a) >= self.prio(b) {
                self.nodes[a as usize].size += self.nodes[b as usize].size;
                self.set_slot(slot, a);
                slot = Slot::Right(a);
                a = self.nodes[a as usize].right;
            } else {
                self.nodes[b as usize].size += self.nodes[a as usize].size;
                self.set_slot(slot, b);
                slot = Slot::Left(b);
                b = self.nodes[b as usize].left;
            }
        }
    }

    /// The node at `rank` (< len).
    fn select(&self, mut rank: usize) -> u32 {
        let mut cur = self.root();
        loop {
            let n = &self.nodes[cur as usize];
            let l = self.size(n.left);
            match rank.cmp(&l) {
                Ordering::Less => cur = n.left,
                Ordering::Equal => return cur,
                Ordering::Greater => {
                    rank -= l + 1;
                    cur = n.right;
                }
            }
        }
    }

    /// How many members satisfy `before`, a predicate true for a prefix of the order.
    fn count_before(&self, mut before: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut cur = self.root();
        let mut n = 0;
        while cur != NIL {
            let c = &self.nodes[cur as usize];
            if before(c.score, &c.member) {
                n += self.size(c.left) + 1;
                cur = c.right;
            } else {
                cur = c.left;
            }
        }
        n
    }

    #[cfg(test)]
    fn check_invariants(&self) {
        fn walk(z: &ZSet, t: u32, out: &mut Vec<u32>) -> usize {
            if t == NIL {
                return 0;
            }
            let n = &z.nodes[t as usize];
            for c in [n.left, n.right] {
                if c != NIL {
                    assert!(z.prio(c) <= z.prio(t), "heap order");
                }
            }
            let l = walk(z, n.left, out);
            out.push(t);
            let r = walk(z, n.right, out);
            assert_eq!(n.size as usize, l + r + 1, "subtree size");
            l + r + 1
        }
        let mut order = Vec::new();
        assert_eq!(walk(self, self.root(), &mut order), self.len());
        for w in order.windows(2) {
            assert!(self.less(w[0], w[1]), "in-order keys ascend");
        }
        let mut chained = 0;
        for (b, &head) in self.buckets[..self.nbuckets()].iter().enumerate() {
            let mut i = head;
            while i != NIL {
                assert_eq!(self.bucket_of(self.nodes[i as usize].hash), b);
                chained += 1;
                i = self.nodes[i as usize].next;
            }
        }
        assert_eq!(chained, self.len());
        assert!(self.nbuckets() >= self.len());
        let bytes: usize = self.nodes.iter().map(|n| alloc_size(n.member.len())).sum();
        assert_eq!(bytes, self.member_bytes());
    }
}

/// In-order iterator over a rank range of a [`ZSet`]; double ended.
pub struct Iter<'a> {
    zs: &'a ZSet,
    start: usize,
    end: usize,
    front: Option<Vec<u32>>,
    back: Option<Vec<u32>>,
}

impl<'a> Iter<'a> {
    fn new(zs: &'a ZSet, start: usize, end: usize) -> Self {
        Iter {
            zs,
            start,
            end,
            front: None,
            back: None,
        }
    }

    /// Stack whose top is the node at `rank`; popping walks forward (or backward).
    fn stack_at(&self, mut rank: usize, forward: bool) -> Vec<u32> {
        let z = self.zs;
        let mut st = Vec::with_capacity(48);
        let mut cur = z.root();
        while cur != NIL {
            let n = &z.nodes[cur as usize];
            let l = z.size(n.left);
            match rank.cmp(&l) {
                Ordering::Less => {
                    if forward {
                        st.push(cur);
                    }
                    cur = n.left;
                }
                Ordering::Equal => {
                    st.push(cur);
                    break;
                }
                Ordering::Greater => {
                    if !forward {
                        st.push(cur);
                    }
                    rank -= l + 1;
                    cur = n.right;
                }
            }
        }
        st
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.start >= self.end {
            return None;
        }
        if self.front.is_none() {
            self.front = Some(self.stack_at(self.start, true));
        }
        let z = self.zs;
        let st = self.front.as_mut()?;
        let x = st.pop()?;
        let mut c = z.nodes[x as usize].right;
        while c != NIL {
            st.push(c);
            c = z.nodes[c as usize].left;
        }
        self.start += 1;
        let n = &z.nodes[x as usize];
        Some((&n.member, n.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.start;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.start >= self.end {
            return None;
        }
        if self.back.is_none() {
            self.back = Some(self.stack_at(self.end - 1, false));
        }
        let z = self.zs;
        let st = self.back.as_mut()?;
        let x = st.pop()?;
        let mut c = z.nodes[x as usize].left;
        while c != NIL {
            st.push(c);
            c = z.nodes[c as usize].right;
        }
        self.end -= 1;
        let n = &z.nodes[x as usize];
        Some((&n.member, n.score))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for the randomized tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn basic_order_rank_and_scores() {
        let mut z = ZSet::new();
        assert!(z.insert(b"b", 2.0));
        assert!(z.insert(b"a", 2.0));
        assert!(z.insert(b"c", 1.0));
        assert!(!z.insert(b"c", 3.0));
        assert_eq!(
            members(&z),
            vec![
                (b"a".to_vec(), 2.0),
                (b"b".to_vec(), 2.0),
                (b"c".to_vec(), 3.0)
            ]
        );
        assert_eq!(z.rank(b"a"), Some(0));
        assert_eq!(z.rank(b"c"), Some(2));
        assert_eq!(z.rank(b"zz"), None);
        assert_eq!(z.get_by_rank(1), Some((&b"b"[..], 2.0)));
        assert_eq!(z.get_by_rank(3), None);
        assert_eq!(z.score(b"c"), Some(3.0));
        assert!(z.remove(b"a"));
        assert!(!z.remove(b"a"));
        assert_eq!(z.len(), 2);
        z.check_invariants();
        let rev: Vec<_> = z.iter().rev().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(rev, vec![b"c".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn negative_zero_like_redis() {
        let mut z = ZSet::new();
        z.insert(b"a", -0.0);
        let s = z.score(b"a").unwrap();
        assert_eq!(s, 0.0);
        assert!(s.is_sign_positive(), "a listpack stores 0");
        z.insert(&[b'x'; 65], 1.0);
        z.insert(b"b", -0.0);
        assert!(
            z.score(b"b").unwrap().is_sign_negative(),
            "a skiplist keeps -0"
        );
        z.insert(b"a", -0.0);
        assert!(
            z.score(b"a").unwrap().is_sign_positive(),
            "-0 == 0: unchanged"
        );
        assert_eq!(z.rank(b"a"), Some(0));
        assert_eq!(z.rank(b"b"), Some(1));
    }

    #[test]
    fn lex_ranges_on_mixed_scores_walk_like_a_listpack() {
        let mut z = ZSet::new();
        for (m, s) in [(&b"d"[..], 1.0), (b"a", 2.0), (b"e", 3.0), (b"b", 4.0)] {
            z.insert(m, s);
        }
        // Order: d a e b. Forward from the first member >= "b" ("d"), on while <= "d".
        let r = LexRange {
            min: LexBound::Incl(b"b"),
            max: LexBound::Incl(b"d"),
        };
        assert_eq!(z.lex_ranks(&r, false), (0, 2));
        // Backward from the last member <= "d" ("b"), on while >= "b".
        assert_eq!(z.lex_ranks(&r, true), (2, 4));
        // The tail must reach min and the head max, or nothing.
        let r = LexRange {
            min: LexBound::Excl(b"b"),
            max: LexBound::Max,
        };
        assert_eq!(z.lex_ranks(&r, false), (0, 0));
    }

    #[test]
    fn ranges_and_counts() {
        let mut z = ZSet::new();
        for (i, m) in [b"a", b"b", b"c", b"d", b"e"].iter().enumerate() {
            z.insert(*m, i as f64);
        }
        let r = ScoreRange {
            min: 1.0,
            max: 3.0,
            min_ex: true,
            max_ex: false,
        };
        assert_eq!(z.score_ranks(&r), (2, 4));
        assert_eq!(z.count_in_score_range(&r), 2);
        let empty = ScoreRange {
            min: 3.0,
            max: 1.0,
            min_ex: false,
            max_ex: false,
        };
        assert_eq!(z.count_in_score_range(&empty), 0);
        let all = ScoreRange {
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            min_ex: false,
            max_ex: false,
        };
        assert_eq!(z.score_ranks(&all), (0, 5));
        let mut lex = ZSet::new();
        for m in [b"a", b"b", b"c", b"d"] {
            lex.insert(m, 0.0);
        }
        let lr = LexRange {
            min: LexBound::Excl(b"a"),
            max: LexBound::Incl(b"c"),
        };
        assert_eq!(lex.lex_ranks(&lr, false), (1, 3));
        assert_eq!(lex.lex_ranks(&lr, true), (1, 3));
        let lr = LexRange {
            min: LexBound::Min,
            max: LexBound::Max,
        };
        assert_eq!(lex.count_in_lex_range(&lr), 4);
        let lr = LexRange {
            min: LexBound::Max,
            max: LexBound::Min,
        };
        assert_eq!(lex.count_in_lex_range(&lr), 0);
        let got: Vec<_> = z.range(1, 3).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(got, vec![b"b".to_vec(), b"c".to_vec()]);
        let got: Vec<_> = z.range(1, 4).rev().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(got, vec![b"d".to_vec(), b"c".to_vec(), b"b".to_vec()]);
        let mut it = z.range(0, 5);
        assert_eq!(it.next().map(|x| x.0), Some(&b"a"[..]));
        assert_eq!(it.next_back().map(|x| x.0), Some(&b"e"[..]));
        assert_eq!(it.len(), 3);
        assert_eq!(it.next().map(|x| x.0), Some(&b"b"[..]));
        assert_eq!(it.next_back().map(|x| x.0), Some(&b"d"[..]));
        assert_eq!(it.next().map(|x| x.0), Some(&b"c"[..]));
        assert_eq!(it.next(), None);
        assert_eq!(it.next_back(), None);
    }

    #[test]
    fn pops_and_range_removal() {
        let mut z = ZSet::new();
        for i in 0..10 {
            z.insert(format!("m{i}").as_bytes(), i as f64);
        }
        assert_eq!(z.pop_min(), Some((b"m0".to_vec().into(), 0.0)));
        assert_eq!(z.pop_max(), Some((b"m9".to_vec().into(), 9.0)));
        assert_eq!(z.remove_range(2, 5), 3);
        let got: Vec<_> = z.iter().map(|(_, s)| s).collect();
        assert_eq!(got, vec![1.0, 2.0, 6.0, 7.0, 8.0]);
        assert_eq!(z.remove_range(10, 20), 0);
        z.check_invariants();
    }

    #[test]
    fn encoding_is_sticky_like_redis() {
        let mut z = ZSet::new();
        for i in 0..128 {
            z.insert(format!("{i}").as_bytes(), 0.0);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"one more", 0.0);
        assert_eq!(z.encoding(), "skiplist");
        z.remove(b"one more");
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new();
        z.insert(&[b'x'; 64], 1.0);
        assert_eq!(z.encoding(), "listpack");
        z.insert(&[b'x'; 65], 1.0);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new_skiplist();
        z.insert(b"a", -0.0);
        assert_eq!(z.encoding(), "skiplist");
        assert!(z.score(b"a").unwrap().is_sign_negative());
        z.convert_if_fits();
        assert_eq!(z.encoding(), "listpack");
        assert!(z.score(b"a").unwrap().is_sign_positive());
        z.insert(&[b'x'; 65], 1.0);
        z.convert_if_fits();
        assert_eq!(z.encoding(), "skiplist");
    }

    fn depth(z: &ZSet, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            let n = &z.nodes[t as usize];
            1 + depth(z, n.left).max(depth(z, n.right))
        }
    }

    #[test]
    fn stays_balanced_under_sorted_input() {
        let mut z = ZSet::new();
        for i in 0..100_000u32 {
            z.insert(&i.to_be_bytes(), f64::from(i));
        }
        // A treap's expected depth is about 2.99 log2(n) = 50 here.
        let d = depth(&z, z.root());
        assert!(d < 90, "depth {d}");
        for i in 0..50_000u32 {
            assert_eq!(z.pop_min().map(|(_, s)| s), Some(f64::from(i)));
        }
        assert!(depth(&z, z.root()) < 90);
        assert_eq!(z.rank(&99_999u32.to_be_bytes()), Some(49_999));
        z.check_invariants();
    }

    #[test]
    fn no_bigger_than_the_other_collections() {
        assert!(std::mem::size_of::<ZSet>() <= 48);
        assert!(std::mem::size_of::<ZSet>() <= std::mem::size_of::<crate::Hash>());
    }

    #[test]
    fn mem_usage_tracks_members() {
        let mut z = ZSet::new();
        let empty = z.mem_usage();
        z.insert(&[b'x'; 100], 1.0);
        assert!(z.mem_usage() >= empty + alloc_size(100));
        z.remove(&[b'x'; 100]);
        assert_eq!(z.mem_usage(), 0);
    }

    #[test]
    fn scan_returns_everything_across_resizes() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut z = ZSet::new();
        for i in 0..1000 {
            z.insert(format!("k{i}").as_bytes(), i as f64);
        }
        let stable: Vec<Vec<u8>> = (0..500).map(|i| format!("k{i}").into_bytes()).collect();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            let mut n = 0;
            cursor = z.scan(cursor, 100, |m, _| {
                seen.insert(m.to_vec());
                n += 1;
                n < 10
            });
            // Churn between steps: grow and shrink the table.
            if steps % 3 == 0 {
                for _ in 0..200 {
                    let k = format!("t{}", rng.below(100_000));
                    z.insert(k.as_bytes(), 1.0);
                }
            } else {
                for i in 500..1000 {
                    z.remove(format!("k{i}").as_bytes());
                }
                let extra: Vec<Vec<u8>> = z
                    .iter()
                    .filter(|(m, _)| m.starts_with(b"t"))
                    .map(|(m, _)| m.to_vec())
                    .collect();
                for m in extra {
                    z.remove(&m);
                }
            }
            z.check_invariants();
            steps += 1;
            if cursor == 0 {
                break;
            }
            assert!(steps < 100_000);
        }
        for m in &stable {
            assert!(seen.contains(m), "missing {}", String::from_utf8_lossy(m));
        }
    }

    /// ZSet against a sorted Vec, under random inserts, updates, removals and queries.
    #[test]
    fn randomized_against_sorted_vec() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut z = ZSet::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let sort = |m: &mut Vec<(f64, Vec<u8>)>| {
            m.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
        };
        let mut max_len = 0;
        for step in 0..20_000 {
            let member = format!("m{}", rng.below(600)).into_bytes();
            let score = match rng.below(4) {
                0 => rng.below(10) as f64,
                1 => (rng.below(1000) as f64) / 7.0 - 50.0,
                2 => [f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0][rng.below(4) as usize],
                _ => rng.below(3) as f64,
            };
            match rng.below(20) {
                0..=9 => {
                    let pos = model.iter().position(|(_, m)| *m == member);
                    let new = z.insert(&member, score);
                    assert_eq!(new, pos.is_none());
                    if let Some(p) = pos {
                        model.remove(p);
                    }
                    model.push((score, member.clone()));
                    sort(&mut model);
                }
                10..=13 => {
                    let pos = model.iter().position(|(_, m)| *m == member);
                    assert_eq!(z.remove(&member), pos.is_some());
                    if let Some(p) = pos {
                        model.remove(p);
                    }
                }
                14 => {
                    if rng.below(2) == 0 {
                        let got = z.pop_min().map(|(m, s)| (s, m.to_vec()));
                        let expect = if model.is_empty() {
                            None
                        } else {
                            Some(model.remove(0))
                        };
                        assert_eq!(got, expect);
                    } else {
                        let got = z.pop_max().map(|(m, s)| (s, m.to_vec()));
                        assert_eq!(got, model.pop());
                    }
                }
                15 => {
                    let lo = rng.below(model.len() as u64 + 3) as usize;
                    let hi = lo + rng.below(6) as usize;
                    let removed = z.remove_range(lo, hi);
                    let hi_c = hi.min(model.len());
                    let lo_c = lo.min(hi_c);
                    model.drain(lo_c..hi_c);
                    assert_eq!(removed, hi_c - lo_c);
                }
                _ => {
                    let r = ScoreRange {
                        min: rng.below(12) as f64 - 1.0,
                        max: rng.below(12) as f64 - 1.0,
                        min_ex: rng.below(2) == 0,
                        max_ex: rng.below(2) == 0,
                    };
                    let expect: Vec<_> = model
                        .iter()
                        .filter(|(s, _)| r.gte_min(*s) && r.lte_max(*s))
                        .cloned()
                        .collect();
                    let (lo, hi) = z.score_ranks(&r);
                    let got: Vec<_> = z.range(lo, hi).map(|(m, s)| (s, m.to_vec())).collect();
                    assert_eq!(got, expect);
                }
            }
            assert_eq!(z.len(), model.len());
            max_len = max_len.max(model.len());
            if step % 97 == 0 {
                z.check_invariants();
                let all: Vec<_> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
                assert_eq!(all, model);
                let rev: Vec<_> = z.iter().rev().map(|(m, s)| (s, m.to_vec())).collect();
                let mut mrev = model.clone();
                mrev.reverse();
                assert_eq!(rev, mrev);
                for (i, (s, m)) in model.iter().enumerate() {
                    assert_eq!(z.rank(m), Some(i));
                    assert_eq!(z.score(m), Some(*s));
                    assert_eq!(z.get_by_rank(i), Some((&m[..], *s)));
                }
                let mut seen = 0;
                for i in 0..z.len() {
                    let (m, s) = z.get_unordered(i).unwrap();
                    assert_eq!(z.score(m), Some(s));
                    seen += 1;
                }
                assert_eq!(seen, model.len());
            }
        }
        assert!(max_len > 300, "the model grew to {max_len}");
    }
}
