//! The hash type.

use hashbrown::HashMap;

use crate::entry::alloc_size;

/// A map of binary-safe fields to binary-safe values.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    map: HashMap<Box<[u8]>, Box<[u8]>>,
    bytes: usize,
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl Hash {
    /// An empty hash.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// The encoding name `OBJECT ENCODING` reports (refined by the type's owner).
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
    /// Estimated heap bytes.
    pub fn mem_usage(&self) -> usize {
        self.bytes
            + alloc_size(self.map.capacity() * (std::mem::size_of::<(Box<[u8]>, Box<[u8]>)>() + 1))
    }
    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.map.get(field).map(|v| &v[..])
    }
    /// Sets `field`; returns whether it is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.bytes += alloc_size(value.len());
        if let Some(old) = self.map.get_mut(field) {
            self.bytes -= alloc_size(old.len());
            *old = value.into();
            false
        } else {
            self.bytes += alloc_size(field.len());
            self.map.insert(field.into(), value.into());
            true
        }
    }
    /// Removes `field`; returns whether it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.map.remove(field) {
            Some(v) => {
                self.bytes -= alloc_size(v.len()) + alloc_size(field.len());
                true
            }
            None => false,
        }
    }
    /// All field/value pairs, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.map.iter().map(|(k, v)| (&k[..], &v[..]))
    }
}
