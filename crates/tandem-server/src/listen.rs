//! Listening sockets and client streams: TCP (built with socket2 so that the backlog,
//! `SO_REUSEADDR` and `IPV6_V6ONLY` are set as Redis sets them) and Unix domain sockets
//! (`unixsocket`, `unixsocketperm`), behind one [`Stream`] type for the event loops.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};

/// A connected client.
#[derive(Debug)]
pub enum Stream {
    /// Over TCP.
    Tcp(TcpStream),
    /// Over a Unix domain socket.
    Unix(UnixStream),
}

impl Stream {
    /// The file descriptor (CLIENT LIST's `fd=`).
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Applies Redis's socket options to a newly accepted stream: `TCP_NODELAY` and,
    /// when `keepalive` is non-zero, TCP keepalive probes after `keepalive` idle
    /// seconds, every third of that, three times (Redis's `anetKeepAlive`).
    pub fn configure(&self, keepalive: u32) {
        if let Stream::Tcp(s) = self {
            let _ = s.set_nodelay(true);
            if keepalive > 0 {
                let idle = Duration::from_secs(u64::from(keepalive));
                let interval = Duration::from_secs(u64::from((keepalive / 3).max(1)));
                let ka = TcpKeepalive::new()
                    .with_time(idle)
                    .with_interval(interval)
                    .with_retries(3);
                let _ = SockRef::from(s).set_tcp_keepalive(&ka);
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
        }
    }
}

/// Who is on the other end of a new connection.
#[derive(Clone, Debug)]
pub struct Peer {
    /// `ip:port` (`[ip]:port` for IPv6), or `path:0` for a Unix socket, as CLIENT LIST
    /// shows it.
    pub addr: String,
    /// Our side, in the same format.
    pub laddr: String,
    /// Whether the peer is on this host (loopback or Unix socket): protected mode
    /// refuses everyone else when no password is set.
    pub local: bool,
    /// Whether it came through the Unix socket.
    pub unix: bool,
}

/// A listening socket.
pub enum Listener {
    /// TCP on one address.
    Tcp(TcpListener),
    /// The Unix socket at `path`.
    Unix {
        /// The socket.
        listener: UnixListener,
        /// Its path.
        path: String,
    },
}

impl Listener {
    /// Accepts one connection.
    pub fn accept(&self) -> io::Result<(Stream, Peer)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept()?;
                let laddr = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                Ok((
                    Stream::Tcp(s),
                    Peer {
                        addr: peer.to_string(),
                        laddr,
                        local: peer.ip().to_canonical().is_loopback(),
                        unix: false,
                    },
                ))
            }
            Listener::Unix { listener, path } => {
                let (s, _) = listener.accept()?;
                Ok((
                    Stream::Unix(s),
                    Peer {
                        addr: format!("{path}:0"),
                        laddr: format!("{path}:0"),
                        local: true,
                        unix: true,
                    },
                ))
            }
        }
    }

    /// The bound TCP address, if this is a TCP listener.
    #[cfg(test)]
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix { .. } => None,
        }
    }
}

impl Source for Listener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(r, t, i),
            Listener::Unix { listener, .. } => listener.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(r, t, i),
            Listener::Unix { listener, .. } => listener.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(r),
            Listener::Unix { listener, .. } => listener.deregister(r),
        }
    }
}

/// Binds a non-blocking TCP listener as Redis's `anetTcpServer` does: `SO_REUSEADDR`,
/// `IPV6_V6ONLY` on IPv6 addresses, and the `tcp-backlog` queue length.
pub fn bind_tcp(addr: SocketAddr, backlog: i32) -> io::Result<Listener> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&SockAddr::from(addr))?;
    s.listen(backlog)?;
    s.set_nonblocking(true)?;
    Ok(Listener::Tcp(TcpListener::from_std(s.into())))
}

/// Binds the Unix socket at `path` (removing a stale file first, as Redis does) and
/// applies `perm` (octal mode bits; 0 leaves the umask's choice).
pub fn bind_unix(path: &str, perm: u32, backlog: i32) -> io::Result<Listener> {
    let _ = std::fs::remove_file(path);
    let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    s.bind(&SockAddr::unix(path)?)?;
    s.listen(backlog)?;
    s.set_nonblocking(true)?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    let std_listener: std::os::unix::net::UnixListener = s.into();
    Ok(Listener::Unix {
        listener: UnixListener::from_std(std_listener),
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_peers_on_loopback_are_local() {
        let l = bind_tcp("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = l.tcp_addr().unwrap();
        let _c = std::net::TcpStream::connect(addr).unwrap();
        let (s, peer) = loop {
            match l.accept() {
                Ok(x) => break x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert!(peer.local && !peer.unix);
        assert_eq!(peer.laddr, addr.to_string());
        s.configure(300);
        let Stream::Tcp(t) = &s else { panic!() };
        assert!(SockRef::from(t).keepalive().unwrap());
        assert_eq!(
            SockRef::from(t).tcp_keepalive_time().unwrap(),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn unix_socket_with_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tandem-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let p = path.to_str().unwrap();
        std::fs::write(&path, b"stale").unwrap();
        let l = bind_unix(p, 0o700, 16).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let _c = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let (_, peer) = loop {
            match l.accept() {
                Ok(x) => break x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("{e}"),
            }
        };
        assert!(peer.local && peer.unix);
        assert_eq!(peer.addr, format!("{p}:0"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
