#!/usr/bin/env bash
# The project's test command: installs what is missing, then runs every suite.
#
#   scripts/test.sh                 all suites
#   scripts/test.sh fmt interop     only the named suites (see SUITES below)
#   scripts/test.sh interop -- -k "differential and strings"
#                                   arguments after -- go to pytest
#
# Environment:
#   JOBS=N            cargo parallelism (default 2)
#   PYTEST_ARGS=...   extra pytest arguments, split on spaces (e.g. "-x -q")
#   TANDEM_SERVER     server binary for the interop suite (default target/release/tandem-server)
#   SKIP_INSTALL=1    do not install missing packages
#
# Every suite runs even if an earlier one failed (except those that need the release
# build when it failed); the exit status is non-zero if any suite failed.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

JOBS="${JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive
export PYTHONDONTWRITEBYTECODE=1

# Suites in the order they run. To add one (C ABI programs, Python bindings, ...):
# write a `suite_<name>` function below and add <name> here.
SUITES=(fmt clippy unit release interop c python_bindings)

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

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get not available: install $* by hand" >&2
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root apt-get update -q </dev/null
        APT_UPDATED=1
    fi
    as_root apt-get install -y -q "$@" </dev/null
}

install_missing() {
    if [ "${SKIP_INSTALL:-0}" = 1 ]; then
        return 0
    fi
    local missing=0 tool
    for tool in redis-server redis-cli redis-benchmark; do
        command -v "$tool" >/dev/null 2>&1 || missing=1
    done
    if [ "$missing" -eq 1 ]; then
        log "installing redis-server redis-tools redis-sentinel"
        apt_install redis-server redis-tools redis-sentinel
    fi
    if ! python3 -c 'import redis, pytest' >/dev/null 2>&1; then
        log "installing Python packages redis pytest"
        if ! python3 -m pip --version >/dev/null 2>&1; then
            apt_install python3-pip
        fi
        python3 -m pip install --quiet redis pytest </dev/null ||
            python3 -m pip install --quiet --user --break-system-packages redis pytest </dev/null
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install Rust with https://rustup.rs (see README.md)" >&2
        return 1
    fi
    if command -v rustup >/dev/null 2>&1; then
        if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
            log "installing rustfmt and clippy"
            rustup component add rustfmt clippy </dev/null
        fi
    fi
}

# ----------------------------------------------------------------------------- suites

suite_fmt() {
    cargo fmt --all -- --check
}

suite_clippy() {
    cargo clippy -j "$JOBS" --workspace --all-targets -- -D warnings
}

suite_unit() {
    cargo test -j "$JOBS" --workspace
}

suite_release() {
    cargo build -j "$JOBS" --release -p tandem-server
}

suite_interop() {
    if [ "${RESULT[release]:-}" = FAIL ]; then
        echo "skipped: the release build failed"
        return 1
    fi
    local bin="${TANDEM_SERVER:-target/release/tandem-server}"
    if [ ! -x "$bin" ]; then
        suite_release
    fi
    # shellcheck disable=SC2086 # PYTEST_ARGS is a list of words on purpose
    TANDEM_SERVER="$bin" python3 -m pytest tests/interop ${PYTEST_ARGS:-} "${PYTEST_EXTRA[@]}"
}

# Hook: C programs over the C ABI (include/tandem.h), once tandem-ffi exists.
suite_c() {
    if [ ! -d crates/tandem-ffi ]; then
        echo "skipped: no crates/tandem-ffi yet"
        return 0
    fi
    if [ -x tests/c/run.sh ]; then
        tests/c/run.sh
    else
        echo "skipped: no tests/c/run.sh yet"
    fi
}

# Hook: the Python package over the C ABI, once bindings/python exists.
suite_python_bindings() {
    if [ ! -d bindings/python ]; then
        echo "skipped: no bindings/python yet"
        return 0
    fi
    if [ -x bindings/python/test.sh ]; then
        bindings/python/test.sh
    else
        python3 -m pytest bindings/python/tests
    fi
}

# ----------------------------------------------------------------------------- driver

declare -A RESULT=()
declare -A DETAIL=()
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/tandem-test.XXXXXX")"
trap 'rm -rf "$LOGDIR"' EXIT

# The one-line summary of a suite's output: pytest's last line, or cargo test's totals.
summarize() {
    local log="$1"
    if grep -q '^test result:' "$log"; then
        awk '/^test result:/ {
                for (i = 1; i <= NF; i++) {
                    if ($(i+1) ~ /^passed/) p += $i
                    if ($(i+1) ~ /^failed/) f += $i
                    if ($(i+1) ~ /^ignored/) g += $i
                }
                n++
            }
            END { printf "cargo test: %d passed, %d failed, %d ignored in %d test binaries", p, f, g, n }' "$log"
    else
        grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* =+$|^[0-9]+ (passed|failed|error)|^no tests ran' "$log" |
            tail -n 1 | sed -E 's/^=+ //; s/ =+$//' || true
    fi
}

run_suite() {
    local name="$1" start rc
    if ! declare -F "suite_$name" >/dev/null; then
        echo "unknown suite '$name' (known: ${SUITES[*]})" >&2
        RESULT[$name]=FAIL
        return
    fi
    log "suite $name"
    start=$SECONDS
    set +e
    (
        set -e
        "suite_$name"
    ) </dev/null 2>&1 | tee "$LOGDIR/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 0 ]; then
        RESULT[$name]=ok
    else
        RESULT[$name]=FAIL
    fi
    DETAIL[$name]="$(summarize "$LOGDIR/$name.log")"
    printf -- '--> suite %s: %s (%ds)\n' "$name" "${RESULT[$name]}" $((SECONDS - start))
}

PYTEST_EXTRA=()

main() {
    local selected=() name failed=0
    while [ $# -gt 0 ]; do
        if [ "$1" = -- ]; then
            shift
            PYTEST_EXTRA=("$@")
            break
        fi
        selected+=("$1")
        shift
    done
    if [ ${#selected[@]} -eq 0 ]; then
        selected=("${SUITES[@]}")
    fi
    install_missing
    for name in "${selected[@]}"; do
        run_suite "$name"
    done
    log "summary"
    for name in "${selected[@]}"; do
        printf '  %-16s %-4s %s\n' "$name" "${RESULT[$name]}" "${DETAIL[$name]:-}"
        [ "${RESULT[$name]}" = ok ] || failed=1
    done
    if [ "$failed" -ne 0 ]; then
        echo "FAILED"
        exit 1
    fi
    echo "all suites passed"
}

main "$@"
