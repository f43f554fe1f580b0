//! Helpers for tests: an engine driven by commands written as strings, with replies
//! decoded into [`Frame`]s, and a clock the test moves by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tandem_resp::Frame;

use crate::{config::Config, Clock, Core, Flow, Session};

/// A clock that only moves when told to.
#[derive(Clone, Debug)]
pub struct ManualClock(pub Arc<AtomicU64>);

impl ManualClock {
    /// A clock at `ms`.
    pub fn at(ms: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(ms)))
    }
    /// Moves time forward.
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    /// Sets the time.
    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// One client of an engine.
pub struct TestClient {
    /// The engine.
    pub engine: Core,
    /// This client's session.
    pub sess: Session,
    /// The clock of the engine (shared by every client of it).
    pub clock: ManualClock,
    /// Flow of the last command.
    pub last_flow: Flow,
}

impl TestClient {
    /// A client of a fresh engine with default configuration and a manual clock at a
    /// fixed recent time.
    pub fn new() -> Self {
        Self::with_config(&[])
    }

    /// A client of a fresh engine with some directives set.
    pub fn with_config(pairs: &[(&str, &str)]) -> Self {
        let config = Config::default();
        for (k, v) in pairs {
            let words: Vec<&str> = if v.is_empty() {
                vec![]
            } else {
                v.split(' ').collect()
            };
            config.set(k, &words).expect("valid test config");
        }
        let clock = ManualClock::at(1_700_000_000_000);
        let engine = Core::with_clock(config, Box::new(clock.clone()));
        let sess = engine.session("127.0.0.1:1".into(), "127.0.0.1:6379".into(), None);
        TestClient {
            engine,
            sess,
            clock,
            last_flow: Flow::Continue,
        }
    }

    /// Another client of the same engine.
    pub fn other(&self) -> TestClient {
        let sess = self
            .engine
            .session("127.0.0.1:2".into(), "127.0.0.1:6379".into(), None);
        TestClient {
            engine: self.engine.clone(),
            sess,
            clock: self.clock.clone(),
            last_flow: Flow::Continue,
        }
    }

    /// Runs a command and returns the raw reply bytes.
    pub fn raw(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        self.last_flow = self.engine.execute(&mut self.sess, args, &mut out);
        out
    }

    /// Runs a command given as byte strings and decodes its reply.
    pub fn call_bytes(&mut self, args: &[&[u8]]) -> Frame {
        decode_one(self.raw(args))
    }

    /// Runs a command given as strings and decodes its reply.
    pub fn call(&mut self, args: &[&str]) -> Frame {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call_bytes(&v)
    }

    /// Resumes a blocked command (after its keys were signalled or time moved); returns
    /// its reply, or `None` while it stays blocked.
    pub fn resume(&mut self) -> Option<Frame> {
        let mut out = Vec::new();
        self.engine.resume(&mut self.sess, &mut out)?;
        Some(decode_one(out))
    }

    /// Moves pending pub/sub messages out, decoded.
    pub fn messages(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        self.sess.drain_messages(&mut out);
        decode_all(out)
    }
}

impl Default for TestClient {
    fn default() -> Self {
        Self::new()
    }
}

fn decode_one(out: Vec<u8>) -> Frame {
    if out.is_empty() {
        return Frame::Null;
    }
    let b = Bytes::from(out);
    let (f, n) = Frame::decode(&b).expect("engine wrote valid RESP");
    assert_eq!(n, b.len(), "engine wrote exactly one reply");
    f
}

fn decode_all(out: Vec<u8>) -> Vec<Frame> {
    let b = Bytes::from(out);
    let mut v = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let rest = b.slice(pos..);
        let (f, n) = Frame::decode(&rest).expect("valid RESP");
        v.push(f);
        pos += n;
    }
    v
}

/// Shorthands for building expected frames.
pub mod f {
    use bytes::Bytes;
    use tandem_resp::Frame;

    /// `+s`
    pub fn simple(s: &str) -> Frame {
        Frame::Simple(Bytes::copy_from_slice(s.as_bytes()))
    }
    /// `+OK`
    pub fn ok() -> Frame {
        simple("OK")
    }
    /// `-text`
    pub fn err(s: &str) -> Frame {
        Frame::Error(Bytes::copy_from_slice(s.as_bytes()))
    }
    /// `:n`
    pub fn int(n: i64) -> Frame {
        Frame::Integer(n)
    }
    /// A bulk string.
    pub fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }
    /// Null.
    pub fn nil() -> Frame {
        Frame::Null
    }
    /// An array of bulk strings.
    pub fn bulks(items: &[&str]) -> Frame {
        Frame::Array(items.iter().map(|s| bulk(s)).collect())
    }
    /// An array.
    pub fn arr(items: Vec<Frame>) -> Frame {
        Frame::Array(items)
    }
}

/// A scratch directory under the system's temporary directory, removed on drop.
pub struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    /// A new, empty directory whose name starts with `tag`.
    pub fn new(tag: &str) -> ScratchDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tandem-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create a scratch directory");
        ScratchDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::f::*;
    use super::*;

    #[test]
    fn basic_round_trip() {
        let mut c = TestClient::new();
        assert_eq!(c.call(&["PING"]), simple("PONG"));
        assert_eq!(c.call(&["SET", "k", "v"]), ok());
        assert_eq!(c.call(&["GET", "k"]), bulk("v"));
        assert_eq!(c.call(&["GET", "nokey"]), nil());
        assert_eq!(
            c.call(&["GET"]),
            err("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            c.call(&["FOO", "a"]),
            err("ERR unknown command 'FOO', with args beginning with: 'a' ")
        );
    }

    #[test]
    fn multi_exec_and_watch() {
        let mut c = TestClient::new();
        let mut d = c.other();
        assert_eq!(c.call(&["MULTI"]), ok());
        assert_eq!(c.call(&["SET", "a", "1"]), simple("QUEUED"));
        assert_eq!(c.call(&["GET", "a"]), simple("QUEUED"));
        assert_eq!(c.call(&["EXEC"]), arr(vec![ok(), bulk("1")]));
        assert_eq!(c.call(&["WATCH", "a"]), ok());
        assert_eq!(d.call(&["SET", "a", "2"]), ok());
        c.call(&["MULTI"]);
        c.call(&["SET", "a", "3"]);
        assert_eq!(c.call(&["EXEC"]), Frame::Null);
        assert_eq!(c.call(&["GET", "a"]), bulk("2"));
        c.call(&["MULTI"]);
        c.call(&["NOSUCHCMD"]);
        assert_eq!(
            c.call(&["EXEC"]),
            err("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(c.call(&["EXEC"]), err("ERR EXEC without MULTI"));
    }

    #[test]
    fn auth_required() {
        let mut c = TestClient::with_config(&[("requirepass", "secret")]);
        assert_eq!(
            c.call(&["GET", "k"]),
            err("NOAUTH Authentication required.")
        );
        assert_eq!(
            c.call(&["AUTH", "wrong"]),
            err("WRONGPASS invalid username-password pair or user is disabled.")
        );
        assert_eq!(c.call(&["AUTH", "secret"]), ok());
        assert_eq!(c.call(&["GET", "k"]), nil());
    }
}
