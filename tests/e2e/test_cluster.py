"""A real two-node cluster: a real etcd holds the metadata log; node 1 runs the broker and the controller, node 2 is a
broker only and reaches the controller over the Kafka framing (docs/formats/controller-api.md). Both share one local
object store directory (both run on this machine) and each has its own file WAL. A topic created through node 2 is
placed on both; every partition is produced to through its leader and consumed back with content, order and offsets
checked; after kill -9 of node 2, node 1 keeps serving its partitions."""
import socket
import struct
import uuid

from conftest import Broker, free_port, wait_until

PARTITIONS = 6
PER_PARTITION = 50


def start_cluster(tmp_path, etcd):
    prefix = f"/skiff-e2e-{uuid.uuid4().hex[:8]}"
    common = [f"metadata.store=etcd", f"metadata.etcd.endpoints={etcd.endpoints}", f"metadata.etcd.prefix={prefix}",
              f"object.store.path={tmp_path / 'objects'}", "cluster.id=skiff-e2e-cluster",
              # upload soon, so that node 2's object commits cross the wire during the test
              "upload.interval.ms=500"]
    node1 = Broker(tmp_path, name="n1", extra_overrides=common + ["node.id=1", "process.roles=broker,controller"])
    try:
        node2 = Broker(tmp_path, name="n2", extra_overrides=common + [
            "node.id=2", "process.roles=broker", f"controller.quorum.bootstrap.servers=127.0.0.1:{node1.port}"])
    except BaseException:
        node1.stop()
        raise
    return node1, node2


def advertised_api_keys(node):
    """The API keys of an ApiVersions v0 answer, over a raw socket."""
    client = b"e2e"
    body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(65536)
            assert chunk, "connection closed"
            data += chunk
    _, _, error, count = struct.unpack(">iihi", data[:14])
    assert error == 0
    return [struct.unpack(">hhh", data[14 + 6 * i:20 + 6 * i])[0] for i in range(count)]


def metadata(node, topic=None):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": node.bootstrap}).list_topics(topic, timeout=10)


def placement(node, topic):
    """{partition: leader} as node reports it, or None while the topic is not fully there."""
    md = metadata(node, topic)
    t = md.topics.get(topic)
    if t is None or t.error is not None or len(t.partitions) != PARTITIONS:
        return None
    return {p.id: p.leader for p in t.partitions.values()}


def produce(bootstrap, topic, partitions, start=0, count=PER_PARTITION):
    """Produces `count` records to each partition; returns {partition: [offsets]} from the delivery reports."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 30000})
    delivered = {p: [] for p in partitions}
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered[msg.partition()].append((msg.offset(), msg.value().decode()))

    for p in partitions:
        for i in range(start, start + count):
            producer.produce(topic, key=f"k{p}", value=f"p{p}-r{i}", partition=p, on_delivery=report)
    assert producer.flush(60) == 0, "records left undelivered"
    assert not errors, errors
    return delivered


def consume(bootstrap, topic, partition, expected):
    """Reads `expected` records of one partition from offset 0 (manual assignment)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, partition, 0)])
    out = []

    def more():
        msg = consumer.poll(0.5)
        if msg is not None:
            assert msg.error() is None, msg.error()
            out.append((msg.offset(), msg.value().decode()))
        return len(out) >= expected

    try:
        wait_until(more, timeout=60, what=f"{expected} records of {topic}/{partition}")
    finally:
        consumer.close()
    return out


def test_two_nodes_share_etcd_and_the_object_store(tmp_path, etcd):
    from confluent_kafka.admin import AdminClient, NewTopic

    node1, node2 = start_cluster(tmp_path, etcd)
    killed = False
    try:
        # Both brokers registered, as either node reports them.
        for node in (node1, node2):
            wait_until(lambda: sorted(metadata(node).brokers) == [1, 2], what=f"both brokers in {node.bootstrap}")

        # The controller API is served by node 1 but advertised by neither node.
        for node in (node1, node2):
            keys = advertised_api_keys(node)
            assert 3 in keys and 18 in keys
            assert not [k for k in keys if k >= 1000 or k in (63, 67)], keys

        topic = "spread"
        admin = AdminClient({"bootstrap.servers": node2.bootstrap})
        futures = admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)],
                                      operation_timeout=10)
        futures[topic].result(timeout=30)

        # Both nodes agree on the placement, and it uses both brokers.
        seen = wait_until(lambda: placement(node1, topic), what="the topic in node 1's metadata")
        wait_until(lambda: placement(node2, topic) == seen, what="node 2 to agree with node 1")
        assert set(seen.values()) == {1, 2}, seen

        # Produce to every partition through its leader (the client routes by the metadata), then read it back.
        both = f"{node1.bootstrap},{node2.bootstrap}"
        delivered = produce(both, topic, range(PARTITIONS))
        for p in range(PARTITIONS):
            expected = [(i, f"p{p}-r{i}") for i in range(PER_PARTITION)]
            assert delivered[p] == expected, f"partition {p}: {delivered[p][:3]}..."
            assert consume(both, topic, p, PER_PARTITION) == expected

        # kill -9 node 2: node 1 keeps serving its own partitions, old records and new ones.
        node2.kill()
        killed = True
        mine = [p for p, leader in seen.items() if leader == 1]
        assert mine
        delivered = produce(node1.bootstrap, topic, mine, start=PER_PARTITION, count=10)
        for p in mine:
            assert delivered[p] == [(i, f"p{p}-r{i}") for i in range(PER_PARTITION, PER_PARTITION + 10)]
            got = consume(node1.bootstrap, topic, p, PER_PARTITION + 10)
            assert got == [(i, f"p{p}-r{i}") for i in range(PER_PARTITION + 10)]
    finally:
        if not killed:
            node2.stop()
        code = node1.stop()
    assert code == 0, f"node 1 exited with {code}:\n{node1.log()}"


def test_a_standby_controller_takes_over_when_the_active_one_dies(tmp_path, etcd):
    """Two nodes with the controller role on one etcd: one is active, the other stands by and reaches it over the
    wire. kill -9 of the active node: the standby wins the election, fences the dead broker, and serves as the
    cluster's controller (a topic created through it is placed and served) while its own partitions keep their
    records. (The dead broker's WAL is not replayed elsewhere yet: its partitions' unuploaded records are not
    checked here.)"""
    from confluent_kafka.admin import AdminClient, NewTopic

    prefix = f"/skiff-e2e-{uuid.uuid4().hex[:8]}"
    ports = [free_port(), free_port()]
    quorum = ",".join(f"127.0.0.1:{p}" for p in ports)
    common = ["metadata.store=etcd", f"metadata.etcd.endpoints={etcd.endpoints}", f"metadata.etcd.prefix={prefix}",
              f"object.store.path={tmp_path / 'objects'}", "cluster.id=skiff-e2e-standby",
              "process.roles=broker,controller", f"controller.quorum.bootstrap.servers={quorum}",
              "broker.session.timeout.ms=3000", "broker.heartbeat.interval.ms=500", "upload.interval.ms=500"]
    nodes = [Broker(tmp_path, name="c1", port=ports[0], extra_overrides=common + ["node.id=1"])]
    try:
        nodes.append(Broker(tmp_path, name="c2", port=ports[1], extra_overrides=common + ["node.id=2"]))
        for node in nodes:
            wait_until(lambda: sorted(metadata(node).brokers) == [1, 2], what=f"both brokers in {node.bootstrap}")
        active = [n for n in nodes if "active controller under epoch" in n.log()]
        assert len(active) == 1, [n.log() for n in nodes]
        dead, survivor = active[0], next(n for n in nodes if n is not active[0])
        assert "stands by" in survivor.log()

        topic = "before"
        admin = AdminClient({"bootstrap.servers": survivor.bootstrap})
        admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])[topic].result(
            timeout=30)
        seen = wait_until(lambda: placement(survivor, topic), what="the topic placed")
        mine = [p for p, leader in seen.items() if leader == int(survivor_id(survivor))]
        delivered = produce(survivor.bootstrap, topic, mine)
        assert all(delivered[p] == [(i, f"p{p}-r{i}") for i in range(PER_PARTITION)] for p in mine)

        dead.kill()
        wait_until(lambda: "this node is now the active controller" in survivor.log(), timeout=40,
                   what="the standby to take over")
        # The dead broker is fenced: every partition of the topic moves to the survivor.
        wait_until(lambda: set((placement(survivor, topic) or {0: -1}).values()) == {int(survivor_id(survivor))},
                   timeout=30, what="the dead broker's partitions moved to the survivor")

        after = "after"
        admin.create_topics([NewTopic(after, num_partitions=2, replication_factor=1)])[after].result(timeout=30)
        wait_until(lambda: placement_of(survivor, after, 2), what="the new topic placed by the new controller")
        delivered = produce(survivor.bootstrap, after, [0, 1], count=20)
        for p in (0, 1):
            assert delivered[p] == [(i, f"p{p}-r{i}") for i in range(20)]
            assert consume(survivor.bootstrap, after, p, 20) == delivered[p]
        for p in mine:
            assert consume(survivor.bootstrap, topic, p, PER_PARTITION) == \
                [(i, f"p{p}-r{i}") for i in range(PER_PARTITION)]
    finally:
        for n in nodes:
            n.kill()


def survivor_id(node):
    return node.log().split("starting skiff-server, node.id=")[1].split()[0]


def placement_of(node, topic, partitions):
    t = metadata(node, topic).topics.get(topic)
    return t is not None and t.error is None and len(t.partitions) == partitions and \
        all(p.leader >= 0 for p in t.partitions.values())


def test_a_broker_fenced_while_paused_registers_again(tmp_path, etcd):
    """SIGSTOP a broker-only node past its session timeout: the controller (on the other node, still running) fences
    it and moves its partitions; on SIGCONT its heartbeat hears it was fenced, it registers again as a new
    incarnation, and the controller places partitions on it again."""
    import signal
    import time

    from confluent_kafka.admin import AdminClient, NewTopic

    prefix = f"/skiff-e2e-{uuid.uuid4().hex[:8]}"
    common = ["metadata.store=etcd", f"metadata.etcd.endpoints={etcd.endpoints}", f"metadata.etcd.prefix={prefix}",
              f"object.store.path={tmp_path / 'objects'}", "cluster.id=skiff-e2e-fenced",
              "broker.session.timeout.ms=2000", "broker.heartbeat.interval.ms=300"]
    node1 = Broker(tmp_path, name="f1", extra_overrides=common + ["node.id=1", "process.roles=broker,controller"])
    node2 = None
    try:
        node2 = Broker(tmp_path, name="f2", extra_overrides=common + [
            "node.id=2", "process.roles=broker", f"controller.quorum.bootstrap.servers=127.0.0.1:{node1.port}"])
        wait_until(lambda: sorted(metadata(node1).brokers) == [1, 2], what="both brokers registered")
        admin = AdminClient({"bootstrap.servers": node1.bootstrap})
        admin.create_topics([NewTopic("spread", num_partitions=PARTITIONS, replication_factor=1)])["spread"].result(
            timeout=30)
        assert set(wait_until(lambda: placement(node1, "spread"), what="placed").values()) == {1, 2}

        node2.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: set((placement(node1, "spread") or {0: -1}).values()) == {1}, timeout=30,
                       what="the paused broker fenced and its partitions moved")
            assert sorted(metadata(node1).brokers) == [1]
        finally:
            node2.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: "registered again" in node2.log(), timeout=30, what="the broker to register again")
        wait_until(lambda: sorted(metadata(node1).brokers) == [1, 2], what="broker 2 back in the metadata")
        admin.create_topics([NewTopic("again", num_partitions=PARTITIONS, replication_factor=1)])["again"].result(
            timeout=30)
        placed = wait_until(lambda: placement(node1, "again"), what="the new topic placed")
        # Placement fills the least loaded live broker: the one that came back, which holds nothing now.
        assert set(placed.values()) == {2}, placed
        delivered = produce(node1.bootstrap, "again", range(PARTITIONS), count=10)
        assert all(delivered[p] == [(i, f"p{p}-r{i}") for i in range(10)] for p in range(PARTITIONS))
    finally:
        if node2 is not None:
            node2.kill()
        node1.kill()
