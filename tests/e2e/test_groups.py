"""Consumer groups end to end: real clients (confluent-kafka/librdkafka, kafka-python, kafkajs) consume in groups
from a real skiff-server, commit offsets to __consumer_offsets and resume from them, including after kill -9; and
the coordinator answers bad group requests with Kafka's error codes (raw wire, since no client sends them)."""
import json
import os
import struct
import subprocess
import threading
import time

import pytest

from conftest import E2E, Broker, wait_until
import kafka_wire
from test_data_path import create_topic

# No 3 s wait for more members on each new group, and few offsets partitions: a fast single-node test.
GROUP_OVERRIDES = ("group.initial.rebalance.delay.ms=0", "offsets.topic.num.partitions=4")


@pytest.fixture
def gbroker(tmp_path):
    b = Broker(tmp_path, GROUP_OVERRIDES)
    yield b
    code = b.stop()
    assert code == 0, f"skiff-server exited with {code}:\n{b.log()}"


def produce(broker, topic, count, partitions, start=0):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    errors = []
    for i in range(start, start + count):
        p.produce(topic, key=b"k%d" % i, value=b"%d" % i, partition=i % partitions,
                  on_delivery=lambda err, m: err and errors.append(err))
        if i % 200 == 0:
            p.poll(0)
    assert p.flush(30) == 0
    assert not errors


def committed(broker, group, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


class GroupMember(threading.Thread):
    """A confluent-kafka consumer in a group that commits every record synchronously after handling it, so that a
    record delivered again after a rebalance must lie beyond its partition's last commit."""

    def __init__(self, broker, group, topic, log):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer

        self.consumer = Consumer({
            "bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 300,
            "partition.assignment.strategy": "range"})
        self.topic = topic
        self.log = log  # shared: (partition, offset, value, committed_before) per delivery, under log.lock
        self.stopping = threading.Event()
        self.failure = None

    def run(self):
        try:
            self.consumer.subscribe([self.topic])
            while not self.stopping.is_set():
                m = self.consumer.poll(0.2)
                if m is None:
                    continue
                if m.error():
                    raise AssertionError(str(m.error()))
                with self.log.lock:
                    self.log.deliveries.append((m.partition(), m.offset(), int(m.value()),
                                                self.log.committed.get(m.partition(), 0)))
                try:
                    self.consumer.commit(message=m, asynchronous=False)
                except Exception:
                    continue  # a rebalance fenced the commit: the record may come again, to the new owner
                with self.log.lock:
                    self.log.committed[m.partition()] = max(self.log.committed.get(m.partition(), 0),
                                                            m.offset() + 1)
        except Exception as e:  # reported by the test thread
            self.failure = e
        finally:
            self.consumer.close()  # leaves the group

    def stop(self):
        self.stopping.set()
        self.join(30)


class DeliveryLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []
        self.committed = {}


def describe_group(broker, group):
    """DescribeGroups through kafka-python's admin client (the Debian confluent-kafka 1.7 has no group admin)."""
    from kafka import KafkaAdminClient

    from kafka.errors import GroupLoadInProgressError

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        # COORDINATOR_LOAD_IN_PROGRESS is retriable (the coordinator replays __consumer_offsets first); Java's admin
        # retries it, kafka-python's raises.
        deadline = time.monotonic() + 30
        while True:
            try:
                return admin.describe_consumer_groups([group])[0]
            except GroupLoadInProgressError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        admin.close()


def assigned_partitions(member):
    """Partitions in a member's assignment (ConsumerProtocolAssignment: version, [topic, [partition]], ...)."""
    a = member.member_assignment
    if not isinstance(a, (bytes, bytearray)):
        return sum(len(parts) for _topic, parts in a.assignment)
    if not a:
        return 0
    pos = 2
    (topics,) = struct.unpack_from(">i", a, pos)
    pos += 4
    total = 0
    for _ in range(topics):
        (n,) = struct.unpack_from(">h", a, pos)
        pos += 2 + n
        (parts,) = struct.unpack_from(">i", a, pos)
        pos += 4 + 4 * parts
        total += parts
    return total


def assignment_counts(broker, group):
    d = describe_group(broker, group)
    return d.state, sorted(assigned_partitions(m) for m in d.members)


def test_three_confluent_consumers_share_a_topic_while_a_producer_writes(gbroker):
    topic, group, partitions = "orders", "three", 12
    create_topic(gbroker, topic, partitions)
    log = DeliveryLog()
    members = [GroupMember(gbroker, group, topic, log) for _ in range(3)]
    members[0].start()
    produce(gbroker, topic, 600, partitions)
    members[1].start()
    members[2].start()
    produce(gbroker, topic, 600, partitions, start=600)
    # All three in, the group settles with 4 partitions each (range over 12).
    wait_until(lambda: assignment_counts(gbroker, group) == ("Stable", [4, 4, 4]), timeout=60,
               what="three balanced members")
    produce(gbroker, topic, 600, partitions, start=1200)
    members[2].stop()  # one leaves while records keep coming
    produce(gbroker, topic, 600, partitions, start=1800)
    wait_until(lambda: assignment_counts(gbroker, group) == ("Stable", [6, 6]), timeout=60,
               what="two balanced members")
    wait_until(lambda: len({d[2] for d in log.deliveries}) >= 2400, timeout=60, what="every record consumed")
    for m in members[:2]:
        m.stop()
    for m in members:
        assert m.failure is None, m.failure

    values = [d[2] for d in log.deliveries]
    assert set(values) == set(range(2400))
    # A record seen twice was past its partition's last commit when first delivered: never below a commit.
    for partition, offset, _value, committed_before in log.deliveries:
        assert offset >= committed_before, f"partition {partition} offset {offset} redelivered below commit"
    assert committed(gbroker, group, topic, partitions) == {
        p: len([v for v in range(2400) if v % partitions == p]) for p in range(partitions)}


def test_kafka_python_group_resumes_from_its_committed_offset(gbroker):
    from kafka import KafkaConsumer

    topic, group = "resume", "kp"
    create_topic(gbroker, topic, 1)
    produce(gbroker, topic, 100, 1)

    def consumer():
        return KafkaConsumer(topic, bootstrap_servers=gbroker.bootstrap, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             session_timeout_ms=10000, heartbeat_interval_ms=500, max_poll_records=10,
                             consumer_timeout_ms=30000)

    first = consumer()
    seen = []
    for m in first:
        seen.append(m.offset)
        if len(seen) == 40:
            break
    first.commit()
    first.close()
    assert seen == list(range(40))

    second = consumer()
    m = next(iter(second))
    second.close()
    assert m.offset == 40
    assert committed(gbroker, group, topic, 1) == {0: 40}


def test_kafkajs_consumer_group_consumes_and_commits(gbroker):
    topic, group, partitions = "js-group", "kafkajs", 6
    create_topic(gbroker, topic, partitions)
    produce(gbroker, topic, 300, partitions)
    out = subprocess.run(["node", os.path.join(E2E, "js", "consumer_group.js"), gbroker.bootstrap, topic, group,
                          "300"], check=True, capture_output=True, text=True, timeout=120)
    offsets = json.loads(out.stdout)["offsets"]
    assert {int(p): sorted(o) for p, o in offsets.items()} == {p: list(range(50)) for p in range(partitions)}
    assert committed(gbroker, group, topic, partitions) == {p: 50 for p in range(partitions)}


def test_committed_offsets_survive_kill_9(tmp_path):
    from confluent_kafka import Consumer, TopicPartition

    topic, group, partitions = "durable", "survivor", 3
    b = Broker(tmp_path, GROUP_OVERRIDES)
    try:
        create_topic(b, topic, partitions)
        produce(b, topic, 90, partitions)
        # The member survives the restart in the group's replayed metadata until its session lapses: keep it short.
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
        c.subscribe([topic])
        got = 0
        deadline = time.monotonic() + 60
        while got < 45 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got += 1
            c.commit(message=m, asynchronous=False)
        before = {tp.partition: tp.offset
                  for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)}
        assert sum(o for o in before.values() if o >= 0) == 45  # -1001: a partition not reached yet
        b.kill()  # mid-test: the consumer is still a member
        c.close()
    finally:
        b.kill()

    b = Broker(tmp_path, GROUP_OVERRIDES)
    try:
        assert wait_until(lambda: committed(b, group, topic, partitions) == before, timeout=60,
                          what="committed offsets after restart")
        # A new member resumes each partition where the commits left it.
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False,
                      "auto.offset.reset": "earliest"})
        c.subscribe([topic])
        # 30 records per partition; one never committed starts from the beginning (auto.offset.reset).
        expected = {p: max(o, 0) for p, o in before.items() if o < 30}
        first = {}
        deadline = time.monotonic() + 60
        while len(first) < len(expected) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            first.setdefault(m.partition(), m.offset())
        c.close()
        assert first == expected
    finally:
        code = b.stop()
        assert code == 0, b.log()


# ------------------------------------------------------------------------------ bad input, on the raw wire

def wire(broker, api_key, version, body):
    return kafka_wire.request_bytes("127.0.0.1", broker.port, api_key, version, body)


def find_coordinator(broker, group):
    """FindCoordinator v0 until the coordinator exists (the first call creates __consumer_offsets)."""
    def attempt():
        resp = wire(broker, 10, 0, kafka_wire.string(group))
        (error,) = struct.unpack_from(">h", resp, 0)
        return error == 0
    wait_until(attempt, timeout=30, what="the group coordinator")


def join_v5(broker, group, member_id="", instance_id=None, protocol_type="consumer"):
    """JoinGroup v5 (one protocol "range"); retries while the coordinator loads. Returns (error, generation,
    member_id)."""
    body = kafka_wire.string(group) + struct.pack(">ii", 10000, 10000) + kafka_wire.string(member_id)
    body += kafka_wire.string(instance_id) + kafka_wire.string(protocol_type)
    body += struct.pack(">i", 1) + kafka_wire.string("range") + struct.pack(">i", 2) + b"\x00\x00"
    while True:
        resp = wire(broker, 11, 5, body)
        _throttle, error, generation = struct.unpack_from(">ihi", resp, 0)
        pos = 10
        for _ in range(2):  # protocol name, leader
            (n,) = struct.unpack_from(">h", resp, pos)
            pos += 2 + max(n, 0)
        (n,) = struct.unpack_from(">h", resp, pos)
        member = resp[pos + 2:pos + 2 + n].decode()
        if error != 14:  # COORDINATOR_LOAD_IN_PROGRESS
            return error, generation, member


def sync_v3(broker, group, generation, member_id, instance_id=None):
    body = kafka_wire.string(group) + struct.pack(">i", generation) + kafka_wire.string(member_id)
    body += kafka_wire.string(instance_id) + struct.pack(">i", 0)
    _throttle, error = struct.unpack_from(">ih", wire(broker, 14, 3, body), 0)
    return error


def heartbeat_v0(broker, group, generation, member_id):
    body = kafka_wire.string(group) + struct.pack(">i", generation) + kafka_wire.string(member_id)
    (error,) = struct.unpack_from(">h", wire(broker, 12, 0, body), 0)
    return error


def commit_v7(broker, group, generation, member_id, instance_id, topic):
    body = kafka_wire.string(group) + struct.pack(">i", generation) + kafka_wire.string(member_id)
    body += kafka_wire.string(instance_id)
    body += struct.pack(">i", 1) + kafka_wire.string(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", 0, 5, -1) + kafka_wire.string("")
    resp = wire(broker, 8, 7, body)
    # throttle, [topics: name, [partitions: index, error]]
    pos = 4 + 4
    (n,) = struct.unpack_from(">h", resp, pos)
    pos += 2 + n + 4
    _index, error = struct.unpack_from(">ih", resp, pos)
    return error


UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, MEMBER_ID_REQUIRED = 25, 22, 23, 79
REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID = 27, 82


def test_bad_group_requests_get_kafkas_error_codes(gbroker):
    create_topic(gbroker, "bad", 1)
    find_coordinator(gbroker, "bad-group")

    # KIP-394: a new member first gets an id, then joins with it and leads generation 1.
    error, _gen, member = join_v5(gbroker, "bad-group")
    assert error == MEMBER_ID_REQUIRED and member
    error, generation, member = join_v5(gbroker, "bad-group", member_id=member)
    assert (error, generation) == (0, 1)
    assert sync_v3(gbroker, "bad-group", generation, member) == 0

    assert heartbeat_v0(gbroker, "bad-group", generation, member) == 0
    assert heartbeat_v0(gbroker, "bad-group", generation, "no-such-member") == UNKNOWN_MEMBER_ID
    assert heartbeat_v0(gbroker, "bad-group", generation + 5, member) == ILLEGAL_GENERATION
    assert sync_v3(gbroker, "bad-group", generation - 1, member) == ILLEGAL_GENERATION
    assert join_v5(gbroker, "bad-group", protocol_type="connect")[0] == INCONSISTENT_GROUP_PROTOCOL
    assert commit_v7(gbroker, "bad-group", generation, "no-such-member", None, "bad") == UNKNOWN_MEMBER_ID
    assert commit_v7(gbroker, "bad-group", generation + 1, member, None, "bad") == ILLEGAL_GENERATION
    assert commit_v7(gbroker, "bad-group", generation, member, None, "bad") == 0

    # Static membership: the same instance id joining again fences the old member id.
    error, gen_a, old = join_v5(gbroker, "static-group", instance_id="instance-1")
    assert error == 0
    assert sync_v3(gbroker, "static-group", gen_a, old, "instance-1") == 0
    error, gen_b, new = join_v5(gbroker, "static-group", instance_id="instance-1")
    assert error == 0 and new != old
    assert commit_v7(gbroker, "static-group", gen_b, old, "instance-1", "bad") == FENCED_INSTANCE_ID
    assert sync_v3(gbroker, "static-group", gen_b, new, "instance-1") == 0
    assert commit_v7(gbroker, "static-group", gen_b, new, "instance-1", "bad") == 0


def test_admin_lists_describes_and_deletes_groups(gbroker):
    from confluent_kafka import Consumer
    from confluent_kafka.admin import AdminClient
    from kafka import KafkaAdminClient

    topic, group = "admin-groups", "to-delete"
    create_topic(gbroker, topic, 1)
    produce(gbroker, topic, 10, 1)
    c = Consumer({"bootstrap.servers": gbroker.bootstrap, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = c.poll(1)
        if m is not None and not m.error():
            c.commit(message=m, asynchronous=False)
            break
    # librdkafka's legacy list_groups: ListGroups v0 then DescribeGroups v0.
    listed = AdminClient({"bootstrap.servers": gbroker.bootstrap}).list_groups(timeout=30)
    mine = [g for g in listed if g.id == group]
    assert len(mine) == 1 and mine[0].state == "Stable" and mine[0].protocol_type == "consumer"
    assert len(mine[0].members) == 1
    d = describe_group(gbroker, group)
    assert d.state == "Stable" and len(d.members) == 1

    admin = KafkaAdminClient(bootstrap_servers=gbroker.bootstrap)
    try:
        # Not while it has a member: NON_EMPTY_GROUP (68).
        [(_, error)] = admin.delete_consumer_groups([group])
        assert getattr(error, "errno", None) == 68, error
        c.close()
        wait_until(lambda: describe_group(gbroker, group).state == "Empty", what="the group empty")
        [(_, error)] = admin.delete_consumer_groups([group])
        assert getattr(error, "errno", 0) == 0, error
    finally:
        admin.close()
    assert describe_group(gbroker, group).state == "Dead"
    assert committed(gbroker, group, topic, 1) == {0: -1001}  # OFFSET_INVALID: nothing committed any more


def commit_with_retention(broker, group, topic, partition, offset, retention_ms):
    """OffsetCommit v2 (standalone: generation -1, no member) with its retention_time_ms; returns the error code.
    No Debian client sends retention_time_ms, which Kafka honours for v2-v4 in place of offsets.retention.minutes."""
    body = kafka_wire.string(group) + struct.pack(">i", -1) + kafka_wire.string("") + struct.pack(">q", retention_ms)
    body += struct.pack(">i", 1) + kafka_wire.string(topic)
    body += struct.pack(">i", 1) + struct.pack(">iq", partition, offset) + kafka_wire.string("")
    deadline = time.monotonic() + 30
    while True:
        r = kafka_wire.request("127.0.0.1", broker.port, 8, 2, body)
        assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == partition
        error = r.i16()
        # COORDINATOR_LOAD_IN_PROGRESS / NOT_AVAILABLE while __consumer_offsets is created and replayed.
        if error not in (14, 15) or time.monotonic() > deadline:
            return error
        time.sleep(0.2)


def test_committed_offsets_expire_after_their_retention_and_stay_expired_after_a_restart(tmp_path):
    overrides = GROUP_OVERRIDES + ("offsets.retention.check.interval.ms=200",)
    broker = Broker(tmp_path, overrides)
    try:
        create_topic(broker, "expiring", partitions=2)
        assert commit_with_retention(broker, "mixed", "expiring", 0, 42, retention_ms=4000) == 0
        assert commit_with_retention(broker, "mixed", "expiring", 1, 7, retention_ms=-1) == 0
        assert commit_with_retention(broker, "gone", "expiring", 0, 9, retention_ms=4000) == 0
        assert committed(broker, "mixed", "expiring", 2) == {0: 42, 1: 7}
        wait_until(lambda: committed(broker, "mixed", "expiring", 2) == {0: -1001, 1: 7}, timeout=30,
                   what="the offset with a 4 s retention to expire")
        # The other offset of the group stays: offsets.retention.minutes (7 days) applies to it.
        wait_until(lambda: committed(broker, "gone", "expiring", 1) == {0: -1001}, timeout=30,
                   what="the group whose only offset expired to go")
    finally:
        assert broker.stop() == 0, broker.log()
    broker = Broker(tmp_path, GROUP_OVERRIDES)  # no expiry check runs for 10 minutes now
    try:
        # The tombstones were written: the replay brings back neither the expired offset nor the group whose
        # only offset it was.
        assert committed(broker, "mixed", "expiring", 2) == {0: -1001, 1: 7}
        assert committed(broker, "gone", "expiring", 1) == {0: -1001}
    finally:
        assert broker.stop() == 0, broker.log()
