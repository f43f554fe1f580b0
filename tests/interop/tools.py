"""Running the real Redis command-line tools against a server."""

from __future__ import annotations

import shutil
import subprocess


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install redis-tools (scripts/test.sh does)")
    return path


def run(argv, input: bytes | None = None, timeout: float = 120):
    """Runs a tool; returns (returncode, stdout, stderr) as text."""
    p = subprocess.run(
        argv,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def cli(server, *args, input: bytes | None = None, timeout: float = 60):
    """redis-cli against `server` (127.0.0.1:port)."""
    return run([tool("redis-cli"), "-h", "127.0.0.1", "-p", str(server.port), *args], input, timeout)
