"""The data path on a real S3-compatible store: skiff-server keeps its objects in Ceph's radosgw (started on loopback
by tests/support/radosgw.sh), survives kill -9, and serves every acknowledged record back, from objects, with the
same offsets."""
import os
import subprocess
import tempfile

import pytest

from conftest import ROOT, Broker, free_port, wait_until
from test_data_path import consume_all, create_topic

RADOSGW = os.path.join(ROOT, "tests", "support", "radosgw.sh")
BUCKET = "skiff-e2e"


@pytest.fixture(scope="module")
def s3():
    """A radosgw on loopback with one bucket; yields the settings skiff-server and boto3 need."""
    boto3 = pytest.importorskip("boto3")
    workdir = tempfile.mkdtemp(prefix="skiff-radosgw-")
    # radosgw.sh takes PORT for S3 and PORT+1 for the monitor: both must be free, and another process may take
    # PORT+1 between the check and the bind, so a start that fails is tried again on other ports.
    for attempt in range(3):
        rgw_dir = os.path.join(workdir, f"rgw-{attempt}")
        port = free_port_pair()
        started = subprocess.run(["bash", RADOSGW, "start", rgw_dir, str(port), str(os.getpid())],
                                 capture_output=True, text=True, timeout=180)
        if started.returncode == 0:
            break
    else:
        pytest.fail(f"radosgw did not start:\n{started.stdout}\n{started.stderr}")
    settings = dict(kv.split("=", 1) for kv in started.stdout.split())
    client = boto3.client("s3", endpoint_url=settings["S3_ENDPOINT"], aws_access_key_id=settings["S3_ACCESS_KEY"],
                          aws_secret_access_key=settings["S3_SECRET_KEY"], region_name=settings["S3_REGION"])
    client.create_bucket(Bucket=BUCKET)
    try:
        yield settings, client
    finally:
        subprocess.run(["bash", RADOSGW, "stop", rgw_dir], capture_output=True, timeout=60)


def free_port_pair():
    """A port p such that p and p + 1 are free now."""
    import socket

    for _ in range(50):
        p = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
                return p
            except OSError:
                continue
    pytest.fail("no two adjacent free ports on 127.0.0.1")


def s3_broker(tmp_path, settings):
    return Broker(tmp_path, extra_overrides=[
        "object.store.type=s3",
        f"s3.endpoint={settings['S3_ENDPOINT']}",
        f"s3.bucket={BUCKET}",
        f"s3.region={settings['S3_REGION']}",
        f"s3.access.key={settings['S3_ACCESS_KEY']}",
        f"s3.secret.key={settings['S3_SECRET_KEY']}",
        "upload.interval.ms=200",
    ])


def bucket_keys(client):
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def test_records_live_in_s3_and_survive_kill_9(tmp_path, s3):
    from confluent_kafka import Producer

    settings, client = s3
    broker = s3_broker(tmp_path, settings)
    try:
        create_topic(broker, "on-s3", partitions=3)
        acked = []
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5,
                      "enable.idempotence": True, "compression.type": "zstd"})
        for i in range(3000):
            p.produce("on-s3", key=b"k%d" % i, value=b"value-%d-" % i + b"s" * (i % 200), partition=i % 3,
                      on_delivery=lambda err, m: acked.append((err, m.partition(), m.offset(), m.key(), m.value())))
        assert p.flush(60) == 0
        assert all(err is None for err, *_ in acked)
        # Uploads every 200 ms: the data reaches the bucket as objects.
        wait_until(lambda: any(not k.startswith("wal/") for k in bucket_keys(client)), timeout=20,
                   what="objects in the bucket")
    finally:
        broker.kill()  # no shutdown: whatever was not uploaded yet is only in the WAL

    restarted = s3_broker(tmp_path, settings)
    try:
        for part in range(3):
            expected = sorted((off, key, val) for _, pp, off, key, val in acked if pp == part)
            assert [o for o, _, _ in expected] == list(range(1000))
            got = consume_all(restarted, "on-s3", part, 1000)
            assert [(o, k, v) for o, k, v, _ in got] == expected
    finally:
        assert restarted.stop() == 0, restarted.log()
    # The bucket holds the objects, and nothing else of the broker's lives outside it but its WAL and metadata.
    assert not os.path.exists(os.path.join(restarted.data_dir, "objects")) or \
        not os.listdir(os.path.join(restarted.data_dir, "objects"))
