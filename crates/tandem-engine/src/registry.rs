//! Cross-client registries: connected clients, pub/sub subscriptions, clients
//! blocked on keys, MONITOR clients and the slow log. Each is touched only by the
//! commands that need it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tandem_keyspace::glob::glob_match;
use tandem_resp::{encode, Proto};

use crate::session::ClientHandle;

/// Every live client, by id.
#[derive(Default)]
pub struct Clients {
    next_id: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl Clients {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
    pub(crate) fn add(&self, h: Arc<ClientHandle>) {
        self.map.lock().insert(h.id, h);
    }
    pub(crate) fn remove(&self, id: u64) {
        self.map.lock().remove(&id);
    }
    /// A snapshot of all clients, in id order.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.map.lock().values().cloned().collect()
    }
    /// Number of clients.
    pub fn len(&self) -> usize {
        self.map.lock().len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The client with this id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.map.lock().get(&id).cloned()
    }
}

/// Subscribers by channel (or pattern).
type Subscribers = BTreeMap<Box<[u8]>, Vec<Arc<ClientHandle>>>;

/// Channel, pattern and shard channel subscriptions.
#[derive(Default)]
pub struct PubSub {
    channels: RwLock<Subscribers>,
    patterns: RwLock<Subscribers>,
    shard_channels: RwLock<Subscribers>,
}

fn client_proto(h: &ClientHandle) -> Proto {
    if h.proto3.load(Ordering::Relaxed) {
        Proto::Resp3
    } else {
        Proto::Resp2
    }
}

fn encode_message(
    out: &mut Vec<u8>,
    proto: Proto,
    kind: &[u8],
    pattern: Option<&[u8]>,
    channel: &[u8],
    msg: &[u8],
) {
    encode::push(out, if pattern.is_some() { 4 } else { 3 }, proto);
    encode::bulk(out, kind);
    if let Some(p) = pattern {
        encode::bulk(out, p);
    }
    encode::bulk(out, channel);
    encode::bulk(out, msg);
}

impl PubSub {
    #[allow(dead_code)] // used by the pub/sub commands
    pub(crate) fn subscribe(&self, channel: &[u8], h: &Arc<ClientHandle>) {
        self.channels
            .write()
            .entry(channel.into())
            .or_default()
            .push(h.clone());
    }
    pub(crate) fn unsubscribe(&self, channel: &[u8], id: u64) {
        let mut map = self.channels.write();
        if let Some(v) = map.get_mut(channel) {
            v.retain(|c| c.id != id);
            if v.is_empty() {
                map.remove(channel);
            }
        }
    }
    #[allow(dead_code)] // used by the pub/sub commands
    pub(crate) fn psubscribe(&self, pattern: &[u8], h: &Arc<ClientHandle>) {
        self.patterns
            .write()
            .entry(pattern.into())
            .or_default()
            .push(h.clone());
    }
    pub(crate) fn punsubscribe(&self, pattern: &[u8], id: u64) {
        let mut map = self.patterns.write();
        if let Some(v) = map.get_mut(pattern) {
            v.retain(|c| c.id != id);
            if v.is_empty() {
                map.remove(pattern);
            }
        }
    }

    pub(crate) fn ssubscribe(&self, channel: &[u8], h: &Arc<ClientHandle>) {
        self.shard_channels
            .write()
            .entry(channel.into())
            .or_default()
            .push(h.clone());
    }
    pub(crate) fn sunsubscribe(&self, channel: &[u8], id: u64) {
        let mut map = self.shard_channels.write();
        if let Some(v) = map.get_mut(channel) {
            v.retain(|c| c.id != id);
            if v.is_empty() {
                map.remove(channel);
            }
        }
    }

    /// Delivers `msg` on shard channel `channel` (`SPUBLISH`); returns how many received it.
    pub fn spublish(&self, channel: &[u8], msg: &[u8]) -> usize {
        let map = self.shard_channels.read();
        let Some(subs) = map.get(channel) else {
            return 0;
        };
        for h in subs {
            encode_message(
                &mut h.mailbox.lock(),
                client_proto(h),
                b"smessage",
                None,
                channel,
                msg,
            );
            h.notify();
        }
        subs.len()
    }

    /// Active shard channels matching `pattern` (all with `None`).
    pub fn shard_channels(&self, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.shard_channels
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }
    /// Subscriber count of a shard channel.
    pub fn shard_numsub(&self, channel: &[u8]) -> usize {
        self.shard_channels.read().get(channel).map_or(0, Vec::len)
    }
    /// Number of channels with at least one subscriber.
    pub fn channel_count(&self) -> usize {
        self.channels.read().len()
    }
    /// Number of shard channels with at least one subscriber.
    pub fn shard_channel_count(&self) -> usize {
        self.shard_channels.read().len()
    }

    /// Delivers `msg` on `channel` to every subscriber; returns how many received it.
    pub fn publish(&self, channel: &[u8], msg: &[u8]) -> usize {
        let mut n = 0;
        let deliver = |h: &Arc<ClientHandle>, pattern: Option<&[u8]>| {
            let proto = client_proto(h);
            {
                let mut mb = h.mailbox.lock();
                match pattern {
                    Some(p) => encode_message(&mut mb, proto, b"pmessage", Some(p), channel, msg),
                    None => encode_message(&mut mb, proto, b"message", None, channel, msg),
                }
            }
            h.notify();
        };
        if let Some(subs) = self.channels.read().get(channel) {
            for h in subs {
                deliver(h, None);
                n += 1;
            }
        }
        for (pat, subs) in self.patterns.read().iter() {
            if glob_match(pat, channel, false) {
                for h in subs {
                    deliver(h, Some(pat));
                    n += 1;
                }
            }
        }
        n
    }

    /// Active channels matching `pattern` (all with `None`).
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.channels
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }
    /// Subscriber count of a channel.
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.channels.read().get(channel).map_or(0, Vec::len)
    }
    /// Number of patterns with at least one subscriber.
    pub fn numpat(&self) -> usize {
        self.patterns.read().len()
    }
}

/// Waiting clients by (db, key).
type Waiters = BTreeMap<(usize, Box<[u8]>), Vec<Arc<ClientHandle>>>;

/// Clients blocked on keys (BLPOP & co).
#[derive(Default)]
pub struct Blocking {
    waiters: Mutex<Waiters>,
    count: AtomicUsize,
}

impl Blocking {
    /// Whether any client waits for any key (the cheap check on every write).
    pub fn has_waiters(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }
    pub(crate) fn register(&self, keys: &[(usize, Box<[u8]>)], h: &Arc<ClientHandle>) {
        let mut w = self.waiters.lock();
        for k in keys {
            let v = w.entry(k.clone()).or_default();
            if !v.iter().any(|c| c.id == h.id) {
                v.push(h.clone());
                self.count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    pub(crate) fn unregister(&self, keys: &[(usize, Box<[u8]>)], id: u64) {
        let mut w = self.waiters.lock();
        for k in keys {
            if let Some(v) = w.get_mut(k) {
                let before = v.len();
                v.retain(|c| c.id != id);
                self.count.fetch_sub(before - v.len(), Ordering::Relaxed);
                if v.is_empty() {
                    w.remove(k);
                }
            }
        }
    }
    /// Whether client `id` waits for any key.
    pub fn contains(&self, id: u64) -> bool {
        self.waiters
            .lock()
            .values()
            .any(|v| v.iter().any(|c| c.id == id))
    }
    /// Marks the waiters of `keys` ready and wakes them, oldest first.
    pub(crate) fn wake(&self, keys: &[(usize, Box<[u8]>)]) {
        let w = self.waiters.lock();
        for k in keys {
            if let Some(v) = w.get(k) {
                for h in v {
                    h.ready.store(true, Ordering::Release);
                    h.notify();
                }
            }
        }
    }
    /// Number of blocked (client, key) registrations.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
    /// Whether nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Clients in MONITOR mode, fed every executed command.
#[derive(Default)]
pub struct Monitors {
    list: Mutex<Vec<Arc<ClientHandle>>>,
    count: AtomicUsize,
}

impl Monitors {
    /// Whether any client monitors (the cheap check on every command).
    pub fn is_active(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }
    pub(crate) fn add(&self, h: &Arc<ClientHandle>) {
        let mut l = self.list.lock();
        if !l.iter().any(|c| c.id == h.id) {
            l.push(h.clone());
            self.count.store(l.len(), Ordering::Relaxed);
        }
    }
    pub(crate) fn remove(&self, id: u64) {
        let mut l = self.list.lock();
        l.retain(|c| c.id != id);
        self.count.store(l.len(), Ordering::Relaxed);
    }
    /// Sends one command to every monitor, as Redis formats it:
    /// `+<unix s>.<us> [<db> <addr>] "arg" "arg"...`.
    pub(crate) fn feed(&self, time_us: u64, db: usize, addr: &str, argv: &[&[u8]]) {
        let mut line = Vec::with_capacity(64);
        line.push(b'+');
        line.extend_from_slice(
            format!(
                "{}.{:06} [{db} {addr}]",
                time_us / 1_000_000,
                time_us % 1_000_000
            )
            .as_bytes(),
        );
        for a in argv {
            line.push(b' ');
            repr_into(&mut line, a);
        }
        line.extend_from_slice(b"\r\n");
        for h in self.list.lock().iter() {
            h.mailbox.lock().extend_from_slice(&line);
            h.notify();
        }
    }
}

/// Redis's `sdscatrepr`: a double-quoted, escaped rendering of binary data.
pub(crate) fn repr_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// One slow log entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    /// Unique, increasing id.
    pub id: u64,
    /// Unix time (seconds) the command was logged.
    pub time_s: u64,
    /// Execution time in microseconds.
    pub duration_us: u64,
    /// The arguments, shortened as Redis does (32 arguments, 128 bytes each at most).
    pub argv: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: Vec<u8>,
}

/// The slow log: commands that ran longer than `slowlog-log-slower-than` µs, newest
/// first, at most `slowlog-max-len`.
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
    slower_than: AtomicI64,
    max_len: AtomicUsize,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            entries: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
            slower_than: AtomicI64::new(10_000),
            max_len: AtomicUsize::new(128),
        }
    }
}

const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

impl SlowLog {
    /// Sets `slowlog-log-slower-than` (µs; negative disables) and `slowlog-max-len`.
    pub fn configure(&self, slower_than: i64, max_len: usize) {
        self.slower_than.store(slower_than, Ordering::Relaxed);
        self.max_len.store(max_len, Ordering::Relaxed);
        let mut e = self.entries.lock();
        e.truncate(max_len);
    }
    /// Whether a command that took `duration_us` is to be logged.
    pub fn is_slow(&self, duration_us: u64) -> bool {
        let t = self.slower_than.load(Ordering::Relaxed);
        t >= 0 && duration_us >= t as u64
    }
    /// Logs a command.
    pub fn record(&self, time_s: u64, duration_us: u64, argv: &[&[u8]], addr: &str, name: &[u8]) {
        let max_len = self.max_len.load(Ordering::Relaxed);
        let shown = argv.len().min(SLOWLOG_MAX_ARGC);
        let mut args = Vec::with_capacity(shown);
        for (i, a) in argv.iter().take(shown).enumerate() {
            if shown != argv.len() && i == shown - 1 {
                args.push(format!("... ({} more arguments)", argv.len() - shown + 1).into_bytes());
            } else if a.len() > SLOWLOG_MAX_STRING {
                let mut s = a[..SLOWLOG_MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_STRING).as_bytes(),
                );
                args.push(s);
            } else {
                args.push(a.to_vec());
            }
        }
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time_s,
            duration_us,
            argv: args,
            addr: addr.to_string(),
            name: name.to_vec(),
        };
        let mut e = self.entries.lock();
        e.push_front(entry);
        e.truncate(max_len);
    }
    /// The newest `count` entries (all with `None`).
    pub fn get(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let e = self.entries.lock();
        e.iter()
            .take(count.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }
    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Forgets every entry.
    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}
