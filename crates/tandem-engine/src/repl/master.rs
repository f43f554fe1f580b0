//! The master side: serving one attached replica (see the module docs of [`super`]).

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_log::{Psync, ReadError, Reader, ReaderLimit};
use tandem_resp::{RequestLimits, RequestParser};
use tandem_transport::Link;

use super::{retry_read, ReplicaHandle, ReplicaHello, ReplicaState, SyncRequest};
use crate::{Level, Session, Shared};

/// Parses `client-output-buffer-limit`'s replica class (`slave`/`replica`).
pub(crate) fn replica_limit(sh: &Shared) -> ReaderLimit {
    let v = sh
        .config
        .get("client-output-buffer-limit")
        .unwrap_or_default();
    let words: Vec<&str> = v.split_whitespace().collect();
    for w in words.chunks(4) {
        if w.len() == 4 && (w[0] == "slave" || w[0] == "replica") {
            let n = |s: &str| crate::config::parse_memory(s).unwrap_or(0);
            return ReaderLimit {
                hard: n(w[1]),
                soft: n(w[2]),
                soft_seconds: w[3].parse().unwrap_or(0),
            };
        }
    }
    ReaderLimit::REPLICA_DEFAULT
}

/// Writes chunks with one `write` per batch.
fn send_chunks(
    link: &mut dyn Link,
    chunks: &mut Vec<Bytes>,
    scratch: &mut Vec<u8>,
) -> io::Result<usize> {
    let total: usize = chunks.iter().map(Bytes::len).sum();
    if chunks.len() == 1 {
        link.write_all(&chunks[0])?;
    } else {
        scratch.clear();
        for c in chunks.iter() {
            scratch.extend_from_slice(c);
        }
        link.write_all(scratch)?;
    }
    chunks.clear();
    Ok(total)
}

impl Shared {
    /// Takes over a connection that asked for PSYNC/SYNC and serves it as a replica,
    /// on its own threads. `pending` holds bytes already read from the link after the
    /// PSYNC command (normally none).
    pub fn attach_replica(
        self: &Arc<Self>,
        link: Box<dyn Link>,
        sess: Session,
        req: SyncRequest,
        hello: ReplicaHello,
    ) {
        let sh = self.clone();
        let id = sess.id();
        let name = format!("repl-send-{id}");
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            sh.serve_replica(link, sess, req, hello);
        });
        if let Err(e) = spawned {
            self.log(
                Level::Warning,
                &format!("Can't start a replication thread: {e}"),
            );
        }
    }

    fn serve_replica(
        self: &Arc<Self>,
        mut link: Box<dyn Link>,
        sess: Session,
        req: SyncRequest,
        hello: ReplicaHello,
    ) {
        let peer = link.peer();
        let peer_ip = peer
            .rsplit_once(':')
            .map(|(ip, _)| ip.trim_matches(['[', ']']).to_string())
            .unwrap_or_default();
        let handle = Arc::new(ReplicaHandle {
            id: sess.id(),
            ip: hello.ip.clone().unwrap_or(peer_ip),
            port: hello.port,
            addr: peer.clone(),
            state: Default::default(),
            ack_offset: Default::default(),
            ack_ms: Default::default(),
            stop: Default::default(),
            link: Mutex::new(link.try_clone_link().ok()),
            client: sess.handle().clone(),
            reader_id: Default::default(),
            limit_logged: Default::default(),
        });
        sess.handle().set_kind(crate::ClientKind::Replica);
        let label = format!("{}:{}", handle.ip, handle.port);
        let repl = &self.repl;
        if !hello.rdb_only {
            repl.replicas.lock().push(handle.clone());
        }
        let result = self.feed_replica(&mut link, &handle, &req, &hello, &label);
        match result {
            Ok(()) => self.log(
                Level::Notice,
                &format!("Connection with replica {label} lost."),
            ),
            Err(e) => self.log(
                Level::Warning,
                &format!("Connection with replica {label} lost: {e}"),
            ),
        }
        handle.disconnect();
        let _ = link.shutdown();
        repl.replicas.lock().retain(|r| r.id != handle.id);
        if repl.replicas.lock().is_empty() {
            repl.no_replicas_since
                .store(self.clock.now_ms(), Ordering::Relaxed);
        }
        drop(sess);
    }

    /// Decides partial or full resync and streams; returns when the link ends.
    fn feed_replica(
        self: &Arc<Self>,
        link: &mut Box<dyn Link>,
        handle: &Arc<ReplicaHandle>,
        req: &SyncRequest,
        hello: &ReplicaHello,
        label: &str,
    ) -> io::Result<()> {
        let repl = &self.repl;
        let log = repl.log.clone();
        let limit = replica_limit(self);
        if !log.is_active() {
            log.activate();
            self.enable_log_propagation();
        }
        let psync = if req.legacy || hello.rdb_only {
            None
        } else {
            Some(log.psync(&req.replid, req.offset))
        };
        let reader: Reader = match psync {
            Some(Psync::Continue { pos }) => {
                let reader = log
                    .reader(pos, limit)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                let line = if hello.capa_psync2 {
                    format!("+CONTINUE {}\r\n", log.replid())
                } else {
                    "+CONTINUE\r\n".to_string()
                };
                link.write_all(line.as_bytes())?;
                repl.stats.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
                self.log(
                    Level::Notice,
                    &format!(
                        "Partial resynchronization request from {label} accepted. Sending {} bytes of backlog starting from offset {}.",
                        log.offset() - pos,
                        pos + 1
                    ),
                );
                handle.set_state(ReplicaState::Online);
                handle.ack_ms.store(self.clock.now_ms(), Ordering::Relaxed);
                reader
            }
            other => {
                if let Some(Psync::Full { reason }) = &other {
                    if req.replid != b"?" {
                        repl.stats.sync_partial_err.fetch_add(1, Ordering::Relaxed);
                        self.log(
                            Level::Notice,
                            &format!("Partial resynchronization not accepted: {reason}"),
                        );
                    }
                }
                self.log(
                    Level::Notice,
                    &format!("Replica {label} asks for synchronization"),
                );
                self.log(
                    Level::Notice,
                    &format!("Full resync requested by replica {label}"),
                );
                repl.stats.sync_full.fetch_add(1, Ordering::Relaxed);
                self.full_sync(link, handle, req, hello, label, limit)?
            }
        };
        if hello.rdb_only {
            return Ok(());
        }
        handle.reader_id.store(reader.id(), Ordering::Relaxed);
        self.stream_to_replica(link, handle, reader)
    }

    /// Sends `+FULLRESYNC` and a snapshot; returns the reader positioned at the
    /// snapshot's offset.
    fn full_sync(
        self: &Arc<Self>,
        link: &mut Box<dyn Link>,
        handle: &Arc<ReplicaHandle>,
        req: &SyncRequest,
        hello: &ReplicaHello,
        label: &str,
        limit: ReaderLimit,
    ) -> io::Result<Reader> {
        let log = self.repl.log.clone();
        let diskless = hello.capa_eof && self.config.get_bool("repl-diskless-sync") && !req.legacy;
        // A replica waiting for the snapshot gets a newline every second, as from Redis.
        let delay = if diskless {
            self.config.get_i64("repl-diskless-sync-delay").max(0) as u64
        } else {
            0
        };
        let wait_until = Instant::now() + Duration::from_secs(delay);
        let mut last_nl = Instant::now();
        let begun = loop {
            if Instant::now() >= wait_until {
                if let Some(b) = self.begin_snapshot(|| {
                    log.reset_last_db();
                    let offset = log.offset();
                    (offset, log.reader(offset, limit))
                }) {
                    break b;
                }
            }
            if handle.stopping() {
                return Err(io::Error::other(
                    "replica dropped while waiting for the snapshot",
                ));
            }
            if last_nl.elapsed() >= Duration::from_secs(1) {
                link.write_all(b"\n")?;
                last_nl = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let (mut snap, (offset, reader)) = begun;
        let reader = reader.map_err(|e| io::Error::other(e.to_string()))?;
        if !req.legacy {
            link.write_all(format!("+FULLRESYNC {} {}\r\n", log.replid(), offset).as_bytes())?;
        }
        handle.set_state(ReplicaState::SendBulk);
        let started = Instant::now();
        self.log(
            Level::Notice,
            &format!(
                "Starting BGSAVE for SYNC with target: {} (fork-free snapshot at offset {offset})",
                if diskless { "replicas sockets" } else { "disk" }
            ),
        );
        let aux = crate::rdb::Aux {
            repl_id: Some(log.replid()),
            repl_offset: offset,
            repl_stream_db: 0,
        };
        // LZF costs more CPU than it saves on the links replicas use; `rdbcompression`
        // governs files, `repl-snapshot-compression` the full-sync stream.
        let compress = self.config.get_bool("repl-snapshot-compression");
        let sent = if diskless {
            let mark = tandem_log::ReplId::random();
            link.write_all(format!("$EOF:{mark}\r\n").as_bytes())?;
            let mut w = io::BufWriter::with_capacity(256 * 1024, &mut **link);
            let n = crate::rdb::write_snapshot(self, &mut w, &mut snap, &aux, compress)?;
            w.write_all(mark.as_bytes())?;
            w.flush()?;
            n
        } else {
            // Disk target: the snapshot goes to a file first, then `$<len>` + file.
            let path = std::path::PathBuf::from(format!(
                "temp-sync-{}-{}.rdb",
                std::process::id(),
                handle.id
            ));
            let result = (|| {
                let file = std::fs::File::create(&path)?;
                let mut w = io::BufWriter::with_capacity(256 * 1024, file);
                crate::rdb::write_snapshot(self, &mut w, &mut snap, &aux, compress)?;
                w.flush()?;
                drop(w);
                let mut file = std::fs::File::open(&path)?;
                let len = file.metadata()?.len();
                link.write_all(format!("${len}\r\n").as_bytes())?;
                io::copy(&mut file, &mut **link)?;
                Ok::<u64, io::Error>(len)
            })();
            let _ = std::fs::remove_file(&path);
            result?
        };
        drop(snap);
        self.repl
            .stats
            .net_repl_output
            .fetch_add(sent, Ordering::Relaxed);
        self.log(
            Level::Notice,
            &format!(
                "Synchronization with replica {label} succeeded ({sent} bytes in {:.3} s)",
                started.elapsed().as_secs_f64()
            ),
        );
        if diskless && !hello.rdb_only {
            // Redis streams to a diskless replica only after its first ACK: the replica
            // cannot tell where the payload ends if stream bytes follow the mark at once.
            self.wait_first_ack(link, handle)?;
        }
        handle.set_state(ReplicaState::Online);
        handle.ack_ms.store(self.clock.now_ms(), Ordering::Relaxed);
        Ok(reader)
    }

    /// Reads from the replica until its first `REPLCONF ACK` (newlines are keepalives).
    fn wait_first_ack(&self, link: &mut Box<dyn Link>, handle: &ReplicaHandle) -> io::Result<()> {
        let timeout = Duration::from_secs(self.config.get_i64("repl-timeout").max(1) as u64);
        link.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut buf = Vec::new();
        let mut parser = RequestParser::new();
        let mut last_io = Instant::now();
        let mut chunk = [0u8; 4096];
        loop {
            if handle.stopping() {
                return Err(io::Error::other("replica dropped"));
            }
            match link.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "replica closed the link",
                    ))
                }
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    last_io = Instant::now();
                }
                Err(e) if retry_read(&e) => {}
                Err(e) => return Err(e),
            }
            if last_io.elapsed() > timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "timeout waiting for the replica's first ACK",
                ));
            }
            loop {
                let limits = RequestLimits {
                    from_master: true,
                    ..RequestLimits::default()
                };
                let Ok(Some(r)) = parser.parse(&buf, &limits) else {
                    break;
                };
                let used = r.consumed();
                let ack = if r.len() >= 3
                    && r.arg(0).eq_ignore_ascii_case(b"replconf")
                    && r.arg(1).eq_ignore_ascii_case(b"ack")
                {
                    tandem_resp::parse_i64(r.arg(2))
                } else {
                    None
                };
                buf.drain(..used);
                if let Some(off) = ack {
                    handle
                        .ack_offset
                        .store(off.max(0) as u64, Ordering::Release);
                    handle.ack_ms.store(self.clock.now_ms(), Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
    }

    /// Streams the log to the replica and reads its ACKs, until the link ends.
    fn stream_to_replica(
        self: &Arc<Self>,
        link: &mut Box<dyn Link>,
        handle: &Arc<ReplicaHandle>,
        reader: Reader,
    ) -> io::Result<()> {
        let mut rlink = link.try_clone_link()?;
        let sh = self.clone();
        let h = handle.clone();
        let recv = std::thread::Builder::new()
            .name(format!("repl-recv-{}", handle.id))
            .spawn(move || sh.read_acks(&mut rlink, &h))?;
        let mut chunks = Vec::new();
        let mut scratch = Vec::new();
        let result = loop {
            if handle.stopping() {
                break Ok(());
            }
            match reader.read(&mut chunks, 1 << 20) {
                Ok(0) => {
                    reader.wait(Duration::from_millis(100));
                }
                Ok(_) => match send_chunks(&mut **link, &mut chunks, &mut scratch) {
                    Ok(n) => {
                        self.repl
                            .stats
                            .net_repl_output
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => break Err(e),
                },
                Err(ReadError::Overflow { lag, limit }) => {
                    self.log_output_limit(handle, lag, limit);
                    break Err(io::Error::other("output buffer limit reached"));
                }
                Err(ReadError::Gone) => {
                    break Err(io::Error::other("our replication history changed"))
                }
            }
        };
        handle.disconnect();
        let _ = recv.join();
        result
    }

    /// Logs, once per link, that a replica is dropped for its output buffer limit.
    pub(crate) fn log_output_limit(&self, handle: &ReplicaHandle, lag: u64, limit: &str) {
        if handle.limit_logged.swap(true, Ordering::AcqRel) {
            return;
        }
        self.log(
            Level::Warning,
            &format!(
                "Client id={} addr={} laddr= fd= name= flags=S omem={lag} (replica {}:{}) scheduled to be closed ASAP for overcoming of output buffer limits ({limit} limit).",
                handle.id, handle.addr, handle.ip, handle.port
            ),
        );
    }

    /// Reads `REPLCONF ACK <offset>` (and keepalive newlines) from a replica.
    fn read_acks(&self, link: &mut Box<dyn Link>, handle: &ReplicaHandle) {
        let _ = link.set_read_timeout(Some(Duration::from_millis(200)));
        let mut buf: Vec<u8> = Vec::new();
        let mut parser = RequestParser::new();
        let mut chunk = [0u8; 4096];
        while !handle.stopping() {
            match link.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if retry_read(&e) => continue,
                Err(_) => break,
            }
            let mut acked = false;
            loop {
                let limits = RequestLimits {
                    from_master: true,
                    ..RequestLimits::default()
                };
                let used = match parser.parse(&buf, &limits) {
                    Ok(Some(r)) => {
                        if r.len() >= 3
                            && r.arg(0).eq_ignore_ascii_case(b"replconf")
                            && r.arg(1).eq_ignore_ascii_case(b"ack")
                        {
                            if let Some(off) = tandem_resp::parse_i64(r.arg(2)) {
                                handle
                                    .ack_offset
                                    .fetch_max(off.max(0) as u64, Ordering::AcqRel);
                                acked = true;
                            }
                        }
                        r.consumed()
                    }
                    Ok(None) => break,
                    Err(_) => {
                        handle.disconnect();
                        return;
                    }
                };
                buf.drain(..used);
            }
            handle.ack_ms.store(self.clock.now_ms(), Ordering::Relaxed);
            if acked {
                self.wake_waiters();
            }
        }
        handle.disconnect();
    }
}
