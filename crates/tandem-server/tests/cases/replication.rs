//! Replication links between two tandem-server processes over TCP: `CLIENT KILL` of the
//! master client on a replica and of the replica client on a master cuts the link (the
//! replica then resyncs partially), and stopping and continuing a replica
//! (SIGSTOP/SIGCONT, whose socket reads then fail with EINTR) does not; a partial resync
//! continues in the database the stream was in.
//! The full interop suite is tests/interop/test_replication.py.

use std::time::{Duration, Instant};

use crate::support::Server;

/// The value of `field` in `INFO all`.
fn info(s: &Server, field: &str) -> String {
    let reply = s.client().cmd(&["INFO", "all"]);
    let text = String::from_utf8_lossy(&reply).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_default()
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn in_sync(m: &Server, r: &Server) -> bool {
    info(r, "master_link_status") == "up"
        && info(r, "master_repl_offset") == info(m, "master_repl_offset")
}

#[test]
fn client_kill_cuts_the_link_and_stop_continue_does_not() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    m.client().expect(&["SET", "k", "v"], b"+OK\r\n");
    let port = m.port.to_string();
    r.client()
        .expect(&["REPLICAOF", "127.0.0.1", &port], b"+OK\r\n");
    wait_for("the first sync", || in_sync(&m, &r));
    assert_eq!(info(&m, "sync_full"), "1");

    // The master client, killed on the replica.
    r.client()
        .expect(&["CLIENT", "KILL", "TYPE", "master"], b":1\r\n");
    m.client().expect(&["SET", "k", "during-cut"], b"+OK\r\n");
    wait_for("a partial resync after CLIENT KILL TYPE master", || {
        info(&m, "sync_partial_ok") == "1" && in_sync(&m, &r)
    });
    assert!(r.log().contains("the master client was killed"));

    // The replica client, killed on the master.
    m.client()
        .expect(&["CLIENT", "KILL", "TYPE", "replica"], b":1\r\n");
    wait_for("a partial resync after CLIENT KILL TYPE replica", || {
        info(&m, "sync_partial_ok") == "2" && in_sync(&m, &r)
    });
    assert_eq!(r.client().cmd(&["GET", "k"]), b"$10\r\nduring-cut\r\n");

    // Stopped for longer than its read timeout, then continued: the link survives.
    r.signal("STOP");
    std::thread::sleep(Duration::from_millis(500));
    m.client()
        .expect(&["SET", "k", "while-stopped"], b"+OK\r\n");
    r.signal("CONT");
    wait_for("the write made while stopped", || in_sync(&m, &r));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info(&m, "sync_partial_ok"), "2", "{}", r.log());
    assert_eq!(info(&m, "sync_full"), "1");
    assert!(!r.log().contains("Interrupted system call"), "{}", r.log());
}

#[test]
fn a_partial_resync_continues_in_the_database_the_stream_was_in() {
    let m = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let r = Server::start(&[]);
    let port = m.port.to_string();
    r.client()
        .expect(&["REPLICAOF", "127.0.0.1", &port], b"+OK\r\n");
    wait_for("the first sync", || in_sync(&m, &r));
    // In the stream: SELECT 3, SET before.
    let mut c = m.client();
    c.expect(&["SELECT", "3"], b"+OK\r\n");
    c.expect(&["SET", "before", "1"], b"+OK\r\n");
    wait_for("the write in database 3", || in_sync(&m, &r));
    r.client()
        .expect(&["CLIENT", "KILL", "TYPE", "master"], b":1\r\n");
    wait_for("the link down", || info(&r, "master_link_status") == "down");
    // Still in database 3: the stream continues without a SELECT.
    c.expect(&["SET", "after", "1"], b"+OK\r\n");
    wait_for("the partial resync", || {
        info(&m, "sync_partial_ok") == "1" && in_sync(&m, &r)
    });
    let mut rc = r.client();
    rc.expect(&["SELECT", "3"], b"+OK\r\n");
    rc.expect(&["EXISTS", "before", "after"], b":2\r\n");
    rc.expect(&["SELECT", "0"], b"+OK\r\n");
    rc.expect(&["DBSIZE"], b":0\r\n");
}
