"""Replication over TCP between real processes: a redis-server 7.0 replica of a tandem
master and a tandem replica of a redis-server master (full sync in both payload forms,
a live stream of every kind of write, partial resync after `CLIENT KILL TYPE master`),
tandem-only topologies (three replicas, a chain, promotion with PSYNC2 partial resyncs),
convergence under writes during full sync and link flaps, WAIT, min-replicas-to-write,
read-only and stale-data replicas, backlog overrun, and a wrong masterauth.

Contents are compared with DEBUG DIGEST (tandem computes Redis's digest) and key by key
(type, value and absolute expiry). Each test starts its own servers (see repl_helpers)."""

from __future__ import annotations

import re
import threading
import time

import pytest
import redis

from rawresp import RawClient
from repl_helpers import (
    FAR,
    Nodes,
    assert_same_data,
    cpu_seconds,
    digest,
    info_fields,
    is_tandem,
    link_up,
    live_stream,
    log_text,
    populate,
    random_writes,
    repl,
    replicaof,
    sigcont,
    sigstop,
    stat,
    tandem_only,
    wait_in_sync,
    wait_link_up,
    wait_until,
)


@pytest.fixture
def nodes(workdir, request):
    n = Nodes(workdir, request.node.name)
    yield n
    n.stop_all()


def wait_ack(master, n: int, timeout_ms: int = 5000) -> None:
    """WAIT until `n` replicas acknowledged the master's writes so far."""
    got = master.client().execute_command("WAIT", n, timeout_ms)
    assert got >= n, f"WAIT {n} {timeout_ms} returned {got}"


BACKLOG_SENT = re.compile(r"Partial resynchronization request from \S+ accepted\. "
                          r"Sending (\d+) bytes of backlog")


def cut_and_partial_resync(master, replica, nodes, source=None) -> None:
    """`CLIENT KILL TYPE master` on the replica, writes (on `source`, default the master)
    during the cut, then a partial resync: the master's sync_partial_ok rises by one,
    sync_full does not move. The stream is in database 4 at the cut and continues
    there without a SELECT: the replica must remember it."""
    source = source or master
    source.client(db=4).set("before-cut", 1)
    wait_in_sync(master, replica, nodes=nodes)
    full, ok = stat(master, "sync_full"), stat(master, "sync_partial_ok")
    assert replica.client().execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    if is_tandem(replica):
        # Down for a second before it reconnects (redis-server reconnects at once).
        wait_until(lambda: not link_up(replica), "the link down", 5, nodes)
    writes_during_cut(source)
    wait_until(lambda: stat(master, "sync_partial_ok") == ok + 1,
               "a partial resync after CLIENT KILL TYPE master", 15, nodes)
    wait_in_sync(master, replica, nodes=nodes)
    assert stat(master, "sync_full") == full, "the link cut caused a full resync"
    assert stat(master, "sync_partial_ok") == ok + 1
    if is_tandem(replica):
        # It reconnects after a second (redis-server at once): the writes were made
        # during the cut and came from the backlog.
        sent = BACKLOG_SENT.findall(log_text(master))
        assert sent and int(sent[-1]) > 0, sent


def writes_during_cut(master) -> None:
    c4 = master.client(db=4)
    c4.set("during-cut", 1)
    c4.rpush("during-cut-list", *range(10))
    r = master.client()
    for i in range(100):
        r.set(f"cut:{i}", i)
    r.rpush("list:3000", *range(50))
    r.spop("set:int600", 5)
    r.incrbyfloat("f", 0.5)
    r.execute_command("EXPIRE", "cut:0", 1000)


# ---------------------------------------------------------------------- redis replica of tandem


@pytest.mark.parametrize("mode", ["diskless", "disk"])
def test_redis_replica_of_tandem(nodes, mode):
    args = [] if mode == "diskless" else ["--repl-diskless-sync", "no",
                                          *tandem_only("--repl-snapshot-compression", "yes")]
    master = nodes.start("tandem", *args)
    replica = nodes.start("redis")
    populate(master)
    d0 = digest(master)
    replicaof(replica, master)
    wait_in_sync(master, replica, nodes=nodes)
    assert digest(replica) == d0
    assert_same_data(master, replica)
    assert stat(master, "sync_full") == 1
    target = "disk" if mode == "disk" else "replicas sockets"
    assert f"Starting BGSAVE for SYNC with target: {target}" in log_text(master)
    replica_log = log_text(replica)
    assert ("receiving streamed RDB from master with EOF" in replica_log) == (mode == "diskless")
    # The replica reads as it does on a Redis master.
    ri, mi = repl(replica), repl(master)
    assert ri["role"] == "slave" and ri["master_port"] == str(master.port)
    assert ri["master_replid"] == mi["master_replid"]
    assert mi["connected_slaves"] == "1"
    assert mi["slave0"].startswith(f"ip=127.0.0.1,port={replica.port},state=online,")

    live_stream(master)
    wait_ack(master, 1)
    wait_in_sync(master, replica, nodes=nodes)
    assert_same_data(master, replica)

    cut_and_partial_resync(master, replica, nodes)
    assert_same_data(master, replica)
    assert "Successful partial resynchronization with master." in log_text(replica)


# ---------------------------------------------------------------------- tandem replica of redis

#: OBJECT ENCODING on the Redis master for keys of `populate`: every RDB encoding 7.0 writes.
ENCODINGS = {
    "str:int": "int", "str:short": "embstr", "str:long": "raw",
    "list:small": "quicklist", "list:3000": "quicklist",  # 7.0: always quicklist
    "hash:small": "listpack", "hash:600": "hashtable",
    "set:int": "intset", "set:int600": "hashtable", "set:str": "hashtable",
    "zset:small": "listpack", "zset:200": "skiplist",
}


@pytest.mark.parametrize("mode", ["diskless", "disk"])
def test_tandem_replica_of_redis(nodes, mode):
    args = [] if mode == "diskless" else ["--repl-diskless-sync", "no"]
    master = nodes.start("redis", *args)
    replica = nodes.start("tandem")
    populate(master)
    m = master.client()
    for key, enc in ENCODINGS.items():
        assert m.object("encoding", key).decode() == enc, key
    d0 = digest(master)
    replicaof(replica, master)
    wait_in_sync(master, replica, nodes=nodes)
    assert digest(replica) == d0
    assert_same_data(master, replica)
    assert stat(master, "sync_full") == 1
    assert ("Starting BGSAVE for SYNC with target: disk" in log_text(master)) == (mode == "disk")
    ri, mi = repl(replica), repl(master)
    assert ri["role"] == "slave" and ri["master_port"] == str(master.port)
    assert ri["master_replid"] == mi["master_replid"]
    assert mi["slave0"].startswith(f"ip=127.0.0.1,port={replica.port},state=online,")

    live_stream(master)
    wait_ack(master, 1)
    wait_in_sync(master, replica, nodes=nodes)
    assert_same_data(master, replica)

    cut_and_partial_resync(master, replica, nodes)
    assert_same_data(master, replica)
    assert "Successful partial resynchronization with master." in log_text(replica)


# ---------------------------------------------------------------------- tandem topologies


def role(server):
    """ROLE as decoded frames (kinds kept: ports and offsets differ in type by role)."""
    with RawClient(server.port) as c:
        f = c.call("ROLE")
    assert f.kind == "*", f
    return f.children


def check_master_role(master, replicas):
    before = int(repl(master)["master_repl_offset"])
    ch = role(master)
    after = int(repl(master)["master_repl_offset"])
    assert [c.kind for c in ch] == ["$", ":", "*"]
    assert ch[0].value == b"master"
    assert before <= int(ch[1].value) <= after
    listed = set()
    for entry in ch[2].children:
        assert [c.kind for c in entry.children] == ["$", "$", "$"], entry
        ip, port, off = (c.value.decode() for c in entry.children)
        assert ip == "127.0.0.1" and int(off) >= 0
        listed.add(int(port))
    assert listed == {r.port for r in replicas}


def check_replica_role(replica, master, state="connected"):
    before = int(repl(replica)["master_repl_offset"])
    ch = role(replica)
    after = int(repl(replica)["master_repl_offset"])
    assert [c.kind for c in ch] == ["$", "$", ":", "$", ":"]
    assert [ch[0].value, ch[1].value, int(ch[2].value), ch[3].value] == [
        b"slave", b"127.0.0.1", master.port, state.encode()]
    if state == "connected":
        assert before <= int(ch[4].value) <= after
    else:
        assert int(ch[4].value) == -1


def slaves(master) -> dict[int, dict[str, str]]:
    """The master's `slaveN:` lines, by replica port."""
    out = {}
    mi = repl(master)
    for i in range(int(mi["connected_slaves"])):
        fields = dict(kv.split("=", 1) for kv in mi[f"slave{i}"].split(","))
        assert list(fields) == ["ip", "port", "state", "offset", "lag"], mi[f"slave{i}"]
        out[int(fields["port"])] = fields
    return out


def test_one_master_three_replicas(nodes):
    master = nodes.start("tandem")
    replicas = [nodes.start("tandem") for _ in range(3)]
    populate(master)
    for r in replicas:
        replicaof(r, master)
    wait_in_sync(master, *replicas, nodes=nodes)
    assert stat(master, "sync_full") == 3
    live_stream(master)
    assert master.client().execute_command("WAIT", 3, 5000) == 3
    for r in replicas:
        assert r.client().get("s1") == master.client().get("s1")  # visible right after WAIT
    wait_in_sync(master, *replicas, nodes=nodes)
    assert_same_data(master, replicas[2])
    wait_until(lambda: all(s["offset"] == repl(master)["master_repl_offset"]
                           for s in slaves(master).values()), "ACKed offsets in INFO", 5, nodes)
    sl = slaves(master)
    assert set(sl) == {r.port for r in replicas}
    for s in sl.values():
        assert s["ip"] == "127.0.0.1" and s["state"] == "online" and int(s["lag"]) <= 1
    check_master_role(master, replicas)
    for r in replicas:
        check_replica_role(r, master)
        assert repl(r)["master_replid"] == repl(master)["master_replid"]


@pytest.mark.parametrize("middle", ["tandem", "redis"])
def test_chain(nodes, middle):
    """m → r1 → r2: r1 forwards the bytes it receives, so offsets and replids agree
    along the chain; a cut between m and r1 is a partial resync that keeps r2 attached."""
    m = nodes.start("tandem")
    r1 = nodes.start(middle)
    r2 = nodes.start("tandem")
    populate(m)
    replicaof(r1, m)
    wait_in_sync(m, r1, nodes=nodes)
    replicaof(r2, r1)
    wait_in_sync(m, r1, r2, nodes=nodes)
    live_stream(m)
    wait_in_sync(m, r1, r2, nodes=nodes)
    assert_same_data(m, r2)
    ids = {repl(s)["master_replid"] for s in (m, r1, r2)}
    assert len(ids) == 1
    assert repl(r1)["connected_slaves"] == "1"
    assert list(slaves(r1)) == [r2.port]
    check_replica_role(r2, r1)
    # Cut m → r1: partial resync, r2 stays attached to r1 (no new sync on r1).
    cut_and_partial_resync(m, r1, nodes)
    wait_in_sync(m, r1, r2, nodes=nodes)
    assert stat(r1, "sync_full") == 1 and stat(r1, "sync_partial_ok") == 0
    # Cut r1 → r2: partial resync from r1.
    cut_and_partial_resync(r1, r2, nodes, source=m)
    wait_in_sync(m, r1, r2, nodes=nodes)
    assert_same_data(m, r2)


def test_promotion_and_old_master_rejoining(nodes):
    m = nodes.start("tandem")
    r1, r2, r3 = (nodes.start("tandem") for _ in range(3))
    populate(m)
    for r in (r1, r2, r3):
        replicaof(r, m)
    wait_in_sync(m, r1, r2, r3, nodes=nodes)
    live_stream(m)
    assert m.client().execute_command("WAIT", 3, 5000) == 3
    old = repl(m)
    old_id, old_off = old["master_replid"], int(old["master_repl_offset"])
    wait_in_sync(m, r1, r2, r3, nodes=nodes)

    # r1 is promoted: a new history that continues the old one.
    assert r1.client().execute_command("REPLICAOF", "NO", "ONE") in (b"OK", True)
    p = repl(r1)
    assert p["role"] == "master"
    assert p["master_replid"] != old_id and len(p["master_replid"]) == 40
    assert p["master_replid2"] == old_id
    assert int(p["second_repl_offset"]) == old_off + 1
    assert int(p["master_repl_offset"]) == old_off
    assert "MASTER MODE enabled" in log_text(r1)

    # The other replicas follow it with a partial resync (PSYNC with the old id).
    for r in (r2, r3):
        replicaof(r, r1)
    wait_in_sync(r1, r2, r3, nodes=nodes)
    assert stat(r1, "sync_partial_ok") == 2 and stat(r1, "sync_full") == 0
    for r in (r2, r3):
        ri = repl(r)
        assert ri["master_replid"] == p["master_replid"]
        assert ri["master_replid2"] == old_id
        assert "Successful partial resynchronization with master." in log_text(r)
    check_master_role(r1, [r2, r3])

    # Writes on the new master reach them; the old master diverges meanwhile.
    c = r1.client()
    c.set("after-promotion", 1)
    c.rpush("list:3000", "p1", "p2")
    c.spop("set:int600", 3)
    c.incrbyfloat("f", 1.25)
    m.client().set("divergent", "lost")
    assert c.execute_command("WAIT", 2, 5000) == 2
    wait_in_sync(r1, r2, r3, nodes=nodes)
    assert_same_data(r1, r3)

    # The old master rejoins as a replica: its divergent write is discarded.
    replicaof(m, r1)
    wait_in_sync(r1, m, r2, r3, nodes=nodes)
    assert m.client().get("divergent") is None
    assert m.client().get("after-promotion") == b"1"
    assert [repl(s)["role"] for s in (m, r1, r2, r3)].count("master") == 1
    check_master_role(r1, [m, r2, r3])


def test_info_replication_layout_matches_redis(nodes):
    """Field names and order of INFO replication, master and replica side, link up and
    down, as redis-server prints them in the same situation (redis-wire.md §5)."""
    knobs = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"]
    layouts = {}
    for kind in ("redis", "tandem"):
        m = nodes.start(kind, *knobs)
        r = nodes.start(kind)
        fresh = info_fields(r, "replication")
        replicaof(r, m)
        wait_link_up(r, nodes=nodes)
        wait_until(lambda: repl(m)["min_slaves_good_slaves"] == "1", "a good replica", 10, nodes)
        m.client().set("k", "v")
        check_master_role(m, [r])
        check_replica_role(r, m)
        up_m, up_r = info_fields(m, "replication"), info_fields(r, "replication")
        m.stop()
        wait_until(lambda: not link_up(r), "link down", 10, nodes)
        check_replica_role(r, m, state="connect")
        down_r = info_fields(r, "replication")
        layouts[kind] = (fresh, up_m, up_r, down_r)
        r.stop()
    assert layouts["tandem"] == layouts["redis"]
    _, up_m, up_r, down_r = layouts["tandem"]
    assert up_m == ["role", "connected_slaves", "min_slaves_good_slaves", "slave0",
                    "master_failover_state", "master_replid", "master_replid2",
                    "master_repl_offset", "second_repl_offset", "repl_backlog_active",
                    "repl_backlog_size", "repl_backlog_first_byte_offset",
                    "repl_backlog_histlen"]
    assert up_r[:12] == ["role", "master_host", "master_port", "master_link_status",
                         "master_last_io_seconds_ago", "master_sync_in_progress",
                         "slave_read_repl_offset", "slave_repl_offset", "slave_priority",
                         "slave_read_only", "replica_announced", "connected_slaves"]
    assert "master_link_down_since_seconds" in down_r


# ---------------------------------------------------------------------- convergence


def test_convergence_through_full_sync_and_link_flaps(nodes):
    """A seeded random mix of every type, with expiries (some of them short), written
    while a tandem and a redis replica full-sync and while their links are cut three
    times; at the end every replica's contents equal the master's."""
    seed = 20240611
    # The writer produces about 2 MB of stream a second and a replica reconnects within
    # a second: the backlog must hold more than that for the flaps to resync partially.
    master = nodes.start("tandem", "--repl-backlog-size", "32mb")
    replicas = [nodes.start("tandem"), nodes.start("redis")]
    p = master.client().pipeline(transaction=False)
    for i in range(20_000):  # something for the full sync to stream while writes go on
        p.set(f"bulk:{i}", f"{i:08}" * 8)
        if i % 10 == 0:
            p.pexpireat(f"bulk:{i}", FAR + i)
    p.execute()
    populate(master)
    stop = threading.Event()
    errors = []

    def writer():
        try:
            random_writes(master, seed, 30, stop)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        time.sleep(0.3)
        for r in replicas:
            replicaof(r, master)
        for r in replicas:
            wait_link_up(r, nodes=nodes)
        wait_until(lambda: stat(master, "sync_full") == 2, "two full syncs", 10, nodes)
        for flap in range(3):
            time.sleep(0.7)
            ok = stat(master, "sync_partial_ok")
            for r in replicas:
                assert r.client().execute_command("CLIENT", "KILL", "TYPE", "master") == 1
            wait_until(lambda: stat(master, "sync_partial_ok") == ok + 2,
                       f"partial resyncs after link flap {flap + 1}", 10, nodes)
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(30)
    assert not errors, f"writer failed (seed {seed}): {errors[0]!r}"
    assert stat(master, "sync_full") == 2, "a link flap caused a full resync"
    assert stat(master, "sync_partial_ok") == 6
    master.client().set("final", seed)
    assert master.client().execute_command("WAIT", 2, 5000) == 2
    # Short expiries end on the master (DELs follow in the stream): wait them out.
    time.sleep(2.2)
    wait_in_sync(master, *replicas, timeout=30, nodes=nodes)
    for r in replicas:
        assert_same_data(master, r)


# ---------------------------------------------------------------------- WAIT, min-replicas


def timed(fn):
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0


def test_wait(nodes):
    master = nodes.start("tandem")
    r1, r2 = nodes.start("tandem"), nodes.start("tandem")
    for r in (r1, r2):
        replicaof(r, master)
    wait_in_sync(master, r1, r2, nodes=nodes)
    c = master.client()
    c.set("k", "v1")
    assert c.execute_command("WAIT", 2, 5000) == 2
    assert r1.client().get("k") == b"v1" and r2.client().get("k") == b"v1"
    got, took = timed(lambda: c.execute_command("WAIT", 3, 300))
    assert got == 2 and 0.25 <= took < 1.0, (got, took)
    try:
        sigstop(r1)
        c.set("k", "v2")
        got, took = timed(lambda: c.execute_command("WAIT", 2, 500))
        assert got == 1 and 0.4 <= took < 1.0, (got, took)
        sigstop(r2)
        c.set("k", "v3")
        got, took = timed(lambda: c.execute_command("WAIT", 1, 500))
        assert got == 0 and 0.4 <= took < 1.0, (got, took)
        # WAIT inside MULTI answers at once.
        p = c.pipeline(transaction=True)
        p.set("k", "v4").execute_command("WAIT", 2, 0)
        (_, got), took = timed(p.execute)
        assert got == 0 and took < 0.3
    finally:
        sigcont(r1)
        sigcont(r2)
    assert c.execute_command("WAIT", 2, 5000) == 2
    assert r1.client().get("k") == b"v4" and r2.client().get("k") == b"v4"
    wait_in_sync(master, r1, r2, nodes=nodes)
    # Stopping and continuing a replica does not cut its link.
    assert stat(master, "sync_full") == 2 and stat(master, "sync_partial_ok") == 0
    with pytest.raises(redis.ResponseError) as e:
        r1.client().execute_command("WAIT", 1, 0)
    assert str(e.value).startswith("WAIT cannot be used with replica instances.")


NOREPLICAS = "NOREPLICAS Not enough good replicas to write."


def test_min_replicas_to_write(nodes):
    master = nodes.start("tandem", "--min-replicas-to-write", "2",
                         "--min-replicas-max-lag", "10")
    c = master.client()
    raw = master.raw()

    def write_reply():
        return raw.call("SET", "k", "v").raw

    assert write_reply() == b"-" + NOREPLICAS.encode() + b"\r\n"
    assert c.get("k") is None  # reads still work
    assert repl(master)["min_slaves_good_slaves"] == "0"
    r1, r2 = nodes.start("tandem"), nodes.start("tandem")
    replicaof(r1, master)
    wait_until(lambda: repl(master)["min_slaves_good_slaves"] == "1", "one good replica", 10,
               nodes)
    assert write_reply().startswith(b"-NOREPLICAS")
    replicaof(r2, master)
    wait_until(lambda: write_reply() == b"+OK\r\n", "writes accepted with two replicas", 10,
               nodes)
    assert c.config_set("min-replicas-max-lag", 2)
    try:
        sigstop(r2)
        t0 = time.monotonic()
        wait_until(lambda: write_reply().startswith(b"-NOREPLICAS"),
                   "writes refused once a replica lags", 8, nodes, step=0.1)
        assert time.monotonic() - t0 <= 2 + 1 + 1.5, "refused later than max-lag + 1 s"
    finally:
        sigcont(r2)
    wait_until(lambda: write_reply() == b"+OK\r\n", "writes accepted again", 10, nodes)
    raw.close()
    assert c.execute_command("WAIT", 2, 5000) == 2
    wait_in_sync(master, r1, r2, nodes=nodes)
    assert stat(master, "sync_full") == 2 and stat(master, "sync_partial_ok") == 0


# ---------------------------------------------------------------------- replica behaviour

READONLY = b"-READONLY You can't write against a read only replica.\r\n"


@pytest.mark.parametrize("kind", ["tandem", "redis"])
def test_read_only_replica(nodes, kind):
    master = nodes.start("tandem")
    replica = nodes.start(kind)
    populate(master)
    replicaof(replica, master)
    wait_in_sync(master, replica, nodes=nodes)
    d = digest(replica)
    with RawClient(replica.port) as c:
        for cmd in (("SET", "k", "v"), ("DEL", "str:int"), ("INCR", "str:int"),
                    ("LPUSH", "list:small", "x"), ("HSET", "hash:small", "f", "v"),
                    ("SADD", "set:int", 1000), ("ZADD", "zset:small", 1, "q"),
                    ("EXPIRE", "str:short", 10), ("PERSIST", "ttl:list"),
                    ("RENAME", "str:int", "other"), ("FLUSHALL",), ("FLUSHDB",),
                    ("SPOP", "set:int"), ("BLPOP", "list:small", 1)):
            assert c.call(*cmd).raw == READONLY, cmd
        assert c.call("GET", "str:int").raw == b"$5\r\n12345\r\n"
        assert c.call("MULTI").raw == b"+OK\r\n"
        assert c.call("SET", "k", "v").raw == READONLY
        assert c.call("EXEC").raw.startswith(b"-EXECABORT")
    assert digest(replica) == d
    master.client().set("k", "from-master")
    wait_in_sync(master, replica, nodes=nodes)
    assert replica.client().get("k") == b"from-master"


@pytest.mark.parametrize("kind", ["tandem", "redis"])
def test_replica_serve_stale_data(nodes, kind):
    master = nodes.start("tandem")
    replica = nodes.start(kind, "--replica-serve-stale-data", "no")
    master.client().set("k", "v")
    replicaof(replica, master)
    wait_in_sync(master, replica, nodes=nodes)
    assert replica.client().get("k") == b"v"
    master.stop()
    wait_until(lambda: not link_up(replica), "link down", 10, nodes)
    down = b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
    with RawClient(replica.port) as c:
        assert c.call("GET", "k").raw == down
        assert c.call("PING").raw == down
        assert c.call("DBSIZE").raw == down
        assert c.call("INFO", "replication").kind == "$"
        assert c.call("ROLE").kind == "*"
        assert c.call("CONFIG", "SET", "replica-serve-stale-data", "yes").raw == b"+OK\r\n"
        assert c.call("GET", "k").raw == b"$1\r\nv\r\n"


@pytest.mark.parametrize("kind", ["tandem", "redis"])
def test_backlog_overrun_forces_a_full_sync(nodes, kind):
    """A replica stopped while the master writes far more than its 16 KB backlog is
    dropped (output buffer limit) and can only come back with a full sync."""
    master = nodes.start("tandem", "--repl-backlog-size", "16384")
    replica = nodes.start(kind)
    c = master.client()
    assert c.config_set("client-output-buffer-limit", "replica 256kb 0 0")
    populate(master)
    replicaof(replica, master)
    wait_in_sync(master, replica, nodes=nodes)
    assert repl(master)["repl_backlog_size"] == "16384"
    full, err = stat(master, "sync_full"), stat(master, "sync_partial_err")
    try:
        sigstop(replica)
        blob = b"x" * 100_000
        p = c.pipeline(transaction=False)
        for i in range(200):  # 20 MB: more than the backlog, the limit and socket buffers
            p.set(f"big:{i % 20}", blob + str(i).encode())
        p.execute()
        c.set("after", "overrun")
        assert int(repl(master)["repl_backlog_histlen"]) <= 16384 + 100_000 * 2
        # Dropped at once, not when the replica wakes up or after repl-timeout.
        wait_until(lambda: repl(master)["connected_slaves"] == "0",
                   "the stalled replica dropped for its output buffer limit", 5, nodes)
    finally:
        sigcont(replica)
    wait_until(lambda: stat(master, "sync_full") == full + 1, "a second full sync", 20, nodes)
    wait_in_sync(master, replica, nodes=nodes)
    assert stat(master, "sync_partial_err") == err + 1
    assert "overcoming of output buffer limits" in log_text(master)
    assert replica.client().get("after") == b"overrun"
    assert_same_data(master, replica)


@pytest.mark.parametrize("master_kind", ["tandem", "redis"])
def test_wrong_masterauth_retries_without_spinning(nodes, master_kind):
    master = nodes.start(master_kind, "--requirepass", "secret")
    master.client().set("k", "v")
    replica = nodes.start("tandem", "--masterauth", "wrong")
    replicaof(replica, master)
    wait_until(lambda: "Unable to AUTH to MASTER" in log_text(replica),
               "the AUTH failure in the replica's log", 10, nodes)
    line = next(ln for ln in log_text(replica).splitlines() if "Unable to AUTH to MASTER" in ln)
    assert "WRONGPASS" in line, line
    attempts0, cpu0 = log_text(replica).count("Unable to AUTH to MASTER"), cpu_seconds(replica)
    time.sleep(2)
    attempts = log_text(replica).count("Unable to AUTH to MASTER") - attempts0
    cpu = cpu_seconds(replica) - cpu0
    assert 1 <= attempts <= 4, f"{attempts} AUTH attempts in 2 s"
    assert cpu < 0.2, f"the replica used {cpu:.2f} s of CPU in 2 s while retrying"
    assert not link_up(replica)
    assert replica.client().config_set("masterauth", "secret")
    wait_in_sync(master, replica, nodes=nodes)
    assert replica.client().get("k") == b"v"
