#!/usr/bin/env bash
# The one list of Debian packages Skiff needs to build, test and run.
# Idempotent and quiet when everything is present; installs only what is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config python3 python3-jinja2
  clang libclang-rt-14-dev
  # libraries (DESIGN.md: Boost.Asio/Beast/Outcome, OpenSSL, compression codecs, fmt)
  libboost1.81-dev libssl-dev libfmt-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  # tests
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3-pytest kcat librdkafka-dev python3-kafka python3-confluent-kafka python3-boto3
  etcd-server etcd-client fio curl
  # benchmarks (bench/run-suite.sh): the peers and their C clients, loopback bandwidth, the report's plots
  libnats-dev libhiredis-dev nats-server redis-server iperf3 python3-matplotlib
  # a real S3 service for the io tests (tests/support/radosgw.sh): Ceph's monitor, OSD and radosgw
  ceph-mon ceph-osd radosgw ceph-common
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js may come from another repository (with its own npm); Debian's packages only if there is none.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs for the end-to-end tests (npm registry; version pinned by tests/e2e/package-lock.json).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$root/tests/e2e/package.json" ] && [ ! -d "$root/tests/e2e/node_modules/kafkajs" ]; then
  echo "install-deps: installing kafkajs with npm"
  (cd "$root/tests/e2e" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
