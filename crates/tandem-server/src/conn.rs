//! One client connection: its socket, its query buffer, and the [`Exec`] half that
//! parses requests and runs them on the engine.
//!
//! # Buffers
//!
//! Most reads hold whole requests. They are read into the event loop's scratch buffer
//! and executed from there; only the bytes of an unfinished request are copied into
//! the connection's own query buffer, which therefore exists only while a request is
//! incomplete (or the client is blocked with more requests behind). A bulk string
//! bigger than the buffer grows it by at most its current size per step, capped by
//! what [`RequestParser::bytes_needed_hint`] says the request still needs: memory
//! follows the bytes that arrived, never the length a client merely claims.
//!
//! Replies accumulate in `wbuf` and go out in one `write` per loop iteration.

use std::io::{self, Read};
use std::time::Instant;

use smallvec::SmallVec;
use tandem_engine::{Core, Flow, Session};
use tandem_resp::{encode, RequestLimits, RequestParser};

use crate::listen::Stream;
use crate::{verbose, warning};

/// Size of the loop's scratch buffer and the least free space a read is given.
pub const READ_CHUNK: usize = 16 * 1024;

/// The part of a connection that executes requests.
pub struct Exec {
    /// The engine session.
    pub sess: Session,
    parser: RequestParser,
    /// Pending output; `wbuf[wpos..]` is not written yet.
    pub wbuf: Vec<u8>,
    /// Bytes of `wbuf` already written.
    pub wpos: usize,
    /// Close once the pending output is written (QUIT, protocol error, peer EOF).
    pub close_after_reply: bool,
    /// SHUTDOWN was executed (with or without a save).
    pub shutdown: Option<bool>,
    /// The session blocked with this deadline (unix ms) since the loop last looked.
    pub new_deadline: Option<u64>,
    /// PSYNC/SYNC: once the output is written, the socket goes to the replication layer.
    pub handoff: bool,
    /// The output holds the reply to a write the AOF has not synced yet
    /// (`appendfsync always`): nothing is written or executed until it has.
    pub held: bool,
}

impl Exec {
    /// Wraps a new session.
    pub fn new(sess: Session) -> Exec {
        Exec {
            sess,
            parser: RequestParser::new(),
            wbuf: Vec::new(),
            wpos: 0,
            close_after_reply: false,
            shutdown: None,
            new_deadline: None,
            handoff: false,
            held: false,
        }
    }

    /// Whether it may execute requests now.
    pub fn runnable(&self) -> bool {
        !self.close_after_reply
            && self.shutdown.is_none()
            && !self.handoff
            && !self.held
            && !self.sess.is_blocked()
    }

    /// After [`Exec::process`] stopped at an unfinished request: how many more bytes it
    /// needs at least, when known (inside a bulk string).
    fn bulk_hint(&self) -> Option<usize> {
        self.parser.bytes_needed_hint()
    }

    /// Bytes waiting to be written.
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Executes the complete requests at the start of `buf`, appending replies to
    /// `wbuf`; returns how many bytes they used. Stops at an incomplete request, when
    /// the session blocks, or after a protocol error (whose reply is written, and the
    /// rest of `buf` counted as used: the connection closes after the reply).
    pub fn process(&mut self, engine: &Core, buf: &[u8], max_bulk: u64) -> usize {
        let mut pos = 0;
        while pos < buf.len() && self.runnable() {
            let limits = RequestLimits {
                proto_max_bulk_len: max_bulk,
                unauthenticated: !self.sess.authenticated,
                from_master: false,
            };
            match self.parser.parse(&buf[pos..], &limits) {
                Ok(None) => break,
                Ok(Some(req)) => {
                    pos += req.consumed();
                    if req.is_empty() {
                        continue;
                    }
                    let flow = {
                        let argv: SmallVec<[&[u8]; 16]> = req.args().collect();
                        if self.sess.is_subscriber() {
                            // Messages published before this command go out before its reply.
                            self.sess.drain_messages(&mut self.wbuf);
                        }
                        guarded(|| engine.execute(&mut self.sess, &argv, &mut self.wbuf))
                            .unwrap_or_else(|| internal_error(&mut self.wbuf))
                    };
                    self.after(flow);
                }
                Err(e) => {
                    e.write_reply(&mut self.wbuf);
                    let reason = e.to_string();
                    let reason = reason.trim_start_matches("Protocol error: ");
                    verbose!(
                        "Protocol error ({reason}) from client: id={} addr={}. Query buffer during protocol error: '{}'",
                        self.sess.id(),
                        self.sess.handle().addr,
                        repr_prefix(&buf[pos..], 128)
                    );
                    self.close_after_reply = true;
                    pos = buf.len();
                }
            }
        }
        pos
    }

    /// For a blocked session that was woken or timed out: runs its command again.
    pub fn resume(&mut self, engine: &Core) {
        if !self.sess.is_blocked() {
            return;
        }
        let flow = guarded(|| engine.resume(&mut self.sess, &mut self.wbuf))
            .unwrap_or_else(|| Some(internal_error(&mut self.wbuf)));
        if let Some(flow) = flow {
            self.after(flow);
        }
    }

    fn after(&mut self, flow: Flow) {
        match flow {
            Flow::Continue => {}
            Flow::Blocked => self.new_deadline = self.sess.block_deadline(),
            Flow::Close => self.close_after_reply = true,
            Flow::Shutdown { save } => self.shutdown = Some(save),
            Flow::Replica => self.handoff = true,
        }
        // A resumed command may itself block again (a paused BLPOP).
        if flow != Flow::Blocked && self.sess.is_blocked() {
            self.new_deadline = self.sess.block_deadline();
        }
    }
}

/// Runs `f`, turning a panic (a bug in a command) into `None` so that one bad command
/// does not take the server down.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) => {
            warning!("A command panicked; the client gets an error and the server carries on");
            None
        }
    }
}

fn internal_error(out: &mut Vec<u8>) -> Flow {
    encode::error(out, "ERR internal error while executing the command");
    Flow::Continue
}

/// Up to `max` bytes of `b` quoted as Redis's `sdscatrepr` (for log lines).
pub fn repr_prefix(b: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &c in b.iter().take(max) {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > max {
        s.push_str(&format!("... ({} more bytes)", b.len() - max));
    }
    s
}

/// One client connection.
pub struct Conn {
    /// The socket.
    pub stream: Stream,
    /// Request execution and output.
    pub ex: Exec,
    /// Query buffer: `rbuf[rstart..rend]` holds received bytes not yet executed.
    pub rbuf: Vec<u8>,
    /// Start of the unexecuted bytes.
    pub rstart: usize,
    /// End of the received bytes.
    pub rend: usize,
    /// Last read or write.
    pub last_io: Instant,
    /// When the connection was accepted.
    pub created: Instant,
    /// The pending output first reached the class's soft limit at this time.
    pub soft_since: Option<Instant>,
    /// Queued in the loop's write list for this iteration.
    pub in_write_list: bool,
    /// Registered for writability: only while output is waiting for socket space, so a
    /// connection whose replies fit does not get an extra event per reply.
    pub write_interest: bool,
    /// Queued to read again next iteration (its read budget ran out).
    pub in_read_again: bool,
    /// The peer shut its side (`EPOLLRDHUP`): read until end of file.
    pub rdhup: bool,
    /// Whether it came through the Unix socket.
    pub unix: bool,
}

/// What a read pass ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// The socket has no more bytes for now.
    Drained,
    /// The read budget ran out with bytes possibly still waiting.
    Budget,
    /// The peer closed its side.
    Eof,
    /// A socket error.
    Error(io::ErrorKind),
    /// The query buffer passed `client-query-buffer-limit`.
    QueryLimit,
}

/// Reads done per readiness event before other clients get their turn.
const READS_PER_PASS: usize = 4;

impl Conn {
    /// A new connection around `stream` and `sess`.
    pub fn new(stream: Stream, sess: Session, unix: bool, now: Instant) -> Conn {
        Conn {
            stream,
            ex: Exec::new(sess),
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            last_io: now,
            created: now,
            soft_since: None,
            in_write_list: false,
            write_interest: false,
            in_read_again: false,
            rdhup: false,
            unix,
        }
    }

    /// Bytes received and not yet executed.
    pub fn query_len(&self) -> usize {
        self.rend - self.rstart
    }

    /// Reads what the socket has (up to a budget) and executes the complete requests.
    /// Returns how the pass ended and adds the bytes read to `input`.
    pub fn read_pass(
        &mut self,
        engine: &Core,
        scratch: &mut [u8],
        max_bulk: u64,
        query_limit: usize,
        input: &mut u64,
    ) -> ReadEnd {
        for _ in 0..READS_PER_PASS {
            if !self.ex.close_after_reply && self.ex.shutdown.is_none() {
                let direct = self.rstart == self.rend && self.ex.runnable();
                let (res, room) = if direct {
                    (self.stream.read(scratch), scratch.len())
                } else {
                    self.reserve();
                    let room = self.rbuf.len() - self.rend;
                    (self.stream.read(&mut self.rbuf[self.rend..]), room)
                };
                match res {
                    Ok(0) => return ReadEnd::Eof,
                    Ok(n) => {
                        *input += n as u64;
                        // As Redis: the limit applies to what is unexecuted after the
                        // read, before anything in it runs.
                        if direct {
                            if n > query_limit {
                                self.stash(&scratch[..n]);
                                return ReadEnd::QueryLimit;
                            }
                            let used = self.ex.process(engine, &scratch[..n], max_bulk);
                            if used < n {
                                self.stash(&scratch[used..n]);
                            }
                        } else {
                            self.rend += n;
                            if self.query_len() > query_limit {
                                return ReadEnd::QueryLimit;
                            }
                            self.execute_buffered(engine, max_bulk);
                        }
                        if n < room && !self.rdhup {
                            // A short read: the socket is empty, the next edge will tell.
                            return ReadEnd::Drained;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return ReadEnd::Error(e.kind()),
                }
            } else {
                // Closing after a reply: whatever the client still sends is dropped.
                match self.stream.read(scratch) {
                    Ok(0) => return ReadEnd::Eof,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return ReadEnd::Error(e.kind()),
                }
            }
        }
        ReadEnd::Budget
    }

    /// Executes what the query buffer holds, if the session may run commands.
    pub fn execute_buffered(&mut self, engine: &Core, max_bulk: u64) {
        if self.rstart < self.rend && self.ex.runnable() {
            let used = self
                .ex
                .process(engine, &self.rbuf[self.rstart..self.rend], max_bulk);
            self.rstart += used;
            if self.ex.close_after_reply {
                self.rstart = self.rend;
            }
        }
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
    }

    /// Keeps the unfinished tail of a scratch read in the query buffer.
    fn stash(&mut self, tail: &[u8]) {
        if self.rbuf.len() < tail.len() {
            self.rbuf.resize(tail.len().max(READ_CHUNK), 0);
        }
        self.rbuf[..tail.len()].copy_from_slice(tail);
        self.rstart = 0;
        self.rend = tail.len();
    }

    /// Makes room for the next read: compacts, then grows by at most the pending size
    /// (capped by what the unfinished request still needs).
    fn reserve(&mut self) {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        if self.rbuf.len() - self.rend >= READ_CHUNK {
            return;
        }
        if self.rstart > 0 {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
            if self.rbuf.len() - self.rend >= READ_CHUNK {
                return;
            }
        }
        let pending = self.rend;
        let grow = match self.bulk_hint() {
            Some(need) => need.min(pending),
            None => pending,
        }
        .max(READ_CHUNK);
        self.rbuf.resize(self.rend + grow, 0);
    }

    /// How many more bytes the unfinished request at the start of the query buffer needs
    /// at least, when the parser knows (inside a bulk string).
    fn bulk_hint(&self) -> Option<usize> {
        self.ex.bulk_hint()
    }

    /// Frees buffers an idle connection does not need (called from cron).
    pub fn trim_buffers(&mut self, idle: bool) {
        if self.rstart == self.rend
            && !self.rbuf.is_empty()
            && (idle || self.rbuf.len() > 4 * READ_CHUNK)
        {
            self.rbuf = Vec::new();
            self.rstart = 0;
            self.rend = 0;
        }
        if self.ex.wbuf.is_empty()
            && self.ex.wbuf.capacity() > 0
            && (idle || self.ex.wbuf.capacity() > 4 * READ_CHUNK)
        {
            self.ex.wbuf = Vec::new();
        }
    }

    /// Reads and drops whatever the peer already sent, so that closing the socket sends
    /// FIN rather than RST (which could destroy our last reply in flight).
    pub fn drain_input(&mut self) {
        let mut buf = [0u8; 4096];
        for _ in 0..64 {
            match self.stream.read(&mut buf) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }

    /// Redis-style client description for log lines.
    pub fn info(&self, now: Instant) -> String {
        let sess = &self.ex.sess;
        let h = sess.handle();
        let mut flags = String::new();
        if sess.is_subscriber() {
            flags.push('P');
        }
        if sess.is_blocked() {
            flags.push('b');
        }
        if sess.in_multi() {
            flags.push('x');
        }
        if self.unix {
            flags.push('U');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} age={} idle={} flags={} db={} qbuf={} obl={} omem={}",
            h.id,
            h.addr,
            h.laddr,
            self.stream.fd(),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_io).as_secs(),
            flags,
            sess.db,
            self.query_len(),
            self.ex.pending_output().min(READ_CHUNK),
            self.ex.pending_output(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_engine::config::Config;

    fn exec() -> (Core, Exec) {
        let e = Core::new(Config::default());
        let s = e.session("test:1".into(), "test:0".into(), None);
        (e, Exec::new(s))
    }

    #[test]
    fn pipelined_requests_and_partial_tail() {
        let (e, mut x) = exec();
        let input = b"PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nab";
        let used = x.process(&e, input, 1 << 20);
        assert_eq!(used, 6 + 14);
        assert_eq!(x.wbuf, b"+PONG\r\n+PONG\r\n");
    }

    #[test]
    fn protocol_error_replies_then_closes() {
        let (e, mut x) = exec();
        let input = b"PING\r\n*1\r\n$2000000000\r\nPING\r\n";
        let used = x.process(&e, input, 512 << 20);
        assert_eq!(used, input.len());
        assert_eq!(
            x.wbuf,
            b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n".as_slice()
        );
        assert!(x.close_after_reply);
        assert_eq!(x.process(&e, b"PING\r\n", 512 << 20), 0);
    }

    #[test]
    fn quit_closes_after_reply() {
        let (e, mut x) = exec();
        x.process(&e, b"QUIT\r\nPING\r\n", 1 << 20);
        assert_eq!(x.wbuf, b"+OK\r\n");
        assert!(x.close_after_reply);
    }

    #[test]
    fn repr_quotes_like_redis() {
        assert_eq!(repr_prefix(b"a\r\n\x01\"", 10), "a\\r\\n\\x01\\\"");
        assert_eq!(repr_prefix(b"abcdef", 3), "abc... (3 more bytes)");
    }
}
