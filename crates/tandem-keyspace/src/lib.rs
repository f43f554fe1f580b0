//! tandem's keyspace: numbered databases of keys holding typed values, with TTLs and
//! `maxmemory` eviction. It knows nothing of commands, replication or threads.
//!
//! # Structure and locking
//!
//! Every database is split into `shards_per_db` shards (a power of two), each a
//! `parking_lot::Mutex` around a hash table of compact [`entry`]s. A key's shard is
//! chosen from bits 40.. of its hash, bits neither the table's bucket index (low bits) nor
//! its control byte (top 7 bits) use. Shards are numbered globally `db * shards_per_db +
//! index`; whoever needs several shards locks them in ascending global number, which is the
//! one canonical order and rules out deadlock ([`Keyspace::lock`] does this).
//!
//! All access goes through a [`Guard`], which holds the locks for the keys a command
//! declared. There is no global lock: readers and writers of different shards never wait
//! for each other. Shards are mutexes rather than read-write locks because a read changes
//! state too: it updates the key's access clock (LRU/LFU) and, on a master, deletes a key
//! found expired.
//!
//! # Effects
//!
//! The keyspace never decides on its own to change data silently: keys deleted because
//! they expired (on access, or by [`Keyspace::active_expire`]) or were evicted are
//! reported — through [`Guard::take_expired`] or an `on_delete` callback that runs while the
//! shard lock is still held — so the engine can log a `DEL` for each, in order with every
//! other change of that key.
//!
//! # Time
//!
//! The keyspace reads no clock: every guard and background step is given `now_ms`
//! (unix milliseconds), so tests control time.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod entry;
pub mod evict;
pub mod glob;
pub mod hash;
pub mod list;
pub mod set;
pub mod snapshot;
pub mod value;
pub mod zset;

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use entry::{alloc_size, Entry};
use hashbrown::{HashMap, HashTable};
use parking_lot::{Mutex, MutexGuard};

pub use evict::Policy;
pub use hash::Hash;
pub use list::List;
pub use set::Set;
pub use snapshot::{ShardImage, Snapshot};
pub use value::{Kind, Object, Value, ValueRef};
pub use zset::ZSet;

/// Sizing of a keyspace.
#[derive(Clone, Debug)]
pub struct KeyspaceConfig {
    /// Number of databases (`databases`, default 16).
    pub databases: usize,
    /// Shards per database; rounded up to a power of two (default 256).
    pub shards_per_db: usize,
}

impl Default for KeyspaceConfig {
    fn default() -> Self {
        KeyspaceConfig {
            databases: 16,
            shards_per_db: 256,
        }
    }
}

/// What happens to the expiry of a key whose value is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// Keep the current expiry (`KEEPTTL`).
    Keep,
    /// Remove any expiry.
    Clear,
    /// Expire at this unix time in ms.
    At(u64),
}

/// Counters summed over all shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Read lookups that found a key.
    pub hits: u64,
    /// Read lookups that found none.
    pub misses: u64,
    /// Keys deleted because their TTL passed.
    pub expired: u64,
    /// Keys deleted by `maxmemory` eviction.
    pub evicted: u64,
}

/// A flag set when a watched key changes (`WATCH`).
pub type WatchFlag = Arc<AtomicBool>;

#[derive(Default)]
struct Shard {
    table: HashTable<Entry>,
    /// Σ entry.mem_usage() over the table.
    mem: usize,
    /// Entries that carry an expiry.
    expires: usize,
    stats: Stats,
    watched: HashMap<Box<[u8]>, Vec<WatchFlag>>,
    /// What the keyspace-wide counters last saw of this shard.
    published: Published,
    /// `Some` while a snapshot has not taken this shard yet: the pre-images of entries
    /// changed since the snapshot began (see [`snapshot`]).
    snap: Option<Box<ShardImage>>,
}

#[derive(Default, Clone, Copy)]
struct Published {
    mem: usize,
    len: usize,
    expires: usize,
    stats: Stats,
}

/// Keyspace-wide counters, kept current by publishing each shard's changes when its
/// lock is released, so reading them never takes a shard lock (INFO inside EXEC would
/// otherwise deadlock on the transaction's own locks).
struct Totals {
    mem: AtomicI64,
    keys: Box<[AtomicI64]>,
    expires: Box<[AtomicI64]>,
    hits: AtomicU64,
    misses: AtomicU64,
    expired: AtomicU64,
    evicted: AtomicU64,
}

impl Shard {
    fn table_overhead(&self) -> usize {
        let cap = self.table.capacity();
        if cap == 0 {
            0
        } else {
            // hashbrown keeps buckets at 8/7 of capacity: 16-byte slot + 1 control byte each.
            (cap * 8 / 7 + 1).next_power_of_two() * (std::mem::size_of::<Entry>() + 1)
        }
    }

    /// Moves this shard's changes since the last call into the keyspace totals.
    fn publish(&mut self, db: usize, t: &Totals) {
        let mem = self.mem + self.table_overhead();
        let now = Published {
            mem,
            len: self.table.len(),
            expires: self.expires,
            stats: self.stats,
        };
        let old = self.published;
        if now.mem != old.mem {
            t.mem
                .fetch_add(now.mem as i64 - old.mem as i64, Ordering::Relaxed);
        }
        if now.len != old.len {
            t.keys[db].fetch_add(now.len as i64 - old.len as i64, Ordering::Relaxed);
        }
        if now.expires != old.expires {
            t.expires[db].fetch_add(now.expires as i64 - old.expires as i64, Ordering::Relaxed);
        }
        if now.stats != old.stats {
            t.hits.fetch_add(
                now.stats.hits.wrapping_sub(old.stats.hits),
                Ordering::Relaxed,
            );
            t.misses.fetch_add(
                now.stats.misses.wrapping_sub(old.stats.misses),
                Ordering::Relaxed,
            );
            t.expired.fetch_add(
                now.stats.expired.wrapping_sub(old.stats.expired),
                Ordering::Relaxed,
            );
            t.evicted.fetch_add(
                now.stats.evicted.wrapping_sub(old.stats.evicted),
                Ordering::Relaxed,
            );
        }
        self.published = now;
    }

    /// Before an entry of a pending shard changes for the first time, keeps its old
    /// version for the snapshot.
    fn capture(&mut self, hash: u64, key: &[u8]) {
        let Some(pre) = self.snap.as_mut() else {
            return;
        };
        if let Some(e) = self.table.find_mut(hash, |e| e.key() == key) {
            if !e.skip() {
                pre.push(e);
                e.set_skip(true);
            }
        }
    }

    /// Before a pending shard's whole table changes (flush, swap), keeps all of it.
    fn capture_all(&mut self) {
        let Some(pre) = self.snap.as_mut() else {
            return;
        };
        for e in self.table.iter_mut() {
            if !e.skip() {
                pre.push(e);
                e.set_skip(true);
            }
        }
    }

    fn touch_watched(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(flags) = self.watched.remove(key) {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    fn touch_all_watched(&mut self) {
        for (_, flags) in self.watched.drain() {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    fn clear(&mut self) -> usize {
        self.capture_all();
        let n = self.table.len();
        self.table = HashTable::new();
        self.mem = 0;
        self.expires = 0;
        self.touch_all_watched();
        n
    }
}

/// The keyspace: `databases` numbered databases sharing one memory budget.
pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    databases: usize,
    shards_per_db: usize,
    hasher: foldhash::fast::RandomState,
    maxmemory: AtomicU64,
    policy: AtomicU8,
    replica_mode: AtomicBool,
    rng: Mutex<evict::Rng>,
    totals: Totals,
    snapshot_active: AtomicBool,
}

impl std::fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyspace")
            .field("databases", &self.databases)
            .field("shards_per_db", &self.shards_per_db)
            .finish()
    }
}

/// Which shards a guard holds.
enum Locked<'a> {
    One(usize, MutexGuard<'a, Shard>),
    Many(Vec<(usize, MutexGuard<'a, Shard>)>),
}

/// Exclusive access to the shards of a set of keys (or whole databases).
///
/// Every method takes `db` and `key`; the key's shard must be among those locked, which
/// the command table guarantees by declaring keys. Using a key outside the guard is a
/// bug and panics.
pub struct Guard<'a> {
    ks: &'a Keyspace,
    locked: Locked<'a>,
    now_ms: u64,
    expired: Vec<(usize, Box<[u8]>)>,
    /// Every key is live whatever its TTL (see [`Guard::ignore_expiry`]).
    ignore_expiry: bool,
}

impl Keyspace {
    /// An empty keyspace.
    pub fn new(config: KeyspaceConfig) -> Keyspace {
        let databases = config.databases.max(1);
        let shards_per_db = config.shards_per_db.max(1).next_power_of_two();
        let shards = (0..databases * shards_per_db)
            .map(|_| Mutex::new(Shard::default()))
            .collect();
        Keyspace {
            shards,
            databases,
            shards_per_db,
            hasher: foldhash::fast::RandomState::default(),
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(Policy::NoEviction as u8),
            replica_mode: AtomicBool::new(false),
            rng: Mutex::new(evict::Rng::seeded()),
            snapshot_active: AtomicBool::new(false),
            totals: Totals {
                mem: AtomicI64::new(0),
                keys: (0..databases).map(|_| AtomicI64::new(0)).collect(),
                expires: (0..databases).map(|_| AtomicI64::new(0)).collect(),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                expired: AtomicU64::new(0),
                evicted: AtomicU64::new(0),
            },
        }
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Shards per database.
    pub fn shards_per_db(&self) -> usize {
        self.shards_per_db
    }

    /// The hash of a key (stable for the life of this keyspace).
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard_id(&self, db: usize, hash: u64) -> usize {
        db * self.shards_per_db + ((hash >> 40) as usize & (self.shards_per_db - 1))
    }

    /// Global shard number of `key` in `db` (the lock order).
    pub fn shard_of(&self, db: usize, key: &[u8]) -> usize {
        self.shard_id(db, self.hash(key))
    }

    /// Sets `maxmemory` in bytes (0 = no limit).
    pub fn set_maxmemory(&self, bytes: u64) {
        self.maxmemory.store(bytes, Ordering::Relaxed);
    }

    /// Current `maxmemory` (0 = no limit).
    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    /// Sets the eviction policy.
    pub fn set_policy(&self, p: Policy) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    /// The eviction policy.
    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// On a replica, keys whose TTL passed read as missing but are not deleted: only the
    /// master's `DEL` removes them, so master and replica never diverge.
    pub fn set_replica_mode(&self, on: bool) {
        self.replica_mode.store(on, Ordering::Relaxed);
    }

    /// Whether replica mode is on.
    pub fn replica_mode(&self) -> bool {
        self.replica_mode.load(Ordering::Relaxed)
    }

    /// Locks the shards of `keys` (pairs of db and key) in canonical order.
    pub fn lock(&self, keys: &[(usize, &[u8])], now_ms: u64) -> Guard<'_> {
        let mut ids: Vec<usize> = keys.iter().map(|(db, k)| self.shard_of(*db, k)).collect();
        self.lock_ids(&mut ids, now_ms)
    }

    /// Locks one key's shard.
    pub fn lock_key(&self, db: usize, key: &[u8], now_ms: u64) -> Guard<'_> {
        let id = self.shard_of(db, key);
        Guard {
            ks: self,
            locked: Locked::One(id, self.shards[id].lock()),
            now_ms,
            expired: Vec::new(),
            ignore_expiry: false,
        }
    }

    /// Locks the given global shard numbers (sorted and deduplicated here).
    pub fn lock_ids(&self, ids: &mut Vec<usize>, now_ms: u64) -> Guard<'_> {
        ids.sort_unstable();
        ids.dedup();
        let locked = if ids.len() == 1 {
            Locked::One(ids[0], self.shards[ids[0]].lock())
        } else {
            Locked::Many(ids.iter().map(|&id| (id, self.shards[id].lock())).collect())
        };
        Guard {
            ks: self,
            locked,
            now_ms,
            expired: Vec::new(),
            ignore_expiry: false,
        }
    }

    /// Locks every shard of database `db`.
    pub fn lock_db(&self, db: usize, now_ms: u64) -> Guard<'_> {
        let mut ids: Vec<usize> =
            (db * self.shards_per_db..(db + 1) * self.shards_per_db).collect();
        self.lock_ids(&mut ids, now_ms)
    }

    /// Locks every shard of every database.
    pub fn lock_all(&self, now_ms: u64) -> Guard<'_> {
        let mut ids: Vec<usize> = (0..self.shards.len()).collect();
        self.lock_ids(&mut ids, now_ms)
    }

    /// Locks one shard of `db` by its index within the database (for iteration).
    pub fn lock_shard(&self, db: usize, index: usize, now_ms: u64) -> Guard<'_> {
        let id = db * self.shards_per_db + index;
        Guard {
            ks: self,
            locked: Locked::One(id, self.shards[id].lock()),
            now_ms,
            expired: Vec::new(),
            ignore_expiry: false,
        }
    }

    /// Number of keys in `db` (expired ones not yet removed included, as Redis counts).
    pub fn dbsize(&self, db: usize) -> usize {
        self.totals.keys[db].load(Ordering::Relaxed).max(0) as usize
    }

    /// Keys with an expiry in `db`.
    pub fn expires_count(&self, db: usize) -> usize {
        self.totals.expires[db].load(Ordering::Relaxed).max(0) as usize
    }

    fn db_range(&self, db: usize) -> std::ops::Range<usize> {
        db * self.shards_per_db..(db + 1) * self.shards_per_db
    }

    /// Estimated bytes held by all data (entries, values and tables).
    pub fn used_memory(&self) -> usize {
        self.totals.mem.load(Ordering::Relaxed).max(0) as usize
    }

    /// Counters summed over every shard.
    pub fn stats(&self) -> Stats {
        let t = &self.totals;
        Stats {
            hits: t.hits.load(Ordering::Relaxed),
            misses: t.misses.load(Ordering::Relaxed),
            expired: t.expired.load(Ordering::Relaxed),
            evicted: t.evicted.load(Ordering::Relaxed),
        }
    }

    /// Resets the hit/miss/expired/evicted counters (`CONFIG RESETSTAT`).
    pub fn reset_stats(&self) {
        let t = &self.totals;
        for c in [&t.hits, &t.misses, &t.expired, &t.evicted] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Publishes the changes of a shard whose lock is about to be released.
    fn publish(&self, id: usize, s: &mut Shard) {
        s.publish(id / self.shards_per_db, &self.totals);
    }

    /// Removes every key of `db`; returns how many there were. Takes all of the
    /// database's shard locks first, so the flush is one atomic step.
    pub fn flush_db(&self, db: usize) -> usize {
        self.lock_db(db, 0).clear_db(db)
    }

    /// Removes every key of every database, atomically.
    pub fn flush_all(&self) -> usize {
        let mut g = self.lock_all(0);
        (0..self.databases).map(|db| g.clear_db(db)).sum()
    }

    /// Swaps the contents of two databases atomically (`SWAPDB`). A key hashes to the
    /// same shard index in every database, so shards swap pairwise.
    pub fn swap_db(&self, a: usize, b: usize) {
        let mut ids: Vec<usize> = self.db_range(a).chain(self.db_range(b)).collect();
        self.lock_ids(&mut ids, 0).swap_dbs(a, b);
    }

    /// Makes room for `additional` more keys in `db`, spread over its shards, so that a
    /// bulk load (an RDB's RESIZEDB hint) does not rehash tables while it runs.
    pub fn reserve(&self, db: usize, additional: usize) {
        let per_shard = additional / self.shards_per_db + additional / (self.shards_per_db * 8) + 1;
        for id in self.db_range(db) {
            let mut s = self.shards[id].lock();
            let hasher = &self.hasher;
            s.table.reserve(per_shard, |e| hasher.hash_one(e.key()));
            self.publish(id, &mut s);
        }
    }

    /// Registers `flag` to be set when `key` in `db` changes.
    pub fn watch(&self, db: usize, key: &[u8], flag: &WatchFlag) {
        let id = self.shard_of(db, key);
        self.shards[id]
            .lock()
            .watched
            .entry(key.into())
            .or_default()
            .push(flag.clone());
    }

    /// Removes a registration made by [`Keyspace::watch`].
    pub fn unwatch(&self, db: usize, key: &[u8], flag: &WatchFlag) {
        let id = self.shard_of(db, key);
        let mut s = self.shards[id].lock();
        if let Some(v) = s.watched.get_mut(key) {
            v.retain(|f| !Arc::ptr_eq(f, flag));
            if v.is_empty() {
                s.watched.remove(key);
            }
        }
    }

    /// Visits the keys of one shard of `db` (index within the database) and returns the
    /// next cursor: `SCAN` walks shard by shard, each shard whole under its lock, so every
    /// key present for the whole scan is returned at least once. A cursor is
    /// `shard index + 1`, 0 when done. Expired keys are skipped.
    pub fn scan_shard(
        &self,
        db: usize,
        cursor: u64,
        now_ms: u64,
        mut visit: impl FnMut(&[u8], ValueRef<'_>),
    ) -> u64 {
        let index = cursor as usize;
        if index >= self.shards_per_db {
            return 0;
        }
        let s = self.shards[db * self.shards_per_db + index].lock();
        for e in s.table.iter() {
            if e.expire_at().is_some_and(|at| at <= now_ms) {
                continue;
            }
            visit(e.key(), e.value());
        }
        if index + 1 >= self.shards_per_db {
            0
        } else {
            index as u64 + 1
        }
    }

    /// A random live key of `db`, if any.
    pub fn random_key(&self, db: usize, now_ms: u64) -> Option<Vec<u8>> {
        let total = self.dbsize(db);
        if total == 0 {
            return None;
        }
        for _ in 0..100 {
            let index = (self.rng.lock().next() as usize) & (self.shards_per_db - 1);
            let s = self.shards[db * self.shards_per_db + index].lock();
            if s.table.is_empty() {
                continue;
            }
            let pick = (self.rng.lock().next() as usize) % s.table.len();
            if let Some(e) = s.table.iter().nth(pick) {
                if e.expire_at().is_some_and(|at| at <= now_ms) {
                    continue;
                }
                return Some(e.key().to_vec());
            }
        }
        // Sparse database: take the first live key found.
        for id in self.db_range(db) {
            let s = self.shards[id].lock();
            if let Some(e) = s
                .table
                .iter()
                .find(|e| e.expire_at().is_none_or(|at| at > now_ms))
            {
                return Some(e.key().to_vec());
            }
        }
        None
    }

    /// One step of active expiry: visits shards starting at `*cursor` (a global shard
    /// number, advanced here) and deletes keys whose TTL passed, examining at most
    /// `budget` entries. `on_delete(db, key)` runs for each while its shard is locked.
    /// Returns the number of keys deleted. Does nothing in replica mode.
    pub fn active_expire(
        &self,
        cursor: &mut usize,
        budget: usize,
        now_ms: u64,
        on_delete: &mut dyn FnMut(usize, &[u8]),
    ) -> usize {
        if self.replica_mode() {
            return 0;
        }
        let mut examined = 0;
        let mut deleted = 0;
        let n = self.shards.len();
        let mut visited = 0;
        while examined < budget && visited < n {
            let id = *cursor % n;
            *cursor = (id + 1) % n;
            visited += 1;
            let mut s = self.shards[id].lock();
            if s.expires == 0 {
                continue;
            }
            examined += s.table.len();
            let db = id / self.shards_per_db;
            let mut dead: Vec<Box<[u8]>> = Vec::new();
            for e in s.table.iter() {
                if e.expire_at().is_some_and(|at| at <= now_ms) {
                    dead.push(e.key().into());
                }
            }
            for key in dead {
                let h = self.hash(&key);
                if remove_entry(&mut s, h, &key, &self.hasher).is_some() {
                    s.stats.expired += 1;
                    deleted += 1;
                    on_delete(db, &key);
                }
            }
            self.publish(id, &mut s);
        }
        deleted
    }

    /// Frees memory until `used_memory()` is at most `maxmemory`, per the policy, by
    /// deleting keys. `on_delete(db, key)` runs for each while its shard is locked.
    /// Returns `false` when memory is over the limit and nothing more can be evicted
    /// (the policy is `noeviction`, or no key qualifies): the caller then refuses writes
    /// with `-OOM`.
    pub fn evict(&self, now_ms: u64, on_delete: &mut dyn FnMut(usize, &[u8])) -> bool {
        let max = self.maxmemory();
        if max == 0 {
            return true;
        }
        let mut used = self.used_memory() as u64;
        if used <= max {
            return true;
        }
        let policy = self.policy();
        if policy == Policy::NoEviction {
            return false;
        }
        while used > max {
            let Some((id, key, _)) = evict::pick_victim(self, policy, now_ms) else {
                return false;
            };
            let mut s = self.shards[id].lock();
            let h = self.hash(&key);
            if let Some(e) = remove_entry(&mut s, h, &key, &self.hasher) {
                used = used.saturating_sub((e.mem_usage() + std::mem::size_of::<Entry>()) as u64);
                s.stats.evicted += 1;
                on_delete(id / self.shards_per_db, &key);
            }
            self.publish(id, &mut s);
            drop(s);
            if used <= max {
                // Re-measure: tables may have shrunk or other threads added data.
                used = self.used_memory() as u64;
            }
        }
        true
    }

    /// Whether memory is over `maxmemory` (always false without a limit).
    pub fn over_maxmemory(&self) -> bool {
        let max = self.maxmemory();
        max != 0 && self.used_memory() as u64 > max
    }

    /// Starts a point-in-time snapshot (see [`snapshot`]). `at` runs while every shard
    /// is locked — nothing changes during it — and is where the caller records what the
    /// snapshot stands for (the replication offset). Returns `None` while another
    /// snapshot is running.
    pub fn begin_snapshot<R>(
        &self,
        now_ms: u64,
        at: impl FnOnce() -> R,
    ) -> Option<(Snapshot<'_>, R)> {
        if self.snapshot_active.swap(true, Ordering::AcqRel) {
            return None;
        }
        let mut guards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let r = at();
        for (id, g) in guards.iter_mut().enumerate() {
            g.snap = Some(Box::new(ShardImage::new(id / self.shards_per_db)));
        }
        drop(guards);
        Some((
            Snapshot {
                ks: self,
                next: 0,
                now_ms,
            },
            r,
        ))
    }

    /// Whether a snapshot is running.
    pub fn snapshot_running(&self) -> bool {
        self.snapshot_active.load(Ordering::Acquire)
    }

    /// Takes shard `id`'s image: its untouched entries plus the pre-images writers kept.
    pub(crate) fn take_image(&self, id: usize, now_ms: u64) -> ShardImage {
        let mut s = self.shards[id].lock();
        let Some(pre) = s.snap.take() else {
            return ShardImage::new(id / self.shards_per_db);
        };
        let mut image = ShardImage::new(id / self.shards_per_db);
        for e in s.table.iter_mut() {
            if e.skip() {
                e.set_skip(false);
            } else if e.expire_at().is_none_or(|at| at > now_ms) {
                image.push(e);
            }
        }
        drop(s);
        image.append(*pre);
        image
    }

    pub(crate) fn end_snapshot(&self) {
        self.snapshot_active.store(false, Ordering::Release);
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub(crate) fn with_shard<R>(&self, id: usize, f: impl FnOnce(&Shard) -> R) -> R {
        f(&self.shards[id].lock())
    }

    pub(crate) fn next_random(&self) -> u64 {
        self.rng.lock().next()
    }
}

fn find<'t>(s: &'t Shard, hash: u64, key: &[u8]) -> Option<&'t Entry> {
    s.table.find(hash, |e| e.key() == key)
}

fn remove_entry(
    s: &mut Shard,
    hash: u64,
    key: &[u8],
    hasher: &foldhash::fast::RandomState,
) -> Option<Entry> {
    s.capture(hash, key);
    let e = match s.table.find_entry(hash, |e| e.key() == key) {
        Ok(occ) => occ.remove().0,
        Err(_) => return None,
    };
    // Give memory back when a table is mostly empty, as Redis shrinks its dicts.
    if s.table.capacity() > 64 && s.table.len() * 8 < s.table.capacity() {
        s.table
            .shrink_to(s.table.len() * 2, |e| hasher.hash_one(e.key()));
    }
    s.mem -= e.mem_usage();
    if e.expire_at().is_some() {
        s.expires -= 1;
    }
    s.touch_watched(key);
    Some(e)
}

impl<'a> Guard<'a> {
    fn shard(&mut self, db: usize, hash: u64) -> &mut Shard {
        let id = self.ks.shard_id(db, hash);
        match &mut self.locked {
            Locked::One(i, g) if *i == id => g,
            Locked::Many(v) => match v.binary_search_by_key(&id, |(i, _)| *i) {
                Ok(pos) => &mut v[pos].1,
                Err(_) => panic!("keyspace: shard {id} used without being locked"),
            },
            _ => panic!("keyspace: shard {id} used without being locked"),
        }
    }

    /// The time this guard was opened with (unix ms).
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The keyspace behind this guard.
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// Keys deleted by this guard because their TTL had passed, in order; the engine
    /// logs a `DEL` for each before the command's own effect.
    pub fn take_expired(&mut self) -> Vec<(usize, Box<[u8]>)> {
        std::mem::take(&mut self.expired)
    }

    /// Treats every key as live whatever its TTL, for the commands a replica receives
    /// from its master: only the master decides when a key expires (its `DEL` must find
    /// the key, and a write just before the TTL must apply to it), as Redis does for its
    /// master client.
    pub fn ignore_expiry(&mut self) {
        self.ignore_expiry = true;
    }

    /// Whether any key expired during this guard.
    pub fn has_expired(&self) -> bool {
        !self.expired.is_empty()
    }

    /// Resolves an expired key: deletes it on a master (recording it) and reports it as
    /// missing either way. Returns whether the key is live.
    fn check_live(&mut self, db: usize, hash: u64, key: &[u8]) -> bool {
        if self.ignore_expiry {
            return find(self.shard(db, hash), hash, key).is_some();
        }
        let now = self.now_ms;
        let replica = self.ks.replica_mode();
        let ks = self.ks;
        let hasher = &ks.hasher;
        let s = self.shard(db, hash);
        let Some(e) = find(s, hash, key) else {
            return false;
        };
        match e.expire_at() {
            Some(at) if at <= now => {
                if !replica {
                    remove_entry(s, hash, key, hasher);
                    s.stats.expired += 1;
                    self.expired.push((db, key.into()));
                }
                false
            }
            _ => true,
        }
    }

    fn access_clock(&mut self) -> u32 {
        evict::lru_clock(self.now_ms)
    }

    /// Looks a key up for reading: counts a hit or miss and updates its access clock.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<ValueRef<'_>> {
        let hash = self.ks.hash(key);
        let live = self.check_live(db, hash, key);
        let policy = self.ks.policy();
        let clock = self.access_clock();
        let s = self.shard(db, hash);
        if !live {
            s.stats.misses += 1;
            return None;
        }
        s.stats.hits += 1;
        let e = s.table.find_mut(hash, |e| e.key() == key)?;
        let next = evict::touch(policy, e.clock(), clock);
        if next != e.clock() {
            e.set_clock(next);
        }
        Some(e.value())
    }

    /// Looks a key up without counting or touching it (for `TYPE`, `TTL`, writes that
    /// inspect first).
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<ValueRef<'_>> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        find(self.shard(db, hash), hash, key).map(|e| e.value())
    }

    /// Whether a live key exists.
    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        let hash = self.ks.hash(key);
        self.check_live(db, hash, key)
    }

    /// The expiry of a live key: `None` if there is no key, `Some(None)` if it is
    /// persistent.
    pub fn expire_at(&mut self, db: usize, key: &[u8]) -> Option<Option<u64>> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        find(self.shard(db, hash), hash, key).map(|e| e.expire_at())
    }

    /// Sets (or with `None` removes) the expiry of a live key; returns whether the key
    /// exists.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<u64>) -> bool {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return false;
        }
        let s = self.shard(db, hash);
        s.capture(hash, key);
        let Some(e) = s.table.find_mut(hash, |e| e.key() == key) else {
            return false;
        };
        let before = e.mem_usage();
        let had = e.expire_at().is_some();
        e.set_expire(at);
        let after = e.mem_usage();
        s.mem = s.mem + after - before;
        match (had, at.is_some()) {
            (false, true) => s.expires += 1,
            (true, false) => s.expires -= 1,
            _ => {}
        }
        s.touch_watched(key);
        true
    }

    /// Stores `value` under `key`, replacing any value; `ttl` says what happens to the
    /// expiry. Returns whether a live key was replaced.
    pub fn set(&mut self, db: usize, key: &[u8], value: Value, ttl: Ttl) -> bool {
        match value {
            Value::Str(s) => self.set_str(db, key, &s, ttl),
            value => {
                // Exactly one of the two closures runs.
                let value = std::cell::Cell::new(Some(value));
                self.store(
                    db,
                    key,
                    ttl,
                    |e, at| e.set_value(value.take().expect("taken once"), at),
                    |k, at, clock| Entry::new(k, value.take().expect("taken once"), at, clock),
                )
            }
        }
    }

    /// Stores the string `value` under `key` (one allocation: header, key and value
    /// together). Returns whether a live key was replaced.
    pub fn set_str(&mut self, db: usize, key: &[u8], value: &[u8], ttl: Ttl) -> bool {
        self.store(
            db,
            key,
            ttl,
            |e, at| e.set_str_value(value, at),
            |k, at, clock| Entry::new_str(k, value, at, clock),
        )
    }

    fn store(
        &mut self,
        db: usize,
        key: &[u8],
        ttl: Ttl,
        replace: impl FnOnce(&mut Entry, Option<u64>),
        create: impl FnOnce(&[u8], Option<u64>, u32) -> Entry,
    ) -> bool {
        let hash = self.ks.hash(key);
        let live = self.check_live(db, hash, key);
        let clock = evict::new_clock(self.ks.policy(), self.now_ms);
        let ks = self.ks;
        let hasher = &ks.hasher;
        let s = self.shard(db, hash);
        s.touch_watched(key);
        if live {
            s.capture(hash, key);
            let e = s
                .table
                .find_mut(hash, |e| e.key() == key)
                .expect("live key present");
            let before = e.mem_usage();
            let had = e.expire_at().is_some();
            let at = match ttl {
                Ttl::Keep => e.expire_at(),
                Ttl::Clear => None,
                Ttl::At(t) => Some(t),
            };
            replace(e, at);
            let after = e.mem_usage();
            s.mem = s.mem + after - before;
            match (had, at.is_some()) {
                (false, true) => s.expires += 1,
                (true, false) => s.expires -= 1,
                _ => {}
            }
            true
        } else {
            let at = match ttl {
                Ttl::At(t) => Some(t),
                _ => None,
            };
            let mut e = create(key, at, clock);
            if s.snap.is_some() {
                e.set_skip(true);
            }
            s.mem += e.mem_usage();
            if at.is_some() {
                s.expires += 1;
            }
            s.table.insert_unique(hash, e, |e| hasher.hash_one(e.key()));
            false
        }
    }

    /// Runs `f` on the collection under `key` (if the key is live and holds a
    /// collection) and keeps memory accounting right; a collection left empty is
    /// deleted, as Redis does. Returns `None` when there is no live collection.
    pub fn update<R>(
        &mut self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(&mut Object) -> R,
    ) -> Option<R> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        let ks = self.ks;
        let hasher = &ks.hasher;
        let s = self.shard(db, hash);
        s.capture(hash, key);
        let e = s.table.find_mut(hash, |e| e.key() == key)?;
        let before = e.mem_usage();
        let obj = e.obj_mut()?;
        let r = f(obj);
        let empty = obj.is_empty();
        let after = e.mem_usage();
        s.mem = s.mem + after - before;
        s.touch_watched(key);
        if empty {
            remove_entry(s, hash, key, hasher);
        }
        Some(r)
    }

    /// Removes a live key and returns its value.
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Value> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        let ks = self.ks;
        remove_entry(self.shard(db, hash), hash, key, &ks.hasher).map(Entry::into_value)
    }

    /// Removes a live key; returns whether it existed.
    pub fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        self.remove(db, key).is_some()
    }

    /// Marks `key` as modified for `WATCH` without changing it.
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        let hash = self.ks.hash(key);
        self.shard(db, hash).touch_watched(key);
    }

    /// Estimated bytes a key uses (`MEMORY USAGE`).
    pub fn mem_usage(&mut self, db: usize, key: &[u8]) -> Option<usize> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        find(self.shard(db, hash), hash, key).map(|e| e.mem_usage() + std::mem::size_of::<Entry>())
    }

    /// Seconds since the key was last accessed (`OBJECT IDLETIME`), by the LRU clock.
    pub fn idle_seconds(&mut self, db: usize, key: &[u8]) -> Option<u64> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        let now = evict::lru_clock(self.now_ms);
        find(self.shard(db, hash), hash, key)
            .map(|e| u64::from(evict::clock_distance(now, e.clock())))
    }

    /// LFU frequency counter of the key (`OBJECT FREQ`).
    pub fn lfu_counter(&mut self, db: usize, key: &[u8]) -> Option<u8> {
        let hash = self.ks.hash(key);
        if !self.check_live(db, hash, key) {
            return None;
        }
        find(self.shard(db, hash), hash, key).map(|e| (e.clock() & 0xff) as u8)
    }

    /// Visits every live key of the locked shards of `db` (with its value and expiry).
    pub fn for_each(&mut self, db: usize, mut f: impl FnMut(&[u8], ValueRef<'_>, Option<u64>)) {
        let now = self.now_ms;
        let spd = self.ks.shards_per_db;
        let range = db * spd..(db + 1) * spd;
        let mut visit = |s: &Shard| {
            for e in s.table.iter() {
                let at = e.expire_at();
                if at.is_some_and(|t| t <= now) {
                    continue;
                }
                f(e.key(), e.value(), at);
            }
        };
        match &self.locked {
            Locked::One(id, g) => {
                if range.contains(id) {
                    visit(g)
                }
            }
            Locked::Many(v) => {
                for (id, g) in v {
                    if range.contains(id) {
                        visit(g)
                    }
                }
            }
        }
    }
}

impl<'a> Guard<'a> {
    fn locked_in_db(&mut self, db: usize) -> Vec<&mut Shard> {
        let spd = self.ks.shards_per_db;
        let range = db * spd..(db + 1) * spd;
        match &mut self.locked {
            Locked::One(id, g) => {
                if range.contains(id) {
                    vec![&mut **g]
                } else {
                    vec![]
                }
            }
            Locked::Many(v) => v
                .iter_mut()
                .filter(|(id, _)| range.contains(id))
                .map(|(_, g)| &mut **g)
                .collect(),
        }
    }

    fn assert_whole_db(&self, db: usize) {
        let spd = self.ks.shards_per_db;
        let n = match &self.locked {
            Locked::One(id, _) => usize::from(*id / spd == db),
            Locked::Many(v) => v.iter().filter(|(id, _)| *id / spd == db).count(),
        };
        assert_eq!(n, spd, "keyspace: database {db} is not wholly locked");
    }

    /// Number of keys in `db` (whose shards must all be locked: `lock_db`/`lock_all`).
    pub fn db_len(&mut self, db: usize) -> usize {
        self.assert_whole_db(db);
        self.locked_in_db(db).iter().map(|s| s.table.len()).sum()
    }

    /// Removes every key of `db` (wholly locked); returns how many there were.
    pub fn clear_db(&mut self, db: usize) -> usize {
        self.assert_whole_db(db);
        self.locked_in_db(db).into_iter().map(|s| s.clear()).sum()
    }

    /// Swaps databases `a` and `b` (both wholly locked).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.assert_whole_db(a);
        self.assert_whole_db(b);
        let spd = self.ks.shards_per_db;
        let Locked::Many(v) = &mut self.locked else {
            unreachable!("two databases are many shards")
        };
        for i in 0..spd {
            let ia = v
                .binary_search_by_key(&(a * spd + i), |(id, _)| *id)
                .expect("locked");
            let ib = v
                .binary_search_by_key(&(b * spd + i), |(id, _)| *id)
                .expect("locked");
            let (lo, hi) = if ia < ib { (ia, ib) } else { (ib, ia) };
            let (left, right) = v.split_at_mut(hi);
            let x = &mut left[lo].1;
            let y = &mut right[0].1;
            x.capture_all();
            y.capture_all();
            std::mem::swap(&mut x.table, &mut y.table);
            std::mem::swap(&mut x.mem, &mut y.mem);
            std::mem::swap(&mut x.expires, &mut y.expires);
            x.touch_all_watched();
            y.touch_all_watched();
        }
    }

    /// `SCAN` over a wholly locked `db`: visits the keys of shards from `cursor` on until
    /// at least `count` keys were visited (whole shards at a time); returns the next
    /// cursor (0 when done). See [`Keyspace::scan_shard`] for the guarantee.
    pub fn scan(
        &mut self,
        db: usize,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&[u8], ValueRef<'_>),
    ) -> u64 {
        self.assert_whole_db(db);
        let now = self.now_ms;
        let spd = self.ks.shards_per_db as u64;
        let shards = self.locked_in_db(db);
        let mut index = cursor;
        let mut seen = 0;
        while index < spd && seen < count.max(1) {
            for e in shards[index as usize].table.iter() {
                if e.expire_at().is_some_and(|at| at <= now) {
                    continue;
                }
                seen += 1;
                visit(e.key(), e.value());
            }
            index += 1;
        }
        if index >= spd {
            0
        } else {
            index
        }
    }

    /// A random live key of a wholly locked `db`.
    pub fn random_key(&mut self, db: usize) -> Option<Vec<u8>> {
        self.assert_whole_db(db);
        let now = self.now_ms;
        let ks = self.ks;
        let shards = self.locked_in_db(db);
        let total: usize = shards.iter().map(|s| s.table.len()).sum();
        if total == 0 {
            return None;
        }
        for _ in 0..100 {
            let mut pick = (ks.next_random() as usize) % total;
            for s in shards.iter() {
                if pick < s.table.len() {
                    let e = s.table.iter().nth(pick)?;
                    if e.expire_at().is_none_or(|at| at > now) {
                        return Some(e.key().to_vec());
                    }
                    break;
                }
                pick -= s.table.len();
            }
        }
        shards
            .iter()
            .flat_map(|s| s.table.iter())
            .find(|e| e.expire_at().is_none_or(|at| at > now))
            .map(|e| e.key().to_vec())
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let ks = self.ks;
        match &mut self.locked {
            Locked::One(id, g) => ks.publish(*id, g),
            Locked::Many(v) => {
                for (id, g) in v.iter_mut() {
                    ks.publish(*id, g);
                }
            }
        }
        debug_assert!(
            self.expired.is_empty() || std::thread::panicking(),
            "expired keys must be taken (and logged) before the guard is released"
        );
    }
}

/// Bytes an allocation of `n` bytes really costs (the model behind every estimate).
pub fn allocation_cost(n: usize) -> usize {
    alloc_size(n)
}

#[cfg(test)]
mod tests;
