"""Bad input and connection handling: malformed RESP gets Redis's exact
`-ERR Protocol error: ...` and closes only that connection; partial writes, big
pipelines, inline commands, many clients, limits (requirepass before AUTH,
proto-max-bulk-len, client-query-buffer-limit, maxclients, timeout), CLIENT KILL and
SHUTDOWN behave as with redis-server."""

import random
import socket
import time

import pytest

from rawresp import RawClient


def exchange(port, data: bytes, wait: float = 0.1, quiet: float = 0.4):
    """Sends `data`, then returns (everything received, whether the server closed);
    reading stops when the server closes or stays quiet for `quiet` seconds."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        time.sleep(wait)
        s.settimeout(quiet)
        out, closed = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                out += chunk
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        return out, closed
    finally:
        s.close()


MALFORMED = {
    "multibulk-length-not-a-number": b"*abc\r\n",
    "multibulk-length-too-big": b"*99999999999999999999\r\n",
    "bulk-length-not-a-number": b"*1\r\n$abc\r\n",
    "bulk-length-negative": b"*1\r\n$-1\r\n",
    "bulk-length-over-proto-max-bulk-len": b"*1\r\n$600000000\r\n",
    "bulk-length-overflow": b"*1\r\n$99999999999999999999\r\n",
    "expected-dollar": b"*1\r\nfoo\r\n",
    "expected-dollar-got-colon": b"*1\r\n:1\r\n",
    "good-then-bad": b"*1\r\n$4\r\nPING\r\n*x\r\n",
    "inline-unbalanced-double-quote": b'SET "a b\r\n',
    "inline-unbalanced-single-quote": b"SET 'a\r\n",
    "inline-too-big": b"x" * 70000,
}

WELL_FORMED_ODDITIES = {
    "empty-multibulk": b"*0\r\nPING\r\n",
    "null-multibulk": b"*-1\r\nPING\r\n",
    "empty-inline-lines": b"\r\n\r\nPING\r\n",
    "inline-lf-only": b"PING\nPING\r\n",
    "inline-quoted": b'ECHO "a\\x41\\n"\r\nECHO \'it s\'\r\n',
    "inline-extra-spaces": b"ECHO   a    b\r\nSET  k   v \r\nGET k\r\n",
    "inline-resp-type-bytes": b"$4\r\nPING\r\n:1\r\n",
    "inline-nul-byte": b"ECHO a\x00b\r\nPING\x00x\r\n\x00\r\nPING\r\n",
    "pipelined-mixed": b"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO x\r\n",
    "incomplete-multibulk-waits": b"*2\r\n$4\r\nECHO\r\n",
    "huge-multibulk-count-waits": b"*2000000000\r\n",
}


def assert_serving(server):
    """The server still answers a new client promptly."""
    with RawClient(server.port, timeout=2) as c:
        assert c.call("PING").raw == b"+PONG\r\n"


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_resp_same_reply_and_close(pair, data):
    tandem, redis_ref = pair
    assert exchange(tandem.port, data) == exchange(redis_ref.port, data)
    assert_serving(tandem)


@pytest.mark.parametrize("data", list(WELL_FORMED_ODDITIES.values()), ids=list(WELL_FORMED_ODDITIES))
def test_unusual_but_valid_input(pair, data):
    tandem, redis_ref = pair
    assert exchange(tandem.port, data) == exchange(redis_ref.port, data)
    assert_serving(tandem)


def test_protocol_error_closes_only_that_connection(server):
    idle = RawClient(server.port)
    assert idle.call("SET", "k", "v").raw == b"+OK\r\n"
    out, closed = exchange(server.port, b"*1\r\n$abc\r\n")
    assert out == b"-ERR Protocol error: invalid bulk length\r\n" and closed
    assert idle.call("GET", "k").raw == b"$1\r\nv\r\n"
    with RawClient(server.port) as fresh:
        assert fresh.call("PING").raw == b"+PONG\r\n"
    idle.close()


def test_garbage_does_not_hurt_the_server(server):
    rng = random.Random(1234)
    watcher = RawClient(server.port)
    for _ in range(40):
        n = rng.randrange(1, 300)
        junk = bytes(rng.choice(b"*$:+-\r\n0123456789abc \x00\xff") for _ in range(n))
        exchange(server.port, junk, wait=0, quiet=0.05)
    assert watcher.call("PING").raw == b"+PONG\r\n"
    watcher.close()
    assert server.alive()


def test_byte_by_byte_request(server):
    with RawClient(server.port) as c:
        for b in b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n":
            c.send_raw(bytes([b]))
            time.sleep(0.001)
        assert c.read().raw == b"+OK\r\n"
        for b in b"GET key\r\n":
            c.send_raw(bytes([b]))
        assert c.read().raw == b"$5\r\nvalue\r\n"


def test_big_pipeline_in_one_write(server):
    with RawClient(server.port, timeout=30) as c:
        c.send_raw(b"*1\r\n$4\r\nPING\r\n" * 10000 + b"PING\r\n" * 1000)
        for _ in range(11000):
            assert c.read().raw == b"+PONG\r\n"


def test_large_argument_split_across_writes(server):
    value = bytes(range(256)) * 8192  # 2 MiB
    with RawClient(server.port, timeout=30) as c:
        data = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n" % (len(value), value)
        for i in range(0, len(data), 100000):
            c.send_raw(data[i : i + 100000])
        assert c.read().raw == b"+OK\r\n"
        assert c.call("GET", "big").value == value


def test_many_connections(server):
    conns = [RawClient(server.port) for _ in range(200)]
    try:
        for c in conns:
            c.send(["PING"])
        for c in conns:
            assert c.read().raw == b"+PONG\r\n"
    finally:
        for c in conns:
            c.close()
    with RawClient(server.port) as c:
        assert c.call("PING").raw == b"+PONG\r\n"


def test_disconnect_mid_command(server):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc")
    s.close()
    time.sleep(0.1)
    with RawClient(server.port) as c:
        assert c.call("EXISTS", "half").raw == b":0\r\n"


def test_client_kill_by_id(server):
    victim = RawClient(server.port)
    vid = int(victim.call("CLIENT", "ID").value)
    with RawClient(server.port) as killer:
        assert killer.call("CLIENT", "KILL", "ID", str(vid)).raw == b":1\r\n"
    assert victim.is_closed()
    victim.close()


def unauth_probe(port):
    return [
        exchange(port, b"*20\r\n"),
        exchange(port, b"*10\r\n"),
        exchange(port, b"*1\r\n$20000\r\n"),
        exchange(port, b"*1\r\n$16384\r\n"),
        exchange(port, b"PING\r\n"),
        exchange(port, b"AUTH wrong\r\n"),
        exchange(port, b"AUTH default wrong\r\n"),
        exchange(port, b"AUTH pw\r\nPING\r\n"),
        exchange(port, b"HELLO 3\r\n"),
        exchange(port, b"HELLO 2 AUTH default wrong\r\n"),
        exchange(port, b"AUTH pw\r\n*1\r\n$20000\r\n"),
    ]


def test_limits_before_auth(make_server):
    tandem = make_server("--requirepass", "pw", kind="tandem")
    redis_ref = make_server("--requirepass", "pw", kind="redis")
    assert unauth_probe(tandem.port) == unauth_probe(redis_ref.port)


def limits_probe(port):
    return [
        exchange(port, b"*1\r\n$1048577\r\n"),
        exchange(port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$900000\r\n" + b"x" * 900002 + b"GET k\r\n"),
        exchange(port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n" + b"x" * 1048578 + b"STRLEN k\r\n"),
    ]


def test_proto_max_bulk_len(make_server):
    args = ("--proto-max-bulk-len", "1mb")
    tandem, redis_ref = make_server(*args, kind="tandem"), make_server(*args, kind="redis")
    got, want = limits_probe(tandem.port), limits_probe(redis_ref.port)
    assert [(o[:200], c) for o, c in got] == [(o[:200], c) for o, c in want]


def test_client_query_buffer_limit(make_server):
    def probe(port):
        big = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1100000\r\n" + b"x" * 1100002
        out, closed = exchange(port, big)
        with RawClient(port) as c:
            alive = c.call("PING").raw
            exists = c.call("EXISTS", "k").raw
        return out, closed, alive, exists

    args = ("--client-query-buffer-limit", "1mb")
    tandem, redis_ref = make_server(*args, kind="tandem"), make_server(*args, kind="redis")
    assert probe(tandem.port) == probe(redis_ref.port)


def test_maxclients(make_server):
    def probe(port):
        held = [RawClient(port) for _ in range(3)]
        try:
            for c in held:
                assert c.call("PING").raw == b"+PONG\r\n"
            out, closed = exchange(port, b"PING\r\n")
        finally:
            for c in held:
                c.close()
        time.sleep(0.2)
        return out, closed, exchange(port, b"PING\r\n")

    tandem = make_server("--maxclients", "3", kind="tandem")
    redis_ref = make_server("--maxclients", "3", kind="redis")
    assert probe(tandem.port) == probe(redis_ref.port)


def test_idle_timeout(make_server):
    s = make_server("--timeout", "1")
    with RawClient(s.port) as idle:
        assert idle.call("PING").raw == b"+PONG\r\n"
        assert idle.is_closed(timeout=5)
    with RawClient(s.port) as c:
        assert c.call("PING").raw == b"+PONG\r\n"


@pytest.mark.parametrize("kind", ["tandem", "redis"])
def test_shutdown(make_server, kind):
    s = make_server(kind=kind)
    proc = s.proc
    with RawClient(s.port) as c:
        c.call("SET", "k", "v")
        c.send(["SHUTDOWN", "NOSAVE"])
        assert c.is_closed(timeout=5)
    assert proc.wait(timeout=10) == 0
    s.proc = None
