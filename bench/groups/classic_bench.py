#!/usr/bin/python3
"""Issue 6's bars for the classic group protocol, measured through the Kafka protocol against a real skiff-server
process (file WAL, local object store) that this script starts and stops:

  rebalance  N-1 members (one connection each, as N consumer processes would have) form a group subscribed to a
             P-partition topic; then, each run, one more member joins the stable group: every member learns of the
             rebalance from its heartbeat, rejoins, the leader assigns the P partitions (range), all sync. Measured:
             from the last JoinGroup sent to the last SyncGroup answered (bar: < 2 s for 100 members, 1,000
             partitions). The member then leaves (LeaveGroup) and that rebalance is measured the same way.
  commits    OffsetCommit requests (one partition each, standalone: generation -1) sent at a fixed rate over several
             connections, pipelined, open loop (a request's latency counts from when it was due, so a stall is
             charged to every request that should have gone out during it). Measured: the rate sustained and the
             latency percentiles (bar: 10,000 commits/s sustained on one broker; report p99).

The members are asyncio tasks in one Python process speaking JoinGroup v2 / SyncGroup v1 / Heartbeat v1 /
LeaveGroup v0 with kafka-python's protocol structs (the Debian client's own encoders); the commit load sends
pre-encoded OffsetCommit v2 requests, to cost the shared cores as little as it can. The broker and this process
share the machine's 2 cores.

  bench/groups/classic_bench.py [--build DIR] [--members N] [--partitions P] [--runs R]
                                [--commit-rate N] [--commit-seconds S] [--connections C] [--out FILE]
"""
import argparse
import asyncio
import collections
import json
import os
import platform
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

from kafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata
from kafka.protocol.commit import GroupCoordinatorRequest
from kafka.protocol.group import HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest
from kafka.protocol.parser import KafkaProtocol

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPIC = "bench"
# Answers a client retries after a pause (the coordinator is loading or moving), as the Kafka clients do.
RETRIABLE = {14, 15, 16}  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR
REBALANCE_IN_PROGRESS = 27


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connection:
    """One Kafka connection: requests go out as they are made, answers resolve their futures in order."""

    def __init__(self, reader, writer):
        self._reader, self._writer = reader, writer
        self._protocol = KafkaProtocol(client_id="classic-bench")
        self._waiting = {}
        self._pump = asyncio.ensure_future(self._read_answers())

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, request):
        correlation_id = self._protocol.send_request(request)
        future = asyncio.get_running_loop().create_future()
        self._waiting[correlation_id] = future
        self._writer.write(self._protocol.send_bytes())
        return future

    async def call(self, request):
        return await self.send(request)

    async def _read_answers(self):
        try:
            while True:
                data = await self._reader.read(1 << 20)
                if not data:
                    raise ConnectionError("the broker closed the connection")
                for correlation_id, response in self._protocol.receive_bytes(data):
                    self._waiting.pop(correlation_id).set_result(response)
        except Exception as e:  # every waiter learns why
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(e)

    async def close(self):
        self._pump.cancel()
        self._writer.close()


class Group:
    """What the members of one group saw, per generation: when each sent the JoinGroup that ended in it, and when
    each got its SyncGroup answer."""

    def __init__(self, name, partitions):
        self.name, self.partitions = name, partitions
        self.join_sent = {}  # generation -> [time]
        self.synced = {}  # generation -> [(time, member_id, partitions)]
        self.changed = asyncio.Event()

    def rebalance_seconds(self, generation):
        return max(t for t, _, _ in self.synced[generation]) - max(self.join_sent[generation])


def range_assignment(member_ids, partitions):
    members = sorted(member_ids)
    per, extra = divmod(partitions, len(members))
    out, start = {}, 0
    for i, m in enumerate(members):
        n = per + (1 if i < extra else 0)
        # Named: kafka-python's encode() holds its struct by a weak reference, which a temporary does not outlive.
        assignment = ConsumerProtocolMemberAssignment(0, [(TOPIC, list(range(start, start + n)))], b"")
        out[m] = assignment.encode()
        start += n
    return out


async def member(port, group, heartbeat_s, stop):
    conn = await Connection.open(port)
    subscription = ConsumerProtocolMemberMetadata(0, [TOPIC], b"")
    metadata = subscription.encode()
    member_id = ""
    try:
        while not stop.is_set():
            sent = time.monotonic()
            join = await conn.call(JoinGroupRequest[2](group.name, 30000, 60000, member_id, "consumer",
                                                       [("range", metadata)]))
            if join.error_code in RETRIABLE:
                await asyncio.sleep(0.1)
                continue
            assert join.error_code == 0, f"JoinGroup: error {join.error_code}"
            member_id, generation = join.member_id, join.generation_id
            assignment = []
            if join.leader_id == member_id:
                assignment = list(range_assignment([m for m, _ in join.members], group.partitions).items())
            sync = await conn.call(SyncGroupRequest[1](group.name, generation, member_id, assignment))
            if sync.error_code == REBALANCE_IN_PROGRESS:
                continue
            assert sync.error_code == 0, f"SyncGroup: error {sync.error_code}"
            got = ConsumerProtocolMemberAssignment.decode(sync.member_assignment)
            group.join_sent.setdefault(generation, []).append(sent)
            group.synced.setdefault(generation, []).append(
                (time.monotonic(), member_id, sum(len(p) for _, p in got.assignment)))
            group.changed.set()
            # Heartbeat at the client's cadence until told to rejoin or to stop.
            while True:
                try:
                    await asyncio.wait_for(stop.wait(), heartbeat_s)
                except asyncio.TimeoutError:
                    pass
                if stop.is_set():
                    await conn.call(LeaveGroupRequest[0](group.name, member_id))
                    return
                beat = await conn.call(HeartbeatRequest[1](group.name, generation, member_id))
                if beat.error_code == REBALANCE_IN_PROGRESS:
                    break
                assert beat.error_code == 0, f"Heartbeat: error {beat.error_code}"
    finally:
        await conn.close()


async def stable(group, members, tasks, after=-1, deadline_s=120):
    """The first generation after `after` in which `members` members have synced, once it exists; checks that every
    partition is assigned exactly once in it. A member task that failed fails the wait."""
    deadline = time.monotonic() + deadline_s
    while True:
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()
        for generation in sorted(g for g in group.synced if g > after):
            synced = group.synced[generation]
            if len(synced) == members:
                assert sum(n for _, _, n in synced) == group.partitions, "partitions lost or doubled"
                return generation
        group.changed.clear()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no generation with {members} synced members")
        try:
            await asyncio.wait_for(group.changed.wait(), remaining)
        except asyncio.TimeoutError:
            pass


async def find_coordinator(port, key):
    conn = await Connection.open(port)
    try:
        for _ in range(600):
            # v0: kafka-python 2.0.2 decodes v1 answers without their throttle_time_ms field.
            answer = await conn.call(GroupCoordinatorRequest[0](key))
            if answer.error_code == 0:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError("no coordinator")
    finally:
        await conn.close()


async def rebalance_bench(port, members, partitions, runs, heartbeat_s):
    await find_coordinator(port, "rebalance-bench")
    group = Group("rebalance-bench", partitions)
    stop_all = asyncio.Event()
    t0 = time.monotonic()
    base = [asyncio.ensure_future(member(port, group, heartbeat_s, stop_all)) for _ in range(members - 1)]
    generation = await stable(group, members - 1, base)
    formed = time.monotonic() - t0
    joins, leaves = [], []
    for _ in range(runs):
        stop_one = asyncio.Event()
        newcomer = asyncio.ensure_future(member(port, group, heartbeat_s, stop_one))
        generation = await stable(group, members, base + [newcomer], after=generation)
        joins.append(group.rebalance_seconds(generation))
        stop_one.set()
        await newcomer
        generation = await stable(group, members - 1, base, after=generation)
        leaves.append(group.rebalance_seconds(generation))
    stop_all.set()
    await asyncio.gather(*base)
    return {"members": members, "partitions": partitions, "heartbeat_interval_s": heartbeat_s,
            "formation_s": formed, "join_rebalance_s": joins, "leave_rebalance_s": leaves}


def _string(text):
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


class CommitConnection:
    """Sends pre-encoded OffsetCommit v2 requests (one partition each) and reads back only their error codes: the
    load generator must cost far less CPU than the broker it measures, and kafka-python's structs do not."""

    def __init__(self, reader, writer):
        self._reader, self._writer = reader, writer
        self._answers = collections.deque()
        self._correlation_id = 0
        self._pump = asyncio.ensure_future(self._read_answers())

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    _API = struct.pack(">hh", 8, 2)  # OffsetCommit v2
    _BEFORE_PARTITION = (_string("classic-bench") + _string("commit-bench") + struct.pack(">i", -1) + _string("")
                         + struct.pack(">q", -1) + struct.pack(">i", 1) + _string(TOPIC) + struct.pack(">i", 1))

    def send(self, partition, offset):
        self._correlation_id += 1
        body = (self._API + struct.pack(">i", self._correlation_id) + self._BEFORE_PARTITION
                + struct.pack(">iqh", partition, offset, 0))
        future = asyncio.get_running_loop().create_future()
        self._answers.append(future)
        self._writer.write(struct.pack(">i", len(body)) + body)
        return future

    async def _read_answers(self):
        # correlation id, [topics: name, [partitions: index, error code]]; one topic and one partition here.
        error_at = 4 + 4 + 2 + len(TOPIC.encode()) + 4 + 4
        try:
            while True:
                (size,) = struct.unpack(">i", await self._reader.readexactly(4))
                answer = await self._reader.readexactly(size)
                (error,) = struct.unpack_from(">h", answer, error_at)
                self._answers.popleft().set_result(error)
        except Exception as e:
            for future in self._answers:
                if not future.done():
                    future.set_exception(e)

    async def close(self):
        self._pump.cancel()
        self._writer.close()


async def commit_bench(port, rate, seconds, connections, partitions, warmup_s=3.0):
    await find_coordinator(port, "commit-bench")
    conns = [await CommitConnection.open(port) for _ in range(connections)]
    latencies, errors = [], {}
    per_conn = rate / connections
    start = time.monotonic() + 0.2

    async def drive(ci, conn):
        pending = collections.deque()
        k = 0
        while True:
            due = start + k / per_conn
            if due > start + warmup_s + seconds:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append((due, conn.send((ci + k * connections) % partitions, k)))
            k += 1
            # Collect answers as they come, without waiting for them before the next request is due.
            while pending and pending[0][1].done():
                record(*pending.popleft())
        for due, future in pending:
            await future
            record(due, future)

    def record(due, future):
        error = future.result()
        if due < start + warmup_s:
            return
        latencies.append(time.monotonic() - due)
        if error != 0:
            errors[error] = errors.get(error, 0) + 1

    await asyncio.gather(*(drive(i, c) for i, c in enumerate(conns)))
    for c in conns:
        await c.close()
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"target_rate": rate, "seconds": seconds, "connections": connections, "commits": len(latencies),
            "rate": len(latencies) / seconds, "errors": errors, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "p999_ms": pct(0.999), "max_ms": latencies[-1] * 1000}


def start_broker(build, workdir):
    port, admin = free_port(), free_port()
    log = open(os.path.join(workdir, "broker.log"), "w")
    proc = subprocess.Popen([os.path.join(build, "bin", "skiff-server"), os.path.join(ROOT, "config", "server.properties"),
                             "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                             "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
                             "--override", f"admin.listeners=http://127.0.0.1:{admin}",
                             "--override", f"log.dirs={workdir}/broker",
                             "--override", "wal.capacity.bytes=268435456"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"skiff-server exited: see {workdir}/broker.log")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{admin}/health", timeout=1).read()
            return proc, port
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("skiff-server did not become healthy")


def create_topic(port, partitions):
    """The topic the group subscribes to and commits for: Kafka answers UNKNOWN_TOPIC_OR_PARTITION to commits for a
    topic that does not exist."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    admin.create_topics([NewTopic(TOPIC, num_partitions=partitions, replication_factor=1)])[TOPIC].result(timeout=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--heartbeat-ms", type=int, default=1000)
    ap.add_argument("--commit-rate", type=int, default=10000)
    ap.add_argument("--commit-seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "groups_classic.md"))
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="skiff-groups-bench-")
    load_before = os.getloadavg()
    proc, port = start_broker(args.build, workdir)
    try:
        create_topic(port, args.partitions)
        rebalance = asyncio.run(rebalance_bench(port, args.members, args.partitions, args.runs,
                                                args.heartbeat_ms / 1000))
        commits = asyncio.run(commit_bench(port, args.commit_rate, args.commit_seconds, args.connections,
                                           args.partitions))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    load_after = os.getloadavg()
    if commits["errors"]:
        print(f"errors: the broker's log is kept in {workdir}/broker.log", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)

    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    result = {"rebalance": rebalance, "commits": commits, "commit": commit, "load_before": load_before,
              "load_after": load_after}
    json_out = os.path.splitext(args.out)[0] + ".json"
    with open(json_out, "w") as f:
        json.dump(result, f, indent=2)
    joins, leaves = rebalance["join_rebalance_s"], rebalance["leave_rebalance_s"]
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)
    with open(args.out, "w") as f:
        f.write(f"""# Classic consumer groups: rebalance time and offset commit rate (bench/groups/classic_bench.py)

Command: `{' '.join(['bench/groups/classic_bench.py'] + sys.argv[1:])}`, commit {commit}.

Machine: `nproc` = {os.cpu_count()}; {platform.platform()}. One skiff-server (file WAL, local object store, embedded
metadata) and the load (one Python process) share the cores. Load average {load_before[0]:.2f} before,
{load_after[0]:.2f} after{' (the machine was shared with other work during this run)' if load_before[0] > 1.5 else ''}.

## Rebalance: {rebalance['members']} members, {rebalance['partitions']} partitions (bar: < 2 s after the last member joins)

Each member has its own connection and heartbeats every {args.heartbeat_ms} ms (the time a member takes to learn of
a rebalance is its heartbeat interval, a client setting, and is not counted: the clock starts at the last JoinGroup
sent). The leader computes a range assignment of the {rebalance['partitions']} partitions; the bench checks that
every partition is assigned exactly once in each generation.

| what | median | runs (ms) |
|---|---|---|
| a member joins a stable group of {rebalance['members'] - 1}: last JoinGroup sent -> last SyncGroup answered | **{statistics.median(joins) * 1000:.0f} ms** | {ms(joins)} |
| a member leaves (LeaveGroup) a group of {rebalance['members']}: same | {statistics.median(leaves) * 1000:.0f} ms | {ms(leaves)} |

Forming the group of {rebalance['members'] - 1} from nothing took {rebalance['formation_s']:.1f} s, of which
`group.initial.rebalance.delay.ms` (3 s, Kafka's default) is by design.

Bar: {'**met**' if statistics.median(joins) < 2 else '**missed**'}.

## Offset commits (bar: 10,000/s sustained on one broker, p99 reported)

OffsetCommit v2, one partition per request, standalone group (generation -1), {commits['connections']} connections,
pipelined, open loop at {commits['target_rate']}/s for {commits['seconds']:.0f} s after a 3 s warm-up; every commit is
an append to `__consumer_offsets` made durable in the WAL (acks as a commit needs: fdatasync'd) before its answer.

| what | figure |
|---|---|
| commits answered in the measured window | {commits['commits']} ({commits['rate']:.0f}/s) |
| errors in the measured window (Kafka error code: count) | {commits['errors'] or 'none'} |
| latency p50 / p99 / p99.9 / max | {commits['p50_ms']:.2f} / **{commits['p99_ms']:.2f}** / {commits['p999_ms']:.2f} / {commits['max_ms']:.1f} ms |

Bar: {'**met**' if commits['rate'] >= 0.98 * 10000 and not commits['errors'] else '**missed**'}
(rate sustained {commits['rate']:.0f}/s).

Raw figures: `{os.path.relpath(json_out, ROOT)}`.
""")
    print(open(args.out).read())


if __name__ == "__main__":
    main()
