"""redis-py features against tandem-server; every test also runs against redis-server
(the `server` fixture), which checks the test's own expectations.

redis-py 5+ connects with RESP3 (`HELLO 3`) by default when asked `protocol=3`, and
recent releases make RESP3 the default; tests that depend on the protocol say which."""

import threading
import time

import pytest
import redis

# ---------------------------------------------------------------------- pipelines


@pytest.mark.parametrize("protocol", [2, 3])
def test_pipeline_transaction(server, protocol):
    r = server.client(protocol=protocol)
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").get("a").rpush("l", "x", "y").lrange("l", 0, -1)
    assert pipe.execute() == [True, 2, b"2", 2, [b"x", b"y"]]


def test_pipeline_without_transaction(server):
    r = server.client()
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", i)
    for i in range(1000):
        pipe.get(f"k{i}")
    res = pipe.execute()
    assert res[:1000] == [True] * 1000
    assert res[1000:] == [str(i).encode() for i in range(1000)]
    assert r.dbsize() == 1000


def test_pipeline_errors(server):
    r = server.client()
    r.set("s", "v")
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).lpush("s", "x").incr("a")
    res = pipe.execute(raise_on_error=False)
    assert res[0] is True and res[2] == 2
    assert isinstance(res[1], redis.ResponseError)
    assert str(res[1]).startswith("WRONGTYPE")
    pipe = r.pipeline(transaction=True)
    pipe.lpush("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        pipe.execute()


def test_watch_conflict(server):
    r, other = server.client(), server.client()
    r.set("k", 1)
    with r.pipeline() as pipe:
        pipe.watch("k")
        assert pipe.get("k") == b"1"
        other.set("k", 5)
        pipe.multi()
        pipe.incr("k")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("k") == b"5"


def test_transaction_helper_retries(server):
    r = server.client()
    r.set("counter", 0)
    attempts = []

    def incr(pipe):
        v = int(pipe.get("counter"))
        if not attempts:
            server.client().set("counter", 100)  # forces one retry
        attempts.append(v)
        pipe.multi()
        pipe.set("counter", v + 1)

    r.transaction(incr, "counter")
    assert attempts == [0, 100]
    assert r.get("counter") == b"101"


# ---------------------------------------------------------------------- pub/sub


def wait_message(p, kind, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.2)
        if m and m["type"] == kind:
            return m
    pytest.fail(f"no {kind} message within {timeout}s")


@pytest.mark.parametrize("protocol", [2, 3])
def test_pubsub_get_message(server, protocol):
    r = server.client(protocol=protocol)
    p = r.pubsub()
    p.subscribe("ch")
    assert wait_message(p, "subscribe")["channel"] == b"ch"
    p.psubscribe("news.*")
    assert wait_message(p, "psubscribe")["channel"] == b"news.*"
    pub = server.client()
    assert pub.publish("ch", "hello") == 1
    m = wait_message(p, "message")
    assert (m["channel"], m["data"]) == (b"ch", b"hello")
    assert pub.publish("news.tech", "x") == 1
    m = wait_message(p, "pmessage")
    assert (m["pattern"], m["channel"], m["data"]) == (b"news.*", b"news.tech", b"x")
    assert pub.pubsub_numsub("ch") == [(b"ch", 1)]
    assert pub.pubsub_channels() == [b"ch"]
    assert pub.pubsub_numpat() == 1
    p.unsubscribe("ch")
    wait_message(p, "unsubscribe")
    p.punsubscribe()
    wait_message(p, "punsubscribe")
    assert pub.publish("ch", "lost") == 0
    p.close()


def test_pubsub_handler_thread(server):
    r = server.client()
    got = []
    done = threading.Event()

    def handler(m):
        got.append(m["data"])
        if len(got) == 3:
            done.set()

    errors = []

    def on_error(e, pubsub, thread):
        errors.append(e)
        thread.stop()
        done.set()

    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe(**{"events": handler})
    t = p.run_in_thread(sleep_time=0.05, daemon=True, exception_handler=on_error)
    try:
        pub = server.client()
        deadline = time.monotonic() + 5
        while pub.pubsub_numsub("events")[0][1] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        for i in range(3):
            pub.publish("events", f"e{i}")
        assert done.wait(5), got
        assert not errors, errors[0]
        assert got == [b"e0", b"e1", b"e2"]
    finally:
        t.stop()
        t.join(5)
        p.close()


# ---------------------------------------------------------------------- blocking


def test_blpop_timeout(server):
    r = server.client()
    t0 = time.monotonic()
    assert r.blpop(["nolist"], timeout=0.3) is None
    elapsed = time.monotonic() - t0
    assert 0.25 <= elapsed < 3


class Pusher(threading.Thread):
    """Runs one command from another client after `delay`; join() re-raises its error."""

    def __init__(self, server, delay, *cmd):
        super().__init__(daemon=True)
        self.server, self.delay, self.cmd, self.error = server, delay, cmd, None
        self.start()

    def run(self):
        time.sleep(self.delay)
        try:
            self.server.client().execute_command(*self.cmd)
        except Exception as e:  # noqa: BLE001 - reported by join()
            self.error = e

    def join(self, timeout=10):
        super().join(timeout)
        if self.error:
            raise self.error


def pusher(server, delay, *cmd):
    return Pusher(server, delay, *cmd)


@pytest.mark.parametrize("protocol", [2, 3])
def test_blpop_woken_by_pusher_thread(server, protocol):
    r = server.client(protocol=protocol)
    t = pusher(server, 0.2, "RPUSH", "q", "v1", "v2")
    t0 = time.monotonic()
    assert tuple(r.blpop(["other", "q"], timeout=5)) == (b"q", b"v1")
    assert time.monotonic() - t0 < 4
    t.join()
    assert r.lrange("q", 0, -1) == [b"v2"]


def test_brpop_blmove_bzpopmin_woken(server):
    r = server.client()
    t = pusher(server, 0.1, "LPUSH", "q", "a", "b")
    assert r.brpop(["q"], timeout=5) == (b"q", b"a")
    t.join()
    t = pusher(server, 0.1, "RPUSH", "src", "m")
    assert r.blmove("src", "dst", 5, "LEFT", "RIGHT") == b"m"
    t.join()
    assert r.lrange("dst", 0, -1) == [b"m"]
    t = pusher(server, 0.1, "ZADD", "z", "2", "two", "1", "one")
    assert r.bzpopmin(["z"], timeout=5) == (b"z", b"one", 1.0)
    t.join()


def test_blocked_clients_served_in_order(server):
    results = {}

    def waiter(name):
        try:
            results[name] = server.client().blpop(["fifo"], timeout=5)
        except Exception as e:  # noqa: BLE001 - compared below
            results[name] = e

    threads = []
    for name in ("first", "second"):
        th = threading.Thread(target=waiter, args=(name,), daemon=True)
        th.start()
        threads.append(th)
        time.sleep(0.15)
    server.client().rpush("fifo", "1", "2")
    for th in threads:
        th.join(6)
    assert results == {"first": (b"fifo", b"1"), "second": (b"fifo", b"2")}


# ---------------------------------------------------------------------- scanning


@pytest.mark.parametrize("protocol", [2, 3])
def test_scan_iter(server, protocol):
    r = server.client(protocol=protocol)
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"k:{i}", i)
    for i in range(50):
        pipe.rpush(f"list:{i}", "x")
    pipe.execute()
    keys = list(r.scan_iter(match="k:*", count=50))
    assert set(keys) == {f"k:{i}".encode() for i in range(500)}
    assert set(r.scan_iter(_type="list", count=100)) == {f"list:{i}".encode() for i in range(50)}
    assert len(set(r.scan_iter(count=7))) == 550


def test_collection_scan_iters(server):
    r = server.client()
    fields = {f"f{i}": i for i in range(300)}
    r.hset("h", mapping=fields)
    r.sadd("s", *[f"m{i}" for i in range(300)])
    r.zadd("z", {f"z{i}": i for i in range(300)})
    assert dict(r.hscan_iter("h", count=20)) == {k.encode(): str(v).encode() for k, v in fields.items()}
    assert set(r.sscan_iter("s", count=20)) == {f"m{i}".encode() for i in range(300)}
    assert dict(r.zscan_iter("z", count=20)) == {f"z{i}".encode(): float(i) for i in range(300)}
    assert set(r.sscan_iter("s", match="m1?")) == {f"m1{i}".encode() for i in range(10)}


# ---------------------------------------------------------------------- RESP3


def test_resp3_replies(server):
    r = server.client(protocol=3)
    assert r.ping() is True
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}
    r.zadd("z", {"x": 1.5, "y": 2})
    assert r.zrange("z", 0, -1, withscores=True) == [[b"x", 1.5], [b"y", 2.0]]
    assert r.zscore("z", "x") == 1.5
    r.sadd("s", "m1", "m2")
    assert r.smembers("s") == {b"m1", b"m2"}
    assert r.get("nokey") is None
    assert r.incrbyfloat("f", 0.5) == 0.5
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lpush("h", "x")
    hello = r.execute_command("HELLO", 3)
    assert hello[b"proto"] == 3 and hello[b"server"] == b"redis"


def test_resp3_pipeline_and_transaction(server):
    r = server.client(protocol=3)
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1").hset("h", "f", "v").hgetall("h").exists("a", "h")
    assert pipe.execute() == [True, 1, {b"f": b"v"}, 2]


# ---------------------------------------------------------------------- auth


def test_requirepass(make_server):
    s = make_server("--requirepass", "secret")
    # redis-py's default protocol is RESP3 (HELLO 3 [AUTH ...] at connect).
    with pytest.raises(redis.AuthenticationError):
        s.client(password=None).ping()
    with pytest.raises(redis.AuthenticationError):
        s.client(password="wrong").ping()
    with pytest.raises(redis.AuthenticationError):
        s.client(username="default", password="wrong").ping()
    assert s.client(password="secret").ping() is True
    assert s.client(username="default", password="secret").ping() is True
    assert s.client(password="secret", protocol=3).ping() is True
    # RESP2 connects without a handshake, so AUTH can be sent on the open connection.
    r = s.client(password=None, protocol=2, single_connection_client=True)
    with pytest.raises(redis.AuthenticationError):
        r.get("k")
    with pytest.raises(redis.AuthenticationError):
        r.auth("nope")
    assert r.auth("secret") is True
    assert r.set("k", "v") is True


# ---------------------------------------------------------------------- misc client features


def test_databases_and_flush(server):
    r0, r3 = server.client(db=0), server.client(db=3)
    r3.set("k", "three")
    assert r0.get("k") is None
    assert r3.get("k") == b"three"
    assert r3.dbsize() == 1 and r0.dbsize() == 0
    r3.flushdb()
    assert r3.dbsize() == 0


def test_info_fields(server):
    r = server.client()
    r.set("a", 1)
    r.set("b", 2, ex=100)
    info = r.info()
    for field in (
        "redis_version",
        "redis_mode",
        "tcp_port",
        "uptime_in_seconds",
        "connected_clients",
        "used_memory",
        "maxmemory",
        "maxmemory_policy",
        "loading",
        "total_connections_received",
        "total_commands_processed",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "evicted_keys",
        "role",
        "master_repl_offset",
        "aof_rewrite_in_progress",
    ):
        assert field in info, field
    assert info["tcp_port"] == server.port
    assert info["role"] == "master"
    assert r.info("keyspace")["db0"]["keys"] == 2
    assert r.info("keyspace")["db0"]["expires"] == 1


def test_client_commands(server):
    r = server.client(single_connection_client=True)
    assert r.client_setname("worker-1") is True
    assert r.client_getname() == "worker-1"
    me = r.client_id()
    clients = r.client_list()
    mine = [c for c in clients if int(c["id"]) == me]
    assert mine and mine[0]["name"] == "worker-1"
    assert {"id", "addr", "name", "db", "cmd"} <= set(mine[0])


def test_config_get_set(server):
    r = server.client()
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    r.config_set("maxmemory-policy", "noeviction")


def test_concurrent_clients(server):
    errors = []

    def work():
        c = server.client()
        try:
            for _ in range(200):
                c.incr("counter")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[0]
    assert server.client().get("counter") == b"1600"


def test_decode_responses_and_binary(server):
    r = server.client(decode_responses=True)
    r.set("clé", "héllo wörld ✓")
    assert r.get("clé") == "héllo wörld ✓"
    b = server.client()
    blob = bytes(range(256)) * 4
    b.set(b"\x00\xffbin", blob)
    assert b.get(b"\x00\xffbin") == blob


def test_large_value(server):
    r = server.client()
    big = b"x" * (5 * 1024 * 1024)
    r.set("big", big)
    assert r.strlen("big") == len(big)
    assert r.get("big") == big


def test_expiry_options(server):
    r = server.client()
    r.set("k", "v", ex=100)
    assert 99 <= r.ttl("k") <= 100
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 500, gt=True) is True
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    r.set("short", "v", px=50)
    time.sleep(0.15)
    assert r.get("short") is None
    assert r.exists("short") == 0
