"""Fixtures of the interop suite: tandem-server and a real redis-server, each started on
a free loopback port for the session and stopped by PID at the end.

Environment:
  TANDEM_SERVER  path of the tandem-server binary (default target/release/tandem-server,
                 relative to the repository root). Pointing it at redis-server checks the
                 suite itself: every test must then pass.
  REDIS_SERVER   path of the reference redis-server (default: the one on PATH).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import difftest  # noqa: E402
from servers import Server, redis_binary, tandem_binary  # noqa: E402


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("interop")


@pytest.fixture(scope="session")
def tandem_session(workdir):
    s = Server("tandem", tandem_binary(), workdir / "tandem").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def redis_session(workdir):
    s = Server("redis", redis_binary(), workdir / "redis").start()
    yield s
    s.stop()


@pytest.fixture
def tandem(tandem_session):
    """The session's tandem-server, emptied (or restarted) before the test."""
    tandem_session.reset_data()
    return tandem_session


@pytest.fixture
def redis_ref(redis_session):
    """The session's reference redis-server, emptied before the test."""
    redis_session.reset_data()
    return redis_session


@pytest.fixture
def pair(tandem, redis_ref):
    """(tandem, redis) — both emptied: for differential tests."""
    return tandem, redis_ref


@pytest.fixture(params=["tandem", "redis"])
def server(request):
    """Runs the test once against tandem and once against real Redis (which validates
    the test itself)."""
    return request.getfixturevalue({"tandem": "tandem", "redis": "redis_ref"}[request.param])


@pytest.fixture
def make_server(request, workdir):
    """Starts a private server with extra options: `make_server("--requirepass", "x")`.
    Parametrized tests pick the kind through the `server` parameter; otherwise tandem."""
    started = []
    kind = getattr(request, "param", None)
    if kind is None and hasattr(request.node, "callspec"):
        kind = request.node.callspec.params.get("server")
    kind = kind or "tandem"

    def start(*args, kind=kind):
        binary = tandem_binary() if kind == "tandem" else redis_binary()
        d = workdir / f"{kind}-{request.node.name}-{len(started)}".replace("/", "_")
        for ch in "[]: ":
            d = Path(str(d).replace(ch, "_"))
        s = Server(kind, binary, d, args)
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.stop()


def pytest_terminal_summary(terminalreporter):
    unknown = difftest.UNKNOWN_IN_TANDEM
    if unknown:
        terminalreporter.section("commands tandem does not know yet (differential cases)")
        words = [f"{cmd}({n})" for cmd, n in sorted(unknown.items())]
        line = ""
        for w in words:
            if len(line) + len(w) + 1 > 88:
                terminalreporter.write_line(line)
                line = ""
            line = f"{line} {w}" if line else w
        terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"{len(unknown)} commands answered 'unknown command' where redis-server did not "
            "(in parentheses: the number of failing case/mode runs that use them)"
        )
