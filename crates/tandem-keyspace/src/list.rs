//! The list type: a deque of packed nodes, like Redis's quicklist of listpacks.
//!
//! Elements are stored back to back in node buffers of at most [`NODE_BYTES`] live bytes,
//! each element framed by its length in front (LEB128) and behind (the same length,
//! readable from the right), so a node can be walked in both directions. A node keeps a
//! gap at the front of its buffer, so pushing and popping at the head is amortized O(1)
//! like at the tail. Compared to a deque of boxed elements this saves the 16-byte pointer
//! and the ≥32-byte allocation per element: a list of small elements costs about
//! `len + 2` bytes per element, as in Redis.
//!
//! Redis 7.0 always reports lists as `quicklist`.

use std::collections::VecDeque;

use crate::entry::alloc_size;

/// Live bytes a node may hold before a new node is started (Redis's default
/// `list-max-listpack-size -2`, 8 KB). A single larger element gets a node of its own.
pub const NODE_BYTES: usize = 8192;

/// Bytes of an unsigned LEB128 varint.
fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Bytes an element of `n` bytes takes in a node.
fn entry_len(n: usize) -> usize {
    2 * varint_len(n) + n
}

/// Writes the entry for `v` into `out`, which is exactly `entry_len(v.len())` long.
fn put_entry(out: &mut [u8], v: &[u8]) {
    let k = varint_len(v.len());
    // Front length: LEB128, low group first.
    let mut n = v.len();
    for b in out.iter_mut().take(k) {
        *b = (n as u8 & 0x7f) | if n >= 0x80 { 0x80 } else { 0 };
        n >>= 7;
    }
    out[k..k + v.len()].copy_from_slice(v);
    // Back length: low group last, the high bit marks "more bytes to the left".
    let tail = &mut out[k + v.len()..];
    let mut n = v.len();
    for i in (0..k).rev() {
        tail[i] = (n as u8 & 0x7f) | if i > 0 { 0x80 } else { 0 };
        n >>= 7;
    }
}

/// Reads the entry starting at `pos`: (data start, data length, next entry).
fn read_fwd(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut p = pos;
    loop {
        let b = buf[p];
        p += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    (p, n, p + n + (p - pos))
}

/// Reads the entry ending at `end`: (entry start, data start, data length).
fn read_back(buf: &[u8], end: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut p = end;
    loop {
        p -= 1;
        let b = buf[p];
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    let k = end - p;
    let data = p - n;
    (data - k, data, n)
}

/// One packed node: entries live in `buf[head..]`.
#[derive(Debug)]
struct Node {
    buf: Vec<u8>,
    head: usize,
    count: usize,
}

impl Node {
    fn with_entry(v: &[u8]) -> Node {
        let n = entry_len(v.len());
        let mut buf = vec![0; n];
        put_entry(&mut buf, v);
        Node {
            buf,
            head: 0,
            count: 1,
        }
    }

    fn from_live(live: &[u8], count: usize) -> Node {
        Node {
            buf: live.to_vec(),
            head: 0,
            count,
        }
    }

    fn live(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    fn live_len(&self) -> usize {
        self.buf.len() - self.head
    }

    fn cost(&self) -> usize {
        alloc_size(self.buf.capacity())
    }

    /// Gives back slack of a node that will not grow any more (a new end node started).
    fn seal(&mut self) {
        let live = self.live_len();
        if self.buf.capacity() > live + live / 16 + 16 {
            self.compact();
            self.buf.shrink_to_fit();
        }
    }

    /// Moves the live bytes to the start of the buffer.
    fn compact(&mut self) {
        if self.head > 0 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    /// Makes room for `n` more bytes at the end, with 25% slack.
    fn reserve_back(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() >= n {
            return;
        }
        if self.head >= n && self.head >= self.live_len() {
            self.compact();
            if self.buf.capacity() - self.buf.len() >= n {
                return;
            }
        }
        let extra = n.max(self.live_len() / 4 + 16);
        self.buf.reserve_exact(extra);
    }

    fn push_back(&mut self, v: &[u8]) {
        let n = entry_len(v.len());
        self.reserve_back(n);
        let at = self.buf.len();
        self.buf.resize(at + n, 0);
        put_entry(&mut self.buf[at..], v);
        self.count += 1;
    }

    fn push_front(&mut self, v: &[u8]) {
        let n = entry_len(v.len());
        if self.head < n {
            // Rebuild with a gap in front proportional to the live size.
            let live = self.live_len();
            let gap = n + (live / 2).max(16);
            let mut buf = Vec::with_capacity(gap + live);
            buf.resize(gap, 0);
            buf.extend_from_slice(self.live());
            self.buf = buf;
            self.head = gap;
        }
        self.head -= n;
        let h = self.head;
        put_entry(&mut self.buf[h..h + n], v);
        self.count += 1;
    }

    /// Replaces `range` (absolute offsets) by `n` bytes and returns them to be filled.
    fn splice(&mut self, range: std::ops::Range<usize>, n: usize) -> &mut [u8] {
        let old = range.end - range.start;
        // reserve_back may compact: keep the range relative to `head` meanwhile.
        let rel = range.start - self.head;
        if n > old {
            self.reserve_back(n - old);
        }
        let range = self.head + rel..self.head + rel + old;
        if n > old {
            let grow = n - old;
            let len = self.buf.len();
            self.buf.resize(len + grow, 0);
            self.buf.copy_within(range.end..len, range.end + grow);
        } else if n < old {
            let len = self.buf.len();
            self.buf.copy_within(range.end..len, range.start + n);
            self.buf.truncate(len - (old - n));
        }
        &mut self.buf[range.start..range.start + n]
    }

    /// Start offsets (absolute) of every entry, front to back.
    fn offsets(&self) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.count);
        let mut pos = self.head;
        while pos < self.buf.len() {
            v.push(pos);
            pos = read_fwd(&self.buf, pos).2;
        }
        v
    }

    /// Absolute start offset of entry `i` (< count).
    fn offset_of(&self, i: usize) -> usize {
        if i <= self.count / 2 {
            let mut pos = self.head;
            for _ in 0..i {
                pos = read_fwd(&self.buf, pos).2;
            }
            pos
        } else {
            let mut end = self.buf.len();
            for _ in i..self.count {
                end = read_back(&self.buf, end).0;
            }
            end
        }
    }

    fn entry_at(&self, pos: usize) -> &[u8] {
        let (d, n, _) = read_fwd(&self.buf, pos);
        &self.buf[d..d + n]
    }
}

/// A list of binary-safe elements with O(1) push and pop at both ends.
#[derive(Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    /// Σ allocation cost of the node buffers.
    bytes: usize,
}

impl Clone for List {
    fn clone(&self) -> Self {
        let nodes: VecDeque<Node> = self
            .nodes
            .iter()
            .map(|n| Node::from_live(n.live(), n.count))
            .collect();
        let bytes = nodes.iter().map(Node::cost).sum();
        List {
            nodes,
            len: self.len,
            bytes,
        }
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl<'a> FromIterator<&'a [u8]> for List {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> Self {
        let mut l = List::new();
        for v in iter {
            l.push_back(v);
        }
        l
    }
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The encoding name `OBJECT ENCODING` reports: Redis 7.0 lists are always quicklists.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    /// Estimated heap bytes; O(1).
    pub fn mem_usage(&self) -> usize {
        self.bytes + alloc_size(self.nodes.capacity() * std::mem::size_of::<Node>())
    }

    fn add_node(&mut self, front: bool, node: Node) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
        let old_end = if front {
            self.nodes.front_mut()
        } else {
            self.nodes.back_mut()
        };
        if let Some(old) = old_end {
            let before = old.cost();
            old.seal();
            self.bytes = self.bytes + old.cost() - before;
        }
        self.bytes += node.cost();
        if front {
            self.nodes.push_front(node);
        } else {
            self.nodes.push_back(node);
        }
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, v: &[u8]) {
        self.len += 1;
        let n = entry_len(v.len());
        if let Some(node) = self.nodes.front_mut() {
            if node.live_len() + n <= NODE_BYTES {
                let before = node.cost();
                node.push_front(v);
                self.bytes = self.bytes + node.cost() - before;
                return;
            }
        }
        self.add_node(true, Node::with_entry(v));
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, v: &[u8]) {
        self.len += 1;
        let n = entry_len(v.len());
        if let Some(node) = self.nodes.back_mut() {
            if node.live_len() + n <= NODE_BYTES {
                let before = node.cost();
                node.push_back(v);
                self.bytes = self.bytes + node.cost() - before;
                return;
            }
        }
        self.add_node(false, Node::with_entry(v));
    }

    /// Removes the head element, handing it to `f` (no allocation).
    pub fn pop_front_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let node = self.nodes.front_mut()?;
        let (d, n, next) = read_fwd(&node.buf, node.head);
        let r = f(&node.buf[d..d + n]);
        node.head = next;
        node.count -= 1;
        self.len -= 1;
        if node.count == 0 {
            self.drop_node(0);
        }
        Some(r)
    }

    /// Removes the tail element, handing it to `f` (no allocation).
    pub fn pop_back_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let node = self.nodes.back_mut()?;
        let (start, d, n) = read_back(&node.buf, node.buf.len());
        let r = f(&node.buf[d..d + n]);
        node.buf.truncate(start);
        node.count -= 1;
        self.len -= 1;
        if node.count == 0 {
            self.drop_node(self.nodes.len() - 1);
        }
        Some(r)
    }

    /// Removes the head element.
    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        self.pop_front_with(|v| Box::from(v))
    }

    /// Removes the tail element.
    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        self.pop_back_with(|v| Box::from(v))
    }

    fn drop_node(&mut self, i: usize) {
        if let Some(node) = self.nodes.remove(i) {
            self.bytes -= node.cost();
        }
        if self.nodes.is_empty() {
            self.nodes = VecDeque::new();
        } else if self.nodes.capacity() > 16 && self.nodes.len() * 4 < self.nodes.capacity() {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
    }

    /// The node holding element `i` (< len) and `i`'s index within it.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut rest = i;
            for (ni, node) in self.nodes.iter().enumerate() {
                if rest < node.count {
                    return (ni, rest);
                }
                rest -= node.count;
            }
        } else {
            let mut after = self.len - i; // elements from i to the end
            for (ni, node) in self.nodes.iter().enumerate().rev() {
                if after <= node.count {
                    return (ni, node.count - after);
                }
                after -= node.count;
            }
        }
        unreachable!("index checked against len")
    }

    /// Element `i` from the head.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let (ni, k) = self.locate(i);
        let node = &self.nodes[ni];
        Some(node.entry_at(node.offset_of(k)))
    }

    /// Replaces element `i`; returns false if `i` is out of range.
    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        if i >= self.len {
            return false;
        }
        let (ni, k) = self.locate(i);
        let node = &mut self.nodes[ni];
        let before = node.cost();
        let pos = node.offset_of(k);
        let end = read_fwd(&node.buf, pos).2;
        let slot = node.splice(pos..end, entry_len(v.len()));
        put_entry(slot, v);
        self.bytes = self.bytes + node.cost() - before;
        self.split_if_big(ni);
        true
    }

    /// Inserts `v` so that it becomes element `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        if i == 0 {
            return self.push_front(v);
        }
        if i >= self.len {
            return self.push_back(v);
        }
        let (ni, k) = self.locate(i);
        let node = &mut self.nodes[ni];
        let before = node.cost();
        let pos = node.offset_of(k);
        let slot = node.splice(pos..pos, entry_len(v.len()));
        put_entry(slot, v);
        node.count += 1;
        self.len += 1;
        self.bytes = self.bytes + node.cost() - before;
        self.split_if_big(ni);
    }

    /// Splits node `ni` in two if it grew past the node size.
    fn split_if_big(&mut self, ni: usize) {
        let node = &self.nodes[ni];
        if node.live_len() <= NODE_BYTES || node.count < 2 {
            return;
        }
        let offs = node.offsets();
        let half = offs.len() / 2;
        let cut = offs[half];
        let left = Node::from_live(&node.buf[node.head..cut], half);
        let right = Node::from_live(&node.buf[cut..], node.count - half);
        let old = node.cost();
        self.bytes = self.bytes - old + left.cost() + right.cost();
        self.nodes[ni] = left;
        self.nodes.insert(ni + 1, right);
    }

    /// Index of the first element equal to `v`.
    pub fn position(&self, v: &[u8]) -> Option<usize> {
        self.iter().position(|e| e == v)
    }

    /// Removes elements equal to `v` (LREM): up to `count` from the head if `count > 0`,
    /// up to `-count` from the tail if `count < 0`, all if 0. Returns how many.
    pub fn remove_value(&mut self, v: &[u8], count: i64) -> usize {
        let from_tail = count < 0;
        let mut left = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs().min(usize::MAX as u64) as usize
        };
        let mut removed = 0;
        let order: Vec<usize> = if from_tail {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        let mut emptied = Vec::new();
        for ni in order {
            if left == 0 {
                break;
            }
            let node = &self.nodes[ni];
            let offs = node.offsets();
            let mut hit = vec![false; offs.len()];
            let mut nhit = 0;
            let idx: Box<dyn Iterator<Item = usize>> = if from_tail {
                Box::new((0..offs.len()).rev())
            } else {
                Box::new(0..offs.len())
            };
            for k in idx {
                if left == 0 {
                    break;
                }
                if node.entry_at(offs[k]) == v {
                    hit[k] = true;
                    nhit += 1;
                    left -= 1;
                }
            }
            if nhit == 0 {
                continue;
            }
            let mut live = Vec::with_capacity(node.live_len());
            for (k, &o) in offs.iter().enumerate() {
                if !hit[k] {
                    let end = read_fwd(&node.buf, o).2;
                    live.extend_from_slice(&node.buf[o..end]);
                }
            }
            let count = node.count - nhit;
            let fresh = Node::from_live(&live, count);
            self.bytes = self.bytes - node.cost() + fresh.cost();
            self.nodes[ni] = fresh;
            self.len -= nhit;
            removed += nhit;
            if count == 0 {
                emptied.push(ni);
            }
        }
        emptied.sort_unstable();
        for ni in emptied.into_iter().rev() {
            self.drop_node(ni);
        }
        removed
    }

    /// Removes the first `n` elements.
    pub fn remove_front(&mut self, mut n: usize) {
        n = n.min(self.len);
        while n > 0 {
            let Some(node) = self.nodes.front_mut() else {
                break;
            };
            if node.count <= n {
                n -= node.count;
                self.len -= node.count;
                self.drop_node(0);
            } else {
                let pos = node.offset_of(n);
                node.head = pos;
                node.count -= n;
                self.len -= n;
                let before = node.cost();
                if node.head > node.live_len() {
                    node.compact();
                    node.buf.shrink_to(node.buf.len() + node.buf.len() / 4);
                }
                self.bytes = self.bytes + node.cost() - before;
                n = 0;
            }
        }
    }

    /// Removes the last `n` elements.
    pub fn remove_back(&mut self, mut n: usize) {
        n = n.min(self.len);
        while n > 0 {
            let Some(node) = self.nodes.back_mut() else {
                break;
            };
            if node.count <= n {
                n -= node.count;
                self.len -= node.count;
                let last = self.nodes.len() - 1;
                self.drop_node(last);
            } else {
                let keep = node.count - n;
                let pos = node.offset_of(keep);
                let before = node.cost();
                node.buf.truncate(pos);
                node.count = keep;
                self.len -= n;
                if node.buf.capacity() > 2 * node.buf.len() + 64 {
                    node.buf.shrink_to(node.buf.len() + node.buf.len() / 4);
                }
                self.bytes = self.bytes + node.cost() - before;
                n = 0;
            }
        }
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        *self = List::new();
    }

    /// Elements from head to tail.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            front: (0, self.nodes.front().map_or(0, |n| n.head)),
            back: (
                self.nodes.len().saturating_sub(1),
                self.nodes.back().map_or(0, |n| n.buf.len()),
            ),
            remaining: self.len,
        }
    }

    /// Elements from index `start` (clamped) towards the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter {
                list: self,
                front: (0, 0),
                back: (0, 0),
                remaining: 0,
            };
        }
        let (ni, k) = self.locate(start);
        let mut it = self.iter();
        it.front = (ni, self.nodes[ni].offset_of(k));
        it.remaining = self.len - start;
        it
    }

    /// Elements from the head to index `end` (clamped, inclusive); `.rev()` walks them
    /// from `end` towards the head.
    pub fn iter_until(&self, end: usize) -> Iter<'_> {
        if self.len == 0 {
            return self.iter();
        }
        let end = end.min(self.len - 1);
        let (ni, k) = self.locate(end);
        let node = &self.nodes[ni];
        let pos = node.offset_of(k);
        let mut it = self.iter();
        it.back = (ni, read_fwd(&node.buf, pos).2);
        it.remaining = end + 1;
        it
    }
}

/// Iterator over a list's elements (both directions).
pub struct Iter<'a> {
    list: &'a List,
    front: (usize, usize),
    back: (usize, usize),
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        let (mut ni, mut pos) = self.front;
        while pos >= nodes[ni].buf.len() {
            ni += 1;
            pos = nodes[ni].head;
        }
        let buf = &nodes[ni].buf;
        let (d, n, next) = read_fwd(buf, pos);
        self.front = (ni, next);
        self.remaining -= 1;
        Some(&buf[d..d + n])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        let (mut ni, mut end) = self.back;
        while end <= nodes[ni].head {
            ni -= 1;
            end = nodes[ni].buf.len();
        }
        let buf = &nodes[ni].buf;
        let (start, d, n) = read_back(buf, end);
        self.back = (ni, start);
        self.remaining -= 1;
        Some(&buf[d..d + n])
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_check(l: &List, m: &std::collections::VecDeque<Vec<u8>>) {
        assert_eq!(l.len(), m.len());
        let a: Vec<&[u8]> = l.iter().collect();
        let b: Vec<&[u8]> = m.iter().map(|v| &v[..]).collect();
        assert_eq!(a, b);
        let a: Vec<&[u8]> = l.iter().rev().collect();
        let b: Vec<&[u8]> = m.iter().rev().map(|v| &v[..]).collect();
        assert_eq!(a, b);
        for (i, v) in m.iter().enumerate() {
            assert_eq!(l.get(i), Some(&v[..]));
        }
        let bytes: usize = l.nodes.iter().map(Node::cost).sum();
        assert_eq!(bytes, l.bytes);
        assert_eq!(l.nodes.iter().map(|n| n.count).sum::<usize>(), l.len);
        assert!(l.nodes.iter().all(|n| n.count > 0));
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn entry_framing_round_trips() {
        for n in [0, 1, 127, 128, 300, 16383, 16384, 70000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut buf = vec![0; entry_len(n)];
            put_entry(&mut buf, &v);
            let (d, len, next) = read_fwd(&buf, 0);
            assert_eq!((&buf[d..d + len], next), (&v[..], buf.len()));
            let (start, d, len) = read_back(&buf, buf.len());
            assert_eq!((start, &buf[d..d + len]), (0, &v[..]));
        }
    }

    #[test]
    fn random_operations_match_a_model() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        let mut l = List::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..20000 {
            let sz = match rng.next() % 10 {
                0 => (rng.next() % 9000) as usize,
                1..=3 => (rng.next() % 200) as usize,
                _ => (rng.next() % 8) as usize,
            };
            let v: Vec<u8> = (0..sz).map(|i| (i as u64 + step) as u8 % 4).collect();
            match rng.next() % 12 {
                0 | 1 => {
                    l.push_front(&v);
                    m.push_front(v);
                }
                2 | 3 => {
                    l.push_back(&v);
                    m.push_back(v);
                }
                4 => assert_eq!(l.pop_front().map(Vec::from), m.pop_front()),
                5 => assert_eq!(l.pop_back().map(Vec::from), m.pop_back()),
                6 if !m.is_empty() => {
                    let i = (rng.next() as usize) % m.len();
                    assert!(l.set(i, &v));
                    m[i] = v;
                }
                7 => {
                    let i = (rng.next() as usize) % (m.len() + 1);
                    l.insert(i, &v);
                    m.insert(i, v);
                }
                8 if !m.is_empty() => {
                    let n = (rng.next() as usize) % (m.len() / 4 + 2);
                    l.remove_front(n);
                    m.drain(..n.min(m.len()));
                    let n = (rng.next() as usize) % (m.len() / 4 + 2);
                    l.remove_back(n);
                    let keep = m.len().saturating_sub(n);
                    m.truncate(keep);
                }
                9 if !m.is_empty() => {
                    let i = (rng.next() as usize) % m.len();
                    let target = m[i].clone();
                    let count = (rng.next() % 5) as i64 - 2;
                    let got = l.remove_value(&target, count);
                    let mut want = 0;
                    let limit = if count == 0 {
                        usize::MAX
                    } else {
                        count.unsigned_abs() as usize
                    };
                    if count >= 0 {
                        let mut k = 0;
                        while k < m.len() {
                            if want < limit && m[k] == target {
                                m.remove(k);
                                want += 1;
                            } else {
                                k += 1;
                            }
                        }
                    } else {
                        let mut k = m.len();
                        while k > 0 {
                            k -= 1;
                            if want < limit && m[k] == target {
                                m.remove(k);
                                want += 1;
                            }
                        }
                    }
                    assert_eq!(got, want);
                }
                _ => {}
            }
            if step % 500 == 0 {
                model_check(&l, &m);
                let c = l.clone();
                assert_eq!(c, l);
            }
            if !m.is_empty() && step % 97 == 0 {
                let s = (rng.next() as usize) % m.len();
                let a: Vec<&[u8]> = l.iter_from(s).collect();
                let b: Vec<&[u8]> = m.iter().skip(s).map(|v| &v[..]).collect();
                assert_eq!(a, b);
                let a: Vec<&[u8]> = l.iter_until(s).rev().collect();
                let b: Vec<&[u8]> = m.iter().take(s + 1).rev().map(|v| &v[..]).collect();
                assert_eq!(a, b);
            }
        }
        model_check(&l, &m);
        while l.pop_back().is_some() {}
        assert_eq!(l.mem_usage(), 0);
    }

    #[test]
    fn small_elements_are_compact() {
        let mut l = List::new();
        for i in 0..100_000u32 {
            l.push_front(format!("{:08}", i).as_bytes());
        }
        // 8 data bytes + 2 framing bytes per element, plus slack.
        let per = l.mem_usage() as f64 / 100_000.0;
        assert!(per < 13.0, "{per} bytes per element");
        let mut l = List::new();
        for i in 0..100_000u32 {
            l.push_back(format!("{:08}", i).as_bytes());
        }
        let per = l.mem_usage() as f64 / 100_000.0;
        assert!(per < 13.0, "{per} bytes per element");
        assert_eq!(l.get(54321), Some(&b"00054321"[..]));
    }
}
