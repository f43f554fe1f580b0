//! RDB snapshots: SAVE (in the caller), BGSAVE (on the `bgsave` thread), save points
//! (`save <seconds> <changes> ...`, checked by the cron), and `INFO persistence`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tandem_keyspace::Snapshot;
use tandem_persist::fsutil;

use super::{rdb_path, save_params, strerror};
use crate::rdb::Aux;
use crate::session::ClientKind;
use crate::{Level, Shared};

/// Seconds before a failed background save is retried by a save point
/// (`CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_MS: u64 = 5000;

/// State and counters of RDB saving.
pub(crate) struct RdbState {
    pub(crate) bgsave_running: AtomicBool,
    pub(crate) bgsave_started: Mutex<Option<Instant>>,
    pub(crate) bgsave_scheduled: AtomicBool,
    /// Unix seconds of the last successful save (LASTSAVE), start time before any.
    pub(crate) last_save_s: AtomicU64,
    pub(crate) last_bgsave_ok: AtomicBool,
    pub(crate) last_bgsave_try_ms: AtomicU64,
    pub(crate) last_bgsave_secs: AtomicI64,
    /// `Stats::dirty` as of the last successful save.
    pub(crate) dirty_at_save: AtomicU64,
    pub(crate) saves: AtomicU64,
    pub(crate) keys_processed: AtomicU64,
    pub(crate) keys_total: AtomicU64,
    pub(crate) last_load_loaded: AtomicU64,
    pub(crate) last_load_expired: AtomicU64,
}

impl RdbState {
    pub(crate) fn new(now_ms: u64) -> RdbState {
        RdbState {
            bgsave_running: AtomicBool::new(false),
            bgsave_started: Mutex::new(None),
            bgsave_scheduled: AtomicBool::new(false),
            last_save_s: AtomicU64::new(now_ms / 1000),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_try_ms: AtomicU64::new(0),
            last_bgsave_secs: AtomicI64::new(-1),
            dirty_at_save: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            keys_processed: AtomicU64::new(0),
            keys_total: AtomicU64::new(0),
            last_load_loaded: AtomicU64::new(0),
            last_load_expired: AtomicU64::new(0),
        }
    }

    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub(crate) fn changes(&self, sh: &Shared) -> u64 {
        sh.stats
            .dirty
            .load(Ordering::Relaxed)
            .saturating_sub(self.dirty_at_save.load(Ordering::Relaxed))
    }
}

/// A writer that fails once `abort` is set (shutdown stops a background save).
pub(crate) struct Abortable<'a, W: Write + ?Sized> {
    pub(crate) inner: &'a mut W,
    pub(crate) abort: &'a AtomicBool,
}

impl<W: Write + ?Sized> Write for Abortable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.abort.load(Ordering::Relaxed) {
            return Err(io::Error::other("interrupted by shutdown"));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The database our master's stream has selected (a replica), for `repl-stream-db`.
pub(crate) fn master_stream_db(sh: &Shared) -> Option<usize> {
    sh.master()?;
    sh.clients
        .all()
        .iter()
        .find(|c| c.kind() == ClientKind::Master)
        .map(|c| c.db.load(Ordering::Relaxed))
}

/// Begins a snapshot, waiting while another one (a full sync, a rewrite) holds the
/// keyspace's snapshot slot. `at` runs with every shard locked. `None` if `abort` was
/// set while waiting.
pub(crate) fn begin_snapshot_waiting<'k, R>(
    sh: &'k Shared,
    abort: Option<&AtomicBool>,
    mut at: impl FnMut() -> R,
) -> Option<(Snapshot<'k>, R)> {
    loop {
        if let Some(b) = sh.begin_snapshot(&mut at) {
            return Some(b);
        }
        if abort.is_some_and(|a| a.load(Ordering::Acquire)) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Writes the RDB file (temp file, fsync, rename). Returns the `dirty` count the
/// snapshot includes.
fn write_rdb(
    sh: &Shared,
    abort: Option<&AtomicBool>,
    progress: Option<&AtomicU64>,
) -> Result<u64, String> {
    let path = rdb_path(sh);
    let begun = begin_snapshot_waiting(sh, abort, || {
        let log = &sh.repl.log;
        let aux = if log.is_active() {
            Aux {
                repl_id: Some(log.replid()),
                repl_offset: log.offset(),
                repl_stream_db: master_stream_db(sh).unwrap_or(0),
            }
        } else {
            Aux {
                repl_id: None,
                repl_offset: 0,
                repl_stream_db: 0,
            }
        };
        (aux, sh.stats.dirty.load(Ordering::Relaxed))
    });
    let Some((mut snap, (aux, dirty))) = begun else {
        return Err("interrupted by shutdown".into());
    };
    let compression = sh.config.get_bool("rdbcompression");
    let never = AtomicBool::new(false);
    let abort = abort.unwrap_or(&never);
    let r = fsutil::write_atomic(&path, |w| {
        let mut out = Abortable { inner: w, abort };
        crate::rdb::write_snapshot_with(sh, &mut out, &mut snap, &aux, compression, false, progress)
    });
    drop(snap);
    r.map(|_| dirty)
        .map_err(|e| format!("Write error saving DB on disk: {}", strerror(&e)))
}

/// Records the outcome of a save. A failed SAVE (foreground) leaves
/// `rdb_last_bgsave_status` alone, as Redis does; a failed BGSAVE sets it to `err`.
fn finish(sh: &Shared, r: &Result<u64, String>, background: bool) {
    let st = &sh.persist.rdb;
    match r {
        Ok(dirty) => {
            st.dirty_at_save.fetch_max(*dirty, Ordering::Relaxed);
            st.last_save_s
                .store(sh.clock.now_ms() / 1000, Ordering::Relaxed);
            st.last_bgsave_ok.store(true, Ordering::Relaxed);
            st.saves.fetch_add(1, Ordering::Relaxed);
            sh.log(Level::Notice, "DB saved on disk");
        }
        Err(e) => {
            if background {
                st.last_bgsave_ok.store(false, Ordering::Relaxed);
            }
            sh.log(Level::Warning, e);
        }
    }
}

/// SAVE: writes the RDB in the calling thread.
pub(crate) fn save_sync(sh: &Shared) -> Result<(), String> {
    let r = write_rdb(sh, None, None);
    finish(sh, &r, false);
    r.map(|_| ())
}

/// Why BGSAVE did not start.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BgsaveRefused {
    /// A background save is running.
    InProgress,
    /// The thread could not be started.
    Spawn,
}

/// BGSAVE: starts the `bgsave` thread.
pub(crate) fn bgsave(sh: &Arc<Shared>) -> Result<(), BgsaveRefused> {
    let st = &sh.persist.rdb;
    if st.bgsave_running.swap(true, Ordering::AcqRel) {
        return Err(BgsaveRefused::InProgress);
    }
    let started = Instant::now();
    *st.bgsave_started.lock() = Some(started);
    st.keys_processed.store(0, Ordering::Relaxed);
    let total: usize = (0..sh.keyspace.databases())
        .map(|db| sh.keyspace.dbsize(db))
        .sum();
    st.keys_total.store(total as u64, Ordering::Relaxed);
    st.last_bgsave_try_ms
        .store(sh.clock.now_ms(), Ordering::Relaxed);
    let sh2 = sh.clone();
    let abort = sh.persist.abort.clone();
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let st = &sh2.persist.rdb;
            let r = write_rdb(&sh2, Some(&abort), Some(&st.keys_processed));
            // Stopped by shutdown: not a failed save (Redis kills its child with SIGUSR1).
            let aborted = r.is_err() && abort.load(Ordering::Acquire);
            finish(&sh2, &r, !aborted);
            st.last_bgsave_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            *st.bgsave_started.lock() = None;
            st.bgsave_running.store(false, Ordering::Release);
            sh2.log(
                if r.is_ok() {
                    Level::Notice
                } else {
                    Level::Warning
                },
                if r.is_ok() {
                    "Background saving terminated with success"
                } else {
                    "Background saving error"
                },
            );
        });
    match spawned {
        Ok(h) => {
            sh.persist.threads.lock().push(h);
            sh.log(
                Level::Notice,
                "Background saving started (fork-free snapshot)",
            );
            Ok(())
        }
        Err(e) => {
            st.bgsave_running.store(false, Ordering::Release);
            st.last_bgsave_ok.store(false, Ordering::Relaxed);
            sh.log(
                Level::Warning,
                &format!("Can't save in background: {}", strerror(&e)),
            );
            Err(BgsaveRefused::Spawn)
        }
    }
}

/// Whether a BGSAVE or an AOF rewrite is running (Redis's "active child").
pub(crate) fn busy(sh: &Shared) -> bool {
    sh.persist.rdb.bgsave_running.load(Ordering::Acquire) || sh.persist.aof.rewrite_running()
}

/// Save points and scheduled BGSAVEs.
pub(crate) fn cron(sh: &Arc<Shared>) {
    if busy(sh) {
        return;
    }
    let st = &sh.persist.rdb;
    if st.bgsave_scheduled.swap(false, Ordering::AcqRel) {
        let _ = bgsave(sh);
        return;
    }
    let now = sh.clock.now_ms();
    let changes = st.changes(sh);
    let last_save_ms = st.last_save_s.load(Ordering::Relaxed) * 1000;
    let retry_ok = now.saturating_sub(st.last_bgsave_try_ms.load(Ordering::Relaxed))
        > RETRY_DELAY_MS
        || st.last_bgsave_ok.load(Ordering::Relaxed);
    for (secs, need) in save_params(sh) {
        if changes >= need && now.saturating_sub(last_save_ms) > secs * 1000 && retry_ok {
            sh.log(
                Level::Notice,
                &format!("{need} changes in {secs} seconds. Saving..."),
            );
            let _ = bgsave(sh);
            return;
        }
    }
}

fn line(o: &mut String, k: &str, v: impl std::fmt::Display) {
    let _ = write!(o, "{k}:{v}\r\n");
}

/// `INFO persistence`, Redis 7.0's fields in Redis's order.
pub(crate) fn info(sh: &Shared, o: &mut String) {
    let p = &sh.persist;
    let st = &p.rdb;
    let loading = sh.loading.load(Ordering::Relaxed);
    line(o, "loading", u8::from(loading));
    line(o, "async_loading", 0);
    line(o, "current_cow_peak", 0);
    line(o, "current_cow_size", 0);
    line(o, "current_cow_size_age", 0);
    line(o, "current_fork_perc", "0.00");
    let bg_started = *st.bgsave_started.lock();
    let (processed, total) = if bg_started.is_some() {
        (
            st.keys_processed.load(Ordering::Relaxed),
            st.keys_total.load(Ordering::Relaxed),
        )
    } else {
        (0, 0)
    };
    line(o, "current_save_keys_processed", processed);
    line(o, "current_save_keys_total", total);
    line(o, "rdb_changes_since_last_save", st.changes(sh));
    line(o, "rdb_bgsave_in_progress", u8::from(bg_started.is_some()));
    line(
        o,
        "rdb_last_save_time",
        st.last_save_s.load(Ordering::Relaxed),
    );
    line(
        o,
        "rdb_last_bgsave_status",
        if st.last_bgsave_ok.load(Ordering::Relaxed) {
            "ok"
        } else {
            "err"
        },
    );
    line(
        o,
        "rdb_last_bgsave_time_sec",
        st.last_bgsave_secs.load(Ordering::Relaxed),
    );
    line(
        o,
        "rdb_current_bgsave_time_sec",
        bg_started.map_or(-1, |t| t.elapsed().as_secs() as i64),
    );
    line(o, "rdb_saves", st.saves.load(Ordering::Relaxed));
    line(o, "rdb_last_cow_size", 0);
    line(
        o,
        "rdb_last_load_keys_expired",
        st.last_load_expired.load(Ordering::Relaxed),
    );
    line(
        o,
        "rdb_last_load_keys_loaded",
        st.last_load_loaded.load(Ordering::Relaxed),
    );
    p.aof.info(o);
    if loading {
        p.loading.info(sh, o);
    }
}

/// Inserts the entries of an RDB through a guard that holds every shard.
struct GuardLoad<'g, 'e> {
    ks: &'g mut tandem_keyspace::Guard<'e>,
    now_ms: u64,
    databases: usize,
    scratch: Vec<u8>,
}

impl tandem_persist::rdb::RdbVisitor for GuardLoad<'_, '_> {
    fn entry(
        &mut self,
        e: tandem_persist::rdb::Entry<'_>,
    ) -> Result<(), tandem_persist::rdb::VisitError> {
        let db = e.db as usize;
        if db >= self.databases {
            return Err("the file names a database beyond 'databases'".into());
        }
        let expire = e.expire_ms.map(|t| t.max(0) as u64);
        if expire.is_some_and(|t| t <= self.now_ms) {
            return Ok(());
        }
        let value = crate::rdb::value_of(&e, &mut self.scratch)?;
        let ttl = match expire {
            Some(t) => tandem_keyspace::Ttl::At(t),
            None => tandem_keyspace::Ttl::Clear,
        };
        self.ks.set(db, e.key, value, ttl);
        Ok(())
    }
}

/// Writes every key the guard holds (all shards) as an RDB at `path`.
fn write_locked(c: &mut crate::Call<'_, '_>, path: &std::path::Path) -> io::Result<()> {
    use tandem_keyspace::{Object, ValueRef};
    use tandem_persist::rdb::{AuxFields, KeyMeta, RdbWriter, ReplAux, WriteOptions};
    let sh = c.engine;
    let opts = WriteOptions {
        compression: sh.config.get_bool("rdbcompression"),
        checksum: sh.config.get_bool("rdbchecksum"),
        ..WriteOptions::default()
    };
    let log = &sh.repl.log;
    let fields = AuxFields {
        ctime: (c.now_ms / 1000) as i64,
        used_mem: sh.keyspace.used_memory() as u64,
        repl: log.is_active().then(|| ReplAux {
            stream_db: master_stream_db(sh).unwrap_or(0) as i64,
            replid: log.replid().to_string(),
            offset: log.offset() as i64,
        }),
        ..AuxFields::default()
    };
    let dbs = sh.keyspace.databases();
    let ks = &mut *c.ks;
    fsutil::write_atomic(path, |out| {
        let err = |e: tandem_persist::rdb::WriteError| io::Error::other(e.to_string());
        let mut w = RdbWriter::new(out, opts);
        w.aux_fields(&fields).map_err(err)?;
        for db in 0..dbs {
            let n = ks.db_len(db);
            if n == 0 {
                continue;
            }
            w.select_db(db as u64, n as u64, sh.keyspace.expires_count(db) as u64)
                .map_err(err)?;
            let mut failed = None;
            ks.for_each(db, |key, value, expire| {
                if failed.is_some() {
                    return;
                }
                let meta = KeyMeta::expiring(expire.map(|e| e as i64));
                let r = match value {
                    ValueRef::Str(s) => w.string(key, s, &meta),
                    ValueRef::Obj(Object::List(l)) => w.list(key, &meta, l.iter()),
                    ValueRef::Obj(Object::Set(s)) => w.set(key, &meta, s.len(), s.iter()),
                    ValueRef::Obj(Object::Hash(h)) => w.hash(key, &meta, h.len(), h.iter()),
                    ValueRef::Obj(Object::ZSet(z)) => w.zset(key, &meta, z.len(), z.iter().rev()),
                };
                if let Err(e) = r {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(err(e));
            }
        }
        w.finish().map_err(err)?;
        Ok(())
    })
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the RDB, empties the data set and
/// loads the file back. DEBUG holds every shard, so this is one atomic step.
pub(crate) fn debug_reload(c: &mut crate::Call<'_, '_>) -> crate::CmdResult {
    use crate::CmdError;
    let (mut noflush, mut nosave) = (false, false);
    for i in 2..c.argc() {
        if c.is(i, "merge") {
            // Keys from the file replace existing ones either way.
        } else if c.is(i, "noflush") {
            noflush = true;
        } else if c.is(i, "nosave") {
            nosave = true;
        } else {
            return Err(CmdError::fixed(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    let sh = c.engine;
    let path = rdb_path(sh);
    if !nosave {
        let dirty = sh.stats.dirty.load(Ordering::Relaxed);
        let r = write_locked(c, &path)
            .map(|_| dirty)
            .map_err(|e| format!("Write error saving DB on disk: {}", strerror(&e)));
        finish(sh, &r, false);
        if r.is_err() {
            return Err(CmdError::fixed("ERR"));
        }
    }
    let dbs = sh.keyspace.databases();
    if !noflush {
        for db in 0..dbs {
            c.ks.clear_db(db);
        }
    }
    let mut v = GuardLoad {
        ks: &mut *c.ks,
        now_ms: c.now_ms,
        databases: dbs,
        scratch: Vec::new(),
    };
    let opts = tandem_persist::rdb::ReadOptions {
        verify_checksum: sh.config.get_bool("rdbchecksum"),
    };
    if let Err(e) = tandem_persist::rdb::read_file(&path, &mut v, &opts) {
        sh.log(
            Level::Warning,
            &format!("Error loading {}: {e}", path.display()),
        );
        return Err(CmdError::fixed(
            "ERR Error trying to load the RDB dump, check server logs.",
        ));
    }
    sh.log(Level::Warning, "DB reloaded by DEBUG RELOAD");
    c.out.ok();
    Ok(())
}
