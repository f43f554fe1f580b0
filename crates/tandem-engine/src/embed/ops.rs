//! Typed operations on one database: each is the Redis command of the same name run
//! through the engine (so it is checked, propagated to replicas and the AOF, and counted
//! exactly as if a client had sent it), with its reply decoded into Rust types.
//!
//! Replies are decoded straight from the RESP bytes the command wrote, without building
//! a [`Frame`] for the common single-value replies.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tandem_resp::Frame;

use super::wait::{decode, run_pooled};
use super::{Error, ErrorKind, Inner, Result};

/// Time to live of a key ([`Db::ttl`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist.
    Missing,
    /// The key exists and never expires.
    Persistent,
    /// The key expires after this long.
    Expires(Duration),
}

/// One database of an engine. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    index: usize,
}

thread_local! {
    static REPLY: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

fn bad_reply(r: &[u8]) -> Error {
    let shown = &r[..r.len().min(40)];
    Error::new(
        ErrorKind::Command,
        format!(
            "unexpected reply {:?}",
            String::from_utf8_lossy(shown).as_ref()
        ),
    )
}

/// The line after the type byte, and what follows its CRLF.
fn line(r: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = r.windows(2).position(|w| w == b"\r\n")?;
    Some((&r[1..end], &r[end + 2..]))
}

fn parse_bulk(r: &[u8]) -> Result<Option<Vec<u8>>> {
    bulk_ref(r).map(|v| v.map(<[u8]>::to_vec))
}

/// A bulk reply's payload, borrowed from the reply (`None` for a null reply).
fn bulk_ref(r: &[u8]) -> Result<Option<&[u8]>> {
    match r.first() {
        Some(b'$') => {
            let (len, rest) = line(r).ok_or_else(|| bad_reply(r))?;
            if len == b"-1" {
                return Ok(None);
            }
            let n = tandem_resp::parse_i64(len)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad_reply(r))?;
            rest.get(..n).map(Some).ok_or_else(|| bad_reply(r))
        }
        Some(b'_') => Ok(None),
        _ => Err(bad_reply(r)),
    }
}

fn parse_int(r: &[u8]) -> Result<i64> {
    if r.first() != Some(&b':') {
        return Err(bad_reply(r));
    }
    let (n, _) = line(r).ok_or_else(|| bad_reply(r))?;
    tandem_resp::parse_i64(n).ok_or_else(|| bad_reply(r))
}

fn parse_ok(r: &[u8]) -> Result<()> {
    if r.first() == Some(&b'+') {
        Ok(())
    } else {
        Err(bad_reply(r))
    }
}

fn bytes_of(f: Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim(b) => Some(b.to_vec()),
        _ => None,
    }
}

fn list_of(f: Frame) -> Result<Vec<Vec<u8>>> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v
            .into_iter()
            .map(|x| bytes_of(x).ok_or_else(|| Error::new(ErrorKind::Command, "not a string")))
            .collect(),
        Frame::Null => Ok(Vec::new()),
        other => Err(Error::new(
            ErrorKind::Command,
            format!("unexpected reply {other:?}"),
        )),
    }
}

fn float_of(f: &Frame) -> Option<f64> {
    match f {
        Frame::Double(d) => Some(*d),
        Frame::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn ms(d: Duration) -> Vec<u8> {
    d.as_millis().max(1).to_string().into_bytes()
}

impl Db {
    pub(crate) fn new(inner: Arc<Inner>, index: usize) -> Db {
        Db { inner, index }
    }

    /// This database's number.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Runs `argv` and hands its raw RESP2 reply to `f`; an error reply is an `Err`.
    fn raw<T>(&self, argv: &[&[u8]], f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        REPLY.with(|cell| {
            // A re-entrant call (from a log sink, say) gets a buffer of its own.
            let mut own;
            let mut borrowed = cell.try_borrow_mut();
            let out: &mut Vec<u8> = match borrowed.as_mut() {
                Ok(b) => b,
                Err(_) => {
                    own = Vec::new();
                    &mut own
                }
            };
            out.clear();
            run_pooled(&self.inner, self.index, argv, out)?;
            if out.first() == Some(&b'-') {
                let (text, _) = line(out).unwrap_or((&out[1..], &[]));
                return Err(Error::from_reply(text));
            }
            let r = f(out);
            if out.capacity() > 64 * 1024 {
                *out = Vec::with_capacity(256);
            }
            r
        })
    }

    /// Runs any command in this database and returns its reply; an error reply is
    /// [`Frame::Error`]. Nothing carries over between calls (use
    /// [`super::Engine::client`] for MULTI, WATCH or SELECT).
    pub fn execute(&self, argv: &[&[u8]]) -> Frame {
        let mut out = Vec::with_capacity(64);
        match run_pooled(&self.inner, self.index, argv, &mut out) {
            Ok(()) => decode(out),
            Err(e) => Frame::Error(format!("ERR {e}").into()),
        }
    }

    /// Like [`Db::execute`], with an error reply as an `Err`.
    pub fn command(&self, argv: &[&[u8]]) -> Result<Frame> {
        match self.execute(argv) {
            Frame::Error(t) => Err(Error::from_reply(&t)),
            f => Ok(f),
        }
    }

    fn frame(&self, argv: &[&[u8]]) -> Result<Frame> {
        self.raw(argv, |r| Ok(decode(r.to_vec())))
    }

    pub(crate) fn ok_command(&self, argv: &[&[u8]]) -> Result<()> {
        self.raw(argv, |_| Ok(()))
    }

    fn count(&self, argv: &[&[u8]]) -> Result<u64> {
        self.raw(argv, parse_int).map(|n| n.max(0) as u64)
    }

    fn flag(&self, argv: &[&[u8]]) -> Result<bool> {
        self.raw(argv, parse_int).map(|n| n == 1)
    }

    fn with_keys<'a>(cmd: &'a [u8], key: &'a [u8], rest: &[&'a [u8]]) -> Vec<&'a [u8]> {
        let mut argv = Vec::with_capacity(rest.len() + 2);
        argv.push(cmd);
        argv.push(key);
        argv.extend_from_slice(rest);
        argv
    }

    // ---- strings --------------------------------------------------------------------

    /// `GET key`: the value, or `None` when the key does not exist.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.raw(&[b"GET", key], parse_bulk)
    }

    /// `GET key`, handing the value (`None` when the key does not exist) to `f` while it
    /// is still in the reply buffer, so a caller copying it elsewhere copies it once.
    pub fn get_with<T>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> T) -> Result<T> {
        self.raw(&[b"GET", key], |r| bulk_ref(r).map(f))
    }

    /// `SET key value`.
    pub fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.raw(&[b"SET", key, value], parse_ok)
    }

    /// `SET key value PX ttl`.
    pub fn set_ex(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<()> {
        self.raw(&[b"SET", key, value, b"PX", &ms(ttl)], parse_ok)
    }

    /// `SET key value NX`: whether the key was set (it did not exist).
    pub fn set_nx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.raw(&[b"SET", key, value, b"NX"], |r| {
            Ok(r.first() == Some(&b'+'))
        })
    }

    /// `MGET key…`: one value (or `None`) per key.
    pub fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut argv: Vec<&[u8]> = vec![b"MGET"];
        argv.extend_from_slice(keys);
        match self.frame(&argv)? {
            Frame::Array(v) => Ok(v.into_iter().map(bytes_of).collect()),
            other => Err(Error::new(
                ErrorKind::Command,
                format!("unexpected reply {other:?}"),
            )),
        }
    }

    /// `MSET key value …`.
    pub fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        let mut argv: Vec<&[u8]> = vec![b"MSET"];
        for (k, v) in pairs {
            argv.push(k);
            argv.push(v);
        }
        self.raw(&argv, parse_ok)
    }

    /// `INCRBY key by`: the new value.
    pub fn incr_by(&self, key: &[u8], by: i64) -> Result<i64> {
        self.raw(&[b"INCRBY", key, by.to_string().as_bytes()], parse_int)
    }

    /// `APPEND key value`: the new length.
    pub fn append(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        self.count(&[b"APPEND", key, value])
    }

    // ---- keys -----------------------------------------------------------------------

    /// `DEL key…`: how many existed.
    pub fn del(&self, keys: &[&[u8]]) -> Result<u64> {
        let mut argv: Vec<&[u8]> = vec![b"DEL"];
        argv.extend_from_slice(keys);
        self.count(&argv)
    }

    /// `EXISTS key`.
    pub fn exists(&self, key: &[u8]) -> Result<bool> {
        self.flag(&[b"EXISTS", key])
    }

    /// `PEXPIRE key ttl`: whether the key exists (and now expires).
    pub fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool> {
        self.flag(&[b"PEXPIRE", key, &ms(ttl)])
    }

    /// `PERSIST key`: whether a TTL was removed.
    pub fn persist(&self, key: &[u8]) -> Result<bool> {
        self.flag(&[b"PERSIST", key])
    }

    /// `PTTL key`.
    pub fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        self.raw(&[b"PTTL", key], parse_int).map(|n| match n {
            -2 => Ttl::Missing,
            -1 => Ttl::Persistent,
            n => Ttl::Expires(Duration::from_millis(n.max(0) as u64)),
        })
    }

    /// `TYPE key`: `"string"`, `"list"`, `"set"`, `"zset"`, `"hash"`, or `None`.
    pub fn key_type(&self, key: &[u8]) -> Result<Option<String>> {
        self.raw(&[b"TYPE", key], |r| {
            let (t, _) = line(r).ok_or_else(|| bad_reply(r))?;
            Ok((t != b"none").then(|| String::from_utf8_lossy(t).into_owned()))
        })
    }

    /// `RENAME key newkey`.
    pub fn rename(&self, key: &[u8], new_key: &[u8]) -> Result<()> {
        self.raw(&[b"RENAME", key, new_key], parse_ok)
    }

    /// `DBSIZE`.
    pub fn dbsize(&self) -> Result<u64> {
        self.count(&[b"DBSIZE"])
    }

    /// `FLUSHDB`.
    pub fn flushdb(&self) -> Result<()> {
        self.raw(&[b"FLUSHDB"], parse_ok)
    }

    /// Every key matching the glob `pattern` (`*` for all), by `SCAN`: keys present
    /// for the whole iteration are returned once; others may or may not be.
    pub fn scan(&self, pattern: &[u8]) -> Scan {
        Scan {
            db: self.clone(),
            pattern: pattern.to_vec(),
            cursor: b"0".to_vec(),
            buffered: VecDeque::new(),
            done: false,
        }
    }

    // ---- hashes ---------------------------------------------------------------------

    /// `HSET key field value`: whether the field is new.
    pub fn hset(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        self.flag(&[b"HSET", key, field, value])
    }

    /// `HSET key field value …`: how many fields are new.
    pub fn hset_many(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<u64> {
        let mut argv: Vec<&[u8]> = vec![b"HSET", key];
        for (f, v) in pairs {
            argv.push(f);
            argv.push(v);
        }
        self.count(&argv)
    }

    /// `HGET key field`.
    pub fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        self.raw(&[b"HGET", key, field], parse_bulk)
    }

    /// `HDEL key field…`: how many existed.
    pub fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"HDEL", key, fields))
    }

    /// `HGETALL key`: field/value pairs.
    pub fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let flat = list_of(self.frame(&[b"HGETALL", key])?)?;
        let mut it = flat.into_iter();
        let mut pairs = Vec::new();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            pairs.push((f, v));
        }
        Ok(pairs)
    }

    /// `HLEN key`.
    pub fn hlen(&self, key: &[u8]) -> Result<u64> {
        self.count(&[b"HLEN", key])
    }

    /// `HINCRBY key field by`: the new value.
    pub fn hincr_by(&self, key: &[u8], field: &[u8], by: i64) -> Result<i64> {
        self.raw(
            &[b"HINCRBY", key, field, by.to_string().as_bytes()],
            parse_int,
        )
    }

    // ---- lists ----------------------------------------------------------------------

    /// `LPUSH key value…`: the new length.
    pub fn lpush(&self, key: &[u8], values: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"LPUSH", key, values))
    }

    /// `RPUSH key value…`: the new length.
    pub fn rpush(&self, key: &[u8], values: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"RPUSH", key, values))
    }

    /// `LPOP key`.
    pub fn lpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.raw(&[b"LPOP", key], parse_bulk)
    }

    /// `RPOP key`.
    pub fn rpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.raw(&[b"RPOP", key], parse_bulk)
    }

    /// `LRANGE key start stop` (negative indexes count from the end).
    pub fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        let (s, e) = (start.to_string(), stop.to_string());
        list_of(self.frame(&[b"LRANGE", key, s.as_bytes(), e.as_bytes()])?)
    }

    /// `LLEN key`.
    pub fn llen(&self, key: &[u8]) -> Result<u64> {
        self.count(&[b"LLEN", key])
    }

    // ---- sets -----------------------------------------------------------------------

    /// `SADD key member…`: how many were new.
    pub fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"SADD", key, members))
    }

    /// `SREM key member…`: how many were there.
    pub fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"SREM", key, members))
    }

    /// `SISMEMBER key member`.
    pub fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        self.flag(&[b"SISMEMBER", key, member])
    }

    /// `SMEMBERS key` (in no particular order).
    pub fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        list_of(self.frame(&[b"SMEMBERS", key])?)
    }

    /// `SCARD key`.
    pub fn scard(&self, key: &[u8]) -> Result<u64> {
        self.count(&[b"SCARD", key])
    }

    // ---- sorted sets ----------------------------------------------------------------

    /// `ZADD key score member`: whether the member is new.
    pub fn zadd(&self, key: &[u8], score: f64, member: &[u8]) -> Result<bool> {
        if score.is_nan() {
            return Err(Error::new(ErrorKind::InvalidArgument, "score is NaN"));
        }
        let s = tandem_resp::encode::format_double(score);
        self.flag(&[b"ZADD", key, s.as_bytes(), member])
    }

    /// `ZSCORE key member`.
    pub fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        let f = self.frame(&[b"ZSCORE", key, member])?;
        Ok(float_of(&f))
    }

    /// `ZREM key member…`: how many were there.
    pub fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<u64> {
        self.count(&Self::with_keys(b"ZREM", key, members))
    }

    /// `ZINCRBY key by member`: the new score.
    pub fn zincr_by(&self, key: &[u8], by: f64, member: &[u8]) -> Result<f64> {
        let s = tandem_resp::encode::format_double(by);
        let f = self.frame(&[b"ZINCRBY", key, s.as_bytes(), member])?;
        float_of(&f).ok_or_else(|| Error::new(ErrorKind::Command, "unexpected reply"))
    }

    /// `ZRANGE key start stop WITHSCORES`: members by rank, with scores.
    pub fn zrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<(Vec<u8>, f64)>> {
        let (s, e) = (start.to_string(), stop.to_string());
        let f = self.frame(&[b"ZRANGE", key, s.as_bytes(), e.as_bytes(), b"WITHSCORES"])?;
        let Frame::Array(v) = f else {
            return Ok(Vec::new());
        };
        let mut it = v.into_iter();
        let mut out = Vec::new();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let score = float_of(&s).ok_or_else(|| Error::new(ErrorKind::Command, "bad score"))?;
            out.push((bytes_of(m).unwrap_or_default(), score));
        }
        Ok(out)
    }

    /// `ZCARD key`.
    pub fn zcard(&self, key: &[u8]) -> Result<u64> {
        self.count(&[b"ZCARD", key])
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("index", &self.index).finish()
    }
}

/// The keys of a database, fetched by `SCAN` in batches ([`Db::scan`]).
pub struct Scan {
    db: Db,
    pattern: Vec<u8>,
    cursor: Vec<u8>,
    buffered: VecDeque<Vec<u8>>,
    done: bool,
}

impl Iterator for Scan {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(k) = self.buffered.pop_front() {
                return Some(Ok(k));
            }
            if self.done {
                return None;
            }
            let argv: [&[u8]; 6] = [
                b"SCAN",
                &self.cursor,
                b"MATCH",
                &self.pattern,
                b"COUNT",
                b"256",
            ];
            let reply = match self.db.frame(&argv) {
                Ok(Frame::Array(mut v)) if v.len() == 2 => {
                    let keys = v.pop();
                    let cursor = v.pop().and_then(bytes_of);
                    (cursor, keys.map(list_of))
                }
                Ok(_) => (None, None),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            match reply {
                (Some(c), Some(Ok(keys))) => {
                    self.done = c == b"0";
                    self.cursor = c;
                    self.buffered.extend(keys);
                }
                _ => {
                    self.done = true;
                    return Some(Err(Error::new(ErrorKind::Command, "bad SCAN reply")));
                }
            }
        }
    }
}
