//! Engine-level persistence tests: RDB and AOF round trips of every type, point-in-time
//! BGSAVE under concurrent writes, group commit, rewrites, damaged files, INFO.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem_keyspace::{Hash, List, Object, Set, Ttl, Value, ZSet};
use tandem_resp::Frame;

use crate::testkit::{f::*, TestClient};
use crate::{ClientHandle, Durability, Notify};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "tandem-persist-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tandem-persist/tests/fixtures")
        .join(name)
}

/// A client of a fresh engine keeping its files in `dir`.
fn client(dir: &Dir, extra: &[(&str, &str)]) -> TestClient {
    let mut cfg = vec![("dir", dir.s()), ("enable-debug-command", "yes")];
    cfg.extend_from_slice(extra);
    TestClient::with_config(&cfg)
}

/// A client whose engine loaded its data from `dir`.
fn loaded(dir: &Dir, extra: &[(&str, &str)]) -> TestClient {
    let c = client(dir, extra);
    c.engine.shared().load_from_disk().expect("load");
    c
}

fn digest(c: &mut TestClient) -> Frame {
    c.call(&["DEBUG", "DIGEST"])
}

const NOW: u64 = 1_700_000_000_000;

/// Every type, small and large encodings, TTLs, several databases.
fn fill(c: &TestClient) {
    let ks = &c.engine.shared().keyspace;
    let put = |db: usize, key: &str, v: Value, ttl: Ttl| {
        let mut g = ks.lock_key(db, key.as_bytes(), NOW);
        g.set(db, key.as_bytes(), v, ttl);
    };
    for db in [0usize, 3, 15] {
        put(db, "s", Value::Str(b"hello".to_vec()), Ttl::Clear);
        put(db, "int", Value::Str(b"-70000".to_vec()), Ttl::Clear);
        put(
            db,
            "big",
            Value::Str(vec![b'x'; 5000]),
            Ttl::At(NOW + 100_000),
        );
        let mut l = List::new();
        for i in 0..3 {
            l.push_back(format!("e{i}").as_bytes());
        }
        put(db, "lsmall", Value::Obj(Object::List(l)), Ttl::Clear);
        let mut l = List::new();
        for i in 0..3000 {
            l.push_back(format!("element-{i}").as_bytes());
        }
        put(
            db,
            "lbig",
            Value::Obj(Object::List(l)),
            Ttl::At(NOW + 5_000),
        );
        let mut s = Set::new();
        for i in 0..10 {
            s.insert(i.to_string().as_bytes());
        }
        put(db, "intset", Value::Obj(Object::Set(s)), Ttl::Clear);
        let mut s = Set::new();
        for i in 0..700 {
            s.insert(format!("m{i}").as_bytes());
        }
        put(db, "sbig", Value::Obj(Object::Set(s)), Ttl::Clear);
        let mut h = Hash::new();
        h.insert(b"f", b"v");
        h.insert(b"n", b"12");
        put(db, "hsmall", Value::Obj(Object::Hash(h)), Ttl::At(NOW + 1));
        let mut h = Hash::new();
        for i in 0..300 {
            h.insert(format!("f{i}").as_bytes(), format!("v{i}").as_bytes());
        }
        put(db, "hbig", Value::Obj(Object::Hash(h)), Ttl::Clear);
        let mut z = ZSet::new();
        z.insert(b"a", 1.5);
        z.insert(b"b", -0.25);
        z.insert(b"c", f64::INFINITY);
        put(db, "zsmall", Value::Obj(Object::ZSet(z)), Ttl::Clear);
        let mut z = ZSet::new();
        for i in 0..200 {
            z.insert(format!("member-{i}").as_bytes(), i as f64 * 0.1);
        }
        put(db, "zbig", Value::Obj(Object::ZSet(z)), Ttl::Clear);
    }
}

#[test]
fn save_and_load_every_type() {
    let dir = Dir::new("rdb");
    let mut c = client(&dir, &[]);
    fill(&c);
    let before = digest(&mut c);
    assert_eq!(c.call(&["SAVE"]), ok());
    assert!(dir.join("dump.rdb").exists());
    let mut d = loaded(&dir, &[]);
    assert_eq!(digest(&mut d), before);
    d.call(&["SELECT", "15"]);
    assert_eq!(d.call(&["PTTL", "lbig"]), int(5000));
    assert_eq!(d.call(&["GET", "int"]), bulk("-70000"));
    assert_eq!(d.call(&["DBSIZE"]), int(11));
    let info = d.engine.shared().info(&["persistence"]);
    assert!(info.contains("rdb_last_load_keys_loaded:33\r\n"), "{info}");
    // Reloaded an hour later, keys whose TTL passed are not loaded (a master).
    let e = client(&dir, &[]);
    e.clock.advance(10_000);
    e.engine.shared().load_from_disk().unwrap();
    let info = e.engine.shared().info(&["persistence"]);
    assert!(info.contains("rdb_last_load_keys_expired:6\r\n"), "{info}");
    assert!(info.contains("rdb_last_load_keys_loaded:27\r\n"), "{info}");
}

#[test]
fn checksum_and_compression_settings() {
    let dir = Dir::new("opts");
    let mut c = client(&dir, &[("rdbcompression", "no"), ("rdbchecksum", "no")]);
    fill(&c);
    let before = digest(&mut c);
    c.call(&["SAVE"]);
    let bytes = std::fs::read(dir.join("dump.rdb")).unwrap();
    assert_eq!(
        &bytes[bytes.len() - 8..],
        &[0u8; 8],
        "rdbchecksum no writes 0"
    );
    let mut d = loaded(&dir, &[]);
    assert_eq!(digest(&mut d), before);
}

#[test]
fn bgsave_is_point_in_time_while_writers_run() {
    let dir = Dir::new("pit");
    let mut c = client(&dir, &[("dbfilename", "pit.rdb")]);
    // Enough data that serializing takes a while.
    for i in 0..30_000 {
        c.call(&["SET", &format!("fill:{i}"), &"v".repeat(100)]);
    }
    let done = Arc::new(AtomicBool::new(false));
    let mut w = c.other();
    let d2 = done.clone();
    let writer = std::thread::spawn(move || {
        let mut i = 0u64;
        while !d2.load(Ordering::Acquire) || i < 2000 {
            w.call(&["SET", &format!("seq:{i}"), &i.to_string()]);
            w.call(&["SET", "last", &i.to_string()]);
            i += 1;
        }
        i
    });
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.call(&["BGSAVE"]), simple("Background saving started"));
    let t = Instant::now();
    while c
        .engine
        .shared()
        .info(&["persistence"])
        .contains("rdb_bgsave_in_progress:1")
    {
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    done.store(true, Ordering::Release);
    let written = writer.join().unwrap();
    assert!(c
        .engine
        .shared()
        .info(&["persistence"])
        .contains("rdb_last_bgsave_status:ok"));
    let mut d = loaded(&dir, &[("dbfilename", "pit.rdb")]);
    let Frame::Bulk(last) = d.call(&["GET", "last"]) else {
        panic!("the writer had started before the snapshot");
    };
    let last: u64 = std::str::from_utf8(&last).unwrap().parse().unwrap();
    assert!(
        last + 2 < written,
        "the snapshot should precede the writer's end"
    );
    // Everything up to `last` is there; nothing written after `last + 1` is.
    for i in 0..=last {
        assert_eq!(
            d.call(&["GET", &format!("seq:{i}")]),
            bulk(&i.to_string()),
            "seq:{i} (last={last})"
        );
    }
    assert_eq!(d.call(&["EXISTS", &format!("seq:{}", last + 2)]), int(0));
    assert_eq!(d.call(&["DBSIZE"]).clone(), {
        let extra = i64::from(d.call(&["EXISTS", &format!("seq:{}", last + 1)]) == int(1));
        int(30_000 + last as i64 + 1 + 1 + extra)
    });
}

#[test]
fn save_commands_and_replies() {
    let dir = Dir::new("cmds");
    let mut c = client(&dir, &[]);
    assert_eq!(c.call(&["BGSAVE", "now"]), err("ERR syntax error"));
    assert_eq!(c.call(&["BGSAVE", "a", "b"]), err("ERR syntax error"));
    let Frame::Integer(t0) = c.call(&["LASTSAVE"]) else {
        panic!()
    };
    assert_eq!(t0 as u64, NOW / 1000);
    c.call(&["SET", "k", "v"]);
    let info = c.engine.shared().info(&["persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:1\r\n"), "{info}");
    c.clock.advance(5000);
    assert_eq!(c.call(&["SAVE"]), ok());
    assert_eq!(c.call(&["LASTSAVE"]), int(t0 + 5));
    let info = c.engine.shared().info(&["persistence"]);
    assert!(info.contains("rdb_changes_since_last_save:0\r\n"), "{info}");
    assert!(info.contains("rdb_saves:1\r\n"), "{info}");
    c.call(&["MULTI"]);
    assert_eq!(
        c.call(&["SAVE"]),
        err("ERR Command not allowed inside a transaction")
    );
    c.call(&["DISCARD"]);
    c.call(&["MULTI"]);
    c.call(&["BGSAVE"]);
    assert_eq!(
        c.call(&["EXEC"]),
        arr(vec![simple("Background saving scheduled")])
    );
    assert!(c
        .engine
        .shared()
        .persist
        .rdb
        .bgsave_scheduled
        .load(Ordering::Relaxed));
}

#[test]
fn failed_save_stops_writes_with_misconf() {
    let dir = Dir::new("misconf");
    let mut c = client(&dir, &[("dir", "/nonexistent/tandem/dir")]);
    c.call(&["SET", "k", "v"]);
    // A failed SAVE is only an error reply, as in Redis.
    assert_eq!(c.call(&["SAVE"]), err("ERR"));
    assert!(info_has(&c, "rdb_last_bgsave_status:ok\r\n"));
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    // A failed BGSAVE stops writes.
    assert_eq!(c.call(&["BGSAVE"]), simple("Background saving started"));
    wait_until("bgsave", || info_has(&c, "rdb_bgsave_in_progress:0"));
    let info = c.engine.shared().info(&["persistence"]);
    assert!(info.contains("rdb_last_bgsave_status:err\r\n"), "{info}");
    assert_eq!(c.call(&["SET", "k", "w"]), err(super::MISCONF_RDB));
    assert_eq!(c.call(&["PING"]), err(super::MISCONF_RDB));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    c.call(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
    assert_eq!(c.call(&["SET", "k", "w"]), ok());
    c.call(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]);
    c.call(&["CONFIG", "SET", "save", ""]);
    assert_eq!(c.call(&["SET", "k", "x"]), ok());
    c.call(&["CONFIG", "SET", "save", "3600 1"]);
    c.call(&["CONFIG", "SET", "dir", dir.s()]);
    assert_eq!(c.call(&["SAVE"]), ok());
    assert_eq!(c.call(&["SET", "k", "y"]), ok());
    assert!(info_has(&c, "rdb_last_bgsave_status:ok\r\n"));
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn info_has(c: &TestClient, field: &str) -> bool {
    c.engine.shared().info(&["persistence"]).contains(field)
}

#[test]
fn save_points_trigger_bgsave() {
    let dir = Dir::new("points");
    let mut c = loaded(&dir, &[("save", "10 2")]);
    c.call(&["SET", "a", "1"]);
    c.clock.advance(11_000);
    c.engine.shared().persistence_cron();
    assert!(!dir.join("dump.rdb").exists(), "one change is not enough");
    c.call(&["SET", "b", "1"]);
    c.engine.shared().persistence_cron();
    wait_until("bgsave", || {
        dir.join("dump.rdb").exists() && info_has(&c, "rdb_bgsave_in_progress:0")
    });
    assert!(info_has(&c, "rdb_changes_since_last_save:0\r\n"));
    assert_eq!(c.call(&["LASTSAVE"]), int((NOW / 1000 + 11) as i64));
}

fn aof_client(dir: &Dir, fsync: &str) -> TestClient {
    loaded(dir, &[("appendonly", "yes"), ("appendfsync", fsync)])
}

fn incr_file(dir: &Dir) -> PathBuf {
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    let name = m
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .to_string();
    dir.join("appendonlydir").join(name)
}

/// Waits until the AOF writer synced everything the log holds.
fn aof_synced(c: &TestClient) {
    let sh = c.engine.shared();
    let target = sh.repl.log.offset();
    wait_until("aof sync", || {
        sh.persist.aof.sh.synced.load(Ordering::Acquire) >= target
    });
}

#[test]
fn aof_records_writes_and_reloads() {
    let dir = Dir::new("aof");
    let mut c = aof_client(&dir, "always");
    assert!(dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists());
    c.call(&["SET", "a", "1"]);
    c.call(&["INCR", "a"]);
    c.call(&["SELECT", "2"]);
    c.call(&["SET", "b", "x", "EX", "100"]);
    c.call(&["PUBLISH", "ch", "m"]);
    c.call(&["MULTI"]);
    c.call(&["SET", "c", "1"]);
    c.call(&["SELECT", "0"]);
    c.call(&["SET", "d", "1"]);
    c.call(&["EXEC"]);
    aof_synced(&c);
    let text = String::from_utf8(std::fs::read(incr_file(&dir)).unwrap()).unwrap();
    let expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n";
    assert!(text.starts_with(expected), "{text:?}");
    assert!(!text.contains("PUBLISH"), "{text:?}");
    assert!(text.contains("PXAT"), "{text:?}");
    assert!(text.contains("MULTI") && text.contains("EXEC"), "{text:?}");
    let before = digest(&mut c);
    drop(c);
    let mut d = aof_client(&dir, "always");
    assert_eq!(digest(&mut d), before);
    d.call(&["SELECT", "2"]);
    assert_eq!(d.call(&["GET", "c"]), bulk("1"));
    assert_eq!(d.call(&["PTTL", "b"]), int(100_000));
    let info = d.engine.shared().info(&["persistence"]);
    assert!(info.contains("aof_enabled:1\r\n"), "{info}");
    assert!(info.contains("aof_last_write_status:ok\r\n"), "{info}");
}

struct Flag(AtomicBool);

impl Notify for Flag {
    fn notify(&self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn always_holds_until_the_fsync_covers_the_write() {
    let dir = Dir::new("group");
    let c = aof_client(&dir, "always");
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let mut s = c
        .engine
        .session("127.0.0.1:9".into(), String::new(), Some(flag.clone()));
    let mut out = Vec::new();
    c.engine.execute(&mut s, &[b"SET", b"k", b"v"], &mut out);
    let off = s.last_write_offset();
    assert!(off > 0);
    let h: &Arc<ClientHandle> = &s.handle().clone();
    let sh = c.engine.shared();
    match sh.durability(off, h) {
        Durability::Durable => {}
        Durability::Pending => {
            wait_until("notify", || flag.0.load(Ordering::Acquire));
            assert_eq!(sh.durability(off, h), Durability::Durable);
        }
        Durability::Failed => panic!("failed"),
    }
    // everysec promises nothing per write.
    c.engine.config_set("appendfsync", &["everysec"]).unwrap();
    c.engine.execute(&mut s, &[b"SET", b"k", b"w"], &mut out);
    assert_eq!(sh.durability(s.last_write_offset(), h), Durability::Durable);
}

#[test]
fn rewrite_keeps_the_data_while_writes_go_on() {
    let dir = Dir::new("rewrite");
    let mut c = aof_client(&dir, "everysec");
    for i in 0..20_000 {
        c.call(&["SET", &format!("k{i}"), &i.to_string()]);
    }
    let mut w = c.other();
    let writer = std::thread::spawn(move || {
        for i in 0..3000 {
            w.call(&["INCR", "counter"]);
            w.call(&["SET", &format!("n{i}"), "x"]);
        }
        w
    });
    assert_eq!(
        c.call(&["BGREWRITEAOF"]),
        simple("Background append only file rewriting started")
    );
    assert_eq!(
        c.call(&["BGREWRITEAOF"]),
        err("ERR Background append only file rewriting already in progress")
    );
    assert_eq!(
        c.call(&["BGSAVE"]),
        err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    );
    assert_eq!(
        c.call(&["BGSAVE", "SCHEDULE"]),
        simple("Background saving scheduled")
    );
    let _w = writer.join().unwrap();
    wait_until("rewrite", || info_has(&c, "aof_rewrite_in_progress:0"));
    assert!(info_has(&c, "aof_last_bgrewrite_status:ok"));
    assert!(info_has(&c, "aof_rewrites:1\r\n"));
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(
        m,
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    assert!(!dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists());
    assert!(!dir.join("appendonlydir/appendonly.aof.1.incr.aof").exists());
    c.call(&["SET", "after", "1"]);
    aof_synced(&c);
    let before = digest(&mut c);
    assert_eq!(c.call(&["GET", "counter"]), bulk("3000"));
    // The scheduled BGSAVE runs once the rewrite is done.
    c.engine.shared().persistence_cron();
    wait_until("scheduled bgsave", || {
        dir.join("dump.rdb").exists() && info_has(&c, "rdb_bgsave_in_progress:0")
    });
    c.engine.shared().prepare_shutdown(false).unwrap();
    drop(c);
    let mut d = aof_client(&dir, "everysec");
    assert_eq!(digest(&mut d), before);
}

#[test]
fn rewrite_without_preamble_writes_commands() {
    let dir = Dir::new("nopre");
    let mut c = aof_client(&dir, "everysec");
    c.call(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]);
    let cmds = c.engine.shared().commands.lookup(b"zadd").is_some()
        && c.engine.shared().commands.lookup(b"rpush").is_some()
        && c.engine.shared().commands.lookup(b"sadd").is_some()
        && c.engine.shared().commands.lookup(b"hmset").is_some();
    if cmds {
        fill(&c);
    } else {
        // Collections are replayed through their commands, which this build lacks.
        for db in ["0", "3"] {
            c.call(&["SELECT", db]);
            c.call(&["SET", "s", "v"]);
            c.call(&["SET", "t", "w", "PX", "5000"]);
        }
    }
    let before = digest(&mut c);
    c.call(&["BGREWRITEAOF"]);
    wait_until("rewrite", || info_has(&c, "aof_rewrite_in_progress:0"));
    let base = dir.join("appendonlydir/appendonly.aof.2.base.aof");
    let text = std::fs::read(&base).unwrap();
    assert!(text.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
    c.engine.shared().prepare_shutdown(false).unwrap();
    drop(c);
    let mut d = aof_client(&dir, "everysec");
    assert_eq!(digest(&mut d), before);
}

#[test]
fn appendonly_on_and_off_at_run_time() {
    let dir = Dir::new("toggle");
    let mut c = loaded(&dir, &[]);
    fill(&c);
    c.call(&["SET", "x", "1"]);
    assert_eq!(c.call(&["CONFIG", "SET", "appendonly", "yes"]), ok());
    assert!(info_has(&c, "aof_enabled:1"));
    wait_until("aof on", || {
        info_has(&c, "aof_rewrite_in_progress:0") && info_has(&c, "aof_rewrites:1")
    });
    c.call(&["SET", "y", "2"]);
    aof_synced(&c);
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(
        m,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let before = digest(&mut c);
    assert_eq!(c.call(&["CONFIG", "SET", "appendonly", "no"]), ok());
    assert!(info_has(&c, "aof_enabled:0"));
    c.call(&["SET", "z", "3"]);
    drop(c);
    let mut d = aof_client(&dir, "everysec");
    assert_eq!(digest(&mut d), before);
    assert_eq!(d.call(&["GET", "z"]), nil());
}

#[test]
fn bgrewriteaof_with_aof_off_writes_a_base() {
    let dir = Dir::new("offline");
    let mut c = loaded(&dir, &[]);
    fill(&c);
    let before = digest(&mut c);
    c.call(&["BGREWRITEAOF"]);
    wait_until("rewrite", || info_has(&c, "aof_rewrite_in_progress:0"));
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(m, "file appendonly.aof.1.base.rdb seq 1 type b\n");
    c.call(&["BGREWRITEAOF"]);
    wait_until("rewrite", || info_has(&c, "aof_rewrites:2"));
    let m = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(m, "file appendonly.aof.2.base.rdb seq 2 type b\n");
    assert!(!dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists());
    drop(c);
    let mut d = aof_client(&dir, "everysec");
    assert_eq!(digest(&mut d), before);
}

fn write_manifest(dir: &Dir, files: &[(&str, &[u8])]) {
    let d = dir.join("appendonlydir");
    std::fs::create_dir_all(&d).unwrap();
    let mut m = String::new();
    for (i, (name, data)) in files.iter().enumerate() {
        std::fs::write(d.join(name), data).unwrap();
        let t = if name.contains(".base.") { "b" } else { "i" };
        m.push_str(&format!("file {name} seq {} type {t}\n", i.max(1)));
    }
    std::fs::write(d.join("appendonly.aof.manifest"), m).unwrap();
}

#[test]
fn torn_aof_tail_is_cut_or_refused() {
    let torn = std::fs::read(fixture("torn-tail.aof")).unwrap();
    let dir = Dir::new("torn");
    write_manifest(&dir, &[("appendonly.aof.1.incr.aof", &torn)]);
    let e = client(&dir, &[("appendonly", "yes"), ("aof-load-truncated", "no")])
        .engine
        .shared()
        .load_from_disk()
        .unwrap_err();
    assert!(e.message.contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof at offset 118"), "{e}");
    assert_eq!(e.offset, Some(118));
    let c = loaded(&dir, &[("appendonly", "yes")]);
    assert_eq!(
        std::fs::metadata(dir.join("appendonlydir/appendonly.aof.1.incr.aof"))
            .unwrap()
            .len(),
        118
    );
    let mut c = c;
    assert_eq!(c.call(&["DBSIZE"]), int(2));
    c.call(&["SET", "new", "1"]);
    aof_synced(&c);
    drop(c);
    let mut d = loaded(&dir, &[("appendonly", "yes"), ("aof-load-truncated", "no")]);
    assert_eq!(d.call(&["GET", "new"]), bulk("1"));
}

#[test]
fn damaged_files_refuse_to_load() {
    let dir = Dir::new("damaged");
    let mid = std::fs::read(fixture("damaged-middle.aof")).unwrap();
    write_manifest(&dir, &[("appendonly.aof.1.incr.aof", &mid)]);
    let e = client(&dir, &[("appendonly", "yes")])
        .engine
        .shared()
        .load_from_disk()
        .unwrap_err();
    assert!(
        e.message.starts_with(
            "Bad file format reading the append only file appendonly.aof.1.incr.aof at offset"
        ),
        "{e}"
    );
    assert!(e.offset.is_some());
    // A torn tail in a file that is not the last one is damage too.
    let torn = std::fs::read(fixture("torn-tail.aof")).unwrap();
    let dir = Dir::new("damaged2");
    write_manifest(
        &dir,
        &[
            ("appendonly.aof.1.incr.aof", &torn),
            ("appendonly.aof.2.incr.aof", b"*1\r\n$4\r\nPING\r\n"),
        ],
    );
    assert!(client(&dir, &[("appendonly", "yes")])
        .engine
        .shared()
        .load_from_disk()
        .is_err());
    for (name, offset) in [("bad-checksum.rdb", 166), ("truncated.rdb", 146)] {
        let dir = Dir::new("badrdb");
        std::fs::copy(fixture(name), dir.join("dump.rdb")).unwrap();
        let c = client(&dir, &[]);
        let e = c.engine.shared().load_from_disk().unwrap_err();
        assert_eq!(e.offset, Some(offset), "{name}: {e}");
        assert!(e.message.contains("dump.rdb"), "{e}");
        assert!(e.message.contains(&format!("offset {offset}")), "{e}");
        assert!(!c.engine.shared().loading.load(Ordering::Relaxed));
    }
    // An unknown command in an AOF is damage.
    let dir = Dir::new("unknown");
    write_manifest(
        &dir,
        &[(
            "appendonly.aof.1.incr.aof",
            b"*2\r\n$4\r\nXADD\r\n$1\r\nk\r\n",
        )],
    );
    let e = client(&dir, &[("appendonly", "yes")])
        .engine
        .shared()
        .load_from_disk()
        .unwrap_err();
    assert!(
        e.message
            .contains("Unknown command 'XADD' reading the append only file"),
        "{e}"
    );
}

#[test]
fn redis_rdb_fixture_loads() {
    let dir = Dir::new("redis7");
    std::fs::copy(fixture("redis7-all-types.rdb"), dir.join("dump.rdb")).unwrap();
    let c = client(&dir, &[]);
    c.clock.set(1_600_000_000_000);
    c.engine.shared().load_from_disk().unwrap();
    let info = c.engine.shared().info(&["persistence"]);
    assert!(!info.contains("rdb_last_load_keys_loaded:0\r\n"), "{info}");
}

/// Random damage to a valid RDB and AOF: an error or a load, never a panic.
#[test]
fn mutated_files_never_panic() {
    let src = Dir::new("mut-src");
    let mut c = client(&src, &[]);
    {
        let ks = &c.engine.shared().keyspace;
        let mut g = ks.lock_all(NOW);
        let mut l = List::new();
        for i in 0..40 {
            l.push_back(format!("element-{i}").as_bytes());
        }
        g.set(0, b"l", Value::Obj(Object::List(l)), Ttl::At(NOW + 1000));
        let mut s = Set::new();
        for i in 0..5 {
            s.insert(i.to_string().as_bytes());
        }
        g.set(1, b"s", Value::Obj(Object::Set(s)), Ttl::Clear);
        let mut h = Hash::new();
        h.insert(b"f", &[b'v'; 30]);
        g.set(0, b"h", Value::Obj(Object::Hash(h)), Ttl::Clear);
        let mut z = ZSet::new();
        z.insert(b"a", 0.5);
        z.insert(b"b", 2.0);
        g.set(2, b"z", Value::Obj(Object::ZSet(z)), Ttl::Clear);
        g.set(0, b"s", Value::Str(vec![b'x'; 100]), Ttl::Clear);
    }
    c.call(&["SAVE"]);
    let good = std::fs::read(src.join("dump.rdb")).unwrap();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = Dir::new("mut");
    for round in 0..1000 {
        let mut data = good.clone();
        if round % 3 == 0 {
            data.truncate((rnd() as usize) % data.len());
        } else {
            for _ in 0..1 + rnd() % 3 {
                let i = (rnd() as usize) % data.len();
                data[i] ^= 1 << (rnd() % 8);
            }
        }
        std::fs::write(dir.join("dump.rdb"), &data).unwrap();
        let cfg: &[(&str, &str)] = if round % 2 == 0 {
            &[("rdbchecksum", "no"), ("keyspace-shards", "2")]
        } else {
            &[("keyspace-shards", "2")]
        };
        let r = client(&dir, cfg).engine.shared().load_from_disk();
        if round % 2 == 1 && data != good {
            assert!(r.is_err(), "round {round}: damage went unnoticed");
        }
    }
    // A version this build does not know.
    let mut data = good.clone();
    data[5..9].copy_from_slice(b"0011");
    std::fs::write(dir.join("dump.rdb"), &data).unwrap();
    let e = client(&dir, &[])
        .engine
        .shared()
        .load_from_disk()
        .unwrap_err();
    assert!(
        e.message.contains("can't handle RDB format version 11"),
        "{e}"
    );
    let aof = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$6\r\nEXPIRE\r\n$1\r\na\r\n$3\r\n100\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
    for round in 0..100 {
        let mut data = aof.to_vec();
        let i = (rnd() as usize) % data.len();
        data[i] = (rnd() % 256) as u8;
        if round % 4 == 0 {
            data.truncate(i);
        }
        let dir = Dir::new("mut-aof");
        write_manifest(&dir, &[("appendonly.aof.1.incr.aof", &data)]);
        let _ = client(&dir, &[("appendonly", "yes")])
            .engine
            .shared()
            .load_from_disk();
    }
}

#[test]
fn info_persistence_has_redis_fields_in_order() {
    let dir = Dir::new("info");
    let c = aof_client(&dir, "everysec");
    let info = c.engine.shared().info(&["persistence"]);
    let names: Vec<&str> = info
        .lines()
        .skip(1)
        .filter_map(|l| l.split(':').next())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(
        names,
        [
            "loading",
            "async_loading",
            "current_cow_peak",
            "current_cow_size",
            "current_cow_size_age",
            "current_fork_perc",
            "current_save_keys_processed",
            "current_save_keys_total",
            "rdb_changes_since_last_save",
            "rdb_bgsave_in_progress",
            "rdb_last_save_time",
            "rdb_last_bgsave_status",
            "rdb_last_bgsave_time_sec",
            "rdb_current_bgsave_time_sec",
            "rdb_saves",
            "rdb_last_cow_size",
            "rdb_last_load_keys_expired",
            "rdb_last_load_keys_loaded",
            "aof_enabled",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
            "aof_last_rewrite_time_sec",
            "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status",
            "aof_rewrites",
            "aof_rewrites_consecutive_failures",
            "aof_last_write_status",
            "aof_last_cow_size",
            "module_fork_in_progress",
            "module_fork_last_cow_size",
            "aof_current_size",
            "aof_base_size",
            "aof_pending_rewrite",
            "aof_buffer_length",
            "aof_pending_bio_fsync",
            "aof_delayed_fsync",
        ]
    );
}

#[test]
fn loading_flag_and_progress_fields() {
    let dir = Dir::new("loading");
    let c = client(&dir, &[]);
    let sh = c.engine.shared();
    sh.loading.store(true, Ordering::Release);
    sh.persist.loading.begin(NOW, 1000);
    sh.persist.loading.loaded.store(250, Ordering::Relaxed);
    let info = c.engine.shared().info(&["persistence"]);
    assert!(info.starts_with("# Persistence\r\nloading:1\r\n"), "{info}");
    assert!(info.contains("loading_total_bytes:1000\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:250\r\nloading_loaded_perc:25.00\r\n"), "{info}");
    let mut c = c;
    assert_eq!(
        c.call(&["GET", "k"]),
        err("LOADING Redis is loading the dataset in memory")
    );
    assert_eq!(c.call(&["LASTSAVE"]), int((NOW / 1000) as i64));
}

#[test]
fn debug_reload_round_trips_the_data_set() {
    let dir = Dir::new("reload");
    let mut c = client(&dir, &[]);
    fill(&c);
    let before = digest(&mut c);
    assert_eq!(c.call(&["DEBUG", "RELOAD"]), ok());
    assert_eq!(digest(&mut c), before);
    assert!(dir.join("dump.rdb").exists());
    c.call(&["SET", "extra", "1"]);
    assert_eq!(c.call(&["DEBUG", "RELOAD", "NOSAVE"]), ok());
    assert_eq!(digest(&mut c), before, "NOSAVE loads the file as it was");
    c.call(&["SET", "extra", "1"]);
    assert_eq!(
        c.call(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
        ok()
    );
    assert_eq!(c.call(&["GET", "extra"]), bulk("1"));
    assert_eq!(
        c.call(&["DEBUG", "RELOAD", "FAST"]),
        err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
    );
}

#[test]
fn unterminated_multi_is_a_torn_tail() {
    let open = std::fs::read(fixture("open-multi.aof")).unwrap();
    let dir = Dir::new("openmulti");
    write_manifest(&dir, &[("appendonly.aof.1.incr.aof", &open)]);
    let e = client(&dir, &[("appendonly", "yes"), ("aof-load-truncated", "no")])
        .engine
        .shared()
        .load_from_disk()
        .unwrap_err();
    assert!(e.message.contains("(unterminated MULTI)"), "{e}");
    let mut c = loaded(&dir, &[("appendonly", "yes")]);
    // Nothing of the open transaction was applied.
    assert_eq!(c.call(&["DBSIZE"]), int(2));
    assert_eq!(
        std::fs::metadata(dir.join("appendonlydir/appendonly.aof.1.incr.aof"))
            .unwrap()
            .len(),
        118
    );
}

#[test]
fn aof_timestamps_are_annotations() {
    let dir = Dir::new("ts");
    let mut c = loaded(
        &dir,
        &[("appendonly", "yes"), ("aof-timestamp-enabled", "yes")],
    );
    c.call(&["SET", "a", "1"]);
    aof_synced(&c);
    let text = String::from_utf8(std::fs::read(incr_file(&dir)).unwrap()).unwrap();
    assert!(text.starts_with("#TS:"), "{text:?}");
    drop(c);
    let mut d = loaded(&dir, &[("appendonly", "yes")]);
    assert_eq!(d.call(&["GET", "a"]), bulk("1"));
}

#[test]
fn repeated_rewrites_under_writes_lose_and_repeat_nothing() {
    let dir = Dir::new("rewrites");
    let mut c = aof_client(&dir, "always");
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for t in 0..2 {
        let mut w = c.other();
        let stop = stop.clone();
        writers.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Acquire) {
                w.call(&["INCR", "counter"]);
                w.call(&["SET", &format!("w{t}:{n}"), "1"]);
                n += 1;
            }
            n
        }));
    }
    for _ in 0..5 {
        wait_until("rewrite slot", || info_has(&c, "aof_rewrite_in_progress:0"));
        c.call(&["BGREWRITEAOF"]);
        std::thread::sleep(Duration::from_millis(30));
    }
    wait_until("rewrites", || {
        info_has(&c, "aof_rewrite_in_progress:0") && info_has(&c, "aof_rewrites:5\r\n")
    });
    stop.store(true, Ordering::Release);
    let n: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(c.call(&["GET", "counter"]), bulk(&n.to_string()));
    aof_synced(&c);
    let before = digest(&mut c);
    c.engine.shared().prepare_shutdown(false).unwrap();
    drop(c);
    let mut d = aof_client(&dir, "always");
    assert_eq!(d.call(&["GET", "counter"]), bulk(&n.to_string()));
    assert_eq!(digest(&mut d), before);
}

#[test]
fn automatic_rewrite_on_growth() {
    let dir = Dir::new("auto");
    let mut c = loaded(
        &dir,
        &[
            ("appendonly", "yes"),
            ("auto-aof-rewrite-min-size", "4096"),
            ("auto-aof-rewrite-percentage", "100"),
        ],
    );
    c.engine.shared().persistence_cron();
    assert!(info_has(&c, "aof_rewrites:0"));
    for i in 0..200 {
        c.call(&["SET", &format!("key:{i}"), &"v".repeat(40)]);
    }
    aof_synced(&c);
    c.engine.shared().persistence_cron();
    wait_until("auto rewrite", || {
        info_has(&c, "aof_rewrites:1\r\n") && info_has(&c, "aof_rewrite_in_progress:0")
    });
}

/// A write error (the new incr file is /dev/full) poisons the AOF: `-MISCONF`, the
/// write is never durable; a later rewrite onto a good file heals it.
#[test]
fn failed_aof_write_stops_writes_until_a_rewrite() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = Dir::new("full");
    let mut c = aof_client(&dir, "always");
    std::os::unix::fs::symlink(
        "/dev/full",
        dir.join("appendonlydir/appendonly.aof.2.incr.aof"),
    )
    .unwrap();
    c.call(&["BGREWRITEAOF"]);
    wait_until("rewrite", || info_has(&c, "aof_rewrite_in_progress:0"));
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let mut s = c
        .engine
        .session("127.0.0.1:9".into(), String::new(), Some(flag.clone()));
    let mut out = Vec::new();
    c.engine.execute(&mut s, &[b"SET", b"k", b"v"], &mut out);
    let h = s.handle().clone();
    let sh = c.engine.shared().clone();
    wait_until("poisoned", || info_has(&c, "aof_last_write_status:err"));
    assert_eq!(sh.durability(s.last_write_offset(), &h), Durability::Failed);
    assert_eq!(
        c.call(&["SET", "k", "w"]),
        err("MISCONF Errors writing to the AOF file: No space left on device")
    );
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    // The cron retries with a rewrite onto a new incr file.
    c.clock.advance(10_000);
    sh.persistence_cron();
    wait_until("healed", || info_has(&c, "aof_last_write_status:ok"));
    assert_eq!(c.call(&["SET", "k", "x"]), ok());
    aof_synced(&c);
    sh.prepare_shutdown(false).unwrap();
    drop(s);
    drop(c);
    let mut d = aof_client(&dir, "always");
    assert_eq!(d.call(&["GET", "k"]), bulk("x"));
}
