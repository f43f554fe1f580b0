"""redis-cli against tandem-server, compared with redis-cli against redis-server:
one-shot commands (raw and --no-raw output), commands piped on stdin, --pipe mass
insertion, -n (SELECT), -a (AUTH), -r (repeat), --scan."""

import pytest

from tools import cli

# One-shot invocations, run in order on an empty server.
ONE_SHOT = [
    ["PING"],
    ["PING", "hello world"],
    ["SET", "k", "v"],
    ["GET", "k"],
    ["GET", "nokey"],
    ["SET", "k", "v", "EX", "abc"],
    ["INCR", "n"],
    ["INCRBYFLOAT", "f", "1.5"],
    ["APPEND", "k", " more"],
    ["MGET", "k", "nokey", "n"],
    ["RPUSH", "l", "a", "b", "c"],
    ["LRANGE", "l", "0", "-1"],
    ["HSET", "h", "f", "v"],
    ["HGET", "h", "f"],
    ["SADD", "s", "m"],
    ["SMEMBERS", "s"],
    ["ZADD", "z", "1.5", "a", "2", "b"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["TYPE", "l"],
    ["EXPIRE", "k", "100"],
    ["TTL", "k"],
    ["EXISTS", "k", "nokey"],
    ["DEL", "k"],
    ["DBSIZE"],
    ["LPUSH", "n", "x"],
    ["GET"],
    ["NOSUCHCOMMAND", "a"],
    ["ECHO", "line1\nline2"],
]


def transcript(server, extra):
    out = []
    for argv in ONE_SHOT:
        rc, stdout, stderr = cli(server, *extra, *argv)
        out.append(f"$ redis-cli {' '.join(extra)} {' '.join(argv)}\nrc={rc}\n{stdout}{stderr}")
    return out


@pytest.mark.parametrize(
    "extra",
    [[], ["--no-raw"], ["--raw"], ["-3", "--no-raw"]],
    ids=["default", "no-raw", "raw", "resp3-no-raw"],
)
def test_one_shot_commands(pair, extra):
    tandem, redis_ref = pair
    want = transcript(redis_ref, extra)
    got = transcript(tandem, extra)
    diffs = [f"--- tandem\n{g}--- redis\n{w}" for g, w in zip(got, want) if g != w]
    assert not diffs, f"{len(diffs)} of {len(want)} invocations differ:\n" + "\n".join(diffs[:8])


PIPED = b"""SET a 1
INCR a
GET a
RPUSH l x y "with space"
LRANGE l 0 -1
NOSUCH cmd
HSET h f v
HGETALL h
"""


@pytest.mark.parametrize("extra", [[], ["--no-raw"]], ids=["default", "no-raw"])
def test_piped_stdin(pair, extra):
    tandem, redis_ref = pair
    want = cli(redis_ref, *extra, input=PIPED)
    got = cli(tandem, *extra, input=PIPED)
    assert got == want


def resp_set(i: int) -> bytes:
    k, v = b"key:%d" % i, b"value:%d" % i
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v)


def test_pipe_mass_insertion(server):
    data = b"".join(resp_set(i) for i in range(10000))
    rc, out, err = cli(server, "--pipe", input=data, timeout=120)
    assert rc == 0, out + err
    assert "errors: 0, replies: 10000" in out, out + err
    assert cli(server, "DBSIZE")[1].strip() == "10000"
    assert cli(server, "GET", "key:9999")[1].strip() == "value:9999"


def test_pipe_reports_errors(server):
    data = resp_set(1) + b"*2\r\n$6\r\nNOSUCH\r\n$1\r\nx\r\n" + resp_set(2)
    rc, out, err = cli(server, "--pipe", input=data)
    assert "errors: 1, replies: 3" in out, out + err


def test_select_with_n(server):
    assert cli(server, "-n", "2", "SET", "k", "in-db2")[1].strip() == "OK"
    assert cli(server, "-n", "2", "GET", "k")[1].strip() == "in-db2"
    assert cli(server, "GET", "k")[1].strip() == ""
    assert cli(server, "-n", "2", "DBSIZE")[1].strip() == "1"
    assert cli(server, "-n", "0", "DBSIZE")[1].strip() == "0"


def test_select_out_of_range(pair):
    tandem, redis_ref = pair
    assert cli(tandem, "-n", "99", "PING") == cli(redis_ref, "-n", "99", "PING")


def test_repeat(server):
    rc, out, _ = cli(server, "-r", "3", "INCR", "n")
    assert (rc, out.split()) == (0, ["1", "2", "3"])


def test_scan_option(server):
    for i in range(5):
        cli(server, "SET", f"user:{i}", "x")
        cli(server, "SET", f"other:{i}", "x")
    rc, out, _ = cli(server, "--scan", "--pattern", "user:*")
    assert rc == 0
    assert sorted(out.split()) == [f"user:{i}" for i in range(5)]


def auth_transcript(s):
    runs = [
        ["PING"],
        ["-a", "wrong", "--no-auth-warning", "PING"],
        ["-a", "s3cret", "--no-auth-warning", "PING"],
        ["-a", "s3cret", "--no-auth-warning", "SET", "k", "v"],
        ["-a", "s3cret", "--no-auth-warning", "-n", "1", "GET", "k"],
        ["--user", "default", "--pass", "s3cret", "--no-auth-warning", "GET", "k"],
        ["GET", "k"],
    ]
    return [(r, cli(s, *r)) for r in runs]


def test_auth_with_requirepass(make_server):
    tandem = make_server("--requirepass", "s3cret", kind="tandem")
    redis_ref = make_server("--requirepass", "s3cret", kind="redis")
    got, want = auth_transcript(tandem), auth_transcript(redis_ref)
    diffs = [f"{g[0]}\n  tandem: {g[1]}\n  redis:  {w[1]}" for g, w in zip(got, want) if g != w]
    assert not diffs, "\n".join(diffs)
    # And the password really is required and enough.
    assert cli(tandem, "-a", "s3cret", "--no-auth-warning", "GET", "k")[1].strip() == "v"
