//! tandem's engine: the command table and the execution of every command against the
//! keyspace, for every client — the RESP server's connections and embedding programs
//! alike. The engine opens no socket and starts no thread in its execution path.
//!
//! # Executing a command
//!
//! [`Engine::execute`] takes a session, the arguments and an output buffer:
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
pub mod error;
mod info;
pub mod registry;
pub mod reply;
pub mod session;
#[doc(hidden)]
pub mod testkit;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use tandem_keyspace::{Guard, Keyspace, KeyspaceConfig, Policy};
use tandem_resp::{encode, Proto};

pub use call::{Call, Flow};
pub use command::{flags, CommandSpec, CommandTable, Keys};
pub use config::Config;
pub use error::{CmdError, CmdResult};
pub use reply::Reply;
pub use session::{ClientHandle, ClientKind, Notify, Session};

/// Receives every change, in order, as RESP commands, while the changed keys are still
/// locked. The replication log and the AOF writer implement it.
pub trait Propagator: Send + Sync {
    /// `cmds` holds one or more whole RESP commands to apply in database `db`.
    fn propagate(&self, db: usize, cmds: &[u8]);
}

/// Where the engine reads the time; tests substitute their own.
pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
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
}

/// Per-command call counters (INFO commandstats).
pub struct CommandStats {
    /// Calls.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
    /// Calls that replied with an error.
    pub failed: AtomicU64,
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
    /// Per-command counters.
    pub command_stats: HashMap<&'static str, CommandStats>,
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
    propagator: RwLock<Option<Arc<dyn Propagator>>>,
    requirepass: RwLock<Option<Vec<u8>>>,
    auth_required: AtomicBool,
    pause: Mutex<Pause>,
    /// Set when the data is being loaded (commands without the `loading` flag get -LOADING).
    pub loading: AtomicBool,
    /// Whether this node is a replica (writes refused if `replica-read-only`).
    pub is_replica: AtomicBool,
    replica_read_only: AtomicBool,
    /// Extra INFO text providers (replication, persistence, server-side sections).
    pub info_providers: RwLock<Vec<Arc<dyn InfoProvider>>>,
}

/// Contributes fields to INFO sections owned outside the engine (the server's
/// connection counts, replication, persistence).
pub trait InfoProvider: Send + Sync {
    /// Appends `field:value\r\n` lines for `section` (lower case), if it has any.
    fn info(&self, section: &str, out: &mut String);
}

/// A handle to an engine; clones share it.
#[derive(Clone)]
pub struct Engine {
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

impl Engine {
    /// An engine with the given configuration (see [`config::DIRECTIVES`]).
    pub fn new(config: Config) -> Engine {
        Self::with_clock(config, Box::new(SystemClock))
    }

    /// An engine reading time from `clock`.
    pub fn with_clock(config: Config, clock: Box<dyn Clock>) -> Engine {
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
                    },
                )
            })
            .collect();
        let started_ms = clock.now_ms();
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
            pause: Mutex::new(Pause::default()),
            loading: AtomicBool::new(false),
            is_replica: AtomicBool::new(false),
            replica_read_only: AtomicBool::new(true),
            info_providers: RwLock::new(Vec::new()),
        });
        for d in config::DIRECTIVES {
            shared.apply_config(d.name);
        }
        Engine { shared }
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
            kind: Mutex::new(ClientKind::Normal),
            sub_count: Default::default(),
            in_multi: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            proto3: AtomicBool::new(false),
            mailbox: Mutex::new(Vec::new()),
            ready: AtomicBool::new(false),
            notifier,
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
            blocked: None,
            keybuf: Vec::new(),
            shard_ids: Vec::new(),
            effect_buf: Vec::new(),
            suppress_replies: false,
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

    /// One step of active expiry (the server calls this `hz` times a second): deletes
    /// keys whose TTL passed, propagating a DEL for each.
    pub fn active_expire(&self, cursor: &mut usize, budget: usize) -> usize {
        let sh = &self.shared;
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
        *self.pause.lock()
    }

    /// Sets the `CLIENT PAUSE` state and wakes paused clients when it ends.
    pub fn set_pause(&self, p: Pause) {
        *self.pause.lock() = p;
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
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &mut sess.multi {
            m.aborted = true;
        }
        if !sess.suppress_replies {
            encode::error(out, text);
        }
        Flow::Continue
    }

    fn execute(&self, sess: &mut Session, argv: &[&[u8]], out: &mut Vec<u8>) -> Flow {
        if argv.is_empty() {
            return Flow::Continue;
        }
        let Some(spec) = self.commands.get(argv[0]) else {
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
        if !sess.authenticated && !spec.has(flags::NO_AUTH) {
            return self.reject(sess, out, "NOAUTH Authentication required.");
        }
        if let Some(m) = &mut sess.multi {
            if !spec.has(flags::TX_CONTROL) {
                if spec.has(flags::NO_MULTI) {
                    return self.reject(
                        sess,
                        out,
                        &format!("ERR Command not allowed inside a transaction"),
                    );
                }
                m.queue.push(argv.iter().map(|a| a.to_vec()).collect());
                encode::simple(out, b"QUEUED");
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
        if let Some(text) = self.admission(sess, spec) {
            return self.reject(sess, out, text);
        }
        if self.must_pause(sess, spec) {
            return self.park_paused(sess, argv);
        }
        let mut guard = self.lock_for(sess, spec, argv);
        let flow = self.run(sess, spec, argv, out, &mut guard, false, None);
        flow
    }

    /// Checks that depend on the node's state rather than the command's arguments.
    fn admission(&self, sess: &Session, spec: &CommandSpec) -> Option<&'static str> {
        if self.loading.load(Ordering::Relaxed) && !spec.has(flags::LOADING) {
            return Some("LOADING Redis is loading the dataset in memory");
        }
        let kind = sess.handle.kind();
        if spec.has(flags::WRITE)
            && kind != ClientKind::Master
            && self.is_replica.load(Ordering::Relaxed)
            && self.replica_read_only.load(Ordering::Relaxed)
        {
            return Some("READONLY You can't write against a read only replica.");
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
        let p = *self.pause.lock();
        if p.until_ms == 0 || sess.handle.kind() != ClientKind::Normal {
            return false;
        }
        if self.clock.now_ms() >= p.until_ms {
            *self.pause.lock() = Pause::default();
            return false;
        }
        !p.writes_only || spec.has(flags::WRITE) || spec.has(flags::MAY_REPLICATE)
    }

    fn park_paused(&self, sess: &mut Session, argv: &[&[u8]]) -> Flow {
        let until = self.pause.lock().until_ms;
        sess.blocked = Some(session::Blocked {
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
        match spec.keys {
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
        }
    }

    /// Runs a command whose locks are held. With `effects` (inside EXEC) the effects are
    /// collected there instead of being propagated at once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run<'e>(
        &'e self,
        sess: &mut Session,
        spec: &'static CommandSpec,
        argv: &[&[u8]],
        out: &mut Vec<u8>,
        guard: &mut Guard<'e>,
        in_exec: bool,
        effects: Option<&mut Vec<u8>>,
    ) -> Flow {
        let started = Instant::now();
        let now = guard.now_ms();
        let mark = out.len();
        let proto = sess.proto;
        let db = sess.db;
        let (result, dirty, rewritten, ready, flow) = {
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
            };
            let result = (spec.run)(&mut call);
            (
                result,
                call.dirty,
                call.rewritten.take(),
                std::mem::take(&mut call.ready),
                call.flow,
            )
        };
        let failed = result.is_err();
        if let Err(e) = result {
            out.truncate(mark);
            encode::error(out, e.text());
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
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
            if prop.is_some() || effects.is_some() {
                let mut buf = std::mem::take(&mut sess.effect_buf);
                buf.clear();
                for (_, key) in &expired {
                    encode::command(&mut buf, &[&b"DEL"[..], &key[..]]);
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
                match effects {
                    Some(acc) => acc.extend_from_slice(&buf),
                    None => {
                        if let Some(p) = &*prop {
                            if !buf.is_empty() {
                                p.propagate(db, &buf);
                            }
                        }
                    }
                }
                sess.effect_buf = buf;
            }
        }
        if !ready.is_empty() {
            self.blocking.wake(&ready);
        }
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        if let Some(cs) = self.command_stats.get(spec.name) {
            cs.calls.fetch_add(1, Ordering::Relaxed);
            cs.usec
                .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
            if failed {
                cs.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        sess.handle.touch(now, spec.name);
        if flow == Flow::Blocked {
            if let Some(b) = &sess.blocked {
                self.blocking.register(&b.keys, &sess.handle);
            }
            sess.handle.blocked.store(true, Ordering::Relaxed);
        }
        flow
    }

    fn resume(&self, sess: &mut Session, out: &mut Vec<u8>) -> Option<Flow> {
        let b = sess.blocked.as_ref()?;
        let now = self.clock.now_ms();
        let timed_out = b.deadline.is_some_and(|d| now >= d);
        let ready = sess.handle.ready.swap(false, Ordering::AcqRel);
        if !ready && !timed_out && !b.keys.is_empty() {
            return None;
        }
        let b = sess.blocked.take().expect("checked above");
        self.blocking.unregister(&b.keys, sess.handle.id);
        sess.handle.blocked.store(false, Ordering::Relaxed);
        let argv: Vec<&[u8]> = b.argv.iter().map(|a| &a[..]).collect();
        let spec = self.commands.get(argv[0]).expect("blocked command exists");
        if b.keys.is_empty() {
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
        let flow = self.run(sess, spec, &argv, out, &mut guard, false, None);
        drop(guard);
        if flow == Flow::Blocked {
            // Still nothing to serve.
            if timed_out {
                let nb = sess.blocked.take().expect("blocked again");
                self.blocking.unregister(&nb.keys, sess.handle.id);
                sess.handle.blocked.store(false, Ordering::Relaxed);
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

    /// Called when a session ends: forgets its subscriptions, watches and blocks.
    pub(crate) fn end_session(&self, sess: &mut Session) {
        for c in std::mem::take(&mut sess.channels) {
            self.pubsub.unsubscribe(&c, sess.handle.id);
        }
        for p in std::mem::take(&mut sess.patterns) {
            self.pubsub.punsubscribe(&p, sess.handle.id);
        }
        for (db, key) in std::mem::take(&mut sess.watched) {
            self.keyspace.unwatch(db, &key, &sess.watch_flag);
        }
        if let Some(b) = sess.blocked.take() {
            self.blocking.unregister(&b.keys, sess.handle.id);
        }
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
