//! The list type.

use std::collections::VecDeque;

use crate::entry::alloc_size;

/// A list of binary-safe elements with O(1) push and pop at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
    bytes: usize,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// The encoding name `OBJECT ENCODING` reports (refined by the type's owner).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// Estimated heap bytes.
    pub fn mem_usage(&self) -> usize {
        self.bytes + alloc_size(self.items.capacity() * std::mem::size_of::<Box<[u8]>>())
    }
    /// Adds an element at the head.
    pub fn push_front(&mut self, v: &[u8]) {
        self.bytes += alloc_size(v.len());
        self.items.push_front(v.into());
    }
    /// Adds an element at the tail.
    pub fn push_back(&mut self, v: &[u8]) {
        self.bytes += alloc_size(v.len());
        self.items.push_back(v.into());
    }
    /// Removes the head element.
    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        let v = self.items.pop_front()?;
        self.bytes -= alloc_size(v.len());
        Some(v)
    }
    /// Removes the tail element.
    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        let v = self.items.pop_back()?;
        self.bytes -= alloc_size(v.len());
        Some(v)
    }
    /// Element `i` from the head.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i).map(|b| &b[..])
    }
    /// Elements from head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|b| &b[..])
    }
}
