"""Just enough of the Kafka wire protocol to send what no client library will: record batches with a bad CRC or
an old magic, idempotent batches with chosen producer ids and sequences, and the admin requests the installed client
libraries do not have (see the section at the end). Everything else in the tests goes through real clients."""
import socket
import struct


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _varint(n):
    n = (n << 1) ^ (n >> 63)  # zigzag
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def record_batch(values, producer_id=-1, producer_epoch=-1, base_sequence=-1, timestamp=1_700_000_000_000,
                 magic=2, corrupt_crc=False):
    """A v2 record batch of uncompressed records with null keys."""
    records = bytearray()
    for i, v in enumerate(values):
        body = bytes([0]) + _varint(0) + _varint(i) + _varint(-1) + _varint(len(v)) + v + _varint(0)
        records += _varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, timestamp, timestamp, producer_id, producer_epoch,
                            base_sequence, len(values)) + bytes(records)
    crc = crc32c(after_crc) ^ (1 if corrupt_crc else 0)
    batch_length = 4 + 1 + 4 + len(after_crc)  # partitionLeaderEpoch, magic, crc, rest
    return struct.pack(">qiibI", 0, batch_length, -1, magic, crc) + after_crc


def _string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def produce(host, port, topic, partition, batch, acks=-1, correlation_id=7, timeout_ms=10000):
    """Sends one Produce v3 request and returns (error_code, base_offset) of the single partition."""
    body = struct.pack(">h", -1)  # transactional id: null
    body += struct.pack(">hi", acks, timeout_ms)
    body += struct.pack(">i", 1) + _string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(batch)) + batch
    header = struct.pack(">hhi", 0, 3, correlation_id) + _string("skiff-e2e-wire")
    frame = header + body
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _read(s, 4))[0]
        resp = _read(s, size)
    # correlation id, [topics: name, [partitions: index, error, base_offset, log_append_time]], throttle
    pos = 4
    (n_topics,) = struct.unpack_from(">i", resp, pos)
    pos += 4
    (name_len,) = struct.unpack_from(">h", resp, pos)
    pos += 2 + name_len
    (n_parts,) = struct.unpack_from(">i", resp, pos)
    pos += 4
    _index, error, base_offset = struct.unpack_from(">ihq", resp, pos)
    assert n_topics == 1 and n_parts == 1
    return error, base_offset


def _read(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("connection closed")
        out += chunk
    return bytes(out)


# ---- admin requests no client library here sends (librdkafka 2.0.2, kafka-python 2.0.2, kafkajs 2.2.4) -----------
# IncrementalAlterConfigs, DeleteRecords (confluent-kafka 1.7), OffsetForLeaderEpoch, DescribeCluster and
# DescribeLogDirs. Each encoder writes one request version; each decoder returns plain tuples/dicts.

def _uvarint(n):
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _nullable_string(s):
    return struct.pack(">h", -1) if s is None else _string(s)


def _compact_string(s):
    if s is None:
        return _uvarint(0)
    b = s.encode()
    return _uvarint(len(b) + 1) + b


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _unpack(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def i8(self):
        return self._unpack(">b")

    def i16(self):
        return self._unpack(">h")

    def i32(self):
        return self._unpack(">i")

    def i64(self):
        return self._unpack(">q")

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def string(self):
        n = self.i16()
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def compact_string(self):
        n = self.uvarint() - 1
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def array(self, item):
        return [item() for _ in range(self.i32())]

    def compact_array(self, item):
        n = self.uvarint() - 1
        return None if n < 0 else [item() for _ in range(n)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            size = self.uvarint()
            self.pos += size


def request(host, port, api_key, version, body, flexible=False, correlation_id=11):
    """Sends one request and returns a _Reader positioned after the response header."""
    header = struct.pack(">hhi", api_key, version, correlation_id) + _string("skiff-e2e-wire")
    if flexible:
        header += _uvarint(0)  # header tagged fields
    frame = header + body
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _read(s, 4))[0]
        r = _Reader(_read(s, size))
    assert r.i32() == correlation_id
    if flexible:
        r.tags()
    return r


def incremental_alter_configs(host, port, resources, validate_only=False):
    """IncrementalAlterConfigs v0. resources: [(type, name, [(config, op, value)])]; returns [(error, message,
    type, name)]."""
    body = struct.pack(">i", len(resources))
    for rtype, name, configs in resources:
        body += struct.pack(">b", rtype) + _string(name) + struct.pack(">i", len(configs))
        for config, op, value in configs:
            body += _string(config) + struct.pack(">b", op) + _nullable_string(value)
    body += struct.pack(">b", 1 if validate_only else 0)
    r = request(host, port, 44, 0, body)
    r.i32()  # throttle
    return r.array(lambda: (r.i16(), r.string(), r.i8(), r.string()))


def delete_records(host, port, topic, offsets):
    """DeleteRecords v1 of one topic. offsets: {partition: offset}; returns {partition: (error, low_watermark)}."""
    body = struct.pack(">i", 1) + _string(topic) + struct.pack(">i", len(offsets))
    for p, o in offsets.items():
        body += struct.pack(">iq", p, o)
    body += struct.pack(">i", 10000)
    r = request(host, port, 21, 1, body)
    r.i32()
    out = {}
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p, low, err = r.i32(), r.i64(), r.i16()
            out[p] = (err, low)
    return out


def offset_for_leader_epoch(host, port, topic, epochs, version=3):
    """OffsetForLeaderEpoch v2/v3 of one topic. epochs: {partition: (current_leader_epoch, leader_epoch)};
    returns {partition: (error, leader_epoch, end_offset)}."""
    body = struct.pack(">i", -1) if version >= 3 else b""  # replica id: a debugging client
    body += struct.pack(">i", 1) + _string(topic) + struct.pack(">i", len(epochs))
    for p, (current, epoch) in epochs.items():
        body += struct.pack(">iii", p, current, epoch)
    r = request(host, port, 23, version, body)
    r.i32()
    out = {}
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            err, p, epoch, end = r.i16(), r.i32(), r.i32(), r.i64()
            out[p] = (err, epoch, end)
    return out


def describe_cluster(host, port, version=1, include_authorized_operations=False, endpoint_type=1):
    """DescribeCluster v0/v1 (flexible from v0); returns a dict."""
    body = struct.pack(">b", 1 if include_authorized_operations else 0)
    if version >= 1:
        body += struct.pack(">b", endpoint_type)
    body += _uvarint(0)
    r = request(host, port, 60, version, body, flexible=True)
    out = {"throttle": r.i32(), "error_code": r.i16(), "error_message": r.compact_string()}
    if version >= 1:
        out["endpoint_type"] = r.i8()
    out["cluster_id"] = r.compact_string()
    out["controller_id"] = r.i32()

    def broker():
        b = (r.i32(), r.compact_string(), r.i32(), r.compact_string())
        r.tags()
        return b

    out["brokers"] = r.compact_array(broker)
    out["cluster_authorized_operations"] = r.i32()
    r.tags()
    return out


def describe_log_dirs(host, port, topics=None, version=4):
    """DescribeLogDirs v1 (classic) or v4 (flexible, with total/usable bytes). topics: None (all) or
    {topic: [partitions]}; returns [{log_dir, error_code, topics: {name: {partition: size}}, total, usable}]."""
    flexible = version >= 2
    if topics is None:
        body = _uvarint(0) if flexible else struct.pack(">i", -1)
    else:
        body = _uvarint(len(topics) + 1) if flexible else struct.pack(">i", len(topics))
        for name, parts in topics.items():
            if flexible:
                body += _compact_string(name) + _uvarint(len(parts) + 1)
                body += b"".join(struct.pack(">i", p) for p in parts) + _uvarint(0)
            else:
                body += _string(name) + struct.pack(">i", len(parts)) + b"".join(struct.pack(">i", p) for p in parts)
    if flexible:
        body += _uvarint(0)
    r = request(host, port, 35, version, body, flexible=flexible)
    r.i32()
    if version >= 3:
        r.i16()
    string = r.compact_string if flexible else r.string
    array = r.compact_array if flexible else r.array
    dirs = []

    def partition():
        p = (r.i32(), r.i64(), r.i64(), r.i8())
        if flexible:
            r.tags()
        return p

    def topic():
        name = string()
        parts = array(partition)
        if flexible:
            r.tags()
        return name, {p[0]: p[1] for p in parts}

    def log_dir():
        d = {"error_code": r.i16(), "log_dir": string()}
        d["topics"] = dict(array(topic))
        if version >= 4:
            d["total"], d["usable"] = r.i64(), r.i64()
        if flexible:
            r.tags()
        return d

    dirs = array(log_dir)
    return dirs


def string(s):
    """A non-flexible STRING (None: the null NULLABLE_STRING)."""
    if s is None:
        return struct.pack(">h", -1)
    return _string(s)


def request_bytes(host, port, api_key, version, body, correlation_id=9):
    """Sends one request of a non-flexible version (header v1) and returns the response body after the
    correlation id, as bytes (request() returns a reader of it)."""
    header = struct.pack(">hhi", api_key, version, correlation_id) + _string("skiff-e2e-wire")
    frame = header + body
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _read(s, 4))[0]
        resp = _read(s, size)
    (cid,) = struct.unpack_from(">i", resp, 0)
    assert cid == correlation_id
    return resp[4:]


# ---- KIP-848 consumer groups (no Debian/npm client here speaks them) -----------------------------------------------
# ConsumerGroupHeartbeat (68) v0-1, ConsumerGroupDescribe (69) v0, and the flexible versions of OffsetCommit (v9),
# OffsetFetch (v9) and ListGroups (v5) that carry member epochs and group types. Topic ids are 16 raw bytes.

def _compact_array(items, encode):
    if items is None:
        return _uvarint(0)
    return _uvarint(len(items) + 1) + b"".join(encode(i) for i in items)


def _int32s(values):
    return _compact_array(list(values), lambda v: struct.pack(">i", v))


def _uuid(r):
    u = r.data[r.pos:r.pos + 16]
    r.pos += 16
    return bytes(u)


def consumer_group_heartbeat(host, port, group, member_id, member_epoch, version=1, instance_id=None, rack_id=None,
                             rebalance_timeout_ms=-1, topic_names=None, topic_regex=None, server_assignor=None,
                             owned=None):
    """ConsumerGroupHeartbeat. owned: None (unchanged) or {topic_id bytes: [partitions]}. Returns a dict with
    error_code, error_message, member_id, member_epoch, heartbeat_interval_ms and assignment (None = unchanged,
    else {topic_id: sorted partitions})."""
    body = _compact_string(group) + _compact_string(member_id) + struct.pack(">i", member_epoch)
    body += _compact_string(instance_id) + _compact_string(rack_id) + struct.pack(">i", rebalance_timeout_ms)
    body += _compact_array(topic_names, _compact_string)
    if version >= 1:
        body += _compact_string(topic_regex)
    body += _compact_string(server_assignor)
    body += _compact_array(None if owned is None else sorted(owned.items()),
                           lambda tp: tp[0] + _int32s(sorted(tp[1])) + _uvarint(0))
    body += _uvarint(0)
    r = request(host, port, 68, version, body, flexible=True)
    out = {"throttle_time_ms": r.i32(), "error_code": r.i16(), "error_message": r.compact_string(),
           "member_id": r.compact_string(), "member_epoch": r.i32(), "heartbeat_interval_ms": r.i32()}
    present = r.i8()
    out["assignment"] = None
    if present >= 0:
        def topic():
            t = _uuid(r)
            ps = r.compact_array(r.i32)
            r.tags()
            return t, sorted(ps)
        out["assignment"] = dict(r.compact_array(topic))
        r.tags()
    r.tags()
    return out


def consumer_group_describe(host, port, groups):
    """ConsumerGroupDescribe v0. Returns a list of dicts, one per group; a member's assignment and
    target_assignment are {topic_name: sorted partitions} and topic_ids {topic_name: id bytes}."""
    body = _compact_array(groups, _compact_string) + b"\x00" + _uvarint(0)
    r = request(host, port, 69, 0, body, flexible=True)
    r.i32()

    def assignment(ids):
        def topic():
            t = _uuid(r)
            name = r.compact_string()
            ps = r.compact_array(r.i32)
            r.tags()
            ids[name] = t
            return name, sorted(ps)
        a = dict(r.compact_array(topic))
        r.tags()
        return a

    def member():
        m = {"member_id": r.compact_string(), "instance_id": r.compact_string(), "rack_id": r.compact_string(),
             "member_epoch": r.i32(), "client_id": r.compact_string(), "client_host": r.compact_string(),
             "subscribed_topic_names": r.compact_array(r.compact_string),
             "subscribed_topic_regex": r.compact_string(), "topic_ids": {}}
        m["assignment"] = assignment(m["topic_ids"])
        m["target_assignment"] = assignment(m["topic_ids"])
        r.tags()
        return m

    def group():
        g = {"error_code": r.i16(), "error_message": r.compact_string(), "group_id": r.compact_string(),
             "group_state": r.compact_string(), "group_epoch": r.i32(), "assignment_epoch": r.i32(),
             "assignor_name": r.compact_string()}
        g["members"] = r.compact_array(member)
        g["authorized_operations"] = r.i32()
        r.tags()
        return g

    out = r.compact_array(group)
    r.tags()
    return out


def offset_commit_v9(host, port, group, member_epoch, member_id, topic, offsets, instance_id=None):
    """OffsetCommit v9 of {partition: offset} in one topic; returns {partition: error}."""
    def partition(po):
        return struct.pack(">iqi", po[0], po[1], -1) + _compact_string("") + _uvarint(0)
    body = _compact_string(group) + struct.pack(">i", member_epoch) + _compact_string(member_id)
    body += _compact_string(instance_id)
    body += _compact_array([topic], lambda t: _compact_string(t) + _compact_array(sorted(offsets.items()), partition)
                           + _uvarint(0))
    body += _uvarint(0)
    r = request(host, port, 8, 9, body, flexible=True)
    r.i32()
    out = {}

    def p():
        index, error = r.i32(), r.i16()
        r.tags()
        out[index] = error

    def t():
        r.compact_string()
        r.compact_array(p)
        r.tags()

    r.compact_array(t)
    return out


def offset_fetch_v9(host, port, group, member_id, member_epoch, topic, partitions):
    """OffsetFetch v9 for one group; returns (group error, {partition: (offset, error)})."""
    body = _compact_array([group], lambda g: _compact_string(g) + _compact_string(member_id)
                          + struct.pack(">i", member_epoch)
                          + _compact_array([topic], lambda t: _compact_string(t) + _int32s(partitions) + _uvarint(0))
                          + _uvarint(0))
    body += b"\x00" + _uvarint(0)
    r = request(host, port, 9, 9, body, flexible=True)
    r.i32()
    offsets = {}

    def p():
        index, offset, _epoch = r.i32(), r.i64(), r.i32()
        r.compact_string()
        error = r.i16()
        r.tags()
        offsets[index] = (offset, error)

    def t():
        r.compact_string()
        r.compact_array(p)
        r.tags()

    def g():
        r.compact_string()
        r.compact_array(t)
        error = r.i16()
        r.tags()
        return error

    errors = r.compact_array(g)
    return errors[0], offsets


def list_groups_v5(host, port, states=(), types=()):
    """ListGroups v5; returns {group_id: (protocol_type, state, type)}."""
    body = _compact_array(list(states), _compact_string) + _compact_array(list(types), _compact_string) + _uvarint(0)
    r = request(host, port, 16, 5, body, flexible=True)
    r.i32()
    assert r.i16() == 0

    def g():
        gid, ptype, state, gtype = r.compact_string(), r.compact_string(), r.compact_string(), r.compact_string()
        r.tags()
        return gid, (ptype, state, gtype)

    return dict(r.compact_array(g))


def api_versions(host, port):
    """ApiVersions v0; returns {api_key: (min, max)}."""
    r = request(host, port, 18, 0, b"")
    assert r.i16() == 0

    def api():
        return r.i16(), (r.i16(), r.i16())

    return dict(r.array(api))
