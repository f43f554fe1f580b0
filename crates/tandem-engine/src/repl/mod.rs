//! Replication: the master role (serving replicas from the log and from fork-free
//! snapshots) and the replica role (following a master), wire-compatible with Redis 7.0
//! in both directions (PSYNC2).
//!
//! # Lifecycle of a replica attached to us (master side, [`master`])
//!
//! 1. A connection sends `REPLCONF listening-port/ip-address/capa`, then `PSYNC <replid>
//!    <offset>` (or `SYNC`). The command records the request in the session and returns
//!    [`Flow::Replica`](crate::Flow::Replica); the server then hands the socket, as a
//!    [`Link`], to [`Replication::attach_replica`], which runs the link on two named
//!    threads (`repl-send-<id>` writes, `repl-recv-<id>` reads ACKs).
//! 2. Partial resync when [`Log::psync`] allows it: `+CONTINUE`, then the stream from the
//!    requested offset. Otherwise a full resync: a snapshot begins (all shard locks for
//!    an instant, see `tandem_keyspace::snapshot`), and in that same instant the offset
//!    `S` is read and a log reader is registered at `S`, so the reader holds exactly the
//!    writes the snapshot does not contain. `+FULLRESYNC <replid> <S>`, the RDB
//!    (`$EOF:` diskless form, or `$<len>` from a file), then the stream from `S` — for
//!    the diskless form only after the replica's first `REPLCONF ACK`, as Redis does.
//! 3. States `wait_bgsave` → `send_bulk` → `online`, shown in INFO. The link ends when the
//!    replica disconnects, stays silent longer than `repl-timeout`, or its reader
//!    overflows `client-output-buffer-limit replica` (the reason is logged).
//!
//! # Following a master (replica side, [`replica`])
//!
//! `REPLICAOF host port` starts one `repl-link` thread: connect, handshake, `PSYNC` with
//! the cached history (`replid`, processed offset + 1) or `? -1`, load the RDB (the
//! keyspace answers `-LOADING` meanwhile) or continue, then apply the stream through a
//! master session and append the received bytes unchanged to our own log, so our offset
//! equals the master's and replicas can chain from us. `REPLCONF ACK <offset>` every
//! second and on `GETACK`. On a broken link the history is kept and the thread
//! reconnects with `PSYNC`. `REPLICAOF NO ONE` stops the thread and promotes: the old
//! replid becomes replid2 ([`Log::shift_replid`]).
//!
//! # Offsets
//!
//! Every offset is the replication log's: bytes of the RESP stream, 1-based for a byte,
//! as Redis counts them.

pub mod listener;
pub mod master;
pub mod replica;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tandem_log::Log;
use tandem_transport::{tcp::TcpConnector, Connector, Link};

use crate::Propagator;

/// Whether a failed read on a link just means "nothing yet, read again": the read
/// timeout the link threads poll with, or `EINTR` — which Linux returns from a socket
/// read with a timeout when the process is stopped and continued (SIGSTOP/SIGCONT),
/// even without a signal handler. Neither may end a replication link.
pub(crate) fn retry_read(e: &std::io::Error) -> bool {
    tandem_transport::is_timeout(e) || e.kind() == std::io::ErrorKind::Interrupted
}

/// What a connection asked for with PSYNC or SYNC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRequest {
    /// `SYNC` (legacy: no `+FULLRESYNC` line) rather than `PSYNC`.
    pub legacy: bool,
    /// The replid the replica has (or `?`).
    pub replid: Vec<u8>,
    /// First byte it wants (1-based), -1 for none.
    pub offset: i64,
}

/// What `REPLCONF` told us about a replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaHello {
    /// `listening-port`.
    pub port: u16,
    /// `ip-address` (announced), if any.
    pub ip: Option<String>,
    /// `capa eof`: accepts the diskless `$EOF:` payload.
    pub capa_eof: bool,
    /// `capa psync2`: understands `+CONTINUE <replid>`.
    pub capa_psync2: bool,
    /// `rdb-only 1`: wants the snapshot and nothing after it (redis-cli --rdb).
    pub rdb_only: bool,
}

/// State of an attached replica, as INFO prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ReplicaState {
    /// Waiting for the snapshot to start.
    WaitBgsave = 0,
    /// Receiving the snapshot.
    SendBulk = 1,
    /// Receiving the stream.
    Online = 2,
}

impl ReplicaState {
    /// The name INFO prints.
    pub fn name(self) -> &'static str {
        match self {
            ReplicaState::WaitBgsave => "wait_bgsave",
            ReplicaState::SendBulk => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// One replica attached to this node.
pub struct ReplicaHandle {
    /// Its client id.
    pub id: u64,
    /// Its address as INFO shows it (announced ip, else peer ip).
    pub ip: String,
    /// Its listening port.
    pub port: u16,
    /// The peer address of the link.
    pub addr: String,
    state: AtomicU8,
    /// Last offset it acknowledged.
    pub ack_offset: AtomicU64,
    /// When it last acknowledged (unix ms).
    pub ack_ms: AtomicU64,
    /// Set when the link must end.
    pub stop: AtomicBool,
    link: Mutex<Option<Box<dyn Link>>>,
    /// The replica's client (CLIENT KILL TYPE replica / ID marks it killed).
    client: Arc<crate::ClientHandle>,
    /// Id of the log reader feeding it (0 before it has one), so that `repl_cron` can
    /// drop it when the reader overflows while the sender is blocked writing.
    pub(crate) reader_id: AtomicU64,
    /// Whether the output-limit line was logged for this link.
    pub(crate) limit_logged: AtomicBool,
}

impl ReplicaHandle {
    /// Current state.
    pub fn state(&self) -> ReplicaState {
        match self.state.load(Ordering::Relaxed) {
            0 => ReplicaState::WaitBgsave,
            1 => ReplicaState::SendBulk,
            _ => ReplicaState::Online,
        }
    }

    pub(crate) fn set_state(&self, s: ReplicaState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// Whether the link must end: [`Self::disconnect`] was called, or CLIENT KILL
    /// targeted the replica's client (then the link is shut down too).
    pub fn stopping(&self) -> bool {
        if self.stop.load(Ordering::Acquire) {
            return true;
        }
        if self.client.is_killed() {
            self.disconnect();
            return true;
        }
        false
    }

    /// Ends the link: both threads notice and exit.
    pub fn disconnect(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(l) = self.link.lock().as_ref() {
            let _ = l.shutdown();
        }
    }
}

/// Replication counters (INFO stats).
#[derive(Default)]
pub struct ReplStats {
    /// Full resyncs served.
    pub sync_full: AtomicU64,
    /// Partial resyncs accepted.
    pub sync_partial_ok: AtomicU64,
    /// Partial resyncs refused.
    pub sync_partial_err: AtomicU64,
    /// Bytes of replication stream received.
    pub net_repl_input: AtomicU64,
    /// Bytes of replication stream sent.
    pub net_repl_output: AtomicU64,
}

/// The replication state of a node.
pub struct Replication {
    /// The log every change goes through.
    pub log: Arc<Log>,
    /// Counters.
    pub stats: ReplStats,
    pub(crate) replicas: Mutex<Vec<Arc<ReplicaHandle>>>,
    pub(crate) connector: RwLock<Arc<dyn Connector>>,
    pub(crate) link: Mutex<Option<replica::LinkHandle>>,
    /// Our master, when we are a replica.
    pub(crate) master: RwLock<Option<Arc<replica::MasterState>>>,
    /// Unix ms when the last replica went away (backlog TTL).
    pub(crate) no_replicas_since: AtomicU64,
    pub(crate) last_ping_ms: AtomicU64,
    /// Port we listen on, announced to our master.
    pub listening_port: AtomicU64,
    /// Held by a replica's link thread while it applies one command of its master and
    /// appends its bytes to our log, and by whoever begins a snapshot: so a snapshot
    /// never contains a command whose bytes lie after the snapshot's offset.
    pub(crate) apply_gate: Mutex<()>,
    /// The database the stream from our master is in, at our offset: a partial resync
    /// continues the stream without a SELECT (Redis keeps it in its cached master).
    pub(crate) stream_db: AtomicUsize,
}

impl Replication {
    pub(crate) fn new(backlog_size: u64) -> Replication {
        Replication {
            log: Log::new(backlog_size),
            stats: ReplStats::default(),
            replicas: Mutex::new(Vec::new()),
            connector: RwLock::new(Arc::new(TcpConnector::default())),
            link: Mutex::new(None),
            master: RwLock::new(None),
            no_replicas_since: AtomicU64::new(0),
            last_ping_ms: AtomicU64::new(0),
            listening_port: AtomicU64::new(6379),
            apply_gate: Mutex::new(()),
            stream_db: AtomicUsize::new(0),
        }
    }

    /// Replicas currently attached.
    pub fn replicas(&self) -> Vec<Arc<ReplicaHandle>> {
        self.replicas.lock().clone()
    }

    /// Sets how a replica reaches its master (TCP by default; in-memory in tests; a
    /// host's own channel through the C ABI).
    pub fn set_connector(&self, c: Arc<dyn Connector>) {
        *self.connector.write() = c;
    }

    /// Number of online replicas whose last ACK is at most `max_lag_s` old.
    pub fn good_replicas(&self, now_ms: u64, max_lag_s: u64) -> usize {
        self.replicas
            .lock()
            .iter()
            .filter(|r| r.state() == ReplicaState::Online)
            .filter(|r| now_ms.saturating_sub(r.ack_ms.load(Ordering::Relaxed)) <= max_lag_s * 1000)
            .count()
    }

    /// Number of online replicas that acknowledged at least `offset`.
    pub fn acked(&self, offset: u64) -> usize {
        self.replicas
            .lock()
            .iter()
            .filter(|r| {
                r.state() == ReplicaState::Online && r.ack_offset.load(Ordering::Acquire) >= offset
            })
            .count()
    }
}

/// Appends every change to the replication log.
pub(crate) struct LogPropagator(pub(crate) Arc<Log>);

impl Propagator for LogPropagator {
    fn propagate(&self, db: usize, cmds: &[u8]) -> u64 {
        self.0.append(db, cmds)
    }
}

/// Renders `INFO replication` and the replication counters of `INFO stats`.
pub(crate) struct ReplInfo(pub(crate) std::sync::Weak<crate::Shared>);

impl crate::InfoProvider for ReplInfo {
    fn info(&self, section: &str, o: &mut String) {
        use std::fmt::Write;
        let Some(sh) = self.0.upgrade() else { return };
        let repl = &sh.repl;
        match section {
            "stats" => {
                let st = &repl.stats;
                let _ = write!(
                    o,
                    "sync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\n",
                    st.sync_full.load(Ordering::Relaxed),
                    st.sync_partial_ok.load(Ordering::Relaxed),
                    st.sync_partial_err.load(Ordering::Relaxed),
                    st.net_repl_input.load(Ordering::Relaxed),
                    st.net_repl_output.load(Ordering::Relaxed),
                );
            }
            "replication" => {
                let now = sh.clock.now_ms();
                let li = repl.log.info();
                match sh.master() {
                    None => o.push_str("role:master\r\n"),
                    Some(m) => {
                        let state = m.state();
                        let up = state == replica::LinkState::Connected;
                        let last_io = if up {
                            (now.saturating_sub(m.last_io_ms.load(Ordering::Relaxed)) / 1000) as i64
                        } else {
                            -1
                        };
                        let offset = if li.active { li.offset } else { 1 };
                        let _ = write!(
                            o,
                            "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                            m.host,
                            m.port,
                            if up { "up" } else { "down" },
                            last_io,
                            u8::from(state == replica::LinkState::Sync),
                            if up { m.read_offset.load(Ordering::Relaxed).max(offset) } else { offset },
                            offset,
                        );
                        if state == replica::LinkState::Sync {
                            let total = m.sync_total.load(Ordering::Relaxed);
                            let read = m.sync_read.load(Ordering::Relaxed);
                            let left = total.saturating_sub(read);
                            let perc = if total > 0 {
                                read as f64 * 100.0 / total as f64
                            } else {
                                0.0
                            };
                            let _ = write!(
                                o,
                                "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{left}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:0\r\n"
                            );
                        }
                        if !up {
                            let since = m.down_since_ms.load(Ordering::Relaxed);
                            let secs = if since == 0 {
                                -1
                            } else {
                                (now.saturating_sub(since) / 1000) as i64
                            };
                            let _ = write!(o, "master_link_down_since_seconds:{secs}\r\n");
                        }
                        let _ = write!(
                            o,
                            "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                            sh.config.get_i64("replica-priority"),
                            u8::from(sh.config.get_bool("replica-read-only")),
                            u8::from(sh.config.get_bool("replica-announced")),
                        );
                    }
                }
                let replicas = repl.replicas();
                let _ = write!(o, "connected_slaves:{}\r\n", replicas.len());
                let min = sh.config.get_i64("min-replicas-to-write");
                let lag = sh.config.get_i64("min-replicas-max-lag");
                if min > 0 && lag > 0 {
                    let _ = write!(
                        o,
                        "min_slaves_good_slaves:{}\r\n",
                        repl.good_replicas(now, lag as u64)
                    );
                }
                for (i, r) in replicas.iter().enumerate() {
                    let state = r.state();
                    let lag = if state == ReplicaState::Online {
                        now.saturating_sub(r.ack_ms.load(Ordering::Relaxed)) / 1000
                    } else {
                        0
                    };
                    let _ = write!(
                        o,
                        "slave{i}:ip={},port={},state={},offset={},lag={lag}\r\n",
                        r.ip,
                        r.port,
                        state.name(),
                        r.ack_offset.load(Ordering::Relaxed)
                    );
                }
                let _ = write!(
                    o,
                    "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
                    li.replid,
                    li.replid2,
                    li.offset,
                    li.second_offset,
                    u8::from(li.active),
                    li.backlog_size,
                    li.first_byte_offset,
                    li.histlen,
                );
            }
            _ => {}
        }
    }
}

impl crate::Shared {
    /// Begins a point-in-time snapshot (see `tandem_keyspace::snapshot`); `at` runs
    /// while every shard is locked and no master command is half applied, and records
    /// what the snapshot stands for (the replication offset). `None` while another
    /// snapshot runs.
    pub fn begin_snapshot<R>(
        &self,
        at: impl FnOnce() -> R,
    ) -> Option<(tandem_keyspace::Snapshot<'_>, R)> {
        let _gate = self.repl.apply_gate.lock();
        self.keyspace.begin_snapshot(self.clock.now_ms(), at)
    }

    /// Periodic replication duties (the server calls this about `hz` times a second):
    /// PINGs in the stream every `repl-ping-replica-period`, dropping replicas silent for
    /// `repl-timeout`, and freeing the backlog after `repl-backlog-ttl` without replicas.
    pub fn repl_cron(&self) {
        let now = self.clock.now_ms();
        let repl = &self.repl;
        let replicas = repl.replicas();
        if self.master().is_none() && !replicas.is_empty() {
            let period = self.config.get_i64("repl-ping-replica-period").max(1) as u64 * 1000;
            if now.saturating_sub(repl.last_ping_ms.load(Ordering::Relaxed)) >= period {
                repl.last_ping_ms.store(now, Ordering::Relaxed);
                repl.log.append_command(&[b"PING"]);
            }
        }
        let timeout = self.config.get_i64("repl-timeout").max(1) as u64 * 1000;
        for r in &replicas {
            let reader = r.reader_id.load(Ordering::Relaxed);
            if reader != 0 && !r.stop.load(Ordering::Acquire) {
                if let Some(tandem_log::ReadError::Overflow { lag, limit }) =
                    repl.log.reader_cut(reader)
                {
                    // Its sender may be blocked in a write to a stalled replica: close
                    // the link from here, as Redis does when the limit is reached.
                    self.log_output_limit(r, lag, limit);
                    r.disconnect();
                    continue;
                }
            }
            if r.state() == ReplicaState::Online
                && now.saturating_sub(r.ack_ms.load(Ordering::Relaxed)) > timeout
            {
                self.log(
                    crate::Level::Warning,
                    &format!(
                        "Disconnecting timedout replica (streaming sync): {}:{}",
                        r.ip, r.port
                    ),
                );
                r.disconnect();
            }
        }
        let ttl = self.config.get_i64("repl-backlog-ttl").max(0) as u64 * 1000;
        let since = repl.no_replicas_since.load(Ordering::Relaxed);
        if ttl > 0
            && replicas.is_empty()
            && self.master().is_none()
            && since != 0
            && now.saturating_sub(since) > ttl
            && repl.log.is_active()
            && !self.persist.aof.is_on()
            && self.change_feeds.load(Ordering::Acquire) == 0
        {
            repl.no_replicas_since.store(0, Ordering::Relaxed);
            repl.log.deactivate();
            *self.propagator.write() = None;
            self.log(
                crate::Level::Notice,
                &format!(
                    "Replication backlog freed after {} seconds without connected replicas.",
                    ttl / 1000
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tandem_log::Log;
    use tandem_resp::Frame;

    use super::LogPropagator;
    use crate::testkit::{f::*, TestClient};
    use crate::ClientKind;

    /// Replays a stream as a replica does: `(db, command)` for every command but SELECT.
    fn replay(stream: &[u8]) -> Vec<(usize, String)> {
        let buf = bytes::Bytes::copy_from_slice(stream);
        let (mut pos, mut db, mut out) = (0, 0, Vec::new());
        while pos < buf.len() {
            let (f, n) = Frame::decode(&buf.slice(pos..)).expect("valid RESP");
            pos += n;
            let Frame::Array(args) = f else {
                panic!("not a command: {f:?}")
            };
            let words: Vec<String> = args
                .into_iter()
                .map(|a| match a {
                    Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            if words[0].eq_ignore_ascii_case("select") {
                db = words[1].parse().expect("a db number");
            } else {
                out.push((db, words.join(" ")));
            }
        }
        out
    }

    #[test]
    fn select_inside_multi_leaves_the_stream_in_the_right_database() {
        let mut c = TestClient::new();
        let log = Log::new(1 << 20);
        log.activate();
        c.engine
            .set_propagator(Some(Arc::new(LogPropagator(log.clone()))));
        for cmd in [
            &["MULTI"][..],
            &["SET", "a", "1"],
            &["SELECT", "3"],
            &["SET", "b", "1"],
            &["SELECT", "0"],
            &["SET", "c", "1"],
            &["SELECT", "3"],
            &["EXEC"],
            &["SELECT", "0"],
            &["SET", "d", "1"],
            &["MULTI"],
            &["SET", "e", "1"],
            &["SELECT", "5"],
            &["SET", "f", "1"],
            &["EXEC"],
            &["SET", "g", "1"],
            &["SELECT", "0"],
            &["SET", "h", "1"],
        ] {
            c.call(cmd);
        }
        let applied: Vec<(usize, String)> = replay(&log.copy_from(0).expect("in the log"))
            .into_iter()
            .filter(|(_, cmd)| cmd.starts_with("SET"))
            .collect();
        let expected = [
            (0, "a"),
            (3, "b"),
            (0, "c"),
            (0, "d"),
            (0, "e"),
            (5, "f"),
            (5, "g"),
            (0, "h"),
        ];
        let expected: Vec<(usize, String)> = expected
            .iter()
            .map(|(db, k)| (*db, format!("SET {k} 1")))
            .collect();
        assert_eq!(applied, expected);
    }

    #[test]
    fn the_master_stream_sees_keys_past_their_ttl() {
        let mut client = TestClient::new();
        let mut master = client.other();
        master.sess.handle().set_kind(ClientKind::Master);
        client.engine.shared().keyspace.set_replica_mode(true);
        let at = (client.clock.0.load(std::sync::atomic::Ordering::Relaxed) + 100).to_string();
        master.call(&["SET", "gone", "v", "PXAT", &at]);
        master.call(&["RPUSH", "l", "a"]);
        master.call(&["PEXPIREAT", "l", &at]);
        client.clock.advance(200);
        // Clients see neither key; the replica keeps them for its master.
        assert_eq!(client.call(&["GET", "gone"]), nil());
        assert_eq!(client.call(&["EXISTS", "l"]), int(0));
        // The master wrote to `l` just before its TTL, and deletes `gone` when it expires.
        master.call(&["RPUSH", "l", "b"]);
        master.call(&["PERSIST", "l"]);
        master.call(&["DEL", "gone"]);
        assert_eq!(master.call(&["EXISTS", "gone"]), int(0));
        assert_eq!(client.call(&["LRANGE", "l", "0", "-1"]), bulks(&["a", "b"]));
        assert_eq!(client.call(&["TTL", "l"]), int(-1));
    }

    #[test]
    fn a_replica_refuses_writes_and_stale_reads_as_redis_does() {
        let mut c = TestClient::with_config(&[("replica-serve-stale-data", "no")]);
        c.call(&["SET", "k", "v"]);
        // Port 1 refuses connections: the link stays down.
        assert_eq!(c.call(&["REPLICAOF", "127.0.0.1", "1"]), ok());
        let down =
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
        let readonly = "READONLY You can't write against a read only replica.";
        assert_eq!(c.call(&["GET", "k"]), err(down));
        assert_eq!(c.call(&["PING"]), err(down));
        assert_eq!(c.call(&["SET", "k", "w"]), err(readonly));
        assert!(matches!(c.call(&["INFO", "replication"]), Frame::Bulk(_)));
        assert_eq!(
            c.call(&["CONFIG", "SET", "replica-serve-stale-data", "yes"]),
            ok()
        );
        assert_eq!(c.call(&["GET", "k"]), bulk("v"));
        // A refused write aborts the transaction it was queued in.
        assert_eq!(c.call(&["MULTI"]), ok());
        assert_eq!(c.call(&["SET", "k", "w"]), err(readonly));
        assert_eq!(
            c.call(&["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(c.call(&["REPLICAOF", "NO", "ONE"]), ok());
        assert_eq!(c.call(&["SET", "k", "w"]), ok());
    }
}
