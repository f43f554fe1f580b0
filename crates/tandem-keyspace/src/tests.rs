use super::*;

fn ks() -> Keyspace {
    Keyspace::new(KeyspaceConfig {
        databases: 4,
        shards_per_db: 8,
    })
}

#[test]
fn set_get_delete() {
    let ks = ks();
    let mut g = ks.lock_key(0, b"k", 1000);
    assert!(g.get(0, b"k").is_none());
    assert!(!g.set(0, b"k", Value::Str(b"v".to_vec()), Ttl::Clear));
    assert!(matches!(g.get(0, b"k"), Some(ValueRef::Str(b"v"))));
    assert!(g.set(0, b"k", Value::Str(b"w".to_vec()), Ttl::Keep));
    assert!(matches!(g.get(0, b"k"), Some(ValueRef::Str(b"w"))));
    assert!(g.delete(0, b"k"));
    assert!(!g.delete(0, b"k"));
    drop(g);
    assert_eq!(ks.dbsize(0), 0);
    assert_eq!(ks.stats().hits, 2);
    assert_eq!(ks.stats().misses, 1);
}

#[test]
fn expiry_on_access_is_reported_on_master_only() {
    let ks = ks();
    {
        let mut g = ks.lock_key(0, b"k", 1000);
        g.set(0, b"k", Value::Str(b"v".to_vec()), Ttl::At(1500));
        assert_eq!(g.expire_at(0, b"k"), Some(Some(1500)));
    }
    ks.set_replica_mode(true);
    {
        let mut g = ks.lock_key(0, b"k", 2000);
        assert!(g.get(0, b"k").is_none());
        assert!(!g.has_expired());
    }
    assert_eq!(ks.dbsize(0), 1);
    ks.set_replica_mode(false);
    let mut g = ks.lock_key(0, b"k", 2000);
    assert!(g.get(0, b"k").is_none());
    assert_eq!(g.take_expired(), vec![(0, Box::from(&b"k"[..]))]);
    drop(g);
    assert_eq!(ks.dbsize(0), 0);
    assert_eq!(ks.expires_count(0), 0);
}

#[test]
fn memory_accounting_returns_to_zero() {
    let ks = ks();
    let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("key:{i}").into_bytes()).collect();
    for k in &keys {
        let mut g = ks.lock_key(1, k, 0);
        g.set(1, k, Value::Str(vec![b'x'; 100]), Ttl::Clear);
        g.set_expire(1, k, Some(10_000));
    }
    assert!(ks.used_memory() > 1000 * 128);
    for k in &keys {
        let mut g = ks.lock_key(1, k, 0);
        let mut list = List::new();
        list.push_back(b"a");
        g.set(1, k, Value::Obj(Object::List(list)), Ttl::Keep);
        g.update(1, k, |o| match o {
            Object::List(l) => {
                l.pop_back();
            }
            _ => unreachable!(),
        });
        assert!(!g.exists(1, k), "empty collection is removed");
    }
    let shard_mem: usize = ks.shards.iter().map(|s| s.lock().mem).sum();
    assert_eq!(shard_mem, 0);
    assert_eq!(ks.dbsize(1), 0);
    let overhead: usize = ks.shards.iter().map(|s| s.lock().table_overhead()).sum();
    assert_eq!(ks.used_memory(), overhead);
    assert_eq!(ks.expires_count(1), 0);
}

#[test]
fn multi_shard_guard_and_swapdb() {
    let ks = ks();
    let pairs: Vec<(usize, &[u8])> = vec![(0, b"a"), (0, b"b"), (2, b"c"), (0, b"a")];
    {
        let mut g = ks.lock(&pairs, 0);
        g.set(0, b"a", Value::Str(b"1".to_vec()), Ttl::Clear);
        g.set(0, b"b", Value::Str(b"2".to_vec()), Ttl::Clear);
        g.set(2, b"c", Value::Str(b"3".to_vec()), Ttl::Clear);
    }
    ks.swap_db(0, 2);
    assert_eq!(ks.dbsize(0), 1);
    assert_eq!(ks.dbsize(2), 2);
    let mut g = ks.lock_key(0, b"c", 0);
    assert!(matches!(g.get(0, b"c"), Some(ValueRef::Str(b"3"))));
}

#[test]
fn watch_flags_fire_on_change() {
    let ks = ks();
    let flag: WatchFlag = Arc::new(AtomicBool::new(false));
    ks.watch(0, b"w", &flag);
    {
        let mut g = ks.lock_key(0, b"other", 0);
        g.set(0, b"other", Value::Str(vec![]), Ttl::Clear);
    }
    assert!(!flag.load(Ordering::Acquire));
    {
        let mut g = ks.lock_key(0, b"w", 0);
        g.set(0, b"w", Value::Str(vec![]), Ttl::Clear);
    }
    assert!(flag.load(Ordering::Acquire));
}

#[test]
fn scan_visits_every_key_once() {
    let ks = ks();
    for i in 0..500 {
        let k = format!("k{i}");
        ks.lock_key(0, k.as_bytes(), 0)
            .set(0, k.as_bytes(), Value::Str(vec![]), Ttl::Clear);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    loop {
        cursor = ks.scan_shard(0, cursor, 0, |k, _| assert!(seen.insert(k.to_vec())));
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
}

#[test]
fn active_expiry_and_eviction_report_deletions() {
    let ks = ks();
    for i in 0..200 {
        let k = format!("k{i}");
        let ttl = if i % 2 == 0 { Ttl::At(100) } else { Ttl::Clear };
        ks.lock_key(0, k.as_bytes(), 0)
            .set(0, k.as_bytes(), Value::Str(vec![b'v'; 50]), ttl);
    }
    let mut deleted = Vec::new();
    let mut cursor = 0;
    while ks.active_expire(&mut cursor, 1000, 200, &mut |db, k| {
        deleted.push((db, k.to_vec()))
    }) > 0
    {}
    assert_eq!(deleted.len(), 100);
    assert_eq!(ks.dbsize(0), 100);

    ks.set_policy(Policy::AllKeysLru);
    ks.set_maxmemory((ks.used_memory() - 3000) as u64);
    let mut evicted = 0;
    assert!(ks.evict(300, &mut |_, _| evicted += 1));
    assert!(evicted > 0);
    assert!(!ks.over_maxmemory());
    ks.set_policy(Policy::NoEviction);
    ks.set_maxmemory(1);
    assert!(!ks.evict(300, &mut |_, _| {}));
}

#[test]
fn random_key_finds_live_keys() {
    let ks = ks();
    assert!(ks.random_key(0, 0).is_none());
    ks.lock_key(0, b"only", 0)
        .set(0, b"only", Value::Str(vec![]), Ttl::Clear);
    assert_eq!(ks.random_key(0, 0), Some(b"only".to_vec()));
}

type Contents = std::collections::BTreeMap<(usize, Vec<u8>), (Value, Option<u64>)>;

fn image_contents(ks: &Keyspace) -> (Contents, u64) {
    let (mut snap, marker) = ks.begin_snapshot(0, || 42u64).expect("no other snapshot");
    let mut out = std::collections::BTreeMap::new();
    while let Some(img) = snap.next_image() {
        for (k, v, at) in img.iter() {
            assert!(
                out.insert((img.db, k.to_vec()), (v.to_value(), at))
                    .is_none(),
                "key twice"
            );
        }
    }
    (out, marker)
}

#[test]
fn snapshot_is_point_in_time_while_writers_change_data() {
    let ks = ks();
    for i in 0..300 {
        let k = format!("k{i}");
        ks.lock_key(0, k.as_bytes(), 0).set(
            0,
            k.as_bytes(),
            Value::Str(format!("v{i}").into_bytes()),
            Ttl::Clear,
        );
    }
    let mut list = List::new();
    list.push_back(b"a");
    ks.lock_key(1, b"list", 0)
        .set(1, b"list", Value::Obj(Object::List(list)), Ttl::At(99_999));
    let (mut snap, offset) = ks.begin_snapshot(0, || 7u64).unwrap();
    assert_eq!(offset, 7);
    assert!(ks.begin_snapshot(0, || ()).is_none(), "one at a time");
    // Writers change, delete, add, and flush a database before the reader gets there.
    for i in 0..300 {
        let k = format!("k{i}");
        let mut g = ks.lock_key(0, k.as_bytes(), 0);
        match i % 3 {
            0 => {
                g.set(0, k.as_bytes(), Value::Str(b"changed".to_vec()), Ttl::Clear);
            }
            1 => {
                g.delete(0, k.as_bytes());
            }
            _ => {
                g.set_expire(0, k.as_bytes(), Some(5));
            }
        }
        let n = format!("new{i}");
        drop(g);
        ks.lock_key(0, n.as_bytes(), 0)
            .set(0, n.as_bytes(), Value::Str(vec![]), Ttl::Clear);
    }
    ks.lock_key(1, b"list", 0).update(1, b"list", |o| match o {
        Object::List(l) => l.push_back(b"b"),
        _ => unreachable!(),
    });
    ks.flush_db(1);
    let mut seen = std::collections::BTreeMap::new();
    while let Some(img) = snap.next_image() {
        for (k, v, at) in img.iter() {
            seen.insert((img.db, k.to_vec()), (v.to_value(), at));
        }
    }
    drop(snap);
    assert_eq!(seen.len(), 301);
    for i in 0..300 {
        let (v, at) = &seen[&(0, format!("k{i}").into_bytes())];
        assert_eq!(v, &Value::Str(format!("v{i}").into_bytes()));
        assert_eq!(*at, None);
    }
    let (v, at) = &seen[&(1, b"list".to_vec())];
    assert_eq!(v.kind(), Kind::List);
    assert!(matches!(v, Value::Obj(Object::List(l)) if l.len() == 1));
    assert_eq!(*at, Some(99_999));
    // After the snapshot, a new one sees the current data and no stale skip marks.
    let (now, _) = image_contents(&ks);
    assert_eq!(now.len(), 200 + 300);
    assert!(now.keys().all(|(db, _)| *db == 0));
}
