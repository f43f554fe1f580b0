"""Helpers of the replication interop tests (test_replication.py).

- `Nodes`: starts tandem-server and redis-server processes on free loopback ports (with
  DEBUG enabled and `repl-diskless-sync-delay 0`), stops them by PID, and renders their
  log tails for failure messages;
- INFO parsing (`info`, `info_fields`, `stat`), `wait_until`, `wait_in_sync` (offsets and
  DEBUG DIGEST equal), `dataset`/`assert_same_data` (a key-by-key dump: type, value and
  absolute expiry of every key of every database);
- `populate`: a dataset with every type and every encoding size class; `live_stream`:
  every kind of write the servers support, including blocking pops served later,
  MULTI/EXEC and writes in other databases; `random_writes`: a seeded random mix;
- process control: `sigstop`/`sigcont`, `cpu_seconds`.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

from servers import Server, redis_binary, tandem_binary

#: Options every server of these tests gets.
BASE_ARGS = ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"]

#: A far-away absolute expiry (ms): keys with it never expire during a test.
FAR = int(time.time() * 1000) + 3_600_000


def tandem_only(*args: str) -> list[str]:
    """Options only tandem-server knows: dropped when TANDEM_SERVER points at
    redis-server (which checks the tests themselves)."""
    return [] if Path(tandem_binary()).name == "redis-server" else list(args)


def is_tandem(server: Server) -> bool:
    """Whether `server` really runs tandem-server (not redis-server standing in for it)."""
    return Path(server.binary).name != "redis-server"


class Nodes:
    """The servers of one test; `stop_all` stops every one of them by PID."""

    def __init__(self, workdir: Path, name: str):
        self.workdir = Path(workdir)
        self.name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
        self.started: list[Server] = []

    def start(self, kind: str = "tandem", *args: str) -> Server:
        binary = tandem_binary() if kind == "tandem" else redis_binary()
        d = self.workdir / f"{self.name}-{len(self.started)}-{kind}"
        s = Server(kind, binary, d, [*BASE_ARGS, *args])
        self.started.append(s)
        return s.start()

    def stop_all(self) -> None:
        for s in self.started:
            if s.proc is not None and s.proc.poll() is None:
                # A stopped process cannot handle SIGTERM.
                try:
                    os.kill(s.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            s.stop()

    def logs(self, n: int = 25) -> str:
        parts = []
        for s in self.started:
            parts.append(f"--- {s.kind} :{s.port} ({s.log_path}) ---\n{s.log_tail(n)}")
        return "\n".join(parts)


# ---------------------------------------------------------------------- INFO, waiting


def info_text(server: Server, section: str = "all") -> str:
    raw = server.raw()
    try:
        if server.password:
            raw.call("AUTH", server.password)
        return raw.call("INFO", section).text()
    finally:
        raw.close()


def info(server: Server, section: str = "all") -> dict[str, str]:
    """INFO `section` as a dict of strings."""
    out = {}
    for line in info_text(server, section).splitlines():
        if line and not line.startswith("#") and ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def info_fields(server: Server, section: str) -> list[str]:
    """The field names of an INFO section, in order."""
    return [ln.split(":", 1)[0] for ln in info_text(server, section).splitlines()
            if ln and ln[0] != "#"]


def stat(server: Server, name: str) -> int:
    return int(info(server, "stats")[name])


def repl(server: Server) -> dict[str, str]:
    return info(server, "replication")


def digest(server: Server) -> str:
    return server.client().execute_command("DEBUG", "DIGEST").decode()


def wait_until(cond, what: str, timeout: float = 15.0, nodes: Nodes | None = None, step=0.02):
    """Polls `cond()` until it is true; fails with `what` (and the servers' logs)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            if cond():
                return
            last_exc = None
        except Exception as e:  # noqa: BLE001 - a server may be mid-restart
            last_exc = e
        time.sleep(step)
    msg = f"timed out after {timeout} s waiting for {what}"
    if last_exc is not None:
        msg += f" (last error: {last_exc!r})"
    if nodes is not None:
        msg += "\n" + nodes.logs()
    raise AssertionError(msg)


def replicaof(replica: Server, master: Server) -> None:
    assert replica.client().execute_command("REPLICAOF", "127.0.0.1", master.port) in (
        b"OK",
        "OK",
        True,
    )


def link_up(replica: Server) -> bool:
    return repl(replica).get("master_link_status") == "up"


def in_sync(master: Server, *replicas: Server) -> bool:
    """Every replica's link is up, its offset equals the master's, and its digest too."""
    m_off = repl(master)["master_repl_offset"]
    for r in replicas:
        ri = repl(r)
        if ri.get("master_link_status") != "up" or ri["master_repl_offset"] != m_off:
            return False
    d = digest(master)
    if any(digest(r) != d for r in replicas):
        return False
    # The master may have moved meanwhile (a PING in the stream): recheck the offset.
    return repl(master)["master_repl_offset"] == m_off


def sync_report(master: Server, *replicas: Server) -> str:
    """Where each replica stands (for failure messages), with a key-by-key difference
    for those whose digest differs."""
    lines = [f"master {master}: offset {repl(master)['master_repl_offset']} "
             f"digest {digest(master)}"]
    for r in replicas:
        ri = repl(r)
        lines.append(f"replica {r}: link {ri.get('master_link_status')} offset "
                     f"{ri['master_repl_offset']} digest {digest(r)}")
        if digest(r) != digest(master):
            try:
                assert_same_data(master, r)
                lines.append("  (same keys, types, values and expiries)")
            except AssertionError as e:
                lines.append(f"  {str(e)[:1500]}")
    return "\n".join(lines)


def wait_in_sync(master: Server, *replicas: Server, timeout: float = 20.0, nodes=None) -> None:
    try:
        wait_until(lambda: in_sync(master, *replicas), "replicas in sync with the master",
                   timeout)
    except AssertionError as e:
        try:
            report = sync_report(master, *replicas)
        except Exception as r:  # noqa: BLE001 - a server may be down
            report = f"(no report: {r!r})"
        raise AssertionError(f"{e}\n{report}\n{nodes.logs() if nodes else ''}") from None


def wait_link_up(replica: Server, timeout: float = 15.0, nodes=None) -> None:
    wait_until(lambda: link_up(replica), f"master_link_status:up on {replica}", timeout, nodes)


# ---------------------------------------------------------------------- key-by-key dump


def databases(server: Server) -> set[int]:
    return {int(k[2:]) for k in info(server, "keyspace") if k.startswith("db")}


def dataset(server: Server, dbs=None) -> dict:
    """{(db, key): (type, value, pexpiretime)} for every key of `dbs` (default: all
    non-empty databases)."""
    out = {}
    fetch = {
        "string": lambda p, k: p.get(k),
        "list": lambda p, k: p.lrange(k, 0, -1),
        "hash": lambda p, k: p.hgetall(k),
        "set": lambda p, k: p.smembers(k),
        "zset": lambda p, k: p.zrange(k, 0, -1, withscores=True),
    }
    norm = {
        "list": tuple,
        "hash": lambda v: tuple(sorted(v.items())),
        "set": lambda v: tuple(sorted(v)),
        "zset": tuple,
    }
    for db in sorted(dbs if dbs is not None else databases(server)):
        c = server.client(db=db)
        keys = list(c.scan_iter(count=1000))
        for i in range(0, len(keys), 2000):
            batch = keys[i:i + 2000]
            p = c.pipeline(transaction=False)
            for k in batch:
                p.type(k)
            types = [t.decode() for t in p.execute()]
            p = c.pipeline(transaction=False)
            for k, t in zip(batch, types):
                fetch.get(t, lambda p, k: p.exists(k))(p, k)
                p.execute_command("PEXPIRETIME", k)
            replies = p.execute()
            for j, (k, t) in enumerate(zip(batch, types)):
                v = replies[2 * j]
                out[(db, k)] = (t, norm.get(t, lambda v: v)(v), replies[2 * j + 1])
    return out


def assert_same_data(master: Server, replica: Server) -> None:
    """Key-by-key equality of two servers (all databases either one uses)."""
    dbs = databases(master) | databases(replica)
    a, b = dataset(master, dbs), dataset(replica, dbs)
    missing = sorted(set(a) - set(b))[:10]
    extra = sorted(set(b) - set(a))[:10]
    differ = [k for k in a if k in b and a[k] != b[k]][:5]
    detail = "; ".join(f"{k}: master {a[k]!r:.200} replica {b[k]!r:.200}" for k in differ)
    assert not missing and not extra and not differ, (
        f"{len(a)} keys on the master, {len(b)} on the replica; missing on the replica: "
        f"{missing}; extra: {extra}; different: {detail}"
    )


# ---------------------------------------------------------------------- datasets


def populate(server: Server, seed: int = 1) -> None:
    """Every type in every encoding size class, expiries, several databases."""
    rng = random.Random(seed)
    r = server.client()
    p = r.pipeline(transaction=False)
    # Strings: integer, negative, float text, short, long compressible, binary, 100 KB.
    p.set("str:int", 12345).set("str:neg", -7).set("str:big-int", 2**62)
    p.set("str:float", "3.14").set("str:short", "hello").set("str:empty", "")
    p.set("str:long", "abc" * 400)
    p.set("str:bin", bytes(range(256)) + b"\r\n\x00end")
    p.set("str:100k", rng.randbytes(100_000))
    # Lists: small (listpack), 3000 items (quicklist), one with a large element.
    p.rpush("list:small", "a", 1, "b", -2, "c")
    for i in range(0, 3000, 500):
        p.rpush("list:3000", *[f"item-{j}" if j % 3 else j for j in range(i, i + 500)])
    p.rpush("list:bigelem", "x" * 5000, "y", "z" * 100)
    # Hashes: small, 600 fields (hashtable), a long value.
    p.hset("hash:small", mapping={"f1": "v1", "f2": 2, "f3": "3.5"})
    p.hset("hash:600", mapping={f"field:{i}": f"value:{i * 7}" for i in range(600)})
    p.hset("hash:longval", mapping={"k": "v" * 200, "n": 1})
    # Sets: integers (intset), 600 integers (hashtable), strings, mixed.
    p.sadd("set:int", *range(-50, 50))
    p.sadd("set:int600", *range(0, 6000, 10))
    p.sadd("set:str", *[f"member-{i}" for i in range(60)])
    p.sadd("set:mixed", 1, 2, "three", 4)
    # Sorted sets: small (listpack), 200 members (skiplist), special scores.
    p.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3, "d": 0})
    p.zadd("zset:200", {f"m{i}": rng.uniform(-1000, 1000) for i in range(200)})
    p.zadd("zset:special", {"inf": float("inf"), "ninf": float("-inf"), "tiny": 1e-300,
                            "huge": 1.7e308, "third": 1 / 3})
    # Expiries on every type (far away: they do not expire during the test).
    for i in range(30):
        p.set(f"ttl:str:{i}", i, pxat=FAR + i * 1000)
    p.rpush("ttl:list", 1, 2, 3).pexpireat("ttl:list", FAR + 1)
    p.hset("ttl:hash", "f", "v").pexpireat("ttl:hash", FAR + 2)
    p.sadd("ttl:set", "a", 5).pexpireat("ttl:set", FAR + 3)
    p.zadd("ttl:zset", {"a": 1}).pexpireat("ttl:zset", FAR + 4)
    p.execute()
    # Other databases.
    for db in (1, 3, 9, 15):
        c = server.client(db=db)
        p = c.pipeline(transaction=False)
        p.set(f"db{db}:str", f"in {db}").rpush(f"db{db}:list", *range(db + 1))
        p.hset(f"db{db}:hash", "db", db).sadd(f"db{db}:set", db, "x")
        p.zadd(f"db{db}:zset", {"m": db}).set(f"db{db}:ttl", 1, pxat=FAR + db)
        p.execute()


def _blocked(server: Server, db: int, *cmd) -> threading.Thread:
    """Runs a blocking command on its own connection; the thread stores the reply."""
    c = server.client(db=db, socket_timeout=20)
    c.ping()

    def run():
        t.reply = c.execute_command(*cmd)

    t = threading.Thread(target=run, daemon=True)
    t.reply = None
    t.start()
    return t


def _wait_blocked(server: Server, n: int) -> None:
    wait_until(lambda: int(info(server, "clients")["blocked_clients"]) >= n,
               f"{n} blocked clients on {server}", 10)


def live_stream(server: Server, rng_seed: int = 7) -> None:
    """Every kind of write, as a client would send them: the master's stream must carry
    their deterministic effects (PXAT expiries, SREM for SPOP, SET KEEPTTL for
    INCRBYFLOAT, non-blocking pops for served blocking pops, MULTI/EXEC, SELECT)."""
    r = server.client()
    now = int(time.time())
    # Strings.
    r.set("s1", "v")
    r.set("s2", "v", ex=1000)
    r.set("s3", "v", px=900_000)
    r.execute_command("SETEX", "s4", 1000, "v")
    r.psetex("s5", 800_000, "v")
    r.set("s6", "v", exat=now + 1000)
    r.set("s7", "v", pxat=FAR + 7)
    r.set("s7", "w", keepttl=True)
    r.set("s8", "v", nx=True)
    r.set("s8", "w", xx=True, get=True)
    r.append("s1", "more")
    r.incr("n")
    r.incrby("n", 10)
    r.decr("n")
    r.decrby("n", 3)
    r.incrbyfloat("f", 1.5)
    r.incrbyfloat("f", "0.1")
    r.incrbyfloat("f", "1e3")
    r.set("fttl", "1.5", ex=1000)
    r.incrbyfloat("fttl", 2.25)
    r.getset("s1", "new")
    r.getex("s2", ex=2000)
    r.getex("s3", persist=True)
    r.getex("s4", pxat=FAR + 4)
    r.getdel("s5")
    r.mset({"m1": 1, "m2": "two"})
    r.msetnx({"m3": 3, "m4": 4})
    r.setnx("s9", "v")
    r.setrange("s1", 2, "XY")
    r.setrange("padded", 5, "x")
    # Lists.
    r.lpush("l", "a", "b", "c")
    r.rpush("l", 1, 2, 3)
    r.lpushx("l", "px")
    r.rpushx("l", "rx")
    r.lpop("l")
    r.rpop("l")
    r.lpop("l", 2)
    r.lset("l", 0, "set0")
    r.linsert("l", "BEFORE", "set0", "before")
    r.linsert("l", "AFTER", 2, "after")
    r.lrem("l", 1, "after")
    r.lmove("l", "l2", "LEFT", "RIGHT")
    r.rpoplpush("l", "l2")
    r.execute_command("LMPOP", 2, "nolist", "l2", "RIGHT", "COUNT", 1)
    r.ltrim("list:3000", 10, 2900)
    r.lset("list:3000", 1500, "middle")
    r.linsert("list:3000", "AFTER", "middle", "after-middle")
    r.lrem("list:3000", 0, 30)
    # Hashes.
    r.hset("h", mapping={"a": 1, "b": 2, "c": "x"})
    r.hsetnx("h", "a", 9)
    r.hsetnx("h", "d", 4)
    r.hdel("h", "b")
    r.hincrby("h", "a", 5)
    r.hincrbyfloat("h", "fl", 0.1)
    r.hincrbyfloat("h", "fl", "2.5e2")
    r.execute_command("HMSET", "h", "e", 5)
    r.hdel("hash:600", *[f"field:{i}" for i in range(0, 600, 7)])
    r.hset("hash:600", mapping={f"new:{i}": i for i in range(50)})
    # Sets (SPOP and SRANDMEMBER-free: SPOP must reach the replica as SREM).
    r.sadd("st", *range(20), "a", "b")
    r.srem("st", 3, "a")
    r.spop("st")
    r.spop("st", 3)
    r.spop("set:int600", 10)
    r.spop("set:str", 100)  # all of them: the key is deleted
    r.smove("st", "st2", 5)
    r.sinterstore("st:inter", "set:int", "st")
    r.sunionstore("st:union", "set:int", "st", "set:mixed")
    r.sdiffstore("st:diff", "set:int", "st")
    # Sorted sets.
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    r.zadd("z", {"a": 10}, xx=True, ch=True)
    r.zadd("z", {"a": 5}, gt=True)
    r.zadd("z", {"e": 1.5}, nx=True)
    r.zadd("z", {"b": 0.5}, incr=True)
    r.zincrby("z", 2.5, "c")
    r.zrem("z", "d")
    r.zpopmin("z")
    r.zpopmax("z", 1)
    r.execute_command("ZMPOP", 1, "z", "MIN")
    r.zremrangebyscore("zset:200", 0, 200)
    r.zremrangebyrank("zset:200", 0, 4)
    r.zadd("zlex", {"a": 0, "b": 0, "c": 0, "d": 0})
    r.zremrangebylex("zlex", "[b", "[c")
    r.zunionstore("z:union", ["zset:small", "zset:200"], aggregate="MAX")
    r.zinterstore("z:inter", {"zset:small": 2, "z": 3})
    r.execute_command("ZDIFFSTORE", "z:diff", 2, "zset:small", "z")
    r.execute_command("ZRANGESTORE", "z:range", "zset:200", 0, 9)
    # Keys and expiries.
    r.set("e1", 1)
    r.expire("e1", 1000)
    r.set("e2", 1)
    r.pexpire("e2", 900_000)
    r.set("e3", 1)
    r.expireat("e3", now + 1000)
    r.set("e4", 1)
    r.pexpireat("e4", FAR + 40)
    r.execute_command("EXPIRE", "e4", 5000, "GT")
    r.execute_command("EXPIRE", "e1", 10, "NX")  # no-op: has an expiry
    r.execute_command("EXPIRE", "e2", 100, "LT")
    r.set("e5", 1, ex=100)
    r.persist("e5")
    r.set("past", 1)
    r.expire("past", -1)  # deletes the key
    r.set("pastat", 1)
    r.pexpireat("pastat", 1)
    r.delete("m1", "nokey")
    r.unlink("m2")
    r.rename("m3", "m3renamed")
    r.renamenx("m4", "m3renamed")
    r.copy("hash:small", "hash:copy")
    r.copy("zset:small", "zset:copy-db2", destination_db=2)
    r.move("s9", 4)
    r.touch("s1")
    # Other databases: SELECT in the stream, SWAPDB, FLUSHDB.
    c2 = server.client(db=2)
    c2.set("two", 2)
    c2.rpush("twol", "x")
    c5 = server.client(db=5)
    c5.set("five", 5)
    c6 = server.client(db=6)
    c6.set("six", 6)
    c6.flushdb()
    c6.set("six-again", 6)
    r.swapdb(5, 7)
    # MULTI/EXEC with a SELECT inside.
    raw = server.raw()
    try:
        for cmd in (("MULTI",), ("SET", "tx1", "a"), ("INCR", "tx2"), ("SELECT", "3"),
                    ("LPUSH", "tx3", "x", "y"), ("SPOP", "db3:set"), ("EXEC",)):
            raw.send(cmd)
        for _ in range(7):
            f = raw.read(timeout=5)
            assert not f.is_error(), f"{f!r}"
    finally:
        raw.close()
    # Blocking pops and moves, served later by writes of other clients.
    blocked = [
        _blocked(server, 0, "BLPOP", "bq1", 10),
        _blocked(server, 0, "BRPOP", "bq2", "bq1x", 10),
        _blocked(server, 0, "BLMOVE", "bq3", "bq3dst", "LEFT", "RIGHT", 10),
        _blocked(server, 0, "BRPOPLPUSH", "bq4", "bq4dst", 10),
        _blocked(server, 0, "BZPOPMIN", "bz1", 10),
        _blocked(server, 0, "BZPOPMAX", "bz2", 10),
        _blocked(server, 8, "BLMPOP", 10, 1, "bq5", "LEFT", "COUNT", 2),
        _blocked(server, 8, "BZMPOP", 10, 1, "bz3", "MAX", "COUNT", 2),
    ]
    _wait_blocked(server, len(blocked))
    r.rpush("bq1", "one", "two")
    r.rpush("bq1x", "only")
    r.rpush("bq3", "m1", "m2")
    r.rpush("bq4", "p1")
    r.zadd("bz1", {"a": 1, "b": 2})
    r.zadd("bz2", {"a": 1, "b": 2})
    c8 = server.client(db=8)
    c8.rpush("bq5", 1, 2, 3)
    c8.zadd("bz3", {"x": 1, "y": 2, "z": 3})
    for t in blocked:
        t.join(15)
        assert not t.is_alive() and t.reply is not None, "a blocked pop was not served"
    # A client blocked inside a transaction does not block (EXEC answers nil at once).
    p = r.pipeline(transaction=True)
    p.blpop("bq-none", 1).set("after-blpop-in-multi", 1)
    assert p.execute()[0] is None


def random_writes(server: Server, seed: int, seconds: float, stop: threading.Event | None = None,
                  keys: int = 300) -> int:
    """A seeded random mix of writes on every type, with expiries (some short), in
    pipelines; runs for `seconds` or until `stop` is set. Returns the number of commands."""
    rng = random.Random(seed)
    r = server.client()
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        db = rng.choice((0, 0, 0, 1, 2))
        p = server.client(db=db).pipeline(transaction=rng.random() < 0.1) if db else \
            r.pipeline(transaction=rng.random() < 0.1)
        for _ in range(50):
            k = f"r{rng.randrange(keys)}"
            op = rng.randrange(24)
            v = rng.randbytes(rng.choice((1, 8, 40, 300)))
            if op == 0:
                p.set(f"s:{k}", v)
            elif op == 1:
                p.set(f"s:{k}", v, px=rng.choice((300, 1500, 600_000)))
            elif op == 2:
                p.incrbyfloat(f"f:{k}", rng.uniform(-10, 10))
            elif op == 3:
                p.incrby(f"i:{k}", rng.randrange(-100, 100))
            elif op == 4:
                p.append(f"s:{k}", v)
            elif op == 5:
                p.rpush(f"l:{k}", *[rng.randrange(1000) for _ in range(rng.randrange(1, 20))])
            elif op == 6:
                p.lpop(f"l:{k}", rng.randrange(1, 5))
            elif op == 7:
                p.ltrim(f"l:{k}", 0, rng.randrange(50))
            elif op == 8:
                p.hset(f"h:{k}", mapping={f"f{rng.randrange(200)}": v for _ in range(5)})
            elif op == 9:
                p.hdel(f"h:{k}", *[f"f{rng.randrange(200)}" for _ in range(3)])
            elif op == 10:
                p.hincrbyfloat(f"h:{k}", "float", rng.uniform(-5, 5))
            elif op == 11:
                p.sadd(f"si:{k}", *[rng.randrange(1000) for _ in range(rng.randrange(1, 30))])
            elif op == 12:
                p.sadd(f"ss:{k}", *[f"m{rng.randrange(1000)}" for _ in range(5)])
            elif op == 13:
                p.spop(rng.choice((f"si:{k}", f"ss:{k}")), rng.randrange(1, 4))
            elif op == 14:
                p.zadd(f"z:{k}", {f"m{rng.randrange(300)}": rng.uniform(-1e6, 1e6)
                                  for _ in range(rng.randrange(1, 10))})
            elif op == 15:
                p.zincrby(f"z:{k}", rng.uniform(-3, 3), f"m{rng.randrange(300)}")
            elif op == 16:
                p.zpopmin(f"z:{k}", rng.randrange(1, 3))
            elif op == 17:
                p.zremrangebyscore(f"z:{k}", rng.uniform(-1e6, 0), rng.uniform(0, 1e6))
            elif op == 18:
                p.expire(rng.choice((f"l:{k}", f"h:{k}", f"z:{k}")), rng.choice((1, 2, 900)))
            elif op == 19:
                p.pexpire(f"si:{k}", rng.choice((200, 800_000)))
            elif op == 20:
                p.persist(rng.choice((f"s:{k}", f"l:{k}")))
            elif op == 21:
                p.delete(rng.choice((f"s:{k}", f"h:{k}", f"z:{k}")))
            elif op == 22:
                p.getex(f"s:{k}", ex=rng.choice((1, 1000)))
            else:
                p.lmove(f"l:{k}", f"l:r{rng.randrange(keys)}", "LEFT", "RIGHT")
            n += 1
        # Errors (WRONGTYPE on a key reused across types) are part of the mix.
        p.execute(raise_on_error=False)
    return n


# ---------------------------------------------------------------------- processes


def sigstop(server: Server) -> None:
    os.kill(server.pid, signal.SIGSTOP)


def sigcont(server: Server) -> None:
    os.kill(server.pid, signal.SIGCONT)


def cpu_seconds(server: Server) -> float:
    """User + system CPU time of the server process so far."""
    fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def log_text(server: Server) -> str:
    try:
        return server.log_path.read_text(errors="replace")
    except OSError:
        return ""
