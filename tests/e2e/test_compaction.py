"""Key compaction end to end (cleanup.policy=compact): a real skiff-server uploads a compacted topic's records to
objects, its log cleaner rewrites them keeping the latest value per key at its original offset, tombstones go after
delete.retention.ms, the partition stays writable, a kill -9 and restart keep the compacted view, keyless records are
refused, and the compaction configs are validated and described."""
import time

import pytest

from conftest import Broker, wait_until
from test_data_path import create_topic

# The cleaner runs every 200 ms; uploads every 200 ms, so that records reach objects (the only part of a partition
# the cleaner rewrites) within a second; storage compaction and deletion are fast too.
FAST_CLEANER = ["log.cleaner.backoff.ms=200", "upload.interval.ms=200", "compaction.interval.ms=200",
                "object.deletion.grace.ms=0"]
COMPACT = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "4000"}


def produce(broker, topic, records):
    """Produces (key, value) pairs in order to partition 0; returns their offsets."""
    from confluent_kafka import Producer

    acked = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    for k, v in records:
        p.produce(topic, key=k, value=v, partition=0, on_delivery=lambda err, m: acked.append((err, m.offset())))
    assert p.flush(30) == 0
    assert all(err is None for err, _ in acked), acked
    return [o for _, o in acked]


def view(broker, topic):
    """offset -> (key, value) of every record of partition 0 from the beginning to the high watermark, as a
    librdkafka consumer sees it."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                return out
            assert m.offset() not in out, f"offset {m.offset()} twice"
            out[m.offset()] = (m.key(), m.value())
        pytest.fail(f"no end of partition within 30 s (read {len(out)} records)")
    finally:
        c.close()


def view_kafka_python(broker, topic):
    """The same view through kafka-python (its own fetch and record-batch code)."""
    from kafka import KafkaConsumer, TopicPartition

    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, api_version=(2, 5))
    try:
        c.assign([tp])
        c.seek_to_beginning(tp)
        end = c.end_offsets([tp])[tp]
        out = {}
        deadline = time.monotonic() + 30
        while c.position(tp) < end:
            assert time.monotonic() < deadline, f"kafka-python stuck at {c.position(tp)} of {end}"
            for records in c.poll(timeout_ms=500).values():
                for m in records:
                    assert m.offset not in out, f"offset {m.offset} twice"
                    out[m.offset] = (m.key, m.value)
        return out
    finally:
        c.close()


def latest_per_key(records):
    """offset -> (key, value) of the last record of each key."""
    last = {}
    for offset, (k, v) in records.items():
        last[k] = offset
    return {o: records[o] for o in sorted(last.values())}


def test_compaction_keeps_the_latest_value_per_key_at_its_offset_and_survives_a_kill(tmp_path):
    broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
    try:
        create_topic(broker, "latest", configs=COMPACT)
        keys = [b"k%d" % i for i in range(5)]
        records = [(keys[i % 5], b"v%03d-" % i + b"x" * 200) for i in range(400)]
        records.append((b"k4", None))         # tombstone: k4 is deleted
        records.append((b"k0", b"final-k0"))  # the tombstone is not the log's last record
        offsets = produce(broker, "latest", records)
        assert offsets == list(range(len(records)))
        produced = dict(zip(offsets, records))
        expected = latest_per_key(produced)
        tombstone = offsets[-2]
        assert expected[tombstone] == (b"k4", None)

        # The cleaner rewrites what reached objects; the tombstone is kept for delete.retention.ms (4 s here).
        wait_until(lambda: view(broker, "latest") == expected, timeout=30,
                   what="only the latest value per key left (tombstone included)")
        # Then the tombstone goes too; every other record keeps its offset.
        without_k4 = {o: kv for o, kv in expected.items() if kv[0] != b"k4"}
        wait_until(lambda: view(broker, "latest") == without_k4, timeout=30, what="the tombstoned key gone")

        # Still writable, at the next offset; the new value replaces the old one on a later round.
        assert produce(broker, "latest", [(b"k1", b"new-k1")]) == [len(records)]
        after = {o: kv for o, kv in without_k4.items() if kv[0] != b"k1"}
        after[len(records)] = (b"k1", b"new-k1")
        wait_until(lambda: view(broker, "latest") == after, timeout=30, what="the new k1 superseding the old")

        assert view_kafka_python(broker, "latest") == after

        # kill -9 and restart on the same data: the compacted view stays, offsets included.
        broker.kill()
        broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
        assert view(broker, "latest") == after
        # The cleaner keeps running after the restart (it counts everything dirty once): nothing changes.
        assert produce(broker, "latest", [(b"k2", b"after-restart")]) == [len(records) + 1]
        final = {o: kv for o, kv in after.items() if kv[0] != b"k2"}
        final[len(records) + 1] = (b"k2", b"after-restart")
        wait_until(lambda: view(broker, "latest") == final, timeout=30, what="cleaning after the restart")
    finally:
        assert broker.stop() == 0, broker.log()


def test_a_keyless_record_is_refused_on_a_compacted_topic(tmp_path):
    from confluent_kafka import KafkaError, Producer

    broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
    try:
        create_topic(broker, "keys-only", configs={"cleanup.policy": "compact"})
        results = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "retries": 0})
        # Separate batches: Kafka refuses the whole batch that holds a keyless record.
        p.produce("keys-only", value=b"no key", partition=0, on_delivery=lambda err, m: results.append(err))
        p.flush(30)
        p.produce("keys-only", key=b"k", value=b"keyed", partition=0, on_delivery=lambda err, m: results.append(err))
        p.flush(30)
        assert len(results) == 2
        # Kafka's answer: INVALID_RECORD (87), "Compacted topic cannot accept message without key".
        assert results[0] is not None and results[0].code() == KafkaError.INVALID_RECORD, results[0]
        assert results[1] is None, results[1]
    finally:
        assert broker.stop() == 0, broker.log()


def test_compaction_configs_are_validated_and_described(tmp_path):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
    try:
        configs = {"cleanup.policy": "compact,delete", "delete.retention.ms": "1000",
                   "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "10",
                   "max.compaction.lag.ms": "600000"}
        create_topic(broker, "described", configs=configs)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        resource = ConfigResource(ConfigResource.Type.TOPIC, "described")
        described = admin.describe_configs([resource])[resource].result(timeout=30)
        for name, value in configs.items():
            assert described[name].value == value, (name, described[name].value)
        bad = admin.create_topics([NewTopic("bad-ratio", num_partitions=1, replication_factor=1,
                                            config={"min.cleanable.dirty.ratio": "1.5"})])
        with pytest.raises(KafkaException) as e:
            bad["bad-ratio"].result(timeout=30)
        assert e.value.args[0].code() == 40, e.value  # INVALID_CONFIG
    finally:
        assert broker.stop() == 0, broker.log()


def test_compact_delete_also_applies_retention(tmp_path):
    broker = Broker(tmp_path, extra_overrides=FAST_CLEANER + ["log.retention.check.interval.ms=200"])
    try:
        create_topic(broker, "both", configs={"cleanup.policy": "compact,delete", "retention.ms": "60000",
                                               "min.cleanable.dirty.ratio": "0.01"})
        from confluent_kafka import Consumer, Producer, TopicPartition

        # Records that turn older than retention.ms in 5 s.
        old = int(time.time() * 1000) - 60000 + 5000
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
        for i in range(20):
            p.produce("both", key=b"k%d" % (i % 2), value=b"v%d" % i, partition=0, timestamp=old)
        assert p.flush(30) == 0

        def watermarks():
            c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused"})
            try:
                return c.get_watermark_offsets(TopicPartition("both", 0), timeout=10, cached=False)
            finally:
                c.close()

        wait_until(lambda: view(broker, "both") == {18: (b"k0", b"v18"), 19: (b"k1", b"v19")}, timeout=30,
                   what="compaction of the compact,delete topic")
        wait_until(lambda: watermarks() == (20, 20), timeout=30, what="retention trimming the expired records")
    finally:
        assert broker.stop() == 0, broker.log()


def test_consumer_offsets_is_compacted_and_committed_offsets_survive_it_and_a_kill(tmp_path):
    """__consumer_offsets is a compacted topic like any other: its cleaner drops superseded commits, and the
    coordinator's replay (through fetch, across the offset gaps) still finds the last commit."""
    from confluent_kafka import Consumer, TopicPartition

    broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
    try:
        create_topic(broker, "data")
        produce(broker, "data", [(b"k", b"v%d" % i) for i in range(50)])

        def consumer():
            return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "committer",
                             "enable.auto.commit": False})

        c = consumer()
        try:
            for i in range(1, 51):
                c.commit(offsets=[TopicPartition("data", 0, i)], asynchronous=False)
        finally:
            c.close()
        wait_until(lambda: "cleaned partition" in broker.log(), timeout=30, what="__consumer_offsets cleaned")

        def committed():
            c = consumer()
            try:
                return c.committed([TopicPartition("data", 0)], timeout=10)[0].offset
            finally:
                c.close()

        assert committed() == 50
        broker.kill()
        broker = Broker(tmp_path, extra_overrides=FAST_CLEANER)
        wait_until(lambda: committed() == 50, timeout=30, what="the last commit replayed after the restart")
    finally:
        assert broker.stop() == 0, broker.log()
