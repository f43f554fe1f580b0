//! The engine as a library: an [`Engine`] built from a typed configuration, executing
//! commands in the calling thread, keeping its copies in sync with other nodes over the
//! Redis replication protocol, and publishing a feed of changes.
//!
//! ```
//! use tandem_engine::{Builder, Frame};
//!
//! let engine = Builder::new().databases(4).open()?;
//! engine.set(b"session:1", b"alice")?;
//! assert_eq!(engine.get(b"session:1")?.as_deref(), Some(&b"alice"[..]));
//! assert_eq!(engine.execute(&[b"DBSIZE"]), Frame::Integer(1));
//! # Ok::<(), tandem_engine::Error>(())
//! ```
//!
//! Replication between two engines (or with redis-server, either way round), and the
//! change feed on the replica:
//!
//! ```
//! use std::time::Duration;
//! use tandem_engine::{Builder, ChangeEvent};
//!
//! let master = Builder::new().set("repl-diskless-sync-delay", "0")?.open()?;
//! let port = master.serve_replicas("127.0.0.1:0")?.port();
//!
//! let replica = Builder::new().open()?;
//! replica.replicate_from("127.0.0.1", port)?;
//! assert!(replica.wait_for_sync(Duration::from_secs(30)));
//! let feed = replica.changes()?;
//!
//! master.sadd(b"online", &[b"alice"])?;
//! loop {
//!     match feed.recv_timeout(Duration::from_secs(30)).expect("a change") {
//!         ChangeEvent::Write(c) => {
//!             assert_eq!(c.keys().collect::<Vec<_>>(), [&b"online"[..]]);
//!             break;
//!         }
//!         ChangeEvent::Gap { .. } => continue,
//!     }
//! }
//! assert!(replica.sismember(b"online", b"alice")?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Threads
//!
//! Commands run on the caller's thread: an [`Engine`] and its [`Db`] views are `Send +
//! Sync`, and any number of threads may call them at once (the keyspace locks per
//! shard). The engine's own work runs on named threads it starts and joins: `tandem-cron`
//! (expiry, replication and persistence duties, `hz` times a second), `repl-link` while
//! following a master, `repl-accept`/`repl-conn` and one sender per replica while serving
//! replicas, `aof-writer` while the AOF is on, and one `change-feed` per feed. Dropping
//! the engine (or [`Engine::close`]) stops and joins all of them, after syncing the AOF.
//!
//! # Defaults
//!
//! Every directive has Redis's default except persistence: an embedded engine neither
//! saves an RDB nor writes an AOF unless told to ([`Builder::save_points`],
//! [`Builder::appendonly`]), since a library must not write files into the host's
//! working directory on its own.

mod feed;
mod ops;
mod wait;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use tandem_transport::{Connector, Link};

pub use feed::{Change, ChangeEvent, ChangeFeed, FeedHandle};
pub use ops::{Db, Scan, Ttl};
pub use wait::Client;

use crate::config::Config;
use crate::repl::listener::ReplicaListener;
use crate::repl::replica::LinkState;
use crate::{Core, CronState, LoadError, LogSink};

/// What went wrong, as a stable category (the C ABI's error codes follow it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A directive name or value was rejected.
    Config,
    /// An argument was out of range (a database index, an address).
    InvalidArgument,
    /// A socket or file operation failed.
    Io,
    /// The data on disk could not be loaded (damaged RDB or AOF).
    Load,
    /// A command answered with an error reply; the message is Redis's text.
    Command,
    /// A command was applied to a key holding another type (`WRONGTYPE`).
    WrongType,
    /// The engine is closed.
    Closed,
}

/// An error from the embedding API: a category and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// Its category.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Its message (for a command error, the reply text without the `-`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error for an error reply `text`.
    pub(crate) fn from_reply(text: &[u8]) -> Error {
        let text = String::from_utf8_lossy(text).into_owned();
        let kind = if text.starts_with("WRONGTYPE ") {
            ErrorKind::WrongType
        } else {
            ErrorKind::Command
        };
        Error::new(kind, text)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, e.to_string())
    }
}

/// The result of the embedding API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `appendfsync`: when the AOF is fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// After every write, before it is acknowledged (group-committed).
    Always,
    /// Once a second.
    EverySec,
    /// When the operating system decides.
    No,
}

/// The settings of an [`Engine`]: the same directives as `tandem-server` and redis.conf,
/// as typed methods or as name/value pairs ([`Builder::set`]).
pub struct Builder {
    config: Config,
    errors: Vec<Error>,
    log: Option<Arc<dyn LogSink>>,
    connector: Option<Arc<dyn Connector>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Redis's defaults, without persistence (see the module docs).
    pub fn new() -> Builder {
        let config = Config::default();
        let _ = config.set("save", &[""]);
        let _ = config.set("appendonly", &["no"]);
        Builder {
            config,
            errors: Vec::new(),
            log: None,
            connector: None,
        }
    }

    /// Sets directive `name` (`maxmemory`, `save`, `repl-backlog-size`, …) from its value
    /// as written in redis.conf; words are separated by spaces (`"3600 1 300 100"`).
    pub fn set(self, name: &str, value: &str) -> Result<Builder> {
        let words: Vec<&str> = if value.trim().is_empty() {
            vec![""]
        } else {
            value.split_whitespace().collect()
        };
        self.config
            .set(name, &words)
            .map_err(|e| Error::new(ErrorKind::Config, format!("{name}: {e}")))?;
        Ok(self)
    }

    /// Like [`Builder::set`], remembering an error for [`Builder::open`] to report.
    fn with(mut self, name: &str, value: &str) -> Builder {
        if let Err(e) = self.config.set(name, &[value]) {
            self.errors
                .push(Error::new(ErrorKind::Config, format!("{name}: {e}")));
        }
        self
    }

    /// `databases`: how many numbered databases (default 16).
    pub fn databases(self, n: usize) -> Builder {
        self.with("databases", &n.to_string())
    }

    /// `maxmemory` in bytes (0: no limit).
    pub fn maxmemory(self, bytes: u64) -> Builder {
        self.with("maxmemory", &bytes.to_string())
    }

    /// `maxmemory-policy`.
    pub fn maxmemory_policy(self, policy: tandem_keyspace::Policy) -> Builder {
        self.with("maxmemory-policy", policy.name())
    }

    /// `dir`: where the RDB and the AOF directory live.
    pub fn dir(self, dir: impl AsRef<Path>) -> Builder {
        let d = dir.as_ref().to_string_lossy().into_owned();
        self.with("dir", &d)
    }

    /// `dbfilename` (default `dump.rdb`).
    pub fn dbfilename(self, name: &str) -> Builder {
        self.with("dbfilename", name)
    }

    /// `save`: snapshot after `seconds` when at least `changes` writes happened, for
    /// each pair; an empty slice turns snapshots off. Closing the engine saves when
    /// save points are set, as Redis's SHUTDOWN does.
    pub fn save_points(self, points: &[(u64, u64)]) -> Builder {
        let v = points
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" ");
        match self.set("save", &v) {
            Ok(b) => b,
            Err(_) => unreachable!("numeric save points are always valid"),
        }
    }

    /// `appendonly`.
    pub fn appendonly(self, on: bool) -> Builder {
        self.with("appendonly", if on { "yes" } else { "no" })
    }

    /// `appendfsync`.
    pub fn appendfsync(self, policy: Fsync) -> Builder {
        let v = match policy {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        };
        self.with("appendfsync", v)
    }

    /// `requirepass`: the password replicas (and other clients of
    /// [`Engine::serve_replicas`]) must give. Calls through the API need none.
    pub fn requirepass(self, password: &str) -> Builder {
        self.with("requirepass", password)
    }

    /// `masterauth`: the password for the master this engine follows.
    pub fn masterauth(self, password: &str) -> Builder {
        self.with("masterauth", password)
    }

    /// `masteruser`: the ACL user for the master this engine follows.
    pub fn masteruser(self, user: &str) -> Builder {
        self.with("masteruser", user)
    }

    /// `repl-backlog-size` in bytes: how much history a reconnecting replica can resume
    /// from.
    pub fn repl_backlog_size(self, bytes: u64) -> Builder {
        self.with("repl-backlog-size", &bytes.to_string())
    }

    /// `replica-read-only`: whether writes through the API are refused while following
    /// a master (default yes).
    pub fn replica_read_only(self, on: bool) -> Builder {
        self.with("replica-read-only", if on { "yes" } else { "no" })
    }

    /// `replica-serve-stale-data`: whether reads are served while the link to the master
    /// is down or syncing (default yes).
    pub fn replica_serve_stale_data(self, on: bool) -> Builder {
        self.with("replica-serve-stale-data", if on { "yes" } else { "no" })
    }

    /// `min-replicas-to-write` and `min-replicas-max-lag` (seconds).
    pub fn min_replicas(self, count: u32, max_lag_secs: u32) -> Builder {
        self.with("min-replicas-to-write", &count.to_string())
            .with("min-replicas-max-lag", &max_lag_secs.to_string())
    }

    /// `hz`: how often the background duties run (1–500, default 10).
    pub fn hz(self, hz: u32) -> Builder {
        self.with("hz", &hz.to_string())
    }

    /// Where log lines go (by default they are dropped).
    pub fn log_sink(mut self, sink: Arc<dyn LogSink>) -> Builder {
        self.log = Some(sink);
        self
    }

    /// How the engine connects to a master ([`Engine::replicate_from`]); TCP by default.
    /// Lets a host carry replication over its own channel.
    pub fn transport(mut self, connector: Arc<dyn Connector>) -> Builder {
        self.connector = Some(connector);
        self
    }

    /// Builds the engine: loads the AOF or RDB when persistence is configured, starts
    /// the background thread, and, if `replicaof` was set, starts following.
    pub fn open(self) -> Result<Engine> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let core = Core::new(self.config);
        let sh = core.shared().clone();
        if let Some(sink) = self.log {
            sh.set_log_sink(Some(sink));
        }
        // No port to announce until serve_replicas binds one.
        sh.repl.listening_port.store(0, Ordering::Relaxed);
        if let Some(c) = self.connector {
            sh.repl.set_connector(c);
        }
        sh.load_from_disk()
            .map_err(|e: LoadError| Error::new(ErrorKind::Load, e.message))?;
        let follow = sh.config.get("replicaof").unwrap_or_default();
        let inner = Arc::new(Inner {
            core,
            pool: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
            links: Mutex::new(Vec::new()),
            links_stop: Arc::new(AtomicBool::new(false)),
            feeds: Mutex::new(Vec::new()),
            cron_stop: Arc::new((Mutex::new(false), Condvar::new())),
        });
        let cron = spawn_cron(&inner)?;
        let engine = Engine {
            db0: Db::new(inner.clone(), 0),
            inner,
            cron: Some(cron),
        };
        if let Some((host, port)) = follow.split_once(' ') {
            let port: u16 = port
                .trim()
                .parse()
                .map_err(|_| Error::new(ErrorKind::Config, "replicaof: bad port"))?;
            engine.replicate_from(host, port)?;
        }
        Ok(engine)
    }
}

/// State shared by an [`Engine`] and its [`Db`] views.
pub(crate) struct Inner {
    pub(crate) core: Core,
    /// Idle sessions for API calls, reused so a call does not register a client.
    pub(crate) pool: Mutex<Vec<wait::Conn>>,
    pub(crate) closed: AtomicBool,
    listeners: Mutex<Vec<ReplicaListener>>,
    /// Connections handed in by [`Engine::serve_link`], and their stop flag.
    links: Mutex<Vec<JoinHandle<()>>>,
    links_stop: Arc<AtomicBool>,
    pub(crate) feeds: Mutex<Vec<Arc<feed::Running>>>,
    cron_stop: Arc<(Mutex<bool>, Condvar)>,
}

fn spawn_cron(inner: &Arc<Inner>) -> Result<JoinHandle<()>> {
    let core = inner.core.clone();
    let stop = inner.cron_stop.clone();
    let t = std::thread::Builder::new()
        .name("tandem-cron".into())
        .spawn(move || {
            let mut state = CronState::default();
            let (lock, cv) = &*stop;
            let mut stopped = lock.lock();
            while !*stopped {
                cv.wait_for(&mut stopped, core.cron_period());
                if *stopped {
                    break;
                }
                drop(stopped);
                core.cron(&mut state);
                stopped = lock.lock();
            }
        })?;
    Ok(t)
}

/// Which role the engine plays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// It takes writes and may feed replicas.
    Master,
    /// It follows a master.
    Replica {
        /// The master's host.
        host: String,
        /// The master's port.
        port: u16,
        /// Whether the link is up and streaming (`master_link_status:up`).
        link_up: bool,
        /// Whether a full sync is being received.
        syncing: bool,
        /// Milliseconds since anything arrived from the master (`None`: never).
        last_io_ms_ago: Option<u64>,
    },
}

/// Replication position and role ([`Engine::replication`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationStatus {
    /// The role.
    pub role: Role,
    /// The current replication id.
    pub replid: String,
    /// The replication offset (`master_repl_offset`): bytes of history applied.
    pub offset: u64,
    /// Replicas attached to this engine, with the offset each acknowledged.
    pub replicas: Vec<ReplicaInfo>,
}

/// One replica attached to this engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaInfo {
    /// Its address as it announced it.
    pub addr: String,
    /// `wait_bgsave`, `send_bulk` or `online`.
    pub state: &'static str,
    /// The offset it acknowledged.
    pub acked_offset: u64,
}

/// An embedded tandem engine; see the module docs. Database 0's operations are
/// available on the engine itself (it dereferences to a [`Db`]).
pub struct Engine {
    inner: Arc<Inner>,
    db0: Db,
    cron: Option<JoinHandle<()>>,
}

impl std::ops::Deref for Engine {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db0
    }
}

impl Engine {
    /// An engine with the default settings ([`Builder::new`]).
    pub fn open_default() -> Result<Engine> {
        Builder::new().open()
    }

    /// A view of database `index`.
    pub fn db(&self, index: usize) -> Result<Db> {
        if index >= self.inner.core.shared().keyspace.databases() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "DB index is out of range",
            ));
        }
        Ok(Db::new(self.inner.clone(), index))
    }

    /// A session of its own, for MULTI/EXEC, WATCH, SELECT or RESP3.
    pub fn client(&self) -> Result<Client> {
        self.check_open()?;
        Ok(Client::new(self.inner.clone()))
    }

    /// The thread-less core, for what this API does not cover.
    pub fn core(&self) -> &Core {
        &self.inner.core
    }

    /// Sets a directive at run time, as `CONFIG SET name value` does.
    pub fn config_set(&self, name: &str, value: &str) -> Result<()> {
        self.check_open()?;
        let words: Vec<&str> = if value.trim().is_empty() {
            vec![""]
        } else {
            value.split_whitespace().collect()
        };
        self.inner
            .core
            .config_set(name, &words)
            .map_err(|e| Error::new(ErrorKind::Config, format!("{name}: {e}")))
    }

    /// A directive's current value.
    pub fn config_get(&self, name: &str) -> Option<String> {
        self.inner.core.shared().config.get(name)
    }

    /// Accepts replicas (Redis or tandem, `REPLICAOF host port`) on `addr`, e.g.
    /// `"127.0.0.1:0"`. Returns the address bound. Any number of listeners may run.
    pub fn serve_replicas(&self, addr: impl ToSocketAddrs) -> Result<SocketAddr> {
        self.check_open()?;
        let listener = TcpListener::bind(addr)?;
        let l = self.inner.core.serve_replicas(listener)?;
        let bound = l.local_addr();
        self.inner.listeners.lock().push(l);
        Ok(bound)
    }

    /// Serves one connection that the host accepted over its own transport, as
    /// [`Engine::serve_replicas`] serves a TCP connection: commands are answered, and a
    /// replica's PSYNC turns it into a replication link. Runs on a thread of its own
    /// until the connection closes or the engine does.
    pub fn serve_link(&self, link: Box<dyn Link>) -> Result<()> {
        self.check_open()?;
        let sh = self.inner.core.shared().clone();
        let stop = self.inner.links_stop.clone();
        let t = std::thread::Builder::new()
            .name("repl-conn".into())
            .spawn(move || sh.serve_connection(link, &stop))?;
        let mut links = self.inner.links.lock();
        links.retain(|t| !t.is_finished());
        links.push(t);
        Ok(())
    }

    /// Starts following the master at `host:port` (`REPLICAOF host port`): a full or
    /// partial sync, then the stream. Returns at once; [`Engine::replication`] and
    /// [`Engine::wait_for_sync`] tell how far it got.
    pub fn replicate_from(&self, host: &str, port: u16) -> Result<()> {
        self.check_open()?;
        if host.is_empty() || port == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a master needs a host and a port",
            ));
        }
        self.inner.core.shared().replicaof(host, port);
        Ok(())
    }

    /// Stops following the master and takes writes (`REPLICAOF NO ONE`); replicas of
    /// this engine partially resync to the new history.
    pub fn promote(&self) -> Result<()> {
        self.check_open()?;
        self.inner.core.shared().promote();
        Ok(())
    }

    /// The role, replication id and offset, and attached replicas.
    pub fn replication(&self) -> ReplicationStatus {
        let sh = self.inner.core.shared();
        let now = sh.clock.now_ms();
        let role = match sh.master() {
            None => Role::Master,
            Some(m) => {
                let last = m.last_io_ms.load(Ordering::Relaxed);
                Role::Replica {
                    host: m.host.clone(),
                    port: m.port,
                    link_up: m.state() == LinkState::Connected,
                    syncing: m.state() == LinkState::Sync,
                    last_io_ms_ago: (last != 0).then(|| now.saturating_sub(last)),
                }
            }
        };
        let replicas = sh
            .repl
            .replicas()
            .iter()
            .map(|r| ReplicaInfo {
                addr: format!("{}:{}", r.ip, r.port),
                state: r.state().name(),
                acked_offset: r.ack_offset.load(Ordering::Relaxed),
            })
            .collect();
        ReplicationStatus {
            role,
            replid: sh.repl.log.replid().to_string(),
            offset: sh.repl.log.offset(),
            replicas,
        }
    }

    /// The role alone.
    pub fn role(&self) -> Role {
        self.replication().role
    }

    /// Waits until this replica's link is up and streaming, or `timeout` passes.
    /// Returns whether it is. A master returns true at once.
    pub fn wait_for_sync(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match self.role() {
                Role::Master => return true,
                Role::Replica { link_up: true, .. } => return true,
                Role::Replica { .. } => {}
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `INFO` text for `section` (`"replication"`, `"persistence"`, `"all"`, …).
    pub fn info(&self, section: &str) -> String {
        self.inner.core.shared().info(&[section])
    }

    /// A feed of every change applied to the data (writes through this API, from
    /// replicas' master, expiries and evictions), in order. See [`ChangeFeed`].
    pub fn changes(&self) -> Result<ChangeFeed> {
        self.check_open()?;
        feed::channel(&self.inner)
    }

    /// Calls `callback` on a feed thread for every change, in order, until the returned
    /// handle is dropped or the engine closes.
    pub fn on_change(
        &self,
        callback: impl FnMut(&ChangeEvent) + Send + 'static,
    ) -> Result<FeedHandle> {
        self.check_open()?;
        feed::callback(&self.inner, Box::new(callback))
    }

    /// `SAVE`: writes an RDB snapshot now, in the calling thread.
    pub fn save(&self) -> Result<()> {
        self.db0.ok_command(&[b"SAVE"])
    }

    /// `BGSAVE`: writes an RDB snapshot on a background thread.
    pub fn bgsave(&self) -> Result<()> {
        self.db0.ok_command(&[b"BGSAVE"])
    }

    /// `BGREWRITEAOF`: compacts the AOF on a background thread.
    pub fn rewrite_aof(&self) -> Result<()> {
        self.db0.ok_command(&[b"BGREWRITEAOF"])
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::new(ErrorKind::Closed, "the engine is closed"));
        }
        Ok(())
    }

    /// Stops every thread, syncs the AOF and, when save points are set, saves an RDB
    /// (as Redis's SHUTDOWN). Dropping the engine does the same, ignoring errors.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let sh = self.inner.core.shared().clone();
        feed::stop_all(&self.inner);
        self.inner.listeners.lock().clear();
        self.inner.links_stop.store(true, Ordering::Release);
        for t in self.inner.links.lock().drain(..) {
            let _ = t.join();
        }
        sh.stop_following();
        for r in sh.repl.replicas() {
            r.disconnect();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !sh.repl.replicas().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        {
            let (lock, cv) = &*self.inner.cron_stop;
            *lock.lock() = true;
            cv.notify_all();
        }
        if let Some(t) = self.cron.take() {
            let _ = t.join();
        }
        let save = !crate::persist::save_params(&sh).is_empty();
        let r = sh.prepare_shutdown(save);
        self.inner.pool.lock().clear();
        r.map_err(|e| Error::new(ErrorKind::Io, e))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("role", &self.role())
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}
