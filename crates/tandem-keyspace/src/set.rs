//! The set type.

use hashbrown::HashSet;

use crate::entry::alloc_size;

/// An unordered set of distinct binary-safe members.
#[derive(Debug, Clone, Default)]
pub struct Set {
    members: HashSet<Box<[u8]>>,
    bytes: usize,
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.members == other.members
    }
}

impl Set {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }
    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// The encoding name `OBJECT ENCODING` reports (refined by the type's owner).
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
    /// Estimated heap bytes.
    pub fn mem_usage(&self) -> usize {
        self.bytes + alloc_size(self.members.capacity() * (std::mem::size_of::<Box<[u8]>>() + 1))
    }
    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.members.contains(m)
    }
    /// Adds `m`; returns whether it is new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        if self.members.contains(m) {
            return false;
        }
        self.bytes += alloc_size(m.len());
        self.members.insert(m.into());
        true
    }
    /// Removes `m`; returns whether it was present.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        if self.members.remove(m) {
            self.bytes -= alloc_size(m.len());
            true
        } else {
            false
        }
    }
    /// All members, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.iter().map(|m| &m[..])
    }
}
