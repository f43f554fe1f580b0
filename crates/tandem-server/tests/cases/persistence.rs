//! Persistence through the binary: restarts from the RDB and from the AOF, torn and
//! damaged files at start-up, `-LOADING`, a kill -9 loop under `appendfsync always`,
//! and file interchange with a real redis-server 7.0 in both directions.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{free_port, resp, Client, TempDir, BIN};

/// A server process (tandem or redis) on a data directory that outlives it.
struct Proc {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Proc {
    fn spawn(bin: &str, dir: &Path, port: u16, extra: &[&str]) -> Child {
        let log = dir.join(format!(
            "{}.log",
            Path::new(bin).file_name().unwrap().to_string_lossy()
        ));
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            dir.to_str().unwrap().into(),
            "--logfile".into(),
            log.to_str().unwrap().into(),
            "--enable-debug-command".into(),
            "yes".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Command::new(bin)
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"))
    }

    /// Starts `bin` on `dir` and waits until it answers PING (not -LOADING).
    fn start_bin(bin: &str, dir: &Path, extra: &[&str]) -> Proc {
        for _ in 0..5 {
            let port = free_port();
            let child = Self::spawn(bin, dir, port, extra);
            let log = dir.join(format!(
                "{}.log",
                Path::new(bin).file_name().unwrap().to_string_lossy()
            ));
            let mut p = Proc { child, port, log };
            if p.wait_ready(Duration::from_secs(60)) {
                return p;
            }
        }
        panic!("{bin} did not start in {}", dir.display());
    }

    /// Starts tandem on a given port (a restart where replicas expect it).
    fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Proc {
        let child = Self::spawn(BIN, dir, port, extra);
        let mut p = Proc {
            child,
            port,
            log: dir.join("tandem-server.log"),
        };
        assert!(
            p.wait_ready(Duration::from_secs(60)),
            "tandem did not restart"
        );
        p
    }

    fn start(dir: &Path, extra: &[&str]) -> Proc {
        Self::start_bin(BIN, dir, extra)
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::try_connect(self.port) {
                if let Ok(r) = c.try_cmd(&["PING"]) {
                    if r == b"+PONG\r\n" {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn client(&self) -> Client {
        Client::connect(self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn shutdown(mut self, how: &str) {
        let mut c = self.client();
        c.send(&resp(&["SHUTDOWN", how]));
        let _ = c.read_to_close(Duration::from_secs(30));
        let st = self.wait_exit(Duration::from_secs(30)).expect("exited");
        assert!(st.success(), "{st:?}\n{}", self.log());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs tandem on `dir` expecting it to refuse to start; returns its log.
fn start_fails(dir: &Path, extra: &[&str]) -> String {
    let port = free_port();
    let mut child = Proc::spawn(BIN, dir, port, extra);
    let deadline = Instant::now() + Duration::from_secs(30);
    let st = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tandem-server started on a damaged data set");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(st.code(), Some(1));
    std::fs::read_to_string(dir.join("tandem-server.log")).unwrap()
}

fn ok(c: &mut Client, args: &[&str]) {
    let r = c.cmd(args);
    assert!(
        !r.starts_with(b"-"),
        "{args:?}: {}",
        String::from_utf8_lossy(&r)
    );
}

fn digest(c: &mut Client) -> String {
    let r = c.cmd(&["DEBUG", "DIGEST"]);
    String::from_utf8(r).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tandem-persist/tests/fixtures")
        .join(name)
}

fn redis_available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn info_field(c: &mut Client, field: &str) -> String {
    let r = String::from_utf8(c.cmd(&["INFO", "persistence"])).unwrap();
    r.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} not in {r}"))
        .to_string()
}

fn wait_field(c: &mut Client, field: &str, value: &str) {
    let t = Instant::now();
    while info_field(c, field) != value {
        assert!(t.elapsed() < Duration::from_secs(60), "{field} != {value}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn restart_loads_the_rdb() {
    let dir = TempDir::new();
    let s = Proc::start(&dir.0, &["--save", "3600 1"]);
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "t", "x", "PX", "100000"]);
    ok(&mut c, &["SELECT", "5"]);
    ok(&mut c, &["SET", "b", "2"]);
    let before = digest(&mut c);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "dir"]),
        resp(&["dir", dir.0.to_str().unwrap()])
    );
    // SIGTERM with save points configured saves, as Redis does.
    s.shutdown("SAVE");
    assert!(dir.path("dump.rdb").exists());
    let s = Proc::start(&dir.0, &["--save", ""]);
    let log = s.log();
    assert!(
        log.contains("Done loading RDB, keys loaded: 3, keys expired: 0."),
        "{log}"
    );
    assert!(log.contains("DB loaded from disk: "), "{log}");
    let mut c = s.client();
    assert_eq!(digest(&mut c), before);
    let ttl = c.cmd(&["PTTL", "t"]);
    assert!(ttl.starts_with(b":9"), "{}", String::from_utf8_lossy(&ttl));
}

#[test]
fn sigterm_saves_when_save_points_are_set() {
    let dir = TempDir::new();
    let mut s = Proc::start(&dir.0, &["--save", "3600 1"]);
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    let st = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let st = s.wait_exit(Duration::from_secs(30)).expect("exited");
    assert_eq!(st.code(), Some(0));
    let log = s.log();
    assert!(
        log.contains("Saving the final RDB snapshot before exiting."),
        "{log}"
    );
    assert!(log.contains("DB saved on disk"), "{log}");
    let s = Proc::start(&dir.0, &[]);
    assert_eq!(s.client().cmd(&["GET", "k"]), b"$1\r\nv\r\n");
}

#[test]
fn restart_loads_the_aof_after_kill_9() {
    let dir = TempDir::new();
    let mut s = Proc::start(&dir.0, &["--appendonly", "yes", "--save", ""]);
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["INCRBY", "n", "5"]);
    ok(&mut c, &["SELECT", "3"]);
    ok(&mut c, &["SET", "b", "x", "EX", "1000"]);
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_field(&mut c, "aof_rewrite_in_progress", "0");
    ok(&mut c, &["SET", "after", "rewrite"]);
    ok(&mut c, &["DEL", "b"]);
    let before = digest(&mut c);
    // everysec: within about a second the write is in the file; kill -9 keeps the
    // page cache, so nothing is lost.
    std::thread::sleep(Duration::from_millis(1200));
    s.kill9();
    let s = Proc::start(&dir.0, &["--appendonly", "yes"]);
    let log = s.log();
    assert!(log.contains("DB loaded from append only file"), "{log}");
    let mut c = s.client();
    assert_eq!(digest(&mut c), before);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
}

/// A valid AOF directory written by tandem, then closed.
fn aof_dir_with_data(dir: &Path) -> PathBuf {
    let s = Proc::start(dir, &["--appendonly", "yes", "--save", ""]);
    let mut c = s.client();
    ok(&mut c, &["SET", "k1", "v1"]);
    ok(&mut c, &["SET", "k2", "v2"]);
    s.shutdown("NOSAVE");
    dir.join("appendonlydir/appendonly.aof.1.incr.aof")
}

#[test]
fn truncated_aof_tail_is_cut_with_a_warning() {
    let dir = TempDir::new();
    let incr = aof_dir_with_data(&dir.0);
    let good = std::fs::metadata(&incr).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .unwrap();
    std::io::Write::write_all(&mut f, b"*3\r\n$3\r\nSET\r\n$2\r\nk3\r\n$3\r\nv").unwrap();
    drop(f);
    // aof-load-truncated no: refuses to start.
    let log = start_fails(
        &dir.0,
        &["--appendonly", "yes", "--aof-load-truncated", "no"],
    );
    assert!(
        log.contains(&format!("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof at offset {good}")),
        "{log}"
    );
    // yes (the default): cut, warned, loaded.
    let s = Proc::start(&dir.0, &["--appendonly", "yes"]);
    let log = s.log();
    assert!(
        log.contains(
            "!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!"
        ),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {good}"
        )),
        "{log}"
    );
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), good);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["MGET", "k1", "k2", "k3"]),
        b"*3\r\n$2\r\nv1\r\n$2\r\nv2\r\n$-1\r\n"
    );
}

#[test]
fn damaged_aof_or_rdb_refuses_to_start() {
    let dir = TempDir::new();
    let incr = aof_dir_with_data(&dir.0);
    let mut data = std::fs::read(&incr).unwrap();
    // Damage the middle: the second command's '*' becomes 'x'.
    let second = data
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == b"*3\r")
        .map(|(i, _)| i)
        .nth(1)
        .unwrap();
    data[second] = b'x';
    std::fs::write(&incr, &data).unwrap();
    let log = start_fails(&dir.0, &["--appendonly", "yes"]);
    assert!(
        log.contains(&format!(
            "Bad file format reading the append only file appendonly.aof.1.incr.aof at offset {second}"
        )),
        "{log}"
    );
    for (name, offset) in [("bad-checksum.rdb", 166), ("truncated.rdb", 146)] {
        let dir = TempDir::new();
        std::fs::copy(fixture(name), dir.path("dump.rdb")).unwrap();
        let log = start_fails(&dir.0, &[]);
        assert!(log.contains("Fatal error loading the DB from"), "{log}");
        assert!(log.contains("dump.rdb"), "{log}");
        assert!(
            log.contains(&format!("RDB error at offset {offset}")),
            "{log}"
        );
    }
}

#[test]
fn loading_answers_loading_and_progress() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    // A big dump made by Redis (DEBUG POPULATE), loaded by tandem.
    let dir = TempDir::new();
    let r = Proc::start_bin(
        "redis-server",
        &dir.0,
        &["--save", "", "--appendonly", "no"],
    );
    let mut rc = r.client();
    ok(&mut rc, &["DEBUG", "POPULATE", "400000", "key", "50"]);
    ok(&mut rc, &["SAVE"]);
    drop(r);
    let port = free_port();
    let mut child = Proc::spawn(BIN, &dir.0, port, &[]);
    let mut seen_loading = false;
    let mut seen_progress = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "never finished loading");
        assert!(child.try_wait().unwrap().is_none(), "tandem exited");
        let Ok(mut c) = Client::try_connect(port) else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let info = String::from_utf8(c.cmd(&["INFO", "persistence"])).unwrap();
        if info.contains("loading:1\r\n") {
            seen_loading = true;
            seen_progress |=
                info.contains("loading_total_bytes:") && info.contains("loading_eta_seconds:");
            let r = c.cmd(&["GET", "key:1"]);
            if r.starts_with(b"-") {
                assert_eq!(r, b"-LOADING Redis is loading the dataset in memory\r\n");
            }
            continue;
        }
        if c.cmd(&["DBSIZE"]) == b":400000\r\n" {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen_loading, "loading:1 was never observed");
    assert!(seen_progress, "loading_* fields were never observed");
}

/// kill -9 in a loop while a client writes with `appendfsync always`: after each
/// restart, every acknowledged write is there.
#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = TempDir::new();
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ];
    let mut total_acked = 0u64;
    let mut counter_acked = 0u64;
    let mut all_acked: Vec<(u64, u64)> = Vec::new();
    for cycle in 0..5 {
        let mut s = Proc::start(&dir.0, &args);
        let port = s.port;
        // Everything acknowledged in earlier cycles is still there.
        let mut c = s.client();
        let counter = c.cmd(&["GET", "counter"]);
        let counter: u64 = if counter == b"$-1\r\n" {
            0
        } else {
            let t = String::from_utf8_lossy(&counter).into_owned();
            t.lines().nth(1).unwrap().parse().unwrap()
        };
        assert!(
            counter >= counter_acked,
            "cycle {cycle}: counter {counter} < acknowledged {counter_acked}"
        );
        counter_acked = counter;
        for (prev, k) in all_acked.iter().step_by(7) {
            assert_eq!(
                c.cmd(&["GET", &format!("c{prev}:{k}")]),
                resp_bulk(&k.to_string()),
                "cycle {prev}: acknowledged write {k} lost by cycle {cycle}"
            );
        }
        // Writers: pipelined SETs (group commit) and INCRs, until killed.
        let acked = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for t in 0..2u64 {
            let acked = acked.clone();
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut i = t;
                let mut got = Vec::new();
                let mut incrs = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let mut batch = Vec::new();
                    let mut keys = Vec::new();
                    for _ in 0..8 {
                        batch.extend_from_slice(&resp(&[
                            "SET",
                            &format!("c{cycle}:{i}"),
                            &i.to_string(),
                        ]));
                        keys.push(i);
                        i += 2;
                    }
                    batch.extend_from_slice(&resp(&["INCR", "counter"]));
                    if c.stream_write(&batch).is_err() {
                        break;
                    }
                    let mut ok_all = true;
                    for k in &keys {
                        match c.try_read_reply() {
                            Ok(r) if r == b"+OK\r\n" => got.push(*k),
                            _ => {
                                ok_all = false;
                                break;
                            }
                        }
                    }
                    if !ok_all || !matches!(c.try_read_reply(), Ok(r) if r.starts_with(b":")) {
                        break;
                    }
                    incrs += 1;
                }
                acked.lock().unwrap().push((got, incrs));
            }));
        }
        std::thread::sleep(Duration::from_millis(300 + 150 * cycle));
        s.kill9();
        stop.store(true, Ordering::Release);
        let mut keys = Vec::new();
        let mut incrs = 0;
        for t in threads {
            t.join().unwrap();
        }
        for (k, n) in acked.lock().unwrap().drain(..) {
            keys.extend(k);
            incrs += n;
        }
        assert!(!keys.is_empty(), "cycle {cycle}: no write was acknowledged");
        eprintln!(
            "cycle {cycle}: {} writes and {incrs} increments acknowledged",
            keys.len()
        );
        counter_acked += incrs;
        total_acked += keys.len() as u64;
        // Verify every acknowledged key right away.
        let s = Proc::start(&dir.0, &args);
        let mut c = s.client();
        for k in &keys {
            assert_eq!(
                c.cmd(&["GET", &format!("c{cycle}:{k}")]),
                resp_bulk(&k.to_string()),
                "cycle {cycle}: acknowledged write {k} lost"
            );
        }
        all_acked.extend(keys.iter().map(|k| (cycle, *k)));
        drop(c);
        drop(s);
    }
    assert!(total_acked > 0);
}

fn resp_bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

trait StreamWrite {
    fn stream_write(&mut self, b: &[u8]) -> std::io::Result<()>;
}

impl StreamWrite for Client {
    fn stream_write(&mut self, b: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self.stream, b)
    }
}

// ---- interchange with redis-server 7.0 -------------------------------------------

/// Fills a Redis with every type in small and large encodings, TTLs, several dbs.
fn fill_redis(c: &mut Client) {
    for db in ["0", "2", "9"] {
        ok(c, &["SELECT", db]);
        ok(c, &["SET", "str", "hello"]);
        ok(c, &["SET", "int", "12345"]);
        ok(c, &["SET", "ttl", "v", "PX", "500000"]);
        ok(c, &["RPUSH", "lsmall", "a", "b", "7"]);
        ok(c, &["HSET", "hsmall", "f", "v", "n", "1"]);
        ok(c, &["SADD", "intset", "1", "2", "3"]);
        ok(c, &["SADD", "sstr", "x", "y"]);
        ok(c, &["ZADD", "zsmall", "1.5", "a", "-2", "b"]);
        for i in 0..300 {
            let i = i.to_string();
            ok(c, &["RPUSH", "lbig", &format!("element-{i}")]);
            ok(c, &["HSET", "hbig", &format!("f{i}"), &i]);
            ok(c, &["SADD", "sbig", &format!("m{i}")]);
            ok(
                c,
                &[
                    "SADD",
                    "ibig",
                    &format!("{}", i.parse::<i64>().unwrap() * 1000),
                ],
            );
            ok(c, &["ZADD", "zbig", &i, &format!("z{i}")]);
        }
        ok(c, &["SADD", "ibig", "1", "2"]);
        for i in 0..600 {
            ok(c, &["SADD", "ibig", &i.to_string()]);
        }
        ok(c, &["EXPIRE", "hbig", "100000"]);
    }
}

#[test]
fn files_interchange_with_redis_both_ways() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    // Redis writes dump.rdb and an AOF directory.
    let rdir = TempDir::new();
    let r = Proc::start_bin(
        "redis-server",
        &rdir.0,
        &["--save", "", "--appendonly", "no"],
    );
    let mut rc = r.client();
    fill_redis(&mut rc);
    let redis_rdb_digest = digest(&mut rc);
    ok(&mut rc, &["SAVE"]);
    ok(&mut rc, &["CONFIG", "SET", "appendonly", "yes"]);
    wait_field(&mut rc, "aof_rewrite_in_progress", "0");
    wait_field(&mut rc, "aof_rewrites", "1");
    // Commands in the incr file that tandem can replay.
    ok(&mut rc, &["SELECT", "4"]);
    ok(&mut rc, &["SET", "aof", "1", "EX", "1000"]);
    ok(&mut rc, &["INCRBY", "aof", "4"]);
    ok(&mut rc, &["SELECT", "0"]);
    ok(&mut rc, &["DEL", "str"]);
    let redis_aof_digest = digest(&mut rc);
    r.shutdown("NOSAVE");

    // tandem loads Redis's dump.rdb ...
    let t1 = TempDir::new();
    std::fs::copy(rdir.path("dump.rdb"), t1.path("dump.rdb")).unwrap();
    let t = Proc::start(&t1.0, &["--save", ""]);
    let mut tc = t.client();
    assert_eq!(
        digest(&mut tc),
        redis_rdb_digest,
        "tandem loading Redis's RDB"
    );
    // ... and writes its own, which Redis loads.
    ok(&mut tc, &["SELECT", "7"]);
    ok(&mut tc, &["SET", "from", "tandem", "PX", "900000"]);
    let tandem_digest = digest(&mut tc);
    std::fs::remove_file(t1.path("dump.rdb")).unwrap();
    ok(&mut tc, &["SAVE"]);
    drop(t);
    let r2 = TempDir::new();
    std::fs::copy(t1.path("dump.rdb"), r2.path("dump.rdb")).unwrap();
    let r = Proc::start_bin("redis-server", &r2.0, &["--save", "", "--appendonly", "no"]);
    assert_eq!(
        digest(&mut r.client()),
        tandem_digest,
        "Redis loading tandem's RDB"
    );
    drop(r);

    // tandem loads Redis's AOF directory ...
    let t2 = TempDir::new();
    copy_dir(&rdir.path("appendonlydir"), &t2.path("appendonlydir"));
    let t = Proc::start(&t2.0, &["--appendonly", "yes", "--save", ""]);
    let mut tc = t.client();
    assert_eq!(
        digest(&mut tc),
        redis_aof_digest,
        "tandem loading Redis's AOF"
    );
    // ... appends to it, rewrites it, appends again; Redis loads the result.
    ok(&mut tc, &["SET", "t1", "x"]);
    ok(&mut tc, &["BGREWRITEAOF"]);
    wait_field(&mut tc, "aof_rewrite_in_progress", "0");
    assert_eq!(info_field(&mut tc, "aof_last_bgrewrite_status"), "ok");
    ok(&mut tc, &["SELECT", "3"]);
    ok(&mut tc, &["SET", "t2", "y", "EX", "5000"]);
    ok(&mut tc, &["INCR", "cnt"]);
    let tandem_aof_digest = digest(&mut tc);
    t.shutdown("NOSAVE");
    let r3 = TempDir::new();
    copy_dir(&t2.path("appendonlydir"), &r3.path("appendonlydir"));
    let r = Proc::start_bin(
        "redis-server",
        &r3.0,
        &["--save", "", "--appendonly", "yes"],
    );
    assert_eq!(
        digest(&mut r.client()),
        tandem_aof_digest,
        "Redis loading tandem's AOF"
    );
    drop(r);

    // With aof-use-rdb-preamble no, the base is commands; Redis loads that too.
    let t = Proc::start(
        &t2.0,
        &[
            "--appendonly",
            "yes",
            "--save",
            "",
            "--aof-use-rdb-preamble",
            "no",
        ],
    );
    let mut tc = t.client();
    assert_eq!(digest(&mut tc), tandem_aof_digest);
    ok(&mut tc, &["BGREWRITEAOF"]);
    wait_field(&mut tc, "aof_rewrite_in_progress", "0");
    assert_eq!(info_field(&mut tc, "aof_last_bgrewrite_status"), "ok");
    t.shutdown("NOSAVE");
    let r4 = TempDir::new();
    copy_dir(&t2.path("appendonlydir"), &r4.path("appendonlydir"));
    assert!(std::fs::read_dir(r4.path("appendonlydir"))
        .unwrap()
        .any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".base.aof")));
    let r = Proc::start_bin(
        "redis-server",
        &r4.0,
        &["--save", "", "--appendonly", "yes"],
    );
    assert_eq!(
        digest(&mut r.client()),
        tandem_aof_digest,
        "Redis loading a command base"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn shutdown_that_cannot_save_is_refused() {
    let dir = TempDir::new();
    let mut s = Proc::start(&dir.0, &["--save", "3600 1"]);
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["CONFIG", "SET", "dir", "/nonexistent/tandem"]);
    assert_eq!(
        c.cmd(&["SHUTDOWN"]),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(c.cmd(&["SET", "k", "w"]), b"+OK\r\n", "writes resume");
    ok(&mut c, &["CONFIG", "SET", "dir", dir.0.to_str().unwrap()]);
    c.send(&resp(&["SHUTDOWN"]));
    assert_eq!(c.read_to_close(Duration::from_secs(30)), b"");
    assert_eq!(
        s.wait_exit(Duration::from_secs(30)).unwrap().code(),
        Some(0)
    );
    let log = s.log();
    assert!(
        log.contains("Error trying to save the DB, can't exit."),
        "{log}"
    );
    let s = Proc::start(&dir.0, &[]);
    assert_eq!(s.client().cmd(&["GET", "k"]), b"$1\r\nw\r\n");
}

/// A master restarted from its RDB keeps its replication history: its replica
/// continues with a partial resync (reliability scenario 12).
#[test]
fn restarted_master_serves_partial_resync_from_its_rdb() {
    if !redis_available() {
        eprintln!("redis-server not installed: skipped");
        return;
    }
    let mdir = TempDir::new();
    let margs = ["--save", "3600 1", "--repl-diskless-sync-delay", "0"];
    let m = Proc::start(&mdir.0, &margs);
    let port = m.port;
    let rdir = TempDir::new();
    let r = Proc::start_bin(
        "redis-server",
        &rdir.0,
        &["--save", "", "--replicaof", "127.0.0.1", &port.to_string()],
    );
    let mut mc = m.client();
    for i in 0..10 {
        ok(&mut mc, &["SET", &format!("k{i}"), "v"]);
    }
    let mut rc = r.client();
    let t = Instant::now();
    while rc.cmd(&["GET", "k9"]) != b"$1\r\nv\r\n" {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "replica never synced"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m.shutdown("SAVE");
    let m = Proc::start_on(&mdir.0, port, &margs);
    let mut mc = m.client();
    ok(&mut mc, &["SET", "after", "restart"]);
    let t = Instant::now();
    while rc.cmd(&["GET", "after"]) != b"$7\r\nrestart\r\n" {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "replica never caught up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = String::from_utf8(mc.cmd(&["INFO", "stats"])).unwrap();
    assert!(stats.contains("sync_partial_ok:1\r\n"), "{stats}");
    assert!(stats.contains("sync_full:0\r\n"), "{stats}");
    assert_eq!(digest(&mut mc), digest(&mut rc));
}

/// `appendfsync always` and a failing disk: the write is never acknowledged (the
/// connection is closed instead), later writes get -MISCONF.
#[test]
fn failed_aof_write_is_never_acknowledged() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = TempDir::new();
    let s = Proc::start(&dir.0, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.client();
    ok(&mut c, &["SET", "before", "1"]);
    std::os::unix::fs::symlink(
        "/dev/full",
        dir.path("appendonlydir/appendonly.aof.2.incr.aof"),
    )
    .unwrap();
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_field(&mut c, "aof_rewrite_in_progress", "0");
    c.send(&resp(&["SET", "k", "v"]));
    // Closed, or refused with -MISCONF if the writer failed first: never +OK.
    match c.try_read_reply() {
        Err(_) => {}
        Ok(r) => assert!(
            r.starts_with(b"-MISCONF"),
            "a write the AOF could not persist was acknowledged: {:?}",
            String::from_utf8_lossy(&r)
        ),
    }
    let mut c = s.client();
    assert_eq!(info_field(&mut c, "aof_last_write_status"), "err");
    assert_eq!(
        c.cmd(&["SET", "k", "w"]),
        b"-MISCONF Errors writing to the AOF file: No space left on device\r\n"
    );
    assert_eq!(c.cmd(&["GET", "before"]), b"$1\r\n1\r\n");
    let log = s.log();
    assert!(
        log.contains("Error writing to the AOF file: No space left on device"),
        "{log}"
    );
}
