//! The compact in-table representation of one key and its value.
//!
//! A string key is **one** heap allocation holding a small header, the key and the value;
//! a key holding a collection is a header+key allocation plus the boxed collection. The
//! table slot itself is 16 bytes. This is what keeps a million 100-byte strings near
//! 150 bytes per key (Redis needs about 190).
//!
//! Header layout (all little endian):
//!
//! ```text
//! byte 0        flags: bit 0 = has expiry, bit 1 = snapshot skip
//! bytes 1..4    access clock (24 bits): LRU seconds, or LFU minutes<<8 | counter
//! varint        key length (LEB128)
//! [8 bytes]     absolute expiry, unix ms (only with the flag)
//! key bytes
//! value bytes   (strings only)
//! ```

use crate::value::{Object, Value, ValueRef};

const FLAG_EXPIRE: u8 = 1;
/// Set while a snapshot is in progress on an entry the snapshot must not take from the
/// table (it was created after the snapshot began, or its old version was captured).
const FLAG_SKIP: u8 = 2;

/// One key of the keyspace, with its value, expiry and access clock.
#[derive(Debug)]
pub(crate) struct Entry {
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    Str(Box<[u8]>),
    Obj(Box<ObjEntry>),
}

#[derive(Debug)]
struct ObjEntry {
    head: Box<[u8]>,
    obj: Object,
}

/// Offsets inside a header.
#[derive(Clone, Copy)]
struct Layout {
    key_start: usize,
    key_len: usize,
    expire_at: Option<usize>,
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn layout(buf: &[u8]) -> Layout {
    let mut pos = 4;
    let mut key_len = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        key_len |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    let expire_at = if buf[0] & FLAG_EXPIRE != 0 {
        let at = pos;
        pos += 8;
        Some(at)
    } else {
        None
    };
    Layout {
        key_start: pos,
        key_len,
        expire_at,
    }
}

fn build(key: &[u8], expire_at: Option<u64>, clock: u32, value: &[u8], skip: bool) -> Box<[u8]> {
    let len = 4
        + varint_len(key.len())
        + if expire_at.is_some() { 8 } else { 0 }
        + key.len()
        + value.len();
    let mut v = Vec::with_capacity(len);
    let mut flags = if expire_at.is_some() { FLAG_EXPIRE } else { 0 };
    if skip {
        flags |= FLAG_SKIP;
    }
    v.push(flags);
    v.extend_from_slice(&clock.to_le_bytes()[..3]);
    write_varint(&mut v, key.len());
    if let Some(at) = expire_at {
        v.extend_from_slice(&at.to_le_bytes());
    }
    v.extend_from_slice(key);
    v.extend_from_slice(value);
    debug_assert_eq!(v.len(), len);
    v.into_boxed_slice()
}

/// Bytes glibc malloc really uses for an allocation of `n` bytes.
pub(crate) fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

impl Entry {
    pub(crate) fn new(key: &[u8], value: Value, expire_at: Option<u64>, clock: u32) -> Entry {
        match value {
            Value::Str(s) => Entry {
                repr: Repr::Str(build(key, expire_at, clock, &s, false)),
            },
            Value::Obj(obj) => Entry {
                repr: Repr::Obj(Box::new(ObjEntry {
                    head: build(key, expire_at, clock, &[], false),
                    obj,
                })),
            },
        }
    }

    /// A string entry built straight from slices (one allocation).
    pub(crate) fn new_str(key: &[u8], value: &[u8], expire_at: Option<u64>, clock: u32) -> Entry {
        Entry {
            repr: Repr::Str(build(key, expire_at, clock, value, false)),
        }
    }

    fn head(&self) -> &[u8] {
        match &self.repr {
            Repr::Str(b) => b,
            Repr::Obj(o) => &o.head,
        }
    }

    fn head_mut(&mut self) -> &mut Box<[u8]> {
        match &mut self.repr {
            Repr::Str(b) => b,
            Repr::Obj(o) => &mut o.head,
        }
    }

    pub(crate) fn key(&self) -> &[u8] {
        let h = self.head();
        let l = layout(h);
        &h[l.key_start..l.key_start + l.key_len]
    }

    pub(crate) fn expire_at(&self) -> Option<u64> {
        let h = self.head();
        layout(h).expire_at.map(|at| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[at..at + 8]);
            u64::from_le_bytes(b)
        })
    }

    pub(crate) fn clock(&self) -> u32 {
        let h = self.head();
        u32::from_le_bytes([h[1], h[2], h[3], 0])
    }

    pub(crate) fn set_clock(&mut self, clock: u32) {
        let h = self.head_mut();
        h[1..4].copy_from_slice(&clock.to_le_bytes()[..3]);
    }

    pub(crate) fn value(&self) -> ValueRef<'_> {
        match &self.repr {
            Repr::Str(b) => {
                let l = layout(b);
                ValueRef::Str(&b[l.key_start + l.key_len..])
            }
            Repr::Obj(o) => ValueRef::Obj(&o.obj),
        }
    }

    pub(crate) fn obj_mut(&mut self) -> Option<&mut Object> {
        match &mut self.repr {
            Repr::Str(_) => None,
            Repr::Obj(o) => Some(&mut o.obj),
        }
    }

    /// Replaces the value, keeping key, clock and (if `keep_ttl`) the expiry.
    pub(crate) fn set_value(&mut self, value: Value, expire_at: Option<u64>) {
        let clock = self.clock();
        let skip = self.skip();
        let key = self.key().to_vec();
        *self = Entry::new(&key, value, expire_at, clock);
        self.set_skip(skip);
    }

    /// Replaces the value with a string, keeping key, clock and skip mark.
    pub(crate) fn set_str_value(&mut self, value: &[u8], expire_at: Option<u64>) {
        let clock = self.clock();
        let skip = self.skip();
        let mut e = Entry::new_str(self.key(), value, expire_at, clock);
        e.set_skip(skip);
        *self = e;
    }

    /// Whether a running snapshot must not take this entry from the table.
    pub(crate) fn skip(&self) -> bool {
        self.head()[0] & FLAG_SKIP != 0
    }

    pub(crate) fn set_skip(&mut self, on: bool) {
        let h = self.head_mut();
        if on {
            h[0] |= FLAG_SKIP;
        } else {
            h[0] &= !FLAG_SKIP;
        }
    }

    /// Changes only the expiry.
    pub(crate) fn set_expire(&mut self, expire_at: Option<u64>) {
        let h = self.head();
        let l = layout(h);
        match (l.expire_at, expire_at) {
            (Some(at), Some(new)) => {
                let h = self.head_mut();
                h[at..at + 8].copy_from_slice(&new.to_le_bytes());
            }
            (None, None) => {}
            _ => {
                let key = h[l.key_start..l.key_start + l.key_len].to_vec();
                let rest = h[l.key_start + l.key_len..].to_vec();
                let clock = self.clock();
                let skip = self.skip();
                *self.head_mut() = build(&key, expire_at, clock, &rest, skip);
            }
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self.repr {
            Repr::Str(b) => {
                let l = layout(&b);
                Value::Str(b[l.key_start + l.key_len..].to_vec())
            }
            Repr::Obj(o) => Value::Obj(o.obj),
        }
    }

    /// Estimated heap bytes this entry owns (not counting its table slot).
    pub(crate) fn mem_usage(&self) -> usize {
        match &self.repr {
            Repr::Str(b) => alloc_size(b.len()),
            Repr::Obj(o) => {
                alloc_size(std::mem::size_of::<ObjEntry>())
                    + alloc_size(o.head.len())
                    + o.obj.mem_usage()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    #[test]
    fn header_round_trip() {
        let mut e = Entry::new(b"key", Value::Str(b"value".to_vec()), None, 0x123456);
        assert_eq!(e.key(), b"key");
        assert_eq!(e.expire_at(), None);
        assert_eq!(e.clock(), 0x123456);
        assert!(matches!(e.value(), ValueRef::Str(b"value")));
        e.set_expire(Some(1_800_000_000_000));
        assert_eq!(e.expire_at(), Some(1_800_000_000_000));
        assert!(matches!(e.value(), ValueRef::Str(b"value")));
        e.set_expire(Some(5));
        assert_eq!(e.expire_at(), Some(5));
        e.set_clock(7);
        assert_eq!(e.clock(), 7);
        e.set_expire(None);
        assert_eq!(e.expire_at(), None);
        assert_eq!(e.key(), b"key");
        let long_key = vec![b'k'; 300];
        let e = Entry::new(&long_key, Value::Str(vec![]), Some(9), 0);
        assert_eq!(e.key(), &long_key[..]);
        assert_eq!(e.expire_at(), Some(9));
    }
}
