//! Per-client state: selected database, protocol, authentication, MULTI queue, WATCH,
//! subscriptions and blocking. The engine defines it; whoever carries the bytes (the
//! server's connections, an embedding application) owns one per client.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tandem_keyspace::WatchFlag;
use tandem_resp::Proto;

use crate::Shared;

/// Wakes whoever drives a session when something arrived for it from another client: a
/// pub/sub message, a key it is blocked on became ready, or it was killed. Called from
/// any thread; must not block.
pub trait Notify: Send + Sync {
    /// Something is waiting for this session.
    fn notify(&self);
}

/// What kind of peer a session serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// An ordinary client.
    Normal,
    /// Our master's replication link (on a replica).
    Master,
    /// A replica attached to us.
    Replica,
}

/// The part of a client visible to other clients (CLIENT LIST/KILL, PUBLISH, WAIT):
/// shared behind an `Arc` and registered with the engine while the session lives.
pub struct ClientHandle {
    /// Unique id (`CLIENT ID`).
    pub id: u64,
    /// Peer address `ip:port`, if any.
    pub addr: String,
    /// Local address `ip:port`, if any.
    pub laddr: String,
    /// Creation time, unix ms.
    pub created_ms: u64,
    pub(crate) name: Mutex<Option<Vec<u8>>>,
    pub(crate) db: AtomicUsize,
    pub(crate) last_cmd_ms: AtomicU64,
    /// Name of the last command (`config|get` for subcommands), for CLIENT LIST.
    pub(crate) last_cmd: Mutex<&'static str>,
    pub(crate) killed: AtomicBool,
    pub(crate) kind: AtomicU8,
    /// Channel subscriptions (`sub=`; patterns and shard channels are in `meta`).
    pub(crate) sub_count: AtomicUsize,
    pub(crate) in_multi: AtomicBool,
    pub(crate) blocked: AtomicBool,
    /// Blocked in WAIT (woken by replica acknowledgements).
    pub(crate) waiting_acks: AtomicBool,
    pub(crate) proto3: AtomicBool,
    /// Pub/sub messages encoded for this client, waiting to be written.
    pub(crate) mailbox: Mutex<Vec<u8>>,
    /// Set when a key this client blocks on may be ready.
    pub(crate) ready: AtomicBool,
    pub(crate) notifier: Option<Arc<dyn Notify>>,
    /// Further introspection state (CLIENT LIST fields, MONITOR, CLIENT UNBLOCK).
    pub(crate) meta: ClientMeta,
}

/// What `CLIENT UNBLOCK` asked of a blocked client.
pub(crate) const UNBLOCK_NONE: u8 = 0;
/// Answer the blocked command as if it timed out.
pub(crate) const UNBLOCK_TIMEOUT: u8 = 1;
/// Answer the blocked command with `-UNBLOCKED`.
pub(crate) const UNBLOCK_ERROR: u8 = 2;

/// Per-client state other clients read (CLIENT LIST, CLIENT KILL) or set (CLIENT UNBLOCK).
pub(crate) struct ClientMeta {
    /// Pattern subscriptions (`psub=`).
    pub(crate) psub_count: AtomicUsize,
    /// Shard channel subscriptions (`ssub=`).
    pub(crate) ssub_count: AtomicUsize,
    /// The connection's file descriptor, -1 if none.
    pub(crate) fd: AtomicI64,
    /// `CLIENT NO-EVICT on`.
    pub(crate) no_evict: AtomicBool,
    /// In MONITOR mode.
    pub(crate) monitor: AtomicBool,
    /// A pending `CLIENT UNBLOCK` (`UNBLOCK_*`).
    pub(crate) unblock: AtomicU8,
    /// Commands queued in MULTI (`multi=`).
    pub(crate) multi_len: AtomicUsize,
}

impl Default for ClientMeta {
    fn default() -> Self {
        ClientMeta {
            psub_count: AtomicUsize::new(0),
            ssub_count: AtomicUsize::new(0),
            fd: AtomicI64::new(-1),
            no_evict: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            unblock: AtomicU8::new(UNBLOCK_NONE),
            multi_len: AtomicUsize::new(0),
        }
    }
}

impl ClientHandle {
    /// Wakes the session's driver.
    pub fn notify(&self) {
        if let Some(n) = &self.notifier {
            n.notify();
        }
    }
    /// Whether CLIENT KILL (or shutdown) asked this client to close.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
    /// Asks the client to close.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.notify();
    }
    /// The client's kind.
    pub fn kind(&self) -> ClientKind {
        match self.kind.load(Ordering::Relaxed) {
            1 => ClientKind::Master,
            2 => ClientKind::Replica,
            _ => ClientKind::Normal,
        }
    }
    /// Sets the client's kind.
    pub fn set_kind(&self, kind: ClientKind) {
        let v = match kind {
            ClientKind::Normal => 0,
            ClientKind::Master => 1,
            ClientKind::Replica => 2,
        };
        self.kind.store(v, Ordering::Relaxed);
    }

    /// Name of the last command the client ran (`CLIENT LIST cmd=`), `NULL` if none.
    pub fn last_command(&self) -> &'static str {
        *self.last_cmd.lock()
    }
    /// Records that a command ran now.
    pub(crate) fn touch(&self, now_ms: u64, cmd: &'static str) {
        self.last_cmd_ms.store(now_ms, Ordering::Relaxed);
        *self.last_cmd.lock() = cmd;
    }
    /// Records the file descriptor of the client's connection (`fd=` of CLIENT LIST).
    pub fn set_fd(&self, fd: i64) {
        self.meta.fd.store(fd, Ordering::Relaxed);
    }
}

/// A queued MULTI transaction.
pub(crate) struct Multi {
    pub(crate) queue: Vec<Vec<Vec<u8>>>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub(crate) aborted: bool,
}

/// Why a client is blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// On keys (BLPOP & co): retried when one is signalled ready.
    Keys,
    /// By `CLIENT PAUSE`: run when the pause ends.
    Pause,
    /// In `WAIT`: answered when enough replicas acknowledged `offset`.
    Wait {
        /// The client's last write offset.
        offset: u64,
        /// Replicas asked for.
        replicas: usize,
    },
}

/// A client blocked in BLPOP & co, WAIT, or CLIENT PAUSE.
pub(crate) struct Blocked {
    pub(crate) kind: BlockKind,
    pub(crate) argv: Vec<Vec<u8>>,
    pub(crate) keys: Vec<(usize, Box<[u8]>)>,
    /// Unix ms at which to give up; `None` = forever.
    pub(crate) deadline: Option<u64>,
}

/// One client's state.
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    pub(crate) handle: Arc<ClientHandle>,
    /// Selected database.
    pub db: usize,
    /// Protocol version.
    pub proto: Proto,
    /// Whether AUTH succeeded (or no password is required).
    pub authenticated: bool,
    pub(crate) multi: Option<Multi>,
    pub(crate) watched: Vec<(usize, Box<[u8]>)>,
    pub(crate) watch_flag: WatchFlag,
    pub(crate) channels: BTreeSet<Box<[u8]>>,
    pub(crate) patterns: BTreeSet<Box<[u8]>>,
    pub(crate) shard_channels: BTreeSet<Box<[u8]>>,
    pub(crate) blocked: Option<Blocked>,
    pub(crate) keybuf: Vec<(usize, usize)>,
    pub(crate) shard_ids: Vec<usize>,
    pub(crate) effect_buf: Vec<u8>,
    /// What REPLCONF said, if this connection is becoming a replica.
    pub(crate) repl_hello: crate::repl::ReplicaHello,
    /// Set by PSYNC/SYNC: the server hands the connection to the replication layer.
    pub(crate) sync_request: Option<crate::repl::SyncRequest>,
    /// Replication offset after this client's last write (for WAIT).
    pub(crate) last_write_offset: u64,
    /// Replies are discarded (the master link of a replica, `CLIENT REPLY OFF`).
    pub suppress_replies: bool,
    /// `CLIENT REPLY SKIP`: the next command's reply is discarded.
    pub(crate) skip_next_reply: bool,
    /// A blocked command is being run again (not shown again by MONITOR).
    pub(crate) reprocessing: bool,
    /// The running command is not shown to MONITOR (an admin subcommand).
    pub(crate) skip_monitor: bool,
}

impl Session {
    /// The shared, registered part of this session.
    pub fn handle(&self) -> &Arc<ClientHandle> {
        &self.handle
    }
    /// Client id.
    pub fn id(&self) -> u64 {
        self.handle.id
    }
    /// Whether the session is blocked (BLPOP, WAIT, CLIENT PAUSE) and must not be given
    /// new commands until [`crate::Core::resume`] says it finished.
    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some()
    }
    /// Unix ms at which the blocked command times out, if it does.
    pub fn block_deadline(&self) -> Option<u64> {
        self.blocked.as_ref().and_then(|b| b.deadline)
    }
    /// After [`crate::Flow::Replica`]: what the replica asked for and told us. The
    /// connection must then be given to [`crate::Shared::attach_replica`].
    pub fn take_sync_request(
        &mut self,
    ) -> Option<(crate::repl::SyncRequest, crate::repl::ReplicaHello)> {
        let req = self.sync_request.take()?;
        Some((req, std::mem::take(&mut self.repl_hello)))
    }

    /// The replication log offset just after this client's last write (0 if none):
    /// WAIT waits for replicas to acknowledge it, and under `appendfsync always` its
    /// reply waits for the AOF to sync it ([`crate::Shared::durability`]).
    pub fn last_write_offset(&self) -> u64 {
        self.last_write_offset
    }

    /// Whether the session is subscribed to anything.
    pub fn is_subscriber(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }
    /// Whether the session is inside MULTI.
    pub fn in_multi(&self) -> bool {
        self.multi.is_some()
    }
    /// Moves pending pub/sub messages into `out`; returns whether there were any.
    pub fn drain_messages(&self, out: &mut Vec<u8>) -> bool {
        let mut m = self.handle.mailbox.lock();
        if m.is_empty() {
            return false;
        }
        if out.is_empty() {
            std::mem::swap(out, &mut m);
        } else {
            out.extend_from_slice(&m);
            m.clear();
        }
        true
    }
    /// Whether CLIENT KILL asked this session to end.
    pub fn is_killed(&self) -> bool {
        self.handle.is_killed()
    }
    /// Marks the session as our master's link (replica side): its writes are applied
    /// even on a read-only replica, and nothing is replied.
    pub fn set_kind(&mut self, kind: ClientKind) {
        self.handle.set_kind(kind);
        self.suppress_replies = kind == ClientKind::Master;
        if kind == ClientKind::Master {
            self.authenticated = true;
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let shared = self.shared.clone();
        shared.end_session(self);
    }
}
