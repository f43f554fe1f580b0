//! tandem's engine: the command table and the execution of every command against the
//! keyspace, for every client — the RESP server's connections and embedding programs
//! alike. The engine opens no socket and starts no thread in its execution path.
//!
//! # Executing a command
//!
//! [`Core::execute`] takes a session, the arguments and an output buffer:
//!
//! 1. The command table gives the spec; arity, authentication, MULTI queueing, pub/sub
//!    context, read-only replica and `maxmemory` checks are decided from its flags.
//! 2. The shards of the declared keys are locked in canonical order (see
//!    `tandem_keyspace`), the handler runs, and while the locks are still held its
//!    effects are handed to the [`Propagator`] (the replication log and AOF): keys that
//!    expired on access first, as `DEL`, then the command itself or its rewritten,
//!    deterministic form. So for any key, the order of its changes in the propagated
//!    stream is the order in which they were applied.
//! 3. The locks are released, clients blocked on keys the command filled are woken,
//!    and the reply is in the output buffer.
//!
//! Errors never leave half a reply: the buffer is cut back before the error is written.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod call;
pub mod cmd;
pub mod command;
pub mod config;
pub mod embed;
pub mod error;
mod info;
mod persist;
mod rdb;
pub mod registry;
pub mod repl;
pub mod reply;
pub mod session;
#[doc(hidden)]
pub mod testkit;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use tandem_keyspace::{Guard, Keyspace, KeyspaceConfig, Policy};
use tandem_resp::{encode, Proto};

pub use call::{Call, Flow};
pub use command::{flags, CommandSpec, CommandTable, Keys};
pub use config::Config;
pub use embed::{
    Builder, Change, ChangeEvent, ChangeFeed, Client, Db, Engine, Error, ErrorKind, FeedHandle,
    Fsync, ReplicationStatus, Role, Ttl,
};
pub use error::{CmdError, CmdResult};
pub use persist::{Durability, LoadError};
pub use reply::Reply;
pub use session::{BlockKind, ClientHandle, ClientKind, Notify, Session};
pub use tandem_resp::Frame;

/// Receives every change, in order, as RESP commands, while the changed keys are still
/// locked. The replication log implements it (the AOF writer and replicas read the log).
pub trait Propagator: Send + Sync {
    /// `cmds` holds one or more whole RESP commands to apply in database `db`. Returns
    /// the replication offset after them.
    fn propagate(&self, db: usize, cmds: &[u8]) -> u64;

    /// Like [`Propagator::propagate`], for commands Redis sends to replicas but not to
    /// the AOF (`PUBLISH`). By default the same as `propagate`.
    fn propagate_to_replicas(&self, db: usize, cmds: &[u8]) -> u64 {
        self.propagate(db, cmds)
    }
}

/// Importance of a log line, as Redis's `loglevel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `.`
    Debug,
    /// `-`
    Verbose,
    /// `*`
    Notice,
    /// `#`
    Warning,
}

/// Where the engine's log lines go (the server writes them in Redis's format; an
/// embedding program installs its own). Without one, lines are dropped.
pub trait LogSink: Send + Sync {
    /// Writes one line.
    fn log(&self, level: Level, msg: &str);
}

/// Where the engine reads the time; tests substitute their own.
pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;

    /// Unix time in microseconds (MONITOR, TIME); by default `now_ms() * 1000`.
    fn now_us(&self) -> u64 {
        self.now_ms() * 1000
    }
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    fn now_us(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }
}

/// Server-wide counters shown by INFO.
#[derive(Default)]
pub struct Stats {
    /// Commands executed.
    pub commands: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub dirty: AtomicU64,
    /// Errors replied.
    pub errors: AtomicU64,
    /// Pub/sub messages delivered... published.
    pub pubsub_published: AtomicU64,
    /// Highest `used_memory` seen (`used_memory_peak`).
    pub memory_peak: AtomicU64,
    /// Samples for the instantaneous metrics (see [`Shared::track_instantaneous`]).
    pub(crate) inst: Mutex<info::InstSamples>,
    /// `latency-tracking`: per-command latency histograms are kept.
    pub(crate) latency_tracking: AtomicBool,
}

/// Per-command call counters (INFO commandstats).
pub struct CommandStats {
    /// Calls.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
    /// Calls that replied with an error.
    pub failed: AtomicU64,
    /// Latency distribution (INFO latencystats, LATENCY HISTOGRAM).
    pub(crate) latency: info::LatencyHistogram,
}

/// `CLIENT PAUSE` state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pause {
    /// Unix ms until which clients are paused (0 = not paused).
    pub until_ms: u64,
    /// Only writes are paused (`WRITE`), not every command (`ALL`).
    pub writes_only: bool,
}

/// Engine state shared by every session.
pub struct Shared {
    /// The data.
    pub keyspace: Keyspace,
    /// The command table.
    pub commands: CommandTable,
    /// Configuration.
    pub config: Config,
    /// Counters.
    pub stats: Stats,
    /// Per-command counters, by command table index (see [`Shared::command_stats_of`]).
    pub command_stats: Vec<(&'static str, CommandStats)>,
    /// Connected clients.
    pub clients: registry::Clients,
    /// Subscriptions.
    pub pubsub: registry::PubSub,
    /// Clients blocked on keys.
    pub blocking: registry::Blocking,
    /// The clock.
    pub clock: Box<dyn Clock>,
    /// Run id (40 hex chars), new at every start.
    pub run_id: String,
    /// Process start, for uptime.
    pub started: Instant,
    /// Start time, unix ms.
    pub started_ms: u64,
    pub(crate) propagator: RwLock<Option<Arc<dyn Propagator>>>,
    requirepass: RwLock<Option<Vec<u8>>>,
    auth_required: AtomicBool,
    pause_until: AtomicU64,
    pause_writes_only: AtomicBool,
    /// Set when the data is being loaded (commands without the `loading` flag get -LOADING).
    pub loading: AtomicBool,
    /// Whether this node is a replica (writes refused if `replica-read-only`).
    pub is_replica: AtomicBool,
    replica_read_only: AtomicBool,
    /// `replica-serve-stale-data`: without it, a replica whose link is down answers
    /// -MASTERDOWN to commands without the `stale` flag.
    replica_serve_stale: AtomicBool,
    /// Extra INFO text providers (replication, persistence, server-side sections).
    pub info_providers: RwLock<Vec<Arc<dyn InfoProvider>>>,
    /// Replication: the log, attached replicas, our master.
    pub repl: repl::Replication,
    log_sink: RwLock<Option<Arc<dyn LogSink>>>,
    min_replicas: AtomicU64,
    min_replicas_max_lag: AtomicU64,
    this: std::sync::OnceLock<std::sync::Weak<Shared>>,
    /// Clients in MONITOR mode.
    pub monitors: registry::Monitors,
    /// The slow log.
    pub slowlog: registry::SlowLog,
    /// The configuration file `CONFIG REWRITE` writes (the server sets it).
    pub config_file: RwLock<Option<PathBuf>>,
    /// Whether the server's cron deletes expired keys (`DEBUG SET-ACTIVE-EXPIRE`);
    /// [`Core::active_expire`] does nothing while it is false.
    pub active_expire_enabled: AtomicBool,
    /// Error replies by code (INFO errorstats).
    pub(crate) error_stats: Mutex<BTreeMap<String, u64>>,
    /// RDB snapshots, the AOF, loading (see the `persist` module).
    pub(crate) persist: persist::Persistence,
    /// Running change feeds ([`embed::ChangeFeed`]): they read the log, so it stays on.
    pub(crate) change_feeds: std::sync::atomic::AtomicUsize,
}

/// Contributes fields to INFO sections owned outside the engine (the server's
/// connection counts, replication, persistence).
pub trait InfoProvider: Send + Sync {
    /// Appends `field:value\r\n` lines for `section` (lower case), if it has any.
    fn info(&self, section: &str, out: &mut String);
}

/// What [`Core::cron`] carries from one call to the next.
#[derive(Debug, Default)]
pub struct CronState {
    expire_cursor: usize,
}

/// A handle to the engine's core: shared state and command execution, with no threads of
/// its own. The server drives it from its event loops; an embedding program uses
/// [`Engine`], which owns one and runs its background work. Clones share it.
#[derive(Clone)]
pub struct Core {
    shared: Arc<Shared>,
}

fn random_hex40() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::with_capacity(40);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut i = 0u64;
    while s.len() < 40 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(seed);
        h.write_u64(i);
        h.write_u32(std::process::id());
        s.push_str(&format!("{:016x}", h.finish()));
        i += 1;
    }
    s.truncate(40);
    s
}

impl Core {
    /// An engine with the given configuration (see [`config::DIRECTIVES`]).
    pub fn new(config: Config) -> Core {
        Self::with_clock(config, Box::new(SystemClock))
    }

    /// An engine reading time from `clock`.
    pub fn with_clock(config: Config, clock: Box<dyn Clock>) -> Core {
        let databases = config.get_i64("databases").max(1) as usize;
        let shards = config.get_i64("keyspace-shards").max(1) as usize;
        let commands = CommandTable::new();
        let command_stats = commands
            .iter()
            .map(|c| {
                (
                    c.name,
                    CommandStats {
                        calls: AtomicU64::new(0),
                        usec: AtomicU64::new(0),
                        failed: AtomicU64::new(0),
                        latency: Default::default(),
                    },
                )
            })
            .collect();
        let started_ms = clock.now_ms();
        let config_backlog = config.get_i64("repl-backlog-size").max(0) as u64;
        let shared = Arc::new(Shared {
            keyspace: Keyspace::new(KeyspaceConfig {
                databases,
                shards_per_db: shards,
            }),
            commands,
            config,
            stats: Stats::default(),
            command_stats,
            clients: registry::Clients::default(),
            pubsub: registry::PubSub::default(),
            blocking: registry::Blocking::default(),
            clock,
            run_id: random_hex40(),
            started: Instant::now(),
            started_ms,
            propagator: RwLock::new(None),
            requirepass: RwLock::new(None),
            auth_required: AtomicBool::new(false),
            pause_until: AtomicU64::new(0),
            pause_writes_only: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            is_replica: AtomicBool::new(false),
            replica_read_only: AtomicBool::new(true),
            replica_serve_stale: AtomicBool::new(true),
            info_providers: RwLock::new(Vec::new()),
            repl: repl::Replication::new(config_backlog),
            log_sink: RwLock::new(None),
            min_replicas: AtomicU64::new(0),
            min_replicas_max_lag: AtomicU64::new(10),
            this: std::sync::OnceLock::new(),
            monitors: registry::Monitors::default(),
            slowlog: registry::SlowLog::default(),
            config_file: RwLock::new(None),
            active_expire_enabled: AtomicBool::new(true),
            error_stats: Mutex::new(BTreeMap::new()),
            persist: persist::Persistence::new(started_ms),
            change_feeds: Default::default(),
        });
        let _ = shared.this.set(Arc::downgrade(&shared));
        shared
            .info_providers
            .write()
            .push(Arc::new(repl::ReplInfo(Arc::downgrade(&shared))));
        shared
            .info_providers
            .write()
            .push(Arc::new(persist::PersistInfo(Arc::downgrade(&shared))));
        for d in config::DIRECTIVES {
            shared.apply_config(d.name);
        }
        Core { shared }
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Opens a session. `notifier` is called (from any thread) when something arrives
    /// for it from elsewhere: a pub/sub message, a ready key, a kill.
    pub fn session(
        &self,
        addr: String,
        laddr: String,
        notifier: Option<Arc<dyn Notify>>,
    ) -> Session {
        let sh = &self.shared;
        let id = sh.clients.next_id();
        let handle = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created_ms: sh.clock.now_ms(),
            name: Mutex::new(None),
            db: Default::default(),
            last_cmd_ms: AtomicU64::new(sh.clock.now_ms()),
            last_cmd: Mutex::new("NULL"),
            killed: AtomicBool::new(false),
            kind: std::sync::atomic::AtomicU8::new(0),
            sub_count: Default::default(),
            in_multi: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            waiting_acks: AtomicBool::new(false),
            proto3: AtomicBool::new(false),
            mailbox: Mutex::new(Vec::new()),
            ready: AtomicBool::new(false),
            notifier,
            meta: Default::default(),
        });
        sh.clients.add(handle.clone());
        Session {
            shared: sh.clone(),
            handle,
            db: 0,
            proto: Proto::Resp2,
            authenticated: !sh.auth_required.load(Ordering::Relaxed),
            multi: None,
            watched: Vec::new(),
            watch_flag: Arc::new(AtomicBool::new(false)),
            channels: Default::default(),
            patterns: Default::default(),
            shard_channels: Default::default(),
            blocked: None,
            keybuf: Vec::new(),
            shard_ids: Vec::new(),
            effect_buf: Vec::new(),
            repl_hello: Default::default(),
            sync_request: None,
            last_write_offset: 0,
            suppress_replies: false,
            skip_next_reply: false,
            reprocessing: false,
            skip_monitor: false,
        }
    }

    /// Executes one command for `sess`, appending its reply to `out`.
    pub fn execute(&self, sess: &mut Session, argv: &[&[u8]], out: &mut Vec<u8>) -> Flow {
        self.shared.execute(sess, argv, out)
    }

    /// For a blocked session whose keys may be ready, or whose deadline passed: runs the
    /// blocked command again (or answers the timeout). Returns `None` while it stays
    /// blocked.
    pub fn resume(&self, sess: &mut Session, out: &mut Vec<u8>) -> Option<Flow> {
        self.shared.resume(sess, out)
    }

    /// Installs the receiver of all changes (replication log, AOF).
    pub fn set_propagator(&self, p: Option<Arc<dyn Propagator>>) {
        *self.shared.propagator.write() = p;
    }

    /// Sets a configuration directive and applies it.
    pub fn config_set(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let d = self.shared.config.set(name, args)?;
        self.shared.apply_config(d.name);
        Ok(())
    }

    /// The engine's periodic duties, run `hz` times a second by one thread (the server's
    /// first event loop, an embedded engine's `tandem-cron` thread): active expiry,
    /// replication (pings, timeouts, backlog TTL), persistence (save points, rewrites)
    /// and the instantaneous rates of INFO.
    pub fn cron(&self, state: &mut CronState) {
        self.active_expire_cycle(state);
        self.shared.repl_cron();
        self.shared.persistence_cron();
        self.shared.track_instantaneous();
    }

    /// The period at which [`Core::cron`] should run: `1000 / hz` ms.
    pub fn cron_period(&self) -> std::time::Duration {
        let hz = self.shared.config.get_i64("hz").clamp(1, 500) as u64;
        std::time::Duration::from_millis(1000 / hz)
    }

    /// Active expiry: each call visits `1/hz` of the shards, so every key's TTL is
    /// checked about once a second, and goes on while it keeps finding expired keys,
    /// for at most a quarter of a cron period.
    fn active_expire_cycle(&self, state: &mut CronState) {
        let ks = &self.shared.keyspace;
        let total = ks.databases() * ks.shards_per_db();
        if total == 0 {
            return;
        }
        let hz = self.shared.config.get_i64("hz").clamp(1, 500) as usize;
        let share = total.div_ceil(hz);
        let started = Instant::now();
        let budget = self.cron_period() / 4;
        let (mut visited, mut deleted) = (0, 0);
        while visited < total && started.elapsed() < budget {
            if visited >= share && deleted < 1000 {
                break;
            }
            let before = state.expire_cursor % total;
            deleted += self.active_expire(&mut state.expire_cursor, 1000);
            let moved = (state.expire_cursor % total + total - before) % total;
            visited += if moved == 0 { total } else { moved };
        }
    }

    /// One step of active expiry (the server calls this `hz` times a second): deletes
    /// keys whose TTL passed, propagating a DEL for each.
    pub fn active_expire(&self, cursor: &mut usize, budget: usize) -> usize {
        let sh = &self.shared;
        if !sh.active_expire_enabled.load(Ordering::Relaxed) {
            return 0;
        }
        let now = sh.clock.now_ms();
        let prop = sh.propagator.read().clone();
        let mut buf = Vec::new();
        sh.keyspace
            .active_expire(cursor, budget, now, &mut |db, key| {
                if let Some(p) = &prop {
                    buf.clear();
                    encode::command(&mut buf, &[&b"DEL"[..], key]);
                    p.propagate(db, &buf);
                }
            })
    }
}

impl Shared {
    /// Re-reads directive `name` into the engine's live state.
    pub fn apply_config(&self, name: &str) {
        let c = &self.config;
        match name {
            "requirepass" => {
                let pw = c.get("requirepass").unwrap_or_default();
                self.auth_required.store(!pw.is_empty(), Ordering::Relaxed);
                *self.requirepass.write() = if pw.is_empty() {
                    None
                } else {
                    Some(pw.into_bytes())
                };
            }
            "maxmemory" => self.keyspace.set_maxmemory(c.get_i64("maxmemory") as u64),
            "maxmemory-policy" => self.keyspace.set_policy(
                Policy::parse(&c.get("maxmemory-policy").unwrap_or_default())
                    .unwrap_or(Policy::NoEviction),
            ),
            "replica-read-only" => self
                .replica_read_only
                .store(c.get_bool("replica-read-only"), Ordering::Relaxed),
            "replica-serve-stale-data" => self
                .replica_serve_stale
                .store(c.get_bool("replica-serve-stale-data"), Ordering::Relaxed),
            "latency-tracking" => self
                .stats
                .latency_tracking
                .store(c.get_bool("latency-tracking"), Ordering::Relaxed),
            "repl-backlog-size" => self
                .repl
                .log
                .set_backlog_size(c.get_i64("repl-backlog-size").max(0) as u64),
            "min-replicas-to-write" => self.min_replicas.store(
                c.get_i64("min-replicas-to-write").max(0) as u64,
                Ordering::Relaxed,
            ),
            "min-replicas-max-lag" => self.min_replicas_max_lag.store(
                c.get_i64("min-replicas-max-lag").max(0) as u64,
                Ordering::Relaxed,
            ),
            "slowlog-log-slower-than" | "slowlog-max-len" => self.slowlog.configure(
                c.get_i64("slowlog-log-slower-than"),
                c.get_i64("slowlog-max-len").max(0) as usize,
            ),
            "appendonly" | "appendfsync" | "aof-timestamp-enabled" => {
                self.persistence_config_changed(name)
            }
            _ => {}
        }
    }

    /// Whether clients must authenticate.
    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Ordering::Relaxed)
    }

    /// Checks a password against `requirepass` in constant time.
    pub fn check_password(&self, pw: &[u8]) -> bool {
        match &*self.requirepass.read() {
            None => false,
            Some(expected) => {
                let mut diff = expected.len() ^ pw.len();
                for (i, b) in pw.iter().enumerate() {
                    diff |= usize::from(
                        expected
                            .get(i % expected.len().max(1))
                            .copied()
                            .unwrap_or(0)
                            ^ b,
                    );
                }
                diff == 0
            }
        }
    }

    /// Current `CLIENT PAUSE` state.
    pub fn pause(&self) -> Pause {
        Pause {
            until_ms: self.pause_until.load(Ordering::Acquire),
            writes_only: self.pause_writes_only.load(Ordering::Acquire),
        }
    }

    /// Sets the `CLIENT PAUSE` state and wakes paused clients when it ends.
    pub fn set_pause(&self, p: Pause) {
        self.pause_writes_only
            .store(p.writes_only, Ordering::Release);
        self.pause_until.store(p.until_ms, Ordering::Release);
        if p.until_ms == 0 {
            for c in self.clients.all() {
                if c.blocked.load(Ordering::Relaxed) {
                    c.ready.store(true, Ordering::Release);
                    c.notify();
                }
            }
        }
    }

    fn reject(&self, sess: &mut Session, out: &mut Vec<u8>, text: &str) -> Flow {
        self.record_error(text);
        if let Some(m) = &mut sess.multi {
            m.aborted = true;
        }
        if !sess.suppress_replies {
            encode::error(out, text);
        }
        Flow::Continue
    }

    fn execute(&self, sess: &mut Session, argv: &[&[u8]], out: &mut Vec<u8>) -> Flow {
        if sess.skip_next_reply {
            // `CLIENT REPLY SKIP`: this command's reply is dropped.
            sess.skip_next_reply = false;
            let mark = out.len();
            let flow = self.execute_command(sess, argv, out);
            out.truncate(mark);
            return flow;
        }
        self.execute_command(sess, argv, out)
    }

    fn execute_command(&self, sess: &mut Session, argv: &[&[u8]], out: &mut Vec<u8>) -> Flow {
        if argv.is_empty() {
            return Flow::Continue;
        }
        let Some((idx, spec)) = self.commands.lookup(argv[0]) else {
            let mut args = String::new();
            for a in &argv[1..] {
                if args.len() >= 128 {
                    break;
                }
                let room = 128 - args.len();
                let s = String::from_utf8_lossy(a);
                let s: String = s.chars().take(room).collect();
                args.push_str(&format!("'{s}' "));
            }
            let name: String = String::from_utf8_lossy(argv[0]).chars().take(128).collect();
            return self.reject(
                sess,
                out,
                &format!("ERR unknown command '{name}', with args beginning with: {args}"),
            );
        };
        if !spec.arity_ok(argv.len()) {
            return self.reject(sess, out, &error::wrong_arity(spec.name).0);
        }
        if let Some(subs) = self.commands.subcommands(idx) {
            // As Redis: an unknown subcommand or a subcommand's wrong arity is reported
            // before authentication and is never queued by MULTI. COMMAND alone is fine.
            if argv.len() > 1 {
                if let Err(e) = cmd::server::check_sub(spec.name, subs, argv) {
                    return self.reject(sess, out, &e.0);
                }
            }
        }
        if !sess.authenticated && !spec.has(flags::NO_AUTH) {
            return self.reject(sess, out, "NOAUTH Authentication required.");
        }
        if spec.has(flags::PROTECTED) && !self.protected_allowed(sess) {
            return self.reject(
                sess,
                out,
                &format!(
                    "ERR {} command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
                    spec.name.to_ascii_uppercase()
                ),
            );
        }
        // As Redis's processCommand, before queueing into MULTI (a refused command
        // aborts the transaction).
        if let Some(text) = self.admission(sess, spec) {
            return self.reject(sess, out, text);
        }
        if sess.multi.is_some() && !spec.has(flags::TX_CONTROL) && self.must_pause(sess, spec) {
            // Redis checks CLIENT PAUSE before queueing into MULTI.
            return self.park_paused(sess, argv);
        }
        if let Some(m) = &mut sess.multi {
            if !spec.has(flags::TX_CONTROL) {
                if spec.has(flags::NO_MULTI) {
                    return self.reject(sess, out, "ERR Command not allowed inside a transaction");
                }
                m.queue.push(argv.iter().map(|a| a.to_vec()).collect());
                sess.handle
                    .meta
                    .multi_len
                    .store(m.queue.len(), Ordering::Relaxed);
                if !sess.suppress_replies {
                    encode::simple(out, b"QUEUED");
                }
                return Flow::Continue;
            }
        }
        if sess.proto == Proto::Resp2 && sess.is_subscriber() && !spec.has(flags::SUB_CONTEXT) {
            return self.reject(
                sess,
                out,
                &format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    spec.name
                ),
            );
        }
        if self.must_pause(sess, spec) {
            return self.park_paused(sess, argv);
        }
        let mut guard = self.lock_for(sess, spec, argv);
        self.run(sess, idx, spec, argv, out, &mut guard, false, None)
    }

    /// Checks that depend on the node's state rather than the command's arguments.
    fn admission(&self, sess: &Session, spec: &CommandSpec) -> Option<&'static str> {
        if self.loading.load(Ordering::Relaxed) && !spec.has(flags::LOADING) {
            return Some("LOADING Redis is loading the dataset in memory");
        }
        let kind = sess.handle.kind();
        let replica = self.is_replica.load(Ordering::Relaxed);
        if let Some(text) = self.persistence_denies(spec, kind) {
            return Some(text);
        }
        if spec.has(flags::WRITE)
            && kind != ClientKind::Master
            && replica
            && self.replica_read_only.load(Ordering::Relaxed)
        {
            return Some("READONLY You can't write against a read only replica.");
        }
        if !spec.has(flags::STALE)
            && kind != ClientKind::Master
            && self.is_replica.load(Ordering::Relaxed)
            && !self.replica_serve_stale.load(Ordering::Relaxed)
            && self
                .master()
                .is_some_and(|m| m.state() != repl::replica::LinkState::Connected)
        {
            return Some(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            );
        }
        let min = self.min_replicas.load(Ordering::Relaxed);
        if min > 0
            && spec.has(flags::WRITE)
            && kind != ClientKind::Master
            && !self.is_replica.load(Ordering::Relaxed)
        {
            let max_lag = self.min_replicas_max_lag.load(Ordering::Relaxed);
            if max_lag > 0 && (self.repl.good_replicas(self.clock.now_ms(), max_lag) as u64) < min {
                return Some("NOREPLICAS Not enough good replicas to write.");
            }
        }
        if spec.has(flags::DENYOOM)
            && kind != ClientKind::Master
            && self.keyspace.maxmemory() != 0
            && !self.evict()
        {
            return Some("OOM command not allowed when used memory > 'maxmemory'.");
        }
        None
    }

    /// Evicts keys until under `maxmemory`; false if that is impossible.
    fn evict(&self) -> bool {
        if !self.keyspace.over_maxmemory() {
            return true;
        }
        let now = self.clock.now_ms();
        let prop = self.propagator.read().clone();
        let mut buf = Vec::new();
        self.keyspace.evict(now, &mut |db, key| {
            if let Some(p) = &prop {
                buf.clear();
                encode::command(&mut buf, &[&b"DEL"[..], key]);
                p.propagate(db, &buf);
            }
        })
    }

    fn must_pause(&self, sess: &Session, spec: &CommandSpec) -> bool {
        let until = self.pause_until.load(Ordering::Acquire);
        if until == 0 || sess.handle.kind() != ClientKind::Normal {
            return false;
        }
        if self.clock.now_ms() >= until {
            self.pause_until.store(0, Ordering::Release);
            return false;
        }
        let p = self.pause();
        if !p.writes_only || spec.has(flags::WRITE | flags::MAY_REPLICATE) {
            return true;
        }
        // EXEC of a transaction that writes is paused as a whole (as in Redis).
        spec.name == "exec"
            && sess.multi.as_ref().is_some_and(|m| {
                m.queue.iter().any(|argv| {
                    self.commands
                        .get(&argv[0])
                        .is_some_and(|s| s.has(flags::WRITE | flags::MAY_REPLICATE))
                })
            })
    }

    /// `enable-debug-command`: `yes`, or `local` for loopback (and in-process) clients.
    fn protected_allowed(&self, sess: &Session) -> bool {
        match self.config.get("enable-debug-command").as_deref() {
            Some("yes") => true,
            Some("local") => {
                let a = &sess.handle.addr;
                a.is_empty()
                    || a.starts_with("127.")
                    || a.starts_with("[::1]")
                    || a.starts_with("unix:")
            }
            _ => false,
        }
    }

    fn park_paused(&self, sess: &mut Session, argv: &[&[u8]]) -> Flow {
        let until = self.pause_until.load(Ordering::Acquire);
        sess.blocked = Some(session::Blocked {
            kind: BlockKind::Pause,
            argv: argv.iter().map(|a| a.to_vec()).collect(),
            keys: Vec::new(),
            deadline: Some(until),
        });
        sess.handle.blocked.store(true, Ordering::Relaxed);
        Flow::Blocked
    }

    /// Locks what `spec` declares for `argv`.
    pub(crate) fn lock_for<'e>(
        &'e self,
        sess: &mut Session,
        spec: &CommandSpec,
        argv: &[&[u8]],
    ) -> Guard<'e> {
        let now = self.clock.now_ms();
        let mut guard = match spec.keys {
            Keys::None => self.keyspace.lock_ids(&mut Vec::new(), now),
            Keys::Db => self.keyspace.lock_db(sess.db, now),
            Keys::All => self.keyspace.lock_all(now),
            Keys::Range {
                first: 1, last: 1, ..
            } if argv.len() > 1 => self.keyspace.lock_key(sess.db, argv[1], now),
            keys => {
                let mut kb = std::mem::take(&mut sess.keybuf);
                kb.clear();
                keys.collect(argv, sess.db, &mut kb);
                let mut ids = std::mem::take(&mut sess.shard_ids);
                ids.clear();
                ids.extend(
                    kb.iter()
                        .filter(|(db, _)| *db < self.keyspace.databases())
                        .map(|&(db, i)| self.keyspace.shard_of(db, argv[i])),
                );
                let g = self.keyspace.lock_ids(&mut ids, now);
                sess.keybuf = kb;
                sess.shard_ids = ids;
                g
            }
        };
        if sess.handle.kind() == ClientKind::Master {
            guard.ignore_expiry();
        }
        guard
    }

    /// Runs a command whose locks are held. With `effects` (inside EXEC) the effects are
    /// collected there instead of being propagated at once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<'e>(
        &'e self,
        sess: &mut Session,
        idx: usize,
        spec: &'static CommandSpec,
        argv: &[&[u8]],
        out: &mut Vec<u8>,
        guard: &mut Guard<'e>,
        in_exec: bool,
        mut effects: Option<&mut Vec<u8>>,
    ) -> Flow {
        let started = Instant::now();
        let now = guard.now_ms();
        let mark = out.len();
        let proto = sess.proto;
        let db = sess.db;
        // Before the handler, so CLIENT LIST shows itself and subcommands can name
        // themselves (`client|list`).
        sess.handle.touch(now, spec.name);
        let (result, dirty, rewritten, ready, flow, repl_only) = {
            let mut call = Call {
                argv,
                db,
                ks: &mut *guard,
                out: Reply::new(&mut *out, proto),
                sess: &mut *sess,
                engine: self,
                now_ms: now,
                in_exec,
                dirty: 0,
                rewritten: None,
                ready: Vec::new(),
                flow: Flow::Continue,
                repl_only: false,
            };
            let result = (spec.run)(&mut call);
            (
                result,
                call.dirty,
                call.rewritten.take(),
                std::mem::take(&mut call.ready),
                call.flow,
                call.repl_only,
            )
        };
        let failed = result.is_err();
        if let Err(e) = result {
            out.truncate(mark);
            encode::error(out, e.text());
            self.record_error(e.text());
        }
        if sess.suppress_replies {
            out.truncate(mark);
        }
        // Effects, while the locks are held.
        let expired = guard.take_expired();
        if dirty > 0 || !expired.is_empty() {
            self.stats
                .dirty
                .fetch_add(dirty + expired.len() as u64, Ordering::Relaxed);
            let prop = self.propagator.read();
            // Our master's commands are logged as received by the replication link.
            let from_master = sess.handle.kind() == ClientKind::Master;
            if (prop.is_some() && !from_master) || effects.is_some() {
                let mut buf = std::mem::take(&mut sess.effect_buf);
                buf.clear();
                for (kdb, key) in &expired {
                    if *kdb == db {
                        encode::command(&mut buf, &[&b"DEL"[..], &key[..]]);
                    } else {
                        // A key of another database (MOVE, COPY ... DB): delete it
                        // there and come back.
                        let (other, back) = (kdb.to_string(), db.to_string());
                        encode::command(&mut buf, &[&b"SELECT"[..], other.as_bytes()]);
                        encode::command(&mut buf, &[&b"DEL"[..], &key[..]]);
                        encode::command(&mut buf, &[&b"SELECT"[..], back.as_bytes()]);
                    }
                }
                match &rewritten {
                    Some(cmds) => {
                        for c in cmds {
                            encode::command(&mut buf, c);
                        }
                    }
                    None if dirty > 0 => encode::command(&mut buf, argv),
                    None => {}
                }
                match effects.as_deref_mut() {
                    Some(acc) => acc.extend_from_slice(&buf),
                    None => {
                        if let Some(p) = &*prop {
                            if !buf.is_empty() {
                                sess.last_write_offset = p.propagate(db, &buf);
                            }
                        }
                    }
                }
                sess.effect_buf = buf;
            }
        }
        if repl_only {
            match effects {
                Some(acc) => encode::command(acc, argv),
                None => {
                    if let Some(p) = &*self.propagator.read() {
                        let mut buf = Vec::new();
                        encode::command(&mut buf, argv);
                        p.propagate_to_replicas(db, &buf);
                    }
                }
            }
        }
        if !ready.is_empty() {
            self.blocking.wake(&ready);
        }
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        let elapsed_us = started.elapsed().as_micros() as u64;
        if let Some((_, cs)) = self.command_stats.get(idx) {
            cs.calls.fetch_add(1, Ordering::Relaxed);
            cs.usec.fetch_add(elapsed_us, Ordering::Relaxed);
            if self.stats.latency_tracking.load(Ordering::Relaxed) && flow != Flow::Blocked {
                cs.latency.record(elapsed_us * 1000);
            }
            if failed {
                cs.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        if spec.has(flags::TX_CONTROL) {
            let queued = sess.multi.as_ref().map_or(0, |m| m.queue.len());
            sess.handle.meta.multi_len.store(queued, Ordering::Relaxed);
        }
        let skip_monitor = std::mem::take(&mut sess.skip_monitor);
        if self.monitors.is_active()
            && !sess.reprocessing
            && !skip_monitor
            && !spec.has(flags::SKIP_MONITOR | flags::ADMIN)
        {
            self.monitors
                .feed(self.clock.now_us(), sess.db, &sess.handle.addr, argv);
        }
        if flow != Flow::Blocked
            && self.slowlog.is_slow(elapsed_us)
            && !spec.has(flags::SKIP_SLOWLOG)
        {
            let name = sess.handle.name.lock().clone().unwrap_or_default();
            self.slowlog
                .record(now / 1000, elapsed_us, argv, &sess.handle.addr, &name);
        }
        if flow == Flow::Blocked {
            if let Some(b) = &sess.blocked {
                self.blocking.register(&b.keys, &sess.handle);
                if matches!(b.kind, BlockKind::Wait { .. }) {
                    sess.handle.waiting_acks.store(true, Ordering::Release);
                }
            }
            sess.handle.blocked.store(true, Ordering::Relaxed);
        }
        flow
    }

    fn resume(&self, sess: &mut Session, out: &mut Vec<u8>) -> Option<Flow> {
        let b = sess.blocked.as_ref()?;
        let now = self.clock.now_ms();
        let unblock = sess
            .handle
            .meta
            .unblock
            .swap(session::UNBLOCK_NONE, Ordering::AcqRel);
        if unblock != session::UNBLOCK_NONE && !b.keys.is_empty() {
            // CLIENT UNBLOCK: answer as a timeout, or with -UNBLOCKED.
            let b = sess.blocked.take().expect("checked above");
            self.blocking.unregister(&b.keys, sess.handle.id);
            sess.handle.blocked.store(false, Ordering::Relaxed);
            if unblock == session::UNBLOCK_ERROR {
                let text = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
                self.record_error(text);
                if !sess.suppress_replies {
                    encode::error(out, text);
                }
            } else if !sess.suppress_replies {
                encode::null_array(out, sess.proto);
            }
            return Some(Flow::Continue);
        }
        let timed_out = b.deadline.is_some_and(|d| now >= d);
        let ready = sess.handle.ready.swap(false, Ordering::AcqRel);
        match b.kind {
            BlockKind::Keys if !ready && !timed_out => return None,
            BlockKind::Wait { offset, replicas } => {
                let acked = self.repl.acked(offset);
                if acked < replicas && !timed_out {
                    return None;
                }
                self.unblock(sess);
                if !sess.suppress_replies {
                    encode::int(out, acked as i64);
                }
                return Some(Flow::Continue);
            }
            _ => {}
        }
        let b = self.unblock(sess).expect("checked above");
        let argv: Vec<&[u8]> = b.argv.iter().map(|a| &a[..]).collect();
        let (idx, spec) = self
            .commands
            .lookup(argv[0])
            .expect("blocked command exists");
        if b.kind == BlockKind::Pause {
            // Paused by CLIENT PAUSE: run it now unless still paused.
            if self.must_pause(sess, spec) {
                sess.blocked = Some(b);
                sess.handle.blocked.store(true, Ordering::Relaxed);
                return None;
            }
            return Some(self.execute(sess, &argv, out));
        }
        let mut guard = self.lock_for(sess, spec, &argv);
        let mark = out.len();
        sess.reprocessing = true;
        let flow = self.run(sess, idx, spec, &argv, out, &mut guard, false, None);
        sess.reprocessing = false;
        drop(guard);
        if flow == Flow::Blocked {
            // Still nothing to serve: keep the original deadline, not one recomputed
            // from the command's timeout at this retry.
            if let Some(nb) = sess.blocked.as_mut() {
                nb.deadline = b.deadline;
            }
            if timed_out {
                self.unblock(sess);
                out.truncate(mark);
                encode::null_array(out, sess.proto);
                return Some(Flow::Continue);
            }
            // Woken for nothing: keep the original deadline, not one re-computed now.
            if let Some(nb) = &mut sess.blocked {
                nb.deadline = b.deadline;
            }
            return None;
        }
        Some(flow)
    }

    /// Takes the session out of the blocked state and every registry.
    fn unblock(&self, sess: &mut Session) -> Option<session::Blocked> {
        let b = sess.blocked.take()?;
        self.blocking.unregister(&b.keys, sess.handle.id);
        sess.handle.blocked.store(false, Ordering::Relaxed);
        sess.handle.waiting_acks.store(false, Ordering::Release);
        Some(b)
    }

    /// A counted handle to this shared state (for work that outlives the call).
    pub fn arc(&self) -> Arc<Shared> {
        self.this
            .get()
            .and_then(std::sync::Weak::upgrade)
            .expect("engine state is alive while in use")
    }

    /// The counters of the command named `name`.
    pub fn command_stats_of(&self, name: &str) -> Option<&CommandStats> {
        self.command_stats
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }

    /// Sends a log line to the installed sink.
    pub fn log(&self, level: Level, msg: &str) {
        if let Some(s) = &*self.log_sink.read() {
            s.log(level, msg);
        }
    }

    /// Installs where log lines go.
    pub fn set_log_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        *self.log_sink.write() = sink;
    }

    /// Routes every change into the replication log (once a backlog exists).
    pub(crate) fn enable_log_propagation(&self) {
        let mut p = self.propagator.write();
        if p.is_none() {
            *p = Some(Arc::new(repl::LogPropagator(self.repl.log.clone())));
        }
    }

    /// Asks every replica for an acknowledgement (`REPLCONF GETACK *` in the stream).
    pub(crate) fn request_acks(&self) {
        if !self.repl.replicas().is_empty() {
            self.repl
                .log
                .append_command(&[b"REPLCONF", b"GETACK", b"*"]);
        }
    }

    /// Wakes clients blocked in WAIT (a replica acknowledged something).
    pub(crate) fn wake_waiters(&self) {
        for c in self.clients.all() {
            if c.waiting_acks.load(Ordering::Acquire) {
                c.notify();
            }
        }
    }

    /// Called when a session ends: forgets its subscriptions, watches and blocks.
    pub(crate) fn end_session(&self, sess: &mut Session) {
        for c in std::mem::take(&mut sess.channels) {
            self.pubsub.unsubscribe(&c, sess.handle.id);
        }
        for p in std::mem::take(&mut sess.patterns) {
            self.pubsub.punsubscribe(&p, sess.handle.id);
        }
        for c in std::mem::take(&mut sess.shard_channels) {
            self.pubsub.sunsubscribe(&c, sess.handle.id);
        }
        if sess.handle.meta.monitor.load(Ordering::Relaxed) {
            self.monitors.remove(sess.handle.id);
        }
        for (db, key) in std::mem::take(&mut sess.watched) {
            self.keyspace.unwatch(db, &key, &sess.watch_flag);
        }
        self.unblock(sess);
        self.clients.remove(sess.handle.id);
    }

    /// INFO text for the requested sections (`default`, `all`, `everything` or names).
    pub fn info(&self, sections: &[&str]) -> String {
        info::render(self, sections)
    }

    /// The current propagator, if any.
    pub fn propagator(&self) -> Option<Arc<dyn Propagator>> {
        self.propagator.read().clone()
    }
}
