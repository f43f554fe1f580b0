//! Persistence: RDB snapshots (SAVE, BGSAVE, save points), the append-only file (a
//! writer thread that reads the replication log, group commit, rewrites) and loading at
//! start-up, with Redis 7.0's commands, directives, log lines and INFO fields.
//!
//! # Snapshots
//!
//! Saves use the keyspace's fork-free point-in-time snapshot
//! ([`tandem_keyspace::Keyspace::begin_snapshot`]): every shard lock for an instant,
//! then the image is serialized while writes go on. The keyspace has one snapshot slot,
//! shared with replication's full syncs; a save that finds it taken waits for it (BGSAVE
//! on its thread, SAVE in the caller). The RDB goes to a temporary file that is fsynced
//! and renamed over `dbfilename` ([`tandem_persist::fsutil::write_atomic`]).
//!
//! # The AOF
//!
//! The AOF writer is one more reader of the replication log (the single order of truth;
//! the log is activated when the AOF is on), on its own thread (`aof-writer`). It copies
//! the stream's commands into the current incr file, dropping what Redis's AOF never
//! holds (`PING`, `REPLCONF`, `PUBLISH`) and writing `SELECT` when the database changes.
//! Its fsync policy is `appendfsync`: `always` syncs after every batch it wrote — one
//! fsync covers every write appended meanwhile — and publishes the log offset it covers
//! ([`Shared::durability`]); a connection's reply to a write is held until that offset
//! reaches the write's ([`Session::last_write_offset`](crate::Session::last_write_offset)).
//! A failed write or fsync poisons the writer: writes are refused with `-MISCONF`, and
//! held replies are never sent, until a rewrite gives the AOF a new base.
//!
//! A rewrite (BGREWRITEAOF, the automatic one, turning the AOF on) takes a snapshot at
//! offset `S` and, in the same instant, registers a log reader at `S`. The writer drains
//! its old reader up to `S`, then switches to a new incr file fed by the new reader, while
//! the rewrite thread writes the new base; the manifest then names the new base and incr
//! file, as Redis 7's multi-part layout does, and the old files are deleted.
//!
//! # Files
//!
//! Files live in `dir` (the server sets it to its absolute working directory, as Redis
//! reports it; empty means the working directory). The engine never changes directory.
//!
//! # Threads
//!
//! `aof-writer`, `aof-rewrite` and `bgsave` are named threads; [`Shared::prepare_shutdown`]
//! stops them (the writer after syncing everything executed so far), and so does dropping
//! the engine.

pub(crate) mod aof;
pub(crate) mod load;
pub(crate) mod save;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::command::{flags, CommandSpec};
use crate::session::{ClientHandle, ClientKind};
use crate::{Level, Shared};

pub use load::LoadError;

/// Whether a write is durable under the AOF's fsync policy (see [`Shared::durability`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Durable, or no durability is promised (`appendfsync` is not `always`, or the
    /// AOF is off): the reply may go out.
    Durable,
    /// Not yet synced: hold the reply; the client's [`Notify`](crate::Notify) fires when
    /// the fsync covering it completes.
    Pending,
    /// The AOF failed to write or sync: the write will never be acknowledged as
    /// durable. Do not send the reply (close the connection).
    Failed,
}

/// The persistence state of a node.
pub struct Persistence {
    pub(crate) rdb: save::RdbState,
    pub(crate) aof: aof::Aof,
    pub(crate) loading: load::Progress,
    /// Set once the node loaded (or declined to load) its data: from then on the
    /// persistence directives take effect and the cron runs.
    pub(crate) started: AtomicBool,
    /// Background save and rewrite threads, joined on shutdown.
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    /// Tells background saves and rewrites to give up (shutdown).
    pub(crate) abort: Arc<AtomicBool>,
    /// The shutdown work is done (see [`Shared::prepare_shutdown`]).
    pub(crate) shutdown_prepared: AtomicBool,
}

impl Persistence {
    pub(crate) fn new(now_ms: u64) -> Persistence {
        Persistence {
            rdb: save::RdbState::new(now_ms),
            aof: aof::Aof::default(),
            loading: load::Progress::default(),
            started: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            abort: Arc::new(AtomicBool::new(false)),
            shutdown_prepared: AtomicBool::new(false),
        }
    }

    /// Joins background threads that finished.
    fn reap(&self) {
        let mut t = self.threads.lock();
        let (done, running): (Vec<_>, Vec<_>) = t.drain(..).partition(|h| h.is_finished());
        *t = running;
        drop(t);
        for h in done {
            let _ = h.join();
        }
    }

    /// Stops every thread without saving (the engine is going away).
    fn stop_threads(&self) {
        self.abort.store(true, Ordering::Release);
        self.aof.stop(None);
        let me = std::thread::current().id();
        let threads: Vec<_> = self.threads.lock().drain(..).collect();
        for h in threads {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

impl Drop for Persistence {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

/// The directory files are kept in (`dir`; the working directory when empty).
pub(crate) fn data_dir(sh: &Shared) -> PathBuf {
    let d = sh.config.get("dir").unwrap_or_default();
    if d.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(d)
    }
}

/// `dir/dbfilename`.
pub(crate) fn rdb_path(sh: &Shared) -> PathBuf {
    data_dir(sh).join(sh.config.get("dbfilename").unwrap_or_default())
}

/// `strerror`-like text of an I/O error, without Rust's " (os error N)" suffix.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The `save` directive as (seconds, changes) pairs.
pub(crate) fn save_params(sh: &Shared) -> Vec<(u64, u64)> {
    let v = sh.config.get("save").unwrap_or_default();
    let words: Vec<u64> = v
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    words.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// Redis's `-MISCONF` reply when an RDB save failed and `stop-writes-on-bgsave-error`.
pub(crate) const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

impl Shared {
    /// Loads the data set at start-up — from the AOF directory when `appendonly yes`,
    /// else from the RDB file — and starts the AOF if it is on. `INFO` shows
    /// `loading:1` and commands without the `loading` flag get `-LOADING` meanwhile.
    /// A damaged file is an error naming the file and the offset: the caller must not
    /// serve (tandem-server exits with status 1).
    ///
    /// An embedding program that wants persistence calls this once, before taking
    /// writes, and calls [`Shared::persistence_cron`] about ten times a second.
    pub fn load_from_disk(self: &Arc<Self>) -> Result<(), LoadError> {
        load::load_from_disk(self)
    }

    /// Periodic persistence duties (the server calls this `hz` times a second): save
    /// points, scheduled BGSAVE and BGREWRITEAOF, automatic AOF rewrites, joining
    /// finished background threads.
    pub fn persistence_cron(&self) {
        if !self.persist.started.load(Ordering::Acquire) {
            return;
        }
        self.persist.reap();
        let sh = self.arc();
        save::cron(&sh);
        aof::cron(&sh);
    }

    /// Before the process exits: stops background saves, writes the RDB when `save`,
    /// then syncs the AOF (everything executed so far) and stops its writer. An error
    /// (the RDB could not be written) means the data is not safe on disk; the AOF is
    /// then left running.
    pub fn prepare_shutdown(&self, save: bool) -> Result<(), String> {
        let p = &self.persist;
        p.abort.store(true, Ordering::Release);
        let threads: Vec<_> = p.threads.lock().drain(..).collect();
        for h in threads {
            let _ = h.join();
        }
        p.abort.store(false, Ordering::Release);
        if save {
            self.log(
                Level::Notice,
                "Saving the final RDB snapshot before exiting.",
            );
            if let Err(e) = save::save_sync(self) {
                self.log(Level::Warning, "Error trying to save the DB, can't exit.");
                return Err(e);
            }
        }
        if p.aof.is_running() {
            self.log(Level::Notice, "Calling fsync() on the AOF file.");
        }
        p.aof.stop(Some(self.repl.log.offset()));
        p.shutdown_prepared.store(true, Ordering::Release);
        Ok(())
    }

    /// SHUTDOWN: pauses client writes, then [`Shared::prepare_shutdown`]. On error the
    /// pause is lifted and the server goes on, as Redis does.
    pub fn shutdown_command(&self, save: bool) -> Result<(), String> {
        self.log(Level::Warning, "User requested shutdown...");
        let before = self.pause();
        self.set_pause(crate::Pause {
            until_ms: u64::MAX,
            writes_only: true,
        });
        let r = self.prepare_shutdown(save);
        if r.is_err() {
            self.set_pause(before);
        }
        r
    }

    /// Whether [`Shared::prepare_shutdown`] completed (SHUTDOWN did it already).
    pub fn shutdown_prepared(&self) -> bool {
        self.persist.shutdown_prepared.load(Ordering::Acquire)
    }

    /// Whether the write that ended at log `offset` may be acknowledged (group commit
    /// under `appendfsync always`). On [`Durability::Pending`] the client is registered
    /// and its [`Notify`](crate::Notify) fires once the AOF covers `offset` (or fails).
    pub fn durability(&self, offset: u64, client: &Arc<ClientHandle>) -> Durability {
        self.persist.aof.durability(offset, client)
    }

    /// `-MISCONF` for writes (and PING) while the last save or the AOF failed.
    pub(crate) fn persistence_denies(
        &self,
        spec: &CommandSpec,
        kind: ClientKind,
    ) -> Option<&'static str> {
        if kind == ClientKind::Master || !(spec.has(flags::WRITE) || spec.name == "ping") {
            return None;
        }
        if !self.persist.rdb.last_bgsave_ok.load(Ordering::Relaxed)
            && self.config.get_bool("stop-writes-on-bgsave-error")
            && !save_params(self).is_empty()
        {
            return Some(MISCONF_RDB);
        }
        self.persist.aof.write_error()
    }

    /// A directive changed (CONFIG SET): applies the persistence ones.
    pub(crate) fn persistence_config_changed(&self, name: &str) {
        if !self.persist.started.load(Ordering::Acquire) {
            return;
        }
        match name {
            "appendonly" => {
                let on = self.config.get_bool("appendonly");
                if on {
                    if !self.persist.aof.is_on() {
                        aof::start_at_runtime(&self.arc());
                    }
                } else if self.persist.aof.is_on() {
                    aof::stop_at_runtime(self);
                }
            }
            "appendfsync" => self
                .persist
                .aof
                .set_policy(&self.config.get("appendfsync").unwrap_or_default()),
            "aof-timestamp-enabled" => self.persist.aof.sh.timestamps.store(
                self.config.get_bool("aof-timestamp-enabled"),
                Ordering::Release,
            ),
            _ => {}
        }
    }
}

/// Renders `INFO persistence`.
pub(crate) struct PersistInfo(pub(crate) std::sync::Weak<Shared>);

impl crate::InfoProvider for PersistInfo {
    fn info(&self, section: &str, o: &mut String) {
        if section != "persistence" {
            return;
        }
        if let Some(sh) = self.0.upgrade() {
            save::info(&sh, o);
        }
    }
}
