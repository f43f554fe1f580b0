//! The replication log: the single order of writes of a tandem node.
//!
//! # What an offset is
//!
//! The log is a stream of RESP commands. Its **offset** (`master_repl_offset`) is the
//! number of bytes ever appended under the current history, exactly as Redis counts
//! them, so a Redis replica and a tandem replica agree on every offset. A byte's own
//! offset is 1-based: the first byte of the stream has offset 1. Internally positions are
//! 0-based (`pos = offset - 1` names a byte, `pos = offset` is "everything up to and
//! including byte `offset`"), and readers hold the position of the next byte they want.
//!
//! # Backlog and retention
//!
//! The log keeps the last `backlog_size` bytes (Redis's `repl-backlog-size`), and more
//! while a registered [`Reader`] still needs them (a replica being fed, the AOF writer),
//! like Redis 7's shared replication buffer: one copy of the stream serves the backlog
//! and every replica's output. A reader that falls further behind than its limit
//! (`client-output-buffer-limit replica`) is cut off: its next read reports
//! [`ReadError::Overflow`] and the log stops keeping bytes for it.
//!
//! Bytes are appended to a growing tail buffer; when a reader asks for data the tail is
//! sealed into an immutable, shared chunk, so readers receive `Bytes` handles and never
//! copy the stream.
//!
//! # Histories (PSYNC2)
//!
//! The log carries `replid` (the history it continues) and `replid2`/`second_offset` (the
//! history it continued before a promotion, valid up to that offset), and decides
//! whether a `PSYNC <replid> <offset>` can be served from the backlog
//! ([`Log::psync`]).
//!
//! # Locking
//!
//! One mutex guards the log. Writers append while holding the shard locks of the keys
//! they changed (see tandem-engine), so the order in the log is the order in which the
//! changes were applied; readers take the mutex briefly to clone chunk handles.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use parking_lot::{Condvar, Mutex};
use tandem_resp::encode;

/// A replication id: 40 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplId([u8; 40]);

impl ReplId {
    /// The all-zero id (`master_replid2` when there is no previous history).
    pub const ZERO: ReplId = ReplId([b'0'; 40]);

    /// A fresh random id.
    pub fn random() -> ReplId {
        use std::collections::hash_map::RandomState;
        use std::hash::{BuildHasher, Hasher};
        let mut out = [b'0'; 40];
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, chunk) in out.chunks_mut(16).enumerate() {
            let mut h = RandomState::new().build_hasher();
            h.write_u128(seed);
            h.write_usize(i);
            h.write_u32(std::process::id());
            let v = h.finish();
            for (j, b) in chunk.iter_mut().enumerate() {
                let nib = (v >> (j * 4)) & 0xf;
                *b = b"0123456789abcdef"[nib as usize];
            }
        }
        ReplId(out)
    }

    /// Parses 40 hex characters.
    pub fn parse(s: &[u8]) -> Option<ReplId> {
        if s.len() != 40 || !s.iter().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 40];
        out.copy_from_slice(s);
        out.make_ascii_lowercase();
        Some(ReplId(out))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("0000000000000000000000000000000000000000")
    }

    /// The id as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ReplId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ReplId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Limits on how far a reader may fall behind (`client-output-buffer-limit replica`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReaderLimit {
    /// Cut off at once beyond this many unread bytes (0 = no limit).
    pub hard: u64,
    /// Cut off when over this many unread bytes for `soft_seconds` (0 = no limit).
    pub soft: u64,
    /// See `soft`.
    pub soft_seconds: u64,
}

impl ReaderLimit {
    /// No limit (the AOF writer).
    pub const NONE: ReaderLimit = ReaderLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    };
    /// Redis's default for replicas: 256 MB hard, 64 MB for 60 s soft.
    pub const REPLICA_DEFAULT: ReaderLimit = ReaderLimit {
        hard: 256 << 20,
        soft: 64 << 20,
        soft_seconds: 60,
    };
}

/// Why a read failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The reader fell too far behind and was cut off.
    Overflow {
        /// Unread bytes when it was cut off.
        lag: u64,
        /// Which limit: `"hard"` or `"soft"`.
        limit: &'static str,
    },
    /// The position is no longer (or not yet) in the log: a new history began
    /// (full resync, promotion) or the bytes were trimmed.
    Gone,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Overflow { lag, limit } => write!(
                f,
                "output buffer {limit} limit exceeded ({lag} bytes unread)"
            ),
            ReadError::Gone => f.write_str("position no longer in the replication log"),
        }
    }
}

impl std::error::Error for ReadError {}

/// The answer to `PSYNC <id> <offset>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Psync {
    /// Serve from the backlog: send bytes from `pos` (0-based) on.
    Continue {
        /// First position to send.
        pos: u64,
    },
    /// A full resync is needed, for this reason (logged like Redis does).
    Full {
        /// Why partial resync is impossible.
        reason: String,
    },
}

/// Size at which the tail is sealed into a chunk that trimming can drop.
const CHUNK: usize = 16 * 1024;

#[derive(Debug)]
struct ReaderState {
    pos: u64,
    limit: ReaderLimit,
    soft_since: Option<Instant>,
    cut: Option<ReadError>,
}

struct Inner {
    replid: ReplId,
    replid2: ReplId,
    /// Offset up to which `replid2` is valid (-1 = none); as Redis's `second_repl_offset`.
    second_offset: i64,
    /// Bytes appended under this history = `master_repl_offset`.
    end: u64,
    /// Sealed chunks: (start position, bytes), contiguous, ending at `tail_start`.
    sealed: VecDeque<(u64, Bytes)>,
    tail: BytesMut,
    tail_start: u64,
    backlog_size: u64,
    /// Whether a backlog exists (Redis creates it on the first replica; before that the
    /// offset does not move).
    active: bool,
    last_db: Option<usize>,
    readers: BTreeMap<u64, ReaderState>,
    next_reader: u64,
    /// Bumped when the history is reset, so stale readers notice.
    generation: u64,
}

impl Inner {
    /// Adds a reader at `pos` and returns its id.
    fn register_reader(&mut self, pos: u64, limit: ReaderLimit) -> u64 {
        let id = self.next_reader;
        self.next_reader += 1;
        self.readers.insert(
            id,
            ReaderState {
                pos,
                limit,
                soft_since: None,
                cut: None,
            },
        );
        id
    }

    fn start(&self) -> u64 {
        self.sealed.front().map_or(self.tail_start, |(s, _)| *s)
    }

    fn push(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.end += bytes.len() as u64;
    }

    fn seal(&mut self) {
        if !self.tail.is_empty() {
            let chunk = self.tail.split().freeze();
            let start = self.tail_start;
            self.tail_start += chunk.len() as u64;
            self.sealed.push_back((start, chunk));
        }
    }

    fn trim(&mut self) {
        let now = Instant::now();
        let end = self.end;
        let mut keep_from = end.saturating_sub(self.backlog_size);
        for r in self.readers.values_mut() {
            if r.cut.is_some() {
                continue;
            }
            let lag = end.saturating_sub(r.pos);
            if r.limit.hard > 0 && lag > r.limit.hard {
                r.cut = Some(ReadError::Overflow { lag, limit: "hard" });
                continue;
            }
            if r.limit.soft > 0 && lag > r.limit.soft {
                let since = *r.soft_since.get_or_insert(now);
                if now.duration_since(since) >= Duration::from_secs(r.limit.soft_seconds) {
                    r.cut = Some(ReadError::Overflow { lag, limit: "soft" });
                    continue;
                }
            } else {
                r.soft_since = None;
            }
            keep_from = keep_from.min(r.pos);
        }
        // Seal the tail so it can be trimmed too.
        if self.tail.len() >= CHUNK {
            self.seal();
        }
        while let Some((s, b)) = self.sealed.front() {
            if s + b.len() as u64 <= keep_from {
                self.sealed.pop_front();
            } else {
                break;
            }
        }
    }

    fn histlen(&self) -> u64 {
        self.end - self.start()
    }
}

/// Fields of `INFO replication` the log owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInfo {
    /// `master_replid`
    pub replid: ReplId,
    /// `master_replid2`
    pub replid2: ReplId,
    /// `master_repl_offset`
    pub offset: u64,
    /// `second_repl_offset`
    pub second_offset: i64,
    /// `repl_backlog_active`
    pub active: bool,
    /// `repl_backlog_size`
    pub backlog_size: u64,
    /// `repl_backlog_first_byte_offset` (0 without backlog)
    pub first_byte_offset: u64,
    /// `repl_backlog_histlen`
    pub histlen: u64,
}

/// The replication log of one node.
pub struct Log {
    inner: Mutex<Inner>,
    data: Condvar,
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log").field("info", &self.info()).finish()
    }
}

impl Log {
    /// An inactive log (no backlog yet) with a new random replid.
    pub fn new(backlog_size: u64) -> Arc<Log> {
        Arc::new(Log {
            inner: Mutex::new(Inner {
                replid: ReplId::random(),
                replid2: ReplId::ZERO,
                second_offset: -1,
                end: 0,
                sealed: VecDeque::new(),
                tail: BytesMut::new(),
                tail_start: 0,
                backlog_size: backlog_size.max(16 * 1024),
                active: false,
                last_db: None,
                readers: BTreeMap::new(),
                next_reader: 1,
                generation: 0,
            }),
            data: Condvar::new(),
        })
    }

    /// Whether the backlog exists (appends are recorded).
    pub fn is_active(&self) -> bool {
        self.inner.lock().active
    }

    /// Creates the backlog if there is none. As in Redis, creating it on a master starts
    /// a new history (new replid, replid2 cleared) unless it continues one already.
    pub fn activate(&self) {
        let mut i = self.inner.lock();
        if !i.active {
            i.active = true;
            i.tail_start = i.end;
            i.last_db = None;
        }
    }

    /// Appends the effects of a command applied in database `db`: a `SELECT` first when
    /// the stream was last in another database. Does nothing without a backlog. Returns
    /// the offset after the append.
    pub fn append(&self, db: usize, cmds: &[u8]) -> u64 {
        let mut i = self.inner.lock();
        if !i.active {
            return i.end;
        }
        if i.last_db != Some(db) {
            let mut sel = Vec::with_capacity(24);
            let dbs = db.to_string();
            encode::command(&mut sel, &[&b"SELECT"[..], dbs.as_bytes()]);
            i.push(&sel);
            i.last_db = Some(db);
        }
        i.push(cmds);
        let end = i.end;
        if i.tail.len() >= CHUNK {
            i.trim();
        }
        drop(i);
        self.data.notify_all();
        end
    }

    /// Appends bytes exactly as received from our master (a replica's log, so that
    /// offsets match the master's and sub-replicas can chain).
    pub fn append_raw(&self, bytes: &[u8]) -> u64 {
        let mut i = self.inner.lock();
        i.push(bytes);
        let end = i.end;
        if i.tail.len() >= CHUNK {
            i.trim();
        }
        drop(i);
        self.data.notify_all();
        end
    }

    /// Appends a command that belongs to no database (`PING`, `REPLCONF GETACK *`).
    pub fn append_command(&self, argv: &[&[u8]]) -> u64 {
        let mut buf = Vec::with_capacity(40);
        encode::command(&mut buf, argv);
        let mut i = self.inner.lock();
        if !i.active {
            return i.end;
        }
        i.push(&buf);
        let end = i.end;
        drop(i);
        self.data.notify_all();
        end
    }

    /// `master_repl_offset`.
    pub fn offset(&self) -> u64 {
        self.inner.lock().end
    }

    /// The current replid.
    pub fn replid(&self) -> ReplId {
        self.inner.lock().replid
    }

    /// Forgets which database the stream is in: the next append starts with `SELECT`
    /// (after a full-resync setup, or a promotion).
    pub fn reset_last_db(&self) {
        self.inner.lock().last_db = None;
    }

    /// Sets `repl-backlog-size` (minimum 16 KB).
    pub fn set_backlog_size(&self, size: u64) {
        let mut i = self.inner.lock();
        i.backlog_size = size.max(16 * 1024);
        i.trim();
    }

    /// Drops the backlog (a master without replicas for `repl-backlog-ttl`): the next
    /// history starts with a new replid, and replid2 is cleared.
    pub fn deactivate(&self) {
        let mut i = self.inner.lock();
        i.active = false;
        i.sealed.clear();
        i.tail.clear();
        i.tail_start = i.end;
        i.replid = ReplId::random();
        i.replid2 = ReplId::ZERO;
        i.second_offset = -1;
        i.generation += 1;
    }

    /// Decides a `PSYNC <id> <offset>` request (offset = first byte wanted, 1-based).
    pub fn psync(&self, id: &[u8], offset: i64) -> Psync {
        let i = self.inner.lock();
        let Some(id) = ReplId::parse(id) else {
            return Psync::Full {
                reason: "Full resync requested by replica".into(),
            };
        };
        if id != i.replid && (id != i.replid2 || offset > i.second_offset) {
            let reason = if id != i.replid && id != i.replid2 {
                format!("Replication ID mismatch (Replica asked for '{id}', my replication IDs are '{}' and '{}')", i.replid, i.replid2)
            } else {
                format!(
                    "Requested offset for second ID was {offset}, but I can reply up to {}",
                    i.second_offset
                )
            };
            return Psync::Full { reason };
        }
        if !i.active {
            return Psync::Full {
                reason: "no backlog".into(),
            };
        }
        let first = i.start() as i64 + 1;
        if offset < first || offset > i.end as i64 + 1 {
            return Psync::Full {
                reason: format!(
                    "Unable to partial resync with replica for lack of backlog (Replica request was: {offset})."
                ),
            };
        }
        Psync::Continue {
            pos: (offset - 1) as u64,
        }
    }

    /// Promotion (`REPLICAOF NO ONE`): the current history becomes replid2, valid up to
    /// the current offset, and a new replid begins. Existing readers stay valid.
    pub fn shift_replid(&self) {
        let mut i = self.inner.lock();
        i.replid2 = i.replid;
        i.second_offset = i.end as i64 + 1;
        i.replid = ReplId::random();
        i.last_db = None;
    }

    /// A replica adopting its master's history after a full sync: `replid` at `offset`,
    /// no previous id, an empty backlog starting there. Every reader is cut off.
    pub fn reset_to(&self, replid: ReplId, offset: u64) {
        let mut i = self.inner.lock();
        i.replid = replid;
        i.replid2 = ReplId::ZERO;
        i.second_offset = -1;
        i.end = offset;
        i.sealed.clear();
        i.tail.clear();
        i.tail_start = offset;
        i.active = true;
        i.last_db = None;
        i.generation += 1;
        for r in i.readers.values_mut() {
            r.cut.get_or_insert(ReadError::Gone);
        }
        drop(i);
        self.data.notify_all();
    }

    /// A replica that received `+CONTINUE <newid>` from a master with another id: the
    /// old id becomes replid2 (valid to the current offset) and `replid` is adopted.
    pub fn adopt_replid(&self, replid: ReplId) {
        let mut i = self.inner.lock();
        if i.replid != replid {
            i.replid2 = i.replid;
            i.second_offset = i.end as i64 + 1;
            i.replid = replid;
        }
        i.active = true;
    }

    /// Registers a reader that will read from position `pos` (0-based) on.
    pub fn reader(self: &Arc<Self>, pos: u64, limit: ReaderLimit) -> Result<Reader, ReadError> {
        let mut i = self.inner.lock();
        if pos < i.start() || pos > i.end {
            return Err(ReadError::Gone);
        }
        let id = i.register_reader(pos, limit);
        Ok(Reader {
            log: self.clone(),
            id,
        })
    }

    /// Registers a reader at the current end of the log and returns it with the
    /// database the stream is in there (`None`: the next append starts with `SELECT`),
    /// both read in one instant.
    pub fn reader_at_end(self: &Arc<Self>, limit: ReaderLimit) -> (Reader, Option<usize>) {
        let mut i = self.inner.lock();
        let pos = i.end;
        let id = i.register_reader(pos, limit);
        let db = i.last_db;
        (
            Reader {
                log: self.clone(),
                id,
            },
            db,
        )
    }

    /// Why reader `id` was cut off, if it was (see [`Reader::id`]): lets another thread
    /// drop a replica whose sender is blocked writing to a stalled peer.
    pub fn reader_cut(&self, id: u64) -> Option<ReadError> {
        self.inner
            .lock()
            .readers
            .get(&id)
            .and_then(|r| r.cut.clone())
    }

    /// The `INFO replication` fields the log owns.
    pub fn info(&self) -> LogInfo {
        let i = self.inner.lock();
        LogInfo {
            replid: i.replid,
            replid2: i.replid2,
            offset: i.end,
            second_offset: i.second_offset,
            active: i.active,
            backlog_size: i.backlog_size,
            first_byte_offset: if i.active { i.start() + 1 } else { 0 },
            histlen: if i.active { i.histlen() } else { 0 },
        }
    }

    /// Bytes the log holds (backlog plus what readers still need).
    pub fn memory(&self) -> u64 {
        let i = self.inner.lock();
        i.histlen() + i.tail.capacity() as u64
    }

    /// Copies the bytes from `pos` to the end (tests and diagnostics).
    pub fn copy_from(&self, pos: u64) -> Option<Vec<u8>> {
        let mut i = self.inner.lock();
        if pos < i.start() || pos > i.end {
            return None;
        }
        i.seal();
        let mut out = Vec::new();
        for (s, b) in &i.sealed {
            let e = s + b.len() as u64;
            if e <= pos {
                continue;
            }
            let from = pos.saturating_sub(*s) as usize;
            out.extend_from_slice(&b[from..]);
        }
        Some(out)
    }
}

/// A cursor into the log that keeps the bytes it has not read yet.
pub struct Reader {
    log: Arc<Log>,
    id: u64,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("id", &self.id)
            .field("position", &self.position())
            .finish()
    }
}

impl Reader {
    /// This reader's id in its log (for [`Log::reader_cut`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next position this reader will read.
    pub fn position(&self) -> u64 {
        self.log
            .inner
            .lock()
            .readers
            .get(&self.id)
            .map_or(0, |r| r.pos)
    }

    /// Moves whatever is available (up to about `max` bytes) into `out` as shared chunks,
    /// and advances. Returns the number of bytes; 0 if nothing new.
    pub fn read(&self, out: &mut Vec<Bytes>, max: usize) -> Result<usize, ReadError> {
        let mut i = self.log.inner.lock();
        let (pos, cut) = match i.readers.get(&self.id) {
            Some(r) => (r.pos, r.cut.clone()),
            None => return Err(ReadError::Gone),
        };
        if let Some(e) = cut {
            return Err(e);
        }
        if pos >= i.end {
            return Ok(0);
        }
        if pos < i.start() {
            return Err(ReadError::Gone);
        }
        i.seal();
        let mut n = 0usize;
        let mut at = pos;
        for (s, b) in &i.sealed {
            let e = s + b.len() as u64;
            if e <= at {
                continue;
            }
            let from = (at - s) as usize;
            let take = (b.len() - from).min(max.saturating_sub(n).max(1));
            out.push(b.slice(from..from + take));
            n += take;
            at += take as u64;
            if n >= max {
                break;
            }
        }
        if let Some(r) = i.readers.get_mut(&self.id) {
            r.pos = at;
        }
        i.trim();
        Ok(n)
    }

    /// Waits until bytes beyond this reader's position exist, or `timeout` passes.
    /// Returns whether data (or an error to report) is available.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut i = self.log.inner.lock();
        let ready = |i: &Inner| {
            i.readers
                .get(&self.id)
                .is_none_or(|r| r.cut.is_some() || r.pos < i.end)
        };
        if ready(&i) {
            return true;
        }
        let _ = self.log.data.wait_for(&mut i, timeout);
        ready(&i)
    }

    /// Wakes every waiting reader (used on shutdown).
    pub fn wake_all(&self) {
        self.log.data.notify_all();
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let mut i = self.log.inner.lock();
        i.readers.remove(&self.id);
        i.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(r: &Reader) -> Vec<u8> {
        let mut chunks = Vec::new();
        r.read(&mut chunks, usize::MAX).unwrap();
        chunks.concat()
    }

    #[test]
    fn offsets_count_bytes_and_select_is_inserted() {
        let log = Log::new(1 << 20);
        assert_eq!(
            log.append(0, b"*1\r\n$4\r\nPING\r\n"),
            0,
            "no backlog, no offset"
        );
        log.activate();
        let r = log.reader(0, ReaderLimit::NONE).unwrap();
        let set = b"*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let end = log.append(0, set);
        assert_eq!(end, 23 + set.len() as u64);
        assert_eq!(
            log.append(0, set),
            end + set.len() as u64,
            "no second SELECT"
        );
        let got = read_all(&r);
        assert!(got.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
        assert_eq!(got.len() as u64, log.offset());
        log.append(3, set);
        assert!(read_all(&r).starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
    }

    #[test]
    fn a_reader_at_the_end_knows_the_stream_database() {
        let log = Log::new(1 << 20);
        log.activate();
        let (r, db) = log.reader_at_end(ReaderLimit::NONE);
        assert_eq!(db, None);
        log.append(3, b"*1\r\n$4\r\nPING\r\n");
        let (r2, db) = log.reader_at_end(ReaderLimit::NONE);
        assert_eq!(db, Some(3));
        assert_eq!(r2.position(), log.offset());
        log.append(3, b"*1\r\n$3\r\nFOO\r\n");
        let mut out = Vec::new();
        assert_eq!(r2.read(&mut out, 1024).unwrap(), 13);
        out.clear();
        // The first reader sees the SELECT that started the stream.
        r.read(&mut out, 1024).unwrap();
        assert!(out
            .concat()
            .starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"));
        log.reset_last_db();
        assert_eq!(log.reader_at_end(ReaderLimit::NONE).1, None);
    }

    #[test]
    fn psync_rules() {
        let log = Log::new(16 * 1024);
        log.activate();
        let id = log.replid();
        for _ in 0..1000 {
            log.append(0, &[b'x'; 100]);
        }
        let end = log.offset() as i64;
        assert_eq!(
            log.psync(id.as_bytes(), end + 1),
            Psync::Continue { pos: end as u64 }
        );
        assert!(matches!(
            log.psync(id.as_bytes(), end + 2),
            Psync::Full { .. }
        ));
        assert!(
            matches!(log.psync(id.as_bytes(), 1), Psync::Full { .. }),
            "trimmed"
        );
        assert!(matches!(log.psync(b"?", -1), Psync::Full { .. }));
        let info = log.info();
        assert!(info.histlen >= 16 * 1024);
        assert_eq!(info.first_byte_offset, info.offset - info.histlen + 1);
        // Promotion keeps the old id valid up to the switch.
        log.shift_replid();
        assert_eq!(
            log.psync(id.as_bytes(), end + 1),
            Psync::Continue { pos: end as u64 }
        );
        log.append(0, b"more");
        assert!(matches!(
            log.psync(id.as_bytes(), end + 10),
            Psync::Full { .. }
        ));
        let new = log.replid();
        assert_ne!(new, id);
        assert_eq!(log.info().replid2, id);
        assert_eq!(log.info().second_offset, end + 1);
    }

    #[test]
    fn readers_keep_bytes_until_limit() {
        let log = Log::new(16 * 1024);
        log.activate();
        let slow = log
            .reader(
                0,
                ReaderLimit {
                    hard: 100_000,
                    soft: 0,
                    soft_seconds: 0,
                },
            )
            .unwrap();
        let payload = vec![b'y'; 1000];
        for _ in 0..50 {
            log.append(0, &payload);
        }
        // 50 KB > backlog: kept for the slow reader.
        assert_eq!(read_all(&slow).len() as u64, log.offset());
        assert_eq!(log.reader_cut(slow.id()), None);
        for _ in 0..200 {
            log.append(0, &payload);
        }
        // Visible to other threads before the reader reads (its sender may be blocked).
        assert!(matches!(
            log.reader_cut(slow.id()),
            Some(ReadError::Overflow { limit: "hard", .. })
        ));
        let mut v = Vec::new();
        assert!(matches!(
            slow.read(&mut v, usize::MAX),
            Err(ReadError::Overflow { limit: "hard", .. })
        ));
        assert!(
            log.info().histlen < 100_000,
            "cut reader no longer pins bytes"
        );
    }

    #[test]
    fn reset_cuts_readers_and_raw_appends_keep_offsets() {
        let log = Log::new(1 << 20);
        log.activate();
        let r = log.reader(0, ReaderLimit::NONE).unwrap();
        let id = ReplId::random();
        log.reset_to(id, 1000);
        assert_eq!(log.offset(), 1000);
        let mut v = Vec::new();
        assert_eq!(r.read(&mut v, 10), Err(ReadError::Gone));
        assert_eq!(log.append_raw(b"abc"), 1003);
        assert_eq!(
            log.psync(id.as_bytes(), 1001),
            Psync::Continue { pos: 1000 }
        );
        assert_eq!(log.copy_from(1000).unwrap(), b"abc");
    }

    #[test]
    fn wait_wakes_on_append() {
        let log = Log::new(1 << 20);
        log.activate();
        let r = log.reader(0, ReaderLimit::NONE).unwrap();
        assert!(!r.wait(Duration::from_millis(10)));
        let l2 = log.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            l2.append(0, b"x");
        });
        assert!(r.wait(Duration::from_secs(5)));
        t.join().unwrap();
    }
}
