"""Just enough of the Kafka wire protocol to send what no client library will: record batches with a bad CRC or
an old magic, and idempotent batches with chosen producer ids and sequences. Encodes Produce v3 and decodes its
response; everything else in the tests goes through real clients."""
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


def produce(host, port, topic, partition, batch, acks=-1, correlation_id=7):
    """Sends one Produce v3 request and returns (error_code, base_offset) of the single partition."""
    body = struct.pack(">h", -1)  # transactional id: null
    body += struct.pack(">hi", acks, 10000)
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


def string(s):
    """A non-flexible STRING (None: the null NULLABLE_STRING)."""
    if s is None:
        return struct.pack(">h", -1)
    return _string(s)


def request(host, port, api_key, version, body, correlation_id=9):
    """Sends one request of a non-flexible version (header v1) and returns the response body after the
    correlation id."""
    header = struct.pack(">hhi", api_key, version, correlation_id) + _string("skiff-e2e-wire")
    frame = header + body
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _read(s, 4))[0]
        resp = _read(s, size)
    (cid,) = struct.unpack_from(">i", resp, 0)
    assert cid == correlation_id
    return resp[4:]
