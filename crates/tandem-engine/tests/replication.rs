//! Replication between in-process engines over in-memory links: full sync, streaming,
//! partial resync after a cut, promotion (PSYNC2), chains, backlog overrun, WAIT and
//! min-replicas-to-write. Contents are compared with DEBUG DIGEST (Redis's algorithm).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tandem_engine::{config::Config, Core, Session};
use tandem_resp::Frame;
use tandem_transport::mem::Network;

struct Node {
    engine: Core,
    sess: Session,
    name: String,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.engine.shared().promote();
        for r in self.engine.shared().repl.replicas() {
            r.disconnect();
        }
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn node(net: &Network, name: &str, extra: &[(&str, &str)]) -> Node {
    let config = Config::default();
    config.set("enable-debug-command", &["yes"]).unwrap();
    config.set("repl-diskless-sync-delay", &["0"]).unwrap();
    for (k, v) in extra {
        config.set(k, &v.split(' ').collect::<Vec<_>>()).unwrap();
    }
    let engine = Core::new(config);
    engine
        .shared()
        .repl
        .set_connector(Arc::new(net.connector(name)));
    let listener = net.listen(&format!("{name}:6379"));
    let stop = Arc::new(AtomicBool::new(false));
    let (sh, stop2) = (engine.shared().clone(), stop.clone());
    let accept = std::thread::spawn(move || {
        while !stop2.load(Ordering::Acquire) {
            if let Some(link) = listener.accept(Duration::from_millis(50)) {
                let (sh, stop) = (sh.clone(), stop2.clone());
                std::thread::spawn(move || sh.serve_connection(Box::new(link), &stop));
            }
        }
    });
    let sess = engine.session(String::new(), String::new(), None);
    Node {
        engine,
        sess,
        name: name.to_string(),
        stop,
        accept: Some(accept),
    }
}

impl Node {
    fn call(&mut self, args: &[&str]) -> Frame {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut out = Vec::new();
        self.engine.execute(&mut self.sess, &argv, &mut out);
        let b = Bytes::from(out);
        Frame::decode(&b).map(|(f, _)| f).unwrap_or(Frame::Null)
    }

    fn text(&mut self, args: &[&str]) -> String {
        match self.call(args) {
            Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim(b) => {
                String::from_utf8_lossy(&b).into_owned()
            }
            other => format!("{other:?}"),
        }
    }

    fn info(&mut self, field: &str) -> String {
        let info = self.text(&["INFO", "all"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
            .unwrap_or_default()
    }

    fn digest(&mut self) -> String {
        self.text(&["DEBUG", "DIGEST"])
    }

    fn follow(&mut self, master: &Node) {
        assert_eq!(self.text(&["REPLICAOF", &master.name, "6379"]), "OK");
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn in_sync(master: &mut Node, replica: &mut Node) -> bool {
    replica.info("master_link_status") == "up"
        && replica.info("master_repl_offset") == master.info("master_repl_offset")
        && replica.digest() == master.digest()
}

fn fill(n: &mut Node, prefix: &str, count: usize) {
    for i in 0..count {
        let k = format!("{prefix}{i}");
        n.call(&["SET", &k, &format!("value-{i}")]);
        if i % 3 == 0 {
            n.call(&["EXPIRE", &k, "1000"]);
        }
        if i % 7 == 0 {
            n.call(&["INCRBY", &format!("{prefix}ctr"), "3"]);
        }
    }
}

#[test]
fn full_sync_stream_and_partial_resync_after_a_cut() {
    let net = Network::new();
    let mut m = node(&net, "m", &[]);
    let mut r = node(&net, "r", &[]);
    fill(&mut m, "pre", 500);
    m.call(&["SELECT", "2"]);
    m.call(&["SET", "in-db-2", "x"]);
    m.call(&["SELECT", "0"]);
    r.follow(&m);
    wait_for("full sync", || in_sync(&mut m, &mut r));
    assert_eq!(m.info("sync_full"), "1");
    assert_eq!(r.text(&["GET", "pre10"]), "value-10");
    assert!(r
        .call(&["SET", "x", "y"])
        .to_string_lossy()
        .starts_with("READONLY"));
    fill(&mut m, "live", 300);
    wait_for("streamed writes", || in_sync(&mut m, &mut r));
    // Cut the link: the replica reconnects and continues from its offset.
    net.cut("r", "m:6379");
    fill(&mut m, "during-cut", 50);
    wait_for("partial resync", || {
        m.info("sync_partial_ok") == "1" && in_sync(&mut m, &mut r)
    });
    assert_eq!(m.info("sync_full"), "1", "no second full sync");
    let role = r.call(&["ROLE"]);
    assert!(format!("{role:?}").contains("connected"), "{role:?}");
}

#[test]
fn promotion_keeps_the_old_history_for_the_other_replicas() {
    let net = Network::new();
    let mut m = node(&net, "m", &[]);
    let mut r1 = node(&net, "r1", &[]);
    let mut r2 = node(&net, "r2", &[]);
    r1.follow(&m);
    r2.follow(&m);
    fill(&mut m, "a", 300);
    wait_for("both in sync", || {
        in_sync(&mut m, &mut r1) && in_sync(&mut m, &mut r2)
    });
    let old_id = m.info("master_replid");
    let offset: u64 = m.info("master_repl_offset").parse().unwrap();
    // The master goes away; r1 is promoted and r2 follows it.
    drop(m);
    assert_eq!(r1.text(&["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(r1.info("role"), "master");
    assert_eq!(r1.info("master_replid2"), old_id);
    assert_eq!(r1.info("second_repl_offset"), (offset + 1).to_string());
    assert_ne!(r1.info("master_replid"), old_id);
    r2.follow(&r1);
    wait_for("r2 follows r1", || in_sync(&mut r1, &mut r2));
    assert_eq!(r1.info("sync_partial_ok"), "1");
    assert_eq!(r1.info("sync_full"), "0");
    assert_eq!(r2.info("master_replid"), r1.info("master_replid"));
    fill(&mut r1, "b", 100);
    wait_for("writes on the new master", || in_sync(&mut r1, &mut r2));
}

#[test]
fn chained_replicas_share_offsets() {
    let net = Network::new();
    let mut m = node(&net, "m", &[]);
    let mut r1 = node(&net, "r1", &[]);
    let mut r2 = node(&net, "r2", &[]);
    fill(&mut m, "x", 200);
    r1.follow(&m);
    wait_for("r1", || in_sync(&mut m, &mut r1));
    r2.follow(&r1);
    wait_for("r2", || in_sync(&mut m, &mut r2));
    fill(&mut m, "y", 200);
    wait_for("chain streams", || {
        in_sync(&mut m, &mut r1) && in_sync(&mut m, &mut r2)
    });
    assert_eq!(r2.info("master_replid"), m.info("master_replid"));
}

#[test]
fn a_replica_past_the_backlog_gets_a_full_sync() {
    let net = Network::new();
    let mut m = node(&net, "m", &[("repl-backlog-size", "16384")]);
    let mut r = node(&net, "r", &[]);
    r.follow(&m);
    fill(&mut m, "a", 10);
    wait_for("sync", || in_sync(&mut m, &mut r));
    net.isolate("r");
    fill(&mut m, "big", 2000);
    net.heal("r");
    wait_for("resync", || {
        m.info("sync_full") == "2" && in_sync(&mut m, &mut r)
    });
    assert_eq!(m.info("sync_partial_err"), "1");
}

#[test]
fn wait_and_min_replicas_to_write() {
    let net = Network::new();
    let mut m = node(&net, "m", &[]);
    let mut r = node(&net, "r", &[]);
    assert_eq!(
        m.call(&["SET", "k", "v"]),
        Frame::Simple(Bytes::from_static(b"OK"))
    );
    assert_eq!(m.call(&["WAIT", "0", "0"]), Frame::Integer(0));
    r.follow(&m);
    wait_for("sync", || in_sync(&mut m, &mut r));
    m.call(&["SET", "k", "v2"]);
    // WAIT blocks this session until the replica acknowledges; drive it like a server.
    let mut out = Vec::new();
    let argv: Vec<&[u8]> = vec![b"WAIT", b"1", b"5000"];
    m.engine.execute(&mut m.sess, &argv, &mut out);
    wait_for("WAIT answered", || {
        if out.is_empty() {
            let _ = m.engine.resume(&mut m.sess, &mut out);
        }
        !out.is_empty()
    });
    assert_eq!(out, b":1\r\n");
    assert_eq!(r.text(&["GET", "k"]), "v2");
    assert_eq!(
        m.text(&["CONFIG", "SET", "min-replicas-to-write", "2"]),
        "OK"
    );
    assert!(m
        .call(&["SET", "k", "v3"])
        .to_string_lossy()
        .starts_with("NOREPLICAS"));
    assert_eq!(
        m.text(&["CONFIG", "SET", "min-replicas-to-write", "1"]),
        "OK"
    );
    assert_eq!(m.text(&["SET", "k", "v3"]), "OK");
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for Frame {
    fn to_string_lossy(&self) -> String {
        match self {
            Frame::Error(b) | Frame::Simple(b) | Frame::Bulk(b) => {
                String::from_utf8_lossy(b).into_owned()
            }
            other => format!("{other:?}"),
        }
    }
}

#[test]
fn a_replica_without_its_master_refuses_stale_reads_when_told_to() {
    let net = Network::new();
    let mut m = node(&net, "m", &[]);
    let mut r = node(&net, "r", &[("replica-serve-stale-data", "no")]);
    m.call(&["SET", "k", "v"]);
    r.follow(&m);
    wait_for("sync", || in_sync(&mut m, &mut r));
    assert_eq!(r.text(&["GET", "k"]), "v");
    net.isolate("m:6379");
    wait_for("link down", || r.info("master_link_status") == "down");
    assert!(r
        .call(&["GET", "k"])
        .to_string_lossy()
        .starts_with("MASTERDOWN Link with MASTER is down"));
    assert_eq!(r.info("role"), "slave", "INFO still answers");
    net.heal("m:6379");
    wait_for("link up again", || r.info("master_link_status") == "up");
    assert_eq!(r.text(&["GET", "k"]), "v");
}
