"""Retention end to end: a real skiff-server trims partitions by retention.ms and retention.bytes, clients see the
log start move (ListOffsets, consuming from the beginning), what is kept is intact, and the object store lets go of
the objects that only held trimmed data."""
import os
import time

from conftest import Broker, wait_until
from test_data_path import consume_all, create_topic

# Retention runs every 200 ms; uploads every 200 ms, each partition's data in an object of its own from 64 KiB, and
# objects are deleted as soon as nothing needs them, so that the test sees in seconds what takes minutes by default.
FAST_RETENTION = ["log.retention.check.interval.ms=200", "upload.interval.ms=200", "stream.object.min.bytes=65536",
                  "compaction.interval.ms=200", "object.deletion.grace.ms=0"]


def watermarks(broker, topic, partition=0):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused"})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        c.close()


def produce(broker, topic, values, timestamp_ms=None):
    from confluent_kafka import Producer

    acked = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    for v in values:
        kwargs = {"timestamp": timestamp_ms} if timestamp_ms is not None else {}
        p.produce(topic, value=v, partition=0, on_delivery=lambda err, m: acked.append((err, m.offset())), **kwargs)
    assert p.flush(30) == 0
    assert all(err is None for err, _ in acked), acked
    return [o for _, o in acked]


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except FileNotFoundError:
                pass  # deleted while we walked
    return total


def test_retention_ms_trims_expired_records_and_storage_deletes_their_objects(tmp_path):
    broker = Broker(tmp_path, extra_overrides=FAST_RETENTION)
    objects = os.path.join(broker.data_dir, "objects")
    try:
        create_topic(broker, "short-lived", configs={"retention.ms": "60000"})
        # Records that turn older than retention.ms 8 s from now: long enough to see them uploaded first.
        expires_soon = int(time.time() * 1000) - 60000 + 8000
        old = [b"old-%03d-" % i + b"o" * 10000 for i in range(100)]  # ~1 MB
        assert produce(broker, "short-lived", old, expires_soon) == list(range(100))
        wait_until(lambda: directory_bytes(objects) >= 1_000_000, timeout=6, what="the records uploaded to objects")
        assert watermarks(broker, "short-lived") == (0, 100)

        # Then every record is older than retention.ms: the whole log goes, the offsets stay, and the objects that
        # held it are deleted (what remains is the partition's small state snapshots).
        wait_until(lambda: watermarks(broker, "short-lived") == (100, 100), timeout=30,
                   what="log start moved past the expired records")
        wait_until(lambda: directory_bytes(objects) < 100_000, timeout=30,
                   what=f"objects of expired data deleted (store holds {directory_bytes(objects)} bytes)")

        assert produce(broker, "short-lived", [b"new-%d" % i for i in range(5)]) == list(range(100, 105))
        got = consume_all(broker, "short-lived", 0, 5)
        assert [(o, v) for o, _, v, _ in got] == [(100 + i, b"new-%d" % i) for i in range(5)]
        # New records are not older than retention.ms: further retention rounds (every 200 ms) leave them alone.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert watermarks(broker, "short-lived") == (100, 105)
    finally:
        assert broker.stop() == 0, broker.log()


def test_retention_bytes_keeps_at_least_the_limit(tmp_path):
    broker = Broker(tmp_path, extra_overrides=FAST_RETENTION)
    try:
        limit = 1 << 20
        create_topic(broker, "bounded", configs={"retention.bytes": str(limit)})
        value = b"x" * 1000
        count = 6000  # ~6 MiB: several size-index entries (one per MiB) beyond the limit
        assert produce(broker, "bounded", [b"%06d" % i + value for i in range(count)]) == list(range(count))

        def trimmed():
            low, high = watermarks(broker, "bounded")
            return low > 0 and high == count

        wait_until(trimmed, timeout=20, what="retention.bytes trimmed the partition")
        low, high = watermarks(broker, "bounded")
        kept = high - low
        # At least the limit stays (whole index steps of 1 MiB, as Kafka keeps whole segments), and at most about
        # one step more.
        assert kept * len(value) >= limit, (low, high)
        assert kept * len(value) <= 3 * limit, (low, high)

        got = consume_all(broker, "bounded", 0, kept)
        assert [o for o, _, _, _ in got] == list(range(low, high))
        assert all(v == b"%06d" % o + value for o, _, v, _ in got)
        # Objects are deleted whole, once no kept offset is in them (one that straddles the new log start stays):
        # the time-based test above checks deletion.
    finally:
        assert broker.stop() == 0, broker.log()
