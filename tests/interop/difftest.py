"""The differential runner: one case (a list of steps) is executed against tandem-server
and against redis-server, and the normalized replies must be identical.

A step is a string `"{modifiers} COMMAND arg ..."`; the words are split like a shell
(`'a b'` is one argument) and a word written `x:...` is decoded with Python escapes
(`x:a\\r\\n\\x00` is five bytes). Modifiers, comma-separated, all optional:

  @name      run on connection `name` (default `a`); connections open on first use
  send       send the command without reading its reply (read it later with `read`)
  read       no command: read one reply/push message on the connection
  sleep=S    sleep S seconds before the step
  sort       the reply's order is unspecified: sort an array/set, sort a map's pairs
  sort:i     sort the elements of the reply's i-th element (e.g. `sort:1` for SCAN)
  pairs      sort a flat array of field/value pairs (HGETALL in RESP2)
  mask       compare only the reply's type (run-dependent values: CLIENT ID, TIME...)
  len        compare only the type and number of elements (SRANDMEMBER with a count)
  approx=N   integers may differ by up to N (PTTL)
  maskfield=F  in a field/value reply, mask the value of field F (HELLO's id)

Modes: `py` sends every step through redis-py's `execute_command` (RESP2, with its
reply callbacks) and compares the resulting Python values and exception classes and
texts; `resp2` and `resp3` use the raw client and compare exact reply bytes (after
the normalizations above); `resp3` sends `HELLO 3` first on every connection. Cases
that need several frames per command or `send`/`read` (pub/sub, blocking pops with a
pusher) run in the raw modes only.
"""

from __future__ import annotations

import codecs
import re
import shlex
import time
from collections import Counter
from dataclasses import dataclass, field

import rawresp
from rawresp import Closed, Frame, RawClient, Timeout

MODES = ("py", "resp2", "resp3")
RAW_ONLY = ("resp2", "resp3")

# Commands whose reply is several frames (or depends on the subscription state).
SUB_COMMANDS = {"SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE"}

# tandem replied "unknown command" where Redis did not: command -> number of case runs.
UNKNOWN_IN_TANDEM: Counter = Counter()


@dataclass
class Case:
    name: str
    steps: list
    modes: tuple = MODES
    note: str = ""


@dataclass
class Step:
    text: str
    conn: str = "a"
    args: list = field(default_factory=list)
    send: bool = False
    read: bool = False
    sleep: float = 0.0
    sort: object = None  # None, True, or an index
    pairs: bool = False
    mask: bool = False
    len_only: bool = False
    approx: int = 0
    maskfield: list = field(default_factory=list)

    @property
    def command(self) -> str:
        return self.args[0].decode(errors="replace").upper() if self.args else ""


_MODS = re.compile(r"^\{([^}]*)\}\s*(.*)$", re.S)


def _word(w: str) -> bytes:
    if w.startswith("x:"):
        return codecs.escape_decode(w[2:].encode())[0]
    return w.encode()


def split_words(body: str) -> list[str]:
    """Shell-like split with quotes but without backslash escapes (see `x:` words)."""
    lex = shlex.shlex(body, posix=True)
    lex.whitespace_split = True
    lex.escape = ""
    lex.commenters = ""
    return list(lex)


def parse_step(text: str) -> Step:
    st = Step(text=text)
    body = text.strip()
    m = _MODS.match(body)
    if m:
        mods, body = m.group(1), m.group(2)
        for mod in filter(None, (x.strip() for x in mods.split(","))):
            key, _, val = mod.partition("=")
            if key.startswith("@"):
                st.conn = key[1:]
            elif key == "send":
                st.send = True
            elif key == "read":
                st.read = True
            elif key == "sleep":
                st.sleep = float(val)
            elif key == "sort":
                st.sort = True
            elif key.startswith("sort:"):
                st.sort = int(key[5:])
            elif key == "pairs":
                st.pairs = True
            elif key == "mask":
                st.mask = True
            elif key == "len":
                st.len_only = True
            elif key == "approx":
                st.approx = int(val)
            elif key == "maskfield":
                st.maskfield.append(val)
            else:
                raise ValueError(f"unknown step modifier {mod!r} in {text!r}")
    st.args = [_word(w) for w in split_words(body)] if body else []
    if st.command == "HELLO":
        st.maskfield.append("id")
    if not st.args and not st.read:
        raise ValueError(f"empty step {text!r}")
    return st


def parse_case(case: Case) -> list[Step]:
    steps = []
    for s in case.steps:
        for line in s.splitlines() if "\n" in s else [s]:
            if line.strip() and not line.strip().startswith("#"):
                steps.append(parse_step(line))
    return steps


def case_modes(case: Case) -> tuple:
    steps = parse_case(case)
    multi_conn = len({s.conn for s in steps}) > 1
    if any(s.send or s.read or s.command in SUB_COMMANDS for s in steps) or multi_conn:
        return tuple(m for m in case.modes if m in RAW_ONLY)
    return case.modes


# -- normalization ----------------------------------------------------------------------


def _sort_view(v, pairs=False):
    """Sorts a normalized raw view (kind, payload) or a Python value."""
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], list):
        kind, items = v
        if kind in "%|" or pairs:
            ps = sorted(zip(items[0::2], items[1::2]), key=repr)
            return (kind, [x for p in ps for x in p])
        return (kind, sorted(items, key=repr))
    if isinstance(v, (set, frozenset)):
        return sorted(v, key=repr)
    if isinstance(v, list):
        if pairs:
            ps = sorted(zip(v[0::2], v[1::2]), key=repr)
            return [x for p in ps for x in p]
        return sorted(v, key=repr)
    return v  # dicts compare unordered; scalars as they are


def _child(v, i):
    if isinstance(v, tuple) and isinstance(v[1], list):
        return v[1][i] if i < len(v[1]) else None
    if isinstance(v, (list, tuple)):
        return v[i] if i < len(v) else None
    return None


def _set_child(v, i, new):
    if isinstance(v, tuple) and isinstance(v[1], list):
        items = list(v[1])
        items[i] = new
        return (v[0], items)
    if isinstance(v, list):
        v = list(v)
        v[i] = new
        return v
    if isinstance(v, tuple):
        v = list(v)
        v[i] = new
        return tuple(v)
    return v


def _mask_fields(v, names):
    if isinstance(v, dict):
        return {k: ("<masked>" if _name(k) in names else x) for k, x in v.items()}
    items = v[1] if isinstance(v, tuple) and isinstance(v[1], list) else v if isinstance(v, list) else None
    if items is None:
        return v
    out = list(items)
    for i in range(0, len(out) - 1, 2):
        if _name(out[i]) in names:
            out[i + 1] = "<masked>"
    return (v[0], out) if isinstance(v, tuple) else out


def _name(k):
    if isinstance(k, tuple):
        k = k[1]
    if isinstance(k, bytes):
        return k.decode(errors="replace")
    return k if isinstance(k, str) else None


def _type_of(v):
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
        return v[0]
    return type(v).__name__


def normalize(step: Step, v):
    if v is None or (isinstance(v, tuple) and v and v[0] == "<"):
        return v
    if step.maskfield:
        v = _mask_fields(v, step.maskfield)
    if step.mask:
        return ("masked", _type_of(v))
    if step.len_only:
        items = v[1] if isinstance(v, tuple) and isinstance(v[1], list) else v
        n = len(items) if isinstance(items, (list, set, dict, tuple)) else None
        return ("len", _type_of(v), n)
    if step.sort is True or (step.pairs and step.sort is None):
        v = _sort_view(v, step.pairs)
    elif isinstance(step.sort, int) and step.sort is not True:
        v = _set_child(v, step.sort, _sort_view(_child(v, step.sort), step.pairs))
    return v


def _approx_equal(a, b, n):
    def as_int(v):
        if isinstance(v, int):
            return v
        if isinstance(v, tuple) and len(v) == 2 and v[0] == ":":
            return int(v[1])
        return None

    x, y = as_int(a), as_int(b)
    return x is not None and y is not None and abs(x - y) <= n


# -- running ----------------------------------------------------------------------------


class RawConn:
    def __init__(self, port, mode, password):
        self.port, self.mode, self.password = port, mode, password
        self.client: RawClient | None = None
        self.channels: set = set()
        self.patterns: set = set()

    def open(self, record):
        self.client = RawClient(self.port, timeout=3.0)
        self.channels.clear()
        self.patterns.clear()
        if self.password:
            self.client.call("AUTH", self.password)
        if self.mode == "resp3":
            st = parse_step("HELLO 3")
            st.text = "HELLO 3   (connection set-up)"
            record(st, normalize(st, _view(self.client.call("HELLO", "3"))))

    def frames_expected(self, step: Step) -> int:
        cmd, nargs = step.command, len(step.args) - 1
        if cmd in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"):
            return max(nargs, 1)
        if cmd in ("UNSUBSCRIBE", "SUNSUBSCRIBE"):
            return nargs if nargs else max(len(self.channels), 1)
        if cmd == "PUNSUBSCRIBE":
            return nargs if nargs else max(len(self.patterns), 1)
        return 1

    def track(self, f: Frame):
        if f.kind in "*>" and len(f.children) == 3 and f.children[0].value:
            kind, name = f.children[0].value.lower(), f.children[1].value
            if kind == b"subscribe":
                self.channels.add(name)
            elif kind == b"unsubscribe":
                self.channels.discard(name)
            elif kind == b"psubscribe":
                self.patterns.add(name)
            elif kind == b"punsubscribe":
                self.patterns.discard(name)


def _view(f: Frame):
    return rawresp.to_python(f)


def run_raw(steps, port, mode, password=None):
    """Runs the steps on raw connections; returns [(step, normalized reply)]."""
    out = []
    conns: dict[str, RawConn] = {}

    def record(step, v):
        out.append((step, v))

    try:
        for st in steps:
            if st.sleep:
                time.sleep(st.sleep)
            c = conns.get(st.conn)
            if c is None or c.client is None:
                c = conns[st.conn] = RawConn(port, mode, password)
                try:
                    c.open(record)
                except (Closed, Timeout, OSError) as e:
                    record(st, ("<connect failed>", str(e)))
                    c.client = None
                    continue
            try:
                if st.read:
                    f = c.client.read(timeout=2.0)
                    c.track(f)
                    record(st, normalize(st, _view(f)))
                    continue
                c.client.send(st.args)
                if st.send:
                    continue
                frames = []
                for _ in range(c.frames_expected(st)):
                    f = c.client.read(timeout=2.0 if not frames else 1.0)
                    frames.append(f)
                    c.track(f)
                    if f.is_error():
                        break
                views = [normalize(st, _view(f)) for f in frames]
                record(st, views[0] if len(views) == 1 else ("<frames>", views))
            except Timeout:
                record(st, ("<timeout>", "no reply within the time limit"))
            except Closed:
                record(st, ("<closed>", "connection closed by the server"))
                c.client.close()
                c.client = None
            except (OSError, ValueError) as e:
                record(st, ("<error>", repr(e)))
                c.client.close()
                c.client = None
    finally:
        for c in conns.values():
            if c.client:
                c.client.close()
    return out


def _py_value(v):
    """Exceptions inside replies (EXEC) become comparable tuples."""
    if isinstance(v, Exception):
        return ("<exception>", type(v).__name__, str(v))
    if isinstance(v, list):
        return [_py_value(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_py_value(x) for x in v)
    if isinstance(v, dict):
        return {k: _py_value(x) for k, x in v.items()}
    return v


def run_py(steps, port, password=None):
    """Runs the steps through redis-py's execute_command; returns [(step, value)]."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    out = []
    conns = {}
    try:
        for st in steps:
            if st.sleep:
                time.sleep(st.sleep)
            r = conns.get(st.conn)
            if r is None:
                r = conns[st.conn] = redis.Redis(
                    host="127.0.0.1",
                    port=port,
                    password=password,
                    single_connection_client=True,
                    socket_timeout=3.0,
                    protocol=2,
                    retry=Retry(NoBackoff(), 0),
                )
            try:
                v = r.execute_command(*st.args)
                v = normalize(st, _py_value(v))
            except redis.exceptions.ConnectionError as e:
                v = ("<exception>", type(e).__name__, str(e))
                r.close()
                conns.pop(st.conn)
            except redis.exceptions.RedisError as e:
                v = ("<exception>", type(e).__name__, str(e))
            out.append((st, v))
    finally:
        for r in conns.values():
            r.close()
    return out


def run(case: Case, mode: str, port: int, password=None):
    steps = parse_case(case)
    if mode == "py":
        return run_py(steps, port, password)
    return run_raw(steps, port, mode, password)


def _show(v):
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and len(v[0]) == 1:
        try:
            return repr(rawresp.from_python(v))
        except Exception:  # noqa: BLE001 - diagnostics only
            return repr(v)
    if isinstance(v, tuple) and v and v[0] == "<frames>":
        return " ".join(_show(x) for x in v[1])
    return repr(v)


def compare(case: Case, mode: str, got, want) -> list[str]:
    """Differences between tandem's replies (`got`) and Redis's (`want`), as report lines."""
    problems = []
    unknown = set()
    n = max(len(got), len(want))
    for i in range(n):
        g = got[i] if i < len(got) else (None, "<missing>")
        w = want[i] if i < len(want) else (None, "<missing>")
        step = (w[0] or g[0]).text
        gv, wv = g[1], w[1]
        if gv == wv:
            continue
        st = w[0] or g[0]
        if st.approx and _approx_equal(gv, wv, st.approx):
            continue
        problems.append(f"  step {i + 1}: {step}\n    tandem: {_show(gv)}\n    redis:  {_show(wv)}")
        cmd = st.command
        if cmd and _is_unknown_command(gv) and not _is_unknown_command(wv):
            if "unknown subcommand" in repr(gv) and len(st.args) > 1:
                cmd += " " + st.args[1].decode(errors="replace").upper()
            unknown.add(cmd)
    UNKNOWN_IN_TANDEM.update(unknown)
    return problems


def _is_unknown_command(v) -> bool:
    s = repr(v)
    return "unknown command" in s or "unknown subcommand" in s
