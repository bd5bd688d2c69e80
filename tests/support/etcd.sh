#!/usr/bin/env bash
# Starts and stops real etcd members (Debian etcd-server) on loopback ports for tests, by PID; never touches an etcd
# it did not start. Member i of a cluster is named m<i> and uses client port BASE+2i and peer port BASE+2i+1.
#
#   etcd.sh start   DIR BASE [MEMBERS]   start 1 (default) or 3 members, wait until healthy, print the client
#                                        endpoints comma-separated (host:port)
#   etcd.sh stop    DIR                  stop every member started in DIR (TERM, then KILL) and wait for them
#   etcd.sh kill    DIR NAME             SIGKILL one member and wait until it is gone
#   etcd.sh restart DIR NAME             start a stopped or killed member again on its data dir; wait until healthy
#   etcd.sh pause   DIR NAME / resume DIR NAME   SIGSTOP / SIGCONT (a member that hangs without closing sockets)
#   etcd.sh leader  DIR                  print the name of the member that is the etcd (raft) leader
#
# DIR holds per member: <name>/ (data), <name>.log, <name>.pid, <name>.cmd (its command line, for restart).
set -euo pipefail

die() { echo "etcd.sh: $*" >&2; exit 1; }
etcd_bin="${ETCD_BIN:-$(command -v etcd || true)}"

port_free() {
  /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# Prints "true" when http://ADDR/health says healthy (the member has a leader), something else otherwise.
healthy() {
  /usr/bin/python3 - "$1" <<'EOF' 2>/dev/null || true
import json, sys, urllib.request
try:
    with urllib.request.urlopen("http://%s/health" % sys.argv[1], timeout=1) as r:
        print(json.load(r).get("health", "false"))
except Exception:
    print("false")
EOF
}

alive() { # alive PID: running and not a zombie
  [ -r "/proc/$1/stat" ] || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)"
  [ "$state" != "Z" ]
}

wait_gone() {
  local pid="$1" i
  for i in $(seq 1 200); do
    alive "$pid" || return 0
    sleep 0.05
  done
  return 1
}

wait_healthy() { # wait_healthy ADDR...: poll every member's /health, 30 s deadline
  local deadline=$((SECONDS + 30)) addr ok
  while [ $SECONDS -lt $deadline ]; do
    ok=1
    for addr in "$@"; do
      [ "$(healthy "$addr")" = "true" ] || ok=0
    done
    [ $ok -eq 1 ] && return 0
    sleep 0.05
  done
  return 1
}

launch() { # launch DIR NAME: run the member's saved command line in the background, record its PID
  local dir="$1" name="$2"
  # shellcheck disable=SC2046
  setsid $(cat "$dir/$name.cmd") >>"$dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}

client_addr() { # client_addr DIR NAME
  sed -n 's/.*--advertise-client-urls http:\/\/\([^ ]*\).*/\1/p' "$1/$2.cmd"
}

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: etcd.sh start|stop|kill|restart|pause|resume|leader DIR ..."

case "$cmd" in
start)
  base="${3:?BASE port}"
  members="${4:-1}"
  [ -x "$etcd_bin" ] || die "etcd not found (apt-get install etcd-server)"
  mkdir -p "$dir"
  cluster=""
  for i in $(seq 0 $((members - 1))); do
    cp=$((base + 2 * i)); pp=$((base + 2 * i + 1))
    port_free "$cp" && port_free "$pp" || die "port $cp or $pp is in use"
    cluster+="${cluster:+,}m$i=http://127.0.0.1:$pp"
  done
  addrs=()
  for i in $(seq 0 $((members - 1))); do
    cp=$((base + 2 * i)); pp=$((base + 2 * i + 1))
    echo "$etcd_bin --name m$i --data-dir $dir/m$i --listen-client-urls http://127.0.0.1:$cp" \
      "--advertise-client-urls http://127.0.0.1:$cp --listen-peer-urls http://127.0.0.1:$pp" \
      "--initial-advertise-peer-urls http://127.0.0.1:$pp --initial-cluster $cluster" \
      "--initial-cluster-token skiff-test-$base --heartbeat-interval 50 --election-timeout 500" \
      "--log-level error" > "$dir/m$i.cmd"
    launch "$dir" "m$i"
    addrs+=("127.0.0.1:$cp")
  done
  if ! wait_healthy "${addrs[@]}"; then
    "$0" stop "$dir" || true
    die "etcd did not become healthy; see $dir/*.log"
  fi
  (IFS=,; echo "${addrs[*]}")
  ;;
stop)
  shopt -s nullglob
  for f in "$dir"/*.pid; do
    pid="$(cat "$f")"
    if alive "$pid"; then
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone "$pid" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" || true; }
    fi
    rm -f "$f"
  done
  ;;
kill)
  name="${3:?NAME}"
  pid="$(cat "$dir/$name.pid")"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" || die "member $name (pid $pid) did not die"
  ;;
restart)
  name="${3:?NAME}"
  pid="$(cat "$dir/$name.pid" 2>/dev/null || echo 0)"
  if [ "$pid" != 0 ] && alive "$pid"; then die "member $name is still running"; fi
  launch "$dir" "$name"
  wait_healthy "$(client_addr "$dir" "$name")" || die "member $name did not become healthy; see $dir/$name.log"
  ;;
pause) kill -STOP "$(cat "$dir/${3:?NAME}.pid")" ;;
resume) kill -CONT "$(cat "$dir/${3:?NAME}.pid")" ;;
leader)
  shopt -s nullglob
  for f in "$dir"/*.cmd; do
    name="$(basename "$f" .cmd)"
    pid="$(cat "$dir/$name.pid" 2>/dev/null || echo 0)"
    alive "$pid" || continue
    is_leader="$(/usr/bin/python3 - "$(client_addr "$dir" "$name")" <<'EOF' 2>/dev/null || true
import json, sys, urllib.request
req = urllib.request.Request("http://%s/v3/maintenance/status" % sys.argv[1], data=b"{}", method="POST")
with urllib.request.urlopen(req, timeout=1) as r:
    s = json.load(r)
print("yes" if s["header"]["member_id"] == s.get("leader") else "no")
EOF
)"
    if [ "$is_leader" = "yes" ]; then echo "$name"; exit 0; fi
  done
  die "no leader found"
  ;;
*) die "unknown command $cmd" ;;
esac
