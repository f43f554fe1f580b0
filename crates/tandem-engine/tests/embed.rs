//! The embedding API end to end: typed operations, generic execution, blocking
//! commands, the change feed, persistence across reopening, and replication between
//! two embedded engines over TCP on 127.0.0.1.

use std::time::{Duration, Instant};

use tandem_engine::testkit::ScratchDir;

use tandem_engine::{Builder, ChangeEvent, ChangeFeed, Engine, ErrorKind, Frame, Fsync, Role, Ttl};

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn next_write(feed: &ChangeFeed) -> (usize, Vec<u8>, Vec<Vec<u8>>) {
    match feed.recv_timeout(Duration::from_secs(10)) {
        Some(ChangeEvent::Write(c)) => (
            c.db,
            c.command().to_ascii_uppercase(),
            c.keys().map(<[u8]>::to_vec).collect(),
        ),
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn strings_and_keys() {
    let e = Engine::open_default().unwrap();
    assert_eq!(e.get(b"k").unwrap(), None);
    e.set(b"k", b"v").unwrap();
    assert_eq!(e.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    assert!(!e.set_nx(b"k", b"other").unwrap());
    assert!(e.set_nx(b"k2", b"x").unwrap());
    assert_eq!(e.incr_by(b"n", 5).unwrap(), 5);
    assert_eq!(e.incr_by(b"n", -7).unwrap(), -2);
    assert_eq!(e.append(b"k", b"w").unwrap(), 2);
    e.mset(&[(b"a", b"1"), (b"b", b"2")]).unwrap();
    assert_eq!(
        e.mget(&[b"a", b"missing", b"b"]).unwrap(),
        vec![Some(b"1".to_vec()), None, Some(b"2".to_vec())]
    );
    assert_eq!(e.ttl(b"a").unwrap(), Ttl::Persistent);
    assert_eq!(e.ttl(b"nope").unwrap(), Ttl::Missing);
    assert!(e.expire(b"a", Duration::from_secs(100)).unwrap());
    assert!(matches!(e.ttl(b"a").unwrap(), Ttl::Expires(d) if d > Duration::from_secs(90)));
    assert!(e.persist(b"a").unwrap());
    e.set_ex(b"short", b"x", Duration::from_millis(30)).unwrap();
    wait_until("the key to expire", || e.get(b"short").unwrap().is_none());
    assert_eq!(e.key_type(b"k").unwrap().as_deref(), Some("string"));
    assert_eq!(e.key_type(b"zzz").unwrap(), None);
    e.rename(b"k", b"k3").unwrap();
    assert!(e.exists(b"k3").unwrap());
    assert_eq!(e.del(&[b"k3", b"k2", b"nope"]).unwrap(), 2);
    let err = e.rename(b"nope", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Command);
    assert_eq!(err.message(), "ERR no such key");
    let err = e.incr_by(b"a", 1).and_then(|_| e.incr_by(b"k3x", 1));
    assert!(err.is_ok());
    e.set(b"s", b"not a number").unwrap();
    let err = e.incr_by(b"s", 1).unwrap_err();
    assert_eq!(err.message(), "ERR value is not an integer or out of range");
}

#[test]
fn collections_and_wrong_type() {
    let e = Engine::open_default().unwrap();
    assert!(e.hset(b"h", b"f", b"1").unwrap());
    assert_eq!(e.hset_many(b"h", &[(b"f", b"2"), (b"g", b"3")]).unwrap(), 1);
    assert_eq!(e.hget(b"h", b"f").unwrap().as_deref(), Some(&b"2"[..]));
    assert_eq!(e.hincr_by(b"h", b"n", 4).unwrap(), 4);
    let mut all = e.hgetall(b"h").unwrap();
    all.sort();
    assert_eq!(
        all,
        vec![
            (b"f".to_vec(), b"2".to_vec()),
            (b"g".to_vec(), b"3".to_vec()),
            (b"n".to_vec(), b"4".to_vec())
        ]
    );
    assert_eq!(e.hdel(b"h", &[b"f", b"x"]).unwrap(), 1);
    assert_eq!(e.hlen(b"h").unwrap(), 2);

    assert_eq!(e.rpush(b"l", &[b"a", b"b"]).unwrap(), 2);
    assert_eq!(e.lpush(b"l", &[b"z"]).unwrap(), 3);
    assert_eq!(
        e.lrange(b"l", 0, -1).unwrap(),
        vec![b"z".to_vec(), b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(e.lpop(b"l").unwrap().as_deref(), Some(&b"z"[..]));
    assert_eq!(e.rpop(b"l").unwrap().as_deref(), Some(&b"b"[..]));
    assert_eq!(e.llen(b"l").unwrap(), 1);

    assert_eq!(e.sadd(b"s", &[b"x", b"y", b"x"]).unwrap(), 2);
    assert!(e.sismember(b"s", b"y").unwrap());
    assert_eq!(e.srem(b"s", &[b"y"]).unwrap(), 1);
    assert_eq!(e.smembers(b"s").unwrap(), vec![b"x".to_vec()]);
    assert_eq!(e.scard(b"s").unwrap(), 1);

    assert!(e.zadd(b"z", 1.5, b"a").unwrap());
    assert!(!e.zadd(b"z", 2.5, b"a").unwrap());
    assert!(e.zadd(b"z", -1.0, b"b").unwrap());
    assert_eq!(e.zscore(b"z", b"a").unwrap(), Some(2.5));
    assert_eq!(e.zscore(b"z", b"nope").unwrap(), None);
    assert_eq!(e.zincr_by(b"z", 0.5, b"a").unwrap(), 3.0);
    assert_eq!(
        e.zrange(b"z", 0, -1).unwrap(),
        vec![(b"b".to_vec(), -1.0), (b"a".to_vec(), 3.0)]
    );
    assert_eq!(e.zrem(b"z", &[b"b"]).unwrap(), 1);
    assert_eq!(e.zcard(b"z").unwrap(), 1);
    assert_eq!(
        e.zadd(b"z", f64::NAN, b"x").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    let err = e.lpush(b"h", &[b"x"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType);
    assert_eq!(
        err.message(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    let err = e.get(b"h").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType);
}

#[test]
fn execute_databases_scan_and_clients() {
    let e = Builder::new().databases(4).open().unwrap();
    assert_eq!(e.execute(&[b"SET", b"x", b"1"]), Frame::Simple("OK".into()));
    assert_eq!(
        e.execute(&[b"NOSUCH"]),
        Frame::Error("ERR unknown command 'NOSUCH', with args beginning with: ".into())
    );
    assert!(
        matches!(e.command(&[b"GET"]), Err(err) if err.message().starts_with("ERR wrong number"))
    );
    let db3 = e.db(3).unwrap();
    db3.set(b"x", b"3").unwrap();
    assert_eq!(e.get(b"x").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db3.get(b"x").unwrap().as_deref(), Some(&b"3"[..]));
    assert_eq!(e.db(4).unwrap_err().kind(), ErrorKind::InvalidArgument);
    // SELECT on the stateless path does not leak into the next call.
    assert_eq!(e.execute(&[b"SELECT", b"3"]), Frame::Simple("OK".into()));
    assert_eq!(e.get(b"x").unwrap().as_deref(), Some(&b"1"[..]));

    for i in 0..1000 {
        db3.set(format!("key:{i}").as_bytes(), b"v").unwrap();
    }
    let mut keys: Vec<Vec<u8>> = db3.scan(b"key:*").map(Result::unwrap).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 1000);
    assert_eq!(db3.dbsize().unwrap(), 1001);

    let mut c = e.client().unwrap();
    assert_eq!(c.execute(&[b"SELECT", b"3"]), Frame::Simple("OK".into()));
    assert_eq!(c.execute(&[b"MULTI"]), Frame::Simple("OK".into()));
    assert_eq!(
        c.execute(&[b"INCR", b"ctr"]),
        Frame::Simple("QUEUED".into())
    );
    assert_eq!(
        c.execute(&[b"INCR", b"ctr"]),
        Frame::Simple("QUEUED".into())
    );
    assert_eq!(
        c.execute(&[b"EXEC"]),
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])
    );
    assert_eq!(c.db(), 3);
    assert_eq!(db3.get(b"ctr").unwrap().as_deref(), Some(&b"2"[..]));
    assert!(matches!(
        e.execute(&[b"SHUTDOWN"]),
        Frame::Error(t) if t.starts_with(b"ERR SHUTDOWN is not available")
    ));
}

#[test]
fn blocking_commands_wait_for_their_data() {
    let e = Engine::open_default().unwrap();
    let db = e.db(0).unwrap();
    let t = std::thread::spawn(move || db.execute(&[b"BLPOP", b"queue", b"10"]));
    std::thread::sleep(Duration::from_millis(100));
    e.rpush(b"queue", &[b"job"]).unwrap();
    assert_eq!(
        t.join().unwrap(),
        Frame::Array(vec![Frame::Bulk("queue".into()), Frame::Bulk("job".into())])
    );
    let started = Instant::now();
    assert_eq!(e.execute(&[b"BLPOP", b"empty", b"0.2"]), Frame::Null);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[test]
fn change_feed_reports_every_write_in_order() {
    let e = Builder::new().databases(2).open().unwrap();
    let feed = e.changes().unwrap();
    e.set(b"a", b"1").unwrap();
    e.db(1).unwrap().hset(b"h", b"f", b"v").unwrap();
    e.del(&[b"a", b"missing"]).unwrap();
    e.incr_by(b"n", 1).unwrap();
    assert!(e.get(b"n").unwrap().is_some());
    e.set_ex(b"ttl", b"x", Duration::from_secs(60)).unwrap();
    assert_eq!(next_write(&feed), (0, b"SET".to_vec(), vec![b"a".to_vec()]));
    assert_eq!(
        next_write(&feed),
        (1, b"HSET".to_vec(), vec![b"h".to_vec()])
    );
    assert_eq!(
        next_write(&feed),
        (0, b"DEL".to_vec(), vec![b"a".to_vec(), b"missing".to_vec()])
    );
    assert_eq!(
        next_write(&feed),
        (0, b"INCRBY".to_vec(), vec![b"n".to_vec()])
    );
    // Relative expiry is propagated as its absolute effect.
    let (_, cmd, keys) = next_write(&feed);
    assert_eq!((cmd, keys), (b"SET".to_vec(), vec![b"ttl".to_vec()]));
    assert!(feed.try_recv().is_none(), "reads are not changes");

    let (tx, rx) = std::sync::mpsc::channel();
    let handle = e
        .on_change(move |ev| {
            if let ChangeEvent::Write(c) = ev {
                let _ = tx.send(c.keys().map(<[u8]>::to_vec).collect::<Vec<_>>());
            }
        })
        .unwrap();
    e.sadd(b"set", &[b"m"]).unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        vec![b"set".to_vec()]
    );
    drop(handle);
    e.sadd(b"set", &[b"m2"]).unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn expired_keys_reach_the_feed_as_deletes() {
    let e = Builder::new().hz(100).open().unwrap();
    let feed = e.changes().unwrap();
    e.set_ex(b"gone", b"x", Duration::from_millis(20)).unwrap();
    let _ = next_write(&feed);
    assert_eq!(
        next_write(&feed),
        (0, b"DEL".to_vec(), vec![b"gone".to_vec()])
    );
}

#[test]
fn aof_always_survives_reopening() {
    let dir = ScratchDir::new("embed");
    let open = || {
        Builder::new()
            .dir(dir.path())
            .appendonly(true)
            .appendfsync(Fsync::Always)
            .open()
            .unwrap()
    };
    let e = open();
    for i in 0..200 {
        e.set(format!("k{i}").as_bytes(), format!("v{i}").as_bytes())
            .unwrap();
    }
    e.rpush(b"list", &[b"a", b"b"]).unwrap();
    e.close().unwrap();
    let e = open();
    assert_eq!(e.dbsize().unwrap(), 201);
    assert_eq!(e.get(b"k199").unwrap().as_deref(), Some(&b"v199"[..]));
    assert_eq!(e.lrange(b"list", 0, -1).unwrap().len(), 2);
    assert!(e.info("persistence").contains("aof_enabled:1"));
}

#[test]
fn rdb_save_points_save_on_close() {
    let dir = ScratchDir::new("embed");
    let e = Builder::new()
        .dir(dir.path())
        .save_points(&[(3600, 1)])
        .open()
        .unwrap();
    e.set(b"kept", b"yes").unwrap();
    drop(e);
    assert!(dir.path().join("dump.rdb").exists());
    let e = Builder::new().dir(dir.path()).open().unwrap();
    assert_eq!(e.get(b"kept").unwrap().as_deref(), Some(&b"yes"[..]));
}

#[test]
fn bad_settings_are_errors() {
    let err = Builder::new().set("no-such-directive", "1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = Builder::new().set("maxmemory", "lots").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = Builder::new().hz(0).databases(0).open().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let b = Builder::new().set("maxmemory", "100mb").unwrap();
    let e = b.open().unwrap();
    assert_eq!(e.config_get("maxmemory").as_deref(), Some("104857600"));
    assert!(e.config_set("maxmemory-policy", "bogus").is_err());
}

#[test]
fn a_damaged_aof_refuses_to_open() {
    let dir = ScratchDir::new("embed");
    {
        let e = Builder::new()
            .dir(dir.path())
            .appendonly(true)
            .open()
            .unwrap();
        e.set(b"a", b"1").unwrap();
        e.set(b"b", b"2").unwrap();
    }
    let aof_dir = dir.path().join("appendonlydir");
    let incr = std::fs::read_dir(&aof_dir)
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .unwrap();
    let mut bytes = std::fs::read(&incr).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] = b'!';
    bytes.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    std::fs::write(&incr, bytes).unwrap();
    let err = Builder::new()
        .dir(dir.path())
        .appendonly(true)
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Load);
}

#[test]
fn an_embedded_replica_follows_an_embedded_master() {
    let master = Builder::new()
        .requirepass("secret")
        .set("repl-diskless-sync-delay", "0")
        .unwrap()
        .open()
        .unwrap();
    master.set(b"before", b"sync").unwrap();
    let addr = master.serve_replicas("127.0.0.1:0").unwrap();
    let replica = Builder::new().masterauth("secret").open().unwrap();
    let feed = replica.changes().unwrap();
    replica.replicate_from("127.0.0.1", addr.port()).unwrap();
    assert!(replica.wait_for_sync(Duration::from_secs(20)));
    assert_eq!(
        replica.get(b"before").unwrap().as_deref(),
        Some(&b"sync"[..])
    );
    assert!(
        matches!(replica.role(), Role::Replica { link_up: true, port, .. } if port == addr.port())
    );

    master.set(b"after", b"stream").unwrap();
    master.hset(b"h", b"f", b"v").unwrap();
    wait_until("the stream to arrive", || {
        replica.hget(b"h", b"f").unwrap().is_some()
    });
    assert_eq!(
        replica.get(b"after").unwrap().as_deref(),
        Some(&b"stream"[..])
    );
    // The replica's feed shows the master's writes (after any full-sync gap).
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match feed.recv_timeout(Duration::from_secs(10)) {
            Some(ChangeEvent::Write(c)) => seen.push(c.keys().next().unwrap().to_vec()),
            Some(ChangeEvent::Gap { .. }) => seen.clear(),
            None => panic!("no change arrived"),
        }
    }
    assert_eq!(seen, vec![b"after".to_vec(), b"h".to_vec()]);

    let err = replica.set(b"x", b"y").unwrap_err();
    assert_eq!(
        err.message(),
        "READONLY You can't write against a read only replica."
    );
    wait_until("the master to see its replica's ack", || {
        let st = master.replication();
        st.replicas.len() == 1 && st.replicas[0].acked_offset == st.offset
    });
    assert_eq!(master.replication().replicas[0].state, "online");

    replica.promote().unwrap();
    assert_eq!(replica.role(), Role::Master);
    replica.set(b"x", b"y").unwrap();
    replica.close().unwrap();
    master.close().unwrap();
}

#[test]
fn closed_engines_refuse_work() {
    let e = Engine::open_default().unwrap();
    let db = e.db(0).unwrap();
    let feed = e.changes().unwrap();
    e.close().unwrap();
    assert_eq!(db.get(b"x").unwrap_err().kind(), ErrorKind::Closed);
    assert!(matches!(db.execute(&[b"PING"]), Frame::Error(_)));
    assert_eq!(feed.recv_timeout(Duration::from_millis(200)), None);
}

#[test]
fn replication_runs_over_a_custom_transport() {
    use std::sync::Arc;
    use tandem_transport::mem::Network;

    let net = Network::new();
    let listener = net.listen("master:6379");
    let master = Arc::new(
        Builder::new()
            .set("repl-diskless-sync-delay", "0")
            .unwrap()
            .open()
            .unwrap(),
    );
    master.set(b"k", b"1").unwrap();
    let accepting = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (m2, a2) = (master.clone(), accepting.clone());
    let acceptor = std::thread::spawn(move || {
        while a2.load(std::sync::atomic::Ordering::Acquire) {
            if let Some(link) = listener.accept(Duration::from_millis(20)) {
                m2.serve_link(Box::new(link)).unwrap();
            }
        }
    });
    let replica = Builder::new()
        .transport(Arc::new(net.connector("replica")))
        .open()
        .unwrap();
    replica.replicate_from("master", 6379).unwrap();
    assert!(replica.wait_for_sync(Duration::from_secs(20)));
    assert_eq!(replica.get(b"k").unwrap().as_deref(), Some(&b"1"[..]));

    // The host's channel breaks; the replica reconnects and continues where it was.
    net.cut("replica", "master");
    master.set(b"k", b"2").unwrap();
    net.heal("replica");
    wait_until("the replica to catch up", || {
        replica.get(b"k").unwrap().as_deref() == Some(&b"2"[..])
    });
    let stats = master.info("stats");
    assert!(stats.contains("sync_full:1\r\n"), "{stats}");
    assert!(stats.contains("sync_partial_ok:1\r\n"), "{stats}");
    accepting.store(false, std::sync::atomic::Ordering::Release);
    acceptor.join().unwrap();
    drop(replica);
    Arc::try_unwrap(master).unwrap().close().unwrap();
}
