//! Dropping an embedded engine stops and joins every thread it started (its own test
//! binary, so that no other test's engine is running meanwhile).

use std::time::Duration;

use tandem_engine::testkit::ScratchDir;
use tandem_engine::Builder;

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let comm = entry.unwrap().path().join("comm");
        if let Ok(n) = std::fs::read_to_string(comm) {
            names.push(n.trim().to_string());
        }
    }
    names
}

fn tandem_threads() -> Vec<String> {
    let ours = [
        "tandem-cron",
        "change-feed",
        "repl-link",
        "repl-accept",
        "repl-conn",
        "aof-writer",
        "aof-rewrite",
        "bgsave",
    ];
    thread_names()
        .into_iter()
        .filter(|n| ours.iter().any(|o| n.starts_with(o)) || n.starts_with("repl"))
        .collect()
}

#[test]
fn dropping_engines_joins_their_threads() {
    assert!(tandem_threads().is_empty(), "{:?}", tandem_threads());
    let dir = ScratchDir::new("threads");
    let master = Builder::new()
        .dir(dir.path())
        .appendonly(true)
        .set("repl-diskless-sync-delay", "0")
        .unwrap()
        .open()
        .unwrap();
    let addr = master.serve_replicas("127.0.0.1:0").unwrap();
    let feed = master.changes().unwrap();
    let replica = Builder::new().open().unwrap();
    let _replica_feed = replica.changes().unwrap();
    replica.replicate_from("127.0.0.1", addr.port()).unwrap();
    assert!(replica.wait_for_sync(Duration::from_secs(20)));
    master.set(b"k", b"v").unwrap();
    assert!(feed.recv_timeout(Duration::from_secs(10)).is_some());
    let running = tandem_threads();
    for name in [
        "tandem-cron",
        "change-feed",
        "repl-link",
        "repl-accept",
        "aof-writer",
    ] {
        assert!(
            running.iter().any(|n| n.starts_with(name)),
            "{name} not in {running:?}"
        );
    }
    drop(replica);
    drop(master);
    assert_eq!(tandem_threads(), Vec::<String>::new());
    // The feed's channel ends once its engine is gone.
    assert_eq!(feed.recv_timeout(Duration::from_millis(100)), None);
}
