//! Running one command for the API on the caller's thread, to completion: a blocking
//! command (BLPOP, WAIT) is waited for until it is served or times out, and under
//! `appendfsync always` a write returns only once the AOF's fsync covers it, so an
//! embedded write is acknowledged exactly when a server's would be.
//!
//! Stateless calls ([`super::Db`]) borrow a session from the engine's pool and return it
//! when the call left no state behind (MULTI, WATCH, subscriptions, RESP3); a
//! [`Client`] owns its session for calls that need state.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use tandem_resp::{encode, Frame, Proto};

use super::{Error, ErrorKind, Inner, Result};
use crate::{Durability, Flow, Notify, Session};

/// How many idle sessions the pool keeps.
const POOL_MAX: usize = 64;

/// Wakes a thread waiting for its session (a ready key, an fsync).
#[derive(Default)]
pub(crate) struct Waker {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Notify for Waker {
    fn notify(&self) {
        *self.flag.lock() = true;
        self.cv.notify_all();
    }
}

impl Waker {
    fn wait(&self, timeout: Duration) {
        let mut f = self.flag.lock();
        if !*f {
            self.cv.wait_for(&mut f, timeout);
        }
        *f = false;
    }
}

/// A session and the waker its notifications go to.
pub(crate) struct Conn {
    pub(crate) sess: Session,
    waker: Arc<Waker>,
}

impl Conn {
    pub(crate) fn new(inner: &Inner) -> Conn {
        let waker = Arc::new(Waker::default());
        let mut sess = inner.core.session(
            "in-process:0".to_string(),
            "in-process:0".to_string(),
            Some(waker.clone() as Arc<dyn Notify>),
        );
        // The host process is trusted: `requirepass` guards the network side only.
        sess.authenticated = true;
        Conn { sess, waker }
    }

    /// Whether the session carries nothing into the next call.
    fn is_clean(&self) -> bool {
        let s = &self.sess;
        !s.in_multi()
            && !s.is_subscriber()
            && s.watched.is_empty()
            && !s.is_blocked()
            && !s.is_killed()
            && s.proto == Proto::Resp2
            && !s.suppress_replies
            && !s.skip_next_reply
    }

    /// Executes `argv` in database `db` to completion, appending the reply to `out`.
    pub(crate) fn run(&mut self, inner: &Inner, argv: &[&[u8]], out: &mut Vec<u8>) {
        if argv
            .first()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"shutdown"))
        {
            encode::error(
                out,
                "ERR SHUTDOWN is not available to an embedded engine, close the engine instead",
            );
            return;
        }
        let core = &inner.core;
        let before = self.sess.last_write_offset();
        let start = out.len();
        match core.execute(&mut self.sess, argv, out) {
            Flow::Blocked => loop {
                if core.resume(&mut self.sess, out).is_some() {
                    break;
                }
                let wait = match self.sess.block_deadline() {
                    Some(d) => Duration::from_millis(
                        d.saturating_sub(core.shared().clock.now_ms()).clamp(1, 100),
                    ),
                    None => Duration::from_millis(100),
                };
                self.waker.wait(wait);
            },
            Flow::Replica => {
                // PSYNC through the API: there is no link to stream to.
                self.sess.handle().kill();
                out.truncate(start);
                encode::error(out, "ERR replicas attach through Engine::serve_replicas");
                return;
            }
            Flow::Continue | Flow::Close | Flow::Shutdown { .. } => {}
        }
        let offset = self.sess.last_write_offset();
        if offset > before {
            loop {
                match core.shared().durability(offset, self.sess.handle()) {
                    Durability::Durable => break,
                    Durability::Pending => self.waker.wait(Duration::from_millis(100)),
                    Durability::Failed => {
                        out.truncate(start);
                        let text = core
                            .shared()
                            .persist
                            .aof
                            .write_error()
                            .unwrap_or("MISCONF the AOF could not persist this write");
                        encode::error(out, text.trim_start_matches('-').trim_end());
                        break;
                    }
                }
            }
        }
    }
}

/// Runs `argv` in database `db` on a pooled session; the raw RESP2 reply is appended
/// to `out`.
pub(crate) fn run_pooled(
    inner: &Inner,
    db: usize,
    argv: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<()> {
    if inner.closed.load(Ordering::Acquire) {
        return Err(Error::new(ErrorKind::Closed, "the engine is closed"));
    }
    let mut conn = inner.pool.lock().pop().unwrap_or_else(|| Conn::new(inner));
    if conn.sess.db != db {
        conn.sess.db = db;
        conn.sess.handle().db.store(db, Ordering::Relaxed);
    }
    conn.run(inner, argv, out);
    if conn.is_clean() {
        let mut pool = inner.pool.lock();
        if pool.len() < POOL_MAX && !inner.closed.load(Ordering::Acquire) {
            pool.push(conn);
        }
    }
    Ok(())
}

/// Decodes one whole reply.
pub(crate) fn decode(out: Vec<u8>) -> Frame {
    let bytes = bytes::Bytes::from(out);
    match Frame::decode(&bytes) {
        Ok((f, _)) => f,
        Err(e) => Frame::Error(format!("ERR undecodable reply: {e}").into()),
    }
}

/// A session of its own, for calls that carry state from one to the next: SELECT,
/// MULTI/EXEC, WATCH, HELLO 3. Obtained from [`super::Engine::client`]; it shows in
/// CLIENT LIST while it lives.
pub struct Client {
    inner: Arc<Inner>,
    conn: Conn,
}

impl Client {
    pub(crate) fn new(inner: Arc<Inner>) -> Client {
        let conn = Conn::new(&inner);
        Client { inner, conn }
    }

    /// Executes one command in this session and returns its reply (an error reply is
    /// [`Frame::Error`]).
    pub fn execute(&mut self, argv: &[&[u8]]) -> Frame {
        if self.inner.closed.load(Ordering::Acquire) {
            return Frame::Error("ERR the engine is closed".into());
        }
        let mut out = Vec::with_capacity(64);
        self.conn.run(&self.inner, argv, &mut out);
        decode(out)
    }

    /// The selected database.
    pub fn db(&self) -> usize {
        self.conn.sess.db
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.conn.sess.id())
            .field("db", &self.conn.sess.db)
            .finish()
    }
}
