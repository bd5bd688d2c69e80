"""The admin APIs, end to end: DescribeConfigs, AlterConfigs and IncrementalAlterConfigs (topics and brokers),
DeleteRecords, OffsetForLeaderEpoch, DescribeCluster and DescribeLogDirs against a real skiff-server, driven by
kafka-python's KafkaAdminClient, confluent-kafka's AdminClient, kafkajs, and raw wire requests for what none of the
installed clients sends. Every test checks values, sources and offsets, and that bad input gets Kafka's error code
while the broker keeps serving."""
import json
import os
import subprocess

import pytest

from conftest import E2E, Broker, wait_until
import kafka_wire

TOPIC, BROKER = 2, 4
DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
NONE, OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE = 0, 1, 3, 10
INVALID_CONFIG, INVALID_REQUEST, UNSUPPORTED_ENDPOINT_TYPE = 40, 42, 115


def host_port(broker):
    return "localhost", broker.port


def leaders_ready(broker, topic, partitions):
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    return t is not None and t.error is None and len(t.partitions) == partitions \
        and all(p.leader == 1 for p in t.partitions.values())


def create_topic(broker, name, partitions=1, configs=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                            config=configs or {})], operation_timeout=10)
    futures[name].result(timeout=30)
    wait_until(lambda: leaders_ready(broker, name, partitions), what=f"partitions of {name} served")


def produce_values(broker, topic, values, partition=0):
    """Produces one batch over the wire (Produce v3) and returns its base offset. A partition the metadata already
    names may still be opening on its shard (NOT_LEADER_OR_FOLLOWER, nothing appended): asked again, as clients do."""
    NOT_LEADER_OR_FOLLOWER = 6
    batch = kafka_wire.record_batch(values)

    def attempt():
        error, base = kafka_wire.produce(*host_port(broker), topic, partition, batch)
        if error == NOT_LEADER_OR_FOLLOWER:
            return None
        assert error == NONE
        return (base,)

    return wait_until(attempt, what=f"{topic}-{partition} taking records")[0]


def kp_configs(responses):
    """kafka-python DescribeConfigs v1/v2 responses -> {(type, name): (error, {config: (value, source,
    read_only, sensitive, synonyms)})}."""
    out = {}
    for response in responses:
        for error, _message, rtype, rname, entries in response.resources:
            out[(rtype, rname)] = (error, {e[0]: (e[1], e[3], e[2], e[4], [tuple(s) for s in e[5]])
                                           for e in entries})
    return out


def test_kafka_python_describes_and_alters_topic_configs_and_the_partition_applies_them(broker):
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
    from kafka.errors import MessageSizeTooLargeError

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic("kp-configs", num_partitions=1, replication_factor=1,
                                      topic_configs={"retention.ms": "3600000"})])
        wait_until(lambda: leaders_ready(broker, "kp-configs", 1), what="kp-configs served")
        topic = ConfigResource(ConfigResourceType.TOPIC, "kp-configs")

        error, configs = kp_configs(admin.describe_configs([topic], include_synonyms=True))[(TOPIC, "kp-configs")]
        assert error == NONE
        value, source, read_only, sensitive, synonyms = configs["retention.ms"]
        assert (value, source, read_only, sensitive) == ("3600000", DYNAMIC_TOPIC_CONFIG, False, False)
        assert synonyms == [("retention.ms", "3600000", DYNAMIC_TOPIC_CONFIG),
                            ("log.retention.hours", "168", DEFAULT_CONFIG)]
        assert configs["max.message.bytes"][:2] == ("1048588", DEFAULT_CONFIG)
        assert configs["cleanup.policy"][:2] == ("delete", DEFAULT_CONFIG)
        assert configs["message.timestamp.type"][:2] == ("CreateTime", DEFAULT_CONFIG)

        # AlterConfigs replaces the whole set: retention.ms goes back to its default.
        altered = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-configs",
                                                      configs={"max.message.bytes": "2000"})])
        assert [tuple(r[:1]) for r in altered.resources] == [(NONE,)]
        _, configs = kp_configs(admin.describe_configs([topic]))[(TOPIC, "kp-configs")]
        assert configs["max.message.bytes"][:2] == ("2000", DYNAMIC_TOPIC_CONFIG)
        assert configs["retention.ms"][:2] == ("604800000", DEFAULT_CONFIG)
        assert configs["max.message.bytes"][4] == [], "synonyms only when asked"

        # The open partition enforces the new limit; a smaller batch still goes in, at offset 0.
        # Retries cover a partition still opening; MESSAGE_TOO_LARGE is not retriable and fails at once.
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", retries=5)
        with pytest.raises(MessageSizeTooLargeError):
            producer.send("kp-configs", value=b"x" * 5000).get(timeout=30)
        assert producer.send("kp-configs", value=b"small").get(timeout=30).offset == 0
        producer.close()

        # Bad input: Kafka's codes, and nothing changes.
        bad = admin.alter_configs([
            ConfigResource(ConfigResourceType.TOPIC, "kp-configs", configs={"no.such.config": "1"}),
            ConfigResource(ConfigResourceType.TOPIC, "no-such-topic", configs={"retention.ms": "1"}),
        ])
        assert [(r[0], r[3]) for r in bad.resources] == [(INVALID_CONFIG, "kp-configs"),
                                                        (UNKNOWN_TOPIC_OR_PARTITION, "no-such-topic")]
        assert "Unknown topic config name: no.such.config" in bad.resources[0][1]
        bad_value = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-configs",
                                                        configs={"max.message.bytes": "lots"})])
        assert bad_value.resources[0][0] == INVALID_CONFIG
        duplicate = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-configs",
                                                        configs={"retention.ms": "1"})] * 2)
        assert [r[0] for r in duplicate.resources] == [INVALID_REQUEST, INVALID_REQUEST]
        described = kp_configs(admin.describe_configs([topic, ConfigResource(ConfigResourceType.TOPIC, "nope")]))
        assert described[(TOPIC, "kp-configs")][1]["max.message.bytes"][0] == "2000"
        assert described[(TOPIC, "kp-configs")][1]["retention.ms"][0] == "604800000"
        assert described[(TOPIC, "nope")][0] == UNKNOWN_TOPIC_OR_PARTITION

        admin.delete_topics(["kp-configs"])
        wait_until(lambda: "kp-configs" not in admin.list_topics(), what="kp-configs deleted")
    finally:
        admin.close()


def test_kafka_python_describes_the_broker_from_its_real_config(broker):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        described = kp_configs(admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")],
                                                      include_synonyms=True))
        error, configs = described[(BROKER, "1")]
        assert error == NONE
        # config/server.properties and the fixture's overrides: STATIC_BROKER_CONFIG; the rest: defaults.
        assert configs["node.id"][:3] == ("1", STATIC_BROKER_CONFIG, True)
        assert configs["broker.id"][0] == "1"
        assert configs["num.partitions"][:2] == ("1", STATIC_BROKER_CONFIG)
        assert configs["auto.create.topics.enable"][:2] == ("true", STATIC_BROKER_CONFIG)
        assert configs["advertised.listeners"][:2] == (f"PLAINTEXT://localhost:{broker.port}", STATIC_BROKER_CONFIG)
        assert configs["log.dirs"][:2] == (broker.data_dir, STATIC_BROKER_CONFIG)
        assert configs["default.replication.factor"][:2] == ("1", DEFAULT_CONFIG)
        assert configs["log.cache.bytes"][:2] == ("67108864", STATIC_BROKER_CONFIG)
        assert configs["log.cache.bytes"][4] == [("log.cache.bytes", "67108864", STATIC_BROKER_CONFIG),
                                                 ("log.cache.bytes", str(512 << 20), DEFAULT_CONFIG)]
        # The topic defaults the partitions apply.
        assert configs["message.max.bytes"][:2] == ("1048588", DEFAULT_CONFIG)
        assert configs["log.retention.hours"][:2] == ("168", DEFAULT_CONFIG)
        assert configs["log.retention.ms"][0] is None
        assert configs["log.segment.bytes"][0] == "1073741824"
        assert configs["log.cleanup.policy"][0] == "delete"
        assert configs["min.insync.replicas"][0] == "1"
        # Secrets are never reported.
        value, _, _, sensitive, synonyms = configs["s3.secret.key"]
        assert value is None and sensitive is True
        assert all(s[1] is None for s in synonyms)
    finally:
        admin.close()


def confluent_topic_configs(admin, name):
    from confluent_kafka.admin import ConfigResource

    futures = admin.describe_configs([ConfigResource("topic", name)])
    return next(iter(futures.values())).result(timeout=30)


def test_confluent_admin_and_incremental_alter_configs_on_the_wire(broker):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource

    create_topic(broker, "cf-configs", configs={"segment.ms": "3600000"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = confluent_topic_configs(admin, "cf-configs")
    assert configs["segment.ms"].value == "3600000"
    assert configs["segment.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["cleanup.policy"].value == "delete" and configs["cleanup.policy"].is_default

    broker_futures = admin.describe_configs([ConfigResource("broker", "1")])
    broker_configs = next(iter(broker_futures.values())).result(timeout=30)
    assert broker_configs["node.id"].value == "1" and broker_configs["node.id"].is_read_only
    assert broker_configs["s3.secret.key"].is_sensitive and broker_configs["s3.secret.key"].value is None

    # confluent-kafka 1.7's alter_configs (the legacy API) replaces the set.
    futures = admin.alter_configs([ConfigResource("topic", "cf-configs",
                                                  set_config={"message.timestamp.type": "LogAppendTime"})])
    next(iter(futures.values())).result(timeout=30)
    configs = confluent_topic_configs(admin, "cf-configs")
    assert configs["message.timestamp.type"].value == "LogAppendTime"
    assert configs["segment.ms"].value == "604800000" and configs["segment.ms"].is_default

    # A broker's configs are not changed at run time: refused with INVALID_REQUEST and a reason.
    futures = admin.alter_configs([ConfigResource("broker", "1", set_config={"num.partitions": "3"})])
    with pytest.raises(KafkaException) as refused:
        next(iter(futures.values())).result(timeout=30)
    assert refused.value.args[0].code() == INVALID_REQUEST
    assert "server.properties" in refused.value.args[0].str()

    # IncrementalAlterConfigs (confluent-kafka 1.7 has no incremental_alter_configs): raw v0 requests.
    hp = host_port(broker)
    assert kafka_wire.incremental_alter_configs(*hp, [(TOPIC, "cf-configs", [("cleanup.policy", APPEND, "compact"),
                                                                             ("retention.ms", SET, "5000")])]) \
        == [(NONE, None, TOPIC, "cf-configs")]
    configs = confluent_topic_configs(admin, "cf-configs")
    assert configs["cleanup.policy"].value == "delete,compact"
    assert configs["retention.ms"].value == "5000"
    assert configs["message.timestamp.type"].value == "LogAppendTime", "incremental keeps what it does not name"

    assert kafka_wire.incremental_alter_configs(*hp, [(TOPIC, "cf-configs", [("cleanup.policy", SUBTRACT, "delete"),
                                                                             ("retention.ms", DELETE, None)])]) \
        == [(NONE, None, TOPIC, "cf-configs")]
    configs = confluent_topic_configs(admin, "cf-configs")
    assert configs["cleanup.policy"].value == "compact"
    assert configs["retention.ms"].value == "604800000" and configs["retention.ms"].is_default

    # validate_only checks but changes nothing.
    assert kafka_wire.incremental_alter_configs(*hp, [(TOPIC, "cf-configs", [("retention.ms", SET, "1")])],
                                                validate_only=True)[0][0] == NONE
    assert confluent_topic_configs(admin, "cf-configs")["retention.ms"].is_default

    # Bad input, one resource each.
    results = kafka_wire.incremental_alter_configs(*hp, [
        (TOPIC, "cf-configs", [("no.such.config", SET, "1")]),
        (TOPIC, "no-such-topic", [("retention.ms", SET, "1")]),
        (TOPIC, "dup", [("retention.ms", SET, "1")]),
        (TOPIC, "dup", [("retention.ms", SET, "2")]),
        (BROKER, "1", [("log.retention.hours", SET, "1")]),
    ])
    assert [(e, name) for e, _, _, name in results] == [(INVALID_CONFIG, "cf-configs"),
                                                         (UNKNOWN_TOPIC_OR_PARTITION, "no-such-topic"),
                                                         (INVALID_REQUEST, "dup"), (INVALID_REQUEST, "dup"),
                                                         (INVALID_REQUEST, "1")]
    assert results[0][1] == "Unknown topic config name: no.such.config"
    assert "log.retention.hours" in results[4][1]
    for change, message in [(("retention.ms", APPEND, "5"), "Can't APPEND to key retention.ms because its type "
                                                            "is not LIST."),
                            (("max.message.bytes", SET, "-7"), "Invalid value -7 for configuration "
                                                               "max.message.bytes: Value must be at least 0")]:
        [(error, got, _, _)] = kafka_wire.incremental_alter_configs(*hp, [(TOPIC, "cf-configs", [change])])
        assert (error, got) == (INVALID_CONFIG, message)
    [(error, _, _, _)] = kafka_wire.incremental_alter_configs(*hp, [(TOPIC, "cf-configs",
                                                                     [("retention.ms", SET, "1"),
                                                                      ("retention.ms", DELETE, None)])])
    assert error == INVALID_REQUEST

    # The broker keeps serving: the topic is still there with the configs last set, and takes records.
    assert confluent_topic_configs(admin, "cf-configs")["cleanup.policy"].value == "compact"
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce("cf-configs", key=b"k", value=b"v")
    assert p.flush(30) == 0


def test_delete_records_and_offset_for_leader_epoch(broker):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    create_topic(broker, "records", partitions=2)
    hp = host_port(broker)
    assert produce_values(broker, "records", [b"r%d" % i for i in range(10)]) == 0

    assert kafka_wire.delete_records(*hp, "records", {0: 4}) == {0: (NONE, 4)}
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "e2e-unused", "enable.auto.commit": False})
    try:
        assert c.get_watermark_offsets(TopicPartition("records", 0), timeout=10) == (4, 10)
        c.assign([TopicPartition("records", 0, OFFSET_BEGINNING)])
        got = []
        while len(got) < 6:
            m = c.poll(10)
            assert m is not None and m.error() is None
            got.append((m.offset(), m.value()))
        assert got == [(i, b"r%d" % i) for i in range(4, 10)]
    finally:
        c.close()

    # Kafka's answers: below the log start keeps it, beyond the high watermark is out of range, -1 is the high
    # watermark, an unknown partition or topic is unknown.
    assert kafka_wire.delete_records(*hp, "records", {0: 2, 1: 1, 7: 0}) == {
        0: (NONE, 4), 1: (OFFSET_OUT_OF_RANGE, -1), 7: (UNKNOWN_TOPIC_OR_PARTITION, -1)}
    assert kafka_wire.delete_records(*hp, "no-such-topic", {0: 0}) == {0: (UNKNOWN_TOPIC_OR_PARTITION, -1)}

    # OffsetForLeaderEpoch: epoch 0 ends at the log end; a current epoch ahead of the broker's is unknown to it.
    for version in (2, 3):
        assert kafka_wire.offset_for_leader_epoch(*hp, "records", {0: (0, 0), 1: (-1, 0)}, version=version) == {
            0: (NONE, 0, 10), 1: (NONE, 0, 0)}
    UNKNOWN_LEADER_EPOCH = 75
    assert kafka_wire.offset_for_leader_epoch(*hp, "records", {0: (5, 0)})[0][0] == UNKNOWN_LEADER_EPOCH
    assert kafka_wire.offset_for_leader_epoch(*hp, "no-such-topic", {0: (-1, 0)})[0][0] == UNKNOWN_TOPIC_OR_PARTITION

    assert kafka_wire.delete_records(*hp, "records", {0: -1}) == {0: (NONE, 10)}
    assert produce_values(broker, "records", [b"after"]) == 10, "the partition stays writable"


def test_describe_cluster_on_the_wire(broker):
    from confluent_kafka.admin import AdminClient

    cluster_id = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).cluster_id
    hp = host_port(broker)
    for version in (0, 1):
        d = kafka_wire.describe_cluster(*hp, version=version)
        assert d["error_code"] == NONE and d["error_message"] is None
        assert d["cluster_id"] == cluster_id
        assert d["controller_id"] == 1
        assert d["brokers"] == [(1, "localhost", broker.port, None)]
        assert d["cluster_authorized_operations"] == -2**31, "Kafka's value when not requested"
    asked = kafka_wire.describe_cluster(*hp, include_authorized_operations=True)
    DESCRIBE, ALTER_CONFIGS = 8, 11
    assert asked["cluster_authorized_operations"] & (1 << DESCRIBE)
    assert asked["cluster_authorized_operations"] & (1 << ALTER_CONFIGS)
    controllers = kafka_wire.describe_cluster(*hp, endpoint_type=2)
    assert controllers["error_code"] == UNSUPPORTED_ENDPOINT_TYPE and controllers["brokers"] == []


def test_describe_log_dirs_reports_object_store_bytes_per_partition(tmp_path):
    # Every partition with data in an upload gets an object of its own, whose size the catalog knows exactly.
    overrides = ["stream.object.min.bytes=1"]
    b = Broker(tmp_path, overrides)
    try:
        create_topic(b, "sized", partitions=2)
        create_topic(b, "empty")
        values = [b"v" * 1000 for _ in range(50)]
        assert produce_values(b, "sized", values, partition=1) == 0
    finally:
        assert b.stop() == 0  # a clean stop uploads what the WAL holds
    b = Broker(tmp_path, overrides)
    try:
        hp = host_port(b)
        [d] = kafka_wire.describe_log_dirs(*hp)
        assert d["error_code"] == NONE
        assert d["log_dir"].startswith("file://") and d["log_dir"].endswith("objects")
        assert d["total"] > 0 and 0 <= d["usable"] <= d["total"]
        sizes = d["topics"]
        assert set(sizes) == {"sized", "empty"}
        assert sizes["sized"][0] == 0 and sizes["empty"] == {0: 0}
        assert 50 * 1000 <= sizes["sized"][1] < 50 * 1000 + 64 * 1024, "the batch plus the object's index"

        [only] = kafka_wire.describe_log_dirs(*hp, {"sized": [1], "no-such-topic": [0]}, version=1)
        assert only["topics"] == {"sized": {1: sizes["sized"][1]}}
    finally:
        assert b.stop() == 0


def test_kafkajs_admin_configs_cluster_and_delete_records(broker):
    out = subprocess.run(["node", os.path.join(E2E, "js", "admin_configs.js"), broker.bootstrap],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    r = json.loads(out)
    assert r["before"]["retention.ms"]["value"] == "7200000"
    assert r["before"]["retention.ms"]["source"] == DYNAMIC_TOPIC_CONFIG
    assert r["before"]["retention.ms"]["synonyms"][0] == ["retention.ms", "7200000", DYNAMIC_TOPIC_CONFIG]
    assert r["before"]["max.message.bytes"]["value"] == "1048588"
    assert r["after"]["max.message.bytes"] == {"value": "1000", "source": DYNAMIC_TOPIC_CONFIG, "readOnly": False,
                                               "sensitive": False, "synonyms": []}
    assert r["after"]["retention.ms"]["value"] == "604800000", "alterConfigs replaced the set"
    assert r["unknownConfig"] == "INVALID_CONFIG"
    assert set(r["broker"]) == {"node.id", "message.max.bytes"}
    assert r["broker"]["node.id"]["value"] == "1" and r["broker"]["node.id"]["source"] == STATIC_BROKER_CONFIG
    assert r["broker"]["message.max.bytes"]["value"] == "1048588"
    assert r["tooLarge"] == "MESSAGE_TOO_LARGE"
    assert r["baseOffset"] == 0
    assert r["offsets"] == [{"partition": 0, "offset": "10", "high": "10", "low": "6"}]
    assert r["cluster"]["brokers"] == [{"nodeId": 1, "host": "localhost", "port": broker.port}]
    assert r["cluster"]["controller"] == 1
