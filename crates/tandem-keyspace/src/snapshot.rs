//! Point-in-time snapshots without fork.
//!
//! [`Keyspace::begin_snapshot`](crate::Keyspace::begin_snapshot) takes every shard lock
//! (in canonical order), runs the caller's closure — which records the replication offset
//! the snapshot stands for — marks every shard *pending*, and releases the locks: a pause
//! of one lock/unlock per shard, whatever the data size.
//!
//! Afterwards the snapshot reader visits the shards one by one. For a pending shard it
//! copies, under that shard's lock, every entry not marked *skip* into a
//! [`ShardImage`] (strings into one flat arena, collections cloned), adds the
//! pre-images writers left there, clears the skip marks and the pending flag, and
//! serializes the image outside the lock.
//!
//! Writers keep the snapshot exact: before a writer changes or deletes an entry of a
//! pending shard for the first time, it copies the entry as it was into the shard's
//! pre-images and marks it *skip*; an entry created in a pending shard is born *skip*.
//! So each shard's image is its state at the instant the snapshot began. Memory grows
//! only by the old versions of entries changed while the snapshot runs, and no writer
//! ever copies more than the entry it touches.

use crate::entry::Entry;
use crate::value::{Object, ValueRef};

#[derive(Debug)]
enum ItemValue {
    Str(usize, usize),
    Obj(Object),
}

#[derive(Debug)]
struct Item {
    key: (usize, usize),
    value: ItemValue,
    expire_at: Option<u64>,
}

/// The content of one shard at the snapshot's instant.
#[derive(Debug, Default)]
pub struct ShardImage {
    /// The database the shard belongs to.
    pub db: usize,
    arena: Vec<u8>,
    items: Vec<Item>,
}

impl ShardImage {
    pub(crate) fn new(db: usize) -> ShardImage {
        ShardImage {
            db,
            arena: Vec::new(),
            items: Vec::new(),
        }
    }

    fn push_bytes(&mut self, b: &[u8]) -> (usize, usize) {
        let start = self.arena.len();
        self.arena.extend_from_slice(b);
        (start, b.len())
    }

    /// Copies an entry into the image.
    pub(crate) fn push(&mut self, e: &Entry) {
        let key = self.push_bytes(e.key());
        let value = match e.value() {
            ValueRef::Str(s) => {
                let (a, n) = self.push_bytes(s);
                ItemValue::Str(a, n)
            }
            ValueRef::Obj(o) => ItemValue::Obj(o.clone()),
        };
        self.items.push(Item {
            key,
            value,
            expire_at: e.expire_at(),
        });
    }

    pub(crate) fn append(&mut self, mut other: ShardImage) {
        let base = self.arena.len();
        self.arena.append(&mut other.arena);
        for mut it in other.items {
            it.key.0 += base;
            if let ItemValue::Str(a, _) = &mut it.value {
                *a += base;
            }
            self.items.push(it);
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the shard held no keys.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Keys with their values and absolute expiry (unix ms).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], ValueRef<'_>, Option<u64>)> {
        self.items.iter().map(|it| {
            let key = &self.arena[it.key.0..it.key.0 + it.key.1];
            let value = match &it.value {
                ItemValue::Str(a, n) => ValueRef::Str(&self.arena[*a..*a + *n]),
                ItemValue::Obj(o) => ValueRef::Obj(o),
            };
            (key, value, it.expire_at)
        })
    }
}

/// A snapshot in progress: yields one [`ShardImage`] per shard, in shard order.
///
/// Dropping it before the end finishes the remaining shards (discarding their images)
/// so that writers stop keeping pre-images.
pub struct Snapshot<'k> {
    pub(crate) ks: &'k crate::Keyspace,
    pub(crate) next: usize,
    pub(crate) now_ms: u64,
}

impl Snapshot<'_> {
    /// The next shard's image, or `None` when every shard was visited.
    pub fn next_image(&mut self) -> Option<ShardImage> {
        if self.next >= self.ks.shard_count() {
            return None;
        }
        let id = self.next;
        self.next += 1;
        Some(self.ks.take_image(id, self.now_ms))
    }

    /// Shards still to visit.
    pub fn remaining(&self) -> usize {
        self.ks.shard_count() - self.next
    }

    /// The time the snapshot began (unix ms); keys expired by then are left out.
    pub fn started_ms(&self) -> u64 {
        self.now_ms
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        while self.next_image().is_some() {}
        self.ks.end_snapshot();
    }
}
