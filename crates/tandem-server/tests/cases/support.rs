//! Starting the built `tandem-server` on a free loopback port and talking raw RESP to it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tandem_resp::{Frame, FrameError};

pub const BIN: &str = env!("CARGO_BIN_EXE_tandem-server");

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory, removed by [`TempDir`]'s drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tandem-server-test-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nobody listens on right now (bind port 0, read it, let it go).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A running server; dropping it kills the process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Server {
    /// Starts a server with `--port <free> --save "" --logfile <dir>/server.log` plus
    /// `extra`, and waits until it answers PING.
    pub fn start(extra: &[&str]) -> Server {
        for _ in 0..5 {
            let dir = TempDir::new();
            let port = free_port();
            let log = dir.path("server.log");
            let mut args: Vec<String> = vec![
                "--port".into(),
                port.to_string(),
                "--save".into(),
                "".into(),
                "--logfile".into(),
                log.to_str().expect("utf-8 path").into(),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            let child = Command::new(BIN)
                .args(&args)
                .current_dir(&dir.0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn tandem-server");
            let mut s = Server { child, port, dir };
            if s.wait_ready() {
                return s;
            }
            // The port was taken meanwhile (or start failed): try another.
        }
        panic!("tandem-server did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::try_connect(self.port) {
                if let Ok(r) = c.try_cmd(&["PING"]) {
                    if r == b"+PONG\r\n" || r.starts_with(b"-NOAUTH") {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory in kB, from /proc.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS line")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path("server.log")).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Sends a signal with the `kill` utility (the tests use no `unsafe` either).
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([format!("-{sig}"), self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(st.success());
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Whether the engine knows `cmd` (other families may not have landed yet).
    pub fn has_command(&self, args: &[&str]) -> bool {
        let reply = self.client().cmd(args);
        !reply.starts_with(b"-ERR unknown command")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a process by pid when dropped (for daemonized servers we did not spawn).
pub struct PidGuard(pub u32);

impl Drop for PidGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// Encodes a command as a RESP multibulk.
pub fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A raw RESP connection.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn try_connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buf: Vec::new(),
        })
    }

    pub fn connect(port: u16) -> Client {
        Client::try_connect(port).expect("connect to tandem-server")
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Reads exactly one reply and returns its raw bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply().expect("read a reply")
    }

    pub fn try_read_reply(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if !self.buf.is_empty() {
                let b = Bytes::copy_from_slice(&self.buf);
                match Frame::decode(&b) {
                    Ok((_, n)) => return Ok(self.buf.drain(..n).collect()),
                    Err(FrameError::Incomplete) => {}
                    Err(e) => panic!("bad reply {e}: {:?}", String::from_utf8_lossy(&self.buf)),
                }
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            let mut chunk = vec![0u8; (n - self.buf.len()).min(1 << 20)];
            let got = self.stream.read(&mut chunk).expect("read from server");
            assert!(
                got > 0,
                "server closed after {} of {n} bytes",
                self.buf.len()
            );
            self.buf.extend_from_slice(&chunk[..got]);
        }
        self.buf.drain(..n).collect()
    }

    pub fn try_cmd(&mut self, args: &[&str]) -> std::io::Result<Vec<u8>> {
        self.stream.write_all(&resp(args))?;
        self.try_read_reply()
    }

    /// Sends a command and returns its raw reply.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(&resp(args));
        self.read_reply()
    }

    /// Sends a command and checks the exact reply bytes.
    pub fn expect(&mut self, args: &[&str], reply: &[u8]) {
        let got = self.cmd(args);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(reply),
            "reply to {args:?}"
        );
    }

    /// Reads everything until the server closes (a reset counts as closed); panics if it
    /// stays open past `timeout`.
    pub fn read_to_close(&mut self, timeout: Duration) -> Vec<u8> {
        self.stream
            .set_read_timeout(Some(timeout))
            .expect("set timeout");
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    ) =>
                {
                    return out
                }
                Err(e) => panic!(
                    "connection still open after {timeout:?} ({e}); got {:?}",
                    String::from_utf8_lossy(&out)
                ),
            }
        }
    }

    /// Whether the connection is still open and quiet for `wait`.
    pub fn is_open_and_quiet(&mut self, wait: Duration) -> bool {
        self.stream
            .set_read_timeout(Some(wait))
            .expect("set timeout");
        let mut b = [0u8; 1];
        let open = matches!(self.stream.read(&mut b), Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut));
        self.stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("set timeout");
        open
    }
}

/// Runs the server binary to completion with `args`, returning (status, stdout, stderr).
pub fn run_to_exit(args: &[&str], cwd: &Path) -> (ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tandem-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tandem-server {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
