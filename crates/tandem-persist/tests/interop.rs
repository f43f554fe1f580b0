//! Interoperability with a real redis-server 7.0 (skipped, with a message, when
//! `redis-server` is not installed):
//!
//! * Redis writes a dump.rdb holding every type in small and large encodings, a
//!   stream, a function library, expiries and several databases; tandem reads it (from
//!   a memory map and from a stream) and finds exactly the contents written.
//! * tandem writes a dump.rdb (with and without compression and checksum); Redis
//!   loads it, and every key, type, value, encoding and TTL is checked through RESP.
//! * Redis writes an AOF directory (RDB base + incr); tandem loads it. tandem writes an
//!   AOF directory; Redis loads it.
//!
//! Set `TANDEM_UPDATE_FIXTURES=1` to refresh `tests/fixtures/redis7-all-types.rdb`.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tandem_persist::aof::{self, AofManifest, AofVisitor};
use tandem_persist::rdb::{
    self, rtype, AuxFields, Entry, KeyMeta, OwnedValue, RdbVisitor, RdbWriter, SkipReason,
    VisitError, WriteOptions,
};
use tandem_resp::Frame;

type Model = Vec<(u64, Vec<u8>, OwnedValue, Option<i64>)>;

const FAR_FUTURE_MS: i64 = 4_102_444_800_000; // 2100-01-01

fn redis_available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    let seed = std::process::id() as u64 * 7919 + Instant::now().elapsed().as_nanos() as u64;
    for i in 0..2000u64 {
        let port = 20000 + ((seed + i * 7) % 10000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tandem-persist-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A redis-server child, killed by PID when dropped.
struct Redis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    fn start(dir: &Path, extra: &[&str]) -> Redis {
        let port = free_port();
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            dir.to_str().unwrap(),
            "--logfile",
            "redis.log",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = Redis {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut c) = Client::connect(port) {
                match c.call(&["PING"]) {
                    Frame::Simple(s) if &s[..] == b"PONG" => return r,
                    _ => {}
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start; log: {}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
    fn client(&self) -> Client {
        Client::connect(self.port).unwrap()
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client { s, buf: Vec::new() })
    }
    fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let mut out = Vec::new();
        tandem_resp::encode::command(&mut out, args);
        self.s.write_all(&out).unwrap();
    }
    fn read(&mut self) -> Frame {
        loop {
            let b = Bytes::copy_from_slice(&self.buf);
            match Frame::decode(&b) {
                Ok((f, n)) => {
                    self.buf.drain(..n);
                    return f;
                }
                Err(tandem_resp::FrameError::Incomplete) => {
                    let mut chunk = [0u8; 65536];
                    let n = self.s.read(&mut chunk).unwrap();
                    assert!(n > 0, "connection closed");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(e) => panic!("bad reply: {e}"),
            }
        }
    }
    fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send(args);
        self.read()
    }
    fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let f = self.call(args);
        assert!(
            !matches!(f, Frame::Error(_)),
            "{:?} -> {f:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect::<Vec<_>>()
        );
    }
}

fn bulks(f: Frame) -> Vec<Vec<u8>> {
    match f {
        Frame::Array(v) => v
            .into_iter()
            .map(|x| match x {
                Frame::Bulk(b) => b.to_vec(),
                o => panic!("not a bulk: {o:?}"),
            })
            .collect(),
        o => panic!("not an array: {o:?}"),
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Every type in small and large encodings, several databases, expiries.
fn model() -> Model {
    let mut m: Model = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let s = |v: &[u8]| OwnedValue::String(v.to_vec());
    m.push((0, b("s:small"), s(b"hello"), None));
    m.push((0, b("s:int8"), s(b"-5"), None));
    m.push((0, b("s:int32"), s(b"70000"), None));
    m.push((0, b("s:bigint"), s(b"9999999999"), None));
    m.push((0, b("s:notint"), s(b"007"), None));
    m.push((0, b("s:empty"), s(b""), None));
    m.push((0, b("s:lzf"), s(&b"abcabcabcabc".repeat(100)), None));
    let random: Vec<u8> = (0..3000).map(|_| b'!' + (rnd() % 90) as u8).collect();
    m.push((0, b("s:random"), s(&random), None));
    m.push((
        0,
        (0..=255u8).collect(),
        s(&(0..=255u8).rev().collect::<Vec<_>>()),
        None,
    ));
    m.push((0, b("s:ttl"), s(b"expiring"), Some(FAR_FUTURE_MS)));
    m.push((0, b("12345"), s(b"integer-looking key"), None));
    m.push((
        0,
        b("l:small"),
        OwnedValue::List(vec![b("a"), b("7"), b("-70000"), b("")]),
        None,
    ));
    m.push((
        0,
        b("l:3000"),
        OwnedValue::List(
            (0..3000)
                .map(|i| format!("item-{i}").into_bytes())
                .collect(),
        ),
        Some(FAR_FUTURE_MS + 1),
    ));
    m.push((
        0,
        b("l:fat"),
        OwnedValue::List((0..20).map(|i| vec![b'a' + i as u8; 5000]).collect()),
        None,
    ));
    m.push((
        0,
        b("set:int"),
        OwnedValue::Set(vec![
            b("1"),
            b("2"),
            b("-100"),
            b("70000"),
            b("9223372036854775807"),
        ]),
        None,
    ));
    m.push((
        0,
        b("set:int600"),
        OwnedValue::Set((0..600).map(|i| (i * 3).to_string().into_bytes()).collect()),
        None,
    ));
    m.push((
        0,
        b("set:str"),
        OwnedValue::Set(vec![b("x"), b("y"), b("12"), b("a longer member")]),
        None,
    ));
    m.push((
        0,
        b("h:small"),
        OwnedValue::Hash(vec![(b("f"), b("v")), (b("n"), b("42")), (b("e"), b(""))]),
        None,
    ));
    m.push((
        0,
        b("h:600"),
        OwnedValue::Hash(
            (0..600)
                .map(|i| {
                    (
                        format!("field:{i}").into_bytes(),
                        format!("{}", i * i).into_bytes(),
                    )
                })
                .collect(),
        ),
        None,
    ));
    m.push((
        0,
        b("h:longval"),
        OwnedValue::Hash(vec![(b("short"), b("1")), (b("long"), vec![b'L'; 100])]),
        None,
    ));
    m.push((
        0,
        b("z:small"),
        OwnedValue::ZSet(vec![
            (b("a"), 1.0),
            (b("b"), 1.5),
            (b("c"), -0.25),
            (b("d"), 0.1),
            (b("e"), 1e20),
            (b("100"), 3.0),
        ]),
        None,
    ));
    m.push((
        0,
        b("z:inf"),
        OwnedValue::ZSet(vec![(b("lo"), f64::NEG_INFINITY), (b("hi"), f64::INFINITY)]),
        None,
    ));
    m.push((
        0,
        b("z:200"),
        OwnedValue::ZSet(
            (0..200)
                .map(|i| (format!("member-{i}").into_bytes(), f64::from(i) / 7.0))
                .collect(),
        ),
        Some(FAR_FUTURE_MS + 2),
    ));
    m.push((
        0,
        b("z:longmember"),
        OwnedValue::ZSet(vec![(vec![b'm'; 80], 2.0), (b("x"), 1.0)]),
        None,
    ));
    m.push((1, b("db1:key"), s(b"in db 1"), None));
    m.push((
        1,
        b("db1:list"),
        OwnedValue::List(vec![b("x")]),
        Some(FAR_FUTURE_MS + 3),
    ));
    m.push((
        3,
        b("db3:hash"),
        OwnedValue::Hash(vec![(b("k"), b("v"))]),
        None,
    ));
    m
}

fn fill(c: &mut Client, m: &Model) {
    let mut db = u64::MAX;
    for (d, key, v, exp) in m {
        if *d != db {
            c.ok(&[b"SELECT".to_vec(), d.to_string().into_bytes()]);
            db = *d;
        }
        let mut chunks: Vec<Vec<Vec<u8>>> = Vec::new();
        match v {
            OwnedValue::String(s) => chunks.push(vec![b("SET"), key.clone(), s.clone()]),
            OwnedValue::List(items) => {
                for part in items.chunks(500) {
                    let mut cmd = vec![b("RPUSH"), key.clone()];
                    cmd.extend(part.iter().cloned());
                    chunks.push(cmd);
                }
            }
            OwnedValue::Set(items) => {
                let mut cmd = vec![b("SADD"), key.clone()];
                cmd.extend(items.iter().cloned());
                chunks.push(cmd);
            }
            OwnedValue::Hash(items) => {
                let mut cmd = vec![b("HSET"), key.clone()];
                for (f, x) in items {
                    cmd.push(f.clone());
                    cmd.push(x.clone());
                }
                chunks.push(cmd);
            }
            OwnedValue::ZSet(items) => {
                let mut cmd = vec![b("ZADD"), key.clone()];
                for (mbr, sc) in items {
                    cmd.push(tandem_resp::encode::format_double(*sc).into_bytes());
                    cmd.push(mbr.clone());
                }
                chunks.push(cmd);
            }
        }
        for cmd in chunks {
            c.ok(&cmd);
        }
        if let Some(at) = exp {
            c.ok(&[b("PEXPIREAT"), key.clone(), at.to_string().into_bytes()]);
        }
    }
    c.ok(&["SELECT", "0"]);
}

/// Reads every key of the model back through RESP and compares.
fn verify_through_resp(c: &mut Client, m: &Model) {
    let mut per_db: BTreeMap<u64, i64> = BTreeMap::new();
    for (d, ..) in m {
        *per_db.entry(*d).or_default() += 1;
    }
    for (d, n) in &per_db {
        c.ok(&[b("SELECT"), d.to_string().into_bytes()]);
        assert_eq!(c.call(&["DBSIZE"]), Frame::Integer(*n), "db {d}");
    }
    for (d, key, v, exp) in m {
        c.ok(&[b("SELECT"), d.to_string().into_bytes()]);
        let name = String::from_utf8_lossy(key).into_owned();
        let t = c.call(&[b("TYPE"), key.clone()]);
        assert_eq!(t, Frame::Simple(Bytes::from(v.type_name())), "{name}");
        let got = match v {
            OwnedValue::String(_) => match c.call(&[b("GET"), key.clone()]) {
                Frame::Bulk(x) => OwnedValue::String(x.to_vec()),
                o => panic!("{o:?}"),
            },
            OwnedValue::List(_) => {
                OwnedValue::List(bulks(c.call(&[b("LRANGE"), key.clone(), b("0"), b("-1")])))
            }
            OwnedValue::Set(_) => OwnedValue::Set(bulks(c.call(&[b("SMEMBERS"), key.clone()]))),
            OwnedValue::Hash(_) => {
                let flat = bulks(c.call(&[b("HGETALL"), key.clone()]));
                OwnedValue::Hash(
                    flat.chunks(2)
                        .map(|p| (p[0].clone(), p[1].clone()))
                        .collect(),
                )
            }
            OwnedValue::ZSet(_) => {
                let flat =
                    bulks(c.call(&[b("ZRANGE"), key.clone(), b("0"), b("-1"), b("WITHSCORES")]));
                OwnedValue::ZSet(
                    flat.chunks(2)
                        .map(|p| {
                            (
                                p[0].clone(),
                                std::str::from_utf8(&p[1]).unwrap().parse::<f64>().unwrap(),
                            )
                        })
                        .collect(),
                )
            }
        };
        assert_eq!(got.normalized(), v.clone().normalized(), "{name}");
        let want_exp = exp.unwrap_or(-1);
        assert_eq!(
            c.call(&[b("PEXPIRETIME"), key.clone()]),
            Frame::Integer(want_exp),
            "{name}"
        );
    }
    c.ok(&["SELECT", "0"]);
}

/// Encodings Redis 7.0 reports for the model's keys after loading our file.
fn check_encodings(c: &mut Client) {
    for (key, enc) in [
        ("s:int32", "int"),
        ("s:small", "embstr"),
        ("l:small", "quicklist"),
        ("l:3000", "quicklist"),
        ("set:int", "intset"),
        ("set:int600", "hashtable"),
        ("set:str", "hashtable"),
        ("h:small", "listpack"),
        ("h:600", "hashtable"),
        ("h:longval", "hashtable"),
        ("z:small", "listpack"),
        ("z:200", "skiplist"),
        ("z:longmember", "skiplist"),
    ] {
        let f = c.call(&["OBJECT", "ENCODING", key]);
        assert_eq!(f, Frame::Bulk(Bytes::from(enc)), "{key}");
    }
}

fn write_model(m: &Model, opts: WriteOptions, with_function: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), opts);
    w.aux_fields(&AuxFields {
        ctime: 1_700_000_000,
        used_mem: 1_000_000,
        ..AuxFields::default()
    })
    .unwrap();
    if with_function {
        w.function(FUNCTION.as_bytes()).unwrap();
    }
    let mut dbs: BTreeMap<u64, Vec<&(u64, Vec<u8>, OwnedValue, Option<i64>)>> = BTreeMap::new();
    for e in m {
        dbs.entry(e.0).or_default().push(e);
    }
    for (db, entries) in dbs {
        let expires = entries.iter().filter(|e| e.3.is_some()).count();
        w.select_db(db, entries.len() as u64, expires as u64)
            .unwrap();
        for (_, key, v, exp) in entries {
            w.owned_value(key, v, &KeyMeta::expiring(*exp)).unwrap();
        }
    }
    w.finish().unwrap()
}

const FUNCTION: &str =
    "#!lua name=tandemlib\nredis.register_function('tandem_one', function() return 1 end)";

#[derive(Default)]
struct Loaded {
    entries: Vec<(u64, Vec<u8>, OwnedValue, Option<i64>, u8)>,
    streams: Vec<(Vec<u8>, u64)>,
    functions: Vec<Vec<u8>>,
    aux: BTreeMap<Vec<u8>, Vec<u8>>,
    commands: Vec<Vec<Vec<u8>>>,
}

impl RdbVisitor for Loaded {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), VisitError> {
        self.aux.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> Result<(), VisitError> {
        self.functions.push(code.to_vec());
        Ok(())
    }
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.entries.push((
            e.db,
            e.key.to_vec(),
            e.value.to_owned(),
            e.expire_ms,
            e.rdb_type,
        ));
        Ok(())
    }
    fn skipped(&mut self, s: rdb::Skipped<'_>) -> Result<(), VisitError> {
        if let SkipReason::Stream { entries } = s.reason {
            self.streams.push((s.key.to_vec(), entries));
        }
        Ok(())
    }
}

impl AofVisitor for Loaded {
    fn command(&mut self, args: &[&[u8]], _offset: u64) -> Result<(), VisitError> {
        self.commands
            .push(args.iter().map(|a| a.to_vec()).collect());
        Ok(())
    }
}

fn compare_loaded(loaded: &Loaded, m: &Model) {
    let mut got: BTreeMap<(u64, Vec<u8>), (OwnedValue, Option<i64>, u8)> = BTreeMap::new();
    for (db, k, v, e, t) in &loaded.entries {
        got.insert((*db, k.clone()), (v.clone().normalized(), *e, *t));
    }
    assert_eq!(got.len(), m.len());
    for (db, key, v, exp) in m {
        let (gv, ge, _) = got
            .get(&(*db, key.clone()))
            .unwrap_or_else(|| panic!("missing {}", key.escape_ascii()));
        assert_eq!(gv, &v.clone().normalized(), "{}", key.escape_ascii());
        assert_eq!(ge, exp, "{}", key.escape_ascii());
    }
    let ty = |k: &str| got[&(0, b(k))].2;
    assert_eq!(ty("l:3000"), rtype::LIST_QUICKLIST_2);
    assert_eq!(ty("set:int"), rtype::SET_INTSET);
    assert_eq!(ty("set:int600"), rtype::SET);
    assert_eq!(ty("h:small"), rtype::HASH_LISTPACK);
    assert_eq!(ty("h:600"), rtype::HASH);
    assert_eq!(ty("z:small"), rtype::ZSET_LISTPACK);
    assert_eq!(ty("z:200"), rtype::ZSET_2);
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis7-all-types.rdb")
}

#[test]
fn redis_dump_loads_in_tandem() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipping");
        return;
    }
    let dir = temp_dir("r2t");
    let m = model();
    let redis = Redis::start(&dir, &[]);
    let mut c = redis.client();
    fill(&mut c, &m);
    // A stream with a consumer group and a pending entry, and a function library.
    for id in ["1-1", "1-2", "2-0"] {
        c.ok(&["XADD", "stream", id, "field", "value"]);
    }
    c.ok(&["XGROUP", "CREATE", "stream", "grp", "0"]);
    c.ok(&[
        "XREADGROUP",
        "GROUP",
        "grp",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "stream",
        ">",
    ]);
    c.ok(&["FUNCTION", "LOAD", FUNCTION]);
    c.ok(&["SAVE"]);
    let path = dir.join("dump.rdb");

    let mut loaded = Loaded::default();
    #[allow(unsafe_code)]
    // SAFETY: Redis finished writing the file (SAVE returned); nothing writes it now.
    let map = unsafe { tandem_persist::map_file(&path) }.unwrap();
    let summary = rdb::read_slice(&map, &mut loaded, &rdb::ReadOptions::default()).unwrap();
    assert!(matches!(summary.checksum, rdb::Checksum::Verified(_)));
    assert_eq!(summary.end, map.len() as u64);
    compare_loaded(&loaded, &m);
    assert_eq!(loaded.streams, vec![(b("stream"), 3)]);
    assert_eq!(loaded.functions, vec![b(FUNCTION)]);
    assert_eq!(loaded.aux.get(&b("redis-ver")), Some(&b("7.0.15")));

    // The same through a stream reader.
    let mut again = Loaded::default();
    let f = std::fs::File::open(&path).unwrap();
    let (s2, rest) = rdb::read_from(f, &mut again, &rdb::ReadOptions::default()).unwrap();
    assert_eq!(s2, summary);
    assert!(rest.is_empty());
    assert_eq!(again.entries, loaded.entries);

    // Re-encoding what we read gives a file Redis loads with the same contents.
    if std::env::var_os("TANDEM_UPDATE_FIXTURES").is_some() {
        std::fs::copy(&path, fixture_path()).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn committed_redis_fixture_parses() {
    let data = std::fs::read(fixture_path()).unwrap();
    let mut loaded = Loaded::default();
    let summary = rdb::read_slice(&data, &mut loaded, &rdb::ReadOptions::default()).unwrap();
    assert!(matches!(summary.checksum, rdb::Checksum::Verified(_)));
    compare_loaded(&loaded, &model());
    assert_eq!(loaded.streams, vec![(b("stream"), 3)]);
    // Damage anywhere is detected (checksum) or rejected; never a panic.
    let step = (data.len() / 700).max(1);
    for i in (0..data.len()).step_by(step) {
        let mut d = data.clone();
        d[i] ^= 0x5a;
        let mut l = Loaded::default();
        assert!(rdb::read_slice(&d, &mut l, &rdb::ReadOptions::default()).is_err());
        let mut l = Loaded::default();
        let _ = rdb::read_slice(
            &d,
            &mut l,
            &rdb::ReadOptions {
                verify_checksum: false,
            },
        );
        let mut l = Loaded::default();
        assert!(rdb::read_slice(&d[..i], &mut l, &rdb::ReadOptions::default()).is_err());
    }
}

#[test]
fn tandem_dump_loads_in_redis() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipping");
        return;
    }
    let m = model();
    for (compression, checksum) in [(true, true), (false, false)] {
        let dir = temp_dir("t2r");
        let opts = WriteOptions {
            compression,
            checksum,
            ..WriteOptions::default()
        };
        std::fs::write(dir.join("tandem.rdb"), write_model(&m, opts, true)).unwrap();
        let redis = Redis::start(&dir, &["--dbfilename", "tandem.rdb"]);
        let mut c = redis.client();
        verify_through_resp(&mut c, &m);
        check_encodings(&mut c);
        match c.call(&["FCALL", "tandem_one", "0"]) {
            Frame::Integer(1) => {}
            o => panic!("function not loaded: {o:?}"),
        }
        assert!(
            redis.log().contains("DB loaded from disk"),
            "{}",
            redis.log()
        );
        drop(redis);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn redis_aof_dir_loads_in_tandem() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipping");
        return;
    }
    let dir = temp_dir("aof-r2t");
    let redis = Redis::start(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = redis.client();
    c.ok(&["SET", "before", "1"]);
    c.ok(&["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = match c.call(&["INFO", "persistence"]) {
            Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            o => panic!("{o:?}"),
        };
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    c.ok(&["SET", "k1", "v1"]);
    c.ok(&["MULTI"]);
    c.ok(&["INCR", "n"]);
    c.ok(&["RPUSH", "l", "a", "b"]);
    c.ok(&["EXEC"]);
    c.ok(&["SELECT", "2"]);
    c.ok(&["SET", "k2", "v2", "PX", "100000"]);
    let aofdir = dir.join("appendonlydir");
    let mut loaded = Loaded::default();
    let report = aof::load_dir(
        &aofdir,
        "appendonly.aof.manifest",
        &mut loaded,
        &aof::LoadOptions::default(),
    )
    .unwrap();
    assert!(report.truncation.is_none());
    assert!(report.files[0].rdb.is_some(), "base is an RDB preamble");
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.aux.get(&b("aof-base")), Some(&b("1")));
    let names: Vec<String> = loaded
        .commands
        .iter()
        .map(|c| String::from_utf8_lossy(&c[0]).to_lowercase())
        .collect();
    assert_eq!(
        names,
        ["select", "set", "multi", "incr", "rpush", "exec", "select", "set"]
    );
    assert_eq!(loaded.commands.last().unwrap()[3], b("PXAT"));
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tandem_aof_dir_loads_in_redis() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipping");
        return;
    }
    let dir = temp_dir("aof-t2r");
    let aofdir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aofdir).unwrap();
    let mut manifest = AofManifest::default();
    let base = manifest.new_base("appendonly.aof", true);
    let incr = manifest.new_incr("appendonly.aof");
    let m = model();
    let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
    w.aux_fields(&AuxFields {
        aof_base: true,
        ..AuxFields::default()
    })
    .unwrap();
    w.select_db(0, 1, 0).unwrap();
    w.owned_value(
        b"from-base",
        &OwnedValue::List(vec![b("x"), b("y")]),
        &KeyMeta::default(),
    )
    .unwrap();
    std::fs::write(aofdir.join(&base), w.finish().unwrap()).unwrap();
    let mut cmds = Vec::new();
    aof::encode_command(&mut cmds, &["SELECT", "0"]);
    aof::encode_timestamp(&mut cmds, 1_700_000_000);
    aof::encode_command(
        &mut cmds,
        &["SET", "from-incr", "v", "PXAT", &FAR_FUTURE_MS.to_string()],
    );
    aof::encode_command(&mut cmds, &["MULTI"]);
    aof::encode_command(&mut cmds, &["HSET", "h", "f", "1"]);
    aof::encode_command(&mut cmds, &["EXEC"]);
    std::fs::write(aofdir.join(&incr), &cmds).unwrap();
    std::fs::write(aofdir.join("appendonly.aof.manifest"), manifest.to_text()).unwrap();
    let redis = Redis::start(
        &dir,
        &["--appendonly", "yes", "--aof-timestamp-enabled", "yes"],
    );
    let mut c = redis.client();
    assert_eq!(
        bulks(c.call(&["LRANGE", "from-base", "0", "-1"])),
        vec![b("x"), b("y")]
    );
    assert_eq!(c.call(&["GET", "from-incr"]), Frame::Bulk(Bytes::from("v")));
    assert_eq!(
        c.call(&["PEXPIRETIME", "from-incr"]),
        Frame::Integer(FAR_FUTURE_MS)
    );
    assert_eq!(c.call(&["HGET", "h", "f"]), Frame::Bulk(Bytes::from("1")));
    let _ = m;
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Default)]
struct Spans {
    starts: Vec<(u64, Option<(Vec<u8>, OwnedValue, Option<i64>)>)>,
}

impl RdbVisitor for Spans {
    fn entry(&mut self, e: Entry<'_>) -> Result<(), VisitError> {
        self.starts.push((
            e.offset,
            Some((e.key.to_vec(), e.value.to_owned(), e.expire_ms)),
        ));
        Ok(())
    }
    fn skipped(&mut self, s: rdb::Skipped<'_>) -> Result<(), VisitError> {
        self.starts.push((s.offset, None));
        Ok(())
    }
}

/// Every entry of Redis's own file, re-encoded alone by our writer, gives the same
/// bytes: same encodings, same quicklist node boundaries, same LZF output.
#[test]
fn writer_reproduces_redis_entries_byte_for_byte() {
    let data = std::fs::read(fixture_path()).unwrap();
    let mut spans = Spans::default();
    rdb::read_slice(&data, &mut spans, &rdb::ReadOptions::default()).unwrap();
    let eof = data.len() - 9;
    let mut compared = 0;
    for (i, (start, entry)) in spans.starts.iter().enumerate() {
        let Some((key, value, exp)) = entry else {
            continue;
        };
        let end = spans.starts.get(i + 1).map(|s| s.0 as usize).unwrap_or(eof);
        let theirs = &data[*start as usize..end];
        let mut w = RdbWriter::new(Vec::new(), WriteOptions::default());
        match value {
            // Redis writes skiplists highest score first: give them in that order.
            OwnedValue::ZSet(v) => w
                .zset(
                    key,
                    &KeyMeta::expiring(*exp),
                    v.len(),
                    v.iter().map(|(m, s)| (m, *s)),
                )
                .unwrap(),
            _ => w.owned_value(key, value, &KeyMeta::expiring(*exp)).unwrap(),
        }
        let out = w.finish().unwrap();
        let ours = &out[9..out.len() - 9];
        // The last entry of a database is followed by the next SELECTDB.
        let theirs = if theirs.len() > ours.len() && theirs[ours.len()] == 0xFE {
            &theirs[..ours.len()]
        } else {
            theirs
        };
        if ours != theirs {
            let first = ours
                .iter()
                .zip(theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(theirs.len()));
            panic!(
                "entry {}: ours {} bytes, Redis {} bytes, first difference at {first}: ours {:?} theirs {:?}",
                key.escape_ascii(),
                ours.len(),
                theirs.len(),
                &ours[first.saturating_sub(4)..(first + 12).min(ours.len())],
                &theirs[first.saturating_sub(4)..(first + 12).min(theirs.len())]
            );
        }
        compared += 1;
    }
    assert_eq!(compared, model().len());
}
