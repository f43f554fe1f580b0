"""The Rust example programs (`examples/*.rs`) run as a user would run them: `embed`
on its own, `replica_of_redis` against a real redis-server started here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def example(name: str) -> str:
    path = ROOT / "target" / "debug" / "examples" / name
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "-q", "-p", "tandem-examples", "--examples"],
            cwd=ROOT,
            check=True,
        )
    return str(path)


def test_embed_serves_two_replicas():
    out = subprocess.run(
        [example("embed"), "--sessions", "2000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "change feed invalidated 1 cached session(s)" in out.stdout
    replicas = re.findall(r"replica \d: offset (\d+) of (\d+), link up: true, sessions: 2000", out.stdout)
    assert len(replicas) == 2, out.stdout
    assert all(a == b for a, b in replicas)
    assert out.stdout.count("online acked") == 2


def test_replica_of_redis_reads_locally(make_server):
    master = make_server("--repl-diskless-sync-delay", "0", kind="redis")
    r = master.client()
    r.set("greeting", "hello")
    for i in range(500):
        r.hset(f"h{i}", mapping={"a": i, "b": "x" * 50})
    out = subprocess.run(
        [example("replica_of_redis"), "--port", str(master.port), "--seconds", "2", "--key", "greeting"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"in sync with 127\.0\.0\.1:\d+ after [\d.]+ ms: 501 keys", out.stdout), out.stdout
    assert "local read greeting = hello" in out.stdout
    assert re.search(r"link up \| offset (\d+) \| master offset \1 \| lag 0 bytes", out.stdout), out.stdout
    # The embedded replica announced itself to the master while it ran.
    assert r.info("stats")["sync_full"] == 1
