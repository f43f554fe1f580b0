//! Redis RDB files, version 10, as Redis 7.0 writes and reads them.
//!
//! File: `REDIS0010`, AUX fields, FUNCTION2 records, then per non-empty database
//! `SELECTDB` + `RESIZEDB` + entries, then `EOF` (`0xFF`) and the CRC-64 of everything
//! before it, little endian (0 when written with `rdbchecksum no`).
//!
//! * [`read_slice`] / [`read_from`] parse a file and drive an [`RdbVisitor`].
//! * [`RdbWriter`] writes one, choosing the object encodings Redis 7.0 would.
//!
//! The reader accepts every encoding Redis 7.0 loads (versions 1 to 10): plain
//! list/set/hash/zset, zipmap, ziplists, intsets, quicklists of ziplists or listpacks,
//! listpack hashes and sorted sets. Streams (types 15 and 19) are parsed completely
//! and reported through [`RdbVisitor::skipped`], since tandem has no stream type.
//! Module values and module AUX data are errors. Empty collections are skipped (Redis
//! does the same) and reported too.

mod read;
mod value;
mod write;

pub use read::{
    collect, read_file, read_from, read_slice, Checksum, Collected, CollectedEntry, RdbSummary,
    ReadOptions,
};
pub use value::{fmt_i64, Elements, OwnedValue, Pairs, RdbValue, ScoredMembers, Str};
pub use write::{
    AsElem, AuxFields, EncodingLimits, KeyMeta, RdbWriter, ReplAux, WriteError, WriteOptions,
};

use std::fmt;

/// The RDB version this crate writes and the highest it reads.
pub const RDB_VERSION: u32 = 10;

/// Opcodes (bytes that are not value types).
pub mod opcode {
    /// `FUNCTION2`: a function library's source.
    pub const FUNCTION2: u8 = 0xF5;
    /// The pre-release 7.0 function format (rejected, as Redis 7.0 does).
    pub const FUNCTION_PRE_GA: u8 = 0xF6;
    /// Module AUX data.
    pub const MODULE_AUX: u8 = 0xF7;
    /// LRU idle time of the next key, in seconds.
    pub const IDLE: u8 = 0xF8;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 0xF9;
    /// An AUX field.
    pub const AUX: u8 = 0xFA;
    /// Database sizes hint.
    pub const RESIZEDB: u8 = 0xFB;
    /// Expire time of the next key, in milliseconds (int64 LE).
    pub const EXPIRETIME_MS: u8 = 0xFC;
    /// Expire time of the next key, in seconds (int32 LE; load only).
    pub const EXPIRETIME: u8 = 0xFD;
    /// Database selector.
    pub const SELECTDB: u8 = 0xFE;
    /// End of file.
    pub const EOF: u8 = 0xFF;
}

/// Value type bytes.
pub mod rtype {
    /// String.
    pub const STRING: u8 = 0;
    /// Linked list (load only).
    pub const LIST: u8 = 1;
    /// Set as a hash table.
    pub const SET: u8 = 2;
    /// Sorted set with string scores (load only).
    pub const ZSET: u8 = 3;
    /// Hash as a hash table.
    pub const HASH: u8 = 4;
    /// Sorted set with binary scores.
    pub const ZSET_2: u8 = 5;
    /// Module value, pre-release format.
    pub const MODULE_PRE_GA: u8 = 6;
    /// Module value.
    pub const MODULE_2: u8 = 7;
    /// Hash as a zipmap (load only).
    pub const HASH_ZIPMAP: u8 = 9;
    /// List as a ziplist (load only).
    pub const LIST_ZIPLIST: u8 = 10;
    /// Set as an intset.
    pub const SET_INTSET: u8 = 11;
    /// Sorted set as a ziplist (load only).
    pub const ZSET_ZIPLIST: u8 = 12;
    /// Hash as a ziplist (load only).
    pub const HASH_ZIPLIST: u8 = 13;
    /// Quicklist of ziplists (load only).
    pub const LIST_QUICKLIST: u8 = 14;
    /// Stream, version 1 (skipped).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// Hash as a listpack.
    pub const HASH_LISTPACK: u8 = 16;
    /// Sorted set as a listpack.
    pub const ZSET_LISTPACK: u8 = 17;
    /// Quicklist of listpack (or plain) nodes.
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// Stream, version 2 (skipped).
    pub const STREAM_LISTPACKS_2: u8 = 19;

    /// The name redis-check-rdb uses for a type byte.
    pub fn name(t: u8) -> &'static str {
        match t {
            STRING => "string",
            LIST => "list-linked",
            SET => "set-hashtable",
            ZSET => "zset-v1",
            HASH => "hash-hashtable",
            ZSET_2 => "zset-v2",
            MODULE_PRE_GA => "module-pre-release",
            MODULE_2 => "module-value",
            HASH_ZIPMAP => "hash-zipmap",
            LIST_ZIPLIST => "list-ziplist",
            SET_INTSET => "set-intset",
            ZSET_ZIPLIST => "zset-ziplist",
            HASH_ZIPLIST => "hash-ziplist",
            LIST_QUICKLIST => "quicklist",
            STREAM_LISTPACKS => "stream",
            HASH_LISTPACK => "hash-listpack",
            ZSET_LISTPACK => "zset-listpack",
            LIST_QUICKLIST_2 => "quicklist-v2",
            STREAM_LISTPACKS_2 => "stream-v2",
            _ => "unknown",
        }
    }
}

/// One key and its value, as handed to [`RdbVisitor::entry`].
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// The database selected by the last `SELECTDB` (0 before any).
    pub db: u64,
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: RdbValue<'a>,
    /// Absolute expire time in Unix milliseconds, if the key has one. Keys already
    /// expired are still reported: whether to load them is the caller's choice (Redis
    /// drops them on a master, keeps them on a replica).
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (`IDLE` opcode).
    pub lru_idle: Option<u64>,
    /// LFU counter (`FREQ` opcode).
    pub lfu_freq: Option<u8>,
    /// The value's type byte in the file (its encoding), see [`rtype`].
    pub rdb_type: u8,
    /// Offset of the entry's first byte (its first opcode) in the file.
    pub offset: u64,
}

/// Why an entry was not handed to [`RdbVisitor::entry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A stream (tandem has no stream type); `entries` is its length.
    Stream {
        /// Number of entries in the stream.
        entries: u64,
    },
    /// A collection with no elements (Redis skips those too).
    Empty,
}

/// A key the reader parsed but did not hand to [`RdbVisitor::entry`].
#[derive(Clone, Copy, Debug)]
pub struct Skipped<'a> {
    /// Database.
    pub db: u64,
    /// The key.
    pub key: &'a [u8],
    /// Why.
    pub reason: SkipReason,
    /// Type byte in the file.
    pub rdb_type: u8,
    /// Expire time, if any.
    pub expire_ms: Option<i64>,
    /// Offset of the entry.
    pub offset: u64,
}

/// An error raised by a visitor, which stops the parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitError(pub String);

impl fmt::Display for VisitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VisitError {}

impl From<&str> for VisitError {
    fn from(s: &str) -> Self {
        VisitError(s.to_string())
    }
}

impl From<String> for VisitError {
    fn from(s: String) -> Self {
        VisitError(s)
    }
}

/// Receives what the reader finds, in file order. Every method but [`entry`] has a
/// default that ignores its input; an `Err` stops the parse with that error.
///
/// [`entry`]: RdbVisitor::entry
pub trait RdbVisitor {
    /// An AUX field (`redis-ver`, `ctime`, `repl-id`, …); integer values arrive as
    /// their decimal text.
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        let _ = (key, value);
        Ok(())
    }
    /// A function library (`FUNCTION2`), its source code.
    fn function(&mut self, code: &[u8]) -> Result<(), VisitError> {
        let _ = code;
        Ok(())
    }
    /// `SELECTDB`: the following entries belong to `db`.
    fn select_db(&mut self, db: u64) -> Result<(), VisitError> {
        let _ = db;
        Ok(())
    }
    /// `RESIZEDB`: a hint of how many keys (and keys with a TTL) follow.
    fn resize_db(&mut self, keys: u64, expires: u64) -> Result<(), VisitError> {
        let _ = (keys, expires);
        Ok(())
    }
    /// One key with its value.
    fn entry(&mut self, entry: Entry<'_>) -> Result<(), VisitError>;
    /// A key that was parsed but not loaded (a stream, an empty collection).
    fn skipped(&mut self, skipped: Skipped<'_>) -> Result<(), VisitError> {
        let _ = skipped;
        Ok(())
    }
}

/// What went wrong reading an RDB file.
#[derive(Debug)]
#[non_exhaustive]
pub enum RdbErrorKind {
    /// The underlying reader failed.
    Io(std::io::Error),
    /// The input ended in the middle of something.
    UnexpectedEof,
    /// The file does not start with `REDIS`.
    BadMagic,
    /// A version this reader does not handle (above 10, or not a number).
    UnsupportedVersion(u32),
    /// A length with an unknown encoding byte.
    BadLength(u8),
    /// A special string encoding other than int8/16/32 and LZF.
    UnknownStringEncoding(u8),
    /// An integer-encoded string where a length was expected.
    EncodedLength,
    /// A value type byte Redis 7.0 does not know.
    UnknownType(u8),
    /// Module values or module AUX data, which tandem cannot load.
    Module,
    /// The pre-release function format.
    PreReleaseFunction,
    /// LZF data that does not decompress to its declared length.
    Lzf(crate::lzf::LzfError),
    /// An LZF string declaring a length no compressed data of that size can produce.
    LzfTooLarge,
    /// A structural error in a value (listpack, ziplist, intset, zipmap, stream …).
    Corrupt(&'static str),
    /// The stored checksum differs from the computed one.
    Checksum {
        /// CRC-64 computed over the file.
        computed: u64,
        /// CRC-64 stored at its end.
        stored: u64,
    },
    /// The visitor stopped the parse.
    Visitor(VisitError),
}

impl fmt::Display for RdbErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbErrorKind::Io(e) => write!(f, "I/O error: {e}"),
            RdbErrorKind::UnexpectedEof => f.write_str("unexpected end of file"),
            RdbErrorKind::BadMagic => f.write_str("wrong signature trying to load DB from file"),
            RdbErrorKind::UnsupportedVersion(v) => write!(f, "can't handle RDB format version {v}"),
            RdbErrorKind::BadLength(b) => write!(f, "unknown length encoding 0x{b:02x}"),
            RdbErrorKind::UnknownStringEncoding(b) => {
                write!(f, "unknown RDB string encoding type {b}")
            }
            RdbErrorKind::EncodedLength => {
                f.write_str("integer-encoded value where a length was expected")
            }
            RdbErrorKind::UnknownType(t) => write!(f, "unknown RDB encoding type {t}"),
            RdbErrorKind::Module => f.write_str("module data is not supported"),
            RdbErrorKind::PreReleaseFunction => {
                f.write_str("pre-release function format not supported")
            }
            RdbErrorKind::Lzf(e) => write!(f, "invalid LZF compressed string: {e}"),
            RdbErrorKind::LzfTooLarge => {
                f.write_str("invalid LZF compressed string: declared length too large")
            }
            RdbErrorKind::Corrupt(what) => f.write_str(what),
            RdbErrorKind::Checksum { computed, stored } => write!(
                f,
                "wrong RDB checksum expected: ({computed:x}) got ({stored:x})"
            ),
            RdbErrorKind::Visitor(e) => write!(f, "{e}"),
        }
    }
}

/// An error reading an RDB file: what and where.
#[derive(Debug)]
pub struct RdbError {
    /// Byte offset in the file where the problem was found.
    pub offset: u64,
    /// What is wrong.
    pub kind: RdbErrorKind,
    /// The key being read, if the error is inside an entry.
    pub key: Option<Vec<u8>>,
    /// The type byte of the entry being read, if any.
    pub rdb_type: Option<u8>,
}

impl RdbError {
    pub(crate) fn new(offset: u64, kind: RdbErrorKind) -> RdbError {
        RdbError {
            offset,
            kind,
            key: None,
            rdb_type: None,
        }
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RDB error at offset {}: {}", self.offset, self.kind)?;
        if let Some(k) = &self.key {
            write!(f, " (reading key '{}'", k.escape_ascii())?;
            if let Some(t) = self.rdb_type {
                write!(f, ", type {t} {}", rtype::name(t))?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for RdbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RdbErrorKind::Io(e) => Some(e),
            RdbErrorKind::Visitor(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
