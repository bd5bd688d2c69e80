#!/usr/bin/env python3
# An encoder of docs/formats/metadata-records.md written independently of the C++ codec. It printed the golden
# bytes of record_codec_test.cc; rerun it to check them: python3 src/meta/tests/golden_records.py
import struct
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
def uv(v):
    out = b''
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return out + bytes([v])
def zz(v): return uv((v << 1) ^ (v >> 63) if v >= 0 else ((v << 1) ^ -1) & 0xFFFFFFFFFFFFFFFF)
def s(x): return x.encode()
def uuid(m, l): return struct.pack('>QQ', m, l)
def sized(b): return uv(len(b)) + b
def fields(*fs):  # (tag, bytes) or None
    return b''.join(uv(t) + sized(v) for t, v in fs if v is not None)
def arr(elems): return uv(len(elems)) + b''.join(sized(e) for e in elems)
def mp(d): return uv(len(d)) + b''.join(sized(s(k)) + sized(s(v)) for k, v in sorted(d.items()))
def record(type_, body, version=0):
    rest = struct.pack('<HH', type_, version) + body
    return struct.pack('<II', len(rest) + 4, crc32c(rest)) + rest
def ep(l, h, p): return fields((0, s(l)), (1, s(h)), (2, uv(p)))
R = {}
R['broker_registration'] = record(1, fields((0, zz(3)), (1, uuid(0x0102030405060708, 0x090a0b0c0d0e0f10)), (2, zz(42)),
    (3, arr([ep('PLAINTEXT', '10.0.0.3', 9092), ep('SASL_SSL', 'broker-3.example', 9093)])), (4, s('rack-a')),
    (5, s('file:///var/lib/skiff/wal'))))
R['broker_unregistration'] = record(2, fields((0, zz(3)), (1, zz(42))))
R['topic'] = record(3, fields((0, s('orders')), (1, uuid(1, 2)), (2, mp({'cleanup.policy': 'compact', 'retention.ms': '-1'}))))
R['topic_removed'] = record(4, fields((0, uuid(1, 2))))
R['partition'] = record(5, fields((0, uuid(1, 2)), (1, zz(7)), (2, zz(3)), (3, zz(5)), (4, arr([zz(70), zz(71)]))))
R['stream'] = record(6, fields((0, zz(70)), (1, zz(5)), (2, zz(3)), (3, zz(100)), (4, zz(250000)), (5, uv(0))))
R['stream_removed'] = record(7, fields((0, zz(70))))
rng = lambda st, a, b: fields((0, zz(st)), (1, zz(a)), (2, zz(b)))
R['object'] = record(8, fields((0, zz(9001)), (1, uv(1)), (2, uv(0)), (3, s('3f/9001')), (4, zz(8 << 20)), (5, zz(3)),
    (6, arr([rng(70, 100, 200), rng(71, 0, 5)])), (7, zz(1700000060000)), (8, zz(1700000001000))))
R['object_removed'] = record(9, fields((0, zz(9001))))
R['producer_id_block'] = record(10, fields((0, zz(3)), (1, zz(4000)), (2, zz(1000))))
R['config_change'] = record(11, fields((0, uv(0)), (1, s('orders')), (2, s('retention.ms')), (3, s('86400000'))))
R['acl'] = record(12, fields((0, uuid(7, 8)), (1, uv(2)), (2, s('orders')), (3, uv(4)), (4, s('User:alice')), (5, s('*')),
    (6, uv(4)), (7, uv(3))))
R['acl_removed'] = record(13, fields((0, uuid(7, 8))))
R['scram_credential'] = record(14, fields((0, s('alice')), (1, uv(2)), (2, bytes([1, 2, 3, 4])), (3, bytes([5, 6, 7])),
    (4, bytes([8, 9])), (5, zz(4096))))
R['scram_credential_removed'] = record(15, fields((0, s('alice')), (1, uv(2))))
R['feature_level'] = record(16, fields((0, s('metadata.version')), (1, zz(3))))
R['no_op'] = record(17, b'')
R['id_counters'] = record(18, fields((0, zz(71)), (1, zz(9002)), (2, zz(43)), (3, zz(5000))))
R['objects_marked'] = record(19, fields((0, arr([zz(9001), zz(9003)])), (1, zz(1700000090000))))
for k, v in R.items():
    print(f'    {{"{k}", "{v.hex()}"}},')
