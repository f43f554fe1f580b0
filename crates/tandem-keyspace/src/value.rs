//! Typed values: strings and the four collection types.

use crate::{hash::Hash, list::List, set::Set, zset::ZSet};

/// An owned value, as inserted into or taken out of the keyspace.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (binary safe).
    Str(Vec<u8>),
    /// A collection.
    Obj(Object),
}

/// A collection value.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A list.
    List(List),
    /// A hash.
    Hash(Hash),
    /// A set.
    Set(Set),
    /// A sorted set.
    ZSet(ZSet),
}

/// A borrowed view of a stored value.
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    /// A string.
    Str(&'a [u8]),
    /// A collection.
    Obj(&'a Object),
}

/// The type of a value, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `string`
    Str,
    /// `list`
    List,
    /// `hash`
    Hash,
    /// `set`
    Set,
    /// `zset`
    ZSet,
}

impl Kind {
    /// The name `TYPE` replies with.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
        }
    }
}

impl Object {
    /// The type of this collection.
    pub fn kind(&self) -> Kind {
        match self {
            Object::List(_) => Kind::List,
            Object::Hash(_) => Kind::Hash,
            Object::Set(_) => Kind::Set,
            Object::ZSet(_) => Kind::ZSet,
        }
    }

    /// Number of elements (fields, members).
    pub fn len(&self) -> usize {
        match self {
            Object::List(v) => v.len(),
            Object::Hash(v) => v.len(),
            Object::Set(v) => v.len(),
            Object::ZSet(v) => v.len(),
        }
    }

    /// Whether the collection is empty (an empty collection is removed from the keyspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding name `OBJECT ENCODING` reports, as Redis 7.0 would for this
    /// collection's size (`listpack`, `quicklist`, `hashtable`, `intset`, `skiplist`).
    pub fn encoding(&self) -> &'static str {
        match self {
            Object::List(v) => v.encoding(),
            Object::Hash(v) => v.encoding(),
            Object::Set(v) => v.encoding(),
            Object::ZSet(v) => v.encoding(),
        }
    }

    /// Estimated heap bytes owned by this collection; O(1).
    pub fn mem_usage(&self) -> usize {
        match self {
            Object::List(v) => v.mem_usage(),
            Object::Hash(v) => v.mem_usage(),
            Object::Set(v) => v.mem_usage(),
            Object::ZSet(v) => v.mem_usage(),
        }
    }
}

impl Value {
    /// The type of this value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Str(_) => Kind::Str,
            Value::Obj(o) => o.kind(),
        }
    }
}

impl<'a> ValueRef<'a> {
    /// The type of this value.
    pub fn kind(&self) -> Kind {
        match self {
            ValueRef::Str(_) => Kind::Str,
            ValueRef::Obj(o) => o.kind(),
        }
    }

    /// An owned copy.
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Str(s) => Value::Str(s.to_vec()),
            ValueRef::Obj(o) => Value::Obj((*o).clone()),
        }
    }
}
