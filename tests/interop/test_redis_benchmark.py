"""redis-benchmark runs all its default tests against the server without an error line,
without and with pipelining. (Timing figures are not checked: see ../shared/bench.)"""

import re

import pytest

from tools import run, tool

# redis-benchmark 7.0's default tests, in order.
DEFAULT_TESTS = [
    "PING_INLINE",
    "PING_MBULK",
    "SET",
    "GET",
    "INCR",
    "LPUSH",
    "RPUSH",
    "LPOP",
    "RPOP",
    "SADD",
    "HSET",
    "SPOP",
    "ZADD",
    "ZPOPMIN",
    "LPUSH (needed to benchmark LRANGE)",
    "LRANGE_100 (first 100 elements)",
    "LRANGE_300 (first 300 elements)",
    "LRANGE_500 (first 500 elements)",
    "LRANGE_600 (first 600 elements)",
    "MSET (10 keys)",
]

RESULT = re.compile(r"^(.+?): ([0-9.]+|inf) requests per second")
PROGRESS = re.compile(r"^(.+?): rps=")


def parse(output: str):
    """(test names with a result, lines that are neither results nor progress)."""
    names, other = [], []
    for line in re.split(r"[\r\n]+", output):
        line = line.strip()
        if not line:
            continue
        m = RESULT.match(line)
        if m:
            names.append(m.group(1))
        elif not PROGRESS.match(line):
            other.append(line)
    return names, other


@pytest.mark.parametrize("pipeline", ["1", "16"], ids=["P1", "P16"])
def test_default_tests_without_errors(server, pipeline):
    rc, out, err = run(
        [
            tool("redis-benchmark"),
            "-h", "127.0.0.1",
            "-p", str(server.port),
            "-q",
            "-n", "2000",
            "-c", "10",
            "-P", pipeline,
        ],
        timeout=300,
    )
    names, other = parse(out + "\n" + err)
    assert not other, "redis-benchmark printed:\n" + "\n".join(other[:20])
    assert rc == 0
    assert names == DEFAULT_TESTS


def test_benchmark_leaves_expected_data(server):
    """The benchmark's writes land where Redis puts them (key names of -r absent)."""
    rc, out, err = run(
        [
            tool("redis-benchmark"),
            "-h", "127.0.0.1",
            "-p", str(server.port),
            "-q",
            "-n", "500",
            "-c", "5",
            "-t", "set,lpush,hset,sadd,zadd",
        ],
        timeout=120,
    )
    assert rc == 0, out + err
    c = server.client()
    assert c.strlen("key:__rand_int__") == 3  # -d 3 (default data size)
    assert c.llen("mylist") == 500
    assert c.hstrlen("myhash", "element:__rand_int__") == 3
    assert c.scard("myset") == 1
    assert c.zcard("myzset") == 1
