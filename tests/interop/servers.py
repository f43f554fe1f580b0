"""Starting and stopping the servers under test.

Each server runs in the foreground as a child process on a free loopback port, with its
output in a log file; it is ready once it answers PING, and it is stopped by its own PID
(SIGTERM, then SIGKILL) — never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port the kernel just considered free on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tandem_binary() -> str:
    path = os.environ.get("TANDEM_SERVER", "target/release/tandem-server")
    p = Path(path)
    if not p.is_absolute():
        p = ROOT / p
    return str(p)


def redis_binary() -> str:
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "redis-server"


class ServerError(RuntimeError):
    """The server did not start."""


class Server:
    """One server process. `kind` is "tandem" or "redis"; `args` are extra `--name value` words."""

    def __init__(self, kind: str, binary: str, workdir: Path, args=()):
        self.kind = kind
        self.binary = binary
        self.workdir = Path(workdir)
        self.args = list(args)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / f"{kind}.log"
        self.password = None
        for i, a in enumerate(self.args[:-1]):
            if a == "--requirepass":
                self.password = self.args[i + 1]

    def __repr__(self) -> str:
        return f"<{self.kind} :{self.port} pid={self.pid}>"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self, port: int) -> list[str]:
        return [
            self.binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            *self.args,
        ]

    def start(self, attempts: int = 5) -> "Server":
        if not os.path.exists(self.binary) and os.sep in self.binary:
            raise ServerError(
                f"{self.kind} binary {self.binary} not found "
                "(build it with `cargo build --release -p tandem-server` or set TANDEM_SERVER)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(attempts):
            port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                self.argv(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
            log.close()
            self.port = port
            ok, last = self._wait_ready(10.0)
            if ok:
                return self
            self.stop()
        raise ServerError(f"{self.kind} did not start: {last}\n--- log ---\n{self.log_tail()}")

    def _wait_ready(self, timeout: float):
        deadline = time.monotonic() + timeout
        why = "no answer to PING"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, f"exited with status {self.proc.returncode}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                    s.sendall(b"PING\r\n")
                    data = s.recv(128)
                    # A server with requirepass answers -NOAUTH: it is up all the same.
                    if data.startswith(b"+PONG") or data.startswith(b"-NOAUTH"):
                        return True, ""
                    why = f"PING answered {data!r}"
            except OSError as e:
                why = str(e)
            time.sleep(0.02)
        return False, why

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stops this server by its PID: SIGTERM, then SIGKILL after 5 s."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.proc = None

    def restart(self) -> "Server":
        self.stop()
        return self.start()

    def client(self, **kw):
        """A redis-py client for this server."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        kw.setdefault("socket_timeout", 10)
        # No silent retries: a dropped connection is a finding, not noise to hide.
        kw.setdefault("retry", Retry(NoBackoff(), 0))
        kw.setdefault("password", self.password)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout: float = 5.0):
        """A raw RESP client (see rawresp.py)."""
        from rawresp import RawClient

        return RawClient(self.port, timeout=timeout)

    def reset_data(self) -> None:
        """Empties every database; restarts the server if FLUSHALL is not available."""
        from rawresp import RawClient

        if not self.alive():
            self.start()
            return
        try:
            with RawClient(self.port, timeout=5.0) as c:
                if self.password:
                    c.call("AUTH", self.password)
                reply = c.call("FLUSHALL")
                if reply.raw == b"+OK\r\n":
                    return
        except Exception:  # noqa: BLE001 - any failure: fall back to a fresh process
            pass
        self.restart()
