//! In-memory links with fault controls, for deterministic replication tests.
//!
//! A [`Network`] holds named listeners (`"host:port"`). [`Network::connect`] returns the
//! client end of a new link and queues the server end for [`Listener::accept`]. Every
//! link between a pair of names can be cut (both ends see EOF / broken pipe), and a name
//! can be isolated (new connections to or from it fail, existing ones are cut) and
//! later healed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::{Connector, Link};

#[derive(Default)]
struct Pipe {
    buf: VecDeque<u8>,
    closed: bool,
}

/// One direction of a link.
#[derive(Default)]
struct Half {
    pipe: Mutex<Pipe>,
    ready: Condvar,
}

impl Half {
    fn close(&self) {
        self.pipe.lock().closed = true;
        self.ready.notify_all();
    }
}

/// One end of an in-memory link.
pub struct MemLink {
    rx: Arc<Half>,
    tx: Arc<Half>,
    timeout: Option<Duration>,
    local: String,
    peer: String,
}

impl Read for MemLink {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let mut p = self.rx.pipe.lock();
        loop {
            if !p.buf.is_empty() {
                let n = out.len().min(p.buf.len());
                for (i, b) in p.buf.drain(..n).enumerate() {
                    out[i] = b;
                }
                return Ok(n);
            }
            if p.closed {
                return Ok(0);
            }
            match deadline {
                None => self.rx.ready.wait(&mut p),
                Some(d) if Instant::now() >= d => {
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, "read timed out"));
                }
                Some(d) => {
                    self.rx.ready.wait_until(&mut p, d);
                }
            }
        }
    }
}

impl Write for MemLink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut p = self.tx.pipe.lock();
        if p.closed {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "link closed"));
        }
        p.buf.extend(data);
        drop(p);
        self.tx.ready.notify_all();
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Link for MemLink {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.timeout = timeout;
        Ok(())
    }
    fn try_clone_link(&self) -> io::Result<Box<dyn Link>> {
        Ok(Box::new(MemLink {
            rx: self.rx.clone(),
            tx: self.tx.clone(),
            timeout: self.timeout,
            local: self.local.clone(),
            peer: self.peer.clone(),
        }))
    }
    fn shutdown(&self) -> io::Result<()> {
        self.rx.close();
        self.tx.close();
        Ok(())
    }
    fn peer(&self) -> String {
        self.peer.clone()
    }
    fn local(&self) -> String {
        self.local.clone()
    }
}

struct Conn {
    a: String,
    b: String,
    halves: [Arc<Half>; 2],
}

/// Links waiting to be accepted by one listener.
type AcceptQueue = Arc<(Mutex<VecDeque<MemLink>>, Condvar)>;

#[derive(Default)]
struct State {
    listeners: HashMap<String, AcceptQueue>,
    conns: Vec<Conn>,
    isolated: HashSet<String>,
    next_port: u32,
}

/// A set of in-memory hosts.
#[derive(Clone, Default)]
pub struct Network {
    state: Arc<Mutex<State>>,
}

/// Accepts in-memory links for one name.
pub struct Listener {
    queue: AcceptQueue,
}

impl Listener {
    /// Waits up to `timeout` for the next link.
    pub fn accept(&self, timeout: Duration) -> Option<MemLink> {
        let (q, cv) = &*self.queue;
        let mut q = q.lock();
        if q.is_empty() {
            cv.wait_for(&mut q, timeout);
        }
        q.pop_front()
    }
}

impl Network {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens on `name` (`"host:port"`).
    pub fn listen(&self, name: &str) -> Listener {
        let mut s = self.state.lock();
        let q = s.listeners.entry(name.to_string()).or_default().clone();
        Listener { queue: q }
    }

    /// Connects `from` to the listener `to`.
    pub fn connect_from(&self, from: &str, to: &str) -> io::Result<MemLink> {
        let mut s = self.state.lock();
        if s.isolated.contains(from) || s.isolated.contains(to) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "host isolated",
            ));
        }
        let q =
            s.listeners.get(to).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::ConnectionRefused, "nobody listens")
            })?;
        s.next_port += 1;
        let from = format!("{from}#{}", s.next_port);
        let ab = Arc::new(Half::default());
        let ba = Arc::new(Half::default());
        let client = MemLink {
            rx: ba.clone(),
            tx: ab.clone(),
            timeout: None,
            local: from.clone(),
            peer: to.to_string(),
        };
        let server = MemLink {
            rx: ab.clone(),
            tx: ba.clone(),
            timeout: None,
            local: to.to_string(),
            peer: from.clone(),
        };
        s.conns.push(Conn {
            a: from,
            b: to.to_string(),
            halves: [ab, ba],
        });
        drop(s);
        q.0.lock().push_back(server);
        q.1.notify_all();
        Ok(client)
    }

    /// Cuts every link between `x` and `y` (either direction; names are matched by
    /// prefix so `"replica"` covers `"replica#7"`).
    pub fn cut(&self, x: &str, y: &str) {
        let mut s = self.state.lock();
        s.conns.retain(|c| {
            let hit = (c.a.starts_with(x) && c.b.starts_with(y))
                || (c.a.starts_with(y) && c.b.starts_with(x));
            if hit {
                c.halves.iter().for_each(|h| h.close());
            }
            !hit
        });
    }

    /// Cuts every link of `name` and refuses new ones until [`Network::heal`].
    pub fn isolate(&self, name: &str) {
        let mut s = self.state.lock();
        s.isolated.insert(name.to_string());
        s.conns.retain(|c| {
            let hit = c.a.starts_with(name) || c.b.starts_with(name);
            if hit {
                c.halves.iter().for_each(|h| h.close());
            }
            !hit
        });
    }

    /// Lets `name` connect again.
    pub fn heal(&self, name: &str) {
        self.state.lock().isolated.remove(name);
    }

    /// A connector that dials from `from`.
    pub fn connector(&self, from: &str) -> MemConnector {
        MemConnector {
            net: self.clone(),
            from: from.to_string(),
        }
    }
}

/// Dials in-memory listeners as one host.
#[derive(Clone)]
pub struct MemConnector {
    net: Network,
    from: String,
}

impl Connector for MemConnector {
    fn connect(&self, host: &str, port: u16, _timeout: Duration) -> io::Result<Box<dyn Link>> {
        Ok(Box::new(
            self.net
                .connect_from(&self.from, &format!("{host}:{port}"))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_flow_and_cut_closes() {
        let net = Network::new();
        let l = net.listen("m:1");
        let mut c = net.connect_from("r", "m:1").unwrap();
        let mut s = l.accept(Duration::from_secs(1)).unwrap();
        c.write_all(b"PING").unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"PING");
        s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        assert!(crate::is_timeout(&s.read(&mut buf).unwrap_err()));
        net.cut("r", "m:1");
        assert_eq!(c.read(&mut buf).unwrap(), 0);
        assert!(s.write(b"x").is_err());
        net.isolate("m:1");
        assert!(net.connect_from("r", "m:1").is_err());
        net.heal("m:1");
        assert!(net.connect_from("r", "m:1").is_ok());
    }
}
