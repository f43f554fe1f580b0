//! Persistence formats for tandem: Redis's RDB snapshot (version 10, exactly as Redis
//! 7.0 writes and reads it) and Redis 7's multi-part append-only file.
//!
//! * [`rdb`] — a streaming RDB reader driven by a visitor ([`rdb::RdbVisitor`]) over a
//!   byte slice (a memory-mapped file, see [`map_file`]) or any [`std::io::Read`] (a
//!   replica reading its master's socket), and a streaming writer
//!   ([`rdb::RdbWriter`]) to any [`std::io::Write`].
//! * [`aof`] — the AOF manifest, the base file (RDB preamble or commands) and the
//!   incremental files, read command by command with exact byte offsets.
//! * [`fsutil`] — crash-safe replacement of a file (temp file, fsync, rename, fsync dir).
//! * The codecs underneath: [`crc64`], [`lzf`], [`listpack`], [`intset`] and the
//!   read-only [`ziplist`] (also zipmap).
//!
//! This crate knows nothing of the keyspace or the engine: values arrive as neutral
//! borrowed views ([`rdb::RdbValue`]) and the engine stores them as it likes.
//!
//! Invariants: readers never panic on any input, report every error with the byte
//! offset where it was found, and never allocate what a length merely claims (buffers
//! grow with the bytes actually present). The only `unsafe` is the memory map in
//! [`map_file`]. Byte layouts are documented in `docs/formats.md`.
//!
//! ```
//! use tandem_persist::rdb::{self, OwnedValue, RdbWriter, WriteOptions};
//!
//! let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
//! w.select_db(0, 1, 0).unwrap();
//! w.string(b"greeting", b"hello", &Default::default()).unwrap();
//! let bytes = w.finish().unwrap();
//!
//! let db = rdb::collect(&bytes).unwrap();
//! assert_eq!(db.entries[0].key, b"greeting");
//! assert_eq!(db.entries[0].value, OwnedValue::String(b"hello".to_vec()));
//! ```
#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![deny(clippy::host_endian_bytes)]

pub mod aof;
pub mod crc64;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod intset;
pub mod listpack;
pub mod lzf;
mod mmap;
pub mod rdb;
pub mod ziplist;

pub use mmap::map_file;

/// A structural error inside an encoded blob (listpack, ziplist, intset, zipmap):
/// the offset within the blob and what is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// Offset within the blob.
    pub pos: usize,
    /// What is wrong.
    pub what: &'static str,
}

impl FormatError {
    /// A new error at `pos`.
    pub const fn new(pos: usize, what: &'static str) -> FormatError {
        FormatError { pos, what }
    }
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {} of the blob)", self.what, self.pos)
    }
}

impl std::error::Error for FormatError {}
