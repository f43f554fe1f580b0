//! Tests of the server commands, against replies and texts taken from redis-server
//! 7.0.15.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tandem_keyspace::{Hash, List, Object, Set, Ttl, Value, ZSet};
use tandem_resp::Frame;

use crate::testkit::{f::*, TestClient};
use crate::Flow;

/// Stores a value directly (the collection commands live in other families).
fn put(c: &TestClient, db: usize, key: &str, v: Value, ttl: Ttl) {
    let ks = &c.engine.shared().keyspace;
    let mut g = ks.lock_key(db, key.as_bytes(), c.clock.0.load(Ordering::SeqCst));
    g.set(db, key.as_bytes(), v, ttl);
    g.take_expired();
}

fn list(items: &[&str]) -> Value {
    let mut l = List::new();
    for i in items {
        l.push_back(i.as_bytes());
    }
    Value::Obj(Object::List(l))
}

fn set(items: &[&str]) -> Value {
    let mut s = Set::new();
    for i in items {
        s.insert(i.as_bytes());
    }
    Value::Obj(Object::Set(s))
}

fn hash(items: &[(&str, &str)]) -> Value {
    let mut h = Hash::new();
    for (f, v) in items {
        h.insert(f.as_bytes(), v.as_bytes());
    }
    Value::Obj(Object::Hash(h))
}

fn zset(items: &[(&str, f64)]) -> Value {
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert(m.as_bytes(), *s);
    }
    Value::Obj(Object::ZSet(z))
}

fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Verbatim(b) | Frame::Simple(b) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("not text: {other:?}"),
    }
}

fn array(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v,
        other => panic!("not an array: {other:?}"),
    }
}

fn debug_client() -> TestClient {
    TestClient::with_config(&[("enable-debug-command", "yes")])
}

// ---- CLIENT ----

#[test]
fn client_id_and_names() {
    let mut c = TestClient::new();
    assert_eq!(c.call(&["CLIENT", "ID"]), int(c.sess.id() as i64));
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(c.call(&["CLIENT", "SETNAME", "foo"]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), bulk("foo"));
    assert_eq!(
        c.call(&["CLIENT", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.call(&["CLIENT", "SETNAME"]),
        err("ERR wrong number of arguments for 'client|setname' command")
    );
    assert_eq!(
        c.call(&["CLIENT", "SETNAME", "a", "b"]),
        err("ERR wrong number of arguments for 'client|setname' command")
    );
    assert_eq!(c.call(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(
        c.call(&["CLIENT"]),
        err("ERR wrong number of arguments for 'client' command")
    );
    assert_eq!(
        c.call(&["CLIENT", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    // Not in Redis 7.0.
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "lib-name", "x"]),
        err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.call(&["CLIENT", "NO-TOUCH", "on"]),
        err("ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.")
    );
}

#[test]
fn client_list_layout() {
    let mut c = TestClient::new();
    c.call(&["CLIENT", "SETNAME", "me"]);
    let id = c.sess.id();
    assert_eq!(
        c.call(&["CLIENT", "LIST"]),
        bulk(&format!(
            "id={id} addr=127.0.0.1:1 laddr=127.0.0.1:6379 fd=-1 name=me age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|list user=default redir=-1 resp=2\n"
        ))
    );
    let mut d = c.other();
    d.sess.handle().set_fd(9);
    d.call(&["SELECT", "3"]);
    d.call(&["SUBSCRIBE", "a"]);
    d.call(&["PSUBSCRIBE", "p*"]);
    c.clock.advance(2500);
    let list = text(c.call(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].contains(" fd=9 name= age=2 idle=2 flags=P db=3 sub=1 psub=1 ssub=0 multi=-1 "),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(" cmd=psubscribe "), "{}", lines[1]);
    // TYPE and ID filters.
    let pubsub = text(c.call(&["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert_eq!(pubsub.lines().count(), 1);
    assert!(pubsub.starts_with(&format!("id={} ", d.sess.id())));
    assert_eq!(c.call(&["CLIENT", "LIST", "TYPE", "master"]), bulk(""));
    assert_eq!(c.call(&["CLIENT", "LIST", "TYPE", "replica"]), bulk(""));
    assert_eq!(c.call(&["CLIENT", "LIST", "TYPE", "slave"]), bulk(""));
    assert_eq!(
        c.call(&["CLIENT", "LIST", "TYPE", "normal"]).clone(),
        bulk(&(text(c.call(&["CLIENT", "INFO"])).replace("cmd=client|info", "cmd=client|list")))
    );
    assert_eq!(
        c.call(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    let by_id = text(c.call(&[
        "CLIENT",
        "LIST",
        "ID",
        &d.sess.id().to_string(),
        "999",
        &id.to_string(),
    ]));
    let ids: Vec<String> = by_id
        .lines()
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, vec![format!("id={}", d.sess.id()), format!("id={id}")]);
    assert_eq!(
        c.call(&["CLIENT", "LIST", "ID", "1", "abc"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(c.call(&["CLIENT", "LIST", "ID"]), err("ERR syntax error"));
    assert_eq!(c.call(&["CLIENT", "LIST", "foo"]), err("ERR syntax error"));
    // MULTI shows x and the queue length.
    d.call(&["RESET"]);
    d.call(&["MULTI"]);
    d.call(&["SET", "a", "1"]);
    d.call(&["GET", "a"]);
    let info = text(c.call(&["CLIENT", "LIST", "ID", &d.sess.id().to_string()]));
    assert!(
        info.contains(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 "),
        "{info}"
    );
    // RESP3: verbatim text.
    c.call(&["HELLO", "3"]);
    assert!(matches!(c.call(&["CLIENT", "INFO"]), Frame::Verbatim(_)));
    assert!(text(c.call(&["CLIENT", "INFO"])).contains(" resp=3\n"));
}

#[test]
fn client_kill() {
    let mut c = TestClient::new();
    let mut d = c.other();
    let e = c.other();
    assert_eq!(
        c.call(&["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
    assert_eq!(c.call(&["CLIENT", "KILL", "ID", "9999"]), int(0));
    assert_eq!(
        c.call(&["CLIENT", "KILL", "ID", "abc"]),
        err("ERR client-id should be greater than 0")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "ID", "0"]),
        err("ERR client-id should be greater than 0")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "USER", "nobody"]),
        err("ERR No such user 'nobody'")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "SKIPME", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "FOO", "bar"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CLIENT", "KILL", "a", "b", "c"]),
        err("ERR syntax error")
    );
    // Old form "CLIENT KILL ID" is an address.
    assert_eq!(c.call(&["CLIENT", "KILL", "ID"]), err("ERR No such client"));
    assert_eq!(
        c.call(&["CLIENT", "KILL", "PAUSE"]),
        err("ERR No such client")
    );

    d.call(&["SUBSCRIBE", "x"]);
    assert_eq!(c.call(&["CLIENT", "KILL", "TYPE", "pubsub"]), int(1));
    assert!(d.sess.is_killed());
    assert!(!e.sess.is_killed());
    // Killed clients are gone from the list.
    assert_eq!(text(c.call(&["CLIENT", "LIST"])).lines().count(), 2);
    // ADDR, old form, and SKIPME.
    assert_eq!(
        c.call(&[
            "CLIENT",
            "KILL",
            "ADDR",
            "127.0.0.1:2",
            "LADDR",
            "127.0.0.1:6379"
        ]),
        int(1)
    );
    assert!(e.sess.is_killed());
    assert_eq!(c.call(&["CLIENT", "KILL", "USER", "default"]), int(0));
    assert_eq!(c.last_flow, Flow::Continue);
    assert_eq!(
        c.call(&[
            "CLIENT",
            "KILL",
            "ID",
            &c.sess.id().to_string(),
            "SKIPME",
            "no"
        ]),
        int(1)
    );
    assert_eq!(c.last_flow, Flow::Close);
    let mut f = c.other();
    let addr = f.sess.handle().addr.clone();
    assert_eq!(f.call(&["CLIENT", "KILL", &addr]), ok());
    assert_eq!(f.last_flow, Flow::Close);
}

#[test]
fn client_pause_blocks_writes_until_unpause() {
    let mut c = TestClient::new();
    let mut d = c.other();
    let mut e = c.other();
    assert_eq!(
        c.call(&["CLIENT", "PAUSE"]),
        err("ERR wrong number of arguments for 'client|pause' command")
    );
    assert_eq!(
        c.call(&["CLIENT", "PAUSE", "abc"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["CLIENT", "PAUSE", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        c.call(&["CLIENT", "PAUSE", "10", "foo"]),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );
    assert_eq!(c.call(&["CLIENT", "PAUSE", "5000", "WRITE"]), ok());
    // A write waits; reads go on.
    assert_eq!(d.call(&["SET", "k", "v"]), nil());
    assert!(d.sess.is_blocked());
    assert_eq!(e.call(&["GET", "k"]), nil());
    assert_eq!(d.resume(), None);
    assert_eq!(c.call(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(d.resume(), Some(ok()));
    assert_eq!(e.call(&["GET", "k"]), bulk("v"));

    // ALL pauses everything until it times out; a shorter pause does not shorten it.
    assert_eq!(c.call(&["CLIENT", "PAUSE", "10", "WRITE"]), ok());
    assert_eq!(c.call(&["CLIENT", "PAUSE", "1000", "ALL"]), ok());
    assert!(!c.engine.shared().pause().writes_only);
    assert_eq!(e.call(&["GET", "k"]), nil());
    assert!(e.sess.is_blocked());
    c.clock.advance(500);
    assert_eq!(e.resume(), None);
    c.clock.advance(600);
    assert_eq!(e.resume(), Some(bulk("v")));
}

#[test]
fn client_pause_write_and_transactions() {
    let mut c = TestClient::new();
    let mut d = c.other();
    // A transaction queued before the pause: its EXEC waits.
    assert_eq!(d.call(&["MULTI"]), ok());
    assert_eq!(d.call(&["SET", "k", "1"]), simple("QUEUED"));
    c.call(&["CLIENT", "PAUSE", "5000", "WRITE"]);
    assert_eq!(d.call(&["EXEC"]), nil());
    assert!(d.sess.is_blocked());
    assert_eq!(c.call(&["GET", "k"]), nil());
    c.call(&["CLIENT", "UNPAUSE"]);
    assert_eq!(d.resume(), Some(arr(vec![ok()])));
    // Queueing a write waits too; a read-only EXEC does not.
    c.call(&["CLIENT", "PAUSE", "5000", "WRITE"]);
    assert_eq!(d.call(&["MULTI"]), ok());
    assert_eq!(d.call(&["GET", "k"]), simple("QUEUED"));
    assert_eq!(d.call(&["SET", "k", "2"]), nil());
    assert!(d.sess.is_blocked());
    c.call(&["CLIENT", "UNPAUSE"]);
    assert_eq!(d.resume(), Some(simple("QUEUED")));
    assert_eq!(d.call(&["EXEC"]), arr(vec![bulk("1"), ok()]));
    c.call(&["CLIENT", "PAUSE", "5000", "WRITE"]);
    d.call(&["MULTI"]);
    d.call(&["GET", "k"]);
    assert_eq!(d.call(&["EXEC"]), arr(vec![bulk("2")]));
}

#[test]
fn client_reply_modes() {
    let mut c = TestClient::new();
    assert_eq!(c.call(&["CLIENT", "REPLY", "foo"]), err("ERR syntax error"));
    assert!(c.raw(&[b"CLIENT", b"REPLY", b"OFF"]).is_empty());
    assert!(c.raw(&[b"SET", b"k", b"v"]).is_empty());
    assert!(c.raw(&[b"NOSUCH"]).is_empty());
    assert_eq!(c.call(&["CLIENT", "REPLY", "ON"]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    assert!(c.raw(&[b"CLIENT", b"REPLY", b"SKIP"]).is_empty());
    assert!(c.raw(&[b"GET", b"k"]).is_empty());
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    // A skipped CLIENT REPLY OFF still turns replies off.
    assert!(c.raw(&[b"CLIENT", b"REPLY", b"SKIP"]).is_empty());
    assert!(c.raw(&[b"CLIENT", b"REPLY", b"OFF"]).is_empty());
    assert!(c.raw(&[b"GET", b"k"]).is_empty());
    assert_eq!(c.call(&["CLIENT", "REPLY", "ON"]), ok());
    // RESET turns replies back on.
    c.raw(&[b"CLIENT", b"REPLY", b"OFF"]);
    assert_eq!(c.call(&["RESET"]), simple("RESET"));
    assert_eq!(c.call(&["PING"]), simple("PONG"));
}

#[test]
fn client_misc_subcommands() {
    let mut c = TestClient::new();
    assert_eq!(c.call(&["CLIENT", "GETREDIR"]), int(-1));
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert!(text(c.call(&["CLIENT", "INFO"])).contains(" flags=e "));
    assert_eq!(
        c.call(&["CLIENT", "NO-EVICT", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "off"]), ok());
    assert_eq!(c.call(&["CLIENT", "TRACKING", "off"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "x"]),
        err("ERR syntax error")
    );
    assert!(matches!(
        c.call(&["CLIENT", "TRACKING", "on"]),
        Frame::Error(_)
    ));
    assert_eq!(
        c.call(&["CLIENT", "TRACKINGINFO"]),
        arr(vec![
            bulk("flags"),
            bulks(&["off"]),
            bulk("redirect"),
            int(-1),
            bulk("prefixes"),
            arr(vec![]),
        ])
    );
    assert_eq!(
        c.call(&["CLIENT", "CACHING", "yes"]),
        err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    );
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", "9999"]), int(0));
    assert_eq!(
        c.call(&["CLIENT", "UNBLOCK", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["CLIENT", "UNBLOCK", "1", "foo"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    let help = array(c.call(&["CLIENT", "HELP"]));
    assert_eq!(help.len(), 48);
    assert_eq!(
        help[0],
        simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["CLIENT", "TRACKINGINFO"]),
        Frame::Map(vec![
            (bulk("flags"), Frame::Set(vec![bulk("off")])),
            (bulk("redirect"), int(-1)),
            (bulk("prefixes"), arr(vec![])),
        ])
    );
}

#[test]
fn client_unblock_a_blocked_client() {
    let mut c = TestClient::new();
    let mut d = c.other();
    // Block `d` on a key by hand (the blocking commands live in other families).
    let keys: Vec<(usize, Box<[u8]>)> = vec![(0, b"k"[..].into())];
    d.sess.blocked = Some(crate::session::Blocked {
        kind: crate::session::BlockKind::Keys,
        argv: vec![b"GET".to_vec(), b"k".to_vec()],
        keys: keys.clone(),
        deadline: None,
    });
    d.sess.handle().blocked.store(true, Ordering::Relaxed);
    c.engine.shared().blocking.register(&keys, d.sess.handle());
    let id = d.sess.id().to_string();
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", &id, "ERROR"]), int(1));
    assert_eq!(
        d.resume(),
        Some(err("UNBLOCKED client unblocked via CLIENT UNBLOCK"))
    );
    assert!(!d.sess.is_blocked());
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", &id]), int(0));
    // TIMEOUT answers as a timed-out blocking command.
    d.sess.blocked = Some(crate::session::Blocked {
        kind: crate::session::BlockKind::Keys,
        argv: vec![b"GET".to_vec(), b"k".to_vec()],
        keys: keys.clone(),
        deadline: None,
    });
    d.sess.handle().blocked.store(true, Ordering::Relaxed);
    c.engine.shared().blocking.register(&keys, d.sess.handle());
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), int(1));
    assert_eq!(d.resume(), Some(nil()));
    assert!(c.engine.shared().blocking.is_empty());
}

// ---- INFO ----

#[test]
fn info_sections() {
    let mut c = TestClient::new();
    let all = text(c.call(&["INFO"]));
    let titles: Vec<&str> = all.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        titles,
        vec![
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    let every = text(c.call(&["INFO", "everything"]));
    assert!(every.contains("# Commandstats\r\n"));
    assert!(every.contains("# Latencystats\r\n"));
    assert_eq!(c.call(&["INFO", "keyspace"]), bulk("# Keyspace\r\n"));
    // Fixed order, unknown sections ignored, case-insensitive.
    assert_eq!(
        c.call(&["INFO", "KEYSPACE", "nosuch", "cluster"]),
        bulk("# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n")
    );
    assert_eq!(c.call(&["INFO", "nosuch"]), bulk(""));
    c.call(&["SET", "k", "v"]);
    assert_eq!(
        c.call(&["INFO", "keyspace"]),
        bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")
    );
    let server = text(c.call(&["INFO", "server"]));
    for field in [
        "redis_version:7.0.15\r\n",
        "redis_mode:standalone\r\n",
        "tcp_port:6379\r\n",
        "server_time_usec:1700000000000000\r\n",
        "config_file:\r\n",
        &format!("run_id:{}\r\n", c.engine.shared().run_id),
    ] {
        assert!(server.contains(field), "{field}");
    }
    let repl = text(c.call(&["INFO", "replication"]));
    assert!(repl.starts_with("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"));
    assert!(repl.contains("master_replid2:0000000000000000000000000000000000000000\r\n"));
    let stats = text(c.call(&["INFO", "stats"]));
    assert!(stats.contains("total_commands_processed:"));
    assert!(stats.contains("pubsubshard_channels:0\r\n"));
    c.call(&["HELLO", "3"]);
    assert!(matches!(c.call(&["INFO"]), Frame::Verbatim(_)));
}

#[test]
fn info_errorstats_and_commandstats() {
    let mut c = TestClient::new();
    c.call(&["NOSUCH"]);
    c.call(&["GET"]);
    c.call(&["CLIENT", "KILL", "TYPE", "x"]);
    assert_eq!(
        c.call(&["INFO", "errorstats"]),
        bulk("# Errorstats\r\nerrorstat_ERR:count=3\r\n")
    );
    assert!(text(c.call(&["INFO", "stats"])).contains("total_error_replies:3\r\n"));
    c.call(&["SET", "a", "b"]);
    let cs = text(c.call(&["INFO", "commandstats"]));
    assert!(cs.contains("cmdstat_set:calls=1,usec="), "{cs}");
    assert!(cs.contains("cmdstat_client:calls=1,"), "{cs}");
    assert!(cs.contains("failed_calls=1\r\n"), "{cs}");
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(c.call(&["INFO", "errorstats"]), bulk("# Errorstats\r\n"));
    assert!(text(c.call(&["INFO", "stats"])).contains("total_error_replies:0\r\n"));
}

#[test]
fn info_providers() {
    struct P;
    impl crate::InfoProvider for P {
        fn info(&self, section: &str, out: &mut String) {
            match section {
                "replication" => out.push_str("role:slave\r\nmaster_host:h\r\n"),
                "stats" => out.push_str("sync_full:7\r\nextra_field:1\r\n"),
                "sentinel" => out.push_str("sentinel_masters:1\r\n"),
                _ => {}
            }
        }
    }
    let mut c = TestClient::new();
    // Only this provider: the replication module registers its own.
    c.engine.shared().info_providers.write().clear();
    c.engine.shared().info_providers.write().push(Arc::new(P));
    assert_eq!(
        c.call(&["INFO", "replication"]),
        bulk("# Replication\r\nrole:slave\r\nmaster_host:h\r\n")
    );
    let stats = text(c.call(&["INFO", "stats"]));
    assert!(stats.contains("\r\nsync_full:7\r\nsync_partial_ok:0\r\n"));
    assert!(stats.ends_with("extra_field:1\r\n"));
    assert_eq!(
        c.call(&["INFO", "sentinel"]),
        bulk("# Sentinel\r\nsentinel_masters:1\r\n")
    );
}

#[test]
fn instantaneous_metrics() {
    let mut c = TestClient::new();
    let sh = c.engine.shared().clone();
    sh.track_instantaneous();
    for _ in 0..160 {
        c.call(&["PING"]);
    }
    c.clock.advance(100);
    sh.track_instantaneous();
    // 160 commands in 100 ms, averaged over 16 samples: 100/s.
    assert!(text(c.call(&["INFO", "stats"])).contains("instantaneous_ops_per_sec:100\r\n"));
}

// ---- CONFIG ----

#[test]
fn config_get() {
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory"]),
        bulks(&["maxmemory", "0"])
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "slowlog*"]),
        bulks(&["slowlog-log-slower-than", "10000", "slowlog-max-len", "128"])
    );
    // Several patterns, each parameter once.
    assert_eq!(
        c.call(&["CONFIG", "GET", "port", "PORT", "hz"]),
        bulks(&["port", "6379", "hz", "10"])
    );
    assert_eq!(c.call(&["CONFIG", "GET", "nosuch"]), arr(vec![]));
    assert_eq!(
        c.call(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(
        c.call(&["CONFIG", "GET", "port"]),
        Frame::Map(vec![(bulk("port"), bulk("6379"))])
    );
}

#[test]
fn config_set() {
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "10", "port"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "nosuch", "1"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "abc"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "hz", "abc"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "protected-mode", "maybe"]),
        err("ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "daemonize", "yes"]),
        err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "10mb", "maxmemory", "20mb"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "slave-read-only", "no", "replica-read-only", "no"]),
        err("ERR CONFIG SET failed (possibly related to argument 'replica-read-only') - duplicate parameter")
    );
    // Atomic: nothing changes when one pair is bad.
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "10mb", "hz", "abc"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer")
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory"]),
        bulks(&["maxmemory", "0"])
    );
    assert_eq!(
        c.call(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "10mb",
            "maxmemory-policy",
            "allkeys-lru",
            "save",
            "60 100"
        ]),
        ok()
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory", "maxmemory-policy", "save"]),
        bulks(&[
            "maxmemory",
            "10485760",
            "maxmemory-policy",
            "allkeys-lru",
            "save",
            "60 100"
        ])
    );
    // Applied to the engine.
    assert_eq!(c.engine.shared().keyspace.maxmemory(), 10 << 20);
    assert_eq!(c.call(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(c.call(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
    assert_eq!(
        c.call(&["CONFIG", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
    );
    assert_eq!(array(c.call(&["CONFIG", "HELP"])).len(), 11);
}

#[test]
fn config_memory_or_percent() {
    // maxmemory-clients and maxmemory-eviction-tenacity, as redis-server 7.0.15 takes
    // and shows them.
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory*"]),
        bulks(&[
            "maxmemory",
            "0",
            "maxmemory-clients",
            "0",
            "maxmemory-eviction-tenacity",
            "10",
            "maxmemory-policy",
            "noeviction",
            "maxmemory-samples",
            "5"
        ])
    );
    let set = |c: &mut TestClient, v: &str| c.call(&["CONFIG", "SET", "maxmemory-clients", v]);
    let get = |c: &mut TestClient| c.call(&["CONFIG", "GET", "maxmemory-clients"]);
    assert_eq!(set(&mut c, "10%"), ok());
    assert_eq!(get(&mut c), bulks(&["maxmemory-clients", "10%"]));
    assert_eq!(set(&mut c, "0%"), ok());
    assert_eq!(get(&mut c), bulks(&["maxmemory-clients", "0"]));
    assert_eq!(set(&mut c, "5mb"), ok());
    assert_eq!(get(&mut c), bulks(&["maxmemory-clients", "5242880"]));
    assert_eq!(
        set(&mut c, "200%"),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100")
    );
    for bad in ["-5%", "1.5%", "-1", "abc"] {
        assert_eq!(
            set(&mut c, bad),
            err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
            "{bad}"
        );
    }
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive")
    );
}

#[test]
fn config_rewrite() {
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
    let path = std::env::temp_dir().join(format!(
        "tandem-config-rewrite-{}-{}.conf",
        std::process::id(),
        c.sess.id()
    ));
    std::fs::write(
        &path,
        "# my config\nport 6379\nmaxmemory 1mb\n\nslave-read-only yes\nmaxmemory 2mb\nunknown-thing 1\n",
    )
    .expect("write temp config");
    *c.engine.shared().config_file.write() = Some(path.clone());
    c.call(&[
        "CONFIG",
        "SET",
        "maxmemory",
        "10mb",
        "hz",
        "20",
        "requirepass",
        "a b",
        "replica-read-only",
        "no",
    ]);
    assert_eq!(c.call(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&path).expect("read back");
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        text,
        "# my config\nport 6379\nmaxmemory 10mb\n\nreplica-read-only no\nunknown-thing 1\n\n# Generated by CONFIG REWRITE\nhz 20\nrequirepass \"a b\"\n"
    );
}

// ---- COMMAND ----

#[test]
fn command_info_layout() {
    let mut c = TestClient::new();
    let get = arr(vec![
        bulk("get"),
        int(2),
        arr(vec![simple("readonly"), simple("fast")]),
        int(1),
        int(1),
        int(1),
        arr(vec![simple("@read"), simple("@string"), simple("@fast")]),
        arr(vec![]),
        arr(vec![arr(vec![
            bulk("flags"),
            arr(vec![simple("RO"), simple("access")]),
            bulk("begin_search"),
            arr(vec![
                bulk("type"),
                bulk("index"),
                bulk("spec"),
                arr(vec![bulk("index"), int(1)]),
            ]),
            bulk("find_keys"),
            arr(vec![
                bulk("type"),
                bulk("range"),
                bulk("spec"),
                arr(vec![
                    bulk("lastkey"),
                    int(0),
                    bulk("keystep"),
                    int(1),
                    bulk("limit"),
                    int(0),
                ]),
            ]),
        ])]),
        arr(vec![]),
    ]);
    assert_eq!(
        c.call(&["COMMAND", "INFO", "get", "nosuch"]),
        arr(vec![get, nil()])
    );
    let client = array(array(c.call(&["COMMAND", "INFO", "client"])).remove(0));
    assert_eq!(client[0], bulk("client"));
    assert_eq!(client[1], int(-2));
    assert_eq!(client[2], arr(vec![]));
    assert_eq!(client[6], arr(vec![simple("@slow")]));
    let subs = array(client[9].clone());
    let kill = array(
        subs.into_iter()
            .find(|s| array(s.clone())[0] == bulk("client|kill"))
            .expect("client|kill"),
    );
    assert_eq!(kill[1], int(-3));
    assert_eq!(
        kill[6],
        arr(vec![
            simple("@admin"),
            simple("@slow"),
            simple("@dangerous"),
            simple("@connection")
        ])
    );
    // may_replicate is hidden, as in Redis 7.0.
    let publish = array(array(c.call(&["COMMAND", "INFO", "publish"])).remove(0));
    assert_eq!(
        publish[2],
        arr(vec![
            simple("pubsub"),
            simple("loading"),
            simple("stale"),
            simple("fast")
        ])
    );
    assert_eq!(publish[6], arr(vec![simple("@pubsub"), simple("@fast")]));
    let count = c.engine.shared().commands.len() as i64;
    assert_eq!(c.call(&["COMMAND", "COUNT"]), int(count));
    assert_eq!(array(c.call(&["COMMAND"])).len() as i64, count);
    assert_eq!(array(c.call(&["COMMAND", "INFO"])).len() as i64, count);
    c.call(&["HELLO", "3"]);
    let get3 = array(array(c.call(&["COMMAND", "INFO", "get"])).remove(0));
    assert_eq!(
        get3[2],
        Frame::Set(vec![simple("readonly"), simple("fast")])
    );
    assert_eq!(get3[9], Frame::Set(vec![]));
}

/// name, flags, first, last, step of `COMMAND INFO name`.
fn info_summary(c: &mut TestClient, name: &str) -> (Vec<String>, i64, i64, i64) {
    let e = array(array(c.call(&["COMMAND", "INFO", name])).remove(0));
    let flags = array(e[2].clone())
        .into_iter()
        .map(|f| match f {
            Frame::Simple(s) => String::from_utf8_lossy(&s).into_owned(),
            other => panic!("flag {other:?}"),
        })
        .collect();
    let n = |f: &Frame| match f {
        Frame::Integer(i) => *i,
        other => panic!("not an integer: {other:?}"),
    };
    (flags, n(&e[3]), n(&e[4]), n(&e[5]))
}

#[test]
fn command_info_flags_and_key_positions_as_redis() {
    // Taken from redis-server 7.0.15, flags in its order.
    let mut c = TestClient::new();
    let cases: &[(&str, &[&str], (i64, i64, i64))] = &[
        ("ping", &["fast"], (0, 0, 0)),
        ("echo", &["loading", "stale", "fast"], (0, 0, 0)),
        (
            "multi",
            &["noscript", "loading", "stale", "fast", "allow_busy"],
            (0, 0, 0),
        ),
        (
            "exec",
            &["noscript", "loading", "stale", "skip_slowlog"],
            (0, 0, 0),
        ),
        (
            "watch",
            &["noscript", "loading", "stale", "fast", "allow_busy"],
            (1, -1, 1),
        ),
        (
            "auth",
            &[
                "noscript",
                "loading",
                "stale",
                "fast",
                "no_auth",
                "allow_busy",
            ],
            (0, 0, 0),
        ),
        (
            "psync",
            &["admin", "noscript", "no_async_loading", "no_multi"],
            (0, 0, 0),
        ),
        ("move", &["write", "fast"], (1, 1, 1)),
        ("copy", &["write", "denyoom"], (1, 2, 1)),
        ("lmpop", &["write", "movablekeys"], (0, 0, 0)),
        ("blpop", &["write", "noscript", "blocking"], (1, -2, 1)),
        (
            "zunionstore",
            &["write", "denyoom", "movablekeys"],
            (1, 1, 1),
        ),
        ("zinter", &["readonly", "movablekeys"], (0, 0, 0)),
        (
            "ssubscribe",
            &["pubsub", "noscript", "loading", "stale"],
            (1, -1, 1),
        ),
        (
            "spublish",
            &["pubsub", "loading", "stale", "fast"],
            (1, 1, 1),
        ),
        ("command", &["loading", "stale"], (0, 0, 0)),
        ("object", &[], (0, 0, 0)),
        ("client", &[], (0, 0, 0)),
    ];
    for (name, flags, keys) in cases {
        let (f, first, last, step) = info_summary(&mut c, name);
        assert_eq!(
            (f, (first, last, step)),
            (flags.iter().map(|s| s.to_string()).collect(), *keys),
            "{name}"
        );
    }
    // Subcommands carry their own key positions and flags.
    let object = array(array(c.call(&["COMMAND", "INFO", "object"])).remove(0));
    let enc = array(
        array(object[9].clone())
            .into_iter()
            .find(|s| array(s.clone())[0] == bulk("object|encoding"))
            .expect("object|encoding"),
    );
    assert_eq!(enc[1], int(3));
    assert_eq!(enc[2], arr(vec![simple("readonly")]));
    assert_eq!((&enc[3], &enc[4], &enc[5]), (&int(2), &int(2), &int(1)));
    let memory = array(array(c.call(&["COMMAND", "INFO", "memory"])).remove(0));
    let usage = array(
        array(memory[9].clone())
            .into_iter()
            .find(|s| array(s.clone())[0] == bulk("memory|usage"))
            .expect("memory|usage"),
    );
    assert_eq!(
        (&usage[3], &usage[4], &usage[5]),
        (&int(2), &int(2), &int(1))
    );
    let client = array(array(c.call(&["COMMAND", "INFO", "client"])).remove(0));
    let id = array(
        array(client[9].clone())
            .into_iter()
            .find(|s| array(s.clone())[0] == bulk("client|id"))
            .expect("client|id"),
    );
    assert_eq!(
        id[2],
        arr(vec![simple("noscript"), simple("loading"), simple("stale")])
    );
}

#[test]
fn command_getkeys_of_unlocked_and_custom_keys() {
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "WATCH", "a", "b"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYSANDFLAGS", "WATCH", "a"]),
        arr(vec![arr(vec![bulk("a"), arr(vec![simple("RO")])])])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "MOVE", "k", "1"]),
        bulks(&["k"])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b"]),
        bulks(&["d", "a", "b"])
    );
    // Shard channels are not keys.
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "SSUBSCRIBE", "a"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "SPUBLISH", "c", "m"]),
        err("ERR The command has no key arguments")
    );
}

#[test]
fn subcommand_errors_come_before_auth_and_multi() {
    // redis-server 7.0.15 checks a container's subcommand and its arity before
    // authentication and before MULTI queueing.
    let mut c = TestClient::with_config(&[("requirepass", "pw")]);
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "LIB-NAME", "x"]),
        err("ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.call(&["CLIENT", "ID", "x"]),
        err("ERR wrong number of arguments for 'client|id' command")
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        c.call(&["CLIENT", "ID"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(
        c.call(&["HELLO", "3"]),
        err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    );
    let long = "x".repeat(200);
    assert_eq!(
        c.call(&["CONFIG", &long]),
        err(&format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            "x".repeat(128)
        ))
    );
    assert_eq!(c.call(&["AUTH", "pw"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    assert_eq!(c.call(&["UNWATCH"]), simple("QUEUED"));
    assert_eq!(
        c.call(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    // UNWATCH is queued like any command (Redis has no no_multi on it).
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["UNWATCH"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), arr(vec![ok()]));
}

#[test]
fn command_getkeys_list_docs() {
    let mut c = TestClient::new();
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "set", "a", "b"]),
        bulks(&["a"])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "get"]),
        err("ERR wrong number of arguments for 'command|getkeys' command")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "nosuch", "a"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "get", "a", "b"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "echo", "a"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"]),
        arr(vec![arr(vec![
            bulk("a"),
            arr(vec![simple("RW"), simple("update")])
        ])])
    );
    let cl = array(c.call(&["COMMAND", "LIST", "FILTERBY", "pattern", "client|*"]));
    assert!(cl.contains(&bulk("client|list")));
    assert!(!cl.contains(&bulk("client")));
    let ps = array(c.call(&["COMMAND", "LIST", "FILTERBY", "aclcat", "pubsub"]));
    assert!(ps.contains(&bulk("publish")));
    assert!(ps.contains(&bulk("pubsub|numsub")));
    assert!(!ps.contains(&bulk("get")));
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "module", "x"]),
        arr(vec![])
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"]),
        arr(vec![])
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "pattern"]),
        err("ERR syntax error")
    );
    assert!(array(c.call(&["COMMAND", "LIST"])).contains(&bulk("config|get")));
    assert_eq!(
        c.call(&["COMMAND", "COUNT", "x"]),
        err("ERR wrong number of arguments for 'command|count' command")
    );
    assert_eq!(
        c.call(&["COMMAND", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")
    );
    assert_eq!(array(c.call(&["COMMAND", "HELP"])).len(), 21);
    assert_eq!(c.call(&["COMMAND", "DOCS", "get"]), arr(vec![]));
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["COMMAND", "DOCS"]), Frame::Map(vec![]));
}

// ---- TIME, ROLE, SHUTDOWN, LOLWUT ----

#[test]
fn time_role_lolwut() {
    let mut c = TestClient::new();
    c.clock.advance(1234);
    assert_eq!(c.call(&["TIME"]), bulks(&["1700000001", "234000"]));
    assert_eq!(
        c.call(&["TIME", "x"]),
        err("ERR wrong number of arguments for 'time' command")
    );
    assert_eq!(
        c.call(&["ROLE"]),
        arr(vec![bulk("master"), int(0), arr(vec![])])
    );
    assert_eq!(c.call(&["LOLWUT"]), bulk("Redis ver. 7.0.15\n"));
    assert_eq!(
        c.call(&["LOLWUT", "VERSION", "x"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn shutdown() {
    let dir = std::env::temp_dir().join(format!("tandem-shutdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = TestClient::with_config(&[("dir", dir.to_str().unwrap())]);
    assert_eq!(c.call(&["SHUTDOWN", "foo"]), err("ERR syntax error"));
    assert_eq!(
        c.call(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["SHUTDOWN", "ABORT", "NOW"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(c.last_flow, Flow::Continue);
    // Default save points: SHUTDOWN saves before the server exits (a failure is an
    // error reply and the server goes on).
    let mut bad = TestClient::with_config(&[("dir", "/nonexistent/tandem")]);
    assert_eq!(
        bad.call(&["SHUTDOWN"]),
        err("ERR Errors trying to SHUTDOWN. Check logs.")
    );
    assert_eq!(bad.last_flow, Flow::Continue);
    assert_eq!(bad.call(&["SET", "k", "v"]), simple("OK"));
    assert!(c.raw(&[b"SHUTDOWN"]).is_empty());
    assert_eq!(c.last_flow, Flow::Shutdown { save: false });
    assert!(dir.join("dump.rdb").exists());
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    assert!(c.raw(&[b"SHUTDOWN", b"NOSAVE", b"NOW"]).is_empty());
    assert_eq!(c.last_flow, Flow::Shutdown { save: false });
    c.call(&["CONFIG", "SET", "save", ""]);
    c.raw(&[b"SHUTDOWN"]);
    assert_eq!(c.last_flow, Flow::Shutdown { save: false });
    assert!(!dir.join("dump.rdb").exists());
    c.raw(&[b"SHUTDOWN", b"SAVE", b"FORCE"]);
    assert_eq!(c.last_flow, Flow::Shutdown { save: false });
    assert!(dir.join("dump.rdb").exists());
    let _ = std::fs::remove_dir_all(&dir);
    c.call(&["MULTI"]);
    assert_eq!(
        c.call(&["SHUTDOWN"]),
        err("ERR Command not allowed inside a transaction")
    );
}

// ---- DEBUG ----

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

#[test]
fn debug_is_protected() {
    let mut c = TestClient::new();
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), err(NOT_ALLOWED));
    assert_eq!(
        c.call(&["DEBUG"]),
        err("ERR wrong number of arguments for 'debug' command")
    );
    // Refused before queueing, so EXEC aborts.
    c.call(&["MULTI"]);
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), err(NOT_ALLOWED));
    assert_eq!(
        c.call(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    let mut l = TestClient::with_config(&[("enable-debug-command", "local")]);
    assert_eq!(l.call(&["DEBUG", "SLEEP", "0"]), ok());
}

#[test]
fn debug_subcommands() {
    let mut c = debug_client();
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(c.call(&["DEBUG", "SLEEP", "abc"]), ok());
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert!(!c
        .engine
        .shared()
        .active_expire_enabled
        .load(Ordering::Relaxed));
    put(
        &c,
        0,
        "e",
        Value::Str(b"v".to_vec()),
        Ttl::At(1_700_000_000_500),
    );
    c.clock.advance(1000);
    let mut cursor = 0;
    assert_eq!(c.engine.active_expire(&mut cursor, 100_000), 0);
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    assert_eq!(c.engine.active_expire(&mut cursor, 100_000), 1);
    assert_eq!(
        c.call(&["DEBUG", "SET-ACTIVE-EXPIRE"]),
        err("ERR unknown subcommand or wrong number of arguments for 'SET-ACTIVE-EXPIRE'. Try DEBUG HELP.")
    );
    assert_eq!(
        c.call(&["DEBUG", "FOO"]),
        err("ERR unknown subcommand or wrong number of arguments for 'FOO'. Try DEBUG HELP.")
    );
    assert_eq!(
        c.call(&["DEBUG", "ERROR", "MYCODE boom"]),
        err("MYCODE boom")
    );
    c.call(&["SET", "k", "v"]);
    let obj = text(c.call(&["DEBUG", "OBJECT", "k"]));
    assert!(obj.starts_with("Value at:0x"), "{obj}");
    assert!(
        obj.contains(" refcount:1 encoding:embstr serializedlength:2 lru:"),
        "{obj}"
    );
    assert!(obj.ends_with(" lru_seconds_idle:0"), "{obj}");
    c.call(&["SET", "n", "12345"]);
    assert!(text(c.call(&["DEBUG", "OBJECT", "n"])).contains(" encoding:int serializedlength:3 "));
    assert_eq!(
        c.call(&["DEBUG", "OBJECT", "nokey"]),
        err("ERR no such key")
    );
    let help = array(c.call(&["DEBUG", "HELP"]));
    assert_eq!(help.last(), Some(&simple("    Prints this help.")));
}

#[test]
fn debug_protocol() {
    let mut c = debug_client();
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"double"]),
        b"$5\r\n3.141\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"bignum"]),
        b"$37\r\n1234567999999999999999999999999999999\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"map"]),
        b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"push"]),
        b"-ERR RESP2 is not supported by this command\r\n"
    );
    assert_eq!(
        c.call(&["DEBUG", "PROTOCOL", "foo"]),
        err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
    );
    c.call(&["HELLO", "3"]);
    assert_eq!(c.raw(&[b"DEBUG", b"PROTOCOL", b"double"]), b",3.141\r\n");
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"bignum"]),
        b"(1234567999999999999999999999999999999\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"map"]),
        b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"attrib"]),
        b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"
    );
    assert_eq!(
        c.raw(&[b"DEBUG", b"PROTOCOL", b"verbatim"]),
        b"=29\r\ntxt:This is a verbatim\nstring\r\n"
    );
}

/// Digests computed by redis-server 7.0.15 on the same data.
#[test]
fn debug_digest_matches_redis() {
    let mut c = debug_client();
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("0000000000000000000000000000000000000000")
    );
    c.call(&["SET", "k", "v"]);
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("264ccf65edec66bccfa7cc659414ccca432057d2")
    );
    c.call(&["SET", "k2", "v2"]);
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("423f74f2fdab5dd7d9d972b52a278b03c2832bdb")
    );
    put(&c, 0, "l", list(&["a", "b"]), Ttl::Clear);
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("06596c900dbd5cf059804c4561d9188cfdd72eac")
    );
    put(&c, 0, "s", set(&["x", "y", "1"]), Ttl::Clear);
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("a7fe4e678293139466f26e49fe2be1f1abbda08d")
    );
    put(&c, 0, "h", hash(&[("f", "v"), ("f2", "v2")]), Ttl::Clear);
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("77da547ab9102de16184d548dd9e5ad85c0fc328")
    );
    put(
        &c,
        0,
        "z",
        zset(&[("a", 1.5), ("b", 2.0), ("c", 0.1)]),
        Ttl::Clear,
    );
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("a625472c3ca8c9e98ad8e3a24106e9974af5fe6d")
    );
    put(
        &c,
        0,
        "e",
        Value::Str(b"v".to_vec()),
        Ttl::At(1_700_000_100_000),
    );
    assert_eq!(
        c.call(&["DEBUG", "DIGEST"]),
        simple("90e2a00f3294c6039663d34a3b822397c93a7b6c")
    );
    assert_eq!(
        c.call(&[
            "DEBUG",
            "DIGEST-VALUE",
            "z",
            "h",
            "s",
            "k",
            "l",
            "e",
            "nokey"
        ]),
        arr(vec![
            simple("2c385488a5eef8be43a6e3722a96af78cf880203"),
            simple("e10e1521ae1a86ad572969ec981152f56b33afcf"),
            simple("03ee76a1ebe8db27d61b3ea784011d5acc537675"),
            simple("d79ee9fe5d5ad902d7f6620efc3b07b75ddd742f"),
            simple("62f55a532623cf6c3d81081db480b6fd8461eb3f"),
            simple("311b17018163335616e089f6b951c82c477335ac"),
            simple("0000000000000000000000000000000000000000"),
        ])
    );
    // Same data in another database: another digest.
    let before = c.call(&["DEBUG", "DIGEST"]);
    put(&c, 1, "k", Value::Str(b"v".to_vec()), Ttl::Clear);
    assert_ne!(c.call(&["DEBUG", "DIGEST"]), before);
}

#[test]
fn sha1_known_answers() {
    assert_eq!(
        super::debug::hex(&super::debug::sha1(b"")),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    );
    assert_eq!(
        super::debug::hex(&super::debug::sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    let long = vec![b'a'; 1000];
    assert_eq!(
        super::debug::hex(&super::debug::sha1(&long)),
        "291e9a6c66994949b57ba5e650361e98fc36b1ba"
    );
}

// ---- MEMORY, LATENCY, SLOWLOG ----

#[test]
fn memory() {
    let mut c = TestClient::new();
    c.call(&["SET", "k", "v"]);
    assert!(matches!(c.call(&["MEMORY", "USAGE", "k"]), Frame::Integer(n) if n > 0));
    assert!(matches!(
        c.call(&["MEMORY", "USAGE", "k", "SAMPLES", "5"]),
        Frame::Integer(_)
    ));
    assert_eq!(c.call(&["MEMORY", "USAGE", "nokey"]), nil());
    assert_eq!(
        c.call(&["MEMORY", "USAGE", "k", "SAMPLES", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["MEMORY", "USAGE", "k", "foo"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["MEMORY", "USAGE"]),
        err("ERR wrong number of arguments for 'memory|usage' command")
    );
    assert_eq!(
        c.call(&["MEMORY", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try MEMORY HELP.")
    );
    assert!(text(c.call(&["MEMORY", "DOCTOR"])).starts_with("Hi Sam, this instance is empty"));
    assert_eq!(c.call(&["MEMORY", "PURGE"]), ok());
    let stats = array(c.call(&["MEMORY", "STATS"]));
    assert_eq!(stats[0], bulk("peak.allocated"));
    assert!(stats.contains(&bulk("db.0")));
    assert!(stats.contains(&bulk("keys.count")));
    assert_eq!(array(c.call(&["MEMORY", "HELP"])).len(), 14);
    c.call(&["HELLO", "3"]);
    assert!(matches!(c.call(&["MEMORY", "STATS"]), Frame::Map(_)));
}

#[test]
fn latency() {
    let mut c = TestClient::new();
    assert_eq!(c.call(&["LATENCY", "LATEST"]), arr(vec![]));
    assert_eq!(c.call(&["LATENCY", "HISTORY", "command"]), arr(vec![]));
    assert_eq!(c.call(&["LATENCY", "RESET"]), int(0));
    assert_eq!(
        c.call(&["LATENCY", "GRAPH", "command"]),
        err("ERR No samples available for event 'command'")
    );
    assert!(text(c.call(&["LATENCY", "DOCTOR"])).starts_with("I'm sorry, Dave, I can't do that."));
    assert_eq!(
        c.call(&["LATENCY", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try LATENCY HELP.")
    );
    assert_eq!(array(c.call(&["LATENCY", "HELP"])).len(), 17);
}

#[test]
fn slowlog() {
    let mut c = TestClient::with_config(&[("slowlog-log-slower-than", "0")]);
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), ok());
    c.call(&["CLIENT", "SETNAME", "me"]);
    c.call(&["SET", "k", "v"]);
    let long = "a".repeat(138);
    c.call(&["SET", "k", &long]);
    let entries = array(c.call(&["SLOWLOG", "GET", "2"]));
    assert_eq!(entries.len(), 2);
    let newest = array(entries[0].clone());
    assert_eq!(newest.len(), 6);
    assert_eq!(newest[0], int(3));
    assert_eq!(newest[1], int(1_700_000_000));
    assert!(matches!(newest[2], Frame::Integer(_)));
    assert_eq!(
        newest[3],
        bulks(&[
            "SET",
            "k",
            &format!("{}... (10 more bytes)", "a".repeat(128))
        ])
    );
    assert_eq!(newest[4], bulk("127.0.0.1:1"));
    assert_eq!(newest[5], bulk("me"));
    assert_eq!(array(entries[1].clone())[3], bulks(&["SET", "k", "v"]));
    // More than 32 arguments: 31 shown, then a count of the rest.
    let mut args = vec!["PUBSUB", "NUMSUB"];
    args.extend(std::iter::repeat_n("x", 40));
    c.call(&args);
    let e = array(array(c.call(&["SLOWLOG", "GET", "1"])).remove(0));
    let shown = array(e[3].clone());
    assert_eq!(shown.len(), 32);
    assert_eq!(shown[31], bulk("... (11 more arguments)"));
    assert!(matches!(c.call(&["SLOWLOG", "LEN"]), Frame::Integer(n) if n >= 4));
    assert_eq!(
        c.call(&["SLOWLOG", "GET", "x"]),
        err("ERR count should be greater than or equal to -1")
    );
    assert_eq!(
        c.call(&["SLOWLOG", "GET", "-2"]),
        err("ERR count should be greater than or equal to -1")
    );
    assert!(array(c.call(&["SLOWLOG", "GET", "-1"])).len() >= 4);
    // Turning it off; max-len trims.
    c.call(&[
        "CONFIG",
        "SET",
        "slowlog-log-slower-than",
        "-1",
        "slowlog-max-len",
        "2",
    ]);
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), int(2));
    c.call(&["SLOWLOG", "RESET"]);
    c.call(&["SET", "k", "v"]);
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), int(0));
    assert_eq!(
        c.call(&["SLOWLOG", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try SLOWLOG HELP.")
    );
    assert_eq!(array(c.call(&["SLOWLOG", "HELP"])).len(), 12);
}

#[test]
fn latency_histograms_follow_hdr_buckets() {
    use crate::info::LatencyHistogram;
    let h = LatencyHistogram::default();
    assert!(h.snapshot().is_none());
    // Redis showed p50=139.263 for one 139 µs call, and 1.003 for 1 µs.
    h.record(139_000);
    assert_eq!(
        format!("{:.3}", h.snapshot().unwrap().percentile_us(50.0)),
        "139.263"
    );
    h.reset();
    h.record(1000);
    let s = h.snapshot().unwrap();
    assert_eq!(format!("{:.3}", s.percentile_us(99.9)), "1.003");
    assert_eq!(s.cdf(), vec![(1, 1)]);
    h.reset();
    for us in [2, 7, 7, 30, 4200] {
        h.record(us * 1000);
    }
    assert_eq!(
        h.snapshot().unwrap().cdf(),
        vec![(2, 1), (8, 3), (33, 4), (4227, 5)]
    );
}

#[test]
fn latency_histogram_and_latencystats() {
    let mut c = TestClient::new();
    c.call(&["SET", "k", "v"]);
    c.call(&["SET", "k", "v"]);
    let Frame::Array(h) = c.call(&["LATENCY", "HISTOGRAM", "set", "nosuch", "get"]) else {
        panic!("array")
    };
    assert_eq!(h.len(), 2);
    assert_eq!(h[0], bulk("set"));
    let inner = array(h[1].clone());
    assert_eq!(inner[0], bulk("calls"));
    assert_eq!(inner[1], int(2));
    assert_eq!(inner[2], bulk("histogram_usec"));
    let stats = text(c.call(&["INFO", "latencystats"]));
    assert!(
        stats.contains("latency_percentiles_usec_set:p50="),
        "{stats}"
    );
    c.call(&["CONFIG", "RESETSTAT"]);
    assert_eq!(c.call(&["LATENCY", "HISTOGRAM", "set"]), arr(vec![]));
    c.call(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.call(&["SET", "k", "v"]);
    assert_eq!(c.call(&["LATENCY", "HISTOGRAM", "set"]), arr(vec![]));
}

// ---- MONITOR ----

#[test]
fn monitor_feeds_executed_commands() {
    let mut c = TestClient::new();
    let mut m = c.other();
    assert_eq!(m.call(&["MONITOR"]), ok());
    assert!(
        text(c.call(&["CLIENT", "LIST", "ID", &m.sess.id().to_string()])).contains(" flags=O ")
    );
    c.call_bytes(&[b"SET", b"k", b"a \"b\"\n\x01\xc3\xa9"]);
    c.call(&["SELECT", "3"]);
    c.call(&["CONFIG", "GET", "hz"]);
    c.call(&["NOSUCH"]);
    c.call(&["MULTI"]);
    c.call(&["GET", "x"]);
    c.call(&["EXEC"]);
    assert_eq!(
        m.messages(),
        vec![
            simple(
                "1700000000.000000 [0 127.0.0.1:1] \"SET\" \"k\" \"a \\\"b\\\"\\n\\x01\\xc3\\xa9\""
            ),
            simple("1700000000.000000 [3 127.0.0.1:1] \"SELECT\" \"3\""),
            simple("1700000000.000000 [3 127.0.0.1:1] \"MULTI\""),
            simple("1700000000.000000 [3 127.0.0.1:1] \"GET\" \"x\""),
            // Redis 7.0 shows EXEC after the commands it ran.
            simple("1700000000.000000 [3 127.0.0.1:1] \"EXEC\""),
        ]
    );
    // Inside EXEC MONITOR is refused; RESET leaves monitor mode.
    assert_eq!(m.call(&["RESET"]), simple("RESET"));
    c.call(&["PING"]);
    assert!(m.messages().is_empty());
    assert!(!c.engine.shared().monitors.is_active());
    let mut d = c.other();
    d.call(&["MULTI"]);
    d.call(&["MONITOR"]);
    assert_eq!(
        d.call(&["EXEC"]),
        arr(vec![err(
            "ERR MONITOR isn't allowed for DENY BLOCKING client"
        )])
    );
    // A closed monitor is forgotten.
    let mut m2 = c.other();
    m2.call(&["MONITOR"]);
    assert!(c.engine.shared().monitors.is_active());
    drop(m2);
    assert!(!c.engine.shared().monitors.is_active());
}
