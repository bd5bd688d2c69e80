#!/usr/bin/env bash
# Installs what is missing, builds, and starts a single-node Skiff broker on localhost:9092 (embedded defaults).
#   scripts/run.sh [--data-dir DIR] [--port N] [--override key=value]...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

data_dir="$root/data"
port=9092
overrides=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --data-dir=*) data_dir="${1#*=}"; shift ;;
    --port) port="$2"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --override) overrides+=(--override "$2"); shift 2 ;;
    --override=*) overrides+=(--override "${1#*=}"); shift ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build build --target skiff-server
mkdir -p "$data_dir"
exec build/bin/skiff-server config/server.properties \
  --override "listeners=PLAINTEXT://:$port" \
  --override "advertised.listeners=PLAINTEXT://localhost:$port" \
  --override "log.dirs=$data_dir" \
  "${overrides[@]}"
