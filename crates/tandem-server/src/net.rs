//! The network around the engine: an event loop (mio, edge-triggered epoll) that
//! accepts connections, reads and parses requests, executes them on the shared engine,
//! and writes replies.
//!
//! # Threading
//!
//! One event loop thread by default (`io-threads 1`). On the 2-core machines tandem is
//! benchmarked on, the benchmark client shares the cores: a second loop thread competes
//! with the client for CPU instead of adding throughput. Commands execute on the loop
//! thread that read them, against the shared, sharded keyspace, so several loops (for
//! bigger machines) need no handoff.
//!
//! # Per connection
//!
//! Bytes are read into a buffer that keeps its size (no zeroing per read); complete
//! requests are parsed in place and executed one after the other; replies accumulate in
//! an output buffer written once per loop iteration (pipelined requests share one
//! `write`). A read shorter than the buffer means the socket is drained, so the
//! edge-triggered loop does not need an extra `read` that would return `EAGAIN`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;
use tandem_engine::{Engine, Flow, Notify, Session};
use tandem_resp::{encode, RequestLimits, RequestParser};

use crate::{notice, verbose, warning};

const WAKER: Token = Token(usize::MAX - 1);
const LISTENER_BASE: usize = usize::MAX - 64;
const READ_CHUNK: usize = 16 * 1024;

/// Tokens of connections that something happened to from elsewhere.
struct LoopNotifier {
    pending: Mutex<Vec<usize>>,
    waker: Waker,
}

struct ConnNotify {
    lp: Arc<LoopNotifier>,
    token: usize,
}

impl Notify for ConnNotify {
    fn notify(&self) {
        let first = {
            let mut p = self.lp.pending.lock();
            p.push(self.token);
            p.len() == 1
        };
        if first {
            let _ = self.lp.waker.wake();
        }
    }
}

struct Conn {
    stream: TcpStream,
    sess: Session,
    parser: RequestParser,
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    wbuf: Vec<u8>,
    wpos: usize,
    /// Close once the output is written.
    closing: bool,
    last_io: Instant,
}

/// Outcome of a server run.
pub enum Exit {
    /// SHUTDOWN was requested.
    Shutdown {
        /// Whether a save was requested.
        save: bool,
    },
}

/// The listening server.
pub struct Server {
    engine: Engine,
    poll: Poll,
    listeners: Vec<TcpListener>,
    notifier: Arc<LoopNotifier>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    write_pending: Vec<usize>,
    expire_cursor: usize,
    last_cron: Instant,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Server {
    /// Binds the configured addresses.
    pub fn bind(engine: Engine, addrs: &[SocketAddr]) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let mut listeners = Vec::new();
        for (i, a) in addrs.iter().enumerate() {
            let mut l = TcpListener::bind(*a)?;
            poll.registry()
                .register(&mut l, Token(LISTENER_BASE + i), Interest::READABLE)?;
            listeners.push(l);
        }
        Ok(Server {
            engine,
            poll,
            listeners,
            notifier: Arc::new(LoopNotifier {
                pending: Mutex::new(Vec::new()),
                waker,
            }),
            conns: Vec::new(),
            free: Vec::new(),
            write_pending: Vec::new(),
            expire_cursor: 0,
            last_cron: Instant::now(),
        })
    }

    /// Local addresses actually bound (port 0 resolved).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Runs until SHUTDOWN.
    pub fn run(&mut self) -> io::Result<Exit> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.next_timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    Token(t) if t >= LISTENER_BASE => self.accept(t - LISTENER_BASE),
                    Token(t) => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_readable(t);
                        }
                        if ev.is_writable() {
                            self.mark_write(t);
                        }
                    }
                }
            }
            self.handle_notified();
            if let Some(exit) = self.flush_all() {
                return Ok(exit);
            }
            self.cron();
        }
    }

    fn next_timeout(&self) -> Duration {
        let hz = self.engine.shared().config.get_i64("hz").clamp(1, 500) as u64;
        let mut t = Duration::from_millis(1000 / hz);
        let now = self.engine.shared().clock.now_ms();
        for c in self.conns.iter().flatten() {
            if let Some(d) = c.sess.block_deadline() {
                t = t.min(Duration::from_millis(d.saturating_sub(now)));
            }
        }
        t
    }

    fn accept(&mut self, idx: usize) {
        loop {
            let (mut stream, peer) = match self.listeners[idx].accept() {
                Ok(x) => x,
                Err(e) if would_block(&e) => return,
                Err(e) => {
                    warning!("Accepting client connection: {e}");
                    return;
                }
            };
            let sh = self.engine.shared();
            sh.stats.connections.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            let maxclients = sh.config.get_i64("maxclients").max(1) as usize;
            if sh.clients.len() >= maxclients {
                sh.stats
                    .rejected_connections
                    .fetch_add(1, Ordering::Relaxed);
                let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
                continue;
            }
            let token = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                warning!("Registering client connection: {e}");
                self.free.push(token);
                continue;
            }
            let laddr = stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let notify: Arc<dyn Notify> = Arc::new(ConnNotify {
                lp: self.notifier.clone(),
                token,
            });
            let sess = self.engine.session(peer.to_string(), laddr, Some(notify));
            verbose!("Accepted {peer}");
            self.conns[token] = Some(Conn {
                stream,
                sess,
                parser: RequestParser::new(),
                rbuf: vec![0; READ_CHUNK],
                rstart: 0,
                rend: 0,
                wbuf: Vec::with_capacity(READ_CHUNK),
                wpos: 0,
                closing: false,
                last_io: Instant::now(),
            });
        }
    }

    fn close(&mut self, token: usize) {
        if let Some(mut c) = self.conns[token].take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.free.push(token);
        }
    }

    fn mark_write(&mut self, token: usize) {
        if let Some(Some(c)) = self.conns.get(token) {
            if c.wbuf.len() > c.wpos || c.closing {
                self.write_pending.push(token);
            }
        }
    }

    fn on_readable(&mut self, token: usize) {
        let engine = self.engine.clone();
        let sh = engine.shared();
        let Some(Some(c)) = self.conns.get_mut(token) else {
            return;
        };
        let mut eof = false;
        loop {
            if c.rend == c.rbuf.len() {
                if c.rstart > 0 {
                    c.rbuf.copy_within(c.rstart..c.rend, 0);
                    c.rend -= c.rstart;
                    c.rstart = 0;
                } else {
                    let grow = c.rbuf.len().max(READ_CHUNK);
                    c.rbuf.resize(c.rbuf.len() + grow, 0);
                }
            }
            match c.stream.read(&mut c.rbuf[c.rend..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    c.rend += n;
                    sh.stats
                        .net_input_bytes
                        .fetch_add(n as u64, Ordering::Relaxed);
                    if c.rend < c.rbuf.len() {
                        break; // drained: a short read
                    }
                }
                Err(e) if would_block(&e) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        c.last_io = Instant::now();
        let qlimit = sh.config.get_i64("client-query-buffer-limit").max(1) as usize;
        if c.rend - c.rstart > qlimit {
            warning!(
                "Closing client that reached max query buffer length (qbuf={})",
                c.rend - c.rstart
            );
            self.close(token);
            return;
        }
        Self::process(&engine, c);
        if eof {
            c.closing = true;
        }
        if c.wbuf.len() > c.wpos || c.closing {
            self.write_pending.push(token);
        }
    }

    /// Parses and executes every complete request in the buffer.
    fn process(engine: &Engine, c: &mut Conn) {
        let sh = engine.shared();
        let max_bulk = sh.config.get_i64("proto-max-bulk-len").max(1) as u64;
        while !c.closing && !c.sess.is_blocked() && c.rstart < c.rend {
            let limits = RequestLimits {
                proto_max_bulk_len: max_bulk,
                unauthenticated: !c.sess.authenticated,
                from_master: false,
            };
            let parsed = c.parser.parse(&c.rbuf[c.rstart..c.rend], &limits);
            match parsed {
                Ok(None) => break,
                Ok(Some(req)) => {
                    let used = req.consumed();
                    if !req.is_empty() {
                        let argv: smallvec::SmallVec<[&[u8]; 16]> = req.args().collect();
                        let flow =
                            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                engine.execute(&mut c.sess, &argv, &mut c.wbuf)
                            })) {
                                Ok(f) => f,
                                Err(_) => {
                                    encode::error(
                                        &mut c.wbuf,
                                        "ERR internal error while executing the command",
                                    );
                                    Flow::Continue
                                }
                            };
                        match flow {
                            Flow::Continue | Flow::Blocked => {}
                            Flow::Close => c.closing = true,
                            Flow::Shutdown { .. } => c.closing = true,
                        }
                    }
                    c.rstart += used;
                }
                Err(e) => {
                    encode::error(&mut c.wbuf, &e.reply_text());
                    verbose!(
                        "Protocol error ({e}) from client: id={} addr={}",
                        c.sess.id(),
                        c.sess.handle().addr
                    );
                    c.closing = true;
                    c.rstart = c.rend;
                }
            }
        }
        if c.rstart == c.rend {
            c.rstart = 0;
            c.rend = 0;
        }
    }

    fn handle_notified(&mut self) {
        let tokens = std::mem::take(&mut *self.notifier.pending.lock());
        for t in tokens {
            self.service(t);
        }
    }

    /// Delivers what other clients left for this connection: messages, ready keys, kill.
    fn service(&mut self, token: usize) {
        let engine = self.engine.clone();
        let Some(Some(c)) = self.conns.get_mut(token) else {
            return;
        };
        if c.sess.is_killed() {
            c.closing = true;
        }
        c.sess.drain_messages(&mut c.wbuf);
        if c.sess.is_blocked() {
            if let Some(flow) = engine.resume(&mut c.sess, &mut c.wbuf) {
                if matches!(flow, Flow::Close | Flow::Shutdown { .. }) {
                    c.closing = true;
                }
                Self::process(&engine, c);
            }
        }
        self.write_pending.push(token);
    }

    fn flush_all(&mut self) -> Option<Exit> {
        let pending = std::mem::take(&mut self.write_pending);
        for token in pending {
            let Some(Some(c)) = self.conns.get_mut(token) else {
                continue;
            };
            let mut failed = false;
            while c.wpos < c.wbuf.len() {
                match c.stream.write(&c.wbuf[c.wpos..]) {
                    Ok(0) => {
                        failed = true;
                        break;
                    }
                    Ok(n) => {
                        c.wpos += n;
                        self.engine
                            .shared()
                            .stats
                            .net_output_bytes
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) if would_block(&e) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            if c.wpos == c.wbuf.len() {
                c.wpos = 0;
                c.wbuf.clear();
                if c.wbuf.capacity() > 1 << 20 {
                    c.wbuf.shrink_to(READ_CHUNK);
                }
            }
            if failed || (c.closing && c.wbuf.is_empty()) {
                self.close(token);
            }
        }
        None
    }

    fn cron(&mut self) {
        let sh = self.engine.shared().clone();
        let hz = sh.config.get_i64("hz").clamp(1, 500) as u64;
        if self.last_cron.elapsed() < Duration::from_millis(1000 / hz) {
            return;
        }
        self.last_cron = Instant::now();
        self.engine.active_expire(&mut self.expire_cursor, 2000);
        // Blocked clients whose deadline passed, idle clients past `timeout`.
        let now = sh.clock.now_ms();
        let timeout = sh.config.get_i64("timeout");
        let mut due = Vec::new();
        for (t, c) in self.conns.iter_mut().enumerate() {
            let Some(c) = c else { continue };
            if c.sess.block_deadline().is_some_and(|d| d <= now) {
                due.push(t);
            } else if timeout > 0
                && !c.sess.is_blocked()
                && !c.sess.is_subscriber()
                && c.last_io.elapsed().as_secs() as i64 > timeout
            {
                verbose!("Closing idle client");
                c.closing = true;
                due.push(t);
            }
        }
        for t in due {
            self.service(t);
        }
        let _ = self.flush_all();
    }
}

/// Logs the banner lines operators expect.
pub fn log_ready(addrs: &[SocketAddr]) {
    for a in addrs {
        notice!("Running mode=standalone, port={}.", a.port());
    }
    notice!("Server initialized");
    notice!("Ready to accept connections tcp");
}
