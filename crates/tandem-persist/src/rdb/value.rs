//! Neutral views of RDB values, borrowed from the input (or from the reader's scratch
//! space for LZF-compressed data), handed to the visitor without per-element allocation.

use std::fmt;

/// Formats `v` in decimal into `buf`, returning the digits.
pub use tandem_resp::encode::format_i64 as fmt_i64;

/// A string element: bytes, or an integer the file stored in integer form (its string
/// form is the canonical decimal, as Redis would reply it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Str<'a> {
    /// Raw bytes.
    Bytes(&'a [u8]),
    /// An integer-encoded string.
    Int(i64),
}

impl<'a> Str<'a> {
    /// The string's bytes, formatting an integer into `buf`.
    pub fn as_bytes<'b>(&self, buf: &'b mut [u8; 20]) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Str::Bytes(b) => b,
            Str::Int(v) => fmt_i64(v, buf),
        }
    }
    /// Appends the string's bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            Str::Bytes(b) => out.extend_from_slice(b),
            Str::Int(v) => out.extend_from_slice(fmt_i64(v, &mut [0; 20])),
        }
    }
    /// The string as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }
    /// Length of the string form.
    pub fn len(&self) -> usize {
        match *self {
            Str::Bytes(b) => b.len(),
            Str::Int(v) => fmt_i64(v, &mut [0; 20]).len(),
        }
    }
    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value as an integer when the file stored it as one.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Str::Int(v) => Some(v),
            Str::Bytes(_) => None,
        }
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Str::Bytes(b) => write!(f, "{}", b.escape_ascii()),
            Str::Int(v) => write!(f, "{v}"),
        }
    }
}

/// Where a decoded piece lives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Atom {
    /// `input[start..start + len]`
    In(usize, usize),
    /// `arena[start..start + len]` (decompressed data)
    Ar(usize, usize),
    /// An integer element.
    Int(i64),
    /// A score.
    Num(f64),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Store<'a> {
    pub input: &'a [u8],
    pub arena: &'a [u8],
}

impl<'a> Store<'a> {
    #[inline]
    pub fn str(&self, a: Atom) -> Str<'a> {
        match a {
            Atom::In(s, l) => Str::Bytes(&self.input[s..s + l]),
            Atom::Ar(s, l) => Str::Bytes(&self.arena[s..s + l]),
            Atom::Int(v) => Str::Int(v),
            Atom::Num(_) => Str::Bytes(b""),
        }
    }
    #[inline]
    pub fn num(&self, a: Atom) -> f64 {
        match a {
            Atom::Num(v) => v,
            _ => 0.0,
        }
    }
}

/// The elements of a list or set, in file order.
#[derive(Clone, Copy)]
pub struct Elements<'a> {
    pub(crate) store: Store<'a>,
    pub(crate) atoms: &'a [Atom],
}

impl<'a> Elements<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }
    /// The elements in order.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = Str<'a>> + DoubleEndedIterator + Clone + 'a {
        let store = self.store;
        self.atoms.iter().map(move |&a| store.str(a))
    }
}

impl fmt::Debug for Elements<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The field/value pairs of a hash, in file order.
#[derive(Clone, Copy)]
pub struct Pairs<'a> {
    pub(crate) store: Store<'a>,
    pub(crate) atoms: &'a [Atom],
}

impl<'a> Pairs<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.atoms.len() / 2
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.atoms.len() < 2
    }
    /// `(field, value)` in order.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (Str<'a>, Str<'a>)> + DoubleEndedIterator + Clone + 'a {
        let store = self.store;
        self.atoms
            .chunks_exact(2)
            .map(move |c| (store.str(c[0]), store.str(c[1])))
    }
}

impl fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The members and scores of a sorted set, in file order (ascending for listpacks,
/// usually descending for the skiplist form).
#[derive(Clone, Copy)]
pub struct ScoredMembers<'a> {
    pub(crate) store: Store<'a>,
    pub(crate) atoms: &'a [Atom],
}

impl<'a> ScoredMembers<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.atoms.len() / 2
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.atoms.len() < 2
    }
    /// `(member, score)` in file order.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (Str<'a>, f64)> + DoubleEndedIterator + Clone + 'a {
        let store = self.store;
        self.atoms
            .chunks_exact(2)
            .map(move |c| (store.str(c[0]), store.num(c[1])))
    }
}

impl fmt::Debug for ScoredMembers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A value as the visitor sees it: the logical type, whatever the file's encoding.
#[derive(Clone, Copy, Debug)]
pub enum RdbValue<'a> {
    /// A string.
    String(Str<'a>),
    /// A list, head first.
    List(Elements<'a>),
    /// A set.
    Set(Elements<'a>),
    /// A hash.
    Hash(Pairs<'a>),
    /// A sorted set.
    ZSet(ScoredMembers<'a>),
}

impl RdbValue<'_> {
    /// The Redis type name (`TYPE` reply).
    pub fn type_name(&self) -> &'static str {
        match self {
            RdbValue::String(_) => "string",
            RdbValue::List(_) => "list",
            RdbValue::Set(_) => "set",
            RdbValue::Hash(_) => "hash",
            RdbValue::ZSet(_) => "zset",
        }
    }
    /// Number of elements (1 for a string).
    pub fn len(&self) -> usize {
        match self {
            RdbValue::String(_) => 1,
            RdbValue::List(e) | RdbValue::Set(e) => e.len(),
            RdbValue::Hash(p) => p.len(),
            RdbValue::ZSet(z) => z.len(),
        }
    }
    /// Whether a collection has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies the value out of the reader's buffers.
    pub fn to_owned(&self) -> OwnedValue {
        match self {
            RdbValue::String(s) => OwnedValue::String(s.to_vec()),
            RdbValue::List(e) => OwnedValue::List(e.iter().map(|s| s.to_vec()).collect()),
            RdbValue::Set(e) => OwnedValue::Set(e.iter().map(|s| s.to_vec()).collect()),
            RdbValue::Hash(p) => {
                OwnedValue::Hash(p.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
            }
            RdbValue::ZSet(z) => OwnedValue::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        }
    }
}

/// An owned value (tests, tools, small embedders).
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// A string.
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set, in file order.
    Set(Vec<Vec<u8>>),
    /// A hash, in file order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A sorted set, in file order.
    ZSet(Vec<(Vec<u8>, f64)>),
}

impl OwnedValue {
    /// The Redis type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            OwnedValue::String(_) => "string",
            OwnedValue::List(_) => "list",
            OwnedValue::Set(_) => "set",
            OwnedValue::Hash(_) => "hash",
            OwnedValue::ZSet(_) => "zset",
        }
    }
    /// The value with sets, hashes and sorted sets put in a canonical order (sets and
    /// hashes by bytes, sorted sets by score then member), for comparisons.
    pub fn normalized(mut self) -> OwnedValue {
        match &mut self {
            OwnedValue::Set(v) => v.sort(),
            OwnedValue::Hash(v) => v.sort(),
            OwnedValue::ZSet(v) => {
                v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
            }
            _ => {}
        }
        self
    }
}
