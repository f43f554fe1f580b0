//! The append-only file: the `aof-writer` thread (a reader of the replication log that
//! appends to the current incr file under the `appendfsync` policy), group commit,
//! rewrites (`aof-rewrite` thread: new base from a snapshot, new incr file, manifest
//! swap) and starting/stopping the AOF. See the parent module for the design.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use tandem_keyspace::{Object, Snapshot, ValueRef};
use tandem_log::{Log, Reader, ReaderLimit};
use tandem_persist::aof::manifest::{self, AofManifest};
use tandem_persist::fsutil;
use tandem_resp::{encode, RequestLimits, RequestParser};

use super::save::{begin_snapshot_waiting, busy, master_stream_db, Abortable};
use super::{data_dir, strerror, Durability};
use crate::rdb::Aux;
use crate::session::ClientHandle;
use crate::{Level, Shared};

const OFF: u8 = 0;
const WAIT_REWRITE: u8 = 1;
const ON: u8 = 2;

const ALWAYS: u8 = 0;
const EVERYSEC: u8 = 1;
const NO: u8 = 2;

/// Most bytes the writer takes from the log at once.
const BATCH: usize = 4 << 20;
/// Delay before a failed rewrite is retried by the cron.
const RETRY_MS: u64 = 5000;
/// Elements per command when a base is written as commands
/// (`AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

fn policy_code(s: &str) -> u8 {
    match s {
        "always" => ALWAYS,
        "no" => NO,
        _ => EVERYSEC,
    }
}

/// `-MISCONF Errors writing to the AOF file: <strerror>` for the usual errors.
fn misconf_text(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(28) => "MISCONF Errors writing to the AOF file: No space left on device",
        Some(5) => "MISCONF Errors writing to the AOF file: Input/output error",
        Some(30) => "MISCONF Errors writing to the AOF file: Read-only file system",
        Some(13) => "MISCONF Errors writing to the AOF file: Permission denied",
        Some(122) => "MISCONF Errors writing to the AOF file: Disk quota exceeded",
        Some(27) => "MISCONF Errors writing to the AOF file: File too large",
        Some(9) => "MISCONF Errors writing to the AOF file: Bad file descriptor",
        Some(2) => "MISCONF Errors writing to the AOF file: No such file or directory",
        _ => "MISCONF Errors writing to the AOF file: Input/output error",
    }
}

/// What a rewrite produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RewriteMode {
    /// The AOF is off (BGREWRITEAOF anyway): a new base and manifest, no incr file.
    Offline,
    /// The AOF is being turned on: the writer appends to a temporary incr file that
    /// becomes the incr file when the base is complete.
    Enable,
    /// The AOF is on: a new incr file at once, a new base when complete.
    Online,
}

/// A switch of the writer to a new incr file fed by a new reader, at log position `at`.
struct Switch {
    at: u64,
    reader: Reader,
    stream_db: Option<usize>,
    temp: bool,
    id: u64,
}

/// What the writer thread and the others agree on, under one mutex.
#[derive(Default)]
struct Ctl {
    manifest: AofManifest,
    switch: Option<Switch>,
    next_switch: u64,
    switches_done: u64,
    switch_failed: u64,
    /// Poison epoch when the last switch happened.
    epoch_at_switch: u64,
    /// `Some(Some(pos))`: stop after syncing everything before `pos`; `Some(None)`: now.
    stop: Option<Option<u64>>,
    writer_alive: bool,
    /// The incr file being appended to.
    file_name: Option<String>,
}

/// State shared with the writer and rewrite threads.
pub(crate) struct AofShared {
    state: AtomicU8,
    policy: AtomicU8,
    /// `aof-timestamp-enabled`: `#TS:<unix seconds>` lines when the second changes.
    pub(crate) timestamps: AtomicBool,
    /// Log offset covered by the last successful fsync.
    pub(crate) synced: AtomicU64,
    /// Log position up to which the writer processed the stream.
    processed: AtomicU64,
    poisoned: AtomicBool,
    poison_epoch: AtomicU64,
    poison_text: Mutex<&'static str>,
    waiters: Mutex<Vec<(u64, Arc<ClientHandle>)>>,
    ctl: Mutex<Ctl>,
    cv: Condvar,
    log: Mutex<Option<Arc<Log>>>,
    dir: Mutex<PathBuf>,
    prefix: Mutex<String>,
    base_size: AtomicU64,
    incr_old_size: AtomicU64,
    incr_cur_size: AtomicU64,
    rewrite_base_size: AtomicU64,
    rewrite_running: AtomicBool,
    rewrite_started: Mutex<Option<Instant>>,
    rewrite_scheduled: AtomicBool,
    /// The writer lost its place in the log (a replica's full sync): rewrite.
    needs_rewrite: AtomicBool,
    last_rewrite_secs: AtomicI64,
    last_rewrite_ok: AtomicBool,
    last_rewrite_try_ms: AtomicU64,
    rewrites: AtomicU64,
    consecutive_failures: AtomicU64,
}

impl Default for AofShared {
    fn default() -> Self {
        AofShared {
            state: AtomicU8::new(OFF),
            policy: AtomicU8::new(EVERYSEC),
            timestamps: AtomicBool::new(false),
            synced: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
            poison_epoch: AtomicU64::new(0),
            poison_text: Mutex::new(""),
            waiters: Mutex::new(Vec::new()),
            ctl: Mutex::new(Ctl::default()),
            cv: Condvar::new(),
            log: Mutex::new(None),
            dir: Mutex::new(PathBuf::new()),
            prefix: Mutex::new(String::new()),
            base_size: AtomicU64::new(0),
            incr_old_size: AtomicU64::new(0),
            incr_cur_size: AtomicU64::new(0),
            rewrite_base_size: AtomicU64::new(0),
            rewrite_running: AtomicBool::new(false),
            rewrite_started: Mutex::new(None),
            rewrite_scheduled: AtomicBool::new(false),
            needs_rewrite: AtomicBool::new(false),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
            last_rewrite_try_ms: AtomicU64::new(0),
            rewrites: AtomicU64::new(0),
            consecutive_failures: AtomicU64::new(0),
        }
    }
}

impl AofShared {
    fn dir(&self) -> PathBuf {
        self.dir.lock().clone()
    }

    fn prefix(&self) -> String {
        self.prefix.lock().clone()
    }

    fn current_size(&self) -> u64 {
        self.base_size.load(Ordering::Relaxed)
            + self.incr_old_size.load(Ordering::Relaxed)
            + self.incr_cur_size.load(Ordering::Relaxed)
    }

    /// Marks the AOF failed: writes get `-MISCONF`, held replies are never sent.
    fn poison(&self, e: &io::Error) {
        *self.poison_text.lock() = misconf_text(e);
        self.poison_epoch.fetch_add(1, Ordering::AcqRel);
        self.poisoned.store(true, Ordering::Release);
        self.wake_all_waiters();
    }

    /// Publishes `pos` as synced and wakes the clients it covers.
    fn set_synced(&self, pos: u64) {
        if self.synced.fetch_max(pos, Ordering::AcqRel) >= pos {
            return;
        }
        let mut w = self.waiters.lock();
        if w.is_empty() {
            return;
        }
        let mut ready = Vec::new();
        w.retain(|(off, c)| {
            if *off <= pos {
                ready.push(c.clone());
                false
            } else {
                true
            }
        });
        drop(w);
        for c in ready {
            c.notify();
        }
    }

    fn wake_all_waiters(&self) {
        let all: Vec<_> = std::mem::take(&mut *self.waiters.lock());
        for (_, c) in all {
            c.notify();
        }
    }

    /// Wakes the writer wherever it waits.
    fn wake_writer(&self) {
        self.cv.notify_all();
        if let Some(log) = self.log.lock().clone() {
            if let Ok(r) = log.reader(log.offset(), ReaderLimit::NONE) {
                r.wake_all();
            }
        }
    }

    /// BGREWRITEAOF while another background job runs: the cron starts it later.
    pub(crate) fn schedule_rewrite(&self) {
        self.rewrite_scheduled.store(true, Ordering::Release);
        self.consecutive_failures.store(0, Ordering::Relaxed);
    }

    /// Writes the manifest atomically.
    fn persist_manifest(&self, m: &AofManifest) -> io::Result<()> {
        let path = self.dir().join(manifest::manifest_name(&self.prefix()));
        fsutil::write_atomic(&path, |w| w.write_all(m.to_text().as_bytes()))
    }
}

/// The AOF of a node.
#[derive(Default)]
pub(crate) struct Aof {
    pub(crate) sh: Arc<AofShared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Aof {
    /// `aof_enabled`: on, or being turned on.
    pub(crate) fn is_on(&self) -> bool {
        self.sh.state.load(Ordering::Acquire) != OFF
    }

    /// Whether the writer thread runs.
    pub(crate) fn is_running(&self) -> bool {
        self.writer.lock().is_some()
    }

    pub(crate) fn rewrite_running(&self) -> bool {
        self.sh.rewrite_running.load(Ordering::Acquire)
    }

    pub(crate) fn set_policy(&self, p: &str) {
        self.sh.policy.store(policy_code(p), Ordering::Release);
        // Held clients re-check under the new policy.
        self.sh.wake_all_waiters();
        self.sh.wake_writer();
    }

    /// `-MISCONF` text while the AOF is failed.
    pub(crate) fn write_error(&self) -> Option<&'static str> {
        if self.sh.poisoned.load(Ordering::Acquire) && self.is_on() {
            Some(*self.sh.poison_text.lock())
        } else {
            None
        }
    }

    pub(crate) fn durability(&self, offset: u64, client: &Arc<ClientHandle>) -> Durability {
        let s = &self.sh;
        if offset == 0
            || s.state.load(Ordering::Acquire) != ON
            || s.policy.load(Ordering::Acquire) != ALWAYS
            || s.synced.load(Ordering::Acquire) >= offset
        {
            return Durability::Durable;
        }
        if s.poisoned.load(Ordering::Acquire) {
            return Durability::Failed;
        }
        s.waiters.lock().push((offset, client.clone()));
        if s.synced.load(Ordering::Acquire) >= offset {
            Durability::Durable
        } else if s.poisoned.load(Ordering::Acquire) {
            Durability::Failed
        } else {
            Durability::Pending
        }
    }

    /// Stops the writer: after syncing everything before `drain_to`, or at once.
    pub(crate) fn stop(&self, drain_to: Option<u64>) {
        let handle = self.writer.lock().take();
        let Some(h) = handle else { return };
        self.sh.ctl.lock().stop = Some(drain_to);
        self.sh.wake_writer();
        if h.thread().id() != std::thread::current().id() {
            let _ = h.join();
        }
        let mut c = self.sh.ctl.lock();
        c.stop = None;
        c.writer_alive = false;
        c.switch = None;
        drop(c);
        self.sh.cv.notify_all();
    }

    fn spawn_writer(&self, w: Writer) -> io::Result<()> {
        self.sh.ctl.lock().writer_alive = true;
        match std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || w.run())
        {
            Ok(h) => {
                *self.writer.lock() = Some(h);
                Ok(())
            }
            Err(e) => {
                self.sh.ctl.lock().writer_alive = false;
                Err(e)
            }
        }
    }

    /// The AOF fields of `INFO persistence`.
    pub(crate) fn info(&self, o: &mut String) {
        let s = &self.sh;
        let on = self.is_on();
        let mut line = |k: &str, v: &dyn std::fmt::Display| {
            let _ = write!(o, "{k}:{v}\r\n");
        };
        line("aof_enabled", &u8::from(on));
        let started = *s.rewrite_started.lock();
        line("aof_rewrite_in_progress", &u8::from(started.is_some()));
        let scheduled = u8::from(s.rewrite_scheduled.load(Ordering::Relaxed));
        line("aof_rewrite_scheduled", &scheduled);
        line(
            "aof_last_rewrite_time_sec",
            &s.last_rewrite_secs.load(Ordering::Relaxed),
        );
        line(
            "aof_current_rewrite_time_sec",
            &started.map_or(-1, |t| t.elapsed().as_secs() as i64),
        );
        line(
            "aof_last_bgrewrite_status",
            &if s.last_rewrite_ok.load(Ordering::Relaxed) {
                "ok"
            } else {
                "err"
            },
        );
        line("aof_rewrites", &s.rewrites.load(Ordering::Relaxed));
        line(
            "aof_rewrites_consecutive_failures",
            &s.consecutive_failures.load(Ordering::Relaxed),
        );
        line(
            "aof_last_write_status",
            &if s.poisoned.load(Ordering::Relaxed) && on {
                "err"
            } else {
                "ok"
            },
        );
        line("aof_last_cow_size", &0);
        line("module_fork_in_progress", &0);
        line("module_fork_last_cow_size", &0);
        if on {
            let end = s.log.lock().as_ref().map_or(0, |l| l.offset());
            let buffered = end.saturating_sub(s.processed.load(Ordering::Relaxed));
            line("aof_current_size", &s.current_size());
            line(
                "aof_base_size",
                &s.rewrite_base_size.load(Ordering::Relaxed),
            );
            line("aof_pending_rewrite", &scheduled);
            line("aof_buffer_length", &buffered);
            line("aof_pending_bio_fsync", &0);
            line("aof_delayed_fsync", &0);
        }
    }
}

// ---- the writer ------------------------------------------------------------------

fn is_cmd(name: &[u8], word: &[u8]) -> bool {
    name.eq_ignore_ascii_case(word)
}

/// The `aof-writer` thread.
struct Writer {
    sh: Arc<AofShared>,
    owner: Weak<Shared>,
    reader: Option<Reader>,
    /// Log position of the first byte not processed yet (the start of `pending`).
    pos: u64,
    pending: Vec<u8>,
    file: Option<File>,
    /// The incr file failed: nothing more is written to it.
    file_failed: bool,
    stream_db: Option<usize>,
    file_db: Option<usize>,
    out: Vec<u8>,
    chunks: Vec<Bytes>,
    data: Vec<u8>,
    unsynced: bool,
    last_fsync: Instant,
    /// Unix second of the last `#TS:` annotation.
    last_ts: i64,
}

impl Writer {
    fn new(sh: Arc<AofShared>, owner: Weak<Shared>) -> Writer {
        Writer {
            sh,
            owner,
            reader: None,
            pos: 0,
            pending: Vec::new(),
            file: None,
            file_failed: false,
            stream_db: None,
            file_db: None,
            out: Vec::new(),
            chunks: Vec::new(),
            data: Vec::new(),
            unsynced: false,
            last_fsync: Instant::now(),
            last_ts: 0,
        }
    }

    fn log(&self, level: Level, msg: &str) {
        if let Some(sh) = self.owner.upgrade() {
            sh.log(level, msg);
        }
    }

    fn run(mut self) {
        loop {
            let (stop, mut switch_at) = {
                let c = self.sh.ctl.lock();
                (c.stop, c.switch.as_ref().map(|s| s.at))
            };
            match stop {
                Some(None) => break,
                Some(Some(to)) if self.reader.is_none() || self.pos >= to => break,
                _ => {}
            }
            let mut got = 0;
            if let Some(r) = &self.reader {
                let room = match switch_at {
                    Some(at) => at.saturating_sub(r.position()) as usize,
                    None => BATCH,
                };
                if room > 0 {
                    let before = r.position();
                    match r.read(&mut self.chunks, room.min(BATCH)) {
                        Ok(n) => {
                            got = n;
                            // A switch set while we read: what follows its position
                            // belongs to the new incr file (its reader reads it again).
                            if switch_at.is_none() {
                                let at = self.sh.ctl.lock().switch.as_ref().map(|s| s.at);
                                if let Some(at) = at.filter(|&at| before + n as u64 > at) {
                                    got = at.saturating_sub(before) as usize;
                                    trim_chunks(&mut self.chunks, got);
                                    switch_at = Some(at);
                                }
                            }
                        }
                        Err(e) => {
                            self.log(
                                Level::Warning,
                                &format!("The AOF writer lost its place in the replication log ({e}): the AOF will be rewritten."),
                            );
                            self.reader = None;
                            self.pending.clear();
                            self.sh.needs_rewrite.store(true, Ordering::Release);
                        }
                    }
                }
            }
            if got > 0 {
                self.consume();
            }
            if let Some(at) = switch_at {
                let reached = self.reader.as_ref().is_none_or(|r| r.position() >= at);
                if reached {
                    self.switch();
                    continue;
                }
            }
            self.sync_if_due();
            if got == 0 && stop.is_none() {
                let wait = match self.sh.policy.load(Ordering::Relaxed) {
                    EVERYSEC if self.unsynced => Duration::from_secs(1)
                        .saturating_sub(self.last_fsync.elapsed())
                        .max(Duration::from_millis(1)),
                    _ => Duration::from_millis(100),
                };
                match &self.reader {
                    Some(r) => {
                        r.wait(wait);
                    }
                    None => {
                        let mut c = self.sh.ctl.lock();
                        if c.switch.is_none() && c.stop.is_none() {
                            self.sh.cv.wait_for(&mut c, wait);
                        }
                    }
                }
            }
        }
        // Everything written so far reaches the disk before the thread ends.
        self.write_out();
        if self.unsynced && !self.file_failed {
            if let Some(f) = &self.file {
                if f.sync_data().is_ok() {
                    self.unsynced = false;
                    self.sh.set_synced(self.pos);
                }
            }
        }
    }

    /// Processes the chunks just read: copies the commands into `out` and writes it.
    fn consume(&mut self) {
        let start = self.pos;
        self.data.clear();
        self.data.append(&mut self.pending);
        for c in self.chunks.drain(..) {
            self.data.extend_from_slice(&c);
        }
        let limits = RequestLimits {
            from_master: true,
            ..RequestLimits::default()
        };
        let mut parser = RequestParser::new();
        let mut at = 0;
        while at < self.data.len() {
            let req = match parser.parse(&self.data[at..], &limits) {
                Ok(Some(req)) => req,
                Ok(None) => break,
                Err(e) => {
                    // Never happens with the log's own bytes; skip the rest rather
                    // than write garbage.
                    self.log(
                        Level::Warning,
                        &format!("Unparsable replication stream in the AOF writer: {e}"),
                    );
                    at = self.data.len();
                    break;
                }
            };
            let used = req.consumed();
            if !req.is_empty() {
                let name = req.arg(0);
                if is_cmd(name, b"select") {
                    if let Some(db) = (req.len() == 2)
                        .then(|| tandem_resp::parse_i64(req.arg(1)))
                        .flatten()
                    {
                        self.stream_db = Some(db.max(0) as usize);
                    }
                } else if !(is_cmd(name, b"ping")
                    || is_cmd(name, b"replconf")
                    || is_cmd(name, b"publish")
                    || is_cmd(name, b"spublish"))
                {
                    if self.sh.timestamps.load(Ordering::Relaxed) {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs() as i64);
                        if now != self.last_ts {
                            self.last_ts = now;
                            tandem_persist::aof::encode_timestamp(&mut self.out, now);
                        }
                    }
                    let db = self.stream_db.unwrap_or(0);
                    if self.file_db != Some(db) {
                        let dbs = db.to_string();
                        encode::command(&mut self.out, &[&b"SELECT"[..], dbs.as_bytes()]);
                        self.file_db = Some(db);
                    }
                    self.out.extend_from_slice(&self.data[at..at + used]);
                }
            }
            at += used;
        }
        self.pending.extend_from_slice(&self.data[at..]);
        self.pos = start + at as u64;
        self.sh.processed.store(self.pos, Ordering::Relaxed);
        self.write_out();
    }

    fn write_out(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let (Some(f), false) = (&mut self.file, self.file_failed) {
            match f.write_all(&self.out) {
                Ok(()) => {
                    self.sh
                        .incr_cur_size
                        .fetch_add(self.out.len() as u64, Ordering::Relaxed);
                    self.unsynced = true;
                }
                Err(e) => {
                    self.file_failed = true;
                    self.sh.poison(&e);
                    self.log(
                        Level::Warning,
                        &format!("Error writing to the AOF file: {}", strerror(&e)),
                    );
                }
            }
        }
        self.out.clear();
    }

    /// fsync per `appendfsync`; under `always` publishes the synced position.
    fn sync_if_due(&mut self) {
        if self.file_failed || self.file.is_none() {
            return;
        }
        let due = match self.sh.policy.load(Ordering::Acquire) {
            ALWAYS => true,
            EVERYSEC => self.last_fsync.elapsed() >= Duration::from_secs(1),
            _ => false,
        };
        if !self.unsynced {
            if due {
                self.sh.set_synced(self.pos);
            }
            return;
        }
        if !due {
            return;
        }
        let Some(f) = &self.file else { return };
        match f.sync_data() {
            Ok(()) => {
                self.unsynced = false;
                self.last_fsync = Instant::now();
                self.sh.set_synced(self.pos);
            }
            Err(e) => {
                self.file_failed = true;
                self.sh.poison(&e);
                self.log(
                    Level::Warning,
                    &format!("Error syncing the AOF file: {}", strerror(&e)),
                );
            }
        }
    }

    /// Finishes the current incr file and continues with a new one from the switch's
    /// reader.
    fn switch(&mut self) {
        let Some(sw) = self.sh.ctl.lock().switch.take() else {
            return;
        };
        self.write_out();
        if let Some(f) = self.file.take() {
            if self.unsynced && !self.file_failed {
                if let Err(e) = f.sync_data() {
                    self.sh.poison(&e);
                }
            }
        }
        self.unsynced = false;
        if !self.pending.is_empty() {
            self.log(
                Level::Warning,
                "AOF switch inside a command: the partial command is dropped",
            );
            self.pending.clear();
        }
        let dir = self.sh.dir();
        let prefix = self.sh.prefix();
        let mut c = self.sh.ctl.lock();
        let name = if sw.temp {
            temp_incr_name(&prefix)
        } else {
            c.manifest.new_incr(&prefix)
        };
        let opened = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dir.join(&name))
            .and_then(|f| fsutil::sync_dir(&dir).map(|_| f))
            .and_then(|f| {
                if sw.temp {
                    Ok(f)
                } else {
                    self.sh.persist_manifest(&c.manifest).map(|_| f)
                }
            });
        let old_size = self.sh.incr_cur_size.swap(0, Ordering::Relaxed);
        if sw.temp {
            self.sh.incr_old_size.store(0, Ordering::Relaxed);
        } else {
            self.sh.incr_old_size.fetch_add(old_size, Ordering::Relaxed);
        }
        self.reader = Some(sw.reader);
        self.pos = sw.at;
        self.stream_db = sw.stream_db;
        self.file_db = None;
        self.last_fsync = Instant::now();
        match opened {
            Ok(f) => {
                self.file = Some(f);
                self.file_failed = false;
                c.file_name = Some(name.clone());
                c.switches_done = sw.id;
                c.epoch_at_switch = self.sh.poison_epoch.load(Ordering::Acquire);
                drop(c);
                self.sh.cv.notify_all();
                if !sw.temp {
                    self.log(
                        Level::Notice,
                        &format!("Creating AOF incr file {name} on background rewrite"),
                    );
                }
            }
            Err(e) => {
                self.file = None;
                self.file_failed = true;
                c.switch_failed = sw.id;
                drop(c);
                self.sh.cv.notify_all();
                self.sh.poison(&e);
                self.log(
                    Level::Warning,
                    &format!("Can't open the append-only file {name}: {}", strerror(&e)),
                );
            }
        }
    }
}

/// Keeps the first `keep` bytes of `chunks`.
fn trim_chunks(chunks: &mut Vec<Bytes>, keep: usize) {
    let mut left = keep;
    let mut n = 0;
    for c in chunks.iter_mut() {
        if left == 0 {
            break;
        }
        if c.len() > left {
            c.truncate(left);
        }
        left -= c.len();
        n += 1;
    }
    chunks.truncate(n);
}

fn temp_incr_name(prefix: &str) -> String {
    format!("{}{prefix}{}", manifest::TEMP_PREFIX, manifest::INCR_SUFFIX)
}

// ---- writing a base --------------------------------------------------------------

fn flush_buf(out: &mut dyn Write, buf: &mut Vec<u8>, force: bool) -> io::Result<()> {
    if force || buf.len() >= 64 * 1024 {
        out.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

fn cmd_head(buf: &mut Vec<u8>, argc: usize, name: &[u8], key: &[u8]) {
    encode::array(buf, argc);
    encode::bulk(buf, name);
    encode::bulk(buf, key);
}

fn score_text(s: f64) -> String {
    if s.is_infinite() {
        if s > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{s}")
    }
}

/// Writes a snapshot as commands (a base with `aof-use-rdb-preamble no`), as Redis's
/// `rewriteAppendOnlyFileRio` does: SET, RPUSH, SADD, ZADD, HMSET in batches of 64
/// elements, then PEXPIREAT.
fn write_commands(
    out: &mut dyn Write,
    snap: &mut Snapshot<'_>,
    progress: &AtomicU64,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(128 * 1024);
    let mut db = None;
    while let Some(img) = snap.next_image() {
        if img.is_empty() {
            continue;
        }
        if db != Some(img.db) {
            db = Some(img.db);
            let dbs = img.db.to_string();
            encode::command(&mut buf, &[&b"SELECT"[..], dbs.as_bytes()]);
        }
        for (key, value, expire) in img.iter() {
            match value {
                ValueRef::Str(s) => encode::command(&mut buf, &[&b"SET"[..], key, s]),
                ValueRef::Obj(Object::List(l)) => {
                    let items: Vec<&[u8]> = l.iter().collect();
                    for part in items.chunks(ITEMS_PER_CMD) {
                        cmd_head(&mut buf, part.len() + 2, b"RPUSH", key);
                        for it in part {
                            encode::bulk(&mut buf, it);
                        }
                    }
                }
                ValueRef::Obj(Object::Set(s)) => {
                    let items: Vec<_> = s.iter().collect();
                    for part in items.chunks(ITEMS_PER_CMD) {
                        cmd_head(&mut buf, part.len() + 2, b"SADD", key);
                        for it in part {
                            encode::bulk(&mut buf, it);
                        }
                    }
                }
                ValueRef::Obj(Object::ZSet(z)) => {
                    let items: Vec<(&[u8], f64)> = z.iter().collect();
                    for part in items.chunks(ITEMS_PER_CMD) {
                        cmd_head(&mut buf, part.len() * 2 + 2, b"ZADD", key);
                        for (m, sc) in part {
                            encode::bulk(&mut buf, score_text(*sc).as_bytes());
                            encode::bulk(&mut buf, m);
                        }
                    }
                }
                ValueRef::Obj(Object::Hash(h)) => {
                    let items: Vec<(&[u8], &[u8])> = h.iter().collect();
                    for part in items.chunks(ITEMS_PER_CMD) {
                        cmd_head(&mut buf, part.len() * 2 + 2, b"HMSET", key);
                        for (f, v) in part {
                            encode::bulk(&mut buf, f);
                            encode::bulk(&mut buf, v);
                        }
                    }
                }
            }
            if let Some(t) = expire {
                let ts = t.to_string();
                encode::command(&mut buf, &[&b"PEXPIREAT"[..], key, ts.as_bytes()]);
            }
            flush_buf(out, &mut buf, false)?;
        }
        progress.fetch_add(img.len() as u64, Ordering::Relaxed);
    }
    flush_buf(out, &mut buf, true)
}

/// Writes a base file at `path` from `snap` and fsyncs it; returns its size.
fn write_base(
    sh: &Shared,
    path: &Path,
    snap: &mut Snapshot<'_>,
    abort: &AtomicBool,
) -> io::Result<u64> {
    let preamble = sh.config.get_bool("aof-use-rdb-preamble");
    let file = File::create(path)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    {
        let mut out = Abortable {
            inner: &mut w,
            abort,
        };
        let progress = &sh.persist.rdb.keys_processed;
        if preamble {
            let aux = Aux {
                repl_id: None,
                repl_offset: 0,
                repl_stream_db: 0,
            };
            let compression = sh.config.get_bool("rdbcompression");
            crate::rdb::write_snapshot_with(
                sh,
                &mut out,
                snap,
                &aux,
                compression,
                true,
                Some(progress),
            )?;
        } else {
            write_commands(&mut out, snap, progress)?;
        }
    }
    w.flush()?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

// ---- starting and stopping -------------------------------------------------------

/// Reads the AOF settings into the shared state.
fn configure(sh: &Shared) -> PathBuf {
    let a = &sh.persist.aof.sh;
    let dir = data_dir(sh).join(sh.config.get("appenddirname").unwrap_or_default());
    *a.dir.lock() = dir.clone();
    *a.prefix.lock() = sh.config.get("appendfilename").unwrap_or_default();
    *a.log.lock() = Some(sh.repl.log.clone());
    a.policy.store(
        policy_code(&sh.config.get("appendfsync").unwrap_or_default()),
        Ordering::Release,
    );
    a.timestamps.store(
        sh.config.get_bool("aof-timestamp-enabled"),
        Ordering::Release,
    );
    dir
}

/// Turns the log on and routes every change into it.
fn activate_log(sh: &Shared) {
    sh.repl.log.activate();
    sh.enable_log_propagation();
}

fn file_len(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Starts appending to the AOF directory just loaded (`manifest` from the load).
pub(crate) fn start_existing(sh: &Arc<Shared>, mut m: AofManifest) -> Result<(), String> {
    let a = &sh.persist.aof;
    let dir = configure(sh);
    let prefix = a.sh.prefix();
    let err = |e: io::Error| format!("Can't open the append-only file: {}", strerror(&e));
    if m.incr.is_empty() {
        let name = m.new_incr(&prefix);
        File::create(dir.join(&name)).map_err(err)?;
        a.sh.persist_manifest(&m).map_err(err)?;
        sh.log(
            Level::Notice,
            &format!("Creating AOF incr file {name} on server start"),
        );
    }
    let last = m.incr.last().map(|i| i.name.clone()).unwrap_or_default();
    let file = OpenOptions::new()
        .append(true)
        .open(dir.join(&last))
        .map_err(err)?;
    let base = m.base.as_ref().map_or(0, |b| file_len(&dir.join(&b.name)));
    let old: u64 = m.incr[..m.incr.len() - 1]
        .iter()
        .map(|i| file_len(&dir.join(&i.name)))
        .sum();
    let cur = file_len(&dir.join(&last));
    a.sh.base_size.store(base, Ordering::Relaxed);
    a.sh.incr_old_size.store(old, Ordering::Relaxed);
    a.sh.incr_cur_size.store(cur, Ordering::Relaxed);
    a.sh.rewrite_base_size
        .store(base + old + cur, Ordering::Relaxed);
    activate_log(sh);
    let log = &sh.repl.log;
    log.reset_last_db();
    let at = log.offset();
    let reader = log
        .reader(at, ReaderLimit::NONE)
        .map_err(|e| e.to_string())?;
    {
        let mut c = a.sh.ctl.lock();
        c.manifest = m;
        c.file_name = Some(last);
    }
    let mut w = Writer::new(a.sh.clone(), Arc::downgrade(sh));
    w.reader = Some(reader);
    w.pos = at;
    w.stream_db = master_stream_db(sh);
    w.file = Some(file);
    a.sh.synced.store(at, Ordering::Release);
    a.sh.processed.store(at, Ordering::Relaxed);
    a.sh.poisoned.store(false, Ordering::Release);
    a.sh.state.store(ON, Ordering::Release);
    a.spawn_writer(w).map_err(err)
}

/// Creates a new AOF directory (base from the current data, empty incr file, manifest)
/// and starts appending: `appendonly yes` at start-up without an AOF.
pub(crate) fn start_fresh(sh: &Arc<Shared>) -> Result<(), String> {
    let a = &sh.persist.aof;
    let dir = configure(sh);
    let prefix = a.sh.prefix();
    let err = |e: io::Error| format!("Can't create the append-only file: {}", strerror(&e));
    fs::create_dir_all(&dir).map_err(err)?;
    activate_log(sh);
    let log = sh.repl.log.clone();
    let never = AtomicBool::new(false);
    let (mut snap, (at, reader, stream_db)) = begin_snapshot_waiting(sh, None, || {
        let stream_db = master_stream_db(sh);
        log.reset_last_db();
        let at = log.offset();
        (at, log.reader(at, ReaderLimit::NONE), stream_db)
    })
    .ok_or("interrupted")?;
    let reader = reader.map_err(|e| e.to_string())?;
    let mut m = AofManifest::default();
    let preamble = sh.config.get_bool("aof-use-rdb-preamble");
    let base = m.new_base(&prefix, preamble);
    let tmp = dir.join(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let base_size = write_base(sh, &tmp, &mut snap, &never).map_err(err);
    drop(snap);
    let base_size = match base_size {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    fs::rename(&tmp, dir.join(&base)).map_err(err)?;
    sh.log(
        Level::Notice,
        &format!("Creating AOF base file {base} on server start"),
    );
    let incr = m.new_incr(&prefix);
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(dir.join(&incr))
        .map_err(err)?;
    a.sh.persist_manifest(&m).map_err(err)?;
    sh.log(
        Level::Notice,
        &format!("Creating AOF incr file {incr} on server start"),
    );
    a.sh.base_size.store(base_size, Ordering::Relaxed);
    a.sh.incr_old_size.store(0, Ordering::Relaxed);
    a.sh.incr_cur_size.store(0, Ordering::Relaxed);
    a.sh.rewrite_base_size.store(base_size, Ordering::Relaxed);
    {
        let mut c = a.sh.ctl.lock();
        c.manifest = m;
        c.file_name = Some(incr);
    }
    let mut w = Writer::new(a.sh.clone(), Arc::downgrade(sh));
    w.reader = Some(reader);
    w.pos = at;
    w.stream_db = stream_db;
    w.file = Some(file);
    a.sh.synced.store(at, Ordering::Release);
    a.sh.processed.store(at, Ordering::Relaxed);
    a.sh.poisoned.store(false, Ordering::Release);
    a.sh.state.store(ON, Ordering::Release);
    a.spawn_writer(w).map_err(err)
}

/// CONFIG SET appendonly yes: a writer waiting for its first file, and a rewrite that
/// gives it one (the AOF counts as on once the rewrite completes).
pub(crate) fn start_at_runtime(sh: &Arc<Shared>) {
    let a = &sh.persist.aof;
    if a.sh.state.load(Ordering::Acquire) != OFF {
        return;
    }
    a.stop(None);
    let dir = configure(sh);
    if let Err(e) = fs::create_dir_all(&dir) {
        sh.log(
            Level::Warning,
            &format!(
                "Can't create the append-only directory {}: {}",
                dir.display(),
                strerror(&e)
            ),
        );
    }
    let m = fs::read(dir.join(manifest::manifest_name(&a.sh.prefix())))
        .ok()
        .and_then(|t| AofManifest::parse(&t).ok())
        .unwrap_or_default();
    a.sh.ctl.lock().manifest = m;
    a.sh.poisoned.store(false, Ordering::Release);
    a.sh.state.store(WAIT_REWRITE, Ordering::Release);
    activate_log(sh);
    let w = Writer::new(a.sh.clone(), Arc::downgrade(sh));
    if let Err(e) = a.spawn_writer(w) {
        sh.log(
            Level::Warning,
            &format!("Can't start the AOF writer: {}", strerror(&e)),
        );
        a.sh.state.store(OFF, Ordering::Release);
        return;
    }
    if start_rewrite(sh).is_err() {
        a.sh.rewrite_scheduled.store(true, Ordering::Release);
    }
}

/// CONFIG SET appendonly no: syncs what was executed and stops the writer.
pub(crate) fn stop_at_runtime(sh: &Shared) {
    let a = &sh.persist.aof;
    // Held replies stay held until the writer has synced what they wait for.
    a.stop(Some(sh.repl.log.offset()));
    a.sh.state.store(OFF, Ordering::Release);
    a.sh.poisoned.store(false, Ordering::Release);
    a.sh.rewrite_scheduled.store(false, Ordering::Release);
    a.sh.wake_all_waiters();
}

// ---- rewriting -------------------------------------------------------------------

/// Why BGREWRITEAOF did not start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RewriteRefused {
    /// A rewrite is running.
    InProgress,
    /// The thread could not be started.
    Spawn,
}

/// Starts the `aof-rewrite` thread.
pub(crate) fn start_rewrite(sh: &Arc<Shared>) -> Result<(), RewriteRefused> {
    let a = &sh.persist.aof.sh;
    if a.rewrite_running.swap(true, Ordering::AcqRel) {
        return Err(RewriteRefused::InProgress);
    }
    a.rewrite_scheduled.store(false, Ordering::Release);
    a.needs_rewrite.store(false, Ordering::Release);
    let started = Instant::now();
    *a.rewrite_started.lock() = Some(started);
    a.last_rewrite_try_ms
        .store(sh.clock.now_ms(), Ordering::Relaxed);
    sh.persist.rdb.keys_processed.store(0, Ordering::Relaxed);
    let mode = match a.state.load(Ordering::Acquire) {
        OFF => RewriteMode::Offline,
        WAIT_REWRITE => RewriteMode::Enable,
        _ => RewriteMode::Online,
    };
    if mode == RewriteMode::Offline && !sh.persist.aof.is_running() {
        // Continue the directory's sequence numbers, as Redis keeps its manifest.
        let dir = configure(sh);
        let m = fs::read(dir.join(manifest::manifest_name(&a.prefix())))
            .ok()
            .and_then(|t| AofManifest::parse(&t).ok())
            .unwrap_or_default();
        a.ctl.lock().manifest = m;
    }
    let sh2 = sh.clone();
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let a = &sh2.persist.aof.sh;
            let r = rewrite(&sh2, mode);
            let aborted = r.is_err() && sh2.persist.abort.load(Ordering::Acquire);
            a.last_rewrite_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            match &r {
                Ok(()) => {
                    a.last_rewrite_ok.store(true, Ordering::Relaxed);
                    a.rewrites.fetch_add(1, Ordering::Relaxed);
                    a.consecutive_failures.store(0, Ordering::Relaxed);
                    sh2.log(
                        Level::Notice,
                        "Background AOF rewrite finished successfully",
                    );
                }
                Err(e) if aborted => sh2.log(Level::Warning, e),
                Err(e) => {
                    a.last_rewrite_ok.store(false, Ordering::Relaxed);
                    a.consecutive_failures.fetch_add(1, Ordering::Relaxed);
                    sh2.log(Level::Warning, e);
                    sh2.log(
                        Level::Warning,
                        "Background AOF rewrite terminated with error",
                    );
                }
            }
            *a.rewrite_started.lock() = None;
            a.rewrite_running.store(false, Ordering::Release);
        });
    match spawned {
        Ok(h) => {
            sh.persist.threads.lock().push(h);
            sh.log(
                Level::Notice,
                "Background append only file rewriting started (fork-free snapshot)",
            );
            Ok(())
        }
        Err(_) => {
            *a.rewrite_started.lock() = None;
            a.rewrite_running.store(false, Ordering::Release);
            a.last_rewrite_ok.store(false, Ordering::Relaxed);
            Err(RewriteRefused::Spawn)
        }
    }
}

/// One rewrite; the caller records the outcome.
fn rewrite(sh: &Arc<Shared>, mode: RewriteMode) -> Result<(), String> {
    let a = &sh.persist.aof.sh;
    let abort = &sh.persist.abort;
    let dir = a.dir();
    let prefix = a.prefix();
    let fail = |e: io::Error| format!("Error rewriting the append only file: {}", strerror(&e));
    fs::create_dir_all(&dir).map_err(fail)?;
    let log = sh.repl.log.clone();
    let online = mode != RewriteMode::Offline;
    // The switch is handed to the writer inside the snapshot's instant, so the writer
    // cannot put anything appended after `at` into the old incr file.
    let (mut snap, switch) = begin_snapshot_waiting(sh, Some(abort), || {
        if !online {
            return Ok(0);
        }
        let stream_db = master_stream_db(sh);
        log.reset_last_db();
        let at = log.offset();
        let reader = log
            .reader(at, ReaderLimit::NONE)
            .map_err(|e| e.to_string())?;
        let mut c = a.ctl.lock();
        if !c.writer_alive {
            return Err("The AOF writer stopped during the rewrite".to_string());
        }
        c.next_switch += 1;
        let id = c.next_switch;
        c.switch = Some(Switch {
            at,
            reader,
            stream_db,
            temp: mode == RewriteMode::Enable,
            id,
        });
        Ok(id)
    })
    .ok_or("Background AOF rewrite interrupted by shutdown")?;
    let switch_id = switch?;
    if online {
        a.wake_writer();
    }
    let tmp_name = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
    let tmp = dir.join(&tmp_name);
    let written = write_base(sh, &tmp, &mut snap, abort);
    drop(snap);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    sh.log(
        Level::Notice,
        &format!("Successfully created the temporary AOF base file {tmp_name}"),
    );
    let mut c = a.ctl.lock();
    if online {
        loop {
            if c.switches_done >= switch_id {
                break;
            }
            if c.switch_failed == switch_id || !c.writer_alive || abort.load(Ordering::Acquire) {
                drop(c);
                let _ = fs::remove_file(&tmp);
                return Err("The AOF writer could not switch to a new incr file".into());
            }
            a.cv.wait_for(&mut c, Duration::from_millis(100));
        }
    }
    sh.log(
        Level::Notice,
        "Background AOF rewrite terminated with success",
    );
    let preamble = sh.config.get_bool("aof-use-rdb-preamble");
    let mut m = c.manifest.clone();
    let base = m.new_base(&prefix, preamble);
    let installed = (|| {
        fs::rename(&tmp, dir.join(&base))?;
        sh.log(
            Level::Notice,
            &format!("Successfully renamed the temporary AOF base file {tmp_name} into {base}"),
        );
        if mode == RewriteMode::Enable {
            let temp = temp_incr_name(&prefix);
            let incr = m.new_incr(&prefix);
            fs::rename(dir.join(&temp), dir.join(&incr))?;
            sh.log(
                Level::Notice,
                &format!("Successfully renamed the temporary AOF incr file {temp} into {incr}"),
            );
            c.file_name = Some(incr);
        }
        m.mark_rewritten_incr_as_history(online);
        a.persist_manifest(&m)
    })();
    if let Err(e) = installed {
        drop(c);
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // The old files are no longer named by the manifest: delete them.
    let history = std::mem::take(&mut m.history);
    for h in &history {
        sh.log(
            Level::Notice,
            &format!("Removing the history file {} in the background", h.name),
        );
        let _ = fs::remove_file(dir.join(&h.name));
    }
    let _ = a.persist_manifest(&m);
    let _ = fsutil::sync_dir(&dir);
    c.manifest = m;
    let healed = c.epoch_at_switch == a.poison_epoch.load(Ordering::Acquire);
    drop(c);
    let base_size = file_len(&dir.join(&base));
    a.base_size.store(base_size, Ordering::Relaxed);
    a.incr_old_size.store(0, Ordering::Relaxed);
    if !online {
        a.incr_cur_size.store(0, Ordering::Relaxed);
    }
    a.rewrite_base_size
        .store(a.current_size(), Ordering::Relaxed);
    if online && healed && a.poisoned.swap(false, Ordering::AcqRel) {
        sh.log(
            Level::Warning,
            "AOF write error looks solved, Redis can write again.",
        );
    }
    if mode == RewriteMode::Enable {
        // Clients are held for the AOF from now on; what came before is in the base.
        a.synced
            .fetch_max(a.processed.load(Ordering::Acquire), Ordering::AcqRel);
        a.state
            .compare_exchange(WAIT_REWRITE, ON, Ordering::AcqRel, Ordering::Acquire)
            .ok();
    }
    Ok(())
}

/// Scheduled, automatic and retried rewrites.
pub(crate) fn cron(sh: &Arc<Shared>) {
    let a = &sh.persist.aof.sh;
    if busy(sh) {
        return;
    }
    let state = a.state.load(Ordering::Acquire);
    let now = sh.clock.now_ms();
    let retry_due = now.saturating_sub(a.last_rewrite_try_ms.load(Ordering::Relaxed)) > RETRY_MS;
    if a.rewrite_scheduled.load(Ordering::Acquire)
        || (state != OFF && a.needs_rewrite.load(Ordering::Acquire))
    {
        let _ = start_rewrite(sh);
        return;
    }
    if state == WAIT_REWRITE && retry_due {
        let _ = start_rewrite(sh);
        return;
    }
    if state != ON {
        return;
    }
    if a.poisoned.load(Ordering::Acquire) && retry_due {
        sh.log(
            Level::Notice,
            "Rewriting the AOF to recover from a write error",
        );
        let _ = start_rewrite(sh);
        return;
    }
    let perc = sh.config.get_i64("auto-aof-rewrite-percentage").max(0) as u64;
    let min = sh.config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
    let cur = a.current_size();
    if perc > 0 && cur > min {
        let base = a.rewrite_base_size.load(Ordering::Relaxed).max(1);
        let growth = (cur * 100 / base).saturating_sub(100);
        if growth >= perc {
            sh.log(
                Level::Notice,
                &format!("Starting automatic rewriting of AOF on {growth}% growth"),
            );
            let _ = start_rewrite(sh);
        }
    }
}
