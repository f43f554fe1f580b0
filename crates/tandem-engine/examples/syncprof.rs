//! Times the two halves of a full sync in process: snapshot → RDB bytes, and RDB bytes →
//! keyspace. `cargo run --release -p tandem-engine --example syncprof`
use std::time::{Duration, Instant};

/// CPU time of this process (user + system), so that a busy machine distorts less.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    Duration::from_millis((f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) * 10)
}

use tandem_engine::{config::Config, Core};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let master = Core::new(Config::default());
    let mut s = master.session(String::new(), String::new(), None);
    let mut out = Vec::new();
    let val = vec![b'v'; 100];
    let t = Instant::now();
    for i in 0..n {
        let k = format!("key:{i}");
        out.clear();
        master.execute(&mut s, &[b"SET", k.as_bytes(), &val], &mut out);
    }
    println!("insert {n} keys via execute: {:?}", t.elapsed());
    let (t, c) = (Instant::now(), cpu());
    let rdb = master.shared().debug_snapshot_rdb();
    println!(
        "snapshot -> RDB ({} bytes): {:?} wall, {:?} cpu",
        rdb.len(),
        t.elapsed(),
        cpu() - c
    );
    let replica = Core::new(Config::default());
    let (t, c) = (Instant::now(), cpu());
    let keys = replica.shared().debug_load_rdb(&rdb);
    println!(
        "RDB -> keyspace ({keys} keys): {:?} wall, {:?} cpu",
        t.elapsed(),
        cpu() - c
    );
}
