//! Transports for replication links.
//!
//! Replication is written against [`Link`] (a blocking, bidirectional byte stream that
//! can be cloned into a reader half and a writer half, with read timeouts and shutdown)
//! and [`Connector`] (how a replica reaches its master). [`tcp`] implements them over
//! `std::net::TcpStream`; [`mem`] implements them in memory, with controls to cut,
//! stall and heal links, so tests exercise the same replication code without sockets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mem;
pub mod tcp;

use std::io::{self, Read, Write};
use std::time::Duration;

/// A connected, bidirectional byte stream.
pub trait Link: Read + Write + Send {
    /// Sets how long a read may wait (`None` = forever). A read that times out fails with
    /// `WouldBlock` or `TimedOut`.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Another handle to the same stream (e.g. a reader thread and a writer thread).
    fn try_clone_link(&self) -> io::Result<Box<dyn Link>>;
    /// Closes both directions; blocked reads on any handle return.
    fn shutdown(&self) -> io::Result<()>;
    /// The peer's address as `ip:port` (or a name for in-memory links).
    fn peer(&self) -> String;
    /// Our side's address.
    fn local(&self) -> String;
}

/// Opens links to masters.
pub trait Connector: Send + Sync {
    /// Connects to `host:port` within `timeout`.
    fn connect(&self, host: &str, port: u16, timeout: Duration) -> io::Result<Box<dyn Link>>;
}

/// Whether an I/O error is a read timeout.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
