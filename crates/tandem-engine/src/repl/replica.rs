//! The replica side: following a master (see the module docs of [`super`]).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use smallvec::SmallVec;
use tandem_log::ReplId;
use tandem_resp::{encode, RequestLimits, RequestParser};
use tandem_transport::Link;

use super::retry_read;

use crate::{ClientKind, Level, Shared};

/// State of the link to our master, as ROLE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkState {
    /// Must connect.
    Connect = 0,
    /// Connecting.
    Connecting = 1,
    /// Handshake in progress.
    Handshake = 2,
    /// Receiving the snapshot.
    Sync = 3,
    /// Streaming.
    Connected = 4,
}

impl LinkState {
    /// The name ROLE prints.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// What we know about our master and the link to it.
pub struct MasterState {
    /// Master host.
    pub host: String,
    /// Master port.
    pub port: u16,
    state: AtomicU8,
    /// Last time anything arrived from the master (unix ms).
    pub last_io_ms: AtomicU64,
    /// When the link went down (unix ms; 0 = never up).
    pub down_since_ms: AtomicU64,
    /// Whether the link was ever up.
    pub ever_up: AtomicBool,
    /// Snapshot bytes expected (0 for the `$EOF:` form).
    pub sync_total: AtomicU64,
    /// Snapshot bytes read so far.
    pub sync_read: AtomicU64,
    /// Bytes of the stream received (`slave_read_repl_offset`).
    pub read_offset: AtomicU64,
    link: Mutex<Option<Box<dyn Link>>>,
}

impl MasterState {
    /// The link state.
    pub fn state(&self) -> LinkState {
        match self.state.load(Ordering::Relaxed) {
            0 => LinkState::Connect,
            1 => LinkState::Connecting,
            2 => LinkState::Handshake,
            3 => LinkState::Sync,
            _ => LinkState::Connected,
        }
    }
    fn set_state(&self, s: LinkState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }
    /// Drops the current connection (CLIENT KILL TYPE master); the link reconnects.
    pub fn kill_link(&self) {
        if let Some(l) = self.link.lock().as_ref() {
            let _ = l.shutdown();
        }
    }
}

/// The running link thread.
pub(crate) struct LinkHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub(crate) master: Arc<MasterState>,
}

impl LinkHandle {
    fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        self.master.kill_link();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A buffered reader over the link that keeps its buffer across protocol phases (bytes
/// after the snapshot may already be in the buffer).
struct LinkReader {
    link: Box<dyn Link>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl LinkReader {
    fn new(link: Box<dyn Link>) -> Self {
        LinkReader {
            link,
            buf: vec![0; 256 * 1024],
            pos: 0,
            end: 0,
        }
    }
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.pos == 0 {
                // One command larger than the buffer: grow it.
                let n = self.buf.len();
                self.buf.resize(n * 2, 0);
            } else {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
        }
        let n = self.link.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }
    /// Puts bytes back in front of the buffer (read ahead by someone else).
    fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut v = bytes.to_vec();
        v.extend_from_slice(&self.buf[self.pos..self.end]);
        let n = v.len();
        if v.len() < self.buf.len() {
            v.resize(self.buf.len(), 0);
        }
        self.buf = v;
        self.pos = 0;
        self.end = n;
    }

    /// Reads one line (without CRLF), skipping empty keepalive lines when `skip_empty`.
    fn line(&mut self, deadline: Instant, skip_empty: bool) -> io::Result<String> {
        loop {
            if let Some(i) = self.buf[self.pos..self.end]
                .iter()
                .position(|&b| b == b'\n')
            {
                let raw = &self.buf[self.pos..self.pos + i];
                let line =
                    String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)).into_owned();
                self.pos += i + 1;
                if line.is_empty() && skip_empty {
                    continue;
                }
                return Ok(line);
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "timeout reading from master",
                ));
            }
            match self.fill() {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "master closed the connection",
                    ))
                }
                Ok(_) => {}
                Err(e) if retry_read(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Read for LinkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end {
            loop {
                match self.fill() {
                    Ok(0) => return Ok(0),
                    Ok(_) => break,
                    Err(e) if retry_read(&e) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        let n = out.len().min(self.end - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Limits a reader to `left` bytes (the `$<len>` payload), counting progress.
struct Limited<'a> {
    inner: &'a mut LinkReader,
    left: u64,
    progress: &'a AtomicU64,
}

impl Read for Limited<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = out.len().min(self.left as usize);
        let n = self.inner.read(&mut out[..max])?;
        self.left -= n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Counts bytes read through it.
struct Counted<'a> {
    inner: &'a mut LinkReader,
    progress: &'a AtomicU64,
}

impl Read for Counted<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn command(argv: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    encode::command(&mut v, argv);
    v
}

/// An error that ends one connection attempt; the link retries after a pause.
struct Retry(String);

impl From<io::Error> for Retry {
    fn from(e: io::Error) -> Self {
        Retry(e.to_string())
    }
}

impl Shared {
    /// The master we follow, if we are a replica.
    pub fn master(&self) -> Option<Arc<MasterState>> {
        self.repl.master.read().clone()
    }

    /// Starts following `host:port` (REPLICAOF host port). Returns false when we
    /// already follow exactly that master.
    pub fn replicaof(self: &Arc<Self>, host: &str, port: u16) -> bool {
        if let Some(m) = self.master() {
            if m.host == host && m.port == port {
                return false;
            }
        }
        if let Some(h) = self.repl.link.lock().take() {
            h.stop();
        }
        if !self.is_replica.swap(true, Ordering::AcqRel) {
            self.log(
                Level::Notice,
                "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
            );
        }
        self.keyspace.set_replica_mode(true);
        let master = Arc::new(MasterState {
            host: host.to_string(),
            port,
            state: AtomicU8::new(LinkState::Connect as u8),
            last_io_ms: AtomicU64::new(0),
            down_since_ms: AtomicU64::new(0),
            ever_up: AtomicBool::new(false),
            sync_total: AtomicU64::new(0),
            sync_read: AtomicU64::new(0),
            read_offset: AtomicU64::new(0),
            link: Mutex::new(None),
        });
        *self.repl.master.write() = Some(master.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let sh = self.clone();
        let (m2, s2) = (master.clone(), stop.clone());
        self.log(
            Level::Notice,
            &format!("Connecting to MASTER {host}:{port}"),
        );
        let thread = std::thread::Builder::new()
            .name("repl-link".into())
            .spawn(move || sh.run_link(m2, s2))
            .ok();
        *self.repl.link.lock() = Some(LinkHandle {
            stop,
            thread,
            master,
        });
        true
    }

    /// Stops the link thread, if any, without changing role (an embedded engine that
    /// is closing).
    pub(crate) fn stop_following(&self) {
        if let Some(h) = self.repl.link.lock().take() {
            h.stop();
        }
    }

    /// Stops following our master and becomes a master (REPLICAOF NO ONE): the history
    /// continues under a new replid, the old one stays valid as replid2, and attached
    /// replicas are disconnected so that they partially resync under the new id.
    pub fn promote(self: &Arc<Self>) {
        if let Some(h) = self.repl.link.lock().take() {
            h.stop();
        }
        *self.repl.master.write() = None;
        if !self.is_replica.swap(false, Ordering::AcqRel) {
            return;
        }
        self.keyspace.set_replica_mode(false);
        let log = &self.repl.log;
        log.activate();
        log.shift_replid();
        self.enable_log_propagation();
        for r in self.repl.replicas() {
            r.disconnect();
        }
        self.log(Level::Notice, "Discarding previously cached master state.");
        self.log(
            Level::Notice,
            &format!("Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}", log.info().replid2, log.info().second_offset, log.replid()),
        );
        self.log(Level::Notice, "MASTER MODE enabled");
    }

    fn run_link(self: Arc<Self>, master: Arc<MasterState>, stop: Arc<AtomicBool>) {
        let mut first = true;
        while !stop.load(Ordering::Acquire) {
            if !first {
                // One attempt per second, as Redis's replicationCron.
                for _ in 0..10 {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            first = false;
            master.set_state(LinkState::Connecting);
            let connector = self.repl.connector.read().clone();
            let link = match connector.connect(&master.host, master.port, Duration::from_secs(5)) {
                Ok(l) => l,
                Err(e) => {
                    self.log(
                        Level::Warning,
                        &format!("Error condition on socket for SYNC: {e}"),
                    );
                    master.set_state(LinkState::Connect);
                    continue;
                }
            };
            self.log(Level::Notice, "MASTER <-> REPLICA sync started");
            *master.link.lock() = link.try_clone_link().ok();
            let result = self.link_session(link, &master, &stop);
            *master.link.lock() = None;
            let was_up = master.state() == LinkState::Connected;
            master.set_state(LinkState::Connect);
            self.loading.store(false, Ordering::Release);
            if was_up
                || master.down_since_ms.load(Ordering::Relaxed) == 0
                    && master.ever_up.load(Ordering::Relaxed)
            {
                master
                    .down_since_ms
                    .store(self.clock.now_ms(), Ordering::Relaxed);
            }
            if let Err(Retry(why)) = result {
                if !stop.load(Ordering::Acquire) {
                    if was_up {
                        self.log(
                            Level::Warning,
                            &format!("Connection with master lost: {why}"),
                        );
                        self.log(Level::Notice, "Caching the disconnected master state.");
                    } else {
                        self.log(
                            Level::Warning,
                            &format!("Replication with master failed: {why}"),
                        );
                    }
                }
            }
        }
    }

    /// One connection to the master: handshake, sync, stream.
    fn link_session(
        self: &Arc<Self>,
        link: Box<dyn Link>,
        master: &Arc<MasterState>,
        stop: &AtomicBool,
    ) -> Result<(), Retry> {
        let mut link = link;
        link.set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut writer = link.try_clone_link()?;
        let mut r = LinkReader::new(link);
        let step = || Instant::now() + Duration::from_secs(5);
        master.set_state(LinkState::Handshake);
        self.log(
            Level::Notice,
            "Non blocking connect for SYNC fired the event.",
        );
        writer.write_all(&command(&[b"PING"]))?;
        let pong = r.line(step(), true)?;
        if pong.starts_with('-')
            && !pong.starts_with("-NOAUTH")
            && !pong.starts_with("-NOPERM")
            && !pong.starts_with("-ERR operation not permitted")
        {
            return Err(Retry(format!("Error reply to PING from master: '{pong}'")));
        }
        self.log(
            Level::Notice,
            "Master replied to PING, replication can continue...",
        );
        let pass = self.config.get("masterauth").unwrap_or_default();
        if !pass.is_empty() {
            let user = self.config.get("masteruser").unwrap_or_default();
            if user.is_empty() {
                writer.write_all(&command(&[b"AUTH", pass.as_bytes()]))?;
            } else {
                writer.write_all(&command(&[b"AUTH", user.as_bytes(), pass.as_bytes()]))?;
            }
            let reply = r.line(step(), true)?;
            if reply.starts_with('-') {
                return Err(Retry(format!("Unable to AUTH to MASTER: {reply}")));
            }
        }
        let announce_port = match self.config.get_i64("replica-announce-port") {
            0 => self.repl.listening_port.load(Ordering::Relaxed),
            p => p as u64,
        };
        writer.write_all(&command(&[
            b"REPLCONF",
            b"listening-port",
            announce_port.to_string().as_bytes(),
        ]))?;
        let _ = r.line(step(), true)?;
        let ip = self.config.get("replica-announce-ip").unwrap_or_default();
        if !ip.is_empty() {
            writer.write_all(&command(&[b"REPLCONF", b"ip-address", ip.as_bytes()]))?;
            let _ = r.line(step(), true)?;
        }
        writer.write_all(&command(&[
            b"REPLCONF",
            b"capa",
            b"eof",
            b"capa",
            b"psync2",
        ]))?;
        let _ = r.line(step(), true)?;
        let log = self.repl.log.clone();
        let (id, off) = if log.is_active() {
            (log.replid().to_string(), (log.offset() + 1).to_string())
        } else {
            ("?".to_string(), "-1".to_string())
        };
        if id != "?" {
            self.log(
                Level::Notice,
                &format!("Trying a partial resynchronization (request {id}:{off})."),
            );
        }
        writer.write_all(&command(&[b"PSYNC", id.as_bytes(), off.as_bytes()]))?;
        let reply = r.line(
            Instant::now() + Duration::from_secs(self.config.get_i64("repl-timeout").max(1) as u64),
            true,
        )?;
        if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
            let mut parts = rest.split_whitespace();
            let replid = parts
                .next()
                .and_then(|s| ReplId::parse(s.as_bytes()))
                .ok_or_else(|| Retry(format!("Bad +FULLRESYNC reply: {reply}")))?;
            let offset: u64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Retry(format!("Bad +FULLRESYNC reply: {reply}")))?;
            self.log(
                Level::Notice,
                &format!("Full resync from master: {replid}:{offset}"),
            );
            self.receive_snapshot(&mut r, master, stop)?;
            log.reset_to(replid, offset);
            // The stream after a snapshot starts with a SELECT (both Redis and tandem
            // masters reset their stream database for a full resync).
            self.repl.stream_db.store(0, Ordering::Relaxed);
            for sub in self.repl.replicas() {
                sub.disconnect();
            }
            self.log(
                Level::Notice,
                "MASTER <-> REPLICA sync: Finished with success",
            );
        } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
            match rest.trim() {
                "" => {}
                newid => {
                    if let Some(newid) = ReplId::parse(newid.as_bytes()) {
                        if newid != log.replid() {
                            log.adopt_replid(newid);
                            for sub in self.repl.replicas() {
                                sub.disconnect();
                            }
                        }
                    }
                }
            }
            log.activate();
            self.log(
                Level::Notice,
                "Successful partial resynchronization with master.",
            );
            self.log(
                Level::Notice,
                "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
            );
        } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
            return Err(Retry(format!(
                "Master is currently unable to PSYNC but should be in the future: {reply}"
            )));
        } else {
            return Err(Retry(format!(
                "Unexpected reply to PSYNC from master: {reply}"
            )));
        }
        writer.write_all(&command(&[
            b"REPLCONF",
            b"ACK",
            log.offset().to_string().as_bytes(),
        ]))?;
        master.set_state(LinkState::Connected);
        master.ever_up.store(true, Ordering::Relaxed);
        master.down_since_ms.store(0, Ordering::Relaxed);
        master
            .last_io_ms
            .store(self.clock.now_ms(), Ordering::Relaxed);
        self.apply_stream(&mut r, &mut writer, master, stop)
    }

    /// Reads the `$<len>` or `$EOF:<mark>` payload and loads it into the keyspace.
    fn receive_snapshot(
        self: &Arc<Self>,
        r: &mut LinkReader,
        master: &MasterState,
        stop: &AtomicBool,
    ) -> Result<(), Retry> {
        master.set_state(LinkState::Sync);
        let deadline = || {
            Instant::now() + Duration::from_secs(self.config.get_i64("repl-timeout").max(1) as u64)
        };
        let header = r.line(deadline(), true)?;
        let Some(spec) = header.strip_prefix('$') else {
            return Err(Retry(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?")));
        };
        master.sync_read.store(0, Ordering::Relaxed);
        self.loading.store(true, Ordering::Release);
        self.log(Level::Notice, "MASTER <-> REPLICA sync: Flushing old data");
        self.keyspace.flush_all();
        self.log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Loading DB in memory",
        );
        let started = Instant::now();
        let loaded = if let Some(mark) = spec.strip_prefix("EOF:") {
            master.sync_total.store(0, Ordering::Relaxed);
            let mark = mark.as_bytes().to_vec();
            let loaded = {
                let mut input = Counted {
                    inner: &mut *r,
                    progress: &master.sync_read,
                };
                crate::rdb::load(self, &mut input, stop, true).map_err(|e| {
                    Retry(format!(
                        "Failed trying to load the MASTER synchronization DB from socket: {e}"
                    ))
                })?
            };
            // The reader may have read past the RDB: the mark, perhaps more.
            r.unread(&loaded.rest);
            let mut tail = vec![0u8; mark.len()];
            r.read_exact(&mut tail)?;
            if tail != mark {
                return Err(Retry(
                    "the $EOF: mark after the snapshot did not match".into(),
                ));
            }
            loaded
        } else {
            let len: u64 = spec
                .parse()
                .map_err(|_| Retry(format!("Bad payload length from master: '{spec}'")))?;
            master.sync_total.store(len, Ordering::Relaxed);
            self.log(
                Level::Notice,
                &format!("MASTER <-> REPLICA sync: receiving {len} bytes from master to disk"),
            );
            let mut input = Limited {
                inner: &mut *r,
                left: len,
                progress: &master.sync_read,
            };
            let loaded = crate::rdb::load(self, &mut input, stop, true).map_err(|e| {
                Retry(format!(
                    "Failed trying to load the MASTER synchronization DB from disk: {e}"
                ))
            })?;
            io::copy(&mut input, &mut io::sink())?;
            loaded
        };
        self.loading.store(false, Ordering::Release);
        self.log(
            Level::Notice,
            &format!(
                "Done loading RDB, keys loaded: {}, keys expired: {}, in {:.3} seconds.",
                loaded.keys,
                loaded.expired,
                started.elapsed().as_secs_f64()
            ),
        );
        Ok(())
    }

    /// Applies the master's stream until the link ends.
    fn apply_stream(
        self: &Arc<Self>,
        r: &mut LinkReader,
        writer: &mut Box<dyn Link>,
        master: &MasterState,
        stop: &AtomicBool,
    ) -> Result<(), Retry> {
        let log = self.repl.log.clone();
        let engine = crate::Core {
            shared: self.clone(),
        };
        let mut msess = engine.session(
            format!("{}:{}", master.host, master.port),
            String::new(),
            None,
        );
        msess.set_kind(ClientKind::Master);
        // Continue in the database the stream was in when the last link ended.
        let db = self.repl.stream_db.load(Ordering::Relaxed);
        msess.db = db;
        msess.handle().db.store(db, Ordering::Relaxed);
        let mut parser = RequestParser::new();
        let mut sink = Vec::new();
        let mut pending_multi: Vec<u8> = Vec::new();
        let mut last_ack = Instant::now();
        let timeout = Duration::from_secs(self.config.get_i64("repl-timeout").max(1) as u64);
        let mut last_data = Instant::now();
        let limits = RequestLimits {
            from_master: true,
            ..RequestLimits::default()
        };
        loop {
            if stop.load(Ordering::Acquire) {
                return Ok(());
            }
            if msess.is_killed() {
                // CLIENT KILL TYPE master: drop the link; run_link reconnects with PSYNC.
                return Err(Retry("the master client was killed (CLIENT KILL)".into()));
            }
            // Apply every complete command in the buffer.
            loop {
                let req = match parser.parse(&r.buf[r.pos..r.end], &limits) {
                    Ok(None) => break,
                    Err(e) => return Err(Retry(format!("unparsable replication stream: {e}"))),
                    Ok(Some(req)) => req,
                };
                let used = req.consumed();
                master.read_offset.store(
                    log.offset() + pending_multi.len() as u64 + used as u64,
                    Ordering::Relaxed,
                );
                let is_getack = req.len() >= 2
                    && req.arg(0).eq_ignore_ascii_case(b"replconf")
                    && req.arg(1).eq_ignore_ascii_case(b"getack");
                if is_getack {
                    // The answer excludes the GETACK itself, as Redis's does.
                    writer.write_all(&command(&[
                        b"REPLCONF",
                        b"ACK",
                        log.offset().to_string().as_bytes(),
                    ]))?;
                    last_ack = Instant::now();
                }
                // Applying a command and logging its bytes is one step for snapshots.
                let gate = self.repl.apply_gate.lock();
                if !is_getack && !req.is_empty() {
                    let argv: SmallVec<[&[u8]; 16]> = req.args().collect();
                    sink.clear();
                    let _ = engine.execute(&mut msess, &argv, &mut sink);
                }
                let raw = &r.buf[r.pos..r.pos + used];
                if msess.in_multi() {
                    pending_multi.extend_from_slice(raw);
                } else if !pending_multi.is_empty() {
                    pending_multi.extend_from_slice(raw);
                    log.append_raw(&pending_multi);
                    pending_multi.clear();
                } else {
                    log.append_raw(raw);
                }
                drop(gate);
                r.pos += used;
                // msess.db changes only with commands already in our log (a SELECT
                // queued in MULTI runs at EXEC, when the transaction is appended).
                self.repl.stream_db.store(msess.db, Ordering::Relaxed);
                self.repl
                    .stats
                    .net_repl_input
                    .fetch_add(used as u64, Ordering::Relaxed);
            }
            if last_ack.elapsed() >= Duration::from_secs(1) {
                writer.write_all(&command(&[
                    b"REPLCONF",
                    b"ACK",
                    log.offset().to_string().as_bytes(),
                ]))?;
                last_ack = Instant::now();
            }
            if last_data.elapsed() > timeout {
                return Err(Retry("MASTER timeout: no data nor PING received...".into()));
            }
            match r.fill() {
                Ok(0) => return Err(Retry("master closed the connection".into())),
                Ok(_) => {
                    last_data = Instant::now();
                    master
                        .last_io_ms
                        .store(self.clock.now_ms(), Ordering::Relaxed);
                }
                Err(e) if retry_read(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
