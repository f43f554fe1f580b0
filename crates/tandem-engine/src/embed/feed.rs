//! The change feed: every change applied to the data, in the order it was applied, for
//! cache invalidation and derived indexes.
//!
//! A feed is one more reader of the replication log, the single order of all writes
//! (design.md, "The path of a write"), on its own `change-feed` thread. On a master the
//! log holds each write's deterministic effect (`SET … PXAT`, `SREM` for `SPOP`, `DEL` for
//! an expired key); on a replica, exactly what its master sent. The feed decodes it into
//! one [`Change`] per command, with its database and keys, and leaves out what changes
//! no data (`PING`, `REPLCONF`, `SELECT`, `MULTI`/`EXEC`, `PUBLISH`).
//!
//! A feed that falls more than [`FEED_LAG_LIMIT`] bytes behind, or whose position in the
//! log disappears (a replica's full resync replaces the whole data set), reports a
//! [`ChangeEvent::Gap`] and continues from the present: the consumer must then treat
//! every key as changed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::{bounded, Receiver, SendTimeoutError};
use parking_lot::Mutex;
use smallvec::SmallVec;
use tandem_log::{ReadError, Reader, ReaderLimit};
use tandem_resp::{RequestLimits, RequestParser};

use super::{Error, ErrorKind, Inner, Result};
use crate::Shared;

/// How far (in bytes of the log) a feed may fall behind before it is cut off with a
/// [`ChangeEvent::Gap`].
pub const FEED_LAG_LIMIT: u64 = 64 << 20;

/// Events a channel feed buffers before its thread waits for the consumer.
const CHANNEL_CAPACITY: usize = 16 * 1024;

/// One applied command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The database it changed.
    pub db: usize,
    /// The command and its arguments, as propagated (name first, as sent).
    pub argv: Vec<Bytes>,
    /// Positions in `argv` of the keys it names.
    key_positions: SmallVec<[u16; 2]>,
}

impl Change {
    /// The command name, as propagated (`b"SET"`, `b"DEL"`, …).
    pub fn command(&self) -> &[u8] {
        self.argv.first().map_or(&[][..], |b| &b[..])
    }

    /// The keys the command changed (empty for FLUSHDB and FLUSHALL, which change all).
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.key_positions
            .iter()
            .filter_map(|&i| self.argv.get(usize::from(i)).map(|b| &b[..]))
    }
}

/// What a feed delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeEvent {
    /// A command was applied.
    Write(Change),
    /// Changes were missed (the feed fell behind, or the data set was replaced by a
    /// full sync): treat every key as changed.
    Gap {
        /// Why.
        reason: String,
    },
}

/// A running feed thread; shared by its handle and the engine, whichever stops first.
pub(crate) struct Running {
    stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Running {
    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let t = self.thread.lock().take();
        if let Some(t) = t {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// Keeps a callback feed ([`super::Engine::on_change`]) running; dropping it stops the
/// feed and joins its thread.
pub struct FeedHandle {
    running: Arc<Running>,
}

impl Drop for FeedHandle {
    fn drop(&mut self) {
        self.running.stop();
    }
}

impl std::fmt::Debug for FeedHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedHandle")
            .field("stopped", &self.running.stop.load(Ordering::Relaxed))
            .finish()
    }
}

/// A feed read as a channel ([`super::Engine::changes`]); dropping it stops the feed.
/// After the engine closes, the events already buffered can still be read, then the
/// channel reports its end.
pub struct ChangeFeed {
    rx: Receiver<ChangeEvent>,
    _handle: FeedHandle,
}

impl ChangeFeed {
    /// The next event, waiting for it; `None` once the engine closed.
    pub fn recv(&self) -> Option<ChangeEvent> {
        self.rx.recv().ok()
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ChangeEvent> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Option<ChangeEvent> {
        self.rx.try_recv().ok()
    }

    /// Events as they come, until the engine closes.
    pub fn iter(&self) -> impl Iterator<Item = ChangeEvent> + '_ {
        self.rx.iter()
    }
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("buffered", &self.rx.len())
            .finish()
    }
}

type Sink = Box<dyn FnMut(&ChangeEvent) + Send>;

/// A feed delivered to a channel.
pub(crate) fn channel(inner: &Arc<Inner>) -> Result<ChangeFeed> {
    let (tx, rx) = bounded::<ChangeEvent>(CHANNEL_CAPACITY);
    let stop_flag: Arc<Mutex<Option<Arc<Running>>>> = Arc::new(Mutex::new(None));
    let seen = stop_flag.clone();
    let sink: Sink = Box::new(move |ev: &ChangeEvent| {
        let mut ev = ev.clone();
        loop {
            match tx.send_timeout(ev, Duration::from_millis(100)) {
                Ok(()) => return,
                Err(SendTimeoutError::Disconnected(_)) => return,
                Err(SendTimeoutError::Timeout(back)) => {
                    let stopping = seen
                        .lock()
                        .as_ref()
                        .is_some_and(|r| r.stop.load(Ordering::Acquire));
                    if stopping {
                        return;
                    }
                    ev = back;
                }
            }
        }
    });
    let running = start(inner, sink)?;
    *stop_flag.lock() = Some(running.clone());
    Ok(ChangeFeed {
        rx,
        _handle: FeedHandle { running },
    })
}

/// A feed delivered to a callback.
pub(crate) fn callback(inner: &Arc<Inner>, sink: Sink) -> Result<FeedHandle> {
    Ok(FeedHandle {
        running: start(inner, sink)?,
    })
}

/// Stops every feed of the engine (it is closing).
pub(crate) fn stop_all(inner: &Inner) {
    let feeds: Vec<_> = inner.feeds.lock().drain(..).collect();
    for f in feeds {
        f.stop();
    }
}

const LIMIT: ReaderLimit = ReaderLimit {
    hard: FEED_LAG_LIMIT,
    soft: 0,
    soft_seconds: 0,
};

/// A reader at the present, and the database the stream is in there.
fn attach(sh: &Shared) -> (Reader, usize) {
    let log = &sh.repl.log;
    if sh.master().is_none() && !log.is_active() {
        log.activate();
        sh.enable_log_propagation();
    }
    let (reader, db) = log.reader_at_end(LIMIT);
    let db = if sh.master().is_some() {
        crate::persist::save::master_stream_db(sh).or(db)
    } else {
        db
    };
    (reader, db.unwrap_or(0))
}

fn start(inner: &Arc<Inner>, mut sink: Sink) -> Result<Arc<Running>> {
    let sh = inner.core.shared().clone();
    let running = Arc::new(Running {
        stop: AtomicBool::new(false),
        thread: Mutex::new(None),
    });
    sh.change_feeds.fetch_add(1, Ordering::AcqRel);
    let (reader, db) = attach(&sh);
    let r2 = running.clone();
    let sh2 = sh.clone();
    let spawned = std::thread::Builder::new()
        .name("change-feed".into())
        .spawn(move || {
            let mut d = Decoder::new(db);
            let mut reader = reader;
            let mut chunks = Vec::new();
            while !r2.stop.load(Ordering::Acquire) {
                chunks.clear();
                match reader.read(&mut chunks, 1 << 20) {
                    Ok(0) => {
                        reader.wait(Duration::from_millis(100));
                    }
                    Ok(_) => {
                        for c in &chunks {
                            d.feed(&sh2, c, &mut sink);
                        }
                    }
                    Err(e) => {
                        let reason = match e {
                            ReadError::Overflow { .. } => {
                                format!("the feed fell behind: {e}")
                            }
                            ReadError::Gone => "the data set was replaced".to_string(),
                        };
                        sink(&ChangeEvent::Gap { reason });
                        drop(reader);
                        let (r, db) = attach(&sh2);
                        reader = r;
                        d = Decoder::new(db);
                    }
                }
            }
            sh2.change_feeds.fetch_sub(1, Ordering::AcqRel);
        });
    match spawned {
        Ok(t) => *running.thread.lock() = Some(t),
        Err(e) => {
            sh.change_feeds.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(ErrorKind::Io, e.to_string()));
        }
    }
    let mut feeds = inner.feeds.lock();
    feeds.retain(|f| !f.stop.load(Ordering::Acquire));
    feeds.push(running.clone());
    Ok(running)
}

/// Turns the log's bytes back into commands.
struct Decoder {
    db: usize,
    parser: RequestParser,
    buf: Vec<u8>,
    keys: Vec<(usize, usize)>,
}

impl Decoder {
    fn new(db: usize) -> Decoder {
        Decoder {
            db,
            parser: RequestParser::new(),
            buf: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn feed(&mut self, sh: &Shared, bytes: &[u8], sink: &mut Sink) {
        self.buf.extend_from_slice(bytes);
        let limits = RequestLimits::default();
        let mut used = 0;
        loop {
            let argv: SmallVec<[Bytes; 4]> = match self.parser.parse(&self.buf[used..], &limits) {
                Ok(Some(req)) => {
                    used += req.consumed();
                    req.args().map(Bytes::copy_from_slice).collect()
                }
                Ok(None) => break,
                Err(_) => {
                    // The log holds only what the engine or our master wrote; bytes that
                    // do not parse cannot be placed, so say so and skip them.
                    used = self.buf.len();
                    self.parser.reset();
                    sink(&ChangeEvent::Gap {
                        reason: "undecodable bytes in the replication stream".into(),
                    });
                    break;
                }
            };
            self.command(sh, argv, sink);
        }
        self.buf.drain(..used);
    }

    fn command(&mut self, sh: &Shared, argv: SmallVec<[Bytes; 4]>, sink: &mut Sink) {
        let Some(name) = argv.first() else { return };
        let skip: &[&[u8]] = &[
            b"ping",
            b"replconf",
            b"multi",
            b"exec",
            b"publish",
            b"spublish",
        ];
        if name.eq_ignore_ascii_case(b"select") {
            if let Some(db) = argv
                .get(1)
                .and_then(|d| tandem_resp::parse_i64(d))
                .and_then(|d| usize::try_from(d).ok())
            {
                self.db = db;
            }
            return;
        }
        if skip.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            return;
        }
        self.keys.clear();
        if let Some(spec) = sh.commands.get(name) {
            let refs: SmallVec<[&[u8]; 8]> = argv.iter().map(|b| &b[..]).collect();
            if spec.arity_ok(refs.len()) {
                spec.keys.named(&refs, self.db, &mut self.keys);
            }
        }
        let key_positions = self
            .keys
            .iter()
            .filter_map(|&(_, i)| u16::try_from(i).ok())
            .collect();
        sink(&ChangeEvent::Write(Change {
            db: self.db,
            argv: argv.into_vec(),
            key_positions,
        }));
    }
}
