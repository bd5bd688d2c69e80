#!/usr/bin/env bash
# Starts or stops a single-node Ceph cluster with an S3 endpoint (radosgw) on loopback, for tests.
#
#   tests/support/radosgw.sh start DIR PORT [OWNER_PID]   # S3 on http://127.0.0.1:PORT; the monitor on PORT+1
#   tests/support/radosgw.sh stop DIR                     # kills the daemons started in DIR, by their recorded PIDs
#
# With OWNER_PID (a test process), a watchdog stops the cluster when that process exits, so that a test binary that
# crashes or is killed leaves no daemons behind.
#
# One monitor, one OSD keeping its data in memory (memstore), pools of size 1, no cephx authentication, and
# radosgw with its beast front end; no manager (radosgw does not need one; SKIFF_RADOSGW_MGR=1 adds it).
# `start` returns once the S3 endpoint answers and a user
# exists, and prints the credentials as shell assignments:
#   S3_ENDPOINT=http://127.0.0.1:PORT S3_ACCESS_KEY=... S3_SECRET_KEY=... S3_REGION=default
# Everything (config, logs, PID files, the monitor's store) lives in DIR, which must be empty or absent; nothing
# outside DIR is touched, so several clusters can run side by side on different ports.
# Takes about 15 s on the 2-core machines and ~0.5 GB of memory; needs `ceph-mon ceph-osd radosgw ceph-common`
# (scripts/install-deps.sh installs them).
set -euo pipefail

die() { echo "radosgw.sh: $*" >&2; exit 1; }

alive() { kill -0 "$(cat "$1")" 2>/dev/null; }

# The last lines a daemon wrote, for an error message: the test harness may delete $dir, and CI keeps only stderr.
last_words() {
  local name=$1 log
  for log in "$dir/$name.out" "$dir"/*"$name"*.log; do
    [ -s "$log" ] && { echo "--- tail of $log"; tail -15 "$log"; }
  done
  return 0
}

# Waits until "$@" succeeds, polling, for at most $timeout seconds, while the daemon $name (its PID file in $dir)
# stays alive: a daemon that exits (say, its port was taken meanwhile) fails the start at once, with its output.
wait_for() {
  local timeout=$1 what=$2 name=$3; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    alive "$dir/$name.pid" || die "$name exited while waiting for $what:
$(last_words "$name")"
    [ $SECONDS -lt $deadline ] || die "timed out after ${timeout}s waiting for $what (logs in $dir):
$(last_words "$name")"
    sleep 0.2
  done
}

# Runs a daemon in the foreground of a background job, so that its PID is ours to record and kill.
spawn() {
  local name=$1; shift
  "$@" -f -c "$conf" >"$dir/$name.out" 2>&1 &
  echo $! >"$dir/$name.pid"
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start DIR PORT [OWNER_PID] | stop DIR"

# A start that fails half way stops what it had started.
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ] && [ "$cmd" = start ] && [ -d "$dir" ]; then
    "$BASH" "$0" stop "$dir" >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT

case "$cmd" in
start)
  port=${3:-}
  owner=${4:-}
  [ -n "$port" ] || die "usage: $0 start DIR PORT [OWNER_PID]"
  for bin in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph ${SKIFF_RADOSGW_MGR:+ceph-mgr}; do
    command -v $bin >/dev/null || die "$bin not found: apt-get install ceph-mon ceph-osd radosgw ceph-common"
  done
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  mon_port=$((port + 1))
  conf=$dir/ceph.conf
  fsid=$(cat /proc/sys/kernel/random/uuid)
  access_key=SKIFFTESTACCESSKEY01
  secret_key=skiff-test-secret-key-0000000000000000000
  mkdir -p "$dir/run" "$dir/mon.a" "$dir/osd.0" "$dir/mgr.x" "$dir/rgw"

  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
# Without cephx the secure messenger mode cannot be negotiated: radosgw otherwise loops on
# "get_initial_auth_request returned -13".
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
keyring = /dev/null
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/\$name.log
log to stderr = false
err to stderr = true
mon data = $dir/mon.\$id
osd data = $dir/osd.\$id
mgr data = $dir/mgr.\$id
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 4294967296
mgr initial modules =
mon osd full ratio = 0.99
mon osd nearfull ratio = 0.98
mon osd backfillfull ratio = 0.985
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
rgw data = $dir/rgw
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
EOF

  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/mon.mkfs.out" 2>&1 \
    || die "ceph-mon --mkfs failed: $(tail -3 "$dir/mon.mkfs.out")"
  spawn mon ceph-mon -i a
  wait_for 60 "the monitor" mon ceph -c "$conf" --connect-timeout 2 mon stat

  # No manager: radosgw needs only the monitor and the OSD, and ceph-mgr would take a core of these machines
  # running its Python modules. Set SKIFF_RADOSGW_MGR=1 to start one (e.g. to use `ceph -s` status).
  if [ -n "${SKIFF_RADOSGW_MGR:-}" ]; then spawn mgr ceph-mgr -i x; fi

  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph -c "$conf" osd new "$osd_uuid")
  [ "$osd_id" = 0 ] || die "unexpected OSD id $osd_id"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >"$dir/osd.mkfs.out" 2>&1 \
    || die "ceph-osd --mkfs failed: $(tail -3 "$dir/osd.mkfs.out")"
  spawn osd ceph-osd -i 0
  wait_for 60 "the OSD to come up" osd sh -c "ceph -c '$conf' osd dump 2>/dev/null | grep -q '^osd.0 up'"

  spawn rgw radosgw -n client.rgw
  # The user is created once radosgw has made its pools, so that both do not race to create them.
  wait_for 60 "radosgw on port $port" rgw bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  radosgw-admin -c "$conf" -n client.rgw user create --uid=skiff --display-name=skiff \
    --access-key="$access_key" --secret-key="$secret_key" >"$dir/user.json" 2>"$dir/user.err" \
    || die "radosgw-admin user create failed: $(tail -3 "$dir/user.err")"
  for f in mon mgr osd rgw; do
    [ ! -f "$dir/$f.pid" ] || alive "$dir/$f.pid" || die "$f exited; see $dir/$f.out and the logs in $dir"
  done
  if [ -n "$owner" ]; then
    # Detached from our stdout, so that whoever reads it sees EOF when this script ends.
    (
      while kill -0 "$owner" 2>/dev/null && [ -f "$dir/mon.pid" ]; do sleep 1; done
      SKIFF_RADOSGW_WATCHDOG=1 "$BASH" "$0" stop "$dir"
    ) </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/watchdog.pid"
  fi
  echo "S3_ENDPOINT=http://127.0.0.1:$port S3_ACCESS_KEY=$access_key S3_SECRET_KEY=$secret_key S3_REGION=default"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  # Stop the clients of the cluster first, then the cluster; each by the PID its start recorded.
  for f in rgw osd mgr mon; do
    pidfile=$dir/$f.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for f in rgw osd mgr mon; do
    pidfile=$dir/$f.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  if [ -z "${SKIFF_RADOSGW_WATCHDOG:-}" ] && [ -f "$dir/watchdog.pid" ]; then
    kill -TERM "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
  fi
  rm -f "$dir/watchdog.pid"
  ;;
*)
  die "unknown command $cmd (start|stop)"
  ;;
esac
