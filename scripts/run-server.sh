#!/usr/bin/env bash
# Builds tandem-server in release mode and runs it in the foreground.
#
#   scripts/run-server.sh              port 6379
#   scripts/run-server.sh 7000         another port
#   scripts/run-server.sh 7000 --requirepass secret --maxmemory 100mb
#                                      more redis-server style options after the port
#
# Stop it with Ctrl-C (or SHUTDOWN from a client).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${1:-6379}"
if [ $# -gt 0 ]; then
    shift
fi

cargo build --release -p tandem-server
exec "$ROOT/target/release/tandem-server" --port "$PORT" "$@"
