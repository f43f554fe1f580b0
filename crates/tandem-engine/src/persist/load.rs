//! Loading the data set at start-up: the AOF directory when `appendonly yes`, else the
//! RDB file (memory-mapped), with Redis's log lines, INFO's `loading_*` fields, and
//! errors that name the file and the offset. Keys already expired are dropped from an
//! RDB on a master (kept on a replica, and in an AOF base, as Redis does).

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tandem_log::ReplId;
use tandem_persist::aof::{
    self, manifest, AofErrorKind, AofFileType, AofInfo, AofManifest, AofVisitor, LoadOptions,
    RecoveryMode, TailKind,
};
use tandem_persist::rdb::{self, Entry, RdbVisitor, ReadOptions, Skipped, VisitError};

use super::{data_dir, rdb_path, strerror};
use crate::rdb::Loader;
use crate::session::ClientKind;
use crate::{Flow, Level, Session, Shared};

/// Why the data set could not be loaded. The server must not serve: it logs
/// [`LoadError::message`] and exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The file that is damaged or unreadable.
    pub file: Option<PathBuf>,
    /// Where in it, when known.
    pub offset: Option<u64>,
    /// The log line: what, where, and what to do.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

/// Progress of a load, for INFO's `loading_*` fields.
#[derive(Default)]
pub(crate) struct Progress {
    started: Mutex<Option<Instant>>,
    start_s: AtomicU64,
    total: AtomicU64,
    pub(crate) loaded: AtomicU64,
    rdb_used_mem: AtomicU64,
}

impl Progress {
    pub(crate) fn begin(&self, now_ms: u64, total: u64) {
        *self.started.lock() = Some(Instant::now());
        self.start_s.store(now_ms / 1000, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.loaded.store(0, Ordering::Relaxed);
        self.rdb_used_mem.store(0, Ordering::Relaxed);
    }

    /// `loading_start_time` … `loading_eta_seconds`, as Redis prints them while loading.
    pub(crate) fn info(&self, _sh: &Shared, o: &mut String) {
        let total = self.total.load(Ordering::Relaxed);
        let loaded = self.loaded.load(Ordering::Relaxed).min(total);
        let elapsed = self
            .started
            .lock()
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        let perc = if total > 0 {
            loaded as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let eta = if loaded == 0 {
            1
        } else {
            (elapsed * (total - loaded) as f64 / loaded as f64) as u64
        };
        let _ = write!(
            o,
            "loading_start_time:{}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:{}\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            self.start_s.load(Ordering::Relaxed),
            self.rdb_used_mem.load(Ordering::Relaxed),
        );
    }
}

/// What the AUX fields of an RDB said, and the log lines Redis prints for them.
#[derive(Default)]
struct AuxSeen {
    repl_id: Option<ReplId>,
    repl_offset: Option<u64>,
}

fn note_aux(sh: &Shared, progress: &Progress, seen: &mut AuxSeen, key: &[u8], value: &[u8]) {
    let text = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => sh.log(
            Level::Notice,
            &format!("Loading RDB produced by version {text}"),
        ),
        b"ctime" => {
            if let Ok(t) = text.parse::<i64>() {
                let now = (sh.clock.now_ms() / 1000) as i64;
                sh.log(
                    Level::Notice,
                    &format!("RDB age {} seconds", (now - t).max(0)),
                );
            }
        }
        b"used-mem" => {
            if let Ok(m) = text.parse::<u64>() {
                progress.rdb_used_mem.store(m, Ordering::Relaxed);
                sh.log(
                    Level::Notice,
                    &format!(
                        "RDB memory usage when created {:.2} Mb",
                        m as f64 / (1024.0 * 1024.0)
                    ),
                );
            }
        }
        b"repl-id" => seen.repl_id = ReplId::parse(value),
        b"repl-offset" => seen.repl_offset = text.parse().ok(),
        _ => {}
    }
}

/// Visits an RDB file: entries go to the loader, AUX fields to the log.
struct RdbLoad<'a> {
    sh: &'a Shared,
    loader: Loader<'a>,
    progress: &'a Progress,
    seen: AuxSeen,
    entries: u64,
}

impl RdbVisitor for RdbLoad<'_> {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        note_aux(self.sh, self.progress, &mut self.seen, key, value);
        Ok(())
    }
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.entries += 1;
        if self.entries.is_multiple_of(1024) {
            self.progress.loaded.store(e.offset, Ordering::Relaxed);
        }
        RdbVisitor::entry(&mut self.loader, e)
    }
}

/// Loads the data set, then starts the AOF if it is on (see
/// [`Shared::load_from_disk`]).
pub(crate) fn load_from_disk(sh: &Arc<Shared>) -> Result<(), LoadError> {
    let p = &sh.persist;
    if p.started.load(Ordering::Acquire) {
        sh.loading.store(false, Ordering::Release);
        return Ok(());
    }
    sh.loading.store(true, Ordering::Release);
    let started = Instant::now();
    let aof_on = sh.config.get_bool("appendonly");
    let r = if aof_on {
        load_aof(sh, started)
    } else {
        load_rdb(sh, started).map(|_| None)
    };
    let r = r.and_then(|m| {
        // Loading is not a change to save.
        p.rdb
            .dirty_at_save
            .store(sh.stats.dirty.load(Ordering::Relaxed), Ordering::Relaxed);
        if aof_on {
            match m {
                Some(m) => super::aof::start_existing(sh, m),
                None => super::aof::start_fresh(sh),
            }
            .map_err(|message| LoadError {
                file: None,
                offset: None,
                message,
            })?;
        }
        Ok(())
    });
    if r.is_ok() {
        p.started.store(true, Ordering::Release);
    }
    *p.loading.started.lock() = None;
    sh.loading.store(false, Ordering::Release);
    r
}

fn keep_expired(sh: &Shared) -> bool {
    !sh.config
        .get("replicaof")
        .unwrap_or_default()
        .trim()
        .is_empty()
}

fn load_rdb(sh: &Arc<Shared>, started: Instant) -> Result<(), LoadError> {
    let path = rdb_path(sh);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Ok(());
    };
    let p = &sh.persist;
    p.loading.begin(sh.clock.now_ms(), meta.len());
    let stop = AtomicBool::new(false);
    let mut v = RdbLoad {
        sh,
        loader: Loader::new(sh, sh.clock.now_ms(), keep_expired(sh), &stop),
        progress: &p.loading,
        seen: AuxSeen::default(),
        entries: 0,
    };
    let opts = ReadOptions {
        verify_checksum: sh.config.get_bool("rdbchecksum"),
    };
    let r = rdb::read_file(&path, &mut v, &opts);
    let (loaded, expired) = (v.loader.loaded, v.loader.expired);
    let seen = std::mem::take(&mut v.seen);
    drop(v);
    if let Err(e) = r {
        return Err(LoadError {
            file: Some(path.clone()),
            offset: Some(e.offset),
            message: format!(
                "Fatal error loading the DB from {}: {e}. Exiting.",
                path.display()
            ),
        });
    }
    p.loading.loaded.store(meta.len(), Ordering::Relaxed);
    p.rdb.last_load_loaded.store(loaded, Ordering::Relaxed);
    p.rdb.last_load_expired.store(expired, Ordering::Relaxed);
    sh.log(
        Level::Notice,
        &format!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."),
    );
    if let (Some(id), Some(off)) = (seen.repl_id, seen.repl_offset) {
        restore_replication(sh, id, off);
    }
    sh.log(
        Level::Notice,
        &format!(
            "DB loaded from disk: {:.3} seconds",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

/// The history an RDB belongs to: a replica continues it (partial resync with its
/// master); a master keeps it as replid2 so its replicas can partially resync after
/// the restart, as Redis 7.0 does.
fn restore_replication(sh: &Shared, id: ReplId, offset: u64) {
    let log = &sh.repl.log;
    log.reset_to(id, offset);
    if keep_expired(sh) {
        return;
    }
    log.shift_replid();
    sh.enable_log_propagation();
    sh.repl
        .no_replicas_since
        .store(sh.clock.now_ms(), Ordering::Relaxed);
}

fn aof_dir(sh: &Shared) -> PathBuf {
    data_dir(sh).join(sh.config.get("appenddirname").unwrap_or_default())
}

/// Moves a Redis 6 single-file AOF (`dir/appendonly.aof`) into the AOF directory as
/// its base, as Redis 7 does on its first start.
fn upgrade_old_aof(sh: &Shared, dir: &Path, prefix: &str) -> Result<bool, LoadError> {
    let old = data_dir(sh).join(prefix);
    if !old.is_file() {
        return Ok(false);
    }
    let fail = |e: std::io::Error| LoadError {
        file: Some(old.clone()),
        offset: None,
        message: format!(
            "Can't move the old append only file {} into {}: {}",
            old.display(),
            dir.display(),
            strerror(&e)
        ),
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let m = AofManifest {
        base: Some(AofInfo {
            name: prefix.to_string(),
            seq: 1,
            kind: AofFileType::Base,
        }),
        curr_base_seq: 1,
        ..AofManifest::default()
    };
    std::fs::rename(&old, dir.join(prefix)).map_err(fail)?;
    let mpath = dir.join(manifest::manifest_name(prefix));
    tandem_persist::fsutil::write_atomic(&mpath, |w| {
        std::io::Write::write_all(w, m.to_text().as_bytes())
    })
    .map_err(fail)?;
    sh.log(
        Level::Notice,
        &format!(
            "Successfully migrated an old-style AOF into the AOF directory {}",
            dir.display()
        ),
    );
    Ok(true)
}

/// Applies an AOF: the RDB preamble through the loader, commands through a session.
struct AofLoad<'a> {
    sh: &'a Arc<Shared>,
    loader: Loader<'a>,
    sess: Session,
    out: Vec<u8>,
    progress: &'a Progress,
    seen: AuxSeen,
    /// The file being read and when it started.
    file: Option<(String, Instant)>,
    file_base: u64,
    dir: PathBuf,
    in_rdb: bool,
    rdb_counts: (u64, u64),
    commands: u64,
}

impl AofLoad<'_> {
    /// Logs the end of the RDB preamble, if one is being read.
    fn end_rdb(&mut self) {
        if self.in_rdb {
            self.in_rdb = false;
            let loaded = self.loader.loaded - self.rdb_counts.0;
            let expired = self.loader.expired - self.rdb_counts.1;
            self.sh.log(
                Level::Notice,
                &format!("Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."),
            );
        }
    }

    /// Logs the end of the current file.
    fn end_file(&mut self) {
        self.end_rdb();
        if let Some((name, t)) = self.file.take() {
            let kind = if name.contains(manifest::INCR_SUFFIX) {
                "incr"
            } else {
                "base"
            };
            self.sh.log(
                Level::Notice,
                &format!(
                    "DB loaded from {kind} file {name}: {:.3} seconds",
                    t.elapsed().as_secs_f64()
                ),
            );
            self.file_base += std::fs::metadata(self.dir.join(&name)).map_or(0, |m| m.len());
            self.progress
                .loaded
                .store(self.file_base, Ordering::Relaxed);
        }
    }
}

impl RdbVisitor for AofLoad<'_> {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        if !self.in_rdb {
            self.in_rdb = true;
            self.rdb_counts = (self.loader.loaded, self.loader.expired);
            self.sh
                .log(Level::Notice, "Reading RDB base file on AOF loading...");
        }
        note_aux(self.sh, self.progress, &mut self.seen, key, value);
        Ok(())
    }
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.progress
            .loaded
            .store(self.file_base + e.offset, Ordering::Relaxed);
        RdbVisitor::entry(&mut self.loader, e)
    }
    fn skipped(&mut self, s: Skipped<'_>) -> Result<(), VisitError> {
        let _ = s;
        Ok(())
    }
}

impl AofVisitor for AofLoad<'_> {
    fn file(&mut self, name: &str, _kind: AofFileType) -> Result<(), VisitError> {
        self.end_file();
        self.file = Some((name.to_string(), Instant::now()));
        Ok(())
    }

    fn command(&mut self, args: &[&[u8]], offset: u64) -> Result<(), VisitError> {
        self.end_rdb();
        let sh: &Shared = self.sh;
        let Some((idx, spec)) = sh.commands.lookup(args[0]) else {
            return Err(format!(
                "Unknown command '{}' reading the append only file",
                String::from_utf8_lossy(args[0])
            )
            .into());
        };
        if !spec.arity_ok(args.len()) {
            return Err(format!(
                "Wrong number of arguments for '{}' reading the append only file",
                spec.name
            )
            .into());
        }
        self.commands += 1;
        if self.commands.is_multiple_of(1024) {
            self.progress
                .loaded
                .store(self.file_base + offset, Ordering::Relaxed);
        }
        // Transactions arrive complete (the reader holds them until EXEC).
        if spec.name == "multi" || spec.name == "exec" {
            return Ok(());
        }
        self.sess.skip_monitor = true;
        let mut g = sh.lock_for(&mut self.sess, spec, args);
        self.out.clear();
        let flow = sh.run(
            &mut self.sess,
            idx,
            spec,
            args,
            &mut self.out,
            &mut g,
            false,
            None,
        );
        drop(g);
        if flow == Flow::Blocked {
            sh.unblock(&mut self.sess);
        }
        Ok(())
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn aof_error(e: aof::AofError, manifest: &str) -> LoadError {
    let file = e.file.clone();
    let name = file
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fix = format!("make a backup of your AOF file, then use tandem-check aof --fix {manifest}");
    let message = match &e.kind {
        AofErrorKind::Format(why) => format!(
            "Bad file format reading the append only file {name} at offset {} ({why}): {fix}",
            e.offset
        ),
        AofErrorKind::UnexpectedEof(k) => format!(
            "Unexpected end of file reading the append only file {name} at offset {}{}. You can: 1) {fix}. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
            e.offset,
            if *k == TailKind::OpenMulti { " (unterminated MULTI)" } else { "" }
        ),
        AofErrorKind::Visitor(v) => format!(
            "{v} (file {name}, offset {}): {fix}",
            e.offset
        ),
        _ => format!("{e}"),
    };
    LoadError {
        file,
        offset: Some(e.offset),
        message,
    }
}

fn load_aof(sh: &Arc<Shared>, started: Instant) -> Result<Option<AofManifest>, LoadError> {
    let dir = aof_dir(sh);
    let prefix = sh.config.get("appendfilename").unwrap_or_default();
    let mname = manifest::manifest_name(&prefix);
    if !dir.join(&mname).exists() && !upgrade_old_aof(sh, &dir, &prefix)? {
        return Ok(None);
    }
    let p = &sh.persist;
    p.loading.begin(sh.clock.now_ms(), dir_size(&dir));
    let stop = AtomicBool::new(false);
    let engine = crate::Core { shared: sh.clone() };
    let mut sess = engine.session(String::new(), String::new(), None);
    sess.set_kind(ClientKind::Master);
    let mut v = AofLoad {
        sh,
        loader: Loader::new(sh, sh.clock.now_ms(), true, &stop),
        sess,
        out: Vec::new(),
        progress: &p.loading,
        seen: AuxSeen::default(),
        file: None,
        file_base: 0,
        dir: dir.clone(),
        in_rdb: false,
        rdb_counts: (0, 0),
        commands: 0,
    };
    let opts = LoadOptions {
        recovery: if sh.config.get_bool("aof-load-truncated") {
            RecoveryMode::TolerateCorruptTail
        } else {
            RecoveryMode::Strict
        },
        truncate_torn_tail: true,
        rdb: ReadOptions {
            verify_checksum: sh.config.get_bool("rdbchecksum"),
        },
    };
    let r = aof::load_dir(&dir, &mname, &mut v, &opts);
    if r.is_ok() {
        v.end_file();
    }
    let (loaded, expired) = (v.loader.loaded, v.loader.expired);
    drop(v);
    let report = r.map_err(|e| aof_error(e, &mname))?;
    p.rdb.last_load_loaded.store(loaded, Ordering::Relaxed);
    p.rdb.last_load_expired.store(expired, Ordering::Relaxed);
    if let Some(t) = &report.truncation {
        let name = t
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sh.log(
            Level::Warning,
            &format!("!!! Warning: short read while loading the AOF file {name}!!!"),
        );
        sh.log(
            Level::Warning,
            &format!(
                "!!! Truncating the AOF {name} at offset {} ({} bytes dropped) !!!",
                t.valid_up_to,
                t.len - t.valid_up_to
            ),
        );
        sh.log(
            Level::Warning,
            &format!("AOF {name} loaded anyway because aof-load-truncated is enabled"),
        );
    }
    sh.log(
        Level::Notice,
        &format!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(Some(report.manifest))
}
