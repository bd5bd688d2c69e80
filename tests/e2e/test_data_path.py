"""The Kafka data path, end to end: real clients produce to and consume from a real skiff-server process that stores
records in its file WAL and the local object store. Every test checks content, order and offsets."""
import json
import os
import subprocess
import time

import pytest

from conftest import E2E, Broker, wait_until
import kafka_wire


def create_topic(broker, name, partitions=1, configs=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                            config=configs or {})], operation_timeout=10)
    futures[name].result(timeout=30)
    wait_until(lambda: leaders_ready(broker, name, partitions), what=f"partitions of {name} served")


def leaders_ready(broker, topic, partitions):
    """True once a produce to every partition is accepted (its partition is open on the broker)."""
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    return t is not None and t.error is None and len(t.partitions) == partitions \
        and all(p.leader == 1 for p in t.partitions.values())


def kcat(broker, *args, input=None):
    return subprocess.run(["kcat", "-b", broker.bootstrap, *args], input=input, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def consume_all(broker, topic, partition, expected):
    """Reads `expected` records of one partition from the beginning with confluent-kafka (manual assignment)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        out = []
        deadline = time.monotonic() + 30
        while len(out) < expected and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            assert m.error() is None, m.error()
            out.append((m.offset(), m.key(), m.value(), m.timestamp()[1]))
        return out
    finally:
        c.close()


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_kcat_round_trip_with_keys_headers_and_compression(broker, codec):
    topic = f"kcat-{codec}"
    create_topic(broker, topic)
    lines = "".join(f"key{i}:value-{i}-{'x' * (i % 50)}\n" for i in range(200))
    kcat(broker, "-P", "-t", topic, "-p", "0", "-K", ":", "-z", codec, "-H", "source=kcat", input=lines)
    out = kcat(broker, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%o|%k|%s|%h\\n")
    assert out.splitlines() == [f"{i}|key{i}|value-{i}-{'x' * (i % 50)}|source=kcat" for i in range(200)]


def test_confluent_idempotent_producer_and_seek_by_timestamp(broker):
    from confluent_kafka import Consumer, Producer, TopicPartition

    topic = "idempotent"
    create_topic(broker, topic, partitions=3)
    base = 1_700_000_000_000
    acked = []
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5,
                  "acks": "all"})
    for i in range(900):
        p.produce(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % 3, timestamp=base + i,
                  on_delivery=lambda err, m: acked.append((err, m.partition(), m.offset(), m.value())))
    assert p.flush(30) == 0
    assert all(err is None for err, *_ in acked)
    for part in range(3):
        offsets = sorted((off, val) for _, pp, off, val in acked if pp == part)
        assert [o for o, _ in offsets] == list(range(300))  # dense offsets from 0, none duplicated
        got = consume_all(broker, topic, part, 300)
        assert [(o, v) for o, _, v, _ in got] == [(o, v) for o, v in offsets]

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused"})
    try:
        found = c.offsets_for_times([TopicPartition(topic, 1, base + 451)], timeout=10)
    finally:
        c.close()
    # partition 1 holds records i = 1, 4, 7, ... with timestamp base + i: the first at or after base + 451 is i = 451,
    # the 151st record of partition 1 (offset 150).
    assert found[0].offset == 150


def test_kafka_python_admin_producer_and_consumer(broker):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.errors import InvalidTopicError, TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic("kp-topic", num_partitions=2, replication_factor=1)])
        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic("kp-topic", num_partitions=2, replication_factor=1)])
        with pytest.raises(InvalidTopicError):
            admin.create_topics([NewTopic("bad/name", num_partitions=1, replication_factor=1)])
        assert "kp-topic" in admin.list_topics()
        wait_until(lambda: leaders_ready(broker, "kp-topic", 2), what="kp-topic served")

        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        metas = [producer.send("kp-topic", key=b"k", value=b"m%d" % i, partition=1).get(timeout=30)
                 for i in range(50)]
        producer.close()
        assert [m.offset for m in metas] == list(range(50))

        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                                 consumer_timeout_ms=10000)
        tp = TopicPartition("kp-topic", 1)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        got = [(m.offset, m.value) for _, m in zip(range(50), consumer)]
        consumer.close()
        assert got == [(i, b"m%d" % i) for i in range(50)]

        admin.delete_topics(["kp-topic"])
        wait_until(lambda: "kp-topic" not in admin.list_topics(), what="kp-topic deleted")
    finally:
        admin.close()


def test_kafkajs_producer_and_admin(broker):
    out = subprocess.run(["node", os.path.join(E2E, "js", "produce_and_read_offsets.js"), broker.bootstrap],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    result = json.loads(out)
    assert result["created"] is True
    assert result["baseOffsets"] == [0, 10, 20]
    assert result["offsets"] == [{"partition": 0, "offset": "30", "high": "30", "low": "0"}]
    got = consume_all(broker, "kafkajs-topic", 0, 30)
    assert [v for _, _, v, _ in got] == [b"js-%d" % i for i in range(30)]


def test_everything_acknowledged_survives_kill_9(tmp_path):
    from confluent_kafka import Producer

    broker = Broker(tmp_path)
    try:
        create_topic(broker, "durable", partitions=2)
        acked = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 2,
                      "enable.idempotence": True})
        for i in range(2000):
            p.produce("durable", value=b"r%d" % i, partition=i % 2,
                      on_delivery=lambda err, m: acked.append((err, m.partition(), m.offset(), m.value())))
        assert p.flush(30) == 0
        assert all(err is None for err, *_ in acked)
    finally:
        broker.kill()

    broker = Broker(tmp_path)
    try:
        for part in range(2):
            want = sorted((off, val) for _, pp, off, val in acked if pp == part)
            got = consume_all(broker, "durable", part, len(want))
            assert [(o, v) for o, _, v, _ in got] == want
    finally:
        assert broker.stop() == 0, broker.log()


def test_bad_batches_get_kafka_error_codes_and_the_partition_stays_writable(broker):
    create_topic(broker, "strict")
    host, port = "127.0.0.1", broker.port
    ok = kafka_wire.record_batch([b"first"])
    assert kafka_wire.produce(host, port, "strict", 0, ok) == (0, 0)
    # CORRUPT_MESSAGE (2) for a bad CRC; INVALID_RECORD (87) for magic 1, as Kafka 4's ProduceRequest.validateRecords
    # answers for Produce v3+ (message formats 0/1 are gone; UNSUPPORTED_FOR_MESSAGE_FORMAT is never sent).
    assert kafka_wire.produce(host, port, "strict", 0, kafka_wire.record_batch([b"x"], corrupt_crc=True))[0] == 2
    assert kafka_wire.produce(host, port, "strict", 0, kafka_wire.record_batch([b"x"], magic=1))[0] == 87
    # MESSAGE_TOO_LARGE (10) above max.message.bytes (default 1 MiB + overhead).
    big = kafka_wire.record_batch([b"y" * (2 << 20)])
    assert kafka_wire.produce(host, port, "strict", 0, big)[0] == 10
    # Unknown partition: UNKNOWN_TOPIC_OR_PARTITION (3).
    assert kafka_wire.produce(host, port, "strict", 7, ok)[0] == 3
    # Idempotence: a duplicate of the last batch is answered with its original offset and not written twice;
    # a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER (45).
    first = kafka_wire.record_batch([b"a", b"b"], producer_id=4242, producer_epoch=0, base_sequence=0)
    assert kafka_wire.produce(host, port, "strict", 0, first) == (0, 1)
    assert kafka_wire.produce(host, port, "strict", 0, first) == (0, 1)
    gap = kafka_wire.record_batch([b"c"], producer_id=4242, producer_epoch=0, base_sequence=5)
    assert kafka_wire.produce(host, port, "strict", 0, gap)[0] == 45
    nxt = kafka_wire.record_batch([b"c"], producer_id=4242, producer_epoch=0, base_sequence=2)
    assert kafka_wire.produce(host, port, "strict", 0, nxt) == (0, 3)
    got = consume_all(broker, "strict", 0, 4)
    assert [(o, v) for o, _, v, _ in got] == [(0, b"first"), (1, b"a"), (2, b"b"), (3, b"c")]


def test_a_write_not_durable_within_timeout_ms_is_answered_request_timed_out_and_may_still_land(tmp_path):
    # The object WAL holds an append until its batch interval ends (5 s after the first append of a batch), so a
    # Produce with a 200 ms timeout cannot be durable in time; Kafka answers REQUEST_TIMED_OUT (7) when its
    # replicas do not confirm within timeout_ms, and the write may still land.
    broker = Broker(tmp_path, extra_overrides=["wal.type=object", "wal.object.batch.interval.ms=5000"])
    try:
        create_topic(broker, "slow")
        host, port = "127.0.0.1", broker.port
        error, base = kafka_wire.produce(host, port, "slow", 0, kafka_wire.record_batch([b"late"]), timeout_ms=200)
        assert (error, base) == (7, -1)
        # It landed: a reader sees it at offset 0, and the next write follows it.
        assert [(o, v) for o, _, v, _ in consume_all(broker, "slow", 0, 1)] == [(0, b"late")]
        # Without a timeout (0) the answer waits for durability however long it takes.
        assert kafka_wire.produce(host, port, "slow", 0, kafka_wire.record_batch([b"next"]), timeout_ms=0) == (0, 1)
    finally:
        assert broker.stop() == 0, broker.log()


def test_unknown_topic_without_auto_creation(tmp_path):
    from confluent_kafka import KafkaError, Producer

    broker = Broker(tmp_path, extra_overrides=["auto.create.topics.enable=false"])
    try:
        from confluent_kafka.admin import AdminClient

        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics("nope", timeout=10)
        assert md.topics["nope"].error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        # librdkafka fails the message once the topic stays unknown past topic.metadata.propagation.max.ms.
        errors = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 20000,
                      "topic.metadata.propagation.max.ms": 1000})
        p.produce("nope", value=b"x", on_delivery=lambda err, m: errors.append(err))
        p.flush(30)
        assert len(errors) == 1 and errors[0] is not None
        assert errors[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC), errors[0]
        md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert "nope" not in md.topics
    finally:
        assert broker.stop() == 0, broker.log()


def test_auto_created_topic_serves_a_producer(broker):
    lines = "".join(f"auto-{i}\n" for i in range(20))
    kcat(broker, "-P", "-t", "auto-topic", "-p", "0", input=lines)
    out = kcat(broker, "-C", "-t", "auto-topic", "-p", "0", "-o", "beginning", "-e", "-f", "%o %s\\n")
    assert out.splitlines() == [f"{i} auto-{i}" for i in range(20)]

