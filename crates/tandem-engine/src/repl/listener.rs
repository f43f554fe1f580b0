//! Serving connections without tandem-server: a blocking, per-connection command loop
//! that hands the connection to the master role when it asks for PSYNC/SYNC. An
//! embedding program uses it to let replicas attach (see [`crate::Core::serve_replicas`]);
//! tests use it over in-memory links.
//!
//! It is deliberately small: requests are executed one after another and their replies
//! written back; blocking commands and pub/sub delivery need the server's event loop.

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use smallvec::SmallVec;
use tandem_resp::{encode, RequestLimits, RequestParser};
use tandem_transport::Link;

use super::retry_read;

use crate::{Core, Flow, Level, Shared};

impl Shared {
    /// Serves one connection on the calling thread until it closes, or until it asks for
    /// PSYNC/SYNC — then it becomes a replica fed by [`Shared::attach_replica`].
    pub fn serve_connection(self: &Arc<Self>, mut link: Box<dyn Link>, stop: &AtomicBool) {
        let engine = Core {
            shared: self.clone(),
        };
        let mut sess = engine.session(link.peer(), link.local(), None);
        let mut parser = RequestParser::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut out: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        if link
            .set_read_timeout(Some(Duration::from_millis(200)))
            .is_err()
        {
            return;
        }
        while !stop.load(Ordering::Acquire) {
            match link.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if retry_read(&e) => continue,
                Err(_) => return,
            }
            let mut used = 0;
            let mut flow = Flow::Continue;
            while flow == Flow::Continue {
                let limits = RequestLimits {
                    unauthenticated: !sess.authenticated,
                    ..RequestLimits::default()
                };
                match parser.parse(&buf[used..], &limits) {
                    Ok(None) => break,
                    Ok(Some(req)) => {
                        used += req.consumed();
                        if !req.is_empty() {
                            let argv: SmallVec<[&[u8]; 16]> = req.args().collect();
                            flow = engine.execute(&mut sess, &argv, &mut out);
                        }
                    }
                    Err(e) => {
                        encode::error(&mut out, &e.reply_text());
                        flow = Flow::Close;
                    }
                }
            }
            buf.drain(..used);
            if !out.is_empty() && link.write_all(&out).is_err() {
                return;
            }
            out.clear();
            match flow {
                Flow::Replica => {
                    if let Some((req, hello)) = sess.take_sync_request() {
                        self.attach_replica(link, sess, req, hello);
                    }
                    return;
                }
                Flow::Close | Flow::Shutdown { .. } => return,
                Flow::Continue | Flow::Blocked => {}
            }
        }
    }
}

/// A running accept loop started by [`Core::serve_replicas`]; dropping it stops
/// accepting and joins the threads serving connections that have not become replicas
/// (they notice within their 200 ms read timeout). Replica links end by
/// [`super::ReplicaHandle::disconnect`].
pub struct ReplicaListener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    conns: Arc<parking_lot::Mutex<Vec<JoinHandle<()>>>>,
    addr: std::net::SocketAddr,
}

impl ReplicaListener {
    /// The address it listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }
}

impl Drop for ReplicaListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for t in self.conns.lock().drain(..) {
            let _ = t.join();
        }
    }
}

impl Core {
    /// Accepts connections on `listener` (on a named thread) and serves each like a
    /// server connection, so Redis or tandem replicas can attach to this in-process
    /// engine with `REPLICAOF host port`.
    pub fn serve_replicas(&self, listener: TcpListener) -> io::Result<ReplicaListener> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let sh = self.shared.clone();
        let stop2 = stop.clone();
        let conns = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let conns2 = conns.clone();
        sh.repl
            .listening_port
            .store(u64::from(addr.port()), Ordering::Relaxed);
        let thread = std::thread::Builder::new()
            .name("repl-accept".into())
            .spawn(move || {
                while !stop2.load(Ordering::Acquire) {
                    match listener.accept() {
                        Ok((s, _)) => {
                            let _ = s.set_nonblocking(false);
                            let _ = s.set_nodelay(true);
                            let conn_sh = sh.clone();
                            let stop = stop2.clone();
                            let spawned = std::thread::Builder::new()
                                .name("repl-conn".into())
                                .spawn(move || conn_sh.serve_connection(Box::new(s), &stop));
                            match spawned {
                                Ok(t) => {
                                    let mut c = conns2.lock();
                                    c.retain(|t: &JoinHandle<()>| !t.is_finished());
                                    c.push(t);
                                }
                                Err(e) => sh
                                    .log(Level::Warning, &format!("Can't serve a connection: {e}")),
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(20))
                        }
                        Err(e) => {
                            sh.log(Level::Warning, &format!("Accepting a connection: {e}"));
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            })?;
        Ok(ReplicaListener {
            stop,
            thread: Some(thread),
            conns,
            addr,
        })
    }
}
