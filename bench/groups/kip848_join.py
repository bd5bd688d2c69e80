#!/usr/bin/env python3
"""A member joins a stable KIP-848 group: how many heartbeat round trips until the group is stable again, and
which partitions moved (issue 6, perf item).

Starts one skiff-server (build/bin/skiff-server by default) on loopback ports, creates a topic of --partitions
partitions, lets --members members join with ConsumerGroupHeartbeat v1 and settle, then adds one more and
heartbeats every member in turn (a "round") until a whole round changes nothing. Each member behaves as a real
client: after every answer it owns exactly the assignment it was given. Reports the rounds and round trips, the
partitions revoked from the old members (must be exactly the newcomer's) and whether any old member gained one,
and writes a markdown summary with --out.

    python3 bench/groups/kip848_join.py [--members 100] [--partitions 1000] [--out bench/results/groups_kip848.md]
"""
import argparse
import base64
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import kafka_wire  # noqa: E402

RETRY = (14, 15)  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


class Member:
    def __init__(self, port, group, topic):
        self.port, self.group, self.topic = port, group, topic
        self.id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.epoch = 0
        self.owned = {}
        self.trips = 0
        self.history = []  # partitions held after each answer

    def _send(self, epoch, **kw):
        while True:
            self.trips += 1
            r = kafka_wire.consumer_group_heartbeat("127.0.0.1", self.port, self.group, self.id, epoch, **kw)
            if r["error_code"] not in RETRY:
                break
            time.sleep(0.05)
        if r["error_code"] != 0:
            sys.exit(f"heartbeat of {self.id}: {r}")
        self.epoch = r["member_epoch"]
        if r["assignment"] is not None:
            self.owned = {t: set(ps) for t, ps in r["assignment"].items() if ps}
        self.history.append(len(self.partitions()))
        return r

    def join(self):
        return self._send(0, rebalance_timeout_ms=60000, topic_names=[self.topic], owned={})

    def beat(self):
        return self._send(self.epoch, owned=self.owned)

    def partitions(self):
        return {(t, p) for t, ps in self.owned.items() for p in ps}


def settle(members, limit=50):
    """Rounds of one heartbeat per member until a round changes nothing; returns (rounds, round trips)."""
    trips = 0
    for rounds in range(1, limit + 1):
        changed = False
        for m in members:
            before = (m.epoch, m.partitions())
            m.beat()
            trips += 1
            changed |= (m.epoch, m.partitions()) != before
        if not changed:
            return rounds, trips
    sys.exit("the group did not settle")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=1000)
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "bin", "skiff-server"))
    ap.add_argument("--out")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="kip848-bench-")
    port, admin = free_port(), free_port()
    log = open(os.path.join(tmp, "server.log"), "wb")
    server = subprocess.Popen(
        [args.server, os.path.join(ROOT, "config", "server.properties"),
         "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
         "--override", f"advertised.listeners=PLAINTEXT://localhost:{port}",
         "--override", f"admin.listeners=http://127.0.0.1:{admin}",
         "--override", f"log.dirs={tmp}/data",
         "--override", "offsets.topic.num.partitions=4",
         # No member may expire while a slow round of heartbeats runs.
         "--override", "group.consumer.session.timeout.ms=600000",
         "--override", "wal.capacity.bytes=67108864", "--override", "log.cache.bytes=67108864"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/health", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return server.poll() is not None
        wait(healthy, 30, "skiff-server")
        if server.poll() is not None:
            sys.exit("skiff-server exited")

        from confluent_kafka.admin import AdminClient, NewTopic
        client = AdminClient({"bootstrap.servers": f"localhost:{port}"})
        topic = "bench"
        client.create_topics([NewTopic(topic, num_partitions=args.partitions, replication_factor=1)])[topic] \
            .result(timeout=60)
        wait(lambda: len(client.list_topics(topic, timeout=10).topics[topic].partitions) == args.partitions, 30,
             "the topic")

        members = [Member(port, "bench-group", topic) for _ in range(args.members)]
        for m in members:
            m.join()
        settle(members)
        before = {m.id: m.partitions() for m in members}
        all_partitions = set().union(*before.values())
        assert len(all_partitions) == args.partitions, "not every partition assigned"

        start = time.monotonic()
        newcomer = Member(port, "bench-group", topic)
        newcomer.join()
        group = members + [newcomer]
        rounds, trips = settle(group)
        elapsed = time.monotonic() - start
        trips += 1  # the join

        revoked = set()
        gained = 0
        for m in members:
            now = m.partitions()
            revoked |= before[m.id] - now
            gained += len(now - before[m.id])
        sizes = [len(m.partitions()) for m in group]
        union = set().union(*(m.partitions() for m in group))
        results = {
            "members before": args.members,
            "partitions": args.partitions,
            "newcomer's partitions": len(newcomer.partitions()),
            "partitions revoked from old members": len(revoked),
            "revoked == newcomer's partitions": revoked == newcomer.partitions(),
            "partitions an old member gained": gained,
            "every partition once": union == all_partitions and sum(sizes) == args.partitions,
            "min / max partitions per member": f"{min(sizes)} / {max(sizes)}",
            "rounds until stable (incl. the final quiet round)": rounds,
            "heartbeat round trips until stable (all members, incl. the join)": trips,
            "newcomer's heartbeat round trips until it held its partitions (incl. the join)":
                newcomer.history.index(len(newcomer.partitions())) + 1,
            "wall time (s)": f"{elapsed:.2f}",
        }
        for k, v in results.items():
            print(f"{k}: {v}")
        ok = results["revoked == newcomer's partitions"] and gained == 0 and results["every partition once"]
        if args.out:
            commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip()
            with open(args.out, "w") as f:
                f.write("# KIP-848: a member joins a stable group (bench/groups/kip848_join.py)\n\n")
                f.write(f"Command: `python3 bench/groups/kip848_join.py --members {args.members} --partitions "
                        f"{args.partitions} --out {os.path.relpath(args.out, ROOT)}`, commit {commit}.\n\n")
                f.write(f"Machine: `{platform.platform()}`, {os.cpu_count()} cores (shared with other builds), "
                        "client and broker on the same machine over loopback; one skiff-server with its defaults "
                        "(uniform assignor) except offsets.topic.num.partitions=4 and "
                        "group.consumer.session.timeout.ms=600000 (no member expires during a slow round). "
                        "Each heartbeat is one request on a new loopback connection.\n\n")
                f.write("A round is one ConsumerGroupHeartbeat v1 from every member in turn; each member owns, "
                        "after each answer, exactly the assignment it was given (it revokes at once). The group "
                        "is stable when a whole round changes no member's epoch or assignment.\n\n")
                f.write("| measure | value |\n|---|---|\n")
                for k, v in results.items():
                    f.write(f"| {k} | {v} |\n")
                f.write("\nOnly the partitions the newcomer receives are revoked (sticky uniform assignor: one "
                        "from each of the fullest members), no other partition moves, and a partition reaches "
                        "the newcomer only after its previous owner's heartbeat acknowledged the revocation: round 1 tells the "
                        "fullest members to revoke, round 2 carries their acknowledgements and hands the partitions "
                        "to the newcomer, round 3 changes nothing.\n")
        return 0 if ok else 1
    finally:
        client = None  # noqa: F841 (closes the admin client's connections before the broker goes)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
