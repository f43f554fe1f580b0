"""A raw-socket RESP client that keeps the exact bytes of every reply.

redis-py hides the wire format; these tests compare servers byte for byte, so this
client reads one complete frame at a time (RESP2 and RESP3 types), returning both the
exact bytes and a decoded tree (`Frame`) that the differential tests can normalize
(sort unordered collections, mask run-dependent values) before comparing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

# Frame types whose payload is a single line.
LINE_TYPES = b"+-:_,#("
# Frame types with a length-prefixed payload.
BLOB_TYPES = b"$!="
# Aggregate types: the count is the number of child frames (maps/attributes: pairs).
AGG_TYPES = b"*~>%|"


class Closed(Exception):
    """The server closed the connection."""


class Timeout(Exception):
    """No complete frame arrived in time."""


@dataclass
class Frame:
    """One decoded reply: its type byte, payload (for scalars) or children, exact bytes."""

    kind: str
    value: bytes | None = None
    children: list["Frame"] = field(default_factory=list)
    raw: bytes = b""

    def is_error(self) -> bool:
        return self.kind in "-!"

    def text(self) -> str:
        return (self.value or b"").decode("utf-8", "replace")

    def __repr__(self) -> str:
        return repr(self.raw)


def encode_command(args) -> bytes:
    """Encodes a command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawClient:
    """A blocking RESP client over one TCP connection to 127.0.0.1."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending ---------------------------------------------------------------------------

    def send(self, args) -> None:
        self.send_raw(encode_command(args))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def call(self, *args) -> Frame:
        """Sends one command and reads one reply."""
        self.send(args)
        return self.read()

    # -- receiving -------------------------------------------------------------------------

    def _fill(self, timeout: float | None) -> None:
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise Timeout() from e
        except ConnectionResetError as e:
            raise Closed() from e
        if not chunk:
            raise Closed()
        self.buf += chunk

    def read(self, timeout: float | None = None) -> Frame:
        """Reads one complete frame (an attribute is returned as its own frame).

        On `Timeout` the bytes of a partial frame stay buffered for the next read."""
        while True:
            parsed = parse_frame(self.buf, 0)
            if parsed is not None:
                frame, end = parsed
                self.buf = self.buf[end:]
                return frame
            self._fill(timeout)

    def pending(self) -> bytes:
        """Bytes received but not yet returned as frames."""
        return self.buf

    def read_all_raw(self, timeout: float = 0.5) -> bytes:
        """Everything the server sends until it closes or stays quiet for `timeout`."""
        out = self.buf
        self.buf = b""
        self.sock.settimeout(timeout)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return out
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk

    def is_closed(self, timeout: float = 2.0) -> bool:
        """True if the server closes the connection within `timeout` (pending data is dropped)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True


def parse_frame(buf: bytes, pos: int):
    """Parses one frame at `pos`: `(Frame, end)`, or None if `buf` holds only part of it."""
    i = buf.find(b"\r\n", pos)
    if i < 0:
        return None
    line = buf[pos:i]
    if not line:
        raise ValueError("empty RESP line")
    kind = chr(line[0])
    head_end = i + 2
    if line[0] in LINE_TYPES:
        return Frame(kind, line[1:], raw=buf[pos:head_end]), head_end
    if line[0] in BLOB_TYPES:
        n = int(line[1:])
        if n < 0:
            return Frame(kind, None, raw=buf[pos:head_end]), head_end
        end = head_end + n + 2
        if len(buf) < end:
            return None
        return Frame(kind, buf[head_end : end - 2], raw=buf[pos:end]), end
    if line[0] in AGG_TYPES:
        n = int(line[1:])
        if n < 0:
            return Frame(kind, None, raw=buf[pos:head_end]), head_end
        count = n * 2 if kind in "%|" else n
        children = []
        cur = head_end
        for _ in range(count):
            parsed = parse_frame(buf, cur)
            if parsed is None:
                return None
            child, cur = parsed
            children.append(child)
        return Frame(kind, line[1:], children, raw=buf[pos:cur]), cur
    raise ValueError(f"unknown RESP type byte {line[:1]!r} in {line!r}")


def to_python(f: Frame):
    """A comparable plain-Python view of a frame: (kind, value-or-children)."""
    if f.children or f.kind in AGG_TYPES.decode():
        return (f.kind, [to_python(c) for c in f.children] if f.value is not None else None)
    return (f.kind, f.value)


def from_python(v) -> bytes:
    """Re-encodes a `to_python` view (used after normalization, for readable diffs)."""
    kind, payload = v
    if kind in "*~>%|":
        if payload is None:
            return b"%s-1\r\n" % kind.encode()
        n = len(payload) // 2 if kind in "%|" else len(payload)
        return b"%s%d\r\n" % (kind.encode(), n) + b"".join(from_python(c) for c in payload)
    if kind in "$!=":
        if payload is None:
            return b"%s-1\r\n" % kind.encode()
        return b"%s%d\r\n%s\r\n" % (kind.encode(), len(payload), payload)
    return kind.encode() + (payload or b"") + b"\r\n"
