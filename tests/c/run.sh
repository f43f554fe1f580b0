#!/usr/bin/env bash
# The C suite: builds libtandem (tandem-ffi), checks include/tandem.h is current and
# parses as plain C for cffi, compiles the C programs under examples/c/ with gcc against
# the header and the library, and runs each under valgrind, failing on any error or
# definite leak. replica_of_redis runs against a real redis-server started here.
#
#   tests/c/run.sh            (scripts/test.sh c calls it)
#
# Environment: JOBS (cargo -j, default 2), SKIP_INSTALL=1 (do not apt-get valgrind),
# NO_VALGRIND=1 (run the programs directly, for a quick look).
#
# The library is the debug build: the suite checks correctness, not speed, and the
# release profile (fat LTO) takes minutes to link; debug builds also give valgrind
# line numbers. The ABI is the same in both.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-2}"
export DEBIAN_FRONTEND=noninteractive
# A panic inside tandem prints its message on stderr; the backtrace is noise here.
export RUST_BACKTRACE=0

log() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "need root to run: $*" >&2
        return 1
    fi
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get not available: install $* by hand" >&2
        return 1
    fi
    as_root apt-get update -q </dev/null
    as_root apt-get install -y -q "$@" </dev/null
}

need() {
    local tool="$1" pkg="$2"
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [ "${SKIP_INSTALL:-0}" = 1 ]; then
            echo "$tool is missing (SKIP_INSTALL=1)" >&2
            return 1
        fi
        log "installing $pkg"
        apt_install "$pkg"
    fi
}

need gcc gcc
need redis-server redis-server
need redis-cli redis-tools
if [ "${NO_VALGRIND:-0}" != 1 ]; then
    need valgrind valgrind
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tandem-c.XXXXXX")"
REDIS_PID=""
cleanup() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

log "building libtandem (cargo build -p tandem-ffi)"
cargo build -j "$JOBS" -p tandem-ffi
LIBDIR="$ROOT/target/debug"
test -f "$LIBDIR/libtandem.so" && test -f "$LIBDIR/libtandem.a"

log "checking include/tandem.h is what cbindgen generates"
cargo test -j "$JOBS" -q -p tandem-ffi --test header

if python3 -c 'import cffi' >/dev/null 2>&1; then
    log "checking include/tandem.h parses with cffi (preprocessor lines stripped)"
    python3 - "$LIBDIR/libtandem.so" <<'EOF'
import re, sys, cffi
src = open("include/tandem.h").read()
body = "\n".join(l for l in src.splitlines()
                 if not re.match(r"\s*#\s*(include|ifndef|define|endif)\b", l))
ffi = cffi.FFI()
ffi.cdef(body)
lib = ffi.dlopen(sys.argv[1])
assert ffi.string(lib.tandem_status_name(lib.TANDEM_ERR_CLOSED)) == b"TANDEM_ERR_CLOSED"
print("cffi: ok, tandem", ffi.string(lib.tandem_version()).decode())
EOF
else
    echo "python3 cffi not installed: skipping the cffi parse check"
fi

CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -I include)
log "compiling examples/c with gcc ${CFLAGS[*]}"
# embed links the static library, the others the shared one: both must work.
gcc "${CFLAGS[@]}" examples/c/embed.c -o "$WORK/embed" \
    "$LIBDIR/libtandem.a" -lpthread -ldl -lm
for prog in replica_of_redis bad_input; do
    gcc "${CFLAGS[@]}" "examples/c/$prog.c" -o "$WORK/$prog" \
        -L"$LIBDIR" -ltandem -lpthread -Wl,-rpath,"$LIBDIR"
done

# A free port in 20000-29999 for redis-server.
free_port() {
    python3 - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 29999)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}

run() {
    local name="$1"
    shift
    log "running $name $*"
    if [ "${NO_VALGRIND:-0}" = 1 ]; then
        "$WORK/$name" "$@"
    else
        valgrind --quiet --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --log-file="$WORK/$name.valgrind" "$WORK/$name" "$@" || {
            local rc=$?
            echo "--- valgrind report for $name:"
            cat "$WORK/$name.valgrind"
            echo "$name failed (exit $rc)" >&2
            return 1
        }
        if [ -s "$WORK/$name.valgrind" ]; then
            echo "--- valgrind notes for $name:"
            cat "$WORK/$name.valgrind"
        fi
        echo "valgrind: $name clean (no errors, no definite leaks)"
    fi
}

FAILED=0
run embed || FAILED=1
run bad_input || FAILED=1

PORT="$(free_port)"
log "starting redis-server on 127.0.0.1:$PORT"
mkdir -p "$WORK/redis"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK/redis" --repl-diskless-sync-delay 0 --daemonize no \
    >"$WORK/redis/log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$PORT" ping >/dev/null
for i in $(seq 1 50); do
    redis-cli -p "$PORT" set "key:$i" "value-$i" >/dev/null
done
redis-cli -p "$PORT" rpush list a b c >/dev/null
run replica_of_redis "$PORT" key:1 key:25 key:50 || FAILED=1

kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=""

if [ "$FAILED" -ne 0 ]; then
    echo "C suite: FAILED"
    exit 1
fi
echo "C suite: all programs passed under valgrind"
