//! The network around the engine: event loops (mio, edge-triggered epoll) that accept
//! connections, read and parse requests, execute them on the shared engine, deliver
//! pub/sub messages and wake blocked clients, and write replies.
//!
//! # Threading
//!
//! `io-threads N` runs N event loops: loop 0 on the main thread, which also owns the
//! listening sockets and the signal pipe, and N-1 more on threads named
//! `tandem-io-<i>`. Loop 0 hands accepted connections out round-robin (itself
//! included); a connection then lives on its loop. Commands execute on the loop that
//! read them, against the shared, sharded keyspace, so loops never hand requests to
//! each other. The default is one loop: on small machines a second loop competes with
//! the clients for CPU instead of adding throughput.
//!
//! # One iteration
//!
//! 1. `poll` for events (timeout: the next cron tick or blocked-client deadline, zero
//!    when some client still has unread bytes or was notified).
//! 2. Read and execute: every readable client reads up to a small budget of reads and
//!    executes its complete requests at once (pipelined requests share one batch);
//!    clients whose budget ran out are read again next iteration, so one flooding
//!    client cannot starve the others.
//! 3. Deliver what other clients left for ours (pub/sub messages, ready keys, kills:
//!    [`Notify`]), resume blocked clients whose deadline passed, run cron at `hz`.
//! 4. Write: each client with output gets one `write` of everything pending. A short
//!    write waits for the socket's writable edge.
//!
//! # Limits
//!
//! `maxclients` and `protected-mode` are checked at accept (with Redis's reply texts),
//! `client-query-buffer-limit` after each read, `client-output-buffer-limit` whenever
//! output was added, `timeout` in cron. Their values are cached in [`Limits`] and
//! reloaded only when the configuration's generation changes.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use tandem_engine::{ClientKind, Core, Durability, Notify};

use crate::conn::{Conn, ReadEnd, READ_CHUNK};
use crate::limits::{Class, Limits};
use crate::listen::{Listener, Peer, Stream};
use crate::{log, notice, verbose, warning};

const WAKER: Token = Token(usize::MAX - 1);
const SIGNALS: Token = Token(usize::MAX - 2);
const LISTENER_BASE: usize = usize::MAX - 1024;

/// Redis's reply to a non-local client while protected mode is on and no password set.
pub const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Redis's reply when `maxclients` clients are connected.
pub const MAXCLIENTS: &str = "-ERR max number of clients reached\r\n";

thread_local! {
    /// The id of the event loop running on this thread (`usize::MAX` if none).
    static CURRENT_LOOP: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Why the server stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// SHUTDOWN, SIGTERM or SIGINT.
    Shutdown {
        /// Whether a final save was asked for.
        save: bool,
    },
}

/// The part of a loop other threads reach: its waker and its inboxes.
struct LoopShared {
    id: usize,
    waker: Waker,
    /// Tokens of connections something happened to (from [`Notify`]).
    notified: Mutex<Vec<usize>>,
    /// Connections accepted by loop 0 for this loop.
    incoming: Mutex<Vec<(Stream, Peer)>>,
}

impl LoopShared {
    fn wake(&self) {
        if CURRENT_LOOP.with(Cell::get) != self.id {
            let _ = self.waker.wake();
        }
    }
}

/// What every loop shares.
struct Global {
    loops: Vec<Arc<LoopShared>>,
    exit: Mutex<Option<Exit>>,
    stopping: AtomicBool,
}

impl Global {
    fn request_exit(&self, exit: Exit) {
        self.exit.lock().get_or_insert(exit);
        self.stopping.store(true, Ordering::Release);
        for l in &self.loops {
            let _ = l.waker.wake();
        }
    }
}

/// Wakes a connection's loop when another client left something for it.
struct ConnNotify {
    lp: Arc<LoopShared>,
    token: usize,
}

impl Notify for ConnNotify {
    fn notify(&self) {
        let first = {
            let mut p = self.lp.notified.lock();
            p.push(self.token);
            p.len() == 1
        };
        // The loop drains its list every iteration: one wake per batch is enough, and
        // none at all when the loop notifies itself.
        if first {
            self.lp.wake();
        }
    }
}

/// The server: its event loops, ready to run.
pub struct Server {
    main: EventLoop,
    others: Vec<EventLoop>,
    global: Arc<Global>,
}

impl Server {
    /// Sets up `io_threads` event loops around `engine`, with `listeners` on loop 0.
    pub fn new(engine: Core, listeners: Vec<Listener>, io_threads: usize) -> io::Result<Server> {
        let n = io_threads.max(1);
        let mut polls = Vec::with_capacity(n);
        let mut shared = Vec::with_capacity(n);
        for id in 0..n {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKER)?;
            shared.push(Arc::new(LoopShared {
                id,
                waker,
                notified: Mutex::new(Vec::new()),
                incoming: Mutex::new(Vec::new()),
            }));
            polls.push(poll);
        }
        let global = Arc::new(Global {
            loops: shared.clone(),
            exit: Mutex::new(None),
            stopping: AtomicBool::new(false),
        });
        let mut loops: Vec<EventLoop> = polls
            .into_iter()
            .zip(shared)
            .map(|(poll, sh)| EventLoop::new(engine.clone(), poll, sh, global.clone()))
            .collect();
        let mut main = loops.remove(0);
        for (i, mut l) in listeners.into_iter().enumerate() {
            main.poll
                .registry()
                .register(&mut l, Token(LISTENER_BASE + i), Interest::READABLE)?;
            main.listeners.push(l);
        }
        // SIGHUP is caught only to be ignored, as Redis ignores it.
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        main.poll
            .registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        main.signals = Some(signals);
        Ok(Server {
            main,
            others: loops,
            global,
        })
    }

    /// A handle that stops the server from another thread.
    #[cfg(test)]
    pub fn stopper(&self) -> impl Fn() + Send + 'static {
        let g = self.global.clone();
        move || g.request_exit(Exit::Shutdown { save: false })
    }

    /// The engine the loops serve.
    pub fn engine(&self) -> &Core {
        &self.main.engine
    }

    /// Runs every loop until shutdown; returns why it stopped.
    pub fn run(self) -> io::Result<Exit> {
        let Server {
            mut main,
            others,
            global,
        } = self;
        let mut threads = Vec::new();
        for mut l in others {
            let name = format!("tandem-io-{}", l.shared.id);
            let g = global.clone();
            threads.push(std::thread::Builder::new().name(name).spawn(move || {
                let r = l.run();
                if let Err(e) = &r {
                    warning!("Event loop {} failed: {e}", l.shared.id);
                    g.request_exit(Exit::Shutdown { save: false });
                }
                r
            })?);
        }
        let r = main.run();
        if r.is_err() {
            global.request_exit(Exit::Shutdown { save: false });
        }
        drop(main);
        for t in threads {
            let _ = t.join();
        }
        r?;
        let exit = *global.exit.lock();
        Ok(exit.unwrap_or(Exit::Shutdown { save: false }))
    }
}

/// One event loop and the connections it owns.
struct EventLoop {
    engine: Core,
    poll: Poll,
    shared: Arc<LoopShared>,
    global: Arc<Global>,
    /// Listening sockets (loop 0 only).
    listeners: Vec<Listener>,
    /// SIGTERM/SIGINT/SIGHUP (loop 0 only).
    signals: Option<Signals>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    write_list: Vec<usize>,
    read_again: Vec<usize>,
    /// Blocked clients' deadlines: (unix ms, token, client id). Entries of clients
    /// served before their deadline stay until they are due or the heap is compacted.
    deadlines: BinaryHeap<Reverse<(u64, usize, u64)>>,
    /// Live entries at the last compaction.
    deadlines_live: usize,
    /// Reused buffer for the notified tokens.
    notified_batch: Vec<usize>,
    limits: Limits,
    scratch: Vec<u8>,
    now: Instant,
    next_cron: Instant,
    cron_state: tandem_engine::CronState,
    next_loop: usize,
    input_bytes: u64,
    output_bytes: u64,
}

impl EventLoop {
    fn new(engine: Core, poll: Poll, shared: Arc<LoopShared>, global: Arc<Global>) -> EventLoop {
        let limits = Limits::load(&engine.shared().config);
        let now = Instant::now();
        EventLoop {
            engine,
            poll,
            shared,
            global,
            listeners: Vec::new(),
            signals: None,
            conns: Vec::new(),
            free: Vec::new(),
            write_list: Vec::new(),
            read_again: Vec::new(),
            deadlines: BinaryHeap::new(),
            deadlines_live: 0,
            notified_batch: Vec::new(),
            limits,
            scratch: vec![0; READ_CHUNK],
            now,
            next_cron: now,
            cron_state: Default::default(),
            next_loop: 0,
            input_bytes: 0,
            output_bytes: 0,
        }
    }

    fn id(&self) -> usize {
        self.shared.id
    }

    fn run(&mut self) -> io::Result<()> {
        CURRENT_LOOP.with(|c| c.set(self.shared.id));
        let mut events = Events::with_capacity(1024);
        while !self.global.stopping.load(Ordering::Acquire) {
            let timeout = self.next_timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            self.now = Instant::now();
            if self.limits.refresh(&self.engine.shared().config) && self.id() == 0 {
                log::set_level(&self.limits.loglevel);
            }
            for t in std::mem::take(&mut self.read_again) {
                if let Some(Some(c)) = self.conns.get_mut(t) {
                    c.in_read_again = false;
                    self.on_readable(t);
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => self.take_incoming(),
                    SIGNALS => self.on_signals(),
                    Token(t) if t >= LISTENER_BASE => self.accept(t - LISTENER_BASE),
                    Token(t) => {
                        let Some(Some(c)) = self.conns.get_mut(t) else {
                            continue;
                        };
                        if ev.is_read_closed() {
                            c.rdhup = true;
                        }
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_readable(t);
                        }
                        if ev.is_writable() {
                            self.want_write(t);
                        }
                    }
                }
            }
            self.handle_notified();
            self.expire_deadlines();
            self.cron();
            self.flush_writes();
            self.flush_stats();
        }
        Ok(())
    }

    fn next_timeout(&self) -> Duration {
        if !self.read_again.is_empty()
            || !self.write_list.is_empty()
            || !self.shared.notified.lock().is_empty()
        {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut t = self.next_cron.saturating_duration_since(now);
        if let Some(Reverse((d, _, _))) = self.deadlines.peek() {
            let now_ms = self.engine.shared().clock.now_ms();
            t = t.min(Duration::from_millis(d.saturating_sub(now_ms)));
        }
        t
    }

    fn flush_stats(&mut self) {
        let stats = &self.engine.shared().stats;
        if self.input_bytes > 0 {
            stats
                .net_input_bytes
                .fetch_add(self.input_bytes, Ordering::Relaxed);
            self.input_bytes = 0;
        }
        if self.output_bytes > 0 {
            stats
                .net_output_bytes
                .fetch_add(self.output_bytes, Ordering::Relaxed);
            self.output_bytes = 0;
        }
    }

    // ---- accepting ----------------------------------------------------------------

    fn accept(&mut self, idx: usize) {
        loop {
            let Some(l) = self.listeners.get(idx) else {
                return;
            };
            match l.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => {
                    warning!(
                        "Error accepting a client connection: {}",
                        crate::conf::strerror(&e)
                    );
                    return;
                }
            }
        }
    }

    /// Applies the accept-time checks and hands the connection to a loop.
    fn admit(&mut self, mut stream: Stream, peer: Peer) {
        let sh = self.engine.shared();
        if sh.clients.len() >= self.limits.maxclients {
            refuse(&mut stream, MAXCLIENTS);
            sh.stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.limits.protected_mode && !peer.local && !sh.auth_required() {
            refuse(&mut stream, DENIED);
            sh.stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        sh.stats.connections.fetch_add(1, Ordering::Relaxed);
        stream.configure(self.limits.tcp_keepalive);
        if peer.unix {
            verbose!(
                "Accepted connection to {}",
                peer.addr.trim_end_matches(":0")
            );
        } else {
            verbose!("Accepted {}", peer.addr);
        }
        let n = self.global.loops.len();
        let target = self.next_loop % n;
        self.next_loop = self.next_loop.wrapping_add(1);
        if target == self.id() {
            self.add_conn(stream, peer);
        } else {
            let lp = &self.global.loops[target];
            lp.incoming.lock().push((stream, peer));
            let _ = lp.waker.wake();
        }
    }

    fn take_incoming(&mut self) {
        let incoming = std::mem::take(&mut *self.shared.incoming.lock());
        for (stream, peer) in incoming {
            self.add_conn(stream, peer);
        }
    }

    fn add_conn(&mut self, mut stream: Stream, peer: Peer) {
        let token = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(token), Interest::READABLE)
        {
            warning!("Error registering a client connection: {e}");
            self.free.push(token);
            return;
        }
        let notify: Arc<dyn Notify> = Arc::new(ConnNotify {
            lp: self.shared.clone(),
            token,
        });
        let sess = self
            .engine
            .session(peer.addr.clone(), peer.laddr.clone(), Some(notify));
        sess.handle().set_fd(i64::from(stream.fd()));
        self.conns[token] = Some(Conn::new(stream, sess, peer.unix, Instant::now()));
    }

    // ---- signals ------------------------------------------------------------------

    fn on_signals(&mut self) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        let pending: Vec<i32> = signals.pending().collect();
        for sig in pending {
            if sig == SIGHUP {
                continue;
            }
            let (name, directive) = if sig == SIGINT {
                ("SIGINT", "shutdown-on-sigint")
            } else {
                ("SIGTERM", "shutdown-on-sigterm")
            };
            if sig == SIGINT && self.global.stopping.load(Ordering::Acquire) {
                log::signal_handler("You insist... exiting now.");
                std::process::exit(1);
            }
            log::signal_handler(&format!("Received {name} scheduling shutdown..."));
            let config = &self.engine.shared().config;
            let save = shutdown_save(
                &config.get(directive).unwrap_or_default(),
                !config.get("save").unwrap_or_default().trim().is_empty(),
            );
            self.global.request_exit(Exit::Shutdown { save });
        }
    }

    // ---- reading and executing ----------------------------------------------------

    fn on_readable(&mut self, token: usize) {
        let close = {
            let EventLoop {
                conns,
                engine,
                scratch,
                limits,
                input_bytes,
                now,
                read_again,
                ..
            } = self;
            let Some(Some(c)) = conns.get_mut(token) else {
                return;
            };
            let end = c.read_pass(
                engine,
                scratch,
                limits.proto_max_bulk_len,
                limits.query_buffer_limit,
                input_bytes,
            );
            c.last_io = *now;
            match end {
                ReadEnd::Drained => false,
                ReadEnd::Budget => {
                    if !c.in_read_again {
                        c.in_read_again = true;
                        read_again.push(token);
                    }
                    false
                }
                ReadEnd::Eof => {
                    verbose!("Client closed connection {}", c.info(*now));
                    // Replies to what it sent before closing still go out.
                    c.ex.close_after_reply = true;
                    false
                }
                ReadEnd::Error(kind) => {
                    verbose!("Error reading from client {}: {kind}", c.info(*now));
                    true
                }
                ReadEnd::QueryLimit => {
                    let qbuf = crate::conn::repr_prefix(&c.rbuf[c.rstart..c.rend], 64);
                    warning!(
                        "Closing client that reached max query buffer length: {} (qbuf initial bytes: \"{qbuf}\")",
                        c.info(*now)
                    );
                    true
                }
            }
        };
        if close {
            self.close(token);
        } else {
            self.after_activity(token);
        }
    }

    /// After a client executed commands or got output: shutdown, kill and output
    /// limit checks, then queue its write.
    fn after_activity(&mut self, token: usize) {
        let Some(Some(c)) = self.conns.get_mut(token) else {
            return;
        };
        if let Some(save) = c.ex.shutdown.take() {
            self.global.request_exit(Exit::Shutdown { save });
            return;
        }
        let deadline = c.ex.new_deadline.take().map(|d| (d, c.ex.sess.id()));
        // Killed by another client: at once. A client that killed itself still gets
        // its reply (the engine then asked to close after it).
        let killed = c.ex.sess.is_killed() && !c.ex.close_after_reply;
        if let Some((d, id)) = deadline {
            self.deadlines.push(Reverse((d, token, id)));
            if self.deadlines.len() > 64 && self.deadlines.len() > 2 * self.deadlines_live {
                self.compact_deadlines();
            }
        }
        if killed || self.over_output_limit(token) {
            self.close(token);
            return;
        }
        self.want_write(token);
    }

    /// Redis's `checkClientOutputBufferLimits`: hard limit at once, soft limit after it
    /// was exceeded continuously for its seconds.
    fn over_output_limit(&mut self, token: usize) -> bool {
        let Some(Some(c)) = self.conns.get_mut(token) else {
            return false;
        };
        let pending = c.ex.pending_output() as u64;
        if pending < self.limits.obuf_floor {
            c.soft_since = None;
            return false;
        }
        let class = if c.ex.sess.is_subscriber() {
            Class::PubSub
        } else if c.ex.sess.handle().kind() == ClientKind::Replica {
            Class::Replica
        } else {
            Class::Normal
        };
        let l = self.limits.obuf[class as usize];
        let hard = l.hard > 0 && pending >= l.hard;
        let mut soft = l.soft > 0 && pending >= l.soft;
        if soft {
            match c.soft_since {
                None => {
                    c.soft_since = Some(self.now);
                    soft = false;
                }
                Some(t) => {
                    if self.now.duration_since(t).as_secs() <= l.soft_secs {
                        soft = false;
                    }
                }
            }
        } else {
            c.soft_since = None;
        }
        if hard || soft {
            warning!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.info(self.now)
            );
            return true;
        }
        false
    }

    // ---- notifications, blocked clients -------------------------------------------

    fn handle_notified(&mut self) {
        // Servicing one client can notify others on this loop: go round until quiet
        // (bounded, the rest waits for the next iteration, which then does not sleep).
        for _ in 0..16 {
            let mut batch = std::mem::take(&mut self.notified_batch);
            std::mem::swap(&mut batch, &mut *self.shared.notified.lock());
            if batch.is_empty() {
                self.notified_batch = batch;
                return;
            }
            for &t in &batch {
                self.service(t);
            }
            batch.clear();
            self.notified_batch = batch;
        }
    }

    /// Delivers what other clients left for this one: messages, ready keys, a kill.
    fn service(&mut self, token: usize) {
        let killed = {
            let EventLoop {
                conns,
                engine,
                limits,
                ..
            } = self;
            let Some(Some(c)) = conns.get_mut(token) else {
                return;
            };
            if c.ex.sess.is_killed() {
                true
            } else {
                c.ex.sess.drain_messages(&mut c.ex.wbuf);
                if c.ex.sess.is_blocked() {
                    c.ex.resume(engine);
                    c.execute_buffered(engine, limits.proto_max_bulk_len);
                }
                false
            }
        };
        if killed {
            self.close(token);
        } else {
            self.after_activity(token);
        }
    }

    /// Drops the entries of clients that are no longer blocked until them.
    fn compact_deadlines(&mut self) {
        let conns = &self.conns;
        self.deadlines.retain(|&Reverse((d, token, id))| {
            matches!(conns.get(token), Some(Some(c))
                if c.ex.sess.id() == id && c.ex.sess.block_deadline() == Some(d))
        });
        self.deadlines_live = self.deadlines.len();
    }

    fn expire_deadlines(&mut self) {
        if self.deadlines.is_empty() {
            return;
        }
        let now_ms = self.engine.shared().clock.now_ms();
        while let Some(&Reverse((d, token, id))) = self.deadlines.peek() {
            if d > now_ms {
                break;
            }
            self.deadlines.pop();
            let due = matches!(self.conns.get(token), Some(Some(c))
                if c.ex.sess.id() == id && c.ex.sess.block_deadline().is_some_and(|x| x <= now_ms));
            if due {
                self.service(token);
            }
        }
    }

    // ---- writing ------------------------------------------------------------------

    fn want_write(&mut self, token: usize) {
        if let Some(Some(c)) = self.conns.get_mut(token) {
            if !c.in_write_list
                && (c.ex.pending_output() > 0 || c.ex.close_after_reply || c.ex.handoff)
            {
                c.in_write_list = true;
                self.write_list.push(token);
            }
        }
    }

    fn flush_writes(&mut self) {
        let list = std::mem::take(&mut self.write_list);
        let mut released = Vec::new();
        for &token in &list {
            let Some(Some(c)) = self.conns.get_mut(token) else {
                continue;
            };
            c.in_write_list = false;
            // Group commit: a reply to a write waits for the AOF's fsync covering it.
            if c.ex.pending_output() > 0 {
                let offset = c.ex.sess.last_write_offset();
                match self.engine.shared().durability(offset, c.ex.sess.handle()) {
                    Durability::Durable => {
                        if std::mem::take(&mut c.ex.held) {
                            released.push(token);
                        }
                    }
                    Durability::Pending => {
                        c.ex.held = true;
                        continue;
                    }
                    Durability::Failed => {
                        // Never acknowledge a write the AOF could not persist.
                        self.close(token);
                        continue;
                    }
                }
            }
            let mut failed = false;
            if c.ex.pending_output() > 0 {
                let ex = &mut c.ex;
                match c.stream.write(&ex.wbuf[ex.wpos..]) {
                    Ok(n) => {
                        ex.wpos += n;
                        self.output_bytes += n as u64;
                        c.last_io = self.now;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => failed = true,
                }
                if ex.wpos == ex.wbuf.len() {
                    ex.wbuf.clear();
                    ex.wpos = 0;
                } else if ex.wpos >= ex.wbuf.len() / 2 && ex.wpos >= READ_CHUNK {
                    ex.wbuf.drain(..ex.wpos);
                    ex.wpos = 0;
                }
            }
            // Ask for a writable event only while output waits for socket space.
            let waiting = c.ex.pending_output() > 0;
            if !failed && waiting != c.write_interest {
                let interest = if waiting {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                failed = c
                    .stream
                    .reregister(self.poll.registry(), Token(token), interest)
                    .is_err();
                c.write_interest = waiting;
            }
            if failed {
                self.close(token);
            } else if c.ex.handoff && c.ex.wbuf.is_empty() {
                self.hand_off(token);
            } else if c.ex.close_after_reply && c.ex.wbuf.is_empty() {
                c.drain_input();
                self.close(token);
            }
        }
        // Reuse the list's allocation.
        let mut list = list;
        list.clear();
        if self.write_list.is_empty() {
            self.write_list = list;
        }
        // Connections whose held replies just went out run what they sent meanwhile.
        for token in released {
            let max_bulk = self.limits.proto_max_bulk_len;
            if let Some(Some(c)) = self.conns.get_mut(token) {
                c.execute_buffered(&self.engine, max_bulk);
                self.after_activity(token);
            }
        }
    }

    /// Gives a connection that asked for PSYNC/SYNC to the replication layer, which
    /// serves it on its own threads with blocking I/O.
    fn hand_off(&mut self, token: usize) {
        let Some(mut c) = self.conns.get_mut(token).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut c.stream);
        self.free.push(token);
        let Some((req, hello)) = c.ex.sess.take_sync_request() else {
            return;
        };
        let link: Box<dyn tandem_transport::Link> = match c.stream {
            Stream::Tcp(s) => {
                let s: std::net::TcpStream = s.into();
                if s.set_nonblocking(false).is_err() {
                    return;
                }
                Box::new(s)
            }
            Stream::Unix(_) => {
                warning!("Replication over a Unix socket is not supported; closing the link");
                return;
            }
        };
        self.engine
            .shared()
            .attach_replica(link, c.ex.sess, req, hello);
    }

    fn close(&mut self, token: usize) {
        if let Some(mut c) = self.conns.get_mut(token).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.free.push(token);
        }
    }

    // ---- cron -----------------------------------------------------------------------

    fn cron(&mut self) {
        if self.now < self.next_cron {
            return;
        }
        self.next_cron = self.now + self.limits.cron_period();
        if self.id() == 0 {
            self.engine.cron(&mut self.cron_state);
        }
        let idle_timeout = self.limits.idle_timeout;
        let now_ms = self.engine.shared().clock.now_ms();
        let mut idle = Vec::new();
        let mut overdue = Vec::new();
        for (t, c) in self.conns.iter_mut().enumerate() {
            let Some(c) = c else { continue };
            let quiet = self.now.duration_since(c.last_io);
            c.trim_buffers(quiet > Duration::from_secs(2));
            // A blocked client past its deadline that the deadline heap did not serve
            // (its command re-blocked without telling us, a pause was extended): retry.
            if c.ex.sess.block_deadline().is_some_and(|d| d <= now_ms) {
                overdue.push(t);
            }
            if let Some(limit) = idle_timeout {
                if quiet > limit
                    && !c.ex.sess.is_blocked()
                    && !c.ex.sess.is_subscriber()
                    && c.ex.sess.handle().kind() == ClientKind::Normal
                {
                    idle.push(t);
                }
            }
        }
        for t in idle {
            verbose!("Closing idle client");
            self.close(t);
        }
        for t in overdue {
            self.service(t);
        }
    }
}

/// Writes a refusal to a connection that is then dropped.
fn refuse(stream: &mut Stream, text: &str) {
    let _ = stream.write(text.as_bytes());
    let mut buf = [0u8; 1024];
    for _ in 0..16 {
        match io::Read::read(stream, &mut buf) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// Whether a signal-initiated shutdown saves: `shutdown-on-sig*` may say `save` or
/// `nosave`; `default` saves when save points are configured.
pub fn shutdown_save(flags: &str, has_save_points: bool) -> bool {
    let words: Vec<&str> = flags.split_whitespace().collect();
    if words.iter().any(|w| w.eq_ignore_ascii_case("nosave")) {
        false
    } else if words.iter().any(|w| w.eq_ignore_ascii_case("save")) {
        true
    } else {
        has_save_points
    }
}

/// Logs the lines operators and test harnesses wait for.
pub fn log_ready(port: u16, unixsocket: &str) {
    notice!("Running mode=standalone, port={port}.");
    log::log(log::Level::Warning, "Server initialized");
    notice!("Ready to accept connections");
    if !unixsocket.is_empty() {
        notice!("The server is now ready to accept connections at {unixsocket}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpStream;
    use tandem_engine::{config::Config, Pause};

    struct Running {
        engine: Core,
        port: u16,
        stop: Box<dyn Fn() + Send>,
        thread: Option<std::thread::JoinHandle<io::Result<Exit>>>,
    }

    impl Drop for Running {
        fn drop(&mut self) {
            (self.stop)();
            if let Some(t) = self.thread.take() {
                let exit = t.join().expect("server thread").expect("server run");
                assert_eq!(exit, Exit::Shutdown { save: false });
            }
        }
    }

    fn start(io_threads: usize) -> Running {
        let engine = Core::new(Config::default());
        let l = crate::listen::bind_tcp("127.0.0.1:0".parse().unwrap(), 128).unwrap();
        let port = l.tcp_addr().unwrap().port();
        let server = Server::new(engine.clone(), vec![l], io_threads).unwrap();
        let stop = Box::new(server.stopper());
        let thread = Some(std::thread::spawn(move || server.run()));
        Running {
            engine,
            port,
            stop,
            thread,
        }
    }

    fn connect(port: u16) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        s.read_exact(&mut buf).unwrap();
        buf
    }

    #[test]
    fn paused_commands_run_at_the_deadline_in_order() {
        let r = start(2);
        let mut c = connect(r.port);
        c.write_all(b"SET k v\r\n").unwrap();
        assert_eq!(read_n(&mut c, 5), b"+OK\r\n");
        let sh = r.engine.shared();
        sh.set_pause(Pause {
            until_ms: sh.clock.now_ms() + 300,
            writes_only: false,
        });
        let t = Instant::now();
        c.write_all(b"GET k\r\nPING\r\n").unwrap();
        assert_eq!(read_n(&mut c, 14), b"$1\r\nv\r\n+PONG\r\n");
        assert!(
            t.elapsed() >= Duration::from_millis(250),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn extended_pause_still_ends() {
        let r = start(1);
        let mut c = connect(r.port);
        let sh = r.engine.shared();
        let t0 = sh.clock.now_ms();
        sh.set_pause(Pause {
            until_ms: t0 + 200,
            writes_only: false,
        });
        c.write_all(b"PING\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        sh.set_pause(Pause {
            until_ms: t0 + 500,
            writes_only: false,
        });
        assert_eq!(read_n(&mut c, 7), b"+PONG\r\n");
        let waited = sh.clock.now_ms() - t0;
        assert!((450..1500).contains(&waited), "{waited} ms");
    }

    #[test]
    fn lifting_a_pause_wakes_parked_clients() {
        let r = start(2);
        let mut clients: Vec<TcpStream> = (0..4).map(|_| connect(r.port)).collect();
        for c in &mut clients {
            c.write_all(b"PING\r\n").unwrap();
            assert_eq!(read_n(c, 7), b"+PONG\r\n");
        }
        let sh = r.engine.shared();
        sh.set_pause(Pause {
            until_ms: sh.clock.now_ms() + 60_000,
            writes_only: false,
        });
        for c in &mut clients {
            c.write_all(b"ECHO x\r\n").unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        sh.set_pause(Pause::default());
        for c in &mut clients {
            assert_eq!(read_n(c, 7), b"$1\r\nx\r\n");
        }
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn killed_clients_are_closed() {
        let r = start(2);
        let mut c = connect(r.port);
        c.write_all(b"PING\r\n").unwrap();
        assert_eq!(read_n(&mut c, 7), b"+PONG\r\n");
        for h in r.engine.shared().clients.all() {
            h.kill();
        }
        let mut buf = [0u8; 16];
        assert_eq!(c.read(&mut buf).unwrap_or(0), 0);
    }

    #[test]
    fn parking_a_client_many_times_keeps_it_working() {
        let r = start(1);
        let mut c = connect(r.port);
        let sh = r.engine.shared();
        // Park and release the same client many times with far deadlines.
        for _ in 0..200 {
            sh.set_pause(Pause {
                until_ms: sh.clock.now_ms() + 60_000,
                writes_only: false,
            });
            c.write_all(b"PING\r\n").unwrap();
            std::thread::sleep(Duration::from_millis(1));
            sh.set_pause(Pause::default());
            assert_eq!(read_n(&mut c, 7), b"+PONG\r\n");
        }
        // Nothing observable but memory; the client still works.
        c.write_all(b"PING\r\n").unwrap();
        assert_eq!(read_n(&mut c, 7), b"+PONG\r\n");
    }

    #[test]
    fn shutdown_flags() {
        assert!(shutdown_save("default", true));
        assert!(!shutdown_save("default", false));
        assert!(shutdown_save("save", false));
        assert!(!shutdown_save("nosave now", true));
    }

    #[test]
    fn denied_text_is_redis_7_0() {
        assert!(DENIED.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."));
        assert!(DENIED.ends_with("to start accepting connections from the outside.\r\n"));
        assert_eq!(DENIED.matches("\r\n").count(), 1);
    }
}
