//! Benchmarks of the embedded engine (issue 5), each printed as one line of
//! `name value unit` so that `benches/scripts/embedded.sh` can tabulate them:
//!
//! ```text
//! embedded get [--ops N] [--port P]           in-process GET of a 100-byte value, one
//!                                             thread; with --port, the same GET over
//!                                             loopback to a server (one connection, P1)
//! embedded replica-read --master-port P       an embedded replica of the server at P:
//!                                             local read latency vs GET over loopback
//! embedded fullsync --replica-bin B [--keys N] full sync of N keys x 100 B from an
//!   [--master-bin M]                          embedded master (or a server M, for
//!                                             comparison) to a `B --replicaof` replica
//! ```
//! Servers are only ever reached on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tandem_engine::{Builder, Engine};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: u64) -> u64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn report(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.3} {unit}");
}

/// p50 and p99 of `samples` (nanoseconds), in microseconds.
fn percentiles(samples: &mut [u64]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize] as f64 / 1e3;
    (at(0.50), at(0.99))
}

/// A minimal synchronous RESP client: one request, one reply, no pipelining.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn connect(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            s,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Sends `req` and reads until a whole reply of at least `min` bytes arrived.
    fn call(&mut self, req: &[u8]) -> std::io::Result<Vec<u8>> {
        self.s.write_all(req)?;
        let mut got = Vec::new();
        loop {
            let n = self.s.read(&mut self.buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got.extend_from_slice(&self.buf[..n]);
            if reply_complete(&got) {
                return Ok(got);
            }
        }
    }

    fn info_field(&mut self, section: &str, field: &str) -> Option<String> {
        let mut req = Vec::new();
        tandem_resp::encode::command(&mut req, &[&b"INFO"[..], section.as_bytes()]);
        let r = self.call(&req).ok()?;
        let text = String::from_utf8_lossy(&r).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
    }
}

/// Whether `r` holds one whole simple, integer, error or bulk reply.
fn reply_complete(r: &[u8]) -> bool {
    let Some(end) = r.windows(2).position(|w| w == b"\r\n") else {
        return false;
    };
    if r[0] != b'$' {
        return true;
    }
    let len: i64 = std::str::from_utf8(&r[1..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    len < 0 || r.len() >= end + 2 + len as usize + 2
}

fn get_loop(engine: &Engine, ops: u64) -> (f64, f64, f64) {
    let key = b"bench:key";
    let t = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..ops {
        bytes += engine.get(key).ok().flatten().map_or(0, |v| v.len());
    }
    let rate = ops as f64 / t.elapsed().as_secs_f64();
    assert_eq!(bytes, 100 * ops as usize, "every GET must find the value");
    let mut samples: Vec<u64> = (0..ops.min(200_000))
        .map(|_| {
            let t = Instant::now();
            let _ = engine.get(key);
            t.elapsed().as_nanos() as u64
        })
        .collect();
    let (p50, p99) = percentiles(&mut samples);
    (rate, p50, p99)
}

fn loopback_get(port: u16, ops: u64) -> std::io::Result<(f64, f64, f64)> {
    let mut c = Conn::connect(port)?;
    let mut set = Vec::new();
    tandem_resp::encode::command(&mut set, &[&b"SET"[..], b"bench:key", &[b'x'; 100]]);
    c.call(&set)?;
    let mut get = Vec::new();
    tandem_resp::encode::command(&mut get, &[&b"GET"[..], b"bench:key"]);
    let mut samples = Vec::with_capacity(ops as usize);
    let t = Instant::now();
    for _ in 0..ops {
        let s = Instant::now();
        c.call(&get)?;
        samples.push(s.elapsed().as_nanos() as u64);
    }
    let rate = ops as f64 / t.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(&mut samples);
    Ok((rate, p50, p99))
}

fn bench_get() -> Result<(), Box<dyn std::error::Error>> {
    let ops = num("--ops", 2_000_000);
    let engine = Builder::new().open()?;
    engine.set(b"bench:key", &[b'x'; 100])?;
    let (rate, p50, p99) = get_loop(&engine, ops);
    report("inprocess_get_rate", rate, "ops/s");
    report("inprocess_get_p50", p50, "us");
    report("inprocess_get_p99", p99, "us");
    if let Some(port) = arg("--port").and_then(|p| p.parse().ok()) {
        let (rate, p50, p99) = loopback_get(port, num("--loopback-ops", 100_000))?;
        report("loopback_get_rate", rate, "ops/s");
        report("loopback_get_p50", p50, "us");
        report("loopback_get_p99", p99, "us");
    }
    Ok(())
}

fn bench_replica_read() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = arg("--master-port")
        .ok_or("--master-port is required")?
        .parse()?;
    let ops = num("--ops", 200_000);
    let mut master = Conn::connect(port)?;
    let mut set = Vec::new();
    tandem_resp::encode::command(&mut set, &[&b"SET"[..], b"bench:key", &[b'x'; 100]]);
    master.call(&set)?;
    let replica = Builder::new().open()?;
    replica.replicate_from("127.0.0.1", port)?;
    if !replica.wait_for_sync(Duration::from_secs(120)) {
        return Err("the embedded replica did not sync".into());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while replica.get(b"bench:key")?.is_none() {
        if Instant::now() > deadline {
            return Err("the key never reached the replica".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (_, p50, p99) = get_loop(&replica, ops);
    report("replica_local_get_p50", p50, "us");
    report("replica_local_get_p99", p99, "us");
    let (_, p50, p99) = loopback_get(port, ops.min(100_000))?;
    report("master_loopback_get_p50", p50, "us");
    report("master_loopback_get_p99", p99, "us");
    replica.close()?;
    Ok(())
}

/// Stops a child process on every way out.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts `bin` (redis-server's command line) on `port`, with extra arguments.
fn start_server(
    bin: &str,
    port: u16,
    dir: &std::path::Path,
    extra: &[&str],
) -> std::io::Result<Reaped> {
    std::fs::create_dir_all(dir)?;
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--repl-diskless-sync-delay",
            "0",
            "--dir",
        ])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Reaped(child))
}

/// Fills a server with `keys` keys x 100 B, pipelined.
fn fill_server(port: u16, keys: u64) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut c = loop {
        match Conn::connect(port) {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let value = [b'v'; 100];
    let mut batch = Vec::new();
    let mut key = Vec::with_capacity(32);
    let mut i = 0;
    while i < keys {
        batch.clear();
        let n = (keys - i).min(1000);
        for j in i..i + n {
            key.clear();
            write!(key, "key:{j:012}")?;
            tandem_resp::encode::command(&mut batch, &[&b"SET"[..], &key, &value]);
        }
        c.s.write_all(&batch)?;
        let mut oks = 0;
        let mut got = Vec::new();
        while oks < n as usize {
            let r = c.s.read(&mut c.buf)?;
            if r == 0 {
                return Err("server closed".into());
            }
            got.extend_from_slice(&c.buf[..r]);
            oks = got.iter().filter(|&&b| b == b'\n').count();
        }
        i += n;
    }
    Ok(())
}

fn bench_fullsync() -> Result<(), Box<dyn std::error::Error>> {
    let bin = arg("--replica-bin").ok_or("--replica-bin is required")?;
    let keys = num("--keys", 1_000_000);
    let dir = std::env::temp_dir().join(format!("tandem-embedded-fullsync-{}", std::process::id()));
    // The master: this process's embedded engine, or a server (--master-bin).
    let mut _master_server = None;
    let mut master = None;
    let master_port = if let Some(mbin) = arg("--master-bin") {
        let port = free_port()?;
        _master_server = Some(start_server(&mbin, port, &dir.join("master"), &[])?);
        fill_server(port, keys)?;
        port
    } else {
        let m = Builder::new()
            .set("repl-diskless-sync-delay", "0")?
            .open()?;
        let value = [b'v'; 100];
        let t = Instant::now();
        let mut key = Vec::with_capacity(32);
        for i in 0..keys {
            key.clear();
            write!(key, "key:{i:012}")?;
            m.set(&key, &value)?;
        }
        report(
            "fill_rate",
            keys as f64 / t.elapsed().as_secs_f64(),
            "sets/s",
        );
        let port = m.serve_replicas("127.0.0.1:0")?.port();
        master = Some(m);
        port
    };
    let port = free_port()?;
    let started = Instant::now();
    let _child = start_server(
        &bin,
        port,
        &dir.join("replica"),
        &["--replicaof", "127.0.0.1", &master_port.to_string()],
    )?;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut conn = None;
    loop {
        if Instant::now() > deadline {
            return Err("the replica never came up in sync".into());
        }
        if conn.is_none() {
            conn = Conn::connect(port).ok();
        }
        if let Some(c) = conn.as_mut() {
            if c.info_field("replication", "master_link_status").as_deref() == Some("up") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    report("fullsync_secs", started.elapsed().as_secs_f64(), "s");
    if let Some(c) = conn.as_mut() {
        let n = c
            .info_field("keyspace", "db0")
            .and_then(|v| v.split(',').next().map(str::to_string))
            .unwrap_or_default();
        println!("replica_keys {}", n.trim_start_matches("keys="));
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(m) = master {
        m.close()?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("get") => bench_get(),
        Some("replica-read") => bench_replica_read(),
        Some("fullsync") => bench_fullsync(),
        _ => Err("usage: embedded get|replica-read|fullsync [options] (see the source)".into()),
    }
}
