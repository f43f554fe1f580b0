//! The sorted set type.

use std::collections::BTreeSet;

use hashbrown::HashMap;

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

/// Members with scores, ordered by (score, member).
#[derive(Debug, Clone, Default)]
pub struct ZSet {
    scores: HashMap<Box<[u8]>, f64>,
    order: BTreeSet<(Score, Box<[u8]>)>,
    bytes: usize,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.scores == other.scores
    }
}

impl ZSet {
    /// An empty sorted set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of members.
    pub fn len(&self) -> usize {
        self.scores.len()
    }
    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
    /// The encoding name `OBJECT ENCODING` reports (refined by the type's owner).
    pub fn encoding(&self) -> &'static str {
        "skiplist"
    }
    /// Estimated heap bytes.
    pub fn mem_usage(&self) -> usize {
        self.bytes
    }
    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }
    /// Sets the score of `member`; returns whether it is new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        let score = if score == 0.0 { 0.0 } else { score };
        if let Some(old) = self.scores.get_mut(member) {
            let prev = *old;
            *old = score;
            self.order.remove(&(Score(prev), Box::from(member)));
            self.order.insert((Score(score), member.into()));
            false
        } else {
            self.bytes += 2 * alloc_size(member.len()) + 64;
            self.scores.insert(member.into(), score);
            self.order.insert((Score(score), member.into()));
            true
        }
    }
    /// Removes `member`; returns whether it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove(member) {
            Some(s) => {
                self.order.remove(&(Score(s), Box::from(member)));
                self.bytes -= 2 * alloc_size(member.len()) + 64;
                true
            }
            None => false,
        }
    }
    /// Members with scores in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> {
        self.order.iter().map(|(s, m)| (&m[..], s.0))
    }
}
