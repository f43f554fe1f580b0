//! Cross-client registries: connected clients, pub/sub subscriptions, and clients
//! blocked on keys. Each is touched only by the commands that need it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// Channel and pattern subscriptions.
#[derive(Default)]
pub struct PubSub {
    channels: RwLock<Subscribers>,
    patterns: RwLock<Subscribers>,
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

    /// Delivers `msg` on `channel` to every subscriber; returns how many received it.
    pub fn publish(&self, channel: &[u8], msg: &[u8]) -> usize {
        let mut n = 0;
        let deliver = |h: &Arc<ClientHandle>, pattern: Option<&[u8]>| {
            let proto = if h.proto3.load(Ordering::Relaxed) {
                Proto::Resp3
            } else {
                Proto::Resp2
            };
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
