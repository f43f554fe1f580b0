//! An application with its session store in its own process, kept on two replicas.
//!
//! The app opens an embedded tandem engine and lets replicas attach on a loopback port
//! (any Redis 7 or tandem replica can: `redis-server --port 6390 --replicaof 127.0.0.1
//! <port>`). For a self-contained demo it starts two replicas itself — two more embedded
//! engines in this process, connected over TCP exactly as remote ones would be. It then
//! writes sessions, reads them at memory speed, keeps a local cache coherent with the
//! change feed, and shows the replicas catching up.
//!
//! ```text
//! cargo run -p tandem-examples --example embed -- [--sessions 10000] [--hold SECONDS]
//! ```
//! `--hold` keeps the master serving for that long at the end, for outside replicas.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tandem_engine::{Builder, ChangeEvent, Engine, Role};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions = arg("--sessions", 10_000);
    let hold = arg("--hold", 0);

    // Both replicas start at once: no need to wait for more (Redis's default is 5 s).
    let master = Builder::new()
        .repl_backlog_size(16 << 20)
        .set("repl-diskless-sync-delay", "0")?
        .open()?;
    let addr = master.serve_replicas("127.0.0.1:0")?;
    println!("master: serving replicas on {addr}");

    // A local cache of session owners, invalidated by the change feed.
    let feed = master.changes()?;
    let mut cache: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();

    let replicas: Vec<Engine> = (0..2)
        .map(|_| -> Result<Engine, tandem_engine::Error> {
            let r = Builder::new().open()?;
            r.replicate_from("127.0.0.1", addr.port())?;
            Ok(r)
        })
        .collect::<Result<_, _>>()?;
    for (i, r) in replicas.iter().enumerate() {
        if !r.wait_for_sync(Duration::from_secs(30)) {
            return Err(format!("replica {i} did not sync").into());
        }
        println!("replica {i}: in sync");
    }

    let started = Instant::now();
    for i in 0..sessions {
        let key = format!("session:{i}");
        master.hset_many(
            key.as_bytes(),
            &[
                (b"user", format!("user{}", i % 997).as_bytes()),
                (b"ward", format!("ward-{}", i % 12).as_bytes()),
            ],
        )?;
        master.expire(key.as_bytes(), Duration::from_secs(1800))?;
    }
    println!(
        "wrote {sessions} sessions in {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    // The feed carries every write made so far; apply them before caching.
    let mut pending = 0;
    while feed.recv_timeout(Duration::from_millis(100)).is_some() {
        pending += 1;
    }
    println!("change feed delivered {pending} writes");

    let started = Instant::now();
    let mut found = 0u64;
    for i in 0..sessions {
        let key = format!("session:{i}");
        if let Some(user) = cache.get(key.as_bytes()) {
            found += u64::from(!user.is_empty());
            continue;
        }
        if let Some(user) = master.hget(key.as_bytes(), b"user")? {
            found += 1;
            cache.insert(key.into_bytes(), user);
        }
    }
    println!(
        "read {found} sessions in {:.1} ms (cache now holds {})",
        started.elapsed().as_secs_f64() * 1e3,
        cache.len()
    );

    // Another writer changes a session: the feed invalidates the cached copy.
    master.hset(b"session:7", b"user", b"someone-else")?;
    let mut invalidated = 0;
    while let Some(ev) = feed.recv_timeout(Duration::from_millis(200)) {
        match ev {
            ChangeEvent::Write(c) => {
                for k in c.keys() {
                    invalidated += usize::from(cache.remove(k).is_some());
                }
            }
            ChangeEvent::Gap { .. } => cache.clear(),
        }
    }
    println!("change feed invalidated {invalidated} cached session(s)");
    let owner = master.hget(b"session:7", b"user")?.unwrap_or_default();
    println!(
        "session:7 now belongs to {}",
        String::from_utf8_lossy(&owner)
    );

    let target = master.replication().offset;
    for (i, r) in replicas.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(30);
        while r.replication().offset < target && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let st = r.replication();
        let link_up = matches!(st.role, Role::Replica { link_up: true, .. });
        println!(
            "replica {i}: offset {} of {target}, link up: {link_up}, sessions: {}, session:7 owner: {}",
            st.offset,
            r.dbsize()?,
            String::from_utf8_lossy(&r.hget(b"session:7", b"user")?.unwrap_or_default())
        );
        if st.offset < target {
            return Err(format!("replica {i} is behind").into());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && master
            .replication()
            .replicas
            .iter()
            .any(|r| r.acked_offset < target)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for r in &master.replication().replicas {
        println!(
            "master sees replica {} {} acked {}",
            r.addr, r.state, r.acked_offset
        );
    }
    if hold > 0 {
        println!("holding for {hold} s: attach more replicas to {addr}");
        std::thread::sleep(Duration::from_secs(hold));
    }
    for r in replicas {
        r.close()?;
    }
    master.close()?;
    println!("closed");
    Ok(())
}
