//! TCP links (`std::net::TcpStream`).

use std::io;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::{Connector, Link};

impl Link for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn try_clone_link(&self) -> io::Result<Box<dyn Link>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn shutdown(&self) -> io::Result<()> {
        TcpStream::shutdown(self, Shutdown::Both)
    }
    fn peer(&self) -> String {
        self.peer_addr().map(|a| a.to_string()).unwrap_or_default()
    }
    fn local(&self) -> String {
        self.local_addr().map(|a| a.to_string()).unwrap_or_default()
    }
}

/// Connects over TCP, with `TCP_NODELAY` set (unless `repl-disable-tcp-nodelay`).
#[derive(Debug, Default, Clone, Copy)]
pub struct TcpConnector {
    /// Leave Nagle's algorithm on (`repl-disable-tcp-nodelay yes`).
    pub delay: bool,
}

impl Connector for TcpConnector {
    fn connect(&self, host: &str, port: u16, timeout: Duration) -> io::Result<Box<dyn Link>> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("can't resolve {host}"));
        for addr in (host, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    s.set_nodelay(!self.delay)?;
                    return Ok(Box::new(s));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
