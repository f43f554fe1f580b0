//! A host-provided transport: `tandem_transport`'s callbacks as a
//! [`tandem_transport::Connector`] and [`Link`], so a replica reaches its master over the
//! host's own channel.
//!
//! One connection (`conn`) is shared by every clone of its link (the replica reads on
//! one handle and writes on another), so `read` and `write` may run at once on two
//! threads for the same `conn`. `shutdown` (optional) is called at most once, to unblock
//! a read when the link is stopped; after it no read or write starts; `close` is called
//! exactly once per successful `connect`, after every read and write has returned.

use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ::tandem_transport::{Connector, Link};

use crate::config::HostPtr;
use crate::util::{Fail, Res};

/// Special results of a transport's `read`/`write` callbacks.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tandem_io_status {
    /// `read`: the peer closed the connection.
    TANDEM_IO_CLOSED = 0,
    /// A failure: tandem drops the connection and reconnects later.
    TANDEM_IO_ERROR = -1,
    /// `read`: nothing arrived within the host's read timeout; tandem calls again. A
    /// read should time out within a second or so, unless the host implements
    /// `shutdown`, so that tandem can stop the link promptly.
    TANDEM_IO_TIMEOUT = -2,
}

/// Callbacks through which the engine reaches a master (`tandem_config_set_transport`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct tandem_transport {
    /// Passed to `connect`.
    pub user: *mut c_void,
    /// Opens a connection to `host:port` and stores its handle in `*conn_out`; returns 0
    /// on success, anything else on failure.
    pub connect: Option<
        unsafe extern "C" fn(
            user: *mut c_void,
            host: *const c_char,
            port: u16,
            conn_out: *mut *mut c_void,
        ) -> c_int,
    >,
    /// Reads up to `cap` bytes: the count read, `TANDEM_IO_CLOSED` (0) at the end,
    /// `TANDEM_IO_TIMEOUT` when nothing arrived in time, another negative on error.
    pub read: Option<unsafe extern "C" fn(conn: *mut c_void, buf: *mut u8, cap: usize) -> c_long>,
    /// Writes up to `len` bytes: the count written (at least 1), negative on error.
    pub write:
        Option<unsafe extern "C" fn(conn: *mut c_void, buf: *const u8, len: usize) -> c_long>,
    /// Releases the connection; called once, after its last read and write returned.
    pub close: Option<unsafe extern "C" fn(conn: *mut c_void)>,
    /// Optional (may be NULL): makes a blocked `read` return (`TANDEM_IO_CLOSED` or an
    /// error) because tandem is stopping the link; called at most once per connection.
    pub shutdown: Option<unsafe extern "C" fn(conn: *mut c_void)>,
}

type ConnectFn = unsafe extern "C" fn(*mut c_void, *const c_char, u16, *mut *mut c_void) -> c_int;
type ReadFn = unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_long;
type WriteFn = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_long;
type ConnFn = unsafe extern "C" fn(*mut c_void);

/// The host's callbacks, checked for NULL once.
#[derive(Clone, Copy)]
struct Callbacks {
    read: ReadFn,
    write: WriteFn,
    close: ConnFn,
    shutdown: Option<ConnFn>,
}

/// The `Connector` over a host's `tandem_transport`.
pub(crate) struct CTransport {
    user: HostPtr,
    connect: ConnectFn,
    calls: Callbacks,
}

impl CTransport {
    pub(crate) fn new(t: &tandem_transport) -> Res<CTransport> {
        let missing = |what: &str| Fail::null(&format!("transport->{what}"));
        Ok(CTransport {
            user: HostPtr(t.user),
            connect: t.connect.ok_or_else(|| missing("connect"))?,
            calls: Callbacks {
                read: t.read.ok_or_else(|| missing("read"))?,
                write: t.write.ok_or_else(|| missing("write"))?,
                close: t.close.ok_or_else(|| missing("close"))?,
                shutdown: t.shutdown,
            },
        })
    }
}

impl Connector for CTransport {
    fn connect(&self, host: &str, port: u16, _timeout: Duration) -> io::Result<Box<dyn Link>> {
        let c_host = CString::new(host)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "host contains a NUL byte"))?;
        let mut conn: *mut c_void = std::ptr::null_mut();
        // SAFETY: the host registered `connect` with `user`; `c_host` is NUL-terminated
        // and outlives the call; `conn` is a valid place for the handle.
        let rc = unsafe { (self.connect)(self.user.0, c_host.as_ptr(), port, &mut conn) };
        if rc != 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("the host transport could not connect to {host}:{port} ({rc})"),
            ));
        }
        Ok(Box::new(CLink {
            conn: Arc::new(Conn {
                conn: HostPtr(conn),
                calls: self.calls,
                shut: AtomicBool::new(false),
            }),
            peer: format!("{host}:{port}"),
        }))
    }
}

/// One host connection; closed when the last link handle to it is dropped.
struct Conn {
    conn: HostPtr,
    calls: Callbacks,
    shut: AtomicBool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the last handle is gone, so no read or write is running; `close` is
        // called once for the connection `connect` gave us.
        unsafe { (self.calls.close)(self.conn.0) };
    }
}

struct CLink {
    conn: Arc<Conn>,
    peer: String,
}

impl Read for CLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.conn.shut.load(Ordering::Acquire) || buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: `buf` is writable for `buf.len()` bytes; the connection is open (it is
        // closed only when the last handle drops).
        let n = unsafe { (self.conn.calls.read)(self.conn.conn.0, buf.as_mut_ptr(), buf.len()) };
        match n {
            n if n == tandem_io_status::TANDEM_IO_TIMEOUT as c_long => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "host transport read timed out",
            )),
            n if n < 0 => Err(io::Error::other(format!(
                "host transport read failed ({n})"
            ))),
            n => match usize::try_from(n) {
                Ok(n) if n <= buf.len() => Ok(n),
                _ => Err(io::Error::other(format!(
                    "host transport read returned {n} for a {}-byte buffer",
                    buf.len()
                ))),
            },
        }
    }
}

impl Write for CLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.conn.shut.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the link was shut down",
            ));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: `buf` is readable for `buf.len()` bytes; the connection is open.
        let n = unsafe { (self.conn.calls.write)(self.conn.conn.0, buf.as_ptr(), buf.len()) };
        match usize::try_from(n) {
            Ok(n) if n <= buf.len() => Ok(n),
            _ => Err(io::Error::other(format!(
                "host transport write failed ({n})"
            ))),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Link for CLink {
    fn set_read_timeout(&mut self, _timeout: Option<Duration>) -> io::Result<()> {
        // The host's read decides how long it waits (TANDEM_IO_TIMEOUT).
        Ok(())
    }

    fn try_clone_link(&self) -> io::Result<Box<dyn Link>> {
        Ok(Box::new(CLink {
            conn: self.conn.clone(),
            peer: self.peer.clone(),
        }))
    }

    fn shutdown(&self) -> io::Result<()> {
        if !self.conn.shut.swap(true, Ordering::AcqRel) {
            if let Some(f) = self.conn.calls.shutdown {
                // SAFETY: the connection is open (we hold a handle); called once.
                unsafe { f(self.conn.conn.0) };
            }
        }
        Ok(())
    }

    fn peer(&self) -> String {
        self.peer.clone()
    }

    fn local(&self) -> String {
        "host-transport".to_string()
    }
}
