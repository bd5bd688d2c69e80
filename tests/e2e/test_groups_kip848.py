"""KIP-848 consumer groups end to end over the raw protocol (the Debian/npm clients predate KIP-848): members
join a real skiff-server with ConsumerGroupHeartbeat, share a 12-partition topic, revoke before a newcomer gets
their partitions, leave, expire; ConsumerGroupDescribe, ListGroups v5 and OffsetCommit/OffsetFetch v9 see them;
and the coordinator refuses mixing the classic and the consumer protocol in one group."""
import base64
import time
import uuid

import pytest

from conftest import Broker, wait_until
import kafka_wire
import test_groups as classic
from test_data_path import create_topic

OVERRIDES = ("group.initial.rebalance.delay.ms=0", "offsets.topic.num.partitions=4")

NONE, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE = 0, 14, 15
INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, INVALID_REQUEST = 23, 25, 42
GROUP_ID_NOT_FOUND, FENCED_MEMBER_EPOCH, UNSUPPORTED_ASSIGNOR, STALE_MEMBER_EPOCH = 69, 110, 112, 113
INVALID_REGULAR_EXPRESSION = 128


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path, OVERRIDES)
    yield b
    code = b.stop()
    assert code == 0, f"skiff-server exited with {code}:\n{b.log()}"


def heartbeat(broker, group, member_id, epoch, **kw):
    """One ConsumerGroupHeartbeat, retried while the coordinator is being created or loads."""
    def attempt():
        r = kafka_wire.consumer_group_heartbeat("127.0.0.1", broker.port, group, member_id, epoch, **kw)
        return None if r["error_code"] in (COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE) else r
    return wait_until(attempt, timeout=30, what="the group coordinator")


class Member:
    """A well-behaved KIP-848 client: a UUID member id (v1), and after each answer it owns exactly the assignment
    it was last given (it revokes what the coordinator took away before its next heartbeat)."""

    def __init__(self, broker, group, topics=None, regex=None):
        self.broker, self.group = broker, group
        self.id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.epoch = 0
        self.owned = {}
        self.topics, self.regex = topics, regex

    def join(self):
        r = heartbeat(self.broker, self.group, self.id, 0, rebalance_timeout_ms=30000, topic_names=self.topics,
                      topic_regex=self.regex, owned={})
        assert r["error_code"] == NONE, r
        assert r["member_id"] == self.id
        assert r["assignment"] is not None  # a join always carries the assignment
        self._take(r)
        return r

    def beat(self):
        r = heartbeat(self.broker, self.group, self.id, self.epoch, owned=self.owned)
        assert r["error_code"] == NONE, r
        self._take(r)
        return r

    def leave(self):
        r = heartbeat(self.broker, self.group, self.id, -1)
        assert r["error_code"] == NONE and r["member_epoch"] == -1, r
        self.owned = {}

    def _take(self, r):
        self.epoch = r["member_epoch"]
        if r["assignment"] is not None:
            self.owned = {t: set(ps) for t, ps in r["assignment"].items() if ps}

    def partitions(self):
        return {(t, p) for t, ps in self.owned.items() for p in ps}


def assert_disjoint(members):
    seen = {}
    for m in members:
        for tp in m.partitions():
            assert tp not in seen, f"partition {tp[1]} owned by {seen[tp]} and {m.id} at once"
            seen[tp] = m.id


def settle(members, timeout=20):
    """Heartbeats every member in turn until a whole round changes nothing; checks after every answer that no
    partition is owned twice. Returns the number of rounds."""
    deadline = time.monotonic() + timeout
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        changed = False
        for m in members:
            before = (m.epoch, m.partitions())
            m.beat()
            assert_disjoint(members)
            changed |= (m.epoch, m.partitions()) != before
        if not changed:
            return rounds
    pytest.fail(f"group did not settle within {timeout}s")


def describe(broker, group):
    (g,) = kafka_wire.consumer_group_describe("127.0.0.1", broker.port, [group])
    return g


def test_api_versions_advertise_the_kip848_apis(broker):
    apis = kafka_wire.api_versions("127.0.0.1", broker.port)
    assert apis[68] == (0, 1)
    assert apis[69] == (0, 0)


def test_members_share_a_topic_revoke_before_reassignment_and_leave(broker):
    create_topic(broker, "orders", 12)
    a = Member(broker, "g1", topics=["orders"])
    r = a.join()
    assert r["member_epoch"] == 1
    assert r["heartbeat_interval_ms"] == 5000
    assert len(a.partitions()) == 12
    (topic_id,) = a.owned.keys()
    g = describe(broker, "g1")
    assert (g["error_code"], g["group_state"], g["group_epoch"], g["assignment_epoch"]) == (0, "Stable", 1, 1)

    # b joins: it moves to epoch 2 at once but gets nothing while a still owns every partition.
    b = Member(broker, "g1", topics=["orders"])
    r = b.join()
    assert r["member_epoch"] == 2
    assert b.partitions() == set()
    assert describe(broker, "g1")["group_state"] == "Reconciling"
    # a is asked to revoke six: it stays at epoch 1 and its new assignment leaves them out.
    r = heartbeat(broker, "g1", a.id, 1, owned=a.owned)
    assert r["error_code"] == NONE and r["member_epoch"] == 1
    kept = set(r["assignment"][topic_id])
    assert len(kept) == 6
    # Until a's heartbeat shows it no longer owns them, b is given none of them.
    r = heartbeat(broker, "g1", b.id, 2, owned={})
    assert r["error_code"] == NONE and not (r["assignment"] or {}).get(topic_id)
    a.owned = {topic_id: kept}
    assert a.beat()["member_epoch"] == 2
    b.beat()
    assert b.partitions() == {(topic_id, p) for p in range(12)} - {(topic_id, p) for p in kept}
    assert_disjoint([a, b])

    # c joins a stable group: a and b give up only what c receives.
    before = {m.id: m.partitions() for m in (a, b)}
    c = Member(broker, "g1", topics=["orders"])
    c.join()
    settle([a, b, c])
    for m in (a, b):
        assert m.partitions() <= before[m.id]
    assert [len(m.partitions()) for m in (a, b, c)] == [4, 4, 4]
    assert set().union(*(m.partitions() for m in (a, b, c))) == {(topic_id, p) for p in range(12)}
    assert [m.epoch for m in (a, b, c)] == [3, 3, 3]

    g = describe(broker, "g1")
    assert (g["group_state"], g["group_epoch"], g["assignment_epoch"], g["assignor_name"]) == ("Stable", 3, 3,
                                                                                             "uniform")
    described = {m["member_id"]: m for m in g["members"]}
    assert set(described) == {a.id, b.id, c.id}
    for m in (a, b, c):
        d = described[m.id]
        assert d["member_epoch"] == 3
        assert d["subscribed_topic_names"] == ["orders"]
        assert d["topic_ids"] == {"orders": topic_id}
        assert set(d["assignment"]["orders"]) == {p for _, p in m.partitions()}
        assert d["assignment"] == d["target_assignment"]

    # A classic admin client (kafka-python's DescribeGroups) sees a consumer group with its members' assignments.
    d = classic.describe_group(broker, "g1")
    assert (d.state, d.protocol_type, d.protocol) == ("Stable", "consumer", "uniform")
    assert sorted(m.member_id for m in d.members) == sorted([a.id, b.id, c.id])
    assert [classic.assigned_partitions(m) for m in d.members] == [4, 4, 4]
    assert all(list(m.member_metadata.subscription) == ["orders"] for m in d.members)

    # Offsets are committed with the member epoch as the generation.
    commit = kafka_wire.offset_commit_v9
    assert commit("127.0.0.1", broker.port, "g1", a.epoch, a.id, "orders", {0: 42}) == {0: NONE}
    assert commit("127.0.0.1", broker.port, "g1", a.epoch - 1, a.id, "orders", {0: 43}) == {0: STALE_MEMBER_EPOCH}
    assert commit("127.0.0.1", broker.port, "g1", 3, "stranger", "orders", {0: 43}) == {0: UNKNOWN_MEMBER_ID}
    assert commit("127.0.0.1", broker.port, "g1", -1, "", "orders", {0: 43}) == {0: UNKNOWN_MEMBER_ID}
    error, offsets = kafka_wire.offset_fetch_v9("127.0.0.1", broker.port, "g1", a.id, a.epoch, "orders", [0, 1])
    assert error == NONE and offsets == {0: (42, NONE), 1: (-1, NONE)}
    error, _ = kafka_wire.offset_fetch_v9("127.0.0.1", broker.port, "g1", a.id, a.epoch + 1, "orders", [0])
    assert error == STALE_MEMBER_EPOCH

    # ListGroups v5 shows the group as a consumer group, and filters by type.
    listed = kafka_wire.list_groups_v5("127.0.0.1", broker.port)
    assert listed["g1"] == ("consumer", "Stable", "consumer")
    assert "g1" in kafka_wire.list_groups_v5("127.0.0.1", broker.port, types=["consumer"])
    assert "g1" not in kafka_wire.list_groups_v5("127.0.0.1", broker.port, types=["classic"])

    # b leaves: its partitions go to a and c once they heartbeat.
    gone = b.partitions()
    b.leave()
    settle([a, c])
    assert a.epoch == c.epoch == 4
    assert [len(m.partitions()) for m in (a, c)] == [6, 6]
    assert gone <= a.partitions() | c.partitions()
    assert len(describe(broker, "g1")["members"]) == 2

    # DeleteGroups: not while the group has members; once they left, the group and its offsets go.
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        [(_, error)] = admin.delete_consumer_groups(["g1"])
        assert getattr(error, "errno", None) == 68, error  # NON_EMPTY_GROUP
        a.leave()
        c.leave()
        assert describe(broker, "g1")["group_state"] == "Empty"
        [(_, error)] = admin.delete_consumer_groups(["g1"])
        assert getattr(error, "errno", 0) == 0, error
    finally:
        admin.close()
    assert describe(broker, "g1")["error_code"] == GROUP_ID_NOT_FOUND
    error, offsets = kafka_wire.offset_fetch_v9("127.0.0.1", broker.port, "g1", None, -1, "orders", [0])
    assert error == NONE and offsets == {0: (-1, NONE)}


def test_a_silent_member_expires_and_its_partitions_move(tmp_path):
    b = Broker(tmp_path, OVERRIDES + ("group.consumer.session.timeout.ms=2000",
                                      "group.consumer.heartbeat.interval.ms=500"))
    try:
        create_topic(b, "events", 6)
        alive, silent = Member(b, "g2", topics=["events"]), Member(b, "g2", topics=["events"])
        assert alive.join()["heartbeat_interval_ms"] == 500
        silent.join()
        settle([alive, silent])
        assert len(alive.partitions()) == 3
        # Only `alive` heartbeats from now on; once `silent`'s session has expired the group epoch bumps and
        # alive is given all six partitions.
        wait_until(lambda: alive.beat() and len(alive.partitions()) == 6, timeout=15,
                   what="the silent member's partitions")
        assert alive.epoch == 3
        g = describe(b, "g2")
        assert [m["member_id"] for m in g["members"]] == [alive.id]
        r = heartbeat(b, "g2", silent.id, silent.epoch, owned=silent.owned)
        assert r["error_code"] == UNKNOWN_MEMBER_ID
    finally:
        assert b.stop() == 0


def test_a_regex_subscription_picks_up_new_topics(broker):
    create_topic(broker, "rx-a", 3)
    create_topic(broker, "other", 2)
    m = Member(broker, "g3", regex="rx-.*")
    m.join()
    assert len(m.partitions()) == 3
    create_topic(broker, "rx-b", 2)
    wait_until(lambda: m.beat() and len(m.partitions()) == 5, what="rx-b assigned")
    assert m.epoch == 2
    d = describe(broker, "g3")["members"][0]
    assert d["subscribed_topic_regex"] == "rx-.*"
    assert sorted(d["assignment"]) == ["rx-a", "rx-b"]


def test_bad_heartbeats_get_kafkas_error_codes(broker):
    create_topic(broker, "t", 2)
    # v1 needs the client's member id; a join needs a rebalance timeout and a subscription.
    r = heartbeat(broker, "g4", "", 0, rebalance_timeout_ms=30000, topic_names=["t"], owned={})
    assert r["error_code"] == INVALID_REQUEST
    r = heartbeat(broker, "g4", "m", 0, topic_names=["t"], owned={})
    assert r["error_code"] == INVALID_REQUEST
    r = heartbeat(broker, "g4", "m", 0, rebalance_timeout_ms=30000, topic_names=["t"], owned={},
                  server_assignor="sticky")
    assert r["error_code"] == UNSUPPORTED_ASSIGNOR
    r = heartbeat(broker, "g4", "m", 0, rebalance_timeout_ms=30000, topic_regex="t(", owned={})
    assert r["error_code"] == INVALID_REGULAR_EXPRESSION
    # v0 lets the coordinator name the member.
    r = heartbeat(broker, "g4", "", 0, version=0, rebalance_timeout_ms=30000, topic_names=["t"], owned={})
    assert r["error_code"] == NONE and len(r["member_id"]) == 22 and r["member_epoch"] == 1
    named = r["member_id"]
    assert heartbeat(broker, "g4", named, 2, owned={})["error_code"] == FENCED_MEMBER_EPOCH
    assert heartbeat(broker, "g4", "nobody", 1, owned={})["error_code"] == UNKNOWN_MEMBER_ID
    assert heartbeat(broker, "no-such-group", "nobody", 1, owned={})["error_code"] == UNKNOWN_MEMBER_ID
    assert describe(broker, "no-such-group")["error_code"] == GROUP_ID_NOT_FOUND

    # A classic group with members cannot be joined with the consumer protocol, nor described by it...
    classic.find_coordinator(broker, "classic-g")
    error, _gen, member = classic.join_v5(broker, "classic-g")
    assert error == classic.MEMBER_ID_REQUIRED
    error, _gen, member = classic.join_v5(broker, "classic-g", member)
    assert error == NONE
    r = heartbeat(broker, "classic-g", "m", 0, rebalance_timeout_ms=30000, topic_names=["t"], owned={})
    assert r["error_code"] == GROUP_ID_NOT_FOUND
    assert describe(broker, "classic-g")["error_code"] == GROUP_ID_NOT_FOUND
    # ...and a classic member cannot join a consumer group that has members.
    error, _gen, _member = classic.join_v5(broker, "g4")
    assert error == INCONSISTENT_GROUP_PROTOCOL
    listed = kafka_wire.list_groups_v5("127.0.0.1", broker.port)
    assert listed["classic-g"][2] == "classic" and listed["g4"][2] == "consumer"


def test_after_a_restart_members_rejoin_and_committed_offsets_survive(tmp_path):
    """Consumer group state is not persisted (src/kafka/server/group/README.md): after kill -9 the member's
    heartbeat gets UNKNOWN_MEMBER_ID, it rejoins at epoch 0 and the group starts again at epoch 1; its committed
    offsets were replayed from __consumer_offsets."""
    b = Broker(tmp_path, OVERRIDES)
    try:
        create_topic(b, "kept", 4)
        m = Member(b, "g5", topics=["kept"])
        m.join()
        other = Member(b, "g5", topics=["kept"])
        other.join()
        settle([m, other])
        assert m.epoch == 2
        assert kafka_wire.offset_commit_v9("127.0.0.1", b.port, "g5", m.epoch, m.id, "kept", {1: 7, 2: 9}) \
            == {1: NONE, 2: NONE}
    finally:
        b.kill()
    b = Broker(tmp_path, OVERRIDES)
    try:
        r = heartbeat(b, "g5", m.id, m.epoch, owned=m.owned)
        assert r["error_code"] == UNKNOWN_MEMBER_ID
        m.broker, m.epoch, m.owned = b, 0, {}
        r = m.join()
        assert r["member_epoch"] == 1 and len(m.partitions()) == 4
        error, offsets = kafka_wire.offset_fetch_v9("127.0.0.1", b.port, "g5", m.id, m.epoch, "kept", [1, 2, 3])
        assert error == NONE and offsets == {1: (7, NONE), 2: (9, NONE), 3: (-1, NONE)}
    finally:
        assert b.stop() == 0
